/*
 * 8259A pair and ELCR: ICW/OCW programming, masks, fixed and rotating
 * priorities, nesting, EOI kinds, auto-EOI, special mask, special fully
 * nested mode, the cascade, edge and level triggering.  Requests are made
 * on the PIC's inputs with set_irq_in, INTR is watched with
 * irq_intercept_out, and the CPU's acknowledge is the poll command.
 */
#include "libkqtest.h"

#define M 0x20
#define S 0xa0

static QTS *start(void)
{
    QTS *s = qts_init("-nodefaults");
    qts_irq_intercept_out(s, "i8259");
    return s;
}

/* The BIOS's initialisation: vectors 0x08/0x70, slave on IR2. */
static void pic_init(QTS *s, uint8_t icw4_master, uint8_t icw4_slave)
{
    qts_outb(s, M, 0x11);
    qts_outb(s, M + 1, 0x08);
    qts_outb(s, M + 1, 0x04);
    qts_outb(s, M + 1, icw4_master);
    qts_outb(s, S, 0x11);
    qts_outb(s, S + 1, 0x70);
    qts_outb(s, S + 1, 0x02);
    qts_outb(s, S + 1, icw4_slave);
}

static void irq(QTS *s, int n, int level)
{
    qts_set_irq_in(s, "i8259", "unnamed-gpio-in", n, level);
}

static bool intr(QTS *s)
{
    return qts_get_irq(s, 0);
}

static uint8_t irr(QTS *s, uint16_t port)
{
    qts_outb(s, port, 0x0a);
    return qts_inb(s, port);
}

static uint8_t isr(QTS *s, uint16_t port)
{
    qts_outb(s, port, 0x0b);
    return qts_inb(s, port);
}

/* OCW3 poll: the acknowledge without a CPU. */
static uint8_t poll_pic(QTS *s, uint16_t port)
{
    qts_outb(s, port, 0x0c);
    return qts_inb(s, port);
}

static void eoi(QTS *s, uint16_t port)
{
    qts_outb(s, port, 0x20);
}

static void test_power_on(void)
{
    QTS *s = start();
    g_assert_cmphex(qts_inb(s, M + 1), ==, 0x00);
    g_assert_cmphex(qts_inb(s, S + 1), ==, 0x00);
    g_assert_cmphex(qts_inb(s, M), ==, 0x00);   /* IRR */
    g_assert_cmphex(isr(s, M), ==, 0x00);
    g_assert_cmphex(qts_inb(s, 0x4d0), ==, 0x00);
    g_assert_cmphex(qts_inb(s, 0x4d1), ==, 0x00);
    g_assert_false(intr(s));
    qts_quit(s);
}

/* ICW1 clears the mask; OCW1 then reads back; chips are independent. */
static void test_icw_ocw1(void)
{
    QTS *s = start();
    pic_init(s, 0x01, 0x01);
    qts_outb(s, M + 1, 0xa5);
    qts_outb(s, S + 1, 0x5a);
    g_assert_cmphex(qts_inb(s, M + 1), ==, 0xa5);
    g_assert_cmphex(qts_inb(s, S + 1), ==, 0x5a);
    qts_outb(s, M, 0x11);                       /* ICW1 again */
    g_assert_cmphex(qts_inb(s, M + 1), ==, 0x00);
    g_assert_cmphex(qts_inb(s, S + 1), ==, 0x5a);
    /* In the middle of the sequence data writes are ICWs, not the mask. */
    qts_outb(s, M + 1, 0x08);
    g_assert_cmphex(qts_inb(s, M + 1), ==, 0x00);
    qts_outb(s, M + 1, 0x04);
    qts_outb(s, M + 1, 0x01);
    qts_outb(s, M + 1, 0x33);
    g_assert_cmphex(qts_inb(s, M + 1), ==, 0x33);
    qts_quit(s);
}

static void test_mask(void)
{
    QTS *s = start();
    pic_init(s, 0x01, 0x01);
    qts_outb(s, M + 1, 0xfd);                   /* only IR1 open */
    irq(s, 3, 1);
    g_assert_false(intr(s));
    g_assert_cmphex(irr(s, M), ==, 0x08);       /* IRR sees masked ones */
    irq(s, 1, 1);
    g_assert_true(intr(s));
    g_assert_cmphex(poll_pic(s, M), ==, 0x81);
    g_assert_false(intr(s));
    qts_outb(s, M + 1, 0x00);                   /* unmask IR3 */
    g_assert_false(intr(s));                    /* IR1 in service */
    eoi(s, M);
    g_assert_true(intr(s));
    g_assert_cmphex(poll_pic(s, M), ==, 0x83);
    qts_quit(s);
}

static void test_irr_isr_select(void)
{
    QTS *s = start();
    pic_init(s, 0x01, 0x01);
    irq(s, 6, 1);
    g_assert_cmphex(irr(s, M), ==, 0x40);
    g_assert_cmphex(isr(s, M), ==, 0x00);
    g_assert_cmphex(poll_pic(s, M), ==, 0x86);
    /* The selection sticks: ISR until told otherwise. */
    qts_outb(s, M, 0x0b);
    g_assert_cmphex(qts_inb(s, M), ==, 0x40);
    g_assert_cmphex(qts_inb(s, M), ==, 0x40);
    qts_outb(s, M, 0x0a);
    g_assert_cmphex(qts_inb(s, M), ==, 0x00);   /* edge: IRR cleared */
    qts_quit(s);
}

static void test_fixed_priority(void)
{
    QTS *s = start();
    pic_init(s, 0x01, 0x01);
    irq(s, 5, 1);
    irq(s, 3, 1);
    irq(s, 7, 1);
    g_assert_cmphex(poll_pic(s, M), ==, 0x83);
    eoi(s, M);
    g_assert_cmphex(poll_pic(s, M), ==, 0x85);
    eoi(s, M);
    g_assert_cmphex(poll_pic(s, M), ==, 0x87);
    eoi(s, M);
    g_assert_cmphex(poll_pic(s, M), ==, 0x00);  /* nothing left */
    qts_quit(s);
}

/* A lower request waits for the EOI; a higher one nests. */
static void test_nesting(void)
{
    QTS *s = start();
    pic_init(s, 0x01, 0x01);
    irq(s, 5, 1);
    g_assert_cmphex(poll_pic(s, M), ==, 0x85);
    irq(s, 6, 1);
    g_assert_false(intr(s));
    irq(s, 3, 1);
    g_assert_true(intr(s));
    g_assert_cmphex(poll_pic(s, M), ==, 0x83);
    g_assert_cmphex(isr(s, M), ==, 0x28);
    eoi(s, M);                                  /* clears the highest: 3 */
    g_assert_cmphex(isr(s, M), ==, 0x20);
    g_assert_false(intr(s));
    eoi(s, M);
    g_assert_true(intr(s));
    g_assert_cmphex(poll_pic(s, M), ==, 0x86);
    qts_quit(s);
}

static void test_specific_eoi(void)
{
    QTS *s = start();
    pic_init(s, 0x01, 0x01);
    irq(s, 5, 1);
    poll_pic(s, M);
    irq(s, 3, 1);
    poll_pic(s, M);
    g_assert_cmphex(isr(s, M), ==, 0x28);
    qts_outb(s, M, 0x65);                       /* specific EOI, IR5 */
    g_assert_cmphex(isr(s, M), ==, 0x08);
    qts_outb(s, M, 0x63);
    g_assert_cmphex(isr(s, M), ==, 0x00);
    qts_quit(s);
}

/* Rotate on non-specific EOI: the serviced IR drops to the lowest. */
static void test_rotate_eoi(void)
{
    QTS *s = start();
    pic_init(s, 0x01, 0x01);
    irq(s, 3, 1);
    g_assert_cmphex(poll_pic(s, M), ==, 0x83);
    qts_outb(s, M, 0xa0);
    irq(s, 1, 1);
    irq(s, 4, 1);
    g_assert_cmphex(poll_pic(s, M), ==, 0x84);  /* 4 now beats 1 */
    qts_outb(s, M, 0xe4);                       /* rotate on specific EOI 4 */
    irq(s, 6, 1);
    g_assert_cmphex(poll_pic(s, M), ==, 0x86);  /* order 5,6,7,0,1... */
    qts_quit(s);
}

static void test_set_priority(void)
{
    QTS *s = start();
    pic_init(s, 0x01, 0x01);
    qts_outb(s, M, 0xc5);                       /* IR5 lowest: IR6 highest */
    irq(s, 1, 1);
    irq(s, 7, 1);
    irq(s, 5, 1);
    g_assert_cmphex(poll_pic(s, M), ==, 0x87);
    eoi(s, M);
    g_assert_cmphex(poll_pic(s, M), ==, 0x81);
    eoi(s, M);
    g_assert_cmphex(poll_pic(s, M), ==, 0x85);
    qts_quit(s);
}

static void test_auto_eoi(void)
{
    QTS *s = start();
    pic_init(s, 0x03, 0x01);                    /* master: AEOI */
    irq(s, 5, 1);
    g_assert_cmphex(poll_pic(s, M), ==, 0x85);
    g_assert_cmphex(isr(s, M), ==, 0x00);
    irq(s, 6, 1);                               /* nothing in service */
    g_assert_true(intr(s));
    g_assert_cmphex(poll_pic(s, M), ==, 0x86);
    qts_quit(s);
}

/* Rotate in auto-EOI mode: each acknowledged IR becomes the lowest. */
static void test_rotate_aeoi(void)
{
    QTS *s = start();
    pic_init(s, 0x03, 0x01);
    qts_outb(s, M, 0x80);                       /* rotate in AEOI: set */
    irq(s, 1, 1);
    g_assert_cmphex(poll_pic(s, M), ==, 0x81);
    irq(s, 0, 1);
    irq(s, 3, 1);
    g_assert_cmphex(poll_pic(s, M), ==, 0x83);  /* 0 is below 1 now */
    qts_outb(s, M, 0x00);                       /* rotate in AEOI: clear */
    irq(s, 4, 1);
    g_assert_cmphex(poll_pic(s, M), ==, 0x84);  /* 4 follows 3 */
    g_assert_cmphex(poll_pic(s, M), ==, 0x80);  /* fixed again from here */
    qts_quit(s);
}

/* Slave requests come in through master IR2. */
static void test_cascade(void)
{
    QTS *s = start();
    pic_init(s, 0x01, 0x01);
    irq(s, 10, 1);
    g_assert_cmphex(irr(s, S), ==, 0x04);
    g_assert_cmphex(irr(s, M), ==, 0x04);
    g_assert_true(intr(s));
    g_assert_cmphex(poll_pic(s, M), ==, 0x82);
    g_assert_cmphex(poll_pic(s, S), ==, 0x82);
    g_assert_cmphex(isr(s, S), ==, 0x04);
    g_assert_cmphex(isr(s, M), ==, 0x04);
    eoi(s, S);
    eoi(s, M);
    g_assert_cmphex(isr(s, M), ==, 0x00);
    /* Masking IR2 on the master silences the whole slave. */
    qts_outb(s, M + 1, 0x04);
    irq(s, 15, 1);
    g_assert_false(intr(s));
    qts_outb(s, M + 1, 0x00);
    g_assert_true(intr(s));
    qts_quit(s);
}

static void test_slave_priority(void)
{
    QTS *s = start();
    pic_init(s, 0x01, 0x01);
    irq(s, 3, 1);                               /* master IR3 */
    irq(s, 9, 1);                               /* via IR2: higher */
    g_assert_cmphex(poll_pic(s, M), ==, 0x82);
    g_assert_cmphex(poll_pic(s, S), ==, 0x81);
    eoi(s, S);
    eoi(s, M);
    g_assert_cmphex(poll_pic(s, M), ==, 0x83);
    qts_quit(s);
}

/* Edge mode: one request per rising edge, a held line does not repeat. */
static void test_edge(void)
{
    QTS *s = start();
    pic_init(s, 0x01, 0x01);
    irq(s, 4, 1);
    g_assert_cmphex(poll_pic(s, M), ==, 0x84);
    eoi(s, M);
    g_assert_false(intr(s));
    g_assert_cmphex(irr(s, M), ==, 0x00);
    irq(s, 4, 0);
    g_assert_false(intr(s));
    irq(s, 4, 1);
    g_assert_true(intr(s));
    /* The request is latched: dropping the line does not withdraw it. */
    irq(s, 4, 0);
    g_assert_cmphex(irr(s, M), ==, 0x10);
    qts_quit(s);
}

/* ELCR level mode: IRR follows the line; a held line asks again. */
static void test_level(void)
{
    QTS *s = start();
    pic_init(s, 0x01, 0x01);
    qts_outb(s, 0x4d0, 0x08);                   /* IRQ3 level */
    irq(s, 3, 1);
    g_assert_cmphex(poll_pic(s, M), ==, 0x83);
    g_assert_cmphex(irr(s, M), ==, 0x08);
    eoi(s, M);
    g_assert_true(intr(s));                     /* still high: again */
    irq(s, 3, 0);
    g_assert_false(intr(s));
    g_assert_cmphex(irr(s, M), ==, 0x00);
    qts_quit(s);
}

static void test_level_slave(void)
{
    QTS *s = start();
    pic_init(s, 0x01, 0x01);
    qts_outb(s, 0x4d1, 0x04);                   /* IRQ10 level */
    irq(s, 10, 1);
    g_assert_cmphex(poll_pic(s, M), ==, 0x82);
    g_assert_cmphex(poll_pic(s, S), ==, 0x82);
    eoi(s, S);
    eoi(s, M);
    g_assert_true(intr(s));
    g_assert_cmphex(poll_pic(s, M), ==, 0x82);
    g_assert_cmphex(poll_pic(s, S), ==, 0x82);
    irq(s, 10, 0);
    eoi(s, S);
    eoi(s, M);
    g_assert_false(intr(s));
    /* Back to edge triggering: the next rising edge requests again. */
    qts_outb(s, 0x4d1, 0x00);
    irq(s, 10, 1);
    g_assert_true(intr(s));
    qts_quit(s);
}

/* IRQ 0, 1, 2, 8 and 13 cannot be level triggered. */
static void test_elcr_mask(void)
{
    QTS *s = start();
    qts_outb(s, 0x4d0, 0xff);
    qts_outb(s, 0x4d1, 0xff);
    g_assert_cmphex(qts_inb(s, 0x4d0), ==, 0xf8);
    g_assert_cmphex(qts_inb(s, 0x4d1), ==, 0xde);
    g_assert_cmphex(qts_inw(s, 0x4d0), ==, 0xdef8);
    qts_quit(s);
}

/* Special mask mode: a masked in-service IR no longer blocks lower ones. */
static void test_special_mask(void)
{
    QTS *s = start();
    pic_init(s, 0x01, 0x01);
    irq(s, 5, 1);
    poll_pic(s, M);
    irq(s, 6, 1);
    g_assert_false(intr(s));
    qts_outb(s, M + 1, 0x20);                   /* mask IR5 */
    g_assert_false(intr(s));
    qts_outb(s, M, 0x68);                       /* set special mask */
    g_assert_true(intr(s));
    qts_outb(s, M, 0x48);                       /* reset special mask */
    g_assert_false(intr(s));
    qts_quit(s);
}

/* Special fully nested mode: a higher slave request passes IR2 in service. */
static void test_sfnm(void)
{
    QTS *s = start();
    pic_init(s, 0x11, 0x01);                    /* master SFNM */
    irq(s, 12, 1);
    g_assert_cmphex(poll_pic(s, M), ==, 0x82);
    g_assert_cmphex(poll_pic(s, S), ==, 0x84);
    irq(s, 9, 1);                               /* slave IR1 > IR4 */
    g_assert_true(intr(s));
    irq(s, 14, 1);                              /* slave IR6 < IR4 */
    g_assert_cmphex(poll_pic(s, M), ==, 0x82);
    g_assert_cmphex(poll_pic(s, S), ==, 0x81);
    g_assert_cmphex(isr(s, S), ==, 0x12);
    qts_quit(s);
}

static void test_no_sfnm(void)
{
    QTS *s = start();
    pic_init(s, 0x01, 0x01);
    irq(s, 12, 1);
    poll_pic(s, M);
    poll_pic(s, S);
    irq(s, 9, 1);                               /* blocked by IR2 */
    g_assert_false(intr(s));
    g_assert_cmphex(irr(s, S), ==, 0x02);
    qts_quit(s);
}

/* A real source: the RTC's periodic interrupt is IRQ 8, slave IR0. */
static void test_rtc_irq8(void)
{
    QTS *s = qts_init("-nodefaults -rtc clock=vm");
    qts_irq_intercept_out(s, "i8259");
    pic_init(s, 0x01, 0x01);
    qts_cmos_write(s, 0x0a, 0x2f);              /* 2 Hz */
    qts_cmos_write(s, 0x0b, 0x42);              /* PIE, 24h */
    qts_clock_step(s, 500000000);
    g_assert_true(intr(s));
    g_assert_cmphex(poll_pic(s, M), ==, 0x82);
    g_assert_cmphex(poll_pic(s, S), ==, 0x80);
    qts_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/i8259/power-on", test_power_on);
    g_test_add_func("/i8259/icw-ocw1", test_icw_ocw1);
    g_test_add_func("/i8259/mask", test_mask);
    g_test_add_func("/i8259/irr-isr-select", test_irr_isr_select);
    g_test_add_func("/i8259/priority/fixed", test_fixed_priority);
    g_test_add_func("/i8259/priority/nesting", test_nesting);
    g_test_add_func("/i8259/eoi/specific", test_specific_eoi);
    g_test_add_func("/i8259/priority/rotate-on-eoi", test_rotate_eoi);
    g_test_add_func("/i8259/priority/set", test_set_priority);
    g_test_add_func("/i8259/auto-eoi", test_auto_eoi);
    g_test_add_func("/i8259/auto-eoi/rotate", test_rotate_aeoi);
    g_test_add_func("/i8259/cascade", test_cascade);
    g_test_add_func("/i8259/cascade/priority", test_slave_priority);
    g_test_add_func("/i8259/trigger/edge", test_edge);
    g_test_add_func("/i8259/trigger/level", test_level);
    g_test_add_func("/i8259/trigger/level-slave", test_level_slave);
    g_test_add_func("/i8259/elcr/reserved-bits", test_elcr_mask);
    g_test_add_func("/i8259/special-mask", test_special_mask);
    g_test_add_func("/i8259/sfnm", test_sfnm);
    g_test_add_func("/i8259/sfnm/off", test_no_sfnm);
    g_test_add_func("/i8259/rtc-irq8", test_rtc_irq8);
    return g_test_run();
}
