/*
 * 8254 PIT: the six modes, counter latch, read-back, read/write modes, BCD,
 * gates (channel 2 through port 0x61) and port 0x61's status bits.  The
 * virtual clock starts at 0 and the PIT counts 1193182 clocks a second, so
 * the instant of every OUT edge is known exactly: clock n begins at
 * ceil(n * 1e9 / 1193182) ns.  Channel 0's OUT is watched as ISA IRQ 0 on
 * the PIC's intercepted inputs, channel 2's as port 0x61 bit 5.
 */
#include "libkqtest.h"

#define PIT_NS(n) (((int64_t)(n) * 1000000000LL + 1193181) / 1193182)

static QTS *start(void)
{
    QTS *s = qts_init("-nodefaults");
    qts_irq_intercept_in(s, "i8259");
    return s;
}

/* Control word for LSB-then-MSB access, then the count. */
static void program(QTS *s, int ch, int mode, uint16_t count)
{
    qts_outb(s, 0x43, ch << 6 | 0x30 | mode << 1);
    qts_outb(s, 0x40 + ch, count & 0xff);
    qts_outb(s, 0x40 + ch, count >> 8);
}

/* LSB then MSB (two statements: the order matters). */
static uint16_t read16(QTS *s, int ch)
{
    uint8_t lo = qts_inb(s, 0x40 + ch);
    return lo | qts_inb(s, 0x40 + ch) << 8;
}

static uint16_t latch_read(QTS *s, int ch)
{
    qts_outb(s, 0x43, ch << 6);
    return read16(s, ch);
}

static uint8_t status(QTS *s, int ch)
{
    qts_outb(s, 0x43, 0xe0 | 2 << ch);          /* read-back: status only */
    return qts_inb(s, 0x40 + ch);
}

static bool out0(QTS *s)
{
    return qts_get_irq(s, 0);
}

static bool out2(QTS *s)
{
    return qts_inb(s, 0x61) & 0x20;
}

static void at(QTS *s, int64_t ns)
{
    g_assert_cmpint(qts_clock_set(s, ns), ==, ns);
}

static void test_power_on(void)
{
    QTS *s = start();
    g_assert_cmphex(status(s, 0) & 0xc0, ==, 0x40);  /* OUT low, null */
    qts_clock_step(s, 1000000000);
    g_assert_cmpuint(qts_irq_raised(s, 0), ==, 0);
    g_assert_cmphex(qts_inb(s, 0x61) & 0x23, ==, 0); /* gate 2 off */
    qts_quit(s);
}

/* Mode 0: OUT low from the control word until the count runs out. */
static void test_mode0(void)
{
    QTS *s = start();
    program(s, 0, 0, 1000);
    g_assert_false(out0(s));
    g_assert_cmphex(status(s, 0) & 0x80, ==, 0);
    at(s, PIT_NS(999));
    g_assert_false(out0(s));
    g_assert_cmpuint(latch_read(s, 0), ==, 1);
    at(s, PIT_NS(1000) - 1);
    g_assert_false(out0(s));
    at(s, PIT_NS(1000));
    g_assert_true(out0(s));
    g_assert_cmpuint(latch_read(s, 0), ==, 0);
    at(s, PIT_NS(1001));
    g_assert_cmpuint(latch_read(s, 0), ==, 0xffff);  /* counts on */
    at(s, PIT_NS(100000));
    g_assert_true(out0(s));
    g_assert_cmpuint(qts_irq_raised(s, 0), ==, 1);
    qts_quit(s);
}

/* Mode 0: the first byte of a new count stops counting and drops OUT,
 * the second starts the new count. */
static void test_mode0_rewrite(void)
{
    QTS *s = start();
    program(s, 0, 0, 100);
    at(s, PIT_NS(200));
    g_assert_true(out0(s));
    qts_outb(s, 0x40, 50);
    g_assert_false(out0(s));
    at(s, PIT_NS(1000));
    g_assert_false(out0(s));                    /* not counting */
    qts_outb(s, 0x40, 0);
    at(s, PIT_NS(1000) + PIT_NS(50) + 1);
    g_assert_true(out0(s));
    qts_quit(s);
}

/* Mode 1 on channel 2: the gate's rising edge fires the one-shot. */
static void test_mode1(void)
{
    QTS *s = start();
    program(s, 2, 1, 100);
    g_assert_true(out2(s));
    at(s, 10000);
    g_assert_true(out2(s));                     /* waits for a trigger */
    qts_outb(s, 0x61, 0x01);                    /* gate up at 10 us */
    g_assert_false(out2(s));
    at(s, 10000 + PIT_NS(99));
    g_assert_false(out2(s));
    at(s, 10000 + PIT_NS(100) + 1);
    g_assert_true(out2(s));
    /* Retrigger. */
    qts_outb(s, 0x61, 0x00);
    qts_outb(s, 0x61, 0x01);
    g_assert_false(out2(s));
    qts_quit(s);
}

/* Mode 2: OUT low for the one clock before each reload. */
static void test_mode2(void)
{
    QTS *s = start();
    program(s, 0, 2, 100);
    g_assert_true(out0(s));                     /* high after programming */
    at(s, PIT_NS(99) - 1);
    g_assert_true(out0(s));
    g_assert_cmpuint(latch_read(s, 0), ==, 2);
    at(s, PIT_NS(99));
    g_assert_false(out0(s));
    g_assert_cmpuint(latch_read(s, 0), ==, 1);
    at(s, PIT_NS(100));
    g_assert_true(out0(s));
    g_assert_cmpuint(latch_read(s, 0), ==, 100);  /* reloaded */
    qts_quit(s);
}

/* Mode 2 as the tick: one rising edge per period, exactly. */
static void test_mode2_rate(void)
{
    QTS *s = start();
    program(s, 0, 2, 1193);                     /* ~1 kHz */
    qts_irq_reset_count(s);
    at(s, PIT_NS(1193 * 10) - 1);
    g_assert_cmpuint(qts_irq_raised(s, 0), ==, 9);
    at(s, PIT_NS(1193 * 10));
    g_assert_cmpuint(qts_irq_raised(s, 0), ==, 10);
    qts_quit(s);
}

/* Mode 3, even count: high for N/2 clocks, low for N/2, counting by 2. */
static void test_mode3_even(void)
{
    QTS *s = start();
    program(s, 0, 3, 100);
    g_assert_true(out0(s));
    at(s, PIT_NS(10));
    g_assert_cmpuint(latch_read(s, 0), ==, 80);
    at(s, PIT_NS(50) - 1);
    g_assert_true(out0(s));
    at(s, PIT_NS(50));
    g_assert_false(out0(s));
    g_assert_cmpuint(latch_read(s, 0), ==, 100);
    at(s, PIT_NS(100) - 1);
    g_assert_false(out0(s));
    at(s, PIT_NS(100));
    g_assert_true(out0(s));
    qts_quit(s);
}

/* Mode 3, odd count: high for (N+1)/2 clocks, low for (N-1)/2. */
static void test_mode3_odd(void)
{
    QTS *s = start();
    program(s, 0, 3, 101);
    at(s, PIT_NS(51) - 1);
    g_assert_true(out0(s));
    at(s, PIT_NS(51));
    g_assert_false(out0(s));
    at(s, PIT_NS(101) - 1);
    g_assert_false(out0(s));
    at(s, PIT_NS(101));
    g_assert_true(out0(s));
    qts_irq_reset_count(s);
    at(s, PIT_NS(101 * 11));
    g_assert_cmpuint(qts_irq_raised(s, 0), ==, 10);
    qts_quit(s);
}

/* Mode 4: one clock low at terminal count, once. */
static void test_mode4(void)
{
    QTS *s = start();
    program(s, 0, 4, 50);
    g_assert_true(out0(s));
    qts_irq_reset_count(s);
    at(s, PIT_NS(50) - 1);
    g_assert_true(out0(s));
    at(s, PIT_NS(50));
    g_assert_false(out0(s));
    at(s, PIT_NS(51));
    g_assert_true(out0(s));
    at(s, PIT_NS(200000));
    g_assert_cmpuint(qts_irq_raised(s, 0), ==, 1);
    qts_quit(s);
}

/* Mode 5 on channel 2: the strobe counts from the gate's rising edge. */
static void test_mode5(void)
{
    QTS *s = start();
    program(s, 2, 5, 50);
    at(s, 100000);
    g_assert_true(out2(s));
    qts_outb(s, 0x61, 0x01);
    at(s, 100000 + PIT_NS(50));
    g_assert_false(out2(s));
    at(s, 100000 + PIT_NS(51));
    g_assert_true(out2(s));
    qts_quit(s);
}

/* A latched count holds until read; a second latch is ignored. */
static void test_latch(void)
{
    QTS *s = start();
    program(s, 0, 2, 1000);
    at(s, PIT_NS(100));
    qts_outb(s, 0x43, 0x00);
    at(s, PIT_NS(300));
    qts_outb(s, 0x43, 0x00);                    /* ignored */
    g_assert_cmpuint(qts_inb(s, 0x40), ==, 900 & 0xff);
    g_assert_cmpuint(qts_inb(s, 0x40), ==, 900 >> 8);
    g_assert_cmpuint(latch_read(s, 0), ==, 700);
    qts_quit(s);
}

/* Unlatched reads alternate LSB and MSB of the live count. */
static void test_unlatched_read(void)
{
    QTS *s = start();
    program(s, 0, 0, 0x1234);
    at(s, PIT_NS(0x34));
    g_assert_cmphex(qts_inb(s, 0x40), ==, 0x00);
    g_assert_cmphex(qts_inb(s, 0x40), ==, 0x12);
    g_assert_cmphex(qts_inb(s, 0x40), ==, 0x00);
    qts_quit(s);
}

/* Status: OUT, null count, RW, mode, BCD. */
static void test_readback_status(void)
{
    QTS *s = start();
    qts_outb(s, 0x43, 0x36);                    /* ch0, LSB+MSB, mode 3 */
    g_assert_cmphex(status(s, 0), ==, 0xc0 | 0x36);  /* null: no count */
    qts_outb(s, 0x40, 100);
    qts_outb(s, 0x40, 0);
    g_assert_cmphex(status(s, 0), ==, 0xc0 | 0x36);  /* not loaded yet */
    at(s, PIT_NS(1));
    g_assert_cmphex(status(s, 0), ==, 0x80 | 0x36);
    at(s, PIT_NS(60));
    g_assert_cmphex(status(s, 0), ==, 0x36);         /* OUT low half */
    /* Channel 1 untouched since power-on: null count. */
    g_assert_cmphex(status(s, 1) & 0x40, ==, 0x40);
    qts_quit(s);
}

/* Status and count latched together: status comes out first. */
static void test_readback_both(void)
{
    QTS *s = start();
    program(s, 2, 0, 500);
    qts_outb(s, 0x61, 0x01);
    at(s, PIT_NS(200));
    qts_outb(s, 0x43, 0xc8);                    /* count+status, ch2 */
    at(s, PIT_NS(300));
    g_assert_cmphex(qts_inb(s, 0x42), ==, 0x30);     /* mode 0, OUT low */
    g_assert_cmpuint(read16(s, 2), ==, 300);
    qts_quit(s);
}

/* One read-back command latches several channels. */
static void test_readback_multi(void)
{
    QTS *s = start();
    program(s, 0, 2, 1000);
    program(s, 1, 2, 2000);
    at(s, PIT_NS(10));
    qts_outb(s, 0x43, 0xd6);                    /* count of ch0 and ch1 */
    at(s, PIT_NS(500));
    g_assert_cmpuint(read16(s, 0), ==, 990);
    g_assert_cmpuint(read16(s, 1), ==, 1990);
    qts_quit(s);
}

static void test_rw_lsb(void)
{
    QTS *s = start();
    qts_outb(s, 0x43, 0x10);                    /* ch0, LSB only, mode 0 */
    qts_outb(s, 0x40, 0x40);
    at(s, PIT_NS(0x10));
    g_assert_cmphex(qts_inb(s, 0x40), ==, 0x30);
    g_assert_cmphex(qts_inb(s, 0x40), ==, 0x30);
    at(s, PIT_NS(0x40));
    g_assert_true(out0(s));
    qts_quit(s);
}

static void test_rw_msb(void)
{
    QTS *s = start();
    qts_outb(s, 0x43, 0x20);                    /* ch0, MSB only, mode 0 */
    qts_outb(s, 0x40, 0x02);                    /* 0x200 */
    at(s, PIT_NS(0x180));
    g_assert_cmphex(qts_inb(s, 0x40), ==, 0x00);
    at(s, PIT_NS(0x200) - 1);
    g_assert_false(out0(s));
    at(s, PIT_NS(0x200));
    g_assert_true(out0(s));
    qts_quit(s);
}

static void test_bcd(void)
{
    QTS *s = start();
    qts_outb(s, 0x43, 0x31);                    /* ch0, mode 0, BCD */
    qts_outb(s, 0x40, 0x00);
    qts_outb(s, 0x40, 0x01);                    /* 100 decimal */
    at(s, PIT_NS(1));
    g_assert_cmphex(latch_read(s, 0), ==, 0x0099);
    at(s, PIT_NS(100) - 1);
    g_assert_false(out0(s));
    at(s, PIT_NS(100));
    g_assert_true(out0(s));
    at(s, PIT_NS(101));
    g_assert_cmphex(latch_read(s, 0), ==, 0x9999);  /* wraps in decimal */
    qts_quit(s);
}

/* A count of 0 is the largest: 65536, or 10000 in BCD. */
static void test_count_zero(void)
{
    QTS *s = start();
    program(s, 0, 0, 0);
    at(s, PIT_NS(65536) - 1);
    g_assert_false(out0(s));
    at(s, PIT_NS(65536));
    g_assert_true(out0(s));
    qts_outb(s, 0x43, 0x31);
    qts_outb(s, 0x40, 0);
    qts_outb(s, 0x40, 0);
    int64_t t = PIT_NS(65536);
    at(s, t + PIT_NS(10000) - 1);
    g_assert_false(out0(s));
    at(s, t + PIT_NS(10000) + 1);
    g_assert_true(out0(s));
    qts_quit(s);
}

/* Port 0x61: gate and speaker bits read back, bit 4 toggles every
 * 15.085 us, bit 5 is OUT2, the rest is read-only. */
static void test_port61(void)
{
    QTS *s = start();
    qts_outb(s, 0x61, 0xf3);
    g_assert_cmphex(qts_inb(s, 0x61), ==, 0x03);
    at(s, 15085);
    g_assert_cmphex(qts_inb(s, 0x61) & 0x10, ==, 0x10);
    at(s, 2 * 15085);
    g_assert_cmphex(qts_inb(s, 0x61) & 0x10, ==, 0x00);
    program(s, 2, 0, 10);
    at(s, 2 * 15085 + PIT_NS(10));
    g_assert_cmphex(qts_inb(s, 0x61) & 0x20, ==, 0x20);
    qts_outb(s, 0x61, 0x0c);
    g_assert_cmphex(qts_inb(s, 0x61) & 0x0f, ==, 0x0c);
    qts_quit(s);
}

/* Mode 0: a low gate suspends counting. */
static void test_gate_mode0(void)
{
    QTS *s = start();
    qts_outb(s, 0x61, 0x01);
    program(s, 2, 0, 100);
    at(s, PIT_NS(50));
    qts_outb(s, 0x61, 0x00);
    g_assert_cmpuint(latch_read(s, 2), ==, 50);
    at(s, PIT_NS(5000));
    g_assert_cmpuint(latch_read(s, 2), ==, 50);
    g_assert_false(out2(s));
    qts_outb(s, 0x61, 0x01);
    at(s, PIT_NS(5000) + PIT_NS(50) - PIT_NS(1));
    g_assert_false(out2(s));
    at(s, PIT_NS(5000) + PIT_NS(50) + 1);
    g_assert_true(out2(s));
    qts_quit(s);
}

/* Modes 2/3: a low gate forces OUT high; its rising edge reloads. */
static void test_gate_mode2(void)
{
    QTS *s = start();
    qts_outb(s, 0x61, 0x01);
    program(s, 2, 2, 100);
    at(s, PIT_NS(99));
    g_assert_false(out2(s));
    qts_outb(s, 0x61, 0x00);
    g_assert_true(out2(s));
    at(s, PIT_NS(150));
    qts_outb(s, 0x61, 0x01);
    g_assert_cmpuint(latch_read(s, 2), ==, 100);
    at(s, PIT_NS(150) + PIT_NS(99) + 1);
    g_assert_false(out2(s));
    qts_quit(s);
}

/* Control words 0x3c/0x3e name modes 6 and 7: they are 2 and 3. */
static void test_mode_aliases(void)
{
    QTS *s = start();
    qts_outb(s, 0x43, 0x3c);
    g_assert_cmphex(status(s, 0) & 0x0e, ==, 2 << 1);
    qts_outb(s, 0x43, 0x3e);
    g_assert_cmphex(status(s, 0) & 0x0e, ==, 3 << 1);
    g_assert_cmphex(qts_inb(s, 0x43), ==, 0xff);     /* write-only */
    qts_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/i8254/power-on", test_power_on);
    g_test_add_func("/i8254/mode0/terminal-count", test_mode0);
    g_test_add_func("/i8254/mode0/rewrite", test_mode0_rewrite);
    g_test_add_func("/i8254/mode1/one-shot", test_mode1);
    g_test_add_func("/i8254/mode2/pulse", test_mode2);
    g_test_add_func("/i8254/mode2/rate", test_mode2_rate);
    g_test_add_func("/i8254/mode3/even", test_mode3_even);
    g_test_add_func("/i8254/mode3/odd", test_mode3_odd);
    g_test_add_func("/i8254/mode4/strobe", test_mode4);
    g_test_add_func("/i8254/mode5/gate-strobe", test_mode5);
    g_test_add_func("/i8254/latch/count", test_latch);
    g_test_add_func("/i8254/latch/unlatched", test_unlatched_read);
    g_test_add_func("/i8254/readback/status", test_readback_status);
    g_test_add_func("/i8254/readback/status-and-count", test_readback_both);
    g_test_add_func("/i8254/readback/channels", test_readback_multi);
    g_test_add_func("/i8254/rw/lsb", test_rw_lsb);
    g_test_add_func("/i8254/rw/msb", test_rw_msb);
    g_test_add_func("/i8254/bcd", test_bcd);
    g_test_add_func("/i8254/count-zero", test_count_zero);
    g_test_add_func("/i8254/port61", test_port61);
    g_test_add_func("/i8254/gate/mode0", test_gate_mode0);
    g_test_add_func("/i8254/gate/mode2", test_gate_mode2);
    g_test_add_func("/i8254/mode-aliases", test_mode_aliases);
    return g_test_run();
}
