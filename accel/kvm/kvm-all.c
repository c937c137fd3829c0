/*
 * The KVM VM: /dev/kvm, the VM, guest memory slots synced from the flat
 * view of system memory, the in-kernel irqchip and its GSI routing.
 */
#include "accel/kvm.h"
#include "system/accel.h"
#include "system/memory.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KVM_TSS_ADDR          0xfeffd000
#define KVM_IDENTITY_MAP_ADDR 0xfeffc000
#define MAX_SLOTS 64

KVMState *kvm_state;

typedef struct Slot {
    bool used;
    uint64_t gpa, size;
    void *hva;
    uint32_t flags;
} Slot;

static Slot slots[MAX_SLOTS];
static MemoryListener kvm_memory_listener;
static uint64_t irq_counts[KVM_NR_COUNTED_GSI];

bool kvm_irqchip_in_kernel(void)
{
    return kvm_state && kvm_state->irqchip_in_kernel;
}

bool kvm_irqchip_is_split(void)
{
    return kvm_state && kvm_state->irqchip_split;
}

bool kvm_lapic_in_kernel(void)
{
    return kvm_irqchip_in_kernel() || kvm_irqchip_is_split();
}

void kvm_send_msi(uint64_t addr, uint32_t data)
{
    struct kvm_msi msi = {
        .address_lo = (uint32_t)addr, .address_hi = addr >> 32, .data = data,
    };
    if (ioctl(kvm_state->vm_fd, KVM_SIGNAL_MSI, &msi) < 0) {
        error_report("KVM_SIGNAL_MSI: %s", strerror(errno));
    }
}

/*
 * split: GSI n is IOAPIC pin n as an MSI route.  Interrupts are sent with
 * KVM_SIGNAL_MSI; the routes only tell KVM which vectors are level-triggered
 * IOAPIC ones, whose EOIs it then reports to us.
 */
#define SPLIT_IOAPIC_PINS 24
static struct kvm_irq_routing_entry split_routes[SPLIT_IOAPIC_PINS];

void kvm_ioapic_route_changed(int pin, uint64_t addr, uint32_t data,
                              bool masked)
{
    struct kvm_irq_routing *r;

    if (!kvm_irqchip_is_split() || pin < 0 || pin >= SPLIT_IOAPIC_PINS) {
        return;
    }
    split_routes[pin] = (struct kvm_irq_routing_entry) {
        .gsi = pin, .type = KVM_IRQ_ROUTING_MSI,
        .u.msi = { .address_lo = (uint32_t)addr, .address_hi = addr >> 32,
                   .data = data },
    };
    r = g_malloc0(sizeof(*r) + sizeof(split_routes));
    for (int i = 0; i < SPLIT_IOAPIC_PINS; i++) {
        if (split_routes[i].type == KVM_IRQ_ROUTING_MSI) {  /* set yet */
            r->entries[r->nr++] = split_routes[i];
        }
    }
    if (ioctl(kvm_state->vm_fd, KVM_SET_GSI_ROUTING, r) < 0) {
        error_report("KVM_SET_GSI_ROUTING: %s", strerror(errno));
    }
    g_free(r);
}

int kvm_vm_ioctl(unsigned long req, void *arg)
{
    int r = ioctl(kvm_state->vm_fd, req, arg);
    return r < 0 ? -errno : r;
}

static void set_slot(int id, Slot *s, uint64_t size)
{
    struct kvm_userspace_memory_region r = {
        .slot = id,
        .flags = s->flags,
        .guest_phys_addr = s->gpa,
        .memory_size = size,
        .userspace_addr = (uintptr_t)s->hva,
    };
    if (ioctl(kvm_state->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
        error_report("KVM_SET_USER_MEMORY_REGION slot %d gpa 0x%" PRIx64
                     " size 0x%" PRIx64 ": %s", id, s->gpa, size,
                     strerror(errno));
        abort();
    }
}

/* ROM, read-only aliases and ROM devices (whose writes must exit). */
static bool slot_readonly(const FlatRange *r)
{
    return r->readonly || r->mr->ops;
}

static uint32_t slot_flags(const FlatRange *r)
{
    uint32_t flags = 0;
    if (slot_readonly(r) && kvm_state->readonly_mem) {
        flags |= KVM_MEM_READONLY;
    }
    if (kvm_state->dirty_logging && !slot_readonly(r)) {
        flags |= KVM_MEM_LOG_DIRTY_PAGES;
    }
    return flags;
}

/* Make the memslots match the RAM ranges of the new flat view. */
static void kvm_memory_commit(MemoryListener *l, AddressSpace *as,
                              const FlatView *view)
{
    Slot want[MAX_SLOTS];
    unsigned nwant = 0;
    const uint64_t page = 4096;

    for (unsigned i = 0; i < view->nr; i++) {
        const FlatRange *r = &view->ranges[i];
        if (!memory_region_reads_ram(r->mr)) {
            continue;       /* I/O, or a ROM device out of ROMD mode */
        }
        uint64_t start = ALIGN_UP(r->start, page);
        uint64_t end = ALIGN_DOWN(r->end, page);
        if (start >= end) {
            continue;   /* sub-page RAM is served through MMIO exits */
        }
        if (slot_readonly(r) && !kvm_state->readonly_mem) {
            /* No read-only slots: ROM stays MMIO; cannot execute from it. */
            continue;
        }
        g_assert(nwant < MAX_SLOTS);
        want[nwant++] = (Slot) {
            .used = true, .gpa = start, .size = end - start,
            .hva = r->mr->ram + r->offset + (start - r->start),
            .flags = slot_flags(r),
        };
    }
    /* Remove slots that are no longer wanted exactly as they are... */
    for (int id = 0; id < MAX_SLOTS; id++) {
        bool keep = false;
        if (!slots[id].used) {
            continue;
        }
        for (unsigned j = 0; j < nwant; j++) {
            /* Field by field: the padding of the two copies differs. */
            if (want[j].used && want[j].gpa == slots[id].gpa &&
                want[j].size == slots[id].size &&
                want[j].hva == slots[id].hva &&
                want[j].flags == slots[id].flags) {
                want[j].used = false;     /* already there */
                keep = true;
                break;
            }
        }
        if (!keep) {
            set_slot(id, &slots[id], 0);
            slots[id].used = false;
        }
    }
    /* ...then add the new ones, so no two slots ever overlap. */
    for (unsigned j = 0; j < nwant; j++) {
        if (!want[j].used) {
            continue;
        }
        int id = 0;
        while (slots[id].used) {
            id++;
        }
        slots[id] = want[j];
        set_slot(id, &slots[id], slots[id].size);
    }
}

void kvm_set_irq(int gsi, int level)
{
    struct kvm_irq_level irq = { .irq = gsi, .level = level };
    if (ioctl(kvm_state->vm_fd, KVM_IRQ_LINE, &irq) < 0) {
        error_report("KVM_IRQ_LINE %d: %s", gsi, strerror(errno));
    }
    if (level && gsi >= 0 && gsi < KVM_NR_COUNTED_GSI) {
        irq_counts[gsi]++;
    }
}

uint64_t kvm_irq_count(int gsi)
{
    return gsi >= 0 && gsi < KVM_NR_COUNTED_GSI ? irq_counts[gsi] : 0;
}

/*
 * Guest time stands still while the VM is stopped, as in QEMU: the kvmclock
 * is read when the VM stops and written back before the vCPUs run again,
 * and the in-kernel PIT and LAPIC timers, which count host time, are held
 * (kvm_pit_hold, kvm_cpus_hold_timers), so a guest sees no jump and no
 * burst of missed ticks across stop/cont.  Reset and monitor pauses do not
 * change the run state and leave all this alone.
 */
static bool kvm_has_adjust_clock;

static void kvm_vm_runstate(RunState state, void *opaque)
{
    static struct kvm_clock_data saved;
    static bool have_saved, was_running;
    bool running = state == RUN_STATE_RUNNING;

    if (running == was_running) {
        return;
    }
    was_running = running;
    if (!running) {
        memset(&saved, 0, sizeof(saved));
        have_saved = kvm_has_adjust_clock &&
                     ioctl(kvm_state->vm_fd, KVM_GET_CLOCK, &saved) == 0;
        if (kvm_has_adjust_clock && !have_saved) {
            warn_report("KVM_GET_CLOCK: %s", strerror(errno));
        }
        kvm_pit_hold();
        kvm_cpus_hold_timers();
        return;
    }
    if (have_saved) {
        struct kvm_clock_data data = { .clock = saved.clock };
        if (ioctl(kvm_state->vm_fd, KVM_SET_CLOCK, &data) < 0) {
            warn_report("KVM_SET_CLOCK: %s", strerror(errno));
        }
        have_saved = false;
    }
    /* The LAPICs first: once the PIT runs it may raise interrupts in them,
     * which a KVM_SET_LAPIC racing with it could drop. */
    kvm_cpus_release_timers();
    kvm_pit_release();
}

/*
 * GSI routing like a PC with an MP table/MADT override: GSI 0-15 reach the
 * 8259 pair (except the cascade), GSI 0 reaches IOAPIC pin 2, others pin n.
 */
static bool setup_irq_routing(Error **errp)
{
    struct kvm_irq_routing *r = g_malloc0(sizeof(*r) +
                                          48 * sizeof(r->entries[0]));
    unsigned n = 0;
    for (unsigned gsi = 0; gsi < 16; gsi++) {
        if (gsi == 2) {
            continue;
        }
        r->entries[n++] = (struct kvm_irq_routing_entry) {
            .gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
            .u.irqchip = { .irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
                                                KVM_IRQCHIP_PIC_SLAVE,
                           .pin = gsi % 8 },
        };
    }
    for (unsigned gsi = 0; gsi < 24; gsi++) {
        if (gsi == 2) {
            continue;
        }
        r->entries[n++] = (struct kvm_irq_routing_entry) {
            .gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
            .u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC,
                           .pin = gsi == 0 ? 2 : gsi },
        };
    }
    r->nr = n;
    int ret = ioctl(kvm_state->vm_fd, KVM_SET_GSI_ROUTING, r);
    g_free(r);
    if (ret < 0) {
        error_setg(errp, "KVM_SET_GSI_ROUTING: %s", strerror(errno));
        return false;
    }
    return true;
}

/*
 * The in-kernel PIC, IOAPIC and PIT.  The first memslot update after
 * KVM_CREATE_IRQCHIP waits out a kernel grace period (5-7 ms on this host,
 * against 0.1 ms for one before it), so the board calls this after its
 * memory map has reached the memslots, and a direct-boot guest starts with
 * no memslot update after it.
 */
bool kvm_irqchip_create(Error **errp)
{
    KVMState *s = kvm_state;

    if (ioctl(s->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
        error_setg(errp, "Could not create the in-kernel irqchip: %s",
                   strerror(errno));
        return false;
    }
    /* The kernel also serves port 0x61 (PIT gate and speaker bits). */
    struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
    if (ioctl(s->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
        error_setg(errp, "Could not create the in-kernel PIT: %s",
                   strerror(errno));
        return false;
    }
    return setup_irq_routing(errp);
}

static bool kvm_init(MachineState *ms, Error **errp)
{
    KVMState *s = g_new0(KVMState, 1);
    int ret;

    s->fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (s->fd < 0) {
        error_setg(errp, "Could not access KVM kernel module: %s",
                   strerror(errno));
        goto fail;
    }
    ret = ioctl(s->fd, KVM_GET_API_VERSION, 0);
    if (ret != KVM_API_VERSION) {
        error_setg(errp, "kvm version %d is not supported (need %d)", ret,
                   KVM_API_VERSION);
        goto fail;
    }
    do {
        s->vm_fd = ioctl(s->fd, KVM_CREATE_VM, 0);
    } while (s->vm_fd < 0 && errno == EINTR);
    if (s->vm_fd < 0) {
        error_setg(errp, "failed to initialize kvm: %s", strerror(errno));
        goto fail;
    }
    s->vcpu_mmap_size = ioctl(s->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (s->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
        error_setg(errp, "KVM_GET_VCPU_MMAP_SIZE failed");
        goto fail;
    }
    if (ioctl(s->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0) {
        error_setg(errp, "kvm lacks KVM_CAP_USER_MEMORY");
        goto fail;
    }
    s->readonly_mem = ioctl(s->vm_fd, KVM_CHECK_EXTENSION,
                            KVM_CAP_READONLY_MEM) > 0;
    kvm_state = s;

    if (ioctl(s->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0) {
        error_setg(errp, "KVM_SET_TSS_ADDR: %s", strerror(errno));
        goto fail;
    }
    uint64_t identity = KVM_IDENTITY_MAP_ADDR;
    if (ioctl(s->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0) {
        error_setg(errp, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
        goto fail;
    }
    if (ms->kernel_irqchip == KERNEL_IRQCHIP_ON) {
        /* Created by kvm_irqchip_create(), once the board's memory map is
         * in the memslots. */
        s->irqchip_in_kernel = true;
    } else if (ms->kernel_irqchip == KERNEL_IRQCHIP_SPLIT) {
        /* LAPICs in the kernel; PIC, IOAPIC and PIT are ours. */
        struct kvm_enable_cap cap = {
            .cap = KVM_CAP_SPLIT_IRQCHIP, .args[0] = SPLIT_IOAPIC_PINS,
        };
        if (ioctl(s->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SPLIT_IRQCHIP) <= 0) {
            error_setg(errp, "kernel-irqchip=split: KVM lacks "
                       "KVM_CAP_SPLIT_IRQCHIP");
            goto fail;
        }
        if (ioctl(s->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
            error_setg(errp, "kernel-irqchip=split: %s", strerror(errno));
            goto fail;
        }
        s->irqchip_split = true;
    }
    kvm_get_supported_cpuid();      /* cached for vCPU creation */
    /* kernel-irqchip=off: every interrupt controller is in userspace. */
    kvm_memory_listener.commit = kvm_memory_commit;
    memory_listener_register(&kvm_memory_listener, &address_space_memory);
    kvm_has_adjust_clock = ioctl(s->vm_fd, KVM_CHECK_EXTENSION,
                                 KVM_CAP_ADJUST_CLOCK) > 0;
    runstate_add_notifier(kvm_vm_runstate, NULL);
    return true;

fail:
    if (s->fd >= 0) {
        close(s->fd);
    }
    g_free(s);
    kvm_state = NULL;
    return false;
}

static void resync_slot_flags(void)
{
    for (int id = 0; id < MAX_SLOTS; id++) {
        if (slots[id].used && !(slots[id].flags & KVM_MEM_READONLY)) {
            slots[id].flags = kvm_state->dirty_logging ?
                              KVM_MEM_LOG_DIRTY_PAGES : 0;
            set_slot(id, &slots[id], slots[id].size);
        }
    }
}

void kvm_dirty_log_start(void)
{
    kvm_state->dirty_logging = true;
    resync_slot_flags();
}

void kvm_dirty_log_stop(void)
{
    kvm_state->dirty_logging = false;
    resync_slot_flags();
}

bool kvm_dirty_log_sync(KVMDirtyFn *fn, void *opaque)
{
    for (int id = 0; id < MAX_SLOTS; id++) {
        if (!slots[id].used || !(slots[id].flags & KVM_MEM_LOG_DIRTY_PAGES)) {
            continue;
        }
        uint64_t pages = slots[id].size / 4096;
        size_t bytes = ALIGN_UP(pages, 64) / 8;
        unsigned long *bitmap = g_malloc0(bytes);
        struct kvm_dirty_log log = { .slot = id, .dirty_bitmap = bitmap };
        if (ioctl(kvm_state->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
            error_report("KVM_GET_DIRTY_LOG: %s", strerror(errno));
            g_free(bitmap);
            return false;
        }
        fn(slots[id].gpa, pages, bitmap, opaque);
        g_free(bitmap);
    }
    return true;
}

static void kvm_shutdown(void)
{
    kvm_cpus_shutdown();
}

const AccelOps kvm_accel_ops = {
    .name = "kvm",
    .init = kvm_init,
    .start_vcpus = kvm_cpus_start,
    .pause_all = kvm_cpus_pause_all,
    .resume_all = kvm_cpus_resume_all,
    .reset_vcpus = kvm_cpus_reset_all,
    .shutdown = kvm_shutdown,
};
