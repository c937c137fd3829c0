/*
 * QMP: the command registry, the greeting and capabilities negotiation,
 * request checking and dispatch, replies and their error classes.  The wire
 * format follows QEMU's QMP specification: one JSON object per request,
 * {"return": ...} or {"error": {"class", "desc"}} per reply with the
 * request's "id" echoed, lines ending in CR LF.
 */
#include "monitor/monitor-internal.h"
#include "config-host.h"
#include <stdarg.h>

static GHashTable *commands;      /* name -> const QmpCommand * */

/* The error a handler gave a class to (dispatch is single-threaded). */
static Error *classed_error;
static QmpErrorClass classed_class;

void qmp_register_command(const QmpCommand *cmd)
{
    if (!commands) {
        commands = g_hash_table_new(g_str_hash, g_str_equal);
    }
    g_assert(!g_hash_table_contains(commands, cmd->name));
    g_hash_table_insert(commands, (gpointer)cmd->name, (gpointer)cmd);
}

const QmpCommand *qmp_find_command(const char *name)
{
    return commands ? g_hash_table_lookup(commands, name) : NULL;
}

static gint cmp_command(gconstpointer a, gconstpointer b)
{
    const QmpCommand *x = *(const QmpCommand *const *)a;
    const QmpCommand *y = *(const QmpCommand *const *)b;
    return strcmp(x->name, y->name);
}

GPtrArray *qmp_command_list(void)
{
    GPtrArray *list = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;
    if (commands) {
        g_hash_table_iter_init(&it, commands);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
            g_ptr_array_add(list, value);
        }
    }
    g_ptr_array_sort(list, cmp_command);
    return list;
}

/* ---- errors ---- */

void qmp_error_setg(Error **errp, QmpErrorClass cls, const char *fmt, ...)
{
    va_list ap;
    if (!errp) {
        return;
    }
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error_setg(errp, "%s", msg);
    g_free(msg);
    classed_error = *errp;
    classed_class = cls;
}

QmpErrorClass qmp_error_class_of(Error *err)
{
    return err && err == classed_error ? classed_class : QMP_ERROR_GENERIC;
}

const char *qmp_error_class_name(QmpErrorClass cls)
{
    static const char *const names[] = {
        [QMP_ERROR_GENERIC] = "GenericError",
        [QMP_ERROR_COMMAND_NOT_FOUND] = "CommandNotFound",
        [QMP_ERROR_DEVICE_NOT_ACTIVE] = "DeviceNotActive",
        [QMP_ERROR_DEVICE_NOT_FOUND] = "DeviceNotFound",
        [QMP_ERROR_KVM_MISSING_CAP] = "KVMMissingCap",
    };
    return names[cls];
}

/* ---- arguments ---- */

static const char *arg_type_name(QmpArgType t)
{
    static const char *const names[] = {
        [QMP_ARG_STRING] = "string", [QMP_ARG_INT] = "integer",
        [QMP_ARG_BOOL] = "boolean", [QMP_ARG_NUMBER] = "number",
        [QMP_ARG_OBJECT] = "object", [QMP_ARG_ARRAY] = "array",
        [QMP_ARG_ANY] = "any",
    };
    return names[t];
}

static bool arg_type_ok(JsonNode *node, QmpArgType t)
{
    GType vt = JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node)
                                            : G_TYPE_INVALID;
    switch (t) {
    case QMP_ARG_STRING: return vt == G_TYPE_STRING;
    case QMP_ARG_INT:    return vt == G_TYPE_INT64;
    case QMP_ARG_BOOL:   return vt == G_TYPE_BOOLEAN;
    case QMP_ARG_NUMBER: return vt == G_TYPE_INT64 || vt == G_TYPE_DOUBLE;
    case QMP_ARG_OBJECT: return JSON_NODE_HOLDS_OBJECT(node);
    case QMP_ARG_ARRAY:  return JSON_NODE_HOLDS_ARRAY(node);
    default:             return true;
    }
}

static const QmpArg *find_arg(const QmpCommand *cmd, const char *name)
{
    for (const QmpArg *a = cmd->args; a < cmd->args + QMP_MAX_ARGS && a->name;
         a++) {
        if (!strcmp(a->name, name)) {
            return a;
        }
    }
    return NULL;
}

bool qmp_check_args(const QmpCommand *cmd, JsonObject *args, Error **errp)
{
    for (const QmpArg *a = cmd->args; a < cmd->args + QMP_MAX_ARGS && a->name;
         a++) {
        JsonNode *v = json_object_get_member(args, a->name);
        if (!v) {
            if (!a->optional) {
                error_setg(errp, "Parameter '%s' is missing", a->name);
                return false;
            }
        } else if (!arg_type_ok(v, a->type)) {
            error_setg(errp, "Invalid parameter type for '%s', expected: %s",
                       a->name, arg_type_name(a->type));
            return false;
        }
    }
    GList *names = json_object_get_members(args);
    for (GList *l = names; l; l = l->next) {
        if (!find_arg(cmd, l->data)) {
            error_setg(errp, "Parameter '%s' is unexpected",
                       (const char *)l->data);
            g_list_free(names);
            return false;
        }
    }
    g_list_free(names);
    return true;
}

const char *qmp_arg_str(JsonObject *args, const char *name)
{
    JsonNode *n = json_object_get_member(args, name);
    return n && JSON_NODE_HOLDS_VALUE(n) &&
           json_node_get_value_type(n) == G_TYPE_STRING ?
           json_node_get_string(n) : NULL;
}

int64_t qmp_arg_int(JsonObject *args, const char *name, int64_t dflt)
{
    JsonNode *n = json_object_get_member(args, name);
    return n && JSON_NODE_HOLDS_VALUE(n) &&
           json_node_get_value_type(n) == G_TYPE_INT64 ?
           json_node_get_int(n) : dflt;
}

bool qmp_arg_bool(JsonObject *args, const char *name, bool dflt)
{
    JsonNode *n = json_object_get_member(args, name);
    return n && JSON_NODE_HOLDS_VALUE(n) &&
           json_node_get_value_type(n) == G_TYPE_BOOLEAN ?
           json_node_get_boolean(n) : dflt;
}

bool qmp_has_arg(JsonObject *args, const char *name)
{
    return json_object_has_member(args, name);
}

JsonNode *qmp_call(const char *name, JsonObject *args, Error **errp)
{
    const QmpCommand *cmd = qmp_find_command(name);
    JsonObject *empty = NULL;
    JsonNode *ret = NULL;

    if (!cmd || !cmd->fn) {
        qmp_error_setg(errp, QMP_ERROR_COMMAND_NOT_FOUND,
                       "The command %s has not been found", name);
        return NULL;
    }
    if (!args) {
        args = empty = json_object_new();
    }
    if (qmp_check_args(cmd, args, errp)) {
        ret = cmd->fn(args, errp);
    }
    if (empty) {
        json_object_unref(empty);
    }
    return ret;
}

/* ---- output ---- */

JsonNode *json_node_new_object_take(JsonObject *obj)
{
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, obj);
    return n;
}

JsonNode *json_node_new_array_take(JsonArray *arr)
{
    JsonNode *n = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(n, arr);
    return n;
}

/* Consumes node. */
void qmp_send_node(Monitor *mon, JsonNode *node)
{
    JsonGenerator *gen = json_generator_new();
    json_generator_set_root(gen, node);
    if (mon->pretty) {
        json_generator_set_pretty(gen, true);
        json_generator_set_indent(gen, 4);
    }
    gsize len;
    char *text = json_generator_to_data(gen, &len);
    monitor_puts(mon, text);
    monitor_puts(mon, "\n");
    g_free(text);
    g_object_unref(gen);
    json_node_unref(node);
}

static void send_reply(Monitor *mon, JsonNode *id, const char *key,
                       JsonNode *value)
{
    JsonObject *reply = json_object_new();
    json_object_set_member(reply, key, value);
    if (id) {
        json_object_set_member(reply, "id", json_node_copy(id));
    }
    qmp_send_node(mon, json_node_new_object_take(reply));
}

static void send_error(Monitor *mon, JsonNode *id, QmpErrorClass cls,
                       const char *desc)
{
    JsonObject *err = json_object_new();
    json_object_set_string_member(err, "class", qmp_error_class_name(cls));
    json_object_set_string_member(err, "desc", desc);
    send_reply(mon, id, "error", json_node_new_object_take(err));
}

static JsonObject *version_object(void)
{
    JsonObject *triple = json_object_new();
    json_object_set_int_member(triple, "major", QEMU_COMPAT_MAJOR);
    json_object_set_int_member(triple, "minor", QEMU_COMPAT_MINOR);
    json_object_set_int_member(triple, "micro", QEMU_COMPAT_MICRO);
    JsonObject *v = json_object_new();
    json_object_set_object_member(v, "qemu", triple);
    json_object_set_string_member(v, "package", "kestrel-" KESTREL_VERSION);
    return v;
}

JsonNode *qmp_query_version(JsonObject *args, Error **errp)
{
    return json_node_new_object_take(version_object());
}

void qmp_send_greeting(Monitor *mon)
{
    JsonObject *qmp = json_object_new();
    json_object_set_object_member(qmp, "version", version_object());
    json_object_set_array_member(qmp, "capabilities", json_array_new());
    JsonObject *greeting = json_object_new();
    json_object_set_object_member(greeting, "QMP", qmp);
    qmp_send_node(mon, json_node_new_object_take(greeting));
}

/* ---- dispatch ---- */

static void negotiate(Monitor *mon, JsonNode *id, JsonObject *args)
{
    static const QmpCommand caps = {
        .name = "qmp_capabilities",
        .args = { { "enable", QMP_ARG_ARRAY, true } },
    };
    Error *err = NULL;

    if (mon->negotiated) {
        send_error(mon, id, QMP_ERROR_COMMAND_NOT_FOUND,
                   "Capabilities negotiation is already complete, command "
                   "ignored");
        return;
    }
    if (!qmp_check_args(&caps, args, &err)) {
        send_error(mon, id, QMP_ERROR_GENERIC, err->msg);
        error_free(err);
        return;
    }
    JsonArray *enable = json_object_has_member(args, "enable") ?
                        json_object_get_array_member(args, "enable") : NULL;
    for (guint i = 0; enable && i < json_array_get_length(enable); i++) {
        JsonNode *n = json_array_get_element(enable, i);
        g_autofree char *msg = NULL;
        if (!JSON_NODE_HOLDS_VALUE(n) ||
            json_node_get_value_type(n) != G_TYPE_STRING) {
            msg = g_strdup("Invalid parameter type for 'enable[]', "
                           "expected: string");
        } else {
            /* We offer no capability (no out-of-band execution). */
            msg = g_strdup_printf("Capability '%s' not available",
                                  json_node_get_string(n));
        }
        send_error(mon, id, QMP_ERROR_GENERIC, msg);
        return;
    }
    mon->negotiated = true;
    send_reply(mon, id, "return",
               json_node_new_object_take(json_object_new()));
}

static void dispatch(Monitor *mon, JsonNode *root)
{
    JsonNode *id = NULL;
    Error *err = NULL;

    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        send_error(mon, NULL, QMP_ERROR_GENERIC,
                   "QMP input must be a JSON object");
        return;
    }
    JsonObject *req = json_node_get_object(root);
    id = json_object_get_member(req, "id");

    GList *members = json_object_get_members(req);
    for (GList *l = members; l; l = l->next) {
        const char *key = l->data;
        if (strcmp(key, "execute") && strcmp(key, "arguments") &&
            strcmp(key, "id")) {
            g_autofree char *msg =
                g_strdup_printf("QMP input member '%s' is unexpected", key);
            g_list_free(members);
            send_error(mon, id, QMP_ERROR_GENERIC, msg);
            return;
        }
    }
    g_list_free(members);

    JsonNode *exec = json_object_get_member(req, "execute");
    if (!exec) {
        send_error(mon, id, QMP_ERROR_GENERIC,
                   "QMP input lacks member 'execute'");
        return;
    }
    if (!JSON_NODE_HOLDS_VALUE(exec) ||
        json_node_get_value_type(exec) != G_TYPE_STRING) {
        send_error(mon, id, QMP_ERROR_GENERIC,
                   "QMP input member 'execute' must be a string");
        return;
    }
    JsonNode *argnode = json_object_get_member(req, "arguments");
    if (argnode && !JSON_NODE_HOLDS_OBJECT(argnode)) {
        send_error(mon, id, QMP_ERROR_GENERIC,
                   "QMP input member 'arguments' must be an object");
        return;
    }
    JsonObject *args = argnode ? json_object_ref(json_node_get_object(argnode))
                               : json_object_new();
    const char *name = json_node_get_string(exec);

    if (!strcmp(name, "qmp_capabilities")) {
        negotiate(mon, id, args);
    } else if (!mon->negotiated) {
        send_error(mon, id, QMP_ERROR_COMMAND_NOT_FOUND,
                   "Expecting capabilities negotiation with "
                   "'qmp_capabilities'");
    } else {
        classed_error = NULL;
        JsonNode *ret = qmp_call(name, args, &err);
        if (err) {
            send_error(mon, id, qmp_error_class_of(err), err->msg);
            error_free(err);
            classed_error = NULL;
            if (ret) {
                json_node_unref(ret);
            }
        } else {
            send_reply(mon, id, "return", ret ? ret :
                       json_node_new_object_take(json_object_new()));
        }
    }
    json_object_unref(args);
}

static void on_json(void *opaque, const char *text, size_t len)
{
    Monitor *mon = opaque;
    GError *gerr = NULL;

    if (!g_utf8_validate(text, len, NULL)) {
        send_error(mon, NULL, QMP_ERROR_GENERIC,
                   "JSON parse error, invalid UTF-8 sequence");
        return;
    }
    JsonParser *parser = json_parser_new_immutable();
    if (!json_parser_load_from_data(parser, text, len, &gerr)) {
        g_autofree char *msg = g_strdup_printf("JSON parse error, %s",
                                               gerr->message);
        send_error(mon, NULL, QMP_ERROR_GENERIC, msg);
        g_error_free(gerr);
    } else {
        dispatch(mon, json_parser_get_root(parser));
    }
    g_object_unref(parser);
}

static void on_json_error(void *opaque, const char *msg)
{
    send_error(opaque, NULL, QMP_ERROR_GENERIC, msg);
}

void qmp_monitor_setup(Monitor *mon)
{
    json_stream_init(&mon->stream, QMP_MAX_MESSAGE, on_json, on_json_error,
                     mon);
}
