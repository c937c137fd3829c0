/*
 * PIIX4 PM (00:01.3): config defaults and masks, PMBA/SMBBA decoding, PM1
 * status write-1-to-clear, the SCI level on IRQ 9, the PM timer against a
 * hand-stepped virtual clock, the power button through the main loop, S5
 * and -no-shutdown, the SMI command port, the SMBus host, reset and state.
 */
#include "test-pci-board.h"
#include "hw/acpi/piix4-pm.h"
#include "system/system.h"
#include "system/timer.h"

#define PM      PCI_DEVFN(1, 3)
#define BASE    0x600
#define SMB     0x7f0           /* 16-byte aligned only */
#define NS      NANOSECONDS_PER_SECOND

static DeviceState *pm;
static SystemEvent last_event;
static ShutdownCause last_cause;
static int powerdowns, guest_shutdowns;

static void event_notify(SystemEvent event, ShutdownCause cause, void *opaque)
{
    last_event = event;
    last_cause = cause;
    powerdowns += event == SYSTEM_EVENT_POWERDOWN;
    guest_shutdowns += event == SYSTEM_EVENT_SHUTDOWN &&
                       cause == SHUTDOWN_CAUSE_GUEST_SHUTDOWN;
}

static uint16_t pm1_sts(void) { return io_read(BASE + ACPI_PM1_STS, 2); }
static uint16_t pm1_cnt(void) { return io_read(BASE + ACPI_PM1_CNT, 2); }
static uint32_t pm_tmr(void) { return io_read(BASE + ACPI_PM_TMR, 4); }
static int64_t now(void) { return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL); }

static void pm_map(uint16_t base)
{
    cfg_write(PM, PIIX4_PM_PMBA, base | 1, 4);
    cfg_write(PM, PIIX4_PM_PMREGMISC, PIIX4_PM_PMIOSE, 1);
}

static void pm_reset(void)
{
    pm->klass->reset(pm);
    pm_map(BASE);
}

/* Stop the main loop from inside it, once it has done its requests. */
static gboolean end_loop(gpointer opaque)
{
    *(bool *)opaque = true;
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_QMP_QUIT);
    return G_SOURCE_REMOVE;
}

/* One pass of the main loop; returns whether the guest shut down. */
static bool run_main_loop_once(void)
{
    bool ended = false;
    guint id = g_idle_add(end_loop, &ended);
    int before = guest_shutdowns;

    g_assert_cmpint(main_loop_run(), ==, 0);
    if (!ended) {
        g_source_remove(id);
    }
    return guest_shutdowns > before;
}

static void press_power_button(void)
{
    qemu_system_powerdown_request();
    run_main_loop_once();
}

static void test_config(void)
{
    g_assert_cmphex(cfg_read(PM, PCI_VENDOR_ID, 4), ==, 0x71138086);
    g_assert_cmphex(cfg_read(PM, PCI_REVISION_ID, 4), ==, 0x06800003);
    g_assert_cmphex(cfg_read(PM, PCI_HEADER_TYPE, 1), ==, 0x00);
    g_assert_cmphex(cfg_read(PM, PCI_SUBSYSTEM_VENDOR_ID, 4), ==, 0x11001af4);
    g_assert_cmphex(cfg_read(PM, PCI_INTERRUPT_PIN, 1), ==, 1);
    g_assert_cmphex(cfg_read(PM, PCI_STATUS, 2), ==, 0x0280);
    g_assert_cmphex(cfg_read(PM, PIIX4_PM_PMBA, 4), ==, 0x00000001);
    g_assert_cmphex(cfg_read(PM, PIIX4_PM_SMBBA, 4), ==, 0x00000001);
    g_assert_cmphex(cfg_read(PM, PIIX4_PM_PMREGMISC, 1), ==, 0);
    g_assert_cmphex(cfg_read(PM, PIIX4_PM_SMBHSTCFG, 1), ==, 0);
    /* SMM reads as set up: firmware must not try to install a handler. */
    g_assert_cmphex(cfg_read(PM, PIIX4_PM_DEVACTB, 4), ==, PIIX4_PM_APMC_EN);

    cfg_write(PM, PIIX4_PM_PMBA, 0xffffffff, 4);
    g_assert_cmphex(cfg_read(PM, PIIX4_PM_PMBA, 4), ==, 0x0000ffc1);
    cfg_write(PM, PIIX4_PM_SMBBA, 0xffffffff, 4);
    g_assert_cmphex(cfg_read(PM, PIIX4_PM_SMBBA, 4), ==, 0x0000fff1);
    cfg_write(PM, PIIX4_PM_PMREGMISC, 0xff, 1);
    g_assert_cmphex(cfg_read(PM, PIIX4_PM_PMREGMISC, 1), ==, 0x01);
    cfg_write(PM, PIIX4_PM_SMBHSTCFG, 0xff, 1);
    g_assert_cmphex(cfg_read(PM, PIIX4_PM_SMBHSTCFG, 1), ==, 0x0f);
    cfg_write(PM, PIIX4_PM_DEVACTB, 0x12345678, 4);     /* storage */
    g_assert_cmphex(cfg_read(PM, PIIX4_PM_DEVACTB, 4), ==, 0x12345678);
    cfg_write(PM, PCI_VENDOR_ID, 0, 4);
    g_assert_cmphex(cfg_read(PM, PCI_VENDOR_ID, 4), ==, 0x71138086);

    pm->klass->reset(pm);
    g_assert_cmphex(cfg_read(PM, PIIX4_PM_PMBA, 4), ==, 0x00000001);
    g_assert_cmphex(cfg_read(PM, PIIX4_PM_DEVACTB, 4), ==, PIIX4_PM_APMC_EN);
    g_assert_cmphex(cfg_read(PM, PIIX4_PM_SMBHSTCFG, 1), ==, 0);
}

static void test_pmba(void)
{
    pm->klass->reset(pm);
    /* Not decoded until PMREGMISC.PMIOSE: the port floats. */
    cfg_write(PM, PIIX4_PM_PMBA, BASE | 1, 4);
    g_assert_cmphex(io_read(BASE + ACPI_PM1_CNT, 2), ==, 0xffff);
    cfg_write(PM, PIIX4_PM_PMREGMISC, PIIX4_PM_PMIOSE, 1);
    g_assert_cmphex(io_read(BASE + ACPI_PM1_CNT, 2), ==, 0);
    /* The whole 64-byte block is claimed; unmodelled registers read 0. */
    g_assert_cmphex(io_read(BASE + 0x3c, 4), ==, 0);
    g_assert_cmphex(io_read(BASE + 0x40, 4), ==, 0xffffffff);

    /* Low bits of PMBA are ignored; moving it moves the block. */
    cfg_write(PM, PIIX4_PM_PMBA, 0xb07f, 2);
    g_assert_cmphex(cfg_read(PM, PIIX4_PM_PMBA, 4), ==, 0xb041);
    g_assert_cmphex(io_read(BASE + ACPI_PM1_CNT, 2), ==, 0xffff);
    g_assert_cmphex(io_read(0xb040 + ACPI_PM1_CNT, 2), ==, 0);
    g_assert_cmphex(io_read(0xb000 + ACPI_PM1_CNT, 2), ==, 0xffff);
    cfg_write(PM, PIIX4_PM_PMREGMISC, 0, 1);
    g_assert_cmphex(io_read(0xb040 + ACPI_PM1_CNT, 2), ==, 0xffff);

    /* The GPE0 block and APM ports are fixed. */
    g_assert_cmphex(io_read(ACPI_GPE0_BASE, 4), ==, 0);
    g_assert_cmphex(io_read(ACPI_GPE0_BASE + 4, 1), ==, 0xff);
    pm_reset();
}

static void test_pm1_w1c(void)
{
    pm_reset();
    press_power_button();
    virtual_clock_warp_to(now() + 3 * NS);      /* past a bit-23 toggle */
    g_assert_cmphex(pm1_sts(), ==, ACPI_PWRBTN_STS | ACPI_TMR_STS);

    /* Writing 0s changes nothing; a 1 clears just its bit. */
    io_write(BASE + ACPI_PM1_STS, 0, 2);
    g_assert_cmphex(pm1_sts(), ==, ACPI_PWRBTN_STS | ACPI_TMR_STS);
    io_write(BASE + ACPI_PM1_STS, ACPI_TMR_STS, 2);
    g_assert_cmphex(pm1_sts(), ==, ACPI_PWRBTN_STS);
    /* A byte write to the high half. */
    io_write(BASE + ACPI_PM1_STS + 1, ACPI_PWRBTN_STS >> 8, 1);
    g_assert_cmphex(pm1_sts(), ==, 0);

    /* Enable: only the defined bits stick; a dword write sets both. */
    io_write(BASE + ACPI_PM1_EN, 0xffff, 2);
    g_assert_cmphex(io_read(BASE + ACPI_PM1_EN, 2), ==,
                    ACPI_TMR_EN | ACPI_GBL_EN | ACPI_PWRBTN_EN | ACPI_RTC_EN);
    io_write(BASE + ACPI_PM1_STS, (uint32_t)ACPI_PWRBTN_EN << 16, 4);
    g_assert_cmphex(io_read(BASE + ACPI_PM1_STS, 4), ==,
                    (uint32_t)ACPI_PWRBTN_EN << 16);
    /* Byte write to the enable register's low byte keeps the high one. */
    io_write(BASE + ACPI_PM1_EN, ACPI_TMR_EN, 1);
    g_assert_cmphex(io_read(BASE + ACPI_PM1_EN, 2), ==,
                    ACPI_PWRBTN_EN | ACPI_TMR_EN);

    /* PM1 control: SLP_EN and GBL_RLS read 0, reserved bits stay 0. */
    io_write(BASE + ACPI_PM1_CNT, ACPI_GBL_RLS | (5 << 10) | 0xc000, 2);
    g_assert_cmphex(pm1_cnt(), ==, 5 << 10);
    /* The timer is read-only. */
    uint32_t t = pm_tmr();
    io_write(BASE + ACPI_PM_TMR, 0, 4);
    g_assert_cmphex(pm_tmr(), ==, t);
    pm_reset();
}

static void test_sci(void)
{
    pm_reset();
    memset(isa_changes, 0, sizeof(isa_changes));

    /* Status latched while disabled; the enable raises the SCI at once,
     * but only in ACPI mode (SCI_EN). */
    press_power_button();
    g_assert_cmpint(isa_level[9], ==, 0);
    io_write(BASE + ACPI_PM1_EN, ACPI_PWRBTN_EN, 2);
    g_assert_cmpint(isa_level[9], ==, 0);
    io_write(APM_CNT_PORT, ACPI_ENABLE_CMD, 1);
    g_assert_cmphex(pm1_cnt(), ==, ACPI_SCI_EN);
    g_assert_cmpint(isa_level[9], ==, 1);
    io_write(APM_CNT_PORT, ACPI_DISABLE_CMD, 1);
    g_assert_cmphex(pm1_cnt(), ==, 0);
    g_assert_cmpint(isa_level[9], ==, 0);
    io_write(BASE + ACPI_PM1_CNT, ACPI_SCI_EN, 2);     /* also writable */
    g_assert_cmpint(isa_level[9], ==, 1);
    io_write(BASE + ACPI_PM1_EN, 0, 2);
    g_assert_cmpint(isa_level[9], ==, 0);
    io_write(BASE + ACPI_PM1_EN, ACPI_PWRBTN_EN, 2);
    g_assert_cmpint(isa_level[9], ==, 1);
    io_write(BASE + ACPI_PM1_STS, ACPI_PWRBTN_STS, 2);
    g_assert_cmpint(isa_level[9], ==, 0);

    /* GPE0: status bits set by hardware, enables at +2, write 1 clears. */
    piix4_pm_gpe_raise(pm, 9);
    g_assert_cmphex(io_read(ACPI_GPE0_BASE, 2), ==, 0x0200);
    g_assert_cmpint(isa_level[9], ==, 0);
    io_write(ACPI_GPE0_BASE + 2, 0x0200, 2);
    g_assert_cmpint(isa_level[9], ==, 1);
    io_write(ACPI_GPE0_BASE, 0x0100, 2);
    g_assert_cmpint(isa_level[9], ==, 1);
    io_write(ACPI_GPE0_BASE, 0x0200, 2);
    g_assert_cmpint(isa_level[9], ==, 0);
    g_assert_cmphex(io_read(ACPI_GPE0_BASE, 4), ==, 0x02000000);

    /* Two sources: the line stays up until both are gone. */
    piix4_pm_gpe_raise(pm, 9);
    press_power_button();
    g_assert_cmpint(isa_level[9], ==, 1);
    io_write(ACPI_GPE0_BASE, 0x0200, 2);
    g_assert_cmpint(isa_level[9], ==, 1);
    io_write(BASE + ACPI_PM1_STS, ACPI_PWRBTN_STS, 2);
    g_assert_cmpint(isa_level[9], ==, 0);
    /* No other ISA line was touched. */
    for (int i = 0; i < 16; i++) {
        if (i != 9) {
            g_assert_cmpint(isa_changes[i], ==, 0);
        }
    }
    g_assert_cmpint(isa_changes[9], >=, 8);
    pm_reset();
    g_assert_cmpint(isa_level[9], ==, 0);
}

static void test_pm_timer(void)
{
    pm_reset();
    /* 24 bits at 3.579545 MHz from the virtual clock. */
    int64_t t0 = now();
    uint32_t c0 = pm_tmr();
    g_assert_cmphex(c0 >> 24, ==, 0);
    virtual_clock_warp_to(t0 + NS);
    g_assert_cmpuint((pm_tmr() - c0) & 0xffffff, >=, 3579544);
    g_assert_cmpuint((pm_tmr() - c0) & 0xffffff, <=, 3579546);
    c0 = pm_tmr();
    virtual_clock_warp_to(now() + 10 * 1000 * 1000);
    g_assert_cmpuint((pm_tmr() - c0) & 0xffffff, >=, 35795);
    g_assert_cmpuint((pm_tmr() - c0) & 0xffffff, <=, 35796);
    /* It wraps: 5 s is 17897725 ticks, 1120509 past 2^24. */
    c0 = pm_tmr();
    virtual_clock_warp_to(now() + 5 * NS);
    g_assert_cmpuint((pm_tmr() - c0) & 0xffffff, >=, 1120508);
    g_assert_cmpuint((pm_tmr() - c0) & 0xffffff, <=, 1120510);
    /* Byte reads see the same counter; the top byte is 0. */
    c0 = pm_tmr();
    g_assert_cmphex(io_read(BASE + ACPI_PM_TMR + 1, 1), ==, (c0 >> 8) & 0xff);
    g_assert_cmphex(io_read(BASE + ACPI_PM_TMR + 3, 1), ==, 0);

    /* TMR_STS when bit 23 changes, not before: step to just short of
     * the next toggle, then onto it.  With TMR_EN and SCI_EN the device's
     * own timer raises the SCI, with no register read in between. */
    io_write(BASE + ACPI_PM1_STS, 0xffff, 2);
    io_write(BASE + ACPI_PM1_EN, ACPI_TMR_EN, 2);
    io_write(APM_CNT_PORT, ACPI_ENABLE_CMD, 1);
    c0 = pm_tmr();
    uint32_t left = 0x800000 - (c0 & 0x7fffff);
    int64_t ns_left = (int64_t)left * NS / ACPI_PM_TMR_FREQ;
    virtual_clock_warp_to(now() + ns_left - 1000);
    g_assert_cmpint(isa_level[9], ==, 0);
    g_assert_cmphex(pm1_sts() & ACPI_TMR_STS, ==, 0);
    uint32_t before = pm_tmr();
    virtual_clock_warp_to(now() + 2000);
    g_assert_cmpint(isa_level[9], ==, 1);
    g_assert_cmphex((before ^ pm_tmr()) & 0x800000, ==, 0x800000);
    g_assert_cmphex(pm1_sts() & ACPI_TMR_STS, ==, ACPI_TMR_STS);
    io_write(BASE + ACPI_PM1_STS, ACPI_TMR_STS, 2);
    g_assert_cmpint(isa_level[9], ==, 0);
    /* The next one comes 2^23 ticks (2.34 s) later. */
    virtual_clock_warp_to(now() + 2 * NS);
    g_assert_cmpint(isa_level[9], ==, 0);
    virtual_clock_warp_to(now() + NS / 2);
    g_assert_cmpint(isa_level[9], ==, 1);
    /* Disabled: status only, from reading it. */
    io_write(BASE + ACPI_PM1_EN, 0, 2);
    io_write(BASE + ACPI_PM1_STS, ACPI_TMR_STS, 2);
    g_assert_cmpint(isa_level[9], ==, 0);
    virtual_clock_warp_to(now() + 3 * NS);
    g_assert_cmpint(isa_level[9], ==, 0);
    g_assert_cmphex(pm1_sts() & ACPI_TMR_STS, ==, ACPI_TMR_STS);
    pm_reset();
}

static void test_power_button(void)
{
    pm_reset();
    io_write(BASE + ACPI_PM1_EN, ACPI_PWRBTN_EN, 2);
    io_write(APM_CNT_PORT, ACPI_ENABLE_CMD, 1);
    powerdowns = 0;
    press_power_button();
    g_assert_cmpint(powerdowns, ==, 1);
    g_assert_cmphex(pm1_sts(), ==, ACPI_PWRBTN_STS);
    g_assert_cmpint(isa_level[9], ==, 1);
    /* A second press while pending changes nothing. */
    press_power_button();
    g_assert_cmphex(pm1_sts(), ==, ACPI_PWRBTN_STS);
    io_write(BASE + ACPI_PM1_STS, ACPI_PWRBTN_STS, 2);
    g_assert_cmpint(isa_level[9], ==, 0);
    pm_reset();
}

static void test_sleep(void)
{
    static MachineState ms = { .type = "pc", .no_shutdown = true };

    pm_reset();
    /* S3 is not supported: nothing happens. */
    io_write(BASE + ACPI_PM1_CNT, (PIIX4_SLP_TYP_S3 << 10) | ACPI_SLP_EN, 2);
    g_assert_false(run_main_loop_once());
    g_assert_cmpint(last_cause, ==, SHUTDOWN_CAUSE_HOST_QMP_QUIT);

    /* S5 (type 0), set with a byte write to the high half: the machine
     * shuts down for the guest, before the loop's next turn. */
    io_write(BASE + ACPI_PM1_CNT + 1,
             (PIIX4_SLP_TYP_S5 << 2) | (ACPI_SLP_EN >> 8), 1);
    g_assert_cmphex(pm1_cnt() & ACPI_SLP_EN, ==, 0);
    g_assert_true(run_main_loop_once());
    g_assert_cmpint(last_event, ==, SYSTEM_EVENT_SHUTDOWN);
    g_assert_cmpint(last_cause, ==, SHUTDOWN_CAUSE_GUEST_SHUTDOWN);

    /* S4 powers off too (the guest saved itself), as in QEMU. */
    io_write(BASE + ACPI_PM1_CNT, (PIIX4_SLP_TYP_S4 << 10) | ACPI_SLP_EN, 2);
    g_assert_true(run_main_loop_once());

    /* Sleep types only matter together with SLP_EN. */
    io_write(BASE + ACPI_PM1_CNT, PIIX4_SLP_TYP_S5 << 10, 2);
    g_assert_false(run_main_loop_once());

    /* -no-shutdown: the VM stops in state "shutdown" and the loop goes on. */
    current_machine = &ms;
    io_write(BASE + ACPI_PM1_CNT, ACPI_SLP_EN, 2);
    g_assert_true(run_main_loop_once());
    g_assert_cmpint(runstate_get(), ==, RUN_STATE_SHUTDOWN);
    g_assert_cmpint(last_cause, ==, SHUTDOWN_CAUSE_HOST_QMP_QUIT);
    current_machine = NULL;
    pm_reset();
}

static void test_apm(void)
{
    pm_reset();
    io_write(APM_CNT_PORT, 0x5a, 1);
    io_write(APM_STS_PORT, 0xa5, 1);
    g_assert_cmphex(io_read(APM_CNT_PORT, 2), ==, 0xa55a);
    /* Other commands leave SCI_EN alone. */
    io_write(APM_CNT_PORT, ACPI_ENABLE_CMD, 1);
    io_write(APM_CNT_PORT, 0x00, 1);
    g_assert_cmphex(pm1_cnt(), ==, ACPI_SCI_EN);
    io_write(APM_CNT_PORT, ACPI_DISABLE_CMD | 0x0100, 2);
    g_assert_cmphex(pm1_cnt(), ==, 0);
    g_assert_cmphex(io_read(APM_STS_PORT, 1), ==, 0x01);
    pm->klass->reset(pm);
    g_assert_cmphex(io_read(APM_CNT_PORT, 2), ==, 0);
    pm_reset();
}

static void test_smbus(void)
{
    pm_reset();
    cfg_write(PM, PIIX4_PM_SMBBA, SMB | 1, 4);
    g_assert_cmphex(io_read(SMB + SMB_HST_STS, 1), ==, 0xff);
    cfg_write(PM, PIIX4_PM_SMBHSTCFG, PIIX4_PM_SMB_HST_EN, 1);
    g_assert_cmphex(io_read(SMB + SMB_HST_STS, 1), ==, 0);

    /* A read byte from address 0x50: nobody answers, no interrupt (SMI
     * selected). */
    io_write(SMB + SMB_HST_ADD, 0x50 << 1 | 1, 1);
    io_write(SMB + SMB_HST_CMD, 0x00, 1);
    io_write(SMB + SMB_HST_CNT, SMB_START | 0x08 | SMB_INTEREN, 1);
    g_assert_cmphex(io_read(SMB + SMB_HST_STS, 1), ==, SMB_DEV_ERR);
    g_assert_cmphex(io_read(SMB + SMB_HST_CNT, 1), ==, 0x08 | SMB_INTEREN);
    g_assert_cmphex(io_read(SMB + SMB_HST_ADD, 1), ==, 0xa1);
    g_assert_cmpint(isa_level[9], ==, 0);
    /* Routed to IRQ 9, the pending error interrupts. */
    cfg_write(PM, PIIX4_PM_SMBHSTCFG,
              PIIX4_PM_SMB_HST_EN | PIIX4_PM_SMB_INTR_IRQ9, 1);
    g_assert_cmpint(isa_level[9], ==, 1);
    io_write(SMB + SMB_HST_STS, 0xff, 1);
    g_assert_cmphex(io_read(SMB + SMB_HST_STS, 1), ==, 0);
    g_assert_cmpint(isa_level[9], ==, 0);
    io_write(SMB + SMB_HST_DAT0, 0x12, 1);
    io_write(SMB + SMB_HST_DAT1, 0x34, 1);
    g_assert_cmphex(io_read(SMB + SMB_HST_DAT0, 2), ==, 0x3412);
    g_assert_cmphex(io_read(SMB + 0x08, 4), ==, 0);

    cfg_write(PM, PIIX4_PM_SMBHSTCFG, 0, 1);
    g_assert_cmphex(io_read(SMB + SMB_HST_STS, 1), ==, 0xff);
    pm_reset();
}

static void test_state(void)
{
    Error *err = NULL;

    pm_reset();
    cfg_write(PM, PIIX4_PM_SMBBA, SMB | 1, 4);
    cfg_write(PM, PIIX4_PM_SMBHSTCFG, PIIX4_PM_SMB_HST_EN, 1);
    io_write(SMB + SMB_HST_DAT0, 0x77, 1);
    io_write(BASE + ACPI_PM1_EN, ACPI_PWRBTN_EN | ACPI_TMR_EN, 2);
    io_write(APM_CNT_PORT, ACPI_ENABLE_CMD, 1);
    press_power_button();
    g_assert_cmpint(isa_level[9], ==, 1);

    GByteArray *a = test_vmstate_save(pm);
    pm->klass->reset(pm);
    g_assert_cmpint(isa_level[9], ==, 0);
    g_assert_cmphex(io_read(BASE + ACPI_PM1_CNT, 2), ==, 0xffff);
    g_assert_true(test_vmstate_load(pm, a, &err));
    /* Mappings, registers and the SCI level come back. */
    g_assert_cmpint(isa_level[9], ==, 1);
    g_assert_cmphex(pm1_sts() & ACPI_PWRBTN_STS, ==, ACPI_PWRBTN_STS);
    g_assert_cmphex(pm1_cnt(), ==, ACPI_SCI_EN);
    g_assert_cmphex(io_read(SMB + SMB_HST_DAT0, 1), ==, 0x77);
    /* The timer SCI is armed again by the load itself. */
    io_write(BASE + ACPI_PM1_EN, ACPI_TMR_EN, 2);
    io_write(BASE + ACPI_PM1_STS, 0xffff, 2);
    g_assert_cmpint(isa_level[9], ==, 0);
    GByteArray *t = test_vmstate_save(pm);
    pm->klass->reset(pm);
    g_assert_true(test_vmstate_load(pm, t, &err));
    g_assert_cmpint(isa_level[9], ==, 0);
    virtual_clock_warp_to(now() + 3 * NS);
    g_assert_cmpint(isa_level[9], ==, 1);
    g_byte_array_free(t, true);

    /* Invalid encodings are refused: PM1 status with an undefined bit.
     * Find its high byte as the one byte a power button press changes. */
    GByteArray *b = test_vmstate_save(pm);
    press_power_button();
    GByteArray *c = test_vmstate_save(pm);
    g_assert_cmpuint(b->len, ==, c->len);
    guint off = 0, diffs = 0;
    for (guint i = 0; i < b->len; i++) {
        if (b->data[i] != c->data[i]) {
            off = i;
            diffs++;
        }
    }
    g_assert_cmpuint(diffs, ==, 1);
    g_assert_cmphex(c->data[off], ==, ACPI_PWRBTN_STS >> 8);
    c->data[off] |= 0x02;                        /* bit 9: reserved */
    g_assert_false(test_vmstate_load(pm, c, &err));
    g_assert_nonnull(err);
    error_free(err);
    err = NULL;
    g_assert_true(test_vmstate_load(pm, b, &err));

    test_vmstate_random_roundtrip(pm);
    g_byte_array_free(a, true);
    g_byte_array_free(b, true);
    g_byte_array_free(c, true);
    pm_reset();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    bql_lock();
    virtual_clock_set_manual(true);
    test_board_init();
    pm = piix4_pm_init(test_bus);
    system_event_add_notifier(event_notify, NULL);

    g_test_add_func("/piix4-pm/config", test_config);
    g_test_add_func("/piix4-pm/pmba", test_pmba);
    g_test_add_func("/piix4-pm/pm1-w1c", test_pm1_w1c);
    g_test_add_func("/piix4-pm/sci", test_sci);
    g_test_add_func("/piix4-pm/pm-timer", test_pm_timer);
    g_test_add_func("/piix4-pm/power-button", test_power_button);
    g_test_add_func("/piix4-pm/sleep", test_sleep);
    g_test_add_func("/piix4-pm/apm", test_apm);
    g_test_add_func("/piix4-pm/smbus", test_smbus);
    g_test_add_func("/piix4-pm/state", test_state);
    return g_test_run();
}
