/*
 * System Control Port A: the A20 bit reads back, reserved bits are dropped
 * and a rising bit 0 makes the main loop reset the machine.
 */
#include "hw/isa/isa.h"
#include "system/system.h"
#include "system/timer.h"

static uint8_t inb_92(void)
{
    uint8_t v = 0;

    address_space_read(&address_space_io, 0x92, &v, 1);
    return v;
}

static void outb_92(uint8_t v)
{
    address_space_write(&address_space_io, 0x92, &v, 1);
}

static void test_a20(void)
{
    g_assert_cmphex(inb_92(), ==, 0x00);
    outb_92(0x02);
    g_assert_cmphex(inb_92(), ==, 0x02);
    outb_92(0xf0);                      /* reserved bits: ignored */
    g_assert_cmphex(inb_92(), ==, 0x00);
    outb_92(0x02);
    devices_reset_all();
    g_assert_cmphex(inb_92(), ==, 0x00);
}

static void request_exit(void *opaque)
{
    qemu_system_exit_request(42);
}

static void test_fast_reset(void)
{
    QEMUTimer *t = timer_new_ns(QEMU_CLOCK_REALTIME, request_exit, NULL);

    outb_92(0x03);                      /* A20 on and the reset bit */
    g_assert_cmphex(inb_92(), ==, 0x03);
    /* The main loop resets the machine, then our timer ends the loop. */
    timer_mod(t, qemu_clock_get_ns(QEMU_CLOCK_REALTIME));
    g_assert_cmpint(main_loop_run(), ==, 42);
    g_assert_cmphex(inb_92(), ==, 0x00);
    timer_free(t);
}

int main(int argc, char **argv)
{
    Error *err = NULL;

    g_test_init(&argc, &argv, NULL);
    memory_init();
    bql_lock();
    g_assert_true(device_realize(device_new("port92"), &err));

    g_test_add_func("/port92/a20", test_a20);
    g_test_add_func("/port92/fast-reset", test_fast_reset);
    return g_test_run();
}
