/*
 * i440FX host bridge (82441FX PMC): config mechanism #1, PAM and SMRAM.
 *
 * The PAM registers give each of 13 segments of 0xc0000-0xfffff one of four
 * views: PCI (the ROMs), read-only RAM, write-only RAM (reads from PCI) and
 * RAM.  Each segment has one region per view in system memory, above RAM,
 * and exactly one is enabled.  The SMRAM window works the same way with two.
 * SMM itself (a separate view for the CPU in SMM) is not modelled.
 */
#include "hw/pci-host/i440fx.h"

#define PAM_SEGMENTS            13
#define CONFADD_ENABLE          0x80000000u
#define CONFADD_MASK            0x80ffffffu     /* 30:24 reserved */

enum { PAM_PCI, PAM_READ_ONLY, PAM_WRITE_ONLY, PAM_RAM, PAM_VIEWS };

typedef struct I440FXState I440FXState;

typedef struct PAMSegment {
    I440FXState *s;
    uint64_t base, size;
    MemoryRegion view[PAM_VIEWS];
} PAMSegment;

struct I440FXState {
    PCIDevice parent_obj;
    uint32_t config_address;        /* CONFADD at 0xcf8 */
    MemoryRegion *ram, *pci_memory; /* given by i440fx_init */
    AddressSpace pci_as;            /* reads of write-only segments */
    MemoryRegion confadd_io, confdata_io;
    PAMSegment pam[PAM_SEGMENTS];
    MemoryRegion smram_ram, smram_pci;
};

/* Segment 0 is 0xf0000-0xfffff in PAM0's high nibble; segments 1-12 are
 * 0xc0000 upwards in 16 KiB steps, low nibble of PAM1 first. */
static unsigned pam_mode(I440FXState *s, int seg)
{
    uint8_t reg = s->parent_obj.config[I440FX_PAM0 + (seg + 1) / 2];
    return ((seg & 1) ? reg : reg >> 4) & (PAM_RE | PAM_WE);
}

static bool smram_open(uint8_t smram)
{
    return (smram & SMRAM_G_SMRAME) && (smram & SMRAM_D_OPEN);
}

static void i440fx_update_memory(I440FXState *s)
{
    memory_region_transaction_begin();
    for (int seg = 0; seg < PAM_SEGMENTS; seg++) {
        unsigned mode = pam_mode(s, seg);
        for (unsigned v = 0; v < PAM_VIEWS; v++) {
            memory_region_set_enabled(&s->pam[seg].view[v], v == mode);
        }
    }
    bool open = smram_open(s->parent_obj.config[I440FX_SMRAM]);
    memory_region_set_enabled(&s->smram_ram, open);
    memory_region_set_enabled(&s->smram_pci, !open);
    memory_region_transaction_commit();
}

/* Once D_LCK is set only a reset clears it, and D_OPEN stays clear. */
static void i440fx_update_smram_wmask(I440FXState *s)
{
    PCIDevice *dev = &s->parent_obj;
    dev->wmask[I440FX_SMRAM] = (dev->config[I440FX_SMRAM] & SMRAM_D_LCK) ?
        SMRAM_D_CLS | SMRAM_G_SMRAME :
        SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME;
}

static void i440fx_config_write(PCIDevice *dev, uint32_t addr, uint32_t val,
                                int len)
{
    I440FXState *s = (I440FXState *)dev;

    pci_default_config_write(dev, addr, val, len);
    if (addr <= I440FX_SMRAM && addr + len > I440FX_SMRAM) {
        if (dev->config[I440FX_SMRAM] & SMRAM_D_LCK) {
            dev->config[I440FX_SMRAM] &= ~SMRAM_D_OPEN;
        }
        i440fx_update_smram_wmask(s);
    }
    if ((addr < I440FX_PAM0 + I440FX_PAM_REGS && addr + len > I440FX_PAM0) ||
        (addr <= I440FX_SMRAM && addr + len > I440FX_SMRAM)) {
        i440fx_update_memory(s);
    }
}

/* ---- write-only PAM segments: reads from PCI, writes to RAM ---- */

static uint64_t pam_wo_read(void *opaque, uint64_t addr, unsigned size)
{
    PAMSegment *seg = opaque;
    uint64_t val = 0;

    address_space_read(&seg->s->pci_as, seg->base + addr, &val, size);
    return val;
}

static void pam_wo_write(void *opaque, uint64_t addr, uint64_t val,
                         unsigned size)
{
    PAMSegment *seg = opaque;
    MemoryRegion *ram = seg->s->ram;
    uint64_t pa = seg->base + addr;

    if (ram->type == MR_RAM && pa + size <= ram->size) {
        memcpy(ram->ram + pa, &val, size);
    }
}

static const MemoryRegionOps pam_wo_ops = {
    .read = pam_wo_read,
    .write = pam_wo_write,
    .valid = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

/* ---- configuration mechanism #1 ---- */

static PCIBus *i440fx_bus(I440FXState *s)
{
    return s->parent_obj.bus;
}

/* Only a dword at 0xcf8 is CONFADD; the rest are I/O cycles on the bus. */
static uint64_t confadd_read(void *opaque, uint64_t addr, unsigned size)
{
    I440FXState *s = opaque;

    if (addr == 0 && size == 4) {
        return s->config_address;
    }
    return pci_bus_cf8_io_read(i440fx_bus(s), addr, size);
}

static void confadd_write(void *opaque, uint64_t addr, uint64_t val,
                          unsigned size)
{
    I440FXState *s = opaque;

    if (addr == 0 && size == 4) {
        s->config_address = val & CONFADD_MASK;
        return;
    }
    pci_bus_cf8_io_write(i440fx_bus(s), addr, val, size);
}

static const MemoryRegionOps confadd_ops = {
    .read = confadd_read,
    .write = confadd_write,
    .valid = { .min_access_size = 1, .max_access_size = 4, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

/*
 * CONFADD's bits 1:0 are kept and ORed with the data port offset, as QEMU
 * does (its qtest PCI accessors put the register's low bits there).
 */
static uint64_t confdata_read(void *opaque, uint64_t addr, unsigned size)
{
    I440FXState *s = opaque;
    uint32_t ca = s->config_address;

    if (!(ca & CONFADD_ENABLE) || addr + size > 4) {
        return size >= 4 ? UINT32_MAX : (1u << (size * 8)) - 1;
    }
    return pci_host_config_read(i440fx_bus(s), (ca >> 16) & 0xff,
                                (ca >> 8) & 0xff, (ca & 0xff) | addr, size);
}

static void confdata_write(void *opaque, uint64_t addr, uint64_t val,
                           unsigned size)
{
    I440FXState *s = opaque;
    uint32_t ca = s->config_address;

    if (!(ca & CONFADD_ENABLE) || addr + size > 4) {
        return;
    }
    pci_host_config_write(i440fx_bus(s), (ca >> 16) & 0xff, (ca >> 8) & 0xff,
                          (ca & 0xff) | addr, val, size);
}

static const MemoryRegionOps confdata_ops = {
    .read = confdata_read,
    .write = confdata_write,
    .valid = { .min_access_size = 1, .max_access_size = 4, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

/* ---- device ---- */

static void i440fx_init_views(I440FXState *s, int seg, uint64_t base,
                              uint64_t size)
{
    PAMSegment *p = &s->pam[seg];
    MemoryRegion *sysmem = get_system_memory();
    char name[32];

    p->s = s;
    p->base = base;
    p->size = size;
    snprintf(name, sizeof(name), "pam-pci-%05" PRIx64, base);
    memory_region_init_alias(&p->view[PAM_PCI], name, s->pci_memory, base,
                             size);
    snprintf(name, sizeof(name), "pam-rom-%05" PRIx64, base);
    memory_region_init_alias(&p->view[PAM_READ_ONLY], name, s->ram, base,
                             size);
    memory_region_set_readonly(&p->view[PAM_READ_ONLY], true);
    snprintf(name, sizeof(name), "pam-wo-%05" PRIx64, base);
    memory_region_init_io(&p->view[PAM_WRITE_ONLY], &pam_wo_ops, p, name,
                          size);
    snprintf(name, sizeof(name), "pam-ram-%05" PRIx64, base);
    memory_region_init_alias(&p->view[PAM_RAM], name, s->ram, base, size);
    for (int v = 0; v < PAM_VIEWS; v++) {
        memory_region_set_enabled(&p->view[v], false);
        memory_region_add_subregion_overlap(sysmem, base, &p->view[v], 1);
    }
}

static bool i440fx_realize(PCIDevice *dev, Error **errp)
{
    I440FXState *s = (I440FXState *)dev;
    MemoryRegion *sysmem = get_system_memory();

    if (!s->ram || !s->pci_memory) {
        error_setg(errp, "i440FX is created by the board with i440fx_init()");
        return false;
    }
    /* 82441FX defaults: memory and bus master hardwired on. */
    pci_set_word(dev->config + PCI_COMMAND,
                 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_set_word(dev->wmask + PCI_COMMAND, PCI_COMMAND_SERR);
    pci_set_word(dev->config + PCI_STATUS,
                 PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM);
    dev->wmask[I440FX_PAM0] = 0x30;
    for (int i = 1; i < I440FX_PAM_REGS; i++) {
        dev->wmask[I440FX_PAM0 + i] = 0x33;
    }
    dev->config[I440FX_SMRAM] = SMRAM_C_BASE_SEG;
    dev->cmask[I440FX_SMRAM] = 0;       /* its wmask changes: checked here */
    i440fx_update_smram_wmask(s);

    memory_region_transaction_begin();
    i440fx_init_views(s, 0, 0xf0000, 64 * KiB);
    for (int seg = 1; seg < PAM_SEGMENTS; seg++) {
        i440fx_init_views(s, seg, 0xc0000 + (seg - 1) * 16 * KiB, 16 * KiB);
    }
    memory_region_init_alias(&s->smram_ram, "smram-ram", s->ram, 0xa0000,
                             128 * KiB);
    memory_region_init_alias(&s->smram_pci, "smram-pci", s->pci_memory,
                             0xa0000, 128 * KiB);
    memory_region_add_subregion_overlap(sysmem, 0xa0000, &s->smram_ram, 1);
    memory_region_add_subregion_overlap(sysmem, 0xa0000, &s->smram_pci, 1);
    i440fx_update_memory(s);
    memory_region_transaction_commit();
    address_space_init(&s->pci_as, s->pci_memory, "pci-memory");

    /* Above anything a guest maps at a BAR, so it cannot lose config access. */
    memory_region_init_io(&s->confadd_io, &confadd_ops, s, "pci-conf-idx", 4);
    memory_region_init_io(&s->confdata_io, &confdata_ops, s, "pci-conf-data", 4);
    memory_region_add_subregion_overlap(get_system_io(), 0xcf8,
                                        &s->confadd_io, 2);
    memory_region_add_subregion_overlap(get_system_io(), 0xcfc,
                                        &s->confdata_io, 2);
    return true;
}

static void i440fx_reset(PCIDevice *dev)
{
    I440FXState *s = (I440FXState *)dev;

    s->config_address = 0;
    i440fx_update_smram_wmask(s);
    i440fx_update_memory(s);
}

static uint8_t smram_canonical(uint8_t smram)
{
    smram = (smram & (SMRAM_G_SMRAME | SMRAM_D_LCK | SMRAM_D_CLS |
                      SMRAM_D_OPEN)) | SMRAM_C_BASE_SEG;
    return (smram & SMRAM_D_LCK) ? smram & ~SMRAM_D_OPEN : smram;
}

/* A no-op on a running device; see pci_device_pre_save(). */
static int i440fx_pre_save(void *opaque)
{
    I440FXState *s = opaque;

    s->parent_obj.config[I440FX_SMRAM] =
        smram_canonical(s->parent_obj.config[I440FX_SMRAM]);
    s->config_address &= CONFADD_MASK;
    return 0;
}

/* PAM values were checked with the rest of config space. */
static int i440fx_post_load(void *opaque, int version_id, Error **errp)
{
    I440FXState *s = opaque;
    uint8_t smram = s->parent_obj.config[I440FX_SMRAM];

    if (smram != smram_canonical(smram)) {
        error_setg(errp, "i440FX: invalid SMRAM value 0x%02x", smram);
        return -1;
    }
    if (s->config_address & ~CONFADD_MASK) {
        error_setg(errp, "i440FX: invalid CONFADD value 0x%08x",
                   s->config_address);
        return -1;
    }
    i440fx_update_smram_wmask(s);
    i440fx_update_memory(s);
    return 0;
}

static const VMStateDescription vmstate_i440fx = {
    .name = "i440FX",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(parent_obj, I440FXState, vmstate_pci_device, PCIDevice),
        VMSTATE_UINT32(config_address, I440FXState),
        VMSTATE_END_OF_LIST()
    },
    .pre_save = i440fx_pre_save,
    .post_load = i440fx_post_load,
};

static PCIDeviceClass i440fx_class = {
    .parent_class = {
        .name = "i440FX",
        .desc = "Intel 82441FX PCI and memory controller (host bridge)",
        .instance_size = sizeof(I440FXState),
        .vmsd = &vmstate_i440fx,
    },
    .vendor_id = 0x8086,
    .device_id = 0x1237,
    /* Red Hat's QEMU ids: SeaBIOS recognises the virtual machine by them. */
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .revision = 0x02,
    .class_id = 0x0600,
    .header_type = PCI_HEADER_TYPE_NORMAL,
    .pci_realize = i440fx_realize,
    .pci_reset = i440fx_reset,
    .config_write = i440fx_config_write,
};
PCI_DEVICE_REGISTER(i440fx_class)

PCIBus *i440fx_init(MemoryRegion *ram, MemoryRegion *pci_memory)
{
    PCIBus *bus = pci_root_bus_new("pci.0", pci_memory, get_system_io());
    DeviceState *ds = device_new("i440FX");
    I440FXState *s = (I440FXState *)ds;
    Error *err = NULL;

    s->ram = ram;
    s->pci_memory = pci_memory;
    s->parent_obj.bus = bus;
    s->parent_obj.devfn = PCI_DEVFN(0, 0);
    if (!device_realize(ds, &err)) {
        error_report_err(err);
        exit(1);
    }
    return bus;
}
