/*
 * -blockdev: QEMU's node syntax for the drivers kestrel has.  A node is
 * driver=file (an image file used as raw bytes), or driver=raw|qcow2 on a
 * file node, named (file=NODE) or inline (file.driver=file,
 * file.filename=...).  Every node becomes an if=none entry of the drive
 * table under its node-name, which -device ...,drive=NODE attaches; a file
 * node that is another node's file is opened by that node, not by itself.
 * Parsing only: images are opened with the -drive ones (drive_open_all).
 */
#include "block/drive.h"
#include "block/block_int.h"
#include "util/opts.h"

static const char *const file_keys[] = {
    "driver", "node-name", "filename", "read-only", "auto-read-only",
    "cache.direct", "cache.no-flush", "discard", "detect-zeroes",
    "force-share", "aio", "locking", NULL,
};

static const char *const format_keys[] = {
    "driver", "node-name", "file", "read-only", "auto-read-only",
    "cache.direct", "cache.no-flush", "discard", "detect-zeroes",
    "force-share", NULL,
};

/* What one node asked for; the inline file child is a node too. */
typedef struct Node {
    const char *driver, *name, *filename;
    bool read_only, direct, no_flush;
} Node;

static bool get_bool(GPtrArray *o, const char *key, bool *out, Error **errp)
{
    const char *v = opts_get(o, key);
    if (v && !opt_parse_bool(v, out)) {
        return error_fail(errp, "Parameter '%s' expects 'on' or 'off'", key);
    }
    return true;
}

/* The options every driver takes; the ones that change nothing here
 * (discard, detect-zeroes...) are only checked for a sane value. */
static bool parse_common(GPtrArray *o, Node *n, Error **errp)
{
    bool ignored;

    n->name = opts_get(o, "node-name");
    if (n->name && (strlen(n->name) > 31 ||
        !g_regex_match_simple("^[A-Za-z][A-Za-z0-9_.-]*$", n->name, 0, 0))) {
        return error_fail(errp,
                          "Invalid node-name: '%s' (a letter, then up to 30 "
                          "letters, digits, '-', '.', '_')", n->name);
    }
    static const struct {
        const char *key, *values[5];
    } choices[] = {
        { "discard", { "ignore", "off", "unmap", "on" } },
        { "detect-zeroes", { "off", "on", "unmap" } },
        { "aio", { "threads", "native", "io_uring" } },
        { "locking", { "auto", "on", "off" } },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(choices); i++) {
        const char *v = opts_get(o, choices[i].key);
        if (v && !g_strv_contains(choices[i].values, v)) {
            return error_fail(errp, "Parameter '%s' does not accept value "
                              "'%s'", choices[i].key, v);
        }
    }
    return get_bool(o, "read-only", &n->read_only, errp) &&
           get_bool(o, "auto-read-only", &ignored, errp) &&
           get_bool(o, "force-share", &ignored, errp) &&
           get_bool(o, "cache.direct", &n->direct, errp) &&
           get_bool(o, "cache.no-flush", &n->no_flush, errp);
}

static bool parse_file_node(GPtrArray *o, Node *n, Error **errp)
{
    if (!opts_check_keys(o, "driver=file", file_keys, errp) ||
        !parse_common(o, n, errp)) {
        return false;
    }
    n->filename = opts_get(o, "filename");
    if (!n->filename || !*n->filename) {
        return error_fail(errp, "Parameter 'filename' is missing");
    }
    return true;
}

static bool cache_mode(const Node *n, BlockCacheMode *mode, Error **errp)
{
    if (n->direct && n->no_flush) {
        return error_fail(errp, "cache.direct=on with cache.no-flush=on is not "
                          "supported");
    }
    *mode = n->direct ? BLOCK_CACHE_NONE :
            n->no_flush ? BLOCK_CACHE_UNSAFE : BLOCK_CACHE_WRITEBACK;
    return true;
}

/* Split o (borrowing its entries) into the node's own options and those
 * of its inline child ("file.*"). */
static void split_child_opts(GPtrArray *o, GPtrArray *own, GPtrArray *child)
{
    for (guint i = 0; i < o->len; i++) {
        Opt *e = g_ptr_array_index(o, i);
        g_ptr_array_add(g_str_has_prefix(e->key, "file.") ? child : own, e);
    }
}

static DriveInfo *add_node(const char *name, const char *optstr,
                           const Node *file, const char *format,
                           Error **errp)
{
    if (drive_get_by_id(name)) {
        error_fail(errp, "node-name '%s' is already in use", name);
        return NULL;
    }
    DriveInfo *d = drive_add_node(name, optstr);
    d->opts.filename = g_strdup(file->filename);
    d->opts.format = g_strdup(format);
    return d;
}

/* driver=raw|qcow2: its file, by name or inline. */
static bool parse_format_node(GPtrArray *o, Node *n, const char *optstr,
                              Error **errp)
{
    g_autoptr(GPtrArray) inl = g_ptr_array_new();
    g_autoptr(GPtrArray) top = g_ptr_array_new();
    const char *ref = opts_get(o, "file");
    DriveInfo *child = NULL;
    Node file = { 0 };
    g_autofree char *what = g_strdup_printf("driver=%s", n->driver);

    split_child_opts(o, top, inl);
    if (!opts_check_keys(top, what, format_keys, errp) ||
        !parse_common(top, n, errp)) {
        return false;
    }
    if (ref && inl->len) {
        return error_fail(errp,
                          "file=%s cannot be combined with file.* options",
                          ref);
    }
    if (ref) {
        child = drive_get_by_id(ref);
        if (!child || !child->node) {
            return error_fail(errp,
                              "Cannot find node '%s' (file= names an earlier "
                              "-blockdev node-name)", ref);
        }
        if (child->node_format) {
            return error_fail(errp, "node '%s' is a %s node: formats go on "
                              "driver=file nodes only", ref,
                              child->node_format);
        }
        if (child->claimed) {
            return error_fail(errp, "node '%s' is already in use%s%s%s", ref,
                              child->parent ? " by node '" : "",
                              child->parent ? child->parent : "",
                              child->parent ? "'" : "");
        }
        file.filename = child->opts.filename;
        file.read_only = child->opts.read_only;
        file.direct = child->opts.cache == BLOCK_CACHE_NONE;
        file.no_flush = child->opts.cache == BLOCK_CACHE_UNSAFE;
    } else if (inl->len) {
        /* The child inherits the parent's settings unless it sets its own. */
        g_autoptr(GPtrArray) c = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < inl->len; i++) {
            Opt *e = g_ptr_array_index(inl, i), *s = g_new(Opt, 1);
            s->key = e->key + 5;
            s->value = e->value;
            g_ptr_array_add(c, s);
        }
        file.read_only = n->read_only;
        file.direct = n->direct;
        file.no_flush = n->no_flush;
        const char *drv = opts_get(c, "driver");
        if (!drv) {
            return error_fail(errp, "Parameter 'file.driver' is missing");
        }
        if (strcmp(drv, "file")) {
            return error_fail(errp, "file.driver=%s: only driver=file can be a "
                              "format's file", drv);
        }
        if (!parse_file_node(c, &file, errp)) {
            return false;
        }
    } else {
        return error_fail(errp, "Parameter 'file' is missing");
    }
    if (file.read_only && !n->read_only) {
        return error_fail(errp, "node '%s' is read-only: the %s node needs "
                          "read-only=on", ref ? ref : "file", n->driver);
    }
    BlockCacheMode cache = BLOCK_CACHE_WRITEBACK;
    if (!cache_mode(&file, &cache, errp)) {
        return false;
    }
    if (file.name && !strcmp(file.name, n->name)) {
        return error_fail(errp, "node-name '%s' is already in use", n->name);
    }
    if (file.name && drive_get_by_id(file.name)) {
        return error_fail(errp, "node-name '%s' is already in use", file.name);
    }
    DriveInfo *d = add_node(n->name, optstr, &file, n->driver, errp);
    if (!d) {
        return false;
    }
    d->opts.read_only = n->read_only;
    d->opts.cache = cache;
    d->node_format = n->driver;
    if (file.name) {
        /* Named, so it can be referred to, but opened by its parent. */
        child = add_node(file.name, optstr, &file, "raw", errp);
        if (!child) {
            return false;
        }
        child->opts.cache = cache;
    }
    if (child) {
        child->claimed = true;
        child->parent = d->id;
    }
    return true;
}

bool blockdev_add(const char *optstr, Error **errp)
{
    if (optstr[0] == '{') {
        return error_fail(errp,
                          "the JSON form of -blockdev is not supported (use "
                          "key=value,...)");
    }
    /* "file,node-name=..." is driver=file, as in QEMU. */
    g_autoptr(GPtrArray) o = opts_parse(optstr, "driver", errp);
    if (!o) {
        return false;
    }
    Node n = { 0 };
    n.driver = opts_get(o, "driver");
    if (!n.driver) {
        return error_fail(errp, "Parameter 'driver' is missing");
    }
    if (!opts_get(o, "node-name")) {
        return error_fail(errp, "Parameter 'node-name' is missing (-device "
                          "drive= refers to it)");
    }
    if (!strcmp(n.driver, "file")) {
        BlockCacheMode cache = BLOCK_CACHE_WRITEBACK;
        if (!parse_file_node(o, &n, errp) || !cache_mode(&n, &cache, errp)) {
            return false;
        }
        DriveInfo *d = add_node(n.name, optstr, &n, "raw", errp);
        if (d) {
            d->opts.read_only = n.read_only;
            d->opts.cache = cache;
        }
        return d != NULL;
    }
    if (!strcmp(n.driver, "raw") || !strcmp(n.driver, "qcow2")) {
        n.driver = !strcmp(n.driver, "raw") ? "raw" : "qcow2";
        return parse_format_node(o, &n, optstr, errp);
    }
    return error_fail(errp,
                      "Invalid parameter value for 'driver': '%s' (kestrel "
                      "has file, raw and qcow2)", n.driver);
}
