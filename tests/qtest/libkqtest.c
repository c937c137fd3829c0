/*
 * qtest client: process start-up, the socket, command/reply lines and the
 * asynchronous IRQ reports.  See libkqtest.h.
 */
#include "libkqtest.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define TIMEOUT_MS  60000
#define MAX_IRQ     256

struct QTS {
    pid_t pid;
    int fd;
    char *dir, *sock_path;
    GString *rx;
    bool exited;
    int status;
    bool irq_level[MAX_IRQ];
    unsigned irq_raised[MAX_IRQ];
};

static const char *binary(void)
{
    const char *b = g_getenv("QTEST_QEMU_BINARY");

    if (!b) {
        g_error("QTEST_QEMU_BINARY is not set");
    }
    return b;
}

static int listen_unix(const char *path)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpuint(strlen(path), <, sizeof(un.sun_path));
    strcpy(un.sun_path, path);
    if (bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0 || listen(fd, 1) < 0) {
        g_error("cannot listen on %s: %s", path, strerror(errno));
    }
    return fd;
}

/* Wait for fd to be readable; false if the emulator died first. */
static bool wait_readable(QTS *s, int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    for (int waited = 0; waited < TIMEOUT_MS; waited += 100) {
        if (poll(&p, 1, 100) > 0) {
            return true;
        }
        if (!s->exited && waitpid(s->pid, &s->status, WNOHANG) == s->pid) {
            s->exited = true;
            return false;
        }
    }
    g_error("qtest: no answer from the emulator in %d s", TIMEOUT_MS / 1000);
}

QTS *qts_initf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_autofree char *extra = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return qts_init(extra);
}

QTS *qts_init(const char *extra)
{
    QTS *s = g_new0(QTS, 1);

    s->dir = g_dir_make_tmp("kqtest-XXXXXX", NULL);
    g_assert_nonnull(s->dir);
    s->sock_path = g_build_filename(s->dir, "qtest.sock", NULL);
    s->rx = g_string_new(NULL);
    int lfd = listen_unix(s->sock_path);

    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup(binary()));
    g_ptr_array_add(argv, g_strdup("-qtest"));
    g_ptr_array_add(argv, g_strdup_printf("unix:%s", s->sock_path));
    g_ptr_array_add(argv, g_strdup("-qtest-log"));
    g_ptr_array_add(argv, g_strdup(g_getenv("QTEST_LOG") ? "/dev/fd/2"
                                                          : "/dev/null"));
    g_ptr_array_add(argv, g_strdup("-display"));
    g_ptr_array_add(argv, g_strdup("none"));
    g_ptr_array_add(argv, g_strdup("-machine"));
    g_ptr_array_add(argv, g_strdup("accel=qtest"));
    char **words = g_strsplit(extra, " ", 0);
    for (char **w = words; *w; w++) {
        if (**w) {
            g_ptr_array_add(argv, g_strdup(*w));
        }
    }
    g_strfreev(words);
    g_ptr_array_add(argv, NULL);

    s->pid = fork();
    g_assert_cmpint(s->pid, >=, 0);
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);   /* a failed test leaves none */
        execv(argv->pdata[0], (char **)argv->pdata);
        fprintf(stderr, "exec %s: %s\n", (char *)argv->pdata[0],
                strerror(errno));
        _exit(127);
    }
    g_ptr_array_free(argv, true);

    if (!wait_readable(s, lfd)) {
        g_error("qtest: the emulator exited (status 0x%x) before connecting",
                s->status);
    }
    s->fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    g_assert_cmpint(s->fd, >=, 0);
    close(lfd);
    return s;
}

static void cleanup(QTS *s)
{
    close(s->fd);
    unlink(s->sock_path);
    rmdir(s->dir);
    g_free(s->sock_path);
    g_free(s->dir);
    g_string_free(s->rx, true);
    g_free(s);
}

void qts_quit(QTS *s)
{
    if (!s->exited) {
        kill(s->pid, SIGTERM);
        g_assert_cmpint(waitpid(s->pid, &s->status, 0), ==, s->pid);
    }
    g_assert_true(WIFEXITED(s->status));
    g_assert_cmpint(WEXITSTATUS(s->status), ==, 0);
    cleanup(s);
}

int qts_wait_exit(QTS *s)
{
    for (int waited = 0; !s->exited; waited += 10) {
        if (waitpid(s->pid, &s->status, WNOHANG) == s->pid) {
            s->exited = true;
        } else if (waited > TIMEOUT_MS) {
            g_error("qtest: the emulator did not exit");
        } else {
            g_usleep(10000);
        }
    }
    int status = s->status;
    cleanup(s);
    return status;
}

/* ---- lines ---- */

static char *read_line(QTS *s)
{
    char buf[4096];

    for (;;) {
        char *nl = memchr(s->rx->str, '\n', s->rx->len);
        if (nl) {
            char *line = g_strndup(s->rx->str, nl - s->rx->str);
            g_string_erase(s->rx, 0, nl - s->rx->str + 1);
            return line;
        }
        if (!wait_readable(s, s->fd)) {
            g_error("qtest: the emulator exited (status 0x%x)", s->status);
        }
        ssize_t n = read(s->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            g_error("qtest: connection closed by the emulator");
        }
        g_string_append_len(s->rx, buf, n);
    }
}

static void note_irq(QTS *s, const char *line)
{
    char what[8];
    int n;

    if (sscanf(line, "IRQ %7s %d", what, &n) != 2 || n < 0 || n >= MAX_IRQ ||
        (strcmp(what, "raise") && strcmp(what, "lower"))) {
        g_error("qtest: malformed line '%s'", line);
    }
    bool level = !strcmp(what, "raise");
    if (level && !s->irq_level[n]) {
        s->irq_raised[n]++;
    }
    s->irq_level[n] = level;
}

static char *vcmd_full(QTS *s, GString *raw, const char *fmt, va_list ap)
{
    g_autofree char *cmd = g_strdup_vprintf(fmt, ap);
    g_autofree char *line = g_strconcat(cmd, "\n", NULL);
    size_t done = 0, len = strlen(line);

    while (done < len) {
        ssize_t n = write(s->fd, line + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            g_error("qtest: write: %s", strerror(errno));
        }
        done += n;
    }
    for (;;) {
        char *reply = read_line(s);
        if (raw) {
            g_string_append_printf(raw, "%s\n", reply);
        }
        if (!g_str_has_prefix(reply, "IRQ ")) {
            return reply;
        }
        note_irq(s, reply);
        g_free(reply);
    }
}

static char *vcmd(QTS *s, const char *fmt, va_list ap)
{
    return vcmd_full(s, NULL, fmt, ap);
}

char *qts_cmd_raw(QTS *s, const char *fmt, ...)
{
    GString *raw = g_string_new(NULL);
    va_list ap;

    va_start(ap, fmt);
    g_free(vcmd_full(s, raw, fmt, ap));
    va_end(ap);
    return g_string_free(raw, false);
}

char *qts_cmd(QTS *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    char *r = vcmd(s, fmt, ap);
    va_end(ap);
    return r;
}

char *qts_ok(QTS *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    char *r = vcmd(s, fmt, ap);
    va_end(ap);
    if (strcmp(r, "OK") && !g_str_has_prefix(r, "OK ")) {
        g_error("qtest: unexpected reply '%s'", r);
    }
    return r;
}

static void ok(QTS *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void ok(QTS *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_autofree char *r = vcmd(s, fmt, ap);
    va_end(ap);
    g_assert_cmpstr(r, ==, "OK");
}

/* "OK <number>" */
static uint64_t ok_value(char *r)
{
    char *end;

    if (!g_str_has_prefix(r, "OK ")) {
        g_error("qtest: unexpected reply '%s'", r);
    }
    uint64_t v = g_ascii_strtoull(r + 3, &end, 0);
    g_assert_true(*end == '\0');
    g_free(r);
    return v;
}

/* ---- I/O ---- */

void qts_outb(QTS *s, uint16_t p, uint8_t v) { ok(s, "outb 0x%x 0x%x", p, v); }
void qts_outw(QTS *s, uint16_t p, uint16_t v) { ok(s, "outw 0x%x 0x%x", p, v); }
void qts_outl(QTS *s, uint16_t p, uint32_t v) { ok(s, "outl 0x%x 0x%x", p, v); }
uint8_t qts_inb(QTS *s, uint16_t p)
{
    return ok_value(qts_cmd(s, "inb 0x%x", p));
}

uint16_t qts_inw(QTS *s, uint16_t p)
{
    return ok_value(qts_cmd(s, "inw 0x%x", p));
}

uint32_t qts_inl(QTS *s, uint16_t p)
{
    return ok_value(qts_cmd(s, "inl 0x%x", p));
}

void qts_writeb(QTS *s, uint64_t a, uint8_t v)
{
    ok(s, "writeb 0x%" G_GINT64_MODIFIER "x 0x%x", a, v);
}

void qts_writew(QTS *s, uint64_t a, uint16_t v)
{
    ok(s, "writew 0x%" G_GINT64_MODIFIER "x 0x%x", a, v);
}

void qts_writel(QTS *s, uint64_t a, uint32_t v)
{
    ok(s, "writel 0x%" G_GINT64_MODIFIER "x 0x%x", a, v);
}

void qts_writeq(QTS *s, uint64_t a, uint64_t v)
{
    ok(s, "writeq 0x%" G_GINT64_MODIFIER "x 0x%" G_GINT64_MODIFIER "x", a, v);
}

uint8_t qts_readb(QTS *s, uint64_t a)
{
    return ok_value(qts_cmd(s, "readb 0x%" G_GINT64_MODIFIER "x", a));
}

uint16_t qts_readw(QTS *s, uint64_t a)
{
    return ok_value(qts_cmd(s, "readw 0x%" G_GINT64_MODIFIER "x", a));
}

uint32_t qts_readl(QTS *s, uint64_t a)
{
    return ok_value(qts_cmd(s, "readl 0x%" G_GINT64_MODIFIER "x", a));
}

uint64_t qts_readq(QTS *s, uint64_t a)
{
    return ok_value(qts_cmd(s, "readq 0x%" G_GINT64_MODIFIER "x", a));
}

void qts_memread(QTS *s, uint64_t addr, void *buf, size_t len)
{
    g_autofree char *r = qts_cmd(s, "read 0x%" G_GINT64_MODIFIER "x 0x%zx",
                                 addr, len);
    uint8_t *p = buf;

    g_assert_true(g_str_has_prefix(r, "OK 0x"));
    g_assert_cmpuint(strlen(r), ==, 5 + 2 * len);
    for (size_t i = 0; i < len; i++) {
        p[i] = g_ascii_xdigit_value(r[5 + 2 * i]) << 4 |
               g_ascii_xdigit_value(r[6 + 2 * i]);
    }
}

void qts_memwrite(QTS *s, uint64_t addr, const void *buf, size_t len)
{
    GString *hex = g_string_new("0x");
    const uint8_t *p = buf;

    for (size_t i = 0; i < len; i++) {
        g_string_append_printf(hex, "%02x", p[i]);
    }
    ok(s, "write 0x%" G_GINT64_MODIFIER "x 0x%zx %s", addr, len, hex->str);
    g_string_free(hex, true);
}

void qts_bufread(QTS *s, uint64_t addr, void *buf, size_t len)
{
    g_autofree char *r = qts_cmd(s, "b64read 0x%" G_GINT64_MODIFIER "x 0x%zx",
                                 addr, len);
    gsize n;

    g_assert_true(g_str_has_prefix(r, "OK "));
    g_autofree guchar *data = g_base64_decode(r + 3, &n);
    g_assert_cmpuint(n, ==, len);
    memcpy(buf, data, len);
}

void qts_bufwrite(QTS *s, uint64_t addr, const void *buf, size_t len)
{
    g_autofree char *enc = g_base64_encode(buf, len);

    ok(s, "b64write 0x%" G_GINT64_MODIFIER "x 0x%zx %s", addr, len, enc);
}

void qts_memset(QTS *s, uint64_t addr, uint8_t v, size_t len)
{
    ok(s, "memset 0x%" G_GINT64_MODIFIER "x 0x%zx 0x%x", addr, len, v);
}

/* ---- clock and interrupts ---- */

int64_t qts_clock_step(QTS *s, int64_t ns)
{
    char *r = ns < 0 ? qts_cmd(s, "clock_step")
                     : qts_cmd(s, "clock_step %" G_GINT64_FORMAT, ns);
    return ok_value(r);
}

int64_t qts_clock_set(QTS *s, int64_t ns)
{
    return ok_value(qts_cmd(s, "clock_set %" G_GINT64_FORMAT, ns));
}

void qts_irq_intercept_in(QTS *s, const char *path)
{
    ok(s, "irq_intercept_in %s", path);
}

void qts_irq_intercept_out(QTS *s, const char *path)
{
    ok(s, "irq_intercept_out %s", path);
}

bool qts_get_irq(QTS *s, int n)
{
    g_assert(n >= 0 && n < MAX_IRQ);
    /* Reports travel ahead of replies: a round trip collects them all. */
    g_free(qts_ok(s, "endianness"));
    return s->irq_level[n];
}

unsigned qts_irq_raised(QTS *s, int n)
{
    g_assert(n >= 0 && n < MAX_IRQ);
    g_free(qts_ok(s, "endianness"));
    return s->irq_raised[n];
}

void qts_irq_reset_count(QTS *s)
{
    memset(s->irq_raised, 0, sizeof(s->irq_raised));
}

void qts_set_irq_in(QTS *s, const char *path, const char *name, int n,
                    int level)
{
    ok(s, "set_irq_in %s %s %d %d", path, name, n, level);
}

/* ---- PC helpers ---- */

uint8_t qts_cmos_read(QTS *s, uint8_t reg)
{
    qts_outb(s, 0x70, reg);
    return qts_inb(s, 0x71);
}

void qts_cmos_write(QTS *s, uint8_t reg, uint8_t v)
{
    qts_outb(s, 0x70, reg);
    qts_outb(s, 0x71, v);
}

static uint32_t cfg_addr(int dev, int fn, int reg)
{
    return 0x80000000u | dev << 11 | fn << 8 | (reg & 0xfc);
}

uint32_t qts_pci_cfg_read(QTS *s, int dev, int fn, int reg, int size)
{
    qts_outl(s, 0xcf8, cfg_addr(dev, fn, reg));
    switch (size) {
    case 1: return qts_inb(s, 0xcfc + (reg & 3));
    case 2: return qts_inw(s, 0xcfc + (reg & 2));
    default: return qts_inl(s, 0xcfc);
    }
}

void qts_pci_cfg_write(QTS *s, int dev, int fn, int reg, int size, uint32_t v)
{
    qts_outl(s, 0xcf8, cfg_addr(dev, fn, reg));
    switch (size) {
    case 1: qts_outb(s, 0xcfc + (reg & 3), v); break;
    case 2: qts_outw(s, 0xcfc + (reg & 2), v); break;
    default: qts_outl(s, 0xcfc, v); break;
    }
}
