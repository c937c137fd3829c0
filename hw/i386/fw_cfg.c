/*
 * fw_cfg on x86 I/O ports: a 16-bit selector at 0x510, an 8-bit data port
 * at 0x511 and a big-endian 64-bit DMA address register at 0x514.
 *
 * Items live in two tables (generic keys and arch-local keys, bit 15).
 * Reads past an item's end give zeros; the offset stops at the end so the
 * saved state never points outside an item.  Data-port writes are ignored
 * (as in QEMU since 2.4) and no item is writable through DMA.
 */
#include "hw/i386/fw_cfg.h"
#include "hw/qdev.h"

#define FW_CFG_ENTRIES (FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS)

typedef struct FWCfgEntry {
    uint8_t *data;
    uint32_t len;
    bool present;
} FWCfgEntry;

typedef struct FWCfgFileName {
    char name[FW_CFG_MAX_FILE_PATH];
} FWCfgFileName;

struct FWCfgState {
    DeviceState parent_obj;
    uint16_t iobase;
    uint16_t dma_iobase;      /* 0: no DMA interface */
    AddressSpace *dma_as;

    FWCfgEntry entries[2][FW_CFG_ENTRIES];
    FWCfgFileName files[FW_CFG_FILE_SLOTS];
    unsigned nr_files;

    MemoryRegion io, dma_io;

    /* guest-visible state */
    uint16_t cur_key;         /* FW_CFG_INVALID, or arch bit | index */
    uint32_t cur_offset;
    uint64_t dma_addr;        /* high half latched until the low half */
};

static FWCfgState *fw_cfg_instance;

static FWCfgEntry *fw_cfg_entry(FWCfgState *s, uint16_t key)
{
    unsigned arch = !!(key & FW_CFG_ARCH_LOCAL);
    unsigned index = key & ~(FW_CFG_ARCH_LOCAL | FW_CFG_WRITE_CHANNEL);

    if (key == FW_CFG_INVALID || index >= FW_CFG_ENTRIES) {
        return NULL;
    }
    return &s->entries[arch][index];
}

static FWCfgEntry *fw_cfg_current(FWCfgState *s)
{
    FWCfgEntry *e = fw_cfg_entry(s, s->cur_key);

    return e && e->present ? e : NULL;
}

static void fw_cfg_select(FWCfgState *s, uint16_t key)
{
    s->cur_offset = 0;
    /* The write-channel bit means nothing since writes go through DMA. */
    key &= ~FW_CFG_WRITE_CHANNEL;
    s->cur_key = key;
    if (!fw_cfg_current(s)) {
        s->cur_key = FW_CFG_INVALID;
    }
}

/* ---- items ---- */

static void fw_cfg_set_entry(FWCfgState *s, uint16_t key, const void *data,
                             size_t len)
{
    FWCfgEntry *e = fw_cfg_entry(s, key);

    if (!e || len > UINT32_MAX) {
        error_report("fw_cfg: cannot add item 0x%x (%zu bytes)", key, len);
        return;
    }
    g_free(e->data);
    e->data = g_memdup2(data, len);
    e->len = len;
    e->present = true;
    /* Replacing the selected item must not leave the offset past its end. */
    if (s->cur_key == (key & ~FW_CFG_WRITE_CHANNEL) && s->cur_offset > len) {
        s->cur_offset = len;
    }
}

void fw_cfg_add_bytes(FWCfgState *s, uint16_t key, const void *data,
                      size_t len)
{
    fw_cfg_set_entry(s, key, data, len);
}

void fw_cfg_add_string(FWCfgState *s, uint16_t key, const char *value)
{
    fw_cfg_set_entry(s, key, value, strlen(value) + 1);
}

void fw_cfg_add_i16(FWCfgState *s, uint16_t key, uint16_t value)
{
    uint8_t buf[2];

    stw_le(buf, value);
    fw_cfg_set_entry(s, key, buf, sizeof(buf));
}

void fw_cfg_add_i32(FWCfgState *s, uint16_t key, uint32_t value)
{
    uint8_t buf[4];

    stl_le(buf, value);
    fw_cfg_set_entry(s, key, buf, sizeof(buf));
}

void fw_cfg_add_i64(FWCfgState *s, uint16_t key, uint64_t value)
{
    uint8_t buf[8];

    stq_le(buf, value);
    fw_cfg_set_entry(s, key, buf, sizeof(buf));
}

/*
 * FW_CFG_FILE_DIR: be32 count, then 64-byte entries {be32 size, be16 key,
 * be16 reserved, name[56]} sorted by name.  Keys stay as assigned, so
 * replacing a file never moves another one.
 */
static void fw_cfg_update_file_dir(FWCfgState *s)
{
    size_t size = 4 + 64 * s->nr_files;
    uint8_t *dir = g_malloc0(size);
    unsigned order[FW_CFG_FILE_SLOTS];

    /* Insertion sort by name: there are at most FW_CFG_FILE_SLOTS. */
    for (unsigned i = 0; i < s->nr_files; i++) {
        unsigned j = i;

        while (j && strcmp(s->files[order[j - 1]].name, s->files[i].name) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }

    stl_le(dir, GUINT32_TO_BE(s->nr_files));
    for (unsigned i = 0; i < s->nr_files; i++) {
        uint8_t *ent = dir + 4 + 64 * i;
        unsigned idx = order[i];

        stl_le(ent, GUINT32_TO_BE(s->entries[0][FW_CFG_FILE_FIRST + idx].len));
        stw_le(ent + 4, GUINT16_TO_BE(FW_CFG_FILE_FIRST + idx));
        memcpy(ent + 8, s->files[idx].name, FW_CFG_MAX_FILE_PATH);
    }
    fw_cfg_set_entry(s, FW_CFG_FILE_DIR, dir, size);
    g_free(dir);
}

void fw_cfg_add_file(FWCfgState *s, const char *filename, const void *data,
                     size_t len)
{
    unsigned i;

    if (strlen(filename) >= FW_CFG_MAX_FILE_PATH) {
        error_report("fw_cfg: file name '%s' is too long", filename);
        return;
    }
    for (i = 0; i < s->nr_files; i++) {
        if (!strcmp(s->files[i].name, filename)) {
            break;
        }
    }
    if (i == s->nr_files) {
        if (s->nr_files == FW_CFG_FILE_SLOTS) {
            error_report("fw_cfg: no slot left for file '%s'", filename);
            return;
        }
        memset(s->files[i].name, 0, FW_CFG_MAX_FILE_PATH);
        strcpy(s->files[i].name, filename);
        s->nr_files++;
    }
    fw_cfg_set_entry(s, FW_CFG_FILE_FIRST + i, data, len);
    fw_cfg_update_file_dir(s);
}

const void *fw_cfg_get_file(FWCfgState *s, const char *filename, size_t *len)
{
    for (unsigned i = 0; i < s->nr_files; i++) {
        if (!strcmp(s->files[i].name, filename)) {
            FWCfgEntry *e = &s->entries[0][FW_CFG_FILE_FIRST + i];

            *len = e->len;
            return e->data;
        }
    }
    *len = 0;
    return NULL;
}

/* ---- data port ---- */

static uint64_t fw_cfg_io_read(void *opaque, uint64_t addr, unsigned size)
{
    FWCfgState *s = opaque;
    FWCfgEntry *e = fw_cfg_current(s);
    uint64_t val = 0;

    if (addr != 1) {
        return 0;    /* the selector is write-only */
    }
    for (unsigned i = 0; i < size; i++) {
        uint8_t byte = 0;

        if (e && s->cur_offset < e->len) {
            byte = e->data[s->cur_offset++];
        }
        val |= (uint64_t)byte << (8 * i);
    }
    return val;
}

static void fw_cfg_io_write(void *opaque, uint64_t addr, uint64_t val,
                            unsigned size)
{
    FWCfgState *s = opaque;

    if (addr == 0) {
        fw_cfg_select(s, val);
    }
    /* Data port writes have been ignored by QEMU since 2.4. */
}

static const MemoryRegionOps fw_cfg_io_ops = {
    .read = fw_cfg_io_read,
    .write = fw_cfg_io_write,
    .valid = { .min_access_size = 1, .max_access_size = 2 },
    .impl = { .min_access_size = 1, .max_access_size = 2 },
};

/* ---- DMA ---- */

static bool fw_cfg_dma_transfer(FWCfgState *s, uint64_t addr, uint32_t len,
                                bool is_read)
{
    static const uint8_t zeros[4096];
    FWCfgEntry *e = fw_cfg_current(s);

    while (len) {
        uint32_t avail = e && s->cur_offset < e->len ?
                         e->len - s->cur_offset : 0;
        uint32_t chunk;

        if (!avail) {
            /* Past the end (or nothing selected): reads give zeros. */
            if (!is_read) {
                return true;
            }
            chunk = MIN(len, sizeof(zeros));
            if (!address_space_write(s->dma_as, addr, zeros, chunk)) {
                return false;
            }
        } else {
            chunk = MIN(len, avail);
            if (is_read && !address_space_write(s->dma_as, addr,
                                                e->data + s->cur_offset,
                                                chunk)) {
                return false;
            }
            s->cur_offset += chunk;
        }
        addr += chunk;
        len -= chunk;
    }
    return true;
}

static void fw_cfg_dma_run(FWCfgState *s, uint64_t desc_addr)
{
    uint8_t desc[16];
    uint32_t control, length, status = 0;
    uint64_t addr;

    if (!address_space_read(s->dma_as, desc_addr, desc, sizeof(desc))) {
        log_guest_error("fw_cfg: DMA descriptor at 0x%" PRIx64
                        " is not in memory", desc_addr);
        return;
    }
    control = GUINT32_FROM_BE(ldl_le(desc));
    length = GUINT32_FROM_BE(ldl_le(desc + 4));
    addr = GUINT64_FROM_BE(ldq_le(desc + 8));

    if (control & FW_CFG_DMA_CTL_SELECT) {
        fw_cfg_select(s, control >> 16);
    }
    if (control & FW_CFG_DMA_CTL_READ) {
        if (!fw_cfg_dma_transfer(s, addr, length, true)) {
            log_guest_error("fw_cfg: DMA read to 0x%" PRIx64 "+0x%x failed",
                            addr, length);
            status = FW_CFG_DMA_CTL_ERROR;
        }
    } else if (control & FW_CFG_DMA_CTL_WRITE) {
        /* No item is writable. */
        status = FW_CFG_DMA_CTL_ERROR;
    } else if (control & FW_CFG_DMA_CTL_SKIP) {
        fw_cfg_dma_transfer(s, addr, length, false);
    }

    stl_le(desc, GUINT32_TO_BE(status));
    if (!address_space_write(s->dma_as, desc_addr, desc, 4)) {
        log_guest_error("fw_cfg: cannot complete DMA descriptor at 0x%"
                        PRIx64, desc_addr);
    }
}

static uint64_t fw_cfg_dma_read(void *opaque, uint64_t addr, unsigned size)
{
    uint64_t val = 0;

    /* Byte i of the register is byte i of "QEMU CFG" (big-endian value). */
    for (unsigned i = 0; i < size && addr + i < 8; i++) {
        uint8_t byte = FW_CFG_DMA_SIGNATURE >> (8 * (7 - (addr + i)));

        val |= (uint64_t)byte << (8 * i);
    }
    return val;
}

static void fw_cfg_dma_write(void *opaque, uint64_t addr, uint64_t val,
                             unsigned size)
{
    FWCfgState *s = opaque;
    uint64_t desc;

    if (addr == 0 && size == 8) {
        desc = GUINT64_FROM_BE(val);
    } else if (addr == 0 && size == 4) {
        s->dma_addr = (uint64_t)GUINT32_FROM_BE((uint32_t)val) << 32;
        return;
    } else if (addr == 4 && size == 4) {
        desc = s->dma_addr | GUINT32_FROM_BE((uint32_t)val);
    } else {
        log_guest_error("fw_cfg: bad %u-byte DMA register write at +%" PRIu64,
                        size, addr);
        return;
    }
    s->dma_addr = 0;
    fw_cfg_dma_run(s, desc);
}

static const MemoryRegionOps fw_cfg_dma_ops = {
    .read = fw_cfg_dma_read,
    .write = fw_cfg_dma_write,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

/* ---- device ---- */

static bool fw_cfg_realize(DeviceState *dev, Error **errp)
{
    FWCfgState *s = container_of(dev, FWCfgState, parent_obj);
    uint32_t id = FW_CFG_VERSION;

    if (!s->dma_as) {
        s->dma_as = &address_space_memory;
    }
    if (s->dma_iobase) {
        id |= FW_CFG_VERSION_DMA;
    }
    fw_cfg_add_bytes(s, FW_CFG_SIGNATURE, "QEMU", 4);
    fw_cfg_add_i32(s, FW_CFG_ID, id);
    fw_cfg_update_file_dir(s);

    memory_region_init_io(&s->io, &fw_cfg_io_ops, s, "fw_cfg", 2);
    memory_region_add_subregion(get_system_io(), s->iobase, &s->io);
    if (s->dma_iobase) {
        memory_region_init_io(&s->dma_io, &fw_cfg_dma_ops, s, "fw_cfg-dma",
                              8);
        memory_region_add_subregion(get_system_io(), s->dma_iobase,
                                    &s->dma_io);
    }
    fw_cfg_instance = s;
    return true;
}

static void fw_cfg_reset(DeviceState *dev)
{
    FWCfgState *s = container_of(dev, FWCfgState, parent_obj);

    fw_cfg_select(s, FW_CFG_SIGNATURE);
    s->dma_addr = 0;
}

/*
 * The device never leaves the selection inconsistent; state written from
 * outside (the state round-trip test) is brought back in line so that
 * what gets sent always loads.
 */
static int fw_cfg_pre_save(void *opaque)
{
    FWCfgState *s = opaque;
    FWCfgEntry *e = fw_cfg_current(s);

    if (!e || (s->cur_key & FW_CFG_WRITE_CHANNEL)) {
        s->cur_key = FW_CFG_INVALID;
        s->cur_offset = 0;
    } else if (s->cur_offset > e->len) {
        s->cur_offset = e->len;
    }
    return 0;
}

static int fw_cfg_post_load(void *opaque, int version_id, Error **errp)
{
    FWCfgState *s = opaque;
    FWCfgEntry *e;

    if (s->cur_key == FW_CFG_INVALID) {
        if (s->cur_offset) {
            error_setg(errp, "fw_cfg: offset %u with no item selected",
                       s->cur_offset);
            return -1;
        }
        return 0;
    }
    e = fw_cfg_current(s);
    if (!e || (s->cur_key & FW_CFG_WRITE_CHANNEL)) {
        error_setg(errp, "fw_cfg: selected key 0x%x does not exist",
                   s->cur_key);
        return -1;
    }
    if (s->cur_offset > e->len) {
        error_setg(errp, "fw_cfg: offset %u is past the end of item 0x%x "
                   "(%u bytes)", s->cur_offset, s->cur_key, e->len);
        return -1;
    }
    return 0;
}

static const VMStateField fw_cfg_vmstate_fields[] = {
    VMSTATE_UINT16(cur_key, FWCfgState),
    VMSTATE_UINT32(cur_offset, FWCfgState),
    VMSTATE_UINT64(dma_addr, FWCfgState),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription fw_cfg_vmstate = {
    .name = "fw_cfg",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = fw_cfg_vmstate_fields,
    .pre_save = fw_cfg_pre_save,
    .post_load = fw_cfg_post_load,
};

static const Property fw_cfg_props[] = {
    DEFINE_PROP_UINT16("iobase", FWCfgState, iobase, FW_CFG_IO_BASE),
    DEFINE_PROP_UINT16("dma_iobase", FWCfgState, dma_iobase,
                       FW_CFG_DMA_IO_BASE),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass fw_cfg_io_class = {
    .name = "fw_cfg_io",
    .desc = "QEMU firmware configuration interface (I/O ports)",
    .bus = BUS_SYSTEM,
    .instance_size = sizeof(FWCfgState),
    .props = fw_cfg_props,
    .realize = fw_cfg_realize,
    .reset = fw_cfg_reset,
    .vmsd = &fw_cfg_vmstate,
};
DEVICE_REGISTER(fw_cfg_io_class);

FWCfgState *fw_cfg_init_io_dma(uint16_t iobase, uint16_t dma_iobase,
                               AddressSpace *dma_as)
{
    DeviceState *dev = device_new("fw_cfg_io");
    FWCfgState *s = container_of(dev, FWCfgState, parent_obj);
    Error *err = NULL;

    s->dma_as = dma_as;
    if (!device_set_prop_int(dev, "iobase", iobase, &err) ||
        !device_set_prop_int(dev, "dma_iobase", dma_iobase, &err) ||
        !device_realize(dev, &err)) {
        error_report_err(err);
        exit(1);
    }
    return s;
}

FWCfgState *fw_cfg_find(void)
{
    return fw_cfg_instance;
}
