/*
 * "pvpanic": the guest reports a panic through one I/O port (0x505 by
 * default), after QEMU's pvpanic specification (docs/specs/pvpanic.rst).
 * A read returns the events the device knows (bit 0 panicked, bit 1 crash
 * kernel loaded); a write of bit 0 is a panic, which -action panic= turns
 * into a GUEST_PANICKED event and a stop, shutdown or nothing; bit 1 only
 * sends GUEST_CRASHLOADED.  As the specification asks, bits outside
 * "events" are ignored.  SeaBIOS finds the port in fw_cfg
 * "etc/pvpanic-port" and describes the device (QEMU0001) in its ACPI SSDT.
 */
#include "util/osdep.h"
#include "hw/isa/isa.h"
#include "hw/i386/fw_cfg.h"
#include "system/system.h"

#define PVPANIC_PANICKED        0x01
#define PVPANIC_CRASH_LOADED    0x02

typedef struct PVPanicState {
    DeviceState parent_obj;
    uint16_t ioport;
    uint8_t events;              /* what the guest may report */
    MemoryRegion io;
} PVPanicState;

static uint64_t pvpanic_read(void *opaque, uint64_t addr, unsigned size)
{
    PVPanicState *s = opaque;

    return s->events;
}

static void pvpanic_write(void *opaque, uint64_t addr, uint64_t val,
                          unsigned size)
{
    PVPanicState *s = opaque;
    uint8_t event = val & s->events;

    if (val & ~(uint64_t)s->events) {
        log_guest_error("pvpanic: unknown event bits 0x%02" PRIx64
                        " ignored", val & ~(uint64_t)s->events);
    }
    /* Both bits at once: a panic, which says more than crash-loaded. */
    if (event & PVPANIC_PANICKED) {
        qemu_system_guest_panicked();
    } else if (event & PVPANIC_CRASH_LOADED) {
        qemu_system_guest_crashloaded();
    }
}

static const MemoryRegionOps pvpanic_ops = {
    .read = pvpanic_read,
    .write = pvpanic_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

/* Nothing to reset: the device has no state of its own. */
static void pvpanic_reset(DeviceState *dev)
{
}

static bool pvpanic_realize(DeviceState *dev, Error **errp)
{
    PVPanicState *s = (PVPanicState *)dev;
    FWCfgState *fw_cfg = fw_cfg_find();

    if (s->events & ~(PVPANIC_PANICKED | PVPANIC_CRASH_LOADED)) {
        error_setg(errp, "pvpanic: events=0x%x: only bits 0 (panicked) and "
                   "1 (crash-loaded) are defined", s->events);
        return false;
    }
    memory_region_init_io(&s->io, &pvpanic_ops, s, "pvpanic", 1);
    isa_register_ioport(&s->io, s->ioport);
    if (fw_cfg) {
        uint8_t port[2];
        stw_le(port, s->ioport);
        fw_cfg_add_file(fw_cfg, "etc/pvpanic-port", port, sizeof(port));
    }
    return true;
}

static const VMStateField pvpanic_fields[] = {
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription pvpanic_vmsd = {
    .name = "pvpanic",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = pvpanic_fields,
};

static const Property pvpanic_props[] = {
    DEFINE_PROP_UINT16("ioport", PVPanicState, ioport, 0x505),
    DEFINE_PROP_UINT8("events", PVPanicState, events,
                      PVPANIC_PANICKED | PVPANIC_CRASH_LOADED),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass pvpanic_class = {
    .name = "pvpanic",
    .desc = "pvpanic device",
    .bus = BUS_ISA,
    .instance_size = sizeof(PVPanicState),
    .props = pvpanic_props,
    .user_creatable = true,
    .realize = pvpanic_realize,
    .reset = pvpanic_reset,
    .vmsd = &pvpanic_vmsd,
};
DEVICE_REGISTER(pvpanic_class);
