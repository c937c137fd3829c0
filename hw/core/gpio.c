/* Named interrupt lines of devices, device paths, and qtest interception. */
#include "hw/gpio.h"

typedef struct GPIOList {
    DeviceState *dev;
    char *name;
    qemu_irq *in;
    int num_in;
    qemu_irq *out;          /* the device's own array of pins */
    int num_out;
} GPIOList;

/* A line with an observer: the original handler, then (or before) fn. */
typedef struct Intercept {
    IRQHandler orig;
    void *orig_opaque;
    qemu_irq target;        /* outputs: where the pin was connected */
    IRQHandler fn;
    void *opaque;
} Intercept;

static GPtrArray *gpio_lists;
static GHashTable *paths;   /* DeviceState * -> char * */

static GPIOList *find_list(DeviceState *dev, const char *name, bool create)
{
    for (guint i = 0; gpio_lists && i < gpio_lists->len; i++) {
        GPIOList *l = g_ptr_array_index(gpio_lists, i);
        if (l->dev == dev && !g_strcmp0(l->name, name)) {
            return l;
        }
    }
    if (!create) {
        return NULL;
    }
    if (!gpio_lists) {
        gpio_lists = g_ptr_array_new();
    }
    GPIOList *l = g_new0(GPIOList, 1);
    l->dev = dev;
    l->name = g_strdup(name);
    g_ptr_array_add(gpio_lists, l);
    return l;
}

void qdev_init_gpio_in_named(DeviceState *dev, IRQHandler handler,
                             const char *name, int n)
{
    GPIOList *l = find_list(dev, name, true);

    g_assert(!l->in);
    l->in = qemu_allocate_irqs(handler, dev, n);
    l->num_in = n;
}

qemu_irq qdev_get_gpio_in_named(DeviceState *dev, const char *name, int n)
{
    GPIOList *l = find_list(dev, name, false);

    return l && n >= 0 && n < l->num_in ? l->in[n] : NULL;
}

void qdev_init_gpio_out_named(DeviceState *dev, qemu_irq *pins,
                              const char *name, int n)
{
    GPIOList *l = find_list(dev, name, true);

    g_assert(!l->out);
    l->out = pins;
    l->num_out = n;
}

void qdev_connect_gpio_out_named(DeviceState *dev, const char *name, int n,
                                 qemu_irq target)
{
    GPIOList *l = find_list(dev, name, false);

    g_assert(l && n >= 0 && n < l->num_out);
    l->out[n] = target;
}

/* ---- paths ---- */

void qdev_set_path(DeviceState *dev, const char *path)
{
    if (!paths) {
        paths = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    }
    g_hash_table_insert(paths, dev, g_strdup(path));
}

const char *qdev_get_path(DeviceState *dev)
{
    const char *p = paths ? g_hash_table_lookup(paths, dev) : NULL;

    if (!p) {
        g_autofree char *def = dev->id ?
            g_strdup_printf("/machine/peripheral/%s", dev->id) :
            g_strdup_printf("/machine/unattached/%s", dev->klass->name);
        qdev_set_path(dev, def);
        p = g_hash_table_lookup(paths, dev);
    }
    return p;
}

/* A full path matches itself; "ioapic" or "i440fx/ioapic" match the end
 * of ".../i440fx/ioapic". */
static bool path_matches(const char *full, const char *want)
{
    if (want[0] == '/') {
        return !strcmp(full, want);
    }
    size_t fl = strlen(full), wl = strlen(want);
    return wl && wl < fl && full[fl - wl - 1] == '/' &&
           !strcmp(full + fl - wl, want);
}

DeviceState *qdev_resolve_path(const char *path)
{
    GPtrArray *devs = device_list();
    DeviceState *found = NULL;

    if (!path || !*path) {
        return NULL;
    }
    for (guint i = 0; i < devs->len; i++) {
        DeviceState *dev = g_ptr_array_index(devs, i);
        if (path_matches(qdev_get_path(dev), path)) {
            if (found) {
                return NULL;        /* ambiguous */
            }
            found = dev;
        }
    }
    if (!found && path[0] != '/') {
        found = device_find_id(path);
    }
    return found;
}

/* ---- interception ---- */

static void intercept_in(void *opaque, int n, int level)
{
    Intercept *ic = opaque;

    ic->orig(ic->orig_opaque, n, level);
    ic->fn(ic->opaque, n, level);
}

static void intercept_out(void *opaque, int n, int level)
{
    Intercept *ic = opaque;

    ic->fn(ic->opaque, n, level);
    qemu_set_irq(ic->target, level);
}

void qdev_intercept_gpio_in(DeviceState *dev, IRQHandler fn, void *opaque)
{
    GPIOList *l = find_list(dev, NULL, false);

    for (int i = 0; l && i < l->num_in; i++) {
        Intercept *ic = g_new0(Intercept, 1);
        ic->orig = l->in[i]->handler;
        ic->orig_opaque = l->in[i]->opaque;
        ic->fn = fn;
        ic->opaque = opaque;
        l->in[i]->handler = intercept_in;
        l->in[i]->opaque = ic;
    }
}

void qdev_intercept_gpio_out(DeviceState *dev, IRQHandler fn, void *opaque)
{
    GPIOList *l = find_list(dev, NULL, false);

    for (int i = 0; l && i < l->num_out; i++) {
        Intercept *ic = g_new0(Intercept, 1);
        ic->target = l->out[i];
        ic->fn = fn;
        ic->opaque = opaque;
        l->out[i] = qemu_allocate_irq(intercept_out, ic, i);
    }
}
