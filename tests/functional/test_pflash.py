#!/usr/bin/env python3
"""pflash under KVM: testguest `pflash` programs and erases unit 0.

usage: test_pflash.py KESTREL TESTGUEST
The guest (tests/guest/pflash.c) reads the chip's identifier and status
through MMIO exits and its array through the read-only memslot, programs
a byte and erases a block; the image file must then hold exactly those
changes.  A second run with readonly=on must leave the file alone.
Skips (77) without /dev/kvm.
"""
import os
import subprocess
import sys
import tempfile

SIZE = 128 * 1024


def pattern(i):
    return ((i * 7 + (i >> 8)) & 0xff) ^ 0xa5


def run(kestrel, guest, image, tmp, extra=""):
    serial = os.path.join(tmp, "serial.log")
    cmd = [kestrel, "-nodefaults", "-display", "none", "-m", "64",
           "-serial", f"file:{serial}",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
           "-drive", f"if=pflash,format=raw,file={image}{extra}",
           "-kernel", guest, "-append", "pflash"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    with open(serial) as f:
        out = f.read()
    return p.returncode, out, p.stderr


def main():
    kestrel, guest = sys.argv[1], sys.argv[2]
    if not os.access("/dev/kvm", os.W_OK):
        print("1..0 # SKIP no /dev/kvm")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, "flash.bin")
        orig = bytes(pattern(i) for i in range(SIZE))
        with open(image, "wb") as f:
            f.write(orig)

        status, out, err = run(kestrel, guest, image, tmp)
        if status != 1 or "PASS pflash" not in out:
            print(f"not ok 1 - guest: status {status}\n{out}{err}")
            return 1
        with open(image, "rb") as f:
            data = f.read()
        want = bytearray(orig)
        want[0x100] &= 0x5a
        want[0x1000:0x2000] = b"\xff" * 0x1000
        if data != bytes(want):
            diff = [i for i in range(SIZE) if data[i] != want[i]]
            print(f"not ok 1 - image differs at {len(diff)} offsets, first "
                  f"0x{diff[0]:x}")
            return 1
        print("ok 1 - program and erase reach the image")

        # readonly=on: the guest sees its program fail, the file stays.
        status, out, err = run(kestrel, guest, image, tmp, ",readonly=on")
        with open(image, "rb") as f:
            after = f.read()
        if ("FAIL pflash: program status: 0x92" not in out or
                after != bytes(want)):
            print(f"not ok 2 - readonly: status {status}\n{out}{err}")
            return 1
        print("ok 2 - readonly=on fails the program, image unchanged")
    print("1..2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
