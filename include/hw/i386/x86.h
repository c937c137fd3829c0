/* x86 board-level boot state shared by the loaders and the vCPU reset code. */
#ifndef HW_I386_X86_H
#define HW_I386_X86_H

#include "util/osdep.h"

/*
 * Direct boot without firmware: the BSP starts in flat 32-bit protected mode
 * (paging off, CS/DS base 0 limit 4G, using a GDT the loader put in RAM)
 * at eip with these registers, instead of at the reset vector.
 */
typedef struct X86BootEntry {
    bool enabled;
    uint32_t eip;
    uint32_t eax, ebx, ecx, edx, esi, edi, esp, ebp;
    uint32_t gdt_base;
    uint16_t gdt_limit;
    uint16_t cs_selector;     /* 0x10 for Linux, 0x08 for multiboot/PVH */
    uint16_t ds_selector;     /* 0x18 for Linux, 0x10 for multiboot/PVH */
} X86BootEntry;

extern X86BootEntry x86_boot_entry;

/* e820 table the board builds; fw_cfg exports it as etc/e820. */
#define E820_RAM      1
#define E820_RESERVED 2
typedef struct __attribute__((packed)) E820Entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} E820Entry;
void e820_add_entry(uint64_t addr, uint64_t size, uint32_t type);
/* The table (sorted as added); *count receives the number of entries. */
const E820Entry *e820_get_table(unsigned *count);

#endif
