/*
 * Userspace interrupt wiring of the PC: each ISA IRQ line goes to both the
 * 8259 pair and the IOAPIC (the GSIs 0-15), the IOAPIC's messages go to the
 * local APICs, and the PIC's INTR to the BSP's LINT0.  With split, KVM holds
 * the local APICs: messages become KVM MSIs and INTR is injected by the
 * vCPU loop with KVM_INTERRUPT.
 */
#include "hw/intc/pc-irqchip.h"
#include "hw/intc/apic.h"
#include "hw/intc/i8259.h"
#include "hw/intc/ioapic.h"
#include "hw/timer/i8254.h"
#include "hw/gpio.h"
#include "hw/isa/isa.h"
#include "accel/kvm.h"

static DeviceState *pic, *ioapic;
static qemu_irq isa_irqs[16];

static void gsi_handler(void *opaque, int n, int level)
{
    qemu_set_irq(qdev_get_gpio_in(pic, n), level);
    qemu_set_irq(qdev_get_gpio_in(ioapic, n), level);
}

static qemu_irq get_isa_irq(int n)
{
    return isa_irqs[n];
}

static void pic_intr_to_kvm(void *opaque, int n, int level)
{
    kvm_cpu_pic_intr_changed(level);
}

void pc_user_irqchip_create(MachineState *ms)
{
    bool split = kvm_irqchip_is_split();

    pic = device_create_simple(TYPE_I8259, NULL);
    ioapic = device_create_simple(TYPE_IOAPIC, NULL);
    qdev_set_path(ioapic, "/machine/i440fx/ioapic");
    for (int i = 0; i < 16; i++) {
        isa_irqs[i] = qemu_allocate_irq(gsi_handler, NULL, i);
    }
    isa_set_irq_handler(get_isa_irq);

    if (split) {
        ioapic_set_sink(ioapic, kvm_send_msi);
        ioapic_set_route_notifier(ioapic, kvm_ioapic_route_changed);
        qdev_connect_gpio_out_named(pic, NULL, 0,
                                    qemu_allocate_irq(pic_intr_to_kvm,
                                                      NULL, 0));
    } else {
        for (unsigned i = 0; i < ms->smp_cpus; i++) {
            char index[16], path[48];
            snprintf(index, sizeof(index), "%u", i);
            DeviceState *apic = device_create_simple(TYPE_APIC, "index",
                                                     index, NULL);
            snprintf(path, sizeof(path), "/machine/unattached/apic[%u]", i);
            qdev_set_path(apic, path);
            if (i == 0) {
                qdev_connect_gpio_out_named(pic, NULL, 0,
                    qdev_get_gpio_in_named(apic, "lint", 0));
            }
        }
        apic_set_pic(pic);
        ioapic_set_sink(ioapic, apic_send_msi);
    }
    device_create_simple(TYPE_I8254, NULL);
}
