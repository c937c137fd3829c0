/* The KVM accelerator: the VM file descriptor, memslots, irqchip, vCPUs. */
#ifndef ACCEL_KVM_H
#define ACCEL_KVM_H

#include "system/system.h"
#include <linux/kvm.h>

typedef struct KVMState {
    int fd;                  /* /dev/kvm */
    int vm_fd;
    int vcpu_mmap_size;
    bool irqchip_in_kernel;  /* PIC, IOAPIC, PIT and LAPICs (on) */
    bool irqchip_split;      /* only the LAPICs (split) */
    bool readonly_mem;
    bool dirty_logging;
    struct kvm_cpuid2 *supported_cpuid;
} KVMState;

extern KVMState *kvm_state;

static inline bool kvm_enabled(void) { return kvm_state != NULL; }
bool kvm_irqchip_in_kernel(void);
/* kernel-irqchip=split: LAPICs in KVM, PIC/IOAPIC/PIT in userspace. */
bool kvm_irqchip_is_split(void);
/* Whether KVM has the LAPICs (kernel-irqchip=on or split). */
bool kvm_lapic_in_kernel(void);
int kvm_vm_ioctl(unsigned long req, void *arg);
/* split: an interrupt message to KVM's LAPICs, and the userspace IOAPIC's
 * entry for a pin, mirrored in KVM's routes so that KVM reports the EOIs
 * of level-triggered vectors (KVM_EXIT_IOAPIC_EOI). */
void kvm_send_msi(uint64_t addr, uint32_t data);
void kvm_ioapic_route_changed(int pin, uint64_t addr, uint32_t data,
                              bool masked);
/* split: the userspace PIC's INTR changed; the BSP injects with
 * KVM_INTERRUPT when KVM says it can take an ExtINT. */
void kvm_cpu_pic_intr_changed(int level);
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
/* The in-kernel LAPIC timers' current counts, read when the VM stops and
 * put back before it runs again (vCPUs parked; no-ops without them). */
void kvm_cpus_hold_timers(void);
void kvm_cpus_release_timers(void);
void kvm_cpus_shutdown(void);
struct kvm_cpuid2 *kvm_get_supported_cpuid(void);
/* "info registers": every vCPU's registers and code bytes. */
void kvm_cpu_dump_all(GString *out);

/* For the monitor.  Those reading vCPU state want the vCPUs paused: a vCPU
 * ioctl waits while its vCPU is in KVM_RUN. */
unsigned kvm_cpu_count(void);
int kvm_cpu_thread_id(unsigned index);
void kvm_cpu_dump(unsigned index, GString *out);
bool kvm_cpu_get_regs(unsigned index, struct kvm_regs *regs,
                      struct kvm_sregs *sregs);
/* Linear (virtual) to physical through the vCPU's page tables. */
bool kvm_cpu_translate(unsigned index, uint64_t vaddr, uint64_t *paddr);
/* How often an interrupt line was raised through kvm_set_irq(). */
#define KVM_NR_COUNTED_GSI 24
uint64_t kvm_irq_count(int gsi);

/* hw/intc/kvm-irqchip.c: the in-kernel PIC, IOAPIC and PIT as devices. */
bool kvm_irqchip_create(Error **errp);
bool kvm_irqchip_create_devices(Error **errp);
/* While the VM is stopped the in-kernel PIT's state is held in userspace
 * and the kernel's timer idle, so no ticks pile up (no-ops without it). */
void kvm_pit_hold(void);
void kvm_pit_release(void);

#endif
