/*
 * reset <method>: the machine resets and the guest runs again from the
 * start.  A boot counter in CMOS NVRAM (battery-backed: a reset keeps it)
 * tells the two runs apart.  Methods: cf9 (PIIX3 reset control), kbd
 * (keyboard controller pulse 0xfe), port92 (System Control Port A bit 0),
 * triple (triple fault: no IDT, then an exception).
 *
 * internal-error: jump into unassigned MMIO space.  KVM cannot fetch
 * instructions there and stops with an internal error; the emulator must
 * report it and keep running.
 */
#include "guest.h"

#define CMOS_BOOT_COUNT 0x7e

static void cmos_write(uint8_t reg, uint8_t v)
{
    outb(0x70, reg);
    outb(0x71, v);
}

static void __attribute__((noreturn)) triple_fault(void)
{
    static const struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } no_idt = { 0, 0 };
    __asm__ volatile("lidt %0; ud2" : : "m"(no_idt));
    for (;;)
        ;
}

void test_reset(const char *method)
{
    uint8_t boots = cmos_read(CMOS_BOOT_COUNT);
    kprintf("reset: boot %u\n", boots);
    if (boots >= 1) {
        cmos_write(CMOS_BOOT_COUNT, 0);
        pass("reset");
    }
    cmos_write(CMOS_BOOT_COUNT, boots + 1);
    if (word_eq(method, "cf9")) {
        outb(0xcf9, 0x02);
        outb(0xcf9, 0x06);             /* hard reset */
    } else if (word_eq(method, "kbd")) {
        outb(0x64, 0xfe);
    } else if (word_eq(method, "port92")) {
        outb(0x92, inb(0x92) | 1);
    } else if (word_eq(method, "triple")) {
        triple_fault();
    } else {
        fail("reset", "unknown method '%s'", method);
    }
    for (int i = 0; i < 1000; i++)
        pit_delay_us(1000);
    fail("reset", "still running 1 s after the %s reset", method);
}

void test_internal_error(void)
{
    kprintf("internal-error: jumping to 0xfed00000\n");
    ((void (*)(void))0xfed00000)();
    fail("internal-error", "came back from unassigned memory");
}
