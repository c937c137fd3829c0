/*
 * Intel 82371SB PIIX3 function 0, the PCI-to-ISA bridge: PIRQA-D routing of
 * PCI interrupts to ISA IRQs and the reset control register at 0xcf9.
 */
#ifndef HW_ISA_PIIX3_H
#define HW_ISA_PIIX3_H

#include "hw/pci/pci.h"

#define PIIX3_PIRQRC            0x60    /* PIRQA-D route control: 0x60-0x63 */
#define  PIIX3_PIRQ_DISABLE      0x80
#define  PIIX3_PIRQ_IRQ_MASK     0x0f
#define PIIX3_TOM               0x69
#define PIIX3_APICBASE          0x80
#define PIIX3_RCR_PORT          0xcf9
#define  PIIX3_RCR_SRST          0x02   /* 1 = hard reset, 0 = soft */
#define  PIIX3_RCR_RCPU          0x04   /* writing 1 starts the reset */

/* Create 00:01.0 on bus and make it the bus's interrupt router. */
void piix3_init(PCIBus *bus);

#endif
