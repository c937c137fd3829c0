/*
 * PVH kernels: ELF files (vmlinux, test guests) with a "Xen" note of type
 * XEN_ELFNOTE_PHYS32_ENTRY giving a 32-bit physical entry point.  Segments
 * load at their physical addresses; the kernel starts in flat 32-bit mode
 * with EBX = hvm_start_info (Xen's arch-x86/hvm/start_info.h, version 1)
 * describing the command line, the -initrd module and the e820 map.
 */
#include "hw/i386/x86-boot.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC          0x336ec578

/* hvm_start_info, then the module list and memory map after it */
#define SI_MAGIC            0
#define SI_VERSION          4
#define SI_NR_MODULES       12
#define SI_MODLIST_PADDR    16
#define SI_CMDLINE_PADDR    24
#define SI_MEMMAP_PADDR     40
#define SI_MEMMAP_ENTRIES   48
#define SI_SIZE             56
#define MODLIST_OFFSET      64      /* one entry: paddr, size, cmdline, 0 */
#define MODLIST_ENTRY_SIZE  32
#define MEMMAP_OFFSET       (MODLIST_OFFSET + MODLIST_ENTRY_SIZE)
#define MEMMAP_ENTRY_SIZE   24      /* addr, size, type, reserved */

/* Walk the notes of every PT_NOTE segment for the PVH entry. */
static bool pvh_find_entry(X86BootImage *img, const X86Elf *elf,
                           uint64_t *entry, Error **errp)
{
    for (unsigned i = 0; i < elf->phnum; i++) {
        const X86ElfPhdr *p = &elf->phdrs[i];
        uint64_t pos, end;

        if (p->type != X86_PT_NOTE) {
            continue;
        }
        if (p->offset > elf->len || p->filesz > elf->len - p->offset) {
            error_setg(errp, "'%s': ELF note segment lies outside the file",
                       img->filename);
            return false;
        }
        pos = p->offset;
        end = p->offset + p->filesz;
        while (end - pos >= 12) {
            uint32_t namesz = ldl_le(elf->file + pos);
            uint32_t descsz = ldl_le(elf->file + pos + 4);
            uint32_t type = ldl_le(elf->file + pos + 8);
            uint64_t name = pos + 12;
            uint64_t desc = name + ALIGN_UP((uint64_t)namesz, 4);

            if (desc > end || ALIGN_UP((uint64_t)descsz, 4) > end - desc) {
                break;    /* malformed: stop at what parsed */
            }
            if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
                !memcmp(elf->file + name, "Xen", 4)) {
                if (descsz == 4) {
                    *entry = ldl_le(elf->file + desc);
                } else if (descsz == 8) {
                    *entry = ldq_le(elf->file + desc);
                } else {
                    error_setg(errp, "'%s': PVH entry note has a bad size "
                               "(%u)", img->filename, descsz);
                    return false;
                }
                return true;
            }
            pos = desc + ALIGN_UP((uint64_t)descsz, 4);
        }
    }
    error_setg(errp, "'%s' is an ELF file without a PVH entry note "
               "(XEN_ELFNOTE_PHYS32_ENTRY) or multiboot header",
               img->filename);
    return false;
}

static bool pvh_entry_is_loaded(const X86Elf *elf, uint64_t entry)
{
    for (unsigned i = 0; i < elf->phnum; i++) {
        const X86ElfPhdr *p = &elf->phdrs[i];

        if (p->type == X86_PT_LOAD && entry >= p->paddr &&
            entry - p->paddr < p->memsz) {
            return true;
        }
    }
    return false;
}

bool x86_load_pvh(X86BootImage *img, FWCfgState *fw_cfg,
                  const uint8_t *file, size_t len, Error **errp)
{
    MachineState *ms = img->ms;
    const char *cmdline = ms->kernel_cmdline ? ms->kernel_cmdline : "";
    size_t cmdline_len = strlen(cmdline) + 1;
    uint64_t entry, kernel_end, initrd_addr = 0;
    size_t initrd_size = 0, info_size;
    const E820Entry *e820;
    unsigned nr_e820;
    uint8_t *info;
    X86Elf elf;

    if (!x86_elf_parse(img, file, len, &elf, errp) ||
        !pvh_find_entry(img, &elf, &entry, errp)) {
        return false;
    }
    if (ms->firmware_boot) {
        error_setg(errp, "'%s': PVH kernels are only supported with direct "
                   "boot, not through the firmware", img->filename);
        return false;
    }
    if (!x86_elf_load(img, &elf, NULL, &kernel_end, errp)) {
        return false;
    }
    if (!pvh_entry_is_loaded(&elf, entry)) {
        error_setg(errp, "'%s': PVH entry point 0x%" PRIx64 " is not in a "
                   "loaded segment", img->filename, entry);
        return false;
    }

    if (ms->initrd_filename) {
        uint8_t *initrd = x86_boot_load_initrd(img, ms->initrd_filename,
                                               &initrd_size, errp);

        if (!initrd) {
            return false;
        }
        if (!x86_boot_find_top(img, initrd_size, kernel_end,
                               x86_boot_low_ram_top(img), &initrd_addr)) {
            error_setg(errp, "initrd '%s' (%zu bytes) does not fit in RAM "
                       "above the kernel", ms->initrd_filename, initrd_size);
            return false;
        }
        if (!x86_boot_place(img, "initrd", initrd_addr, initrd, initrd_size,
                            initrd_size, errp)) {
            return false;
        }
    }

    e820 = e820_get_table(&nr_e820);
    info_size = MEMMAP_OFFSET + nr_e820 * MEMMAP_ENTRY_SIZE;
    info = x86_boot_keep(img, g_malloc0(info_size));
    stl_le(info + SI_MAGIC, HVM_START_MAGIC);
    stl_le(info + SI_VERSION, 1);
    stq_le(info + SI_CMDLINE_PADDR, X86_BOOT_CMDLINE_ADDR);
    if (ms->initrd_filename) {
        stl_le(info + SI_NR_MODULES, 1);
        stq_le(info + SI_MODLIST_PADDR, X86_BOOT_INFO_ADDR + MODLIST_OFFSET);
        stq_le(info + MODLIST_OFFSET, initrd_addr);
        stq_le(info + MODLIST_OFFSET + 8, initrd_size);
    }
    stq_le(info + SI_MEMMAP_PADDR, X86_BOOT_INFO_ADDR + MEMMAP_OFFSET);
    stl_le(info + SI_MEMMAP_ENTRIES, nr_e820);
    for (unsigned i = 0; i < nr_e820; i++) {
        uint8_t *ent = info + MEMMAP_OFFSET + i * MEMMAP_ENTRY_SIZE;

        stq_le(ent, e820[i].addr);
        stq_le(ent + 8, e820[i].size);
        stl_le(ent + 16, e820[i].type);
    }

    if (cmdline_len > X86_BOOT_CMDLINE_END - X86_BOOT_CMDLINE_ADDR) {
        error_setg(errp, "kernel command line is too long (%zu bytes)",
                   cmdline_len - 1);
        return false;
    }
    if (!x86_boot_place(img, "PVH start info", X86_BOOT_INFO_ADDR, info,
                        info_size, info_size, errp) ||
        !x86_boot_place(img, "kernel command line", X86_BOOT_CMDLINE_ADDR,
                        cmdline, cmdline_len, cmdline_len, errp) ||
        !x86_boot_setup_gdt(img, false, errp)) {
        return false;
    }
    img->entry.eip = entry;
    img->entry.ebx = X86_BOOT_INFO_ADDR;
    return true;
}
