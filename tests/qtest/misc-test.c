/*
 * Small ISA devices and the ISA interrupt wiring: isa-debug-exit's exit
 * status, pc-testdev's scratch registers, IRQ lines and MMIO scratch,
 * port 0x92, isa-debugcon, and each ISA IRQ reaching both the 8259 and
 * the IOAPIC.
 */
#include "libkqtest.h"
#include <sys/wait.h>
#include <unistd.h>

/* Writing v exits with status (v << 1) | 1. */
static void test_debug_exit(void)
{
    QTS *s = qts_init("-nodefaults -device isa-debug-exit,iobase=0xf4,"
                      "iosize=4");
    qts_outb(s, 0xf4, 5);
    int status = qts_wait_exit(s);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 11);
}

static void test_debug_exit_default(void)
{
    QTS *s = qts_init("-nodefaults -device isa-debug-exit");
    g_assert_cmphex(qts_inb(s, 0x501), ==, 0);
    qts_outw(s, 0x501, 0);
    int status = qts_wait_exit(s);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
}

static void test_testdev_scratch(void)
{
    QTS *s = qts_init("-nodefaults -device pc-testdev");
    qts_outl(s, 0xe0, 0x12345678);
    g_assert_cmphex(qts_inl(s, 0xe0), ==, 0x12345678);
    g_assert_cmphex(qts_inb(s, 0xe2), ==, 0x34);
    qts_outw(s, 0xe2, 0xabcd);
    g_assert_cmphex(qts_inl(s, 0xe0), ==, 0xabcd5678);
    /* 0xe8 shows the same register (QEMU's layout); 0xe4 flushes. */
    qts_outl(s, 0xe8, 0xcafef00d);
    g_assert_cmphex(qts_inw(s, 0xe9), ==, 0xfef0);
    qts_outl(s, 0xe4, 0x1000);
    g_assert_cmphex(qts_inl(s, 0xe0), ==, 0xcafef00d);
    qts_writel(s, 0xff000000, 0xfeedbeef);
    g_assert_cmphex(qts_readl(s, 0xff000000), ==, 0xfeedbeef);
    g_assert_cmphex(qts_readw(s, 0xff000001), ==, 0xedbe);
    qts_quit(s);
}

/* ISA IRQ n goes to both controllers: the IOAPIC input and 8259 input. */
static void test_isa_irq_fanout(void)
{
    QTS *s = qts_init("-nodefaults -device pc-testdev");
    qts_irq_intercept_in(s, "ioapic");
    for (int n = 3; n < 16; n++) {
        if (n == 8) {
            continue;           /* the RTC owns it */
        }
        qts_outb(s, 0x2000 + n, 1);
        g_assert_true(qts_get_irq(s, n));
        qts_outb(s, 0x2000 + n, 0);
        g_assert_false(qts_get_irq(s, n));
    }
    /* The PIC latched the edges it saw (all unmasked after reset). */
    qts_outb(s, 0x20, 0x0a);
    g_assert_cmphex(qts_inb(s, 0x20), ==, 0xf8 | 0x04);
    qts_outb(s, 0xa0, 0x0a);
    g_assert_cmphex(qts_inb(s, 0xa0), ==, 0xfe);
    qts_quit(s);
}

/* ISA IRQ 0 is IOAPIC pin 2 (after the override), the others pin n. */
static void test_isa_irq_ioapic_pins(void)
{
    QTS *s = qts_init("-nodefaults -device pc-testdev");
    for (int n = 0; n < 16; n += 5) {
        int pin = n ? n : 2;
        qts_writel(s, 0xfee000f0, 0x1ff);
        qts_writel(s, 0xfec00000, 0x10 + 2 * pin);
        qts_writel(s, 0xfec00010, 0x40 + n);
        qts_outb(s, 0x2000 + n, 1);
        uint32_t irr = qts_readl(s, 0xfee00200 + ((0x40 + n) / 32) * 0x10);
        g_assert_cmphex(irr & (1u << ((0x40 + n) % 32)), !=, 0);
        qts_outb(s, 0x2000 + n, 0);
    }
    qts_quit(s);
}

/* Port 0x92: A20 reads back, bit 0 resets the machine. */
static void test_port92(void)
{
    QTS *s = qts_init("-nodefaults");
    g_assert_cmphex(qts_inb(s, 0x92), ==, 0x00);
    qts_outb(s, 0x92, 0x02);
    g_assert_cmphex(qts_inb(s, 0x92), ==, 0x02);
    qts_cmos_write(s, 0x0b, 0x42);
    qts_outb(s, 0x92, 0x03);                    /* fast reset */
    g_assert_cmphex(qts_cmos_read(s, 0x0b), ==, 0x02);   /* RTC was reset */
    g_assert_cmphex(qts_inb(s, 0x92), ==, 0x00);
    qts_quit(s);
}

static void test_debugcon(void)
{
    g_autofree char *dir = g_dir_make_tmp("kqdbg-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "out", NULL);
    g_autofree char *text = NULL;

    QTS *s = qts_initf("-nodefaults -debugcon file:%s", path);
    qts_outb(s, 0xe9, 'o');
    qts_outb(s, 0xe9, 'k');
    g_assert_cmphex(qts_inb(s, 0xe9), ==, 0xe9);    /* Bochs' readback */
    qts_quit(s);
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "ok");
    unlink(path);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/isa-debug-exit/status", test_debug_exit);
    g_test_add_func("/isa-debug-exit/default-port", test_debug_exit_default);
    g_test_add_func("/pc-testdev/scratch", test_testdev_scratch);
    g_test_add_func("/isa-irq/fanout", test_isa_irq_fanout);
    g_test_add_func("/isa-irq/ioapic-pins", test_isa_irq_ioapic_pins);
    g_test_add_func("/port92", test_port92);
    g_test_add_func("/isa-debugcon", test_debugcon);
    return g_test_run();
}
