/*
 * virtio-scsi-pci (alias virtio-scsi): a SCSI host adapter on virtio
 * (virtio 1.1, 5.6).  Queue 0 takes task management and asynchronous
 * notification requests, queue 1 holds event buffers (hotplug events,
 * VIRTIO_SCSI_F_HOTPLUG), queues 2.. take commands.  A command's LUN
 * names target lun[1] and LUN lun[2..3] on the one SCSI bus ("ID.0" for
 * -device virtio-scsi,id=ID, else "scsi.N"); the command runs on that
 * unit and its response carries the status and the sense data.  All of it
 * runs in the main loop, iothread= or not.
 */
#include "hw/virtio/virtio-pci.h"
#include "hw/scsi/scsi.h"
#include "block/block_int.h"            /* iov helpers */
#include "system/objects.h"

#define VIRTIO_ID_SCSI          8
#define VQ_CTRL                 0
#define VQ_EVENT                1
#define VQ_REQUEST              2

#define CONFIG_SIZE             36
#define EVENT_INFO_SIZE         16
#define DEFAULT_SENSE_SIZE      96
#define DEFAULT_CDB_SIZE        32
#define MAX_SENSE_CDB_SIZE      256
#define MAX_TARGET              255
#define MAX_LUN                 16383

/* Device features. */
#define VIRTIO_SCSI_F_HOTPLUG   1

/* Events (struct virtio_scsi_event: event, lun[8], reason). */
#define T_NO_EVENT              0
#define T_TRANSPORT_RESET       1
#define T_EVENTS_MISSED         0x80000000u
#define EVT_RESET_RESCAN        1
#define EVT_RESET_REMOVED       2

/* struct virtio_scsi_req_cmd: lun[8], tag, task_attr, prio, crn, cdb */
#define CMD_REQ_HDR             19
/* struct virtio_scsi_resp_cmd: sense_len, resid, status_qualifier,
 * status, response, sense */
#define CMD_RESP_HDR            12

/* Response codes. */
#define S_OK                    0
#define S_OVERRUN               1
#define S_BAD_TARGET            3
#define S_FAILURE               9
#define S_FUNCTION_REJECTED     11
#define S_INCORRECT_LUN         12
#define S_FUNCTION_COMPLETE     0

/* Control requests and task management functions. */
#define T_TMF                   0
#define T_AN_QUERY              1
#define T_AN_SUBSCRIBE          2
#define TMF_ABORT_TASK          0
#define TMF_ABORT_TASK_SET      1
#define TMF_CLEAR_TASK_SET      3
#define TMF_I_T_NEXUS_RESET     4
#define TMF_LOGICAL_UNIT_RESET  5
#define TMF_QUERY_TASK          6
#define TMF_QUERY_TASK_SET      7

typedef struct VirtIOSCSI {
    VirtIOPCIProxy parent_obj;
    SCSIBus bus;
    uint32_t num_queues, virtqueue_size, max_sectors, cmd_per_lun;
    char *iothread;                     /* accepted; the work stays here */
    uint32_t sense_size, cdb_size;      /* the driver may change them */
    bool events_dropped;                /* an event found no buffer */
    unsigned generation;                /* a reset drops requests in flight */
} VirtIOSCSI;

typedef struct VirtIOSCSIReq {
    VirtIOSCSI *s;
    unsigned queue, generation;
    size_t resp_len;
    VirtQueueElement elem;
    struct iovec *data;                 /* the data part of the buffers */
    SCSIRequest sreq;
} VirtIOSCSIReq;

static VirtIOSCSI *scsi_of(VirtIODevice *vdev)
{
    return container_of(vdev, VirtIOSCSI, parent_obj.vdev);
}

/* Let commands in flight on these units finish (their responses go out). */
static void drain(VirtIOSCSI *s, int target)
{
    for (guint i = 0; i < s->bus.devices->len; i++) {
        SCSIDevice *dev = g_ptr_array_index(s->bus.devices, i);
        if (target < 0 || dev->scsi_id == (unsigned)target) {
            blk_drain(dev->blk);
        }
    }
}

/* ---- commands ---- */

static void cmd_respond(VirtIOSCSIReq *r, uint8_t response)
{
    VirtIOSCSI *s = r->s;
    VirtIODevice *vdev = &s->parent_obj.vdev;
    SCSIRequest *sreq = &r->sreq;
    uint8_t resp[CMD_RESP_HDR + SCSI_SENSE_FIXED_LEN] = { 0 };
    uint32_t sense_len = 0;

    if (r->generation == s->generation) {
        if (response == S_OK && sreq->overrun) {
            response = S_OVERRUN;
        }
        if (response == S_OK && sreq->status == SCSI_CHECK_CONDITION) {
            /* What the buffer checked at the start holds. */
            sense_len = MIN(SCSI_SENSE_FIXED_LEN, r->resp_len - CMD_RESP_HDR);
            scsi_build_sense(resp + CMD_RESP_HDR, sreq->sense);
        }
        stl_le(resp, sense_len);
        stl_le(resp + 4, sreq->size - sreq->xfer);  /* residual */
        resp[10] = response == S_OK ? sreq->status : 0;
        resp[11] = response;
        iov_from_buf(r->elem.in_sg, r->elem.in_num, 0, resp,
                     CMD_RESP_HDR + sense_len);
        virtqueue_push(vdev, &vdev->vq[r->queue], &r->elem,
                       r->resp_len + (sreq->to_dev ? 0 : sreq->xfer));
        virtio_notify(vdev, &vdev->vq[r->queue]);
    } else {
        virtqueue_element_free(&r->elem);   /* the device was reset */
    }
    g_free(r->data);
    g_free(r);
}

static void cmd_complete(SCSIRequest *sreq)
{
    cmd_respond(container_of(sreq, VirtIOSCSIReq, sreq), S_OK);
}

static void handle_cmd(VirtIOSCSI *s, unsigned queue, VirtQueueElement *elem)
{
    VirtIODevice *vdev = &s->parent_obj.vdev;
    size_t req_len = CMD_REQ_HDR + s->cdb_size;
    size_t resp_len = CMD_RESP_HDR + s->sense_size;
    uint8_t hdr[CMD_REQ_HDR + SCSI_CDB_MAX] = { 0 };

    if (elem->out_len < req_len || elem->in_len < resp_len) {
        virtio_error(vdev, "command buffers of %zu and %zu bytes cannot "
                     "hold the %zu- and %zu-byte headers", elem->out_len,
                     elem->in_len, req_len, resp_len);
        virtqueue_element_free(elem);
        return;
    }
    iov_to_buf(elem->out_sg, elem->out_num, 0, hdr, MIN(req_len, sizeof(hdr)));

    VirtIOSCSIReq *r = g_new(VirtIOSCSIReq, 1);
    SCSIRequest *sreq = &r->sreq;
    bool to_dev = elem->out_len > req_len;
    *r = (VirtIOSCSIReq) {
        .s = s, .queue = queue, .generation = s->generation,
        .resp_len = resp_len, .elem = *elem,
    };
    r->data = g_new(struct iovec, MAX(elem->out_num, elem->in_num) + 1);
    *sreq = (SCSIRequest) {
        .bus = &s->bus, .target = hdr[1], .lun = ld_be16(hdr + 2) & 0x3fff,
        .iov = r->data, .to_dev = to_dev, .complete = cmd_complete,
        .size = to_dev ? elem->out_len - req_len : elem->in_len - resp_len,
    };
    sreq->niov = to_dev ?
        iov_slice(r->data, elem->out_sg, elem->out_num, req_len, SIZE_MAX) :
        iov_slice(r->data, elem->in_sg, elem->in_num, resp_len, SIZE_MAX);
    memcpy(sreq->cdb, hdr + CMD_REQ_HDR, SCSI_CDB_MAX);

    if (hdr[0] != 1 || !scsi_target_exists(&s->bus, hdr[1])) {
        cmd_respond(r, S_BAD_TARGET);
    } else if (to_dev && elem->in_len > resp_len) {
        cmd_respond(r, S_FAILURE);      /* bidirectional: INOUT not offered */
    } else {
        scsi_req_execute(sreq);
    }
}

/* ---- control queue ---- */

static uint8_t handle_tmf(VirtIOSCSI *s, uint32_t subtype, const uint8_t *lun)
{
    SCSIDevice *dev;

    if (lun[0] != 1 || !scsi_target_exists(&s->bus, lun[1])) {
        return S_BAD_TARGET;
    }
    dev = scsi_device_find(&s->bus, lun[1], ld_be16(lun + 2) & 0x3fff);
    switch (subtype) {
    case TMF_ABORT_TASK:
    case TMF_ABORT_TASK_SET:
    case TMF_CLEAR_TASK_SET:
    case TMF_QUERY_TASK:
    case TMF_QUERY_TASK_SET:
        /* Nothing waits in a task set here: once the commands in flight
         * are done, none is left to abort or to find. */
        if (!dev) {
            return S_INCORRECT_LUN;
        }
        blk_drain(dev->blk);
        return S_FUNCTION_COMPLETE;
    case TMF_LOGICAL_UNIT_RESET:
        if (!dev) {
            return S_INCORRECT_LUN;
        }
        blk_drain(dev->blk);
        dev->parent_obj.klass->reset(&dev->parent_obj);
        return S_FUNCTION_COMPLETE;
    case TMF_I_T_NEXUS_RESET:
        drain(s, lun[1]);
        for (guint i = 0; i < s->bus.devices->len; i++) {
            dev = g_ptr_array_index(s->bus.devices, i);
            if (dev->scsi_id == lun[1]) {
                dev->parent_obj.klass->reset(&dev->parent_obj);
            }
        }
        return S_FUNCTION_COMPLETE;
    default:                            /* CLEAR ACA: there is no ACA */
        return S_FUNCTION_REJECTED;
    }
}

static void handle_ctrl(VirtIOSCSI *s, VirtQueueElement *elem)
{
    VirtIODevice *vdev = &s->parent_obj.vdev;
    uint8_t req[24] = { 0 }, resp[5] = { 0 };
    size_t need_out = 24, need_in = 1;

    iov_to_buf(elem->out_sg, elem->out_num, 0, req, sizeof(req));
    uint32_t type = ldl_le(req);
    if (type == T_AN_QUERY || type == T_AN_SUBSCRIBE) {
        need_out = 16;                  /* type, lun[8], event_requested */
        need_in = 5;                    /* event_actual, response */
    } else if (type != T_TMF) {
        virtio_error(vdev, "control request of unknown type %u", type);
        virtqueue_element_free(elem);
        return;
    }
    if (elem->out_len < need_out || elem->in_len < need_in) {
        virtio_error(vdev, "control request type %u in buffers of %zu and "
                     "%zu bytes, too short", type, elem->out_len,
                     elem->in_len);
        virtqueue_element_free(elem);
        return;
    }
    if (type == T_TMF) {
        resp[0] = handle_tmf(s, ldl_le(req + 4), req + 8);
    } else {
        resp[4] = S_OK;                 /* no events: event_actual 0 */
    }
    iov_from_buf(elem->in_sg, elem->in_num, 0, resp, need_in);
    virtqueue_push(vdev, &vdev->vq[VQ_CTRL], elem, need_in);
    virtio_notify(vdev, &vdev->vq[VQ_CTRL]);
}

/* ---- event queue (virtio 1.1, 5.6.6.3) ---- */

/*
 * Report an event in the next event buffer.  Without one, the event is
 * lost and the next one carries VIRTIO_SCSI_T_EVENTS_MISSED, so the driver
 * rescans; a driver that did not take VIRTIO_SCSI_F_HOTPLUG hears nothing.
 */
static void send_event(VirtIOSCSI *s, uint32_t event, SCSIDevice *dev,
                       uint32_t reason)
{
    VirtIODevice *vdev = &s->parent_obj.vdev;
    VirtQueueElement elem;
    uint8_t evt[EVENT_INFO_SIZE] = { 0 };

    if (!(vdev->guest_features & (1ULL << VIRTIO_SCSI_F_HOTPLUG)) ||
        !virtio_queue_usable(vdev, VQ_EVENT)) {
        return;
    }
    int got = virtqueue_pop(vdev, &vdev->vq[VQ_EVENT], &elem);
    if (got <= 0) {
        s->events_dropped |= got == 0;
        return;
    }
    if (elem.out_len || elem.in_len < EVENT_INFO_SIZE) {
        virtio_error(vdev, "event buffer with %zu readable and %zu "
                     "writable bytes (%u writable needed)", elem.out_len,
                     elem.in_len, EVENT_INFO_SIZE);
        virtqueue_element_free(&elem);
        return;
    }
    if (s->events_dropped) {
        event |= T_EVENTS_MISSED;
        s->events_dropped = false;
    }
    stl_le(evt, event);
    if (dev) {
        evt[4] = 1;
        evt[5] = dev->scsi_id;
        st_be16(evt + 6, 0x4000 | dev->lun);    /* flat LUN */
    }
    stl_le(evt + 12, reason);
    iov_from_buf(elem.in_sg, elem.in_num, 0, evt, sizeof(evt));
    virtqueue_push(vdev, &vdev->vq[VQ_EVENT], &elem, sizeof(evt));
    virtio_notify(vdev, &vdev->vq[VQ_EVENT]);
}

/* The driver gave event buffers: report the events that found none. */
static void handle_event_queue(VirtIOSCSI *s)
{
    if (s->events_dropped) {
        send_event(s, T_NO_EVENT, NULL, 0);
    }
}

/* A unit came or goes: the driver rescans that LUN (or drops it). */
static void virtio_scsi_hotplugged(SCSIBus *bus, SCSIDevice *dev)
{
    send_event(container_of(bus, VirtIOSCSI, bus), T_TRANSPORT_RESET, dev,
               EVT_RESET_RESCAN);
}

static void virtio_scsi_hot_unplugged(SCSIBus *bus, SCSIDevice *dev)
{
    send_event(container_of(bus, VirtIOSCSI, bus), T_TRANSPORT_RESET, dev,
               EVT_RESET_REMOVED);
}

static const SCSIBusOps virtio_scsi_bus_ops = {
    .hotplugged = virtio_scsi_hotplugged,
    .hot_unplugged = virtio_scsi_hot_unplugged,
};

static void virtio_scsi_handle_queue(VirtIODevice *vdev, unsigned n)
{
    VirtIOSCSI *s = scsi_of(vdev);
    VirtQueueElement elem;

    if (n == VQ_EVENT) {
        handle_event_queue(s);          /* buffers wait for events */
        return;
    }
    while (virtqueue_pop(vdev, &vdev->vq[n], &elem) == 1) {
        if (n == VQ_CTRL) {
            handle_ctrl(s, &elem);
        } else {
            handle_cmd(s, n, &elem);
        }
    }
}

/* ---- configuration, reset, realize ---- */

static void virtio_scsi_get_config(VirtIODevice *vdev, uint8_t *cfg)
{
    VirtIOSCSI *s = scsi_of(vdev);

    stl_le(cfg + 0, s->num_queues);
    stl_le(cfg + 4, s->virtqueue_size - 2);         /* seg_max */
    stl_le(cfg + 8, s->max_sectors);
    stl_le(cfg + 12, s->cmd_per_lun);
    stl_le(cfg + 16, EVENT_INFO_SIZE);
    stl_le(cfg + 20, s->sense_size);
    stl_le(cfg + 24, s->cdb_size);
    stw_le(cfg + 28, 0);                            /* max_channel */
    stw_le(cfg + 30, MAX_TARGET);
    stl_le(cfg + 32, MAX_LUN);
}

static void virtio_scsi_set_config(VirtIODevice *vdev, const uint8_t *cfg)
{
    VirtIOSCSI *s = scsi_of(vdev);
    uint32_t sense_size = ldl_le(cfg + 20), cdb_size = ldl_le(cfg + 24);

    if (sense_size > MAX_SENSE_CDB_SIZE || cdb_size > MAX_SENSE_CDB_SIZE) {
        log_guest_error("virtio-scsi: sense_size %u / cdb_size %u refused "
                        "(at most %u)", sense_size, cdb_size,
                        MAX_SENSE_CDB_SIZE);
        return;
    }
    s->sense_size = sense_size;
    s->cdb_size = cdb_size;
}

static void virtio_scsi_reset(VirtIODevice *vdev)
{
    VirtIOSCSI *s = scsi_of(vdev);

    s->generation++;
    drain(s, -1);                       /* no DMA after the reset */
    s->sense_size = DEFAULT_SENSE_SIZE;
    s->cdb_size = DEFAULT_CDB_SIZE;
    s->events_dropped = false;
}

static const VirtIODeviceOps virtio_scsi_ops = {
    .device_id = VIRTIO_ID_SCSI,
    .features = 1ULL << VIRTIO_SCSI_F_HOTPLUG,
    .config_size = CONFIG_SIZE,
    .get_config = virtio_scsi_get_config,
    .set_config = virtio_scsi_set_config,
    .handle_queue = virtio_scsi_handle_queue,
    .reset = virtio_scsi_reset,
};

static bool virtio_scsi_realize(PCIDevice *dev, Error **errp)
{
    VirtIOSCSI *s = (VirtIOSCSI *)dev;
    static unsigned anonymous_buses;
    g_autofree char *name = NULL;

    if (!s->num_queues || s->num_queues > VIRTIO_QUEUE_MAX - VQ_REQUEST) {
        return error_fail(errp, "num_queues must be 1 to %u",
                          VIRTIO_QUEUE_MAX - VQ_REQUEST);
    }
    if (s->virtqueue_size < 4 || s->virtqueue_size > VIRTQ_MAX_SIZE ||
        (s->virtqueue_size & (s->virtqueue_size - 1))) {
        return error_fail(errp, "virtqueue_size must be a power of two "
                          "from 4 to %u", VIRTQ_MAX_SIZE);
    }
    if (s->iothread) {
        UserObject *io = user_object_find(s->iothread);
        if (!io) {
            return error_fail(errp, "Property 'virtio-scsi-pci.iothread' "
                              "can't find value '%s'", s->iothread);
        }
        if (strcmp(io->klass->name, "iothread")) {
            return error_fail(errp, "Property 'virtio-scsi-pci.iothread': "
                              "'%s' is a %s, not an iothread", s->iothread,
                              io->klass->name);
        }
        io->in_use = true;              /* object-del refuses it now */
    }
    name = dev->parent_obj.id ? g_strdup_printf("%s.0", dev->parent_obj.id)
                              : g_strdup_printf("scsi.%u", anonymous_buses++);
    scsi_bus_init(&s->bus, name, MAX_TARGET, MAX_LUN, &virtio_scsi_bus_ops);
    return virtio_pci_realize(&s->parent_obj, &virtio_scsi_ops,
                              VQ_REQUEST + s->num_queues, s->virtqueue_size,
                              errp);
}

static void virtio_scsi_pci_reset(PCIDevice *dev)
{
    virtio_pci_reset((VirtIOPCIProxy *)dev);
}

/* Commands in flight finish before the state is taken. */
static int virtio_scsi_pre_save(void *opaque)
{
    VirtIOSCSI *s = opaque;

    drain(s, -1);
    virtio_pre_save(&s->parent_obj.vdev);
    return 0;
}

static const VMStateDescription vmstate_virtio_scsi = {
    .name = "virtio-scsi",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = virtio_scsi_pre_save,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(parent_obj.parent_obj, VirtIOSCSI, vmstate_pci_device,
                       PCIDevice),
        VMSTATE_STRUCT(parent_obj.vdev, VirtIOSCSI, vmstate_virtio_device,
                       VirtIODevice),
        VMSTATE_FIELD_MAX(sense_size, VirtIOSCSI, VMS_UINT32,
                          MAX_SENSE_CDB_SIZE),
        VMSTATE_FIELD_MAX(cdb_size, VirtIOSCSI, VMS_UINT32,
                          MAX_SENSE_CDB_SIZE),
        VMSTATE_BOOL(events_dropped, VirtIOSCSI),
        VMSTATE_END_OF_LIST()
    },
};

static const Property virtio_scsi_props[] = {
    DEFINE_PROP_UINT32("num_queues", VirtIOSCSI, num_queues, 1),
    DEFINE_PROP_UINT32("virtqueue_size", VirtIOSCSI, virtqueue_size, 256),
    DEFINE_PROP_UINT32("max_sectors", VirtIOSCSI, max_sectors, 0xffff),
    DEFINE_PROP_UINT32("cmd_per_lun", VirtIOSCSI, cmd_per_lun, 128),
    DEFINE_PROP_STRING("iothread", VirtIOSCSI, iothread),
    DEFINE_PROP_END_OF_LIST(),
};

static PCIDeviceClass virtio_scsi_class = {
    .parent_class = {
        .name = "virtio-scsi-pci",
        .alias = "virtio-scsi",
        .desc = "virtio SCSI host adapter",
        .instance_size = sizeof(VirtIOSCSI),
        .props = virtio_scsi_props,
        .user_creatable = true,
        .vmsd = &vmstate_virtio_scsi,
    },
    .vendor_id = VIRTIO_PCI_VENDOR_ID,
    .device_id = VIRTIO_PCI_DEVICE_ID_SCSI,
    .class_id = 0x0100,                 /* SCSI storage controller */
    .subsystem_vendor_id = VIRTIO_PCI_VENDOR_ID,
    .subsystem_id = VIRTIO_ID_SCSI,
    .header_type = PCI_HEADER_TYPE_NORMAL,
    .interrupt_pin = 1,
    .pci_realize = virtio_scsi_realize,
    .pci_reset = virtio_scsi_pci_reset,
    .config_read = virtio_pci_config_read,
    .config_write = virtio_pci_config_write,
};
PCI_DEVICE_REGISTER(virtio_scsi_class)
