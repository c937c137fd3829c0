/*
 * ATAPI CD-ROM: the PACKET protocol (ATA/ATAPI-6 PACKET feature set) and
 * the MMC commands a firmware or an OS needs, with tray, lock and media
 * change (UNIT ATTENTION, GET EVENT STATUS NOTIFICATION).
 */
#include "ide-internal.h"
#include "block/block.h"
#include "hw/block/mmc.h"
#include "util/byteorder.h"

void (*ide_tray_moved_hook)(IDEState *s, bool open);

static uint32_t cd_sectors(IDEState *s)
{
    int64_t len = ide_disk_length(s);
    return len > 0 ? MIN(len / CD_SECTOR_SIZE, UINT32_MAX) : 0;
}

static void atapi_end(IDEState *s, uint8_t status)
{
    s->status = status;
    s->nsector = ATAPI_IR_IO | ATAPI_IR_COD;
    s->dma_kind = IDE_DMA_NONE;
    s->remaining = 0;
    ide_set_irq(s);
}

static void atapi_ok(IDEState *s)
{
    s->error = 0;
    atapi_end(s, ATA_DRDY | ATA_DSC);
}

static void atapi_fail(IDEState *s, uint8_t key, uint8_t asc, uint8_t ascq)
{
    s->sense_key = key;
    s->asc = asc;
    s->ascq = ascq;
    s->error = key << 4 | (key == SENSE_ILLEGAL_REQUEST ? ATA_ABRT : 0);
    atapi_end(s, ATA_DRDY | ATA_DSC | ATA_ERR);
}

static void atapi_no_medium(IDEState *s)
{
    atapi_fail(s, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT,
               s->tray_open ? 0x02 : 0x01);
}

static void atapi_bad_field(IDEState *s)
{
    atapi_fail(s, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CDB, 0);
}

/*
 * Next DRQ chunk of a PIO data-in, a buffer refill, or the end.  What is
 * left in the buffer is kept and more sectors read behind it, so that each
 * chunk is as large as the limit allows while the command has data left:
 * hosts (QEMU's tests among them) read whole chunks of the limit.
 */
void ide_atapi_pio_done(IDEState *s)
{
    uint32_t avail = s->buf_end > s->data_ptr ? s->buf_end - s->data_ptr : 0;
    uint32_t limit = s->byte_limit ? s->byte_limit : 0xfffe;
    uint32_t room = (IDE_BUF_SIZE - avail) / CD_SECTOR_SIZE;

    /* Chunks are even except the last; the limit is at least 2. */
    limit = MAX(limit & ~1u, 2);
    if (s->remaining && avail < limit && room) {
        memmove(s->io_buffer, s->io_buffer + s->data_ptr, avail);
        s->block_sectors = MIN(s->remaining, room);
        s->buf_end = avail;
        s->data_ptr = s->data_end = 0;
        s->status = ATA_DRDY | ATA_BSY;
        ide_aio_issue(s, IDE_AIO_ATAPI_READ);
        return;
    }
    if (!avail) {
        atapi_ok(s);
        return;
    }
    uint32_t n = MIN(avail, limit);
    s->lcyl = n;
    s->hcyl = n >> 8;
    s->nsector = ATAPI_IR_IO;
    s->data_end = s->data_ptr + n;
    s->xfer = IDE_XFER_ATAPI_IN;
    s->status = ATA_DRDY | ATA_DSC | ATA_DRQ;
    ide_set_irq(s);
}

void ide_atapi_aio_done(IDEState *s, int ret)
{
    if (ret < 0) {
        log_guest_error("ide %s device %d: CD read error %d", s->bus->name,
                        s->unit, ret);
        if (ret == -ENOMEDIUM) {
            atapi_no_medium(s);
        } else {
            atapi_fail(s, SENSE_MEDIUM_ERROR, 0x11, 0);  /* unrecovered */
        }
        return;
    }
    s->buf_end += s->block_sectors * CD_SECTOR_SIZE;
    s->lba += s->block_sectors;
    s->remaining -= s->block_sectors;
    ide_atapi_pio_done(s);
}

void ide_atapi_dma_done(IDEState *s, int ret)
{
    if (ret < 0) {
        ide_atapi_aio_done(s, ret);
    } else {
        atapi_ok(s);
    }
}

/* Send the first len bytes of io_buffer, cut to the allocation length. */
static void atapi_reply(IDEState *s, uint32_t len, uint32_t alloc)
{
    len = MIN(len, alloc);
    s->buf_end = len;
    s->data_ptr = s->data_end = 0;
    s->remaining = 0;
    if (len && s->atapi_dma) {
        s->nsector = ATAPI_IR_IO;
        ide_dma_begin(s, IDE_DMA_ATAPI_BUF, len);
    } else {
        ide_atapi_pio_done(s);
    }
}

static void atapi_read(IDEState *s, uint32_t lba, uint32_t n)
{
    uint32_t total = cd_sectors(s);

    if (lba > total || n > total - lba) {
        atapi_fail(s, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    if (n > UINT32_MAX / CD_SECTOR_SIZE) {
        atapi_bad_field(s);
        return;
    }
    s->lba = lba;
    s->remaining = n;
    s->buf_end = s->data_ptr = s->data_end = 0;
    if (n && s->atapi_dma) {
        s->nsector = ATAPI_IR_IO;
        ide_dma_begin(s, IDE_DMA_ATAPI_READ, n * CD_SECTOR_SIZE);
    } else {
        ide_atapi_pio_done(s);
    }
}

static uint32_t mode_pages(IDEState *s, uint8_t *p, int page, bool changeable)
{
    uint8_t *start = p;

    if (page == 0x01 || page == 0x3f) {         /* read error recovery */
        memset(p, 0, 12);
        p[0] = 0x01;
        p[1] = 10;
        p[3] = changeable ? 0 : 5;              /* read retry count */
        p += 12;
    }
    if (page == 0x2a || page == 0x3f) {         /* capabilities */
        memset(p, 0, 20);
        p[0] = 0x2a;
        p[1] = 18;
        if (!changeable) {
            p[2] = 0x08;                        /* reads DVD-ROM */
            p[4] = 0x70;                        /* mode 2, multi-session */
            /* Tray, eject, lock (and whether it is locked now). */
            p[6] = 0x20 | 0x08 | 0x01 | (s->tray_locked ? 0x02 : 0);
            st_be16(p + 8, 706);                   /* 4x, KB/s */
            st_be16(p + 12, 512);                  /* buffer KB */
            st_be16(p + 14, 706);
        }
        p += 20;
    }
    return p - start;
}

static void atapi_mode_sense(IDEState *s, const uint8_t *cdb)
{
    int pc = cdb[2] >> 6, page = cdb[2] & 0x3f;
    uint8_t *buf = s->io_buffer;

    if (pc == 3) {
        atapi_fail(s, SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
        return;
    }
    memset(buf, 0, 8);
    uint32_t len = 8 + mode_pages(s, buf + 8, page, pc == 1);
    if (len == 8) {
        atapi_bad_field(s);
        return;
    }
    st_be16(buf, len - 2);
    atapi_reply(s, len, ld_be16(cdb + 7));
}

static void atapi_read_toc(IDEState *s, const uint8_t *cdb)
{
    int len = mmc_read_toc(cdb, cd_sectors(s), s->io_buffer);

    if (len < 0) {
        atapi_bad_field(s);
        return;
    }
    atapi_reply(s, len, ld_be16(cdb + 7));
}

static void atapi_get_configuration(IDEState *s, const uint8_t *cdb)
{
    int len = mmc_get_configuration(cdb, ide_has_medium(s), cd_sectors(s),
                                    MMC_INTERFACE_ATAPI, s->io_buffer);

    if (len < 0) {
        atapi_bad_field(s);
        return;
    }
    atapi_reply(s, len, ld_be16(cdb + 7));
}

static void atapi_event_status(IDEState *s, const uint8_t *cdb)
{
    int len = mmc_event_status(cdb, ide_has_medium(s), s->tray_open,
                               &s->media_event, s->io_buffer);

    if (len < 0) {
        atapi_bad_field(s);
        return;
    }
    atapi_reply(s, len, ld_be16(cdb + 7));
}

static void atapi_start_stop(IDEState *s, const uint8_t *cdb)
{
    bool start = cdb[4] & 1, loej = cdb[4] & 2;

    if (loej && !start) {
        if (s->tray_locked) {
            atapi_fail(s, SENSE_ILLEGAL_REQUEST,
                       ASC_MEDIUM_REMOVAL_PREVENTED, 0x02);
            return;
        }
        if (!s->tray_open && blk_is_inserted(s->blk)) {
            s->media_event = MEC_MEDIA_REMOVAL;
        }
        if (!s->tray_open) {
            s->tray_open = true;
            ide_tray_moved(s, true);
        }
    } else if (loej && s->tray_open) {
        s->tray_open = false;
        ide_tray_moved(s, false);
        if (ide_has_medium(s)) {
            s->media_event = MEC_NEW_MEDIA;
            s->unit_attention = true;
        }
    }
    atapi_ok(s);
}

static void atapi_inquiry(IDEState *s, const uint8_t *cdb)
{
    uint8_t *buf = s->io_buffer;

    if (cdb[1] & 1) {                           /* no vital product data */
        atapi_bad_field(s);
        return;
    }
    memset(buf, ' ', 36);
    buf[0] = 0x05;                              /* CD/DVD device */
    buf[1] = 0x80;                              /* removable */
    buf[2] = 0x00;
    buf[3] = 0x21;                              /* ATAPI, format 1 */
    buf[4] = 31;
    buf[5] = buf[6] = buf[7] = 0;
    memcpy(buf + 8, "QEMU", 4);
    memcpy(buf + 16, s->model, MIN(strlen(s->model), 16));
    memcpy(buf + 32, s->version, MIN(strlen(s->version), 4));
    atapi_reply(s, 36, ld_be16(cdb + 3));
}

static void atapi_request_sense(IDEState *s, const uint8_t *cdb)
{
    uint8_t *buf = s->io_buffer;

    if (s->unit_attention) {
        s->unit_attention = false;
        s->sense_key = SENSE_UNIT_ATTENTION;
        s->asc = ASC_MEDIUM_MAY_HAVE_CHANGED;
        s->ascq = 0;
    }
    memset(buf, 0, 18);
    buf[0] = 0x70;                              /* current, fixed format */
    buf[2] = s->sense_key;
    buf[7] = 10;
    buf[12] = s->asc;
    buf[13] = s->ascq;
    s->sense_key = s->asc = s->ascq = 0;
    atapi_reply(s, 18, cdb[4]);
}

/* Commands that work without a medium and do not report UNIT ATTENTION. */
static bool atapi_no_ua(uint8_t op)
{
    return op == GPCMD_INQUIRY || op == GPCMD_REQUEST_SENSE ||
           op == GPCMD_GET_CONFIGURATION || op == GPCMD_GET_EVENT_STATUS;
}

static bool atapi_needs_medium(uint8_t op)
{
    switch (op) {
    case GPCMD_TEST_UNIT_READY: case GPCMD_READ_CAPACITY:
    case GPCMD_READ_10: case GPCMD_READ_12: case GPCMD_SEEK_10:
    case GPCMD_READ_TOC_PMA_ATIP: case GPCMD_READ_DISC_INFO:
        return true;
    }
    return false;
}

/* The 12-byte packet arrived in io_buffer. */
void ide_atapi_packet(IDEState *s)
{
    uint8_t cdb[ATAPI_PACKET_SIZE], *buf = s->io_buffer;
    uint8_t op = s->io_buffer[0];

    memcpy(cdb, s->io_buffer, sizeof(cdb));
    s->status = ATA_DRDY | ATA_BSY;
    if (op != GPCMD_REQUEST_SENSE) {
        s->sense_key = s->asc = s->ascq = 0;
    }
    if (s->unit_attention && !atapi_no_ua(op)) {
        s->unit_attention = false;
        atapi_fail(s, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED, 0);
        return;
    }
    if (atapi_needs_medium(op) && !ide_has_medium(s)) {
        atapi_no_medium(s);
        return;
    }
    switch (op) {
    case GPCMD_TEST_UNIT_READY:
    case GPCMD_SEEK_10:
    case GPCMD_SET_CD_SPEED:
        atapi_ok(s);
        break;
    case GPCMD_REQUEST_SENSE:
        atapi_request_sense(s, cdb);
        break;
    case GPCMD_INQUIRY:
        atapi_inquiry(s, cdb);
        break;
    case GPCMD_READ_CAPACITY:
        st_be32(buf, cd_sectors(s) - 1);
        st_be32(buf + 4, CD_SECTOR_SIZE);
        atapi_reply(s, 8, 8);
        break;
    case GPCMD_READ_10:
        atapi_read(s, ld_be32(cdb + 2), ld_be16(cdb + 7));
        break;
    case GPCMD_READ_12:
        atapi_read(s, ld_be32(cdb + 2), ld_be32(cdb + 6));
        break;
    case GPCMD_MODE_SENSE_10:
        atapi_mode_sense(s, cdb);
        break;
    case GPCMD_READ_TOC_PMA_ATIP:
        atapi_read_toc(s, cdb);
        break;
    case GPCMD_GET_CONFIGURATION:
        atapi_get_configuration(s, cdb);
        break;
    case GPCMD_GET_EVENT_STATUS:
        atapi_event_status(s, cdb);
        break;
    case GPCMD_START_STOP_UNIT:
        atapi_start_stop(s, cdb);
        break;
    case GPCMD_PREVENT_ALLOW:
        s->tray_locked = cdb[4] & 1;
        atapi_ok(s);
        break;
    case GPCMD_MECHANISM_STATUS:
        memset(buf, 0, 8);
        buf[1] = s->tray_open ? 0x10 : 0;
        atapi_reply(s, 8, ld_be16(cdb + 8));
        break;
    case GPCMD_READ_DISC_INFO:
        memset(buf, 0, 34);
        st_be16(buf, 32);
        buf[2] = 0x0e;              /* complete disc, complete session */
        buf[3] = buf[4] = buf[5] = buf[6] = 1;
        atapi_reply(s, 34, ld_be16(cdb + 7));
        break;
    default:
        log_guest_error("ide %s device %d: ATAPI command 0x%02x not supported",
                        s->bus->name, s->unit, op);
        atapi_fail(s, SENSE_ILLEGAL_REQUEST, ASC_INV_OPCODE, 0);
        break;
    }
}

/* ---- media change from the monitor ---- */

/* The command in progress loses its medium: end it as the drive would. */
/*
 * The medium went away: a command still reading from it fails NOT READY.
 * A packet still arriving, or reply data already buffered (REQUEST SENSE,
 * INQUIRY, the last chunk of a read), completes: the command either has
 * not started or no longer needs the disc.
 */
static void atapi_medium_gone(IDEState *s)
{
    if (s->aio_op != IDE_AIO_NONE || s->dma_kind != IDE_DMA_NONE ||
        (s->xfer == IDE_XFER_ATAPI_IN && s->remaining)) {
        s->gen++;
        s->aio_inflight = false;
        s->aio_op = IDE_AIO_NONE;
        ide_pio_stop(s);
        if (s->bus->dma_unit == s->unit) {
            ide_dma_cancel(s->bus);
        }
        atapi_no_medium(s);
    }
}

bool ide_cd_eject(IDEState *s, bool force, Error **errp)
{
    if (s->tray_locked && !force) {
        s->media_event = MEC_EJECT_REQUEST;     /* ask the guest */
        error_setg(errp, "Device '%s' is locked and force was not specified, "
                   "wait for tray to open and try again", ide_drive_name(s));
        return false;
    }
    blk_drain(s->blk);
    atapi_medium_gone(s);
    if (ide_has_medium(s)) {
        s->media_event = MEC_MEDIA_REMOVAL;
    }
    if (!s->tray_open) {
        s->tray_open = true;
        ide_tray_moved(s, true);
    }
    s->tray_locked = false;
    blk_eject(s->blk);
    s->nb_sectors = 0;
    return true;
}

/* drive_del took the disc out from under the closed tray (the block
 * layer drained first): as in QEMU, no unit attention, just no medium. */
void ide_cd_medium_removed(IDEState *s)
{
    atapi_medium_gone(s);
    if (s->nb_sectors) {
        s->media_event = MEC_MEDIA_REMOVAL;
    }
    s->nb_sectors = 0;
}

bool ide_cd_change(IDEState *s, const BlockOpenOptions *opts, Error **errp)
{
    if (s->tray_locked) {
        s->media_event = MEC_EJECT_REQUEST;
        error_setg(errp, "Device '%s' is locked and force was not specified, "
                   "wait for tray to open and try again", ide_drive_name(s));
        return false;
    }
    blk_drain(s->blk);
    if (!blk_insert_medium(s->blk, opts, errp)) {
        return false;
    }
    atapi_medium_gone(s);
    int64_t len = blk_getlength(s->blk);
    s->nb_sectors = len > 0 ? len / IDE_SECTOR_SIZE : 0;
    if (!s->tray_open) {
        ide_tray_moved(s, true);
    }
    s->tray_open = false;
    ide_tray_moved(s, false);
    s->unit_attention = true;
    s->media_event = MEC_NEW_MEDIA;
    return true;
}
