/*
 * Virtio devices (OASIS virtio 1.1) on the PCI transport: the state every
 * virtio device shares (status, features, interrupt status, split
 * virtqueues) and the virtqueue API device models use.
 *
 * A device type embeds a VirtIOPCIProxy first (a PCI device with the
 * legacy I/O BAR and the modern capability BAR, hw/virtio/virtio-pci.c)
 * and gives VirtIODeviceOps: its virtio type, features, config space and
 * queue handler.  The handler takes requests with virtqueue_pop(), whose
 * buffers are iovecs straight into guest RAM, and gives each back with
 * virtqueue_push() + virtio_notify().  A malformed ring or descriptor
 * chain puts the device in DEVICE_NEEDS_RESET (virtio_error()): it then
 * ignores its queues until the driver resets it.
 */
#ifndef HW_VIRTIO_VIRTIO_H
#define HW_VIRTIO_VIRTIO_H

#include "hw/pci/pci.h"
#include <sys/uio.h>

#define VIRTIO_PCI_VENDOR_ID            0x1af4

/* Device status (2.1). */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE     0x01
#define VIRTIO_CONFIG_S_DRIVER          0x02
#define VIRTIO_CONFIG_S_DRIVER_OK       0x04
#define VIRTIO_CONFIG_S_FEATURES_OK     0x08
#define VIRTIO_CONFIG_S_NEEDS_RESET     0x40
#define VIRTIO_CONFIG_S_FAILED          0x80

/* Feature bits the transport owns. */
#define VIRTIO_F_VERSION_1              32

/* Interrupt status: a used buffer, a config change. */
#define VIRTIO_ISR_QUEUE                0x01
#define VIRTIO_ISR_CONFIG               0x02

/* Split virtqueue layout (2.6). */
#define VRING_DESC_F_NEXT               1
#define VRING_DESC_F_WRITE              2
#define VRING_DESC_F_INDIRECT           4
#define VRING_AVAIL_F_NO_INTERRUPT      1
#define VIRTQ_MAX_SIZE                  1024

#define VIRTIO_QUEUE_MAX                64

typedef struct VirtQueue {
    uint16_t num;               /* size, a power of two; 0: no such queue */
    uint16_t num_max;           /* what the device offers (not state) */
    bool ready;                 /* modern queue_enable, or a legacy PFN */
    uint64_t desc, avail, used; /* guest-physical ring addresses */
    uint16_t last_avail_idx;    /* next available entry to take */
    uint16_t used_idx;          /* next used entry to fill */
} VirtQueue;

/* One descriptor chain: device-readable buffers first, then writable. */
typedef struct VirtQueueElement {
    uint16_t head;
    unsigned out_num, in_num;
    struct iovec *out_sg, *in_sg;       /* one allocation, out_sg first */
    size_t out_len, in_len;
} VirtQueueElement;

typedef struct VirtIODevice VirtIODevice;

typedef struct VirtIODeviceOps {
    uint16_t device_id;         /* virtio device type, 8 = SCSI host */
    uint64_t features;          /* offered; VERSION_1 is added */
    unsigned config_size;
    void (*get_config)(VirtIODevice *vdev, uint8_t *config);
    /* After a driver write into the config bytes (any width). */
    void (*set_config)(VirtIODevice *vdev, const uint8_t *config);
    /* The driver notified queue n (only while DRIVER_OK). */
    void (*handle_queue)(VirtIODevice *vdev, unsigned n);
    /* Device reset by the driver or the machine: forget requests. */
    void (*reset)(VirtIODevice *vdev);
} VirtIODeviceOps;

struct VirtIODevice {
    const VirtIODeviceOps *ops;
    PCIDevice *pci;             /* the transport: DMA and INTx */
    unsigned num_queues;
    uint8_t status;
    uint8_t isr;
    uint8_t config_generation;
    uint64_t guest_features;
    uint16_t queue_sel;
    uint32_t device_feature_sel, driver_feature_sel;
    VirtQueue vq[VIRTIO_QUEUE_MAX];
};

void virtio_init(VirtIODevice *vdev, PCIDevice *pci,
                 const VirtIODeviceOps *ops, unsigned num_queues,
                 uint16_t queue_size);
void virtio_reset(VirtIODevice *vdev);
uint64_t virtio_host_features(VirtIODevice *vdev);
void virtio_set_status(VirtIODevice *vdev, uint8_t val);
/* Reading the ISR clears it and drops INTx. */
uint8_t virtio_read_isr(VirtIODevice *vdev);
/* A driver kick of queue n. */
void virtio_queue_notify(VirtIODevice *vdev, unsigned n);
/* Whether the device may use queue n on its own now (events): the driver
 * is ready, the queue enabled, bus mastering on, the device not broken. */
bool virtio_queue_usable(VirtIODevice *vdev, unsigned n);
/* Queue size from the driver: a power of two up to num_max. */
bool virtio_queue_set_num(VirtIODevice *vdev, unsigned n, unsigned num);
/* A device error: log it, set DEVICE_NEEDS_RESET, stop the queues. */
void virtio_error(VirtIODevice *vdev, const char *fmt, ...) PRINTF_FMT(2, 3);
bool virtio_broken(VirtIODevice *vdev);

/*
 * The next available chain: 1 with elem filled in (free it with
 * virtqueue_push or virtqueue_element_free), 0 if none, -1 on a malformed
 * ring or chain (the device is then broken).
 */
int virtqueue_pop(VirtIODevice *vdev, VirtQueue *vq, VirtQueueElement *elem);
/* Return elem to the driver with len bytes written; frees its buffers. */
void virtqueue_push(VirtIODevice *vdev, VirtQueue *vq, VirtQueueElement *elem,
                    uint32_t len);
void virtqueue_element_free(VirtQueueElement *elem);
/* Interrupt the driver for vq unless it asked not to be. */
void virtio_notify(VirtIODevice *vdev, VirtQueue *vq);

/* Embed with VMSTATE_STRUCT(field, State, vmstate_virtio_device, ...). */
extern const VMStateDescription vmstate_virtio_device;
/* Make a random in-memory state a valid one (a no-op when running). */
void virtio_pre_save(VirtIODevice *vdev);

#endif
