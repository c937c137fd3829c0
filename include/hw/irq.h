/* Interrupt lines between devices: a level goes from a source to a handler. */
#ifndef HW_IRQ_H
#define HW_IRQ_H

#include "util/osdep.h"

typedef void (*IRQHandler)(void *opaque, int n, int level);

typedef struct IRQState {
    IRQHandler handler;
    void *opaque;
    int n;
} IRQState;

typedef IRQState *qemu_irq;

qemu_irq qemu_allocate_irq(IRQHandler handler, void *opaque, int n);
qemu_irq *qemu_allocate_irqs(IRQHandler handler, void *opaque, int count);
void qemu_free_irq(qemu_irq irq);

static inline void qemu_set_irq(qemu_irq irq, int level)
{
    if (irq) {
        irq->handler(irq->opaque, irq->n, level);
    }
}
static inline void qemu_irq_raise(qemu_irq irq) { qemu_set_irq(irq, 1); }
static inline void qemu_irq_lower(qemu_irq irq) { qemu_set_irq(irq, 0); }
static inline void qemu_irq_pulse(qemu_irq irq)
{
    qemu_set_irq(irq, 1);
    qemu_set_irq(irq, 0);
}

#endif
