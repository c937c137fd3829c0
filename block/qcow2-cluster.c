/*
 * qcow2 guest I/O in worker threads: L1/L2 lookups, reads (data, zeros,
 * backing, compressed), writes with cluster allocation and copy-on-write,
 * zeroing and discard, compressed writes, block status, preallocation.
 *
 * An allocating write takes new clusters under the lock, records the guest
 * clusters as "in flight" (overlapping requests wait for it), drops the lock
 * for the data and copy-on-write transfers, then points the L2 entries at
 * the new clusters.  The old clusters are freed later (qcow2.h).  The
 * io_uring fast path is in qcow2-fast.c.
 */
#include "qcow2.h"

int qcow2_entry_type(BDRVQcow2State *s, uint64_t e)
{
    if (e & QCOW_OFLAG_COMPRESSED) {
        return CLUSTER_COMPRESSED;
    }
    if ((e & QCOW_OFLAG_ZERO) && s->version >= 3) {
        return CLUSTER_ZERO;
    }
    return (e & L2E_OFFSET_MASK) ? CLUSTER_NORMAL : CLUSTER_UNALLOC;
}

void qcow2_compressed_range(BDRVQcow2State *s, uint64_t e, uint64_t *off,
                            uint64_t *len)
{
    uint64_t nb = (e >> s->csize_shift) & s->csize_mask;
    *off = e & s->cluster_offset_mask;
    *len = ((*off & ~511ULL) + (nb + 1) * 512) - *off;
}

bool qcow2_entry_ok(BDRVQcow2State *s, uint64_t e, const char **why)
{
    int t = qcow2_entry_type(s, e);
    uint64_t reserved = L2E_STD_RESERVED_MASK | (s->version < 3 ? 1 : 0);
    if (t == CLUSTER_COMPRESSED) {
        uint64_t off, len;
        qcow2_compressed_range(s, e, &off, &len);
        if (e & QCOW_OFLAG_COPIED) {
            *why = "compressed cluster with the COPIED flag";
        } else if (off + len > (1ULL << 56)) {
            *why = "compressed data beyond the addressable range";
        } else if (qcow2_is_meta(s, off) ||
                   qcow2_is_meta(s, off + len - 1)) {
            *why = "compressed data overlaps metadata";
        } else {
            return true;
        }
        return false;
    }
    uint64_t off = e & L2E_OFFSET_MASK;
    if (e & reserved) {
        *why = "reserved bits set in an L2 entry";
    } else if (t == CLUSTER_UNALLOC && (e & QCOW_OFLAG_COPIED)) {
        *why = "unallocated cluster with the COPIED flag";
    } else if (off & (s->cluster_size - 1)) {
        *why = "cluster offset not aligned to the cluster size";
    } else if (off && qcow2_is_meta(s, off)) {
        *why = "data cluster overlaps metadata";
    } else {
        return true;
    }
    return false;
}

static int bad_entry(BDRVQcow2State *s, int64_t goff, uint64_t e,
                     const char *why)
{
    return qcow2_mark_corrupt(s, "%s (guest offset %#" PRIx64 ", L2 entry "
                              "%#" PRIx64 ")", why, goff, e);
}

static int get_l2(BDRVQcow2State *s, uint32_t l1_idx, uint64_t **l2)
{
    uint64_t off = s->l1[l1_idx] & L1E_OFFSET_MASK;
    return qcache_get(s->l2_cache, off, (void **)l2, true);
}

/*
 * How [off, off + bytes) starts: the length of the first run of one kind
 * (contiguous on the host for CLUSTER_NORMAL), within one L2 table.
 */
static int64_t get_mapping(BDRVQcow2State *s, int64_t off, int64_t bytes,
                           int *type, uint64_t *host, uint64_t *entry)
{
    uint64_t cs = s->cluster_size, in_cl = off & (cs - 1);
    uint32_t l1_idx = off >> (s->cluster_bits + s->l2_bits);
    uint32_t l2_idx = (off >> s->cluster_bits) & (s->l2_size - 1);
    int64_t max = MIN(bytes, (int64_t)(((uint64_t)s->l2_size - l2_idx) * cs - in_cl));
    uint64_t *l2;
    const char *why;

    *type = CLUSTER_UNALLOC;
    *host = *entry = 0;
    if (l1_idx >= s->l1_size || !(s->l1[l1_idx] & L1E_OFFSET_MASK)) {
        return max;
    }
    int ret = get_l2(s, l1_idx, &l2);
    if (ret) {
        return ret;
    }
    uint64_t e0 = be64(l2[l2_idx]);
    if (!qcow2_entry_ok(s, e0, &why)) {
        qcache_put(s->l2_cache, l2);
        return bad_entry(s, off, e0, why);
    }
    int t = qcow2_entry_type(s, e0);
    int64_t n = cs - in_cl;
    for (uint32_t j = l2_idx + 1; n < max && t != CLUSTER_COMPRESSED; j++) {
        uint64_t e = be64(l2[j]);
        if (qcow2_entry_type(s, e) != t || !qcow2_entry_ok(s, e, &why)) {
            break;
        }
        if (t == CLUSTER_NORMAL &&
            (e & L2E_OFFSET_MASK) != (e0 & L2E_OFFSET_MASK) + (j - l2_idx) * cs) {
            break;
        }
        n += cs;
    }
    qcache_put(s->l2_cache, l2);
    *type = t;
    *entry = e0;
    *host = t == CLUSTER_NORMAL ? (e0 & L2E_OFFSET_MASK) + in_cl : 0;
    return MIN(n, max);
}

static int read_compressed(BDRVQcow2State *s, uint64_t e, uint64_t in_cl,
                           const struct iovec *iov, int niov, int64_t len)
{
    uint64_t off, clen;
    qcow2_compressed_range(s, e, &off, &clen);
    uint8_t *in = g_malloc(clen), *out = g_malloc(s->cluster_size);
    int ret = bfile_pread(&s->file, off, in, clen);
    if (!ret) {
        ret = qcow2_decompress(s, out, s->cluster_size, in, clen);
        if (ret) {
            error_report("qcow2: '%s': compressed cluster at %#" PRIx64
                         " does not decompress", s->bs->filename, off);
        }
    }
    if (!ret) {
        iov_from_buf(iov, niov, 0, out + in_cl, len);
    }
    g_free(in);
    g_free(out);
    return ret;
}

int qcow2_preadv(BlockDriverState *bs, int64_t off, int64_t bytes,
                 const struct iovec *iov, int niov)
{
    BDRVQcow2State *s = bs->opaque;
    struct iovec *tmp = g_new(struct iovec, niov + 1);
    int64_t done = 0;
    int ret = 0;

    while (!ret && done < bytes) {
        int type;
        uint64_t host, e;
        g_mutex_lock(&s->lock);
        int64_t n = get_mapping(s, off + done, bytes - done, &type, &host, &e);
        if (n > 0 && (type == CLUSTER_NORMAL || type == CLUSTER_COMPRESSED)) {
            g_atomic_int_inc(&s->inflight);
        }
        g_mutex_unlock(&s->lock);
        if (n < 0) {
            ret = n;
            break;
        }
        int cnt = iov_slice(tmp, iov, niov, done, n);
        switch (type) {
        case CLUSTER_UNALLOC:
            if (bs->backing) {
                ret = bdrv_preadv(bs->backing, off + done, n, tmp, cnt);
                break;
            }
            /* fall through */
        case CLUSTER_ZERO:
            iov_memset(tmp, cnt, 0, 0, n);
            break;
        case CLUSTER_NORMAL:
            ret = bfile_preadv(&s->file, host, tmp, cnt);
            g_atomic_int_add(&s->inflight, -1);
            break;
        default:
            ret = read_compressed(s, e, (off + done) & (s->cluster_size - 1),
                                  tmp, cnt, n);
            g_atomic_int_add(&s->inflight, -1);
            break;
        }
        done += n;
    }
    g_free(tmp);
    return ret;
}

/* ---- writes ---- */

/* Does [first, last] meet guest clusters being allocated right now? */
bool qcow2_alloc_overlaps(BDRVQcow2State *s, uint64_t first, uint64_t last)
{
    for (guint i = 0; i < s->allocs->len; i++) {
        InflightAlloc *a = g_ptr_array_index(s->allocs, i);
        if (first <= a->last && a->first <= last) {
            return true;
        }
    }
    return false;
}

/*
 * A writable L2 table for l1_idx: allocated if missing, copied if shared
 * with a snapshot.  Refcounts reach the disk before the table, the table
 * before the L1 entry.
 */
int qcow2_get_l2_for_write(BDRVQcow2State *s, uint32_t l1_idx, uint64_t **l2)
{
    uint64_t e = s->l1[l1_idx], old = e & L1E_OFFSET_MASK;
    uint64_t *src = NULL, *t;
    int ret;

    if (old && (e & QCOW_OFLAG_COPIED)) {
        return qcache_get(s->l2_cache, old, (void **)l2, true);
    }
    int64_t nw = qcow2_alloc_clusters(s, 1);
    if (nw < 0) {
        return nw;
    }
    qcow2_meta_add(s, nw, s->cluster_size);
    if (old && (ret = qcache_get(s->l2_cache, old, (void **)&src, true))) {
        return ret;
    }
    if ((ret = qcache_get(s->l2_cache, nw, (void **)&t, false))) {
        if (src) {
            qcache_put(s->l2_cache, src);
        }
        return ret;
    }
    if (src) {
        /* Shared: every cluster it maps is shared too. */
        for (uint32_t i = 0; i < s->l2_size; i++) {
            t[i] = src[i] & be64(~QCOW_OFLAG_COPIED);
        }
        qcache_put(s->l2_cache, src);
    }
    ret = qcache_write(s->l2_cache, t);
    if (!ret) {
        s->l1[l1_idx] = nw | QCOW_OFLAG_COPIED;
        ret = qcow2_write_l1_entry(s, l1_idx);
    }
    if (ret) {
        qcache_put(s->l2_cache, t);
        return ret;
    }
    if (old) {
        qcow2_free_later(s, old, s->cluster_size);
    }
    *l2 = t;
    return 0;
}

static bool in_place(BDRVQcow2State *s, uint64_t e)
{
    return qcow2_entry_type(s, e) == CLUSTER_NORMAL && (e & QCOW_OFLAG_COPIED);
}

/* Old content of part of a guest cluster, for copy-on-write. */
static int read_old(BlockDriverState *bs, uint64_t e, int64_t gcl,
                    uint64_t from, void *buf, uint64_t len)
{
    BDRVQcow2State *s = bs->opaque;
    struct iovec iov = { buf, len };
    if (!len) {
        return 0;
    }
    switch (qcow2_entry_type(s, e)) {
    case CLUSTER_NORMAL:
        return bfile_pread(&s->file, (e & L2E_OFFSET_MASK) + from, buf, len);
    case CLUSTER_COMPRESSED:
        return read_compressed(s, e, from, &iov, 1, len);
    case CLUSTER_UNALLOC:
        if (bs->backing) {
            return bdrv_pread(bs->backing, gcl + from, buf, len);
        }
        /* fall through */
    default:
        memset(buf, 0, len);
        return 0;
    }
}

static bool reads_zero(BlockDriverState *bs, uint64_t e)
{
    int t = qcow2_entry_type(bs->opaque, e);
    return t == CLUSTER_ZERO || (t == CLUSTER_UNALLOC && !bs->backing);
}

static void free_entry_later(BDRVQcow2State *s, uint64_t e)
{
    uint64_t off = e & L2E_OFFSET_MASK, len = s->cluster_size;
    int t = qcow2_entry_type(s, e);
    if (t == CLUSTER_COMPRESSED) {
        qcow2_compressed_range(s, e, &off, &len);
    } else if (t == CLUSTER_UNALLOC) {
        return;
    }
    if (off) {
        qcow2_free_later(s, off, len);
    }
}

/* Write [goff, goff + max) up to the end of one run; *n gets its length. */
static int write_run(BlockDriverState *bs, int64_t goff, int64_t max,
                     const struct iovec *iov, int niov, size_t iov_off,
                     int64_t *n)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t cs = s->cluster_size, in_cl = goff & (cs - 1);
    uint64_t first = goff >> s->cluster_bits;
    uint32_t l1_idx = goff >> (s->cluster_bits + s->l2_bits);
    uint32_t l2_idx = first & (s->l2_size - 1);
    int64_t lim = MIN(max, (int64_t)(((uint64_t)s->l2_size - l2_idx) * cs - in_cl));
    uint64_t *l2, *old = NULL;
    const char *why;
    int ret;

    g_mutex_lock(&s->lock);
    while (qcow2_alloc_overlaps(s, first, (goff + lim - 1) >> s->cluster_bits)) {
        g_cond_wait(&s->alloc_cond, &s->lock);
    }
    if (s->corrupt) {
        g_mutex_unlock(&s->lock);
        return -EIO;
    }
    if ((ret = qcow2_get_l2_for_write(s, l1_idx, &l2))) {
        g_mutex_unlock(&s->lock);
        return ret;
    }
    uint64_t e0 = be64(l2[l2_idx]);
    bool place = in_place(s, e0);
    uint64_t k = 0;
    int64_t len = 0;
    while (len < lim) {
        uint64_t e = be64(l2[l2_idx + k]);
        if (!qcow2_entry_ok(s, e, &why)) {
            if (!k) {
                qcache_put(s->l2_cache, l2);
                ret = bad_entry(s, goff, e, why);
                g_mutex_unlock(&s->lock);
                return ret;
            }
            break;
        }
        if (in_place(s, e) != place || (place &&
            (e & L2E_OFFSET_MASK) != (e0 & L2E_OFFSET_MASK) + k * cs)) {
            break;
        }
        len = MIN(lim, (int64_t)((k + 1) * cs - in_cl));
        k++;
    }
    if (place) {
        qcache_put(s->l2_cache, l2);
        g_atomic_int_inc(&s->inflight);
        g_mutex_unlock(&s->lock);
        struct iovec tmp[niov + 1];
        int cnt = iov_slice(tmp, iov, niov, iov_off, len);
        ret = bfile_pwritev(&s->file, (e0 & L2E_OFFSET_MASK) + in_cl, tmp, cnt);
        g_atomic_int_add(&s->inflight, -1);
        *n = len;
        return ret;
    }

    old = g_new(uint64_t, k);
    for (uint64_t i = 0; i < k; i++) {
        old[i] = be64(l2[l2_idx + i]);
    }
    qcache_put(s->l2_cache, l2);
    int64_t host = qcow2_alloc_clusters(s, k);
    if (host < 0) {
        g_mutex_unlock(&s->lock);
        g_free(old);
        return host;
    }
    bool fresh = s->last_alloc_fresh;
    InflightAlloc alloc = { first, first + k - 1 };
    g_ptr_array_add(s->allocs, &alloc);
    g_atomic_int_inc(&s->inflight);
    g_mutex_unlock(&s->lock);

    /* Data plus the old content around it, in one transfer; zeros need
     * not be written into space that was never written. */
    uint64_t head = in_cl, tail = k * cs - in_cl - len;
    uint64_t skip = 0;
    if (fresh && reads_zero(bs, old[0])) {
        skip = head;
        head = 0;
    }
    if (fresh && reads_zero(bs, old[k - 1])) {
        tail = 0;
    }
    uint8_t *hbuf = head ? block_alloc(head) : NULL;
    uint8_t *tbuf = tail ? block_alloc(tail) : NULL;
    struct iovec *wiov = g_new(struct iovec, niov + 3);
    int cnt = 0;
    ret = (head && !hbuf) || (tail && !tbuf) ? -ENOMEM : 0;
    if (!ret) {
        ret = read_old(bs, old[0], first * cs, 0, hbuf, head);
    }
    if (!ret) {
        ret = read_old(bs, old[k - 1], (first + k - 1) * cs, cs - tail,
                       tbuf, tail);
    }
    if (!ret) {
        if (head) {
            wiov[cnt++] = (struct iovec){ hbuf, head };
        }
        cnt += iov_slice(wiov + cnt, iov, niov, iov_off, len);
        if (tail) {
            wiov[cnt++] = (struct iovec){ tbuf, tail };
        }
        ret = bfile_pwritev(&s->file, host + skip, wiov, cnt);
    }
    free(hbuf);
    free(tbuf);
    g_free(wiov);

    g_mutex_lock(&s->lock);
    if (!ret) {
        ret = get_l2(s, l1_idx, &l2);
    }
    if (!ret) {
        for (uint64_t i = 0; i < k; i++) {
            l2[l2_idx + i] = be64((host + i * cs) | QCOW_OFLAG_COPIED);
            free_entry_later(s, old[i]);
        }
        qcache_dirty(s->l2_cache, l2);
        qcache_put(s->l2_cache, l2);
    } else {
        qcow2_free_now(s, host, k * cs);
    }
    g_ptr_array_remove_fast(s->allocs, &alloc);
    g_cond_broadcast(&s->alloc_cond);
    g_atomic_int_add(&s->inflight, -1);
    g_mutex_unlock(&s->lock);
    g_free(old);
    *n = len;
    return ret;
}

int qcow2_pwritev(BlockDriverState *bs, int64_t off, int64_t bytes,
                  const struct iovec *iov, int niov)
{
    int64_t done = 0;
    while (done < bytes) {
        int64_t n = 0;
        int ret = write_run(bs, off + done, bytes - done, iov, niov, done, &n);
        if (ret) {
            return ret;
        }
        done += n;
    }
    return 0;
}

/* ---- zeroing, discard ---- */

enum { SET_ZERO, SET_UNALLOC };

/* Whole clusters [first, first + count) become zero or unallocated. */
static int set_clusters(BlockDriverState *bs, uint64_t first, uint64_t count,
                        int mode)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = 0;
    g_mutex_lock(&s->lock);
    while (!ret && count) {
        uint32_t l1_idx = first >> s->l2_bits;
        uint32_t l2_idx = first & (s->l2_size - 1);
        uint64_t n = MIN(count, (uint64_t)s->l2_size - l2_idx);
        uint64_t *l2;
        if (qcow2_alloc_overlaps(s, first, first + n - 1)) {
            g_cond_wait(&s->alloc_cond, &s->lock);
            continue;
        }
        if (s->corrupt) {
            ret = -EIO;
            break;
        }
        bool no_table = l1_idx >= s->l1_size ||
                        !(s->l1[l1_idx] & L1E_OFFSET_MASK);
        if (no_table && (mode == SET_UNALLOC || !bs->backing)) {
            first += n;
            count -= n;
            continue;           /* already reads as wanted */
        }
        if ((ret = qcow2_get_l2_for_write(s, l1_idx, &l2))) {
            break;
        }
        bool dirty = false;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t e = be64(l2[l2_idx + i]);
            uint64_t ne = mode == SET_ZERO ? QCOW_OFLAG_ZERO : 0;
            if (e != ne) {
                free_entry_later(s, e);
                l2[l2_idx + i] = be64(ne);
                dirty = true;
            }
        }
        if (dirty) {
            qcache_dirty(s->l2_cache, l2);
        }
        qcache_put(s->l2_cache, l2);
        first += n;
        count -= n;
    }
    g_mutex_unlock(&s->lock);
    return ret;
}

static int write_zero_bytes(BlockDriverState *bs, int64_t off, int64_t bytes)
{
    size_t chunk = MIN(bytes, (int64_t)(1 << 20));
    uint8_t *buf = block_alloc(chunk);
    int ret = buf ? 0 : -ENOMEM;
    for (int64_t pos = off; !ret && pos < off + bytes; pos += chunk) {
        struct iovec iov = { buf, MIN((int64_t)chunk, off + bytes - pos) };
        ret = qcow2_pwritev(bs, pos, iov.iov_len, &iov, 1);
    }
    free(buf);
    return ret;
}

/*
 * The whole clusters inside [off, off + bytes); a request that reaches the
 * end of the image also covers its last, partial cluster.
 */
static void whole_clusters(BlockDriverState *bs, int64_t off, int64_t bytes,
                           int64_t *start, int64_t *end)
{
    BDRVQcow2State *s = bs->opaque;
    int64_t cs = s->cluster_size;

    *start = ALIGN_UP(off, cs);
    *end = off + bytes == bs->size ? ALIGN_UP(off + bytes, cs)
                                   : ALIGN_DOWN(off + bytes, cs);
}

int qcow2_pwrite_zeroes(BlockDriverState *bs, int64_t off, int64_t bytes,
                        int flags)
{
    BDRVQcow2State *s = bs->opaque;
    int64_t start, end;

    whole_clusters(bs, off, bytes, &start, &end);
    int ret = 0;

    if (start >= end || (s->version < 3 && bs->backing)) {
        return write_zero_bytes(bs, off, bytes);
    }
    if (start > off) {
        ret = write_zero_bytes(bs, off, start - off);
    }
    if (!ret) {
        ret = set_clusters(bs, start >> s->cluster_bits,
                           (end - start) >> s->cluster_bits,
                           s->version >= 3 ? SET_ZERO : SET_UNALLOC);
    }
    if (!ret && end < off + bytes) {
        ret = write_zero_bytes(bs, end, off + bytes - end);
    }
    return ret;
}

int qcow2_pdiscard(BlockDriverState *bs, int64_t off, int64_t bytes,
                   int flags)
{
    BDRVQcow2State *s = bs->opaque;
    int64_t start, end;

    whole_clusters(bs, off, bytes, &start, &end);
    if (start >= end) {
        return 0;
    }
    /* With a backing file a discarded cluster must not show old data. */
    int mode = (!(flags & BDRV_REQ_DEALLOCATE) && bs->backing &&
                s->version >= 3) ? SET_ZERO : SET_UNALLOC;
    return set_clusters(bs, start >> s->cluster_bits,
                        (end - start) >> s->cluster_bits, mode);
}

/* ---- compressed writes (kestrel-img convert -c) ---- */

int qcow2_pwrite_compressed(BlockDriverState *bs, int64_t off, int64_t bytes,
                            const void *buf)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t cs = s->cluster_size;
    uint8_t *in = g_malloc0(cs), *out = g_malloc(cs);
    int ret;

    if ((off & (cs - 1)) || bytes > (int64_t)cs ||
        (bytes < (int64_t)cs && off + bytes != bs->size)) {
        ret = -EINVAL;
        goto done;
    }
    memcpy(in, buf, bytes);
    ssize_t clen = qcow2_compress(s, out, cs - 1, in, cs);
    if (clen < 0) {
        /* Does not shrink: store it plainly. */
        struct iovec iov = { in, bytes };
        ret = qcow2_pwritev(bs, off, bytes, &iov, 1);
        goto done;
    }
    uint64_t cl = off >> s->cluster_bits;
    uint32_t l1_idx = cl >> s->l2_bits, l2_idx = cl & (s->l2_size - 1);
    uint64_t *l2;
    g_mutex_lock(&s->lock);
    while (qcow2_alloc_overlaps(s, cl, cl)) {
        g_cond_wait(&s->alloc_cond, &s->lock);
    }
    ret = s->corrupt ? -EIO : qcow2_get_l2_for_write(s, l1_idx, &l2);
    if (!ret) {
        int64_t host = qcow2_alloc_bytes(s, clen);
        ret = host < 0 ? host : bfile_pwrite(&s->file, host, out, clen);
        if (!ret) {
            uint64_t nb = ((host + clen - 1) >> 9) - (host >> 9);
            free_entry_later(s, be64(l2[l2_idx]));
            l2[l2_idx] = be64(QCOW_OFLAG_COMPRESSED |
                              (nb << s->csize_shift) | host);
            qcache_dirty(s->l2_cache, l2);
        }
        qcache_put(s->l2_cache, l2);
    }
    g_mutex_unlock(&s->lock);
done:
    g_free(in);
    g_free(out);
    return ret;
}

int qcow2_block_status(BlockDriverState *bs, int64_t off, int64_t bytes,
                       int64_t *pnum, int64_t *map)
{
    BDRVQcow2State *s = bs->opaque;
    int type;
    uint64_t host, e;
    g_mutex_lock(&s->lock);
    int64_t n = get_mapping(s, off, bytes, &type, &host, &e);
    g_mutex_unlock(&s->lock);
    if (n < 0) {
        return n;
    }
    *pnum = n;
    switch (type) {
    case CLUSTER_UNALLOC:
        return bs->backing ? 0 : BDRV_BLOCK_ZERO;
    case CLUSTER_ZERO:
        return BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_ZERO;
    case CLUSTER_NORMAL:
        *map = host;
        return BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET;
    default:
        return BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_DATA | BDRV_BLOCK_COMPRESSED;
    }
}

/* ---- preallocation ---- */

int qcow2_preallocate(BDRVQcow2State *s, uint64_t from, uint64_t to, int mode)
{
    uint64_t cs = s->cluster_size, end = 0;
    int ret = 0;
    g_mutex_lock(&s->lock);
    for (uint64_t cl = from >> s->cluster_bits;
         !ret && cl < size_to_clusters(s, to); ) {
        uint32_t l1_idx = cl >> s->l2_bits, l2_idx = cl & (s->l2_size - 1);
        uint64_t n = MIN((uint64_t)s->l2_size - l2_idx,
                         size_to_clusters(s, to) - cl);
        uint64_t *l2;
        if ((ret = qcow2_get_l2_for_write(s, l1_idx, &l2))) {
            break;
        }
        int64_t host = qcow2_alloc_clusters(s, n);
        if (host < 0) {
            ret = host;
        } else {
            for (uint64_t i = 0; i < n; i++) {
                if (qcow2_entry_type(s, be64(l2[l2_idx + i])) != CLUSTER_UNALLOC) {
                    qcow2_free_now(s, host + i * cs, cs);
                    continue;
                }
                l2[l2_idx + i] = be64((host + i * cs) | QCOW_OFLAG_COPIED);
            }
            qcache_dirty(s->l2_cache, l2);
            end = MAX(end, host + n * cs);
            if (mode != PREALLOC_METADATA) {
                ret = bfile_allocate(&s->file, host, n * cs,
                                     mode == PREALLOC_FULL);
            }
        }
        qcache_put(s->l2_cache, l2);
        cl += n;
    }
    if (!ret && end > (uint64_t)bfile_length(&s->file)) {
        ret = bfile_truncate(&s->file, end);
    }
    g_mutex_unlock(&s->lock);
    return ret;
}
