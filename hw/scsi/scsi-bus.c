/*
 * SCSI buses: where logical units attach, how a request finds its unit,
 * and what the target answers itself (SPC-4): REPORT LUNS, REQUEST SENSE
 * with the unit attention or the last error, and the replies of a LUN
 * that does not exist.  See include/hw/scsi/scsi.h.
 */
#include "hw/scsi/scsi.h"
#include "block/block_int.h"            /* iov_from_buf */

static GPtrArray *buses;

void scsi_bus_init(SCSIBus *bus, const char *name, unsigned max_target,
                   unsigned max_lun, const SCSIBusOps *ops)
{
    g_strlcpy(bus->name, name, sizeof(bus->name));
    bus->max_target = max_target;
    bus->max_lun = max_lun;
    bus->ops = ops;
    bus->devices = g_ptr_array_new();
    if (!buses) {
        buses = g_ptr_array_new();
    }
    g_ptr_array_add(buses, bus);
}

static SCSIBus *scsi_bus_find(const char *name)
{
    for (guint i = 0; buses && i < buses->len; i++) {
        SCSIBus *bus = g_ptr_array_index(buses, i);
        if (!name || !strcmp(bus->name, name)) {
            return bus;
        }
    }
    return NULL;
}

SCSIDevice *scsi_device_find(SCSIBus *bus, unsigned target, unsigned lun)
{
    for (guint i = 0; i < bus->devices->len; i++) {
        SCSIDevice *dev = g_ptr_array_index(bus->devices, i);
        if (dev->scsi_id == target && dev->lun == lun) {
            return dev;
        }
    }
    return NULL;
}

bool scsi_target_exists(SCSIBus *bus, unsigned target)
{
    for (guint i = 0; i < bus->devices->len; i++) {
        if (((SCSIDevice *)g_ptr_array_index(bus->devices, i))->scsi_id ==
            target) {
            return true;
        }
    }
    return false;
}

/*
 * The LUN inventory of dev's target changed: its other LUNs say so to
 * their next command (SPC-4 6.33), unless something more important (a
 * power-on reset) is already waiting.
 */
static void luns_changed(SCSIDevice *dev)
{
    for (guint i = 0; i < dev->bus->devices->len; i++) {
        SCSIDevice *other = g_ptr_array_index(dev->bus->devices, i);
        if (other != dev && other->scsi_id == dev->scsi_id &&
            !other->unit_attention.key) {
            other->unit_attention = SENSE_LUNS_CHANGED;
        }
    }
}

bool scsi_device_attach(SCSIDevice *dev, Error **errp)
{
    SCSIBus *bus = scsi_bus_find(dev->bus_name);

    if (!bus && dev->bus_name) {
        return error_fail(errp, "SCSI bus '%s' not found", dev->bus_name);
    }
    if (!bus) {
        return error_fail(errp, "no SCSI bus: add a SCSI controller first "
                          "(-device virtio-scsi)");
    }
    if (dev->channel) {
        return error_fail(errp, "bad scsi channel id: %u (only 0)",
                          dev->channel);
    }
    if (dev->lun > bus->max_lun) {
        return error_fail(errp, "bad scsi device lun: %u (at most %u)",
                          dev->lun, bus->max_lun);
    }
    if (dev->scsi_id == SCSI_ID_AUTO) {
        for (unsigned t = 0; t <= bus->max_target; t++) {
            if (!scsi_device_find(bus, t, dev->lun)) {
                dev->scsi_id = t;
                break;
            }
        }
        if (dev->scsi_id == SCSI_ID_AUTO) {
            return error_fail(errp, "no free target on SCSI bus %s",
                              bus->name);
        }
    } else if (dev->scsi_id > bus->max_target) {
        return error_fail(errp, "bad scsi device id: %u (at most %u)",
                          dev->scsi_id, bus->max_target);
    } else if (scsi_device_find(bus, dev->scsi_id, dev->lun)) {
        return error_fail(errp, "SCSI ID %u LUN %u on bus %s is already in "
                          "use", dev->scsi_id, dev->lun, bus->name);
    }
    dev->bus = bus;
    g_ptr_array_add(bus->devices, dev);
    if (dev->parent_obj.hotplugged) {
        luns_changed(dev);
        if (bus->ops && bus->ops->hotplugged) {
            bus->ops->hotplugged(bus, dev);
        }
    }
    return true;
}

void scsi_device_detach(SCSIDevice *dev)
{
    SCSIBus *bus = dev->bus;

    if (bus->ops && bus->ops->hot_unplugged) {
        bus->ops->hot_unplugged(bus, dev);
    }
    g_ptr_array_remove(bus->devices, dev);
    luns_changed(dev);
    dev->bus = NULL;
}

void scsi_device_reset(SCSIDevice *dev)
{
    dev->unit_attention = SENSE_POWER_ON_RESET;
    dev->sense = SENSE_NONE;
}

/* ---- request completion ---- */

void scsi_req_ok(SCSIRequest *req)
{
    req->status = SCSI_GOOD;
    req->complete(req);
}

void scsi_req_fail(SCSIRequest *req, SCSISense sense)
{
    req->status = SCSI_CHECK_CONDITION;
    req->sense = sense;
    req->xfer = 0;
    if (req->dev) {
        req->dev->sense = sense;        /* for a later REQUEST SENSE */
    }
    req->complete(req);
}

void scsi_req_overrun(SCSIRequest *req)
{
    req->overrun = true;
    req->xfer = 0;
    req->complete(req);
}

void scsi_req_reply(SCSIRequest *req, const void *buf, size_t len,
                    size_t alloc)
{
    len = MIN(len, alloc);
    if (req->to_dev) {
        len = 0;                        /* no data-in buffer */
    }
    req->xfer = iov_from_buf(req->iov, req->niov, 0, buf, MIN(len, req->size));
    scsi_req_ok(req);
}

void scsi_build_sense(uint8_t *buf, SCSISense sense)
{
    memset(buf, 0, SCSI_SENSE_FIXED_LEN);
    buf[0] = 0x70;                      /* current error, fixed format */
    buf[2] = sense.key;
    buf[7] = SCSI_SENSE_FIXED_LEN - 8;
    buf[12] = sense.asc;
    buf[13] = sense.ascq;
}

/* ---- what the target answers ---- */

static void report_luns(SCSIRequest *req)
{
    uint32_t alloc = ld_be32(req->cdb + 6);
    GByteArray *out = g_byte_array_new();
    uint8_t entry[8] = { 0 };

    if (req->cdb[2] > 2 || alloc < 16) {    /* SELECT REPORT, SPC-4 6.33 */
        g_byte_array_free(out, true);
        scsi_req_fail(req, SENSE_INVALID_FIELD);
        return;
    }
    g_byte_array_set_size(out, 8);
    memset(out->data, 0, 8);
    for (guint i = 0; i < req->bus->devices->len; i++) {
        SCSIDevice *dev = g_ptr_array_index(req->bus->devices, i);
        if (dev->scsi_id != req->target) {
            continue;
        }
        /* Peripheral addressing below 256, flat space above (SAM-5 4.7). */
        entry[0] = dev->lun < 256 ? 0 : 0x40 | dev->lun >> 8;
        entry[1] = dev->lun;
        g_byte_array_append(out, entry, sizeof(entry));
    }
    st_be32(out->data, out->len - 8);
    scsi_req_reply(req, out->data, out->len, alloc);
    g_byte_array_free(out, true);
}

static void request_sense(SCSIRequest *req, SCSISense sense)
{
    uint8_t buf[SCSI_SENSE_FIXED_LEN];
    size_t len = SCSI_SENSE_FIXED_LEN;

    if (req->cdb[1] & 1) {              /* descriptor format */
        memset(buf, 0, 8);
        buf[0] = 0x72;
        buf[1] = sense.key;
        buf[2] = sense.asc;
        buf[3] = sense.ascq;
        len = 8;
    } else {
        scsi_build_sense(buf, sense);
    }
    scsi_req_reply(req, buf, len, req->cdb[4]);
}

/* A LUN that is not there, on a target that is (SPC-4 6.6.4). */
static void missing_lun(SCSIRequest *req)
{
    uint8_t buf[36] = { 0 };

    switch (req->cdb[0]) {
    case SCSI_OP_INQUIRY:
        if (req->cdb[1] & 3) {
            scsi_req_fail(req, SENSE_LUN_NOT_SUPPORTED);
            return;
        }
        buf[0] = 0x7f;              /* qualifier 3: no unit; type unknown */
        buf[2] = 5;
        buf[3] = 0x12;
        buf[4] = sizeof(buf) - 5;
        scsi_req_reply(req, buf, sizeof(buf), ld_be16(req->cdb + 3));
        return;
    case SCSI_OP_REQUEST_SENSE:
        request_sense(req, SENSE_LUN_NOT_SUPPORTED);
        return;
    default:
        scsi_req_fail(req, SENSE_LUN_NOT_SUPPORTED);
        return;
    }
}

void scsi_req_execute(SCSIRequest *req)
{
    uint8_t op = req->cdb[0];
    SCSIDevice *dev;

    req->status = SCSI_GOOD;
    req->sense = SENSE_NONE;
    req->xfer = 0;
    req->overrun = false;
    req->dev = dev = scsi_device_find(req->bus, req->target, req->lun);
    if (op == SCSI_OP_REPORT_LUNS) {
        report_luns(req);
        return;
    }
    if (!dev) {
        missing_lun(req);
        return;
    }
    if (op == SCSI_OP_REQUEST_SENSE) {
        SCSISense sense = dev->unit_attention.key ? dev->unit_attention
                                                  : dev->sense;
        dev->unit_attention = dev->sense = SENSE_NONE;
        request_sense(req, sense);
        return;
    }
    dev->sense = SENSE_NONE;
    /* A unit attention ends the next command except INQUIRY (SAM-5 5.14). */
    if (dev->unit_attention.key && op != SCSI_OP_INQUIRY) {
        SCSISense ua = dev->unit_attention;
        dev->unit_attention = SENSE_NONE;
        scsi_req_fail(req, ua);
        return;
    }
    dev->execute(dev, req);
}
