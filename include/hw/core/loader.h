/*
 * Blobs placed in guest memory at start-up (kernels, option ROM images,
 * boot tables).  They are written again on every system reset, so a reset
 * guest finds them as at power-on.
 */
#ifndef HW_CORE_LOADER_H
#define HW_CORE_LOADER_H

#include "util/osdep.h"

/* Copies data; written to guest physical addr (RAM or ROM) at each reset. */
void rom_add_blob(const char *name, const void *data, size_t len,
                  uint64_t addr);
/* The same with zero_len zero bytes after the data (an ELF segment's bss),
 * kept as a length rather than as a buffer of zeros. */
void rom_add_blob_zero_tail(const char *name, const void *data, size_t len,
                            size_t zero_len, uint64_t addr);
void rom_reset_all(void);

/* Read a whole file (with a size cap); NULL and errp set on failure. */
uint8_t *load_file(const char *path, size_t max, size_t *len, Error **errp);

#endif
