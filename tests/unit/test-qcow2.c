/*
 * Block layer and qcow2 driver internals: refcount entry packing, random
 * I/O against a shadow copy (through io_uring or the thread pool, with a
 * tiny L2 cache to force evictions), zeroing and discard, compressed
 * clusters, snapshots, refcount table growth, lazy refcounts after a crash,
 * an image found inconsistent at run time being marked corrupt, every
 * cache mode, snapshot=on and the probed-raw guard.
 * Every image is checked by our check and, when installed, qemu-img's.
 */
#include "block/block_int.h"
#include "../../block/qcow2.h"
#include <fcntl.h>
#include <unistd.h>

static char *tmpdir;

static char *tmp_path(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static void create(const char *path, const char *fmt, uint64_t size,
                   uint32_t cluster, int version, int refbits, bool lazy,
                   const char *backing)
{
    BlockCreateOpts o = { .size = size, .cluster_size = cluster,
                          .version = version, .refcount_bits = refbits,
                          .lazy_refcounts = lazy, .backing_file = backing,
                          .backing_fmt = backing ? "qcow2" : NULL };
    Error *err = NULL;
    if (!bdrv_create(fmt, path, &o, &err)) {
        g_error("create %s: %s", path, err->msg);
    }
}

static BlockBackend *open_blk(const char *path, bool ro, uint64_t l2)
{
    BlockOpenOptions o = { .filename = path, .format = NULL,
                           .read_only = ro, .l2_cache_size = l2 };
    Error *err = NULL;
    BlockBackend *blk = blk_open(&o, &err);
    if (!blk) {
        g_error("open %s: %s", path, err->msg);
    }
    return blk;
}

static void assert_clean(const char *path)
{
    BdrvOpenParams p = { .rw = false, .check = true };
    Error *err = NULL;
    BlockDriverState *bs = bdrv_open(path, "qcow2", &p, false, false, &err);
    BdrvCheckResult r;
    g_assert_nonnull(bs);
    g_assert_cmpint(bdrv_check(bs, &r, 0), ==, 0);
    g_assert_cmpint(r.corruptions, ==, 0);
    g_assert_cmpint(r.leaks, ==, 0);
    g_assert_cmpint(r.check_errors, ==, 0);
    bdrv_close(bs);
    /* And qemu-img's opinion, where it is installed. */
    g_autofree char *qimg = g_find_program_in_path("qemu-img");
    if (qimg) {
        char *argv[] = { qimg, "check", (char *)path, NULL };
        g_autofree char *out = NULL, *errs = NULL;
        int status;
        g_assert_true(g_spawn_sync(NULL, argv, NULL, 0, NULL, NULL, &out,
                                   &errs, &status, NULL));
        if (!g_spawn_check_wait_status(status, NULL)) {
            g_error("qemu-img check %s:\n%s%s", path, out, errs);
        }
    }
}

static void test_refcount_packing(void)
{
    uint8_t blk[64];
    for (int order = 0; order <= 6; order++) {
        int bits = 1 << order;
        uint64_t max = bits == 64 ? UINT64_MAX : (1ULL << bits) - 1;
        uint64_t n = sizeof(blk) * 8 / bits;
        memset(blk, 0, sizeof(blk));
        for (uint64_t i = 0; i < n; i++) {
            rb_set(blk, i, order, (i * 7 + 3) & max);
        }
        for (uint64_t i = 0; i < n; i++) {
            g_assert_cmpuint(rb_get(blk, i, order), ==, (i * 7 + 3) & max);
        }
    }
    /* Sub-byte entries start at the least significant bit (the spec). */
    memset(blk, 0, sizeof(blk));
    rb_set(blk, 1, 0, 1);
    rb_set(blk, 1, 2, 0xa);
    g_assert_cmphex(blk[0], ==, 0xa2 & 0xa2);
    memset(blk, 0, sizeof(blk));
    rb_set(blk, 0, 4, 0x1234);
    g_assert_cmphex(blk[0], ==, 0x12);  /* 16-bit entries are big-endian */
}

/* ---- random I/O against a shadow copy ---- */

typedef struct Io {
    int pending;
    int errors;
} Io;

static void io_cb(void *opaque, int ret)
{
    Io *io = opaque;
    io->pending--;
    io->errors += ret != 0;
}

static void wait_io(Io *io)
{
    while (io->pending) {
        aio_poll(true);
    }
    g_assert_cmpint(io->errors, ==, 0);
}

static void verify(BlockBackend *blk, const uint8_t *shadow, uint64_t size)
{
    uint8_t *buf = g_malloc(size);
    g_assert_cmpint(blk_pread(blk, 0, buf, size), ==, 0);
    for (uint64_t i = 0; i < size; i++) {
        if (buf[i] != shadow[i]) {
            g_error("byte %" PRIu64 ": %#x, want %#x", i, buf[i], shadow[i]);
        }
    }
    g_free(buf);
}

static void random_io(BlockBackend *blk, uint8_t *shadow, uint64_t size,
                      GRand *r, int rounds)
{
    enum { DEPTH = 16 };
    uint8_t *bufs[DEPTH];
    for (int round = 0; round < rounds; round++) {
        Io io = { 0 };
        uint64_t lo[DEPTH], hi[DEPTH];
        int n = 0;
        for (int i = 0; i < DEPTH; i++) {
            uint64_t len = g_rand_int_range(r, 1, 200000);
            uint64_t off = g_rand_int_range(r, 0, size - len);
            bool clash = false;
            for (int j = 0; j < n; j++) {
                clash |= off < hi[j] && lo[j] < off + len;
            }
            if (clash) {
                continue;       /* overlapping writes race: not our test */
            }
            lo[n] = off;
            hi[n] = off + len;
            bufs[n] = g_malloc(len);
            memset(bufs[n], g_rand_int(r), len);
            memcpy(shadow + off, bufs[n], len);
            struct iovec iov[2] = { { bufs[n], len / 3 },
                                    { bufs[n] + len / 3, len - len / 3 } };
            io.pending++;
            blk_aio_pwritev(blk, off, iov, 2, io_cb, &io);
            g_assert_cmpint(io.pending, ==, n + 1);     /* never inline */
            n++;
        }
        wait_io(&io);
        for (int i = 0; i < n; i++) {
            g_free(bufs[i]);
        }
        if (round % 4 == 3) {
            uint64_t off = g_rand_int_range(r, 0, size / 2);
            uint64_t len = g_rand_int_range(r, 1, size / 4);
            g_assert_cmpint(blk_pwrite_zeroes(blk, off, len), ==, 0);
            memset(shadow + off, 0, len);
            g_assert_cmpint(blk_flush(blk), ==, 0);
        }
    }
}

static void io_case(uint32_t cluster, int version, int refbits, uint64_t l2)
{
    const uint64_t size = 8 * MiB;
    g_autofree char *path = tmp_path("io.qcow2");
    uint8_t *shadow = g_malloc0(size);
    GRand *r = g_rand_new_with_seed(cluster + version + refbits);

    create(path, "qcow2", size, cluster, version, refbits, false, NULL);
    BlockBackend *blk = open_blk(path, false, l2);
    random_io(blk, shadow, size, r, 12);
    verify(blk, shadow, size);
    blk_unref(blk);
    assert_clean(path);
    blk = open_blk(path, true, 0);
    verify(blk, shadow, size);
    blk_unref(blk);
    g_rand_free(r);
    g_free(shadow);
}

static void test_io_64k(void) { io_case(65536, 3, 16, 0); }
static void test_io_512_small_cache(void) { io_case(512, 3, 16, 4 * 512); }
static void test_io_v2_4k(void) { io_case(4096, 2, 16, 0); }
static void test_io_2m(void) { io_case(2 * MiB, 3, 16, 0); }
/* 64-bit refcounts on 512-byte clusters: the refcount table moves often. */
static void test_io_reftable_growth(void) { io_case(512, 3, 64, 0); }
static void test_io_1bit(void) { io_case(4096, 3, 1, 0); }

static void test_discard(void)
{
    const uint64_t size = 4 * MiB;
    g_autofree char *path = tmp_path("d.qcow2");
    uint8_t *shadow = g_malloc0(size), *buf = g_malloc(size);
    create(path, "qcow2", size, 65536, 3, 16, false, NULL);
    BlockBackend *blk = open_blk(path, false, 0);
    memset(shadow, 0x5a, size);
    g_assert_cmpint(blk_pwrite(blk, 0, shadow, size), ==, 0);
    g_assert_cmpint(blk_pdiscard(blk, 65536, 3 * 65536 + 100), ==, 0);
    memset(shadow + 65536, 0, 3 * 65536);   /* whole clusters only */
    g_assert_cmpint(blk_flush(blk), ==, 0);
    verify(blk, shadow, size);
    /* The freed clusters are reused: the file does not grow. */
    int64_t before = bfile_length(&((BDRVQcow2State *)blk_bs(blk)->opaque)->file);
    g_assert_cmpint(blk_pwrite(blk, 65536, buf, 3 * 65536), ==, 0);
    int64_t after = bfile_length(&((BDRVQcow2State *)blk_bs(blk)->opaque)->file);
    g_assert_cmpint(after, ==, before);
    blk_unref(blk);
    assert_clean(path);
    g_free(shadow);
    g_free(buf);
}

static void test_bounds_and_readonly(void)
{
    g_autofree char *path = tmp_path("b.qcow2");
    uint8_t buf[512] = { 0 };
    create(path, "qcow2", MiB, 65536, 3, 16, false, NULL);
    BlockBackend *blk = open_blk(path, true, 0);
    g_assert_cmpint(blk_pwrite(blk, 0, buf, 512), ==, -EACCES);
    g_assert_cmpint(blk_pread(blk, MiB - 256, buf, 512), ==, -EIO);
    g_assert_cmpint(blk_pread(blk, MiB - 512, buf, 512), ==, 0);
    blk_unref(blk);
    BlockBackend *empty = blk_new_empty();
    g_assert_cmpint(blk_pread(empty, 0, buf, 512), ==, -ENOMEDIUM);
    blk_unref(empty);
}

static void test_compressed(void)
{
    for (int type = 0; type < 2; type++) {
        g_autofree char *path = tmp_path("c.qcow2");
        const uint64_t cs = 65536, size = 16 * cs;
        BlockCreateOpts o = { .size = size, .cluster_size = cs, .version = 3,
                              .refcount_bits = 16, .compression_type = type };
        Error *err = NULL;
        g_assert_true(bdrv_create("qcow2", path, &o, &err));
        BdrvOpenParams p = { .rw = true };
        BlockDriverState *bs = bdrv_open(path, "qcow2", &p, false, false, &err);
        uint8_t *data = g_malloc(size), *back = g_malloc(size);
        for (uint64_t i = 0; i < size; i++) {
            data[i] = (i / 100) % 7;            /* compresses well */
        }
        for (uint64_t off = 0; off < size; off += cs) {
            g_assert_cmpint(bs->drv->pwrite_compressed(bs, off, cs, data + off),
                            ==, 0);
        }
        g_assert_cmpint(bdrv_pread(bs, 0, back, size), ==, 0);
        g_assert_cmpmem(data, size, back, size);
        int64_t pnum, map;
        int st = bdrv_block_status(bs, 0, size, &pnum, &map);
        g_assert_true(st & BDRV_BLOCK_COMPRESSED);
        /* Partial overwrite: copy-on-write out of a compressed cluster. */
        memset(data + cs + 1000, 0xee, 3000);
        g_assert_cmpint(bdrv_pwrite(bs, cs + 1000, data + cs + 1000, 3000),
                        ==, 0);
        g_assert_cmpint(bdrv_pread(bs, 0, back, size), ==, 0);
        g_assert_cmpmem(data, size, back, size);
        bdrv_close(bs);
        assert_clean(path);
        g_free(data);
        g_free(back);
    }
}

static void test_snapshots(void)
{
    g_autofree char *path = tmp_path("s.qcow2");
    const uint64_t size = 2 * MiB;
    uint8_t *a = g_malloc(size), *b = g_malloc(size), *back = g_malloc(size);
    Error *err = NULL;
    memset(a, 0xa1, size);
    memset(b, 0xb2, size / 2);
    memcpy(b + size / 2, a + size / 2, size / 2);
    create(path, "qcow2", size, 4096, 3, 16, false, NULL);
    BdrvOpenParams p = { .rw = true };
    BlockDriverState *bs = bdrv_open(path, "qcow2", &p, false, false, &err);
    g_assert_cmpint(bdrv_pwrite(bs, 0, a, size), ==, 0);
    g_assert_cmpint(bs->drv->snapshot_create(bs, "first", &err), ==, 0);
    g_assert_cmpint(bs->drv->snapshot_create(bs, "first", &err), ==, -EEXIST);
    error_free(err);
    err = NULL;
    g_assert_cmpint(bdrv_pwrite(bs, 0, b, size / 2), ==, 0);
    g_assert_cmpint(bs->drv->snapshot_create(bs, "second", &err), ==, 0);
    g_assert_cmpint(bs->drv->snapshot_goto(bs, "first", &err), ==, 0);
    g_assert_cmpint(bdrv_pread(bs, 0, back, size), ==, 0);
    g_assert_cmpmem(a, size, back, size);
    g_assert_cmpint(bs->drv->snapshot_goto(bs, "second", &err), ==, 0);
    g_assert_cmpint(bdrv_pread(bs, 0, back, size), ==, 0);
    g_assert_cmpmem(b, size, back, size);
    g_assert_cmpint(bs->drv->snapshot_delete(bs, "first", &err), ==, 0);
    BdrvSnapshot *list;
    int n = bs->drv->snapshot_list(bs, &list);
    g_assert_cmpint(n, ==, 1);
    g_assert_cmpstr(list[0].name, ==, "second");
    bdrv_snapshots_free(list, n);
    bdrv_close(bs);
    assert_clean(path);
    g_free(a);
    g_free(b);
    g_free(back);
}

/* A writer with lazy refcounts dies without closing: the next read-write
 * open rebuilds the refcounts from the tables. */
static void test_lazy_crash(void)
{
    g_autofree char *path = tmp_path("lazy.qcow2");
    const uint64_t size = 4 * MiB;
    uint8_t *data = g_malloc(size), *back = g_malloc(size);
    memset(data, 0x77, size);
    if (g_test_subprocess()) {
        BlockBackend *blk = open_blk(path, false, 0);
        if (blk_pwrite(blk, 0, data, size) || blk_flush(blk)) {
            _exit(1);
        }
        _exit(0);       /* no close: the dirty bit stays set */
    }
    create(path, "qcow2", size, 4096, 3, 16, true, NULL);
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed();
    BlockBackend *blk = open_blk(path, false, 0);
    g_assert_cmpint(blk_pread(blk, 0, back, size), ==, 0);
    g_assert_cmpmem(data, size, back, size);
    blk_unref(blk);
    assert_clean(path);
    g_free(data);
    g_free(back);
}

/* An L2 entry pointing into the refcount table is found on access: the
 * image is marked corrupt and goes read-only; check -r all repairs it. */
static void test_runtime_corruption(void)
{
    g_autofree char *path = tmp_path("bad.qcow2");
    uint8_t buf[4096];
    create(path, "qcow2", MiB, 65536, 3, 16, false, NULL);
    BlockBackend *blk = open_blk(path, false, 0);
    memset(buf, 1, sizeof(buf));
    g_assert_cmpint(blk_pwrite(blk, 0, buf, sizeof(buf)), ==, 0);
    BDRVQcow2State *s = blk_bs(blk)->opaque;
    uint64_t l2 = s->l1[0] & L1E_OFFSET_MASK, reft = s->reft_offset;
    blk_unref(blk);
    int fd = open(path, O_RDWR);
    uint64_t e = GUINT64_TO_BE(reft | QCOW_OFLAG_COPIED);
    g_assert_cmpint(pwrite(fd, &e, 8, l2), ==, 8);
    close(fd);

    blk = open_blk(path, false, 0);
    g_assert_cmpint(blk_pwrite(blk, 0, buf, sizeof(buf)), ==, -EIO);
    g_assert_true(blk_is_read_only(blk));
    g_assert_cmpint(blk_pwrite(blk, 65536, buf, sizeof(buf)), ==, -EACCES);
    blk_unref(blk);

    BlockOpenOptions o = { .filename = path, .format = "qcow2" };
    Error *err = NULL;
    g_assert_null(blk_open(&o, &err));
    g_assert_nonnull(strstr(err->msg, "marked corrupt"));
    error_free(err);

    BdrvOpenParams p = { .rw = true, .check = true };
    BlockDriverState *bs = bdrv_open(path, "qcow2", &p, false, false, &err);
    BdrvCheckResult r;
    bdrv_check(bs, &r, BDRV_FIX_LEAKS | BDRV_FIX_ERRORS);
    g_assert_cmpint(r.corruptions, >, 0);
    g_assert_cmpint(r.corruptions_fixed, ==, r.corruptions);
    bdrv_close(bs);
    blk = open_blk(path, false, 0);     /* read-write again */
    g_assert_cmpint(blk_pwrite(blk, 0, buf, sizeof(buf)), ==, 0);
    blk_unref(blk);
    assert_clean(path);
}

static void test_backing_read(void)
{
    g_autofree char *base = tmp_path("base.qcow2");
    g_autofree char *top = tmp_path("top.qcow2");
    uint8_t a[8192], b[8192];
    memset(a, 0x42, sizeof(a));
    create(base, "qcow2", MiB, 4096, 3, 16, false, NULL);
    BlockBackend *blk = open_blk(base, false, 0);
    g_assert_cmpint(blk_pwrite(blk, 4096, a, sizeof(a)), ==, 0);
    blk_unref(blk);
    create(top, "qcow2", MiB, 65536, 3, 16, false, "base.qcow2");
    blk = open_blk(top, false, 0);
    memset(a + 100, 0x43, 50);          /* partial write: COW from base */
    g_assert_cmpint(blk_pwrite(blk, 4096 + 100, a + 100, 50), ==, 0);
    g_assert_cmpint(blk_pread(blk, 4096, b, sizeof(b)), ==, 0);
    g_assert_cmpmem(a, sizeof(a), b, sizeof(b));
    blk_unref(blk);
    assert_clean(top);
}

/* Every cache mode, raw and qcow2, misaligned buffers (O_DIRECT bounces). */
static void test_cache_modes(void)
{
    static const char *const fmts[] = { "raw", "qcow2" };
    for (int m = 0; m <= BLOCK_CACHE_UNSAFE; m++) {
        for (int f = 0; f < 2; f++) {
            g_autofree char *path = tmp_path(f ? "cm.qcow2" : "cm.raw");
            const uint64_t size = MiB;
            uint8_t *buf = g_malloc(size + 1), *back = g_malloc(size);
            create(path, fmts[f], size, 65536, 3, 16, false, NULL);
            for (uint64_t i = 0; i < size; i++) {
                buf[i + 1] = i * 13 + m;
            }
            BlockOpenOptions o = { .filename = path, .format = fmts[f],
                                   .cache = m };
            Error *err = NULL;
            BlockBackend *blk = blk_open(&o, &err);
            if (!blk && m == BLOCK_CACHE_NONE) {
                g_test_message("no O_DIRECT here: %s", err->msg);
                error_free(err);
                g_free(buf);
                g_free(back);
                continue;
            }
            g_assert_nonnull(blk);
            g_assert_cmpint(blk_pwrite(blk, 1000, buf + 1, size - 3000), ==, 0);
            g_assert_cmpint(blk_flush(blk), ==, 0);
            blk_unref(blk);
            blk = open_blk(path, true, 0);
            g_assert_cmpint(blk_pread(blk, 1000, back, size - 3000), ==, 0);
            g_assert_cmpmem(buf + 1, size - 3000, back, size - 3000);
            blk_unref(blk);
            if (f) {
                assert_clean(path);
            }
            g_free(buf);
            g_free(back);
        }
    }
}

/* snapshot=on: writes land in a temporary overlay that disappears. */
static void test_snapshot_on(void)
{
    g_autofree char *path = tmp_path("base.raw");
    g_autofree char *tdir = tmp_path("snaptmp");
    uint8_t buf[4096], back[4096];
    g_mkdir_with_parents(tdir, 0700);
    create(path, "raw", MiB, 0, 0, 0, false, NULL);
    g_setenv("TMPDIR", tdir, true);
    BlockOpenOptions o = { .filename = path, .format = "raw", .snapshot = true };
    Error *err = NULL;
    BlockBackend *blk = blk_open(&o, &err);
    g_assert_nonnull(blk);
    memset(buf, 0x99, sizeof(buf));
    g_assert_cmpint(blk_pwrite(blk, 8192, buf, sizeof(buf)), ==, 0);
    g_assert_cmpint(blk_pread(blk, 8192, back, sizeof(back)), ==, 0);
    g_assert_cmpmem(buf, sizeof(buf), back, sizeof(back));
    GDir *d = g_dir_open(tdir, 0, NULL);
    g_assert_null(g_dir_read_name(d));      /* unlinked while open */
    g_dir_close(d);
    blk_unref(blk);
    g_unsetenv("TMPDIR");
    blk = open_blk(path, true, 0);
    g_assert_cmpint(blk_pread(blk, 8192, back, sizeof(back)), ==, 0);
    memset(buf, 0, sizeof(buf));
    g_assert_cmpmem(buf, sizeof(buf), back, sizeof(back));
    blk_unref(blk);
}

/* A raw image found by probing may not be turned into a qcow2 header. */
static void test_probed_raw_guard(void)
{
    g_autofree char *path = tmp_path("p.raw");
    uint8_t buf[512] = "QFI\xfb";
    create(path, "raw", MiB, 0, 0, 0, false, NULL);
    BlockOpenOptions o = { .filename = path, .probe_warn = true };
    Error *err = NULL;
    BlockBackend *blk = blk_open(&o, &err);
    g_assert_cmpstr(blk_format_name(blk), ==, "raw");
    g_assert_cmpint(blk_pwrite(blk, 0, buf, sizeof(buf)), ==, -EPERM);
    g_assert_cmpint(blk_pwrite(blk, 512, buf, sizeof(buf)), ==, 0);
    blk_unref(blk);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    error_set_progname("test-qcow2");
    /* A subprocess (g_test_trap_subprocess) works in its parent's dir. */
    if (g_getenv("TEST_QCOW2_DIR")) {
        tmpdir = g_strdup(g_getenv("TEST_QCOW2_DIR"));
    } else {
        tmpdir = g_dir_make_tmp("test-qcow2-XXXXXX", NULL);
        g_setenv("TEST_QCOW2_DIR", tmpdir, true);
    }
    g_test_add_func("/qcow2/refcount-packing", test_refcount_packing);
    g_test_add_func("/qcow2/io-64k", test_io_64k);
    g_test_add_func("/qcow2/io-512-small-l2-cache", test_io_512_small_cache);
    g_test_add_func("/qcow2/io-v2-4k", test_io_v2_4k);
    g_test_add_func("/qcow2/io-2m", test_io_2m);
    g_test_add_func("/qcow2/io-reftable-growth", test_io_reftable_growth);
    g_test_add_func("/qcow2/io-1bit-refcounts", test_io_1bit);
    g_test_add_func("/qcow2/discard", test_discard);
    g_test_add_func("/qcow2/bounds-readonly", test_bounds_and_readonly);
    g_test_add_func("/qcow2/compressed", test_compressed);
    g_test_add_func("/qcow2/snapshots", test_snapshots);
    g_test_add_func("/qcow2/lazy-crash", test_lazy_crash);
    g_test_add_func("/qcow2/runtime-corruption", test_runtime_corruption);
    g_test_add_func("/qcow2/backing-read", test_backing_read);
    g_test_add_func("/block/cache-modes", test_cache_modes);
    g_test_add_func("/block/snapshot-on", test_snapshot_on);
    g_test_add_func("/block/probed-raw-guard", test_probed_raw_guard);
    int ret = g_test_run();
    if (g_test_subprocess()) {
        return ret;
    }
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
    if (system(cmd)) {
        /* leftovers in /tmp only */
    }
    return ret;
}
