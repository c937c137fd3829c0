/*
 * ACPI fixed hardware on the PIIX4 power-management function (00:01.3),
 * from the ACPI spec (PM1 event/control blocks, PM timer) and the 82371AB
 * data sheet (PMBA, PMREGMISC).  No firmware runs before us, so the guest
 * maps the PM I/O block itself, at 0x600 as SeaBIOS does under QEMU.
 *
 *   acpi-poweroff        SCI_EN through the SMI command port, PM timer
 *                        rate against the PIT, then S5
 *   acpi-wait-powerdown  waits for the power button's SCI on IRQ 9 (8259),
 *                        then S5
 */
#include "guest.h"

#define PM_DEVFN        0x0b            /* 00:01.3 */
#define PM_ID           0x71138086u
#define PMBA            0x40
#define PMREGMISC       0x80
#define PM_BASE         0x600

#define PM1_STS         (PM_BASE + 0)
#define PM1_EN          (PM_BASE + 2)
#define PM1_CNT         (PM_BASE + 4)
#define PM_TMR          (PM_BASE + 8)
#define  TMR_STS        (1u << 0)
#define  PWRBTN_STS     (1u << 8)
#define  PWRBTN_EN      (1u << 8)
#define  SCI_EN         (1u << 0)
#define  SLP_TYP_S5     (0u << 10)      /* QEMU's _S5 package for PIIX4 */
#define  SLP_EN         (1u << 13)

#define SMI_CMD         0xb2
#define ACPI_ENABLE     0xf1
#define ACPI_DISABLE    0xf0

#define PM_TMR_HZ       3579545u
#define SCI_VECTOR      0x29            /* IRQ 9 = slave 8259 input 1 */

static uint32_t cfg_addr(int devfn, int reg)
{
    return 0x80000000u | (uint32_t)devfn << 8 | (uint32_t)(reg & 0xfc);
}

static uint32_t cfg_read32(int devfn, int reg)
{
    outl(0xcf8, cfg_addr(devfn, reg));
    return inl(0xcfc);
}

static void cfg_write32(int devfn, int reg, uint32_t v)
{
    outl(0xcf8, cfg_addr(devfn, reg));
    outl(0xcfc, v);
}

static void cfg_write8(int devfn, int reg, uint8_t v)
{
    outl(0xcf8, cfg_addr(devfn, reg));
    outb((uint16_t)(0xcfc + (reg & 3)), v);
}

/* Map the PM I/O block at PM_BASE and turn ACPI mode on. */
static void pm_setup(const char *test)
{
    uint32_t id = cfg_read32(PM_DEVFN, 0);

    if (id != PM_ID)
        fail(test, "no PIIX4 PM at 00:01.3 (id %08x)", id);
    cfg_write32(PM_DEVFN, PMBA, PM_BASE | 1);
    cfg_write8(PM_DEVFN, PMREGMISC, 0x01);
    uint32_t pmba = cfg_read32(PM_DEVFN, PMBA);
    if ((pmba & 0xffc0) != PM_BASE)
        fail(test, "PMBA reads %08x", pmba);
    kprintf("acpi: pm base 0x%x\n", PM_BASE);

    outb(SMI_CMD, ACPI_DISABLE);
    if (inw(PM1_CNT) & SCI_EN)
        fail(test, "SCI_EN still set after ACPI_DISABLE");
    outb(SMI_CMD, ACPI_ENABLE);
    if (!(inw(PM1_CNT) & SCI_EN))
        fail(test, "SCI_EN not set after ACPI_ENABLE");
    kprintf("acpi: sci_en 1\n");
}

static void __attribute__((noreturn)) enter_s5(const char *test)
{
    kprintf("acpi: entering S5\n");
    outw(PM1_CNT, (uint16_t)(SCI_EN | SLP_TYP_S5 | SLP_EN));
    /* With -no-shutdown the VM is stopped before this delay ends. */
    pit_delay_us(1000000);
    fail(test, "still running 1 s after S5");
}

/*
 * PM timer ticks in 50 ms of PIT time.  Being descheduled only makes the
 * interval longer, so the smallest of five tries is the honest one.
 */
static uint32_t pm_timer_ticks(const char *test)
{
    uint32_t best = 0xffffffffu;

    for (int i = 0; i < 5; i++) {
        uint32_t t0 = inl(PM_TMR);
        if (pit_delay_us(50000))
            fail(test, "PIT channel 2 does not count");
        uint32_t t1 = inl(PM_TMR);
        if ((t0 | t1) >> 24)
            fail(test, "PM timer is wider than 24 bits (%08x)", t1);
        uint32_t d = (t1 - t0) & 0xffffff;
        if (d < best)
            best = d;
    }
    return best;
}

void test_acpi_poweroff(void)
{
    const char *test = "acpi-poweroff";

    pm_setup(test);
    uint32_t ticks = pm_timer_ticks(test);
    uint32_t want = PM_TMR_HZ / 20;             /* 50 ms: 178977 */
    kprintf("acpi: pm timer %u ticks in 50 ms\n", ticks);
    /* A slow timer is caught to 2%; on the fast side a busy host can
     * deschedule the guest in all five tries, so allow a quarter. */
    if (ticks < want - want / 50 || ticks > want + want / 4)
        fail(test, "PM timer runs at %u Hz", ticks * 20);
    kprintf("acpi: pm timer ok\n");
    enter_s5(test);
}

/* ---- the power button ---- */

#define PIT_HZ          1193182u
#define WAIT_TICKS      1200            /* 60 s at 20 Hz */

static volatile uint32_t pwrbtn_seen, sci_count, ticks;

static void sci_handler(struct irq_frame *f)
{
    (void)f;
    uint16_t sts = inw(PM1_STS);

    sci_count++;
    if (sts & PWRBTN_STS) {
        pwrbtn_seen = 1;
        outw(PM1_STS, PWRBTN_STS);      /* write-1-to-clear drops the SCI */
    }
    outb(0xa0, 0x20);                   /* EOI slave, then master */
    outb(0x20, 0x20);
}

static void tick_handler(struct irq_frame *f)
{
    (void)f;
    ticks++;
    outb(0x20, 0x20);
}

void test_acpi_wait_powerdown(void)
{
    const char *test = "acpi-wait-powerdown";
    uint32_t div = PIT_HZ / 20;

    pm_setup(test);
    outb(0x20, 0x11); outb(0xa0, 0x11); /* ICW1: cascade, ICW4 follows */
    outb(0x21, 0x20); outb(0xa1, 0x28); /* vectors 0x20 / 0x28 */
    outb(0x21, 0x04); outb(0xa1, 0x02);
    outb(0x21, 0x01); outb(0xa1, 0x01);
    outb(0x4d1, (uint8_t)(inb(0x4d1) | 0x02)); /* ELCR: IRQ 9 level */
    outb(0x21, 0xfa); outb(0xa1, 0xfd); /* IRQ 0, 2 (cascade), 9 */
    set_irq_handler(0x20, tick_handler);
    set_irq_handler(SCI_VECTOR, sci_handler);
    outb(0x43, 0x34);                   /* PIT ch 0, mode 2: a 60 s bound */
    outb(0x40, (uint8_t)div);
    outb(0x40, (uint8_t)(div >> 8));

    outw(PM1_STS, 0xffff);              /* nothing stale */
    outw(PM1_EN, PWRBTN_EN);
    /* Printed once a press can no longer be missed. */
    kprintf("acpi: waiting for power button\n");
    for (;;) {
        cli();
        if (pwrbtn_seen)
            break;
        if (ticks >= WAIT_TICKS)
            fail(test, "no power button SCI within 60 s (%u SCIs)",
                 sci_count);
        sti_hlt();
    }
    outb(0x21, 0xff); outb(0xa1, 0xff);
    kprintf("acpi: power button\n");
    enter_s5(test);
}
