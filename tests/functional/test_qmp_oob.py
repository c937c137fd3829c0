#!/usr/bin/env python3
"""QMP out-of-band execution (the "oob" capability), end to end.

usage: test_qmp_oob.py KESTREL

kestrel runs the pc board under the qtest accelerator (no guest, no KVM).
The main thread is held up honestly: blockdev-change-medium of a CD-ROM to
a FIFO blocks in open() until the test opens the FIFO's write end (then it
fails: not a regular file), or, as in QEMU's qmp-test, blockdev-add of a
blkdebug node whose config file is a FIFO.  Meanwhile exec-oob commands
must be answered by the monitor's I/O thread, in-band requests and input
errors must wait their turn, at most eight of them are read ahead, and a
client may leave or kestrel quit at any point without harm.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import (QMP, OutputReader, assert_eq, fresh_path,  # noqa: E402
                        report, run_case)

KESTREL = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="kestrel-oob-")
BASE = [KESTREL, "-nodefaults", "-display", "none", "-machine", "pc",
        "-accel", "qtest", "-device", "ide-cd,id=cd0,bus=ide.1,unit=0"]
POSTCOPY = "migrate-pause is currently only supported during postcopy-active"
results = []
procs = []


def case(fn):
    return run_case(fn, results, procs)


def start(extra=(), path=None):
    """kestrel with QMP on a unix socket (or extra's own monitors)."""
    args = BASE + list(extra)
    if path:
        args += ["-qmp", f"unix:{path},server=on,wait=off"]
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(p)
    p.out = OutputReader(p.stdout)
    p.err = OutputReader(p.stderr)
    return p


def oob_client(path):
    q = QMP.unix(path, negotiate=False)
    assert_eq(q.command("qmp_capabilities", {"enable": ["oob"]}),
              {"return": {}}, "enable oob")
    return q


def check_error(reply, words, id=None, cls="GenericError"):
    assert "error" in reply, f"expected an error, got {reply}"
    assert_eq(reply["error"]["class"], cls, f"class of {reply}")
    for w in words:
        assert w in reply["error"]["desc"], f"{w!r} not in {reply}"
    assert_eq(reply.get("id"), id, "echoed id")


class Blocker:
    """An in-band command that blocks kestrel's main thread until unblock()."""

    def __init__(self, name):
        self.fifo = fresh_path(TMP, name)
        os.mkfifo(self.fifo)

    def request(self, id):
        return {"execute": "blockdev-change-medium", "id": id,
                "arguments": {"id": "cd0", "filename": self.fifo,
                              "format": "raw"}}

    def unblock(self, timeout=10):
        """Open the write end, once kestrel waits on the read end."""
        end = time.monotonic() + timeout
        while True:
            try:
                os.close(os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK))
                return
            except OSError:          # ENXIO: no reader yet
                assert time.monotonic() < end, "the command never blocked"
                time.sleep(0.01)

    @staticmethod
    def wait_blocked(p, timeout=10):
        """Until kestrel's main thread sleeps in open() (of the FIFO)."""
        end = time.monotonic() + timeout
        while True:
            with open(f"/proc/{p.pid}/syscall") as f:
                if f.read().split()[0] in ("2", "257"):    # open, openat
                    return
            assert time.monotonic() < end, "the command never blocked"
            time.sleep(0.01)

    def check_reply(self, reply, id):
        check_error(reply, ["not a regular file"], id)


def send_lines(q, requests):
    q.send(b"".join((r if isinstance(r, bytes) else
                     json.dumps(r).encode()) + b"\n" for r in requests))


def no_reply_within(q, seconds, what):
    try:
        msg = q.recv(timeout=seconds)
    except TimeoutError:
        return
    raise AssertionError(f"{what}: got {msg}")


def quit_cleanly(q, p):
    q.command("quit")
    assert_eq(p.wait(10), 0, "exit status")


# ---- capability negotiation ----

@case
def greeting_and_negotiation():
    path = fresh_path(TMP, "neg.sock")
    p = start(path=path)
    q = QMP.unix(path, negotiate=False)
    assert_eq(q.greeting["QMP"]["capabilities"], ["oob"], "capabilities")
    # exec-oob is not a member before OOB is on.
    check_error(q.command("migrate-pause"), ["qmp_capabilities"],
                cls="CommandNotFound")
    q.send({"exec-oob": "migrate-pause", "id": 1})
    check_error(q.reply(), ["'exec-oob' is unexpected"], 1)
    for enable, words in ((["cap-does-not-exist"], ["cap-does-not-exist"]),
                          (["oob", "nope"], ["nope"]), ("oob", ["array"]),
                          ([1], ["string"])):
        check_error(q.command("qmp_capabilities", {"enable": enable}), words)
    assert_eq(q.command("qmp_capabilities", {"enable": ["oob", "oob"]}),
              {"return": {}}, "enable oob")
    check_error(q.command("qmp_capabilities", {"enable": ["oob"]}),
                ["already complete"], cls="CommandNotFound")
    quit_cleanly(q, p)

    # QMP on a mux chardev (shared with other front ends): no OOB offered.
    p = subprocess.Popen(BASE + ["-chardev", "stdio,id=m,mux=on", "-mon",
                                 "chardev=m,mode=control"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    procs.append(p)
    p.err = OutputReader(p.stderr)
    greeting = json.loads(p.stdout.readline())
    assert_eq(greeting["QMP"]["capabilities"], [], "mux capabilities")
    p.stdin.write(b'{"execute":"qmp_capabilities","arguments":'
                  b'{"enable":["oob"]}}\n{"execute":"quit"}\n')
    p.stdin.flush()
    check_error(json.loads(p.stdout.readline()),
                ["Capability 'oob' not available"])
    check_error(json.loads(p.stdout.readline()), ["qmp_capabilities"],
                cls="CommandNotFound")
    p.kill()


@case
def exec_oob_errors_and_schema():
    path = fresh_path(TMP, "err.sock")
    p = start(path=path)
    plain = QMP.unix(path, negotiate=False)
    plain.execute("qmp_capabilities")
    plain.send({"exec-oob": "migrate-pause", "id": "x"})
    check_error(plain.reply(), ["'exec-oob' is unexpected"], "x")
    plain.close()

    q = oob_client(path)
    cases = [
        ({"exec-oob": "query-cpus-fast", "id": 1},
         ["query-cpus-fast does not support OOB"]),
        ({"exec-oob": "qmp_capabilities", "id": 2},
         ["qmp_capabilities does not support OOB"]),
        ({"exec-oob": "migrate-pause", "execute": "migrate-pause", "id": 3},
         ["'execute' clashes with 'exec-oob'"]),
        ({"exec-oob": 5, "id": 4}, ["'exec-oob' must be a string"]),
        ({"exec-oob": "migrate-pause", "arguments": [], "id": 5},
         ["'arguments' must be an object"]),
        ({"exec-oob": "migrate-pause", "arguments": {"x": 1}, "id": 6},
         ["Parameter 'x' is unexpected"]),
        ({"exec-oob": "migrate-pause", "extra": 1, "id": 7},
         ["'extra' is unexpected"]),
        ({"exec-oob": "migrate-recover", "id": 8}, ["'uri' is missing"]),
        ({"exec-oob": "migrate-recover", "arguments": {"uri": "tcp:x:1"},
          "id": 9}, ["Migrate recover can only be run when postcopy"]),
        ({"exec-oob": "migrate-pause", "id": 10}, [POSTCOPY]),
        ({"execute": "migrate-pause", "id": 11}, [POSTCOPY]),
    ]
    for req, words in cases:
        q.send(req)
        check_error(q.reply(), words, req["id"])
    q.send({"exec-oob": "no-such-command", "id": 12})
    check_error(q.reply(), ["no-such-command"], 12, "CommandNotFound")
    # In-band commands and events work as before.
    assert_eq(q.command("query-name", id="n"), {"return": {}, "id": "n"},
              "query-name")
    for cmd, event in (("stop", "STOP"), ("cont", "RESUME")):
        assert_eq(q.command(cmd), {"return": {}}, cmd)
        assert_eq(q.wait_event(event)["event"], event, "event")
    schema = q.execute("query-qmp-schema")
    oob = sorted(e["name"] for e in schema if e.get("allow-oob"))
    assert_eq(oob, ["migrate-pause", "migrate-recover"], "allow-oob commands")
    assert all(e["allow-oob"] is True for e in schema if "allow-oob" in e)
    quit_cleanly(q, p)


# ---- the I/O thread ----

@case
def oob_overtakes_blocked_command():
    path = fresh_path(TMP, "ib.sock")
    p = start(path=path)
    q = oob_client(path)
    b = Blocker("fifo1")
    send_lines(q, [b.request("ib-blocks-1"),
                   {"execute": "query-name", "id": "ib-quick-1"},
                   {"exec-oob": "migrate-pause", "id": "oob-1"}])
    check_error(q.recv(), [POSTCOPY], "oob-1")
    no_reply_within(q, 0.3, "the main thread should be blocked")
    # More OOB commands while it stays blocked, one at a time.
    for i in range(3):
        q.send({"exec-oob": "migrate-pause", "id": f"oob-again-{i}"})
        check_error(q.recv(), [POSTCOPY], f"oob-again-{i}")
    b.unblock()
    b.check_reply(q.recv(), "ib-blocks-1")
    assert_eq(q.recv(), {"return": {}, "id": "ib-quick-1"}, "in-band reply")

    # Bad in-band input is answered in-band: after the blocked command.
    send_lines(q, [b.request("blocks-2"), {"id": "err-2"}, b"[3]",
                   b'{"execute": }',
                   {"execute": "query-name", "id": "quick-2"},
                   {"exec-oob": "migrate-pause", "id": "oob-2"}])
    check_error(q.recv(), [POSTCOPY], "oob-2")
    b.unblock()
    b.check_reply(q.recv(), "blocks-2")
    check_error(q.recv(), ["lacks member 'execute'"], "err-2")
    check_error(q.recv(), ["must be a JSON object"])
    check_error(q.recv(), ["JSON parse error"])
    assert_eq(q.recv(), {"return": {}, "id": "quick-2"}, "in order")
    quit_cleanly(q, p)


@case
def blkdebug_config_fifo_as_qemus_test():
    """QEMU's qmp-test way to block: blockdev-add of a blkdebug node whose
    config file is a FIFO."""
    path = fresh_path(TMP, "blkdebug.sock")
    p = start(path=path)
    q = oob_client(path)
    b = Blocker("fifo-config")
    send_lines(q, [{"execute": "blockdev-add", "id": "ib-blocks-1",
                    "arguments": {"driver": "blkdebug", "node-name": "n1",
                                  "config": b.fifo,
                                  "image": {"driver": "null-co",
                                            "read-zeroes": True}}},
                   {"execute": "query-name", "id": "ib-quick-1"},
                   {"exec-oob": "migrate-pause", "id": "oob-1"}])
    check_error(q.recv(), [POSTCOPY], "oob-1")
    no_reply_within(q, 0.3, "blockdev-add should be blocked")
    b.unblock()
    assert_eq(q.recv(), {"return": {}, "id": "ib-blocks-1"}, "blockdev-add")
    assert_eq(q.recv(), {"return": {}, "id": "ib-quick-1"}, "query-name")
    quit_cleanly(q, p)


@case
def at_most_eight_in_band_requests_read_ahead():
    path = fresh_path(TMP, "bound.sock")
    p = start(path=path)
    q = oob_client(path)
    b = Blocker("fifo2")
    # The blocked one is taken off the queue; seven more leave room: OOB
    # still gets read.
    send_lines(q, [b.request("blocked")] +
               [{"execute": "query-name", "id": i} for i in range(7)] +
               [{"exec-oob": "migrate-pause", "id": "oob"}])
    check_error(q.recv(), [POSTCOPY], "oob")
    b.unblock()
    b.check_reply(q.recv(), "blocked")
    assert_eq([q.recv()["id"] for _ in range(7)], list(range(7)), "order")

    # Eight fill the queue: kestrel reads no further until it drains, so
    # the OOB request behind them waits too.
    send_lines(q, [b.request("blocked")] +
               [{"execute": "query-name", "id": i} for i in range(8)] +
               [{"exec-oob": "migrate-pause", "id": "oob"}])
    no_reply_within(q, 0.5, "input read beyond a full queue")
    b.unblock()
    replies = [q.recv() for _ in range(10)]
    b.check_reply(replies[0], "blocked")
    in_band = [r["id"] for r in replies[1:] if r.get("id") != "oob"]
    assert_eq(in_band, list(range(8)), "in-band order")
    assert any(r.get("id") == "oob" for r in replies), replies
    quit_cleanly(q, p)


@case
def flood_and_slow_reader():
    """Thousands of requests in one write, replies unread for a while (both
    directions stall): all answered, in order."""
    path = fresh_path(TMP, "flood.sock")
    p = start(path=path)
    q = oob_client(path)
    n = 3000
    reqs = b"".join(b'{"execute":"human-monitor-command","arguments":'
                    b'{"command-line":"info qtree"},"id":%d}\n' % i
                    for i in range(n))
    sender = threading.Thread(target=q.send, args=(reqs,))
    sender.start()
    time.sleep(0.5)
    ids = []
    while len(ids) < n:
        r = q.recv(timeout=30)
        ids.append(r.get("id"))
    sender.join()
    assert_eq(ids, list(range(n)), "reply ids")
    check_error(q.command("migrate-pause", id="after"), [POSTCOPY], "after")
    quit_cleanly(q, p)


@case
def client_leaves_while_blocked_and_queued():
    path = fresh_path(TMP, "leave.sock")
    p = start(path=path)
    b = Blocker("fifo3")
    # Requests still queued when the client leaves are dropped (as in
    # QEMU): the quit here never runs.
    q = oob_client(path)
    send_lines(q, [b.request("blocked")] +
               [{"execute": "query-name", "id": i} for i in range(3)] +
               [{"execute": "quit"}, {"exec-oob": "migrate-pause", "id": "o"}])
    check_error(q.recv(), [POSTCOPY], "o")
    b.wait_blocked(p)
    q.close()
    time.sleep(0.3)
    b.unblock()
    # The next client: a fresh session, negotiation needed, OOB off.
    q2 = QMP.unix(path, negotiate=False)
    assert_eq(q2.greeting["QMP"]["capabilities"], ["oob"], "greeting")
    check_error(q2.command("query-name"), ["qmp_capabilities"],
                cls="CommandNotFound")
    q2.execute("qmp_capabilities")
    q2.send({"exec-oob": "migrate-pause", "id": 1})
    check_error(q2.reply(), ["'exec-oob' is unexpected"], 1)
    assert_eq(p.poll(), None, "the dropped quit did not run")
    q2.close()
    # A client that leaves with its queue full and more unread, or with
    # replies unsent; then OOB sessions again, one after the other.
    q = oob_client(path)
    send_lines(q, [b.request("blocked")] +
               [{"execute": "query-name", "id": i} for i in range(50)])
    b.wait_blocked(p)
    q.close()
    b.unblock()
    for i in range(3):
        q3 = oob_client(path)
        send_lines(q3, [b.request(f"b{i}"),
                        {"exec-oob": "migrate-pause", "id": i}])
        check_error(q3.recv(), [POSTCOPY], i)
        if i == 2:
            b.wait_blocked(p)
            break            # leaves while blocked, no reply read
        b.unblock()
        b.check_reply(q3.recv(), f"b{i}")
        q3.close()
    q3.close()
    time.sleep(0.2)
    b.unblock()
    quit_cleanly(oob_client(path), p)


@case
def quit_and_signals_with_oob():
    path = fresh_path(TMP, "quit.sock")
    p = start(path=path)
    q = oob_client(path)
    q.send({"execute": "quit", "id": "q"})
    assert_eq(q.recv(), {"return": {}, "id": "q"}, "quit reply")
    assert_eq(q.recv()["event"], "SHUTDOWN", "event")
    assert_eq(p.wait(10), 0, "exit status")

    p = start(path=path)
    q = oob_client(path)
    check_error(q.command("migrate-pause"), [POSTCOPY])
    p.send_signal(signal.SIGTERM)
    assert_eq(q.recv()["event"], "SHUTDOWN", "event")
    assert_eq(p.wait(10), 0, "exit status after SIGTERM")

    # Killed while the main thread is blocked and OOB is answered.
    p = start(path=path)
    q = oob_client(path)
    b = Blocker("fifo4")
    send_lines(q, [b.request("blocked"), {"execute": "quit", "id": "q"},
                   {"exec-oob": "migrate-pause", "id": "o"}])
    check_error(q.recv(), [POSTCOPY], "o")
    b.unblock()
    b.check_reply(q.recv(), "blocked")
    assert_eq(q.recv(), {"return": {}, "id": "q"}, "quit reply")
    assert_eq(p.wait(10), 0, "exit status")


@case
def oob_on_stdio_and_libqtest_style_socket():
    p = subprocess.Popen(BASE + ["-qmp", "stdio"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(p)
    p.err = OutputReader(p.stderr)
    greeting = json.loads(p.stdout.readline())
    assert_eq(greeting["QMP"]["capabilities"], ["oob"], "stdio greeting")
    p.stdin.write(b'{"execute":"qmp_capabilities","arguments":'
                  b'{"enable":["oob"]}}\n{"exec-oob":"migrate-pause"}\n'
                  b'{"execute":"quit"}\n')
    p.stdin.flush()
    lines = [json.loads(p.stdout.readline()) for _ in range(4)]
    assert_eq(lines[0], {"return": {}}, "negotiated")
    check_error(lines[1], [POSTCOPY])
    assert_eq(lines[2], {"return": {}}, "quit")
    assert_eq(p.wait(10), 0, "exit status")

    # kestrel connecting out, as QEMU's libqtest has it.
    path = fresh_path(TMP, "out.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    p = start(["-chardev", f"socket,id=c,path={path}",
               "-mon", "chardev=c,mode=control"])
    conn, _ = srv.accept()
    q = QMP(conn, negotiate=False)
    assert_eq(q.greeting["QMP"]["capabilities"], ["oob"], "greeting")
    q.execute("qmp_capabilities", enable=["oob"])
    check_error(q.command("migrate-pause"), [POSTCOPY])
    quit_cleanly(q, p)
    srv.close()


def main():
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
