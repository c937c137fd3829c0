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
    bool discard_unmap;         /* discard=unmap: TRIM frees space */
    /* A blkdebug node on the image with this config file ("": none);
     * a "blkdebug:CONFIG:IMAGE" filename says the same. */
    const char *blkdebug_config;
    uint32_t blkdebug_align;    /* its align=: requests padded (0: none) */
    /* filename "null-co://": its size (0: 1 GiB); reads give zeros,
     * read-zeroes says so in the block status */
    uint64_t null_size;
    bool null_read_zeroes;
    /* An open node as the image's backing (blockdev-add backing=NODE),
     * instead of the file the image names; no_backing: none at all. */
    BlockDriverState *backing;
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
/* The top node's name: "#blockN", made up when the node is opened. */
const char *blk_node_name(BlockBackend *blk);
BlockDriverState *blk_bs(BlockBackend *blk);
/* Insert or eject a medium (CD-ROM change). */
bool blk_insert_medium(BlockBackend *blk, const BlockOpenOptions *opts,
                       Error **errp);
void blk_eject(BlockBackend *blk);
/* drive_del: eject, and tell the device (its ops) that the medium went. */
void blk_remove_medium(BlockBackend *blk);
/* Every backend in creation order: blk_next(NULL) is the first. */
BlockBackend *blk_next(BlockBackend *blk);

/*
 * What the device using a backend tells the monitor (query-block) and
 * hears from it: a tray and a lock (removable media), a medium taken away.
 */
typedef struct BlockDevOps {
    bool (*is_tray_open)(void *opaque);
    bool (*is_medium_locked)(void *opaque);
    void (*medium_removed)(void *opaque);
} BlockDevOps;

void blk_set_dev_ops(BlockBackend *blk, const BlockDevOps *ops, void *opaque);
bool blk_dev_has_tray(BlockBackend *blk);
bool blk_dev_is_tray_open(BlockBackend *blk);
bool blk_dev_is_medium_locked(BlockBackend *blk);

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
/* Zeros that may give the space back, if the drive has discard=unmap
 * (SCSI WRITE SAME with UNMAP). */
void blk_aio_pwrite_zeroes_unmap(BlockBackend *blk, int64_t offset,
                                 int64_t bytes, BlockCompletionFunc *cb,
                                 void *opaque);
/*
 * A guest's TRIM or UNMAP.  With discard=unmap the range reads as zeros
 * afterwards and its space is given back where it can be (a hole punched
 * in a raw file, qcow2 clusters freed); with discard=ignore, the default,
 * it is checked and completes, and the data stays as it was (as in QEMU).
 */
void blk_aio_trim(BlockBackend *blk, int64_t offset, int64_t bytes,
                  BlockCompletionFunc *cb, void *opaque);
bool blk_discard_unmaps(BlockBackend *blk);
/* Requests submitted between plug and unplug go to the kernel together. */
void blk_io_plug(void);
void blk_io_unplug(void);
/* Number of requests of this backend not yet completed. */
unsigned blk_in_flight(BlockBackend *blk);
/* Run completions until this backend has nothing in flight. */
void blk_drain(BlockBackend *blk);

/*
 * What a device does when a request fails (-drive rerror=, werror=):
 * report the error to the guest, ignore it (the command succeeds), or stop
 * the VM and retry the request when it runs again; enospc stops on ENOSPC
 * and reports the rest.  Defaults: rerror=report, werror=enospc.
 */
typedef enum {
    BLOCK_ERROR_POLICY_REPORT,
    BLOCK_ERROR_POLICY_IGNORE,
    BLOCK_ERROR_POLICY_ENOSPC,
    BLOCK_ERROR_POLICY_STOP,
} BlockErrorPolicy;

typedef enum {
    BLOCK_ERROR_ACTION_REPORT,
    BLOCK_ERROR_ACTION_IGNORE,
    BLOCK_ERROR_ACTION_STOP,
} BlockErrorAction;

bool block_parse_error_policy(const char *s, BlockErrorPolicy *policy);
const char *block_error_action_name(BlockErrorAction action);
void blk_set_error_policy(BlockBackend *blk, BlockErrorPolicy on_read,
                          BlockErrorPolicy on_write);
/* The action for a failed request; error is a positive errno. */
BlockErrorAction blk_get_error_action(BlockBackend *blk, bool is_read,
                                      int error);
/* Tell the monitor (BLOCK_IO_ERROR); stopping the VM is the device's job. */
void blk_report_io_error(BlockBackend *blk, bool is_read,
                         BlockErrorAction action, int error);
/*
 * QEMU's io-status of a device's backend: failed or nospace once an error
 * stopped the VM, ok again when it runs.  A device that can stop on errors
 * enables it; it shows only with a policy that can stop.
 */
typedef enum {
    BLOCK_IO_STATUS_OK,
    BLOCK_IO_STATUS_FAILED,
    BLOCK_IO_STATUS_NOSPACE,
} BlockIOStatus;

void blk_iostatus_enable(BlockBackend *blk);
bool blk_iostatus_is_enabled(BlockBackend *blk);
BlockIOStatus blk_iostatus(BlockBackend *blk);
void blk_iostatus_reset(BlockBackend *blk);
/* Set by the monitor module, which sends BLOCK_IO_ERROR. */
extern void (*blk_io_error_hook)(BlockBackend *blk, bool is_read,
                                 BlockErrorAction action, int error);

/*
 * blkdebug ("blkdebug:[CONFIG]:IMAGE", block/blkdebug.c): breakpoints for
 * qemu-io's break/resume/remove_break.  0 or -errno: -ENOTSUP if the drive
 * is not a blkdebug one, -ENOENT for an unknown event or tag.
 */
int blk_debug_breakpoint(BlockBackend *blk, const char *event,
                         const char *tag);
int blk_debug_resume(BlockBackend *blk, const char *tag);
int blk_debug_remove_breakpoint(BlockBackend *blk, const char *tag);
bool blk_debug_is_suspended(BlockBackend *blk, const char *tag);

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
