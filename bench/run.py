#!/usr/bin/env python3
"""kestrel against QEMU, on the same inputs, in one run.

    python3 bench/run.py [--build-dir DIR] [--runs N] [--only M,...]
                         [--out FILE] [--work DIR]

Builds kestrel in a release build directory (default: build-bench in the
source tree, created with `meson setup -Dbuildtype=release` when missing),
compiles the bare KVM_RUN floor program (bench/kvm-floor.c) and the QEMU
start-up timestamp shim (bench/first-kvm-run.c), runs every benchmark
with each pair alternating (A B A B ...; A B F for the exit floor) so that
machine drift cancels, and writes docs/benchmarks.md: per metric kestrel,
QEMU, the ratio, run count, median and spread, the target and whether it
is met.  The reference is Debian's qemu-system-x86_64 and qemu-img.

Metrics (--only takes their names): startup, memory, exits, seabios,
qcow2.  Only the Python standard library is used.
"""

import argparse
import datetime
import os
import platform
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QEMU = "qemu-system-x86_64"
QEMU_IMG = "qemu-img"
NOTES = os.path.join(REPO, "bench", "notes.md")

# Flags every guest run gets, kestrel and QEMU alike.
COMMON = ["-enable-kvm", "-cpu", "host", "-nodefaults", "-display", "none",
          "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]

EXIT_LOOPS = 100000
MIB = 1 << 20


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---- statistics ---------------------------------------------------------

class Series:
    """Samples of one metric for one program."""

    def __init__(self, unit):
        self.unit = unit
        self.values = []

    def add(self, v):
        self.values.append(v)

    @property
    def n(self):
        return len(self.values)

    @property
    def median(self):
        return statistics.median(self.values) if self.values else None

    def spread(self):
        """(min, max, (max - min) / median)."""
        if not self.values:
            return None
        lo, hi, med = min(self.values), max(self.values), self.median
        return lo, hi, (hi - lo) / med if med else 0.0


# ---- running things -----------------------------------------------------

def run_timed(cmd, env=None, timeout=120, stdin=subprocess.DEVNULL):
    """Run cmd; return (rc, wall_s, cpu_s, t_start_ns, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic_ns()
        p = subprocess.Popen(cmd, stdin=stdin, stdout=out, stderr=err,
                             env=env)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.0005)
        t1 = time.monotonic_ns()
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (p.returncode, (t1 - t0) / 1e9, ru.ru_utime + ru.ru_stime, t0,
                out.read().decode(errors="replace"),
                err.read().decode(errors="replace"))


def stamps(stderr):
    d = {}
    for m in re.finditer(r"kestrel-bench: (\S+) (\d+)", stderr):
        d.setdefault(m.group(1), int(m.group(2)))
    return d


def build(build_dir):
    if not os.path.exists(os.path.join(build_dir, "build.ninja")):
        subprocess.run(["meson", "setup", build_dir, "-Dbuildtype=release"],
                       cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", build_dir], check=True,
                   stdout=subprocess.DEVNULL)
    bdir = os.path.join(build_dir, "bench")
    os.makedirs(bdir, exist_ok=True)
    cc = os.environ.get("CC", "cc")
    floor = os.path.join(bdir, "kvm-floor")
    shim = os.path.join(bdir, "first-kvm-run.so")
    subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-o", floor,
                    os.path.join(REPO, "bench", "kvm-floor.c")], check=True)
    subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-shared", "-fPIC", "-o",
                    shim, os.path.join(REPO, "bench", "first-kvm-run.c"),
                    "-ldl"], check=True)
    return floor, shim


class Bench:
    def __init__(self, args):
        self.args = args
        self.build_dir = os.path.abspath(args.build_dir)
        self.kestrel = os.path.join(self.build_dir, "kestrel-system-x86_64")
        self.kimg = os.path.join(self.build_dir, "kestrel-img")
        self.guest = os.path.join(self.build_dir, "tests", "guest",
                                  "testguest.elf")
        self.runs = args.runs
        self.work = args.work or tempfile.mkdtemp(prefix="kestrel-bench-")
        os.makedirs(self.work, exist_ok=True)
        self.rows = []        # (section, name, unit, k, q, ratio-of, target)
        self.notes = []       # free text per section
        self.unavailable = [] # (metric, why)

    def vmm(self, which):
        return self.kestrel if which == "kestrel" else QEMU

    # rows: dict(section, name, unit, a=Series, b=Series, a_name, b_name,
    #            target=(op, value, what) or None, lower_is_better)
    def row(self, **kw):
        self.rows.append(kw)

    # ---- 1. start-up ----------------------------------------------------

    def startup(self):
        cmd_tail = COMMON + ["-m", "128", "-kernel", self.guest,
                             "-append", "exit 0"]
        wall = {"kestrel": Series("ms"), "qemu": Series("ms")}
        cpu = {"kestrel": Series("ms"), "qemu": Series("ms")}
        first = {"kestrel": Series("ms"), "qemu": Series("ms")}
        fexit = {"kestrel": Series("ms"), "qemu": Series("ms")}
        env_k = dict(os.environ, KESTREL_BENCH_TIMESTAMPS="1")
        env_q = dict(os.environ, LD_PRELOAD=self.shim)
        for i in range(self.runs + 1):            # run 0 warms the caches
            for which in ("kestrel", "qemu"):
                env = env_k if which == "kestrel" else env_q
                rc, w, c, t0, out, err = run_timed([self.vmm(which)] +
                                                   cmd_tail, env=env)
                if rc != 1:
                    raise RuntimeError("%s start-up run: exit %d\n%s" %
                                       (which, rc, err))
                if i == 0:
                    continue
                st = stamps(err)
                wall[which].add(w * 1e3)
                cpu[which].add(c * 1e3)
                if "first-kvm-run-ns" in st:
                    first[which].add((st["first-kvm-run-ns"] - t0) / 1e6)
                if "first-exit-ns" in st:
                    fexit[which].add((st["first-exit-ns"] - t0) / 1e6)
        sec = "1. Start-up"
        self.row(section=sec, name="exec → exit, wall", unit="ms",
                 a=wall["kestrel"], b=wall["qemu"], target=("ratio", 0.2))
        self.row(section=sec, name="exec → exit, CPU (user+sys)", unit="ms",
                 a=cpu["kestrel"], b=cpu["qemu"], target=None)
        self.row(section=sec, name="exec → first KVM_RUN (first guest "
                 "instruction)", unit="ms", a=first["kestrel"],
                 b=first["qemu"], target=("abs", 10.0))
        self.row(section=sec, name="exec → first exit to the VMM", unit="ms",
                 a=fexit["kestrel"], b=fexit["qemu"], target=None)

    # ---- 2. memory ------------------------------------------------------

    @staticmethod
    def guest_ram_rss_kb(pid, ram_kb):
        """Rss of the anonymous mappings at least as large as guest RAM."""
        total, size, anon_big = 0, 0, False
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                    parts = line.split()
                    path = parts[5] if len(parts) > 5 else ""
                    lo, hi = (int(x, 16) for x in parts[0].split("-"))
                    anon_big = (path == "" and (hi - lo) // 1024 >= ram_kb)
                elif anon_big and line.startswith("Rss:"):
                    total += int(line.split()[1])
        return total

    @staticmethod
    def status_kb(pid, key):
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        raise KeyError(key)

    def memory_once(self, which, mem_arg, ram_kb, touch_mib):
        cmd = [self.vmm(which)] + COMMON + [
            "-m", mem_arg, "-serial", "stdio", "-kernel", self.guest,
            "-append", "bench touch %d" % touch_mib]
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            buf, deadline = b"", time.monotonic() + 60
            while b"bench: touched" not in buf:
                if time.monotonic() > deadline or p.poll() is not None:
                    raise RuntimeError("%s memory run: no 'bench: touched' "
                                       "(%r)" % (which, buf[-200:]))
                r, _, _ = select.select([p.stdout], [], [], 0.5)
                if r:
                    buf += os.read(p.stdout.fileno(), 4096)
            time.sleep(0.05)       # let the vCPU settle into hlt
            hwm = self.status_kb(p.pid, "VmHWM")
            anon = self.status_kb(p.pid, "RssAnon")
            guest = self.guest_ram_rss_kb(p.pid, ram_kb)
            return hwm, anon, guest
        finally:
            p.kill()
            p.wait()

    def memory(self):
        touch = 64
        for mem_arg, ram_kb in (("128", 128 * 1024), ("2G", 2048 * 1024)):
            over = {"kestrel": Series("MiB"), "qemu": Series("MiB")}
            gst = {"kestrel": Series("MiB"), "qemu": Series("MiB")}
            hwm_s = {"kestrel": Series("MiB"), "qemu": Series("MiB")}
            priv = {"kestrel": Series("MiB"), "qemu": Series("MiB")}
            for i in range(self.runs):
                for which in ("kestrel", "qemu"):
                    hwm, anon, guest = self.memory_once(which, mem_arg,
                                                        ram_kb, touch)
                    over[which].add((hwm - guest) / 1024)
                    priv[which].add((anon - guest) / 1024)
                    gst[which].add(guest / 1024)
                    hwm_s[which].add(hwm / 1024)
            sec = "2. VMM memory"
            self.row(section=sec, name="-m %s: peak RSS − touched guest RAM"
                     % mem_arg, unit="MiB", a=over["kestrel"], b=over["qemu"],
                     target=("abs", 5.0))
            self.row(section=sec, name="-m %s: private (anonymous) RSS − "
                     "touched guest RAM, at the same moment" % mem_arg,
                     unit="MiB", a=priv["kestrel"], b=priv["qemu"],
                     target=None)
            self.row(section=sec, name="-m %s: peak RSS (VmHWM)" % mem_arg,
                     unit="MiB", a=hwm_s["kestrel"], b=hwm_s["qemu"],
                     target=None)
            self.row(section=sec, name="-m %s: guest RAM resident (guest "
                     "wrote %d MiB)" % (mem_arg, touch), unit="MiB",
                     a=gst["kestrel"], b=gst["qemu"], target=None)

    # ---- 3. exit cost ---------------------------------------------------

    def exits(self):
        cyc = re.compile(r"(?:bench|floor): (\w+) n=(\d+) cycles=(\d+) "
                         r"block=(\d+) median=(\d+)")
        tsc = []
        for kind in ("port", "mmio"):
            per = {w: Series("ns") for w in ("kestrel", "qemu", "floor")}
            for i in range(self.runs + 1):
                for which in ("kestrel", "qemu", "floor"):
                    if which == "floor":
                        cmd = [self.floor, kind, str(EXIT_LOOPS)]
                    else:
                        cmd = [self.vmm(which)] + COMMON + [
                            "-m", "128", "-serial", "stdio", "-kernel",
                            self.guest, "-append",
                            "bench %s %d" % (kind, EXIT_LOOPS)]
                    rc, w, c, t0, out, err = run_timed(cmd)
                    m = cyc.search(out)
                    if not m or rc not in (0, 1):
                        raise RuntimeError("%s %s exit run failed (rc %d):"
                                           "\n%s%s" % (which, kind, rc, out,
                                                       err))
                    if which == "floor":
                        tsc.append(float(re.search(r"tsc_hz=(\d+)",
                                                   out).group(1)))
                    if i == 0:
                        continue
                    # per exit: median block of the 100 / its size
                    per[which].add(int(m.group(5)) / int(m.group(4)))
            self.exit_cycles = getattr(self, "exit_cycles", {})
            self.exit_cycles[kind] = per
        hz = statistics.median(tsc)
        sec = "3. Exit cost"
        for kind, what in (("port", "port write, unclaimed port 0x2e0"),
                           ("mmio", "MMIO write, unassigned 0xd0000000")):
            per = self.exit_cycles[kind]
            ns = {}
            for w in per:
                ns[w] = Series("µs")
                for v in per[w].values:
                    ns[w].add(v / hz * 1e6)
            self.row(section=sec, name="%s: kestrel vs bare KVM_RUN floor"
                     % what, unit="µs/exit", a=ns["kestrel"], b=ns["floor"],
                     b_name="floor", target=("ratio", 1.05))
            self.row(section=sec, name="%s: QEMU vs bare KVM_RUN floor"
                     % what, unit="µs/exit", a=ns["qemu"], b=ns["floor"],
                     a_name="QEMU", b_name="floor", target=None)
        self.notes.append((sec, "TSC rate measured by kvm-floor on the host: "
                           "%.0f MHz; %d loop iterations per run, timed as "
                           "100 blocks, per-exit time = median block / "
                           "block size." % (hz / 1e6, EXIT_LOOPS)))

    # ---- 4. SeaBIOS -----------------------------------------------------

    def make_boot_disk(self):
        raw = os.path.join(self.work, "boot.raw")
        sector = bytearray(512)
        # 16-bit: mov al,0; out 0xf4,al; cli; hlt; jmp $-2
        code = bytes([0xb0, 0x00, 0xe6, 0xf4, 0xfa, 0xf4, 0xeb, 0xfd])
        sector[:len(code)] = code
        sector[510], sector[511] = 0x55, 0xaa
        with open(raw, "wb") as f:
            f.write(sector)
            f.truncate(16 * MIB)
        qcow = os.path.join(self.work, "boot.qcow2")
        if os.path.exists(qcow):
            os.unlink(qcow)
        subprocess.run([QEMU_IMG, "convert", "-f", "raw", "-O", "qcow2",
                        raw, qcow], check=True)
        return raw, qcow

    def seabios(self):
        raw, qcow = self.make_boot_disk()
        sec = "4. SeaBIOS POST → boot sector"
        for fmt, path in (("raw", raw), ("qcow2", qcow)):
            cmd_tail = COMMON + ["-m", "128", "-drive",
                                 "file=%s,format=%s,if=ide" % (path, fmt)]
            wall = {"kestrel": Series("ms"), "qemu": Series("ms")}
            ok = True
            for i in range(self.runs + 1):
                for which in ("kestrel", "qemu"):
                    rc, w, c, t0, out, err = run_timed(
                        [self.vmm(which)] + cmd_tail, timeout=60)
                    if rc != 1:
                        if which == "kestrel" and i == 0:
                            line = (err.strip().splitlines() or
                                    ["exit status %d" % rc])[0]
                            self.unavailable.append(
                                ("SeaBIOS boot from IDE %s" % fmt,
                                 "kestrel did not reach the boot sector: %s"
                                 % line))
                            ok = False
                            break
                        raise RuntimeError("%s IDE %s boot: exit %d\n%s" %
                                           (which, fmt, rc, err))
                    if i:
                        wall[which].add(w * 1e3)
                if not ok:
                    break
            if ok:
                self.row(section=sec, name="IDE %s image, exec → boot "
                         "sector → exit" % fmt, unit="ms", a=wall["kestrel"],
                         b=wall["qemu"], target=("ratio", 0.6))

    # ---- 5. qcow2 -------------------------------------------------------

    def kimg_available(self):
        if not os.path.exists(self.kimg):
            return "build/kestrel-img is not built"
        r = subprocess.run([self.kimg, "bench", "--help"],
                           capture_output=True, text=True)
        if "bench" not in (r.stdout + r.stderr):
            return "kestrel-img has no bench command"
        return None

    def make_images(self):
        full = os.path.join(self.work, "full.qcow2")
        half = os.path.join(self.work, "half.qcow2")
        if not (os.path.exists(full) and os.path.exists(half)):
            raw = os.path.join(self.work, "fill.raw")
            chunk = os.urandom(MIB)
            with open(raw, "wb") as f:        # 1 GiB, every byte written
                for i in range(1024):
                    f.write(chunk)
            subprocess.run([QEMU_IMG, "convert", "-f", "raw", "-O", "qcow2",
                            raw, full], check=True)
            with open(raw, "r+b") as f:       # every other MiB a hole
                f.truncate(0)
                f.truncate(1024 * MIB)
                for i in range(0, 1024, 2):
                    f.seek(i * MIB)
                    f.write(chunk)
            subprocess.run([QEMU_IMG, "convert", "-f", "raw", "-O", "qcow2",
                            raw, half], check=True)
            os.unlink(raw)
        return full, half

    def qcow2(self):
        why = self.kimg_available()
        if why:
            self.unavailable.append(("qcow2 bench and convert", why))
            return
        full, half = self.make_images()
        sec = "5. qcow2 (1 GiB image)"
        # Scattered 4 KiB pattern without a random mode (qemu-img has
        # none): a stride of 100003 blocks modulo the image, which visits
        # every block once per 262144 requests, never two adjacent ones.
        stride = 100003 * 4096
        depth = self.args.depth
        patterns = [
            ("4 KiB scattered read", ["-s", "4096", "-S", str(stride),
                                      "-c", "100000"]),
            ("4 KiB scattered write", ["-w", "-s", "4096", "-S", str(stride),
                                       "-c", "100000"]),
            ("64 KiB sequential read", ["-s", "65536", "-c", "16384"]),
            ("64 KiB sequential write", ["-w", "-s", "65536", "-c", "16384"]),
        ]
        for name, opts in patterns:
            thr = {"kestrel": Series("MiB/s"), "qemu": Series("MiB/s")}
            cpu = {"kestrel": Series("ms"), "qemu": Series("ms")}
            count = int(opts[opts.index("-c") + 1])
            size = int(opts[opts.index("-s") + 1])
            for i in range(self.runs + 1):
                for which in ("kestrel", "qemu"):
                    tool = self.kimg if which == "kestrel" else QEMU_IMG
                    cmd = [tool, "bench", "-f", "qcow2", "-t", "none",
                           "-d", str(depth)] + opts + [full]
                    rc, w, c, t0, out, err = run_timed(cmd, timeout=600)
                    if rc != 0:
                        raise RuntimeError("%s bench %s failed:\n%s%s" %
                                           (which, name, out, err))
                    m = re.search(r"Run completed in ([\d.]+) seconds", out)
                    secs = float(m.group(1)) if m else w
                    if i:
                        thr[which].add(count * size / MIB / secs)
                        cpu[which].add(c * 1e3)
            self.row(section=sec, name="bench %s, depth %d, cache none" %
                     (name, depth), unit="MiB/s", a=thr["kestrel"],
                     b=thr["qemu"], target=("ratio_min", 1.2),
                     higher_is_better=True)
            self.row(section=sec, name="bench %s: CPU time (user+sys)" % name,
                     unit="ms", a=cpu["kestrel"], b=cpu["qemu"], target=None)
        self.disk_ceiling(full, sec)
        wall = {"kestrel": Series("s"), "qemu": Series("s")}
        ccpu = {"kestrel": Series("ms"), "qemu": Series("ms")}
        out_img = os.path.join(self.work, "converted.qcow2")
        for i in range(self.runs + 1):
            for which in ("kestrel", "qemu"):
                tool = self.kimg if which == "kestrel" else QEMU_IMG
                if os.path.exists(out_img):
                    os.unlink(out_img)
                cmd = [tool, "convert", "-f", "qcow2", "-O", "qcow2",
                       "-t", "none", "-T", "none", half, out_img]
                rc, w, c, t0, out, err = run_timed(cmd, timeout=600)
                if rc != 0:
                    raise RuntimeError("%s convert failed:\n%s%s" %
                                       (which, out, err))
                if i:
                    wall[which].add(w)
                    ccpu[which].add(c * 1e3)
        if os.path.exists(out_img):
            os.unlink(out_img)
        # Report throughput (MiB of guest data per second) so that higher
        # is better, as for bench.
        tput = {}
        for w in wall:
            tput[w] = Series("MiB/s")
            for v in wall[w].values:
                tput[w].add(1024 / v)
        self.row(section=sec, name="convert qcow2 → qcow2, half-full, "
                 "cache none (1 GiB / wall time)", unit="MiB/s",
                 a=tput["kestrel"], b=tput["qemu"],
                 target=("ratio_min", 1.2), higher_is_better=True)
        self.row(section=sec, name="convert: CPU time (user+sys)", unit="ms",
                 a=ccpu["kestrel"], b=ccpu["qemu"], target=None)

    def disk_ceiling(self, image, sec):
        """What the virtual disk gives to large sequential requests: the
        image file read as raw with 1 MiB requests (no qcow2 layer), by
        both tools.  A reference for the 64 KiB sequential rows, which
        reach it; no target."""
        count, size = 1024, MIB
        thr = {"kestrel": Series("MiB/s"), "qemu": Series("MiB/s")}
        for i in range(self.runs + 1):
            for which in ("kestrel", "qemu"):
                tool = self.kimg if which == "kestrel" else QEMU_IMG
                cmd = [tool, "bench", "-f", "raw", "-t", "none", "-d",
                       str(self.args.depth), "-s", str(size), "-c",
                       str(count), image]
                rc, w, c, t0, out, err = run_timed(cmd, timeout=600)
                if rc != 0:
                    raise RuntimeError("%s raw bench failed:\n%s%s" %
                                       (which, out, err))
                m = re.search(r"Run completed in ([\d.]+) seconds", out)
                secs = float(m.group(1)) if m else w
                if i:
                    thr[which].add(count * size / MIB / secs)
        self.row(section=sec, name="disk ceiling: the image file as raw, "
                 "1 MiB sequential read, depth %d, cache none"
                 % self.args.depth, unit="MiB/s", a=thr["kestrel"],
                 b=thr["qemu"], target=None, higher_is_better=True)

    # ---- report ---------------------------------------------------------

    def verdict(self, r):
        t = r.get("target")
        a, b = r["a"].median, r["b"].median
        if t is None or a is None:
            return "", ""
        ratio = a / b if b else float("inf")
        kind, val = t
        if kind == "ratio":
            return "≤ %.2f×" % val, "met" if ratio <= val else "**not met**"
        if kind == "ratio_min":
            return "≥ %.2f×" % val, "met" if ratio >= val else "**not met**"
        if kind == "abs":
            return ("kestrel < %g %s" % (val, r["unit"]),
                    "met" if a < val else "**not met**")
        return "", ""

    def fmt(self, v):
        if v is None:
            return "–"
        if abs(v) >= 100:
            return "%.0f" % v
        if abs(v) >= 10:
            return "%.1f" % v
        return "%.2f" % v

    def write(self, path, started, elapsed):
        L = []
        L.append("# Benchmarks: kestrel against QEMU")
        L.append("")
        L.append("Generated by `python3 bench/run.py` (%s, %d runs per "
                 "program and metric after one warm-up run, pairs run "
                 "alternately) on %s. Do not edit by hand: edit "
                 "`bench/run.py` or `bench/notes.md` and run it again." %
                 (started, self.runs, started.split(" ")[0]))
        L.append("")
        L.append("Machine: %s, %d CPUs, Linux %s. kestrel %s (release "
                 "build), %s, %s. The whole run took %.0f s." %
                 (cpu_model(), os.cpu_count(), platform.release(),
                  git_describe(), first_line([QEMU, "--version"]),
                  first_line([QEMU_IMG, "--version"]), elapsed))
        L.append("")
        L.append("Load average before the run: %s; after it: %s (the "
                 "after figure includes the run's own load: threads waiting "
                 "on the disk count toward it). Other work on this 2-CPU "
                 "machine shows up as spread." % (self.load_start, loadavg()))
        L.append("")
        try:
            busy = float(self.load_start.split()[0]) > 1.5
        except ValueError:
            busy = False
        if busy:
            L.append("**This run was taken while other work loaded the "
                     "machine (1-minute load above 1.5 on %d CPUs): wall "
                     "times and exit costs are inflated and noisy; run it "
                     "again on an idle machine for figures to compare.**" %
                     os.cpu_count())
            L.append("")
        L.append("Median of the runs; spread = (max − min) / median; ratio "
                 "= kestrel median / QEMU median (or / floor).")
        L.append("")
        section = None
        for r in self.rows:
            if r["section"] != section:
                section = r["section"]
                L.append("## %s" % section)
                L.append("")
                L.append("| metric | unit | %s | %s | ratio | target | "
                         "result | runs | spread (min–max) |" % ("A", "B"))
                L.append("|---|---|---:|---:|---:|---|---|---:|---|")
            a, b = r["a"], r["b"]
            an, bn = r.get("a_name", "kestrel"), r.get("b_name", "QEMU")
            ratio = (a.median / b.median if a.median is not None and
                     b.median else None)
            tgt, res = self.verdict(r)
            sa, sb = a.spread(), b.spread()

            def sp(s):
                if not s:
                    return "–"
                return "%.1f%% (%s–%s)" % (s[2] * 100, self.fmt(s[0]),
                                           self.fmt(s[1]))
            L.append("| %s | %s | %s: %s | %s: %s | %s | %s | %s | %d / %d "
                     "| %s: %s; %s: %s |" %
                     (r["name"], r["unit"], an, self.fmt(a.median), bn,
                      self.fmt(b.median),
                      "%.3f" % ratio if ratio is not None else "–", tgt, res,
                      a.n, b.n, an, sp(sa), bn, sp(sb)))
            nxt = self.rows.index(r) + 1
            if nxt == len(self.rows) or self.rows[nxt]["section"] != section:
                L.append("")
                for s, text in self.notes:
                    if s == section:
                        L.append(text)
                        L.append("")
        if self.unavailable:
            L.append("## Not measured in this run")
            L.append("")
            for what, why in self.unavailable:
                L.append("- %s: not available yet (%s)." % (what, why))
            L.append("")
        L.append("## Targets")
        L.append("")
        for r in self.rows:
            tgt, res = self.verdict(r)
            if tgt:
                L.append("- %s — %s: target %s, %s." %
                         (r["section"], r["name"], tgt, res))
        for what, why in self.unavailable:
            L.append("- %s: not measured (%s)." % (what, why))
        L.append("")
        if os.path.exists(NOTES):
            with open(NOTES) as f:
                L.append(f.read().rstrip())
                L.append("")
        with open(path, "w") as f:
            f.write("\n".join(L))


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def first_line(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
        return (r.stdout.strip().splitlines() or ["?"])[0]
    except OSError:
        return "?"


def git_describe():
    try:
        r = subprocess.run(["git", "-C", REPO, "describe", "--always",
                            "--dirty"], capture_output=True, text=True)
        return r.stdout.strip() or "?"
    except OSError:
        return "?"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build-bench"))
    ap.add_argument("--runs", type=int, default=7,
                    help="measured runs per program and metric (>= 5)")
    ap.add_argument("--only", default="startup,memory,exits,seabios,qcow2")
    ap.add_argument("--out", default=os.path.join(REPO, "docs",
                                                  "benchmarks.md"))
    ap.add_argument("--work", help="scratch directory for disk images "
                    "(default: a new one under $TMPDIR; it needs 3 GiB)")
    ap.add_argument("--depth", type=int, default=16,
                    help="queue depth for the qcow2 bench patterns")
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if args.runs < 5:
        ap.error("--runs must be at least 5")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        sys.exit("bench: /dev/kvm is not usable")
    for tool in (QEMU, QEMU_IMG):
        if not shutil.which(tool):
            sys.exit("bench: %s not found (apt-get install qemu-system-x86 "
                     "qemu-utils)" % tool)
    started = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    t_start = time.monotonic()
    b = Bench(args)
    b.load_start = loadavg()
    if args.no_build:
        bdir = os.path.join(b.build_dir, "bench")
        b.floor = os.path.join(bdir, "kvm-floor")
        b.shim = os.path.join(bdir, "first-kvm-run.so")
    else:
        log("bench: building in %s" % b.build_dir)
        b.floor, b.shim = build(b.build_dir)
    for name in args.only.split(","):
        log("bench: %s" % name)
        getattr(b, name)()
    b.write(args.out, started, time.monotonic() - t_start)
    log("bench: wrote %s" % args.out)
    if not args.work:
        shutil.rmtree(b.work, ignore_errors=True)


if __name__ == "__main__":
    main()
