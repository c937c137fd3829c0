#!/usr/bin/env python3
"""Character device backends and process lifecycle, end to end.

usage: test_chardev.py KESTREL TESTGUEST_ELF

Each case boots the project's test guest and reads its serial output through
a different backend: unix and tcp sockets (server, waiting for us; client,
connecting to us), a pty, a file, and the -nographic mux on stdio with its
C-a commands.  Also -pidfile, SIGINT and SIGTERM.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import report  # noqa: E402

KESTREL, GUEST = sys.argv[1], sys.argv[2]
BASE = [KESTREL, "-nodefaults", "-display", "none",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel", GUEST]
TMP = tempfile.mkdtemp(prefix="kestrel-chardev-")
results = []


def case(fn):
    try:
        fn()
        results.append((fn.__name__, None))
    except Exception as e:   # report and go on with the next case
        results.append((fn.__name__, f"{type(e).__name__}: {e}"))
    return fn


def read_until(sock, pattern, timeout=20):
    sock.settimeout(timeout)
    data = b""
    end = time.monotonic() + timeout
    while not re.search(pattern, data) and time.monotonic() < end:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    assert re.search(pattern, data), f"no {pattern!r} in {data[-300:]!r}"
    return data


def wait_exit(p, status, timeout=20):
    rc = p.wait(timeout=timeout)
    assert rc == status, f"exit status {rc}, expected {status}"


def wait_for_path(path, timeout=10):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.01)


@case
def unix_server_waits_for_client():
    path = os.path.join(TMP, "serial.sock")
    p = subprocess.Popen(BASE + ["-serial", f"unix:{path},server",
                                 "-append", "hello"], stderr=subprocess.PIPE)
    wait_for_path(path)
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    read_until(s, rb"PASS hello")
    wait_exit(p, 1)


@case
def tcp_server_waits_for_client():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    p = subprocess.Popen(BASE + ["-chardev",
                                 f"socket,id=s,host=127.0.0.1,port={port},server=on,wait=on",
                                 "-serial", "chardev:s", "-append", "hello"],
                         stderr=subprocess.PIPE)
    end = time.monotonic() + 10
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port))
            break
        except ConnectionRefusedError:
            assert time.monotonic() < end, "never listened"
            time.sleep(0.02)
    read_until(s, rb"hello from kestrel test guest")
    wait_exit(p, 1)


@case
def socket_server_nowait_runs_without_client():
    path = os.path.join(TMP, "nowait.sock")
    p = subprocess.run(BASE + ["-serial", f"unix:{path},server,nowait",
                               "-append", "hello"], capture_output=True,
                       timeout=20)
    assert p.returncode == 1, f"exit status {p.returncode}"


@case
def socket_client_connects_to_us():
    path = os.path.join(TMP, "listen.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    p = subprocess.Popen(BASE + ["-serial", f"unix:{path}", "-append", "hello"],
                         stderr=subprocess.PIPE)
    srv.settimeout(10)
    conn, _ = srv.accept()
    read_until(conn, rb"PASS hello")
    wait_exit(p, 1)


@case
def pty_backend():
    # A guest that keeps printing, so the output is there whenever we open
    # the pty; SIGTERM ends it.
    p = subprocess.Popen(BASE + ["-serial", "pty", "-append", "count"],
                         stderr=subprocess.PIPE)
    line = p.stderr.readline().decode()
    m = re.search(r"char device redirected to (/dev/pts/\d+) \(label serial0\)",
                  line)
    assert m, f"no pty line: {line!r}"
    fd = os.open(m.group(1), os.O_RDONLY | os.O_NOCTTY)
    data = b""
    end = time.monotonic() + 10
    while not re.search(rb"count 5\b", data) and time.monotonic() < end:
        data += os.read(fd, 4096)
    os.close(fd)
    assert re.search(rb"count 5\b", data), f"pty gave {data[-300:]!r}"
    p.send_signal(signal.SIGTERM)
    wait_exit(p, 0)


@case
def file_backend_and_pidfile():
    out = os.path.join(TMP, "serial.txt")
    pidfile = os.path.join(TMP, "k.pid")
    p = subprocess.Popen(BASE + ["-serial", f"file:{out}", "-pidfile", pidfile,
                                 "-append", "reset cf9"])
    wait_for_path(pidfile)
    with open(pidfile) as f:
        assert int(f.read()) == p.pid
    wait_exit(p, 1)
    assert not os.path.exists(pidfile), "pidfile left behind"
    text = open(out).read()
    assert "reset: boot 0" in text and "reset: boot 1" in text, text


def nographic_seabios():
    # SeaBIOS with nothing to boot waits a minute: a VM that stays up.
    return subprocess.Popen([KESTREL, "-nographic", "-m", "64"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


@case
def nographic_mux_help_and_exit():
    p = nographic_seabios()
    time.sleep(1)
    p.stdin.write(b"\x01h")
    p.stdin.flush()
    time.sleep(0.5)
    p.stdin.write(b"\x01x")
    p.stdin.flush()
    out, _ = p.communicate(timeout=20)
    assert p.returncode == 0, f"exit status {p.returncode}"
    assert b"C-a x    exit emulator" in out, out[-400:]
    assert b"QEMU: Terminated" in out, out[-400:]


@case
def sigterm_and_sigint_exit_cleanly():
    for sig in (signal.SIGTERM, signal.SIGINT):
        p = nographic_seabios()
        time.sleep(1)
        p.send_signal(sig)
        out, err = p.communicate(timeout=10)
        assert p.returncode == 0, f"{sig!r}: exit status {p.returncode}"
        assert f"terminating on signal {int(sig)}".encode() in err, err


def main():
    if not os.access("/dev/kvm", os.W_OK):
        print("SKIP: no /dev/kvm")
        return 77
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
