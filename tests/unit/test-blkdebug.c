/*
 * blkdebug ("blkdebug:[CONFIG]:IMAGE", block/blkdebug.c) through the block
 * layer's own API: config files and their errors, injected errors (once,
 * sector, errno, states), the flush events, breakpoints held and resumed,
 * a drain letting held requests go, align= (requests padded before a
 * RAM disk that counts misaligned ones, serialised, below the events),
 * the rerror/werror policy, null-co's zeros and an overlay sharing a
 * backing node.  Completions are run by hand with aio_poll().
 */
#include "block/block_int.h"
#include <fcntl.h>
#include <unistd.h>

#define IMAGE_SECTORS 64

static char *tmpdir, *image;

static uint8_t image_byte(unsigned off)
{
    return (off * 7 + (off >> 9)) ^ 0x5a;
}

static char *write_config(const char *text)
{
    static unsigned n;
    char *path = g_strdup_printf("%s/conf%u", tmpdir, n++);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static BlockBackend *try_open(const char *config_text, Error **errp)
{
    g_autofree char *conf = config_text ? write_config(config_text)
                                        : g_strdup("");
    g_autofree char *name = g_strdup_printf("blkdebug:%s:%s", conf, image);
    BlockOpenOptions o = { .filename = name, .format = "raw" };
    return blk_open(&o, errp);
}

static BlockBackend *open_debug(const char *config_text)
{
    Error *err = NULL;
    BlockBackend *blk = try_open(config_text, &err);
    if (!blk) {
        g_error("open: %s", err->msg);
    }
    return blk;
}

/* An asynchronous request the test watches. */
typedef struct Req {
    bool done;
    int ret;
    uint8_t buf[512];
    struct iovec iov;
} Req;

static void req_cb(void *opaque, int ret)
{
    Req *r = opaque;
    r->done = true;
    r->ret = ret;
}

static void start_read(BlockBackend *blk, Req *r, unsigned sector)
{
    *r = (Req) { .iov = { r->buf, sizeof(r->buf) } };
    blk_aio_preadv(blk, sector * 512, &r->iov, 1, req_cb, r);
}

static void start_write(BlockBackend *blk, Req *r, unsigned sector)
{
    *r = (Req) { .iov = { r->buf, sizeof(r->buf) } };
    memset(r->buf, 0xee, sizeof(r->buf));
    blk_aio_pwritev(blk, sector * 512, &r->iov, 1, req_cb, r);
}

static void start_flush(BlockBackend *blk, Req *r)
{
    *r = (Req) { 0 };
    blk_aio_flush(blk, req_cb, r);
}

/* Run completions until r is done (or nothing more can happen). */
static int finish(Req *r)
{
    while (!r->done && aio_poll(true)) {
    }
    g_assert_true(r->done);
    return r->ret;
}

static int read_sector(BlockBackend *blk, unsigned sector)
{
    Req r;
    start_read(blk, &r, sector);
    int ret = finish(&r);
    if (!ret) {
        for (unsigned i = 0; i < 512; i++) {
            g_assert_cmphex(r.buf[i], ==, image_byte(sector * 512 + i));
        }
    }
    return ret;
}

static int write_sector(BlockBackend *blk, unsigned sector)
{
    Req r;
    start_write(blk, &r, sector);
    return finish(&r);
}

static int flush(BlockBackend *blk)
{
    Req r;
    start_flush(blk, &r);
    return finish(&r);
}

/* A request held at a breakpoint stays held however long we poll. */
static void assert_held(BlockBackend *blk, Req *r, const char *tag)
{
    for (int i = 0; i < 100; i++) {
        aio_poll(false);
    }
    g_assert_false(r->done);
    g_assert_cmpuint(blk_in_flight(blk), ==, 1);
    g_assert_true(blk_debug_is_suspended(blk, tag));
}

static void test_config_ok(void)
{
    /* Comments, blank lines, blanks around '=', a config without rules
     * and no config at all. */
    BlockBackend *blk = open_debug(
        "# a comment\n\n"
        "[inject-error]\n"
        "  event = \"read_aio\"  \n"
        "errno=\"28\"\n"
        "sector = \"3\"\n"
        "once = \"off\"\n"
        "immediately = \"on\"\n"
        "state = \"0\"\n"
        "[set-state]\n"
        "event = \"flush_to_os\"\n"
        "state = \"1\"\n"
        "new_state = \"7\"\n");
    g_assert_cmpstr(blk_format_name(blk), ==, "blkdebug");
    g_assert_cmpint(blk_getlength(blk), ==, IMAGE_SECTORS * 512);
    g_assert_cmpint(read_sector(blk, 3), ==, -ENOSPC);
    g_assert_cmpint(read_sector(blk, 2), ==, 0);
    blk_unref(blk);

    blk_unref(open_debug(""));
    blk_unref(open_debug(NULL));
}

static void test_config_errors(void)
{
    static const struct {
        const char *config, *error;
    } cases[] = {
        { "[foo]\n", ":1: unknown section [foo]" },
        { "[inject-error\n", ":1: unknown section [inject-error" },
        { "event = \"read_aio\"\n", ":1: 'event' before any [section]" },
        { "[inject-error]\nevent read_aio\n", ":2: expected key = \"value\"" },
        { "[inject-error]\nevent = read_aio\n",
          ":2: expected key = \"value\"" },
        { "[inject-error]\nevent = \"nosuch\"\n",
          ":2: unknown event 'nosuch' (kestrel's blkdebug has read_aio" },
        { "[inject-error]\nevent = \"l2_update\"\n",
          "unknown event 'l2_update'" },
        { "[inject-error]\nerrno = \"5\"\n",
          ":1: [inject-error] needs an event" },
        { "[inject-error]\nevent = \"read_aio\"\nfoo = \"5\"\n",
          ":3: [inject-error] has no key 'foo' (keys: event, errno" },
        { "[inject-error]\nevent = \"read_aio\"\nnew_state = \"2\"\n",
          "[inject-error] has no key 'new_state'" },
        { "[inject-error]\nevent = \"read_aio\"\nerrno = \"0\"\n",
          ":3: errno '0': expected a number from 1 to 4095" },
        { "[inject-error]\nevent = \"read_aio\"\nerrno = \"x\"\n",
          "errno 'x'" },
        { "[inject-error]\nevent = \"read_aio\"\nonce = \"maybe\"\n",
          ":3: once 'maybe': expected on or off" },
        { "[inject-error]\nevent = \"read_aio\"\nsector = \"-2\"\n",
          ":3: sector '-2'" },
        { "[inject-error]\nevent = \"read_aio\"\nevent = \"write_aio\"\n",
          ":3: 'event' given twice in one [inject-error]" },
        { "[set-state]\nevent = \"read_aio\"\n",
          ":1: [set-state] needs a new_state" },
        { "[set-state]\nevent = \"read_aio\"\nnew_state = \"-1\"\n",
          ":3: new_state '-1'" },
        { "[set-state]\nevent = \"read_aio\"\nerrno = \"5\"\n",
          "[set-state] has no key 'errno' (keys: event, state, new_state)" },
        { "[inject-error]\nevent = \"read_aio\"\n[set-state]\n",
          ":3: [set-state] needs an event" },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        Error *err = NULL;
        g_assert_null(try_open(cases[i].config, &err));
        g_assert_nonnull(err);
        if (!strstr(err->msg, cases[i].error)) {
            g_error("config %u: '%s' does not contain '%s'", i, err->msg,
                    cases[i].error);
        }
        error_free(err);
    }

    static const struct {
        const char *name, *error;
    } names[] = {
        { "blkdebug:/nonexistent/conf:%s",
          "Could not read blkdebug config file" },
        { "blkdebug:%s", "blkdebug requires both config file and image path" },
        { "blkdebug::", "blkdebug requires both config file and image path" },
        { "blkdebug::%s.missing", "Could not open" },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *name = g_strdup_printf(names[i].name, image);
        BlockOpenOptions o = { .filename = name, .format = "raw" };
        Error *err = NULL;
        g_assert_null(blk_open(&o, &err));
        g_assert_nonnull(strstr(err->msg, names[i].error));
        error_free(err);
    }

    /* -snapshot has no base image name to point its overlay at. */
    g_autofree char *name = g_strdup_printf("blkdebug::%s", image);
    BlockOpenOptions o = { .filename = name, .format = "raw",
                           .snapshot = true };
    Error *err = NULL;
    g_assert_null(blk_open(&o, &err));
    g_assert_nonnull(strstr(err->msg, "snapshot=on"));
    error_free(err);
}

static void test_inject_once(void)
{
    BlockBackend *blk = open_debug("[inject-error]\n"
                                   "event = \"read_aio\"\n"
                                   "once = \"on\"\n");
    g_assert_cmpint(read_sector(blk, 1), ==, -EIO);
    g_assert_cmpint(read_sector(blk, 1), ==, 0);
    g_assert_cmpint(read_sector(blk, 2), ==, 0);
    /* Writes and flushes pass other events. */
    g_assert_cmpint(write_sector(blk, 10), ==, 0);
    g_assert_cmpint(flush(blk), ==, 0);
    blk_unref(blk);
}

static void test_inject_sector_errno(void)
{
    BlockBackend *blk = open_debug("[inject-error]\n"
                                   "event = \"write_aio\"\n"
                                   "errno = \"28\"\n"
                                   "sector = \"9\"\n");
    Req r;

    /* Only a request covering sector 9 fails, every time. */
    g_assert_cmpint(write_sector(blk, 8), ==, 0);
    g_assert_cmpint(write_sector(blk, 9), ==, -ENOSPC);
    g_assert_cmpint(write_sector(blk, 9), ==, -ENOSPC);
    g_assert_cmpint(write_sector(blk, 10), ==, 0);
    g_assert_cmpint(read_sector(blk, 9), ==, 0);    /* not written */
    uint8_t big[4 * 512];
    memset(big, 0xee, sizeof(big));
    struct iovec iov = { big, sizeof(big) };
    r = (Req) { 0 };
    blk_aio_pwritev(blk, 7 * 512, &iov, 1, req_cb, &r);
    g_assert_cmpint(finish(&r), ==, -ENOSPC);
    /* Zero writes are writes too; discards pass no event. */
    r = (Req) { 0 };
    blk_aio_pwrite_zeroes(blk, 9 * 512, 512, req_cb, &r);
    g_assert_cmpint(finish(&r), ==, -ENOSPC);
    r = (Req) { 0 };
    blk_aio_pdiscard(blk, 9 * 512, 512, req_cb, &r);
    g_assert_cmpint(finish(&r), ==, 0);
    blk_unref(blk);
}

/* docs/devel/blkdebug.txt's example: only the second write fails. */
static void test_states(void)
{
    BlockBackend *blk = open_debug("[set-state]\n"
                                   "event = \"write_aio\"\n"
                                   "state = \"1\"\n"
                                   "new_state = \"2\"\n"
                                   "[inject-error]\n"
                                   "event = \"write_aio\"\n"
                                   "state = \"2\"\n"
                                   "errno = \"5\"\n");
    g_assert_cmpint(write_sector(blk, 20), ==, 0);
    g_assert_cmpint(write_sector(blk, 21), ==, -EIO);
    g_assert_cmpint(write_sector(blk, 22), ==, -EIO);
    g_assert_cmpint(read_sector(blk, 0), ==, 0);
    blk_unref(blk);
}

static void test_flush_events(void)
{
    /* QEMU's ide-test retry config: the first flush fails at the disk. */
    BlockBackend *blk = open_debug("[inject-error]\n"
                                   "event = \"flush_to_disk\"\n"
                                   "errno = \"5\"\n"
                                   "state = \"1\"\n"
                                   "immediately = \"off\"\n"
                                   "once = \"on\"\n"
                                   "[set-state]\n"
                                   "event = \"flush_to_disk\"\n"
                                   "new_state = \"2\"\n");
    g_assert_cmpint(flush(blk), ==, -EIO);
    g_assert_cmpint(flush(blk), ==, 0);
    blk_unref(blk);

    /* An error at flush_to_os ends the flush before flush_to_disk. */
    blk = open_debug("[inject-error]\n"
                     "event = \"flush_to_os\"\n"
                     "once = \"on\"\n"
                     "[set-state]\n"
                     "event = \"flush_to_disk\"\n"
                     "new_state = \"5\"\n"
                     "[inject-error]\n"
                     "event = \"read_aio\"\n"
                     "state = \"5\"\n");
    g_assert_cmpint(flush(blk), ==, -EIO);
    g_assert_cmpint(read_sector(blk, 0), ==, 0);
    g_assert_cmpint(flush(blk), ==, 0);
    g_assert_cmpint(read_sector(blk, 0), ==, -EIO);
    blk_unref(blk);

    /* With the write cache off, a write's flush passes the events. */
    blk = open_debug("[inject-error]\n"
                     "event = \"flush_to_disk\"\n"
                     "errno = \"28\"\n");
    g_assert_cmpint(write_sector(blk, 30), ==, 0);
    blk_set_enable_write_cache(blk, false);
    g_assert_cmpint(write_sector(blk, 30), ==, -ENOSPC);
    blk_unref(blk);
}

static void test_break_resume(void)
{
    BlockBackend *blk = open_debug(NULL);
    Req r;

    g_assert_cmpint(blk_debug_breakpoint(blk, "read_aio", "A"), ==, 0);
    start_read(blk, &r, 5);
    assert_held(blk, &r, "A");
    g_assert_false(blk_debug_is_suspended(blk, "B"));
    g_assert_cmpint(blk_debug_resume(blk, "B"), ==, -ENOENT);
    g_assert_cmpint(blk_debug_resume(blk, "A"), ==, 0);
    g_assert_cmpint(finish(&r), ==, 0);
    g_assert_cmphex(r.buf[7], ==, image_byte(5 * 512 + 7));
    /* A breakpoint holds one request. */
    g_assert_cmpint(blk_debug_resume(blk, "A"), ==, -ENOENT);
    g_assert_cmpint(read_sector(blk, 5), ==, 0);

    /* A flush held at flush_to_os, then at flush_to_disk. */
    g_assert_cmpint(blk_debug_breakpoint(blk, "flush_to_os", "os"), ==, 0);
    g_assert_cmpint(blk_debug_breakpoint(blk, "flush_to_disk", "disk"), ==, 0);
    start_flush(blk, &r);
    assert_held(blk, &r, "os");
    g_assert_cmpint(blk_debug_resume(blk, "os"), ==, 0);
    assert_held(blk, &r, "disk");
    g_assert_cmpint(blk_debug_resume(blk, "disk"), ==, 0);
    g_assert_cmpint(finish(&r), ==, 0);

    /* Held with an error to come: the error comes after the resume. */
    blk_unref(blk);
    blk = open_debug("[inject-error]\nevent = \"write_aio\"\n");
    g_assert_cmpint(blk_debug_breakpoint(blk, "write_aio", "W"), ==, 0);
    start_write(blk, &r, 3);
    assert_held(blk, &r, "W");
    g_assert_cmpint(blk_debug_resume(blk, "W"), ==, 0);
    g_assert_cmpint(finish(&r), ==, -EIO);

    g_assert_cmpint(blk_debug_breakpoint(blk, "nosuch", "X"), ==, -ENOENT);
    blk_unref(blk);

    /* Not a blkdebug drive. */
    BlockOpenOptions o = { .filename = image, .format = "raw" };
    blk = blk_open(&o, NULL);
    g_assert_cmpint(blk_debug_breakpoint(blk, "read_aio", "A"), ==, -ENOTSUP);
    g_assert_cmpint(blk_debug_resume(blk, "A"), ==, -ENOTSUP);
    g_assert_cmpint(blk_debug_remove_breakpoint(blk, "A"), ==, -ENOTSUP);
    blk_unref(blk);
}

static void test_remove_break(void)
{
    BlockBackend *blk = open_debug(NULL);
    Req r;

    g_assert_cmpint(blk_debug_remove_breakpoint(blk, "A"), ==, -ENOENT);
    /* Removed before it is hit: nothing is held. */
    g_assert_cmpint(blk_debug_breakpoint(blk, "read_aio", "A"), ==, 0);
    g_assert_cmpint(blk_debug_breakpoint(blk, "write_aio", "A"), ==, 0);
    g_assert_cmpint(blk_debug_remove_breakpoint(blk, "A"), ==, 0);
    g_assert_cmpint(read_sector(blk, 4), ==, 0);
    g_assert_cmpint(write_sector(blk, 40), ==, 0);
    /* Removed while a request is held: it goes on. */
    g_assert_cmpint(blk_debug_breakpoint(blk, "read_aio", "B"), ==, 0);
    start_read(blk, &r, 6);
    assert_held(blk, &r, "B");
    g_assert_cmpint(blk_debug_remove_breakpoint(blk, "B"), ==, 0);
    g_assert_cmpint(finish(&r), ==, 0);
    g_assert_cmpint(blk_debug_remove_breakpoint(blk, "B"), ==, -ENOENT);
    blk_unref(blk);
}

/* Nothing but a drain could end a held request: it lets it go. */
static void test_drain_releases(void)
{
    BlockBackend *blk = open_debug(NULL);
    Req r1, r2;

    g_assert_cmpint(blk_debug_breakpoint(blk, "flush_to_os", "A"), ==, 0);
    g_assert_cmpint(blk_debug_breakpoint(blk, "flush_to_disk", "B"), ==, 0);
    g_assert_cmpint(blk_debug_breakpoint(blk, "read_aio", "C"), ==, 0);
    start_flush(blk, &r1);
    start_read(blk, &r2, 0);
    g_assert_cmpuint(blk_in_flight(blk), ==, 2);
    blk_drain(blk);
    g_assert_true(r1.done && r2.done);
    g_assert_cmpint(r1.ret, ==, 0);
    g_assert_cmpint(r2.ret, ==, 0);
    /* Closing with a request held does not hang either. */
    g_assert_cmpint(blk_debug_breakpoint(blk, "write_aio", "D"), ==, 0);
    start_write(blk, &r1, 2);
    blk_unref(blk);
    g_assert_true(r1.done);
}

static void test_error_policy(void)
{
    BlockOpenOptions o = { .filename = image, .format = "raw" };
    BlockBackend *blk = blk_open(&o, NULL);
    BlockErrorPolicy p;

    /* QEMU's defaults: rerror=report, werror=enospc. */
    g_assert_cmpint(blk_get_error_action(blk, true, EIO), ==,
                    BLOCK_ERROR_ACTION_REPORT);
    g_assert_cmpint(blk_get_error_action(blk, true, ENOSPC), ==,
                    BLOCK_ERROR_ACTION_REPORT);
    g_assert_cmpint(blk_get_error_action(blk, false, EIO), ==,
                    BLOCK_ERROR_ACTION_REPORT);
    g_assert_cmpint(blk_get_error_action(blk, false, ENOSPC), ==,
                    BLOCK_ERROR_ACTION_STOP);

    blk_set_error_policy(blk, BLOCK_ERROR_POLICY_STOP,
                         BLOCK_ERROR_POLICY_IGNORE);
    g_assert_cmpint(blk_get_error_action(blk, true, EIO), ==,
                    BLOCK_ERROR_ACTION_STOP);
    g_assert_cmpint(blk_get_error_action(blk, false, ENOSPC), ==,
                    BLOCK_ERROR_ACTION_IGNORE);
    blk_set_error_policy(blk, BLOCK_ERROR_POLICY_IGNORE,
                         BLOCK_ERROR_POLICY_REPORT);
    g_assert_cmpint(blk_get_error_action(blk, true, EIO), ==,
                    BLOCK_ERROR_ACTION_IGNORE);
    g_assert_cmpint(blk_get_error_action(blk, false, ENOSPC), ==,
                    BLOCK_ERROR_ACTION_REPORT);
    blk_unref(blk);

    g_assert_true(block_parse_error_policy("enospc", &p));
    g_assert_cmpint(p, ==, BLOCK_ERROR_POLICY_ENOSPC);
    g_assert_true(block_parse_error_policy("stop", &p));
    g_assert_cmpint(p, ==, BLOCK_ERROR_POLICY_STOP);
    g_assert_false(block_parse_error_policy("halt", &p));
    g_assert_cmpstr(block_error_action_name(BLOCK_ERROR_ACTION_STOP), ==,
                    "stop");
}

/* ---- align=: a RAM disk that counts what reaches it misaligned ---- */

#define RAM_SIZE (256 * 1024)
#define ALIGN 4096

typedef struct RamDisk {
    uint8_t data[RAM_SIZE];
    GMutex lock;
    unsigned misaligned;        /* requests the padding should have fixed */
    unsigned delay_us;          /* after a read: widens any race window */
} RamDisk;

static void ram_check(BlockDriverState *bs, int64_t off, int64_t bytes)
{
    RamDisk *r = bs->opaque;
    if (((off | bytes) & (ALIGN - 1)) && off + bytes != bs->size) {
        g_atomic_int_inc(&r->misaligned);
    }
}

static int ram_preadv(BlockDriverState *bs, int64_t off, int64_t bytes,
                      const struct iovec *iov, int niov)
{
    RamDisk *r = bs->opaque;
    ram_check(bs, off, bytes);
    g_mutex_lock(&r->lock);
    iov_from_buf(iov, niov, 0, r->data + off, bytes);
    g_mutex_unlock(&r->lock);
    g_usleep(r->delay_us);      /* what it read ages */
    return 0;
}

static int ram_pwritev(BlockDriverState *bs, int64_t off, int64_t bytes,
                       const struct iovec *iov, int niov)
{
    RamDisk *r = bs->opaque;
    ram_check(bs, off, bytes);
    g_mutex_lock(&r->lock);
    iov_to_buf(iov, niov, 0, r->data + off, bytes);
    g_mutex_unlock(&r->lock);
    return 0;
}

static int ram_zeroes(BlockDriverState *bs, int64_t off, int64_t bytes,
                      int flags)
{
    RamDisk *r = bs->opaque;
    ram_check(bs, off, bytes);
    g_mutex_lock(&r->lock);
    memset(r->data + off, 0, bytes);
    g_mutex_unlock(&r->lock);
    return 0;
}

static int ram_flush(BlockDriverState *bs)
{
    return 0;
}

static void ram_close(BlockDriverState *bs)
{
}

static const BlockDriver ram_driver = {
    .name = "ram",
    .close = ram_close,
    .preadv = ram_preadv,
    .pwritev = ram_pwritev,
    .pwrite_zeroes = ram_zeroes,
    .pdiscard = ram_zeroes,     /* a discarded unit reads as zeros */
    .flush = ram_flush,
};

static RamDisk ram;

/* blkdebug with align=ALIGN (and config) over the RAM disk. */
static BlockBackend *open_ram(const char *config_text)
{
    g_autofree char *conf = config_text ? write_config(config_text)
                                        : g_strdup("");
    BlockDriverState *bs = bdrv_new_node(&ram_driver, "ram");
    Error *err = NULL;

    for (unsigned i = 0; i < RAM_SIZE; i++) {
        ram.data[i] = image_byte(i);
    }
    ram.misaligned = 0;
    ram.delay_us = 0;
    bs->opaque = &ram;
    bs->size = RAM_SIZE;
    BlockDriverState *dbg = blkdebug_new("blkdebug::ram", bs, conf, ALIGN,
                                         &err);
    g_assert_nonnull(dbg);
    return blk_new_with_bs(dbg);
}

typedef struct BigReq {
    Req r;
    int op;
    uint8_t *buf, *expect;
    struct iovec iov[2];
} BigReq;

/* Random reads, writes (two iovec pieces), zero writes and discards of
 * any size and offset, several in flight at once, against a shadow copy:
 * the disk sees only aligned requests (or ones ending at its end). */
static void test_align_pad(void)
{
    BlockBackend *blk = open_ram(NULL);
    g_autofree uint8_t *shadow = g_memdup2(ram.data, RAM_SIZE);
    GRand *rand = g_rand_new_with_seed(42);
    BigReq q[4];

    for (int round = 0; round < 300; round++) {
        int n = g_rand_int_range(rand, 1, G_N_ELEMENTS(q) + 1);
        /* Disjoint ranges, so the order they complete in does not matter:
         * request i stays in the i-th quarter of the disk. */
        for (int i = 0; i < n; i++) {
            int64_t quarter = RAM_SIZE / G_N_ELEMENTS(q);
            int64_t len = g_rand_int_range(rand, 1, 3 * ALIGN);
            int64_t off = i * quarter + g_rand_int_range(rand, 0,
                                                         quarter - len);
            int op = g_rand_int_range(rand, 0, 4);
            uint8_t pat = g_rand_int_range(rand, 0, 256);
            if (round == 299 && i == n - 1) {
                off = RAM_SIZE - len;           /* up to the end */
            }
            q[i].r = (Req) { 0 };
            q[i].op = op;
            q[i].buf = g_malloc(len);
            q[i].expect = g_memdup2(shadow + off, len);
            memset(q[i].buf, pat, len);
            q[i].iov[0] = (struct iovec) { q[i].buf, len / 2 };
            q[i].iov[1] = (struct iovec) { q[i].buf + len / 2, len - len / 2 };
            if (op == 0) {
                blk_aio_preadv(blk, off, q[i].iov, 2, req_cb, &q[i].r);
            } else if (op == 1) {
                blk_aio_pwritev(blk, off, q[i].iov, 2, req_cb, &q[i].r);
                memset(shadow + off, pat, len);
            } else if (op == 2) {
                blk_aio_pwrite_zeroes(blk, off, len, req_cb, &q[i].r);
                memset(shadow + off, 0, len);
            } else {
                /* Only whole units go; the partial ones stay. */
                int64_t s = (off + ALIGN - 1) & ~(int64_t)(ALIGN - 1);
                int64_t e = off + len == RAM_SIZE ? off + len :
                            (off + len) & ~(int64_t)(ALIGN - 1);
                blk_aio_pdiscard(blk, off, len, req_cb, &q[i].r);
                if (s < e) {
                    memset(shadow + s, 0, e - s);
                }
            }
        }
        for (int i = 0; i < n; i++) {
            size_t len = q[i].iov[0].iov_len + q[i].iov[1].iov_len;
            while (!q[i].r.done) {
                aio_poll(true);
            }
            g_assert_cmpint(q[i].r.ret, ==, 0);
            if (q[i].op == 0) {
                g_assert_cmpmem(q[i].buf, len, q[i].expect, len);
            }
            g_free(q[i].buf);
            g_free(q[i].expect);
        }
    }
    blk_drain(blk);
    g_assert_cmpmem(ram.data, RAM_SIZE, shadow, RAM_SIZE);
    /* The synchronous path (an overlay reading its backing) pads too. */
    uint8_t buf[100];
    BlockDriverState *bs = blk_bs(blk);
    memset(buf, 0x3c, sizeof(buf));
    g_assert_cmpint(bdrv_pwrite(bs, 5000, buf, sizeof(buf)), ==, 0);
    memset(shadow + 5000, 0x3c, sizeof(buf));
    g_assert_cmpint(bdrv_pwrite_zeroes(bs, 9000, 5000, 0), ==, 0);
    memset(shadow + 9000, 0, 5000);
    g_assert_cmpint(bdrv_pread(bs, 4999, buf, sizeof(buf)), ==, 0);
    g_assert_cmpmem(buf, sizeof(buf), shadow + 4999, sizeof(buf));
    g_assert_cmpmem(ram.data, RAM_SIZE, shadow, RAM_SIZE);
    g_assert_cmpuint(ram.misaligned, ==, 0);
    g_rand_free(rand);
    blk_unref(blk);
}

/* Unaligned writes into one unit, all in flight at once, with slow
 * reads: each read-modify-write runs alone, so none undoes another. */
static void test_align_serialised(void)
{
    BlockBackend *blk = open_ram(NULL);
    Req r[8];
    Req aligned;

    ram.delay_us = 2000;
    for (unsigned i = 0; i < G_N_ELEMENTS(r); i++) {
        r[i] = (Req) { .iov = { r[i].buf, sizeof(r[i].buf) } };
        memset(r[i].buf, 0x10 + i, sizeof(r[i].buf));
        blk_aio_pwritev(blk, i * 512, &r[i].iov, 1, req_cb, &r[i]);
        if (i == 3) {
            /* An aligned write in between waits its turn too. */
            aligned = (Req) { .iov = { aligned.buf, sizeof(aligned.buf) } };
            memset(aligned.buf, 0x77, sizeof(aligned.buf));
            blk_aio_pwritev(blk, 8192, &aligned.iov, 1, req_cb, &aligned);
        }
    }
    blk_drain(blk);
    for (unsigned i = 0; i < G_N_ELEMENTS(r); i++) {
        g_assert_true(r[i].done);
        g_assert_cmpint(r[i].ret, ==, 0);
        for (unsigned b = 0; b < 512; b++) {
            g_assert_cmphex(ram.data[i * 512 + b], ==, 0x10 + i);
        }
    }
    g_assert_true(aligned.done);
    g_assert_cmphex(ram.data[8192], ==, 0x77);
    g_assert_cmphex(ram.data[8192 + 511], ==, 0x77);
    g_assert_cmphex(ram.data[8192 + 512], ==, image_byte(8192 + 512));
    g_assert_cmpuint(ram.misaligned, ==, 0);
    blk_unref(blk);
}

/* As in QEMU, padding happens below the events: the read of a
 * read-modify-write meets no read_aio rule. */
static void test_align_events(void)
{
    BlockBackend *blk = open_ram("[inject-error]\n"
                                 "event = \"read_aio\"\n");
    g_assert_cmpint(write_sector(blk, 3), ==, 0);
    g_assert_cmpint(read_sector(blk, 3), ==, -EIO);
    g_assert_cmpuint(ram.misaligned, ==, 0);
    blk_unref(blk);
    Error *err = NULL;
    BlockDriverState *bs = bdrv_new_node(&ram_driver, "ram");
    bs->opaque = &ram;
    bs->size = RAM_SIZE;
    g_assert_null(blkdebug_new("x", bs, "", 3000, &err));
    g_assert_nonnull(strstr(err->msg, "Cannot meet constraints with align "
                            "3000"));
    error_free(err);
}

/* null-co without read-zeroes still hands out zeros, never what the
 * buffer held (QEMU leaves it as it was). */
static void test_null_zeroes(void)
{
    BlockOpenOptions o = { .filename = NULL_CO_FILENAME, .format = "raw" };
    BlockBackend *blk = blk_open(&o, NULL);
    uint8_t buf[4096];

    memset(buf, 0xaa, sizeof(buf));
    g_assert_cmpint(blk_pread(blk, 512, buf, sizeof(buf)), ==, 0);
    for (unsigned i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, 0);
    }
    memset(buf, 0xaa, sizeof(buf));
    g_assert_cmpint(bdrv_pread(blk_bs(blk), 0, buf, sizeof(buf)), ==, 0);
    g_assert_true(buffer_is_zero(buf, sizeof(buf)));
    blk_unref(blk);
}

/* An overlay over another backend's node (blockdev-add backing=NODE)
 * keeps the node alive when that backend closes first. */
static void test_backing_node_shared(void)
{
    BlockOpenOptions base_o = { .filename = image, .format = "raw" };
    BlockBackend *base = blk_open(&base_o, NULL);
    g_autofree char *ov = g_build_filename(tmpdir, "overlay.qcow2", NULL);
    BlockCreateOpts co = { .size = IMAGE_SECTORS * 512 };
    Error *err = NULL;

    g_assert_true(bdrv_create("qcow2", ov, &co, &err));
    BlockOpenOptions o = { .filename = ov, .format = "qcow2",
                           .backing = blk_bs(base) };
    BlockBackend *blk = blk_open(&o, &err);
    g_assert_nonnull(blk);
    g_assert_true(blk_bs(blk)->backing == blk_bs(base));
    g_assert_true(blk_bs(blk)->backing_node);
    g_assert_cmpint(read_sector(blk, 5), ==, 0);
    blk_unref(base);                    /* the device's backend goes */
    g_assert_cmpint(read_sector(blk, 6), ==, 0);
    g_assert_cmpint(write_sector(blk, 6), ==, 0);
    blk_unref(blk);                     /* and now the node closes */
    /* backing=null: unwritten clusters read as zeros. */
    g_autofree char *chained = g_build_filename(tmpdir, "chained.qcow2",
                                                NULL);
    BlockCreateOpts cc = { .size = IMAGE_SECTORS * 512,
                           .backing_file = image, .backing_fmt = "raw" };
    g_assert_true(bdrv_create("qcow2", chained, &cc, &err));
    BlockOpenOptions no = { .filename = chained, .format = "qcow2",
                            .no_backing = true };
    blk = blk_open(&no, &err);
    uint8_t buf[512];
    g_assert_cmpint(blk_pread(blk, 512, buf, sizeof(buf)), ==, 0);
    g_assert_true(buffer_is_zero(buf, sizeof(buf)));
    blk_unref(blk);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    error_set_progname("test-blkdebug");
    tmpdir = g_dir_make_tmp("test-blkdebug-XXXXXX", NULL);
    image = g_build_filename(tmpdir, "image", NULL);
    g_autofree uint8_t *data = g_malloc(IMAGE_SECTORS * 512);
    for (unsigned i = 0; i < IMAGE_SECTORS * 512; i++) {
        data[i] = image_byte(i);
    }
    g_assert_true(g_file_set_contents(image, (char *)data,
                                      IMAGE_SECTORS * 512, NULL));

    g_test_add_func("/blkdebug/config/ok", test_config_ok);
    g_test_add_func("/blkdebug/config/errors", test_config_errors);
    g_test_add_func("/blkdebug/inject/once", test_inject_once);
    g_test_add_func("/blkdebug/inject/sector-errno", test_inject_sector_errno);
    g_test_add_func("/blkdebug/inject/states", test_states);
    g_test_add_func("/blkdebug/inject/flush-events", test_flush_events);
    g_test_add_func("/blkdebug/break/resume", test_break_resume);
    g_test_add_func("/blkdebug/break/remove", test_remove_break);
    g_test_add_func("/blkdebug/break/drain", test_drain_releases);
    g_test_add_func("/blkdebug/align/pad", test_align_pad);
    g_test_add_func("/blkdebug/align/serialised", test_align_serialised);
    g_test_add_func("/blkdebug/align/events", test_align_events);
    g_test_add_func("/block/error-policy", test_error_policy);
    g_test_add_func("/block/null-co/zeroes", test_null_zeroes);
    g_test_add_func("/block/backing-node", test_backing_node_shared);
    int ret = g_test_run();

    g_autoptr(GDir) dir = g_dir_open(tmpdir, 0, NULL);
    for (const char *n; dir && (n = g_dir_read_name(dir));) {
        g_autofree char *p = g_build_filename(tmpdir, n, NULL);
        unlink(p);
    }
    rmdir(tmpdir);
    return ret;
}
