/*
 * object-add, object-del, query-memdev and query-iothreads over the
 * user-creatable objects (system/objects.c).  The dispatcher checks object-add's properties
 * against one argument case per object type, built from the types'
 * property tables; the values then reach the object as the strings -object
 * would give.
 */
#include "monitor/monitor-internal.h"
#include "system/objects.h"
#include "util/opts.h"

JsonNode *user_object_prop_value(UserObject *obj, const ObjectProp *p)
{
    void *field = (char *)obj + p->offset;
    JsonNode *v = json_node_new(JSON_NODE_VALUE);
    switch (p->type) {
    case OBJECT_PROP_SIZE: json_node_set_int(v, *(uint64_t *)field); break;
    case OBJECT_PROP_BOOL: json_node_set_boolean(v, *(bool *)field); break;
    case OBJECT_PROP_UINT: json_node_set_int(v, *(uint32_t *)field); break;
    case OBJECT_PROP_ENUM:
        json_node_set_string(v, *(const char **)field);
        break;
    }
    return v;
}

static const QmpArgCase *object_add_cases(void)
{
    static QmpArgCase *cases;
    size_t n = 0;

    if (cases) {
        return cases;
    }
    while (user_object_classes[n]) {
        n++;
    }
    cases = g_new0(QmpArgCase, n + 1);
    for (size_t i = 0; i < n; i++) {
        const UserObjectClass *klass = user_object_classes[i];
        size_t nprops = 0;
        while (klass->props[nprops].name) {
            nprops++;
        }
        QmpArg *args = g_new0(QmpArg, nprops + 1);
        for (size_t j = 0; j < nprops; j++) {
            const ObjectProp *p = &klass->props[j];
            args[j].name = p->name;
            args[j].type = p->type == OBJECT_PROP_BOOL ? QMP_ARG_BOOL :
                           p->type == OBJECT_PROP_ENUM ? QMP_ARG_STRING :
                           QMP_ARG_INT;
            args[j].optional = !p->required;
        }
        cases[i].value = klass->name;
        cases[i].args = args;
    }
    return cases;
}

static JsonNode *qmp_object_add(JsonObject *args, Error **errp)
{
    GPtrArray *props = g_ptr_array_new_with_free_func(g_free);
    GList *names = json_object_get_members(args);

    /* Types are checked: only ints, booleans and strings are left. */
    for (GList *l = names; l; l = l->next) {
        const char *key = l->data;
        JsonNode *n = json_object_get_member(args, key);
        if (!strcmp(key, "qom-type") || !strcmp(key, "id")) {
            continue;
        }
        Opt *o = g_new0(Opt, 1);
        o->key = (char *)key;
        switch (json_node_get_value_type(n)) {
        case G_TYPE_BOOLEAN:
            o->value = g_strdup(json_node_get_boolean(n) ? "on" : "off");
            break;
        case G_TYPE_INT64:
            o->value = g_strdup_printf("%" PRId64, json_node_get_int(n));
            break;
        default:
            o->value = g_strdup(json_node_get_string(n));
            break;
        }
        g_ptr_array_add(props, o);
    }
    g_list_free(names);
    user_object_add(qmp_arg_str(args, "qom-type"), qmp_arg_str(args, "id"),
                    props, errp);
    for (guint i = 0; i < props->len; i++) {
        g_free(((Opt *)g_ptr_array_index(props, i))->value);
    }
    g_ptr_array_free(props, true);
    return NULL;
}

static JsonNode *qmp_object_del(JsonObject *args, Error **errp)
{
    user_object_del(qmp_arg_str(args, "id"), errp);
    return NULL;
}

/* Every memory backend, the machine's RAM included, as QEMU lists them. */
static JsonNode *qmp_query_memdev(JsonObject *args, Error **errp)
{
    GPtrArray *objs = user_object_list();
    JsonArray *arr = json_array_new();

    for (guint i = 0; i < objs->len; i++) {
        UserObject *obj = g_ptr_array_index(objs, i);
        if (strcmp(obj->klass->name, "memory-backend-ram")) {
            continue;
        }
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "id", obj->id);
        for (const ObjectProp *p = obj->klass->props; p->name; p++) {
            if (strcmp(p->name, "prealloc-threads")) {
                json_object_set_member(o, p->name,
                                       user_object_prop_value(obj, p));
            }
        }
        json_object_set_array_member(o, "host-nodes", json_array_new());
        json_array_add_object_element(arr, o);
    }
    return json_node_new_array_take(arr);
}

/*
 * kestrel runs no I/O threads: a device given iothread= does its work in
 * the main loop, so that is the thread each iothread object reports.
 */
static JsonNode *qmp_query_iothreads(JsonObject *args, Error **errp)
{
    GPtrArray *objs = user_object_list();
    JsonArray *arr = json_array_new();

    for (guint i = 0; i < objs->len; i++) {
        UserObject *obj = g_ptr_array_index(objs, i);
        if (strcmp(obj->klass->name, "iothread")) {
            continue;
        }
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "id", obj->id);
        json_object_set_int_member(o, "thread-id", getpid());
        json_object_set_int_member(o, "poll-max-ns", obj->poll_max_ns);
        json_object_set_int_member(o, "poll-grow", obj->poll_grow);
        json_object_set_int_member(o, "poll-shrink", obj->poll_shrink);
        json_object_set_int_member(o, "aio-max-batch", obj->aio_max_batch);
        json_array_add_object_element(arr, o);
    }
    return json_node_new_array_take(arr);
}

static const QmpArg iothread_members[] = {
    { "id", QMP_ARG_STRING }, { "thread-id", QMP_ARG_INT },
    { "poll-max-ns", QMP_ARG_INT }, { "poll-grow", QMP_ARG_INT },
    { "poll-shrink", QMP_ARG_INT }, { "aio-max-batch", QMP_ARG_INT },
    { NULL },
};

static const QmpArg memdev_members[] = {
    { "id", QMP_ARG_STRING, true }, { "size", QMP_ARG_INT },
    { "merge", QMP_ARG_BOOL }, { "dump", QMP_ARG_BOOL },
    { "prealloc", QMP_ARG_BOOL }, { "share", QMP_ARG_BOOL },
    { "reserve", QMP_ARG_BOOL, true }, { "host-nodes", QMP_ARG_ARRAY },
    { "policy", QMP_ARG_STRING }, { NULL },
};

static const QmpCommand object_add_cmd = {
    "object-add", qmp_object_add,
    { { "qom-type", QMP_ARG_STRING }, { "id", QMP_ARG_STRING } },
    .arg_cases = object_add_cases,
};
static const QmpCommand object_del_cmd = {
    "object-del", qmp_object_del, { { "id", QMP_ARG_STRING } },
};
static const QmpCommand query_memdev_cmd = {
    "query-memdev", qmp_query_memdev,
    .ret = QMP_RET_ARRAY, .ret_members = memdev_members,
};
QMP_COMMAND_REGISTER(object_add_cmd)
QMP_COMMAND_REGISTER(object_del_cmd)
static const QmpCommand query_iothreads_cmd = {
    "query-iothreads", qmp_query_iothreads,
    .ret = QMP_RET_ARRAY, .ret_members = iothread_members,
};
QMP_COMMAND_REGISTER(query_memdev_cmd)
QMP_COMMAND_REGISTER(query_iothreads_cmd)
