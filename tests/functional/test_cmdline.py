#!/usr/bin/env python3
"""Malformed command lines: each must print one error line and exit 1.

usage: test_cmdline.py KESTREL
No core dump, no hang, nothing on stdout, the message names what is wrong.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

TMP = tempfile.mkdtemp(prefix="kestrel-cmdline-")
NOT_A_KERNEL = os.path.join(TMP, "not-a-kernel")
with open(NOT_A_KERNEL, "w") as f:
    f.write("this is plain text, not a kernel\n" * 100)
SHORT_BIOS = os.path.join(TMP, "short.bin")
with open(SHORT_BIOS, "wb") as f:
    f.write(b"\x90" * 1000)
# pflash images: 64 KiB is fine, 6 MiB twice is more than the 8 MiB limit.
FLASH = os.path.join(TMP, "flash.bin")
BIG_FLASH = os.path.join(TMP, "big-flash.bin")
for path, size in ((FLASH, 65536), (BIG_FLASH, 6 << 20)):
    with open(path, "wb") as f:
        f.truncate(size)


def pflash(path, extra=""):
    return ["-drive", f"if=pflash,format=raw,file={path}{extra}"]


# (arguments, text the error line must contain)
CASES = [
    (["-foo"], "-foo: invalid option"),
    (["--bogus"], "--bogus: invalid option"),
    (["-m"], "-m: requires an argument"),
    (["-m", "abc"], "invalid RAM size"),
    (["-m", "0"], "too small"),
    (["-m", "-5"], "invalid RAM size"),
    (["-m", "1Q"], "invalid RAM size"),
    (["-m", "size="], "invalid RAM size"),
    (["-m", "128,foo=1"], "Invalid parameter 'foo'"),
    (["-m", "2T"], "too large"),
    (["-smp", "0"], "invalid cpus"),
    (["-smp", "abc"], "invalid cpus"),
    (["-smp", "1000"], "invalid cpus"),
    (["-smp", "cpus=2,bogus=1"], "Invalid parameter 'bogus'"),
    (["-smp", "cpus=4,sockets=1,cores=2"], "smaller than the CPU count"),
    (["-machine", "q35x"], "unsupported machine type 'q35x'"),
    (["-M", "pc,accel=tcg"], "only accel=kvm"),
    (["-machine", "pc,kernel-irqchip=maybe"], "kernel-irqchip=maybe"),
    (["-machine", "pc,foo=bar"], "Invalid parameter 'foo'"),
    (["-machine", "pc,direct-boot=maybe"], "direct-boot=maybe"),
    (["-machine", ""], "empty option string"),
    (["-accel", "hax"], "'hax' is not available"),
    (["-accel", "tcg"], "'tcg' is not available"),
    (["-machine", "none"], "only with the qtest accelerator"),
    (["-M", "none", "-accel", "qtest", "-device", "pc-testdev"],
     "machine 'none' has no bus"),
    (["-boot", "once=x"], "invalid boot device 'x'"),
    (["-boot", "order=cc"], "boot device 'c' was given twice"),
    (["-accel", "qtest", "-boot", "order=cdan"], "Too many boot devices"),
    (["-accel", "qtest", "-boot", "once=p"], "Invalid boot device for PC: 'p'"),
    (["-accel", "kvm,bogus=1"], "Invalid parameter 'bogus'"),
    (["-cpu", "pentium9"], "unable to find CPU model 'pentium9'"),
    (["-cpu", "host,+nosuchflag"], "has no property or flag 'nosuchflag'"),
    (["-cpu", "qemu64,avx=maybe"], "'avx' expects on or off"),
    (["-cpu", "qemu64,apic-id=-1"], "'apic-id' expects an integer"),
    (["-cpu", "qemu64,migratable=on"], "no property or flag 'migratable'"),
    (["-serial", "bogus:x"], "not a valid char driver"),
    (["-serial", "tcp:nohostport"], "expected HOST:PORT"),
    (["-chardev", "null"], "no id specified"),
    (["-chardev", "bogus,id=x"], "'bogus' is not a valid char driver name"),
    (["-chardev", "file,id=x"], "no filename given"),
    (["-chardev", "socket,id=x"], "'path' or 'port' is required"),
    (["-chardev", "null,id=a,colour=red"], "Invalid parameter 'colour'"),
    (["-chardev", "null,id=a", "-chardev", "null,id=a"], "duplicate"),
    (["-chardev", "stdio,id=a", "-chardev", "stdio,id=b"], "stdio"),
    (["-serial", "null"] * 5, "too many serial ports"),
    (["-device", "nonexistent"], "'nonexistent' is not a valid device model"),
    (["-device", "isa-serial,nonprop=1"], "'isa-serial.nonprop' not found"),
    (["-device", "isa-serial,iobase=zzz"], "doesn't take value 'zzz'"),
    (["-device", "isa-serial,chardev=nochardev"], "can't find value 'nochardev'"),
    (["-device", "isa-debug-exit,iobase=0x10000"], "out of range"),
    (["-device", ",,"], "valid device model name"),
    (["-global", "nodot"], "DRIVER.PROP=VALUE"),
    (["-global", "isa-serial.iobase"], "DRIVER.PROP=VALUE"),
    (["-global", "nodriver.x=1"], "unknown driver 'nodriver'"),
    (["-global", "isa-serial.nope=1"], "has no property 'nope'"),
    (["-global", "isa-serial.iobase=xyz"], "doesn't take value 'xyz'"),
    (["-display", "gtk"], "'gtk' is not available"),
    (["-initrd", "/dev/null"], "-initrd only allowed with -kernel"),
    (["-append", "console=ttyS0"], "-append only allowed with -kernel"),
    (["-L", "/nonexistent-dir"], "no such directory"),
    (["-name", "guest=x,bad=1"], "Invalid parameter 'bad'"),
    (["-pidfile", "/nonexistent-dir/pid"], "cannot create PID file"),
    (["-D", "/nonexistent-dir/log"], "-D /nonexistent-dir/log"),
    (["-serial", "file:/nonexistent-dir/x"], "Could not open"),
    # -blockdev (block/blockdev.c)
    (["-blockdev", "node-name=x"], "Parameter 'driver' is missing"),
    (["-blockdev", "driver=file,filename=" + NOT_A_KERNEL],
     "'node-name' must be specified for the root node"),
    (["-blockdev", "driver=nbd,node-name=x"],
     "'driver' does not accept value 'nbd'"),
    (["-blockdev", "driver=file,node-name=x"], "'filename' is missing"),
    (["-blockdev", "file,node-name=x"], "'filename' is missing"),
    (["-blockdev", "driver=file,node-name=9x,filename=f"],
     "Invalid node-name: '9x'"),
    (["-blockdev", "driver=file,node-name=x,filename=f,bogus=1"],
     "Parameter 'bogus' is unexpected"),
    (["-blockdev", "driver=file,node-name=x,filename=f,read-only=maybe"],
     "'read-only' expects 'on' or 'off'"),
    (["-blockdev", "driver=file,node-name=x,filename=f,cache.direct=on,"
      "cache.no-flush=on"], "cache.no-flush=on is not supported"),
    (["-blockdev", '{"driver":"file","node-name":"x"}'],
     "Parameter 'filename' is missing"),
    (["-blockdev", '{"driver":"file","node-name":"x","filename":1}'],
     "Invalid parameter type for 'filename', expected: string"),
    (["-blockdev", '{"driver":"file",'], "JSON parse error"),
    (["-blockdev", "driver=file,node-name=x,filename=f",
      "-blockdev", "driver=file,node-name=x,filename=f"],
     "Duplicate nodes with node-name='x'"),
    (["-blockdev", "driver=qcow2,node-name=q,file=nope"],
     "Cannot find device='nope' nor node-name='nope'"),
    (["-blockdev", "driver=raw,node-name=r"], "Parameter 'file' is missing"),
    (["-blockdev", "driver=raw,node-name=r,file.filename=f"],
     "'file.driver' is missing"),
    (["-blockdev", "driver=raw,node-name=r,file.driver=qcow2,"
      "file.file.driver=file,file.file.filename=f"],
     "a raw node cannot go on a qcow2 node"),
    (["-blockdev", "driver=blkdebug,node-name=b,image.driver=blkdebug,"
      "image.image.driver=null-co"], "a blkdebug node cannot go on a blkdebug"),
    (["-blockdev", "driver=null-co,node-name=n,size=-1"],
     "'size' expects a size in bytes"),
    (["-blockdev", "driver=null-co,node-name=n,read-zeroes=maybe"],
     "'read-zeroes' expects 'on' or 'off'"),
    (["-blockdev", "driver=raw,node-name=r,file.driver=file,"
      "file.filename=f,file.node-name=r"], "Duplicate nodes with node-name='r'"),
    (["-blockdev", "driver=file,node-name=f,filename=f,discard=maybe"],
     "'discard' does not accept value 'maybe'"),
    (["-drive", "if=none,file=f,discard=maybe"], "invalid discard option"),
    (["-drive", "if=none,file=f,file.read-zeroes=on"],
     "Block protocol 'file' doesn't support the option 'read-zeroes'"),
    (["-drive", "if=none,file=null-co://,file.size=1x"],
     "Parameter 'file.size' expects a size in bytes"),
    (["-drive", "if=none,file=null-co://,file.bogus=1"],
     "Block protocol 'null-co' doesn't support the option 'bogus'"),
    (["-drive", "if=none,file=blkdebug::null-co://,file.image.bogus=1"],
     "Block protocol 'null-co' doesn't support the option 'bogus'"),
    (["-drive", "if=none,file=blkdebug::null-co://,file.image.read-zeroes=2"],
     "'file.image.read-zeroes' expects 'on' or 'off'"),
    (["-drive", "if=none,file=blkdebug::null-co://,file.align=3"],
     "Cannot meet constraints with align 3"),
    (["-drive", "if=none,file=blkdebug::null-co://,file.align=2G"],
     "Cannot meet constraints with align 2147483648"),
    (["-drive", "if=none,file=blkdebug::null-co://,file.align=x"],
     "'file.align' expects a size in bytes"),
    (["-drive", "if=none,file=null-co://,file.align=4k"],
     "Block protocol 'null-co' doesn't support the option 'align'"),
    (["-drive", "if=none,file=blkdebug::null-co://,file.read-only=on"],
     "'file.read-only': kestrel takes it from file= or from the drive's"),
    (["-drive", "if=none,file=blkdebug::null-co://,file.image.driver=file"],
     "'file.image.driver': kestrel takes it from file="),
    (["-drive", "if=none,file=blkdebug:,file.align=4k"],
     "blkdebug requires both config file and image path"),
    (["-drive", "if=none,file.align=4k"], "file.* options need file="),
    (["-blockdev", "driver=blkdebug,node-name=b,align=1000,"
      "image.driver=null-co"], "Cannot meet constraints with align 1000"),
    (["-blockdev", "driver=null-co,node-name=n",
      "-blockdev", "driver=qcow2,node-name=q,backing=nope,"
      "file.driver=file,file.filename=f"],
     "Could not open backing file: Cannot find device='nope'"),
    (["-drive", "if=none,id=d,file=null-co://",
      "-blockdev", "driver=qcow2,node-name=q,backing=d,"
      "file.driver=file,file.filename=f"],
     "a -drive cannot be a backing node in kestrel"),
    (["-blockdev", "driver=raw,node-name=r,file.driver=null-co,"
      "file.node-name=n",
      "-blockdev", "driver=qcow2,node-name=q,backing=n,"
      "file.driver=file,file.filename=f"],
     "node 'n' is opened by node 'r' and has no image of its own"),
    (["-blockdev", "driver=qcow2,node-name=q,backing.driver=null-co,"
      "file.driver=file,file.filename=f"],
     "kestrel takes backing as an existing node's name or null"),
    (["-blockdev", "driver=raw,node-name=r,backing=,"
      "file.driver=file,file.filename=f"],
     "Parameter 'backing' is unexpected"),
    (["-blockdev", "driver=null-co,node-name=n",
      "-blockdev", "driver=qcow2,node-name=q,backing=n,"
      "file.driver=file,file.filename=f",
      "-blockdev", "driver=raw,node-name=r,file=n"],
     "node 'n' is the backing node of 'q'"),
    (["-drive", "if=none,id=d", "-blockdev", "null-co,node-name=d"],
     "node-name=d is conflicting with a device id"),
    (["-blockdev", "null-co,node-name=d", "-drive", "if=none,id=d"],
     "Device name 'd' conflicts with an existing node name"),
    (["-blockdev", "driver=file,node-name=f,filename=f,read-only=on",
      "-blockdev", "driver=raw,node-name=r,file=f"], "needs read-only=on"),
    (["-blockdev", "driver=file,node-name=f,filename=f",
      "-blockdev", "driver=raw,node-name=r,file=f",
      "-blockdev", "driver=qcow2,node-name=q,file=f"],
     "node 'f' is already in use by node 'r'"),
    (["-blockdev", "driver=raw,node-name=r,file.driver=file,file.filename=f",
      "-blockdev", "driver=raw,node-name=r2,file=r"],
     "a raw node cannot go on a raw node"),
    (["-accel", "qtest", "-blockdev", "driver=file,node-name=f,filename=" +
      NOT_A_KERNEL, "-blockdev", "driver=raw,node-name=r,file=f",
      "-device", "ide-hd,drive=f"], "Node 'f' is the file of node 'r'"),
    (["-accel", "qtest", "-blockdev", "driver=file,node-name=f,filename=" +
      "/nonexistent-img"], "-blockdev driver=file,node-name=f"),
    (["-accel", "qtest", "-blockdev", "driver=qcow2,node-name=q,"
      "file.driver=file,file.filename=" + NOT_A_KERNEL],
     "not in qcow2 format"),
    # These get past parsing and fail while the machine is built.
    (["-kernel", "/nonexistent-kernel"], "/nonexistent-kernel"),
    (["-kernel", NOT_A_KERNEL], NOT_A_KERNEL),
    (["-bios", "/nonexistent-bios.bin"], "could not load PC BIOS"),
    (["-bios", SHORT_BIOS], "could not load PC BIOS"),
    # pflash: parsed with the options, or refused while the board is built.
    (pflash(FLASH, ",unit=2"), "pflash units are 0 and 1"),
    (pflash(FLASH, ",bus=1"), "pflash has only bus 0"),
    (pflash(FLASH) * 3, "no free pflash unit"),
    (pflash(FLASH, ",unit=0") + pflash(FLASH, ",unit=0"),
     "pflash unit 0 exists"),
    (["-drive", "if=pflash,format=raw"], "a pflash drive needs file="),
    (["-accel", "qtest"] + pflash(SHORT_BIOS),
     "pflash size 1000 is not a non-zero multiple of 4096"),
    (["-accel", "qtest"] + pflash(FLASH, ",unit=1"),
     "pflash unit 1 requires unit 0"),
    (["-accel", "qtest"] + pflash(BIG_FLASH) +
     pflash(BIG_FLASH, ",readonly=on"), "exceed the 8 MiB below 4 GiB"),
    # Disk error actions and blkdebug: filenames.
    (["-drive", "file=" + FLASH + ",format=raw,rerror=enospc"],
     "'enospc' invalid read error action"),
    (["-drive", "file=" + FLASH + ",format=raw,werror=halt"],
     "'halt' invalid write error action"),
    (["-accel", "qtest", "-drive", "file=blkdebug:" + FLASH + ",format=raw"],
     "blkdebug requires both config file and image path"),
    (["-accel", "qtest", "-drive", "file=blkdebug:" + NOT_A_KERNEL + ":" +
      FLASH + ",format=raw"], ":1: expected key = \"value\""),
]


def run_case(kestrel, args, needle):
    cmd = [kestrel, "-nodefaults", "-display", "none"] + args
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=20)
    except subprocess.TimeoutExpired:
        return "hung (no exit within 20 s)"
    err = p.stderr.decode(errors="replace")
    lines = [l for l in err.splitlines() if l.strip()]
    if p.returncode < 0:
        return f"killed by signal {-p.returncode}"
    if p.returncode != 1:
        return f"exit status {p.returncode}, expected 1"
    if len(lines) != 1:
        return f"{len(lines)} error lines, expected 1: {lines!r}"
    if needle not in lines[0]:
        return f"error line {lines[0]!r} does not mention {needle!r}"
    if p.stdout:
        return f"unexpected stdout {p.stdout[:200]!r}"
    return None


def check_blockdev_qcow2(kestrel):
    img = os.path.join(os.path.dirname(kestrel), "kestrel-img")
    raw, qcow2 = os.path.join(TMP, "bd.raw"), os.path.join(TMP, "bd.qcow2")
    with open(raw, "wb") as f:
        f.write(bytes(range(256)) * 2 + bytes(1 << 20))
    subprocess.run([img, "convert", "-f", "raw", "-O", "qcow2", raw, qcow2],
                   check=True, capture_output=True)
    cmds = ["outb 0x1f6 0xe0", "outb 0x1f2 1", "outb 0x1f3 0",
            "outb 0x1f4 0", "outb 0x1f5 0", "outb 0x1f7 0x20"]
    p = subprocess.Popen(
        [kestrel, "-nodefaults", "-display", "none", "-machine",
         "accel=qtest", "-qtest", "stdio", "-qtest-log", "none",
         "-blockdev", "driver=file,node-name=f,filename=" + qcow2 +
         ",cache.direct=on",
         "-blockdev", "driver=qcow2,node-name=q,file=f",
         "-device", "ide-hd,drive=q,bus=ide.0,unit=0"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    def cmd(c):
        p.stdin.write(c + "\n")
        p.stdin.flush()
        return p.stdout.readline().split()

    try:
        for c in cmds:
            cmd(c)
        for _ in range(1000):           # the read completes in the main loop
            st = cmd("inb 0x3f6")[-1]
            if st != "0x00d0":
                break
            time.sleep(0.01)
        if st != "0x0058":
            return f"status {st} after READ SECTORS"
        words = [cmd("inw 0x1f0")[-1] for _ in range(256)]
    finally:
        p.terminate()
        _, err = p.communicate(timeout=20)
    data = b"".join(int(w, 16).to_bytes(2, "little") for w in words)
    if data != bytes(range(256)) * 2:
        return f"sector 0 reads {data[:16].hex()}..., stderr {err!r}"
    return None


def main():
    kestrel = sys.argv[1]
    passed = failed = 0
    for args, needle in CASES:
        if not os.access("/dev/kvm", os.W_OK) and args[0] in ("-kernel", "-bios"):
            continue
        err = run_case(kestrel, args, needle)
        if err:
            failed += 1
            print(f"not ok - {' '.join(args)}: {err}")
        else:
            passed += 1
            print(f"ok - {' '.join(args)}")
    # The well-formed informational options exit 0.
    for args in (["-version"], ["-help"], ["-machine", "help"],
                 ["-cpu", "help"], ["-device", "help"]):
        p = subprocess.run([kestrel] + args, capture_output=True, timeout=20)
        if p.returncode != 0 or not p.stdout:
            failed += 1
            print(f"not ok - {' '.join(args)}: status {p.returncode}")
        else:
            passed += 1
            print(f"ok - {' '.join(args)}")
    # -blockdev file + qcow2 nodes under ide-hd: the guest (qtest) reads
    # what kestrel-img put into the image.
    err = check_blockdev_qcow2(kestrel)
    if err:
        failed += 1
        print(f"not ok - -blockdev qcow2 on a file node: {err}")
    else:
        passed += 1
        print("ok - -blockdev qcow2 on a file node")
    # The monitor is a module beside the executable: a copy of the
    # executable without it runs a VM but refuses a monitor, clearly.
    with tempfile.TemporaryDirectory() as alone:
        copy = os.path.join(alone, os.path.basename(kestrel))
        shutil.copy(kestrel, copy)
        p = subprocess.run([copy, "-qmp", "stdio", "-machine", "accel=qtest",
                            "-display", "none"], capture_output=True,
                           text=True, timeout=20)
        if p.returncode == 1 and "cannot load the monitor module" in p.stderr:
            passed += 1
            print("ok - -qmp without kestrel-monitor.so")
        else:
            failed += 1
            print(f"not ok - -qmp without kestrel-monitor.so: status "
                  f"{p.returncode}, {p.stderr.strip()!r}")
    print(f"{len(CASES)} malformed cases; {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
