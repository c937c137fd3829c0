/* Common includes and small helpers used by every kestrel source file. */
#ifndef UTIL_OSDEP_H
#define UTIL_OSDEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <inttypes.h>
#include <glib.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#ifndef container_of
#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))
#endif
#define ALIGN_DOWN(n, m) ((n) / (m) * (m))
#define ALIGN_UP(n, m) ALIGN_DOWN((n) + (m) - 1, (m))
#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define PRINTF_FMT(a, b) __attribute__((format(printf, a, b)))
#define NORETURN __attribute__((noreturn))
#define UNUSED __attribute__((unused))

/* Errors: a heap message handed up to the caller that can report it. */
typedef struct Error {
    char *msg;
} Error;

void error_setg(Error **errp, const char *fmt, ...) PRINTF_FMT(2, 3);
/* error_setg() that returns false, for parsers: "return error_fail(...)". */
bool error_fail(Error **errp, const char *fmt, ...) PRINTF_FMT(2, 3);
void error_prepend(Error **errp, const char *fmt, ...) PRINTF_FMT(2, 3);
void error_free(Error *err);
/* Print "kestrel-system-x86_64: msg" on stderr. */
void error_report(const char *fmt, ...) PRINTF_FMT(1, 2);
void warn_report(const char *fmt, ...) PRINTF_FMT(1, 2);
void error_report_err(Error *err);
void error_set_progname(const char *argv0);
/* Log to the -D file (or stderr); used for guest-visible oddities. */
void log_guest_error(const char *fmt, ...) PRINTF_FMT(1, 2);
void log_set_file(FILE *f);

/* Parse "128", "128M", "1G", "4k" (default unit: default_suffix, e.g. 'M'). */
bool parse_size(const char *str, char default_suffix, uint64_t *out);
/* Parse a number in C notation (0x.., decimal). Whole string must match. */
bool parse_uint64(const char *str, uint64_t *out);

static inline uint16_t lduw_le(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t ldl_le(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t ldq_le(const void *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void stw_le(void *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void stl_le(void *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void stq_le(void *p, uint64_t v) { memcpy(p, &v, 8); }

#endif
