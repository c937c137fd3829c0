/*
 * 16550A UART on the ISA bus ("isa-serial").
 *
 * Transmission takes no time: a byte written to THR goes straight to the
 * chardev (or, in loopback, to the receiver), so THR and the transmitter are
 * always empty again by the time the guest looks.  Received bytes wait in the
 * 16-byte RX FIFO (a 1-byte holding register with FIFOs off); the chardev is
 * only offered as much as fits, so input is never lost to overrun.
 */
#include "util/osdep.h"
#include "hw/isa/isa.h"
#include "chardev/char.h"
#include "system/timer.h"

enum {
    UART_RBR = 0,       /* read, DLAB=0: receive buffer; write: THR */
    UART_IER = 1,       /* DLAB=0; DLM with DLAB=1 */
    UART_IIR = 2,       /* read; write: FCR */
    UART_LCR = 3,
    UART_MCR = 4,
    UART_LSR = 5,
    UART_MSR = 6,
    UART_SCR = 7,
};

#define IER_RDI         0x01    /* received data available (and timeout) */
#define IER_THRI        0x02    /* THR empty */
#define IER_RLSI        0x04    /* receiver line status */
#define IER_MSI         0x08    /* modem status */

#define IIR_NO_INT      0x01
#define IIR_MSI         0x00
#define IIR_THRI        0x02
#define IIR_RDI         0x04
#define IIR_RLSI        0x06
#define IIR_CTI         0x0c    /* character timeout */
#define IIR_FIFO_ON     0xc0

#define FCR_ENABLE      0x01
#define FCR_CLEAR_RX    0x02
#define FCR_CLEAR_TX    0x04
#define FCR_DMA         0x08
#define FCR_TRIGGER     0xc0

#define LCR_DLAB        0x80

#define MCR_DTR         0x01
#define MCR_RTS         0x02
#define MCR_OUT1        0x04
#define MCR_OUT2        0x08
#define MCR_LOOP        0x10

#define LSR_DR          0x01
#define LSR_OE          0x02
#define LSR_PE          0x04
#define LSR_FE          0x08
#define LSR_BI          0x10
#define LSR_THRE        0x20
#define LSR_TEMT        0x40
#define LSR_ERRORS      (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS        0x01
#define MSR_DDSR        0x02
#define MSR_TERI        0x04
#define MSR_DDCD        0x08
#define MSR_DELTAS      0x0f
#define MSR_CTS         0x10
#define MSR_DSR         0x20
#define MSR_RI          0x40
#define MSR_DCD         0x80

#define FIFO_SIZE       16
#define UART_CLOCK_HZ   1843200     /* 1.8432 MHz crystal, 16x oversampling */

typedef struct SerialState {
    DeviceState parent_obj;
    uint32_t index;
    uint32_t iobase;
    uint32_t isairq;
    Chardev *chr;

    MemoryRegion io;
    qemu_irq irq;
    CharFrontend fe;
    bool irq_level;

    uint16_t divider;
    uint8_t ier;
    uint8_t lcr;
    uint8_t mcr;
    uint8_t lsr;                /* only the error bits; the rest is derived */
    uint8_t msr;
    uint8_t scr;
    uint8_t fcr;
    uint8_t rbr;                /* the byte last read, returned when empty */
    uint8_t rx_fifo[FIFO_SIZE];
    uint8_t rx_head;
    uint8_t rx_count;
    bool thre_pending;          /* THR-empty interrupt not yet acknowledged */
    bool timeout_pending;       /* character timeout interrupt */
    QEMUTimer timeout_timer;
} SerialState;

static const uint16_t serial_iobase[4] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
static const uint8_t serial_irq[4] = { 4, 3, 4, 3 };
static unsigned serial_auto_index;

static bool fifo_on(SerialState *s)
{
    return s->fcr & FCR_ENABLE;
}

static unsigned rx_capacity(SerialState *s)
{
    return fifo_on(s) ? FIFO_SIZE : 1;
}

static unsigned rx_trigger(SerialState *s)
{
    static const uint8_t level[4] = { 1, 4, 8, 14 };

    return fifo_on(s) ? level[s->fcr >> 6] : 1;
}

static uint8_t serial_iir(SerialState *s)
{
    uint8_t fifo = fifo_on(s) ? IIR_FIFO_ON : 0;

    if ((s->ier & IER_RLSI) && (s->lsr & LSR_ERRORS)) {
        return fifo | IIR_RLSI;
    }
    if ((s->ier & IER_RDI) && s->rx_count >= rx_trigger(s)) {
        return fifo | IIR_RDI;
    }
    if ((s->ier & IER_RDI) && s->timeout_pending) {
        return fifo | IIR_CTI;
    }
    if ((s->ier & IER_THRI) && s->thre_pending) {
        return fifo | IIR_THRI;
    }
    if ((s->ier & IER_MSI) && (s->msr & MSR_DELTAS)) {
        return fifo | IIR_MSI;
    }
    return fifo | IIR_NO_INT;
}

static void serial_update_irq(SerialState *s)
{
    bool level = !(serial_iir(s) & IIR_NO_INT);

    if (level != s->irq_level) {
        s->irq_level = level;
        qemu_set_irq(s->irq, level);
    }
}

/* Four character times at the programmed baud rate and frame format. */
static int64_t serial_char_timeout_ns(SerialState *s)
{
    unsigned data_bits = 5 + (s->lcr & 3);
    unsigned half_bits = 2 * (1 + data_bits + !!(s->lcr & 0x08));
    uint64_t divider = s->divider ? s->divider : 1;

    /* one stop bit, or 1.5 with 5 data bits, else 2 */
    half_bits += !(s->lcr & 0x04) ? 2 : data_bits == 5 ? 3 : 4;
    return 4 * half_bits * divider * 16 * NANOSECONDS_PER_SECOND /
           (2 * UART_CLOCK_HZ);
}

static void serial_restart_timeout(SerialState *s)
{
    if (fifo_on(s) && s->rx_count) {
        timer_mod(&s->timeout_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                  serial_char_timeout_ns(s));
    } else {
        timer_del(&s->timeout_timer);
    }
}

static void serial_timeout_cb(void *opaque)
{
    SerialState *s = opaque;

    if (s->rx_count) {
        s->timeout_pending = true;
        serial_update_irq(s);
    }
}

static void serial_clear_rx(SerialState *s)
{
    s->rx_head = 0;
    s->rx_count = 0;
    s->timeout_pending = false;
    timer_del(&s->timeout_timer);
}

static void serial_receive_byte(SerialState *s, uint8_t byte)
{
    if (s->rx_count < rx_capacity(s)) {
        s->rx_fifo[(s->rx_head + s->rx_count) % FIFO_SIZE] = byte;
        s->rx_count++;
    } else {
        /* Overrun: the 16450 holding register is overwritten, the FIFO
         * keeps its contents and the new byte is lost. */
        if (!fifo_on(s)) {
            s->rx_fifo[s->rx_head] = byte;
        }
        s->lsr |= LSR_OE;
    }
}

/* Modem inputs: looped back from MCR, else a modem that is always there. */
static void serial_update_msr(SerialState *s)
{
    uint8_t in, changed;

    if (s->mcr & MCR_LOOP) {
        in = (s->mcr & MCR_RTS ? MSR_CTS : 0) |
             (s->mcr & MCR_DTR ? MSR_DSR : 0) |
             (s->mcr & MCR_OUT1 ? MSR_RI : 0) |
             (s->mcr & MCR_OUT2 ? MSR_DCD : 0);
    } else {
        in = MSR_CTS | MSR_DSR | MSR_DCD;
    }
    changed = (s->msr ^ in) & 0xf0;
    s->msr = (s->msr & MSR_DELTAS) | in;
    s->msr |= (changed & (MSR_CTS | MSR_DSR | MSR_DCD)) >> 4;
    if ((changed & MSR_RI) && !(in & MSR_RI)) {
        s->msr |= MSR_TERI;             /* trailing edge of ring only */
    }
}

static void serial_accept_input(SerialState *s)
{
    if (s->chr && !(s->mcr & MCR_LOOP) && s->rx_count < rx_capacity(s)) {
        chardev_accept_input(s->chr);
    }
}

static void serial_write_thr(SerialState *s, uint8_t val)
{
    /* The write acknowledges THRE; drop the line so the new THRE after the
     * (instant) transmission is a fresh edge. */
    s->thre_pending = false;
    serial_update_irq(s);
    if (s->mcr & MCR_LOOP) {
        serial_receive_byte(s, val);
        serial_restart_timeout(s);
    } else if (s->chr) {
        chardev_write(s->chr, &val, 1);
    }
    s->thre_pending = true;
    serial_update_irq(s);
}

static void serial_write_fcr(SerialState *s, uint8_t val)
{
    if ((val ^ s->fcr) & FCR_ENABLE) {
        serial_clear_rx(s);             /* mode change empties the FIFOs */
    }
    if (!(val & FCR_ENABLE)) {
        s->fcr = 0;                     /* other bits need FCR0 set */
    } else {
        if (val & FCR_CLEAR_RX) {
            serial_clear_rx(s);
        }
        /* TX is always empty already: FCR_CLEAR_TX has nothing to do. */
        s->fcr = val & (FCR_ENABLE | FCR_DMA | FCR_TRIGGER);
    }
    serial_accept_input(s);
}

static void serial_io_write(void *opaque, uint64_t addr, uint64_t val64,
                            unsigned size)
{
    SerialState *s = opaque;
    uint8_t val = val64;
    uint8_t old;

    switch (addr) {
    case UART_RBR:
        if (s->lcr & LCR_DLAB) {
            s->divider = (s->divider & 0xff00) | val;
        } else {
            serial_write_thr(s, val);
        }
        return;
    case UART_IER:
        if (s->lcr & LCR_DLAB) {
            s->divider = (s->divider & 0x00ff) | val << 8;
            return;
        }
        old = s->ier;
        s->ier = val & 0x0f;
        if ((s->ier & ~old & IER_THRI)) {
            s->thre_pending = true;     /* enabling with THR empty fires */
        }
        break;
    case UART_IIR:
        serial_write_fcr(s, val);
        break;
    case UART_LCR:
        s->lcr = val;
        break;
    case UART_MCR:
        old = s->mcr;
        s->mcr = val & 0x1f;
        serial_update_msr(s);
        if ((old & MCR_LOOP) && !(s->mcr & MCR_LOOP)) {
            serial_accept_input(s);
        }
        break;
    case UART_LSR:
    case UART_MSR:
        log_guest_error("isa-serial: write 0x%02x to read-only register %d",
                        val, (int)addr);
        return;
    case UART_SCR:
        s->scr = val;
        return;
    }
    serial_update_irq(s);
}

static uint64_t serial_io_read(void *opaque, uint64_t addr, unsigned size)
{
    SerialState *s = opaque;
    uint8_t val;

    switch (addr) {
    case UART_RBR:
        if (s->lcr & LCR_DLAB) {
            return s->divider & 0xff;
        }
        if (s->rx_count) {
            s->rbr = s->rx_fifo[s->rx_head];
            s->rx_head = (s->rx_head + 1) % FIFO_SIZE;
            s->rx_count--;
        }
        s->timeout_pending = false;
        serial_restart_timeout(s);
        serial_update_irq(s);
        if (!s->rx_count) {
            serial_accept_input(s);     /* drained: let the chardev refill */
        }
        return s->rbr;
    case UART_IER:
        return s->lcr & LCR_DLAB ? s->divider >> 8 : s->ier;
    case UART_IIR:
        val = serial_iir(s);
        if ((val & 0x0f) == IIR_THRI) {
            s->thre_pending = false;    /* reading IIR acknowledges THRE */
            serial_update_irq(s);
        }
        return val;
    case UART_LCR:
        return s->lcr;
    case UART_MCR:
        return s->mcr;
    case UART_LSR:
        val = (s->lsr & LSR_ERRORS) | LSR_THRE | LSR_TEMT |
              (s->rx_count ? LSR_DR : 0);
        s->lsr &= ~LSR_ERRORS;
        serial_update_irq(s);
        return val;
    case UART_MSR:
        val = s->msr;
        s->msr &= ~MSR_DELTAS;
        serial_update_irq(s);
        return val;
    default:
        return s->scr;
    }
}

static const MemoryRegionOps serial_io_ops = {
    .read = serial_io_read,
    .write = serial_io_write,
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static int serial_can_read(void *opaque)
{
    SerialState *s = opaque;

    if (s->mcr & MCR_LOOP) {
        return 0;                       /* the receiver hears only itself */
    }
    return rx_capacity(s) - s->rx_count;
}

static void serial_chr_read(void *opaque, const uint8_t *buf, int len)
{
    SerialState *s = opaque;

    for (int i = 0; i < len; i++) {
        serial_receive_byte(s, buf[i]);
    }
    serial_restart_timeout(s);
    serial_update_irq(s);
}

static void serial_reset(DeviceState *dev)
{
    SerialState *s = (SerialState *)dev;

    s->divider = 12;                    /* 9600 baud */
    s->ier = 0;
    s->lcr = 0;
    s->mcr = 0;
    s->lsr = 0;
    s->scr = 0;
    s->fcr = 0;
    s->rbr = 0;
    s->thre_pending = false;
    serial_clear_rx(s);
    s->msr = 0;
    serial_update_msr(s);
    s->msr &= ~MSR_DELTAS;
    serial_update_irq(s);
    serial_accept_input(s);
}

static bool serial_realize(DeviceState *dev, Error **errp)
{
    SerialState *s = (SerialState *)dev;

    if (s->index == UINT32_MAX) {
        s->index = serial_auto_index;
    }
    if (s->index >= ARRAY_SIZE(serial_iobase) &&
        (s->iobase == UINT32_MAX || s->isairq == UINT32_MAX)) {
        error_setg(errp, "isa-serial: index %u needs iobase and irq",
                   s->index);
        return false;
    }
    if (s->iobase == UINT32_MAX) {
        s->iobase = serial_iobase[s->index];
    }
    if (s->isairq == UINT32_MAX) {
        s->isairq = serial_irq[s->index];
    }
    if (s->iobase > 0xfff8 || s->isairq > 15) {
        error_setg(errp, "isa-serial: iobase 0x%x or irq %u out of range",
                   s->iobase, s->isairq);
        return false;
    }
    s->fe = (CharFrontend) {
        .can_read = serial_can_read,
        .read = serial_chr_read,
        .opaque = s,
    };
    if (s->chr && !chardev_attach(s->chr, &s->fe, errp)) {
        return false;
    }
    serial_auto_index = MAX(serial_auto_index, s->index + 1);

    timer_init_ns(&s->timeout_timer, QEMU_CLOCK_VIRTUAL, serial_timeout_cb, s);
    s->irq = isa_get_irq(s->isairq);
    memory_region_init_io(&s->io, &serial_io_ops, s, "serial", 8);
    isa_register_ioport(&s->io, s->iobase);
    return true;
}

static int serial_post_load(void *opaque, int version_id, Error **errp)
{
    SerialState *s = opaque;

    if (s->rx_count > rx_capacity(s)) {
        error_setg(errp, "isa-serial: %u bytes in a %u-byte receiver",
                   s->rx_count, rx_capacity(s));
        return -1;
    }
    s->irq_level = !(serial_iir(s) & IIR_NO_INT);
    return 0;
}

static const VMStateField serial_fields[] = {
    VMSTATE_UINT16(divider, SerialState),
    VMSTATE_FIELD_MAX(ier, SerialState, VMS_UINT8, 0x0f),
    VMSTATE_UINT8(lcr, SerialState),
    VMSTATE_FIELD_MAX(mcr, SerialState, VMS_UINT8, 0x1f),
    VMSTATE_UINT8(lsr, SerialState),
    VMSTATE_UINT8(msr, SerialState),
    VMSTATE_UINT8(scr, SerialState),
    VMSTATE_UINT8(fcr, SerialState),
    VMSTATE_UINT8(rbr, SerialState),
    VMSTATE_BUFFER(rx_fifo, SerialState),
    VMSTATE_FIELD_MAX(rx_head, SerialState, VMS_UINT8, FIFO_SIZE - 1),
    VMSTATE_FIELD_MAX(rx_count, SerialState, VMS_UINT8, FIFO_SIZE),
    VMSTATE_BOOL(thre_pending, SerialState),
    VMSTATE_BOOL(timeout_pending, SerialState),
    VMSTATE_TIMER(timeout_timer, SerialState),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription serial_vmsd = {
    .name = "isa-serial",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = serial_fields,
    .post_load = serial_post_load,
};

static const Property serial_props[] = {
    DEFINE_PROP_UINT32("index", SerialState, index, UINT32_MAX),
    DEFINE_PROP_UINT32("iobase", SerialState, iobase, UINT32_MAX),
    DEFINE_PROP_UINT32("irq", SerialState, isairq, UINT32_MAX),
    DEFINE_PROP_CHR("chardev", SerialState, chr),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass serial_class = {
    .name = "isa-serial",
    .desc = "16550A UART",
    .bus = BUS_ISA,
    .instance_size = sizeof(SerialState),
    .props = serial_props,
    .user_creatable = true,
    .realize = serial_realize,
    .reset = serial_reset,
    .vmsd = &serial_vmsd,
};
DEVICE_REGISTER(serial_class);
