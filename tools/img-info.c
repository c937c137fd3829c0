/*
 * kestrel-img info, check and map: what an image is, whether it is
 * consistent, where its data lives; human output as qemu-img prints it, or
 * JSON with qemu-img's keys.
 */
#include "img.h"
#include <getopt.h>
#include <sys/stat.h>
#include <time.h>

/* ---- info ---- */

static void json_str(GString *j, const char *s)
{
    g_string_append_c(j, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            g_string_append_printf(j, "\\%c", *s);
        } else if ((unsigned char)*s < 0x20) {
            g_string_append_printf(j, "\\u%04x", *s);
        } else {
            g_string_append_c(j, *s);
        }
    }
    g_string_append_c(j, '"');
}

void img_snapshot_table(BdrvSnapshot *sn, int n)
{
    printf("%-9s %-17s %7s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE",
           "VM CLOCK", "ICOUNT");
    for (int i = 0; i < n; i++) {
        g_autofree char *vs = img_size_str(sn[i].vm_state_size);
        char date[32], clk[32], ic[32];
        time_t t = sn[i].date_sec;
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
        uint64_t ms = sn[i].vm_clock_nsec / 1000000;
        snprintf(clk, sizeof(clk), "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64
                 ".%03" PRIu64, ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
                 ms % 1000);
        snprintf(ic, sizeof(ic), sn[i].has_icount ? "%" PRIu64 : "",
                 sn[i].icount);
        printf("%-9s %-17s %7s%20s%13s%11s\n", sn[i].id, sn[i].name, vs, date,
               clk, ic);
    }
}

static void info_one(BlockDriverState *bs, bool json, GString *j)
{
    struct stat st;
    uint64_t actual = stat(bs->filename, &st) == 0 ? st.st_blocks * 512ULL : 0;
    uint32_t cs = bdrv_cluster_size(bs);
    g_autofree char *full = bs->backing_file
        ? bdrv_backing_path(bs, bs->backing_file) : NULL;
    BdrvSnapshot *sn = NULL;
    int nsn = bs->drv->snapshot_list ? bs->drv->snapshot_list(bs, &sn) : 0;
    GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *vals = g_ptr_array_new_with_free_func(g_free);
    if (bs->drv->get_info) {
        bs->drv->get_info(bs, keys, vals);
    }

    if (!json) {
        g_autofree char *vs = img_size_str(bs->size);
        g_autofree char *ds = img_size_str(actual);
        printf("image: %s\nfile format: %s\nvirtual size: %s (%" PRId64
               " bytes)\ndisk size: %s\n", bs->filename, bs->drv->name, vs,
               bs->size, ds);
        if (cs) {
            printf("cluster_size: %u\n", cs);
        }
        if (bs->backing_file) {
            printf("backing file: %s", bs->backing_file);
            if (strcmp(full, bs->backing_file)) {
                printf(" (actual path: %s)", full);
            }
            printf("\n");
            if (bs->backing_format) {
                printf("backing file format: %s\n", bs->backing_format);
            }
        }
        if (nsn) {
            printf("Snapshot list:\n");
            img_snapshot_table(sn, nsn);
        }
        if (keys->len) {
            printf("Format specific information:\n");
            for (guint i = 0; i < keys->len; i++) {
                printf("    %s: %s\n", (char *)keys->pdata[i],
                       (char *)vals->pdata[i]);
            }
        }
    } else {
        g_string_append(j, "{\n");
        if (bs->backing_format) {
            g_string_append(j, "    \"backing-filename-format\": ");
            json_str(j, bs->backing_format);
            g_string_append(j, ",\n");
        }
        if (nsn) {
            g_string_append(j, "    \"snapshots\": [\n");
            for (int i = 0; i < nsn; i++) {
                g_string_append(j, "        {\n");
                if (sn[i].has_icount) {
                    g_string_append_printf(j, "            \"icount\": %"
                                           PRIu64 ",\n", sn[i].icount);
                }
                g_string_append_printf(j, "            \"vm-clock-nsec\": %"
                    PRIu64 ",\n            \"name\": ",
                    sn[i].vm_clock_nsec % 1000000000);
                json_str(j, sn[i].name);
                g_string_append_printf(j, ",\n            \"date-sec\": %u,\n"
                    "            \"date-nsec\": %u,\n            "
                    "\"vm-clock-sec\": %" PRIu64 ",\n            \"id\": ",
                    sn[i].date_sec, sn[i].date_nsec,
                    sn[i].vm_clock_nsec / 1000000000);
                json_str(j, sn[i].id);
                g_string_append_printf(j, ",\n            \"vm-state-size\": %"
                    PRIu64 "\n        }%s\n", sn[i].vm_state_size,
                    i + 1 < nsn ? "," : "");
            }
            g_string_append(j, "    ],\n");
        }
        g_string_append_printf(j, "    \"virtual-size\": %" PRId64 ",\n"
                               "    \"filename\": ", bs->size);
        json_str(j, bs->filename);
        g_string_append(j, ",\n");
        if (cs) {
            g_string_append_printf(j, "    \"cluster-size\": %u,\n", cs);
        }
        g_string_append_printf(j, "    \"format\": \"%s\",\n    \"actual-size"
                               "\": %" PRIu64 ",\n", bs->drv->name, actual);
        if (keys->len) {
            g_string_append_printf(j, "    \"format-specific\": {\n        "
                                   "\"type\": \"%s\",\n        \"data\": {\n",
                                   bs->drv->name);
            for (guint i = 0; i < keys->len; i++) {
                g_autofree char *k = g_strdup(keys->pdata[i]);
                const char *v = vals->pdata[i];
                g_strdelimit(k, " ", '-');
                g_string_append_printf(j, "            \"%s\": ", k);
                if (!strcmp(v, "true") || !strcmp(v, "false") ||
                    g_ascii_isdigit(v[0]) ? strchr(v, '.') == NULL : false) {
                    g_string_append(j, v);
                } else {
                    json_str(j, v);
                }
                g_string_append(j, i + 1 < keys->len ? ",\n" : "\n");
            }
            g_string_append(j, "        }\n    },\n");
        }
        if (bs->backing_file) {
            g_string_append(j, "    \"full-backing-filename\": ");
            json_str(j, full);
            g_string_append(j, ",\n    \"backing-filename\": ");
            json_str(j, bs->backing_file);
            g_string_append(j, ",\n");
        }
        g_string_append(j, "    \"dirty-flag\": false\n}");
    }
    bdrv_snapshots_free(sn, nsn);
    g_ptr_array_free(keys, true);
    g_ptr_array_free(vals, true);
}

int img_info(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "output", required_argument, NULL, 'O' },
        { "backing-chain", no_argument, NULL, 'B' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL;
    bool json = false, chain = false;
    int c;
    while ((c = getopt_long(argc, argv, "f:U", lopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': break;
        case 'B': chain = true; break;
        case 'O':
            if (!strcmp(optarg, "json")) {
                json = true;
            } else if (strcmp(optarg, "human")) {
                img_die("--output must be used with human or json as "
                        "argument.");
            }
            break;
        default:
            return 1;
        }
    }
    if (optind != argc - 1) {
        img_die("Expecting one image file name");
    }
    GString *j = g_string_new(NULL);
    g_autofree char *file = g_strdup(argv[optind]);
    g_autofree char *f = g_strdup(fmt);
    GPtrArray *seen = g_ptr_array_new_with_free_func(g_free);
    for (int n = 0; file; n++) {
        BlockDriverState *bs = img_open(file, f, false, NULL, false, false);
        g_autofree char *key = g_strdup_printf("%lu:%lu", (unsigned long)bs->dev,
                                               (unsigned long)bs->ino);
        for (guint i = 0; i < seen->len; i++) {
            if (!strcmp(seen->pdata[i], key)) {
                img_die("Backing file '%s' creates an infinite loop", file);
            }
        }
        g_ptr_array_add(seen, g_strdup(key));
        if (json && chain) {
            g_string_append(j, n ? ",\n" : "[\n");
        } else if (!json && n) {
            printf("\n");
        }
        info_one(bs, json, j);
        g_free(file);
        g_free(f);
        file = f = NULL;
        if (chain && bs->backing_file) {
            file = bdrv_backing_path(bs, bs->backing_file);
            f = g_strdup(bs->backing_format);
            if (!f) {
                bdrv_close(bs);
                img_die("'%s' has no backing format recorded", file);
            }
        }
        bdrv_close(bs);
    }
    if (json) {
        printf("%s%s\n", j->str, chain ? "\n]" : "");
    }
    g_string_free(j, true);
    g_ptr_array_free(seen, true);
    return 0;
}

/* ---- check ---- */

static void print_check(BdrvCheckResult *r, bool json, const char *file,
                        const char *fmt)
{
    if (json) {
        printf("{\n    \"image-end-offset\": %" PRId64 ",\n    \"total-"
               "clusters\": %" PRId64 ",\n    \"check-errors\": %d,\n",
               r->image_end_offset, r->total_clusters, r->check_errors);
        if (r->leaks) {
            printf("    \"leaks\": %d,\n", r->leaks);
        }
        if (r->corruptions) {
            printf("    \"corruptions\": %d,\n", r->corruptions);
        }
        printf("    \"allocated-clusters\": %" PRId64 ",\n    \"filename\": "
               "\"%s\",\n    \"format\": \"%s\",\n    \"fragmented-clusters"
               "\": %" PRId64 "\n}\n", r->allocated_clusters, file, fmt,
               r->fragmented_clusters);
        return;
    }
    if (!r->corruptions && !r->leaks && !r->check_errors) {
        printf("No errors were found on the image.\n");
    }
    if (r->corruptions) {
        printf("\n%d errors were found on the image.\nData may be corrupted, "
               "or further writes to the image may corrupt it.\n",
               r->corruptions);
    }
    if (r->leaks) {
        printf("\n%d leaked clusters were found on the image.\nThis means "
               "waste of disk space, but no harm to data.\n", r->leaks);
    }
    if (r->check_errors) {
        printf("\n%d internal errors have occurred during the check.\n",
               r->check_errors);
    }
    if (r->total_clusters && r->allocated_clusters) {
        printf("%" PRId64 "/%" PRId64 " = %0.2f%% allocated, %0.2f%% "
               "fragmented, %0.2f%% compressed clusters\n",
               r->allocated_clusters, r->total_clusters,
               r->allocated_clusters * 100.0 / r->total_clusters,
               r->fragmented_clusters * 100.0 / r->allocated_clusters,
               r->compressed_clusters * 100.0 / r->allocated_clusters);
    }
    if (r->image_end_offset) {
        printf("Image end offset: %" PRId64 "\n", r->image_end_offset);
    }
}

int img_check(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "output", required_argument, NULL, 'O' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL;
    bool json = false, quiet = false;
    int fix = 0, c;
    while ((c = getopt_long(argc, argv, "f:r:qU", lopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'q': quiet = true; break;
        case 'U': break;
        case 'r':
            if (!strcmp(optarg, "leaks")) {
                fix = BDRV_FIX_LEAKS;
            } else if (!strcmp(optarg, "all")) {
                fix = BDRV_FIX_LEAKS | BDRV_FIX_ERRORS;
            } else {
                img_die("Unknown option value for -r (expecting 'leaks' or "
                        "'all'): %s", optarg);
            }
            break;
        case 'O':
            json = !strcmp(optarg, "json");
            if (!json && strcmp(optarg, "human")) {
                img_die("--output must be used with human or json as "
                        "argument.");
            }
            break;
        default:
            return 1;
        }
    }
    if (optind != argc - 1) {
        img_die("Expecting one image file name");
    }
    const char *file = argv[optind];
    BlockDriverState *bs = img_open(file, fmt, fix != 0, NULL, false, true);
    BdrvCheckResult r;
    if (!bs->drv->check) {
        fprintf(stderr, "This image format does not support checks\n");
        bdrv_close(bs);
        return 63;
    }
    int ret = bdrv_check(bs, &r, fix);
    if (fix && (r.corruptions_fixed || r.leaks_fixed)) {
        if (!quiet) {
            printf("The following inconsistencies were found and repaired:\n\n"
                   "    %d leaked clusters\n    %d corruptions\n\nDouble "
                   "checking the fixed image now...\n", r.leaks_fixed,
                   r.corruptions_fixed);
        }
        ret = bdrv_check(bs, &r, 0);
    }
    if (ret < 0 && !r.check_errors) {
        r.check_errors = 1;
    }
    if (!quiet) {
        print_check(&r, json, file, bs->drv->name);
    }
    bdrv_close(bs);
    if (r.check_errors) {
        return 1;
    }
    return r.corruptions ? 2 : r.leaks ? 3 : 0;
}

/* ---- map ---- */

typedef struct MapEntry {
    int64_t start, len, offset;
    int depth, flags;
    bool present, has_offset;
    BlockDriverState *file;
} MapEntry;

static void map_print(MapEntry *e, bool json, bool first)
{
    if (json) {
        printf("%s{ \"start\": %" PRId64 ", \"length\": %" PRId64 ", \"depth\": "
               "%d, \"present\": %s, \"zero\": %s, \"data\": %s", first ? "[" :
               ",\n", e->start, e->len, e->depth, e->present ? "true" : "false",
               (e->flags & BDRV_BLOCK_ZERO) ? "true" : "false",
               (e->flags & BDRV_BLOCK_DATA) ? "true" : "false");
        if (e->flags & BDRV_BLOCK_COMPRESSED) {
            printf(", \"compressed\": true");
        }
        if (e->has_offset) {
            printf(", \"offset\": %" PRId64, e->offset);
        }
        printf("}");
    } else if ((e->flags & BDRV_BLOCK_DATA) && e->has_offset) {
        printf("%#-16" PRIx64 "%#-16" PRIx64 "%#-16" PRIx64 "%s\n",
               e->start, e->len, e->offset, e->file->filename);
    }
}

int img_map(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "output", required_argument, NULL, 'O' },
        { NULL, 0, NULL, 0 },
    };
    const char *fmt = NULL;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "f:U", lopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': break;
        case 'O': json = !strcmp(optarg, "json"); break;
        default: return 1;
        }
    }
    if (optind != argc - 1) {
        img_die("Expecting one image file name");
    }
    BlockDriverState *bs = img_open(argv[optind], fmt, false, NULL, true, false);
    MapEntry cur = { 0 };
    bool have = false, first = true;
    if (!json) {
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    }
    for (int64_t off = 0; off < bs->size; ) {
        int64_t n, map = 0;
        int depth;
        int st = bdrv_block_status_above(bs, off, MIN(bs->size - off, 1 << 30),
                                         &n, &map, &depth);
        if (st < 0) {
            img_die("Could not read the mapping at offset %" PRId64 ": %s",
                    off, strerror(-st));
        }
        BlockDriverState *f = bs;
        for (int d = 0; d < depth && f->backing; d++) {
            f = f->backing;
        }
        MapEntry e = {
            .start = off, .len = n, .depth = depth,
            .flags = st & (BDRV_BLOCK_ZERO | BDRV_BLOCK_DATA | BDRV_BLOCK_COMPRESSED),
            .present = st & BDRV_BLOCK_ALLOCATED,
            .has_offset = st & BDRV_BLOCK_OFFSET, .offset = map, .file = f,
        };
        if (have && cur.flags == e.flags && cur.depth == e.depth &&
            cur.present == e.present && cur.has_offset == e.has_offset &&
            cur.file == e.file &&
            (!e.has_offset || cur.offset + cur.len == e.offset)) {
            cur.len += n;
        } else {
            if (have) {
                map_print(&cur, json, first);
                first = false;
            }
            cur = e;
            have = true;
        }
        off += n;
    }
    if (have) {
        map_print(&cur, json, first);
    }
    if (json) {
        printf(have ? "]\n" : "[]\n");
    }
    bdrv_close(bs);
    return 0;
}
