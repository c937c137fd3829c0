/*
 * Bus-master IDE (SFF-8038i): per channel a command register (start,
 * direction), a status register (active, error, interrupt) and the PRD
 * table pointer.  A transfer runs once both the device has a DMA command
 * and the guest has set the start bit; it moves in chunks through a bounce
 * buffer, walking the PRD table in guest memory.  The cursor in bus->dma
 * only advances when a chunk is complete, so a saved state can re-issue
 * the chunk in flight.
 */
#include "ide-internal.h"

#define IDE_DMA_CHUNK   (64 * KiB)

/*
 * Move up to len bytes between buf and the memory regions of the PRD table
 * from cur on.  Stops early at the end of the table or, setting *err, at a
 * memory error.  Returns the bytes moved.
 */
static uint32_t prd_move(IDEBus *bus, IDEDmaCursor *cur, uint8_t *buf,
                         uint32_t len, bool to_mem, bool *err)
{
    uint32_t done = 0;

    while (done < len && !cur->end) {
        uint8_t ent[8];
        if (!pci_dma_read(bus->pci, cur->prd, ent, sizeof(ent))) {
            *err = true;
            break;
        }
        uint32_t addr = ldl_le(ent) & ~1u;
        uint32_t flags = ldl_le(ent + 4);
        uint32_t count = flags & 0xfffe;
        if (!count) {
            count = 0x10000;
        }
        if (cur->off < count) {
            uint32_t n = MIN(count - cur->off, len - done);
            bool ok = to_mem ?
                pci_dma_write(bus->pci, addr + cur->off, buf + done, n) :
                pci_dma_read(bus->pci, addr + cur->off, buf + done, n);
            if (!ok) {
                *err = true;
                break;
            }
            done += n;
            cur->off += n;
        }
        if (cur->off >= count) {
            cur->off = 0;
            if (flags & BM_PRD_EOT) {
                cur->end = true;
            } else {
                cur->prd += 8;
            }
        }
    }
    return done;
}

static bool dma_to_memory(IDEState *s)
{
    return s->dma_kind != IDE_DMA_ATA_WRITE && s->dma_kind != IDE_DMA_ATA_TRIM;
}

static uint32_t dma_chunk(IDEState *s)
{
    return MIN(s->dma_total - s->dma_done, IDE_DMA_CHUNK);
}

static uint64_t dma_disk_offset(IDEState *s)
{
    uint32_t sector = s->kind == IDE_CD ? CD_SECTOR_SIZE : IDE_SECTOR_SIZE;
    return s->lba * sector + s->dma_done;
}

static void dma_device_done(IDEState *s, int ret)
{
    if (s->kind == IDE_CD) {
        ide_atapi_dma_done(s, ret);
    } else {
        ide_ata_dma_done(s, ret);
    }
}

/* A chunk moved `moved` of its `len` bytes; the cursor is at next. */
static void dma_chunk_done(IDEState *s, IDEDmaCursor next, uint32_t moved,
                           uint32_t len, bool err)
{
    IDEBus *bus = s->bus;

    bus->dma = next;
    s->dma_done += moved;
    if (err) {
        /* Master abort: the controller stops, the device keeps waiting. */
        log_guest_error("ide %s: bus-master DMA to unassigned memory or "
                        "with bus mastering off", bus->name);
        bus->bm_status = (bus->bm_status & ~BM_STATUS_ACTIVE) |
                         BM_STATUS_ERROR;
        return;
    }
    if (moved < len) {
        /* The PRDs describe less than the transfer: interrupt 0, active 0;
         * as in QEMU, the device gives up the command, ready, without an
         * interrupt. */
        bus->bm_status &= ~BM_STATUS_ACTIVE;
        s->dma_kind = IDE_DMA_NONE;
        s->status = ATA_DRDY | ATA_DSC;
        return;
    }
    if (s->dma_done < s->dma_total) {
        ide_dma_run(bus);
        return;
    }
    /* TRIM works on the list it read: the bus master stays active until
     * that is done, as in QEMU (whose ide-test polls for it). */
    if (s->dma_kind != IDE_DMA_ATA_TRIM) {
        ide_dma_finish(bus);
    }
    dma_device_done(s, 0);
}

void ide_dma_finish(IDEBus *bus)
{
    /* Active stays set if the PRDs describe more than the transfer. */
    if (bus->dma.end) {
        bus->bm_status &= ~BM_STATUS_ACTIVE;
    }
}

void ide_dma_run(IDEBus *bus)
{
    IDEState *s = &bus->ifs[bus->dma_unit];

    if (s->dma_kind == IDE_DMA_NONE || s->aio_inflight ||
        s->dma_done >= s->dma_total ||
        !(bus->bm_status & BM_STATUS_ACTIVE) || !(bus->bm_cmd & BM_CMD_START)) {
        return;
    }
    if (!!(bus->bm_cmd & BM_CMD_WRITE) != dma_to_memory(s)) {
        log_guest_error("ide %s: bus-master direction does not match the "
                        "command", bus->name);
        bus->bm_status = (bus->bm_status & ~BM_STATUS_ACTIVE) |
                         BM_STATUS_ERROR;
        return;
    }

    uint32_t len = dma_chunk(s);
    IDEDmaCursor next = bus->dma;
    bool err = false;

    switch (s->dma_kind) {
    case IDE_DMA_ATAPI_BUF: {
        uint32_t moved = prd_move(bus, &next, s->io_buffer + s->dma_done,
                                  len, true, &err);
        dma_chunk_done(s, next, moved, len, err);
        break;
    }
    case IDE_DMA_ATA_TRIM: {
        /* The range list (at most IDE_BUF_SIZE) is one chunk. */
        uint32_t moved = prd_move(bus, &next, s->io_buffer + s->dma_done,
                                  len, false, &err);
        dma_chunk_done(s, next, moved, len, err);
        break;
    }
    case IDE_DMA_ATA_WRITE: {
        uint8_t *buf = g_malloc(len);
        uint32_t moved = prd_move(bus, &next, buf, len, false, &err);
        if (err || moved < len) {
            g_free(buf);
            dma_chunk_done(s, next, 0, len, err);
            return;
        }
        bus->dma_next = next;
        ide_aio_submit_dma(s, true, dma_disk_offset(s), buf, len);
        break;
    }
    default:
        ide_aio_submit_dma(s, false, dma_disk_offset(s), g_malloc(len), len);
        break;
    }
}

void ide_dma_aio_done(IDEState *s, int ret, const void *buf)
{
    IDEBus *bus = s->bus;
    uint32_t len = dma_chunk(s);

    if (ret < 0) {
        log_guest_error("ide %s device %d: DMA I/O error %d", bus->name,
                        s->unit, ret);
        dma_device_done(s, ret);
        return;
    }
    if (s->dma_kind == IDE_DMA_ATA_WRITE) {
        dma_chunk_done(s, bus->dma_next, len, len, false);
        return;
    }
    IDEDmaCursor next = bus->dma;
    bool err = false;
    uint32_t moved = prd_move(bus, &next, (uint8_t *)buf, len, true, &err);
    dma_chunk_done(s, next, moved, len, err);
}

void ide_dma_begin(IDEState *s, IDEDmaKind kind, uint32_t total)
{
    s->dma_kind = kind;
    s->dma_done = 0;
    s->dma_total = total;
    s->status = ATA_DRDY | ATA_DSC | ATA_DRQ;
    s->bus->dma_unit = s->unit;
    ide_dma_run(s->bus);
}

void ide_dma_cancel(IDEBus *bus)
{
    bus->bm_status &= ~BM_STATUS_ACTIVE;
}

/* ---- registers: BAR4, 8 bytes per channel ---- */

static void bm_cmd_write(IDEBus *bus, uint8_t val)
{
    bool was = bus->bm_cmd & BM_CMD_START, now = val & BM_CMD_START;

    if (was && !now) {
        /* As in QEMU, a transfer under way completes first (the guest
         * cannot tell it from a fast one): the disk never sees half of
         * it.  A command still waiting for the start bit stays. */
        IDEState *s = &bus->ifs[bus->dma_unit];
        while (s->aio_inflight && s->aio_op == IDE_AIO_DMA) {
            blk_drain(s->blk);
        }
        bus->bm_status &= ~BM_STATUS_ACTIVE;
    }
    bus->bm_cmd = val & (BM_CMD_START | BM_CMD_WRITE);
    if (!was && now) {
        bus->dma = (IDEDmaCursor) { .prd = bus->bm_prd };
        bus->bm_status |= BM_STATUS_ACTIVE;
        ide_dma_run(bus);
    }
}

static uint64_t bmdma_read(void *opaque, uint64_t addr, unsigned size)
{
    PCIIDEState *d = opaque;
    IDEBus *bus = &d->bus[(addr >> 3) & 1];

    switch (addr & 7) {
    case BM_CMD:
        return bus->bm_cmd;
    case BM_STATUS:
        return bus->bm_status;
    case BM_PRD ... BM_PRD + 3:
        return (bus->bm_prd >> ((addr & 3) * 8)) & 0xff;
    default:
        return 0;
    }
}

static void bmdma_write(void *opaque, uint64_t addr, uint64_t val,
                        unsigned size)
{
    PCIIDEState *d = opaque;
    IDEBus *bus = &d->bus[(addr >> 3) & 1];
    unsigned shift = (addr & 3) * 8;

    switch (addr & 7) {
    case BM_CMD:
        bm_cmd_write(bus, val);
        break;
    case BM_STATUS:
        bus->bm_status = (bus->bm_status & ~(BM_STATUS_DMA0CAP |
                          BM_STATUS_DMA1CAP)) |
                         (val & (BM_STATUS_DMA0CAP | BM_STATUS_DMA1CAP));
        bus->bm_status &= ~(val & (BM_STATUS_ERROR | BM_STATUS_INTR));
        break;
    case BM_PRD ... BM_PRD + 3:
        bus->bm_prd = (bus->bm_prd & ~(0xffu << shift)) |
                      ((uint32_t)(val & 0xff) << shift);
        bus->bm_prd &= ~3u;
        break;
    default:
        break;
    }
}

const MemoryRegionOps ide_bmdma_ops = {
    .read = bmdma_read,
    .write = bmdma_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};
