/*
 * Minimal runtime: COM1 console, printf subset, string helpers, exit.
 */
#include "guest.h"

#define COM1 0x3f8

void serial_init(void)
{
    outb(COM1 + 1, 0x00);          /* IER: no interrupts */
    outb(COM1 + 3, 0x80);          /* LCR: DLAB=1 to reach the divisor */
    outb(COM1 + 0, 0x01);          /* DLL: divisor 1 = 115200 baud */
    outb(COM1 + 1, 0x00);          /* DLM */
    outb(COM1 + 3, 0x03);          /* LCR: 8N1, DLAB=0 */
    outb(COM1 + 2, 0x07);          /* FCR: enable + clear FIFOs */
    outb(COM1 + 4, 0x03);          /* MCR: DTR, RTS */
}

void kputc(char c)
{
    /* Wait (bounded) for LSR bit 5: transmit holding register empty. */
    for (unsigned i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
        cpu_relax();
    outb(COM1, (uint8_t)c);
}

void kputs(const char *s)
{
    while (*s)
        kputc(*s++);
}

/* 64-by-32 division with the divl instruction (no libgcc). */
static uint32_t divmod64(uint64_t *n, uint32_t d)
{
    uint32_t hi = (uint32_t)(*n >> 32), lo = (uint32_t)*n, qlo, rem;
    uint32_t qhi = hi / d;

    hi %= d;                       /* now hi < d, so divl cannot overflow */
    __asm__("divl %4" : "=a"(qlo), "=d"(rem) : "a"(lo), "d"(hi), "rm"(d));
    *n = ((uint64_t)qhi << 32) | qlo;
    return rem;
}

static void put_num(uint64_t v, unsigned base, int width, char pad, int neg)
{
    char buf[24];
    int n = 0;

    do {
        unsigned digit = base == 16 ? (unsigned)(v & 15) : divmod64(&v, base);
        if (base == 16)
            v >>= 4;
        buf[n++] = "0123456789abcdef"[digit];
    } while (v);
    if (neg)
        buf[n++] = '-';
    while (n < width)
        buf[n++] = pad;
    while (n)
        kputc(buf[--n]);
}

/* Supports %c %s %d %u %x %% with optional '0', width and l/ll. */
void kvprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            kputc(*fmt);
            continue;
        }
        char pad = ' ';
        int width = 0, lng = 0;
        fmt++;
        if (*fmt == '0')
            pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            lng++, fmt++;
        uint64_t v;
        switch (*fmt) {
        case 'c':
            kputc((char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            kputs(s ? s : "(null)");
            break;
        }
        case 'd': {
            int64_t sv = lng >= 2 ? va_arg(ap, int64_t) : va_arg(ap, int32_t);
            put_num(sv < 0 ? (uint64_t)-sv : (uint64_t)sv, 10, width, pad,
                    sv < 0);
            break;
        }
        case 'u':
        case 'x':
            v = lng >= 2 ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t);
            put_num(v, *fmt == 'x' ? 16 : 10, width, pad, 0);
            break;
        case '%':
            kputc('%');
            break;
        default:
            return;
        }
    }
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}

void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    while (n--)
        *dp++ = *sp++;
    return d;
}

void *memset(void *d, int c, size_t n)
{
    uint8_t *dp = d;
    while (n--)
        *dp++ = (uint8_t)c;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (uint8_t)*a - (uint8_t)*b;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

int word_eq(const char *s, const char *word)
{
    while (*word && *s == *word)
        s++, word++;
    return !*word && (!*s || is_blank(*s));
}

const char *skip_word(const char *s)
{
    while (*s && !is_blank(*s))
        s++;
    while (is_blank(*s))
        s++;
    return s;
}

uint32_t parse_uint(const char *s)
{
    uint32_t v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint32_t)(*s++ - '0');
    return v;
}

void debug_exit(uint8_t v)
{
    outb(0xf4, v);                 /* isa-debug-exit: exit((v << 1) | 1) */
    for (;;)                       /* no such device: stop here */
        __asm__ volatile("cli; hlt");
}

void pass(const char *test)
{
    kprintf("PASS %s\n", test);
    debug_exit(0);
}

void fail(const char *test, const char *fmt, ...)
{
    va_list ap;
    kprintf("FAIL %s: ", test);
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    kputc('\n');
    debug_exit(1);
}

/*
 * PIT channel 2 as a one-shot stopwatch.  Its gate is port 0x61 bit 0 and
 * its output can be read back in port 0x61 bit 5.  In mode 0 the output
 * goes low when the count is written and high at terminal count.
 * Returns 0 on success, -1 if the output never rose (bounded poll).
 */
int pit_delay_us(uint32_t us)
{
    while (us) {
        uint32_t chunk = us > 50000 ? 50000 : us;
        uint32_t count = (chunk * 1193u + 999u) / 1000u;  /* 1.193182 MHz */
        us -= chunk;
        outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01)); /* gate on, spkr off */
        outb(0x43, 0xb0);          /* channel 2, lobyte/hibyte, mode 0 */
        outb(0x42, (uint8_t)count);
        outb(0x42, (uint8_t)(count >> 8));
        unsigned i;
        for (i = 0; i < 10000000u && !(inb(0x61) & 0x20); i++)
            ;
        if (i == 10000000u)
            return -1;
    }
    return 0;
}
