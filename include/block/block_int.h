/*
 * Inside the block layer: the driver interface, the image node
 * (BlockDriverState), host files and the asynchronous engine.
 *
 * A driver does its work in synchronous, thread-safe functions that the
 * engine runs in worker threads, so a slow metadata update never blocks the
 * main loop or a vCPU.  A driver may also take a request on the fast path
 * (aio_submit): raw always does, qcow2 when the mapping is in its cache;
 * then the data moves on io_uring with no thread hop and no copy.
 */
#ifndef BLOCK_BLOCK_INT_H
#define BLOCK_BLOCK_INT_H

#include "block/block.h"
#include <sys/types.h>

/* ---- host files ---- */

typedef struct BlockFile {
    int fd;
    bool direct;            /* O_DIRECT: aligned buffers and offsets */
    bool no_flush;          /* cache=unsafe */
    bool is_bdev;
    unsigned align;         /* O_DIRECT alignment (offsets, lengths, memory) */
    char *path;
} BlockFile;

bool bfile_open(BlockFile *f, const char *path, bool rw, BlockCacheMode cache,
                Error **errp);
void bfile_close(BlockFile *f);
/* Whole transfers: reads past the end of the file give zeros. */
int bfile_preadv(BlockFile *f, int64_t off, const struct iovec *iov, int niov);
int bfile_pwritev(BlockFile *f, int64_t off, const struct iovec *iov,
                  int niov);
int bfile_pread(BlockFile *f, int64_t off, void *buf, size_t len);
int bfile_pwrite(BlockFile *f, int64_t off, const void *buf, size_t len);
int bfile_flush(BlockFile *f);
int64_t bfile_length(BlockFile *f);
int bfile_truncate(BlockFile *f, int64_t len);
int bfile_discard(BlockFile *f, int64_t off, int64_t len);
int bfile_allocate(BlockFile *f, int64_t off, int64_t len, bool full);
/* Can this transfer go to the kernel as it is (O_DIRECT alignment)? */
bool bfile_aligned(BlockFile *f, int64_t off, const struct iovec *iov,
                   int niov);
/* Aligned, zeroed memory usable for O_DIRECT. */
void *block_alloc(size_t size);

/* ---- iovec helpers ---- */

size_t iov_size(const struct iovec *iov, int niov);
/* dst gets the part [off, off + len) of src; returns the entry count. */
int iov_slice(struct iovec *dst, const struct iovec *src, int niov,
              size_t off, size_t len);
void iov_memset(const struct iovec *iov, int niov, size_t off, int c,
                size_t len);
size_t iov_to_buf(const struct iovec *iov, int niov, size_t off, void *buf,
                  size_t len);
size_t iov_from_buf(const struct iovec *iov, int niov, size_t off,
                    const void *buf, size_t len);
bool buffer_is_zero(const void *buf, size_t len);

/* ---- the asynchronous engine (block/aio.c) ---- */

typedef struct AioSub AioSub;
struct AioSub {
    void (*cb)(AioSub *s, int ret);     /* main thread, big lock held */
    int (*work)(AioSub *s);             /* worker thread job */
    AioSub *next;
    int ret;
    /* file I/O */
    BlockFile *file;
    int op;                             /* AIO_READ, AIO_WRITE, AIO_FSYNC */
    int64_t off;
    const struct iovec *iov;
    int niov;
    size_t len;
};

enum { AIO_READ, AIO_WRITE, AIO_FSYNC };

void aio_run_in_worker(AioSub *s);
/* io_uring when available and aligned, else a worker. */
void aio_file_submit(AioSub *s);
/* Call s->cb(s, ret) from the main loop soon (never right away). */
void aio_complete_later(AioSub *s, int ret);
bool aio_have_uring(void);

/* ---- image nodes and drivers ---- */

typedef struct BlkReq BlkReq;

/*
 * Request alignment (block/align.c): a node whose child must only see
 * requests aligned to `align` bytes (blkdebug's align=, QEMU's
 * request_alignment) passes them on through a BlockAlign, as QEMU's block
 * layer does: reads are widened, writes become read-modify-write, zero
 * writes are split into an aligned middle and read-modify-written ends,
 * discards shrink to whole units (the image's end counts as aligned).  A
 * request that needs that runs alone: it waits for the ones passed on
 * before it and those after it wait for it, so no write lands between its
 * read and its write.  Everything passes in order through a worker.
 */
typedef struct BlockAlign {
    uint32_t align;             /* a power of two > 1 */
    unsigned in_flight;         /* passed on, not yet complete */
    bool padding;               /* one of those is read-modify-write */
    GQueue waiting;             /* BlkReq *, in arrival order */
} BlockAlign;

/* Pass req on to child (main thread); it completes through blkreq_done. */
void block_align_submit(BlockAlign *a, BlockDriverState *child, BlkReq *req);
/* The synchronous calls of a node with such a child. */
int block_align_preadv(BlockDriverState *child, uint32_t align, int64_t off,
                       int64_t bytes, const struct iovec *iov, int niov);
int block_align_pwritev(BlockDriverState *child, uint32_t align,
                        int64_t off, int64_t bytes, const struct iovec *iov,
                        int niov);
int block_align_pwrite_zeroes(BlockDriverState *child, uint32_t align,
                              int64_t off, int64_t bytes, int flags);
int block_align_pdiscard(BlockDriverState *child, uint32_t align,
                         int64_t off, int64_t bytes, int flags);

typedef enum {
    BLK_OP_READ,
    BLK_OP_WRITE,
    BLK_OP_FLUSH,
    BLK_OP_DISCARD,
    BLK_OP_ZEROES,
    BLK_OP_ZEROES_UNMAP,        /* zeroes, space freed if discard=unmap */
    BLK_OP_TRIM,                /* discard=unmap: zeroes, space freed;
                                 * discard=ignore: nothing */
} BlkOp;

struct BlkReq {
    AioSub sub;                 /* the worker path */
    BlockBackend *blk;
    BlockDriverState *bs;
    BlkOp op;
    int64_t offset, bytes;
    struct iovec *iov;
    int niov;
    int pending;                /* fast-path pieces still running */
    int ret;
    bool flush_after;           /* writethrough */
    void *drv_state;            /* driver's fast-path bookkeeping */
    BlockCompletionFunc *cb;
    void *opaque;
    struct iovec iov_inline[4];
};

/* Fast path finished (main thread): complete the request. */
void blkreq_done(BlkReq *req, int ret);
/* Check req and hand it to req->bs (a filter passing it on to its child). */
void blkreq_submit(BlkReq *req);
/* Do req's operation on req->bs synchronously (a worker's job). */
int blkreq_run(BlkReq *req);
/* The flags a zero write of req takes (BDRV_REQ_MAY_UNMAP or 0). */
int blkreq_zero_flags(const BlkReq *req);

/* Flags for write_zeroes/discard. */
#define BDRV_REQ_MAY_UNMAP   1      /* zeroes may deallocate */
#define BDRV_REQ_DEALLOCATE  2      /* discard: make unallocated (commit) */

/* block_status result bits */
#define BDRV_BLOCK_DATA       1     /* read from this layer's file */
#define BDRV_BLOCK_ZERO       2     /* reads as zeros */
#define BDRV_BLOCK_ALLOCATED  4     /* this layer decides the content */
#define BDRV_BLOCK_OFFSET     8     /* *map holds the host offset */
#define BDRV_BLOCK_COMPRESSED 16

typedef struct BdrvCheckResult {
    int corruptions;
    int leaks;
    int check_errors;
    int corruptions_fixed;
    int leaks_fixed;
    int64_t image_end_offset;
    int64_t total_clusters, allocated_clusters, fragmented_clusters,
            compressed_clusters;
} BdrvCheckResult;

enum { BDRV_FIX_LEAKS = 1, BDRV_FIX_ERRORS = 2 };

typedef struct BdrvSnapshot {
    char *id, *name;
    uint64_t vm_state_size;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t icount;
    bool has_icount;
} BdrvSnapshot;

typedef struct BdrvOpenParams {
    bool rw;
    BlockCacheMode cache;
    bool check;                 /* open corrupt images (check/repair) */
    uint64_t l2_cache_size;
    const char *blkdebug_config;    /* non-NULL: a blkdebug node on top */
    uint32_t blkdebug_align;        /* its align= (0: none) */
    uint64_t null_size;             /* null-co: 0 is 1 GiB */
    bool null_read_zeroes;
    /* The backing node, instead of the file the image names (referenced,
     * not owned: bdrv_open takes its own reference). */
    BlockDriverState *backing;
} BdrvOpenParams;

/* Options of kestrel-img create / convert -o */
typedef struct BlockCreateOpts {
    uint64_t size;
    const char *backing_file;
    const char *backing_fmt;
    uint32_t cluster_size;      /* 0: 64 KiB */
    int version;                /* 2 or 3 (compat=0.10 / 1.1) */
    bool lazy_refcounts;
    int refcount_bits;          /* 0: 16 */
    int preallocation;          /* PREALLOC_* */
    int compression_type;       /* 0 zlib, 1 zstd */
} BlockCreateOpts;

enum { PREALLOC_OFF, PREALLOC_METADATA, PREALLOC_FALLOC, PREALLOC_FULL };

typedef struct BlockDriver {
    const char *name;
    /* Score 0-100 for the first bytes of a file. */
    int (*probe)(const uint8_t *buf, int len);
    bool (*open)(BlockDriverState *bs, const BdrvOpenParams *p, Error **errp);
    void (*close)(BlockDriverState *bs);
    /* Optional fast path: true if the driver took the request. */
    bool (*aio_submit)(BlockDriverState *bs, BlkReq *req);
    /* Synchronous and thread-safe (worker threads). */
    int (*preadv)(BlockDriverState *bs, int64_t off, int64_t bytes,
                  const struct iovec *iov, int niov);
    int (*pwritev)(BlockDriverState *bs, int64_t off, int64_t bytes,
                   const struct iovec *iov, int niov);
    int (*pwrite_zeroes)(BlockDriverState *bs, int64_t off, int64_t bytes,
                         int flags);
    int (*pdiscard)(BlockDriverState *bs, int64_t off, int64_t bytes,
                    int flags);
    int (*flush)(BlockDriverState *bs);
    /* Whole clusters (the last one may be short), compressed. */
    int (*pwrite_compressed)(BlockDriverState *bs, int64_t off,
                             int64_t bytes, const void *buf);
    /* Status of [off, off + bytes): BDRV_BLOCK_* for the first *pnum. */
    int (*block_status)(BlockDriverState *bs, int64_t off, int64_t bytes,
                        int64_t *pnum, int64_t *map);
    int (*truncate)(BlockDriverState *bs, int64_t size, Error **errp);
    int (*check)(BlockDriverState *bs, BdrvCheckResult *res, int fix);
    int (*change_backing)(BlockDriverState *bs, const char *file,
                          const char *fmt);
    bool (*create)(const char *filename, const BlockCreateOpts *o,
                   Error **errp);
    int (*snapshot_create)(BlockDriverState *bs, const char *name,
                           Error **errp);
    int (*snapshot_goto)(BlockDriverState *bs, const char *name,
                         Error **errp);
    int (*snapshot_delete)(BlockDriverState *bs, const char *name,
                           Error **errp);
    /* Returns the count; *list is g_free'd by bdrv_snapshots_free. */
    int (*snapshot_list)(BlockDriverState *bs, BdrvSnapshot **list);
    /* "Format specific information" lines: key/value pairs. */
    void (*get_info)(BlockDriverState *bs, GPtrArray *keys, GPtrArray *vals);
    uint32_t (*cluster_size)(BlockDriverState *bs);
    /* Let go of requests held back on purpose (blkdebug breakpoints): a
     * drain would wait for them forever. */
    void (*drain)(BlockDriverState *bs);
} BlockDriver;

extern const BlockDriver bdrv_raw;
extern const BlockDriver bdrv_qcow2;
extern const BlockDriver bdrv_blkdebug;
extern const BlockDriver bdrv_null_co;
const BlockDriver *bdrv_find_format(const char *name);

struct BlockDriverState {
    const BlockDriver *drv;
    void *opaque;
    /* Holders: the chain above it, and any overlay using it as its backing
     * node (blockdev-add backing=NODE); the last bdrv_close closes it. */
    unsigned refcnt;
    bool backing_node;          /* backing given as a node, not the file
                                 * the image names */
    char *filename;
    char node_name[24];         /* "#blockN" */
    char *backing_file;         /* as recorded in the image */
    char *backing_format;
    BlockDriverState *backing;
    BlockDriverState *filtered;     /* a filter's (blkdebug's) image */
    int64_t size;
    bool read_only;
    bool probed_raw;            /* guard sector 0 against format magic */
    BlockCacheMode cache;
    dev_t dev;
    ino_t ino;
};

BlockDriverState *bdrv_open(const char *filename, const char *format,
                            const BdrvOpenParams *p, bool open_backing,
                            bool probe_warn, Error **errp);
/* Drop a reference; the last one closes bs, then its backing chain. */
void bdrv_close(BlockDriverState *bs);
void bdrv_ref(BlockDriverState *bs);
/* A node of drv for filename, with its node name. */
BlockDriverState *bdrv_new_node(const BlockDriver *drv, const char *filename);
/* A blkdebug node with config file p->blkdebug_config ("": none) on top
 * of image (block/blkdebug.c); bdrv_open sends p->blkdebug_config and
 * "blkdebug:[CONFIG]:IMAGE" names here.  name is the node's filename. */
BlockDriverState *blkdebug_open(const char *name, const char *image,
                                const char *format, const BdrvOpenParams *p,
                                bool open_backing, bool probe_warn,
                                Error **errp);
/* The same over an open image, which it owns (closed on failure too). */
BlockDriverState *blkdebug_new(const char *name, BlockDriverState *image,
                               const char *config, uint32_t align,
                               Error **errp);
/* blkdebug's align=: a power of two up to 1 GiB (QEMU's limit is 2^30
 * too), 0 for none. */
bool blkdebug_align_ok(uint64_t align);
/* A backend over an open node (tests, tools); it owns bs. */
BlockBackend *blk_new_with_bs(BlockDriverState *bs);
/* null-co (block/null.c): a node of p->null_size bytes, no file. */
#define NULL_CO_FILENAME "null-co://"
BlockDriverState *null_open(const BdrvOpenParams *p);
/* The format a probe would pick. */
const char *bdrv_probe_format(const char *filename, Error **errp);
/* Backing file name resolved against the overlay's directory. */
char *bdrv_backing_path(BlockDriverState *bs, const char *backing);

/* Synchronous node I/O (any thread); clamps to the node's size. */
int bdrv_preadv(BlockDriverState *bs, int64_t off, int64_t bytes,
                const struct iovec *iov, int niov);
int bdrv_pwritev(BlockDriverState *bs, int64_t off, int64_t bytes,
                 const struct iovec *iov, int niov);
int bdrv_pread(BlockDriverState *bs, int64_t off, void *buf, int64_t bytes);
int bdrv_pwrite(BlockDriverState *bs, int64_t off, const void *buf,
                int64_t bytes);
int bdrv_flush(BlockDriverState *bs);
int bdrv_pwrite_zeroes(BlockDriverState *bs, int64_t off, int64_t bytes,
                       int flags);
int bdrv_pdiscard(BlockDriverState *bs, int64_t off, int64_t bytes,
                  int flags);
int bdrv_block_status(BlockDriverState *bs, int64_t off, int64_t bytes,
                      int64_t *pnum, int64_t *map);
/* Status through the chain: depth of the deciding layer in *depth. */
int bdrv_block_status_above(BlockDriverState *bs, int64_t off, int64_t bytes,
                            int64_t *pnum, int64_t *map, int *depth);
int bdrv_truncate(BlockDriverState *bs, int64_t size, Error **errp);
int bdrv_check(BlockDriverState *bs, BdrvCheckResult *res, int fix);
bool bdrv_create(const char *fmt, const char *filename,
                 const BlockCreateOpts *o, Error **errp);
void bdrv_snapshots_free(BdrvSnapshot *list, int n);
uint32_t bdrv_cluster_size(BlockDriverState *bs);

#endif
