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
    BlockOpenOptions opts;      /* filename NULL: empty drive */
    BlockErrorPolicy rerror, werror;
    BlockBackend *blk;          /* after drive_open_all() */
    bool claimed;               /* in use by a device */
    char *optstr;               /* as given, for messages */
    /* drive_del of a drive a device uses: the medium is gone, the entry
     * stays only to keep the id taken while the device lives (QEMU) */
    bool deleted;
    /* -blockdev nodes (block/blockdev.c): id is the node-name */
    bool node;
    const char *node_format;    /* the node's driver: "file", "qcow2"... */
    const char *parent;         /* the node this one is the child of: that
                                 * node opens it, it is not opened alone */
    bool inline_child;          /* given inside its parent's options: it
                                 * goes when the parent goes */
    char *backing;              /* qcow2 backing=NODE in its chain: opened
                                 * with that node's image */
} DriveInfo;

/* -drive OPTS; once the machine runs (HMP drive_add) only if=none, and
 * the image is opened at once. */
DriveInfo *drive_add(const char *optstr, Error **errp);
/* HMP drive_del: a drive no device uses goes away (its id can be used
 * again); one a device uses loses its medium (the device sees none) and
 * its name.  A -blockdev node no device uses goes as with blockdev-del. */
bool drive_del(const char *id, Error **errp);
/* -hda..-hdd (index 0-3) and -cdrom (index 2, media=cdrom) */
DriveInfo *drive_add_legacy(const char *file, int index, bool cdrom,
                            Error **errp);
/* -blockdev OPTS (block/blockdev.c) */
bool blockdev_add(const char *optstr, Error **errp);
/* blockdev-add: options parsed (QMP's JSON flattened to "file.driver"...);
 * optstr names the node in messages. */
bool blockdev_add_opts(GPtrArray *opts, const char *optstr, Error **errp);
/* -blockdev '{JSON}' (in the monitor module, which has the parser). */
bool blockdev_add_json(const char *json, Error **errp);
/* blockdev-del: a node that is no device's and no other node's child. */
bool blockdev_del(const char *name, Error **errp);
/* -drive's file.KEY options (KEY without "file."): the options of the
 * protocol node file= names (null-co, blkdebug and its image, a file),
 * checked as -blockdev checks them, into opts. */
bool blockdev_drive_file_opts(const char *filename, GPtrArray *file_opts,
                              BlockOpenOptions *opts, Error **errp);
/* The live entry whose chain has the node name as its backing, or NULL. */
DriveInfo *drive_backing_user(const char *name);

/* For block/blockdev.c: a node's entry (if=none, id = name), not yet in
 * the table; the caller fills opts. */
DriveInfo *drive_new_node(const char *name, const char *optstr);
void drive_insert(DriveInfo *d);
void drive_free(DriveInfo *d);
/* Open the image of an entry (an empty drive gets an empty backend). */
bool drive_open(DriveInfo *d, Error **errp);
/* drive_open_all() ran: entries added now are opened at once. */
bool drive_started(void);
/* An id or node-name in use, by a live entry or a deleted one. */
bool drive_id_taken(const char *id);
/* Close a node no device uses and drop it; its inline children go with
 * it, nodes it referred to become free (and are opened) again. */
void drive_remove_node(DriveInfo *d);
/* -snapshot: every drive gets snapshot=on. */
void drive_enable_snapshot_all(void);
/* Open every image; the error names the -drive option. */
bool drive_open_all(Error **errp);
void drive_close_all(void);

DriveInfo *drive_get(BlockInterfaceType type, int bus, int unit);
/* Live entries only (not deleted ones). */
DriveInfo *drive_get_by_id(const char *id);
DriveInfo *drive_get_by_blk(BlockBackend *blk);
/* Mark a drive used by a device; fails if it already is. */
bool drive_claim(DriveInfo *dinfo, Error **errp);
/* The device using blk is gone: its drive is free again, or, if drive_del
 * deleted it meanwhile, closed and gone (its id with it). */
void drive_release(BlockBackend *blk);
/* Warn about if=ide/none drives no device took. */
void drive_check_unclaimed(void);

#endif
