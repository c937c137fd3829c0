/*
 * Two cascaded 8259A PICs as wired in a PC (slave INT on master IR2), with
 * the PIIX3's ELCR registers at 0x4d0/0x4d1 choosing edge or level trigger
 * per IRQ (the PIIX3 ignores ICW1's LTIM bit).  Written from the 8259A and
 * PIIX3 data sheets.  Priorities rotate: 'lowest' is the IR with the lowest
 * priority, so the highest is lowest + 1 (IR0 after initialisation).
 */
#include "hw/intc/i8259.h"
#include "hw/gpio.h"
#include "hw/isa/isa.h"

#define ICW1_IC4    0x01
#define ICW1_SNGL   0x02
#define ICW1_LTIM   0x08
#define ICW1        0x10
#define ICW4_UPM    0x01
#define ICW4_AEOI   0x02
#define ICW4_SFNM   0x10
#define OCW3        0x08
#define OCW3_POLL   0x04
#define OCW3_RR     0x02
#define OCW3_RIS    0x01
#define OCW3_ESMM   0x40
#define OCW3_SMM    0x20

#define CASCADE_IR  2

typedef struct PICChip {
    uint8_t irr, isr, imr;
    uint8_t pins;               /* input levels */
    uint8_t elcr;               /* 1 = level triggered */
    uint8_t vector_base;        /* ICW2 bits 7-3 */
    uint8_t lowest;             /* IR with the lowest priority */
    uint8_t init_step;          /* 0: ready, 2-4: the ICW expected next */
    uint8_t icw1, icw3, icw4;
    bool read_isr;              /* OCW3: status reads return ISR, not IRR */
    bool poll;                  /* OCW3: next status read is a poll */
    bool special_mask;
    bool rotate_aeoi;
} PICChip;

typedef struct PICState {
    DeviceState parent_obj;
    PICChip chip[2];
    bool intr;
    qemu_irq intr_out;
    MemoryRegion io[2], elcr_io;
} PICState;

static DeviceState *pic_instance;

/* ELCR bits that exist: IRQ 0, 1, 2, 8 and 13 are always edge triggered. */
static const uint8_t elcr_mask[2] = { 0xf8, 0xde };

/* The set bit of mask with the highest priority, or -1. */
static int highest(const PICChip *c, uint8_t mask)
{
    for (int p = 1; p <= 8; p++) {
        int ir = (c->lowest + p) & 7;
        if (mask & (1 << ir)) {
            return ir;
        }
    }
    return -1;
}

static int priority(const PICChip *c, int ir)
{
    return (ir - c->lowest - 1) & 7;        /* 0 is the highest */
}

/* The request this chip would present to the CPU now, or -1. */
static int pending(const PICChip *c, bool master)
{
    int req = highest(c, c->irr & ~c->imr);
    uint8_t in_service = c->isr;

    if (req < 0) {
        return -1;
    }
    if (c->special_mask) {
        in_service &= ~c->imr;      /* masked levels do not block others */
    }
    int cur = highest(c, in_service);
    if (cur < 0) {
        return req;
    }
    if (priority(c, cur) < priority(c, req)) {
        return -1;
    }
    /* Special fully nested: a slave's higher request gets through IR2. */
    if (cur == req &&
        !(master && (c->icw4 & ICW4_SFNM) && req == CASCADE_IR)) {
        return -1;
    }
    return req;
}

static void chip_set_pin(PICChip *c, int ir, bool level)
{
    uint8_t bit = 1 << ir;

    if (c->elcr & bit) {
        c->irr = level ? c->irr | bit : c->irr & ~bit;
    } else if (level && !(c->pins & bit)) {
        c->irr |= bit;              /* rising edge; falling ones are ignored */
    }
    c->pins = level ? c->pins | bit : c->pins & ~bit;
}

/* Propagate slave INT to master IR2 and master INT to the CPU. */
static void pic_update(PICState *s)
{
    chip_set_pin(&s->chip[0], CASCADE_IR, pending(&s->chip[1], false) >= 0);
    bool intr = pending(&s->chip[0], true) >= 0;
    if (intr != s->intr) {
        s->intr = intr;
        qemu_set_irq(s->intr_out, intr);
    }
}

static void pic_set_irq(void *opaque, int n, int level)
{
    PICState *s = opaque;

    if (n == CASCADE_IR) {
        return;         /* master IR2 carries the slave, no ISA device */
    }
    chip_set_pin(&s->chip[n >> 3], n & 7, level);
    pic_update(s);
}

/* INTA (or a poll) for request ir: it goes in service unless auto-EOI. */
static void chip_ack(PICChip *c, int ir)
{
    uint8_t bit = 1 << ir;

    if (c->icw4 & ICW4_AEOI) {
        if (c->rotate_aeoi) {
            c->lowest = ir;
        }
    } else {
        c->isr |= bit;
    }
    if (!(c->elcr & bit)) {
        c->irr &= ~bit;             /* a level request stays while high */
    }
}

uint8_t i8259_acknowledge(DeviceState *dev)
{
    PICState *s = (PICState *)dev;
    PICChip *m = &s->chip[0], *sl = &s->chip[1];
    int ir = pending(m, true);
    uint8_t vector;

    if (ir < 0) {
        return m->vector_base | 7;          /* spurious IRQ7 */
    }
    chip_ack(m, ir);
    if (ir == CASCADE_IR) {
        int sir = pending(sl, false);
        if (sir >= 0) {
            chip_ack(sl, sir);
            vector = sl->vector_base | sir;
        } else {
            vector = sl->vector_base | 7;   /* spurious IRQ15 */
        }
    } else {
        vector = m->vector_base | ir;
    }
    pic_update(s);
    return vector;
}

DeviceState *i8259_find(void)
{
    return pic_instance;
}

bool i8259_intr_level(DeviceState *dev)
{
    return ((PICState *)dev)->intr;
}

static void write_icw1(PICChip *c, uint8_t val)
{
    if (val & ICW1_SNGL) {
        log_guest_error("i8259: single mode is not supported, ignored");
    }
    c->icw1 = val;
    if (!(val & ICW1_IC4)) {
        c->icw4 = 0;
    }
    /* Mask cleared, IR7 lowest, status reads IRR, edge sense reset (a high
     * edge-triggered input needs a new rising edge). */
    c->imr = 0;
    c->isr = 0;
    c->irr = c->pins & c->elcr;
    c->lowest = 7;
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    c->rotate_aeoi = false;
    c->init_step = 2;
}

static void write_ocw2(PICChip *c, uint8_t val)
{
    int ir = val & 7;

    switch (val >> 5) {
    case 0:                                 /* rotate in AEOI: clear */
        c->rotate_aeoi = false;
        break;
    case 4:                                 /* rotate in AEOI: set */
        c->rotate_aeoi = true;
        break;
    case 1:                                 /* non-specific EOI */
    case 5:                                 /* ... and rotate */
        ir = highest(c, c->isr);
        if (ir >= 0) {
            c->isr &= ~(1 << ir);
            if (val >> 5 == 5) {
                c->lowest = ir;
            }
        }
        break;
    case 3:                                 /* specific EOI */
        c->isr &= ~(1 << ir);
        break;
    case 7:                                 /* rotate on specific EOI */
        c->isr &= ~(1 << ir);
        c->lowest = ir;
        break;
    case 6:                                 /* set priority */
        c->lowest = ir;
        break;
    default:                                /* no operation */
        break;
    }
}

static void write_data(PICChip *c, uint8_t val)
{
    switch (c->init_step) {
    case 2:
        c->vector_base = val & 0xf8;
        if (!(c->icw1 & ICW1_SNGL)) {
            c->init_step = 3;
        } else {
            c->init_step = (c->icw1 & ICW1_IC4) ? 4 : 0;
        }
        break;
    case 3:
        c->icw3 = val;          /* the wiring is fixed: slave on IR2 */
        c->init_step = (c->icw1 & ICW1_IC4) ? 4 : 0;
        break;
    case 4:
        if (!(val & ICW4_UPM)) {
            log_guest_error("i8259: MCS-80/85 mode is not supported");
        }
        c->icw4 = val;
        c->init_step = 0;
        break;
    default:
        c->imr = val;           /* OCW1 */
        break;
    }
}

static uint64_t pic_read(PICState *s, int i, uint64_t addr)
{
    PICChip *c = &s->chip[i];

    if (addr == 1) {
        return c->imr;
    }
    if (c->poll) {
        /* A poll is an INTA without the vector: bit 7 says "request". */
        int ir = pending(c, i == 0);
        c->poll = false;
        if (ir < 0) {
            return 0;
        }
        chip_ack(c, ir);
        pic_update(s);
        return 0x80 | ir;
    }
    return c->read_isr ? c->isr : c->irr;
}

static void pic_write(PICState *s, int i, uint64_t addr, uint8_t val)
{
    PICChip *c = &s->chip[i];

    if (addr == 1) {
        write_data(c, val);
    } else if (val & ICW1) {
        write_icw1(c, val);
    } else if (val & OCW3) {
        if (val & OCW3_POLL) {
            c->poll = true;
        }
        if (val & OCW3_RR) {
            c->read_isr = val & OCW3_RIS;
        }
        if (val & OCW3_ESMM) {
            c->special_mask = val & OCW3_SMM;
        }
    } else {
        write_ocw2(c, val);
    }
    pic_update(s);
}

static uint64_t master_read(void *opaque, uint64_t addr, unsigned size)
{
    return pic_read(opaque, 0, addr);
}

static uint64_t slave_read(void *opaque, uint64_t addr, unsigned size)
{
    return pic_read(opaque, 1, addr);
}

static void master_write(void *opaque, uint64_t addr, uint64_t val,
                         unsigned size)
{
    pic_write(opaque, 0, addr, val);
}

static void slave_write(void *opaque, uint64_t addr, uint64_t val,
                        unsigned size)
{
    pic_write(opaque, 1, addr, val);
}

static uint64_t elcr_read(void *opaque, uint64_t addr, unsigned size)
{
    PICState *s = opaque;
    return s->chip[addr].elcr;
}

static void elcr_write(void *opaque, uint64_t addr, uint64_t val,
                       unsigned size)
{
    PICState *s = opaque;
    PICChip *c = &s->chip[addr];

    if (val & ~elcr_mask[addr]) {
        log_guest_error("i8259: ELCR%d reserved bits 0x%02x ignored",
                        (int)addr + 1, (unsigned)(val & ~elcr_mask[addr]));
    }
    c->elcr = val & elcr_mask[addr];
    /* A level-triggered request is simply the input level. */
    c->irr = (c->irr & ~c->elcr) | (c->pins & c->elcr);
    pic_update(s);
}

static const MemoryRegionOps master_ops = {
    .read = master_read,
    .write = master_write,
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static const MemoryRegionOps slave_ops = {
    .read = slave_read,
    .write = slave_write,
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static const MemoryRegionOps elcr_ops = {
    .read = elcr_read,
    .write = elcr_write,
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

/* There is no reset pin; this is the state firmware finds at power-on. */
static void pic_reset(DeviceState *dev)
{
    PICState *s = (PICState *)dev;

    for (int i = 0; i < 2; i++) {
        uint8_t pins = s->chip[i].pins;
        memset(&s->chip[i], 0, sizeof(s->chip[i]));
        s->chip[i].pins = pins;
        s->chip[i].lowest = 7;
    }
    pic_update(s);
}

static bool pic_realize(DeviceState *dev, Error **errp)
{
    PICState *s = (PICState *)dev;

    memory_region_init_io(&s->io[0], &master_ops, s, "pic-master", 2);
    memory_region_init_io(&s->io[1], &slave_ops, s, "pic-slave", 2);
    memory_region_init_io(&s->elcr_io, &elcr_ops, s, "elcr", 2);
    isa_register_ioport(&s->io[0], 0x20);
    isa_register_ioport(&s->io[1], 0xa0);
    isa_register_ioport(&s->elcr_io, 0x4d0);
    pic_instance = dev;
    qdev_init_gpio_in_named(dev, pic_set_irq, NULL, 16);
    qdev_init_gpio_out_named(dev, &s->intr_out, NULL, 1);
    return true;
}

static int pic_post_load(void *opaque, int version_id, Error **errp)
{
    PICState *s = opaque;

    for (int i = 0; i < 2; i++) {
        PICChip *c = &s->chip[i];
        if (c->init_step == 1 || (c->elcr & ~elcr_mask[i])) {
            error_setg(errp, "i8259: invalid state of chip %d", i);
            return -1;
        }
    }
    /* INTR follows from the registers: drive it whatever it was.  (The
     * cascade input was saved with the rest: no update that could change
     * what was loaded.) */
    s->intr = pending(&s->chip[0], true) >= 0;
    qemu_set_irq(s->intr_out, s->intr);
    return 0;
}

static const VMStateDescription vmstate_pic_chip = {
    .name = "i8259-chip",
    .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(irr, PICChip),
        VMSTATE_UINT8(isr, PICChip),
        VMSTATE_UINT8(imr, PICChip),
        VMSTATE_UINT8(pins, PICChip),
        VMSTATE_UINT8(elcr, PICChip),
        VMSTATE_UINT8(vector_base, PICChip),
        VMSTATE_FIELD_MAX(lowest, PICChip, VMS_UINT8, 7),
        VMSTATE_FIELD_MAX(init_step, PICChip, VMS_UINT8, 4),
        VMSTATE_UINT8(icw1, PICChip),
        VMSTATE_UINT8(icw3, PICChip),
        VMSTATE_UINT8(icw4, PICChip),
        VMSTATE_BOOL(read_isr, PICChip),
        VMSTATE_BOOL(poll, PICChip),
        VMSTATE_BOOL(special_mask, PICChip),
        VMSTATE_BOOL(rotate_aeoi, PICChip),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_pic = {
    .name = "i8259",
    .version_id = 1, .minimum_version_id = 1,
    .post_load = pic_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(chip, PICState, 2, vmstate_pic_chip, PICChip),
        VMSTATE_END_OF_LIST()
    },
};

static const DeviceClass pic_class = {
    .name = TYPE_I8259,
    .desc = "8259A PIC pair with the PIIX3 ELCR",
    .bus = BUS_ISA,
    .instance_size = sizeof(PICState),
    .realize = pic_realize,
    .reset = pic_reset,
    .vmsd = &vmstate_pic,
};
DEVICE_REGISTER(pic_class)
