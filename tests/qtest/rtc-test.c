/*
 * MC146818 RTC and CMOS RAM: BCD and binary, 12 and 24 hour formats, the
 * update cycle (UIP, update-ended flag), alarms, periodic rates, register
 * C, SET and divider reset, calendar roll-overs with the century byte, the
 * NMI mask bit of the index port, the NVRAM and the board's CMOS bytes.
 * With -rtc clock=vm the time of day follows the virtual clock, and leaving
 * divider reset puts the next update exactly 500 ms later.
 */
#include "libkqtest.h"

#define MS 1000000LL
#define SEC 1000000000LL
#define UIP_LEAD 244140         /* 8 cycles of 32.768 kHz */

enum { SEC_R = 0, SEC_ALARM = 1, MIN_R = 2, MIN_ALARM = 3, HOUR_R = 4,
       HOUR_ALARM = 5, WDAY = 6, MDAY = 7, MONTH = 8, YEAR = 9, REG_A = 10,
       REG_B = 11, REG_C = 12, REG_D = 13, CENTURY = 0x32 };

#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_DM  0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF  0x40
#define C_AF  0x20
#define C_UF  0x10

static QTS *start(void)
{
    QTS *s = qts_init("-nodefaults -rtc clock=vm");
    qts_irq_intercept_in(s, "ioapic");
    return s;
}

static uint8_t rd(QTS *s, uint8_t reg)
{
    return qts_cmos_read(s, reg);
}

static void wr(QTS *s, uint8_t reg, uint8_t v)
{
    qts_cmos_write(s, reg, v);
}

/* Set the date in divider reset; the clock runs again from the end of
 * this call, 500 ms before its first update. */
static void set_datetime(QTS *s, uint8_t b, uint8_t hour, uint8_t min,
                         uint8_t sec, uint8_t mday, uint8_t mon,
                         uint8_t year, uint8_t century)
{
    wr(s, REG_A, 0x76);
    wr(s, REG_B, b);
    wr(s, HOUR_R, hour);
    wr(s, MIN_R, min);
    wr(s, SEC_R, sec);
    wr(s, MDAY, mday);
    wr(s, MONTH, mon);
    wr(s, YEAR, year);
    wr(s, CENTURY, century);
    wr(s, REG_A, 0x26);
}

static void assert_time(QTS *s, uint8_t hour, uint8_t min, uint8_t sec)
{
    g_assert_cmphex(rd(s, HOUR_R), ==, hour);
    g_assert_cmphex(rd(s, MIN_R), ==, min);
    g_assert_cmphex(rd(s, SEC_R), ==, sec);
}

static void test_power_on(void)
{
    QTS *s = start();
    g_assert_cmphex(rd(s, REG_A), ==, 0x26);
    g_assert_cmphex(rd(s, REG_B), ==, B_24H);
    g_assert_cmphex(rd(s, REG_D), ==, 0x80);    /* VRT: battery good */
    g_assert_cmphex(rd(s, REG_C) & ~C_PF, ==, 0);
    g_assert_false(qts_get_irq(s, 8));
    qts_quit(s);
}

/* -rtc base= gives the date; BCD 24-hour by default. */
static void test_base_date(void)
{
    QTS *s = qts_init("-nodefaults -rtc base=2011-02-02T02:04:58,clock=vm");
    assert_time(s, 0x02, 0x04, 0x58);
    g_assert_cmphex(rd(s, MDAY), ==, 0x02);
    g_assert_cmphex(rd(s, MONTH), ==, 0x02);
    g_assert_cmphex(rd(s, YEAR), ==, 0x11);
    g_assert_cmphex(rd(s, CENTURY), ==, 0x20);
    g_assert_cmphex(rd(s, WDAY), ==, 4);        /* a Wednesday */
    qts_quit(s);
}

/* The first update after divider reset comes 500 ms later, exactly. */
static void test_divider_reset(void)
{
    QTS *s = start();
    set_datetime(s, B_24H, 0x02, 0x04, 0x58, 0x02, 0x02, 0x11, 0x20);
    int64_t t0 = qts_clock_step(s, 0);
    qts_clock_set(s, t0 + 500 * MS - 1);
    assert_time(s, 0x02, 0x04, 0x58);
    qts_clock_set(s, t0 + 500 * MS);
    assert_time(s, 0x02, 0x04, 0x59);
    qts_clock_set(s, t0 + 1500 * MS);
    assert_time(s, 0x02, 0x05, 0x00);
    /* In divider reset the time stands still. */
    wr(s, REG_A, 0x76);
    qts_clock_step(s, 10 * SEC);
    assert_time(s, 0x02, 0x05, 0x00);
    qts_quit(s);
}

/* UIP is set from 244 us before the update until the update. */
static void test_uip(void)
{
    QTS *s = start();
    set_datetime(s, B_24H, 0, 0, 0, 1, 1, 0x20, 0x20);
    int64_t t0 = qts_clock_step(s, 0);
    qts_clock_set(s, t0 + 500 * MS - UIP_LEAD - 1);
    g_assert_cmphex(rd(s, REG_A) & 0x80, ==, 0);
    qts_clock_set(s, t0 + 500 * MS - UIP_LEAD);
    g_assert_cmphex(rd(s, REG_A) & 0x80, ==, 0x80);
    qts_clock_set(s, t0 + 500 * MS - 1);
    g_assert_cmphex(rd(s, REG_A) & 0x80, ==, 0x80);
    g_assert_cmphex(rd(s, SEC_R), ==, 0x00);
    qts_clock_set(s, t0 + 500 * MS);
    g_assert_cmphex(rd(s, REG_A) & 0x80, ==, 0);
    g_assert_cmphex(rd(s, SEC_R), ==, 0x01);
    qts_quit(s);
}

static void test_binary(void)
{
    QTS *s = start();
    set_datetime(s, B_24H | B_DM, 23, 59, 59, 31, 12, 99, 19);
    qts_clock_step(s, 500 * MS);
    assert_time(s, 0, 0, 0);
    g_assert_cmpuint(rd(s, MDAY), ==, 1);
    g_assert_cmpuint(rd(s, MONTH), ==, 1);
    g_assert_cmpuint(rd(s, YEAR), ==, 0);
    g_assert_cmpuint(rd(s, CENTURY), ==, 20);
    qts_quit(s);
}

/* Switching format while running re-encodes on the next read. */
static void test_bcd_to_binary(void)
{
    QTS *s = start();
    set_datetime(s, B_24H, 0x21, 0x45, 0x30, 0x15, 0x06, 0x24, 0x20);
    wr(s, REG_B, B_24H | B_DM);
    assert_time(s, 21, 45, 30);
    g_assert_cmpuint(rd(s, YEAR), ==, 24);
    qts_quit(s);
}

/* 12-hour BCD: 12 is noon or midnight, bit 7 means PM. */
static void test_12h_bcd(void)
{
    QTS *s = start();
    set_datetime(s, 0, 0x11, 0x59, 0x59, 1, 1, 0x21, 0x20);
    qts_clock_step(s, 500 * MS);
    assert_time(s, 0x92, 0x00, 0x00);           /* 12 PM */
    set_datetime(s, 0, 0x91, 0x59, 0x59, 1, 1, 0x21, 0x20);
    qts_clock_step(s, 500 * MS);
    assert_time(s, 0x12, 0x00, 0x00);           /* 12 AM, next day */
    g_assert_cmphex(rd(s, MDAY), ==, 0x02);
    set_datetime(s, 0, 0x12, 0x59, 0x59, 1, 1, 0x21, 0x20);
    qts_clock_step(s, 500 * MS);
    assert_time(s, 0x01, 0x00, 0x00);           /* 12:59 AM -> 1 AM */
    qts_quit(s);
}

static void test_12h_binary(void)
{
    QTS *s = start();
    set_datetime(s, B_DM, 0x8c, 59, 59, 1, 1, 21, 20);    /* 12:59:59 PM */
    qts_clock_step(s, 500 * MS);
    assert_time(s, 0x81, 0, 0);                 /* 1 PM */
    set_datetime(s, B_DM, 0x8b, 59, 59, 1, 1, 21, 20);    /* 11:59:59 PM */
    qts_clock_step(s, 500 * MS);
    assert_time(s, 0x0c, 0, 0);                 /* 12 AM */
    qts_quit(s);
}

/* Switching 24h -> 12h re-encodes the hour. */
static void test_24h_to_12h(void)
{
    QTS *s = start();
    set_datetime(s, B_24H, 0x15, 0x00, 0x00, 1, 1, 0x21, 0x20);
    wr(s, REG_B, 0);
    g_assert_cmphex(rd(s, HOUR_R), ==, 0x83);   /* 3 PM */
    wr(s, REG_B, B_24H);
    g_assert_cmphex(rd(s, HOUR_R), ==, 0x15);
    qts_quit(s);
}

/* Update-ended: UF (and IRQF, IRQ 8 with UIE) at each update. */
static void test_update_ended(void)
{
    QTS *s = start();
    set_datetime(s, B_24H, 0, 0, 0, 1, 1, 0x20, 0x20);
    rd(s, REG_C);
    wr(s, REG_B, B_24H | B_UIE);
    qts_clock_step(s, 500 * MS - 1);
    g_assert_false(qts_get_irq(s, 8));
    qts_clock_step(s, 1);
    g_assert_true(qts_get_irq(s, 8));
    g_assert_cmphex(rd(s, REG_C) & (C_IRQF | C_UF), ==, C_IRQF | C_UF);
    g_assert_false(qts_get_irq(s, 8));          /* reading C clears */
    g_assert_cmphex(rd(s, REG_C) & (C_IRQF | C_UF), ==, 0);
    qts_irq_reset_count(s);
    for (int i = 0; i < 5; i++) {
        qts_clock_step(s, SEC);
        rd(s, REG_C);
    }
    g_assert_cmpuint(qts_irq_raised(s, 8), ==, 5);
    qts_quit(s);
}

/* Without its enable bit a flag is set but IRQ 8 stays low. */
static void test_flags_without_irq(void)
{
    QTS *s = start();
    set_datetime(s, B_24H, 0, 0, 0, 1, 1, 0x20, 0x20);
    rd(s, REG_C);
    qts_clock_step(s, 600 * MS);
    g_assert_cmphex(rd(s, REG_C) & (C_IRQF | C_UF | C_PF), ==, C_UF | C_PF);
    g_assert_cmpuint(qts_irq_raised(s, 8), ==, 0);
    qts_quit(s);
}

static void test_alarm(void)
{
    QTS *s = start();
    set_datetime(s, B_24H, 0x10, 0x20, 0x30, 1, 1, 0x20, 0x20);
    wr(s, HOUR_ALARM, 0x10);
    wr(s, MIN_ALARM, 0x20);
    wr(s, SEC_ALARM, 0x33);
    rd(s, REG_C);
    wr(s, REG_B, B_24H | B_AIE);
    qts_clock_step(s, 2500 * MS - 1);           /* 10:20:32 */
    g_assert_false(qts_get_irq(s, 8));
    qts_clock_step(s, 1);                       /* 10:20:33 */
    g_assert_true(qts_get_irq(s, 8));
    g_assert_cmphex(rd(s, REG_C) & (C_IRQF | C_AF), ==, C_IRQF | C_AF);
    qts_clock_step(s, SEC);
    g_assert_cmphex(rd(s, REG_C) & C_AF, ==, 0);    /* once a day */
    qts_quit(s);
}

/* 0xc0-0xff in an alarm byte matches anything: here, every second. */
static void test_alarm_dont_care(void)
{
    QTS *s = start();
    set_datetime(s, B_24H, 0, 0, 0, 1, 1, 0x20, 0x20);
    wr(s, HOUR_ALARM, 0xc0);
    wr(s, MIN_ALARM, 0xff);
    wr(s, SEC_ALARM, 0xc5);
    wr(s, REG_B, B_24H | B_AIE);
    rd(s, REG_C);
    qts_irq_reset_count(s);
    qts_clock_step(s, 500 * MS);
    for (int i = 0; i < 3; i++) {
        g_assert_cmphex(rd(s, REG_C) & C_AF, ==, C_AF);
        qts_clock_step(s, SEC);
    }
    g_assert_cmpuint(qts_irq_raised(s, 8), ==, 4);
    qts_quit(s);
}

/* An alarm on the hour in 12-hour mode: 0x82 is 2 PM, not 2 AM. */
static void test_alarm_pm(void)
{
    QTS *s = start();
    wr(s, MIN_ALARM, 0xc0);
    wr(s, SEC_ALARM, 0xc0);
    wr(s, HOUR_ALARM, 0x82);
    set_datetime(s, 0, 0x01, 0x59, 0x59, 1, 1, 0x20, 0x20);   /* 1 AM */
    rd(s, REG_C);
    qts_clock_step(s, 500 * MS);
    g_assert_cmphex(rd(s, REG_C) & C_AF, ==, 0);
    set_datetime(s, 0, 0x81, 0x59, 0x59, 1, 1, 0x20, 0x20);   /* 1 PM */
    rd(s, REG_C);
    qts_clock_step(s, 500 * MS);
    g_assert_cmphex(rd(s, HOUR_R), ==, 0x82);
    g_assert_cmphex(rd(s, REG_C) & C_AF, ==, C_AF);
    qts_quit(s);
}

/* Periodic interrupts: rate from RS, edges on multiples of the period. */
static void periodic(int rs, int64_t period_ns, int count)
{
    QTS *s = start();
    wr(s, REG_A, 0x20 | rs);
    wr(s, REG_B, B_24H | B_PIE);
    rd(s, REG_C);
    for (int i = 1; i <= count; i++) {
        int64_t now = qts_clock_step(s, -1);    /* to the next edge */
        g_assert_cmpint(now, ==, period_ns * i);
        g_assert_true(qts_get_irq(s, 8));
        g_assert_cmphex(rd(s, REG_C) & (C_IRQF | C_PF), ==, C_IRQF | C_PF);
        g_assert_false(qts_get_irq(s, 8));
    }
    qts_quit(s);
}

static void test_periodic_2hz(void)
{
    periodic(15, 500 * MS, 4);
}

static void test_periodic_1024hz(void)
{
    periodic(6, 976563, 1);                     /* 32 cycles, rounded up */
}

static void test_periodic_256hz(void)
{
    periodic(1, 3906250, 8);                    /* RS 1 is 256 Hz, not 16 kHz */
}

static void test_periodic_128hz(void)
{
    periodic(2, 7812500, 8);
}

static void test_periodic_8hz(void)
{
    periodic(13, 125 * MS, 8);
}

/* A new rate counts from the last edge (as in QEMU): 2 Hz edge at 500 ms,
 * then 8 Hz gives 625 and 750 ms, 2 Hz again 1250 ms. */
static void test_periodic_rate_change(void)
{
    static const int64_t want[] = { 500, 625, 750, 1250 };
    QTS *s = start();
    wr(s, REG_A, 0x2f);
    wr(s, REG_B, B_24H | B_PIE);
    rd(s, REG_C);
    for (unsigned i = 0; i < G_N_ELEMENTS(want); i++) {
        g_assert_cmpint(qts_clock_step(s, -1), ==, want[i] * MS);
        g_assert_cmphex(rd(s, REG_C) & C_PF, ==, C_PF);
        if (i == 0) {
            wr(s, REG_A, 0x2d);
        } else if (i == 2) {
            wr(s, REG_A, 0x2f);
        }
    }
    qts_quit(s);
}

/* RS 0 and a stopped divider give no periodic edges. */
static void test_periodic_off(void)
{
    QTS *s = start();
    wr(s, REG_A, 0x20);
    wr(s, REG_B, B_24H | B_PIE);
    rd(s, REG_C);
    qts_clock_step(s, SEC);
    g_assert_cmphex(rd(s, REG_C) & C_PF, ==, 0);
    wr(s, REG_A, 0x76);
    qts_clock_step(s, SEC);
    g_assert_cmphex(rd(s, REG_C) & C_PF, ==, 0);
    g_assert_cmpuint(qts_irq_raised(s, 8), ==, 0);
    qts_quit(s);
}

/* SET holds the registers for writing and clears UIE. */
static void test_set_bit(void)
{
    QTS *s = start();
    set_datetime(s, B_24H, 0x02, 0x04, 0x58, 0x02, 0x02, 0x11, 0x20);
    wr(s, REG_B, B_24H | B_UIE);
    wr(s, REG_B, B_24H | B_UIE | B_SET);
    g_assert_cmphex(rd(s, REG_B), ==, B_24H | B_SET);
    wr(s, SEC_R, 0x10);
    qts_clock_step(s, 5 * SEC);
    g_assert_cmphex(rd(s, SEC_R), ==, 0x10);
    wr(s, REG_B, B_24H);
    qts_clock_step(s, SEC);
    g_assert_cmphex(rd(s, SEC_R), ==, 0x11);
    qts_quit(s);
}

/* The century byte counts with the year; 2000 is a leap year, 2100 not. */
static void test_century_leap(void)
{
    QTS *s = start();
    set_datetime(s, B_24H, 0x23, 0x59, 0x59, 0x28, 0x02, 0x00, 0x20);
    qts_clock_step(s, 500 * MS);
    g_assert_cmphex(rd(s, MDAY), ==, 0x29);
    g_assert_cmphex(rd(s, MONTH), ==, 0x02);
    set_datetime(s, B_24H, 0x23, 0x59, 0x59, 0x28, 0x02, 0x00, 0x21);
    qts_clock_step(s, 500 * MS);
    g_assert_cmphex(rd(s, MDAY), ==, 0x01);
    g_assert_cmphex(rd(s, MONTH), ==, 0x03);
    set_datetime(s, B_24H, 0x23, 0x59, 0x59, 0x31, 0x12, 0x99, 0x20);
    qts_clock_step(s, 500 * MS);
    g_assert_cmphex(rd(s, YEAR), ==, 0x00);
    g_assert_cmphex(rd(s, CENTURY), ==, 0x21);
    g_assert_cmphex(rd(s, MONTH), ==, 0x01);
    qts_quit(s);
}

/* Day of week follows the date, 1 (Sunday) to 7 (Saturday). */
static void test_day_of_week(void)
{
    QTS *s = start();
    set_datetime(s, B_24H, 0x23, 0x59, 0x59, 0x01, 0x01, 0x00, 0x20);
    g_assert_cmphex(rd(s, WDAY), ==, 7);        /* 2000-01-01: Saturday */
    qts_clock_step(s, 500 * MS);
    g_assert_cmphex(rd(s, WDAY), ==, 1);
    qts_quit(s);
}

/* Bit 7 of the index port masks NMI; it does not select a register. */
static void test_nmi_bit(void)
{
    QTS *s = start();
    qts_outb(s, 0x70, 0x80 | REG_A);
    g_assert_cmphex(qts_inb(s, 0x71), ==, 0x26);
    qts_outb(s, 0x70, 0x80 | 0x40);
    qts_outb(s, 0x71, 0x5a);
    qts_outb(s, 0x70, 0x40);
    g_assert_cmphex(qts_inb(s, 0x71), ==, 0x5a);
    g_assert_cmphex(qts_inb(s, 0x70), ==, 0xff);    /* index: write-only */
    qts_quit(s);
}

/* General-purpose CMOS RAM keeps what is written; C and D are read-only. */
static void test_nvram(void)
{
    QTS *s = start();
    for (int r = 0x0e; r < 0x80; r++) {
        if (r == CENTURY) {
            continue;
        }
        wr(s, r, r ^ 0xa5);
    }
    for (int r = 0x0e; r < 0x80; r++) {
        if (r != CENTURY) {
            g_assert_cmphex(rd(s, r), ==, r ^ 0xa5);
        }
    }
    wr(s, REG_D, 0x00);
    g_assert_cmphex(rd(s, REG_D), ==, 0x80);
    wr(s, REG_C, 0xff);
    g_assert_cmphex(rd(s, REG_C) & ~C_PF, ==, 0x00);
    qts_quit(s);
}

/* The board's bytes: base and extended memory, CPUs, equipment. */
static void test_board_cmos(void)
{
    QTS *s = qts_init("-nodefaults -m 256 -smp 2");
    g_assert_cmphex(rd(s, 0x15) | rd(s, 0x16) << 8, ==, 640);
    g_assert_cmphex(rd(s, 0x17) | rd(s, 0x18) << 8, ==, 0xffff);
    g_assert_cmphex(rd(s, 0x34) | rd(s, 0x35) << 8, ==, (256 - 16) * 16);
    g_assert_cmphex(rd(s, 0x5f), ==, 1);
    qts_quit(s);
}

/* Boot devices (1 floppy, 2 disk, 3 CD, 4 network) in 0x3d and 0x38. */
static uint16_t boot_order(QTS *s)
{
    return rd(s, 0x38) | rd(s, 0x3d) << 8;
}

static void test_boot_order(void)
{
    QTS *s = qts_init("-nodefaults");
    g_assert_cmphex(boot_order(s), ==, 0x1230);     /* QEMU's "cad" */
    qts_quit(s);

    s = qts_init("-nodefaults -boot nda -no-fd-bootchk");
    g_assert_cmphex(boot_order(s), ==, 0x3411);
    qts_quit(s);

    s = qts_init("-nodefaults -boot order=c -boot order= -boot menu=on");
    g_assert_cmphex(boot_order(s), ==, 0x0000);
    qts_quit(s);

    /* once= holds until the first reset, then order= is back. */
    s = qts_init("-nodefaults -boot once=d,order=nc");
    g_assert_cmphex(boot_order(s), ==, 0x0300);
    qts_outb(s, 0xcf9, 0x06);
    g_assert_cmphex(boot_order(s), ==, 0x2400);
    qts_outb(s, 0xcf9, 0x06);
    g_assert_cmphex(boot_order(s), ==, 0x2400);
    qts_quit(s);
}

/* Machine reset (PIIX3 0xcf9) clears the interrupt enables, keeps time. */
static void test_reset(void)
{
    QTS *s = start();
    set_datetime(s, B_24H, 0x12, 0x00, 0x00, 1, 1, 0x20, 0x20);
    wr(s, REG_B, B_24H | B_PIE | B_AIE | B_UIE);
    wr(s, 0x40, 0x77);
    qts_outb(s, 0xcf9, 0x06);
    g_assert_cmphex(rd(s, REG_B), ==, B_24H);
    g_assert_cmphex(rd(s, 0x40), ==, 0x77);
    g_assert_cmphex(rd(s, HOUR_R), ==, 0x12);
    qts_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/power-on", test_power_on);
    g_test_add_func("/rtc/base-date", test_base_date);
    g_test_add_func("/rtc/update/divider-reset", test_divider_reset);
    g_test_add_func("/rtc/update/uip", test_uip);
    g_test_add_func("/rtc/format/binary", test_binary);
    g_test_add_func("/rtc/format/bcd-to-binary", test_bcd_to_binary);
    g_test_add_func("/rtc/format/12h-bcd", test_12h_bcd);
    g_test_add_func("/rtc/format/12h-binary", test_12h_binary);
    g_test_add_func("/rtc/format/24h-to-12h", test_24h_to_12h);
    g_test_add_func("/rtc/update/ended-irq", test_update_ended);
    g_test_add_func("/rtc/update/flags-without-irq", test_flags_without_irq);
    g_test_add_func("/rtc/alarm/match", test_alarm);
    g_test_add_func("/rtc/alarm/dont-care", test_alarm_dont_care);
    g_test_add_func("/rtc/alarm/pm", test_alarm_pm);
    g_test_add_func("/rtc/periodic/2hz", test_periodic_2hz);
    g_test_add_func("/rtc/periodic/1024hz", test_periodic_1024hz);
    g_test_add_func("/rtc/periodic/256hz", test_periodic_256hz);
    g_test_add_func("/rtc/periodic/128hz", test_periodic_128hz);
    g_test_add_func("/rtc/periodic/8hz", test_periodic_8hz);
    g_test_add_func("/rtc/periodic/off", test_periodic_off);
    g_test_add_func("/rtc/periodic/rate-change", test_periodic_rate_change);
    g_test_add_func("/rtc/set-bit", test_set_bit);
    g_test_add_func("/rtc/calendar/century-leap", test_century_leap);
    g_test_add_func("/rtc/calendar/day-of-week", test_day_of_week);
    g_test_add_func("/rtc/nmi-mask-bit", test_nmi_bit);
    g_test_add_func("/rtc/nvram", test_nvram);
    g_test_add_func("/rtc/board-cmos", test_board_cmos);
    g_test_add_func("/rtc/board-cmos/boot-order", test_boot_order);
    g_test_add_func("/rtc/machine-reset", test_reset);
    return g_test_run();
}
