/*
 * The qcow2 header: parsing and checking its fields and extensions
 * (unknown extensions and header fields are kept for rewriting), and
 * building it again (feature name table when it fits, backing file name
 * after the extensions).
 */
#include "qcow2.h"

static const struct { uint8_t type, bit; const char *name; } features[] = {
    { 0, 0, "dirty bit" },
    { 0, 1, "corrupt bit" },
    { 0, 2, "external data file" },
    { 0, 3, "compression type" },
    { 0, 4, "extended L2 entries" },
    { 1, 0, "lazy refcounts" },
    { 2, 0, "bitmaps" },
    { 2, 1, "raw external data" },
};

static char *unknown_features(uint64_t bits, const uint8_t *table,
                              uint32_t tlen)
{
    GString *s = g_string_new(NULL);
    for (int b = 0; b < 64; b++) {
        if (!(bits & (1ULL << b))) {
            continue;
        }
        const char *name = NULL;
        for (uint32_t i = 0; table && i + 48 <= tlen; i += 48) {
            if (table[i] == 0 && table[i + 1] == b) {
                name = (const char *)table + i + 2;
            }
        }
        for (unsigned i = 0; !name && i < ARRAY_SIZE(features); i++) {
            if (features[i].type == 0 && features[i].bit == b) {
                name = features[i].name;
            }
        }
        if (s->len) {
            g_string_append(s, ", ");
        }
        if (name) {
            g_string_append_len(s, name, strnlen(name, 46));
        } else {
            g_string_append_printf(s, "unknown incompatible feature bit %d", b);
        }
    }
    return g_string_free(s, false);
}

static uint64_t hsize_of(int64_t flen)
{
    return MIN((uint64_t)flen, 2 * MiB);
}

bool qcow2_parse_header(BDRVQcow2State *s, BlockDriverState *bs,
                         const uint8_t *h, int64_t flen, Error **errp)
{
    s->version = ldl_be(h + 4);
    s->cluster_bits = ldl_be(h + 20);
    bs->size = ldq_be(h + 24);
    uint32_t crypt = ldl_be(h + 32);
    s->l1_size = ldl_be(h + 36);
    s->l1_offset = ldq_be(h + 40);
    s->reft_offset = ldq_be(h + 48);
    s->reft_clusters = ldl_be(h + 56);
    s->nb_snaps = 0;
    uint32_t nb_snaps = ldl_be(h + 60);
    s->snapshots_offset = ldq_be(h + 64);

    if (ldl_be(h) != QCOW_MAGIC) {
        error_setg(errp, "Image is not in qcow2 format");
        return false;
    }
    if (s->version != 2 && s->version != 3) {
        error_setg(errp, "Unsupported qcow2 version %d", s->version);
        return false;
    }
    if (ldl_be(h + 20) < 9 || ldl_be(h + 20) > 21) {
        error_setg(errp, "Unsupported cluster size: 2^%u bytes (qcow2 "
                   "allows 512 bytes to 2 MiB)", ldl_be(h + 20));
        return false;
    }
    s->cluster_size = 1U << s->cluster_bits;
    s->refcount_order = 4;
    s->header_length = 72;
    if (s->version >= 3) {
        s->incompat = ldq_be(h + 72);
        s->compat = ldq_be(h + 80);
        s->autoclear = ldq_be(h + 88);
        if (flen < 104) {
            error_setg(errp, "Image file is truncated: %" PRId64 " bytes, "
                       "shorter than its header", flen);
            return false;
        }
        if (ldl_be(h + 96) > 6) {
            error_setg(errp, "Invalid refcount width 2^%u bits (at most 64)",
                       ldl_be(h + 96));
            return false;
        }
        s->refcount_order = ldl_be(h + 96);
        s->header_length = ldl_be(h + 100);
        if (s->header_length < 104 || s->header_length % 8 ||
            s->header_length > s->cluster_size) {
            error_setg(errp, "Invalid header length %u", s->header_length);
            return false;
        }
        if (s->header_length > 104) {
            s->compression_type = h[104];
        }
        if (s->header_length > 105 && s->header_length <= hsize_of(flen)) {
            s->hdr_tail = g_memdup2(h + 105, s->header_length - 105);
        }
    }
    if (flen < s->header_length) {
        error_setg(errp, "Image file is truncated: %" PRId64 " bytes, "
                   "shorter than its header", flen);
        return false;
    }
    if (crypt) {
        error_setg(errp, "Encrypted qcow2 images are not supported");
        return false;
    }
    if (s->compression_type > 1) {
        error_setg(errp, "Unknown compression type %u", s->compression_type);
        return false;
    }
    if (!!(s->incompat & INCOMPAT_COMPRESSION) != (s->compression_type != 0)) {
        error_setg(errp, "Compression type %u does not match the compression "
                   "type feature bit", s->compression_type);
        return false;
    }
    if (ldq_be(h + 24) > (1ULL << 62)) {
        error_setg(errp, "Image size %" PRIu64 " is too large",
                   ldq_be(h + 24));
        return false;
    }
    if (nb_snaps > MAX_SNAPSHOTS) {
        error_setg(errp, "Too many snapshots: %u (at most %d)", nb_snaps,
                   MAX_SNAPSHOTS);
        return false;
    }
    s->nb_snaps = nb_snaps;
    return true;
}

bool qcow2_parse_extensions(BDRVQcow2State *s, BlockDriverState *bs,
                             const uint8_t *h, size_t hsize, Error **errp)
{
    size_t pos = s->header_length;
    const uint8_t *ftable = NULL;
    uint32_t ftlen = 0;
    bool bitmaps = false;

    s->exts = g_array_new(false, true, sizeof(Qcow2Ext));
    while (pos + 8 <= hsize) {
        uint32_t type = ldl_be(h + pos), len = ldl_be(h + pos + 4);
        if (type == EXT_END) {
            break;
        }
        if (len > hsize - pos - 8) {
            error_setg(errp, "Header extension %#x (%u bytes) runs past the "
                       "header cluster", type, len);
            return false;
        }
        const uint8_t *d = h + pos + 8;
        switch (type) {
        case EXT_BACKING_FORMAT:
            if (len == 0 || len > 15 || memchr(d, 0, len)) {
                error_setg(errp, "Invalid backing file format extension "
                           "(%u bytes)", len);
                return false;
            }
            g_free(bs->backing_format);
            bs->backing_format = g_strndup((const char *)d, len);
            break;
        case EXT_FEATURE_TABLE:
            ftable = d;
            ftlen = len;
            break;
        case EXT_CRYPTO:
            error_setg(errp, "Encrypted qcow2 images are not supported");
            return false;
        case EXT_DATA_FILE:
            error_setg(errp, "qcow2 images with an external data file are "
                       "not supported");
            return false;
        case EXT_BITMAPS:
            bitmaps = true;
            /* fall through */
        default: {
            Qcow2Ext e = { type, len, g_memdup2(d, len) };
            g_array_append_val(s->exts, e);
            break;
        }
        }
        pos += 8 + ALIGN_UP((uint64_t)len, 8);
    }
    uint64_t unknown = s->incompat & ~INCOMPAT_KNOWN;
    if (unknown) {
        g_autofree char *names = unknown_features(unknown, ftable, ftlen);
        error_setg(errp, "Unsupported qcow2 feature(s): %s", names);
        return false;
    }
    if (bitmaps && !bs->read_only) {
        error_setg(errp, "Images with persistent dirty bitmaps can only be "
                   "opened read-only (remove them with qemu-img bitmap)");
        return false;
    }
    uint64_t boff = ldq_be(h + 8);
    uint32_t blen = ldl_be(h + 16);
    if (boff) {
        if (blen > MAX_BACKING_NAME || blen == 0) {
            error_setg(errp, "Invalid backing file name length %u (1 to %d)",
                       blen, MAX_BACKING_NAME);
            return false;
        }
        if (boff > hsize || blen > hsize - boff) {
            error_setg(errp, "Backing file name lies outside the header "
                       "cluster");
            return false;
        }
        bs->backing_file = g_strndup((const char *)h + boff, blen);
        if (strlen(bs->backing_file) != blen) {
            error_setg(errp, "Backing file name contains a NUL byte");
            return false;
        }
    }
    return true;
}

/* The header cluster: fields, extensions, backing file name. */
int qcow2_build_header(BDRVQcow2State *s, uint8_t *buf, uint64_t size,
                        const char *backing, const char *backing_fmt,
                        bool table)
{
    uint32_t hlen = s->version >= 3 ? s->header_length : 72;
    size_t pos = hlen;
    memset(buf, 0, s->cluster_size);
    stl_be(buf, QCOW_MAGIC);
    stl_be(buf + 4, s->version);
    stl_be(buf + 20, s->cluster_bits);
    stq_be(buf + 24, size);
    stl_be(buf + 36, s->l1_size);
    stq_be(buf + 40, s->l1_offset);
    stq_be(buf + 48, s->reft_offset);
    stl_be(buf + 56, s->reft_clusters);
    stl_be(buf + 60, s->nb_snaps);
    stq_be(buf + 64, s->snapshots_offset);
    if (s->version >= 3) {
        stq_be(buf + 72, s->incompat);
        stq_be(buf + 80, s->compat);
        stq_be(buf + 88, s->autoclear);
        stl_be(buf + 96, s->refcount_order);
        stl_be(buf + 100, hlen);
        buf[104] = s->compression_type;
        if (s->hdr_tail) {
            memcpy(buf + 105, s->hdr_tail, hlen - 105);
        }
    }
    if (backing_fmt) {
        size_t n = strlen(backing_fmt);
        stl_be(buf + pos, EXT_BACKING_FORMAT);
        stl_be(buf + pos + 4, n);
        memcpy(buf + pos + 8, backing_fmt, n);
        pos += 8 + ALIGN_UP(n, 8);
    }
    if (s->version >= 3 && table) {
        if (pos + 16 + 48 * ARRAY_SIZE(features) > s->cluster_size) {
            return -ENOSPC;
        }
        stl_be(buf + pos, EXT_FEATURE_TABLE);
        stl_be(buf + pos + 4, 48 * ARRAY_SIZE(features));
        pos += 8;
        for (unsigned i = 0; i < ARRAY_SIZE(features); i++, pos += 48) {
            buf[pos] = features[i].type;
            buf[pos + 1] = features[i].bit;
            strncpy((char *)buf + pos + 2, features[i].name, 46);
        }
    }
    for (guint i = 0; s->exts && i < s->exts->len; i++) {
        Qcow2Ext *e = &g_array_index(s->exts, Qcow2Ext, i);
        if (pos + 8 + ALIGN_UP((uint64_t)e->len, 8) + 8 > s->cluster_size) {
            return -ENOSPC;
        }
        stl_be(buf + pos, e->type);
        stl_be(buf + pos + 4, e->len);
        memcpy(buf + pos + 8, e->data, e->len);
        pos += 8 + ALIGN_UP(e->len, 8);
    }
    pos += 8;                   /* end of extensions */
    if (backing) {
        size_t n = strlen(backing);
        if (pos + n > s->cluster_size) {
            return -ENOSPC;
        }
        stq_be(buf + 8, pos);
        stl_be(buf + 16, n);
        memcpy(buf + pos, backing, n);
        pos += n;
    }
    return pos;
}

int qcow2_write_header(BDRVQcow2State *s)
{
    uint8_t *buf = block_alloc(s->cluster_size);
    /* The feature name table is optional: left out if it does not fit. */
    int len = qcow2_build_header(s, buf, s->bs->size, s->bs->backing_file,
                           s->bs->backing_format, true);
    if (len < 0) {
        len = qcow2_build_header(s, buf, s->bs->size, s->bs->backing_file,
                           s->bs->backing_format, false);
    }
    int ret = len < 0 ? len : bfile_pwrite(&s->file, 0, buf, len);
    free(buf);
    return ret;
}

/* Write back caches (all: refcounts too even when lazy) and sync. */
