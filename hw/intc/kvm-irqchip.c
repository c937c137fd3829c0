/*
 * The in-kernel interrupt controllers and PIT (KVM_CREATE_IRQCHIP/PIT2).
 * Their models live in the kernel; these devices make their state data like
 * every other device's: fetched before save, pushed back after load, and
 * restored to the power-on values captured at creation on reset.  The PIT
 * is also held while the VM is stopped (kvm_pit_hold).
 */
#include "accel/kvm.h"
#include "hw/qdev.h"
#include "hw/isa/isa.h"

typedef struct KVMPICState {
    DeviceState parent_obj;
    struct kvm_pic_state chip[2];
    struct kvm_pic_state power_on[2];
} KVMPICState;

typedef struct KVMIOAPICState {
    DeviceState parent_obj;
    struct kvm_ioapic_state ioapic;
    struct kvm_ioapic_state power_on;
} KVMIOAPICState;

typedef struct KVMPITState {
    DeviceState parent_obj;
    struct kvm_pit_state2 pit;
    struct kvm_pit_state2 power_on;
    struct kvm_pit_state2 held;     /* while the VM is stopped */
    bool is_held;
} KVMPITState;

static bool get_chip(int id, void *out, size_t len)
{
    struct kvm_irqchip c = { .chip_id = id };
    if (kvm_vm_ioctl(KVM_GET_IRQCHIP, &c) < 0) {
        return false;
    }
    memcpy(out, &c.chip, len);
    return true;
}

static bool set_chip(int id, const void *in, size_t len)
{
    struct kvm_irqchip c = { .chip_id = id };
    memcpy(&c.chip, in, len);
    return kvm_vm_ioctl(KVM_SET_IRQCHIP, &c) >= 0;
}

/* ---- 8259 pair ---- */

static const VMStateDescription vmstate_kvm_pic_chip = {
    .name = "kvm-i8259-chip",
    .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(last_irr, struct kvm_pic_state),
        VMSTATE_UINT8(irr, struct kvm_pic_state),
        VMSTATE_UINT8(imr, struct kvm_pic_state),
        VMSTATE_UINT8(isr, struct kvm_pic_state),
        VMSTATE_UINT8(priority_add, struct kvm_pic_state),
        VMSTATE_UINT8(irq_base, struct kvm_pic_state),
        VMSTATE_UINT8(read_reg_select, struct kvm_pic_state),
        VMSTATE_UINT8(poll, struct kvm_pic_state),
        VMSTATE_UINT8(special_mask, struct kvm_pic_state),
        VMSTATE_UINT8(init_state, struct kvm_pic_state),
        VMSTATE_UINT8(auto_eoi, struct kvm_pic_state),
        VMSTATE_UINT8(rotate_on_auto_eoi, struct kvm_pic_state),
        VMSTATE_UINT8(special_fully_nested_mode, struct kvm_pic_state),
        VMSTATE_UINT8(init4, struct kvm_pic_state),
        VMSTATE_UINT8(elcr, struct kvm_pic_state),
        VMSTATE_UINT8(elcr_mask, struct kvm_pic_state),
        VMSTATE_END_OF_LIST()
    },
};

static int kvm_pic_pre_save(void *opaque)
{
    KVMPICState *s = opaque;
    get_chip(KVM_IRQCHIP_PIC_MASTER, &s->chip[0], sizeof(s->chip[0]));
    get_chip(KVM_IRQCHIP_PIC_SLAVE, &s->chip[1], sizeof(s->chip[1]));
    return 0;
}

static int kvm_pic_post_load(void *opaque, int version_id, Error **errp)
{
    KVMPICState *s = opaque;
    for (int i = 0; i < 2; i++) {
        if (s->chip[i].init_state > 3 || s->chip[i].read_reg_select > 1 ||
            s->chip[i].priority_add > 7) {
            error_setg(errp, "kvm-i8259: invalid state of chip %d", i);
            return -1;
        }
    }
    if (!set_chip(KVM_IRQCHIP_PIC_MASTER, &s->chip[0], sizeof(s->chip[0])) ||
        !set_chip(KVM_IRQCHIP_PIC_SLAVE, &s->chip[1], sizeof(s->chip[1]))) {
        error_setg(errp, "kvm-i8259: KVM_SET_IRQCHIP failed");
        return -1;
    }
    return 0;
}

static const VMStateDescription vmstate_kvm_pic = {
    .name = "i8259",
    .version_id = 1, .minimum_version_id = 1,
    .pre_save = kvm_pic_pre_save,
    .post_load = kvm_pic_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(chip, KVMPICState, 2, vmstate_kvm_pic_chip,
                             struct kvm_pic_state),
        VMSTATE_END_OF_LIST()
    },
};

static bool kvm_pic_realize(DeviceState *dev, Error **errp)
{
    KVMPICState *s = (KVMPICState *)dev;
    if (!kvm_irqchip_in_kernel()) {
        error_setg(errp, "kvm-i8259 needs the in-kernel irqchip");
        return false;
    }
    get_chip(KVM_IRQCHIP_PIC_MASTER, &s->power_on[0], sizeof(s->power_on[0]));
    get_chip(KVM_IRQCHIP_PIC_SLAVE, &s->power_on[1], sizeof(s->power_on[1]));
    return true;
}

static void kvm_pic_reset(DeviceState *dev)
{
    KVMPICState *s = (KVMPICState *)dev;
    memcpy(s->chip, s->power_on, sizeof(s->chip));
    set_chip(KVM_IRQCHIP_PIC_MASTER, &s->chip[0], sizeof(s->chip[0]));
    set_chip(KVM_IRQCHIP_PIC_SLAVE, &s->chip[1], sizeof(s->chip[1]));
}

static const DeviceClass kvm_pic_class = {
    .name = "kvm-i8259",
    .desc = "8259 pair in the kernel",
    .bus = BUS_ISA,
    .instance_size = sizeof(KVMPICState),
    .realize = kvm_pic_realize,
    .reset = kvm_pic_reset,
    .vmsd = &vmstate_kvm_pic,
};
DEVICE_REGISTER(kvm_pic_class)

/* ---- IOAPIC ---- */

static int kvm_ioapic_pre_save(void *opaque)
{
    KVMIOAPICState *s = opaque;
    get_chip(KVM_IRQCHIP_IOAPIC, &s->ioapic, sizeof(s->ioapic));
    return 0;
}

static int kvm_ioapic_post_load(void *opaque, int version_id, Error **errp)
{
    KVMIOAPICState *s = opaque;
    if (s->ioapic.base_address != 0xfec00000) {
        error_setg(errp, "ioapic: unsupported base address 0x%llx",
                   s->ioapic.base_address);
        return -1;
    }
    if (!set_chip(KVM_IRQCHIP_IOAPIC, &s->ioapic, sizeof(s->ioapic))) {
        error_setg(errp, "ioapic: KVM_SET_IRQCHIP failed");
        return -1;
    }
    return 0;
}

static const VMStateDescription vmstate_kvm_ioapic = {
    .name = "ioapic",
    .version_id = 1, .minimum_version_id = 1,
    .pre_save = kvm_ioapic_pre_save,
    .post_load = kvm_ioapic_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(ioapic.base_address, KVMIOAPICState),
        VMSTATE_UINT32(ioapic.ioregsel, KVMIOAPICState),
        VMSTATE_UINT32(ioapic.id, KVMIOAPICState),
        VMSTATE_UINT32(ioapic.irr, KVMIOAPICState),
        { .name = "redirtbl", .type = VMS_UINT64,
          .offset = offsetof(KVMIOAPICState, ioapic.redirtbl),
          .size = 8, .num = KVM_IOAPIC_NUM_PINS },
        VMSTATE_END_OF_LIST()
    },
};

static bool kvm_ioapic_realize(DeviceState *dev, Error **errp)
{
    KVMIOAPICState *s = (KVMIOAPICState *)dev;
    if (!kvm_irqchip_in_kernel()) {
        error_setg(errp, "kvm-ioapic needs the in-kernel irqchip");
        return false;
    }
    get_chip(KVM_IRQCHIP_IOAPIC, &s->power_on, sizeof(s->power_on));
    return true;
}

static void kvm_ioapic_reset(DeviceState *dev)
{
    KVMIOAPICState *s = (KVMIOAPICState *)dev;
    s->ioapic = s->power_on;
    set_chip(KVM_IRQCHIP_IOAPIC, &s->ioapic, sizeof(s->ioapic));
}

static const DeviceClass kvm_ioapic_class = {
    .name = "kvm-ioapic",
    .desc = "IOAPIC in the kernel",
    .bus = BUS_SYSTEM,
    .instance_size = sizeof(KVMIOAPICState),
    .realize = kvm_ioapic_realize,
    .reset = kvm_ioapic_reset,
    .vmsd = &vmstate_kvm_ioapic,
};
DEVICE_REGISTER(kvm_ioapic_class)

/* ---- 8254 PIT ---- */

/*
 * count_load_time is the host kernel's clock: it means nothing elsewhere and
 * the kernel restarts the count when the state is loaded, so it is not saved.
 */
static const VMStateDescription vmstate_kvm_pit_channel = {
    .name = "pit-channel",
    .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(count, struct kvm_pit_channel_state),
        VMSTATE_UINT16(latched_count, struct kvm_pit_channel_state),
        VMSTATE_UINT8(count_latched, struct kvm_pit_channel_state),
        VMSTATE_UINT8(status_latched, struct kvm_pit_channel_state),
        VMSTATE_UINT8(status, struct kvm_pit_channel_state),
        VMSTATE_UINT8(read_state, struct kvm_pit_channel_state),
        VMSTATE_UINT8(write_state, struct kvm_pit_channel_state),
        VMSTATE_UINT8(write_latch, struct kvm_pit_channel_state),
        VMSTATE_UINT8(rw_mode, struct kvm_pit_channel_state),
        VMSTATE_UINT8(mode, struct kvm_pit_channel_state),
        VMSTATE_UINT8(bcd, struct kvm_pit_channel_state),
        VMSTATE_UINT8(gate, struct kvm_pit_channel_state),
        VMSTATE_END_OF_LIST()
    },
};

/*
 * The kernel's PIT runs on host time and, with tick reinjection, delivers
 * every tick a stopped guest missed as a burst after cont.  So while the VM
 * is stopped its state is held here and the kernel's channel 0 is idle
 * (mode 0xff, as at power-on: no timer); cont loads the held state back and
 * the counters go on from it (KVM_SET_PIT2 restarts the current period and
 * clears the missed-tick count).  Reset and loading state while held
 * replace the held state.
 */
static KVMPITState *kvm_pit;

void kvm_pit_hold(void)
{
    KVMPITState *s = kvm_pit;
    struct kvm_pit_state2 idle;

    if (!s || s->is_held || kvm_vm_ioctl(KVM_GET_PIT2, &s->held) < 0) {
        return;
    }
    idle = s->held;
    idle.channels[0].mode = 0xff;
    if (kvm_vm_ioctl(KVM_SET_PIT2, &idle) < 0) {
        warn_report("kvm-pit: cannot stop the PIT while the VM is stopped");
        return;
    }
    s->is_held = true;
}

void kvm_pit_release(void)
{
    KVMPITState *s = kvm_pit;

    if (!s || !s->is_held) {
        return;
    }
    s->is_held = false;
    if (kvm_vm_ioctl(KVM_SET_PIT2, &s->held) < 0) {
        warn_report("kvm-pit: KVM_SET_PIT2 failed on resume");
    }
}

/* Into the kernel, or, while held, the state that cont will load. */
static bool kvm_pit_put(KVMPITState *s)
{
    if (s->is_held) {
        s->held = s->pit;
        return true;
    }
    return kvm_vm_ioctl(KVM_SET_PIT2, &s->pit) >= 0;
}

static int kvm_pit_pre_save(void *opaque)
{
    KVMPITState *s = opaque;
    if (s->is_held) {
        s->pit = s->held;
    } else {
        kvm_vm_ioctl(KVM_GET_PIT2, &s->pit);
    }
    return 0;
}

static int kvm_pit_post_load(void *opaque, int version_id, Error **errp)
{
    KVMPITState *s = opaque;
    for (int i = 0; i < 3; i++) {
        struct kvm_pit_channel_state *c = &s->pit.channels[i];
        /* mode 0xff: a channel the guest never programmed (KVM's reset) */
        if ((c->mode > 5 && c->mode != 0xff) || c->rw_mode > 3 || c->read_state > 4 ||
            c->write_state > 4 || c->count > 0x10000) {
            error_setg(errp, "pit: invalid state of channel %d", i);
            return -1;
        }
    }
    if (!kvm_pit_put(s)) {
        error_setg(errp, "pit: KVM_SET_PIT2 failed");
        return -1;
    }
    return 0;
}

static const VMStateDescription vmstate_kvm_pit = {
    .name = "i8254",
    .version_id = 1, .minimum_version_id = 1,
    .pre_save = kvm_pit_pre_save,
    .post_load = kvm_pit_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(pit.channels, KVMPITState, 3,
                             vmstate_kvm_pit_channel,
                             struct kvm_pit_channel_state),
        VMSTATE_UINT32(pit.flags, KVMPITState),
        VMSTATE_END_OF_LIST()
    },
};

static bool kvm_pit_realize(DeviceState *dev, Error **errp)
{
    KVMPITState *s = (KVMPITState *)dev;
    if (!kvm_irqchip_in_kernel() ||
        kvm_vm_ioctl(KVM_GET_PIT2, &s->power_on) < 0) {
        error_setg(errp, "kvm-pit needs the in-kernel PIT");
        return false;
    }
    kvm_pit = s;
    return true;
}

static void kvm_pit_reset(DeviceState *dev)
{
    KVMPITState *s = (KVMPITState *)dev;
    s->pit = s->power_on;
    kvm_pit_put(s);
}

static const DeviceClass kvm_pit_class = {
    .name = "kvm-pit",
    .desc = "8254 PIT in the kernel (port 0x61 too)",
    .bus = BUS_ISA,
    .instance_size = sizeof(KVMPITState),
    .realize = kvm_pit_realize,
    .reset = kvm_pit_reset,
    .vmsd = &vmstate_kvm_pit,
};
DEVICE_REGISTER(kvm_pit_class)

/* ISA IRQ lines go straight to the kernel's GSIs. */
static qemu_irq kvm_isa_irqs[16];

static void kvm_isa_irq_handler(void *opaque, int n, int level)
{
    kvm_set_irq(n, level);
}

static qemu_irq kvm_get_isa_irq(int n)
{
    if (!kvm_isa_irqs[n]) {
        kvm_isa_irqs[n] = qemu_allocate_irq(kvm_isa_irq_handler, NULL, n);
    }
    return kvm_isa_irqs[n];
}

bool kvm_irqchip_create_devices(Error **errp)
{
    if (!kvm_irqchip_create(errp)) {
        return false;
    }
    isa_set_irq_handler(kvm_get_isa_irq);
    device_create_simple("kvm-i8259", NULL);
    device_create_simple("kvm-ioapic", NULL);
    device_create_simple("kvm-pit", NULL);
    return true;
}
