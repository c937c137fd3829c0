/*
 * isa-debug-exit: a write of v makes the main loop end with status
 * (v << 1) | 1; reads return 0.  The kvm-unit-tests setup (iobase 0xf4,
 * iosize 4) and the default one (0x501, 2 ports) are both in place.
 */
#include "hw/isa/isa.h"
#include "system/system.h"

static void test_read(void)
{
    uint32_t v = 0xdeadbeef;

    address_space_read(&address_space_io, 0xf4, &v, 4);
    g_assert_cmphex(v, ==, 0);
    v = 0xff;
    address_space_read(&address_space_io, 0x502, &v, 1);
    g_assert_cmphex(v, ==, 0);
    v = 0;
    address_space_read(&address_space_io, 0x503, &v, 1);
    g_assert_cmphex(v, ==, 0xff);       /* past the default 2 ports */
}

static void test_bad_range(void)
{
    DeviceState *dev = device_new("isa-debug-exit");
    Error *err = NULL;

    g_assert_true(device_set_prop(dev, "iobase", "0xffff", NULL));
    g_assert_true(device_set_prop(dev, "iosize", "4", NULL));
    g_assert_false(device_realize(dev, &err));
    g_assert_nonnull(err);
    error_free(err);
    device_free(dev);
}

static void test_exit_status(void)
{
    uint8_t v = 0x12;

    address_space_write(&address_space_io, 0xf4, &v, 1);
    g_assert_cmpint(main_loop_run(), ==, (0x12 << 1) | 1);
}

int main(int argc, char **argv)
{
    DeviceState *dev;
    Error *err = NULL;

    g_test_init(&argc, &argv, NULL);
    memory_init();
    bql_lock();
    g_assert_true(device_realize(device_new("isa-debug-exit"), &err));
    dev = device_new("isa-debug-exit");
    g_assert_true(device_set_prop(dev, "iobase", "0xf4", &err));
    g_assert_true(device_set_prop(dev, "iosize", "0x4", &err));
    g_assert_true(device_realize(dev, &err));

    g_test_add_func("/debug-exit/read", test_read);
    g_test_add_func("/debug-exit/bad-range", test_bad_range);
    g_test_add_func("/debug-exit/exit-status", test_exit_status);
    return g_test_run();
}
