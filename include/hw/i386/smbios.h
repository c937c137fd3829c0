/*
 * SMBIOS (DMI) tables for the firmware: fw_cfg files etc/smbios/smbios-anchor
 * (a 2.1 "_SM_" entry point) and etc/smbios/smbios-tables (the structures).
 * SeaBIOS copies them instead of building its own and adds the type 0
 * (BIOS) structure it describes itself.
 */
#ifndef HW_I386_SMBIOS_H
#define HW_I386_SMBIOS_H

#include "util/osdep.h"

typedef struct FWCfgState FWCfgState;

typedef struct SmbiosConfig {
    uint64_t below_4g_mem_size;
    uint64_t above_4g_mem_size;
    unsigned cpus;
    uint8_t uuid[16];           /* as -uuid gives it (RFC 4122 byte order) */
    uint32_t cpuid_1_eax, cpuid_1_edx;  /* the processor ID of type 4 */
} SmbiosConfig;

#define SMBIOS_ANCHOR_LEN 31

/* The entry point (SMBIOS_ANCHOR_LEN bytes) and the structure table. */
void smbios_build(const SmbiosConfig *cfg, GByteArray *anchor,
                  GByteArray *tables);
void smbios_install(FWCfgState *fw_cfg, const SmbiosConfig *cfg);

#endif
