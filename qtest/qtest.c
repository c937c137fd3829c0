/*
 * The qtest protocol server (QEMU's docs/devel/qtest.rst): one command per
 * line, words separated by single spaces, one reply line per command ("OK",
 * "OK value", "FAIL why", "ERR why"), plus "IRQ raise N" / "IRQ lower N"
 * whenever an intercepted interrupt line changes, even in the middle of a
 * command.  Replies match QEMU's byte for byte; where QEMU would abort on
 * a malformed line, we answer ERR instead.  Commands run in the main loop
 * with the big lock held, like vCPU exits.
 */
#include "system/qtest.h"
#include "system/accel.h"
#include "system/memory.h"
#include "system/timer.h"
#include "chardev/char.h"
#include "hw/gpio.h"

#define MAX_IRQ         256
#define MAX_XFER        (64 * MiB)      /* read, write, b64 buffers */
#define MAX_MEMSET      (4 * GiB)

static Chardev *qtest_chr;
static FILE *qtest_log;
static GTimer *log_timer;
static GString *inbuf;
static DeviceState *intercept_dev;
static int irq_levels[MAX_IRQ];

/* ---- replies and the log ---- */

static void send_line(const char *line)
{
    if (qtest_log) {
        fprintf(qtest_log, "[S +%.6f] %s", g_timer_elapsed(log_timer, NULL),
                line);
    }
    chardev_write(qtest_chr, (const uint8_t *)line, strlen(line));
}

static void PRINTF_FMT(1, 2) reply(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_autofree char *line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    send_line(line);
}

static void log_note(const char *fmt, ...) PRINTF_FMT(1, 2);
static void log_note(const char *fmt, ...)
{
    va_list ap;

    if (!qtest_log) {
        return;
    }
    va_start(ap, fmt);
    fprintf(qtest_log, "[S +%.6f] ", g_timer_elapsed(log_timer, NULL));
    vfprintf(qtest_log, fmt, ap);
    va_end(ap);
}

/* An intercepted line: report level changes, as QEMU does per number. */
static void irq_intercepted(void *opaque, int n, int level)
{
    if (n < 0 || n >= MAX_IRQ || irq_levels[n] == level) {
        return;
    }
    irq_levels[n] = level;
    reply("IRQ %s %d\n", level ? "raise" : "lower", n);
}

/* ---- argument parsing: numbers in C notation (strtoul base 0) ---- */

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;

    if (!s || !*s) {
        return false;
    }
    errno = 0;
    *v = strtoull(s, &end, 0);
    return !errno && *end == '\0';
}

static bool parse_i64(const char *s, int64_t *v)
{
    char *end;

    if (!s || !*s) {
        return false;
    }
    errno = 0;
    *v = strtoll(s, &end, 0);
    return !errno && *end == '\0';
}

/* words[1..n] must be numbers; reports ERR if not. */
static bool args_u64(char **words, int n, uint64_t *out)
{
    for (int i = 0; i < n; i++) {
        if (!words[i + 1]) {            /* checked in order: no overrun */
            reply("ERR missing argument\n");
            return false;
        }
        if (!parse_u64(words[i + 1], &out[i])) {
            reply("ERR invalid number '%s'\n", words[i + 1]);
            return false;
        }
    }
    return true;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* ---- commands ---- */

static void cmd_out(char **words)
{
    uint64_t a[2];
    unsigned size = words[0][3] == 'b' ? 1 : words[0][3] == 'w' ? 2 : 4;

    if (!args_u64(words, 2, a)) {
        return;
    }
    if (a[0] > 0xffff) {
        reply("ERR invalid port '%s'\n", words[1]);
        return;
    }
    address_space_write(&address_space_io, a[0], &a[1], size);
    reply("OK\n");
}

static void cmd_in(char **words)
{
    uint64_t port;
    uint32_t v = 0;
    unsigned size = words[0][2] == 'b' ? 1 : words[0][2] == 'w' ? 2 : 4;

    if (!args_u64(words, 1, &port)) {
        return;
    }
    if (port > 0xffff) {
        reply("ERR invalid port '%s'\n", words[1]);
        return;
    }
    address_space_read(&address_space_io, port, &v, size);
    reply("OK 0x%04x\n", v);
}

static unsigned mem_size(char c)
{
    return c == 'b' ? 1 : c == 'w' ? 2 : c == 'l' ? 4 : 8;
}

static void cmd_writeN(char **words)
{
    uint64_t a[2];

    if (!args_u64(words, 2, a)) {
        return;
    }
    /* Little-endian target on a little-endian host: store as is. */
    address_space_write(&address_space_memory, a[0], &a[1],
                        mem_size(words[0][5]));
    reply("OK\n");
}

static void cmd_readN(char **words)
{
    uint64_t addr, v = 0;

    if (!args_u64(words, 1, &addr)) {
        return;
    }
    address_space_read(&address_space_memory, addr, &v, mem_size(words[0][4]));
    reply("OK 0x%016" PRIx64 "\n", v);
}

static bool xfer_args(char **words, uint64_t *a, uint64_t min, uint64_t max)
{
    if (!args_u64(words, 2, a)) {
        return false;
    }
    if (a[1] < min || a[1] > max) {
        reply("ERR invalid size '%s'\n", words[2]);
        return false;
    }
    return true;
}

static void cmd_read(char **words)
{
    uint64_t a[2];

    if (!xfer_args(words, a, 1, MAX_XFER)) {
        return;
    }
    g_autofree uint8_t *data = g_malloc(a[1]);
    GString *out = g_string_sized_new(a[1] * 2 + 8);
    address_space_read(&address_space_memory, a[0], data, a[1]);
    g_string_append(out, "OK 0x");
    for (uint64_t i = 0; i < a[1]; i++) {
        g_string_append_printf(out, "%02x", data[i]);
    }
    g_string_append_c(out, '\n');
    send_line(out->str);
    g_string_free(out, true);
}

static void cmd_b64read(char **words)
{
    uint64_t a[2];

    if (!xfer_args(words, a, 0, MAX_XFER)) {
        return;
    }
    g_autofree uint8_t *data = g_malloc(a[1] ? a[1] : 1);
    address_space_read(&address_space_memory, a[0], data, a[1]);
    g_autofree char *enc = g_base64_encode(data, a[1]);
    reply("OK %s\n", enc);
}

static void cmd_write(char **words)
{
    uint64_t a[2];

    if (!xfer_args(words, a, 0, MAX_XFER)) {
        return;
    }
    const char *hex = words[3];
    size_t hex_len = hex ? strlen(hex) : 0;
    if (hex_len < 3) {
        reply("ERR invalid argument size\n");
        return;
    }
    /* "0x" then two digits a byte; missing bytes are zero. */
    g_autofree uint8_t *data = g_malloc0(a[1] ? a[1] : 1);
    for (uint64_t i = 0; i < a[1] && i * 2 + 4 <= hex_len; i++) {
        int hi = hex_digit(hex[i * 2 + 2]), lo = hex_digit(hex[i * 2 + 3]);
        if (hi < 0 || lo < 0) {
            reply("ERR invalid hex data\n");
            return;
        }
        data[i] = hi << 4 | lo;
    }
    address_space_write(&address_space_memory, a[0], data, a[1]);
    reply("OK\n");
}

static void cmd_b64write(char **words)
{
    uint64_t a[2];
    gsize len;

    if (!xfer_args(words, a, 0, MAX_XFER)) {
        return;
    }
    if (!words[3]) {
        reply("ERR missing argument\n");
        return;
    }
    g_autofree uint8_t *data = g_base64_decode(words[3], &len);
    if (len != a[1]) {
        log_note("b64write: data length mismatch (told %" PRIu64
                 ", found %zu)\n", a[1], (size_t)len);
    }
    address_space_write(&address_space_memory, a[0], data, MIN(len, a[1]));
    reply("OK\n");
}

static void cmd_memset(char **words)
{
    uint64_t a[3];
    uint8_t chunk[4096];

    if (!args_u64(words, 3, a)) {
        return;
    }
    if (a[1] > MAX_MEMSET) {
        reply("ERR invalid size '%s'\n", words[2]);
        return;
    }
    memset(chunk, a[2], sizeof(chunk));
    for (uint64_t done = 0; done < a[1]; done += sizeof(chunk)) {
        address_space_write(&address_space_memory, a[0] + done, chunk,
                            MIN(sizeof(chunk), a[1] - done));
    }
    reply("OK\n");
}

static void cmd_clock(char **words)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL), ns, target;

    if (words[1] && !parse_i64(words[1], &ns)) {
        reply("ERR invalid number '%s'\n", words[1]);
        return;
    }
    if (!strcmp(words[0], "clock_set")) {
        if (!words[1]) {
            reply("ERR missing argument\n");
            return;
        }
        target = ns;
    } else if (words[1]) {
        target = ns > INT64_MAX - now ? INT64_MAX : now + ns;
    } else {
        target = virtual_clock_next_deadline();   /* -1: no timer, stay */
    }
    if (target > now) {
        virtual_clock_warp_to(target);
    }
    reply("OK %" PRIi64 "\n", qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
}

static void cmd_irq_intercept(char **words)
{
    bool out = !strcmp(words[0], "irq_intercept_out");
    DeviceState *dev;

    if (!words[1]) {
        reply("ERR missing argument\n");
        return;
    }
    dev = qdev_resolve_path(words[1]);
    if (!dev) {
        reply("FAIL Unknown device\n");
        return;
    }
    if (intercept_dev) {
        /* One device per session; asking again for it is fine. */
        if (intercept_dev != dev) {
            reply("FAIL IRQ intercept already enabled\n");
        } else {
            reply("OK\n");
        }
        return;
    }
    if (out) {
        qdev_intercept_gpio_out(dev, irq_intercepted, NULL);
    } else {
        qdev_intercept_gpio_in(dev, irq_intercepted, NULL);
    }
    intercept_dev = dev;
    reply("OK\n");
}

static void cmd_set_irq_in(char **words)
{
    int64_t num, level;
    DeviceState *dev;
    qemu_irq irq;

    for (int i = 1; i <= 4; i++) {
        if (!words[i]) {
            reply("ERR missing argument\n");
            return;
        }
    }
    dev = qdev_resolve_path(words[1]);
    if (!dev) {
        reply("FAIL Unknown device\n");
        return;
    }
    if (!parse_i64(words[3], &num) || num < 0 || num > INT32_MAX) {
        reply("ERR invalid number '%s'\n", words[3]);
        return;
    }
    if (!parse_i64(words[4], &level) || level < INT32_MIN ||
        level > INT32_MAX) {
        reply("ERR invalid number '%s'\n", words[4]);
        return;
    }
    irq = qdev_get_gpio_in_named(dev, strcmp(words[2], "unnamed-gpio-in") ?
                                 words[2] : NULL, num);
    if (!irq) {
        reply("ERR no input %s %" PRIi64 "\n", words[2], num);
        return;
    }
    qemu_set_irq(irq, level);
    reply("OK\n");
}

static void process_command(char **words)
{
    const char *cmd = words[0];

    if (qtest_log) {
        fprintf(qtest_log, "[R +%.6f]", g_timer_elapsed(log_timer, NULL));
        for (int i = 0; words[i]; i++) {
            fprintf(qtest_log, " %s", words[i]);
        }
        fputc('\n', qtest_log);
    }
    if (!strcmp(cmd, "outb") || !strcmp(cmd, "outw") || !strcmp(cmd, "outl")) {
        cmd_out(words);
    } else if (!strcmp(cmd, "inb") || !strcmp(cmd, "inw") ||
               !strcmp(cmd, "inl")) {
        cmd_in(words);
    } else if (!strcmp(cmd, "writeb") || !strcmp(cmd, "writew") ||
               !strcmp(cmd, "writel") || !strcmp(cmd, "writeq")) {
        cmd_writeN(words);
    } else if (!strcmp(cmd, "readb") || !strcmp(cmd, "readw") ||
               !strcmp(cmd, "readl") || !strcmp(cmd, "readq")) {
        cmd_readN(words);
    } else if (!strcmp(cmd, "read")) {
        cmd_read(words);
    } else if (!strcmp(cmd, "b64read")) {
        cmd_b64read(words);
    } else if (!strcmp(cmd, "write")) {
        cmd_write(words);
    } else if (!strcmp(cmd, "b64write")) {
        cmd_b64write(words);
    } else if (!strcmp(cmd, "memset")) {
        cmd_memset(words);
    } else if (!strcmp(cmd, "endianness")) {
        reply("OK little\n");
    } else if ((!strcmp(cmd, "clock_step") || !strcmp(cmd, "clock_set")) &&
               qtest_enabled()) {
        cmd_clock(words);
    } else if (!strcmp(cmd, "irq_intercept_in") ||
               !strcmp(cmd, "irq_intercept_out")) {
        cmd_irq_intercept(words);
    } else if (!strcmp(cmd, "set_irq_in")) {
        cmd_set_irq_in(words);
    } else if (!strcmp(cmd, "module_load")) {
        if (!words[1] || !words[2]) {
            reply("ERR missing argument\n");
        } else {
            reply("FAIL\n");           /* nothing is built as a module */
        }
    } else {
        reply("FAIL Unknown command '%s'\n", cmd);
    }
}

/* ---- the character device ---- */

static int qtest_can_read(void *opaque)
{
    return 4096;
}

static void qtest_read(void *opaque, const uint8_t *buf, int len)
{
    char *nl;

    g_string_append_len(inbuf, (const char *)buf, len);
    while ((nl = memchr(inbuf->str, '\n', inbuf->len))) {
        g_autofree char *line = g_strndup(inbuf->str, nl - inbuf->str);
        g_string_erase(inbuf, 0, nl - inbuf->str + 1);
        char **words = g_strsplit(line, " ", 0);
        if (words[0]) {
            process_command(words);
        } else {
            reply("FAIL Unknown command ''\n");     /* an empty line */
        }
        g_strfreev(words);
    }
    if (inbuf->len > MAX_XFER * 2) {
        g_string_truncate(inbuf, 0);    /* a line too long to be ours */
        reply("ERR line too long\n");
    }
}

static void qtest_event(void *opaque, ChrEvent event)
{
    switch (event) {
    case CHR_EVENT_OPENED:
        g_timer_start(log_timer);
        memset(irq_levels, 0, sizeof(irq_levels));
        if (qtest_log) {
            fprintf(qtest_log, "[I %.6f] OPENED\n",
                    g_timer_elapsed(log_timer, NULL));
        }
        break;
    case CHR_EVENT_CLOSED:
        g_string_truncate(inbuf, 0);
        if (qtest_log) {
            fprintf(qtest_log, "[I +%.6f] CLOSED\n",
                    g_timer_elapsed(log_timer, NULL));
        }
        break;
    default:
        break;
    }
}

bool qtest_server_init(const char *spec, const char *log_path, Error **errp)
{
    static const CharFrontend fe = {
        .can_read = qtest_can_read,
        .read = qtest_read,
        .event = qtest_event,
    };

    if (!log_path) {
        qtest_log = stderr;
    } else if (strcmp(log_path, "none")) {
        qtest_log = fopen(log_path, "w");
        if (!qtest_log) {
            error_setg(errp, "-qtest-log %s: %s", log_path, strerror(errno));
            return false;
        }
        setvbuf(qtest_log, NULL, _IOLBF, 0);
    }
    log_timer = g_timer_new();
    inbuf = g_string_new(NULL);
    qtest_chr = chardev_new_from_spec(spec, "qtest", errp);
    if (!qtest_chr) {
        if (errp && !*errp) {
            error_setg(errp, "-qtest %s: no character device", spec);
        }
        return false;
    }
    return chardev_attach(qtest_chr, &fe, errp);
}
