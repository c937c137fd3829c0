/*
 * qcow2 driver internals (docs/interop/qcow2.txt is the format).
 *
 * Locking: s->lock guards every piece of metadata (tables, caches, refcounts,
 * the allocator).  Worker threads hold it while they look up and change
 * metadata and drop it around data transfers; the fast path only tries it.
 *
 * Crash safety, without lazy refcounts: the image on disk never has a
 * refcount lower than its references.  Refcount blocks are written (and
 * synced) before any L2 table that may point at a newly allocated cluster;
 * a new L2 table is written before the L1 entry that points at it; and
 * refcount decrements are held back ("pending frees") until the L2 tables
 * that dropped the references are on disk and no request is still using
 * the old clusters.  A crash therefore leaves at worst leaked clusters.
 */
#ifndef BLOCK_QCOW2_H
#define BLOCK_QCOW2_H

#include "block/block_int.h"

#define QCOW_MAGIC 0x514649fbU

#define QCOW_OFLAG_COPIED      (1ULL << 63)
#define QCOW_OFLAG_COMPRESSED  (1ULL << 62)
#define QCOW_OFLAG_ZERO        1ULL
#define L1E_OFFSET_MASK        0x00fffffffffffe00ULL
#define L1E_RESERVED_MASK      0x7f000000000001ffULL
#define L2E_OFFSET_MASK        0x00fffffffffffe00ULL
#define L2E_STD_RESERVED_MASK  0x3f000000000001feULL
#define REFT_OFFSET_MASK       0xfffffffffffffe00ULL
#define REFT_RESERVED_MASK     0x1ffULL

#define INCOMPAT_DIRTY         (1ULL << 0)
#define INCOMPAT_CORRUPT       (1ULL << 1)
#define INCOMPAT_DATA_FILE     (1ULL << 2)
#define INCOMPAT_COMPRESSION   (1ULL << 3)
#define INCOMPAT_EXTL2         (1ULL << 4)
#define INCOMPAT_KNOWN         (INCOMPAT_DIRTY | INCOMPAT_CORRUPT | \
                                INCOMPAT_COMPRESSION)
#define COMPAT_LAZY_REFCOUNTS  (1ULL << 0)
#define AUTOCLEAR_BITMAPS      (1ULL << 0)

#define EXT_END                0
#define EXT_BACKING_FORMAT     0xe2792acaU
#define EXT_FEATURE_TABLE      0x6803f857U
#define EXT_BITMAPS            0x23852875U
#define EXT_CRYPTO             0x0537be77U
#define EXT_DATA_FILE          0x44415441U

#define MAX_L1_BYTES           (32 * MiB)
#define MAX_REFTABLE_BYTES     (8 * MiB)
#define MAX_SNAPSHOTS          65536
#define MAX_BACKING_NAME       1023
#define V3_HEADER_LENGTH       112

enum { CLUSTER_UNALLOC, CLUSTER_ZERO, CLUSTER_NORMAL, CLUSTER_COMPRESSED };

typedef struct Qcow2Cache Qcow2Cache;
typedef struct BDRVQcow2State BDRVQcow2State;

typedef struct Qcow2Snapshot {
    uint64_t l1_offset;
    uint32_t l1_size;
    char *id, *name;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t vm_state_size;
    uint64_t disk_size;
    uint64_t icount;
    bool has_icount;
    uint32_t extra_size;        /* as read; unknown extra data is kept */
    uint8_t *extra;
} Qcow2Snapshot;

typedef struct Qcow2Ext {
    uint32_t type, len;
    uint8_t *data;
} Qcow2Ext;

typedef struct PendingFree {
    uint64_t offset;            /* host byte offset (compressed: unaligned) */
    uint64_t bytes;
} PendingFree;

typedef struct InflightAlloc {
    uint64_t first, last;       /* guest cluster indexes */
} InflightAlloc;

struct BDRVQcow2State {
    BlockDriverState *bs;
    BlockFile file;
    GMutex lock;
    GCond alloc_cond;

    int version;
    int cluster_bits;
    uint32_t cluster_size;
    int l2_bits;                /* entries per L2 table: 1 << l2_bits */
    uint32_t l2_size;
    int refcount_order;
    int rb_bits;                /* entries per refcount block: 1 << rb_bits */
    uint64_t refcount_max;
    int csize_shift;
    uint64_t csize_mask;
    uint64_t cluster_offset_mask;   /* compressed descriptors */
    uint32_t header_length;
    uint8_t *hdr_tail;          /* header bytes 105..header_length, kept */
    uint64_t incompat, compat, autoclear;
    uint8_t compression_type;

    uint64_t *l1;               /* host byte order */
    uint32_t l1_size;
    uint64_t l1_offset;
    uint64_t *reft;
    uint64_t reft_size;         /* entries */
    uint64_t reft_offset;
    uint32_t reft_clusters;

    Qcow2Snapshot *snaps;
    int nb_snaps;
    uint64_t snapshots_offset;
    uint64_t snapshots_size;    /* bytes */

    GArray *exts;               /* unknown header extensions, kept */
    Qcow2Cache *l2_cache, *rb_cache;
    GHashTable *meta;           /* host cluster indexes holding metadata */
    uint64_t free_cluster_index;
    uint64_t alloc_high;        /* clusters from here on were never written */
    bool last_alloc_fresh;      /* the last allocation lies past alloc_high */
    uint64_t free_byte_offset;  /* compressed data packing */
    GArray *pending;            /* PendingFree */
    GPtrArray *allocs;          /* InflightAlloc in flight */
    gint inflight;              /* data transfers using looked-up offsets */
    bool lazy;
    bool dirty_on_disk;
    bool corrupt;
    bool check_mode;
    bool check_quiet;           /* repair at open: no report */
    uint8_t *zeros;             /* one cluster of zeros (fast path COW) */
};

/* qcow2-cache.c */
Qcow2Cache *qcache_new(BDRVQcow2State *s, int entries, Qcow2Cache *dep);
void qcache_free(Qcow2Cache *c);
/* Referenced table; load=false gives a zeroed table for a new cluster. */
int qcache_get(Qcow2Cache *c, uint64_t offset, void **table, bool load);
void qcache_put(Qcow2Cache *c, void *table);
void qcache_dirty(Qcow2Cache *c, void *table);
int qcache_write(Qcow2Cache *c, void *table);
/* A cached table or NULL; no I/O, no reference (fast path, under lock). */
void *qcache_peek(Qcow2Cache *c, uint64_t offset);
int qcache_flush(Qcow2Cache *c);
bool qcache_has_dirty(Qcow2Cache *c);
void qcache_forget(Qcow2Cache *c, uint64_t offset);
void qcache_set_dep(Qcow2Cache *c, Qcow2Cache *dep);

/* qcow2-refcount.c */
int qcow2_get_refcount(BDRVQcow2State *s, uint64_t cluster, uint64_t *rc);
int qcow2_update_refcount(BDRVQcow2State *s, uint64_t cluster, int64_t delta);
int64_t qcow2_alloc_clusters(BDRVQcow2State *s, uint64_t n);
int64_t qcow2_alloc_bytes(BDRVQcow2State *s, uint64_t size);
int64_t qcow2_alloc_clusters_nowait(BDRVQcow2State *s, uint64_t n);
void qcow2_free_later(BDRVQcow2State *s, uint64_t offset, uint64_t bytes);
int qcow2_free_now(BDRVQcow2State *s, uint64_t offset, uint64_t bytes);
int qcow2_apply_pending(BDRVQcow2State *s);
int qcow2_entry_refcount_delta(BDRVQcow2State *s, uint64_t entry, int64_t d);
int qcow2_tree_refcount(BDRVQcow2State *s, const uint64_t *l1, uint32_t n,
                        int64_t delta);
int qcow2_fix_copied(BDRVQcow2State *s);
int qcow2_commit_reftable(BDRVQcow2State *s, const uint64_t *table,
                          uint64_t bytes, uint64_t toff, uint32_t clusters);
uint64_t rb_get(const void *blk, uint64_t i, int order);
void rb_set(void *blk, uint64_t i, int order, uint64_t v);

/* qcow2-cluster.c */
int qcow2_entry_type(BDRVQcow2State *s, uint64_t entry);
void qcow2_compressed_range(BDRVQcow2State *s, uint64_t entry,
                            uint64_t *off, uint64_t *len);
bool qcow2_entry_ok(BDRVQcow2State *s, uint64_t entry, const char **why);
int qcow2_get_l2_for_write(BDRVQcow2State *s, uint32_t l1_idx,
                           uint64_t **l2);
int qcow2_grow_l1(BDRVQcow2State *s, uint64_t min_size);
int qcow2_preadv(BlockDriverState *bs, int64_t off, int64_t bytes,
                 const struct iovec *iov, int niov);
int qcow2_pwritev(BlockDriverState *bs, int64_t off, int64_t bytes,
                  const struct iovec *iov, int niov);
int qcow2_pwrite_zeroes(BlockDriverState *bs, int64_t off, int64_t bytes,
                        int flags);
int qcow2_pdiscard(BlockDriverState *bs, int64_t off, int64_t bytes,
                   int flags);
int qcow2_pwrite_compressed(BlockDriverState *bs, int64_t off, int64_t bytes,
                            const void *buf);
int qcow2_block_status(BlockDriverState *bs, int64_t off, int64_t bytes,
                       int64_t *pnum, int64_t *map);
bool qcow2_alloc_overlaps(BDRVQcow2State *s, uint64_t first, uint64_t last);

/* qcow2-fast.c */
bool qcow2_aio_submit(BlockDriverState *bs, BlkReq *req);
int qcow2_preallocate(BDRVQcow2State *s, uint64_t from, uint64_t to, int mode);

/* qcow2-compress.c */
ssize_t qcow2_compress(BDRVQcow2State *s, void *dst, size_t cap,
                       const void *src, size_t len);
int qcow2_decompress(BDRVQcow2State *s, void *dst, size_t len,
                     const void *src, size_t slen);

/* qcow2-header.c */
bool qcow2_parse_header(BDRVQcow2State *s, BlockDriverState *bs,
                        const uint8_t *h, int64_t flen, Error **errp);
bool qcow2_parse_extensions(BDRVQcow2State *s, BlockDriverState *bs,
                            const uint8_t *h, size_t hsize, Error **errp);
int qcow2_build_header(BDRVQcow2State *s, uint8_t *buf, uint64_t size,
                       const char *backing, const char *backing_fmt,
                       bool table);
int qcow2_write_header(BDRVQcow2State *s);

/* qcow2.c */
int qcow2_mark_corrupt(BDRVQcow2State *s, const char *fmt, ...) PRINTF_FMT(2, 3);
int qcow2_mark_dirty(BDRVQcow2State *s);
int qcow2_write_l1_entry(BDRVQcow2State *s, uint32_t idx);
int qcow2_sync_metadata(BDRVQcow2State *s, bool all);
void qcow2_meta_add(BDRVQcow2State *s, uint64_t offset, uint64_t bytes);
void qcow2_meta_del(BDRVQcow2State *s, uint64_t offset, uint64_t bytes);
bool qcow2_is_meta(BDRVQcow2State *s, uint64_t offset);
int qcow2_read_snapshots(BDRVQcow2State *s, Error **errp);
int qcow2_write_snapshots(BDRVQcow2State *s);
int qcow2_check(BlockDriverState *bs, BdrvCheckResult *res, int fix);
int qcow2_snapshot_create(BlockDriverState *bs, const char *name, Error **errp);
int qcow2_snapshot_goto(BlockDriverState *bs, const char *name, Error **errp);
int qcow2_snapshot_delete(BlockDriverState *bs, const char *name, Error **errp);
int qcow2_snapshot_list(BlockDriverState *bs, BdrvSnapshot **list);
void qcow2_free_snapshots(BDRVQcow2State *s);

static inline uint64_t be64(uint64_t v) { return GUINT64_FROM_BE(v); }
static inline uint64_t ldq_be(const void *p) { uint64_t v; memcpy(&v, p, 8); return GUINT64_FROM_BE(v); }
static inline uint32_t ldl_be(const void *p) { uint32_t v; memcpy(&v, p, 4); return GUINT32_FROM_BE(v); }
static inline uint16_t lduw_be(const void *p) { uint16_t v; memcpy(&v, p, 2); return GUINT16_FROM_BE(v); }
static inline void stq_be(void *p, uint64_t v) { v = GUINT64_TO_BE(v); memcpy(p, &v, 8); }
static inline void stl_be(void *p, uint32_t v) { v = GUINT32_TO_BE(v); memcpy(p, &v, 4); }
static inline void stw_be(void *p, uint16_t v) { v = GUINT16_TO_BE(v); memcpy(p, &v, 2); }

static inline uint64_t size_to_clusters(BDRVQcow2State *s, uint64_t size)
{
    return (size + s->cluster_size - 1) >> s->cluster_bits;
}

#endif
