/*
 * Multiboot v1 kernels (Multiboot Specification 0.6.96).
 *
 * The header (magic, flags, checksum) sits 4-byte aligned in the first
 * 8 KiB.  The image is an ELF32 file loaded by its program headers, or
 * anything with the a.out kludge addresses (flag 16).  Like QEMU, the
 * kernel's command line is "<kernel file> <-append>", and -initrd lists
 * modules as "file args,file2" (",," for a comma), loaded page-aligned
 * after the kernel.  The kernel is entered in flat 32-bit mode with
 * EAX = 0x2BADB002 and EBX = the multiboot information.
 */
#include <elf.h>
#include "hw/i386/x86-boot.h"

#define MB_HEADER_MAGIC     0x1badb002
#define MB_BOOTLOADER_MAGIC 0x2badb002
#define MB_SEARCH_LEN       8192

/* header flags: bits 0-15 must all be honoured, 16+ are optional */
#define MB_PAGE_ALIGN       (1u << 0)
#define MB_MEMORY_INFO      (1u << 1)
#define MB_VIDEO_MODE       (1u << 2)  /* accepted; no video info given */
#define MB_AOUT_KLUDGE      (1u << 16)
#define MB_KNOWN_REQUIRED   (MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_VIDEO_MODE)

/* multiboot_info flags and layout */
#define MBI_MEMORY          (1u << 0)
#define MBI_CMDLINE         (1u << 2)
#define MBI_MODS            (1u << 3)
#define MBI_MMAP            (1u << 6)
#define MBI_LOADER_NAME     (1u << 9)

#define MBI_FLAGS           0
#define MBI_MEM_LOWER       4
#define MBI_MEM_UPPER       8
#define MBI_CMDLINE_PTR     16
#define MBI_MODS_COUNT      20
#define MBI_MODS_ADDR       24
#define MBI_MMAP_LENGTH     44
#define MBI_MMAP_ADDR       48
#define MBI_LOADER_NAME_PTR 64
#define MBI_AREA            96         /* 88 bytes, padded */

#define MB_MOD_SIZE         16         /* start, end, string, reserved */
#define MB_MMAP_SIZE        24         /* size (20), base, length, type */

/*
 * The information blob holds its strings too, so it may run on over the
 * command-line area, up to the page the ROM uses as scratch (firmware boot).
 */
#define MB_ROM_SCRATCH      0x7f000
#define MB_INFO_END         MB_ROM_SCRATCH
#define MB_ROM_MMAP_MAX     128        /* entries the ROM may fill in */

static long multiboot_find_header(const uint8_t *file, size_t len)
{
    size_t limit = MIN(len, MB_SEARCH_LEN);

    for (size_t off = 0; off + 12 <= limit; off += 4) {
        uint32_t magic = ldl_le(file + off);

        if (magic == MB_HEADER_MAGIC &&
            magic + ldl_le(file + off + 4) + ldl_le(file + off + 8) == 0) {
            return off;
        }
    }
    return -1;
}

bool x86_multiboot_probe(const uint8_t *file, size_t len)
{
    return multiboot_find_header(file, len) >= 0;
}

/* flag 16: the header says where the image goes. */
static bool multiboot_load_aout(X86BootImage *img, const uint8_t *file,
                                size_t len, size_t hdr, uint64_t *entry,
                                uint64_t *end, Error **errp)
{
    uint32_t header_addr, load_addr, load_end, bss_end;
    uint64_t file_off, load_size, mem_size;

    if (hdr + 32 > len) {
        error_setg(errp, "'%s': multiboot header is truncated",
                   img->filename);
        return false;
    }
    header_addr = ldl_le(file + hdr + 12);
    load_addr = ldl_le(file + hdr + 16);
    load_end = ldl_le(file + hdr + 20);
    bss_end = ldl_le(file + hdr + 24);
    *entry = ldl_le(file + hdr + 28);

    /* header_addr maps to the header's file offset; load_addr before it. */
    if (load_addr > header_addr || header_addr - load_addr > hdr) {
        error_setg(errp, "'%s': multiboot load address 0x%x does not fit the "
                   "header address 0x%x", img->filename, load_addr,
                   header_addr);
        return false;
    }
    file_off = hdr - (header_addr - load_addr);
    load_size = load_end ? (uint64_t)load_end - load_addr : len - file_off;
    if ((load_end && load_end < load_addr) || load_size > len - file_off) {
        error_setg(errp, "'%s': multiboot load range 0x%x-0x%x lies outside "
                   "the file", img->filename, load_addr, load_end);
        return false;
    }
    mem_size = bss_end ? (uint64_t)bss_end - load_addr : load_size;
    if (bss_end && (bss_end < load_addr || mem_size < load_size)) {
        error_setg(errp, "'%s': multiboot bss end 0x%x is before the end of "
                   "the loaded image", img->filename, bss_end);
        return false;
    }
    if (*entry < load_addr || *entry - load_addr >= MAX(mem_size, 1)) {
        error_setg(errp, "'%s': multiboot entry 0x%" PRIx64 " is outside "
                   "the loaded image", img->filename, *entry);
        return false;
    }
    *end = load_addr + mem_size;
    return x86_boot_place(img, "multiboot kernel", load_addr,
                          file + file_off, load_size, mem_size, errp);
}

static bool multiboot_load_elf(X86BootImage *img, const uint8_t *file,
                               size_t len, uint64_t *entry, uint64_t *end,
                               Error **errp)
{
    X86Elf elf;

    if (!x86_elf_is_elf(file, len)) {
        error_setg(errp, "'%s' has a multiboot header but is neither ELF nor "
                   "gives load addresses (flag 16)", img->filename);
        return false;
    }
    if (!x86_elf_parse(img, file, len, &elf, errp)) {
        return false;
    }
    if (elf.is64 || elf.machine != EM_386) {
        error_setg(errp, "'%s': Cannot load x86-64 image, give a 32bit one.",
                   img->filename);
        return false;
    }
    return x86_elf_load(img, &elf, entry, end, errp);
}

/* Strings go after the tables of the information blob. */
typedef struct MbStrings {
    GByteArray *data;
    uint32_t base;            /* guest address of data[0] */
} MbStrings;

static uint32_t add_string(MbStrings *str, const char *s)
{
    uint32_t addr = str->base + str->data->len;

    g_byte_array_append(str->data, (const uint8_t *)s, strlen(s) + 1);
    return addr;
}

/* "a b,,c,d" -> {"a b,c", "d"} */
static GPtrArray *split_modules(const char *list)
{
    GPtrArray *mods = g_ptr_array_new_with_free_func(g_free);
    GString *cur = g_string_new(NULL);

    for (const char *p = list; ; p++) {
        if (*p == ',' && p[1] == ',') {
            g_string_append_c(cur, ',');
            p++;
        } else if (*p == ',' || !*p) {
            g_ptr_array_add(mods, g_string_free(cur, false));
            if (!*p) {
                break;
            }
            cur = g_string_new(NULL);
        } else {
            g_string_append_c(cur, *p);
        }
    }
    return mods;
}

/* Load the modules page-aligned after the kernel; fill their entries. */
static bool multiboot_load_modules(X86BootImage *img, GPtrArray *mods,
                                   uint64_t kernel_end, uint8_t *entries,
                                   MbStrings *str, Error **errp)
{
    uint64_t addr = ALIGN_UP(kernel_end, 4096);

    for (unsigned i = 0; i < mods->len; i++) {
        const char *arg = g_ptr_array_index(mods, i);
        g_autofree char *path = g_strndup(arg, strcspn(arg, " "));
        uint8_t *entry = entries + i * MB_MOD_SIZE;
        uint8_t *data;
        size_t size;
        char what[32];

        if (!*path) {
            error_setg(errp, "empty multiboot module name in -initrd '%s'",
                       img->ms->initrd_filename);
            return false;
        }
        data = x86_boot_load_initrd(img, path, &size, errp);
        if (!data) {
            return false;
        }
        snprintf(what, sizeof(what), "multiboot module %u", i);
        if (!x86_boot_place(img, what, addr, data, size, size, errp)) {
            return false;
        }
        stl_le(entry, addr);
        stl_le(entry + 4, addr + size);
        stl_le(entry + 8, add_string(str, arg));
        addr = ALIGN_UP(addr + size, 4096);
    }
    return true;
}

/* The memory map from e820, with mem_lower/upper from the RAM at 0/1 MiB. */
static void multiboot_fill_mmap(uint8_t *mbi, uint8_t *mmap)
{
    uint64_t mem_lower = 0, mem_upper = 0;
    const E820Entry *e820;
    unsigned n;

    e820 = e820_get_table(&n);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *ent = mmap + i * MB_MMAP_SIZE;

        stl_le(ent, MB_MMAP_SIZE - 4);
        stq_le(ent + 4, e820[i].addr);
        stq_le(ent + 12, e820[i].size);
        stl_le(ent + 20, e820[i].type);
        if (e820[i].type != E820_RAM) {
            continue;
        }
        if (e820[i].addr == 0) {
            mem_lower = MIN(e820[i].size, 640 * KiB) / KiB;
        }
        if (e820[i].addr <= MiB && e820[i].addr + e820[i].size > MiB) {
            mem_upper = MIN(e820[i].addr + e820[i].size, 4 * GiB) / KiB - 1024;
        }
    }
    stl_le(mbi + MBI_MEM_LOWER, mem_lower);
    stl_le(mbi + MBI_MEM_UPPER, mem_upper);
    stl_le(mbi + MBI_MMAP_LENGTH, n * MB_MMAP_SIZE);
}

/*
 * Firmware boot: multiboot_dma.bin copies one blob spanning the kernel and
 * the modules (KERNEL_*) and the information blob (INITRD_*), fills the
 * memory fields and map from the BIOS, and enters at KERNEL_ENTRY.
 */
static bool multiboot_firmware(X86BootImage *img, FWCfgState *fw_cfg,
                               unsigned nr_pieces, uint32_t entry,
                               const uint8_t *info, size_t info_len,
                               Error **errp)
{
    uint64_t start = UINT64_MAX, end = 0;
    uint8_t *span;

    if (!x86_boot_place(img, "option ROM scratch page", MB_ROM_SCRATCH, NULL,
                        0, 4096, errp)) {
        return false;
    }
    for (unsigned i = 0; i < nr_pieces; i++) {
        const X86BootPiece *p = &g_array_index(img->pieces, X86BootPiece, i);

        start = MIN(start, p->addr);
        end = MAX(end, p->addr + p->size);
    }
    span = g_try_malloc0(end - start);
    if (!span) {
        error_setg(errp, "'%s': out of memory", img->filename);
        return false;
    }
    x86_boot_keep(img, span);
    for (unsigned i = 0; i < nr_pieces; i++) {
        const X86BootPiece *p = &g_array_index(img->pieces, X86BootPiece, i);

        memcpy(span + (p->addr - start), p->data, p->len);
    }
    if (!x86_boot_add_option_rom(fw_cfg, "multiboot_dma.bin", errp)) {
        return false;
    }
    fw_cfg_add_i32(fw_cfg, FW_CFG_KERNEL_ENTRY, entry);
    fw_cfg_add_i32(fw_cfg, FW_CFG_KERNEL_ADDR, start);
    fw_cfg_add_i32(fw_cfg, FW_CFG_KERNEL_SIZE, end - start);
    fw_cfg_add_bytes(fw_cfg, FW_CFG_KERNEL_DATA, span, end - start);
    fw_cfg_add_i32(fw_cfg, FW_CFG_INITRD_ADDR, X86_BOOT_INFO_ADDR);
    fw_cfg_add_i32(fw_cfg, FW_CFG_INITRD_SIZE, info_len);
    fw_cfg_add_bytes(fw_cfg, FW_CFG_INITRD_DATA, info, info_len);
    return true;
}

bool x86_load_multiboot(X86BootImage *img, FWCfgState *fw_cfg,
                        const uint8_t *file, size_t len, Error **errp)
{
    MachineState *ms = img->ms;
    size_t hdr = multiboot_find_header(file, len);
    uint32_t flags = ldl_le(file + hdr + 4);
    g_autoptr(GPtrArray) mods = NULL;
    g_autoptr(GByteArray) strings = g_byte_array_new();
    g_autofree char *cmdline = NULL;
    unsigned nr_mods = 0, nr_mmap, nr_e820;
    uint32_t mods_off, mmap_off, strings_off, info_len;
    uint64_t entry, kernel_end;
    g_autofree uint8_t *info = NULL;
    uint8_t *blob;
    MbStrings str;
    bool ok;

    if (flags & 0xffff & ~MB_KNOWN_REQUIRED) {
        error_setg(errp, "'%s': multiboot header asks for unsupported "
                   "features (flags 0x%x)", img->filename, flags);
        return false;
    }
    ok = flags & MB_AOUT_KLUDGE ?
         multiboot_load_aout(img, file, len, hdr, &entry, &kernel_end, errp) :
         multiboot_load_elf(img, file, len, &entry, &kernel_end, errp);
    if (!ok) {
        return false;
    }

    /* Information blob: mbi, module list, memory map, then strings. */
    if (ms->initrd_filename) {
        mods = split_modules(ms->initrd_filename);
        nr_mods = mods->len;
    }
    e820_get_table(&nr_e820);
    nr_mmap = ms->firmware_boot ? MB_ROM_MMAP_MAX : nr_e820;
    mods_off = MBI_AREA;
    mmap_off = mods_off + nr_mods * MB_MOD_SIZE;
    strings_off = mmap_off + nr_mmap * MB_MMAP_SIZE;
    info = g_malloc0(strings_off);
    str = (MbStrings) { strings, X86_BOOT_INFO_ADDR + strings_off };

    cmdline = g_strdup_printf("%s %s", img->filename,
                              ms->kernel_cmdline ? ms->kernel_cmdline : "");
    stl_le(info + MBI_CMDLINE_PTR, add_string(&str, cmdline));
    stl_le(info + MBI_LOADER_NAME_PTR, add_string(&str, "kestrel"));
    stl_le(info + MBI_MODS_COUNT, nr_mods);
    stl_le(info + MBI_MODS_ADDR, X86_BOOT_INFO_ADDR + mods_off);
    stl_le(info + MBI_MMAP_ADDR, X86_BOOT_INFO_ADDR + mmap_off);
    stl_le(info + MBI_FLAGS, MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_MMAP |
           MBI_LOADER_NAME);
    if (!ms->firmware_boot) {
        multiboot_fill_mmap(info, info + mmap_off);
    }
    if (mods && !multiboot_load_modules(img, mods, kernel_end,
                                        info + mods_off, &str, errp)) {
        return false;
    }

    if (strings_off + strings->len > MB_INFO_END - X86_BOOT_INFO_ADDR) {
        error_setg(errp, "'%s': multiboot command line or module list is too "
                   "long", img->filename);
        return false;
    }
    info_len = strings_off + strings->len;
    blob = x86_boot_keep(img, g_malloc(info_len));
    memcpy(blob, info, strings_off);
    memcpy(blob + strings_off, strings->data, strings->len);

    if (ms->firmware_boot) {
        unsigned nr_pieces = img->pieces->len;

        return x86_boot_place(img, "multiboot information",
                              X86_BOOT_INFO_ADDR, blob, info_len, info_len,
                              errp) &&
               multiboot_firmware(img, fw_cfg, nr_pieces, entry, blob,
                                  info_len, errp);
    }
    if (!x86_boot_place(img, "multiboot information", X86_BOOT_INFO_ADDR,
                        blob, info_len, info_len, errp) ||
        !x86_boot_setup_gdt(img, false, errp)) {
        return false;
    }
    img->entry.eip = entry;
    img->entry.eax = MB_BOOTLOADER_MAGIC;
    img->entry.ebx = X86_BOOT_INFO_ADDR;
    return true;
}
