/*
 * device_add and device_del, QMP and HMP: devices that come and go while
 * the machine runs (hw/core/qdev.c decides which may: today the SCSI
 * units on a virtio-scsi bus).  An unplug here completes at once, so
 * DEVICE_DELETED goes out before device_del returns.
 */
#include "monitor/monitor-internal.h"
#include "hw/qdev.h"
#include "util/opts.h"

/* The device an id or an absolute QOM path names, as QEMU finds it. */
static DeviceState *find_device(const char *id, Error **errp)
{
    DeviceState *dev = id[0] == '/' ? qom_find_device(id)
                                    : device_find_id(id);
    if (!dev) {
        qmp_error_setg(errp, QMP_ERROR_DEVICE_NOT_FOUND,
                       "Device '%s' not found", id);
    }
    return dev;
}

static bool unplug(const char *id, Error **errp)
{
    DeviceState *dev = find_device(id, errp);

    if (!dev) {
        return false;
    }
    g_autofree char *path = qom_device_path(dev);
    g_autofree char *dev_id = g_strdup(dev->id);
    if (!device_unplug(dev, errp)) {
        return false;
    }
    JsonObject *data = json_object_new();
    if (dev_id) {
        json_object_set_string_member(data, "device", dev_id);
    }
    json_object_set_string_member(data, "path", path ? path : "");
    qmp_event_send("DEVICE_DELETED", data);
    return true;
}

/* ---- QMP ---- */

static void opt_free(gpointer p)
{
    Opt *o = p;
    g_free(o->key);
    g_free(o->value);
    g_free(o);
}

/* Property values as -device would give them: strings, numbers, on/off. */
static bool arg_to_opt(JsonObject *args, const char *key, GPtrArray *opts,
                       Error **errp)
{
    JsonNode *n = json_object_get_member(args, key);
    GType t = JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n)
                                        : G_TYPE_INVALID;
    Opt *o = g_new0(Opt, 1);

    if (t == G_TYPE_STRING) {
        o->value = g_strdup(json_node_get_string(n));
    } else if (t == G_TYPE_INT64) {
        o->value = g_strdup_printf("%" PRId64, json_node_get_int(n));
    } else if (t == G_TYPE_BOOLEAN) {
        o->value = g_strdup(json_node_get_boolean(n) ? "on" : "off");
    } else {
        g_free(o);
        return error_fail(errp, "Parameter '%s' expects a string, an "
                          "integer or a boolean", key);
    }
    o->key = g_strdup(key);
    g_ptr_array_add(opts, o);
    return true;
}

static JsonNode *qmp_device_add(JsonObject *args, Error **errp)
{
    GPtrArray *opts = g_ptr_array_new_with_free_func(opt_free);
    GList *keys = json_object_get_members(args);

    for (GList *l = keys; l; l = l->next) {
        if (!arg_to_opt(args, l->data, opts, errp)) {
            goto out;
        }
    }
    device_hotplug(opts, errp);
out:
    g_list_free(keys);
    opts_free(opts);
    return NULL;
}

static JsonNode *qmp_device_del(JsonObject *args, Error **errp)
{
    unplug(qmp_arg_str(args, "id"), errp);
    return NULL;
}

/* QEMU's arguments; the device's properties come on top of them. */
static const QmpCommand device_add_cmd = {
    "device_add", qmp_device_add,
    { { "driver", QMP_ARG_STRING }, { "bus", QMP_ARG_STRING, true },
      { "id", QMP_ARG_STRING, true } },
    .extra_args = true,
};
static const QmpCommand device_del_cmd = {
    "device_del", qmp_device_del, { { "id", QMP_ARG_STRING } },
};
QMP_COMMAND_REGISTER(device_add_cmd)
QMP_COMMAND_REGISTER(device_del_cmd)

/* ---- HMP ---- */

static void hmp_device_add(Monitor *mon, const char *args)
{
    Error *err = NULL;
    /* Nothing at all: device_hotplug says the driver is missing. */
    GPtrArray *opts = *args ? opts_parse(args, "driver", &err)
                            : g_ptr_array_new_with_free_func(opt_free);

    if (opts) {
        device_hotplug(opts, &err);
        opts_free(opts);
    }
    if (err) {
        hmp_handle_error(mon, err);
    }
}

static void hmp_device_del(Monitor *mon, const char *args)
{
    Error *err = NULL;

    if (!*args || strpbrk(args, " \t")) {
        monitor_printf(mon, "usage: device_del device\n");
        return;
    }
    if (!unplug(args, &err)) {
        hmp_handle_error(mon, err);
    }
}

static const HmpCommand hmp_device_add_cmd = {
    "device_add", "driver[,prop=value][,...]",
    "add device, like -device on the command line", hmp_device_add,
};
static const HmpCommand hmp_device_del_cmd = {
    "device_del", "device", "remove device", hmp_device_del,
};
HMP_COMMAND_REGISTER(hmp_device_add_cmd)
HMP_COMMAND_REGISTER(hmp_device_del_cmd)
