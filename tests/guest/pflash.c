/*
 * pflash: the cfi.pflash01 chip of a 128 KiB pflash unit 0 (at 0xfffe0000)
 * from a KVM guest: array reads come from the read-only memslot, commands
 * exit, other modes read through exits until 0xff restores the slot.  A
 * byte program at 0x100 and an erase of block 1 (0x1000-0x1fff); the host
 * (tests/functional/test_pflash.py) then checks the image file.
 */
#include "guest.h"

#define FLASH ((volatile uint8_t *)0xfffe0000)

static void expect(uint32_t off, uint8_t want, const char *what)
{
    uint8_t v = FLASH[off];

    if (v != want)
        fail("pflash", "%s: 0x%x at 0x%x, want 0x%x", what, v, off, want);
}

void test_pflash(void)
{
    volatile uint8_t *f = FLASH;
    uint8_t first = f[0], byte = f[0x100];

    f[0] = 0x90;
    expect(0, 0x89, "manufacturer");
    expect(1, 0x18, "device id");
    f[0] = 0xff;
    expect(0, first, "read array");
    f[0] = 0x50;
    f[0] = 0x70;
    expect(0, 0x00, "cleared status");

    f[0x100] = 0x40;
    f[0x100] = 0x5a;
    expect(0x100, 0x80, "program status");
    f[0] = 0xff;
    expect(0x100, byte & 0x5a, "programmed byte");

    f[0x1000] = 0x20;
    f[0x1000] = 0xd0;
    expect(0x1000, 0x80, "erase status");
    f[0] = 0xff;
    for (uint32_t i = 0x1000; i < 0x2000; i++)
        expect(i, 0xff, "erased block");
    expect(0x2000, f[0x2000], "next block");
    kprintf("pflash: id 89/18, program and erase ok\n");
    pass("pflash");
}
