/*
 * null-co: QEMU's disk of nothing, for tests and benchmarks ("null-co://"
 * as a -drive file, -blockdev driver=null-co).  It has a size (default
 * 1 GiB); writes, flushes and zero writes succeed and are forgotten;
 * reads succeed and give zeros.  QEMU leaves the buffer as it was unless
 * read-zeroes=on, which can hand a guest stale host memory; kestrel zeroes
 * it anyway and read-zeroes only decides what block status says (zeros or
 * data).  The memset shows only in a benchmark of null-co alone (kestrel-img
 * bench: 3.6M instead of 5.1M 4 KiB reads/s), never next to the cost of a
 * guest's request.  Requests complete from the main loop without a worker.
 */
#include "block/block_int.h"

#define NULL_DEFAULT_SIZE (1 * GiB)

typedef struct NullState {
    bool read_zeroes;
} NullState;

static void null_done(AioSub *sub, int ret)
{
    blkreq_done(container_of(sub, BlkReq, sub), ret);
}

static int null_preadv(BlockDriverState *bs, int64_t off, int64_t bytes,
                       const struct iovec *iov, int niov)
{
    iov_memset(iov, niov, 0, 0, bytes);
    return 0;
}

static bool null_aio_submit(BlockDriverState *bs, BlkReq *req)
{
    if (req->op == BLK_OP_READ) {
        null_preadv(bs, req->offset, req->bytes, req->iov, req->niov);
    }
    req->sub.cb = null_done;
    aio_complete_later(&req->sub, 0);
    return true;
}

static int null_pwritev(BlockDriverState *bs, int64_t off, int64_t bytes,
                        const struct iovec *iov, int niov)
{
    return 0;
}

static int null_zeroes(BlockDriverState *bs, int64_t off, int64_t bytes,
                       int flags)
{
    return 0;
}

static int null_flush(BlockDriverState *bs)
{
    return 0;
}

static int null_block_status(BlockDriverState *bs, int64_t off,
                             int64_t bytes, int64_t *pnum, int64_t *map)
{
    NullState *s = bs->opaque;
    *pnum = bytes;
    return BDRV_BLOCK_ALLOCATED |
           (s->read_zeroes ? BDRV_BLOCK_ZERO : BDRV_BLOCK_DATA);
}

static void null_close(BlockDriverState *bs)
{
    g_free(bs->opaque);
}

BlockDriverState *null_open(const BdrvOpenParams *p)
{
    BlockDriverState *bs = bdrv_new_node(&bdrv_null_co, NULL_CO_FILENAME);
    NullState *s = g_new0(NullState, 1);

    s->read_zeroes = p->null_read_zeroes;
    bs->opaque = s;
    bs->size = p->null_size ? p->null_size : NULL_DEFAULT_SIZE;
    bs->read_only = !p->rw;
    bs->cache = p->cache;
    return bs;
}

const BlockDriver bdrv_null_co = {
    .name = "null-co",
    .close = null_close,
    .aio_submit = null_aio_submit,
    .preadv = null_preadv,
    .pwritev = null_pwritev,
    .pwrite_zeroes = null_zeroes,
    .pdiscard = null_zeroes,
    .flush = null_flush,
    .block_status = null_block_status,
};
