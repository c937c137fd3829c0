/*
 * Request alignment: what QEMU's block layer does for a node with a
 * request_alignment (block_int.h says what; blkdebug's align= uses it).
 * The child sees [off, end) widened to whole units of `align`, except at
 * its end, which counts as aligned; partial units are read first and
 * merged (read-modify-write).  The synchronous functions do the work; the
 * asynchronous path runs them in a worker, one padded request at a time.
 */
#include "block/block_int.h"

static int64_t align_down(int64_t x, uint32_t a)
{
    return x & ~(int64_t)(a - 1);
}

/* The first boundary at or after x, or limit if that comes first
 * (without overflowing near INT64_MAX). */
static int64_t align_up(int64_t x, uint32_t a, int64_t limit)
{
    int64_t rem = x & (a - 1);
    if (!rem || x >= limit) {
        return x;
    }
    return limit - x <= a - rem ? limit : x + (a - rem);
}

/* The widened range of [off, off + bytes), ending at most at the end. */
static void widen(BlockDriverState *child, uint32_t align, int64_t off,
                  int64_t bytes, int64_t *start, int64_t *end)
{
    *start = align_down(off, align);
    *end = align_up(off + bytes, align, child->size);
}

static bool is_aligned(BlockDriverState *child, uint32_t align, int64_t off,
                       int64_t bytes)
{
    int64_t start, end;
    if (!bytes) {
        return true;
    }
    widen(child, align, off, bytes, &start, &end);
    return start == off && end == off + bytes;
}

int block_align_preadv(BlockDriverState *child, uint32_t align, int64_t off,
                       int64_t bytes, const struct iovec *iov, int niov)
{
    int64_t start, end;

    if (is_aligned(child, align, off, bytes)) {
        return bdrv_preadv(child, off, bytes, iov, niov);
    }
    widen(child, align, off, bytes, &start, &end);
    g_autofree uint8_t *buf = g_try_malloc(end - start);
    if (!buf) {
        return -ENOMEM;
    }
    int ret = bdrv_pread(child, start, buf, end - start);
    if (!ret) {
        iov_from_buf(iov, niov, 0, buf + (off - start), bytes);
    }
    return ret;
}

/* Write [off, off + bytes) from iov (NULL: zeros) as whole units: the
 * partial first and last ones are read first. */
static int write_padded(BlockDriverState *child, uint32_t align, int64_t off,
                        int64_t bytes, const struct iovec *iov, int niov)
{
    int64_t start, end, tail = align_down(off + bytes, align);
    int ret = 0;

    widen(child, align, off, bytes, &start, &end);
    g_autofree uint8_t *buf = g_try_malloc(end - start);
    if (!buf) {
        return -ENOMEM;
    }
    if (off > start) {
        ret = bdrv_pread(child, start, buf, MIN((int64_t)align, end - start));
    }
    if (!ret && off + bytes < end) {
        ret = bdrv_pread(child, tail, buf + (tail - start), end - tail);
    }
    if (ret) {
        return ret;
    }
    if (iov) {
        iov_to_buf(iov, niov, 0, buf + (off - start), bytes);
    } else {
        memset(buf + (off - start), 0, bytes);
    }
    return bdrv_pwrite(child, start, buf, end - start);
}

int block_align_pwritev(BlockDriverState *child, uint32_t align,
                        int64_t off, int64_t bytes, const struct iovec *iov,
                        int niov)
{
    if (is_aligned(child, align, off, bytes)) {
        return bdrv_pwritev(child, off, bytes, iov, niov);
    }
    return write_padded(child, align, off, bytes, iov, niov);
}

/* Zeros: the whole units in the middle as a zero write, the partial ones
 * at either end written with the data around them. */
int block_align_pwrite_zeroes(BlockDriverState *child, uint32_t align,
                              int64_t off, int64_t bytes, int flags)
{
    int64_t end = off + bytes;
    int64_t mid = align_up(off, align, end);
    int64_t mid_end = end == child->size ? end
                                         : MAX(align_down(end, align), mid);
    int ret = 0;

    if (off < mid) {
        ret = write_padded(child, align, off, mid - off, NULL, 0);
    }
    if (!ret && mid < mid_end) {
        ret = bdrv_pwrite_zeroes(child, mid, mid_end - mid, flags);
    }
    if (!ret && mid_end < end) {
        ret = write_padded(child, align, mid_end, end - mid_end, NULL, 0);
    }
    return ret;
}

/* A discard only ever covers whole units: the partial ones stay. */
int block_align_pdiscard(BlockDriverState *child, uint32_t align,
                         int64_t off, int64_t bytes, int flags)
{
    int64_t start = align_up(off, align, off + bytes);
    int64_t end = off + bytes == child->size ? off + bytes
                                             : align_down(off + bytes, align);
    return start < end ? bdrv_pdiscard(child, start, end - start, flags) : 0;
}

/* ---- the asynchronous path ---- */

static bool needs_padding(BlockAlign *a, BlkReq *req)
{
    return req->op != BLK_OP_FLUSH &&
           !is_aligned(req->bs, a->align, req->offset, req->bytes);
}

static int align_work(AioSub *sub)
{
    BlkReq *req = container_of(sub, BlkReq, sub);
    BlockAlign *a = req->drv_state;
    BlockDriverState *bs = req->bs;

    switch (req->op) {
    case BLK_OP_READ:
        return block_align_preadv(bs, a->align, req->offset, req->bytes,
                                  req->iov, req->niov);
    case BLK_OP_WRITE:
        return block_align_pwritev(bs, a->align, req->offset, req->bytes,
                                   req->iov, req->niov);
    case BLK_OP_DISCARD:
        return block_align_pdiscard(bs, a->align, req->offset, req->bytes,
                                    0);
    case BLK_OP_ZEROES:
    case BLK_OP_ZEROES_UNMAP:
    case BLK_OP_TRIM:
        return block_align_pwrite_zeroes(bs, a->align, req->offset,
                                         req->bytes, blkreq_zero_flags(req));
    default:
        return blkreq_run(req);
    }
}

static void align_done(AioSub *sub, int ret);

static void start(BlockAlign *a, BlkReq *req)
{
    a->in_flight++;
    a->padding = needs_padding(a, req);
    req->drv_state = a;
    req->sub.work = align_work;
    req->sub.cb = align_done;
    aio_run_in_worker(&req->sub);
}

/* Start the waiting requests that may go now, in order. */
static void dispatch(BlockAlign *a)
{
    BlkReq *req;

    while ((req = g_queue_peek_head(&a->waiting)) && !a->padding &&
           (!needs_padding(a, req) || !a->in_flight)) {
        g_queue_pop_head(&a->waiting);
        start(a, req);
    }
}

static void align_done(AioSub *sub, int ret)
{
    BlkReq *req = container_of(sub, BlkReq, sub);
    BlockAlign *a = req->drv_state;

    req->drv_state = NULL;
    a->in_flight--;
    if (needs_padding(a, req)) {
        a->padding = false;
    }
    dispatch(a);
    blkreq_done(req, ret);
}

void block_align_submit(BlockAlign *a, BlockDriverState *child, BlkReq *req)
{
    req->bs = child;
    g_queue_push_tail(&a->waiting, req);
    dispatch(a);
}
