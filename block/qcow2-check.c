/*
 * qcow2 consistency check and repair.  Every cluster reachable from the
 * header, the L1 tables (active and snapshots), the refcount structures and
 * the snapshot table is counted, then compared with the stored refcounts:
 * a stored count below the real one is corruption (data may be overwritten),
 * one above is a leak (wasted space).  Repair of leaks lowers counts in
 * place; repair of errors drops invalid L2 entries and rebuilds the whole
 * refcount structure at the end of the file, then fixes the COPIED flags.
 */
#include "qcow2.h"
#include <stdarg.h>

typedef struct Check {
    BDRVQcow2State *s;
    FILE *out;                  /* the report, or NULL when quiet */
    BdrvCheckResult *res;
    int fix;
    uint32_t *refs;
    uint64_t nb;                /* clusters in refs[] (file size) */
    uint64_t last_data;         /* for the fragmentation count */
    bool rebuild;
} Check;

static void report(Check *c, const char *fmt, ...) PRINTF_FMT(2, 3);
static void report(Check *c, const char *fmt, ...)
{
    va_list ap;
    if (c->out) {
        va_start(ap, fmt);
        vfprintf(c->out, fmt, ap);
        va_end(ap);
    }
}

static void inc(Check *c, uint64_t off, uint64_t len, const char *what)
{
    if (!len) {
        return;
    }
    uint64_t first = off >> c->s->cluster_bits;
    uint64_t last = (off + len - 1) >> c->s->cluster_bits;
    for (uint64_t i = first; i <= last; i++) {
        if (i >= c->nb) {
            report(c, "ERROR %s at offset %#" PRIx64 " lies beyond "
                    "the end of the image file\n", what, i << c->s->cluster_bits);
            c->res->corruptions++;
            return;
        }
        if (c->refs[i] < UINT32_MAX) {
            c->refs[i]++;
        }
    }
}

/* Entries of one L2 table; invalid ones are dropped when fixing errors. */
static int check_l2(Check *c, uint64_t l2off, bool active)
{
    BDRVQcow2State *s = c->s;
    uint64_t *l2;
    int ret = qcache_get(s->l2_cache, l2off, (void **)&l2, true);
    if (ret) {
        report(c, "ERROR could not read L2 table at %#" PRIx64 "\n",
                l2off);
        c->res->check_errors++;
        return ret;
    }
    for (uint32_t j = 0; j < s->l2_size; j++) {
        uint64_t e = be64(l2[j]), off, len;
        const char *why;
        int t = qcow2_entry_type(s, e);
        bool bad = !qcow2_entry_ok(s, e, &why);
        if (!bad && t == CLUSTER_COMPRESSED) {
            qcow2_compressed_range(s, e, &off, &len);
        } else {
            off = e & L2E_OFFSET_MASK;
            len = (t == CLUSTER_UNALLOC || !off) ? 0 : s->cluster_size;
        }
        if (!bad && len && ((off + len + s->cluster_size - 1) >> s->cluster_bits) > c->nb) {
            bad = true;
            why = "cluster beyond the end of the image file";
        }
        if (bad) {
            report(c, "%s L2 entry %#" PRIx64 " (L2 table %#" PRIx64
                    ", index %u): %s\n", c->fix & BDRV_FIX_ERRORS ?
                    "Repairing" : "ERROR", e, l2off, j, why);
            c->res->corruptions++;
            if (c->fix & BDRV_FIX_ERRORS) {
                l2[j] = 0;
                qcache_dirty(s->l2_cache, l2);
                c->res->corruptions_fixed++;
                c->rebuild = true;
            }
            continue;
        }
        inc(c, off, len, "data cluster");
        if (active && len) {
            c->res->allocated_clusters++;
            if (t == CLUSTER_COMPRESSED) {
                c->res->compressed_clusters++;
            } else if (c->last_data && off != c->last_data + s->cluster_size) {
                c->res->fragmented_clusters++;
            }
            c->last_data = t == CLUSTER_COMPRESSED ? 0 : off;
        }
    }
    qcache_put(s->l2_cache, l2);
    return 0;
}

static int check_tree(Check *c, const uint64_t *l1, uint32_t n, bool active)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t off = l1[i] & L1E_OFFSET_MASK;
        if (!off) {
            continue;
        }
        if ((off & (c->s->cluster_size - 1)) ||
            (off >> c->s->cluster_bits) >= c->nb) {
            report(c, "ERROR L1 entry %u: invalid L2 table offset %#"
                    PRIx64 "\n", i, off);
            c->res->corruptions++;
            continue;
        }
        inc(c, off, c->s->cluster_size, "L2 table");
        int ret = check_l2(c, off, active);
        if (ret) {
            return ret;
        }
    }
    return 0;
}

static uint64_t stored_refcount(Check *c, uint64_t i)
{
    uint64_t rc = 0;
    if (qcow2_get_refcount(c->s, i, &rc)) {
        c->res->check_errors++;
    }
    return rc;
}

/* COPIED must be set exactly where the refcount is one. */
static int check_copied(Check *c)
{
    BDRVQcow2State *s = c->s;
    int errors = 0;
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t off = s->l1[i] & L1E_OFFSET_MASK, *l2;
        if (!off || (off >> s->cluster_bits) >= c->nb) {
            continue;
        }
        bool want = c->refs[off >> s->cluster_bits] == 1;
        if (want != !!(s->l1[i] & QCOW_OFLAG_COPIED)) {
            report(c, "ERROR OFLAG_COPIED L2 cluster: l1_index=%u "
                    "l1_entry=%" PRIx64 " refcount=%u\n", i, s->l1[i],
                    c->refs[off >> s->cluster_bits]);
            errors++;
        }
        if (qcache_get(s->l2_cache, off, (void **)&l2, true)) {
            continue;
        }
        for (uint32_t j = 0; j < s->l2_size; j++) {
            uint64_t e = be64(l2[j]), d = e & L2E_OFFSET_MASK;
            int t = qcow2_entry_type(s, e);
            if ((t != CLUSTER_NORMAL && t != CLUSTER_ZERO) || !d ||
                (d >> s->cluster_bits) >= c->nb) {
                continue;
            }
            want = c->refs[d >> s->cluster_bits] == 1;
            if (want != !!(e & QCOW_OFLAG_COPIED)) {
                report(c, "ERROR OFLAG_COPIED data cluster: "
                        "l2_entry=%" PRIx64 " refcount=%u\n", e,
                        c->refs[d >> s->cluster_bits]);
                errors++;
            }
        }
        qcache_put(s->l2_cache, l2);
    }
    c->res->corruptions += errors;
    if (errors && (c->fix & BDRV_FIX_ERRORS)) {
        int ret = qcow2_fix_copied(s);
        if (ret) {
            return ret;
        }
        c->res->corruptions_fixed += errors;
    }
    return 0;
}

/*
 * New refcount table and blocks after the last used cluster, holding the
 * counted references (and themselves); the old ones become free space.
 */
static int rebuild(Check *c, const uint32_t *refs, uint64_t end)
{
    BDRVQcow2State *s = c->s;
    uint64_t per_block = 1ULL << s->rb_bits, t = 1, nb = 1;
    for (;;) {
        uint64_t total = end + t + nb;
        uint64_t need_nb = (total + per_block - 1) / per_block;
        uint64_t need_t = size_to_clusters(s, need_nb * 8);
        if (need_nb <= nb && need_t <= t) {
            break;
        }
        nb = MAX(nb, need_nb);
        t = MAX(t, need_t);
    }
    if (t * s->cluster_size > MAX_REFTABLE_BYTES) {
        return -EFBIG;
    }
    uint64_t toff = end << s->cluster_bits, boff = (end + t) << s->cluster_bits;
    uint64_t entries = t * s->cluster_size / 8;
    uint64_t *table = block_alloc(t * s->cluster_size);
    uint8_t *blk = block_alloc(s->cluster_size);
    int ret = 0;
    for (uint64_t b = 0; !ret && b < nb; b++) {
        memset(blk, 0, s->cluster_size);
        for (uint64_t i = 0; i < per_block; i++) {
            uint64_t cl = b * per_block + i, v = 0;
            if (cl >= end && cl < end + t + nb) {
                v = 1;
            } else if (cl < end && cl < c->nb) {
                v = refs[cl];
            }
            if (v > s->refcount_max) {
                report(c, "ERROR cluster %" PRIu64 " has %" PRIu64
                        " references, more than %d-bit refcounts hold\n",
                        cl, v, 1 << s->refcount_order);
                ret = -ERANGE;
                break;
            }
            rb_set(blk, i, s->refcount_order, v);
        }
        table[b] = be64(boff + (b << s->cluster_bits));
        if (!ret) {
            ret = bfile_pwrite(&s->file, boff + (b << s->cluster_bits), blk,
                               s->cluster_size);
        }
    }
    if (!ret) {
        ret = qcow2_commit_reftable(s, table, t * s->cluster_size, toff, t);
    }
    if (!ret) {
        ret = bfile_flush(&s->file);
    }
    if (!ret) {
        for (uint64_t i = 0; i < s->reft_size; i++) {
            if (s->reft[i]) {
                qcow2_meta_del(s, s->reft[i], s->cluster_size);
                qcache_forget(s->rb_cache, s->reft[i]);
            }
        }
        qcow2_meta_del(s, s->reft_offset,
                       (uint64_t)s->reft_clusters << s->cluster_bits);
        g_free(s->reft);
        s->reft = g_new0(uint64_t, entries);
        for (uint64_t i = 0; i < entries; i++) {
            s->reft[i] = be64(table[i]);
        }
        s->reft_size = entries;
        s->reft_offset = toff;
        s->reft_clusters = t;
        s->free_cluster_index = 0;
        s->free_byte_offset = 0;
        qcow2_meta_add(s, toff, (t + nb) << s->cluster_bits);
    }
    free(table);
    free(blk);
    return ret;
}

int qcow2_check(BlockDriverState *bs, BdrvCheckResult *res, int fix)
{
    BDRVQcow2State *s = bs->opaque;
    Check c = { .s = s, .res = res, .fix = bs->read_only ? 0 : fix,
                .out = s->check_quiet ? NULL : stderr };
    int ret = 0;

    g_mutex_lock(&s->lock);
    if (!bs->read_only) {
        ret = qcow2_sync_metadata(s, true);
        if (ret) {
            goto out;
        }
    }
    int64_t flen = bfile_length(&s->file);
    c.nb = size_to_clusters(s, flen);
    /* Room for a rebuilt refcount structure past the end. */
    c.refs = g_try_new0(uint32_t, c.nb + 1);
    if (!c.refs) {
        ret = -ENOMEM;
        goto out;
    }
    res->total_clusters = size_to_clusters(s, bs->size);
    inc(&c, 0, s->cluster_size, "header");
    inc(&c, s->l1_offset, (uint64_t)s->l1_size * 8, "L1 table");
    if ((ret = check_tree(&c, s->l1, s->l1_size, true))) {
        goto out;
    }
    inc(&c, s->snapshots_offset, s->snapshots_size, "snapshot table");
    for (int i = 0; i < s->nb_snaps; i++) {
        Qcow2Snapshot *sn = &s->snaps[i];
        uint64_t bytes = (uint64_t)sn->l1_size * 8;
        uint64_t *l1 = g_new0(uint64_t, MAX(sn->l1_size, 1));
        inc(&c, sn->l1_offset, bytes, "snapshot L1 table");
        if (bytes && bfile_pread(&s->file, sn->l1_offset, l1, bytes)) {
            res->check_errors++;
        }
        for (uint32_t j = 0; j < sn->l1_size; j++) {
            l1[j] = be64(l1[j]);
        }
        ret = check_tree(&c, l1, sn->l1_size, false);
        g_free(l1);
        if (ret) {
            goto out;
        }
    }
    /* Everything above is what the refcounts must describe; the refcount
     * structure itself comes last so a rebuild can leave it out. */
    uint32_t *data_refs = g_memdup2(c.refs, (c.nb + 1) * sizeof(uint32_t));
    inc(&c, s->reft_offset, (uint64_t)s->reft_clusters * s->cluster_size,
        "refcount table");
    for (uint64_t i = 0; i < s->reft_size; i++) {
        if (s->reft[i]) {
            inc(&c, s->reft[i], s->cluster_size, "refcount block");
        }
    }
    uint64_t highest = 0;
    for (uint64_t i = 0; i < c.nb; i++) {
        uint64_t rc = stored_refcount(&c, i);
        if (c.refs[i]) {
            highest = i + 1;
        }
        if (rc < c.refs[i]) {
            report(&c, "%s cluster %" PRIu64 " refcount=%" PRIu64
                    " reference=%u\n", c.fix & BDRV_FIX_ERRORS ? "Repairing"
                    : "ERROR", i, rc, c.refs[i]);
            res->corruptions++;
            c.rebuild |= !!(c.fix & BDRV_FIX_ERRORS);
        } else if (rc > c.refs[i]) {
            report(&c, "%s cluster %" PRIu64 " refcount=%" PRIu64
                    " reference=%u\n", c.fix & BDRV_FIX_LEAKS ? "Repairing"
                    : "Leaked", i, rc, c.refs[i]);
            res->leaks++;
        }
    }
    /* Refcounts beyond the end of the file are leaks too. */
    for (uint64_t i = c.nb; i < (s->reft_size << s->rb_bits); i++) {
        if ((i >> s->rb_bits) >= s->reft_size) {
            break;
        }
        if (!s->reft[i >> s->rb_bits]) {
            i |= (1ULL << s->rb_bits) - 1;
            continue;
        }
        if (stored_refcount(&c, i)) {
            report(&c, "Leaked cluster %" PRIu64 " beyond the end of "
                    "the file\n", i);
            res->leaks++;
        }
    }
    res->image_end_offset = highest << s->cluster_bits;
    if (c.rebuild) {
        ret = rebuild(&c, data_refs, MAX(c.nb, highest));
        if (!ret) {
            res->corruptions_fixed = res->corruptions;
            res->leaks_fixed = res->leaks;
            memcpy(c.refs, data_refs, (c.nb + 1) * sizeof(uint32_t));
        }
    } else if (res->leaks && (c.fix & BDRV_FIX_LEAKS)) {
        for (uint64_t i = 0; !ret && i < c.nb; i++) {
            uint64_t rc = stored_refcount(&c, i);
            if (rc > c.refs[i]) {
                ret = qcow2_update_refcount(s, i, (int64_t)c.refs[i] - (int64_t)rc);
            }
        }
        res->leaks_fixed = ret ? 0 : res->leaks;
    }
    g_free(data_refs);
    if (!ret) {
        ret = check_copied(&c);
    }
    if (!ret && c.fix && !bs->read_only) {
        ret = qcow2_sync_metadata(s, true);
    }
    /* Everything repaired: the image may be written again. */
    if (!ret && (c.fix & BDRV_FIX_ERRORS) && (s->incompat & INCOMPAT_CORRUPT) &&
        res->corruptions == res->corruptions_fixed) {
        uint8_t v[8];
        stq_be(v, s->incompat & ~INCOMPAT_CORRUPT);
        ret = bfile_pwrite(&s->file, 72, v, 8);
        if (!ret) {
            s->incompat &= ~INCOMPAT_CORRUPT;
            s->corrupt = false;
            ret = bfile_flush(&s->file);
        }
    }
out:
    if (ret < 0 && !res->check_errors) {
        res->check_errors++;
    }
    g_free(c.refs);
    g_mutex_unlock(&s->lock);
    return ret;
}
