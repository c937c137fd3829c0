/*
 * 16550A UART: registers, FIFOs, interrupt priorities and loopback.  COM1
 * talks to a unix socket chardev whose other end the test holds; COM2 has
 * no chardev and is used for loopback.
 */
#include "hw/isa/isa.h"
#include "chardev/char.h"
#include "system/timer.h"
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define COM1 0x3f8
#define COM2 0x2f8

enum { RBR, IER, IIR, LCR, MCR, LSR, MSR, SCR };

static int peer = -1;
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

static uint8_t rd(uint16_t port)
{
    uint8_t v = 0;

    address_space_read(&address_space_io, port, &v, 1);
    return v;
}

static void wr(uint16_t port, uint8_t v)
{
    address_space_write(&address_space_io, port, &v, 1);
}

/* Run the main loop's fd sources until nothing more is ready. */
static void pump(void)
{
    for (int i = 0; i < 100; i++) {
        if (!g_main_context_iteration(NULL, FALSE)) {
            usleep(1000);
            if (!g_main_context_iteration(NULL, FALSE)) {
                break;
            }
        }
    }
}

static void peer_send(const char *s)
{
    g_assert_cmpint(write(peer, s, strlen(s)), ==, (ssize_t)strlen(s));
    pump();
}

static void peer_expect(const char *s)
{
    char buf[64] = { 0 };
    size_t len = strlen(s);

    g_assert_cmpint(recv(peer, buf, len, MSG_WAITALL), ==, (ssize_t)len);
    g_assert_cmpstr(buf, ==, s);
}

static int64_t char_time_ns(unsigned divisor, unsigned bits)
{
    return (int64_t)bits * divisor * NANOSECONDS_PER_SECOND / 115200;
}

static void test_power_on(void)
{
    g_assert_cmphex(rd(COM1 + IER), ==, 0x00);
    g_assert_cmphex(rd(COM1 + IIR), ==, 0x01);
    g_assert_cmphex(rd(COM1 + LCR), ==, 0x00);
    g_assert_cmphex(rd(COM1 + MCR), ==, 0x00);
    g_assert_cmphex(rd(COM1 + LSR), ==, 0x60);
    g_assert_cmphex(rd(COM1 + MSR), ==, 0xb0);  /* DCD, DSR, CTS */
    g_assert_cmphex(rd(COM1 + SCR), ==, 0x00);
    g_assert_cmpint(irq_level[4], ==, 0);
}

static void test_divisor_scratch(void)
{
    wr(COM1 + LCR, 0x80);
    g_assert_cmphex(rd(COM1 + RBR), ==, 12);    /* 9600 baud at power on */
    g_assert_cmphex(rd(COM1 + IER), ==, 0);
    wr(COM1 + RBR, 0x01);
    wr(COM1 + IER, 0x02);
    g_assert_cmphex(rd(COM1 + RBR), ==, 0x01);
    g_assert_cmphex(rd(COM1 + IER), ==, 0x02);
    wr(COM1 + IER, 0x00);                       /* divisor 1: 115200 baud */
    wr(COM1 + LCR, 0x03);                       /* 8N1, DLAB off */
    g_assert_cmphex(rd(COM1 + IER), ==, 0x00);
    g_assert_cmphex(rd(COM1 + LCR), ==, 0x03);
    wr(COM1 + SCR, 0x5a);
    g_assert_cmphex(rd(COM1 + SCR), ==, 0x5a);
    wr(COM1 + IER, 0xff);                       /* bits 4-7 don't exist */
    g_assert_cmphex(rd(COM1 + IER), ==, 0x0f);
    wr(COM1 + IER, 0x00);
    rd(COM1 + IIR);
}

static void test_transmit_receive(void)
{
    wr(COM1 + RBR, 'h');
    wr(COM1 + RBR, 'i');
    peer_expect("hi");
    g_assert_cmphex(rd(COM1 + LSR), ==, 0x60);

    peer_send("abc");
    g_assert_cmphex(rd(COM1 + LSR), ==, 0x61);
    g_assert_cmphex(rd(COM1 + RBR), ==, 'a');
    /* FIFOs are off: one byte at a time, the rest waits in the chardev */
    pump();
    g_assert_cmphex(rd(COM1 + RBR), ==, 'b');
    pump();
    g_assert_cmphex(rd(COM1 + RBR), ==, 'c');
    g_assert_cmphex(rd(COM1 + LSR), ==, 0x60);
    g_assert_cmphex(rd(COM1 + RBR), ==, 'c');   /* empty: last byte again */
}

static void test_thre_interrupt(void)
{
    irq_raised[4] = 0;
    wr(COM1 + IER, 0x02);
    g_assert_cmpint(irq_level[4], ==, 1);       /* enabled with THR empty */
    g_assert_cmphex(rd(COM1 + IIR), ==, 0x02);
    g_assert_cmpint(irq_level[4], ==, 0);       /* IIR read acknowledged */
    g_assert_cmphex(rd(COM1 + IIR), ==, 0x01);

    wr(COM1 + RBR, 'x');                        /* sent at once: THRE again */
    peer_expect("x");
    g_assert_cmpint(irq_level[4], ==, 1);
    wr(COM1 + RBR, 'y');                        /* a fresh edge per byte */
    peer_expect("y");
    g_assert_cmpint(irq_raised[4], ==, 3);
    g_assert_cmphex(rd(COM1 + IIR), ==, 0x02);

    /* Re-enabling fires again (Linux's THRE test relies on it). */
    wr(COM1 + IER, 0x00);
    wr(COM1 + IER, 0x02);
    g_assert_cmphex(rd(COM1 + IIR), ==, 0x02);
    wr(COM1 + IER, 0x00);
    g_assert_cmpint(irq_level[4], ==, 0);
}

static void test_fifo_trigger_and_timeout(void)
{
    int64_t timeout = char_time_ns(1, 4 * 10);  /* 4 chars of 8N1, 115200 */
    int64_t t0;
    char buf[17] = { 0 };

    wr(COM1 + IIR, 0x06);                       /* FCR0 off: ignored */
    g_assert_cmphex(rd(COM1 + IIR), ==, 0x01);
    wr(COM1 + IIR, 0xc7);                       /* FIFOs on, trigger 14 */
    g_assert_cmphex(rd(COM1 + IIR), ==, 0xc1);
    wr(COM1 + IER, 0x01);

    t0 = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    peer_send("0123");
    g_assert_cmphex(rd(COM1 + LSR), ==, 0x61);
    g_assert_cmphex(rd(COM1 + IIR), ==, 0xc1);  /* below the trigger */
    virtual_clock_warp_to(t0 + timeout - 1);
    g_assert_cmpint(irq_level[4], ==, 0);
    virtual_clock_warp_to(t0 + timeout);
    g_assert_cmpint(irq_level[4], ==, 1);
    g_assert_cmphex(rd(COM1 + IIR), ==, 0xcc);  /* character timeout */
    g_assert_cmphex(rd(COM1 + RBR), ==, '0');
    g_assert_cmpint(irq_level[4], ==, 0);
    g_assert_cmphex(rd(COM1 + IIR), ==, 0xc1);
    /* The read restarted the timer. */
    virtual_clock_warp_to(t0 + 2 * timeout);
    g_assert_cmphex(rd(COM1 + IIR), ==, 0xcc);

    wr(COM1 + IIR, 0xc3);                       /* clear RX */
    g_assert_cmphex(rd(COM1 + LSR), ==, 0x60);
    g_assert_cmphex(rd(COM1 + IIR), ==, 0xc1);
    g_assert_cmpint(irq_level[4], ==, 0);

    peer_send("abcdefghijklm");
    g_assert_cmphex(rd(COM1 + IIR), ==, 0xc1);
    peer_send("n");
    g_assert_cmphex(rd(COM1 + IIR), ==, 0xc4);  /* 14 bytes: RDA */
    g_assert_cmpint(irq_level[4], ==, 1);
    for (int i = 0; i < 14; i++) {
        buf[i] = rd(COM1 + RBR);
        if (i == 0) {
            g_assert_cmpint(irq_level[4], ==, 0);
        }
    }
    g_assert_cmpstr(buf, ==, "abcdefghijklmn");
    g_assert_cmphex(rd(COM1 + LSR), ==, 0x60);

    /* Trigger levels 1, 4 and 8 */
    static const uint8_t fcr[3] = { 0x01, 0x41, 0x81 };
    static const int level[3] = { 1, 4, 8 };
    for (int i = 0; i < 3; i++) {
        wr(COM1 + IIR, fcr[i]);
        for (int n = 1; n <= level[i]; n++) {
            peer_send("z");
            g_assert_cmphex(rd(COM1 + IIR), ==, n < level[i] ? 0xc1 : 0xc4);
        }
        wr(COM1 + IIR, fcr[i] | 0x02);
    }
    wr(COM1 + IER, 0x00);
}

static void test_flow_control(void)
{
    char sent[41], got[41] = { 0 };
    int n = 0;

    for (int i = 0; i < 40; i++) {
        sent[i] = 'A' + i % 26;
    }
    sent[40] = 0;
    wr(COM1 + IIR, 0x07);
    peer_send(sent);
    /* The FIFO takes 16, the rest waits; nothing is lost to overrun. */
    while (n < 40) {
        uint8_t lsr = rd(COM1 + LSR);

        g_assert_cmphex(lsr & 0x02, ==, 0);
        g_assert_true(lsr & 0x01);
        int batch = 0;
        while (rd(COM1 + LSR) & 0x01) {
            got[n++] = rd(COM1 + RBR);
            batch++;
        }
        g_assert_cmpint(batch, <=, 16);
        pump();
    }
    g_assert_cmpstr(got, ==, sent);
    wr(COM1 + IIR, 0x00);
}

static void test_loopback_priorities(void)
{
    wr(COM2 + MCR, 0x10);                       /* CTS, DSR, DCD drop */
    wr(COM2 + IER, 0x0f);
    wr(COM2 + RBR, 'A');
    wr(COM2 + RBR, 'B');                        /* no FIFO: overrun */
    g_assert_cmpint(irq_level[3], ==, 1);
    g_assert_cmphex(rd(COM2 + IIR), ==, 0x06);  /* line status first */
    g_assert_cmphex(rd(COM2 + LSR), ==, 0x63);
    g_assert_cmphex(rd(COM2 + LSR), ==, 0x61);  /* OE cleared by reading */
    g_assert_cmphex(rd(COM2 + IIR), ==, 0x04);  /* then received data */
    g_assert_cmphex(rd(COM2 + RBR), ==, 'B');   /* 16450: overwritten */
    g_assert_cmphex(rd(COM2 + IIR), ==, 0x02);  /* then THR empty */
    g_assert_cmphex(rd(COM2 + IIR), ==, 0x00);  /* then modem status */
    g_assert_cmphex(rd(COM2 + MSR), ==, 0x0b);
    g_assert_cmphex(rd(COM2 + IIR), ==, 0x01);
    wr(COM2 + MCR, 0x1f);                       /* outputs loop to inputs */
    g_assert_cmphex(rd(COM2 + MSR), ==, 0xf0 | 0x0b);
    g_assert_cmphex(rd(COM2 + IIR), ==, 0x01);
    g_assert_cmpint(irq_level[3], ==, 0);
    wr(COM2 + MCR, 0x10);
    g_assert_cmphex(rd(COM2 + MSR), ==, 0x0f);  /* TERI: ring ended */

    /* With FIFOs the 17th byte is lost and the FIFO kept. */
    wr(COM2 + IIR, 0x07);
    for (int i = 0; i < 17; i++) {
        wr(COM2 + RBR, 'a' + i);
    }
    g_assert_cmphex(rd(COM2 + IIR), ==, 0xc6);
    g_assert_cmphex(rd(COM2 + LSR), ==, 0x63);
    for (int i = 0; i < 16; i++) {
        g_assert_cmphex(rd(COM2 + RBR), ==, 'a' + i);
    }
    g_assert_cmphex(rd(COM2 + LSR), ==, 0x60);

    wr(COM2 + MCR, 0x00);
    g_assert_cmphex(rd(COM2 + MSR), ==, 0xb0 | 0x0b);
    wr(COM2 + RBR, '!');                        /* no chardev: dropped */
    g_assert_cmphex(rd(COM2 + LSR), ==, 0x60);
}

static void test_reset(void)
{
    wr(COM1 + IER, 0x02);
    wr(COM1 + LCR, 0x1b);
    wr(COM1 + MCR, 0x0b);
    g_assert_cmpint(irq_level[4], ==, 1);
    devices_reset_all();
    g_assert_cmpint(irq_level[4], ==, 0);
    test_power_on();
    g_assert_cmphex(rd(COM2 + IIR), ==, 0x01);
}

static void test_bad_index(void)
{
    DeviceState *dev = device_new("isa-serial");
    Error *err = NULL;

    g_assert_true(device_set_prop(dev, "index", "4", NULL));
    g_assert_false(device_realize(dev, &err));
    g_assert_nonnull(err);
    error_free(err);
    device_free(dev);
}

static DeviceState *serial_new(const char *index, const char *chardev)
{
    DeviceState *dev = device_new("isa-serial");
    Error *err = NULL;

    g_assert_true(device_set_prop(dev, "index", index, &err));
    if (chardev) {
        g_assert_true(device_set_prop(dev, "chardev", chardev, &err));
    }
    g_assert_true(device_realize(dev, &err));
    return dev;
}

int main(int argc, char **argv)
{
    g_autofree char *dir = g_dir_make_tmp("kestrel-serial-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "sock", NULL);
    g_autofree char *opts = g_strdup_printf("socket,id=com1,path=%s", path);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    Error *err = NULL;
    int lfd, ret;

    g_test_init(&argc, &argv, NULL);
    memory_init();
    for (int i = 0; i < 16; i++) {
        isa_irqs[i] = qemu_allocate_irq(isa_irq_handler, NULL, i);
    }
    isa_set_irq_handler(get_isa_irq);
    virtual_clock_set_manual(true);

    g_assert_nonnull(dir);
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    g_assert_cmpint(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(lfd, 1), ==, 0);
    if (!chardev_new_from_opts(opts, &err)) {
        g_error("chardev: %s", err->msg);
    }
    peer = accept(lfd, NULL, NULL);
    g_assert_cmpint(peer, >=, 0);

    serial_new("0", "com1");
    serial_new("1", NULL);

    g_test_add_func("/serial/power-on", test_power_on);
    g_test_add_func("/serial/divisor-scratch", test_divisor_scratch);
    g_test_add_func("/serial/transmit-receive", test_transmit_receive);
    g_test_add_func("/serial/thre-interrupt", test_thre_interrupt);
    g_test_add_func("/serial/fifo-trigger-timeout",
                    test_fifo_trigger_and_timeout);
    g_test_add_func("/serial/flow-control", test_flow_control);
    g_test_add_func("/serial/loopback-priorities", test_loopback_priorities);
    g_test_add_func("/serial/reset", test_reset);
    g_test_add_func("/serial/bad-index", test_bad_index);
    ret = g_test_run();

    close(peer);
    close(lfd);
    unlink(path);
    rmdir(dir);
    return ret;
}
