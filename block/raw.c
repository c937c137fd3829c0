/*
 * raw: the guest disk is the file (or block device) byte for byte.  Reads,
 * writes and flushes go straight to io_uring; zeroing and discard run in a
 * worker (fallocate may take a while).
 */
#include "block/block_int.h"
#include <fcntl.h>
#include <unistd.h>
#include <linux/falloc.h>

typedef struct RawState {
    BlockFile file;
} RawState;

static bool raw_open(BlockDriverState *bs, const BdrvOpenParams *p,
                     Error **errp)
{
    RawState *s = g_new0(RawState, 1);
    if (!bfile_open(&s->file, bs->filename, p->rw, p->cache, errp)) {
        g_free(s);
        return false;
    }
    bs->opaque = s;
    bs->size = bfile_length(&s->file);
    if (bs->size < 0) {
        error_setg(errp, "Could not get the size of '%s': %s", bs->filename,
                   strerror((int)-bs->size));
        bfile_close(&s->file);
        g_free(s);
        return false;
    }
    return true;
}

static void raw_close(BlockDriverState *bs)
{
    RawState *s = bs->opaque;
    bfile_close(&s->file);
    g_free(s);
}

static void raw_aio_cb(AioSub *sub, int ret)
{
    blkreq_done(container_of(sub, BlkReq, sub), ret);
}

static bool raw_aio_submit(BlockDriverState *bs, BlkReq *req)
{
    RawState *s = bs->opaque;
    AioSub *sub = &req->sub;
    switch (req->op) {
    case BLK_OP_READ:
        sub->op = AIO_READ;
        break;
    case BLK_OP_WRITE:
        sub->op = AIO_WRITE;
        break;
    case BLK_OP_FLUSH:
        sub->op = AIO_FSYNC;
        break;
    default:
        return false;
    }
    sub->file = &s->file;
    sub->off = req->offset;
    sub->iov = req->iov;
    sub->niov = req->niov;
    sub->cb = raw_aio_cb;
    aio_file_submit(sub);
    return true;
}

static int raw_preadv(BlockDriverState *bs, int64_t off, int64_t bytes,
                      const struct iovec *iov, int niov)
{
    RawState *s = bs->opaque;
    return bfile_preadv(&s->file, off, iov, niov);
}

static int raw_pwritev(BlockDriverState *bs, int64_t off, int64_t bytes,
                       const struct iovec *iov, int niov)
{
    RawState *s = bs->opaque;
    return bfile_pwritev(&s->file, off, iov, niov);
}

static int raw_flush(BlockDriverState *bs)
{
    RawState *s = bs->opaque;
    return bfile_flush(&s->file);
}

static int write_zero_buf(RawState *s, int64_t off, int64_t bytes)
{
    size_t chunk = MIN(bytes, (int64_t)(1 << 20));
    uint8_t *buf = block_alloc(chunk);
    int ret = 0;
    if (!buf) {
        return -ENOMEM;
    }
    for (int64_t pos = off; pos < off + bytes && !ret; pos += chunk) {
        ret = bfile_pwrite(&s->file, pos, buf,
                           MIN((int64_t)chunk, off + bytes - pos));
    }
    free(buf);
    return ret;
}

static int raw_pwrite_zeroes(BlockDriverState *bs, int64_t off, int64_t bytes,
                             int flags)
{
    RawState *s = bs->opaque;
    if (!s->file.is_bdev) {
        int mode = (flags & BDRV_REQ_MAY_UNMAP)
            ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
            : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
        if (fallocate(s->file.fd, mode, off, bytes) == 0) {
            return 0;
        }
    }
    return write_zero_buf(s, off, bytes);
}

static int raw_pdiscard(BlockDriverState *bs, int64_t off, int64_t bytes,
                        int flags)
{
    RawState *s = bs->opaque;
    return bfile_discard(&s->file, off, bytes);
}

static int raw_block_status(BlockDriverState *bs, int64_t off, int64_t bytes,
                            int64_t *pnum, int64_t *map)
{
    RawState *s = bs->opaque;
    int st = BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_OFFSET;
    *map = off;
    *pnum = bytes;
    if (s->file.is_bdev) {
        return st | BDRV_BLOCK_DATA;
    }
    /* Holes read as zeros: report them so convert and map skip them. */
    off_t data = lseek(s->file.fd, off, SEEK_DATA);
    if (data < 0 && errno == ENXIO) {
        return st | BDRV_BLOCK_ZERO;
    }
    if (data < 0) {
        return st | BDRV_BLOCK_DATA;
    }
    if (data > off) {
        *pnum = MIN(bytes, data - off);
        return st | BDRV_BLOCK_ZERO;
    }
    off_t hole = lseek(s->file.fd, off, SEEK_HOLE);
    if (hole > off) {
        *pnum = MIN(bytes, hole - off);
    }
    return st | BDRV_BLOCK_DATA;
}

static int raw_truncate(BlockDriverState *bs, int64_t size, Error **errp)
{
    RawState *s = bs->opaque;
    int ret = bfile_truncate(&s->file, size);
    if (ret < 0) {
        error_setg(errp, "Could not resize '%s': %s", bs->filename,
                   strerror(-ret));
        return ret;
    }
    bs->size = size;
    return 0;
}

static bool raw_create(const char *filename, const BlockCreateOpts *o,
                       Error **errp)
{
    if (o->backing_file) {
        error_setg(errp, "raw images cannot have a backing file");
        return false;
    }
    if (o->preallocation == PREALLOC_METADATA) {
        error_setg(errp, "raw images have no metadata to preallocate (use "
                   "preallocation=off, falloc or full)");
        return false;
    }
    int fd = open(filename, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        error_setg(errp, "Could not create '%s': %s", filename,
                   strerror(errno));
        return false;
    }
    BlockFile f = { .fd = fd, .align = 1 };
    int ret = bfile_truncate(&f, o->size);
    if (!ret && o->preallocation != PREALLOC_OFF && o->size) {
        ret = bfile_allocate(&f, 0, o->size,
                             o->preallocation == PREALLOC_FULL);
    }
    close(fd);
    if (ret < 0) {
        error_setg(errp, "Could not create '%s': %s", filename,
                   strerror(-ret));
        return false;
    }
    return true;
}

const BlockDriver bdrv_raw = {
    .name = "raw",
    .open = raw_open,
    .close = raw_close,
    .aio_submit = raw_aio_submit,
    .preadv = raw_preadv,
    .pwritev = raw_pwritev,
    .pwrite_zeroes = raw_pwrite_zeroes,
    .pdiscard = raw_pdiscard,
    .flush = raw_flush,
    .block_status = raw_block_status,
    .truncate = raw_truncate,
    .create = raw_create,
};
