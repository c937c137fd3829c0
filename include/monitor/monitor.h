/*
 * The monitor: QMP (JSON, for programs) and HMP (text, for people) on
 * chardevs, both driving one set of command handlers.
 *
 * A subsystem adds a QMP command from its own file with a static QmpCommand
 * and QMP_COMMAND_REGISTER(), and the human face with HMP_COMMAND_REGISTER().
 * Handlers run in the main loop with the big lock held (allow_oob ones may
 * also run in the monitor's I/O thread).
 */
#ifndef MONITOR_MONITOR_H
#define MONITOR_MONITOR_H

#include "util/osdep.h"
#include "monitor/module.h"
#include <json-glib/json-glib.h>

typedef struct Monitor Monitor;
typedef struct Chardev Chardev;

/* The QEMU release whose protocol we speak (greeting, query-version). */
#define QEMU_COMPAT_MAJOR 7
#define QEMU_COMPAT_MINOR 2
#define QEMU_COMPAT_MICRO 0

/* ---- QMP commands ---- */

typedef enum {
    QMP_ARG_STRING,
    QMP_ARG_INT,
    QMP_ARG_BOOL,
    QMP_ARG_NUMBER,           /* int or float */
    QMP_ARG_OBJECT,
    QMP_ARG_ARRAY,
    QMP_ARG_ANY,
} QmpArgType;

typedef struct QmpArg {
    const char *name;
    QmpArgType type;
    bool optional;
} QmpArg;

#define QMP_MAX_ARGS 12

/*
 * args holds only the declared arguments with the declared types (the
 * dispatcher refuses anything else, naming it), and is never NULL.  Return
 * the "return" value, or NULL for {} or on error (errp set).
 */
typedef JsonNode *QmpCommandFunc(JsonObject *args, Error **errp);

/* What a command returns, for query-qmp-schema. */
typedef enum {
    QMP_RET_EMPTY,            /* {} (the handler returns NULL) */
    QMP_RET_ANY,              /* any JSON value */
    QMP_RET_STRING,
    QMP_RET_OBJECT,           /* an object with ret_members (NULL: any) */
    QMP_RET_ARRAY,            /* an array of those objects */
} QmpRetKind;

/*
 * Arguments beyond args[] chosen by the value of args[0] (object-add's
 * properties by qom-type): one case per value, each a list ending at an
 * unnamed entry; the dispatcher checks them like args[].
 */
typedef struct QmpArgCase {
    const char *value;
    const QmpArg *args;
} QmpArgCase;

typedef struct QmpCommand {
    const char *name;
    QmpCommandFunc *fn;
    QmpArg args[QMP_MAX_ARGS];    /* ends at the first unnamed entry */
    QmpRetKind ret;
    const QmpArg *ret_members;    /* ends at an unnamed entry */
    /* The cases, up to a NULL value (object-add builds them once). */
    const QmpArgCase *(*arg_cases)(void);
    /* May run out-of-band (exec-oob): in the monitor's I/O thread, without
     * the big lock, so it must touch no machine state and never block. */
    bool allow_oob;
    /* Arguments beyond args[] are the handler's to check (device_add's
     * device properties); the schema shows args[] only, as QEMU's does. */
    bool extra_args;
} QmpCommand;

void qmp_register_command(const QmpCommand *cmd);
#define QMP_COMMAND_REGISTER(cmd) \
    static void __attribute__((constructor)) qmp_register_##cmd(void) \
    { qmp_register_command(&(cmd)); }

const QmpCommand *qmp_find_command(const char *name);
/* Registered commands sorted by name (array owned by the caller). */
GPtrArray *qmp_command_list(void);

/* Error classes besides GenericError, as QEMU names them on the wire. */
typedef enum {
    QMP_ERROR_GENERIC,
    QMP_ERROR_COMMAND_NOT_FOUND,
    QMP_ERROR_DEVICE_NOT_ACTIVE,
    QMP_ERROR_DEVICE_NOT_FOUND,
    QMP_ERROR_KVM_MISSING_CAP,
} QmpErrorClass;

/* error_setg() with a class; the dispatcher reports it with the error. */
void qmp_error_setg(Error **errp, QmpErrorClass cls, const char *fmt, ...)
    PRINTF_FMT(3, 4);

/* Argument getters (arguments already checked against the table). */
const char *qmp_arg_str(JsonObject *args, const char *name);
int64_t qmp_arg_int(JsonObject *args, const char *name, int64_t dflt);
bool qmp_arg_bool(JsonObject *args, const char *name, bool dflt);
bool qmp_has_arg(JsonObject *args, const char *name);

/* Call a command as a client would, arguments checked (NULL = none). */
JsonNode *qmp_call(const char *name, JsonObject *args, Error **errp);

/* ---- HMP commands ---- */

typedef struct HmpCommand {
    const char *name;         /* "cont|c": the name, then aliases */
    const char *params;       /* for help: "[-a]", "/fmt addr" */
    const char *help;
    /* args: the rest of the line after the name, blanks trimmed. */
    void (*fn)(Monitor *mon, const char *args);
    bool info;                /* an "info NAME" subcommand */
} HmpCommand;

void hmp_register_command(const HmpCommand *cmd);
#define HMP_COMMAND_REGISTER(cmd) \
    static void __attribute__((constructor)) hmp_register_##cmd(void) \
    { hmp_register_command(&(cmd)); }

void monitor_printf(Monitor *mon, const char *fmt, ...) PRINTF_FMT(2, 3);
void monitor_puts(Monitor *mon, const char *str);
/* An HMP command reports a failed QMP handler this way ("Error: ..."). */
void hmp_handle_error(Monitor *mon, Error *err);
/* The vCPU that info registers and x use (the "cpu" command sets it). */
int monitor_cpu_index(Monitor *mon);

/* Run one HMP command line, returning what it printed. */
char *hmp_run_command_line(const char *line, int cpu_index);

/* ---- set-up ---- */

/* Command line: -qmp, -qmp-pretty, -monitor, -mon (checked here). */
bool monitor_parse_option(const char *opt, const char *arg, Error **errp);
/* Any of them given (then -nographic adds no monitor of its own). */
bool monitor_configured(void);
/* A monitor for an existing chardev (-serial mon:stdio). */
void monitor_add_chardev(Chardev *chr, MonitorMode mode);
/* After -chardev: open the chardevs the options name. */
bool monitor_open_chardevs(Error **errp);
/* After the board: attach the monitors; events start. */
bool monitor_start_all(Error **errp);

/* A monitor on chr; with pretty, QMP output is indented. */
Monitor *monitor_new(Chardev *chr, MonitorMode mode, bool pretty,
                     Error **errp);
/* Events (STOP, RESUME, RESET, SHUTDOWN, POWERDOWN) to QMP clients. */
void monitor_init_events(void);
/* data may be NULL; it is consumed. */
void qmp_event_send(const char *event, JsonObject *data);

#endif
