/* Error reporting: messages carry the program name like QEMU's do. */
#include "util/osdep.h"
#include <stdarg.h>

static const char *progname = "kestrel-system-x86_64";
static FILE *log_file;

void error_set_progname(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    progname = slash ? slash + 1 : argv0;
}

void error_setg(Error **errp, const char *fmt, ...)
{
    va_list ap;
    if (!errp) {
        return;
    }
    g_assert(*errp == NULL);
    *errp = g_new0(Error, 1);
    va_start(ap, fmt);
    (*errp)->msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

bool error_fail(Error **errp, const char *fmt, ...)
{
    va_list ap;
    if (errp) {
        g_assert(*errp == NULL);
        *errp = g_new0(Error, 1);
        va_start(ap, fmt);
        (*errp)->msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
    }
    return false;
}

void error_prepend(Error **errp, const char *fmt, ...)
{
    va_list ap;
    if (!errp || !*errp) {
        return;
    }
    va_start(ap, fmt);
    char *prefix = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *msg = g_strconcat(prefix, (*errp)->msg, NULL);
    g_free(prefix);
    g_free((*errp)->msg);
    (*errp)->msg = msg;
}

void error_free(Error *err)
{
    if (err) {
        g_free(err->msg);
        g_free(err);
    }
}

static void vreport(const char *kind, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: %s", progname, kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void error_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("", fmt, ap);
    va_end(ap);
}

void warn_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("warning: ", fmt, ap);
    va_end(ap);
}

void error_report_err(Error *err)
{
    error_report("%s", err->msg);
    error_free(err);
}

void log_set_file(FILE *f)
{
    log_file = f;
}

void log_guest_error(const char *fmt, ...)
{
    va_list ap;
    if (!log_file) {
        return;
    }
    va_start(ap, fmt);
    vfprintf(log_file, fmt, ap);
    va_end(ap);
    fputc('\n', log_file);
    fflush(log_file);
}

bool parse_uint64(const char *str, uint64_t *out)
{
    char *end;
    if (!str || !*str || *str == '-' || g_ascii_isspace(*str)) {
        return false;
    }
    errno = 0;
    unsigned long long v = strtoull(str, &end, 0);
    if (errno || *end) {
        return false;
    }
    *out = v;
    return true;
}

bool parse_size(const char *str, char default_suffix, uint64_t *out)
{
    char *end;
    if (!str || !*str || *str == '-' || g_ascii_isspace(*str)) {
        return false;
    }
    errno = 0;
    double d = g_ascii_strtod(str, &end);
    if (errno || end == str || d < 0) {
        return false;
    }
    char suffix = *end ? *end : default_suffix;
    if (*end && end[1] && !(g_ascii_toupper(end[1]) == 'B' && !end[2])) {
        return false;
    }
    uint64_t mult;
    switch (g_ascii_toupper(suffix)) {
    case 'B': case 0: mult = 1; break;
    case 'K': mult = KiB; break;
    case 'M': mult = MiB; break;
    case 'G': mult = GiB; break;
    case 'T': mult = GiB * 1024; break;
    default: return false;
    }
    double v = d * (double)mult;
    if (v >= 18446744073709551616.0 || v != (double)(uint64_t)v) {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}
