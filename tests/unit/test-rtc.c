/*
 * MC146818 RTC: registers, calendar, formats, UIP, periodic, alarm and
 * update-ended interrupts, driven through ports 0x70/0x71 with the time of
 * day following a manually stepped virtual clock (clock=vm).
 */
#include "hw/isa/isa.h"
#include "hw/timer/mc146818rtc.h"
#include "system/timer.h"

#define NS NANOSECONDS_PER_SECOND
#define MS 1000000LL

static DeviceState *rtc;
static int irq8_level;
static int irq8_raised;

static void isa_irq_handler(void *opaque, int n, int level)
{
    if (n == 8) {
        irq8_raised += level && !irq8_level;
        irq8_level = level;
    }
}

static qemu_irq isa_irqs[16];

static qemu_irq get_isa_irq(int n)
{
    return isa_irqs[n];
}

static uint8_t cmos_read(uint8_t reg)
{
    uint8_t v = reg;

    address_space_write(&address_space_io, 0x70, &v, 1);
    address_space_read(&address_space_io, 0x71, &v, 1);
    return v;
}

static void cmos_write(uint8_t reg, uint8_t val)
{
    address_space_write(&address_space_io, 0x70, &reg, 1);
    address_space_write(&address_space_io, 0x71, &val, 1);
}

static int64_t now(void)
{
    return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

static void warp_to(int64_t ns)
{
    virtual_clock_warp_to(ns);
}

/*
 * Hold the divider in reset, load format and time, release it: the clock
 * then reads the loaded time and its first update comes 500 ms later.
 * Returns the virtual time of that first update.
 */
static int64_t rtc_program(uint8_t b, const uint8_t t[8])
{
    static const uint8_t regs[8] = { 0x00, 0x02, 0x04, 0x06, 0x07, 0x08,
                                     0x09, 0x32 };

    cmos_write(0x0a, 0x70);
    cmos_write(0x0b, b);
    for (int i = 0; i < 8; i++) {
        cmos_write(regs[i], t[i]);
    }
    cmos_read(0x0c);
    cmos_write(0x0a, 0x26);
    return now() + NS / 2;
}

static void assert_time(const uint8_t t[8])
{
    static const uint8_t regs[8] = { 0x00, 0x02, 0x04, 0x06, 0x07, 0x08,
                                     0x09, 0x32 };

    for (int i = 0; i < 8; i++) {
        g_assert_cmphex(cmos_read(regs[i]), ==, t[i]);
    }
}

static void test_power_on(void)
{
    g_assert_cmphex(cmos_read(0x0a), ==, 0x26);
    g_assert_cmphex(cmos_read(0x0b), ==, 0x02);
    g_assert_cmphex(cmos_read(0x0c), ==, 0x00);
    g_assert_cmphex(cmos_read(0x0d), ==, 0x80);
    /* base=2024-02-28T23:59:58, a Wednesday; BCD, 24 hours */
    static const uint8_t t[8] = { 0x58, 0x59, 0x23, 0x04, 0x28, 0x02, 0x24,
                                  0x20 };
    assert_time(t);
    g_assert_cmpint(irq8_level, ==, 0);
}

static void test_index_port(void)
{
    uint8_t v = 0x8d;                   /* NMI masked, register D */

    address_space_write(&address_space_io, 0x70, &v, 1);
    address_space_read(&address_space_io, 0x71, &v, 1);
    g_assert_cmphex(v, ==, 0x80);
    address_space_read(&address_space_io, 0x70, &v, 1);
    g_assert_cmphex(v, ==, 0xff);       /* write-only */

    /* A word write sets index and data in one go. */
    uint16_t w = 0x5a40;
    address_space_write(&address_space_io, 0x70, &w, 2);
    g_assert_cmphex(cmos_read(0x40), ==, 0x5a);
}

static void test_cmos_ram(void)
{
    cmos_write(0x7f, 0xa5);
    g_assert_cmphex(cmos_read(0x7f), ==, 0xa5);
    mc146818rtc_set_cmos_data(rtc, 0x15, 0x80);
    g_assert_cmphex(cmos_read(0x15), ==, 0x80);
    cmos_write(0x16, 0x02);
    g_assert_cmphex(mc146818rtc_get_cmos_data(rtc, 0x16), ==, 0x02);
    g_assert_cmphex(mc146818rtc_get_cmos_data(rtc, 200), ==, 0xff);
    mc146818rtc_set_cmos_data(rtc, -1, 0);      /* ignored */

    /* C and D are read-only. */
    cmos_write(0x0d, 0x00);
    g_assert_cmphex(cmos_read(0x0d), ==, 0x80);
    cmos_write(0x0c, 0xf0);
    g_assert_cmphex(cmos_read(0x0c), ==, 0x00);
}

static void test_update_and_leap_day(void)
{
    static const uint8_t start[8] = { 0x59, 0x59, 0x23, 0x04, 0x28, 0x02,
                                      0x24, 0x20 };
    static const uint8_t next[8] = { 0x00, 0x00, 0x00, 0x05, 0x29, 0x02,
                                     0x24, 0x20 };
    int64_t update = rtc_program(0x02, start);

    warp_to(update - 1);
    assert_time(start);
    warp_to(update);
    assert_time(next);                  /* 2024 is a leap year */
    warp_to(update + 10 * NS);
    g_assert_cmphex(cmos_read(0x00), ==, 0x10);
}

static void test_binary_12h_century(void)
{
    /* 2099-12-31 11:59:59 PM, binary, 12-hour */
    static const uint8_t start[8] = { 59, 59, 0x80 | 11, 5, 31, 12, 99, 20 };
    /* 2100-01-01 12:00:00 AM, a Friday */
    static const uint8_t next[8] = { 0, 0, 12, 6, 1, 1, 0, 21 };
    int64_t update = rtc_program(0x04, start);

    assert_time(start);
    warp_to(update);
    assert_time(next);
    /* 12 hours later it is noon: 12 with the PM bit */
    warp_to(update + 12 * 3600 * NS);
    g_assert_cmphex(cmos_read(0x04), ==, 0x80 | 12);
    /* Switching to 24-hour BCD shows the same time in the new format. */
    cmos_write(0x0b, 0x02);
    g_assert_cmphex(cmos_read(0x04), ==, 0x12);
    g_assert_cmphex(cmos_read(0x32), ==, 0x21);
}

static void test_uip(void)
{
    static const uint8_t t[8] = { 0x00, 0x00, 0x12, 0x02, 0x01, 0x01, 0x24,
                                  0x20 };
    int64_t update = rtc_program(0x02, t);

    warp_to(update - 245 * 1000);
    g_assert_cmphex(cmos_read(0x0a) & 0x80, ==, 0);
    warp_to(update - 244 * 1000);
    g_assert_cmphex(cmos_read(0x0a), ==, 0xa6);
    g_assert_cmphex(cmos_read(0x00), ==, 0x00);     /* not updated yet */
    warp_to(update);
    g_assert_cmphex(cmos_read(0x0a), ==, 0x26);
    g_assert_cmphex(cmos_read(0x00), ==, 0x01);

    /* No updates, so no UIP, while the divider is held in reset. */
    cmos_write(0x0a, 0x70);
    warp_to(update + NS - 100 * 1000);
    g_assert_cmphex(cmos_read(0x0a), ==, 0x70);
    cmos_write(0x0a, 0x26);
}

static void test_set_bit(void)
{
    static const uint8_t t[8] = { 0x30, 0x15, 0x10, 0x02, 0x01, 0x01, 0x24,
                                  0x20 };
    int64_t update = rtc_program(0x12, t);      /* UIE on */

    warp_to(update + 100 * MS);
    g_assert_cmphex(cmos_read(0x00), ==, 0x31);
    cmos_write(0x0b, 0x92);
    g_assert_cmphex(cmos_read(0x0b), ==, 0x82); /* SET clears UIE */
    cmos_write(0x00, 0x45);
    cmos_write(0x02, 0x44);
    warp_to(now() + 5 * NS);
    g_assert_cmphex(cmos_read(0x00), ==, 0x45); /* frozen */
    g_assert_cmphex(cmos_read(0x0a) & 0x80, ==, 0);
    cmos_write(0x0b, 0x02);
    g_assert_cmphex(cmos_read(0x00), ==, 0x45);
    g_assert_cmphex(cmos_read(0x02), ==, 0x44);
    /* The divider kept its phase: the next update is still on the grid. */
    warp_to(update + 6 * NS - 1);
    g_assert_cmphex(cmos_read(0x00), ==, 0x45);
    warp_to(update + 6 * NS);
    g_assert_cmphex(cmos_read(0x00), ==, 0x46);

    /* Writing a time register while running sets the clock at once. */
    cmos_write(0x04, 0x20);
    g_assert_cmphex(cmos_read(0x04), ==, 0x20);
    g_assert_cmphex(cmos_read(0x02), ==, 0x44);
    warp_to(update + 7 * NS);
    g_assert_cmphex(cmos_read(0x00), ==, 0x47);
    g_assert_cmphex(cmos_read(0x04), ==, 0x20);
}

static void test_periodic(void)
{
    static const uint8_t t[8] = { 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x24,
                                  0x20 };
    int count = 0;

    rtc_program(0x02, t);
    /* PF is set without PIE, but the line stays low. */
    cmos_read(0x0c);
    warp_to(now() + 2 * MS);
    g_assert_cmphex(cmos_read(0x0c), ==, 0x40);
    g_assert_cmphex(cmos_read(0x0c), ==, 0x00);
    g_assert_cmpint(irq8_level, ==, 0);

    /* 1024 Hz with PIE: about 102 interrupts in 100 ms. */
    irq8_raised = 0;
    cmos_write(0x0b, 0x42);
    cmos_read(0x0c);
    int64_t start = now();
    for (int64_t t_ns = start; t_ns < start + 100 * MS; t_ns += 100 * 1000) {
        warp_to(t_ns);
        if (irq8_level) {
            g_assert_cmphex(cmos_read(0x0c) & 0xc0, ==, 0xc0);
            g_assert_cmpint(irq8_level, ==, 0);
            count++;
        }
    }
    g_assert_cmpint(count, >=, 101);
    g_assert_cmpint(count, <=, 103);
    g_assert_cmpint(irq8_raised, ==, count);

    /* An unacknowledged interrupt stays one interrupt. */
    irq8_raised = 0;
    warp_to(now() + 50 * MS);
    g_assert_cmpint(irq8_raised, ==, 1);
    cmos_read(0x0c);

    /* RS=15 is 2 Hz: exactly two edges per second. */
    cmos_write(0x0a, 0x2f);
    cmos_read(0x0c);
    irq8_raised = 0;
    start = now();
    for (int64_t t_ns = start; t_ns <= start + 2 * NS; t_ns += MS) {
        warp_to(t_ns);
        if (irq8_level) {
            cmos_read(0x0c);
        }
    }
    g_assert_cmpint(irq8_raised, ==, 4);

    /* RS=0 stops it (UF still comes every second). */
    cmos_write(0x0a, 0x20);
    cmos_read(0x0c);
    warp_to(now() + NS);
    g_assert_cmphex(cmos_read(0x0c), ==, 0x10);
    cmos_write(0x0b, 0x02);
    cmos_write(0x0a, 0x26);
}

static void test_update_interrupt(void)
{
    static const uint8_t t[8] = { 0x00, 0x00, 0x08, 0x01, 0x01, 0x01, 0x24,
                                  0x20 };
    int64_t update = rtc_program(0x12, t);

    irq8_raised = 0;
    warp_to(update - 1);
    g_assert_cmpint(irq8_level, ==, 0);
    warp_to(update);
    g_assert_cmpint(irq8_level, ==, 1);
    /* PF comes along (set without PIE too); IRQF is for UF alone */
    g_assert_cmphex(cmos_read(0x0c) & ~0x40, ==, 0x90);
    g_assert_cmpint(irq8_level, ==, 0);
    warp_to(update + NS);
    g_assert_cmpint(irq8_level, ==, 1);
    g_assert_cmphex(cmos_read(0x00), ==, 0x02);
    g_assert_cmphex(cmos_read(0x0c) & ~0x40, ==, 0x90);
    g_assert_cmpint(irq8_raised, ==, 2);
    cmos_write(0x0b, 0x02);
}

static void test_alarm(void)
{
    static const uint8_t t[8] = { 0x58, 0x59, 0x11, 0x01, 0x01, 0x01, 0x24,
                                  0x20 };
    int64_t update = rtc_program(0x22, t);      /* AIE */

    cmos_write(0x01, 0x00);
    cmos_write(0x03, 0x00);
    cmos_write(0x05, 0x12);
    /* 11:59:59 at the first update, 12:00:00 one second later */
    warp_to(update + NS - 1);
    g_assert_cmpint(irq8_level, ==, 0);
    warp_to(update + NS);
    g_assert_cmpint(irq8_level, ==, 1);
    /* IRQF, AF and UF (and PF, which is set without PIE too) */
    g_assert_cmphex(cmos_read(0x0c) & ~0x40, ==, 0xb0);
    g_assert_cmpint(irq8_level, ==, 0);

    /* Don't-care hour and minute: every minute at :30. */
    cmos_write(0x01, 0x30);
    cmos_write(0x03, 0xc0);
    cmos_write(0x05, 0xff);
    cmos_read(0x0c);
    irq8_raised = 0;
    for (int64_t t_ns = now(); t_ns <= update + 181 * NS; t_ns += NS / 4) {
        warp_to(t_ns);
        if (irq8_level) {
            g_assert_cmphex(cmos_read(0x00), ==, 0x30);
            g_assert_cmphex(cmos_read(0x0c) & 0xa0, ==, 0xa0);
        }
    }
    g_assert_cmpint(irq8_raised, ==, 3);

    /* AF is set by a match even with AIE off, and polled lazily. */
    cmos_write(0x0b, 0x02);
    cmos_read(0x0c);
    warp_to(now() + 120 * NS);
    g_assert_cmphex(cmos_read(0x0c), ==, 0x70);     /* no IRQF */
    g_assert_cmpint(irq8_level, ==, 0);
}

static void test_reset(void)
{
    cmos_write(0x50, 0x77);
    cmos_write(0x0b, 0x7a);
    warp_to(now() + 2 * NS);
    g_assert_cmpint(irq8_level, ==, 1);
    devices_reset_all();
    g_assert_cmpint(irq8_level, ==, 0);
    g_assert_cmphex(cmos_read(0x0b), ==, 0x02);
    g_assert_cmphex(cmos_read(0x0c), ==, 0x00);
    g_assert_cmphex(cmos_read(0x0a), ==, 0x26);
    g_assert_cmphex(cmos_read(0x50), ==, 0x77);     /* battery-backed */
}

static void test_bad_properties(void)
{
    static const char *const bad[][2] = {
        { "clock", "sundial" },
        { "base", "2024-13-01" },
        { "base", "yesterday" },
        { "lost_tick_policy", "panic" },
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        DeviceState *dev = device_new("mc146818rtc");
        Error *err = NULL;

        g_assert_true(device_set_prop(dev, bad[i][0], bad[i][1], NULL));
        g_assert_false(device_realize(dev, &err));
        g_assert_nonnull(err);
        error_free(err);
        device_free(dev);
    }
}

int main(int argc, char **argv)
{
    Error *err = NULL;

    g_test_init(&argc, &argv, NULL);
    memory_init();
    for (int i = 0; i < 16; i++) {
        isa_irqs[i] = qemu_allocate_irq(isa_irq_handler, NULL, i);
    }
    isa_set_irq_handler(get_isa_irq);
    virtual_clock_set_manual(true);

    rtc = device_new("mc146818rtc");
    g_assert_true(device_set_prop(rtc, "clock", "vm", &err));
    g_assert_true(device_set_prop(rtc, "base", "2024-02-28T23:59:58", &err));
    g_assert_true(device_realize(rtc, &err));

    g_test_add_func("/rtc/power-on", test_power_on);
    g_test_add_func("/rtc/index-port", test_index_port);
    g_test_add_func("/rtc/cmos-ram", test_cmos_ram);
    g_test_add_func("/rtc/update-leap-day", test_update_and_leap_day);
    g_test_add_func("/rtc/binary-12h-century", test_binary_12h_century);
    g_test_add_func("/rtc/uip", test_uip);
    g_test_add_func("/rtc/set-bit", test_set_bit);
    g_test_add_func("/rtc/periodic", test_periodic);
    g_test_add_func("/rtc/update-interrupt", test_update_interrupt);
    g_test_add_func("/rtc/alarm", test_alarm);
    g_test_add_func("/rtc/reset", test_reset);
    g_test_add_func("/rtc/bad-properties", test_bad_properties);
    return g_test_run();
}
