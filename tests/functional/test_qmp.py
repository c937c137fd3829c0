#!/usr/bin/env python3
"""QMP end to end, with a client made of the standard library only.

usage: test_qmp.py KESTREL TESTGUEST_ELF

Boots the test guest's "count" program (it prints "count N" every 5 ms)
and drives every QMP command kestrel has, checking the shape of each reply,
the error classes, the events and their timestamps; then feeds one client
bad input of every kind while a second client and the guest must carry on
unharmed.  Also the other ways to reach QMP: tcp, stdio, -mon on a chardev,
kestrel connecting out to a listening client (libqtest's way), -S.
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import (QMP, QMPError, OutputReader, assert_eq,  # noqa: E402
                        connect_tcp, connect_unix, counts, free_tcp_port,
                        fresh_path, report, run_case)

KESTREL, GUEST = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="kestrel-qmp-")
BASE = [KESTREL, "-nodefaults", "-display", "none", "-kernel", GUEST,
        "-append", "count"]
RUN_STATES = {"running", "paused", "prelaunch", "shutdown", "internal-error",
              "inmigrate", "postmigrate", "guest-panicked", "debug"}
ISSUE_COMMANDS = {"qmp_capabilities", "query-status", "stop", "cont",
                  "system_reset", "system_powerdown", "quit", "query-version",
                  "query-commands", "query-name", "query-kvm",
                  "query-cpus-fast", "query-chardev", "query-pci", "qom-list",
                  "qom-get", "human-monitor-command"}
results = []
procs = []


def case(fn):
    return run_case(fn, results, procs)


def start(extra, serial=True, **kw):
    """kestrel with the count guest; serial on a pipe (p.serial reads it)."""
    args = BASE + (["-serial", "stdio"] if serial else []) + extra
    p = subprocess.Popen(args, stdin=kw.pop("stdin", subprocess.DEVNULL),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    procs.append(p)
    p.serial = OutputReader(p.stdout) if serial else None
    p.err = OutputReader(p.stderr)
    return p


def sock_path(name):
    return fresh_path(TMP, name)


def check_error(reply, cls, words=(), id=None):
    assert "error" in reply, f"expected an error, got {reply}"
    err = reply["error"]
    assert set(err) == {"class", "desc"}, f"error members {sorted(err)}"
    assert_eq(err["class"], cls, f"class of {err}")
    assert isinstance(err["desc"], str) and err["desc"], err
    for w in words:
        assert w in err["desc"], f"{w!r} not in {err['desc']!r}"
    if id is not None:
        assert_eq(reply.get("id"), id, "echoed id")


def check_event(ev, name, data=None):
    assert_eq(ev["event"], name, "event")
    ts = ev["timestamp"]
    assert set(ts) == {"seconds", "microseconds"}, ts
    assert isinstance(ts["seconds"], int) and isinstance(ts["microseconds"], int)
    assert 0 <= ts["microseconds"] < 1000000, ts
    assert abs(ts["seconds"] + ts["microseconds"] / 1e6 - time.time()) < 60, ts
    if data is None:
        assert "data" not in ev, ev
    else:
        assert_eq(ev.get("data"), data, f"{name} data")


def guest_counting(p, more=20, timeout=20):
    """Wait until the guest printed `more` further count lines."""
    end = time.monotonic() + timeout
    first = len(counts(p.serial.text()))
    while len(counts(p.serial.text())) < first + more:
        assert time.monotonic() < end, f"guest stalled: {p.serial.text()[-200:]!r}"
        time.sleep(0.01)


# ---- the protocol ----

@case
def greeting_and_negotiation():
    path = sock_path("q1.sock")
    start(["-qmp", f"unix:{path},server,nowait"])
    q = QMP.unix(path, negotiate=False)
    g = q.greeting
    assert set(g) == {"QMP"}, g
    assert set(g["QMP"]) == {"version", "capabilities"}, g
    assert isinstance(g["QMP"]["capabilities"], list), g
    v = g["QMP"]["version"]
    assert all(isinstance(v["qemu"][k], int) for k in ("major", "minor", "micro"))
    assert isinstance(v["package"], str)
    # Nothing but qmp_capabilities before negotiation, QEMU's class and text.
    for name in ("query-status", "quit", "no-such-command"):
        check_error(q.command(name, id=name), "CommandNotFound",
                    ["qmp_capabilities"], id=name)
    check_error(q.command("qmp_capabilities", {"enable": ["no-such-cap"]}),
                "GenericError", ["no-such-cap"])
    check_error(q.command("qmp_capabilities", {"bogus": 1}), "GenericError",
                ["bogus"])
    r = q.command("qmp_capabilities", id="neg")
    assert_eq(r, {"return": {}, "id": "neg"}, "qmp_capabilities reply")
    check_error(q.command("qmp_capabilities"), "CommandNotFound",
                ["already complete"])
    # id is echoed whatever its JSON type.
    for ident in (1, "abc", {"a": [1, 2]}, [None], 2.5, True):
        r = q.command("query-status", id=ident)
        assert_eq(r.get("id"), ident, "echoed id")
    q.execute("quit")


@case
def every_command_and_reply_shape():
    path = sock_path("q2.sock")
    p = start(["-qmp", f"unix:{path},server,nowait", "-smp", "2",
               "-name", "qmp-test-vm"])
    q = QMP.unix(path)
    guest_counting(p)

    names = {c["name"] for c in q.execute("query-commands")}
    assert ISSUE_COMMANDS <= names, f"missing {ISSUE_COMMANDS - names}"

    st = q.execute("query-status")
    assert set(st) >= {"running", "status"}, st
    assert st["status"] in RUN_STATES and st["running"] is True, st

    v = q.execute("query-version")
    assert all(isinstance(v["qemu"][k], int) for k in ("major", "minor", "micro"))
    assert_eq(q.execute("query-name"), {"name": "qmp-test-vm"}, "query-name")
    assert_eq(q.execute("query-kvm"), {"enabled": True, "present": True},
              "query-kvm")

    cpus = q.execute("query-cpus-fast")
    assert_eq([c["cpu-index"] for c in cpus], [0, 1], "cpu indexes")
    tasks = set(os.listdir(f"/proc/{p.pid}/task"))
    for c in cpus:
        assert str(c["thread-id"]) in tasks, f"thread {c['thread-id']} not in {tasks}"
        assert c["thread-id"] != p.pid, c
        assert c["qom-path"].startswith("/machine/"), c
        assert c["target"] == "x86_64", c
    assert cpus[0]["thread-id"] != cpus[1]["thread-id"], cpus

    chardevs = {c["label"]: c for c in q.execute("query-chardev")}
    assert "serial0" in chardevs and "compat_monitor0" in chardevs, chardevs
    for c in chardevs.values():
        assert set(c) == {"label", "filename", "frontend-open"}, c
    assert path in chardevs["compat_monitor0"]["filename"], chardevs
    assert chardevs["serial0"]["frontend-open"] is True

    pci = q.execute("query-pci")
    assert_eq([b["bus"] for b in pci], [0], "PCI buses")
    ids = {(d["slot"], d["function"]): (d["id"]["vendor"], d["id"]["device"])
           for d in pci[0]["devices"]}
    assert_eq(ids.get((0, 0)), (0x8086, 0x1237), "host bridge")
    assert_eq(ids.get((1, 0)), (0x8086, 0x7000), "ISA bridge")
    for d in pci[0]["devices"]:
        assert {"bus", "slot", "function", "class_info", "id", "regions",
                "qdev_id"} <= set(d), d
        assert isinstance(d["class_info"]["class"], int), d

    root = {e["name"]: e["type"] for e in q.execute("qom-list", path="/")}
    assert root.get("machine", "").startswith("child<"), root
    assert root.get("chardevs") == "child<container>", root
    unattached = q.execute("qom-list", path="/machine/unattached")
    serial = None
    for e in unattached:
        if e["type"] == "child<isa-serial>":
            serial = "/machine/unattached/" + e["name"]
    assert serial, unattached
    assert_eq(q.execute("qom-get", path=serial, property="iobase"), 0x3f8,
              "serial iobase")
    assert_eq(q.execute("qom-get", path=serial, property="type"), "isa-serial",
              "serial type")
    assert_eq(q.execute("qom-get", path="/machine/unattached/device[0]",
                        property="realized"), True, "cpu realized")
    assert_eq(q.execute("qom-get", path="/chardevs/serial0", property="type"),
              "chardev-stdio", "chardev type")
    assert_eq(q.execute("qom-get", path="/machine", property="append"),
              "count", "machine append")
    check_error(q.command("qom-get", {"path": "/no/such", "property": "type"}),
                "DeviceNotFound", ["/no/such"])
    check_error(q.command("qom-get", {"path": serial, "property": "nope"}),
                "GenericError", ["nope"])
    check_error(q.command("qom-list", {"path": "/machine/zzz"}),
                "DeviceNotFound")

    out = q.execute("human-monitor-command", **{"command-line": "info status"})
    assert_eq(out, "VM status: running\r\n", "human-monitor-command")
    out = q.execute("human-monitor-command",
                    **{"command-line": "info cpus", "cpu-index": 1})
    assert "* CPU #1" in out, out
    assert "unknown command" in q.execute(
        "human-monitor-command", **{"command-line": "frobnicate"})

    # Wrong arguments: GenericError naming the argument.
    check_error(q.command("human-monitor-command"), "GenericError",
                ["command-line"])
    check_error(q.command("human-monitor-command", {"command-line": 5}),
                "GenericError", ["command-line", "string"])
    check_error(q.command("query-status", {"verbose": True}), "GenericError",
                ["verbose"])
    check_error(q.command("qom-get", {"path": "/machine"}), "GenericError",
                ["property"])
    check_error(q.command("no-such-command", id=9), "CommandNotFound",
                ["no-such-command"], id=9)
    q.execute("quit")


@case
def machine_none_and_type_queries():
    """What libqtest's qtest_has_machine/qtest_has_device ask, with the
    empty machine QEMU's tests start for it.  The first available -accel
    wins (tcg never is; kvm after qtest is not tried)."""
    path = sock_path("q-none.sock")
    p = subprocess.Popen([KESTREL, "-machine", "none", "-accel", "tcg",
                          "-accel", "qtest", "-accel", "kvm",
                          "-display", "none", "-qmp",
                          f"unix:{path},server,nowait"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    procs.append(p)
    p.serial, p.err = None, OutputReader(p.stderr)
    q = QMP.unix(path)
    machines = {m["name"]: m for m in q.execute("query-machines")}
    assert "none" in machines, machines
    pc = [m for m in machines.values() if m.get("alias") == "pc"]
    assert len(pc) == 1 and pc[0].get("is-default") is True, machines
    for m in machines.values():
        assert isinstance(m["cpu-max"], int), m
    assert_eq(q.execute("qom-get", path="/machine", property="type"),
              "none-machine", "machine type")
    assert_eq(q.execute("query-pci"), [], "no PCI bus")
    types = {t["name"] for t in q.execute("qom-list-types",
                                          implements="device",
                                          abstract=False)}
    assert {"pc-testdev", "ide-hd", "isa-serial"} <= types, types
    assert_eq([t["name"] for t in q.execute("qom-list-types",
                                            implements="ide-cd")],
              ["ide-cd"], "one type by name")
    assert_eq(q.execute("qom-list-types", implements="no-such-type"), [],
              "unknown type")
    q.execute("quit")
    assert_eq(p.wait(timeout=10), 0, "exit status")


@case
def lifecycle_commands_and_events():
    path, path2 = sock_path("q3.sock"), sock_path("q3b.sock")
    p = start(["-qmp", f"unix:{path},server,nowait",
               "-qmp", f"unix:{path2},server,nowait"])
    q, q2 = QMP.unix(path), QMP.unix(path2)
    guest_counting(p)

    q.execute("stop")
    check_event(q.wait_event("STOP"), "STOP")
    check_event(q2.wait_event("STOP"), "STOP")      # every client hears it
    assert_eq(q.execute("query-status")["status"], "paused", "after stop")
    q.execute("stop")                                # no second STOP
    q.execute("cont")
    check_event(q.wait_event("RESUME"), "RESUME")
    check_event(q2.wait_event("RESUME"), "RESUME")
    assert_eq(q.drain(), [], "extra events")
    q.execute("cont")                                # running: no-op
    assert_eq(q.execute("query-status")["status"], "running", "after cont")

    q.execute("system_reset")
    ev = q.wait_event("RESET")
    check_event(ev, "RESET", {"guest": False, "reason": "host-qmp-system-reset"})
    p.serial.wait_for(r"count: start[^\n]*\n(.|\n)*count: start")
    guest_counting(p)

    q.execute("system_powerdown")    # this guest ignores the button
    check_event(q.wait_event("POWERDOWN"), "POWERDOWN")
    check_event(q2.wait_event("POWERDOWN"), "POWERDOWN")
    guest_counting(p)

    # stop + system_reset: the VM waits in prelaunch; cont starts it.
    q.execute("stop")
    q.execute("system_reset")
    q.wait_event("RESET")
    assert_eq(q.execute("query-status")["status"], "prelaunch", "reset while paused")
    q.execute("cont")
    guest_counting(p)

    r = q.command("quit", id="bye")
    assert_eq(r, {"return": {}, "id": "bye"}, "quit reply")
    ev = q.wait_event("SHUTDOWN")
    check_event(ev, "SHUTDOWN", {"guest": False, "reason": "host-qmp-quit"})
    check_event(q2.wait_event("SHUTDOWN"), "SHUTDOWN",
                {"guest": False, "reason": "host-qmp-quit"})
    try:
        msg = q.recv(5)
        raise AssertionError(f"message after quit: {msg}")
    except EOFError:
        pass
    assert_eq(p.wait(10), 0, "exit status after quit")


@case
def events_only_after_negotiation():
    path, path2 = sock_path("q4.sock"), sock_path("q4b.sock")
    start(["-qmp", f"unix:{path},server,nowait",
           "-qmp", f"unix:{path2},server,nowait"])
    q = QMP.unix(path)
    quiet = QMP.unix(path2, negotiate=False)
    q.execute("stop")
    q.execute("cont")
    q.wait_event("RESUME")
    try:
        msg = quiet.recv(0.5)
        raise AssertionError(f"event before negotiation: {msg}")
    except TimeoutError:
        pass
    q.execute("quit")


@case
def start_paused_with_S():
    path = sock_path("q5.sock")
    p = start(["-S", "-qmp", f"unix:{path},server,nowait"])
    q = QMP.unix(path)
    st = q.execute("query-status")
    assert_eq((st["status"], st["running"]), ("prelaunch", False), "with -S")
    time.sleep(0.5)
    assert_eq(p.serial.text(), "", "guest output before cont")
    q.execute("cont")
    check_event(q.wait_event("RESUME"), "RESUME")
    guest_counting(p)
    assert counts(p.serial.text())[0][0] == 0
    q.execute("quit")
    assert_eq(p.wait(10), 0, "exit status")


@case
def internal_error_stops_until_reset():
    path = sock_path("q10.sock")
    p = subprocess.Popen(BASE[:-1] + ["internal-error", "-serial", "null",
                                      "-qmp", f"unix:{path},server,nowait"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    procs.append(p)
    p.err = OutputReader(p.stderr)
    q = QMP.unix(path)
    end = time.monotonic() + 20
    while q.execute("query-status")["status"] != "internal-error":
        assert time.monotonic() < end, "no internal error"
        time.sleep(0.05)
    assert_eq(q.execute("query-status")["running"], False, "running")
    check_error(q.command("cont"), "GenericError", ["Resetting"])
    q.execute("system_reset")
    q.wait_event("RESET")
    assert_eq(q.execute("query-status")["status"], "prelaunch", "after reset")
    q.execute("quit")
    assert_eq(p.wait(10), 0, "exit status")


@case
def sigterm_and_sigint_send_shutdown():
    for sig in (signal.SIGTERM, signal.SIGINT):
        path = sock_path("q6.sock")
        p = start(["-qmp", f"unix:{path},server,nowait"])
        q = QMP.unix(path)
        p.send_signal(sig)
        check_event(q.wait_event("SHUTDOWN"), "SHUTDOWN",
                    {"guest": False, "reason": "host-signal"})
        assert_eq(p.wait(10), 0, f"exit status after {sig!r}")


# ---- ways to reach QMP ----

@case
def several_clients_and_transports():
    port = free_tcp_port()
    unix_path, mon_path = sock_path("q7.sock"), sock_path("q7m.sock")
    p = start(["-qmp", f"tcp:127.0.0.1:{port},server,nowait",
               "-qmp-pretty", f"unix:{unix_path},server,nowait",
               "-chardev", f"socket,id=mon0,path={mon_path},server=on,wait=off",
               "-mon", "chardev=mon0,mode=control"])
    clients = [QMP(connect_tcp(port)), QMP.unix(unix_path), QMP.unix(mon_path)]
    clients[0].execute("stop")
    for c in clients:
        check_event(c.wait_event("STOP"), "STOP")
        assert_eq(c.execute("query-status")["status"], "paused", "status")
    # Pretty output spans lines and still parses as a stream.
    clients[1].send({"execute": "query-version"})
    raw = b""
    while b"}\r\n}" not in raw and b"}\n}" not in raw:
        raw += clients[1].sock.recv(4096)
    assert b"\n    " in raw, raw
    clients[2].execute("cont")
    for c in clients:
        c.wait_event("RESUME")
    # A client that leaves and a new one that comes: fresh greeting.
    clients[0].close()
    c = QMP(connect_tcp(port))
    assert_eq(c.execute("query-status")["status"], "running", "reconnect")
    c.execute("quit")
    assert_eq(p.wait(10), 0, "exit status")


@case
def qmp_on_stdio():
    p = start(["-qmp", "stdio"], serial=False, stdin=subprocess.PIPE)
    out = OutputReader(p.stdout)
    out.wait_for(r'"QMP"')
    p.stdin.write(b'{"execute":"qmp_capabilities"}\n'
                  b'{"execute":"query-status","id":1}\n')
    p.stdin.flush()
    out.wait_for(r'"id":\s*1')
    p.stdin.write(b'{"execute":"quit"}\n')
    p.stdin.flush()
    assert_eq(p.wait(10), 0, "exit status")
    assert '"status":"running"' in out.text().replace(" ", ""), out.text()


@case
def kestrel_connects_to_client_like_libqtest():
    path = sock_path("qtest-qmp.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(20)
    p = start(["-chardev", f"socket,path={path},id=char0",
               "-mon", "chardev=char0,mode=control"])
    conn, _ = srv.accept()
    q = QMP(conn)
    q.execute("system_reset")
    check_event(q.wait_event("RESET"), "RESET",
                {"guest": False, "reason": "host-qmp-system-reset"})
    q.execute("quit")
    assert_eq(p.wait(10), 0, "exit status")
    srv.close()


@case
def bad_monitor_options():
    """Each is refused with one line on stderr and status 1."""
    sock = sock_path("dup.sock")
    dup = ["-chardev", f"socket,id=s,path={sock},server=on,wait=off",
           "-mon", "chardev=s,mode=control", "-mon", "chardev=s"]
    for args, words in (
            (["-mon", "mode=control"], "chardev"),
            (["-mon", "chardev=nope"], "nope"),
            (["-chardev", "null,id=x", "-mon", "chardev=x,mode=bogus"], "bogus"),
            (["-chardev", "null,id=x", "-mon", "chardev=x,pretty=on"], "pretty"),
            (["-chardev", "null,id=x", "-mon", "chardev=x,colour=red"], "colour"),
            (["-qmp", "bogus:x"], "bogus"),
            (["-qmp", ""], "qmp"),
            (["-monitor", "tcp:nohostport,server,nowait"], "tcp"),
            (dup, "in use")):
        p = subprocess.run(BASE + args, capture_output=True, timeout=20,
                           stdin=subprocess.DEVNULL)
        err = p.stderr.decode(errors="replace").strip()
        assert p.returncode == 1, f"{args}: status {p.returncode}, {err!r}"
        assert len(err.splitlines()) == 1 and words in err, f"{args}: {err!r}"


# ---- bad input ----

def expect_errors_then(q, marker, max_errors=10000):
    """Read replies up to the one with id == marker; all others must be
    GenericError replies.  Returns how many errors came first."""
    n = 0
    while True:
        r = q.reply(20)
        if r.get("id") == marker:
            assert "return" in r, r
            return n
        check_error(r, "GenericError")
        n += 1
        assert n <= max_errors, "too many error replies"


@case
def bad_input_is_answered_and_harmless():
    path, path2 = sock_path("q8.sock"), sock_path("q8b.sock")
    p = start(["-qmp", f"unix:{path},server,nowait",
               "-qmp", f"unix:{path2},server,nowait"])
    bad, good = QMP.unix(path), QMP.unix(path2)
    guest_counting(p)
    ok = b'{"execute":"query-status","id":"%s"}\n'

    def probe(tag):
        bad.send(ok % tag.encode())

    # Truncated JSON, then a whole command: an error, then the answer.
    bad.send(b'{"execute": "query-status"\n')
    probe("t1")
    assert expect_errors_then(bad, "t1") == 1
    bad.send(b'{"execute": "query-st\n')
    probe("t2")
    assert expect_errors_then(bad, "t2") == 1
    # Objects split over lines and several on one line are fine.
    bad.send(b'{\n "execute":\n  "query-status", "id": "s1"\n}'
             b'{"execute":"query-status","id":"s2"}  {"execute":"query-name",'
             b'"id":"s3"}\n')
    assert_eq([bad.reply()["id"] for _ in range(3)], ["s1", "s2", "s3"], "ids")
    # Not an object.
    for text in (b"[]", b"42", b'"str"', b"null", b"true", b'[{"execute":"stop"}]'):
        bad.send(text + b"\n")
        check_error(bad.reply(), "GenericError", ["JSON object"])
    # Unknown and wrong members.
    for req, words in (({"execute": "query-status", "foo": 1}, ["foo"]),
                       ({"arguments": {}}, ["execute"]),
                       ({"execute": 42}, ["execute"]),
                       ({"execute": "query-status", "arguments": [1]},
                        ["arguments"])):
        bad.send(req)
        check_error(bad.reply(), "GenericError", words)
    # Bad JSON of several kinds.
    for text in (b'{"execute" "stop"}', b'{"execute":"stop",}', b"}",
                 b'{"a":tru}', b'{"execute":"\xff\xfe"}', b"[" * 5000):
        bad.send(text + b"\n")
        probe("j")
        assert expect_errors_then(bad, "j") >= 1, text[:40]
    # A 1 MiB line: refused, and the stream recovers at the next line.
    big = b'{"execute":"query-status","arguments":{"x":"' + \
        b"A" * (1024 * 1024) + b'"}}\n'
    bad.send(big)
    probe("big")
    n = expect_errors_then(bad, "big")
    assert n == 1, f"{n} errors for the long line"
    # Binary garbage.
    rnd = random.Random(1234)
    bad.send(bytes(rnd.getrandbits(8) for _ in range(64 * 1024)))
    bad.send(b"\n")
    probe("bin")
    n = expect_errors_then(bad, "bin")
    assert n >= 1, "no error for binary garbage"

    # The other client saw nothing of it, and the guest kept counting.
    assert_eq(good.drain(), [], "events on the other client")
    assert_eq(good.execute("query-status")["status"], "running", "status")
    guest_counting(p)
    nums = [n for n, _ in counts(p.serial.text())]
    assert_eq(nums, list(range(len(nums))), "guest count sequence")

    # Disconnects in the middle of a command, and right after sending one.
    bad.send(b'{"execute":"query-sta')
    bad.close()
    s = connect_unix(path)
    s.sendall(b'{"execute":"qmp_capabilities"}\n{"execute":"query-pci"}\n')
    s.close()
    again = QMP.unix(path)
    assert_eq(again.execute("query-status")["status"], "running", "reconnected")
    assert_eq(good.execute("query-status")["status"], "running", "other client")
    again.execute("quit")
    assert_eq(p.wait(10), 0, "exit status")


@case
def client_that_does_not_read():
    """Replies queue up (kestrel stops reading that client meanwhile), the
    VM and the other clients go on, and every reply arrives in order."""
    path, path2 = sock_path("q9.sock"), sock_path("q9b.sock")
    p = start(["-qmp", f"unix:{path},server,nowait",
               "-qmp", f"unix:{path2},server,nowait"])
    slow, good = QMP.unix(path), QMP.unix(path2)
    n = 500
    reqs = b"".join(b'{"execute":"human-monitor-command","arguments":'
                    b'{"command-line":"info qtree"},"id":%d}\n' % i
                    for i in range(n))
    slow.send(reqs)
    time.sleep(0.5)
    t0 = time.monotonic()
    assert_eq(good.execute("query-status")["status"], "running", "status")
    assert time.monotonic() - t0 < 2, "the other client waited"
    guest_counting(p)
    ids = [slow.reply()["id"] for _ in range(n)]
    assert_eq(ids, list(range(n)), "reply ids")
    slow.execute("quit")
    assert_eq(p.wait(10), 0, "exit status")


def main():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: /dev/kvm is not available")
        return 77
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
