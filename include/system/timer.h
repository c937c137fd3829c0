/*
 * Clocks and timers.  Device timers run on the virtual clock: it stops while
 * the VM is paused and, under qtest, moves only when the test steps it.
 * Timers fire in the main loop thread with the big lock held.
 */
#ifndef SYSTEM_TIMER_H
#define SYSTEM_TIMER_H

#include "util/osdep.h"

typedef enum {
    QEMU_CLOCK_REALTIME,  /* monotonic host time, always runs */
    QEMU_CLOCK_VIRTUAL,   /* guest time: stops when the VM stops */
    QEMU_CLOCK_HOST,      /* wall-clock time of day (for the RTC) */
    QEMU_CLOCK_MAX,
} QEMUClockType;

#define NANOSECONDS_PER_SECOND 1000000000LL

typedef void QEMUTimerCB(void *opaque);

typedef struct QEMUTimer {
    QEMUClockType clock;
    int64_t expire;        /* -1 when not pending */
    QEMUTimerCB *cb;
    void *opaque;
} QEMUTimer;

int64_t qemu_clock_get_ns(QEMUClockType type);
static inline int64_t qemu_clock_get_ms(QEMUClockType type)
{
    return qemu_clock_get_ns(type) / 1000000;
}

QEMUTimer *timer_new_ns(QEMUClockType type, QEMUTimerCB *cb, void *opaque);
void timer_init_ns(QEMUTimer *t, QEMUClockType type, QEMUTimerCB *cb,
                   void *opaque);
void timer_free(QEMUTimer *t);
void timer_mod(QEMUTimer *t, int64_t expire_ns);
void timer_del(QEMUTimer *t);
static inline bool timer_pending(const QEMUTimer *t) { return t->expire >= 0; }
static inline int64_t timer_expire_time_ns(const QEMUTimer *t) { return t->expire; }

/* Virtual clock control: VM stop/continue and the qtest accelerator. */
void virtual_clock_stop(void);
void virtual_clock_start(void);
bool virtual_clock_running(void);
void virtual_clock_set_manual(bool manual);
/* Manual mode, before any timer is armed: the clock reads ns (qtest: 0). */
void virtual_clock_set_manual_time(int64_t ns);
/* Manual mode: advance to ns, firing the timers that come due in order. */
void virtual_clock_warp_to(int64_t ns);
/* Earliest deadline of the virtual clock's timers, or -1. */
int64_t virtual_clock_next_deadline(void);

/* Main loop integration: run due timers; return ms until the next one (-1). */
int timers_run_due(void);

#endif
