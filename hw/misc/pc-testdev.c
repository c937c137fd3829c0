/*
 * "pc-testdev", the helper device kvm-unit-tests expect on x86:
 *   0xe0-0xe3  scratch register for byte/word/long (string) I/O tests
 *   0xe4-0xe7  flush-page (outl of an address): accepted and ignored
 *   0xe8-0xeb  the same scratch register, any size and alignment
 *   0x2000+n   writing v sets ISA IRQ line n to !!v
 *   0xff000000 64 KiB of MMIO scratch memory (the tests' IORAM_BASE_PHYS
 *              and IORAM_LEN), exercising instruction emulation on MMIO
 */
#include "util/osdep.h"
#include "hw/isa/isa.h"

#define TESTDEV_IOMEM_BASE  0xff000000ULL
#define TESTDEV_IOMEM_SIZE  0x10000
#define TESTDEV_IRQ_LINES   24
#define ISA_IRQS            16

typedef struct PCTestdevState {
    DeviceState parent_obj;
    MemoryRegion ioport;
    MemoryRegion ioport_byte;
    MemoryRegion flush;
    MemoryRegion irq;
    MemoryRegion iomem;
    uint8_t ioport_data[4];
    uint8_t iomem_buf[TESTDEV_IOMEM_SIZE];
} PCTestdevState;

/* Byte-wise scratch: the core splits wider accesses into bytes. */
static uint64_t scratch_read(void *opaque, uint64_t addr, unsigned size)
{
    uint8_t *data = opaque;

    return data[addr & 3];
}

static void scratch_write(void *opaque, uint64_t addr, uint64_t val,
                          unsigned size)
{
    uint8_t *data = opaque;

    data[addr & 3] = val;
}

static const MemoryRegionOps scratch_ops = {
    .read = scratch_read,
    .write = scratch_write,
    .valid = { .min_access_size = 1, .max_access_size = 4, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static void flush_page_write(void *opaque, uint64_t addr, uint64_t val,
                             unsigned size)
{
    /* Meant to make KVM refault a page; nothing to do for correctness. */
}

static uint64_t flush_page_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0;
}

static const MemoryRegionOps flush_page_ops = {
    .read = flush_page_read,
    .write = flush_page_write,
    .valid = { .min_access_size = 1, .max_access_size = 4, .unaligned = true },
};

static void irq_line_write(void *opaque, uint64_t addr, uint64_t val,
                           unsigned size)
{
    if (addr >= ISA_IRQS) {
        log_guest_error("pc-testdev: IRQ line %u is not an ISA line",
                        (unsigned)addr);
        return;
    }
    qemu_set_irq(isa_get_irq(addr), !!val);
}

static uint64_t irq_line_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0;
}

static const MemoryRegionOps irq_line_ops = {
    .read = irq_line_read,
    .write = irq_line_write,
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static uint64_t iomem_read(void *opaque, uint64_t addr, unsigned size)
{
    PCTestdevState *s = opaque;
    uint64_t val = 0;

    if (addr < TESTDEV_IOMEM_SIZE) {
        memcpy(&val, &s->iomem_buf[addr], MIN(size, TESTDEV_IOMEM_SIZE - addr));
    }
    return val;
}

static void iomem_write(void *opaque, uint64_t addr, uint64_t val,
                        unsigned size)
{
    PCTestdevState *s = opaque;

    if (addr < TESTDEV_IOMEM_SIZE) {
        memcpy(&s->iomem_buf[addr], &val, MIN(size, TESTDEV_IOMEM_SIZE - addr));
    }
}

static const MemoryRegionOps iomem_ops = {
    .read = iomem_read,
    .write = iomem_write,
    .valid = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

static void testdev_reset(DeviceState *dev)
{
    PCTestdevState *s = (PCTestdevState *)dev;

    memset(s->ioport_data, 0, sizeof(s->ioport_data));
    memset(s->iomem_buf, 0, sizeof(s->iomem_buf));
}

static bool testdev_realize(DeviceState *dev, Error **errp)
{
    PCTestdevState *s = (PCTestdevState *)dev;

    memory_region_init_io(&s->ioport, &scratch_ops, s->ioport_data,
                          "pc-testdev-ioport", 4);
    memory_region_init_io(&s->ioport_byte, &scratch_ops, s->ioport_data,
                          "pc-testdev-ioport-byte", 4);
    memory_region_init_io(&s->flush, &flush_page_ops, s,
                          "pc-testdev-flush-page", 4);
    memory_region_init_io(&s->irq, &irq_line_ops, s, "pc-testdev-irq",
                          TESTDEV_IRQ_LINES);
    memory_region_init_io(&s->iomem, &iomem_ops, s, "pc-testdev-iomem",
                          TESTDEV_IOMEM_SIZE);
    isa_register_ioport(&s->ioport, 0xe0);
    isa_register_ioport(&s->flush, 0xe4);
    isa_register_ioport(&s->ioport_byte, 0xe8);
    isa_register_ioport(&s->irq, 0x2000);
    memory_region_add_subregion(get_system_memory(), TESTDEV_IOMEM_BASE,
                                &s->iomem);
    return true;
}

static const VMStateField testdev_fields[] = {
    VMSTATE_BUFFER(ioport_data, PCTestdevState),
    VMSTATE_BUFFER(iomem_buf, PCTestdevState),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription testdev_vmsd = {
    .name = "pc-testdev",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = testdev_fields,
};

static const Property testdev_props[] = {
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass testdev_class = {
    .name = "pc-testdev",
    .desc = "PC test device for kvm-unit-tests",
    .bus = BUS_ISA,
    .instance_size = sizeof(PCTestdevState),
    .props = testdev_props,
    .user_creatable = true,
    .realize = testdev_realize,
    .reset = testdev_reset,
    .vmsd = &testdev_vmsd,
};
DEVICE_REGISTER(testdev_class);
