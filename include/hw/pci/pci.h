/*
 * PCI: buses, devices and their configuration space (PCI Local Bus spec 3.0).
 *
 * A PCI device type is a PCIDeviceClass registered with PCI_DEVICE_REGISTER();
 * its instance struct begins with `PCIDevice parent_obj;`.  The generic code
 * fills in the header from the class, gives every device an "addr" property,
 * maps BARs into the bus's containers as the guest programs them and routes
 * INTx through the bus's map_irq/set_irq hooks.  Devices override config_read
 * and config_write only for registers with side effects, and call the
 * pci_default_* versions for the rest.
 */
#ifndef HW_PCI_PCI_H
#define HW_PCI_PCI_H

#include "hw/qdev.h"
#include "system/memory.h"

/* Type 0 header layout (spec 6.1). */
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define  PCI_COMMAND_IO          0x0001
#define  PCI_COMMAND_MEMORY      0x0002
#define  PCI_COMMAND_MASTER      0x0004
#define  PCI_COMMAND_SPECIAL     0x0008
#define  PCI_COMMAND_INVALIDATE  0x0010
#define  PCI_COMMAND_VGA_PALETTE 0x0020
#define  PCI_COMMAND_PARITY      0x0040
#define  PCI_COMMAND_SERR        0x0100
#define  PCI_COMMAND_FAST_BACK   0x0200
#define  PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS              0x06
#define  PCI_STATUS_INTERRUPT    0x0008
#define  PCI_STATUS_CAP_LIST     0x0010
#define  PCI_STATUS_66MHZ        0x0020
#define  PCI_STATUS_FAST_BACK    0x0080
#define  PCI_STATUS_PARITY       0x0100
#define  PCI_STATUS_DEVSEL_MEDIUM 0x0200
#define  PCI_STATUS_SIG_TARGET_ABORT 0x0800
#define  PCI_STATUS_REC_TARGET_ABORT 0x1000
#define  PCI_STATUS_REC_MASTER_ABORT 0x2000
#define  PCI_STATUS_SIG_SYSTEM_ERROR 0x4000
#define  PCI_STATUS_DETECTED_PARITY  0x8000
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_CLASS_DEVICE        0x0a
#define PCI_CACHE_LINE_SIZE     0x0c
#define PCI_LATENCY_TIMER       0x0d
#define PCI_HEADER_TYPE         0x0e
#define  PCI_HEADER_TYPE_NORMAL  0x00
#define  PCI_HEADER_TYPE_BRIDGE  0x01
#define  PCI_HEADER_TYPE_MULTI_FUNCTION 0x80
#define PCI_BIST                0x0f
#define PCI_BASE_ADDRESS_0      0x10
#define  PCI_BASE_ADDRESS_SPACE_IO    0x01
#define  PCI_BASE_ADDRESS_MEM_TYPE_32 0x00
#define  PCI_BASE_ADDRESS_MEM_TYPE_64 0x04
#define  PCI_BASE_ADDRESS_MEM_PREFETCH 0x08
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID        0x2e
#define PCI_ROM_ADDRESS         0x30
#define PCI_ROM_ADDRESS_BRIDGE  0x38
#define  PCI_ROM_ADDRESS_ENABLE  0x01
#define PCI_CAPABILITY_LIST     0x34
#define PCI_INTERRUPT_LINE      0x3c
#define PCI_INTERRUPT_PIN       0x3d
#define PCI_MIN_GNT             0x3e
#define PCI_MAX_LAT             0x3f

#define PCI_CONFIG_HEADER_SIZE  0x40
#define PCI_CONFIG_SPACE_SIZE   0x100
#define PCIE_CONFIG_SPACE_SIZE  0x1000

#define PCI_SLOT_MAX            32
#define PCI_FUNC_MAX            8
#define PCI_DEVFN_MAX           256
#define PCI_DEVFN(slot, fn)     ((((slot) & 0x1f) << 3) | ((fn) & 7))
#define PCI_SLOT(devfn)         (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)         ((devfn) & 7)
#define PCI_DEVFN_AUTO          (-1)

#define PCI_NUM_BARS            6
#define PCI_ROM_SLOT            6
#define PCI_NUM_REGIONS         7
#define PCI_NUM_PINS            4       /* INTA..INTD */
#define PCI_BAR_UNMAPPED        UINT64_MAX

typedef struct PCIBus PCIBus;
typedef struct PCIDevice PCIDevice;

typedef struct PCIIORegion {
    MemoryRegion *mr;        /* the device's; NULL for an unused BAR */
    uint64_t size;           /* decoded size: a power of two >= mr->size */
    uint8_t type;            /* PCI_BASE_ADDRESS_* bits; 0 for the ROM */
    uint64_t addr;           /* where mapped now, or PCI_BAR_UNMAPPED */
} PCIIORegion;

struct PCIDevice {
    DeviceState parent_obj;
    uint8_t config[PCI_CONFIG_SPACE_SIZE];
    uint8_t wmask[PCI_CONFIG_SPACE_SIZE];     /* bits the guest may write */
    uint8_t w1cmask[PCI_CONFIG_SPACE_SIZE];   /* bits a written 1 clears */
    uint8_t reset_config[PCI_CONFIG_SPACE_SIZE]; /* config after realize */
    /* Read-only bits checked against reset_config on load; a device clears
     * the ones it changes itself at run time (in pci_realize). */
    uint8_t cmask[PCI_CONFIG_SPACE_SIZE];
    int32_t devfn;           /* "addr" property; PCI_DEVFN_AUTO = first free */
    PCIBus *bus;             /* set before realize to pick a non-root bus */
    PCIIORegion io_regions[PCI_NUM_REGIONS];
    uint8_t irq_level;       /* INTx as the device drives it */
    bool irq_asserted;       /* what the bus counts: level and not disabled */
};

typedef struct PCIDeviceClass {
    DeviceClass parent_class;
    uint16_t vendor_id;
    uint16_t device_id;
    uint8_t revision;
    uint16_t class_id;       /* base class << 8 | sub-class */
    uint8_t prog_if;
    uint16_t subsystem_vendor_id;
    uint16_t subsystem_id;
    uint8_t header_type;     /* PCI_HEADER_TYPE_* incl. MULTI_FUNCTION */
    uint8_t interrupt_pin;   /* 0 none, 1..4 = INTA..INTD */
    /* Optional: set up BARs and device registers; undone by nothing. */
    bool (*pci_realize)(PCIDevice *dev, Error **errp);
    /* Optional: after the generic reset restored the realize-time config. */
    void (*pci_reset)(PCIDevice *dev);
    /* NULL means pci_default_config_read / pci_default_config_write. */
    uint32_t (*config_read)(PCIDevice *dev, uint32_t addr, int len);
    void (*config_write)(PCIDevice *dev, uint32_t addr, uint32_t val, int len);
} PCIDeviceClass;

#define PCI_DEVICE(obj) (&(obj)->parent_obj)

static inline const PCIDeviceClass *PCI_DEVICE_GET_CLASS(const PCIDevice *dev)
{
    return container_of(dev->parent_obj.klass, const PCIDeviceClass,
                        parent_class);
}

/*
 * Fills in the DeviceClass part (bus, realize, reset, the "addr" property
 * ahead of the class's own props) and registers it.  The class must not be
 * const; leave parent_class.realize/reset unset.
 */
void pci_device_class_register(PCIDeviceClass *pc);
#define PCI_DEVICE_REGISTER(pc) \
    static void __attribute__((constructor)) register_##pc(void) \
    { pci_device_class_register(&(pc)); }

/* Config space accessors. */
static inline uint8_t pci_get_byte(const uint8_t *p) { return *p; }
static inline uint16_t pci_get_word(const uint8_t *p) { return lduw_le(p); }
static inline uint32_t pci_get_long(const uint8_t *p) { return ldl_le(p); }
static inline void pci_set_byte(uint8_t *p, uint8_t v) { *p = v; }
static inline void pci_set_word(uint8_t *p, uint16_t v) { stw_le(p, v); }
static inline void pci_set_long(uint8_t *p, uint32_t v) { stl_le(p, v); }

uint32_t pci_default_config_read(PCIDevice *dev, uint32_t addr, int len);
void pci_default_config_write(PCIDevice *dev, uint32_t addr, uint32_t val,
                              int len);

/*
 * BAR 0-5 or PCI_ROM_SLOT.  type: PCI_BASE_ADDRESS_SPACE_IO, or MEM_TYPE_32 /
 * MEM_TYPE_64 optionally | MEM_PREFETCH (0 for the ROM).  A 64-bit BAR also
 * takes the next slot.  The BAR decodes mr->size rounded up to a power of two
 * (at least 4 bytes for I/O, 16 for memory, 2 KiB for the ROM).  Call from
 * pci_realize; mr stays the device's and must not be mapped elsewhere.
 */
void pci_register_bar(PCIDevice *dev, int bar, uint8_t type, MemoryRegion *mr);
/* Where BAR bar is mapped now, or PCI_BAR_UNMAPPED. */
uint64_t pci_get_bar_addr(PCIDevice *dev, int bar);

/*
 * Add a capability of size bytes at offset (>= 0x40, dword aligned) to the
 * list; returns the offset.  The caller fills in the body and its wmask.
 */
uint8_t pci_add_capability(PCIDevice *dev, uint8_t cap_id, uint8_t offset,
                           uint8_t size);

/* Drive the device's INTx pin (level 0 or 1). */
void pci_set_irq(PCIDevice *dev, int level);
/* Bus-master DMA into guest memory; false for unassigned memory.  With
 * bus mastering off reads give zeros and writes are dropped. */
bool pci_dma_read(PCIDevice *dev, uint64_t addr, void *buf, uint64_t len);
bool pci_dma_write(PCIDevice *dev, uint64_t addr, const void *buf,
                   uint64_t len);

/* ---- buses ---- */

/* Which of the bus's irq lines pin (0 = INTA) of dev drives. */
typedef int (*PCIMapIRQFunc)(PCIDevice *dev, int pin);
/* Line irq of the bus is now asserted by at least one device, or by none. */
typedef void (*PCISetIRQFunc)(void *opaque, int irq, int level);

struct PCIBus {
    const char *name;
    MemoryRegion *mem;       /* memory BARs and ROMs are mapped here */
    MemoryRegion *io;        /* I/O BARs are mapped here */
    PCIDevice *parent_dev;   /* the bridge above, NULL for the root bus */
    PCIDevice *devices[PCI_DEVFN_MAX];
    PCIMapIRQFunc map_irq;
    PCISetIRQFunc set_irq;
    void *irq_opaque;
    int nirq;
    int *irq_count;          /* devices asserting each line */
    /* Byte ports inside 0xcf8-0xcfb that other agents decode (see below). */
    struct {
        MemoryRegion *mr;
        unsigned start;
    } cf8_io[4];
};

/* The first root bus created becomes the machine's (pci_get_bus()). */
PCIBus *pci_root_bus_new(const char *name, MemoryRegion *mem, MemoryRegion *io);
PCIBus *pci_get_bus(void);
void pci_bus_irqs(PCIBus *bus, PCISetIRQFunc set_irq, PCIMapIRQFunc map_irq,
                  void *opaque, int nirq);
/* The PC wiring of slot pins to PIRQA-D on the root bus. */
int pci_swizzle_map_irq(PCIDevice *dev, int pin);
PCIDevice *pci_find_device(PCIBus *root, int busnr, int devfn);

/*
 * Configuration mechanism #1 owns 0xcf8 for dword accesses only; narrower
 * accesses to 0xcf8-0xcfb are plain I/O cycles that another agent may claim
 * (PIIX3's reset control register at 0xcf9).  Such a region registers here
 * rather than in the I/O space, so that dword accesses reach the host bridge
 * whole; the host bridge passes the narrow cycles on with pci_bus_cf8_io_*.
 */
void pci_bus_add_cf8_port(PCIBus *bus, unsigned port, MemoryRegion *mr);
uint32_t pci_bus_cf8_io_read(PCIBus *bus, unsigned offset, unsigned size);
void pci_bus_cf8_io_write(PCIBus *bus, unsigned offset, uint32_t val,
                          unsigned size);

/* Config cycles as a host bridge issues them; absent functions read ~0. */
uint32_t pci_host_config_read(PCIBus *root, int busnr, int devfn,
                              uint32_t reg, int len);
void pci_host_config_write(PCIBus *root, int busnr, int devfn, uint32_t reg,
                           uint32_t val, int len);

/* ---- the "addr" property, "info pci" and migration ---- */

/* "slot" or "slot.fn" in hex (optional 0x), or "auto"/"-1". */
bool pci_parse_devfn(const char *str, int32_t *devfn, Error **errp);
/* "03.0", or "auto" for PCI_DEVFN_AUTO; returns buf. */
const char *pci_format_devfn(int32_t devfn, char *buf, size_t len);
void pci_print_info(GString *out);

/* Embed with VMSTATE_STRUCT(parent_obj, State, vmstate_pci_device, PCIDevice). */
extern const VMStateDescription vmstate_pci_device;

#endif
