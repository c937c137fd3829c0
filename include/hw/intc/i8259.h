/*
 * The PC's 8259A pair (master 0x20/0x21, slave 0xa0/0xa1 on master IR2) with
 * the PIIX3 edge/level control registers at 0x4d0/0x4d1, as one device
 * "i8259": unnamed inputs 0-15 are ISA IRQs, unnamed output 0 is INTR.
 */
#ifndef HW_INTC_I8259_H
#define HW_INTC_I8259_H

#include "hw/qdev.h"

#define TYPE_I8259 "i8259"

/* The CPU's interrupt acknowledge cycle: the vector of the highest-priority
 * request (IR7 of the chip concerned if it went away: spurious). */
uint8_t i8259_acknowledge(DeviceState *pic);
/* The board's PIC pair, or NULL. */
DeviceState *i8259_find(void);
/* Level of INTR right now. */
bool i8259_intr_level(DeviceState *pic);

#endif
