/*
 * The i440fx PC: RAM below and above 4 GiB, the BIOS ROM at the top of 4 GiB
 * with its last 128 KiB aliased at 0xe0000, the option ROM area, the chipset
 * (i440FX host bridge with PAM, PIIX3), the ISA devices, fw_cfg and boot.
 *
 * Physical memory (system memory container):
 *   ram-below-4g   0 .. below_4g            priority 0
 *   pam-*          0xc0000 .. 0xfffff        priority 1 (i440fx.c)
 *   pci            whole space               priority -1: what RAM leaves
 *     pc.rom       0xc0000 (128 KiB)         option ROMs
 *     isa-bios     0xe0000 (128 KiB)         alias of the BIOS' end
 *   pc.bios        4G - bios size
 *   ram-above-4g   4 GiB ..
 *
 * With -drive if=pflash, cfi.pflash01 chips take pc.bios' place: unit 0
 * ends at 4 GiB (the firmware, its end aliased at 0xe0000), unit 1 (a
 * variable store) sits right below it.
 */
#include "hw/i386/pc.h"
#include "hw/i386/x86.h"
#include "hw/i386/fw_cfg.h"
#include "hw/i386/x86-boot.h"
#include "hw/pci/pci.h"
#include "hw/pci-host/i440fx.h"
#include "hw/isa/piix3.h"
#include "hw/acpi/piix4-pm.h"
#include "hw/block/ide.h"
#include "hw/misc/pflash.h"
#include "block/drive.h"
#include "hw/timer/mc146818rtc.h"
#include "hw/core/loader.h"
#include "hw/intc/pc-irqchip.h"
#include "accel/kvm.h"
#include "hw/i386/smbios.h"
#include <cpuid.h>

#define BIOS_MAX_SIZE     (16 * MiB)
#define FLASH_MAX_SIZE    (8 * MiB)       /* QEMU's default max-fw-size */
#define ISA_BIOS_SIZE     (128 * KiB)
#define OPTION_ROM_START  0xc0000
#define OPTION_ROM_SIZE   (128 * KiB)
#define LOWMEM_MAX        0xe0000000ULL   /* PCI hole starts here at most */

static MemoryRegion ram, ram_below_4g, ram_above_4g, pci_memory;
static MemoryRegion bios, isa_bios, option_rom;
static FWCfgState *fw_cfg;
static DeviceState *rtc;
static const char *boot_order;          /* restored by the first reset */
static bool no_fd_bootchk;

static bool pc_memory_init(MachineState *ms, Error **errp)
{
    MemoryRegion *sysmem = get_system_memory();

    /* With 3.5 GiB or more, the PCI hole takes 3 GiB..4 GiB. */
    ms->below_4g_mem_size = ms->ram_size >= LOWMEM_MAX ? 0xc0000000ULL
                                                        : ms->ram_size;
    ms->above_4g_mem_size = ms->ram_size - ms->below_4g_mem_size;

    memory_region_init_ram(&ram, "pc.ram", ms->ram_size);
    ms->ram = &ram;
    memory_region_init_alias(&ram_below_4g, "ram-below-4g", &ram, 0,
                             ms->below_4g_mem_size);
    memory_region_add_subregion(sysmem, 0, &ram_below_4g);
    if (ms->above_4g_mem_size) {
        memory_region_init_alias(&ram_above_4g, "ram-above-4g", &ram,
                                 ms->below_4g_mem_size, ms->above_4g_mem_size);
        memory_region_add_subregion(sysmem, 4 * GiB, &ram_above_4g);
    }
    memory_region_init(&pci_memory, "pci", UINT64_MAX);
    memory_region_add_subregion_overlap(sysmem, 0, &pci_memory, -1);

    memory_region_init_rom(&option_rom, "pc.rom", OPTION_ROM_SIZE);
    memory_region_add_subregion_overlap(&pci_memory, OPTION_ROM_START,
                                        &option_rom, 1);

    if (ms->kernel_filename && !ms->firmware_boot) {
        /* No firmware will carve the legacy hole: give the kernel a PC map
         * (EBDA, VGA window and BIOS area are not RAM). */
        e820_add_entry(0, 0x9fc00, E820_RAM);
        e820_add_entry(0x9fc00, 0x400, E820_RESERVED);
        e820_add_entry(0xf0000, 0x10000, E820_RESERVED);
        e820_add_entry(1 * MiB, ms->below_4g_mem_size - 1 * MiB, E820_RAM);
    } else {
        /* What QEMU hands SeaBIOS, which reserves its own areas. */
        e820_add_entry(0, ms->below_4g_mem_size, E820_RAM);
    }
    if (ms->above_4g_mem_size) {
        e820_add_entry(4 * GiB, ms->above_4g_mem_size, E820_RAM);
    }
    /* KVM's identity map and TSS pages must stay out of the guest's way. */
    e820_add_entry(0xfeffc000, 0x4000, E820_RESERVED);
    return true;
}

/* The firmware's last 128 KiB also at 0xe0000, read-only. */
static void pc_isa_bios_init(MemoryRegion *fw)
{
    uint64_t isa_size = MIN(fw->size, ISA_BIOS_SIZE);

    memory_region_init_alias(&isa_bios, "isa-bios", fw, fw->size - isa_size,
                             isa_size);
    memory_region_set_readonly(&isa_bios, true);
    memory_region_add_subregion_overlap(&pci_memory, 1 * MiB - isa_size,
                                        &isa_bios, 1);
}

/*
 * One cfi.pflash01 per if=pflash drive, stacked down from 4 GiB.  *top is
 * unit 0's memory, or NULL without pflash drives.
 */
static bool pc_pflash_init(MemoryRegion **top, Error **errp)
{
    uint64_t total = 0;

    *top = NULL;
    for (int unit = 0; unit < MAX_PFLASH_UNITS; unit++) {
        DriveInfo *d = drive_get(IF_PFLASH, 0, unit);
        if (d && unit > 0 && !drive_get(IF_PFLASH, 0, unit - 1)) {
            error_setg(errp, "-drive %s: pflash unit %d requires unit %d",
                       d->optstr, unit, unit - 1);
            return false;
        }
    }
    for (int unit = 0; unit < MAX_PFLASH_UNITS; unit++) {
        DriveInfo *d = drive_get(IF_PFLASH, 0, unit);
        if (!d) {
            break;
        }
        int64_t size = blk_getlength(d->blk);
        if (size <= 0 || size % PFLASH_SECTOR_SIZE) {
            error_setg(errp, "-drive %s: pflash size %" PRId64 " is not a "
                       "non-zero multiple of %d bytes", d->optstr, size,
                       PFLASH_SECTOR_SIZE);
            return false;
        }
        total += size;
        if (total > FLASH_MAX_SIZE) {
            error_setg(errp, "-drive %s: pflash images of %" PRIu64 " bytes "
                       "in all exceed the %d MiB below 4 GiB for firmware",
                       d->optstr, total, (int)(FLASH_MAX_SIZE / MiB));
            return false;
        }
        char name[16];
        snprintf(name, sizeof(name), "system.flash%d", unit);
        DeviceState *dev = device_new("cfi.pflash01");
        if (!device_set_prop(dev, "drive", d->id, errp) ||
            !device_set_prop(dev, "name", name, errp) ||
            !device_realize(dev, errp)) {
            device_free(dev);
            error_prepend(errp, "-drive %s: ", d->optstr);
            return false;
        }
        MemoryRegion *mr = pflash_cfi01_get_memory(dev);
        memory_region_add_subregion(get_system_memory(), 4 * GiB - total, mr);
        if (unit == 0) {
            *top = mr;
        }
    }
    return true;
}

/* The firmware image at the top of 4 GiB, its last 128 KiB also at 0xe0000. */
static bool pc_bios_init(MachineState *ms, Error **errp)
{
    const char *name = ms->bios_name ? ms->bios_name : "bios-256k.bin";
    g_autofree char *path = firmware_find(name);
    size_t size;

    if (!path) {
        error_setg(errp, "could not load PC BIOS '%s'", name);
        return false;
    }
    g_autofree uint8_t *data = load_file(path, BIOS_MAX_SIZE, &size, errp);
    if (!data) {
        error_prepend(errp, "could not load PC BIOS '%s': ", name);
        return false;
    }
    if (size == 0 || size % 65536) {
        error_setg(errp, "could not load PC BIOS '%s': size %zu is not a "
                   "multiple of 64 KiB", name, size);
        return false;
    }
    memory_region_init_rom(&bios, "pc.bios", size);
    memcpy(memory_region_get_ram_ptr(&bios), data, size);
    memory_region_add_subregion(get_system_memory(), 4 * GiB - size, &bios);
    pc_isa_bios_init(&bios);
    return true;
}

/* CMOS bytes the BIOS and old guests read: memory sizes, CPUs, equipment. */
static void pc_cmos_init(MachineState *ms)
{
    uint64_t ext_kb = (ms->below_4g_mem_size - 1 * MiB) / KiB;
    uint64_t above16m = ms->below_4g_mem_size > 16 * MiB ?
                        (ms->below_4g_mem_size - 16 * MiB) / (64 * KiB) : 0;
    uint64_t above4g = ms->above_4g_mem_size / (64 * KiB);

    ext_kb = MIN(ext_kb, 0xffff);
    above16m = MIN(above16m, 0xffff);
    mc146818rtc_set_cmos_data(rtc, 0x15, 640 & 0xff);   /* base memory KB */
    mc146818rtc_set_cmos_data(rtc, 0x16, 640 >> 8);
    mc146818rtc_set_cmos_data(rtc, 0x17, ext_kb & 0xff);
    mc146818rtc_set_cmos_data(rtc, 0x18, ext_kb >> 8);
    mc146818rtc_set_cmos_data(rtc, 0x30, ext_kb & 0xff);
    mc146818rtc_set_cmos_data(rtc, 0x31, ext_kb >> 8);
    mc146818rtc_set_cmos_data(rtc, 0x34, above16m & 0xff);
    mc146818rtc_set_cmos_data(rtc, 0x35, above16m >> 8);
    mc146818rtc_set_cmos_data(rtc, 0x5b, above4g & 0xff);
    mc146818rtc_set_cmos_data(rtc, 0x5c, (above4g >> 8) & 0xff);
    mc146818rtc_set_cmos_data(rtc, 0x5d, (above4g >> 16) & 0xff);
    mc146818rtc_set_cmos_data(rtc, 0x5f, ms->smp_cpus - 1);
    mc146818rtc_set_cmos_data(rtc, 0x10, 0);            /* no floppies */
    /* Equipment byte: FPU present, PS/2 mouse port. */
    mc146818rtc_set_cmos_data(rtc, 0x14, 0x02 | 0x04);
}

/*
 * The boot order as the BIOS reads it from CMOS: up to three devices,
 * 1 floppy (a, b), 2 hard disk (c), 3 CD-ROM (d), 4 network (n), in the
 * low and high nibble of 0x3d and the high nibble of 0x38, whose bit 0
 * skips the floppy boot signature check.
 */
static bool pc_cmos_set_boot(const char *order, Error **errp)
{
    uint8_t bds[3] = { 0 };

    for (size_t i = 0; order[i]; i++) {
        if (i == ARRAY_SIZE(bds)) {
            error_setg(errp, "Too many boot devices for PC");
            return false;
        }
        switch (order[i]) {
        case 'a':
        case 'b':
            bds[i] = 1;
            break;
        case 'c':
            bds[i] = 2;
            break;
        case 'd':
            bds[i] = 3;
            break;
        case 'n':
            bds[i] = 4;
            break;
        default:
            error_setg(errp, "Invalid boot device for PC: '%c'", order[i]);
            return false;
        }
    }
    mc146818rtc_set_cmos_data(rtc, 0x3d, bds[0] | bds[1] << 4);
    mc146818rtc_set_cmos_data(rtc, 0x38, bds[2] << 4 | no_fd_bootchk);
    return true;
}

/* -boot once= lasts until the first reset after start-up. */
static void pc_boot_once_done(SystemEvent event, ShutdownCause cause,
                              void *opaque)
{
    if (event == SYSTEM_EVENT_RESET && boot_order) {
        pc_cmos_set_boot(boot_order, NULL);     /* checked at start-up */
        boot_order = NULL;
    }
}

static bool pc_boot_init(MachineState *ms, const PCBoardOptions *opts,
                         Error **errp)
{
    const char *order = ms->boot_order ? ms->boot_order : "cad";

    no_fd_bootchk = opts->no_fd_bootchk;
    if (!pc_cmos_set_boot(order, errp)) {
        return false;
    }
    if (ms->boot_once) {
        if (!pc_cmos_set_boot(ms->boot_once, errp)) {
            return false;
        }
        boot_order = order;
        system_event_add_notifier(pc_boot_once_done, NULL);
    }
    return true;
}

bool pc_init(MachineState *ms, const PCBoardOptions *opts, Error **errp)
{
    /* The whole memory map reaches KVM in one commit, before the irqchip
     * (see kvm_irqchip_create()). */
    memory_region_transaction_begin();
    bool ok = pc_memory_init(ms, errp);
    bool need_bios = !ms->kernel_filename || ms->firmware_boot;
    MemoryRegion *flash = NULL;
    ok = ok && pc_pflash_init(&flash, errp);
    if (ok && flash) {
        /* As in QEMU: pflash unit 0 is the firmware, -bios goes unused. */
        if (ms->bios_name) {
            warn_report("-bios %s ignored: the firmware is pflash unit 0",
                        ms->bios_name);
        }
        pc_isa_bios_init(flash);
    } else if (ok && need_bios) {
        ok = pc_bios_init(ms, errp);
    }
    PCIBus *bus = ok ? i440fx_init(&ram, &pci_memory) : NULL;
    memory_region_transaction_commit();
    if (!ok) {
        return false;
    }

    if (kvm_irqchip_in_kernel()) {
        if (!kvm_irqchip_create_devices(errp)) {
            return false;
        }
    } else {
        pc_user_irqchip_create(ms);     /* qtest, kernel-irqchip=off|split */
    }
    piix3_init(bus);
    /* QEMU's pc always has the IDE function; -hda, -cdrom, if=ide. */
    if (!ide_attach_drive_table(piix3_ide_init(bus), errp)) {
        return false;
    }
    piix4_pm_init(bus);

    rtc = device_create_simple("mc146818rtc", NULL);
    device_create_simple("i8042", NULL);
    device_create_simple("port92", NULL);
    for (int i = 0; i < 4; i++) {
        if (opts->serial_chardev[i]) {
            char index[4];
            snprintf(index, sizeof(index), "%d", i);
            device_create_simple("isa-serial", "index", index,
                                 "chardev", opts->serial_chardev[i], NULL);
        }
    }
    if (opts->debugcon_chardev) {
        device_create_simple("isa-debugcon", "chardev",
                             opts->debugcon_chardev, NULL);
    }

    fw_cfg = fw_cfg_init_io_dma(0x510, 0x514, &address_space_memory);
    fw_cfg_add_i64(fw_cfg, FW_CFG_RAM_SIZE, ms->ram_size);
    fw_cfg_add_i16(fw_cfg, FW_CFG_NB_CPUS, ms->smp_cpus);
    fw_cfg_add_i16(fw_cfg, FW_CFG_MAX_CPUS, ms->smp_cpus);
    fw_cfg_add_i16(fw_cfg, FW_CFG_NOGRAPHIC, opts->nographic);
    fw_cfg_add_bytes(fw_cfg, FW_CFG_UUID, opts->uuid, sizeof(opts->uuid));
    fw_cfg_add_i16(fw_cfg, FW_CFG_BOOT_MENU, opts->boot_menu);
    fw_cfg_add_i16(fw_cfg, FW_CFG_BOOT_DEVICE,
                   ms->boot_order ? ms->boot_order[0] : 'c');
    if (opts->splash_time >= 0) {
        uint16_t t = GUINT16_TO_LE(opts->splash_time);
        fw_cfg_add_file(fw_cfg, "etc/boot-menu-wait", &t, sizeof(t));
    }
    if (opts->reboot_timeout != -2) {
        uint32_t t = GUINT32_TO_LE((uint32_t)opts->reboot_timeout);
        fw_cfg_add_file(fw_cfg, "etc/boot-fail-wait", &t, sizeof(t));
    }
    pc_cmos_init(ms);
    if (!pc_boot_init(ms, opts, errp)) {
        return false;
    }

    SmbiosConfig smbios = {
        .below_4g_mem_size = ms->below_4g_mem_size,
        .above_4g_mem_size = ms->above_4g_mem_size,
        .cpus = ms->smp_cpus,
    };
    memcpy(smbios.uuid, opts->uuid, sizeof(smbios.uuid));
    unsigned ebx, ecx;
    __get_cpuid(1, &smbios.cpuid_1_eax, &ebx, &ecx, &smbios.cpuid_1_edx);
    smbios_install(fw_cfg, &smbios);
    return true;
}

bool pc_machine_done(MachineState *ms, Error **errp)
{
    if (ms->kernel_filename && !x86_load_kernel(ms, fw_cfg, errp)) {
        return false;
    }
    unsigned count;
    const E820Entry *table = e820_get_table(&count);
    fw_cfg_add_file(fw_cfg, "etc/e820", table, count * sizeof(*table));
    ide_cmos_init(rtc);                 /* -device ide-hd disks exist now */
    return true;
}
