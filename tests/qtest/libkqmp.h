/*
 * A QMP client for the qtest programs: libkqtest starts kestrel with
 * kqmp_args() among its arguments (a QMP server socket), then kqmp_connect()
 * reads the greeting and negotiates.  Replies and events are json-glib
 * nodes; any protocol failure fails the test at once.
 */
#ifndef LIBKQMP_H
#define LIBKQMP_H

#include "libkqtest.h"
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

typedef struct KQmp KQmp;

/* A fresh socket path; kqmp_args() is the option that serves it. */
KQmp *kqmp_new(void);
const char *kqmp_args(KQmp *q);
/* Connect (kestrel is up: qts_init returned), greeting, qmp_capabilities. */
void kqmp_connect(KQmp *q);
void kqmp_free(KQmp *q);

/* Send a request (printf-style JSON), return its reply (unref it); events
 * that arrive first are kept for kqmp_event()/kqmp_take_event(). */
JsonNode *kqmp_cmd(KQmp *q, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* The reply's "return" (owned by reply); fails the test on an error. */
JsonNode *kqmp_return(JsonNode *reply);
/* The reply's error class, or NULL if it succeeded; desc if wanted. */
const char *kqmp_error(JsonNode *reply, const char **desc);
/* A string member of a reply's "return" object ("status" of
 * query-status), or NULL. */
const char *kqmp_return_str(JsonNode *reply, const char *member);

/* The next event of that name, waiting for it (others are dropped);
 * unref it.  kqmp_take_event() only looks at what already arrived. */
JsonNode *kqmp_event(KQmp *q, const char *name);
JsonNode *kqmp_take_event(KQmp *q, const char *name);
/* A string member of an event's "data", or NULL. */
const char *kqmp_event_data_str(JsonNode *event, const char *member);

/* kestrel under qtest (-nodefaults plus args) with a QMP client on it:
 * what most test cases start with. */
typedef struct KQmpVm {
    QTS *qts;
    KQmp *qmp;
} KQmpVm;

KQmpVm kqmp_vm_start(const char *args);
KQmpVm kqmp_vm_startf(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* SIGTERM (exit status 0 asserted), then the client is freed. */
void kqmp_vm_quit(KQmpVm vm);

#endif
