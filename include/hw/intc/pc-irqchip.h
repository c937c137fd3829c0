/*
 * The PC's interrupt controllers and PIT as userspace devices, for the qtest
 * accelerator and kernel-irqchip=off or split.
 */
#ifndef HW_INTC_PC_IRQCHIP_H
#define HW_INTC_PC_IRQCHIP_H

#include "system/system.h"

/* 8259 pair, IOAPIC, one local APIC per CPU (none with split: KVM has
 * them), 8254, and ISA IRQ n wired to PIC input n and IOAPIC input n. */
void pc_user_irqchip_create(MachineState *ms);

#endif
