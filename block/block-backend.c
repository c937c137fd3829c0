/*
 * BlockBackend: what devices and tools hold.  Requests are checked here
 * (medium, bounds, read-only), then the driver takes them on its fast path
 * or they run in a worker; either way the callback comes from the main loop.
 */
#include "block/block_int.h"
#include <unistd.h>

struct BlockBackend {
    BlockDriverState *bs;
    BlockCacheMode cache;
    bool write_cache;           /* the guest's switch */
    bool discard_unmap;         /* discard=unmap: TRIM gives space back */
    unsigned in_flight;
    BlockErrorPolicy on_read_error, on_write_error;
    bool iostatus_enabled;
    BlockIOStatus iostatus;
    const BlockDevOps *dev_ops;
    void *dev_opaque;
};

static GPtrArray *backends;

static const char *const cache_names[] = {
    [BLOCK_CACHE_WRITEBACK] = "writeback",
    [BLOCK_CACHE_NONE] = "none",
    [BLOCK_CACHE_WRITETHROUGH] = "writethrough",
    [BLOCK_CACHE_DIRECTSYNC] = "directsync",
    [BLOCK_CACHE_UNSAFE] = "unsafe",
};

bool block_parse_cache_mode(const char *s, BlockCacheMode *mode)
{
    for (unsigned i = 0; i < ARRAY_SIZE(cache_names); i++) {
        if (!strcmp(s, cache_names[i])) {
            *mode = i;
            return true;
        }
    }
    return false;
}

const char *block_cache_mode_name(BlockCacheMode mode)
{
    return cache_names[mode];
}

static BlockBackend *blk_new(void)
{
    BlockBackend *blk = g_new0(BlockBackend, 1);
    blk->write_cache = true;
    blk->on_read_error = BLOCK_ERROR_POLICY_REPORT;
    blk->on_write_error = BLOCK_ERROR_POLICY_ENOSPC;
    if (!backends) {
        backends = g_ptr_array_new();
    }
    g_ptr_array_add(backends, blk);
    return blk;
}

BlockBackend *blk_new_empty(void)
{
    block_init();
    return blk_new();
}

/* -snapshot: a temporary qcow2 overlay, unlinked once it is open. */
static BlockDriverState *open_snapshot(const BlockOpenOptions *o,
                                       BdrvOpenParams *p, Error **errp)
{
    BdrvOpenParams ro = *p;
    ro.rw = false;
    BlockDriverState *base = bdrv_open(o->filename, o->format, &ro, true,
                                       o->probe_warn, errp);
    if (!base) {
        return NULL;
    }
    const char *dir = g_getenv("TMPDIR") ? g_getenv("TMPDIR") : "/var/tmp";
    g_autofree char *tmpl = g_build_filename(dir, "kestrel-snapshot-XXXXXX",
                                             NULL);
    g_autofree char *abs = g_canonicalize_filename(o->filename, NULL);
    BlockCreateOpts co = {
        .size = base->size, .backing_file = abs,
        .backing_fmt = base->drv->name, .version = 3,
    };
    bdrv_close(base);
    int fd = g_mkstemp(tmpl);
    if (fd < 0) {
        error_setg(errp, "Could not create the temporary overlay in %s: %s",
                   dir, strerror(errno));
        return NULL;
    }
    close(fd);
    BlockDriverState *bs = NULL;
    if (bdrv_create("qcow2", tmpl, &co, errp)) {
        bs = bdrv_open(tmpl, "qcow2", p, true, false, errp);
    }
    unlink(tmpl);
    return bs;
}

static BlockDriverState *open_bs(const BlockOpenOptions *o, Error **errp)
{
    BdrvOpenParams p = {
        .rw = !o->read_only, .cache = o->cache, .check = o->check,
        .l2_cache_size = o->l2_cache_size,
        .blkdebug_config = o->blkdebug_config,
        .blkdebug_align = o->blkdebug_align,
        .null_size = o->null_size, .null_read_zeroes = o->null_read_zeroes,
        .backing = o->backing,
    };
    if (o->snapshot && (g_str_has_prefix(o->filename, "blkdebug:") ||
                        o->blkdebug_config)) {
        error_setg(errp, "snapshot=on (or -snapshot) cannot be used with a "
                   "blkdebug: image");
        return NULL;
    }
    if (o->snapshot && g_str_has_prefix(o->filename, NULL_CO_FILENAME)) {
        error_setg(errp, "snapshot=on (or -snapshot) cannot be used with "
                   "null-co");
        return NULL;
    }
    if (o->snapshot) {
        return open_snapshot(o, &p, errp);
    }
    return bdrv_open(o->filename, o->format, &p, !o->no_backing,
                     o->probe_warn, errp);
}

BlockBackend *blk_open(const BlockOpenOptions *o, Error **errp)
{
    block_init();
    BlockDriverState *bs = open_bs(o, errp);
    if (!bs) {
        return NULL;
    }
    BlockBackend *blk = blk_new();
    blk->bs = bs;
    blk->cache = o->cache;
    blk->discard_unmap = o->discard_unmap;
    return blk;
}

BlockBackend *blk_new_with_bs(BlockDriverState *bs)
{
    block_init();
    BlockBackend *blk = blk_new();
    blk->bs = bs;
    blk->cache = bs->cache;
    return blk;
}

bool blk_insert_medium(BlockBackend *blk, const BlockOpenOptions *o,
                       Error **errp)
{
    BlockDriverState *bs = open_bs(o, errp);
    if (!bs) {
        return false;
    }
    blk_eject(blk);
    blk->bs = bs;
    blk->cache = o->cache;
    blk->discard_unmap = o->discard_unmap;
    return true;
}

void blk_eject(BlockBackend *blk)
{
    blk_drain(blk);
    if (blk->bs) {
        bdrv_flush(blk->bs);
        bdrv_close(blk->bs);
        blk->bs = NULL;
    }
}

void blk_remove_medium(BlockBackend *blk)
{
    blk_eject(blk);
    if (blk->dev_ops && blk->dev_ops->medium_removed) {
        blk->dev_ops->medium_removed(blk->dev_opaque);
    }
}

void blk_unref(BlockBackend *blk)
{
    if (!blk) {
        return;
    }
    blk_eject(blk);
    g_ptr_array_remove(backends, blk);
    g_free(blk);
}

void blk_close_all(void)
{
    while (backends && backends->len) {
        blk_unref(g_ptr_array_index(backends, backends->len - 1));
    }
}

bool blk_is_inserted(BlockBackend *blk) { return blk->bs != NULL; }
bool blk_is_read_only(BlockBackend *blk) { return !blk->bs || blk->bs->read_only; }
int64_t blk_getlength(BlockBackend *blk) { return blk->bs ? blk->bs->size : 0; }
const char *blk_filename(BlockBackend *blk) { return blk->bs ? blk->bs->filename : ""; }
const char *blk_format_name(BlockBackend *blk) { return blk->bs ? blk->bs->drv->name : ""; }
const char *blk_node_name(BlockBackend *blk) { return blk->bs ? blk->bs->node_name : ""; }
BlockDriverState *blk_bs(BlockBackend *blk) { return blk->bs; }
bool blk_enable_write_cache(BlockBackend *blk) { return blk->write_cache; }
void blk_set_enable_write_cache(BlockBackend *blk, bool on) { blk->write_cache = on; }
unsigned blk_in_flight(BlockBackend *blk) { return blk->in_flight; }
bool blk_discard_unmaps(BlockBackend *blk) { return blk->discard_unmap; }

BlockBackend *blk_next(BlockBackend *blk)
{
    guint i = 0;
    if (blk && !g_ptr_array_find(backends, blk, &i)) {
        return NULL;
    }
    i += blk != NULL;
    return backends && i < backends->len ? g_ptr_array_index(backends, i)
                                         : NULL;
}

void blk_set_dev_ops(BlockBackend *blk, const BlockDevOps *ops, void *opaque)
{
    blk->dev_ops = ops;
    blk->dev_opaque = opaque;
}

bool blk_dev_has_tray(BlockBackend *blk)
{
    return blk->dev_ops && blk->dev_ops->is_tray_open;
}

bool blk_dev_is_tray_open(BlockBackend *blk)
{
    return blk_dev_has_tray(blk) && blk->dev_ops->is_tray_open(blk->dev_opaque);
}

bool blk_dev_is_medium_locked(BlockBackend *blk)
{
    return blk->dev_ops && blk->dev_ops->is_medium_locked &&
           blk->dev_ops->is_medium_locked(blk->dev_opaque);
}

/* ---- requests ---- */

void blkreq_done(BlkReq *req, int ret)
{
    if (ret == 0 && req->flush_after) {
        /* From the top again: a filter node sees the flush too. */
        req->flush_after = false;
        req->op = BLK_OP_FLUSH;
        req->bs = req->blk->bs;
        blkreq_submit(req);
        return;
    }
    req->blk->in_flight--;
    req->cb(req->opaque, ret);
    if (req->iov != req->iov_inline) {
        g_free(req->iov);
    }
    g_free(req);
}

static void worker_done(AioSub *s, int ret)
{
    blkreq_done(container_of(s, BlkReq, sub), ret);
}

static void early_done(AioSub *s, int ret)
{
    BlkReq *req = container_of(s, BlkReq, sub);
    req->flush_after = false;
    blkreq_done(req, ret);
}

int blkreq_zero_flags(const BlkReq *req)
{
    return req->op == BLK_OP_TRIM ||
           (req->op == BLK_OP_ZEROES_UNMAP && req->blk->discard_unmap) ?
           BDRV_REQ_MAY_UNMAP : 0;
}

int blkreq_run(BlkReq *req)
{
    BlockDriverState *bs = req->bs;
    switch (req->op) {
    case BLK_OP_READ:
        return bdrv_preadv(bs, req->offset, req->bytes, req->iov, req->niov);
    case BLK_OP_WRITE:
        return bdrv_pwritev(bs, req->offset, req->bytes, req->iov, req->niov);
    case BLK_OP_FLUSH:
        return bdrv_flush(bs);
    case BLK_OP_DISCARD:
        return bdrv_pdiscard(bs, req->offset, req->bytes, 0);
    case BLK_OP_ZEROES:
    case BLK_OP_ZEROES_UNMAP:
    case BLK_OP_TRIM:
        return bdrv_pwrite_zeroes(bs, req->offset, req->bytes,
                                  blkreq_zero_flags(req));
    }
    return -EINVAL;
}

static int worker_run(AioSub *s)
{
    return blkreq_run(container_of(s, BlkReq, sub));
}

/* A raw image that was probed must not be turned into another format. */
static bool writes_format_magic(BlkReq *req)
{
    uint8_t head[4];
    if (req->offset != 0 || req->bytes < 4) {
        return false;
    }
    iov_to_buf(req->iov, req->niov, 0, head, 4);
    return !memcmp(head, "QFI\xfb", 4);
}

static int check_req(BlkReq *req)
{
    BlockDriverState *bs = req->bs;
    if (!bs) {
        return -ENOMEDIUM;
    }
    if (req->op == BLK_OP_FLUSH) {
        return 0;
    }
    if (req->offset < 0 || req->bytes < 0 || req->offset > bs->size ||
        req->bytes > bs->size - req->offset) {
        return -EIO;
    }
    if (req->op != BLK_OP_READ && bs->read_only) {
        return -EACCES;
    }
    if (req->op == BLK_OP_WRITE && bs->probed_raw && writes_format_magic(req)) {
        return -EPERM;
    }
    return 0;
}

void blkreq_submit(BlkReq *req)
{
    int ret = check_req(req);
    /* discard=ignore: a checked TRIM is done and changes nothing (QEMU's
     * default: the data stays). */
    if (ret || (req->op == BLK_OP_FLUSH && req->bs->read_only) ||
        (req->op == BLK_OP_TRIM && !req->blk->discard_unmap)) {
        req->sub.cb = early_done;
        aio_complete_later(&req->sub, ret);
        return;
    }
    if (req->bs->drv->aio_submit && req->bs->drv->aio_submit(req->bs, req)) {
        return;
    }
    req->sub.work = worker_run;
    req->sub.cb = worker_done;
    aio_run_in_worker(&req->sub);
}

static void aio_req(BlockBackend *blk, BlkOp op, int64_t offset, int64_t bytes,
                    const struct iovec *iov, int niov,
                    BlockCompletionFunc *cb, void *opaque)
{
    BlkReq *req = g_new0(BlkReq, 1);
    req->blk = blk;
    req->bs = blk->bs;
    req->op = op;
    req->offset = offset;
    req->bytes = bytes;
    req->cb = cb;
    req->opaque = opaque;
    if (niov <= (int)ARRAY_SIZE(req->iov_inline)) {
        req->iov = req->iov_inline;
    } else {
        req->iov = g_new(struct iovec, niov);
    }
    if (niov) {
        memcpy(req->iov, iov, niov * sizeof(*iov));
    }
    req->niov = niov;
    if (op == BLK_OP_WRITE || op == BLK_OP_ZEROES ||
        op == BLK_OP_ZEROES_UNMAP || op == BLK_OP_TRIM) {
        req->flush_after = !blk->write_cache ||
            blk->cache == BLOCK_CACHE_WRITETHROUGH ||
            blk->cache == BLOCK_CACHE_DIRECTSYNC;
    }
    blk->in_flight++;
    blkreq_submit(req);
}

void blk_aio_preadv(BlockBackend *blk, int64_t offset, const struct iovec *iov,
                    int niov, BlockCompletionFunc *cb, void *opaque)
{
    aio_req(blk, BLK_OP_READ, offset, iov_size(iov, niov), iov, niov, cb,
            opaque);
}

void blk_aio_pwritev(BlockBackend *blk, int64_t offset,
                     const struct iovec *iov, int niov,
                     BlockCompletionFunc *cb, void *opaque)
{
    aio_req(blk, BLK_OP_WRITE, offset, iov_size(iov, niov), iov, niov, cb,
            opaque);
}

void blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque)
{
    aio_req(blk, BLK_OP_FLUSH, 0, 0, NULL, 0, cb, opaque);
}

void blk_aio_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes,
                      BlockCompletionFunc *cb, void *opaque)
{
    aio_req(blk, BLK_OP_DISCARD, offset, bytes, NULL, 0, cb, opaque);
}

void blk_aio_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes,
                           BlockCompletionFunc *cb, void *opaque)
{
    aio_req(blk, BLK_OP_ZEROES, offset, bytes, NULL, 0, cb, opaque);
}

void blk_aio_pwrite_zeroes_unmap(BlockBackend *blk, int64_t offset,
                                 int64_t bytes, BlockCompletionFunc *cb,
                                 void *opaque)
{
    aio_req(blk, BLK_OP_ZEROES_UNMAP, offset, bytes, NULL, 0, cb, opaque);
}

void blk_aio_trim(BlockBackend *blk, int64_t offset, int64_t bytes,
                  BlockCompletionFunc *cb, void *opaque)
{
    aio_req(blk, BLK_OP_TRIM, offset, bytes, NULL, 0, cb, opaque);
}

void blk_drain(BlockBackend *blk)
{
    while (blk->in_flight) {
        if (blk->bs && blk->bs->drv->drain) {
            blk->bs->drv->drain(blk->bs);
        }
        aio_poll(true);
    }
}

/* ---- error policy (-drive rerror=, werror=) ---- */

static const char *const policy_names[] = {
    [BLOCK_ERROR_POLICY_REPORT] = "report",
    [BLOCK_ERROR_POLICY_IGNORE] = "ignore",
    [BLOCK_ERROR_POLICY_ENOSPC] = "enospc",
    [BLOCK_ERROR_POLICY_STOP] = "stop",
};

static const char *const action_names[] = {
    [BLOCK_ERROR_ACTION_REPORT] = "report",
    [BLOCK_ERROR_ACTION_IGNORE] = "ignore",
    [BLOCK_ERROR_ACTION_STOP] = "stop",
};

void (*blk_io_error_hook)(BlockBackend *blk, bool is_read,
                          BlockErrorAction action, int error);

bool block_parse_error_policy(const char *s, BlockErrorPolicy *policy)
{
    for (unsigned i = 0; i < ARRAY_SIZE(policy_names); i++) {
        if (!strcmp(s, policy_names[i])) {
            *policy = i;
            return true;
        }
    }
    return false;
}

const char *block_error_action_name(BlockErrorAction action)
{
    return action_names[action];
}

void blk_set_error_policy(BlockBackend *blk, BlockErrorPolicy on_read,
                          BlockErrorPolicy on_write)
{
    blk->on_read_error = on_read;
    blk->on_write_error = on_write;
}

BlockErrorAction blk_get_error_action(BlockBackend *blk, bool is_read,
                                      int error)
{
    switch (is_read ? blk->on_read_error : blk->on_write_error) {
    case BLOCK_ERROR_POLICY_IGNORE:
        return BLOCK_ERROR_ACTION_IGNORE;
    case BLOCK_ERROR_POLICY_STOP:
        return BLOCK_ERROR_ACTION_STOP;
    case BLOCK_ERROR_POLICY_ENOSPC:
        return error == ENOSPC ? BLOCK_ERROR_ACTION_STOP
                               : BLOCK_ERROR_ACTION_REPORT;
    default:
        return BLOCK_ERROR_ACTION_REPORT;
    }
}

void blk_report_io_error(BlockBackend *blk, bool is_read,
                         BlockErrorAction action, int error)
{
    if (action == BLOCK_ERROR_ACTION_STOP && blk->iostatus_enabled &&
        blk->iostatus == BLOCK_IO_STATUS_OK) {
        blk->iostatus = error == ENOSPC ? BLOCK_IO_STATUS_NOSPACE
                                        : BLOCK_IO_STATUS_FAILED;
    }
    if (blk_io_error_hook) {
        blk_io_error_hook(blk, is_read, action, error);
    }
}

void blk_iostatus_enable(BlockBackend *blk)
{
    blk->iostatus_enabled = true;
    blk->iostatus = BLOCK_IO_STATUS_OK;
}

/* As QEMU: only a policy that can stop the VM has a status to show. */
bool blk_iostatus_is_enabled(BlockBackend *blk)
{
    return blk->iostatus_enabled &&
           (blk->on_write_error == BLOCK_ERROR_POLICY_ENOSPC ||
            blk->on_write_error == BLOCK_ERROR_POLICY_STOP ||
            blk->on_read_error == BLOCK_ERROR_POLICY_STOP);
}

BlockIOStatus blk_iostatus(BlockBackend *blk)
{
    return blk->iostatus;
}

void blk_iostatus_reset(BlockBackend *blk)
{
    blk->iostatus = BLOCK_IO_STATUS_OK;
}

/* ---- synchronous helpers ---- */

typedef struct SyncReq {
    bool done;
    int ret;
} SyncReq;

static void sync_cb(void *opaque, int ret)
{
    SyncReq *s = opaque;
    s->ret = ret;
    s->done = true;
}

static int sync_wait(SyncReq *s)
{
    while (!s->done) {
        aio_poll(true);
    }
    return s->ret;
}

int blk_pread(BlockBackend *blk, int64_t offset, void *buf, size_t bytes)
{
    SyncReq s = { 0 };
    struct iovec iov = { buf, bytes };
    blk_aio_preadv(blk, offset, &iov, 1, sync_cb, &s);
    return sync_wait(&s);
}

int blk_pwrite(BlockBackend *blk, int64_t offset, const void *buf,
               size_t bytes)
{
    SyncReq s = { 0 };
    struct iovec iov = { (void *)buf, bytes };
    blk_aio_pwritev(blk, offset, &iov, 1, sync_cb, &s);
    return sync_wait(&s);
}

int blk_flush(BlockBackend *blk)
{
    SyncReq s = { 0 };
    blk_aio_flush(blk, sync_cb, &s);
    return sync_wait(&s);
}

int blk_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes)
{
    SyncReq s = { 0 };
    blk_aio_pdiscard(blk, offset, bytes, sync_cb, &s);
    return sync_wait(&s);
}

int blk_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes)
{
    SyncReq s = { 0 };
    blk_aio_pwrite_zeroes(blk, offset, bytes, sync_cb, &s);
    return sync_wait(&s);
}
