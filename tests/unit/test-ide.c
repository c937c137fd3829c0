/*
 * IDE controller and ATA disk: PCI function, taskfile registers, reset
 * signatures, IDENTIFY, PIO and multiple-sector transfers, CHS/LBA28/LBA48
 * addressing, errors, SET FEATURES, bus-master DMA with PRD tables and its
 * failure modes, interrupts, DATA SET MANAGEMENT (TRIM) on raw and qcow2
 * disks, and the state (also with a transfer in flight).  ATAPI is in
 * test-ide-atapi.c.
 */
#include "test-ide-lib.h"
#include "hw/block/ide-internal.h"
#include "block/block_int.h"
#include <fcntl.h>
#include <unistd.h>

static void check_hd_data(const uint8_t *buf, uint64_t lba, unsigned n)
{
    for (unsigned s = 0; s < n; s++) {
        for (unsigned i = 0; i < 512; i++) {
            if (buf[s * 512 + i] != hd_byte(lba + s, i)) {
                g_error("sector %" PRIu64 " byte %u: 0x%02x, expected 0x%02x",
                        lba + s, i, buf[s * 512 + i], hd_byte(lba + s, i));
            }
        }
    }
}

static uint64_t tf_read_lba28(uint16_t base)
{
    return (uint64_t)(inb(base + ATA_REG_SELECT) & 0x0f) << 24 |
           inb(base + ATA_REG_HCYL) << 16 | inb(base + ATA_REG_LCYL) << 8 |
           inb(base + ATA_REG_SECTOR);
}

static uint64_t tf_read_lba48(uint16_t base)
{
    uint64_t lo = inb(base + ATA_REG_HCYL) << 16 |
                  inb(base + ATA_REG_LCYL) << 8 | inb(base + ATA_REG_SECTOR);
    outb(PRI_CTL, ATA_CTL_HOB);
    uint64_t hi = (uint64_t)inb(base + ATA_REG_HCYL) << 16 |
                  inb(base + ATA_REG_LCYL) << 8 | inb(base + ATA_REG_SECTOR);
    outb(PRI_CTL, 0);
    return hi << 24 | lo;
}

/* ---- the PCI function ---- */

static void test_pci_config(void)
{
    g_assert_cmphex(cfg_read(IDE_DEVFN, PCI_VENDOR_ID, 4), ==, 0x70108086);
    g_assert_cmphex(cfg_read(IDE_DEVFN, PCI_CLASS_PROG, 1), ==, 0x80);
    g_assert_cmphex(cfg_read(IDE_DEVFN, PCI_CLASS_DEVICE, 2), ==, 0x0101);
    g_assert_cmphex(cfg_read(IDE_DEVFN, PCI_HEADER_TYPE, 1), ==, 0);
    g_assert_cmphex(cfg_read(IDE_DEVFN, PCI_INTERRUPT_PIN, 1), ==, 0);
    g_assert_cmphex(cfg_read(IDE_DEVFN, PIIX_IDETIM, 4), ==, 0x80008000);
    /* BAR4 decodes 16 bytes of I/O. */
    cfg_write(IDE_DEVFN, 0x20, 0xffffffff, 4);
    g_assert_cmphex(cfg_read(IDE_DEVFN, 0x20, 4), ==, 0xfffffff1);
    cfg_write(IDE_DEVFN, 0x20, BMDMA_BASE, 4);
    g_assert_cmphex(cfg_read(IDE_DEVFN, 0x20, 4), ==, BMDMA_BASE | 1);
    /* The other BARs are not there: legacy ports only. */
    cfg_write(IDE_DEVFN, 0x10, 0xffffffff, 4);
    g_assert_cmphex(cfg_read(IDE_DEVFN, 0x10, 4), ==, 0);
}

/* IDETIM's decode bit switches the legacy ports of one channel. */
static void test_pci_decode(void)
{
    channel_reset(PRI);
    outb(PRI + ATA_REG_NSECTOR, 0x55);
    g_assert_cmphex(inb(PRI + ATA_REG_NSECTOR), ==, 0x55);
    cfg_write(IDE_DEVFN, PIIX_IDETIM, 0x0000, 2);
    g_assert_cmphex(inb(PRI + ATA_REG_NSECTOR), ==, 0xff);
    g_assert_cmphex(inb(PRI_CTL), ==, 0xff);
    g_assert_cmphex(inb(SEC + ATA_REG_LCYL), ==, 0x14);   /* still there */
    cfg_write(IDE_DEVFN, PIIX_IDETIM, PIIX_IDETIM_IDE, 2);
    g_assert_cmphex(inb(PRI + ATA_REG_NSECTOR), ==, 0x55);
}

/* ---- registers ---- */

static void test_signatures(void)
{
    channel_reset(PRI);
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
    g_assert_cmphex(inb(PRI + ATA_REG_ERROR), ==, 0x01);
    g_assert_cmphex(inb(PRI + ATA_REG_NSECTOR), ==, 1);
    g_assert_cmphex(inb(PRI + ATA_REG_SECTOR), ==, 1);
    g_assert_cmphex(inb(PRI + ATA_REG_LCYL), ==, 0);
    g_assert_cmphex(inb(PRI + ATA_REG_HCYL), ==, 0);

    channel_reset(SEC);
    g_assert_cmphex(inb(SEC + ATA_REG_STATUS), ==, 0);
    g_assert_cmphex(inb(SEC + ATA_REG_LCYL), ==, 0x14);
    g_assert_cmphex(inb(SEC + ATA_REG_HCYL), ==, 0xeb);
    outb(SEC + ATA_REG_SELECT, 0xb0);
    g_assert_cmphex(inb(SEC + ATA_REG_STATUS), ==, ST_OK);
    g_assert_cmphex(inb(SEC + ATA_REG_LCYL), ==, 0);

    /* EXECUTE DEVICE DIAGNOSTIC: both devices, device 0 interrupts. */
    outb(SEC + ATA_REG_LCYL, 0x77);
    outb(SEC + ATA_REG_CMD, WIN_DIAGNOSE);
    g_assert_true(wait_irq(15));
    g_assert_cmphex(inb(SEC + ATA_REG_SELECT) & ATA_DEV_DEV1, ==, 0);
    g_assert_cmphex(inb(SEC + ATA_REG_ERROR), ==, 0x01);
    g_assert_cmphex(inb(SEC + ATA_REG_LCYL), ==, 0x14);
    inb(SEC + ATA_REG_STATUS);
    g_assert_cmpint(isa_level[15], ==, 0);
}

static void test_absent_slave(void)
{
    channel_reset(PRI);
    outb(PRI + ATA_REG_SELECT, 0xb0);
    /* Device 0 answers for a missing device 1: status 0. */
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, 0);
    g_assert_cmphex(inb(PRI_CTL), ==, 0);
    /* Registers latch in both devices (the probe reads them back). */
    outb(PRI + ATA_REG_NSECTOR, 0x55);
    outb(PRI + ATA_REG_SECTOR, 0xaa);
    g_assert_cmphex(inb(PRI + ATA_REG_NSECTOR), ==, 0x55);
    g_assert_cmphex(inb(PRI + ATA_REG_SECTOR), ==, 0xaa);
    /* A command to it does nothing. */
    outb(PRI + ATA_REG_CMD, WIN_IDENTIFY);
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, 0);
    g_assert_cmpint(isa_level[14], ==, 0);
    outb(PRI + ATA_REG_SELECT, 0xa0);
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
}

static void test_hob(void)
{
    channel_reset(PRI);
    outb(PRI + ATA_REG_NSECTOR, 0x12);
    outb(PRI + ATA_REG_NSECTOR, 0x34);
    outb(PRI + ATA_REG_HCYL, 0x56);
    outb(PRI + ATA_REG_HCYL, 0x78);
    g_assert_cmphex(inb(PRI + ATA_REG_NSECTOR), ==, 0x34);
    outb(PRI_CTL, ATA_CTL_HOB);
    g_assert_cmphex(inb(PRI + ATA_REG_NSECTOR), ==, 0x12);
    g_assert_cmphex(inb(PRI + ATA_REG_HCYL), ==, 0x56);
    /* Writing a taskfile register clears HOB. */
    outb(PRI + ATA_REG_LCYL, 0);
    g_assert_cmphex(inb(PRI + ATA_REG_NSECTOR), ==, 0x34);
    outb(PRI_CTL, 0);
}

static void test_identify(void)
{
    uint16_t id[256];
    uint8_t sum = 0;
    char model[41];

    channel_reset(PRI);
    outb(PRI + ATA_REG_CMD, WIN_IDENTIFY);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI_CTL), ==, ST_DRQ);
    g_assert_cmpint(isa_level[14], ==, 1);         /* alt status keeps it */
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_DRQ);
    g_assert_cmpint(isa_level[14], ==, 0);         /* status acknowledges */
    /* Mixed 32- and 16-bit data port accesses. */
    for (int i = 0; i < 128; i += 2) {
        uint32_t v = inl(PRI);
        id[i] = v;
        id[i + 1] = v >> 16;
    }
    pio_in(PRI, id + 128, 256);
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
    g_assert_cmpint(isa_level[14], ==, 0);

    for (int i = 0; i < 512; i++) {
        sum += ((uint8_t *)id)[i];
    }
    g_assert_cmphex(id[255] & 0xff, ==, 0xa5);
    g_assert_cmphex(sum, ==, 0);
    for (int i = 0; i < 20; i++) {
        model[2 * i] = id[27 + i] >> 8;
        model[2 * i + 1] = id[27 + i];
    }
    model[40] = 0;
    g_assert_cmpstr(g_strchomp(model), ==, "QEMU HARDDISK");
    g_assert_cmphex(id[0], ==, 0x0040);
    g_assert_cmpuint(id[1], ==, 16383);
    g_assert_cmpuint(id[3], ==, 16);
    g_assert_cmpuint(id[6], ==, 63);
    g_assert_cmphex(id[47], ==, 0x8010);
    g_assert_cmphex(id[49] & 0x0300, ==, 0x0300);   /* LBA, DMA */
    g_assert_cmphex(id[59], ==, 0x0110);            /* multiple = 16 */
    g_assert_cmphex(id[60] | (uint32_t)id[61] << 16, ==, 0x0fffffff);
    g_assert_cmphex(id[83] & 0x7400, ==, 0x7400);   /* LBA48, flushes */
    g_assert_cmphex(id[85] & 0x0020, ==, 0x0020);   /* write cache on */
    uint64_t n = 0;
    for (int i = 3; i >= 0; i--) {
        n = n << 16 | id[100 + i];
    }
    g_assert_cmpuint(n, ==, HD_SECTORS);
    g_assert_cmphex(id[88] & 0xff, ==, 0x3f);

    /* The read-only disk behind it, device 1 of the secondary channel. */
    identify(SEC, 1, WIN_IDENTIFY, id);
    g_assert_cmpuint(id[60], ==, RO_SECTORS);
    g_assert_cmpuint(id[1], ==, 2);                 /* QEMU's minimum */
    inb(SEC + ATA_REG_STATUS);
}

/* ---- PIO transfers ---- */

static void test_pio_read(void)
{
    uint8_t buf[3 * 512];

    channel_reset(PRI);
    tf_lba28(PRI, 0, 100, 3);
    outb(PRI + ATA_REG_CMD, WIN_READ);
    for (int s = 0; s < 3; s++) {
        g_assert_true(wait_irq(14));
        g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==,
                        ST_DRQ);
        pio_in(PRI, buf + s * 512, 512);
    }
    g_assert_cmphex(wait_not_busy(PRI), ==, ST_OK);
    g_assert_cmpint(isa_level[14], ==, 0);      /* none after the last */
    check_hd_data(buf, 100, 3);
    g_assert_cmpuint(tf_read_lba28(PRI), ==, 102);
    g_assert_cmpuint(inb(PRI + ATA_REG_NSECTOR), ==, 0);
    /* Reading the data port now gives nothing and breaks nothing. */
    g_assert_cmphex(inw(PRI), ==, 0);
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
}

static void write_pattern(uint8_t *buf, unsigned len, uint8_t seed)
{
    for (unsigned i = 0; i < len; i++) {
        buf[i] = seed ^ (i * 5) ^ (i >> 9);
    }
}

static void read_file(uint64_t off, void *buf, size_t len)
{
    int fd = open(hd_path, O_RDONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, buf, len, off), ==, len);
    close(fd);
}

static void test_pio_write(void)
{
    uint8_t out[4 * 512], in[4 * 512];

    channel_reset(PRI);
    write_pattern(out, sizeof(out), 0x11);
    tf_lba28(PRI, 0, 3000, 4);
    outb(PRI + ATA_REG_CMD, WIN_WRITE);
    for (int s = 0; s < 4; s++) {
        /* DRQ for the first block comes without an interrupt. */
        if (s) {
            g_assert_true(wait_irq(14));
        }
        g_assert_cmphex(wait_not_busy(PRI), ==, ST_DRQ);
        g_assert_cmpint(isa_level[14], ==, s > 0);
        inb(PRI + ATA_REG_STATUS);
        pio_out(PRI, out + s * 512, 512);
    }
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
    g_assert_cmpuint(tf_read_lba28(PRI), ==, 3003);

    /* FLUSH CACHE: then the file itself holds the data. */
    outb(PRI + ATA_REG_CMD, WIN_FLUSH_CACHE);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
    read_file(3000 * 512, in, sizeof(in));
    g_assert_cmpmem(in, sizeof(in), out, sizeof(out));

    /* And READ SECTORS gives it back. */
    tf_lba28(PRI, 0, 3001, 2);
    outb(PRI + ATA_REG_CMD, WIN_READ);
    for (int s = 0; s < 2; s++) {
        g_assert_true(wait_irq(14));
        inb(PRI + ATA_REG_STATUS);
        pio_in(PRI, in + s * 512, 512);
    }
    g_assert_cmpmem(in, 1024, out + 512, 1024);
}

static void test_multiple(void)
{
    uint8_t buf[10 * 512];
    int irqs = 0;

    channel_reset(PRI);
    outb(PRI + ATA_REG_NSECTOR, 3);                 /* not a power of 2 */
    outb(PRI + ATA_REG_CMD, WIN_SETMULT);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_ERR);
    g_assert_cmphex(inb(PRI + ATA_REG_ERROR), ==, ATA_ABRT);
    outb(PRI + ATA_REG_NSECTOR, 4);
    outb(PRI + ATA_REG_CMD, WIN_SETMULT);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);

    /* 10 sectors in blocks of 4, 4, 2: one interrupt and DRQ each. */
    tf_lba28(PRI, 0, 7, 10);
    outb(PRI + ATA_REG_CMD, WIN_MULTREAD);
    for (unsigned done = 0; done < 10; irqs++) {
        unsigned n = MIN(10 - done, 4);
        g_assert_true(wait_irq(14));
        inb(PRI + ATA_REG_STATUS);
        pio_in(PRI, buf + done * 512, n * 512);
        done += n;
        if (done < 10) {
            /* The block is over: no DRQ until the next one is read. */
            g_assert_cmphex(inb(PRI_CTL) & ATA_DRQ, ==, 0);
        }
    }
    g_assert_cmpint(irqs, ==, 3);
    g_assert_cmphex(wait_not_busy(PRI), ==, ST_OK);
    check_hd_data(buf, 7, 10);

    /* WRITE MULTIPLE EXT, read back with READ MULTIPLE EXT. */
    uint8_t out[6 * 512];
    write_pattern(out, sizeof(out), 0x5a);
    tf_lba48(PRI, 0, 3500, 6);
    outb(PRI + ATA_REG_CMD, WIN_MULTWRITE_EXT);
    for (unsigned done = 0; done < 6;) {
        unsigned n = MIN(6 - done, 4);
        g_assert_cmphex(wait_not_busy(PRI) & ATA_DRQ, ==, ATA_DRQ);
        pio_out(PRI, out + done * 512, n * 512);
        done += n;
        g_assert_true(wait_irq(14));
        inb(PRI + ATA_REG_STATUS);
    }
    g_assert_cmphex(inb(PRI_CTL), ==, ST_OK);
    tf_lba48(PRI, 0, 3500, 6);
    outb(PRI + ATA_REG_CMD, WIN_MULTREAD_EXT);
    for (unsigned done = 0; done < 6;) {
        unsigned n = MIN(6 - done, 4);
        g_assert_true(wait_irq(14));
        inb(PRI + ATA_REG_STATUS);
        pio_in(PRI, buf + done * 512, n * 512);
        done += n;
    }
    g_assert_cmpmem(buf, sizeof(out), out, sizeof(out));

    /* Multiple mode off: READ MULTIPLE is aborted. */
    outb(PRI + ATA_REG_NSECTOR, 0);
    outb(PRI + ATA_REG_CMD, WIN_SETMULT);
    g_assert_true(wait_irq(14));
    inb(PRI + ATA_REG_STATUS);
    tf_lba28(PRI, 0, 0, 1);
    outb(PRI + ATA_REG_CMD, WIN_MULTREAD);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_ERR);
    g_assert_cmphex(inb(PRI + ATA_REG_ERROR), ==, ATA_ABRT);
    outb(PRI + ATA_REG_NSECTOR, 16);
    outb(PRI + ATA_REG_CMD, WIN_SETMULT);
    g_assert_true(wait_irq(14));
    inb(PRI + ATA_REG_STATUS);
}

static void test_lba48(void)
{
    uint8_t buf[2 * 512];

    channel_reset(PRI);
    tf_lba48(PRI, 0, HD_HIGH_LBA + 3, 2);
    outb(PRI + ATA_REG_CMD, WIN_READ_EXT);
    for (int s = 0; s < 2; s++) {
        g_assert_true(wait_irq(14));
        inb(PRI + ATA_REG_STATUS);
        pio_in(PRI, buf + s * 512, 512);
    }
    check_hd_data(buf, HD_HIGH_LBA + 3, 2);
    g_assert_cmphex(tf_read_lba48(PRI), ==, HD_HIGH_LBA + 4);

    /* The same address with a 28-bit command is past its reach. */
    tf_lba28(PRI, 0, 0x0ffffffe, 2);
    outb(PRI + ATA_REG_CMD, WIN_READ);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_ERR);
    g_assert_cmphex(inb(PRI + ATA_REG_ERROR), ==, ATA_IDNF);
    g_assert_cmphex(tf_read_lba28(PRI), ==, 0x0fffffff);
    g_assert_cmpuint(inb(PRI + ATA_REG_NSECTOR), ==, 1);

    /* All six address bytes come back in the error registers. */
    tf_lba48(PRI, 0, 0x123456789abcULL, 0);         /* 0: 65536 sectors */
    outb(PRI + ATA_REG_CMD, WIN_READ_EXT);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_ERR);
    g_assert_cmphex(inb(PRI + ATA_REG_ERROR), ==, ATA_IDNF);
    g_assert_cmphex(tf_read_lba48(PRI), ==, 0x123456789abcULL);
}

static void test_out_of_range(void)
{
    channel_reset(SEC);
    /* 2 sectors from the last one of the 64-sector disk. */
    tf_lba28(SEC, 1, RO_SECTORS - 1, 2);
    outb(SEC + ATA_REG_CMD, WIN_READ);
    g_assert_true(wait_irq(15));
    g_assert_cmphex(inb(SEC + ATA_REG_STATUS), ==, ST_ERR);
    g_assert_cmphex(inb(SEC + ATA_REG_ERROR), ==, ATA_IDNF);
    g_assert_cmpuint(tf_read_lba28(SEC), ==, RO_SECTORS);
    g_assert_cmpuint(inb(SEC + ATA_REG_NSECTOR), ==, 1);
    /* Writes to the read-only disk are aborted. */
    tf_lba28(SEC, 1, 0, 1);
    outb(SEC + ATA_REG_CMD, WIN_WRITE);
    g_assert_true(wait_irq(15));
    g_assert_cmphex(inb(SEC + ATA_REG_STATUS), ==, ST_ERR);
    g_assert_cmphex(inb(SEC + ATA_REG_ERROR), ==, ATA_ABRT);
    /* A DMA past the end fails before any transfer. */
    tf_lba28(SEC, 1, RO_SECTORS, 1);
    outb(SEC + ATA_REG_CMD, WIN_READDMA);
    g_assert_true(wait_irq(15));
    g_assert_cmphex(inb(SEC + ATA_REG_ERROR), ==, ATA_IDNF);
    inb(SEC + ATA_REG_STATUS);
    outb(SEC + ATA_REG_SELECT, 0xa0);
}

static void test_chs(void)
{
    uint8_t buf[512];
    uint16_t id[256];

    channel_reset(PRI);
    /* C/H/S 0/1/1 with 16 heads and 63 sectors: LBA 63. */
    outb(PRI + ATA_REG_SELECT, 0xa1);
    outb(PRI + ATA_REG_NSECTOR, 1);
    outb(PRI + ATA_REG_SECTOR, 1);
    outb(PRI + ATA_REG_LCYL, 0);
    outb(PRI + ATA_REG_HCYL, 0);
    outb(PRI + ATA_REG_CMD, WIN_READ);
    g_assert_true(wait_irq(14));
    inb(PRI + ATA_REG_STATUS);
    pio_in(PRI, buf, 512);
    check_hd_data(buf, 63, 1);

    /* INITIALIZE DEVICE PARAMETERS: 4 heads, 32 sectors. */
    outb(PRI + ATA_REG_SELECT, 0xa3);
    outb(PRI + ATA_REG_NSECTOR, 32);
    outb(PRI + ATA_REG_CMD, WIN_SPECIFY);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
    identify(PRI, 0, WIN_IDENTIFY, id);
    g_assert_cmpuint(id[55], ==, 4);
    g_assert_cmpuint(id[56], ==, 32);
    g_assert_cmpuint(id[54], ==, 65535);
    g_assert_cmpuint(id[57] | (uint32_t)id[58] << 16, ==, 65535 * 4 * 32);
    inb(PRI + ATA_REG_STATUS);
    /* 1/2/3 = (1 * 4 + 2) * 32 + 2 = 194 */
    outb(PRI + ATA_REG_SELECT, 0xa2);
    outb(PRI + ATA_REG_NSECTOR, 1);
    outb(PRI + ATA_REG_SECTOR, 3);
    outb(PRI + ATA_REG_LCYL, 1);
    outb(PRI + ATA_REG_HCYL, 0);
    outb(PRI + ATA_REG_CMD, WIN_READ);
    g_assert_true(wait_irq(14));
    inb(PRI + ATA_REG_STATUS);
    pio_in(PRI, buf, 512);
    check_hd_data(buf, 194, 1);
    /* Sector 0 and a head beyond the translation do not exist. */
    outb(PRI + ATA_REG_SECTOR, 0);
    outb(PRI + ATA_REG_CMD, WIN_READ);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_ERROR), ==, ATA_IDNF);
    inb(PRI + ATA_REG_STATUS);
    outb(PRI + ATA_REG_SELECT, 0xa4);
    outb(PRI + ATA_REG_SECTOR, 1);
    outb(PRI + ATA_REG_CMD, WIN_READ);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_ERROR), ==, ATA_IDNF);
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_ERR);
    /* Sector count 0 is refused; back to 16/63. */
    outb(PRI + ATA_REG_NSECTOR, 0);
    outb(PRI + ATA_REG_CMD, WIN_SPECIFY);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_ERROR), ==, ATA_ABRT);
    outb(PRI + ATA_REG_SELECT, 0xaf);
    outb(PRI + ATA_REG_NSECTOR, 63);
    outb(PRI + ATA_REG_CMD, WIN_SPECIFY);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
}

static void test_verify_flush(void)
{
    channel_reset(PRI);
    tf_lba28(PRI, 0, 10, 0);                        /* 256 sectors */
    outb(PRI + ATA_REG_CMD, WIN_VERIFY);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
    g_assert_cmpuint(tf_read_lba28(PRI), ==, 265);
    tf_lba48(PRI, 0, 100, 600);                     /* three steps */
    outb(PRI + ATA_REG_CMD, WIN_VERIFY_EXT);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
    g_assert_cmphex(tf_read_lba48(PRI), ==, 699);
    tf_lba48(PRI, 0, HD_SECTORS - 5, 6);
    outb(PRI + ATA_REG_CMD, WIN_VERIFY_EXT);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_ERROR), ==, ATA_IDNF);
    g_assert_cmphex(tf_read_lba48(PRI), ==, HD_SECTORS);
    inb(PRI + ATA_REG_STATUS);
    outb(PRI + ATA_REG_CMD, WIN_FLUSH_CACHE_EXT);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
}

static void test_set_features(void)
{
    uint16_t id[256];

    channel_reset(PRI);
    outb(PRI + ATA_REG_FEATURE, SETFEATURES_WC_OFF);
    outb(PRI + ATA_REG_CMD, WIN_SETFEATURES);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
    g_assert_false(blk_enable_write_cache(hd_blk));
    identify(PRI, 0, WIN_IDENTIFY, id);
    g_assert_cmphex(id[85] & 0x20, ==, 0);
    inb(PRI + ATA_REG_STATUS);
    outb(PRI + ATA_REG_FEATURE, SETFEATURES_WC_ON);
    outb(PRI + ATA_REG_CMD, WIN_SETFEATURES);
    g_assert_true(wait_irq(14));
    inb(PRI + ATA_REG_STATUS);
    g_assert_true(blk_enable_write_cache(hd_blk));

    /* Transfer modes: UDMA 2 selected, then MWDMA 1. */
    outb(PRI + ATA_REG_FEATURE, SETFEATURES_XFER);
    outb(PRI + ATA_REG_NSECTOR, 0x42);
    outb(PRI + ATA_REG_CMD, WIN_SETFEATURES);
    g_assert_true(wait_irq(14));
    identify(PRI, 0, WIN_IDENTIFY, id);
    g_assert_cmphex(id[88], ==, 0x043f);
    g_assert_cmphex(id[63], ==, 0x0007);
    inb(PRI + ATA_REG_STATUS);
    outb(PRI + ATA_REG_FEATURE, SETFEATURES_XFER);
    outb(PRI + ATA_REG_NSECTOR, 0x21);
    outb(PRI + ATA_REG_CMD, WIN_SETFEATURES);
    g_assert_true(wait_irq(14));
    identify(PRI, 0, WIN_IDENTIFY, id);
    g_assert_cmphex(id[88], ==, 0x003f);
    g_assert_cmphex(id[63], ==, 0x0207);
    inb(PRI + ATA_REG_STATUS);
    /* UDMA 7 and unknown subcommands are aborted. */
    outb(PRI + ATA_REG_FEATURE, SETFEATURES_XFER);
    outb(PRI + ATA_REG_NSECTOR, 0x47);
    outb(PRI + ATA_REG_CMD, WIN_SETFEATURES);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_ERROR), ==, ATA_ABRT);
    inb(PRI + ATA_REG_STATUS);
    outb(PRI + ATA_REG_FEATURE, 0x31);
    outb(PRI + ATA_REG_CMD, WIN_SETFEATURES);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_ERR);
}

static void test_misc_commands(void)
{
    static const uint8_t ok[] = { WIN_RECAL, WIN_SEEK, WIN_IDLEIMMEDIATE,
                                  WIN_STANDBYNOW1 };
    channel_reset(PRI);
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        outb(PRI + ATA_REG_CMD, ok[i]);
        g_assert_true(wait_irq(14));
        g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
    }
    outb(PRI + ATA_REG_CMD, WIN_CHECKPOWERMODE1);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_NSECTOR), ==, 0xff);
    inb(PRI + ATA_REG_STATUS);
    /* NOP, PACKET on a disk, and an opcode nobody defines: aborted. */
    static const uint8_t bad[] = { WIN_NOP, WIN_PACKETCMD, WIN_PIDENTIFY,
                                   0xff };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        outb(PRI + ATA_REG_CMD, bad[i]);
        g_assert_true(wait_irq(14));
        g_assert_cmphex(inb(PRI + ATA_REG_ERROR), ==, ATA_ABRT);
        g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==,
                        ST_ERR);
    }
}

/* ---- interrupts and reset ---- */

static void test_nien(void)
{
    channel_reset(PRI);
    outb(PRI_CTL, ATA_CTL_NIEN);
    outb(PRI + ATA_REG_CMD, WIN_CHECKPOWERMODE1);
    g_assert_cmphex(wait_not_busy(PRI), ==, ST_OK);
    g_assert_cmpint(isa_level[14], ==, 0);
    /* The bus master sees the line, not the device's pending flag. */
    g_assert_cmphex(bm_status(0) & BM_STATUS_INTR, ==, 0);
    outb(PRI_CTL, 0);                               /* pending: raises it */
    g_assert_cmpint(isa_level[14], ==, 1);
    g_assert_cmphex(bm_status(0) & BM_STATUS_INTR, ==, BM_STATUS_INTR);
    /* Selecting the other device releases the line, for as long. */
    outb(PRI + ATA_REG_SELECT, 0xb0);
    g_assert_cmpint(isa_level[14], ==, 0);
    outb(PRI + ATA_REG_SELECT, 0xa0);
    g_assert_cmpint(isa_level[14], ==, 1);
    inb(PRI + ATA_REG_STATUS);
    g_assert_cmpint(isa_level[14], ==, 0);
    bm_clear(0);
    g_assert_cmphex(bm_status(0) & BM_STATUS_INTR, ==, 0);
}

static void test_srst_mid_transfer(void)
{
    uint8_t buf[512];

    channel_reset(PRI);
    tf_lba28(PRI, 0, 50, 4);
    outb(PRI + ATA_REG_CMD, WIN_READ);
    g_assert_true(wait_irq(14));
    inb(PRI + ATA_REG_STATUS);
    pio_in(PRI, buf, 100);
    outb(PRI_CTL, ATA_CTL_SRST);
    g_assert_cmphex(inb(PRI_CTL), ==, ATA_BSY);
    g_assert_cmpint(isa_level[14], ==, 0);
    /* Taskfile writes are ignored while busy. */
    outb(PRI + ATA_REG_NSECTOR, 0x99);
    outb(PRI_CTL, 0);
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
    g_assert_cmphex(inb(PRI + ATA_REG_NSECTOR), ==, 1);
    g_assert_cmphex(inw(PRI), ==, 0);
    /* A command in the middle of a write replaces it. */
    tf_lba28(PRI, 0, 60, 2);
    outb(PRI + ATA_REG_CMD, WIN_WRITE);
    g_assert_cmphex(wait_not_busy(PRI), ==, ST_DRQ);
    pio_out(PRI, buf, 64);
    tf_lba28(PRI, 0, 61, 1);
    outb(PRI + ATA_REG_CMD, WIN_READ);
    g_assert_true(wait_irq(14));
    inb(PRI + ATA_REG_STATUS);
    pio_in(PRI, buf, 512);
    check_hd_data(buf, 61, 1);
}

/* ---- bus-master DMA ---- */

static void dma_cmd(uint16_t base, uint8_t cmd, uint64_t lba, uint16_t n)
{
    if (cmd == WIN_READDMA_EXT || cmd == WIN_WRITEDMA_EXT) {
        tf_lba48(base, 0, lba, n);
    } else {
        tf_lba28(base, 0, lba, n);
    }
    outb(base + ATA_REG_CMD, cmd);
}

static void check_ram_hd(uint64_t addr, uint64_t lba, unsigned n)
{
    g_autofree uint8_t *buf = g_malloc(n * 512);
    address_space_read(&address_space_memory, addr, buf, n * 512);
    check_hd_data(buf, lba, n);
}

static void test_dma_read(void)
{
    channel_reset(PRI);
    memset(test_ram.ram + BUF_ADDR, 0, 0x10000);
    /* 4 sectors into three uneven pieces. */
    prd_set(0, BUF_ADDR, 1536, false);
    prd_set(1, BUF_ADDR + 0x4000, 2, false);
    prd_set(2, BUF_ADDR + 0x8000, 510, true);
    dma_cmd(PRI, WIN_READDMA, 200, 4);
    g_assert_cmphex(inb(PRI_CTL), ==, ST_DRQ);
    bm_start(0, true);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(bm_status(0) & 7, ==, BM_STATUS_INTR);  /* exact fit */
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
    bm_stop(0);
    bm_clear(0);
    check_ram_hd(BUF_ADDR, 200, 3);
    uint8_t last[512];
    address_space_read(&address_space_memory, BUF_ADDR + 0x4000, last, 2);
    address_space_read(&address_space_memory, BUF_ADDR + 0x8000, last + 2, 510);
    check_hd_data(last, 203, 1);
    g_assert_cmpuint(tf_read_lba28(PRI), ==, 203);

    /* Start first, then the command (READ DMA EXT, beyond LBA28). */
    prd_set(0, BUF_ADDR, 8192, true);               /* more than needed */
    bm_start(0, true);
    dma_cmd(PRI, WIN_READDMA_EXT, HD_HIGH_LBA, 5);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(bm_status(0) & 7, ==, BM_STATUS_INTR | BM_STATUS_ACTIVE);
    inb(PRI + ATA_REG_STATUS);
    bm_stop(0);
    bm_clear(0);
    check_ram_hd(BUF_ADDR, HD_HIGH_LBA, 5);

    /* Byte count 0 means 64 KiB; 300 sectors take several chunks. */
    prd_set(0, 0x40000, 0, false);
    prd_set(1, 0x50000, 0, false);
    prd_set(2, 0x60000, 0x5800, true);
    dma_cmd(PRI, WIN_READDMA_EXT, 1000, 300);
    bm_start(0, true);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(bm_status(0) & 7, ==, BM_STATUS_INTR);
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
    bm_stop(0);
    bm_clear(0);
    check_ram_hd(0x40000, 1000, 300);
}

static void test_dma_write(void)
{
    uint8_t out[16 * 512], in[16 * 512];

    channel_reset(PRI);
    write_pattern(out, sizeof(out), 0xa7);
    address_space_write(&address_space_memory, BUF_ADDR, out, 4096);
    address_space_write(&address_space_memory, BUF_ADDR + 0x6000, out + 4096,
                        4096);
    prd_set(0, BUF_ADDR, 4096, false);
    prd_set(1, BUF_ADDR + 0x6000, 4096, true);
    dma_cmd(PRI, WIN_WRITEDMA_EXT, 3100, 16);
    bm_start(0, false);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(bm_status(0) & 7, ==, BM_STATUS_INTR);
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
    bm_stop(0);
    bm_clear(0);
    outb(PRI + ATA_REG_CMD, WIN_FLUSH_CACHE);
    g_assert_true(wait_irq(14));
    inb(PRI + ATA_REG_STATUS);
    read_file(3100 * 512, in, sizeof(in));
    g_assert_cmpmem(in, sizeof(in), out, sizeof(out));
}

/* Run the main loop until the bus master status has one of bits. */
static uint8_t wait_bm(int ch, uint8_t bits)
{
    for (int i = 0; i < 2000 && !(bm_status(ch) & bits); i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    return bm_status(ch);
}

static void test_dma_errors(void)
{
    channel_reset(PRI);
    /* PRDs shorter than the transfer: interrupt 0, active 0, and (as in
     * QEMU) the device drops the command, ready and without DRQ. */
    prd_set(0, BUF_ADDR, 1024, true);
    dma_cmd(PRI, WIN_READDMA, 0, 4);
    bm_start(0, true);
    for (int i = 0; i < 2000 && (bm_status(0) & BM_STATUS_ACTIVE); i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    g_assert_cmphex(bm_status(0) & 7, ==, 0);
    g_assert_cmphex(inb(PRI_CTL), ==, ST_OK);
    g_assert_cmpint(isa_level[14], ==, 0);
    check_ram_hd(BUF_ADDR, 0, 2);
    channel_reset(PRI);

    /* A PRD into unassigned memory: error bit, no interrupt. */
    prd_set(0, 0xf0000000u, 512, true);
    dma_cmd(PRI, WIN_READDMA, 0, 1);
    bm_start(0, true);
    g_assert_cmphex(wait_bm(0, BM_STATUS_ERROR) & 7, ==, BM_STATUS_ERROR);
    g_assert_cmpint(isa_level[14], ==, 0);
    channel_reset(PRI);

    /* Direction bit against the command. */
    prd_set(0, BUF_ADDR, 512, true);
    dma_cmd(PRI, WIN_WRITEDMA, 5, 1);
    bm_start(0, true);
    g_assert_cmphex(bm_status(0) & 7, ==, BM_STATUS_ERROR);
    channel_reset(PRI);

    /* Bus mastering off in PCI command: the function cannot reach memory
     * (QEMU's model): the PRD table reads as zeros (64 KiB at 0, no end),
     * the data goes nowhere, the command completes, no error. */
    cfg_write(IDE_DEVFN, PCI_COMMAND, PCI_COMMAND_IO, 2);
    memset(test_ram.ram + BUF_ADDR, 0x77, 512);
    uint8_t low[512];
    memcpy(low, test_ram.ram, sizeof(low));
    dma_cmd(PRI, WIN_READDMA, 0, 1);
    bm_start(0, true);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(bm_status(0) & 7, ==, BM_STATUS_ACTIVE | BM_STATUS_INTR);
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
    for (int i = 0; i < 512; i++) {
        g_assert_cmphex(test_ram.ram[BUF_ADDR + i], ==, 0x77);
    }
    g_assert_cmpmem(test_ram.ram, sizeof(low), low, sizeof(low));
    cfg_write(IDE_DEVFN, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    channel_reset(PRI);

    /* Stopping the engine mid-transfer lets the transfer under way end
     * first (QEMU): the data is there and the command done at once. */
    memset(test_ram.ram + BUF_ADDR, 0, 0x10000);
    prd_set(0, BUF_ADDR, 0x10000, true);
    dma_cmd(PRI, WIN_READDMA, 300, 64);
    bm_start(0, true);
    bm_stop(0);
    g_assert_cmpint(isa_level[14], ==, 1);
    g_assert_cmphex(bm_status(0) & 7, ==, BM_STATUS_INTR);
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
    check_ram_hd(BUF_ADDR, 300, 64);
    channel_reset(PRI);

    /* Stopped before the command came: the command waits for a start. */
    dma_cmd(PRI, WIN_READDMA, 400, 8);
    g_assert_cmphex(inb(PRI_CTL), ==, ST_DRQ);
    bm_start(0, true);
    g_assert_true(wait_irq(14));
    inb(PRI + ATA_REG_STATUS);
    bm_stop(0);
    check_ram_hd(BUF_ADDR, 400, 8);
    channel_reset(PRI);
}

/* ---- state ---- */

static GByteArray *save_ide(void)
{
    DeviceState *dev = (DeviceState *)ide_controller();
    GByteArray *out = g_byte_array_new();
    vmstate_save(out, dev->klass->vmsd, dev);
    return out;
}

static void load_ide(GByteArray *in)
{
    DeviceState *dev = (DeviceState *)ide_controller();
    Error *err = NULL;
    size_t pos = 0;

    dev->klass->reset(dev);
    if (!vmstate_load(in->data, in->len, &pos, dev->klass->vmsd, dev,
                      dev->klass->vmsd->version_id, &err)) {
        g_error("load: %s", err->msg);
    }
    g_assert_cmpuint(pos, ==, in->len);
    g_byte_array_free(in, true);
}

/* ---- DATA SET MANAGEMENT: TRIM ---- */

static uint64_t trim_entry(uint64_t lba, uint16_t count)
{
    return (uint64_t)count << 48 | lba;
}

/*
 * DSM with the given feature and block count, the range list at BUF_ADDR
 * (blocks * 512 bytes, entries first, zeros after); the status.
 */
static uint8_t dsm(uint16_t base, int dev, uint8_t feature, uint8_t blocks,
                   const uint64_t *ent, unsigned n)
{
    int ch = base == PRI ? 0 : 1;
    unsigned len = MAX(blocks, 1) * 512;
    g_autofree uint8_t *list = g_malloc0(len);

    for (unsigned i = 0; i < n; i++) {
        stq_le(list + i * 8, ent[i]);
    }
    address_space_write(&address_space_memory, BUF_ADDR, list, len);
    prd_set(0, BUF_ADDR, len, true);
    outb(base + ATA_REG_SELECT, 0x40 | dev << 4);
    outb(base + ATA_REG_FEATURE, feature);
    outb(base + ATA_REG_NSECTOR, 0);
    outb(base + ATA_REG_NSECTOR, blocks);
    outb(base + ATA_REG_CMD, WIN_DSM);
    bm_start(ch, false);
    g_assert_true(wait_irq(ch ? 15 : 14));
    uint8_t st = inb(base + ATA_REG_STATUS);
    bm_stop(ch);
    bm_clear(ch);
    return st;
}

/* The disk behind blk reads sectors [lba, lba + n) as zeros (or not). */
static bool reads_zeros(BlockBackend *blk, uint64_t lba, unsigned n)
{
    g_autofree uint8_t *buf = g_malloc(n * 512);
    g_assert_cmpint(blk_pread(blk, lba * 512, buf, n * 512), ==, 0);
    return buffer_is_zero(buf, n * 512);
}

static void put_hd_pattern(uint64_t lba, unsigned n)
{
    uint8_t buf[512];
    for (unsigned s = 0; s < n; s++) {
        for (int i = 0; i < 512; i++) {
            buf[i] = hd_byte(lba + s, i);
        }
        g_assert_cmpint(blk_pwrite(hd_blk, (lba + s) * 512, buf, 512), ==, 0);
    }
}

static void test_trim(void)
{
    uint16_t id[256];

    channel_reset(PRI);
    identify(PRI, 0, WIN_IDENTIFY, id);
    g_assert_cmphex(id[169] & 1, ==, 1);                /* TRIM */
    g_assert_cmphex(id[69] & 0x4020, ==, 0x4020);       /* zeros after */
    g_assert_cmpuint(id[105], ==, IDE_BUF_SIZE / 512);

    /* Three ranges, an unused entry that points nowhere, in 2 blocks. */
    uint64_t ent[] = { trim_entry(100, 2), trim_entry(HD_SECTORS + 5, 0),
                       trim_entry(304, 8), trim_entry(3000, 1) };
    g_assert_false(reads_zeros(hd_blk, 100, 1));
    g_assert_cmphex(dsm(PRI, 0, 1, 2, ent, 4), ==, ST_OK);
    /* The bus master went idle with the command: exact fit, interrupt. */
    g_assert_cmphex(bm_status(0) & 7, ==, 0);
    g_assert_true(reads_zeros(hd_blk, 100, 2));
    g_assert_true(reads_zeros(hd_blk, 304, 8));
    g_assert_true(reads_zeros(hd_blk, 3000, 1));
    g_assert_false(reads_zeros(hd_blk, 99, 1));
    g_assert_false(reads_zeros(hd_blk, 102, 1));
    g_assert_false(reads_zeros(hd_blk, 303, 1));
    g_assert_false(reads_zeros(hd_blk, 312, 1));
    g_assert_false(reads_zeros(hd_blk, 3001, 1));
    /* The guest sees the zeros too, by DMA. */
    memset(test_ram.ram + BUF_ADDR, 0xee, 4096);
    prd_set(0, BUF_ADDR, 4096, true);
    dma_cmd(PRI, WIN_READDMA, 304, 8);
    bm_start(0, true);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
    bm_stop(0);
    bm_clear(0);
    g_assert_true(buffer_is_zero(test_ram.ram + BUF_ADDR, 4096));
    /* A raw file gets a hole where the file system punches one. */
    int fd = open(hd_path, O_RDONLY);
    g_assert_cmpint(fd, >=, 0);
    off_t hole = lseek(fd, 304 * 512, SEEK_HOLE);
    close(fd);
    if (hole != 304 * 512) {
        g_test_message("no hole punched at sector 304 (file system?)");
    }
    put_hd_pattern(100, 2);
    put_hd_pattern(304, 8);
    put_hd_pattern(3000, 1);
}

/* discard=ignore (QEMU's default): TRIM succeeds, the data stays, and
 * IDENTIFY no longer promises zeros. */
static void test_trim_ignore(void)
{
    BlockOpenOptions keep = { .filename = hd_path, .format = "raw" };
    BlockOpenOptions unmap = keep;
    Error *err = NULL;
    uint16_t id[256];

    unmap.discard_unmap = true;
    g_assert_true(blk_insert_medium(hd_blk, &keep, &err));
    channel_reset(PRI);
    identify(PRI, 0, WIN_IDENTIFY, id);
    g_assert_cmphex(id[69] & 0x4020, ==, 0x4000);
    uint64_t ent[] = { trim_entry(304, 8) };
    g_assert_cmphex(dsm(PRI, 0, 1, 1, ent, 1), ==, ST_OK);
    g_assert_false(reads_zeros(hd_blk, 304, 1));
    g_assert_false(reads_zeros(hd_blk, 311, 1));
    int fd = open(hd_path, O_RDONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(lseek(fd, 304 * 512, SEEK_HOLE), >, 312 * 512);
    close(fd);
    /* A range past the end is still refused. */
    uint64_t past[] = { trim_entry(HD_SECTORS - 1, 2) };
    g_assert_cmphex(dsm(PRI, 0, 1, 1, past, 1), ==, ST_ERR);
    g_assert_true(blk_insert_medium(hd_blk, &unmap, &err));
    channel_reset(PRI);
}

static void test_trim_errors(void)
{
    uint64_t ok = trim_entry(200, 4);

    channel_reset(PRI);
    /* A range past the end aborts the command; no range is trimmed. */
    uint64_t past[] = { ok, trim_entry(HD_SECTORS - 1, 2) };
    g_assert_cmphex(dsm(PRI, 0, 1, 1, past, 2), ==, ST_ERR);
    g_assert_cmphex(inb(PRI + ATA_REG_ERROR), ==, ATA_ABRT);
    g_assert_false(reads_zeros(hd_blk, 200, 1));
    uint64_t huge[] = { trim_entry(0xffffffffffffULL, 0xffff) };
    g_assert_cmphex(dsm(PRI, 0, 1, 1, huge, 1), ==, ST_ERR);
    /* The last sector itself is fine. */
    uint64_t last[] = { trim_entry(HD_SECTORS - 1, 1) };
    g_assert_cmphex(dsm(PRI, 0, 1, 1, last, 1), ==, ST_OK);

    /* No TRIM bit, no blocks, more blocks than IDENTIFY word 105 allows:
     * aborted before any data moves (the bus master stays active). */
    g_assert_cmphex(dsm(PRI, 0, 0, 1, &ok, 1), ==, ST_ERR);
    g_assert_cmphex(inb(PRI + ATA_REG_ERROR), ==, ATA_ABRT);
    g_assert_cmphex(dsm(PRI, 0, 1, 0, &ok, 1), ==, ST_ERR);
    g_assert_cmphex(dsm(PRI, 0, 1, IDE_BUF_SIZE / 512 + 1, &ok, 1), ==,
                    ST_ERR);
    g_assert_false(reads_zeros(hd_blk, 200, 1));

    /* A read-only disk and a CD-ROM refuse it. */
    channel_reset(SEC);
    uint64_t ro[] = { trim_entry(0, 1) };
    g_assert_cmphex(dsm(SEC, 1, 1, 1, ro, 1), ==, ST_ERR);
    g_assert_cmphex(inb(SEC + ATA_REG_ERROR), ==, ATA_ABRT);
    g_assert_false(reads_zeros(ro_blk, 0, 1));
    g_assert_cmphex(dsm(SEC, 0, 1, 1, ro, 1) & ATA_ERR, ==, ATA_ERR);
    channel_reset(SEC);

    /* Short PRDs: the device gives up without trimming. */
    prd_set(0, BUF_ADDR, 256, true);
    address_space_write(&address_space_memory, BUF_ADDR, &ok, 8);
    outb(PRI + ATA_REG_SELECT, 0x40);
    outb(PRI + ATA_REG_FEATURE, 1);
    outb(PRI + ATA_REG_NSECTOR, 1);
    outb(PRI + ATA_REG_CMD, WIN_DSM);
    bm_start(0, false);
    g_assert_cmphex(wait_not_busy(PRI) & ATA_ERR, ==, 0);
    g_assert_cmphex(bm_status(0) & 7, ==, 0);
    g_assert_false(reads_zeros(hd_blk, 200, 1));
    channel_reset(PRI);
}

/* TRIM on a qcow2 disk (ide.0 unit 1 from here on): clusters freed,
 * partial clusters zeroed, everything else intact; the image stays
 * consistent. */
static void test_trim_qcow2(void)
{
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("kestrel-ide-XXXXXX.qcow2", &path, NULL);
    BlockCreateOpts co = { .size = 8 * MiB, .cluster_size = 4096,
                           .version = 3, .refcount_bits = 16 };
    BlockOpenOptions oo = { .filename = path, .format = "qcow2",
                            .discard_unmap = true };
    Error *err = NULL;
    uint8_t buf[64 * 512];

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    g_assert_true(bdrv_create("qcow2", path, &co, &err));
    BlockBackend *blk = blk_open(&oo, &err);
    g_assert_nonnull(blk);
    memset(buf, 0x5a, sizeof(buf));
    g_assert_cmpint(blk_pwrite(blk, 0, buf, sizeof(buf)), ==, 0);
    g_assert_nonnull(ide_drive_attach(&ide_controller()->bus[0], 1, IDE_HD,
                                      blk, NULL, &err));
    ide_drive_reset(&ide_controller()->bus[0].ifs[1]);
    channel_reset(PRI);

    /* Sectors 3-20: part of cluster 0, clusters 1 (8-15), part of 2. */
    uint64_t ent[] = { trim_entry(3, 18), trim_entry(40, 8) };
    g_assert_cmphex(dsm(PRI, 1, 1, 1, ent, 2), ==, ST_OK);
    g_assert_true(reads_zeros(blk, 3, 18));
    g_assert_true(reads_zeros(blk, 40, 8));
    g_assert_false(reads_zeros(blk, 2, 1));
    g_assert_false(reads_zeros(blk, 21, 1));
    g_assert_false(reads_zeros(blk, 39, 1));
    g_assert_false(reads_zeros(blk, 48, 1));
    int64_t pnum, map;
    int st = bdrv_block_status(blk_bs(blk), 8 * 512, 4096, &pnum, &map);
    g_assert_cmpint(st & BDRV_BLOCK_DATA, ==, 0);       /* freed */
    g_assert_cmpint(st & BDRV_BLOCK_ZERO, ==, BDRV_BLOCK_ZERO);
    /* Past the end of the qcow2 disk. */
    uint64_t past[] = { trim_entry(8 * MiB / 512 - 1, 2) };
    g_assert_cmphex(dsm(PRI, 1, 1, 1, past, 1), ==, ST_ERR);
    g_assert_cmphex(inb(PRI + ATA_REG_ERROR), ==, ATA_ABRT);
    outb(PRI + ATA_REG_SELECT, 0);
    channel_reset(PRI);
    g_assert_cmpint(blk_flush(blk), ==, 0);

    BdrvOpenParams p = { .rw = false, .check = true };
    BlockDriverState *bs = bdrv_open(path, "qcow2", &p, false, false, &err);
    BdrvCheckResult r;
    g_assert_nonnull(bs);
    g_assert_cmpint(bdrv_check(bs, &r, 0), ==, 0);
    g_assert_cmpint(r.corruptions + r.leaks + r.check_errors, ==, 0);
    bdrv_close(bs);
    unlink(path);
}

static void test_state_pio(void)
{
    uint8_t buf[3 * 512];

    channel_reset(PRI);
    tf_lba28(PRI, 0, 400, 3);
    outb(PRI + ATA_REG_CMD, WIN_READ);
    g_assert_true(wait_irq(14));
    inb(PRI + ATA_REG_STATUS);
    pio_in(PRI, buf, 300);
    /* Migrate in the middle of the first block. */
    load_ide(save_ide());
    g_assert_cmphex(inb(PRI_CTL), ==, ST_DRQ);
    pio_in(PRI, buf + 300, 212);
    for (int s = 1; s < 3; s++) {
        g_assert_true(wait_irq(14));
        inb(PRI + ATA_REG_STATUS);
        pio_in(PRI, buf + s * 512, 512);
    }
    check_hd_data(buf, 400, 3);
}

/* A DMA chunk in flight when the state is saved is issued again when
 * the VM runs on the destination. */
static void test_state_dma_inflight(void)
{
    channel_reset(PRI);
    memset(test_ram.ram + BUF_ADDR, 0, 0x10000);
    prd_set(0, BUF_ADDR, 0x10000, true);
    dma_cmd(PRI, WIN_READDMA, 2000, 100);
    bm_start(0, true);
    GByteArray *state = save_ide();
    load_ide(state);
    g_assert_cmpint(isa_level[14], ==, 0);
    for (int i = 0; i < 20; i++) {
        g_main_context_iteration(NULL, FALSE);   /* the old one is dropped */
    }
    g_assert_cmpint(isa_level[14], ==, 0);
    ide_bus_restart(&ide_controller()->bus[0]);
    g_assert_true(wait_irq(14));
    g_assert_cmphex(inb(PRI + ATA_REG_STATUS), ==, ST_OK);
    check_ram_hd(BUF_ADDR, 2000, 100);
    channel_reset(PRI);
}

static void test_state_random(void)
{
    channel_reset(PRI);
    channel_reset(SEC);
    test_vmstate_random_roundtrip((DeviceState *)ide_controller());
    /* Still a working controller afterwards. */
    devices_reset_all();
    cfg_write(IDE_DEVFN, PCI_BASE_ADDRESS_0 + 16, BMDMA_BASE, 4);
    cfg_write(IDE_DEVFN, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    test_pio_read();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ide_test_init();
    g_test_add_func("/ide/pci/config", test_pci_config);
    g_test_add_func("/ide/pci/decode", test_pci_decode);
    g_test_add_func("/ide/regs/signatures", test_signatures);
    g_test_add_func("/ide/regs/absent-slave", test_absent_slave);
    g_test_add_func("/ide/regs/hob", test_hob);
    g_test_add_func("/ide/ata/identify", test_identify);
    g_test_add_func("/ide/ata/pio-read", test_pio_read);
    g_test_add_func("/ide/ata/pio-write-flush", test_pio_write);
    g_test_add_func("/ide/ata/multiple", test_multiple);
    g_test_add_func("/ide/ata/lba48", test_lba48);
    g_test_add_func("/ide/ata/out-of-range", test_out_of_range);
    g_test_add_func("/ide/ata/chs", test_chs);
    g_test_add_func("/ide/ata/verify-flush", test_verify_flush);
    g_test_add_func("/ide/ata/set-features", test_set_features);
    g_test_add_func("/ide/ata/misc-commands", test_misc_commands);
    g_test_add_func("/ide/irq/nien-select", test_nien);
    g_test_add_func("/ide/reset/srst-mid-transfer", test_srst_mid_transfer);
    g_test_add_func("/ide/dma/read", test_dma_read);
    g_test_add_func("/ide/dma/write", test_dma_write);
    g_test_add_func("/ide/dma/errors", test_dma_errors);
    g_test_add_func("/ide/state/pio", test_state_pio);
    g_test_add_func("/ide/state/dma-in-flight", test_state_dma_inflight);
    g_test_add_func("/ide/state/random", test_state_random);
    /* TRIM changes the pattern (and restores it); qcow2 takes unit 1. */
    g_test_add_func("/ide/dsm/trim", test_trim);
    g_test_add_func("/ide/dsm/trim-errors", test_trim_errors);
    g_test_add_func("/ide/dsm/trim-ignore", test_trim_ignore);
    g_test_add_func("/ide/dsm/trim-qcow2", test_trim_qcow2);
    int ret = g_test_run();
    ide_test_cleanup();
    return ret;
}
