/*
 * qcow2: opening (every header field and table is checked before use, so a
 * malformed image gives one clear error; the header itself is parsed in
 * qcow2-header.c), flush/close, resize, backing changes, creation.
 */
#include "qcow2.h"
#include <fcntl.h>
#include <unistd.h>

static int qcow2_probe(const uint8_t *buf, int len)
{
    return len >= 8 && ldl_be(buf) == QCOW_MAGIC &&
           (ldl_be(buf + 4) == 2 || ldl_be(buf + 4) == 3) ? 100 : 0;
}

void qcow2_meta_add(BDRVQcow2State *s, uint64_t offset, uint64_t bytes)
{
    for (uint64_t c = offset >> s->cluster_bits;
         bytes && c <= (offset + bytes - 1) >> s->cluster_bits; c++) {
        g_hash_table_add(s->meta, GSIZE_TO_POINTER(c + 1));
    }
}

void qcow2_meta_del(BDRVQcow2State *s, uint64_t offset, uint64_t bytes)
{
    for (uint64_t c = offset >> s->cluster_bits;
         bytes && c <= (offset + bytes - 1) >> s->cluster_bits; c++) {
        g_hash_table_remove(s->meta, GSIZE_TO_POINTER(c + 1));
    }
}

bool qcow2_is_meta(BDRVQcow2State *s, uint64_t offset)
{
    return g_hash_table_contains(s->meta,
                                 GSIZE_TO_POINTER((offset >> s->cluster_bits) + 1));
}

int qcow2_mark_corrupt(BDRVQcow2State *s, const char *fmt, ...)
{
    if (s->corrupt) {
        return -EIO;
    }
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error_report("qcow2: '%s': marking image as corrupt: %s; it is read-only "
                 "until 'kestrel-img check -r all' repairs it",
                 s->bs->filename, msg);
    s->corrupt = true;
    if (!s->bs->read_only && !s->check_mode && s->version >= 3) {
        uint8_t v[8];
        s->incompat |= INCOMPAT_CORRUPT;
        stq_be(v, s->incompat);
        if (!bfile_pwrite(&s->file, 72, v, 8)) {
            bfile_flush(&s->file);
        }
    }
    s->bs->read_only = true;
    return -EIO;
}

int qcow2_mark_dirty(BDRVQcow2State *s)
{
    if (!s->lazy || s->dirty_on_disk) {
        return 0;
    }
    uint8_t v[8];
    stq_be(v, s->incompat | INCOMPAT_DIRTY);
    int ret = bfile_pwrite(&s->file, 72, v, 8);
    if (!ret) {
        ret = bfile_flush(&s->file);
    }
    if (!ret) {
        s->incompat |= INCOMPAT_DIRTY;
        s->dirty_on_disk = true;
    }
    return ret;
}

int qcow2_write_l1_entry(BDRVQcow2State *s, uint32_t idx)
{
    uint64_t v = be64(s->l1[idx]);
    return bfile_pwrite(&s->file, s->l1_offset + 8ULL * idx, &v, 8);
}

int qcow2_sync_metadata(BDRVQcow2State *s, bool all)
{
    int ret = qcache_flush(s->l2_cache);
    if (!ret && (!s->lazy || all)) {
        ret = qcache_flush(s->rb_cache);
    }
    if (!ret && s->pending->len && !g_atomic_int_get(&s->inflight)) {
        ret = qcow2_apply_pending(s);
        if (!ret && (!s->lazy || all)) {
            ret = qcache_flush(s->rb_cache);
        }
    }
    if (!ret) {
        ret = bfile_flush(&s->file);
    }
    if (!ret && all && s->dirty_on_disk) {
        uint8_t v[8];
        stq_be(v, s->incompat & ~INCOMPAT_DIRTY);
        ret = bfile_pwrite(&s->file, 72, v, 8);
        if (!ret) {
            ret = bfile_flush(&s->file);
            s->incompat &= ~INCOMPAT_DIRTY;
            s->dirty_on_disk = false;
        }
    }
    return ret;
}

static int qcow2_flush(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    g_mutex_lock(&s->lock);
    /* A corrupt image gets no metadata writes, but its data is synced. */
    int ret = s->corrupt ? bfile_flush(&s->file) : qcow2_sync_metadata(s, false);
    g_mutex_unlock(&s->lock);
    return ret;
}

static void free_state(BDRVQcow2State *s)
{
    qcache_free(s->l2_cache);
    qcache_free(s->rb_cache);
    g_free(s->l1);
    g_free(s->reft);
    g_free(s->hdr_tail);
    free(s->zeros);
    qcow2_free_snapshots(s);
    for (guint i = 0; s->exts && i < s->exts->len; i++) {
        g_free(g_array_index(s->exts, Qcow2Ext, i).data);
    }
    if (s->exts) {
        g_array_free(s->exts, true);
    }
    if (s->meta) {
        g_hash_table_destroy(s->meta);
    }
    if (s->pending) {
        g_array_free(s->pending, true);
    }
    if (s->allocs) {
        g_ptr_array_free(s->allocs, true);
    }
    bfile_close(&s->file);
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->alloc_cond);
    g_free(s);
}

static void qcow2_close(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    if (!bs->read_only && !s->corrupt) {
        g_mutex_lock(&s->lock);
        int ret = qcow2_sync_metadata(s, true);
        g_mutex_unlock(&s->lock);
        if (ret) {
            error_report("qcow2: '%s': could not write back metadata: %s",
                         bs->filename, strerror(-ret));
        }
    }
    free_state(s);
}

/* ---- opening ---- */

typedef struct Range {
    uint64_t off, len;
    const char *what;
} Range;

static bool check_range(BDRVQcow2State *s, int64_t flen, uint64_t off,
                        uint64_t len, const char *what, Error **errp)
{
    if (off & (s->cluster_size - 1)) {
        error_setg(errp, "%s offset %#" PRIx64 " is not aligned to the "
                   "cluster size", what, off);
        return false;
    }
    if (len && off == 0) {
        error_setg(errp, "%s overlaps the image header", what);
        return false;
    }
    if (off > (uint64_t)flen || len > (uint64_t)flen - off) {
        error_setg(errp, "%s (offset %#" PRIx64 ", %" PRIu64 " bytes) lies "
                   "beyond the end of the file (truncated image?)", what, off,
                   len);
        return false;
    }
    return true;
}

static bool ranges_overlap(const Range *r, int n, Error **errp)
{
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
            if (r[i].len && r[j].len && r[i].off < r[j].off + r[j].len &&
                r[j].off < r[i].off + r[i].len) {
                error_setg(errp, "%s overlaps %s", r[i].what, r[j].what);
                return true;
            }
        }
    }
    return false;
}

static bool load_tables(BDRVQcow2State *s, int64_t flen, Error **errp)
{
    uint64_t l1_needed = size_to_clusters(s, s->bs->size);
    l1_needed = (l1_needed + s->l2_size - 1) >> s->l2_bits;
    if ((uint64_t)s->l1_size * 8 > MAX_L1_BYTES) {
        error_setg(errp, "Active L1 table too large: %u entries (at most %"
                   PRIu64 ")", s->l1_size, (uint64_t)(MAX_L1_BYTES / 8));
        return false;
    }
    if (s->l1_size < l1_needed) {
        error_setg(errp, "L1 table too small: %u entries for a %" PRIu64
                   "-byte disk", s->l1_size, s->bs->size);
        return false;
    }
    if (!s->reft_clusters ||
        (uint64_t)s->reft_clusters * s->cluster_size > MAX_REFTABLE_BYTES) {
        error_setg(errp, "Invalid refcount table size: %u clusters",
                   s->reft_clusters);
        return false;
    }
    uint64_t l1_bytes = (uint64_t)s->l1_size * 8;
    uint64_t rt_bytes = (uint64_t)s->reft_clusters * s->cluster_size;
    if (!check_range(s, flen, s->l1_offset, l1_bytes, "The L1 table", errp) ||
        !check_range(s, flen, s->reft_offset, rt_bytes, "The refcount table",
                     errp)) {
        return false;
    }
    s->l1 = g_new0(uint64_t, MAX(s->l1_size, 1));
    s->reft_size = rt_bytes / 8;
    s->reft = g_new0(uint64_t, s->reft_size);
    if (bfile_pread(&s->file, s->l1_offset, s->l1, l1_bytes) ||
        bfile_pread(&s->file, s->reft_offset, s->reft, rt_bytes)) {
        error_setg(errp, "Could not read the L1 or refcount table");
        return false;
    }
    Range r[3] = {
        { 0, s->cluster_size, "the header" },
        { s->l1_offset, ALIGN_UP(l1_bytes, s->cluster_size), "the L1 table" },
        { s->reft_offset, rt_bytes, "the refcount table" },
    };
    if (ranges_overlap(r, 3, errp)) {
        error_prepend(errp, "Metadata overlap: ");
        return false;
    }
    qcow2_meta_add(s, 0, s->cluster_size);
    qcow2_meta_add(s, s->l1_offset, l1_bytes);
    qcow2_meta_add(s, s->reft_offset, rt_bytes);
    for (uint64_t i = 0; i < s->reft_size; i++) {
        uint64_t e = s->reft[i] = be64(s->reft[i]);
        g_autofree char *what = g_strdup_printf("Refcount block %" PRIu64, i);
        if (!e) {
            continue;
        }
        if (e & REFT_RESERVED_MASK) {
            error_setg(errp, "Refcount table entry %" PRIu64 " has reserved "
                       "bits set (%#" PRIx64 ")", i, e);
            return false;
        }
        if (!check_range(s, flen, e, s->cluster_size, what, errp)) {
            return false;
        }
        if (qcow2_is_meta(s, e)) {
            error_setg(errp, "Metadata overlap: refcount block %" PRIu64
                       " (offset %#" PRIx64 ") overlaps other metadata", i, e);
            return false;
        }
        qcow2_meta_add(s, e, s->cluster_size);
    }
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t e = s->l1[i] = be64(s->l1[i]), off = e & L1E_OFFSET_MASK;
        g_autofree char *what = g_strdup_printf("L2 table %u", i);
        if (e & L1E_RESERVED_MASK) {
            error_setg(errp, "L1 entry %u has reserved bits set (%#" PRIx64
                       ")", i, e);
            return false;
        }
        if (!off) {
            if (e) {
                error_setg(errp, "L1 entry %u has flags but no offset", i);
                return false;
            }
            continue;
        }
        if (!check_range(s, flen, off, s->cluster_size, what, errp)) {
            return false;
        }
        if (qcow2_is_meta(s, off)) {
            error_setg(errp, "Metadata overlap: L2 table %u (offset %#"
                       PRIx64 ") overlaps other metadata", i, off);
            return false;
        }
    }
    /* Two L1 entries may not share an L2 table; add them after the loop. */
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t off = s->l1[i] & L1E_OFFSET_MASK;
        if (off && qcow2_is_meta(s, off)) {
            error_setg(errp, "Metadata overlap: L2 table %u (offset %#"
                       PRIx64 ") is used twice", i, off);
            return false;
        }
        qcow2_meta_add(s, off, off ? s->cluster_size : 0);
    }
    return true;
}

static uint64_t l2_cache_entries(BDRVQcow2State *s, uint64_t bytes)
{
    uint64_t need = size_to_clusters(s, s->bs->size);
    need = (need + s->l2_size - 1) >> s->l2_bits;
    uint64_t n = bytes ? bytes / s->cluster_size
                       : MIN(need, (32 * MiB) / s->cluster_size);
    return MAX(n, 4);
}

static bool qcow2_open(BlockDriverState *bs, const BdrvOpenParams *p,
                       Error **errp)
{
    BDRVQcow2State *s = g_new0(BDRVQcow2State, 1);
    uint8_t *h = NULL;
    s->bs = bs;
    bs->opaque = s;
    g_mutex_init(&s->lock);
    g_cond_init(&s->alloc_cond);
    s->meta = g_hash_table_new(g_direct_hash, g_direct_equal);
    s->pending = g_array_new(false, false, sizeof(PendingFree));
    s->allocs = g_ptr_array_new();
    s->check_mode = p->check;

    if (!bfile_open(&s->file, bs->filename, p->rw, p->cache, errp)) {
        goto fail;
    }
    int64_t flen = bfile_length(&s->file);
    if (flen < 72) {
        error_setg(errp, "Image is not in qcow2 format (only %" PRId64
                   " bytes)", MAX(flen, 0));
        goto fail;
    }
    h = block_alloc(2 * MiB);
    size_t hsize = MIN((uint64_t)flen, 2 * MiB);
    if (bfile_pread(&s->file, 0, h, ALIGN_UP(hsize, 4096))) {
        error_setg(errp, "Could not read the image header");
        goto fail;
    }
    if (!qcow2_parse_header(s, bs, h, flen, errp)) {
        goto fail;
    }
    hsize = MIN(hsize, s->cluster_size);
    if (s->file.direct && s->file.align > s->cluster_size) {
        error_setg(errp, "cache=none needs clusters of at least %u bytes "
                   "here (this image has %u)", s->file.align, s->cluster_size);
        goto fail;
    }
    s->l2_bits = s->cluster_bits - 3;
    s->l2_size = 1U << s->l2_bits;
    s->rb_bits = s->cluster_bits + 3 - s->refcount_order;
    s->refcount_max = s->refcount_order == 6 ? UINT64_MAX
                                             : (1ULL << (1 << s->refcount_order)) - 1;
    s->csize_shift = 62 - (s->cluster_bits - 8);
    s->csize_mask = (1ULL << (s->cluster_bits - 8)) - 1;
    s->cluster_offset_mask = (1ULL << s->csize_shift) - 1;
    s->lazy = s->compat & COMPAT_LAZY_REFCOUNTS;
    bs->read_only = !p->rw;
    if (!qcow2_parse_extensions(s, bs, h, hsize, errp) ||
        !load_tables(s, flen, errp) || qcow2_read_snapshots(s, errp) < 0) {
        goto fail;
    }
    if ((s->incompat & INCOMPAT_CORRUPT) && p->rw && !p->check) {
        error_setg(errp, "Image is marked corrupt; it can only be opened "
                   "read-only (or repaired with 'kestrel-img check -r all')");
        goto fail;
    }
    if (s->incompat & INCOMPAT_CORRUPT) {
        s->corrupt = !p->check;
        if (!p->check) {
            warn_report("'%s' is marked corrupt; opened read-only",
                        bs->filename);
        }
    }
    s->alloc_high = size_to_clusters(s, flen);
    s->l2_cache = qcache_new(s, l2_cache_entries(s, p->l2_cache_size), NULL);
    s->rb_cache = qcache_new(s, MAX(8, MIN(64, 4 * MiB / s->cluster_size)),
                             NULL);
    if (!s->l2_cache || !s->rb_cache) {
        error_setg(errp, "Out of memory for the metadata caches");
        goto fail;
    }
    if (!s->lazy) {
        qcache_set_dep(s->l2_cache, s->rb_cache);
    }
    s->dirty_on_disk = s->incompat & INCOMPAT_DIRTY;
    if (p->rw && !p->check) {
        if (s->dirty_on_disk) {
            /* Not closed cleanly with lazy refcounts: rebuild them first. */
            BdrvCheckResult res;
            s->check_quiet = true;
            int r = qcow2_check(bs, &res, BDRV_FIX_ERRORS | BDRV_FIX_LEAKS);
            s->check_quiet = false;
            if (r < 0 ||
                res.corruptions > res.corruptions_fixed) {
                error_setg(errp, "Could not repair the refcounts of an image "
                           "that was not closed cleanly");
                goto fail;
            }
        }
        if (s->autoclear) {
            s->autoclear = 0;       /* we keep none of those features */
            if (qcow2_write_header(s) < 0) {
                error_setg(errp, "Could not update the image header");
                goto fail;
            }
        }
    }
    free(h);
    return true;
fail:
    free(h);
    free_state(s);
    bs->opaque = NULL;
    return false;
}

/* ---- resize, backing change, info ---- */

int qcow2_grow_l1(BDRVQcow2State *s, uint64_t min_size)
{
    if (min_size <= s->l1_size) {
        return 0;
    }
    uint64_t n = MAX(min_size, s->l1_size * 2ULL);
    n = MIN(n, MAX_L1_BYTES / 8);
    if (n < min_size) {
        return -EFBIG;
    }
    uint64_t bytes = ALIGN_UP(n * 8, s->cluster_size);
    n = bytes / 8;
    n = MIN(n, MAX_L1_BYTES / 8);
    int64_t off = qcow2_alloc_clusters(s, bytes >> s->cluster_bits);
    if (off < 0) {
        return off;
    }
    uint64_t *t = block_alloc(bytes);
    for (uint32_t i = 0; i < s->l1_size; i++) {
        t[i] = be64(s->l1[i]);
    }
    int ret = qcache_flush(s->rb_cache);
    if (!ret) {
        ret = bfile_pwrite(&s->file, off, t, bytes);
    }
    if (!ret) {
        ret = bfile_flush(&s->file);
    }
    if (!ret) {
        uint8_t hdr[12];
        stl_be(hdr, n);
        stq_be(hdr + 4, off);
        ret = bfile_pwrite(&s->file, 36, hdr, 12);
    }
    free(t);
    if (ret) {
        qcow2_free_now(s, off, bytes);
        return ret;
    }
    uint64_t old = s->l1_offset, old_bytes = (uint64_t)s->l1_size * 8;
    s->l1 = g_renew(uint64_t, s->l1, n);
    memset(s->l1 + s->l1_size, 0, (n - s->l1_size) * 8);
    s->l1_size = n;
    s->l1_offset = off;
    qcow2_meta_add(s, off, bytes);
    if (old_bytes) {
        qcow2_meta_del(s, old, old_bytes);
        ret = qcow2_free_now(s, old, old_bytes);
    }
    return ret;
}

static int qcow2_truncate(BlockDriverState *bs, int64_t size, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = 0;
    if (size < bs->size) {
        ret = qcow2_pdiscard(bs, ALIGN_UP(size, (int64_t)s->cluster_size),
                             bs->size - ALIGN_UP(size, (int64_t)s->cluster_size),
                             BDRV_REQ_DEALLOCATE);
        int64_t tail = ALIGN_UP(size, (int64_t)s->cluster_size) - size;
        if (!ret && tail) {
            ret = qcow2_pwrite_zeroes(bs, size, MIN(tail, bs->size - size), 0);
        }
    }
    g_mutex_lock(&s->lock);
    if (!ret) {
        uint64_t l1 = (size_to_clusters(s, size) + s->l2_size - 1) >> s->l2_bits;
        ret = qcow2_grow_l1(s, l1);
    }
    if (!ret) {
        uint8_t v[8];
        stq_be(v, size);
        ret = qcow2_sync_metadata(s, false);
        if (!ret) {
            ret = bfile_pwrite(&s->file, 24, v, 8);
        }
        if (!ret) {
            bs->size = size;
        }
    }
    g_mutex_unlock(&s->lock);
    if (ret) {
        error_setg(errp, "Could not resize '%s': %s", bs->filename,
                   strerror(-ret));
    }
    return ret;
}

static int qcow2_change_backing(BlockDriverState *bs, const char *file,
                                const char *fmt)
{
    BDRVQcow2State *s = bs->opaque;
    if ((file && strlen(file) > MAX_BACKING_NAME) || (fmt && strlen(fmt) > 15)) {
        return -EINVAL;
    }
    g_free(bs->backing_file);
    g_free(bs->backing_format);
    bs->backing_file = file && *file ? g_strdup(file) : NULL;
    bs->backing_format = bs->backing_file && fmt ? g_strdup(fmt) : NULL;
    g_mutex_lock(&s->lock);
    int ret = qcow2_sync_metadata(s, false);
    if (!ret) {
        ret = qcow2_write_header(s);
    }
    if (!ret) {
        ret = bfile_flush(&s->file);
    }
    g_mutex_unlock(&s->lock);
    return ret;
}

static void qcow2_get_info(BlockDriverState *bs, GPtrArray *keys,
                           GPtrArray *vals)
{
    BDRVQcow2State *s = bs->opaque;
#define KV(k, v) (g_ptr_array_add(keys, g_strdup(k)), g_ptr_array_add(vals, v))
    KV("compat", g_strdup(s->version >= 3 ? "1.1" : "0.10"));
    if (s->version >= 3) {
        KV("compression type", g_strdup(s->compression_type ? "zstd" : "zlib"));
        KV("lazy refcounts", g_strdup(s->lazy ? "true" : "false"));
    }
    KV("refcount bits", g_strdup_printf("%d", 1 << s->refcount_order));
    KV("corrupt", g_strdup((s->incompat & INCOMPAT_CORRUPT) || s->corrupt
                           ? "true" : "false"));
    KV("extended l2", g_strdup("false"));
#undef KV
}

static uint32_t qcow2_cluster_size(BlockDriverState *bs)
{
    return ((BDRVQcow2State *)bs->opaque)->cluster_size;
}

/* ---- creation ---- */

static bool check_create_opts(const BlockCreateOpts *o, Error **errp)
{
    uint32_t cs = o->cluster_size;
    if (cs < 512 || cs > 2 * MiB || (cs & (cs - 1))) {
        error_setg(errp, "Cluster size must be a power of two between 512 "
                   "and 2M (got %u)", cs);
    } else if (o->version != 2 && o->version != 3) {
        error_setg(errp, "Invalid compat level (use 0.10 or 1.1)");
    } else if (o->lazy_refcounts && o->version < 3) {
        error_setg(errp, "Lazy refcounts only supported with compatibility "
                   "level 1.1 and above (use compat=1.1 or greater)");
    } else if (o->refcount_bits < 1 || o->refcount_bits > 64 ||
               (o->refcount_bits & (o->refcount_bits - 1))) {
        error_setg(errp, "Refcount width must be a power of two and may not "
                   "exceed 64 bits");
    } else if (o->version < 3 && o->refcount_bits != 16) {
        error_setg(errp, "Different refcount widths than 16 bits require "
                   "compatibility level 1.1 or above (use compat=1.1 or "
                   "greater)");
    } else if (o->compression_type && o->version < 3) {
        error_setg(errp, "Non-zlib compression type is only supported with "
                   "compatibility level 1.1 and above (use compat=1.1 or "
                   "greater)");
    } else if (o->backing_file && strlen(o->backing_file) > MAX_BACKING_NAME) {
        error_setg(errp, "Backing file name too long (at most %d bytes)",
                   MAX_BACKING_NAME);
    } else if (o->backing_fmt && strlen(o->backing_fmt) > 15) {
        error_setg(errp, "Backing file format name too long");
    } else {
        return true;
    }
    return false;
}

static bool qcow2_create(const char *filename, const BlockCreateOpts *in,
                         Error **errp)
{
    BlockCreateOpts o = *in;
    o.cluster_size = o.cluster_size ? o.cluster_size : 64 * KiB;
    o.version = o.version ? o.version : 3;
    o.refcount_bits = o.refcount_bits ? o.refcount_bits : 16;
    if (!check_create_opts(&o, errp)) {
        return false;
    }
    /* A skeleton (header, refcount table, one refcount block, no L1);
     * the driver itself then sizes it. */
    BDRVQcow2State t = { 0 };
    BlockDriverState tbs = { .size = 0 };
    t.bs = &tbs;
    t.version = o.version;
    t.cluster_bits = __builtin_ctz(o.cluster_size);
    t.cluster_size = o.cluster_size;
    t.refcount_order = __builtin_ctz(o.refcount_bits);
    t.header_length = V3_HEADER_LENGTH;
    t.compression_type = o.compression_type;
    t.incompat = o.compression_type ? INCOMPAT_COMPRESSION : 0;
    t.compat = o.lazy_refcounts ? COMPAT_LAZY_REFCOUNTS : 0;
    t.reft_offset = o.cluster_size;
    t.reft_clusters = 1;
    uint8_t *buf = block_alloc(3 * o.cluster_size);
    int len = qcow2_build_header(&t, buf, 0, o.backing_file, o.backing_file ?
                           o.backing_fmt : NULL, true);
    if (len < 0) {
        len = qcow2_build_header(&t, buf, 0, o.backing_file, o.backing_file ?
                           o.backing_fmt : NULL, false);
    }
    if (len < 0) {
        error_setg(errp, "Backing file name too long for the header");
        free(buf);
        return false;
    }
    stq_be(buf + o.cluster_size, 2ULL * o.cluster_size);
    for (int i = 0; i < 3; i++) {
        rb_set(buf + 2 * o.cluster_size, i, t.refcount_order, 1);
    }
    int fd = open(filename, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        error_setg(errp, "Could not create '%s': %s", filename,
                   strerror(errno));
        free(buf);
        return false;
    }
    BlockFile f = { .fd = fd, .align = 1 };
    int ret = bfile_pwrite(&f, 0, buf, 3 * o.cluster_size);
    close(fd);
    free(buf);
    if (ret) {
        error_setg(errp, "Could not write '%s': %s", filename, strerror(-ret));
        return false;
    }
    BdrvOpenParams p = { .rw = true };
    BlockDriverState *bs = bdrv_open(filename, "qcow2", &p, false, false, errp);
    if (!bs) {
        return false;
    }
    BDRVQcow2State *s = bs->opaque;
    ret = qcow2_truncate(bs, o.size, errp);
    if (!ret && o.preallocation != PREALLOC_OFF) {
        ret = qcow2_preallocate(s, 0, o.size, o.preallocation);
        if (ret) {
            error_setg(errp, "Could not preallocate '%s': %s", filename,
                       strerror(-ret));
        }
    }
    bdrv_close(bs);
    return ret == 0;
}

const BlockDriver bdrv_qcow2 = {
    .name = "qcow2",
    .probe = qcow2_probe,
    .open = qcow2_open,
    .close = qcow2_close,
    .aio_submit = qcow2_aio_submit,
    .preadv = qcow2_preadv,
    .pwritev = qcow2_pwritev,
    .pwrite_zeroes = qcow2_pwrite_zeroes,
    .pdiscard = qcow2_pdiscard,
    .flush = qcow2_flush,
    .pwrite_compressed = qcow2_pwrite_compressed,
    .block_status = qcow2_block_status,
    .truncate = qcow2_truncate,
    .check = qcow2_check,
    .change_backing = qcow2_change_backing,
    .create = qcow2_create,
    .snapshot_create = qcow2_snapshot_create,
    .snapshot_goto = qcow2_snapshot_goto,
    .snapshot_delete = qcow2_snapshot_delete,
    .snapshot_list = qcow2_snapshot_list,
    .get_info = qcow2_get_info,
    .cluster_size = qcow2_cluster_size,
};
