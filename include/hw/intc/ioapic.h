/*
 * 82093AA I/O APIC at 0xfec00000: 24 redirection entries turning input pins
 * into interrupt messages for the local APICs.  Unnamed inputs 0-23 are
 * GSIs, except that input 0 (ISA IRQ 0, the PIT) is wired to pin 2, as the
 * PC's interrupt source override says and as QEMU's qtest users expect.
 */
#ifndef HW_INTC_IOAPIC_H
#define HW_INTC_IOAPIC_H

#include "hw/qdev.h"

#define TYPE_IOAPIC        "ioapic"
#define IOAPIC_BASE        0xfec00000ULL
#define IOAPIC_NUM_PINS    24

/* Where messages go: an MSI-format address (0xfeeDD00M) and data word. */
typedef void IOAPICSendFn(uint64_t addr, uint32_t data);
void ioapic_set_sink(DeviceState *ioapic, IOAPICSendFn *send);
/* A redirection entry changed (kernel-irqchip=split mirrors them in KVM's
 * routes); addr/data are what the pin would send. */
typedef void IOAPICRouteFn(int pin, uint64_t addr, uint32_t data, bool masked);
void ioapic_set_route_notifier(DeviceState *ioapic, IOAPICRouteFn *fn);
/* A local APIC's EOI for a level-triggered vector. */
void ioapic_eoi_broadcast(int vector);

#endif
