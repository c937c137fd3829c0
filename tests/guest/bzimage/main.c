/*
 * 32-bit part of bzimage-test: report what the boot loader passed in
 * boot_params (the "zero page"), then exit through isa-debug-exit.
 */
#include "guest.h"

/* Offsets in struct boot_params (Linux x86 boot protocol). */
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_E820_ENTRIES      0x1e8
#define BP_TYPE_OF_LOADER    0x210
#define BP_RAMDISK_IMAGE     0x218
#define BP_RAMDISK_SIZE      0x21c
#define BP_CMD_LINE_PTR      0x228
#define BP_E820_TABLE        0x2d0

struct e820_entry { uint64_t addr, size; uint32_t type; } __attribute__((packed));

static uint32_t rd32(const uint8_t *bp, unsigned off)
{
    return *(const uint32_t *)(bp + off);
}

void bz_main(const uint8_t *bp);
void bz_main(const uint8_t *bp)
{
    serial_init();

    /* High halves (ext_*) must be 0: we only run below 4 GiB. */
    const char *cmdline = (const char *)rd32(bp, BP_CMD_LINE_PTR);
    uint32_t rd_addr = rd32(bp, BP_RAMDISK_IMAGE);
    uint32_t rd_size = rd32(bp, BP_RAMDISK_SIZE);
    if (rd32(bp, BP_EXT_CMD_LINE_PTR) || rd32(bp, BP_EXT_RAMDISK_IMAGE) ||
        rd32(bp, BP_EXT_RAMDISK_SIZE))
        fail("bzimage", "pointer above 4 GiB in boot_params");

    kprintf("bzimage: cmdline=%s\n", cmdline ? cmdline : "");

    uint32_t sum = 0;
    const uint8_t *p = (const uint8_t *)rd_addr;
    for (uint32_t i = 0; i < rd_size; i++)
        sum += p[i];
    kprintf("bzimage: initrd addr=0x%x size=%u sum=0x%08x\n", rd_addr,
            rd_size, sum);

    unsigned n = bp[BP_E820_ENTRIES];
    const struct e820_entry *e = (const struct e820_entry *)(bp + BP_E820_TABLE);
    uint64_t ram = 0;
    if (n > 128)
        fail("bzimage", "e820_entries=%u is more than 128", n);
    for (unsigned i = 0; i < n; i++)
        if (e[i].type == 1)
            ram += e[i].size;
    kprintf("bzimage: e820 entries=%u ram=%uM\n", n, (uint32_t)(ram >> 20));
    kprintf("bzimage: loader type=0x%02x\n", bp[BP_TYPE_OF_LOADER]);
    if (!n)
        fail("bzimage", "empty e820 map");
    pass("bzimage");
}
