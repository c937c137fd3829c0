/*
 * MMC-5 replies shared by the two CD-ROM front ends, ATAPI on IDE
 * (hw/block/ide-atapi.c) and scsi-cd (hw/scsi/scsi-disk.c): READ TOC,
 * GET CONFIGURATION and GET EVENT STATUS NOTIFICATION.  Each builds the
 * whole reply in buf and returns its length, or -1 when the CDB asks for
 * something unsupported (the caller answers INVALID FIELD IN CDB).
 */
#ifndef HW_BLOCK_MMC_H
#define HW_BLOCK_MMC_H

#include <stdbool.h>
#include <stdint.h>

#define MMC_BLOCK_SIZE      2048
#define MMC_CD_MAX_BLOCKS   (80 * 60 * 75)  /* 80 min: beyond that, DVD */

/* GET EVENT STATUS NOTIFICATION media event codes (MMC-5 6.8). */
#define MEC_NO_CHANGE       0
#define MEC_EJECT_REQUEST   1
#define MEC_NEW_MEDIA       2
#define MEC_MEDIA_REMOVAL   3

/* Core feature's physical interface standard (MMC-5 5.3.2). */
#define MMC_INTERFACE_SCSI  1
#define MMC_INTERFACE_ATAPI 2

#define MMC_TOC_BUF_SIZE    64
#define MMC_CONFIG_BUF_SIZE 64
#define MMC_EVENT_BUF_SIZE  8

/* A single-session data disc of blocks 2048-byte blocks. */
int mmc_read_toc(const uint8_t *cdb, uint32_t blocks, uint8_t *buf);
/* blocks is 0 without a medium; interface is MMC_INTERFACE_*. */
int mmc_get_configuration(const uint8_t *cdb, bool has_medium,
                          uint32_t blocks, uint32_t interface, uint8_t *buf);
/* Reports *media_event and clears it to MEC_NO_CHANGE. */
int mmc_event_status(const uint8_t *cdb, bool has_medium, bool tray_open,
                     uint8_t *media_event, uint8_t *buf);

#endif
