/*
 * The monitor options: -qmp DEV, -qmp-pretty DEV, -monitor DEV and
 * -mon chardev=ID[,mode=readline|control][,pretty=on|off].  Options are
 * checked when parsed, their chardevs opened with the others, and the
 * monitors attached once the board exists (so that on a mux the serial port
 * keeps the terminal first, as with QEMU's -nographic).
 */
#include "monitor/monitor-internal.h"
#include "chardev/char.h"
#include "util/opts.h"

typedef struct MonitorConfig {
    char *option;            /* "-qmp unix:/tmp/q,server,nowait", for errors */
    char *spec;              /* chardev spec to open, or NULL */
    char *chardev_id;        /* -mon chardev=ID */
    Chardev *chr;
    MonitorMode mode;
    bool pretty;
} MonitorConfig;

static GPtrArray *configs;
static bool configured;
static unsigned nr_compat;

static MonitorConfig *config_add(const char *opt, const char *arg,
                                 MonitorMode mode, bool pretty)
{
    MonitorConfig *c = g_new0(MonitorConfig, 1);
    c->option = g_strdup_printf("-%s %s", opt, arg);
    c->mode = mode;
    c->pretty = pretty;
    if (!configs) {
        configs = g_ptr_array_new();
    }
    g_ptr_array_add(configs, c);
    return c;
}

static bool parse_mon(const char *arg, Error **errp)
{
    static const char *const keys[] = {
        "chardev", "mode", "pretty", "id", NULL,
    };
    GPtrArray *opts = opts_parse(arg, "chardev", errp);
    if (!opts || !opts_check_keys(opts, "-mon", keys, errp)) {
        goto fail;
    }
    const char *chardev = opts_get(opts, "chardev");
    const char *mode = opts_get(opts, "mode");
    const char *v = opts_get(opts, "pretty");
    bool pretty = false;
    if (!chardev || !*chardev) {
        error_setg(errp, "-mon %s: Parameter 'chardev' is missing", arg);
        goto fail;
    }
    if (mode && strcmp(mode, "readline") && strcmp(mode, "control")) {
        error_setg(errp, "-mon %s: unknown monitor mode '%s' (readline or "
                   "control)", arg, mode);
        goto fail;
    }
    if (v && !opt_parse_bool(v, &pretty)) {
        error_setg(errp, "-mon %s: invalid pretty value '%s'", arg, v);
        goto fail;
    }
    bool qmp = mode && !strcmp(mode, "control");
    if (pretty && !qmp) {
        error_setg(errp, "-mon %s: 'pretty' is only for mode=control", arg);
        goto fail;
    }
    MonitorConfig *c = config_add("mon", arg, qmp ? MONITOR_QMP : MONITOR_HMP,
                                  pretty);
    c->chardev_id = g_strdup(chardev);
    opts_free(opts);
    return true;
fail:
    if (opts) {
        opts_free(opts);
    }
    return false;
}

bool monitor_parse_option(const char *opt, const char *arg, Error **errp)
{
    configured = true;
    if (!strcmp(opt, "mon")) {
        return parse_mon(arg, errp);
    }
    if (!*arg) {
        error_setg(errp, "-%s: missing device", opt);
        return false;
    }
    if (!strcmp(opt, "monitor") && !strcmp(arg, "none")) {
        return true;
    }
    bool qmp = g_str_has_prefix(opt, "qmp");
    MonitorConfig *c = config_add(opt, arg, qmp ? MONITOR_QMP : MONITOR_HMP,
                                  !strcmp(opt, "qmp-pretty"));
    c->spec = g_strdup(arg);
    return true;
}

bool monitor_configured(void)
{
    return configured;
}

void monitor_add_chardev(Chardev *chr, MonitorMode mode)
{
    config_add("serial", chardev_id(chr), mode, false)->chr = chr;
}

bool monitor_open_chardevs(Error **errp)
{
    for (guint i = 0; configs && i < configs->len; i++) {
        MonitorConfig *c = g_ptr_array_index(configs, i);
        if (c->chardev_id) {
            c->chr = chardev_find(c->chardev_id);
            if (!c->chr) {
                error_setg(errp, "%s: chardev '%s' not found", c->option,
                           c->chardev_id);
                return false;
            }
        } else if (c->spec) {
            g_autofree char *id = g_strdup_printf("compat_monitor%u",
                                                  nr_compat++);
            c->chr = chardev_new_from_spec(c->spec, id, errp);
            if (!c->chr) {
                if (errp && *errp) {
                    error_prepend(errp, "%s: ", c->option);
                    return false;
                }
                /* "none" */
            }
        }
    }
    return true;
}

bool monitor_start_all(Error **errp)
{
    monitor_init_events();
    for (guint i = 0; configs && i < configs->len; i++) {
        MonitorConfig *c = g_ptr_array_index(configs, i);
        if (c->chr && !monitor_new(c->chr, c->mode, c->pretty, errp)) {
            error_prepend(errp, "%s: ", c->option);
            return false;
        }
    }
    return true;
}
