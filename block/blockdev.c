/*
 * -blockdev and QMP blockdev-add/blockdev-del: QEMU's node options for the
 * drivers kestrel has.  A node is
 *   file      filename=F: an image file as raw bytes
 *   null-co   size=N (1 GiB), read-zeroes=on|off: no file (block/null.c)
 *   raw|qcow2 file=NODE or file.driver=...: a format on a file or null-co
 *             node, or on a blkdebug node over one; qcow2 also
 *             backing=NODE (an open node instead of the image's backing
 *             file, shared with its other users) or backing=null (none)
 *   blkdebug  config=FILE, align=N, image=NODE or image.driver=...: error
 *             injection over a file, null-co, raw or qcow2 node
 * The child (file, image) is an earlier node by name or is given inline
 * ("file.filename=F"; QMP's nested object), and inherits the parent's
 * read-only, cache and discard settings unless it sets its own.
 *
 * kestrel opens a chain as one unit: the format driver on the host file,
 * with blkdebug on top of the format (block/blkdebug.c says why).  So a
 * node becomes one if=none entry of the drive table under its node-name
 * (-device ...,drive=NODE attaches it) with the open options of its whole
 * chain, and a child node is opened by its parent, not by itself: it is
 * claimed (no device can have it) until the parent goes.  Before the
 * machine starts the entries are opened with the -drive ones
 * (drive_open_all); afterwards (blockdev-add) at once.
 *
 * -drive's file.* options (file=null-co://,file.size=..., or
 * file=blkdebug::IMAGE,file.align=...,file.image.read-zeroes=...) are the
 * options of the protocol node file= names; they are checked here too.
 */
#include "block/drive.h"
#include "block/block_int.h"
#include "monitor/module.h"
#include "util/opts.h"

/* Every driver takes these. */
#define COMMON_KEYS "driver", "node-name", "read-only", "auto-read-only", \
    "cache.direct", "cache.no-flush", "discard", "detect-zeroes", \
    "force-share"

static const struct {
    const char *name;
    const char *keys[16];
    const char *child;          /* the child's key, NULL: none */
} drivers[] = {
    { "file", { COMMON_KEYS, "filename", "aio", "locking" } },
    { "null-co", { COMMON_KEYS, "size", "read-zeroes" } },
    { "raw", { COMMON_KEYS, "file" }, "file" },
    { "qcow2", { COMMON_KEYS, "file", "backing" }, "file" },
    { "blkdebug", { COMMON_KEYS, "image", "config", "align" }, "image" },
};

/* A node as parsed, and what opening it means (its whole chain). */
typedef struct Node {
    int drv;                    /* index in drivers[] */
    const char *name;
    bool read_only, direct, no_flush, unmap;
    BlockOpenOptions open;      /* filename, format, blkdebug, null-co */
    const char *backing;        /* backing=NODE, in the chain */
    DriveInfo *ref;             /* the child, an existing node */
    struct Node *child;         /* the child, inline */
} Node;

static void node_free(Node *n)
{
    if (n) {
        node_free(n->child);
        g_free(n);
    }
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Node, node_free)

static int find_driver(const char *name)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(drivers); i++) {
        if (!strcmp(drivers[i].name, name)) {
            return i;
        }
    }
    return -1;
}

static bool is_protocol(const char *drv)
{
    return !strcmp(drv, "file") || !strcmp(drv, "null-co");
}

/*
 * What kestrel opens as one chain: a format on a file or null-co node, or
 * on a blkdebug node over one of those (blkdebug then goes on top of the
 * format); blkdebug on any chain that has no blkdebug yet.
 */
static bool can_stack(const char *drv, const char *child_drv,
                      const BlockOpenOptions *child)
{
    if (!strcmp(drv, "blkdebug")) {
        return !child->blkdebug_config;
    }
    return is_protocol(child_drv) ||
           (child->blkdebug_config && !strcmp(child->format, "raw"));
}

static bool get_bool(GPtrArray *o, const char *pre, const char *key,
                     bool *out, Error **errp)
{
    const char *v = opts_get(o, key);
    if (v && !opt_parse_bool(v, out)) {
        return error_fail(errp, "Parameter '%s%s' expects 'on' or 'off'", pre,
                          key);
    }
    return true;
}

/* The options every driver takes; the ones that change nothing here
 * (detect-zeroes...) are only checked for a sane value. */
static bool parse_common(GPtrArray *o, const char *pre, Node *n,
                         Error **errp)
{
    static const struct {
        const char *key, *values[5];
    } choices[] = {
        { "discard", { "ignore", "off", "unmap", "on" } },
        { "detect-zeroes", { "off", "on", "unmap" } },
        { "aio", { "threads", "native", "io_uring" } },
        { "locking", { "auto", "on", "off" } },
    };
    const char *v;
    bool ignored;

    n->name = opts_get(o, "node-name");
    if (n->name && (strlen(n->name) > 31 ||
        !g_regex_match_simple("^[A-Za-z][A-Za-z0-9_.-]*$", n->name, 0, 0))) {
        return error_fail(errp,
                          "Invalid node-name: '%s' (a letter, then up to 30 "
                          "letters, digits, '-', '.', '_')", n->name);
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(choices); i++) {
        v = opts_get(o, choices[i].key);
        if (v && !g_strv_contains(choices[i].values, v)) {
            return error_fail(errp, "Parameter '%s%s' does not accept value "
                              "'%s'", pre, choices[i].key, v);
        }
    }
    if ((v = opts_get(o, "discard"))) {
        n->unmap = !strcmp(v, "unmap") || !strcmp(v, "on");
    }
    return get_bool(o, pre, "read-only", &n->read_only, errp) &&
           get_bool(o, pre, "auto-read-only", &ignored, errp) &&
           get_bool(o, pre, "force-share", &ignored, errp) &&
           get_bool(o, pre, "cache.direct", &n->direct, errp) &&
           get_bool(o, pre, "cache.no-flush", &n->no_flush, errp);
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

static bool parse_node(GPtrArray *o, const char *pre, Node *n, Error **errp);

/*
 * A qcow2 node's backing: an existing node that has its own image open
 * (the overlay shares it with the node's other users, a device among
 * them), or null ("", as QEMU's key=value syntax says it): none, whatever
 * the image names.  Without the key, the image's backing file.
 */
static bool parse_backing(GPtrArray *own, const char *pre, Node *n,
                          Error **errp)
{
    const char *ref = opts_get(own, "backing");
    DriveInfo *b = ref && *ref ? drive_get_by_id(ref) : NULL;

    if (!ref) {
        return true;
    }
    if (!*ref) {
        n->open.no_backing = true;
        return true;
    }
    if (!b) {
        return error_fail(errp, "Could not open backing file: Cannot find "
                          "device='%s' nor node-name='%s'", ref, ref);
    }
    if (!b->node) {
        return error_fail(errp, "%sbacking=%s: a -drive cannot be a backing "
                          "node in kestrel, only a -blockdev node", pre, ref);
    }
    if (b->parent) {
        return error_fail(errp, "%sbacking=%s: node '%s' is opened by node "
                          "'%s' and has no image of its own to share", pre,
                          ref, ref, b->parent);
    }
    n->backing = ref;
    return true;
}

/* The child of a raw, qcow2 or blkdebug node: by name or inline. */
static bool parse_child(GPtrArray *own, GPtrArray *inl, const char *pre,
                        Node *n, Error **errp)
{
    const char *key = drivers[n->drv].child;
    const char *ref = opts_get(own, key);
    const char *drv = drivers[n->drv].name;
    const char *child_drv;

    if (ref && inl->len) {
        return error_fail(errp, "%s%s=%s cannot be combined with %s%s.* "
                          "options", pre, key, ref, pre, key);
    }
    if (ref) {
        DriveInfo *c = drive_get_by_id(ref);
        if (!c || !c->node) {
            return error_fail(errp, "Cannot find device='%s' nor "
                              "node-name='%s'", ref, ref);
        }
        if (c->claimed) {
            return error_fail(errp, "node '%s' is already in use%s%s%s", ref,
                              c->parent ? " by node '" : "",
                              c->parent ? c->parent : "",
                              c->parent ? "'" : "");
        }
        DriveInfo *user = drive_backing_user(ref);
        if (user) {
            return error_fail(errp, "node '%s' is the backing node of '%s'",
                              ref, user->id);
        }
        n->ref = c;
        child_drv = c->node_format;
        n->open = c->opts;
        n->backing = c->backing;
        if (c->opts.read_only && !n->read_only) {
            return error_fail(errp, "node '%s' is read-only: the %s node "
                              "needs read-only=on", ref, drv);
        }
        n->unmap = n->unmap && c->opts.discard_unmap;
    } else if (inl->len) {
        /* The child inherits the parent's settings unless it sets its own. */
        g_autoptr(GPtrArray) c = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *cpre = g_strdup_printf("%s%s.", pre, key);
        for (guint i = 0; i < inl->len; i++) {
            Opt *e = g_ptr_array_index(inl, i), *s = g_new(Opt, 1);
            s->key = e->key + strlen(key) + 1;
            s->value = e->value;
            g_ptr_array_add(c, s);
        }
        n->child = g_new0(Node, 1);
        n->child->read_only = n->read_only;
        n->child->direct = n->direct;
        n->child->no_flush = n->no_flush;
        n->child->unmap = n->unmap;
        if (!parse_node(c, cpre, n->child, errp)) {
            return false;
        }
        if (n->child->read_only && !n->read_only) {
            return error_fail(errp, "%sread-only=on: the %s node needs "
                              "read-only=on", cpre, drv);
        }
        child_drv = drivers[n->child->drv].name;
        n->open = n->child->open;
        n->backing = n->child->backing;
        n->unmap = n->unmap && n->child->unmap;
    } else {
        return error_fail(errp, "Parameter '%s%s' is missing", pre, key);
    }
    if (!can_stack(drv, child_drv, &n->open)) {
        return error_fail(errp, "%s%s: a %s node cannot go on a %s node "
                          "(kestrel stacks formats on file or null-co nodes, "
                          "and one blkdebug on those or on a format)", pre,
                          key, drv, child_drv);
    }
    if (!strcmp(drv, "blkdebug")) {
        const char *config = opts_get(own, "config");
        const char *align = opts_get(own, "align");
        uint64_t a = 0;
        n->open.blkdebug_config = config ? config : "";
        if (align && !parse_size(align, 'B', &a)) {
            return error_fail(errp, "Parameter '%salign' expects a size in "
                              "bytes", pre);
        }
        if (!blkdebug_align_ok(a)) {
            return error_fail(errp, "Cannot meet constraints with align "
                              "%" PRIu64 " (%salign: a power of two up to "
                              "1G)", a, pre);
        }
        n->open.blkdebug_align = a;
        return true;
    }
    n->open.format = drv;
    return !strcmp(drv, "qcow2") ? parse_backing(own, pre, n, errp) : true;
}

/* One node's options (o: its own and its inline child's, pre: how
 * messages name them). */
static bool parse_node(GPtrArray *o, const char *pre, Node *n, Error **errp)
{
    const char *drv = opts_get(o, "driver");
    g_autoptr(GPtrArray) own = g_ptr_array_new();
    g_autoptr(GPtrArray) inl = g_ptr_array_new();
    const char *v;

    if (!drv) {
        return error_fail(errp, "Parameter '%sdriver' is missing", pre);
    }
    n->drv = find_driver(drv);
    if (n->drv < 0) {
        return error_fail(errp, "Parameter '%sdriver' does not accept value "
                          "'%s' (kestrel has file, null-co, raw, qcow2 and "
                          "blkdebug)", pre, drv);
    }
    const char *child = drivers[n->drv].child;
    for (guint i = 0; i < o->len; i++) {
        Opt *e = g_ptr_array_index(o, i);
        bool inline_key = child && g_str_has_prefix(e->key, child) &&
                          e->key[strlen(child)] == '.';
        g_ptr_array_add(inline_key ? inl : own, e);
    }
    for (guint i = 0; i < own->len; i++) {
        Opt *e = g_ptr_array_index(own, i);
        if (g_str_has_prefix(e->key, "backing.") && !strcmp(drv, "qcow2")) {
            return error_fail(errp, "Parameter '%s%s': kestrel takes backing "
                              "as an existing node's name or null, not a new "
                              "node", pre, e->key);
        }
        if (!g_strv_contains(drivers[n->drv].keys, e->key)) {
            return error_fail(errp, "Parameter '%s%s' is unexpected", pre,
                              e->key);
        }
    }
    if (!parse_common(own, pre, n, errp)) {
        return false;
    }
    n->open.read_only = n->read_only;
    n->open.discard_unmap = n->unmap;
    if (!strcmp(drv, "file")) {
        n->open.filename = opts_get(own, "filename");
        n->open.format = "raw";
        if (!n->open.filename || !*n->open.filename) {
            return error_fail(errp, "Parameter '%sfilename' is missing", pre);
        }
        return cache_mode(n, &n->open.cache, errp);
    }
    if (!strcmp(drv, "null-co")) {
        n->open.filename = NULL_CO_FILENAME;
        n->open.format = "raw";
        n->open.null_size = 1 * GiB;
        if ((v = opts_get(own, "size")) &&
            (!parse_size(v, 'B', &n->open.null_size) ||
             n->open.null_size > INT64_MAX)) {
            return error_fail(errp, "Parameter '%ssize' expects a size in "
                              "bytes (at most 2^63 - 1)", pre);
        }
        return get_bool(own, pre, "read-zeroes", &n->open.null_read_zeroes,
                        errp) && cache_mode(n, &n->open.cache, errp);
    }
    if (!parse_child(own, inl, pre, n, errp)) {
        return false;
    }
    n->open.read_only = n->read_only;
    n->open.discard_unmap = n->unmap;
    return true;
}

static bool name_free(const char *name, Error **errp)
{
    DriveInfo *d = drive_get_by_id(name);
    if (d && !d->node) {
        return error_fail(errp, "node-name=%s is conflicting with a device "
                          "id", name);
    }
    if (d || drive_id_taken(name)) {
        return error_fail(errp, "Duplicate nodes with node-name='%s'", name);
    }
    return true;
}

static DriveInfo *new_entry(const Node *n, const char *optstr)
{
    DriveInfo *d = drive_new_node(n->name, optstr);
    d->node_format = drivers[n->drv].name;
    d->backing = g_strdup(n->backing);
    d->opts = n->open;
    d->opts.filename = g_strdup(n->open.filename);
    d->opts.format = g_strdup(n->open.format);
    d->opts.blkdebug_config = g_strdup(n->open.blkdebug_config);
    return d;
}

/* A child entry is opened by its parent: no backend of its own. */
static void adopt(DriveInfo *child, DriveInfo *parent)
{
    child->claimed = true;
    child->parent = parent->id;
    if (child->blk) {
        blk_unref(child->blk);
        child->blk = NULL;
    }
}

bool blockdev_add_opts(GPtrArray *o, const char *optstr, Error **errp)
{
    g_autoptr(Node) n = g_new0(Node, 1);

    if (!opts_get(o, "driver")) {
        return error_fail(errp, "Parameter 'driver' is missing");
    }
    if (!opts_get(o, "node-name")) {
        return error_fail(errp, "'node-name' must be specified for the root "
                          "node");
    }
    if (!parse_node(o, "", n, errp)) {
        return false;
    }
    const char *names[4] = { n->name };
    int count = 1;
    for (Node *c = n->child; c; c = c->child) {
        if (c->name) {
            for (int i = 0; i < count; i++) {
                if (!strcmp(names[i], c->name)) {
                    return error_fail(errp, "Duplicate nodes with "
                                      "node-name='%s'", c->name);
                }
            }
            if (count == G_N_ELEMENTS(names)) {
                return error_fail(errp, "too many nested nodes");
            }
            names[count++] = c->name;
        }
    }
    for (int i = 0; i < count; i++) {
        if (!name_free(names[i], errp)) {
            return false;
        }
    }
    DriveInfo *d = new_entry(n, optstr);
    if (drive_started() && !drive_open(d, errp)) {
        drive_free(d);
        return false;
    }
    drive_insert(d);
    DriveInfo *ref = NULL;
    for (Node *c = n; c; c = c->child) {
        if (c != n && c->name) {
            DriveInfo *e = new_entry(c, optstr);
            e->inline_child = true;
            drive_insert(e);
            adopt(e, d);
        }
        ref = c->ref ? c->ref : ref;
    }
    if (ref) {
        adopt(ref, d);
    }
    return true;
}

bool blockdev_add(const char *optstr, Error **errp)
{
    if (optstr[0] == '{') {
        const MonitorModuleOps *ops = monitor_module_load(errp);
        return ops && ops->blockdev_add_json(optstr, errp);
    }
    /* "file,node-name=..." is driver=file, as in QEMU. */
    g_autoptr(GPtrArray) o = opts_parse(optstr, "driver", errp);
    return o && blockdev_add_opts(o, optstr, errp);
}

bool blockdev_del(const char *name, Error **errp)
{
    DriveInfo *d = drive_get_by_id(name);

    if (!d || !d->node) {
        return error_fail(errp, "Failed to find node with node-name='%s'",
                          name);
    }
    if (d->parent) {
        return error_fail(errp, "Block device %s is in use", name);
    }
    if (d->claimed) {
        return error_fail(errp, "Node %s is in use", name);
    }
    DriveInfo *user = drive_backing_user(name);
    if (user) {
        return error_fail(errp, "Node '%s' is busy: node is used as backing "
                          "hd of '%s'", name, user->id);
    }
    drive_remove_node(d);
    return true;
}

/* ---- -drive file=PROTOCOL,file.KEY=... ---- */

static void add_opt(GPtrArray *o, const char *pre, const char *key,
                    const char *value)
{
    Opt *e = g_new(Opt, 1);
    e->key = g_strconcat(pre, key, NULL);
    e->value = (char *)value;         /* not owned */
    g_ptr_array_add(o, e);
}

static void free_added(gpointer p)
{
    Opt *e = p;
    g_free(e->key);
    g_free(e);
}

/*
 * The options filename stands for, under prefix pre ("", "image.", ...);
 * strings that out holds are kept in keep.
 */
static bool implied_opts(const char *filename, const char *pre,
                         GPtrArray *out, GPtrArray *keep, Error **errp)
{
    if (g_str_has_prefix(filename, NULL_CO_FILENAME)) {
        add_opt(out, pre, "driver", "null-co");
        return true;
    }
    if (!g_str_has_prefix(filename, "blkdebug:")) {
        add_opt(out, pre, "driver", "file");
        add_opt(out, pre, "filename", filename);
        return true;
    }
    const char *config = filename + strlen("blkdebug:");
    const char *image = strchr(config, ':');
    if (!image || !image[1]) {
        return error_fail(errp, "blkdebug requires both config file and "
                          "image path (blkdebug:[CONFIG]:IMAGE)");
    }
    char *conf = g_strndup(config, image - config);
    char *ipre = g_strconcat(pre, "image.", NULL);
    g_ptr_array_add(keep, conf);
    g_ptr_array_add(keep, ipre);
    add_opt(out, pre, "driver", "blkdebug");
    add_opt(out, pre, "config", conf);
    return implied_opts(image + 1, ipre, out, keep, errp);
}

/* Which options -drive takes for its protocol nodes: each driver's own;
 * the rest (read-only, cache...) are the drive's.  o: the implied ones. */
static bool drive_file_key_ok(GPtrArray *o, const char *key, Error **errp)
{
    static const struct {
        const char *driver, *keys[3];
    } own[] = {
        { "file", { "aio", "locking" } },
        { "null-co", { "size", "read-zeroes" } },
        { "blkdebug", { "align" } },
    };
    g_autofree char *dkey = g_strdup("driver");
    const char *rest = key;
    const char *drv;

    /* Down the blkdebug nodes to the one the key is for. */
    while (!strcmp(drv = opts_get(o, dkey), "blkdebug") &&
           g_str_has_prefix(rest, "image.")) {
        char *next = g_strconcat("image.", dkey, NULL);
        g_free(dkey);
        dkey = next;
        rest += strlen("image.");
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(own); i++) {
        if (!strcmp(own[i].driver, drv) &&
            g_strv_contains(own[i].keys, rest)) {
            return true;
        }
    }
    if (g_strv_contains(drivers[find_driver(drv)].keys, rest) ||
        g_str_has_prefix(rest, "cache.") || !strcmp(rest, "image")) {
        return error_fail(errp, "Parameter 'file.%s': kestrel takes it from "
                          "file= or from the drive's own options", key);
    }
    return error_fail(errp, "Block protocol '%s' doesn't support the option "
                      "'%s'", drv, rest);
}

bool blockdev_drive_file_opts(const char *filename, GPtrArray *file_opts,
                              BlockOpenOptions *open, Error **errp)
{
    g_autoptr(GPtrArray) o = g_ptr_array_new_with_free_func(free_added);
    g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(Node) n = g_new0(Node, 1);

    if (!file_opts->len) {
        return true;
    }
    if (!implied_opts(filename, "", o, keep, errp)) {
        return false;
    }
    for (guint i = 0; i < file_opts->len; i++) {
        Opt *e = g_ptr_array_index(file_opts, i);
        if (!drive_file_key_ok(o, e->key, errp)) {
            return false;
        }
        add_opt(o, "", e->key, e->value);
    }
    if (!parse_node(o, "file.", n, errp)) {
        return false;
    }
    open->null_size = n->open.null_size;
    open->null_read_zeroes = n->open.null_read_zeroes;
    open->blkdebug_align = n->open.blkdebug_align;
    return true;
}
