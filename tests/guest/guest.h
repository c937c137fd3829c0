/*
 * Common definitions for the kestrel freestanding test guests.
 *
 * Everything runs in 32-bit protected mode, flat segments, paging off,
 * physical address == virtual address.  No libc is available.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- port and memory-mapped I/O ----------------------------------------
 * The "memory" clobbers keep the compiler from moving memory accesses
 * across port I/O (fw_cfg DMA descriptors, for instance). */

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
static inline uint32_t mmio_read32(uint32_t addr)
{
    return *(volatile uint32_t *)addr;
}
static inline void mmio_write32(uint32_t addr, uint32_t v)
{
    *(volatile uint32_t *)addr = v;
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
/* sti takes effect after the next instruction, so "sti; hlt" cannot lose
 * an interrupt that becomes pending between the two. */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

static inline uint32_t bswap32(uint32_t v) { return __builtin_bswap32(v); }
static inline uint64_t bswap64(uint64_t v) { return __builtin_bswap64(v); }

/* ---- lib.c: serial console, printf, strings, exit ---------------------- */

void serial_init(void);
void kputc(char c);
void kputs(const char *s);                     /* no newline added */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);

void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int word_eq(const char *s, const char *word);  /* s starts with word + space/NUL */
const char *skip_word(const char *s);          /* past word and blanks */
uint32_t parse_uint(const char *s);

/* Write v to isa-debug-exit (port 0xf4): the emulator exits ((v<<1)|1). */
void __attribute__((noreturn)) debug_exit(uint8_t v);
void __attribute__((noreturn)) pass(const char *test);
void __attribute__((noreturn, format(printf, 2, 3)))
fail(const char *test, const char *fmt, ...);

/* Busy delay measured with PIT channel 2 (polls port 0x61 bit 5). */
int pit_delay_us(uint32_t us);

/* ---- cpu.c: IDT and interrupt dispatch --------------------------------- */

struct irq_frame {                 /* layout built by isr.S */
    uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
};
typedef void (*irq_handler_t)(struct irq_frame *f);
void idt_init(void);
void idt_load(void);                           /* on an AP */
void set_irq_handler(uint8_t vector, irq_handler_t h);

/* ---- boot information, filled by the boot flavour's entry code --------- */

struct mem_range { uint64_t base, len; uint32_t type; };
#define MAX_MEM_RANGES 32
struct boot_info {
    const char *flavour;           /* "multiboot" or "pvh" */
    const char *cmdline;           /* full command line as given */
    uint32_t nr_mem;
    struct mem_range mem[MAX_MEM_RANGES];
    uint32_t nr_modules;
    uint32_t mod_start, mod_size;  /* first module */
};
extern struct boot_info boot_info;

/* ---- fwcfg.c ------------------------------------------------------------ */

#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_ID        0x0001
#define FW_CFG_RAM_SIZE  0x0003
#define FW_CFG_NB_CPUS   0x0005
#define FW_CFG_FILE_DIR  0x0019
void fwcfg_select(uint16_t key);
void fwcfg_read(void *buf, uint32_t len);       /* PIO, after select */
int fwcfg_present(void);
uint16_t fwcfg_nb_cpus(void);

/* ---- rtc.c -------------------------------------------------------------- */

struct rtc_time { unsigned year, mon, day, hour, min, sec; };
uint8_t cmos_read(uint8_t reg);
int rtc_read(struct rtc_time *t);               /* 0 on success */

/* ---- count.c: kvmclock (MSR 0x4b564d01) ------------------------------- */

int kvmclock_init(void);                        /* 1 if KVM offers it */
uint64_t kvmclock_ns(void);                     /* guest time in ns */
uint32_t ns_to_ms(uint64_t ns);

/* ---- tests -------------------------------------------------------------- */

void test_pit_pic(void);
void test_pit_ioapic(void);
void test_rtc(void);
void test_cmos_mem(void);
void test_fwcfg(void);
void test_smp(void);
void test_demo(void);
void test_reset(const char *method);
void test_internal_error(void);
void test_acpi_poweroff(void);
void test_acpi_wait_powerdown(void);
void test_count(void);
void test_timer_pause(void);
void test_ide_pio_dma(void);
void test_ide_cd_change(void);
void test_smbios(void);
void test_pflash(void);

#endif
