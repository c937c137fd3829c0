/*
 * The 8254 PIT at 0x40-0x43 (channel 0 drives ISA IRQ 0) and the PIIX3's
 * NMI status and control port 0x61 (channel 2 gate, speaker data, OUT2).
 */
#ifndef HW_TIMER_I8254_H
#define HW_TIMER_I8254_H

#include "hw/qdev.h"

#define TYPE_I8254 "isa-pit"
#define PIT_FREQ   1193182

#endif
