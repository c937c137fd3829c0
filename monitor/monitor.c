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

static void flush_locked(Monitor *mon);

static void destroy_source(GSource **src)
{
    if (*src) {
        g_source_destroy(*src);
        g_source_unref(*src);
        *src = NULL;
    }
}

/* A one-shot callback in ctx (NULL: the main loop), its reference in *src. */
static void schedule(GSource **src, GMainContext *ctx, GSourceFunc fn,
                     Monitor *mon)
{
    if (!*src) {
        *src = g_idle_source_new();
        g_source_set_priority(*src, G_PRIORITY_DEFAULT);
        g_source_set_callback(*src, fn, mon, NULL);
        g_source_attach(*src, ctx);
    }
}

/* In a callback of *src: false if it was replaced meanwhile.  Lock held. */
static bool take_source(GSource **src)
{
    if (*src != g_main_current_source()) {
        return false;
    }
    g_source_unref(*src);
    *src = NULL;
    return true;
}

static gboolean on_writable(gint fd, GIOCondition cond, gpointer opaque)
{
    Monitor *mon = opaque;
    pthread_mutex_lock(&mon->lock);
    if (take_source(&mon->out_src)) {
        flush_locked(mon);
    }
    pthread_mutex_unlock(&mon->lock);
    return G_SOURCE_REMOVE;
}

/* Holds input back: much unsent output, the queue of an OOB session full,
 * or the session on its way to the I/O thread.  Lock held. */
static bool input_blocked(Monitor *mon)
{
    return mon->outbuf->len > MONITOR_OUT_PAUSE || (mon->oob && !mon->ctx) ||
           mon->requests.length >= QMP_QUEUE_MAX;
}

static gboolean resume_in_iothread(gpointer opaque);

/* Input was held back and may go on: in the thread that reads.  Lock held. */
static void resume_locked(Monitor *mon)
{
    if (!mon->input_held || input_blocked(mon)) {
        return;
    }
    if (!mon->ctx) {
        mon->input_held = false;
        chardev_accept_input(mon->chr);
    } else {
        schedule(&mon->resume_src, mon->ctx, resume_in_iothread, mon);
    }
}

void monitor_resume_input(Monitor *mon)
{
    pthread_mutex_lock(&mon->lock);
    resume_locked(mon);
    pthread_mutex_unlock(&mon->lock);
}

/* Write without ever blocking: the rest waits for a watch in mon->ctx. */
static void flush_locked(Monitor *mon)
{
    while (mon->outbuf->len) {
        int n = chardev_write_nonblock(mon->chr, (uint8_t *)mon->outbuf->str,
                                       MIN(mon->outbuf->len, 1 * MiB));
        if (n < 0) {
            g_string_truncate(mon->outbuf, 0);     /* nobody listens */
            break;
        }
        if (n == 0) {
            if (!mon->out_src) {
                mon->out_src = chardev_add_out_watch(mon->chr, mon->ctx,
                                                     on_writable, mon);
            }
            return;
        }
        g_string_erase(mon->outbuf, 0, n);
    }
    resume_locked(mon);
}

static void drop_output_locked(Monitor *mon)
{
    destroy_source(&mon->out_src);
    g_string_truncate(mon->outbuf, 0);
}

/* In the thread that reads (the chardev's input side is its own). */
static gboolean disconnect_client(gpointer opaque)
{
    Monitor *mon = opaque;
    pthread_mutex_lock(&mon->lock);
    bool ours = take_source(&mon->disconnect_src);
    if (ours) {
        drop_output_locked(mon);
    }
    pthread_mutex_unlock(&mon->lock);
    if (ours) {
        chardev_disconnect(mon->chr);
    }
    return G_SOURCE_REMOVE;
}

void monitor_write_raw(Monitor *mon, const char *buf, size_t len)
{
    if (mon->capture) {
        g_string_append_len(mon->capture, buf, len);
        return;
    }
    if (!mon->chr) {
        return;
    }
    pthread_mutex_lock(&mon->lock);
    if (mon->disconnect_src) {
        /* going away */
    } else if (mon->outbuf->len + len > MONITOR_OUT_MAX) {
        /* Not from here: we may be inside the chardev's input callback. */
        schedule(&mon->disconnect_src, mon->ctx, disconnect_client, mon);
    } else {
        g_string_append_len(mon->outbuf, buf, len);
        flush_locked(mon);
    }
    pthread_mutex_unlock(&mon->lock);
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

/* ---- input ---- */

static bool qmp_must_hold(Monitor *mon)
{
    pthread_mutex_lock(&mon->lock);
    bool hold = (mon->oob && !mon->ctx) ||
                mon->requests.length >= QMP_QUEUE_MAX;
    pthread_mutex_unlock(&mon->lock);
    return hold;
}

/* Parse what was read up to where the session must hold input back (an
 * OOB session's queue is full, or it moves to the I/O thread meanwhile). */
static void feed_held(Monitor *mon)
{
    GString *in = mon->held_input;
    while (mon->held_pos < in->len && !qmp_must_hold(mon)) {
        uint8_t byte = in->str[mon->held_pos++];
        json_stream_feed(&mon->stream, &byte, 1);
    }
    if (mon->held_pos < in->len) {
        pthread_mutex_lock(&mon->lock);
        mon->input_held = true;
        pthread_mutex_unlock(&mon->lock);
    } else {
        g_string_truncate(in, 0);
        mon->held_pos = 0;
    }
}

/* In the I/O thread: what was held back first, then the chardev. */
static gboolean resume_in_iothread(gpointer opaque)
{
    Monitor *mon = opaque;
    pthread_mutex_lock(&mon->lock);
    bool ours = take_source(&mon->resume_src);
    if (ours) {
        mon->input_held = false;
    }
    pthread_mutex_unlock(&mon->lock);
    if (ours) {
        feed_held(mon);
        if (!mon->held_input->len) {
            chardev_accept_input(mon->chr);
        }
    }
    return G_SOURCE_REMOVE;
}

static gboolean switch_to_iothread(gpointer opaque)
{
    Monitor *mon = opaque;
    GMainContext *ctx = monitor_iothread_context();

    pthread_mutex_lock(&mon->lock);
    bool go = mon->oob && !mon->ctx && !mon->disconnect_src;
    if (go) {
        destroy_source(&mon->out_src);       /* a main loop watch */
        mon->ctx = ctx;
        mon->input_held = true;              /* parse what we kept there */
    }
    pthread_mutex_unlock(&mon->lock);
    if (go) {
        /* Nothing else acts on this session meanwhile: we hold the big
         * lock, and the I/O thread does not know it yet. */
        chardev_set_context(mon->chr, ctx);
        pthread_mutex_lock(&mon->lock);
        flush_locked(mon);
        pthread_mutex_unlock(&mon->lock);
    }
    return G_SOURCE_REMOVE;
}

void monitor_start_oob(Monitor *mon)
{
    /* Not from inside the chardev's input callback: the main loop's next
     * turn.  Input read until then is held (qmp_must_hold). */
    g_idle_add_full(G_PRIORITY_DEFAULT, switch_to_iothread, mon, NULL);
}

/* ---- chardev front end ---- */

static int mon_can_read(void *opaque)
{
    Monitor *mon = opaque;
    pthread_mutex_lock(&mon->lock);
    bool hold = mon->held_pos < mon->held_input->len || input_blocked(mon);
    if (hold) {
        mon->input_held = true;
    }
    pthread_mutex_unlock(&mon->lock);
    return hold ? 0 : 4096;
}

static void mon_read(void *opaque, const uint8_t *buf, int len)
{
    Monitor *mon = opaque;
    if (mon->mode == MONITOR_QMP) {
        g_string_append_len(mon->held_input, (const char *)buf, len);
        feed_held(mon);
        return;
    }
    for (int i = 0; i < len; i++) {
        readline_feed(&mon->rl, buf[i]);
    }
}

/* The session ends or starts: nothing of the last client's stays.  In the
 * thread that reads; the sources live in its context. */
static void reset_session(Monitor *mon)
{
    pthread_mutex_lock(&mon->lock);
    drop_output_locked(mon);
    destroy_source(&mon->disconnect_src);
    destroy_source(&mon->resume_src);
    qmp_drop_requests(mon);
    mon->negotiated = mon->oob = false;
    mon->input_held = false;
    mon->ctx = NULL;
    pthread_mutex_unlock(&mon->lock);
    g_string_truncate(mon->held_input, 0);
    mon->held_pos = 0;
    if (mon->mode == MONITOR_QMP) {
        json_stream_reset(&mon->stream);
    }
}

/* A client connected, or a mux gave us the terminal. */
static void start_session(Monitor *mon)
{
    reset_session(mon);
    if (mon->mode == MONITOR_QMP) {
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
        reset_session(mon);
        if (mon->mode == MONITOR_HMP) {
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
    pthread_mutex_init(&mon->lock, NULL);
    mon->outbuf = g_string_new(NULL);
    mon->held_input = g_string_new(NULL);
    g_queue_init(&mon->requests);
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
        g_string_free(mon->held_input, true);
        pthread_mutex_destroy(&mon->lock);
        g_free(mon);
        return NULL;
    }
    g_ptr_array_add(monitor_list(), mon);
    return mon;
}

/* ---- events ---- */

static bool wants_events(Monitor *mon)
{
    if (mon->mode != MONITOR_QMP) {
        return false;
    }
    pthread_mutex_lock(&mon->lock);
    bool negotiated = mon->negotiated;
    pthread_mutex_unlock(&mon->lock);
    return negotiated;
}

void qmp_event_send(const char *event, JsonObject *data)
{
    gint64 now = g_get_real_time();
    for (guint i = 0; monitors && i < monitors->len; i++) {
        Monitor *mon = g_ptr_array_index(monitors, i);
        if (!wants_events(mon)) {
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
    case SYSTEM_EVENT_PANIC_PAUSE:
    case SYSTEM_EVENT_PANIC_POWEROFF:
    case SYSTEM_EVENT_PANIC_RUN:
    case SYSTEM_EVENT_CRASHLOADED:
        data = json_object_new();
        json_object_set_string_member(data, "action",
            ev == SYSTEM_EVENT_PANIC_PAUSE ? "pause" :
            ev == SYSTEM_EVENT_PANIC_POWEROFF ? "poweroff" : "run");
        qmp_event_send(ev == SYSTEM_EVENT_CRASHLOADED ? "GUEST_CRASHLOADED" :
                       "GUEST_PANICKED", data);
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
