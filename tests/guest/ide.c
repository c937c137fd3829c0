/*
 * IDE on the PIIX3 IDE function (00:01.1), polled with nIEN set.
 *
 * ide-pio-dma: on the primary master, IDENTIFY; write 16 sectors at LBA
 * 100 with WRITE SECTORS and read them back with READ DMA through a PRD
 * table; write 16 sectors at LBA 200 with WRITE DMA (two PRDs) and read
 * them back with READ SECTORS; READ SECTORS past the end must fail (kestrel
 * says IDNF); FLUSH CACHE.  The host checks the image afterwards.
 *
 * ide-cd-change: the secondary master CD-ROM (ATAPI, PIO): read the label
 * in sector 0, then poll TEST UNIT READY and report "no medium" and, after
 * each of two medium changes, the UNIT ATTENTION and the new label.
 */
#include "guest.h"

#define PRI         0x1f0
#define PRI_CTL     0x3f6
#define SEC         0x170
#define SEC_CTL     0x376
#define BM          0xc000          /* where we put BAR4 */
#define NSECT       16
#define POLL_MAX    2000000

static uint8_t buf_a[NSECT * 512] __attribute__((aligned(4096)));
static uint8_t buf_b[NSECT * 512] __attribute__((aligned(4096)));
static uint32_t prd[4] __attribute__((aligned(64)));
static const char *T;

static uint32_t cfg_read(unsigned fn, unsigned reg)
{
    outl(0xcf8, 0x80000000u | 1u << 11 | fn << 8 | (reg & 0xfc));
    return inl(0xcfc);
}

static void cfg_write(unsigned fn, unsigned reg, uint32_t v)
{
    outl(0xcf8, 0x80000000u | 1u << 11 | fn << 8 | (reg & 0xfc));
    outl(0xcfc, v);
}

static uint8_t pattern(uint32_t lba, unsigned i, uint8_t seed)
{
    return (uint8_t)(lba * 7 + i * 3 + (i >> 8)) ^ seed;
}

static void fill(uint8_t *buf, uint32_t lba, uint8_t seed)
{
    for (unsigned s = 0; s < NSECT; s++)
        for (unsigned i = 0; i < 512; i++)
            buf[s * 512 + i] = pattern(lba + s, i, seed);
}

/* Wait for !BSY; then the status must have want in mask. */
static uint8_t wait_ready(uint16_t ctl, uint8_t mask, uint8_t want)
{
    uint8_t st = 0xff;
    for (unsigned i = 0; i < POLL_MAX; i++) {
        st = inb(ctl);
        if (!(st & 0x80))
            break;
    }
    if ((st & 0x80) || (st & mask) != want)
        fail(T, "status 0x%02x (want 0x%02x in 0x%02x), error 0x%02x",
             st, want, mask, inb(ctl == PRI_CTL ? PRI + 1 : SEC + 1));
    return st;
}

static void taskfile(uint32_t lba, unsigned count)
{
    outb(PRI + 6, 0xe0 | ((lba >> 24) & 0x0f));
    outb(PRI + 2, count);
    outb(PRI + 3, lba);
    outb(PRI + 4, lba >> 8);
    outb(PRI + 5, lba >> 16);
}

static void pio(uint8_t cmd, uint32_t lba, uint8_t *buf, int write)
{
    uint16_t *w = (uint16_t *)buf;
    taskfile(lba, NSECT);
    outb(PRI + 7, cmd);
    for (unsigned s = 0; s < NSECT; s++) {
        wait_ready(PRI_CTL, 0x09, 0x08);            /* DRQ, no ERR */
        for (unsigned i = 0; i < 256; i++, w++) {
            if (write)
                outw(PRI, *w);
            else
                *w = inw(PRI);
        }
    }
    wait_ready(PRI_CTL, 0x09, 0x00);
}

/* PRDs: the buffer in pieces of len bytes (the last one marked EOT). */
static void dma(uint8_t cmd, uint32_t lba, uint8_t *buf, unsigned pieces)
{
    int to_mem = cmd == 0xc8;
    unsigned len = NSECT * 512 / pieces;
    for (unsigned i = 0; i < pieces; i++) {
        prd[2 * i] = (uint32_t)buf + i * len;
        prd[2 * i + 1] = len | (i == pieces - 1 ? 0x80000000u : 0);
    }
    outb(BM, 0);
    outb(BM + 2, 0x06);                             /* clear INTR, ERR */
    outl(BM + 4, (uint32_t)prd);
    outb(BM, to_mem ? 0x08 : 0x00);
    taskfile(lba, NSECT);
    outb(PRI + 7, cmd);
    outb(BM, to_mem ? 0x09 : 0x01);
    /* With nIEN the line stays low, so the interrupt bit does too: wait
     * for the PRDs to be used up (active 0) or an error. */
    uint8_t bst = 0x01;
    for (unsigned i = 0; i < POLL_MAX && (bst & 0x03) == 0x01; i++)
        bst = inb(BM + 2);
    if ((bst & 0x07) != 0x00)
        fail(T, "bus master status 0x%02x after command 0x%02x", bst, cmd);
    wait_ready(PRI_CTL, 0x09, 0x00);
    outb(BM, 0);
    inb(PRI + 7);
}

static void compare(const uint8_t *buf, uint32_t lba, uint8_t seed,
                    const char *what)
{
    for (unsigned s = 0; s < NSECT; s++)
        for (unsigned i = 0; i < 512; i++)
            if (buf[s * 512 + i] != pattern(lba + s, i, seed))
                fail(T, "%s: sector %u byte %u is 0x%02x, want 0x%02x", what,
                     lba + s, i, buf[s * 512 + i], pattern(lba + s, i, seed));
    kprintf("ide: %s: %u sectors ok\n", what, NSECT);
}

static void setup(void)
{
    if (cfg_read(1, 0) != 0x70108086)
        fail(T, "no PIIX3 IDE at 00:01.1 (id %08x)", cfg_read(1, 0));
    cfg_write(1, 0x20, BM | 1);
    cfg_write(1, 0x04, 0x0005);                     /* I/O, bus master */
    outb(PRI_CTL, 0x02);                            /* nIEN */
    outb(SEC_CTL, 0x02);
}

void test_ide_pio_dma(void)
{
    uint16_t id[256];
    char model[41];

    T = "ide-pio-dma";
    setup();
    outb(PRI + 6, 0xa0);
    outb(PRI + 7, 0xec);                            /* IDENTIFY */
    wait_ready(PRI_CTL, 0x09, 0x08);
    for (unsigned i = 0; i < 256; i++)
        id[i] = inw(PRI);
    for (unsigned i = 0; i < 20; i++) {
        model[2 * i] = id[27 + i] >> 8;
        model[2 * i + 1] = id[27 + i];
    }
    for (int i = 40; i >= 0 && (i == 40 || model[i] == ' '); i--)
        model[i] = 0;
    kprintf("ide: model '%s' sectors %u lba48 %u dma %u\n", model,
            id[60] | (uint32_t)id[61] << 16, (id[83] >> 10) & 1,
            (id[49] >> 8) & 1);

    fill(buf_a, 100, 0x5a);
    pio(0x30, 100, buf_a, 1);                       /* WRITE SECTORS */
    memset(buf_b, 0, sizeof(buf_b));
    dma(0xc8, 100, buf_b, 1);                       /* READ DMA */
    compare(buf_b, 100, 0x5a, "pio write, dma read");

    fill(buf_a, 200, 0xa5);
    dma(0xca, 200, buf_a, 2);                       /* WRITE DMA */
    memset(buf_b, 0, sizeof(buf_b));
    pio(0x20, 200, buf_b, 0);                       /* READ SECTORS */
    compare(buf_b, 200, 0xa5, "dma write, pio read");

    uint32_t n = id[60] | (uint32_t)id[61] << 16;
    taskfile(n, 1);
    outb(PRI + 7, 0x20);
    uint8_t st = wait_ready(PRI_CTL, 0x09, 0x01);
    kprintf("ide: out of range: status 0x%02x error 0x%02x\n", st,
            inb(PRI + 1));

    outb(PRI + 7, 0xe7);                            /* FLUSH CACHE */
    wait_ready(PRI_CTL, 0x09, 0x00);
    kprintf("ide: flush ok\n");
    pass(T);
}

/* ---- ATAPI ---- */

/* One packet by PIO; returns the sense key (0: good), data in buf. */
static unsigned atapi(const uint8_t *cdb, uint8_t *buf, unsigned max)
{
    const uint16_t *w = (const uint16_t *)cdb;
    unsigned got = 0;

    outb(SEC + 6, 0xa0);
    outb(SEC + 1, 0);
    outb(SEC + 4, 2048 & 0xff);
    outb(SEC + 5, 2048 >> 8);
    outb(SEC + 7, 0xa0);
    wait_ready(SEC_CTL, 0x08, 0x08);
    for (int i = 0; i < 6; i++)
        outw(SEC, w[i]);
    for (;;) {
        uint8_t st = wait_ready(SEC_CTL, 0, 0);
        if (!(st & 0x08))
            return st & 0x01 ? inb(SEC + 1) >> 4 : 0;
        unsigned n = inb(SEC + 4) | inb(SEC + 5) << 8;
        for (unsigned i = 0; i < n; i += 2) {
            uint16_t v = inw(SEC);
            if (got + i + 1 < max) {
                buf[got + i] = v;
                buf[got + i + 1] = v >> 8;
            }
        }
        got += n;
    }
}

static void read_label(char *label)
{
    static const uint8_t read10[12] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1 };
    unsigned key = atapi(read10, buf_a, sizeof(buf_a));
    if (key)
        fail(T, "READ(10) sense key %u", key);
    memcpy(label, buf_a, 15);
    label[15] = 0;
    kprintf("cd: medium '%s'\n", label);
}

void test_ide_cd_change(void)
{
    static const uint8_t tur[12] = { 0 };
    static const uint8_t sense[12] = { 0x03, 0, 0, 0, 18 };
    char label[16];
    int changes = 0, empty = 0;

    T = "ide-cd-change";
    setup();
    /* The drive may report a power-on or medium attention first. */
    for (int i = 0; i < 3 && atapi(tur, buf_a, 0); i++)
        atapi(sense, buf_a, 18);
    read_label(label);
    kprintf("cd: waiting for medium changes\n");
    for (unsigned tries = 0; changes < 2 && tries < 6000; tries++) {
        unsigned key = atapi(tur, buf_a, 0);
        if (key) {
            atapi(sense, buf_b, 18);
            unsigned k = buf_b[2] & 0x0f, asc = buf_b[12], ascq = buf_b[13];
            if (k == 2 && asc == 0x3a && !empty) {
                kprintf("cd: no medium (sense %x/%02x/%02x)\n", k, asc, ascq);
                empty = 1;
            } else if (k == 6 && asc == 0x28) {
                kprintf("cd: unit attention (sense %x/%02x/%02x)\n", k, asc,
                        ascq);
                read_label(label);
                changes++;
                empty = 0;
            }
        }
        pit_delay_us(5000);
    }
    if (changes < 2)
        fail(T, "%d medium changes seen", changes);
    pass(T);
}
