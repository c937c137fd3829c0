/* The KVM accelerator: the VM file descriptor, memslots, irqchip, vCPUs. */
#ifndef ACCEL_KVM_H
#define ACCEL_KVM_H

#include "system/system.h"
#include <linux/kvm.h>

typedef struct KVMState {
    int fd;                  /* /dev/kvm */
    int vm_fd;
    int vcpu_mmap_size;
    bool irqchip_in_kernel;
    bool readonly_mem;
    bool dirty_logging;
    struct kvm_cpuid2 *supported_cpuid;
} KVMState;

extern KVMState *kvm_state;

static inline bool kvm_enabled(void) { return kvm_state != NULL; }
bool kvm_irqchip_in_kernel(void);
int kvm_vm_ioctl(unsigned long req, void *arg);
/* Drive an interrupt line (GSI) of the in-kernel irqchip. */
void kvm_set_irq(int gsi, int level);

/* Dirty page tracking for migration: bit n of the bitmap = page gpa + n*4K. */
void kvm_dirty_log_start(void);
void kvm_dirty_log_stop(void);
typedef void KVMDirtyFn(uint64_t gpa, uint64_t npages,
                        const unsigned long *bitmap, void *opaque);
bool kvm_dirty_log_sync(KVMDirtyFn *fn, void *opaque);

/* Provided by kvm-cpu.c */
bool kvm_cpus_start(MachineState *ms, Error **errp);
void kvm_cpus_pause_all(void);
void kvm_cpus_resume_all(void);
void kvm_cpus_reset_all(void);
void kvm_cpus_shutdown(void);
struct kvm_cpuid2 *kvm_get_supported_cpuid(void);
/* "info registers": every vCPU's registers and code bytes. */
void kvm_cpu_dump_all(GString *out);

/* hw/intc/kvm-irqchip.c: the in-kernel PIC, IOAPIC and PIT as devices. */
void kvm_irqchip_create_devices(void);

#endif
