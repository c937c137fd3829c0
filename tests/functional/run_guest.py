#!/usr/bin/env python3
"""Boot kestrel with a project-built guest and check what it prints.

usage: run_guest.py KESTREL [--timeout S] [--status N] [--expect REGEX]...
                    [--check NAME] [--log FILE] -- ARGS...

Serial output goes to a file; the guest ends by writing to isa-debug-exit,
so the exit status says pass or fail.  Exit 0 when every expectation holds,
77 (skip) when /dev/kvm is missing.
"""
import argparse
import datetime
import os
import re
import signal
import subprocess
import sys
import tempfile
import time


def check_rtc(out, started):
    m = re.search(r"rtc: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", out)
    if not m:
        return "no rtc line"
    guest = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")
    guest = guest.replace(tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    if not (started - datetime.timedelta(seconds=2) <= guest
            <= now + datetime.timedelta(seconds=2)):
        return f"guest RTC {guest} is not the host time {now}"
    return None


def check_smp(out, started, args):
    n = int(args.cpus)
    ids = sorted(int(x) for x in re.findall(r"smp: cpu apic id (\d+) up", out))
    if ids != list(range(1, n)):
        return f"AP APIC ids {ids}, expected {list(range(1, n))}"
    if f"smp: {n} cpus up" not in out:
        return f"no 'smp: {n} cpus up' line"
    return None


CHECKS = {"rtc": check_rtc, "smp": check_smp}


def run(cmd, serial, a):
    """Run to exit; with --until, send SIGTERM once the text shows up in the
    serial output or on stderr, and report the exit status that follows."""
    errpath = serial + ".stderr"
    with open(errpath, "wb") as errf:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=errf)
        deadline = time.monotonic() + a.timeout
        status = None
        while time.monotonic() < deadline:
            if p.poll() is not None:
                status = p.returncode
                break
            if a.until:
                text = ""
                for path in (serial, errpath):
                    if os.path.exists(path):
                        with open(path, errors="replace") as f:
                            text += f.read()
                if re.search(a.until, text, re.M):
                    time.sleep(a.linger)
                    p.send_signal(signal.SIGTERM)
                    try:
                        status = p.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        status = "no exit within 5 s of SIGTERM"
                    break
            time.sleep(0.02)
        if p.poll() is None:
            p.kill()
        out = p.communicate()[0].decode(errors="replace")
    with open(errpath, errors="replace") as f:
        err = f.read()
    return status, out, err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kestrel")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--status", type=int, default=1)
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--check", action="append", default=[])
    ap.add_argument("--cpus", default="1")
    ap.add_argument("--until",
                    help="stop the VM once this regex is in the output")
    ap.add_argument("--linger", type=float, default=0,
                    help="with --until: wait this long before SIGTERM")
    ap.add_argument("--within", type=float, default=0,
                    help="fail if the run takes longer (seconds)")
    argv = sys.argv[1:]
    if "--" not in argv:
        ap.error("the kestrel arguments must follow --")
    split = argv.index("--")
    a = ap.parse_args(argv[:split])
    args = argv[split + 1:]
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: /dev/kvm is not available")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        serial = os.path.join(tmp, "serial.log")
        cmd = [a.kestrel] + [x.replace("@SERIAL@", serial) for x in args]
        print("running:", " ".join(cmd))
        started = datetime.datetime.now(datetime.timezone.utc)
        t0 = time.monotonic()
        status, stdout, stderr = run(cmd, serial, a)
        elapsed = time.monotonic() - t0
        out = stdout
        if os.path.exists(serial):
            with open(serial, errors="replace") as f:
                out += f.read()
    print(out)
    if stderr:
        print("stderr:", stderr)
    print(f"exit status {status}, {elapsed:.2f} s")
    errors = []
    if status is None:
        errors.append(f"timed out after {a.timeout} s")
    elif isinstance(status, str):
        errors.append(status)
    elif status != a.status:
        errors.append(f"exit status {status}, expected {a.status}")
    for rx in a.expect:
        if not re.search(rx, out + stderr, re.M):
            errors.append(f"missing output /{rx}/")
    for name in a.check:
        fn = CHECKS[name]
        err = fn(out, started, a) if name == "smp" else fn(out, started)
        if err:
            errors.append(err)
    if a.within and elapsed > a.within:
        errors.append(f"took {elapsed:.1f} s, more than {a.within} s")
    for e in errors:
        print("FAIL:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
