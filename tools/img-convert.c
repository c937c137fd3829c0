/*
 * kestrel-img convert and compare.  convert reads through the source chain
 * (in a thread of its own, ahead of the writes), skips what reads as zeros
 * (the new image is already zero there), and with -c writes whole clusters
 * compressed.  compare reports the first differing
 * byte offset like qemu-img.
 */
#include "img.h"
#include <getopt.h>
#include <unistd.h>

#define CHUNK (2 * MiB)
#define READ_AHEAD 4            /* chunks read while earlier ones are written */

/*
 * One reader thread reads the source while the main thread writes: the
 * two disks (or the two directions of one) work at the same time.  Jobs go
 * to the reader and come back in order (one thread, FIFO queues).
 */
typedef struct ReadJob {
    BlockDriverState *bs;       /* NULL: the reader's end marker */
    int64_t off, n;
    uint8_t *buf;
    int ret;
} ReadJob;

static gpointer reader_thread(gpointer opaque)
{
    GAsyncQueue **q = opaque;   /* [0]: to read, [1]: read */

    for (;;) {
        ReadJob *job = g_async_queue_pop(q[0]);
        if (!job->bs) {
            return NULL;
        }
        job->ret = bdrv_pread(job->bs, job->off, job->buf, job->n);
        g_async_queue_push(q[1], job);
    }
}

static int write_chunk(BlockDriverState *out, int64_t off, const uint8_t *buf,
                       int64_t n, uint32_t gran, bool compress)
{
    for (int64_t pos = 0; pos < n; ) {
        int64_t len = MIN((int64_t)gran, n - pos);
        if (buffer_is_zero(buf + pos, len)) {
            pos += len;
            continue;
        }
        int ret;
        if (compress) {
            ret = out->drv->pwrite_compressed(out, off + pos, len, buf + pos);
        } else {
            /* Merge neighbouring non-zero blocks into one write. */
            int64_t end = pos + len;
            while (end < n && !buffer_is_zero(buf + end,
                                              MIN((int64_t)gran, n - end))) {
                end += MIN((int64_t)gran, n - end);
            }
            len = end - pos;
            ret = bdrv_pwrite(out, off + pos, buf + pos, len);
        }
        if (ret < 0) {
            return ret;
        }
        pos += len;
    }
    return 0;
}

int img_convert(int argc, char **argv)
{
    const char *fmt = NULL, *ofmt = "raw", *cache = "unsafe", *scache = NULL;
    bool compress = false, progress = false, quiet = false;
    BlockCreateOpts o = { 0 };
    Error *err = NULL;
    int c;
    while ((c = getopt(argc, argv, "cpqf:O:o:t:T:U")) != -1) {
        switch (c) {
        case 'c': compress = true; break;
        case 'p': progress = true; break;
        case 'q': quiet = true; break;
        case 'f': fmt = optarg; break;
        case 'O': ofmt = optarg; break;
        case 't': cache = optarg; break;
        case 'T': scache = optarg; break;
        case 'U': break;
        case 'o':
            if (!img_parse_create_opts(optarg, &o, &err)) {
                img_die("%s", err->msg);
            }
            break;
        default: return 1;
        }
    }
    if (optind != argc - 2) {
        img_die("Expecting one source and one output file name");
    }
    const char *src = argv[optind], *dst = argv[optind + 1];
    if (!bdrv_find_format(ofmt)) {
        img_die("Unknown file format '%s'", ofmt);
    }
    if (compress && strcmp(ofmt, "qcow2")) {
        img_die("Compression not supported for this file format");
    }
    if (o.backing_file) {
        img_die("convert does not take a backing file (-o backing_file)");
    }
    BlockDriverState *in = img_open(src, fmt, false, scache, true, false);
    o.size = in->size;
    if (!bdrv_create(ofmt, dst, &o, &err)) {
        img_die("%s: %s", dst, err->msg);
    }
    BlockDriverState *out = img_open(dst, ofmt, true, cache, false, false);
    uint32_t gran = bdrv_cluster_size(out);
    gran = gran ? gran : 4096;
    size_t chunk = ALIGN_UP(CHUNK, gran);
    ReadJob jobs[READ_AHEAD], end_marker = { 0 }, *free_jobs[READ_AHEAD];
    unsigned nfree = READ_AHEAD, inflight = 0;
    GAsyncQueue *q[2] = { g_async_queue_new(), g_async_queue_new() };
    GThread *reader = g_thread_new("convert-read", reader_thread, q);
    for (unsigned i = 0; i < READ_AHEAD; i++) {
        jobs[i].buf = block_alloc(chunk);
        free_jobs[i] = &jobs[i];
    }
    int ret = 0;
    int64_t written = 0;
    img_progress(progress && !quiet, 0);
    for (int64_t off = 0; (!ret && off < in->size) || inflight; ) {
        /* The oldest read is done and nothing more can be queued: write. */
        if (inflight && (nfree == 0 || ret || off >= in->size)) {
            ReadJob *job = g_async_queue_pop(q[1]);
            inflight--;
            if (!ret) {
                ret = job->ret ? job->ret : write_chunk(out, job->off, job->buf,
                                                        job->n, gran, compress);
            }
            written = job->off + job->n;
            free_jobs[nfree++] = job;
            img_progress(progress && !quiet, written * 100.0 / in->size);
            continue;
        }
        int64_t n = MIN((int64_t)chunk, in->size - off), pnum, map;
        int depth;
        int st = bdrv_block_status_above(in, off, n, &pnum, &map, &depth);
        if (st < 0) {
            ret = st;
            continue;
        }
        /* Whole output clusters at a time (compression needs them): off
         * stays cluster aligned. */
        int64_t zero = ALIGN_DOWN(off + pnum, (int64_t)gran) - off;
        if ((st & BDRV_BLOCK_ZERO) && !(st & BDRV_BLOCK_DATA) &&
            (zero > 0 || off + pnum == in->size)) {
            n = zero > 0 ? zero : pnum;
        } else {
            int64_t end = MIN(in->size, ALIGN_UP(off + pnum, (int64_t)gran));
            ReadJob *job = free_jobs[--nfree];
            job->bs = in;
            job->off = off;
            job->n = MIN(n, end - off);
            n = job->n;
            g_async_queue_push(q[0], job);
            inflight++;
        }
        off += n;
    }
    g_async_queue_push(q[0], &end_marker);
    g_thread_join(reader);
    g_async_queue_unref(q[0]);
    g_async_queue_unref(q[1]);
    for (unsigned i = 0; i < READ_AHEAD; i++) {
        free(jobs[i].buf);
    }
    if (!ret) {
        ret = bdrv_flush(out);
    }
    bdrv_close(in);
    bdrv_close(out);
    if (progress && !quiet) {
        printf("\n");
    }
    if (ret) {
        unlink(dst);
        img_die("error while converting %s: %s", ofmt, strerror(-ret));
    }
    return 0;
}

static int64_t first_diff(const uint8_t *a, const uint8_t *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        if (a[i] != b[i]) {
            return i;
        }
    }
    return -1;
}

static int64_t first_nonzero(const uint8_t *a, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        if (a[i]) {
            return i;
        }
    }
    return -1;
}

int img_compare(int argc, char **argv)
{
    const char *fmt1 = NULL, *fmt2 = NULL, *cache = NULL;
    bool strict = false, quiet = false, progress = false;
    int c;
    while ((c = getopt(argc, argv, "f:F:T:spqU")) != -1) {
        switch (c) {
        case 'f': fmt1 = optarg; break;
        case 'F': fmt2 = optarg; break;
        case 'T': cache = optarg; break;
        case 's': strict = true; break;
        case 'p': progress = true; break;
        case 'q': quiet = true; break;
        case 'U': break;
        default: return 2;
        }
    }
    if (optind != argc - 2) {
        fprintf(stderr, "kestrel-img: Expecting two image file names\n");
        return 2;
    }
    BdrvOpenParams p = { .rw = false };
    Error *err = NULL;
    if (cache && !block_parse_cache_mode(cache, &p.cache)) {
        fprintf(stderr, "kestrel-img: Invalid cache option: %s\n", cache);
        return 2;
    }
    BlockDriverState *a = bdrv_open(argv[optind], fmt1, &p, true, false, &err);
    BlockDriverState *b = a ? bdrv_open(argv[optind + 1], fmt2, &p, true,
                                        false, &err) : NULL;
    if (!b) {
        fprintf(stderr, "kestrel-img: Could not open '%s': %s\n",
                argv[optind + (a ? 1 : 0)], err->msg);
        error_free(err);
        bdrv_close(a);
        return 2;
    }
    int64_t common = MIN(a->size, b->size), big = MAX(a->size, b->size);
    int rc = 0;
    if (a->size != b->size) {
        if (strict) {
            if (!quiet) {
                printf("Strict mode: Image size mismatch!\n");
            }
            bdrv_close(a);
            bdrv_close(b);
            return 1;
        }
        if (!quiet) {
            printf("Warning: Image size mismatch!\n");
        }
    }
    uint8_t *x = block_alloc(CHUNK), *y = block_alloc(CHUNK);
    for (int64_t off = 0; off < big && !rc; ) {
        int64_t n = MIN((int64_t)CHUNK, big - off), i;
        if (off < common) {
            n = MIN(n, common - off);
            if (bdrv_pread(a, off, x, n) || bdrv_pread(b, off, y, n)) {
                fprintf(stderr, "kestrel-img: Error while reading offset %"
                        PRId64 "\n", off);
                rc = 2;
                break;
            }
            i = first_diff(x, y, n);
        } else {
            BlockDriverState *l = a->size > b->size ? a : b;
            if (bdrv_pread(l, off, x, n)) {
                rc = 2;
                break;
            }
            i = first_nonzero(x, n);
        }
        if (i >= 0) {
            if (!quiet) {
                printf("Content mismatch at offset %" PRId64 "!\n", off + i);
            }
            rc = 1;
        }
        off += n;
        img_progress(progress && !quiet, off * 100.0 / big);
    }
    free(x);
    free(y);
    bdrv_close(a);
    bdrv_close(b);
    if (!rc && !quiet) {
        printf("Images are identical.\n");
    }
    return rc;
}
