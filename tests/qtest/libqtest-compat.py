#!/usr/bin/env python3
"""
Start kestrel the way QEMU's libqtest does and run what libqtest itself
does around a test: listen on a qtest and a QMP socket, let the emulator
connect to both as a client, QMP greeting and qmp_capabilities, the
"endianness" query, a few commands on each channel, system_reset with its
RESET event, and SIGTERM ending the process with status 0.

usage: libqtest-compat.py KESTREL
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile

TIMEOUT = 30


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


class Lines:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                fail("connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()


def qmp_read(qmp, events):
    """Next QMP reply; events met on the way are collected."""
    while True:
        msg = json.loads(qmp.line())
        if "event" in msg:
            events.append(msg["event"])
            continue
        return msg


def main():
    binary = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="libqtest-compat-")
    qtest_path = os.path.join(tmp, "qtest.sock")
    qmp_path = os.path.join(tmp, "qtest.qmp")
    listeners = []
    for path in (qtest_path, qmp_path):
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        s.listen(1)
        s.settimeout(TIMEOUT)
        listeners.append(s)

    # libqtest's command line (QEMU 9's: -audio and -run-with came in 8
    # and 9), extra arguments ahead of -accel qtest.
    args = [binary, "-qtest", "unix:" + qtest_path, "-qtest-log", "/dev/null",
            "-chardev", "socket,path=%s,id=char0" % qmp_path,
            "-mon", "chardev=char0,mode=control", "-display", "none",
            "-audio", "none", "-run-with", "exit-with-parent=on",
            "-rtc", "clock=vm", "-accel", "qtest"]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL)
    try:
        qt_sock = listeners[0].accept()[0]
        qmp_sock = listeners[1].accept()[0]
    except socket.timeout:
        proc.kill()
        fail("the emulator did not connect to both sockets")
    qt_sock.settimeout(TIMEOUT)
    qmp_sock.settimeout(TIMEOUT)
    qt, qmp = Lines(qt_sock), Lines(qmp_sock)
    events = []

    def qtest(cmd):
        qt_sock.sendall((cmd + "\n").encode())
        while True:
            line = qt.line()
            if not line.startswith("IRQ "):
                return line

    def qmp_cmd(cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        qmp_sock.sendall(json.dumps(msg).encode())
        return qmp_read(qmp, events)

    greeting = json.loads(qmp.line())
    if "QMP" not in greeting:
        fail("no QMP greeting: %r" % greeting)
    if qmp_cmd("qmp_capabilities") != {"return": {}}:
        fail("qmp_capabilities refused")
    checks = [
        ("endianness", "OK little"),
        ("clock_step 1000", "OK 1000"),
        ("outb 0x70 0x0a", "OK"),
        ("inb 0x71", "OK 0x0026"),
        ("irq_intercept_in ioapic", "OK"),
    ]
    for cmd, want in checks:
        got = qtest(cmd)
        if got != want:
            fail("%s: got %r, want %r" % (cmd, got, want))
    # A QMP command between qtest commands, as tests do.
    status = qmp_cmd("query-status")
    if status.get("return", {}).get("status") != "running":
        fail("query-status: %r" % status)
    # system_reset: RESET event; devices back to power-on state.
    if qtest("outb 0x21 0x5a") != "OK":
        fail("outb")
    if "return" not in qmp_cmd("system_reset"):
        fail("system_reset refused")
    while "RESET" not in events:
        msg = json.loads(qmp.line())
        if "event" in msg:
            events.append(msg["event"])
    if qtest("inb 0x21") != "OK 0x0000":
        fail("PIC mask survived system_reset")
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("no exit after SIGTERM")
    if rc != 0:
        fail("exit status %d after SIGTERM" % rc)
    for s in listeners:
        s.close()
    for path in (qtest_path, qmp_path):
        os.unlink(path)
    os.rmdir(tmp)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
