/*
 * Removable media from the monitor: QMP eject and blockdev-change-medium,
 * HMP eject and change, and the DEVICE_TRAY_MOVED event.  A drive is named
 * by its -drive id ("device", e.g. ide1-cd0) or its -device id ("id").
 */
#include "ide-internal.h"
#include "block/drive.h"
#include "monitor/monitor.h"

static void report_tray_moved(IDEState *s, bool open)
{
    DriveInfo *d = s->blk ? drive_get_by_blk(s->blk) : NULL;
    JsonObject *data = json_object_new();

    json_object_set_string_member(data, "device", d && d->id ? d->id : "");
    json_object_set_string_member(data, "id", s->qdev && s->qdev->id ?
                                  s->qdev->id : "");
    json_object_set_boolean_member(data, "tray-open", open);
    qmp_event_send("DEVICE_TRAY_MOVED", data);
}

static void __attribute__((constructor)) ide_monitor_init(void)
{
    ide_tray_moved_hook = report_tray_moved;
}

static IDEState *find_cd(const char *device, const char *id, Error **errp)
{
    if (!device == !id) {
        error_setg(errp, "Need exactly one of 'device' and 'id'");
        return NULL;
    }
    const char *name = device ? device : id;
    IDEState *s = ide_find_drive(name);
    if (!s) {
        qmp_error_setg(errp, QMP_ERROR_DEVICE_NOT_FOUND,
                       "Device '%s' not found", name);
        return NULL;
    }
    if (s->kind != IDE_CD) {
        error_setg(errp, "Device '%s' is not removable", name);
        return NULL;
    }
    return s;
}

static bool do_eject(const char *device, const char *id, bool force,
                     Error **errp)
{
    IDEState *s = find_cd(device, id, errp);
    return s && ide_cd_eject(s, force, errp);
}

static bool do_change(const char *device, const char *id, const char *file,
                      const char *format, const char *ro_mode, bool force,
                      Error **errp)
{
    IDEState *s = find_cd(device, id, errp);
    if (!s) {
        return false;
    }
    DriveInfo *d = drive_get_by_blk(s->blk);
    BlockOpenOptions o = {
        .filename = file, .format = format, .read_only = true,
        .cache = d ? d->opts.cache : BLOCK_CACHE_WRITEBACK,
    };
    if (ro_mode && !strcmp(ro_mode, "read-write")) {
        o.read_only = false;
    } else if (ro_mode && strcmp(ro_mode, "retain") &&
               strcmp(ro_mode, "read-only")) {
        error_setg(errp, "Parameter 'read-only-mode' does not accept value "
                   "'%s'", ro_mode);
        return false;
    }
    if (force && s->tray_locked && !ide_cd_eject(s, true, errp)) {
        return false;
    }
    return ide_cd_change(s, &o, errp);
}

/* ---- QMP ---- */

static JsonNode *qmp_eject(JsonObject *args, Error **errp)
{
    do_eject(qmp_arg_str(args, "device"), qmp_arg_str(args, "id"),
             qmp_arg_bool(args, "force", false), errp);
    return NULL;
}

static JsonNode *qmp_change_medium(JsonObject *args, Error **errp)
{
    do_change(qmp_arg_str(args, "device"), qmp_arg_str(args, "id"),
              qmp_arg_str(args, "filename"), qmp_arg_str(args, "format"),
              qmp_arg_str(args, "read-only-mode"),
              qmp_arg_bool(args, "force", false), errp);
    return NULL;
}

static const QmpCommand eject_cmd = {
    "eject", qmp_eject,
    { { "device", QMP_ARG_STRING, true }, { "id", QMP_ARG_STRING, true },
      { "force", QMP_ARG_BOOL, true } },
};
static const QmpCommand change_medium_cmd = {
    "blockdev-change-medium", qmp_change_medium,
    { { "device", QMP_ARG_STRING, true }, { "id", QMP_ARG_STRING, true },
      { "filename", QMP_ARG_STRING }, { "format", QMP_ARG_STRING, true },
      { "read-only-mode", QMP_ARG_STRING, true },
      { "force", QMP_ARG_BOOL, true } },
};
QMP_COMMAND_REGISTER(eject_cmd)
QMP_COMMAND_REGISTER(change_medium_cmd)

/* ---- HMP ---- */

static void hmp_eject(Monitor *mon, const char *args)
{
    g_auto(GStrv) argv = g_strsplit_set(args, " \t", -1);
    const char *device = NULL;
    bool force = false;
    Error *err = NULL;

    for (char **a = argv; *a; a++) {
        if (!**a) {
            continue;
        } else if (!strcmp(*a, "-f")) {
            force = true;
        } else if (!device) {
            device = *a;
        } else {
            device = NULL;
            break;
        }
    }
    if (!device) {
        monitor_printf(mon, "usage: eject [-f] device\n");
        return;
    }
    if (!do_eject(device, NULL, force, &err)) {
        hmp_handle_error(mon, err);
    }
}

static void hmp_change(Monitor *mon, const char *args)
{
    g_auto(GStrv) argv = g_strsplit_set(args, " \t", -1);
    const char *w[4] = { NULL };
    int n = 0;
    Error *err = NULL;

    for (char **a = argv; *a; a++) {
        if (**a && n < 5) {
            if (n < 4) {
                w[n] = *a;
            }
            n++;
        }
    }
    if (n < 2 || n > 4) {
        monitor_printf(mon, "usage: change device filename [format "
                       "[read-only-mode]]\n");
        return;
    }
    if (!do_change(w[0], NULL, w[1], w[2], w[3], false, &err)) {
        hmp_handle_error(mon, err);
    }
}

static const HmpCommand hmp_eject_cmd = {
    "eject", "[-f] device", "eject a removable medium (use -f to force it)",
    hmp_eject,
};
static const HmpCommand hmp_change_cmd = {
    "change", "device filename [format [read-only-mode]]",
    "change a removable medium, optional format", hmp_change,
};
HMP_COMMAND_REGISTER(hmp_eject_cmd)
HMP_COMMAND_REGISTER(hmp_change_cmd)
