/*
 * SMP bring-up with the INIT-SIPI-SIPI sequence through the local APIC.
 */
#include "guest.h"

#define LAPIC      0xfee00000u
#define LAPIC_ID   0x020
#define LAPIC_SVR  0x0f0
#define LAPIC_ICRL 0x300
#define LAPIC_ICRH 0x310
#define TRAMPOLINE 0x8000u         /* SIPI vector 0x08 -> 0x0800:0000 */
#define MAX_APS    31              /* must match smp_tramp.S */

extern char ap_tramp_start[], ap_tramp_end[];

static volatile uint32_t print_lock;
static volatile uint32_t ap_count;
static volatile uint32_t ap_ids[MAX_APS];

static void lock(void)
{
    while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE))
        cpu_relax();
}

static void unlock(void) { __atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE); }

static uint32_t apic_id(void) { return mmio_read32(LAPIC + LAPIC_ID) >> 24; }

/* Runs on each AP with its own stack; slot is its stack index. */
void ap_main(uint32_t slot);
void ap_main(uint32_t slot)
{
    idt_load();
    uint32_t id = apic_id();
    ap_ids[slot] = id;
    lock();
    kprintf("smp: cpu apic id %u up\n", id);
    unlock();
    __atomic_fetch_add(&ap_count, 1, __ATOMIC_RELEASE);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* Send an IPI to all CPUs but this one and wait until it was accepted. */
static void ipi_all_but_self(uint32_t icr_low)
{
    mmio_write32(LAPIC + LAPIC_ICRH, 0);
    mmio_write32(LAPIC + LAPIC_ICRL, icr_low | (3u << 18)); /* shorthand */
    for (unsigned i = 0; i < 100000; i++)
        if (!(mmio_read32(LAPIC + LAPIC_ICRL) & (1u << 12))) /* delivery status */
            return;
    fail("smp", "IPI %x stuck pending", icr_low);
}

void test_smp(void)
{
    const char *T = "smp";
    uint32_t ncpus = fwcfg_nb_cpus();
    if (!ncpus)
        fail(T, "fw_cfg reports no CPU count");
    if (ncpus - 1 > MAX_APS)
        fail(T, "%u CPUs, at most %u supported", ncpus, MAX_APS + 1);
    uint32_t bsp = apic_id();
    kprintf("smp: bsp apic id %u, fw_cfg cpus=%u\n", bsp, ncpus);

    mmio_write32(LAPIC + LAPIC_SVR, 0x1ff);       /* software-enable */
    memcpy((void *)TRAMPOLINE, ap_tramp_start,
           (size_t)(ap_tramp_end - ap_tramp_start));

    ipi_all_but_self(0x00004500);  /* INIT, level assert */
    if (pit_delay_us(10000))       /* 10 ms */
        fail(T, "PIT channel 2 delay timed out");
    for (int i = 0; i < 2; i++) {
        ipi_all_but_self(0x00004600 | (TRAMPOLINE >> 12)); /* STARTUP */
        pit_delay_us(200);
    }

    /* Wait up to 5 s (500 x 10 ms) for every AP to check in. */
    for (int i = 0; i < 500 && ap_count < ncpus - 1; i++)
        pit_delay_us(10000);
    lock();
    uint32_t up = ap_count;
    if (up != ncpus - 1)
        fail(T, "only %u of %u APs came up", up, ncpus - 1);
    for (uint32_t i = 0; i < up; i++) {
        if (ap_ids[i] == bsp)
            fail(T, "AP reports the BSP's APIC id %u", bsp);
        for (uint32_t j = 0; j < i; j++)
            if (ap_ids[i] == ap_ids[j])
                fail(T, "two APs report APIC id %u", ap_ids[i]);
    }
    kprintf("smp: %u cpus up\n", up + 1);
    pass(T);
}
