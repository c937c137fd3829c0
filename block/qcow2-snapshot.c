/*
 * Internal snapshots: the snapshot table (read and checked at open,
 * rewritten to new clusters on every change), and create / apply / delete,
 * which copy or switch L1 tables and move refcounts of whole trees.  The
 * order of each step leaves at worst leaked clusters after a crash.
 */
#include "qcow2.h"
#include <time.h>

#define MAX_SNAPSHOT_TABLE (64 * MiB)
#define MAX_EXTRA_DATA 1024

void qcow2_free_snapshots(BDRVQcow2State *s)
{
    for (int i = 0; s->snaps && i < s->nb_snaps; i++) {
        g_free(s->snaps[i].id);
        g_free(s->snaps[i].name);
        g_free(s->snaps[i].extra);
    }
    g_free(s->snaps);
    s->snaps = NULL;
}

static bool read_snap_l1(BDRVQcow2State *s, Qcow2Snapshot *sn, int64_t flen,
                         Error **errp)
{
    uint64_t bytes = (uint64_t)sn->l1_size * 8;
    if (bytes > MAX_L1_BYTES) {
        error_setg(errp, "Snapshot '%s' has an L1 table too large (%u "
                   "entries)", sn->name, sn->l1_size);
        return false;
    }
    if (!bytes) {
        return true;
    }
    if ((sn->l1_offset & (s->cluster_size - 1)) || !sn->l1_offset ||
        sn->l1_offset > (uint64_t)flen || bytes > flen - sn->l1_offset) {
        error_setg(errp, "Snapshot '%s' has an invalid L1 table offset %#"
                   PRIx64, sn->name, sn->l1_offset);
        return false;
    }
    uint64_t *l1 = g_malloc(bytes);
    if (bfile_pread(&s->file, sn->l1_offset, l1, bytes)) {
        g_free(l1);
        error_setg(errp, "Could not read the L1 table of snapshot '%s'",
                   sn->name);
        return false;
    }
    for (uint32_t i = 0; i < sn->l1_size; i++) {
        uint64_t off = be64(l1[i]) & L1E_OFFSET_MASK;
        if (off && ((off & (s->cluster_size - 1)) || off >= (uint64_t)flen)) {
            error_setg(errp, "Snapshot '%s': L1 entry %u points to an "
                       "invalid L2 table offset %#" PRIx64, sn->name, i, off);
            g_free(l1);
            return false;
        }
        qcow2_meta_add(s, off, off ? s->cluster_size : 0);
    }
    g_free(l1);
    for (uint64_t o = sn->l1_offset; o < sn->l1_offset + bytes;
         o += s->cluster_size) {
        if (qcow2_is_meta(s, o)) {
            error_setg(errp, "Metadata overlap: the L1 table of snapshot "
                       "'%s' overlaps other metadata", sn->name);
            return false;
        }
    }
    qcow2_meta_add(s, sn->l1_offset, bytes);
    return true;
}

int qcow2_read_snapshots(BDRVQcow2State *s, Error **errp)
{
    int64_t flen = bfile_length(&s->file);
    int n = s->nb_snaps;
    uint64_t pos = s->snapshots_offset, start = pos;

    s->snaps = g_new0(Qcow2Snapshot, MAX(n, 1));
    s->nb_snaps = 0;
    if (!n) {
        return 0;
    }
    if (!pos || (pos & (s->cluster_size - 1)) || pos >= (uint64_t)flen) {
        error_setg(errp, "Invalid snapshot table offset %#" PRIx64, pos);
        return -EINVAL;
    }
    for (int i = 0; i < n; i++) {
        uint8_t h[40];
        Qcow2Snapshot *sn = &s->snaps[i];
        if (pos + 40 > (uint64_t)flen || pos + 40 - start > MAX_SNAPSHOT_TABLE ||
            bfile_pread(&s->file, pos, h, 40)) {
            error_setg(errp, "Snapshot table entry %d lies beyond the end of "
                       "the file", i);
            return -EINVAL;
        }
        sn->l1_offset = ldq_be(h);
        sn->l1_size = ldl_be(h + 8);
        uint16_t id_len = lduw_be(h + 12), name_len = lduw_be(h + 14);
        sn->date_sec = ldl_be(h + 16);
        sn->date_nsec = ldl_be(h + 20);
        sn->vm_clock_nsec = ldq_be(h + 24);
        sn->vm_state_size = ldl_be(h + 32);
        sn->extra_size = ldl_be(h + 36);
        if (sn->extra_size > MAX_EXTRA_DATA) {
            error_setg(errp, "Snapshot %d has too much extra data (%u bytes)",
                       i, sn->extra_size);
            return -EINVAL;
        }
        uint64_t var = (uint64_t)sn->extra_size + id_len + name_len;
        pos += 40;
        if (pos + var > (uint64_t)flen || pos + var - start > MAX_SNAPSHOT_TABLE) {
            error_setg(errp, "Snapshot table entry %d lies beyond the end of "
                       "the file", i);
            return -EINVAL;
        }
        uint8_t *d = g_malloc(var + 1);
        bfile_pread(&s->file, pos, d, var);
        sn->extra = g_memdup2(d, sn->extra_size);
        sn->id = g_strndup((char *)d + sn->extra_size, id_len);
        sn->name = g_strndup((char *)d + sn->extra_size + id_len, name_len);
        g_free(d);
        s->nb_snaps = i + 1;
        if (sn->extra_size >= 8) {
            sn->vm_state_size = ldq_be(sn->extra);
        }
        sn->disk_size = s->bs->size;
        if (sn->extra_size >= 16) {
            sn->disk_size = ldq_be(sn->extra + 8);
        }
        if (sn->extra_size >= 24) {
            sn->icount = ldq_be(sn->extra + 16);
            sn->has_icount = true;
        }
        pos = ALIGN_UP(pos + var, 8);
        if (!read_snap_l1(s, sn, flen, errp)) {
            return -EINVAL;
        }
    }
    s->snapshots_size = pos - start;
    for (uint64_t o = start; o < pos; o += s->cluster_size) {
        if (qcow2_is_meta(s, o)) {
            error_setg(errp, "Metadata overlap: the snapshot table overlaps "
                       "other metadata");
            return -EINVAL;
        }
    }
    qcow2_meta_add(s, start, s->snapshots_size);
    return 0;
}

/* Serialise the table to new clusters and switch the header to it. */
int qcow2_write_snapshots(BDRVQcow2State *s)
{
    GByteArray *b = g_byte_array_new();
    for (int i = 0; i < s->nb_snaps; i++) {
        Qcow2Snapshot *sn = &s->snaps[i];
        uint8_t h[40];
        size_t id_len = strlen(sn->id), name_len = strlen(sn->name);
        stq_be(h, sn->l1_offset);
        stl_be(h + 8, sn->l1_size);
        stw_be(h + 12, id_len);
        stw_be(h + 14, name_len);
        stl_be(h + 16, sn->date_sec);
        stl_be(h + 20, sn->date_nsec);
        stq_be(h + 24, sn->vm_clock_nsec);
        stl_be(h + 32, MIN(sn->vm_state_size, UINT32_MAX));
        stl_be(h + 36, sn->extra_size);
        g_byte_array_append(b, h, 40);
        g_byte_array_append(b, sn->extra, sn->extra_size);
        g_byte_array_append(b, (uint8_t *)sn->id, id_len);
        g_byte_array_append(b, (uint8_t *)sn->name, name_len);
        static const uint8_t pad[8];
        g_byte_array_append(b, pad, ALIGN_UP(b->len, 8) - b->len);
    }
    int64_t off = 0;
    int ret = 0;
    if (b->len) {
        off = qcow2_alloc_clusters(s, size_to_clusters(s, b->len));
        ret = off < 0 ? off : qcache_flush(s->rb_cache);
        if (!ret) {
            ret = bfile_pwrite(&s->file, off, b->data, b->len);
        }
        if (!ret) {
            ret = bfile_flush(&s->file);
        }
    }
    if (!ret) {
        uint8_t hdr[12];
        stl_be(hdr, s->nb_snaps);
        stq_be(hdr + 4, off);
        ret = bfile_pwrite(&s->file, 60, hdr, 12);
    }
    if (!ret) {
        ret = bfile_flush(&s->file);
    }
    if (!ret) {
        uint64_t old = s->snapshots_offset, old_size = s->snapshots_size;
        s->snapshots_offset = off;
        s->snapshots_size = b->len;
        qcow2_meta_add(s, off, b->len);
        if (old_size) {
            qcow2_meta_del(s, old, old_size);
            ret = qcow2_free_now(s, old, old_size);
        }
    }
    g_byte_array_free(b, true);
    return ret;
}

static int find_snapshot(BDRVQcow2State *s, const char *name)
{
    for (int i = 0; i < s->nb_snaps; i++) {
        if (!strcmp(s->snaps[i].name, name)) {
            return i;
        }
    }
    for (int i = 0; i < s->nb_snaps; i++) {
        if (!strcmp(s->snaps[i].id, name)) {
            return i;
        }
    }
    return -1;
}

static uint64_t *read_l1(BDRVQcow2State *s, uint64_t off, uint32_t n, int *ret)
{
    uint64_t *l1 = g_new0(uint64_t, MAX(n, 1));
    *ret = n ? bfile_pread(&s->file, off, l1, n * 8ULL) : 0;
    for (uint32_t i = 0; i < n; i++) {
        l1[i] = be64(l1[i]);
    }
    return l1;
}

/* Start from a clean state: caches written, pending frees applied. */
static int quiesce(BDRVQcow2State *s, Error **errp)
{
    if (s->corrupt || s->bs->read_only) {
        error_setg(errp, "Image is read-only");
        return -EACCES;
    }
    int ret = qcow2_sync_metadata(s, false);
    if (ret) {
        error_setg(errp, "Could not write back metadata: %s", strerror(-ret));
    }
    return ret;
}

/*
 * Finish a change that moved refcounts (ret = its result so far): redo the
 * COPIED flags, then write everything back; errors say what was updated.
 */
static int finish_update(BDRVQcow2State *s, int ret, const char *what,
                         Error **errp)
{
    if (!ret) {
        ret = qcow2_fix_copied(s);
    }
    if (!ret) {
        ret = qcow2_sync_metadata(s, false);
    }
    if (ret) {
        error_setg(errp, "Could not update %s: %s", what, strerror(-ret));
    }
    return ret;
}

int qcow2_snapshot_create(BlockDriverState *bs, const char *name, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int ret;
    g_mutex_lock(&s->lock);
    if (find_snapshot(s, name) >= 0) {
        error_setg(errp, "Snapshot '%s' already exists", name);
        ret = -EEXIST;
        goto out;
    }
    if (strlen(name) > 65535 || s->nb_snaps >= MAX_SNAPSHOTS) {
        error_setg(errp, "Cannot add snapshot '%s'", name);
        ret = -EINVAL;
        goto out;
    }
    if ((ret = quiesce(s, errp))) {
        goto out;
    }
    uint64_t bytes = (uint64_t)s->l1_size * 8;
    int64_t l1off = 0;
    if (bytes) {
        l1off = qcow2_alloc_clusters(s, size_to_clusters(s, bytes));
        ret = l1off < 0 ? l1off : 0;
    }
    if (!ret) {
        ret = qcow2_tree_refcount(s, s->l1, s->l1_size, 1);
    }
    if (!ret && bytes) {
        uint64_t *t = g_new(uint64_t, s->l1_size);
        for (uint32_t i = 0; i < s->l1_size; i++) {
            t[i] = be64(s->l1[i] & ~QCOW_OFLAG_COPIED);
        }
        ret = qcache_flush(s->rb_cache);
        if (!ret) {
            ret = bfile_pwrite(&s->file, l1off, t, bytes);
        }
        g_free(t);
        qcow2_meta_add(s, l1off, bytes);
    }
    if (ret) {
        error_setg(errp, "Could not copy the L1 table: %s", strerror(-ret));
        goto out;
    }
    uint64_t max_id = 0;
    for (int i = 0; i < s->nb_snaps; i++) {
        max_id = MAX(max_id, g_ascii_strtoull(s->snaps[i].id, NULL, 10));
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    s->snaps = g_renew(Qcow2Snapshot, s->snaps, s->nb_snaps + 1);
    Qcow2Snapshot *sn = &s->snaps[s->nb_snaps];
    *sn = (Qcow2Snapshot){
        .l1_offset = l1off, .l1_size = s->l1_size,
        .id = g_strdup_printf("%" PRIu64, max_id + 1), .name = g_strdup(name),
        .date_sec = ts.tv_sec, .date_nsec = ts.tv_nsec,
        .disk_size = bs->size, .extra_size = 24, .extra = g_malloc0(24),
        .has_icount = true,
    };
    stq_be(sn->extra + 8, bs->size);
    s->nb_snaps++;
    ret = qcow2_write_snapshots(s);
    if (ret) {
        error_setg(errp, "Could not write the snapshot table: %s",
                   strerror(-ret));
        goto out;
    }
    ret = finish_update(s, 0, "the tables", errp);
out:
    g_mutex_unlock(&s->lock);
    return ret;
}

int qcow2_snapshot_goto(BlockDriverState *bs, const char *name, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int ret, idx;
    uint64_t *snap_l1 = NULL, *t = NULL;
    g_mutex_lock(&s->lock);
    if ((idx = find_snapshot(s, name)) < 0) {
        error_setg(errp, "Can't find the snapshot '%s'", name);
        ret = -ENOENT;
        goto out;
    }
    if ((ret = quiesce(s, errp))) {
        goto out;
    }
    Qcow2Snapshot *sn = &s->snaps[idx];
    uint64_t need = (size_to_clusters(s, sn->disk_size) + s->l2_size - 1) >>
                    s->l2_bits;
    uint32_t n = MAX(sn->l1_size, need);
    uint64_t bytes = ALIGN_UP((uint64_t)n * 8, s->cluster_size);
    snap_l1 = read_l1(s, sn->l1_offset, sn->l1_size, &ret);
    int64_t off = 0;
    if (!ret && n) {
        off = qcow2_alloc_clusters(s, bytes >> s->cluster_bits);
        ret = off < 0 ? off : 0;
    }
    if (!ret) {
        ret = qcow2_tree_refcount(s, snap_l1, sn->l1_size, 1);
    }
    if (!ret) {
        ret = qcache_flush(s->rb_cache);
    }
    if (!ret && n) {
        t = block_alloc(bytes);
        for (uint32_t i = 0; i < sn->l1_size; i++) {
            t[i] = be64(snap_l1[i] & ~QCOW_OFLAG_COPIED);
        }
        ret = bfile_pwrite(&s->file, off, t, bytes);
    }
    if (!ret) {
        ret = bfile_flush(&s->file);
    }
    if (!ret) {
        uint8_t hdr[24];
        stl_be(hdr, n);
        stq_be(hdr + 4, off);
        ret = bfile_pwrite(&s->file, 36, hdr, 12);
        stq_be(hdr, sn->disk_size);
        if (!ret) {
            ret = bfile_pwrite(&s->file, 24, hdr, 8);
        }
    }
    if (ret) {
        error_setg(errp, "Could not switch to the snapshot: %s",
                   strerror(-ret));
        goto out;
    }
    /* The old active tree loses a reference; the old L1 table is free. */
    uint64_t *old = s->l1, old_off = s->l1_offset;
    uint32_t old_size = s->l1_size;
    s->l1 = g_new0(uint64_t, MAX(n, 1));
    for (uint32_t i = 0; i < sn->l1_size; i++) {
        s->l1[i] = snap_l1[i] & ~QCOW_OFLAG_COPIED;
    }
    s->l1_size = n;
    s->l1_offset = off;
    bs->size = sn->disk_size;
    qcow2_meta_add(s, off, bytes);
    ret = qcow2_tree_refcount(s, old, old_size, -1);
    if (!ret && old_size) {
        qcow2_meta_del(s, old_off, old_size * 8ULL);
        ret = qcow2_free_now(s, old_off, old_size * 8ULL);
    }
    g_free(old);
    ret = finish_update(s, ret, "refcounts", errp);
out:
    g_free(snap_l1);
    free(t);
    g_mutex_unlock(&s->lock);
    return ret;
}

int qcow2_snapshot_delete(BlockDriverState *bs, const char *name, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int ret, idx;
    g_mutex_lock(&s->lock);
    if ((idx = find_snapshot(s, name)) < 0) {
        error_setg(errp, "Can't find the snapshot '%s'", name);
        ret = -ENOENT;
        goto out;
    }
    if ((ret = quiesce(s, errp))) {
        goto out;
    }
    Qcow2Snapshot sn = s->snaps[idx];
    memmove(&s->snaps[idx], &s->snaps[idx + 1],
            (s->nb_snaps - idx - 1) * sizeof(sn));
    s->nb_snaps--;
    ret = qcow2_write_snapshots(s);
    if (ret) {
        s->snaps[s->nb_snaps++] = sn;       /* order aside, still listed */
        error_setg(errp, "Could not write the snapshot table: %s",
                   strerror(-ret));
        goto out;
    }
    uint64_t *l1 = read_l1(s, sn.l1_offset, sn.l1_size, &ret);
    if (!ret) {
        ret = qcow2_tree_refcount(s, l1, sn.l1_size, -1);
    }
    if (!ret && sn.l1_size) {
        qcow2_meta_del(s, sn.l1_offset, sn.l1_size * 8ULL);
        ret = qcow2_free_now(s, sn.l1_offset, sn.l1_size * 8ULL);
    }
    g_free(l1);
    g_free(sn.id);
    g_free(sn.name);
    g_free(sn.extra);
    ret = finish_update(s, ret, "refcounts", errp);
out:
    g_mutex_unlock(&s->lock);
    return ret;
}

int qcow2_snapshot_list(BlockDriverState *bs, BdrvSnapshot **list)
{
    BDRVQcow2State *s = bs->opaque;
    *list = g_new0(BdrvSnapshot, MAX(s->nb_snaps, 1));
    for (int i = 0; i < s->nb_snaps; i++) {
        Qcow2Snapshot *sn = &s->snaps[i];
        (*list)[i] = (BdrvSnapshot){
            .id = g_strdup(sn->id), .name = g_strdup(sn->name),
            .vm_state_size = sn->vm_state_size, .date_sec = sn->date_sec,
            .date_nsec = sn->date_nsec, .vm_clock_nsec = sn->vm_clock_nsec,
            .icount = sn->icount, .has_icount = sn->has_icount,
        };
    }
    return s->nb_snaps;
}
