/*
 * kestrel-system-x86_64: the command line (QEMU's syntax), then the machine
 * is built, the vCPUs started and the main loop run.  Every option is checked
 * before anything is created, so a bad one stops with one line and status 1.
 */
#include "system/system.h"
#include "system/accel.h"
#include "system/timer.h"
#include "hw/qdev.h"
#include "hw/i386/pc.h"
#include "hw/i386/cpu-model.h"
#include "chardev/char.h"
#include "block/drive.h"
#include "system/qtest.h"
#include "system/objects.h"
#include "system/readconfig.h"
#include "monitor/module.h"
#include "util/opts.h"
#include "config-host.h"
#include <malloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#define MAX_SERIAL 4

typedef struct CmdlineOption {
    const char *name;
    bool has_arg;
    const char *help;
} CmdlineOption;

static const CmdlineOption options[] = {
    { "accel", true, "-accel kvm|qtest     use KVM (the default), or no vCPUs for qtest" },
    { "action", true, "-action [panic=shutdown|pause|exit-failure|none][,reboot=reset|shutdown]\n"
                      "       [,shutdown=poweroff|pause][,watchdog=...]  what guest events do" },
    { "append", true, "-append CMDLINE      kernel command line" },
    { "audio", true, "-audio none          no audio (there is no sound device)" },
    { "blockdev", true, "-blockdev driver=file|null-co|raw|qcow2|blkdebug,node-name=N[,filename=F|file=NODE|file.filename=F]\n"
                        "       [,read-only=on][,cache.direct=on][,cache.no-flush=on][,discard=unmap]  a disk node (-device ...,drive=N;\n"
                        "       also as JSON: -blockdev '{\"driver\": ...}')" },
    { "bios", true, "-bios FILE           firmware image (default bios-256k.bin)" },
    { "boot", true, "-boot [order=cad][,once=d][,menu=on|off][,splash-time=MS][,reboot-timeout=MS]" },
    { "cdrom", true, "-cdrom FILE          IDE CD-ROM image (index 2)" },
    { "chardev", true, "-chardev BACKEND,id=ID[,...]  stdio, null, file, pty, socket" },
    { "cpu", true, "-cpu MODEL[,+flag|-flag|flag=on|off...]  host, max, qemu64, qemu32... (help lists them)" },
    { "D", true, "-D FILE              log guest errors to FILE" },
    { "debugcon", true, "-debugcon CHARDEV    isa-debugcon on port 0xe9" },
    { "device", true, "-device DRIVER[,prop=value,...]  add a device (help lists them)" },
    { "display", true, "-display none        no display" },
    { "drive", true, "-drive file=F[,format=qcow2|raw][,if=ide|none][,index=N][,media=disk|cdrom]\n"
                     "       [,readonly=on][,cache=writeback|none|writethrough|unsafe][,snapshot=on][,id=ID]\n"
                     "       [,discard=ignore|unmap]" },
    { "enable-kvm", false, "-enable-kvm          use KVM" },
    { "global", true, "-global DRIVER.PROP=VALUE  default property value" },
    { "h", false, NULL },
    { "hda", true, "-hda/-hdb/-hdc/-hdd FILE  IDE disk image (index 0-3)" },
    { "hdb", true, NULL },
    { "hdc", true, NULL },
    { "hdd", true, NULL },
    { "help", false, "-help                this text" },
    { "initrd", true, "-initrd FILE         initial ram disk (multiboot: modules)" },
    { "kernel", true, "-kernel FILE         Linux bzImage, multiboot or PVH ELF" },
    { "L", true, "-L DIR               firmware search directory" },
    { "m", true, "-m SIZE              guest RAM (128, 1G, size=2G)" },
    { "M", true, NULL },
    { "machine", true, "-machine pc[,accel=kvm|qtest][,kernel-irqchip=on|off|split][,direct-boot=on|off]" },
    { "mon", true, "-mon chardev=ID[,mode=readline|control][,pretty=on]  monitor on a chardev" },
    { "monitor", true, "-monitor DEV         HMP monitor on DEV (stdio, unix:P,server,nowait, none)" },
    { "name", true, "-name NAME            guest name" },
    { "no-fd-bootchk", false, "-no-fd-bootchk       BIOS: boot from floppy without a boot signature" },
    { "no-reboot", false, "-no-reboot           exit instead of rebooting" },
    { "no-shutdown", false, "-no-shutdown         stay after guest poweroff" },
    { "nodefaults", false, "-nodefaults          no default devices" },
    { "object", true, "-object TYPE,id=ID[,prop=value...]  memory-backend-ram (size=), rng-builtin" },
    { "nographic", false, "-nographic           serial on stdio (C-a h for help)" },
    { "pidfile", true, "-pidfile FILE        write the process id to FILE" },
    { "preconfig", false, "--preconfig          wait, machine unbuilt, for QMP x-exit-preconfig" },
    { "qmp", true, "-qmp DEV             QMP monitor on DEV (unix:P,server,nowait, tcp:H:P,server,nowait, stdio)" },
    { "qmp-pretty", true, "-qmp-pretty DEV      QMP monitor with indented replies" },
    { "qtest", true, "-qtest DEV           qtest protocol on DEV (unix:PATH connects, chardev:ID)" },
    { "qtest-log", true, "-qtest-log FILE      log the qtest protocol to FILE (none: no log)" },
    { "readconfig", true, "-readconfig FILE     options from a QEMU config file ([memory], [drive \"ID\"]...)" },
    { "rtc", true, "-rtc [base=utc|localtime|DATE][,clock=host|rt|vm][,driftfix=none|slew]" },
    { "run-with", true, "-run-with exit-with-parent=on  exit with the parent process" },
    { "S", false, "-S                   start paused" },
    { "serial", true, "-serial DEV          stdio, null, none, file:F, pty, unix:P, tcp:H:P" },
    { "smp", true, "-smp N               number of vCPUs" },
    { "snapshot", false, "-snapshot            writes to all disks go to temporary files" },
    { "uuid", true, "-uuid UUID           machine UUID (fw_cfg, SMBIOS)" },
    { "version", false, "-version             print the version" },
};

static const CmdlineOption *find_option(const char *arg)
{
    if (arg[0] != '-' || !arg[1]) {
        return NULL;
    }
    arg += (arg[1] == '-') ? 2 : 1;    /* --opt works like -opt */
    for (unsigned i = 0; i < ARRAY_SIZE(options); i++) {
        if (!strcmp(options[i].name, arg)) {
            return &options[i];
        }
    }
    return NULL;
}

static void print_help(void)
{
    printf("usage: kestrel-system-x86_64 [options]\n\n"
           "kestrel %s: a PC (i440fx) on Linux KVM, with QEMU's options.\n\n",
           KESTREL_VERSION);
    for (unsigned i = 0; i < ARRAY_SIZE(options); i++) {
        if (options[i].help) {
            printf("%s\n", options[i].help);
        }
    }
    printf("\nDuring -nographic: C-a h help, C-a x exit, C-a c switch.\n");
}

/* FILE:LINE of the -readconfig section the option being parsed came from. */
static const char *option_location;

static NORETURN void die(const char *fmt, ...) PRINTF_FMT(1, 2);
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error_report("%s%s%s", option_location ? option_location : "",
                 option_location ? ": " : "", msg);
    g_free(msg);
    exit(1);
}

static void die_err(Error *err)
{
    die("%s", err->msg);
}

/* ---- option values ---- */

static uint64_t parse_ram_size(const char *arg)
{
    Error *err = NULL;
    GPtrArray *opts = opts_parse(arg, "size", &err);
    static const char *const keys[] = { "size", "slots", "maxmem", NULL };
    uint64_t size;
    if (!opts || !opts_check_keys(opts, "-m", keys, &err)) {
        die("-m %s: %s", arg, err->msg);
    }
    const char *v = opts_get(opts, "size");
    if (!v || !parse_size(v, 'M', &size)) {
        die("-m %s: invalid RAM size '%s'", arg, v ? v : "");
    }
    opts_free(opts);
    size = ALIGN_UP(size, 8192);
    if (size < 2 * MiB) {
        die("-m %s: RAM size too small (at least 2M)", arg);
    }
    if (size > 1024 * GiB) {
        die("-m %s: RAM size too large (at most 1T)", arg);
    }
    return size;
}

static unsigned parse_smp(const char *arg)
{
    Error *err = NULL;
    GPtrArray *opts = opts_parse(arg, "cpus", &err);
    static const char *const keys[] = {
        "cpus", "maxcpus", "sockets", "dies", "cores", "threads", NULL,
    };
    if (!opts || !opts_check_keys(opts, "-smp", keys, &err)) {
        die("-smp %s: %s", arg, err->msg);
    }
    uint64_t cpus = 1, n, product = 1;
    bool have_cpus = false, have_topology = false;
    for (guint i = 0; i < opts->len; i++) {
        Opt *o = g_ptr_array_index(opts, i);
        if (!parse_uint64(o->value, &n) || n == 0 || n > 255) {
            die("-smp %s: invalid %s '%s' (1-255)", arg, o->key, o->value);
        }
        if (!strcmp(o->key, "cpus")) {
            cpus = n;
            have_cpus = true;
        } else if (strcmp(o->key, "maxcpus")) {
            product *= n;
            have_topology = true;
        }
    }
    if (have_topology && !have_cpus) {
        cpus = product;
    }
    if (have_topology && product < cpus) {
        die("-smp %s: topology (%" PRIu64 ") is smaller than the CPU count",
            arg, product);
    }
    if (cpus > 255) {
        die("-smp %s: at most 255 CPUs", arg);
    }
    opts_free(opts);
    return cpus;
}

static void parse_machine(MachineState *ms, const char *arg)
{
    Error *err = NULL;
    GPtrArray *opts = opts_parse(arg, "type", &err);
    static const char *const keys[] = {
        "type", "accel", "kernel-irqchip", "direct-boot", "usb", "vmport",
        "dump-guest-core", "mem-merge", NULL,
    };
    if (!opts || !opts_check_keys(opts, "-machine", keys, &err)) {
        die("-machine %s: %s", arg, err->msg);
    }
    const char *v = opts_get(opts, "type");
    if (v) {
        if (!strcmp(v, "help") || !strcmp(v, "?")) {
            printf("Supported machines are:\n");
            for (const MachineTypeInfo *m = machine_types; m->name; m++) {
                if (m->alias) {
                    printf("%-20s %s (alias of %s)\n", m->alias, m->desc,
                           m->name);
                }
                printf("%-20s %s%s\n", m->name, m->desc,
                       m->is_default ? " (default)" : "");
            }
            exit(0);
        }
        if (!strcmp(v, "none")) {
            ms->type = "none";
        } else if (strcmp(v, "pc") && !g_str_has_prefix(v, "pc-i440fx-")) {
            die("unsupported machine type '%s' (use -machine help to list)", v);
        } else {
            ms->type = "pc";
        }
    }
    if ((v = opts_get(opts, "accel"))) {
        if (!strcmp(v, "kvm")) {
            ms->accel = ACCEL_KVM;
        } else if (!strcmp(v, "qtest")) {
            ms->accel = ACCEL_QTEST;
        } else {
            die("-machine accel=%s: only accel=kvm or accel=qtest is "
                "available", v);
        }
    }
    if ((v = opts_get(opts, "kernel-irqchip"))) {
        bool on;
        if (!strcmp(v, "split")) {
            ms->kernel_irqchip = KERNEL_IRQCHIP_SPLIT;
        } else if (opt_parse_bool(v, &on)) {
            ms->kernel_irqchip = on ? KERNEL_IRQCHIP_ON : KERNEL_IRQCHIP_OFF;
        } else {
            die("-machine kernel-irqchip=%s: expected on, off or split", v);
        }
    }
    if ((v = opts_get(opts, "direct-boot"))) {
        bool on;
        if (!opt_parse_bool(v, &on)) {
            die("-machine direct-boot=%s: expected on or off", v);
        }
        ms->firmware_boot = !on;
    }
    for (const char *const *k = &keys[4]; *k; k++) {
        bool b;
        if ((v = opts_get(opts, *k)) && !opt_parse_bool(v, &b)) {
            die("-machine %s=%s: expected on or off", *k, v);
        }
    }
    opts_free(opts);
}

/*
 * Several -accel options are tried in order, as in QEMU: the first that
 * is available wins ("-accel kvm -accel tcg" is KVM, or TCG without
 * /dev/kvm; kestrel has no TCG, so tcg is never available).
 */
static bool accel_chosen, accel_kvm_wanted;
static const char *accel_unavailable;   /* the -accel that was skipped */

static void parse_accel(MachineState *ms, const char *arg)
{
    Error *err = NULL;
    GPtrArray *opts = opts_parse(arg, "accel", &err);
    static const char *const keys[] = { "accel", "kernel-irqchip", NULL };
    if (!opts || !opts_check_keys(opts, "-accel", keys, &err)) {
        die("-accel %s: %s", arg, err->msg);
    }
    const char *v = opts_get(opts, "accel");
    AccelType accel = ACCEL_KVM;
    if (!strcmp(v, "help")) {
        printf("Accelerators supported in kestrel:\nkvm\nqtest\n");
        exit(0);
    }
    if (!strcmp(v, "qtest")) {
        accel = ACCEL_QTEST;
    } else if (!strcmp(v, "tcg")) {
        accel_unavailable = arg;
        opts_free(opts);
        return;
    } else if (strcmp(v, "kvm")) {
        die("-accel %s: accelerator '%s' is not available (kvm or qtest)",
            arg, v);
    }
    if (accel_chosen) {
        opts_free(opts);
        return;
    }
    if (accel == ACCEL_KVM && access("/dev/kvm", R_OK | W_OK)) {
        accel_kvm_wanted = true;        /* unless a later one works */
        opts_free(opts);
        return;
    }
    if ((v = opts_get(opts, "kernel-irqchip"))) {
        g_autofree char *m = g_strdup_printf("kernel-irqchip=%s", v);
        parse_machine(ms, m);
    }
    ms->accel = accel;
    accel_chosen = true;
    opts_free(opts);
}

/* After all options: -accel options of which none was available. */
static void finish_accel(MachineState *ms)
{
    if (accel_chosen) {
        return;
    }
    if (accel_kvm_wanted) {
        ms->accel = ACCEL_KVM;          /* fails with KVM's own error */
    } else if (accel_unavailable) {
        die("-accel %s: accelerator 'tcg' is not available (kvm or qtest)",
            accel_unavailable);
    }
}

/* Drive letters a-p, each at most once (the board checks which it has). */
static void check_boot_devices(const char *arg, const char *devices)
{
    for (const char *p = devices; *p; p++) {
        if (*p < 'a' || *p > 'p') {
            die("-boot %s: invalid boot device '%c'", arg, *p);
        }
        if (strchr(p + 1, *p)) {
            die("-boot %s: boot device '%c' was given twice", arg, *p);
        }
    }
}

/* -boot: firmware hints in fw_cfg and CMOS (QEMU's syntax; "-boot d" is
 * order=d; a later -boot overrides only the keys it gives). */
static void parse_boot(MachineState *ms, PCBoardOptions *board,
                       const char *arg)
{
    Error *err = NULL;
    GPtrArray *opts = opts_parse(arg, "order", &err);
    static const char *const keys[] = {
        "order", "once", "menu", "splash", "splash-time", "reboot-timeout",
        "strict", NULL,
    };
    const char *v;
    gint64 n;

    if (!opts || !opts_check_keys(opts, "-boot", keys, &err)) {
        die("-boot %s: %s", arg, err->msg);
    }
    if ((v = opts_get(opts, "order"))) {
        check_boot_devices(arg, v);
        g_free((char *)ms->boot_order);
        ms->boot_order = g_strdup(v);
    }
    if ((v = opts_get(opts, "once"))) {
        check_boot_devices(arg, v);
        g_free((char *)ms->boot_once);
        ms->boot_once = g_strdup(v);
    }
    if ((v = opts_get(opts, "menu")) && !opt_parse_bool(v, &board->boot_menu)) {
        die("-boot %s: menu=%s: expected on or off", arg, v);
    }
    if ((v = opts_get(opts, "splash-time"))) {
        if (!g_ascii_string_to_signed(v, 10, 0, 0xffff, &n, NULL)) {
            die("-boot %s: splash-time=%s: expected 0 to 65535", arg, v);
        }
        board->splash_time = n;
    }
    if ((v = opts_get(opts, "reboot-timeout"))) {
        if (!g_ascii_string_to_signed(v, 10, -1, 0xffff, &n, NULL)) {
            die("-boot %s: reboot-timeout=%s: expected -1 to 65535", arg, v);
        }
        board->reboot_timeout = n;
    }
    opts_free(opts);
}

/* -uuid: 8-4-4-4-12 hex digits, kept in the order written. */
static void parse_uuid(PCBoardOptions *board, const char *arg)
{
    static const char form[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    unsigned n = 0;

    if (strlen(arg) != strlen(form)) {
        die("-uuid %s: expected a UUID like %s", arg, form);
    }
    for (unsigned i = 0; form[i]; i++) {
        if (form[i] == '-' ? arg[i] != '-' : !g_ascii_isxdigit(arg[i])) {
            die("-uuid %s: expected a UUID like %s", arg, form);
        }
        if (form[i] == 'x') {
            board->uuid[n / 2] |= g_ascii_xdigit_value(arg[i]) <<
                                  (n % 2 ? 0 : 4);
            n++;
        }
    }
}

/* -run-with exit-with-parent=on (libqtest): die with the parent. */
static void parse_run_with(const char *arg)
{
    Error *err = NULL;
    GPtrArray *opts = opts_parse(arg, NULL, &err);
    static const char *const keys[] = { "exit-with-parent", NULL };
    const char *v = NULL;
    bool on = false;

    if (!opts || !opts_check_keys(opts, "-run-with", keys, &err)) {
        die("-run-with %s: %s", arg, err->msg);
    }
    if ((v = opts_get(opts, "exit-with-parent")) && !opt_parse_bool(v, &on)) {
        die("-run-with exit-with-parent=%s: expected on or off", v);
    }
    if (on) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
    }
    opts_free(opts);
}

/*
 * -action, QEMU's spelling of what guest events do: reboot=shutdown is
 * -no-reboot, shutdown=pause -no-shutdown, panic= a pvpanic report's
 * effect.  There is no watchdog device, so watchdog= is only checked.
 */
static void parse_action(MachineState *ms, const char *arg)
{
    static const char *const keys[] = {
        "reboot", "shutdown", "panic", "watchdog", NULL,
    };
    /* For each key its values; panic's in PanicAction order. */
    static const char *const values[][8] = {
        { "reset", "shutdown" },
        { "poweroff", "pause" },
        { "shutdown", "pause", "exit-failure", "none" },
        { "reset", "shutdown", "poweroff", "pause", "debug", "none",
          "inject-nmi" },
    };
    Error *err = NULL;
    GPtrArray *opts;

    if (!*arg) {
        return;                 /* QEMU takes an empty -action too */
    }
    opts = opts_parse(arg, NULL, &err);
    if (!opts || !opts_check_keys(opts, "-action", keys, &err)) {
        die("-action %s: %s", arg, err->msg);
    }
    for (guint i = 0; i < opts->len; i++) {
        Opt *o = g_ptr_array_index(opts, i);
        unsigned k = 0, v = 0;
        while (strcmp(keys[k], o->key)) {
            k++;
        }
        while (values[k][v] && strcmp(values[k][v], o->value)) {
            v++;
        }
        if (!values[k][v]) {
            g_autofree char *expected = g_strjoinv(", ",
                                                   (char **)values[k]);
            die("-action %s=%s: expected one of %s", o->key, o->value,
                expected);
        }
        if (k == 0) {
            ms->no_reboot = v == 1;
        } else if (k == 1) {
            ms->no_shutdown = v == 1;
        } else if (k == 2) {
            ms->panic_action = v;
        }
    }
    opts_free(opts);
}

/* -rtc: defaults for the RTC device's properties. */
static void parse_rtc(const char *arg)
{
    Error *err = NULL;
    GPtrArray *opts = opts_parse(arg, NULL, &err);
    static const char *const keys[] = { "base", "clock", "driftfix", NULL };
    const char *v;

    if (!opts || !opts_check_keys(opts, "-rtc", keys, &err)) {
        die("-rtc %s: %s", arg, err->msg);
    }
    if ((v = opts_get(opts, "driftfix")) && strcmp(v, "none") &&
        strcmp(v, "slew")) {
        die("-rtc %s: invalid driftfix '%s' (none or slew)", arg, v);
    }
    for (const char *const *k = keys; *k; k++) {
        if (!(v = opts_get(opts, *k))) {
            continue;
        }
        bool drift = !strcmp(*k, "driftfix");
        g_autofree char *g = g_strdup_printf("mc146818rtc.%s=%s",
            drift ? "lost_tick_policy" : *k,
            drift && !strcmp(v, "none") ? "discard" : v);
        if (!global_prop_add(g, &err)) {
            die("-rtc %s: %s", arg, err->msg);
        }
    }
    opts_free(opts);
}

static void parse_cpu(MachineState *ms, const char *arg)
{
    Error *err = NULL;
    g_autofree char *model = g_strndup(arg, strcspn(arg, ","));
    if (!strcmp(model, "help") || !strcmp(model, "?")) {
        x86_cpu_print_help();
        exit(0);
    }
    if (!x86_cpu_parse(arg, &ms->cpu_model, &err)) {
        die("-cpu %s: %s", arg, err->msg);
    }
}

static void list_devices(void)
{
    GPtrArray *list = device_class_list();
    printf("Devices that -device accepts:\n");
    for (guint i = 0; i < list->len; i++) {
        const DeviceClass *dc = g_ptr_array_index(list, i);
        if (dc->user_creatable) {
            printf("name \"%s\"%s%s\n", dc->name, dc->desc ? ", desc \"" : "",
                   dc->desc ? dc->desc : "");
            if (dc->desc) {
                printf("\b\"\n");
            }
        }
    }
    g_ptr_array_free(list, true);
    exit(0);
}

static void device_help(const char *name)
{
    const DeviceClass *dc = device_class_find(name);
    if (!dc) {
        die("'%s' is not a valid device model name", name);
    }
    printf("%s options:\n", name);
    for (const Property *p = dc->props; p && p->name; p++) {
        printf("  %s\n", p->name);
    }
    exit(0);
}

/* ---- main ---- */

/* An HMP monitor on chr (-nographic, -serial mon:...): loads the module. */
static void add_hmp_monitor(Chardev *chr)
{
    Error *err = NULL;
    const MonitorModuleOps *mon = monitor_module_load(&err);

    if (!mon) {
        die_err(err);
    }
    mon->add_chardev(chr, MONITOR_HMP);
}

static const char *pidfile;

static void remove_pidfile(void)
{
    if (pidfile) {
        unlink(pidfile);
    }
}

/*
 * -readconfig FILE stands for the options of its sections, in its place:
 * the arguments with those expanded, and where each came from (FILE:LINE,
 * or NULL for the real command line).
 */
static GPtrArray *expanded_args, *expanded_where;

static void expand_readconfig(int argc, char **argv)
{
    Error *err = NULL;

    expanded_args = g_ptr_array_new();
    expanded_where = g_ptr_array_new();
    for (int i = 0; i < argc; i++) {
        const CmdlineOption *opt = i ? find_option(argv[i]) : NULL;
        if (opt && !strcmp(opt->name, "readconfig") && i + 1 < argc) {
            if (!readconfig_read(argv[++i], expanded_args, expanded_where,
                                 &err)) {
                die_err(err);
            }
            continue;
        }
        g_ptr_array_add(expanded_args, argv[i]);
        g_ptr_array_add(expanded_where, NULL);
        if (opt && opt->has_arg && i + 1 < argc) {
            g_ptr_array_add(expanded_args, argv[++i]);
            g_ptr_array_add(expanded_where, NULL);
        }
    }
    g_ptr_array_add(expanded_args, NULL);
}

/* ---- building the machine: at once, or at x-exit-preconfig ---- */

static struct {
    MachineState *ms;
    PCBoardOptions *board;
    GPtrArray *device_opts;
} to_build;

/* After the board (so a mux keeps COM1 first), or before it with
 * --preconfig. */
static void start_monitors(void)
{
    static bool started;
    const MonitorModuleOps *mon = monitor_module_get();
    Error *err = NULL;

    if (!started && mon && !mon->start_all(&err)) {
        die_err(err);
    }
    started = true;
}

/* The board, -device, reset, the vCPUs, and run unless -S.  An error ends
 * the process (as in QEMU, also when x-exit-preconfig gets here). */
static bool build_machine(Error **errp)
{
    MachineState *ms = to_build.ms;
    Error *err = NULL;

    if (!machine_is_none(ms) && !pc_init(ms, to_build.board, &err)) {
        die_err(err);
    }
    /* The RAM is a memory backend object, as QEMU shows it. */
    if (ms->ram_size && !user_object_add_machine_ram(
            machine_is_none(ms) ? "ram" : "pc.ram", ms->ram_size, &err)) {
        die_err(err);
    }
    for (guint i = 0; i < to_build.device_opts->len; i++) {
        const char *arg = g_ptr_array_index(to_build.device_opts, i);
        if (!device_create_from_opts(arg, &err)) {
            die("-device %s: %s", arg, err->msg);
        }
    }
    if (!machine_is_none(ms) && !pc_machine_done(ms, &err)) {
        die_err(err);
    }
    start_monitors();
    qemu_system_reset(SHUTDOWN_CAUSE_NONE);
    /* Start-up's transient buffers (option parsing, file loads) are freed
     * by now: give their pages back rather than carry them for the VM's
     * lifetime. */
    malloc_trim(0);
    if (!current_accel->start_vcpus(ms, &err)) {
        die_err(err);
    }
    if (ms->start_paused) {
        vm_stop(RUN_STATE_PRELAUNCH);
    } else {
        vm_start();
    }
    return true;
}

int main(int argc, char **argv)
{
    static MachineState machine = {
        .type = "pc", .accel = ACCEL_KVM, .kernel_irqchip = KERNEL_IRQCHIP_ON,
        .ram_size = 128 * MiB, .smp_cpus = 1, .cpu_model = "host",
        .kernel_cmdline = "",
    };
    MachineState *ms = &machine;
    PCBoardOptions board = { .splash_time = -1, .reboot_timeout = -2 };
    GPtrArray *chardev_opts = g_ptr_array_new();
    GPtrArray *device_opts = g_ptr_array_new();
    const char *serial_specs[MAX_SERIAL];
    unsigned nr_serial = 0;
    const char *debugcon_spec = NULL, *log_path = NULL;
    const char *qtest_spec = NULL, *qtest_log = NULL;
    bool nographic = false, display_none = false, preconfig = false;
    bool ram_size_given = false;
    Error *err = NULL;

    error_set_progname(argv[0]);
    current_machine = ms;

    expand_readconfig(argc, argv);
    argc = expanded_args->len - 1;
    argv = (char **)expanded_args->pdata;
    for (int i = 1; i < argc; i++) {
        const CmdlineOption *opt = find_option(argv[i]);
        option_location = g_ptr_array_index(expanded_where, i);
        const char *arg = NULL;
        if (!opt) {
            die("%s: invalid option", argv[i]);
        }
        if (opt->has_arg) {
            if (i + 1 >= argc) {
                die("%s: requires an argument", argv[i]);
            }
            arg = argv[++i];
        }
        const char *n = opt->name;
        if (!strcmp(n, "h") || !strcmp(n, "help")) {
            print_help();
            exit(0);
        } else if (!strcmp(n, "version")) {
            printf("kestrel-system-x86_64 version %s\n"
                   "A PC emulator frontend for Linux KVM.\n", KESTREL_VERSION);
            exit(0);
        } else if (!strcmp(n, "enable-kvm")) {
            ms->accel = ACCEL_KVM;
        } else if (!strcmp(n, "accel")) {
            parse_accel(ms, arg);
        } else if (!strcmp(n, "action")) {
            parse_action(ms, arg);
        } else if (!strcmp(n, "machine") || !strcmp(n, "M")) {
            parse_machine(ms, arg);
        } else if (!strcmp(n, "m")) {
            ms->ram_size = parse_ram_size(arg);
            ram_size_given = true;
        } else if (!strcmp(n, "smp")) {
            ms->smp_cpus = parse_smp(arg);
        } else if (!strcmp(n, "cpu")) {
            parse_cpu(ms, arg);
        } else if (!strcmp(n, "bios")) {
            ms->bios_name = arg;
        } else if (!strcmp(n, "L")) {
            if (!g_file_test(arg, G_FILE_TEST_IS_DIR)) {
                die("-L %s: no such directory", arg);
            }
            firmware_path_add(arg);
        } else if (!strcmp(n, "kernel")) {
            ms->kernel_filename = arg;
        } else if (!strcmp(n, "initrd")) {
            ms->initrd_filename = arg;
        } else if (!strcmp(n, "append")) {
            ms->kernel_cmdline = arg;
        } else if (!strcmp(n, "serial")) {
            if (nr_serial >= MAX_SERIAL) {
                die("-serial %s: too many serial ports (at most %d)", arg,
                    MAX_SERIAL);
            }
            serial_specs[nr_serial++] = arg;
        } else if (!strcmp(n, "chardev")) {
            g_ptr_array_add(chardev_opts, (gpointer)arg);
        } else if (!strcmp(n, "nographic")) {
            nographic = true;
            board.nographic = true;
        } else if (!strcmp(n, "boot")) {
            parse_boot(ms, &board, arg);
        } else if (!strcmp(n, "uuid")) {
            parse_uuid(&board, arg);
        } else if (!strcmp(n, "display")) {
            g_autofree char *type = g_strndup(arg, strcspn(arg, ","));
            if (strcmp(type, "none")) {
                die("-display %s: display '%s' is not available (use none)",
                    arg, type);
            }
            display_none = true;
        } else if (!strcmp(n, "nodefaults")) {
            ms->nodefaults = true;
        } else if (!strcmp(n, "device")) {
            if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
                list_devices();
            }
            const char *comma = strchr(arg, ',');
            if (comma && !strcmp(comma + 1, "help")) {
                g_autofree char *name = g_strndup(arg, comma - arg);
                device_help(name);
            }
            g_ptr_array_add(device_opts, (gpointer)arg);
        } else if (!strcmp(n, "object")) {
            if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
                printf("List of user creatable objects:\n");
                for (const UserObjectClass *const *c = user_object_classes;
                     *c; c++) {
                    printf("  %s\n", (*c)->name);
                }
                exit(0);
            }
            if (!user_object_add_opts(arg, &err)) {
                die("-object %s: %s", arg, err->msg);
            }
        } else if (!strcmp(n, "drive")) {
            if (!drive_add(arg, &err)) {
                die("-drive %s: %s", arg, err->msg);
            }
        } else if (!strcmp(n, "blockdev")) {
            if (!blockdev_add(arg, &err)) {
                die("-blockdev %s: %s", arg, err->msg);
            }
        } else if (!strcmp(n, "hda") || !strcmp(n, "hdb") ||
                   !strcmp(n, "hdc") || !strcmp(n, "hdd") ||
                   !strcmp(n, "cdrom")) {
            bool cd = n[0] == 'c';
            if (!drive_add_legacy(arg, cd ? 2 : n[2] - 'a', cd, &err)) {
                die("-%s %s: %s", n, arg, err->msg);
            }
        } else if (!strcmp(n, "snapshot")) {
            drive_enable_snapshot_all();
        } else if (!strcmp(n, "global")) {
            if (!global_prop_add(arg, &err)) {
                die_err(err);
            }
        } else if (!strcmp(n, "debugcon")) {
            debugcon_spec = arg;
        } else if (!strcmp(n, "no-fd-bootchk")) {
            board.no_fd_bootchk = true;
        } else if (!strcmp(n, "no-reboot")) {
            ms->no_reboot = true;
        } else if (!strcmp(n, "no-shutdown")) {
            ms->no_shutdown = true;
        } else if (!strcmp(n, "S")) {
            ms->start_paused = true;
        } else if (!strcmp(n, "preconfig")) {
            preconfig = true;
        } else if (!strcmp(n, "name")) {
            GPtrArray *o = opts_parse(arg, "guest", &err);
            static const char *const keys[] = {
                "guest", "process", "debug-threads", NULL,
            };
            if (!o || !opts_check_keys(o, "-name", keys, &err)) {
                die("-name %s: %s", arg, err->msg);
            }
            ms->name = g_strdup(opts_get(o, "guest"));
            opts_free(o);
        } else if (!strcmp(n, "pidfile")) {
            pidfile = arg;
        } else if (!strcmp(n, "D")) {
            log_path = arg;
        } else if (!strcmp(n, "qtest")) {
            qtest_spec = arg;
        } else if (!strcmp(n, "qtest-log")) {
            qtest_log = arg;
        } else if (!strcmp(n, "rtc")) {
            parse_rtc(arg);
        } else if (!strcmp(n, "audio")) {
            /* What libqtest passes; kestrel has no sound device. */
            if (strcmp(arg, "none") && strcmp(arg, "driver=none")) {
                die("-audio %s: only 'none' is available", arg);
            }
        } else if (!strcmp(n, "run-with")) {
            parse_run_with(arg);
        } else if (!strcmp(n, "qmp") || !strcmp(n, "qmp-pretty") ||
                   !strcmp(n, "monitor") || !strcmp(n, "mon")) {
            const MonitorModuleOps *mon = monitor_module_load(&err);
            if (!mon || !mon->parse_option(n, arg, &err)) {
                die_err(err);
            }
        }
    }
    option_location = NULL;
    finish_accel(ms);
    if (ms->initrd_filename && !ms->kernel_filename) {
        die("-initrd only allowed with -kernel option");
    }
    if (ms->kernel_cmdline[0] && !ms->kernel_filename) {
        die("-append only allowed with -kernel option");
    }
    if (machine_is_none(ms)) {
        if (!ram_size_given) {
            ms->ram_size = 0;           /* QEMU's none machine: no RAM */
        }
        if (ms->accel != ACCEL_QTEST) {
            die("-machine none: only with the qtest accelerator");
        }
        if (device_opts->len) {
            die("-device %s: machine 'none' has no bus for devices",
                (char *)g_ptr_array_index(device_opts, 0));
        }
    }
    (void)display_none;

    /* ---- everything checked: build the machine ---- */
    signal(SIGPIPE, SIG_IGN);
    if (log_path) {
        FILE *f = fopen(log_path, "w");
        if (!f) {
            die("-D %s: %s", log_path, strerror(errno));
        }
        log_set_file(f);
    }
    if (pidfile) {
        /* Written to a temporary file and renamed into place, so a
         * watcher polling for the file never reads it empty. */
        g_autofree char *pid_text = g_strdup_printf("%d\n", getpid());
        g_autoptr(GError) gerr = NULL;
        if (!g_file_set_contents(pidfile, pid_text, -1, &gerr)) {
            die("cannot create PID file: %s", gerr->message);
        }
        atexit(remove_pidfile);
    }
    for (guint i = 0; i < chardev_opts->len; i++) {
        if (!chardev_new_from_opts(g_ptr_array_index(chardev_opts, i), &err)) {
            die("-chardev %s: %s", (char *)g_ptr_array_index(chardev_opts, i),
                err->msg);
        }
    }
    const MonitorModuleOps *mon = monitor_module_get();
    if (mon && !mon->open_chardevs(&err)) {
        die_err(err);
    }
    /* -nographic, like QEMU: serial and HMP share stdio through a mux,
     * unless -serial or a monitor option says otherwise. */
    bool default_monitor = !ms->nodefaults && !(mon && mon->configured());
    if (nographic && !nr_serial && !ms->nodefaults) {
        serial_specs[nr_serial++] = default_monitor ? "mon:stdio" : "stdio";
    } else if (!nr_serial && !ms->nodefaults) {
        serial_specs[nr_serial++] = "vc";
    } else if (nographic && default_monitor) {
        Chardev *chr = chardev_new_from_spec("stdio", "compat_monitor0", &err);
        if (!chr) {
            die("-nographic: monitor on stdio: %s", err->msg);
        }
        add_hmp_monitor(chr);
    }
    for (unsigned i = 0; i < nr_serial; i++) {
        g_autofree char *id = g_strdup_printf("serial%u", i);
        Chardev *chr = chardev_new_from_spec(serial_specs[i], id, &err);
        if (err) {
            die("-serial %s: %s", serial_specs[i], err->msg);
        }
        board.serial_chardev[i] = chr ? chardev_id(chr) : NULL;
        if (chr && g_str_has_prefix(serial_specs[i], "mon:")) {
            add_hmp_monitor(chr);
        }
    }
    if (debugcon_spec) {
        Chardev *chr = chardev_new_from_spec(debugcon_spec, "debugcon", &err);
        if (err) {
            die("-debugcon %s: %s", debugcon_spec, err->msg);
        }
        board.debugcon_chardev = chr ? chardev_id(chr) : NULL;
    }

    if (qtest_spec && !qtest_server_init(qtest_spec, qtest_log, &err)) {
        die("-qtest %s: %s", qtest_spec, err->msg);
    }

    bql_lock();
    memory_init();
    current_accel = ms->accel == ACCEL_QTEST ? &qtest_accel_ops
                                             : &kvm_accel_ops;
    if (!current_accel->init(ms, &err)) {
        die_err(err);
    }
    if (!drive_open_all(&err)) {
        die_err(err);
    }
    to_build.ms = ms;
    to_build.board = &board;
    to_build.device_opts = device_opts;
    if (preconfig) {
        if (!monitor_module_get()) {
            die("--preconfig: no monitor to leave it with (QMP "
                "x-exit-preconfig, HMP exit_preconfig)");
        }
        start_monitors();
        qemu_preconfig_wait(build_machine);    /* prelaunch until then */
    } else {
        build_machine(NULL);
    }
    int status = main_loop_run();
    current_accel->shutdown();
    drive_close_all();      /* qcow2 metadata written back, dirty bits off */
    chardev_cleanup_all();
    bql_unlock();
    fflush(stdout);
    return status;
}
