/*
 * ATA commands (ATA/ATAPI-6): IDENTIFY, PIO and DMA reads and writes with
 * CHS, LBA28 and LBA48 addresses, READ VERIFY, FLUSH CACHE, SET FEATURES,
 * SET MULTIPLE MODE, INITIALIZE DEVICE PARAMETERS and the power commands;
 * DATA SET MANAGEMENT with TRIM (ACS-2) by DMA; on a CD-ROM only the ones
 * the PACKET feature set allows.
 */
#include "ide-internal.h"
#include "block/block.h"

#define LBA28_MAX       0x0fffffffULL

#define DSM_TRIM        0x01                    /* feature bit 0 */
/* Blocks of range entries per command (IDENTIFY word 105): the list is
 * read into io_buffer whole. */
#define DSM_MAX_BLOCKS  (IDE_BUF_SIZE / IDE_SECTOR_SIZE)

enum { RW_PIO, RW_MULTIPLE, RW_DMA, RW_VERIFY };

static bool ide_cmd_is_lba48(uint8_t cmd)
{
    switch (cmd) {
    case WIN_READ_EXT: case WIN_READDMA_EXT: case WIN_MULTREAD_EXT:
    case WIN_WRITE_EXT: case WIN_WRITEDMA_EXT: case WIN_MULTWRITE_EXT:
    case WIN_VERIFY_EXT: case WIN_FLUSH_CACHE_EXT: case WIN_DSM:
        return true;
    }
    return false;
}

static bool ide_cmd_is_write(uint8_t cmd)
{
    switch (cmd) {
    case WIN_WRITE: case WIN_WRITE_ONCE: case WIN_WRITE_EXT:
    case WIN_MULTWRITE: case WIN_MULTWRITE_EXT:
    case WIN_WRITEDMA: case WIN_WRITEDMA_ONCE: case WIN_WRITEDMA_EXT:
        return true;
    }
    return false;
}

/* Sectors the current CHS translation covers. */
static uint64_t ide_chs_capacity(IDEState *s, uint32_t *cyls)
{
    uint64_t per_cyl = (uint64_t)s->cur_heads * s->cur_sectors;
    /* ATA-6 caps CHS capacity at 16383 * 16 * 63 sectors. */
    uint64_t max = MIN(s->nb_sectors, 16383 * 16 * 63);
    uint64_t c = per_cyl ? MIN(max / per_cyl, 65535) : 0;

    if (cyls) {
        *cyls = c;
    }
    return c * per_cyl;
}

/* The address in the taskfile; false for an impossible CHS address. */
static bool ide_get_lba(IDEState *s, uint64_t *lba)
{
    if (s->lba48) {
        *lba = (uint64_t)s->hob_hcyl << 40 | (uint64_t)s->hob_lcyl << 32 |
               (uint64_t)s->hob_sector << 24 | s->hcyl << 16 |
               s->lcyl << 8 | s->sector;
    } else if (s->select & ATA_DEV_LBA) {
        *lba = (uint64_t)(s->select & 0x0f) << 24 | s->hcyl << 16 |
               s->lcyl << 8 | s->sector;
    } else {
        uint32_t cyls, cyl = s->hcyl << 8 | s->lcyl, head = s->select & 0x0f;
        ide_chs_capacity(s, &cyls);
        if (s->sector == 0 || s->sector > s->cur_sectors ||
            head >= s->cur_heads || cyl >= cyls) {
            return false;
        }
        *lba = ((uint64_t)cyl * s->cur_heads + head) * s->cur_sectors +
               s->sector - 1;
    }
    return true;
}

/* Put an address back in the taskfile (last sector done, or the failing). */
static void ide_set_lba(IDEState *s, uint64_t lba)
{
    if (s->lba48) {
        s->sector = lba;
        s->lcyl = lba >> 8;
        s->hcyl = lba >> 16;
        s->hob_sector = lba >> 24;
        s->hob_lcyl = lba >> 32;
        s->hob_hcyl = lba >> 40;
    } else if (s->select & ATA_DEV_LBA) {
        s->sector = lba;
        s->lcyl = lba >> 8;
        s->hcyl = lba >> 16;
        s->select = (s->select & 0xf0) | ((lba >> 24) & 0x0f);
    } else if (s->cur_heads && s->cur_sectors) {
        uint32_t per_cyl = s->cur_heads * s->cur_sectors;
        uint32_t cyl = lba / per_cyl, r = lba % per_cyl;
        s->hcyl = cyl >> 8;
        s->lcyl = cyl;
        s->select = (s->select & 0xf0) | (r / s->cur_sectors);
        s->sector = r % s->cur_sectors + 1;
    }
}

static void ide_set_count(IDEState *s, uint32_t n)
{
    s->nsector = n;
    s->hob_nsector = n >> 8;
}

static uint32_t ide_block(IDEState *s)
{
    uint32_t per_drq = s->cmd == WIN_MULTREAD || s->cmd == WIN_MULTWRITE ||
                       s->cmd == WIN_MULTREAD_EXT ||
                       s->cmd == WIN_MULTWRITE_EXT ? s->mult_sectors : 1;
    return MIN(s->remaining, per_drq);
}

/* The command failed at s->lba with s->remaining sectors left. */
static void ide_rw_error(IDEState *s, uint8_t err)
{
    ide_set_lba(s, s->lba);
    ide_set_count(s, s->remaining);
    s->dma_kind = IDE_DMA_NONE;
    ide_cmd_error(s, err);
}

static void ide_rw_success(IDEState *s)
{
    ide_set_lba(s, s->lba - 1);
    ide_set_count(s, 0);
    s->dma_kind = IDE_DMA_NONE;
    ide_cmd_done(s);
}

static void ide_start_rw(IDEState *s, int mode)
{
    bool write = ide_cmd_is_write(s->cmd);
    uint32_t count = s->lba48 ? (s->hob_nsector << 8 | s->nsector) : s->nsector;
    uint64_t lba, limit = s->nb_sectors;

    if (!count) {
        count = s->lba48 ? 65536 : 256;
    }
    if (!s->lba48 && (s->select & ATA_DEV_LBA)) {
        limit = MIN(limit, LBA28_MAX);
    } else if (!s->lba48) {
        limit = ide_chs_capacity(s, NULL);
    }
    if ((mode == RW_MULTIPLE && !s->mult_sectors) ||
        (write && blk_is_read_only(s->blk))) {
        ide_cmd_error(s, ATA_ABRT);
        return;
    }
    if (!ide_get_lba(s, &lba)) {
        ide_cmd_error(s, ATA_IDNF);
        return;
    }
    s->lba = lba;
    s->remaining = count;
    if (lba >= limit || count > limit - lba) {
        /* Report the first sector that is not there. */
        s->remaining -= MAX(lba, limit) - lba;
        s->lba = MAX(lba, limit);
        ide_rw_error(s, ATA_IDNF);
        return;
    }
    switch (mode) {
    case RW_DMA:
        ide_dma_begin(s, write ? IDE_DMA_ATA_WRITE : IDE_DMA_ATA_READ,
                      count * IDE_SECTOR_SIZE);
        break;
    case RW_VERIFY:
        ide_aio_issue(s, IDE_AIO_VERIFY);
        break;
    default:
        s->block_sectors = ide_block(s);
        if (write) {
            ide_pio_start(s, s->block_sectors * IDE_SECTOR_SIZE,
                          IDE_XFER_WRITE);
        } else {
            ide_aio_issue(s, IDE_AIO_PIO_READ);
        }
        break;
    }
}

/* The data port moved a whole block. */
void ide_ata_pio_done(IDEState *s)
{
    s->status |= ATA_BSY;
    if (ide_cmd_is_write(s->cmd)) {
        ide_aio_issue(s, IDE_AIO_PIO_WRITE);
        return;
    }
    s->lba += s->block_sectors;
    s->remaining -= s->block_sectors;
    if (s->remaining) {
        s->block_sectors = ide_block(s);
        ide_aio_issue(s, IDE_AIO_PIO_READ);
    } else {
        /* The last block of a PIO read raises no interrupt. */
        ide_set_lba(s, s->lba - 1);
        ide_set_count(s, 0);
        s->status = ATA_DRDY | ATA_DSC;
    }
}

static void ide_write_advance(IDEState *s)
{
    s->lba += s->block_sectors;
    s->remaining -= s->block_sectors;
    if (!s->remaining) {
        ide_rw_success(s);
        return;
    }
    s->block_sectors = ide_block(s);
    ide_pio_start(s, s->block_sectors * IDE_SECTOR_SIZE, IDE_XFER_WRITE);
    ide_set_irq(s);
}

/* ---- DATA SET MANAGEMENT: TRIM ---- */

/* An entry: LBA in bits 47:0, sector count in 63:48 (0: entry unused). */
void ide_trim_range(IDEState *s, uint32_t off, uint64_t *lba, uint32_t *count)
{
    uint64_t e = ldq_le(s->io_buffer + off);

    *lba = e & 0xffffffffffffULL;
    *count = e >> 48;
}

static void ide_start_trim(IDEState *s)
{
    /* The count is 16 bits, but word 105 keeps a guest below 256, and
     * QEMU (and its ide-test, which never writes the HOB byte) reads only
     * the low byte: so do we. */
    uint32_t blocks = s->nsector;

    if (!(s->feature & DSM_TRIM) || !blocks || blocks > DSM_MAX_BLOCKS ||
        blk_is_read_only(s->blk)) {
        log_guest_error("ide %s device %d: DATA SET MANAGEMENT feature "
                        "0x%02x, %u blocks refused", s->bus->name, s->unit,
                        s->feature, blocks);
        ide_cmd_error(s, ATA_ABRT);
        return;
    }
    ide_dma_begin(s, IDE_DMA_ATA_TRIM, blocks * IDE_SECTOR_SIZE);
}

/* End TRIM with ABRT: the bus master stops, the range list is dropped. */
static void ide_trim_abort(IDEState *s)
{
    s->data_ptr = s->data_end = 0;
    ide_dma_finish(s->bus);
    ide_cmd_error(s, ATA_ABRT);
}

/* Zero the next used entry from data_ptr on, or finish the command. */
static void ide_trim_next(IDEState *s)
{
    uint64_t lba;
    uint32_t count;

    for (; s->data_ptr < s->data_end; s->data_ptr += 8) {
        ide_trim_range(s, s->data_ptr, &lba, &count);
        if (count) {
            s->status = ATA_BSY | ATA_DRDY | ATA_DSC;
            ide_aio_issue(s, IDE_AIO_TRIM);
            return;
        }
    }
    s->data_ptr = s->data_end = 0;
    ide_dma_finish(s->bus);
    ide_cmd_done(s);
}

/* The range list arrived in io_buffer[0, dma_total). */
static void ide_trim_list_done(IDEState *s, int ret)
{
    uint64_t lba;
    uint32_t count;

    s->dma_kind = IDE_DMA_NONE;
    if (ret < 0) {
        ide_trim_abort(s);
        return;
    }
    /* Any range past the end aborts the command before a sector is lost. */
    for (uint32_t off = 0; off < s->dma_total; off += 8) {
        ide_trim_range(s, off, &lba, &count);
        if (count && (lba >= s->nb_sectors || count > s->nb_sectors - lba)) {
            log_guest_error("ide %s device %d: TRIM of %u sectors at %" PRIu64
                            " beyond the disk", s->bus->name, s->unit,
                            count, lba);
            ide_trim_abort(s);
            return;
        }
    }
    s->data_ptr = 0;
    s->data_end = s->dma_total;
    ide_trim_next(s);
}

void ide_ata_dma_done(IDEState *s, int ret)
{
    bool write = s->dma_kind == IDE_DMA_ATA_WRITE;

    if (s->dma_kind == IDE_DMA_ATA_TRIM) {
        ide_trim_list_done(s, ret);
        return;
    }

    if (ret < 0) {
        s->remaining -= s->dma_done / IDE_SECTOR_SIZE;
        s->lba += s->dma_done / IDE_SECTOR_SIZE;
        ide_rw_error(s, write ? ATA_ABRT : ATA_UNC);
    } else {
        s->lba += s->remaining;
        s->remaining = 0;
        ide_rw_success(s);
    }
}

void ide_ata_aio_done(IDEState *s, IDEAioOp op, int ret, const void *buf)
{
    if (ret < 0 && op == IDE_AIO_TRIM) {
        log_guest_error("ide %s device %d: TRIM: I/O error %d",
                        s->bus->name, s->unit, ret);
        ide_trim_abort(s);
        return;
    }
    if (ret < 0) {
        log_guest_error("ide %s device %d: command 0x%02x: I/O error %d",
                        s->bus->name, s->unit, s->cmd, ret);
        ide_rw_error(s, op == IDE_AIO_PIO_READ || op == IDE_AIO_VERIFY ?
                     ATA_UNC : ATA_ABRT);
        return;
    }
    switch (op) {
    case IDE_AIO_PIO_READ:
        memcpy(s->io_buffer, buf, s->block_sectors * IDE_SECTOR_SIZE);
        ide_pio_start(s, s->block_sectors * IDE_SECTOR_SIZE, IDE_XFER_READ);
        ide_set_irq(s);
        break;
    case IDE_AIO_PIO_WRITE:
        ide_write_advance(s);
        break;
    case IDE_AIO_VERIFY: {
        uint32_t n = MIN(s->remaining, IDE_VERIFY_CHUNK);
        s->lba += n;
        s->remaining -= n;
        if (s->remaining) {
            ide_aio_issue(s, IDE_AIO_VERIFY);
        } else {
            ide_rw_success(s);
        }
        break;
    }
    case IDE_AIO_FLUSH:
        ide_cmd_done(s);
        break;
    case IDE_AIO_TRIM:
        s->data_ptr += 8;
        ide_trim_next(s);
        break;
    default:
        break;
    }
}

/* ---- IDENTIFY ---- */

/* ATA strings: space padded, the two bytes of each word swapped. */
static void ide_put_str(uint16_t *words, const char *str, int len)
{
    for (int i = 0; i < len; i++) {
        char c = *str ? *str++ : ' ';
        words[i / 2] |= (uint16_t)(uint8_t)c << ((i & 1) ? 0 : 8);
    }
}

static void ide_identify_common(IDEState *s, uint16_t *id)
{
    memset(id, 0, IDE_SECTOR_SIZE);
    ide_put_str(id + 10, s->serial, 20);
    ide_put_str(id + 23, s->version, 8);
    ide_put_str(id + 27, s->model, 40);
    id[49] = 1 << 11 | 1 << 9 | 1 << 8;         /* IORDY, LBA, DMA */
    id[50] = 0x4000;
    id[53] = 0x0007;                            /* words 54-58, 64-70, 88 */
    id[63] = 0x0007 | (s->mwdma_mode <= 2 ? 0x100 << s->mwdma_mode : 0);
    id[64] = 0x0003;                            /* PIO modes 3, 4 */
    id[65] = id[66] = id[67] = id[68] = 120;
    id[80] = 0x007e;                            /* ATA/ATAPI-1 .. 6 */
    id[83] = id[84] = id[87] = 0x4000;
    id[88] = 0x003f | (s->udma_mode <= 5 ? 0x100 << s->udma_mode : 0);
    id[93] = 0x6000 | (s->unit ? 0x0100 : 0x0009);
}

/* Integrity word: signature 0xa5, checksum so that the bytes sum to 0. */
static void ide_identify_checksum(uint16_t *id)
{
    uint8_t sum = 0xa5;
    const uint8_t *b = (const uint8_t *)id;

    id[255] = 0x00a5;
    for (int i = 0; i < 510; i++) {
        sum += b[i];
    }
    id[255] |= (uint16_t)(uint8_t)-sum << 8;
}

void ide_identify(IDEState *s, uint16_t *id)
{
    uint32_t cyls;
    uint64_t chs = ide_chs_capacity(s, &cyls);
    uint64_t lba28 = MIN(s->nb_sectors, LBA28_MAX);

    ide_identify_common(s, id);
    id[0] = 0x0040;                             /* fixed device */
    id[1] = s->cylinders;
    id[3] = s->heads;
    id[6] = s->sectors;
    id[47] = 0x8000 | IDE_MAX_MULT;
    id[54] = cyls;
    id[55] = s->cur_heads;
    id[56] = s->cur_sectors;
    id[57] = chs;
    id[58] = chs >> 16;
    id[59] = s->mult_sectors ? 0x100 | s->mult_sectors : 0;
    id[60] = lba28;
    id[61] = lba28 >> 16;
    /* TRIM is deterministic (ACS-2 word 69 bit 14): with discard=ignore
     * the data stays; with discard=unmap it reads as zeros (bit 5). */
    id[69] = 1 << 14 | (blk_discard_unmaps(s->blk) ? 1 << 5 : 0);
    /* Write cache, FLUSH CACHE (EXT), 48-bit addresses. */
    id[82] = 1 << 5;
    id[83] |= 1 << 13 | 1 << 12 | 1 << 10;
    id[85] = s->write_cache ? 1 << 5 : 0;
    id[86] = 1 << 13 | 1 << 12 | 1 << 10;
    for (int i = 0; i < 4; i++) {
        id[100 + i] = s->nb_sectors >> (16 * i);
    }
    id[105] = DSM_MAX_BLOCKS;
    id[106] = 0x4000;                           /* 512-byte sectors */
    id[169] = 1;                                /* DSM TRIM */
    ide_identify_checksum(id);
}

void ide_atapi_identify(IDEState *s, uint16_t *id)
{
    ide_identify_common(s, id);
    /* ATAPI, CD-ROM, removable, DRQ within 50 us, 12-byte packets. */
    id[0] = 0x8000 | 0x0500 | 0x0080 | 0x0040;
    id[71] = id[72] = 30;
    id[82] = 1 << 4;                            /* PACKET feature set */
    id[85] = 1 << 4;
    ide_identify_checksum(id);
}

/* Power-on settings. */
void ide_drive_defaults(IDEState *s)
{
    s->mult_sectors = s->kind == IDE_HD ? IDE_MAX_MULT : 0;
    s->cur_heads = s->heads;
    s->cur_sectors = s->sectors;
    s->write_cache = s->wce_default;
    if (s->blk && s->kind == IDE_HD) {
        blk_set_enable_write_cache(s->blk, s->write_cache);
    }
    s->pio_mode = 4;
    s->mwdma_mode = 2;
    s->udma_mode = 0xff;
}

/* ---- command decoding ---- */

static void ide_set_features(IDEState *s)
{
    uint8_t mode = s->nsector;

    switch (s->feature) {
    case SETFEATURES_WC_ON:
    case SETFEATURES_WC_OFF:
        if (s->kind != IDE_HD) {
            break;
        }
        s->write_cache = s->feature == SETFEATURES_WC_ON;
        /* With the cache off the block layer flushes every write. */
        blk_set_enable_write_cache(s->blk, s->write_cache);
        if (!s->write_cache) {
            /* What the cache holds goes to the disk now. */
            ide_aio_issue(s, IDE_AIO_FLUSH);
        } else {
            ide_cmd_done(s);
        }
        return;
    case SETFEATURES_XFER:
        if (mode >> 3 <= 1 && (mode & 7) <= 4) {
            s->pio_mode = mode >> 3 ? mode & 7 : 0;
        } else if (mode >> 3 == 4 && (mode & 7) <= 2) {
            s->mwdma_mode = mode & 7;
            s->udma_mode = 0xff;
        } else if (mode >> 3 == 8 && (mode & 7) <= 5) {
            s->udma_mode = mode & 7;
            s->mwdma_mode = 0xff;
        } else {
            break;
        }
        ide_cmd_done(s);
        return;
    case SETFEATURES_DIS_RLA: case SETFEATURES_EN_RLA:
    case SETFEATURES_DIS_DEFAULT: case SETFEATURES_EN_DEFAULT:
        ide_cmd_done(s);
        return;
    }
    log_guest_error("ide %s device %d: SET FEATURES 0x%02x not supported",
                    s->bus->name, s->unit, s->feature);
    ide_cmd_error(s, ATA_ABRT);
}

/* Commands both device kinds take; false if cmd is not one. */
static bool ide_common_command(IDEState *s, uint8_t cmd)
{
    switch (cmd) {
    case WIN_SETFEATURES:
        ide_set_features(s);
        return true;
    case WIN_CHECKPOWERMODE1:
        s->nsector = 0xff;                      /* active or idle */
        ide_cmd_done(s);
        return true;
    case WIN_STANDBYNOW1: case WIN_IDLEIMMEDIATE: case WIN_STANDBY:
    case WIN_SETIDLE1: case WIN_SLEEPNOW1:
        ide_cmd_done(s);
        return true;
    }
    return false;
}

static void ide_cd_command(IDEState *s, uint8_t cmd)
{
    switch (cmd) {
    case WIN_PACKETCMD:
        s->atapi_dma = s->feature & 1;
        s->byte_limit = s->hcyl << 8 | s->lcyl;
        s->nsector = ATAPI_IR_COD;
        ide_pio_start(s, ATAPI_PACKET_SIZE, IDE_XFER_PACKET);
        return;
    case WIN_PIDENTIFY:
        ide_atapi_identify(s, (uint16_t *)s->io_buffer);
        ide_pio_start(s, IDE_SECTOR_SIZE, IDE_XFER_DATA_IN);
        ide_set_irq(s);
        return;
    case WIN_DEVICE_RESET:
        /* No interrupt: the host polls BSY. */
        ide_set_signature(s);
        s->error = 0x01;
        s->status = 0;
        return;
    case WIN_IDENTIFY:
    case WIN_READ:
        /* Tells the host it found a packet device. */
        ide_set_signature(s);
        break;
    default:
        if (ide_common_command(s, cmd)) {
            return;
        }
        log_guest_error("ide %s device %d: ATA command 0x%02x on a CD-ROM",
                        s->bus->name, s->unit, cmd);
        break;
    }
    ide_cmd_error(s, ATA_ABRT);
}

void ide_ata_command(IDEState *s, uint8_t cmd)
{
    s->lba48 = ide_cmd_is_lba48(cmd);
    if (s->kind == IDE_CD) {
        ide_cd_command(s, cmd);
        return;
    }
    switch (cmd) {
    case WIN_IDENTIFY:
        ide_identify(s, (uint16_t *)s->io_buffer);
        ide_pio_start(s, IDE_SECTOR_SIZE, IDE_XFER_DATA_IN);
        ide_set_irq(s);
        return;
    case WIN_READ: case WIN_READ_ONCE: case WIN_READ_EXT:
    case WIN_WRITE: case WIN_WRITE_ONCE: case WIN_WRITE_EXT:
        ide_start_rw(s, RW_PIO);
        return;
    case WIN_MULTREAD: case WIN_MULTREAD_EXT:
    case WIN_MULTWRITE: case WIN_MULTWRITE_EXT:
        ide_start_rw(s, RW_MULTIPLE);
        return;
    case WIN_READDMA: case WIN_READDMA_ONCE: case WIN_READDMA_EXT:
    case WIN_WRITEDMA: case WIN_WRITEDMA_ONCE: case WIN_WRITEDMA_EXT:
        ide_start_rw(s, RW_DMA);
        return;
    case WIN_VERIFY: case WIN_VERIFY_ONCE: case WIN_VERIFY_EXT:
        ide_start_rw(s, RW_VERIFY);
        return;
    case WIN_FLUSH_CACHE: case WIN_FLUSH_CACHE_EXT:
        ide_aio_issue(s, IDE_AIO_FLUSH);
        return;
    case WIN_DSM:
        ide_start_trim(s);
        return;
    case WIN_SETMULT:
        if (s->nsector > IDE_MAX_MULT || (s->nsector & (s->nsector - 1))) {
            break;
        }
        s->mult_sectors = s->nsector;
        ide_cmd_done(s);
        return;
    case WIN_SPECIFY:
        if (!s->nsector) {
            break;
        }
        s->cur_sectors = s->nsector;
        s->cur_heads = (s->select & 0x0f) + 1;
        ide_cmd_done(s);
        return;
    default:
        if ((cmd & 0xf0) == WIN_RECAL || (cmd & 0xf0) == WIN_SEEK) {
            ide_cmd_done(s);
            return;
        }
        if (ide_common_command(s, cmd)) {
            return;
        }
        log_guest_error("ide %s device %d: command 0x%02x not supported",
                        s->bus->name, s->unit, cmd);
        break;
    }
    ide_cmd_error(s, ATA_ABRT);
}
