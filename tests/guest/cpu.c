/*
 * IDT setup and interrupt dispatch.
 */
#include "guest.h"

struct idt_entry {
    uint16_t off_lo, sel;
    uint8_t zero, type;            /* 0x8e = present, DPL0, 32-bit int gate */
    uint16_t off_hi;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(8)));
static irq_handler_t handlers[256];
extern char isr_stubs[];

void idt_init(void)
{
    for (int v = 0; v < 256; v++) {
        uint32_t a = (uint32_t)isr_stubs + 16u * (uint32_t)v;
        idt[v].off_lo = (uint16_t)a;
        idt[v].sel = 0x08;
        idt[v].zero = 0;
        idt[v].type = 0x8e;
        idt[v].off_hi = (uint16_t)(a >> 16);
    }
    idt_load();
}

void idt_load(void)
{
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) d = {
        sizeof(idt) - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" : : "m"(d));
}

void set_irq_handler(uint8_t vector, irq_handler_t h)
{
    handlers[vector] = h;
}

void isr_dispatch(struct irq_frame *f);
void isr_dispatch(struct irq_frame *f)
{
    irq_handler_t h = handlers[f->vector & 0xff];
    if (h) {
        h(f);
        return;
    }
    /* 0x27/0x2f: 8259 spurious IRQ7/15; 0xff: LAPIC spurious vector. */
    if (f->vector == 0x27 || f->vector == 0x2f || f->vector == 0xff)
        return;
    fail("interrupt", "unexpected vector %u error %x at eip %08x",
         f->vector, f->error, f->eip);
}
