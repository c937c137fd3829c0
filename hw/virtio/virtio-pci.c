/*
 * Virtio over PCI (virtio 1.1, 4.1), as a transitional device:
 *
 *   BAR 0 (I/O)       the legacy interface: host/guest features, queue
 *                     PFN, size, select, notify, status, ISR, then the
 *                     device config
 *   BAR 4 (64-bit memory, 16 KiB), found through vendor capabilities:
 *     0x0000          common configuration
 *     0x1000          ISR status (read to clear)
 *     0x2000          device configuration
 *     0x3000          notifications: queue n at 4 * n
 *   capability 5      a window onto BAR 4 through config space, for
 *                     firmware that cannot reach a BAR above 4 GiB
 *
 * Registers take the width the spec gives them; other accesses are logged
 * and ignored.  Reads of the common and device config come from a snapshot
 * of the fields, so any width reads what the bytes hold.
 */
#include "hw/virtio/virtio-pci.h"

#define LEGACY_HOST_FEATURES    0x00
#define LEGACY_GUEST_FEATURES   0x04
#define LEGACY_QUEUE_PFN        0x08
#define LEGACY_QUEUE_NUM        0x0c
#define LEGACY_QUEUE_SEL        0x0e
#define LEGACY_QUEUE_NOTIFY     0x10
#define LEGACY_STATUS           0x12
#define LEGACY_ISR              0x13
#define LEGACY_CONFIG           0x14
#define LEGACY_PAGE_SHIFT       12
#define LEGACY_VRING_ALIGN      4096

#define COMMON_DFSELECT         0x00
#define COMMON_DF               0x04
#define COMMON_GFSELECT         0x08
#define COMMON_GF               0x0c
#define COMMON_MSIX             0x10
#define COMMON_NUMQ             0x12
#define COMMON_STATUS           0x14
#define COMMON_CFGGENERATION    0x15
#define COMMON_Q_SELECT         0x16
#define COMMON_Q_SIZE           0x18
#define COMMON_Q_MSIX           0x1a
#define COMMON_Q_ENABLE         0x1c
#define COMMON_Q_NOFF           0x1e
#define COMMON_Q_DESCLO         0x20
#define COMMON_Q_USEDHI         0x34
#define COMMON_SIZE             0x38
#define VIRTIO_NO_VECTOR        0xffff

#define MODERN_BAR              4
#define MODERN_SIZE             (16 * KiB)
#define MODERN_COMMON           0x0000
#define MODERN_ISR              0x1000
#define MODERN_DEVICE           0x2000
#define MODERN_NOTIFY           0x3000
#define MODERN_REGION_SIZE      0x1000
#define NOTIFY_OFF_MULTIPLIER   4

/* Vendor capabilities in config space (struct virtio_pci_cap). */
#define PCI_CAP_ID_VNDR         0x09
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG  3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG  5
#define CAP_BAR                 4
#define CAP_OFFSET              8
#define CAP_LENGTH              12
#define CAP_EXTRA               16      /* notify multiplier, window data */
#define CAP_PCI_CFG_AT          0x84

static VirtIODevice *vdev_of(void *opaque)
{
    return &((VirtIOPCIProxy *)opaque)->vdev;
}

static uint64_t bytes_read(const uint8_t *buf, size_t len, uint64_t off,
                           unsigned size)
{
    uint64_t val = 0;

    for (unsigned i = 0; i < size && off + i < len; i++) {
        val |= (uint64_t)buf[off + i] << (i * 8);
    }
    return val;
}

/* ---- device configuration (both interfaces) ---- */

static uint64_t config_read(VirtIODevice *vdev, uint64_t off, unsigned size)
{
    uint8_t cfg[256] = { 0 };

    g_assert(vdev->ops->config_size <= sizeof(cfg));
    vdev->ops->get_config(vdev, cfg);
    return bytes_read(cfg, vdev->ops->config_size, off, size);
}

static void config_write(VirtIODevice *vdev, uint64_t off, uint64_t val,
                         unsigned size)
{
    uint8_t cfg[256] = { 0 };
    unsigned len = vdev->ops->config_size;

    if (off + size > len) {
        log_guest_error("virtio: config write past the end (0x%" PRIx64
                        ", %u bytes)", off, size);
        return;
    }
    vdev->ops->get_config(vdev, cfg);
    for (unsigned i = 0; i < size; i++) {
        cfg[off + i] = val >> (i * 8);
    }
    if (vdev->ops->set_config) {
        vdev->ops->set_config(vdev, cfg);
    }
}

/* ---- legacy interface, BAR 0 ---- */

static uint64_t legacy_read(void *opaque, uint64_t addr, unsigned size)
{
    VirtIODevice *vdev = vdev_of(opaque);
    VirtQueue *vq = vdev->queue_sel < VIRTIO_QUEUE_MAX ?
                    &vdev->vq[vdev->queue_sel] : NULL;
    uint8_t regs[LEGACY_CONFIG] = { 0 };

    if (addr >= LEGACY_CONFIG) {
        return config_read(vdev, addr - LEGACY_CONFIG, size);
    }
    stl_le(regs + LEGACY_HOST_FEATURES, virtio_host_features(vdev));
    stl_le(regs + LEGACY_GUEST_FEATURES, vdev->guest_features);
    if (vq && vq->ready) {
        stl_le(regs + LEGACY_QUEUE_PFN, vq->desc >> LEGACY_PAGE_SHIFT);
    }
    stw_le(regs + LEGACY_QUEUE_NUM, vq ? vq->num_max : 0);
    stw_le(regs + LEGACY_QUEUE_SEL, vdev->queue_sel);
    regs[LEGACY_STATUS] = vdev->status;
    if (addr <= LEGACY_ISR && addr + size > LEGACY_ISR) {
        regs[LEGACY_ISR] = virtio_read_isr(vdev);
    }
    return bytes_read(regs, sizeof(regs), addr, size);
}

/* The legacy ring layout: descriptors, available ring, then the used ring
 * on the next 4 KiB boundary; the size is the device's. */
static void legacy_set_pfn(VirtIODevice *vdev, uint32_t pfn)
{
    unsigned n = vdev->queue_sel;

    if (n >= vdev->num_queues) {
        log_guest_error("virtio: legacy PFN for queue %u, which does not "
                        "exist", n);
        return;
    }
    VirtQueue *vq = &vdev->vq[n];
    vq->ready = pfn != 0;
    vq->num = vq->num_max;
    vq->desc = (uint64_t)pfn << LEGACY_PAGE_SHIFT;
    vq->avail = vq->desc + 16ULL * vq->num;
    vq->used = ALIGN_UP(vq->avail + 6 + 2ULL * vq->num, LEGACY_VRING_ALIGN);
    vq->last_avail_idx = vq->used_idx = 0;
}

static void legacy_write(void *opaque, uint64_t addr, uint64_t val,
                         unsigned size)
{
    VirtIODevice *vdev = vdev_of(opaque);

    if (addr >= LEGACY_CONFIG) {
        config_write(vdev, addr - LEGACY_CONFIG, val, size);
        return;
    }
    switch (addr | (uint64_t)size << 8) {
    case LEGACY_GUEST_FEATURES | 4 << 8:
        vdev->guest_features = val;
        break;
    case LEGACY_QUEUE_PFN | 4 << 8:
        legacy_set_pfn(vdev, val);
        break;
    case LEGACY_QUEUE_SEL | 2 << 8:
        vdev->queue_sel = val;
        break;
    case LEGACY_QUEUE_NOTIFY | 2 << 8:
        virtio_queue_notify(vdev, val);
        break;
    case LEGACY_STATUS | 1 << 8:
        virtio_set_status(vdev, val);
        break;
    default:
        log_guest_error("virtio: legacy write of %u bytes at 0x%" PRIx64
                        " ignored", size, addr);
        break;
    }
}

static const MemoryRegionOps legacy_ops = {
    .read = legacy_read,
    .write = legacy_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

/* ---- modern interface, BAR 4 ---- */

static uint64_t common_read(VirtIODevice *vdev, uint64_t off, unsigned size)
{
    uint8_t c[COMMON_SIZE] = { 0 };
    uint64_t host = virtio_host_features(vdev), guest = vdev->guest_features;
    uint32_t dsel = vdev->device_feature_sel, gsel = vdev->driver_feature_sel;
    unsigned n = vdev->queue_sel;

    stl_le(c + COMMON_DFSELECT, dsel);
    stl_le(c + COMMON_DF, dsel == 0 ? host : dsel == 1 ? host >> 32 : 0);
    stl_le(c + COMMON_GFSELECT, gsel);
    stl_le(c + COMMON_GF, gsel == 0 ? guest : gsel == 1 ? guest >> 32 : 0);
    stw_le(c + COMMON_MSIX, VIRTIO_NO_VECTOR);
    stw_le(c + COMMON_NUMQ, vdev->num_queues);
    c[COMMON_STATUS] = vdev->status;
    c[COMMON_CFGGENERATION] = vdev->config_generation;
    stw_le(c + COMMON_Q_SELECT, n);
    stw_le(c + COMMON_Q_MSIX, VIRTIO_NO_VECTOR);
    if (n < vdev->num_queues) {
        VirtQueue *vq = &vdev->vq[n];
        stw_le(c + COMMON_Q_SIZE, vq->num);
        stw_le(c + COMMON_Q_ENABLE, vq->ready);
        stw_le(c + COMMON_Q_NOFF, n);
        stq_le(c + COMMON_Q_DESCLO, vq->desc);
        stq_le(c + COMMON_Q_DESCLO + 8, vq->avail);
        stq_le(c + COMMON_Q_DESCLO + 16, vq->used);
    }
    return bytes_read(c, sizeof(c), off, size);
}

/* One 32-bit half of a queue address, while the queue is off. */
static void common_set_addr(VirtIODevice *vdev, uint64_t off, uint32_t val)
{
    unsigned n = vdev->queue_sel;
    unsigned which = (off - COMMON_Q_DESCLO) / 8;
    unsigned shift = (off & 4) * 8;

    if (n >= vdev->num_queues || vdev->vq[n].ready) {
        log_guest_error("virtio: address of queue %u written while it %s",
                        n, n >= vdev->num_queues ? "does not exist"
                                                 : "is enabled");
        return;
    }
    uint64_t *addr = which == 0 ? &vdev->vq[n].desc :
                     which == 1 ? &vdev->vq[n].avail : &vdev->vq[n].used;
    *addr = (*addr & ~(0xffffffffULL << shift)) | (uint64_t)val << shift;
}

static void common_write(VirtIODevice *vdev, uint64_t off, uint32_t val,
                         unsigned size)
{
    unsigned n = vdev->queue_sel;

    switch (off | (uint64_t)size << 8) {
    case COMMON_DFSELECT | 4 << 8:
        vdev->device_feature_sel = val;
        return;
    case COMMON_GFSELECT | 4 << 8:
        vdev->driver_feature_sel = val;
        return;
    case COMMON_GF | 4 << 8:
        if (vdev->status & VIRTIO_CONFIG_S_FEATURES_OK) {
            log_guest_error("virtio: features written after FEATURES_OK");
        } else if (vdev->driver_feature_sel < 2) {
            unsigned shift = vdev->driver_feature_sel * 32;
            vdev->guest_features &= ~(0xffffffffULL << shift);
            vdev->guest_features |= (uint64_t)val << shift;
        }
        return;
    case COMMON_MSIX | 2 << 8:
    case COMMON_Q_MSIX | 2 << 8:
        return;                         /* no MSI-X: stays NO_VECTOR */
    case COMMON_STATUS | 1 << 8:
        virtio_set_status(vdev, val);
        return;
    case COMMON_Q_SELECT | 2 << 8:
        vdev->queue_sel = val;
        return;
    case COMMON_Q_SIZE | 2 << 8:
        virtio_queue_set_num(vdev, n, val);
        return;
    case COMMON_Q_ENABLE | 2 << 8:
        if (val == 1 && n < vdev->num_queues) {
            vdev->vq[n].ready = true;
        } else {
            log_guest_error("virtio: queue_enable %u for queue %u ignored",
                            val, n);
        }
        return;
    default:
        if (size == 4 && off >= COMMON_Q_DESCLO && off <= COMMON_Q_USEDHI &&
            !(off & 3)) {
            common_set_addr(vdev, off, val);
            return;
        }
        log_guest_error("virtio: common config write of %u bytes at 0x%"
                        PRIx64 " ignored", size, off);
    }
}

static uint64_t modern_read(void *opaque, uint64_t addr, unsigned size)
{
    VirtIODevice *vdev = vdev_of(opaque);
    uint64_t off = addr % MODERN_REGION_SIZE;

    switch (addr / MODERN_REGION_SIZE * MODERN_REGION_SIZE) {
    case MODERN_COMMON:
        return common_read(vdev, off, size);
    case MODERN_ISR:
        return off ? 0 : virtio_read_isr(vdev);
    case MODERN_DEVICE:
        return config_read(vdev, off, size);
    default:
        return 0;
    }
}

static void modern_write(void *opaque, uint64_t addr, uint64_t val,
                         unsigned size)
{
    VirtIODevice *vdev = vdev_of(opaque);
    uint64_t off = addr % MODERN_REGION_SIZE;

    switch (addr / MODERN_REGION_SIZE * MODERN_REGION_SIZE) {
    case MODERN_COMMON:
        common_write(vdev, off, val, size);
        break;
    case MODERN_DEVICE:
        config_write(vdev, off, val, size);
        break;
    case MODERN_NOTIFY:
        if (off % NOTIFY_OFF_MULTIPLIER == 0) {
            virtio_queue_notify(vdev, off / NOTIFY_OFF_MULTIPLIER);
            break;
        }
        /* fall through */
    default:
        log_guest_error("virtio: write of %u bytes at BAR 4 + 0x%" PRIx64
                        " ignored", size, addr);
        break;
    }
}

static const MemoryRegionOps modern_ops = {
    .read = modern_read,
    .write = modern_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

/* ---- PCI configuration access capability ---- */

/*
 * The window's target (BAR 4 only), or false if the driver set it up
 * wrongly: an access of 1, 2 or 4 bytes, aligned, inside the BAR.
 */
static bool cfg_window(PCIDevice *dev, uint32_t *off, unsigned *len)
{
    const uint8_t *cap = dev->config + CAP_PCI_CFG_AT;

    *off = ldl_le(cap + CAP_OFFSET);
    *len = ldl_le(cap + CAP_LENGTH);
    if (cap[CAP_BAR] != MODERN_BAR || (*len != 1 && *len != 2 && *len != 4) ||
        *off % *len || *off > MODERN_SIZE - *len) {
        log_guest_error("virtio: PCI config window at BAR %u + 0x%x, %u "
                        "bytes, is not usable", cap[CAP_BAR], *off, *len);
        return false;
    }
    return true;
}

static bool cfg_window_data(uint32_t addr, int len)
{
    uint32_t data = CAP_PCI_CFG_AT + CAP_EXTRA;
    return addr < data + 4 && addr + len > data;
}

uint32_t virtio_pci_config_read(PCIDevice *dev, uint32_t addr, int len)
{
    VirtIOPCIProxy *proxy = (VirtIOPCIProxy *)dev;
    uint32_t off;
    unsigned wlen;

    if (!cfg_window_data(addr, len)) {
        return pci_default_config_read(dev, addr, len);
    }
    if (!cfg_window(dev, &off, &wlen)) {
        return 0;
    }
    uint64_t val = memory_region_dispatch_read(&proxy->modern_mem, off, wlen);
    unsigned shift = (addr - (CAP_PCI_CFG_AT + CAP_EXTRA)) * 8;
    return len == 4 ? (uint32_t)(val >> shift)
                    : (uint32_t)(val >> shift) & ((1u << (len * 8)) - 1);
}

void virtio_pci_config_write(PCIDevice *dev, uint32_t addr, uint32_t val,
                             int len)
{
    VirtIOPCIProxy *proxy = (VirtIOPCIProxy *)dev;
    uint32_t off;
    unsigned wlen;

    if (!cfg_window_data(addr, len)) {
        pci_default_config_write(dev, addr, val, len);
        return;
    }
    if (addr != CAP_PCI_CFG_AT + CAP_EXTRA || !cfg_window(dev, &off, &wlen)) {
        log_guest_error("virtio: PCI config window write at 0x%x ignored",
                        addr);
        return;
    }
    memory_region_dispatch_write(&proxy->modern_mem, off, val, wlen);
}

/* ---- set-up ---- */

static void add_cap(PCIDevice *dev, uint8_t at, uint8_t type, uint8_t size,
                    uint32_t offset, uint32_t length)
{
    uint8_t *cap = dev->config + pci_add_capability(dev, PCI_CAP_ID_VNDR, at,
                                                    size);
    cap[2] = size;
    cap[3] = type;
    cap[CAP_BAR] = MODERN_BAR;
    stl_le(cap + CAP_OFFSET, offset);
    stl_le(cap + CAP_LENGTH, length);
}

bool virtio_pci_realize(VirtIOPCIProxy *proxy, const VirtIODeviceOps *ops,
                        unsigned num_queues, uint16_t queue_size,
                        Error **errp)
{
    PCIDevice *dev = &proxy->parent_obj;
    const char *name = dev->parent_obj.klass->name;

    virtio_init(&proxy->vdev, dev, ops, num_queues, queue_size);
    memory_region_init_io(&proxy->legacy_io, &legacy_ops, proxy, name,
                          LEGACY_CONFIG + ops->config_size);
    pci_register_bar(dev, 0, PCI_BASE_ADDRESS_SPACE_IO, &proxy->legacy_io);
    memory_region_init_io(&proxy->modern_mem, &modern_ops, proxy, name,
                          MODERN_SIZE);
    pci_register_bar(dev, MODERN_BAR, PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH, &proxy->modern_mem);

    /* Added last first: the list reads common, ISR, device, notify, window. */
    add_cap(dev, CAP_PCI_CFG_AT, VIRTIO_PCI_CAP_PCI_CFG, 20, 0, 0);
    dev->config[CAP_PCI_CFG_AT + CAP_BAR] = 0;
    memset(dev->wmask + CAP_PCI_CFG_AT + CAP_BAR, 0xff, 1);
    memset(dev->wmask + CAP_PCI_CFG_AT + CAP_OFFSET, 0xff, 12);
    add_cap(dev, 0x70, VIRTIO_PCI_CAP_NOTIFY_CFG, 20, MODERN_NOTIFY,
            MODERN_REGION_SIZE);
    stl_le(dev->config + 0x70 + CAP_EXTRA, NOTIFY_OFF_MULTIPLIER);
    add_cap(dev, 0x60, VIRTIO_PCI_CAP_DEVICE_CFG, 16, MODERN_DEVICE,
            MODERN_REGION_SIZE);
    add_cap(dev, 0x50, VIRTIO_PCI_CAP_ISR_CFG, 16, MODERN_ISR,
            MODERN_REGION_SIZE);
    add_cap(dev, 0x40, VIRTIO_PCI_CAP_COMMON_CFG, 16, MODERN_COMMON,
            MODERN_REGION_SIZE);
    return true;
}

void virtio_pci_reset(VirtIOPCIProxy *proxy)
{
    virtio_reset(&proxy->vdev);
}
