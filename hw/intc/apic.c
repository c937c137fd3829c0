/*
 * Local APIC in xAPIC mode, from the Intel SDM volume 3 chapter 11: ID,
 * TPR/PPR, IRR/ISR/TMR, EOI (broadcast to the IOAPIC for level-triggered
 * vectors), logical destinations (flat and cluster), IPIs through the ICR
 * (fixed, lowest priority, NMI, INIT, STARTUP, with shorthands), the six
 * LVT entries, ESR, and the timer (one-shot and periodic) counting 1 GHz bus
 * clocks on the virtual clock.  No x2APIC, no TSC-deadline mode: the CPUID
 * given to KVM hides both when these APICs are in use.
 */
#include "hw/intc/apic.h"
#include "hw/intc/i8259.h"
#include "hw/intc/ioapic.h"
#include "hw/gpio.h"
#include "system/memory.h"
#include "system/timer.h"

#define MAX_APICS       256
#define APIC_VERSION    0x00050014      /* 6 LVT entries, version 0x14 */

/* Register offsets >> 4 */
#define R_ID            0x02
#define R_VERSION       0x03
#define R_TPR           0x08
#define R_APR           0x09
#define R_PPR           0x0a
#define R_EOI           0x0b
#define R_LDR           0x0d
#define R_DFR           0x0e
#define R_SVR           0x0f
#define R_ISR           0x10
#define R_TMR           0x18
#define R_IRR           0x20
#define R_ESR           0x28
#define R_ICR_LO        0x30
#define R_ICR_HI        0x31
#define R_LVT           0x32    /* timer, thermal, perf, LINT0/1, error */
#define R_TIMER_INIT    0x38
#define R_TIMER_CUR     0x39
#define R_TIMER_DIV     0x3e

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR,
       LVT_NUM };

#define SVR_ENABLE      0x100
#define LVT_MASKED      (1u << 16)
#define LVT_PERIODIC    (1u << 17)
#define LVT_LEVEL       (1u << 15)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_DESTMODE    (1u << 11)

#define DM_FIXED        0
#define DM_LOWEST       1
#define DM_SMI          2
#define DM_NMI          4
#define DM_INIT         5
#define DM_STARTUP      6
#define DM_EXTINT       7

#define ESR_SEND_ILLEGAL    (1u << 5)
#define ESR_RECV_ILLEGAL    (1u << 6)
#define ESR_ILLEGAL_REG     (1u << 7)

typedef struct APICState {
    DeviceState parent_obj;
    uint32_t index;
    uint8_t id;
    uint8_t tpr;
    uint32_t ldr, dfr, svr;
    uint32_t esr, esr_pending;
    uint32_t icr_lo, icr_hi;
    uint32_t isr[8], tmr[8], irr[8];
    uint32_t lvt[LVT_NUM];
    uint32_t timer_initial;
    uint32_t timer_div;             /* divide configuration register */
    int64_t timer_start;            /* virtual ns of the last load */
    bool lint[2];                   /* LINT0/1 input levels */
    bool nmi_pending, init_pending, sipi_pending;
    uint8_t sipi_vector;
    QEMUTimer timer;
} APICState;

static APICState *apics[MAX_APICS];
static const APICCPUHooks *hooks;
static DeviceState *ext_pic;
static MemoryRegion apic_mmio;

void apic_set_cpu_hooks(const APICCPUHooks *h)
{
    hooks = h;
}

void apic_set_pic(DeviceState *pic)
{
    ext_pic = pic;
}

static void kick(APICState *s)
{
    if (hooks && hooks->kick) {
        hooks->kick(s->index);
    }
}

/* ---- vectors ---- */

static int highest_bit(const uint32_t *reg)
{
    for (int i = 7; i >= 0; i--) {
        if (reg[i]) {
            return i * 32 + 31 - __builtin_clz(reg[i]);
        }
    }
    return -1;
}

static void set_bit(uint32_t *reg, int v, bool on)
{
    if (on) {
        reg[v >> 5] |= 1u << (v & 31);
    } else {
        reg[v >> 5] &= ~(1u << (v & 31));
    }
}

static bool test_bit(const uint32_t *reg, int v)
{
    return reg[v >> 5] & (1u << (v & 31));
}

static uint8_t ppr(const APICState *s)
{
    int isrv = MAX(highest_bit(s->isr), 0);

    return (s->tpr >> 4) >= (isrv >> 4) ? s->tpr : isrv & 0xf0;
}

static uint8_t apr(const APICState *s)
{
    int v = MAX(MAX(highest_bit(s->isr), highest_bit(s->irr)), 0);

    return (s->tpr >> 4) >= (v >> 4) ? s->tpr : v & 0xf0;
}

/* The fixed interrupt the CPU would take now, or -1. */
static int deliverable(const APICState *s)
{
    int v = highest_bit(s->irr);

    if (v < 0 || !(s->svr & SVR_ENABLE) || (v >> 4) <= (ppr(s) >> 4)) {
        return -1;
    }
    return v;
}

static void apic_error(APICState *s, uint32_t bits)
{
    uint32_t lvt = s->lvt[LVT_ERROR];

    s->esr_pending |= bits;
    if (!(lvt & LVT_MASKED) && (lvt & 0xff) >= 16) {
        set_bit(s->irr, lvt & 0xff, true);
        set_bit(s->tmr, lvt & 0xff, false);
        kick(s);
    }
}

/* Forget the register state on INIT, keeping the ID (SDM 11.4.7.3). */
static void apic_soft_reset(APICState *s)
{
    s->tpr = 0;
    s->ldr = 0;
    s->dfr = 0xffffffff;
    s->svr = 0xff;
    s->esr = s->esr_pending = 0;
    s->icr_lo = s->icr_hi = 0;
    memset(s->isr, 0, sizeof(s->isr));
    memset(s->tmr, 0, sizeof(s->tmr));
    memset(s->irr, 0, sizeof(s->irr));
    for (int i = 0; i < LVT_NUM; i++) {
        s->lvt[i] = LVT_MASKED;
    }
    s->timer_initial = 0;
    s->timer_div = 0;
    s->timer_start = 0;
    timer_del(&s->timer);
}

static void accept(APICState *s, int mode, int vector, bool level)
{
    switch (mode) {
    case DM_FIXED:
    case DM_LOWEST:
        if (vector < 16) {
            apic_error(s, ESR_RECV_ILLEGAL);
            return;
        }
        if (!(s->svr & SVR_ENABLE)) {
            return;         /* software-disabled: fixed messages dropped */
        }
        set_bit(s->irr, vector, true);
        set_bit(s->tmr, vector, level);
        break;
    case DM_NMI:
        s->nmi_pending = true;
        break;
    case DM_INIT:
        apic_soft_reset(s);
        s->init_pending = true;
        s->sipi_pending = false;
        break;
    case DM_STARTUP:
        s->sipi_vector = vector;
        s->sipi_pending = true;
        break;
    default:                /* SMI, ExtINT messages */
        log_guest_error("apic: delivery mode %d not supported", mode);
        return;
    }
    kick(s);
}

/* ---- destinations ---- */

static bool match_dest(const APICState *s, uint8_t dest, bool logical)
{
    if (!logical) {
        return dest == 0xff || dest == s->id;
    }
    if (dest == 0xff) {
        return true;
    }
    uint8_t ldr = s->ldr >> 24;
    if ((s->dfr >> 28) == 0xf) {                    /* flat */
        return ldr & dest;
    }
    return (ldr >> 4) == (dest >> 4) && (ldr & dest & 0x0f);   /* cluster */
}

static void deliver(APICState *from, int shorthand, uint8_t dest,
                    bool logical, int mode, int vector, bool level)
{
    APICState *lowest = NULL;

    for (int i = 0; i < MAX_APICS; i++) {
        APICState *s = apics[i];
        bool hit;
        if (!s) {
            continue;
        }
        switch (shorthand) {
        case 1: hit = s == from; break;
        case 2: hit = true; break;
        case 3: hit = s != from; break;
        default: hit = match_dest(s, dest, logical); break;
        }
        if (!hit) {
            continue;
        }
        if (mode == DM_LOWEST) {
            if (!lowest || apr(s) < apr(lowest)) {
                lowest = s;
            }
            continue;
        }
        accept(s, mode, vector, level);
    }
    if (lowest) {
        accept(lowest, mode, vector, level);
    }
}

void apic_send_msi(uint64_t addr, uint32_t data)
{
    if ((addr & 0xfff00000) != APIC_BASE) {
        log_guest_error("apic: MSI to 0x%" PRIx64 " ignored", addr);
        return;
    }
    deliver(NULL, 0, (addr >> 12) & 0xff, addr & 4, (data >> 8) & 7,
            data & 0xff, data & (1u << 15));
}

static void send_ipi(APICState *s)
{
    int mode = (s->icr_lo >> 8) & 7;
    int vector = s->icr_lo & 0xff;

    if (mode == DM_INIT && !(s->icr_lo & ICR_LEVEL_ASSERT)) {
        return;             /* INIT level de-assert: arbitration IDs only */
    }
    if ((mode == DM_FIXED || mode == DM_LOWEST) && vector < 16) {
        apic_error(s, ESR_SEND_ILLEGAL);
        return;
    }
    deliver(s, (s->icr_lo >> 18) & 3, s->icr_hi >> 24,
            s->icr_lo & ICR_DESTMODE, mode, vector, false);
}

/* ---- local interrupt pins ---- */

static void lint_deliver(APICState *s, int pin, bool level)
{
    uint32_t lvt = s->lvt[LVT_LINT0 + pin];
    int mode = (lvt >> 8) & 7;
    bool rising = level && !s->lint[pin];

    s->lint[pin] = level;
    if (lvt & LVT_MASKED) {
        return;
    }
    switch (mode) {
    case DM_EXTINT:
        kick(s);            /* level-sensitive: checked at injection */
        break;
    case DM_NMI:
        if (rising) {
            accept(s, DM_NMI, 0, false);
        }
        break;
    case DM_FIXED:
        if (rising || (level && (lvt & LVT_LEVEL))) {
            accept(s, DM_FIXED, lvt & 0xff, lvt & LVT_LEVEL);
        }
        break;
    default:
        log_guest_error("apic: LINT%d delivery mode %d ignored", pin, mode);
        break;
    }
}

static void apic_lint_irq(void *opaque, int n, int level)
{
    lint_deliver(opaque, n, level);
}

/* "inta": the CPU's interrupt acknowledge, for qtest where no CPU runs. */
static void apic_inta(void *opaque, int n, int level)
{
    APICState *s = opaque;

    if (level) {
        apic_cpu_get_interrupt(s->index);
    }
}

static bool extint_pending(const APICState *s)
{
    uint32_t lvt = s->lvt[LVT_LINT0];

    return ext_pic && !(lvt & LVT_MASKED) && ((lvt >> 8) & 7) == DM_EXTINT &&
           i8259_intr_level(ext_pic);
}

/* ---- timer ---- */

static unsigned timer_divisor(const APICState *s)
{
    unsigned v = (s->timer_div & 3) | ((s->timer_div >> 1) & 4);

    return 1u << ((v + 1) & 7);
}

/* Bus clocks (1 ns each) counted since the last load, divided. */
static uint64_t timer_ticks(const APICState *s, int64_t now)
{
    __int128 d = (__int128)now - s->timer_start;

    return d > 0 ? (uint64_t)MIN(d / timer_divisor(s), (__int128)INT64_MAX)
                 : 0;
}

static uint32_t timer_current(const APICState *s, int64_t now)
{
    uint64_t t = timer_ticks(s, now);

    if (!s->timer_initial) {
        return 0;
    }
    if (s->lvt[LVT_TIMER] & LVT_PERIODIC) {
        return s->timer_initial - t % s->timer_initial;
    }
    return t >= s->timer_initial ? 0 : s->timer_initial - t;
}

/* Arm the expiry that follows now, if there is one. */
static void timer_arm(APICState *s, int64_t now)
{
    uint64_t t = timer_ticks(s, now), period = s->timer_initial, n;

    if (!period) {
        timer_del(&s->timer);
        return;
    }
    if (s->lvt[LVT_TIMER] & LVT_PERIODIC) {
        n = (t / period + 1) * period;
    } else if (t < period) {
        n = period;
    } else {
        timer_del(&s->timer);
        return;
    }
    __int128 when = (__int128)s->timer_start + (__int128)n * timer_divisor(s);
    if (when > INT64_MAX) {
        timer_del(&s->timer);
    } else {
        timer_mod(&s->timer, when);
    }
}

static void apic_timer_cb(void *opaque)
{
    APICState *s = opaque;
    uint32_t lvt = s->lvt[LVT_TIMER];

    if (!(lvt & LVT_MASKED)) {
        accept(s, DM_FIXED, lvt & 0xff, false);
    }
    timer_arm(s, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
}

/* ---- registers ---- */

static APICState *current_apic(void)
{
    int cpu = hooks && hooks->current_cpu ? hooks->current_cpu() : -1;

    return apics[cpu >= 0 && cpu < MAX_APICS ? cpu : 0];
}

static uint32_t apic_read_reg(APICState *s, unsigned reg)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    switch (reg) {
    case R_ID:          return (uint32_t)s->id << 24;
    case R_VERSION:     return APIC_VERSION;
    case R_TPR:         return s->tpr;
    case R_APR:         return apr(s);
    case R_PPR:         return ppr(s);
    case R_LDR:         return s->ldr;
    case R_DFR:         return s->dfr;
    case R_SVR:         return s->svr;
    case R_ESR:         return s->esr;
    case R_ICR_LO:      return s->icr_lo;   /* delivery status: idle */
    case R_ICR_HI:      return s->icr_hi;
    case R_TIMER_INIT:  return s->timer_initial;
    case R_TIMER_CUR:   return timer_current(s, now);
    case R_TIMER_DIV:   return s->timer_div;
    case R_EOI:         return 0;
    }
    if (reg >= R_ISR && reg < R_ISR + 8) {
        return s->isr[reg - R_ISR];
    }
    if (reg >= R_TMR && reg < R_TMR + 8) {
        return s->tmr[reg - R_TMR];
    }
    if (reg >= R_IRR && reg < R_IRR + 8) {
        return s->irr[reg - R_IRR];
    }
    if (reg >= R_LVT && reg < R_LVT + LVT_NUM) {
        return s->lvt[reg - R_LVT];
    }
    apic_error(s, ESR_ILLEGAL_REG);
    return 0;
}

static void apic_eoi(APICState *s)
{
    int v = highest_bit(s->isr);

    if (v < 0) {
        return;
    }
    set_bit(s->isr, v, false);
    if (test_bit(s->tmr, v)) {
        set_bit(s->tmr, v, false);
        ioapic_eoi_broadcast(v);
    }
    kick(s);                /* a lower-priority request may be next */
}

static void apic_write_lvt(APICState *s, int i, uint32_t val,
                           int64_t now)
{
    static const uint32_t mask[LVT_NUM] = {
        [LVT_TIMER] = 0x300ff, [LVT_THERMAL] = 0x107ff, [LVT_PERF] = 0x107ff,
        [LVT_LINT0] = 0x1a7ff, [LVT_LINT1] = 0x1a7ff, [LVT_ERROR] = 0x100ff,
    };

    s->lvt[i] = val & mask[i];
    if (!(s->svr & SVR_ENABLE)) {
        s->lvt[i] |= LVT_MASKED;    /* cannot be unmasked while disabled */
    }
    if (i == LVT_TIMER) {
        timer_arm(s, now);
    } else if (i == LVT_LINT0 || i == LVT_LINT1) {
        lint_deliver(s, i - LVT_LINT0, s->lint[i - LVT_LINT0]);
    }
}

static void apic_write_reg(APICState *s, unsigned reg, uint32_t val)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    switch (reg) {
    case R_ID:
        s->id = val >> 24;
        break;
    case R_TPR:
        s->tpr = val & 0xff;
        kick(s);
        break;
    case R_EOI:
        apic_eoi(s);
        break;
    case R_LDR:
        s->ldr = val & 0xff000000;
        break;
    case R_DFR:
        s->dfr = val | 0x0fffffff;
        break;
    case R_SVR:
        s->svr = val & 0x3ff;
        if (!(s->svr & SVR_ENABLE)) {
            for (int i = 0; i < LVT_NUM; i++) {
                s->lvt[i] |= LVT_MASKED;
            }
        }
        kick(s);
        break;
    case R_ESR:
        s->esr = s->esr_pending;
        s->esr_pending = 0;
        break;
    case R_ICR_LO:
        s->icr_lo = val & 0x000ccfff;   /* delivery status reads idle */
        send_ipi(s);
        break;
    case R_ICR_HI:
        s->icr_hi = val & 0xff000000;
        break;
    case R_TIMER_INIT:
        s->timer_initial = val;
        s->timer_start = now;
        timer_arm(s, now);
        break;
    case R_TIMER_DIV: {
        /* Keep the current count; the new divisor applies from now. */
        uint64_t done = s->timer_initial - timer_current(s, now);
        s->timer_div = val & 0xb;
        s->timer_start = now - (int64_t)(done * timer_divisor(s));
        timer_arm(s, now);
        break;
    }
    default:
        if (reg >= R_LVT && reg < R_LVT + LVT_NUM) {
            apic_write_lvt(s, reg - R_LVT, val, now);
        } else if (reg != R_TIMER_CUR && reg != R_VERSION) {
            apic_error(s, ESR_ILLEGAL_REG);
        }
        break;
    }
}

static uint64_t apic_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    APICState *s = current_apic();

    if (!s || (addr & 0xf)) {
        return 0;
    }
    return apic_read_reg(s, addr >> 4);
}

static void apic_mmio_write(void *opaque, uint64_t addr, uint64_t val,
                            unsigned size)
{
    APICState *s = current_apic();

    if (!s || (addr & 0xf)) {
        log_guest_error("apic: write to offset 0x%" PRIx64 " ignored", addr);
        return;
    }
    apic_write_reg(s, addr >> 4, val);
}

static const MemoryRegionOps apic_mmio_ops = {
    .read = apic_mmio_read,
    .write = apic_mmio_write,
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

/* ---- the vCPU side ---- */

static APICState *cpu_apic(int cpu)
{
    return cpu >= 0 && cpu < MAX_APICS ? apics[cpu] : NULL;
}

bool apic_cpu_has_interrupt(int cpu)
{
    APICState *s = cpu_apic(cpu);

    return s && (deliverable(s) >= 0 || extint_pending(s));
}

int apic_cpu_get_interrupt(int cpu)
{
    APICState *s = cpu_apic(cpu);
    int v;

    if (!s) {
        return -1;
    }
    v = deliverable(s);
    if (v >= 0) {
        set_bit(s->irr, v, false);
        set_bit(s->isr, v, true);
        return v;
    }
    return extint_pending(s) ? i8259_acknowledge(ext_pic) : -1;
}

bool apic_cpu_take_nmi(int cpu)
{
    APICState *s = cpu_apic(cpu);
    bool r = s && s->nmi_pending;

    if (r) {
        s->nmi_pending = false;
    }
    return r;
}

bool apic_cpu_take_init(int cpu)
{
    APICState *s = cpu_apic(cpu);
    bool r = s && s->init_pending;

    if (r) {
        s->init_pending = false;
    }
    return r;
}

int apic_cpu_take_sipi(int cpu)
{
    APICState *s = cpu_apic(cpu);

    if (!s || !s->sipi_pending) {
        return -1;
    }
    s->sipi_pending = false;
    return s->sipi_vector;
}

/* ---- device ---- */

static void apic_reset(DeviceState *dev)
{
    APICState *s = (APICState *)dev;

    apic_soft_reset(s);
    s->id = s->index;
    s->nmi_pending = s->init_pending = s->sipi_pending = false;
    s->sipi_vector = 0;
    if (s->index == 0) {
        /* The BSP's LINT0 starts in virtual wire mode (ExtINT) so that
         * 8259 interrupts reach it before anyone programs the APIC. */
        s->lvt[LVT_LINT0] = DM_EXTINT << 8;
    }
}

static bool apic_realize(DeviceState *dev, Error **errp)
{
    APICState *s = (APICState *)dev;

    if (s->index >= MAX_APICS || apics[s->index]) {
        error_setg(errp, "apic: index %u is invalid or in use", s->index);
        return false;
    }
    if (!apic_mmio.name) {
        memory_region_init_io(&apic_mmio, &apic_mmio_ops, NULL, "apic",
                              0x1000);
        memory_region_add_subregion(get_system_memory(), APIC_BASE,
                                    &apic_mmio);
    }
    apics[s->index] = s;
    timer_init_ns(&s->timer, QEMU_CLOCK_VIRTUAL, apic_timer_cb, s);
    qdev_init_gpio_in_named(dev, apic_lint_irq, "lint", 2);
    qdev_init_gpio_in_named(dev, apic_inta, "inta", 1);
    return true;
}

static int apic_post_load(void *opaque, int version_id, Error **errp)
{
    APICState *s = opaque;

    timer_arm(s, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
    kick(s);
    return 0;
}

static const VMStateDescription vmstate_apic = {
    .name = "apic",
    .version_id = 1, .minimum_version_id = 1,
    .post_load = apic_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(id, APICState),
        VMSTATE_UINT8(tpr, APICState),
        VMSTATE_UINT32(ldr, APICState),
        VMSTATE_UINT32(dfr, APICState),
        VMSTATE_UINT32(svr, APICState),
        VMSTATE_UINT32(esr, APICState),
        VMSTATE_UINT32(esr_pending, APICState),
        VMSTATE_UINT32(icr_lo, APICState),
        VMSTATE_UINT32(icr_hi, APICState),
        VMSTATE_UINT32_ARRAY(isr, APICState, 8),
        VMSTATE_UINT32_ARRAY(tmr, APICState, 8),
        VMSTATE_UINT32_ARRAY(irr, APICState, 8),
        VMSTATE_UINT32_ARRAY(lvt, APICState, LVT_NUM),
        VMSTATE_UINT32(timer_initial, APICState),
        VMSTATE_FIELD_MAX(timer_div, APICState, VMS_UINT32, 0xb),
        VMSTATE_INT64(timer_start, APICState),
        VMSTATE_BOOL(lint[0], APICState),
        VMSTATE_BOOL(lint[1], APICState),
        VMSTATE_BOOL(nmi_pending, APICState),
        VMSTATE_BOOL(init_pending, APICState),
        VMSTATE_BOOL(sipi_pending, APICState),
        VMSTATE_UINT8(sipi_vector, APICState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property apic_props[] = {
    DEFINE_PROP_UINT32("index", APICState, index, 0),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass apic_class = {
    .name = TYPE_APIC,
    .desc = "local APIC (userspace)",
    .bus = BUS_SYSTEM,
    .instance_size = sizeof(APICState),
    .props = apic_props,
    .realize = apic_realize,
    .reset = apic_reset,
    .vmsd = &vmstate_apic,
};
DEVICE_REGISTER(apic_class)
