#!/usr/bin/env python3
"""virtio-scsi end to end: SeaBIOS (Debian's, with its virtio-scsi driver)
boots from a scsi-cd or scsi-hd behind virtio-scsi-pci.  The boot code
prints a line on port 0x402 and exits through isa-debug-exit.

usage: test_virtio_scsi_boot.py KESTREL CASE

CASE is one of
  boot-cdrom  an El Torito (no emulation) ISO on scsi-cd, a -blockdev node,
              as QEMU's cdrom-test boots it
  boot-disk   a raw disk on scsi-hd at target 3, LUN 1, next to an empty
              scsi-cd: SeaBIOS scans every target, REPORT LUNS finds the
              disk, INQUIRY/READ CAPACITY/READ(10) boot it

The images come from test_ide_boot.py's writers.  Exit 0 on success, 77
(skip) without /dev/kvm.
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_ide_boot import boot, write_disk, write_iso  # noqa: E402


def case_boot_cdrom(a, tmp):
    iso = os.path.join(tmp, "boot.iso")
    msg = "kestrel virtio-scsi boot: El Torito CD-ROM"
    write_iso(iso, msg)
    boot(a, tmp, ["-device", "virtio-scsi", "-device", "scsi-cd,drive=cdr",
                  "-blockdev", f"file,node-name=cdr,filename={iso}"],
         msg, "Booting from DVD/CD")


def case_boot_disk(a, tmp):
    disk = os.path.join(tmp, "boot.raw")
    msg = "kestrel virtio-scsi boot: scsi-hd"
    write_disk(disk, msg)
    boot(a, tmp, ["-device", "virtio-scsi-pci,id=vs",
                  "-drive", f"if=none,id=hd,format=raw,file={disk}",
                  "-device", "scsi-cd,bus=vs.0,scsi-id=0",
                  "-device", "scsi-hd,drive=hd,bus=vs.0,scsi-id=3,lun=1"],
         msg, "Booting from Hard Disk")


CASES = {
    "boot-cdrom": case_boot_cdrom,
    "boot-disk": case_boot_disk,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kestrel")
    ap.add_argument("case", choices=sorted(CASES))
    a = ap.parse_args()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: no /dev/kvm")
        return 77
    with tempfile.TemporaryDirectory(prefix="kestrel-vscsi-") as tmp:
        CASES[a.case](a, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
