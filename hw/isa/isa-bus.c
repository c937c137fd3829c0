/* The ISA IRQ lines as the board wires them. */
#include "hw/isa/isa.h"

static qemu_irq (*isa_irq_getter)(int n);

void isa_set_irq_handler(qemu_irq (*get)(int n))
{
    isa_irq_getter = get;
}

qemu_irq isa_get_irq(int n)
{
    g_assert(n >= 0 && n < 16);
    return isa_irq_getter ? isa_irq_getter(n) : NULL;
}
