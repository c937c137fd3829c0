/*
 * query-qmp-schema: the QMP interface in QEMU's introspection format (the
 * SchemaInfo entries of QEMU's qapi/introspect.json), generated from the
 * command table and the event list below, so it says what the dispatcher
 * really accepts.
 *
 * Type names carry no meaning on the wire (QEMU numbers them); ours are
 * "CMD-arg" for a command's arguments, "CMD-arg-VALUE" for the arguments a
 * value of its first one adds, "CMD-TAG" for that value's enum, "CMD-ret"
 * for its result, "EVENT-data" for an event's data, "[T]" for an array of
 * T and "empty" for the object without members; builtins keep QEMU's names.
 */
#include "monitor/monitor-internal.h"

/* Keep this list in step with the qmp_event_send() calls (a test checks). */
const QmpEventInfo qmp_events[] = {
    { "STOP" },
    { "RESUME" },
    { "RESET", { { "guest", QMP_ARG_BOOL }, { "reason", QMP_ARG_STRING } } },
    { "SHUTDOWN", { { "guest", QMP_ARG_BOOL },
                    { "reason", QMP_ARG_STRING } } },
    { "POWERDOWN" },
    { "GUEST_PANICKED", { { "action", QMP_ARG_STRING } } },
    { "GUEST_CRASHLOADED", { { "action", QMP_ARG_STRING } } },
    { "DEVICE_TRAY_MOVED", { { "device", QMP_ARG_STRING },
                             { "id", QMP_ARG_STRING },
                             { "tray-open", QMP_ARG_BOOL } } },
    { "BLOCK_IO_ERROR", { { "device", QMP_ARG_STRING },
                          { "node-name", QMP_ARG_STRING, true },
                          { "operation", QMP_ARG_STRING },
                          { "action", QMP_ARG_STRING },
                          { "nospace", QMP_ARG_BOOL, true },
                          { "reason", QMP_ARG_STRING } } },
    { "DEVICE_DELETED", { { "device", QMP_ARG_STRING, true },
                          { "path", QMP_ARG_STRING } } },
    { NULL },
};

typedef struct Schema {
    JsonArray *list;
    GHashTable *names;
} Schema;

static JsonObject *new_entry(Schema *s, const char *name, const char *meta)
{
    g_assert(!g_hash_table_contains(s->names, name));   /* names are unique */
    g_hash_table_add(s->names, g_strdup(name));
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "name", name);
    json_object_set_string_member(o, "meta-type", meta);
    json_array_add_object_element(s->list, o);
    return o;
}

static void add_builtin(Schema *s, const char *name, const char *json_type)
{
    JsonObject *o = new_entry(s, name, "builtin");
    json_object_set_string_member(o, "json-type", json_type);
}

/* "[element]", once. */
static const char *array_of(Schema *s, const char *element, char *buf,
                            size_t len)
{
    snprintf(buf, len, "[%s]", element);
    if (!g_hash_table_contains(s->names, buf)) {
        JsonObject *o = new_entry(s, buf, "array");
        json_object_set_string_member(o, "element-type", element);
    }
    return buf;
}

static const char *arg_type(Schema *s, QmpArgType t)
{
    static char buf[8];
    switch (t) {
    case QMP_ARG_STRING: return "str";
    case QMP_ARG_INT:    return "int";
    case QMP_ARG_BOOL:   return "bool";
    case QMP_ARG_NUMBER: return "number";
    case QMP_ARG_ARRAY:  return array_of(s, "any", buf, sizeof(buf));
    default:             return "any";   /* objects too: no builtin */
    }
}

static JsonObject *member(const char *name, const char *type, bool optional)
{
    JsonObject *m = json_object_new();
    json_object_set_string_member(m, "name", name);
    json_object_set_string_member(m, "type", type);
    if (optional) {
        json_object_set_null_member(m, "default");   /* "optional" */
    }
    return m;
}

/* An object type with the members of list (max entries or up to an
 * unnamed one); tag_type, if given, is the type of the first member. */
static JsonObject *add_object(Schema *s, const char *name, const QmpArg *list,
                              size_t max, const char *tag_type)
{
    JsonObject *o = new_entry(s, name, "object");
    JsonArray *members = json_array_new();
    for (size_t i = 0; list && i < max && list[i].name; i++) {
        const char *type = i == 0 && tag_type ? tag_type
                                              : arg_type(s, list[i].type);
        json_array_add_object_element(members,
            member(list[i].name, type, list[i].optional));
    }
    json_object_set_array_member(o, "members", members);
    return o;
}

/* Arguments chosen by the first one's value: an enum of the values, a
 * tagged object with a variant per value (QEMU's flat union). */
static void add_union(Schema *s, const QmpCommand *cmd, const char *name)
{
    const char *tag = cmd->args[0].name;
    g_autofree char *enum_name = g_strdup_printf("%s-%s", cmd->name, tag);
    JsonObject *e = new_entry(s, enum_name, "enum");
    JsonArray *values = json_array_new(), *enum_members = json_array_new();
    JsonArray *variants = json_array_new();

    for (const QmpArgCase *c = cmd->arg_cases(); c->value; c++) {
        g_autofree char *case_type = g_strdup_printf("%s-%s", name, c->value);
        JsonObject *m = json_object_new(), *v = json_object_new();
        json_array_add_string_element(values, c->value);
        json_object_set_string_member(m, "name", c->value);
        json_array_add_object_element(enum_members, m);
        add_object(s, case_type, c->args, SIZE_MAX, NULL);
        json_object_set_string_member(v, "case", c->value);
        json_object_set_string_member(v, "type", case_type);
        json_array_add_object_element(variants, v);
    }
    json_object_set_array_member(e, "members", enum_members);
    json_object_set_array_member(e, "values", values);
    JsonObject *o = add_object(s, name, cmd->args, QMP_MAX_ARGS, enum_name);
    json_object_set_string_member(o, "tag", tag);
    json_object_set_array_member(o, "variants", variants);
}

static const char *command_arg_type(Schema *s, const QmpCommand *cmd,
                                    char *buf, size_t len)
{
    if (!cmd->args[0].name) {
        return "empty";
    }
    snprintf(buf, len, "%s-arg", cmd->name);
    if (cmd->arg_cases) {
        add_union(s, cmd, buf);
    } else {
        add_object(s, buf, cmd->args, QMP_MAX_ARGS, NULL);
    }
    return buf;
}

static const char *command_ret_type(Schema *s, const QmpCommand *cmd,
                                    char *buf, size_t len)
{
    g_autofree char *obj = g_strdup_printf("%s-ret", cmd->name);
    switch (cmd->ret) {
    case QMP_RET_EMPTY:  return "empty";
    case QMP_RET_STRING: return "str";
    case QMP_RET_ANY:    return "any";
    case QMP_RET_OBJECT:
    case QMP_RET_ARRAY:
        if (!cmd->ret_members) {
            snprintf(buf, len, "any");
        } else {
            add_object(s, obj, cmd->ret_members, SIZE_MAX, NULL);
            snprintf(buf, len, "%s", obj);
        }
        if (cmd->ret == QMP_RET_ARRAY) {
            g_autofree char *element = g_strdup(buf);
            return array_of(s, element, buf, len);
        }
        return buf;
    }
    return "any";
}

static JsonNode *qmp_query_qmp_schema(JsonObject *args, Error **errp)
{
    Schema s = {
        .list = json_array_new(),
        .names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
    };
    static const char *const builtins[][2] = {
        { "str", "string" }, { "int", "int" }, { "bool", "boolean" },
        { "number", "number" }, { "null", "null" }, { "any", "value" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(builtins); i++) {
        add_builtin(&s, builtins[i][0], builtins[i][1]);
    }
    add_object(&s, "empty", NULL, 0, NULL);

    GPtrArray *cmds = qmp_command_list();
    for (guint i = 0; i < cmds->len; i++) {
        const QmpCommand *cmd = g_ptr_array_index(cmds, i);
        char arg[128], ret[128];
        const char *arg_name = command_arg_type(&s, cmd, arg, sizeof(arg));
        const char *ret_name = command_ret_type(&s, cmd, ret, sizeof(ret));
        JsonObject *o = new_entry(&s, cmd->name, "command");
        json_object_set_string_member(o, "arg-type", arg_name);
        json_object_set_string_member(o, "ret-type", ret_name);
        if (cmd->allow_oob) {
            json_object_set_boolean_member(o, "allow-oob", true);
        }
    }
    g_ptr_array_free(cmds, true);

    for (const QmpEventInfo *ev = qmp_events; ev->name; ev++) {
        g_autofree char *data = g_strdup_printf("%s-data", ev->name);
        if (ev->data[0].name) {
            add_object(&s, data, ev->data, QMP_MAX_ARGS, NULL);
        }
        JsonObject *o = new_entry(&s, ev->name, "event");
        json_object_set_string_member(o, "arg-type",
                                      ev->data[0].name ? data : "empty");
    }
    g_hash_table_destroy(s.names);
    return json_node_new_array_take(s.list);
}

static const QmpCommand query_qmp_schema_cmd = {
    "query-qmp-schema", qmp_query_qmp_schema, .ret = QMP_RET_ARRAY,
};
QMP_COMMAND_REGISTER(query_qmp_schema_cmd)
