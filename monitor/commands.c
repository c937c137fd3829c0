/*
 * The QMP commands of the machine and its run state.  HMP's commands call
 * these same handlers and print their results as text.
 */
#include "monitor/monitor-internal.h"
#include "accel/kvm.h"
#include "chardev/char.h"
#include "hw/pci/pci.h"
#include "system/system.h"
#include <unistd.h>

JsonNode *qmp_query_status(JsonObject *args, Error **errp)
{
    JsonObject *o = json_object_new();
    json_object_set_boolean_member(o, "running", runstate_is_running());
    json_object_set_boolean_member(o, "singlestep", false);
    json_object_set_string_member(o, "status", runstate_name(runstate_get()));
    return json_node_new_object_take(o);
}

static JsonNode *qmp_stop(JsonObject *args, Error **errp)
{
    /* Like QEMU: stopping a VM that does not run changes nothing. */
    if (runstate_is_running()) {
        vm_stop(RUN_STATE_PAUSED);
    }
    return NULL;
}

static JsonNode *qmp_cont(JsonObject *args, Error **errp)
{
    /* As in QEMU, a guest that panicked (panic=pause) may go on. */
    switch (runstate_get()) {
    case RUN_STATE_INTERNAL_ERROR:
    case RUN_STATE_SHUTDOWN:
        error_setg(errp, "Resetting the Virtual Machine is required");
        return NULL;
    case RUN_STATE_INMIGRATE:
        error_setg(errp, "The VM is waiting for an incoming migration");
        return NULL;
    case RUN_STATE_RUNNING:
        return NULL;
    default:
        vm_start();
        return NULL;
    }
}

/* --preconfig: build the machine now and start it (unless -S). */
static JsonNode *qmp_x_exit_preconfig(JsonObject *args, Error **errp)
{
    qemu_exit_preconfig(errp);
    return NULL;
}

static JsonNode *qmp_system_reset(JsonObject *args, Error **errp)
{
    qemu_system_reset_request(SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET);
    return NULL;
}

static JsonNode *qmp_system_powerdown(JsonObject *args, Error **errp)
{
    qemu_system_powerdown_request();
    return NULL;
}

static JsonNode *qmp_quit(JsonObject *args, Error **errp)
{
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_QMP_QUIT);
    return NULL;
}

static JsonNode *qmp_query_commands(JsonObject *args, Error **errp)
{
    GPtrArray *list = qmp_command_list();
    JsonArray *arr = json_array_new();
    for (guint i = 0; i < list->len; i++) {
        const QmpCommand *cmd = g_ptr_array_index(list, i);
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "name", cmd->name);
        json_array_add_object_element(arr, o);
    }
    g_ptr_array_free(list, true);
    return json_node_new_array_take(arr);
}

JsonNode *qmp_query_name(JsonObject *args, Error **errp)
{
    JsonObject *o = json_object_new();
    if (current_machine && current_machine->name) {
        json_object_set_string_member(o, "name", current_machine->name);
    }
    return json_node_new_object_take(o);
}

JsonNode *qmp_query_kvm(JsonObject *args, Error **errp)
{
    JsonObject *o = json_object_new();
    json_object_set_boolean_member(o, "enabled", kvm_enabled());
    json_object_set_boolean_member(o, "present", kvm_enabled() ||
                                   access("/dev/kvm", R_OK | W_OK) == 0);
    return json_node_new_object_take(o);
}

static JsonNode *qmp_query_machines(JsonObject *args, Error **errp)
{
    JsonArray *arr = json_array_new();
    for (const MachineTypeInfo *m = machine_types; m->name; m++) {
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "name", m->name);
        if (m->alias) {
            json_object_set_string_member(o, "alias", m->alias);
        }
        if (m->is_default) {
            json_object_set_boolean_member(o, "is-default", true);
        }
        json_object_set_int_member(o, "cpu-max", m->max_cpus);
        json_object_set_boolean_member(o, "hotpluggable-cpus", false);
        json_object_set_boolean_member(o, "numa-mem-supported", false);
        json_object_set_boolean_member(o, "deprecated", false);
        json_array_add_object_element(arr, o);
    }
    return json_node_new_array_take(arr);
}

static JsonNode *qmp_query_target(JsonObject *args, Error **errp)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "arch", "x86_64");
    return json_node_new_object_take(o);
}

JsonNode *qmp_query_cpus_fast(JsonObject *args, Error **errp)
{
    JsonArray *arr = json_array_new();
    unsigned n = kvm_enabled() ? kvm_cpu_count() : 0;
    for (unsigned i = 0; i < n; i++) {
        JsonObject *props = json_object_new();
        json_object_set_int_member(props, "core-id", 0);
        json_object_set_int_member(props, "thread-id", 0);
        json_object_set_int_member(props, "socket-id", i);
        JsonObject *o = json_object_new();
        json_object_set_int_member(o, "cpu-index", i);
        g_autofree char *path =
            g_strdup_printf("/machine/unattached/device[%u]", i);
        json_object_set_string_member(o, "qom-path", path);
        json_object_set_int_member(o, "thread-id", kvm_cpu_thread_id(i));
        json_object_set_object_member(o, "props", props);
        json_object_set_string_member(o, "target", "x86_64");
        json_array_add_object_element(arr, o);
    }
    return json_node_new_array_take(arr);
}

JsonNode *qmp_query_chardev(JsonObject *args, Error **errp)
{
    GPtrArray *list = chardev_list();
    JsonArray *arr = json_array_new();
    for (guint i = 0; i < list->len; i++) {
        Chardev *chr = g_ptr_array_index(list, i);
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "label", chardev_id(chr));
        json_object_set_string_member(o, "filename", chardev_filename(chr));
        json_object_set_boolean_member(o, "frontend-open",
                                       chardev_frontend_open(chr));
        json_array_add_object_element(arr, o);
    }
    return json_node_new_array_take(arr);
}

static JsonArray *pci_regions(PCIDevice *dev)
{
    JsonArray *regions = json_array_new();
    for (int bar = 0; bar < PCI_NUM_REGIONS; bar++) {
        const PCIIORegion *r = &dev->io_regions[bar];
        if (!r->mr) {
            continue;
        }
        JsonObject *o = json_object_new();
        bool io = r->type & PCI_BASE_ADDRESS_SPACE_IO;
        json_object_set_int_member(o, "bar", bar);
        json_object_set_string_member(o, "type", io ? "io" : "memory");
        /* Unmapped is all ones; JSON integers here are signed: -1. */
        json_object_set_int_member(o, "address", (int64_t)r->addr);
        json_object_set_int_member(o, "size", r->size);
        if (!io) {
            json_object_set_boolean_member(o, "prefetch",
                r->type & PCI_BASE_ADDRESS_MEM_PREFETCH);
            json_object_set_boolean_member(o, "mem_type_64",
                r->type & PCI_BASE_ADDRESS_MEM_TYPE_64);
        }
        json_array_add_object_element(regions, o);
    }
    return regions;
}

static JsonObject *pci_device_info(PCIDevice *dev)
{
    const uint8_t *c = dev->config;
    JsonObject *o = json_object_new();
    json_object_set_int_member(o, "bus", 0);
    json_object_set_int_member(o, "slot", PCI_SLOT(dev->devfn));
    json_object_set_int_member(o, "function", PCI_FUNC(dev->devfn));

    JsonObject *cls = json_object_new();
    json_object_set_int_member(cls, "class",
                               pci_get_word(c + PCI_CLASS_DEVICE));
    json_object_set_object_member(o, "class_info", cls);

    JsonObject *id = json_object_new();
    json_object_set_int_member(id, "device", pci_get_word(c + PCI_DEVICE_ID));
    json_object_set_int_member(id, "vendor", pci_get_word(c + PCI_VENDOR_ID));
    json_object_set_int_member(id, "subsystem",
                               pci_get_word(c + PCI_SUBSYSTEM_ID));
    json_object_set_int_member(id, "subsystem-vendor",
                               pci_get_word(c + PCI_SUBSYSTEM_VENDOR_ID));
    json_object_set_object_member(o, "id", id);

    if (c[PCI_INTERRUPT_PIN]) {
        json_object_set_int_member(o, "irq", c[PCI_INTERRUPT_LINE]);
        json_object_set_int_member(o, "irq_pin", c[PCI_INTERRUPT_PIN]);
    }
    json_object_set_string_member(o, "qdev_id",
                                  dev->parent_obj.id ? dev->parent_obj.id : "");
    json_object_set_array_member(o, "regions", pci_regions(dev));
    return o;
}

static JsonNode *qmp_query_pci(JsonObject *args, Error **errp)
{
    JsonArray *buses = json_array_new();
    PCIBus *bus = pci_get_bus();
    if (bus) {
        JsonArray *devices = json_array_new();
        for (int devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
            if (bus->devices[devfn]) {
                json_array_add_object_element(devices,
                    pci_device_info(bus->devices[devfn]));
            }
        }
        JsonObject *b = json_object_new();
        json_object_set_int_member(b, "bus", 0);
        json_object_set_array_member(b, "devices", devices);
        json_array_add_object_element(buses, b);
    }
    return json_node_new_array_take(buses);
}

static JsonNode *qmp_human_monitor_command(JsonObject *args, Error **errp)
{
    int64_t cpu = qmp_arg_int(args, "cpu-index", 0);
    if (cpu < 0 || (kvm_enabled() && cpu >= kvm_cpu_count())) {
        error_setg(errp, "Parameter 'cpu-index' expects a CPU index "
                   "(0-%u)", kvm_enabled() ? kvm_cpu_count() - 1 : 0);
        return NULL;
    }
    char *out = hmp_run_command_line(qmp_arg_str(args, "command-line"), cpu);
    JsonNode *n = json_node_new(JSON_NODE_VALUE);
    json_node_set_string(n, out);
    g_free(out);
    return n;
}

/* qmp_capabilities is answered by the dispatcher (it changes the session);
 * the entry makes it known to query-commands. */
static JsonNode *qmp_capabilities_done(JsonObject *args, Error **errp)
{
    qmp_error_setg(errp, QMP_ERROR_COMMAND_NOT_FOUND,
                   "Capabilities negotiation is already complete, command "
                   "ignored");
    return NULL;
}

static const QmpArg status_members[] = {
    { "running", QMP_ARG_BOOL }, { "singlestep", QMP_ARG_BOOL },
    { "status", QMP_ARG_STRING }, { NULL },
};
static const QmpArg version_members[] = {
    { "qemu", QMP_ARG_OBJECT }, { "package", QMP_ARG_STRING }, { NULL },
};
static const QmpArg command_members[] = {
    { "name", QMP_ARG_STRING }, { NULL },
};
static const QmpArg name_members[] = {
    { "name", QMP_ARG_STRING, true }, { NULL },
};
static const QmpArg kvm_members[] = {
    { "enabled", QMP_ARG_BOOL }, { "present", QMP_ARG_BOOL }, { NULL },
};
static const QmpArg target_members[] = {
    { "arch", QMP_ARG_STRING }, { NULL },
};
static const QmpArg machine_members[] = {
    { "name", QMP_ARG_STRING }, { "alias", QMP_ARG_STRING, true },
    { "is-default", QMP_ARG_BOOL, true }, { "cpu-max", QMP_ARG_INT },
    { "hotpluggable-cpus", QMP_ARG_BOOL },
    { "numa-mem-supported", QMP_ARG_BOOL }, { "deprecated", QMP_ARG_BOOL },
    { NULL },
};
static const QmpArg cpu_members[] = {
    { "cpu-index", QMP_ARG_INT }, { "qom-path", QMP_ARG_STRING },
    { "thread-id", QMP_ARG_INT }, { "props", QMP_ARG_OBJECT, true },
    { "target", QMP_ARG_STRING }, { NULL },
};
static const QmpArg chardev_members[] = {
    { "label", QMP_ARG_STRING }, { "filename", QMP_ARG_STRING },
    { "frontend-open", QMP_ARG_BOOL }, { NULL },
};
static const QmpArg pci_members[] = {
    { "bus", QMP_ARG_INT }, { "devices", QMP_ARG_ARRAY }, { NULL },
};

static const QmpCommand qmp_capabilities_cmd = {
    "qmp_capabilities", qmp_capabilities_done,
    { { "enable", QMP_ARG_ARRAY, true } },
};
static const QmpCommand query_status_cmd = {
    "query-status", qmp_query_status,
    .ret = QMP_RET_OBJECT, .ret_members = status_members,
};
static const QmpCommand stop_cmd = { "stop", qmp_stop };
static const QmpCommand cont_cmd = { "cont", qmp_cont };
static const QmpCommand system_reset_cmd = { "system_reset", qmp_system_reset };
static const QmpCommand system_powerdown_cmd = {
    "system_powerdown", qmp_system_powerdown,
};
static const QmpCommand quit_cmd = { "quit", qmp_quit };
static const QmpCommand x_exit_preconfig_cmd = {
    "x-exit-preconfig", qmp_x_exit_preconfig,
};
static const QmpCommand query_version_cmd = {
    "query-version", qmp_query_version,
    .ret = QMP_RET_OBJECT, .ret_members = version_members,
};
static const QmpCommand query_commands_cmd = {
    "query-commands", qmp_query_commands,
    .ret = QMP_RET_ARRAY, .ret_members = command_members,
};
static const QmpCommand query_name_cmd = {
    "query-name", qmp_query_name,
    .ret = QMP_RET_OBJECT, .ret_members = name_members,
};
static const QmpCommand query_kvm_cmd = {
    "query-kvm", qmp_query_kvm,
    .ret = QMP_RET_OBJECT, .ret_members = kvm_members,
};
static const QmpCommand query_target_cmd = {
    "query-target", qmp_query_target,
    .ret = QMP_RET_OBJECT, .ret_members = target_members,
};
static const QmpCommand query_machines_cmd = {
    "query-machines", qmp_query_machines,
    .ret = QMP_RET_ARRAY, .ret_members = machine_members,
};
static const QmpCommand query_cpus_fast_cmd = {
    "query-cpus-fast", qmp_query_cpus_fast,
    .ret = QMP_RET_ARRAY, .ret_members = cpu_members,
};
static const QmpCommand query_chardev_cmd = {
    "query-chardev", qmp_query_chardev,
    .ret = QMP_RET_ARRAY, .ret_members = chardev_members,
};
static const QmpCommand query_pci_cmd = {
    "query-pci", qmp_query_pci,
    .ret = QMP_RET_ARRAY, .ret_members = pci_members,
};
static const QmpCommand human_monitor_command_cmd = {
    "human-monitor-command", qmp_human_monitor_command,
    { { "command-line", QMP_ARG_STRING }, { "cpu-index", QMP_ARG_INT, true } },
    .ret = QMP_RET_STRING,
};

QMP_COMMAND_REGISTER(qmp_capabilities_cmd)
QMP_COMMAND_REGISTER(query_status_cmd)
QMP_COMMAND_REGISTER(stop_cmd)
QMP_COMMAND_REGISTER(cont_cmd)
QMP_COMMAND_REGISTER(system_reset_cmd)
QMP_COMMAND_REGISTER(system_powerdown_cmd)
QMP_COMMAND_REGISTER(quit_cmd)
QMP_COMMAND_REGISTER(x_exit_preconfig_cmd)
QMP_COMMAND_REGISTER(query_version_cmd)
QMP_COMMAND_REGISTER(query_commands_cmd)
QMP_COMMAND_REGISTER(query_name_cmd)
QMP_COMMAND_REGISTER(query_kvm_cmd)
QMP_COMMAND_REGISTER(query_target_cmd)
QMP_COMMAND_REGISTER(query_machines_cmd)
QMP_COMMAND_REGISTER(query_cpus_fast_cmd)
QMP_COMMAND_REGISTER(query_chardev_cmd)
QMP_COMMAND_REGISTER(query_pci_cmd)
QMP_COMMAND_REGISTER(human_monitor_command_cmd)
