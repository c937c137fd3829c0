/*
 * -cpu: the parser (models, flags in all of QEMU's spellings, typed
 * properties, what QEMU refuses) and what reaches a vCPU's CPUID, on a
 * made-up KVM_GET_SUPPORTED_CPUID.
 */
#include "hw/i386/cpu-model.h"

#define BIT(n) (1u << (n))

/* What the made-up host offers. */
static const struct kvm_cpuid_entry2 host_entries[] = {
    { .function = 1, .ecx = BIT(0) | BIT(19) | BIT(20) | BIT(28) | BIT(31),
      .edx = BIT(0) | BIT(25) | BIT(26) },          /* no avx512 anywhere */
    { .function = 7, .ebx = BIT(5) | BIT(8) },      /* avx2 bmi2 */
    { .function = 0x40000001, .eax = BIT(0) | BIT(3) | BIT(7) },
    { .function = 0x80000001, .ecx = BIT(0), .edx = BIT(11) | BIT(29) },
};

static struct kvm_cpuid2 *host_cpuid(void)
{
    struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + sizeof(host_entries));
    c->nent = G_N_ELEMENTS(host_entries);
    memcpy(c->entries, host_entries, sizeof(host_entries));
    return c;
}

/* Parse arg (it must be accepted), check it against the host, and give
 * one vCPU's CPUID as *out. */
static bool cpuid_for(const char *arg, struct kvm_cpuid2 **out, Error **errp)
{
    const char *model;
    Error *err = NULL;

    if (!x86_cpu_parse(arg, &model, &err)) {
        g_error("-cpu %s: %s", arg, err->msg);
    }
    g_autofree struct kvm_cpuid2 *host = host_cpuid();
    if (!x86_cpu_check_supported(host, errp)) {
        return false;
    }
    *out = host_cpuid();
    for (unsigned i = 0; i < (*out)->nent; i++) {
        x86_cpu_apply_cpuid(&(*out)->entries[i]);
    }
    return true;
}

static const struct kvm_cpuid_entry2 *leaf(struct kvm_cpuid2 *c, uint32_t fn)
{
    for (unsigned i = 0; i < c->nent; i++) {
        if (c->entries[i].function == fn) {
            return &c->entries[i];
        }
    }
    g_assert_not_reached();
}

static void expect_parse_error(const char *arg, const char *text)
{
    const char *model;
    Error *err = NULL;

    g_assert_false(x86_cpu_parse(arg, &model, &err));
    if (!strstr(err->msg, text)) {
        g_error("-cpu %s: '%s' does not say '%s'", arg, err->msg, text);
    }
    error_free(err);
}

static void test_parse(void)
{
    static const char *const good[] = {
        "host", "max", "qemu64", "kvm64", "qemu32", "kvm32",
        "qemu64,apic-id=0",             /* QEMU's machine-none-test */
        "qemu64,+avx,-sse4.2,avx2=on,bmi2=off,fpu",
        "qemu64,sse4_1=on,sse3=off,lahf_lm,+i64,-xd,pclmuldq=yes",
        "qemu64,family=6,model=0x3a,stepping=9,vendor=GenuineIntel",
        "qemu64,model-id=Some CPU,tsc_freq=1000000,hv_spinlocks=0x1fff",
        "qemu64,vmx-ept=off,+sgx1,enforce=off,check=on",
        "qemu64,,avx",                  /* empty items, as QEMU skips */
        "host,migratable=off,host-cache-info=on",
        "qemu64,hv-no-nonarch-coresharing=auto,core-id=-1",
    };
    const char *model;
    Error *err = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        if (!x86_cpu_parse(good[i], &model, &err)) {
            g_error("-cpu %s: %s", good[i], err->msg);
        }
    }
    g_assert_true(x86_cpu_parse("qemu32,apic-id=0", &model, &err));
    g_assert_cmpstr(model, ==, "qemu32");

    expect_parse_error("pentium9", "unable to find CPU model 'pentium9'");
    expect_parse_error("qemu64-x86_64-cpu", "unable to find CPU model");
    expect_parse_error("qemu64,foo=1", "has no property or flag 'foo'");
    expect_parse_error("qemu64,+foo", "has no property or flag 'foo'");
    expect_parse_error("qemu64,AVX=on", "flag 'AVX'");
    expect_parse_error("qemu64,avx=maybe", "'avx' expects on or off");
    expect_parse_error("qemu64,vmx-ept=2", "'vmx-ept' expects on or off");
    expect_parse_error("qemu64,apic-id=x", "'apic-id' expects an integer");
    expect_parse_error("qemu64,apic-id=-1", "from 0 to 4294967295");
    expect_parse_error("qemu64,apic-id=0x100000000", "from 0 to 4294967295");
    expect_parse_error("qemu64,family=271", "from 0 to 270");
    expect_parse_error("qemu64,stepping=16", "from 0 to 15");
    expect_parse_error("qemu64,host-phys-bits-limit=256", "from 0 to 255");
    expect_parse_error("qemu64,vendor=Intel", "12 characters");
    expect_parse_error("qemu64,pmu=2", "'pmu' expects on or off");
    expect_parse_error("qemu64,hv-no-nonarch-coresharing=x", "on, off or auto");
    expect_parse_error("qemu64,+apic-id", "'apic-id' is not a flag");
    expect_parse_error("qemu64,-family", "'family' is not a flag");
    expect_parse_error("qemu64,filtered-features=x", "read-only");
    expect_parse_error("qemu64,migratable=on", "no property or flag "
                       "'migratable'");          /* host and max only */
    expect_parse_error("qemu64,=on", "name is missing");
    expect_parse_error("qemu64,+", "name is missing");
}

static void test_host_flags(void)
{
    struct kvm_cpuid2 *c;

    g_assert_true(cpuid_for("host,-lm,kvmclock=off,+avx2,-hypervisor", &c,
                            NULL));
    g_assert_cmphex(leaf(c, 0x80000001)->edx, ==, BIT(11));   /* syscall */
    g_assert_cmphex(leaf(c, 0x40000001)->eax, ==, BIT(7));    /* both bits */
    g_assert_cmphex(leaf(c, 7)->ebx, ==, BIT(5) | BIT(8));
    g_assert_false(leaf(c, 1)->ecx & BIT(31));
    g_free(c);
}

/* qemu64 is a baseline; +flag adds what the host has, -flag wins. */
static void test_baseline(void)
{
    struct kvm_cpuid2 *c;

    g_assert_true(cpuid_for("qemu64", &c, NULL));
    g_assert_cmphex(leaf(c, 7)->ebx, ==, 0);
    g_assert_cmphex(leaf(c, 1)->ecx, ==, BIT(0) | BIT(19) | BIT(20) |
                    BIT(31));                       /* no avx */
    g_assert_true(leaf(c, 0x80000001)->edx & BIT(29));
    g_free(c);

    g_assert_true(cpuid_for("qemu64,+avx2,avx=on,-sse4.2,+avx2", &c, NULL));
    g_assert_cmphex(leaf(c, 7)->ebx, ==, BIT(5));
    g_assert_true(leaf(c, 1)->ecx & BIT(28));
    g_assert_false(leaf(c, 1)->ecx & BIT(20));
    g_free(c);

    /* -flag over +flag whatever the order; +flag over flag=off. */
    g_assert_true(cpuid_for("qemu64,-avx2,+avx2,+bmi2,bmi2=off", &c, NULL));
    g_assert_cmphex(leaf(c, 7)->ebx, ==, BIT(8));
    g_free(c);

    g_assert_true(cpuid_for("qemu32", &c, NULL));
    g_assert_false(leaf(c, 0x80000001)->edx & BIT(29));
    g_free(c);
}

/* What the host lacks stays off: a warning, or with enforce an error. */
static void test_unsupported(void)
{
    struct kvm_cpuid2 *c;
    Error *err = NULL;

    g_assert_true(cpuid_for("host,+avx512f,+la57", &c, NULL));
    g_assert_false(leaf(c, 7)->ebx & BIT(16));
    g_assert_cmphex(leaf(c, 7)->ecx, ==, 0);
    g_free(c);

    g_assert_false(cpuid_for("qemu64,+avx512f,enforce=on", &c, &err));
    g_assert_nonnull(strstr(err->msg, "avx512f (CPUID.07H:EBX bit 16)"));
    error_free(err);
    g_assert_true(cpuid_for("qemu64,+avx512f,enforce=on,-enforce", &c, NULL));
    g_free(c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cpu-model/parse", test_parse);
    g_test_add_func("/cpu-model/host-flags", test_host_flags);
    g_test_add_func("/cpu-model/baseline", test_baseline);
    g_test_add_func("/cpu-model/unsupported", test_unsupported);
    return g_test_run();
}
