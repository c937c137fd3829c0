/*
 * System Control Port A (port 0x92, "fast A20"): bit 1 gates A20, a rising
 * edge on bit 0 resets the CPU.  KVM has no A20 mask, so the gate is only
 * remembered for the guest to read back.
 */
#include "util/osdep.h"
#include "hw/isa/isa.h"
#include "system/system.h"

#define PORT92_RESET    0x01
#define PORT92_A20      0x02

typedef struct Port92State {
    DeviceState parent_obj;
    MemoryRegion io;
    uint8_t outport;
} Port92State;

static uint64_t port92_read(void *opaque, uint64_t addr, unsigned size)
{
    Port92State *s = opaque;

    return s->outport;
}

static void port92_write(void *opaque, uint64_t addr, uint64_t val,
                         unsigned size)
{
    Port92State *s = opaque;
    uint8_t old = s->outport;

    if (val & ~(uint64_t)(PORT92_RESET | PORT92_A20)) {
        log_guest_error("port92: reserved bits of 0x%02" PRIx64 " ignored",
                        val);
    }
    s->outport = val & (PORT92_RESET | PORT92_A20);
    /* Bit 0 must go back to 0 before it can reset again. */
    if ((s->outport & ~old) & PORT92_RESET) {
        qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
    }
}

static const MemoryRegionOps port92_ops = {
    .read = port92_read,
    .write = port92_write,
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static void port92_reset(DeviceState *dev)
{
    Port92State *s = (Port92State *)dev;

    s->outport = 0;
}

static bool port92_realize(DeviceState *dev, Error **errp)
{
    Port92State *s = (Port92State *)dev;

    memory_region_init_io(&s->io, &port92_ops, s, "port92", 1);
    isa_register_ioport(&s->io, 0x92);
    return true;
}

static const VMStateField port92_fields[] = {
    VMSTATE_FIELD_MAX(outport, Port92State, VMS_UINT8,
                      PORT92_RESET | PORT92_A20),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription port92_vmsd = {
    .name = "port92",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = port92_fields,
};

static const Property port92_props[] = {
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass port92_class = {
    .name = "port92",
    .desc = "System Control Port A (fast A20 and reset)",
    .bus = BUS_ISA,
    .instance_size = sizeof(Port92State),
    .props = port92_props,
    .realize = port92_realize,
    .reset = port92_reset,
    .vmsd = &port92_vmsd,
};
DEVICE_REGISTER(port92_class);
