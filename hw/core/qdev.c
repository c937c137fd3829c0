/* Device classes, instances, properties, -global defaults and machine reset. */
#include <sys/mman.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif
#include "hw/qdev.h"
#include "chardev/char.h"
#include "block/drive.h"
#include "hw/pci/pci.h"
#include "util/opts.h"

static GHashTable *classes;          /* name -> const DeviceClass * */
static GPtrArray *devices;           /* realized, in creation order */
static GPtrArray *globals;           /* GlobalProp * */

typedef struct GlobalProp {
    char *driver, *prop, *value;
} GlobalProp;

void device_class_register(const DeviceClass *dc)
{
    if (!classes) {
        classes = g_hash_table_new(g_str_hash, g_str_equal);
    }
    g_assert(!g_hash_table_contains(classes, dc->name));
    g_hash_table_insert(classes, (gpointer)dc->name, (gpointer)dc);
    if (dc->alias) {
        g_assert(!g_hash_table_contains(classes, dc->alias));
        g_hash_table_insert(classes, (gpointer)dc->alias, (gpointer)dc);
    }
}

const DeviceClass *device_class_find(const char *name)
{
    return classes ? g_hash_table_lookup(classes, name) : NULL;
}

static gint cmp_class_name(gconstpointer a, gconstpointer b)
{
    const DeviceClass *x = *(const DeviceClass **)a;
    const DeviceClass *y = *(const DeviceClass **)b;
    return strcmp(x->name, y->name);
}

GPtrArray *device_class_list(void)
{
    GPtrArray *list = g_ptr_array_new();
    GHashTableIter it;
    gpointer key, value;
    if (classes) {
        g_hash_table_iter_init(&it, classes);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            if (!strcmp(key, ((const DeviceClass *)value)->name)) {
                g_ptr_array_add(list, value);   /* not again by its alias */
            }
        }
    }
    g_ptr_array_sort(list, cmp_class_name);
    return list;
}

static const Property *find_prop(const DeviceClass *dc, const char *name)
{
    for (const Property *p = dc->props; p && p->name; p++) {
        if (!strcmp(p->name, name)) {
            return p;
        }
    }
    return NULL;
}

static bool set_uint(void *field, unsigned bytes, const char *name,
                     const char *value, Error **errp)
{
    uint64_t v;
    if (!parse_uint64(value, &v) ||
        (bytes < 8 && v >= (1ULL << (bytes * 8)))) {
        error_setg(errp, "Property '%s' doesn't take value '%s'", name, value);
        return false;
    }
    switch (bytes) {
    case 1: *(uint8_t *)field = v; break;
    case 2: *(uint16_t *)field = v; break;
    case 4: *(uint32_t *)field = v; break;
    default: *(uint64_t *)field = v; break;
    }
    return true;
}

/* QEMU's block size rule: a power of two from 512 bytes to 2 MiB. */
static bool set_blocksize(uint32_t *field, const char *dname,
                          const char *name, const char *value, Error **errp)
{
    uint64_t v;

    if (!parse_size(value, 'B', &v)) {
        return error_fail(errp, "Property '%s.%s' doesn't take value '%s'",
                          dname, name, value);
    }
    if (v < 512 || v > 2 * MiB) {
        return error_fail(errp, "Property '%s.%s' doesn't take value '%s' "
                          "(minimum: 512, maximum: 2097152)", dname, name,
                          value);
    }
    if (v & (v - 1)) {
        return error_fail(errp, "Property '%s.%s' doesn't take value '%s', "
                          "it's not a power of 2", dname, name, value);
    }
    *field = v;
    return true;
}

static bool prop_set(DeviceState *dev, const Property *p, const char *value,
                     Error **errp)
{
    void *field = (char *)dev + p->offset;
    const char *dname = dev->klass->name;

    switch (p->type) {
    case PROP_BOOL: {
        bool v;
        if (!opt_parse_bool(value, &v)) {
            error_setg(errp, "Property '%s.%s' doesn't take value '%s' "
                       "(use on/off)", dname, p->name, value);
            return false;
        }
        *(bool *)field = v;
        return true;
    }
    case PROP_UINT8:
        return set_uint(field, 1, p->name, value, errp);
    case PROP_UINT16:
        return set_uint(field, 2, p->name, value, errp);
    case PROP_UINT32:
        return set_uint(field, 4, p->name, value, errp);
    case PROP_UINT64:
        return set_uint(field, 8, p->name, value, errp);
    case PROP_STRING:
        g_free(*(char **)field);
        *(char **)field = g_strdup(value);
        return true;
    case PROP_CHARDEV: {
        Chardev *chr = chardev_find(value);
        if (!chr) {
            error_setg(errp, "Property '%s.%s' can't find value '%s'",
                       dname, p->name, value);
            return false;
        }
        *(Chardev **)field = chr;
        return true;
    }
    case PROP_PCI_DEVFN:
        return pci_parse_devfn(value, (int32_t *)field, errp);
    case PROP_DRIVE: {
        DriveInfo *d = drive_get_by_id(value);
        if (!d || (!d->blk && !d->parent)) {
            error_setg(errp, "Property '%s.%s' can't find value '%s' (no "
                       "-drive id or -blockdev node-name)", dname, p->name,
                       value);
            return false;
        }
        if (!drive_claim(d, errp)) {
            return false;
        }
        *(BlockBackend **)field = d->blk;
        return true;
    }
    case PROP_BLOCKSIZE:
        return set_blocksize(field, dname, p->name, value, errp);
    }
    return false;
}

const char *device_prop_to_string(DeviceState *dev, const Property *p,
                                  char *buf, size_t len)
{
    void *field = (char *)dev + p->offset;
    switch (p->type) {
    case PROP_BOOL: return *(bool *)field ? "on" : "off";
    case PROP_UINT8: snprintf(buf, len, "%u", *(uint8_t *)field); break;
    case PROP_UINT16: snprintf(buf, len, "%u", *(uint16_t *)field); break;
    case PROP_UINT32:
    case PROP_BLOCKSIZE:
        snprintf(buf, len, "%u", *(uint32_t *)field);
        break;
    case PROP_UINT64:
        snprintf(buf, len, "%" PRIu64, *(uint64_t *)field);
        break;
    case PROP_STRING: return *(char **)field ? *(char **)field : "";
    case PROP_CHARDEV:
        return *(Chardev **)field ? chardev_id(*(Chardev **)field) : "";
    case PROP_PCI_DEVFN:
        return pci_format_devfn(*(int32_t *)field, buf, len);
    case PROP_DRIVE: {
        BlockBackend *blk = *(BlockBackend **)field;
        DriveInfo *d = blk ? drive_get_by_blk(blk) : NULL;
        return d ? d->id : "";
    }
    }
    return buf;
}

/*
 * Large device states (an IDE controller holds a 16 KiB sector buffer per
 * drive position) get their own zero pages from mmap, so the parts a VM
 * never uses, such as the buffers of empty positions, cost no memory.
 */
#define DEVICE_MMAP_SIZE (32 * KiB)

static DeviceState *device_alloc(size_t size)
{
    if (size < DEVICE_MMAP_SIZE) {
        return g_malloc0(size);
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        g_error("out of memory allocating a %zu-byte device", size);
    }
#ifdef __SANITIZE_ADDRESS__
    __lsan_register_root_region(p, size);   /* it holds heap pointers */
#endif
    return p;
}

DeviceState *device_new(const char *name)
{
    const DeviceClass *dc = device_class_find(name);
    if (!dc) {
        return NULL;
    }
    g_assert(dc->instance_size >= sizeof(DeviceState));
    DeviceState *dev = device_alloc(dc->instance_size);
    dev->klass = dc;
    for (const Property *p = dc->props; p && p->name; p++) {
        void *field = (char *)dev + p->offset;
        switch (p->type) {
        case PROP_BOOL: *(bool *)field = p->defval; break;
        case PROP_UINT8: *(uint8_t *)field = p->defval; break;
        case PROP_UINT16: *(uint16_t *)field = p->defval; break;
        case PROP_UINT32:
        case PROP_BLOCKSIZE:
            *(uint32_t *)field = p->defval;
            break;
        case PROP_UINT64: *(uint64_t *)field = p->defval; break;
        case PROP_STRING:
            *(char **)field = g_strdup(p->defstr);
            break;
        case PROP_CHARDEV: *(Chardev **)field = NULL; break;
        case PROP_PCI_DEVFN: *(int32_t *)field = -1; break;
        case PROP_DRIVE: *(BlockBackend **)field = NULL; break;
        }
    }
    for (guint i = 0; globals && i < globals->len; i++) {
        GlobalProp *g = g_ptr_array_index(globals, i);
        if (!strcmp(g->driver, dc->name)) {
            Error *err = NULL;
            /* Validated when added: cannot fail on type grounds. */
            if (!device_set_prop(dev, g->prop, g->value, &err)) {
                error_report_err(err);
            }
        }
    }
    return dev;
}

bool device_set_prop(DeviceState *dev, const char *name, const char *value,
                     Error **errp)
{
    if (!strcmp(name, "id")) {
        if (device_find_id(value)) {
            error_setg(errp, "Duplicate device ID '%s'", value);
            return false;
        }
        g_free(dev->id);
        dev->id = g_strdup(value);
        return true;
    }
    const Property *p = find_prop(dev->klass, name);
    if (!p) {
        error_setg(errp, "Property '%s.%s' not found", dev->klass->name, name);
        return false;
    }
    return prop_set(dev, p, value, errp);
}

bool device_set_prop_int(DeviceState *dev, const char *name, uint64_t value,
                         Error **errp)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRIu64, value);
    return device_set_prop(dev, name, buf, errp);
}

/* Give back the drives its properties claimed (they may be used again). */
static void device_release_drives(DeviceState *dev)
{
    for (const Property *p = dev->klass->props; p && p->name; p++) {
        BlockBackend *blk = p->type == PROP_DRIVE ?
                            *(BlockBackend **)((char *)dev + p->offset) : NULL;
        if (blk) {
            drive_release(blk);
        }
    }
}

void device_free(DeviceState *dev)
{
    g_assert(!dev->realized);
    for (const Property *p = dev->klass->props; p && p->name; p++) {
        if (p->type == PROP_STRING) {
            g_free(*(char **)((char *)dev + p->offset));
        }
    }
    g_free(dev->id);
    if (dev->klass->instance_size < DEVICE_MMAP_SIZE) {
        g_free(dev);
    } else {
#ifdef __SANITIZE_ADDRESS__
        __lsan_unregister_root_region(dev, dev->klass->instance_size);
#endif
        munmap(dev, dev->klass->instance_size);
    }
}

bool device_realize(DeviceState *dev, Error **errp)
{
    const DeviceClass *dc = dev->klass;
    if (dc->realize && !dc->realize(dev, errp)) {
        return false;
    }
    dev->realized = true;
    if (!devices) {
        devices = g_ptr_array_new();
    }
    g_ptr_array_add(devices, dev);
    if (dc->reset) {
        dc->reset(dev);
    }
    return true;
}

DeviceState *device_create_simple(const char *name, ...)
{
    Error *err = NULL;
    DeviceState *dev = device_new(name);
    va_list ap;
    if (!dev) {
        error_report("unknown device '%s'", name);
        exit(1);
    }
    va_start(ap, name);
    for (;;) {
        const char *prop = va_arg(ap, const char *);
        if (!prop) {
            break;
        }
        const char *value = va_arg(ap, const char *);
        if (!device_set_prop(dev, prop, value, &err)) {
            break;
        }
    }
    va_end(ap);
    if (err || !device_realize(dev, &err)) {
        error_report("%s: %s", name, err->msg);
        exit(1);
    }
    return dev;
}

/* Whether dc may come or go on a running machine, with QEMU's errors. */
static bool hotplug_allowed(const DeviceClass *dc, Error **errp)
{
    if (dc->hotpluggable) {
        return true;
    }
    switch (dc->bus) {
    case BUS_ISA:
        return error_fail(errp, "Bus 'isa.0' does not support hotplugging");
    case BUS_PCI:       /* no ACPI PCI hotplug on this board */
        return error_fail(errp, "Bus 'pci.0' does not support hotplugging");
    default:
        return error_fail(errp, "Device '%s' does not support hotplugging",
                          dc->name);
    }
}

/* QEMU numbers the user's devices without an id from 0, each taking the
 * lowest number no live one has. */
static unsigned anon_index_free(void)
{
    for (unsigned n = 0;; n++) {
        bool used = false;
        for (guint i = 0; devices && i < devices->len && !used; i++) {
            DeviceState *d = g_ptr_array_index(devices, i);
            used = d->user_created && !d->id && d->anon_index == n;
        }
        if (!used) {
            return n;
        }
    }
}

static DeviceState *device_create(GPtrArray *opts, bool hotplug,
                                  Error **errp)
{
    const char *driver = opts_get(opts, "driver");
    const DeviceClass *dc = driver ? device_class_find(driver) : NULL;
    DeviceState *dev;

    if (!driver) {
        error_setg(errp, "Parameter 'driver' is missing");
        return NULL;
    }
    if (!dc) {
        error_setg(errp, "'%s' is not a valid device model name", driver);
        return NULL;
    }
    if (!dc->user_creatable) {
        error_setg(errp, hotplug ? "Parameter 'driver' expects a pluggable "
                   "device type" : "Device '%s' can not be added with "
                   "-device", driver);
        return NULL;
    }
    if (hotplug && !hotplug_allowed(dc, errp)) {
        return NULL;
    }
    dev = device_new(driver);
    dev->hotplugged = hotplug;
    dev->user_created = true;
    for (guint i = 0; i < opts->len; i++) {
        Opt *o = g_ptr_array_index(opts, i);
        if (strcmp(o->key, "driver") &&
            !device_set_prop(dev, o->key, o->value, errp)) {
            goto fail;
        }
    }
    dev->anon_index = dev->id ? 0 : anon_index_free();
    if (device_realize(dev, errp)) {
        return dev;
    }
fail:
    device_release_drives(dev);
    device_free(dev);
    return NULL;
}

DeviceState *device_create_from_opts(const char *optstr, Error **errp)
{
    GPtrArray *opts = opts_parse(optstr, "driver", errp);
    DeviceState *dev;

    if (!opts) {
        return NULL;
    }
    dev = device_create(opts, false, errp);
    opts_free(opts);
    return dev;
}

DeviceState *device_hotplug(GPtrArray *opts, Error **errp)
{
    return device_create(opts, true, errp);
}

bool device_unplug(DeviceState *dev, Error **errp)
{
    if (!hotplug_allowed(dev->klass, errp)) {
        return false;
    }
    dev->klass->unrealize(dev);
    g_ptr_array_remove(devices, dev);
    dev->realized = false;
    device_release_drives(dev);
    device_free(dev);
    return true;
}

bool global_prop_add(const char *optarg, Error **errp)
{
    const char *dot = strchr(optarg, '.');
    const char *eq = dot ? strchr(dot, '=') : NULL;
    if (!dot || !eq || dot == optarg || eq == dot + 1) {
        error_setg(errp, "Invalid -global '%s': expected DRIVER.PROP=VALUE",
                   optarg);
        return false;
    }
    GlobalProp *g = g_new0(GlobalProp, 1);
    g->driver = g_strndup(optarg, dot - optarg);
    g->prop = g_strndup(dot + 1, eq - dot - 1);
    g->value = g_strdup(eq + 1);
    const DeviceClass *dc = device_class_find(g->driver);
    if (!dc) {
        error_setg(errp, "-global %s: unknown driver '%s'", optarg, g->driver);
        goto fail;
    }
    g_free(g->driver);                  /* an alias means its class */
    g->driver = g_strdup(dc->name);
    /* Try the value on a scratch instance so errors show up now. */
    DeviceState *probe = g_malloc0(dc->instance_size);
    probe->klass = dc;
    const Property *p = find_prop(dc, g->prop);
    bool ok = p && (p->type == PROP_CHARDEV || p->type == PROP_DRIVE ||
                    prop_set(probe, p, g->value, errp));
    if (!p) {
        error_setg(errp, "-global %s: driver '%s' has no property '%s'",
                   optarg, g->driver, g->prop);
    }
    if (p && p->type == PROP_STRING) {
        g_free(*(char **)((char *)probe + p->offset));
    }
    g_free(probe);
    if (!ok) {
        goto fail;
    }
    if (!globals) {
        globals = g_ptr_array_new();
    }
    g_ptr_array_add(globals, g);
    return true;
fail:
    g_free(g->driver);
    g_free(g->prop);
    g_free(g->value);
    g_free(g);
    return false;
}

void devices_reset_all(void)
{
    for (guint i = 0; devices && i < devices->len; i++) {
        DeviceState *dev = g_ptr_array_index(devices, i);
        if (dev->klass->reset) {
            dev->klass->reset(dev);
        }
    }
}

GPtrArray *device_list(void)
{
    if (!devices) {
        devices = g_ptr_array_new();
    }
    return devices;
}

DeviceState *device_find_id(const char *id)
{
    for (guint i = 0; devices && i < devices->len; i++) {
        DeviceState *dev = g_ptr_array_index(devices, i);
        if (dev->id && !strcmp(dev->id, id)) {
            return dev;
        }
    }
    return NULL;
}
