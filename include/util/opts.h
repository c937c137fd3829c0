/* QEMU-style option strings: "value,key=value,key=value" (",," is a comma). */
#ifndef UTIL_OPTS_H
#define UTIL_OPTS_H

#include "util/osdep.h"

typedef struct Opt {
    char *key;
    char *value;
} Opt;

/*
 * Split into Opt entries.  A first element without '=' becomes
 * implied_key=element (if implied_key is NULL that is an error).  A later
 * element without '=' is "key=on" (QEMU's flag shorthand, e.g. "server").
 */
GPtrArray *opts_parse(const char *str, const char *implied_key, Error **errp);
void opts_free(GPtrArray *opts);
/* The last value given for key, or NULL. */
const char *opts_get(GPtrArray *opts, const char *key);
/* Error naming the first key not in the NULL-terminated list. */
bool opts_check_keys(GPtrArray *opts, const char *what,
                     const char *const *allowed, Error **errp);
bool opt_parse_bool(const char *value, bool *out);

#endif
