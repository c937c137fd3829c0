/* Inside the monitor: the Monitor object and the pieces it is made of. */
#ifndef MONITOR_INTERNAL_H
#define MONITOR_INTERNAL_H

#include "monitor/monitor.h"

/* ---- json-stream.c: splits a byte stream into JSON texts ---- */

#define JSON_MAX_DEPTH 1024
#define QMP_MAX_MESSAGE (1024 * 1024)

typedef struct JsonStream {
    GString *buf;                 /* the value being collected */
    char stack[JSON_MAX_DEPTH];   /* 'O' object, 'A' array */
    int depth;
    int expect;                   /* what may come next (json-stream.c) */
    bool in_string, escape, string_is_key, in_word;
    int skip;                     /* dropping input after an error */
    size_t max_size;
    /* A complete top-level value (syntax checked at the structure level). */
    void (*emit)(void *opaque, const char *json, size_t len);
    /* Input that cannot be JSON; the stream resynchronises by itself. */
    void (*error)(void *opaque, const char *msg);
    void *opaque;
} JsonStream;

void json_stream_init(JsonStream *s, size_t max_size,
                      void (*emit)(void *, const char *, size_t),
                      void (*error)(void *, const char *), void *opaque);
void json_stream_feed(JsonStream *s, const uint8_t *buf, size_t len);
/* Forget a partial value (the client went away). */
void json_stream_reset(JsonStream *s);
void json_stream_destroy(JsonStream *s);

/* ---- readline.c: the HMP line editor ---- */

#define READLINE_MAX 1024
#define READLINE_HISTORY 64

typedef struct ReadLine {
    char line[READLINE_MAX + 1];
    int len, pos;
    char *history[READLINE_HISTORY];   /* oldest first */
    int nr_history;
    int history_pos;                   /* nr_history = the line being typed */
    int esc;                           /* escape sequence state */
    int esc_param;
    bool after_cr;                     /* swallow the \n of \r\n */
    const char *prompt;
    void (*execute)(void *opaque, const char *line);
    void (*write)(void *opaque, const char *text);   /* raw terminal output */
    void *opaque;
} ReadLine;

void readline_init(ReadLine *rl, const char *prompt,
                   void (*execute)(void *, const char *),
                   void (*write)(void *, const char *), void *opaque);
void readline_feed(ReadLine *rl, uint8_t ch);
void readline_show_prompt(ReadLine *rl);
/* Drop the line being typed (not the history). */
void readline_restart(ReadLine *rl);
void readline_free(ReadLine *rl);

/* ---- the monitor ---- */

struct Monitor {
    Chardev *chr;            /* NULL: output goes to capture */
    GString *capture;        /* human-monitor-command collects output here */
    MonitorMode mode;
    bool pretty;
    bool mux;                /* shares its chardev: speaks when focused */
    bool focused;
    GString *outbuf;         /* output the chardev has not taken yet */
    guint out_watch, disconnect_idle;
    /* QMP */
    bool negotiated;         /* qmp_capabilities done: commands and events */
    JsonStream stream;
    /* HMP */
    ReadLine rl;
    bool banner_shown;
    int cpu_index;
    char last_format;        /* x/xp remember the last /fmt */
    int last_size;
};

/* Write bytes as they are (no newline translation). */
void monitor_write_raw(Monitor *mon, const char *buf, size_t len);
/* All monitors, for events. */
GPtrArray *monitor_list(void);

/* qmp.c */
void qmp_monitor_setup(Monitor *mon);
void qmp_send_greeting(Monitor *mon);
void qmp_send_node(Monitor *mon, JsonNode *node);
QmpErrorClass qmp_error_class_of(Error *err);
const char *qmp_error_class_name(QmpErrorClass cls);
bool qmp_check_args(const QmpCommand *cmd, JsonObject *args, Error **errp);

/* hmp.c */
void hmp_monitor_setup(Monitor *mon);
void hmp_greet(Monitor *mon);
void hmp_handle_line(Monitor *mon, const char *line);

/* commands.c: the handlers HMP formats */
JsonNode *qmp_query_status(JsonObject *args, Error **errp);
JsonNode *qmp_query_version(JsonObject *args, Error **errp);
JsonNode *qmp_query_name(JsonObject *args, Error **errp);
JsonNode *qmp_query_kvm(JsonObject *args, Error **errp);
JsonNode *qmp_query_cpus_fast(JsonObject *args, Error **errp);
JsonNode *qmp_query_chardev(JsonObject *args, Error **errp);

/* qom.c: "info qtree" */
void qom_print_qtree(GString *out);

/* Small JSON builders. */
JsonNode *json_node_new_object_take(JsonObject *obj);
JsonNode *json_node_new_array_take(JsonArray *arr);

/* Run fn with every vCPU out of KVM_RUN (their registers readable). */
void monitor_with_vcpus_paused(void (*fn)(void *opaque), void *opaque);

#endif
