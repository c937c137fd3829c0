/*
 * The block layer in the monitor: the BLOCK_IO_ERROR event (a device met
 * a failed request; -drive rerror=/werror= chose the action) and HMP's
 * qemu-io, QEMU's debugging command, for the commands kestrel has:
 *
 *   qemu-io DRIVE "break EVENT TAG"     blkdebug: hold the next request
 *   qemu-io DRIVE "resume TAG"          ... let it go on
 *   qemu-io DRIVE "remove_break TAG"    drop breakpoints, resume requests
 *   qemu-io DRIVE "read [-P pat] [-q] OFFSET LEN"
 *   qemu-io DRIVE "write [-P pat] [-z] [-q] OFFSET LEN"
 *   qemu-io DRIVE "flush"
 *
 * DRIVE is a -drive id or a -blockdev node name.  Reads and writes go
 * through the drive's backend while the guest runs on; a request held at
 * a breakpoint is left to finish when it is resumed.
 */
#include "monitor/monitor-internal.h"
#include "block/drive.h"

static void report_io_error(BlockBackend *blk, bool is_read,
                            BlockErrorAction action, int error)
{
    DriveInfo *d = drive_get_by_blk(blk);
    const char *node = d && d->node ? d->id : blk_node_name(blk);
    JsonObject *data = json_object_new();

    json_object_set_string_member(data, "device",
                                  d && !d->node ? d->id : "");
    if (*node) {
        json_object_set_string_member(data, "node-name", node);
    }
    json_object_set_string_member(data, "operation",
                                  is_read ? "read" : "write");
    json_object_set_string_member(data, "action",
                                  block_error_action_name(action));
    json_object_set_boolean_member(data, "nospace", error == ENOSPC);
    json_object_set_string_member(data, "reason", strerror(error));
    qmp_event_send("BLOCK_IO_ERROR", data);
}

static void __attribute__((constructor)) block_monitor_init(void)
{
    blk_io_error_hook = report_io_error;
}

/* ---- qemu-io ---- */

#define QEMU_IO_MAX_LEN (32 * MiB)

/* A request of the monitor's; freed by its callback if left waiting. */
typedef struct IoReq {
    bool done, abandoned;
    int ret;
    void *buf;
} IoReq;

static void io_done(void *opaque, int ret)
{
    IoReq *r = opaque;

    if (r->abandoned) {
        g_free(r->buf);
        g_free(r);
        return;
    }
    r->done = true;
    r->ret = ret;
}

/* Run completions until r is done; false if it cannot be (held). */
static bool io_wait(IoReq *r)
{
    while (!r->done && aio_poll(true)) {
    }
    if (!r->done) {
        r->abandoned = true;
    }
    return r->done;
}

static void io_free(IoReq *r)
{
    g_free(r->buf);
    g_free(r);
}

static bool parse_pattern(Monitor *mon, const char *s, int *pattern)
{
    uint64_t v;
    if (!parse_uint64(s, &v) || v > 0xff) {
        monitor_printf(mon, "invalid pattern byte '%s'\n", s);
        return false;
    }
    *pattern = v;
    return true;
}

/* A number of bytes: exact without a suffix (parse_size goes through a
 * double), "4k" and the like with one. */
static bool parse_offset(const char *s, uint64_t *out)
{
    return parse_uint64(s, out) || parse_size(s, 'B', out);
}

/* read/write [-P pattern] [-q] [-z] OFFSET LEN */
static void qemu_io_rw(Monitor *mon, BlockBackend *blk, char **argv,
                       bool write)
{
    const char *name = write ? "write" : "read";
    const char *pos[2];
    int npos = 0, pattern = -1;
    bool quiet = false, zero = false;
    uint64_t off, len;

    for (char **a = argv + 1; *a; a++) {
        if (!strcmp(*a, "-P") && a[1]) {
            if (!parse_pattern(mon, *++a, &pattern)) {
                return;
            }
        } else if (!strcmp(*a, "-q")) {
            quiet = true;
        } else if (!strcmp(*a, "-z") && write) {
            zero = true;
        } else if (**a == '-' || npos == 2) {
            monitor_printf(mon, "%s: bad argument '%s' (usage: %s [-P "
                           "pattern]%s [-q] offset length)\n", name, *a, name,
                           write ? " [-z]" : "");
            return;
        } else {
            pos[npos++] = *a;
        }
    }
    if (npos != 2) {
        monitor_printf(mon, "bad argument count %d to %s, expected 2 "
                       "arguments\n", npos, name);
        return;
    }
    if (!parse_offset(pos[0], &off) || !parse_offset(pos[1], &len)) {
        monitor_printf(mon, "Parsing error: non-numeric argument, or "
                       "extraneous/unrecognized suffix -- %s\n",
                       parse_offset(pos[0], &off) ? pos[1] : pos[0]);
        return;
    }
    if (len > QEMU_IO_MAX_LEN || off > INT64_MAX - len) {
        monitor_printf(mon, "%s: %s bytes at %s is too much (at most 32 MiB "
                       "a request)\n", name, pos[1], pos[0]);
        return;
    }
    if (zero && pattern >= 0) {
        monitor_printf(mon, "-z and -P cannot be specified at the same "
                       "time\n");
        return;
    }
    IoReq *r = g_new0(IoReq, 1);
    r->buf = g_malloc(len);
    struct iovec iov = { r->buf, len };
    if (!write) {
        blk_aio_preadv(blk, off, &iov, 1, io_done, r);
    } else if (zero) {
        blk_aio_pwrite_zeroes(blk, off, len, io_done, r);
    } else {
        memset(r->buf, pattern >= 0 ? pattern : 0xcd, len);
        blk_aio_pwritev(blk, off, &iov, 1, io_done, r);
    }
    if (!io_wait(r)) {
        monitor_printf(mon, "%s: the request is held at a breakpoint; it "
                       "completes when resumed\n", name);
        return;
    }
    if (r->ret < 0) {
        monitor_printf(mon, "%s failed: %s\n", name, strerror(-r->ret));
    } else if (!write && pattern >= 0 &&
               (len && (((uint8_t *)r->buf)[0] != pattern ||
                memcmp(r->buf, (uint8_t *)r->buf + 1, len - 1)))) {
        monitor_printf(mon, "Pattern verification failed at offset %" PRIu64
                       ", %" PRIu64 " bytes\n", off, len);
    } else if (!quiet) {
        monitor_printf(mon, "%s %" PRIu64 "/%" PRIu64 " bytes at offset %"
                       PRIu64 "\n", write ? "wrote" : "read", len, len, off);
    }
    io_free(r);
}

static void qemu_io_flush(Monitor *mon, BlockBackend *blk)
{
    IoReq *r = g_new0(IoReq, 1);

    blk_aio_flush(blk, io_done, r);
    if (!io_wait(r)) {
        monitor_printf(mon, "flush: the request is held at a breakpoint; it "
                       "completes when resumed\n");
        return;
    }
    if (r->ret < 0) {
        monitor_printf(mon, "flush failed: %s\n", strerror(-r->ret));
    }
    io_free(r);
}

static const struct {
    const char *name, *args, *help;
    int argc;                   /* words after the name; -1: any */
} qemu_io_cmds[] = {
    { "break", "event tag", "sets a breakpoint on event and tags the "
      "stopped request as tag", 2 },
    { "flush", "", "flush all in-core file state to disk", 0 },
    { "help", "", "help for all commands", -1 },
    { "read", "[-P pattern] [-q] off len", "reads a number of bytes at a "
      "specified offset", -1 },
    { "remove_break", "tag", "remove a breakpoint by tag", 1 },
    { "resume", "tag", "resumes the request tagged as tag", 1 },
    { "write", "[-P pattern] [-z] [-q] off len", "writes a number of bytes "
      "at a specified offset (pattern 0xcd unless -P; -z: zeros)", -1 },
};

static void qemu_io_command(Monitor *mon, BlockBackend *blk, const char *line)
{
    g_auto(GStrv) words = g_strsplit_set(line, " \t", -1);
    GPtrArray *a = g_ptr_array_new();
    int ret;

    for (char **w = words; *w; w++) {
        if (**w) {
            g_ptr_array_add(a, *w);
        }
    }
    g_ptr_array_add(a, NULL);
    g_autofree char **argv = (char **)g_ptr_array_free(a, false);
    int argc = g_strv_length(argv) - 1;
    const char *cmd = argv[0];
    unsigned i;

    if (!cmd) {
        return;
    }
    for (i = 0; i < G_N_ELEMENTS(qemu_io_cmds); i++) {
        if (!strcmp(qemu_io_cmds[i].name, cmd)) {
            break;
        }
    }
    if (i == G_N_ELEMENTS(qemu_io_cmds)) {
        monitor_printf(mon, "command \"%s\" not found\n", cmd);
        return;
    }
    if (qemu_io_cmds[i].argc >= 0 && argc != qemu_io_cmds[i].argc) {
        monitor_printf(mon, "bad argument count %d to %s, expected %d "
                       "argument%s\n", argc, cmd, qemu_io_cmds[i].argc,
                       qemu_io_cmds[i].argc == 1 ? "" : "s");
        return;
    }
    if (!strcmp(cmd, "break")) {
        ret = blk_debug_breakpoint(blk, argv[1], argv[2]);
        if (ret < 0) {
            monitor_printf(mon, "Could not set breakpoint: %s\n",
                           strerror(-ret));
        }
    } else if (!strcmp(cmd, "resume")) {
        ret = blk_debug_resume(blk, argv[1]);
        if (ret < 0) {
            monitor_printf(mon, "Could not resume request: %s\n",
                           strerror(-ret));
        }
    } else if (!strcmp(cmd, "remove_break")) {
        ret = blk_debug_remove_breakpoint(blk, argv[1]);
        if (ret < 0) {
            monitor_printf(mon, "Could not remove breakpoint %s: %s\n",
                           argv[1], strerror(-ret));
        }
    } else if (!strcmp(cmd, "read") || !strcmp(cmd, "write")) {
        qemu_io_rw(mon, blk, argv, cmd[0] == 'w');
    } else if (!strcmp(cmd, "flush")) {
        qemu_io_flush(mon, blk);
    } else {
        for (i = 0; i < G_N_ELEMENTS(qemu_io_cmds); i++) {
            monitor_printf(mon, "%s %s -- %s\n", qemu_io_cmds[i].name,
                           qemu_io_cmds[i].args, qemu_io_cmds[i].help);
        }
    }
}

/* HMP's string argument: "quoted, with \\ escapes" or one word. */
static char *get_string(const char **p)
{
    const char *s = *p;
    GString *out = g_string_new(NULL);

    if (*s != '"') {
        size_t n = strcspn(s, " \t");
        g_string_append_len(out, s, n);
        *p = s + n;
        return g_string_free(out, false);
    }
    for (s++; *s && *s != '"'; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            g_string_append_c(out, *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s);
        } else {
            g_string_append_c(out, *s);
        }
    }
    if (*s != '"') {
        g_string_free(out, true);
        return NULL;
    }
    *p = s + 1;
    return g_string_free(out, false);
}

static void usage_error(Monitor *mon, const char *msg)
{
    monitor_printf(mon, "qemu-io: %s\nTry \"help qemu-io\" for more "
                   "information\n", msg);
}

static void hmp_qemu_io(Monitor *mon, const char *args)
{
    const char *p = args;
    size_t n = strcspn(p, " \t");
    g_autofree char *device = g_strndup(p, n);

    if (!strcmp(device, "-d")) {
        usage_error(mon, "-d (a device id) is not supported: name the "
                    "drive");
        return;
    }
    if (!*device) {
        usage_error(mon, "block device name expected");
        return;
    }
    p += n;
    p += strspn(p, " \t");
    if (!*p) {
        usage_error(mon, "string expected");
        return;
    }
    g_autofree char *command = get_string(&p);
    if (!command) {
        usage_error(mon, "unterminated string");
        return;
    }
    if (p[strspn(p, " \t")]) {
        usage_error(mon, "extraneous characters at the end of line");
        return;
    }
    DriveInfo *d = drive_get_by_id(device);
    if (!d || !d->blk) {
        monitor_printf(mon, "Error: Cannot find device='%s' nor "
                       "node-name='%s'\n", device, device);
        return;
    }
    qemu_io_command(mon, d->blk, command);
}

static const HmpCommand qemu_io_hmp = {
    "qemu-io", "device \"command\"",
    "run a qemu-io command on a drive (break, resume, remove_break, read, "
    "write, flush, help)", hmp_qemu_io,
};
HMP_COMMAND_REGISTER(qemu_io_hmp)
