/*
 * MC146818A real-time clock and 128 bytes of battery-backed CMOS RAM, as the
 * PC wires it: index port 0x70 (bit 7 masks NMI), data port 0x71, IRQ 8.
 *
 * The time of day is not counted tick by tick: it is a clock (the host's UTC
 * time by default) plus an offset that moves when the guest sets the time, so
 * it stays right while the VM is paused or migrated.  The periodic, alarm and
 * update-ended flags are brought up to date whenever the guest looks at the
 * chip or a timer fires; timers run only for flags that would raise IRQ 8.
 */
#include "util/osdep.h"
#include "hw/isa/isa.h"
#include "hw/timer/mc146818rtc.h"
#include "system/timer.h"

#define NS NANOSECONDS_PER_SECOND

enum {
    REG_SEC = 0x00,
    REG_SEC_ALARM = 0x01,
    REG_MIN = 0x02,
    REG_MIN_ALARM = 0x03,
    REG_HOUR = 0x04,
    REG_HOUR_ALARM = 0x05,
    REG_WDAY = 0x06,
    REG_MDAY = 0x07,
    REG_MONTH = 0x08,
    REG_YEAR = 0x09,
    REG_A = 0x0a,
    REG_B = 0x0b,
    REG_C = 0x0c,
    REG_D = 0x0d,
    REG_CENTURY = 0x32,
};

#define A_UIP       0x80
#define A_DV_SHIFT  4
#define A_RS_MASK   0x0f
#define B_SET       0x80
#define B_PIE       0x40
#define B_AIE       0x20
#define B_UIE       0x10
#define B_SQWE      0x08
#define B_DM_BINARY 0x04
#define B_24H       0x02
#define C_IRQF      0x80
#define C_PF        0x40    /* each flag sits on the bit of its enable in B */
#define C_AF        0x20
#define C_UF        0x10
#define D_VRT       0x80

#define RTC_FREQ    32768
/* UIP rises 8 cycles of the 32.768 kHz base (244.140625 us) before the
 * update: at the first whole nanosecond of that cycle, as QEMU has it. */
#define UIP_LEAD_NS 244140
/* Alarm bytes 0xc0-0xff match any value. */
#define ALARM_DONT_CARE 0xc0
#define SECS_PER_DAY 86400
/* Times are kept within about 30000 years of 1970, whatever was loaded. */
#define MAX_TOD_SEC 1000000000000LL

typedef struct RTCState {
    DeviceState parent_obj;
    uint16_t iobase;
    uint8_t isairq;
    uint32_t base_year;          /* the year register counts from here */
    char *base;                  /* utc, localtime or YYYY-MM-DD[THH:MM:SS] */
    char *clock;                 /* host, rt or vm: what the time follows */
    char *lost_tick_policy;      /* accepted; late ticks are always dropped */

    MemoryRegion io;
    qemu_irq irq;
    QEMUClockType tod_clock;
    bool irq_level;

    uint8_t cmos[128];
    uint8_t index;               /* as written to port 0x70, NMI bit included */
    /* time of day = tod_clock + offset; offset_nsec in [0, 1 s) */
    int64_t offset_sec;
    int64_t offset_nsec;
    int64_t last_update_sec;     /* last second whose update was accounted */
    int64_t next_periodic_ns;    /* next periodic edge (virtual), <0: none */
    QEMUTimer periodic_timer;
    QEMUTimer update_timer;
} RTCState;

typedef struct RTCTime {
    int64_t year;
    int mon, mday, wday, hour, min, sec;
} RTCTime;

/* ---- calendar arithmetic (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t div_floor(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

static int64_t mod_floor(int64_t a, int64_t b)
{
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 0001-01-01 to January 1st of year y. */
static int64_t days_before_year(int64_t y)
{
    y--;
    return y * 365 + div_floor(y, 4) - div_floor(y, 100) + div_floor(y, 400);
}

static const uint16_t days_before_month[12] = {
    0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334
};

static int64_t date_to_days(int64_t year, int mon, int64_t mday)
{
    int64_t days = days_before_year(year) - days_before_year(1970);
    days += days_before_month[mon - 1] + mday - 1;
    return days + (mon > 2 && is_leap(year));
}

static void secs_to_time(int64_t t, RTCTime *tm)
{
    int64_t days = div_floor(t, SECS_PER_DAY);
    int64_t sod = mod_floor(t, SECS_PER_DAY);

    tm->hour = sod / 3600;
    tm->min = sod / 60 % 60;
    tm->sec = sod % 60;
    tm->wday = mod_floor(days + 4, 7) + 1;  /* 1970-01-01 was a Thursday */

    /* 146097 days per 400 years: the estimate is off by at most one. */
    int64_t y = 1970 + div_floor(days * 400, 146097);
    while (date_to_days(y, 1, 1) > days) {
        y--;
    }
    while (date_to_days(y + 1, 1, 1) <= days) {
        y++;
    }
    tm->year = y;
    tm->mon = 12;
    while (tm->mon > 1 && date_to_days(y, tm->mon, 1) > days) {
        tm->mon--;
    }
    tm->mday = days - date_to_days(y, tm->mon, 1) + 1;
}

static int64_t time_to_secs(const RTCTime *tm)
{
    int mon = tm->mon;

    if (mon < 1 || mon > 12) {
        log_guest_error("mc146818rtc: month %d out of range", mon);
        mon = mon < 1 ? 1 : 12;
    }
    return date_to_days(tm->year, mon, tm->mday) * SECS_PER_DAY +
           tm->hour * 3600 + tm->min * 60 + tm->sec;
}

/* ---- register formats (register B: BCD or binary, 12 or 24 hours) ---- */

static uint8_t to_reg(RTCState *s, int v)
{
    if (s->cmos[REG_B] & B_DM_BINARY) {
        return v;
    }
    return (v / 10) << 4 | v % 10;
}

static int from_reg(RTCState *s, uint8_t v)
{
    if (s->cmos[REG_B] & B_DM_BINARY) {
        return v;
    }
    return (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t hour_to_reg(RTCState *s, int hour)
{
    if (s->cmos[REG_B] & B_24H) {
        return to_reg(s, hour);
    }
    /* 12-hour mode: 12, 1 .. 11 with bit 7 set after noon */
    return to_reg(s, hour % 12 ? hour % 12 : 12) | (hour >= 12 ? 0x80 : 0);
}

static int hour_from_reg(RTCState *s, uint8_t v)
{
    if (s->cmos[REG_B] & B_24H) {
        return from_reg(s, v);
    }
    return from_reg(s, v & 0x7f) % 12 + (v & 0x80 ? 12 : 0);
}

/* ---- the clock ---- */

static bool rtc_divider_running(RTCState *s)
{
    /* DV 000/001/010 select a time base; 11x holds the divider in reset. */
    return (s->cmos[REG_A] >> A_DV_SHIFT & 7) <= 2;
}

static bool rtc_clock_running(RTCState *s)
{
    return rtc_divider_running(s) && !(s->cmos[REG_B] & B_SET);
}

static void rtc_now(RTCState *s, int64_t *sec, int64_t *nsec)
{
    int64_t ns = qemu_clock_get_ns(s->tod_clock);
    int64_t frac = mod_floor(ns, NS) + s->offset_nsec;
    int64_t t;

    /* Saturate, so that no offset can overflow the calendar arithmetic. */
    if (__builtin_add_overflow(div_floor(ns, NS) + frac / NS, s->offset_sec,
                               &t)) {
        t = s->offset_sec < 0 ? -MAX_TOD_SEC : MAX_TOD_SEC;
    }
    *sec = MIN(MAX(t, -MAX_TOD_SEC), MAX_TOD_SEC);
    *nsec = frac % NS;
}

/* Make the time of day t + nsec now, e.g. after the guest set the clock. */
static void rtc_set_time(RTCState *s, int64_t t, int64_t nsec)
{
    int64_t ns = qemu_clock_get_ns(s->tod_clock);

    s->offset_sec = t - div_floor(ns, NS);
    s->offset_nsec = nsec - mod_floor(ns, NS);
    if (s->offset_nsec < 0) {
        s->offset_nsec += NS;
        s->offset_sec--;
    }
    s->last_update_sec = t;     /* setting the clock is not an update */
}

/* Latch time t into the time and date registers. */
static void rtc_store_time(RTCState *s, int64_t t)
{
    RTCTime tm;
    int64_t year;

    secs_to_time(t, &tm);
    year = tm.year - s->base_year;
    if (year < 0) {
        year = 0;
    }
    s->cmos[REG_SEC] = to_reg(s, tm.sec);
    s->cmos[REG_MIN] = to_reg(s, tm.min);
    s->cmos[REG_HOUR] = hour_to_reg(s, tm.hour);
    s->cmos[REG_WDAY] = to_reg(s, tm.wday);
    s->cmos[REG_MDAY] = to_reg(s, tm.mday);
    s->cmos[REG_MONTH] = to_reg(s, tm.mon);
    s->cmos[REG_YEAR] = to_reg(s, year % 100);
    s->cmos[REG_CENTURY] = to_reg(s, year / 100 % 100);
}

/* The time the registers hold (day of week is derived, not read). */
static int64_t rtc_load_time(RTCState *s)
{
    RTCTime tm = {
        .sec = from_reg(s, s->cmos[REG_SEC]),
        .min = from_reg(s, s->cmos[REG_MIN]),
        .hour = hour_from_reg(s, s->cmos[REG_HOUR]),
        .mday = from_reg(s, s->cmos[REG_MDAY]),
        .mon = from_reg(s, s->cmos[REG_MONTH]),
        .year = from_reg(s, s->cmos[REG_CENTURY]) * 100 +
                from_reg(s, s->cmos[REG_YEAR]) + (int64_t)s->base_year,
    };
    return time_to_secs(&tm);
}

static bool alarm_field_matches(uint8_t alarm, uint8_t now)
{
    return (alarm & ALARM_DONT_CARE) == ALARM_DONT_CARE || alarm == now;
}

static bool rtc_alarm_matches(RTCState *s, int64_t t)
{
    int64_t sod = mod_floor(t, SECS_PER_DAY);

    return alarm_field_matches(s->cmos[REG_SEC_ALARM], to_reg(s, sod % 60)) &&
           alarm_field_matches(s->cmos[REG_MIN_ALARM],
                               to_reg(s, sod / 60 % 60)) &&
           alarm_field_matches(s->cmos[REG_HOUR_ALARM],
                               hour_to_reg(s, sod / 3600));
}

/* Set UF and AF for the update cycles that completed up to second now. */
static void rtc_account_updates(RTCState *s, int64_t now)
{
    if (now > s->last_update_sec) {
        /* One day holds every time of day the alarm can match. */
        int64_t t = MAX(s->last_update_sec + 1, now - SECS_PER_DAY + 1);

        s->cmos[REG_C] |= C_UF;
        for (; t <= now && !(s->cmos[REG_C] & C_AF); t++) {
            if (rtc_alarm_matches(s, t)) {
                s->cmos[REG_C] |= C_AF;
            }
        }
    }
    /* Also catches a host clock stepped backwards. */
    s->last_update_sec = now;
}

/* Periodic rate from RS: 256 and 128 Hz for 1 and 2, else 32768 >> (RS-1). */
static int64_t rtc_period_cycles(RTCState *s)
{
    int rs = s->cmos[REG_A] & A_RS_MASK;

    if (!rs || !rtc_divider_running(s)) {
        return 0;
    }
    return rs <= 2 ? 1 << (rs + 6) : 1 << (rs - 1);
}

static int64_t cycles_to_ns(int64_t cycles)
{
    /* rounded up: the first nanosecond at which the cycle has begun */
    return cycles / RTC_FREQ * NS +
           (cycles % RTC_FREQ * NS + RTC_FREQ - 1) / RTC_FREQ;
}

static int64_t ns_to_cycles(int64_t ns)
{
    return ns / NS * RTC_FREQ + ns % NS * RTC_FREQ / NS;
}

/* The first periodic edge after now, counting periods from cycle 'from'. */
static int64_t rtc_next_periodic(int64_t from, int64_t now, int64_t period)
{
    return cycles_to_ns(from + ((ns_to_cycles(now) - from) / period + 1) *
                               period);
}

static void rtc_set_irq(RTCState *s, bool level)
{
    if (level != s->irq_level) {
        s->irq_level = level;
        qemu_set_irq(s->irq, level);
    }
}

/* Timers are re-armed on every register access: skip the no-op ones. */
static void rtc_arm(QEMUTimer *t, int64_t when)
{
    if (when < 0) {
        timer_del(t);
    } else if (!timer_pending(t) || timer_expire_time_ns(t) != when) {
        timer_mod(t, when);
    }
}

/* Bring the flags up to now, drive IRQ 8 and arm the timers still needed. */
static void rtc_update(RTCState *s)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    int64_t period = rtc_period_cycles(s);
    int64_t until_update = -1;
    uint8_t b = s->cmos[REG_B];
    uint8_t *c = &s->cmos[REG_C];

    if (!period) {
        s->next_periodic_ns = -1;
    } else if (s->next_periodic_ns >= 0 && now >= s->next_periodic_ns) {
        *c |= C_PF;             /* PF is set whether or not PIE is */
        s->next_periodic_ns = rtc_next_periodic(
            ns_to_cycles(s->next_periodic_ns), now, period);
    } else if (s->next_periodic_ns < 0 ||
               s->next_periodic_ns - now > cycles_to_ns(period)) {
        /* No edge pending yet (or a nonsensical one was loaded). */
        s->next_periodic_ns = rtc_next_periodic(0, now, period);
    }

    if (rtc_clock_running(s)) {
        int64_t sec, nsec;

        rtc_now(s, &sec, &nsec);
        rtc_account_updates(s, sec);
        until_update = NS - nsec;
    }

    *c &= ~C_IRQF;
    if (*c & b & (C_PF | C_AF | C_UF)) {
        *c |= C_IRQF;
    }
    rtc_set_irq(s, *c & C_IRQF);

    rtc_arm(&s->periodic_timer,
            (b & B_PIE) && !(*c & C_PF) ? s->next_periodic_ns : -1);
    /* The virtual clock stands in for the time-of-day clock over one second:
     * a timer that fires early just finds no update yet and is re-armed. */
    rtc_arm(&s->update_timer,
            until_update > 0 && (((b & B_UIE) && !(*c & C_UF)) ||
                                 ((b & B_AIE) && !(*c & C_AF)))
            ? now + until_update : -1);
}

static void rtc_timer_cb(void *opaque)
{
    rtc_update(opaque);
}

/* New values for A and B: start, stop or rephase the clock as they say. */
static void rtc_set_control(RTCState *s, uint8_t a, uint8_t b)
{
    bool was_running = rtc_clock_running(s);
    bool divider_was_running = rtc_divider_running(s);
    int64_t sec, nsec;

    rtc_update(s);                      /* account under the old settings */
    if (was_running) {
        /* Freeze the registers, in the format they were running in. */
        rtc_now(s, &sec, &nsec);
        rtc_store_time(s, sec);
    }
    if ((b & B_SET) && !(s->cmos[REG_B] & B_SET)) {
        b &= ~B_UIE;                    /* SET going high clears UIE */
    }
    /* A new rate counts from the last periodic edge, as QEMU's RTC does
     * (its rtc-test times rate switches that way); with no edge to count
     * from, edges fall on multiples of the period. */
    int64_t old_period = rtc_period_cycles(s);
    int64_t last_edge = old_period && s->next_periodic_ns >= 0 ?
                        ns_to_cycles(s->next_periodic_ns) - old_period : -1;
    bool new_rate = (a ^ s->cmos[REG_A]) & 0x7f;
    if (new_rate) {
        s->next_periodic_ns = -1;
    }
    s->cmos[REG_A] = a & ~A_UIP;
    s->cmos[REG_B] = b;
    if (new_rate && last_edge >= 0 && rtc_period_cycles(s)) {
        s->next_periodic_ns = MAX(cycles_to_ns(last_edge +
                                               rtc_period_cycles(s)),
                                  qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
    }

    if (rtc_divider_running(s) && !divider_was_running) {
        /* Out of divider reset the first update comes 500 ms later. */
        rtc_set_time(s, rtc_load_time(s), NS / 2);
    } else if (rtc_clock_running(s) && !was_running) {
        /* SET cleared: the divider kept counting, so keep its phase. */
        rtc_now(s, &sec, &nsec);
        rtc_set_time(s, rtc_load_time(s), nsec);
    }
    rtc_update(s);
}

static bool is_time_reg(int reg)
{
    switch (reg) {
    case REG_SEC: case REG_MIN: case REG_HOUR: case REG_WDAY:
    case REG_MDAY: case REG_MONTH: case REG_YEAR: case REG_CENTURY:
        return true;
    }
    return false;
}

static uint8_t rtc_read_reg(RTCState *s, int reg)
{
    int64_t sec, nsec;
    uint8_t val;

    if (is_time_reg(reg)) {
        if (rtc_clock_running(s)) {
            rtc_now(s, &sec, &nsec);
            rtc_store_time(s, sec);
        }
        return s->cmos[reg];
    }
    switch (reg) {
    case REG_A:
        val = s->cmos[REG_A];
        if (rtc_clock_running(s)) {
            rtc_now(s, &sec, &nsec);
            if (nsec >= NS - UIP_LEAD_NS) {
                val |= A_UIP;
            }
        }
        return val;
    case REG_C:
        rtc_update(s);
        val = s->cmos[REG_C];
        s->cmos[REG_C] = 0;             /* reading C clears it, IRQ drops */
        rtc_update(s);
        return val;
    default:
        return s->cmos[reg];
    }
}

static void rtc_write_reg(RTCState *s, int reg, uint8_t val)
{
    int64_t sec, nsec;

    if (is_time_reg(reg)) {
        if (!rtc_clock_running(s)) {
            s->cmos[reg] = val;
            return;
        }
        /* A write while running sets the clock at once, phase kept. */
        rtc_now(s, &sec, &nsec);
        rtc_store_time(s, sec);
        s->cmos[reg] = val;
        rtc_set_time(s, rtc_load_time(s), nsec);
        rtc_update(s);
        return;
    }
    switch (reg) {
    case REG_A:
        rtc_set_control(s, val, s->cmos[REG_B]);
        break;
    case REG_B:
        rtc_set_control(s, s->cmos[REG_A], val);
        break;
    case REG_C:
    case REG_D:
        log_guest_error("mc146818rtc: write 0x%02x to read-only register %d",
                        val, reg);
        break;
    case REG_SEC_ALARM:
    case REG_MIN_ALARM:
    case REG_HOUR_ALARM:
        rtc_update(s);                  /* earlier seconds see the old alarm */
        s->cmos[reg] = val;
        rtc_update(s);
        break;
    default:
        s->cmos[reg] = val;
        break;
    }
}

static uint64_t rtc_io_read(void *opaque, uint64_t addr, unsigned size)
{
    RTCState *s = opaque;

    if (addr == 0) {
        return 0xff;                    /* the index port is write-only */
    }
    return rtc_read_reg(s, s->index & 0x7f);
}

static void rtc_io_write(void *opaque, uint64_t addr, uint64_t val,
                         unsigned size)
{
    RTCState *s = opaque;

    if (addr == 0) {
        s->index = val;
    } else {
        rtc_write_reg(s, s->index & 0x7f, val);
    }
}

static const MemoryRegionOps rtc_io_ops = {
    .read = rtc_io_read,
    .write = rtc_io_write,
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

void mc146818rtc_set_cmos_data(DeviceState *dev, int addr, uint8_t val)
{
    RTCState *s = (RTCState *)dev;

    if (addr >= 0 && addr < (int)sizeof(s->cmos)) {
        s->cmos[addr] = val;
    }
}

uint8_t mc146818rtc_get_cmos_data(DeviceState *dev, int addr)
{
    RTCState *s = (RTCState *)dev;
    int64_t sec, nsec;

    if (addr < 0 || addr >= (int)sizeof(s->cmos)) {
        return 0xff;
    }
    if (is_time_reg(addr) && rtc_clock_running(s)) {
        rtc_now(s, &sec, &nsec);
        rtc_store_time(s, sec);
    }
    return s->cmos[addr];
}

/* The -rtc base= start time in seconds since the epoch. */
static bool rtc_parse_base(const char *base, int64_t *t, Error **errp)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_HOST) / NS;
    RTCTime tm = { 0 };
    int year, len = 0, len2 = 0;
    const char *rest;

    if (!base || !strcmp(base, "utc")) {
        *t = now;
        return true;
    }
    if (!strcmp(base, "localtime")) {
        GDateTime *dt = g_date_time_new_now_local();

        *t = now + g_date_time_get_utc_offset(dt) / G_TIME_SPAN_SECOND;
        g_date_time_unref(dt);
        return true;
    }
    if (sscanf(base, "%d-%d-%d%n", &year, &tm.mon, &tm.mday, &len) == 3) {
        rest = base + len;
        if (*rest == 'T' && sscanf(rest, "T%d:%d:%d%n", &tm.hour, &tm.min,
                                   &tm.sec, &len2) == 3) {
            rest += len2;
        }
        if (*rest == '\0' && year >= 1 && year <= 9999 &&
            tm.mon >= 1 && tm.mon <= 12 && tm.mday >= 1 && tm.mday <= 31 &&
            tm.hour >= 0 && tm.hour < 24 && tm.min >= 0 && tm.min < 60 &&
            tm.sec >= 0 && tm.sec < 60) {
            tm.year = year;
            *t = time_to_secs(&tm);
            return true;
        }
    }
    error_setg(errp, "mc146818rtc: invalid base '%s' (utc, localtime or "
               "YYYY-MM-DD[THH:MM:SS])", base);
    return false;
}

static bool rtc_realize(DeviceState *dev, Error **errp)
{
    RTCState *s = (RTCState *)dev;
    const char *policy = s->lost_tick_policy;
    int64_t t;

    if (!s->clock || !strcmp(s->clock, "host")) {
        s->tod_clock = QEMU_CLOCK_HOST;
    } else if (!strcmp(s->clock, "rt")) {
        s->tod_clock = QEMU_CLOCK_REALTIME;
    } else if (!strcmp(s->clock, "vm")) {
        s->tod_clock = QEMU_CLOCK_VIRTUAL;
    } else {
        error_setg(errp, "mc146818rtc: invalid clock '%s' (host, rt or vm)",
                   s->clock);
        return false;
    }
    if (policy && strcmp(policy, "discard") && strcmp(policy, "delay") &&
        strcmp(policy, "slew")) {
        error_setg(errp, "mc146818rtc: invalid lost_tick_policy '%s'", policy);
        return false;
    }
    if (s->base_year > 9999) {
        error_setg(errp, "mc146818rtc: base_year %u out of range",
                   s->base_year);
        return false;
    }
    if (s->isairq > 15) {
        error_setg(errp, "mc146818rtc: irq %u out of range", s->isairq);
        return false;
    }
    if (!rtc_parse_base(s->base, &t, errp)) {
        return false;
    }

    /* Power on: 32.768 kHz base, 1024 Hz rate, 24-hour BCD, battery good. */
    memset(s->cmos, 0, sizeof(s->cmos));
    s->cmos[REG_A] = 0x26;
    s->cmos[REG_B] = B_24H;
    s->cmos[REG_D] = D_VRT;
    s->next_periodic_ns = -1;
    rtc_set_time(s, t, qemu_clock_get_ns(QEMU_CLOCK_HOST) % NS);

    timer_init_ns(&s->periodic_timer, QEMU_CLOCK_VIRTUAL, rtc_timer_cb, s);
    timer_init_ns(&s->update_timer, QEMU_CLOCK_VIRTUAL, rtc_timer_cb, s);
    s->irq = isa_get_irq(s->isairq);
    memory_region_init_io(&s->io, &rtc_io_ops, s, "rtc", 2);
    isa_register_ioport(&s->io, s->iobase);
    return true;
}

/* The RESET pin: interrupt enables and flags clear; time and RAM survive
 * (the BIOS finds its shutdown status byte there after a reset). */
static void rtc_reset(DeviceState *dev)
{
    RTCState *s = (RTCState *)dev;

    s->cmos[REG_B] &= ~(B_PIE | B_AIE | B_UIE | B_SQWE);
    s->cmos[REG_C] = 0;
    rtc_update(s);
}

static int rtc_post_load(void *opaque, int version_id, Error **errp)
{
    RTCState *s = opaque;

    /* Field limits did the checking, and rtc_now() saturates any offset.
     * The interrupt controller brought its own view of the line along. */
    s->irq_level = s->cmos[REG_C] & C_IRQF;
    return 0;
}

static const VMStateField rtc_fields[] = {
    VMSTATE_BUFFER(cmos, RTCState),
    VMSTATE_UINT8(index, RTCState),
    VMSTATE_INT64(offset_sec, RTCState),
    VMSTATE_FIELD_MAX(offset_nsec, RTCState, VMS_INT64, NS - 1),
    VMSTATE_INT64(last_update_sec, RTCState),
    VMSTATE_INT64(next_periodic_ns, RTCState),
    VMSTATE_TIMER(periodic_timer, RTCState),
    VMSTATE_TIMER(update_timer, RTCState),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription rtc_vmsd = {
    .name = "mc146818rtc",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = rtc_fields,
    .post_load = rtc_post_load,
};

static const Property rtc_props[] = {
    DEFINE_PROP_UINT16("iobase", RTCState, iobase, 0x70),
    DEFINE_PROP_UINT8("irq", RTCState, isairq, 8),
    DEFINE_PROP_UINT32("base_year", RTCState, base_year, 0),
    DEFINE_PROP_STRING("base", RTCState, base),
    DEFINE_PROP_STRING("clock", RTCState, clock),
    DEFINE_PROP_STRING("lost_tick_policy", RTCState, lost_tick_policy),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass rtc_class = {
    .name = TYPE_MC146818_RTC,
    .desc = "MC146818 real-time clock with CMOS RAM",
    .bus = BUS_ISA,
    .instance_size = sizeof(RTCState),
    .props = rtc_props,
    .realize = rtc_realize,
    .reset = rtc_reset,
    .vmsd = &rtc_vmsd,
};
DEVICE_REGISTER(rtc_class);
