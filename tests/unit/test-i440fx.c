/*
 * i440FX: the four PAM modes on a segment, register masks, the SMRAM window
 * with open/close/lock, reset, and the state with its re-mapping on load.
 */
#include "test-pci-board.h"

#define SEG     0xc4000         /* PAM1 high nibble */

static DeviceState *host;

static uint8_t ram_at(uint64_t addr)
{
    return test_ram.ram[addr];
}

static void reset_host(void)
{
    host->klass->reset(host);
}

static void test_pam_modes(void)
{
    uint64_t a = SEG + 0x10;

    /* 0: PCI for reads and writes (the ROM there drops writes). */
    g_assert_cmphex(cfg_read(0, 0x5a, 1), ==, 0);
    g_assert_cmphex(mem_read(a, 1), ==, rom_byte(a));
    mem_write(a, 0x11, 1);
    g_assert_cmphex(ram_at(a), ==, ram_byte(a));
    g_assert_cmphex(mem_read(a, 1), ==, rom_byte(a));

    /* 1: read-only RAM. */
    cfg_write(0, 0x5a, PAM_RE << 4, 1);
    g_assert_cmphex(mem_read(a, 1), ==, ram_byte(a));
    mem_write(a, 0x22, 1);
    g_assert_cmphex(ram_at(a), ==, ram_byte(a));
    g_assert_cmphex(mem_read(a, 1), ==, ram_byte(a));

    /* 2: write-only: reads from PCI, writes into RAM. */
    cfg_write(0, 0x5a, PAM_WE << 4, 1);
    g_assert_cmphex(mem_read(a, 1), ==, rom_byte(a));
    mem_write(a, 0x33, 1);
    mem_write(a + 8, 0x0123456789abcdefull, 8);
    g_assert_cmphex(ram_at(a), ==, 0x33);
    g_assert_cmphex(ldq_le(test_ram.ram + a + 8), ==, 0x0123456789abcdefull);
    g_assert_cmphex(mem_read(a, 1), ==, rom_byte(a));
    uint64_t rom8 = 0;
    for (int i = 0; i < 8; i++) {
        rom8 |= (uint64_t)rom_byte(a + 8 + i) << (i * 8);
    }
    g_assert_cmphex(mem_read(a + 8, 8), ==, rom8);

    /* 3: RAM. */
    cfg_write(0, 0x5a, (PAM_RE | PAM_WE) << 4, 1);
    g_assert_cmphex(mem_read(a, 1), ==, 0x33);
    mem_write(a, 0x44, 1);
    g_assert_cmphex(ram_at(a), ==, 0x44);
    g_assert_cmphex(mem_read(a, 1), ==, 0x44);

    /* Only that segment: its neighbours still read PCI. */
    g_assert_cmphex(mem_read(SEG - 1, 1), ==, rom_byte(SEG - 1));
    g_assert_cmphex(mem_read(SEG, 1), ==, ram_byte(SEG));
    g_assert_cmphex(mem_read(SEG + 16 * KiB - 1, 1), ==,
                    ram_byte(SEG + 16 * KiB - 1));
    g_assert_cmphex(mem_read(SEG + 16 * KiB, 1), ==, rom_byte(SEG + 16 * KiB));

    /* Back to PCI. */
    cfg_write(0, 0x5a, 0, 1);
    g_assert_cmphex(mem_read(a, 1), ==, rom_byte(a));
    test_ram.ram[a] = ram_byte(a);
    stq_le(test_ram.ram + a + 8, 0);
    for (int i = 0; i < 8; i++) {
        test_ram.ram[a + 8 + i] = ram_byte(a + 8 + i);
    }
}

static void test_pam_segments(void)
{
    /* PAM0's high nibble is the whole 64 KiB BIOS segment. */
    cfg_write(0, 0x59, 0x10, 1);
    g_assert_cmphex(mem_read(0xf0000, 1), ==, ram_byte(0xf0000));
    g_assert_cmphex(mem_read(0xfffff, 1), ==, ram_byte(0xfffff));
    g_assert_cmphex(mem_read(0xeffff, 1), ==, rom_byte(0xeffff));

    /* All seven at once with a dword and a word write. */
    cfg_write(0, 0x58, 0x11111100, 4);
    cfg_write(0, 0x5c, 0x1111, 2);
    cfg_write(0, 0x5e, 0x1111, 2);
    for (uint64_t a = 0xc0000; a < 0x100000; a += 16 * KiB) {
        g_assert_cmphex(mem_read(a, 1), ==, ram_byte(a));
        g_assert_cmphex(mem_read(a + 16 * KiB - 1, 1), ==,
                        ram_byte(a + 16 * KiB - 1));
    }
    /* The last 16 KiB piece is PAM6's high nibble. */
    cfg_write(0, 0x5f, 0x01, 1);
    g_assert_cmphex(mem_read(0xec000, 1), ==, rom_byte(0xec000));
    g_assert_cmphex(mem_read(0xe8000, 1), ==, ram_byte(0xe8000));

    /* Reserved and cache-enable bits read as zero. */
    cfg_write(0, 0x59, 0xff, 1);
    g_assert_cmphex(cfg_read(0, 0x59, 1), ==, 0x30);
    cfg_write(0, 0x5c, 0xffffffff, 4);
    g_assert_cmphex(cfg_read(0, 0x5c, 4), ==, 0x33333333);

    reset_host();
    for (int reg = 0x59; reg <= 0x5f; reg++) {
        g_assert_cmphex(cfg_read(0, reg, 1), ==, 0);
    }
    g_assert_cmphex(mem_read(0xf0000, 1), ==, rom_byte(0xf0000));
    g_assert_cmphex(mem_read(0xc0000, 1), ==, rom_byte(0xc0000));
}

static bool smram_is_ram(void)
{
    uint8_t v = mem_read(0xa0100, 1);
    g_assert_true(v == ram_at(0xa0100) || v == rom_byte(0xa0100));
    g_assert_cmphex(mem_read(0xbff00, 1), ==, v == ram_at(0xa0100) ?
                    ram_at(0xbff00) : rom_byte(0xbff00));
    return v == ram_at(0xa0100);
}

static void test_smram(void)
{
    g_assert_cmphex(cfg_read(0, I440FX_SMRAM, 1), ==, SMRAM_C_BASE_SEG);
    g_assert_false(smram_is_ram());

    cfg_write(0, I440FX_SMRAM, SMRAM_G_SMRAME | SMRAM_D_OPEN, 1);
    g_assert_cmphex(cfg_read(0, I440FX_SMRAM, 1), ==, 0x4a);
    g_assert_true(smram_is_ram());
    mem_write(0xa0200, 0x5c, 1);
    g_assert_cmphex(ram_at(0xa0200), ==, 0x5c);
    test_ram.ram[0xa0200] = ram_byte(0xa0200);

    /* Closed, and open without the global enable: the VGA window. */
    cfg_write(0, I440FX_SMRAM, SMRAM_G_SMRAME, 1);
    g_assert_false(smram_is_ram());
    cfg_write(0, I440FX_SMRAM, SMRAM_D_OPEN, 1);
    g_assert_cmphex(cfg_read(0, I440FX_SMRAM, 1), ==, 0x42);
    g_assert_false(smram_is_ram());

    /* Lock: D_OPEN is cleared and stays clear, D_LCK stays set. */
    cfg_write(0, I440FX_SMRAM, SMRAM_G_SMRAME | SMRAM_D_OPEN, 1);
    g_assert_true(smram_is_ram());
    cfg_write(0, I440FX_SMRAM, SMRAM_G_SMRAME | SMRAM_D_OPEN | SMRAM_D_LCK, 1);
    g_assert_cmphex(cfg_read(0, I440FX_SMRAM, 1), ==, 0x1a);
    g_assert_false(smram_is_ram());
    cfg_write(0, I440FX_SMRAM, SMRAM_G_SMRAME | SMRAM_D_OPEN, 1);
    g_assert_cmphex(cfg_read(0, I440FX_SMRAM, 1), ==, 0x1a);
    g_assert_false(smram_is_ram());
    cfg_write(0, I440FX_SMRAM, 0xff, 1);
    g_assert_cmphex(cfg_read(0, I440FX_SMRAM, 1), ==, 0x3a);
    cfg_write(0, I440FX_SMRAM, 0x00, 1);
    g_assert_cmphex(cfg_read(0, I440FX_SMRAM, 1), ==, 0x12);
    g_assert_false(smram_is_ram());

    /* Only reset unlocks. */
    reset_host();
    g_assert_cmphex(cfg_read(0, I440FX_SMRAM, 1), ==, 0x02);
    cfg_write(0, I440FX_SMRAM, SMRAM_G_SMRAME | SMRAM_D_OPEN, 1);
    g_assert_true(smram_is_ram());
    /* Open and lock in one write: lock wins. */
    cfg_write(0, I440FX_SMRAM, 0xff, 1);
    g_assert_cmphex(cfg_read(0, I440FX_SMRAM, 1), ==, 0x3a);
    g_assert_false(smram_is_ram());
    reset_host();
}

static void test_reset(void)
{
    cfg_write(0, 0x5a, 0x33, 1);
    cfg_write(0, I440FX_SMRAM, 0x4a, 1);
    io_write(0xcf8, 0x80001234, 4);
    reset_host();
    g_assert_cmphex(io_read(0xcf8, 4), ==, 0);
    g_assert_cmphex(cfg_read(0, 0x5a, 1), ==, 0);
    g_assert_cmphex(cfg_read(0, I440FX_SMRAM, 1), ==, 0x02);
    g_assert_cmphex(mem_read(SEG, 1), ==, rom_byte(SEG));
    g_assert_false(smram_is_ram());
}

/* Stream: config[256], irq_level, end, CONFADD (be32), end. */
#define ST_SMRAM        I440FX_SMRAM
#define ST_CONFADD      (PCI_CONFIG_SPACE_SIZE + 2)

static void test_state(void)
{
    Error *err = NULL;

    cfg_write(0, 0x5a, 0x30, 1);
    cfg_write(0, I440FX_SMRAM, 0x4a, 1);
    io_write(0xcf8, 0x80000858, 4);
    GByteArray *saved = test_vmstate_save(host);
    g_assert_cmphex(saved->data[ST_CONFADD + 2], ==, 0x08);

    reset_host();
    g_assert_true(test_vmstate_load(host, saved, &err));
    g_assert_cmphex(io_read(0xcf8, 4), ==, 0x80000858);
    g_assert_cmphex(mem_read(SEG, 1), ==, ram_byte(SEG));
    g_assert_cmphex(mem_read(0xc0000, 1), ==, rom_byte(0xc0000));
    g_assert_true(smram_is_ram());

    /* Values the chip cannot hold are refused. */
    static const struct { unsigned off; uint8_t val; } bad[] = {
        { ST_SMRAM, 0x5a },             /* open while locked */
        { ST_SMRAM, 0x4b },             /* base segment is hardwired */
        { ST_SMRAM, 0xca },             /* reserved bit 7 */
        { 0x5a, 0x34 },                 /* PAM cache-enable bit */
        { 0x59, 0x01 },                 /* PAM0 low nibble */
        { PCI_DEVICE_ID, 0x38 },
        { ST_CONFADD, 0x81 },           /* CONFADD bits 30:24 */
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        uint8_t keep = saved->data[bad[i].off];
        saved->data[bad[i].off] = bad[i].val;
        reset_host();
        g_assert_false(test_vmstate_load(host, saved, &err));
        g_assert_nonnull(err);
        error_free(err);
        err = NULL;
        saved->data[bad[i].off] = keep;
    }
    g_byte_array_free(saved, true);
    reset_host();
    test_vmstate_random_roundtrip(host);
    g_assert_cmphex(mem_read(SEG, 1), ==, rom_byte(SEG));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    test_board_init();
    host = DEVICE(pci_find_device(test_bus, 0, 0));

    g_test_add_func("/i440fx/pam-modes", test_pam_modes);
    g_test_add_func("/i440fx/pam-segments", test_pam_segments);
    g_test_add_func("/i440fx/smram", test_smram);
    g_test_add_func("/i440fx/reset", test_reset);
    g_test_add_func("/i440fx/state", test_state);
    return g_test_run();
}
