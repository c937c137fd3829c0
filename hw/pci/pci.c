/*
 * PCI bus and device core: config space with write masks, BAR decoding into
 * the bus's memory and I/O containers, INTx routing, slot allocation, "info
 * pci" and migration of config space.  See include/hw/pci/pci.h.
 */
#include "hw/pci/pci.h"
#include <ctype.h>

static PCIBus *root_bus;

static const char *pci_dev_name(PCIDevice *dev)
{
    return dev->parent_obj.klass->name;
}

static bool ranges_overlap(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
    return a < b + blen && b < a + alen;
}

static uint32_t all_ones(int len)
{
    return len >= 4 ? UINT32_MAX : (1u << (len * 8)) - 1;
}

/* ---- buses ---- */

PCIBus *pci_root_bus_new(const char *name, MemoryRegion *mem, MemoryRegion *io)
{
    PCIBus *bus = g_new0(PCIBus, 1);

    bus->name = name;
    bus->mem = mem;
    bus->io = io;
    if (!root_bus) {
        root_bus = bus;
    }
    return bus;
}

PCIBus *pci_get_bus(void)
{
    return root_bus;
}

void pci_bus_irqs(PCIBus *bus, PCISetIRQFunc set_irq, PCIMapIRQFunc map_irq,
                  void *opaque, int nirq)
{
    bus->set_irq = set_irq;
    bus->map_irq = map_irq;
    bus->irq_opaque = opaque;
    bus->nirq = nirq;
    g_free(bus->irq_count);
    bus->irq_count = g_new0(int, nirq);
}

/*
 * The wiring PC firmware assumes (SeaBIOS's PIR table and IRQ setup, and the
 * ACPI _PRT built to match): INTA of slot 1 is PIRQA and each slot further
 * rotates by one.
 */
int pci_swizzle_map_irq(PCIDevice *dev, int pin)
{
    return (PCI_SLOT(dev->devfn) + pin - 1) & 3;
}

/* Bridges will look their secondary bus numbers up here. */
static PCIBus *pci_find_bus(PCIBus *root, int busnr)
{
    return busnr == 0 ? root : NULL;
}

PCIDevice *pci_find_device(PCIBus *root, int busnr, int devfn)
{
    PCIBus *bus = root ? pci_find_bus(root, busnr) : NULL;

    if (!bus || devfn < 0 || devfn >= PCI_DEVFN_MAX) {
        return NULL;
    }
    return bus->devices[devfn];
}

void pci_bus_add_cf8_port(PCIBus *bus, unsigned port, MemoryRegion *mr)
{
    g_assert(port >= 0xcf8 && port + mr->size <= 0xcfc);
    for (unsigned i = 0; i < mr->size; i++) {
        g_assert(!bus->cf8_io[port - 0xcf8 + i].mr);
        bus->cf8_io[port - 0xcf8 + i].mr = mr;
        bus->cf8_io[port - 0xcf8 + i].start = port - 0xcf8;
    }
}

/* Byte by byte, as the byte enables of the I/O cycle select them. */
uint32_t pci_bus_cf8_io_read(PCIBus *bus, unsigned offset, unsigned size)
{
    uint32_t val = 0;

    for (unsigned i = 0; i < size; i++) {
        uint32_t b = 0xff;
        if (offset + i < 4 && bus->cf8_io[offset + i].mr) {
            b = memory_region_dispatch_read(bus->cf8_io[offset + i].mr,
                    offset + i - bus->cf8_io[offset + i].start, 1);
        }
        val |= b << (i * 8);
    }
    return val;
}

void pci_bus_cf8_io_write(PCIBus *bus, unsigned offset, uint32_t val,
                          unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        if (offset + i < 4 && bus->cf8_io[offset + i].mr) {
            memory_region_dispatch_write(bus->cf8_io[offset + i].mr,
                    offset + i - bus->cf8_io[offset + i].start,
                    (val >> (i * 8)) & 0xff, 1);
        }
    }
}

/* ---- INTx ---- */

static bool pci_irq_routed(PCIDevice *dev)
{
    return dev->bus && dev->bus->map_irq && dev->config[PCI_INTERRUPT_PIN] &&
           dev->config[PCI_INTERRUPT_PIN] <= PCI_NUM_PINS;
}

static bool pci_irq_should_assert(PCIDevice *dev)
{
    return dev->irq_level && pci_irq_routed(dev) &&
           !(pci_get_word(dev->config + PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
}

static int pci_irq_line(PCIDevice *dev)
{
    int irq = dev->bus->map_irq(dev, dev->config[PCI_INTERRUPT_PIN] - 1);
    return irq >= 0 && irq < dev->bus->nirq ? irq : -1;
}

/* The status bit shows the device's own state, even when disabled. */
static void pci_update_irq_status(PCIDevice *dev)
{
    uint16_t status = pci_get_word(dev->config + PCI_STATUS);

    status &= ~PCI_STATUS_INTERRUPT;
    pci_set_word(dev->config + PCI_STATUS,
                 status | (dev->irq_level ? PCI_STATUS_INTERRUPT : 0));
}

static void pci_update_irq(PCIDevice *dev)
{
    bool assert = pci_irq_should_assert(dev);

    pci_update_irq_status(dev);
    if (assert == dev->irq_asserted) {
        return;
    }
    dev->irq_asserted = assert;
    int irq = pci_irq_line(dev);
    if (irq >= 0) {
        PCIBus *bus = dev->bus;
        bus->irq_count[irq] += assert ? 1 : -1;
        bus->set_irq(bus->irq_opaque, irq, bus->irq_count[irq] != 0);
    }
}

void pci_set_irq(PCIDevice *dev, int level)
{
    dev->irq_level = level != 0;
    pci_update_irq(dev);
}

/* After loading state: count every device's line afresh. */
static void pci_bus_resync_irqs(PCIBus *bus)
{
    if (!bus || !bus->irq_count) {
        return;
    }
    memset(bus->irq_count, 0, bus->nirq * sizeof(int));
    for (int devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
        PCIDevice *dev = bus->devices[devfn];
        if (!dev) {
            continue;
        }
        dev->irq_asserted = pci_irq_should_assert(dev);
        int irq = dev->irq_asserted ? pci_irq_line(dev) : -1;
        if (irq >= 0) {
            bus->irq_count[irq]++;
        }
    }
    for (int i = 0; i < bus->nirq; i++) {
        bus->set_irq(bus->irq_opaque, i, bus->irq_count[i] != 0);
    }
}

/* ---- BARs ---- */

static int pci_num_bars(PCIDevice *dev)
{
    return (dev->config[PCI_HEADER_TYPE] & 0x7f) == PCI_HEADER_TYPE_BRIDGE ?
           2 : PCI_NUM_BARS;
}

static uint32_t pci_bar_offset(PCIDevice *dev, int bar)
{
    if (bar == PCI_ROM_SLOT) {
        return (dev->config[PCI_HEADER_TYPE] & 0x7f) == PCI_HEADER_TYPE_BRIDGE ?
               PCI_ROM_ADDRESS_BRIDGE : PCI_ROM_ADDRESS;
    }
    return PCI_BASE_ADDRESS_0 + bar * 4;
}

void pci_register_bar(PCIDevice *dev, int bar, uint8_t type, MemoryRegion *mr)
{
    bool io = bar != PCI_ROM_SLOT && (type & PCI_BASE_ADDRESS_SPACE_IO);
    bool is64 = bar != PCI_ROM_SLOT && !io &&
                (type & PCI_BASE_ADDRESS_MEM_TYPE_64);
    uint32_t off = pci_bar_offset(dev, bar);
    uint64_t size = bar == PCI_ROM_SLOT ? 2 * KiB : io ? 4 : 16;
    uint32_t wmask;

    g_assert(bar == PCI_ROM_SLOT || (bar >= 0 && bar < pci_num_bars(dev)));
    g_assert(!is64 || bar + 1 < pci_num_bars(dev));
    g_assert(!dev->io_regions[bar].mr && (!is64 || !dev->io_regions[bar + 1].mr));
    while (size < mr->size) {
        size <<= 1;
    }
    g_assert(is64 || size <= (io ? 64 * KiB : 2 * GiB));

    PCIIORegion *r = &dev->io_regions[bar];
    r->mr = mr;
    r->size = size;
    r->type = bar == PCI_ROM_SLOT ? 0 : type;
    r->addr = PCI_BAR_UNMAPPED;

    /* Address bits below the size read back as zero: that is how the
     * guest sizes a BAR by writing all-ones. */
    if (bar == PCI_ROM_SLOT) {
        wmask = ((uint32_t)~(size - 1) & ~0x7ffu) | PCI_ROM_ADDRESS_ENABLE;
    } else if (io) {
        wmask = (uint32_t)~(size - 1) & ~0x3u;
    } else {
        wmask = (uint32_t)~(size - 1) & ~0xfu;
    }
    pci_set_long(dev->config + off, r->type);
    pci_set_long(dev->wmask + off, wmask);
    if (is64) {
        pci_set_long(dev->config + off + 4, 0);
        pci_set_long(dev->wmask + off + 4, ~(size - 1) >> 32);
    }
}

/* The address a BAR decodes now, or PCI_BAR_UNMAPPED. */
static uint64_t pci_bar_address(PCIDevice *dev, int bar)
{
    PCIIORegion *r = &dev->io_regions[bar];
    uint16_t cmd = pci_get_word(dev->config + PCI_COMMAND);
    uint32_t off = pci_bar_offset(dev, bar);
    uint64_t val = pci_get_long(dev->config + off);
    uint64_t addr, limit = UINT32_MAX;

    if (r->type & PCI_BASE_ADDRESS_SPACE_IO) {
        addr = val & ~3ull;
        if (!(cmd & PCI_COMMAND_IO) || addr == 0 ||
            addr + r->size > (dev->bus->io ? dev->bus->io->size : 64 * KiB)) {
            return PCI_BAR_UNMAPPED;
        }
        return addr;
    }
    if (!(cmd & PCI_COMMAND_MEMORY)) {
        return PCI_BAR_UNMAPPED;
    }
    if (bar == PCI_ROM_SLOT) {
        if (!(val & PCI_ROM_ADDRESS_ENABLE)) {
            return PCI_BAR_UNMAPPED;
        }
        addr = val & ~0x7ffull;
    } else {
        addr = val & ~0xfull;
        if (r->type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
            addr |= (uint64_t)pci_get_long(dev->config + off + 4) << 32;
            limit = UINT64_MAX;
        }
    }
    /* Zero, and the all-ones pattern left over from sizing with decode on,
     * are not addresses firmware or an OS would assign. */
    if (addr == 0 || addr == (~(r->size - 1) & limit)) {
        return PCI_BAR_UNMAPPED;
    }
    return addr;
}

static void pci_update_mappings(PCIDevice *dev)
{
    memory_region_transaction_begin();
    for (int bar = 0; bar < PCI_NUM_REGIONS; bar++) {
        PCIIORegion *r = &dev->io_regions[bar];
        if (!r->mr) {
            continue;
        }
        uint64_t addr = pci_bar_address(dev, bar);
        if (addr == r->addr) {
            continue;
        }
        MemoryRegion *container = (r->type & PCI_BASE_ADDRESS_SPACE_IO) ?
                                  dev->bus->io : dev->bus->mem;
        if (r->addr != PCI_BAR_UNMAPPED) {
            memory_region_del_subregion(container, r->mr);
        }
        r->addr = addr;
        if (addr != PCI_BAR_UNMAPPED) {
            /* Above the board's fixed contents of the PCI space. */
            memory_region_add_subregion_overlap(container, addr, r->mr, 1);
        }
    }
    memory_region_transaction_commit();
}

uint64_t pci_get_bar_addr(PCIDevice *dev, int bar)
{
    return dev->io_regions[bar].addr;
}

uint8_t pci_add_capability(PCIDevice *dev, uint8_t cap_id, uint8_t offset,
                           uint8_t size)
{
    g_assert(offset >= PCI_CONFIG_HEADER_SIZE && !(offset & 3) && size >= 2 &&
             offset + size <= PCI_CONFIG_SPACE_SIZE);
    /* New capabilities go to the head of the list. */
    dev->config[offset] = cap_id;
    dev->config[offset + 1] = dev->config[PCI_CAPABILITY_LIST];
    dev->config[PCI_CAPABILITY_LIST] = offset;
    pci_set_word(dev->config + PCI_STATUS,
                 pci_get_word(dev->config + PCI_STATUS) | PCI_STATUS_CAP_LIST);
    return offset;
}

/* ---- config space ---- */

uint32_t pci_default_config_read(PCIDevice *dev, uint32_t addr, int len)
{
    uint32_t val = 0;

    for (int i = 0; i < len && addr + i < PCI_CONFIG_SPACE_SIZE; i++) {
        val |= (uint32_t)dev->config[addr + i] << (i * 8);
    }
    return val;
}

void pci_default_config_write(PCIDevice *dev, uint32_t addr, uint32_t val,
                              int len)
{
    uint16_t old_cmd = pci_get_word(dev->config + PCI_COMMAND);

    for (int i = 0; i < len && addr + i < PCI_CONFIG_SPACE_SIZE; i++) {
        uint32_t a = addr + i;
        uint8_t b = val >> (i * 8);
        dev->config[a] = (dev->config[a] & ~dev->wmask[a]) |
                         (b & dev->wmask[a]);
        dev->config[a] &= ~(b & dev->w1cmask[a]);
    }
    if (ranges_overlap(addr, len, PCI_COMMAND, 2) ||
        ranges_overlap(addr, len, PCI_BASE_ADDRESS_0, PCI_NUM_BARS * 4) ||
        ranges_overlap(addr, len, pci_bar_offset(dev, PCI_ROM_SLOT), 4)) {
        pci_update_mappings(dev);
    }
    if ((old_cmd ^ pci_get_word(dev->config + PCI_COMMAND)) &
        PCI_COMMAND_INTX_DISABLE) {
        pci_update_irq(dev);
    }
}

/* Accesses stay within one dword, as mechanism #1 can issue them. */
static bool pci_config_access_ok(PCIDevice *dev, uint32_t reg, int len)
{
    if ((len != 1 && len != 2 && len != 4) || (reg & 3) + len > 4 ||
        reg + len > PCI_CONFIG_SPACE_SIZE) {
        log_guest_error("pci %s: bad config access of %d bytes at 0x%x",
                        pci_dev_name(dev), len, reg);
        return false;
    }
    return true;
}

uint32_t pci_host_config_read(PCIBus *root, int busnr, int devfn,
                              uint32_t reg, int len)
{
    PCIDevice *dev = pci_find_device(root, busnr, devfn);

    if (!dev || !pci_config_access_ok(dev, reg, len)) {
        return all_ones(len);
    }
    const PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(dev);
    return (pc->config_read ? pc->config_read : pci_default_config_read)
           (dev, reg, len);
}

void pci_host_config_write(PCIBus *root, int busnr, int devfn, uint32_t reg,
                           uint32_t val, int len)
{
    PCIDevice *dev = pci_find_device(root, busnr, devfn);

    if (!dev || !pci_config_access_ok(dev, reg, len)) {
        return;
    }
    const PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(dev);
    if (len < 4) {
        val &= (1u << (len * 8)) - 1;
    }
    (pc->config_write ? pc->config_write : pci_default_config_write)
        (dev, reg, val, len);
}

/* ---- device lifecycle ---- */

static void pci_init_header(PCIDevice *dev, const PCIDeviceClass *pc)
{
    memset(dev->config, 0, sizeof(dev->config));
    memset(dev->wmask, 0, sizeof(dev->wmask));
    memset(dev->w1cmask, 0, sizeof(dev->w1cmask));
    memset(dev->cmask, 0xff, sizeof(dev->cmask));
    dev->cmask[PCI_STATUS] &= ~PCI_STATUS_INTERRUPT;    /* follows irq_level */
    pci_set_word(dev->config + PCI_VENDOR_ID, pc->vendor_id);
    pci_set_word(dev->config + PCI_DEVICE_ID, pc->device_id);
    dev->config[PCI_REVISION_ID] = pc->revision;
    dev->config[PCI_CLASS_PROG] = pc->prog_if;
    pci_set_word(dev->config + PCI_CLASS_DEVICE, pc->class_id);
    dev->config[PCI_HEADER_TYPE] = pc->header_type;
    if ((pc->header_type & 0x7f) == PCI_HEADER_TYPE_NORMAL) {
        pci_set_word(dev->config + PCI_SUBSYSTEM_VENDOR_ID,
                     pc->subsystem_vendor_id);
        pci_set_word(dev->config + PCI_SUBSYSTEM_ID, pc->subsystem_id);
    }
    g_assert(pc->interrupt_pin <= PCI_NUM_PINS);
    dev->config[PCI_INTERRUPT_PIN] = pc->interrupt_pin;

    pci_set_word(dev->wmask + PCI_COMMAND,
                 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                 PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
                 PCI_COMMAND_INTX_DISABLE);
    pci_set_word(dev->w1cmask + PCI_STATUS,
                 PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT |
                 PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT |
                 PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY);
    dev->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    dev->wmask[PCI_LATENCY_TIMER] = 0xff;
    dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

static int pci_find_free_slot(PCIBus *bus)
{
    for (int slot = 0; slot < PCI_SLOT_MAX; slot++) {
        bool free = true;
        for (int fn = 0; fn < PCI_FUNC_MAX; fn++) {
            free &= !bus->devices[PCI_DEVFN(slot, fn)];
        }
        if (free) {
            return PCI_DEVFN(slot, 0);
        }
    }
    return -1;
}

static bool pci_qdev_realize(DeviceState *ds, Error **errp)
{
    PCIDevice *dev = (PCIDevice *)ds;
    const PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(dev);
    PCIBus *bus = dev->bus ? dev->bus : root_bus;
    int devfn = dev->devfn;
    char buf[16];

    if (!bus) {
        error_setg(errp, "%s: there is no PCI bus", pci_dev_name(dev));
        return false;
    }
    if (devfn == PCI_DEVFN_AUTO) {
        devfn = pci_find_free_slot(bus);
        if (devfn < 0) {
            error_setg(errp, "%s: no free slot on PCI bus %s",
                       pci_dev_name(dev), bus->name);
            return false;
        }
    } else if (devfn < 0 || devfn >= PCI_DEVFN_MAX) {
        error_setg(errp, "%s: invalid PCI address %d", pci_dev_name(dev), devfn);
        return false;
    } else if (bus->devices[devfn]) {
        PCIDevice *other = bus->devices[devfn];
        error_setg(errp, "%s: PCI address %s is already in use by %s%s%s",
                   pci_dev_name(dev), pci_format_devfn(devfn, buf, sizeof(buf)),
                   pci_dev_name(other), other->parent_obj.id ? " id=" : "",
                   other->parent_obj.id ? other->parent_obj.id : "");
        return false;
    }

    dev->bus = bus;
    dev->devfn = devfn;
    dev->irq_level = 0;
    dev->irq_asserted = false;
    memset(dev->io_regions, 0, sizeof(dev->io_regions));
    for (int bar = 0; bar < PCI_NUM_REGIONS; bar++) {
        dev->io_regions[bar].addr = PCI_BAR_UNMAPPED;
    }
    pci_init_header(dev, pc);
    if (pc->pci_realize && !pc->pci_realize(dev, errp)) {
        dev->bus = NULL;
        return false;
    }
    memcpy(dev->reset_config, dev->config, sizeof(dev->config));
    bus->devices[devfn] = dev;
    return true;
}

static void pci_qdev_reset(DeviceState *ds)
{
    PCIDevice *dev = (PCIDevice *)ds;
    const PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(dev);

    pci_set_irq(dev, 0);
    memcpy(dev->config, dev->reset_config, sizeof(dev->config));
    pci_update_mappings(dev);
    if (pc->pci_reset) {
        pc->pci_reset(dev);
    }
}

void pci_device_class_register(PCIDeviceClass *pc)
{
    DeviceClass *dc = &pc->parent_class;
    size_t n = 0;

    g_assert(dc->instance_size >= sizeof(PCIDevice));
    g_assert(!dc->realize && !dc->reset);
    while (dc->props && dc->props[n].name) {
        n++;
    }
    /* "addr" first, then the class's own; zeroed tail ends the list. */
    Property *props = g_new0(Property, n + 2);
    props[0] = (Property) {
        .name = "addr", .type = PROP_PCI_DEVFN,
        .offset = offsetof(PCIDevice, devfn),
        .defval = (uint64_t)(int64_t)PCI_DEVFN_AUTO,
    };
    if (n) {
        memcpy(props + 1, dc->props, n * sizeof(Property));
    }
    dc->props = props;
    dc->bus = BUS_PCI;
    dc->realize = pci_qdev_realize;
    dc->reset = pci_qdev_reset;
    device_class_register(dc);
}

/*
 * With bus mastering off (PCICMD bit 2) the function cannot reach memory:
 * as in QEMU, whose bus-master address space is then disabled, its reads
 * see zeros and its writes go nowhere, and the device carries on.
 */
static bool pci_dma_rw(PCIDevice *dev, uint64_t addr, void *buf, uint64_t len,
                       bool is_write)
{
    if (!(pci_get_word(dev->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        log_guest_error("pci %s: DMA while bus mastering is disabled",
                        pci_dev_name(dev));
        if (!is_write) {
            memset(buf, 0, len);
        }
        return true;
    }
    return address_space_rw(&address_space_memory, addr, buf, len, is_write);
}

bool pci_dma_read(PCIDevice *dev, uint64_t addr, void *buf, uint64_t len)
{
    return pci_dma_rw(dev, addr, buf, len, false);
}

bool pci_dma_write(PCIDevice *dev, uint64_t addr, const void *buf,
                   uint64_t len)
{
    return pci_dma_rw(dev, addr, (void *)buf, len, true);
}

/* ---- "addr" property ---- */

static bool parse_hex(const char **p, unsigned long *out)
{
    char *end;

    if (!isxdigit((unsigned char)**p)) {
        return false;
    }
    *out = strtoul(*p, &end, 16);
    *p = end;
    return true;
}

bool pci_parse_devfn(const char *str, int32_t *devfn, Error **errp)
{
    const char *p = str;
    unsigned long slot, fn = 0;

    if (!strcmp(str, "auto") || !strcmp(str, "-1")) {
        *devfn = PCI_DEVFN_AUTO;
        return true;
    }
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
    }
    if (!parse_hex(&p, &slot) || (*p == '.' && (p++, !parse_hex(&p, &fn))) ||
        *p != '\0') {
        error_setg(errp, "invalid PCI address '%s': expected slot[.function] "
                   "in hex, e.g. 3 or 1f.2", str);
        return false;
    }
    if (slot >= PCI_SLOT_MAX || fn >= PCI_FUNC_MAX) {
        error_setg(errp, "invalid PCI address '%s': slot must be 0-1f and "
                   "function 0-7", str);
        return false;
    }
    *devfn = PCI_DEVFN(slot, fn);
    return true;
}

const char *pci_format_devfn(int32_t devfn, char *buf, size_t len)
{
    if (devfn < 0 || devfn >= PCI_DEVFN_MAX) {
        snprintf(buf, len, "auto");
    } else {
        snprintf(buf, len, "%02x.%x", PCI_SLOT(devfn), PCI_FUNC(devfn));
    }
    return buf;
}

/* ---- info pci ---- */

static const char *pci_class_desc(uint16_t class_id)
{
    static const struct { uint16_t id; const char *desc; } table[] = {
        { 0x0100, "SCSI controller" }, { 0x0101, "IDE controller" },
        { 0x0106, "SATA controller" }, { 0x0108, "NVMe controller" },
        { 0x0180, "Storage controller" }, { 0x0200, "Ethernet controller" },
        { 0x0300, "VGA controller" }, { 0x0380, "Display controller" },
        { 0x0401, "Audio controller" }, { 0x0403, "Audio controller" },
        { 0x0600, "Host bridge" }, { 0x0601, "ISA bridge" },
        { 0x0604, "PCI bridge" }, { 0x0680, "Bridge" },
        { 0x0700, "Serial port" }, { 0x0880, "System peripheral" },
        { 0x0c03, "USB controller" }, { 0x0c05, "SMBus" },
        { 0x00ff, "Unclassified device" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
        if (table[i].id == class_id) {
            return table[i].desc;
        }
    }
    return NULL;
}

static void pci_print_device(GString *out, int busnr, PCIDevice *dev)
{
    const uint8_t *c = dev->config;
    uint16_t class_id = pci_get_word(c + PCI_CLASS_DEVICE);
    const char *desc = pci_class_desc(class_id);

    g_string_append_printf(out, "  Bus %2d, device %3d, function %d:\n",
                           busnr, PCI_SLOT(dev->devfn), PCI_FUNC(dev->devfn));
    if (desc) {
        g_string_append_printf(out, "    %s:", desc);
    } else {
        g_string_append_printf(out, "    Class %04x:", class_id);
    }
    g_string_append_printf(out, " PCI device %04x:%04x\n",
                           pci_get_word(c + PCI_VENDOR_ID),
                           pci_get_word(c + PCI_DEVICE_ID));
    if ((c[PCI_HEADER_TYPE] & 0x7f) == PCI_HEADER_TYPE_NORMAL &&
        pci_get_word(c + PCI_SUBSYSTEM_VENDOR_ID)) {
        g_string_append_printf(out, "      PCI subsystem %04x:%04x\n",
                               pci_get_word(c + PCI_SUBSYSTEM_VENDOR_ID),
                               pci_get_word(c + PCI_SUBSYSTEM_ID));
    }
    if (c[PCI_INTERRUPT_PIN]) {
        g_string_append_printf(out, "      IRQ %d, pin %c\n",
                               c[PCI_INTERRUPT_LINE],
                               'A' + c[PCI_INTERRUPT_PIN] - 1);
    }
    for (int bar = 0; bar < PCI_NUM_REGIONS; bar++) {
        PCIIORegion *r = &dev->io_regions[bar];
        if (!r->mr) {
            continue;
        }
        g_string_append_printf(out, "      BAR%d: ", bar);
        if (r->type & PCI_BASE_ADDRESS_SPACE_IO) {
            g_string_append(out, "I/O");
        } else {
            g_string_append_printf(out, "%s%s memory",
                (r->type & PCI_BASE_ADDRESS_MEM_TYPE_64) ? "64 bit" : "32 bit",
                (r->type & PCI_BASE_ADDRESS_MEM_PREFETCH) ? " prefetch" : "");
        }
        if (r->addr == PCI_BAR_UNMAPPED) {
            g_string_append_printf(out, " unmapped [size 0x%" PRIx64 "]\n",
                                   r->size);
        } else {
            g_string_append_printf(out, " at 0x%" PRIx64 " [0x%" PRIx64 "]\n",
                                   r->addr, r->addr + r->size - 1);
        }
    }
    g_string_append_printf(out, "      id \"%s\"\n",
                           dev->parent_obj.id ? dev->parent_obj.id : "");
}

void pci_print_info(GString *out)
{
    if (!root_bus) {
        return;
    }
    for (int devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
        if (root_bus->devices[devfn]) {
            pci_print_device(out, 0, root_bus->devices[devfn]);
        }
    }
}

/* ---- migration ---- */

/* Bits of config byte a that keep their reset value whatever happens. */
static uint8_t pci_fixed_bits(PCIDevice *dev, int a)
{
    return dev->cmask[a] & ~dev->wmask[a] & ~dev->w1cmask[a];
}

/*
 * A no-op on a running device, whose fixed bits never change.  It makes any
 * in-memory state (the state round-trip test fills fields at random) encode
 * as a valid one.
 */
static int pci_device_pre_save(void *opaque)
{
    PCIDevice *dev = opaque;

    for (int a = 0; a < PCI_CONFIG_SPACE_SIZE; a++) {
        uint8_t m = pci_fixed_bits(dev, a);
        dev->config[a] = (dev->config[a] & ~m) | (dev->reset_config[a] & m);
    }
    if (!dev->config[PCI_INTERRUPT_PIN]) {
        dev->irq_level = 0;
    }
    pci_update_irq_status(dev);
    return 0;
}

static int pci_device_post_load(void *opaque, int version_id, Error **errp)
{
    PCIDevice *dev = opaque;
    char buf[16];

    for (int a = 0; a < PCI_CONFIG_SPACE_SIZE; a++) {
        if ((dev->config[a] ^ dev->reset_config[a]) & pci_fixed_bits(dev, a)) {
            error_setg(errp, "PCI device %s at %s: loaded config space does "
                       "not fit it (byte 0x%02x is 0x%02x, expected 0x%02x)",
                       pci_dev_name(dev),
                       pci_format_devfn(dev->devfn, buf, sizeof(buf)), a,
                       dev->config[a], dev->reset_config[a]);
            return -1;
        }
    }
    if (dev->irq_level && !dev->config[PCI_INTERRUPT_PIN]) {
        error_setg(errp, "PCI device %s: INTx asserted without a pin",
                   pci_dev_name(dev));
        return -1;
    }
    pci_update_irq_status(dev);
    pci_update_mappings(dev);
    pci_bus_resync_irqs(dev->bus);
    return 0;
}

const VMStateDescription vmstate_pci_device = {
    .name = "PCIDevice",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_BUFFER(config, PCIDevice),
        { .name = "irq_level", .type = VMS_UINT8, .num = 1, .max = 1,
          .offset = offsetof(PCIDevice, irq_level), .size = sizeof(uint8_t) },
        VMSTATE_END_OF_LIST()
    },
    .pre_save = pci_device_pre_save,
    .post_load = pci_device_post_load,
};
