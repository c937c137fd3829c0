/*
 * HMP: the human monitor.  Lines from the line editor are split into a
 * command name and its arguments and run from a table that other files add
 * to with HMP_COMMAND_REGISTER().  The commands here call the QMP handlers
 * and print their results the way QEMU's monitor does.
 */
#include "monitor/monitor-internal.h"
#include "accel/kvm.h"
#include "hw/pci/pci.h"
#include "system/memory.h"
#include "system/system.h"
#include "config-host.h"

static GPtrArray *hmp_commands;

void hmp_register_command(const HmpCommand *cmd)
{
    if (!hmp_commands) {
        hmp_commands = g_ptr_array_new();
    }
    g_ptr_array_add(hmp_commands, (gpointer)cmd);
}

/* names is "cont|c". */
static bool name_matches(const char *names, const char *word)
{
    size_t len = strlen(word);
    while (*names) {
        size_t n = strcspn(names, "|");
        if (n == len && !strncmp(names, word, len)) {
            return true;
        }
        names += n + (names[n] == '|');
    }
    return false;
}

static const HmpCommand *find_command(const char *word, bool info)
{
    for (guint i = 0; hmp_commands && i < hmp_commands->len; i++) {
        const HmpCommand *cmd = g_ptr_array_index(hmp_commands, i);
        if (cmd->info == info && name_matches(cmd->name, word)) {
            return cmd;
        }
    }
    return NULL;
}

static gint cmp_command(gconstpointer a, gconstpointer b)
{
    const HmpCommand *x = *(const HmpCommand *const *)a;
    const HmpCommand *y = *(const HmpCommand *const *)b;
    return strcmp(x->name, y->name);
}

static void print_help_line(Monitor *mon, const HmpCommand *cmd)
{
    monitor_printf(mon, "%s%s%s%s -- %s\n", cmd->info ? "info " : "",
                   cmd->name, cmd->params ? " " : "",
                   cmd->params ? cmd->params : "", cmd->help);
}

static void print_help(Monitor *mon, bool info)
{
    GPtrArray *sorted = g_ptr_array_new();
    for (guint i = 0; hmp_commands && i < hmp_commands->len; i++) {
        const HmpCommand *cmd = g_ptr_array_index(hmp_commands, i);
        if (cmd->info == info) {
            g_ptr_array_add(sorted, (gpointer)cmd);
        }
    }
    g_ptr_array_sort(sorted, cmp_command);
    for (guint i = 0; i < sorted->len; i++) {
        print_help_line(mon, g_ptr_array_index(sorted, i));
    }
    g_ptr_array_free(sorted, true);
}

void hmp_handle_error(Monitor *mon, Error *err)
{
    if (err) {
        monitor_printf(mon, "Error: %s\n", err->msg);
        error_free(err);
    }
}

/* Split "word rest": returns the word, *rest points past it and blanks. */
static char *next_word(const char *s, const char **rest)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strcspn(s, " \t");
    char *word = g_strndup(s, n);
    s += n;
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    *rest = s;
    return word;
}

/*
 * Before --preconfig's machine exists, only what needs no machine (QEMU's
 * list, of the commands kestrel has).  cmd is an entry of the table.
 */
static bool hmp_allowed(Monitor *mon, const HmpCommand *cmd)
{
    static const char *const names[] = {
        "help|?", "info", "quit|q", "exit_preconfig",
        "status", "version", "name", "chardev", "history",
    };
    if (!qemu_preconfig_pending()) {
        return true;
    }
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (!strcmp(names[i], cmd->name)) {
            return true;
        }
    }
    monitor_printf(mon, "Command '%s%s' is not available before the machine "
                   "is built (--preconfig: exit_preconfig first)\n",
                   cmd->info ? "info " : "", cmd->name);
    return false;
}

void hmp_handle_line(Monitor *mon, const char *line)
{
    while (*line == ' ' || *line == '\t') {
        line++;
    }
    if (!*line) {
        return;
    }
    /* "x/4x addr": the format sticks to the name. */
    size_t n = strcspn(line, " \t/");
    g_autofree char *name = g_strndup(line, n);
    const HmpCommand *cmd = find_command(name, false);
    if (!cmd) {
        monitor_printf(mon, "unknown command: '%s'\n", name);
        return;
    }
    if (!hmp_allowed(mon, cmd)) {
        return;
    }
    g_autofree char *args = g_strstrip(g_strdup(line + n));
    cmd->fn(mon, args);
}

char *hmp_run_command_line(const char *line, int cpu_index)
{
    Monitor mon = {
        .mode = MONITOR_HMP, .capture = g_string_new(NULL),
        .cpu_index = cpu_index, .last_format = 'x', .last_size = 4,
    };
    hmp_handle_line(&mon, line);
    return g_string_free(mon.capture, false);
}

static void rl_write(void *opaque, const char *text)
{
    monitor_write_raw(opaque, text, strlen(text));
}

static void rl_execute(void *opaque, const char *line)
{
    Monitor *mon = opaque;
    hmp_handle_line(mon, line);
    readline_show_prompt(&mon->rl);
}

void hmp_monitor_setup(Monitor *mon)
{
    readline_init(&mon->rl, "(qemu) ", rl_execute, rl_write, mon);
}

/* Each socket client sees the banner; a mux shows it once. */
void hmp_greet(Monitor *mon)
{
    if (!mon->mux || !mon->banner_shown) {
        monitor_printf(mon, "kestrel %s monitor - type 'help' for more "
                       "information\n", KESTREL_VERSION);
        mon->banner_shown = true;
    }
    readline_show_prompt(&mon->rl);
}

/* ---- commands ---- */

static void hmp_help(Monitor *mon, const char *args)
{
    if (!*args) {
        print_help(mon, false);
    } else if (!strcmp(args, "info")) {
        print_help(mon, true);
    } else if (find_command(args, false)) {
        print_help_line(mon, find_command(args, false));
    } else {
        monitor_printf(mon, "unknown command: '%s'\n", args);
    }
}

static void hmp_info(Monitor *mon, const char *args)
{
    const char *rest;
    g_autofree char *sub = next_word(args, &rest);
    if (!*sub) {
        print_help(mon, true);
        return;
    }
    const HmpCommand *cmd = find_command(sub, true);
    if (!cmd) {
        monitor_printf(mon, "unknown info command: '%s' (try 'info')\n", sub);
        return;
    }
    if (hmp_allowed(mon, cmd)) {
        cmd->fn(mon, rest);
    }
}

/* Commands whose QMP twin takes no arguments and returns nothing. */
static void run_simple(Monitor *mon, const char *qmp_name)
{
    Error *err = NULL;
    JsonNode *ret = qmp_call(qmp_name, NULL, &err);
    if (ret) {
        json_node_unref(ret);
    }
    hmp_handle_error(mon, err);
}

static void hmp_stop(Monitor *mon, const char *args)
{
    run_simple(mon, "stop");
}

static void hmp_cont(Monitor *mon, const char *args)
{
    run_simple(mon, "cont");
}

static void hmp_quit(Monitor *mon, const char *args)
{
    run_simple(mon, "quit");
}

static void hmp_exit_preconfig(Monitor *mon, const char *args)
{
    run_simple(mon, "x-exit-preconfig");
}

static void hmp_system_reset(Monitor *mon, const char *args)
{
    run_simple(mon, "system_reset");
}

static void hmp_system_powerdown(Monitor *mon, const char *args)
{
    run_simple(mon, "system_powerdown");
}

static void hmp_cpu(Monitor *mon, const char *args)
{
    uint64_t n;
    if (!parse_uint64(args, &n) || n >= kvm_cpu_count()) {
        monitor_printf(mon, "invalid CPU index '%s' (0-%u)\n", args,
                       kvm_cpu_count() ? kvm_cpu_count() - 1 : 0);
        return;
    }
    mon->cpu_index = n;
}

/* Run a QMP query; NULL after printing the error. */
static JsonNode *query(Monitor *mon, QmpCommandFunc *fn)
{
    Error *err = NULL;
    JsonObject *args = json_object_new();
    JsonNode *n = fn(args, &err);
    json_object_unref(args);
    if (!n) {
        hmp_handle_error(mon, err);
    }
    return n;
}

static JsonObject *query_object(Monitor *mon, QmpCommandFunc *fn)
{
    JsonNode *n = query(mon, fn);
    JsonObject *o = n && JSON_NODE_HOLDS_OBJECT(n) ?
                    json_object_ref(json_node_get_object(n)) : NULL;
    g_clear_pointer(&n, json_node_unref);
    return o;
}

static JsonArray *query_array(Monitor *mon, QmpCommandFunc *fn)
{
    JsonNode *n = query(mon, fn);
    JsonArray *a = n && JSON_NODE_HOLDS_ARRAY(n) ?
                   json_array_ref(json_node_get_array(n)) : NULL;
    g_clear_pointer(&n, json_node_unref);
    return a;
}

static void info_status(Monitor *mon, const char *args)
{
    JsonObject *o = query_object(mon, qmp_query_status);
    if (!o) {
        return;
    }
    const char *status = json_object_get_string_member(o, "status");
    bool running = json_object_get_boolean_member(o, "running");
    monitor_printf(mon, "VM status: %s", running ? "running" : "paused");
    if (!running && strcmp(status, "paused")) {
        monitor_printf(mon, " (%s)", status);
    }
    monitor_puts(mon, "\n");
    json_object_unref(o);
}

static void info_version(Monitor *mon, const char *args)
{
    JsonObject *o = query_object(mon, qmp_query_version);
    if (!o) {
        return;
    }
    JsonObject *v = json_object_get_object_member(o, "qemu");
    monitor_printf(mon, "%" PRId64 ".%" PRId64 ".%" PRId64 " (%s)\n",
                   json_object_get_int_member(v, "major"),
                   json_object_get_int_member(v, "minor"),
                   json_object_get_int_member(v, "micro"),
                   json_object_get_string_member(o, "package"));
    json_object_unref(o);
}

static void info_name(Monitor *mon, const char *args)
{
    JsonObject *o = query_object(mon, qmp_query_name);
    if (o && json_object_has_member(o, "name")) {
        monitor_printf(mon, "%s\n", json_object_get_string_member(o, "name"));
    }
    if (o) {
        json_object_unref(o);
    }
}

static void info_kvm(Monitor *mon, const char *args)
{
    JsonObject *o = query_object(mon, qmp_query_kvm);
    if (!o) {
        return;
    }
    if (json_object_get_boolean_member(o, "present")) {
        monitor_printf(mon, "kvm support: %s\n",
                       json_object_get_boolean_member(o, "enabled") ?
                       "enabled" : "disabled");
    } else {
        monitor_puts(mon, "kvm support: not compiled\n");
    }
    json_object_unref(o);
}

static void info_cpus(Monitor *mon, const char *args)
{
    JsonArray *a = query_array(mon, qmp_query_cpus_fast);
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonObject *cpu = json_array_get_object_element(a, i);
        int64_t idx = json_object_get_int_member(cpu, "cpu-index");
        monitor_printf(mon, "%c CPU #%" PRId64 ": thread_id=%" PRId64 "\n",
                       idx == mon->cpu_index ? '*' : ' ', idx,
                       json_object_get_int_member(cpu, "thread-id"));
    }
    if (a) {
        json_array_unref(a);
    }
}

static void info_chardev(Monitor *mon, const char *args)
{
    JsonArray *a = query_array(mon, qmp_query_chardev);
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonObject *c = json_array_get_object_element(a, i);
        monitor_printf(mon, "%s: filename=%s\n",
                       json_object_get_string_member(c, "label"),
                       json_object_get_string_member(c, "filename"));
    }
    if (a) {
        json_array_unref(a);
    }
}

typedef struct RegsDump {
    Monitor *mon;
    bool all;
    GString *out;
} RegsDump;

static void dump_registers(void *opaque)
{
    RegsDump *d = opaque;
    if (d->all) {
        kvm_cpu_dump_all(d->out);
    } else {
        kvm_cpu_dump(d->mon->cpu_index, d->out);
    }
}

static void info_registers(Monitor *mon, const char *args)
{
    if (*args && strcmp(args, "-a")) {
        monitor_printf(mon, "info registers: unknown option '%s'\n", args);
        return;
    }
    if (!kvm_enabled() || !kvm_cpu_count()) {
        monitor_puts(mon, "No CPU available\n");
        return;
    }
    RegsDump d = { mon, !strcmp(args, "-a"), g_string_new(NULL) };
    monitor_with_vcpus_paused(dump_registers, &d);
    monitor_puts(mon, d.out->str);
    g_string_free(d.out, true);
}

static void print_gstring(Monitor *mon, void (*fn)(GString *))
{
    GString *out = g_string_new(NULL);
    fn(out);
    monitor_puts(mon, out->str);
    g_string_free(out, true);
}

static void info_mtree(Monitor *mon, const char *args)
{
    print_gstring(mon, memory_print_tree);
}

static void info_pci(Monitor *mon, const char *args)
{
    print_gstring(mon, pci_print_info);
}

static void info_qtree(Monitor *mon, const char *args)
{
    print_gstring(mon, qom_print_qtree);
}

static void info_irq(Monitor *mon, const char *args)
{
    if (!kvm_enabled()) {
        return;
    }
    /* Raised from device models; the in-kernel PIT's IRQ 0 is not seen. */
    monitor_puts(mon, "IRQ statistics for kvm-irqchip:\n");
    for (int gsi = 0; gsi < KVM_NR_COUNTED_GSI; gsi++) {
        if (kvm_irq_count(gsi)) {
            monitor_printf(mon, "%2d: %" PRIu64 "\n", gsi, kvm_irq_count(gsi));
        }
    }
}

static void info_history(Monitor *mon, const char *args)
{
    for (int i = 0; i < mon->rl.nr_history; i++) {
        monitor_printf(mon, "%d: '%s'\n", i, mon->rl.history[i]);
    }
}

static const HmpCommand hmp_cmds[] = {
    { "help|?", "[cmd]", "show the help", hmp_help },
    { "info", "[subcommand]", "show various information about the system "
      "state", hmp_info },
    { "stop", NULL, "stop emulation", hmp_stop },
    { "cont|c", NULL, "resume emulation", hmp_cont },
    { "system_reset", NULL, "reset the system", hmp_system_reset },
    { "system_powerdown", NULL, "send system power down event",
      hmp_system_powerdown },
    { "quit|q", NULL, "quit the emulator", hmp_quit },
    { "exit_preconfig", NULL, "build the machine and leave --preconfig",
      hmp_exit_preconfig },
    { "cpu", "index", "set the default CPU", hmp_cpu },
    { "status", NULL, "show the current VM status (running|paused)",
      info_status, true },
    { "version", NULL, "show the version of QEMU", info_version, true },
    { "name", NULL, "show the current VM name", info_name, true },
    { "kvm", NULL, "show KVM information", info_kvm, true },
    { "cpus", NULL, "show infos for each CPU", info_cpus, true },
    { "registers", "[-a]", "show the cpu registers (-a: all CPUs)",
      info_registers, true },
    { "mtree", NULL, "show memory tree", info_mtree, true },
    { "pci", NULL, "show PCI info", info_pci, true },
    { "qtree", NULL, "show device tree", info_qtree, true },
    { "chardev", NULL, "show the character devices", info_chardev, true },
    { "irq", NULL, "show the interrupts statistics (if available)",
      info_irq, true },
    { "history", NULL, "show the command line history", info_history, true },
};

static void __attribute__((constructor)) hmp_register_builtin(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(hmp_cmds); i++) {
        hmp_register_command(&hmp_cmds[i]);
    }
}
