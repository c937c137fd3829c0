/* -readconfig FILE: QEMU's configuration file format (system/readconfig.c). */
#ifndef SYSTEM_READCONFIG_H
#define SYSTEM_READCONFIG_H

#include "util/osdep.h"

/*
 * Append the options FILE's sections stand for to args ("-m", "size=512",
 * ...) and, for each element, "FILE:LINE" of its section to where (both
 * take g_free'able strings).  A malformed line, an unknown group or an id
 * where none is allowed is an error naming FILE:LINE.
 */
bool readconfig_read(const char *path, GPtrArray *args, GPtrArray *where,
                     Error **errp);

#endif
