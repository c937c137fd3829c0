/* What the IDE files (core, ATA, ATAPI, bus-master DMA) call in each other. */
#ifndef HW_BLOCK_IDE_INTERNAL_H
#define HW_BLOCK_IDE_INTERNAL_H

#include "hw/block/ide.h"

/* ---- ide-core.c ---- */

/* Assert INTRQ of s (and the bus master's interrupt bit). */
void ide_set_irq(IDEState *s);
void ide_update_irq(IDEBus *bus);
/* Command finished: DRDY (DSC for disks), no error, interrupt. */
void ide_cmd_done(IDEState *s);
/* Command aborted: ERR, error = err (ATA_ABRT etc.), interrupt. */
void ide_cmd_error(IDEState *s, uint8_t err);
/* PIO: expose io_buffer[0, len) through the data port with DRQ. */
void ide_pio_start(IDEState *s, uint32_t len, IDEXfer xfer);
void ide_pio_stop(IDEState *s);
/* Signature of the device type in the taskfile (after reset, diagnostic). */
void ide_set_signature(IDEState *s);
/* Medium present (CD: inserted and tray closed). */
bool ide_has_medium(IDEState *s);
/* Start op of the drive as its state describes it (lba, block_sectors,
 * remaining, io_buffer); also what a restored state re-issues. */
void ide_aio_issue(IDEState *s, IDEAioOp op);
/* One DMA chunk: buf (g_malloc'd, the request's from now on) is read from
 * or written to the disk at byte offset. */
void ide_aio_submit_dma(IDEState *s, bool write, uint64_t offset, void *buf,
                        size_t len);
#define IDE_VERIFY_CHUNK        256     /* sectors per READ VERIFY step */
/* The disk's bytes, or -1 with no medium. */
int64_t ide_disk_length(IDEState *s);

void ide_bus_init(IDEBus *bus, int index, PCIDevice *pci, qemu_irq irq);
void ide_bus_reset(IDEBus *bus);
/* Issue again what a loaded state was waiting for. */
void ide_bus_restart(IDEBus *bus);
void ide_drive_reset(IDEState *s);
extern const VMStateDescription vmstate_ide_bus;

/* ---- piix-ide.c ---- */

/* "ide.0" / "ide.1", or the first channel for NULL. */
IDEBus *ide_bus_find(const char *name);
PCIIDEState *ide_controller(void);

/* ---- ide-ata.c ---- */

void ide_ata_command(IDEState *s, uint8_t cmd);
void ide_ata_pio_done(IDEState *s);
void ide_ata_aio_done(IDEState *s, IDEAioOp op, int ret, const void *buf);
void ide_ata_dma_done(IDEState *s, int ret);
/* Load a PIO buffer with IDENTIFY DEVICE / IDENTIFY PACKET DEVICE data. */
void ide_identify(IDEState *s, uint16_t *id);
void ide_atapi_identify(IDEState *s, uint16_t *id);
void ide_drive_defaults(IDEState *s);
/* DATA SET MANAGEMENT: the range entry at byte off of io_buffer. */
void ide_trim_range(IDEState *s, uint32_t off, uint64_t *lba, uint32_t *count);

/* ---- ide-atapi.c ---- */

void ide_atapi_packet(IDEState *s);
void ide_atapi_pio_done(IDEState *s);
void ide_atapi_aio_done(IDEState *s, int ret);
void ide_atapi_dma_done(IDEState *s, int ret);
/* The medium went away with the tray closed (drive_del). */
void ide_cd_medium_removed(IDEState *s);

/* ---- ide-dev.c, ide-monitor.c ---- */

/* How messages name a drive: its -drive id, else its device id. */
const char *ide_drive_name(IDEState *s);
/* QMP DEVICE_TRAY_MOVED. */
/* Set by the monitor module, which reports DEVICE_TRAY_MOVED. */
extern void (*ide_tray_moved_hook)(IDEState *s, bool open);
static inline void ide_tray_moved(IDEState *s, bool open)
{
    if (ide_tray_moved_hook) {
        ide_tray_moved_hook(s, open);
    }
}

/* ---- ide-dma.c ---- */

/* A DMA command was issued: run once the bus master is started. */
void ide_dma_begin(IDEState *s, IDEDmaKind kind, uint32_t total);
/* Run the next chunk of the DMA on the bus, if any can run. */
void ide_dma_run(IDEBus *bus);
/* The disk I/O of the chunk in flight finished (buf: the data read). */
void ide_dma_aio_done(IDEState *s, int ret, const void *buf);
/* The transfer is over: the bus master goes inactive if the PRD table
 * ended with it. */
void ide_dma_finish(IDEBus *bus);
/* Drop the DMA in progress (reset); the bus master goes inactive. */
void ide_dma_cancel(IDEBus *bus);
extern const MemoryRegionOps ide_bmdma_ops;

#endif
