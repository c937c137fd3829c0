/* ISA devices: port I/O ranges in the I/O address space and ISA IRQ lines. */
#ifndef HW_ISA_H
#define HW_ISA_H

#include "hw/qdev.h"
#include "hw/irq.h"
#include "system/memory.h"

/* ISA IRQ n (0-15) as wired by the board (PIC + IOAPIC, or the kernel). */
qemu_irq isa_get_irq(int n);
void isa_set_irq_handler(qemu_irq (*get)(int n));

static inline void isa_register_ioport(MemoryRegion *mr, uint16_t port)
{
    memory_region_add_subregion(get_system_io(), port, mr);
}

#endif
