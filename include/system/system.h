/* The machine being run: configuration, run state, lifecycle requests, BQL. */
#ifndef SYSTEM_SYSTEM_H
#define SYSTEM_SYSTEM_H

#include "util/osdep.h"
#include "system/memory.h"

typedef enum {
    KERNEL_IRQCHIP_ON,
    KERNEL_IRQCHIP_SPLIT,
    KERNEL_IRQCHIP_OFF,
} KernelIrqchipMode;

typedef enum {
    ACCEL_KVM,
    ACCEL_QTEST,
} AccelType;

/* -action panic=: what a guest panic (pvpanic) does. */
typedef enum {
    PANIC_ACTION_SHUTDOWN,       /* stop, SHUTDOWN, exit 0; -no-shutdown:
                                    pause */
    PANIC_ACTION_PAUSE,          /* stop in guest-panicked; cont goes on */
    PANIC_ACTION_EXIT_FAILURE,   /* as shutdown, with exit status 1 */
    PANIC_ACTION_NONE,           /* only the GUEST_PANICKED event */
} PanicAction;

typedef struct MachineState {
    const char *type;            /* "pc" */
    AccelType accel;
    KernelIrqchipMode kernel_irqchip;
    uint64_t ram_size;
    unsigned smp_cpus;
    unsigned max_cpus;
    const char *cpu_model;       /* host, max, qemu64 */
    const char *bios_name;       /* -bios, NULL = default */
    const char *kernel_filename;
    const char *initrd_filename;
    const char *kernel_cmdline;
    bool firmware_boot;          /* -kernel via the BIOS and an option ROM */
    const char *boot_order;      /* -boot order=, NULL: the board's */
    const char *boot_once;       /* -boot once=: until the first reset */
    const char *name;
    bool no_reboot;
    bool no_shutdown;
    PanicAction panic_action;    /* -action panic= */
    bool start_paused;
    bool nodefaults;
    MemoryRegion *ram;           /* all guest RAM, mapped by the board */
    uint64_t below_4g_mem_size;
    uint64_t above_4g_mem_size;
} MachineState;

extern MachineState *current_machine;

/* The machine types -machine accepts; the list ends with a NULL name. */
typedef struct MachineTypeInfo {
    const char *name;
    const char *alias;           /* or NULL */
    const char *desc;
    unsigned max_cpus;
    bool is_default;
} MachineTypeInfo;
extern const MachineTypeInfo machine_types[];

/* -machine none: no board, no RAM, no devices (qtest only). */
static inline bool machine_is_none(const MachineState *ms)
{
    return !strcmp(ms->type, "none");
}

/* Firmware search path: -L directories then the built-in default. */
char *firmware_find(const char *name);
void firmware_path_add(const char *dir);

typedef enum {
    RUN_STATE_PRELAUNCH,
    RUN_STATE_RUNNING,
    RUN_STATE_PAUSED,
    RUN_STATE_SHUTDOWN,
    RUN_STATE_INTERNAL_ERROR,
    RUN_STATE_GUEST_PANICKED,
    RUN_STATE_INMIGRATE,
    RUN_STATE_POSTMIGRATE,
    RUN_STATE_DEBUG,
    RUN_STATE_IO_ERROR,          /* a disk error stopped it (werror=stop) */
    RUN_STATE_MAX,
} RunState;

RunState runstate_get(void);
const char *runstate_name(RunState s);
bool runstate_is_running(void);

typedef enum {
    SHUTDOWN_CAUSE_NONE,
    SHUTDOWN_CAUSE_HOST_ERROR,
    SHUTDOWN_CAUSE_HOST_QMP_QUIT,
    SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET,
    SHUTDOWN_CAUSE_HOST_SIGNAL,
    SHUTDOWN_CAUSE_HOST_UI,
    SHUTDOWN_CAUSE_GUEST_SHUTDOWN,
    SHUTDOWN_CAUSE_GUEST_RESET,
    SHUTDOWN_CAUSE_GUEST_PANIC,
    SHUTDOWN_CAUSE_SUBSYSTEM_RESET,
} ShutdownCause;

/* Requests from any thread; the main loop carries them out. */
void qemu_system_reset_request(ShutdownCause cause);
void qemu_system_shutdown_request(ShutdownCause cause);
/* Exit the process with this status once the main loop sees it
 * (isa-debug-exit). */
void qemu_system_exit_request(int status);
/* A vCPU hit an error it cannot go on from: stop the VM, keep the process. */
void qemu_system_internal_error(void);
/* pvpanic: the guest panicked (-action panic= says what follows), or it
 * loaded its crash kernel (an event only). */
void qemu_system_guest_panicked(void);
void qemu_system_guest_crashloaded(void);

void vm_start(void);
void vm_stop(RunState state);
/* Stop a running VM from the main loop soon (any thread, device code). */
void qemu_system_vmstop_request(RunState state);
/* Reset devices and vCPUs now (main loop, vCPUs paused). */
void qemu_system_reset(ShutdownCause cause);

/*
 * --preconfig: the main loop runs, the machine unbuilt (run state
 * prelaunch), until x-exit-preconfig calls build; the monitor refuses
 * what needs a machine meanwhile.
 */
void qemu_preconfig_wait(bool (*build)(Error **errp));
bool qemu_preconfig_pending(void);
bool qemu_exit_preconfig(Error **errp);

/* The big lock: device models and the memory map are touched only under it. */
void bql_lock(void);
void bql_unlock(void);
bool bql_locked(void);

/* Run the main loop until a shutdown or exit request; returns exit status. */
int main_loop_run(void);
void main_loop_wakeup(void);

/* QEMU's name of a cause ("guest-reset", "host-qmp-quit", ...). */
const char *shutdown_cause_name(ShutdownCause cause);
static inline bool shutdown_caused_by_guest(ShutdownCause cause)
{
    return cause >= SHUTDOWN_CAUSE_GUEST_SHUTDOWN &&
           cause <= SHUTDOWN_CAUSE_GUEST_PANIC;
}

/* ACPI power button (system_powerdown): the PM device listens for it. */
void qemu_system_powerdown_request(void);

/* Notifiers for the monitor's events and for devices. */
typedef void (*RunStateNotify)(RunState state, void *opaque);
void runstate_add_notifier(RunStateNotify fn, void *opaque);

typedef enum {
    SYSTEM_EVENT_RESET,       /* after the machine was reset */
    SYSTEM_EVENT_SHUTDOWN,    /* the VM is shutting down (or stopped, -no-shutdown) */
    SYSTEM_EVENT_POWERDOWN,   /* the power button was pressed */
    /* GUEST_PANICKED with action pause, poweroff or run; GUEST_CRASHLOADED */
    SYSTEM_EVENT_PANIC_PAUSE,
    SYSTEM_EVENT_PANIC_POWEROFF,
    SYSTEM_EVENT_PANIC_RUN,
    SYSTEM_EVENT_CRASHLOADED,
} SystemEvent;
typedef void (*SystemEventNotify)(SystemEvent event, ShutdownCause cause,
                                  void *opaque);
void system_event_add_notifier(SystemEventNotify fn, void *opaque);

#endif
