/*
 * The qcow2 fast path, in the submitting thread (big lock held): requests
 * whose clusters are mapped in cached L2 tables go straight to io_uring
 * with the caller's buffers; a write that needs new clusters stays here
 * too when the L2 table and refcount blocks it touches are cached and the
 * old content is zeros.  It only ever try-locks the image: anything else
 * (a miss, copy-on-write of real data, a backing file, compressed data)
 * returns false and runs in a worker (qcow2-cluster.c).
 */
#include "qcow2.h"

#define MAX_PIECES 16

typedef struct FastPiece {
    AioSub sub;
    BlkReq *req;
    BDRVQcow2State *s;
    struct iovec iov[];
} FastPiece;

static void fast_finish(BDRVQcow2State *s, BlkReq *req)
{
    g_atomic_int_add(&s->inflight, -1);
    blkreq_done(req, req->ret);
}

static void piece_done(AioSub *sub, int ret)
{
    FastPiece *fp = container_of(sub, FastPiece, sub);
    BlkReq *req = fp->req;
    BDRVQcow2State *s = fp->s;
    if (ret && !req->ret) {
        req->ret = ret;
    }
    g_free(fp);
    if (--req->pending == 0) {
        fast_finish(s, req);
    }
}

static void zeros_done(AioSub *sub, int ret)
{
    BlkReq *req = container_of(sub, BlkReq, sub);
    fast_finish(req->bs->opaque, req);
}

/*
 * Allocating writes on the fast path: the new clusters' refcounts and the
 * L2 table are cached, the old content is zeros.  The data goes to
 * io_uring; the L2 entries are set when it completes (in the main thread
 * if the lock is free, else in a worker).
 */
typedef struct FastAlloc {
    AioSub sub;
    BlkReq *req;
    BDRVQcow2State *s;
    InflightAlloc alloc;
    uint32_t l1_idx, l2_idx;
    uint64_t k;
    int64_t host;
    int ret;
    struct iovec iov[];
} FastAlloc;

/* Under the lock: map (or on error free) the clusters; false if the L2
 * table is no longer cached and load is not allowed. */
static bool fa_map(FastAlloc *fa, bool load)
{
    BDRVQcow2State *s = fa->s;
    uint64_t *l2 = NULL;
    if (!fa->ret) {
        uint64_t off = s->l1[fa->l1_idx] & L1E_OFFSET_MASK;
        if (!load) {
            if (!(l2 = qcache_peek(s->l2_cache, off))) {
                return false;
            }
        } else {
            fa->ret = qcache_get(s->l2_cache, off, (void **)&l2, true);
        }
    }
    if (!fa->ret) {
        for (uint64_t i = 0; i < fa->k; i++) {
            l2[fa->l2_idx + i] = be64((fa->host + i * s->cluster_size) |
                                      QCOW_OFLAG_COPIED);
        }
        qcache_dirty(s->l2_cache, l2);
        if (load) {
            qcache_put(s->l2_cache, l2);
        }
    } else {
        qcow2_free_now(s, fa->host, fa->k * s->cluster_size);
    }
    g_ptr_array_remove_fast(s->allocs, &fa->alloc);
    g_cond_broadcast(&s->alloc_cond);
    return true;
}

static void fa_finish(FastAlloc *fa)
{
    g_atomic_int_add(&fa->s->inflight, -1);
    blkreq_done(fa->req, fa->ret);
    g_free(fa);
}

static int fa_map_work(AioSub *sub)
{
    FastAlloc *fa = container_of(sub, FastAlloc, sub);
    g_mutex_lock(&fa->s->lock);
    fa_map(fa, true);
    g_mutex_unlock(&fa->s->lock);
    return fa->ret;
}

static void fa_mapped(AioSub *sub, int ret)
{
    fa_finish(container_of(sub, FastAlloc, sub));
}

static void fa_written(AioSub *sub, int ret)
{
    FastAlloc *fa = container_of(sub, FastAlloc, sub);
    fa->ret = ret;
    if (!ret && g_mutex_trylock(&fa->s->lock)) {
        bool done = fa_map(fa, false);
        g_mutex_unlock(&fa->s->lock);
        if (done) {
            fa_finish(fa);
            return;
        }
    }
    fa->sub = (AioSub){ .work = fa_map_work, .cb = fa_mapped };
    aio_run_in_worker(&fa->sub);
}

/* Called with the lock held (and drops it) when the request starts with a
 * cluster that needs allocating; false: not possible here, go slow. */
static bool fast_alloc(BlockDriverState *bs, BlkReq *req, uint32_t l1_idx,
                       uint64_t *l2)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t cs = s->cluster_size, end = req->offset + req->bytes;
    uint64_t first = req->offset >> s->cluster_bits;
    uint64_t last = (end - 1) >> s->cluster_bits;
    uint64_t k = last - first + 1;

    if ((last >> s->l2_bits) != l1_idx || (bs->backing && s->version < 3) ||
        qcow2_alloc_overlaps(s, first, last)) {
        goto slow;
    }
    for (uint64_t c = first; c <= last; c++) {
        uint64_t e = be64(l2[c & (s->l2_size - 1)]);
        int t = qcow2_entry_type(s, e);
        if (!((t == CLUSTER_UNALLOC && !bs->backing) ||
              (t == CLUSTER_ZERO && !(e & L2E_OFFSET_MASK)))) {
            goto slow;
        }
    }
    if (!s->zeros && !(s->zeros = block_alloc(cs))) {
        goto slow;
    }
    int64_t host = qcow2_alloc_clusters_nowait(s, k);
    if (host < 0) {
        goto slow;
    }
    uint64_t head = req->offset & (cs - 1), tail = (last + 1) * cs - end;
    bool fresh = s->last_alloc_fresh;
    FastAlloc *fa = g_malloc0(sizeof(*fa) + (req->niov + 3) * sizeof(struct iovec));
    int n = 0;
    if (head && !fresh) {
        fa->iov[n++] = (struct iovec){ s->zeros, head };
    }
    n += iov_slice(fa->iov + n, req->iov, req->niov, 0, req->bytes);
    if (tail && !fresh) {
        fa->iov[n++] = (struct iovec){ s->zeros, tail };
    }
    fa->req = req;
    fa->s = s;
    fa->alloc = (InflightAlloc){ first, last };
    fa->l1_idx = l1_idx;
    fa->l2_idx = first & (s->l2_size - 1);
    fa->k = k;
    fa->host = host;
    fa->sub = (AioSub){ .cb = fa_written, .file = &s->file, .op = AIO_WRITE,
                        .off = host + (fresh ? head : 0), .iov = fa->iov,
                        .niov = n };
    g_ptr_array_add(s->allocs, &fa->alloc);
    g_atomic_int_inc(&s->inflight);
    g_mutex_unlock(&s->lock);
    aio_file_submit(&fa->sub);
    return true;
slow:
    g_mutex_unlock(&s->lock);
    return false;
}

/*
 * Requests whose clusters are all mapped in cached L2 tables (and, for
 * writes, owned by the active image alone) go straight to io_uring.
 * Anything else (a miss, an allocation, a backing file, compressed data)
 * returns false and runs in a worker.
 */
bool qcow2_aio_submit(BlockDriverState *bs, BlkReq *req)
{
    BDRVQcow2State *s = bs->opaque;
    bool write = req->op == BLK_OP_WRITE;
    struct { bool file; uint64_t host; int64_t len; } p[MAX_PIECES];
    int np = 0;
    const char *why;

    if ((req->op != BLK_OP_READ && !write) || !g_mutex_trylock(&s->lock)) {
        return false;
    }
    uint64_t cs = s->cluster_size;
    int64_t pos = req->offset, end = req->offset + req->bytes;
    if (s->corrupt) {
        goto slow;
    }
    while (pos < end) {
        uint64_t l1_idx = pos >> (s->cluster_bits + s->l2_bits);
        int64_t chunk_end = MIN(end, (int64_t)((l1_idx + 1) <<
                                               (s->cluster_bits + s->l2_bits)));
        if (l1_idx >= s->l1_size) {
            goto slow;
        }
        uint64_t e1 = s->l1[l1_idx], *l2 = NULL;
        if (!(e1 & L1E_OFFSET_MASK)) {
            if (write || bs->backing) {
                goto slow;
            }
        } else if ((write && !(e1 & QCOW_OFLAG_COPIED)) ||
                   !(l2 = qcache_peek(s->l2_cache, e1 & L1E_OFFSET_MASK))) {
            goto slow;
        }
        while (pos < chunk_end) {
            int64_t len = MIN(chunk_end, (int64_t)ALIGN_DOWN(pos + cs, cs)) - pos;
            uint64_t e = l2 ? be64(l2[(pos >> s->cluster_bits) &
                                      (s->l2_size - 1)]) : 0;
            int t = qcow2_entry_type(s, e);
            bool file;
            uint64_t host = 0;
            if (t == CLUSTER_NORMAL && qcow2_entry_ok(s, e, &why) &&
                (!write || (e & QCOW_OFLAG_COPIED))) {
                file = true;
                host = (e & L2E_OFFSET_MASK) + (pos & (cs - 1));
            } else if (!write && (t == CLUSTER_ZERO ||
                                  (t == CLUSTER_UNALLOC && !bs->backing))) {
                file = false;
            } else if (write && np == 0 && l2) {
                return fast_alloc(bs, req, l1_idx, l2);
            } else {
                goto slow;
            }
            if (np && p[np - 1].file == file &&
                (!file || p[np - 1].host + p[np - 1].len == host)) {
                p[np - 1].len += len;
            } else if (np == MAX_PIECES) {
                goto slow;
            } else {
                p[np].file = file;
                p[np].host = host;
                p[np++].len = len;
            }
            pos += len;
        }
    }
    g_atomic_int_inc(&s->inflight);
    g_mutex_unlock(&s->lock);

    size_t iov_off = 0;
    req->pending = 1;
    req->ret = 0;
    for (int i = 0; i < np; i++) {
        if (!p[i].file) {
            iov_memset(req->iov, req->niov, iov_off, 0, p[i].len);
        } else {
            FastPiece *fp = g_malloc(sizeof(*fp) +
                                     (req->niov + 1) * sizeof(struct iovec));
            fp->req = req;
            fp->s = s;
            fp->sub = (AioSub){
                .cb = piece_done, .file = &s->file,
                .op = write ? AIO_WRITE : AIO_READ, .off = p[i].host,
                .iov = fp->iov,
                .niov = iov_slice(fp->iov, req->iov, req->niov, iov_off,
                                  p[i].len),
            };
            req->pending++;
            aio_file_submit(&fp->sub);
        }
        iov_off += p[i].len;
    }
    if (--req->pending == 0) {
        req->sub.cb = zeros_done;
        aio_complete_later(&req->sub, 0);
    }
    return true;
slow:
    g_mutex_unlock(&s->lock);
    return false;
}
