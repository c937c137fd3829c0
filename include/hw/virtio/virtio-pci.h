/*
 * The virtio PCI transport, a transitional device (virtio 1.1, 4.1): the
 * legacy interface in I/O BAR 0 and the modern one behind vendor
 * capabilities in the 64-bit memory BAR 4 (common config, ISR, device
 * config and notifications), plus the PCI configuration access
 * capability for drivers that cannot reach BAR 4.  INTx only.
 *
 * A device type's instance starts with a VirtIOPCIProxy; its
 * PCIDeviceClass uses virtio_pci_config_read/write and calls
 * virtio_pci_realize from its pci_realize and virtio_pci_reset from its
 * pci_reset.
 */
#ifndef HW_VIRTIO_VIRTIO_PCI_H
#define HW_VIRTIO_VIRTIO_PCI_H

#include "hw/virtio/virtio.h"

/* Transitional device ids are 0x1000 + type - 1 for these types. */
#define VIRTIO_PCI_DEVICE_ID_SCSI       0x1004

typedef struct VirtIOPCIProxy {
    PCIDevice parent_obj;
    VirtIODevice vdev;
    MemoryRegion legacy_io;     /* BAR 0 */
    MemoryRegion modern_mem;    /* BAR 4 */
} VirtIOPCIProxy;

bool virtio_pci_realize(VirtIOPCIProxy *proxy, const VirtIODeviceOps *ops,
                        unsigned num_queues, uint16_t queue_size,
                        Error **errp);
void virtio_pci_reset(VirtIOPCIProxy *proxy);
uint32_t virtio_pci_config_read(PCIDevice *dev, uint32_t addr, int len);
void virtio_pci_config_write(PCIDevice *dev, uint32_t addr, uint32_t val,
                             int len);

#endif
