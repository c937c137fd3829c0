/*
 * fw_cfg (QEMU's docs/specs/fw_cfg.rst): the selector and data ports, the
 * items the PC board fills, the file directory, and DMA with its select,
 * skip, read and error behaviour and the "QEMU CFG" register signature.
 */
#include "libkqtest.h"
#include <string.h>

#define SEL  0x510
#define DATA 0x511
#define DMA  0x514

#define DESC 0x100000           /* DMA descriptor and buffer in RAM */
#define BUF  0x101000

enum { K_SIGNATURE = 0, K_ID = 1, K_RAM_SIZE = 3, K_NB_CPUS = 5,
       K_BOOT_DEVICE = 0xc, K_BOOT_MENU = 0xe, K_MAX_CPUS = 0xf,
       K_FILE_DIR = 0x19 };
enum { CTL_ERROR = 1, CTL_READ = 2, CTL_SKIP = 4, CTL_SELECT = 8,
       CTL_WRITE = 0x10 };

static void pio_read(QTS *s, uint16_t key, void *buf, size_t len)
{
    uint8_t *p = buf;

    qts_outw(s, SEL, key);
    for (size_t i = 0; i < len; i++) {
        p[i] = qts_inb(s, DATA);
    }
}

static uint64_t pio_le(QTS *s, uint16_t key, size_t len)
{
    uint8_t b[8] = { 0 };
    uint64_t v = 0;

    pio_read(s, key, b, len);
    for (size_t i = 0; i < len; i++) {
        v |= (uint64_t)b[i] << (8 * i);
    }
    return v;
}

/* Run one DMA descriptor; its control word afterwards. */
static uint32_t dma(QTS *s, uint32_t control, uint32_t len, uint64_t addr)
{
    struct {
        uint32_t control, length;
        uint64_t address;
    } d = { GUINT32_TO_BE(control), GUINT32_TO_BE(len),
            GUINT64_TO_BE(addr) };

    qts_memwrite(s, DESC, &d, sizeof(d));
    qts_outl(s, DMA, GUINT32_TO_BE((uint32_t)((uint64_t)DESC >> 32)));
    qts_outl(s, DMA + 4, GUINT32_TO_BE((uint32_t)DESC));
    return GUINT32_FROM_BE(qts_readl(s, DESC));
}

static void test_signature(void)
{
    QTS *s = qts_init("-nodefaults");
    char sig[5] = { 0 };
    pio_read(s, K_SIGNATURE, sig, 4);
    g_assert_cmpstr(sig, ==, "QEMU");
    qts_quit(s);
}

static void test_id(void)
{
    QTS *s = qts_init("-nodefaults");
    g_assert_cmphex(pio_le(s, K_ID, 4), ==, 3);     /* traditional + DMA */
    qts_quit(s);
}

static void test_machine_items(void)
{
    QTS *s = qts_init("-nodefaults -m 256 -smp 3");
    g_assert_cmphex(pio_le(s, K_RAM_SIZE, 8), ==, 256 << 20);
    g_assert_cmpuint(pio_le(s, K_NB_CPUS, 2), ==, 3);
    g_assert_cmpuint(pio_le(s, K_MAX_CPUS, 2), ==, 3);
    g_assert_cmpuint(pio_le(s, K_BOOT_MENU, 2), ==, 0);
    g_assert_cmpuint(pio_le(s, K_BOOT_DEVICE, 2), ==, 'c');
    qts_quit(s);
}

/* Past the end of an item the data port reads 0. */
static void test_past_end(void)
{
    QTS *s = qts_init("-nodefaults");
    uint8_t b[6];
    pio_read(s, K_SIGNATURE, b, 6);
    g_assert_cmpmem(b, 6, "QEMU\0\0", 6);
    qts_quit(s);
}

/* Selecting again starts over; data-port writes do nothing. */
static void test_reselect(void)
{
    QTS *s = qts_init("-nodefaults");
    qts_outw(s, SEL, K_SIGNATURE);
    g_assert_cmphex(qts_inb(s, DATA), ==, 'Q');
    qts_outb(s, DATA, 0x00);
    g_assert_cmphex(qts_inb(s, DATA), ==, 'E');
    qts_outw(s, SEL, K_SIGNATURE);
    g_assert_cmphex(qts_inb(s, DATA), ==, 'Q');
    g_assert_cmphex(qts_inb(s, SEL), ==, 0);        /* selector: write-only */
    qts_quit(s);
}

static void test_invalid_key(void)
{
    QTS *s = qts_init("-nodefaults");
    uint8_t b[4];
    pio_read(s, 0x7777, b, 4);
    g_assert_cmpmem(b, 4, "\0\0\0\0", 4);
    pio_read(s, 0x0100, b, 4);                      /* free file slot */
    g_assert_cmpmem(b, 4, "\0\0\0\0", 4);
    qts_quit(s);
}

typedef struct FileEntry {
    uint32_t size;
    uint16_t key;
    char name[57];
} FileEntry;

static GArray *read_dir(QTS *s)
{
    GArray *files = g_array_new(false, true, sizeof(FileEntry));
    uint8_t raw[64];
    uint32_t count;

    pio_read(s, K_FILE_DIR, &count, 4);
    count = GUINT32_FROM_BE(count);
    g_assert_cmpuint(count, >=, 1);
    g_assert_cmpuint(count, <=, 64);
    for (uint32_t i = 0; i < count; i++) {
        FileEntry e = { 0 };
        for (int j = 0; j < 64; j++) {
            raw[j] = qts_inb(s, DATA);
        }
        e.size = raw[0] << 24 | raw[1] << 16 | raw[2] << 8 | raw[3];
        e.key = raw[4] << 8 | raw[5];
        memcpy(e.name, raw + 8, 56);
        g_array_append_val(files, e);
    }
    return files;
}

/* The directory: sorted by name, keys from 0x20, sizes that match. */
static void test_file_dir(void)
{
    QTS *s = qts_init("-nodefaults");
    GArray *files = read_dir(s);
    bool have_e820 = false;

    for (guint i = 0; i < files->len; i++) {
        FileEntry *e = &g_array_index(files, FileEntry, i);
        g_assert_cmpuint(e->key, >=, 0x20);
        if (i) {
            g_assert_cmpstr(g_array_index(files, FileEntry, i - 1).name, <,
                            e->name);
        }
        if (!strcmp(e->name, "etc/e820")) {
            have_e820 = true;
            g_assert_cmpuint(e->size % 20, ==, 0);
        }
        /* Exactly size bytes of data, then zeros. */
        if (e->size && e->size < 4096) {
            g_autofree uint8_t *b = g_malloc(e->size + 4);
            pio_read(s, e->key, b, e->size + 4);
            g_assert_cmpmem(b + e->size, 4, "\0\0\0\0", 4);
        }
    }
    g_assert_true(have_e820);
    g_array_free(files, true);
    qts_quit(s);
}

/* etc/e820 for -m 128 and firmware boot: all RAM, KVM's pages reserved. */
static void test_e820(void)
{
    QTS *s = qts_init("-nodefaults -m 128");
    GArray *files = read_dir(s);
    FileEntry *e = NULL;
    struct __attribute__((packed)) {
        uint64_t addr, len;
        uint32_t type;
    } map[2];

    for (guint i = 0; i < files->len; i++) {
        if (!strcmp(g_array_index(files, FileEntry, i).name, "etc/e820")) {
            e = &g_array_index(files, FileEntry, i);
        }
    }
    g_assert_nonnull(e);
    g_assert_cmpuint(e->size, ==, sizeof(map));
    pio_read(s, e->key, map, sizeof(map));
    g_assert_cmphex(map[0].addr, ==, 0);
    g_assert_cmphex(map[0].len, ==, 128 << 20);
    g_assert_cmpuint(map[0].type, ==, 1);
    g_assert_cmphex(map[1].addr, ==, 0xfeffc000);
    g_assert_cmphex(map[1].len, ==, 0x4000);
    g_assert_cmpuint(map[1].type, ==, 2);
    g_array_free(files, true);
    qts_quit(s);
}

/* The DMA address register reads "QEMU CFG", most significant first. */
static void test_dma_signature(void)
{
    QTS *s = qts_init("-nodefaults");
    char sig[9] = { 0 };
    for (int i = 0; i < 8; i++) {
        sig[i] = qts_inb(s, DMA + i);
    }
    g_assert_cmpstr(sig, ==, "QEMU CFG");
    g_assert_cmphex(qts_inl(s, DMA), ==, 0x554d4551);  /* "QEMU" as read */
    qts_quit(s);
}

static void test_dma_read(void)
{
    QTS *s = qts_init("-nodefaults -m 512");
    uint64_t ram = 0;

    g_assert_cmphex(dma(s, K_RAM_SIZE << 16 | CTL_SELECT | CTL_READ, 8, BUF),
                    ==, 0);
    qts_memread(s, BUF, &ram, 8);
    g_assert_cmphex(ram, ==, 512ULL << 20);
    qts_quit(s);
}

/* Skip moves the offset without writing memory. */
static void test_dma_skip(void)
{
    QTS *s = qts_init("-nodefaults");
    uint8_t b[4];

    qts_memset(s, BUF, 0xaa, 4);
    g_assert_cmphex(dma(s, K_SIGNATURE << 16 | CTL_SELECT | CTL_SKIP, 2, BUF),
                    ==, 0);
    qts_memread(s, BUF, b, 4);
    g_assert_cmpmem(b, 4, "\xaa\xaa\xaa\xaa", 4);
    g_assert_cmphex(dma(s, CTL_READ, 2, BUF), ==, 0);
    qts_memread(s, BUF, b, 2);
    g_assert_cmpmem(b, 2, "MU", 2);
    qts_quit(s);
}

/* Without SELECT a transfer continues where PIO left off; past the end
 * reads zeros. */
static void test_dma_continue(void)
{
    QTS *s = qts_init("-nodefaults");
    uint8_t b[6];

    qts_memset(s, BUF, 0xaa, 6);
    qts_outw(s, SEL, K_SIGNATURE);
    qts_inb(s, DATA);
    g_assert_cmphex(dma(s, CTL_READ, 6, BUF), ==, 0);
    qts_memread(s, BUF, b, 6);
    g_assert_cmpmem(b, 6, "EMU\0\0\0", 6);
    g_assert_cmphex(qts_inb(s, DATA), ==, 0);
    qts_quit(s);
}

/* Writes are refused with the error bit; nothing is written. */
static void test_dma_write_error(void)
{
    QTS *s = qts_init("-nodefaults");
    char sig[5] = { 0 };

    qts_memwrite(s, BUF, "ABCD", 4);
    g_assert_cmphex(dma(s, K_SIGNATURE << 16 | CTL_SELECT | CTL_WRITE, 4,
                        BUF), ==, CTL_ERROR);
    pio_read(s, K_SIGNATURE, sig, 4);
    g_assert_cmpstr(sig, ==, "QEMU");
    qts_quit(s);
}

/* A read into memory that does not exist fails with the error bit. */
static void test_dma_bad_address(void)
{
    QTS *s = qts_init("-nodefaults -m 128");
    g_assert_cmphex(dma(s, K_SIGNATURE << 16 | CTL_SELECT | CTL_READ, 4,
                        0x200000000ULL), ==, CTL_ERROR);
    qts_quit(s);
}

/* The directory read by DMA equals the directory read by PIO. */
static void test_dma_dir(void)
{
    QTS *s = qts_init("-nodefaults");
    uint32_t count;

    pio_read(s, K_FILE_DIR, &count, 4);
    size_t len = 4 + 64 * GUINT32_FROM_BE(count);
    g_autofree uint8_t *pio = g_malloc(len);
    g_autofree uint8_t *via_dma = g_malloc(len);
    pio_read(s, K_FILE_DIR, pio, len);
    g_assert_cmphex(dma(s, K_FILE_DIR << 16 | CTL_SELECT | CTL_READ, len,
                        BUF), ==, 0);
    qts_bufread(s, BUF, via_dma, len);
    g_assert_cmpmem(pio, len, via_dma, len);
    qts_quit(s);
}

static uint64_t file_le(QTS *s, const char *name, uint32_t *size)
{
    GArray *files = read_dir(s);
    uint64_t v = 0;

    *size = 0;
    for (guint i = 0; i < files->len; i++) {
        FileEntry *e = &g_array_index(files, FileEntry, i);
        if (!strcmp(e->name, name)) {
            *size = e->size;
            v = pio_le(s, e->key, MIN(e->size, 8));
        }
    }
    g_array_free(files, true);
    return v;
}

/* A whole file by name (g_free it), NULL if absent. */
static uint8_t *file_read(QTS *s, const char *name, uint32_t *size)
{
    GArray *files = read_dir(s);
    uint8_t *data = NULL;

    *size = 0;
    for (guint i = 0; i < files->len; i++) {
        FileEntry *e = &g_array_index(files, FileEntry, i);
        if (!strcmp(e->name, name)) {
            *size = e->size;
            data = g_malloc(e->size);
            pio_read(s, e->key, data, e->size);
        }
    }
    g_array_free(files, true);
    return data;
}

static uint8_t byte_sum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;

    while (len--) {
        sum += *p++;
    }
    return sum;
}

/*
 * SMBIOS: a 2.1 entry point whose checksums hold and whose length and
 * count match the table; the table has the -uuid (first fields
 * little-endian) in type 1 and one type 4 per -smp CPU.
 */
static void test_smbios(void)
{
    QTS *s = qts_init("-nodefaults -smp 3 -m 256 "
                      "-uuid 4600cb32-38ec-4b2f-8acb-81c6ea54f2d8");
    uint32_t ep_len, len;
    g_autofree uint8_t *ep = file_read(s, "etc/smbios/smbios-anchor",
                                       &ep_len);
    g_autofree uint8_t *t = file_read(s, "etc/smbios/smbios-tables", &len);

    g_assert_nonnull(ep);
    g_assert_nonnull(t);
    g_assert_cmpuint(ep_len, ==, 31);
    g_assert_cmpmem(ep, 4, "_SM_", 4);
    g_assert_cmpmem(ep + 16, 5, "_DMI_", 5);
    g_assert_cmpuint(byte_sum(ep, 16), ==, 0);
    g_assert_cmpuint(byte_sum(ep + 16, 15), ==, 0);
    g_assert_cmpuint(ep[22] | ep[23] << 8, ==, len);

    unsigned count = 0, cpus = 0;
    bool uuid_ok = false, end = false;
    static const uint8_t uuid[16] = {
        0x32, 0xcb, 0x00, 0x46, 0xec, 0x38, 0x2f, 0x4b,
        0x8a, 0xcb, 0x81, 0xc6, 0xea, 0x54, 0xf2, 0xd8,
    };
    for (uint32_t off = 0; off < len && !end; count++) {
        const uint8_t *st = t + off;
        g_assert_cmpuint(st[1], >=, 4);
        if (st[0] == 1) {
            uuid_ok = !memcmp(st + 8, uuid, 16);
        }
        cpus += st[0] == 4;
        end = st[0] == 127;
        off += st[1];
        while (off + 1 < len && (t[off] || t[off + 1])) {
            off++;
        }
        off += 2;
        g_assert_cmpuint(off, <=, len);
    }
    g_assert_true(end);
    g_assert_true(uuid_ok);
    g_assert_cmpuint(cpus, ==, 3);
    g_assert_cmpuint(ep[28] | ep[29] << 8, ==, count);
    qts_quit(s);
}

/* -uuid: the 16 bytes in the order written. */
static void test_uuid(void)
{
    static const uint8_t want[16] = {
        0x46, 0x00, 0xcb, 0x32, 0x38, 0xec, 0x4b, 0x2f,
        0x8a, 0xcb, 0x81, 0xc6, 0xea, 0x54, 0xf2, 0xd8,
    };
    uint8_t got[16];
    QTS *s = qts_init("-nodefaults -uuid 4600cb32-38ec-4b2f-8acb-81c6ea54f2d8");
    pio_read(s, 0x02, got, 16);
    g_assert_cmpmem(got, 16, want, 16);
    qts_quit(s);
}

/* -boot menu, splash-time and reboot-timeout reach the firmware. */
static void test_boot_options(void)
{
    uint32_t size;
    QTS *s = qts_init("-nodefaults -boot order=d,menu=on,splash-time=12,"
                      "reboot-timeout=15");
    g_assert_cmpuint(pio_le(s, K_BOOT_MENU, 2), ==, 1);
    g_assert_cmpuint(pio_le(s, K_BOOT_DEVICE, 2), ==, 'd');
    g_assert_cmpuint(file_le(s, "etc/boot-menu-wait", &size), ==, 12);
    g_assert_cmpuint(size, ==, 2);
    g_assert_cmpuint(file_le(s, "etc/boot-fail-wait", &size), ==, 15);
    g_assert_cmpuint(size, ==, 4);
    qts_quit(s);
    s = qts_init("-nodefaults -boot reboot-timeout=-1");
    g_assert_cmphex(file_le(s, "etc/boot-fail-wait", &size), ==, 0xffffffff);
    g_assert_cmpuint(file_le(s, "etc/boot-menu-wait", &size), ==, 0);
    g_assert_cmpuint(size, ==, 0);              /* not given: no file */
    qts_quit(s);
}

/* NOGRAPHIC says -nographic, not -display none. */
static void test_nographic(void)
{
    QTS *s = qts_init("-nodefaults");
    g_assert_cmpuint(pio_le(s, 0x04, 2), ==, 0);
    qts_quit(s);
    s = qts_init("-nodefaults -nographic");
    g_assert_cmpuint(pio_le(s, 0x04, 2), ==, 1);
    qts_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/fw_cfg/signature", test_signature);
    g_test_add_func("/fw_cfg/id", test_id);
    g_test_add_func("/fw_cfg/machine-items", test_machine_items);
    g_test_add_func("/fw_cfg/past-end", test_past_end);
    g_test_add_func("/fw_cfg/reselect", test_reselect);
    g_test_add_func("/fw_cfg/invalid-key", test_invalid_key);
    g_test_add_func("/fw_cfg/file-dir", test_file_dir);
    g_test_add_func("/fw_cfg/e820", test_e820);
    g_test_add_func("/fw_cfg/dma/signature", test_dma_signature);
    g_test_add_func("/fw_cfg/dma/read", test_dma_read);
    g_test_add_func("/fw_cfg/dma/skip", test_dma_skip);
    g_test_add_func("/fw_cfg/dma/continue", test_dma_continue);
    g_test_add_func("/fw_cfg/dma/write-error", test_dma_write_error);
    g_test_add_func("/fw_cfg/dma/bad-address", test_dma_bad_address);
    g_test_add_func("/fw_cfg/dma/directory", test_dma_dir);
    g_test_add_func("/fw_cfg/uuid", test_uuid);
    g_test_add_func("/fw_cfg/smbios", test_smbios);
    g_test_add_func("/fw_cfg/boot-options", test_boot_options);
    g_test_add_func("/fw_cfg/nographic", test_nographic);
    return g_test_run();
}
