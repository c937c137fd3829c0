/*
 * The block layer's public API.  A BlockBackend is what a device (or a tool)
 * holds: an opened image chain with a cache mode.  I/O is asynchronous: the
 * blk_aio_* calls return at once and never block; the image work runs on
 * io_uring or in worker threads, and the completion callback runs later in
 * the main loop thread (with the big lock held in the emulator), never from
 * inside the submitting call.  The synchronous helpers below are for tools,
 * tests and start-up code; they run the completion loop themselves.
 */
#ifndef BLOCK_BLOCK_H
#define BLOCK_BLOCK_H

#include "util/osdep.h"
#include <sys/uio.h>

typedef struct BlockBackend BlockBackend;
typedef struct BlockDriverState BlockDriverState;

/* ret is 0 on success or a negative errno (-EIO, -ENOSPC, -EACCES...). */
typedef void BlockCompletionFunc(void *opaque, int ret);

typedef enum {
    BLOCK_CACHE_WRITEBACK,      /* page cache, flush = fdatasync (default) */
    BLOCK_CACHE_NONE,           /* O_DIRECT, flush = fdatasync */
    BLOCK_CACHE_WRITETHROUGH,   /* page cache, every write is flushed */
    BLOCK_CACHE_DIRECTSYNC,     /* O_DIRECT and every write is flushed */
    BLOCK_CACHE_UNSAFE,         /* page cache, flushes are ignored */
} BlockCacheMode;

typedef struct BlockOpenOptions {
    const char *filename;
    const char *format;         /* "raw", "qcow2"; NULL probes */
    bool read_only;
    BlockCacheMode cache;
    bool snapshot;              /* writes go to a temporary overlay */
    bool no_backing;            /* do not open backing files */
    bool probe_warn;            /* warn when the format is probed (-drive) */
    bool check;                 /* for check/repair: corrupt images open */
    uint64_t l2_cache_size;     /* qcow2 L2 cache bytes, 0 = default */
} BlockOpenOptions;

bool block_parse_cache_mode(const char *s, BlockCacheMode *mode);
const char *block_cache_mode_name(BlockCacheMode mode);

BlockBackend *blk_open(const BlockOpenOptions *opts, Error **errp);
/* An empty drive (a CD-ROM without a disc). */
BlockBackend *blk_new_empty(void);
/* Waits for the requests in flight, then closes the image chain. */
void blk_unref(BlockBackend *blk);
/* Close all backends still open (at exit: metadata is written back). */
void blk_close_all(void);

bool blk_is_inserted(BlockBackend *blk);
bool blk_is_read_only(BlockBackend *blk);
int64_t blk_getlength(BlockBackend *blk);
const char *blk_filename(BlockBackend *blk);
const char *blk_format_name(BlockBackend *blk);
BlockDriverState *blk_bs(BlockBackend *blk);
/* Insert or eject a medium (CD-ROM change). */
bool blk_insert_medium(BlockBackend *blk, const BlockOpenOptions *opts,
                       Error **errp);
void blk_eject(BlockBackend *blk);

/*
 * The guest's write cache switch (ATA SET FEATURES 02h/82h): when off,
 * every write is flushed before it completes.
 */
bool blk_enable_write_cache(BlockBackend *blk);
void blk_set_enable_write_cache(BlockBackend *blk, bool on);

/*
 * Asynchronous I/O.  The iovec array is copied; the buffers it points to
 * must stay valid until cb runs.  Offsets and lengths are in bytes; any
 * alignment works (misaligned O_DIRECT requests are bounced).
 */
void blk_aio_preadv(BlockBackend *blk, int64_t offset,
                    const struct iovec *iov, int niov,
                    BlockCompletionFunc *cb, void *opaque);
void blk_aio_pwritev(BlockBackend *blk, int64_t offset,
                     const struct iovec *iov, int niov,
                     BlockCompletionFunc *cb, void *opaque);
void blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque);
void blk_aio_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes,
                      BlockCompletionFunc *cb, void *opaque);
void blk_aio_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes,
                           BlockCompletionFunc *cb, void *opaque);
/*
 * ATA TRIM: the range reads as zeros afterwards, and its space may be
 * given back (a hole punched in a raw file, qcow2 clusters freed).
 */
void blk_aio_pwrite_zeroes_unmap(BlockBackend *blk, int64_t offset,
                                 int64_t bytes, BlockCompletionFunc *cb,
                                 void *opaque);
/* Requests submitted between plug and unplug go to the kernel together. */
void blk_io_plug(void);
void blk_io_unplug(void);
/* Number of requests of this backend not yet completed. */
unsigned blk_in_flight(BlockBackend *blk);
/* Run completions until this backend has nothing in flight. */
void blk_drain(BlockBackend *blk);

/* Synchronous helpers (tools, tests, start-up): 0 or -errno. */
int blk_pread(BlockBackend *blk, int64_t offset, void *buf, size_t bytes);
int blk_pwrite(BlockBackend *blk, int64_t offset, const void *buf,
               size_t bytes);
int blk_flush(BlockBackend *blk);
int blk_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes);
int blk_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes);

/*
 * The completion machinery.  The emulator attaches it to glib's default
 * main context once; tools without a main loop call aio_poll().
 */
void block_init(void);
void block_attach_main_loop(void);
/* Run ready completions; with blocking, wait for at least one event. */
bool aio_poll(bool blocking);

#endif
