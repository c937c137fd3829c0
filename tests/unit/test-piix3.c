/*
 * PIIX3: register defaults and masks, the PC slot swizzle, PIRQ routing to
 * ISA IRQs with sharing and re-routing, INTx disable, the reset control
 * register at 0xcf9, and the state.
 */
#include "test-pci-board.h"
#include "system/system.h"

#define ISA PCI_DEVFN(1, 0)

static DeviceState *piix3;
static TestPCIDev *dev3, *dev4, *dev7;  /* INTA: PIRQC, PIRQD, PIRQC */

static void intx(TestPCIDev *t, int level)
{
    pci_set_irq(&t->parent_obj, level);
}

static void test_registers(void)
{
    for (int i = 0; i < 4; i++) {
        g_assert_cmphex(cfg_read(ISA, PIIX3_PIRQRC + i, 1), ==, 0x80);
    }
    g_assert_cmphex(cfg_read(ISA, PIIX3_TOM, 1), ==, 0x02);
    g_assert_cmphex(cfg_read(ISA, PIIX3_APICBASE, 1), ==, 0x00);
    g_assert_cmphex(cfg_read(ISA, PCI_COMMAND, 2), ==, 0x0007);

    cfg_write(ISA, PIIX3_PIRQRC, 0xffffffff, 4);
    g_assert_cmphex(cfg_read(ISA, PIIX3_PIRQRC, 4), ==, 0x8f8f8f8f);
    cfg_write(ISA, PIIX3_TOM, 0xff, 1);
    g_assert_cmphex(cfg_read(ISA, PIIX3_TOM, 1), ==, 0xfe);
    cfg_write(ISA, PIIX3_APICBASE, 0xff, 1);
    g_assert_cmphex(cfg_read(ISA, PIIX3_APICBASE, 1), ==, 0x7f);
    cfg_write(ISA, PCI_COMMAND, 0, 2);
    g_assert_cmphex(cfg_read(ISA, PCI_COMMAND, 2), ==, 0x0007);

    piix3->klass->reset(piix3);
    g_assert_cmphex(cfg_read(ISA, PIIX3_PIRQRC, 4), ==, 0x80808080);
    g_assert_cmphex(cfg_read(ISA, PIIX3_TOM, 1), ==, 0x02);
    g_assert_cmphex(cfg_read(ISA, PIIX3_APICBASE, 1), ==, 0x00);
}

static void test_swizzle(void)
{
    PCIDevice d = { 0 };
    /* INTA..INTD of slots 1-5, as PC firmware's routing table has them. */
    static const int pirq[6][4] = {
        [1] = { 0, 1, 2, 3 }, [2] = { 1, 2, 3, 0 }, [3] = { 2, 3, 0, 1 },
        [4] = { 3, 0, 1, 2 }, [5] = { 0, 1, 2, 3 },
    };

    for (int slot = 1; slot <= 5; slot++) {
        for (int pin = 0; pin < 4; pin++) {
            d.devfn = PCI_DEVFN(slot, 0);
            g_assert_cmpint(pci_swizzle_map_irq(&d, pin), ==, pirq[slot][pin]);
        }
    }
}

static void test_route(void)
{
    memset(isa_changes, 0, sizeof(isa_changes));

    /* Disabled route: nothing reaches the ISA side. */
    cfg_write(ISA, 0x62, 0x8b, 1);
    intx(dev3, 1);
    g_assert_cmpint(isa_changes[11], ==, 0);
    g_assert_cmphex(cfg_read(PCI_DEVFN(3, 0), PCI_STATUS, 2) &
                    PCI_STATUS_INTERRUPT, ==, PCI_STATUS_INTERRUPT);

    /* Enabling the route while asserted raises the IRQ at once. */
    cfg_write(ISA, 0x62, 0x0b, 1);
    g_assert_cmpint(isa_level[11], ==, 1);
    intx(dev3, 0);
    g_assert_cmpint(isa_level[11], ==, 0);
    intx(dev3, 1);
    g_assert_cmpint(isa_level[11], ==, 1);

    /* Re-routing moves the level. */
    cfg_write(ISA, 0x62, 0x0a, 1);
    g_assert_cmpint(isa_level[11], ==, 0);
    g_assert_cmpint(isa_level[10], ==, 1);
    cfg_write(ISA, 0x62, 0x80, 1);
    g_assert_cmpint(isa_level[10], ==, 0);

    /* Reserved IRQ numbers route nowhere. */
    static const int reserved[] = { 0, 1, 2, 8, 13 };
    memset(isa_changes, 0, sizeof(isa_changes));
    for (size_t i = 0; i < ARRAY_SIZE(reserved); i++) {
        cfg_write(ISA, 0x62, reserved[i], 1);
        g_assert_cmpint(isa_changes[reserved[i]], ==, 0);
    }
    cfg_write(ISA, 0x62, 0x80, 1);
    intx(dev3, 0);
    g_assert_cmphex(cfg_read(PCI_DEVFN(3, 0), PCI_STATUS, 2) &
                    PCI_STATUS_INTERRUPT, ==, 0);
}

static void test_sharing(void)
{
    cfg_write(ISA, 0x62, 11, 1);
    cfg_write(ISA, 0x63, 11, 1);
    memset(isa_changes, 0, sizeof(isa_changes));

    intx(dev3, 1);
    g_assert_cmpint(isa_level[11], ==, 1);
    g_assert_cmpint(isa_changes[11], ==, 1);
    intx(dev7, 1);                      /* same PIRQ */
    intx(dev4, 1);                      /* another PIRQ, same IRQ */
    intx(dev3, 1);                      /* no news */
    g_assert_cmpint(isa_changes[11], ==, 1);
    intx(dev3, 0);
    g_assert_cmpint(isa_level[11], ==, 1);
    intx(dev7, 0);
    g_assert_cmpint(isa_level[11], ==, 1);
    intx(dev4, 0);
    g_assert_cmpint(isa_level[11], ==, 0);
    g_assert_cmpint(isa_changes[11], ==, 2);

    /* Splitting shared PIRQs apart while both are asserted. */
    intx(dev3, 1);
    intx(dev4, 1);
    cfg_write(ISA, 0x63, 10, 1);
    g_assert_cmpint(isa_level[11], ==, 1);
    g_assert_cmpint(isa_level[10], ==, 1);
    intx(dev3, 0);
    g_assert_cmpint(isa_level[11], ==, 0);
    g_assert_cmpint(isa_level[10], ==, 1);
    intx(dev4, 0);
    g_assert_cmpint(isa_level[10], ==, 0);
    piix3->klass->reset(piix3);
}

static void test_intx_disable(void)
{
    int d = PCI_DEVFN(3, 0);

    cfg_write(ISA, 0x62, 11, 1);
    intx(dev3, 1);
    g_assert_cmpint(isa_level[11], ==, 1);
    cfg_write(d, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
    g_assert_cmpint(isa_level[11], ==, 0);
    g_assert_cmphex(cfg_read(d, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, ==,
                    PCI_STATUS_INTERRUPT);
    cfg_write(d, PCI_COMMAND, 0, 2);
    g_assert_cmpint(isa_level[11], ==, 1);

    /* A device reset lowers its line. */
    DEVICE(&dev3->parent_obj)->klass->reset(DEVICE(&dev3->parent_obj));
    g_assert_cmpint(isa_level[11], ==, 0);
    /* As does the router's: routes go back to disabled. */
    intx(dev3, 1);
    g_assert_cmpint(isa_level[11], ==, 1);
    piix3->klass->reset(piix3);
    g_assert_cmpint(isa_level[11], ==, 0);
    intx(dev3, 0);
}

static bool wrote_reset;

static gboolean write_reset(gpointer data)
{
    io_write(PIIX3_RCR_PORT, PIIX3_RCR_SRST | PIIX3_RCR_RCPU, 1);
    wrote_reset = true;
    return G_SOURCE_REMOVE;
}

static gboolean give_up(gpointer data)
{
    qemu_system_exit_request(42);
    return G_SOURCE_REMOVE;
}

static void test_reset_control(void)
{
    static MachineState ms = { .type = "pc", .no_reboot = true };

    g_assert_cmphex(io_read(PIIX3_RCR_PORT, 1), ==, 0);
    io_write(PIIX3_RCR_PORT, PIIX3_RCR_SRST, 1);
    g_assert_cmphex(io_read(PIIX3_RCR_PORT, 1), ==, PIIX3_RCR_SRST);
    /* CONFADD and the RCR share 0xcf8-0xcfb without disturbing each other. */
    io_write(0xcf8, 0x80000000, 4);
    g_assert_cmphex(io_read(0xcf8, 4), ==, 0x80000000);
    g_assert_cmphex(io_read(PIIX3_RCR_PORT, 1), ==, PIIX3_RCR_SRST);
    g_assert_cmphex(io_read(0xcf8, 2), ==, 0x02ff);
    io_write(0xcf8, 0x80000400, 4);     /* RCPU set in CONFADD's byte 1 */
    io_write(0xcf8, 0x80000000, 4);

    /* With -no-reboot a guest reset request ends the main loop; the write
     * of 0x02 above must not have made one. */
    current_machine = &ms;
    bql_lock();
    g_timeout_add(20, write_reset, NULL);
    g_timeout_add(5000, give_up, NULL);
    int status = main_loop_run();
    bql_unlock();
    g_assert_true(wrote_reset);
    g_assert_cmpint(status, ==, 0);
    g_assert_cmphex(io_read(PIIX3_RCR_PORT, 1), ==,
                    PIIX3_RCR_SRST | PIIX3_RCR_RCPU);
    piix3->klass->reset(piix3);
    g_assert_cmphex(io_read(PIIX3_RCR_PORT, 1), ==, 0);
}

/* Stream: config[256], irq_level, end, rcr, end. */
#define ST_RCR  (PCI_CONFIG_SPACE_SIZE + 2)

static void test_state(void)
{
    DeviceState *d3 = DEVICE(&dev3->parent_obj);
    Error *err = NULL;

    cfg_write(ISA, 0x62, 11, 1);
    io_write(PIIX3_RCR_PORT, PIIX3_RCR_SRST, 1);
    intx(dev3, 1);
    GByteArray *isa = test_vmstate_save(piix3);
    GByteArray *dev = test_vmstate_save(d3);
    g_assert_cmphex(isa->data[ST_RCR], ==, PIIX3_RCR_SRST);

    /* As after an incoming migration: everything reset, then loaded. */
    d3->klass->reset(d3);
    piix3->klass->reset(piix3);
    g_assert_cmpint(isa_level[11], ==, 0);
    g_assert_true(test_vmstate_load(piix3, isa, &err));
    g_assert_cmpint(isa_level[11], ==, 0);
    g_assert_true(test_vmstate_load(d3, dev, &err));
    g_assert_cmpint(isa_level[11], ==, 1);
    g_assert_cmphex(io_read(PIIX3_RCR_PORT, 1), ==, PIIX3_RCR_SRST);
    /* The other order works too. */
    d3->klass->reset(d3);
    piix3->klass->reset(piix3);
    g_assert_true(test_vmstate_load(d3, dev, &err));
    g_assert_cmpint(isa_level[11], ==, 0);
    g_assert_true(test_vmstate_load(piix3, isa, &err));
    g_assert_cmpint(isa_level[11], ==, 1);
    intx(dev3, 0);
    g_assert_cmpint(isa_level[11], ==, 0);

    static const struct { unsigned off; uint8_t val; } bad[] = {
        { 0x62, 0x3b },                 /* reserved route bits */
        { ST_RCR, 0x08 },
        { PCI_HEADER_TYPE, 0x00 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        uint8_t keep = isa->data[bad[i].off];
        isa->data[bad[i].off] = bad[i].val;
        piix3->klass->reset(piix3);
        g_assert_false(test_vmstate_load(piix3, isa, &err));
        g_assert_nonnull(err);
        error_free(err);
        err = NULL;
        isa->data[bad[i].off] = keep;
    }
    g_byte_array_free(isa, true);
    g_byte_array_free(dev, true);

    test_vmstate_random_roundtrip(piix3);
    test_vmstate_random_roundtrip(d3);
    g_assert_cmpint(isa_level[11], ==, 0);
}

int main(int argc, char **argv)
{
    Error *err = NULL;

    g_test_init(&argc, &argv, NULL);
    test_board_init();
    piix3 = DEVICE(pci_find_device(test_bus, 0, ISA));
    dev3 = test_dev_new(PCI_DEVFN(3, 0), &err);
    dev4 = test_dev_new(PCI_DEVFN(4, 0), &err);
    dev7 = test_dev_new(PCI_DEVFN(7, 0), &err);
    g_assert_true(dev3 && dev4 && dev7);

    g_test_add_func("/piix3/registers", test_registers);
    g_test_add_func("/piix3/swizzle", test_swizzle);
    g_test_add_func("/piix3/route", test_route);
    g_test_add_func("/piix3/sharing", test_sharing);
    g_test_add_func("/piix3/intx-disable", test_intx_disable);
    g_test_add_func("/piix3/reset-control", test_reset_control);
    g_test_add_func("/piix3/state", test_state);
    return g_test_run();
}
