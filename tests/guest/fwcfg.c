/*
 * QEMU firmware configuration interface (fw_cfg), x86 I/O port flavour.
 *
 * PIO: write a 16-bit item key to port 0x510, then read the item's bytes
 * one at a time from port 0x511.
 * DMA: put a FWCfgDmaAccess descriptor (all fields big-endian) in RAM and
 * write its physical address, big-endian, high half to port 0x514 and low
 * half to 0x518; the write of the low half starts the transfer.  The
 * device clears the control word when done (or leaves bit 0 = error).
 */
#include "guest.h"

#define DMA_ERROR  0x01
#define DMA_READ   0x02
#define DMA_SKIP   0x04
#define DMA_SELECT 0x08

struct fw_cfg_file { uint32_t size; uint16_t select, reserved; char name[56]; };
struct fw_cfg_dma { uint32_t control, length; uint64_t address; };

#define MAX_FILES 64
static struct { uint32_t count; struct fw_cfg_file f[MAX_FILES]; }
    __attribute__((packed)) dir_pio, dir_dma;
static uint8_t buf_pio[512], buf_dma[512];

void fwcfg_select(uint16_t key) { outw(0x510, key); }

void fwcfg_read(void *buf, uint32_t len)
{
    uint8_t *p = buf;
    while (len--)
        *p++ = inb(0x511);
}

int fwcfg_present(void)
{
    char sig[4];
    fwcfg_select(FW_CFG_SIGNATURE);
    fwcfg_read(sig, 4);
    return !memcmp(sig, "QEMU", 4);
}

uint16_t fwcfg_nb_cpus(void)
{
    uint16_t n = 0;
    if (fwcfg_present()) {
        fwcfg_select(FW_CFG_NB_CPUS);
        fwcfg_read(&n, 2);
    }
    return n;
}

/* One DMA operation; control may carry DMA_SELECT with the key << 16. */
static int dma(uint32_t control, void *buf, uint32_t len)
{
    static volatile struct fw_cfg_dma d __attribute__((aligned(16)));
    d.control = bswap32(control);
    d.length = bswap32(len);
    d.address = bswap64((uint32_t)buf);
    outl(0x514, 0);                               /* high 32 bits */
    outl(0x518, bswap32((uint32_t)&d));           /* low 32 bits: go */
    for (unsigned i = 0; i < 1000000; i++) {
        uint32_t c = bswap32(d.control);
        if (!(c & ~DMA_ERROR))
            return c & DMA_ERROR ? -1 : 0;
        cpu_relax();
    }
    return -2;
}

#define SEL(key) (DMA_SELECT | (uint32_t)(key) << 16)

void test_fwcfg(void)
{
    const char *T = "fwcfg";
    char sig[9] = { 0 };
    uint32_t id;
    uint64_t ram, ram_dma;
    uint16_t cpus;

    /* ---- PIO ---- */
    fwcfg_select(FW_CFG_SIGNATURE);
    fwcfg_read(sig, 4);
    if (memcmp(sig, "QEMU", 4))
        fail(T, "bad signature");
    fwcfg_select(FW_CFG_ID);
    fwcfg_read(&id, 4);
    fwcfg_select(FW_CFG_RAM_SIZE);
    fwcfg_read(&ram, 8);
    fwcfg_select(FW_CFG_NB_CPUS);
    fwcfg_read(&cpus, 2);
    fwcfg_select(FW_CFG_FILE_DIR);
    fwcfg_read(&dir_pio.count, 4);
    uint32_t n = bswap32(dir_pio.count);
    if (n > MAX_FILES)
        fail(T, "too many files (%u)", n);
    fwcfg_read(dir_pio.f, n * sizeof(struct fw_cfg_file));
    for (uint32_t i = 0; i < n; i++)
        kprintf("fwcfg: file %s size=%u\n", dir_pio.f[i].name,
                bswap32(dir_pio.f[i].size));
    int has_dma = (id >> 1) & 1;
    kprintf("fwcfg: sig=%s dma=%d ram=%uM cpus=%u files=%u\n", sig, has_dma,
            (uint32_t)(ram >> 20), cpus, n);
    if (!has_dma)
        fail(T, "no DMA interface (id=%x)", id);

    /* ---- DMA ---- */
    /* Reading the 8-byte DMA address register returns "QEMU CFG". */
    uint32_t reg[2] = { inl(0x514), inl(0x518) };
    if (memcmp(reg, "QEMU CFG", 8))
        fail(T, "DMA register does not read \"QEMU CFG\"");
    memset(sig, 0, sizeof(sig));
    if (dma(SEL(FW_CFG_SIGNATURE) | DMA_READ, sig, 4) || memcmp(sig, "QEMU", 4))
        fail(T, "DMA signature read");
    if (dma(SEL(FW_CFG_RAM_SIZE) | DMA_READ, &ram_dma, 8) || ram_dma != ram)
        fail(T, "DMA RAM size differs");
    uint32_t len = 4 + n * sizeof(struct fw_cfg_file);
    if (dma(SEL(FW_CFG_FILE_DIR) | DMA_READ, &dir_dma, len) ||
        memcmp(&dir_dma, &dir_pio, len))
        fail(T, "DMA file directory differs");

    /* Select + skip 2, then a plain read continues at offset 2: "MU". */
    memset(sig, 0, sizeof(sig));
    if (dma(SEL(FW_CFG_SIGNATURE) | DMA_SKIP, 0, 2) ||
        dma(DMA_READ, sig, 2) || memcmp(sig, "MU", 2))
        fail(T, "DMA select+skip");
    /* Skip over all directory entries but the last, then read it. */
    if (n >= 2) {
        struct fw_cfg_file last;
        if (dma(SEL(FW_CFG_FILE_DIR) | DMA_SKIP, 0,
                4 + (n - 1) * sizeof(struct fw_cfg_file)) ||
            dma(DMA_READ, &last, sizeof(last)) ||
            memcmp(&last, &dir_pio.f[n - 1], sizeof(last)))
            fail(T, "DMA skip within the file directory");
    }
    /* Select a small file by its directory key: PIO and DMA must agree. */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t sz = bswap32(dir_pio.f[i].size);
        uint16_t key = (uint16_t)(dir_pio.f[i].select >> 8 |
                                  dir_pio.f[i].select << 8);
        if (sz == 0 || sz > sizeof(buf_pio))
            continue;
        fwcfg_select(key);
        fwcfg_read(buf_pio, sz);
        if (dma(SEL(key) | DMA_READ, buf_dma, sz) ||
            memcmp(buf_pio, buf_dma, sz))
            fail(T, "DMA read of %s differs", dir_pio.f[i].name);
        break;
    }
    kprintf("fwcfg: dma matches pio\n");
    pass(T);
}
