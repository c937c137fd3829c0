/*
 * kvm-floor: the cost of a bare KVM_RUN round trip, the floor that any
 * VMM's exit handling sits on.
 *
 *   kvm-floor port|mmio N
 *
 * Creates a VM with one vCPU and 64 KiB of RAM, no irqchip, no devices,
 * puts the vCPU straight into flat 32-bit protected mode at CPL3 with
 * IOPL=3 (as the "bench" test guest runs its loops) and runs the very
 * same loop as tests/guest/bench.c, byte for byte:
 *
 *   port:  1: outb %al, (%dx); dec %ecx; jnz 1b      (port 0x2e0)
 *   mmio:  1: movl %eax, (%ebx); dec %ecx; jnz 1b     (0xd0000000)
 *
 * in 100 blocks of N/100 iterations, each timed with rdtsc in the guest
 * (the vCPU is restarted at the loop for each block).  Each exit is handled
 * by checking its reason and calling KVM_RUN again: nothing else.  Prints
 *
 *   floor: port n=N cycles=C block=B median=M wall_ns=W tsc_hz=H exits=E
 *
 * C is the guest's TSC ticks over all blocks and M those of the median
 * block (the same measures the test guest prints), W the host's
 * CLOCK_MONOTONIC time of the whole run and H the TSC rate measured on the
 * host over that run, to turn cycles into time.  Not part of kestrel;
 * built by bench/run.py.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE   0x10000
#define CODE_ADDR  0x1000
#define GDT_ADDR   0x0800
#define STACK_TOP  0x8000
#define LOOP_PORT  0x2e0
#define DONE_PORT  0xf4
#define MMIO_ADDR  0xd0000000u
#define BLOCKS     100

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what)
{
    fprintf(stderr, "kvm-floor: %s: %s\n", what, strerror(errno));
    exit(1);
}

static uint64_t host_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t emit(uint8_t *p, const uint8_t *bytes, size_t n)
{
    memcpy(p, bytes, n);
    return n;
}

/* Guest code: t0 -> EDI:ESI, loop, t1 -> EBP:EBX, out to DONE_PORT. */
static size_t build_code(uint8_t *p, int port, uint32_t n)
{
    size_t o = 0;
    static const uint8_t head[] = {
        0x0f, 0x31,                       /* rdtsc */
        0x89, 0xc6,                       /* mov %eax, %esi */
        0x89, 0xd7,                       /* mov %edx, %edi */
    };
    o += emit(p + o, head, sizeof(head));
    p[o++] = 0xb9;                        /* mov $n, %ecx */
    memcpy(p + o, &n, 4), o += 4;
    if (port) {
        uint32_t v = LOOP_PORT;
        p[o++] = 0xba;                    /* mov $port, %edx */
        memcpy(p + o, &v, 4), o += 4;
    } else {
        uint32_t v = MMIO_ADDR;
        p[o++] = 0xbb;                    /* mov $addr, %ebx */
        memcpy(p + o, &v, 4), o += 4;
    }
    static const uint8_t zero_eax[] = { 0x31, 0xc0 };   /* xor %eax, %eax */
    o += emit(p + o, zero_eax, sizeof(zero_eax));
    static const uint8_t port_loop[] = {
        0xee,                             /* 1: outb %al, (%dx) */
        0x49,                             /* dec %ecx */
        0x75, 0xfc,                       /* jnz 1b */
    };
    static const uint8_t mmio_loop[] = {
        0x89, 0x03,                       /* 1: movl %eax, (%ebx) */
        0x49,                             /* dec %ecx */
        0x75, 0xfb,                       /* jnz 1b */
    };
    if (port) {
        o += emit(p + o, port_loop, sizeof(port_loop));
    } else {
        o += emit(p + o, mmio_loop, sizeof(mmio_loop));
    }
    static const uint8_t tail[] = {
        0x0f, 0x31,                       /* rdtsc */
        0x89, 0xc3,                       /* mov %eax, %ebx */
        0x89, 0xd5,                       /* mov %edx, %ebp */
        0x66, 0xba, DONE_PORT, 0x00,      /* mov $DONE_PORT, %dx */
        0xee,                             /* outb %al, (%dx) */
        0xeb, 0xfe,                       /* jmp . (never reached) */
    };
    o += emit(p + o, tail, sizeof(tail));
    return o;
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
    *s = (struct kvm_segment) {
        .base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
        .present = 1, .dpl = 3, .db = 1, .s = 1, .g = 1,
    };
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "port") && strcmp(argv[1], "mmio"))) {
        fprintf(stderr, "usage: kvm-floor port|mmio N\n");
        return 2;
    }
    int port = !strcmp(argv[1], "port");
    uint32_t n = (uint32_t)strtoul(argv[2], NULL, 0);
    if (n == 0) {
        fprintf(stderr, "kvm-floor: N must be > 0\n");
        return 2;
    }

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        die("/dev/kvm");
    }
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) {
        die("KVM_CREATE_VM");
    }
    uint8_t *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        die("mmap");
    }
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
        .userspace_addr = (uintptr_t)mem,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        die("KVM_SET_USER_MEMORY_REGION");
    }
    /* The same flat GDT as the test guest: null, kernel code/data,
     * user code (0x18) / data (0x20). */
    static const uint64_t gdt[] = {
        0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull,
        0x00cffa000000ffffull, 0x00cff2000000ffffull,
    };
    memcpy(mem + GDT_ADDR, gdt, sizeof(gdt));

    int cpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (cpu < 0) {
        die("KVM_CREATE_VCPU");
    }
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE,
                               MAP_SHARED, cpu, 0);
    if (run == MAP_FAILED) {
        die("mmap kvm_run");
    }
    struct kvm_sregs sregs;
    if (ioctl(cpu, KVM_GET_SREGS, &sregs) < 0) {
        die("KVM_GET_SREGS");
    }
    seg(&sregs.cs, 0x1b, 0xb);
    seg(&sregs.ds, 0x23, 0x3);
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    sregs.gdt.base = GDT_ADDR;
    sregs.gdt.limit = sizeof(gdt) - 1;
    sregs.cr0 = 0x11;                      /* PE, ET; paging off */
    if (ioctl(cpu, KVM_SET_SREGS, &sregs) < 0) {
        die("KVM_SET_SREGS");
    }
    /* 100 blocks of n/100 (as the test guest does), each restarted at
     * CODE_ADDR and timed by the guest's own rdtsc pair. */
    uint32_t blocks = n >= BLOCKS ? BLOCKS : 1, per = n / blocks;
    uint64_t cyc[BLOCKS], total = 0, exits = 0;
    build_code(mem + CODE_ADDR, port, per);
    uint64_t t0 = now_ns(), c0 = host_rdtsc();
    for (uint32_t b = 0; b < blocks; b++) {
        struct kvm_regs regs = {
            .rip = CODE_ADDR, .rsp = STACK_TOP,
            .rflags = 0x3002,              /* IOPL 3, IF 0 */
        };
        if (ioctl(cpu, KVM_SET_REGS, &regs) < 0) {
            die("KVM_SET_REGS");
        }
        for (;;) {
            if (ioctl(cpu, KVM_RUN, 0) < 0) {
                if (errno == EINTR) {
                    continue;
                }
                die("KVM_RUN");
            }
            exits++;
            if (run->exit_reason == KVM_EXIT_IO && run->io.port == LOOP_PORT) {
                continue;
            }
            if (run->exit_reason == KVM_EXIT_MMIO) {
                continue;
            }
            if (run->exit_reason == KVM_EXIT_IO &&
                run->io.port == DONE_PORT) {
                break;
            }
            fprintf(stderr, "kvm-floor: unexpected exit reason %u\n",
                    run->exit_reason);
            return 1;
        }
        if (ioctl(cpu, KVM_GET_REGS, &regs) < 0) {
            die("KVM_GET_REGS");
        }
        uint64_t g0 = (regs.rdi << 32) | (uint32_t)regs.rsi;
        uint64_t g1 = (regs.rbp << 32) | (uint32_t)regs.rbx;
        cyc[b] = g1 - g0;
        total += cyc[b];
    }
    uint64_t t1 = now_ns(), c1 = host_rdtsc();
    qsort(cyc, blocks, sizeof(cyc[0]), cmp_u64);
    double tsc_hz = (double)(c1 - c0) * 1e9 / (double)(t1 - t0);
    printf("floor: %s n=%u cycles=%llu block=%u median=%llu wall_ns=%llu "
           "tsc_hz=%.0f exits=%llu\n", argv[1], per * blocks,
           (unsigned long long)total, per, (unsigned long long)cyc[blocks / 2],
           (unsigned long long)(t1 - t0), tsc_hz, (unsigned long long)exits);
    return 0;
}
