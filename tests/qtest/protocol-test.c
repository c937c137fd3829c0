/*
 * The qtest protocol itself: reply formats byte for byte as QEMU sends
 * them, the virtual clock commands, interrupt interception, error replies
 * for malformed lines (after which the server must still answer), the log.
 */
#include "libkqtest.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PIT_NS(ticks) (((ticks) * 1000000000LL + 1193181) / 1193182)

static void assert_reply(QTS *s, const char *cmd, const char *want)
{
    g_autofree char *r = qts_cmd(s, "%s", cmd);
    g_assert_cmpstr(r, ==, want);
}

static void test_endianness(void)
{
    QTS *s = qts_init("");
    assert_reply(s, "endianness", "OK little");
    qts_quit(s);
}

/* in*: "OK 0x%04x"; an unassigned port floats high. */
static void test_in_format(void)
{
    QTS *s = qts_init("");
    assert_reply(s, "inb 0x1234", "OK 0x00ff");
    assert_reply(s, "inw 0x1234", "OK 0xffff");
    assert_reply(s, "inl 0x1234", "OK 0xffffffff");
    assert_reply(s, "outb 0x70 0x0a", "OK");
    assert_reply(s, "inb 0x71", "OK 0x0026");    /* RTC register A */
    qts_quit(s);
}

/* read*: "OK 0x%016x" whatever the width. */
static void test_read_format(void)
{
    QTS *s = qts_init("");
    assert_reply(s, "writel 0x2000 0xdeadbeef", "OK");
    assert_reply(s, "readb 0x2000", "OK 0x00000000000000ef");
    assert_reply(s, "readw 0x2000", "OK 0x000000000000beef");
    assert_reply(s, "readl 0x2000", "OK 0x00000000deadbeef");
    assert_reply(s, "readq 0x2000", "OK 0x00000000deadbeef");
    assert_reply(s, "writeq 0x2000 0x0123456789abcdef", "OK");
    assert_reply(s, "readq 0x2000", "OK 0x0123456789abcdef");
    assert_reply(s, "readw 0x2006", "OK 0x0000000000000123");
    qts_quit(s);
}

/* Values wider than the access are truncated, as a store would. */
static void test_write_truncates(void)
{
    QTS *s = qts_init("");
    assert_reply(s, "writeb 0x2000 0x1ff", "OK");
    assert_reply(s, "writew 0x2001 0x12345", "OK");
    assert_reply(s, "readl 0x2000", "OK 0x00000000002345ff");
    qts_quit(s);
}

static void test_read_write_hex(void)
{
    QTS *s = qts_init("");
    assert_reply(s, "write 0x3000 4 0x0a0b0c0d", "OK");
    assert_reply(s, "read 0x3000 4", "OK 0x0a0b0c0d");
    assert_reply(s, "read 0x3001 2", "OK 0x0b0c");
    /* Short data is zero-filled, long data truncated. */
    assert_reply(s, "write 0x3000 4 0x11", "OK");
    assert_reply(s, "read 0x3000 4", "OK 0x11000000");
    assert_reply(s, "write 0x3000 2 0x2233445566", "OK");
    assert_reply(s, "read 0x3000 4", "OK 0x22330000");
    /* Upper-case digits are digits too. */
    assert_reply(s, "write 0x3000 1 0xAB", "OK");
    assert_reply(s, "read 0x3000 1", "OK 0xab");
    qts_quit(s);
}

/* QEMU's one ERR: data shorter than "0x" plus a digit. */
static void test_write_short_data(void)
{
    QTS *s = qts_init("");
    assert_reply(s, "write 0x3000 2 01", "ERR invalid argument size");
    assert_reply(s, "write 0x3000 2 0x", "ERR invalid argument size");
    assert_reply(s, "read 0x3000 2", "OK 0x0000");
    qts_quit(s);
}

static void test_b64(void)
{
    QTS *s = qts_init("");
    assert_reply(s, "b64write 0x4000 4 AQIDBA==", "OK");
    assert_reply(s, "read 0x4000 4", "OK 0x01020304");
    assert_reply(s, "b64read 0x4000 4", "OK AQIDBA==");
    assert_reply(s, "b64read 0x4000 1", "OK AQ==");
    assert_reply(s, "b64read 0x4000 3", "OK AQID");
    assert_reply(s, "b64read 0x4000 0", "OK ");
    /* More data than the size: only size bytes land. */
    assert_reply(s, "b64write 0x4000 2 /////w==", "OK");
    assert_reply(s, "read 0x4000 4", "OK 0xffff0304");
    qts_quit(s);
}

static void test_memset(void)
{
    QTS *s = qts_init("");
    assert_reply(s, "memset 0x5000 3 0xab", "OK");
    assert_reply(s, "read 0x4fff 5", "OK 0x00ababab00");
    assert_reply(s, "memset 0x5000 0 0x11", "OK");
    assert_reply(s, "read 0x5000 1", "OK 0xab");
    assert_reply(s, "memset 0x5000 1 0x1cd", "OK");
    assert_reply(s, "read 0x5000 1", "OK 0xcd");
    /* Across a chunk boundary of the server's buffer. */
    assert_reply(s, "memset 0x6000 0x2001 0x5a", "OK");
    assert_reply(s, "read 0x7ffe 4", "OK 0x5a5a5a00");
    qts_quit(s);
}

/* Numbers are C numbers: decimal, 0x hex, 0 octal. */
static void test_number_bases(void)
{
    QTS *s = qts_init("");
    assert_reply(s, "outb 112 10", "OK");           /* 0x70 <- 0x0a */
    assert_reply(s, "inb 0161", "OK 0x0026");       /* octal 0x71 */
    assert_reply(s, "writeb 4096 255", "OK");
    assert_reply(s, "readb 0x1000", "OK 0x00000000000000ff");
    qts_quit(s);
}

static void test_unknown_command(void)
{
    QTS *s = qts_init("");
    assert_reply(s, "foo bar", "FAIL Unknown command 'foo'");
    assert_reply(s, "OUTB 0x80 1", "FAIL Unknown command 'OUTB'");
    /* Words are split at single spaces: a leading space is an empty word. */
    assert_reply(s, " outb 0x80 1", "FAIL Unknown command ''");
    assert_reply(s, "", "FAIL Unknown command ''");
    assert_reply(s, "endianness", "OK little");
    qts_quit(s);
}

/* QEMU aborts on these; we answer ERR and carry on. */
static void test_malformed(void)
{
    QTS *s = qts_init("");
    static const char *const bad[][2] = {
        { "outb", "ERR missing argument" },
        { "outb 0x80", "ERR missing argument" },
        { "outb 0x80 zz", "ERR invalid number 'zz'" },
        { "outb 0x10000 1", "ERR invalid port '0x10000'" },
        { "inb 0x70\r", "ERR invalid number '0x70\r'" },
        { "inw", "ERR missing argument" },
        { "readl 0x1000x", "ERR invalid number '0x1000x'" },
        { "writeq 1", "ERR missing argument" },
        { "read 0x1000 0", "ERR invalid size '0'" },
        { "read 0x1000 0x100000000", "ERR invalid size '0x100000000'" },
        { "b64write 0x1000 4", "ERR missing argument" },
        { "write 0x1000 2 0xzz", "ERR invalid hex data" },
        { "memset 0x1000", "ERR missing argument" },
        { "clock_step x", "ERR invalid number 'x'" },
        { "clock_set", "ERR missing argument" },
        { "irq_intercept_in", "ERR missing argument" },
        { "set_irq_in ioapic unnamed-gpio-in 1", "ERR missing argument" },
        { "set_irq_in ioapic unnamed-gpio-in 99 1",
          "ERR no input unnamed-gpio-in 99" },
        { "set_irq_in ioapic nosuch 0 1", "ERR no input nosuch 0" },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        assert_reply(s, bad[i][0], bad[i][1]);
    }
    assert_reply(s, "endianness", "OK little");
    qts_quit(s);
}

static void test_clock(void)
{
    QTS *s = qts_init("");
    /* Starts at 0; with no timer armed "clock_step" stays. */
    assert_reply(s, "clock_step", "OK 0");
    assert_reply(s, "clock_step 100", "OK 100");
    assert_reply(s, "clock_step 0", "OK 100");
    assert_reply(s, "clock_set 50", "OK 100");      /* never backwards */
    assert_reply(s, "clock_set 1000000", "OK 1000000");
    assert_reply(s, "clock_step -5", "OK 1000000");
    assert_reply(s, "clock_step 0x10", "OK 1000016");
    qts_quit(s);
}

/* "clock_step" alone stops at the next timer: here the PIT's terminal
 * count, exactly ceil(N / 1.193182 MHz) after the count was written. */
static void test_clock_next_deadline(void)
{
    QTS *s = qts_init("");
    qts_clock_set(s, 1000);
    qts_outb(s, 0x43, 0x30);            /* channel 0, LSB+MSB, mode 0 */
    qts_outb(s, 0x40, 0xe8);
    qts_outb(s, 0x40, 0x03);            /* 1000 */
    g_assert_cmpint(qts_clock_step(s, -1), ==, 1000 + PIT_NS(1000));
    /* Nothing else is due now. */
    g_assert_cmpint(qts_clock_step(s, -1), ==, 1000 + PIT_NS(1000));
    qts_quit(s);
}

static void test_clock_unknown_without_qtest_accel(void)
{
    /* -machine accel=qtest is given first; -accel kvm after it wins.  Only
     * check this where KVM exists. */
    if (access("/dev/kvm", R_OK | W_OK)) {
        g_test_skip("no /dev/kvm");
        return;
    }
    QTS *s = qts_init("-accel kvm -S -nodefaults");
    assert_reply(s, "clock_step", "FAIL Unknown command 'clock_step'");
    assert_reply(s, "clock_set 5", "FAIL Unknown command 'clock_set'");
    assert_reply(s, "outb 0x70 0x0a", "OK");
    qts_quit(s);
}

/* An intercepted input reports each change, before the command's OK. */
static void test_irq_intercept_in(void)
{
    QTS *s = qts_init("");
    assert_reply(s, "irq_intercept_in ioapic", "OK");
    char *r = qts_cmd(s, "set_irq_in ioapic unnamed-gpio-in 8 1");
    g_assert_cmpstr(r, ==, "OK");
    g_free(r);
    g_assert_true(qts_get_irq(s, 8));
    /* Same level again: no report. */
    g_assert_cmpuint(qts_irq_raised(s, 8), ==, 1);
    qts_set_irq_in(s, "ioapic", "unnamed-gpio-in", 8, 1);
    g_assert_cmpuint(qts_irq_raised(s, 8), ==, 1);
    qts_set_irq_in(s, "ioapic", "unnamed-gpio-in", 8, 0);
    g_assert_false(qts_get_irq(s, 8));
    qts_quit(s);
}

/* The raw stream: "IRQ raise 8" comes before the OK of the command. */
static void test_irq_report_order(void)
{
    QTS *s = qts_init("-rtc clock=vm");
    assert_reply(s, "irq_intercept_in ioapic", "OK");
    /* The RTC's update-ended interrupt comes once a second on IRQ 8. */
    assert_reply(s, "outb 0x70 0x0b", "OK");
    assert_reply(s, "outb 0x71 0x12", "OK");        /* UIE, 24h */
    assert_reply(s, "outb 0x70 0x0c", "OK");
    g_autofree char *r = qts_cmd_raw(s, "clock_step 2000000000");
    g_assert_cmpstr(r, ==, "IRQ raise 8\nOK 2000000000\n");
    g_assert_true(qts_get_irq(s, 8));
    g_free(r);
    r = qts_cmd_raw(s, "inb 0x71");                /* reads register C */
    /* IRQF, UF, and PF, which the 1024 Hz rate sets even without PIE */
    g_assert_cmpstr(r, ==, "IRQ lower 8\nOK 0x00d0\n");
    qts_quit(s);
}

static void test_irq_intercept_rules(void)
{
    QTS *s = qts_init("");
    assert_reply(s, "irq_intercept_in nonexistent", "FAIL Unknown device");
    assert_reply(s, "irq_intercept_in /machine/i440fx/ioapic", "OK");
    /* Again for the same device (any of its names): fine. */
    assert_reply(s, "irq_intercept_in ioapic", "OK");
    assert_reply(s, "irq_intercept_out i440fx/ioapic", "OK");
    assert_reply(s, "irq_intercept_in i8259",
                 "FAIL IRQ intercept already enabled");
    assert_reply(s, "set_irq_in nonexistent unnamed-gpio-in 0 1",
                 "FAIL Unknown device");
    qts_quit(s);
}

/* PIT channel 0 is ISA IRQ 0: it reaches the IOAPIC's input 0 (wired to
 * pin 2), and qtest reports it as line 0, like QEMU. */
static void test_irq0_number(void)
{
    QTS *s = qts_init("");
    qts_irq_intercept_in(s, "ioapic");
    qts_outb(s, 0x43, 0x30);
    qts_outb(s, 0x40, 10);
    qts_outb(s, 0x40, 0);
    qts_clock_step(s, PIT_NS(10));
    g_assert_true(qts_get_irq(s, 0));
    g_assert_false(qts_get_irq(s, 2));
    qts_quit(s);
}

static void test_intercept_out(void)
{
    QTS *s = qts_init("");
    qts_irq_intercept_out(s, "i8259");
    /* Power-on PIC: nothing masked; an edge on IR1 raises INTR. */
    qts_set_irq_in(s, "i8259", "unnamed-gpio-in", 1, 1);
    g_assert_true(qts_get_irq(s, 0));
    qts_quit(s);
}

static void test_log(void)
{
    g_autofree char *dir = g_dir_make_tmp("kqlog-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "log", NULL);
    g_autofree char *text = NULL;

    QTS *s = qts_initf("-qtest-log %s", path);
    assert_reply(s, "endianness", "OK little");
    assert_reply(s, "inb 0x1234", "OK 0x00ff");
    qts_quit(s);
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_true(g_regex_match_simple(
        "^\\[I 0\\.[0-9]{6}\\] OPENED\n"
        "\\[R \\+[0-9]+\\.[0-9]{6}\\] endianness\n"
        "\\[S \\+[0-9]+\\.[0-9]{6}\\] OK little\n"
        "\\[R \\+[0-9]+\\.[0-9]{6}\\] inb 0x1234\n"
        "\\[S \\+[0-9]+\\.[0-9]{6}\\] OK 0x00ff\n", text, 0, 0));
    unlink(path);
    rmdir(dir);
}

/* The command-line spellings libqtest uses: -accel qtest, -display none,
 * and exit status 0 on SIGTERM. */
static void test_accel_option(void)
{
    QTS *s = qts_init("-accel qtest -display none");
    assert_reply(s, "clock_step 7", "OK 7");
    qts_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qtest/protocol/endianness", test_endianness);
    g_test_add_func("/qtest/protocol/in-format", test_in_format);
    g_test_add_func("/qtest/protocol/read-format", test_read_format);
    g_test_add_func("/qtest/protocol/write-truncates", test_write_truncates);
    g_test_add_func("/qtest/protocol/read-write-hex", test_read_write_hex);
    g_test_add_func("/qtest/protocol/write-short-data", test_write_short_data);
    g_test_add_func("/qtest/protocol/b64", test_b64);
    g_test_add_func("/qtest/protocol/memset", test_memset);
    g_test_add_func("/qtest/protocol/number-bases", test_number_bases);
    g_test_add_func("/qtest/protocol/unknown-command", test_unknown_command);
    g_test_add_func("/qtest/protocol/malformed", test_malformed);
    g_test_add_func("/qtest/protocol/clock", test_clock);
    g_test_add_func("/qtest/protocol/clock-next-deadline",
                    test_clock_next_deadline);
    g_test_add_func("/qtest/protocol/clock-needs-qtest-accel",
                    test_clock_unknown_without_qtest_accel);
    g_test_add_func("/qtest/protocol/irq-intercept-in", test_irq_intercept_in);
    g_test_add_func("/qtest/protocol/irq-report-order", test_irq_report_order);
    g_test_add_func("/qtest/protocol/irq-intercept-rules",
                    test_irq_intercept_rules);
    g_test_add_func("/qtest/protocol/irq0-number", test_irq0_number);
    g_test_add_func("/qtest/protocol/irq-intercept-out", test_intercept_out);
    g_test_add_func("/qtest/protocol/log", test_log);
    g_test_add_func("/qtest/protocol/accel-option", test_accel_option);
    return g_test_run();
}
