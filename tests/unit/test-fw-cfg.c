/*
 * fw_cfg: the port interface, the file directory, DMA (reads, skips,
 * refused writes, bad addresses) and the state checks, driven through
 * the I/O address space with DMA into a RAM region.
 */
#include "hw/i386/fw_cfg.h"
#include "hw/qdev.h"

#define RAM_SIZE  (1 * MiB)
#define DESC_ADDR 0x1000      /* DMA descriptor */
#define BUF_ADDR  0x2000      /* DMA target */

static MemoryRegion ram;
static FWCfgState *fw_cfg;

static void outw(uint16_t port, uint16_t val)
{
    g_assert_true(address_space_write(&address_space_io, port, &val, 2));
}

static void outl(uint16_t port, uint32_t val)
{
    g_assert_true(address_space_write(&address_space_io, port, &val, 4));
}

static uint8_t inb(uint16_t port)
{
    uint8_t val;

    g_assert_true(address_space_read(&address_space_io, port, &val, 1));
    return val;
}

static uint32_t inl(uint16_t port)
{
    uint32_t val;

    g_assert_true(address_space_read(&address_space_io, port, &val, 4));
    return val;
}

static void read_item(uint16_t key, void *buf, size_t len)
{
    outw(0x510, key);
    for (size_t i = 0; i < len; i++) {
        ((uint8_t *)buf)[i] = inb(0x511);
    }
}

/* Run one DMA request at DESC_ADDR; returns the control word afterwards. */
static uint32_t dma(uint32_t control, uint32_t len, uint64_t addr)
{
    uint8_t desc[16];

    stl_le(desc, GUINT32_TO_BE(control));
    stl_le(desc + 4, GUINT32_TO_BE(len));
    stq_le(desc + 8, GUINT64_TO_BE(addr));
    g_assert_true(address_space_write(&address_space_memory, DESC_ADDR, desc,
                                      sizeof(desc)));
    outl(0x514, 0);
    outl(0x518, GUINT32_TO_BE(DESC_ADDR));
    g_assert_true(address_space_read(&address_space_memory, DESC_ADDR, desc,
                                     4));
    return GUINT32_FROM_BE(ldl_le(desc));
}

static void test_signature(void)
{
    char sig[5] = { 0 };
    uint32_t id;
    uint8_t dma_sig[8];

    read_item(FW_CFG_SIGNATURE, sig, 4);
    g_assert_cmpstr(sig, ==, "QEMU");
    g_assert_cmpuint(inb(0x511), ==, 0);    /* past the end */
    g_assert_cmpuint(inb(0x511), ==, 0);

    read_item(FW_CFG_ID, &id, 4);
    g_assert_cmpuint(id, ==, FW_CFG_VERSION | FW_CFG_VERSION_DMA);

    /* The DMA register reads "QEMU CFG" in port order. */
    stl_le(dma_sig, inl(0x514));
    stl_le(dma_sig + 4, inl(0x518));
    g_assert_cmpmem(dma_sig, 8, "QEMU CFG", 8);
    g_assert_cmpuint(inb(0x514), ==, 'Q');
    g_assert_cmpuint(inb(0x51b), ==, 'G');
    g_assert_true(fw_cfg_find() == fw_cfg);
}

static void test_integers(void)
{
    uint8_t buf[8];

    fw_cfg_add_i16(fw_cfg, FW_CFG_NB_CPUS, 0x1234);
    fw_cfg_add_i32(fw_cfg, FW_CFG_KERNEL_ADDR, 0x12345678);
    fw_cfg_add_i64(fw_cfg, FW_CFG_RAM_SIZE, 0x1122334455667788ULL);
    fw_cfg_add_i16(fw_cfg, FW_CFG_E820_TABLE, 0xbeef);

    read_item(FW_CFG_NB_CPUS, buf, 2);
    g_assert_cmpuint(lduw_le(buf), ==, 0x1234);
    read_item(FW_CFG_KERNEL_ADDR, buf, 4);
    g_assert_cmpuint(ldl_le(buf), ==, 0x12345678);
    read_item(FW_CFG_RAM_SIZE, buf, 8);
    g_assert_cmpuint(ldq_le(buf), ==, 0x1122334455667788ULL);
    read_item(FW_CFG_E820_TABLE, buf, 2);
    g_assert_cmpuint(lduw_le(buf), ==, 0xbeef);

    /* The write-channel bit selects the same item (writes are ignored). */
    read_item(FW_CFG_NB_CPUS | FW_CFG_WRITE_CHANNEL, buf, 2);
    g_assert_cmpuint(lduw_le(buf), ==, 0x1234);
    outw(0x510, FW_CFG_NB_CPUS);
    g_assert_true(address_space_write(&address_space_io, 0x511, "\xff", 1));
    read_item(FW_CFG_NB_CPUS, buf, 2);
    g_assert_cmpuint(lduw_le(buf), ==, 0x1234);

    /* Unknown keys read as zeros. */
    for (unsigned key = 0x1a; key < 0x20; key++) {
        read_item(key, buf, 4);
        g_assert_cmpuint(ldl_le(buf), ==, 0);
    }
    read_item(0x3fff, buf, 4);
    g_assert_cmpuint(ldl_le(buf), ==, 0);
    read_item(FW_CFG_INVALID, buf, 4);
    g_assert_cmpuint(ldl_le(buf), ==, 0);
}

typedef struct DirEntry {
    uint32_t size;
    uint16_t select;
    char name[57];
} DirEntry;

static unsigned read_dir(DirEntry *out, unsigned max)
{
    uint8_t count_be[4];
    unsigned count;

    read_item(FW_CFG_FILE_DIR, count_be, 4);
    count = GUINT32_FROM_BE(ldl_le(count_be));
    g_assert_cmpuint(count, <=, max);
    for (unsigned i = 0; i < count; i++) {
        uint8_t ent[64];

        for (unsigned j = 0; j < 64; j++) {
            ent[j] = inb(0x511);
        }
        out[i].size = GUINT32_FROM_BE(ldl_le(ent));
        out[i].select = GUINT16_FROM_BE(lduw_le(ent + 4));
        g_assert_cmpuint(lduw_le(ent + 6), ==, 0);
        memcpy(out[i].name, ent + 8, 56);
        out[i].name[56] = 0;
    }
    return count;
}

static void test_files(void)
{
    DirEntry dir[16];
    char buf[64];
    unsigned n;
    size_t len;

    fw_cfg_add_file(fw_cfg, "etc/zeta", "last", 4);
    fw_cfg_add_file(fw_cfg, "bootorder", "/rom@genroms/x\n", 16);
    fw_cfg_add_file(fw_cfg, "etc/alpha", "first!", 6);

    n = read_dir(dir, 16);
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpstr(dir[0].name, ==, "bootorder");
    g_assert_cmpstr(dir[1].name, ==, "etc/alpha");
    g_assert_cmpstr(dir[2].name, ==, "etc/zeta");
    g_assert_cmpuint(dir[1].size, ==, 6);
    g_assert_cmpuint(dir[2].size, ==, 4);
    for (unsigned i = 0; i < n; i++) {
        g_assert_cmpuint(dir[i].select, >=, FW_CFG_FILE_FIRST);
    }
    read_item(dir[1].select, buf, 6);
    g_assert_cmpmem(buf, 6, "first!", 6);

    /* Replacing keeps the key and updates the size. */
    fw_cfg_add_file(fw_cfg, "etc/alpha", "second version", 14);
    n = read_dir(dir, 16);
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpstr(dir[1].name, ==, "etc/alpha");
    g_assert_cmpuint(dir[1].size, ==, 14);
    read_item(dir[1].select, buf, 15);
    g_assert_cmpmem(buf, 15, "second version\0", 15);

    g_assert_nonnull(fw_cfg_get_file(fw_cfg, "etc/zeta", &len));
    g_assert_cmpuint(len, ==, 4);
    g_assert_null(fw_cfg_get_file(fw_cfg, "etc/none", &len));

    /* Too long a name is refused without touching the directory. */
    fw_cfg_add_file(fw_cfg, "etc/this-name-is-far-too-long-to-fit-in-fifty-six-"
                    "bytes-of-directory", "x", 1);
    g_assert_cmpuint(read_dir(dir, 16), ==, 3);
}

static void test_dma_read(void)
{
    uint8_t *host = memory_region_get_ram_ptr(&ram);
    uint8_t data[300];
    uint8_t buf[4];

    for (unsigned i = 0; i < sizeof(data); i++) {
        data[i] = i * 7;
    }
    fw_cfg_add_bytes(fw_cfg, FW_CFG_KERNEL_DATA, data, sizeof(data));

    /* select + read */
    memset(host + BUF_ADDR, 0xaa, 512);
    g_assert_cmpuint(dma(FW_CFG_KERNEL_DATA << 16 | FW_CFG_DMA_CTL_SELECT |
                         FW_CFG_DMA_CTL_READ, 100, BUF_ADDR), ==, 0);
    g_assert_cmpmem(host + BUF_ADDR, 100, data, 100);
    g_assert_cmpuint(host[BUF_ADDR + 100], ==, 0xaa);

    /* continue at the offset, then skip, then the port sees the offset */
    g_assert_cmpuint(dma(FW_CFG_DMA_CTL_READ, 50, BUF_ADDR), ==, 0);
    g_assert_cmpmem(host + BUF_ADDR, 50, data + 100, 50);
    g_assert_cmpuint(dma(FW_CFG_DMA_CTL_SKIP, 50, 0), ==, 0);
    g_assert_cmpuint(inb(0x511), ==, data[200]);

    /* reading past the end gives zeros */
    memset(host + BUF_ADDR, 0xaa, 512);
    g_assert_cmpuint(dma(FW_CFG_DMA_CTL_READ, 200, BUF_ADDR), ==, 0);
    g_assert_cmpmem(host + BUF_ADDR, 99, data + 201, 99);
    for (unsigned i = 99; i < 200; i++) {
        g_assert_cmpuint(host[BUF_ADDR + i], ==, 0);
    }
    g_assert_cmpuint(host[BUF_ADDR + 200], ==, 0xaa);
    g_assert_cmpuint(inb(0x511), ==, 0);

    /* a read into nothing sets the error bit */
    g_assert_cmpuint(dma(FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT |
                         FW_CFG_DMA_CTL_READ, 4, 64 * GiB),
                     ==, FW_CFG_DMA_CTL_ERROR);
    g_assert_cmpuint(dma(FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT |
                         FW_CFG_DMA_CTL_READ, 16, RAM_SIZE - 8),
                     ==, FW_CFG_DMA_CTL_ERROR);

    /* no item is writable */
    g_assert_cmpuint(dma(FW_CFG_KERNEL_DATA << 16 | FW_CFG_DMA_CTL_SELECT |
                         FW_CFG_DMA_CTL_WRITE, 4, BUF_ADDR),
                     ==, FW_CFG_DMA_CTL_ERROR);
    read_item(FW_CFG_KERNEL_DATA, buf, 4);
    g_assert_cmpmem(buf, 4, data, 4);

    /* a nonexistent item reads as zeros */
    memset(host + BUF_ADDR, 0xaa, 16);
    g_assert_cmpuint(dma(0x1f << 16 | FW_CFG_DMA_CTL_SELECT |
                         FW_CFG_DMA_CTL_READ, 16, BUF_ADDR), ==, 0);
    for (unsigned i = 0; i < 16; i++) {
        g_assert_cmpuint(host[BUF_ADDR + i], ==, 0);
    }
}

static void test_dma_register(void)
{
    uint8_t *host = memory_region_get_ram_ptr(&ram);
    const FlatRange *fr = address_space_lookup(&address_space_io, 0x514);
    uint8_t desc[16] = { 0 };

    /* one 64-bit write of the big-endian address */
    stl_le(desc, GUINT32_TO_BE(FW_CFG_SIGNATURE << 16 |
                               FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ));
    stl_le(desc + 4, GUINT32_TO_BE(4));
    stq_le(desc + 8, GUINT64_TO_BE(BUF_ADDR));
    memcpy(host + DESC_ADDR, desc, 16);
    memset(host + BUF_ADDR, 0, 4);
    g_assert_nonnull(fr);
    memory_region_dispatch_write(fr->mr, fr->offset + 0x514 - fr->start,
                                 GUINT64_TO_BE((uint64_t)DESC_ADDR), 8);
    g_assert_cmpmem(host + BUF_ADDR, 4, "QEMU", 4);
    g_assert_cmpuint(ldl_le(host + DESC_ADDR), ==, 0);

    /* a descriptor above RAM is ignored; odd-sized writes too */
    outl(0x514, GUINT32_TO_BE(0x10));
    outl(0x518, GUINT32_TO_BE(0));
    g_assert_true(address_space_write(&address_space_io, 0x516, "\1\2", 2));
    g_assert_true(address_space_write(&address_space_io, 0x51b, "\1", 1));
    /* the latch was cleared: a 32-bit trigger uses a zero high half */
    memcpy(host + DESC_ADDR, desc, 16);
    memset(host + BUF_ADDR, 0, 4);
    outl(0x518, GUINT32_TO_BE(DESC_ADDR));
    g_assert_cmpmem(host + BUF_ADDR, 4, "QEMU", 4);
}

static DeviceState *fw_cfg_dev(void)
{
    return (DeviceState *)fw_cfg;    /* the instance starts with it */
}

static bool load_state(uint16_t key, uint32_t offset, Error **errp)
{
    const VMStateDescription *vmsd = fw_cfg_dev()->klass->vmsd;
    uint8_t buf[15];
    size_t pos = 0;

    /* big-endian stream: u16 key, u32 offset, u64 DMA address, end */
    stw_le(buf, GUINT16_TO_BE(key));
    stl_le(buf + 2, GUINT32_TO_BE(offset));
    stq_le(buf + 6, 0);
    buf[14] = 0;
    return vmstate_load(buf, sizeof(buf), &pos, vmsd, fw_cfg, vmsd->version_id,
                        errp);
}

static void test_state(void)
{
    const VMStateDescription *vmsd = fw_cfg_dev()->klass->vmsd;
    g_autoptr(GByteArray) saved = g_byte_array_new();
    Error *err = NULL;
    char sig[3] = { 0 };

    g_assert_nonnull(vmsd);
    g_assert_nonnull(fw_cfg_dev()->klass->reset);

    /* mid-item state survives save and load */
    outw(0x510, FW_CFG_SIGNATURE);
    inb(0x511);
    vmstate_save(saved, vmsd, fw_cfg);
    fw_cfg_dev()->klass->reset(fw_cfg_dev());
    {
        size_t pos = 0;

        g_assert_true(vmstate_load(saved->data, saved->len, &pos, vmsd,
                                   fw_cfg, vmsd->version_id, &err));
    }
    sig[0] = inb(0x511);
    sig[1] = inb(0x511);
    g_assert_cmpstr(sig, ==, "EM");

    g_assert_true(load_state(FW_CFG_SIGNATURE, 4, &err));
    g_assert_true(load_state(FW_CFG_INVALID, 0, &err));
    g_assert_true(load_state(FW_CFG_E820_TABLE, 1, &err));

    g_assert_false(load_state(0x1e, 0, &err));       /* no such item */
    g_assert_nonnull(strstr(err->msg, "does not exist"));
    error_free(err);
    err = NULL;
    g_assert_false(load_state(FW_CFG_SIGNATURE, 5, &err));
    g_assert_nonnull(strstr(err->msg, "past the end"));
    error_free(err);
    err = NULL;
    g_assert_false(load_state(FW_CFG_INVALID, 1, &err));
    error_free(err);
    err = NULL;
    g_assert_false(load_state(0x7fff, 0, &err));
    error_free(err);
    err = NULL;

    /* reset selects the signature */
    fw_cfg_dev()->klass->reset(fw_cfg_dev());
    g_assert_cmpuint(inb(0x511), ==, 'Q');
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    memory_init();
    memory_region_init_ram(&ram, "ram", RAM_SIZE);
    memory_region_add_subregion(get_system_memory(), 0, &ram);
    fw_cfg = fw_cfg_init_io_dma(FW_CFG_IO_BASE, FW_CFG_DMA_IO_BASE,
                                &address_space_memory);

    g_test_add_func("/fw_cfg/signature", test_signature);
    g_test_add_func("/fw_cfg/integers", test_integers);
    g_test_add_func("/fw_cfg/files", test_files);
    g_test_add_func("/fw_cfg/dma-read", test_dma_read);
    g_test_add_func("/fw_cfg/dma-register", test_dma_register);
    g_test_add_func("/fw_cfg/state", test_state);
    return g_test_run();
}
