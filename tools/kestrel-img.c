/*
 * kestrel-img: create, inspect, check and change disk images, with
 * qemu-img's commands, options, output and exit codes.  info/check/map are
 * in img-info.c, convert/compare in img-convert.c, bench in img-bench.c.
 */
#include "img.h"
#include "util/opts.h"
#include "config-host.h"
#include <getopt.h>
#include <stdarg.h>

void img_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "kestrel-img: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

BlockDriverState *img_open(const char *file, const char *fmt, bool rw,
                           const char *cache, bool backing, bool check)
{
    BdrvOpenParams p = { .rw = rw, .check = check };
    Error *err = NULL;
    if (cache && !block_parse_cache_mode(cache, &p.cache)) {
        img_die("Invalid cache option: %s", cache);
    }
    BlockDriverState *bs = bdrv_open(file, fmt, &p, backing, false, &err);
    if (!bs) {
        img_die("Could not open '%s': %s", file, err->msg);
    }
    return bs;
}

char *img_size_str(uint64_t v)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
                                         "PiB", "EiB" };
    int i = 0;
    double d = v;
    while (d >= 1024 && i < 6) {
        d /= 1024;
        i++;
    }
    return g_strdup_printf("%0.3g %s", d, units[i]);
}

bool img_parse_size(const char *s, uint64_t *out)
{
    return parse_size(s, 'B', out);
}

void img_progress(bool on, double pct)
{
    if (on) {
        printf("    (%0.2f/100%%)\r", pct);
        fflush(stdout);
    }
}

bool img_parse_create_opts(const char *s, BlockCreateOpts *o, Error **errp)
{
    GPtrArray *opts = opts_parse(s, NULL, errp);
    if (!opts) {
        return false;
    }
    for (guint i = 0; i < opts->len; i++) {
        Opt *opt = g_ptr_array_index(opts, i);
        const char *k = opt->key, *v = opt->value;
        uint64_t n;
        bool b;
        if (!strcmp(k, "cluster_size")) {
            if (!parse_size(v, 'B', &n) || n > 2 * MiB) {
                error_setg(errp, "Invalid cluster_size '%s'", v);
                goto fail;
            }
            o->cluster_size = n;
        } else if (!strcmp(k, "compat")) {
            if (!strcmp(v, "0.10") || !strcmp(v, "v2")) {
                o->version = 2;
            } else if (!strcmp(v, "1.1") || !strcmp(v, "v3")) {
                o->version = 3;
            } else {
                error_setg(errp, "Invalid compat '%s' (use 0.10 or 1.1)", v);
                goto fail;
            }
        } else if (!strcmp(k, "lazy_refcounts")) {
            if (!opt_parse_bool(v, &b)) {
                error_setg(errp, "Invalid lazy_refcounts '%s'", v);
                goto fail;
            }
            o->lazy_refcounts = b;
        } else if (!strcmp(k, "refcount_bits")) {
            if (!parse_uint64(v, &n) || n > 64) {
                error_setg(errp, "Invalid refcount_bits '%s'", v);
                goto fail;
            }
            o->refcount_bits = n;
        } else if (!strcmp(k, "preallocation")) {
            static const char *const modes[] = { "off", "metadata", "falloc",
                                                 "full" };
            o->preallocation = -1;
            for (int m = 0; m < 4; m++) {
                if (!strcmp(v, modes[m])) {
                    o->preallocation = m;
                }
            }
            if (o->preallocation < 0) {
                error_setg(errp, "Invalid preallocation '%s' (off, metadata, "
                           "falloc, full)", v);
                goto fail;
            }
        } else if (!strcmp(k, "compression_type")) {
            if (strcmp(v, "zlib") && strcmp(v, "zstd")) {
                error_setg(errp, "Invalid compression_type '%s' (zlib or "
                           "zstd)", v);
                goto fail;
            }
            o->compression_type = !strcmp(v, "zstd");
        } else if (!strcmp(k, "size")) {
            if (!parse_size(v, 'B', &o->size)) {
                error_setg(errp, "Invalid size '%s'", v);
                goto fail;
            }
        } else if (!strcmp(k, "backing_file")) {
            o->backing_file = g_strdup(v);
        } else if (!strcmp(k, "backing_fmt")) {
            o->backing_fmt = g_strdup(v);
        } else {
            error_setg(errp, "Invalid parameter '%s'", k);
            goto fail;
        }
    }
    opts_free(opts);
    return true;
fail:
    opts_free(opts);
    return false;
}

/* ---- create ---- */

static int img_create(int argc, char **argv)
{
    const char *fmt = "raw", *base = NULL, *base_fmt = NULL;
    BlockCreateOpts o = { 0 };
    bool quiet = false, unsafe = false;
    Error *err = NULL;
    int c;
    while ((c = getopt(argc, argv, "f:b:F:o:qu")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'b': base = optarg; break;
        case 'F': base_fmt = optarg; break;
        case 'q': quiet = true; break;
        case 'u': unsafe = true; break;
        case 'o':
            if (!strcmp(optarg, "help") || !strcmp(optarg, "?")) {
                printf("Supported options:\n  backing_file\n  backing_fmt\n"
                       "  cluster_size\n  compat\n  compression_type\n"
                       "  lazy_refcounts\n  preallocation\n  refcount_bits\n"
                       "  size\n");
                return 0;
            }
            if (!img_parse_create_opts(optarg, &o, &err)) {
                img_die("%s", err->msg);
            }
            break;
        default:
            return 1;
        }
    }
    if (optind >= argc) {
        img_die("Expecting image file name");
    }
    const char *file = argv[optind];
    base = base ? base : o.backing_file;
    base_fmt = base_fmt ? base_fmt : o.backing_fmt;
    if (optind + 1 < argc && !img_parse_size(argv[optind + 1], &o.size)) {
        img_die("Invalid image size specified. You may use k, M, G, T, P or "
                "E suffixes for kilobytes, megabytes, gigabytes, terabytes, "
                "petabytes and exabytes.");
    }
    if (optind + 2 < argc) {
        img_die("Unexpected argument: %s", argv[optind + 2]);
    }
    if (!bdrv_find_format(fmt)) {
        img_die("Unknown file format '%s'", fmt);
    }
    if (base) {
        if (!base_fmt) {
            img_die("Backing file specified without backing format; use -F "
                    "(kestrel never probes backing files)");
        }
        if (!bdrv_find_format(base_fmt)) {
            img_die("Unknown backing file format '%s'", base_fmt);
        }
        /* Size and validity come from the backing file (relative to the
         * new image's directory). */
        if (!unsafe || optind + 1 >= argc) {
            g_autofree char *dir = g_path_get_dirname(file);
            g_autofree char *path = g_path_is_absolute(base) ? g_strdup(base)
                : g_build_filename(dir, base, NULL);
            BlockDriverState *b = img_open(path, base_fmt, false, NULL, true,
                                           false);
            if (optind + 1 >= argc) {
                o.size = b->size;
            }
            bdrv_close(b);
        }
        o.backing_file = base;
        o.backing_fmt = base_fmt;
    } else if (optind + 1 >= argc) {
        img_die("Image creation needs a size parameter");
    }
    if (!quiet) {
        printf("Formatting '%s', fmt=%s size=%" PRIu64 "%s%s%s%s\n", file, fmt,
               o.size, base ? " backing_file=" : "", base ? base : "",
               base ? " backing_fmt=" : "", base ? base_fmt : "");
    }
    if (!bdrv_create(fmt, file, &o, &err)) {
        img_die("%s: %s", file, err->msg);
    }
    return 0;
}

/* ---- snapshot ---- */

static int img_snapshot(int argc, char **argv)
{
    int action = 0, c;
    const char *name = NULL, *fmt = NULL;
    bool quiet = false;
    while ((c = getopt(argc, argv, "la:c:d:f:qU")) != -1) {
        switch (c) {
        case 'l': case 'a': case 'c': case 'd':
            if (action) {
                img_die("Cannot mix '-l', '-a', '-c', '-d'");
            }
            action = c;
            name = optarg;
            break;
        case 'f': fmt = optarg; break;
        case 'q': quiet = true; break;
        case 'U': break;
        default: return 1;
        }
    }
    if (optind != argc - 1) {
        img_die("Expecting one image file name");
    }
    BlockDriverState *bs = img_open(argv[optind], fmt, action && action != 'l',
                                    NULL, action == 'a', false);
    Error *err = NULL;
    int ret = 0;
    if (!bs->drv->snapshot_list) {
        const char *drv = bs->drv->name;
        bdrv_close(bs);
        img_die("Format '%s' does not support snapshots", drv);
    }
    switch (action) {
    case 0:
    case 'l': {
        BdrvSnapshot *sn;
        int n = bs->drv->snapshot_list(bs, &sn);
        if (!quiet && n) {
            printf("Snapshot list:\n");
            img_snapshot_table(sn, n);
        }
        bdrv_snapshots_free(sn, n);
        break;
    }
    case 'c':
        ret = bs->drv->snapshot_create(bs, name, &err);
        break;
    case 'a':
        ret = bs->drv->snapshot_goto(bs, name, &err);
        break;
    case 'd':
        ret = bs->drv->snapshot_delete(bs, name, &err);
        break;
    }
    bdrv_close(bs);
    if (ret < 0) {
        img_die("Could not %s snapshot '%s': %s", action == 'c' ? "create"
                : action == 'a' ? "apply" : "delete", name, err->msg);
    }
    return 0;
}

/* ---- resize ---- */

static int img_resize(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "shrink", no_argument, NULL, 'S' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL;
    bool shrink = false, quiet = false;
    int c;
    if (argc < 3) {
        img_die("Expecting image file name and size");
    }
    /* The size may start with '-': take it off before option parsing. */
    const char *sz = argv[--argc];
    while ((c = getopt_long(argc, argv, "f:q", lopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'q': quiet = true; break;
        case 'S': shrink = true; break;
        default: return 1;
        }
    }
    if (optind != argc - 1) {
        img_die("Expecting image file name and size");
    }
    BlockDriverState *bs = img_open(argv[optind], fmt, true, NULL, true, false);
    uint64_t n;
    int64_t size;
    int sign = (*sz == '+') ? 1 : (*sz == '-') ? -1 : 0;
    if (!img_parse_size(sz + (sign != 0), &n)) {
        img_die("Invalid size specified: %s", sz);
    }
    size = sign ? bs->size + sign * (int64_t)n : (int64_t)n;
    if (size < 0) {
        img_die("New image size must be positive.");
    }
    if (size < bs->size && !shrink) {
        img_die("Use the --shrink option to perform a shrink operation.");
    }
    Error *err = NULL;
    if (bdrv_truncate(bs, size, &err) < 0) {
        img_die("%s", err->msg);
    }
    bdrv_close(bs);
    if (!quiet) {
        printf("Image resized.\n");
    }
    return 0;
}

/* ---- commit ---- */

static int img_commit(int argc, char **argv)
{
    const char *fmt = NULL, *cache = NULL;
    bool keep = false, quiet = false, progress = false;
    int c;
    while ((c = getopt(argc, argv, "f:t:b:dpq")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 't': cache = optarg; break;
        case 'd': keep = true; break;
        case 'p': progress = true; break;
        case 'q': quiet = true; break;
        case 'b': break;    /* the direct backing file is the only base */
        default: return 1;
        }
    }
    if (optind != argc - 1) {
        img_die("Expecting one image file name");
    }
    BlockDriverState *top = img_open(argv[optind], fmt, true, cache, false,
                                     false);
    if (!top->backing_file) {
        img_die("Image does not have a backing file");
    }
    if (!top->backing_format) {
        img_die("'%s' has no backing format recorded", top->filename);
    }
    g_autofree char *path = bdrv_backing_path(top, top->backing_file);
    BlockDriverState *base = img_open(path, top->backing_format, true, cache,
                                      true, false);
    Error *err = NULL;
    if (base->size < top->size && bdrv_truncate(base, top->size, &err) < 0) {
        img_die("Could not grow the backing file: %s", err->msg);
    }
    size_t chunk = 1 << 20;
    uint8_t *buf = block_alloc(chunk);
    int ret = 0;
    for (int64_t off = 0; !ret && off < top->size; ) {
        int64_t n, map;
        int st = bdrv_block_status(top, off, MIN((int64_t)chunk, top->size - off),
                                   &n, &map);
        if (st < 0) {
            ret = st;
            break;
        }
        if (st & BDRV_BLOCK_ALLOCATED) {
            if ((st & BDRV_BLOCK_ZERO) && !(st & BDRV_BLOCK_DATA)) {
                ret = bdrv_pwrite_zeroes(base, off, n, 0);
            } else {
                ret = bdrv_pread(top, off, buf, n);
                if (!ret) {
                    ret = bdrv_pwrite(base, off, buf, n);
                }
            }
        }
        off += n;
        img_progress(progress, off * 100.0 / top->size);
    }
    free(buf);
    if (!ret) {
        ret = bdrv_flush(base);
    }
    if (!ret && !keep) {
        ret = bdrv_pdiscard(top, 0, top->size, BDRV_REQ_DEALLOCATE);
        if (!ret) {
            ret = bdrv_flush(top);
        }
    }
    bdrv_close(base);
    bdrv_close(top);
    if (ret) {
        img_die("Commit failed: %s", strerror(-ret));
    }
    if (!quiet) {
        printf("%sImage committed.\n", progress ? "\n" : "");
    }
    return 0;
}

/* ---- rebase ---- */

static int img_rebase(int argc, char **argv)
{
    const char *fmt = NULL, *nb = NULL, *nbfmt = NULL, *cache = NULL;
    bool unsafe = false, quiet = false, progress = false;
    int c;
    while ((c = getopt(argc, argv, "f:b:F:t:T:upqU")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'b': nb = optarg; break;
        case 'F': nbfmt = optarg; break;
        case 't': cache = optarg; break;
        case 'T': break;
        case 'u': unsafe = true; break;
        case 'p': progress = true; break;
        case 'q': quiet = true; break;
        case 'U': break;
        default: return 1;
        }
    }
    if (optind != argc - 1 || !nb) {
        img_die("Expecting one image file name and -b BACKING");
    }
    if (*nb && !nbfmt) {
        img_die("-F is required with -b (kestrel never probes backing files)");
    }
    if (nbfmt && !bdrv_find_format(nbfmt)) {
        img_die("Invalid format name: '%s'", nbfmt);
    }
    BlockDriverState *bs = img_open(argv[optind], fmt, true, cache, !unsafe,
                                    false);
    if (!bs->drv->change_backing) {
        img_die("Format '%s' has no backing file", bs->drv->name);
    }
    int ret = 0;
    if (!unsafe) {
        BlockDriverState *nbs = NULL;
        if (*nb) {
            g_autofree char *path = bdrv_backing_path(bs, nb);
            nbs = img_open(path, nbfmt, false, cache, true, false);
        }
        size_t chunk = 1 << 20;
        uint8_t *a = block_alloc(chunk), *b = block_alloc(chunk);
        for (int64_t off = 0; !ret && off < bs->size; ) {
            int64_t n, map;
            int st = bdrv_block_status(bs, off, MIN((int64_t)chunk,
                                                    bs->size - off), &n, &map);
            if (st < 0) {
                ret = st;
                break;
            }
            if (!(st & BDRV_BLOCK_ALLOCATED)) {
                /* What the old chain shows here must stay. */
                ret = bs->backing ? bdrv_pread(bs->backing, off, a, n) : 0;
                if (!bs->backing) {
                    memset(a, 0, n);
                }
                if (!ret && nbs) {
                    ret = bdrv_pread(nbs, off, b, n);
                } else if (!ret) {
                    memset(b, 0, n);
                }
                if (!ret && memcmp(a, b, n)) {
                    ret = bdrv_pwrite(bs, off, a, n);
                }
            }
            off += n;
            img_progress(progress, off * 100.0 / bs->size);
        }
        free(a);
        free(b);
        if (nbs) {
            bdrv_close(nbs);
        }
    }
    if (!ret) {
        ret = bs->drv->change_backing(bs, *nb ? nb : NULL, *nb ? nbfmt : NULL);
    }
    bdrv_close(bs);
    if (ret) {
        img_die("Could not change the backing file: %s", strerror(-ret));
    }
    if (progress && !quiet) {
        printf("\n");
    }
    return 0;
}

/* ---- main ---- */

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;
} commands[] = {
    { "bench", img_bench, "bench [-c count] [-d depth] [-f fmt] "
      "[--flush-interval=N] [--no-drain] [-n] [-o offset] [--pattern=N] [-q] "
      "[-s buffer_size] [-S step_size] [-t cache] [-w] [--random] [--seed=N] "
      "[--log=FILE] filename" },
    { "check", img_check, "check [-f fmt] [--output=human|json] [-r leaks|all] "
      "[-q] filename" },
    { "commit", img_commit, "commit [-f fmt] [-t cache] [-d] [-p] [-q] "
      "filename" },
    { "compare", img_compare, "compare [-f fmt] [-F fmt] [-p] [-q] [-s] "
      "filename1 filename2" },
    { "convert", img_convert, "convert [-c] [-p] [-q] [-f fmt] [-O output_fmt] "
      "[-o options] [-t cache] [-T src_cache] filename output_filename" },
    { "create", img_create, "create [-q] [-f fmt] [-b backing_file -F "
      "backing_fmt] [-u] [-o options] filename [size]" },
    { "info", img_info, "info [-f fmt] [--output=human|json] "
      "[--backing-chain] filename" },
    { "map", img_map, "map [-f fmt] [--output=human|json] filename" },
    { "rebase", img_rebase, "rebase [-f fmt] [-t cache] [-p] [-q] [-u] -b "
      "backing_file [-F backing_fmt] filename" },
    { "resize", img_resize, "resize [-f fmt] [--shrink] [-q] filename "
      "[+ | -]size" },
    { "snapshot", img_snapshot, "snapshot [-f fmt] [-q] [-l | -a snapshot | -c "
      "snapshot | -d snapshot] filename" },
};

static void usage(void)
{
    printf("kestrel-img version %s\nusage: kestrel-img [standard options] "
           "command [command options]\nDisk image utility (qemu-img's "
           "commands and options)\n\nCommand syntax:\n", KESTREL_VERSION);
    for (unsigned i = 0; i < ARRAY_SIZE(commands); i++) {
        printf("  %s\n", commands[i].usage);
    }
    printf("\nSupported formats: qcow2 raw\n");
}

int main(int argc, char **argv)
{
    error_set_progname("kestrel-img");
    if (argc < 2) {
        img_die("Not enough arguments\nTry 'kestrel-img --help' for more "
                "information");
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage();
        return 0;
    }
    if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
        printf("kestrel-img version %s\n", KESTREL_VERSION);
        return 0;
    }
    for (unsigned i = 0; i < ARRAY_SIZE(commands); i++) {
        if (!strcmp(argv[1], commands[i].name)) {
            optind = 1;
            return commands[i].fn(argc - 1, argv + 1);
        }
    }
    img_die("Command not found: %s", argv[1]);
}
