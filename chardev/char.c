/*
 * Character device backends: null, stdio, file, pty, unix/tcp sockets
 * (server or client) and the mux that shares one backend between several
 * front ends (serial + monitor on stdio with -nographic, Ctrl-A commands).
 */
#include "chardev/char.h"
#include "system/system.h"
#include "util/opts.h"
#include <fcntl.h>
#include <glib-unix.h>
#include <netdb.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define MAX_MUX_FRONTENDS 4
#define MUX_ESCAPE 0x01   /* Ctrl-A */

typedef enum { CHR_NULL, CHR_STDIO, CHR_FILE, CHR_PTY, CHR_SOCKET } ChrKind;

struct Chardev {
    char *id;
    char *filename;          /* "stdio", "file:x", "unix:p,server" ... */
    ChrKind kind;
    int in_fd, out_fd;       /* -1 when absent or not connected */
    int listen_fd;           /* socket servers */
    guint listen_watch;
    GSource *in_src;         /* the input watch, in ctx */
    bool input_paused;
    /*
     * Where input is read: NULL is the main loop; a monitor moves a client's
     * input to its I/O thread (chardev_set_context), back when it leaves.
     * Only the thread that reads may touch the input side; output may come
     * from any thread, serialised by write_lock against the close.
     */
    GMainContext *ctx;
    pthread_mutex_t write_lock;
    /* front ends: one, or several on a mux */
    bool mux;
    CharFrontend fe[MAX_MUX_FRONTENDS];
    int nr_fe, focus;
    bool mux_escape;
    bool signal;             /* stdio: Ctrl-C raises SIGINT */
};

static GPtrArray *chardevs;
static struct termios saved_tio;
static bool stdio_in_use, tio_saved;

Chardev *chardev_find(const char *id)
{
    for (guint i = 0; chardevs && i < chardevs->len; i++) {
        Chardev *c = g_ptr_array_index(chardevs, i);
        if (!strcmp(c->id, id)) {
            return c;
        }
    }
    return NULL;
}

const char *chardev_id(Chardev *chr) { return chr->id; }
const char *chardev_filename(Chardev *chr) { return chr->filename; }
bool chardev_is_mux(Chardev *chr) { return chr->mux; }
bool chardev_frontend_open(Chardev *chr) { return chr->nr_fe > 0; }

const char *chardev_backend_name(Chardev *chr)
{
    static const char *const names[] = {
        [CHR_NULL] = "null", [CHR_STDIO] = "stdio", [CHR_FILE] = "file",
        [CHR_PTY] = "pty", [CHR_SOCKET] = "socket",
    };
    return names[chr->kind];
}

GPtrArray *chardev_list(void)
{
    if (!chardevs) {
        chardevs = g_ptr_array_new();
    }
    return chardevs;
}

/* ---- input ---- */

static void watch_input(Chardev *chr);
static gboolean on_accept(gint fd, GIOCondition cond, gpointer data);

static void fe_event(Chardev *chr, int idx, ChrEvent ev)
{
    if (chr->fe[idx].event) {
        chr->fe[idx].event(chr->fe[idx].opaque, ev);
    }
}

static void mux_help(Chardev *chr)
{
    static const char help[] =
        "\r\nC-a h    print this help\r\n"
        "C-a x    exit emulator\r\n"
        "C-a c    switch between console and monitor\r\n"
        "C-a C-a  sends C-a\r\n";
    chardev_write(chr, (const uint8_t *)help, sizeof(help) - 1);
}

/* Returns true if the byte was a mux command and is consumed. */
static bool mux_escape_byte(Chardev *chr, uint8_t ch)
{
    if (!chr->mux_escape) {
        if (ch == MUX_ESCAPE) {
            chr->mux_escape = true;
            return true;
        }
        return false;
    }
    chr->mux_escape = false;
    switch (ch) {
    case 'x': {
        static const char msg[] = "QEMU: Terminated\r\n";
        chardev_write(chr, (const uint8_t *)msg, sizeof(msg) - 1);
        qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_UI);
        return true;
    }
    case 'h': case '?':
        mux_help(chr);
        return true;
    case 'c':
        if (chr->nr_fe > 1) {
            fe_event(chr, chr->focus, CHR_EVENT_MUX_OUT);
            chr->focus = (chr->focus + 1) % chr->nr_fe;
            fe_event(chr, chr->focus, CHR_EVENT_MUX_IN);
        }
        return true;
    case MUX_ESCAPE:
        return false;    /* deliver a literal Ctrl-A */
    default:
        return true;
    }
}

static void unwatch_input(Chardev *chr)
{
    if (chr->in_src) {
        g_source_destroy(chr->in_src);
        g_source_unref(chr->in_src);
        chr->in_src = NULL;
    }
}

/* In the main loop: accept the next client. */
static gboolean listen_again(gpointer opaque)
{
    Chardev *chr = opaque;
    if (chr->listen_fd >= 0 && chr->in_fd < 0 && !chr->listen_watch) {
        chr->listen_watch = g_unix_fd_add(chr->listen_fd, G_IO_IN, on_accept,
                                          chr);
    }
    return G_SOURCE_REMOVE;
}

void chardev_disconnect(Chardev *chr)
{
    if (chr->kind != CHR_SOCKET || chr->in_fd < 0) {
        return;
    }
    unwatch_input(chr);
    pthread_mutex_lock(&chr->write_lock);
    close(chr->in_fd);
    chr->in_fd = chr->out_fd = -1;
    pthread_mutex_unlock(&chr->write_lock);
    chr->input_paused = false;
    /* The next client starts in the main loop, which accepts it. */
    GMainContext *was = chr->ctx;
    chr->ctx = NULL;
    for (int i = 0; i < chr->nr_fe; i++) {
        fe_event(chr, i, CHR_EVENT_CLOSED);
    }
    if (was) {
        /* The main loop's from here on. */
        g_idle_add_full(G_PRIORITY_DEFAULT, listen_again, chr, NULL);
    } else {
        listen_again(chr);
    }
}

static gboolean on_input(gint fd, GIOCondition cond, gpointer data)
{
    Chardev *chr = data;
    CharFrontend *fe = chr->nr_fe ? &chr->fe[chr->focus] : NULL;
    int room = (fe && fe->can_read) ? fe->can_read(fe->opaque) : 4096;
    uint8_t buf[4096];

    if (room <= 0) {
        chr->input_paused = true;
        unwatch_input(chr);
        return G_SOURCE_REMOVE;
    }
    /* On a mux one byte at a time, so a focus switch takes effect at once. */
    ssize_t n = read(fd, buf, chr->mux ? 1 : MIN(room, (int)sizeof(buf)));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0) {
        unwatch_input(chr);
        if (chr->kind == CHR_SOCKET) {
            chardev_disconnect(chr);
        }
        return G_SOURCE_REMOVE;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (chr->mux && mux_escape_byte(chr, buf[i])) {
            continue;
        }
        fe = chr->nr_fe ? &chr->fe[chr->focus] : NULL;
        if (fe && fe->read) {
            fe->read(fe->opaque, &buf[i], 1);
        }
    }
    return G_SOURCE_CONTINUE;
}

static void watch_input(Chardev *chr)
{
    if (chr->in_fd >= 0 && !chr->in_src) {
        chr->input_paused = false;
        chr->in_src = g_unix_fd_source_new(chr->in_fd,
                                           G_IO_IN | G_IO_HUP | G_IO_ERR);
        g_source_set_callback(chr->in_src, G_SOURCE_FUNC(on_input), chr, NULL);
        g_source_attach(chr->in_src, chr->ctx);
    }
}

void chardev_accept_input(Chardev *chr)
{
    if (chr->input_paused) {
        watch_input(chr);
    }
}

void chardev_set_context(Chardev *chr, GMainContext *ctx)
{
    bool watching = chr->in_src != NULL;
    unwatch_input(chr);
    chr->ctx = ctx;
    if (watching) {
        watch_input(chr);
    }
}

/* ---- output ---- */

static int write_all(Chardev *chr, const uint8_t *buf, int len)
{
    int done = 0;
    if (chr->out_fd < 0) {
        return len;    /* null backend, or a socket nobody is connected to */
    }
    while (done < len) {
        ssize_t n = write(chr->out_fd, buf + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            GPollFD pfd = { .fd = chr->out_fd, .events = G_IO_OUT };
            g_poll(&pfd, 1, 100);
            continue;
        }
        if (n <= 0) {
            if (chr->kind == CHR_SOCKET) {
                /* Peer went away: drop output until the next connection. */
                chr->out_fd = -1;
                return len;
            }
            return -1;
        }
        done += n;
    }
    return len;
}

int chardev_write(Chardev *chr, const uint8_t *buf, int len)
{
    pthread_mutex_lock(&chr->write_lock);
    int n = write_all(chr, buf, len);
    pthread_mutex_unlock(&chr->write_lock);
    return n;
}

static int write_some(Chardev *chr, const uint8_t *buf, int len)
{
    if (chr->out_fd < 0) {
        return -1;
    }
    for (;;) {
        ssize_t n = write(chr->out_fd, buf, len);
        if (n >= 0) {
            return n;
        }
        if (errno == EAGAIN) {
            return 0;
        }
        if (errno != EINTR) {
            if (chr->kind == CHR_SOCKET) {
                chr->out_fd = -1;   /* the input side sees the hang-up */
            }
            return -1;
        }
    }
}

int chardev_write_nonblock(Chardev *chr, const uint8_t *buf, int len)
{
    if (chr->kind != CHR_SOCKET && chr->kind != CHR_PTY) {
        return chardev_write(chr, buf, len);
    }
    pthread_mutex_lock(&chr->write_lock);
    int n = write_some(chr, buf, len);
    pthread_mutex_unlock(&chr->write_lock);
    return n;
}

GSource *chardev_add_out_watch(Chardev *chr, GMainContext *ctx,
                               GUnixFDSourceFunc fn, void *opaque)
{
    GSource *src = NULL;
    pthread_mutex_lock(&chr->write_lock);
    if (chr->out_fd >= 0) {
        src = g_unix_fd_source_new(chr->out_fd,
                                   G_IO_OUT | G_IO_ERR | G_IO_HUP);
        g_source_set_callback(src, G_SOURCE_FUNC(fn), opaque, NULL);
        g_source_attach(src, ctx);
    }
    pthread_mutex_unlock(&chr->write_lock);
    return src;
}

bool chardev_attach(Chardev *chr, const CharFrontend *fe, Error **errp)
{
    if (chr->nr_fe >= (chr->mux ? MAX_MUX_FRONTENDS : 1)) {
        error_setg(errp, "chardev '%s' is already in use%s", chr->id,
                   chr->mux ? "" : " (use mux=on to share it)");
        return false;
    }
    chr->fe[chr->nr_fe++] = *fe;
    if (chr->nr_fe == 1) {
        chr->focus = 0;
    }
    if (chr->in_fd >= 0 && fe->event) {
        fe->event(fe->opaque, CHR_EVENT_OPENED);
    }
    /* A mux front end learns it has the input (the monitor greets then). */
    if (chr->mux && chr->nr_fe == 1 && fe->event) {
        fe->event(fe->opaque, CHR_EVENT_MUX_IN);
    }
    watch_input(chr);
    return true;
}

/* ---- backends ---- */

void chardev_stdio_restore(void)
{
    if (tio_saved) {
        tcsetattr(0, TCSANOW, &saved_tio);
    }
}

static bool open_stdio(Chardev *chr, Error **errp)
{
    if (stdio_in_use) {
        error_setg(errp, "cannot use stdio by multiple character devices");
        return false;
    }
    stdio_in_use = true;
    chr->in_fd = 0;
    chr->out_fd = 1;
    if (isatty(0) && tcgetattr(0, &saved_tio) == 0) {
        struct termios tio = saved_tio;
        tio_saved = true;
        atexit(chardev_stdio_restore);
        tio.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
                         ICRNL | IXON);
        tio.c_oflag |= OPOST;
        tio.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
        if (!chr->signal) {
            tio.c_lflag &= ~ISIG;
        }
        tio.c_cflag &= ~(CSIZE | PARENB);
        tio.c_cflag |= CS8;
        tio.c_cc[VMIN] = 1;
        tio.c_cc[VTIME] = 0;
        tcsetattr(0, TCSANOW, &tio);
    }
    return true;
}

static bool open_pty(Chardev *chr, Error **errp)
{
    int fd = posix_openpt(O_RDWR | O_NOCTTY);
    if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0) {
        error_setg(errp, "cannot open a pty: %s", strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    struct termios tio;
    tcgetattr(fd, &tio);
    cfmakeraw(&tio);
    tcsetattr(fd, TCSANOW, &tio);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    chr->in_fd = chr->out_fd = fd;
    g_free(chr->filename);
    chr->filename = g_strdup_printf("pty:%s", ptsname(fd));
    fprintf(stderr, "char device redirected to %s (label %s)\n", ptsname(fd),
            chr->id);
    return true;
}

static void socket_connected(Chardev *chr, int fd)
{
    fcntl(fd, F_SETFL, O_NONBLOCK);
    pthread_mutex_lock(&chr->write_lock);
    chr->in_fd = chr->out_fd = fd;
    pthread_mutex_unlock(&chr->write_lock);
    for (int i = 0; i < chr->nr_fe; i++) {
        fe_event(chr, i, CHR_EVENT_OPENED);
    }
    watch_input(chr);
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
    Chardev *chr = data;
    int client = accept(fd, NULL, NULL);
    if (client < 0) {
        return G_SOURCE_CONTINUE;
    }
    if (chr->in_fd >= 0) {
        close(client);
        return G_SOURCE_CONTINUE;
    }
    socket_connected(chr, client);
    /* One client at a time, like QEMU: the next one waits in the backlog
     * until this one leaves (on_input listens again then). */
    chr->listen_watch = 0;
    return G_SOURCE_REMOVE;
}

static int socket_address(GPtrArray *opts, struct sockaddr_storage *ss,
                          socklen_t *len, Error **errp)
{
    const char *path = opts_get(opts, "path");
    const char *host = opts_get(opts, "host");
    const char *port = opts_get(opts, "port");

    memset(ss, 0, sizeof(*ss));
    if (path) {
        struct sockaddr_un *un = (struct sockaddr_un *)ss;
        if (strlen(path) >= sizeof(un->sun_path)) {
            error_setg(errp, "UNIX socket path '%s' is too long", path);
            return -1;
        }
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, path);
        *len = sizeof(*un);
        return AF_UNIX;
    }
    if (!port) {
        error_setg(errp, "chardev: socket: 'path' or 'port' is required");
        return -1;
    }
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE }, *res;
    int r = getaddrinfo(host && *host ? host : NULL, port, &hints, &res);
    if (r) {
        error_setg(errp, "address resolution failed for %s:%s: %s",
                   host ? host : "", port, gai_strerror(r));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return ss->ss_family;
}

static bool open_socket(Chardev *chr, GPtrArray *opts, Error **errp)
{
    struct sockaddr_storage ss;
    socklen_t len;
    bool server = false, wait = true;
    const char *v;

    if ((v = opts_get(opts, "server")) && !opt_parse_bool(v, &server)) {
        error_setg(errp, "chardev: socket: invalid server value '%s'", v);
        return false;
    }
    if ((v = opts_get(opts, "wait")) && !opt_parse_bool(v, &wait)) {
        error_setg(errp, "chardev: socket: invalid wait value '%s'", v);
        return false;
    }
    if (opts_get(opts, "nowait")) {
        wait = false;
    }
    int family = socket_address(opts, &ss, &len, errp);
    if (family < 0) {
        return false;
    }
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_setg(errp, "socket: %s", strerror(errno));
        return false;
    }
    if (!server) {
        if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
            error_setg(errp, "Failed to connect to '%s': %s", chr->filename,
                       strerror(errno));
            close(fd);
            return false;
        }
        socket_connected(chr, fd);
        return true;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (family == AF_UNIX) {
        unlink(((struct sockaddr_un *)&ss)->sun_path);
    }
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1) < 0) {
        error_setg(errp, "Failed to bind socket for '%s': %s", chr->filename,
                   strerror(errno));
        close(fd);
        return false;
    }
    chr->listen_fd = fd;
    if (wait) {
        fprintf(stderr, "kestrel: waiting for connection on: %s\n",
                chr->filename);
        int client = accept(fd, NULL, NULL);
        if (client >= 0) {
            socket_connected(chr, client);
        }
    }
    if (chr->in_fd < 0) {
        chr->listen_watch = g_unix_fd_add(fd, G_IO_IN, on_accept, chr);
    }
    return true;
}

static const char *const chardev_keys[] = {
    "backend", "id", "path", "host", "port", "server", "wait", "nowait",
    "mux", "signal", "append", "logfile", "telnet", "nodelay", NULL,
};

static Chardev *chardev_open(GPtrArray *opts, const char *filename,
                             Error **errp)
{
    const char *backend = opts_get(opts, "backend");
    const char *id = opts_get(opts, "id");
    const char *v;
    Chardev *chr;

    if (!opts_check_keys(opts, "chardev", chardev_keys, errp)) {
        return NULL;
    }
    if (!id || !*id) {
        error_setg(errp, "chardev: no id specified");
        return NULL;
    }
    if (chardev_find(id)) {
        error_setg(errp, "attempt to add duplicate property '%s' to object "
                   "(type 'container')", id);
        return NULL;
    }
    chr = g_new0(Chardev, 1);
    chr->id = g_strdup(id);
    chr->filename = g_strdup(filename);
    chr->in_fd = chr->out_fd = chr->listen_fd = -1;
    chr->signal = true;
    pthread_mutex_init(&chr->write_lock, NULL);
    if ((v = opts_get(opts, "mux")) && !opt_parse_bool(v, &chr->mux)) {
        error_setg(errp, "chardev: invalid mux value '%s'", v);
        goto fail;
    }
    if ((v = opts_get(opts, "signal")) && !opt_parse_bool(v, &chr->signal)) {
        error_setg(errp, "chardev: invalid signal value '%s'", v);
        goto fail;
    }
    if (!strcmp(backend, "null")) {
        chr->kind = CHR_NULL;
    } else if (!strcmp(backend, "stdio")) {
        chr->kind = CHR_STDIO;
        if (!open_stdio(chr, errp)) {
            goto fail;
        }
    } else if (!strcmp(backend, "file")) {
        const char *path = opts_get(opts, "path");
        bool append = false;
        if (!path) {
            error_setg(errp, "chardev: file: no filename given");
            goto fail;
        }
        if ((v = opts_get(opts, "append"))) {
            opt_parse_bool(v, &append);
        }
        chr->kind = CHR_FILE;
        chr->out_fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC |
                           (append ? O_APPEND : O_TRUNC), 0666);
        if (chr->out_fd < 0) {
            error_setg(errp, "Could not open '%s': %s", path, strerror(errno));
            goto fail;
        }
    } else if (!strcmp(backend, "pty")) {
        chr->kind = CHR_PTY;
        if (!open_pty(chr, errp)) {
            goto fail;
        }
    } else if (!strcmp(backend, "socket")) {
        chr->kind = CHR_SOCKET;
        if (!open_socket(chr, opts, errp)) {
            goto fail;
        }
    } else {
        error_setg(errp, "'%s' is not a valid char driver name", backend);
        goto fail;
    }
    g_ptr_array_add(chardev_list(), chr);
    return chr;
fail:
    pthread_mutex_destroy(&chr->write_lock);
    g_free(chr->id);
    g_free(chr->filename);
    g_free(chr);
    return NULL;
}

Chardev *chardev_new_from_opts(const char *optstr, Error **errp)
{
    GPtrArray *opts = opts_parse(optstr, "backend", errp);
    if (!opts) {
        return NULL;
    }
    Chardev *chr = NULL;
    if (!opts_get(opts, "backend")) {
        error_setg(errp, "chardev: backend type is missing");
    } else {
        chr = chardev_open(opts, opts_get(opts, "backend"), errp);
    }
    opts_free(opts);
    return chr;
}

/*
 * Legacy specs: stdio, null, none, file:PATH, pty, mon:stdio,
 * unix:PATH[,server][,nowait], tcp:[HOST]:PORT[,server][,nowait],
 * chardev:ID.  Returns NULL without an error for "none".
 */
Chardev *chardev_new_from_spec(const char *spec, const char *id, Error **errp)
{
    const char *rest;
    Chardev *chr = NULL;
    GPtrArray *opts = NULL;
    char *optstr = NULL;

    if (!strcmp(spec, "none")) {
        return NULL;
    }
    if (g_str_has_prefix(spec, "chardev:")) {
        chr = chardev_find(spec + 8);
        if (!chr) {
            error_setg(errp, "chardev '%s' not found", spec + 8);
        }
        return chr;
    }
    bool mux = g_str_has_prefix(spec, "mon:");
    const char *target = mux ? spec + 4 : spec;
    if (!strcmp(target, "stdio") || !strcmp(target, "null") ||
        !strcmp(target, "pty") || !strcmp(target, "vc")) {
        optstr = g_strdup(!strcmp(target, "vc") ? "null" : target);
    } else if ((rest = g_str_has_prefix(target, "file:") ? target + 5 : NULL)) {
        /* The whole rest is the path, commas included. */
        opts = opts_parse("file", "backend", errp);
        Opt *o = g_new0(Opt, 1);
        o->key = g_strdup("path");
        o->value = g_strdup(rest);
        g_ptr_array_add(opts, o);
    } else if ((rest = g_str_has_prefix(target, "unix:") ? target + 5 : NULL)) {
        optstr = g_strdup_printf("socket,path=%s", rest);
    } else if ((rest = g_str_has_prefix(target, "tcp:") ? target + 4 : NULL)) {
        const char *comma = strchr(rest, ',');
        int hostport = comma ? (int)(comma - rest) : (int)strlen(rest);
        const char *colon = memrchr(rest, ':', hostport);
        if (!colon) {
            error_setg(errp, "tcp: expected HOST:PORT in '%s'", spec);
            return NULL;
        }
        optstr = g_strdup_printf("socket,host=%.*s,port=%.*s%s",
                                 (int)(colon - rest), rest,
                                 (int)(hostport - (colon - rest) - 1),
                                 colon + 1, comma ? comma : "");
    } else {
        error_setg(errp, "'%s' is not a valid char driver", spec);
        return NULL;
    }
    if (optstr) {
        opts = opts_parse(optstr, "backend", errp);
        g_free(optstr);
    }
    if (opts) {
        /* mon:stdio (-nographic): Ctrl-C goes to the guest; C-a x quits. */
        const char *extra[][2] = {
            { "id", id }, { "mux", mux ? "on" : "off" },
            { "signal", mux ? "off" : "on" },
        };
        for (unsigned i = 0; i < 3; i++) {
            Opt *o = g_new0(Opt, 1);
            o->key = g_strdup(extra[i][0]);
            o->value = g_strdup(extra[i][1]);
            g_ptr_array_add(opts, o);
        }
        chr = chardev_open(opts, spec, errp);
        opts_free(opts);
    }
    return chr;
}

void chardev_cleanup_all(void)
{
    for (guint i = 0; chardevs && i < chardevs->len; i++) {
        Chardev *c = g_ptr_array_index(chardevs, i);
        if (c->kind == CHR_SOCKET && c->listen_fd >= 0) {
            close(c->listen_fd);
        }
    }
    chardev_stdio_restore();
}
