/*
 * timer-pause: the guest's timers for the monitor's stop/cont tests.
 *
 * PIT channel 0 ticks at 100 Hz through the 8259 (IRQ 0) and the guest
 * prints "pit N t=MS" every 10 ticks, N the tick count and MS its kvmclock
 * in ms; the LAPIC timer runs one-shot, re-armed each time it fires, and
 * the guest prints "lapic E ms", E the kvmclock time from arming to firing.
 * A stopped VM must not let any of them move: after cont, N still keeps
 * pace with MS (no burst of the PIT ticks missed while stopped) and the
 * one-shot that spanned the pause takes as long as the others.
 *
 * The banner gives PIT channel 0's status byte as the guest finds it at
 * boot (read-back command), so a test can tell that a reset left the PIT
 * in its power-on state rather than the one it had before.
 */
#include "guest.h"

#define LAPIC          0xfee00000u
#define LAPIC_SVR      0xf0
#define LAPIC_EOI      0xb0
#define LAPIC_LVTT     0x320
#define LAPIC_LVT0     0x350
#define LAPIC_TMICT    0x380
#define LAPIC_TDCR     0x3e0
#define LAPIC_VECTOR   0x31
#define LAPIC_COUNT    300000000u   /* 300 ms at KVM's 1 GHz APIC bus */
#define PIT_DIVISOR    11932u       /* 1193182 Hz / 100 */

static volatile uint32_t pit_ticks;
static volatile int lapic_fired;
static uint64_t lapic_armed_ns, lapic_fired_ns;

static void pit_tick(struct irq_frame *f)
{
    (void)f;
    pit_ticks++;
    outb(0x20, 0x20);              /* non-specific EOI */
}

static void lapic_timer(struct irq_frame *f)
{
    (void)f;
    lapic_fired_ns = kvmclock_ns();
    lapic_fired = 1;
    mmio_write32(LAPIC + LAPIC_EOI, 0);
}

static void lapic_arm(void)
{
    lapic_armed_ns = kvmclock_ns();
    mmio_write32(LAPIC + LAPIC_TMICT, LAPIC_COUNT);
}

void test_timer_pause(void)
{
    if (!kvmclock_init())
        fail("timer-pause", "no kvmclock");
    outb(0x43, 0xe2);              /* read-back: status of channel 0 */
    kprintf("timer-pause: start pit0 status %02x\n", inb(0x40));

    outb(0x20, 0x11); outb(0xa0, 0x11); /* ICW1: edge, cascade, ICW4 */
    outb(0x21, 0x20); outb(0xa1, 0x28); /* vector bases 0x20 / 0x28 */
    outb(0x21, 0x04); outb(0xa1, 0x02);
    outb(0x21, 0x01); outb(0xa1, 0x01);
    outb(0x21, 0xfe); outb(0xa1, 0xff); /* only IRQ 0 */
    set_irq_handler(0x20, pit_tick);
    set_irq_handler(LAPIC_VECTOR, lapic_timer);

    mmio_write32(LAPIC + LAPIC_SVR, 0x1ff);       /* enabled, spurious 0xff */
    mmio_write32(LAPIC + LAPIC_LVT0, 0x700);      /* ExtINT: the 8259 */
    mmio_write32(LAPIC + LAPIC_TDCR, 0xb);        /* divide by 1 */
    mmio_write32(LAPIC + LAPIC_LVTT, LAPIC_VECTOR); /* one-shot */
    outb(0x43, 0x34);              /* channel 0, lo/hi, mode 2 */
    outb(0x40, (uint8_t)PIT_DIVISOR);
    outb(0x40, (uint8_t)(PIT_DIVISOR >> 8));
    lapic_arm();

    for (uint32_t next = 10;;) {
        cli();                     /* check and sleep without a race */
        if (pit_ticks >= next) {
            uint32_t n = pit_ticks;
            uint32_t ms = ns_to_ms(kvmclock_ns());
            next = n - n % 10 + 10;
            sti();
            kprintf("pit %u t=%u ms\n", n, ms);
        } else if (lapic_fired) {
            uint32_t ms = ns_to_ms(lapic_fired_ns - lapic_armed_ns);
            lapic_fired = 0;
            lapic_arm();
            sti();
            kprintf("lapic %u ms\n", ms);
        } else {
            sti_hlt();
        }
    }
}
