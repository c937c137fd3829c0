/*
 * kestrel-img bench: qemu-img bench's options (count, depth, buffer size,
 * step, cache, flush interval) plus --random offsets.  With --log=FILE a
 * write run becomes a crash-test writer: every sector written carries
 * (magic, block offset, sequence number), and after each flush completes the
 * writes that had completed before it was issued are appended to the log, so
 * a checker can tell what must have survived a kill.
 */
#include "img.h"
#include <getopt.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>

#define LOG_MAGIC 0x3152574c5254534bULL     /* "KSTRLWR1" */

typedef struct Slot {
    struct Bench *b;
    uint8_t *buf;
    int64_t offset;
    uint64_t seq;
} Slot;

typedef struct Bench {
    BlockBackend *blk;
    int64_t size, start, step;
    size_t bufsize;
    uint64_t count, issued, done;
    unsigned depth, inflight;
    bool write, random, no_drain;
    uint64_t flush_interval, since_flush;
    bool flushing, drain_for_flush;
    int pattern;
    uint64_t seq_base;          /* --seed in the high bits: runs differ */
    GRand *rng;
    int64_t next_offset;
    int log_fd;
    GArray *completed;          /* (offset, seq) since the last flush */
    GHashTable *busy;           /* offsets with a write in flight */
    Slot *slots;
} Bench;

static void submit(Bench *b, Slot *s);

static void fill(Bench *b, Slot *s)
{
    if (b->log_fd < 0) {
        return;
    }
    for (size_t i = 0; i < b->bufsize; i += 512) {
        memset(s->buf + i, s->seq & 0xff, 512);
        stq_le(s->buf + i, LOG_MAGIC);
        stq_le(s->buf + i + 8, s->offset);
        stq_le(s->buf + i + 16, s->seq);
    }
}

static int64_t pick_offset(Bench *b)
{
    for (int tries = 0; ; tries++) {
        int64_t off;
        if (b->random) {
            int64_t blocks = (b->size - b->start) / b->bufsize;
            off = b->start + (int64_t)(g_rand_double(b->rng) * blocks) *
                  (int64_t)b->bufsize;
        } else {
            /* Like qemu-img bench: the offset wraps modulo the size. */
            off = b->next_offset;
            b->next_offset = (b->next_offset + b->step) % b->size;
            if (b->next_offset + (int64_t)b->bufsize > b->size) {
                b->next_offset = b->start;
            }
        }
        if (!b->busy || !g_hash_table_contains(b->busy, GSIZE_TO_POINTER(off + 1))
            || tries > 1000) {
            return off;
        }
    }
}

static void flush_cb(void *opaque, int ret)
{
    Bench *b = opaque;
    if (ret < 0) {
        img_die("Failed flush request: %s", strerror(-ret));
    }
    b->flushing = false;
    b->drain_for_flush = false;
    for (unsigned k = 0; k < b->depth && b->issued < b->count; k++) {
        if (b->slots[k].offset < 0) {
            submit(b, &b->slots[k]);
        }
    }
}

typedef struct FlushCtx {
    Bench *b;
    GArray *list;
} FlushCtx;

static void flush_log_cb(void *opaque, int ret)
{
    FlushCtx *f = opaque;
    if (ret == 0 && f->b->log_fd >= 0 && f->list->len) {
        GString *s = g_string_new(NULL);
        for (guint i = 0; i < f->list->len; i += 2) {
            g_string_append_printf(s, "%" PRIu64 " %" PRIu64 "\n",
                                   g_array_index(f->list, uint64_t, i),
                                   g_array_index(f->list, uint64_t, i + 1));
        }
        if (write(f->b->log_fd, s->str, s->len) != (ssize_t)s->len) {
            img_die("Could not write the log: %s", strerror(errno));
        }
        g_string_free(s, true);
    }
    g_array_free(f->list, true);
    Bench *b = f->b;
    g_free(f);
    flush_cb(b, ret);
}

static void start_flush(Bench *b)
{
    FlushCtx *f = g_new0(FlushCtx, 1);
    f->b = b;
    f->list = b->completed;
    b->completed = g_array_new(false, false, sizeof(uint64_t));
    b->flushing = true;
    b->since_flush = 0;
    blk_aio_flush(b->blk, flush_log_cb, f);
}

static void req_cb(void *opaque, int ret)
{
    Slot *s = opaque;
    Bench *b = s->b;
    if (ret < 0) {
        img_die("Failed request at offset %" PRId64 ": %s", s->offset,
                strerror(-ret));
    }
    b->done++;
    b->inflight--;
    if (b->write) {
        b->since_flush++;
        if (b->log_fd >= 0) {
            uint64_t v[2] = { s->offset, s->seq };
            g_array_append_vals(b->completed, v, 2);
            g_hash_table_remove(b->busy, GSIZE_TO_POINTER(s->offset + 1));
        }
    }
    s->offset = -1;
    if (b->flush_interval && b->since_flush >= b->flush_interval &&
        !b->flushing && !b->drain_for_flush) {
        if (b->no_drain) {
            start_flush(b);
        } else {
            b->drain_for_flush = true;
        }
    }
    if (b->drain_for_flush) {
        if (!b->inflight && !b->flushing) {
            start_flush(b);
        }
        return;
    }
    if (b->issued < b->count) {
        submit(b, s);
    }
}

static void submit(Bench *b, Slot *s)
{
    struct iovec iov = { s->buf, b->bufsize };
    s->offset = pick_offset(b);
    s->seq = b->seq_base + ++b->issued;
    b->inflight++;
    if (b->write) {
        fill(b, s);
        if (b->busy) {
            g_hash_table_add(b->busy, GSIZE_TO_POINTER(s->offset + 1));
        }
        blk_aio_pwritev(b->blk, s->offset, &iov, 1, req_cb, s);
    } else {
        blk_aio_preadv(b->blk, s->offset, &iov, 1, req_cb, s);
    }
}

int img_bench(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "flush-interval", required_argument, NULL, 'I' },
        { "no-drain", no_argument, NULL, 'D' },
        { "pattern", required_argument, NULL, 'P' },
        { "random", no_argument, NULL, 'R' },
        { "seed", required_argument, NULL, 'E' },
        { "log", required_argument, NULL, 'L' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    Bench b = { .count = 75000, .depth = 64, .bufsize = 4096, .step = 0,
                .log_fd = -1 };
    const char *fmt = NULL, *cache = "writeback", *log = NULL;
    bool quiet = false;
    uint64_t n, seed = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:d:f:no:qs:S:t:wU", lopts,
                            NULL)) != -1) {
        switch (c) {
        case 'c':
            if (!parse_uint64(optarg, &n) || !n) {
                img_die("Invalid request count specified");
            }
            b.count = n;
            break;
        case 'd':
            if (!parse_uint64(optarg, &n) || !n || n > 4096) {
                img_die("Invalid queue depth specified");
            }
            b.depth = n;
            break;
        case 'f': fmt = optarg; break;
        case 'n': cache = "none"; break;
        case 'o':
            if (!img_parse_size(optarg, &n)) {
                img_die("Invalid offset specified");
            }
            b.start = n;
            break;
        case 'q': quiet = true; break;
        case 's':
            if (!img_parse_size(optarg, &n) || !n || n > 256 * MiB) {
                img_die("Invalid buffer size specified");
            }
            b.bufsize = n;
            break;
        case 'S':
            if (!img_parse_size(optarg, &n)) {
                img_die("Invalid step size specified");
            }
            b.step = n;
            break;
        case 't': cache = optarg; break;
        case 'w': b.write = true; break;
        case 'U': break;
        case 'I':
            if (!parse_uint64(optarg, &b.flush_interval)) {
                img_die("Invalid flush interval specified");
            }
            break;
        case 'D': b.no_drain = true; break;
        case 'P':
            if (!parse_uint64(optarg, &n) || n > 0xff) {
                img_die("Invalid pattern byte specified");
            }
            b.pattern = n;
            break;
        case 'R': b.random = true; break;
        case 'E':
            if (!parse_uint64(optarg, &seed)) {
                img_die("Invalid seed");
            }
            break;
        case 'L': log = optarg; break;
        default: return 1;
        }
    }
    if (optind != argc - 1) {
        img_die("Expecting one image file name");
    }
    if (b.flush_interval && !b.write) {
        img_die("--flush-interval is only available in write tests");
    }
    if (log && !b.write) {
        img_die("--log is only available in write tests");
    }
    b.step = b.step ? b.step : (int64_t)b.bufsize;
    if (log && (b.step % b.bufsize || b.bufsize % 512)) {
        img_die("--log needs a step and buffer size in whole sectors");
    }
    BlockOpenOptions o = { .filename = argv[optind], .format = fmt,
                           .read_only = !b.write };
    if (!block_parse_cache_mode(cache, &o.cache)) {
        img_die("Invalid cache mode: %s", cache);
    }
    Error *err = NULL;
    b.blk = blk_open(&o, &err);
    if (!b.blk) {
        img_die("Could not open '%s': %s", argv[optind], err->msg);
    }
    b.size = blk_getlength(b.blk);
    if (b.start + (int64_t)b.bufsize > b.size) {
        img_die("The image is too small for this offset and buffer size");
    }
    if (log) {
        b.log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (b.log_fd < 0) {
            img_die("Could not open %s: %s", log, strerror(errno));
        }
        b.busy = g_hash_table_new(g_direct_hash, g_direct_equal);
    }
    b.completed = g_array_new(false, false, sizeof(uint64_t));
    b.rng = g_rand_new_with_seed(seed);
    b.seq_base = seed << 32;
    b.next_offset = b.start;
    b.depth = MIN((uint64_t)b.depth, b.count);
    b.slots = g_new0(Slot, b.depth);
    for (unsigned i = 0; i < b.depth; i++) {
        b.slots[i].b = &b;
        b.slots[i].offset = -1;
        b.slots[i].buf = block_alloc(b.bufsize);
        memset(b.slots[i].buf, b.pattern, b.bufsize);
    }
    if (!quiet) {
        printf("Sending %" PRIu64 " %s requests, %zu bytes each, %u in "
               "parallel (starting at offset %" PRId64 ", ", b.count,
               b.write ? "write" : "read", b.bufsize, b.depth, b.start);
        if (b.random) {
            printf("random offsets, seed %" PRIu64 ")\n", seed);
        } else {
            printf("step size %" PRId64 ")\n", b.step);
        }
        fflush(stdout);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    blk_io_plug();
    for (unsigned i = 0; i < b.depth; i++) {
        submit(&b, &b.slots[i]);
    }
    blk_io_unplug();
    while (b.done < b.count || b.inflight || b.flushing) {
        aio_poll(true);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (!quiet) {
        printf("Run completed in %3.3f seconds.\n", secs);
        printf("%.0f requests/s, %.1f MiB/s\n", b.count / secs,
               b.count * (double)b.bufsize / secs / MiB);
    }
    blk_unref(b.blk);
    for (unsigned i = 0; i < b.depth; i++) {
        free(b.slots[i].buf);
    }
    g_free(b.slots);
    g_rand_free(b.rng);
    g_array_free(b.completed, true);
    if (b.busy) {
        g_hash_table_destroy(b.busy);
    }
    if (b.log_fd >= 0) {
        close(b.log_fd);
    }
    return 0;
}
