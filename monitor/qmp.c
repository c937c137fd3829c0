/*
 * QMP: the command registry, the greeting and capabilities negotiation,
 * request checking and dispatch, replies and their error classes.  The wire
 * format follows QEMU's QMP specification: one JSON object per request,
 * {"return": ...} or {"error": {"class", "desc"}} per reply with the
 * request's "id" echoed, lines ending in CR LF.
 */
#include "monitor/monitor-internal.h"
#include "system/system.h"
#include "config-host.h"
#include <stdarg.h>

static GHashTable *commands;      /* name -> const QmpCommand * */

/* The error a handler gave a class to (per thread: OOB commands run in
 * the monitor's I/O thread). */
static __thread Error *classed_error;
static __thread QmpErrorClass classed_class;

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

static const QmpArg *find_arg(const QmpArg *list, size_t max,
                              const char *name)
{
    for (size_t i = 0; list && i < max && list[i].name; i++) {
        if (!strcmp(list[i].name, name)) {
            return &list[i];
        }
    }
    return NULL;
}

/* Every argument of list is there unless optional, with its type. */
static bool check_list(const QmpArg *list, size_t max, JsonObject *args,
                       Error **errp)
{
    for (size_t i = 0; i < max && list[i].name; i++) {
        const QmpArg *a = &list[i];
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
    return true;
}

/* The case of cmd->arg_cases that the value of args[0] selects. */
static bool find_case(const QmpCommand *cmd, JsonObject *args,
                      const QmpArgCase **found, Error **errp)
{
    const char *tag = cmd->args[0].name;
    const char *value = cmd->arg_cases ? qmp_arg_str(args, tag) : NULL;

    *found = NULL;
    if (!value) {
        return true;
    }
    for (const QmpArgCase *c = cmd->arg_cases(); c->value; c++) {
        if (!strcmp(c->value, value)) {
            *found = c;
            return true;
        }
    }
    return error_fail(errp, "Parameter '%s' does not accept value '%s'", tag,
                      value);
}

bool qmp_check_args(const QmpCommand *cmd, JsonObject *args, Error **errp)
{
    const QmpArgCase *c;

    if (!check_list(cmd->args, QMP_MAX_ARGS, args, errp) ||
        !find_case(cmd, args, &c, errp) ||
        (c && !check_list(c->args, SIZE_MAX, args, errp))) {
        return false;
    }
    GList *names = json_object_get_members(args);
    for (GList *l = names; l && !cmd->extra_args; l = l->next) {
        if (!find_arg(cmd->args, QMP_MAX_ARGS, l->data) &&
            !(c && find_arg(c->args, SIZE_MAX, l->data))) {
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

/*
 * Before --preconfig's machine exists: the commands QEMU 7.2 allows then
 * (allow-preconfig in its schema), of those kestrel has or may have.
 */
static bool allowed_in_preconfig(const char *name)
{
    static const char *const names[] = {
        "qmp_capabilities", "query-commands", "query-qmp-schema",
        "query-command-line-options", "query-status", "query-version",
        "query-name", "query-chardev", "query-memdev", "query-block",
        "query-iothreads", "qom-list", "qom-get", "qom-set",
        "qom-list-types", "object-add", "object-del", "quit",
        "x-exit-preconfig",
    };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (!strcmp(names[i], name)) {
            return true;
        }
    }
    return false;
}

/*
 * oob: exec-oob, in the thread that read it, without the big lock.  OOB
 * commands touch no machine state, so they skip the --preconfig check.
 */
static JsonNode *call(const char *name, JsonObject *args, bool oob,
                      Error **errp)
{
    const QmpCommand *cmd = qmp_find_command(name);
    JsonObject *empty = NULL;
    JsonNode *ret = NULL;

    if (!cmd) {
        qmp_error_setg(errp, QMP_ERROR_COMMAND_NOT_FOUND,
                       "The command %s has not been found", name);
        return NULL;
    }
    if (oob && !cmd->allow_oob) {
        error_setg(errp, "The command %s does not support OOB", name);
        return NULL;
    }
    if (!cmd->fn) {
        qmp_error_setg(errp, QMP_ERROR_COMMAND_NOT_FOUND,
                       "The command %s has not been found", name);
        return NULL;
    }
    if (!oob && qemu_preconfig_pending() && !allowed_in_preconfig(name)) {
        error_setg(errp, "The command '%s' is not available before the "
                   "machine is built (--preconfig: x-exit-preconfig first)",
                   name);
        return NULL;
    }
    if (!args) {
        args = empty = json_object_new();
    }
    if (qmp_check_args(cmd, args, errp)) {
        ret = cmd->fn(args, errp);
        /* query-qmp-schema tells clients which commands return {} */
        g_assert(!ret || cmd->ret != QMP_RET_EMPTY);
    }
    if (empty) {
        json_object_unref(empty);
    }
    return ret;
}

JsonNode *qmp_call(const char *name, JsonObject *args, Error **errp)
{
    return call(name, args, false, errp);
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
    /* One write: replies from two threads must not interleave. */
    char *line = g_strconcat(text, "\n", NULL);
    monitor_puts(mon, line);
    g_free(line);
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
    JsonArray *caps = json_array_new();
    if (!mon->mux) {
        /* Out-of-band execution needs the chardev's input to ourselves. */
        json_array_add_string_element(caps, "oob");
    }
    json_object_set_array_member(qmp, "capabilities", caps);
    JsonObject *greeting = json_object_new();
    json_object_set_object_member(greeting, "QMP", qmp);
    qmp_send_node(mon, json_node_new_object_take(greeting));
}

/* ---- requests ---- */

typedef struct QmpRequest {
    JsonNode *id;            /* echoed in the reply; NULL: none */
    char *error;             /* malformed: answered with this GenericError */
    char *name;
    JsonObject *args;
    bool oob;                /* exec-oob: runs at once, where it was read */
    bool negotiated;         /* the session's state when it was read */
} QmpRequest;

static void request_free(QmpRequest *req)
{
    if (req->id) {
        json_node_unref(req->id);
    }
    if (req->args) {
        json_object_unref(req->args);
    }
    g_free(req->error);
    g_free(req->name);
    g_free(req);
}

static QmpRequest *bad_request(QmpRequest *req, const char *fmt, ...)
    PRINTF_FMT(2, 3);
static QmpRequest *bad_request(QmpRequest *req, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    req->error = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return req;
}

/* The request's members, checked as QEMU does; exec-oob only once the
 * session enabled OOB.  root may be NULL (error set). */
static QmpRequest *parse_request(Monitor *mon, JsonNode *root,
                                 const char *error)
{
    QmpRequest *req = g_new0(QmpRequest, 1);
    req->negotiated = mon->negotiated;
    if (error) {
        return bad_request(req, "%s", error);
    }
    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        return bad_request(req, "QMP input must be a JSON object");
    }
    JsonObject *obj = json_node_get_object(root);
    JsonNode *id = json_object_get_member(obj, "id");
    req->id = id ? json_node_copy(id) : NULL;

    GList *members = json_object_get_members(obj);
    for (GList *l = members; l; l = l->next) {
        const char *key = l->data;
        if (strcmp(key, "execute") && strcmp(key, "arguments") &&
            strcmp(key, "id") && (strcmp(key, "exec-oob") || !mon->oob)) {
            bad_request(req, "QMP input member '%s' is unexpected", key);
            break;
        }
    }
    g_list_free(members);
    if (req->error) {
        return req;
    }
    JsonNode *exec = json_object_get_member(obj, "execute");
    JsonNode *exec_oob = json_object_get_member(obj, "exec-oob");
    if (exec && exec_oob) {
        return bad_request(req, "QMP input member 'execute' clashes with "
                           "'exec-oob'");
    }
    const char *key = exec_oob ? "exec-oob" : "execute";
    JsonNode *name = exec_oob ? exec_oob : exec;
    if (!name) {
        return bad_request(req, "QMP input lacks member 'execute'");
    }
    if (!JSON_NODE_HOLDS_VALUE(name) ||
        json_node_get_value_type(name) != G_TYPE_STRING) {
        return bad_request(req, "QMP input member '%s' must be a string", key);
    }
    JsonNode *argnode = json_object_get_member(obj, "arguments");
    if (argnode && !JSON_NODE_HOLDS_OBJECT(argnode)) {
        return bad_request(req, "QMP input member 'arguments' must be an "
                           "object");
    }
    req->name = g_strdup(json_node_get_string(name));
    req->args = argnode ? json_object_ref(json_node_get_object(argnode))
                        : json_object_new();
    req->oob = exec_oob != NULL;
    return req;
}

static void negotiate(Monitor *mon, QmpRequest *req)
{
    static const QmpCommand caps = {
        .name = "qmp_capabilities",
        .args = { { "enable", QMP_ARG_ARRAY, true } },
    };
    Error *err = NULL;
    bool oob = false;

    if (req->negotiated) {
        send_error(mon, req->id, QMP_ERROR_COMMAND_NOT_FOUND,
                   "Capabilities negotiation is already complete, command "
                   "ignored");
        return;
    }
    if (!qmp_check_args(&caps, req->args, &err)) {
        send_error(mon, req->id, QMP_ERROR_GENERIC, err->msg);
        error_free(err);
        return;
    }
    JsonArray *enable = json_object_has_member(req->args, "enable") ?
                        json_object_get_array_member(req->args, "enable") :
                        NULL;
    for (guint i = 0; enable && i < json_array_get_length(enable); i++) {
        JsonNode *n = json_array_get_element(enable, i);
        g_autofree char *msg = NULL;
        if (!JSON_NODE_HOLDS_VALUE(n) ||
            json_node_get_value_type(n) != G_TYPE_STRING) {
            msg = g_strdup("Invalid parameter type for 'enable[]', "
                           "expected: string");
        } else if (!strcmp(json_node_get_string(n), "oob") && !mon->mux) {
            oob = true;
            continue;
        } else {
            msg = g_strdup_printf("Capability '%s' not available",
                                  json_node_get_string(n));
        }
        send_error(mon, req->id, QMP_ERROR_GENERIC, msg);
        return;
    }
    pthread_mutex_lock(&mon->lock);
    mon->negotiated = true;
    mon->oob = oob;
    pthread_mutex_unlock(&mon->lock);
    send_reply(mon, req->id, "return",
               json_node_new_object_take(json_object_new()));
    if (oob) {
        monitor_start_oob(mon);
    }
}

static void run_request(Monitor *mon, QmpRequest *req)
{
    Error *err = NULL;

    if (req->error) {
        send_error(mon, req->id, QMP_ERROR_GENERIC, req->error);
    } else if (!strcmp(req->name, "qmp_capabilities") && !req->oob) {
        negotiate(mon, req);
    } else if (!req->negotiated) {
        send_error(mon, req->id, QMP_ERROR_COMMAND_NOT_FOUND,
                   "Expecting capabilities negotiation with "
                   "'qmp_capabilities'");
    } else {
        classed_error = NULL;
        JsonNode *ret = call(req->name, req->args, req->oob, &err);
        if (err) {
            send_error(mon, req->id, qmp_error_class_of(err), err->msg);
            error_free(err);
            classed_error = NULL;
            if (ret) {
                json_node_unref(ret);
            }
        } else {
            send_reply(mon, req->id, "return", ret ? ret :
                       json_node_new_object_take(json_object_new()));
        }
    }
}

/* ---- the in-band queue of OOB sessions ---- */

/* In the main loop, with the big lock: one request per turn. */
static gboolean run_queued(gpointer opaque)
{
    Monitor *mon = opaque;
    pthread_mutex_lock(&mon->lock);
    QmpRequest *req = g_queue_pop_head(&mon->requests);
    if (!req) {
        g_source_unref(mon->dispatch_src);
        mon->dispatch_src = NULL;
    }
    pthread_mutex_unlock(&mon->lock);
    if (!req) {
        return G_SOURCE_REMOVE;
    }
    monitor_resume_input(mon);          /* the queue has room again */
    run_request(mon, req);
    request_free(req);
    return G_SOURCE_CONTINUE;
}

static void queue_request(Monitor *mon, QmpRequest *req)
{
    pthread_mutex_lock(&mon->lock);
    g_queue_push_tail(&mon->requests, req);
    if (!mon->dispatch_src) {
        mon->dispatch_src = g_idle_source_new();
        g_source_set_priority(mon->dispatch_src, G_PRIORITY_DEFAULT);
        g_source_set_callback(mon->dispatch_src, run_queued, mon, NULL);
        g_source_attach(mon->dispatch_src, NULL);
    }
    pthread_mutex_unlock(&mon->lock);
}

void qmp_drop_requests(Monitor *mon)
{
    QmpRequest *req;
    while ((req = g_queue_pop_head(&mon->requests))) {
        request_free(req);
    }
}

/*
 * In the thread that reads: exec-oob runs at once; in-band requests (and
 * input errors) go to the main loop in order, through the queue when this
 * is the I/O thread.
 */
static void take_request(Monitor *mon, QmpRequest *req)
{
    if (req->oob || !monitor_in_iothread()) {
        run_request(mon, req);
        request_free(req);
    } else {
        queue_request(mon, req);
    }
}

static void on_json(void *opaque, const char *text, size_t len)
{
    Monitor *mon = opaque;
    GError *gerr = NULL;
    QmpRequest *req;

    if (!g_utf8_validate(text, len, NULL)) {
        req = parse_request(mon, NULL, "JSON parse error, invalid UTF-8 "
                            "sequence");
    } else {
        JsonParser *parser = json_parser_new_immutable();
        if (!json_parser_load_from_data(parser, text, len, &gerr)) {
            g_autofree char *msg = g_strdup_printf("JSON parse error, %s",
                                                   gerr->message);
            req = parse_request(mon, NULL, msg);
            g_error_free(gerr);
        } else {
            req = parse_request(mon, json_parser_get_root(parser), NULL);
        }
        /* Before the request may go to the main thread: json-glib counts
         * references without atomics, so the tree needs a single owner. */
        g_object_unref(parser);
    }
    take_request(mon, req);
}

static void on_json_error(void *opaque, const char *msg)
{
    take_request(opaque, parse_request(opaque, NULL, msg));
}

void qmp_monitor_setup(Monitor *mon)
{
    json_stream_init(&mon->stream, QMP_MAX_MESSAGE, on_json, on_json_error,
                     mon);
}
