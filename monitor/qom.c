/*
 * qom-list, qom-get (and a qom-set that refuses) over a tree laid out like
 * QEMU's object tree:
 *
 *   /machine                       the board (kernel, initrd, append)
 *   /machine/unattached/device[N]  vCPUs first, then the board's devices
 *   /machine/peripheral/ID         devices with an id
 *   /machine/peripheral-anon/device[N]  -device/device_add without an id,
 *                                  N as QEMU numbers them (qdev.c)
 *   /machine/system.flash0, 1      the pflash chips, as QEMU names them
 *   /chardevs/ID                   character devices
 *   /objects/ID                    -object/object-add objects, the RAM backend
 *
 * Every object has a "type"; devices add "realized" and their properties.
 * The tree is built for each request from the device and chardev lists, so
 * it is never stale.  Also "info qtree".
 */
#include "monitor/monitor-internal.h"
#include "accel/kvm.h"
#include "chardev/char.h"
#include "hw/qdev.h"
#include "system/objects.h"
#include "system/system.h"

typedef struct QomNode {
    char *name;
    char *path;              /* "/machine/peripheral/disk0"; root "" */
    char *type;
    DeviceState *dev;
    Chardev *chr;
    UserObject *obj;
    int cpu;                 /* vCPU index, or -1 */
    bool machine;
    GPtrArray *children;
} QomNode;

static QomNode *node_add(QomNode *parent, const char *name, const char *type)
{
    QomNode *n = g_new0(QomNode, 1);
    n->name = g_strdup(name);
    n->path = parent ? g_strdup_printf("%s/%s", parent->path, name)
                     : g_strdup("");
    n->type = g_strdup(type);
    n->cpu = -1;
    n->children = g_ptr_array_new();
    if (parent) {
        g_ptr_array_add(parent->children, n);
    }
    return n;
}

static void node_free(QomNode *n)
{
    for (guint i = 0; i < n->children->len; i++) {
        node_free(g_ptr_array_index(n->children, i));
    }
    g_ptr_array_free(n->children, true);
    g_free(n->name);
    g_free(n->path);
    g_free(n->type);
    g_free(n);
}

/* A board device QEMU makes a child of /machine under its own name: the
 * pflash chips (their "name" property, "system.flash0"). */
static const char *board_child_name(DeviceState *dev)
{
    if (dev->user_created || strcmp(dev->klass->name, "cfi.pflash01")) {
        return NULL;
    }
    for (const Property *p = dev->klass->props; p && p->name; p++) {
        if (p->type == PROP_STRING && !strcmp(p->name, "name")) {
            return *(char **)((char *)dev + p->offset);
        }
    }
    return NULL;
}

static QomNode *build_tree(void)
{
    QomNode *root = node_add(NULL, "", "container");
    QomNode *machine = node_add(root, "machine", current_machine &&
                                machine_is_none(current_machine) ?
                                "none-machine" : "pc-i440fx-kestrel-machine");
    machine->machine = true;
    QomNode *peripheral = node_add(machine, "peripheral", "container");
    QomNode *anon = node_add(machine, "peripheral-anon", "container");
    QomNode *unattached = node_add(machine, "unattached", "container");
    unsigned n = 0;

    unsigned cpus = kvm_enabled() ? kvm_cpu_count() : 0;
    const char *model = current_machine ? current_machine->cpu_model : "host";
    g_autofree char *cpu_type = g_strdup_printf("%s-x86_64-cpu", model);
    for (unsigned i = 0; i < cpus; i++, n++) {
        g_autofree char *name = g_strdup_printf("device[%u]", n);
        node_add(unattached, name, cpu_type)->cpu = i;
    }
    GPtrArray *devs = device_list();
    for (guint i = 0; i < devs->len; i++) {
        DeviceState *dev = g_ptr_array_index(devs, i);
        const char *flash = board_child_name(dev);
        QomNode *d;
        if (dev->id) {
            d = node_add(peripheral, dev->id, dev->klass->name);
        } else if (dev->user_created) {
            g_autofree char *name = g_strdup_printf("device[%u]",
                                                    dev->anon_index);
            d = node_add(anon, name, dev->klass->name);
        } else if (flash) {
            d = node_add(machine, flash, dev->klass->name);
        } else {
            g_autofree char *name = g_strdup_printf("device[%u]", n++);
            d = node_add(unattached, name, dev->klass->name);
        }
        d->dev = dev;
    }
    QomNode *chardevs = node_add(root, "chardevs", "container");
    GPtrArray *chrs = chardev_list();
    for (guint i = 0; i < chrs->len; i++) {
        Chardev *chr = g_ptr_array_index(chrs, i);
        g_autofree char *type =
            g_strdup_printf("chardev-%s", chardev_backend_name(chr));
        node_add(chardevs, chardev_id(chr), type)->chr = chr;
    }
    QomNode *objects = node_add(root, "objects", "container");
    GPtrArray *objs = user_object_list();
    for (guint i = 0; i < objs->len; i++) {
        UserObject *obj = g_ptr_array_index(objs, i);
        node_add(objects, obj->id, obj->klass->name)->obj = obj;
    }
    return root;
}

static QomNode *child(QomNode *n, const char *name, size_t len)
{
    for (guint i = 0; i < n->children->len; i++) {
        QomNode *c = g_ptr_array_index(n->children, i);
        if (strlen(c->name) == len && !strncmp(c->name, name, len)) {
            return c;
        }
    }
    return NULL;
}

static QomNode *resolve_absolute(QomNode *root, const char *path)
{
    QomNode *n = root;
    while (n && *path) {
        while (*path == '/') {
            path++;
        }
        size_t len = strcspn(path, "/");
        if (len) {
            n = child(n, path, len);
        }
        path += len;
    }
    return n;
}

/* QEMU's partial paths: a path suffix that names one object only. */
static void find_suffix(QomNode *n, const char *suffix, QomNode **found,
                        int *count)
{
    size_t fl = strlen(n->path), sl = strlen(suffix);
    if (fl > sl && !strcmp(n->path + fl - sl, suffix) &&
        n->path[fl - sl - 1] == '/') {
        *found = n;
        (*count)++;
    }
    for (guint i = 0; i < n->children->len; i++) {
        find_suffix(g_ptr_array_index(n->children, i), suffix, found, count);
    }
}

static QomNode *resolve(QomNode *root, const char *path, Error **errp)
{
    QomNode *n = NULL;
    if (path[0] == '/') {
        n = resolve_absolute(root, path);
    } else if (*path) {
        int count = 0;
        find_suffix(root, path, &n, &count);
        if (count > 1) {
            error_setg(errp, "Path '%s' does not uniquely identify an object",
                       path);
            return NULL;
        }
    }
    if (!n) {
        qmp_error_setg(errp, QMP_ERROR_DEVICE_NOT_FOUND,
                       "Device '%s' not found", path);
    }
    return n;
}

/* ---- devices by path and paths of devices (device_del, query-block) ---- */

static QomNode *find_dev_node(QomNode *n, DeviceState *dev)
{
    if (n->dev == dev) {
        return n;
    }
    for (guint i = 0; i < n->children->len; i++) {
        QomNode *found = find_dev_node(g_ptr_array_index(n->children, i), dev);
        if (found) {
            return found;
        }
    }
    return NULL;
}

char *qom_device_path(DeviceState *dev)
{
    QomNode *root = build_tree();
    QomNode *n = find_dev_node(root, dev);
    char *path = n ? g_strdup(n->path) : NULL;

    node_free(root);
    return path;
}

DeviceState *qom_find_device(const char *path)
{
    QomNode *root = build_tree();
    QomNode *n = resolve_absolute(root, path);
    DeviceState *dev = n ? n->dev : NULL;

    node_free(root);
    return dev;
}

/* ---- properties ---- */

static const char *prop_type_name(PropertyType t)
{
    switch (t) {
    case PROP_BOOL: return "bool";
    case PROP_UINT8: return "uint8";
    case PROP_UINT16: return "uint16";
    case PROP_UINT32: return "uint32";
    case PROP_UINT64: return "uint64";
    case PROP_PCI_DEVFN: return "int32";
    default: return "str";
    }
}

static JsonNode *prop_value(DeviceState *dev, const Property *p)
{
    void *field = (char *)dev + p->offset;
    JsonNode *v = json_node_new(JSON_NODE_VALUE);
    char buf[32];
    switch (p->type) {
    case PROP_BOOL: json_node_set_boolean(v, *(bool *)field); break;
    case PROP_UINT8: json_node_set_int(v, *(uint8_t *)field); break;
    case PROP_UINT16: json_node_set_int(v, *(uint16_t *)field); break;
    case PROP_UINT32: json_node_set_int(v, *(uint32_t *)field); break;
    case PROP_UINT64: json_node_set_int(v, *(uint64_t *)field); break;
    case PROP_PCI_DEVFN: json_node_set_int(v, *(int32_t *)field); break;
    default:
        json_node_set_string(v, device_prop_to_string(dev, p, buf,
                                                      sizeof(buf)));
        break;
    }
    return v;
}

static void add_prop(JsonArray *list, const char *name, const char *type)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "name", name);
    json_object_set_string_member(o, "type", type);
    json_array_add_object_element(list, o);
}

static const char *const machine_props[] = { "kernel", "initrd", "append" };

static const char *machine_prop(const char *name)
{
    MachineState *ms = current_machine;
    const char *v = NULL;
    if (ms && !strcmp(name, "kernel")) {
        v = ms->kernel_filename;
    } else if (ms && !strcmp(name, "initrd")) {
        v = ms->initrd_filename;
    } else if (ms && !strcmp(name, "append")) {
        v = ms->kernel_cmdline;
    }
    return v ? v : "";
}

static JsonNode *string_node(const char *s)
{
    JsonNode *v = json_node_new(JSON_NODE_VALUE);
    json_node_set_string(v, s);
    return v;
}

static JsonNode *qmp_qom_list(JsonObject *args, Error **errp)
{
    QomNode *root = build_tree();
    QomNode *n = resolve(root, qmp_arg_str(args, "path"), errp);
    JsonArray *list = NULL;

    if (n) {
        list = json_array_new();
        add_prop(list, "type", "string");
        for (guint i = 0; i < n->children->len; i++) {
            QomNode *c = g_ptr_array_index(n->children, i);
            g_autofree char *type = g_strdup_printf("child<%s>", c->type);
            add_prop(list, c->name, type);
        }
        if (n->machine) {
            for (size_t i = 0; i < ARRAY_SIZE(machine_props); i++) {
                add_prop(list, machine_props[i], "string");
            }
        }
        if (n->dev || n->cpu >= 0) {
            add_prop(list, "realized", "bool");
        }
        if (n->cpu >= 0) {
            add_prop(list, "apic-id", "uint32");
        }
        for (const Property *p = n->dev ? n->dev->klass->props : NULL;
             p && p->name; p++) {
            add_prop(list, p->name, prop_type_name(p->type));
        }
        for (const ObjectProp *p = n->obj ? n->obj->klass->props : NULL;
             p && p->name; p++) {
            add_prop(list, p->name, p->type == OBJECT_PROP_BOOL ? "bool" :
                     p->type == OBJECT_PROP_ENUM ? "string" : "int");
        }
    }
    node_free(root);
    return list ? json_node_new_array_take(list) : NULL;
}

static JsonNode *qmp_qom_get(JsonObject *args, Error **errp)
{
    QomNode *root = build_tree();
    const char *prop = qmp_arg_str(args, "property");
    QomNode *n = resolve(root, qmp_arg_str(args, "path"), errp);
    JsonNode *v = NULL;

    if (!n) {
        goto out;
    }
    if (!strcmp(prop, "type")) {
        v = string_node(n->type);
        goto out;
    }
    if ((n->dev || n->cpu >= 0) && !strcmp(prop, "realized")) {
        v = json_node_new(JSON_NODE_VALUE);
        json_node_set_boolean(v, n->dev ? n->dev->realized : true);
        goto out;
    }
    if (n->cpu >= 0 && !strcmp(prop, "apic-id")) {
        v = json_node_new(JSON_NODE_VALUE);
        json_node_set_int(v, n->cpu);
        goto out;
    }
    if (n->machine) {
        for (size_t i = 0; i < ARRAY_SIZE(machine_props); i++) {
            if (!strcmp(prop, machine_props[i])) {
                v = string_node(machine_prop(prop));
                goto out;
            }
        }
    }
    for (const Property *p = n->dev ? n->dev->klass->props : NULL;
         p && p->name; p++) {
        if (!strcmp(p->name, prop)) {
            v = prop_value(n->dev, p);
            goto out;
        }
    }
    for (const ObjectProp *p = n->obj ? n->obj->klass->props : NULL;
         p && p->name; p++) {
        if (!strcmp(p->name, prop)) {
            v = user_object_prop_value(n->obj, p);
            goto out;
        }
    }
    for (guint i = 0; i < n->children->len; i++) {
        QomNode *c = g_ptr_array_index(n->children, i);
        if (!strcmp(c->name, prop)) {
            v = string_node(c->path);     /* a child reads as its path */
            goto out;
        }
    }
    error_setg(errp, "Property '%s.%s' not found", n->type, prop);
out:
    node_free(root);
    return v;
}

/*
 * kestrel changes no property at run time (QEMU, too, refuses a device's
 * properties once it is realized): qom-set checks its arguments, the path
 * and the property like qom-get, and then says so.
 */
static JsonNode *qmp_qom_set(JsonObject *args, Error **errp)
{
    JsonNode *current = qmp_qom_get(args, errp);

    if (current) {
        json_node_unref(current);
        error_setg(errp, "Property '%s' of '%s' is read-only (kestrel does "
                   "not change properties at run time)",
                   qmp_arg_str(args, "property"), qmp_arg_str(args, "path"));
    }
    return NULL;
}

/*
 * The device types, the part of QEMU's type tree that tests probe for
 * (implements "device", or one type by name); all are concrete.
 */
static JsonNode *qmp_qom_list_types(JsonObject *args, Error **errp)
{
    const char *implements = qmp_arg_str(args, "implements");
    GPtrArray *list = device_class_list();
    JsonArray *arr = json_array_new();

    for (guint i = 0; i < list->len; i++) {
        const DeviceClass *dc = g_ptr_array_index(list, i);
        if (implements && strcmp(implements, "device") &&
            strcmp(implements, dc->name)) {
            continue;
        }
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "name", dc->name);
        json_object_set_string_member(o, "parent", "device");
        json_array_add_object_element(arr, o);
    }
    g_ptr_array_free(list, true);
    return json_node_new_array_take(arr);
}

static const QmpArg property_members[] = {
    { "name", QMP_ARG_STRING }, { "type", QMP_ARG_STRING }, { NULL },
};
static const QmpArg type_members[] = {
    { "name", QMP_ARG_STRING }, { "abstract", QMP_ARG_BOOL, true },
    { "parent", QMP_ARG_STRING, true }, { NULL },
};
static const QmpCommand qom_list_cmd = {
    "qom-list", qmp_qom_list, { { "path", QMP_ARG_STRING } },
    .ret = QMP_RET_ARRAY, .ret_members = property_members,
};
static const QmpCommand qom_list_types_cmd = {
    "qom-list-types", qmp_qom_list_types,
    { { "implements", QMP_ARG_STRING, true },
      { "abstract", QMP_ARG_BOOL, true } },
    .ret = QMP_RET_ARRAY, .ret_members = type_members,
};
static const QmpCommand qom_get_cmd = {
    "qom-get", qmp_qom_get,
    { { "path", QMP_ARG_STRING }, { "property", QMP_ARG_STRING } },
    .ret = QMP_RET_ANY,
};
QMP_COMMAND_REGISTER(qom_list_cmd)
QMP_COMMAND_REGISTER(qom_list_types_cmd)
static const QmpCommand qom_set_cmd = {
    "qom-set", qmp_qom_set,
    { { "path", QMP_ARG_STRING }, { "property", QMP_ARG_STRING },
      { "value", QMP_ARG_ANY } },
};
QMP_COMMAND_REGISTER(qom_get_cmd)
QMP_COMMAND_REGISTER(qom_set_cmd)

/* ---- info qtree ---- */

static void print_device(GString *out, DeviceState *dev, int indent)
{
    char buf[32];
    g_string_append_printf(out, "%*sdev: %s, id \"%s\"\n", indent, "",
                           dev->klass->name, dev->id ? dev->id : "");
    for (const Property *p = dev->klass->props; p && p->name; p++) {
        const char *v = device_prop_to_string(dev, p, buf, sizeof(buf));
        bool quote = p->type == PROP_STRING || p->type == PROP_CHARDEV;
        g_string_append_printf(out, "%*s%s = %s%s%s\n", indent + 2, "",
                               p->name, quote ? "\"" : "", v,
                               quote ? "\"" : "");
    }
}

void qom_print_qtree(GString *out)
{
    static const struct { BusType type; const char *name, *kind; } buses[] = {
        { BUS_SYSTEM, "main-system-bus", "System" },
        { BUS_PCI, "pci.0", "PCI" },
        { BUS_ISA, "isa.0", "ISA" },
    };
    GPtrArray *devs = device_list();
    for (size_t b = 0; b < ARRAY_SIZE(buses); b++) {
        int indent = b ? 2 : 0;
        g_string_append_printf(out, "%*sbus: %s\n%*stype %s\n", indent, "",
                               buses[b].name, indent + 2, "", buses[b].kind);
        for (guint i = 0; i < devs->len; i++) {
            DeviceState *dev = g_ptr_array_index(devs, i);
            if (dev->klass->bus == buses[b].type) {
                print_device(out, dev, indent + 2);
            }
        }
    }
}
