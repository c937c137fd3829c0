/*
 * Character devices: backends (stdio, null, file, pty, socket, mux) behind
 * one interface that device front ends (serial ports, debugcon, monitor)
 * write to and receive input from in the main loop.
 */
#ifndef CHARDEV_CHAR_H
#define CHARDEV_CHAR_H

#include "util/osdep.h"
#include <glib-unix.h>

typedef struct Chardev Chardev;

typedef enum {
    CHR_EVENT_OPENED,
    CHR_EVENT_CLOSED,
    CHR_EVENT_MUX_IN,     /* the mux switched input to this front end */
    CHR_EVENT_MUX_OUT,
} ChrEvent;

typedef struct CharFrontend {
    /* How many bytes the front end can take now (0 pauses input). */
    int (*can_read)(void *opaque);
    void (*read)(void *opaque, const uint8_t *buf, int len);
    void (*event)(void *opaque, ChrEvent event);
    void *opaque;
} CharFrontend;

/* -chardev BACKEND,id=ID[,...]: registers it under ID. */
Chardev *chardev_new_from_opts(const char *opts, Error **errp);
/* -serial/-debugcon/-monitor style spec ("stdio", "file:x", "tcp:...,server"). */
Chardev *chardev_new_from_spec(const char *spec, const char *id, Error **errp);
Chardev *chardev_find(const char *id);
const char *chardev_id(Chardev *chr);
const char *chardev_filename(Chardev *chr);
/* "socket", "stdio", "file", "pty" or "null" (QOM type chardev-NAME). */
const char *chardev_backend_name(Chardev *chr);
bool chardev_is_mux(Chardev *chr);
/* A front end (device or monitor) is attached. */
bool chardev_frontend_open(Chardev *chr);
/* Make every chardev list in the order created ("info chardev"). */
GPtrArray *chardev_list(void);

/* Write everything (blocking for files and terminals); returns len or -1.
 * Output to an unconnected socket is dropped. */
int chardev_write(Chardev *chr, const uint8_t *buf, int len);
/* Sockets and ptys: write what fits now; returns bytes written, 0 if none
 * fit, -1 if nobody is connected.  Other backends: chardev_write. */
int chardev_write_nonblock(Chardev *chr, const uint8_t *buf, int len);
/* fn runs in ctx (NULL: the main loop) once output fits again; returns
 * the attached source, the caller's reference (NULL: not connected). */
GSource *chardev_add_out_watch(Chardev *chr, GMainContext *ctx,
                               GUnixFDSourceFunc fn, void *opaque);
/* Sockets: drop the client (CLOSED to the front ends), listen again; input
 * goes back to the main loop.  Only from the thread that reads. */
void chardev_disconnect(Chardev *chr);
/* Attach a front end.  A mux chardev accepts several. */
bool chardev_attach(Chardev *chr, const CharFrontend *fe, Error **errp);
/* The front end has room again: resume input.  Only from the thread that
 * reads. */
void chardev_accept_input(Chardev *chr);
/*
 * Read input in ctx's thread from now on (the monitor's I/O thread), until
 * the client disconnects.  Call it from the thread that reads now, outside
 * the front end's callbacks.  Writes are safe from any thread.
 */
void chardev_set_context(Chardev *chr, GMainContext *ctx);

/* Ctrl-A x/h/c handling and raw terminal mode for stdio. */
void chardev_stdio_restore(void);
void chardev_cleanup_all(void);

#endif
