/* Interrupt line allocation. */
#include "hw/irq.h"

qemu_irq qemu_allocate_irq(IRQHandler handler, void *opaque, int n)
{
    IRQState *irq = g_new0(IRQState, 1);
    irq->handler = handler;
    irq->opaque = opaque;
    irq->n = n;
    return irq;
}

qemu_irq *qemu_allocate_irqs(IRQHandler handler, void *opaque, int count)
{
    qemu_irq *irqs = g_new0(qemu_irq, count);
    for (int i = 0; i < count; i++) {
        irqs[i] = qemu_allocate_irq(handler, opaque, i);
    }
    return irqs;
}

void qemu_free_irq(qemu_irq irq)
{
    g_free(irq);
}
