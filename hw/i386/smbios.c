/*
 * SMBIOS tables (DMTF DSP0134, version 2.8 layouts): system, enclosure,
 * one processor per vCPU, the memory array, its devices and mapped ranges,
 * boot information.  The firmware adds the type 0 BIOS structure.
 *
 * Handing SeaBIOS finished tables also spares it building them itself,
 * which costs it about 100 ms of emulated instructions on hosts that
 * emulate firmware code.
 */
#include "hw/i386/smbios.h"
#include "hw/i386/fw_cfg.h"

#define DIMM_MAX_SIZE (16 * GiB)       /* one type 17 device per 16 GiB */

enum {
    HANDLE_SYSTEM = 0x100,
    HANDLE_CHASSIS = 0x300,
    HANDLE_CPU = 0x400,
    HANDLE_MEM_ARRAY = 0x1000,
    HANDLE_MEM_DEVICE = 0x1100,
    HANDLE_MEM_MAPPED = 0x1300,
    HANDLE_BOOT = 0x2000,
    HANDLE_END = 0x7f00,
};

typedef struct Builder {
    GByteArray *t;
    size_t start;               /* of the structure being built */
    GPtrArray *strings;         /* of the structure being built */
    unsigned count;
    size_t max_size;
} Builder;

static void put8(Builder *b, uint8_t v)
{
    g_byte_array_append(b->t, &v, 1);
}

static void put16(Builder *b, uint16_t v)
{
    uint8_t le[2] = { v, v >> 8 };
    g_byte_array_append(b->t, le, 2);
}

static void put32(Builder *b, uint32_t v)
{
    put16(b, v);
    put16(b, v >> 16);
}

static void put64(Builder *b, uint64_t v)
{
    put32(b, v);
    put32(b, v >> 32);
}

/* Formatted area header; the length byte is filled in by end_struct(). */
static void begin_struct(Builder *b, uint8_t type, uint16_t handle)
{
    b->start = b->t->len;
    put8(b, type);
    put8(b, 0);
    put16(b, handle);
}

/* Strings follow the formatted area; returns the string number to store
 * in it (0 for none). */
static uint8_t str(Builder *b, const char *s)
{
    if (!s || !*s) {
        return 0;
    }
    g_ptr_array_add(b->strings, g_strdup(s));
    return b->strings->len;
}

static void end_struct(Builder *b)
{
    b->t->data[b->start + 1] = b->t->len - b->start;
    for (unsigned i = 0; i < b->strings->len; i++) {
        const char *s = g_ptr_array_index(b->strings, i);
        g_byte_array_append(b->t, (const uint8_t *)s, strlen(s) + 1);
    }
    if (!b->strings->len) {
        put8(b, 0);
    }
    put8(b, 0);
    g_ptr_array_set_size(b->strings, 0);
    b->max_size = MAX(b->max_size, b->t->len - b->start);
    b->count++;
}

static void type1_system(Builder *b, const SmbiosConfig *cfg)
{
    begin_struct(b, 1, HANDLE_SYSTEM);
    put8(b, str(b, "kestrel"));
    put8(b, str(b, "Standard PC (i440FX + PIIX, 1996)"));
    put8(b, str(b, "pc"));
    put8(b, 0);                         /* serial number */
    /* The first three UUID fields are little-endian since SMBIOS 2.6. */
    const uint8_t *u = cfg->uuid;
    uint8_t wire[16] = { u[3], u[2], u[1], u[0], u[5], u[4], u[7], u[6] };
    memcpy(wire + 8, u + 8, 8);
    g_byte_array_append(b->t, wire, 16);
    put8(b, 0x06);                      /* woken by the power switch */
    put8(b, 0);                         /* SKU */
    put8(b, 0);                         /* family */
    end_struct(b);
}

static void type3_chassis(Builder *b)
{
    begin_struct(b, 3, HANDLE_CHASSIS);
    put8(b, str(b, "kestrel"));
    put8(b, 0x01);                      /* type: other */
    put8(b, str(b, "pc"));
    put8(b, 0);                         /* serial number */
    put8(b, 0);                         /* asset tag */
    put8(b, 0x03);                      /* boot-up state: safe */
    put8(b, 0x03);                      /* power supply state: safe */
    put8(b, 0x03);                      /* thermal state: safe */
    put8(b, 0x02);                      /* security status: unknown */
    put32(b, 0);                        /* OEM-defined */
    put8(b, 0);                         /* height: unspecified */
    put8(b, 0);                         /* power cords: unspecified */
    put8(b, 0);                         /* contained elements */
    put8(b, 0);                         /* their record length */
    put8(b, 0);                         /* SKU */
    end_struct(b);
}

static void type4_processor(Builder *b, const SmbiosConfig *cfg,
                            unsigned index)
{
    char socket[16];

    snprintf(socket, sizeof(socket), "CPU %u", index);
    begin_struct(b, 4, HANDLE_CPU + index);
    put8(b, str(b, socket));
    put8(b, 0x03);                      /* central processor */
    put8(b, 0xfe);                      /* family: see family 2 */
    put8(b, str(b, "kestrel"));
    put32(b, cfg->cpuid_1_eax);         /* processor ID: CPUID.1 EAX, EDX */
    put32(b, cfg->cpuid_1_edx);
    put8(b, str(b, "pc-cpu"));
    put8(b, 0);                         /* voltage: unknown */
    put16(b, 0);                        /* external clock: unknown */
    put16(b, 2000);                     /* max speed, MHz */
    put16(b, 2000);                     /* current speed, MHz */
    put8(b, 0x41);                      /* socket populated, CPU enabled */
    put8(b, 0x01);                      /* upgrade: other */
    put16(b, 0xffff);                   /* L1, L2, L3 cache: none given */
    put16(b, 0xffff);
    put16(b, 0xffff);
    put8(b, 0);                         /* serial number */
    put8(b, 0);                         /* asset tag */
    put8(b, 0);                         /* part number */
    put8(b, 1);                         /* cores */
    put8(b, 1);                         /* cores enabled */
    put8(b, 1);                         /* threads */
    put16(b, 0x0004);                   /* characteristics: 64-bit capable */
    put16(b, 0x0001);                   /* family 2: other */
    end_struct(b);
}

static void type16_memory_array(Builder *b, uint64_t ram, unsigned dimms)
{
    uint64_t kib = ram / KiB;

    begin_struct(b, 16, HANDLE_MEM_ARRAY);
    put8(b, 0x01);                      /* location: other */
    put8(b, 0x03);                      /* use: system memory */
    put8(b, 0x06);                      /* error correction: multi-bit ECC */
    put32(b, kib < 0x80000000ULL ? kib : 0x80000000U);
    put16(b, 0xfffe);                   /* error information: none */
    put16(b, dimms);
    put64(b, kib < 0x80000000ULL ? 0 : ram);
    end_struct(b);
}

static void type17_memory_device(Builder *b, unsigned index, uint64_t size)
{
    char locator[16];
    uint64_t mib = size / MiB;

    snprintf(locator, sizeof(locator), "DIMM %u", index);
    begin_struct(b, 17, HANDLE_MEM_DEVICE + index);
    put16(b, HANDLE_MEM_ARRAY);
    put16(b, 0xfffe);                   /* error information: none */
    put16(b, 64);                       /* total width, bits */
    put16(b, 64);                       /* data width, bits */
    put16(b, mib < 0x7fff ? mib : 0x7fff);   /* 0x7fff: see extended */
    put8(b, 0x09);                      /* form factor: DIMM */
    put8(b, 0);                         /* device set: none */
    put8(b, str(b, locator));
    put8(b, 0);                         /* bank locator */
    put8(b, 0x07);                      /* type: RAM */
    put16(b, 0x0002);                   /* type detail: other */
    put16(b, 0);                        /* speed: unknown */
    put8(b, str(b, "kestrel"));
    put8(b, 0);                         /* serial number */
    put8(b, 0);                         /* asset tag */
    put8(b, 0);                         /* part number */
    put8(b, 0);                         /* attributes: rank unknown */
    put32(b, mib < 0x7fff ? 0 : mib);   /* extended size, MiB */
    put16(b, 0);                        /* configured speed: unknown */
    put16(b, 0);                        /* minimum, maximum, configured */
    put16(b, 0);                        /* voltage: unknown */
    put16(b, 0);
    end_struct(b);
}

static void type19_mapped_range(Builder *b, unsigned index, uint64_t start,
                                uint64_t size)
{
    uint64_t end = start + size - 1;
    bool extended = end / KiB >= 0xffffffffULL;

    begin_struct(b, 19, HANDLE_MEM_MAPPED + index);
    put32(b, extended ? 0xffffffffU : start / KiB);
    put32(b, extended ? 0xffffffffU : end / KiB);
    put16(b, HANDLE_MEM_ARRAY);
    put8(b, 1);                         /* partition width */
    put64(b, extended ? start : 0);
    put64(b, extended ? end : 0);
    end_struct(b);
}

static void type32_boot(Builder *b)
{
    begin_struct(b, 32, HANDLE_BOOT);
    for (int i = 0; i < 6; i++) {
        put8(b, 0);                     /* reserved */
    }
    put8(b, 0);                         /* no errors detected */
    end_struct(b);
}

static uint8_t sum_bytes(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;

    while (len--) {
        sum += *p++;
    }
    return sum;
}

void smbios_build(const SmbiosConfig *cfg, GByteArray *anchor,
                  GByteArray *tables)
{
    Builder b = {
        .t = tables, .strings = g_ptr_array_new_with_free_func(g_free),
    };
    uint64_t ram = cfg->below_4g_mem_size + cfg->above_4g_mem_size;
    unsigned dimms = MAX(1, (ram + DIMM_MAX_SIZE - 1) / DIMM_MAX_SIZE);

    type1_system(&b, cfg);
    type3_chassis(&b);
    for (unsigned i = 0; i < cfg->cpus; i++) {
        type4_processor(&b, cfg, i);
    }
    type16_memory_array(&b, ram, dimms);
    for (unsigned i = 0; i < dimms; i++) {
        uint64_t left = ram - (uint64_t)i * DIMM_MAX_SIZE;
        type17_memory_device(&b, i, MIN(left, DIMM_MAX_SIZE));
    }
    unsigned ranges = 0;
    if (cfg->below_4g_mem_size) {
        type19_mapped_range(&b, ranges++, 0, cfg->below_4g_mem_size);
    }
    if (cfg->above_4g_mem_size) {
        type19_mapped_range(&b, ranges++, 4 * GiB, cfg->above_4g_mem_size);
    }
    type32_boot(&b);
    begin_struct(&b, 127, HANDLE_END);
    end_struct(&b);
    g_ptr_array_free(b.strings, true);

    /* SMBIOS 2.1 32-bit entry point; the firmware sets the table address
     * and recomputes both checksums when it places the tables. */
    uint8_t ep[SMBIOS_ANCHOR_LEN] = { '_', 'S', 'M', '_' };
    ep[5] = SMBIOS_ANCHOR_LEN;
    ep[6] = 2;                          /* version 2.8 */
    ep[7] = 8;
    ep[8] = b.max_size;
    ep[9] = b.max_size >> 8;
    memcpy(ep + 16, "_DMI_", 5);
    ep[22] = tables->len;
    ep[23] = tables->len >> 8;
    ep[28] = b.count;
    ep[29] = b.count >> 8;
    ep[30] = 0x28;                      /* BCD revision 2.8 */
    ep[21] = -sum_bytes(ep + 16, SMBIOS_ANCHOR_LEN - 16);
    ep[4] = -sum_bytes(ep, 16);
    g_byte_array_append(anchor, ep, sizeof(ep));
}

void smbios_install(FWCfgState *fw_cfg, const SmbiosConfig *cfg)
{
    GByteArray *anchor = g_byte_array_new();
    GByteArray *tables = g_byte_array_new();

    smbios_build(cfg, anchor, tables);
    /* The 2.1 entry point has a 16-bit table length. */
    if (tables->len <= 0xffff) {
        fw_cfg_add_file(fw_cfg, "etc/smbios/smbios-tables", tables->data,
                        tables->len);
        fw_cfg_add_file(fw_cfg, "etc/smbios/smbios-anchor", anchor->data,
                        anchor->len);
    }
    g_byte_array_free(anchor, true);
    g_byte_array_free(tables, true);
}
