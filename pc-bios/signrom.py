#!/usr/bin/env python3
"""Turn a raw option ROM image into one the BIOS accepts.

The image is padded to a multiple of 512 bytes (keeping the last byte
free), byte 2 gets the size in 512-byte blocks and the last byte makes
all bytes sum to zero (mod 256).  Usage: signrom.py IN.raw OUT.bin
"""
import sys


def sign(data: bytes) -> bytes:
    if len(data) < 3 or data[0] != 0x55 or data[1] != 0xAA:
        raise ValueError("no 0x55 0xAA option ROM signature")
    size = (len(data) + 1 + 511) // 512 * 512
    if size > 255 * 512:
        raise ValueError("option ROM too large (%d bytes)" % len(data))
    rom = bytearray(data) + bytes(size - len(data))
    rom[2] = size // 512
    rom[-1] = (-sum(rom[:-1])) & 0xFF
    return bytes(rom)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    try:
        rom = sign(data)
    except ValueError as e:
        print("%s: %s" % (sys.argv[1], e), file=sys.stderr)
        return 1
    with open(sys.argv[2], "wb") as f:
        f.write(rom)
    return 0


if __name__ == "__main__":
    sys.exit(main())
