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
    const char *desc;
    BusType bus;
    size_t instance_size;
    const Property *props;          /* ends with DEFINE_PROP_END_OF_LIST() */
    bool user_creatable;            /* may be given with -device */
    bool (*realize)(DeviceState *dev, Error **errp);
    void (*reset)(DeviceState *dev);
    const VMStateDescription *vmsd;
} DeviceClass;

struct DeviceState {
    const DeviceClass *klass;
    char *id;
    bool realized;
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
const char *device_prop_to_string(DeviceState *dev, const Property *p,
                                  char *buf, size_t len);

/* -global DRIVER.PROP=VALUE */
bool global_prop_add(const char *optarg, Error **errp);

void devices_reset_all(void);
/* Realized devices in creation order. */
GPtrArray *device_list(void);
DeviceState *device_find_id(const char *id);

#endif
