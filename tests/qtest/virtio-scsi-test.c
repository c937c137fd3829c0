/*
 * virtio-scsi-pci with scsi-cd and scsi-hd over the qtest protocol.  The
 * test is the driver: it programs the BARs, negotiates through the modern
 * (BAR 4) or legacy (BAR 0) interface, lays split virtqueues out in guest
 * memory, kicks them and reads the used rings back.  Covered: PCI identity
 * and capabilities, the config window, device config, features, SCSI
 * commands (INQUIRY, unit attention, READ CAPACITY, READ/WRITE with the
 * data checked in the image, sense for bad CDBs and ranges, missing LUNs
 * and targets, REPORT LUNS, MODE SENSE, READ TOC, tray, WRITE SAME, UNMAP,
 * the provisioning VPD pages, 4 KiB blocks), the control queue, INTx,
 * malformed rings and chains, which must put the device in
 * DEVICE_NEEDS_RESET and leave the emulator working, and over QMP:
 * device_add/device_del of units with the event queue's hotplug events,
 * their errors, and iothread objects.
 */
#include "libkqtest.h"
#include "libkqmp.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SLOT            4
#define IO_BASE         0xc040
#define MEM_BASE        0xe0000000ULL
#define RING_BASE       0x100000        /* queue q at + q * 0x10000 */
#define REQ_ADDR        0x300000
#define RESP_ADDR       0x301000
#define OUT_ADDR        0x310000
#define IN_ADDR         0x340000
#define EVT_ADDR        0x380000        /* event buffers, 16 bytes each */
#define REQ_LEN         51              /* 19-byte header + 32-byte CDB */
#define RESP_LEN        108             /* 12-byte header + 96 sense */
#define CD_BLOCKS       40
#define HD_BLOCKS       64
#define QSIZE           16

#define S_ACK           1
#define S_DRIVER        2
#define S_DRIVER_OK     4
#define S_FEATURES_OK   8
#define S_NEEDS_RESET   0x40

static char *cd_path, *hd_path;

typedef struct VQ {
    uint64_t desc, avail, used;
    unsigned num, next_desc;
    uint16_t avail_idx, used_seen;
} VQ;

typedef struct T {
    QTS *s;
    KQmp *qmp;
    bool legacy;
    uint32_t features;          /* feature bits 0-31 the driver takes */
    VQ vq[3];
    char *log;                  /* the emulator's -D file */
    size_t log_seen;
} T;

typedef struct Buf {
    uint64_t addr;
    uint32_t len;
    bool write;
} Buf;

typedef struct Resp {
    uint32_t used_len, sense_len, resid;
    uint8_t status, response;
    uint8_t sense[96];
} Resp;

static uint16_t ld_be16(const uint8_t *p)
{
    return p[0] << 8 | p[1];
}

static uint32_t ld_be32(const uint8_t *p)
{
    return (uint32_t)ld_be16(p) << 16 | ld_be16(p + 2);
}

static uint64_t ld_be64(const uint8_t *p)
{
    return (uint64_t)ld_be32(p) << 32 | ld_be32(p + 4);
}

static uint32_t ldl_le(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t cd_byte(uint32_t lba, unsigned i)
{
    return (uint8_t)(lba * 5 + i * 9) ^ 0x96;
}

static uint8_t hd_byte(uint32_t lba, unsigned i)
{
    return (uint8_t)(lba * 11 + i * 7) ^ 0x69;
}

static char *make_image(unsigned blocks, unsigned size,
                        uint8_t (*fn)(uint32_t, unsigned))
{
    char *path = NULL;
    int fd = g_file_open_tmp("kestrel-vscsi-XXXXXX", &path, NULL);
    g_autofree uint8_t *buf = g_malloc(size);

    g_assert_cmpint(fd, >=, 0);
    for (unsigned b = 0; b < blocks; b++) {
        for (unsigned i = 0; i < size; i++) {
            buf[i] = fn(b, i);
        }
        g_assert_cmpint(write(fd, buf, size), ==, size);
    }
    close(fd);
    return path;
}

/* ---- PCI and the two register interfaces ---- */

static uint32_t cfg(QTS *s, int reg, int size)
{
    return qts_pci_cfg_read(s, SLOT, 0, reg, size);
}

static void cfg_w(QTS *s, int reg, int size, uint32_t v)
{
    qts_pci_cfg_write(s, SLOT, 0, reg, size, v);
}

static uint8_t get_status(T *t)
{
    return t->legacy ? qts_inb(t->s, IO_BASE + 0x12)
                     : qts_readb(t->s, MEM_BASE + 0x14);
}

static void set_status(T *t, uint8_t v)
{
    if (t->legacy) {
        qts_outb(t->s, IO_BASE + 0x12, v);
    } else {
        qts_writeb(t->s, MEM_BASE + 0x14, v);
    }
}

static uint8_t read_isr(T *t)
{
    return t->legacy ? qts_inb(t->s, IO_BASE + 0x13)
                     : qts_readb(t->s, MEM_BASE + 0x1000);
}

static uint32_t devcfg(T *t, unsigned off)
{
    return t->legacy ? qts_inl(t->s, IO_BASE + 0x14 + off)
                     : qts_readl(t->s, MEM_BASE + 0x2000 + off);
}

static void notify(T *t, unsigned q)
{
    if (t->legacy) {
        qts_outw(t->s, IO_BASE + 0x10, q);
    } else {
        qts_writew(t->s, MEM_BASE + 0x3000 + 4 * q, q);
    }
}

/* Rings in the legacy layout (used ring on a 4 KiB boundary) for both. */
static void queue_setup(T *t, unsigned q, unsigned num)
{
    VQ *vq = &t->vq[q];
    uint64_t base = RING_BASE + q * 0x10000;

    if (t->legacy) {
        qts_outw(t->s, IO_BASE + 0x0e, q);
        num = qts_inw(t->s, IO_BASE + 0x0c);
    }
    *vq = (VQ) { .num = num, .desc = base, .avail = base + 16 * num };
    vq->used = (vq->avail + 6 + 2 * num + 4095) & ~4095ULL;
    qts_memset(t->s, base, 0, 0x10000);
    if (t->legacy) {
        qts_outl(t->s, IO_BASE + 0x08, base >> 12);
        return;
    }
    qts_writew(t->s, MEM_BASE + 0x16, q);
    qts_writew(t->s, MEM_BASE + 0x18, num);
    qts_writel(t->s, MEM_BASE + 0x20, vq->desc);
    qts_writel(t->s, MEM_BASE + 0x24, 0);
    qts_writel(t->s, MEM_BASE + 0x28, vq->avail);
    qts_writel(t->s, MEM_BASE + 0x2c, 0);
    qts_writel(t->s, MEM_BASE + 0x30, vq->used);
    qts_writel(t->s, MEM_BASE + 0x34, 0);
    qts_writew(t->s, MEM_BASE + 0x1c, 1);
}

/* Reset, negotiate (VERSION_1 on the modern interface), set up 3 queues. */
static void driver_init(T *t)
{
    set_status(t, 0);
    set_status(t, S_ACK);
    set_status(t, S_ACK | S_DRIVER);
    if (t->legacy) {
        qts_outl(t->s, IO_BASE + 0x04, t->features);
    } else {
        qts_writel(t->s, MEM_BASE + 0x08, 0);
        qts_writel(t->s, MEM_BASE + 0x0c, t->features);
        qts_writel(t->s, MEM_BASE + 0x08, 1);
        qts_writel(t->s, MEM_BASE + 0x0c, 1);       /* VERSION_1 */
        set_status(t, S_ACK | S_DRIVER | S_FEATURES_OK);
        g_assert_cmphex(get_status(t), ==, S_ACK | S_DRIVER | S_FEATURES_OK);
    }
    for (unsigned q = 0; q < 3; q++) {
        queue_setup(t, q, QSIZE);
    }
    set_status(t, get_status(t) | S_DRIVER_OK);
}

/* With features (bits 0-31) negotiated besides VERSION_1. */
static T *start_features(bool legacy, uint32_t features, const char *extra)
{
    T *t = g_new0(T, 1);
    int fd = g_file_open_tmp("kestrel-vscsi-log-XXXXXX", &t->log, NULL);

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    t->legacy = legacy;
    t->features = features;
    t->qmp = kqmp_new();
    t->s = qts_initf("-D %s %s -device virtio-scsi-pci,id=scsi0,addr=%d "
                     "-blockdev driver=file,node-name=cd0,filename=%s "
                     "-blockdev driver=file,node-name=hd0,filename=%s "
                     "-device scsi-cd,drive=cd0 "
                     "-device scsi-hd,drive=hd0,bus=scsi0.0,scsi-id=1,lun=2 %s",
                     t->log, kqmp_args(t->qmp), SLOT, cd_path, hd_path,
                     extra ? extra : "");
    kqmp_connect(t->qmp);
    cfg_w(t->s, 0x10, 4, IO_BASE);
    cfg_w(t->s, 0x20, 4, (uint32_t)MEM_BASE);
    cfg_w(t->s, 0x24, 4, 0);
    cfg_w(t->s, 0x04, 2, 0x0007);                   /* I/O, memory, master */
    driver_init(t);
    return t;
}

static T *start(bool legacy, const char *extra)
{
    return start_features(legacy, 0, extra);
}

static void stop(T *t)
{
    qts_quit(t->s);
    kqmp_free(t->qmp);
    unlink(t->log);
    g_free(t->log);
    g_free(t);
}

/* The guest errors logged since the last call must mention what. */
static void assert_logged(T *t, const char *what)
{
    g_autofree char *text = NULL;

    g_assert_true(g_file_get_contents(t->log, &text, NULL, NULL));
    if (!strstr(text + t->log_seen, what)) {
        g_error("expected '%s' in the log, got: %s", what,
                text + t->log_seen);
    }
    t->log_seen = strlen(text);
}

/* ---- virtqueues ---- */

static void write_desc(T *t, unsigned q, unsigned i, uint64_t addr,
                       uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t d[16];

    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &next, 2);
    qts_memwrite(t->s, t->vq[q].desc + 16 * i, d, sizeof(d));
}

static void make_avail(T *t, unsigned q, uint16_t head)
{
    VQ *vq = &t->vq[q];

    qts_writew(t->s, vq->avail + 4 + 2 * (vq->avail_idx % vq->num), head);
    qts_writew(t->s, vq->avail + 2, ++vq->avail_idx);
    notify(t, q);
}

static uint16_t vq_add(T *t, unsigned q, const Buf *b, int n)
{
    VQ *vq = &t->vq[q];
    unsigned head = vq->next_desc;

    for (int i = 0; i < n; i++) {
        unsigned idx = (head + i) % vq->num;
        write_desc(t, q, idx, b[i].addr, b[i].len,
                   (i < n - 1 ? 1 : 0) | (b[i].write ? 2 : 0),
                   (idx + 1) % vq->num);
    }
    vq->next_desc = (head + n) % vq->num;
    make_avail(t, q, head);
    return head;
}

static uint16_t used_idx(T *t, unsigned q)
{
    return qts_readw(t->s, t->vq[q].used + 2);
}

/* The used entry for head; the length the device wrote. */
static uint32_t vq_wait(T *t, unsigned q, uint16_t head)
{
    VQ *vq = &t->vq[q];
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (used_idx(t, q) == vq->used_seen) {
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(100);
    }
    uint64_t e = vq->used + 4 + 8 * (vq->used_seen++ % vq->num);
    g_assert_cmpuint(qts_readl(t->s, e), ==, head);
    return qts_readl(t->s, e + 4);
}

/* ---- SCSI commands ---- */

static Resp cmd_lun(T *t, const uint8_t *lun, const uint8_t *cdb,
                    size_t cdb_len, const void *out, size_t out_len,
                    void *in, size_t in_len)
{
    uint8_t req[REQ_LEN] = { 0 }, resp[RESP_LEN];
    Buf b[4];
    int n = 0;
    Resp r;

    memcpy(req, lun, 8);
    memcpy(req + 19, cdb, cdb_len);
    qts_memwrite(t->s, REQ_ADDR, req, sizeof(req));
    qts_memset(t->s, RESP_ADDR, 0xee, RESP_LEN);
    b[n++] = (Buf) { REQ_ADDR, REQ_LEN, false };
    if (out_len) {
        qts_memwrite(t->s, OUT_ADDR, out, out_len);
        b[n++] = (Buf) { OUT_ADDR, out_len, false };
    }
    b[n++] = (Buf) { RESP_ADDR, RESP_LEN, true };
    if (in_len) {
        qts_memset(t->s, IN_ADDR, 0xee, in_len);
        b[n++] = (Buf) { IN_ADDR, in_len, true };
    }
    r.used_len = vq_wait(t, 2, vq_add(t, 2, b, n));
    qts_memread(t->s, RESP_ADDR, resp, sizeof(resp));
    memcpy(&r.sense_len, resp, 4);
    memcpy(&r.resid, resp + 4, 4);
    r.status = resp[10];
    r.response = resp[11];
    memcpy(r.sense, resp + 12, sizeof(r.sense));
    if (in_len) {
        qts_memread(t->s, IN_ADDR, in, in_len);
    }
    return r;
}

static Resp cmd(T *t, unsigned target, unsigned lun, const uint8_t *cdb,
                size_t cdb_len, void *in, size_t in_len)
{
    uint8_t l[8] = { 1, target, 0x40 | lun >> 8, lun };
    return cmd_lun(t, l, cdb, cdb_len, NULL, 0, in, in_len);
}

static void assert_good(Resp r)
{
    g_assert_cmpuint(r.response, ==, 0);
    g_assert_cmphex(r.status, ==, 0);
    g_assert_cmpuint(r.sense_len, ==, 0);
}

/* CHECK CONDITION with fixed-format sense key/asc/ascq. */
static void assert_sense(Resp r, uint8_t key, uint8_t asc, uint8_t ascq)
{
    g_assert_cmpuint(r.response, ==, 0);
    g_assert_cmphex(r.status, ==, 2);
    g_assert_cmpuint(r.sense_len, ==, 18);
    g_assert_cmphex(r.sense[0], ==, 0x70);
    g_assert_cmphex(r.sense[2], ==, key);
    g_assert_cmphex(r.sense[12], ==, asc);
    g_assert_cmphex(r.sense[13], ==, ascq);
}

static const uint8_t cdb_tur[6] = { 0x00 };

/* Consume the power-on unit attention of target:lun. */
static void clear_ua(T *t, unsigned target, unsigned lun)
{
    assert_sense(cmd(t, target, lun, cdb_tur, 6, NULL, 0), 6, 0x29, 0);
}

/* ---- tests ---- */

static void test_pci(void)
{
    T *t = start(false, NULL);
    QTS *s = t->s;
    bool seen[256] = { false };

    g_assert_cmphex(cfg(s, 0x00, 4), ==, 0x10041af4);
    g_assert_cmphex(cfg(s, 0x08, 4), ==, 0x01000000);   /* SCSI, rev 0 */
    g_assert_cmphex(cfg(s, 0x2c, 4), ==, 0x00081af4);
    g_assert_cmphex(cfg(s, 0x3d, 1), ==, 1);            /* INTA */
    g_assert_cmphex(cfg(s, 0x06, 2) & 0x10, ==, 0x10);  /* capabilities */
    g_assert_cmphex(cfg(s, 0x20, 4) & 0xf, ==, 0xc);    /* 64-bit, pref */
    for (int cap = cfg(s, 0x34, 1), n = 0; cap; cap = cfg(s, cap + 1, 1)) {
        g_assert_cmpint(++n, <=, 5);
        g_assert_cmphex(cfg(s, cap, 1), ==, 0x09);      /* vendor */
        int type = cfg(s, cap + 3, 1);
        g_assert_cmpint(type, >=, 1);
        g_assert_cmpint(type, <=, 5);
        seen[type] = true;
        if (type != 5) {
            g_assert_cmpuint(cfg(s, cap + 4, 1), ==, 4);    /* BAR 4 */
        }
        if (type == 2) {
            g_assert_cmpuint(cfg(s, cap + 16, 4), ==, 4);   /* multiplier */
        }
    }
    g_assert_true(seen[1] && seen[2] && seen[3] && seen[4] && seen[5]);

    /* The config window reads num_queues (common config 0x12). */
    cfg_w(s, 0x84 + 4, 1, 4);
    cfg_w(s, 0x84 + 8, 4, 0x12);
    cfg_w(s, 0x84 + 12, 4, 2);
    g_assert_cmphex(cfg(s, 0x84 + 16, 2), ==, 3);
    /* ... and writes queue_select through it. */
    cfg_w(s, 0x84 + 8, 4, 0x16);
    cfg_w(s, 0x84 + 16, 2, 2);
    g_assert_cmphex(qts_readw(s, MEM_BASE + 0x16), ==, 2);
    /* A window that is not usable reads 0 and writes nothing. */
    cfg_w(s, 0x84 + 12, 4, 3);
    g_assert_cmphex(cfg(s, 0x84 + 16, 4), ==, 0);
    cfg_w(s, 0x84 + 16, 2, 1);
    g_assert_cmphex(qts_readw(s, MEM_BASE + 0x16), ==, 2);
    stop(t);
}

static void test_config(void)
{
    T *t = start(false, NULL);

    g_assert_cmpuint(devcfg(t, 0), ==, 1);              /* num_queues */
    g_assert_cmpuint(devcfg(t, 4), ==, 254);            /* seg_max */
    g_assert_cmpuint(devcfg(t, 8), ==, 0xffff);         /* max_sectors */
    g_assert_cmpuint(devcfg(t, 12), ==, 128);           /* cmd_per_lun */
    g_assert_cmpuint(devcfg(t, 16), ==, 16);            /* event_info */
    g_assert_cmpuint(devcfg(t, 20), ==, 96);            /* sense_size */
    g_assert_cmpuint(devcfg(t, 24), ==, 32);            /* cdb_size */
    g_assert_cmphex(devcfg(t, 28), ==, 255u << 16);     /* channel, target */
    g_assert_cmpuint(devcfg(t, 32), ==, 16383);         /* max_lun */
    /* The driver may set sense_size and cdb_size; a reset restores them. */
    qts_writel(t->s, MEM_BASE + 0x2000 + 20, 64);
    g_assert_cmpuint(devcfg(t, 20), ==, 64);
    qts_writel(t->s, MEM_BASE + 0x2000 + 24, 100000);   /* refused */
    g_assert_cmpuint(devcfg(t, 24), ==, 32);
    set_status(t, 0);
    g_assert_cmpuint(devcfg(t, 20), ==, 96);
    /* Features: VERSION_1 and HOTPLUG; one not offered keeps FEATURES_OK
     * off. */
    qts_writel(t->s, MEM_BASE + 0x00, 1);
    g_assert_cmphex(qts_readl(t->s, MEM_BASE + 0x04), ==, 1);
    qts_writel(t->s, MEM_BASE + 0x00, 0);
    g_assert_cmphex(qts_readl(t->s, MEM_BASE + 0x04), ==, 2);
    qts_writel(t->s, MEM_BASE + 0x08, 0);
    qts_writel(t->s, MEM_BASE + 0x0c, 4);               /* CHANGE */
    set_status(t, S_ACK | S_DRIVER | S_FEATURES_OK);
    g_assert_cmphex(get_status(t), ==, S_ACK | S_DRIVER);
    /* Queue sizes: powers of two up to 256, before enabling. */
    set_status(t, 0);
    qts_writew(t->s, MEM_BASE + 0x16, 2);
    g_assert_cmpuint(qts_readw(t->s, MEM_BASE + 0x18), ==, 256);
    qts_writew(t->s, MEM_BASE + 0x18, 3);
    qts_writew(t->s, MEM_BASE + 0x18, 512);
    qts_writew(t->s, MEM_BASE + 0x18, 0);
    g_assert_cmpuint(qts_readw(t->s, MEM_BASE + 0x18), ==, 256);
    qts_writew(t->s, MEM_BASE + 0x18, 64);
    g_assert_cmpuint(qts_readw(t->s, MEM_BASE + 0x18), ==, 64);
    qts_writew(t->s, MEM_BASE + 0x16, 3);               /* no such queue */
    g_assert_cmpuint(qts_readw(t->s, MEM_BASE + 0x18), ==, 0);
    stop(t);
}

static void check_inquiry_and_read(T *t)
{
    uint8_t inq[36], cap[8], data[2 * 2048];
    const uint8_t cdb_inq[6] = { 0x12, 0, 0, 0, 36, 0 };
    const uint8_t cdb_cap[10] = { 0x25 };
    const uint8_t cdb_read[10] = { 0x28, 0, 0, 0, 0, 3, 0, 0, 2, 0 };

    Resp r = cmd(t, 0, 0, cdb_inq, 6, inq, sizeof(inq));
    assert_good(r);
    g_assert_cmpuint(r.used_len, ==, RESP_LEN + 36);
    g_assert_cmphex(inq[0], ==, 0x05);                  /* CD/DVD */
    g_assert_cmphex(inq[1], ==, 0x80);                  /* removable */
    g_assert_cmpmem(inq + 8, 8, "QEMU    ", 8);
    g_assert_cmpmem(inq + 16, 16, "QEMU CD-ROM     ", 16);
    r = cmd(t, 1, 2, cdb_inq, 6, inq, sizeof(inq));
    assert_good(r);
    g_assert_cmphex(inq[0], ==, 0x00);                  /* disk */
    g_assert_cmpmem(inq + 16, 16, "QEMU HARDDISK   ", 16);

    /* The first command after power-on reports it; INQUIRY did not. */
    clear_ua(t, 0, 0);
    assert_good(cmd(t, 0, 0, cdb_tur, 6, NULL, 0));

    r = cmd(t, 0, 0, cdb_cap, 10, cap, sizeof(cap));
    assert_good(r);
    g_assert_cmphex(cap[0] << 24 | cap[1] << 16 | cap[2] << 8 | cap[3], ==,
                    CD_BLOCKS - 1);
    g_assert_cmphex(cap[4] << 24 | cap[5] << 16 | cap[6] << 8 | cap[7], ==,
                    2048);

    r = cmd(t, 0, 0, cdb_read, 10, data, sizeof(data));
    assert_good(r);
    g_assert_cmpuint(r.resid, ==, 0);
    g_assert_cmpuint(r.used_len, ==, RESP_LEN + sizeof(data));
    for (unsigned i = 0; i < sizeof(data); i++) {
        g_assert_cmphex(data[i], ==, cd_byte(3 + i / 2048, i % 2048));
    }
}

static void test_modern(void)
{
    T *t = start(false, NULL);
    check_inquiry_and_read(t);
    stop(t);
}

static void test_legacy(void)
{
    T *t = start(true, NULL);

    g_assert_cmpuint(qts_inl(t->s, IO_BASE + 0x00), ==, 2);  /* HOTPLUG */
    g_assert_cmpuint(t->vq[2].num, ==, 256);
    g_assert_cmpuint(devcfg(t, 20), ==, 96);
    check_inquiry_and_read(t);
    stop(t);
}

static void test_errors(void)
{
    T *t = start(false, NULL);
    uint8_t buf[64];
    const uint8_t cdb_bad[6] = { 0xff };
    const uint8_t cdb_past[10] = { 0x28, 0, 0, 0, 0, CD_BLOCKS - 1, 0, 0,
                                   2, 0 };
    const uint8_t cdb_inq[6] = { 0x12, 0, 0, 0, 36, 0 };
    const uint8_t cdb_sense[6] = { 0x03, 0, 0, 0, 18, 0 };
    const uint8_t cdb_write[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 };

    clear_ua(t, 0, 0);
    assert_sense(cmd(t, 0, 0, cdb_bad, 6, NULL, 0), 5, 0x20, 0);
    /* REQUEST SENSE returns the last error, then nothing. */
    Resp r = cmd(t, 0, 0, cdb_sense, 6, buf, 18);
    assert_good(r);
    g_assert_cmphex(buf[2], ==, 5);
    g_assert_cmphex(buf[12], ==, 0x20);
    assert_good(cmd(t, 0, 0, cdb_sense, 6, buf, 18));
    g_assert_cmphex(buf[2], ==, 0);
    assert_sense(cmd(t, 0, 0, cdb_past, 10, buf, sizeof(buf)), 5, 0x21, 0);
    /* A CD-ROM does not write (QEMU's virtio-scsi-test checks this). */
    const uint8_t lun0[8] = { 1, 0, 0x40, 0 };
    static const uint8_t block[2048];
    assert_sense(cmd_lun(t, lun0, cdb_write, 10, block, sizeof(block), NULL,
                         0), 7, 0x27, 0);
    /* Data-in of 64 bytes for a 2-block read: overrun. */
    const uint8_t cdb_read[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 2, 0 };
    r = cmd(t, 0, 0, cdb_read, 10, buf, sizeof(buf));
    g_assert_cmpuint(r.response, ==, 1);

    /* A LUN that is not there on target 0, a target that is not there. */
    r = cmd(t, 0, 5, cdb_inq, 6, buf, 36);
    assert_good(r);
    g_assert_cmphex(buf[0], ==, 0x7f);
    assert_sense(cmd(t, 0, 5, cdb_tur, 6, NULL, 0), 5, 0x25, 0);
    g_assert_cmpuint(cmd(t, 7, 0, cdb_tur, 6, NULL, 0).response, ==, 3);
    const uint8_t bad_lun[8] = { 2, 0, 0x40, 0 };
    g_assert_cmpuint(cmd_lun(t, bad_lun, cdb_tur, 6, NULL, 0, NULL, 0)
                     .response, ==, 3);
    /* Bidirectional buffers need a feature that is not offered. */
    g_assert_cmpuint(cmd_lun(t, lun0, cdb_inq, 6, "x", 1, buf, 36)
                     .response, ==, 9);
    stop(t);
}

static void test_report_luns(void)
{
    T *t = start(false, NULL);
    uint8_t buf[32];
    uint8_t cdb[12] = { 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16 };

    Resp r = cmd(t, 1, 0, cdb, 12, buf, 16);           /* LUN 0 is absent */
    assert_good(r);
    g_assert_cmphex(buf[3], ==, 8);                     /* one LUN */
    g_assert_cmphex(buf[8], ==, 0);
    g_assert_cmphex(buf[9], ==, 2);
    cdb[9] = 8;                                         /* below 16 */
    assert_sense(cmd(t, 1, 2, cdb, 12, buf, 8), 5, 0x24, 0);
    stop(t);
}

static void test_hd_write(void)
{
    T *t = start(false, NULL);
    uint8_t block[512], back[512], img[512];
    const uint8_t cdb_w[10] = { 0x2a, 0, 0, 0, 0, 9, 0, 0, 1, 0 };
    const uint8_t cdb_r[10] = { 0x28, 0, 0, 0, 0, 9, 0, 0, 1, 0 };
    const uint8_t cdb_sync[10] = { 0x35 };
    const uint8_t cdb_cap16[16] = { 0x9e, 0x10, [13] = 32 };
    const uint8_t lun[8] = { 1, 1, 0x40, 2 };
    uint8_t cap[32];

    for (unsigned i = 0; i < sizeof(block); i++) {
        block[i] = i * 3 + 1;
    }
    clear_ua(t, 1, 2);
    Resp r = cmd_lun(t, lun, cdb_w, 10, block, sizeof(block), NULL, 0);
    assert_good(r);
    g_assert_cmpuint(r.used_len, ==, RESP_LEN);
    assert_good(cmd(t, 1, 2, cdb_sync, 10, NULL, 0));
    assert_good(cmd(t, 1, 2, cdb_r, 10, back, sizeof(back)));
    g_assert_cmpmem(back, sizeof(back), block, sizeof(block));
    int fd = open(hd_path, O_RDONLY);
    g_assert_cmpint(pread(fd, img, sizeof(img), 9 * 512), ==, sizeof(img));
    close(fd);
    g_assert_cmpmem(img, sizeof(img), block, sizeof(block));
    assert_good(cmd(t, 1, 2, cdb_cap16, 16, cap, sizeof(cap)));
    g_assert_cmphex(cap[7], ==, HD_BLOCKS - 1);
    g_assert_cmphex(cap[10], ==, 2);                    /* 512 */
    stop(t);
}

static void test_cd_commands(void)
{
    T *t = start(false, NULL);
    uint8_t buf[64];
    const uint8_t cdb_ms[10] = { 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64, 0 };
    const uint8_t cdb_toc[10] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 20, 0 };
    const uint8_t cdb_conf[10] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 64, 0 };
    const uint8_t cdb_lock[6] = { 0x1e, 0, 0, 0, 1, 0 };
    const uint8_t cdb_unlock[6] = { 0x1e };
    const uint8_t cdb_eject[6] = { 0x1b, 0, 0, 0, 2, 0 };
    const uint8_t cdb_load[6] = { 0x1b, 0, 0, 0, 3, 0 };

    clear_ua(t, 0, 0);
    Resp r = cmd(t, 0, 0, cdb_ms, 10, buf, sizeof(buf));
    assert_good(r);
    g_assert_cmphex(buf[7], ==, 8);                     /* block descriptor */
    g_assert_cmphex(buf[16], ==, 0x2a);
    g_assert_cmpuint(r.resid, ==, sizeof(buf) - (8 + 8 + 20));
    assert_good(cmd(t, 0, 0, cdb_toc, 10, buf, 20));
    g_assert_cmphex(buf[1], ==, 18);
    g_assert_cmphex(buf[14], ==, 0xaa);                 /* lead-out */
    g_assert_cmphex(buf[19], ==, CD_BLOCKS);
    assert_good(cmd(t, 0, 0, cdb_conf, 10, buf, sizeof(buf)));
    g_assert_cmphex(buf[7], ==, 0x08);                  /* CD-ROM profile */

    /* A locked tray stays shut; open, it has no medium to read. */
    assert_good(cmd(t, 0, 0, cdb_lock, 6, NULL, 0));
    assert_sense(cmd(t, 0, 0, cdb_eject, 6, NULL, 0), 5, 0x53, 2);
    assert_good(cmd(t, 0, 0, cdb_unlock, 6, NULL, 0));
    assert_good(cmd(t, 0, 0, cdb_eject, 6, NULL, 0));
    assert_sense(cmd(t, 0, 0, cdb_tur, 6, NULL, 0), 2, 0x3a, 2);
    assert_good(cmd(t, 0, 0, cdb_load, 6, NULL, 0));
    assert_sense(cmd(t, 0, 0, cdb_tur, 6, NULL, 0), 6, 0x28, 0);
    assert_good(cmd(t, 0, 0, cdb_tur, 6, NULL, 0));
    stop(t);
}

static void test_empty_cd(void)
{
    T *t = start(false, "-device scsi-cd,scsi-id=3");
    const uint8_t cdb_cap[10] = { 0x25 };

    clear_ua(t, 3, 0);
    assert_sense(cmd(t, 3, 0, cdb_tur, 6, NULL, 0), 2, 0x3a, 0);
    assert_sense(cmd(t, 3, 0, cdb_cap, 10, NULL, 0), 2, 0x3a, 0);
    stop(t);
}

static void test_ctrl(void)
{
    T *t = start(false, NULL);
    uint8_t tmf[24] = { 0 }, resp[8];
    const uint8_t an[16] = { 1, 0, 0, 0, 1, 0, 0x40, 0 };

    clear_ua(t, 0, 0);
    /* LOGICAL UNIT RESET: FUNCTION COMPLETE, then a unit attention. */
    tmf[4] = 5;
    tmf[8] = 1;
    tmf[10] = 0x40;
    qts_memwrite(t->s, OUT_ADDR, tmf, sizeof(tmf));
    qts_memset(t->s, IN_ADDR, 0xee, 8);
    Buf b[2] = { { OUT_ADDR, 24, false }, { IN_ADDR, 1, true } };
    g_assert_cmpuint(vq_wait(t, 0, vq_add(t, 0, b, 2)), ==, 1);
    g_assert_cmphex(qts_readb(t->s, IN_ADDR), ==, 0);
    clear_ua(t, 0, 0);
    /* A target that does not exist. */
    tmf[9] = 9;
    qts_memwrite(t->s, OUT_ADDR, tmf, sizeof(tmf));
    vq_wait(t, 0, vq_add(t, 0, b, 2));
    g_assert_cmphex(qts_readb(t->s, IN_ADDR), ==, 3);
    /* CLEAR ACA is rejected. */
    tmf[4] = 2;
    tmf[9] = 0;
    qts_memwrite(t->s, OUT_ADDR, tmf, sizeof(tmf));
    vq_wait(t, 0, vq_add(t, 0, b, 2));
    g_assert_cmphex(qts_readb(t->s, IN_ADDR), ==, 11);
    /* Asynchronous notification query: no events, OK. */
    qts_memwrite(t->s, OUT_ADDR, an, sizeof(an));
    Buf b2[2] = { { OUT_ADDR, 16, false }, { IN_ADDR, 5, true } };
    g_assert_cmpuint(vq_wait(t, 0, vq_add(t, 0, b2, 2)), ==, 5);
    qts_memread(t->s, IN_ADDR, resp, 5);
    g_assert_cmphex(resp[0] | resp[1] | resp[2] | resp[3] | resp[4], ==, 0);
    stop(t);
}

static void test_intx(void)
{
    T *t = start(false, NULL);
    QTS *s = t->s;

    qts_irq_intercept_in(s, "ioapic");
    qts_pci_cfg_write(s, 1, 0, 0x63, 1, 11);    /* slot 4 INTA = PIRQD */
    clear_ua(t, 0, 0);
    g_assert_true(qts_get_irq(s, 11));
    g_assert_cmphex(read_isr(t), ==, 1);
    g_assert_false(qts_get_irq(s, 11));
    g_assert_cmphex(read_isr(t), ==, 0);
    /* The driver may ask for no interrupt. */
    qts_writew(s, t->vq[2].avail, 1);
    assert_good(cmd(t, 0, 0, cdb_tur, 6, NULL, 0));
    g_assert_false(qts_get_irq(s, 11));
    g_assert_cmphex(read_isr(t), ==, 0);
    /* INTx disable in the command register masks the line. */
    qts_writew(s, t->vq[2].avail, 0);
    cfg_w(s, 0x04, 2, 0x0407);
    assert_good(cmd(t, 0, 0, cdb_tur, 6, NULL, 0));
    g_assert_false(qts_get_irq(s, 11));
    g_assert_cmphex(cfg(s, 0x06, 2) & 0x08, ==, 0x08);  /* status.INTx */
    stop(t);
}

/* ---- malformed rings and chains ---- */

typedef struct Breaker {
    void (*fn)(T *t);
    const char *logged;
} Breaker;

static void desc_req(T *t, unsigned i, uint16_t flags, uint16_t next)
{
    write_desc(t, 2, i, REQ_ADDR, REQ_LEN, flags, next);
}

static void break_loop(T *t)
{
    desc_req(t, 0, 1, 0);                       /* next: itself */
    make_avail(t, 2, 0);
}

static void break_next(T *t)
{
    desc_req(t, 0, 1, QSIZE + 3);
    make_avail(t, 2, 0);
}

static void break_head(T *t)
{
    make_avail(t, 2, QSIZE);
}

static void break_avail_idx(T *t)
{
    qts_writew(t->s, t->vq[2].avail + 2, QSIZE + 1);
    notify(t, 2);
}

static void break_not_ram(T *t)
{
    write_desc(t, 2, 0, 0xd0000000, REQ_LEN, 1, 1);
    write_desc(t, 2, 1, RESP_ADDR, RESP_LEN, 2, 0);
    make_avail(t, 2, 0);
}

static void break_wrap(T *t)
{
    write_desc(t, 2, 0, 0xfffffffffffff000ULL, 0x2000, 1, 1);
    write_desc(t, 2, 1, RESP_ADDR, RESP_LEN, 2, 0);
    make_avail(t, 2, 0);
}

static void break_rom(T *t)
{
    desc_req(t, 0, 1, 1);
    write_desc(t, 2, 1, 0xffff0000, RESP_LEN, 2, 0);    /* BIOS ROM */
    make_avail(t, 2, 0);
}

static void break_indirect(T *t)
{
    desc_req(t, 0, 4, 0);
    make_avail(t, 2, 0);
}

static void break_order(T *t)
{
    write_desc(t, 2, 0, RESP_ADDR, RESP_LEN, 3, 1);     /* writable first */
    desc_req(t, 1, 0, 0);
    make_avail(t, 2, 0);
}

static void break_short(T *t)
{
    write_desc(t, 2, 0, REQ_ADDR, 10, 1, 1);
    write_desc(t, 2, 1, RESP_ADDR, RESP_LEN, 2, 0);
    make_avail(t, 2, 0);
}

static void break_ring(T *t)
{
    set_status(t, 0);
    set_status(t, S_ACK | S_DRIVER);
    qts_writel(t->s, MEM_BASE + 0x0c, 0);               /* select 0: 0 */
    qts_writel(t->s, MEM_BASE + 0x08, 1);
    qts_writel(t->s, MEM_BASE + 0x0c, 1);
    set_status(t, S_ACK | S_DRIVER | S_FEATURES_OK);
    queue_setup(t, 2, QSIZE);
    qts_writew(t->s, MEM_BASE + 0x16, 0);
    qts_writel(t->s, MEM_BASE + 0x28, 0xd0000000);      /* avail: no RAM */
    qts_writew(t->s, MEM_BASE + 0x1c, 1);
    set_status(t, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    notify(t, 0);
}

static void break_ctrl_type(T *t)
{
    const uint8_t req[24] = { 7 };
    Buf b[2] = { { OUT_ADDR, 24, false }, { IN_ADDR, 1, true } };

    qts_memwrite(t->s, OUT_ADDR, req, sizeof(req));
    vq_add(t, 0, b, 2);
}

static const Breaker breakers[] = {
    { break_loop, "loops" },
    { break_next, "chains to 19, outside the queue" },
    { break_head, "head descriptor 16 is outside" },
    { break_avail_idx, "17 entries ahead" },
    { break_not_ram, "0xd0000000 (+51) is not guest RAM" },
    { break_wrap, "0xfffffffffffff000 (+8192) is not guest RAM" },
    { break_rom, "is not writable guest RAM" },
    { break_indirect, "indirect descriptor" },
    { break_order, "readable descriptor 1 after a writable one" },
    { break_short, "cannot hold" },
    { break_ring, "cannot read the ring at 0xd0000002" },
    { break_ctrl_type, "control request of unknown type 7" },
};

static void test_malformed(void)
{
    T *t = start(false, NULL);
    const uint8_t cdb_inq[6] = { 0x12, 0, 0, 0, 36, 0 };
    uint8_t inq[36];

    qts_irq_intercept_in(t->s, "ioapic");
    qts_pci_cfg_write(t->s, 1, 0, 0x63, 1, 11);
    for (size_t i = 0; i < G_N_ELEMENTS(breakers); i++) {
        breakers[i].fn(t);
        g_assert_cmphex(get_status(t) & S_NEEDS_RESET, ==, S_NEEDS_RESET);
        assert_logged(t, breakers[i].logged);
        g_assert_cmpuint(used_idx(t, 2), ==, 0);
        /* A modern driver hears of it as a config change. */
        g_assert_cmphex(read_isr(t) & 2, ==, 2);
        /* Further kicks are ignored until a reset, which recovers. */
        notify(t, 2);
        g_assert_cmpuint(used_idx(t, 2), ==, 0);
        driver_init(t);
        g_assert_cmphex(get_status(t) & S_NEEDS_RESET, ==, 0);
        assert_good(cmd(t, 0, 0, cdb_inq, 6, inq, sizeof(inq)));
        driver_init(t);
    }
    /* Kicks of queues that do not exist change nothing. */
    notify(t, 7);
    notify(t, 100);
    g_assert_cmphex(get_status(t) & S_NEEDS_RESET, ==, 0);
    assert_logged(t, "notify for queue 100, which does not exist");
    stop(t);
}

/* A legacy driver's error: the status bit, no interrupt. */
static void test_malformed_legacy(void)
{
    T *t = start(true, NULL);

    desc_req(t, 0, 1, 0);
    make_avail(t, 2, 0);
    g_assert_cmphex(get_status(t) & S_NEEDS_RESET, ==, S_NEEDS_RESET);
    g_assert_cmphex(read_isr(t), ==, 0);
    driver_init(t);
    clear_ua(t, 0, 0);
    stop(t);
}

/* ---- thin provisioning and block sizes ---- */

static void pattern(uint8_t *buf, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = seed + i * 13;
    }
}

/* len bytes of the image at off equal buf, or are all c with buf NULL. */
static void assert_image(const char *path, off_t off, const uint8_t *buf,
                         int c, size_t len)
{
    g_autofree uint8_t *img = g_malloc(len);
    int fd = open(path, O_RDONLY);

    g_assert_cmpint(pread(fd, img, len, off), ==, len);
    close(fd);
    for (size_t i = 0; i < len; i++) {
        if (img[i] != (buf ? buf[i] : c)) {
            g_error("image byte %lld is 0x%02x, expected 0x%02x",
                    (long long)(off + i), img[i], buf ? buf[i] : c);
        }
    }
}

static Resp cmd_out(T *t, unsigned target, const uint8_t *cdb, size_t len,
                    const void *out, size_t out_len)
{
    const uint8_t lun[8] = { 1, target, 0x40, 0 };
    return cmd_lun(t, lun, cdb, len, out, out_len, NULL, 0);
}

/* A 1 MiB image of pattern bytes on a scsi-hd at target 2 (drive ws). */
static char *make_disk(void)
{
    g_autofree uint8_t *buf = g_malloc(1 << 20);
    char *path = NULL;
    int fd = g_file_open_tmp("kestrel-vscsi-lbp-XXXXXX", &path, NULL);

    pattern(buf, 1 << 20, 7);
    g_assert_cmpint(write(fd, buf, 1 << 20), ==, 1 << 20);
    close(fd);
    return path;
}

static T *start_disk(const char *path, const char *drive_opts,
                     const char *dev_opts)
{
    g_autofree char *extra = g_strdup_printf(
        "-drive if=none,id=ws,format=raw,file=%s%s "
        "-device scsi-hd,drive=ws,scsi-id=2%s", path, drive_opts, dev_opts);
    T *t = start(false, extra);
    clear_ua(t, 2, 0);
    return t;
}

static void test_write_same(void)
{
    g_autofree char *path = make_disk();
    T *t = start_disk(path, ",discard=unmap", "");
    uint8_t block[512], orig[1 << 14], big[1024];
    /* WRITE SAME(10) of a pattern, 3 blocks at the unaligned LBA 5 */
    const uint8_t ws10[10] = { 0x41, 0, 0, 0, 0, 5, 0, 0, 3, 0 };
    /* WRITE SAME(16) with NDOB: zeros, no data, 2 blocks at LBA 9 */
    const uint8_t ws16_ndob[16] = { 0x93, 0x01, [9] = 9, [13] = 2 };
    /* WRITE SAME(10) NDOB (QEMU's virtio-scsi-test sends it) at LBA 12 */
    const uint8_t ws10_ndob[10] = { 0x41, 0x01, 0, 0, 0, 12, 0, 0, 1, 0 };
    /* WRITE SAME(16) of zeros with UNMAP at LBA 20, 4 blocks */
    const uint8_t ws16_unmap[16] = { 0x93, 0x08, [9] = 20, [13] = 4 };
    static const uint8_t zeros[512];

    pattern(orig, sizeof(orig), 7);
    pattern(block, sizeof(block), 99);
    assert_good(cmd_out(t, 2, ws10, 10, block, sizeof(block)));
    assert_image(path, 4 * 512, orig + 4 * 512, 0, 512);
    for (unsigned lba = 5; lba < 8; lba++) {
        assert_image(path, lba * 512, block, 0, 512);
    }
    assert_image(path, 8 * 512, orig + 8 * 512, 0, 512);
    /* A buffer larger than one block: the first block, the rest is left */
    memcpy(big, block, 512);
    memset(big + 512, 0x5a, 512);
    Resp r = cmd_out(t, 2, ws10, 10, big, sizeof(big));
    assert_good(r);
    g_assert_cmpuint(r.resid, ==, 512);
    assert_image(path, 7 * 512, block, 0, 512);

    assert_good(cmd_out(t, 2, ws16_ndob, 16, NULL, 0));
    assert_image(path, 9 * 512, NULL, 0, 2 * 512);
    assert_image(path, 11 * 512, orig + 11 * 512, 0, 512);
    assert_good(cmd_out(t, 2, ws10_ndob, 10, NULL, 0));
    assert_image(path, 12 * 512, NULL, 0, 512);
    assert_good(cmd_out(t, 2, ws16_unmap, 16, zeros, sizeof(zeros)));
    assert_image(path, 20 * 512, NULL, 0, 4 * 512);
    assert_image(path, 24 * 512, orig + 24 * 512, 0, 512);

    /* A pattern over more than one 1 MiB piece: the whole 1 MiB disk. */
    const uint8_t ws_all[16] = { 0x93, 0, [12] = 0x08, [13] = 0 };
    assert_good(cmd_out(t, 2, ws_all, 16, block, sizeof(block)));
    assert_image(path, 0, block, 0, 512);
    assert_image(path, (1 << 20) - 512, block, 0, 512);

    /* No count (WSNZ), ANCHOR, past the end, too long, short buffer. */
    const uint8_t ws_zero[10] = { 0x41, 0, 0, 0, 0, 5, 0, 0, 0, 0 };
    const uint8_t ws_anchor[10] = { 0x41, 0x10, 0, 0, 0, 5, 0, 0, 1, 0 };
    const uint8_t ws_past[10] = { 0x41, 0, 0, 0, 0x07, 0xff, 0, 0, 2, 0 };
    const uint8_t ws_long[16] = { 0x93, 0x01, [10] = 0x01 };
    assert_sense(cmd_out(t, 2, ws_zero, 10, zeros, 512), 5, 0x24, 0);
    assert_sense(cmd_out(t, 2, ws_anchor, 10, zeros, 512), 5, 0x24, 0);
    assert_sense(cmd_out(t, 2, ws_past, 10, zeros, 512), 5, 0x21, 0);
    assert_image(path, (1 << 20) - 512, block, 0, 512);
    assert_sense(cmd_out(t, 2, ws_long, 16, NULL, 0), 5, 0x24, 0);
    g_assert_cmpuint(cmd_out(t, 2, ws10, 10, zeros, 100).response, ==, 1);
    /* The CD-ROM has no WRITE SAME. */
    clear_ua(t, 0, 0);
    assert_sense(cmd_out(t, 0, ws10, 10, zeros, 512), 5, 0x20, 0);
    stop(t);

    /* A read-only disk refuses, the image stays. */
    t = start_disk(path, ",readonly=on", "");
    assert_sense(cmd_out(t, 2, ws16_ndob, 16, NULL, 0), 7, 0x27, 0);
    assert_image(path, 0, block, 0, 512);
    stop(t);
    unlink(path);
}

/* An UNMAP parameter list: header, then n (LBA, count) descriptors. */
static size_t unmap_list(uint8_t *buf, const uint64_t (*ranges)[2], int n)
{
    size_t len = 8 + 16 * n;

    memset(buf, 0, len);
    buf[0] = (len - 2) >> 8;
    buf[1] = len - 2;
    buf[2] = (16 * n) >> 8;
    buf[3] = 16 * n;
    for (int i = 0; i < n; i++) {
        uint8_t *d = buf + 8 + 16 * i;
        for (int b = 0; b < 8; b++) {
            d[b] = ranges[i][0] >> (56 - 8 * b);
        }
        for (int b = 0; b < 4; b++) {
            d[8 + b] = ranges[i][1] >> (24 - 8 * b);
        }
    }
    return len;
}

static Resp unmap(T *t, unsigned target, uint8_t *list, size_t len)
{
    const uint8_t cdb[10] = { 0x42, 0, 0, 0, 0, 0, 0, len >> 8, len, 0 };
    return cmd_out(t, target, cdb, 10, list, len);
}

static void test_unmap(void)
{
    g_autofree char *path = make_disk();
    T *t = start_disk(path, ",discard=unmap", "");
    uint8_t orig[1 << 13], list[8 + 16 * 256];
    const uint64_t ranges[][2] = { { 3, 2 }, { 10, 1 }, { 14, 0 } };
    size_t len;

    pattern(orig, sizeof(orig), 7);
    len = unmap_list(list, ranges, 3);
    assert_good(unmap(t, 2, list, len));
    assert_image(path, 2 * 512, orig + 2 * 512, 0, 512);
    assert_image(path, 3 * 512, NULL, 0, 2 * 512);
    assert_image(path, 5 * 512, orig + 5 * 512, 0, 5 * 512);
    assert_image(path, 10 * 512, NULL, 0, 512);
    assert_image(path, 11 * 512, orig + 11 * 512, 0, 5 * 512);

    /* A range past the end: nothing is unmapped, not even the first. */
    const uint64_t bad[][2] = { { 0, 1 }, { 2047, 2 } };
    len = unmap_list(list, bad, 2);
    assert_sense(unmap(t, 2, list, len), 5, 0x21, 0);
    assert_image(path, 0, orig, 0, 512);
    /* Lengths: none is fine, below 8 or claiming more than sent is not. */
    assert_good(unmap(t, 2, list, 0));
    assert_sense(unmap(t, 2, list, 6), 5, 0x1a, 0);
    len = unmap_list(list, ranges, 1);
    list[3] = 32;                               /* two descriptors? */
    assert_sense(unmap(t, 2, list, len), 5, 0x1a, 0);
    list[3] = 16;
    list[1] = 0x40;                             /* data length */
    assert_sense(unmap(t, 2, list, len), 5, 0x1a, 0);
    /* A partial last descriptor is ignored (SBC-3). */
    const uint64_t first[][2] = { { 0, 1 } };
    len = unmap_list(list, first, 1);
    list[3] = 8;
    assert_good(unmap(t, 2, list, len));
    assert_image(path, 0, orig, 0, 512);
    /* More descriptors than the Block Limits page allows, ANCHOR. */
    uint64_t many[256][2] = { { 0 } };
    len = unmap_list(list, many, 256);
    assert_sense(unmap(t, 2, list, len), 5, 0x26, 0);
    const uint8_t anchor[10] = { 0x42, 0x01, 0, 0, 0, 0, 0, 0, 24, 0 };
    len = unmap_list(list, first, 1);
    assert_sense(cmd_out(t, 2, anchor, 10, list, len), 5, 0x24, 0);
    stop(t);

    /* discard=ignore (the default): done, the data stays (LBPRZ 0). */
    t = start_disk(path, "", "");
    len = unmap_list(list, first, 1);
    assert_good(unmap(t, 2, list, len));
    assert_image(path, 0, orig, 0, 512);
    stop(t);
    t = start_disk(path, ",readonly=on", "");
    assert_sense(unmap(t, 2, list, len), 7, 0x27, 0);
    stop(t);
    unlink(path);
}

static uint8_t vpd(T *t, unsigned target, uint8_t page, uint8_t *buf)
{
    const uint8_t cdb[6] = { 0x12, 1, page, 0, 64, 0 };
    Resp r = cmd(t, target, 0, cdb, 6, buf, 64);
    return r.status;
}

static void test_provisioning_pages(void)
{
    g_autofree char *path = make_disk();
    T *t = start_disk(path, ",discard=unmap", "");
    const uint8_t cap16[16] = { 0x9e, 0x10, [13] = 32 };
    uint8_t buf[64];

    g_assert_cmpuint(vpd(t, 2, 0x00, buf), ==, 0);
    g_assert_cmpmem(buf + 4, buf[3], "\x00\x83\xb0\xb2", 4);
    g_assert_cmpuint(vpd(t, 2, 0xb0, buf), ==, 0);
    g_assert_cmphex(buf[3], ==, 0x3c);
    g_assert_cmphex(buf[4], ==, 0x01);                  /* WSNZ */
    g_assert_cmphex(ld_be32(buf + 20), ==, 0x200000);   /* 1 GiB in UNMAP */
    g_assert_cmphex(ld_be32(buf + 24), ==, 255);        /* descriptors */
    g_assert_cmphex(ld_be32(buf + 28), ==, 1);          /* granularity */
    g_assert_cmphex(ld_be64(buf + 36), ==, 0x200000);   /* WRITE SAME */
    g_assert_cmpuint(vpd(t, 2, 0xb2, buf), ==, 0);
    g_assert_cmphex(buf[5], ==, 0xe4);  /* LBPU, LBPWS, LBPWS10, LBPRZ */
    g_assert_cmphex(buf[6], ==, 0x02);                  /* thin */
    assert_good(cmd(t, 2, 0, cap16, 16, buf, 32));
    g_assert_cmphex(buf[14], ==, 0xc0);                 /* LBPME, LBPRZ */
    /* The CD-ROM has none of it. */
    clear_ua(t, 0, 0);
    g_assert_cmpuint(vpd(t, 0, 0x00, buf), ==, 0);
    g_assert_cmpuint(buf[3], ==, 2);
    g_assert_cmpuint(vpd(t, 0, 0xb0, buf), ==, 2);
    stop(t);

    t = start_disk(path, "", "");
    g_assert_cmpuint(vpd(t, 2, 0xb2, buf), ==, 0);
    g_assert_cmphex(buf[5], ==, 0xe0);                  /* no LBPRZ */
    assert_good(cmd(t, 2, 0, cap16, 16, buf, 32));
    g_assert_cmphex(buf[14], ==, 0x80);
    stop(t);
    unlink(path);
}

static void test_block_size(void)
{
    g_autofree char *path = make_disk();
    T *t = start_disk(path, ",discard=unmap",
                      ",logical_block_size=4k,physical_block_size=4096");
    const uint8_t cap10[10] = { 0x25 };
    const uint8_t cap16[16] = { 0x9e, 0x10, [13] = 32 };
    const uint8_t rd[10] = { 0x28, 0, 0, 0, 0, 3, 0, 0, 1, 0 };
    const uint8_t wr[10] = { 0x2a, 0, 0, 0, 0, 5, 0, 0, 1, 0 };
    const uint64_t last[][2] = { { 255, 1 } }, past[][2] = { { 255, 2 } };
    uint8_t buf[4096], orig[1 << 14], list[24];

    assert_good(cmd(t, 2, 0, cap10, 10, buf, 8));
    g_assert_cmphex(ld_be32(buf), ==, 255);             /* 1 MiB / 4 KiB */
    g_assert_cmphex(ld_be32(buf + 4), ==, 4096);
    assert_good(cmd(t, 2, 0, rd, 10, buf, sizeof(buf)));
    pattern(orig, sizeof(orig), 7);
    g_assert_cmpmem(buf, 4096, orig + 3 * 4096, 4096);
    pattern(buf, sizeof(buf), 1);
    assert_good(cmd_out(t, 2, wr, 10, buf, sizeof(buf)));
    assert_image(path, 5 * 4096, buf, 0, 4096);
    /* UNMAP ranges are in 4 KiB blocks (QEMU issue #345). */
    assert_good(unmap(t, 2, list, unmap_list(list, last, 1)));
    assert_image(path, 255 * 4096, NULL, 0, 4096);
    assert_sense(unmap(t, 2, list, unmap_list(list, past, 1)), 5, 0x21, 0);
    uint8_t page[64];
    g_assert_cmpuint(vpd(t, 2, 0xb0, page), ==, 0);
    g_assert_cmphex(ld_be32(page + 20), ==, 0x40000);   /* 1 GiB */
    stop(t);

    /* 512-byte logical blocks in 4 KiB physical ones: exponent 3. */
    t = start_disk(path, "", ",physical_block_size=4k");
    assert_good(cmd(t, 2, 0, cap16, 16, buf, 32));
    g_assert_cmphex(ld_be32(buf + 8), ==, 512);
    g_assert_cmphex(buf[13], ==, 3);
    g_assert_cmpuint(vpd(t, 2, 0xb0, page), ==, 0);
    g_assert_cmphex(ld_be16(page + 6), ==, 8);
    g_assert_cmphex(ld_be32(page + 28), ==, 8);
    stop(t);
    unlink(path);
}

/* QEMU's virtio-scsi-test disk: null-co under blkdebug, 4 KiB aligned. */
static void test_blkdebug_null(void)
{
    T *t = start(false, "-drive file=blkdebug::null-co://,if=none,id=nz,"
                        "file.image.read-zeroes=on,format=raw,file.align=4k "
                        "-device scsi-hd,drive=nz,scsi-id=3");
    const uint8_t cap10[10] = { 0x25 };
    const uint8_t rd[10] = { 0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0 };
    const uint8_t ws[10] = { 0x41, 0, 0, 0, 0, 1, 0, 0x33, 0, 0 };
    uint8_t buf[512] = { 1 };

    clear_ua(t, 3, 0);
    assert_good(cmd(t, 3, 0, cap10, 10, buf, 8));
    g_assert_cmphex(ld_be32(buf), ==, (1u << 21) - 1);  /* 1 GiB */
    assert_good(cmd(t, 3, 0, rd, 10, buf, sizeof(buf)));
    for (unsigned i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, 0);
    }
    buf[0] = 1;
    assert_good(cmd_out(t, 3, ws, 10, buf, sizeof(buf)));
    stop(t);
}

/* ---- hotplug (QMP device_add/device_del, the event queue) ---- */

static JsonNode *qmp(T *t, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static JsonNode *qmp(T *t, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_autofree char *req = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return kqmp_cmd(t->qmp, "%s", req);
}

static void qmp_ok(T *t, const char *req)
{
    json_node_unref(kqmp_return(qmp(t, "%s", req)));
}

/* The request fails with class cls and a description containing desc. */
static void qmp_fails(T *t, const char *req, const char *cls,
                      const char *desc)
{
    JsonNode *r = qmp(t, "%s", req);
    const char *d = NULL;

    g_assert_cmpstr(kqmp_error(r, &d), ==, cls);
    if (!strstr(d, desc)) {
        g_error("%s: expected '%s' in '%s'", req, desc, d);
    }
    json_node_unref(r);
}

/* An event buffer for the device to fill. */
static uint16_t add_event_buffer(T *t, unsigned i)
{
    Buf b = { EVT_ADDR + 16 * i, 16, true };
    qts_memset(t->s, b.addr, 0xee, 16);
    return vq_add(t, 1, &b, 1);
}

/* The event in buffer i (returned as head): event, lun[1..3], reason. */
static void assert_event(T *t, uint16_t head, unsigned i, uint32_t event,
                         unsigned target, unsigned lun, uint32_t reason)
{
    uint8_t e[16];

    g_assert_cmpuint(vq_wait(t, 1, head), ==, 16);
    qts_memread(t->s, EVT_ADDR + 16 * i, e, 16);
    g_assert_cmphex(ldl_le(e), ==, event);
    if (event & 0xff) {
        g_assert_cmphex(e[4], ==, 1);
        g_assert_cmphex(e[5], ==, target);
        g_assert_cmphex(ld_be16(e + 6), ==, 0x4000 | lun);
    }
    g_assert_cmphex(ldl_le(e + 12), ==, reason);
}

static void test_hotplug(void)
{
    g_autofree char *path = make_disk();
    g_autofree char *extra = g_strdup_printf(
        "-drive if=none,id=hp,format=raw,file=%s", path);
    T *t = start_features(false, 2 /* HOTPLUG */, extra);
    const uint8_t cdb_inq[6] = { 0x12, 0, 0, 0, 36, 0 };
    uint8_t inq[36];

    g_assert_cmpuint(cmd(t, 5, 0, cdb_tur, 6, NULL, 0).response, ==, 3);
    uint16_t h0 = add_event_buffer(t, 0), h1 = add_event_buffer(t, 1);
    qmp_ok(t, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-hd',"
              " 'id': 'hot', 'drive': 'hp', 'scsi-id': 5, 'lun': '3'}}");
    assert_event(t, h0, 0, 1, 5, 3, 1);         /* TRANSPORT_RESET, RESCAN */
    assert_good(cmd(t, 5, 3, cdb_inq, 6, inq, sizeof(inq)));
    g_assert_cmphex(inq[0], ==, 0);
    clear_ua(t, 5, 3);
    /* A second LUN on that target: the first hears the inventory changed. */
    qmp_ok(t, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-cd',"
              " 'id': 'hotcd', 'scsi-id': 5, 'lun': 4}}");
    assert_event(t, h1, 1, 1, 5, 4, 1);
    assert_sense(cmd(t, 5, 3, cdb_tur, 6, NULL, 0), 6, 0x3f, 0x0e);
    assert_good(cmd(t, 5, 3, cdb_tur, 6, NULL, 0));

    /* device_del: the event at once, the LUN gone; no buffer left, so
     * the next event says some were missed. */
    qmp_ok(t, "{'execute': 'device_del', 'arguments': {'id': 'hotcd'}}");
    JsonNode *ev = kqmp_event(t->qmp, "DEVICE_DELETED");
    g_assert_cmpstr(kqmp_event_data_str(ev, "device"), ==, "hotcd");
    g_assert_cmpstr(kqmp_event_data_str(ev, "path"), ==,
                    "/machine/peripheral/hotcd");
    json_node_unref(ev);
    assert_sense(cmd(t, 5, 4, cdb_tur, 6, NULL, 0), 5, 0x25, 0);
    h0 = add_event_buffer(t, 2);
    assert_event(t, h0, 2, 0x80000000, 0, 0, 0);  /* NO_EVENT, missed */
    h0 = add_event_buffer(t, 3);
    qmp_ok(t, "{'execute': 'device_del', 'arguments': "
              "{'id': '/machine/peripheral/hot'}}");
    json_node_unref(kqmp_event(t->qmp, "DEVICE_DELETED"));
    assert_event(t, h0, 3, 1, 5, 3, 2);         /* REMOVED */
    g_assert_cmpuint(cmd(t, 5, 3, cdb_tur, 6, NULL, 0).response, ==, 3);

    /* The drive is free again; the same id can come back. */
    qmp_ok(t, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-hd',"
              " 'id': 'hot', 'drive': 'hp', 'scsi-id': 6}}");
    clear_ua(t, 6, 0);
    /* An event buffer too small breaks the device like any bad buffer. */
    Buf small = { EVT_ADDR, 8, true };
    vq_add(t, 1, &small, 1);
    qmp_ok(t, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-cd',"
              " 'scsi-id': 7}}");
    g_assert_cmphex(get_status(t) & S_NEEDS_RESET, ==, S_NEEDS_RESET);
    assert_logged(t, "event buffer with 0 readable and 8 writable bytes");
    driver_init(t);
    clear_ua(t, 7, 0);
    stop(t);

    /* A driver without VIRTIO_SCSI_F_HOTPLUG hears nothing. */
    t = start_features(false, 0, extra);
    h0 = add_event_buffer(t, 0);
    qmp_ok(t, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-hd',"
              " 'drive': 'hp', 'scsi-id': 5}}");
    g_assert_cmpuint(used_idx(t, 1), ==, 0);
    clear_ua(t, 5, 0);
    stop(t);
    unlink(path);
}

static void test_hotplug_errors(void)
{
    g_autofree char *path = make_disk();
    g_autofree char *extra = g_strdup_printf(
        "-drive if=none,id=hp,format=raw,file=%s -device isa-serial,id=ser",
        path);
    T *t = start(false, extra);
    const char *G = "GenericError";

    qmp_fails(t, "{'execute': 'device_add', 'arguments': {'driver': 'nope'}}",
              G, "'nope' is not a valid device model name");
    qmp_fails(t, "{'execute': 'device_add', 'arguments': {'id': 'x'}}",
              G, "Parameter 'driver' is missing");
    qmp_fails(t, "{'execute': 'device_add', 'arguments': "
                 "{'driver': 'isa-serial'}}",
              G, "Bus 'isa.0' does not support hotplugging");
    qmp_fails(t, "{'execute': 'device_add', 'arguments': "
                 "{'driver': 'virtio-scsi-pci'}}",
              G, "Bus 'pci.0' does not support hotplugging");
    qmp_fails(t, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-hd',"
                 " 'drive': 'hp', 'bogus': 1}}",
              G, "Property 'scsi-hd.bogus' not found");
    qmp_fails(t, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-hd',"
                 " 'drive': 'hp', 'lun': [1]}}",
              G, "Parameter 'lun' expects");
    qmp_fails(t, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-hd',"
                 " 'drive': 'hp', 'bus': 'nope.0'}}",
              G, "SCSI bus 'nope.0' not found");
    qmp_fails(t, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-hd',"
                 " 'drive': 'hp', 'scsi-id': 1, 'lun': 2}}",
              G, "already in use");
    qmp_fails(t, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-hd',"
                 " 'drive': 'hp', 'logical_block_size': 1000}}",
              G, "it's not a power of 2");
    qmp_fails(t, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-hd',"
                 " 'drive': 'hp', 'logical_block_size': 256}}",
              G, "minimum: 512");
    qmp_fails(t, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-hd',"
                 " 'drive': 'hp', 'logical_block_size': 4096}}",
              G, "logical_block_size > physical_block_size not supported");
    qmp_fails(t, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-cd',"
                 " 'logical_block_size': 4096}}",
              G, "Property 'scsi-cd.logical_block_size' not found");
    /* None of the failures kept the drive: it still plugs in. */
    qmp_ok(t, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-hd',"
              " 'id': 'd1', 'drive': 'hp'}}");
    qmp_fails(t, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-cd',"
                 " 'id': 'd1'}}", G, "Duplicate device ID 'd1'");
    qmp_fails(t, "{'execute': 'device_add', 'arguments': {'driver': 'scsi-hd',"
                 " 'drive': 'hp'}}", G, "in use");

    qmp_fails(t, "{'execute': 'device_del', 'arguments': {'id': 'nope'}}",
              "DeviceNotFound", "Device 'nope' not found");
    qmp_fails(t, "{'execute': 'device_del', 'arguments': {'id': 'scsi0'}}",
              G, "Bus 'pci.0' does not support hotplugging");
    qmp_fails(t, "{'execute': 'device_del', 'arguments': {'id': 'ser'}}",
              G, "Bus 'isa.0' does not support hotplugging");

    /* HMP: the same commands. */
    JsonNode *r = qmp(t, "{'execute': 'human-monitor-command', 'arguments': "
                         "{'command-line': 'device_del d1'}}");
    g_assert_cmpstr(json_node_get_string(kqmp_return(r)), ==, "");
    json_node_unref(r);
    json_node_unref(kqmp_event(t->qmp, "DEVICE_DELETED"));
    r = qmp(t, "{'execute': 'human-monitor-command', 'arguments': "
               "{'command-line': 'device_add scsi-hd,drive=hp,scsi-id=9'}}");
    g_assert_cmpstr(json_node_get_string(kqmp_return(r)), ==, "");
    json_node_unref(r);
    clear_ua(t, 9, 0);
    r = qmp(t, "{'execute': 'human-monitor-command', 'arguments': "
               "{'command-line': 'device_add isa-serial'}}");
    g_assert_nonnull(strstr(json_node_get_string(kqmp_return(r)),
                            "Error: Bus 'isa.0' does not support"));
    json_node_unref(r);
    r = qmp(t, "{'execute': 'human-monitor-command', 'arguments': "
               "{'command-line': 'device_del nope'}}");
    g_assert_nonnull(strstr(json_node_get_string(kqmp_return(r)),
                            "Error: Device 'nope' not found"));
    json_node_unref(r);
    stop(t);
    unlink(path);
}

static void test_iothread(void)
{
    T *t = start(false, "-object iothread,id=io0,poll-max-ns=100 "
                        "-object iothread,id=io1 "
                        "-device virtio-scsi-pci,id=s2,iothread=io0");
    JsonNode *r = qmp(t, "{'execute': 'query-iothreads'}");
    JsonArray *a = json_node_get_array(kqmp_return(r));

    g_assert_cmpuint(json_array_get_length(a), ==, 2);
    JsonObject *o = json_array_get_object_element(a, 0);
    g_assert_cmpstr(json_object_get_string_member(o, "id"), ==, "io0");
    g_assert_cmpint(json_object_get_int_member(o, "poll-max-ns"), ==, 100);
    g_assert_cmpint(json_object_get_int_member(o, "thread-id"), >, 0);
    json_node_unref(r);
    r = qmp(t, "{'execute': 'qom-get', 'arguments': "
               "{'path': '/objects/io1', 'property': 'type'}}");
    g_assert_cmpstr(json_node_get_string(kqmp_return(r)), ==, "iothread");
    json_node_unref(r);
    /* The one a device uses stays; the other may go. */
    qmp_fails(t, "{'execute': 'object-del', 'arguments': {'id': 'io0'}}",
              "GenericError", "in use");
    qmp_ok(t, "{'execute': 'object-del', 'arguments': {'id': 'io1'}}");
    qmp_ok(t, "{'execute': 'object-add', 'arguments': "
              "{'qom-type': 'iothread', 'id': 'io2', 'aio-max-batch': 4}}");
    /* Commands work as before (in the main loop). */
    clear_ua(t, 0, 0);
    stop(t);
}

/* ---- command-line errors ---- */

static void expect_error(const char *args, const char *msg)
{
    g_autofree char *cmdline = g_strdup_printf(
        "%s -machine accel=qtest -display none -nodefaults %s",
        g_getenv("QTEST_QEMU_BINARY"), args);
    g_auto(GStrv) argv = g_strsplit(cmdline, " ", 0);
    g_autofree char *err = NULL;
    int status;

    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, NULL, &err, &status, NULL));
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    if (!strstr(err, msg)) {
        g_error("'%s': expected '%s' in: %s", args, msg, err);
    }
}

static void test_cmdline(void)
{
    expect_error("-device scsi-cd", "no SCSI bus");
    expect_error("-device virtio-scsi -device scsi-cd,bus=nope.0",
                 "SCSI bus 'nope.0' not found");
    expect_error("-device virtio-scsi -device scsi-cd,scsi-id=256",
                 "bad scsi device id");
    expect_error("-device virtio-scsi -device scsi-cd,lun=16384",
                 "bad scsi device lun");
    expect_error("-device virtio-scsi -device scsi-cd,channel=1",
                 "channel");
    expect_error("-device virtio-scsi -device scsi-cd,scsi-id=2 "
                 "-device scsi-cd,scsi-id=2", "already in use");
    expect_error("-device virtio-scsi -device scsi-hd", "drive property");
    expect_error("-device virtio-scsi-pci,num_queues=0", "num_queues");
    expect_error("-device virtio-scsi,virtqueue_size=100",
                 "virtqueue_size");
    /* -global by the alias reaches the device by its name. */
    expect_error("-global virtio-scsi.num_queues=0 -device virtio-scsi-pci",
                 "num_queues");
    expect_error("-device virtio-scsi,iothread=nope",
                 "Property 'virtio-scsi-pci.iothread' can't find value "
                 "'nope'");
    expect_error("-object rng-builtin,id=r0 -device virtio-scsi,iothread=r0",
                 "'r0' is a rng-builtin, not an iothread");
    expect_error("-object iothread,id=t0,poll-grow=x", "poll-grow");
    g_autofree char *bs = g_strdup_printf(
        "-device virtio-scsi -drive if=none,id=d,format=raw,file=%s "
        "-device scsi-hd,drive=d,physical_block_size=3k", hd_path);
    expect_error(bs, "Property 'scsi-hd.physical_block_size' doesn't take "
                 "value '3k', it's not a power of 2");
    /* QEMU's nested -drive options for null-co under blkdebug. */
    expect_error("-drive if=none,file=blkdebug::null-co://,file.align=3k",
                 "Cannot meet constraints with align 3072");
    g_autofree char *align = g_strdup_printf(
        "-drive if=none,format=raw,file=%s,file.align=4k", hd_path);
    expect_error(align, "Block protocol 'file' doesn't support the option "
                 "'align'");
    g_autofree char *rz = g_strdup_printf(
        "-drive if=none,format=raw,file=blkdebug::%s,"
        "file.image.read-zeroes=on", hd_path);
    expect_error(rz, "Block protocol 'file' doesn't support the option "
                 "'read-zeroes'");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cd_path = make_image(CD_BLOCKS, 2048, cd_byte);
    hd_path = make_image(HD_BLOCKS, 512, hd_byte);

    g_test_add_func("/virtio-scsi/pci", test_pci);
    g_test_add_func("/virtio-scsi/config", test_config);
    g_test_add_func("/virtio-scsi/modern", test_modern);
    g_test_add_func("/virtio-scsi/legacy", test_legacy);
    g_test_add_func("/virtio-scsi/errors", test_errors);
    g_test_add_func("/virtio-scsi/report-luns", test_report_luns);
    g_test_add_func("/virtio-scsi/hd-write", test_hd_write);
    g_test_add_func("/virtio-scsi/cd-commands", test_cd_commands);
    g_test_add_func("/virtio-scsi/empty-cd", test_empty_cd);
    g_test_add_func("/virtio-scsi/ctrl", test_ctrl);
    g_test_add_func("/virtio-scsi/intx", test_intx);
    g_test_add_func("/virtio-scsi/malformed", test_malformed);
    g_test_add_func("/virtio-scsi/malformed-legacy", test_malformed_legacy);
    g_test_add_func("/virtio-scsi/write-same", test_write_same);
    g_test_add_func("/virtio-scsi/unmap", test_unmap);
    g_test_add_func("/virtio-scsi/provisioning-pages",
                    test_provisioning_pages);
    g_test_add_func("/virtio-scsi/block-size", test_block_size);
    g_test_add_func("/virtio-scsi/blkdebug-null", test_blkdebug_null);
    g_test_add_func("/virtio-scsi/hotplug", test_hotplug);
    g_test_add_func("/virtio-scsi/hotplug-errors", test_hotplug_errors);
    g_test_add_func("/virtio-scsi/iothread", test_iothread);
    g_test_add_func("/virtio-scsi/cmdline", test_cmdline);

    int ret = g_test_run();
    unlink(cd_path);
    unlink(hd_path);
    g_free(cd_path);
    g_free(hd_path);
    return ret;
}
