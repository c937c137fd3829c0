/*
 * PCI core through configuration mechanism #1: IDs of the chipset, absent
 * functions, CONFADD decoding, write masks, BAR sizing and mapping, the
 * "addr" property, "info pci" and the state of a device with BARs.
 */
#include "test-pci-board.h"

#define DEV PCI_DEVFN(3, 0)

static TestPCIDev *tdev;

static void test_chipset_ids(void)
{
    g_assert_cmphex(cfg_read(0, PCI_VENDOR_ID, 4), ==, 0x12378086);
    g_assert_cmphex(cfg_read(0, PCI_CLASS_DEVICE, 2), ==, 0x0600);
    g_assert_cmphex(cfg_read(0, PCI_REVISION_ID, 1), ==, 0x02);
    g_assert_cmphex(cfg_read(0, PCI_HEADER_TYPE, 1), ==, 0x00);
    g_assert_cmphex(cfg_read(0, PCI_COMMAND, 2), ==, 0x0006);

    int isa = PCI_DEVFN(1, 0);
    g_assert_cmphex(cfg_read(isa, PCI_VENDOR_ID, 2), ==, 0x8086);
    g_assert_cmphex(cfg_read(isa, PCI_DEVICE_ID, 2), ==, 0x7000);
    g_assert_cmphex(cfg_read(isa, PCI_REVISION_ID, 4) >> 16, ==, 0x0601);
    g_assert_cmphex(cfg_read(isa, PCI_HEADER_TYPE, 1), ==, 0x80);

    g_assert_cmphex(cfg_read(DEV, PCI_SUBSYSTEM_VENDOR_ID, 4), ==,
                    0x11001af4);
    g_assert_cmphex(cfg_read(DEV, PCI_INTERRUPT_PIN, 1), ==, 1);
}

static void test_absent(void)
{
    g_assert_cmphex(cfg_read(PCI_DEVFN(5, 0), 0, 4), ==, 0xffffffff);
    g_assert_cmphex(cfg_read(PCI_DEVFN(5, 0), 2, 2), ==, 0xffff);
    g_assert_cmphex(cfg_read(PCI_DEVFN(31, 7), 0x3f, 1), ==, 0xff);
    g_assert_cmphex(cfg_read(PCI_DEVFN(0, 1), 0, 4), ==, 0xffffffff);
    cfg_write(PCI_DEVFN(5, 0), PCI_COMMAND, 0xffff, 2);   /* goes nowhere */

    /* Another bus number: nothing there (no bridges yet). */
    io_write(0xcf8, 0x80010000, 4);
    g_assert_cmphex(io_read(0xcfc, 4), ==, 0xffffffff);
    /* Enable bit clear: the data port is not decoded. */
    io_write(0xcf8, 0x00000000, 4);
    g_assert_cmphex(io_read(0xcfc, 4), ==, 0xffffffff);
    io_write(0xcfc, 0, 4);
    g_assert_cmphex(cfg_read(0, 0, 4), ==, 0x12378086);
}

static void test_confadd(void)
{
    io_write(0xcf8, 0xffffffff, 4);
    g_assert_cmphex(io_read(0xcf8, 4), ==, 0x80ffffff);
    /* Narrow accesses are not CONFADD. */
    io_write(0xcf8, 0x12, 1);
    io_write(0xcfa, 0x3456, 2);
    g_assert_cmphex(io_read(0xcf8, 4), ==, 0x80ffffff);
    g_assert_cmphex(io_read(0xcf8, 1), ==, 0xff);
    g_assert_cmphex(io_read(0xcfa, 2), ==, 0xffff);

    /* Data port: any byte, word or dword within the dword. */
    io_write(0xcf8, 0x80000000, 4);
    g_assert_cmphex(io_read(0xcfc, 1), ==, 0x86);
    g_assert_cmphex(io_read(0xcfd, 1), ==, 0x80);
    g_assert_cmphex(io_read(0xcfe, 1), ==, 0x37);
    g_assert_cmphex(io_read(0xcff, 1), ==, 0x12);
    g_assert_cmphex(io_read(0xcfe, 2), ==, 0x1237);
    g_assert_cmphex(io_read(0xcfd, 2), ==, 0x3780);
    /* CONFADD's bits 1:0 are ORed with the data port offset (QEMU). */
    io_write(0xcf8, 0x80000002, 4);
    g_assert_cmphex(io_read(0xcf8, 4), ==, 0x80000002);
    g_assert_cmphex(io_read(0xcfc, 2), ==, 0x1237);
    g_assert_cmphex(io_read(0xcfe, 2), ==, 0x1237);
    io_write(0xcf8, 0x80000001, 4);
    g_assert_cmphex(io_read(0xcfe, 1), ==, 0x12);
}

static void test_masks(void)
{
    PCIDevice *dev = &tdev->parent_obj;

    cfg_write(DEV, PCI_VENDOR_ID, 0xffffffff, 4);
    g_assert_cmphex(cfg_read(DEV, PCI_VENDOR_ID, 4), ==,
                    TEST_DEV_DEVICE << 16 | TEST_DEV_VENDOR);
    cfg_write(DEV, PCI_HEADER_TYPE, 0xff, 1);
    g_assert_cmphex(cfg_read(DEV, PCI_HEADER_TYPE, 1), ==, 0);
    cfg_write(DEV, PCI_INTERRUPT_LINE, 0x0b, 1);
    g_assert_cmphex(cfg_read(DEV, PCI_INTERRUPT_LINE, 1), ==, 0x0b);
    cfg_write(DEV, PCI_INTERRUPT_PIN, 0x03, 1);
    g_assert_cmphex(cfg_read(DEV, PCI_INTERRUPT_PIN, 1), ==, 0x01);

    /* Status error bits are write-1-to-clear. */
    pci_set_word(dev->config + PCI_STATUS, 0xf900);
    cfg_write(DEV, PCI_STATUS, 0x0000, 2);
    g_assert_cmphex(cfg_read(DEV, PCI_STATUS, 2), ==, 0xf900);
    cfg_write(DEV, PCI_STATUS, 0x2100, 2);
    g_assert_cmphex(cfg_read(DEV, PCI_STATUS, 2), ==, 0xd800);
    cfg_write(DEV, PCI_COMMAND, 0xffffffff, 4);
    g_assert_cmphex(cfg_read(DEV, PCI_STATUS, 2), ==, 0x0000);
    g_assert_cmphex(cfg_read(DEV, PCI_COMMAND, 2), ==, 0x0547);
    cfg_write(DEV, PCI_COMMAND, 0, 2);
}

static void test_bar_sizing(void)
{
    static const struct { int reg; uint32_t reset, sized; } bars[] = {
        { 0x10, 0x00000001, 0xffffffe1 },   /* 32 bytes of I/O */
        { 0x14, 0x00000000, 0xfffff000 },   /* 4 KiB, 32-bit */
        { 0x18, 0x0000000c, 0xffffc00c },   /* 16 KiB, 64-bit prefetch */
        { 0x1c, 0x00000000, 0xffffffff },   /* its upper half */
        { 0x20, 0x00000000, 0x00000000 },   /* unimplemented */
        { 0x24, 0x00000000, 0x00000000 },
    };

    for (size_t i = 0; i < ARRAY_SIZE(bars); i++) {
        g_assert_cmphex(cfg_read(DEV, bars[i].reg, 4), ==, bars[i].reset);
        cfg_write(DEV, bars[i].reg, 0xffffffff, 4);
        g_assert_cmphex(cfg_read(DEV, bars[i].reg, 4), ==, bars[i].sized);
        cfg_write(DEV, bars[i].reg, 0, 4);
        g_assert_cmphex(cfg_read(DEV, bars[i].reg, 4), ==, bars[i].reset);
    }
    /* The ROM: all-ones but the enable bit. */
    cfg_write(DEV, PCI_ROM_ADDRESS, 0xfffffffe, 4);
    g_assert_cmphex(cfg_read(DEV, PCI_ROM_ADDRESS, 4), ==, 0xfffff000);
    cfg_write(DEV, PCI_ROM_ADDRESS, 0, 4);

    /* Sizing with decode on does not map at the all-ones address. */
    cfg_write(DEV, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    cfg_write(DEV, 0x14, 0xffffffff, 4);
    g_assert_cmphex(pci_get_bar_addr(&tdev->parent_obj, 1), ==,
                    PCI_BAR_UNMAPPED);
    cfg_write(DEV, 0x10, 0xffffffff, 4);
    g_assert_cmphex(pci_get_bar_addr(&tdev->parent_obj, 0), ==,
                    PCI_BAR_UNMAPPED);
    cfg_write(DEV, 0x10, 0, 4);
    cfg_write(DEV, 0x14, 0, 4);
    cfg_write(DEV, PCI_COMMAND, 0, 2);
}

static void program_bars(void)
{
    cfg_write(DEV, 0x10, 0xc000, 4);
    cfg_write(DEV, 0x14, 0xfe000000, 4);
    cfg_write(DEV, 0x18, 0x00000000, 4);
    cfg_write(DEV, 0x1c, 0x00000008, 4);             /* 32 GiB */
    cfg_write(DEV, PCI_ROM_ADDRESS, 0xfe100000 | PCI_ROM_ADDRESS_ENABLE, 4);
}

static void test_bar_mapping(void)
{
    PCIDevice *dev = &tdev->parent_obj;

    program_bars();
    /* Nothing is decoded until the command register says so. */
    g_assert_cmphex(io_read(0xc004, 4), ==, 0xffffffff);
    g_assert_cmphex(mem_read(0xfe000000, 4), ==, 0xffffffff);

    cfg_write(DEV, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    g_assert_cmphex(pci_get_bar_addr(dev, 0), ==, 0xc000);
    g_assert_cmphex(pci_get_bar_addr(dev, 1), ==, 0xfe000000);
    g_assert_cmphex(pci_get_bar_addr(dev, 2), ==, 0x800000000);
    g_assert_cmphex(pci_get_bar_addr(dev, PCI_ROM_SLOT), ==, 0xfe100000);

    io_write(0xc004, 0x12345678, 4);
    g_assert_cmphex(tdev->regs[1], ==, 0x12345678);
    g_assert_cmphex(io_read(0xc004, 4), ==, 0x12345678);
    mem_write(0xfe000010, 0xdeadbeef, 4);
    g_assert_cmphex(ldl_le(tdev->mem.ram + 0x10), ==, 0xdeadbeef);
    g_assert_cmphex(mem_read(0xfe000010, 4), ==, 0xdeadbeef);
    mem_write(0x800000020, 0xcafe, 2);
    g_assert_cmphex(lduw_le(tdev->mem64.ram + 0x20), ==, 0xcafe);
    g_assert_cmphex(mem_read(0xfe100ffc, 4), ==, 0xd7d7d7d7);
    mem_write(0xfe100000, 0, 4);                    /* ROM: dropped */
    g_assert_cmphex(mem_read(0xfe100000, 4), ==, 0xd7d7d7d7);

    /* Moving a BAR while decoding. */
    cfg_write(DEV, 0x14, 0xfe200000, 4);
    g_assert_cmphex(mem_read(0xfe000010, 4), ==, 0xffffffff);
    g_assert_cmphex(mem_read(0xfe200010, 4), ==, 0xdeadbeef);

    /* ROM enable bit. */
    cfg_write(DEV, PCI_ROM_ADDRESS, 0xfe100000, 4);
    g_assert_cmphex(mem_read(0xfe100000, 4), ==, 0xffffffff);

    /* Memory decode off, I/O still on; then both off. */
    cfg_write(DEV, PCI_COMMAND, PCI_COMMAND_IO, 2);
    g_assert_cmphex(mem_read(0xfe200010, 4), ==, 0xffffffff);
    g_assert_cmphex(mem_read(0x800000020, 2), ==, 0xffff);
    g_assert_cmphex(io_read(0xc004, 4), ==, 0x12345678);
    cfg_write(DEV, PCI_COMMAND, 0, 2);
    g_assert_cmphex(io_read(0xc004, 4), ==, 0xffffffff);
    g_assert_cmphex(pci_get_bar_addr(dev, 0), ==, PCI_BAR_UNMAPPED);

    /* An I/O BAR past 64 KiB is not decoded. */
    cfg_write(DEV, 0x10, 0x10000, 4);
    cfg_write(DEV, PCI_COMMAND, PCI_COMMAND_IO, 2);
    g_assert_cmphex(pci_get_bar_addr(dev, 0), ==, PCI_BAR_UNMAPPED);

    /* Reset: command and BARs back to their reset values, unmapped. */
    DEVICE(dev)->klass->reset(DEVICE(dev));
    g_assert_cmphex(cfg_read(DEV, PCI_COMMAND, 2), ==, 0);
    g_assert_cmphex(cfg_read(DEV, 0x10, 4), ==, 0x1);
    g_assert_cmphex(cfg_read(DEV, 0x1c, 4), ==, 0);
    for (int bar = 0; bar < PCI_NUM_REGIONS; bar++) {
        g_assert_cmphex(pci_get_bar_addr(dev, bar), ==, PCI_BAR_UNMAPPED);
    }
}

static void test_devfn_parse(void)
{
    static const struct { const char *s; int32_t devfn; } good[] = {
        { "0", 0 }, { "3", 0x18 }, { "03.0", 0x18 }, { "0x3", 0x18 },
        { "1f.7", 0xff }, { "1F", 0xf8 }, { "1.2", 0x0a },
        { "auto", PCI_DEVFN_AUTO }, { "-1", PCI_DEVFN_AUTO },
    };
    static const char *const bad[] = {
        "", "20", "3.8", "3.", ".1", "x", "3 ", " 3", "0x", "1.2.3", "-2",
        "ffffffffffffffffffff",
    };
    Error *err = NULL;
    char buf[16];

    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        int32_t devfn = 1234;
        g_assert_true(pci_parse_devfn(good[i].s, &devfn, &err));
        g_assert_cmpint(devfn, ==, good[i].devfn);
    }
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        int32_t devfn = 1234;
        g_assert_false(pci_parse_devfn(bad[i], &devfn, &err));
        g_assert_nonnull(err);
        g_assert_cmpint(devfn, ==, 1234);
        error_free(err);
        err = NULL;
    }
    g_assert_cmpstr(pci_format_devfn(0x0a, buf, sizeof(buf)), ==, "01.2");
    g_assert_cmpstr(pci_format_devfn(0xff, buf, sizeof(buf)), ==, "1f.7");
    g_assert_cmpstr(pci_format_devfn(PCI_DEVFN_AUTO, buf, sizeof(buf)), ==,
                    "auto");
}

static void test_devfn_placement(void)
{
    Error *err = NULL;

    /* Taken slots are refused with a message naming the occupant. */
    g_assert_null(test_dev_new(PCI_DEVFN(0, 0), &err));
    g_assert_nonnull(strstr(err->msg, "already in use by i440FX"));
    error_free(err);
    err = NULL;
    g_assert_null(test_dev_new(DEV, &err));
    g_assert_nonnull(strstr(err->msg, "03.0"));
    error_free(err);
    err = NULL;

    /* Auto: the first slot with all functions free (0, 1 and 3 are used). */
    TestPCIDev *t = test_dev_new(PCI_DEVFN_AUTO, &err);
    g_assert_nonnull(t);
    g_assert_cmpint(t->parent_obj.devfn, ==, PCI_DEVFN(2, 0));
    g_assert_cmphex(cfg_read(PCI_DEVFN(2, 0), PCI_VENDOR_ID, 2), ==,
                    TEST_DEV_VENDOR);
    /* A second function of slot 4. */
    TestPCIDev *f = test_dev_new(PCI_DEVFN(4, 5), &err);
    g_assert_nonnull(f);
    g_assert_cmphex(cfg_read(PCI_DEVFN(4, 5), PCI_VENDOR_ID, 2), ==,
                    TEST_DEV_VENDOR);
    t = test_dev_new(PCI_DEVFN_AUTO, &err);
    g_assert_cmpint(t->parent_obj.devfn, ==, PCI_DEVFN(5, 0));
}

static void test_info(void)
{
    GString *out = g_string_new(NULL);

    pci_print_info(out);
    g_assert_nonnull(strstr(out->str, "Bus  0, device   0, function 0:\n"
                            "    Host bridge: PCI device 8086:1237\n"));
    g_assert_nonnull(strstr(out->str, "ISA bridge: PCI device 8086:7000"));
    g_assert_nonnull(strstr(out->str, "PCI subsystem 1af4:1100"));
    g_assert_nonnull(strstr(out->str, "IRQ 0, pin A"));
    g_assert_nonnull(strstr(out->str, "BAR0: I/O unmapped"));
    g_assert_nonnull(strstr(out->str,
                            "BAR2: 64 bit prefetch memory unmapped"));
    g_string_free(out, true);
}

static void test_state(void)
{
    DeviceState *ds = DEVICE(&tdev->parent_obj);
    Error *err = NULL;

    program_bars();
    cfg_write(DEV, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    io_write(0xc008, 0xabcd, 4);
    GByteArray *saved = test_vmstate_save(ds);

    ds->klass->reset(ds);
    tdev->regs[2] = 0;
    g_assert_cmphex(io_read(0xc008, 4), ==, 0xffffffff);
    g_assert_true(test_vmstate_load(ds, saved, &err));
    /* BARs are mapped again from the loaded config space. */
    g_assert_cmphex(io_read(0xc008, 4), ==, 0xabcd);
    g_assert_cmphex(pci_get_bar_addr(&tdev->parent_obj, 2), ==, 0x800000000);

    /* Config space of another device is refused. */
    saved->data[PCI_DEVICE_ID] ^= 1;
    ds->klass->reset(ds);
    g_assert_false(test_vmstate_load(ds, saved, &err));
    g_assert_nonnull(strstr(err->msg, "does not fit"));
    error_free(err);
    err = NULL;
    saved->data[PCI_DEVICE_ID] ^= 1;
    /* So are BAR type bits and INTx levels out of range. */
    saved->data[0x10] &= ~PCI_BASE_ADDRESS_SPACE_IO;
    g_assert_false(test_vmstate_load(ds, saved, &err));
    error_free(err);
    err = NULL;
    saved->data[0x10] |= PCI_BASE_ADDRESS_SPACE_IO;
    saved->data[PCI_CONFIG_SPACE_SIZE] = 2;
    g_assert_false(test_vmstate_load(ds, saved, &err));
    error_free(err);
    err = NULL;
    g_byte_array_free(saved, true);

    test_vmstate_random_roundtrip(ds);
    g_assert_cmphex(cfg_read(DEV, PCI_COMMAND, 2), ==, 0);
}

int main(int argc, char **argv)
{
    Error *err = NULL;

    g_test_init(&argc, &argv, NULL);
    test_board_init();
    tdev = test_dev_new(DEV, &err);
    g_assert_nonnull(tdev);

    g_test_add_func("/pci/chipset-ids", test_chipset_ids);
    g_test_add_func("/pci/absent", test_absent);
    g_test_add_func("/pci/confadd", test_confadd);
    g_test_add_func("/pci/masks", test_masks);
    g_test_add_func("/pci/bar-sizing", test_bar_sizing);
    g_test_add_func("/pci/bar-mapping", test_bar_mapping);
    g_test_add_func("/pci/devfn-parse", test_devfn_parse);
    g_test_add_func("/pci/devfn-placement", test_devfn_placement);
    g_test_add_func("/pci/info", test_info);
    g_test_add_func("/pci/state", test_state);
    return g_test_run();
}
