/*
 * User-creatable objects (QEMU's -object, object-add, [object] sections of
 * -readconfig): typed records kept by id, in creation order, that the QOM
 * tree shows under /objects.  Three types: memory-backend-ram, rng-builtin
 * and iothread (virtio-scsi-pci,iothread=ID names one; kestrel has no such
 * threads: the device works in the main loop, query-iothreads shows it).  The machine's RAM is itself a memory-backend-ram, as in
 * QEMU ("pc.ram"; "ram" for -machine none with -m), in use and so not
 * deletable; backends made with -object or object-add are listed and
 * queried but no board uses them (there is no -machine memory-backend=).
 */
#ifndef SYSTEM_OBJECTS_H
#define SYSTEM_OBJECTS_H

#include "util/osdep.h"

typedef enum {
    OBJECT_PROP_SIZE,    /* uint64_t, above 0; "4M" on the command line */
    OBJECT_PROP_BOOL,    /* bool: on/off, true/false */
    OBJECT_PROP_UINT,    /* uint32_t */
    OBJECT_PROP_ENUM,    /* const char *: one of values[] */
} ObjectPropType;

typedef struct ObjectProp {
    const char *name;
    ObjectPropType type;
    size_t offset;                 /* in UserObject */
    bool required;
    uint64_t defval;               /* SIZE, BOOL, UINT */
    const char *const *values;     /* ENUM: NULL-terminated, [0] default */
} ObjectProp;

typedef struct UserObjectClass {
    const char *name;
    const ObjectProp *props;       /* ends at an unnamed entry */
} UserObjectClass;

typedef struct UserObject {
    char *id;
    const UserObjectClass *klass;
    bool in_use;                   /* the machine's RAM, a used iothread */
    /* memory-backend-ram */
    uint64_t size;
    bool merge, dump, prealloc, share, reserve;
    uint32_t prealloc_threads;
    const char *policy;
    /* iothread: QEMU's tuning knobs, kept and shown */
    uint32_t poll_max_ns, poll_grow, poll_shrink, aio_max_batch;
    uint32_t thread_pool_min, thread_pool_max;
} UserObject;

/* The types, NULL-terminated. */
extern const UserObjectClass *const user_object_classes[];
const UserObjectClass *user_object_class_find(const char *name);

/* props: Opt (key, value) strings as -object gives them, without qom-type
 * and id; NULL for none.  Every required property must be there. */
UserObject *user_object_add(const char *type, const char *id,
                            GPtrArray *props, Error **errp);
/* "TYPE,id=ID,prop=value,..." (-object; qom-type= may name the type). */
UserObject *user_object_add_opts(const char *optstr, Error **errp);
bool user_object_del(const char *id, Error **errp);
UserObject *user_object_find(const char *id);
/* All objects in creation order (the array stays the module's). */
GPtrArray *user_object_list(void);
/* The machine's RAM backend, as QEMU names it (id) and sizes it. */
bool user_object_add_machine_ram(const char *id, uint64_t size,
                                 Error **errp);

#endif
