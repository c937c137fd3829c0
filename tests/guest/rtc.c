/*
 * MC146818-style RTC / CMOS at ports 0x70 (index) and 0x71 (data).
 *
 * Time registers: 0 sec, 2 min, 4 hour, 7 day, 8 month, 9 year,
 * 0x32 century.  Status A bit 7 (UIP) is set while the clock updates.
 * Status B bit 2 (DM) selects binary instead of BCD, bit 1 selects
 * 24-hour mode; in 12-hour mode bit 7 of the hour register means PM.
 */
#include "guest.h"

uint8_t cmos_read(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static unsigned from_bcd(uint8_t v) { return (v >> 4) * 10u + (v & 15u); }

static void read_raw(uint8_t r[7])
{
    static const uint8_t regs[7] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32 };
    for (int i = 0; i < 7; i++)
        r[i] = cmos_read(regs[i]);
}

int rtc_read(struct rtc_time *t)
{
    uint8_t a[7], b[7];
    int tries;

    /* Read until two consecutive snapshots taken outside an update match. */
    for (tries = 0; tries < 10; tries++) {
        for (unsigned i = 0; i < 100000 && (cmos_read(0x0a) & 0x80); i++)
            ;
        read_raw(a);
        for (unsigned i = 0; i < 100000 && (cmos_read(0x0a) & 0x80); i++)
            ;
        read_raw(b);
        if (!memcmp(a, b, sizeof(a)))
            break;
    }
    if (tries == 10)
        return -1;

    uint8_t sb = cmos_read(0x0b);
    int binary = sb & 0x04, h24 = sb & 0x02;
    int pm = !h24 && (a[2] & 0x80);
    if (!h24)
        a[2] &= 0x7f;
    unsigned v[7];
    for (int i = 0; i < 7; i++)
        v[i] = binary ? a[i] : from_bcd(a[i]);
    if (!h24) {                    /* 12 AM = 0h, 12 PM = 12h */
        v[2] %= 12;
        if (pm)
            v[2] += 12;
    }
    t->sec = v[0], t->min = v[1], t->hour = v[2];
    t->day = v[3], t->mon = v[4];
    t->year = (v[6] ? v[6] : 20) * 100 + v[5];
    if (t->sec > 59 || t->min > 59 || t->hour > 23 || t->day < 1 ||
        t->day > 31 || t->mon < 1 || t->mon > 12 || t->year < 1970)
        return -2;
    return 0;
}

void test_rtc(void)
{
    struct rtc_time t;
    int r = rtc_read(&t);
    if (r == -1)
        fail("rtc", "time registers never stable");
    if (r == -2)
        fail("rtc", "invalid time %u-%u-%u %u:%u:%u", t.year, t.mon, t.day,
             t.hour, t.min, t.sec);
    kprintf("rtc: %04u-%02u-%02u %02u:%02u:%02u\n", t.year, t.mon, t.day,
            t.hour, t.min, t.sec);
    pass("rtc");
}

/*
 * Memory size as the BIOS data in CMOS describes it (QEMU's layout):
 * 0x15/0x16 base memory KiB, 0x17/0x18 and 0x30/0x31 KiB above 1 MiB
 * (capped at 65535), 0x34/0x35 64 KiB units above 16 MiB below 4 GiB,
 * 0x5b-0x5d 64 KiB units above 4 GiB.
 */
void test_cmos_mem(void)
{
    unsigned base = cmos_read(0x15) | (unsigned)cmos_read(0x16) << 8;
    unsigned ext = cmos_read(0x17) | (unsigned)cmos_read(0x18) << 8;
    unsigned ext2 = cmos_read(0x30) | (unsigned)cmos_read(0x31) << 8;
    unsigned above16m = cmos_read(0x34) | (unsigned)cmos_read(0x35) << 8;
    unsigned above4g = cmos_read(0x5b) | (unsigned)cmos_read(0x5c) << 8 |
                       (unsigned)cmos_read(0x5d) << 16;

    if (ext != ext2)
        fail("cmos-mem", "extended memory 0x17/0x18=%u but 0x30/0x31=%u",
             ext, ext2);
    if (base == 0 || base > 640)
        fail("cmos-mem", "bad base memory %u KiB", base);

    uint64_t kib = above16m ? 16384 + (uint64_t)above16m * 64 : 1024 + ext;
    kib += (uint64_t)above4g * 64;
    kprintf("cmos-mem: base=%u ext=%u above16m=%u above4g=%u total=%uM\n",
            base, ext, above16m, above4g, (uint32_t)(kib >> 10));
    pass("cmos-mem");
}
