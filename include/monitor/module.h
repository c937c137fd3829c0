/*
 * The monitor (QMP and HMP, kestrel-monitor.so) is a module that the
 * process loads when the command line asks for a monitor: JSON handling
 * (json-glib and the gio stack it needs) costs about 1.2 MiB of resident
 * memory, which a VM without a monitor does not pay.  No JSON types here.
 */
#ifndef MONITOR_MODULE_H
#define MONITOR_MODULE_H

#include "util/osdep.h"

typedef struct Chardev Chardev;

typedef enum {
    MONITOR_HMP,
    MONITOR_QMP,
} MonitorMode;

/* What the module offers the start-up code (see monitor/monitor.h). */
typedef struct MonitorModuleOps {
    /* Command line: -qmp, -qmp-pretty, -monitor, -mon (checked here). */
    bool (*parse_option)(const char *opt, const char *arg, Error **errp);
    /* Any of them given (then -nographic adds no monitor of its own). */
    bool (*configured)(void);
    /* A monitor for an existing chardev (-serial mon:stdio). */
    void (*add_chardev)(Chardev *chr, MonitorMode mode);
    /* After -chardev: open the chardevs the options name. */
    bool (*open_chardevs)(Error **errp);
    /* After the board: attach the monitors; events start. */
    bool (*start_all)(Error **errp);
    /* -blockdev '{"driver": ...}': JSON needs the module's parser. */
    bool (*blockdev_add_json)(const char *json, Error **errp);
} MonitorModuleOps;

/* The symbol the module exports. */
#define MONITOR_MODULE_SYMBOL "kestrel_monitor_module"

/* Load the module on first use; NULL with errp set if it cannot be. */
const MonitorModuleOps *monitor_module_load(Error **errp);
/* The module if it is loaded, else NULL. */
const MonitorModuleOps *monitor_module_get(void);

#endif
