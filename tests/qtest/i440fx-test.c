/*
 * i440FX host bridge (82441FX data sheet): identification and defaults,
 * configuration mechanism #1, the PAM registers' four views of each
 * shadow segment, the SMRAM window with D_OPEN and D_LCK, and reset.
 */
#include "libkqtest.h"
#include <string.h>

#define PAM0 0x59
#define SMRAM 0x72

static uint32_t cfg(QTS *s, int reg, int size)
{
    return qts_pci_cfg_read(s, 0, 0, reg, size);
}

static void cfg_w(QTS *s, int reg, int size, uint32_t v)
{
    qts_pci_cfg_write(s, 0, 0, reg, size, v);
}

static bool area_is(QTS *s, uint64_t addr, size_t len, uint8_t v)
{
    g_autofree uint8_t *b = g_malloc(len);

    qts_bufread(s, addr, b, len);
    for (size_t i = 0; i < len; i++) {
        if (b[i] != v) {
            return false;
        }
    }
    return true;
}

static void test_ids(void)
{
    QTS *s = qts_init("-nodefaults");
    g_assert_cmphex(cfg(s, 0x00, 4), ==, 0x12378086);
    g_assert_cmphex(cfg(s, 0x04, 2), ==, 0x0006);   /* memory, master */
    g_assert_cmphex(cfg(s, 0x06, 2), ==, 0x0280);   /* fast b2b, medium */
    g_assert_cmphex(cfg(s, 0x08, 1), ==, 0x02);     /* revision */
    g_assert_cmphex(cfg(s, 0x09, 1), ==, 0x00);
    g_assert_cmphex(cfg(s, 0x0a, 2), ==, 0x0600);   /* host bridge */
    g_assert_cmphex(cfg(s, 0x0d, 1), ==, 0x00);     /* latency timer */
    g_assert_cmphex(cfg(s, 0x0e, 1), ==, 0x00);     /* single function */
    g_assert_cmphex(cfg(s, 0x0f, 1), ==, 0x00);     /* BIST */
    qts_quit(s);
}

static void test_defaults(void)
{
    QTS *s = qts_init("-nodefaults");
    g_assert_cmphex(cfg(s, 0x50, 2) & 0x8040, ==, 0);   /* WPE, EPTE */
    g_assert_cmphex(cfg(s, 0x52, 1), ==, 0x00);
    g_assert_cmphex(cfg(s, 0x54, 1), ==, 0x00);
    g_assert_cmphex(cfg(s, 0x55, 2), ==, 0x0000);
    for (int i = 0; i < 7; i++) {
        g_assert_cmphex(cfg(s, PAM0 + i, 1), ==, 0x00);
    }
    g_assert_cmphex(cfg(s, 0x68, 1), ==, 0x00);
    g_assert_cmphex(cfg(s, 0x70, 1), ==, 0x00);
    g_assert_cmphex(cfg(s, SMRAM, 1), ==, 0x02);
    g_assert_cmphex(cfg(s, 0x90, 1), ==, 0x00);
    g_assert_cmphex(cfg(s, 0x91, 1), ==, 0x00);
    g_assert_cmphex(cfg(s, 0x93, 1), ==, 0x00);
    qts_quit(s);
}

/* CONFADD keeps bits 31, 23-0; with bit 31 clear data reads float. */
static void test_config_mechanism(void)
{
    QTS *s = qts_init("-nodefaults");
    qts_outl(s, 0xcf8, 0xffffffff);
    g_assert_cmphex(qts_inl(s, 0xcf8), ==, 0x80ffffff);
    qts_outl(s, 0xcf8, 0x00000000);
    g_assert_cmphex(qts_inl(s, 0xcfc), ==, 0xffffffff);
    /* An empty slot reads all ones. */
    g_assert_cmphex(qts_pci_cfg_read(s, 7, 0, 0, 4), ==, 0xffffffff);
    /* Byte and word data accesses at 0xcfd-0xcff reach their offsets. */
    qts_outl(s, 0xcf8, 0x80000000);
    g_assert_cmphex(qts_inb(s, 0xcfd), ==, 0x80);
    g_assert_cmphex(qts_inw(s, 0xcfe), ==, 0x1237);
    /* Bits 1:0 of CONFADD are ORed in, as QEMU's libqos expects. */
    qts_outl(s, 0xcf8, 0x80000002);
    g_assert_cmphex(qts_inw(s, 0xcfc), ==, 0x1237);
    qts_outl(s, 0xcf8, 0x80000001);
    g_assert_cmphex(qts_inb(s, 0xcfe), ==, 0x12);
    qts_quit(s);
}

/* PAM0's low nibble is reserved; the others take RE and WE per nibble. */
static void test_pam_wmask(void)
{
    QTS *s = qts_init("-nodefaults");
    for (int i = 0; i < 7; i++) {
        cfg_w(s, PAM0 + i, 1, 0xff);
        g_assert_cmphex(cfg(s, PAM0 + i, 1), ==, i ? 0x33 : 0x30);
    }
    qts_quit(s);
}

/* The shadowing dance of a BIOS: RE|WE, fill, then read-only. */
static void test_pam_views(void)
{
    QTS *s = qts_init("-nodefaults");
    const uint64_t seg = 0xc8000;               /* PAM2 low nibble */

    g_assert_false(area_is(s, seg, 0x4000, 0x42));
    cfg_w(s, PAM0 + 2, 1, 0x01);                /* RE: RAM (zero) */
    g_assert_true(area_is(s, seg, 0x4000, 0x00));
    cfg_w(s, PAM0 + 2, 1, 0x03);                /* RE|WE */
    qts_memset(s, seg, 0x42, 0x4000);
    g_assert_true(area_is(s, seg, 0x4000, 0x42));
    cfg_w(s, PAM0 + 2, 1, 0x01);                /* read-only */
    qts_memset(s, seg, 0x82, 0x4000);
    g_assert_true(area_is(s, seg, 0x4000, 0x42));
    cfg_w(s, PAM0 + 2, 1, 0x02);                /* write-only */
    qts_memset(s, seg, 0x82, 0x4000);
    g_assert_false(area_is(s, seg, 0x4000, 0x82));   /* reads PCI */
    cfg_w(s, PAM0 + 2, 1, 0x03);
    g_assert_true(area_is(s, seg, 0x4000, 0x82));    /* the RAM got it */
    cfg_w(s, PAM0 + 2, 1, 0x00);                /* back to PCI */
    g_assert_false(area_is(s, seg, 0x4000, 0x82));
    /* The neighbour (high nibble) was never switched. */
    g_assert_false(area_is(s, seg + 0x4000, 0x4000, 0x42));
    qts_quit(s);
}

/* With PAM off, 0xf0000 shows the BIOS' last 64 KiB. */
static void test_pam_bios(void)
{
    QTS *s = qts_init("-nodefaults");
    uint8_t low[256], high[256];

    qts_bufread(s, 0xfff00, low, sizeof(low));
    qts_bufread(s, 0xffffff00ULL, high, sizeof(high));
    g_assert_cmpmem(low, sizeof(low), high, sizeof(high));
    cfg_w(s, PAM0, 1, 0x30);
    qts_memset(s, 0xf0000, 0x11, 0x10000);
    g_assert_true(area_is(s, 0xf0000, 0x10000, 0x11));
    qts_bufread(s, 0xffffff00ULL, high, sizeof(high));   /* ROM intact */
    g_assert_cmpmem(low, sizeof(low), high, sizeof(high));
    qts_quit(s);
}

/* SMRAM: C_BASE_SEG is fixed at 0xa0000, D_OPEN, D_CLS, G_SMRAME are
 * writable.  (Without a VGA the closed window shows the RAM below, as in
 * QEMU, so the register is what there is to see.) */
static void test_smram(void)
{
    QTS *s = qts_init("-nodefaults");
    cfg_w(s, SMRAM, 1, 0x4a);
    g_assert_cmphex(cfg(s, SMRAM, 1), ==, 0x4a);
    qts_memset(s, 0xa0000, 0x5a, 0x100);
    g_assert_true(area_is(s, 0xa0000, 0x100, 0x5a));
    cfg_w(s, SMRAM, 1, 0x2a);
    g_assert_cmphex(cfg(s, SMRAM, 1), ==, 0x2a);
    cfg_w(s, SMRAM, 1, 0x87);                   /* bit 7, C_BASE_SEG: fixed */
    g_assert_cmphex(cfg(s, SMRAM, 1), ==, 0x02);
    qts_quit(s);
}

/* D_LCK closes SMRAM and freezes D_OPEN until reset. */
static void test_smram_lock(void)
{
    QTS *s = qts_init("-nodefaults");
    cfg_w(s, SMRAM, 1, 0x4a);
    cfg_w(s, SMRAM, 1, 0x1a);                   /* lock */
    g_assert_cmphex(cfg(s, SMRAM, 1), ==, 0x1a);
    cfg_w(s, SMRAM, 1, 0x4a);                   /* cannot reopen */
    g_assert_cmphex(cfg(s, SMRAM, 1) & 0x50, ==, 0x10);
    cfg_w(s, SMRAM, 1, 0x02);                   /* nor unlock */
    g_assert_cmphex(cfg(s, SMRAM, 1) & 0x10, ==, 0x10);
    qts_outb(s, 0xcf9, 0x06);                   /* reset unlocks */
    g_assert_cmphex(cfg(s, SMRAM, 1), ==, 0x02);
    cfg_w(s, SMRAM, 1, 0x4a);
    g_assert_cmphex(cfg(s, SMRAM, 1), ==, 0x4a);
    qts_quit(s);
}

/* A machine reset puts PAM back to the PCI view; RAM keeps its data. */
static void test_reset_pam(void)
{
    QTS *s = qts_init("-nodefaults");
    cfg_w(s, PAM0 + 1, 1, 0x33);
    qts_memset(s, 0xc0000, 0x77, 0x8000);
    qts_outb(s, 0xcf9, 0x06);
    g_assert_cmphex(cfg(s, PAM0 + 1, 1), ==, 0x00);
    g_assert_false(area_is(s, 0xc0000, 0x8000, 0x77));
    cfg_w(s, PAM0 + 1, 1, 0x11);
    g_assert_true(area_is(s, 0xc0000, 0x8000, 0x77));
    qts_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/i440fx/ids", test_ids);
    g_test_add_func("/i440fx/defaults", test_defaults);
    g_test_add_func("/i440fx/config-mechanism", test_config_mechanism);
    g_test_add_func("/i440fx/pam/wmask", test_pam_wmask);
    g_test_add_func("/i440fx/pam/views", test_pam_views);
    g_test_add_func("/i440fx/pam/bios", test_pam_bios);
    g_test_add_func("/i440fx/smram/open", test_smram);
    g_test_add_func("/i440fx/smram/lock", test_smram_lock);
    g_test_add_func("/i440fx/reset", test_reset_pam);
    return g_test_run();
}
