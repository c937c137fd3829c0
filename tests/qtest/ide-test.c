/*
 * PIIX3 IDE over the qtest protocol: the PCI function, reset signatures,
 * IDENTIFY, PIO and multiple-sector transfers with LBA28 and LBA48, errors
 * for out-of-range requests, bus-master DMA with PRD tables (also a table
 * too short), and ATAPI packets (INQUIRY, READ CAPACITY, READ(10) by PIO
 * and DMA, sense data, no medium), DATA SET MANAGEMENT (TRIM) by DMA, and
 * disks given as -blockdev nodes.  Disk I/O completes in the emulator's
 * main loop: the tests poll the alternate status until BSY clears.
 * tests/unit/test-ide*.c go through every case in-process.
 */
#include "libkqtest.h"
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define PRI         0x1f0
#define PRI_CTL     0x3f6
#define SEC         0x170
#define SEC_CTL     0x376
#define BM          0xc000
#define PRD_ADDR    0x10000
#define BUF_ADDR    0x20000
#define DISK_SECTORS 2048
#define CD_SECTORS  40

static char *disk_path, *cd_path;

static uint8_t disk_byte(uint32_t lba, unsigned i)
{
    return (uint8_t)(lba * 11 + i * 7 + (i >> 8)) ^ 0x69;
}

static uint8_t cd_byte(uint32_t lba, unsigned i)
{
    return (uint8_t)(lba * 5 + i * 9) ^ 0x96;
}

static char *make_image(unsigned sectors, unsigned size,
                        uint8_t (*fn)(uint32_t, unsigned))
{
    char *path = NULL;
    int fd = g_file_open_tmp("kestrel-ide-qtest-XXXXXX", &path, NULL);
    g_autofree uint8_t *buf = g_malloc(size);

    g_assert_cmpint(fd, >=, 0);
    for (unsigned s = 0; s < sectors; s++) {
        for (unsigned i = 0; i < size; i++) {
            buf[i] = fn(s, i);
        }
        g_assert_cmpint(write(fd, buf, size), ==, size);
    }
    close(fd);
    return path;
}

static QTS *start(void)
{
    QTS *s = qts_initf("-drive file=%s,format=raw,if=ide,index=0 -cdrom %s",
                       disk_path, cd_path);
    qts_irq_intercept_in(s, "ioapic");
    qts_pci_cfg_write(s, 1, 1, 0x20, 4, BM | 1);
    qts_pci_cfg_write(s, 1, 1, 0x04, 2, 0x0005);    /* I/O, bus master */
    return s;
}

static uint8_t wait_not_busy(QTS *s, uint16_t ctl)
{
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    uint8_t st;

    while (((st = qts_inb(s, ctl)) & 0x80) && g_get_monotonic_time() < end) {
        g_usleep(100);
    }
    return st;
}

static bool wait_irq(QTS *s, int irq)
{
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (!qts_get_irq(s, irq) && g_get_monotonic_time() < end) {
        qts_inb(s, irq == 14 ? PRI_CTL : SEC_CTL);  /* lets replies in */
        g_usleep(100);
    }
    return qts_get_irq(s, irq);
}

static void lba28(QTS *s, uint32_t lba, uint8_t n)
{
    qts_outb(s, PRI + 6, 0xe0 | ((lba >> 24) & 0x0f));
    qts_outb(s, PRI + 2, n);
    qts_outb(s, PRI + 3, lba);
    qts_outb(s, PRI + 4, lba >> 8);
    qts_outb(s, PRI + 5, lba >> 16);
}

static void lba48(QTS *s, uint64_t lba, uint16_t n)
{
    qts_outb(s, PRI + 6, 0x40);
    for (int i = 1; i >= 0; i--) {
        qts_outb(s, PRI + 2, n >> (8 * i));
        qts_outb(s, PRI + 3, lba >> (24 * i));
        qts_outb(s, PRI + 4, lba >> (24 * i + 8));
        qts_outb(s, PRI + 5, lba >> (24 * i + 16));
    }
}

static void pio_in(QTS *s, uint16_t base, uint8_t *buf, unsigned len)
{
    for (unsigned i = 0; i < len; i += 2) {
        uint16_t w = qts_inw(s, base);
        buf[i] = w;
        buf[i + 1] = w >> 8;
    }
}

static void check_disk(const uint8_t *buf, uint32_t lba, unsigned n)
{
    for (unsigned i = 0; i < n * 512; i++) {
        g_assert_cmphex(buf[i], ==, disk_byte(lba + i / 512, i % 512));
    }
}

static void test_registers(void)
{
    QTS *s = start();

    g_assert_cmphex(qts_pci_cfg_read(s, 1, 1, 0, 4), ==, 0x70108086);
    g_assert_cmphex(qts_pci_cfg_read(s, 1, 1, 0x08, 4) >> 8, ==, 0x010180);
    qts_outb(s, PRI_CTL, 0x04);                     /* SRST */
    g_assert_cmphex(qts_inb(s, PRI_CTL), ==, 0x80);
    qts_outb(s, PRI_CTL, 0);
    g_assert_cmphex(qts_inb(s, PRI + 7), ==, 0x50);
    g_assert_cmphex(qts_inb(s, PRI + 1), ==, 0x01);
    g_assert_cmphex(qts_inb(s, PRI + 4), ==, 0x00);
    g_assert_cmphex(qts_inb(s, SEC + 4), ==, 0x14); /* ATAPI signature */
    g_assert_cmphex(qts_inb(s, SEC + 5), ==, 0xeb);
    /* No device 1 on the primary channel: status 0. */
    qts_outb(s, PRI + 6, 0xb0);
    g_assert_cmphex(qts_inb(s, PRI + 7), ==, 0x00);
    qts_outb(s, PRI + 6, 0xa0);
    /* HOB reads the previous value of a taskfile register. */
    qts_outb(s, PRI + 2, 0x12);
    qts_outb(s, PRI + 2, 0x34);
    qts_outb(s, PRI_CTL, 0x80);
    g_assert_cmphex(qts_inb(s, PRI + 2), ==, 0x12);
    qts_outb(s, PRI_CTL, 0);
    g_assert_cmphex(qts_inb(s, PRI + 2), ==, 0x34);
    qts_quit(s);
}

static void test_identify_pio(void)
{
    QTS *s = start();
    uint16_t id[256];
    uint8_t buf[4 * 512];

    qts_outb(s, PRI + 7, 0xec);
    g_assert_true(wait_irq(s, 14));
    g_assert_cmphex(qts_inb(s, PRI + 7), ==, 0x58);
    g_assert_false(qts_get_irq(s, 14));
    pio_in(s, PRI, (uint8_t *)id, 512);
    g_assert_cmphex(id[0], ==, 0x0040);
    g_assert_cmpuint(id[60], ==, DISK_SECTORS);
    g_assert_cmphex(id[83] & 0x0400, ==, 0x0400);

    /* READ SECTORS: an interrupt and a DRQ block per sector. */
    lba28(s, 500, 2);
    qts_outb(s, PRI + 7, 0x20);
    for (int i = 0; i < 2; i++) {
        g_assert_true(wait_irq(s, 14));
        g_assert_cmphex(qts_inb(s, PRI + 7), ==, 0x58);
        pio_in(s, PRI, buf + i * 512, 512);
    }
    g_assert_cmphex(wait_not_busy(s, PRI_CTL), ==, 0x50);
    check_disk(buf, 500, 2);

    /* WRITE MULTIPLE EXT of 4 sectors in one block, READ back. */
    qts_outb(s, PRI + 2, 4);
    qts_outb(s, PRI + 7, 0xc6);
    g_assert_true(wait_irq(s, 14));
    g_assert_cmphex(qts_inb(s, PRI + 7), ==, 0x50);
    lba48(s, 1000, 4);
    qts_outb(s, PRI + 7, 0x39);
    g_assert_cmphex(wait_not_busy(s, PRI_CTL), ==, 0x58);
    for (unsigned i = 0; i < sizeof(buf); i += 2) {
        qts_outw(s, PRI, 0xa000 + i);
    }
    g_assert_true(wait_irq(s, 14));
    g_assert_cmphex(qts_inb(s, PRI + 7), ==, 0x50);
    lba48(s, 1000, 4);
    qts_outb(s, PRI + 7, 0x24);
    for (unsigned i = 0; i < 4; i++) {
        g_assert_true(wait_irq(s, 14));
        qts_inb(s, PRI + 7);
        for (unsigned j = 0; j < 512; j += 2) {
            g_assert_cmphex(qts_inw(s, PRI), ==, 0xa000 + i * 512 + j);
        }
    }
    qts_outb(s, PRI + 7, 0xe7);                     /* FLUSH CACHE */
    g_assert_true(wait_irq(s, 14));
    g_assert_cmphex(qts_inb(s, PRI + 7), ==, 0x50);
    qts_quit(s);
}

static void test_errors(void)
{
    QTS *s = start();

    /* Past the end: ERR, IDNF, the first missing sector in the taskfile. */
    lba28(s, DISK_SECTORS - 1, 3);
    qts_outb(s, PRI + 7, 0x20);
    g_assert_true(wait_irq(s, 14));
    g_assert_cmphex(qts_inb(s, PRI + 7), ==, 0x51);
    g_assert_cmphex(qts_inb(s, PRI + 1), ==, 0x10);
    g_assert_cmphex(qts_inb(s, PRI + 3), ==, DISK_SECTORS & 0xff);
    g_assert_cmphex(qts_inb(s, PRI + 4), ==, DISK_SECTORS >> 8);
    g_assert_cmpuint(qts_inb(s, PRI + 2), ==, 2);
    /* An unknown command is aborted. */
    qts_outb(s, PRI + 7, 0xff);
    g_assert_true(wait_irq(s, 14));
    g_assert_cmphex(qts_inb(s, PRI + 7), ==, 0x51);
    g_assert_cmphex(qts_inb(s, PRI + 1), ==, 0x04);
    qts_quit(s);
}

static void prd(QTS *s, int i, uint32_t addr, uint32_t len, bool eot)
{
    qts_writel(s, PRD_ADDR + 8 * i, addr);
    qts_writel(s, PRD_ADDR + 8 * i + 4, (len & 0xffff) | (eot ? 1u << 31 : 0));
}

static void bm_start(QTS *s, uint16_t bm, bool to_mem)
{
    qts_outl(s, bm + 4, PRD_ADDR);
    qts_outb(s, bm, to_mem ? 0x08 : 0);
    qts_outb(s, bm, to_mem ? 0x09 : 0x01);
}

static void test_dma(void)
{
    QTS *s = start();
    uint8_t buf[8 * 512];

    qts_memset(s, BUF_ADDR, 0, 0x10000);
    prd(s, 0, BUF_ADDR, 3 * 512, false);
    prd(s, 1, BUF_ADDR + 0x8000, 5 * 512, true);
    lba28(s, 40, 8);
    qts_outb(s, PRI + 7, 0xc8);                     /* READ DMA */
    bm_start(s, BM, true);
    g_assert_true(wait_irq(s, 14));
    g_assert_cmphex(qts_inb(s, BM + 2) & 7, ==, 0x04);
    g_assert_cmphex(qts_inb(s, PRI + 7), ==, 0x50);
    qts_outb(s, BM, 0);
    qts_outb(s, BM + 2, 0x06);
    qts_memread(s, BUF_ADDR, buf, 3 * 512);
    qts_memread(s, BUF_ADDR + 0x8000, buf + 3 * 512, 5 * 512);
    check_disk(buf, 40, 8);

    /* WRITE DMA EXT from memory, checked through READ DMA EXT. */
    for (unsigned i = 0; i < sizeof(buf); i++) {
        buf[i] = i * 13 + 1;
    }
    qts_memwrite(s, BUF_ADDR, buf, sizeof(buf));
    prd(s, 0, BUF_ADDR, sizeof(buf), true);
    lba48(s, 700, 8);
    qts_outb(s, PRI + 7, 0x35);
    bm_start(s, BM, false);
    g_assert_true(wait_irq(s, 14));
    g_assert_cmphex(qts_inb(s, PRI + 7), ==, 0x50);
    qts_outb(s, BM, 0);
    qts_outb(s, BM + 2, 0x06);
    qts_memset(s, BUF_ADDR + 0x4000, 0, sizeof(buf));
    prd(s, 0, BUF_ADDR + 0x4000, 0x10000, true);    /* more than needed */
    lba48(s, 700, 8);
    qts_outb(s, PRI + 7, 0x25);
    bm_start(s, BM, true);
    g_assert_true(wait_irq(s, 14));
    g_assert_cmphex(qts_inb(s, BM + 2) & 7, ==, 0x05);
    qts_inb(s, PRI + 7);
    qts_outb(s, BM, 0);
    qts_outb(s, BM + 2, 0x06);
    uint8_t back[sizeof(buf)];
    qts_memread(s, BUF_ADDR + 0x4000, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), buf, sizeof(buf));

    /* PRDs shorter than the transfer: interrupt 0, active 0; the device
     * drops the command (QEMU). */
    prd(s, 0, BUF_ADDR, 512, true);
    lba28(s, 0, 2);
    qts_outb(s, PRI + 7, 0xc8);
    bm_start(s, BM, true);
    uint8_t st = 1;
    for (int i = 0; i < 10000 && (st & 1); i++) {
        st = qts_inb(s, BM + 2);
    }
    g_assert_cmphex(st & 7, ==, 0);
    g_assert_false(qts_get_irq(s, 14));
    g_assert_cmphex(qts_inb(s, PRI_CTL), ==, 0x50);   /* DRDY, no DRQ */
    qts_quit(s);
}

/* ---- ATAPI ---- */

/* One packet; PIO data into buf (or DMA); the final status. */
static uint8_t packet(QTS *s, const uint8_t *cdb, uint8_t *buf, unsigned *len,
                      bool dma)
{
    qts_outb(s, SEC + 6, 0xa0);
    qts_outb(s, SEC + 1, dma ? 1 : 0);
    qts_outb(s, SEC + 4, 0x00);
    qts_outb(s, SEC + 5, 0x08);                     /* limit 2048 */
    qts_outb(s, SEC + 7, 0xa0);
    g_assert_cmphex(wait_not_busy(s, SEC_CTL) & 0x08, ==, 0x08);
    g_assert_cmphex(qts_inb(s, SEC + 2), ==, 0x01); /* CoD */
    for (int i = 0; i < 12; i += 2) {
        qts_outw(s, SEC, cdb[i] | cdb[i + 1] << 8);
    }
    if (dma) {
        bm_start(s, BM + 8, true);
    }
    unsigned got = 0;
    for (;;) {
        g_assert_true(wait_irq(s, 15));
        uint8_t st = qts_inb(s, SEC + 7);
        if (!(st & 0x08)) {
            g_assert_cmphex(qts_inb(s, SEC + 2), ==, 0x03);
            if (len) {
                *len = got;
            }
            if (dma) {
                qts_outb(s, BM + 8, 0);
                qts_outb(s, BM + 10, 0x06);
            }
            return st;
        }
        g_assert_cmphex(qts_inb(s, SEC + 2), ==, 0x02);
        unsigned n = qts_inb(s, SEC + 4) | qts_inb(s, SEC + 5) << 8;
        g_assert_cmpuint(n, <=, 2048);
        pio_in(s, SEC, buf + got, n);
        got += n;
    }
}

static void test_atapi(void)
{
    QTS *s = start();
    g_autofree uint8_t *buf = g_malloc(8 * 2048);
    unsigned len;

    uint8_t inquiry[12] = { 0x12, 0, 0, 0, 36 };
    g_assert_cmphex(packet(s, inquiry, buf, &len, false), ==, 0x50);
    g_assert_cmpuint(len, ==, 36);
    g_assert_cmphex(buf[0], ==, 0x05);
    g_assert_cmpmem(buf + 16, 12, "QEMU DVD-ROM", 12);

    uint8_t cap[12] = { 0x25 };
    packet(s, cap, buf, &len, false);
    g_assert_cmpuint(len, ==, 8);
    g_assert_cmpuint(buf[3], ==, CD_SECTORS - 1);
    g_assert_cmpuint(buf[6], ==, 0x08);             /* 2048 */

    /* READ(10) of 3 sectors: 2048-byte chunks by the byte count limit. */
    uint8_t read[12] = { 0x28, 0, 0, 0, 0, 7, 0, 0, 3 };
    g_assert_cmphex(packet(s, read, buf, &len, false), ==, 0x50);
    g_assert_cmpuint(len, ==, 3 * 2048);
    for (unsigned i = 0; i < len; i++) {
        g_assert_cmphex(buf[i], ==, cd_byte(7 + i / 2048, i % 2048));
    }
    /* The same by DMA. */
    qts_memset(s, BUF_ADDR, 0, 3 * 2048);
    prd(s, 0, BUF_ADDR, 3 * 2048, true);
    g_assert_cmphex(packet(s, read, buf, NULL, true), ==, 0x50);
    qts_memread(s, BUF_ADDR, buf, 3 * 2048);
    for (unsigned i = 0; i < 3 * 2048; i++) {
        g_assert_cmphex(buf[i], ==, cd_byte(7 + i / 2048, i % 2048));
    }

    /* Past the end: CHECK CONDITION, ILLEGAL REQUEST / LBA out of range. */
    uint8_t bad[12] = { 0x28, 0, 0, 0, 0, CD_SECTORS, 0, 0, 1 };
    g_assert_cmphex(packet(s, bad, buf, &len, false), ==, 0x51);
    g_assert_cmphex(qts_inb(s, SEC + 1), ==, 0x54);
    uint8_t sense[12] = { 0x03, 0, 0, 0, 18 };
    packet(s, sense, buf, &len, false);
    g_assert_cmpuint(len, ==, 18);
    g_assert_cmphex(buf[2], ==, 0x05);
    g_assert_cmphex(buf[12], ==, 0x21);

    /* The guest opens the tray: NOT READY, medium not present. */
    uint8_t eject[12] = { 0x1b, 0, 0, 0, 0x02 };
    g_assert_cmphex(packet(s, eject, buf, &len, false), ==, 0x50);
    uint8_t tur[12] = { 0 };
    g_assert_cmphex(packet(s, tur, buf, &len, false), ==, 0x51);
    g_assert_cmphex(qts_inb(s, SEC + 1) >> 4, ==, 0x02);
    packet(s, sense, buf, &len, false);
    g_assert_cmphex(buf[12], ==, 0x3a);
    qts_quit(s);
}

/* A sparse disk whose MBR has one partition ending at end_head/sector. */
static char *make_mbr_disk(uint64_t sectors, int end_head, int end_sector)
{
    char *path = NULL;
    int fd = g_file_open_tmp("kestrel-ide-geo-XXXXXX", &path, NULL);
    uint8_t mbr[512] = { 0 };

    g_assert_cmpint(fd, >=, 0);
    if (end_head >= 0) {
        uint8_t *p = mbr + 0x1be;
        p[0] = 0x80;
        p[1] = 1;                       /* start: head 1, sector 1 */
        p[2] = 1;
        p[4] = 6;
        p[5] = end_head;
        p[6] = end_sector;
        p[8] = 63;                      /* LBA 63, 8001 sectors */
        p[12] = 0x41;
        p[13] = 0x1f;
        mbr[510] = 0x55;
        mbr[511] = 0xaa;
    }
    g_assert_cmpint(write(fd, mbr, sizeof(mbr)), ==, sizeof(mbr));
    g_assert_cmpint(ftruncate(fd, sectors * 512), ==, 0);
    close(fd);
    return path;
}

static void check_cmos_disk(QTS *s, int base, unsigned cyls, unsigned heads,
                            unsigned secs)
{
    g_assert_cmpuint(qts_cmos_read(s, base) | qts_cmos_read(s, base + 1) << 8,
                     ==, cyls);
    g_assert_cmpuint(qts_cmos_read(s, base + 2), ==, heads);
    g_assert_cmpuint(qts_cmos_read(s, base + 8), ==, secs);
}

/*
 * Geometry and BIOS translation (CMOS 0x39, 2 bits a disk: 0 none, 1 LBA,
 * 2 LARGE) as QEMU guesses them from a partition table, or as given.
 */
static void test_geometry(void)
{
    g_autofree char *lba = make_mbr_disk(61440, 127, 63);
    g_autofree char *chs = make_mbr_disk(8388608, 15, 63);
    g_autofree char *blank = make_mbr_disk(8388608, -1, 0);

    /* More than 16 heads: a translating BIOS, standard geometry. */
    QTS *s = qts_initf("-nodefaults -drive file=%s,format=raw,if=ide,index=0 "
                       "-drive file=%s,format=raw,if=ide,index=1 "
                       "-drive file=%s,format=raw,if=ide,index=2",
                       lba, chs, blank);
    check_cmos_disk(s, 0x1b, 60, 16, 63);
    check_cmos_disk(s, 0x24, 8322, 16, 63);
    g_assert_cmphex(qts_cmos_read(s, 0x39), ==, 0x02 | 0x00 << 2 | 0x01 << 4);
    qts_quit(s);

    s = qts_initf("-nodefaults -drive if=none,id=d0,file=%s,format=raw "
                  "-device ide-hd,drive=d0,bus=ide.0,unit=0,cyls=480,heads=4,"
                  "secs=32,bios-chs-trans=lba", lba);
    check_cmos_disk(s, 0x1b, 480, 4, 32);
    g_assert_cmphex(qts_cmos_read(s, 0x39), ==, 0x01);
    qts_quit(s);

    unlink(lba);
    unlink(chs);
    unlink(blank);
}

/* An if=ide drive is an ide-hd device, so -global reaches it too. */
static void test_global_props(void)
{
    QTS *s = qts_initf("-drive file=%s,format=raw,if=ide,index=0 "
                       "-global ide-hd.serial=gserial", disk_path);
    uint16_t id[256];

    qts_outb(s, PRI + 7, 0xec);
    g_assert_cmphex(wait_not_busy(s, PRI_CTL), ==, 0x58);
    pio_in(s, PRI, (uint8_t *)id, 512);
    g_assert_cmphex(id[10], ==, 'g' << 8 | 's');
    g_assert_cmphex(id[12], ==, 'i' << 8 | 'a');
    g_assert_cmphex(id[13], ==, 'l' << 8 | ' ');
    qts_quit(s);
}

/* ---- DATA SET MANAGEMENT (TRIM) through the bus master ---- */

static uint8_t trim(QTS *s, const uint64_t *ent, unsigned n)
{
    uint8_t list[512] = { 0 };

    memcpy(list, ent, n * 8);                       /* little endian */
    qts_memwrite(s, BUF_ADDR, list, sizeof(list));
    prd(s, 0, BUF_ADDR, sizeof(list), true);
    qts_outb(s, PRI + 6, 0x40);
    qts_outb(s, PRI + 1, 0x01);                     /* TRIM */
    qts_outb(s, PRI + 2, 0);
    qts_outb(s, PRI + 2, 1);                        /* one block */
    qts_outb(s, PRI + 7, 0x06);
    bm_start(s, BM, false);
    g_assert_true(wait_irq(s, 14));
    /* The bus master stays active until the ranges are done. */
    g_assert_cmphex(qts_inb(s, BM + 2) & 7, ==, 0x04);
    uint8_t st = qts_inb(s, PRI + 7);
    qts_outb(s, BM, 0);
    qts_outb(s, BM + 2, 0x06);
    return st;
}

static void read_dma(QTS *s, uint32_t lba, uint8_t *buf, unsigned n)
{
    prd(s, 0, BUF_ADDR, n * 512, true);
    lba28(s, lba, n);
    qts_outb(s, PRI + 7, 0xc8);
    bm_start(s, BM, true);
    g_assert_true(wait_irq(s, 14));
    g_assert_cmphex(qts_inb(s, PRI + 7), ==, 0x50);
    qts_outb(s, BM, 0);
    qts_outb(s, BM + 2, 0x06);
    qts_memread(s, BUF_ADDR, buf, n * 512);
}

static void test_trim(void)
{
    g_autofree char *path = make_image(DISK_SECTORS, 512, disk_byte);
    QTS *s = qts_initf("-drive file=%s,format=raw,if=ide,index=0", path);
    uint8_t buf[12 * 512], zero[8 * 512] = { 0 };
    uint16_t id[256];

    qts_irq_intercept_in(s, "ioapic");
    qts_pci_cfg_write(s, 1, 1, 0x20, 4, BM | 1);
    qts_pci_cfg_write(s, 1, 1, 0x04, 2, 0x0005);
    qts_outb(s, PRI + 7, 0xec);
    g_assert_cmphex(wait_not_busy(s, PRI_CTL), ==, 0x58);
    pio_in(s, PRI, (uint8_t *)id, 512);
    g_assert_cmphex(id[169], ==, 1);
    g_assert_cmphex(id[69] & 0x4020, ==, 0x4020);

    uint64_t ent[] = { 8ull << 48 | 16, 1ull << 48 | 30 };
    g_assert_cmphex(trim(s, ent, 2), ==, 0x50);
    read_dma(s, 15, buf, 10);
    check_disk(buf, 15, 1);
    g_assert_cmpmem(buf + 512, 8 * 512, zero, 8 * 512);
    check_disk(buf + 9 * 512, 24, 1);
    read_dma(s, 29, buf, 3);
    check_disk(buf, 29, 1);
    g_assert_cmpmem(buf + 512, 512, zero, 512);
    check_disk(buf + 1024, 31, 1);

    /* A range past the end aborts, and nothing of the list is trimmed. */
    uint64_t bad[] = { 1ull << 48 | 40, 2ull << 48 | (DISK_SECTORS - 1) };
    g_assert_cmphex(trim(s, bad, 2), ==, 0x51);
    g_assert_cmphex(qts_inb(s, PRI + 1), ==, 0x04);
    read_dma(s, 40, buf, 1);
    check_disk(buf, 40, 1);
    qts_quit(s);

    /* On the host: the image has the zeros. */
    int fd = open(path, O_RDONLY);
    g_assert_cmpint(pread(fd, buf, 8 * 512, 16 * 512), ==, 8 * 512);
    close(fd);
    g_assert_cmpmem(buf, 8 * 512, zero, 8 * 512);
    unlink(path);
}

/* -blockdev nodes: a file node, and a raw node with an inline file, on
 * ide.0 units 0 and 1 (what QEMU's ide-test diagnostic case starts). */
static void test_blockdev(void)
{
    QTS *s = qts_initf("-blockdev driver=file,node-name=hda,filename=%s "
                       "-blockdev driver=raw,node-name=hdb,read-only=on,"
                       "file.driver=file,file.filename=%s "
                       "-device ide-hd,drive=hda,bus=ide.0,unit=0 "
                       "-device ide-hd,drive=hdb,bus=ide.0,unit=1",
                       disk_path, disk_path);
    uint8_t buf[2 * 512];

    for (int dev = 0; dev < 2; dev++) {
        qts_outb(s, PRI + 6, 0xe0 | dev << 4);
        qts_outb(s, PRI + 2, 2);
        qts_outb(s, PRI + 3, 100);
        qts_outb(s, PRI + 4, 0);
        qts_outb(s, PRI + 5, 0);
        qts_outb(s, PRI + 7, 0x20);                 /* READ SECTORS */
        for (int i = 0; i < 2; i++) {
            g_assert_cmphex(wait_not_busy(s, PRI_CTL), ==, 0x58);
            pio_in(s, PRI, buf + i * 512, 512);
        }
        check_disk(buf, 100, 2);
    }
    /* The read-only node refuses writes. */
    lba28(s, 0, 1);
    qts_outb(s, PRI + 6, 0xf0);
    qts_outb(s, PRI + 7, 0x30);
    g_assert_cmphex(wait_not_busy(s, PRI_CTL), ==, 0x51);
    /* EXECUTE DEVICE DIAGNOSTIC selects device 0. */
    qts_outb(s, PRI + 7, 0x90);
    wait_not_busy(s, PRI_CTL);
    g_assert_cmphex(qts_inb(s, PRI + 6) & 0x10, ==, 0);
    qts_quit(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    disk_path = make_image(DISK_SECTORS, 512, disk_byte);
    cd_path = make_image(CD_SECTORS, 2048, cd_byte);
    g_test_add_func("/ide/registers", test_registers);
    g_test_add_func("/ide/identify-pio", test_identify_pio);
    g_test_add_func("/ide/errors", test_errors);
    g_test_add_func("/ide/dma", test_dma);
    g_test_add_func("/ide/atapi", test_atapi);
    g_test_add_func("/ide/geometry", test_geometry);
    g_test_add_func("/ide/global-props", test_global_props);
    g_test_add_func("/ide/trim", test_trim);
    g_test_add_func("/ide/blockdev", test_blockdev);
    int ret = g_test_run();
    unlink(disk_path);
    unlink(cd_path);
    return ret;
}
