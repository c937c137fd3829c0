/*
 * qtest: a test drives the machine over a character device with QEMU's
 * line protocol (port and memory access, virtual clock, interrupt lines);
 * see docs/qtest.md.  With the qtest accelerator no vCPU runs.
 */
#ifndef SYSTEM_QTEST_H
#define SYSTEM_QTEST_H

#include "util/osdep.h"

/* The qtest accelerator is in use. */
bool qtest_enabled(void);
/* -qtest SPEC (unix:PATH connects as a client, chardev:ID, stdio, ...) and
 * -qtest-log PATH (NULL: stderr, "none": no log). */
bool qtest_server_init(const char *spec, const char *log_path, Error **errp);

#endif
