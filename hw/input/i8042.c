/*
 * Intel 8042 PS/2 controller at ports 0x60 (data) and 0x64 (status and
 * command), with IRQ 1 for the keyboard and IRQ 12 for the aux port.
 *
 * Behind it sits a PS/2 keyboard that has no keys but answers the commands
 * firmware and kernels probe it with; the aux port has no mouse, so every
 * byte sent there is answered with 0xfe (resend, i.e. "nobody here").
 * Controller replies take precedence over device bytes in the single output
 * buffer, and a device's bytes wait while its port is disabled.
 */
#include "util/osdep.h"
#include "hw/isa/isa.h"
#include "system/system.h"

#define STAT_OBF        0x01    /* output buffer full */
#define STAT_SYS        0x04    /* system flag, mirrors CTR_SYS */
#define STAT_CMD        0x08    /* last write went to port 0x64 */
#define STAT_UNLOCKED   0x10    /* keyboard not inhibited by the keylock */
#define STAT_AUX_OBF    0x20    /* output buffer holds aux data */

#define CTR_KBDINT      0x01
#define CTR_AUXINT      0x02
#define CTR_SYS         0x04
#define CTR_KBDDIS      0x10
#define CTR_AUXDIS      0x20
#define CTR_XLATE       0x40    /* translate keyboard set 2 to set 1 */

#define OUT_RESET       0x01    /* low holds the CPU in reset */
#define OUT_A20         0x02
#define OUT_KBD_OBF     0x10    /* IRQ 1 */
#define OUT_AUX_OBF     0x20    /* IRQ 12 */

#define KBD_ACK         0xfa
#define KBD_RESEND      0xfe
#define KBD_BAT_OK      0xaa
#define KBD_ECHO        0xee

#define QUEUE_SIZE      16

typedef struct PS2Queue {
    uint8_t data[QUEUE_SIZE];
    uint8_t head;
    uint8_t count;
} PS2Queue;

typedef struct I8042State {
    DeviceState parent_obj;
    MemoryRegion data_io;
    MemoryRegion cmd_io;
    qemu_irq irq_kbd;
    qemu_irq irq_aux;
    bool irq_kbd_level;
    bool irq_aux_level;

    /* controller */
    uint8_t ctr;                /* command byte (controller RAM byte 0) */
    uint8_t ram[32];            /* RAM bytes 1-31 for 0x21-0x3f/0x61-0x7f */
    uint8_t status;
    uint8_t out_data;
    uint8_t outport;
    uint8_t write_cmd;          /* command waiting for its data byte */
    bool reply_pending;         /* controller byte waiting for the buffer */
    bool reply_aux;
    uint8_t reply;

    /* keyboard */
    PS2Queue kbd;
    uint8_t kbd_cmd;            /* command waiting for its argument */
    bool kbd_scanning;
    uint8_t kbd_scancode_set;
    uint8_t kbd_leds;
    uint8_t kbd_typematic;
    uint8_t kbd_last;           /* for the resend command */

    /* aux port, no mouse */
    PS2Queue aux;
} I8042State;

static void queue_push(PS2Queue *q, uint8_t byte)
{
    if (q->count == QUEUE_SIZE) {
        log_guest_error("i8042: device queue full, byte 0x%02x lost", byte);
        return;
    }
    q->data[(q->head + q->count) % QUEUE_SIZE] = byte;
    q->count++;
}

static uint8_t queue_pop(PS2Queue *q)
{
    uint8_t byte = q->data[q->head];

    q->head = (q->head + 1) % QUEUE_SIZE;
    q->count--;
    return byte;
}

static void queue_clear(PS2Queue *q)
{
    q->head = 0;
    q->count = 0;
}

/*
 * With translation on, the controller turns set 2 codes into set 1.  The
 * keyboard sends no key codes, only replies; of those the identify byte and
 * the scan code set numbers change, the rest pass through.
 */
static uint8_t translate(uint8_t byte)
{
    switch (byte) {
    case 0x01: return 0x43;
    case 0x02: return 0x41;
    case 0x03: return 0x3f;
    case 0x83: return 0x41;
    default: return byte;
    }
}

static void i8042_set_irqs(I8042State *s)
{
    bool full = s->status & STAT_OBF;
    bool aux = s->status & STAT_AUX_OBF;
    bool kbd_level = full && !aux && (s->ctr & CTR_KBDINT);
    bool aux_level = full && aux && (s->ctr & CTR_AUXINT);

    if (kbd_level != s->irq_kbd_level) {
        s->irq_kbd_level = kbd_level;
        qemu_set_irq(s->irq_kbd, kbd_level);
    }
    if (aux_level != s->irq_aux_level) {
        s->irq_aux_level = aux_level;
        qemu_set_irq(s->irq_aux, aux_level);
    }
}

/* Move the next byte into an empty output buffer and drive the IRQs. */
static void i8042_update(I8042State *s)
{
    bool aux = false, filled = true;

    if (!(s->status & STAT_OBF)) {
        if (s->reply_pending) {
            s->out_data = s->reply;
            aux = s->reply_aux;
            s->reply_pending = false;
        } else if (!(s->ctr & CTR_KBDDIS) && s->kbd.count) {
            s->out_data = queue_pop(&s->kbd);
            if (s->ctr & CTR_XLATE) {
                s->out_data = translate(s->out_data);
            }
        } else if (!(s->ctr & CTR_AUXDIS) && s->aux.count) {
            s->out_data = queue_pop(&s->aux);
            aux = true;
        } else {
            filled = false;
        }
        if (filled) {
            s->status |= STAT_OBF;
            s->status = aux ? s->status | STAT_AUX_OBF
                            : s->status & ~STAT_AUX_OBF;
        }
    }
    i8042_set_irqs(s);
}

static void i8042_reply(I8042State *s, uint8_t byte, bool aux)
{
    if (s->reply_pending) {
        log_guest_error("i8042: controller reply 0x%02x lost", s->reply);
    }
    s->reply = byte;
    s->reply_aux = aux;
    s->reply_pending = true;
}

static void kbd_send(I8042State *s, uint8_t byte)
{
    queue_push(&s->kbd, byte);
    if (byte != KBD_RESEND) {
        s->kbd_last = byte;
    }
}

static void kbd_set_defaults(I8042State *s)
{
    s->kbd_scancode_set = 2;
    s->kbd_typematic = 0x2b;    /* 10.9 characters/s after 500 ms */
    s->kbd_scanning = true;
}

static void kbd_write(I8042State *s, uint8_t val)
{
    uint8_t cmd = s->kbd_cmd;

    s->kbd_cmd = 0;
    /* An argument byte, unless the host gave up and sends a new command. */
    if (cmd && !(val & 0x80)) {
        switch (cmd) {
        case 0xed:
            s->kbd_leds = val & 7;
            kbd_send(s, KBD_ACK);
            break;
        case 0xf3:
            s->kbd_typematic = val;
            kbd_send(s, KBD_ACK);
            break;
        case 0xf0:
            if (val > 3) {
                kbd_send(s, KBD_RESEND);
                break;
            }
            kbd_send(s, KBD_ACK);
            if (val) {
                s->kbd_scancode_set = val;
            } else {
                kbd_send(s, s->kbd_scancode_set);
            }
            break;
        }
        return;
    }

    switch (val) {
    case 0xed:                  /* set LEDs */
    case 0xf0:                  /* get/set scan code set */
    case 0xf3:                  /* set typematic rate */
        s->kbd_cmd = val;
        kbd_send(s, KBD_ACK);
        break;
    case 0xee:
        kbd_send(s, KBD_ECHO);
        break;
    case 0xf2:                  /* identify: MF2 keyboard */
        kbd_send(s, KBD_ACK);
        kbd_send(s, 0xab);
        kbd_send(s, 0x83);
        break;
    case 0xf4:                  /* enable scanning */
        queue_clear(&s->kbd);
        s->kbd_scanning = true;
        kbd_send(s, KBD_ACK);
        break;
    case 0xf5:                  /* defaults, scanning off */
        queue_clear(&s->kbd);
        kbd_set_defaults(s);
        s->kbd_scanning = false;
        kbd_send(s, KBD_ACK);
        break;
    case 0xf6:                  /* defaults */
        queue_clear(&s->kbd);
        kbd_set_defaults(s);
        kbd_send(s, KBD_ACK);
        break;
    case 0xfe:                  /* resend the last byte */
        kbd_send(s, s->kbd_last);
        break;
    case 0xff:                  /* reset and self-test */
        queue_clear(&s->kbd);
        kbd_set_defaults(s);
        s->kbd_leds = 0;
        kbd_send(s, KBD_ACK);
        kbd_send(s, KBD_BAT_OK);
        break;
    default:
        log_guest_error("i8042: unknown keyboard command 0x%02x", val);
        kbd_send(s, KBD_RESEND);
        break;
    }
}

static uint8_t i8042_read_outport(I8042State *s)
{
    uint8_t val = s->outport & ~(OUT_KBD_OBF | OUT_AUX_OBF);

    if (s->status & STAT_OBF) {
        val |= s->status & STAT_AUX_OBF ? OUT_AUX_OBF : OUT_KBD_OBF;
    }
    return val;
}

static void i8042_write_outport(I8042State *s, uint8_t val)
{
    s->outport = val;
    if (!(val & OUT_RESET)) {
        qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
    }
}

static void i8042_command(I8042State *s, uint8_t cmd)
{
    s->write_cmd = 0;
    if (cmd >= 0x20 && cmd < 0x40) {
        i8042_reply(s, cmd == 0x20 ? s->ctr : s->ram[cmd & 0x1f], false);
        return;
    }
    if ((cmd >= 0x60 && cmd < 0x80) || (cmd >= 0xd1 && cmd <= 0xd4)) {
        s->write_cmd = cmd;     /* the data byte follows at port 0x60 */
        return;
    }
    if (cmd >= 0xf0) {
        /* Pulse the output port bits that are 0 in the low nibble. */
        if (!(cmd & OUT_RESET)) {
            qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
        }
        return;
    }
    switch (cmd) {
    case 0xa7:
        s->ctr |= CTR_AUXDIS;
        break;
    case 0xa8:
        s->ctr &= ~CTR_AUXDIS;
        break;
    case 0xa9:                  /* aux interface test: OK */
    case 0xab:                  /* keyboard interface test: OK */
        i8042_reply(s, 0x00, false);
        break;
    case 0xaa:                  /* controller self-test */
        s->ctr |= CTR_SYS;
        i8042_reply(s, 0x55, false);
        break;
    case 0xad:
        s->ctr |= CTR_KBDDIS;
        break;
    case 0xae:
        s->ctr &= ~CTR_KBDDIS;
        break;
    case 0xc0:                  /* input port: keyboard not inhibited */
        i8042_reply(s, 0x80, false);
        break;
    case 0xd0:
        i8042_reply(s, i8042_read_outport(s), false);
        break;
    case 0xdd:
        s->outport &= ~OUT_A20;
        break;
    case 0xdf:
        s->outport |= OUT_A20;
        break;
    case 0xe0:                  /* test inputs */
        i8042_reply(s, 0x00, false);
        break;
    default:
        log_guest_error("i8042: unknown controller command 0x%02x", cmd);
        break;
    }
}

static void i8042_write_data(I8042State *s, uint8_t val)
{
    uint8_t cmd = s->write_cmd;

    s->write_cmd = 0;
    if (cmd >= 0x60 && cmd < 0x80) {
        if (cmd == 0x60) {
            s->ctr = val;
        } else {
            s->ram[cmd & 0x1f] = val;
        }
        return;
    }
    switch (cmd) {
    case 0xd1:
        i8042_write_outport(s, val);
        break;
    case 0xd2:                  /* as if the keyboard had sent it */
        i8042_reply(s, val, false);
        break;
    case 0xd3:                  /* as if the aux device had sent it */
        i8042_reply(s, val, true);
        break;
    case 0xd4:
        /* Talking to a port enables its clock line again. */
        s->ctr &= ~CTR_AUXDIS;
        queue_push(&s->aux, KBD_RESEND);
        break;
    default:
        s->ctr &= ~CTR_KBDDIS;
        kbd_write(s, val);
        break;
    }
}

static uint64_t i8042_data_read(void *opaque, uint64_t addr, unsigned size)
{
    I8042State *s = opaque;
    uint8_t val = s->out_data;  /* read again if empty, like the chip */

    s->status &= ~(STAT_OBF | STAT_AUX_OBF);
    /* Let the line fall so the next byte raises a fresh edge. */
    i8042_set_irqs(s);
    i8042_update(s);
    return val;
}

static void i8042_data_write(void *opaque, uint64_t addr, uint64_t val,
                             unsigned size)
{
    I8042State *s = opaque;

    s->status &= ~STAT_CMD;
    i8042_write_data(s, val);
    i8042_update(s);
}

static uint64_t i8042_status_read(void *opaque, uint64_t addr, unsigned size)
{
    I8042State *s = opaque;

    return s->status | STAT_UNLOCKED | (s->ctr & CTR_SYS ? STAT_SYS : 0);
}

static void i8042_cmd_write(void *opaque, uint64_t addr, uint64_t val,
                            unsigned size)
{
    I8042State *s = opaque;

    s->status |= STAT_CMD;
    i8042_command(s, val);
    i8042_update(s);
}

static const MemoryRegionOps i8042_data_ops = {
    .read = i8042_data_read,
    .write = i8042_data_write,
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static const MemoryRegionOps i8042_cmd_ops = {
    .read = i8042_status_read,
    .write = i8042_cmd_write,
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static void i8042_reset(DeviceState *dev)
{
    I8042State *s = (I8042State *)dev;

    s->ctr = CTR_KBDINT | CTR_AUXINT;
    memset(s->ram, 0, sizeof(s->ram));
    s->status = 0;
    s->out_data = 0;
    s->outport = OUT_RESET | OUT_A20;
    s->write_cmd = 0;
    s->reply_pending = false;
    s->reply_aux = false;
    s->reply = 0;
    queue_clear(&s->kbd);
    queue_clear(&s->aux);
    s->kbd_cmd = 0;
    s->kbd_leds = 0;
    s->kbd_last = 0;
    kbd_set_defaults(s);
    i8042_update(s);
}

static bool i8042_realize(DeviceState *dev, Error **errp)
{
    I8042State *s = (I8042State *)dev;

    s->irq_kbd = isa_get_irq(1);
    s->irq_aux = isa_get_irq(12);
    memory_region_init_io(&s->data_io, &i8042_data_ops, s, "i8042-data", 1);
    memory_region_init_io(&s->cmd_io, &i8042_cmd_ops, s, "i8042-cmd", 1);
    isa_register_ioport(&s->data_io, 0x60);
    isa_register_ioport(&s->cmd_io, 0x64);
    return true;
}

static int i8042_post_load(void *opaque, int version_id, Error **errp)
{
    I8042State *s = opaque;

    if (!s->kbd_scancode_set) {
        error_setg(errp, "i8042: keyboard scan code set 0 does not exist");
        return -1;
    }
    s->irq_kbd_level = (s->status & STAT_OBF) && !(s->status & STAT_AUX_OBF) &&
                       (s->ctr & CTR_KBDINT);
    s->irq_aux_level = (s->status & STAT_OBF) && (s->status & STAT_AUX_OBF) &&
                       (s->ctr & CTR_AUXINT);
    return 0;
}

static const VMStateField ps2_queue_fields[] = {
    VMSTATE_BUFFER(data, PS2Queue),
    VMSTATE_FIELD_MAX(head, PS2Queue, VMS_UINT8, QUEUE_SIZE - 1),
    VMSTATE_FIELD_MAX(count, PS2Queue, VMS_UINT8, QUEUE_SIZE),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription ps2_queue_vmsd = {
    .name = "ps2-queue",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = ps2_queue_fields,
};

static const VMStateField i8042_fields[] = {
    VMSTATE_UINT8(ctr, I8042State),
    VMSTATE_BUFFER(ram, I8042State),
    VMSTATE_UINT8(status, I8042State),
    VMSTATE_UINT8(out_data, I8042State),
    VMSTATE_UINT8(outport, I8042State),
    VMSTATE_UINT8(write_cmd, I8042State),
    VMSTATE_BOOL(reply_pending, I8042State),
    VMSTATE_BOOL(reply_aux, I8042State),
    VMSTATE_UINT8(reply, I8042State),
    VMSTATE_STRUCT(kbd, I8042State, ps2_queue_vmsd, PS2Queue),
    VMSTATE_UINT8(kbd_cmd, I8042State),
    VMSTATE_BOOL(kbd_scanning, I8042State),
    VMSTATE_FIELD_MAX(kbd_scancode_set, I8042State, VMS_UINT8, 3),
    VMSTATE_UINT8(kbd_leds, I8042State),
    VMSTATE_UINT8(kbd_typematic, I8042State),
    VMSTATE_UINT8(kbd_last, I8042State),
    VMSTATE_STRUCT(aux, I8042State, ps2_queue_vmsd, PS2Queue),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription i8042_vmsd = {
    .name = "i8042",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = i8042_fields,
    .post_load = i8042_post_load,
};

static const Property i8042_props[] = {
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass i8042_class = {
    .name = "i8042",
    .desc = "PS/2 keyboard controller",
    .bus = BUS_ISA,
    .instance_size = sizeof(I8042State),
    .props = i8042_props,
    .realize = i8042_realize,
    .reset = i8042_reset,
    .vmsd = &i8042_vmsd,
};
DEVICE_REGISTER(i8042_class);
