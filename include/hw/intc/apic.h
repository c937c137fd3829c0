/*
 * Userspace local APICs, one device "apic" per CPU (property "index"), for
 * the qtest accelerator and kernel-irqchip=off.  Registers at 0xfee00000
 * belong to the CPU making the access (CPU 0 for qtest).  The vCPU loop asks
 * apic_cpu_*() what to inject; the APIC kicks the vCPU when that changes.
 */
#ifndef HW_INTC_APIC_H
#define HW_INTC_APIC_H

#include "hw/qdev.h"

#define TYPE_APIC   "apic"
#define APIC_BASE   0xfee00000ULL

typedef struct APICCPUHooks {
    /* Index of the CPU running this thread, or -1 (main thread, qtest). */
    int (*current_cpu)(void);
    /* Something for CPU 'cpu' to look at: interrupt, NMI, INIT, SIPI. */
    void (*kick)(int cpu);
} APICCPUHooks;
void apic_set_cpu_hooks(const APICCPUHooks *hooks);

/* ExtINT requests (LINT0 or a message) are answered by this PIC. */
void apic_set_pic(DeviceState *pic);

/* An interrupt message in MSI format (IOAPIC, MSI, ...). */
void apic_send_msi(uint64_t addr, uint32_t data);

/* For the vCPU loop (big lock held). */
bool apic_cpu_has_interrupt(int cpu);
/* Acknowledge the interrupt to inject now: its vector, or -1. */
int apic_cpu_get_interrupt(int cpu);
bool apic_cpu_take_nmi(int cpu);
/* INIT received: the CPU resets and waits for a STARTUP. */
bool apic_cpu_take_init(int cpu);
/* STARTUP received: its vector, or -1. */
int apic_cpu_take_sipi(int cpu);

#endif
