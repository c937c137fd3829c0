#!/usr/bin/env python3
"""Malformed qcow2 images: one clear error each, never a crash or a hang.

A valid little qcow2 image is built here (standard library only), then
bent in one way per case: bad header fields, huge or misplaced tables,
overlapping metadata, refcount table overflows, bad snapshot tables,
backing loops and self-backing, truncated files, bad cluster bits.  Each
image must be refused by `kestrel-img convert` (exit 1, one line on
stderr), must not crash `kestrel-img check`, and must stop
`kestrel-system-x86_64 -drive file=bad.qcow2,format=qcow2` with exit 1
and one line.

usage: test_corrupt.py KESTREL_IMG [KESTREL_SYSTEM]
"""
import os
import struct
import subprocess
import sys
import tempfile

KIMG = os.path.abspath(sys.argv[1])
KVM_BIN = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
CS = 65536
SIZE = 64 << 20


def be64(v):
    return struct.pack(">Q", v)


class Image:
    """Clusters: 0 header, 1 refcount table, 2 refcount block, 3 L1,
    4 L2, 5 data, 6 snapshot table, 7 snapshot L1 (when asked)."""

    def __init__(self, version=3, snapshot=False, backing=None,
                 backing_fmt=None, l1_size=1):
        self.f = bytearray(CS * (8 if snapshot else 6))
        self.version = version
        self.hdr = {
            "magic": 0x514649FB, "version": version, "backing_offset": 0,
            "backing_size": 0, "cluster_bits": 16, "size": SIZE, "crypt": 0,
            "l1_size": l1_size, "l1_offset": 3 * CS, "rt_offset": CS,
            "rt_clusters": 1, "nb_snapshots": 0, "snap_offset": 0,
            "incompat": 0, "compat": 0, "autoclear": 0, "refcount_order": 4,
            "header_length": 112, "compression_type": 0,
        }
        self.exts = []
        if backing_fmt:
            self.exts.append((0xE2792ACA, backing_fmt.encode()))
        self.backing = backing
        self.put(CS, be64(2 * CS))                     # refcount table
        nclusters = len(self.f) // CS
        for i in range(nclusters):
            self.put(2 * CS + 2 * i, struct.pack(">H", 1))
        self.put(3 * CS, be64(4 * CS | 1 << 63))       # L1 -> L2
        self.put(4 * CS, be64(5 * CS | 1 << 63))       # L2 -> data
        self.put(5 * CS, b"kestrel" * 100)
        if snapshot:
            self.hdr["nb_snapshots"] = 1
            self.hdr["snap_offset"] = 6 * CS
            # shared L2 and data: refcount 2
            self.put(2 * CS + 2 * 4, struct.pack(">H", 2))
            self.put(2 * CS + 2 * 5, struct.pack(">H", 2))
            self.put(3 * CS, be64(4 * CS))
            self.put(4 * CS, be64(5 * CS))
            self.put(7 * CS, be64(4 * CS))
            extra = be64(0) + be64(SIZE)
            ent = struct.pack(">QIHHIIQII", 7 * CS, 1, 1, 2, 0, 0, 0, 0,
                              len(extra)) + extra + b"1" + b"s1"
            ent += bytes(-len(ent) % 8)
            self.put(6 * CS, ent)

    def put(self, off, data):
        end = off + len(data)
        if end > len(self.f):
            self.f.extend(bytes(end - len(self.f)))
        self.f[off:end] = data

    def bytes(self):
        h = self.hdr
        hdr = struct.pack(">IIQIIQIIQQIIQ", h["magic"], h["version"],
                          h["backing_offset"], h["backing_size"],
                          h["cluster_bits"], h["size"], h["crypt"],
                          h["l1_size"], h["l1_offset"], h["rt_offset"],
                          h["rt_clusters"], h["nb_snapshots"],
                          h["snap_offset"])
        if self.version >= 3:
            hdr += struct.pack(">QQQII", h["incompat"], h["compat"],
                               h["autoclear"], h["refcount_order"],
                               h["header_length"])
            hdr += bytes([h["compression_type"]]) + bytes(7)
        for t, d in self.exts:
            hdr += struct.pack(">II", t, len(d)) + d + bytes(-len(d) % 8)
        hdr += bytes(8)
        if self.backing is not None:
            if not h["backing_offset"]:
                h["backing_offset"] = len(hdr)
                h["backing_size"] = len(self.backing)
                return self.bytes()
            hdr += self.backing.encode()
        out = bytearray(self.f)
        out[0:len(hdr)] = hdr
        return bytes(out)


def field(name, value, **kw):
    def make(d):
        img = Image(**kw)
        img.hdr[name] = value
        return img.bytes()
    return make


def poke(off, data, **kw):
    def make(d):
        img = Image(**kw)
        img.put(off, data)
        return img.bytes()
    return make


def cut(n):
    return lambda d: Image().bytes()[:n]


def backing(name, fmt="qcow2"):
    def make(d):
        return Image(backing=name, backing_fmt=fmt).bytes()
    return make


def loop_pair(d):
    with open(os.path.join(d, "loop-b.qcow2"), "wb") as f:
        f.write(Image(backing="bad.qcow2", backing_fmt="qcow2").bytes())
    return Image(backing="loop-b.qcow2", backing_fmt="qcow2").bytes()


def ext(t, data):
    def make(d):
        img = Image()
        img.exts.append((t, data))
        return img.bytes()
    return make


def bad_ext_len(d):
    b = bytearray(Image().bytes())
    b[112:120] = struct.pack(">II", 0x12345678, 0x20000)
    return bytes(b)


def shared_l2(d):
    img = Image(l1_size=2)
    img.put(3 * CS + 8, be64(4 * CS | 1 << 63))
    return img.bytes()


def snap_entry(off_in_entry, data):
    def make(d):
        img = Image(snapshot=True)
        img.put(6 * CS + off_in_entry, data)
        return img.bytes()
    return make


CASES = [
    ("bad magic", field("magic", 0x12345678)),
    ("version 1", field("version", 1)),
    ("version 4", field("version", 4)),
    ("cluster bits 8", field("cluster_bits", 8)),
    ("cluster bits 22", field("cluster_bits", 22)),
    ("cluster bits 0xffffffff", field("cluster_bits", 0xFFFFFFFF)),
    ("AES encryption", field("crypt", 1)),
    ("LUKS encryption", field("crypt", 2)),
    ("header length 100", field("header_length", 100)),
    ("header length not a multiple of 8", field("header_length", 108)),
    ("header length beyond the cluster", field("header_length", 0x20000)),
    ("unknown incompatible feature", field("incompat", 1 << 20)),
    ("external data file feature", field("incompat", 1 << 2)),
    ("extended L2 entries", field("incompat", 1 << 4)),
    ("compression type 2", lambda d: (lambda i: (i.hdr.update(
        incompat=8, compression_type=2), i.bytes())[1])(Image())),
    ("compression bit without type", field("incompat", 1 << 3)),
    ("compression type without bit", field("compression_type", 1)),
    ("refcount order 7", field("refcount_order", 7)),
    ("refcount order overflow", field("refcount_order", 0xFFFFFFFF)),
    ("L1 too small for the disk", field("l1_size", 0)),
    ("huge L1 table", field("l1_size", 0x10000000)),
    ("L1 offset unaligned", field("l1_offset", 3 * CS + 1)),
    ("L1 at offset 0 (header)", field("l1_offset", 0)),
    ("L1 beyond the end of the file", field("l1_offset", 1 << 40)),
    ("L1 overlaps the refcount table", field("l1_offset", CS)),
    ("huge virtual size", field("size", 1 << 63)),
    ("refcount table unaligned", field("rt_offset", CS + 8)),
    ("refcount table at offset 0", field("rt_offset", 0)),
    ("refcount table beyond the end", field("rt_offset", 1 << 45)),
    ("refcount table of 0 clusters", field("rt_clusters", 0)),
    ("refcount table size overflow", field("rt_clusters", 0xFFFFFFFF)),
    ("refcount table entry reserved bits", poke(CS, be64(2 * CS | 0x10))),
    ("refcount table entry unaligned", poke(CS, be64(2 * CS + 4096))),
    ("refcount block beyond the end", poke(CS, be64(1 << 40))),
    ("refcount block overlaps the L1", poke(CS, be64(3 * CS))),
    ("two refcount blocks in one cluster", poke(CS + 8, be64(2 * CS))),
    ("L1 entry reserved bits", poke(3 * CS, be64(4 * CS | 1 << 60))),
    ("L1 entry unaligned", poke(3 * CS, be64(4 * CS + 512))),
    ("L1 entry beyond the end", poke(3 * CS, be64(1 << 40))),
    ("L2 table overlaps a refcount block", poke(3 * CS, be64(2 * CS))),
    ("L1 entry with flags only", poke(3 * CS, be64(1 << 63))),
    ("two L1 entries share an L2 table", shared_l2),
    ("too many snapshots", field("nb_snapshots", 100000)),
    ("snapshot table at offset 0", lambda d: (lambda i: (i.hdr.update(
        snap_offset=0), i.bytes())[1])(Image(snapshot=True))),
    ("snapshot table beyond the end", lambda d: (lambda i: (i.hdr.update(
        snap_offset=1 << 40), i.bytes())[1])(Image(snapshot=True))),
    ("snapshot table unaligned", lambda d: (lambda i: (i.hdr.update(
        snap_offset=6 * CS + 8), i.bytes())[1])(Image(snapshot=True))),
    ("snapshot extra data too large", snap_entry(36, struct.pack(">I", 1 << 30))),
    ("snapshot L1 unaligned", snap_entry(0, be64(7 * CS + 8))),
    ("snapshot L1 too large", snap_entry(8, struct.pack(">I", 0x10000000))),
    ("snapshot L1 overlaps the active L1", snap_entry(0, be64(3 * CS))),
    ("backing name too long", lambda d: (lambda i: (i.hdr.update(
        backing_offset=512, backing_size=2000), i.bytes())[1])(Image())),
    ("backing name outside the header cluster", lambda d: (lambda i: (
        i.hdr.update(backing_offset=CS - 4, backing_size=100),
        i.bytes())[1])(Image())),
    ("backing file missing", backing("does-not-exist.qcow2")),
    ("backing file without format", lambda d: Image(backing="x.raw").bytes()),
    ("self-backing", backing("bad.qcow2")),
    ("backing loop a -> b -> a", loop_pair),
    ("backing format unknown", backing("x.raw", "vmdk")),
    ("backing format extension too long", ext(0xE2792ACA, b"q" * 40)),
    ("header extension past the cluster", bad_ext_len),
    ("crypto header extension", ext(0x0537BE77, bytes(16))),
    ("external data file extension", ext(0x44415441, b"data.raw")),
    ("truncated to 50 bytes", cut(50)),
    ("truncated inside the v3 header", cut(100)),
    ("truncated before the L1 table", cut(3 * CS + 100)),
    ("empty file", cut(0)),
    ("corrupt bit (read-write open)", field("incompat", 1 << 1)),
]
RO_OK = {"corrupt bit (read-write open)"}


def main():
    kvm = KVM_BIN and os.access("/dev/kvm", os.R_OK | os.W_OK)
    if KVM_BIN and not kvm:
        print("note: no /dev/kvm, the emulator half is skipped")
    failures = []
    with tempfile.TemporaryDirectory(prefix="kestrel-corrupt-") as d:
        with open(os.path.join(d, "x.raw"), "wb") as f:
            f.truncate(SIZE)
        bad = os.path.join(d, "bad.qcow2")
        # The generator itself must make a valid image.
        with open(bad, "wb") as f:
            f.write(Image(snapshot=True).bytes())
        r = subprocess.run([KIMG, "check", bad], capture_output=True,
                           text=True)
        if r.returncode != 0:
            print("FAIL the base image is not valid:\n" + r.stdout + r.stderr)
            sys.exit(1)
        for name, make in CASES:
            with open(bad, "wb") as f:
                f.write(make(d))
            problems = []
            cmds = [("convert", [KIMG, "convert", "-f", "qcow2", "-O", "raw",
                                 bad, os.path.join(d, "out.raw")], 1),
                    ("check", [KIMG, "check", "-f", "qcow2", bad], None)]
            if kvm:
                cmds.append(("emulator", [KVM_BIN, "-nodefaults", "-display",
                                          "none", "-drive",
                                          "file=%s,format=qcow2" % bad], 1))
            for what, cmd, want in cmds:
                if what == "convert" and name in RO_OK:
                    want = 0
                try:
                    r = subprocess.run(cmd, capture_output=True, text=True,
                                       timeout=20)
                except subprocess.TimeoutExpired:
                    problems.append("%s hangs" % what)
                    continue
                lines = r.stderr.strip().splitlines()
                if r.returncode < 0 or r.returncode > 3:
                    problems.append("%s died (status %d): %s" %
                                    (what, r.returncode, r.stderr[-300:]))
                elif want is not None and r.returncode != want:
                    problems.append("%s exit %d, want %d: %s" %
                                    (what, r.returncode, want, r.stderr))
                elif want == 1 and len(lines) != 1:
                    problems.append("%s: %d lines on stderr:\n%s" %
                                    (what, len(lines), r.stderr))
                elif what == "emulator":
                    shown = lines[0]
            if problems:
                failures.append(name)
                print("FAIL %s: %s" % (name, "; ".join(problems)))
            else:
                print("ok   %-42s %s" % (name, shown if kvm else ""))
    print("%d cases, %d failed" % (len(CASES), len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
