/*
 * User-creatable objects: -object, object-add/object-del and query-memdev
 * work on this list (include/system/objects.h).  Values arrive as strings
 * (the command line's form; QMP's typed values are checked and converted
 * by the monitor first) and are checked against each type's property table.
 */
#include "system/objects.h"
#include "util/opts.h"

#define BACKEND_PROP(_name, _type, _field, _def) { .name = (_name), \
    .type = (_type), .offset = offsetof(UserObject, _field), .defval = (_def) }

static const char *const host_mem_policies[] = { "default", NULL };

static const ObjectProp memory_backend_props[] = {
    { .name = "size", .type = OBJECT_PROP_SIZE,
      .offset = offsetof(UserObject, size), .required = true },
    BACKEND_PROP("merge", OBJECT_PROP_BOOL, merge, true),
    BACKEND_PROP("dump", OBJECT_PROP_BOOL, dump, true),
    BACKEND_PROP("prealloc", OBJECT_PROP_BOOL, prealloc, false),
    BACKEND_PROP("share", OBJECT_PROP_BOOL, share, false),
    BACKEND_PROP("reserve", OBJECT_PROP_BOOL, reserve, true),
    BACKEND_PROP("prealloc-threads", OBJECT_PROP_UINT, prealloc_threads, 1),
    /* No NUMA here: "default" is the only policy. */
    { .name = "policy", .type = OBJECT_PROP_ENUM,
      .offset = offsetof(UserObject, policy), .values = host_mem_policies },
    { .name = NULL },
};

static const ObjectProp no_props[] = { { .name = NULL } };

/* QEMU's defaults; nothing here polls or pools, so they are only shown. */
static const ObjectProp iothread_props[] = {
    BACKEND_PROP("poll-max-ns", OBJECT_PROP_UINT, poll_max_ns, 32768),
    BACKEND_PROP("poll-grow", OBJECT_PROP_UINT, poll_grow, 0),
    BACKEND_PROP("poll-shrink", OBJECT_PROP_UINT, poll_shrink, 0),
    BACKEND_PROP("aio-max-batch", OBJECT_PROP_UINT, aio_max_batch, 0),
    BACKEND_PROP("thread-pool-min", OBJECT_PROP_UINT, thread_pool_min, 0),
    BACKEND_PROP("thread-pool-max", OBJECT_PROP_UINT, thread_pool_max, 64),
    { .name = NULL },
};

static const UserObjectClass memory_backend_ram = {
    "memory-backend-ram", memory_backend_props,
};
static const UserObjectClass rng_builtin = { "rng-builtin", no_props };
static const UserObjectClass iothread = { "iothread", iothread_props };

const UserObjectClass *const user_object_classes[] = {
    &memory_backend_ram, &rng_builtin, &iothread, NULL,
};

static GPtrArray *objects;

const UserObjectClass *user_object_class_find(const char *name)
{
    for (const UserObjectClass *const *c = user_object_classes; *c; c++) {
        if (!strcmp((*c)->name, name)) {
            return *c;
        }
    }
    return NULL;
}

GPtrArray *user_object_list(void)
{
    if (!objects) {
        objects = g_ptr_array_new();
    }
    return objects;
}

UserObject *user_object_find(const char *id)
{
    GPtrArray *list = user_object_list();
    for (guint i = 0; i < list->len; i++) {
        UserObject *obj = g_ptr_array_index(list, i);
        if (!strcmp(obj->id, id)) {
            return obj;
        }
    }
    return NULL;
}

/* QEMU's rule for ids: a letter, then letters, digits, '-', '.', '_'. */
static bool id_wellformed(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id + 1; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

static const ObjectProp *find_prop(const UserObjectClass *klass,
                                   const char *name)
{
    for (const ObjectProp *p = klass->props; p->name; p++) {
        if (!strcmp(p->name, name)) {
            return p;
        }
    }
    return NULL;
}

static bool prop_set(UserObject *obj, const ObjectProp *p, const char *value,
                     Error **errp)
{
    void *field = (char *)obj + p->offset;
    uint64_t v;
    bool ok = false;

    switch (p->type) {
    case OBJECT_PROP_SIZE:
        ok = parse_size(value, 'B', &v) && v > 0;
        if (ok) {
            *(uint64_t *)field = v;
        }
        break;
    case OBJECT_PROP_BOOL:
        ok = opt_parse_bool(value, (bool *)field);
        break;
    case OBJECT_PROP_UINT:
        ok = parse_uint64(value, &v) && v <= UINT32_MAX;
        if (ok) {
            *(uint32_t *)field = v;
        }
        break;
    case OBJECT_PROP_ENUM:
        for (const char *const *e = p->values; *e && !ok; e++) {
            if (!strcmp(*e, value)) {
                *(const char **)field = *e;
                ok = true;
            }
        }
        break;
    }
    if (!ok) {
        error_setg(errp, "Property '%s.%s' doesn't take value '%s'",
                   obj->klass->name, p->name, value);
    }
    return ok;
}

static void set_defaults(UserObject *obj)
{
    for (const ObjectProp *p = obj->klass->props; p->name; p++) {
        void *field = (char *)obj + p->offset;
        switch (p->type) {
        case OBJECT_PROP_SIZE: *(uint64_t *)field = p->defval; break;
        case OBJECT_PROP_BOOL: *(bool *)field = p->defval; break;
        case OBJECT_PROP_UINT: *(uint32_t *)field = p->defval; break;
        case OBJECT_PROP_ENUM: *(const char **)field = p->values[0]; break;
        }
    }
}

static void object_free(UserObject *obj)
{
    g_free(obj->id);
    g_free(obj);
}

UserObject *user_object_add(const char *type, const char *id,
                            GPtrArray *props, Error **errp)
{
    const UserObjectClass *klass = user_object_class_find(type);
    UserObject *obj;

    if (!klass) {
        error_setg(errp, "Invalid object type '%s' (memory-backend-ram, "
                   "rng-builtin or iothread)", type);
        return NULL;
    }
    if (!id) {
        error_setg(errp, "Parameter 'id' is missing");
        return NULL;
    }
    if (!id_wellformed(id)) {
        error_setg(errp, "Parameter 'id' expects an identifier");
        return NULL;
    }
    if (user_object_find(id)) {
        error_setg(errp, "An object with id '%s' already exists", id);
        return NULL;
    }
    obj = g_new0(UserObject, 1);
    obj->klass = klass;
    obj->id = g_strdup(id);
    set_defaults(obj);
    for (guint i = 0; props && i < props->len; i++) {
        Opt *o = g_ptr_array_index(props, i);
        const ObjectProp *p = find_prop(klass, o->key);
        if (!p) {
            error_setg(errp, "Property '%s.%s' not found", type, o->key);
            goto fail;
        }
        if (!prop_set(obj, p, o->value, errp)) {
            goto fail;
        }
    }
    for (const ObjectProp *p = klass->props; p->name; p++) {
        if (p->required && !(props && opts_get(props, p->name))) {
            error_setg(errp, "Parameter '%s' is missing", p->name);
            goto fail;
        }
    }
    g_ptr_array_add(user_object_list(), obj);
    return obj;
fail:
    object_free(obj);
    return NULL;
}

UserObject *user_object_add_opts(const char *optstr, Error **errp)
{
    GPtrArray *opts = opts_parse(optstr, "qom-type", errp);
    GPtrArray *props = g_ptr_array_new();
    UserObject *obj = NULL;

    if (!opts) {
        g_ptr_array_free(props, true);
        return NULL;
    }
    for (guint i = 0; i < opts->len; i++) {
        Opt *o = g_ptr_array_index(opts, i);
        if (strcmp(o->key, "qom-type") && strcmp(o->key, "id")) {
            g_ptr_array_add(props, o);
        }
    }
    const char *type = opts_get(opts, "qom-type");
    if (!type) {
        error_setg(errp, "Parameter 'qom-type' is missing");
    } else {
        obj = user_object_add(type, opts_get(opts, "id"), props, errp);
    }
    g_ptr_array_free(props, true);
    opts_free(opts);
    return obj;
}

bool user_object_del(const char *id, Error **errp)
{
    UserObject *obj = user_object_find(id);

    if (!obj) {
        return error_fail(errp, "object '%s' not found", id);
    }
    if (obj->in_use) {
        return error_fail(errp, "object '%s' is in use, can not be deleted",
                          id);
    }
    g_ptr_array_remove(user_object_list(), obj);
    object_free(obj);
    return true;
}

bool user_object_add_machine_ram(const char *id, uint64_t size, Error **errp)
{
    g_autofree char *size_str = g_strdup_printf("%" PRIu64, size);
    Opt size_opt = { (char *)"size", size_str };
    GPtrArray *props = g_ptr_array_new();
    g_ptr_array_add(props, &size_opt);
    UserObject *obj = user_object_add("memory-backend-ram", id, props, errp);
    g_ptr_array_free(props, true);
    if (obj) {
        obj->in_use = true;
    }
    return obj != NULL;
}
