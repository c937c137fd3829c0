/*
 * -kernel loading for the PC board: Linux bzImage, multiboot v1 and PVH
 * ELF kernels, started directly in 32-bit mode (x86_boot_entry) or, with
 * firmware_boot, handed to SeaBIOS through fw_cfg and an option ROM.
 */
#ifndef HW_I386_X86_BOOT_H
#define HW_I386_X86_BOOT_H

#include "util/osdep.h"
#include "hw/i386/x86.h"
#include "hw/i386/fw_cfg.h"
#include "system/system.h"

/*
 * Load ms->kernel_filename (with initrd and command line).  The e820 table
 * must be complete (the loaders check placements against its RAM ranges and
 * copy it to the kernel); fw_cfg may be NULL for direct boot.  Puts the
 * images in place with rom_add_blob() and, for direct boot, fills
 * x86_boot_entry.  Nothing is changed when it fails.
 */
bool x86_load_kernel(MachineState *ms, FWCfgState *fw_cfg, Error **errp);

/* ---- shared by the loaders (x86-boot.c) ---- */

/*
 * Low-memory layout of direct boot: the GDT, then the zero page, multiboot
 * information or PVH start info (multiboot also keeps its strings there),
 * the command line, and the kernel from 1 MiB.  Firmware boot uses the
 * same addresses where it applies (the ROMs copy there at int 0x19).
 */
#define X86_BOOT_GDT_ADDR       0x6000
#define X86_BOOT_INFO_ADDR      0x7000
#define X86_BOOT_CMDLINE_ADDR   0x20000
#define X86_BOOT_CMDLINE_END    0x80000
#define X86_BOOT_HIGH_ADDR      0x100000
/* Kept free under the top of low RAM: SeaBIOS puts its tables there. */
#define X86_BOOT_TOP_RESERVE    (256 * KiB)

#define X86_KERNEL_MAX_SIZE     (512 * MiB)

/*
 * Pieces of guest memory a loader fills.  x86_boot_place() checks each
 * against the e820 RAM ranges and the pieces placed before it; nothing
 * reaches guest memory until x86_boot_commit().  data must stay valid
 * until then; bytes from len to size are zero.
 */
typedef struct X86BootPiece {
    char *what;
    uint64_t addr, size;
    const void *data;         /* NULL: only reserved, never written */
    size_t len;
} X86BootPiece;

typedef struct X86BootImage {
    MachineState *ms;
    const char *filename;
    GArray *pieces;
    GPtrArray *buffers;       /* freed with the image */
    X86BootEntry entry;
} X86BootImage;

void x86_boot_image_init(X86BootImage *img, MachineState *ms);
void x86_boot_image_free(X86BootImage *img);
/* Keep buf until the image is freed; returns buf. */
void *x86_boot_keep(X86BootImage *img, void *buf);
bool x86_boot_place(X86BootImage *img, const char *what, uint64_t addr,
                    const void *data, size_t len, uint64_t size,
                    Error **errp);
/* Highest page-aligned free RAM range of size ending at or below limit
 * and starting at or above floor. */
bool x86_boot_find_top(X86BootImage *img, uint64_t size, uint64_t floor,
                       uint64_t limit, uint64_t *addr);
/* Write the GDT (Linux: code 0x10, data 0x18; else code 0x08, data 0x10)
 * and set the entry's segment fields. */
bool x86_boot_setup_gdt(X86BootImage *img, bool linux_layout, Error **errp);
void x86_boot_commit(X86BootImage *img);
/* End of low RAM: top of below-4G RAM less the firmware reserve. */
uint64_t x86_boot_low_ram_top(X86BootImage *img);

/* Publish option ROM name (found by firmware_find) as genroms/name. */
bool x86_boot_add_option_rom(FWCfgState *fw_cfg, const char *name,
                             Error **errp);

/* ELF images (multiboot and PVH), 32 or 64-bit, little-endian x86. */
typedef struct X86ElfPhdr {
    uint32_t type;
    uint64_t offset, vaddr, paddr, filesz, memsz;
} X86ElfPhdr;

typedef struct X86Elf {
    const uint8_t *file;
    size_t len;
    bool is64;
    uint16_t machine;
    uint64_t entry;
    unsigned phnum;
    X86ElfPhdr *phdrs;        /* kept with the image */
} X86Elf;

#define X86_PT_LOAD 1
#define X86_PT_NOTE 4

bool x86_elf_is_elf(const uint8_t *file, size_t len);
bool x86_elf_parse(X86BootImage *img, const uint8_t *file, size_t len,
                   X86Elf *elf, Error **errp);
/* Place the PT_LOAD segments at their physical addresses; *end gets the
 * end of the highest one, *entry (if not NULL) e_entry turned physical. */
bool x86_elf_load(X86BootImage *img, const X86Elf *elf, uint64_t *entry,
                  uint64_t *end, Error **errp);

/* The formats, tried in this order: probe looks at the magic only, load
 * checks everything and fills img (and fw_cfg for firmware boot). */
bool x86_linux_probe(const uint8_t *file, size_t len);
bool x86_load_linux(X86BootImage *img, FWCfgState *fw_cfg,
                    const uint8_t *file, size_t len, Error **errp);
bool x86_multiboot_probe(const uint8_t *file, size_t len);
bool x86_load_multiboot(X86BootImage *img, FWCfgState *fw_cfg,
                        const uint8_t *file, size_t len, Error **errp);
bool x86_load_pvh(X86BootImage *img, FWCfgState *fw_cfg,
                  const uint8_t *file, size_t len, Error **errp);

/* Read an -initrd file for a loader (size capped to low RAM). */
uint8_t *x86_boot_load_initrd(X86BootImage *img, const char *path,
                              size_t *len, Error **errp);

#endif
