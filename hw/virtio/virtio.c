/*
 * Virtio device core: status and feature negotiation, the interrupt
 * status, and split virtqueues (virtio 1.1, 2.6) read from guest memory.
 * Descriptor chains become iovecs pointing straight into guest RAM; every
 * index, address and length the driver gives is checked, and a ring or
 * chain that breaks the rules (a loop, an index past the queue, memory
 * that is not RAM, indirect descriptors, which are not offered) puts the
 * device in DEVICE_NEEDS_RESET instead of being followed.
 */
#include "hw/virtio/virtio.h"
#include <limits.h>

#define VRING_DESC_SIZE 16
#define VRING_USED_ELEM_SIZE 8
#define VIRTQ_MAX_IOV   IOV_MAX

static const char *virtio_name(VirtIODevice *vdev)
{
    return vdev->pci->parent_obj.klass->name;
}

static void virtio_update_irq(VirtIODevice *vdev)
{
    pci_set_irq(vdev->pci, vdev->isr != 0);
}

void virtio_error(VirtIODevice *vdev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    log_guest_error("%s: %s; the device needs a reset", virtio_name(vdev), msg);
    vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    if (vdev->guest_features & (1ULL << VIRTIO_F_VERSION_1)) {
        vdev->isr |= VIRTIO_ISR_CONFIG;     /* modern drivers look then */
        virtio_update_irq(vdev);
    }
}

bool virtio_broken(VirtIODevice *vdev)
{
    return vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET;
}

static bool ring_read(VirtIODevice *vdev, uint64_t addr, void *buf,
                      uint64_t len)
{
    if (!pci_dma_read(vdev->pci, addr, buf, len)) {
        virtio_error(vdev, "cannot read the ring at 0x%" PRIx64, addr);
        return false;
    }
    return true;
}

static bool ring_write(VirtIODevice *vdev, uint64_t addr, const void *buf,
                       uint64_t len)
{
    if (!pci_dma_write(vdev->pci, addr, buf, len)) {
        virtio_error(vdev, "cannot write the ring at 0x%" PRIx64, addr);
        return false;
    }
    return true;
}

void virtio_init(VirtIODevice *vdev, PCIDevice *pci,
                 const VirtIODeviceOps *ops, unsigned num_queues,
                 uint16_t queue_size)
{
    g_assert(num_queues <= VIRTIO_QUEUE_MAX);
    vdev->ops = ops;
    vdev->pci = pci;
    vdev->num_queues = num_queues;
    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
        vdev->vq[i].num_max = i < num_queues ? queue_size : 0;
    }
}

void virtio_reset(VirtIODevice *vdev)
{
    vdev->status = 0;
    vdev->isr = 0;
    vdev->guest_features = 0;
    vdev->queue_sel = 0;
    vdev->device_feature_sel = vdev->driver_feature_sel = 0;
    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
        VirtQueue *vq = &vdev->vq[i];
        *vq = (VirtQueue) { .num = vq->num_max, .num_max = vq->num_max };
    }
    virtio_update_irq(vdev);
    if (vdev->ops->reset) {
        vdev->ops->reset(vdev);
    }
}

uint64_t virtio_host_features(VirtIODevice *vdev)
{
    return vdev->ops->features | (1ULL << VIRTIO_F_VERSION_1);
}

void virtio_set_status(VirtIODevice *vdev, uint8_t val)
{
    uint8_t old = vdev->status;

    if (!val) {
        virtio_reset(vdev);
        return;
    }
    /* Features the device does not offer: FEATURES_OK does not stick. */
    if ((val & ~old & VIRTIO_CONFIG_S_FEATURES_OK) &&
        (vdev->guest_features & ~virtio_host_features(vdev))) {
        log_guest_error("%s: driver accepted features 0x%" PRIx64 " that "
                        "were not offered", virtio_name(vdev),
                        vdev->guest_features & ~virtio_host_features(vdev));
        val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
    }
    vdev->status = val | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
    if (val & ~old & VIRTIO_CONFIG_S_DRIVER_OK) {
        /* Buffers made available before DRIVER_OK (legacy drivers). */
        for (unsigned i = 0; i < vdev->num_queues; i++) {
            if (vdev->vq[i].ready) {
                virtio_queue_notify(vdev, i);
            }
        }
    }
}

uint8_t virtio_read_isr(VirtIODevice *vdev)
{
    uint8_t val = vdev->isr;

    vdev->isr = 0;
    virtio_update_irq(vdev);
    return val;
}

bool virtio_queue_set_num(VirtIODevice *vdev, unsigned n, unsigned num)
{
    if (n >= vdev->num_queues || vdev->vq[n].ready || !num ||
        num > vdev->vq[n].num_max || (num & (num - 1))) {
        log_guest_error("%s: queue %u size %u refused (a power of two up "
                        "to the offered size, set before the queue is "
                        "enabled)", virtio_name(vdev), n, num);
        return false;
    }
    vdev->vq[n].num = num;
    return true;
}

static bool bus_master(VirtIODevice *vdev)
{
    return pci_get_word(vdev->pci->config + PCI_COMMAND) & PCI_COMMAND_MASTER;
}

bool virtio_queue_usable(VirtIODevice *vdev, unsigned n)
{
    return n < vdev->num_queues &&
           (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
           !virtio_broken(vdev) && vdev->vq[n].ready && bus_master(vdev);
}

void virtio_queue_notify(VirtIODevice *vdev, unsigned n)
{
    if (n >= vdev->num_queues) {
        log_guest_error("%s: notify for queue %u, which does not exist",
                        virtio_name(vdev), n);
        return;
    }
    if (!(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) || virtio_broken(vdev) ||
        !vdev->vq[n].ready) {
        return;
    }
    if (!bus_master(vdev)) {
        log_guest_error("%s: notify with bus mastering off, ignored",
                        virtio_name(vdev));
        return;
    }
    vdev->ops->handle_queue(vdev, n);
}

typedef struct IovList {
    struct iovec *iov;
    unsigned n, cap;
} IovList;

/* Map [addr, addr + len) of guest RAM into iovecs appended to l. */
static bool map_buffer(VirtIODevice *vdev, uint64_t addr, uint32_t len,
                       bool write, IovList *l)
{
    while (len) {
        const FlatRange *r = address_space_lookup(&address_space_memory, addr);
        uint64_t chunk = r ? MIN(len, r->end - addr) : len;
        void *p = r ? address_space_map_ram(&address_space_memory, addr,
                                            chunk, write) : NULL;
        if (!p) {
            virtio_error(vdev, "buffer at 0x%" PRIx64 " (+%u) is not %sguest "
                         "RAM", addr, len, write ? "writable " : "");
            return false;
        }
        if (l->n == VIRTQ_MAX_IOV) {
            virtio_error(vdev, "descriptor chain with more than %d pieces",
                         VIRTQ_MAX_IOV);
            return false;
        }
        if (l->n == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 4;
            l->iov = g_renew(struct iovec, l->iov, l->cap);
        }
        l->iov[l->n++] = (struct iovec) { .iov_base = p, .iov_len = chunk };
        addr += chunk;
        len -= chunk;
    }
    return true;
}

int virtqueue_pop(VirtIODevice *vdev, VirtQueue *vq, VirtQueueElement *elem)
{
    uint8_t raw[2], desc[VRING_DESC_SIZE];
    IovList l = { 0 };
    unsigned out_num = 0, count = 0;
    size_t out_len = 0, in_len = 0;
    bool seen_write = false;

    if (virtio_broken(vdev) || !vq->ready || !vq->num) {
        return 0;
    }
    if (!ring_read(vdev, vq->avail + 2, raw, 2)) {
        return -1;
    }
    uint16_t pending = lduw_le(raw) - vq->last_avail_idx;
    if (!pending) {
        return 0;
    }
    if (pending > vq->num) {
        virtio_error(vdev, "available index is %u entries ahead of the "
                     "device in a queue of %u", pending, vq->num);
        return -1;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);    /* entries after the index */
    if (!ring_read(vdev, vq->avail + 4 + 2 * (vq->last_avail_idx % vq->num),
                   raw, 2)) {
        return -1;
    }
    unsigned head = lduw_le(raw), i = head;
    if (head >= vq->num) {
        virtio_error(vdev, "head descriptor %u is outside the queue of %u",
                     head, vq->num);
        return -1;
    }
    for (;;) {
        if (++count > vq->num) {
            virtio_error(vdev, "descriptor chain from %u loops or is longer "
                         "than the queue", head);
            goto fail;
        }
        if (!ring_read(vdev, vq->desc + (uint64_t)i * VRING_DESC_SIZE, desc,
                       sizeof(desc))) {
            goto fail;
        }
        uint64_t addr = ldq_le(desc);
        uint32_t len = ldl_le(desc + 8);
        uint16_t flags = lduw_le(desc + 12), next = lduw_le(desc + 14);
        bool write = flags & VRING_DESC_F_WRITE;

        if (flags & VRING_DESC_F_INDIRECT) {
            virtio_error(vdev, "indirect descriptor %u, a feature not "
                         "offered", i);
            goto fail;
        }
        if (!write && seen_write) {
            virtio_error(vdev, "readable descriptor %u after a writable one",
                         i);
            goto fail;
        }
        if (!map_buffer(vdev, addr, len, write, &l)) {
            goto fail;
        }
        if (write) {
            in_len += len;
            seen_write = true;
        } else {
            out_len += len;
            out_num = l.n;
        }
        if (!(flags & VRING_DESC_F_NEXT)) {
            break;
        }
        if (next >= vq->num) {
            virtio_error(vdev, "descriptor %u chains to %u, outside the "
                         "queue of %u", i, next, vq->num);
            goto fail;
        }
        i = next;
    }
    vq->last_avail_idx++;
    *elem = (VirtQueueElement) {
        .head = head, .out_num = out_num, .in_num = l.n - out_num,
        .out_sg = l.iov, .in_sg = l.iov ? l.iov + out_num : NULL,
        .out_len = out_len, .in_len = in_len,
    };
    return 1;
fail:
    g_free(l.iov);
    return -1;
}

void virtqueue_element_free(VirtQueueElement *elem)
{
    g_free(elem->out_sg);
    elem->out_sg = elem->in_sg = NULL;
}

void virtqueue_push(VirtIODevice *vdev, VirtQueue *vq, VirtQueueElement *elem,
                    uint32_t len)
{
    uint8_t used[VRING_USED_ELEM_SIZE], idx[2];

    virtqueue_element_free(elem);
    if (!vq->ready || !vq->num) {
        return;
    }
    stl_le(used, elem->head);
    stl_le(used + 4, len);
    if (!ring_write(vdev, vq->used + 4 +
                    VRING_USED_ELEM_SIZE * (vq->used_idx % vq->num),
                    used, sizeof(used))) {
        return;
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);    /* the entry, then the index */
    vq->used_idx++;
    stw_le(idx, vq->used_idx);
    ring_write(vdev, vq->used + 2, idx, 2);
}

void virtio_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    uint8_t flags[2];

    __atomic_thread_fence(__ATOMIC_SEQ_CST);    /* used index before flags */
    if (pci_dma_read(vdev->pci, vq->avail, flags, 2) &&
        (lduw_le(flags) & VRING_AVAIL_F_NO_INTERRUPT)) {
        return;
    }
    vdev->isr |= VIRTIO_ISR_QUEUE;
    virtio_update_irq(vdev);
}

/* ---- migration ---- */

void virtio_pre_save(VirtIODevice *vdev)
{
    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
        VirtQueue *vq = &vdev->vq[i];
        if (i >= vdev->num_queues) {
            *vq = (VirtQueue) { .num_max = vq->num_max };
        } else if (!vq->num || vq->num > vq->num_max ||
                   (vq->num & (vq->num - 1))) {
            vq->num = vq->num_max;
        }
    }
    vdev->pci->irq_level = vdev->isr != 0;
}

static int virtqueue_post_load(void *opaque, int version_id, Error **errp)
{
    VirtQueue *vq = opaque;

    if (vq->num > vq->num_max || (vq->num & (vq->num - 1)) ||
        (!vq->num && (vq->ready || vq->num_max))) {
        error_setg(errp, "virtqueue size %u does not fit the device (a "
                   "power of two up to %u)", vq->num, vq->num_max);
        return -1;
    }
    return 0;
}

static const VMStateDescription vmstate_virtqueue = {
    .name = "virtqueue",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = virtqueue_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(num, VirtQueue),
        VMSTATE_BOOL(ready, VirtQueue),
        VMSTATE_UINT64(desc, VirtQueue),
        VMSTATE_UINT64(avail, VirtQueue),
        VMSTATE_UINT64(used, VirtQueue),
        VMSTATE_UINT16(last_avail_idx, VirtQueue),
        VMSTATE_UINT16(used_idx, VirtQueue),
        VMSTATE_END_OF_LIST()
    },
};

const VMStateDescription vmstate_virtio_device = {
    .name = "virtio",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(status, VirtIODevice),
        VMSTATE_FIELD_MAX(isr, VirtIODevice, VMS_UINT8,
                          VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG),
        VMSTATE_UINT8(config_generation, VirtIODevice),
        VMSTATE_UINT64(guest_features, VirtIODevice),
        VMSTATE_UINT16(queue_sel, VirtIODevice),
        VMSTATE_UINT32(device_feature_sel, VirtIODevice),
        VMSTATE_UINT32(driver_feature_sel, VirtIODevice),
        VMSTATE_STRUCT_ARRAY(vq, VirtIODevice, VIRTIO_QUEUE_MAX,
                             vmstate_virtqueue, VirtQueue),
        VMSTATE_END_OF_LIST()
    },
};
