/* The machine the PCI unit tests run on; see test-pci-board.h. */
#include "test-pci-board.h"
#include "hw/isa/isa.h"

PCIBus *test_bus;
MemoryRegion test_ram;
int isa_level[16];
int isa_changes[16];

static MemoryRegion pci_memory, rom, vga;
static qemu_irq isa_irqs[16];

uint8_t rom_byte(uint64_t addr)
{
    return (addr >> 12) ^ (addr & 0xff) ^ 0x5a;
}

uint8_t ram_byte(uint64_t addr)
{
    return rom_byte(addr) ^ 0xff;
}

static void isa_irq_handler(void *opaque, int n, int level)
{
    isa_level[n] = level;
    isa_changes[n]++;
}

static qemu_irq get_isa_irq(int n)
{
    return isa_irqs[n];
}

void test_board_init(void)
{
    MemoryRegion *sysmem = get_system_memory();

    memory_init();
    memory_region_init_ram(&test_ram, "ram", TEST_RAM_SIZE);
    for (uint64_t a = 0; a < TEST_RAM_SIZE; a++) {
        test_ram.ram[a] = ram_byte(a);
    }
    memory_region_add_subregion(sysmem, 0, &test_ram);

    memory_region_init(&pci_memory, "pci", UINT64_MAX);
    memory_region_add_subregion_overlap(sysmem, 0, &pci_memory, -1);
    memory_region_init_rom(&rom, "rom", 256 * KiB);
    memory_region_init_ram(&vga, "vga", 128 * KiB);
    for (uint64_t a = 0; a < 256 * KiB; a++) {
        rom.ram[a] = rom_byte(0xc0000 + a);
    }
    for (uint64_t a = 0; a < 128 * KiB; a++) {
        vga.ram[a] = rom_byte(0xa0000 + a);
    }
    memory_region_add_subregion(&pci_memory, 0xc0000, &rom);
    memory_region_add_subregion(&pci_memory, 0xa0000, &vga);

    for (int i = 0; i < 16; i++) {
        isa_irqs[i] = qemu_allocate_irq(isa_irq_handler, NULL, i);
    }
    isa_set_irq_handler(get_isa_irq);

    test_bus = i440fx_init(&test_ram, &pci_memory);
    piix3_init(test_bus);
}

uint32_t io_read(uint16_t port, int len)
{
    uint32_t v = 0;
    address_space_read(&address_space_io, port, &v, len);
    return v;
}

void io_write(uint16_t port, uint32_t val, int len)
{
    address_space_write(&address_space_io, port, &val, len);
}

uint64_t mem_read(uint64_t addr, int len)
{
    uint64_t v = 0;
    address_space_read(&address_space_memory, addr, &v, len);
    return v;
}

void mem_write(uint64_t addr, uint64_t val, int len)
{
    address_space_write(&address_space_memory, addr, &val, len);
}

uint32_t cfg_read(int devfn, int reg, int len)
{
    io_write(0xcf8, 0x80000000u | devfn << 8 | (reg & 0xfc), 4);
    return io_read(0xcfc + (reg & 3), len);
}

void cfg_write(int devfn, int reg, uint32_t val, int len)
{
    io_write(0xcf8, 0x80000000u | devfn << 8 | (reg & 0xfc), 4);
    io_write(0xcfc + (reg & 3), val, len);
}

/* ---- the test device ---- */

static uint64_t test_io_read(void *opaque, uint64_t addr, unsigned size)
{
    TestPCIDev *t = opaque;
    return t->regs[addr / 4];
}

static void test_io_write(void *opaque, uint64_t addr, uint64_t val,
                          unsigned size)
{
    TestPCIDev *t = opaque;
    t->regs[addr / 4] = val;
    if (addr == 0x1c) {
        pci_set_irq(&t->parent_obj, val != 0);
    }
}

static const MemoryRegionOps test_io_ops = {
    .read = test_io_read,
    .write = test_io_write,
    .valid = { .min_access_size = 4, .max_access_size = 4 },
};

static bool test_dev_realize(PCIDevice *dev, Error **errp)
{
    TestPCIDev *t = (TestPCIDev *)dev;

    memory_region_init_io(&t->io, &test_io_ops, t, "test-io", 32);
    memory_region_init_ram(&t->mem, "test-mem", 4 * KiB);
    memory_region_init_ram(&t->mem64, "test-mem64", 16 * KiB);
    memory_region_init_rom(&t->rom, "test-rom", 4 * KiB);
    memset(t->rom.ram, 0xd7, 4 * KiB);
    pci_register_bar(dev, 0, PCI_BASE_ADDRESS_SPACE_IO, &t->io);
    pci_register_bar(dev, 1, PCI_BASE_ADDRESS_MEM_TYPE_32, &t->mem);
    pci_register_bar(dev, 2, PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH, &t->mem64);
    pci_register_bar(dev, PCI_ROM_SLOT, 0, &t->rom);
    return true;
}

static const VMStateDescription vmstate_test_dev = {
    .name = "test-pci-dev",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(parent_obj, TestPCIDev, vmstate_pci_device, PCIDevice),
        VMSTATE_UINT32_ARRAY(regs, TestPCIDev, 8),
        VMSTATE_END_OF_LIST()
    },
};

static PCIDeviceClass test_dev_class = {
    .parent_class = {
        .name = "test-pci-dev",
        .instance_size = sizeof(TestPCIDev),
        .vmsd = &vmstate_test_dev,
    },
    .vendor_id = TEST_DEV_VENDOR,
    .device_id = TEST_DEV_DEVICE,
    .revision = 0x01,
    .class_id = 0x00ff,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .interrupt_pin = 1,
    .pci_realize = test_dev_realize,
};
PCI_DEVICE_REGISTER(test_dev_class)

TestPCIDev *test_dev_new(int devfn, Error **errp)
{
    DeviceState *ds = device_new("test-pci-dev");
    char buf[16];

    g_assert_nonnull(ds);
    if (!device_set_prop(ds, "addr", pci_format_devfn(devfn, buf, sizeof(buf)),
                         errp) || !device_realize(ds, errp)) {
        g_free(ds);
        return NULL;
    }
    return (TestPCIDev *)ds;
}

/* ---- state ---- */

GByteArray *test_vmstate_save(DeviceState *dev)
{
    GByteArray *out = g_byte_array_new();
    vmstate_save(out, dev->klass->vmsd, dev);
    return out;
}

bool test_vmstate_load(DeviceState *dev, GByteArray *in, Error **errp)
{
    size_t pos = 0;
    const VMStateDescription *vmsd = dev->klass->vmsd;

    if (!vmstate_load(in->data, in->len, &pos, vmsd, dev, vmsd->version_id,
                      errp)) {
        return false;
    }
    g_assert_cmpuint(pos, ==, in->len);
    return true;
}

void test_vmstate_random_roundtrip(DeviceState *dev)
{
    GRand *rand = g_rand_new_with_seed(0x70636921);
    Error *err = NULL;

    for (int i = 0; i < 20; i++) {
        vmstate_randomize(dev->klass->vmsd, dev, rand);
        GByteArray *a = test_vmstate_save(dev);
        dev->klass->reset(dev);
        if (!test_vmstate_load(dev, a, &err)) {
            g_error("%s: random state refused: %s", dev->klass->name,
                    err->msg);
        }
        GByteArray *b = test_vmstate_save(dev);
        g_assert_cmpmem(a->data, a->len, b->data, b->len);
        guint len = a->len;
        g_byte_array_free(a, true);
        g_byte_array_free(b, true);

        /* Garbage is refused or accepted, never a crash. */
        GByteArray *junk = g_byte_array_new();
        for (guint j = 0; j < len + 8; j++) {
            guint8 byte = g_rand_int(rand);
            g_byte_array_append(junk, &byte, 1);
        }
        size_t pos = 0;
        if (!vmstate_load(junk->data, junk->len, &pos, dev->klass->vmsd, dev,
                          dev->klass->vmsd->version_id, &err)) {
            error_free(err);
            err = NULL;
        }
        g_byte_array_free(junk, true);
    }
    dev->klass->reset(dev);
    g_rand_free(rand);
}
