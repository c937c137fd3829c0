/*
 * PIIX3 IDE over the qtest protocol: the PCI function, reset signatures,
 * IDENTIFY, PIO and multiple-sector transfers with LBA28 and LBA48, errors
 * for out-of-range requests, bus-master DMA with PRD tables (also a table
 * too short), and ATAPI packets (INQUIRY, READ CAPACITY, READ(10) by PIO
 * and DMA, sense data, no medium), DATA SET MANAGEMENT (TRIM) by DMA,
 * disks given as -blockdev nodes, DMA with bus mastering off, and failed
 * requests: blkdebug breakpoints and injected errors driven over QMP/HMP
 * (qemu-io), -drive rerror=/werror= with BLOCK_IO_ERROR, the io-error
 * stop and the retry on cont.  Disk I/O completes in the emulator's main
 * loop: the tests poll the alternate status until BSY clears.
 * tests/unit/test-ide*.c go through every case in-process.
 */
#include "libkqtest.h"
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
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
    QTS *s = qts_initf("-drive file=%s,format=raw,if=ide,index=0,"
                       "discard=unmap", path);
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

static char *img_tool(void)
{
    g_autofree char *dir = g_path_get_dirname(g_getenv("QTEST_QEMU_BINARY"));
    return g_build_filename(dir, "kestrel-img", NULL);
}

static char *run_tool(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static char *run_tool(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *args = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autofree char *tool = img_tool();
    g_autofree char *cmd = g_strdup_printf("%s %s", tool, args);
    char *out = NULL;
    int status;
    g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, &status, NULL));
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return out;
}

/* Is [off, off + len) of a qcow2 image allocated, as kestrel-img map says? */
static bool qcow2_has_data(const char *path, int64_t off, int64_t len)
{
    g_autofree char *out = run_tool("map --output=json -f qcow2 %s", path);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, out, -1, NULL));
    JsonArray *map = json_node_get_array(json_parser_get_root(p));
    for (guint i = 0; i < json_array_get_length(map); i++) {
        JsonObject *e = json_array_get_object_element(map, i);
        int64_t start = json_object_get_int_member(e, "start");
        int64_t end = start + json_object_get_int_member(e, "length");
        if (start < off + len && end > off &&
            json_object_get_boolean_member(e, "data")) {
            return true;
        }
    }
    return false;
}

/*
 * discard= on raw and qcow2 (4 KiB clusters), -drive and -blockdev: with
 * ignore, QEMU's default, TRIM succeeds and changes nothing (the data
 * reads back, no space is freed, IDENTIFY promises no zeros); with unmap
 * the range reads as zeros and its space is given back.
 */
static void test_discard(void)
{
    static const struct {
        const char *fmt, *opts;
        bool unmap;
    } cases[] = {
        { "raw", "-drive file=%s,format=raw,if=ide,index=0", false },
        { "raw", "-drive file=%s,format=raw,if=ide,index=0,discard=ignore",
          false },
        { "raw", "-drive file=%s,format=raw,if=ide,index=0,discard=unmap",
          true },
        { "qcow2", "-drive file=%s,format=qcow2,if=ide,index=0", false },
        { "qcow2", "-drive file=%s,format=qcow2,if=ide,index=0,discard=on",
          true },
        /* A -blockdev child inherits discard=; both must say unmap. */
        { "qcow2", "-blockdev qcow2,node-name=d,discard=unmap,"
          "file.driver=file,file.filename=%s -device ide-hd,drive=d", true },
        { "qcow2", "-blockdev qcow2,node-name=d,discard=unmap,"
          "file.driver=file,file.filename=%s,file.discard=ignore "
          "-device ide-hd,drive=d", false },
        { "raw", "-blockdev file,node-name=d,filename=%s "
          "-device ide-hd,drive=d", false },
    };
    uint8_t buf[10 * 512], zero[8 * 512] = { 0 };
    uint16_t id[256];

    for (unsigned c = 0; c < G_N_ELEMENTS(cases); c++) {
        g_autofree char *path = make_image(DISK_SECTORS, 512, disk_byte);
        bool qcow2 = !strcmp(cases[c].fmt, "qcow2");
        if (qcow2) {
            g_autofree char *q = g_strconcat(path, ".q", NULL);
            g_free(run_tool("convert -f raw -O qcow2 -o cluster_size=4096 "
                            "%s %s", path, q));
            g_assert_cmpint(rename(q, path), ==, 0);
        }
        g_autofree char *args = g_strdup_printf(cases[c].opts, path);
        QTS *s = qts_init(args);
        qts_irq_intercept_in(s, "ioapic");
        qts_pci_cfg_write(s, 1, 1, 0x20, 4, BM | 1);
        qts_pci_cfg_write(s, 1, 1, 0x04, 2, 0x0005);
        qts_outb(s, PRI + 7, 0xec);
        g_assert_cmphex(wait_not_busy(s, PRI_CTL), ==, 0x58);
        pio_in(s, PRI, (uint8_t *)id, 512);
        g_assert_cmphex(id[69] & 0x4020, ==, cases[c].unmap ? 0x4020 : 0x4000);
        uint64_t ent[] = { 8ull << 48 | 16 };
        g_assert_cmphex(trim(s, ent, 1), ==, 0x50);
        read_dma(s, 15, buf, 10);
        check_disk(buf, 15, 1);
        check_disk(buf + 9 * 512, 24, 1);
        if (cases[c].unmap) {
            g_assert_cmpmem(buf + 512, 8 * 512, zero, 8 * 512);
        } else {
            check_disk(buf + 512, 16, 8);
        }
        qts_quit(s);
        if (qcow2) {
            g_assert_cmpint(qcow2_has_data(path, 16 * 512, 8 * 512), ==,
                            !cases[c].unmap);
            g_free(run_tool("check -f qcow2 %s", path));
        } else if (!cases[c].unmap) {
            int fd = open(path, O_RDONLY);
            g_assert_cmpint(lseek(fd, 16 * 512, SEEK_HOLE), >=, 24 * 512);
            close(fd);
        }
        unlink(path);
    }
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

/* ---- bus mastering off ---- */

/*
 * PCICMD bit 2 clear: the function cannot reach memory, so (as in QEMU)
 * the PRD table reads as zeros (64 KiB at address 0, no end of table),
 * what it writes goes nowhere and what it reads is zeros: the command
 * completes with the bus master still active, and no error.
 */
static void test_no_busmaster(void)
{
    g_autofree char *path = make_image(DISK_SECTORS, 512, disk_byte);
    QTS *s = qts_initf("-drive file=%s,format=raw,if=ide,index=0", path);
    uint8_t low[512], buf[4 * 512], fill[4 * 512];

    qts_irq_intercept_in(s, "ioapic");
    qts_pci_cfg_write(s, 1, 1, 0x20, 4, BM | 1);
    qts_pci_cfg_write(s, 1, 1, 0x04, 2, 0x0001);    /* I/O only */
    memset(fill, 0x77, sizeof(fill));
    qts_memwrite(s, BUF_ADDR, fill, sizeof(fill));
    qts_memread(s, 0, low, sizeof(low));
    prd(s, 0, BUF_ADDR, sizeof(buf), true);

    lba28(s, 60, 4);
    qts_outb(s, PRI + 7, 0xc8);                     /* READ DMA */
    bm_start(s, BM, true);
    g_assert_true(wait_irq(s, 14));
    g_assert_cmphex(qts_inb(s, BM + 2) & 7, ==, 0x05);   /* active, intr */
    g_assert_cmphex(qts_inb(s, PRI + 7), ==, 0x50);
    qts_outb(s, BM, 0);
    qts_outb(s, BM + 2, 0x06);
    qts_memread(s, BUF_ADDR, buf, sizeof(buf));
    g_assert_cmpmem(buf, sizeof(buf), fill, sizeof(fill));
    qts_memread(s, 0, buf, sizeof(low));
    g_assert_cmpmem(buf, sizeof(low), low, sizeof(low));

    /* WRITE DMA reads zeros from "memory": the sectors become zeros. */
    lba28(s, 60, 4);
    qts_outb(s, PRI + 7, 0xca);
    bm_start(s, BM, false);
    g_assert_true(wait_irq(s, 14));
    g_assert_cmphex(qts_inb(s, PRI + 7), ==, 0x50);
    qts_outb(s, BM, 0);
    qts_outb(s, BM + 2, 0x06);
    qts_pci_cfg_write(s, 1, 1, 0x04, 2, 0x0005);
    read_dma(s, 59, buf, 4);
    check_disk(buf, 59, 1);
    memset(fill, 0, sizeof(fill));
    g_assert_cmpmem(buf + 512, 3 * 512, fill, 3 * 512);
    qts_quit(s);
    unlink(path);
}

/* ---- a QMP client, for blkdebug and the error policy ---- */

typedef struct Qmp {
    QTS *qts;
    int fd;
    char *dir, *sock;
    char *conf;                 /* a file to remove at the end, or NULL */
    GString *buf;
    GQueue events;              /* JsonNode *, oldest first */
} Qmp;

/* kestrel with -qmp on a socket in qmp_dir, plus extra args. */
static Qmp *qmp_start(const char *qmp_dir, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
static Qmp *qmp_start(const char *qmp_dir, const char *fmt, ...)
{
    Qmp *q = g_new0(Qmp, 1);
    va_list ap;

    va_start(ap, fmt);
    g_autofree char *extra = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    q->dir = g_strdup(qmp_dir);
    q->sock = g_build_filename(q->dir, "qmp", NULL);
    q->buf = g_string_new(NULL);
    g_queue_init(&q->events);
    q->qts = qts_initf("-qmp unix:%s,server,nowait %s", q->sock, extra);

    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    g_assert_cmpuint(strlen(q->sock), <, sizeof(sun.sun_path));
    strcpy(sun.sun_path, q->sock);
    q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(connect(q->fd, (struct sockaddr *)&sun, sizeof(sun)),
                    ==, 0);
    return q;
}

/* The next message (greeting, reply or event). */
static JsonNode *qmp_recv(Qmp *q)
{
    gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

    for (;;) {
        char *nl = memchr(q->buf->str, '\n', q->buf->len);
        if (nl) {
            size_t len = nl - q->buf->str + 1;
            g_autoptr(JsonParser) parser = json_parser_new();
            g_assert_true(json_parser_load_from_data(parser, q->buf->str,
                                                     len, NULL));
            JsonNode *node = json_node_copy(json_parser_get_root(parser));
            g_string_erase(q->buf, 0, len);
            g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
            return node;
        }
        struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
        int left = (end - g_get_monotonic_time()) / 1000;
        g_assert_cmpint(left, >, 0);
        if (poll(&pfd, 1, left) <= 0) {
            continue;
        }
        char chunk[4096];
        ssize_t n = read(q->fd, chunk, sizeof(chunk));
        g_assert_cmpint(n, >, 0);
        g_string_append_len(q->buf, chunk, n);
    }
}

/* Send a request; its reply (events that come first are queued). */
static JsonNode *qmp(Qmp *q, const char *request)
{
    size_t len = strlen(request);

    g_assert_cmpint(write(q->fd, request, len), ==, (ssize_t)len);
    for (;;) {
        JsonNode *n = qmp_recv(q);
        JsonObject *o = json_node_get_object(n);
        if (json_object_has_member(o, "event")) {
            g_queue_push_tail(&q->events, n);
        } else if (!json_object_has_member(o, "QMP")) {
            g_assert_true(json_object_has_member(o, "return"));
            return n;
        } else {
            json_node_unref(n);
        }
    }
}

static void qmp_negotiate(Qmp *q)
{
    json_node_unref(qmp(q, "{\"execute\": \"qmp_capabilities\"}"));
}

/* Wait for an event; its data member (g_autoptr the node). */
static JsonNode *qmp_event(Qmp *q, const char *name, JsonObject **data)
{
    for (;;) {
        JsonNode *n = g_queue_pop_head(&q->events);
        if (!n) {
            n = qmp_recv(q);
        }
        JsonObject *o = json_node_get_object(n);
        if (json_object_has_member(o, "event") &&
            !strcmp(json_object_get_string_member(o, "event"), name)) {
            *data = json_object_has_member(o, "data")
                ? json_object_get_object_member(o, "data") : NULL;
            return n;
        }
        json_node_unref(n);
    }
}

/* An HMP command line through human-monitor-command; its output. */
static char *hmp(Qmp *q, const char *line)
{
    JsonBuilder *b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "execute");
    json_builder_add_string_value(b, "human-monitor-command");
    json_builder_set_member_name(b, "arguments");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "command-line");
    json_builder_add_string_value(b, line);
    json_builder_end_object(b);
    json_builder_end_object(b);
    JsonNode *req = json_builder_get_root(b);
    g_autofree char *text = json_to_string(req, false);
    json_node_unref(req);
    g_object_unref(b);
    JsonNode *reply = qmp(q, text);
    char *out = g_strdup(json_object_get_string_member(
        json_node_get_object(reply), "return"));
    json_node_unref(reply);
    return out;
}

static void assert_hmp(Qmp *q, const char *line, const char *expect)
{
    g_autofree char *out = hmp(q, line);
    if (!*expect ? *out != 0 : !strstr(out, expect)) {
        g_error("'%s' printed '%s', expected '%s'", line, out, expect);
    }
}

static const char *query_status(Qmp *q)
{
    static char status[32];
    JsonNode *r = qmp(q, "{\"execute\": \"query-status\"}");
    JsonObject *o = json_object_get_object_member(json_node_get_object(r),
                                                  "return");
    g_strlcpy(status, json_object_get_string_member(o, "status"),
              sizeof(status));
    json_node_unref(r);
    return status;
}

/* query-block's io-status of a drive, "" if it has none. */
static const char *io_status(Qmp *q, const char *device)
{
    static char status[16];
    JsonNode *r = qmp(q, "{\"execute\": \"query-block\"}");
    JsonArray *list = json_object_get_array_member(json_node_get_object(r),
                                                   "return");
    status[0] = 0;
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *b = json_array_get_object_element(list, i);
        if (!strcmp(json_object_get_string_member(b, "device"), device) &&
            json_object_has_member(b, "io-status")) {
            g_strlcpy(status, json_object_get_string_member(b, "io-status"),
                      sizeof(status));
        }
    }
    json_node_unref(r);
    return status;
}

static void qmp_quit(Qmp *q)
{
    qts_quit(q->qts);
    close(q->fd);
    while (!g_queue_is_empty(&q->events)) {
        json_node_unref(g_queue_pop_head(&q->events));
    }
    unlink(q->sock);
    if (q->conf) {
        unlink(q->conf);
    }
    rmdir(q->dir);
    g_free(q->conf);
    g_free(q->sock);
    g_free(q->dir);
    g_string_free(q->buf, true);
    g_free(q);
}

/* kestrel with the disk behind blkdebug (CONFIG may be NULL) and opts. */
static Qmp *start_blkdebug(const char *image, const char *config,
                           const char *opts)
{
    g_autofree char *dir = g_dir_make_tmp("kestrel-ide-qmp-XXXXXX", NULL);
    g_autofree char *conf = g_build_filename(dir, "blkdebug.conf", NULL);

    if (config) {
        g_assert_true(g_file_set_contents(conf, config, -1, NULL));
    }
    Qmp *q = qmp_start(dir, "-drive file=blkdebug:%s:%s,if=ide,index=0,"
                       "format=raw,cache=writeback%s -cdrom %s",
                       config ? conf : "", image, opts, cd_path);
    q->conf = config ? g_strdup(conf) : NULL;
    qmp_negotiate(q);
    qts_irq_intercept_in(q->qts, "ioapic");
    qts_pci_cfg_write(q->qts, 1, 1, 0x20, 4, BM | 1);
    qts_pci_cfg_write(q->qts, 1, 1, 0x04, 2, 0x0005);
    return q;
}

/* Check a BLOCK_IO_ERROR of the primary disk. */
static void assert_io_error(Qmp *q, const char *operation, const char *action,
                            bool nospace)
{
    JsonObject *d;
    g_autoptr(JsonNode) ev = qmp_event(q, "BLOCK_IO_ERROR", &d);

    g_assert_cmpstr(json_object_get_string_member(d, "device"), ==,
                    "ide0-hd0");
    g_assert_true(g_str_has_prefix(
        json_object_get_string_member(d, "node-name"), "#block"));
    g_assert_cmpstr(json_object_get_string_member(d, "operation"), ==,
                    operation);
    g_assert_cmpstr(json_object_get_string_member(d, "action"), ==, action);
    g_assert_cmpint(json_object_get_boolean_member(d, "nospace"), ==,
                    nospace);
    g_assert_cmpstr(json_object_get_string_member(d, "reason"), ==,
                    nospace ? "No space left on device"
                            : "Input/output error");
}

/* The status stays BSY|DRDY however long we look. */
static void assert_busy(QTS *s)
{
    for (int i = 0; i < 50; i++) {
        g_assert_cmphex(qts_inb(s, PRI_CTL) & 0xe9, ==, 0xc0);
        g_usleep(200);
    }
}

/* QEMU's ide-test "flush": a flush held at a blkdebug breakpoint. */
static void test_blkdebug_break(void)
{
    g_autofree char *path = make_image(DISK_SECTORS, 512, disk_byte);
    Qmp *q = start_blkdebug(path, NULL, "");
    QTS *s = q->qts;

    assert_hmp(q, "qemu-io ide0-hd0 \"break flush_to_os A\"", "");
    qts_outb(s, PRI + 6, 0xa0);
    qts_outb(s, PRI + 7, 0xe7);                     /* FLUSH CACHE */
    assert_busy(s);
    assert_hmp(q, "qemu-io ide0-hd0 \"resume B\"",
               "Could not resume request: No such file or directory");
    assert_busy(s);
    assert_hmp(q, "qemu-io ide0-hd0 \"resume A\"", "");
    g_assert_cmphex(wait_not_busy(s, PRI_CTL), ==, 0x50);
    g_assert_true(wait_irq(s, 14));

    /* A PIO read held at read_aio: BSY until remove_break lets it go. */
    assert_hmp(q, "qemu-io ide0-hd0 \"break read_aio R\"", "");
    lba28(s, 7, 1);
    qts_outb(s, PRI + 7, 0x20);
    assert_busy(s);
    assert_hmp(q, "qemu-io ide0-hd0 \"remove_break R\"", "");
    g_assert_cmphex(wait_not_busy(s, PRI_CTL), ==, 0x58);
    uint8_t buf[512];
    pio_in(s, PRI, buf, sizeof(buf));
    check_disk(buf, 7, 1);

    /* Held when the process ends: the exit's drain lets it go. */
    assert_hmp(q, "qemu-io ide0-hd0 \"break flush_to_disk Q\"", "");
    qts_outb(s, PRI + 7, 0xe7);
    assert_busy(s);
    qmp_quit(q);
    unlink(path);
}

/* qemu-io's other commands and its errors, as HMP prints them. */
static void test_qemu_io(void)
{
    g_autofree char *path = make_image(DISK_SECTORS, 512, disk_byte);
    Qmp *q = start_blkdebug(path, NULL, "");
    QTS *s = q->qts;
    uint8_t buf[512];

    assert_hmp(q, "qemu-io ide0-hd0 \"write -P 0x5a 512 512\"",
               "wrote 512/512 bytes at offset 512");
    assert_hmp(q, "qemu-io ide0-hd0 \"read -P 0x5a 512 512\"",
               "read 512/512 bytes at offset 512");
    assert_hmp(q, "qemu-io ide0-hd0 \"read -P 0x5b 512 512\"",
               "Pattern verification failed at offset 512, 512 bytes");
    assert_hmp(q, "qemu-io ide0-hd0 \"flush\"", "");
    lba28(s, 1, 1);
    qts_outb(s, PRI + 7, 0x20);
    g_assert_cmphex(wait_not_busy(s, PRI_CTL), ==, 0x58);
    pio_in(s, PRI, buf, sizeof(buf));
    for (int i = 0; i < 512; i++) {
        g_assert_cmphex(buf[i], ==, 0x5a);
    }

    /* A request of qemu-io's own held at a breakpoint: no hang. */
    assert_hmp(q, "qemu-io ide0-hd0 \"break read_aio X\"", "");
    assert_hmp(q, "qemu-io ide0-hd0 \"read 0 512\"",
               "read: the request is held at a breakpoint");
    assert_hmp(q, "qemu-io ide0-hd0 \"resume X\"", "");

    assert_hmp(q, "qemu-io ide0-hd0 \"read 0 4096 x\"", "read: bad argument");
    assert_hmp(q, "qemu-io ide0-hd0 \"read 0 1x\"", "Parsing error");
    assert_hmp(q, "qemu-io ide0-hd0 \"read 0 1G\"", "is too much");
    assert_hmp(q, "qemu-io ide0-hd0 \"read 1048576 512\"",
               "read failed: Input/output error");
    assert_hmp(q, "qemu-io ide0-hd0 \"break\"",
               "bad argument count 0 to break, expected 2 arguments");
    assert_hmp(q, "qemu-io ide0-hd0 \"break nosuch A\"",
               "Could not set breakpoint: No such file or directory");
    assert_hmp(q, "qemu-io ide0-hd0 \"remove_break Z\"",
               "Could not remove breakpoint Z: No such file or directory");
    assert_hmp(q, "qemu-io ide0-hd0 \"frob\"", "command \"frob\" not found");
    assert_hmp(q, "qemu-io ide0-hd0 \"help\"", "resume tag --");
    assert_hmp(q, "qemu-io ide1-cd0 \"break read_aio A\"",
               "Could not set breakpoint: Operation not supported");
    assert_hmp(q, "qemu-io nodrive \"resume A\"",
               "Error: Cannot find device='nodrive' nor node-name='nodrive'");
    assert_hmp(q, "qemu-io", "qemu-io: block device name expected");
    assert_hmp(q, "qemu-io ide0-hd0", "qemu-io: string expected");
    assert_hmp(q, "qemu-io ide0-hd0 \"flush", "qemu-io: unterminated string");
    assert_hmp(q, "qemu-io ide0-hd0 break read_aio A",
               "qemu-io: extraneous characters at the end of line");
    assert_hmp(q, "qemu-io ide0-hd0 flush", "");
    qmp_quit(q);
    unlink(path);
}

/* QEMU's ide-test "flush/retry_pci": werror=stop, then cont. */
static void test_werror_stop_flush(void)
{
    g_autofree char *path = make_image(DISK_SECTORS, 512, disk_byte);
    Qmp *q = start_blkdebug(path,
                            "[inject-error]\n"
                            "event = \"flush_to_disk\"\n"
                            "errno = \"5\"\n"
                            "state = \"1\"\n"
                            "once = \"on\"\n"
                            "[set-state]\n"
                            "event = \"flush_to_disk\"\n"
                            "new_state = \"2\"\n",
                            ",rerror=stop,werror=stop");
    QTS *s = q->qts;
    JsonObject *d;

    g_assert_cmpstr(io_status(q, "ide0-hd0"), ==, "ok");
    qts_outb(s, PRI + 6, 0xa0);
    qts_outb(s, PRI + 7, 0xe7);
    assert_io_error(q, "write", "stop", false);
    g_autoptr(JsonNode) stop = qmp_event(q, "STOP", &d);
    g_assert_cmpstr(query_status(q), ==, "io-error");
    g_assert_cmpstr(io_status(q, "ide0-hd0"), ==, "failed");
    assert_busy(s);
    g_assert_false(qts_get_irq(s, 14));
    json_node_unref(qmp(q, "{\"execute\": \"cont\"}"));
    g_autoptr(JsonNode) resume = qmp_event(q, "RESUME", &d);
    g_assert_cmphex(wait_not_busy(s, PRI_CTL), ==, 0x50);
    g_assert_true(wait_irq(s, 14));
    g_assert_cmpstr(query_status(q), ==, "running");
    g_assert_cmpstr(io_status(q, "ide0-hd0"), ==, "ok");
    qmp_quit(q);
    unlink(path);
}

/* werror defaults to enospc: a DMA write out of space stops the VM and
 * is written whole after cont. */
static void test_werror_enospc_dma(void)
{
    g_autofree char *path = make_image(DISK_SECTORS, 512, disk_byte);
    Qmp *q = start_blkdebug(path,
                            "[inject-error]\n"
                            "event = \"write_aio\"\n"
                            "errno = \"28\"\n"
                            "once = \"on\"\n", "");
    QTS *s = q->qts;
    uint8_t buf[8 * 512], back[8 * 512];
    JsonObject *d;

    for (unsigned i = 0; i < sizeof(buf); i++) {
        buf[i] = i * 5 + 3;
    }
    qts_memwrite(s, BUF_ADDR, buf, sizeof(buf));
    prd(s, 0, BUF_ADDR, sizeof(buf), true);
    lba28(s, 300, 8);
    qts_outb(s, PRI + 7, 0xca);                     /* WRITE DMA */
    bm_start(s, BM, false);
    assert_io_error(q, "write", "stop", true);
    g_autoptr(JsonNode) stop = qmp_event(q, "STOP", &d);
    g_assert_cmpstr(query_status(q), ==, "io-error");
    g_assert_cmpstr(io_status(q, "ide0-hd0"), ==, "nospace");
    g_assert_cmphex(qts_inb(s, PRI_CTL) & 0x80, ==, 0x80);
    g_assert_cmphex(qts_inb(s, BM + 2) & 7, ==, 0x01);
    json_node_unref(qmp(q, "{\"execute\": \"cont\"}"));
    g_assert_true(wait_irq(s, 14));
    g_assert_cmphex(qts_inb(s, PRI + 7), ==, 0x50);
    g_assert_cmphex(qts_inb(s, BM + 2) & 7, ==, 0x04);
    qts_outb(s, BM, 0);
    qts_outb(s, BM + 2, 0x06);
    read_dma(s, 300, back, 8);
    g_assert_cmpmem(back, sizeof(back), buf, sizeof(buf));
    qmp_quit(q);
    unlink(path);
}

/* rerror defaults to report: the guest sees the error, the VM runs on.
 * (The rules name a sector: the geometry guess reads the MBR first.) */
static void test_rerror_report(void)
{
    g_autofree char *path = make_image(DISK_SECTORS, 512, disk_byte);
    Qmp *q = start_blkdebug(path,
                            "[inject-error]\n"
                            "event = \"read_aio\"\n"
                            "sector = \"9\"\n"
                            "once = \"on\"\n", "");
    QTS *s = q->qts;
    uint8_t buf[512];

    lba28(s, 9, 1);
    qts_outb(s, PRI + 7, 0x20);
    g_assert_true(wait_irq(s, 14));
    g_assert_cmphex(qts_inb(s, PRI + 7), ==, 0x51);
    g_assert_cmphex(qts_inb(s, PRI + 1), ==, 0x40);     /* UNC */
    assert_io_error(q, "read", "report", false);
    g_assert_cmpstr(query_status(q), ==, "running");
    g_assert_cmpstr(io_status(q, "ide0-hd0"), ==, "ok");   /* not stopped */
    lba28(s, 9, 1);
    qts_outb(s, PRI + 7, 0x20);
    g_assert_cmphex(wait_not_busy(s, PRI_CTL), ==, 0x58);
    pio_in(s, PRI, buf, sizeof(buf));
    check_disk(buf, 9, 1);
    qmp_quit(q);
    unlink(path);
}

/* werror=ignore: the command succeeds though nothing was written. */
static void test_werror_ignore(void)
{
    g_autofree char *path = make_image(DISK_SECTORS, 512, disk_byte);
    Qmp *q = start_blkdebug(path,
                            "[inject-error]\n"
                            "event = \"write_aio\"\n", ",werror=ignore");
    QTS *s = q->qts;
    uint8_t buf[512];

    lba28(s, 11, 1);
    qts_outb(s, PRI + 7, 0x30);                     /* WRITE SECTORS */
    g_assert_cmphex(wait_not_busy(s, PRI_CTL), ==, 0x58);
    for (int i = 0; i < 256; i++) {
        qts_outw(s, PRI, 0xffff);
    }
    g_assert_true(wait_irq(s, 14));
    g_assert_cmphex(qts_inb(s, PRI + 7), ==, 0x50);
    assert_io_error(q, "write", "ignore", false);
    /* No policy that can stop: query-block shows no io-status. */
    g_assert_cmpstr(io_status(q, "ide0-hd0"), ==, "");
    read_dma(s, 11, buf, 1);
    check_disk(buf, 11, 1);
    qmp_quit(q);
    unlink(path);
}

/* rerror=stop on a CD-ROM: an ATAPI read by PIO is retried after cont. */
static void test_rerror_stop_atapi(void)
{
    g_autofree char *dir = g_dir_make_tmp("kestrel-ide-qmp-XXXXXX", NULL);
    g_autofree char *conf = g_build_filename(dir, "blkdebug.conf", NULL);
    g_assert_true(g_file_set_contents(conf, "[inject-error]\n"
                                      "event = \"read_aio\"\n"
                                      "sector = \"16\"\n"   /* CD 4 */
                                      "once = \"on\"\n", -1, NULL));
    Qmp *q = qmp_start(dir, "-drive file=blkdebug:%s:%s,if=ide,index=2,"
                       "media=cdrom,format=raw,rerror=stop", conf, cd_path);
    q->conf = g_strdup(conf);
    QTS *s = q->qts;
    uint8_t read[12] = { 0x28, 0, 0, 0, 0, 4, 0, 0, 1 };
    uint8_t buf[2048];
    JsonObject *d;

    qmp_negotiate(q);
    qts_irq_intercept_in(s, "ioapic");
    qts_outb(s, SEC + 6, 0xa0);
    qts_outb(s, SEC + 1, 0);
    qts_outb(s, SEC + 4, 0x00);
    qts_outb(s, SEC + 5, 0x08);
    qts_outb(s, SEC + 7, 0xa0);
    g_assert_cmphex(wait_not_busy(s, SEC_CTL) & 0x08, ==, 0x08);
    for (int i = 0; i < 12; i += 2) {
        qts_outw(s, SEC, read[i] | read[i + 1] << 8);
    }
    g_autoptr(JsonNode) ev = qmp_event(q, "BLOCK_IO_ERROR", &d);
    g_assert_cmpstr(json_object_get_string_member(d, "device"), ==,
                    "ide1-cd0");
    g_assert_cmpstr(json_object_get_string_member(d, "operation"), ==, "read");
    g_assert_cmpstr(json_object_get_string_member(d, "action"), ==, "stop");
    g_autoptr(JsonNode) stop = qmp_event(q, "STOP", &d);
    g_assert_cmpstr(query_status(q), ==, "io-error");
    g_assert_cmphex(qts_inb(s, SEC_CTL) & 0x80, ==, 0x80);
    json_node_unref(qmp(q, "{\"execute\": \"cont\"}"));
    g_assert_true(wait_irq(s, 15));
    g_assert_cmphex(qts_inb(s, SEC + 7), ==, 0x58);
    pio_in(s, SEC, buf, sizeof(buf));
    for (unsigned i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, cd_byte(4, i));
    }
    qmp_quit(q);
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
    g_test_add_func("/ide/discard", test_discard);
    g_test_add_func("/ide/blockdev", test_blockdev);
    g_test_add_func("/ide/dma/no-busmaster", test_no_busmaster);
    g_test_add_func("/ide/blkdebug/break", test_blkdebug_break);
    g_test_add_func("/ide/blkdebug/qemu-io", test_qemu_io);
    g_test_add_func("/ide/werror/stop-flush-retry", test_werror_stop_flush);
    g_test_add_func("/ide/werror/enospc-dma-retry", test_werror_enospc_dma);
    g_test_add_func("/ide/rerror/report-default", test_rerror_report);
    g_test_add_func("/ide/werror/ignore", test_werror_ignore);
    g_test_add_func("/ide/rerror/stop-atapi-retry", test_rerror_stop_atapi);
    int ret = g_test_run();
    unlink(disk_path);
    unlink(cd_path);
    return ret;
}
