/*
 * "cfi.pflash01": parallel NOR flash with the Intel/Sharp extended command
 * set (CFI primary command set 0001h, Intel 28F-series datasheets), one
 * byte wide, uniform erase blocks.  The contents are the drive's: programs
 * and erases are written back to it, so a firmware's variable store
 * persists across runs.
 *
 * In read-array mode the chip is a ROM device: reads come from memory (KVM
 * runs firmware from it without exits) and each write is a command cycle.
 * The other modes answer reads with the status register, the identifier
 * codes or the CFI query table.  Operations complete at once, so the chip
 * is never busy.  Clear Status (0x50) zeroes the whole register, ready bit
 * included, as QEMU's model does: OVMF's flash probe expects 0x00 then.
 *
 * Block lock commands are accepted and not kept (every block reads as
 * unlocked); a read-only drive fails programs and erases with SR.4/SR.5
 * and SR.1 (block protected), which is how OVMF sees a write-protected
 * flash.  Migration carries the command state only: the contents are the
 * drive's, shared like any disk image.
 */
#include "util/osdep.h"
#include "hw/misc/pflash.h"
#include "block/block.h"

#define WB_SIZE         32          /* write buffer bytes (CFI 2Ah: 2^5) */

#define SR_READY        0x80
#define SR_ERASE_ERR    0x20
#define SR_PROG_ERR     0x10
#define SR_PROTECTED    0x02
#define SR_SEQ_ERR      (SR_ERASE_ERR | SR_PROG_ERR)   /* bad sequence */

/* What reads return and what the next write means. */
enum {
    MODE_ARRAY,         /* reads from memory */
    MODE_ID,            /* 0x90: identifier codes */
    MODE_CFI,           /* 0x98: query table */
    MODE_STATUS,        /* 0x70, and after every operation */
    MODE_PROGRAM,       /* 0x10/0x40: the next write is the data */
    MODE_ERASE,         /* 0x20: awaiting 0xd0 */
    MODE_LOCK,          /* 0x60: awaiting 0x01, 0xd0 or 0x2f */
    MODE_WB_COUNT,      /* 0xe8: awaiting the byte count - 1 */
    MODE_WB_DATA,       /* wb_count more data bytes */
    MODE_WB_CONFIRM,    /* awaiting 0xd0 */
    MODE_LAST = MODE_WB_CONFIRM,
};

typedef struct PFlashState {
    DeviceState parent_obj;
    BlockBackend *blk;
    uint32_t sector_len;
    uint32_t num_blocks;            /* 0: from the drive's size */
    uint8_t width;
    uint8_t id0, id1;               /* manufacturer and device codes */
    char *name;

    MemoryRegion mem;
    uint8_t *storage;
    uint64_t size;
    bool read_only;
    uint8_t cfi[0x40];

    /* Guest-visible state (VMState) */
    uint8_t mode;
    uint8_t status;
    uint8_t wb_count;               /* write buffer data bytes to come */
    uint32_t wb_start;              /* offset of its first byte, or ~0 */
    uint8_t wb[WB_SIZE];            /* data ANDed in, 0xff elsewhere */

    /* Write-back: one request in flight, dirty blocks wait behind it so
     * that writes of one block never overtake each other. */
    bool *dirty;
    uint8_t *flush_buf;
    bool flush_error;               /* reported once */
} PFlashState;

static void pflash_flush(PFlashState *s);

static void pflash_flush_done(void *opaque, int ret)
{
    PFlashState *s = opaque;

    g_free(s->flush_buf);
    s->flush_buf = NULL;
    if (ret < 0 && !s->flush_error) {
        error_report("%s: cannot write to the drive: %s", s->name,
                     strerror(-ret));
        s->flush_error = true;
    }
    pflash_flush(s);
}

static void pflash_flush(PFlashState *s)
{
    uint32_t first = 0, n = 0;

    if (s->flush_buf) {
        return;                     /* the completion comes back here */
    }
    while (first < s->num_blocks && !s->dirty[first]) {
        first++;
    }
    while (first + n < s->num_blocks && s->dirty[first + n]) {
        s->dirty[first + n++] = false;
    }
    if (!n) {
        return;
    }
    uint64_t offset = (uint64_t)first * s->sector_len;
    size_t len = (size_t)n * s->sector_len;
    s->flush_buf = g_malloc(len);
    memcpy(s->flush_buf, s->storage + offset, len);
    struct iovec iov = { .iov_base = s->flush_buf, .iov_len = len };
    blk_aio_pwritev(s->blk, offset, &iov, 1, pflash_flush_done, s);
}

static void pflash_set_mode(PFlashState *s, uint8_t mode)
{
    s->mode = mode;
    memory_region_rom_device_set_romd(&s->mem, mode == MODE_ARRAY);
}

/* A read-only drive fails the operation with these status bits. */
static bool pflash_writable(PFlashState *s, uint8_t err)
{
    if (s->read_only) {
        s->status |= err | SR_PROTECTED;
        log_guest_error("%s: program or erase of a read-only flash", s->name);
        return false;
    }
    return true;
}

/* Programming can only clear bits. */
static void pflash_program(PFlashState *s, uint64_t offset,
                           const uint8_t *data, uint64_t len)
{
    for (uint64_t i = 0; i < len; i++) {
        s->storage[offset + i] &= data[i];
    }
    for (uint64_t b = offset / s->sector_len;
         b <= (offset + len - 1) / s->sector_len; b++) {
        s->dirty[b] = true;
    }
    pflash_flush(s);
}

static void pflash_erase(PFlashState *s, uint64_t offset)
{
    uint64_t block = offset / s->sector_len;

    memset(s->storage + block * s->sector_len, 0xff, s->sector_len);
    s->dirty[block] = true;
    pflash_flush(s);
}

static uint64_t pflash_read(void *opaque, uint64_t addr, unsigned size)
{
    PFlashState *s = opaque;

    switch (s->mode) {
    case MODE_ARRAY:
        return s->storage[addr];
    case MODE_ID:
        /* Byte 0 manufacturer, 1 device, 2 of each block its lock bit. */
        switch (addr & 0xff) {
        case 0: return s->id0;
        case 1: return s->id1;
        default: return 0;
        }
    case MODE_CFI:
        return (addr & 0xff) < sizeof(s->cfi) ? s->cfi[addr & 0xff] : 0;
    default:
        return s->status;       /* status mode and pending commands */
    }
}

/* The first cycle of a command. */
static void pflash_command(PFlashState *s, uint8_t cmd)
{
    switch (cmd) {
    case 0x00:
    case 0xff:
        pflash_set_mode(s, MODE_ARRAY);
        break;
    case 0x10:
    case 0x40:
        pflash_set_mode(s, MODE_PROGRAM);
        break;
    case 0x20:
        pflash_set_mode(s, MODE_ERASE);
        break;
    case 0x50:
        s->status = 0;
        pflash_set_mode(s, MODE_ARRAY);
        break;
    case 0x60:
        pflash_set_mode(s, MODE_LOCK);
        break;
    case 0x70:
    case 0xb0:                  /* suspend: nothing runs, show status */
    case 0xd0:                  /* resume: likewise */
        pflash_set_mode(s, MODE_STATUS);
        break;
    case 0x90:
        pflash_set_mode(s, MODE_ID);
        break;
    case 0x98:
        pflash_set_mode(s, MODE_CFI);
        break;
    case 0xe8:
        pflash_set_mode(s, MODE_WB_COUNT);
        break;
    default:
        log_guest_error("%s: unknown command 0x%02x", s->name, cmd);
        pflash_set_mode(s, MODE_ARRAY);
        break;
    }
}

static void pflash_write(void *opaque, uint64_t addr, uint64_t val,
                         unsigned size)
{
    PFlashState *s = opaque;
    uint8_t v = val;

    switch (s->mode) {
    case MODE_PROGRAM:
        if (pflash_writable(s, SR_PROG_ERR)) {
            pflash_program(s, addr, &v, 1);
        }
        break;
    case MODE_ERASE:
        if (v != 0xd0) {
            s->status |= SR_SEQ_ERR;
        } else if (pflash_writable(s, SR_ERASE_ERR)) {
            pflash_erase(s, addr);
        }
        break;
    case MODE_LOCK:
        if (v != 0x01 && v != 0xd0 && v != 0x2f) {
            s->status |= SR_SEQ_ERR;
        }
        break;
    case MODE_WB_COUNT:
        if (v >= WB_SIZE) {
            s->status |= SR_SEQ_ERR;
            break;
        }
        s->wb_count = v + 1;
        s->wb_start = UINT32_MAX;
        memset(s->wb, 0xff, sizeof(s->wb));
        s->mode = MODE_WB_DATA;
        return;
    case MODE_WB_DATA:
        if (s->wb_start == UINT32_MAX) {
            s->wb_start = addr;
        }
        /* The data stays within the buffer's window and one block. */
        if (addr < s->wb_start || addr - s->wb_start >= WB_SIZE ||
            addr / s->sector_len != s->wb_start / s->sector_len) {
            s->status |= SR_SEQ_ERR;
            break;
        }
        s->wb[addr - s->wb_start] &= v;
        if (--s->wb_count == 0) {
            s->mode = MODE_WB_CONFIRM;
        }
        return;
    case MODE_WB_CONFIRM:
        if (v != 0xd0) {
            s->status |= SR_SEQ_ERR;
        } else if (pflash_writable(s, SR_PROG_ERR)) {
            uint64_t end = MIN((uint64_t)s->wb_start + WB_SIZE,
                               (uint64_t)(s->wb_start / s->sector_len + 1) *
                               s->sector_len);
            pflash_program(s, s->wb_start, s->wb, end - s->wb_start);
        }
        break;
    default:
        pflash_command(s, v);
        return;
    }
    /* The second (or last) cycle is done: show the outcome. */
    s->status |= SR_READY;
    pflash_set_mode(s, MODE_STATUS);
}

static const MemoryRegionOps pflash_ops = {
    .read = pflash_read,
    .write = pflash_write,
    .valid = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static int ilog2_up(uint64_t v)
{
    int n = 0;
    while ((1ULL << n) < v) {
        n++;
    }
    return n;
}

/* The CFI query table (JESD68), byte addresses of an x8-only device. */
static void pflash_cfi_init(PFlashState *s)
{
    uint8_t *t = s->cfi;

    memcpy(t + 0x10, "QRY", 3);
    t[0x13] = 0x01;                 /* primary command set 0001h */
    t[0x15] = 0x31;                 /* its extended table at 31h */
    t[0x1b] = 0x27;                 /* Vcc 2.7 V .. */
    t[0x1c] = 0x36;                 /* .. 3.6 V; no Vpp pin */
    t[0x1f] = 4;                    /* typical byte program 2^4 us */
    t[0x20] = 7;                    /* buffer write 2^7 us */
    t[0x21] = 10;                   /* block erase 2^10 ms */
    t[0x23] = 4;                    /* maxima: 2^4 times typical */
    t[0x24] = 4;
    t[0x25] = 4;
    t[0x27] = ilog2_up(s->size);    /* device size 2^n bytes */
    t[0x28] = 0x00;                 /* x8 asynchronous interface */
    t[0x2a] = ilog2_up(WB_SIZE);    /* write buffer 2^n bytes */
    t[0x2c] = 1;                    /* one erase block region: */
    t[0x2d] = (s->num_blocks - 1) & 0xff;   /* blocks - 1 */
    t[0x2e] = (s->num_blocks - 1) >> 8;
    t[0x2f] = (s->sector_len / 256) & 0xff; /* block size / 256 */
    t[0x30] = (s->sector_len / 256) >> 8;
    memcpy(t + 0x31, "PRI1" "0", 5);    /* extended table version 1.0 */
    t[0x36] = 0x08;                 /* legacy lock/unlock commands */
    t[0x3b] = 0x01;                 /* block status: lock bit */
    t[0x3d] = 0x33;                 /* optimum Vcc 3.3 V */
}

static bool pflash_realize(DeviceState *dev, Error **errp)
{
    PFlashState *s = (PFlashState *)dev;

    if (!s->blk) {
        error_setg(errp, "cfi.pflash01: drive property not set");
        return false;
    }
    if (s->width != 1) {
        error_setg(errp, "cfi.pflash01: only width=1 is supported");
        return false;
    }
    int64_t len = blk_getlength(s->blk);
    if (!s->sector_len || s->sector_len % 256 ||
        len <= 0 || len % s->sector_len || len / s->sector_len > 65536 ||
        (s->num_blocks && len / s->sector_len != s->num_blocks)) {
        error_setg(errp, "cfi.pflash01: drive size %" PRId64 " is not a "
                   "multiple of the %u-byte sector size (at most 65536 "
                   "sectors) or not num-blocks sectors", len, s->sector_len);
        return false;
    }
    s->size = len;
    s->num_blocks = len / s->sector_len;
    s->read_only = blk_is_read_only(s->blk);
    if (!s->name) {
        s->name = g_strdup("cfi.pflash01");
    }
    memory_region_init_rom_device(&s->mem, &pflash_ops, s, s->name, s->size);
    s->storage = memory_region_get_ram_ptr(&s->mem);
    if (blk_pread(s->blk, 0, s->storage, s->size) < 0) {
        error_setg(errp, "%s: cannot read the drive", s->name);
        memory_region_destroy(&s->mem);
        return false;
    }
    s->dirty = g_new0(bool, s->num_blocks);
    pflash_cfi_init(s);
    return true;
}

static void pflash_reset(DeviceState *dev)
{
    PFlashState *s = (PFlashState *)dev;

    s->status = SR_READY;
    s->wb_count = 0;
    s->wb_start = UINT32_MAX;
    memset(s->wb, 0xff, sizeof(s->wb));
    pflash_set_mode(s, MODE_ARRAY);
}

static int pflash_post_load(void *opaque, int version_id, Error **errp)
{
    PFlashState *s = opaque;
    bool in_buffer = s->mode == MODE_WB_DATA || s->mode == MODE_WB_CONFIRM;

    if ((in_buffer && s->wb_start != UINT32_MAX && s->wb_start >= s->size) ||
        (s->mode == MODE_WB_DATA && !s->wb_count) ||
        (s->mode == MODE_WB_CONFIRM && s->wb_start == UINT32_MAX)) {
        error_setg(errp, "%s: inconsistent write buffer state", s->name);
        return -EINVAL;
    }
    pflash_set_mode(s, s->mode);
    return 0;
}

/* The contents are not here: they are the drive's. */
static const VMStateField pflash_fields[] = {
    VMSTATE_FIELD_MAX(mode, PFlashState, VMS_UINT8, MODE_LAST),
    VMSTATE_UINT8(status, PFlashState),
    VMSTATE_FIELD_MAX(wb_count, PFlashState, VMS_UINT8, WB_SIZE),
    VMSTATE_UINT32(wb_start, PFlashState),
    VMSTATE_UINT8_ARRAY(wb, PFlashState, WB_SIZE),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription pflash_vmsd = {
    .name = "pflash_cfi01",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = pflash_fields,
    .post_load = pflash_post_load,
};

static const Property pflash_props[] = {
    DEFINE_PROP_DRIVE("drive", PFlashState, blk),
    DEFINE_PROP_UINT32("sector-length", PFlashState, sector_len,
                       PFLASH_SECTOR_SIZE),
    DEFINE_PROP_UINT32("num-blocks", PFlashState, num_blocks, 0),
    DEFINE_PROP_UINT8("width", PFlashState, width, 1),
    DEFINE_PROP_UINT8("id0", PFlashState, id0, 0x89),      /* Intel */
    DEFINE_PROP_UINT8("id1", PFlashState, id1, 0x18),      /* 28F128J3 */
    DEFINE_PROP_STRING("name", PFlashState, name),
    DEFINE_PROP_END_OF_LIST(),
};

MemoryRegion *pflash_cfi01_get_memory(DeviceState *dev)
{
    return &((PFlashState *)dev)->mem;
}

static const DeviceClass pflash_class = {
    .name = "cfi.pflash01",
    .desc = "Intel/Sharp command set parallel flash",
    .bus = BUS_SYSTEM,
    .instance_size = sizeof(PFlashState),
    .props = pflash_props,
    .realize = pflash_realize,
    .reset = pflash_reset,
    .vmsd = &pflash_vmsd,
};
DEVICE_REGISTER(pflash_class);
