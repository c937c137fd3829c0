#!/usr/bin/env python3
"""kestrel-img against qemu-img, both ways.

For raw, qcow2 v2 and v3 with 512 B, 64 KiB and 2 MiB clusters, plain,
compressed, with backing chains and internal snapshots: images kestrel-img
writes must pass `qemu-img check` and compare equal (`qemu-img compare`) to
a raw file this script builds with the same writes; images qemu-img and
qemu-io write must read identically in kestrel.  Then the other commands
(info, map, commit, rebase, resize, check -r, compare exit codes).

With --vm KESTREL --guest TESTGUEST the emulator writes too: testguest
`ide-pio-dma` writes 32 sectors by PIO and DMA into qcow2 disks (v2 and v3,
512 B to 2 MiB clusters, over a backing file, every cache mode), and the
images must pass `qemu-img check` and compare equal to what it wrote.

usage: test_img.py KESTREL_IMG [--vm KESTREL --guest TESTGUEST]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

KIMG = os.path.abspath(sys.argv[1])
VM = GUEST = None
if "--vm" in sys.argv:
    VM = os.path.abspath(sys.argv[sys.argv.index("--vm") + 1])
    GUEST = os.path.abspath(sys.argv[sys.argv.index("--guest") + 1])
QIMG = shutil.which("qemu-img")
QIO = shutil.which("qemu-io")
failures = []
SIZE = 24 << 20     # 24 MiB: room for 2 MiB clusters, quick to compare


def run(*args, ok=(0,), out=False):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                       timeout=120)
    if r.returncode not in ok:
        raise AssertionError("%s: exit %d\n%s%s" % (" ".join(map(str, args)),
                             r.returncode, r.stdout, r.stderr))
    return r if out else r.stdout


def case(name):
    def wrap(fn):
        def runner(*a):
            label = name % a[:-1] if "%" in name else name
            if os.environ.get("TEST_FILTER", "") not in label:
                return
            try:
                fn(*a)
                print("ok   " + label)
            except Exception as e:          # one line per failed case
                failures.append(label)
                print("FAIL %s: %s" % (label, str(e).strip()[:2000]))
        return runner
    return wrap


class Ref:
    """A raw file holding what the image must read as."""

    def __init__(self, path, size):
        self.path = path
        with open(path, "wb") as f:
            f.truncate(size)

    def write(self, off, data):
        with open(self.path, "r+b") as f:
            f.seek(off)
            f.write(data)

    def copy(self, path):
        shutil.copyfile(self.path, path)
        r = Ref.__new__(Ref)
        r.path = path
        return r


def bench_write(img, ref, start, size, step, count, pattern, fmt=None,
                depth=8):
    """kestrel-img bench -w, mirrored into the reference file."""
    args = [KIMG, "bench", "-w", "-q", "-c", count, "-d", depth, "-o", start,
            "-s", size, "-S", step, "--pattern", pattern]
    if fmt:
        args += ["-f", fmt]
    run(*args, img)
    length = os.path.getsize(ref.path)
    off = start
    for _ in range(count):
        ref.write(off, bytes([pattern]) * size)
        off = (off + step) % length
        if off + size > length:
            off = start


def qemu_check(img):
    r = run(QIMG, "check", img, ok=(0, 1, 2, 3), out=True)
    assert r.returncode == 0, "qemu-img check:\n" + r.stdout + r.stderr


def qemu_same(img, ref, fmt=None):
    f = ["-f", fmt] if fmt else []
    r = run(QIMG, "compare", *f, "-F", "raw", img, ref.path, ok=(0, 1, 2),
            out=True)
    assert r.returncode == 0, "qemu-img compare: " + r.stdout + r.stderr


def kestrel_same(img, ref, tmp):
    r = run(KIMG, "compare", "-F", "raw", img, ref.path, ok=(0, 1, 2), out=True)
    assert r.returncode == 0, "kestrel-img compare: " + r.stdout + r.stderr
    out = os.path.join(tmp, "out.raw")
    run(KIMG, "convert", "-O", "raw", img, out)
    with open(out, "rb") as a, open(ref.path, "rb") as b:
        assert a.read() == b.read(), "kestrel-img convert -O raw differs"


def create_opts(version, cluster, extra=""):
    o = "compat=%s,cluster_size=%d" % ("0.10" if version == 2 else "1.1",
                                      cluster)
    return o + ("," + extra if extra else "")


def writes(img, ref, cluster, fmt=None):
    """Aligned, unaligned, cluster-crossing and overwriting writes."""
    bench_write(img, ref, 0, 65536, 65536, 40, 0x11, fmt)
    bench_write(img, ref, 1000, 3000, 7777, 300, 0x22, fmt)
    bench_write(img, ref, cluster // 2 + 3, cluster + 512, 5 * cluster + 4096,
                40, 0x33, fmt)
    bench_write(img, ref, 10 << 20, 4096, 1 << 20, 12, 0x44, fmt, depth=1)


@case("kestrel writes raw")
def kestrel_raw(tmp):
    img, ref = os.path.join(tmp, "k.raw"), Ref(os.path.join(tmp, "ref"), SIZE)
    run(KIMG, "create", "-f", "raw", img, SIZE)
    writes(img, ref, 65536, "raw")
    qemu_same(img, ref, "raw")


@case("kestrel writes qcow2 v%d cluster %d")
def kestrel_qcow2(version, cluster, tmp):
    img, ref = os.path.join(tmp, "k.qcow2"), Ref(os.path.join(tmp, "ref"), SIZE)
    run(KIMG, "create", "-f", "qcow2", "-o", create_opts(version, cluster),
        img, SIZE)
    writes(img, ref, cluster)
    qemu_check(img)
    qemu_same(img, ref)
    kestrel_same(img, ref, tmp)


@case("qemu writes qcow2 v%d cluster %d, kestrel reads")
def qemu_qcow2(version, cluster, tmp):
    img, ref = os.path.join(tmp, "q.qcow2"), Ref(os.path.join(tmp, "ref"), SIZE)
    run(QIMG, "create", "-q", "-f", "qcow2", "-o",
        create_opts(version, cluster), img, SIZE)
    cmds = []
    for i, (off, ln) in enumerate([(0, 70000), (cluster * 3 + 17, 5000),
                                   (5 << 20, 1 << 20), (SIZE - 4096, 4096)]):
        cmds += ["-c", "write -P %d %d %d" % (0x50 + i, off, ln)]
        ref.write(off, bytes([0x50 + i]) * ln)
    # Zeroed and discarded ranges (whole clusters, and a partial one).
    z = max(cluster, 65536)
    cmds += ["-c", "write -z %d %d" % (5 << 20, 2 * z),
             "-c", "discard %d %d" % (0, z),
             "-c", "write -z %d 1000" % (cluster * 3 + 100)]
    ref.write(5 << 20, bytes(2 * z))
    ref.write(0, bytes(z))
    ref.write(cluster * 3 + 100, bytes(1000))
    run(QIO, "-f", "qcow2", *cmds, img)
    kestrel_same(img, ref, tmp)
    r = run(KIMG, "check", img, ok=(0, 2, 3), out=True)
    assert r.returncode == 0, r.stdout + r.stderr


@case("compressed %s: kestrel convert -c (cluster %d)")
def kestrel_compressed(ctype, cluster, tmp):
    src = os.path.join(tmp, "src.raw")
    ref = Ref(src, SIZE)
    bench_write(src, ref, 0, 65536, 3 * 65536, 30, 0x61, "raw")
    bench_write(src, ref, 777, 5000, 100003, 50, 0x62, "raw")
    img = os.path.join(tmp, "c.qcow2")
    run(KIMG, "convert", "-c", "-O", "qcow2", "-o",
        "cluster_size=%d,compression_type=%s" % (cluster, ctype), src, img)
    qemu_check(img)
    qemu_same(img, ref)
    info = json.loads(run(QIMG, "info", "--output=json", img))
    assert info["format-specific"]["data"]["compression-type"] == ctype
    m = json.loads(run(QIMG, "map", "--output=json", img))
    assert any(e.get("compressed") or (e["data"] and "offset" not in e)
               for e in m), "no compressed clusters in " + str(m)[:200]
    # Overwrite parts of compressed clusters (copy-on-write from them).
    bench_write(img, ref, 30000, 70000, 200000, 20, 0x63)
    qemu_check(img)
    qemu_same(img, ref)


@case("compressed %s: qemu convert -c, kestrel reads")
def qemu_compressed(ctype, tmp):
    src = os.path.join(tmp, "src.raw")
    ref = Ref(src, SIZE)
    bench_write(src, ref, 0, 65536, 3 * 65536, 30, 0x71, "raw")
    img = os.path.join(tmp, "qc.qcow2")
    run(QIMG, "convert", "-c", "-O", "qcow2", "-o",
        "compression_type=" + ctype, src, img)
    kestrel_same(img, ref, tmp)
    bench_write(img, ref, 1000, 100000, 150001, 20, 0x72)
    qemu_check(img)
    qemu_same(img, ref)


@case("backing chain, depth 3, raw base, kestrel writes (v%d, cluster %d)")
def kestrel_chain(version, cluster, tmp):
    base = os.path.join(tmp, "base.raw")
    ref = Ref(base, SIZE)
    bench_write(base, ref, 0, 65536, 131072, 60, 0x81, "raw")
    mid = os.path.join(tmp, "mid.qcow2")
    top = os.path.join(tmp, "top.qcow2")
    run(KIMG, "create", "-q", "-f", "qcow2", "-o",
        create_opts(version, cluster), "-b", "base.raw", "-F", "raw", mid)
    bench_write(mid, ref, 5000, 30000, 400000, 30, 0x82)
    run(KIMG, "create", "-q", "-f", "qcow2", "-o",
        create_opts(version, cluster), "-b", "mid.qcow2", "-F", "qcow2", top)
    bench_write(top, ref, 65536 + 100, 9000, 300000, 40, 0x83)
    for img in (mid, top):
        qemu_check(img)
    qemu_same(top, ref)
    chain = json.loads(run(QIMG, "info", "--output=json", "--backing-chain",
                           top))
    assert [c["format"] for c in chain] == ["qcow2", "qcow2", "raw"]


@case("backing chain written by qemu, kestrel reads")
def qemu_chain(tmp):
    base = os.path.join(tmp, "b.qcow2")
    top = os.path.join(tmp, "t.qcow2")
    ref = Ref(os.path.join(tmp, "ref"), SIZE)
    run(QIMG, "create", "-q", "-f", "qcow2", base, SIZE)
    run(QIO, "-c", "write -P 0x91 0 1M", "-c", "write -P 0x92 4M 100k", base)
    ref.write(0, b"\x91" * (1 << 20))
    ref.write(4 << 20, b"\x92" * 102400)
    run(QIMG, "create", "-q", "-f", "qcow2", "-b", "b.qcow2", "-F", "qcow2",
        top)
    run(QIO, "-c", "write -P 0x93 512k 1M", "-c", "write -z 4M 64k", top)
    ref.write(512 << 10, b"\x93" * (1 << 20))
    ref.write(4 << 20, bytes(65536))
    kestrel_same(top, ref, tmp)
    bench_write(top, ref, 100, 70000, 1 << 20, 10, 0x94)
    qemu_check(top)
    qemu_same(top, ref)


@case("internal snapshots, kestrel side (v%d, cluster %d)")
def kestrel_snapshots(version, cluster, tmp):
    img = os.path.join(tmp, "s.qcow2")
    ref = Ref(os.path.join(tmp, "ref"), SIZE)
    run(KIMG, "create", "-q", "-f", "qcow2", "-o",
        create_opts(version, cluster), img, SIZE)
    bench_write(img, ref, 0, 65536, 65536, 50, 0xa1)
    run(KIMG, "snapshot", "-c", "one", img)
    snap1 = ref.copy(os.path.join(tmp, "ref1"))
    bench_write(img, ref, 3000, 20000, 70001, 60, 0xa2)
    qemu_check(img)
    run(KIMG, "snapshot", "-c", "two", img)
    bench_write(img, ref, 0, 4096, 8192, 100, 0xa3)
    qemu_check(img)
    qemu_same(img, ref)
    names = run(QIMG, "snapshot", "-l", img)
    assert "one" in names and "two" in names, names
    run(QIMG, "snapshot", "-a", "one", img)      # qemu applies ours
    qemu_same(img, snap1)
    run(KIMG, "snapshot", "-a", "two", img)
    run(KIMG, "snapshot", "-d", "one", img)
    qemu_check(img)
    run(KIMG, "snapshot", "-d", "two", img)
    qemu_check(img)
    assert "two" not in run(QIMG, "snapshot", "-l", img)


@case("internal snapshots made by qemu, applied by kestrel")
def qemu_snapshots(tmp):
    img = os.path.join(tmp, "qs.qcow2")
    ref = Ref(os.path.join(tmp, "ref"), SIZE)
    run(QIMG, "create", "-q", "-f", "qcow2", img, SIZE)
    run(QIO, "-c", "write -P 0xb1 0 2M", img)
    ref.write(0, b"\xb1" * (2 << 20))
    run(QIMG, "snapshot", "-c", "q1", img)
    run(QIO, "-c", "write -P 0xb2 1M 2M", img)
    assert "q1" in run(KIMG, "snapshot", "-l", img)
    run(KIMG, "snapshot", "-a", "q1", img)
    qemu_check(img)
    kestrel_same(img, ref, tmp)
    run(KIMG, "snapshot", "-d", "q1", img)
    qemu_check(img)


@case("preallocation=%s, lazy_refcounts, refcount_bits=%d")
def kestrel_options(prealloc, bits, tmp):
    img = os.path.join(tmp, "p.qcow2")
    ref = Ref(os.path.join(tmp, "ref"), 8 << 20)
    run(KIMG, "create", "-q", "-f", "qcow2", "-o",
        "preallocation=%s,lazy_refcounts=on,refcount_bits=%d,cluster_size=4k"
        % (prealloc, bits), img, 8 << 20)
    qemu_check(img)
    bench_write(img, ref, 1000, 9000, 100000, 50, 0xc1)
    qemu_check(img)
    qemu_same(img, ref)
    info = json.loads(run(QIMG, "info", "--output=json", img))
    d = info["format-specific"]["data"]
    assert d["lazy-refcounts"] is True and d["refcount-bits"] == bits, d


@case("info, map, compare, resize, commit, rebase, check -r")
def commands(tmp):
    base = os.path.join(tmp, "b.qcow2")
    top = os.path.join(tmp, "t.qcow2")
    ref = Ref(os.path.join(tmp, "ref"), SIZE)
    run(KIMG, "create", "-q", "-f", "qcow2", base, SIZE)
    bench_write(base, ref, 0, 65536, 262144, 20, 0xd1)
    run(KIMG, "create", "-q", "-f", "qcow2", "-b", "b.qcow2", "-F", "qcow2",
        top)
    bench_write(top, ref, 100000, 50000, 500000, 20, 0xd2)
    ki = json.loads(run(KIMG, "info", "--output=json", top))
    qi = json.loads(run(QIMG, "info", "--output=json", top))
    for k in ("virtual-size", "format", "cluster-size", "backing-filename",
              "backing-filename-format"):
        assert ki[k] == qi[k], (k, ki[k], qi[k])
    assert ki["format-specific"]["data"] == qi["format-specific"]["data"]
    human = run(KIMG, "info", top)
    assert "virtual size: 24 MiB (25165824 bytes)" in human, human
    km = json.loads(run(KIMG, "map", "--output=json", top))
    qm = json.loads(run(QIMG, "map", "--output=json", top))
    assert km == qm, "map differs:\n%s\n%s" % (km[:4], qm[:4])
    assert run(KIMG, "map", top) == run(QIMG, "map", top)
    # compare exit codes: identical 0, different 1, error 2
    assert run(KIMG, "compare", top, top, out=True).returncode == 0
    r = run(KIMG, "compare", base, top, ok=(1,), out=True)
    assert "Content mismatch at offset" in r.stdout, r.stdout
    run(KIMG, "compare", base, os.path.join(tmp, "nope"), ok=(2,))
    # rebase onto nothing (safe: data copied in), then back (-u)
    run(KIMG, "rebase", "-b", "", top)
    qemu_check(top)
    qemu_same(top, ref)
    run(KIMG, "rebase", "-u", "-b", "b.qcow2", "-F", "qcow2", top)
    qemu_same(top, ref)
    # commit into the base, which then reads like the whole chain
    run(KIMG, "commit", top)
    qemu_check(base)
    qemu_same(base, ref)
    qemu_same(top, ref)
    # resize: grow, then write past the old end
    run(KIMG, "resize", base, "+8M")
    with open(ref.path, "r+b") as f:
        f.truncate(SIZE + (8 << 20))
    bench_write(base, ref, SIZE + 4096, 8192, 65536, 20, 0xd3)
    qemu_check(base)
    qemu_same(base, ref)
    run(KIMG, "resize", base, "-1M", ok=(1,))
    run(KIMG, "resize", "--shrink", base, SIZE)
    with open(ref.path, "r+b") as f:
        f.truncate(SIZE)
    qemu_check(base)
    qemu_same(base, ref)
    # check -r leaks after qemu-img leaves leaks (-r leaks of ours vs theirs)
    r = run(KIMG, "check", "--output=json", base, out=True)
    assert json.loads(r.stdout)["check-errors"] == 0


def guest_pattern(lba, seed):
    """What testguest ide-pio-dma writes (tests/guest, ide-pio-dma)."""
    return bytes((((lba * 7 + i * 3 + (i >> 8)) & 0xFF) ^ seed)
                 for i in range(512))


@case("the VM writes qcow2 (%s, cache=%s%s)")
def vm_writes(opts, cache, with_backing, tmp):
    """with_backing: "" or the label saying there is a backing file."""
    size = 8 << 20                  # the guest expects 16384 sectors
    ref = Ref(os.path.join(tmp, "ref"), size)
    img = os.path.join(tmp, "vm.qcow2")
    backing = []
    if with_backing:
        base = os.path.join(tmp, "base.qcow2")
        run(QIMG, "create", "-q", "-f", "qcow2", base, size)
        # Data around and under the sectors the guest writes.
        run(QIO, "-c", "write -P 0x3c 40k 20k", "-c", "write -P 0x3d 96k 8k",
            base)
        ref.write(40 << 10, b"\x3c" * (20 << 10))
        ref.write(96 << 10, b"\x3d" * (8 << 10))
        backing = ["-b", "base.qcow2", "-F", "qcow2"]
    run(KIMG, "create", "-q", "-f", "qcow2", "-o", opts, *backing, img, size)
    serial = os.path.join(tmp, "serial.log")
    r = subprocess.run([VM, "-nodefaults", "-display", "none", "-serial",
                        "file:" + serial, "-device",
                        "isa-debug-exit,iobase=0xf4,iosize=4", "-drive",
                        "file=%s,format=qcow2,if=ide,index=0,cache=%s" %
                        (img, cache), "-kernel", GUEST, "-append",
                        "ide-pio-dma"], capture_output=True, text=True,
                       timeout=60)
    text = open(serial, errors="replace").read()
    assert "PASS ide-pio-dma" in text and r.returncode == 1, \
        "guest: exit %d\n%s%s" % (r.returncode, text, r.stderr)
    for lba, seed in [(100 + i, 0x5A) for i in range(16)] + \
                     [(200 + i, 0xA5) for i in range(16)]:
        ref.write(lba * 512, guest_pattern(lba, seed))
    qemu_check(img)
    qemu_same(img, ref)


def main():
    if not QIMG or not QIO:
        print("SKIP: qemu-img/qemu-io not installed (Debian: qemu-utils)")
        sys.exit(77)
    tests = [lambda t: kestrel_raw(t)]
    for v in (2, 3):
        for c in (512, 65536, 2 << 20):
            tests.append(lambda t, v=v, c=c: kestrel_qcow2(v, c, t))
            tests.append(lambda t, v=v, c=c: qemu_qcow2(v, c, t))
            if v == 3 or c == 65536:
                tests.append(lambda t, v=v, c=c: kestrel_chain(v, c, t))
            if (v == 3) != (c == 65536):
                tests.append(lambda t, v=v, c=c: kestrel_snapshots(v, c, t))
    for ct in ("zlib", "zstd"):
        for c in (512, 65536, 2 << 20):
            tests.append(lambda t, ct=ct, c=c: kestrel_compressed(ct, c, t))
        tests.append(lambda t, ct=ct: qemu_compressed(ct, t))
    tests += [lambda t: qemu_chain(t), lambda t: qemu_snapshots(t),
              lambda t: commands(t)]
    for p, b in (("off", 1), ("metadata", 16), ("falloc", 64), ("full", 8)):
        tests.append(lambda t, p=p, b=b: kestrel_options(p, b, t))
    if VM and os.access("/dev/kvm", os.R_OK | os.W_OK):
        for opts, cache, back in (
                ("compat=0.10,cluster_size=512", "writeback", False),
                ("cluster_size=4096", "none", False),
                ("cluster_size=65536", "writethrough", True),
                ("cluster_size=2M,lazy_refcounts=on", "unsafe", False),
                ("cluster_size=65536", "directsync", True)):
            b = ", over a backing file" if back else ""
            tests.append(lambda t, o=opts, c=cache, b=b: vm_writes(o, c, b, t))
    elif VM:
        print("note: no /dev/kvm, the emulator cases are skipped")
    for t in tests:
        with tempfile.TemporaryDirectory(prefix="kestrel-img-") as tmp:
            t(tmp)
    if failures:
        print("%d failed: %s" % (len(failures), ", ".join(failures)))
        sys.exit(1)
    print("all %d passed" % len(tests))


if __name__ == "__main__":
    main()
