/*
 * 16550A UART at COM1 (0x3f8, IRQ 4): registers and the divisor latch,
 * transmit to a file, THRE and received-data interrupts, IIR priorities,
 * the FIFO and its trigger levels, character timeout, overrun, loopback
 * with the modem lines, and receiving from a socket.
 */
#include "libkqtest.h"
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define COM1 0x3f8
enum { RBR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5,
       MSR = 6, SCR = 7 };

static QTS *start(void)
{
    QTS *s = qts_init("-nodefaults -serial null");
    qts_irq_intercept_in(s, "ioapic");
    return s;
}

static uint8_t in(QTS *s, int reg)
{
    return qts_inb(s, COM1 + reg);
}

static void out(QTS *s, int reg, uint8_t v)
{
    qts_outb(s, COM1 + reg, v);
}

static bool irq4(QTS *s)
{
    return qts_get_irq(s, 4);
}

static void test_reset_state(void)
{
    QTS *s = start();
    g_assert_cmphex(in(s, IER), ==, 0x00);
    g_assert_cmphex(in(s, IIR), ==, 0x01);
    g_assert_cmphex(in(s, LCR), ==, 0x00);
    g_assert_cmphex(in(s, MCR), ==, 0x00);
    g_assert_cmphex(in(s, LSR), ==, 0x60);      /* THRE, TEMT */
    g_assert_cmphex(in(s, MSR), ==, 0xb0);      /* DCD, DSR, CTS */
    g_assert_cmphex(in(s, SCR), ==, 0x00);
    out(s, LCR, 0x80);
    g_assert_cmphex(in(s, RBR), ==, 12);        /* 9600 baud */
    g_assert_cmphex(in(s, IER), ==, 0);
    g_assert_false(irq4(s));
    qts_quit(s);
}

/* DLAB switches offsets 0/1 to the divisor latch. */
static void test_divisor(void)
{
    QTS *s = start();
    out(s, LCR, 0x83);
    out(s, RBR, 0x01);
    out(s, IER, 0x02);                          /* DLM, not IER */
    g_assert_cmphex(in(s, RBR), ==, 0x01);
    g_assert_cmphex(in(s, IER), ==, 0x02);
    out(s, LCR, 0x03);
    g_assert_cmphex(in(s, IER), ==, 0x00);
    g_assert_cmphex(in(s, LCR), ==, 0x03);
    out(s, SCR, 0x5a);
    g_assert_cmphex(in(s, SCR), ==, 0x5a);
    /* LSR and MSR are read-only. */
    out(s, LSR, 0x00);
    g_assert_cmphex(in(s, LSR), ==, 0x60);
    qts_quit(s);
}

static void test_tx_file(void)
{
    g_autofree char *dir = g_dir_make_tmp("kqser-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "out", NULL);
    g_autofree char *text = NULL;
    gsize len;

    QTS *s = qts_initf("-nodefaults -serial file:%s", path);
    for (const char *p = "hello\n"; *p; p++) {
        g_assert_cmphex(in(s, LSR) & 0x20, ==, 0x20);
        out(s, RBR, *p);
    }
    qts_quit(s);
    g_assert_true(g_file_get_contents(path, &text, &len, NULL));
    g_assert_cmpstr(text, ==, "hello\n");
    unlink(path);
    rmdir(dir);
}

/* THRE interrupt: on enable, acknowledged by reading IIR, again after
 * each transmitted byte. */
static void test_thre(void)
{
    QTS *s = start();
    out(s, IER, 0x02);
    g_assert_true(irq4(s));
    g_assert_cmphex(in(s, IIR), ==, 0x02);
    g_assert_false(irq4(s));
    g_assert_cmphex(in(s, IIR), ==, 0x01);
    qts_irq_reset_count(s);
    out(s, RBR, 'x');
    g_assert_cmpuint(qts_irq_raised(s, 4), ==, 1);
    g_assert_cmphex(in(s, IIR), ==, 0x02);
    out(s, IER, 0x00);
    g_assert_false(irq4(s));
    qts_quit(s);
}

/* Loopback: what is sent is received; RDA interrupt. */
static void test_loopback_rx(void)
{
    QTS *s = start();
    out(s, MCR, 0x10);
    out(s, IER, 0x01);
    out(s, RBR, 0x42);
    g_assert_cmphex(in(s, LSR), ==, 0x61);
    g_assert_true(irq4(s));
    g_assert_cmphex(in(s, IIR), ==, 0x04);
    g_assert_cmphex(in(s, RBR), ==, 0x42);
    g_assert_false(irq4(s));
    g_assert_cmphex(in(s, LSR), ==, 0x60);
    qts_quit(s);
}

/* Received data outranks THRE; line status outranks both. */
static void test_iir_priority(void)
{
    QTS *s = start();
    out(s, MCR, 0x10);
    out(s, IER, 0x07);
    out(s, RBR, 1);
    g_assert_cmphex(in(s, IIR), ==, 0x04);
    out(s, RBR, 2);                             /* overrun, FIFO off */
    g_assert_cmphex(in(s, IIR), ==, 0x06);
    g_assert_cmphex(in(s, LSR), ==, 0x63);      /* OE, DR; read clears OE */
    g_assert_cmphex(in(s, IIR), ==, 0x04);
    g_assert_cmphex(in(s, RBR), ==, 2);         /* 16450: overwritten */
    g_assert_cmphex(in(s, IIR), ==, 0x02);
    qts_quit(s);
}

/* Loopback wires RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
static void test_loopback_msr(void)
{
    QTS *s = start();
    out(s, MCR, 0x10);
    g_assert_cmphex(in(s, MSR), ==, 0x0b);      /* CTS, DSR, DCD fell */
    out(s, IER, 0x08);
    out(s, MCR, 0x1f);
    g_assert_true(irq4(s));
    g_assert_cmphex(in(s, IIR), ==, 0x00);
    g_assert_cmphex(in(s, MSR), ==, 0xfb);      /* all up, deltas */
    g_assert_false(irq4(s));
    g_assert_cmphex(in(s, MSR), ==, 0xf0);
    out(s, MCR, 0x1b);                          /* OUT1 off: RI falls */
    g_assert_cmphex(in(s, MSR), ==, 0xb4);      /* TERI */
    qts_quit(s);
}

static void test_fifo_enable(void)
{
    QTS *s = start();
    out(s, FCR, 0x01);
    g_assert_cmphex(in(s, IIR), ==, 0xc1);
    out(s, FCR, 0x00);
    g_assert_cmphex(in(s, IIR), ==, 0x01);
    qts_quit(s);
}

/* The RDA interrupt waits for 1, 4, 8 or 14 bytes. */
static void test_fifo_trigger(void)
{
    static const struct { uint8_t fcr; int level; } t[] = {
        { 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xc1, 14 },
    };
    QTS *s = start();
    out(s, MCR, 0x10);
    out(s, IER, 0x01);
    for (unsigned i = 0; i < G_N_ELEMENTS(t); i++) {
        out(s, FCR, t[i].fcr | 0x02);           /* and clear RX */
        for (int n = 1; n < t[i].level; n++) {
            out(s, RBR, n);
        }
        g_assert_false(irq4(s));
        out(s, RBR, 0xee);
        g_assert_true(irq4(s));
        g_assert_cmphex(in(s, IIR), ==, 0xc4);
        for (int n = 1; n < t[i].level; n++) {
            g_assert_cmphex(in(s, RBR), ==, n);
        }
        g_assert_cmphex(in(s, RBR), ==, 0xee);
    }
    qts_quit(s);
}

/* Below the trigger, data waiting four character times interrupts. */
static void test_char_timeout(void)
{
    const int64_t timeout = 4166666;            /* 4 x 10 bits at 9600 */
    QTS *s = start();
    out(s, LCR, 0x03);
    out(s, MCR, 0x10);
    out(s, IER, 0x01);
    out(s, FCR, 0xc1);
    int64_t t0 = qts_clock_step(s, 0);
    out(s, RBR, 0x33);
    qts_clock_set(s, t0 + timeout - 1);
    g_assert_false(irq4(s));
    qts_clock_set(s, t0 + timeout);
    g_assert_true(irq4(s));
    g_assert_cmphex(in(s, IIR), ==, 0xcc);
    g_assert_cmphex(in(s, RBR), ==, 0x33);
    g_assert_false(irq4(s));
    qts_quit(s);
}

/* With the FIFO, the 17th byte is lost and OE set; the 16 stay. */
static void test_fifo_overrun(void)
{
    QTS *s = start();
    out(s, MCR, 0x10);
    out(s, FCR, 0x01);
    for (int n = 0; n < 17; n++) {
        out(s, RBR, n);
    }
    g_assert_cmphex(in(s, LSR), ==, 0x63);
    g_assert_cmphex(in(s, LSR), ==, 0x61);
    for (int n = 0; n < 16; n++) {
        g_assert_cmphex(in(s, RBR), ==, n);
    }
    g_assert_cmphex(in(s, LSR) & 0x01, ==, 0);
    qts_quit(s);
}

static void test_fifo_clear(void)
{
    QTS *s = start();
    out(s, MCR, 0x10);
    out(s, FCR, 0x01);
    out(s, RBR, 1);
    out(s, RBR, 2);
    out(s, FCR, 0x03);
    g_assert_cmphex(in(s, LSR) & 0x01, ==, 0);
    /* Turning the FIFO off empties it as well. */
    out(s, RBR, 3);
    out(s, FCR, 0x00);
    g_assert_cmphex(in(s, LSR) & 0x01, ==, 0);
    qts_quit(s);
}

/* Bytes from the outside world arrive through the chardev. */
static void test_rx_socket(void)
{
    g_autofree char *dir = g_dir_make_tmp("kqser-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "sock", NULL);
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);

    g_strlcpy(un.sun_path, path, sizeof(un.sun_path));
    g_assert_cmpint(bind(lfd, (struct sockaddr *)&un, sizeof(un)), ==, 0);
    g_assert_cmpint(listen(lfd, 1), ==, 0);
    QTS *s = qts_initf("-nodefaults -chardev socket,path=%s,id=s0 "
                       "-serial chardev:s0", path);
    int fd = accept(lfd, NULL, NULL);
    g_assert_cmpint(fd, >=, 0);
    out(s, FCR, 0x01);              /* (switching FIFOs empties them) */
    g_assert_cmpint(write(fd, "ok!", 3), ==, 3);
    char got[4] = { 0 };
    for (int i = 0, tries = 0; i < 3; tries++) {
        g_assert_cmpint(tries, <, 1000);
        if (in(s, LSR) & 0x01) {
            got[i++] = in(s, RBR);
        } else {
            g_usleep(1000);
        }
    }
    g_assert_cmpstr(got, ==, "ok!");
    /* And the other way. */
    out(s, RBR, '#');
    g_assert_cmpint(read(fd, got, 1), ==, 1);
    g_assert_cmpint(got[0], ==, '#');
    qts_quit(s);
    close(fd);
    close(lfd);
    unlink(path);
    rmdir(dir);
}

/* COM2 at 0x2f8 interrupts on IRQ 3. */
static void test_com2(void)
{
    QTS *s = qts_init("-nodefaults -serial null -serial null");
    qts_irq_intercept_in(s, "ioapic");
    qts_outb(s, 0x2f9, 0x02);
    g_assert_true(qts_get_irq(s, 3));
    g_assert_false(qts_get_irq(s, 4));
    g_assert_cmphex(qts_inb(s, 0x2fa), ==, 0x02);
    qts_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/serial/reset-state", test_reset_state);
    g_test_add_func("/serial/divisor-scratch", test_divisor);
    g_test_add_func("/serial/tx-file", test_tx_file);
    g_test_add_func("/serial/irq/thre", test_thre);
    g_test_add_func("/serial/irq/rda", test_loopback_rx);
    g_test_add_func("/serial/irq/priority", test_iir_priority);
    g_test_add_func("/serial/loopback/msr", test_loopback_msr);
    g_test_add_func("/serial/fifo/enable", test_fifo_enable);
    g_test_add_func("/serial/fifo/trigger", test_fifo_trigger);
    g_test_add_func("/serial/fifo/timeout", test_char_timeout);
    g_test_add_func("/serial/fifo/overrun", test_fifo_overrun);
    g_test_add_func("/serial/fifo/clear", test_fifo_clear);
    g_test_add_func("/serial/rx-socket", test_rx_socket);
    g_test_add_func("/serial/com2", test_com2);
    return g_test_run();
}
