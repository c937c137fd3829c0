/*
 * -kernel for the PC: pick the format, then lay the kernel out in guest
 * memory.  Every piece is checked against the e820 RAM ranges and the
 * pieces placed before it, so a bad file ends with a message naming it,
 * and guest memory, fw_cfg and x86_boot_entry change only on success.
 */
#include <elf.h>
#include "hw/i386/x86-boot.h"
#include "hw/core/loader.h"

X86BootEntry x86_boot_entry;

void x86_boot_image_init(X86BootImage *img, MachineState *ms)
{
    memset(img, 0, sizeof(*img));
    img->ms = ms;
    img->filename = ms->kernel_filename;
    img->pieces = g_array_new(false, true, sizeof(X86BootPiece));
    img->buffers = g_ptr_array_new_with_free_func(g_free);
}

void x86_boot_image_free(X86BootImage *img)
{
    for (unsigned i = 0; i < img->pieces->len; i++) {
        g_free(g_array_index(img->pieces, X86BootPiece, i).what);
    }
    g_array_free(img->pieces, true);
    g_ptr_array_free(img->buffers, true);
}

void *x86_boot_keep(X86BootImage *img, void *buf)
{
    g_ptr_array_add(img->buffers, buf);
    return buf;
}

uint64_t x86_boot_low_ram_top(X86BootImage *img)
{
    uint64_t top = MIN(img->ms->below_4g_mem_size, 4 * GiB);

    return top > X86_BOOT_TOP_RESERVE ? top - X86_BOOT_TOP_RESERVE : 0;
}

static bool in_ram(uint64_t addr, uint64_t size)
{
    const E820Entry *e820;
    unsigned n;

    e820 = e820_get_table(&n);
    for (unsigned i = 0; i < n; i++) {
        if (e820[i].type == E820_RAM && addr >= e820[i].addr &&
            addr - e820[i].addr <= e820[i].size &&
            size <= e820[i].size - (addr - e820[i].addr)) {
            return true;
        }
    }
    return false;
}

static const X86BootPiece *find_overlap(X86BootImage *img, uint64_t addr,
                                        uint64_t size)
{
    for (unsigned i = 0; i < img->pieces->len; i++) {
        const X86BootPiece *p = &g_array_index(img->pieces, X86BootPiece, i);

        if (addr < p->addr + p->size && p->addr < addr + size) {
            return p;
        }
    }
    return NULL;
}

bool x86_boot_place(X86BootImage *img, const char *what, uint64_t addr,
                    const void *data, size_t len, uint64_t size,
                    Error **errp)
{
    const X86BootPiece *other;
    X86BootPiece piece;

    if (!size) {
        return true;
    }
    if (len > size || addr >= 4 * GiB || size > 4 * GiB - addr) {
        error_setg(errp, "'%s': %s at 0x%" PRIx64 " (0x%" PRIx64 " bytes) "
                   "does not fit below 4 GiB", img->filename, what, addr,
                   size);
        return false;
    }
    if (!in_ram(addr, size)) {
        error_setg(errp, "'%s': %s at 0x%" PRIx64 "-0x%" PRIx64 " is not in "
                   "guest RAM", img->filename, what, addr, addr + size - 1);
        return false;
    }
    other = find_overlap(img, addr, size);
    if (other) {
        error_setg(errp, "'%s': %s at 0x%" PRIx64 "-0x%" PRIx64 " overlaps "
                   "the %s at 0x%" PRIx64 "-0x%" PRIx64, img->filename, what,
                   addr, addr + size - 1, other->what, other->addr,
                   other->addr + other->size - 1);
        return false;
    }
    piece = (X86BootPiece) {
        .what = g_strdup(what), .addr = addr, .size = size,
        .data = data, .len = len,
    };
    g_array_append_val(img->pieces, piece);
    return true;
}

bool x86_boot_find_top(X86BootImage *img, uint64_t size, uint64_t floor,
                       uint64_t limit, uint64_t *addr)
{
    const E820Entry *e820;
    bool found = false;
    unsigned n;

    e820 = e820_get_table(&n);
    limit = MIN(limit, 4 * GiB);
    if (!size) {
        size = 1;
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t lo = MAX(e820[i].addr, floor);
        uint64_t end = MIN(e820[i].addr + e820[i].size, limit);

        if (e820[i].type != E820_RAM) {
            continue;
        }
        /* Slide down below whatever is in the way. */
        while (end >= size && ALIGN_DOWN(end - size, 4096) >= lo) {
            uint64_t start = ALIGN_DOWN(end - size, 4096);
            const X86BootPiece *p = find_overlap(img, start, size);

            if (!p) {
                if (!found || start > *addr) {
                    *addr = start;
                    found = true;
                }
                break;
            }
            end = p->addr;
        }
    }
    return found;
}

bool x86_boot_setup_gdt(X86BootImage *img, bool linux_layout, Error **errp)
{
    /* Flat 4 GiB, base 0, accessed bit set so the CPU never writes them. */
    const uint64_t code = 0x00cf9b000000ffffULL;
    const uint64_t data = 0x00cf93000000ffffULL;
    uint64_t *gdt = x86_boot_keep(img, g_new0(uint64_t, 4));
    unsigned cs = linux_layout ? 2 : 1;

    gdt[cs] = code;
    gdt[cs + 1] = data;
    img->entry.gdt_base = X86_BOOT_GDT_ADDR;
    img->entry.gdt_limit = (cs + 2) * 8 - 1;
    img->entry.cs_selector = cs * 8;
    img->entry.ds_selector = (cs + 1) * 8;
    return x86_boot_place(img, "boot GDT", X86_BOOT_GDT_ADDR, gdt,
                          (cs + 2) * 8, (cs + 2) * 8, errp);
}

void x86_boot_commit(X86BootImage *img)
{
    for (unsigned i = 0; i < img->pieces->len; i++) {
        const X86BootPiece *p = &g_array_index(img->pieces, X86BootPiece, i);

        if (p->data) {
            /* bss: zeroed on every reset, as a fresh load would be */
            rom_add_blob_zero_tail(p->what, p->data, p->len, p->size - p->len,
                                   p->addr);
        }
    }
}

uint8_t *x86_boot_load_initrd(X86BootImage *img, const char *path,
                              size_t *len, Error **errp)
{
    uint8_t *buf = load_file(path, x86_boot_low_ram_top(img), len, errp);

    return buf ? x86_boot_keep(img, buf) : NULL;
}

/* Firmware boot: the ROM SeaBIOS runs from fw_cfg "genroms/". */
bool x86_boot_add_option_rom(FWCfgState *fw_cfg, const char *name,
                             Error **errp)
{
    g_autofree char *path = firmware_find(name);
    g_autofree char *file = g_strdup_printf("genroms/%s", name);
    uint8_t *rom;
    size_t len;

    if (!path) {
        error_setg(errp, "option ROM %s not found: it is needed to boot "
                   "-kernel through the firmware", name);
        return false;
    }
    rom = load_file(path, 64 * KiB, &len, errp);
    if (!rom) {
        return false;
    }
    if (len < 512 || len % 512 || rom[0] != 0x55 || rom[1] != 0xaa) {
        error_setg(errp, "'%s' is not an option ROM image", path);
        g_free(rom);
        return false;
    }
    fw_cfg_add_file(fw_cfg, file, rom, len);
    g_free(rom);
    return true;
}

/* ---- ELF ---- */

bool x86_elf_is_elf(const uint8_t *file, size_t len)
{
    return len >= SELFMAG && !memcmp(file, ELFMAG, SELFMAG);
}

bool x86_elf_parse(X86BootImage *img, const uint8_t *file, size_t len,
                   X86Elf *elf, Error **errp)
{
    uint64_t phoff;
    unsigned phentsize, need;

    memset(elf, 0, sizeof(*elf));
    elf->file = file;
    elf->len = len;
    if (len < sizeof(Elf32_Ehdr) || !x86_elf_is_elf(file, len)) {
        error_setg(errp, "'%s' is not an ELF file", img->filename);
        return false;
    }
    if (file[EI_DATA] != ELFDATA2LSB ||
        (file[EI_CLASS] != ELFCLASS32 && file[EI_CLASS] != ELFCLASS64)) {
        error_setg(errp, "'%s' is not a little-endian 32 or 64-bit ELF file",
                   img->filename);
        return false;
    }
    elf->is64 = file[EI_CLASS] == ELFCLASS64;
    if (elf->is64) {
        Elf64_Ehdr eh;

        if (len < sizeof(eh)) {
            error_setg(errp, "'%s': truncated ELF header", img->filename);
            return false;
        }
        memcpy(&eh, file, sizeof(eh));
        elf->machine = eh.e_machine;
        elf->entry = eh.e_entry;
        elf->phnum = eh.e_phnum;
        phoff = eh.e_phoff;
        phentsize = eh.e_phentsize;
        need = sizeof(Elf64_Phdr);
    } else {
        Elf32_Ehdr eh;

        memcpy(&eh, file, sizeof(eh));
        elf->machine = eh.e_machine;
        elf->entry = eh.e_entry;
        elf->phnum = eh.e_phnum;
        phoff = eh.e_phoff;
        phentsize = eh.e_phentsize;
        need = sizeof(Elf32_Phdr);
    }
    if (elf->machine != EM_386 && elf->machine != EM_X86_64) {
        error_setg(errp, "'%s' is an ELF file for another machine (%u)",
                   img->filename, elf->machine);
        return false;
    }
    if (!elf->phnum || phentsize < need || phoff > len ||
        (uint64_t)elf->phnum * phentsize > len - phoff) {
        error_setg(errp, "'%s': ELF program headers are missing or extend "
                   "past the end of the file", img->filename);
        return false;
    }

    elf->phdrs = x86_boot_keep(img, g_new0(X86ElfPhdr, elf->phnum));
    for (unsigned i = 0; i < elf->phnum; i++) {
        const uint8_t *ph = file + phoff + (uint64_t)i * phentsize;
        X86ElfPhdr *p = &elf->phdrs[i];

        if (elf->is64) {
            Elf64_Phdr h;

            memcpy(&h, ph, sizeof(h));
            *p = (X86ElfPhdr) { h.p_type, h.p_offset, h.p_vaddr, h.p_paddr,
                                h.p_filesz, h.p_memsz };
        } else {
            Elf32_Phdr h;

            memcpy(&h, ph, sizeof(h));
            *p = (X86ElfPhdr) { h.p_type, h.p_offset, h.p_vaddr, h.p_paddr,
                                h.p_filesz, h.p_memsz };
        }
    }
    return true;
}

bool x86_elf_load(X86BootImage *img, const X86Elf *elf, uint64_t *entry,
                  uint64_t *end, Error **errp)
{
    bool entry_found = false;
    unsigned loaded = 0;

    *end = 0;
    for (unsigned i = 0; i < elf->phnum; i++) {
        const X86ElfPhdr *p = &elf->phdrs[i];
        char what[32];

        if (p->type != X86_PT_LOAD || !p->memsz) {
            continue;
        }
        if (p->filesz > p->memsz) {
            error_setg(errp, "'%s': ELF segment %u is larger in the file than "
                       "in memory", img->filename, i);
            return false;
        }
        if (p->offset > elf->len || p->filesz > elf->len - p->offset) {
            error_setg(errp, "'%s': ELF segment %u lies outside the file",
                       img->filename, i);
            return false;
        }
        snprintf(what, sizeof(what), "kernel segment %u", i);
        if (!x86_boot_place(img, what, p->paddr, elf->file + p->offset,
                            p->filesz, p->memsz, errp)) {
            return false;
        }
        *end = MAX(*end, p->paddr + p->memsz);
        loaded++;
    }
    if (!loaded) {
        error_setg(errp, "'%s': ELF file has nothing to load", img->filename);
        return false;
    }

    if (!entry) {
        return true;
    }
    /* A kernel linked high gives a virtual entry: make it physical. */
    *entry = elf->entry;
    for (unsigned i = 0; i < elf->phnum && !entry_found; i++) {
        const X86ElfPhdr *p = &elf->phdrs[i];

        if (p->type == X86_PT_LOAD && elf->entry >= p->paddr &&
            elf->entry - p->paddr < p->memsz) {
            entry_found = true;
        }
    }
    for (unsigned i = 0; i < elf->phnum && !entry_found; i++) {
        const X86ElfPhdr *p = &elf->phdrs[i];

        if (p->type == X86_PT_LOAD && elf->entry >= p->vaddr &&
            elf->entry - p->vaddr < p->memsz) {
            *entry = elf->entry - p->vaddr + p->paddr;
            entry_found = true;
        }
    }
    if (!entry_found) {
        error_setg(errp, "'%s': ELF entry point 0x%" PRIx64 " is not in a "
                   "loaded segment", img->filename, elf->entry);
        return false;
    }
    return true;
}

/* ---- entry point ---- */

bool x86_load_kernel(MachineState *ms, FWCfgState *fw_cfg, Error **errp)
{
    X86BootImage img;
    uint8_t *file;
    size_t len;
    bool ok;

    if (!ms->kernel_filename) {
        return true;
    }
    if (ms->firmware_boot && !fw_cfg) {
        error_setg(errp, "booting -kernel through the firmware needs fw_cfg");
        return false;
    }
    file = load_file(ms->kernel_filename, X86_KERNEL_MAX_SIZE, &len, errp);
    if (!file) {
        return false;
    }

    x86_boot_image_init(&img, ms);
    x86_boot_keep(&img, file);
    if (x86_linux_probe(file, len)) {
        ok = x86_load_linux(&img, fw_cfg, file, len, errp);
    } else if (x86_multiboot_probe(file, len)) {
        ok = x86_load_multiboot(&img, fw_cfg, file, len, errp);
    } else if (x86_elf_is_elf(file, len)) {
        ok = x86_load_pvh(&img, fw_cfg, file, len, errp);
    } else {
        error_setg(errp, "'%s' is not a kernel kestrel can load (not a Linux "
                   "bzImage, multiboot or PVH ELF image)", ms->kernel_filename);
        ok = false;
    }

    /* Firmware boot: the option ROM loads everything from fw_cfg. */
    if (ok && !ms->firmware_boot) {
        x86_boot_commit(&img);
        x86_boot_entry = img.entry;
        x86_boot_entry.enabled = true;
    }
    x86_boot_image_free(&img);
    return ok;
}
