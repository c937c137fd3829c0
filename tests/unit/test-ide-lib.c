/* The IDE test machine and its port helpers; see test-ide-lib.h. */
#include "test-ide-lib.h"
#include "block/block.h"
#include <fcntl.h>
#include <unistd.h>

BlockBackend *hd_blk, *cd_blk, *ro_blk;
char *hd_path, *cd_path, *cd2_path;
static char *ro_path;

uint8_t hd_byte(uint64_t lba, unsigned off)
{
    if (lba >= HD_PATTERN_SECTORS &&
        (lba < HD_HIGH_LBA || lba >= HD_HIGH_LBA + 20)) {
        return 0;
    }
    return (lba * 7 + off * 13 + (lba >> 8)) ^ (off >> 8) ^ 0x3c;
}

uint8_t cd_byte(uint32_t lba, unsigned off)
{
    return (lba * 31 + off * 3) ^ (off >> 8) ^ 0xc5;
}

uint8_t cd2_byte(uint32_t lba, unsigned off)
{
    return cd_byte(lba, off) ^ 0xff;
}

static char *make_image(uint64_t size, uint64_t fill_from, uint64_t fill_len,
                        unsigned sector, uint8_t (*fn)(uint64_t, unsigned))
{
    char *path = NULL;
    int fd = g_file_open_tmp("kestrel-ide-XXXXXX", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    g_autofree uint8_t *buf = g_malloc(sector);
    for (uint64_t lba = fill_from; lba < fill_from + fill_len; lba++) {
        for (unsigned i = 0; i < sector; i++) {
            buf[i] = fn(lba, i);
        }
        g_assert_cmpint(pwrite(fd, buf, sector, lba * sector), ==, sector);
    }
    close(fd);
    return path;
}

static uint8_t cd_fn(uint64_t lba, unsigned off) { return cd_byte(lba, off); }
static uint8_t cd2_fn(uint64_t lba, unsigned off) { return cd2_byte(lba, off); }

/* discard=unmap: the TRIM tests want the zeros (one test swaps it). */
static BlockBackend *open_raw(const char *path, bool ro)
{
    BlockOpenOptions o = { .filename = path, .format = "raw", .read_only = ro,
                           .discard_unmap = true };
    Error *err = NULL;
    BlockBackend *blk = blk_open(&o, &err);
    if (!blk) {
        g_error("%s: %s", path, err->msg);
    }
    return blk;
}

void ide_test_init(void)
{
    Error *err = NULL;

    test_board_init();
    block_attach_main_loop();
    PCIIDEState *d = piix3_ide_init(test_bus);

    hd_path = make_image(HD_SECTORS * 512, 0, HD_PATTERN_SECTORS, 512, hd_byte);
    int fd = open(hd_path, O_WRONLY);
    g_assert_cmpint(fd, >=, 0);
    for (uint64_t lba = HD_HIGH_LBA; lba < HD_HIGH_LBA + 20; lba++) {
        uint8_t buf[512];
        for (int i = 0; i < 512; i++) {
            buf[i] = hd_byte(lba, i);
        }
        g_assert_cmpint(pwrite(fd, buf, 512, lba * 512), ==, 512);
    }
    close(fd);
    cd_path = make_image(CD_SECTORS * 2048, 0, CD_SECTORS, 2048, cd_fn);
    cd2_path = make_image(100 * 2048, 0, 100, 2048, cd2_fn);
    ro_path = make_image(RO_SECTORS * 512, 0, RO_SECTORS, 512, hd_byte);

    hd_blk = open_raw(hd_path, false);
    cd_blk = open_raw(cd_path, true);
    ro_blk = open_raw(ro_path, true);
    if (!ide_drive_attach(&d->bus[0], 0, IDE_HD, hd_blk, NULL, &err) ||
        !ide_drive_attach(&d->bus[1], 0, IDE_CD, cd_blk, NULL, &err) ||
        !ide_drive_attach(&d->bus[1], 1, IDE_HD, ro_blk, NULL, &err)) {
        g_error("attach: %s", err->msg);
    }
    devices_reset_all();

    /* As firmware would: BAR4, I/O decode and bus mastering on. */
    cfg_write(IDE_DEVFN, PCI_BASE_ADDRESS_0 + 16, BMDMA_BASE, 4);
    cfg_write(IDE_DEVFN, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
}

void ide_test_cleanup(void)
{
    blk_close_all();
    unlink(hd_path);
    unlink(cd_path);
    unlink(cd2_path);
    unlink(ro_path);
}

static void step(void)
{
    if (!g_main_context_iteration(NULL, FALSE)) {
        g_usleep(100);
    }
}

uint8_t wait_not_busy(uint16_t base)
{
    uint16_t ctl = base == PRI ? PRI_CTL : SEC_CTL;
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    uint8_t st;

    while (((st = inb(ctl)) & ATA_BSY) && g_get_monotonic_time() < end) {
        step();
    }
    return st;
}

bool wait_irq(int irq)
{
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (!isa_level[irq] && g_get_monotonic_time() < end) {
        step();
    }
    return isa_level[irq];
}

void channel_reset(uint16_t base)
{
    uint16_t ctl = base == PRI ? PRI_CTL : SEC_CTL;

    outb(ctl, ATA_CTL_SRST);
    outb(ctl, 0);
    wait_not_busy(base);
    bm_stop(base == PRI ? 0 : 1);
    bm_clear(base == PRI ? 0 : 1);
    g_assert_cmpint(isa_level[base == PRI ? 14 : 15], ==, 0);
}

void tf_lba28(uint16_t base, int dev, uint32_t lba, uint8_t count)
{
    outb(base + ATA_REG_SELECT, 0xe0 | dev << 4 | ((lba >> 24) & 0x0f));
    outb(base + ATA_REG_NSECTOR, count);
    outb(base + ATA_REG_SECTOR, lba);
    outb(base + ATA_REG_LCYL, lba >> 8);
    outb(base + ATA_REG_HCYL, lba >> 16);
}

void tf_lba48(uint16_t base, int dev, uint64_t lba, uint16_t count)
{
    outb(base + ATA_REG_SELECT, 0x40 | dev << 4);
    outb(base + ATA_REG_NSECTOR, count >> 8);
    outb(base + ATA_REG_NSECTOR, count);
    outb(base + ATA_REG_SECTOR, lba >> 24);
    outb(base + ATA_REG_SECTOR, lba);
    outb(base + ATA_REG_LCYL, lba >> 32);
    outb(base + ATA_REG_LCYL, lba >> 8);
    outb(base + ATA_REG_HCYL, lba >> 40);
    outb(base + ATA_REG_HCYL, lba >> 16);
}

void pio_in(uint16_t base, void *buf, unsigned len)
{
    uint8_t *p = buf;
    for (unsigned i = 0; i < len; i += 2) {
        uint16_t w = inw(base);
        p[i] = w;
        p[i + 1] = w >> 8;
    }
}

void pio_out(uint16_t base, const void *buf, unsigned len)
{
    const uint8_t *p = buf;
    for (unsigned i = 0; i < len; i += 2) {
        outw(base, p[i] | p[i + 1] << 8);
    }
}

void identify(uint16_t base, int dev, uint8_t cmd, uint16_t *id)
{
    outb(base + ATA_REG_SELECT, 0xa0 | dev << 4);
    outb(base + ATA_REG_CMD, cmd);
    g_assert_cmphex(wait_not_busy(base) & (ATA_DRQ | ATA_ERR), ==, ATA_DRQ);
    pio_in(base, id, 512);
    g_assert_cmphex(inb(base + ATA_REG_STATUS) & (ATA_DRQ | ATA_BSY), ==, 0);
}

void prd_set(int index, uint32_t addr, uint32_t count, bool eot)
{
    mem_write(PRD_ADDR + index * 8, addr, 4);
    mem_write(PRD_ADDR + index * 8 + 4, (count & 0xffff) |
              (eot ? BM_PRD_EOT : 0), 4);
}

void bm_start(int ch, bool to_memory)
{
    uint16_t b = BMDMA_BASE + ch * 8;
    outl(b + BM_PRD, PRD_ADDR);
    outb(b + BM_CMD, (to_memory ? BM_CMD_WRITE : 0));
    outb(b + BM_CMD, (to_memory ? BM_CMD_WRITE : 0) | BM_CMD_START);
}

void bm_stop(int ch)
{
    outb(BMDMA_BASE + ch * 8 + BM_CMD, 0);
}

uint8_t bm_status(int ch)
{
    return inb(BMDMA_BASE + ch * 8 + BM_STATUS);
}

void bm_clear(int ch)
{
    outb(BMDMA_BASE + ch * 8 + BM_STATUS, BM_STATUS_ERROR | BM_STATUS_INTR);
}
