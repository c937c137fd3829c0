/*
 * Local APIC (the userspace one of qtest and kernel-irqchip=off): reset
 * state, TPR/PPR and priority classes, IPIs through the ICR, ESR, EOI
 * order, the timer in one-shot and periodic modes with every divider, LVT
 * masking, and LINT0 in virtual wire mode answering from the 8259.  CPU 0's
 * registers are at 0xfee00000; "inta" on apic[0] is the CPU's acknowledge.
 */
#include "libkqtest.h"

#define LAPIC 0xfee00000
enum { ID = 0x20, VER = 0x30, TPR = 0x80, APR = 0x90, PPR = 0xa0, EOI = 0xb0,
       LDR = 0xd0, DFR = 0xe0, SVR = 0xf0, ISR = 0x100, TMR = 0x180,
       IRR = 0x200, ESR = 0x280, ICR_LO = 0x300, ICR_HI = 0x310,
       LVT_TIMER = 0x320, LVT_THERMAL = 0x330, LVT_PERF = 0x340,
       LVT_LINT0 = 0x350, LVT_LINT1 = 0x360, LVT_ERROR = 0x370,
       TIMER_INIT = 0x380, TIMER_CUR = 0x390, TIMER_DIV = 0x3e0 };

static uint32_t rd(QTS *s, uint32_t reg)
{
    return qts_readl(s, LAPIC + reg);
}

static void wr(QTS *s, uint32_t reg, uint32_t v)
{
    qts_writel(s, LAPIC + reg, v);
}

static bool bit(QTS *s, uint32_t base, int v)
{
    return rd(s, base + (v / 32) * 0x10) & (1u << (v % 32));
}

static void inta(QTS *s)
{
    qts_set_irq_in(s, "apic[0]", "inta", 0, 1);
    qts_set_irq_in(s, "apic[0]", "inta", 0, 0);
}

static void self_ipi(QTS *s, int vector)
{
    wr(s, ICR_LO, 0x40000 | vector);            /* shorthand: self */
}

static QTS *start(void)
{
    QTS *s = qts_init("-nodefaults");
    wr(s, SVR, 0x1ff);
    return s;
}

static void test_reset_state(void)
{
    QTS *s = qts_init("-nodefaults -smp 2");
    g_assert_cmphex(rd(s, ID), ==, 0);
    g_assert_cmphex(rd(s, VER), ==, 0x00050014);
    g_assert_cmphex(rd(s, TPR), ==, 0);
    g_assert_cmphex(rd(s, SVR), ==, 0xff);
    g_assert_cmphex(rd(s, DFR), ==, 0xffffffff);
    g_assert_cmphex(rd(s, LDR), ==, 0);
    g_assert_cmphex(rd(s, LVT_TIMER), ==, 0x10000);
    g_assert_cmphex(rd(s, LVT_THERMAL), ==, 0x10000);
    g_assert_cmphex(rd(s, LVT_PERF), ==, 0x10000);
    g_assert_cmphex(rd(s, LVT_LINT0), ==, 0x700);   /* BSP: virtual wire */
    g_assert_cmphex(rd(s, LVT_LINT1), ==, 0x10000);
    g_assert_cmphex(rd(s, LVT_ERROR), ==, 0x10000);
    g_assert_cmphex(rd(s, TIMER_INIT), ==, 0);
    g_assert_cmphex(rd(s, TIMER_CUR), ==, 0);
    qts_quit(s);
}

/* Software-disabled: LVT entries are masked and stay masked. */
static void test_svr(void)
{
    QTS *s = start();
    wr(s, LVT_TIMER, 0x40);
    g_assert_cmphex(rd(s, LVT_TIMER), ==, 0x40);
    wr(s, SVR, 0x0ff);
    g_assert_cmphex(rd(s, LVT_TIMER), ==, 0x10040);
    wr(s, LVT_TIMER, 0x41);
    g_assert_cmphex(rd(s, LVT_TIMER), ==, 0x10041);
    /* And fixed interrupts are not accepted. */
    self_ipi(s, 0x60);
    g_assert_false(bit(s, IRR, 0x60));
    wr(s, SVR, 0x1ff);
    self_ipi(s, 0x60);
    g_assert_true(bit(s, IRR, 0x60));
    qts_quit(s);
}

static void test_self_ipi(void)
{
    QTS *s = start();
    self_ipi(s, 0x45);
    g_assert_true(bit(s, IRR, 0x45));
    g_assert_false(bit(s, TMR, 0x45));
    g_assert_cmphex(rd(s, ICR_LO) & 0x1000, ==, 0);     /* idle */
    /* Physical destination = own ID works too; another ID does not. */
    wr(s, ICR_HI, 0x01000000);
    wr(s, ICR_LO, 0x46);
    g_assert_false(bit(s, IRR, 0x46));
    wr(s, ICR_HI, 0);
    wr(s, ICR_LO, 0x46);
    g_assert_true(bit(s, IRR, 0x46));
    /* All-excluding-self skips us. */
    wr(s, ICR_LO, 0xc0047);
    g_assert_false(bit(s, IRR, 0x47));
    qts_quit(s);
}

/* Acknowledge takes the highest vector; PPR follows ISR and TPR. */
static void test_priority(void)
{
    QTS *s = start();
    self_ipi(s, 0x45);
    self_ipi(s, 0x81);
    inta(s);
    g_assert_true(bit(s, ISR, 0x81));
    g_assert_true(bit(s, IRR, 0x45));
    g_assert_cmphex(rd(s, PPR), ==, 0x80);
    inta(s);                                    /* 0x45 is below class 8 */
    g_assert_true(bit(s, IRR, 0x45));
    wr(s, EOI, 0);
    g_assert_false(bit(s, ISR, 0x81));
    g_assert_cmphex(rd(s, PPR), ==, 0x00);
    inta(s);
    g_assert_true(bit(s, ISR, 0x45));
    qts_quit(s);
}

/* TPR blocks the classes at or below it. */
static void test_tpr(void)
{
    QTS *s = start();
    wr(s, TPR, 0x5f);
    g_assert_cmphex(rd(s, TPR), ==, 0x5f);
    g_assert_cmphex(rd(s, PPR), ==, 0x5f);
    self_ipi(s, 0x52);
    inta(s);
    g_assert_false(bit(s, ISR, 0x52));          /* class 5 <= 5 */
    self_ipi(s, 0x61);
    inta(s);
    g_assert_true(bit(s, ISR, 0x61));
    g_assert_cmphex(rd(s, PPR), ==, 0x60);
    g_assert_cmphex(rd(s, APR), ==, 0x60);
    qts_quit(s);
}

/* EOI retires the highest vector in service. */
static void test_eoi_order(void)
{
    QTS *s = start();
    self_ipi(s, 0x45);
    inta(s);
    self_ipi(s, 0x91);
    inta(s);
    g_assert_true(bit(s, ISR, 0x45));
    g_assert_true(bit(s, ISR, 0x91));
    wr(s, EOI, 0);
    g_assert_false(bit(s, ISR, 0x91));
    g_assert_true(bit(s, ISR, 0x45));
    wr(s, EOI, 0);
    g_assert_false(bit(s, ISR, 0x45));
    qts_quit(s);
}

/* ESR: errors latch on a write to ESR. */
static void test_esr(void)
{
    QTS *s = start();
    self_ipi(s, 0x05);                          /* illegal vector */
    g_assert_cmphex(rd(s, ESR), ==, 0);         /* not latched yet */
    wr(s, ESR, 0);
    g_assert_cmphex(rd(s, ESR), ==, 0x20);      /* send illegal vector */
    wr(s, ESR, 0);
    g_assert_cmphex(rd(s, ESR), ==, 0);
    /* An error interrupt through LVT error. */
    wr(s, LVT_ERROR, 0xfe);
    self_ipi(s, 0x01);
    g_assert_true(bit(s, IRR, 0xfe));
    qts_quit(s);
}

static void test_timer_oneshot(void)
{
    QTS *s = start();
    wr(s, LVT_TIMER, 0x70);
    wr(s, TIMER_DIV, 0x0b);                     /* divide by 1 */
    wr(s, TIMER_INIT, 1000);
    qts_clock_step(s, 400);
    g_assert_cmpuint(rd(s, TIMER_CUR), ==, 600);
    g_assert_false(bit(s, IRR, 0x70));
    g_assert_cmpint(qts_clock_step(s, -1), ==, 1000);
    g_assert_true(bit(s, IRR, 0x70));
    g_assert_cmpuint(rd(s, TIMER_CUR), ==, 0);
    inta(s);
    wr(s, EOI, 0);
    qts_clock_step(s, 100000);
    g_assert_false(bit(s, IRR, 0x70));          /* once */
    qts_quit(s);
}

static void test_timer_periodic(void)
{
    QTS *s = start();
    wr(s, LVT_TIMER, 0x20071);                  /* periodic */
    wr(s, TIMER_DIV, 0x00);                     /* divide by 2 */
    wr(s, TIMER_INIT, 100);
    for (int i = 1; i <= 5; i++) {
        g_assert_cmpint(qts_clock_step(s, -1), ==, 200 * i);
        g_assert_true(bit(s, IRR, 0x71));
        inta(s);
        wr(s, EOI, 0);
    }
    qts_clock_step(s, 50);
    g_assert_cmpuint(rd(s, TIMER_CUR), ==, 75);
    /* Writing 0 stops it. */
    wr(s, TIMER_INIT, 0);
    g_assert_cmpint(qts_clock_step(s, -1), ==, 1050);
    qts_quit(s);
}

/* DCR: bits 3,1,0 select divide by 2, 4, ... 128, or 1 for 1011b. */
static void test_timer_divide(void)
{
    static const struct { uint32_t dcr, div; } t[] = {
        { 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
        { 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
    };
    QTS *s = start();
    for (unsigned i = 0; i < G_N_ELEMENTS(t); i++) {
        wr(s, TIMER_DIV, t[i].dcr);
        g_assert_cmphex(rd(s, TIMER_DIV), ==, t[i].dcr);
        wr(s, TIMER_INIT, 100000);
        qts_clock_step(s, 128 * 10);
        g_assert_cmpuint(rd(s, TIMER_CUR), ==, 100000 - 1280 / t[i].div);
    }
    qts_quit(s);
}

/* Masked: it counts but does not interrupt. */
static void test_timer_masked(void)
{
    QTS *s = start();
    wr(s, LVT_TIMER, 0x10072);
    wr(s, TIMER_DIV, 0x0b);
    wr(s, TIMER_INIT, 500);
    qts_clock_step(s, 200);
    g_assert_cmpuint(rd(s, TIMER_CUR), ==, 300);
    qts_clock_step(s, 1000);
    g_assert_false(bit(s, IRR, 0x72));
    qts_quit(s);
}

static void test_ldr_dfr(void)
{
    QTS *s = start();
    wr(s, LDR, 0xffffffff);
    g_assert_cmphex(rd(s, LDR), ==, 0xff000000);
    wr(s, DFR, 0);
    g_assert_cmphex(rd(s, DFR), ==, 0x0fffffff);
    wr(s, ID, 0x05000000);
    g_assert_cmphex(rd(s, ID), ==, 0x05000000);
    /* Self IPI by logical destination, flat model. */
    wr(s, DFR, 0xffffffff);
    wr(s, LDR, 0x04000000);
    wr(s, ICR_HI, 0x04000000);
    wr(s, ICR_LO, 0x800 | 0x66);
    g_assert_true(bit(s, IRR, 0x66));
    qts_quit(s);
}

/* LINT0 in ExtINT mode: the acknowledge goes to the 8259. */
static void test_lint0_extint(void)
{
    QTS *s = qts_init("-nodefaults");
    qts_outb(s, 0x20, 0x11);
    qts_outb(s, 0x21, 0x08);
    qts_outb(s, 0x21, 0x04);
    qts_outb(s, 0x21, 0x01);
    qts_set_irq_in(s, "i8259", "unnamed-gpio-in", 3, 1);
    inta(s);                                    /* APIC disabled: still wired */
    qts_outb(s, 0x20, 0x0b);
    g_assert_cmphex(qts_inb(s, 0x20), ==, 0x08);    /* IR3 in service */
    qts_outb(s, 0x20, 0x20);
    /* Masked LINT0: the PIC is left alone. */
    wr(s, SVR, 0x1ff);
    wr(s, LVT_LINT0, 0x10700);
    qts_set_irq_in(s, "i8259", "unnamed-gpio-in", 4, 1);
    inta(s);
    qts_outb(s, 0x20, 0x0b);
    g_assert_cmphex(qts_inb(s, 0x20), ==, 0x00);
    qts_quit(s);
}

/* Only aligned 32-bit registers exist; the rest reads 0. */
static void test_unaligned(void)
{
    QTS *s = start();
    g_assert_cmphex(qts_readl(s, LAPIC + 0x34), ==, 0);
    g_assert_cmphex(qts_readb(s, LAPIC + 0x30), ==, 0x14);   /* VER low */
    qts_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/apic/reset-state", test_reset_state);
    g_test_add_func("/apic/svr", test_svr);
    g_test_add_func("/apic/ipi/self", test_self_ipi);
    g_test_add_func("/apic/priority/inta", test_priority);
    g_test_add_func("/apic/priority/tpr", test_tpr);
    g_test_add_func("/apic/eoi-order", test_eoi_order);
    g_test_add_func("/apic/esr", test_esr);
    g_test_add_func("/apic/timer/oneshot", test_timer_oneshot);
    g_test_add_func("/apic/timer/periodic", test_timer_periodic);
    g_test_add_func("/apic/timer/divide", test_timer_divide);
    g_test_add_func("/apic/timer/masked", test_timer_masked);
    g_test_add_func("/apic/ldr-dfr", test_ldr_dfr);
    g_test_add_func("/apic/lint0-extint", test_lint0_extint);
    g_test_add_func("/apic/unaligned", test_unaligned);
    return g_test_run();
}
