#!/usr/bin/env python3
"""Crash safety: a writer killed with SIGKILL at random points, 100 times.

`kestrel-img bench -w --random --flush-interval=N --log=LOG` writes blocks
whose every sector holds (magic, block offset, sequence number) and appends
to LOG, after each flush completes, the writes that had completed before the
flush was issued.  After each kill the image must open, `check` must find no
corruption (leaks are allowed), and every logged write must be on disk (or a
newer one at the same offset).  The images live on across kills, so later
runs start from crashed images.  With lazy refcounts the image is dirty
after a kill: it is repaired (check -r all) before it is checked again.

usage: test_crash.py KESTREL_IMG [KILLS]
"""
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

KIMG = os.path.abspath(sys.argv[1])
KILLS = int(sys.argv[2]) if len(sys.argv) > 2 else 100
QIMG = shutil.which("qemu-img")
MAGIC = 0x3152574c5254534b
SIZE = 16 << 20

CONFIGS = [
    ("qcow2", "compat=1.1,cluster_size=65536", 4096),
    ("qcow2", "compat=0.10,cluster_size=4096", 16384),
    ("qcow2", "compat=1.1,cluster_size=512,refcount_bits=8", 4096),
    ("qcow2", "compat=1.1,cluster_size=2M", 65536),
    ("qcow2", "compat=1.1,lazy_refcounts=on,cluster_size=65536", 8192),
    ("raw", "", 4096),
]


def run(*args):
    return subprocess.run([str(a) for a in args], capture_output=True,
                          text=True, timeout=60)


def read_raw(img, fmt, tmp):
    out = os.path.join(tmp, "content.raw")
    conv = QIMG if QIMG and fmt == "qcow2" else KIMG
    r = run(conv, "convert", "-f", fmt, "-O", "raw", img, out)
    if r.returncode:
        raise AssertionError("convert failed: " + r.stderr)
    with open(out, "rb") as f:
        return f.read()


def verify(data, log, bs):
    flushed = {}
    for line in log.splitlines():
        off, seq = map(int, line.split())
        flushed[off] = max(flushed.get(off, 0), seq)
    for off, seq in flushed.items():
        for s in range(off, off + bs, 512):
            m, o, q = struct.unpack_from("<QQQ", data, s)
            if m != MAGIC or o != off or q < seq:
                raise AssertionError(
                    "flushed write lost at offset %d (sector %d): found "
                    "magic=%#x off=%d seq=%#x, want seq >= %#x" %
                    (off, s, m, o, q, seq))
    return len(flushed)


def main():
    rnd = random.Random(int(os.environ.get("CRASH_SEED", "1234")))
    failures = 0
    checked = 0
    with tempfile.TemporaryDirectory(prefix="kestrel-crash-") as tmp:
        imgs = []
        for i, (fmt, opts, bs) in enumerate(CONFIGS):
            img = os.path.join(tmp, "img%d.%s" % (i, fmt))
            args = [KIMG, "create", "-q", "-f", fmt] + \
                (["-o", opts] if opts else []) + [img, SIZE]
            r = run(*args)
            assert r.returncode == 0, r.stderr
            imgs.append((img, fmt, opts, bs))
        t0 = time.time()
        for k in range(KILLS):
            img, fmt, opts, bs = imgs[k % len(imgs)]
            log = os.path.join(tmp, "log")
            open(log, "w").close()
            seed = k + 1
            p = subprocess.Popen(
                [KIMG, "bench", "-w", "-q", "-f", fmt, "--random",
                 "--seed", str(seed), "-c", "1000000000",
                 "-d", str(rnd.choice([1, 4, 16])), "-s", str(bs),
                 "--flush-interval", str(rnd.choice([1, 7, 50])),
                 "--log", log, img],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(rnd.uniform(0.02, 0.25))
            if p.poll() is not None:
                print("FAIL kill %d: writer exited early: %s" %
                      (k, p.stderr.read().decode()))
                failures += 1
                continue
            p.send_signal(signal.SIGKILL)
            p.wait()
            p.stderr.close()
            label = "kill %d (%s %s)" % (k, fmt, opts)
            try:
                if "lazy" in opts:
                    r = run(KIMG, "check", "-r", "all", img)
                    assert r.returncode in (0, 3), \
                        "repair: exit %d\n%s%s" % (r.returncode, r.stdout,
                                                   r.stderr)
                if fmt == "qcow2":
                    r = run(KIMG, "check", img)
                    assert r.returncode in (0, 3), \
                        "check: exit %d\n%s%s" % (r.returncode, r.stdout,
                                                  r.stderr)
                    if QIMG and k % 5 == 0:
                        r = run(QIMG, "check", img)
                        assert r.returncode in (0, 3), \
                            "qemu-img check: exit %d\n%s%s" % (
                                r.returncode, r.stdout, r.stderr)
                with open(log) as f:
                    n = verify(read_raw(img, fmt, tmp), f.read(), bs)
                checked += n
            except AssertionError as e:
                failures += 1
                print("FAIL %s: %s" % (label, e))
        print("%d kills in %.1f s, %d flushed writes verified, %d failures" %
              (KILLS, time.time() - t0, checked, failures))
        for img, fmt, opts, bs in imgs:
            if fmt == "qcow2":
                r = run(KIMG, "check", "-r", "leaks", img)
                if r.returncode:
                    failures += 1
                    print("FAIL final check -r leaks %s: %s" % (img, r.stdout))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
