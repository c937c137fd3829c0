/* Parsing of QEMU-style comma-separated option strings. */
#include "util/opts.h"

static void opt_free(gpointer p)
{
    Opt *o = p;
    g_free(o->key);
    g_free(o->value);
    g_free(o);
}

/* Read up to an unescaped 'stop' (or ',' / end); ",," stands for ','. */
static char *take_token(const char **pos, char stop)
{
    GString *s = g_string_new(NULL);
    const char *p = *pos;
    while (*p) {
        if (*p == ',') {
            if (p[1] == ',') {
                g_string_append_c(s, ',');
                p += 2;
                continue;
            }
            break;
        }
        if (*p == stop) {
            break;
        }
        g_string_append_c(s, *p++);
    }
    *pos = p;
    return g_string_free(s, false);
}

GPtrArray *opts_parse(const char *str, const char *implied_key, Error **errp)
{
    GPtrArray *opts = g_ptr_array_new_with_free_func(opt_free);
    const char *p = str;
    bool first = true;

    if (!*str) {
        error_setg(errp, "empty option string");
        goto fail;
    }
    for (;;) {
        char *key = take_token(&p, '=');
        Opt *o = g_new0(Opt, 1);
        if (*p == '=') {
            p++;
            o->key = key;
            o->value = take_token(&p, 0);
            if (!*o->key) {
                error_setg(errp, "Invalid parameter '=%s'", o->value);
                opt_free(o);
                goto fail;
            }
        } else if (first && implied_key) {
            o->key = g_strdup(implied_key);
            o->value = key;
        } else if (*key) {
            o->key = key;
            o->value = g_strdup("on");
        } else {
            g_free(key);
            g_free(o);
            error_setg(errp, "Invalid parameter '' in '%s'", str);
            goto fail;
        }
        g_ptr_array_add(opts, o);
        first = false;
        if (!*p) {
            break;
        }
        p++;    /* the comma */
        if (!*p) {
            error_setg(errp, "Invalid parameter '' in '%s'", str);
            goto fail;
        }
    }
    return opts;
fail:
    g_ptr_array_free(opts, true);
    return NULL;
}

void opts_free(GPtrArray *opts)
{
    if (opts) {
        g_ptr_array_free(opts, true);
    }
}

const char *opts_get(GPtrArray *opts, const char *key)
{
    const char *value = NULL;
    for (guint i = 0; i < opts->len; i++) {
        Opt *o = g_ptr_array_index(opts, i);
        if (!strcmp(o->key, key)) {
            value = o->value;
        }
    }
    return value;
}

bool opts_check_keys(GPtrArray *opts, const char *what,
                     const char *const *allowed, Error **errp)
{
    for (guint i = 0; i < opts->len; i++) {
        Opt *o = g_ptr_array_index(opts, i);
        bool known = false;
        for (const char *const *a = allowed; *a; a++) {
            if (!strcmp(*a, o->key)) {
                known = true;
                break;
            }
        }
        if (!known) {
            error_setg(errp, "Invalid parameter '%s' for %s", o->key, what);
            return false;
        }
    }
    return true;
}

bool opt_parse_bool(const char *value, bool *out)
{
    if (!strcmp(value, "on") || !strcmp(value, "yes") ||
        !strcmp(value, "true")) {
        *out = true;
    } else if (!strcmp(value, "off") || !strcmp(value, "no") ||
               !strcmp(value, "false")) {
        *out = false;
    } else {
        return false;
    }
    return true;
}
