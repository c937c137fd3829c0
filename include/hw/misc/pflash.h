/*
 * "cfi.pflash01": a flash chip with the Intel/Sharp extended command set,
 * its contents those of a drive (hw/misc/pflash-cfi01.c).  The board maps
 * the chip's memory where it wants it.
 */
#ifndef HW_MISC_PFLASH_H
#define HW_MISC_PFLASH_H

#include "hw/qdev.h"
#include "system/memory.h"

#define PFLASH_SECTOR_SIZE 4096     /* the pc's erase block, as QEMU's */

/* The chip's ROM-device region (reads from memory in read-array mode). */
MemoryRegion *pflash_cfi01_get_memory(DeviceState *dev);

#endif
