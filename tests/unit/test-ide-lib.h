/*
 * The machine the IDE tests drive: the PCI test board (i440FX, PIIX3, 2 MiB
 * of RAM, ISA IRQs caught) plus the PIIX3 IDE function at 00:01.1 with
 *   ide.0 unit 0  disk, raw, 200 GiB sparse; sectors 0-4095 and 20 sectors
 *                 at HD_HIGH_LBA hold hd_byte()
 *   ide.0 unit 1  absent
 *   ide.1 unit 0  CD-ROM with a 300-sector image of cd_byte()
 *   ide.1 unit 1  disk, raw, read-only, 64 sectors
 * Everything goes through port I/O and guest RAM, as a qtest would; async
 * completions run by stepping glib's main loop.
 */
#ifndef TEST_IDE_LIB_H
#define TEST_IDE_LIB_H

#include "test-pci-board.h"
#include "hw/block/ide.h"

#define IDE_DEVFN       PCI_DEVFN(1, 1)
#define BMDMA_BASE      0xc000
#define PRI             0x1f0
#define PRI_CTL         0x3f6
#define SEC             0x170
#define SEC_CTL         0x376
#define HD_SECTORS      (200 * GiB / 512)
#define HD_PATTERN_SECTORS 4096
#define HD_HIGH_LBA     0x10000010ULL           /* beyond LBA28 */
#define CD_SECTORS      300
#define RO_SECTORS      64

/* Status after a command: done, with an error, data to move. */
#define ST_OK           (ATA_DRDY | ATA_DSC)
#define ST_ERR          (ATA_DRDY | ATA_DSC | ATA_ERR)
#define ST_DRQ          (ATA_DRDY | ATA_DSC | ATA_DRQ)

/* RAM used for PRD tables and buffers. */
#define PRD_ADDR        0x10000
#define BUF_ADDR        0x20000

extern BlockBackend *hd_blk, *cd_blk, *ro_blk;
extern char *hd_path, *cd_path, *cd2_path;

void ide_test_init(void);
void ide_test_cleanup(void);

uint8_t hd_byte(uint64_t lba, unsigned off);
uint8_t cd_byte(uint32_t lba, unsigned off);
/* What cd2_path (a second, 100-sector disc) holds. */
uint8_t cd2_byte(uint32_t lba, unsigned off);

static inline uint8_t inb(uint16_t port) { return io_read(port, 1); }
static inline uint16_t inw(uint16_t port) { return io_read(port, 2); }
static inline uint32_t inl(uint16_t port) { return io_read(port, 4); }
static inline void outb(uint16_t port, uint8_t v) { io_write(port, v, 1); }
static inline void outw(uint16_t port, uint16_t v) { io_write(port, v, 2); }
static inline void outl(uint16_t port, uint32_t v) { io_write(port, v, 4); }

static inline uint16_t lduw_be_p(const uint8_t *p) { return p[0] << 8 | p[1]; }
static inline uint32_t ldl_be_p(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}
static inline void stl_be_p(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

/* Run the main loop until the selected device is not busy; its status. */
uint8_t wait_not_busy(uint16_t base);
/* ... or until ISA IRQ irq is high (false after 10 s). */
bool wait_irq(int irq);
/* Software reset of a channel; device 0 selected afterwards. */
void channel_reset(uint16_t base);

void tf_lba28(uint16_t base, int dev, uint32_t lba, uint8_t count);
void tf_lba48(uint16_t base, int dev, uint64_t lba, uint16_t count);
void pio_in(uint16_t base, void *buf, unsigned len);
void pio_out(uint16_t base, const void *buf, unsigned len);
/* A whole IDENTIFY (DEVICE or PACKET DEVICE) by PIO. */
void identify(uint16_t base, int dev, uint8_t cmd, uint16_t *id);

/* One PRD entry; eot marks the last. */
void prd_set(int index, uint32_t addr, uint32_t count, bool eot);
/* Bus master of a channel (0 primary, 1 secondary). */
void bm_start(int ch, bool to_memory);
void bm_stop(int ch);
uint8_t bm_status(int ch);
void bm_clear(int ch);

#endif
