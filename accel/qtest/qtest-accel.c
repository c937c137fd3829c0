/*
 * The qtest accelerator: no vCPU exists to run.  Devices are driven through
 * the qtest protocol (qtest/qtest.c) and the virtual clock starts at 0 and
 * moves only by clock_step/clock_set, so every timer fires at an exact,
 * repeatable time.
 */
#include "system/accel.h"
#include "system/qtest.h"
#include "system/timer.h"

static bool qtest_accel_init(MachineState *ms, Error **errp)
{
    virtual_clock_set_manual(true);
    virtual_clock_set_manual_time(0);
    return true;
}

static bool qtest_start_vcpus(MachineState *ms, Error **errp)
{
    return true;
}

/* Nothing runs, so there is nothing to pause, resume, reset or join. */
static void qtest_nothing(void)
{
}

const AccelOps qtest_accel_ops = {
    .name = "qtest",
    .init = qtest_accel_init,
    .start_vcpus = qtest_start_vcpus,
    .pause_all = qtest_nothing,
    .resume_all = qtest_nothing,
    .reset_vcpus = qtest_nothing,
    .shutdown = qtest_nothing,
};

bool qtest_enabled(void)
{
    return current_accel == &qtest_accel_ops;
}
