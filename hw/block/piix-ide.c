/*
 * PIIX3 IDE function (82371SB function 1, 8086:7010): both channels in
 * compatibility mode at the legacy ports with IRQ 14 and 15, and the
 * bus-master IDE registers behind BAR4.  A channel's legacy ports decode
 * while its IDETIM decode bit is set; it is set at reset, the state PC
 * firmware leaves it in, so that guests booted without firmware find their
 * disks as they do under QEMU.
 */
#include "ide-internal.h"
#include "hw/isa/isa.h"
#include "system/system.h"

static PCIIDEState *the_controller;

static void piix_ide_update_ports(PCIIDEState *d)
{
    memory_region_transaction_begin();
    for (int i = 0; i < 2; i++) {
        bool on = pci_get_word(d->parent_obj.config + PIIX_IDETIM + 2 * i) &
                  PIIX_IDETIM_IDE;
        memory_region_set_enabled(&d->bus[i].cmd_io, on);
        memory_region_set_enabled(&d->bus[i].ctl_io, on);
    }
    memory_region_transaction_commit();
}

static void piix_ide_config_write(PCIDevice *dev, uint32_t addr, uint32_t val,
                                  int len)
{
    pci_default_config_write(dev, addr, val, len);
    if (addr < PIIX_IDETIM + 4 && addr + len > PIIX_IDETIM) {
        piix_ide_update_ports((PCIIDEState *)dev);
    }
}

/* Requests a loaded state was waiting for go out when the VM runs. */
static void piix_ide_runstate(RunState state, void *opaque)
{
    PCIIDEState *d = opaque;

    if (state == RUN_STATE_RUNNING) {
        ide_bus_restart(&d->bus[0]);
        ide_bus_restart(&d->bus[1]);
    }
}

static bool piix_ide_realize(PCIDevice *dev, Error **errp)
{
    PCIIDEState *d = (PCIIDEState *)dev;
    static const uint16_t cmd_base[2] = { ATA_PRIMARY_BASE,
                                          ATA_SECONDARY_BASE };
    static const uint16_t ctl_base[2] = { ATA_PRIMARY_CTRL,
                                          ATA_SECONDARY_CTRL };
    static const int irq[2] = { ATA_PRIMARY_IRQ, ATA_SECONDARY_IRQ };

    if (the_controller) {
        error_setg(errp, "there is already an IDE controller at the legacy "
                   "ports");
        return false;
    }
    pci_set_word(dev->config + PCI_STATUS,
                 PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM);
    for (int i = 0; i < 2; i++) {
        pci_set_word(dev->config + PIIX_IDETIM + 2 * i, PIIX_IDETIM_IDE);
        pci_set_word(dev->wmask + PIIX_IDETIM + 2 * i, 0xffff);
        ide_bus_init(&d->bus[i], i, dev, isa_get_irq(irq[i]));
        isa_register_ioport(&d->bus[i].cmd_io, cmd_base[i]);
        isa_register_ioport(&d->bus[i].ctl_io, ctl_base[i]);
    }
    dev->wmask[PIIX_SIDETIM] = 0xff;
    memory_region_init_io(&d->bmdma_io, &ide_bmdma_ops, d, "piix-bmdma", 16);
    pci_register_bar(dev, 4, PCI_BASE_ADDRESS_SPACE_IO, &d->bmdma_io);
    runstate_add_notifier(piix_ide_runstate, d);
    the_controller = d;
    return true;
}

static void piix_ide_reset(PCIDevice *dev)
{
    PCIIDEState *d = (PCIIDEState *)dev;

    ide_bus_reset(&d->bus[0]);
    ide_bus_reset(&d->bus[1]);
    piix_ide_update_ports(d);
}

static int piix_ide_post_load(void *opaque, int version_id, Error **errp)
{
    piix_ide_update_ports(opaque);
    return 0;
}

static const VMStateDescription vmstate_piix_ide = {
    .name = "piix3-ide",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = piix_ide_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(parent_obj, PCIIDEState, vmstate_pci_device, PCIDevice),
        VMSTATE_STRUCT_ARRAY(bus, PCIIDEState, 2, vmstate_ide_bus, IDEBus),
        VMSTATE_END_OF_LIST()
    },
};

static PCIDeviceClass piix_ide_class = {
    .parent_class = {
        .name = "piix3-ide",
        .desc = "Intel 82371SB PIIX3 IDE controller",
        .instance_size = sizeof(PCIIDEState),
        .vmsd = &vmstate_piix_ide,
    },
    .vendor_id = 0x8086,
    .device_id = 0x7010,
    .class_id = 0x0101,
    .prog_if = 0x80,                /* bus master, both channels legacy */
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .header_type = PCI_HEADER_TYPE_NORMAL,
    .pci_realize = piix_ide_realize,
    .pci_reset = piix_ide_reset,
    .config_write = piix_ide_config_write,
};
PCI_DEVICE_REGISTER(piix_ide_class)

PCIIDEState *piix3_ide_init(PCIBus *bus)
{
    DeviceState *ds = device_new("piix3-ide");
    PCIIDEState *d = (PCIIDEState *)ds;
    Error *err = NULL;

    d->parent_obj.bus = bus;
    d->parent_obj.devfn = PCI_DEVFN(1, 1);
    if (!device_realize(ds, &err)) {
        error_report_err(err);
        exit(1);
    }
    return d;
}

IDEBus *ide_bus_find(const char *name)
{
    for (int i = 0; the_controller && i < 2; i++) {
        IDEBus *bus = &the_controller->bus[i];
        if (!name || !strcmp(bus->name, name)) {
            return bus;
        }
    }
    return NULL;
}

PCIIDEState *ide_controller(void)
{
    return the_controller;
}
