/*
 * The -kernel loaders on files the test writes: a minimal bzImage, multiboot
 * ELF32 and a.out-kludge images, PVH ELF32/ELF64, and a set of malformed
 * ones.  Checks the boot entry and the bytes that land in guest RAM after
 * rom_reset_all(), and that a refused file gives a clear error and leaves
 * RAM, fw_cfg and x86_boot_entry alone.
 */
#include <elf.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "hw/i386/x86-boot.h"
#include "hw/core/loader.h"

#define RAM_SIZE    (32 * MiB)
#define ZERO_PAGE   0x7000
#define CMDLINE     0x20000

static MemoryRegion ram;
static uint8_t *ram_ptr;
static MachineState ms;
static FWCfgState *fw_cfg;
static char *tmpdir;

/* ---- helpers ---- */

static char *write_file(const char *name, const void *data, size_t len)
{
    char *path = g_build_filename(tmpdir, name, NULL);

    g_assert_true(g_file_set_contents(path, data, len, NULL));
    return path;
}

static void reset_machine(const char *kernel, const char *initrd,
                          const char *cmdline)
{
    ms.kernel_filename = kernel;
    ms.initrd_filename = initrd;
    ms.kernel_cmdline = cmdline;
    ms.firmware_boot = false;
    memset(&x86_boot_entry, 0, sizeof(x86_boot_entry));
}

/* Load; then fill RAM with 0xaa and replay the blobs as a reset does. */
static void load_ok(void)
{
    Error *err = NULL;

    if (!x86_load_kernel(&ms, fw_cfg, &err)) {
        g_error("load failed: %s", err->msg);
    }
    memset(ram_ptr, 0xaa, RAM_SIZE);
    rom_reset_all();
}

/* The load must fail with a message containing want and change nothing. */
static void load_fails(const char *want)
{
    g_autofree uint8_t *before = g_malloc(RAM_SIZE);
    X86BootEntry entry_before = x86_boot_entry;
    Error *err = NULL;

    memset(ram_ptr, 0x55, RAM_SIZE);
    rom_reset_all();
    memcpy(before, ram_ptr, RAM_SIZE);

    g_assert_false(x86_load_kernel(&ms, fw_cfg, &err));
    g_assert_nonnull(err);
    if (!strstr(err->msg, want)) {
        g_error("error '%s' does not mention '%s'", err->msg, want);
    }
    g_test_message("refused: %s", err->msg);
    error_free(err);

    memset(ram_ptr, 0x55, RAM_SIZE);
    rom_reset_all();
    g_assert_true(memcmp(before, ram_ptr, RAM_SIZE) == 0);
    g_assert_true(memcmp(&entry_before, &x86_boot_entry,
                         sizeof(entry_before)) == 0);
}

static bool all_bytes(uint64_t addr, size_t len, uint8_t val)
{
    for (size_t i = 0; i < len; i++) {
        if (ram_ptr[addr + i] != val) {
            return false;
        }
    }
    return true;
}

static void fill_pattern(uint8_t *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++) {
        p[i] = (i * 13 + seed) ^ (i >> 8);
    }
}

static void check_e820(const uint8_t *p, unsigned stride)
{
    unsigned n;
    const E820Entry *e820 = e820_get_table(&n);

    for (unsigned i = 0; i < n; i++) {
        g_assert_cmpuint(ldq_le(p + i * stride), ==, e820[i].addr);
        g_assert_cmpuint(ldq_le(p + i * stride + 8), ==, e820[i].size);
        g_assert_cmpuint(ldl_le(p + i * stride + 16), ==, e820[i].type);
    }
}

static void read_fw_cfg(uint16_t key, void *buf, size_t len)
{
    g_assert_true(address_space_write(&address_space_io, 0x510, &key, 2));
    for (size_t i = 0; i < len; i++) {
        g_assert_true(address_space_read(&address_space_io, 0x511,
                                         (uint8_t *)buf + i, 1));
    }
}

static uint32_t fw_cfg_u32(uint16_t key)
{
    uint8_t b[4];

    read_fw_cfg(key, b, 4);
    return ldl_le(b);
}

/* ---- Linux bzImage ---- */

typedef struct BzOpts {
    unsigned setup_sects;
    uint16_t version;
    uint8_t loadflags;
    size_t payload;
    uint32_t cmdline_size;
    uint32_t initrd_max;
    uint32_t init_size;
    uint64_t pref;
    size_t truncate;          /* cut the file to this size if non-zero */
} BzOpts;

static const BzOpts bz_default = {
    .setup_sects = 4, .version = 0x20f, .loadflags = 0x01, .payload = 8192,
    .cmdline_size = 2047, .initrd_max = 0x7fffffff, .init_size = 0x10000,
    .pref = 0x100000,
};

static char *make_bzimage(const BzOpts *o, GByteArray **out)
{
    size_t setup = (o->setup_sects + 1) * 512;
    size_t len = setup + o->payload;
    g_autofree uint8_t *f = g_malloc0(len);

    f[0x1f1] = o->setup_sects;
    stw_le(f + 0x1fe, 0xaa55);
    f[0x200] = 0xeb;
    f[0x201] = 0x6a;                       /* header ends at 0x26c */
    memcpy(f + 0x202, "HdrS", 4);
    stw_le(f + 0x206, o->version);
    f[0x211] = o->loadflags;
    stl_le(f + 0x214, 0x100000);
    stl_le(f + 0x22c, o->initrd_max);
    stl_le(f + 0x230, 0x200000);
    stl_le(f + 0x238, o->cmdline_size);
    stq_le(f + 0x258, o->pref);
    stl_le(f + 0x260, o->init_size);
    f[0x26c] = 0x77;                       /* past the header: not copied */
    fill_pattern(f + setup, o->payload, 1);
    if (o->truncate) {
        len = o->truncate;
    }
    if (out) {
        *out = g_byte_array_new();
        g_byte_array_append(*out, f, len);
    }
    return write_file("bzImage", f, len);
}

static void test_bzimage_direct(void)
{
    GByteArray *file;
    g_autofree char *kernel = make_bzimage(&bz_default, &file);
    uint8_t initrd_data[10000];
    g_autofree char *initrd = NULL;
    const uint8_t *bp = ram_ptr + ZERO_PAGE;
    const uint64_t *gdt = (const uint64_t *)(ram_ptr + 0x6000);
    uint32_t initrd_addr;
    unsigned n;

    fill_pattern(initrd_data, sizeof(initrd_data), 2);
    initrd = write_file("initrd", initrd_data, sizeof(initrd_data));
    reset_machine(kernel, initrd, "console=ttyS0 quiet");
    load_ok();

    g_assert_true(x86_boot_entry.enabled);
    g_assert_cmphex(x86_boot_entry.eip, ==, 0x100000);
    g_assert_cmphex(x86_boot_entry.esi, ==, ZERO_PAGE);
    g_assert_cmphex(x86_boot_entry.ebx | x86_boot_entry.edi |
                    x86_boot_entry.ebp, ==, 0);
    g_assert_cmphex(x86_boot_entry.cs_selector, ==, 0x10);
    g_assert_cmphex(x86_boot_entry.ds_selector, ==, 0x18);
    g_assert_cmphex(x86_boot_entry.gdt_base, ==, 0x6000);
    g_assert_cmpuint(x86_boot_entry.gdt_limit, ==, 31);
    g_assert_cmphex(gdt[2], ==, 0x00cf9b000000ffffULL);
    g_assert_cmphex(gdt[3], ==, 0x00cf93000000ffffULL);

    /* zero page: header copied to 0x26c, fields filled, rest zero */
    g_assert_true(all_bytes(ZERO_PAGE, 0x1e8, 0));
    g_assert_cmpmem(bp + 0x202, 4, "HdrS", 4);
    g_assert_cmpuint(bp[0x1f1], ==, 4);
    g_assert_cmphex(bp[0x210], ==, 0xb0);
    g_assert_cmphex(bp[0x211], ==, 0x81);
    g_assert_cmphex(lduw_le(bp + 0x224), ==, 0xfe00);
    g_assert_cmphex(ldl_le(bp + 0x228), ==, CMDLINE);
    g_assert_cmphex(ldl_le(bp + 0x214), ==, 0x100000);
    g_assert_cmphex(ldl_le(bp + 0x238), ==, 2047);
    g_assert_cmpuint(bp[0x26c], ==, 0);
    g_assert_cmpuint(bp[0x1ef], ==, 0);    /* sentinel */
    e820_get_table(&n);
    g_assert_cmpuint(bp[0x1e8], ==, n);
    check_e820(bp + 0x2d0, 20);
    g_assert_true(all_bytes(ZERO_PAGE + 0x2d0 + 20 * n, 0x1000 - 0x2d0 - 20 * n,
                            0));

    g_assert_cmpstr((char *)ram_ptr + CMDLINE, ==, "console=ttyS0 quiet");
    g_assert_cmpmem(ram_ptr + 0x100000, bz_default.payload,
                    file->data + 5 * 512, bz_default.payload);

    /* initrd: page-aligned, as high as fits under the firmware reserve */
    initrd_addr = ldl_le(bp + 0x218);
    g_assert_cmpuint(ldl_le(bp + 0x21c), ==, sizeof(initrd_data));
    g_assert_cmpuint(initrd_addr % 4096, ==, 0);
    g_assert_cmpuint(initrd_addr + sizeof(initrd_data), <=,
                     RAM_SIZE - X86_BOOT_TOP_RESERVE);
    g_assert_cmpuint(initrd_addr + sizeof(initrd_data) + 4096, >,
                     RAM_SIZE - X86_BOOT_TOP_RESERVE);
    g_assert_cmpmem(ram_ptr + initrd_addr, sizeof(initrd_data), initrd_data,
                    sizeof(initrd_data));
    g_byte_array_free(file, true);
}

static void test_bzimage_initrd_max(void)
{
    BzOpts o = bz_default;
    g_autofree char *kernel = NULL;
    g_autofree char *initrd = NULL;
    uint8_t data[5000] = { 1, 2, 3 };
    uint32_t addr;

    o.initrd_max = 0x3fffff;               /* initrd below 4 MiB */
    kernel = make_bzimage(&o, NULL);
    initrd = write_file("initrd-small", data, sizeof(data));
    reset_machine(kernel, initrd, NULL);
    load_ok();
    addr = ldl_le(ram_ptr + ZERO_PAGE + 0x218);
    g_assert_cmphex(addr, ==, 0x3fe000);
    g_assert_cmpstr((char *)ram_ptr + CMDLINE, ==, "");

    /* a kernel that needs 3 MiB from 1 MiB leaves no room below 4 MiB */
    o.init_size = 3 * MiB;
    g_free(kernel);
    kernel = make_bzimage(&o, NULL);
    reset_machine(kernel, initrd, NULL);
    load_fails("does not fit");
}

static void test_bzimage_bad(void)
{
    g_autofree char *missing = g_build_filename(tmpdir, "nope", NULL);
    g_autofree char *big_initrd = NULL;
    char *kernel;
    BzOpts o;

    o = bz_default;
    o.truncate = 0x300;                    /* header, but not the setup */
    kernel = make_bzimage(&o, NULL);
    reset_machine(kernel, NULL, NULL);
    load_fails("truncated");
    g_free(kernel);

    o = bz_default;
    o.setup_sects = 255;
    kernel = make_bzimage(&o, NULL);
    reset_machine(kernel, NULL, NULL);
    load_fails("too large");
    g_free(kernel);

    o = bz_default;
    o.setup_sects = 40;
    o.payload = 0;
    o.truncate = 30 * 512;
    kernel = make_bzimage(&o, NULL);
    reset_machine(kernel, NULL, NULL);
    load_fails("truncated");
    g_free(kernel);

    o = bz_default;
    o.version = 0x204;
    kernel = make_bzimage(&o, NULL);
    reset_machine(kernel, NULL, NULL);
    load_fails("2.04 is too old");
    g_free(kernel);

    o = bz_default;
    o.loadflags = 0;
    kernel = make_bzimage(&o, NULL);
    reset_machine(kernel, NULL, NULL);
    load_fails("zImage");
    g_free(kernel);

    o = bz_default;
    o.cmdline_size = 8;
    kernel = make_bzimage(&o, NULL);
    reset_machine(kernel, NULL, "123456789");
    load_fails("command line is too long");
    reset_machine(kernel, NULL, "12345678");
    load_ok();
    g_free(kernel);

    o = bz_default;
    o.init_size = 64 * MiB;                /* more than the guest has */
    kernel = make_bzimage(&o, NULL);
    reset_machine(kernel, NULL, NULL);
    load_fails("not in guest RAM");
    g_free(kernel);

    o = bz_default;
    kernel = make_bzimage(&o, NULL);
    reset_machine(kernel, missing, NULL);
    load_fails(missing);
    big_initrd = g_build_filename(tmpdir, "big-initrd", NULL);
    {
        FILE *f = fopen(big_initrd, "w");

        g_assert_nonnull(f);
        g_assert_cmpint(ftruncate(fileno(f), RAM_SIZE), ==, 0);
        fclose(f);
    }
    reset_machine(kernel, big_initrd, NULL);
    load_fails("too large");
    g_free(kernel);
}

/* ---- ELF images (multiboot and PVH) ---- */

typedef struct Seg {
    uint32_t type;
    uint64_t offset, vaddr, paddr, filesz, memsz;
} Seg;

/* An ELF file of size len with the given program headers (data at their
 * offsets is left to the caller). */
static uint8_t *make_elf(bool is64, uint16_t machine, uint64_t entry,
                         const Seg *segs, unsigned n, size_t len)
{
    uint8_t *f = g_malloc0(len);

    memcpy(f, ELFMAG, SELFMAG);
    f[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
    f[EI_DATA] = ELFDATA2LSB;
    f[EI_VERSION] = EV_CURRENT;
    if (is64) {
        Elf64_Ehdr eh = {
            .e_type = ET_EXEC, .e_machine = machine, .e_version = EV_CURRENT,
            .e_entry = entry, .e_phoff = sizeof(Elf64_Ehdr),
            .e_ehsize = sizeof(Elf64_Ehdr),
            .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = n,
        };
        memcpy(eh.e_ident, f, EI_NIDENT);
        memcpy(f, &eh, sizeof(eh));
        for (unsigned i = 0; i < n; i++) {
            Elf64_Phdr ph = {
                .p_type = segs[i].type, .p_offset = segs[i].offset,
                .p_vaddr = segs[i].vaddr, .p_paddr = segs[i].paddr,
                .p_filesz = segs[i].filesz, .p_memsz = segs[i].memsz,
            };
            memcpy(f + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
        }
    } else {
        Elf32_Ehdr eh = {
            .e_type = ET_EXEC, .e_machine = machine, .e_version = EV_CURRENT,
            .e_entry = entry, .e_phoff = sizeof(Elf32_Ehdr),
            .e_ehsize = sizeof(Elf32_Ehdr),
            .e_phentsize = sizeof(Elf32_Phdr), .e_phnum = n,
        };
        memcpy(eh.e_ident, f, EI_NIDENT);
        memcpy(f, &eh, sizeof(eh));
        for (unsigned i = 0; i < n; i++) {
            Elf32_Phdr ph = {
                .p_type = segs[i].type, .p_offset = segs[i].offset,
                .p_vaddr = segs[i].vaddr, .p_paddr = segs[i].paddr,
                .p_filesz = segs[i].filesz, .p_memsz = segs[i].memsz,
            };
            memcpy(f + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
        }
    }
    return f;
}

static void put_mb_header(uint8_t *p, uint32_t flags)
{
    stl_le(p, 0x1badb002);
    stl_le(p + 4, flags);
    stl_le(p + 8, -(0x1badb002 + flags));
}

#define MB_FILE_LEN 0x2000

/* Multiboot ELF32: one segment, file 0x1000+0x800 -> paddr, bss to 0x3000. */
static char *make_multiboot(bool is64, uint64_t vaddr, uint64_t paddr,
                            uint64_t entry, uint32_t flags)
{
    Seg seg = { PT_LOAD, 0x1000, vaddr, paddr, 0x800, 0x3000 };
    g_autofree uint8_t *f = make_elf(is64, is64 ? EM_X86_64 : EM_386, entry,
                                     &seg, 1, MB_FILE_LEN);

    fill_pattern(f + 0x1000, 0x800, 3);
    put_mb_header(f + 0x1000, flags);
    return write_file("multiboot.elf", f, MB_FILE_LEN);
}

static void check_mbi(const char *cmdline, unsigned mods)
{
    const uint8_t *mbi = ram_ptr + ZERO_PAGE;
    uint32_t mmap = ldl_le(mbi + 48);
    unsigned n;

    e820_get_table(&n);
    g_assert_cmphex(x86_boot_entry.eax, ==, 0x2badb002);
    g_assert_cmphex(x86_boot_entry.ebx, ==, ZERO_PAGE);
    g_assert_cmphex(x86_boot_entry.cs_selector, ==, 0x08);
    g_assert_cmphex(x86_boot_entry.ds_selector, ==, 0x10);
    g_assert_cmpuint(x86_boot_entry.gdt_limit, ==, 23);
    g_assert_cmphex(ldl_le(mbi), ==, 0x24d);
    g_assert_cmpuint(ldl_le(mbi + 4), ==, 0x9fc00 / 1024);
    g_assert_cmpuint(ldl_le(mbi + 8), ==, (RAM_SIZE - MiB) / 1024);
    g_assert_cmpstr((char *)ram_ptr + ldl_le(mbi + 16), ==, cmdline);
    g_assert_cmpuint(ldl_le(mbi + 20), ==, mods);
    g_assert_cmpstr((char *)ram_ptr + ldl_le(mbi + 64), ==, "kestrel");
    g_assert_cmpuint(ldl_le(mbi + 44), ==, n * 24);
    for (unsigned i = 0; i < n; i++) {
        g_assert_cmpuint(ldl_le(ram_ptr + mmap + i * 24), ==, 20);
    }
    check_e820(ram_ptr + mmap + 4, 24);
}

static void test_multiboot_elf(void)
{
    g_autofree char *kernel = make_multiboot(false, 0x100000, 0x100000,
                                             0x100010, 3);
    g_autofree char *cmdline = g_strdup_printf("%s hello world", kernel);
    g_autofree uint8_t *file = NULL;
    size_t len;

    g_assert_true(g_file_get_contents(kernel, (char **)&file, &len, NULL));
    reset_machine(kernel, NULL, "hello world");
    load_ok();
    g_assert_true(x86_boot_entry.enabled);
    g_assert_cmphex(x86_boot_entry.eip, ==, 0x100010);
    check_mbi(cmdline, 0);
    g_assert_cmpmem(ram_ptr + 0x100000, 0x800, file + 0x1000, 0x800);
    g_assert_true(all_bytes(0x100800, 0x2800, 0));     /* bss */
    g_assert_cmpuint(ram_ptr[0x103000], ==, 0xaa);

    /* a kernel linked high: the entry is made physical */
    g_free(kernel);
    kernel = make_multiboot(false, 0xc0100000, 0x200000, 0xc0100020, 3);
    reset_machine(kernel, NULL, NULL);
    load_ok();
    g_assert_cmphex(x86_boot_entry.eip, ==, 0x200020);
}

static void test_multiboot_modules(void)
{
    g_autofree char *kernel = make_multiboot(false, 0x100000, 0x100000,
                                             0x100010, 1);
    uint8_t m1[3000], m2[5000];
    g_autofree char *p1 = NULL, *p2 = NULL, *list = NULL, *s2 = NULL;
    const uint8_t *mbi = ram_ptr + ZERO_PAGE;
    const uint8_t *mods;

    fill_pattern(m1, sizeof(m1), 4);
    fill_pattern(m2, sizeof(m2), 5);
    p1 = write_file("mod1.bin", m1, sizeof(m1));
    p2 = write_file("mod,2.bin", m2, sizeof(m2));
    s2 = g_strdup_printf("%.*s,,2.bin", (int)(strlen(p2) - 6), p2);
    list = g_strdup_printf("%s arg1 arg2,%s", p1, s2);
    reset_machine(kernel, list, "x");
    load_ok();

    g_assert_cmpuint(ldl_le(mbi + 20), ==, 2);
    mods = ram_ptr + ldl_le(mbi + 24);
    /* page-aligned, after the kernel's end (0x103000), in order */
    g_assert_cmphex(ldl_le(mods), ==, 0x103000);
    g_assert_cmphex(ldl_le(mods + 4), ==, 0x103000 + sizeof(m1));
    g_assert_cmphex(ldl_le(mods + 16), ==, 0x104000);
    g_assert_cmphex(ldl_le(mods + 20), ==, 0x104000 + sizeof(m2));
    g_assert_cmpmem(ram_ptr + 0x103000, sizeof(m1), m1, sizeof(m1));
    g_assert_cmpmem(ram_ptr + 0x104000, sizeof(m2), m2, sizeof(m2));
    {
        g_autofree char *want1 = g_strdup_printf("%s arg1 arg2", p1);

        g_assert_cmpstr((char *)ram_ptr + ldl_le(mods + 8), ==, want1);
        g_assert_cmpstr((char *)ram_ptr + ldl_le(mods + 24), ==, p2);
    }

    reset_machine(kernel, "/nonexistent/module arg", NULL);
    load_fails("/nonexistent/module");
    reset_machine(kernel, ",", NULL);
    load_fails("empty multiboot module");
}

static void test_multiboot_aout(void)
{
    uint8_t f[0x600];
    g_autofree char *kernel = NULL;

    /* header at 0x40 says: file offset 0 loads at 0x100000, bss to 0x102000 */
    fill_pattern(f, sizeof(f), 6);
    put_mb_header(f + 0x40, 0x10002);
    stl_le(f + 0x4c, 0x100040);            /* header_addr */
    stl_le(f + 0x50, 0x100000);            /* load_addr */
    stl_le(f + 0x54, 0);                   /* load_end: whole file */
    stl_le(f + 0x58, 0x102000);            /* bss_end */
    stl_le(f + 0x5c, 0x100080);            /* entry */
    kernel = write_file("aout.bin", f, sizeof(f));
    reset_machine(kernel, NULL, NULL);
    load_ok();
    g_assert_cmphex(x86_boot_entry.eip, ==, 0x100080);
    g_assert_cmpmem(ram_ptr + 0x100000, sizeof(f), f, sizeof(f));
    g_assert_true(all_bytes(0x100000 + sizeof(f), 0x2000 - sizeof(f), 0));

    /* load_addr after header_addr */
    stl_le(f + 0x50, 0x100080);
    g_free(kernel);
    kernel = write_file("aout.bin", f, sizeof(f));
    reset_machine(kernel, NULL, NULL);
    load_fails("does not fit the header address");

    /* load_end past the file */
    stl_le(f + 0x50, 0x100000);
    stl_le(f + 0x54, 0x101000);
    g_free(kernel);
    kernel = write_file("aout.bin", f, sizeof(f));
    reset_machine(kernel, NULL, NULL);
    load_fails("outside the file");

    /* entry outside the image */
    stl_le(f + 0x54, 0);
    stl_le(f + 0x5c, 0x200000);
    g_free(kernel);
    kernel = write_file("aout.bin", f, sizeof(f));
    reset_machine(kernel, NULL, NULL);
    load_fails("entry");

    /* bss end before the end of the image */
    stl_le(f + 0x5c, 0x100080);
    stl_le(f + 0x58, 0x100100);
    g_free(kernel);
    kernel = write_file("aout.bin", f, sizeof(f));
    reset_machine(kernel, NULL, NULL);
    load_fails("bss");

    /* no kludge and not ELF */
    put_mb_header(f + 0x40, 0x2);
    g_free(kernel);
    kernel = write_file("aout.bin", f, sizeof(f));
    reset_machine(kernel, NULL, NULL);
    load_fails("neither ELF");
}

static void test_multiboot_bad(void)
{
    char *kernel;
    uint8_t *f;
    Seg seg;

    kernel = make_multiboot(true, 0x100000, 0x100000, 0x100010, 3);
    reset_machine(kernel, NULL, NULL);
    load_fails("Cannot load x86-64 image, give a 32bit one.");
    g_free(kernel);

    kernel = make_multiboot(false, 0x100000, 0x100000, 0x100010, 3 | 8);
    reset_machine(kernel, NULL, NULL);
    load_fails("unsupported features");
    g_free(kernel);

    kernel = make_multiboot(false, 0x4000000, 0x4000000, 0x4000010, 3);
    reset_machine(kernel, NULL, NULL);
    load_fails("not in guest RAM");
    g_free(kernel);

    kernel = make_multiboot(false, 0xa0000, 0x7000, 0xa0000, 3);
    reset_machine(kernel, NULL, NULL);
    load_fails("overlaps");
    g_free(kernel);

    kernel = make_multiboot(false, 0x100000, 0x100000, 0x500000, 3);
    reset_machine(kernel, NULL, NULL);
    load_fails("entry point");
    g_free(kernel);

    kernel = make_multiboot(false, 0xfffff000, 0xfffff000, 0xfffff000, 3);
    reset_machine(kernel, NULL, NULL);
    load_fails("below 4 GiB");
    g_free(kernel);

    /* segment data beyond the end of the file */
    seg = (Seg) { PT_LOAD, 0x1000, 0x100000, 0x100000, 0x2000, 0x2000 };
    f = make_elf(false, EM_386, 0x100000, &seg, 1, MB_FILE_LEN);
    put_mb_header(f + 0x1000, 3);
    kernel = write_file("bad.elf", f, MB_FILE_LEN);
    reset_machine(kernel, NULL, NULL);
    load_fails("outside the file");
    g_free(kernel);
    g_free(f);

    /* filesz > memsz */
    seg = (Seg) { PT_LOAD, 0x1000, 0x100000, 0x100000, 0x800, 0x400 };
    f = make_elf(false, EM_386, 0x100000, &seg, 1, MB_FILE_LEN);
    put_mb_header(f + 0x1000, 3);
    kernel = write_file("bad.elf", f, MB_FILE_LEN);
    reset_machine(kernel, NULL, NULL);
    load_fails("larger in the file than in memory");
    g_free(kernel);
    g_free(f);

    /* program headers pointing past the file */
    seg = (Seg) { PT_LOAD, 0x1000, 0x100000, 0x100000, 0x800, 0x800 };
    f = make_elf(false, EM_386, 0x100000, &seg, 1, MB_FILE_LEN);
    put_mb_header(f + 0x1000, 3);
    stl_le(f + offsetof(Elf32_Ehdr, e_phoff), MB_FILE_LEN - 16);
    kernel = write_file("bad.elf", f, MB_FILE_LEN);
    reset_machine(kernel, NULL, NULL);
    load_fails("program headers");
    stl_le(f + offsetof(Elf32_Ehdr, e_phoff), 0xffffffff);
    g_free(kernel);
    kernel = write_file("bad.elf", f, MB_FILE_LEN);
    reset_machine(kernel, NULL, NULL);
    load_fails("program headers");
    stl_le(f + offsetof(Elf32_Ehdr, e_phoff), sizeof(Elf32_Ehdr));
    stw_le(f + offsetof(Elf32_Ehdr, e_phnum), 0xffff);
    g_free(kernel);
    kernel = write_file("bad.elf", f, MB_FILE_LEN);
    reset_machine(kernel, NULL, NULL);
    load_fails("program headers");
    g_free(kernel);
    g_free(f);

    /* nothing to load */
    seg = (Seg) { PT_NOTE, 0x1000, 0, 0, 0x10, 0x10 };
    f = make_elf(false, EM_386, 0x100000, &seg, 1, MB_FILE_LEN);
    put_mb_header(f + 0x1000, 3);
    kernel = write_file("bad.elf", f, MB_FILE_LEN);
    reset_machine(kernel, NULL, NULL);
    load_fails("nothing to load");
    g_free(kernel);
    g_free(f);
}

/* ---- PVH ---- */

#define PVH_FILE_LEN 0x3000

/* PT_LOAD of 0x1000 bytes at file 0x1000, and a note segment at 0x2000
 * holding an unrelated note, then the PVH one (entry of desc_size bytes). */
static char *make_pvh(bool is64, uint64_t paddr, uint64_t entry,
                      unsigned desc_size, const char *name)
{
    Seg segs[2] = {
        { PT_LOAD, 0x1000, 0xffffffff80000000ULL + paddr, paddr, 0x1000,
          0x2000 },
        { PT_NOTE, 0x2000, 0, 0, 0, 0 },
    };
    g_autofree uint8_t *f = NULL;
    uint8_t notes[64] = { 0 };
    size_t n = 0;

    stl_le(notes, 4);                      /* a GNU note first */
    stl_le(notes + 4, 4);
    stl_le(notes + 8, 3);
    memcpy(notes + 12, "GNU", 4);
    n = 20;
    stl_le(notes + n, 4);
    stl_le(notes + n + 4, desc_size);
    stl_le(notes + n + 8, 18);
    memcpy(notes + n + 12, name, 4);
    stq_le(notes + n + 16, entry);
    n += 16 + ALIGN_UP(desc_size, 4);
    segs[1].filesz = segs[1].memsz = n;

    f = make_elf(is64, is64 ? EM_X86_64 : EM_386, 0, segs, 2, PVH_FILE_LEN);
    fill_pattern(f + 0x1000, 0x1000, 7);
    memcpy(f + 0x2000, notes, n);
    return write_file("pvh.elf", f, PVH_FILE_LEN);
}

static void check_start_info(const char *cmdline)
{
    const uint8_t *si = ram_ptr + ZERO_PAGE;
    unsigned n;

    e820_get_table(&n);
    g_assert_cmphex(x86_boot_entry.ebx, ==, ZERO_PAGE);
    g_assert_cmphex(x86_boot_entry.cs_selector, ==, 0x08);
    g_assert_cmphex(ldl_le(si), ==, 0x336ec578);
    g_assert_cmpuint(ldl_le(si + 4), ==, 1);
    g_assert_cmpstr((char *)ram_ptr + ldq_le(si + 24), ==, cmdline);
    g_assert_cmpuint(ldl_le(si + 48), ==, n);
    check_e820(ram_ptr + ldq_le(si + 40), 24);
}

static void test_pvh(void)
{
    g_autofree char *kernel = make_pvh(false, 0x200000, 0x200100, 4, "Xen");
    g_autofree char *initrd = NULL;
    g_autofree uint8_t *file = NULL;
    uint8_t data[7000];
    const uint8_t *si = ram_ptr + ZERO_PAGE;
    const uint8_t *mod;
    size_t len;

    g_assert_true(g_file_get_contents(kernel, (char **)&file, &len, NULL));
    reset_machine(kernel, NULL, "root=/dev/pvh");
    load_ok();
    g_assert_true(x86_boot_entry.enabled);
    g_assert_cmphex(x86_boot_entry.eip, ==, 0x200100);
    check_start_info("root=/dev/pvh");
    g_assert_cmpuint(ldl_le(si + 12), ==, 0);
    g_assert_cmpmem(ram_ptr + 0x200000, 0x1000, file + 0x1000, 0x1000);
    g_assert_true(all_bytes(0x201000, 0x1000, 0));

    /* ELF64 (vmlinux style) with an 8-byte note and an initrd */
    g_free(kernel);
    kernel = make_pvh(true, 0x1000000, 0x1000040, 8, "Xen");
    fill_pattern(data, sizeof(data), 8);
    initrd = write_file("pvh-initrd", data, sizeof(data));
    reset_machine(kernel, initrd, NULL);
    load_ok();
    g_assert_cmphex(x86_boot_entry.eip, ==, 0x1000040);
    check_start_info("");
    g_assert_cmpuint(ldl_le(si + 12), ==, 1);
    mod = ram_ptr + ldq_le(si + 16);
    g_assert_cmpuint(ldq_le(mod + 8), ==, sizeof(data));
    g_assert_cmpuint(ldq_le(mod) % 4096, ==, 0);
    g_assert_cmpuint(ldq_le(mod), >=, 0x1002000);
    g_assert_cmpmem(ram_ptr + ldq_le(mod), sizeof(data), data, sizeof(data));
}

static void test_pvh_bad(void)
{
    char *kernel;

    kernel = make_pvh(false, 0x200000, 0x200100, 4, "Xyz");
    reset_machine(kernel, NULL, NULL);
    load_fails("without a PVH entry note");
    g_free(kernel);

    kernel = make_pvh(false, 0x200000, 0x900000, 4, "Xen");
    reset_machine(kernel, NULL, NULL);
    load_fails("PVH entry point");
    g_free(kernel);

    kernel = make_pvh(false, 0x200000, 0x200100, 2, "Xen");
    reset_machine(kernel, NULL, NULL);
    load_fails("bad size");
    g_free(kernel);

    kernel = make_pvh(true, 0x2000000, 0x2000000, 8, "Xen");
    reset_machine(kernel, NULL, NULL);
    load_fails("not in guest RAM");
    g_free(kernel);
}

static void test_not_a_kernel(void)
{
    g_autofree char *missing = g_build_filename(tmpdir, "missing", NULL);
    g_autofree char *text = write_file("text", "hello, world\n", 13);
    g_autofree char *empty = write_file("empty", "", 0);
    g_autofree char *elf_hdr = write_file("elf-hdr", "\x7f" "ELF\1\1\1", 7);
    g_autofree char *elf_ppc = NULL;
    Seg seg = { PT_LOAD, 0x100, 0x100000, 0x100000, 0x10, 0x10 };
    g_autofree uint8_t *f = make_elf(false, EM_PPC, 0, &seg, 1, 0x200);

    elf_ppc = write_file("elf-ppc", f, 0x200);
    reset_machine(missing, NULL, NULL);
    load_fails(missing);
    reset_machine(text, NULL, NULL);
    load_fails("is not a kernel");
    reset_machine(empty, NULL, NULL);
    load_fails("is not a kernel");
    reset_machine(elf_hdr, NULL, NULL);
    load_fails("is not an ELF file");
    reset_machine(elf_ppc, NULL, NULL);
    load_fails("another machine");
    reset_machine(tmpdir, NULL, NULL);
    load_fails("not a regular file");
}

/* ---- firmware boot: fw_cfg items and the option ROM ---- */

static void check_rom(const char *name)
{
    size_t len;
    const uint8_t *rom = fw_cfg_get_file(fw_cfg, name, &len);
    unsigned sum = 0;

    g_assert_nonnull(rom);
    g_assert_cmpuint(len % 512, ==, 0);
    g_assert_cmphex(rom[0], ==, 0x55);
    g_assert_cmphex(rom[1], ==, 0xaa);
    g_assert_cmpuint(rom[2] * 512, ==, len);
    for (size_t i = 0; i < len; i++) {
        sum += rom[i];
    }
    g_assert_cmpuint(sum % 256, ==, 0);
}

static void test_firmware_boot(void)
{
    g_autofree char *rom_path = firmware_find("linuxboot_dma.bin");
    g_autofree char *initrd = NULL;
    g_autofree uint8_t *setup = NULL, *kernel_data = NULL;
    g_autofree uint8_t *initrd_data = NULL;
    GByteArray *file;
    char *kernel;
    char cmdline[32];
    uint8_t data[3000];

    if (!rom_path) {
        g_test_skip("linuxboot_dma.bin not built");
        return;
    }
    kernel = make_bzimage(&bz_default, &file);
    fill_pattern(data, sizeof(data), 9);
    initrd = write_file("fw-initrd", data, sizeof(data));
    reset_machine(kernel, initrd, "console=ttyS0");
    ms.firmware_boot = true;
    {
        /* everything goes through fw_cfg: no blob for guest RAM */
        g_autofree uint8_t *before = g_malloc(RAM_SIZE);

        memset(ram_ptr, 0xaa, RAM_SIZE);
        rom_reset_all();
        memcpy(before, ram_ptr, RAM_SIZE);
        load_ok();
        g_assert_true(memcmp(before, ram_ptr, RAM_SIZE) == 0);
    }
    g_assert_false(x86_boot_entry.enabled);

    g_assert_cmphex(fw_cfg_u32(FW_CFG_SETUP_ADDR), ==, 0x10000);
    g_assert_cmpuint(fw_cfg_u32(FW_CFG_SETUP_SIZE), ==, 5 * 512);
    setup = g_malloc(5 * 512);
    read_fw_cfg(FW_CFG_SETUP_DATA, setup, 5 * 512);
    g_assert_cmpmem(setup, 0x210, file->data, 0x210);
    g_assert_cmphex(setup[0x210], ==, 0xb0);
    g_assert_cmphex(setup[0x211], ==, 0x81);
    g_assert_cmphex(ldl_le(setup + 0x228), ==, CMDLINE);
    g_assert_cmphex(lduw_le(setup + 0x224), ==, 0xfe00);
    g_assert_cmpuint(ldl_le(setup + 0x21c), ==, sizeof(data));
    g_assert_cmphex(ldl_le(setup + 0x218), ==, fw_cfg_u32(FW_CFG_INITRD_ADDR));

    g_assert_cmphex(fw_cfg_u32(FW_CFG_KERNEL_ADDR), ==, 0x100000);
    g_assert_cmpuint(fw_cfg_u32(FW_CFG_KERNEL_SIZE), ==, bz_default.payload);
    kernel_data = g_malloc(bz_default.payload);
    read_fw_cfg(FW_CFG_KERNEL_DATA, kernel_data, bz_default.payload);
    g_assert_cmpmem(kernel_data, bz_default.payload, file->data + 5 * 512,
                    bz_default.payload);

    g_assert_cmphex(fw_cfg_u32(FW_CFG_CMDLINE_ADDR), ==, CMDLINE);
    g_assert_cmpuint(fw_cfg_u32(FW_CFG_CMDLINE_SIZE), ==, 14);
    read_fw_cfg(FW_CFG_CMDLINE_DATA, cmdline, 14);
    g_assert_cmpstr(cmdline, ==, "console=ttyS0");

    g_assert_cmpuint(fw_cfg_u32(FW_CFG_INITRD_SIZE), ==, sizeof(data));
    g_assert_cmpuint(fw_cfg_u32(FW_CFG_INITRD_ADDR) % 4096, ==, 0);
    g_assert_cmpuint(fw_cfg_u32(FW_CFG_INITRD_ADDR) + sizeof(data), <=,
                     RAM_SIZE - X86_BOOT_TOP_RESERVE);
    initrd_data = g_malloc(sizeof(data));
    read_fw_cfg(FW_CFG_INITRD_DATA, initrd_data, sizeof(data));
    g_assert_cmpmem(initrd_data, sizeof(data), data, sizeof(data));

    check_rom("genroms/linuxboot_dma.bin");

    /* PVH needs direct boot */
    g_free(kernel);
    kernel = make_pvh(false, 0x200000, 0x200100, 4, "Xen");
    reset_machine(kernel, NULL, NULL);
    ms.firmware_boot = true;
    load_fails("only supported with direct boot");
    g_free(kernel);
    g_byte_array_free(file, true);
}

/* Multiboot through the firmware: one blob for kernel and modules, the
 * information for the ROM to complete, and multiboot_dma.bin. */
static void test_firmware_multiboot(void)
{
    g_autofree char *rom_path = firmware_find("multiboot_dma.bin");
    g_autofree char *kernel = NULL, *mod = NULL, *cmdline = NULL;
    g_autofree uint8_t *file = NULL, *span = NULL, *mbi = NULL;
    uint8_t data[100];
    uint32_t span_size, mbi_size;
    size_t len;

    if (!rom_path) {
        g_test_skip("multiboot_dma.bin not built");
        return;
    }
    kernel = make_multiboot(false, 0x100000, 0x100000, 0x100010, 3);
    g_assert_true(g_file_get_contents(kernel, (char **)&file, &len, NULL));
    fill_pattern(data, sizeof(data), 10);
    mod = write_file("fw-module", data, sizeof(data));
    reset_machine(kernel, mod, "a b");
    ms.firmware_boot = true;
    {
        g_autofree uint8_t *before = g_malloc(RAM_SIZE);

        memset(ram_ptr, 0xaa, RAM_SIZE);
        rom_reset_all();
        memcpy(before, ram_ptr, RAM_SIZE);
        load_ok();
        g_assert_true(memcmp(before, ram_ptr, RAM_SIZE) == 0);
    }
    g_assert_false(x86_boot_entry.enabled);
    check_rom("genroms/multiboot_dma.bin");

    /* kernel at 1 MiB (bss to 0x103000), module page-aligned after it */
    g_assert_cmphex(fw_cfg_u32(FW_CFG_KERNEL_ENTRY), ==, 0x100010);
    g_assert_cmphex(fw_cfg_u32(FW_CFG_KERNEL_ADDR), ==, 0x100000);
    span_size = fw_cfg_u32(FW_CFG_KERNEL_SIZE);
    g_assert_cmphex(span_size, ==, 0x3000 + sizeof(data));
    span = g_malloc(span_size);
    read_fw_cfg(FW_CFG_KERNEL_DATA, span, span_size);
    g_assert_cmpmem(span, 0x800, file + 0x1000, 0x800);
    for (unsigned i = 0x800; i < 0x3000; i++) {
        g_assert_cmpuint(span[i], ==, 0);
    }
    g_assert_cmpmem(span + 0x3000, sizeof(data), data, sizeof(data));

    /* the information: the ROM fills memory sizes and the map */
    g_assert_cmphex(fw_cfg_u32(FW_CFG_INITRD_ADDR), ==, ZERO_PAGE);
    mbi_size = fw_cfg_u32(FW_CFG_INITRD_SIZE);
    mbi = g_malloc(mbi_size);
    read_fw_cfg(FW_CFG_INITRD_DATA, mbi, mbi_size);
    g_assert_cmphex(ldl_le(mbi), ==, 0x24d);
    g_assert_cmpuint(ldl_le(mbi + 4), ==, 0);
    g_assert_cmpuint(ldl_le(mbi + 44), ==, 0);
    g_assert_cmpuint(ldl_le(mbi + 20), ==, 1);
    g_assert_cmphex(ldl_le(mbi + ldl_le(mbi + 24) - ZERO_PAGE), ==, 0x103000);
    /* room for 128 map entries, ending below the ROM's scratch page */
    g_assert_cmpuint(ldl_le(mbi + 48) + 128 * 24, <=, ZERO_PAGE + mbi_size);
    g_assert_cmpuint(ZERO_PAGE + mbi_size, <=, 0x7f000);
    cmdline = g_strdup_printf("%s a b", kernel);
    g_assert_cmpstr((char *)mbi + ldl_le(mbi + 16) - ZERO_PAGE, ==, cmdline);
}

static void remove_tmpdir(void)
{
    g_autoptr(GDir) dir = g_dir_open(tmpdir, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(tmpdir, name, NULL);

        g_remove(path);
    }
    g_rmdir(tmpdir);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("kestrel-loader-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);

    memory_init();
    memory_region_init_ram(&ram, "ram", RAM_SIZE);
    memory_region_add_subregion(get_system_memory(), 0, &ram);
    ram_ptr = memory_region_get_ram_ptr(&ram);
    e820_add_entry(0, 0x9fc00, E820_RAM);
    e820_add_entry(0x9fc00, 0x400, E820_RESERVED);
    e820_add_entry(0xf0000, 0x10000, E820_RESERVED);
    e820_add_entry(MiB, RAM_SIZE - MiB, E820_RAM);
    ms.ram_size = RAM_SIZE;
    ms.below_4g_mem_size = RAM_SIZE;
    ms.smp_cpus = 1;
    current_machine = &ms;
    fw_cfg = fw_cfg_init_io_dma(FW_CFG_IO_BASE, FW_CFG_DMA_IO_BASE,
                                &address_space_memory);

    g_test_add_func("/loader/bzimage/direct", test_bzimage_direct);
    g_test_add_func("/loader/bzimage/initrd-max", test_bzimage_initrd_max);
    g_test_add_func("/loader/bzimage/bad", test_bzimage_bad);
    g_test_add_func("/loader/multiboot/elf", test_multiboot_elf);
    g_test_add_func("/loader/multiboot/modules", test_multiboot_modules);
    g_test_add_func("/loader/multiboot/aout", test_multiboot_aout);
    g_test_add_func("/loader/multiboot/bad", test_multiboot_bad);
    g_test_add_func("/loader/pvh/good", test_pvh);
    g_test_add_func("/loader/pvh/bad", test_pvh_bad);
    g_test_add_func("/loader/not-a-kernel", test_not_a_kernel);
    g_test_add_func("/loader/firmware-boot/linux", test_firmware_boot);
    g_test_add_func("/loader/firmware-boot/multiboot",
                    test_firmware_multiboot);
    ret = g_test_run();
    remove_tmpdir();
    return ret;
}
