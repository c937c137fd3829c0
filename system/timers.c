/*
 * Clocks and timer lists.  Timers are kept per clock in a list sorted by
 * expiry; the main loop runs the due ones and sleeps until the next.
 */
#include "system/timer.h"
#include "system/system.h"
#include <time.h>

static GList *active[QEMU_CLOCK_MAX];   /* QEMUTimer *, sorted by expire */
static int64_t vclock_offset;           /* virtual = monotonic + offset */
static int64_t vclock_frozen;           /* value while stopped or manual */
static bool vclock_stopped;
static bool vclock_manual;

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NANOSECONDS_PER_SECOND + ts.tv_nsec;
}

int64_t qemu_clock_get_ns(QEMUClockType type)
{
    struct timespec ts;
    switch (type) {
    case QEMU_CLOCK_VIRTUAL:
        if (vclock_stopped || vclock_manual) {
            return vclock_frozen;
        }
        return monotonic_ns() + vclock_offset;
    case QEMU_CLOCK_HOST:
        clock_gettime(CLOCK_REALTIME, &ts);
        return ts.tv_sec * NANOSECONDS_PER_SECOND + ts.tv_nsec;
    default:
        return monotonic_ns();
    }
}

void virtual_clock_stop(void)
{
    if (!vclock_stopped) {
        vclock_frozen = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
        vclock_stopped = true;
    }
}

void virtual_clock_start(void)
{
    if (vclock_stopped) {
        vclock_offset = vclock_frozen - monotonic_ns();
        vclock_stopped = false;
        main_loop_wakeup();
    }
}

bool virtual_clock_running(void)
{
    return !vclock_stopped && !vclock_manual;
}

void virtual_clock_set_manual(bool manual)
{
    if (manual && !vclock_manual) {
        vclock_frozen = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    } else if (!manual && vclock_manual) {
        vclock_offset = vclock_frozen - monotonic_ns();
    }
    vclock_manual = manual;
}

void virtual_clock_set_manual_time(int64_t ns)
{
    g_assert(vclock_manual);
    vclock_frozen = ns;
}

void timer_init_ns(QEMUTimer *t, QEMUClockType type, QEMUTimerCB *cb,
                   void *opaque)
{
    t->clock = type;
    t->cb = cb;
    t->opaque = opaque;
    t->expire = -1;
}

QEMUTimer *timer_new_ns(QEMUClockType type, QEMUTimerCB *cb, void *opaque)
{
    QEMUTimer *t = g_new(QEMUTimer, 1);
    timer_init_ns(t, type, cb, opaque);
    return t;
}

void timer_free(QEMUTimer *t)
{
    if (t) {
        timer_del(t);
        g_free(t);
    }
}

void timer_del(QEMUTimer *t)
{
    if (t->expire >= 0) {
        active[t->clock] = g_list_remove(active[t->clock], t);
        t->expire = -1;
    }
}

static gint cmp_expire(gconstpointer a, gconstpointer b)
{
    const QEMUTimer *x = a, *y = b;
    return x->expire < y->expire ? -1 : x->expire > y->expire;
}

void timer_mod(QEMUTimer *t, int64_t expire_ns)
{
    timer_del(t);
    t->expire = MAX(expire_ns, 0);
    active[t->clock] = g_list_insert_sorted(active[t->clock], t, cmp_expire);
    main_loop_wakeup();
}

/* Fire the timers of one clock that are due at 'now'. */
static void run_clock(QEMUClockType type, int64_t now)
{
    while (active[type]) {
        QEMUTimer *t = active[type]->data;
        if (t->expire > now) {
            break;
        }
        timer_del(t);
        t->cb(t->opaque);
    }
}

int64_t virtual_clock_next_deadline(void)
{
    return active[QEMU_CLOCK_VIRTUAL] ?
           ((QEMUTimer *)active[QEMU_CLOCK_VIRTUAL]->data)->expire : -1;
}

void virtual_clock_warp_to(int64_t ns)
{
    g_assert(vclock_manual);
    /* Step through each deadline so callbacks see their own time. */
    for (;;) {
        int64_t next = virtual_clock_next_deadline();
        if (next < 0 || next > ns) {
            break;
        }
        vclock_frozen = MAX(vclock_frozen, next);
        run_clock(QEMU_CLOCK_VIRTUAL, vclock_frozen);
    }
    vclock_frozen = MAX(vclock_frozen, ns);
}

int timers_run_due(void)
{
    int64_t wait = -1;
    for (int c = 0; c < QEMU_CLOCK_MAX; c++) {
        if (c == QEMU_CLOCK_VIRTUAL && !virtual_clock_running()) {
            continue;
        }
        run_clock(c, qemu_clock_get_ns(c));
        if (active[c]) {
            int64_t left = ((QEMUTimer *)active[c]->data)->expire -
                           qemu_clock_get_ns(c);
            left = MAX(left, 0);
            if (wait < 0 || left < wait) {
                wait = left;
            }
        }
    }
    if (wait < 0) {
        return -1;
    }
    return (int)MIN((wait + 999999) / 1000000, INT32_MAX);
}
