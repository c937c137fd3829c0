/*
 * ATAPI CD-ROM: the PACKET protocol (ATA/ATAPI-6 PACKET feature set) and
 * the MMC commands a firmware or an OS needs, with tray, lock and media
 * change (UNIT ATTENTION, GET EVENT STATUS NOTIFICATION).
 */
#include "ide-internal.h"
#include "block/block.h"

void (*ide_tray_moved_hook)(IDEState *s, bool open);

/* GET EVENT STATUS NOTIFICATION media event codes. */
#define MEC_NO_CHANGE       0
#define MEC_EJECT_REQUEST   1
#define MEC_NEW_MEDIA       2
#define MEC_MEDIA_REMOVAL   3

#define CD_MAX_SECTORS      (80 * 60 * 75)  /* 80 min: beyond that, DVD */

static inline uint16_t be16(const uint8_t *p) { return p[0] << 8 | p[1]; }
static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}
static inline void st16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static inline void st32(uint8_t *p, uint32_t v)
{
    st16(p, v >> 16);
    st16(p + 2, v);
}

static uint32_t cd_sectors(IDEState *s)
{
    int64_t len = ide_disk_length(s);
    return len > 0 ? MIN(len / CD_SECTOR_SIZE, UINT32_MAX) : 0;
}

/* An LBA as MSF (2 s lead-in) or big-endian LBA, 4 bytes. */
static void put_addr(uint8_t *p, uint32_t lba, bool msf)
{
    if (msf) {
        lba += 150;
        p[0] = 0;
        p[1] = lba / (75 * 60);
        p[2] = lba / 75 % 60;
        p[3] = lba % 75;
    } else {
        st32(p, lba);
    }
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
            st16(p + 8, 706);                   /* 4x, KB/s */
            st16(p + 12, 512);                  /* buffer KB */
            st16(p + 14, 706);
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
    st16(buf, len - 2);
    atapi_reply(s, len, be16(cdb + 7));
}

static void atapi_read_toc(IDEState *s, const uint8_t *cdb)
{
    bool msf = cdb[1] & 2;
    int format = cdb[2] & 0x0f, track = cdb[6];
    uint32_t total = cd_sectors(s);
    uint8_t *buf = s->io_buffer, *p = buf + 4;

    if (!format) {
        format = cdb[9] >> 6;                   /* SFF-8020 placement */
    }
    memset(buf, 0, 64);
    buf[2] = buf[3] = 1;                        /* first, last track/session */
    switch (format) {
    case 0:                                     /* TOC */
        if (track > 1 && track != 0xaa) {
            atapi_bad_field(s);
            return;
        }
        if (track <= 1) {
            p[1] = 0x14;                        /* ADR 1, data track */
            p[2] = 1;
            put_addr(p + 4, 0, msf);
            p += 8;
        }
        p[1] = 0x14;
        p[2] = 0xaa;                            /* lead-out */
        put_addr(p + 4, total, msf);
        p += 8;
        break;
    case 1:                                     /* session information */
        p[1] = 0x14;
        p[2] = 1;
        put_addr(p + 4, 0, msf);
        p += 8;
        break;
    case 2: {                                   /* full TOC, always MSF */
        static const uint8_t points[4] = { 0xa0, 0xa1, 0xa2, 1 };
        for (int i = 0; i < 4; i++, p += 11) {
            p[0] = 1;                           /* session */
            p[1] = 0x14;
            p[3] = points[i];
            if (points[i] == 0xa0 || points[i] == 0xa1) {
                p[8] = 1;                       /* first / last track */
            } else {
                put_addr(p + 7, points[i] == 0xa2 ? total : 0, true);
            }
        }
        break;
    }
    default:
        atapi_bad_field(s);
        return;
    }
    st16(buf, p - buf - 2);
    atapi_reply(s, p - buf, be16(cdb + 7));
}

static uint8_t *add_feature(uint8_t *p, uint16_t code, bool current,
                            uint8_t len)
{
    memset(p, 0, 4 + len);
    st16(p, code);
    p[2] = current ? 0x03 : 0x02;               /* persistent, current */
    p[3] = len;
    return p + 4;
}

static void atapi_get_configuration(IDEState *s, const uint8_t *cdb)
{
    int rt = cdb[1] & 3, start = be16(cdb + 2);
    uint32_t total = cd_sectors(s);
    uint16_t profile = !ide_has_medium(s) ? 0 :
                       total > CD_MAX_SECTORS ? 0x0010 : 0x0008;
    uint8_t *buf = s->io_buffer, *p = buf + 8;
    static const uint16_t codes[] = { 0x0000, 0x0001, 0x0003, 0x0010 };

    if (rt == 3) {
        atapi_bad_field(s);
        return;
    }
    memset(buf, 0, 8);
    st16(buf + 6, profile);
    for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
        uint16_t code = codes[i];
        bool current = code != 0x0010 || profile;
        if (code < start || (rt == 2 && code != start) ||
            (rt == 1 && !current)) {
            continue;
        }
        uint8_t *d;
        switch (code) {
        case 0x0000:                            /* profile list */
            d = add_feature(p, code, true, 8);
            st16(d, 0x0010);                    /* DVD-ROM */
            d[2] = profile == 0x0010;
            st16(d + 4, 0x0008);                /* CD-ROM */
            d[6] = profile == 0x0008;
            p = d + 8;
            break;
        case 0x0001:                            /* core: ATAPI */
            d = add_feature(p, code, true, 8);
            st32(d, 2);
            p = d + 8;
            break;
        case 0x0003:                            /* removable medium */
            d = add_feature(p, code, true, 4);
            d[0] = 0x20 | 0x08 | 0x01;          /* tray, eject, lock */
            p = d + 4;
            break;
        default:                                /* random readable */
            d = add_feature(p, code, current, 8);
            p[2] &= ~0x02;                      /* not persistent */
            st32(d, CD_SECTOR_SIZE);
            st16(d + 4, 1);
            p = d + 8;
            break;
        }
    }
    st32(buf, p - buf - 4);
    atapi_reply(s, p - buf, be16(cdb + 7));
}

static void atapi_event_status(IDEState *s, const uint8_t *cdb)
{
    uint8_t *buf = s->io_buffer;
    uint32_t len = 4;

    if (!(cdb[1] & 1)) {                        /* only polled operation */
        atapi_bad_field(s);
        return;
    }
    memset(buf, 0, 8);
    buf[3] = 0x10;                              /* supports: media class */
    if (cdb[4] & 0x10) {
        st16(buf, 6);
        buf[2] = 4;                             /* media class */
        buf[4] = s->media_event;
        buf[5] = (ide_has_medium(s) ? 0x02 : 0) | (s->tray_open ? 0x01 : 0);
        s->media_event = MEC_NO_CHANGE;
        len = 8;
    } else {
        st16(buf, 2);
        buf[2] = 0x80;                          /* no event available */
    }
    atapi_reply(s, len, be16(cdb + 7));
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
    atapi_reply(s, 36, be16(cdb + 3));
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
        st32(buf, cd_sectors(s) - 1);
        st32(buf + 4, CD_SECTOR_SIZE);
        atapi_reply(s, 8, 8);
        break;
    case GPCMD_READ_10:
        atapi_read(s, be32(cdb + 2), be16(cdb + 7));
        break;
    case GPCMD_READ_12:
        atapi_read(s, be32(cdb + 2), be32(cdb + 6));
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
        atapi_reply(s, 8, be16(cdb + 8));
        break;
    case GPCMD_READ_DISC_INFO:
        memset(buf, 0, 34);
        st16(buf, 32);
        buf[2] = 0x0e;              /* complete disc, complete session */
        buf[3] = buf[4] = buf[5] = buf[6] = 1;
        atapi_reply(s, 34, be16(cdb + 7));
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
