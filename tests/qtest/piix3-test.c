/*
 * PIIX3 function 0 (82371SB data sheet): identification, the PIRQ route
 * registers, TOM, the reset control register at 0xcf9 (soft and hard
 * reset), and its place next to CONFADD in the 0xcf8-0xcfb range.
 */
#include "libkqtest.h"

static uint32_t cfg(QTS *s, int reg, int size)
{
    return qts_pci_cfg_read(s, 1, 0, reg, size);
}

static void cfg_w(QTS *s, int reg, int size, uint32_t v)
{
    qts_pci_cfg_write(s, 1, 0, reg, size, v);
}

static void test_ids(void)
{
    QTS *s = qts_init("-nodefaults");
    g_assert_cmphex(cfg(s, 0x00, 4), ==, 0x70008086);
    g_assert_cmphex(cfg(s, 0x0a, 2), ==, 0x0601);   /* ISA bridge */
    g_assert_cmphex(cfg(s, 0x0e, 1), ==, 0x80);     /* multi-function */
    g_assert_cmphex(cfg(s, 0x04, 2), ==, 0x0007);   /* I/O, mem, master */
    g_assert_cmphex(cfg(s, 0x06, 2), ==, 0x0200);   /* DEVSEL medium */
    qts_quit(s);
}

/* Only the special-cycle enable of the command register is writable. */
static void test_command(void)
{
    QTS *s = qts_init("-nodefaults");
    cfg_w(s, 0x04, 2, 0x0000);
    g_assert_cmphex(cfg(s, 0x04, 2), ==, 0x0007);
    cfg_w(s, 0x04, 2, 0xffff);
    g_assert_cmphex(cfg(s, 0x04, 2), ==, 0x000f);
    qts_quit(s);
}

/* PIRQA-D route control: disabled at reset; bit 7 and bits 3-0 exist. */
static void test_pirq_regs(void)
{
    QTS *s = qts_init("-nodefaults");
    g_assert_cmphex(cfg(s, 0x60, 4), ==, 0x80808080);
    cfg_w(s, 0x60, 1, 0xff);
    g_assert_cmphex(cfg(s, 0x60, 1), ==, 0x8f);
    cfg_w(s, 0x61, 1, 0x0b);
    g_assert_cmphex(cfg(s, 0x61, 1), ==, 0x0b);
    cfg_w(s, 0x62, 2, 0x0a05);
    g_assert_cmphex(cfg(s, 0x60, 4), ==, 0x0a050b8f);
    qts_outb(s, 0xcf9, 0x06);                   /* reset: disabled again */
    g_assert_cmphex(cfg(s, 0x60, 4), ==, 0x80808080);
    qts_quit(s);
}

static void test_tom(void)
{
    QTS *s = qts_init("-nodefaults");
    g_assert_cmphex(cfg(s, 0x69, 1), ==, 0x02);
    cfg_w(s, 0x69, 1, 0xff);
    g_assert_cmphex(cfg(s, 0x69, 1), ==, 0xfe);
    qts_quit(s);
}

/* RCR: SRST is storage, RCPU resets the machine and clears RCR. */
static void test_rcr(void)
{
    QTS *s = qts_init("-nodefaults");
    g_assert_cmphex(qts_inb(s, 0xcf9), ==, 0x00);
    qts_outb(s, 0xcf9, 0xfa);
    g_assert_cmphex(qts_inb(s, 0xcf9), ==, 0x02);
    cfg_w(s, 0x69, 1, 0x10);
    qts_outb(s, 0xcf9, 0x04);                   /* soft reset */
    g_assert_cmphex(qts_inb(s, 0xcf9), ==, 0x00);
    g_assert_cmphex(cfg(s, 0x69, 1), ==, 0x02); /* the chipset was reset */
    qts_quit(s);
}

/* 0xcf9 is a byte port: CONFADD is only the dword at 0xcf8. */
static void test_rcr_beside_confadd(void)
{
    QTS *s = qts_init("-nodefaults");
    qts_outl(s, 0xcf8, 0x80000800);
    qts_outb(s, 0xcf9, 0x02);
    g_assert_cmphex(qts_inl(s, 0xcf8), ==, 0x80000800);
    g_assert_cmphex(qts_inb(s, 0xcf9), ==, 0x02);
    g_assert_cmphex(qts_inl(s, 0xcfc), ==, 0x70008086);
    qts_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/piix3/ids", test_ids);
    g_test_add_func("/piix3/command", test_command);
    g_test_add_func("/piix3/pirq-registers", test_pirq_regs);
    g_test_add_func("/piix3/tom", test_tom);
    g_test_add_func("/piix3/rcr", test_rcr);
    g_test_add_func("/piix3/rcr-beside-confadd", test_rcr_beside_confadd);
    return g_test_run();
}
