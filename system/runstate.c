/*
 * Run state and the main loop: lifecycle requests from vCPU threads and
 * devices (reset, shutdown, exit) are carried out here, in the main thread.
 */
#include "system/system.h"
#include "system/accel.h"
#include "system/timer.h"
#include "hw/qdev.h"
#include "hw/core/loader.h"
#include "chardev/char.h"
#include <pthread.h>
#include <glib-unix.h>
#include <signal.h>

MachineState *current_machine;

const MachineTypeInfo machine_types[] = {
    { "pc-i440fx-kestrel", "pc", "Standard PC (i440FX + PIIX, 1996)", 255,
      true },
    { "none", NULL, "empty machine", 1, false },
    { NULL },
};
const AccelOps *current_accel;

static RunState current_runstate = RUN_STATE_PRELAUNCH;
static GMutex bql;
static __thread bool bql_held;

static volatile ShutdownCause reset_requested;
static volatile ShutdownCause shutdown_requested;
static volatile bool exit_requested;
static volatile int exit_status;
static volatile bool internal_error_requested;
static volatile bool powerdown_requested;
static volatile int panics_requested, crashloads_requested;
static volatile RunState vmstop_requested = RUN_STATE_MAX;

typedef struct Notifier {
    RunStateNotify fn;
    void *opaque;
} Notifier;
static GArray *notifiers;

typedef struct EventNotifier {
    SystemEventNotify fn;
    void *opaque;
} EventNotifier;
static GArray *event_notifiers;

static const char *const shutdown_cause_names[] = {
    [SHUTDOWN_CAUSE_NONE] = "none",
    [SHUTDOWN_CAUSE_HOST_ERROR] = "host-error",
    [SHUTDOWN_CAUSE_HOST_QMP_QUIT] = "host-qmp-quit",
    [SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET] = "host-qmp-system-reset",
    [SHUTDOWN_CAUSE_HOST_SIGNAL] = "host-signal",
    [SHUTDOWN_CAUSE_HOST_UI] = "host-ui",
    [SHUTDOWN_CAUSE_GUEST_SHUTDOWN] = "guest-shutdown",
    [SHUTDOWN_CAUSE_GUEST_RESET] = "guest-reset",
    [SHUTDOWN_CAUSE_GUEST_PANIC] = "guest-panic",
    [SHUTDOWN_CAUSE_SUBSYSTEM_RESET] = "subsystem-reset",
};

const char *shutdown_cause_name(ShutdownCause cause)
{
    return shutdown_cause_names[cause];
}

void system_event_add_notifier(SystemEventNotify fn, void *opaque)
{
    EventNotifier n = { fn, opaque };
    if (!event_notifiers) {
        event_notifiers = g_array_new(false, false, sizeof(EventNotifier));
    }
    g_array_append_val(event_notifiers, n);
}

static void system_event(SystemEvent event, ShutdownCause cause)
{
    for (guint i = 0; event_notifiers && i < event_notifiers->len; i++) {
        EventNotifier *n = &g_array_index(event_notifiers, EventNotifier, i);
        n->fn(event, cause, n->opaque);
    }
}

static const char *const runstate_names[RUN_STATE_MAX] = {
    [RUN_STATE_PRELAUNCH] = "prelaunch",
    [RUN_STATE_RUNNING] = "running",
    [RUN_STATE_PAUSED] = "paused",
    [RUN_STATE_SHUTDOWN] = "shutdown",
    [RUN_STATE_INTERNAL_ERROR] = "internal-error",
    [RUN_STATE_GUEST_PANICKED] = "guest-panicked",
    [RUN_STATE_INMIGRATE] = "inmigrate",
    [RUN_STATE_POSTMIGRATE] = "postmigrate",
    [RUN_STATE_DEBUG] = "debug",
    [RUN_STATE_IO_ERROR] = "io-error",
};

void bql_lock(void)
{
    g_mutex_lock(&bql);
    bql_held = true;
}

void bql_unlock(void)
{
    bql_held = false;
    g_mutex_unlock(&bql);
}

bool bql_locked(void)
{
    return bql_held;
}

RunState runstate_get(void) { return current_runstate; }
const char *runstate_name(RunState s) { return runstate_names[s]; }
bool runstate_is_running(void) { return current_runstate == RUN_STATE_RUNNING; }

void runstate_add_notifier(RunStateNotify fn, void *opaque)
{
    Notifier n = { fn, opaque };
    if (!notifiers) {
        notifiers = g_array_new(false, false, sizeof(Notifier));
    }
    g_array_append_val(notifiers, n);
}

static void runstate_set(RunState s)
{
    current_runstate = s;
    for (guint i = 0; notifiers && i < notifiers->len; i++) {
        Notifier *n = &g_array_index(notifiers, Notifier, i);
        n->fn(s, n->opaque);
    }
}

void vm_start(void)
{
    if (current_runstate == RUN_STATE_RUNNING) {
        return;
    }
    virtual_clock_start();
    runstate_set(RUN_STATE_RUNNING);
    if (current_accel) {
        current_accel->resume_all();
    }
}

void vm_stop(RunState state)
{
    if (current_runstate == RUN_STATE_RUNNING && current_accel) {
        current_accel->pause_all();
    }
    virtual_clock_stop();
    if (current_runstate != state) {
        runstate_set(state);
    }
}

void qemu_system_reset(ShutdownCause cause)
{
    bool running = current_runstate == RUN_STATE_RUNNING;
    if (running && current_accel) {
        current_accel->pause_all();
    }
    devices_reset_all();
    rom_reset_all();
    if (current_accel) {
        current_accel->reset_vcpus();
    }
    if (running && current_accel) {
        current_accel->resume_all();
    }
    if (cause != SHUTDOWN_CAUSE_NONE) {
        system_event(SYSTEM_EVENT_RESET, cause);
    }
}

void qemu_system_reset_request(ShutdownCause cause)
{
    if (current_machine && current_machine->no_reboot &&
        cause == SHUTDOWN_CAUSE_GUEST_RESET) {
        shutdown_requested = cause;
    } else {
        reset_requested = cause;
    }
    main_loop_wakeup();
}

void qemu_system_shutdown_request(ShutdownCause cause)
{
    shutdown_requested = cause;
    main_loop_wakeup();
}

void qemu_system_powerdown_request(void)
{
    powerdown_requested = true;
    main_loop_wakeup();
}

void qemu_system_exit_request(int status)
{
    exit_status = status;
    exit_requested = true;
    main_loop_wakeup();
}

void qemu_system_vmstop_request(RunState state)
{
    vmstop_requested = state;
    main_loop_wakeup();
}

static bool (*preconfig_build)(Error **errp);

void qemu_preconfig_wait(bool (*build)(Error **errp))
{
    preconfig_build = build;
}

bool qemu_preconfig_pending(void)
{
    return preconfig_build != NULL;
}

bool qemu_exit_preconfig(Error **errp)
{
    bool (*build)(Error **errp) = preconfig_build;

    if (!build) {
        return error_fail(errp, "The machine is built already: "
                          "x-exit-preconfig is only for --preconfig");
    }
    preconfig_build = NULL;
    return build(errp);
}

void qemu_system_guest_panicked(void)
{
    panics_requested++;
    main_loop_wakeup();
}

void qemu_system_guest_crashloaded(void)
{
    crashloads_requested++;
    main_loop_wakeup();
}

void qemu_system_internal_error(void)
{
    internal_error_requested = true;
    main_loop_wakeup();
}

void main_loop_wakeup(void)
{
    g_main_context_wakeup(NULL);
}

/* ---- the main loop ---- */

static gboolean timer_prepare(GSource *src, gint *timeout)
{
    *timeout = timers_run_due();
    return false;
}

static gboolean timer_check(GSource *src)
{
    return false;
}

static gboolean timer_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_source_funcs = {
    .prepare = timer_prepare,
    .check = timer_check,
    .dispatch = timer_dispatch,
};

/* Sleep without the big lock so vCPU threads can run device code. */
static gint poll_unlocked(GPollFD *fds, guint nfds, gint timeout)
{
    bql_unlock();
    gint r = g_poll(fds, nfds, timeout);
    bql_lock();
    return r;
}

static gboolean on_signal(gpointer data)
{
    int sig = GPOINTER_TO_INT(data);
    error_report("terminating on signal %d", sig);
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_SIGNAL);
    return G_SOURCE_CONTINUE;
}

/*
 * As QEMU does: the event first, then a running VM stops (a stopped one
 * keeps its state); panic=shutdown with -no-shutdown pauses instead.
 */
static void guest_panicked(void)
{
    PanicAction action = current_machine ? current_machine->panic_action
                                         : PANIC_ACTION_SHUTDOWN;
    bool no_shutdown = current_machine && current_machine->no_shutdown;

    if (action == PANIC_ACTION_NONE) {
        system_event(SYSTEM_EVENT_PANIC_RUN, SHUTDOWN_CAUSE_NONE);
        return;
    }
    bool pause = action == PANIC_ACTION_PAUSE ||
                 (action == PANIC_ACTION_SHUTDOWN && no_shutdown);
    system_event(pause ? SYSTEM_EVENT_PANIC_PAUSE : SYSTEM_EVENT_PANIC_POWEROFF,
                 SHUTDOWN_CAUSE_NONE);
    if (current_runstate == RUN_STATE_RUNNING) {
        vm_stop(RUN_STATE_GUEST_PANICKED);
    }
    if (!pause) {
        shutdown_requested = SHUTDOWN_CAUSE_GUEST_PANIC;
    }
}

/* Returns -1 to keep going, or the process exit status. */
static int handle_requests(void)
{
    if (exit_requested) {
        return exit_status;
    }
    if (internal_error_requested) {
        internal_error_requested = false;
        vm_stop(RUN_STATE_INTERNAL_ERROR);
    }
    if (vmstop_requested != RUN_STATE_MAX) {
        RunState state = vmstop_requested;
        vmstop_requested = RUN_STATE_MAX;
        if (current_runstate == RUN_STATE_RUNNING) {
            vm_stop(state);
        }
    }
    if (powerdown_requested) {
        powerdown_requested = false;
        system_event(SYSTEM_EVENT_POWERDOWN, SHUTDOWN_CAUSE_NONE);
    }
    for (; panics_requested; panics_requested--) {
        guest_panicked();
    }
    for (; crashloads_requested; crashloads_requested--) {
        system_event(SYSTEM_EVENT_CRASHLOADED, SHUTDOWN_CAUSE_NONE);
    }
    if (reset_requested) {
        ShutdownCause cause = reset_requested;
        reset_requested = SHUTDOWN_CAUSE_NONE;
        qemu_system_reset(cause);
        /* Like QEMU: a reset VM that is not running waits in prelaunch,
         * so "cont" starts it even after a shutdown or internal error. */
        if (current_runstate != RUN_STATE_RUNNING &&
            current_runstate != RUN_STATE_INMIGRATE) {
            runstate_set(RUN_STATE_PRELAUNCH);
        }
    }
    if (shutdown_requested) {
        ShutdownCause cause = shutdown_requested;
        shutdown_requested = SHUTDOWN_CAUSE_NONE;
        system_event(SYSTEM_EVENT_SHUTDOWN, cause);
        if (shutdown_caused_by_guest(cause) && current_machine &&
            current_machine->no_shutdown) {
            if (current_runstate != RUN_STATE_GUEST_PANICKED) {
                vm_stop(RUN_STATE_SHUTDOWN);
            }
        } else {
            bool failure = cause == SHUTDOWN_CAUSE_GUEST_PANIC &&
                current_machine &&
                current_machine->panic_action == PANIC_ACTION_EXIT_FAILURE;
            return failure ? 1 : 0;
        }
    }
    return -1;
}

int main_loop_run(void)
{
    GSource *timers = g_source_new(&timer_source_funcs, sizeof(GSource));
    g_source_attach(timers, NULL);
    g_main_context_set_poll_func(NULL, poll_unlocked);
    g_unix_signal_add(SIGINT, on_signal, GINT_TO_POINTER(SIGINT));
    g_unix_signal_add(SIGTERM, on_signal, GINT_TO_POINTER(SIGTERM));
    g_unix_signal_add(SIGHUP, on_signal, GINT_TO_POINTER(SIGHUP));

    int status;
    while ((status = handle_requests()) < 0) {
        g_main_context_iteration(NULL, TRUE);
    }
    return status;
}
