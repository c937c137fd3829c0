/*
 * PIIX3 PCI-to-ISA bridge, function 0.  It is the PCI bus's interrupt
 * router: the bus counts how many devices assert each of PIRQA-D and tells
 * us; each PIRQ goes to the ISA IRQ its route register names, and an ISA IRQ
 * is high while any PIRQ routed to it is.  Also the reset control register.
 */
#include "hw/isa/piix3.h"
#include "hw/isa/isa.h"
#include "system/system.h"

#define PIIX3_NUM_PIRQS         4
#define ISA_NUM_IRQS            16
/* IRQs a PIRQ may be steered to: 3-7, 9-12, 14, 15. */
#define PIIX3_ROUTABLE_IRQS     0xdef8
#define PIIX3_RCR_MASK          (PIIX3_RCR_SRST | PIIX3_RCR_RCPU)

typedef struct PIIX3State {
    PCIDevice parent_obj;
    uint8_t rcr;                        /* reset control, port 0xcf9 */
    MemoryRegion rcr_io;
    bool pirq_level[PIIX3_NUM_PIRQS];   /* from the bus */
    bool isa_level[ISA_NUM_IRQS];       /* what we drive */
} PIIX3State;

static int piix3_route(PIIX3State *s, int pirq)
{
    uint8_t r = s->parent_obj.config[PIIX3_PIRQRC + pirq];
    int irq = r & PIIX3_PIRQ_IRQ_MASK;

    if ((r & PIIX3_PIRQ_DISABLE) || !(PIIX3_ROUTABLE_IRQS & (1 << irq))) {
        return -1;
    }
    return irq;
}

static void piix3_update_isa_irqs(PIIX3State *s)
{
    bool level[ISA_NUM_IRQS] = { false };

    for (int pirq = 0; pirq < PIIX3_NUM_PIRQS; pirq++) {
        int irq = piix3_route(s, pirq);
        if (irq >= 0 && s->pirq_level[pirq]) {
            level[irq] = true;
        }
    }
    for (int irq = 0; irq < ISA_NUM_IRQS; irq++) {
        if (level[irq] != s->isa_level[irq]) {
            s->isa_level[irq] = level[irq];
            qemu_set_irq(isa_get_irq(irq), level[irq]);
        }
    }
}

static void piix3_set_pirq(void *opaque, int pirq, int level)
{
    PIIX3State *s = opaque;

    s->pirq_level[pirq] = level;
    piix3_update_isa_irqs(s);
}

static void piix3_config_write(PCIDevice *dev, uint32_t addr, uint32_t val,
                               int len)
{
    PIIX3State *s = (PIIX3State *)dev;

    pci_default_config_write(dev, addr, val, len);
    if (addr >= PIIX3_PIRQRC + PIIX3_NUM_PIRQS || addr + len <= PIIX3_PIRQRC) {
        return;
    }
    for (int pirq = 0; pirq < PIIX3_NUM_PIRQS; pirq++) {
        uint8_t r = dev->config[PIIX3_PIRQRC + pirq];
        if (!(r & PIIX3_PIRQ_DISABLE) && piix3_route(s, pirq) < 0) {
            log_guest_error("PIIX3: PIRQ%c routed to reserved IRQ %d, ignored",
                            'A' + pirq, r & PIIX3_PIRQ_IRQ_MASK);
        }
    }
    piix3_update_isa_irqs(s);
}

static uint64_t rcr_read(void *opaque, uint64_t addr, unsigned size)
{
    PIIX3State *s = opaque;
    return s->rcr;
}

static void rcr_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PIIX3State *s = opaque;

    s->rcr = val & PIIX3_RCR_MASK;
    /* Hard and soft reset alike reset the machine: there is no INIT-only
     * path, and guests use 0x06 (hard) anyway. */
    if (val & PIIX3_RCR_RCPU) {
        qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
    }
}

static const MemoryRegionOps rcr_ops = {
    .read = rcr_read,
    .write = rcr_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
};

static bool piix3_realize(PCIDevice *dev, Error **errp)
{
    PIIX3State *s = (PIIX3State *)dev;

    /* I/O, memory and bus master are hardwired on in function 0. */
    pci_set_word(dev->config + PCI_COMMAND, PCI_COMMAND_IO |
                 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_set_word(dev->wmask + PCI_COMMAND, PCI_COMMAND_SPECIAL);
    pci_set_word(dev->config + PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM);
    for (int pirq = 0; pirq < PIIX3_NUM_PIRQS; pirq++) {
        dev->config[PIIX3_PIRQRC + pirq] = PIIX3_PIRQ_DISABLE;
        dev->wmask[PIIX3_PIRQRC + pirq] =
            PIIX3_PIRQ_DISABLE | PIIX3_PIRQ_IRQ_MASK;
    }
    /* Plain storage: nothing here depends on them. */
    dev->config[PIIX3_TOM] = 0x02;
    dev->wmask[PIIX3_TOM] = 0xfe;
    dev->config[PIIX3_APICBASE] = 0x00;
    dev->wmask[PIIX3_APICBASE] = 0x7f;

    pci_bus_irqs(dev->bus, piix3_set_pirq, pci_swizzle_map_irq, s,
                 PIIX3_NUM_PIRQS);
    memory_region_init_io(&s->rcr_io, &rcr_ops, s, "piix3-rcr", 1);
    pci_bus_add_cf8_port(dev->bus, PIIX3_RCR_PORT, &s->rcr_io);
    return true;
}

static void piix3_reset(PCIDevice *dev)
{
    PIIX3State *s = (PIIX3State *)dev;

    s->rcr = 0;
    piix3_update_isa_irqs(s);
}

/* A no-op on a running device; see pci_device_pre_save(). */
static int piix3_pre_save(void *opaque)
{
    PIIX3State *s = opaque;

    s->rcr &= PIIX3_RCR_MASK;
    return 0;
}

/* Route registers were checked with the rest of config space. */
static int piix3_post_load(void *opaque, int version_id, Error **errp)
{
    PIIX3State *s = opaque;

    if (s->rcr & ~PIIX3_RCR_MASK) {
        error_setg(errp, "PIIX3: invalid reset control value 0x%02x", s->rcr);
        return -1;
    }
    piix3_update_isa_irqs(s);
    return 0;
}

static const VMStateDescription vmstate_piix3 = {
    .name = "PIIX3",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(parent_obj, PIIX3State, vmstate_pci_device, PCIDevice),
        VMSTATE_UINT8(rcr, PIIX3State),
        VMSTATE_END_OF_LIST()
    },
    .pre_save = piix3_pre_save,
    .post_load = piix3_post_load,
};

static PCIDeviceClass piix3_class = {
    .parent_class = {
        .name = "PIIX3",
        .desc = "Intel 82371SB PIIX3 PCI-to-ISA bridge",
        .instance_size = sizeof(PIIX3State),
        .vmsd = &vmstate_piix3,
    },
    .vendor_id = 0x8086,
    .device_id = 0x7000,
    .class_id = 0x0601,
    .header_type = PCI_HEADER_TYPE_NORMAL | PCI_HEADER_TYPE_MULTI_FUNCTION,
    .pci_realize = piix3_realize,
    .pci_reset = piix3_reset,
    .config_write = piix3_config_write,
};
PCI_DEVICE_REGISTER(piix3_class)

void piix3_init(PCIBus *bus)
{
    DeviceState *ds = device_new("PIIX3");
    PIIX3State *s = (PIIX3State *)ds;
    Error *err = NULL;

    s->parent_obj.bus = bus;
    s->parent_obj.devfn = PCI_DEVFN(1, 0);
    if (!device_realize(ds, &err)) {
        error_report_err(err);
        exit(1);
    }
}
