#!/usr/bin/env python3
"""IDE end to end: SeaBIOS boots from IDE disks and the ATAPI CD-ROM, a
project-built guest moves data by PIO and DMA, and the monitor changes CDs
under a guest that watches for it.

usage: test_ide_boot.py KESTREL CASE [--img KESTREL_IMG] [--guest ELF]

CASE is one of
  boot-raw       a raw disk whose boot sector prints a line and exits
  boot-qcow2     the same boot sector in a raw file under a qcow2 overlay,
                 and in a qcow2 file under a second qcow2 overlay
  boot-cdrom     an El Torito (no emulation) ISO 9660 image on -cdrom
  guest-pio-dma  testguest ide-pio-dma on a raw disk; the host then checks
                 the sectors it wrote
  cd-change      testguest ide-cd-change; QMP eject, QMP
                 blockdev-change-medium and HMP change swap the disc

Images are made here with the standard library (and kestrel-img, or
qemu-img when kestrel-img is not built, for qcow2).  Exit 0 on success,
77 (skip) without /dev/kvm.
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMP, QMPError, OutputReader  # noqa: E402

DEBUGCON = ["-global", "isa-debugcon.iobase=0x402"]
EXIT_DEV = ["-device", "isa-debug-exit,iobase=0xf4,iosize=4"]


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


# ---- a boot sector: print msg on port 0x402, then isa-debug-exit 0 ----

def boot_code(msg):
    code = bytearray([
        0xFA,                   # cli
        0x31, 0xC0,             # xor ax, ax
        0x8E, 0xD8,             # mov ds, ax
        0xFC,                   # cld
        0xBE, 0, 0,             # mov si, msg        (patched below)
        0xBA, 0x02, 0x04,       # mov dx, 0x402
        0xAC,                   # 1: lodsb
        0x84, 0xC0,             # test al, al
        0x74, 0x03,             # jz 2f
        0xEE,                   # out dx, al
        0xEB, 0xF8,             # jmp 1b
        0xBA, 0xF4, 0x00,       # 2: mov dx, 0xf4
        0xB0, 0x00,             # mov al, 0
        0xEE,                   # out dx, al         (exit status 1)
        0xF4,                   # 3: hlt
        0xEB, 0xFD,             # jmp 3b
    ])
    struct.pack_into("<H", code, 7, 0x7C00 + len(code))
    code += msg.encode() + b"\n\0"
    sector = code.ljust(510, b"\0") + b"\x55\xAA"
    assert len(sector) == 512
    return sector


def write_disk(path, msg, size=1 << 20):
    with open(path, "wb") as f:
        f.write(boot_code(msg))
        f.truncate(size)


# ---- ISO 9660 with an El Torito boot catalog ----

def both16(v):
    return struct.pack("<H", v) + struct.pack(">H", v)


def both32(v):
    return struct.pack("<I", v) + struct.pack(">I", v)


def dir_record(extent, size, ident):
    rec = bytearray(34)
    rec[0] = 34
    rec[2:10] = both32(extent)
    rec[10:18] = both32(size)
    rec[18:25] = bytes([124, 1, 1, 0, 0, 0, 0])   # 2024-01-01 00:00:00
    rec[25] = 0x02                                # directory
    rec[28:32] = both16(1)
    rec[32] = 1
    rec[33] = ident
    return bytes(rec)


def write_iso(path, msg):
    SECTOR = 2048
    PVD, BOOT_VD, TERM, CATALOG, ROOT, L_PATH, M_PATH, IMAGE = range(16, 24)
    total = 24
    img = bytearray(total * SECTOR)

    def put(lba, data):
        img[lba * SECTOR:lba * SECTOR + len(data)] = data

    date = b"2024010100000000\0"
    pvd = bytearray(SECTOR)
    pvd[0:7] = b"\x01CD001\x01"
    pvd[8:40] = b"KESTREL".ljust(32)
    pvd[40:72] = b"KESTREL_IDE_BOOT".ljust(32)
    pvd[80:88] = both32(total)
    pvd[120:124] = both16(1)
    pvd[124:128] = both16(1)
    pvd[128:132] = both16(SECTOR)
    pvd[132:140] = both32(10)
    pvd[140:144] = struct.pack("<I", L_PATH)
    pvd[148:152] = struct.pack(">I", M_PATH)
    pvd[156:190] = dir_record(ROOT, SECTOR, 0)
    for start, length in ((190, 128), (318, 128), (446, 128), (574, 128),
                          (702, 37), (739, 37), (776, 37)):
        pvd[start:start + length] = b" " * length
    pvd[813:830] = date
    pvd[830:847] = date
    pvd[847:864] = b"0" * 16 + b"\0"
    pvd[864:881] = date
    pvd[881] = 1
    put(PVD, pvd)

    boot = bytearray(SECTOR)
    boot[0:7] = b"\x00CD001\x01"
    boot[7:39] = b"EL TORITO SPECIFICATION".ljust(32, b"\0")
    boot[0x47:0x4B] = struct.pack("<I", CATALOG)
    put(BOOT_VD, boot)
    put(TERM, b"\xffCD001\x01")

    cat = bytearray(64)
    cat[0] = 1                                    # validation entry, x86
    cat[4:28] = b"KESTREL".ljust(24, b"\0")
    cat[30:32] = b"\x55\xAA"
    words = struct.unpack("<16H", bytes(cat[0:32]))
    cat[28:30] = struct.pack("<H", (-sum(words)) & 0xFFFF)
    cat[32] = 0x88                                # bootable
    cat[33] = 0                                   # no emulation
    cat[38:40] = struct.pack("<H", 4)             # 4 x 512 bytes
    cat[40:44] = struct.pack("<I", IMAGE)
    put(CATALOG, cat)

    put(ROOT, dir_record(ROOT, SECTOR, 0) + dir_record(ROOT, SECTOR, 1))
    put(L_PATH, bytes([1, 0]) + struct.pack("<IH", ROOT, 1) + b"\0\0")
    put(M_PATH, bytes([1, 0]) + struct.pack(">IH", ROOT, 1) + b"\0\0")
    put(IMAGE, boot_code(msg))
    with open(path, "wb") as f:
        f.write(img)


# ---- running kestrel ----

def run(kestrel, args, timeout=60):
    """Run to exit; returns (status, stdout+stderr)."""
    p = subprocess.run([kestrel] + args, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace")


def boot(a, tmp, drive_args, msg, seabios_line):
    log = os.path.join(tmp, "debugcon.log")
    args = ["-nodefaults", "-display", "none", "-m", "128",
            "-debugcon", "file:" + log] + DEBUGCON + EXIT_DEV + drive_args
    started = time.monotonic()
    status, out = run(a.kestrel, args)
    took = time.monotonic() - started
    text = open(log, errors="replace").read() if os.path.exists(log) else ""
    for want in (seabios_line, msg):
        if want not in text:
            fail(f"no {want!r} on the debug console (status {status}); "
                 f"log tail: {text[-600:]!r}; output: {out[-300:]!r}")
    if status != 1:
        fail(f"exit status {status}, expected 1 (isa-debug-exit 0): {out}")
    print(f"ok: {msg} ({took:.1f} s)")


def img_tool(a):
    if a.img and os.path.exists(a.img):
        return a.img
    q = shutil.which("qemu-img")
    if not q:
        print("SKIP: neither kestrel-img nor qemu-img")
        sys.exit(77)
    return q


def case_boot_raw(a, tmp):
    disk = os.path.join(tmp, "boot.raw")
    write_disk(disk, "kestrel ide boot: raw disk")
    boot(a, tmp, ["-drive", f"file={disk},format=raw,if=ide,index=0"],
         "kestrel ide boot: raw disk", "Booting from Hard Disk")


def case_boot_qcow2(a, tmp):
    tool = img_tool(a)
    base = os.path.join(tmp, "base.raw")
    write_disk(base, "kestrel ide boot: qcow2 over raw")
    top = os.path.join(tmp, "top.qcow2")
    subprocess.run([tool, "create", "-f", "qcow2", "-b", base, "-F", "raw",
                    top], check=True, stdout=subprocess.DEVNULL)
    boot(a, tmp, ["-drive", f"file={top},format=qcow2,if=ide,index=0"],
         "kestrel ide boot: qcow2 over raw", "Booting from Hard Disk")

    # qcow2 under qcow2; the overlay is written through by the boot.
    write_disk(base, "kestrel ide boot: qcow2 over qcow2")
    mid = os.path.join(tmp, "mid.qcow2")
    subprocess.run([tool, "convert", "-f", "raw", "-O", "qcow2", base, mid],
                   check=True, stdout=subprocess.DEVNULL)
    os.unlink(base)                     # the chain must not need it
    top2 = os.path.join(tmp, "top2.qcow2")
    subprocess.run([tool, "create", "-f", "qcow2", "-b", mid, "-F", "qcow2",
                    top2], check=True, stdout=subprocess.DEVNULL)
    # A second disk through -drive if=none and -device ide-hd.
    data = os.path.join(tmp, "data.raw")
    with open(data, "wb") as f:
        f.truncate(1 << 20)
    boot(a, tmp, ["-hda", top2, "-drive", f"if=none,id=data,format=raw,"
                  f"file={data}", "-device", "ide-hd,drive=data,bus=ide.1,"
                  "unit=1"],
         "kestrel ide boot: qcow2 over qcow2", "Booting from Hard Disk")


def case_boot_cdrom(a, tmp):
    iso = os.path.join(tmp, "boot.iso")
    write_iso(iso, "kestrel ide boot: El Torito CD-ROM")
    boot(a, tmp, ["-cdrom", iso], "kestrel ide boot: El Torito CD-ROM",
         "Booting from DVD/CD")


def pattern(lba, seed):
    return bytes((((lba * 7 + i * 3 + (i >> 8)) & 0xFF) ^ seed)
                 for i in range(512))


def case_guest_pio_dma(a, tmp):
    disk = os.path.join(tmp, "data.raw")
    with open(disk, "wb") as f:
        f.truncate(8 << 20)
    serial = os.path.join(tmp, "serial.log")
    status, out = run(a.kestrel, [
        "-nodefaults", "-display", "none", "-serial", "file:" + serial,
        "-drive", f"file={disk},format=raw,if=ide,index=0",
        "-kernel", a.guest, "-append", "ide-pio-dma"] + EXIT_DEV)
    text = open(serial, errors="replace").read()
    print(text, end="")
    for want in ("ide: model 'QEMU HARDDISK' sectors 16384 lba48 1 dma 1",
                 "ide: pio write, dma read: 16 sectors ok",
                 "ide: dma write, pio read: 16 sectors ok",
                 "ide: out of range: status 0x51 error 0x10",
                 "ide: flush ok", "PASS ide-pio-dma"):
        if want not in text:
            fail(f"no {want!r} in the guest output")
    if status != 1:
        fail(f"exit status {status}: {out}")
    # What the guest wrote by PIO (LBA 100) and DMA (LBA 200) is in the file.
    with open(disk, "rb") as f:
        for lba, seed in [(100 + i, 0x5A) for i in range(16)] + \
                         [(200 + i, 0xA5) for i in range(16)]:
            f.seek(lba * 512)
            if f.read(512) != pattern(lba, seed):
                fail(f"sector {lba} of the image is not what the guest wrote")
        f.seek(0)
        if f.read(512) != bytes(512):
            fail("sector 0 changed")
    print("ok: the image holds the guest's 32 sectors")


def write_disc(path, label):
    with open(path, "wb") as f:
        f.write(label.encode().ljust(2048, b"\0") * 16)


def case_cd_change(a, tmp):
    discs = [os.path.join(tmp, f"disc{i}.iso") for i in (1, 2, 3)]
    for path, label in zip(discs, ("DISC-ONE", "DISC-TWO", "DISC-THREE")):
        write_disc(path, label)
    sock = os.path.join(tmp, "qmp.sock")
    p = subprocess.Popen([a.kestrel, "-nodefaults", "-display", "none",
                          "-serial", "stdio", "-qmp",
                          f"unix:{sock},server,nowait", "-cdrom", discs[0],
                          "-kernel", a.guest, "-append", "ide-cd-change"]
                         + EXIT_DEV, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = OutputReader(p.stdout)
    try:
        qmp = QMP.unix(sock)
        out.wait_for(r"^cd: medium 'DISC-ONE'")
        out.wait_for(r"^cd: waiting for medium changes")

        # Wrong names and a disk-less name are refused.
        for args, cls in (({"device": "nosuch"}, "DeviceNotFound"),
                          ({}, "GenericError"),
                          ({"device": "ide1-cd0", "id": "x"}, "GenericError")):
            r = qmp.command("eject", args)
            if r.get("error", {}).get("class") != cls:
                fail(f"eject {args}: {r}, expected {cls}")

        qmp.execute("eject", device="ide1-cd0")
        ev = qmp.wait_event("DEVICE_TRAY_MOVED")
        if ev["data"] != {"device": "ide1-cd0", "id": "", "tray-open": True}:
            fail(f"tray event {ev}")
        out.wait_for(r"^cd: no medium \(sense 2/3a/02\)")

        qmp.execute("blockdev-change-medium", device="ide1-cd0",
                    filename=discs[1], format="raw")
        ev = qmp.wait_event("DEVICE_TRAY_MOVED")
        if ev["data"]["tray-open"]:
            fail(f"tray event after the change: {ev}")
        out.wait_for(r"^cd: unit attention \(sense 6/28/00\)")
        out.wait_for(r"^cd: medium 'DISC-TWO'")

        r = qmp.execute("human-monitor-command",
                        **{"command-line": f"change ide1-cd0 {discs[2]} raw"})
        if r:
            fail(f"HMP change printed {r!r}")
        out.wait_for(r"^cd: medium 'DISC-THREE'", start=0)
        out.wait_for(r"^PASS ide-cd-change")
        status = p.wait(timeout=20)
        if status != 1:
            fail(f"exit status {status}")
    except (TimeoutError, QMPError, EOFError) as e:
        fail(f"{e}\n--- output ---\n{out.text()}")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    print(out.text(), end="")
    print("ok: eject, blockdev-change-medium and change seen by the guest")


CASES = {
    "boot-raw": case_boot_raw,
    "boot-qcow2": case_boot_qcow2,
    "boot-cdrom": case_boot_cdrom,
    "guest-pio-dma": case_guest_pio_dma,
    "cd-change": case_cd_change,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kestrel")
    ap.add_argument("case", choices=sorted(CASES))
    ap.add_argument("--img", help="kestrel-img")
    ap.add_argument("--guest", help="testguest.elf")
    a = ap.parse_args()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: no /dev/kvm")
        return 77
    with tempfile.TemporaryDirectory(prefix="kestrel-ide-") as tmp:
        CASES[a.case](a, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
