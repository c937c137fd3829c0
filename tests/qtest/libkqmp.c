/* QMP client for the qtest programs (see libkqmp.h). */
#include "libkqmp.h"
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define TIMEOUT_MS 60000

struct KQmp {
    char *dir, *path, *args;
    int fd;
    GString *rx;
    GQueue events;            /* JsonNode *, oldest first */
};

KQmp *kqmp_new(void)
{
    KQmp *q = g_new0(KQmp, 1);

    q->dir = g_dir_make_tmp("kqmp-XXXXXX", NULL);
    g_assert_nonnull(q->dir);
    q->path = g_build_filename(q->dir, "qmp.sock", NULL);
    q->args = g_strdup_printf("-qmp unix:%s,server,nowait", q->path);
    q->fd = -1;
    q->rx = g_string_new(NULL);
    return q;
}

const char *kqmp_args(KQmp *q)
{
    return q->args;
}

/* The next message; fails the test if kestrel closes the connection. */
static JsonNode *receive(KQmp *q)
{
    for (;;) {
        char *nl = memchr(q->rx->str, '\n', q->rx->len);
        if (nl) {
            size_t len = nl - q->rx->str + 1;
            g_autoptr(JsonParser) parser = json_parser_new();
            g_autoptr(GError) err = NULL;
            json_parser_load_from_data(parser, q->rx->str, len, &err);
            g_assert_no_error(err);
            JsonNode *n = json_node_copy(json_parser_get_root(parser));
            g_string_erase(q->rx, 0, len);
            g_assert_true(JSON_NODE_HOLDS_OBJECT(n));
            return n;
        }
        struct pollfd p = { .fd = q->fd, .events = POLLIN };
        int r = poll(&p, 1, TIMEOUT_MS);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r == 0) {
            g_error("qmp: no message from the emulator in %d s",
                    TIMEOUT_MS / 1000);
        }
        char buf[4096];
        ssize_t n = read(q->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            g_error("qmp: connection closed by the emulator");
        }
        g_string_append_len(q->rx, buf, n);
    }
}

static bool is_event(JsonNode *n, const char *name)
{
    JsonObject *o = json_node_get_object(n);
    return json_object_has_member(o, "event") &&
           (!name || !strcmp(json_object_get_string_member(o, "event"),
                             name));
}

void kqmp_connect(KQmp *q)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };

    g_assert_cmpuint(strlen(q->path), <, sizeof(un.sun_path));
    strcpy(un.sun_path, q->path);
    q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(q->fd, >=, 0);
    if (connect(q->fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
        g_error("qmp: cannot connect to %s: %s", q->path, strerror(errno));
    }
    JsonNode *greeting = receive(q);
    g_assert_true(json_object_has_member(json_node_get_object(greeting),
                                         "QMP"));
    json_node_unref(greeting);
    json_node_unref(kqmp_return(kqmp_cmd(q, "{'execute': "
                                            "'qmp_capabilities'}")));
}

void kqmp_free(KQmp *q)
{
    if (q->fd >= 0) {
        close(q->fd);
    }
    g_queue_clear_full(&q->events, (GDestroyNotify)json_node_unref);
    unlink(q->path);
    rmdir(q->dir);
    g_free(q->dir);
    g_free(q->path);
    g_free(q->args);
    g_string_free(q->rx, true);
    g_free(q);
}

JsonNode *kqmp_cmd(KQmp *q, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_autofree char *req = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* 'single quotes' read better in C; QMP wants JSON's double ones. */
    g_strdelimit(req, "'", '"');
    g_autofree char *line = g_strconcat(req, "\n", NULL);
    size_t len = strlen(line);
    g_assert_cmpint(write(q->fd, line, len), ==, (ssize_t)len);
    for (;;) {
        JsonNode *n = receive(q);
        if (!is_event(n, NULL)) {
            return n;
        }
        g_queue_push_tail(&q->events, n);
    }
}

JsonNode *kqmp_return(JsonNode *reply)
{
    JsonObject *o = json_node_get_object(reply);
    if (!json_object_has_member(o, "return")) {
        g_autofree char *text = json_to_string(reply, false);
        g_error("qmp: expected a return, got %s", text);
    }
    return json_object_get_member(o, "return");
}

const char *kqmp_error(JsonNode *reply, const char **desc)
{
    JsonObject *o = json_node_get_object(reply);
    if (!json_object_has_member(o, "error")) {
        return NULL;
    }
    JsonObject *e = json_object_get_object_member(o, "error");
    if (desc) {
        *desc = json_object_get_string_member(e, "desc");
    }
    return json_object_get_string_member(e, "class");
}

const char *kqmp_return_str(JsonNode *reply, const char *member)
{
    JsonNode *r = kqmp_return(reply);
    if (!JSON_NODE_HOLDS_OBJECT(r) ||
        !json_object_has_member(json_node_get_object(r), member)) {
        return NULL;
    }
    return json_object_get_string_member(json_node_get_object(r), member);
}

JsonNode *kqmp_take_event(KQmp *q, const char *name)
{
    for (GList *l = q->events.head; l; l = l->next) {
        if (is_event(l->data, name)) {
            JsonNode *n = l->data;
            g_queue_delete_link(&q->events, l);
            return n;
        }
    }
    return NULL;
}

JsonNode *kqmp_event(KQmp *q, const char *name)
{
    JsonNode *n = kqmp_take_event(q, name);
    while (!n) {
        JsonNode *m = receive(q);
        if (is_event(m, name)) {
            n = m;
        } else if (is_event(m, NULL)) {
            g_queue_push_tail(&q->events, m);
        } else {
            g_autofree char *text = json_to_string(m, false);
            g_error("qmp: a reply without a request: %s", text);
        }
    }
    return n;
}

const char *kqmp_event_data_str(JsonNode *event, const char *member)
{
    JsonObject *o = json_node_get_object(event);
    if (!json_object_has_member(o, "data")) {
        return NULL;
    }
    JsonObject *d = json_object_get_object_member(o, "data");
    return json_object_has_member(d, member) ?
           json_object_get_string_member(d, member) : NULL;
}

KQmpVm kqmp_vm_start(const char *args)
{
    KQmpVm vm = { .qmp = kqmp_new() };
    vm.qts = qts_initf("-nodefaults %s %s", kqmp_args(vm.qmp), args);
    kqmp_connect(vm.qmp);
    return vm;
}

KQmpVm kqmp_vm_startf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *args = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return kqmp_vm_start(args);
}

void kqmp_vm_quit(KQmpVm vm)
{
    qts_quit(vm.qts);
    kqmp_free(vm.qmp);
}
