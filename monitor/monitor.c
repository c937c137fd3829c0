/*
 * Monitors on chardevs: input to the QMP stream or the HMP line editor,
 * output with CR LF line ends (as QEMU writes them), a fresh session for
 * each client that connects, and the events every QMP client receives.
 */
#include "monitor/monitor-internal.h"
#include "chardev/char.h"
#include "system/system.h"
#include "system/accel.h"
#include <stdarg.h>

/* A client that does not read: stop taking its input above PAUSE bytes of
 * unsent output (as QEMU does), drop it above MAX (events keep coming). */
#define MONITOR_OUT_PAUSE (64 * KiB)
#define MONITOR_OUT_MAX   (16 * MiB)

static GPtrArray *monitors;

GPtrArray *monitor_list(void)
{
    if (!monitors) {
        monitors = g_ptr_array_new();
    }
    return monitors;
}

/* ---- output ---- */

static void monitor_flush(Monitor *mon);

static gboolean on_writable(gint fd, GIOCondition cond, gpointer opaque)
{
    Monitor *mon = opaque;
    mon->out_watch = 0;
    monitor_flush(mon);
    return G_SOURCE_REMOVE;
}

/* Write without ever blocking the main loop: the rest waits for a watch. */
static void monitor_flush(Monitor *mon)
{
    while (mon->outbuf->len) {
        int n = chardev_write_nonblock(mon->chr, (uint8_t *)mon->outbuf->str,
                                       MIN(mon->outbuf->len, 1 * MiB));
        if (n < 0) {
            g_string_truncate(mon->outbuf, 0);     /* nobody listens */
            break;
        }
        if (n == 0) {
            if (!mon->out_watch) {
                mon->out_watch = chardev_add_out_watch(mon->chr, on_writable,
                                                       mon);
            }
            return;
        }
        g_string_erase(mon->outbuf, 0, n);
    }
    chardev_accept_input(mon->chr);
}

static void drop_output(Monitor *mon)
{
    if (mon->out_watch) {
        g_source_remove(mon->out_watch);
        mon->out_watch = 0;
    }
    g_string_truncate(mon->outbuf, 0);
}

static gboolean disconnect_client(gpointer opaque)
{
    Monitor *mon = opaque;
    mon->disconnect_idle = 0;
    drop_output(mon);
    chardev_disconnect(mon->chr);
    return G_SOURCE_REMOVE;
}

void monitor_write_raw(Monitor *mon, const char *buf, size_t len)
{
    if (mon->capture) {
        g_string_append_len(mon->capture, buf, len);
        return;
    }
    if (!mon->chr || mon->disconnect_idle) {
        return;
    }
    if (mon->outbuf->len + len > MONITOR_OUT_MAX) {
        /* Not from here: we may be inside the chardev's input callback. */
        mon->disconnect_idle = g_idle_add(disconnect_client, mon);
        return;
    }
    g_string_append_len(mon->outbuf, buf, len);
    monitor_flush(mon);
}

void monitor_puts(Monitor *mon, const char *str)
{
    GString *out = g_string_sized_new(strlen(str) + 16);
    for (const char *p = str; *p; p++) {
        if (*p == '\n') {
            g_string_append_c(out, '\r');
        }
        g_string_append_c(out, *p);
    }
    monitor_write_raw(mon, out->str, out->len);
    g_string_free(out, true);
}

void monitor_printf(Monitor *mon, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    monitor_puts(mon, s);
    g_free(s);
}

int monitor_cpu_index(Monitor *mon)
{
    return mon->cpu_index;
}

/* ---- chardev front end ---- */

static int mon_can_read(void *opaque)
{
    Monitor *mon = opaque;
    return mon->outbuf->len > MONITOR_OUT_PAUSE ? 0 : 4096;
}

static void mon_read(void *opaque, const uint8_t *buf, int len)
{
    Monitor *mon = opaque;
    if (mon->mode == MONITOR_QMP) {
        json_stream_feed(&mon->stream, buf, len);
        return;
    }
    for (int i = 0; i < len; i++) {
        readline_feed(&mon->rl, buf[i]);
    }
}

/* A client connected, or a mux gave us the terminal. */
static void start_session(Monitor *mon)
{
    drop_output(mon);
    if (mon->mode == MONITOR_QMP) {
        json_stream_reset(&mon->stream);
        mon->negotiated = false;
        qmp_send_greeting(mon);
    } else {
        hmp_greet(mon);
    }
}

static void mon_event(void *opaque, ChrEvent ev)
{
    Monitor *mon = opaque;
    switch (ev) {
    case CHR_EVENT_OPENED:
        if (!mon->mux) {
            start_session(mon);
        }
        break;
    case CHR_EVENT_CLOSED:
        /* The next client starts from scratch: greeting, negotiation. */
        drop_output(mon);
        if (mon->mode == MONITOR_QMP) {
            json_stream_reset(&mon->stream);
            mon->negotiated = false;
        } else {
            readline_restart(&mon->rl);
        }
        break;
    case CHR_EVENT_MUX_IN:
        mon->focused = true;
        if (mon->mode == MONITOR_HMP || !mon->negotiated) {
            start_session(mon);
        }
        break;
    case CHR_EVENT_MUX_OUT:
        mon->focused = false;
        break;
    }
}

Monitor *monitor_new(Chardev *chr, MonitorMode mode, bool pretty,
                     Error **errp)
{
    Monitor *mon = g_new0(Monitor, 1);
    mon->chr = chr;
    mon->mode = mode;
    mon->pretty = pretty;
    mon->mux = chardev_is_mux(chr);
    mon->last_format = 'x';
    mon->last_size = 4;
    mon->outbuf = g_string_new(NULL);
    if (mode == MONITOR_QMP) {
        qmp_monitor_setup(mon);
    } else {
        hmp_monitor_setup(mon);
    }
    CharFrontend fe = {
        .can_read = mon_can_read, .read = mon_read, .event = mon_event,
        .opaque = mon,
    };
    if (!chardev_attach(chr, &fe, errp)) {
        json_stream_destroy(&mon->stream);
        readline_free(&mon->rl);
        g_string_free(mon->outbuf, true);
        g_free(mon);
        return NULL;
    }
    g_ptr_array_add(monitor_list(), mon);
    return mon;
}

/* ---- events ---- */

void qmp_event_send(const char *event, JsonObject *data)
{
    gint64 now = g_get_real_time();
    for (guint i = 0; monitors && i < monitors->len; i++) {
        Monitor *mon = g_ptr_array_index(monitors, i);
        if (mon->mode != MONITOR_QMP || !mon->negotiated) {
            continue;
        }
        JsonObject *ts = json_object_new();
        json_object_set_int_member(ts, "seconds", now / G_USEC_PER_SEC);
        json_object_set_int_member(ts, "microseconds", now % G_USEC_PER_SEC);
        JsonObject *ev = json_object_new();
        json_object_set_string_member(ev, "event", event);
        if (data) {
            json_object_set_object_member(ev, "data", json_object_ref(data));
        }
        json_object_set_object_member(ev, "timestamp", ts);
        qmp_send_node(mon, json_node_new_object_take(ev));
    }
    if (data) {
        json_object_unref(data);
    }
}

static bool vm_was_running;

static void on_runstate(RunState state, void *opaque)
{
    bool running = state == RUN_STATE_RUNNING;
    if (running && !vm_was_running) {
        qmp_event_send("RESUME", NULL);
    } else if (!running && vm_was_running) {
        qmp_event_send("STOP", NULL);
    }
    vm_was_running = running;
}

static void on_system_event(SystemEvent ev, ShutdownCause cause, void *opaque)
{
    JsonObject *data;
    switch (ev) {
    case SYSTEM_EVENT_RESET:
    case SYSTEM_EVENT_SHUTDOWN:
        data = json_object_new();
        json_object_set_boolean_member(data, "guest",
                                       shutdown_caused_by_guest(cause));
        json_object_set_string_member(data, "reason",
                                      shutdown_cause_name(cause));
        qmp_event_send(ev == SYSTEM_EVENT_RESET ? "RESET" : "SHUTDOWN", data);
        break;
    case SYSTEM_EVENT_POWERDOWN:
        qmp_event_send("POWERDOWN", NULL);
        break;
    }
}

void monitor_init_events(void)
{
    vm_was_running = runstate_is_running();
    runstate_add_notifier(on_runstate, NULL);
    system_event_add_notifier(on_system_event, NULL);
}

/* ---- helpers for commands ---- */

void monitor_with_vcpus_paused(void (*fn)(void *opaque), void *opaque)
{
    bool running = runstate_is_running() && current_accel;
    if (running) {
        current_accel->pause_all();
    }
    fn(opaque);
    if (running) {
        current_accel->resume_all();
    }
}
