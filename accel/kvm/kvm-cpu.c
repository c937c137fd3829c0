/*
 * vCPUs: one thread each, running KVM_RUN and dispatching exits to the
 * memory API with the big lock held.  The main thread pauses them (signal +
 * immediate_exit) to reset, stop or change the machine.
 */
#include "accel/kvm.h"
#include "system/accel.h"
#include "hw/i386/x86.h"
#include "hw/i386/cpu-model.h"
#include "hw/intc/apic.h"
#include "hw/intc/i8259.h"
#include "hw/intc/ioapic.h"
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define SIG_KICK SIGUSR1
#define MSR_IA32_APICBASE          0x1b
#define MSR_IA32_APICBASE_BSP      (1 << 8)
#define MSR_IA32_APICBASE_ENABLE   (1 << 11)
#define MSR_IA32_TSC               0x10
#define MSR_IA32_MISC_ENABLE       0x1a0
#define MSR_IA32_CR_PAT            0x277
#define MSR_IA32_SYSENTER_CS       0x174
#define MSR_IA32_SYSENTER_ESP      0x175
#define MSR_IA32_SYSENTER_EIP      0x176
#define MSR_STAR                   0xc0000081
#define MSR_LSTAR                  0xc0000082
#define MSR_CSTAR                  0xc0000083
#define MSR_FMASK                  0xc0000084
#define MSR_KERNEL_GS_BASE         0xc0000102

typedef struct CPUState {
    int index;
    int fd;
    struct kvm_run *run;
    pthread_t thread;
    bool created;
    bool stop;             /* main thread asks it to park */
    bool stopped;          /* it is parked */
    bool blocked;          /* parked until reset (shutdown, internal error) */
    bool reset_pending;
    bool quit;
    /* Userspace LAPIC (kernel-irqchip=off): asleep in HLT, or an AP
     * waiting for STARTUP; 'wake' is set by kicks (with park_mutex). */
    bool halted;
    bool wait_sipi;
    bool wake;
    bool io_pending;       /* the last exit was I/O or MMIO, not completed */
    pid_t tid;             /* for query-cpus-fast and info cpus */
    struct kvm_lapic_state initial_lapic;
    /* The LAPIC timer while the VM is stopped (kvm_cpus_hold_timers). */
    bool timer_held;
    uint32_t held_lvtt, held_tmict, held_tdcr, held_tmcct;
} CPUState;

static CPUState *cpus;
static unsigned nr_cpus;
static GCond cpu_cond;            /* with the big lock's mutex */
static GMutex park_mutex;
static __thread CPUState *current_cpu;

/*
 * Off by default: with KESTREL_BENCH_TIMESTAMPS in the environment (read
 * once, at vCPU creation) the BSP prints the CLOCK_MONOTONIC time of its
 * first KVM_RUN and of its first exit to stderr, for bench/run.py's
 * start-up figure.  0 = off, 1 = first entry pending, 2 = first exit
 * pending.
 */
static int bench_timestamps;

static void bench_timestamp(const char *what)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    fprintf(stderr, "kestrel-bench: %s %lld\n", what,
            (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

/* The kick: make KVM_RUN return now or refuse to enter. */
static void kick_handler(int sig)
{
    if (current_cpu) {
        current_cpu->run->immediate_exit = 1;
    }
}

static void cpu_kick(CPUState *cpu)
{
    cpu->run->immediate_exit = 1;
    pthread_kill(cpu->thread, SIG_KICK);
    g_cond_broadcast(&cpu_cond);    /* and out of a userspace HLT */
}

struct kvm_cpuid2 *kvm_get_supported_cpuid(void)
{
    if (kvm_state->supported_cpuid) {
        return kvm_state->supported_cpuid;
    }
    for (int n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + n * sizeof(c->entries[0]));
        c->nent = n;
        if (ioctl(kvm_state->fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            kvm_state->supported_cpuid = c;
            return c;
        }
        g_free(c);
        if (errno != E2BIG) {
            break;
        }
    }
    return NULL;
}

/* What a vCPU may have besides the -cpu model: CPUID bits kestrel sets
 * itself (hypervisor) or cannot give (x2APIC and TSC-deadline without
 * KVM's LAPIC). */
static void cpuid_fixup(struct kvm_cpuid_entry2 *e)
{
    if (e->function == 1) {
        e->ecx |= 1u << 31;                  /* running on a hypervisor */
        if (!kvm_lapic_in_kernel()) {
            /* our LAPICs have neither x2APIC nor TSC-deadline */
            e->ecx &= ~((1u << 21) | (1u << 24));
        }
    }
}

/* Once: warn about (or refuse) -cpu flags this host cannot give. */
static bool check_cpu_flags(Error **errp)
{
    struct kvm_cpuid2 *sup = kvm_get_supported_cpuid();
    if (!sup) {
        error_setg(errp, "KVM_GET_SUPPORTED_CPUID failed");
        return false;
    }
    g_autofree struct kvm_cpuid2 *c =
        g_memdup2(sup, sizeof(*c) + sup->nent * sizeof(c->entries[0]));
    for (unsigned i = 0; i < c->nent; i++) {
        cpuid_fixup(&c->entries[i]);
    }
    return x86_cpu_check_supported(c, errp);
}

static bool setup_cpuid(CPUState *cpu, Error **errp)
{
    struct kvm_cpuid2 *sup = kvm_get_supported_cpuid();
    if (!sup) {
        error_setg(errp, "KVM_GET_SUPPORTED_CPUID failed");
        return false;
    }
    struct kvm_cpuid2 *c = g_malloc(sizeof(*c) + sup->nent * sizeof(c->entries[0]));
    c->nent = sup->nent;
    memcpy(c->entries, sup->entries, sup->nent * sizeof(c->entries[0]));
    for (unsigned i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        switch (e->function) {
        case 1:
            /* APIC id and logical processor count */
            e->ebx = (e->ebx & 0xffff) | (nr_cpus << 16) |
                     ((uint32_t)cpu->index << 24);
            if (nr_cpus > 1) {
                e->edx |= 1u << 28;          /* HTT: count is valid */
            }
            break;
        case 0xb:
        case 0x1f:
            e->edx = cpu->index;             /* x2APIC id */
            break;
        }
        cpuid_fixup(e);
        x86_cpu_apply_cpuid(e);              /* -cpu model and flags */
    }
    int r = ioctl(cpu->fd, KVM_SET_CPUID2, c);
    g_free(c);
    if (r < 0) {
        error_setg(errp, "KVM_SET_CPUID2: %s", strerror(errno));
        return false;
    }
    return true;
}

static uint32_t cpuid_signature_eax(void)
{
    struct kvm_cpuid2 *sup = kvm_get_supported_cpuid();
    for (unsigned i = 0; sup && i < sup->nent; i++) {
        if (sup->entries[i].function == 1) {
            return sup->entries[i].eax;
        }
    }
    return 0x600;
}

static void set_segment(struct kvm_segment *s, uint16_t sel, uint64_t base,
                        uint32_t limit, uint8_t type, bool code32)
{
    *s = (struct kvm_segment) {
        .selector = sel, .base = base, .limit = limit, .type = type,
        .present = 1, .s = 1, .db = code32, .g = limit > 0xfffff,
    };
}

/* Power-on state per the SDM, or the direct-boot entry state for the BSP. */
static void cpu_reset(CPUState *cpu)
{
    struct kvm_sregs sregs;
    struct kvm_regs regs = { .rflags = 0x2 };
    bool bsp = cpu->index == 0;

    ioctl(cpu->fd, KVM_GET_SREGS, &sregs);
    memset(&sregs.cs, 0, sizeof(sregs) - offsetof(struct kvm_sregs, cs));
    set_segment(&sregs.cs, 0xf000, 0xffff0000, 0xffff, 0xb, false);
    set_segment(&sregs.ds, 0, 0, 0xffff, 0x3, false);
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    sregs.ldt = (struct kvm_segment) { .limit = 0xffff, .type = 2, .present = 1 };
    sregs.tr = (struct kvm_segment) { .limit = 0xffff, .type = 0xb, .present = 1 };
    sregs.gdt.limit = sregs.idt.limit = 0xffff;
    sregs.cr0 = 0x60000010;
    sregs.apic_base = 0xfee00000 | MSR_IA32_APICBASE_ENABLE |
                      (bsp ? MSR_IA32_APICBASE_BSP : 0);
    regs.rip = 0xfff0;
    regs.rdx = cpuid_signature_eax();

    if (bsp && x86_boot_entry.enabled) {
        const X86BootEntry *b = &x86_boot_entry;
        set_segment(&sregs.cs, b->cs_selector, 0, 0xffffffff, 0xb, true);
        set_segment(&sregs.ds, b->ds_selector, 0, 0xffffffff, 0x3, true);
        sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
        sregs.gdt.base = b->gdt_base;
        sregs.gdt.limit = b->gdt_limit;
        sregs.idt.limit = 0;
        sregs.cr0 = 0x11;     /* PE, ET; paging and caches as the kernel wants */
        regs = (struct kvm_regs) {
            .rip = b->eip, .rax = b->eax, .rbx = b->ebx, .rcx = b->ecx,
            .rdx = b->edx, .rsi = b->esi, .rdi = b->edi, .rsp = b->esp,
            .rbp = b->ebp, .rflags = 0x2,
        };
    }
    ioctl(cpu->fd, KVM_SET_SREGS, &sregs);
    ioctl(cpu->fd, KVM_SET_REGS, &regs);

    struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
    ioctl(cpu->fd, KVM_SET_FPU, &fpu);
    struct kvm_debugregs dbg = { .dr6 = 0xffff0ff0, .dr7 = 0x400 };
    ioctl(cpu->fd, KVM_SET_DEBUGREGS, &dbg);

    static const uint32_t msr_index[] = {
        MSR_IA32_TSC, MSR_IA32_MISC_ENABLE, MSR_IA32_CR_PAT,
        MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
        MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_FMASK, MSR_KERNEL_GS_BASE,
    };
    static const uint64_t msr_value[] = {
        0, 1 /* fast strings */, 0x0007040600070406ULL, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[ARRAY_SIZE(msr_index)];
    } msrs = { .hdr.nmsrs = ARRAY_SIZE(msr_index) };
    for (unsigned i = 0; i < ARRAY_SIZE(msr_index); i++) {
        msrs.e[i].index = msr_index[i];
        msrs.e[i].data = msr_value[i];
    }
    ioctl(cpu->fd, KVM_SET_MSRS, &msrs);

    cpu->halted = false;
    cpu->wait_sipi = !bsp;      /* used without KVM's LAPICs */
    if (kvm_lapic_in_kernel()) {
        ioctl(cpu->fd, KVM_SET_LAPIC, &cpu->initial_lapic);
        /* APs wait for INIT/SIPI from the BSP. */
        struct kvm_mp_state mp = {
            .mp_state = bsp ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_UNINITIALIZED,
        };
        ioctl(cpu->fd, KVM_SET_MP_STATE, &mp);
    }
    struct kvm_vcpu_events ev;
    if (ioctl(cpu->fd, KVM_GET_VCPU_EVENTS, &ev) == 0) {
        memset(&ev.exception, 0, sizeof(ev.exception));
        memset(&ev.interrupt, 0, sizeof(ev.interrupt));
        memset(&ev.nmi, 0, sizeof(ev.nmi));
        ev.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
        ioctl(cpu->fd, KVM_SET_VCPU_EVENTS, &ev);
    }
}

/* ---- error reports ---- */

static void dump_segment(GString *out, const char *name,
                         const struct kvm_segment *s)
{
    g_string_append_printf(out, "%-3s=%04x %08" PRIx64 " %08x %08x\n", name,
                           s->selector, (uint64_t)s->base, s->limit,
                           (s->type << 8) | (s->present << 15) |
                           (s->dpl << 13) | (s->s << 12) | (s->db << 22) |
                           (s->g << 23) | (s->l << 21));
}

/* Registers and code bytes around RIP, in the layout QEMU users know. */
static void cpu_dump_state(CPUState *cpu, GString *out)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    if (ioctl(cpu->fd, KVM_GET_REGS, &r) < 0 ||
        ioctl(cpu->fd, KVM_GET_SREGS, &s) < 0) {
        g_string_append(out, "(registers unavailable)\n");
        return;
    }
    bool lm = s.efer & (1 << 10) && s.cs.l;
    if (lm) {
        g_string_append_printf(out,
            "RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n"
            "RSI=%016llx RDI=%016llx RBP=%016llx RSP=%016llx\n"
            "R8 =%016llx R9 =%016llx R10=%016llx R11=%016llx\n"
            "R12=%016llx R13=%016llx R14=%016llx R15=%016llx\n"
            "RIP=%016llx RFL=%08llx\n",
            r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8,
            r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip, r.rflags);
    } else {
        g_string_append_printf(out,
            "EAX=%08llx EBX=%08llx ECX=%08llx EDX=%08llx\n"
            "ESI=%08llx EDI=%08llx EBP=%08llx ESP=%08llx\n"
            "EIP=%08llx EFL=%08llx\n",
            r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp, r.rip,
            r.rflags);
    }
    dump_segment(out, "ES", &s.es);
    dump_segment(out, "CS", &s.cs);
    dump_segment(out, "SS", &s.ss);
    dump_segment(out, "DS", &s.ds);
    dump_segment(out, "FS", &s.fs);
    dump_segment(out, "GS", &s.gs);
    dump_segment(out, "LDT", &s.ldt);
    dump_segment(out, "TR", &s.tr);
    g_string_append_printf(out, "GDT=     %08llx %08x\nIDT=     %08llx %08x\n",
                           s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
    g_string_append_printf(out, "CR0=%08llx CR2=%016llx CR3=%016llx "
                           "CR4=%08llx\nEFER=%016llx\n", s.cr0, s.cr2, s.cr3,
                           s.cr4, s.efer);
    /* Code bytes: 32 before and 32 after the instruction pointer. */
    uint64_t linear = s.cs.base + r.rip;
    g_string_append(out, "Code=");
    for (int i = -32; i < 32; i++) {
        struct kvm_translation t = { .linear_address = linear + i };
        uint8_t byte;
        if (ioctl(cpu->fd, KVM_TRANSLATE, &t) < 0 || !t.valid ||
            !address_space_read(&address_space_memory, t.physical_address,
                                &byte, 1)) {
            g_string_append(out, i == 0 ? "<\?\?> " : "\?\? ");
            continue;
        }
        g_string_append_printf(out, i == 0 ? "<%02x> " : "%02x ", byte);
    }
    g_string_append_c(out, '\n');
}

unsigned kvm_cpu_count(void)
{
    return nr_cpus;
}

int kvm_cpu_thread_id(unsigned index)
{
    return index < nr_cpus ? cpus[index].tid : -1;
}

bool kvm_cpu_get_regs(unsigned index, struct kvm_regs *regs,
                      struct kvm_sregs *sregs)
{
    return index < nr_cpus &&
           ioctl(cpus[index].fd, KVM_GET_REGS, regs) == 0 &&
           ioctl(cpus[index].fd, KVM_GET_SREGS, sregs) == 0;
}

bool kvm_cpu_translate(unsigned index, uint64_t vaddr, uint64_t *paddr)
{
    struct kvm_translation t = { .linear_address = vaddr };
    if (index >= nr_cpus || ioctl(cpus[index].fd, KVM_TRANSLATE, &t) < 0 ||
        !t.valid) {
        return false;
    }
    *paddr = t.physical_address;
    return true;
}

void kvm_cpu_dump(unsigned index, GString *out)
{
    if (index < nr_cpus) {
        cpu_dump_state(&cpus[index], out);
    }
}

void kvm_cpu_dump_all(GString *out)
{
    for (unsigned i = 0; i < nr_cpus; i++) {
        g_string_append_printf(out, "CPU#%u\n", i);
        cpu_dump_state(&cpus[i], out);
    }
}

static void report_internal_error(CPUState *cpu)
{
    struct kvm_run *run = cpu->run;
    GString *out = g_string_new(NULL);
    if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
        g_string_append_printf(out, "KVM internal error. Suberror: %u\n",
                               run->internal.suberror);
        for (unsigned i = 0; i < run->internal.ndata && i < 16; i++) {
            g_string_append_printf(out, "extra data[%u]: 0x%016llx\n", i,
                                   run->internal.data[i]);
        }
        if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
            g_string_append(out, "emulation failure\n");
        }
    } else if (run->exit_reason == KVM_EXIT_FAIL_ENTRY) {
        g_string_append_printf(out, "KVM: entry failed, hardware error 0x%llx\n",
                               run->fail_entry.hardware_entry_failure_reason);
    } else {
        g_string_append_printf(out, "KVM: unhandled exit reason %u\n",
                               run->exit_reason);
    }
    cpu_dump_state(cpu, out);
    fputs(out->str, stderr);
    fflush(stderr);
    g_string_free(out, true);
}

/* ---- exits ---- */

static void handle_io(struct kvm_run *run)
{
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    for (uint32_t i = 0; i < run->io.count; i++) {
        address_space_rw(&address_space_io, run->io.port, data, run->io.size,
                         run->io.direction == KVM_EXIT_IO_OUT);
        data += run->io.size;
    }
}

/* Returns false when the vCPU must stay parked until the machine resets. */
static bool handle_exit(CPUState *cpu)
{
    struct kvm_run *run = cpu->run;
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        handle_io(run);
        return true;
    case KVM_EXIT_MMIO:
        address_space_rw(&address_space_memory, run->mmio.phys_addr,
                         run->mmio.data, run->mmio.len, run->mmio.is_write);
        return true;
    case KVM_EXIT_INTR:
    case KVM_EXIT_IRQ_WINDOW_OPEN:
    case KVM_EXIT_DEBUG:
        return true;
    case KVM_EXIT_HLT:
        /* Only without KVM's LAPICs: sleep until ours has something. */
        cpu->halted = true;
        return true;
    case KVM_EXIT_IOAPIC_EOI:
        ioapic_eoi_broadcast(run->eoi.vector);
        return true;
    case KVM_EXIT_SHUTDOWN:
        /* Triple fault: the machine resets (or exits with -no-reboot). */
        qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
        return false;
    case KVM_EXIT_SYSTEM_EVENT:
        switch (run->system_event.type) {
        case KVM_SYSTEM_EVENT_RESET:
            qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
            break;
        case KVM_SYSTEM_EVENT_CRASH:
            qemu_system_shutdown_request(SHUTDOWN_CAUSE_GUEST_PANIC);
            break;
        default:
            qemu_system_shutdown_request(SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
            break;
        }
        return false;
    default:
        report_internal_error(cpu);
        qemu_system_internal_error();
        return false;
    }
}

/*
 * KVM finishes an I/O or MMIO exit (an IN's value into AL, RIP past the
 * instruction) in the next KVM_RUN.  Do that now, running no guest code,
 * before the vCPU parks or its registers are reset: otherwise the late
 * completion lands on the new state.  A string instruction may exit again.
 */
static void complete_io(CPUState *cpu)
{
    for (int i = 0; cpu->io_pending && i < 4096; i++) {
        cpu->run->immediate_exit = 1;
        int r = ioctl(cpu->fd, KVM_RUN, 0);
        cpu->run->immediate_exit = 0;
        cpu->io_pending = false;
        if (r == 0 && (cpu->run->exit_reason == KVM_EXIT_IO ||
                       cpu->run->exit_reason == KVM_EXIT_MMIO)) {
            handle_exit(cpu);
            cpu->io_pending = true;
        }
    }
}

/* ---- userspace interrupt controllers (kernel-irqchip=off or split) ---- */

static int pic_intr_level;

static void wake_cpu(CPUState *cpu)
{
    g_mutex_lock(&park_mutex);
    cpu->wake = true;
    if (cpu != current_cpu) {
        cpu_kick(cpu);
    }
    g_mutex_unlock(&park_mutex);
}

void kvm_cpu_pic_intr_changed(int level)
{
    pic_intr_level = level;
    if (level && nr_cpus && cpus[0].created) {
        wake_cpu(&cpus[0]);
    }
}

static int apic_hook_current_cpu(void)
{
    return current_cpu ? current_cpu->index : -1;
}

static void apic_hook_kick(int index)
{
    if (index >= 0 && (unsigned)index < nr_cpus && cpus[index].created) {
        wake_cpu(&cpus[index]);
    }
}

static const APICCPUHooks kvm_apic_hooks = {
    .current_cpu = apic_hook_current_cpu,
    .kick = apic_hook_kick,
};

/* Real mode at vector << 12, as a STARTUP IPI leaves an AP. */
static void cpu_start_at_sipi(CPUState *cpu, int vector)
{
    struct kvm_sregs sregs;
    struct kvm_regs regs;

    if (ioctl(cpu->fd, KVM_GET_SREGS, &sregs) < 0 ||
        ioctl(cpu->fd, KVM_GET_REGS, &regs) < 0) {
        return;
    }
    sregs.cs.selector = vector << 8;
    sregs.cs.base = (uint64_t)vector << 12;
    regs.rip = 0;
    ioctl(cpu->fd, KVM_SET_SREGS, &sregs);
    ioctl(cpu->fd, KVM_SET_REGS, &regs);
}

static void inject(CPUState *cpu, int vector)
{
    struct kvm_interrupt irq = { .irq = vector };

    if (vector >= 0 && ioctl(cpu->fd, KVM_INTERRUPT, &irq) < 0) {
        error_report("KVM_INTERRUPT %d: %s", vector, strerror(errno));
    }
}

/*
 * Before KVM_RUN, big lock held.  split: the BSP takes the PIC's ExtINT
 * when KVM says it can.  off: INIT, STARTUP, NMI and interrupts come from
 * our LAPIC; returns false while the vCPU sleeps (HLT with nothing to take,
 * or an AP before its STARTUP).
 */
static bool user_irq_pre_run(CPUState *cpu)
{
    struct kvm_run *run = cpu->run;
    int i = cpu->index;
    bool pending;

    if (kvm_irqchip_is_split()) {
        if (i == 0) {
            if (pic_intr_level && run->ready_for_interrupt_injection) {
                inject(cpu, i8259_acknowledge(i8259_find()));
            }
            run->request_interrupt_window = pic_intr_level;
        }
        return true;
    }
    if (apic_cpu_take_init(i)) {
        complete_io(cpu);
        cpu_reset(cpu);             /* an AP then waits for STARTUP */
    }
    if (cpu->wait_sipi) {
        int vector = apic_cpu_take_sipi(i);
        if (vector < 0) {
            return false;
        }
        cpu_start_at_sipi(cpu, vector);
        cpu->wait_sipi = false;
    }
    if (apic_cpu_take_nmi(i)) {
        ioctl(cpu->fd, KVM_NMI);
        cpu->halted = false;
    }
    pending = apic_cpu_has_interrupt(i);
    if (cpu->halted) {
        if (!pending || !run->if_flag) {
            return false;           /* with IF clear HLT sleeps on */
        }
        cpu->halted = false;
    }
    if (pending && run->ready_for_interrupt_injection) {
        inject(cpu, apic_cpu_get_interrupt(i));
        pending = apic_cpu_has_interrupt(i);
    }
    run->request_interrupt_window = pending;
    return true;
}

/* Sleep without the big lock until a kick, a pause, a reset or quit. */
static void wait_for_wake(CPUState *cpu)
{
    bql_unlock();
    g_mutex_lock(&park_mutex);
    while (!cpu->wake && !cpu->stop && !cpu->quit && !cpu->reset_pending) {
        g_cond_wait(&cpu_cond, &park_mutex);
    }
    cpu->wake = false;
    g_mutex_unlock(&park_mutex);
    bql_lock();
}

static void park(CPUState *cpu)
{
    cpu->stopped = true;
    g_cond_broadcast(&cpu_cond);
    while ((cpu->stop || cpu->blocked) && !cpu->quit) {
        g_cond_wait(&cpu_cond, &park_mutex);
    }
    cpu->stopped = false;
}

static void *vcpu_thread(void *opaque)
{
    CPUState *cpu = opaque;
    current_cpu = cpu;

    g_mutex_lock(&park_mutex);
    cpu->tid = gettid();
    g_cond_broadcast(&cpu_cond);
    g_mutex_unlock(&park_mutex);

    bql_lock();
    for (;;) {
        if (cpu->stop || cpu->blocked) {
            complete_io(cpu);
            bql_unlock();
            g_mutex_lock(&park_mutex);
            park(cpu);
            g_mutex_unlock(&park_mutex);
            bql_lock();
        }
        if (cpu->quit) {
            break;
        }
        if (cpu->reset_pending) {
            cpu->reset_pending = false;
            complete_io(cpu);
            cpu_reset(cpu);
        }
        if (cpu->stop || cpu->blocked) {
            continue;
        }
        if (!kvm_irqchip_in_kernel() && !user_irq_pre_run(cpu)) {
            wait_for_wake(cpu);
            continue;
        }
        bql_unlock();
        if (G_UNLIKELY(bench_timestamps) && cpu->index == 0 &&
            bench_timestamps == 1) {
            bench_timestamp("first-kvm-run-ns");
            bench_timestamps = 2;
        }
        int r = ioctl(cpu->fd, KVM_RUN, 0);
        int err = errno;
        if (G_UNLIKELY(bench_timestamps) && cpu->index == 0) {
            bench_timestamp("first-exit-ns");
            bench_timestamps = 0;
        }
        cpu->run->immediate_exit = 0;
        bql_lock();
        cpu->io_pending = false;        /* this KVM_RUN completed it */
        if (r < 0) {
            if (err == EINTR || err == EAGAIN) {
                continue;
            }
            error_report("KVM_RUN failed: %s", strerror(err));
            cpu->blocked = true;
            qemu_system_internal_error();
            continue;
        }
        if (!handle_exit(cpu)) {
            cpu->blocked = true;
        }
        cpu->io_pending = cpu->run->exit_reason == KVM_EXIT_IO ||
                          cpu->run->exit_reason == KVM_EXIT_MMIO;
    }
    bql_unlock();
    return NULL;
}

bool kvm_cpus_start(MachineState *ms, Error **errp)
{
    struct sigaction sa = { .sa_handler = kick_handler };
    sigemptyset(&sa.sa_mask);
    sigaction(SIG_KICK, &sa, NULL);

    nr_cpus = ms->smp_cpus;
    if (!kvm_lapic_in_kernel()) {
        apic_set_cpu_hooks(&kvm_apic_hooks);
    }
    bench_timestamps = getenv("KESTREL_BENCH_TIMESTAMPS") ? 1 : 0;
    if (!check_cpu_flags(errp)) {
        return false;
    }
    cpus = g_new0(CPUState, nr_cpus);
    for (unsigned i = 0; i < nr_cpus; i++) {
        CPUState *cpu = &cpus[i];
        cpu->index = i;
        cpu->fd = ioctl(kvm_state->vm_fd, KVM_CREATE_VCPU, i);
        if (cpu->fd < 0) {
            error_setg(errp, "kvm_init_vcpu: KVM_CREATE_VCPU %u failed: %s",
                       i, strerror(errno));
            return false;
        }
        cpu->run = mmap(NULL, kvm_state->vcpu_mmap_size,
                        PROT_READ | PROT_WRITE, MAP_SHARED, cpu->fd, 0);
        if (cpu->run == MAP_FAILED) {
            error_setg(errp, "mmap of vCPU %u failed: %s", i, strerror(errno));
            return false;
        }
        if (!setup_cpuid(cpu, errp)) {
            return false;
        }
        if (kvm_lapic_in_kernel()) {
            ioctl(cpu->fd, KVM_GET_LAPIC, &cpu->initial_lapic);
        }
        cpu_reset(cpu);
        cpu->stop = true;       /* parked until vm_start */
        if (pthread_create(&cpu->thread, NULL, vcpu_thread, cpu)) {
            error_setg(errp, "cannot create vCPU thread");
            return false;
        }
        cpu->created = true;
        g_mutex_lock(&park_mutex);
        while (!cpu->tid) {
            g_cond_wait(&cpu_cond, &park_mutex);
        }
        g_mutex_unlock(&park_mutex);
    }
    return true;
}

void kvm_cpus_pause_all(void)
{
    g_mutex_lock(&park_mutex);
    for (unsigned i = 0; i < nr_cpus; i++) {
        cpus[i].stop = true;
        cpu_kick(&cpus[i]);
    }
    g_mutex_unlock(&park_mutex);
    /* Let the vCPUs take the big lock to finish the exit they are in. */
    bql_unlock();
    g_mutex_lock(&park_mutex);
    for (unsigned i = 0; i < nr_cpus; i++) {
        while (!cpus[i].stopped) {
            cpu_kick(&cpus[i]);
            gint64 deadline = g_get_monotonic_time() + 10000;
            g_cond_wait_until(&cpu_cond, &park_mutex, deadline);
        }
    }
    g_mutex_unlock(&park_mutex);
    bql_lock();
}

void kvm_cpus_resume_all(void)
{
    g_mutex_lock(&park_mutex);
    for (unsigned i = 0; i < nr_cpus; i++) {
        cpus[i].stop = false;
    }
    g_cond_broadcast(&cpu_cond);
    g_mutex_unlock(&park_mutex);
}

/*
 * A parked vCPU (every one, as the VM is stopped or paused for the reset)
 * is reset here and now, so that the monitor shows a stopped VM's reset
 * state at once; one not parked yet (just created) when it first runs.
 */
void kvm_cpus_reset_all(void)
{
    g_mutex_lock(&park_mutex);
    for (unsigned i = 0; i < nr_cpus; i++) {
        CPUState *cpu = &cpus[i];
        cpu->blocked = false;
        cpu->timer_held = false;
        if (cpu->stopped && cpu->stop) {
            cpu_reset(cpu);         /* parked until resume_all: ours */
        } else {
            cpu->reset_pending = true;
        }
    }
    g_cond_broadcast(&cpu_cond);
    g_mutex_unlock(&park_mutex);
}

/*
 * The in-kernel LAPIC timer counts host time, so a one-shot armed before
 * stop fires at once after cont.  KVM_GET_LAPIC gives the current count
 * and KVM_SET_LAPIC restarts the timer from the count it is given: read it
 * when the VM stops, put it back before the vCPUs run again.  Only a
 * running one-shot or periodic timer (TSC-deadline mode follows the TSC,
 * which goes on as in QEMU); and only if the guest's timer set-up is the
 * same at cont, so a reset or loaded state wins.  The other registers come
 * from the LAPIC as it is at cont, so interrupts that arrived meanwhile
 * stay pending.
 */
#define APIC_LVTT  0x320
#define APIC_TMICT 0x380
#define APIC_TMCCT 0x390
#define APIC_TDCR  0x3e0
#define APIC_LVTT_MODE (3u << 17)
#define APIC_LVTT_TSC_DEADLINE (2u << 17)

static uint32_t *lapic_reg(struct kvm_lapic_state *s, unsigned reg)
{
    return (uint32_t *)(s->regs + reg);
}

void kvm_cpus_hold_timers(void)
{
    struct kvm_lapic_state s;

    for (unsigned i = 0; kvm_lapic_in_kernel() && i < nr_cpus; i++) {
        CPUState *cpu = &cpus[i];
        cpu->timer_held = false;
        if (ioctl(cpu->fd, KVM_GET_LAPIC, &s) < 0) {
            continue;
        }
        cpu->held_lvtt = *lapic_reg(&s, APIC_LVTT);
        cpu->held_tmict = *lapic_reg(&s, APIC_TMICT);
        cpu->held_tdcr = *lapic_reg(&s, APIC_TDCR);
        cpu->held_tmcct = *lapic_reg(&s, APIC_TMCCT);
        cpu->timer_held = cpu->held_tmict && cpu->held_tmcct &&
            (cpu->held_lvtt & APIC_LVTT_MODE) < APIC_LVTT_TSC_DEADLINE;
    }
}

void kvm_cpus_release_timers(void)
{
    struct kvm_lapic_state s;

    for (unsigned i = 0; i < nr_cpus; i++) {
        CPUState *cpu = &cpus[i];
        if (!cpu->timer_held) {
            continue;
        }
        cpu->timer_held = false;
        if (ioctl(cpu->fd, KVM_GET_LAPIC, &s) < 0 ||
            *lapic_reg(&s, APIC_LVTT) != cpu->held_lvtt ||
            *lapic_reg(&s, APIC_TMICT) != cpu->held_tmict ||
            *lapic_reg(&s, APIC_TDCR) != cpu->held_tdcr) {
            continue;
        }
        *lapic_reg(&s, APIC_TMCCT) = cpu->held_tmcct;
        if (ioctl(cpu->fd, KVM_SET_LAPIC, &s) < 0) {
            warn_report("KVM_SET_LAPIC on resume: %s", strerror(errno));
        }
    }
}

void kvm_cpus_shutdown(void)
{
    g_mutex_lock(&park_mutex);
    for (unsigned i = 0; i < nr_cpus; i++) {
        cpus[i].quit = true;
        if (cpus[i].created) {
            cpu_kick(&cpus[i]);
        }
    }
    g_cond_broadcast(&cpu_cond);
    g_mutex_unlock(&park_mutex);
    bql_unlock();
    for (unsigned i = 0; i < nr_cpus; i++) {
        if (cpus[i].created) {
            pthread_join(cpus[i].thread, NULL);
        }
    }
    bql_lock();
}
