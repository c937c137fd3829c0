/*
 * Intel 82441FX PCI and Memory Controller (PMC), the i440FX host bridge:
 * configuration mechanism #1 at 0xcf8/0xcfc, the PAM shadowing of
 * 0xc0000-0xfffff and the SMRAM window at 0xa0000-0xbffff.
 */
#ifndef HW_PCI_HOST_I440FX_H
#define HW_PCI_HOST_I440FX_H

#include "hw/pci/pci.h"

#define I440FX_PAM0             0x59    /* PAM0-PAM6: 0x59-0x5f */
#define I440FX_PAM_REGS         7
#define  PAM_RE                  0x1    /* per nibble: reads go to RAM */
#define  PAM_WE                  0x2    /* per nibble: writes go to RAM */
#define I440FX_SMRAM            0x72
#define  SMRAM_C_BASE_SEG        0x02   /* hardwired: SMRAM at 0xa0000 */
#define  SMRAM_G_SMRAME          0x08
#define  SMRAM_D_LCK             0x10
#define  SMRAM_D_CLS             0x20
#define  SMRAM_D_OPEN            0x40

/*
 * Create the root PCI bus and 00:00.0.  ram is all guest RAM, its offsets
 * being guest physical addresses below 4 GiB; pci_memory is the container
 * of the PCI memory space, which the board maps under system memory and
 * fills with the legacy ROM areas.  I/O BARs go into get_system_io().
 */
PCIBus *i440fx_init(MemoryRegion *ram, MemoryRegion *pci_memory);

#endif
