/*
 * 8254 programmable interval timer, from the Intel data sheet: three 16-bit
 * down counters clocked at 1.193182 MHz, six modes, binary or BCD, counter
 * latch and read-back commands.  Channel 0's OUT is ISA IRQ 0; channel 2's
 * gate and OUT are on port 0x61 (PIIX3 NMI status and control), with the
 * speaker data bit and the refresh toggle.
 *
 * Counters are not ticked: a channel knows when it started counting on the
 * virtual clock and computes count and OUT for any instant; a timer fires
 * at each OUT edge of channel 0 only.  Two simplifications: a new count in
 * mode 2 or 3 restarts the period at once instead of at its end, and one in
 * mode 1 or 5 waits for the next gate trigger.
 */
#include "hw/timer/i8254.h"
#include "hw/gpio.h"
#include "hw/isa/isa.h"
#include "system/timer.h"

#define NS              NANOSECONDS_PER_SECOND
#define REFRESH_NS      15085           /* port 0x61 bit 4 period / 2 */
#define LATE_LIMIT_NS   (10 * 1000 * 1000)

typedef struct PITChannel {
    uint32_t count;         /* initial count N: 1-0x10000 (BCD: 1-10000) */
    uint8_t rw_mode;        /* 1: LSB, 2: MSB, 3: LSB then MSB */
    uint8_t mode;           /* 0-5 */
    bool bcd;
    bool gate;
    bool armed;             /* a count was written after the control word */
    bool running;           /* the counting element counts */
    uint64_t base;          /* clocks counted before run_start */
    int64_t run_start;      /* virtual ns at which counting (re)started */
    int64_t loaded_at;      /* virtual ns of the last count load */
    uint16_t latched_count;
    uint8_t latch_state;    /* latched count bytes left, like rw_mode */
    uint8_t status;
    bool status_latched;
    bool read_msb;          /* flip-flops of 16-bit accesses */
    bool write_msb;
    uint8_t write_lsb;
} PITChannel;

typedef struct PITState {
    DeviceState parent_obj;
    PITChannel ch[3];
    uint8_t port61;         /* bits 0-3: gate 2, speaker, parity, IOCHK */
    bool irq_level;
    int64_t next_edge;      /* when channel 0's OUT changes next, or -1 */
    qemu_irq irq;
    QEMUTimer timer;
    MemoryRegion io, port61_io;
} PITState;

static int64_t now_ns(void)
{
    return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

static bool needs_trigger(const PITChannel *c)
{
    return c->mode == 1 || c->mode == 5;
}

/* Whole clocks in [from, to); 128-bit so no loaded state can overflow. */
static uint64_t clocks_between(int64_t from, int64_t to)
{
    __int128 d = (__int128)to - from;
    __int128 n = d > 0 ? d * PIT_FREQ / NS : 0;

    return n > INT64_MAX ? INT64_MAX : (uint64_t)n;
}

static uint64_t clipped_base(const PITChannel *c)
{
    return MIN(c->base, (uint64_t)INT64_MAX);
}

/* Clocks counted by time t (at most INT64_MAX). */
static uint64_t elapsed(const PITChannel *c, int64_t t)
{
    uint64_t e = c->running ? clocks_between(c->run_start, t) : 0;

    return MIN(clipped_base(c) + e, (uint64_t)INT64_MAX);
}

static bool out_level(const PITChannel *c, int64_t t)
{
    uint64_t n = c->count, e;

    if (!c->armed) {
        return c->mode != 0;        /* set by the control word */
    }
    if ((c->mode == 2 || c->mode == 3) && !c->gate) {
        return true;
    }
    if (needs_trigger(c) && !c->running) {
        return true;
    }
    e = elapsed(c, t);
    switch (c->mode) {
    case 0:
    case 1:
        return e >= n;
    case 2:
        return e % n != n - 1;      /* low for the clock before reload */
    case 3:
        return e % n < (n + 1) / 2; /* high half rounded up */
    default:
        return e != n;              /* 4, 5: low for the clock at zero */
    }
}

/* The counting element, 0 standing for the full 0x10000 / 10000. */
static uint32_t counter_value(const PITChannel *c, int64_t t)
{
    uint64_t n = c->count, e, p, half;
    uint32_t wrap = c->bcd ? 10000 : 0x10000;

    if (!c->armed || (needs_trigger(c) && !c->running)) {
        return n % wrap;            /* not loaded yet */
    }
    e = elapsed(c, t);
    switch (c->mode) {
    case 2:
        return (n - e % n) % wrap;
    case 3:
        /* Down by two each clock; an odd count first drops by one in the
         * high half and by three in the low half. */
        p = e % n;
        half = (n + 1) / 2;
        if (p < half) {
            return ((n & 1) && p ? n + 1 - 2 * p : n - 2 * p) % wrap;
        }
        return ((n & 1) ? n - 3 - 2 * (p - half) : n - 2 * (p - half)) % wrap;
    default:
        return (n + wrap - e % wrap) % wrap;    /* on through zero */
    }
}

/* First instant after t at which OUT changes, or -1. */
static int64_t next_change(const PITChannel *c, int64_t t)
{
    uint64_t n = c->count, e, p, target;

    if (!c->armed || !c->running || ((c->mode == 2 || c->mode == 3) && n < 2)) {
        return -1;
    }
    e = elapsed(c, t);
    switch (c->mode) {
    case 0:
    case 1:
        if (e >= n) {
            return -1;
        }
        target = n;
        break;
    case 2:
        p = e % n;
        target = e + (p < n - 1 ? n - 1 - p : 1);
        break;
    case 3:
        p = e % n;
        target = e + (p < (n + 1) / 2 ? (n + 1) / 2 - p : n - p);
        break;
    default:
        if (e > n) {
            return -1;
        }
        target = e < n ? n : n + 1;
        break;
    }
    __int128 when = (__int128)c->run_start +
        ((__int128)(target - clipped_base(c)) * NS + PIT_FREQ - 1) / PIT_FREQ;
    return when > INT64_MAX ? -1 : (int64_t)when;
}

/* Drive IRQ 0 from channel 0's OUT at time t and arm the next edge. */
static void pit_irq_update(PITState *s, int64_t t)
{
    bool out = out_level(&s->ch[0], t);

    if (out != s->irq_level) {
        s->irq_level = out;
        qemu_set_irq(s->irq, out);
    }
    s->next_edge = next_change(&s->ch[0], t);
    if (s->next_edge < 0) {
        timer_del(&s->timer);
    } else {
        timer_mod(&s->timer, s->next_edge);
    }
}

static void pit_timer_cb(void *opaque)
{
    PITState *s = opaque;
    int64_t now = now_ns(), t = s->next_edge;

    /* Edges are replayed at their own time so none is lost; after a long
     * stall (stopped VM, busy host) the missed ones are dropped. */
    if (t < 0 || t > now || now - t > LATE_LIMIT_NS) {
        t = now;
    }
    pit_irq_update(s, t);
}

static void load_count(PITChannel *c, uint16_t w, int64_t now)
{
    uint32_t n = w;

    if (c->bcd) {
        n = ((w >> 12) & 15) * 1000 + ((w >> 8) & 15) * 100 +
            ((w >> 4) & 15) * 10 + (w & 15);
        n %= 10000;
    }
    c->count = n ? n : (c->bcd ? 10000 : 0x10000);
    c->armed = true;
    c->loaded_at = now;
    c->base = 0;
    c->run_start = now;
    c->running = !needs_trigger(c) && c->gate;
}

static void set_gate(PITChannel *c, bool gate, int64_t now)
{
    if (gate == c->gate) {
        return;
    }
    c->gate = gate;
    if (!c->armed) {
        return;
    }
    switch (c->mode) {
    case 0:
    case 4:                         /* low suspends counting */
        if (!gate) {
            c->base = elapsed(c, now);
        }
        c->run_start = now;
        c->running = gate;
        break;
    case 1:
    case 5:                         /* a rising edge (re)triggers */
        if (gate) {
            c->base = 0;
            c->run_start = c->loaded_at = now;
            c->running = true;
        }
        break;
    default:                        /* 2, 3: low stops, rising reloads */
        c->base = 0;
        c->run_start = now;
        c->running = gate;
        break;
    }
}

static uint8_t status_byte(const PITChannel *c, int64_t now)
{
    bool null = !c->armed || (needs_trigger(c) && !c->running) ||
                clocks_between(c->loaded_at, now) == 0;

    return out_level(c, now) << 7 | null << 6 | c->rw_mode << 4 |
           c->mode << 1 | c->bcd;
}

static uint16_t read_value(const PITChannel *c, int64_t now)
{
    uint32_t v = counter_value(c, now);

    if (c->bcd) {
        v = (v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 |
            (v % 10);
    }
    return v;
}

static void latch_count(PITChannel *c, int64_t now)
{
    if (!c->latch_state) {          /* a second latch is ignored */
        c->latched_count = read_value(c, now);
        c->latch_state = c->rw_mode;
    }
}

static void write_control(PITState *s, uint8_t val, int64_t now)
{
    int sc = val >> 6, rw = (val >> 4) & 3, mode = (val >> 1) & 7;

    if (sc == 3) {                  /* read-back */
        for (int i = 0; i < 3; i++) {
            PITChannel *c = &s->ch[i];
            if (!(val & (2 << i))) {
                continue;
            }
            if (!(val & 0x20)) {
                latch_count(c, now);
            }
            if (!(val & 0x10) && !c->status_latched) {
                c->status = status_byte(c, now);
                c->status_latched = true;
            }
        }
        return;
    }
    PITChannel *c = &s->ch[sc];
    if (!rw) {
        latch_count(c, now);
        return;
    }
    c->rw_mode = rw;
    c->mode = mode > 5 ? mode - 4 : mode;   /* 6 and 7 are 2 and 3 */
    c->bcd = val & 1;
    c->armed = false;
    c->running = false;
    c->latch_state = 0;
    c->status_latched = false;
    c->read_msb = c->write_msb = false;
    c->loaded_at = now;
}

static void write_counter(PITChannel *c, uint8_t val, int64_t now)
{
    switch (c->rw_mode) {
    case 1:
        load_count(c, val, now);
        break;
    case 2:
        load_count(c, val << 8, now);
        break;
    default:
        if (!c->write_msb) {
            c->write_lsb = val;
            c->write_msb = true;
            if (c->mode == 0) {
                c->armed = false;   /* stops counting, OUT low at once */
            }
            return;
        }
        c->write_msb = false;
        load_count(c, c->write_lsb | val << 8, now);
        break;
    }
}

static uint8_t read_counter(PITChannel *c, int64_t now)
{
    uint16_t v;

    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    switch (c->latch_state) {
    case 1:
        c->latch_state = 0;
        return c->latched_count;
    case 2:
        c->latch_state = 0;
        return c->latched_count >> 8;
    case 3:
        c->latch_state = 2;
        return c->latched_count;
    }
    v = read_value(c, now);
    switch (c->rw_mode) {
    case 1:
        return v;
    case 2:
        return v >> 8;
    default:                        /* 3 */
        c->read_msb = !c->read_msb;
        return c->read_msb ? v : v >> 8;
    }
}

static uint64_t pit_read(void *opaque, uint64_t addr, unsigned size)
{
    PITState *s = opaque;

    if (addr == 3) {
        return 0xff;                /* the control word is write-only */
    }
    return read_counter(&s->ch[addr], now_ns());
}

static void pit_write(void *opaque, uint64_t addr, uint64_t val,
                      unsigned size)
{
    PITState *s = opaque;
    int64_t now = now_ns();

    if (addr == 3) {
        write_control(s, val, now);
    } else {
        write_counter(&s->ch[addr], val, now);
    }
    pit_irq_update(s, now);
}

static uint64_t port61_read(void *opaque, uint64_t addr, unsigned size)
{
    PITState *s = opaque;
    int64_t now = now_ns();

    return s->port61 | ((now / REFRESH_NS) & 1) << 4 |
           out_level(&s->ch[2], now) << 5;
}

static void port61_write(void *opaque, uint64_t addr, uint64_t val,
                         unsigned size)
{
    PITState *s = opaque;

    s->port61 = val & 0x0f;         /* bits 4-7 are status, read-only */
    set_gate(&s->ch[2], val & 1, now_ns());
}

static const MemoryRegionOps pit_ops = {
    .read = pit_read,
    .write = pit_write,
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static const MemoryRegionOps port61_ops = {
    .read = port61_read,
    .write = port61_write,
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

/* Power-on: the counters are undefined until programmed; ours are idle in
 * mode 0 with OUT low, so IRQ 0 stays quiet until software starts one. */
static void pit_reset(DeviceState *dev)
{
    PITState *s = (PITState *)dev;

    memset(s->ch, 0, sizeof(s->ch));
    for (int i = 0; i < 3; i++) {
        s->ch[i].count = 0x10000;
        s->ch[i].rw_mode = 3;
        s->ch[i].gate = i != 2;
    }
    s->port61 = 0;
    pit_irq_update(s, now_ns());
}

static bool pit_realize(DeviceState *dev, Error **errp)
{
    PITState *s = (PITState *)dev;

    timer_init_ns(&s->timer, QEMU_CLOCK_VIRTUAL, pit_timer_cb, s);
    s->irq = isa_get_irq(0);
    memory_region_init_io(&s->io, &pit_ops, s, "pit", 4);
    memory_region_init_io(&s->port61_io, &port61_ops, s, "port61", 1);
    isa_register_ioport(&s->io, 0x40);
    isa_register_ioport(&s->port61_io, 0x61);
    return true;
}

static int pit_post_load(void *opaque, int version_id, Error **errp)
{
    PITState *s = opaque;

    for (int i = 0; i < 3; i++) {
        PITChannel *c = &s->ch[i];
        if (!c->count) {
            error_setg(errp, "i8254: invalid state of channel %d", i);
            return -1;
        }
    }
    s->irq_level = out_level(&s->ch[0], now_ns());
    qemu_set_irq(s->irq, s->irq_level);
    pit_irq_update(s, now_ns());
    return 0;
}

static const VMStateDescription vmstate_pit_channel = {
    .name = "i8254-channel",
    .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_FIELD_MAX(count, PITChannel, VMS_UINT32, 0x10000),
        VMSTATE_FIELD_MAX(rw_mode, PITChannel, VMS_UINT8, 3),
        VMSTATE_FIELD_MAX(mode, PITChannel, VMS_UINT8, 5),
        VMSTATE_BOOL(bcd, PITChannel),
        VMSTATE_BOOL(gate, PITChannel),
        VMSTATE_BOOL(armed, PITChannel),
        VMSTATE_BOOL(running, PITChannel),
        VMSTATE_UINT64(base, PITChannel),
        VMSTATE_INT64(run_start, PITChannel),
        VMSTATE_INT64(loaded_at, PITChannel),
        VMSTATE_UINT16(latched_count, PITChannel),
        VMSTATE_FIELD_MAX(latch_state, PITChannel, VMS_UINT8, 3),
        VMSTATE_UINT8(status, PITChannel),
        VMSTATE_BOOL(status_latched, PITChannel),
        VMSTATE_BOOL(read_msb, PITChannel),
        VMSTATE_BOOL(write_msb, PITChannel),
        VMSTATE_UINT8(write_lsb, PITChannel),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_pit = {
    .name = "i8254",
    .version_id = 1, .minimum_version_id = 1,
    .post_load = pit_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(ch, PITState, 3, vmstate_pit_channel, PITChannel),
        VMSTATE_FIELD_MAX(port61, PITState, VMS_UINT8, 0x0f),
        VMSTATE_END_OF_LIST()
    },
};

static const DeviceClass pit_class = {
    .name = TYPE_I8254,
    .desc = "8254 PIT with port 0x61",
    .bus = BUS_ISA,
    .instance_size = sizeof(PITState),
    .realize = pit_realize,
    .reset = pit_reset,
    .vmsd = &vmstate_pit,
};
DEVICE_REGISTER(pit_class)
