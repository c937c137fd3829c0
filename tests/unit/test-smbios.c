/*
 * SMBIOS tables: entry point checksums and counts, every structure's
 * formatted length and string set, the values a guest reads (UUID byte
 * order, memory sizes and ranges, one processor per CPU), and, where
 * dmidecode is installed, its decoding of the tables as a dump file.
 */
#include "hw/i386/smbios.h"
#include <glib/gstdio.h>

typedef struct Parsed {
    GArray *offsets;            /* of each structure in the table */
    unsigned types[256];        /* how many of each type */
} Parsed;

static const uint8_t expected_len[256] = {
    [1] = 27, [3] = 22, [4] = 42, [16] = 23, [17] = 40, [19] = 31,
    [32] = 11, [127] = 4,
};

static uint8_t sum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;

    while (len--) {
        s += *p++;
    }
    return s;
}

static uint16_t le16(const uint8_t *p)
{
    return p[0] | p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
    return le16(p) | (uint32_t)le16(p + 2) << 16;
}

static uint64_t le64(const uint8_t *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Walk the table, checking the entry point against it. */
static Parsed parse(const GByteArray *ep, const GByteArray *t)
{
    Parsed p = { .offsets = g_array_new(false, false, sizeof(size_t)) };
    size_t off = 0, max = 0;

    g_assert_cmpuint(ep->len, ==, SMBIOS_ANCHOR_LEN);
    g_assert(!memcmp(ep->data, "_SM_", 4));
    g_assert(!memcmp(ep->data + 16, "_DMI_", 5));
    g_assert_cmpuint(ep->data[5], ==, SMBIOS_ANCHOR_LEN);
    g_assert_cmpuint(sum(ep->data, 16), ==, 0);
    g_assert_cmpuint(sum(ep->data + 16, SMBIOS_ANCHOR_LEN - 16), ==, 0);
    g_assert_cmpuint(le16(ep->data + 22), ==, t->len);

    while (off < t->len) {
        const uint8_t *s = t->data + off;
        g_assert_cmpuint(off + 4, <=, t->len);
        g_assert_cmpuint(s[1], ==, expected_len[s[0]]);
        g_array_append_val(p.offsets, off);
        p.types[s[0]]++;
        /* the string set ends with two NULs */
        size_t end = off + s[1];
        while (end + 1 < t->len && (t->data[end] || t->data[end + 1])) {
            end++;
        }
        g_assert_cmpuint(end + 1, <, t->len);
        end += 2;
        max = MAX(max, end - off);
        off = end;
        if (s[0] == 127) {
            break;
        }
    }
    g_assert_cmpuint(off, ==, t->len);
    g_assert_cmpuint(le16(ep->data + 28), ==, p.offsets->len);
    g_assert_cmpuint(le16(ep->data + 8), ==, max);
    return p;
}

static const uint8_t *find(const GByteArray *t, const Parsed *p, int type,
                           unsigned nth)
{
    for (unsigned i = 0; i < p->offsets->len; i++) {
        const uint8_t *s = t->data + g_array_index(p->offsets, size_t, i);
        if (s[0] == type && nth-- == 0) {
            return s;
        }
    }
    return NULL;
}

/* String number n (from 1) of structure s. */
static const char *string_of(const uint8_t *s, unsigned n)
{
    const char *str = (const char *)s + s[1];

    g_assert_cmpuint(n, >, 0);
    while (--n) {
        str += strlen(str) + 1;
        g_assert(*str);
    }
    return str;
}

static void build(const SmbiosConfig *cfg, GByteArray **ep, GByteArray **t)
{
    *ep = g_byte_array_new();
    *t = g_byte_array_new();
    smbios_build(cfg, *ep, *t);
}

static void test_small_machine(void)
{
    SmbiosConfig cfg = {
        .below_4g_mem_size = 128 * MiB, .cpus = 1,
        .uuid = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 },
        .cpuid_1_eax = 0x000806f8, .cpuid_1_edx = 0x0f8bfbff,
    };
    GByteArray *ep, *t;
    build(&cfg, &ep, &t);
    Parsed p = parse(ep, t);

    g_assert_cmpuint(p.types[1], ==, 1);
    g_assert_cmpuint(p.types[3], ==, 1);
    g_assert_cmpuint(p.types[4], ==, 1);
    g_assert_cmpuint(p.types[16], ==, 1);
    g_assert_cmpuint(p.types[17], ==, 1);
    g_assert_cmpuint(p.types[19], ==, 1);
    g_assert_cmpuint(p.types[32], ==, 1);
    g_assert_cmpuint(p.types[127], ==, 1);
    g_assert_cmpuint(p.types[0], ==, 0);    /* the firmware's own */

    const uint8_t *sys = find(t, &p, 1, 0);
    g_assert_cmpstr(string_of(sys, sys[4]), ==, "kestrel");
    g_assert_cmpstr(string_of(sys, sys[5]), ==,
                    "Standard PC (i440FX + PIIX, 1996)");
    static const uint8_t wire[16] = {
        0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde,
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
    };
    g_assert(!memcmp(sys + 8, wire, 16));

    const uint8_t *cpu = find(t, &p, 4, 0);
    g_assert_cmpstr(string_of(cpu, cpu[4]), ==, "CPU 0");
    g_assert_cmphex(le32(cpu + 8), ==, 0x000806f8);
    g_assert_cmphex(le32(cpu + 12), ==, 0x0f8bfbff);
    g_assert_cmphex(cpu[24], ==, 0x41);

    const uint8_t *arr = find(t, &p, 16, 0);
    g_assert_cmpuint(le32(arr + 7), ==, 128 * 1024);       /* KiB */
    g_assert_cmpuint(le16(arr + 13), ==, 1);
    const uint8_t *dimm = find(t, &p, 17, 0);
    g_assert_cmpuint(le16(dimm + 4), ==, le16(arr + 2));   /* its array */
    g_assert_cmpuint(le16(dimm + 12), ==, 128);            /* MiB */
    const uint8_t *map = find(t, &p, 19, 0);
    g_assert_cmpuint(le32(map + 4), ==, 0);
    g_assert_cmpuint(le32(map + 8), ==, 128 * 1024 - 1);
    g_assert_cmpuint(le16(map + 12), ==, le16(arr + 2));

    /* handles are unique */
    GHashTable *handles = g_hash_table_new(NULL, NULL);
    for (unsigned i = 0; i < p.offsets->len; i++) {
        uint16_t h = le16(t->data + g_array_index(p.offsets, size_t, i) + 2);
        g_assert(g_hash_table_add(handles, GUINT_TO_POINTER(h + 1)));
    }
    g_hash_table_destroy(handles);
    g_array_free(p.offsets, true);
    g_byte_array_free(ep, true);
    g_byte_array_free(t, true);
}

static void test_large_machine(void)
{
    /* 3 GiB below 4 GiB and 37 GiB above: 40 GiB in three DIMMs */
    SmbiosConfig cfg = {
        .below_4g_mem_size = 3 * GiB, .above_4g_mem_size = 37 * GiB,
        .cpus = 4,
    };
    GByteArray *ep, *t;
    build(&cfg, &ep, &t);
    Parsed p = parse(ep, t);

    g_assert_cmpuint(p.types[4], ==, 4);
    g_assert_cmpstr(string_of(find(t, &p, 4, 3), find(t, &p, 4, 3)[4]), ==,
                    "CPU 3");
    g_assert_cmpuint(p.types[17], ==, 3);
    g_assert_cmpuint(le16(find(t, &p, 17, 0) + 12), ==, 16384);
    g_assert_cmpuint(le16(find(t, &p, 17, 2) + 12), ==, 8192);
    g_assert_cmpuint(p.types[19], ==, 2);
    const uint8_t *high = find(t, &p, 19, 1);
    g_assert_cmpuint(le32(high + 4), ==, 4 * 1024 * 1024);  /* KiB */
    g_assert_cmpuint(le32(high + 8), ==, 41ULL * 1024 * 1024 - 1);
    g_array_free(p.offsets, true);
    g_byte_array_free(ep, true);
    g_byte_array_free(t, true);
}

static void test_huge_machine(void)
{
    /* Beyond 32-bit KiB fields: the extended ones carry the sizes. */
    SmbiosConfig cfg = {
        .below_4g_mem_size = 3 * GiB, .above_4g_mem_size = 5 * 1024 * GiB,
        .cpus = 1,
    };
    GByteArray *ep, *t;
    build(&cfg, &ep, &t);
    Parsed p = parse(ep, t);

    const uint8_t *arr = find(t, &p, 16, 0);
    g_assert_cmphex(le32(arr + 7), ==, 0x80000000);
    g_assert_cmpuint(le64(arr + 15), ==, 5 * 1024 * GiB + 3 * GiB);
    const uint8_t *high = find(t, &p, 19, 1);
    g_assert_cmphex(le32(high + 4), ==, 0xffffffff);
    g_assert_cmpuint(le64(high + 15), ==, 4 * GiB);
    g_assert_cmpuint(le64(high + 23), ==, 4 * GiB + 5 * 1024 * GiB - 1);
    g_array_free(p.offsets, true);
    g_byte_array_free(ep, true);
    g_byte_array_free(t, true);
}

/* dmidecode reads a dump: the entry point at 0, the table at 0x20. */
static void test_dmidecode(void)
{
    g_autofree char *dmidecode = g_find_program_in_path("dmidecode");
    if (!dmidecode && g_file_test("/usr/sbin/dmidecode", G_FILE_TEST_EXISTS)) {
        dmidecode = g_strdup("/usr/sbin/dmidecode");
    }
    if (!dmidecode) {
        g_test_skip("dmidecode is not installed");
        return;
    }
    SmbiosConfig cfg = {
        .below_4g_mem_size = 3 * GiB, .above_4g_mem_size = 2 * GiB,
        .cpus = 2,
        .uuid = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 },
    };
    GByteArray *ep, *t;
    build(&cfg, &ep, &t);
    ep->data[24] = 0x20;                /* table address */
    ep->data[21] = 0;
    ep->data[21] = -sum(ep->data + 16, SMBIOS_ANCHOR_LEN - 16);
    ep->data[4] = 0;
    ep->data[4] = -sum(ep->data, 16);
    GByteArray *dump = g_byte_array_new();
    g_byte_array_append(dump, ep->data, ep->len);
    g_byte_array_set_size(dump, 0x20);
    memset(dump->data + ep->len, 0, 0x20 - ep->len);
    g_byte_array_append(dump, t->data, t->len);

    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("smbios-XXXXXX.bin", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert(g_file_set_contents(path, (char *)dump->data, dump->len, NULL));
    close(fd);
    g_autofree char *out = NULL, *err = NULL;
    int status;
    const char *argv[] = { dmidecode, "--from-dump", path, NULL };
    g_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL,
                          NULL, &out, &err, &status, NULL));
    g_unlink(path);
    if (g_test_verbose()) {
        printf("%s%s", out, err);
    }
    g_assert_cmpint(status, ==, 0);
    g_assert_null(strstr(out, "Invalid"));
    g_assert_null(strstr(out, "wrong"));
    g_assert_null(strstr(out, "truncated"));
    g_assert_null(strstr(err, "nvalid"));
    g_assert_nonnull(strstr(out, "SMBIOS 2.8 present."));
    g_assert_nonnull(strstr(out, "Manufacturer: kestrel"));
    g_assert_nonnull(strstr(out,
                            "Product Name: Standard PC (i440FX + PIIX, 1996)"));
    g_assert_nonnull(strstr(out, "UUID: 12345678-9abc-def0-0102-030405060708"));
    g_assert_nonnull(strstr(out, "Socket Designation: CPU 1"));
    g_assert_nonnull(strstr(out, "Maximum Capacity: 5 GB"));
    g_assert_nonnull(strstr(out, "Size: 5 GB"));
    g_assert_nonnull(strstr(out, "Ending Address: 0x000BFFFFFFF"));
    g_assert_nonnull(strstr(out, "Starting Address: 0x00100000000"));
    g_assert_nonnull(strstr(out, "End Of Table"));
    g_byte_array_free(dump, true);
    g_byte_array_free(ep, true);
    g_byte_array_free(t, true);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/smbios/small-machine", test_small_machine);
    g_test_add_func("/smbios/large-machine", test_large_machine);
    g_test_add_func("/smbios/huge-machine", test_huge_machine);
    g_test_add_func("/smbios/dmidecode", test_dmidecode);
    return g_test_run();
}
