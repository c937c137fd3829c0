/*
 * "demo": a human-readable tour of what the guest can see.
 */
#include "guest.h"

/* PCI configuration mechanism #1: address to 0xcf8, data at 0xcfc. */
static uint32_t pci_read(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
    outl(0xcf8, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc));
    return inl(0xcfc);
}

static const char *mem_type(uint32_t t)
{
    switch (t) {
    case 1: return "usable";
    case 2: return "reserved";
    case 3: return "acpi";
    case 4: return "nvs";
    default: return "other";
    }
}

void test_demo(void)
{
    kprintf("demo: kestrel test guest, booted via %s\n", boot_info.flavour);
    kprintf("demo: command line \"%s\"\n", boot_info.cmdline ? boot_info.cmdline : "");

    uint64_t usable = 0;
    for (uint32_t i = 0; i < boot_info.nr_mem; i++) {
        const struct mem_range *r = &boot_info.mem[i];
        kprintf("demo: memory %016llx-%016llx %s\n", r->base,
                r->base + r->len - 1, mem_type(r->type));
        if (r->type == 1)
            usable += r->len;
    }
    kprintf("demo: usable memory %uM\n", (uint32_t)(usable >> 20));
    if (boot_info.nr_modules)
        kprintf("demo: %u module(s), first at 0x%x, %u bytes\n",
                boot_info.nr_modules, boot_info.mod_start, boot_info.mod_size);

    kprintf("demo: cpus %u\n", fwcfg_nb_cpus());

    unsigned found = 0;
    for (unsigned dev = 0; dev < 32; dev++) {
        for (unsigned fn = 0; fn < 8; fn++) {
            uint32_t idr = pci_read(0, dev, fn, 0x00);
            if ((idr & 0xffff) == 0xffff) {
                if (fn == 0)
                    break;         /* no device in this slot */
                continue;
            }
            uint32_t cls = pci_read(0, dev, fn, 0x08) >> 16;
            kprintf("pci 00:%02x.%u %04x:%04x class %04x\n", dev, fn,
                    idr & 0xffff, idr >> 16, cls);
            found++;
            /* Header type bit 7: multi-function device. */
            if (fn == 0 && !(pci_read(0, dev, 0, 0x0c) & 0x00800000))
                break;
        }
    }
    kprintf("demo: %u pci functions on bus 0\n", found);

    struct rtc_time t;
    if (rtc_read(&t) == 0)
        kprintf("demo: rtc %04u-%02u-%02u %02u:%02u:%02u UTC\n", t.year, t.mon,
                t.day, t.hour, t.min, t.sec);
    else
        kprintf("demo: rtc unreadable\n");
    if (!found)
        fail("demo", "no PCI device found");
    kprintf("PASS demo\n");
    /* Exit through isa-debug-exit if there is one; otherwise reset through
     * the keyboard controller, which -no-reboot turns into a clean exit. */
    outb(0xf4, 0);
    outb(0x64, 0xfe);
    debug_exit(0);
}
