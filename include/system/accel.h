/* The accelerator that runs the vCPUs: KVM now, qtest later (no vCPUs). */
#ifndef SYSTEM_ACCEL_H
#define SYSTEM_ACCEL_H

#include "system/system.h"

typedef struct AccelOps {
    const char *name;
    /* Before the board is built (open /dev/kvm, create the VM, irqchip). */
    bool (*init)(MachineState *ms, Error **errp);
    /* After the board: create vCPU threads, parked until resume_all. */
    bool (*start_vcpus)(MachineState *ms, Error **errp);
    /* Main thread, big lock held: return when every vCPU is out of guest
     * mode and parked; resume lets them run again. */
    void (*pause_all)(void);
    void (*resume_all)(void);
    /* Put every vCPU in its power-on state (vCPUs paused). */
    void (*reset_vcpus)(void);
    /* Before exit: join threads, close fds. */
    void (*shutdown)(void);
} AccelOps;

extern const AccelOps kvm_accel_ops;
extern const AccelOps qtest_accel_ops;   /* accel/qtest: no vCPUs */
extern const AccelOps *current_accel;

#endif
