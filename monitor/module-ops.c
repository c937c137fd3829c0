/* What kestrel-monitor.so offers the executable (monitor/module.h). */
#include "monitor/monitor.h"
#include "block/drive.h"

extern const MonitorModuleOps kestrel_monitor_module;
const MonitorModuleOps kestrel_monitor_module = {
    .parse_option = monitor_parse_option,
    .configured = monitor_configured,
    .add_chardev = monitor_add_chardev,
    .open_chardevs = monitor_open_chardevs,
    .start_all = monitor_start_all,
    .blockdev_add_json = blockdev_add_json,
};
