/*
 * -drive options (QEMU's names), the legacy -hdX/-cdrom shorthands, and the
 * table boards and -device look drives up in.  if=ide and if=pflash drives
 * are the board's; if=none ones wait for -device ...,drive=ID.
 */
#include "block/drive.h"
#include "block/block_int.h"
#include "util/opts.h"

static GPtrArray *drives;
static bool snapshot_all;
static bool started;            /* drive_open_all() ran */

static const char *const drive_keys[] = {
    "file", "format", "if", "index", "bus", "unit", "media", "readonly",
    "read-only", "cache", "snapshot", "id", "aio", "discard", "serial",
    "werror", "rerror", "l2-cache-size", NULL,
};

static bool parse_int(const char *v, int max, int *out)
{
    uint64_t n;
    if (!parse_uint64(v, &n) || n > (uint64_t)max) {
        return false;
    }
    *out = n;
    return true;
}

static bool parse_drive(DriveInfo *d, GPtrArray *o, Error **errp)
{
    const char *v;
    bool b;
    int index = -1;

    /* file.KEY: options of the protocol node file= names (KEY borrowed) */
    g_autoptr(GPtrArray) file_opts = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) own = g_ptr_array_new();
    for (guint i = 0; i < o->len; i++) {
        Opt *e = g_ptr_array_index(o, i), *f;
        if (!g_str_has_prefix(e->key, "file.")) {
            g_ptr_array_add(own, e);
            continue;
        }
        f = g_new(Opt, 1);
        f->key = e->key + strlen("file.");
        f->value = e->value;
        g_ptr_array_add(file_opts, f);
    }
    if (!opts_check_keys(own, "-drive", drive_keys, errp)) {
        return false;
    }
    d->type = IF_IDE;
    if ((v = opts_get(o, "if"))) {
        if (!strcmp(v, "none")) {
            d->type = IF_NONE;
        } else if (!strcmp(v, "pflash")) {
            d->type = IF_PFLASH;
        } else if (strcmp(v, "ide")) {
            return error_fail(errp, "unsupported bus type '%s' (use if=ide, "
                              "if=pflash or if=none)", v);
        }
    }
    d->opts.filename = g_strdup(opts_get(o, "file"));
    if (d->opts.filename && !*d->opts.filename) {
        g_free((char *)d->opts.filename);
        d->opts.filename = NULL;
    }
    if ((v = opts_get(o, "format"))) {
        if (!bdrv_find_format(v)) {
            return error_fail(errp,
                              "'%s' invalid format (use qcow2 or raw)", v);
        }
        d->opts.format = g_strdup(v);
    }
    if ((v = opts_get(o, "media"))) {
        if (!strcmp(v, "cdrom")) {
            d->media = MEDIA_CDROM;
        } else if (strcmp(v, "disk")) {
            return error_fail(errp,
                              "'%s' invalid media (use disk or cdrom)", v);
        }
    }
    if ((v = opts_get(o, "readonly")) || (v = opts_get(o, "read-only"))) {
        if (!opt_parse_bool(v, &b)) {
            return error_fail(errp, "readonly=%s: expected on or off", v);
        }
        d->opts.read_only = b;
    }
    if (d->media == MEDIA_CDROM) {
        d->opts.read_only = true;
    }
    if ((v = opts_get(o, "cache")) &&
        !block_parse_cache_mode(v, &d->opts.cache)) {
        return error_fail(errp, "invalid cache option '%s' (writeback, none, "
                          "writethrough, directsync or unsafe)", v);
    }
    if ((v = opts_get(o, "snapshot"))) {
        if (!opt_parse_bool(v, &b)) {
            return error_fail(errp, "snapshot=%s: expected on or off", v);
        }
        d->opts.snapshot = b;
    }
    if ((v = opts_get(o, "aio")) && strcmp(v, "threads") &&
        strcmp(v, "native") && strcmp(v, "io_uring")) {
        return error_fail(errp, "invalid aio option '%s'", v);
    }
    if ((v = opts_get(o, "discard"))) {
        d->opts.discard_unmap = !strcmp(v, "unmap") || !strcmp(v, "on");
        if (!d->opts.discard_unmap && strcmp(v, "ignore") &&
            strcmp(v, "off")) {
            return error_fail(errp, "invalid discard option '%s' (ignore or "
                              "unmap)", v);
        }
    }
    /* QEMU's file=null-co://,file.read-zeroes=on, or
     * file=blkdebug::null-co://,file.align=4k,file.image.read-zeroes=on */
    if (file_opts->len && !d->opts.filename) {
        return error_fail(errp, "file.* options need file=");
    }
    if (file_opts->len &&
        !blockdev_drive_file_opts(d->opts.filename, file_opts, &d->opts,
                                  errp)) {
        return false;
    }
    d->rerror = BLOCK_ERROR_POLICY_REPORT;
    d->werror = BLOCK_ERROR_POLICY_ENOSPC;
    if ((v = opts_get(o, "rerror")) &&
        (!block_parse_error_policy(v, &d->rerror) ||
         d->rerror == BLOCK_ERROR_POLICY_ENOSPC)) {
        return error_fail(errp, "'%s' invalid read error action (report, "
                          "ignore or stop)", v);
    }
    if ((v = opts_get(o, "werror")) &&
        !block_parse_error_policy(v, &d->werror)) {
        return error_fail(errp, "'%s' invalid write error action (enospc, "
                          "report, ignore or stop)", v);
    }
    if ((v = opts_get(o, "l2-cache-size")) &&
        !parse_size(v, 'B', &d->opts.l2_cache_size)) {
        return error_fail(errp, "invalid l2-cache-size '%s'", v);
    }
    d->bus = d->unit = -1;
    if (d->type == IF_PFLASH) {
        /* One bus of flash chips: index and unit are the same thing. */
        if (((v = opts_get(o, "unit")) || (v = opts_get(o, "index"))) &&
            !parse_int(v, MAX_PFLASH_UNITS - 1, &d->unit)) {
            return error_fail(errp, "unit=%s: pflash units are 0 and 1", v);
        }
        if ((v = opts_get(o, "bus")) && strcmp(v, "0")) {
            return error_fail(errp, "bus=%s: pflash has only bus 0", v);
        }
        if (d->media == MEDIA_CDROM || !d->opts.filename) {
            return error_fail(errp, "a pflash drive needs file= (and no "
                              "media=cdrom)");
        }
        d->bus = 0;
        goto id;
    }
    if ((v = opts_get(o, "index")) && !parse_int(v, 3, &index)) {
        return error_fail(errp, "index=%s: an IDE index is 0 to 3", v);
    }
    if ((v = opts_get(o, "bus")) && !parse_int(v, MAX_IDE_BUS - 1, &d->bus)) {
        return error_fail(errp, "bus=%s: IDE buses are 0 and 1", v);
    }
    if ((v = opts_get(o, "unit")) &&
        !parse_int(v, MAX_IDE_UNITS - 1, &d->unit)) {
        return error_fail(errp, "unit=%s: IDE units are 0 and 1", v);
    }
    if (index >= 0) {
        if (d->bus >= 0 || d->unit >= 0) {
            return error_fail(errp, "index cannot be used with bus and unit");
        }
        d->bus = index / MAX_IDE_UNITS;
        d->unit = index % MAX_IDE_UNITS;
    }
    if (!d->opts.filename && d->media != MEDIA_CDROM && d->type != IF_NONE) {
        return error_fail(errp,
                          "a disk drive needs file= (only media=cdrom and "
                          "if=none may be empty)");
    }
id:
    if ((v = opts_get(o, "id"))) {
        DriveInfo *other = drive_get_by_id(v);
        if (!g_regex_match_simple("^[A-Za-z][A-Za-z0-9_.-]*$", v, 0, 0)) {
            return error_fail(errp, "invalid id '%s' (a letter, then letters, "
                              "digits, '-', '.', '_')", v);
        }
        if (other && other->node) {
            return error_fail(errp, "Device name '%s' conflicts with an "
                              "existing node name", v);
        }
        if (drive_id_taken(v)) {
            return error_fail(errp, "Duplicate ID '%s' for drive", v);
        }
        d->id = g_strdup(v);
    }
    return true;
}

/* The next free IDE slot, in index order, like QEMU. */
static bool place(DriveInfo *d, Error **errp)
{
    if (d->type == IF_NONE) {
        return true;
    }
    if (d->type == IF_PFLASH) {
        if (d->unit < 0) {
            for (d->unit = 0; drive_get(IF_PFLASH, 0, d->unit); d->unit++) {
                if (d->unit == MAX_PFLASH_UNITS - 1) {
                    return error_fail(errp,
                                      "no free pflash unit (units 0 and 1)");
                }
            }
        } else if (drive_get(IF_PFLASH, 0, d->unit)) {
            return error_fail(errp, "pflash unit %d exists", d->unit);
        }
        return true;
    }
    if (d->bus < 0 || d->unit < 0) {
        int bus = MAX(d->bus, 0), unit = MAX(d->unit, 0);
        while (drive_get(IF_IDE, bus, unit)) {
            if (d->unit >= 0 || ++unit == MAX_IDE_UNITS) {
                unit = MAX(d->unit, 0);
                if (d->bus >= 0 || ++bus == MAX_IDE_BUS) {
                    return error_fail(errp, "no free IDE slot (two buses, two "
                                      "units each)");
                }
            }
        }
        d->bus = bus;
        d->unit = unit;
    }
    if (drive_get(IF_IDE, d->bus, d->unit)) {
        return error_fail(errp, "drive with bus=%d, unit=%d (index=%d) exists",
                          d->bus, d->unit, d->bus * MAX_IDE_UNITS + d->unit);
    }
    return true;
}

void drive_free(DriveInfo *d)
{
    g_free(d->id);
    g_free((char *)d->opts.filename);
    g_free((char *)d->opts.format);
    g_free((char *)d->opts.blkdebug_config);
    g_free(d->backing);
    g_free(d->optstr);
    g_free(d);
}

void drive_insert(DriveInfo *d)
{
    if (!drives) {
        drives = g_ptr_array_new();
    }
    g_ptr_array_add(drives, d);
}

bool drive_started(void)
{
    return started;
}

DriveInfo *drive_add(const char *optstr, Error **errp)
{
    GPtrArray *o = opts_parse(optstr, "file", errp);
    if (!o) {
        return NULL;
    }
    DriveInfo *d = g_new0(DriveInfo, 1);
    d->optstr = g_strdup(optstr);
    bool ok = parse_drive(d, o, errp) && place(d, errp);
    opts_free(o);
    if (ok && started && d->type != IF_NONE) {
        ok = error_fail(errp, "Can't hot-add drive to type %s (only if=none)",
                        d->type == IF_IDE ? "ide" : "pflash");
    }
    if (!ok) {
        drive_free(d);
        return NULL;
    }
    if (!d->id && d->type == IF_PFLASH) {
        d->id = g_strdup_printf("pflash%d", d->unit);
    } else if (!d->id && d->type == IF_IDE) {
        d->id = g_strdup_printf("ide%d-%s%d", d->bus,
                                d->media == MEDIA_CDROM ? "cd" : "hd",
                                d->unit);
    }
    for (unsigned n = 0; !d->id; n++) {
        g_autofree char *id = g_strdup_printf("none%u", n);
        if (!drive_id_taken(id)) {
            d->id = g_steal_pointer(&id);
        }
    }
    d->opts.probe_warn = true;
    if (started && !drive_open(d, errp)) {
        drive_free(d);
        return NULL;
    }
    drive_insert(d);
    return d;
}

DriveInfo *drive_add_legacy(const char *file, int index, bool cdrom,
                            Error **errp)
{
    g_autoptr(GString) s = g_string_new("file=");
    for (const char *p = file; *p; p++) {
        g_string_append_c(s, *p);
        if (*p == ',') {
            g_string_append_c(s, ',');      /* ",," keeps a comma */
        }
    }
    g_string_append_printf(s, ",index=%d%s", index, cdrom ? ",media=cdrom" : "");
    return drive_add(s->str, errp);
}

DriveInfo *drive_new_node(const char *name, const char *optstr)
{
    DriveInfo *d = g_new0(DriveInfo, 1);
    d->id = g_strdup(name);
    d->type = IF_NONE;
    d->bus = d->unit = -1;
    d->node = true;
    d->optstr = g_strdup(optstr);
    return d;
}

void drive_enable_snapshot_all(void)
{
    snapshot_all = true;
}

bool drive_open(DriveInfo *d, Error **errp)
{
    if (d->parent) {
        return true;                /* opened by its parent node */
    }
    if (snapshot_all && !d->opts.read_only && !d->node &&   /* as QEMU */
        !(d->opts.filename &&
          g_str_has_prefix(d->opts.filename, NULL_CO_FILENAME))) {
        d->opts.snapshot = true;
    }
    if (d->backing) {
        /* The backing node's image, shared (opened before: table order). */
        DriveInfo *b = drive_get_by_id(d->backing);
        d->opts.backing = b && b->blk ? blk_bs(b->blk) : NULL;
        if (!d->opts.backing) {
            return error_fail(errp, "backing node '%s' has no image open",
                              d->backing);
        }
    }
    d->blk = d->opts.filename ? blk_open(&d->opts, errp) : blk_new_empty();
    d->opts.backing = NULL;         /* the chain holds it now */
    if (!d->blk) {
        return false;
    }
    if (!d->node) {
        blk_set_error_policy(d->blk, d->rerror, d->werror);
    }
    return true;
}

bool drive_open_all(Error **errp)
{
    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        Error *local = NULL;
        if (!drive_open(d, &local)) {
            error_setg(errp, "-%s %s: %s", d->node ? "blockdev" : "drive",
                       d->optstr, local->msg);
            error_free(local);
            return false;
        }
    }
    started = true;
    block_attach_main_loop();
    return true;
}

/* Drop d from the table and free it, closing its backend. */
static void drive_remove(DriveInfo *d)
{
    blk_unref(d->blk);
    g_ptr_array_remove(drives, d);
    drive_free(d);
}

void drive_remove_node(DriveInfo *d)
{
    for (guint i = 0; i < drives->len;) {
        DriveInfo *c = g_ptr_array_index(drives, i);
        Error *err = NULL;
        if (!c->parent || strcmp(c->parent, d->id)) {
            i++;
        } else if (c->inline_child) {
            drive_remove(c);
        } else {
            c->parent = NULL;
            c->claimed = false;
            if (!drive_open(c, &err)) {
                warn_report("node '%s' cannot be opened again: %s", c->id,
                            err->msg);
                error_free(err);
            }
            i++;
        }
    }
    drive_remove(d);
}

void drive_release(BlockBackend *blk)
{
    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        if (d->blk == blk && d->deleted) {
            drive_remove(d);        /* drive_del'd: now it goes for good */
            return;
        }
        if (d->blk == blk) {
            d->claimed = false;
            return;
        }
    }
}

bool drive_del(const char *id, Error **errp)
{
    DriveInfo *d = drive_get_by_id(id);

    if (!d) {
        return error_fail(errp, "Device '%s' not found", id);
    }
    if (d->node) {
        return blockdev_del(id, errp);
    }
    if (!d->claimed) {
        drive_remove(d);
        return true;
    }
    /* The device keeps its backend, without a medium and a name. */
    blk_remove_medium(d->blk);
    blk_set_error_policy(d->blk, BLOCK_ERROR_POLICY_REPORT,
                         BLOCK_ERROR_POLICY_REPORT);
    d->deleted = true;
    return true;
}

void drive_close_all(void)
{
    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        if (d->blk) {
            blk_unref(d->blk);
            d->blk = NULL;
        }
    }
}

DriveInfo *drive_get(BlockInterfaceType type, int bus, int unit)
{
    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        if (!d->deleted && d->type == type && d->bus == bus &&
            d->unit == unit) {
            return d;
        }
    }
    return NULL;
}

bool drive_id_taken(const char *id)
{
    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        if (!strcmp(d->id, id)) {
            return true;
        }
    }
    return false;
}

DriveInfo *drive_get_by_id(const char *id)
{
    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        if (!d->deleted && !strcmp(d->id, id)) {
            return d;
        }
    }
    return NULL;
}

DriveInfo *drive_backing_user(const char *name)
{
    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        if (!d->deleted && d->backing && !strcmp(d->backing, name)) {
            return d;
        }
    }
    return NULL;
}

DriveInfo *drive_get_by_blk(BlockBackend *blk)
{
    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        if (!d->deleted && d->blk == blk) {
            return d;
        }
    }
    return NULL;
}

bool drive_claim(DriveInfo *d, Error **errp)
{
    if (d->claimed && d->parent) {
        error_setg(errp, "Node '%s' is the file of node '%s'", d->id,
                   d->parent);
        return false;
    }
    if (d->claimed) {
        error_setg(errp, "Drive '%s' is already in use by another device",
                   d->id);
        return false;
    }
    d->claimed = true;
    return true;
}

void drive_check_unclaimed(void)
{
    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        if (!d->claimed && !d->node && !d->deleted) {   /* as QEMU */
            warn_report("-drive %s: drive '%s' is not used by any device",
                        d->optstr, d->id);
        }
    }
}
