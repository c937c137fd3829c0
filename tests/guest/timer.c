/*
 * PIT interrupt tests: the same 100 Hz PIT channel-0 tick delivered
 * through the legacy 8259 pair (pit-pic) or through the IOAPIC and the
 * local APIC (pit-ioapic).
 */
#include "guest.h"

#define PIT_HZ     1193182u
#define LAPIC      0xfee00000u
#define IOAPIC     0xfec00000u
#define WANT_TICKS 10u

static volatile uint32_t ticks;

/* PIT channel 0, lobyte/hibyte access, mode 2 (rate generator), binary. */
static void pit_start(unsigned hz)
{
    uint32_t div = (PIT_HZ + hz / 2) / hz;
    outb(0x43, 0x34);
    outb(0x40, (uint8_t)div);
    outb(0x40, (uint8_t)(div >> 8));
}

/*
 * Wait for WANT_TICKS interrupts.  First poll (with interrupts enabled)
 * until one tick arrives, bounded by an iteration count and by the TSC,
 * neither of which depends on the PIT or RTC: a dead timer then gives a
 * FAIL line instead of a guest halted forever.  Once ticks are known to
 * arrive, sleep in "sti; hlt" for the rest.
 */
static void wait_ticks(const char *test)
{
    uint64_t t0 = rdtsc();
    uint32_t i;

    sti();
    for (i = 0; ticks == 0; i++) {
        if (i > 50000000u || rdtsc() - t0 > (1ull << 34)) {
            cli();
            fail(test, "timeout waiting for the first timer interrupt");
        }
        cpu_relax();
    }
    for (i = 0;; i++) {
        cli();                     /* check and sleep without a race */
        if (ticks >= WANT_TICKS)
            break;
        if (i > 1000)
            fail(test, "only %u ticks after %u wakeups", ticks, i);
        sti_hlt();
    }
    kprintf("%s: %u ticks\n", test, ticks);
}

/* ---- 8259 PIC ----------------------------------------------------------- */

static void pic_tick(struct irq_frame *f)
{
    (void)f;
    ticks++;
    outb(0x20, 0x20);              /* non-specific EOI to the master */
}

void test_pit_pic(void)
{
    outb(0x20, 0x11); outb(0xa0, 0x11); /* ICW1: edge, cascade, ICW4 follows */
    outb(0x21, 0x20); outb(0xa1, 0x28); /* ICW2: vector bases 0x20 / 0x28 */
    outb(0x21, 0x04); outb(0xa1, 0x02); /* ICW3: slave on master IRQ2 */
    outb(0x21, 0x01); outb(0xa1, 0x01); /* ICW4: 8086 mode, normal EOI */
    outb(0x21, 0xfe); outb(0xa1, 0xff); /* OCW1: only IRQ0 unmasked */
    set_irq_handler(0x20, pic_tick);
    pit_start(100);
    wait_ticks("pit-pic");
    pass("pit-pic");
}

/* ---- IOAPIC + LAPIC ----------------------------------------------------- */

static void ioapic_write(uint8_t reg, uint32_t v)
{
    mmio_write32(IOAPIC + 0x00, reg);   /* IOREGSEL */
    mmio_write32(IOAPIC + 0x10, v);     /* IOWIN */
}

static uint32_t ioapic_read(uint8_t reg)
{
    mmio_write32(IOAPIC + 0x00, reg);
    return mmio_read32(IOAPIC + 0x10);
}

static void lapic_tick(struct irq_frame *f)
{
    (void)f;
    ticks++;
    mmio_write32(LAPIC + 0xb0, 0);      /* LAPIC EOI */
}

void test_pit_ioapic(void)
{
    const unsigned pin = 2;             /* ISA IRQ0 is overridden to GSI 2 */
    outb(0x21, 0xff); outb(0xa1, 0xff); /* mask both 8259s */

    /* Software-enable the LAPIC: SVR bit 8, spurious vector 0xff. */
    mmio_write32(LAPIC + 0xf0, 0x1ff);
    mmio_write32(LAPIC + 0x80, 0);      /* TPR: accept all priorities */
    uint32_t apic_id = mmio_read32(LAPIC + 0x20) >> 24;

    uint32_t ver = ioapic_read(0x01);   /* bits 16-23: max redirection entry */
    if (((ver >> 16) & 0xff) < pin)
        fail("pit-ioapic", "IOAPIC has only %u pins", ((ver >> 16) & 0xff) + 1);

    /* Redirection entry: fixed delivery, physical destination = this CPU,
     * active high, edge triggered, unmasked, vector 0x30. */
    ioapic_write((uint8_t)(0x10 + 2 * pin + 1), apic_id << 24);
    ioapic_write((uint8_t)(0x10 + 2 * pin), 0x30);
    set_irq_handler(0x30, lapic_tick);
    pit_start(100);
    wait_ticks("pit-ioapic");
    pass("pit-ioapic");
}
