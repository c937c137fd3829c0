/*
 * i8042 PS/2 controller and its keyboard: controller commands, the command
 * byte, keyboard replies (with and without translation), the aux port, the
 * output port and IRQs 1 and 12.  The last test pulses the reset line and
 * lets the main loop carry out the reset request.
 */
#include "hw/isa/isa.h"
#include "system/system.h"
#include "system/timer.h"

static int irq_level[16];
static int irq_raised[16];
static qemu_irq isa_irqs[16];

static void isa_irq_handler(void *opaque, int n, int level)
{
    irq_raised[n] += level && !irq_level[n];
    irq_level[n] = level;
}

static qemu_irq get_isa_irq(int n)
{
    return isa_irqs[n];
}

static uint8_t status(void)
{
    uint8_t v = 0;

    address_space_read(&address_space_io, 0x64, &v, 1);
    return v;
}

static uint8_t data(void)
{
    uint8_t v = 0;

    address_space_read(&address_space_io, 0x60, &v, 1);
    return v;
}

static void command(uint8_t cmd)
{
    address_space_write(&address_space_io, 0x64, &cmd, 1);
}

static void write_data(uint8_t v)
{
    address_space_write(&address_space_io, 0x60, &v, 1);
}

/* The next byte: it must be there, from the keyboard or the aux port. */
static uint8_t expect_byte(bool aux)
{
    uint8_t st = status();

    g_assert_cmphex(st & 0x01, ==, 0x01);
    g_assert_cmphex(st & 0x20, ==, aux ? 0x20 : 0x00);
    return data();
}

static void expect_empty(void)
{
    g_assert_cmphex(status() & 0x01, ==, 0);
}

static void set_ctr(uint8_t ctr)
{
    command(0x60);
    write_data(ctr);
}

static uint8_t get_ctr(void)
{
    command(0x20);
    return expect_byte(false);
}

static void kbd_command(uint8_t cmd, const uint8_t *reply, int n)
{
    write_data(cmd);
    for (int i = 0; i < n; i++) {
        g_assert_cmphex(expect_byte(false), ==, reply[i]);
    }
    expect_empty();
}

static void test_power_on(void)
{
    g_assert_cmphex(status(), ==, 0x10);        /* not inhibited, empty */
    g_assert_cmphex(get_ctr(), ==, 0x03);
    g_assert_cmpint(irq_level[1], ==, 0);
    g_assert_cmpint(irq_level[12], ==, 0);
}

static void test_controller_commands(void)
{
    set_ctr(0x00);
    command(0xaa);
    g_assert_cmphex(status(), ==, 0x1d);        /* OBF, SYS, CMD, unlocked */
    g_assert_cmphex(data(), ==, 0x55);
    g_assert_cmphex(status(), ==, 0x1c);
    command(0xab);
    g_assert_cmphex(expect_byte(false), ==, 0x00);
    command(0xa9);
    g_assert_cmphex(expect_byte(false), ==, 0x00);
    g_assert_cmphex(get_ctr(), ==, 0x04);

    set_ctr(0x47);
    g_assert_cmphex(status() & 0x08, ==, 0x00); /* last write was data */
    g_assert_cmphex(get_ctr(), ==, 0x47);
    command(0xad);
    g_assert_cmphex(get_ctr(), ==, 0x57);
    command(0xae);
    command(0xa7);
    g_assert_cmphex(get_ctr(), ==, 0x67);
    command(0xa8);
    g_assert_cmphex(get_ctr(), ==, 0x47);

    /* Controller RAM beyond the command byte */
    command(0x65);
    write_data(0x99);
    command(0x25);
    g_assert_cmphex(expect_byte(false), ==, 0x99);

    command(0xc0);
    g_assert_cmphex(expect_byte(false), ==, 0x80);
    command(0x12);                              /* unknown: ignored */
    expect_empty();
    set_ctr(0x00);
}

static void test_keyboard(void)
{
    static const uint8_t reset[] = { 0xfa, 0xaa };
    static const uint8_t ack[] = { 0xfa };
    static const uint8_t id[] = { 0xfa, 0xab, 0x83 };
    static const uint8_t id_xlate[] = { 0xfa, 0xab, 0x41 };
    static const uint8_t set2[] = { 0xfa, 0x02 };
    static const uint8_t set3[] = { 0xfa, 0x03 };
    static const uint8_t echo[] = { 0xee };
    static const uint8_t resend[] = { 0xfe };

    set_ctr(0x00);
    kbd_command(0xff, reset, 2);
    kbd_command(0xf5, ack, 1);
    kbd_command(0xf2, id, 3);
    kbd_command(0xed, ack, 1);
    kbd_command(0x07, ack, 1);                  /* LED argument */
    kbd_command(0xf3, ack, 1);
    kbd_command(0x00, ack, 1);                  /* typematic argument */
    kbd_command(0xf0, ack, 1);
    kbd_command(0x00, set2, 2);                 /* query the set */
    kbd_command(0xf0, ack, 1);
    kbd_command(0x03, ack, 1);
    kbd_command(0xf0, ack, 1);
    kbd_command(0x00, set3, 2);
    kbd_command(0xf0, ack, 1);
    kbd_command(0x02, ack, 1);
    kbd_command(0xf4, ack, 1);
    kbd_command(0xee, echo, 1);
    kbd_command(0xfe, echo, 1);                 /* resend the last byte */
    kbd_command(0x12, resend, 1);               /* unknown */
    kbd_command(0xf6, ack, 1);

    /* With translation the controller turns ID 0x83 into 0x41. */
    set_ctr(0x40);
    kbd_command(0xf2, id_xlate, 3);
    set_ctr(0x00);
}

static void test_irqs_and_disable(void)
{
    set_ctr(0x01);                              /* keyboard IRQ on */
    irq_raised[1] = 0;
    write_data(0xff);
    g_assert_cmpint(irq_level[1], ==, 1);
    g_assert_cmphex(data(), ==, 0xfa);
    /* The next byte is loaded at once: a new edge on IRQ 1. */
    g_assert_cmpint(irq_level[1], ==, 1);
    g_assert_cmpint(irq_raised[1], ==, 2);
    g_assert_cmphex(data(), ==, 0xaa);
    g_assert_cmpint(irq_level[1], ==, 0);

    /* A disabled keyboard port holds the keyboard's bytes back... */
    set_ctr(0x00);
    write_data(0xff);
    command(0xad);
    g_assert_cmphex(data(), ==, 0xfa);          /* already in the buffer */
    expect_empty();
    /* ...while the controller's own bytes still come through. */
    command(0xd2);
    write_data(0x5a);
    g_assert_cmphex(expect_byte(false), ==, 0x5a);
    expect_empty();
    command(0xae);
    g_assert_cmphex(expect_byte(false), ==, 0xaa);
    /* Sending to the keyboard enables its port again. */
    command(0xad);
    write_data(0xee);
    g_assert_cmphex(expect_byte(false), ==, 0xee);
    g_assert_cmphex(get_ctr() & 0x10, ==, 0);

    /* The aux port: loopback with IRQ 12, and no mouse behind it. */
    set_ctr(0x02);
    command(0xd3);
    write_data(0xa5);
    g_assert_cmpint(irq_level[12], ==, 1);
    g_assert_cmpint(irq_level[1], ==, 0);
    g_assert_cmphex(status() & 0x21, ==, 0x21);
    g_assert_cmphex(expect_byte(true), ==, 0xa5);
    g_assert_cmpint(irq_level[12], ==, 0);
    command(0xa7);
    command(0xd4);
    write_data(0xf2);
    g_assert_cmphex(expect_byte(true), ==, 0xfe);
    expect_empty();
    g_assert_cmphex(get_ctr() & 0x20, ==, 0);   /* re-enabled by 0xd4 */
    set_ctr(0x00);
}

static void test_output_port(void)
{
    command(0xd0);
    g_assert_cmphex(expect_byte(false), ==, 0x03);  /* running, A20 on */
    command(0xd1);
    write_data(0x01);                           /* A20 off, no reset */
    command(0xd0);
    g_assert_cmphex(expect_byte(false), ==, 0x01);
    command(0xdf);
    command(0xd0);
    g_assert_cmphex(expect_byte(false), ==, 0x03);
    command(0xdd);
    command(0xd0);
    g_assert_cmphex(expect_byte(false), ==, 0x01);
    command(0xdf);
    command(0xff);                              /* pulse nothing */
    expect_empty();
}

static void request_exit(void *opaque)
{
    qemu_system_exit_request(42);
}

static void test_reset_pulse(void)
{
    QEMUTimer *t = timer_new_ns(QEMU_CLOCK_REALTIME, request_exit, NULL);

    set_ctr(0x61);
    command(0xfe);                              /* pulse the reset line */
    /* The main loop resets the machine, then our timer ends the loop. */
    timer_mod(t, qemu_clock_get_ns(QEMU_CLOCK_REALTIME));
    g_assert_cmpint(main_loop_run(), ==, 42);
    g_assert_cmphex(get_ctr(), ==, 0x03);       /* the device was reset */
    timer_free(t);
}

int main(int argc, char **argv)
{
    Error *err = NULL;
    DeviceState *dev;

    g_test_init(&argc, &argv, NULL);
    memory_init();
    for (int i = 0; i < 16; i++) {
        isa_irqs[i] = qemu_allocate_irq(isa_irq_handler, NULL, i);
    }
    isa_set_irq_handler(get_isa_irq);
    bql_lock();

    dev = device_new("i8042");
    g_assert_true(device_realize(dev, &err));

    g_test_add_func("/i8042/power-on", test_power_on);
    g_test_add_func("/i8042/controller-commands", test_controller_commands);
    g_test_add_func("/i8042/keyboard", test_keyboard);
    g_test_add_func("/i8042/irqs-and-disable", test_irqs_and_disable);
    g_test_add_func("/i8042/output-port", test_output_port);
    g_test_add_func("/i8042/reset-pulse", test_reset_pulse);
    return g_test_run();
}
