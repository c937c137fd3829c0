/*
 * "isa-debug-exit": writing v to its port ends the emulator with exit status
 * (v << 1) | 1, so a test guest can report pass/fail and never looks like a
 * clean 0 exit.
 */
#include "util/osdep.h"
#include "hw/isa/isa.h"
#include "system/system.h"

typedef struct DebugExitState {
    DeviceState parent_obj;
    uint32_t iobase;
    uint32_t iosize;
    MemoryRegion io;
} DebugExitState;

static uint64_t debug_exit_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0;
}

static void debug_exit_write(void *opaque, uint64_t addr, uint64_t val,
                             unsigned size)
{
    qemu_system_exit_request((val << 1) | 1);
}

static const MemoryRegionOps debug_exit_ops = {
    .read = debug_exit_read,
    .write = debug_exit_write,
    .valid = { .min_access_size = 1, .max_access_size = 4, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

/* Nothing to reset, but every device has a reset handler. */
static void debug_exit_reset(DeviceState *dev)
{
}

static bool debug_exit_realize(DeviceState *dev, Error **errp)
{
    DebugExitState *s = (DebugExitState *)dev;

    if (!s->iosize || s->iosize > 0x10000 || s->iobase > 0x10000 - s->iosize) {
        error_setg(errp, "isa-debug-exit: iobase 0x%x iosize 0x%x out of range",
                   s->iobase, s->iosize);
        return false;
    }
    memory_region_init_io(&s->io, &debug_exit_ops, s, "isa-debug-exit",
                          s->iosize);
    isa_register_ioport(&s->io, s->iobase);
    return true;
}

static const VMStateField debug_exit_fields[] = {
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription debug_exit_vmsd = {
    .name = "isa-debug-exit",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = debug_exit_fields,
};

static const Property debug_exit_props[] = {
    DEFINE_PROP_UINT32("iobase", DebugExitState, iobase, 0x501),
    DEFINE_PROP_UINT32("iosize", DebugExitState, iosize, 2),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass debug_exit_class = {
    .name = "isa-debug-exit",
    .desc = "ISA debug exit port",
    .bus = BUS_ISA,
    .instance_size = sizeof(DebugExitState),
    .props = debug_exit_props,
    .user_creatable = true,
    .realize = debug_exit_realize,
    .reset = debug_exit_reset,
    .vmsd = &debug_exit_vmsd,
};
DEVICE_REGISTER(debug_exit_class);
