/*
 * 82093AA IOAPIC: registers, redirection entries, edge and level delivery
 * with Remote IRR and the local APIC's EOI, masking, polarity, destinations
 * and the PC wiring (ISA IRQ 0 on pin 2).  Messages land in CPU 0's local
 * APIC (its registers are at 0xfee00000 under qtest); its "inta" line plays
 * the CPU's acknowledge.
 */
#include "libkqtest.h"

#define IOAPIC 0xfec00000
#define LAPIC  0xfee00000

#define RTE_LEVEL   (1u << 15)
#define RTE_MASKED  (1u << 16)
#define RTE_LOW     (1u << 13)
#define RTE_LOGICAL (1u << 11)
#define REMOTE_IRR  (1u << 14)

static uint32_t io_rd(QTS *s, uint8_t reg)
{
    qts_writel(s, IOAPIC, reg);
    return qts_readl(s, IOAPIC + 0x10);
}

static void io_wr(QTS *s, uint8_t reg, uint32_t v)
{
    qts_writel(s, IOAPIC, reg);
    qts_writel(s, IOAPIC + 0x10, v);
}

static void rte(QTS *s, int pin, uint32_t low, uint8_t dest)
{
    io_wr(s, 0x11 + 2 * pin, (uint32_t)dest << 24);
    io_wr(s, 0x10 + 2 * pin, low);
}

static bool lapic_bit(QTS *s, uint32_t base, int v)
{
    return qts_readl(s, LAPIC + base + (v / 32) * 0x10) & (1u << (v % 32));
}

static bool irr(QTS *s, int v) { return lapic_bit(s, 0x200, v); }
static bool tmr(QTS *s, int v) { return lapic_bit(s, 0x180, v); }
static bool in_service(QTS *s, int v) { return lapic_bit(s, 0x100, v); }

static void pin(QTS *s, int n, int level)
{
    qts_set_irq_in(s, "ioapic", "unnamed-gpio-in", n, level);
}

/* The CPU takes the interrupt, then its handler writes EOI. */
static void ack_eoi(QTS *s)
{
    qts_set_irq_in(s, "apic[0]", "inta", 0, 1);
    qts_set_irq_in(s, "apic[0]", "inta", 0, 0);
    qts_writel(s, LAPIC + 0xb0, 0);
}

static QTS *start(void)
{
    QTS *s = qts_init("-nodefaults -rtc clock=vm");
    qts_writel(s, LAPIC + 0xf0, 0x1ff);         /* software-enable */
    return s;
}

static void test_id_version(void)
{
    QTS *s = start();
    g_assert_cmphex(io_rd(s, 1), ==, 0x00170011);   /* 24 entries, v0x11 */
    g_assert_cmphex(io_rd(s, 0), ==, 0);
    io_wr(s, 0, 0xff000000);
    g_assert_cmphex(io_rd(s, 0), ==, 0x0f000000);   /* 4-bit ID */
    g_assert_cmphex(io_rd(s, 2), ==, 0x0f000000);   /* arbitration ID */
    io_wr(s, 1, 0);                                 /* read-only */
    g_assert_cmphex(io_rd(s, 1), ==, 0x00170011);
    qts_quit(s);
}

static void test_ioregsel(void)
{
    QTS *s = start();
    qts_writel(s, IOAPIC, 0x23);
    g_assert_cmphex(qts_readl(s, IOAPIC), ==, 0x23);
    g_assert_cmphex(io_rd(s, 0x03), ==, 0);         /* undefined */
    g_assert_cmphex(io_rd(s, 0x40), ==, 0);         /* past the table */
    qts_quit(s);
}

static void test_rte_reset(void)
{
    QTS *s = start();
    for (int i = 0; i < 24; i++) {
        g_assert_cmphex(io_rd(s, 0x10 + 2 * i), ==, RTE_MASKED);
        g_assert_cmphex(io_rd(s, 0x11 + 2 * i), ==, 0);
    }
    qts_quit(s);
}

/* Delivery status and Remote IRR are read-only, reserved bits read 0. */
static void test_rte_bits(void)
{
    QTS *s = start();
    io_wr(s, 0x10 + 2 * 7, 0xffffffff);
    io_wr(s, 0x11 + 2 * 7, 0xffffffff);
    g_assert_cmphex(io_rd(s, 0x10 + 2 * 7), ==, 0x0001afff);
    g_assert_cmphex(io_rd(s, 0x11 + 2 * 7), ==, 0xff000000);
    qts_quit(s);
}

static void test_edge(void)
{
    QTS *s = start();
    rte(s, 4, 0x41, 0);
    g_assert_false(irr(s, 0x41));
    pin(s, 4, 1);
    g_assert_true(irr(s, 0x41));
    g_assert_false(tmr(s, 0x41));
    ack_eoi(s);
    g_assert_false(irr(s, 0x41));
    pin(s, 4, 1);                               /* held: no new message */
    g_assert_false(irr(s, 0x41));
    pin(s, 4, 0);
    pin(s, 4, 1);
    g_assert_true(irr(s, 0x41));
    qts_quit(s);
}

/* An edge on a masked pin is lost, not held pending. */
static void test_edge_masked(void)
{
    QTS *s = start();
    rte(s, 5, RTE_MASKED | 0x42, 0);
    pin(s, 5, 1);
    rte(s, 5, 0x42, 0);
    g_assert_false(irr(s, 0x42));
    qts_quit(s);
}

static void test_level(void)
{
    QTS *s = start();
    rte(s, 10, RTE_LEVEL | 0x50, 0);
    pin(s, 10, 1);
    g_assert_true(irr(s, 0x50));
    g_assert_true(tmr(s, 0x50));
    g_assert_cmphex(io_rd(s, 0x10 + 20) & REMOTE_IRR, ==, REMOTE_IRR);
    qts_set_irq_in(s, "apic[0]", "inta", 0, 1);
    g_assert_true(in_service(s, 0x50));
    g_assert_false(irr(s, 0x50));
    /* EOI while still asserted: Remote IRR clears and the pin re-sends. */
    qts_writel(s, LAPIC + 0xb0, 0);
    g_assert_true(irr(s, 0x50));
    g_assert_cmphex(io_rd(s, 0x10 + 20) & REMOTE_IRR, ==, REMOTE_IRR);
    pin(s, 10, 0);
    ack_eoi(s);
    g_assert_cmphex(io_rd(s, 0x10 + 20) & REMOTE_IRR, ==, 0);
    g_assert_false(irr(s, 0x50));
    qts_quit(s);
}

/* Remote IRR holds back further messages until the EOI. */
static void test_level_remote_irr_blocks(void)
{
    QTS *s = start();
    rte(s, 11, RTE_LEVEL | 0x51, 0);
    pin(s, 11, 1);
    qts_set_irq_in(s, "apic[0]", "inta", 0, 1);
    pin(s, 11, 0);
    pin(s, 11, 1);
    g_assert_false(irr(s, 0x51));               /* not re-sent */
    qts_quit(s);
}

/* A level asserted while masked is sent when unmasked. */
static void test_level_unmask(void)
{
    QTS *s = start();
    rte(s, 9, RTE_MASKED | RTE_LEVEL | 0x52, 0);
    pin(s, 9, 1);
    g_assert_false(irr(s, 0x52));
    rte(s, 9, RTE_LEVEL | 0x52, 0);
    g_assert_true(irr(s, 0x52));
    qts_quit(s);
}

/* Active low: a low input is asserted. */
static void test_polarity(void)
{
    QTS *s = start();
    rte(s, 12, RTE_LOW | RTE_LEVEL | 0x53, 0);
    g_assert_true(irr(s, 0x53));                /* line low = asserted */
    pin(s, 12, 1);                              /* deasserts */
    ack_eoi(s);
    g_assert_false(irr(s, 0x53));
    rte(s, 13, RTE_LOW | 0x54, 0);              /* edge, active low */
    pin(s, 13, 1);
    g_assert_false(irr(s, 0x54));
    pin(s, 13, 0);                              /* falling = asserting */
    g_assert_true(irr(s, 0x54));
    qts_quit(s);
}

/* Physical destination 0xff is everybody; 5 is nobody here. */
static void test_physical_dest(void)
{
    QTS *s = start();
    rte(s, 3, 0x55, 5);
    pin(s, 3, 1);
    g_assert_false(irr(s, 0x55));
    pin(s, 3, 0);
    rte(s, 3, 0x55, 0xff);
    pin(s, 3, 1);
    g_assert_true(irr(s, 0x55));
    qts_quit(s);
}

/* Logical, flat model: the destination is a bit mask over LDR[31:24]. */
static void test_logical_dest(void)
{
    QTS *s = start();
    qts_writel(s, LAPIC + 0xd0, 0x02000000);    /* LDR */
    rte(s, 6, RTE_LOGICAL | 0x56, 0x01);
    pin(s, 6, 1);
    g_assert_false(irr(s, 0x56));
    pin(s, 6, 0);
    rte(s, 6, RTE_LOGICAL | 0x56, 0x03);
    pin(s, 6, 1);
    g_assert_true(irr(s, 0x56));
    /* Cluster model: high nibble cluster, low nibble members. */
    qts_writel(s, LAPIC + 0xe0, 0x0fffffff);
    qts_writel(s, LAPIC + 0xd0, 0x21000000);    /* cluster 2, member 1 */
    rte(s, 7, RTE_LOGICAL | 0x57, 0x11);
    pin(s, 7, 1);
    g_assert_false(irr(s, 0x57));
    pin(s, 7, 0);
    rte(s, 7, RTE_LOGICAL | 0x57, 0x21);
    pin(s, 7, 1);
    g_assert_true(irr(s, 0x57));
    qts_quit(s);
}

/* The PIT (ISA IRQ 0) arrives on pin 2. */
static void test_pit_pin2(void)
{
    QTS *s = start();
    rte(s, 2, 0x30, 0);
    qts_outb(s, 0x43, 0x34);                    /* mode 2 */
    qts_outb(s, 0x40, 100);
    qts_outb(s, 0x40, 0);
    ack_eoi(s);                                 /* the edge of programming */
    qts_clock_step(s, 100000);                  /* > 100 clocks */
    g_assert_true(irr(s, 0x30));
    qts_quit(s);
}

/* The RTC is ISA IRQ 8, pin 8. */
static void test_rtc_pin8(void)
{
    QTS *s = start();
    rte(s, 8, 0x38, 0);
    qts_cmos_write(s, 0x0b, 0x12);              /* UIE */
    qts_clock_step(s, 1000000000);
    g_assert_true(irr(s, 0x38));
    qts_quit(s);
}

/* A vector below 16 is illegal: the receiving APIC flags it in ESR. */
static void test_illegal_vector(void)
{
    QTS *s = start();
    rte(s, 14, 0x05, 0);
    pin(s, 14, 1);
    qts_writel(s, LAPIC + 0x280, 0);
    g_assert_cmphex(qts_readl(s, LAPIC + 0x280), ==, 0x40);
    g_assert_false(irr(s, 0x05));
    qts_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ioapic/id-version", test_id_version);
    g_test_add_func("/ioapic/ioregsel", test_ioregsel);
    g_test_add_func("/ioapic/rte/reset", test_rte_reset);
    g_test_add_func("/ioapic/rte/bits", test_rte_bits);
    g_test_add_func("/ioapic/edge/delivery", test_edge);
    g_test_add_func("/ioapic/edge/masked-lost", test_edge_masked);
    g_test_add_func("/ioapic/level/eoi", test_level);
    g_test_add_func("/ioapic/level/remote-irr", test_level_remote_irr_blocks);
    g_test_add_func("/ioapic/level/unmask", test_level_unmask);
    g_test_add_func("/ioapic/polarity", test_polarity);
    g_test_add_func("/ioapic/dest/physical", test_physical_dest);
    g_test_add_func("/ioapic/dest/logical", test_logical_dest);
    g_test_add_func("/ioapic/pc/pit-pin2", test_pit_pin2);
    g_test_add_func("/ioapic/pc/rtc-pin8", test_rtc_pin8);
    g_test_add_func("/ioapic/illegal-vector", test_illegal_vector);
    return g_test_run();
}
