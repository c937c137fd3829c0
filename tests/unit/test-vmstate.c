/*
 * Every device of the PC board round-trips its state: random state is
 * saved, the device reset, the state loaded and saved again: the two
 * encodings must be equal.  Truncated and corrupted encodings must be
 * refused with an error, never crash.
 */
#include "system/system.h"
#include "system/accel.h"
#include "hw/qdev.h"
#include "hw/i386/pc.h"
#include "chardev/char.h"
#include "block/drive.h"
#include <unistd.h>

static GByteArray *save(DeviceState *dev)
{
    GByteArray *out = g_byte_array_new();
    vmstate_save(out, dev->klass->vmsd, dev);
    return out;
}

static bool load(DeviceState *dev, const GByteArray *in, Error **errp)
{
    size_t pos = 0;
    const VMStateDescription *vmsd = dev->klass->vmsd;
    if (!vmstate_load(in->data, in->len, &pos, vmsd, dev, vmsd->version_id,
                      errp)) {
        return false;
    }
    if (pos != in->len) {
        error_setg(errp, "%zu bytes left over", in->len - pos);
        return false;
    }
    return true;
}

static void test_roundtrip(gconstpointer data)
{
    DeviceState *dev = (DeviceState *)data;
    GRand *rand = g_rand_new_with_seed(0x6b657374);
    GByteArray *a = NULL;
    Error *err = NULL;

    /* Find a random state the device accepts (post_load may refuse some). */
    for (int tries = 0; tries < 200 && !a; tries++) {
        vmstate_randomize(dev->klass->vmsd, dev, rand);
        a = save(dev);
        dev->klass->reset(dev);
        if (!load(dev, a, &err)) {
            if (g_test_verbose()) {
                g_test_message("%s refused: %s", dev->klass->name, err->msg);
            }
            error_free(err);
            err = NULL;
            g_byte_array_free(a, true);
            a = NULL;
        }
    }
    g_assert_nonnull(a);
    dev->klass->reset(dev);
    if (!load(dev, a, &err)) {
        g_error("%s: reload failed: %s", dev->klass->name, err->msg);
    }
    GByteArray *b = save(dev);
    g_assert_cmpmem(a->data, a->len, b->data, b->len);

    /* Every truncation is refused cleanly. */
    for (guint len = 0; len < a->len; len++) {
        GByteArray *cut = g_byte_array_new();
        g_byte_array_append(cut, a->data, len);
        g_assert_false(load(dev, cut, &err));
        g_assert_nonnull(err);
        error_free(err);
        err = NULL;
        g_byte_array_free(cut, true);
    }
    /* Garbage never crashes (it may happen to be valid). */
    for (int i = 0; i < 200; i++) {
        GByteArray *junk = g_byte_array_new();
        for (guint j = 0; j < a->len; j++) {
            guint8 byte = g_rand_int(rand);
            g_byte_array_append(junk, &byte, 1);
        }
        if (!load(dev, junk, &err)) {
            error_free(err);
            err = NULL;
        }
        g_byte_array_free(junk, true);
    }
    dev->klass->reset(dev);
    g_byte_array_free(a, true);
    g_byte_array_free(b, true);
    g_rand_free(rand);
}

int main(int argc, char **argv)
{
    static MachineState ms = {
        .type = "pc", .accel = ACCEL_KVM, .kernel_irqchip = KERNEL_IRQCHIP_ON,
        .ram_size = 64 * MiB, .smp_cpus = 1, .cpu_model = "host",
        .kernel_cmdline = "",
    };
    PCBoardOptions board = { 0 };
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
    /* Every device type once: the board's, plus the optional ones. */
    if (!chardev_new_from_opts("null,id=s0", &err) ||
        !chardev_new_from_opts("null,id=dbg", &err)) {
        g_error("chardev: %s", err->msg);
    }
    board.serial_chardev[0] = "s0";
    board.debugcon_chardev = "dbg";
    /* ide-hd needs an image: a small temporary one, gone at exit. */
    g_autofree char *img = NULL;
    int fd = g_file_open_tmp("kestrel-vmstate-XXXXXX", &img, NULL);
    g_assert_true(fd >= 0 && ftruncate(fd, 1 * MiB) == 0);
    close(fd);
    g_autofree char *drive = g_strdup_printf("if=none,id=hd0,format=raw,"
                                             "file=%s", img);
    /* A pflash drive makes the board create cfi.pflash01 (64 KiB). */
    g_autofree char *flash = NULL;
    fd = g_file_open_tmp("kestrel-vmstate-XXXXXX", &flash, NULL);
    g_assert_true(fd >= 0 && ftruncate(fd, 64 * KiB) == 0);
    close(fd);
    g_autofree char *pflash = g_strdup_printf("if=pflash,format=raw,"
                                              "file=%s", flash);
    /* The same image again for scsi-hd. */
    g_autofree char *drive1 = g_strdup_printf("if=none,id=hd1,format=raw,"
                                              "file=%s", img);
    if (!drive_add(drive, &err) || !drive_add(drive1, &err) ||
        !drive_add(pflash, &err) ||
        !drive_open_all(&err)) {
        g_error("drive: %s", err->msg);
    }
    unlink(img);
    unlink(flash);
    if (!current_accel->init(&ms, &err) || !pc_init(&ms, &board, &err) ||
        !device_create_from_opts("ide-hd,drive=hd0", &err) ||
        !device_create_from_opts("ide-cd", &err) ||
        !device_create_from_opts("virtio-scsi-pci", &err) ||
        !device_create_from_opts("scsi-hd,drive=hd1", &err) ||
        !device_create_from_opts("scsi-cd", &err) ||
        !device_create_from_opts("isa-debug-exit,iobase=0xf4,iosize=4", &err) ||
        !device_create_from_opts("pc-testdev", &err) ||
        !device_create_from_opts("pvpanic", &err) ||
        !pc_machine_done(&ms, &err)) {
        g_error("cannot build the board: %s", err->msg);
    }
    /* The userspace PIC, IOAPIC, LAPIC and PIT (qtest, kernel-irqchip=off)
     * stand in for the kernel's on other boards: one of each, unwired. */
    device_create_simple("i8259", NULL);
    device_create_simple("ioapic", NULL);
    device_create_simple("apic", NULL);
    device_create_simple("isa-pit", NULL);
    GPtrArray *devs = device_list();
    unsigned with_state = 0;
    for (guint i = 0; i < devs->len; i++) {
        DeviceState *dev = g_ptr_array_index(devs, i);
        g_autofree char *path = g_strdup_printf("/vmstate/%s/%u",
                                                dev->klass->name, i);
        /* The rule: every device describes its state. */
        if (!dev->klass->vmsd) {
            g_error("device %s has no VMState description", dev->klass->name);
        }
        g_assert_nonnull(dev->klass->reset);
        g_test_add_data_func(path, dev, test_roundtrip);
        with_state++;
    }
    /* A new device type must be added to this board to be covered. */
    GPtrArray *classes = device_class_list();
    for (guint i = 0; i < classes->len; i++) {
        const DeviceClass *dc = g_ptr_array_index(classes, i);
        bool found = false;
        for (guint j = 0; j < devs->len && !found; j++) {
            found = ((DeviceState *)g_ptr_array_index(devs, j))->klass == dc;
        }
        if (!found) {
            g_error("device type %s is not on the test board", dc->name);
        }
    }
    g_assert_cmpuint(with_state, >=, 11);
    return g_test_run();
}
