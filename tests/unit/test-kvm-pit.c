/*
 * The in-kernel PIT while the VM is stopped (hw/intc/kvm-irqchip.c): held,
 * its state is kept in userspace and the kernel's channel 0 idle, so no
 * ticks pile up; saving gives the held state, loading and reset replace it,
 * and release puts it back into the kernel.  Needs /dev/kvm.
 */
#include "system/system.h"
#include "system/accel.h"
#include "accel/kvm.h"
#include "hw/qdev.h"
#include <unistd.h>

static DeviceState *pit;

static struct kvm_pit_state2 kernel_pit(void)
{
    struct kvm_pit_state2 s;
    g_assert_cmpint(kvm_vm_ioctl(KVM_GET_PIT2, &s), >=, 0);
    return s;
}

/* Channel 0 as a guest programs it: lobyte/hibyte, the given mode. */
static void program_channel0(uint8_t mode, uint32_t count)
{
    struct kvm_pit_state2 s = kernel_pit();
    s.channels[0].mode = mode;
    s.channels[0].rw_mode = 3;
    s.channels[0].read_state = s.channels[0].write_state = 3;
    s.channels[0].count = count;
    g_assert_cmpint(kvm_vm_ioctl(KVM_SET_PIT2, &s), >=, 0);
}

static GByteArray *save(void)
{
    GByteArray *out = g_byte_array_new();
    vmstate_save(out, pit->klass->vmsd, pit);
    return out;
}

static void load(const GByteArray *in)
{
    Error *err = NULL;
    size_t pos = 0;
    g_assert_true(vmstate_load(in->data, in->len, &pos, pit->klass->vmsd, pit,
                               pit->klass->vmsd->version_id, &err));
    g_assert_cmpuint(pos, ==, in->len);
}

static void assert_same(const GByteArray *a, const GByteArray *b)
{
    g_assert_cmpmem(a->data, a->len, b->data, b->len);
}

static void test_hold_idles_the_kernel_pit(void)
{
    program_channel0(2, 11932);
    g_autoptr(GByteArray) running = save();

    kvm_pit_hold();
    g_assert_cmpuint(kernel_pit().channels[0].mode, ==, 0xff);
    g_autoptr(GByteArray) held = save();
    assert_same(held, running);
    kvm_pit_hold();                 /* twice: still the guest's state */
    g_autoptr(GByteArray) again = save();
    assert_same(again, running);

    kvm_pit_release();
    struct kvm_pit_state2 s = kernel_pit();
    g_assert_cmpuint(s.channels[0].mode, ==, 2);
    g_assert_cmpuint(s.channels[0].count, ==, 11932);
    g_autoptr(GByteArray) after = save();
    assert_same(after, running);
}

static void test_load_while_held_replaces_held_state(void)
{
    program_channel0(2, 11932);
    g_autoptr(GByteArray) loaded = save();
    program_channel0(3, 1000);

    kvm_pit_hold();
    load(loaded);
    /* The kernel's PIT stays idle until the VM runs again. */
    g_assert_cmpuint(kernel_pit().channels[0].mode, ==, 0xff);
    g_autoptr(GByteArray) held = save();
    assert_same(held, loaded);

    kvm_pit_release();
    struct kvm_pit_state2 s = kernel_pit();
    g_assert_cmpuint(s.channels[0].mode, ==, 2);
    g_assert_cmpuint(s.channels[0].count, ==, 11932);
}

static void test_reset_while_held_gives_power_on_state(void)
{
    pit->klass->reset(pit);
    g_autoptr(GByteArray) power_on = save();
    struct kvm_pit_state2 p = kernel_pit();

    program_channel0(2, 11932);
    kvm_pit_hold();
    pit->klass->reset(pit);
    g_autoptr(GByteArray) held = save();
    assert_same(held, power_on);
    kvm_pit_release();
    struct kvm_pit_state2 s = kernel_pit();
    g_assert_cmpuint(s.channels[0].mode, ==, p.channels[0].mode);
    g_assert_cmpuint(s.channels[0].count, ==, p.channels[0].count);
    g_autoptr(GByteArray) after = save();
    assert_same(after, power_on);
}

static void test_release_without_hold_changes_nothing(void)
{
    program_channel0(2, 11932);
    kvm_pit_release();
    struct kvm_pit_state2 s = kernel_pit();
    g_assert_cmpuint(s.channels[0].mode, ==, 2);
    g_assert_cmpuint(s.channels[0].count, ==, 11932);
}

int main(int argc, char **argv)
{
    static MachineState ms = {
        .type = "pc", .accel = ACCEL_KVM, .kernel_irqchip = KERNEL_IRQCHIP_ON,
        .ram_size = 16 * MiB, .smp_cpus = 1, .cpu_model = "host",
        .kernel_cmdline = "",
    };
    Error *err = NULL;

    g_test_init(&argc, &argv, NULL);
    if (access("/dev/kvm", R_OK | W_OK)) {
        g_test_skip("no /dev/kvm");
        return 77;
    }
    current_machine = &ms;
    bql_lock();
    memory_init();
    current_accel = &kvm_accel_ops;
    if (!current_accel->init(&ms, &err) || !kvm_irqchip_create_devices(&err)) {
        g_error("KVM: %s", err->msg);
    }
    GPtrArray *devs = device_list();
    for (guint i = 0; i < devs->len; i++) {
        DeviceState *dev = g_ptr_array_index(devs, i);
        if (!strcmp(dev->klass->name, "kvm-pit")) {
            pit = dev;
        }
    }
    g_assert_nonnull(pit);
    g_test_add_func("/kvm-pit/hold-idles-kernel-pit",
                    test_hold_idles_the_kernel_pit);
    g_test_add_func("/kvm-pit/load-while-held",
                    test_load_while_held_replaces_held_state);
    g_test_add_func("/kvm-pit/reset-while-held",
                    test_reset_while_held_gives_power_on_state);
    g_test_add_func("/kvm-pit/release-without-hold",
                    test_release_without_hold_changes_nothing);
    return g_test_run();
}
