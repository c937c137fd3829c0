/*
 * The e820 memory map the board describes to firmware (fw_cfg "etc/e820")
 * and to directly booted kernels (boot_params, multiboot mmap, PVH memmap).
 * Entries stay in the order added; 128 is what boot_params can carry.
 */
#include "hw/i386/x86.h"

#define E820_MAX_ENTRIES 128

static E820Entry e820_table[E820_MAX_ENTRIES];
static unsigned e820_count;

void e820_add_entry(uint64_t addr, uint64_t size, uint32_t type)
{
    if (!size) {
        return;
    }
    if (e820_count == E820_MAX_ENTRIES) {
        error_report("e820: table full, dropping 0x%" PRIx64 "+0x%" PRIx64,
                     addr, size);
        return;
    }
    e820_table[e820_count++] = (E820Entry) {
        .addr = addr, .size = size, .type = type,
    };
}

const E820Entry *e820_get_table(unsigned *count)
{
    *count = e820_count;
    return e820_table;
}
