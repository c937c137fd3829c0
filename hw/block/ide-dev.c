/*
 * Drives on the IDE channels: attaching a disk or CD-ROM to a slot (the
 * geometry, identification strings and write cache it starts with), the
 * ide-hd and ide-cd devices of -device, and the if=ide drives of the
 * drive table (-hda..-hdd, -cdrom, -drive if=ide).
 */
#include "ide-internal.h"
#include "block/drive.h"
#include "hw/timer/mc146818rtc.h"

static unsigned drive_serial;

/* The translated geometry BIOSes expect: 16 heads, 63 sectors a track. */
static void ide_size_geometry(IDEState *s)
{
    uint64_t cyls = s->nb_sectors / (16 * 63);

    s->heads = 16;
    s->sectors = 63;
    s->cylinders = MAX(MIN(cyls, 16383), 2);
}

static IDEChsTrans ide_auto_trans(IDEState *s)
{
    return s->cylinders <= 1024 && s->heads <= 16 && s->sectors <= 63 ?
           IDE_CHS_TRANS_NONE : IDE_CHS_TRANS_LBA;
}

/*
 * The geometry an MS-DOS partition table was made with: the first used
 * entry is taken to end on a cylinder boundary.  False without a table.
 */
static bool ide_mbr_geometry(IDEState *s, uint32_t *cyls, uint32_t *heads,
                             uint32_t *secs)
{
    uint8_t mbr[IDE_SECTOR_SIZE];

    if (blk_pread(s->blk, 0, mbr, sizeof(mbr)) < 0 ||
        mbr[510] != 0x55 || mbr[511] != 0xaa) {
        return false;
    }
    for (int i = 0; i < 4; i++) {
        const uint8_t *p = mbr + 0x1be + 16 * i;
        uint32_t h = p[5] + 1, sec = p[6] & 63;     /* end head, sector */
        uint64_t c = sec ? s->nb_sectors / (h * sec) : 0;

        if (!ldl_le(p + 12) || h == 1 || c < 1 || c > 16383) {
            continue;
        }
        *cyls = c;
        *heads = h;
        *secs = sec;
        return true;
    }
    return false;
}

/*
 * A disk without a given geometry, as QEMU guesses it: a partition
 * table's geometry when it has at most 16 heads, untranslated; more heads
 * mean a translating BIOS wrote it, so the standard geometry with LARGE
 * (up to 131072 cylinders x heads) or LBA translation; no table, the
 * standard geometry.
 */
static IDEChsTrans ide_guess_geometry(IDEState *s)
{
    uint32_t c, h, sec;

    if (s->kind != IDE_HD || !ide_mbr_geometry(s, &c, &h, &sec)) {
        ide_size_geometry(s);
        return ide_auto_trans(s);
    }
    if (h > 16) {
        ide_size_geometry(s);
        return s->cylinders * s->heads <= 131072 ? IDE_CHS_TRANS_LARGE
                                                 : IDE_CHS_TRANS_LBA;
    }
    s->cylinders = c;
    s->heads = h;
    s->sectors = sec;
    return IDE_CHS_TRANS_NONE;
}

/* What query-block shows of a CD-ROM drive, and drive_del's news. */
static bool ide_cd_tray_open(void *opaque)
{
    return ((IDEState *)opaque)->tray_open;
}

static bool ide_cd_locked(void *opaque)
{
    return ((IDEState *)opaque)->tray_locked;
}

static void ide_cd_removed(void *opaque)
{
    ide_cd_medium_removed(opaque);
}

static const BlockDevOps ide_cd_block_ops = {
    .is_tray_open = ide_cd_tray_open,
    .is_medium_locked = ide_cd_locked,
    .medium_removed = ide_cd_removed,
};

IDEState *ide_drive_attach(IDEBus *bus, int unit, IDEDriveKind kind,
                           BlockBackend *blk, const IDEDriveConf *conf,
                           Error **errp)
{
    static const IDEDriveConf none;
    IDEState *s;

    conf = conf ? conf : &none;
    if (unit < 0) {
        unit = bus->ifs[0].kind == IDE_NONE ? 0 : 1;
    }
    if (unit > 1) {
        error_setg(errp, "IDE unit %d does not exist (0 or 1)", unit);
        return NULL;
    }
    s = &bus->ifs[unit];
    if (s->kind != IDE_NONE) {
        error_setg(errp, "IDE unit %d on %s is already in use", unit,
                   bus->name);
        return NULL;
    }
    if (!blk) {
        error_setg(errp, "an IDE drive needs a block backend");
        return NULL;
    }
    if (kind == IDE_HD && !blk_is_inserted(blk)) {
        error_setg(errp, "an IDE disk needs a drive with a medium");
        return NULL;
    }
    bool some = conf->cyls || conf->heads || conf->secs;
    bool all = conf->cyls && conf->heads && conf->secs;
    if (conf->heads > 16 || conf->secs > 255 || conf->cyls > 65535 ||
        some != all) {
        error_setg(errp, "invalid geometry %u/%u/%u: cyls 1-65535, heads "
                   "1-16 and secs 1-255, all three or none", conf->cyls,
                   conf->heads, conf->secs);
        return NULL;
    }
    s->kind = kind;
    s->blk = blk;
    s->qdev = conf->qdev;
    s->nb_sectors = blk_getlength(blk) / IDE_SECTOR_SIZE;
    if (conf->cyls) {
        s->cylinders = conf->cyls;
        s->heads = conf->heads;
        s->sectors = conf->secs;
        s->chs_trans = ide_auto_trans(s);
    } else {
        s->chs_trans = ide_guess_geometry(s);
    }
    if (conf->chs_trans != IDE_CHS_TRANS_AUTO) {
        s->chs_trans = conf->chs_trans;
    }
    drive_serial++;
    if (conf->serial) {
        g_strlcpy(s->serial, conf->serial, sizeof(s->serial));
    } else {
        snprintf(s->serial, sizeof(s->serial), "QM%05u", drive_serial);
    }
    g_strlcpy(s->model, conf->model ? conf->model :
              kind == IDE_CD ? "QEMU DVD-ROM" : "QEMU HARDDISK",
              sizeof(s->model));
    g_strlcpy(s->version, conf->version ? conf->version : "2.5+",
              sizeof(s->version));
    s->wce_default = kind == IDE_HD && blk_enable_write_cache(blk);
    s->tray_open = false;
    blk_iostatus_enable(blk);
    if (kind == IDE_CD) {
        blk_set_dev_ops(blk, &ide_cd_block_ops, s);
    }
    ide_drive_reset(s);
    return s;
}

/* A drive by its device id or the id of its -drive. */
IDEState *ide_find_drive(const char *name)
{
    for (int b = 0; b < 2; b++) {
        IDEBus *bus = ide_bus_find(b ? "ide.1" : "ide.0");
        for (int i = 0; bus && i < 2; i++) {
            IDEState *s = &bus->ifs[i];
            DriveInfo *d = s->blk ? drive_get_by_blk(s->blk) : NULL;
            if (s->kind != IDE_NONE &&
                ((s->qdev && s->qdev->id && !strcmp(s->qdev->id, name)) ||
                 (d && d->id && !strcmp(d->id, name)))) {
                return s;
            }
        }
    }
    return NULL;
}

const char *ide_drive_name(IDEState *s)
{
    DriveInfo *d = s->blk ? drive_get_by_blk(s->blk) : NULL;

    if (d && d->id) {
        return d->id;
    }
    return s->qdev && s->qdev->id ? s->qdev->id : s->bus->name;
}

/* ---- the drive table ---- */

/* As in QEMU, each if=ide drive gets an ide-hd or ide-cd device, so that
 * -global ide-hd.serial=... and the QOM tree see it too. */
bool ide_attach_drive_table(PCIIDEState *d, Error **errp)
{
    for (int b = 0; b < MAX_IDE_BUS; b++) {
        for (int u = 0; u < MAX_IDE_UNITS; u++) {
            DriveInfo *di = drive_get(IF_IDE, b, u);
            if (!di) {
                continue;
            }
            DeviceState *dev = device_new(di->media == MEDIA_CDROM ?
                                          "ide-cd" : "ide-hd");
            if (!device_set_prop(dev, "drive", di->id, errp) ||
                !device_set_prop(dev, "bus", d->bus[b].name, errp) ||
                !device_set_prop_int(dev, "unit", u, errp) ||
                !device_realize(dev, errp)) {
                device_free(dev);
                error_prepend(errp, "-drive %s: ", di->optstr);
                return false;
            }
        }
    }
    return true;
}

/* ---- -device ide-hd / ide-cd ---- */

typedef struct IDEDevice {
    DeviceState parent_obj;
    BlockBackend *blk;                  /* drive=ID, claimed when set */
    char *bus, *serial, *model, *ver, *chs_trans;
    uint32_t unit, cyls, heads, secs;
    IDEState *s;
} IDEDevice;

#define IDE_UNIT_AUTO UINT32_MAX

static bool ide_parse_chs_trans(const char *name, IDEChsTrans *trans)
{
    static const char *const names[] = {
        [IDE_CHS_TRANS_AUTO] = "auto", [IDE_CHS_TRANS_NONE] = "none",
        [IDE_CHS_TRANS_LBA] = "lba", [IDE_CHS_TRANS_LARGE] = "large",
        [IDE_CHS_TRANS_RECHS] = "rechs",
    };

    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (!strcmp(name, names[i])) {
            *trans = i;
            return true;
        }
    }
    return false;
}

static bool ide_dev_realize(DeviceState *dev, IDEDriveKind kind, Error **errp)
{
    IDEDevice *d = (IDEDevice *)dev;
    BlockBackend *blk = d->blk;
    IDEBus *bus = NULL;
    int unit = d->unit == IDE_UNIT_AUTO ? -1 : (int)MIN(d->unit, 2);

    if (!blk && kind == IDE_HD) {
        error_setg(errp, "drive property not set");
        return false;
    }
    if (d->bus) {
        bus = ide_bus_find(d->bus);
        if (!bus) {
            error_setg(errp, "Bus '%s' not found", d->bus);
            return false;
        }
    } else {
        /* The first channel with a free slot (the given one, if any). */
        for (int b = 0; b < 2 && !bus; b++) {
            IDEBus *c = ide_bus_find(b ? "ide.1" : "ide.0");
            for (int u = 0; c && u < 2 && !bus; u++) {
                if (c->ifs[u].kind == IDE_NONE && (unit < 0 || unit == u)) {
                    bus = c;
                }
            }
        }
        if (!bus) {
            error_setg(errp, "no free IDE slot%s", ide_bus_find(NULL) ? "" :
                       " (there is no IDE controller)");
            return false;
        }
    }
    IDEDriveConf conf = {
        .serial = d->serial, .model = d->model, .version = d->ver,
        .cyls = d->cyls, .heads = d->heads, .secs = d->secs, .qdev = dev,
    };
    if (d->chs_trans && !ide_parse_chs_trans(d->chs_trans, &conf.chs_trans)) {
        error_setg(errp, "Property '%s.bios-chs-trans' does not accept value "
                   "'%s' (auto, none, lba, large or rechs)", dev->klass->name,
                   d->chs_trans);
        return false;
    }
    /* A CD-ROM drive without a disc gets an empty backend. */
    BlockBackend *empty = blk ? NULL : blk_new_empty();
    d->s = ide_drive_attach(bus, unit, kind, blk ? blk : empty, &conf, errp);
    if (!d->s) {
        blk_unref(empty);
        return false;
    }
    d->blk = d->s->blk;         /* so the monitor finds the device by it */
    return true;
}

static bool ide_hd_realize(DeviceState *dev, Error **errp)
{
    return ide_dev_realize(dev, IDE_HD, errp);
}

static bool ide_cd_realize(DeviceState *dev, Error **errp)
{
    return ide_dev_realize(dev, IDE_CD, errp);
}

/* The drive's power-on state (the controller resets it too). */
static void ide_dev_reset(DeviceState *dev)
{
    IDEDevice *d = (IDEDevice *)dev;
    ide_drive_reset(d->s);
}

static const Property ide_dev_props[] = {
    DEFINE_PROP_DRIVE("drive", IDEDevice, blk),
    DEFINE_PROP_STRING("bus", IDEDevice, bus),
    DEFINE_PROP_UINT32("unit", IDEDevice, unit, IDE_UNIT_AUTO),
    DEFINE_PROP_STRING("serial", IDEDevice, serial),
    DEFINE_PROP_STRING("model", IDEDevice, model),
    DEFINE_PROP_STRING("ver", IDEDevice, ver),
    DEFINE_PROP_UINT32("cyls", IDEDevice, cyls, 0),
    DEFINE_PROP_UINT32("heads", IDEDevice, heads, 0),
    DEFINE_PROP_UINT32("secs", IDEDevice, secs, 0),
    DEFINE_PROP_STRING("bios-chs-trans", IDEDevice, chs_trans),
    DEFINE_PROP_END_OF_LIST(),
};

/* The drive's registers and transfer state travel with the controller. */
static const VMStateDescription vmstate_ide_dev = {
    .name = "ide-drive",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_END_OF_LIST()
    },
};

static const DeviceClass ide_hd_class = {
    .name = "ide-hd",
    .desc = "virtual IDE disk",
    .bus = BUS_SYSTEM,
    .instance_size = sizeof(IDEDevice),
    .props = ide_dev_props,
    .user_creatable = true,
    .realize = ide_hd_realize,
    .reset = ide_dev_reset,
    .vmsd = &vmstate_ide_dev,
};
DEVICE_REGISTER(ide_hd_class)

static const DeviceClass ide_cd_class = {
    .name = "ide-cd",
    .desc = "virtual IDE CD-ROM",
    .bus = BUS_SYSTEM,
    .instance_size = sizeof(IDEDevice),
    .props = ide_dev_props,
    .user_creatable = true,
    .realize = ide_cd_realize,
    .reset = ide_dev_reset,
    .vmsd = &vmstate_ide_dev,
};
DEVICE_REGISTER(ide_cd_class)

/* ---- CMOS: what the BIOS reads about disks ---- */

/* Disk types and geometry of the primary disks (AT layout, type 47 =
 * "user defined"), and the translation byte SeaBIOS reads under QEMU. */
void ide_cmos_init(DeviceState *rtc)
{
    IDEBus *bus0 = ide_bus_find("ide.0"), *bus1 = ide_bus_find("ide.1");
    uint8_t types = 0, trans = 0;

    for (int i = 0; i < 4; i++) {
        IDEBus *bus = i < 2 ? bus0 : bus1;
        IDEState *s = bus ? &bus->ifs[i & 1] : NULL;
        if (!s || s->kind != IDE_HD) {
            continue;
        }
        trans |= (s->chs_trans - IDE_CHS_TRANS_NONE) << (2 * i);
        if (i >= 2) {
            continue;
        }
        int base = i ? 0x24 : 0x1b;
        types |= 0xf0 >> (4 * i);
        mc146818rtc_set_cmos_data(rtc, 0x19 + i, 47);
        mc146818rtc_set_cmos_data(rtc, base, s->cylinders);
        mc146818rtc_set_cmos_data(rtc, base + 1, s->cylinders >> 8);
        mc146818rtc_set_cmos_data(rtc, base + 2, s->heads);
        mc146818rtc_set_cmos_data(rtc, base + 3, 0xff);   /* no precomp */
        mc146818rtc_set_cmos_data(rtc, base + 4, 0xff);
        mc146818rtc_set_cmos_data(rtc, base + 5,
                                  0xc0 | (s->heads > 8 ? 0x08 : 0));
        mc146818rtc_set_cmos_data(rtc, base + 6, s->cylinders);
        mc146818rtc_set_cmos_data(rtc, base + 7, s->cylinders >> 8);
        mc146818rtc_set_cmos_data(rtc, base + 8, s->sectors);
    }
    mc146818rtc_set_cmos_data(rtc, 0x12, types);
    mc146818rtc_set_cmos_data(rtc, 0x39, trans);
}
