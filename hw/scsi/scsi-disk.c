/*
 * scsi-hd and scsi-cd: a disk (SBC-3, 512-byte or larger logical blocks,
 * thin provisioned: UNMAP and WRITE SAME) and a CD/DVD-ROM drive (MMC-5,
 * 2048-byte blocks, a tray that opens and locks) on a SCSI bus, reading
 * and writing their drive through the asynchronous block layer straight
 * from and into guest memory.  Commands outside the table below end in
 * CHECK CONDITION, ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE; writes
 * to the CD-ROM in DATA PROTECT, as QEMU's do.  Both may be hotplugged.
 */
#include "hw/scsi/scsi.h"
#include "block/block_int.h"            /* iov_slice */
#include "block/drive.h"
#include "hw/block/mmc.h"

#define CD_BLOCK_SIZE       MMC_BLOCK_SIZE
#define HD_BLOCK_SIZE       512

/*
 * Thin provisioning limits (Block Limits VPD page): one WRITE SAME or
 * UNMAP covers at most 1 GiB, an UNMAP at most 255 ranges; WRITE SAME
 * with data other than zeros writes 1 MiB at a time.
 */
#define LBP_MAX_BYTES       (1 * GiB)
#define UNMAP_MAX_DESCS     255
#define WRITE_SAME_CHUNK    (1 * MiB)

typedef struct SCSIDiskState {
    SCSIDevice parent_obj;
    bool is_cd;
    uint32_t block_size;
    uint32_t logical_block_size, physical_block_size;  /* scsi-hd */
    bool owns_blk;              /* the empty drive of a CD-ROM without one */
    bool tray_open, tray_locked;
    uint8_t media_event;
} SCSIDiskState;

/* Which device types take an opcode, and whether it needs a medium. */
enum { OP_HD = 1, OP_CD = 2, OP_MEDIUM = 4 };
#define OP_BOTH (OP_HD | OP_CD)
static const uint8_t op_flags[256] = {
    [0x00] = OP_BOTH | OP_MEDIUM,       /* TEST UNIT READY */
    [0x08] = OP_BOTH | OP_MEDIUM,       /* READ(6) */
    [0x0a] = OP_BOTH | OP_MEDIUM,       /* WRITE(6) */
    [0x12] = OP_BOTH,                   /* INQUIRY */
    [0x1a] = OP_BOTH,                   /* MODE SENSE(6) */
    [0x1b] = OP_BOTH,                   /* START STOP UNIT */
    [0x1e] = OP_BOTH,                   /* PREVENT ALLOW MEDIUM REMOVAL */
    [0x25] = OP_BOTH | OP_MEDIUM,       /* READ CAPACITY(10) */
    [0x28] = OP_BOTH | OP_MEDIUM,       /* READ(10) */
    [0x2a] = OP_BOTH | OP_MEDIUM,       /* WRITE(10) */
    [0x2b] = OP_BOTH | OP_MEDIUM,       /* SEEK(10) */
    [0x35] = OP_HD | OP_MEDIUM,         /* SYNCHRONIZE CACHE(10) */
    [0x41] = OP_HD | OP_MEDIUM,         /* WRITE SAME(10) */
    [0x42] = OP_HD | OP_MEDIUM,         /* UNMAP */
    [0x43] = OP_CD | OP_MEDIUM,         /* READ TOC/PMA/ATIP */
    [0x46] = OP_CD,                     /* GET CONFIGURATION */
    [0x4a] = OP_CD,                     /* GET EVENT STATUS NOTIFICATION */
    [0x51] = OP_CD | OP_MEDIUM,         /* READ DISC INFORMATION */
    [0x5a] = OP_BOTH,                   /* MODE SENSE(10) */
    [0x88] = OP_BOTH | OP_MEDIUM,       /* READ(16) */
    [0x8a] = OP_BOTH | OP_MEDIUM,       /* WRITE(16) */
    [0x91] = OP_HD | OP_MEDIUM,         /* SYNCHRONIZE CACHE(16) */
    [0x93] = OP_HD | OP_MEDIUM,         /* WRITE SAME(16) */
    [0x9e] = OP_BOTH | OP_MEDIUM,       /* SERVICE ACTION IN(16) */
    [0xa8] = OP_BOTH | OP_MEDIUM,       /* READ(12) */
    [0xaa] = OP_BOTH | OP_MEDIUM,       /* WRITE(12) */
    [0xbb] = OP_CD,                     /* SET CD SPEED */
    [0xbd] = OP_CD,                     /* MECHANISM STATUS */
};

static bool has_medium(SCSIDiskState *d)
{
    return blk_is_inserted(d->parent_obj.blk) && !d->tray_open;
}

static uint64_t nb_blocks(SCSIDiskState *d)
{
    int64_t len = has_medium(d) ? blk_getlength(d->parent_obj.blk) : 0;
    return len > 0 ? len / d->block_size : 0;
}

/* Blocks one WRITE SAME or UNMAP may cover. */
static uint32_t lbp_max_blocks(SCSIDiskState *d)
{
    return LBP_MAX_BYTES / d->block_size;
}

/* Unmapped blocks read back as zeros: trims are done (discard=unmap). */
static bool lbprz(SCSIDiskState *d)
{
    return blk_discard_unmaps(d->parent_obj.blk);
}

/* Logical blocks per physical block. */
static uint32_t blocks_per_physical(SCSIDiskState *d)
{
    return d->is_cd ? 1 : d->physical_block_size / d->logical_block_size;
}

/* ---- data transfer ---- */

static void rw_done(void *opaque, int ret)
{
    SCSIRequest *req = opaque;

    if (ret < 0) {
        log_guest_error("scsi %u:%u: I/O error %d", req->target, req->lun,
                        ret);
        scsi_req_fail(req, ret == -ENOMEDIUM ? SENSE_NO_MEDIUM :
                      req->to_dev ? SENSE_IO_ERROR : SENSE_READ_ERROR);
        return;
    }
    scsi_req_ok(req);
}

static void disk_rw(SCSIDiskState *d, SCSIRequest *req, uint64_t lba,
                    uint32_t count, bool write)
{
    BlockBackend *blk = d->parent_obj.blk;
    uint64_t blocks = nb_blocks(d), bytes = (uint64_t)count * d->block_size;

    if (lba > blocks || count > blocks - lba) {
        scsi_req_fail(req, SENSE_LBA_OUT_OF_RANGE);
        return;
    }
    if (!count) {
        scsi_req_ok(req);
        return;
    }
    if (write && (d->is_cd || blk_is_read_only(blk))) {
        scsi_req_fail(req, SENSE_WRITE_PROTECTED);
        return;
    }
    if (req->to_dev != write || req->size < bytes) {
        scsi_req_overrun(req);
        return;
    }
    struct iovec *iov = g_new(struct iovec, req->niov);
    int n = iov_slice(iov, req->iov, req->niov, 0, bytes);
    req->xfer = bytes;
    if (write) {
        blk_aio_pwritev(blk, lba * d->block_size, iov, n, rw_done, req);
    } else {
        blk_aio_preadv(blk, lba * d->block_size, iov, n, rw_done, req);
    }
    g_free(iov);                        /* the block layer keeps a copy */
}

/* A flush, a zero write or a trim ended. */
static void io_done(void *opaque, int ret)
{
    SCSIRequest *req = opaque;

    if (ret < 0) {
        scsi_req_fail(req, SENSE_IO_ERROR);
    } else {
        scsi_req_ok(req);
    }
}

/* ---- thin provisioning (SBC-3): WRITE SAME, UNMAP ---- */

static bool range_ok(SCSIDiskState *d, SCSIRequest *req, uint64_t lba,
                     uint64_t count)
{
    uint64_t blocks = nb_blocks(d);

    if (lba > blocks || count > blocks - lba) {
        scsi_req_fail(req, SENSE_LBA_OUT_OF_RANGE);
        return false;
    }
    return true;
}

static bool writable(SCSIDiskState *d, SCSIRequest *req)
{
    if (blk_is_read_only(d->parent_obj.blk)) {
        scsi_req_fail(req, SENSE_WRITE_PROTECTED);
        return false;
    }
    return true;
}

typedef struct WriteSame {
    SCSIRequest *req;
    BlockBackend *blk;
    uint8_t *buf;               /* the block, repeated */
    size_t buf_len;
    int64_t offset, remaining;
} WriteSame;

/* The next piece of a patterned WRITE SAME, or its end. */
static void write_same_next(void *opaque, int ret)
{
    WriteSame *ws = opaque;
    size_t n = MIN(ws->remaining, (int64_t)ws->buf_len);
    struct iovec iov = { .iov_base = ws->buf, .iov_len = n };

    if (ret < 0 || !ws->remaining) {
        io_done(ws->req, ret);          /* an I/O error, or GOOD */
        g_free(ws->buf);
        g_free(ws);
        return;
    }
    ws->offset += n;
    ws->remaining -= n;
    blk_aio_pwritev(ws->blk, ws->offset - n, &iov, 1, write_same_next, ws);
}

/*
 * WRITE SAME(10)/(16): one block from the data-out buffer (or zeros with
 * NDOB, which QEMU's tests send in WRITE SAME(10) too, where the bit is
 * otherwise obsolete) written over a range.  Zeros become a zero write,
 * which with the UNMAP bit also gives the space back if the drive has
 * discard=unmap.
 */
static void disk_write_same(SCSIDiskState *d, SCSIRequest *req)
{
    const uint8_t *cdb = req->cdb;
    bool ws16 = cdb[0] == 0x93, ndob = cdb[1] & 0x01, unmap = cdb[1] & 0x08;
    uint64_t lba = ws16 ? ld_be64(cdb + 2) : ld_be32(cdb + 2);
    uint32_t count = ws16 ? ld_be32(cdb + 10) : ld_be16(cdb + 7);
    BlockBackend *blk = d->parent_obj.blk;
    uint32_t bs = d->block_size;
    int64_t bytes = (int64_t)count * bs;

    /* ANCHOR is not supported (ANC_SUP 0); WSNZ: a count of 0 is refused. */
    if ((cdb[1] & 0x10) || !count || count > lbp_max_blocks(d)) {
        scsi_req_fail(req, SENSE_INVALID_FIELD);
        return;
    }
    if (!range_ok(d, req, lba, count) || !writable(d, req)) {
        return;
    }
    if (!ndob && (!req->to_dev || req->size < bs)) {
        scsi_req_overrun(req);
        return;
    }
    g_autofree uint8_t *block = g_malloc0(bs);
    if (!ndob) {
        iov_to_buf(req->iov, req->niov, 0, block, bs);
        req->xfer = bs;
    }
    if (buffer_is_zero(block, bs)) {
        /* a trim reads back as zeros only with discard=unmap */
        (unmap && blk_discard_unmaps(blk) ? blk_aio_trim
                                          : blk_aio_pwrite_zeroes)(
            blk, lba * bs, bytes, io_done, req);
        return;
    }
    WriteSame *ws = g_new(WriteSame, 1);
    *ws = (WriteSame) {
        .req = req, .blk = blk, .offset = lba * bs, .remaining = bytes,
        .buf_len = MIN(bytes, (int64_t)MAX(bs, WRITE_SAME_CHUNK)),
    };
    ws->buf = g_malloc(ws->buf_len);
    for (size_t off = 0; off < ws->buf_len; off += bs) {
        memcpy(ws->buf + off, block, bs);
    }
    write_same_next(ws, 0);
}

typedef struct Unmap {
    SCSIRequest *req;
    unsigned pending;
    int ret;
} Unmap;

static void unmap_done(void *opaque, int ret)
{
    Unmap *u = opaque;

    if (ret < 0 && !u->ret) {
        u->ret = ret;
    }
    if (!--u->pending) {
        io_done(u->req, u->ret);
        g_free(u);
    }
}

/*
 * UNMAP: a parameter list of an 8-byte header and 16-byte block
 * descriptors (LBA, count).  Every range is checked before any is
 * trimmed; with the drive's discard=unmap they then read back as zeros
 * (LBPRZ), with discard=ignore (the default) nothing changes.
 */
static void disk_unmap(SCSIDiskState *d, SCSIRequest *req)
{
    uint16_t len = ld_be16(req->cdb + 7);
    uint64_t total = 0;

    if (req->cdb[1] & 0x01) {                   /* ANCHOR */
        scsi_req_fail(req, SENSE_INVALID_FIELD);
        return;
    }
    if (!writable(d, req)) {
        return;
    }
    if (!len) {
        scsi_req_ok(req);                       /* nothing to do */
        return;
    }
    if (len < 8) {
        scsi_req_fail(req, SENSE_PARAM_LIST_LENGTH);
        return;
    }
    if (!req->to_dev || req->size < len) {
        scsi_req_overrun(req);
        return;
    }
    g_autofree uint8_t *list = g_malloc(len);
    iov_to_buf(req->iov, req->niov, 0, list, len);
    req->xfer = len;
    /* Lengths that claim more than was sent; a partial last descriptor
     * is ignored. */
    if (ld_be16(list) + 2u > len || ld_be16(list + 2) + 8u > len) {
        scsi_req_fail(req, SENSE_PARAM_LIST_LENGTH);
        return;
    }
    unsigned n = ld_be16(list + 2) / 16;
    if (n > UNMAP_MAX_DESCS) {
        scsi_req_fail(req, SENSE_INVALID_PARAM);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *desc = list + 8 + 16 * i;
        if (!range_ok(d, req, ld_be64(desc), ld_be32(desc + 8))) {
            return;
        }
        total += ld_be32(desc + 8);
    }
    if (total > lbp_max_blocks(d)) {
        scsi_req_fail(req, SENSE_INVALID_PARAM);
        return;
    }
    Unmap *u = g_new0(Unmap, 1);
    u->req = req;
    u->pending = 1;                     /* until every range is issued */
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *desc = list + 8 + 16 * i;
        if (ld_be32(desc + 8)) {
            u->pending++;
            blk_aio_trim(d->parent_obj.blk, ld_be64(desc) * d->block_size,
                         (int64_t)ld_be32(desc + 8) * d->block_size,
                         unmap_done, u);
        }
    }
    unmap_done(u, 0);
}

/* ---- INQUIRY ---- */

static size_t pad_copy(uint8_t *dst, const char *src, size_t len)
{
    size_t n = MIN(strlen(src), len);
    memset(dst, ' ', len);
    memcpy(dst, src, n);
    return len;
}

static const char *device_name(SCSIDevice *dev)
{
    DriveInfo *di = dev->blk ? drive_get_by_blk(dev->blk) : NULL;

    return dev->parent_obj.id ? dev->parent_obj.id :
           di && di->id ? di->id : dev->parent_obj.klass->name;
}

static void disk_inquiry(SCSIDiskState *d, SCSIRequest *req)
{
    SCSIDevice *dev = &d->parent_obj;
    const uint8_t *cdb = req->cdb;
    uint8_t buf[256] = { 0 };
    size_t len;

    if (cdb[1] & 2 || (!(cdb[1] & 1) && cdb[2])) {  /* CmdDt; page w/o EVPD */
        scsi_req_fail(req, SENSE_INVALID_FIELD);
        return;
    }
    buf[0] = d->is_cd ? 0x05 : 0x00;    /* peripheral device type */
    if (!(cdb[1] & 1)) {
        buf[1] = d->is_cd ? 0x80 : 0;   /* removable */
        buf[2] = 5;                     /* SPC-3 */
        buf[3] = 0x12;                  /* HiSup, response format 2 */
        buf[4] = 36 - 5;
        buf[7] = 0x02;                  /* CmdQue */
        pad_copy(buf + 8, dev->vendor, 8);
        pad_copy(buf + 16, dev->product ? dev->product :
                 d->is_cd ? "QEMU CD-ROM" : "QEMU HARDDISK", 16);
        pad_copy(buf + 32, dev->version, 4);
        scsi_req_reply(req, buf, 36, ld_be16(cdb + 3));
        return;
    }
    buf[1] = cdb[2];
    switch (cdb[2]) {
    case 0x00:                          /* supported pages */
        len = 4;
        buf[len++] = 0x00;
        if (dev->serial) {
            buf[len++] = 0x80;
        }
        buf[len++] = 0x83;
        if (!d->is_cd) {
            buf[len++] = 0xb0;
            buf[len++] = 0xb2;
        }
        break;
    case 0x80:                          /* unit serial number */
        if (!dev->serial) {
            scsi_req_fail(req, SENSE_INVALID_FIELD);
            return;
        }
        len = 4 + pad_copy(buf + 4, dev->serial, MIN(strlen(dev->serial),
                                                     sizeof(buf) - 4));
        break;
    case 0x83: {                        /* device identification */
        const char *name = device_name(dev);
        size_t n = MIN(strlen(name), sizeof(buf) - 8);
        buf[4] = 0x02;                  /* ASCII */
        buf[5] = 0x00;                  /* logical unit, vendor specific */
        buf[7] = n;
        memcpy(buf + 8, name, n);
        len = 8 + n;
        break;
    }
    case 0xb0:                          /* block limits (SBC-3 6.5.3) */
        if (d->is_cd) {
            scsi_req_fail(req, SENSE_INVALID_FIELD);
            return;
        }
        buf[4] = 0x01;                  /* WSNZ: WRITE SAME needs a count */
        st_be16(buf + 6, blocks_per_physical(d));   /* transfer granule */
        st_be32(buf + 20, lbp_max_blocks(d));       /* UNMAP: blocks */
        st_be32(buf + 24, UNMAP_MAX_DESCS);         /* ... and ranges */
        st_be32(buf + 28, blocks_per_physical(d));  /* unmap granule */
        st_be64(buf + 36, lbp_max_blocks(d));       /* WRITE SAME */
        len = 64;
        break;
    case 0xb2:                          /* logical block provisioning */
        if (d->is_cd) {
            scsi_req_fail(req, SENSE_INVALID_FIELD);
            return;
        }
        buf[5] = 0x80 | 0x40 | 0x20;    /* LBPU, LBPWS, LBPWS10 */
        buf[5] |= lbprz(d) ? 0x04 : 0;
        buf[6] = 0x02;                  /* thin provisioned */
        len = 8;
        break;
    default:
        scsi_req_fail(req, SENSE_INVALID_FIELD);
        return;
    }
    st_be16(buf + 2, len - 4);
    scsi_req_reply(req, buf, len, ld_be16(cdb + 3));
}

/* ---- MODE SENSE ---- */

static uint8_t *mode_page(uint8_t *p, uint8_t code, uint8_t len)
{
    memset(p, 0, len + 2);
    p[0] = code;
    p[1] = len;
    return p;
}

/* The pages page asks for (0x3f: all) at p; returns their length. */
static size_t mode_pages(SCSIDiskState *d, uint8_t *p, int page)
{
    uint8_t *start = p;
    bool all = page == 0x3f;

    if (d->is_cd && (all || page == 0x01)) {    /* read error recovery */
        p = mode_page(p, 0x01, 10);
        p[3] = 5;                               /* read retry count */
        p += 12;
    }
    if (!d->is_cd && (all || page == 0x04)) {   /* rigid disk geometry */
        uint64_t cyls = MIN(nb_blocks(d) / (16 * 63), 0xffffff);
        p = mode_page(p, 0x04, 22);
        p[2] = cyls >> 16;
        p[3] = cyls >> 8;
        p[4] = cyls;
        p[5] = 16;                              /* heads */
        st_be16(p + 20, 5400);                  /* rotation rate */
        p += 24;
    }
    if (!d->is_cd && (all || page == 0x08)) {   /* caching */
        p = mode_page(p, 0x08, 18);
        p[2] = blk_enable_write_cache(d->parent_obj.blk) ? 0x04 : 0;
        p += 20;
    }
    if (d->is_cd && (all || page == 0x2a)) {    /* capabilities */
        p = mode_page(p, 0x2a, 18);
        p[2] = 0x08;                            /* reads DVD-ROM */
        p[4] = 0x70;                            /* mode 2, multi-session */
        p[6] = 0x20 | 0x08 | 0x01 | (d->tray_locked ? 0x02 : 0);
        st_be16(p + 8, 706);                    /* 4x, KB/s */
        st_be16(p + 12, 512);                   /* buffer KB */
        st_be16(p + 14, 706);
        p += 20;
    }
    return p - start;
}

static void disk_mode_sense(SCSIDiskState *d, SCSIRequest *req)
{
    const uint8_t *cdb = req->cdb;
    bool ten = cdb[0] == 0x5a, dbd = cdb[1] & 0x08;
    int pc = cdb[2] >> 6, page = cdb[2] & 0x3f;
    size_t hdr = ten ? 8 : 4, bd = 0;
    uint8_t buf[256] = { 0 }, *p = buf + hdr;

    if (pc == 3) {
        scsi_req_fail(req, SENSE_SAVING_NOT_SUPPORTED);
        return;
    }
    if (!dbd && has_medium(d)) {                /* block descriptor */
        uint64_t blocks = MIN(nb_blocks(d), 0xffffff);
        p[1] = blocks >> 16;
        p[2] = blocks >> 8;
        p[3] = blocks;
        p[5] = d->block_size >> 16;
        p[6] = d->block_size >> 8;
        p[7] = d->block_size;
        bd = 8;
        p += 8;
    }
    size_t pages = mode_pages(d, p, page);
    if (!pages || cdb[3]) {                     /* no such page, subpage */
        scsi_req_fail(req, SENSE_INVALID_FIELD);
        return;
    }
    if (pc == 1) {                              /* changeable: nothing */
        for (uint8_t *q = p; q < p + pages; q += q[1] + 2) {
            memset(q + 2, 0, q[1]);
        }
    }
    size_t len = hdr + bd + pages;
    uint8_t dev_spec = !d->is_cd && blk_is_read_only(d->parent_obj.blk) ?
                       0x80 : 0;                /* write protected */
    if (ten) {
        st_be16(buf, len - 2);
        buf[3] = dev_spec;
        st_be16(buf + 6, bd);
        scsi_req_reply(req, buf, len, ld_be16(cdb + 7));
    } else {
        buf[0] = len - 1;
        buf[2] = dev_spec;
        buf[3] = bd;
        scsi_req_reply(req, buf, len, cdb[4]);
    }
}

/* ---- MMC: the CD-ROM's own commands ---- */

static uint32_t cd_blocks(SCSIDiskState *d)
{
    return MIN(nb_blocks(d), UINT32_MAX);
}

/* The reply of an MMC builder (hw/block/mmc.h), or INVALID FIELD. */
static void cd_reply(SCSIRequest *req, const uint8_t *buf, int len)
{
    if (len < 0) {
        scsi_req_fail(req, SENSE_INVALID_FIELD);
        return;
    }
    scsi_req_reply(req, buf, len, ld_be16(req->cdb + 7));
}

static void cd_read_toc(SCSIDiskState *d, SCSIRequest *req)
{
    uint8_t buf[MMC_TOC_BUF_SIZE];
    cd_reply(req, buf, mmc_read_toc(req->cdb, cd_blocks(d), buf));
}

static void cd_get_configuration(SCSIDiskState *d, SCSIRequest *req)
{
    uint8_t buf[MMC_CONFIG_BUF_SIZE];
    cd_reply(req, buf, mmc_get_configuration(req->cdb, has_medium(d),
                                             cd_blocks(d),
                                             MMC_INTERFACE_SCSI, buf));
}

static void cd_event_status(SCSIDiskState *d, SCSIRequest *req)
{
    uint8_t buf[MMC_EVENT_BUF_SIZE];
    cd_reply(req, buf, mmc_event_status(req->cdb, has_medium(d),
                                        d->tray_open, &d->media_event, buf));
}

static void cd_start_stop(SCSIDiskState *d, SCSIRequest *req)
{
    bool start = req->cdb[4] & 1, loej = req->cdb[4] & 2;
    bool inserted = blk_is_inserted(d->parent_obj.blk);

    if (loej && !start && !d->tray_open) {
        if (d->tray_locked) {
            scsi_req_fail(req, SENSE_REMOVAL_PREVENTED);
            return;
        }
        d->tray_open = true;
        if (inserted) {
            d->media_event = MEC_MEDIA_REMOVAL;
        }
    } else if (loej && start && d->tray_open) {
        d->tray_open = false;
        if (inserted) {
            d->media_event = MEC_NEW_MEDIA;
            d->parent_obj.unit_attention = SENSE_MEDIUM_CHANGED;
        }
    }
    scsi_req_ok(req);
}

/* ---- dispatch ---- */

static void disk_execute(SCSIDevice *dev, SCSIRequest *req)
{
    SCSIDiskState *d = (SCSIDiskState *)dev;
    const uint8_t *cdb = req->cdb;
    uint8_t op = cdb[0], flags = op_flags[op], buf[34] = { 0 };
    uint64_t blocks = nb_blocks(d);

    if (!(flags & (d->is_cd ? OP_CD : OP_HD))) {
        log_guest_error("scsi %u:%u: command 0x%02x not supported",
                        req->target, req->lun, op);
        scsi_req_fail(req, SENSE_INVALID_OPCODE);
        return;
    }
    if ((flags & OP_MEDIUM) && !has_medium(d)) {
        scsi_req_fail(req, d->tray_open ? SENSE_NO_MEDIUM_TRAY_OPEN
                                        : SENSE_NO_MEDIUM);
        return;
    }
    switch (op) {
    case 0x00:                                  /* TEST UNIT READY */
    case 0x2b:                                  /* SEEK(10) */
    case 0xbb:                                  /* SET CD SPEED */
        scsi_req_ok(req);
        break;
    case 0x12:
        disk_inquiry(d, req);
        break;
    case 0x1a:
    case 0x5a:
        disk_mode_sense(d, req);
        break;
    case 0x1b:
        if (d->is_cd) {
            cd_start_stop(d, req);
        } else {
            scsi_req_ok(req);
        }
        break;
    case 0x1e:
        d->tray_locked = d->is_cd && (cdb[4] & 1);
        scsi_req_ok(req);
        break;
    case 0x25:                                  /* READ CAPACITY(10) */
        st_be32(buf, MIN(blocks - 1, UINT32_MAX));
        st_be32(buf + 4, d->block_size);
        scsi_req_reply(req, buf, 8, 8);
        break;
    case 0x9e:                                  /* READ CAPACITY(16) */
        if ((cdb[1] & 0x1f) != 0x10) {
            scsi_req_fail(req, SENSE_INVALID_FIELD);
            break;
        }
        st_be64(buf, blocks - 1);
        st_be32(buf + 8, d->block_size);
        buf[13] = __builtin_ctz(blocks_per_physical(d));
        if (!d->is_cd) {
            buf[14] = 0x80 | (lbprz(d) ? 0x40 : 0);     /* LBPME */
        }
        scsi_req_reply(req, buf, 32, ld_be32(cdb + 10));
        break;
    case 0x08:
    case 0x0a:                                  /* READ/WRITE(6) */
        disk_rw(d, req, ld_be32(cdb) & 0x1fffff, cdb[4] ? cdb[4] : 256,
                op == 0x0a);
        break;
    case 0x28:
    case 0x2a:                                  /* READ/WRITE(10) */
        disk_rw(d, req, ld_be32(cdb + 2), ld_be16(cdb + 7), op == 0x2a);
        break;
    case 0xa8:
    case 0xaa:                                  /* READ/WRITE(12) */
        disk_rw(d, req, ld_be32(cdb + 2), ld_be32(cdb + 6), op == 0xaa);
        break;
    case 0x88:
    case 0x8a:                                  /* READ/WRITE(16) */
        disk_rw(d, req, ld_be64(cdb + 2), ld_be32(cdb + 10), op == 0x8a);
        break;
    case 0x35:
    case 0x91:                                  /* SYNCHRONIZE CACHE */
        blk_aio_flush(dev->blk, io_done, req);
        break;
    case 0x41:
    case 0x93:
        disk_write_same(d, req);
        break;
    case 0x42:
        disk_unmap(d, req);
        break;
    case 0x43:
        cd_read_toc(d, req);
        break;
    case 0x46:
        cd_get_configuration(d, req);
        break;
    case 0x4a:
        cd_event_status(d, req);
        break;
    case 0x51:                                  /* READ DISC INFORMATION */
        if (cdb[1] & 7) {
            scsi_req_fail(req, SENSE_INVALID_FIELD);
            break;
        }
        st_be16(buf, 32);
        buf[2] = 0x0e;                  /* complete disc, complete session */
        buf[3] = buf[4] = buf[5] = buf[6] = 1;
        scsi_req_reply(req, buf, 34, ld_be16(cdb + 7));
        break;
    case 0xbd:                                  /* MECHANISM STATUS */
        buf[1] = d->tray_open ? 0x10 : 0;
        scsi_req_reply(req, buf, 8, ld_be16(cdb + 8));
        break;
    }
}

/* ---- devices ---- */

static bool disk_realize(DeviceState *ds, bool is_cd, Error **errp)
{
    SCSIDiskState *d = (SCSIDiskState *)ds;
    SCSIDevice *dev = &d->parent_obj;

    if (!dev->blk && !is_cd) {
        return error_fail(errp, "drive property not set");
    }
    if (!is_cd && !blk_is_inserted(dev->blk)) {
        return error_fail(errp, "a SCSI disk needs a drive with a medium");
    }
    if (!is_cd && d->logical_block_size > d->physical_block_size) {
        return error_fail(errp, "logical_block_size > physical_block_size "
                          "not supported");
    }
    d->is_cd = is_cd;
    d->block_size = is_cd ? CD_BLOCK_SIZE : d->logical_block_size;
    dev->execute = disk_execute;
    if (!scsi_device_attach(dev, errp)) {
        return false;
    }
    if (!dev->blk) {
        dev->blk = blk_new_empty();     /* a CD-ROM drive without a disc */
        d->owns_blk = true;
    }
    return true;
}

/* device_del: commands in flight finish, then the unit leaves its bus. */
static void disk_unrealize(DeviceState *ds)
{
    SCSIDiskState *d = (SCSIDiskState *)ds;
    SCSIDevice *dev = &d->parent_obj;

    blk_drain(dev->blk);
    scsi_device_detach(dev);
    if (d->owns_blk) {
        blk_unref(dev->blk);
        dev->blk = NULL;
    }
}

static bool scsi_hd_realize(DeviceState *ds, Error **errp)
{
    return disk_realize(ds, false, errp);
}

static bool scsi_cd_realize(DeviceState *ds, Error **errp)
{
    return disk_realize(ds, true, errp);
}

static void disk_reset(DeviceState *ds)
{
    SCSIDiskState *d = (SCSIDiskState *)ds;

    scsi_device_reset(&d->parent_obj);
    d->tray_locked = false;
    d->media_event = MEC_NO_CHANGE;
}

#define DEV_PROP(_f) parent_obj._f
#define DISK_PROPS \
    DEFINE_PROP_DRIVE("drive", SCSIDiskState, DEV_PROP(blk)), \
    DEFINE_PROP_STRING("bus", SCSIDiskState, DEV_PROP(bus_name)), \
    DEFINE_PROP_UINT32("channel", SCSIDiskState, DEV_PROP(channel), 0), \
    DEFINE_PROP_UINT32("scsi-id", SCSIDiskState, DEV_PROP(scsi_id), \
                       SCSI_ID_AUTO), \
    DEFINE_PROP_UINT32("lun", SCSIDiskState, DEV_PROP(lun), 0), \
    DEFINE_PROP_STRING("serial", SCSIDiskState, DEV_PROP(serial)), \
    { .name = "vendor", .type = PROP_STRING, .defstr = "QEMU", \
      .offset = offsetof(SCSIDiskState, DEV_PROP(vendor)) }, \
    DEFINE_PROP_STRING("product", SCSIDiskState, DEV_PROP(product)), \
    { .name = "ver", .type = PROP_STRING, .defstr = "2.5+", \
      .offset = offsetof(SCSIDiskState, DEV_PROP(version)) }

static const Property hd_props[] = {
    DISK_PROPS,
    DEFINE_PROP_BLOCKSIZE("logical_block_size", SCSIDiskState,
                          logical_block_size, HD_BLOCK_SIZE),
    DEFINE_PROP_BLOCKSIZE("physical_block_size", SCSIDiskState,
                          physical_block_size, HD_BLOCK_SIZE),
    DEFINE_PROP_END_OF_LIST(),
};

static const Property cd_props[] = {
    DISK_PROPS,
    DEFINE_PROP_END_OF_LIST(),
};

static const VMStateDescription vmstate_scsi_disk = {
    .name = "scsi-disk",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(parent_obj.unit_attention.key, SCSIDiskState),
        VMSTATE_UINT8(parent_obj.unit_attention.asc, SCSIDiskState),
        VMSTATE_UINT8(parent_obj.unit_attention.ascq, SCSIDiskState),
        VMSTATE_UINT8(parent_obj.sense.key, SCSIDiskState),
        VMSTATE_UINT8(parent_obj.sense.asc, SCSIDiskState),
        VMSTATE_UINT8(parent_obj.sense.ascq, SCSIDiskState),
        VMSTATE_BOOL(tray_open, SCSIDiskState),
        VMSTATE_BOOL(tray_locked, SCSIDiskState),
        VMSTATE_FIELD_MAX(media_event, SCSIDiskState, VMS_UINT8,
                          MEC_MEDIA_REMOVAL),
        VMSTATE_END_OF_LIST()
    },
};

static const DeviceClass scsi_hd_class = {
    .name = "scsi-hd",
    .desc = "virtual SCSI disk",
    .bus = BUS_SYSTEM,
    .instance_size = sizeof(SCSIDiskState),
    .props = hd_props,
    .user_creatable = true,
    .hotpluggable = true,
    .realize = scsi_hd_realize,
    .unrealize = disk_unrealize,
    .reset = disk_reset,
    .vmsd = &vmstate_scsi_disk,
};
DEVICE_REGISTER(scsi_hd_class)

static const DeviceClass scsi_cd_class = {
    .name = "scsi-cd",
    .desc = "virtual SCSI CD-ROM",
    .bus = BUS_SYSTEM,
    .instance_size = sizeof(SCSIDiskState),
    .props = cd_props,
    .user_creatable = true,
    .hotpluggable = true,
    .realize = scsi_cd_realize,
    .unrealize = disk_unrealize,
    .reset = disk_reset,
    .vmsd = &vmstate_scsi_disk,
};
DEVICE_REGISTER(scsi_cd_class)
