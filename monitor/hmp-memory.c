/*
 * HMP memory dumps in QEMU's syntax: "x /fmt addr" (virtual: through the
 * current vCPU's page tables) and "xp /fmt addr" (physical), and "p /fmt
 * expr".  fmt is /{count}{format}{size}: format x (hex), d (signed), u
 * (unsigned), o (octal), c (char); size b, h, w, g (1, 2, 4, 8 bytes).  A
 * missing format or size repeats the last one.  addr and expr are sums of
 * numbers and registers: "0x1000", "$esp + 8", "$rip - 0x10".
 */
#include "monitor/monitor-internal.h"
#include "accel/kvm.h"
#include "system/memory.h"

#define MAX_DUMP_BYTES (64 * KiB)

typedef struct DumpFormat {
    int count;
    char format;
    int size;
} DumpFormat;

static bool parse_format(Monitor *mon, const char **args, DumpFormat *f,
                         Error **errp)
{
    const char *p = *args;
    f->count = 1;
    f->format = mon->last_format;
    f->size = 0;
    if (*p == '/') {
        p++;
        if (g_ascii_isdigit(*p)) {
            char *end;
            unsigned long n = strtoul(p, &end, 10);
            f->count = MIN(n, (unsigned long)INT32_MAX);
            p = end;
        }
        for (; *p && *p != ' ' && *p != '\t'; p++) {
            switch (*p) {
            case 'x': case 'd': case 'u': case 'o': case 'c':
                f->format = *p;
                break;
            case 'b': f->size = 1; break;
            case 'h': f->size = 2; break;
            case 'w': f->size = 4; break;
            case 'g': f->size = 8; break;
            case 'i':
                error_setg(errp, "format 'i' (disassembly) is not supported");
                return false;
            default:
                error_setg(errp, "invalid char in format: '%c'", *p);
                return false;
            }
        }
        while (*p == ' ' || *p == '\t') {
            p++;
        }
    }
    if (f->format == 'c') {
        f->size = 1;
    } else if (!f->size) {
        f->size = mon->last_format == 'c' ? 4 : mon->last_size;
    }
    mon->last_format = f->format;
    mon->last_size = f->size;
    *args = p;
    return true;
}

/* ---- expressions: term { (+|-) term }, term = number | $register ---- */

static bool register_value(Monitor *mon, const char *name, uint64_t *val,
                           Error **errp)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    if (!kvm_enabled() || !kvm_cpu_get_regs(mon->cpu_index, &r, &s)) {
        error_setg(errp, "cannot read the registers of CPU %d",
                   mon->cpu_index);
        return false;
    }
    const struct { const char *name; uint64_t v; bool low32; } regs[] = {
        { "rax", r.rax }, { "rbx", r.rbx }, { "rcx", r.rcx }, { "rdx", r.rdx },
        { "rsi", r.rsi }, { "rdi", r.rdi }, { "rbp", r.rbp }, { "rsp", r.rsp },
        { "r8", r.r8 }, { "r9", r.r9 }, { "r10", r.r10 }, { "r11", r.r11 },
        { "r12", r.r12 }, { "r13", r.r13 }, { "r14", r.r14 }, { "r15", r.r15 },
        { "rip", r.rip }, { "pc", r.rip }, { "rflags", r.rflags },
        { "eax", r.rax, true }, { "ebx", r.rbx, true }, { "ecx", r.rcx, true },
        { "edx", r.rdx, true }, { "esi", r.rsi, true }, { "edi", r.rdi, true },
        { "ebp", r.rbp, true }, { "esp", r.rsp, true }, { "eip", r.rip, true },
        { "eflags", r.rflags, true }, { "cr0", s.cr0 }, { "cr2", s.cr2 },
        { "cr3", s.cr3 }, { "cr4", s.cr4 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(regs); i++) {
        if (!g_ascii_strcasecmp(regs[i].name, name)) {
            *val = regs[i].low32 ? (uint32_t)regs[i].v : regs[i].v;
            return true;
        }
    }
    error_setg(errp, "unknown register '$%s'", name);
    return false;
}

static bool parse_term(Monitor *mon, const char **s, uint64_t *val,
                       Error **errp)
{
    const char *p = *s;
    while (*p == ' ') {
        p++;
    }
    if (*p == '$') {
        size_t n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz"
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
        g_autofree char *name = g_strndup(p + 1, n);
        if (!register_value(mon, name, val, errp)) {
            return false;
        }
        p += 1 + n;
    } else if (g_ascii_isdigit(*p)) {
        char *end;
        errno = 0;
        *val = strtoull(p, &end, 0);
        if (errno || g_ascii_isalnum(*end)) {
            error_setg(errp, "invalid number '%.*s'",
                       (int)strcspn(p, " +-"), p);
            return false;
        }
        p = end;
    } else {
        error_setg(errp, "expected a number or $register at '%s'",
                   *p ? p : "end of line");
        return false;
    }
    *s = p;
    return true;
}

static bool parse_expr(Monitor *mon, const char *s, uint64_t *val,
                       Error **errp)
{
    uint64_t v, term;
    if (!parse_term(mon, &s, &v, errp)) {
        return false;
    }
    for (;;) {
        while (*s == ' ') {
            s++;
        }
        if (!*s) {
            break;
        }
        char op = *s++;
        if (op != '+' && op != '-') {
            error_setg(errp, "unexpected '%c' in expression", op);
            return false;
        }
        if (!parse_term(mon, &s, &term, errp)) {
            return false;
        }
        v = op == '+' ? v + term : v - term;
    }
    *val = v;
    return true;
}

/* ---- output ---- */

static void print_char(GString *out, uint8_t c)
{
    switch (c) {
    case '\'': g_string_append(out, "'\\''"); break;
    case '\\': g_string_append(out, "'\\\\'"); break;
    case '\n': g_string_append(out, "'\\n'"); break;
    case '\r': g_string_append(out, "'\\r'"); break;
    default:
        if (c >= 32 && c < 127) {
            g_string_append_printf(out, "'%c'", c);
        } else {
            g_string_append_printf(out, "'\\x%02x'", c);
        }
    }
}

static void print_value(GString *out, uint64_t v, const DumpFormat *f,
                        bool padded)
{
    int bits = f->size * 8;
    int dec_digits = padded ? (bits * 10 + 32) / 33 : 0;
    switch (f->format) {
    case 'x':
        g_string_append_printf(out, "0x%0*" PRIx64, padded ? f->size * 2 : 0,
                               v);
        break;
    case 'o':
        g_string_append_printf(out, "%#*" PRIo64,
                               padded ? (bits + 2) / 3 : 0, v);
        break;
    case 'u':
        g_string_append_printf(out, "%*" PRIu64, dec_digits, v);
        break;
    case 'd': {
        int64_t sv = bits < 64 ? (int64_t)(v << (64 - bits)) >> (64 - bits)
                               : (int64_t)v;
        g_string_append_printf(out, "%*" PRId64, dec_digits, sv);
        break;
    }
    case 'c':
        print_char(out, v);
        break;
    }
}

typedef struct Dump {
    Monitor *mon;
    const char *args;
    bool physical;
    bool print_only;         /* p: print the value, read nothing */
    GString *out;
    Error *err;
} Dump;

static bool read_memory(Dump *d, uint64_t addr, uint8_t *buf, size_t len)
{
    if (d->physical) {
        return address_space_read(&address_space_memory, addr, buf, len);
    }
    while (len) {
        uint64_t paddr;
        size_t n = MIN(len, 4096 - (addr & 4095));
        if (!kvm_enabled() ||
            !kvm_cpu_translate(d->mon->cpu_index, addr, &paddr) ||
            !address_space_read(&address_space_memory, paddr, buf, n)) {
            return false;
        }
        addr += n;
        buf += n;
        len -= n;
    }
    return true;
}

static void dump(void *opaque)
{
    Dump *d = opaque;
    const char *args = d->args;
    DumpFormat f;
    uint64_t addr;

    if (!parse_format(d->mon, &args, &f, &d->err) ||
        !parse_expr(d->mon, args, &addr, &d->err)) {
        return;
    }
    if (d->print_only) {
        f.size = 8;
        print_value(d->out, f.format == 'c' ? (uint8_t)addr : addr, &f, false);
        g_string_append_c(d->out, '\n');
        return;
    }
    uint64_t total = MIN((uint64_t)f.count * f.size, MAX_DUMP_BYTES);
    int line_size = f.size == 1 ? 8 : 16;
    for (uint64_t off = 0; off < total; off += line_size) {
        uint8_t buf[16];
        size_t n = MIN((uint64_t)line_size, total - off);
        g_string_append_printf(d->out, "%016" PRIx64 ":", addr + off);
        if (!read_memory(d, addr + off, buf, n)) {
            g_string_append(d->out, " Cannot access memory\n");
            return;
        }
        for (size_t i = 0; i < n; i += f.size) {
            uint64_t v = 0;
            memcpy(&v, buf + i, f.size);     /* x86: little endian */
            g_string_append_c(d->out, ' ');
            print_value(d->out, v, &f, true);
        }
        g_string_append_c(d->out, '\n');
    }
}

static void run_dump(Monitor *mon, const char *args, bool physical,
                     bool print_only)
{
    Dump d = { mon, args, physical, print_only, g_string_new(NULL), NULL };
    if (!*args) {
        monitor_puts(mon, "missing address (usage: x /fmt addr)\n");
    } else if (physical && !strchr(args, '$')) {
        dump(&d);        /* no vCPU state needed */
    } else {
        monitor_with_vcpus_paused(dump, &d);
    }
    monitor_puts(mon, d.out->str);
    g_string_free(d.out, true);
    hmp_handle_error(mon, d.err);
}

static void hmp_x(Monitor *mon, const char *args)
{
    run_dump(mon, args, false, false);
}

static void hmp_xp(Monitor *mon, const char *args)
{
    run_dump(mon, args, true, false);
}

static void hmp_print(Monitor *mon, const char *args)
{
    run_dump(mon, args, true, true);
}

static const HmpCommand x_cmd = {
    "x", "/fmt addr", "virtual memory dump starting at 'addr'", hmp_x,
};
static const HmpCommand xp_cmd = {
    "xp", "/fmt addr", "physical memory dump starting at 'addr'", hmp_xp,
};
static const HmpCommand print_cmd = {
    "print|p", "/fmt expr", "print expression value (use $reg for CPU "
    "register access)", hmp_print,
};
HMP_COMMAND_REGISTER(x_cmd)
HMP_COMMAND_REGISTER(xp_cmd)
HMP_COMMAND_REGISTER(print_cmd)
