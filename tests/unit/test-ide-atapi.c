/*
 * ATAPI CD-ROM on ide.1 unit 0: the PACKET protocol (command phase, byte
 * count limit, interrupt reason), the MMC commands, PIO and DMA data, sense
 * data, the tray and its lock, media change and the state.
 */
#include "test-ide-lib.h"
#include "hw/block/ide-internal.h"

#define CD_CH   1

static IDEState *cd(void)
{
    return &ide_controller()->bus[1].ifs[0];
}

static void check_cd_data(const uint8_t *buf, uint32_t lba, unsigned n,
                          uint8_t (*fn)(uint32_t, unsigned))
{
    for (unsigned s = 0; s < n; s++) {
        for (unsigned i = 0; i < 2048; i++) {
            if (buf[s * 2048 + i] != fn(lba + s, i)) {
                g_error("CD sector %u byte %u: 0x%02x, expected 0x%02x",
                        lba + s, i, buf[s * 2048 + i], fn(lba + s, i));
            }
        }
    }
}

/* Command phase: PACKET, then the 12 bytes once DRQ says so. */
static void send_packet(const uint8_t *cdb, uint16_t limit, bool dma)
{
    outb(SEC + ATA_REG_SELECT, 0xa0);
    outb(SEC + ATA_REG_FEATURE, dma ? 1 : 0);
    outb(SEC + ATA_REG_LCYL, limit);
    outb(SEC + ATA_REG_HCYL, limit >> 8);
    outb(SEC + ATA_REG_CMD, WIN_PACKETCMD);
    g_assert_cmphex(inb(SEC_CTL), ==, ST_DRQ);
    g_assert_cmphex(inb(SEC + ATA_REG_NSECTOR), ==, ATAPI_IR_COD);
    g_assert_cmpint(isa_level[15], ==, 0);          /* DRQ without IRQ */
    uint8_t pkt[12] = { 0 };
    memcpy(pkt, cdb, 12);
    pio_out(SEC, pkt, 12);
}

typedef struct Result {
    uint8_t status, error;
    unsigned len;           /* data bytes received */
    unsigned chunks;        /* DRQ data blocks */
} Result;

/* Data-in by PIO until the status phase; each chunk within the limit. */
static Result atapi_pio(const uint8_t *cdb, void *buf, unsigned max,
                        uint16_t limit)
{
    unsigned eff = limit ? (limit & ~1u) : 0xfffe;
    Result r = { 0 };

    send_packet(cdb, limit, false);
    for (;;) {
        g_assert_true(wait_irq(15));
        uint8_t st = inb(SEC + ATA_REG_STATUS);
        uint8_t ir = inb(SEC + ATA_REG_NSECTOR);
        if (!(st & ATA_DRQ)) {
            g_assert_cmphex(ir, ==, ATAPI_IR_IO | ATAPI_IR_COD);
            r.status = st;
            r.error = inb(SEC + ATA_REG_ERROR);
            return r;
        }
        g_assert_cmphex(ir, ==, ATAPI_IR_IO);
        unsigned n = inb(SEC + ATA_REG_LCYL) | inb(SEC + ATA_REG_HCYL) << 8;
        g_assert_cmpuint(n, >, 0);
        g_assert_cmpuint(n, <=, MAX(eff, 2));
        g_assert_cmpuint(r.len + n, <=, max);
        pio_in(SEC, (uint8_t *)buf + r.len, n);
        r.len += n;
        r.chunks++;
    }
}

static void sense(uint8_t *key, uint8_t *asc, uint8_t *ascq)
{
    uint8_t cdb[12] = { GPCMD_REQUEST_SENSE, 0, 0, 0, 18 }, buf[18];
    Result r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);

    g_assert_cmphex(r.status, ==, ST_OK);
    g_assert_cmpuint(r.len, ==, 18);
    g_assert_cmphex(buf[0], ==, 0x70);
    *key = buf[2] & 0x0f;
    *asc = buf[12];
    *ascq = buf[13];
}

/* The command fails with this sense; REQUEST SENSE says the same. */
static void expect_check(const uint8_t *cdb, uint8_t key, uint8_t asc,
                         uint8_t ascq)
{
    uint8_t buf[64], k, a, q;
    Result r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);

    g_assert_cmphex(r.status, ==, ST_ERR);
    g_assert_cmphex(r.error >> 4, ==, key);
    g_assert_cmphex(r.error & ATA_ABRT, ==,
                    key == SENSE_ILLEGAL_REQUEST ? ATA_ABRT : 0);
    g_assert_cmpuint(r.len, ==, 0);
    sense(&k, &a, &q);
    g_assert_cmphex(k, ==, key);
    g_assert_cmphex(a, ==, asc);
    g_assert_cmphex(q, ==, ascq);
}

static void expect_ok(const uint8_t *cdb)
{
    uint8_t buf[64];
    Result r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);
    g_assert_cmphex(r.status, ==, ST_OK);
    g_assert_cmphex(r.error, ==, 0);
}

static const uint8_t tur[12] = { GPCMD_TEST_UNIT_READY };

static void test_identify(void)
{
    uint16_t id[256];
    uint8_t sum = 0;

    channel_reset(SEC);
    outb(SEC + ATA_REG_LCYL, 0);
    outb(SEC + ATA_REG_CMD, WIN_IDENTIFY);
    g_assert_true(wait_irq(15));
    g_assert_cmphex(inb(SEC + ATA_REG_STATUS), ==, ST_ERR);
    g_assert_cmphex(inb(SEC + ATA_REG_ERROR), ==, ATA_ABRT);
    g_assert_cmphex(inb(SEC + ATA_REG_LCYL), ==, 0x14);
    g_assert_cmphex(inb(SEC + ATA_REG_HCYL), ==, 0xeb);

    identify(SEC, 0, WIN_PIDENTIFY, id);
    inb(SEC + ATA_REG_STATUS);
    g_assert_cmphex(id[0], ==, 0x85c0);
    g_assert_cmphex(id[27], ==, ('Q' << 8) | 'E');
    g_assert_cmphex(id[32], ==, ('O' << 8) | 'M');   /* "QEMU DVD-ROM" */
    g_assert_cmphex(id[49] & 0x0300, ==, 0x0300);
    for (int i = 0; i < 512; i++) {
        sum += ((uint8_t *)id)[i];
    }
    g_assert_cmphex(sum, ==, 0);

    /* Disk commands are aborted; power management works. */
    outb(SEC + ATA_REG_CMD, WIN_FLUSH_CACHE);
    g_assert_true(wait_irq(15));
    g_assert_cmphex(inb(SEC + ATA_REG_ERROR), ==, ATA_ABRT);
    inb(SEC + ATA_REG_STATUS);
    outb(SEC + ATA_REG_CMD, WIN_CHECKPOWERMODE1);
    g_assert_true(wait_irq(15));
    g_assert_cmphex(inb(SEC + ATA_REG_STATUS), ==, ST_OK);
}

static void test_packet_protocol(void)
{
    channel_reset(SEC);
    expect_ok(tur);
    /* Reply data is cut to the allocation length. */
    uint8_t cdb[12] = { GPCMD_INQUIRY, 0, 0, 0, 36 }, buf[64];
    Result r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(r.len, ==, 36);
    g_assert_cmpuint(r.chunks, ==, 1);
    g_assert_cmphex(buf[0], ==, 0x05);
    g_assert_cmphex(buf[1], ==, 0x80);
    g_assert_cmpmem(buf + 8, 8, "QEMU    ", 8);
    g_assert_cmpmem(buf + 16, 16, "QEMU DVD-ROM    ", 16);
    cdb[4] = 8;
    r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(r.len, ==, 8);
    /* A byte count limit of 10 gives chunks of 10 bytes. */
    cdb[4] = 36;
    r = atapi_pio(cdb, buf, sizeof(buf), 10);
    g_assert_cmpuint(r.len, ==, 36);
    g_assert_cmpuint(r.chunks, ==, 4);
    /* EVPD pages are not supported. */
    cdb[1] = 1;
    expect_check(cdb, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CDB, 0);
}

static void test_read_capacity(void)
{
    uint8_t cdb[12] = { GPCMD_READ_CAPACITY }, buf[8];
    Result r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);

    g_assert_cmpuint(r.len, ==, 8);
    g_assert_cmphex(ldl_be_p(buf), ==, CD_SECTORS - 1);
    g_assert_cmphex(ldl_be_p(buf + 4), ==, 2048);
}

static void read10_cdb(uint8_t *cdb, uint32_t lba, uint16_t n)
{
    memset(cdb, 0, 12);
    cdb[0] = GPCMD_READ_10;
    stl_be_p(cdb + 2, lba);
    cdb[7] = n >> 8;
    cdb[8] = n;
}

static void test_read_pio(void)
{
    g_autofree uint8_t *buf = g_malloc(40 * 2048);
    uint8_t cdb[12];
    static const struct { uint16_t limit; unsigned n, chunks; } cases[] = {
        { 0xfffe, 3, 1 },       /* one buffer, one chunk */
        { 2048, 3, 3 },         /* a sector per chunk */
        { 1000, 3, 7 },         /* chunks smaller than a sector */
        { 0, 3, 1 },            /* 0 counts as the maximum */
        { 0xfffe, 20, 3 },      /* refills: 8 + 8 + 4 sectors */
        { 4096, 20, 10 },
        /* Whole chunks across refills: 4 x 5120, 6 x 6000 + 4960. */
        { 5120, 10, 4 },
        { 6000, 20, 7 },
    };

    channel_reset(SEC);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        memset(buf, 0, 40 * 2048);
        read10_cdb(cdb, 11 + i, cases[i].n);
        Result r = atapi_pio(cdb, buf, 40 * 2048, cases[i].limit);
        g_assert_cmphex(r.status, ==, ST_OK);
        g_assert_cmpuint(r.len, ==, cases[i].n * 2048);
        g_assert_cmpuint(r.chunks, ==, cases[i].chunks);
        check_cd_data(buf, 11 + i, cases[i].n, cd_byte);
    }
    /* READ(12), to the last sector. */
    memset(cdb, 0, 12);
    cdb[0] = GPCMD_READ_12;
    stl_be_p(cdb + 2, CD_SECTORS - 2);
    stl_be_p(cdb + 6, 2);
    Result r = atapi_pio(cdb, buf, 40 * 2048, 0xfffe);
    g_assert_cmpuint(r.len, ==, 2 * 2048);
    check_cd_data(buf, CD_SECTORS - 2, 2, cd_byte);
    /* Zero sectors: no data phase. */
    read10_cdb(cdb, 5, 0);
    r = atapi_pio(cdb, buf, 40 * 2048, 0xfffe);
    g_assert_cmphex(r.status, ==, ST_OK);
    g_assert_cmpuint(r.len, ==, 0);
    /* Past the end. */
    read10_cdb(cdb, CD_SECTORS - 1, 2);
    expect_check(cdb, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
    read10_cdb(cdb, 0x7fffffff, 1);
    expect_check(cdb, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
}

static void test_read_dma(void)
{
    uint8_t cdb[12];

    channel_reset(SEC);
    memset(test_ram.ram + BUF_ADDR, 0, 0x10000);
    prd_set(0, BUF_ADDR, 0x2800, false);
    prd_set(1, BUF_ADDR + 0x2800, 0x2800, true);
    read10_cdb(cdb, 40, 10);
    send_packet(cdb, 0xfffe, true);
    g_assert_cmphex(wait_not_busy(SEC), ==, ST_DRQ);
    bm_start(CD_CH, true);
    g_assert_true(wait_irq(15));
    g_assert_cmphex(bm_status(CD_CH) & 7, ==, BM_STATUS_INTR);
    g_assert_cmphex(inb(SEC + ATA_REG_STATUS), ==, ST_OK);
    g_assert_cmphex(inb(SEC + ATA_REG_NSECTOR), ==, ATAPI_IR_IO | ATAPI_IR_COD);
    bm_stop(CD_CH);
    bm_clear(CD_CH);
    check_cd_data(test_ram.ram + BUF_ADDR, 40, 10, cd_byte);

    /* A reply by DMA: INQUIRY. */
    uint8_t inq[12] = { GPCMD_INQUIRY, 0, 0, 0, 36 };
    prd_set(0, BUF_ADDR, 512, true);
    bm_start(CD_CH, true);
    send_packet(inq, 0xfffe, true);
    g_assert_true(wait_irq(15));
    g_assert_cmphex(inb(SEC + ATA_REG_STATUS), ==, ST_OK);
    g_assert_cmphex(bm_status(CD_CH) & 7, ==,
                    BM_STATUS_INTR | BM_STATUS_ACTIVE);
    bm_stop(CD_CH);
    bm_clear(CD_CH);
    g_assert_cmpmem(test_ram.ram + BUF_ADDR + 16, 12, "QEMU DVD-ROM", 12);
}

static void test_toc(void)
{
    uint8_t cdb[12] = { GPCMD_READ_TOC_PMA_ATIP }, buf[64];
    Result r;

    channel_reset(SEC);
    cdb[8] = sizeof(buf);
    r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(r.len, ==, 20);
    g_assert_cmpuint(lduw_be_p(buf), ==, 18);
    g_assert_cmpuint(buf[2], ==, 1);
    g_assert_cmpuint(buf[3], ==, 1);
    g_assert_cmphex(buf[5], ==, 0x14);
    g_assert_cmpuint(buf[6], ==, 1);
    g_assert_cmpuint(ldl_be_p(buf + 8), ==, 0);
    g_assert_cmphex(buf[14], ==, 0xaa);
    g_assert_cmpuint(ldl_be_p(buf + 16), ==, CD_SECTORS);
    /* MSF: 300 + 150 frames = 00:06:00. */
    cdb[1] = 2;
    r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);
    g_assert_cmphex(ldl_be_p(buf + 8), ==, 0x00000200);
    g_assert_cmphex(ldl_be_p(buf + 16), ==, 0x00000600);
    /* From the lead-out only; a track that does not exist. */
    cdb[6] = 0xaa;
    r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(r.len, ==, 12);
    g_assert_cmphex(buf[6], ==, 0xaa);
    cdb[6] = 2;
    expect_check(cdb, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CDB, 0);
    /* Session information. */
    cdb[6] = 0;
    cdb[2] = 1;
    r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(r.len, ==, 12);
    g_assert_cmpuint(lduw_be_p(buf), ==, 10);
    g_assert_cmpuint(buf[6], ==, 1);
    /* Full TOC: points A0, A1, A2 (lead-out at 00:06:00) and track 1. */
    cdb[2] = 2;
    r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(r.len, ==, 48);
    g_assert_cmphex(buf[4 + 3], ==, 0xa0);
    g_assert_cmpuint(buf[4 + 8], ==, 1);
    g_assert_cmphex(buf[26 + 3], ==, 0xa2);
    g_assert_cmpuint(buf[26 + 8], ==, 0);
    g_assert_cmpuint(buf[26 + 9], ==, 6);
    g_assert_cmpuint(buf[26 + 10], ==, 0);
    g_assert_cmpuint(buf[37 + 3], ==, 1);
    g_assert_cmpuint(buf[37 + 9], ==, 2);
    /* Allocation length 6. */
    cdb[8] = 6;
    r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(r.len, ==, 6);
    cdb[2] = 5;
    expect_check(cdb, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CDB, 0);
}

static void test_get_configuration(void)
{
    uint8_t cdb[12] = { GPCMD_GET_CONFIGURATION }, buf[128];
    Result r;

    channel_reset(SEC);
    cdb[8] = sizeof(buf);
    r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(r.len, ==, 8 + 12 + 12 + 8 + 12);
    g_assert_cmpuint(ldl_be_p(buf), ==, r.len - 4);
    g_assert_cmphex(lduw_be_p(buf + 6), ==, 0x0008);      /* CD-ROM */
    g_assert_cmphex(lduw_be_p(buf + 8), ==, 0x0000);      /* profiles */
    g_assert_cmphex(lduw_be_p(buf + 12), ==, 0x0010);
    g_assert_cmpuint(buf[14], ==, 0);
    g_assert_cmphex(lduw_be_p(buf + 16), ==, 0x0008);
    g_assert_cmpuint(buf[18], ==, 1);                     /* current */
    g_assert_cmphex(lduw_be_p(buf + 20), ==, 0x0001);     /* core */
    g_assert_cmpuint(ldl_be_p(buf + 24), ==, 2);          /* ATAPI */
    g_assert_cmphex(lduw_be_p(buf + 32), ==, 0x0003);     /* removable */
    g_assert_cmphex(lduw_be_p(buf + 40), ==, 0x0010);     /* random read */
    g_assert_cmpuint(ldl_be_p(buf + 44), ==, 2048);
    /* One feature only (RT 2). */
    cdb[1] = 2;
    cdb[3] = 3;
    r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(r.len, ==, 16);
    g_assert_cmphex(lduw_be_p(buf + 8), ==, 0x0003);
    cdb[1] = 3;
    expect_check(cdb, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CDB, 0);
}

static void gesn(uint8_t *event, uint8_t *media_status)
{
    uint8_t cdb[12] = { GPCMD_GET_EVENT_STATUS, 1, 0, 0, 0x10, 0, 0, 0, 8 };
    uint8_t buf[8];
    Result r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);

    g_assert_cmphex(r.status, ==, ST_OK);
    g_assert_cmpuint(r.len, ==, 8);
    g_assert_cmpuint(lduw_be_p(buf), ==, 6);
    g_assert_cmpuint(buf[2], ==, 4);
    g_assert_cmphex(buf[3], ==, 0x10);
    *event = buf[4] & 0x0f;
    *media_status = buf[5];
}

static void test_event_status(void)
{
    uint8_t cdb[12] = { GPCMD_GET_EVENT_STATUS, 0, 0, 0, 0x10, 0, 0, 0, 8 };
    uint8_t ev, ms, buf[8];

    channel_reset(SEC);
    expect_check(cdb, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CDB, 0);
    gesn(&ev, &ms);
    g_assert_cmpuint(ev, ==, 0);
    g_assert_cmphex(ms, ==, 0x02);                  /* present, closed */
    /* A class we do not have: "no event available". */
    cdb[1] = 1;
    cdb[4] = 0x02;
    Result r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(r.len, ==, 4);
    g_assert_cmphex(buf[2], ==, 0x80);
}

static void test_mode_sense(void)
{
    uint8_t cdb[12] = { GPCMD_MODE_SENSE_10, 0, 0x2a, 0, 0, 0, 0, 0, 64 };
    uint8_t buf[64];
    Result r;

    channel_reset(SEC);
    r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(r.len, ==, 28);
    g_assert_cmpuint(lduw_be_p(buf), ==, 26);
    g_assert_cmphex(buf[8], ==, 0x2a);
    g_assert_cmpuint(buf[9], ==, 18);
    g_assert_cmphex(buf[14], ==, 0x29);             /* tray, eject, lock */
    cdb[2] = 0x3f;
    r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(r.len, ==, 40);
    g_assert_cmphex(buf[8], ==, 0x01);
    g_assert_cmphex(buf[20], ==, 0x2a);
    cdb[2] = 0x40 | 0x2a;                           /* changeable values */
    r = atapi_pio(cdb, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(r.len, ==, 28);
    g_assert_cmphex(buf[14], ==, 0);
    cdb[2] = 0xc0 | 0x2a;                           /* saved values */
    expect_check(cdb, SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
    cdb[2] = 0x05;
    expect_check(cdb, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CDB, 0);
    uint8_t ms6[12] = { GPCMD_MODE_SENSE_6, 0, 0x2a, 0, 64 };
    expect_check(ms6, SENSE_ILLEGAL_REQUEST, ASC_INV_OPCODE, 0);
    uint8_t bad[12] = { 0xff };
    expect_check(bad, SENSE_ILLEGAL_REQUEST, ASC_INV_OPCODE, 0);
}

static void test_tray(void)
{
    uint8_t lock[12] = { GPCMD_PREVENT_ALLOW, 0, 0, 0, 1 };
    uint8_t unlock[12] = { GPCMD_PREVENT_ALLOW };
    uint8_t eject[12] = { GPCMD_START_STOP_UNIT, 0, 0, 0, 0x02 };
    uint8_t load[12] = { GPCMD_START_STOP_UNIT, 0, 0, 0, 0x03 };
    uint8_t read[12], buf[2048], ev, ms;
    Error *err = NULL;

    channel_reset(SEC);
    expect_ok(lock);
    expect_check(eject, SENSE_ILLEGAL_REQUEST, ASC_MEDIUM_REMOVAL_PREVENTED, 2);
    /* The monitor's eject is refused, and the guest is asked. */
    g_assert_false(ide_cd_eject(cd(), false, &err));
    g_assert_nonnull(strstr(err->msg, "locked"));
    error_free(err);
    gesn(&ev, &ms);
    g_assert_cmpuint(ev, ==, 1);                    /* eject request */
    expect_ok(unlock);
    expect_ok(eject);
    gesn(&ev, &ms);
    g_assert_cmpuint(ev, ==, 3);                    /* media removal */
    g_assert_cmphex(ms, ==, 0x01);                  /* tray open */
    expect_check(tur, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 2);
    read10_cdb(read, 0, 1);
    expect_check(read, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 2);
    /* Closing the tray: the medium is back, with a unit attention. */
    expect_ok(load);
    expect_check(tur, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED, 0);
    expect_ok(tur);
    gesn(&ev, &ms);
    g_assert_cmpuint(ev, ==, 2);                    /* new media */
    g_assert_cmphex(ms, ==, 0x02);
    gesn(&ev, &ms);
    g_assert_cmpuint(ev, ==, 0);                    /* reported once */
    Result r = atapi_pio(read, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(r.len, ==, 2048);
    check_cd_data(buf, 0, 1, cd_byte);
}

static void change_to(const char *path)
{
    BlockOpenOptions o = { .filename = path, .format = "raw",
                           .read_only = true };
    Error *err = NULL;
    if (!ide_cd_change(cd(), &o, &err)) {
        g_error("change: %s", err->msg);
    }
}

static void test_media_change(void)
{
    uint8_t cap[12] = { GPCMD_READ_CAPACITY };
    uint8_t inq[12] = { GPCMD_INQUIRY, 0, 0, 0, 36 };
    uint8_t cfg[12] = { GPCMD_GET_CONFIGURATION, 0, 0, 0, 0, 0, 0, 0, 8 };
    uint8_t read[12], buf[4096], key, asc, ascq, ev, ms;
    Error *err = NULL;
    Result r;

    channel_reset(SEC);
    change_to(cd2_path);
    /* INQUIRY does not report the unit attention, REQUEST SENSE does. */
    r = atapi_pio(inq, buf, sizeof(buf), 0xfffe);
    g_assert_cmphex(r.status, ==, ST_OK);
    sense(&key, &asc, &ascq);
    g_assert_cmphex(key, ==, SENSE_UNIT_ATTENTION);
    g_assert_cmphex(asc, ==, ASC_MEDIUM_MAY_HAVE_CHANGED);
    expect_ok(tur);
    gesn(&ev, &ms);
    g_assert_cmpuint(ev, ==, 2);
    r = atapi_pio(cap, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(ldl_be_p(buf), ==, 99);
    read10_cdb(read, 98, 2);
    r = atapi_pio(read, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(r.len, ==, 4096);
    check_cd_data(buf, 98, 2, cd2_byte);

    /* Forced eject of a locked drive: no medium, no profile. */
    uint8_t lock[12] = { GPCMD_PREVENT_ALLOW, 0, 0, 0, 1 };
    expect_ok(lock);
    g_assert_true(ide_cd_eject(cd(), true, &err));
    expect_check(tur, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 2);
    r = atapi_pio(cfg, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(r.len, ==, 8);
    g_assert_cmphex(lduw_be_p(buf + 6), ==, 0);
    gesn(&ev, &ms);
    g_assert_cmpuint(ev, ==, 3);
    g_assert_cmphex(ms, ==, 0x01);
    /* A file that cannot be opened leaves the drive as it was. */
    BlockOpenOptions o = { .filename = "/nonexistent/x.iso", .format = "raw" };
    g_assert_false(ide_cd_change(cd(), &o, &err));
    error_free(err);
    expect_check(tur, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 2);

    change_to(cd_path);
    expect_check(tur, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED, 0);
    r = atapi_pio(cap, buf, sizeof(buf), 0xfffe);
    g_assert_cmpuint(ldl_be_p(buf), ==, CD_SECTORS - 1);
}

/* drive_del: the disc goes with the tray closed; as in QEMU the guest
 * gets no unit attention, only "medium not present" (and the event). */
static void test_medium_removed(void)
{
    uint8_t read[12], ev, ms;

    channel_reset(SEC);
    expect_ok(tur);
    g_assert_true(blk_dev_has_tray(cd_blk));
    g_assert_false(blk_dev_is_tray_open(cd_blk));
    blk_remove_medium(cd_blk);
    g_assert_false(blk_is_inserted(cd_blk));
    g_assert_false(blk_dev_is_tray_open(cd_blk));
    /* ASCQ 1: tray closed. */
    expect_check(tur, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 1);
    read10_cdb(read, 0, 1);
    expect_check(read, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 1);
    gesn(&ev, &ms);
    g_assert_cmpuint(ev, ==, 3);                    /* media removal */
    g_assert_cmphex(ms, ==, 0x00);                  /* none, tray closed */
    change_to(cd_path);
    expect_check(tur, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED, 0);
    expect_ok(tur);
}

static void test_device_reset(void)
{
    uint8_t read[12], buf[2048];

    channel_reset(SEC);
    read10_cdb(read, 0, 4);
    send_packet(read, 2048, false);
    g_assert_true(wait_irq(15));
    inb(SEC + ATA_REG_STATUS);
    pio_in(SEC, buf, 100);
    /* DEVICE RESET is taken while a transfer is pending. */
    outb(SEC + ATA_REG_CMD, WIN_DEVICE_RESET);
    g_assert_cmphex(inb(SEC_CTL), ==, 0);
    g_assert_cmphex(inb(SEC + ATA_REG_LCYL), ==, 0x14);
    g_assert_cmphex(inb(SEC + ATA_REG_HCYL), ==, 0xeb);
    g_assert_cmphex(inb(SEC + ATA_REG_ERROR), ==, 0x01);
    g_assert_cmpint(isa_level[15], ==, 0);
    expect_ok(tur);
}

static void test_state(void)
{
    DeviceState *dev = (DeviceState *)ide_controller();
    uint8_t read[12], buf[6 * 2048];
    Error *err = NULL;
    size_t pos = 0;

    channel_reset(SEC);
    read10_cdb(read, 100, 6);
    send_packet(read, 4096, false);
    g_assert_true(wait_irq(15));
    inb(SEC + ATA_REG_STATUS);
    pio_in(SEC, buf, 1000);

    GByteArray *st = g_byte_array_new();
    vmstate_save(st, dev->klass->vmsd, dev);
    dev->klass->reset(dev);
    g_assert_true(vmstate_load(st->data, st->len, &pos, dev->klass->vmsd, dev,
                               1, &err));
    g_byte_array_free(st, true);

    pio_in(SEC, buf + 1000, 4096 - 1000);
    for (unsigned got = 4096; got < sizeof(buf);) {
        g_assert_true(wait_irq(15));
        inb(SEC + ATA_REG_STATUS);
        unsigned n = inb(SEC + ATA_REG_LCYL) | inb(SEC + ATA_REG_HCYL) << 8;
        pio_in(SEC, buf + got, n);
        got += n;
    }
    g_assert_true(wait_irq(15));
    g_assert_cmphex(inb(SEC + ATA_REG_STATUS), ==, ST_OK);
    check_cd_data(buf, 100, 6, cd_byte);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ide_test_init();
    g_test_add_func("/ide/atapi/identify", test_identify);
    g_test_add_func("/ide/atapi/packet-protocol", test_packet_protocol);
    g_test_add_func("/ide/atapi/read-capacity", test_read_capacity);
    g_test_add_func("/ide/atapi/read-pio", test_read_pio);
    g_test_add_func("/ide/atapi/read-dma", test_read_dma);
    g_test_add_func("/ide/atapi/read-toc", test_toc);
    g_test_add_func("/ide/atapi/get-configuration", test_get_configuration);
    g_test_add_func("/ide/atapi/event-status", test_event_status);
    g_test_add_func("/ide/atapi/mode-sense", test_mode_sense);
    g_test_add_func("/ide/atapi/tray", test_tray);
    g_test_add_func("/ide/atapi/media-change", test_media_change);
    g_test_add_func("/ide/atapi/medium-removed", test_medium_removed);
    g_test_add_func("/ide/atapi/device-reset", test_device_reset);
    g_test_add_func("/ide/atapi/state", test_state);
    int ret = g_test_run();
    ide_test_cleanup();
    return ret;
}
