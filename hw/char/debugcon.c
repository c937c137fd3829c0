/*
 * Bochs-style debug console ("isa-debugcon"): bytes written to one I/O port
 * (0xe9 by default) go to a chardev; reads return a fixed value so that
 * firmware can detect the port.
 */
#include "util/osdep.h"
#include "hw/isa/isa.h"
#include "chardev/char.h"

typedef struct DebugconState {
    DeviceState parent_obj;
    uint32_t iobase;
    uint32_t readback;
    Chardev *chr;
    MemoryRegion io;
} DebugconState;

static uint64_t debugcon_read(void *opaque, uint64_t addr, unsigned size)
{
    DebugconState *s = opaque;

    return s->readback;
}

static void debugcon_write(void *opaque, uint64_t addr, uint64_t val,
                           unsigned size)
{
    DebugconState *s = opaque;
    uint8_t byte = val;

    if (s->chr) {
        chardev_write(s->chr, &byte, 1);
    }
}

static const MemoryRegionOps debugcon_ops = {
    .read = debugcon_read,
    .write = debugcon_write,
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

/* Nothing to reset, but every device has a reset handler. */
static void debugcon_reset(DeviceState *dev)
{
}

static bool debugcon_realize(DeviceState *dev, Error **errp)
{
    DebugconState *s = (DebugconState *)dev;

    if (s->iobase > 0xffff) {
        error_setg(errp, "isa-debugcon: iobase 0x%x out of range", s->iobase);
        return false;
    }
    memory_region_init_io(&s->io, &debugcon_ops, s, "debugcon", 1);
    isa_register_ioport(&s->io, s->iobase);
    return true;
}

/* No state of its own: the description exists so the device migrates. */
static const VMStateField debugcon_fields[] = {
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription debugcon_vmsd = {
    .name = "isa-debugcon",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = debugcon_fields,
};

static const Property debugcon_props[] = {
    DEFINE_PROP_UINT32("iobase", DebugconState, iobase, 0xe9),
    DEFINE_PROP_UINT32("readback", DebugconState, readback, 0xe9),
    DEFINE_PROP_CHR("chardev", DebugconState, chr),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass debugcon_class = {
    .name = "isa-debugcon",
    .desc = "ISA debug console (port 0xe9)",
    .bus = BUS_ISA,
    .instance_size = sizeof(DebugconState),
    .props = debugcon_props,
    .user_creatable = true,
    .realize = debugcon_realize,
    .reset = debugcon_reset,
    .vmsd = &debugcon_vmsd,
};
DEVICE_REGISTER(debugcon_class);
