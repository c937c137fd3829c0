/*
 * The monitor's I/O thread.  A QMP session that enables out-of-band
 * execution has its input read, parsed and its OOB commands run here, so a
 * main loop stuck in a command cannot hold them up (monitor.c, qmp.c).  It
 * starts with the first such session and runs its own GMainContext.
 */
#include "monitor/monitor-internal.h"

static GMainContext *io_ctx;
static GMainLoop *io_loop;
static GThread *io_thread;
static __thread bool in_io_thread;

static gpointer run(gpointer opaque)
{
    in_io_thread = true;
    g_main_loop_run(io_loop);
    return NULL;
}

/* At exit nothing may run there while the process comes down. */
static void stop(void)
{
    g_main_loop_quit(io_loop);
    g_thread_join(io_thread);
}

/* Main thread only (a session switches over from there). */
GMainContext *monitor_iothread_context(void)
{
    if (!io_ctx) {
        io_ctx = g_main_context_new();
        io_loop = g_main_loop_new(io_ctx, false);
        io_thread = g_thread_new("kestrel-mon-io", run, NULL);
        atexit(stop);
    }
    return io_ctx;
}

bool monitor_in_iothread(void)
{
    return in_io_thread;
}
