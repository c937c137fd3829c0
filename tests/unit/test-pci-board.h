/*
 * A bare i440FX + PIIX3 machine for the PCI unit tests: 2 MiB of RAM at 0,
 * a PCI memory space with a ROM over 0xc0000-0xfffff and a "VGA" window at
 * 0xa0000, config cycles through ports 0xcf8/0xcfc, ISA IRQs caught.
 */
#ifndef TEST_PCI_BOARD_H
#define TEST_PCI_BOARD_H

#include "hw/pci/pci.h"
#include "hw/pci-host/i440fx.h"
#include "hw/isa/piix3.h"

#define TEST_RAM_SIZE   (2 * MiB)
#define TEST_DEV_VENDOR 0x1234
#define TEST_DEV_DEVICE 0x11e8

extern PCIBus *test_bus;
extern MemoryRegion test_ram;
extern int isa_level[16];        /* last level each ISA IRQ was set to */
extern int isa_changes[16];      /* how many times it was set */

void test_board_init(void);
/* What the board put in PCI memory (ROM, VGA) and in RAM at addr. */
uint8_t rom_byte(uint64_t addr);
uint8_t ram_byte(uint64_t addr);

uint32_t io_read(uint16_t port, int len);
void io_write(uint16_t port, uint32_t val, int len);
uint64_t mem_read(uint64_t addr, int len);
void mem_write(uint64_t addr, uint64_t val, int len);
uint32_t cfg_read(int devfn, int reg, int len);
void cfg_write(int devfn, int reg, uint32_t val, int len);

/*
 * "test-pci-dev": INTA, BAR0 32 bytes of I/O (registers; writing offset
 * 0x1c sets the INTx level), BAR1 4 KiB of 32-bit memory (RAM), BAR2/3
 * 16 KiB of 64-bit prefetchable memory (RAM), a 4 KiB expansion ROM.
 */
typedef struct TestPCIDev {
    PCIDevice parent_obj;
    uint32_t regs[8];
    MemoryRegion io, mem, mem64, rom;
} TestPCIDev;

/* Create one at devfn (PCI_DEVFN_AUTO for the first free slot). */
TestPCIDev *test_dev_new(int devfn, Error **errp);

/* Save dev, check load(save) round-trips; returns the encoding. */
GByteArray *test_vmstate_save(DeviceState *dev);
bool test_vmstate_load(DeviceState *dev, GByteArray *in, Error **errp);
/* Random state, as test-vmstate does it: it must load and round-trip. */
void test_vmstate_random_roundtrip(DeviceState *dev);

#endif
