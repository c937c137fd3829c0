/*
 * The drive table: what -drive, -hda..-hdd, -cdrom and -snapshot asked for.
 * Options are parsed and checked when the command line is read; images are
 * opened by drive_open_all() after the accelerator is up.  Boards create
 * disks for IF_IDE drives (drive_get) and flash chips for IF_PFLASH ones
 * (bus 0, unit 0 at the top of 4 GiB); -device ide-hd,drive=ID attaches an
 * if=none drive by id (a PROP_DRIVE property claims it).
 */
#ifndef BLOCK_DRIVE_H
#define BLOCK_DRIVE_H

#include "block/block.h"

typedef enum {
    IF_NONE,
    IF_IDE,
    IF_PFLASH,
} BlockInterfaceType;

typedef enum {
    MEDIA_DISK,
    MEDIA_CDROM,
} DriveMediaType;

#define MAX_IDE_BUS 2
#define MAX_IDE_UNITS 2
#define MAX_PFLASH_UNITS 2      /* the pc's system.flash0 and flash1 */

typedef struct DriveInfo {
    char *id;
    BlockInterfaceType type;
    int bus, unit;
    DriveMediaType media;
    BlockOpenOptions opts;      /* filename NULL: empty (CD-ROM) drive */
    BlockBackend *blk;          /* after drive_open_all() */
    bool claimed;               /* in use by a device */
    char *optstr;               /* as given, for messages */
    /* -blockdev nodes (block/blockdev.c): id is the node-name */
    bool node;
    const char *node_format;    /* "raw"/"qcow2" node; NULL: driver=file */
    const char *parent;         /* the node this one is the file of: that
                                 * node opens it, it is not opened alone */
} DriveInfo;

/* -drive OPTS */
DriveInfo *drive_add(const char *optstr, Error **errp);
/* -hda..-hdd (index 0-3) and -cdrom (index 2, media=cdrom) */
DriveInfo *drive_add_legacy(const char *file, int index, bool cdrom,
                            Error **errp);
/* -blockdev OPTS (block/blockdev.c) */
bool blockdev_add(const char *optstr, Error **errp);
/* A -blockdev node's entry (if=none, id = name); the caller fills opts. */
DriveInfo *drive_add_node(const char *name, const char *optstr);
/* -snapshot: every drive gets snapshot=on. */
void drive_enable_snapshot_all(void);
/* Open every image; the error names the -drive option. */
bool drive_open_all(Error **errp);
void drive_close_all(void);

DriveInfo *drive_get(BlockInterfaceType type, int bus, int unit);
DriveInfo *drive_get_by_id(const char *id);
DriveInfo *drive_get_by_blk(BlockBackend *blk);
/* Mark a drive used by a device; fails if it already is. */
bool drive_claim(DriveInfo *dinfo, Error **errp);
/* Warn about if=ide/none drives no device took. */
void drive_check_unclaimed(void);

#endif
