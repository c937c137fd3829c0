/*
 * 82093AA I/O APIC, from the Intel data sheet: IOREGSEL at +0x00, IOWIN at
 * +0x10, registers ID, version (0x11, 24 entries), arbitration and the
 * redirection table.  Input levels go through each entry's polarity; an
 * edge-triggered pin sends one message per assertion (edges on a masked pin
 * are lost), a level-triggered one sends while asserted and Remote IRR is
 * clear, and sets Remote IRR until the local APIC's EOI for its vector.
 */
#include "hw/intc/ioapic.h"
#include "hw/gpio.h"
#include "system/memory.h"

#define IOREGSEL        0x00
#define IOWIN           0x10
#define REG_ID          0x00
#define REG_VER         0x01
#define REG_ARB         0x02
#define REG_REDTBL      0x10
#define IOAPIC_VERSION  0x11

#define RTE_VECTOR      0x000000ffULL
#define RTE_DELMODE     0x00000700ULL
#define RTE_DESTMODE    0x00000800ULL
#define RTE_DELIVS      0x00001000ULL   /* delivery status, read-only */
#define RTE_POLARITY    0x00002000ULL   /* 1: active low */
#define RTE_REMOTE_IRR  0x00004000ULL   /* read-only */
#define RTE_LEVEL       0x00008000ULL
#define RTE_MASKED      0x00010000ULL
#define RTE_DEST_SHIFT  56
#define RTE_WRITABLE    (RTE_VECTOR | RTE_DELMODE | RTE_DESTMODE | \
                         RTE_POLARITY | RTE_LEVEL | RTE_MASKED | \
                         (0xffULL << RTE_DEST_SHIFT))

typedef struct IOAPICState {
    DeviceState parent_obj;
    uint8_t id;
    uint8_t ioregsel;
    uint32_t pins;                  /* input levels as driven */
    uint64_t rte[IOAPIC_NUM_PINS];
    MemoryRegion io;
    IOAPICSendFn *send;
    IOAPICRouteFn *route_changed;
} IOAPICState;

static IOAPICState *ioapics[1];

static bool asserted(IOAPICState *s, int pin)
{
    return !!(s->pins & (1u << pin)) ^ !!(s->rte[pin] & RTE_POLARITY);
}

/* The message of entry pin, in the MSI format the local APICs decode. */
static void rte_message(uint64_t rte, uint64_t *addr, uint32_t *data)
{
    *addr = 0xfee00000ULL | (rte >> RTE_DEST_SHIFT) << 12 |
            ((rte & RTE_DESTMODE) ? 4 : 0);
    *data = (rte & (RTE_VECTOR | RTE_DELMODE)) |
            ((rte & RTE_LEVEL) ? 1u << 15 : 0) | 1u << 14;  /* assert */
}

static void send(IOAPICState *s, int pin)
{
    uint64_t addr;
    uint32_t data;

    rte_message(s->rte[pin], &addr, &data);
    if (s->send) {
        s->send(addr, data);
    }
}

/* Send what a level-triggered pin owes: assertion with Remote IRR clear. */
static void service_level(IOAPICState *s, int pin)
{
    uint64_t rte = s->rte[pin];

    if ((rte & RTE_LEVEL) && !(rte & (RTE_MASKED | RTE_REMOTE_IRR)) &&
        asserted(s, pin)) {
        s->rte[pin] |= RTE_REMOTE_IRR;
        send(s, pin);
    }
}

static void ioapic_set_irq(void *opaque, int n, int level)
{
    IOAPICState *s = opaque;
    int pin = n ? n : 2;            /* ISA IRQ 0 is on pin 2 */
    bool was = asserted(s, pin);

    s->pins = level ? s->pins | (1u << pin) : s->pins & ~(1u << pin);
    if (s->rte[pin] & RTE_LEVEL) {
        service_level(s, pin);
    } else if (!was && asserted(s, pin) && !(s->rte[pin] & RTE_MASKED)) {
        send(s, pin);
    }
}

void ioapic_eoi_broadcast(int vector)
{
    IOAPICState *s = ioapics[0];

    for (int pin = 0; s && pin < IOAPIC_NUM_PINS; pin++) {
        if ((s->rte[pin] & RTE_VECTOR) == (uint64_t)vector &&
            (s->rte[pin] & RTE_REMOTE_IRR)) {
            s->rte[pin] &= ~RTE_REMOTE_IRR;
            service_level(s, pin);
        }
    }
}

static void notify_route(IOAPICState *s, int pin)
{
    uint64_t addr;
    uint32_t data;

    if (s->route_changed) {
        rte_message(s->rte[pin], &addr, &data);
        s->route_changed(pin, addr, data, s->rte[pin] & RTE_MASKED);
    }
}

static uint32_t read_reg(IOAPICState *s, uint8_t reg)
{
    switch (reg) {
    case REG_ID:
    case REG_ARB:
        return (uint32_t)s->id << 24;
    case REG_VER:
        return (IOAPIC_NUM_PINS - 1) << 16 | IOAPIC_VERSION;
    }
    if (reg >= REG_REDTBL && reg < REG_REDTBL + 2 * IOAPIC_NUM_PINS) {
        uint64_t rte = s->rte[(reg - REG_REDTBL) / 2];
        return (reg & 1) ? rte >> 32 : (uint32_t)rte;
    }
    log_guest_error("ioapic: read of undefined register 0x%02x", reg);
    return 0;
}

static void write_reg(IOAPICState *s, uint8_t reg, uint32_t val)
{
    if (reg == REG_ID) {
        s->id = (val >> 24) & 0x0f;
        return;
    }
    if (reg < REG_REDTBL || reg >= REG_REDTBL + 2 * IOAPIC_NUM_PINS) {
        log_guest_error("ioapic: write 0x%08x to read-only or undefined "
                        "register 0x%02x", val, reg);
        return;
    }
    int pin = (reg - REG_REDTBL) / 2;
    uint64_t old = s->rte[pin];
    uint64_t v = (reg & 1) ? (old & 0xffffffffULL) | (uint64_t)val << 32
                           : (old & ~0xffffffffULL) | val;

    s->rte[pin] = (old & ~RTE_WRITABLE) | (v & RTE_WRITABLE);
    if (!(s->rte[pin] & RTE_LEVEL)) {
        s->rte[pin] &= ~RTE_REMOTE_IRR;     /* only level entries hold it */
    }
    notify_route(s, pin);
    service_level(s, pin);          /* e.g. unmasked while asserted */
}

static uint64_t ioapic_read(void *opaque, uint64_t addr, unsigned size)
{
    IOAPICState *s = opaque;

    switch (addr) {
    case IOREGSEL:
        return s->ioregsel;
    case IOWIN:
        return read_reg(s, s->ioregsel);
    }
    return 0;
}

static void ioapic_write(void *opaque, uint64_t addr, uint64_t val,
                         unsigned size)
{
    IOAPICState *s = opaque;

    switch (addr) {
    case IOREGSEL:
        s->ioregsel = val;
        break;
    case IOWIN:
        write_reg(s, s->ioregsel, val);
        break;
    default:
        log_guest_error("ioapic: write to offset 0x%" PRIx64, addr);
        break;
    }
}

static const MemoryRegionOps ioapic_ops = {
    .read = ioapic_read,
    .write = ioapic_write,
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

void ioapic_set_sink(DeviceState *dev, IOAPICSendFn *fn)
{
    ((IOAPICState *)dev)->send = fn;
}

void ioapic_set_route_notifier(DeviceState *dev, IOAPICRouteFn *fn)
{
    IOAPICState *s = (IOAPICState *)dev;

    s->route_changed = fn;
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        notify_route(s, pin);
    }
}

static void ioapic_reset(DeviceState *dev)
{
    IOAPICState *s = (IOAPICState *)dev;

    s->id = 0;
    s->ioregsel = 0;
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        s->rte[pin] = RTE_MASKED;
        notify_route(s, pin);
    }
}

static bool ioapic_realize(DeviceState *dev, Error **errp)
{
    IOAPICState *s = (IOAPICState *)dev;

    if (ioapics[0]) {
        error_setg(errp, "ioapic: only one is supported");
        return false;
    }
    ioapics[0] = s;
    memory_region_init_io(&s->io, &ioapic_ops, s, "ioapic", 0x1000);
    memory_region_add_subregion(get_system_memory(), IOAPIC_BASE, &s->io);
    qdev_init_gpio_in_named(dev, ioapic_set_irq, NULL, IOAPIC_NUM_PINS);
    return true;
}

static int ioapic_post_load(void *opaque, int version_id, Error **errp)
{
    IOAPICState *s = opaque;

    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        notify_route(s, pin);
    }
    return 0;
}

static const VMStateDescription vmstate_ioapic = {
    .name = "ioapic",
    .version_id = 1, .minimum_version_id = 1,
    .post_load = ioapic_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_FIELD_MAX(id, IOAPICState, VMS_UINT8, 0x0f),
        VMSTATE_UINT8(ioregsel, IOAPICState),
        VMSTATE_FIELD_MAX(pins, IOAPICState, VMS_UINT32, 0xffffff),
        VMSTATE_UINT64_ARRAY(rte, IOAPICState, IOAPIC_NUM_PINS),
        VMSTATE_END_OF_LIST()
    },
};

static const DeviceClass ioapic_class = {
    .name = TYPE_IOAPIC,
    .desc = "82093AA I/O APIC",
    .bus = BUS_SYSTEM,
    .instance_size = sizeof(IOAPICState),
    .realize = ioapic_realize,
    .reset = ioapic_reset,
    .vmsd = &vmstate_ioapic,
};
DEVICE_REGISTER(ioapic_class)
