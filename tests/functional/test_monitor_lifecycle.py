#!/usr/bin/env python3
"""VM lifecycle through the monitor, over QMP, HMP and the -nographic mux.

usage: test_monitor_lifecycle.py KESTREL TESTGUEST_ELF

The test guest's "count" program prints "count N t=MS ms" every 5 ms (MS is
its kvmclock).  stop must silence it within 50 ms and keep it silent for
more than a second; cont must go on with the next N, nothing lost or
repeated, and guest time must not jump by the pause.  system_reset must run
the guest again from its start (a second banner), quit must exit 0, and a
guest powering off through the ACPI PM device after system_powerdown must
end the process with status 0, or with -no-shutdown leave status
"shutdown" until a reset and cont.
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import (HMP, QMP, OutputReader, Skip, assert_eq,  # noqa: E402
                        connect_unix, counts, fresh_path, report, run_case)

KESTREL, GUEST = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="kestrel-life-")
STOP_LATENCY = 0.050      # output must stop this soon after "stop" is sent
PAUSE = 1.2               # and stay stopped this long
results = []
procs = []
measured = []


def case(fn):
    return run_case(fn, results, procs)


def sock_path(name):
    return fresh_path(TMP, name)


def start(args, append="count", stdin=subprocess.DEVNULL, nodefaults=True):
    cmd = [KESTREL] + (["-nodefaults", "-display", "none", "-serial", "stdio"]
                       if nodefaults else []) + args + \
        ["-kernel", GUEST, "-append", append]
    p = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    procs.append(p)
    p.out = OutputReader(p.stdout)
    p.err = OutputReader(p.stderr)
    return p


def wait_counts(p, more, timeout=20):
    end = time.monotonic() + timeout
    first = len(counts(p.out.text()))
    while len(counts(p.out.text())) < first + more:
        assert time.monotonic() < end, f"guest stalled: {p.out.text()[-200:]!r}"
        time.sleep(0.01)


def check_pause(p, do_stop, do_cont, label):
    """Acceptance 1 on a serial stream of its own (exact checks)."""
    wait_counts(p, 50)
    t0 = time.monotonic()
    do_stop()
    answered = time.monotonic() - t0
    time.sleep(PAUSE)
    text = p.out.text()
    last = p.out.last_time()
    late = p.out.times_after(t0 + STOP_LATENCY)
    before = counts(text)
    silence = time.monotonic() - max(last, t0)
    measured.append(f"{label}: monitor answered stop in {answered * 1000:.1f} ms, "
                    f"last output {max(last - t0, 0) * 1000:.1f} ms after "
                    f"sending it, then {silence:.2f} s silent")
    assert not late, (f"{label}: output {(late[-1] - t0) * 1000:.0f} ms after "
                      f"stop: {text[-120:]!r}")
    do_cont()
    wait_counts(p, 40)
    seq = counts(p.out.text())
    nums = [n for n, _ in seq]
    assert_eq(nums, list(range(len(nums))), f"{label}: count sequence")
    # kvmclock: guest time across the pause moves by about one period.
    k = len(before)
    t_before, t_after = seq[k - 1][1], seq[k][1]
    if t_before or t_after:
        jump = t_after - t_before
        measured.append(f"{label}: guest kvmclock moved {jump} ms across a "
                        f"{PAUSE + answered:.2f} s pause")
        assert jump < PAUSE * 1000 / 2, \
            f"{label}: guest time jumped {jump} ms across the pause"


# ---- acceptance 1: stop and cont ----

@case
def stop_cont_over_qmp():
    path = sock_path("q.sock")
    p = start(["-qmp", f"unix:{path},server,nowait"])
    q = QMP.unix(path)

    def stop():
        q.execute("stop")
        q.wait_event("STOP")
        assert_eq(q.execute("query-status")["status"], "paused", "status")

    def cont():
        q.execute("cont")
        q.wait_event("RESUME")
    check_pause(p, stop, cont, "QMP")
    q.execute("quit")
    assert_eq(p.wait(10), 0, "exit status")


@case
def stop_cont_over_hmp():
    path = sock_path("m.sock")
    p = start(["-monitor", f"unix:{path},server,nowait"])
    h = HMP(connect_unix(path))
    assert "monitor" in h.banner, h.banner

    def stop():
        assert_eq(h.cmd("stop"), "", "stop output")
        assert_eq(h.cmd("info status"), "VM status: paused\r\n", "status")

    def cont():
        assert_eq(h.cmd("c"), "", "cont output")
    check_pause(p, stop, cont, "HMP")
    h.send_only("quit")
    assert_eq(p.wait(10), 0, "exit status")


@case
def stop_cont_on_nographic_mux():
    """Serial and monitor share stdout here, and the monitor echoes what is
    typed into it, so a line the guest was printing meanwhile may come out
    mangled: whole lines are checked, allowing that."""
    p = start(["-nographic"], stdin=subprocess.PIPE, nodefaults=False)
    wait_counts(p, 30)
    p.stdin.write(b"\x01c")
    p.stdin.flush()
    p.out.wait_for(r"monitor - type 'help'[^\n]*\n\(qemu\) ")
    pos = len(p.out.text())
    t0 = time.monotonic()
    p.stdin.write(b"stop\r")
    p.stdin.flush()
    p.out.wait_for(r"\(qemu\) ", start=pos)
    prompt = time.monotonic()
    time.sleep(PAUSE)
    late = p.out.times_after(prompt + STOP_LATENCY)
    assert not late, f"output while stopped: {p.out.text()[-120:]!r}"
    measured.append(f"mux: prompt back {(prompt - t0) * 1000:.1f} ms after "
                    f"typing stop, then {PAUSE:.1f} s silent")
    before = [n for n, _ in counts(p.out.text())]
    pos = len(p.out.text())
    p.stdin.write(b"info status\r")
    p.stdin.flush()
    p.out.wait_for(r"VM status: paused", start=pos)
    p.stdin.write(b"cont\r")
    p.stdin.flush()
    wait_counts(p, 40)
    nums = [n for n, _ in counts(p.out.text())]
    after = nums[len(before):]
    # Lines mangled by the echo of "stop\r" (5 bytes) and the one cut by
    # the pause are not whole: at most 6 numbers may be missing here.
    assert before[-1] < after[0] <= before[-1] + 7, \
        f"after cont: {before[-3:]} then {after[:3]}"
    assert all(b > a for a, b in zip(nums, nums[1:])), "count went back"
    gaps = sum(b - a - 1 for a, b in zip(nums, nums[1:]))
    assert gaps <= 20, f"{gaps} lines missing: {nums}"
    p.stdin.write(b"quit\r")
    p.stdin.flush()
    assert_eq(p.wait(10), 0, "exit status")


# ---- acceptance 3: reset, quit, poweroff ----

def check_second_boot(p):
    p.out.wait_for(r"count: start[^\n]*\n(.|\n)*count: start[^\n]*\n"
                   r"(.|\n)*count 2 t=\d+ ms\n")
    text = p.out.text()
    assert_eq(text.count("count: start"), 2, "banners")
    second = text[text.rindex("count: start"):]
    nums = [n for n, _ in counts(second)]
    assert nums[:3] == [0, 1, 2], f"after reset: {nums[:5]}"


@case
def system_reset_over_qmp():
    path = sock_path("q.sock")
    p = start(["-qmp", f"unix:{path},server,nowait"])
    q = QMP.unix(path)
    wait_counts(p, 30)
    q.execute("system_reset")
    ev = q.wait_event("RESET")
    assert_eq(ev["data"], {"guest": False, "reason": "host-qmp-system-reset"},
              "RESET data")
    check_second_boot(p)
    q.execute("quit")
    assert_eq(q.wait_event("SHUTDOWN")["data"],
              {"guest": False, "reason": "host-qmp-quit"}, "SHUTDOWN data")
    assert_eq(p.wait(10), 0, "exit status after quit")


@case
def system_reset_and_quit_over_hmp():
    for quit_cmd in ("quit", "q"):
        path = sock_path("m.sock")
        p = start(["-monitor", f"unix:{path},server,nowait"])
        h = HMP(connect_unix(path))
        wait_counts(p, 30)
        assert_eq(h.cmd("system_reset"), "", "system_reset output")
        check_second_boot(p)
        h.send_only(quit_cmd)
        assert_eq(p.wait(10), 0, f"exit status after {quit_cmd}")


def powerdown_guest(args):
    path = sock_path("q.sock")
    p = start(["-qmp", f"unix:{path},server,nowait"] + args,
              append="acpi-wait-powerdown")
    q = QMP.unix(path)
    try:
        p.out.wait_for(r"acpi: waiting for power button|FAIL unknown test")
    except TimeoutError:
        raise AssertionError(f"guest did not start: {p.out.text()!r}")
    if "FAIL unknown test" in p.out.text():
        raise Skip("the acpi-wait-powerdown test guest is not built")
    q.execute("system_powerdown")
    assert "data" not in q.wait_event("POWERDOWN")
    ev = q.wait_event("SHUTDOWN", timeout=20)
    assert_eq(ev["data"], {"guest": True, "reason": "guest-shutdown"},
              "SHUTDOWN data")
    p.out.wait_for(r"acpi: power button\s+acpi: entering S5")
    return p, q


@case
def powerdown_through_acpi_exits_0():
    p, q = powerdown_guest([])
    assert_eq(p.wait(10), 0, "exit status after guest poweroff")


@case
def powerdown_with_no_shutdown_stays():
    p, q = powerdown_guest(["-no-shutdown"])
    q.wait_event("STOP")
    st = q.execute("query-status")
    assert_eq((st["status"], st["running"]), ("shutdown", False), "status")
    time.sleep(1)
    assert p.poll() is None, "process exited despite -no-shutdown"
    r = q.command("cont")
    assert "Resetting" in r["error"]["desc"], r
    q.execute("system_reset")
    q.wait_event("RESET")
    assert_eq(q.execute("query-status")["status"], "prelaunch", "after reset")
    q.execute("cont")
    p.out.wait_for(r"acpi: waiting for power button(.|\n)*"
                   r"acpi: waiting for power button")
    q.execute("quit")
    assert_eq(p.wait(10), 0, "exit status")


@case
def powerdown_over_hmp():
    path = sock_path("m.sock")
    p = start(["-monitor", f"unix:{path},server,nowait"],
              append="acpi-wait-powerdown")
    h = HMP(connect_unix(path))
    p.out.wait_for(r"acpi: waiting for power button|FAIL unknown test")
    if "FAIL unknown test" in p.out.text():
        raise Skip("the acpi-wait-powerdown test guest is not built")
    h.send_only("system_powerdown")
    assert_eq(p.wait(20), 0, "exit status after guest poweroff")


def main():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: /dev/kvm is not available")
        return 77
    for m in measured:
        print("#", m)
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
