/*
 * "bench": guest side of the benchmarks in bench/ (bench/run.py).
 *
 *   bench port N [PORT]   N byte writes to an I/O port no device claims
 *                          (default 0x2e0), timed with rdtsc
 *   bench mmio N [ADDR]    N dword writes to an unassigned physical address
 *                          (default 0xd0000000), timed with rdtsc
 *   bench touch MIB        write one byte in each 4 KiB page of MIB MiB
 *                          from 4 MiB up, print "bench: touched", then halt
 *                          with interrupts off (the harness reads the
 *                          process's memory figures, then kills it)
 *
 * The loops run at CPL3: on a nested host whose CPL0 guest code is
 * emulated one instruction at a time, only user-mode code runs at native
 * speed, so the loop costs nothing but the exits it makes.  The switch is
 * a far return to a DPL3 code segment with IOPL=3 in EFLAGS, so port I/O
 * keeps working; segments are flat and paging is off, so MMIO to any
 * physical address works too.  There is no way back to CPL0 (no gate, no
 * TSS): the rest of the test, printing and isa-debug-exit, runs at CPL3
 * with interrupts off.
 *
 * The loops are exactly these instructions, the same bytes the bare
 * KVM_RUN floor program (bench/kvm-floor.c) runs:
 *   port:  1: outb %al, (%dx); dec %ecx; jnz 1b
 *   mmio:  1: movl %eax, (%ebx); dec %ecx; jnz 1b
 * The N writes run as 100 blocks of N/100, each between two rdtsc.
 * Output: "bench: port n=N cycles=C block=B median=M" (C = TSC ticks of
 * all blocks, M = those of the median block of B writes).
 */
#include "guest.h"

/* Flat GDT with user segments: 0x08/0x10 kernel code/data (as start.S),
 * 0x18/0x20 user code/data (DPL3). */
static const uint64_t bench_gdt[] __attribute__((aligned(16))) = {
    0,
    0x00cf9a000000ffffull,
    0x00cf92000000ffffull,
    0x00cffa000000ffffull,
    0x00cff2000000ffffull,
};
static struct { uint16_t pad, limit; uint32_t base; } bench_gdt_desc = {
    0, sizeof(bench_gdt) - 1, (uint32_t)bench_gdt,
};

/* The user stack sits just below 4 MiB, in RAM the image does not use,
 * rather than in .bss, which start.S clears with "rep stosb", one
 * emulated iteration per byte on the nested host. */
#define USER_STACK_TOP 0x3ffff0u

/* Call fn at CPL3 (IOPL 3, IF 0) on the user stack; fn must not return.
 * SYSEXIT with IA32_SYSENTER_CS = 0x08 loads CS = 0x1b and SS = 0x23 (flat),
 * EIP = EDX, ESP = ECX; EFLAGS (IOPL 3) stays as popf set it. */
static void __attribute__((noreturn)) run_user(void (*fn)(void))
{
    __asm__ volatile(
        "cli\n\t"
        "lgdt %0\n\t"
        "ljmp $0x08, $1f\n"
        "1:\n\t"
        "pushl %%edx\n\t"
        "movl $0x174, %%ecx\n\t"       /* IA32_SYSENTER_CS */
        "movl $0x08, %%eax\n\t"
        "xorl %%edx, %%edx\n\t"
        "wrmsr\n\t"
        "popl %%edx\n\t"
        "pushfl\n\t"
        "orl $0x3000, (%%esp)\n\t"      /* IOPL = 3 */
        "andl $~0x200, (%%esp)\n\t"     /* IF = 0 */
        "popfl\n\t"
        "movw $0x23, %%ax\n\t"          /* user data segment */
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%fs\n\t"
        "movw %%ax, %%gs\n\t"
        "movl %1, %%ecx\n\t"
        "sysexit"
        : : "m"(bench_gdt_desc.limit),
            "i"(USER_STACK_TOP), "d"(fn)
        : "eax", "ecx", "memory");
    __builtin_unreachable();
}

static uint64_t port_loop(uint32_t n, uint16_t port)
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("1: outb %%al, %%dx\n\t"
                     "dec %%ecx\n\t"
                     "jnz 1b"
                     : "+c"(n) : "d"(port), "a"(0) : "memory");
    return rdtsc() - t0;
}

static uint64_t mmio_loop(uint32_t n, uint32_t addr)
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("1: movl %%eax, (%%ebx)\n\t"
                     "dec %%ecx\n\t"
                     "jnz 1b"
                     : "+c"(n) : "b"(addr), "a"(0) : "memory");
    return rdtsc() - t0;
}

static uint32_t parse_num(const char *s)
{
    uint32_t v = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        for (s += 2;; s++) {
            char c = *s;
            if (c >= '0' && c <= '9')
                v = v * 16 + (uint32_t)(c - '0');
            else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                v = v * 16 + (uint32_t)((c | 0x20) - 'a' + 10);
            else
                return v;
        }
    }
    return parse_uint(s);
}

static int loop_is_port;
static uint32_t loop_n, loop_where;

/* The loop runs in BLOCKS blocks, each timed on its own; the median block
 * is immune to the vCPU thread being preempted now and then. */
#define BLOCKS 100
#define BLOCK_CYCLES ((uint32_t *)0x3f0000u)   /* below the user stack */

static void __attribute__((noreturn)) user_main(void)
{
    uint32_t blocks = loop_n >= BLOCKS ? BLOCKS : 1;
    uint32_t per = loop_n / blocks;
    uint64_t total = 0;
    uint32_t *c = BLOCK_CYCLES;

    for (uint32_t b = 0; b < blocks; b++) {
        uint64_t t = loop_is_port ? port_loop(per, (uint16_t)loop_where)
                                  : mmio_loop(per, loop_where);
        c[b] = (uint32_t)t;
        total += t;
    }
    for (uint32_t i = 1; i < blocks; i++) {         /* insertion sort */
        uint32_t v = c[i], j = i;
        for (; j > 0 && c[j - 1] > v; j--)
            c[j] = c[j - 1];
        c[j] = v;
    }
    kprintf("bench: %s n=%u cycles=%llu block=%u median=%u\n",
            loop_is_port ? "port" : "mmio", per * blocks, total, per,
            c[blocks / 2]);
    debug_exit(0);
}

void test_bench(const char *args);
void test_bench(const char *args)
{
    const char *a1 = skip_word(args), *a2 = skip_word(a1);

    if (word_eq(args, "touch")) {
        uint32_t mib = parse_num(a1);
        volatile uint8_t *p = (volatile uint8_t *)(4u << 20);
        for (uint32_t i = 0; i < mib * 256; i++)
            p[i * 4096] = 1;
        kprintf("bench: touched %u MiB\n", mib);
        for (;;)
            __asm__ volatile("cli; hlt");
    }
    if (word_eq(args, "port") || word_eq(args, "mmio")) {
        loop_is_port = word_eq(args, "port");
        loop_n = parse_num(a1);
        loop_where = *a2 ? parse_num(a2) : loop_is_port ? 0x2e0 : 0xd0000000u;
        if (loop_n == 0)
            fail("bench", "need a loop count");
        run_user(user_main);
    }
    fail("bench", "usage: bench port|mmio N [where] | bench touch MIB");
}
