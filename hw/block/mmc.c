/*
 * MMC-5 replies shared by the ATAPI and the SCSI CD-ROM (hw/block/mmc.h).
 */
#include "hw/block/mmc.h"
#include "util/byteorder.h"
#include "util/osdep.h"

/* An LBA as MSF (with the 2 s lead-in) or big-endian, 4 bytes. */
static void put_addr(uint8_t *p, uint32_t lba, bool msf)
{
    if (msf) {
        lba += 150;
        p[0] = 0;
        p[1] = lba / (75 * 60);
        p[2] = lba / 75 % 60;
        p[3] = lba % 75;
    } else {
        st_be32(p, lba);
    }
}

int mmc_read_toc(const uint8_t *cdb, uint32_t blocks, uint8_t *buf)
{
    bool msf = cdb[1] & 2;
    int format = cdb[2] & 0x0f, track = cdb[6];
    uint32_t lead_out = MIN(blocks, UINT32_MAX - 150);
    uint8_t *p = buf + 4;

    if (!format) {
        format = cdb[9] >> 6;                   /* SFF-8020 placement */
    }
    memset(buf, 0, MMC_TOC_BUF_SIZE);
    buf[2] = buf[3] = 1;                        /* first, last track/session */
    switch (format) {
    case 0:                                     /* TOC */
        if (track > 1 && track != 0xaa) {
            return -1;
        }
        if (track <= 1) {
            p[1] = 0x14;                        /* ADR 1, data track */
            p[2] = 1;
            put_addr(p + 4, 0, msf);
            p += 8;
        }
        p[1] = 0x14;
        p[2] = 0xaa;                            /* lead-out */
        put_addr(p + 4, lead_out, msf);
        p += 8;
        break;
    case 1:                                     /* session information */
        p[1] = 0x14;
        p[2] = 1;
        put_addr(p + 4, 0, msf);
        p += 8;
        break;
    case 2: {                                   /* full TOC, always MSF */
        static const uint8_t points[4] = { 0xa0, 0xa1, 0xa2, 1 };
        for (int i = 0; i < 4; i++, p += 11) {
            p[0] = 1;                           /* session */
            p[1] = 0x14;
            p[3] = points[i];
            if (points[i] == 0xa0 || points[i] == 0xa1) {
                p[8] = 1;                       /* first / last track */
            } else {
                put_addr(p + 7, points[i] == 0xa2 ? lead_out : 0, true);
            }
        }
        break;
    }
    default:
        return -1;
    }
    st_be16(buf, p - buf - 2);
    return p - buf;
}

static uint8_t *add_feature(uint8_t *p, uint16_t code, bool current,
                            uint8_t len)
{
    memset(p, 0, 4 + len);
    st_be16(p, code);
    p[2] = current ? 0x03 : 0x02;               /* persistent, current */
    p[3] = len;
    return p + 4;
}

int mmc_get_configuration(const uint8_t *cdb, bool has_medium,
                          uint32_t blocks, uint32_t interface, uint8_t *buf)
{
    int rt = cdb[1] & 3, start = ld_be16(cdb + 2);
    uint16_t profile = !has_medium ? 0 :
                       blocks > MMC_CD_MAX_BLOCKS ? 0x0010 : 0x0008;
    static const uint16_t codes[] = { 0x0000, 0x0001, 0x0003, 0x0010 };
    uint8_t *p = buf + 8, *f;

    if (rt == 3) {
        return -1;
    }
    memset(buf, 0, 8);
    st_be16(buf + 6, profile);
    for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
        uint16_t code = codes[i];
        bool current = code != 0x0010 || profile;
        if (code < start || (rt == 2 && code != start) ||
            (rt == 1 && !current)) {
            continue;
        }
        switch (code) {
        case 0x0000:                            /* profile list */
            f = add_feature(p, code, true, 8);
            st_be16(f, 0x0010);                 /* DVD-ROM */
            f[2] = profile == 0x0010;
            st_be16(f + 4, 0x0008);             /* CD-ROM */
            f[6] = profile == 0x0008;
            p = f + 8;
            break;
        case 0x0001:                            /* core */
            f = add_feature(p, code, true, 8);
            st_be32(f, interface);
            p = f + 8;
            break;
        case 0x0003:                            /* removable medium */
            f = add_feature(p, code, true, 4);
            f[0] = 0x20 | 0x08 | 0x01;          /* tray, eject, lock */
            p = f + 4;
            break;
        default:                                /* random readable */
            f = add_feature(p, code, current, 8);
            p[2] &= ~0x02;                      /* not persistent */
            st_be32(f, MMC_BLOCK_SIZE);
            st_be16(f + 4, 1);
            p = f + 8;
            break;
        }
    }
    st_be32(buf, p - buf - 4);
    return p - buf;
}

int mmc_event_status(const uint8_t *cdb, bool has_medium, bool tray_open,
                     uint8_t *media_event, uint8_t *buf)
{
    if (!(cdb[1] & 1)) {                        /* only polled operation */
        return -1;
    }
    memset(buf, 0, MMC_EVENT_BUF_SIZE);
    buf[3] = 0x10;                              /* supports: media class */
    if (!(cdb[4] & 0x10)) {
        st_be16(buf, 2);
        buf[2] = 0x80;                          /* no event available */
        return 4;
    }
    st_be16(buf, 6);
    buf[2] = 4;                                 /* media class */
    buf[4] = *media_event;
    buf[5] = (has_medium ? 0x02 : 0) | (tray_open ? 0x01 : 0);
    *media_event = MEC_NO_CHANGE;
    return 8;
}
