/*
 * SCSI buses and logical units (SAM-5/SPC-4 terms).  A host adapter
 * (virtio-scsi) owns a SCSIBus; scsi-cd and scsi-hd attach to one by name
 * (-device scsi-cd,bus=ID.0,scsi-id=T,lun=L; without bus=, the first
 * bus).  The adapter turns each command into a SCSIRequest whose data
 * buffer is guest memory and calls scsi_req_execute(); the request ends,
 * now or later from the block layer, in its complete callback with a
 * status and, for CHECK CONDITION, sense data (autosense).
 *
 * The bus answers for its targets: REPORT LUNS, and every command to a
 * LUN that does not exist on a target that does.
 *
 * Units may come and go while the machine runs (device_add/device_del):
 * the bus tells its adapter (SCSIBusOps) and gives the other LUNs of the
 * target REPORTED LUNS DATA HAS CHANGED.
 */
#ifndef HW_SCSI_SCSI_H
#define HW_SCSI_SCSI_H

#include "hw/qdev.h"
#include "block/block.h"
#include "util/byteorder.h"
#include <sys/uio.h>

#define SCSI_CDB_MAX            32
#define SCSI_SENSE_FIXED_LEN    18

/* Status codes (SAM-5 5.3). */
#define SCSI_GOOD               0x00
#define SCSI_CHECK_CONDITION    0x02

/* Sense keys and the codes kestrel reports. */
typedef struct SCSISense {
    uint8_t key, asc, ascq;
} SCSISense;
#define SENSE_CODE(k, a, q)     ((SCSISense) { (k), (a), (q) })
#define SENSE_NONE              SENSE_CODE(0x00, 0x00, 0x00)
#define SENSE_NO_MEDIUM         SENSE_CODE(0x02, 0x3a, 0x00)
#define SENSE_NO_MEDIUM_TRAY_OPEN SENSE_CODE(0x02, 0x3a, 0x02)
#define SENSE_READ_ERROR        SENSE_CODE(0x03, 0x11, 0x00)
#define SENSE_IO_ERROR          SENSE_CODE(0x04, 0x00, 0x00)
#define SENSE_PARAM_LIST_LENGTH SENSE_CODE(0x05, 0x1a, 0x00)
#define SENSE_INVALID_OPCODE    SENSE_CODE(0x05, 0x20, 0x00)
#define SENSE_LBA_OUT_OF_RANGE  SENSE_CODE(0x05, 0x21, 0x00)
#define SENSE_INVALID_FIELD     SENSE_CODE(0x05, 0x24, 0x00)
#define SENSE_LUN_NOT_SUPPORTED SENSE_CODE(0x05, 0x25, 0x00)
#define SENSE_INVALID_PARAM     SENSE_CODE(0x05, 0x26, 0x00)
#define SENSE_SAVING_NOT_SUPPORTED SENSE_CODE(0x05, 0x39, 0x00)
#define SENSE_REMOVAL_PREVENTED SENSE_CODE(0x05, 0x53, 0x02)
#define SENSE_POWER_ON_RESET    SENSE_CODE(0x06, 0x29, 0x00)
#define SENSE_MEDIUM_CHANGED    SENSE_CODE(0x06, 0x28, 0x00)
#define SENSE_LUNS_CHANGED      SENSE_CODE(0x06, 0x3f, 0x0e)
#define SENSE_WRITE_PROTECTED   SENSE_CODE(0x07, 0x27, 0x00)

/* Opcodes the bus itself handles, in part. */
#define SCSI_OP_REQUEST_SENSE   0x03
#define SCSI_OP_INQUIRY         0x12
#define SCSI_OP_REPORT_LUNS     0xa0

typedef struct SCSIBus SCSIBus;
typedef struct SCSIDevice SCSIDevice;
typedef struct SCSIRequest SCSIRequest;

struct SCSIRequest {
    SCSIBus *bus;
    SCSIDevice *dev;            /* NULL: no such LUN on the target */
    unsigned target, lun;
    uint8_t cdb[SCSI_CDB_MAX];
    const struct iovec *iov;    /* the data buffer, in guest memory */
    unsigned niov;
    size_t size;
    bool to_dev;                /* a data-out buffer (else data-in) */
    /* Results. */
    uint8_t status;
    SCSISense sense;            /* with CHECK CONDITION */
    size_t xfer;                /* bytes moved */
    bool overrun;               /* the command needs a bigger buffer */
    void (*complete)(SCSIRequest *req);
};

/* What the adapter hears of its bus. */
typedef struct SCSIBusOps {
    /* A unit came (device_add) or is going (device_del) while the
     * machine runs; it is on the bus during both calls. */
    void (*hotplugged)(SCSIBus *bus, SCSIDevice *dev);
    void (*hot_unplugged)(SCSIBus *bus, SCSIDevice *dev);
} SCSIBusOps;

struct SCSIBus {
    char name[48];
    unsigned max_target, max_lun;
    const SCSIBusOps *ops;
    GPtrArray *devices;         /* SCSIDevice * */
};

struct SCSIDevice {
    DeviceState parent_obj;
    BlockBackend *blk;          /* drive=, claimed */
    char *bus_name;             /* bus=, or NULL for the first bus */
    uint32_t channel, scsi_id, lun;
    char *serial, *vendor, *product, *version;
    SCSIBus *bus;
    /* Commands other than REPORT LUNS and REQUEST SENSE, after a unit
     * attention was reported. */
    void (*execute)(SCSIDevice *dev, SCSIRequest *req);
    SCSISense unit_attention;   /* to report once; key 0: none */
    SCSISense sense;            /* of the last CHECK CONDITION */
};

#define SCSI_ID_AUTO            UINT32_MAX

/* A bus named name (for -device ...,bus=name). */
void scsi_bus_init(SCSIBus *bus, const char *name, unsigned max_target,
                   unsigned max_lun, const SCSIBusOps *ops);
/* Put a device on its bus (picks scsi-id when auto); its realize calls it. */
bool scsi_device_attach(SCSIDevice *dev, Error **errp);
/* Take it off (its unrealize, with no command of it in flight). */
void scsi_device_detach(SCSIDevice *dev);
SCSIDevice *scsi_device_find(SCSIBus *bus, unsigned target, unsigned lun);
bool scsi_target_exists(SCSIBus *bus, unsigned target);
/* Power-on state of a unit: a unit attention pending, no sense. */
void scsi_device_reset(SCSIDevice *dev);

/* Run req (bus, target, lun, cdb, buffer and complete set). */
void scsi_req_execute(SCSIRequest *req);
/* Ends of a command, for devices: each calls req->complete. */
void scsi_req_ok(SCSIRequest *req);
void scsi_req_fail(SCSIRequest *req, SCSISense sense);
/* The buffer is too small or goes the wrong way for the command. */
void scsi_req_overrun(SCSIRequest *req);
/* Data-in of len bytes, cut to alloc (the CDB's allocation length) and
 * to the buffer, then GOOD. */
void scsi_req_reply(SCSIRequest *req, const void *buf, size_t len,
                    size_t alloc);
/* Fixed-format sense data (SPC-4 4.5.3), SCSI_SENSE_FIXED_LEN bytes. */
void scsi_build_sense(uint8_t *buf, SCSISense sense);

#endif
