/*
 * Boot-protocol parsing and test dispatch.
 *
 * The first word of the command line names the test.  A multiboot loader
 * conventionally prepends the kernel's own file name (QEMU passes
 * "<kernel path> <-append text>"), so under multiboot a first word that
 * is not a test name is skipped.  PVH command lines are taken as they are.
 */
#include "guest.h"

struct boot_info boot_info;

#define MB_BOOT_MAGIC  0x2badb002
#define PVH_START_MAGIC 0x336ec578

/* Multiboot v1 information structure (only the fields we use). */
struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
    uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
};
struct mb_mod { uint32_t start, end, string, reserved; };
/* mmap entries are preceded by their own size (not counting the field). */
struct mb_mmap { uint32_t size; uint64_t base, len; uint32_t type; }
    __attribute__((packed));

/* Xen/x86 HVM direct boot ABI ("PVH") start info. */
struct hvm_start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
    uint64_t memmap_paddr;         /* version >= 1 */
    uint32_t memmap_entries, reserved;
};
struct hvm_modlist_entry { uint64_t paddr, size, cmdline_paddr, reserved; };
struct hvm_memmap_entry { uint64_t addr, size; uint32_t type, reserved; };

static void add_mem(uint64_t base, uint64_t len, uint32_t type)
{
    if (boot_info.nr_mem < MAX_MEM_RANGES) {
        struct mem_range *r = &boot_info.mem[boot_info.nr_mem++];
        r->base = base, r->len = len, r->type = type;
    }
}

static void parse_multiboot(const struct mb_info *mbi)
{
    boot_info.flavour = "multiboot";
    if (mbi->flags & (1u << 2))
        boot_info.cmdline = (const char *)mbi->cmdline;
    if ((mbi->flags & (1u << 3)) && mbi->mods_count) {
        const struct mb_mod *m = (const struct mb_mod *)mbi->mods_addr;
        boot_info.nr_modules = mbi->mods_count;
        boot_info.mod_start = m->start;
        boot_info.mod_size = m->end - m->start;
    }
    if (mbi->flags & (1u << 6)) {
        uint32_t p = mbi->mmap_addr, end = p + mbi->mmap_length;
        while (p < end) {
            const struct mb_mmap *e = (const struct mb_mmap *)p;
            add_mem(e->base, e->len, e->type);
            p += e->size + 4;
        }
    } else if (mbi->flags & 1u) {  /* only lower/upper memory in KiB */
        add_mem(0, (uint64_t)mbi->mem_lower << 10, 1);
        add_mem(1u << 20, (uint64_t)mbi->mem_upper << 10, 1);
    }
}

static void parse_pvh(const struct hvm_start_info *si)
{
    boot_info.flavour = "pvh";
    if (si->cmdline_paddr)
        boot_info.cmdline = (const char *)(uint32_t)si->cmdline_paddr;
    if (si->nr_modules && si->modlist_paddr) {
        const struct hvm_modlist_entry *m =
            (const struct hvm_modlist_entry *)(uint32_t)si->modlist_paddr;
        boot_info.nr_modules = si->nr_modules;
        boot_info.mod_start = (uint32_t)m->paddr;
        boot_info.mod_size = (uint32_t)m->size;
    }
    if (si->version >= 1 && si->memmap_paddr) {
        const struct hvm_memmap_entry *e =
            (const struct hvm_memmap_entry *)(uint32_t)si->memmap_paddr;
        for (uint32_t i = 0; i < si->memmap_entries; i++)
            add_mem(e[i].addr, e[i].size, e[i].type);
    }
}

static void test_hello(void)
{
    kprintf("hello from kestrel test guest\n");
    pass("hello");
}

static const char *args;           /* command line after the test name */

static void test_exit(void)
{
    debug_exit((uint8_t)parse_uint(args));
}

static void test_reset_cmd(void)
{
    test_reset(args);
}

void test_bench(const char *args);     /* bench.c, for bench/run.py */
static void test_bench_cmd(void)
{
    test_bench(args);
}

static const struct { const char *name; void (*fn)(void); } tests[] = {
    { "reset", test_reset_cmd }, { "internal-error", test_internal_error },
    { "hello", test_hello },     { "exit", test_exit },
    { "pit-pic", test_pit_pic }, { "pit-ioapic", test_pit_ioapic },
    { "rtc", test_rtc },         { "cmos-mem", test_cmos_mem },
    { "fwcfg", test_fwcfg },     { "smp", test_smp },
    { "demo", test_demo },       { "bench", test_bench_cmd },
    { "acpi-poweroff", test_acpi_poweroff },
    { "acpi-wait-powerdown", test_acpi_wait_powerdown },
    { "count", test_count },
    { "timer-pause", test_timer_pause },
    { "ide-pio-dma", test_ide_pio_dma },
    { "ide-cd-change", test_ide_cd_change },
    { "smbios", test_smbios },
    { "pflash", test_pflash },
};
#define NR_TESTS (sizeof(tests) / sizeof(tests[0]))

static int find_test(const char *cmd)
{
    for (unsigned i = 0; i < NR_TESTS; i++)
        if (word_eq(cmd, tests[i].name))
            return (int)i;
    return -1;
}

/* Copy of the command line: the loader's copy may sit in memory that a
 * test reuses (the SMP trampoline at 0x8000, for instance). */
static char cmdline_buf[512];

void boot_main(uint32_t magic, uint32_t info);
void boot_main(uint32_t magic, uint32_t info)
{
    serial_init();
    idt_init();
    if (magic == MB_BOOT_MAGIC)
        parse_multiboot((const struct mb_info *)info);
    else if (info && *(const uint32_t *)info == PVH_START_MAGIC)
        parse_pvh((const struct hvm_start_info *)info);
    else
        fail("boot", "unknown boot protocol (eax=%08x ebx=%08x)", magic, info);

    if (boot_info.cmdline) {
        size_t n = strlen(boot_info.cmdline);
        if (n >= sizeof(cmdline_buf))
            n = sizeof(cmdline_buf) - 1;
        memcpy(cmdline_buf, boot_info.cmdline, n);
    }
    boot_info.cmdline = cmdline_buf;

    const char *cmd = cmdline_buf;
    while (*cmd == ' ')
        cmd++;
    if (magic == MB_BOOT_MAGIC && find_test(cmd) < 0)
        cmd = skip_word(cmd);      /* the kernel's file name */
    args = skip_word(cmd);
    int t = find_test(cmd);
    if (t >= 0)
        tests[t].fn();             /* tests end with pass()/fail()/exit */
    kprintf("FAIL unknown test\n");
    debug_exit(1);
}
