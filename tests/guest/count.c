/*
 * count: a guest for the monitor's lifecycle tests.  It prints a banner,
 * then "count N t=MS ms" every 5 ms for ever, so a pause shows as output
 * that stops and resumes with the next N, and a reset as a second banner
 * and N starting from 0 again.
 *
 * t is the guest's kvmclock in milliseconds (0 when KVM does not offer
 * kvmclock): across a stop/cont it should advance by about one period, not
 * by the time the VM was stopped.
 */
#include "guest.h"

#define KVM_CPUID_SIGNATURE    0x40000000u
#define KVM_CPUID_FEATURES     0x40000001u
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u

/* The pvclock page KVM keeps up to date (Documentation/virt/kvm/msr.rst). */
struct pvclock_time_info {
    volatile uint32_t version;
    uint32_t pad0;
    volatile uint64_t tsc_timestamp;
    volatile uint64_t system_time;
    volatile uint32_t tsc_to_system_mul;
    volatile int8_t tsc_shift;
    volatile uint8_t flags;
    uint8_t pad[2];
} __attribute__((packed));

static struct pvclock_time_info pvclock __attribute__((aligned(64)));

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c,
                  uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
                     : "a"(leaf), "c"(0));
}

static void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
                     "d"((uint32_t)(v >> 32)) : "memory");
}

int kvmclock_init(void)
{
    uint32_t a, b, c, d;
    cpuid(KVM_CPUID_SIGNATURE, &a, &b, &c, &d);
    /* "KVMKVMKVM\0\0\0" */
    if (b != 0x4b4d564b || c != 0x564b4d56 || d != 0x4d || a < KVM_CPUID_FEATURES)
        return 0;
    cpuid(KVM_CPUID_FEATURES, &a, &b, &c, &d);
    if (!(a & KVM_FEATURE_CLOCKSOURCE2))
        return 0;
    wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint32_t)&pvclock | 1);
    return 1;
}

/* Nanoseconds of guest time: system_time + scaled TSC delta. */
uint64_t kvmclock_ns(void)
{
    uint32_t version, mul;
    uint64_t stamp, time, delta;
    int8_t shift;
    do {
        version = pvclock.version;
        __asm__ volatile("" ::: "memory");
        stamp = pvclock.tsc_timestamp;
        time = pvclock.system_time;
        mul = pvclock.tsc_to_system_mul;
        shift = pvclock.tsc_shift;
        delta = rdtsc() - stamp;
        __asm__ volatile("" ::: "memory");
    } while ((version & 1) || version != pvclock.version);
    if (shift < 0)
        delta >>= -shift;
    else
        delta <<= shift;
    /* (delta * mul) >> 32 without a 128-bit product. */
    uint64_t lo = ((uint64_t)(uint32_t)delta * mul) >> 32;
    uint64_t hi = (delta >> 32) * mul;
    return time + lo + hi;
}

/* ns / 1000000 with divl (no libgcc); fine below 2^32 ms. */
uint32_t ns_to_ms(uint64_t ns)
{
    uint32_t hi = (uint32_t)(ns >> 32), lo = (uint32_t)ns, q, r;
    hi %= 1000000u;
    __asm__("divl %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(1000000u));
    return q;
}

void test_count(void)
{
    int have_clock = kvmclock_init();
    kprintf("count: start (kvmclock %s)\n", have_clock ? "on" : "off");
    for (uint32_t n = 0;; n++) {
        uint32_t ms = have_clock ? ns_to_ms(kvmclock_ns()) : 0;
        kprintf("count %u t=%u ms\n", n, ms);
        if (pit_delay_us(5000) < 0)
            fail("count", "PIT channel 2 does not count");
    }
}
