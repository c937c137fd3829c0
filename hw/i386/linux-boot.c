/*
 * Linux bzImage loading (Documentation/arch/x86/boot.rst, protocol 2.06+).
 *
 * The file is real-mode setup code ((setup_sects + 1) * 512 bytes, whose
 * header starts at 0x1f1) followed by the protected-mode kernel, which goes
 * to 1 MiB.  Direct boot enters the kernel's 32-bit entry with a zero page
 * (boot_params) holding the header, the e820 map and the command line and
 * initrd pointers.  Firmware boot hands setup, kernel, command line and
 * initrd to the linuxboot_dma.bin option ROM through fw_cfg; SeaBIOS runs
 * it and it enters the setup code in real mode at 0x1020:0000.
 */
#include "hw/i386/x86-boot.h"

/* setup header fields (offsets in the file and in boot_params) */
#define HDR_START           0x1f1
#define HDR_SETUP_SECTS     0x1f1
#define HDR_JUMP            0x200
#define HDR_MAGIC           0x202
#define HDR_VERSION         0x206
#define HDR_TYPE_OF_LOADER  0x210
#define HDR_LOADFLAGS       0x211
#define HDR_CODE32_START    0x214
#define HDR_RAMDISK_IMAGE   0x218
#define HDR_RAMDISK_SIZE    0x21c
#define HDR_HEAP_END_PTR    0x224
#define HDR_CMD_LINE_PTR    0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_CMDLINE_SIZE    0x238
#define HDR_PREF_ADDRESS    0x258
#define HDR_INIT_SIZE       0x260
#define HDR_END_MAX         0x290   /* end of setup_header in boot_params */

#define HDR_MAGIC_VALUE     0x53726448      /* "HdrS" */
#define LOADED_HIGH         0x01
#define CAN_USE_HEAP        0x80
#define LOADER_TYPE_KESTREL 0xb0            /* the QEMU loader id */

#define BP_E820_ENTRIES     0x1e8
#define BP_E820_TABLE       0x2d0
#define BP_E820_MAX         128
#define BP_SIZE             4096

/* Firmware boot: real-mode setup segment; command line at its 64 KiB end. */
#define REAL_MODE_ADDR      0x10000
#define SETUP_MAX_SIZE      0x8000          /* setup code + heap fit 64 KiB */
#define HEAP_END_PTR        0xfe00          /* 512 bytes of stack above */

bool x86_linux_probe(const uint8_t *file, size_t len)
{
    return len >= HDR_MAGIC + 4 && ldl_le(file + HDR_MAGIC) == HDR_MAGIC_VALUE;
}

/* The header fields the loader fills in, in the zero page or setup copy. */
static void linux_fill_header(uint8_t *hdr, uint32_t cmdline_addr,
                              uint64_t initrd_addr, size_t initrd_size)
{
    hdr[HDR_TYPE_OF_LOADER] = LOADER_TYPE_KESTREL;
    hdr[HDR_LOADFLAGS] |= CAN_USE_HEAP;
    stw_le(hdr + HDR_HEAP_END_PTR, HEAP_END_PTR);
    stl_le(hdr + HDR_CODE32_START, X86_BOOT_HIGH_ADDR);
    stl_le(hdr + HDR_CMD_LINE_PTR, cmdline_addr);
    stl_le(hdr + HDR_RAMDISK_IMAGE, initrd_addr);
    stl_le(hdr + HDR_RAMDISK_SIZE, initrd_size);
}

bool x86_load_linux(X86BootImage *img, FWCfgState *fw_cfg,
                    const uint8_t *file, size_t len, Error **errp)
{
    MachineState *ms = img->ms;
    const char *cmdline = ms->kernel_cmdline ? ms->kernel_cmdline : "";
    size_t cmdline_len = strlen(cmdline) + 1;
    unsigned setup_sects = file[HDR_SETUP_SECTS] ? file[HDR_SETUP_SECTS] : 4;
    size_t setup_size = (setup_sects + 1) * 512;
    uint16_t version;
    size_t hdr_end, kernel_size, initrd_size = 0;
    uint32_t cmdline_max, initrd_max, init_size;
    uint64_t pref, footprint_end, initrd_addr = 0;
    const uint8_t *kernel, *initrd = NULL;
    uint8_t *hdr;

    if (setup_size > SETUP_MAX_SIZE) {
        error_setg(errp, "'%s': Linux setup code is too large (%u sectors)",
                   img->filename, setup_sects);
        return false;
    }
    if (setup_size >= len) {
        error_setg(errp, "'%s': Linux setup code (%u sectors) leaves no "
                   "kernel in the file: truncated?", img->filename,
                   setup_sects);
        return false;
    }
    /* From here on the whole header (< setup_size) is in the file. */
    version = lduw_le(file + HDR_VERSION);
    if (version < 0x206) {
        error_setg(errp, "'%s': Linux boot protocol %u.%02u is too old "
                   "(kestrel needs 2.06 or newer)", img->filename,
                   version >> 8, version & 0xff);
        return false;
    }
    if (!(file[HDR_LOADFLAGS] & LOADED_HIGH)) {
        error_setg(errp, "'%s' is a zImage loaded below 1 MiB; only bzImage "
                   "kernels are supported", img->filename);
        return false;
    }

    cmdline_max = ldl_le(file + HDR_CMDLINE_SIZE);
    if (cmdline_len > (size_t)cmdline_max + 1 ||
        cmdline_len > X86_BOOT_CMDLINE_END - X86_BOOT_CMDLINE_ADDR) {
        error_setg(errp, "kernel command line is too long (%zu bytes, "
                   "'%s' takes at most %u)", cmdline_len - 1, img->filename,
                   cmdline_max);
        return false;
    }

    /*
     * The kernel is copied to 1 MiB but runs (decompressed) from
     * pref_address, needing init_size there: keep the initrd out of both.
     */
    kernel = file + setup_size;
    kernel_size = len - setup_size;
    pref = X86_BOOT_HIGH_ADDR;
    init_size = 0;
    if (version >= 0x20a) {
        pref = ldq_le(file + HDR_PREF_ADDRESS);
        init_size = ldl_le(file + HDR_INIT_SIZE);
    }
    if (pref < X86_BOOT_HIGH_ADDR || pref >= 4 * GiB) {
        pref = X86_BOOT_HIGH_ADDR;
    }
    footprint_end = MAX(X86_BOOT_HIGH_ADDR + kernel_size, pref + init_size);
    if (!x86_boot_place(img, "Linux kernel", X86_BOOT_HIGH_ADDR, kernel,
                        kernel_size, kernel_size, errp) ||
        !x86_boot_place(img, "Linux kernel's decompression area",
                        X86_BOOT_HIGH_ADDR + kernel_size, NULL, 0,
                        footprint_end - (X86_BOOT_HIGH_ADDR + kernel_size),
                        errp)) {
        return false;
    }

    if (ms->initrd_filename) {
        initrd = x86_boot_load_initrd(img, ms->initrd_filename, &initrd_size,
                                      errp);
        if (!initrd) {
            return false;
        }
        initrd_max = ldl_le(file + HDR_INITRD_ADDR_MAX);
        if (!x86_boot_find_top(img, initrd_size, X86_BOOT_HIGH_ADDR,
                               MIN((uint64_t)initrd_max + 1,
                                   x86_boot_low_ram_top(img)),
                               &initrd_addr)) {
            error_setg(errp, "initrd '%s' (%zu bytes) does not fit in RAM "
                       "below 0x%x next to the kernel", ms->initrd_filename,
                       initrd_size, initrd_max);
            return false;
        }
        if (!x86_boot_place(img, "initrd", initrd_addr, initrd, initrd_size,
                            initrd_size, errp)) {
            return false;
        }
    }
    if (!x86_boot_place(img, "kernel command line", X86_BOOT_CMDLINE_ADDR,
                        cmdline, cmdline_len, cmdline_len, errp)) {
        return false;
    }

    /* The header is 0x202 + the jump offset long (2.06 has at least up to
     * cmdline_size), and never longer than its slot in the zero page. */
    hdr_end = HDR_JUMP + 2 + (size_t)file[HDR_JUMP + 1];
    hdr_end = MIN(MAX(hdr_end, HDR_CMDLINE_SIZE + 4), HDR_END_MAX);

    if (ms->firmware_boot) {
        hdr = x86_boot_keep(img, g_memdup2(file, setup_size));
        linux_fill_header(hdr, X86_BOOT_CMDLINE_ADDR, initrd_addr,
                          initrd_size);
        if (!x86_boot_place(img, "Linux setup code", REAL_MODE_ADDR, hdr,
                            setup_size, setup_size, errp) ||
            !x86_boot_add_option_rom(fw_cfg, "linuxboot_dma.bin", errp)) {
            return false;
        }
        fw_cfg_add_i32(fw_cfg, FW_CFG_SETUP_ADDR, REAL_MODE_ADDR);
        fw_cfg_add_i32(fw_cfg, FW_CFG_SETUP_SIZE, setup_size);
        fw_cfg_add_bytes(fw_cfg, FW_CFG_SETUP_DATA, hdr, setup_size);
        fw_cfg_add_i32(fw_cfg, FW_CFG_KERNEL_ADDR, X86_BOOT_HIGH_ADDR);
        fw_cfg_add_i32(fw_cfg, FW_CFG_KERNEL_SIZE, kernel_size);
        fw_cfg_add_bytes(fw_cfg, FW_CFG_KERNEL_DATA, kernel, kernel_size);
        fw_cfg_add_i32(fw_cfg, FW_CFG_CMDLINE_ADDR, X86_BOOT_CMDLINE_ADDR);
        fw_cfg_add_i32(fw_cfg, FW_CFG_CMDLINE_SIZE, cmdline_len);
        fw_cfg_add_bytes(fw_cfg, FW_CFG_CMDLINE_DATA, cmdline, cmdline_len);
        fw_cfg_add_i32(fw_cfg, FW_CFG_INITRD_ADDR, initrd_addr);
        fw_cfg_add_i32(fw_cfg, FW_CFG_INITRD_SIZE, initrd_size);
        fw_cfg_add_bytes(fw_cfg, FW_CFG_INITRD_DATA, initrd, initrd_size);
        return true;
    }

    /* Direct boot: the zero page, then the 32-bit entry at code32_start. */
    {
        const E820Entry *e820;
        unsigned nr_e820;

        hdr = x86_boot_keep(img, g_malloc0(BP_SIZE));
        memcpy(hdr + HDR_START, file + HDR_START, hdr_end - HDR_START);
        linux_fill_header(hdr, X86_BOOT_CMDLINE_ADDR, initrd_addr,
                          initrd_size);
        e820 = e820_get_table(&nr_e820);
        nr_e820 = MIN(nr_e820, BP_E820_MAX);
        hdr[BP_E820_ENTRIES] = nr_e820;
        memcpy(hdr + BP_E820_TABLE, e820, nr_e820 * sizeof(E820Entry));
    }
    if (!x86_boot_place(img, "Linux zero page", X86_BOOT_INFO_ADDR, hdr,
                        BP_SIZE, BP_SIZE, errp) ||
        !x86_boot_setup_gdt(img, true, errp)) {
        return false;
    }
    img->entry.eip = X86_BOOT_HIGH_ADDR;
    img->entry.esi = X86_BOOT_INFO_ADDR;
    return true;
}
