/*
 * QMP from a C client: start kestrel (environment KESTREL, TESTGUEST) with
 * a QMP unix socket and the test guest's "count" program, and check the
 * core commands, error classes and events the way a C client such as
 * libqtest sees them.  One kestrel per test.
 */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define TIMEOUT_MS 20000

typedef struct Qmp {
    GPid pid;
    int fd;
    char *dir, *path;
    GString *buf;
    GQueue events;            /* JsonNode *, oldest first */
} Qmp;

static gint64 deadline(void)
{
    return g_get_monotonic_time() + TIMEOUT_MS * 1000LL;
}

static int connect_unix(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    gint64 end = deadline();
    g_assert_cmpuint(strlen(path), <, sizeof(sun.sun_path));
    strcpy(sun.sun_path, path);
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(fd, >=, 0);
        if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
            return fd;
        }
        close(fd);
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(20000);
    }
}

/* The next JSON message; NULL when kestrel closed the connection. */
static JsonNode *qmp_recv(Qmp *q)
{
    gint64 end = deadline();
    for (;;) {
        char *nl = memchr(q->buf->str, '\n', q->buf->len);
        if (nl) {
            size_t len = nl - q->buf->str + 1;
            g_autoptr(JsonParser) parser = json_parser_new();
            g_autoptr(GError) err = NULL;
            gboolean ok = json_parser_load_from_data(parser, q->buf->str,
                                                     len, &err);
            g_assert_no_error(err);
            g_assert_true(ok);
            JsonNode *node = json_node_copy(json_parser_get_root(parser));
            g_string_erase(q->buf, 0, len);
            return node;
        }
        struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
        int left = (end - g_get_monotonic_time()) / 1000;
        g_assert_cmpint(left, >, 0);
        if (poll(&pfd, 1, left) <= 0) {
            continue;
        }
        char chunk[4096];
        ssize_t n = read(q->fd, chunk, sizeof(chunk));
        if (n <= 0) {
            return NULL;
        }
        g_string_append_len(q->buf, chunk, n);
    }
}

static void qmp_send(Qmp *q, const char *text)
{
    size_t len = strlen(text);
    g_assert_cmpint(write(q->fd, text, len), ==, (ssize_t)len);
}

/* Send a request, return its reply; events that come first are queued. */
static JsonNode *qmp_cmd(Qmp *q, const char *request)
{
    qmp_send(q, request);
    for (;;) {
        JsonNode *n = qmp_recv(q);
        g_assert_nonnull(n);
        g_assert_true(JSON_NODE_HOLDS_OBJECT(n));
        if (json_object_has_member(json_node_get_object(n), "event")) {
            g_queue_push_tail(&q->events, n);
            continue;
        }
        return n;
    }
}

static JsonObject *obj(JsonNode *n)
{
    g_assert_true(JSON_NODE_HOLDS_OBJECT(n));
    return json_node_get_object(n);
}

/* The "return" member of a successful reply (owned by the reply). */
static JsonNode *ret(JsonNode *reply)
{
    JsonObject *o = obj(reply);
    if (!json_object_has_member(o, "return")) {
        g_autofree char *s = json_to_string(reply, false);
        g_error("expected a return, got %s", s);
    }
    return json_object_get_member(o, "return");
}

static void check_error(JsonNode *reply, const char *cls, const char *word)
{
    JsonObject *o = obj(reply);
    g_assert_true(json_object_has_member(o, "error"));
    JsonObject *e = json_object_get_object_member(o, "error");
    g_assert_cmpuint(json_object_get_size(e), ==, 2);
    g_assert_cmpstr(json_object_get_string_member(e, "class"), ==, cls);
    const char *desc = json_object_get_string_member(e, "desc");
    g_assert_nonnull(desc);
    if (word) {
        g_assert_nonnull(strstr(desc, word));
    }
}

static JsonNode *qmp_wait_event(Qmp *q, const char *name)
{
    for (;;) {
        for (GList *l = q->events.head; l; l = l->next) {
            JsonObject *o = obj(l->data);
            if (!strcmp(json_object_get_string_member(o, "event"), name)) {
                JsonNode *n = l->data;
                g_queue_delete_link(&q->events, l);
                JsonObject *ts = json_object_get_object_member(o, "timestamp");
                g_assert_nonnull(ts);
                g_assert_true(json_object_has_member(ts, "seconds"));
                gint64 us = json_object_get_int_member(ts, "microseconds");
                g_assert_cmpint(us, >=, 0);
                g_assert_cmpint(us, <, 1000000);
                return n;
            }
        }
        JsonNode *n = qmp_recv(q);
        g_assert_nonnull(n);
        g_queue_push_tail(&q->events, n);
    }
}

static void qmp_start(Qmp *q, bool negotiate)
{
    const char *kestrel = g_getenv("KESTREL");
    const char *guest = g_getenv("TESTGUEST");
    g_assert_nonnull(kestrel);
    g_assert_nonnull(guest);
    memset(q, 0, sizeof(*q));
    q->dir = g_dir_make_tmp("kestrel-test-qmp-XXXXXX", NULL);
    q->path = g_build_filename(q->dir, "qmp.sock", NULL);
    g_autofree char *spec = g_strdup_printf("unix:%s,server,nowait", q->path);
    const char *argv[] = {
        kestrel, "-nodefaults", "-display", "none", "-serial", "null",
        "-qmp", spec, "-kernel", guest, "-append", "count", NULL,
    };
    g_autoptr(GError) err = NULL;
    g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                  NULL, &q->pid, &err);
    g_assert_no_error(err);
    q->fd = connect_unix(q->path);
    q->buf = g_string_new(NULL);
    g_queue_init(&q->events);

    g_autoptr(JsonNode) greeting = qmp_recv(q);
    g_assert_nonnull(greeting);
    JsonObject *qmp = json_object_get_object_member(obj(greeting), "QMP");
    g_assert_nonnull(qmp);
    JsonObject *version = json_object_get_object_member(qmp, "version");
    JsonObject *triple = json_object_get_object_member(version, "qemu");
    g_assert_cmpint(json_object_get_int_member(triple, "major"), >, 0);
    g_assert_true(json_object_has_member(version, "package"));
    g_assert_nonnull(json_object_get_array_member(qmp, "capabilities"));
    if (negotiate) {
        g_autoptr(JsonNode) r = qmp_cmd(q, "{\"execute\": \"qmp_capabilities\"}\n");
        g_assert_cmpuint(json_object_get_size(json_node_get_object(ret(r))), ==, 0);
    }
}

/* Wait for kestrel to exit; returns its exit status. */
static int qmp_wait_exit(Qmp *q)
{
    gint64 end = deadline();
    int status;
    while (waitpid(q->pid, &status, WNOHANG) == 0) {
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(10000);
    }
    q->pid = 0;
    g_assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void qmp_finish(Qmp *q)
{
    if (q->pid) {
        kill(q->pid, SIGKILL);
        waitpid(q->pid, NULL, 0);
    }
    close(q->fd);
    unlink(q->path);
    rmdir(q->dir);
    g_free(q->path);
    g_free(q->dir);
    g_string_free(q->buf, true);
    g_queue_clear_full(&q->events, (GDestroyNotify)json_node_unref);
}

static const char *status_of(Qmp *q)
{
    static char status[32];
    g_autoptr(JsonNode) r = qmp_cmd(q, "{\"execute\": \"query-status\"}\n");
    JsonObject *o = obj(ret(r));
    g_assert_true(json_object_has_member(o, "running"));
    g_strlcpy(status, json_object_get_string_member(o, "status"),
              sizeof(status));
    g_assert_cmpint(json_object_get_boolean_member(o, "running"), ==,
                    !strcmp(status, "running"));
    return status;
}

/* ---- tests ---- */

static void test_negotiation(void)
{
    Qmp q;
    qmp_start(&q, false);
    g_autoptr(JsonNode) early = qmp_cmd(&q, "{\"execute\": \"query-status\"}\n");
    check_error(early, "CommandNotFound", "qmp_capabilities");
    g_autoptr(JsonNode) caps = qmp_cmd(&q, "{\"execute\": \"qmp_capabilities\", "
                                       "\"id\": \"c1\"}\n");
    ret(caps);
    g_assert_cmpstr(json_object_get_string_member(obj(caps), "id"), ==, "c1");
    g_autoptr(JsonNode) again = qmp_cmd(&q, "{\"execute\": \"qmp_capabilities\"}\n");
    check_error(again, "CommandNotFound", NULL);
    qmp_finish(&q);
}

static void test_stop_cont(void)
{
    Qmp q;
    qmp_start(&q, true);
    g_assert_cmpstr(status_of(&q), ==, "running");
    g_autoptr(JsonNode) r1 = qmp_cmd(&q, "{\"execute\": \"stop\"}\n");
    ret(r1);
    g_autoptr(JsonNode) stop = qmp_wait_event(&q, "STOP");
    g_assert_cmpstr(status_of(&q), ==, "paused");
    g_autoptr(JsonNode) r2 = qmp_cmd(&q, "{\"execute\": \"cont\"}\n");
    ret(r2);
    g_autoptr(JsonNode) resume = qmp_wait_event(&q, "RESUME");
    g_assert_cmpstr(status_of(&q), ==, "running");
    qmp_finish(&q);
}

static void test_errors_and_ids(void)
{
    Qmp q;
    qmp_start(&q, true);
    g_autoptr(JsonNode) r1 = qmp_cmd(&q, "{\"execute\": \"no-such\", \"id\": 42}\n");
    check_error(r1, "CommandNotFound", "no-such");
    g_assert_cmpint(json_object_get_int_member(obj(r1), "id"), ==, 42);
    g_autoptr(JsonNode) r2 = qmp_cmd(&q, "{\"execute\": \"query-status\", "
                                     "\"arguments\": {\"bogus\": 1}}\n");
    check_error(r2, "GenericError", "bogus");
    g_autoptr(JsonNode) r3 = qmp_cmd(&q, "{\"execute\": \"qom-get\", "
                                     "\"arguments\": {\"path\": \"/machine\"}}\n");
    check_error(r3, "GenericError", "property");
    g_autoptr(JsonNode) r4 = qmp_cmd(&q, "{\"execute\": \"qom-get\", \"arguments\": "
                                     "{\"path\": \"/nowhere\", \"property\": \"type\"}}\n");
    check_error(r4, "DeviceNotFound", NULL);
    g_autoptr(JsonNode) r5 = qmp_cmd(&q, "[\"not an object\"]\n");
    check_error(r5, "GenericError", "object");
    /* Half a request, then a whole one: an error, then the answer. */
    g_autoptr(JsonNode) r6 = qmp_cmd(&q, "{\"execute\": \"stop\"\n"
                                     "{\"execute\": \"query-name\", \"id\": 7}\n");
    check_error(r6, "GenericError", "JSON");
    g_autoptr(JsonNode) r7 = qmp_recv(&q);
    ret(r7);
    g_assert_cmpint(json_object_get_int_member(obj(r7), "id"), ==, 7);
    g_assert_cmpstr(status_of(&q), ==, "running");
    qmp_finish(&q);
}

static void test_queries(void)
{
    Qmp q;
    qmp_start(&q, true);
    g_autoptr(JsonNode) v = qmp_cmd(&q, "{\"execute\": \"query-version\"}\n");
    g_assert_nonnull(json_object_get_object_member(obj(ret(v)), "qemu"));
    g_autoptr(JsonNode) k = qmp_cmd(&q, "{\"execute\": \"query-kvm\"}\n");
    g_assert_true(json_object_get_boolean_member(obj(ret(k)), "enabled"));
    g_autoptr(JsonNode) c = qmp_cmd(&q, "{\"execute\": \"query-cpus-fast\"}\n");
    JsonArray *cpus = json_node_get_array(ret(c));
    g_assert_cmpuint(json_array_get_length(cpus), ==, 1);
    JsonObject *cpu0 = json_array_get_object_element(cpus, 0);
    g_assert_cmpint(json_object_get_int_member(cpu0, "thread-id"), >, 0);
    g_autoptr(JsonNode) h = qmp_cmd(&q, "{\"execute\": \"human-monitor-command\", "
                                    "\"arguments\": {\"command-line\": \"info status\"}}\n");
    g_assert_cmpstr(json_node_get_string(ret(h)), ==, "VM status: running\r\n");
    g_autoptr(JsonNode) l = qmp_cmd(&q, "{\"execute\": \"query-commands\"}\n");
    JsonArray *cmds = json_node_get_array(ret(l));
    bool found = false;
    for (guint i = 0; i < json_array_get_length(cmds); i++) {
        JsonObject *o = json_array_get_object_element(cmds, i);
        found |= !strcmp(json_object_get_string_member(o, "name"), "system_reset");
    }
    g_assert_true(found);
    qmp_finish(&q);
}

static void test_reset_and_quit(void)
{
    Qmp q;
    qmp_start(&q, true);
    g_autoptr(JsonNode) r1 = qmp_cmd(&q, "{\"execute\": \"system_reset\"}\n");
    ret(r1);
    g_autoptr(JsonNode) reset = qmp_wait_event(&q, "RESET");
    JsonObject *data = json_object_get_object_member(obj(reset), "data");
    g_assert_false(json_object_get_boolean_member(data, "guest"));
    g_assert_cmpstr(json_object_get_string_member(data, "reason"), ==,
                    "host-qmp-system-reset");
    g_autoptr(JsonNode) r2 = qmp_cmd(&q, "{\"execute\": \"quit\"}\n");
    ret(r2);
    g_autoptr(JsonNode) shutdown = qmp_wait_event(&q, "SHUTDOWN");
    data = json_object_get_object_member(obj(shutdown), "data");
    g_assert_cmpstr(json_object_get_string_member(data, "reason"), ==,
                    "host-qmp-quit");
    g_assert_null(qmp_recv(&q));          /* then the connection closes */
    g_assert_cmpint(qmp_wait_exit(&q), ==, 0);
    qmp_finish(&q);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (access("/dev/kvm", R_OK | W_OK)) {
        g_test_skip("/dev/kvm is not available");
        return 77;
    }
    g_test_add_func("/qmp/negotiation", test_negotiation);
    g_test_add_func("/qmp/stop-cont", test_stop_cont);
    g_test_add_func("/qmp/errors-and-ids", test_errors_and_ids);
    g_test_add_func("/qmp/queries", test_queries);
    g_test_add_func("/qmp/reset-and-quit", test_reset_and_quit);
    return g_test_run();
}
