/*
 * PIIX4 power management (82371AB function 3), the ACPI fixed hardware of
 * QEMU's i440fx PC.  The guest (firmware) maps the 64-byte PM block with
 * PMBA + PMREGMISC; in it the PM1 status/enable/control registers and the
 * 24-bit PM timer, which follows the virtual clock.  Power button presses
 * (system_powerdown) set PWRBTN_STS; SLP_EN with the S5 type powers off.
 * The SCI is ISA IRQ 9, level: high while SCI_EN and an enabled status bit.
 *
 * No SMM: KVM here cannot run it, so like QEMU's PIIX4 without SMM the
 * device comes out of reset with APMC_EN set, which tells firmware the SMI
 * handler is already installed (SeaBIOS then skips its SMM set-up), and
 * other 0xb2 commands raise no SMI.  ACPI_ENABLE/ACPI_DISABLE on 0xb2 are
 * handled here, so a FADT describes this device with SMI_CMD 0xb2, 0xf1,
 * 0xf0; SCI_EN is clear at reset as in the data sheet.
 *
 * Not modelled: the PIIX4's global/device/GP registers at PMBA+0x0c..0x3f
 * (ACPI OSes use the FADT blocks only), the SMBus slave interface, S3.
 */
#include "hw/acpi/piix4-pm.h"
#include "hw/isa/isa.h"
#include "system/system.h"
#include "system/timer.h"

#define PM1_STS_W1C     (ACPI_TMR_STS | ACPI_BM_STS | ACPI_GBL_STS | \
                         ACPI_PWRBTN_STS | ACPI_RTC_STS | \
                         ACPI_PWRBTNOR_STS | ACPI_WAK_STS)
#define PM1_EN_MASK     (ACPI_TMR_EN | ACPI_GBL_EN | ACPI_PWRBTN_EN | \
                         ACPI_RTC_EN)
#define PM1_CNT_MASK    (ACPI_SCI_EN | ACPI_BM_RLD | ACPI_SLP_TYP)
#define SMB_STS_W1C     (SMB_INTR | SMB_DEV_ERR | SMB_BUS_ERR | SMB_FAILED)
#define SMB_CNT_MASK    0x1f    /* INTEREN, KILL, protocol */
#define TMR_HALF        (1u << 23)      /* TMR_STS: bit 23 toggled */

typedef struct PIIX4PMState {
    PCIDevice parent_obj;
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    int64_t tmr_overflow_ns;    /* virtual time of the next bit-23 toggle */
    uint8_t gpe_sts[2], gpe_en[2];
    uint8_t apm_cnt, apm_sts;
    uint8_t smb_sts, smb_cnt;
    uint8_t smb_regs[5];        /* command, address, data 0/1, block data */
    bool irq_level;             /* what IRQ 9 is driven to */
    QEMUTimer tmr_timer;        /* armed while TMR_EN, for the SCI */
    MemoryRegion pm_io, smb_io, gpe_io, apm_io;
} PIIX4PMState;

/* ---- PM timer: ticks = virtual ns * 3.579545 MHz ---- */

static uint64_t ns_to_ticks(int64_t ns)
{
    uint64_t t = ns > 0 ? ns : 0;
    return t / NANOSECONDS_PER_SECOND * ACPI_PM_TMR_FREQ +
           t % NANOSECONDS_PER_SECOND * ACPI_PM_TMR_FREQ /
           NANOSECONDS_PER_SECOND;
}

/* The first virtual time at which the counter reads ticks or more. */
static int64_t ticks_to_ns(uint64_t ticks)
{
    return ticks / ACPI_PM_TMR_FREQ * NANOSECONDS_PER_SECOND +
           (ticks % ACPI_PM_TMR_FREQ * NANOSECONDS_PER_SECOND +
            ACPI_PM_TMR_FREQ - 1) / ACPI_PM_TMR_FREQ;
}

static int64_t next_overflow(int64_t now)
{
    return ticks_to_ns((ns_to_ticks(now) | (TMR_HALF - 1)) + 1);
}

/* The longest a running device can have to wait for the next toggle. */
static int64_t overflow_period(void)
{
    return ticks_to_ns(TMR_HALF) + 1;
}

/* The timer only needs to run when the toggle raises an SCI. */
static void pm_tmr_arm(PIIX4PMState *s)
{
    if (s->pm1_en & ACPI_TMR_EN) {
        if (!timer_pending(&s->tmr_timer) ||
            timer_expire_time_ns(&s->tmr_timer) != s->tmr_overflow_ns) {
            timer_mod(&s->tmr_timer, s->tmr_overflow_ns);
        }
    } else {
        timer_del(&s->tmr_timer);
    }
}

/* Latch TMR_STS for a toggle that happened since we last looked. */
static void pm_tmr_update(PIIX4PMState *s)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    if (now >= s->tmr_overflow_ns) {
        s->pm1_sts |= ACPI_TMR_STS;
        s->tmr_overflow_ns = next_overflow(now);
    }
    pm_tmr_arm(s);
}

/* ---- SCI (and the SMBus interrupt, which shares IRQ 9) ---- */

static bool smb_irq(PIIX4PMState *s)
{
    uint8_t hostc = s->parent_obj.config[PIIX4_PM_SMBHSTCFG];

    return (hostc & PIIX4_PM_SMB_INTRSEL) == PIIX4_PM_SMB_INTR_IRQ9 &&
           (s->smb_cnt & SMB_INTEREN) && (s->smb_sts & SMB_STS_W1C);
}

static void pm_update_irq(PIIX4PMState *s, bool force)
{
    bool sci = (s->pm1_cnt & ACPI_SCI_EN) &&
               ((s->pm1_sts & s->pm1_en & PM1_EN_MASK) ||
                (s->gpe_sts[0] & s->gpe_en[0]) ||
                (s->gpe_sts[1] & s->gpe_en[1]));
    bool level = sci || smb_irq(s);

    if (level != s->irq_level || force) {
        s->irq_level = level;
        qemu_set_irq(isa_get_irq(PIIX4_SCI_IRQ), level);
    }
}

static void pm_tmr_cb(void *opaque)
{
    PIIX4PMState *s = opaque;

    pm_tmr_update(s);
    pm_update_irq(s, false);
}

/* ---- the PM block at PMBA ---- */

static void pm_sleep(PIIX4PMState *s, unsigned type)
{
    switch (type) {
    case PIIX4_SLP_TYP_S5:
    case PIIX4_SLP_TYP_S4:      /* the OS saved itself: power off, as QEMU */
        qemu_system_shutdown_request(SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
        break;
    default:
        log_guest_error("PIIX4 PM: sleep type %u not supported, ignored",
                        type);
        break;
    }
}

static uint64_t pm_io_read(void *opaque, uint64_t addr, unsigned size)
{
    PIIX4PMState *s = opaque;
    uint32_t dword = 0;

    switch (addr & ~3) {
    case ACPI_PM1_STS:
        pm_tmr_update(s);
        pm_update_irq(s, false);
        dword = s->pm1_sts | (uint32_t)s->pm1_en << 16;
        break;
    case ACPI_PM1_CNT:
        dword = s->pm1_cnt;
        break;
    case ACPI_PM_TMR:
        dword = ns_to_ticks(qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL)) &
                0xffffff;
        break;
    }
    dword >>= (addr & 3) * 8;
    return size == 4 ? dword : dword & ((1u << size * 8) - 1);
}

static void pm_io_write(void *opaque, uint64_t addr, uint64_t val,
                        unsigned size)
{
    PIIX4PMState *s = opaque;
    unsigned shift = (addr & 3) * 8;
    uint32_t mask = (size == 4 ? ~0u : (1u << size * 8) - 1) << shift;
    uint32_t v = (uint32_t)val << shift & mask;

    switch (addr & ~3) {
    case ACPI_PM1_STS:
        pm_tmr_update(s);
        s->pm1_sts &= ~(v & PM1_STS_W1C);
        s->pm1_en = ((s->pm1_en & ~(mask >> 16)) | v >> 16) & PM1_EN_MASK;
        pm_tmr_update(s);
        break;
    case ACPI_PM1_CNT:
        if (!(mask & 0xffff)) {
            break;
        }
        v = (s->pm1_cnt & ~mask) | v;
        s->pm1_cnt = v & PM1_CNT_MASK;
        /* GBL_RLS would be an SMI to the BIOS: there is none. */
        if (v & mask & ACPI_SLP_EN) {
            pm_sleep(s, (v & ACPI_SLP_TYP) >> ACPI_SLP_TYP_SHIFT);
        }
        break;
    default:
        log_guest_error("PIIX4 PM: write 0x%" PRIx64 " to %s register "
                        "PMBA+0x%02" PRIx64 ", ignored", val,
                        (addr & ~3) == ACPI_PM_TMR ? "read-only" :
                        "unmodelled", addr);
        return;
    }
    pm_update_irq(s, false);
}

static const MemoryRegionOps pm_io_ops = {
    .read = pm_io_read,
    .write = pm_io_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
};

/* ---- GPE0 at 0xafe0: status (write 1 to clear), then enable ---- */

static uint64_t gpe_read(void *opaque, uint64_t addr, unsigned size)
{
    PIIX4PMState *s = opaque;
    return addr < 2 ? s->gpe_sts[addr] : s->gpe_en[addr - 2];
}

static void gpe_write(void *opaque, uint64_t addr, uint64_t val,
                      unsigned size)
{
    PIIX4PMState *s = opaque;

    if (addr < 2) {
        s->gpe_sts[addr] &= ~val;
    } else {
        s->gpe_en[addr - 2] = val;
    }
    pm_update_irq(s, false);
}

static const MemoryRegionOps gpe_ops = {
    .read = gpe_read,
    .write = gpe_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

void piix4_pm_gpe_raise(DeviceState *dev, unsigned bit)
{
    PIIX4PMState *s = (PIIX4PMState *)dev;

    g_assert(bit < 16);
    s->gpe_sts[bit / 8] |= 1u << (bit % 8);
    pm_update_irq(s, false);
}

/* ---- APM control (SMI command) and status ports ---- */

static uint64_t apm_read(void *opaque, uint64_t addr, unsigned size)
{
    PIIX4PMState *s = opaque;
    return addr ? s->apm_sts : s->apm_cnt;
}

static void apm_write(void *opaque, uint64_t addr, uint64_t val,
                      unsigned size)
{
    PIIX4PMState *s = opaque;
    uint32_t devactb = pci_get_long(s->parent_obj.config + PIIX4_PM_DEVACTB);

    if (addr) {
        s->apm_sts = val;       /* scratch byte for the SMI handler */
        return;
    }
    s->apm_cnt = val;
    if (val == ACPI_ENABLE_CMD) {
        s->pm1_cnt |= ACPI_SCI_EN;
    } else if (val == ACPI_DISABLE_CMD) {
        s->pm1_cnt &= ~ACPI_SCI_EN;
    } else if (devactb & PIIX4_PM_APMC_EN) {
        log_guest_error("PIIX4 PM: SMI command 0x%02x: no SMM, no SMI",
                        (unsigned)val);
    }
    pm_update_irq(s, false);
}

static const MemoryRegionOps apm_ops = {
    .read = apm_read,
    .write = apm_write,
    .valid = { .min_access_size = 1, .max_access_size = 2 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

/* ---- SMBus host: an empty bus, every transaction is unclaimed ---- */

static uint64_t smb_read(void *opaque, uint64_t addr, unsigned size)
{
    PIIX4PMState *s = opaque;

    switch (addr) {
    case SMB_HST_STS:
        return s->smb_sts;
    case SMB_HST_CNT:
        return s->smb_cnt;
    case SMB_HST_CMD ... SMB_BLK_DAT:
        return s->smb_regs[addr - SMB_HST_CMD];
    default:
        return 0;               /* slave interface: never addressed */
    }
}

static void smb_write(void *opaque, uint64_t addr, uint64_t val,
                      unsigned size)
{
    PIIX4PMState *s = opaque;

    switch (addr) {
    case SMB_HST_STS:
        s->smb_sts &= ~(val & SMB_STS_W1C);
        break;
    case SMB_HST_CNT:
        s->smb_cnt = val & SMB_CNT_MASK;
        /* No device answers any address: done at once, with DEV_ERR. */
        if (val & SMB_START) {
            s->smb_sts |= SMB_DEV_ERR;
        }
        break;
    case SMB_HST_CMD ... SMB_BLK_DAT:
        s->smb_regs[addr - SMB_HST_CMD] = val;
        break;
    default:
        log_guest_error("PIIX4 SMBus: write to slave register 0x%02" PRIx64
                        ", ignored", addr);
        return;
    }
    pm_update_irq(s, false);
}

static const MemoryRegionOps smb_ops = {
    .read = smb_read,
    .write = smb_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

/* ---- PCI side ---- */

static void pm_update_mappings(PIIX4PMState *s)
{
    const uint8_t *c = s->parent_obj.config;

    memory_region_transaction_begin();
    memory_region_set_address(&s->pm_io,
                              pci_get_long(c + PIIX4_PM_PMBA) & 0xffc0);
    memory_region_set_enabled(&s->pm_io,
                              c[PIIX4_PM_PMREGMISC] & PIIX4_PM_PMIOSE);
    memory_region_set_address(&s->smb_io,
                              pci_get_long(c + PIIX4_PM_SMBBA) & 0xfff0);
    /* QEMU ignores PCICMD.IOSE here; firmware only sets HST_EN. */
    memory_region_set_enabled(&s->smb_io,
                              c[PIIX4_PM_SMBHSTCFG] & PIIX4_PM_SMB_HST_EN);
    memory_region_transaction_commit();
}

static bool range_hit(uint32_t addr, int len, uint32_t reg, int size)
{
    return addr < reg + size && reg < addr + len;
}

static void pm_config_write(PCIDevice *dev, uint32_t addr, uint32_t val,
                            int len)
{
    PIIX4PMState *s = (PIIX4PMState *)dev;

    pci_default_config_write(dev, addr, val, len);
    if (range_hit(addr, len, PIIX4_PM_PMBA, 4) ||
        range_hit(addr, len, PIIX4_PM_PMREGMISC, 1) ||
        range_hit(addr, len, PIIX4_PM_SMBBA, 4) ||
        range_hit(addr, len, PIIX4_PM_SMBHSTCFG, 1)) {
        pm_update_mappings(s);
    }
    if (range_hit(addr, len, PIIX4_PM_SMBHSTCFG, 1)) {
        pm_update_irq(s, false);
    }
}

static void pm_power_button(SystemEvent event, ShutdownCause cause,
                            void *opaque)
{
    PIIX4PMState *s = opaque;

    if (event == SYSTEM_EVENT_POWERDOWN) {
        s->pm1_sts |= ACPI_PWRBTN_STS;
        pm_update_irq(s, false);
    }
}

static bool pm_realize(PCIDevice *dev, Error **errp)
{
    PIIX4PMState *s = (PIIX4PMState *)dev;
    uint8_t *c = dev->config, *w = dev->wmask;

    pci_set_word(c + PCI_STATUS,
                 PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM);
    pci_set_long(c + PIIX4_PM_PMBA, 0x00000001);     /* I/O space */
    pci_set_word(w + PIIX4_PM_PMBA, 0xffc0);
    pci_set_long(c + PIIX4_PM_SMBBA, 0x00000001);
    pci_set_word(w + PIIX4_PM_SMBBA, 0xfff0);
    w[PIIX4_PM_PMREGMISC] = PIIX4_PM_PMIOSE;
    w[PIIX4_PM_SMBHSTCFG] = PIIX4_PM_SMB_HST_EN | PIIX4_PM_SMB_INTRSEL;
    /* Plain storage: counters, GPI control, device resources/activity
     * (0x44-0x7f), SMBus slave control and shadow ports (0xd3-0xd5). */
    memset(w + 0x44, 0xff, 0x80 - 0x44);
    memset(w + 0xd3, 0xff, 3);
    /* SMM "already set up" (see the top of the file). */
    pci_set_long(c + PIIX4_PM_DEVACTB, PIIX4_PM_APMC_EN);

    memory_region_init_io(&s->pm_io, &pm_io_ops, s, "piix4-pm",
                          PIIX4_PM_IO_SIZE);
    memory_region_init_io(&s->smb_io, &smb_ops, s, "piix4-smbus",
                          PIIX4_SMB_IO_SIZE);
    memory_region_set_enabled(&s->pm_io, false);
    memory_region_set_enabled(&s->smb_io, false);
    memory_region_add_subregion_overlap(dev->bus->io, 0, &s->pm_io, 1);
    memory_region_add_subregion_overlap(dev->bus->io, 0, &s->smb_io, 1);
    memory_region_init_io(&s->gpe_io, &gpe_ops, s, "acpi-gpe0",
                          ACPI_GPE0_LEN);
    isa_register_ioport(&s->gpe_io, ACPI_GPE0_BASE);
    memory_region_init_io(&s->apm_io, &apm_ops, s, "apm", 2);
    isa_register_ioport(&s->apm_io, APM_CNT_PORT);

    timer_init_ns(&s->tmr_timer, QEMU_CLOCK_VIRTUAL, pm_tmr_cb, s);
    system_event_add_notifier(pm_power_button, s);
    return true;
}

static void pm_reset(PCIDevice *dev)
{
    PIIX4PMState *s = (PIIX4PMState *)dev;

    s->pm1_sts = s->pm1_en = s->pm1_cnt = 0;
    memset(s->gpe_sts, 0, sizeof(s->gpe_sts));
    memset(s->gpe_en, 0, sizeof(s->gpe_en));
    s->apm_cnt = s->apm_sts = 0;
    s->smb_sts = s->smb_cnt = 0;
    memset(s->smb_regs, 0, sizeof(s->smb_regs));
    s->tmr_overflow_ns = next_overflow(qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
    pm_tmr_update(s);
    pm_update_mappings(s);
    pm_update_irq(s, true);
}

/*
 * A no-op on a running device, whose registers never hold other bits and
 * whose next toggle is never more than a period away; it makes any
 * in-memory state (the round-trip test fills it at random) a valid one.
 */
static int pm_pre_save(void *opaque)
{
    PIIX4PMState *s = opaque;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    s->pm1_sts &= PM1_STS_W1C;
    s->pm1_en &= PM1_EN_MASK;
    s->pm1_cnt &= PM1_CNT_MASK;
    s->smb_sts &= SMB_STS_W1C;
    s->smb_cnt &= SMB_CNT_MASK;
    s->parent_obj.irq_level = 0;        /* the SCI is not INTA */
    if (s->tmr_overflow_ns > now + overflow_period()) {
        s->tmr_overflow_ns = next_overflow(now);
    }
    return 0;
}

/* Config space (PMBA etc.) was checked by the PCIDevice part. */
static int pm_post_load(void *opaque, int version_id, Error **errp)
{
    PIIX4PMState *s = opaque;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    if ((s->pm1_sts & ~PM1_STS_W1C) || (s->pm1_en & ~PM1_EN_MASK) ||
        (s->pm1_cnt & ~PM1_CNT_MASK)) {
        error_setg(errp, "PIIX4 PM: invalid PM1 registers sts=0x%04x "
                   "en=0x%04x cnt=0x%04x", s->pm1_sts, s->pm1_en,
                   s->pm1_cnt);
        return -1;
    }
    if (s->parent_obj.irq_level) {
        error_setg(errp, "PIIX4 PM: INTA asserted; the device never does");
        return -1;
    }
    if ((s->smb_sts & ~SMB_STS_W1C) || (s->smb_cnt & ~SMB_CNT_MASK)) {
        error_setg(errp, "PIIX4 PM: invalid SMBus registers sts=0x%02x "
                   "cnt=0x%02x", s->smb_sts, s->smb_cnt);
        return -1;
    }
    if (s->tmr_overflow_ns > now + overflow_period()) {
        error_setg(errp, "PIIX4 PM: PM timer overflow at %" PRId64
                   " ns is more than a period after now (%" PRId64 " ns)",
                   s->tmr_overflow_ns, now);
        return -1;
    }
    pm_tmr_arm(s);              /* a toggle already due fires at once */
    pm_update_mappings(s);
    pm_update_irq(s, true);
    return 0;
}

static const VMStateDescription vmstate_piix4_pm = {
    .name = "piix4_pm",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(parent_obj, PIIX4PMState, vmstate_pci_device,
                       PCIDevice),
        VMSTATE_UINT16(pm1_sts, PIIX4PMState),
        VMSTATE_UINT16(pm1_en, PIIX4PMState),
        VMSTATE_UINT16(pm1_cnt, PIIX4PMState),
        VMSTATE_INT64(tmr_overflow_ns, PIIX4PMState),
        VMSTATE_UINT8_ARRAY(gpe_sts, PIIX4PMState, 2),
        VMSTATE_UINT8_ARRAY(gpe_en, PIIX4PMState, 2),
        VMSTATE_UINT8(apm_cnt, PIIX4PMState),
        VMSTATE_UINT8(apm_sts, PIIX4PMState),
        VMSTATE_UINT8(smb_sts, PIIX4PMState),
        VMSTATE_UINT8(smb_cnt, PIIX4PMState),
        VMSTATE_UINT8_ARRAY(smb_regs, PIIX4PMState, 5),
        VMSTATE_END_OF_LIST()
    },
    .pre_save = pm_pre_save,
    .post_load = pm_post_load,
};

static PCIDeviceClass piix4_pm_class = {
    .parent_class = {
        .name = "PIIX4_PM",
        .desc = "Intel 82371AB PIIX4 power management (ACPI)",
        .instance_size = sizeof(PIIX4PMState),
        .vmsd = &vmstate_piix4_pm,
    },
    .vendor_id = 0x8086,
    .device_id = 0x7113,
    .revision = 0x03,
    .class_id = 0x0680,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .header_type = PCI_HEADER_TYPE_NORMAL,
    .interrupt_pin = 1,
    .pci_realize = pm_realize,
    .pci_reset = pm_reset,
    .config_write = pm_config_write,
};
PCI_DEVICE_REGISTER(piix4_pm_class)

DeviceState *piix4_pm_init(PCIBus *bus)
{
    DeviceState *ds = device_new("PIIX4_PM");
    PIIX4PMState *s = (PIIX4PMState *)ds;
    Error *err = NULL;

    s->parent_obj.bus = bus;
    s->parent_obj.devfn = PCI_DEVFN(1, 3);
    if (!device_realize(ds, &err)) {
        error_report_err(err);
        exit(1);
    }
    return ds;
}
