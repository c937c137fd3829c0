/*
 * qcow2 refcounts: entries of any width (1 to 64 bits), refcount blocks
 * that describe themselves when created, a refcount table that grows by
 * moving, cluster and byte (compressed data) allocation, deferred frees,
 * and the walks over whole L1/L2 trees that snapshots need.
 */
#include "qcow2.h"

uint64_t rb_get(const void *blk, uint64_t i, int order)
{
    const uint8_t *p = blk;
    switch (order) {
    case 0: case 1: case 2: {
        int bits = 1 << order;
        uint64_t bit = i * bits;
        return (p[bit / 8] >> (bit % 8)) & ((1 << bits) - 1);
    }
    case 3: return p[i];
    case 4: return lduw_be(p + 2 * i);
    case 5: return ldl_be(p + 4 * i);
    default: return ldq_be(p + 8 * i);
    }
}

void rb_set(void *blk, uint64_t i, int order, uint64_t v)
{
    uint8_t *p = blk;
    switch (order) {
    case 0: case 1: case 2: {
        int bits = 1 << order;
        uint64_t bit = i * bits;
        uint8_t mask = ((1 << bits) - 1) << (bit % 8);
        p[bit / 8] = (p[bit / 8] & ~mask) | ((v << (bit % 8)) & mask);
        break;
    }
    case 3: p[i] = v; break;
    case 4: stw_be(p + 2 * i, v); break;
    case 5: stl_be(p + 4 * i, v); break;
    default: stq_be(p + 8 * i, v); break;
    }
}

int qcow2_get_refcount(BDRVQcow2State *s, uint64_t cluster, uint64_t *rc)
{
    uint64_t rt = cluster >> s->rb_bits;
    void *blk;
    *rc = 0;
    if (rt >= s->reft_size || !s->reft[rt]) {
        return 0;
    }
    int ret = qcache_get(s->rb_cache, s->reft[rt], &blk, true);
    if (ret) {
        return ret;
    }
    *rc = rb_get(blk, cluster & ((1ULL << s->rb_bits) - 1), s->refcount_order);
    qcache_put(s->rb_cache, blk);
    return 0;
}

static int write_reft_entry(BDRVQcow2State *s, uint64_t rt)
{
    uint64_t v = be64(s->reft[rt]);
    return bfile_pwrite(&s->file, s->reft_offset + rt * 8, &v, 8);
}

/*
 * A bigger refcount table, placed (with the new refcount blocks that
 * describe it) at the first cluster the old table could not describe.
 */
/*
 * Write a new refcount table at toff and point the header at it; the
 * flush between keeps the header from naming a table not yet on disk.
 */
int qcow2_commit_reftable(BDRVQcow2State *s, const uint64_t *table,
                          uint64_t bytes, uint64_t toff, uint32_t clusters)
{
    int ret = bfile_pwrite(&s->file, toff, table, bytes);
    if (!ret) {
        ret = bfile_flush(&s->file);
    }
    if (!ret) {
        uint8_t hdr[12];
        stq_be(hdr, toff);              /* refcount_table_offset */
        stl_be(hdr + 8, clusters);      /* refcount_table_clusters */
        ret = bfile_pwrite(&s->file, 48, hdr, 12);
    }
    return ret;
}

static int grow_reftable(BDRVQcow2State *s, uint64_t min_entries)
{
    uint64_t per_cluster = s->cluster_size / 8;
    uint64_t entries = MAX(min_entries, s->reft_size * 2);
    entries = ALIGN_UP(entries, per_cluster);
    uint64_t start = s->reft_size << s->rb_bits;
    uint64_t tclusters = entries / per_cluster, nb = 0;

    if (entries * 8 > MAX_REFTABLE_BYTES) {
        return -EFBIG;
    }
    /* The new blocks must cover the table and themselves. */
    for (;;) {
        uint64_t need = (tclusters + nb + (1ULL << s->rb_bits) - 1) >> s->rb_bits;
        if (need <= nb) {
            break;
        }
        nb = need;
    }
    uint64_t first_rt = start >> s->rb_bits;
    if (first_rt + nb > entries) {
        entries = ALIGN_UP(first_rt + nb, per_cluster);
        return grow_reftable(s, entries);
    }
    uint64_t *table = block_alloc(entries * 8);
    uint8_t *blk = block_alloc(s->cluster_size);
    int ret = (table && blk) ? 0 : -ENOMEM;
    uint64_t toff = start << s->cluster_bits;
    uint64_t boff = (start + tclusters) << s->cluster_bits;

    for (uint64_t b = 0; !ret && b < nb; b++) {
        memset(blk, 0, s->cluster_size);
        for (uint64_t c = start; c < start + tclusters + nb; c++) {
            if ((c >> s->rb_bits) == first_rt + b) {
                rb_set(blk, c & ((1ULL << s->rb_bits) - 1), s->refcount_order, 1);
            }
        }
        ret = bfile_pwrite(&s->file, boff + (b << s->cluster_bits), blk,
                           s->cluster_size);
    }
    if (!ret) {
        for (uint64_t i = 0; i < s->reft_size; i++) {
            table[i] = be64(s->reft[i]);
        }
        for (uint64_t b = 0; b < nb; b++) {
            table[first_rt + b] = be64(boff + (b << s->cluster_bits));
        }
        ret = qcow2_commit_reftable(s, table, entries * 8, toff, tclusters);
    }
    if (!ret) {
        uint64_t old_off = s->reft_offset, old_clusters = s->reft_clusters;
        g_free(s->reft);
        s->reft = g_new0(uint64_t, entries);
        for (uint64_t i = 0; i < entries; i++) {
            s->reft[i] = be64(table[i]);
        }
        s->reft_size = entries;
        s->reft_offset = toff;
        s->reft_clusters = tclusters;
        qcow2_meta_add(s, toff, (tclusters + nb) << s->cluster_bits);
        qcow2_meta_del(s, old_off, old_clusters << s->cluster_bits);
        ret = qcow2_free_now(s, old_off, old_clusters << s->cluster_bits);
    }
    free(table);
    free(blk);
    return ret;
}

/* Write a new refcount block at off for table index rt. */
static int new_refblock(BDRVQcow2State *s, uint64_t rt, uint64_t off)
{
    void *blk;
    uint64_t cl = off >> s->cluster_bits;
    bool self = (cl >> s->rb_bits) == rt;
    int ret;
    if (!self && (ret = qcow2_update_refcount(s, cl, 1))) {
        return ret;
    }
    if ((ret = qcache_get(s->rb_cache, off, &blk, false))) {
        return ret;
    }
    if (self) {
        rb_set(blk, cl & ((1ULL << s->rb_bits) - 1), s->refcount_order, 1);
    }
    ret = bfile_pwrite(&s->file, off, blk, s->cluster_size);
    qcache_put(s->rb_cache, blk);
    if (ret) {
        qcache_forget(s->rb_cache, off);
        return ret;
    }
    s->reft[rt] = off;
    qcow2_meta_add(s, off, s->cluster_size);
    return write_reft_entry(s, rt);
}

/*
 * A refcount block for table index rt, in the first free cluster outside
 * [ex_first, ex_end) (the run being allocated).  A cluster whose own range
 * has no block yet gets that range's block, describing itself.
 */
static int ensure_refblock(BDRVQcow2State *s, uint64_t rt, uint64_t ex_first,
                           uint64_t ex_end)
{
    while (rt >= s->reft_size || !s->reft[rt]) {
        if (rt >= s->reft_size) {
            int ret = grow_reftable(s, rt + 1);
            if (ret) {
                return ret;
            }
            continue;
        }
        uint64_t c = s->free_cluster_index, rc;
        for (;; c++) {
            if (c >= ex_first && c < ex_end) {
                c = ex_end - 1;
                continue;
            }
            int ret = qcow2_get_refcount(s, c, &rc);
            if (ret) {
                return ret;
            }
            if (!rc && c) {
                break;
            }
        }
        uint64_t rt2 = c >> s->rb_bits;
        if (rt2 >= s->reft_size) {
            int ret = grow_reftable(s, rt2 + 1);
            if (ret) {
                return ret;
            }
            continue;
        }
        uint64_t off = c << s->cluster_bits;
        if (qcow2_is_meta(s, off)) {
            return qcow2_mark_corrupt(s, "free cluster %#" PRIx64 " holds "
                                      "metadata", off);
        }
        int ret = new_refblock(s, s->reft[rt2] ? rt : rt2, off);
        if (ret) {
            return ret;
        }
    }
    return 0;
}

static void cluster_freed(BDRVQcow2State *s, uint64_t cluster)
{
    uint64_t off = cluster << s->cluster_bits;
    if (cluster < s->free_cluster_index) {
        s->free_cluster_index = cluster;
    }
    if ((s->free_byte_offset >> s->cluster_bits) == cluster) {
        s->free_byte_offset = 0;
    }
    if (qcow2_is_meta(s, off)) {
        qcow2_meta_del(s, off, s->cluster_size);
        qcache_forget(s->l2_cache, off);
    }
}

int qcow2_update_refcount(BDRVQcow2State *s, uint64_t cluster, int64_t delta)
{
    uint64_t rt = cluster >> s->rb_bits;
    void *blk;
    int ret;

    if (rt >= s->reft_size || !s->reft[rt]) {
        if (delta < 0) {
            return qcow2_mark_corrupt(s, "freeing cluster %#" PRIx64
                                      " that has no refcount",
                                      cluster << s->cluster_bits);
        }
        if ((ret = ensure_refblock(s, rt, 0, 0))) {
            return ret;
        }
    }
    if ((ret = qcow2_mark_dirty(s))) {
        return ret;
    }
    ret = qcache_get(s->rb_cache, s->reft[rt], &blk, true);
    if (ret) {
        return ret;
    }
    uint64_t i = cluster & ((1ULL << s->rb_bits) - 1);
    uint64_t old = rb_get(blk, i, s->refcount_order);
    if (delta < 0 && old < (uint64_t)-delta) {
        qcache_put(s->rb_cache, blk);
        return qcow2_mark_corrupt(s, "refcount of cluster %#" PRIx64
                                  " would drop below zero",
                                  cluster << s->cluster_bits);
    }
    if (delta > 0 && s->refcount_max - old < (uint64_t)delta) {
        qcache_put(s->rb_cache, blk);
        error_report("qcow2: refcount of cluster %#" PRIx64 " would "
                     "overflow %d bits", cluster << s->cluster_bits,
                     1 << s->refcount_order);
        return -ERANGE;
    }
    rb_set(blk, i, s->refcount_order, old + delta);
    qcache_dirty(s->rb_cache, blk);
    qcache_put(s->rb_cache, blk);
    if (old + delta == 0) {
        cluster_freed(s, cluster);
    }
    return 0;
}

#define MAX_HOST_CLUSTER_OFFSET (1ULL << 56)

int64_t qcow2_alloc_clusters(BDRVQcow2State *s, uint64_t n)
{
    for (;;) {
        uint64_t i = s->free_cluster_index, start = i, run = 0, rc;
        uint64_t first_free = UINT64_MAX;
        while (run < n) {
            int ret = qcow2_get_refcount(s, i, &rc);
            if (ret) {
                return ret;
            }
            if (rc == 0) {
                start = run ? start : i;
                first_free = MIN(first_free, i);
                run++;
            } else {
                run = 0;
            }
            i++;
        }
        if (((start + n) << s->cluster_bits) > MAX_HOST_CLUSTER_OFFSET) {
            return -EFBIG;
        }
        bool changed = false;
        for (uint64_t rt = start >> s->rb_bits;
             rt <= (start + n - 1) >> s->rb_bits; rt++) {
            if (rt >= s->reft_size || !s->reft[rt]) {
                int ret = ensure_refblock(s, rt, start, start + n);
                if (ret) {
                    return ret;
                }
                changed = true;
            }
        }
        if (changed) {
            continue;           /* the new blocks may sit in our run */
        }
        for (uint64_t c = start; c < start + n; c++) {
            int ret = qcow2_update_refcount(s, c, 1);
            if (ret) {
                return ret;
            }
        }
        /* Nothing before first_free is free: start there next time. */
        s->free_cluster_index = first_free == start ? start + n : first_free;
        /* Never-written space reads as zeros: copy-on-write of zeros into
         * it can be skipped. */
        s->last_alloc_fresh = start >= s->alloc_high;
        s->alloc_high = MAX(s->alloc_high, start + n);
        return (int64_t)(start << s->cluster_bits);
    }
}

/*
 * The fast path's allocator (main thread, lock held): only when every
 * refcount block involved is cached and nothing needs writing first;
 * -EAGAIN sends the request to a worker instead.
 */
int64_t qcow2_alloc_clusters_nowait(BDRVQcow2State *s, uint64_t n)
{
    uint64_t mask = (1ULL << s->rb_bits) - 1;
    uint64_t i = s->free_cluster_index, start = i, run = 0;
    uint64_t first_free = UINT64_MAX, blk_rt = UINT64_MAX;
    void *blk = NULL;

    if (s->lazy && !s->dirty_on_disk) {
        return -EAGAIN;
    }
    for (int scanned = 0; run < n; i++, scanned++) {
        uint64_t rt = i >> s->rb_bits;
        if (scanned > 1024 || rt >= s->reft_size || !s->reft[rt]) {
            return -EAGAIN;
        }
        if (rt != blk_rt && !(blk = qcache_peek(s->rb_cache, s->reft[rt]))) {
            return -EAGAIN;
        }
        blk_rt = rt;
        if (rb_get(blk, i & mask, s->refcount_order) == 0) {
            start = run ? start : i;
            first_free = MIN(first_free, i);
            run++;
        } else {
            run = 0;
        }
    }
    if (((start + n) << s->cluster_bits) > MAX_HOST_CLUSTER_OFFSET) {
        return -EAGAIN;
    }
    for (uint64_t c = start; c < start + n; c++) {
        blk = qcache_peek(s->rb_cache, s->reft[c >> s->rb_bits]);
        rb_set(blk, c & mask, s->refcount_order, 1);
        qcache_dirty(s->rb_cache, blk);
    }
    s->free_cluster_index = first_free == start ? start + n : first_free;
    s->last_alloc_fresh = start >= s->alloc_high;
    s->alloc_high = MAX(s->alloc_high, start + n);
    return (int64_t)(start << s->cluster_bits);
}

/* Space for compressed data, packed: clusters may hold several. */
int64_t qcow2_alloc_bytes(BDRVQcow2State *s, uint64_t size)
{
    uint64_t off = s->free_byte_offset, mask = s->cluster_size - 1, rc;
    int ret;

    if (off & mask) {
        uint64_t cl = off >> s->cluster_bits;
        if (size <= s->cluster_size - (off & mask)) {
            if ((ret = qcow2_update_refcount(s, cl, 1))) {
                return ret;
            }
            s->free_byte_offset = off + size;
            return off;
        }
        /* Spill into the next cluster if it is free. */
        uint64_t rt = (cl + 1) >> s->rb_bits;
        if (rt < s->reft_size && s->reft[rt] &&
            !qcow2_get_refcount(s, cl + 1, &rc) && rc == 0) {
            if ((ret = qcow2_update_refcount(s, cl + 1, 1)) ||
                (ret = qcow2_update_refcount(s, cl, 1))) {
                return ret;
            }
            if (cl + 1 == s->free_cluster_index) {
                s->free_cluster_index++;
            }
            s->free_byte_offset = off + size;
            return off;
        }
    }
    int64_t n = qcow2_alloc_clusters(s, 1);
    if (n < 0) {
        return n;
    }
    s->free_byte_offset = n + size;
    return n;
}

void qcow2_free_later(BDRVQcow2State *s, uint64_t offset, uint64_t bytes)
{
    PendingFree p = { offset, bytes };
    g_array_append_val(s->pending, p);
}

int qcow2_free_now(BDRVQcow2State *s, uint64_t offset, uint64_t bytes)
{
    uint64_t first = offset >> s->cluster_bits;
    uint64_t last = (offset + bytes - 1) >> s->cluster_bits;
    for (uint64_t c = first; bytes && c <= last; c++) {
        int ret = qcow2_update_refcount(s, c, -1);
        if (ret) {
            return ret;
        }
    }
    return 0;
}

/*
 * Apply the held-back decrements: first the L2 tables that dropped the
 * references reach the disk, then the refcounts go down.  The caller makes
 * sure no request still uses the clusters (s->inflight == 0).
 */
int qcow2_apply_pending(BDRVQcow2State *s)
{
    if (!s->pending->len) {
        return 0;
    }
    int ret = qcache_flush(s->l2_cache);
    if (!ret) {
        ret = bfile_flush(&s->file);
    }
    for (guint i = 0; !ret && i < s->pending->len; i++) {
        PendingFree *p = &g_array_index(s->pending, PendingFree, i);
        ret = qcow2_free_now(s, p->offset, p->bytes);
    }
    g_array_set_size(s->pending, 0);
    return ret;
}

int qcow2_entry_refcount_delta(BDRVQcow2State *s, uint64_t entry, int64_t d)
{
    uint64_t off, len;
    switch (qcow2_entry_type(s, entry)) {
    case CLUSTER_COMPRESSED:
        qcow2_compressed_range(s, entry, &off, &len);
        break;
    case CLUSTER_NORMAL:
    case CLUSTER_ZERO:
        off = entry & L2E_OFFSET_MASK;
        len = off ? s->cluster_size : 0;
        break;
    default:
        return 0;
    }
    if (!len) {
        return 0;
    }
    uint64_t first = off >> s->cluster_bits;
    uint64_t last = (off + len - 1) >> s->cluster_bits;
    for (uint64_t c = first; c <= last; c++) {
        int ret = qcow2_update_refcount(s, c, d);
        if (ret) {
            return ret;
        }
    }
    return 0;
}

/* Add delta to every cluster reachable from an L1 table (snapshots). */
int qcow2_tree_refcount(BDRVQcow2State *s, const uint64_t *l1, uint32_t n,
                        int64_t delta)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t l2off = l1[i] & L1E_OFFSET_MASK;
        uint64_t *l2;
        if (!l2off) {
            continue;
        }
        int ret = qcow2_update_refcount(s, l2off >> s->cluster_bits, delta);
        if (!ret) {
            ret = qcache_get(s->l2_cache, l2off, (void **)&l2, true);
        }
        if (ret) {
            return ret;
        }
        for (uint32_t j = 0; j < s->l2_size && !ret; j++) {
            ret = qcow2_entry_refcount_delta(s, be64(l2[j]), delta);
        }
        qcache_put(s->l2_cache, l2);
        if (ret) {
            return ret;
        }
    }
    return 0;
}

/* Recompute the COPIED flags (refcount == 1) of the active tables. */
int qcow2_fix_copied(BDRVQcow2State *s)
{
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t l2off = s->l1[i] & L1E_OFFSET_MASK, rc;
        uint64_t *l2;
        if (!l2off) {
            continue;
        }
        int ret = qcow2_get_refcount(s, l2off >> s->cluster_bits, &rc);
        if (ret) {
            return ret;
        }
        uint64_t want = l2off | (rc == 1 ? QCOW_OFLAG_COPIED : 0);
        if (s->l1[i] != want) {
            s->l1[i] = want;
            if ((ret = qcow2_write_l1_entry(s, i))) {
                return ret;
            }
        }
        if ((ret = qcache_get(s->l2_cache, l2off, (void **)&l2, true))) {
            return ret;
        }
        bool dirty = false;
        for (uint32_t j = 0; j < s->l2_size && !ret; j++) {
            uint64_t e = be64(l2[j]), ne = e & ~QCOW_OFLAG_COPIED;
            int t = qcow2_entry_type(s, e);
            if ((t == CLUSTER_NORMAL || t == CLUSTER_ZERO) &&
                (e & L2E_OFFSET_MASK)) {
                ret = qcow2_get_refcount(s, (e & L2E_OFFSET_MASK) >>
                                         s->cluster_bits, &rc);
                ne |= rc == 1 ? QCOW_OFLAG_COPIED : 0;
            }
            if (ne != e) {
                l2[j] = be64(ne);
                dirty = true;
            }
        }
        if (dirty) {
            qcache_dirty(s->l2_cache, l2);
        }
        qcache_put(s->l2_cache, l2);
        if (ret) {
            return ret;
        }
    }
    return 0;
}
