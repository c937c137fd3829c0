/*
 * The device model.  A device type is a DeviceClass: a name, a property
 * table, realize and reset callbacks and a VMState table.  An instance is a
 * struct whose first member is a DeviceState.  Devices live in one list in
 * creation order; machine reset resets them in that order.
 */
#ifndef HW_QDEV_H
#define HW_QDEV_H

#include "util/osdep.h"
#include "migration/vmstate.h"

typedef struct DeviceState DeviceState;
typedef struct Chardev Chardev;

typedef enum {
    PROP_BOOL,
    PROP_UINT8,
    PROP_UINT16,
    PROP_UINT32,
    PROP_UINT64,
    PROP_STRING,
    PROP_CHARDEV,     /* Chardev *, set by chardev id */
    PROP_PCI_DEVFN,   /* int32: "slot" or "slot.fn"; -1 = auto */
    PROP_DRIVE,       /* BlockBackend *, set by -drive id (claims it) */
    PROP_BLOCKSIZE,   /* uint32: a power of two, 512 to 2 MiB; "4k" works */
} PropertyType;

typedef struct Property {
    const char *name;
    PropertyType type;
    size_t offset;
    uint64_t defval;
    const char *defstr;
} Property;

#define DEFINE_PROP_(_n, _st, _f, _t, _d, _ctype) { .name = (_n), \
    .type = (_t), .offset = offsetof(_st, _f) + \
    0 * sizeof((_ctype *)0 - &((_st *)0)->_f), .defval = (_d) }
#define DEFINE_PROP_BOOL(_n, _st, _f, _d) \
    DEFINE_PROP_(_n, _st, _f, PROP_BOOL, _d, bool)
#define DEFINE_PROP_UINT8(_n, _st, _f, _d) \
    DEFINE_PROP_(_n, _st, _f, PROP_UINT8, _d, uint8_t)
#define DEFINE_PROP_UINT16(_n, _st, _f, _d) \
    DEFINE_PROP_(_n, _st, _f, PROP_UINT16, _d, uint16_t)
#define DEFINE_PROP_UINT32(_n, _st, _f, _d) \
    DEFINE_PROP_(_n, _st, _f, PROP_UINT32, _d, uint32_t)
#define DEFINE_PROP_UINT64(_n, _st, _f, _d) \
    DEFINE_PROP_(_n, _st, _f, PROP_UINT64, _d, uint64_t)
#define DEFINE_PROP_BLOCKSIZE(_n, _st, _f, _d) \
    DEFINE_PROP_(_n, _st, _f, PROP_BLOCKSIZE, _d, uint32_t)
#define DEFINE_PROP_STRING(_n, _st, _f) { .name = (_n), \
    .type = PROP_STRING, .offset = offsetof(_st, _f) }
#define DEFINE_PROP_CHR(_n, _st, _f) { .name = (_n), \
    .type = PROP_CHARDEV, .offset = offsetof(_st, _f) }
#define DEFINE_PROP_DRIVE(_n, _st, _f) { .name = (_n), \
    .type = PROP_DRIVE, .offset = offsetof(_st, _f) }
#define DEFINE_PROP_END_OF_LIST() { .name = NULL }

typedef enum {
    BUS_SYSTEM,
    BUS_ISA,
    BUS_PCI,
} BusType;

typedef struct DeviceClass {
    const char *name;
    const char *alias;              /* a second name for -device, or NULL */
    const char *desc;
    BusType bus;
    size_t instance_size;
    const Property *props;          /* ends with DEFINE_PROP_END_OF_LIST() */
    bool user_creatable;            /* may be given with -device */
    /* May come and go while the machine runs (device_add/device_del);
     * needs unrealize.  The ISA and PCI buses here take no hotplug. */
    bool hotpluggable;
    bool (*realize)(DeviceState *dev, Error **errp);
    /* Undo realize for device_del: I/O in flight done, detached from its
     * bus, what realize allocated freed (properties are freed after). */
    void (*unrealize)(DeviceState *dev);
    void (*reset)(DeviceState *dev);
    const VMStateDescription *vmsd;
} DeviceClass;

struct DeviceState {
    const DeviceClass *klass;
    char *id;
    bool realized;
    bool hotplugged;                /* by device_add, on a running machine */
    bool user_created;              /* by -device or device_add */
    unsigned anon_index;            /* user_created, no id: N of QOM's
                                     * /machine/peripheral-anon/device[N] */
};

#define DEVICE(obj) (&(obj)->parent_obj)

void device_class_register(const DeviceClass *dc);
#define DEVICE_REGISTER(dc) \
    static void __attribute__((constructor)) register_##dc(void) \
    { device_class_register(&(dc)); }

const DeviceClass *device_class_find(const char *name);
/* All registered classes, sorted by name. */
GPtrArray *device_class_list(void);

/* A new instance with defaults and -global values applied. */
DeviceState *device_new(const char *name);
bool device_set_prop(DeviceState *dev, const char *name, const char *value,
                     Error **errp);
bool device_set_prop_int(DeviceState *dev, const char *name, uint64_t value,
                         Error **errp);
bool device_realize(DeviceState *dev, Error **errp);
/* Free a device that was never realized (after a failed realize too). */
void device_free(DeviceState *dev);
/* device_new + props + realize, or exit(1) with a message (board code). */
DeviceState *device_create_simple(const char *name, ...) G_GNUC_NULL_TERMINATED;
/* From a -device option string "driver,prop=value,...". */
DeviceState *device_create_from_opts(const char *opts, Error **errp);
/*
 * device_add: the same from Opt entries (driver= among them) for a machine
 * that runs; only a hotpluggable type.  Errors are QEMU's ("Bus 'isa.0'
 * does not support hotplugging").
 */
DeviceState *device_hotplug(GPtrArray *opts, Error **errp);
/* device_del: unrealize, release its drives, free it.  Fails (nothing
 * changed) for a device that cannot be unplugged. */
bool device_unplug(DeviceState *dev, Error **errp);
const char *device_prop_to_string(DeviceState *dev, const Property *p,
                                  char *buf, size_t len);

/* -global DRIVER.PROP=VALUE */
bool global_prop_add(const char *optarg, Error **errp);

void devices_reset_all(void);
/* Realized devices in creation order. */
GPtrArray *device_list(void);
DeviceState *device_find_id(const char *id);

#endif
