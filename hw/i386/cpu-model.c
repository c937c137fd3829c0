/*
 * -cpu MODEL[,flag=on|off|+flag|-flag|prop=value...], as QEMU's x86 CPUs
 * take it.  Models: host and max (every flag KVM offers), qemu64 and kvm64
 * (a conservative baseline), qemu32 and kvm32 (that without long mode).
 *
 * What is applied: the CPUID flags.  A flag turned off is cleared in every
 * vCPU's CPUID; a flag turned on is set only if the host's KVM offers it
 * (otherwise a warning, or an error with enforce=on), because KVM does not
 * emulate what the hardware lacks.  QEMU's other CPU properties (apic-id,
 * family, level, hv-*, ...) and the flags kestrel has no CPUID bit for
 * (VMX capability MSRs, SGX leaves, ...) are checked like QEMU checks them
 * and then ignored with a warning; what QEMU refuses is an error here too.
 */
#include "hw/i386/cpu-model.h"
#include "util/opts.h"

enum { R_EAX, R_EBX, R_ECX, R_EDX };

/* The flags QEMU names, by CPUID leaf, subleaf, register and bit. */
typedef struct FeatureWord {
    uint32_t leaf, subleaf;
    uint8_t reg;
    const char *names[32];
} FeatureWord;

static const FeatureWord feature_words[] = {
    { 1, 0, R_ECX, {
        [0] = "pni", "pclmulqdq", "dtes64", "monitor", "ds-cpl", "vmx", "smx",
        [7] = "est", "tm2", "ssse3", "cid", NULL, "fma", "cx16", "xtpr",
        [15] = "pdcm", NULL, "pcid", "dca", "sse4.1", "sse4.2", "x2apic",
        [22] = "movbe", "popcnt", "tsc-deadline", "aes", "xsave", NULL, "avx",
        [29] = "f16c", "rdrand", "hypervisor",
    } },
    { 1, 0, R_EDX, {
        [0] = "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8",
        [9] = "apic", NULL, "sep", "mtrr", "pge", "mca", "cmov", "pat",
        [17] = "pse36", "pn", "clflush", NULL, "ds", "acpi", "mmx", "fxsr",
        [25] = "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe",
    } },
    { 6, 0, R_EAX, {
        [2] = "arat",
    } },
    { 7, 0, R_EBX, {
        [0] = "fsgsbase", "tsc-adjust", "sgx", "bmi1", "hle", "avx2", NULL,
        [7] = "smep", "bmi2", "erms", "invpcid", "rtm",
        [14] = "mpx", NULL, "avx512f", "avx512dq", "rdseed", "adx", "smap",
        [21] = "avx512ifma", "pcommit", "clflushopt", "clwb", "intel-pt",
        [26] = "avx512pf", "avx512er", "avx512cd", "sha-ni", "avx512bw",
        [31] = "avx512vl",
    } },
    { 7, 0, R_ECX, {
        [1] = "avx512vbmi", "umip", "pku", NULL, "waitpkg", "avx512vbmi2",
        [8] = "gfni", "vaes", "vpclmulqdq", "avx512vnni", "avx512bitalg", NULL,
        [14] = "avx512-vpopcntdq", NULL, "la57",
        [22] = "rdpid", NULL, "bus-lock-detect", "cldemote", NULL, "movdiri",
        [28] = "movdir64b", NULL, "sgxlc", "pks",
    } },
    { 7, 0, R_EDX, {
        [2] = "avx512-4vnniw", "avx512-4fmaps", "fsrm",
        [8] = "avx512-vp2intersect", NULL, "md-clear",
        [14] = "serialize", NULL, "tsx-ldtrk",
        [19] = "arch-lbr",
        [22] = "amx-bf16", "avx512-fp16", "amx-tile", "amx-int8", "spec-ctrl",
        [27] = "stibp", NULL, "arch-capabilities", "core-capability", "ssbd",
    } },
    { 7, 1, R_EAX, {
        [4] = "avx-vnni", "avx512-bf16",
    } },
    { 0xd, 1, R_EAX, {
        [0] = "xsaveopt", "xsavec", "xgetbv1", "xsaves", "xfd",
    } },
    { 0x40000001, 0, R_EAX, {
        [0] = "kvmclock", "kvm-nopiodelay", "kvm-mmu", "kvmclock",
        [4] = "kvm-asyncpf", "kvm-steal-time", "kvm-pv-eoi", "kvm-pv-unhalt",
        [9] = "kvm-pv-tlb-flush", NULL, "kvm-pv-ipi", "kvm-poll-control",
        [13] = "kvm-pv-sched-yield", "kvm-asyncpf-int", "kvm-msi-ext-dest-id",
        [24] = "kvmclock-stable-bit",
    } },
    { 0x40000001, 0, R_EDX, {
        [0] = "kvm-hint-dedicated",
    } },
    { 0x80000001, 0, R_ECX, {
        [0] = "lahf-lm", "cmp-legacy", "svm", "extapic", "cr8legacy", "abm",
        [6] = "sse4a", "misalignsse", "3dnowprefetch", "osvw", "ibs", "xop",
        [12] = "skinit", "wdt", NULL, "lwp", "fma4", "tce", NULL, "nodeid-msr",
        [21] = "tbm", "topoext", "perfctr-core", "perfctr-nb",
    } },
    { 0x80000001, 0, R_EDX, {
        [11] = "syscall",
        [20] = "nx", NULL, "mmxext",
        [25] = "fxsr-opt", "pdpe1gb", "rdtscp", NULL, "lm", "3dnowext",
        [31] = "3dnow",
    } },
    { 0x80000007, 0, R_EDX, {
        [8] = "invtsc",
    } },
    { 0x80000008, 0, R_EBX, {
        [0] = "clzero", NULL, "xsaveerptr",
        [9] = "wbnoinvd",
        [12] = "ibpb", NULL, "ibrs", "amd-stibp",
        [24] = "amd-ssbd", "virt-ssbd", "amd-no-ssb",
    } },
    { 0x8000000a, 0, R_EDX, {
        [0] = "npt", "lbrv", "svm-lock", "nrip-save", "tsc-scale",
        [5] = "vmcb-clean", "flushbyasid", "decodeassists",
        [10] = "pause-filter", NULL, "pfthreshold", "avic", NULL,
        [15] = "v-vmsave-vmload", "vgif",
    } },
};
#define NR_WORDS ARRAY_SIZE(feature_words)

/* Other names QEMU takes for flags (after '_' became '-', as in QEMU). */
static const struct { const char *alias, *name; } flag_aliases[] = {
    { "sse3", "pni" }, { "pclmuldq", "pclmulqdq" }, { "sse4-1", "sse4.1" },
    { "sse4-2", "sse4.2" }, { "xd", "nx" }, { "i64", "lm" },
    { "ffxsr", "fxsr-opt" }, { "tsc-freq", "tsc-frequency" },
};

/* QEMU's flags without a CPUID bit here (MSR bits, VMX capabilities,
 * SGX and Centaur leaves): accepted, ignored. */
static const char unmapped_flags[] = " "
    "ace2 ace2-en full-width-write ibrs-all intel-pt-lip mds-no phe phe-en "
    "pmm pmm-en pschange-mc-no rdctl-no rsba sgx-debug sgx-exinfo sgx-kss "
    "sgx-mode64 sgx-provisionkey sgx-tokenkey sgx1 sgx2 skip-l1dfl-vmentry "
    "split-lock-detect ssb-no svme-addr-chk taa-no tsx-ctrl "
    "vmx-activity-hlt vmx-activity-shutdown vmx-activity-wait-sipi "
    "vmx-apicv-register vmx-apicv-vid vmx-apicv-x2apic vmx-apicv-xapic "
    "vmx-cr3-load-noexit vmx-cr3-store-noexit vmx-cr8-load-exit "
    "vmx-cr8-store-exit vmx-desc-exit vmx-encls-exit vmx-entry-ia32e-mode "
    "vmx-entry-load-bndcfgs vmx-entry-load-efer vmx-entry-load-pat "
    "vmx-entry-load-perf-global-ctrl vmx-entry-load-pkrs "
    "vmx-entry-load-rtit-ctl vmx-entry-noload-debugctl "
    "vmx-ept vmx-ept-1gb vmx-ept-2mb vmx-ept-advanced-exitinfo "
    "vmx-ept-execonly vmx-eptad vmx-eptp-switching vmx-exit-ack-intr "
    "vmx-exit-clear-bndcfgs vmx-exit-clear-rtit-ctl vmx-exit-load-efer "
    "vmx-exit-load-pat vmx-exit-load-perf-global-ctrl vmx-exit-load-pkrs "
    "vmx-exit-nosave-debugctl vmx-exit-save-efer vmx-exit-save-pat "
    "vmx-exit-save-preemption-timer vmx-flexpriority vmx-hlt-exit "
    "vmx-ins-outs vmx-intr-exit vmx-invept vmx-invept-all-context "
    "vmx-invept-single-context vmx-invept-single-context-noglobals "
    "vmx-invlpg-exit vmx-invpcid-exit vmx-invvpid vmx-invvpid-all-context "
    "vmx-invvpid-single-addr vmx-io-bitmap vmx-io-exit vmx-monitor-exit "
    "vmx-movdr-exit vmx-msr-bitmap vmx-mtf vmx-mwait-exit vmx-nmi-exit "
    "vmx-page-walk-4 vmx-page-walk-5 vmx-pause-exit vmx-ple vmx-pml "
    "vmx-posted-intr vmx-preemption-timer vmx-rdpmc-exit vmx-rdrand-exit "
    "vmx-rdseed-exit vmx-rdtsc-exit vmx-rdtscp-exit vmx-secondary-ctls "
    "vmx-shadow-vmcs vmx-store-lma vmx-true-ctls vmx-tsc-offset "
    "vmx-tsc-scaling vmx-unrestricted-guest vmx-vintr-pending vmx-vmfunc "
    "vmx-vmwrite-vmexit-fields vmx-vnmi vmx-vnmi-pending vmx-vpid "
    "vmx-wbinvd-exit vmx-xsaves vmx-zero-len-inject xcrypt xcrypt-en "
    "xstore xstore-en ";

/* QEMU's other CPU properties, all ignored except check and enforce. */
typedef enum {
    PROP_BOOL, PROP_UINT, PROP_INT, PROP_STR, PROP_VENDOR, PROP_ONOFFAUTO,
    PROP_READONLY,
} CpuPropType;

typedef struct CpuProp {
    const char *name;
    CpuPropType type;
    int64_t min;
    uint64_t max;
    bool host_only;          /* host and max have it, the others do not */
} CpuProp;

static const char bool_props[] = " check enforce "
    "cpuid-0xb fill-mtrr-mask full-cpuid-auto-level host-phys-bits hv-apicv "
    "hv-avic hv-crash hv-emsr-bitmap hv-enforce-cpuid hv-evmcs "
    "hv-frequencies hv-ipi hv-passthrough hv-reenlightenment hv-relaxed "
    "hv-reset hv-runtime hv-stimer hv-stimer-direct hv-syndbg hv-synic "
    "hv-time hv-tlbflush hv-tlbflush-direct hv-tlbflush-ext hv-vapic "
    "hv-vpindex hv-xmm-input kvm kvm-no-smi-migration kvm-pv-enforce-cpuid "
    "l3-cache lmce pmu start-powered-off tcg-cpuid vmware-cpuid-freq "
    "x-force-features x-hv-synic-kvm-only x-intel-pt-auto-level "
    "x-migrate-smi-count x-vendor-cpuid-only ";

static const CpuProp typed_props[] = {
    { "apic-id", PROP_UINT, 0, UINT32_MAX },
    { "family", PROP_INT, 0, 0xff + 0xf },
    { "model", PROP_INT, 0, 0xff },
    { "stepping", PROP_INT, 0, 0xf },
    { "tsc-frequency", PROP_INT, 0, INT64_MAX },
    { "core-id", PROP_INT, INT32_MIN, INT32_MAX },
    { "die-id", PROP_INT, INT32_MIN, INT32_MAX },
    { "node-id", PROP_INT, INT32_MIN, INT32_MAX },
    { "socket-id", PROP_INT, INT32_MIN, INT32_MAX },
    { "thread-id", PROP_INT, INT32_MIN, INT32_MAX },
    { "x-hv-max-vps", PROP_INT, INT32_MIN, INT32_MAX },
    { "host-phys-bits-limit", PROP_UINT, 0, UINT8_MAX },
    { "hv-version-id-sbranch", PROP_UINT, 0, UINT8_MAX },
    { "hv-version-id-major", PROP_UINT, 0, UINT16_MAX },
    { "hv-version-id-minor", PROP_UINT, 0, UINT16_MAX },
    { "hv-spinlocks", PROP_UINT, 0, UINT32_MAX },
    { "hv-version-id-build", PROP_UINT, 0, UINT32_MAX },
    { "hv-version-id-snumber", PROP_UINT, 0, UINT32_MAX },
    { "hv-version-id-spack", PROP_UINT, 0, UINT32_MAX },
    { "level", PROP_UINT, 0, UINT32_MAX },
    { "level-func7", PROP_UINT, 0, UINT32_MAX },
    { "min-level", PROP_UINT, 0, UINT32_MAX },
    { "min-xlevel", PROP_UINT, 0, UINT32_MAX },
    { "min-xlevel2", PROP_UINT, 0, UINT32_MAX },
    { "phys-bits", PROP_UINT, 0, UINT32_MAX },
    { "xlevel", PROP_UINT, 0, UINT32_MAX },
    { "xlevel2", PROP_UINT, 0, UINT32_MAX },
    { "lbr-fmt", PROP_UINT, 0, UINT64_MAX },
    { "ucode-rev", PROP_UINT, 0, UINT64_MAX },
    { "model-id", PROP_STR },
    { "hv-vendor-id", PROP_STR },
    { "vendor", PROP_VENDOR },
    { "hv-no-nonarch-coresharing", PROP_ONOFFAUTO },
    { "crash-information", PROP_READONLY },
    { "feature-words", PROP_READONLY },
    { "filtered-features", PROP_READONLY },
    { "unavailable-features", PROP_READONLY },
    { "memory", PROP_READONLY },
    { "host-cache-info", PROP_BOOL, .host_only = true },
    { "migratable", PROP_BOOL, .host_only = true },
};

typedef struct CpuModel {
    const char *name, *desc;
    bool baseline;           /* qemu64's conservative flags, not the host's */
    bool long_mode;
} CpuModel;

static const CpuModel models[] = {
    { "host", "every flag the host's KVM offers", false, true },
    { "max", "the same as host", false, true },
    { "qemu64", "a conservative 64-bit baseline", true, true },
    { "kvm64", "the same as qemu64", true, true },
    { "qemu32", "qemu64 without long mode", true, false },
    { "kvm32", "the same as qemu32", true, false },
};

/* The parsed option: the model and, per feature word, the flags given. */
static const CpuModel *cpu_model = &models[0];
static uint32_t flags_on[NR_WORDS], flags_off[NR_WORDS];
static uint32_t flags_set[NR_WORDS];     /* on and offered by the host */
static bool enforce, check = true;

/* name is one of the blank-separated words of list. */
static bool in_list(const char *list, const char *name)
{
    g_autofree char *word = g_strdup_printf(" %s ", name);
    return !strchr(name, ' ') && strstr(list, word) != NULL;
}

/* Calls fn for every bit the flag names (kvmclock has two); false if none. */
static bool find_flag(const char *name, void (*fn)(unsigned w, int bit,
                                                    void *opaque),
                      void *opaque)
{
    bool found = false;
    for (unsigned w = 0; w < NR_WORDS; w++) {
        for (int bit = 0; bit < 32; bit++) {
            const char *n = feature_words[w].names[bit];
            if (n && !strcmp(n, name)) {
                if (fn) {
                    fn(w, bit, opaque);
                }
                found = true;
            }
        }
    }
    return found;
}

typedef struct FlagRequest {
    uint32_t *set, *clear;   /* the masks to set the bit in and clear it */
    uint32_t *contrary;      /* the other syntax saying the opposite */
    bool conflict;
} FlagRequest;

static void request_flag(unsigned w, int bit, void *opaque)
{
    FlagRequest *r = opaque;
    r->set[w] |= 1u << bit;
    if (r->clear) {
        r->clear[w] &= ~(1u << bit);
    }
    if (r->contrary[w] & (1u << bit)) {
        r->conflict = true;
    }
}

static const CpuProp *find_prop(const char *name, const CpuModel *m)
{
    static const CpuProp bool_prop = { NULL, PROP_BOOL };
    if (in_list(bool_props, name)) {
        return &bool_prop;
    }
    for (size_t i = 0; i < ARRAY_SIZE(typed_props); i++) {
        if (!strcmp(typed_props[i].name, name) &&
            (!typed_props[i].host_only || !m->baseline)) {
            return &typed_props[i];
        }
    }
    return NULL;
}

static bool check_prop_value(const CpuProp *p, const char *name,
                             const char *v, Error **errp)
{
    bool b;
    uint64_t u;
    char *end;
    int64_t i;

    switch (p->type) {
    case PROP_BOOL:
        if (!opt_parse_bool(v, &b)) {
            return error_fail(errp, "'%s' expects on or off, not '%s'", name,
                              v);
        }
        return true;
    case PROP_UINT:
        if (!parse_uint64(v, &u) || u > p->max) {
            return error_fail(errp, "'%s' expects an integer from 0 to %"
                              PRIu64 ", not '%s'", name, p->max, v);
        }
        return true;
    case PROP_INT:
        errno = 0;
        i = g_ascii_strtoll(v, &end, 0);
        if (!*v || *end || errno || i < p->min || i > (int64_t)p->max) {
            return error_fail(errp, "'%s' expects an integer from %" PRId64
                              " to %" PRIu64 ", not '%s'", name, p->min,
                              p->max, v);
        }
        return true;
    case PROP_VENDOR:
        if (strlen(v) != 12) {
            return error_fail(errp, "'vendor' expects 12 characters "
                              "(GenuineIntel, AuthenticAMD...), not '%s'", v);
        }
        return true;
    case PROP_ONOFFAUTO:
        if (strcmp(v, "on") && strcmp(v, "off") && strcmp(v, "auto")) {
            return error_fail(errp, "'%s' expects on, off or auto, not '%s'",
                              name, v);
        }
        return true;
    case PROP_READONLY:
        return error_fail(errp, "property '%s' is read-only", name);
    default:
        return true;
    }
}

/* One item after the model: +flag, -flag, flag, flag=on|off, prop=value. */
static bool parse_item(const CpuModel *m, const char *item, GString *ignored,
                       uint32_t *named_on, uint32_t *named_off,
                       uint32_t *plus, uint32_t *minus, bool *conflict,
                       Error **errp)
{
    char sign = (item[0] == '+' || item[0] == '-') ? item[0] : 0;
    const char *eq = sign ? NULL : strchr(item, '=');
    const char *value = eq ? eq + 1 : "on";
    size_t len = eq ? (size_t)(eq - item) : strlen(item);
    g_autofree char *name = g_strndup(item + !!sign, len - !!sign);
    bool on;

    g_strdelimit(name, "_", '-');
    for (size_t i = 0; i < ARRAY_SIZE(flag_aliases); i++) {
        if (!strcmp(name, flag_aliases[i].alias)) {
            g_free(name);
            name = g_strdup(flag_aliases[i].name);
            break;
        }
    }
    if (!*name) {
        return error_fail(errp, "'%s': a flag or property name is missing",
                          item);
    }

    FlagRequest r = { NULL };
    if (sign == '+') {
        r = (FlagRequest){ .set = plus, .contrary = named_off };
    } else if (sign == '-') {
        r = (FlagRequest){ .set = minus, .contrary = named_on };
    } else if (opt_parse_bool(value, &on)) {
        r = (FlagRequest){ .set = on ? named_on : named_off,
                           .clear = on ? named_off : named_on,
                           .contrary = on ? minus : plus };
    }
    bool is_flag = find_flag(name, r.set ? request_flag : NULL, &r);
    if (is_flag || in_list(unmapped_flags, name)) {
        if (!r.set) {
            return error_fail(errp, "flag '%s' expects on or off, not '%s'",
                              name, value);
        }
        if (!is_flag) {
            g_string_append_printf(ignored, " %s", name);
        }
        *conflict |= r.conflict;
        return true;
    }

    const CpuProp *p = find_prop(name, m);
    if (!p) {
        return error_fail(errp, "CPU model '%s' has no property or flag '%s' "
                          "(-cpu help lists the flags)", m->name, name);
    }
    if (sign && p->type != PROP_BOOL) {
        return error_fail(errp, "'%c%s': '%s' is not a flag, it takes a "
                          "value (%s=...)", sign, name, name, name);
    }
    if (!check_prop_value(p, name, sign == '-' ? "off" : value, errp)) {
        return false;
    }
    if (!strcmp(name, "enforce")) {
        opt_parse_bool(sign == '-' ? "off" : value, &enforce);
    } else if (!strcmp(name, "check")) {
        opt_parse_bool(sign == '-' ? "off" : value, &check);
    } else {
        g_string_append_printf(ignored, " %s", name);
    }
    return true;
}

bool x86_cpu_parse(const char *arg, const char **model, Error **errp)
{
    g_auto(GStrv) items = g_strsplit(arg, ",", -1);
    g_autoptr(GString) ignored = g_string_new(NULL);
    uint32_t named_on[NR_WORDS] = { 0 }, named_off[NR_WORDS] = { 0 };
    uint32_t plus[NR_WORDS] = { 0 }, minus[NR_WORDS] = { 0 };
    const CpuModel *m = NULL;
    bool conflict = false;

    for (size_t i = 0; i < ARRAY_SIZE(models); i++) {
        if (!strcmp(models[i].name, items[0])) {
            m = &models[i];
        }
    }
    if (!m) {
        return error_fail(errp, "unable to find CPU model '%s'", items[0]);
    }
    enforce = false;
    check = true;
    for (int i = 1; items[i]; i++) {
        /* QEMU skips empty items ("qemu64,,+avx") */
        if (*items[i] &&
            !parse_item(m, items[i], ignored, named_on, named_off, plus,
                        minus, &conflict, errp)) {
            return false;
        }
    }
    /* As in QEMU: +flag and -flag win over flag=on|off, and -flag over
     * +flag. */
    for (unsigned w = 0; w < NR_WORDS; w++) {
        flags_on[w] = (named_on[w] | plus[w]) & ~minus[w];
        flags_off[w] = ((named_off[w] & ~plus[w]) | minus[w]);
    }
    if (conflict) {
        warn_report("-cpu %s: a flag given both as +flag/-flag and as "
                    "flag=on|off takes the +/- form", arg);
    }
    if (ignored->len) {
        warn_report("-cpu %s: kestrel does not implement (and ignores):%s",
                    arg, ignored->str);
    }
    cpu_model = m;
    *model = m->name;
    return true;
}

void x86_cpu_print_help(void)
{
    printf("Available CPUs:\n");
    for (size_t i = 0; i < ARRAY_SIZE(models); i++) {
        printf("x86 %-20s %s\n", models[i].name, models[i].desc);
    }
    printf("\nRecognized CPUID flags (others of QEMU's are ignored):\n");
    int col = 0;
    for (unsigned w = 0; w < NR_WORDS; w++) {
        for (int bit = 0; bit < 32; bit++) {
            const char *n = feature_words[w].names[bit];
            if (!n) {
                continue;
            }
            if (col + strlen(n) > 74) {
                printf("\n");
                col = 0;
            }
            col += printf("  %s", n);
        }
    }
    printf("\n");
}

static const struct kvm_cpuid_entry2 *find_entry(
    const struct kvm_cpuid2 *c, uint32_t leaf, uint32_t subleaf)
{
    for (unsigned i = 0; i < c->nent; i++) {
        if (c->entries[i].function == leaf && c->entries[i].index == subleaf) {
            return &c->entries[i];
        }
    }
    return NULL;
}

static uint32_t entry_reg(const struct kvm_cpuid_entry2 *e, int reg)
{
    const uint32_t regs[] = { e->eax, e->ebx, e->ecx, e->edx };
    return regs[reg];
}

bool x86_cpu_check_supported(const struct kvm_cpuid2 *supported,
                             Error **errp)
{
    static const char *const reg_names[] = { "EAX", "EBX", "ECX", "EDX" };
    g_autoptr(GString) missing = g_string_new(NULL);

    for (unsigned w = 0; w < NR_WORDS; w++) {
        const FeatureWord *fw = &feature_words[w];
        const struct kvm_cpuid_entry2 *e = find_entry(supported, fw->leaf,
                                                      fw->subleaf);
        flags_set[w] = flags_on[w] & (e ? entry_reg(e, fw->reg) : 0);
        for (int bit = 0; bit < 32; bit++) {
            if (flags_on[w] & ~flags_set[w] & (1u << bit)) {
                g_string_append_printf(missing, " %s (CPUID.%02XH:%s bit %d)",
                                       fw->names[bit], fw->leaf,
                                       reg_names[fw->reg], bit);
            }
        }
    }
    if (missing->len && enforce) {
        return error_fail(errp, "-cpu with enforce=on: the host does not "
                          "offer:%s", missing->str);
    }
    if (missing->len && check) {
        warn_report("-cpu: the host does not offer (the guest will not "
                    "see):%s", missing->str);
    }
    return true;
}

void x86_cpu_apply_cpuid(struct kvm_cpuid_entry2 *e)
{
    uint32_t *regs[] = { &e->eax, &e->ebx, &e->ecx, &e->edx };

    if (cpu_model->baseline) {
        if (e->function == 1) {
            /* sse3 cx16 sse4.1 sse4.2 popcnt hypervisor */
            e->ecx &= (1u << 0) | (1u << 13) | (1u << 19) | (1u << 20) |
                      (1u << 23) | (1u << 31);
        } else if (e->function == 7) {
            e->ebx = e->ecx = e->edx = 0;
        }
    }
    if (!cpu_model->long_mode && e->function == 0x80000001) {
        e->edx &= ~(1u << 29);
    }
    for (unsigned w = 0; w < NR_WORDS; w++) {
        const FeatureWord *fw = &feature_words[w];
        if (e->function == fw->leaf && e->index == fw->subleaf) {
            *regs[fw->reg] = (*regs[fw->reg] | flags_set[w]) & ~flags_off[w];
        }
    }
}
