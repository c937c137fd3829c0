/*
 * Drives and block nodes from the monitor, in QEMU's shapes (docs/block.md):
 * query-block and HMP info block (every backend with a name or a device),
 * query-named-block-nodes, blockdev-add and blockdev-del (QMP's nested
 * options flattened to -blockdev's "file.driver=" keys for block/blockdev.c,
 * which also takes -blockdev's JSON form from here), and HMP drive_add and
 * drive_del.
 */
#include "monitor/monitor-internal.h"
#include "block/block_int.h"
#include "block/drive.h"
#include "hw/qdev.h"
#include "util/opts.h"
#include <sys/stat.h>

/* ---- query-block, query-named-block-nodes, info block ---- */

/* The device whose drive property holds blk, if any. */
static DeviceState *device_of(BlockBackend *blk)
{
    GPtrArray *devs = device_list();

    for (guint i = 0; i < devs->len; i++) {
        DeviceState *dev = g_ptr_array_index(devs, i);
        for (const Property *p = dev->klass->props; p && p->name; p++) {
            if (p->type == PROP_DRIVE &&
                *(BlockBackend **)((char *)dev + p->offset) == blk) {
                return dev;
            }
        }
    }
    return NULL;
}

/* QEMU's ImageInfo: the image, its format's details, its backing chain. */
static JsonObject *image_info(BlockDriverState *bs)
{
    JsonObject *o = json_object_new();
    BlockDriverState *img = bs->filtered ? bs->filtered : bs;
    struct stat st;

    json_object_set_string_member(o, "filename", bs->filename);
    json_object_set_string_member(o, "format", img->drv->name);
    json_object_set_int_member(o, "virtual-size", bs->size);
    if (img->drv == &bdrv_null_co) {
        json_object_set_int_member(o, "actual-size", 0);
    } else if (!bs->filtered) {
        if (stat(bs->filename, &st) == 0) {
            json_object_set_int_member(o, "actual-size",
                                       (int64_t)st.st_blocks * 512);
        }
        json_object_set_boolean_member(o, "dirty-flag", false);
    }
    if (bdrv_cluster_size(img)) {
        json_object_set_int_member(o, "cluster-size", bdrv_cluster_size(img));
    }
    if (img->drv->get_info) {
        g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) vals = g_ptr_array_new_with_free_func(g_free);
        JsonObject *data = json_object_new(), *fs = json_object_new();
        img->drv->get_info(img, keys, vals);
        for (guint i = 0; i < keys->len; i++) {
            g_autofree char *k = g_strdelimit(g_strdup(keys->pdata[i]), " ",
                                              '-');
            const char *v = vals->pdata[i];
            if (!strcmp(v, "true") || !strcmp(v, "false")) {
                json_object_set_boolean_member(data, k, v[0] == 't');
            } else if (g_ascii_isdigit(v[0]) && !strchr(v, '.')) {
                json_object_set_int_member(data, k, g_ascii_strtoll(v, NULL,
                                                                     10));
            } else {
                json_object_set_string_member(data, k, v);
            }
        }
        json_object_set_string_member(fs, "type", img->drv->name);
        json_object_set_object_member(fs, "data", data);
        json_object_set_object_member(o, "format-specific", fs);
    }
    BdrvSnapshot *sn = NULL;
    int nsn = img->drv->snapshot_list ? img->drv->snapshot_list(img, &sn) : 0;
    if (nsn > 0) {
        JsonArray *list = json_array_new();
        for (int i = 0; i < nsn; i++) {
            JsonObject *s = json_object_new();
            json_object_set_string_member(s, "id", sn[i].id);
            json_object_set_string_member(s, "name", sn[i].name);
            json_object_set_int_member(s, "vm-state-size",
                                       sn[i].vm_state_size);
            json_object_set_int_member(s, "date-sec", sn[i].date_sec);
            json_object_set_int_member(s, "date-nsec", sn[i].date_nsec);
            json_object_set_int_member(s, "vm-clock-sec",
                                       sn[i].vm_clock_nsec / 1000000000);
            json_object_set_int_member(s, "vm-clock-nsec",
                                       sn[i].vm_clock_nsec % 1000000000);
            if (sn[i].has_icount) {
                json_object_set_int_member(s, "icount", sn[i].icount);
            }
            json_array_add_object_element(list, s);
        }
        json_object_set_array_member(o, "snapshots", list);
    }
    bdrv_snapshots_free(sn, MAX(nsn, 0));
    if (img->backing_file) {
        g_autofree char *full = bdrv_backing_path(img, img->backing_file);
        json_object_set_string_member(o, "backing-filename",
                                      img->backing_file);
        json_object_set_string_member(o, "full-backing-filename", full);
        if (img->backing_format) {
            json_object_set_string_member(o, "backing-filename-format",
                                          img->backing_format);
        }
    }
    if (img->backing) {
        json_object_set_object_member(o, "backing-image",
                                      image_info(img->backing));
    }
    return o;
}

/* QEMU's BlockDeviceInfo: a node with a medium and how it is used. */
static JsonObject *node_info(BlockBackend *blk, const char *node_name)
{
    static const char *const zero_members[] = {
        "bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr",
        "write_threshold",
    };
    BlockDriverState *bs = blk_bs(blk);
    BlockDriverState *img = bs->filtered ? bs->filtered : bs;
    JsonObject *o = json_object_new(), *cache = json_object_new();
    int depth = 0;

    for (BlockDriverState *b = img->backing; b; b = b->backing) {
        depth++;
    }
    json_object_set_string_member(o, "file", bs->filename);
    json_object_set_string_member(o, "node-name", node_name);
    json_object_set_boolean_member(o, "ro", blk_is_read_only(blk));
    json_object_set_string_member(o, "drv", img->drv->name);
    /* As QEMU: the backing in use (a node given at blockdev-add, or the
     * file the image names), none with backing=null. */
    if (img->backing) {
        json_object_set_string_member(o, "backing_file",
                                      img->backing_node ?
                                      img->backing->filename :
                                      img->backing_file);
    }
    json_object_set_int_member(o, "backing_file_depth", depth);
    json_object_set_boolean_member(o, "encrypted", false);
    json_object_set_string_member(o, "detect_zeroes", "off");
    for (unsigned i = 0; i < G_N_ELEMENTS(zero_members); i++) {
        json_object_set_int_member(o, zero_members[i], 0);
    }
    json_object_set_object_member(o, "image", image_info(bs));
    json_object_set_boolean_member(cache, "writeback",
                                   blk_enable_write_cache(blk) &&
                                   bs->cache != BLOCK_CACHE_WRITETHROUGH &&
                                   bs->cache != BLOCK_CACHE_DIRECTSYNC);
    json_object_set_boolean_member(cache, "direct",
                                   bs->cache == BLOCK_CACHE_NONE ||
                                   bs->cache == BLOCK_CACHE_DIRECTSYNC);
    json_object_set_boolean_member(cache, "no-flush",
                                   bs->cache == BLOCK_CACHE_UNSAFE);
    json_object_set_object_member(o, "cache", cache);
    return o;
}

static const char *node_name_of(BlockBackend *blk, DriveInfo *d)
{
    return d && d->node ? d->id : blk_node_name(blk);
}

/* QEMU's BlockInfo of a backend that has a name or a device; else NULL. */
static JsonObject *block_info(BlockBackend *blk)
{
    static const char *const io_status[] = {
        [BLOCK_IO_STATUS_OK] = "ok", [BLOCK_IO_STATUS_FAILED] = "failed",
        [BLOCK_IO_STATUS_NOSPACE] = "nospace",
    };
    DriveInfo *d = drive_get_by_blk(blk);
    DeviceState *dev = device_of(blk);
    JsonObject *o;

    if ((!d || d->node) && !dev) {
        return NULL;
    }
    o = json_object_new();
    json_object_set_string_member(o, "device", d && !d->node ? d->id : "");
    if (dev) {
        g_autofree char *path = dev->id ? g_strdup(dev->id)
                                        : qom_device_path(dev);
        json_object_set_string_member(o, "qdev", path ? path : "");
    }
    json_object_set_string_member(o, "type", "unknown");
    json_object_set_boolean_member(o, "removable",
                                   !dev || blk_dev_has_tray(blk));
    json_object_set_boolean_member(o, "locked",
                                   blk_dev_is_medium_locked(blk));
    if (dev && blk_dev_has_tray(blk)) {
        json_object_set_boolean_member(o, "tray_open",
                                       blk_dev_is_tray_open(blk));
    }
    if (blk_iostatus_is_enabled(blk)) {
        json_object_set_string_member(o, "io-status",
                                      io_status[blk_iostatus(blk)]);
    }
    if (blk_is_inserted(blk)) {
        json_object_set_object_member(o, "inserted",
                                      node_info(blk, node_name_of(blk, d)));
    }
    return o;
}

/* The drives first, then the nameless backends of devices (QEMU creates
 * those when the device is, after every -drive). */
static JsonNode *qmp_query_block(JsonObject *args, Error **errp)
{
    JsonArray *list = json_array_new();

    for (int named = 1; named >= 0; named--) {
        for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
            DriveInfo *d = drive_get_by_blk(blk);
            JsonObject *info = (d && !d->node) == named ? block_info(blk)
                                                        : NULL;
            if (info) {
                json_array_add_object_element(list, info);
            }
        }
    }
    return json_node_new_array_take(list);
}

/* The nodes kestrel opened: each drive's and -blockdev node's image (a
 * node opened by its parent is part of the parent's image). */
static JsonNode *qmp_query_named_block_nodes(JsonObject *args, Error **errp)
{
    JsonArray *list = json_array_new();

    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        DriveInfo *d = drive_get_by_blk(blk);
        if (blk_is_inserted(blk) && (d || device_of(blk))) {
            json_array_add_object_element(list,
                node_info(blk, node_name_of(blk, d)));
        }
    }
    return json_node_new_array_take(list);
}

static const QmpArg block_info_members[] = {
    { "device", QMP_ARG_STRING }, { "qdev", QMP_ARG_STRING, true },
    { "type", QMP_ARG_STRING }, { "removable", QMP_ARG_BOOL },
    { "locked", QMP_ARG_BOOL }, { "tray_open", QMP_ARG_BOOL, true },
    { "io-status", QMP_ARG_STRING, true },
    { "inserted", QMP_ARG_OBJECT, true }, { NULL },
};
static const QmpArg node_info_members[] = {
    { "file", QMP_ARG_STRING }, { "node-name", QMP_ARG_STRING },
    { "ro", QMP_ARG_BOOL }, { "drv", QMP_ARG_STRING },
    { "backing_file", QMP_ARG_STRING, true },
    { "backing_file_depth", QMP_ARG_INT }, { "encrypted", QMP_ARG_BOOL },
    { "detect_zeroes", QMP_ARG_STRING }, { "bps", QMP_ARG_INT },
    { "bps_rd", QMP_ARG_INT }, { "bps_wr", QMP_ARG_INT },
    { "iops", QMP_ARG_INT }, { "iops_rd", QMP_ARG_INT },
    { "iops_wr", QMP_ARG_INT }, { "image", QMP_ARG_OBJECT },
    { "cache", QMP_ARG_OBJECT }, { "write_threshold", QMP_ARG_INT },
    { NULL },
};
static const QmpCommand query_block_cmd = {
    "query-block", qmp_query_block,
    .ret = QMP_RET_ARRAY, .ret_members = block_info_members,
};
static const QmpCommand query_named_block_nodes_cmd = {
    "query-named-block-nodes", qmp_query_named_block_nodes,
    { { "flat", QMP_ARG_BOOL, true } },
    .ret = QMP_RET_ARRAY, .ret_members = node_info_members,
};
QMP_COMMAND_REGISTER(query_block_cmd)
QMP_COMMAND_REGISTER(query_named_block_nodes_cmd)

static const char *json_str(JsonObject *o, const char *member)
{
    return json_object_has_member(o, member)
           ? json_object_get_string_member(o, member) : NULL;
}

static bool json_bool(JsonObject *o, const char *member)
{
    return json_object_has_member(o, member) &&
           json_object_get_boolean_member(o, member);
}

/* The lines QEMU's info block prints about a node. */
static void print_node(Monitor *mon, JsonObject *n)
{
    JsonObject *cache = json_object_get_object_member(n, "cache");

    monitor_printf(mon, "    Cache mode:       %s%s%s\n",
                   json_bool(cache, "writeback") ? "writeback"
                                                 : "writethrough",
                   json_bool(cache, "direct") ? ", direct" : "",
                   json_bool(cache, "no-flush") ? ", ignore flushes" : "");
    if (json_str(n, "backing_file")) {
        monitor_printf(mon, "    Backing file:     %s (chain depth: %" PRId64
                       ")\n", json_str(n, "backing_file"),
                       json_object_get_int_member(n, "backing_file_depth"));
    }
}

static void print_block_info(Monitor *mon, JsonObject *b)
{
    JsonObject *n = json_object_has_member(b, "inserted")
                    ? json_object_get_object_member(b, "inserted") : NULL;
    const char *device = json_str(b, "device");
    const char *status = json_str(b, "io-status");

    const char *name = n ? json_str(n, "node-name") :
                       *device ? device : json_str(b, "qdev");
    if (n && *device) {
        monitor_printf(mon, "%s (%s): ", device, name);
    } else {
        monitor_printf(mon, "%s: ", name ? name : "");
    }
    if (n) {
        monitor_printf(mon, "%s (%s%s)\n", json_str(n, "file"),
                       json_str(n, "drv"),
                       json_bool(n, "ro") ? ", read-only" : "");
    } else {
        monitor_printf(mon, "[not inserted]\n");
    }
    if (json_str(b, "qdev")) {
        monitor_printf(mon, "    Attached to:      %s\n", json_str(b, "qdev"));
    }
    if (json_bool(b, "removable")) {
        monitor_printf(mon, "    Removable device: %slocked, tray %s\n",
                       json_bool(b, "locked") ? "" : "not ",
                       json_bool(b, "tray_open") ? "open" : "closed");
    }
    if (status && strcmp(status, "ok")) {
        monitor_printf(mon, "    I/O status:       %s\n", status);
    }
    if (n) {
        print_node(mon, n);
    }
}

/* info block [-n] [DEVICE]: -n lists the nodes instead */
static void hmp_info_block(Monitor *mon, const char *args)
{
    g_auto(GStrv) argv = g_strsplit_set(args, " \t", -1);
    const char *device = NULL;
    bool nodes = false, found = false;
    Error *err = NULL;

    for (char **a = argv; *a; a++) {
        if (!**a) {
            continue;
        } else if (!strcmp(*a, "-n")) {
            nodes = true;
        } else if (**a == '-' || device) {
            monitor_printf(mon, "usage: info block [-n] [device] (-v is not "
                           "supported)\n");
            return;
        } else {
            device = *a;
        }
    }
    JsonNode *ret = qmp_call(nodes ? "query-named-block-nodes" :
                             "query-block", NULL, &err);
    if (!ret) {
        hmp_handle_error(mon, err);
        return;
    }
    JsonArray *list = json_node_get_array(ret);
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *o = json_array_get_object_element(list, i);
        const char *name = json_str(o, nodes ? "node-name" : "device");
        if (device && strcmp(device, name)) {
            continue;
        }
        monitor_printf(mon, "%s", i ? "\n" : "");   /* QEMU's way */
        found = true;
        if (nodes) {
            monitor_printf(mon, "%s: %s (%s%s)\n", name, json_str(o, "file"),
                           json_str(o, "drv"),
                           json_bool(o, "ro") ? ", read-only" : "");
            print_node(mon, o);
        } else {
            print_block_info(mon, o);
        }
    }
    if (device && !found) {
        monitor_printf(mon, "Device '%s' not found\n", device);
    }
    json_node_unref(ret);
}

static const HmpCommand info_block_hmp = {
    "block", "[-n] [device]", "show the block devices (-n: the nodes)",
    hmp_info_block, true,
};
HMP_COMMAND_REGISTER(info_block_hmp)

/* ---- blockdev-add, blockdev-del ---- */

static void opt_free(gpointer p)
{
    Opt *o = p;
    g_free(o->key);
    g_free(o->value);
    g_free(o);
}

/* The JSON type a node option must have; anything else is left to the
 * block layer, which names unknown keys. */
static const char *option_type(const char *key)
{
    static const char *const bools[] = {
        "read-only", "auto-read-only", "force-share", "read-zeroes",
        "direct", "no-flush", NULL,
    };
    static const char *const strings[] = {
        "driver", "node-name", "filename", "discard", "detect-zeroes", "aio",
        "locking", "config", NULL,
    };
    if (g_strv_contains(bools, key)) {
        return "boolean";
    }
    if (g_strv_contains(strings, key)) {
        return "string";
    }
    if (!strcmp(key, "size") || !strcmp(key, "align")) {
        return "integer";
    }
    if (!strcmp(key, "backing")) {
        return "BlockdevRefOrNull";
    }
    if (!strcmp(key, "cache")) {
        return "object";
    }
    return !strcmp(key, "file") || !strcmp(key, "image") ? "child" : "any";
}

/*
 * QMP's nested options as -blockdev's keys: {"file": {"driver": "file"}}
 * is file.driver=file, true is on, numbers are decimal; each value checked
 * against the type its key needs (QEMU's messages).
 */
static bool flatten(JsonObject *obj, const char *prefix, GPtrArray *out,
                    Error **errp)
{
    g_autoptr(GList) members = json_object_get_members(obj);

    for (GList *l = members; l; l = l->next) {
        const char *key = l->data;
        JsonNode *v = json_object_get_member(obj, key);
        GType vt = JSON_NODE_HOLDS_VALUE(v) ? json_node_get_value_type(v)
                                             : G_TYPE_INVALID;
        const char *type = option_type(key);
        g_autofree char *name = g_strconcat(prefix, key, NULL);
        char *value = NULL;

        if (JSON_NODE_HOLDS_OBJECT(v) && (!strcmp(type, "object") ||
                                          !strcmp(type, "child") ||
                                          !strcmp(type, "BlockdevRefOrNull"))) {
            g_autofree char *sub = g_strconcat(name, ".", NULL);
            if (!flatten(json_node_get_object(v), sub, out, errp)) {
                return false;
            }
            continue;
        }
        if (vt == G_TYPE_BOOLEAN && (!strcmp(type, "boolean") ||
                                     !strcmp(type, "any"))) {
            value = g_strdup(json_node_get_boolean(v) ? "on" : "off");
        } else if (vt == G_TYPE_INT64 && (!strcmp(type, "integer") ||
                                          !strcmp(type, "any"))) {
            value = g_strdup_printf("%" PRId64, json_node_get_int(v));
        } else if (vt == G_TYPE_STRING && strcmp(type, "boolean") &&
                   strcmp(type, "integer") && strcmp(type, "object")) {
            value = g_strdup(json_node_get_string(v));
        } else if (JSON_NODE_HOLDS_NULL(v) &&
                   !strcmp(type, "BlockdevRefOrNull")) {
            value = g_strdup("");       /* backing=null: key=value's "" */
        } else if (!strcmp(type, "any")) {
            return error_fail(errp, "Parameter '%s' is unexpected", name);
        } else {
            return error_fail(errp, "Invalid parameter type for '%s', "
                              "expected: %s", name,
                              !strcmp(type, "child") ? "string or object"
                                                     : type);
        }
        Opt *o = g_new(Opt, 1);
        o->key = g_steal_pointer(&name);
        o->value = value;
        g_ptr_array_add(out, o);
    }
    return true;
}

static JsonNode *qmp_blockdev_add(JsonObject *args, Error **errp)
{
    g_autoptr(GPtrArray) o = g_ptr_array_new_with_free_func(opt_free);
    JsonNode *root = json_node_new(JSON_NODE_OBJECT);

    json_node_set_object(root, args);
    g_autofree char *text = json_to_string(root, false);
    json_node_unref(root);
    if (flatten(args, "", o, errp)) {
        blockdev_add_opts(o, text, errp);
    }
    return NULL;
}

bool blockdev_add_json(const char *json, Error **errp)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GPtrArray) o = g_ptr_array_new_with_free_func(opt_free);
    GError *gerr = NULL;

    if (!json_parser_load_from_data(parser, json, -1, &gerr)) {
        error_setg(errp, "JSON parse error: %s", gerr->message);
        g_error_free(gerr);
        return false;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        return error_fail(errp, "the JSON form of -blockdev is an object");
    }
    return flatten(json_node_get_object(root), "", o, errp) &&
           blockdev_add_opts(o, json, errp);
}

static JsonNode *qmp_blockdev_del(JsonObject *args, Error **errp)
{
    blockdev_del(qmp_arg_str(args, "node-name"), errp);
    return NULL;
}

static const QmpArg blockdev_file_args[] = {
    { "filename", QMP_ARG_STRING }, { "aio", QMP_ARG_STRING, true },
    { "locking", QMP_ARG_STRING, true }, { NULL },
};
static const QmpArg blockdev_null_args[] = {
    { "size", QMP_ARG_INT, true }, { "read-zeroes", QMP_ARG_BOOL, true },
    { NULL },
};
static const QmpArg blockdev_raw_args[] = {
    { "file", QMP_ARG_ANY }, { NULL },
};
static const QmpArg blockdev_qcow2_args[] = {
    { "file", QMP_ARG_ANY }, { "backing", QMP_ARG_ANY, true }, { NULL },
};
static const QmpArg blockdev_blkdebug_args[] = {
    { "image", QMP_ARG_ANY }, { "config", QMP_ARG_STRING, true },
    { "align", QMP_ARG_INT, true }, { NULL },
};
static const QmpArgCase blockdev_cases[] = {
    { "file", blockdev_file_args },
    { "null-co", blockdev_null_args },
    { "raw", blockdev_raw_args },
    { "qcow2", blockdev_qcow2_args },
    { "blkdebug", blockdev_blkdebug_args },
    { NULL },
};

static const QmpArgCase *blockdev_add_cases(void)
{
    return blockdev_cases;
}

static const QmpCommand blockdev_add_cmd = {
    "blockdev-add", qmp_blockdev_add,
    { { "driver", QMP_ARG_STRING }, { "node-name", QMP_ARG_STRING, true },
      { "read-only", QMP_ARG_BOOL, true },
      { "auto-read-only", QMP_ARG_BOOL, true },
      { "force-share", QMP_ARG_BOOL, true },
      { "discard", QMP_ARG_STRING, true },
      { "detect-zeroes", QMP_ARG_STRING, true },
      { "cache", QMP_ARG_OBJECT, true } },
    .arg_cases = blockdev_add_cases,
};
static const QmpCommand blockdev_del_cmd = {
    "blockdev-del", qmp_blockdev_del, { { "node-name", QMP_ARG_STRING } },
};
QMP_COMMAND_REGISTER(blockdev_add_cmd)
QMP_COMMAND_REGISTER(blockdev_del_cmd)

/* ---- drive_add, drive_del ---- */

static void hmp_usage(Monitor *mon, const char *cmd, const char *msg)
{
    monitor_printf(mon, "%s: %s\nTry \"help %s\" for more information\n",
                   cmd, msg, cmd);
}

/* drive_add [-n] PCI_ADDR OPTS: PCI_ADDR is QEMU's, for if=virtio; an
 * if=none drive ignores it. */
static void hmp_drive_add(Monitor *mon, const char *args)
{
    g_auto(GStrv) argv = g_strsplit_set(args, " \t", -1);
    const char *w[2] = { NULL };
    int n = 0;
    Error *err = NULL;

    for (char **a = argv; *a; a++) {
        if (!**a || (!n && !strcmp(*a, "-n"))) {
            continue;
        }
        if (n == 2) {
            hmp_usage(mon, "drive_add", "extraneous characters at the end of "
                      "line");
            return;
        }
        w[n++] = *a;
    }
    if (n < 2) {
        hmp_usage(mon, "drive_add", "string expected");
        return;
    }
    if (!drive_add(w[1], &err)) {
        monitor_printf(mon, "%s\n", err->msg);
        error_free(err);
        return;
    }
    monitor_printf(mon, "OK\n");
}

static void hmp_drive_del(Monitor *mon, const char *args)
{
    size_t n = strcspn(args, " \t");
    g_autofree char *id = g_strndup(args, n);
    Error *err = NULL;

    if (!*id) {
        hmp_usage(mon, "drive_del", "block device name expected");
        return;
    }
    if (args[n + strspn(args + n, " \t")]) {
        hmp_usage(mon, "drive_del", "extraneous characters at the end of "
                  "line");
        return;
    }
    if (!drive_del(id, &err)) {
        monitor_printf(mon, "%s\n", err->msg);
        error_free(err);
    }
}

static const HmpCommand drive_add_hmp = {
    "drive_add", "[-n] pci_addr if=none,id=ID[,file=F,...]",
    "add a drive (-drive options; if=none only)", hmp_drive_add,
};
static const HmpCommand drive_del_hmp = {
    "drive_del", "device",
    "remove a drive (a device using it sees no medium)", hmp_drive_del,
};
HMP_COMMAND_REGISTER(drive_add_hmp)
HMP_COMMAND_REGISTER(drive_del_hmp)
