/*
 * smbios: find the SMBIOS 2.1 entry point the firmware placed in the
 * F segment, check its checksums and walk the structure table it points
 * to, printing what a guest's DMI decoder would read.
 */
#include "guest.h"

static uint8_t sum(const uint8_t *p, uint32_t len)
{
    uint8_t s = 0;

    while (len--)
        s += *p++;
    return s;
}

/* String number n (from 1) of the structure at s; "" for none. */
static const char *dmi_string(const uint8_t *s, uint8_t n)
{
    const char *str = (const char *)s + s[1];

    if (!n)
        return "";
    while (--n) {
        if (!*str)
            return "?";
        str += strlen(str) + 1;
    }
    return str;
}

void test_smbios(void)
{
    const uint8_t *ep = 0;

    for (uint32_t a = 0xf0000; a < 0x100000; a += 16) {
        if (!memcmp((const void *)a, "_SM_", 4)) {
            ep = (const uint8_t *)a;
            break;
        }
    }
    if (!ep)
        fail("smbios", "no _SM_ entry point in 0xf0000-0xfffff");
    if (ep[5] < 0x1f || sum(ep, ep[5]) || memcmp(ep + 16, "_DMI_", 5) ||
        sum(ep + 16, ep[5] - 16))
        fail("smbios", "entry point at %p: bad length or checksum", ep);

    uint32_t len = ep[22] | ep[23] << 8;
    uint32_t count = ep[28] | ep[29] << 8;
    const uint8_t *t = (const uint8_t *)(ep[24] | ep[25] << 8 |
                                         ep[26] << 16 | (uint32_t)ep[27] << 24);
    kprintf("smbios: version %u.%u structures=%u length=%u\n", ep[6], ep[7],
            count, len);

    uint32_t off = 0, seen = 0, cpus = 0;
    int end = 0;
    while (off + 4 <= len && !end) {
        const uint8_t *s = t + off;
        if (s[1] < 4 || off + s[1] > len)
            fail("smbios", "structure %u: bad length %u", seen, s[1]);
        switch (s[0]) {
        case 0:
            kprintf("smbios: bios vendor=%s\n", dmi_string(s, s[4]));
            break;
        case 1:
            kprintf("smbios: system manufacturer=%s product=%s\n",
                    dmi_string(s, s[4]), dmi_string(s, s[5]));
            break;
        case 4:
            cpus++;
            break;
        case 17:
            kprintf("smbios: memory device size=%u MiB\n",
                    s[12] | s[13] << 8);
            break;
        case 127:
            end = 1;
            break;
        }
        off += s[1];
        while (off + 1 < len && (t[off] || t[off + 1]))
            off++;
        off += 2;
        seen++;
    }
    if (!end || seen != count || off != len)
        fail("smbios", "walked %u structures, %u bytes; end %s", seen, off,
             end ? "found" : "missing");
    kprintf("smbios: processors=%u\n", cpus);
    pass("smbios");
}
