/* Inside the monitor: the Monitor object and the pieces it is made of. */
#ifndef MONITOR_INTERNAL_H
#define MONITOR_INTERNAL_H

#include "monitor/monitor.h"
#include <pthread.h>

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
    /*
     * A QMP session with out-of-band execution has its input read in the
     * monitor's I/O thread (iothread.c) while the main loop runs its
     * in-band commands: what both threads touch is under lock.  Input
     * state (stream, held_input, the session flags' writes) belongs to
     * the thread that reads.
     */
    pthread_mutex_t lock;
    GMainContext *ctx;       /* where input is read: NULL, the main loop */
    GString *outbuf;         /* output the chardev has not taken yet */
    GSource *out_src;        /* in ctx: the chardev can take output again */
    GSource *disconnect_src; /* in ctx: drop a client that does not read */
    GSource *resume_src;     /* in ctx: read again (OOB sessions) */
    bool input_held;         /* input was held back: resume it when it may */
    GString *held_input;     /* read but not parsed yet, from held_pos */
    size_t held_pos;
    /* QMP */
    bool negotiated;         /* qmp_capabilities done: commands and events */
    bool oob;                /* ... with out-of-band execution */
    GQueue requests;         /* OOB sessions: in-band requests, in order */
    GSource *dispatch_src;   /* main loop: runs them */
    JsonStream stream;
    /* HMP */
    ReadLine rl;
    bool banner_shown;
    int cpu_index;
    char last_format;        /* x/xp remember the last /fmt */
    int last_size;
};

/* Write bytes as they are (no newline translation).  Any thread. */
void monitor_write_raw(Monitor *mon, const char *buf, size_t len);
/* All monitors, for events. */
GPtrArray *monitor_list(void);
/* After qmp_capabilities enabled OOB: read in the I/O thread from now on. */
void monitor_start_oob(Monitor *mon);
/* Input held back may go on (the in-band queue shrank).  Any thread. */
void monitor_resume_input(Monitor *mon);

/* iothread.c */
GMainContext *monitor_iothread_context(void);
bool monitor_in_iothread(void);

/* qmp.c */
/* In-band requests an OOB session may have queued before reading stops. */
#define QMP_QUEUE_MAX 8
void qmp_monitor_setup(Monitor *mon);
/* Drop the queued requests of a session that ended (mon->lock held). */
void qmp_drop_requests(Monitor *mon);
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

/* qom.c: "info qtree"; a device's path ("/machine/unattached/device[3]") */
void qom_print_qtree(GString *out);
typedef struct DeviceState DeviceState;
char *qom_device_path(DeviceState *dev);
/* qom.c: the device at an absolute QOM path (device_del), or NULL */
DeviceState *qom_find_device(const char *path);

/* qmp-schema.c: the events kestrel sends, their data members. */
typedef struct QmpEventInfo {
    const char *name;
    QmpArg data[QMP_MAX_ARGS];
} QmpEventInfo;
extern const QmpEventInfo qmp_events[];    /* up to a NULL name */

/* qmp-objects.c: a user-creatable object's property as JSON */
typedef struct UserObject UserObject;
typedef struct ObjectProp ObjectProp;
JsonNode *user_object_prop_value(UserObject *obj, const ObjectProp *p);

/* Small JSON builders. */
JsonNode *json_node_new_object_take(JsonObject *obj);
JsonNode *json_node_new_array_take(JsonArray *arr);

/* Run fn with every vCPU out of KVM_RUN (their registers readable). */
void monitor_with_vcpus_paused(void (*fn)(void *opaque), void *opaque);

#endif
