/*
 * IDE channel core: the taskfile and device control ports, device
 * selection, INTRQ, software reset, the PIO data port and the hand-off of
 * disk I/O to the block layer, with what -drive rerror=/werror= say about
 * a failed request.  Command decoding is in ide-ata.c (ATA) and
 * ide-atapi.c (PACKET), bus-master DMA in ide-dma.c.
 */
#include "ide-internal.h"
#include "block/block.h"
#include "system/system.h"

void ide_update_irq(IDEBus *bus)
{
    IDEState *s = &bus->ifs[bus->unit];
    bool level = s->kind != IDE_NONE && s->irq_pending &&
                 !(bus->devctl & ATA_CTL_NIEN);

    if (level != bus->irq_level) {
        /* The bus master latches a rising edge of the line. */
        if (level) {
            bus->bm_status |= BM_STATUS_INTR;
        }
        bus->irq_level = level;
        qemu_set_irq(bus->irq, level);
    }
}

void ide_set_irq(IDEState *s)
{
    s->irq_pending = true;
    ide_update_irq(s->bus);
}

static uint8_t ide_ready_status(IDEState *s)
{
    return ATA_DRDY | ATA_DSC;
}

void ide_cmd_done(IDEState *s)
{
    s->status = ide_ready_status(s);
    ide_set_irq(s);
}

void ide_cmd_error(IDEState *s, uint8_t err)
{
    s->status = ide_ready_status(s) | ATA_ERR;
    s->error = err;
    ide_set_irq(s);
}

void ide_pio_start(IDEState *s, uint32_t len, IDEXfer xfer)
{
    s->data_ptr = 0;
    s->data_end = len;
    s->xfer = xfer;
    s->status = ide_ready_status(s) | ATA_DRQ;
}

/* The window is done; data_ptr stays where it ended (ATAPI goes on). */
void ide_pio_stop(IDEState *s)
{
    s->xfer = IDE_XFER_NONE;
    s->status &= ~ATA_DRQ;
}

void ide_set_signature(IDEState *s)
{
    s->select &= ~0x0f;
    s->nsector = s->sector = 1;
    if (s->kind == IDE_CD) {
        s->lcyl = 0x14;
        s->hcyl = 0xeb;
    } else {
        s->lcyl = s->hcyl = 0;
    }
}

bool ide_has_medium(IDEState *s)
{
    return s->blk && blk_is_inserted(s->blk) &&
           !(s->kind == IDE_CD && s->tray_open);
}

int64_t ide_disk_length(IDEState *s)
{
    return ide_has_medium(s) ? blk_getlength(s->blk) : -1;
}

/* ---- asynchronous disk I/O ---- */

typedef struct IDEReq {
    IDEState *s;
    unsigned gen;
    IDEAioOp op;
    bool write;                     /* flushes and TRIM count as writes */
    void *buf;
    struct iovec iov;
} IDEReq;

/*
 * A request failed: -drive rerror=/werror= decide, and the monitor hears
 * of it (BLOCK_IO_ERROR).  ignore: the command goes on as if the request
 * had worked (a read gives zeros).  stop: the VM stops (io-error), the
 * command stays in flight with BSY and its step is issued again when the
 * VM runs (ide_bus_restart), as after migration.  Returns the result to
 * go on with; *parked when the command waits for the VM.  A missing
 * medium is always the guest's to hear about.
 */
static int ide_io_error(IDEState *s, IDEReq *req, int ret, bool *parked)
{
    *parked = false;
    if (ret >= 0 || ret == -ENOMEDIUM || !s->blk) {
        return ret;
    }
    BlockErrorAction action = blk_get_error_action(s->blk, !req->write, -ret);
    blk_report_io_error(s->blk, !req->write, action, -ret);
    switch (action) {
    case BLOCK_ERROR_ACTION_IGNORE:
        if (!req->write && req->buf) {
            memset(req->buf, 0, req->iov.iov_len);
        }
        return 0;
    case BLOCK_ERROR_ACTION_STOP:
        s->aio_op = req->op;
        s->status |= ATA_BSY;
        *parked = true;
        qemu_system_vmstop_request(RUN_STATE_IO_ERROR);
        return ret;
    default:
        return ret;
    }
}

static void ide_aio_cb(void *opaque, int ret)
{
    IDEReq *req = opaque;
    IDEState *s = req->s;
    bool parked;

    /* A reset or a new command disowned the request: drop its result. */
    if (req->gen == s->gen && s->aio_inflight) {
        s->aio_inflight = false;
        s->aio_op = IDE_AIO_NONE;
        ret = ide_io_error(s, req, ret, &parked);
        if (parked) {
            /* Issued again when the VM runs. */
        } else if (req->op == IDE_AIO_DMA) {
            ide_dma_aio_done(s, ret, req->buf);
        } else if (req->op == IDE_AIO_ATAPI_READ) {
            if (ret >= 0) {
                memcpy(s->io_buffer + s->buf_end, req->buf,
                       s->block_sectors * CD_SECTOR_SIZE);
            }
            ide_atapi_aio_done(s, ret);
        } else {
            ide_ata_aio_done(s, req->op, ret, req->buf);
        }
    }
    g_free(req->buf);
    g_free(req);
}

static void ide_submit(IDEState *s, IDEAioOp op, bool write, uint64_t offset,
                       void *buf, size_t len)
{
    IDEReq *req = g_new0(IDEReq, 1);

    req->s = s;
    req->gen = s->gen;
    req->op = op;
    req->write = write || op == IDE_AIO_FLUSH;
    req->buf = buf;
    req->iov = (struct iovec) { .iov_base = buf, .iov_len = len };
    s->aio_op = op;
    s->aio_inflight = true;
    if (!ide_has_medium(s)) {
        ide_aio_cb(req, -ENOMEDIUM);
    } else if (op == IDE_AIO_FLUSH) {
        blk_aio_flush(s->blk, ide_aio_cb, req);
    } else if (op == IDE_AIO_TRIM) {
        blk_aio_trim(s->blk, offset, len, ide_aio_cb, req);
    } else if (write) {
        blk_aio_pwritev(s->blk, offset, &req->iov, 1, ide_aio_cb, req);
    } else {
        blk_aio_preadv(s->blk, offset, &req->iov, 1, ide_aio_cb, req);
    }
}

void ide_aio_issue(IDEState *s, IDEAioOp op)
{
    uint64_t off = s->lba * IDE_SECTOR_SIZE;
    size_t len = s->block_sectors * IDE_SECTOR_SIZE;

    switch (op) {
    case IDE_AIO_PIO_READ:
        ide_submit(s, op, false, off, g_malloc(len), len);
        break;
    case IDE_AIO_PIO_WRITE:
        ide_submit(s, op, true, off, g_memdup2(s->io_buffer, len), len);
        break;
    case IDE_AIO_VERIFY:
        len = MIN(s->remaining, IDE_VERIFY_CHUNK) * IDE_SECTOR_SIZE;
        ide_submit(s, op, false, off, g_malloc(len), len);
        break;
    case IDE_AIO_ATAPI_READ:
        len = s->block_sectors * CD_SECTOR_SIZE;
        ide_submit(s, op, false, s->lba * CD_SECTOR_SIZE, g_malloc(len), len);
        break;
    case IDE_AIO_FLUSH:
        ide_submit(s, op, false, 0, NULL, 0);
        break;
    case IDE_AIO_TRIM: {
        uint64_t lba;
        uint32_t count;
        ide_trim_range(s, s->data_ptr, &lba, &count);
        ide_submit(s, op, true, lba * IDE_SECTOR_SIZE, NULL,
                   (size_t)count * IDE_SECTOR_SIZE);
        break;
    }
    case IDE_AIO_DMA:
        ide_dma_run(s->bus);
        break;
    default:
        break;
    }
}

void ide_aio_submit_dma(IDEState *s, bool write, uint64_t offset, void *buf,
                        size_t len)
{
    ide_submit(s, IDE_AIO_DMA, write, offset, buf, len);
}

/*
 * Forget the command in progress; its request in flight is disowned.  The
 * bus master keeps its state: the guest stops it, or SRST does.
 */
static void ide_cancel(IDEState *s)
{
    s->gen++;
    s->aio_inflight = false;
    s->aio_op = IDE_AIO_NONE;
    s->dma_kind = IDE_DMA_NONE;
    s->dma_done = s->dma_total = 0;
    s->buf_end = s->data_ptr = s->data_end = 0;
    ide_pio_stop(s);
}

/* Re-issue the step a loaded state was waiting for (VM start). */
static void ide_aio_restart(IDEState *s)
{
    if (s->aio_op != IDE_AIO_NONE && !s->aio_inflight) {
        ide_aio_issue(s, s->aio_op);
    }
}

/* ---- register access ---- */

static uint32_t ide_data_read(IDEBus *bus, unsigned size)
{
    IDEState *s = &bus->ifs[bus->unit];
    uint32_t val = 0;

    if (!(s->status & ATA_DRQ) || s->xfer == IDE_XFER_NONE ||
        s->xfer == IDE_XFER_WRITE || s->xfer == IDE_XFER_PACKET) {
        log_guest_error("ide %s: data read without a data-in transfer",
                        bus->name);
        return 0;
    }
    unsigned n = MIN(size, s->data_end - s->data_ptr);
    memcpy(&val, s->io_buffer + s->data_ptr, n);
    s->data_ptr += n;
    if (s->data_ptr >= s->data_end) {
        IDEXfer xfer = s->xfer;
        ide_pio_stop(s);
        switch (xfer) {
        case IDE_XFER_READ:
            ide_ata_pio_done(s);
            break;
        case IDE_XFER_ATAPI_IN:
            ide_atapi_pio_done(s);
            break;
        default:
            s->status = ide_ready_status(s);
            break;
        }
    }
    return val;
}

static void ide_data_write(IDEBus *bus, uint32_t val, unsigned size)
{
    IDEState *s = &bus->ifs[bus->unit];

    if (!(s->status & ATA_DRQ) ||
        (s->xfer != IDE_XFER_WRITE && s->xfer != IDE_XFER_PACKET)) {
        log_guest_error("ide %s: data write without a data-out transfer",
                        bus->name);
        return;
    }
    unsigned n = MIN(size, s->data_end - s->data_ptr);
    memcpy(s->io_buffer + s->data_ptr, &val, n);
    s->data_ptr += n;
    if (s->data_ptr >= s->data_end) {
        IDEXfer xfer = s->xfer;
        ide_pio_stop(s);
        s->status |= ATA_BSY;
        if (xfer == IDE_XFER_PACKET) {
            ide_atapi_packet(s);
        } else {
            ide_ata_pio_done(s);
        }
    }
}

static uint8_t ide_reg_read(IDEBus *bus, unsigned reg)
{
    IDEState *s = &bus->ifs[bus->unit];
    bool hob = bus->devctl & ATA_CTL_HOB;

    /* An empty channel reads 0, which no probe mistakes for a device. */
    if (bus->ifs[0].kind == IDE_NONE && bus->ifs[1].kind == IDE_NONE) {
        return 0;
    }
    switch (reg) {
    case ATA_REG_ERROR:
        return s->error;
    case ATA_REG_NSECTOR:
        return hob ? s->hob_nsector : s->nsector;
    case ATA_REG_SECTOR:
        return hob ? s->hob_sector : s->sector;
    case ATA_REG_LCYL:
        return hob ? s->hob_lcyl : s->lcyl;
    case ATA_REG_HCYL:
        return hob ? s->hob_hcyl : s->hcyl;
    case ATA_REG_SELECT:
        return s->select;
    default:
        /* Device 0 answers 0 for an absent device 1. */
        if (s->kind == IDE_NONE) {
            return 0;
        }
        s->irq_pending = false;
        ide_update_irq(bus);
        return s->status;
    }
}

/* Resets and diagnostics end with device 0 selected. */
static void ide_select_dev0(IDEBus *bus)
{
    bus->unit = 0;
    bus->ifs[0].select &= ~ATA_DEV_DEV1;
    bus->ifs[1].select &= ~ATA_DEV_DEV1;
}

static void ide_exec_cmd(IDEBus *bus, uint8_t cmd)
{
    IDEState *s = &bus->ifs[bus->unit];

    if (s->kind == IDE_NONE) {
        log_guest_error("ide %s: command 0x%02x to absent device %d",
                        bus->name, cmd, bus->unit);
        return;
    }
    if ((s->status & ATA_BSY) &&
        !(s->kind == IDE_CD && cmd == WIN_DEVICE_RESET)) {
        log_guest_error("ide %s: command 0x%02x while busy, ignored",
                        bus->name, cmd);
        return;
    }
    ide_cancel(s);
    s->irq_pending = false;
    ide_update_irq(bus);
    s->cmd = cmd;
    s->error = 0;
    if (cmd == WIN_DIAGNOSE) {
        /* Both devices run it; device 0 reports. */
        for (int i = 0; i < 2; i++) {
            IDEState *d = &bus->ifs[i];
            if (d->kind != IDE_NONE) {
                ide_cancel(d);
                ide_set_signature(d);
                d->error = 0x01;
                d->status = d->kind == IDE_CD ? 0 : ide_ready_status(d);
            }
        }
        ide_select_dev0(bus);
        if (bus->ifs[0].kind != IDE_NONE) {
            ide_set_irq(&bus->ifs[0]);
        }
        return;
    }
    s->status = ide_ready_status(s) | ATA_BSY;
    ide_ata_command(s, cmd);
}

static void ide_reg_write(IDEBus *bus, unsigned reg, uint8_t val)
{
    if (reg == ATA_REG_CMD) {
        ide_exec_cmd(bus, val);
        return;
    }
    if (bus->ifs[bus->unit].status & ATA_BSY) {
        log_guest_error("ide %s: register %u written while busy, ignored",
                        bus->name, reg);
        return;
    }
    bus->devctl &= ~ATA_CTL_HOB;
    /* Both devices latch the taskfile. */
    for (int i = 0; i < 2; i++) {
        IDEState *s = &bus->ifs[i];
        switch (reg) {
        case ATA_REG_FEATURE:
            s->hob_feature = s->feature;
            s->feature = val;
            break;
        case ATA_REG_NSECTOR:
            s->hob_nsector = s->nsector;
            s->nsector = val;
            break;
        case ATA_REG_SECTOR:
            s->hob_sector = s->sector;
            s->sector = val;
            break;
        case ATA_REG_LCYL:
            s->hob_lcyl = s->lcyl;
            s->lcyl = val;
            break;
        case ATA_REG_HCYL:
            s->hob_hcyl = s->hcyl;
            s->hcyl = val;
            break;
        case ATA_REG_SELECT:
            s->select = val;
            break;
        }
    }
    if (reg == ATA_REG_SELECT) {
        bus->unit = (val & ATA_DEV_DEV1) ? 1 : 0;
        ide_update_irq(bus);
    }
}

static uint64_t ide_cmd_io_read(void *opaque, uint64_t addr, unsigned size)
{
    IDEBus *bus = opaque;
    uint32_t val = 0;

    if (addr == ATA_REG_DATA) {
        if (bus->ifs[0].kind == IDE_NONE && bus->ifs[1].kind == IDE_NONE) {
            return 0;
        }
        return ide_data_read(bus, size);
    }
    for (unsigned i = 0; i < size && addr + i < 8; i++) {
        val |= (uint32_t)ide_reg_read(bus, addr + i) << (i * 8);
    }
    return val;
}

static void ide_cmd_io_write(void *opaque, uint64_t addr, uint64_t val,
                             unsigned size)
{
    IDEBus *bus = opaque;

    if (addr == ATA_REG_DATA) {
        ide_data_write(bus, val, size);
        return;
    }
    for (unsigned i = 0; i < size && addr + i < 8; i++) {
        ide_reg_write(bus, addr + i, val >> (i * 8));
    }
}

static const MemoryRegionOps ide_cmd_ops = {
    .read = ide_cmd_io_read,
    .write = ide_cmd_io_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

/* Software reset: SRST set puts both devices in BSY, SRST cleared ends it. */
static void ide_ctl_write(IDEBus *bus, uint8_t val)
{
    bool was = bus->devctl & ATA_CTL_SRST, now = val & ATA_CTL_SRST;

    for (int i = 0; i < 2 && was != now; i++) {
        IDEState *s = &bus->ifs[i];
        if (s->kind == IDE_NONE) {
            continue;
        }
        if (now) {
            ide_cancel(s);
            s->irq_pending = false;
            s->status = ATA_BSY;
        } else {
            ide_set_signature(s);
            s->error = 0x01;
            s->status = s->kind == IDE_CD ? 0 : ide_ready_status(s);
        }
    }
    if (!was && now) {
        ide_select_dev0(bus);
        bus->bm_status &= ~BM_STATUS_ACTIVE;
    }
    bus->devctl = val;
    ide_update_irq(bus);
}

static uint64_t ide_ctl_io_read(void *opaque, uint64_t addr, unsigned size)
{
    IDEBus *bus = opaque;
    IDEState *s = &bus->ifs[bus->unit];

    /* Alternate status: the status without acknowledging the interrupt. */
    return s->kind == IDE_NONE ? 0 : s->status;
}

static void ide_ctl_io_write(void *opaque, uint64_t addr, uint64_t val,
                             unsigned size)
{
    ide_ctl_write(opaque, val);
}

static const MemoryRegionOps ide_ctl_ops = {
    .read = ide_ctl_io_read,
    .write = ide_ctl_io_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
};

/* ---- channel setup, reset and state ---- */

void ide_bus_init(IDEBus *bus, int index, PCIDevice *pci, qemu_irq irq)
{
    bus->index = index;
    bus->name = index ? "ide.1" : "ide.0";
    bus->pci = pci;
    bus->irq = irq;
    for (int i = 0; i < 2; i++) {
        bus->ifs[i].bus = bus;
        bus->ifs[i].unit = i;
    }
    memory_region_init_io(&bus->cmd_io, &ide_cmd_ops, bus,
                          index ? "ide1-cmd" : "ide0-cmd", 8);
    memory_region_init_io(&bus->ctl_io, &ide_ctl_ops, bus,
                          index ? "ide1-ctl" : "ide0-ctl", 1);
}

/* Power-on state of a device (machine reset). */
void ide_drive_reset(IDEState *s)
{
    ide_cancel(s);
    s->feature = s->hob_feature = 0;
    s->hob_nsector = s->hob_sector = s->hob_lcyl = s->hob_hcyl = 0;
    s->select = 0xa0;
    s->irq_pending = false;
    s->cmd = 0;
    s->lba48 = false;
    s->lba = 0;
    s->remaining = s->block_sectors = 0;
    s->sense_key = s->asc = s->ascq = 0;
    s->unit_attention = false;
    s->media_event = 0;
    s->tray_locked = false;
    s->byte_limit = 0;
    s->atapi_dma = false;
    ide_drive_defaults(s);
    ide_set_signature(s);
    s->error = 0x01;
    s->status = s->kind == IDE_HD ? ide_ready_status(s) : 0;
}

void ide_bus_reset(IDEBus *bus)
{
    ide_dma_cancel(bus);
    for (int i = 0; i < 2; i++) {
        ide_drive_reset(&bus->ifs[i]);
    }
    bus->unit = 0;
    bus->devctl = 0;
    bus->bm_cmd = bus->bm_status = 0;
    bus->bm_prd = 0;
    bus->dma_unit = 0;
    ide_update_irq(bus);
}

void ide_bus_restart(IDEBus *bus)
{
    for (int i = 0; i < 2; i++) {
        if (bus->ifs[i].blk) {
            blk_iostatus_reset(bus->ifs[i].blk);    /* as QEMU's cont */
        }
        ide_aio_restart(&bus->ifs[i]);
    }
}

/*
 * Saved state that a device could not have reached is refused; pre_save
 * folds any in-memory state into that shape (a no-op for a running
 * device), so that random states in the state tests encode validly.
 */
static bool ide_drive_check(IDEState *s, bool fix)
{
    bool ok = true;
#define CHECK(cond, repair) do { \
        if (!(cond)) { ok = false; if (fix) { repair; } } } while (0)

    CHECK(s->xfer < IDE_XFER_MAX, s->xfer = IDE_XFER_NONE);
    CHECK(s->aio_op < IDE_AIO_MAX, s->aio_op = IDE_AIO_NONE);
    CHECK(s->dma_kind < IDE_DMA_MAX, s->dma_kind = IDE_DMA_NONE);
    CHECK(s->kind != IDE_NONE || (s->xfer == IDE_XFER_NONE &&
          s->aio_op == IDE_AIO_NONE && s->dma_kind == IDE_DMA_NONE),
          s->xfer = s->aio_op = s->dma_kind = 0);
    CHECK(ide_has_medium(s) || s->aio_op == IDE_AIO_NONE,
          s->aio_op = IDE_AIO_NONE);
    CHECK(s->aio_op != IDE_AIO_DMA || s->dma_kind != IDE_DMA_NONE,
          s->aio_op = IDE_AIO_NONE);
    CHECK(s->buf_end <= IDE_BUF_SIZE, s->buf_end = IDE_BUF_SIZE);
    CHECK(s->data_end <= IDE_BUF_SIZE, s->data_end = IDE_BUF_SIZE);
    CHECK(s->data_ptr <= s->data_end, s->data_ptr = s->data_end);
    CHECK(s->block_sectors * (s->kind == IDE_CD ? CD_SECTOR_SIZE :
                              IDE_SECTOR_SIZE) <= IDE_BUF_SIZE,
          s->block_sectors = 1);
    CHECK(s->aio_op != IDE_AIO_ATAPI_READ || s->buf_end +
          (uint64_t)s->block_sectors * CD_SECTOR_SIZE <= IDE_BUF_SIZE,
          s->buf_end = 0; s->block_sectors = 1);
    bool moving = s->xfer == IDE_XFER_READ || s->xfer == IDE_XFER_WRITE ||
                  s->aio_op == IDE_AIO_PIO_READ ||
                  s->aio_op == IDE_AIO_PIO_WRITE ||
                  s->aio_op == IDE_AIO_ATAPI_READ;
    CHECK(!moving || (s->block_sectors && s->block_sectors <= s->remaining),
          s->xfer = s->aio_op = 0);
    CHECK(s->mult_sectors <= IDE_MAX_MULT &&
          !(s->mult_sectors & (s->mult_sectors - 1)), s->mult_sectors = 0);
    CHECK(s->cur_heads <= 16 && s->cur_sectors <= 255,
          s->cur_heads = 16; s->cur_sectors = 63);
    CHECK(s->dma_done <= s->dma_total, s->dma_done = s->dma_total);
    CHECK(s->dma_kind != IDE_DMA_ATAPI_BUF || s->dma_total <= s->buf_end,
          s->dma_total = s->buf_end; s->dma_done = MIN(s->dma_done,
                                                       s->dma_total));
    CHECK(s->dma_kind != IDE_DMA_ATA_TRIM || s->dma_total <= IDE_BUF_SIZE,
          s->dma_kind = IDE_DMA_NONE; s->aio_op = IDE_AIO_NONE);
    /* TRIM walks the range list in io_buffer[0, data_end) by data_ptr. */
    CHECK(s->aio_op != IDE_AIO_TRIM ||
          (s->data_ptr % 8 == 0 && s->data_ptr < s->data_end),
          s->aio_op = IDE_AIO_NONE);
    CHECK(s->sense_key <= 0xf, s->sense_key &= 0xf);
#undef CHECK
    return ok;
}

static int ide_drive_pre_save(void *opaque)
{
    ide_drive_check(opaque, true);
    return 0;
}

static int ide_drive_post_load(void *opaque, int version_id, Error **errp)
{
    IDEState *s = opaque;

    if (!ide_drive_check(s, false)) {
        error_setg(errp, "ide %s device %d: inconsistent transfer state",
                   s->bus->name, s->unit);
        return -1;
    }
    /* Whatever was in flight here belongs to the old state. */
    s->gen++;
    s->aio_inflight = false;
    if (s->kind == IDE_HD && s->blk) {
        blk_set_enable_write_cache(s->blk, s->write_cache);
    }
    return 0;
}

static bool ide_drive_pio_needed(void *opaque)
{
    IDEState *s = opaque;
    return s->xfer != IDE_XFER_NONE || s->aio_op != IDE_AIO_NONE ||
           s->dma_kind != IDE_DMA_NONE;
}

static const VMStateDescription vmstate_ide_drive_pio = {
    .name = "ide_drive/pio_state",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = ide_drive_pio_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_BUFFER(io_buffer, IDEState),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription *const ide_drive_subsections[] = {
    &vmstate_ide_drive_pio, NULL,
};

const VMStateDescription vmstate_ide_drive = {
    .name = "ide_drive",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = ide_drive_pre_save,
    .post_load = ide_drive_post_load,
    .subsections = ide_drive_subsections,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(feature, IDEState),
        VMSTATE_UINT8(hob_feature, IDEState),
        VMSTATE_UINT8(nsector, IDEState),
        VMSTATE_UINT8(hob_nsector, IDEState),
        VMSTATE_UINT8(sector, IDEState),
        VMSTATE_UINT8(hob_sector, IDEState),
        VMSTATE_UINT8(lcyl, IDEState),
        VMSTATE_UINT8(hob_lcyl, IDEState),
        VMSTATE_UINT8(hcyl, IDEState),
        VMSTATE_UINT8(hob_hcyl, IDEState),
        VMSTATE_UINT8(select, IDEState),
        VMSTATE_UINT8(status, IDEState),
        VMSTATE_UINT8(error, IDEState),
        VMSTATE_BOOL(irq_pending, IDEState),
        VMSTATE_FIELD_MAX(mult_sectors, IDEState, VMS_UINT8, IDE_MAX_MULT),
        VMSTATE_FIELD_MAX(cur_heads, IDEState, VMS_UINT16, 16),
        VMSTATE_FIELD_MAX(cur_sectors, IDEState, VMS_UINT16, 255),
        VMSTATE_BOOL(write_cache, IDEState),
        VMSTATE_UINT8(pio_mode, IDEState),
        VMSTATE_UINT8(mwdma_mode, IDEState),
        VMSTATE_UINT8(udma_mode, IDEState),
        VMSTATE_UINT8(cmd, IDEState),
        VMSTATE_BOOL(lba48, IDEState),
        VMSTATE_UINT64(lba, IDEState),
        VMSTATE_UINT32(remaining, IDEState),
        VMSTATE_FIELD_MAX(block_sectors, IDEState, VMS_UINT32, IDE_MAX_MULT),
        VMSTATE_FIELD_MAX(xfer, IDEState, VMS_UINT8, IDE_XFER_MAX - 1),
        VMSTATE_FIELD_MAX(aio_op, IDEState, VMS_UINT8, IDE_AIO_MAX - 1),
        VMSTATE_FIELD_MAX(dma_kind, IDEState, VMS_UINT8, IDE_DMA_MAX - 1),
        VMSTATE_UINT32(dma_done, IDEState),
        VMSTATE_UINT32(dma_total, IDEState),
        VMSTATE_FIELD_MAX(data_ptr, IDEState, VMS_UINT32, IDE_BUF_SIZE),
        VMSTATE_FIELD_MAX(data_end, IDEState, VMS_UINT32, IDE_BUF_SIZE),
        VMSTATE_FIELD_MAX(buf_end, IDEState, VMS_UINT32, IDE_BUF_SIZE),
        VMSTATE_FIELD_MAX(sense_key, IDEState, VMS_UINT8, 0xf),
        VMSTATE_UINT8(asc, IDEState),
        VMSTATE_UINT8(ascq, IDEState),
        VMSTATE_BOOL(unit_attention, IDEState),
        VMSTATE_BOOL(tray_open, IDEState),
        VMSTATE_BOOL(tray_locked, IDEState),
        VMSTATE_UINT8(media_event, IDEState),
        VMSTATE_UINT16(byte_limit, IDEState),
        VMSTATE_BOOL(atapi_dma, IDEState),
        VMSTATE_END_OF_LIST()
    },
};

static int ide_bus_post_load(void *opaque, int version_id, Error **errp)
{
    IDEBus *bus = opaque;

    bus->irq_level = !bus->irq_level;   /* force the line to be driven */
    ide_update_irq(bus);
    return 0;
}

const VMStateDescription vmstate_ide_bus = {
    .name = "ide_bus",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = ide_bus_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_FIELD_MAX(unit, IDEBus, VMS_UINT8, 1),
        VMSTATE_UINT8(devctl, IDEBus),
        VMSTATE_UINT8(bm_cmd, IDEBus),
        VMSTATE_UINT8(bm_status, IDEBus),
        VMSTATE_UINT32(bm_prd, IDEBus),
        VMSTATE_UINT32(dma.prd, IDEBus),
        VMSTATE_UINT32(dma.off, IDEBus),
        VMSTATE_BOOL(dma.end, IDEBus),
        VMSTATE_FIELD_MAX(dma_unit, IDEBus, VMS_UINT8, 1),
        VMSTATE_STRUCT_ARRAY(ifs, IDEBus, 2, vmstate_ide_drive, IDEState),
        VMSTATE_END_OF_LIST()
    },
};
