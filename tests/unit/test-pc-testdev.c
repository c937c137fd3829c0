/*
 * pc-testdev as kvm-unit-tests use it: the scratch I/O register at 0xe0
 * (and 0xe8), the flush-page port at 0xe4, ISA IRQ lines at 0x2000 + n and
 * the MMIO scratch memory at 0xff000000.
 */
#include "hw/isa/isa.h"

#define IOMEM 0xff000000ULL

static int irq_level[16];
static qemu_irq isa_irqs[16];

static void isa_irq_handler(void *opaque, int n, int level)
{
    irq_level[n] = level;
}

static qemu_irq get_isa_irq(int n)
{
    return isa_irqs[n];
}

static uint32_t io_read(uint16_t port, int len)
{
    uint32_t v = 0;

    address_space_read(&address_space_io, port, &v, len);
    return v;
}

static void io_write(uint16_t port, uint32_t v, int len)
{
    address_space_write(&address_space_io, port, &v, len);
}

static void test_ioport(void)
{
    static const char st1[] = "abcdefghijklmnop";

    /* rep outsb then inb: the last byte written */
    for (const char *p = st1; *p; p++) {
        io_write(0xe0, *p, 1);
    }
    g_assert_cmphex(io_read(0xe0, 1), ==, 'p');
    /* rep outsw then inw: the last word */
    for (int i = 0; i < 16; i += 2) {
        io_write(0xe0, st1[i] | st1[i + 1] << 8, 2);
    }
    g_assert_cmphex(io_read(0xe0, 2), ==, 'o' | 'p' << 8);
    io_write(0xe0, 0x12345678, 4);
    g_assert_cmphex(io_read(0xe0, 4), ==, 0x12345678);
    g_assert_cmphex(io_read(0xe0, 1), ==, 0x78);
    io_write(0xe1, 0xaa, 1);
    g_assert_cmphex(io_read(0xe0, 4), ==, 0x1234aa78);

    /* 0xe8 is the same register, any size at any offset */
    io_write(0xe8, 0xdeadbeef, 4);
    g_assert_cmphex(io_read(0xe0, 4), ==, 0xdeadbeef);
    g_assert_cmphex(io_read(0xe9, 2), ==, 0xadbe);
    io_write(0xea, 0x5566, 2);
    g_assert_cmphex(io_read(0xe8, 4), ==, 0x5566beef);
    g_assert_cmphex(io_read(0xe2, 2), ==, 0x5566);

    io_write(0xe4, 0x1000, 4);          /* flush page: accepted */
    g_assert_cmphex(io_read(0xe0, 4), ==, 0x5566beef);
}

static void test_irq_lines(void)
{
    io_write(0x2000 + 14, 1, 1);
    g_assert_cmpint(irq_level[14], ==, 1);
    io_write(0x2000 + 14, 0, 1);
    g_assert_cmpint(irq_level[14], ==, 0);
    io_write(0x2000 + 5, 0x80, 1);      /* any non-zero value raises */
    g_assert_cmpint(irq_level[5], ==, 1);
    io_write(0x2000 + 5, 0, 1);
    io_write(0x2000 + 20, 1, 1);        /* not an ISA line: ignored */
}

static void test_iomem(void)
{
    uint64_t v = 0x0123456789abcdefULL, r = 0;

    address_space_write(&address_space_memory, IOMEM, &v, 8);
    address_space_read(&address_space_memory, IOMEM, &r, 8);
    g_assert_cmphex(r, ==, v);
    r = 0;
    address_space_read(&address_space_memory, IOMEM + 3, &r, 2);
    g_assert_cmphex(r, ==, 0x6789);
    /* unaligned 8-byte access across the end of the first page */
    address_space_write(&address_space_memory, IOMEM + 0xffd, &v, 8);
    r = 0;
    address_space_read(&address_space_memory, IOMEM + 0xffd, &r, 8);
    g_assert_cmphex(r, ==, v);
    uint8_t b = 0x77;
    address_space_write(&address_space_memory, IOMEM + 0xffff, &b, 1);
    b = 0;
    address_space_read(&address_space_memory, IOMEM + 0xffff, &b, 1);
    g_assert_cmphex(b, ==, 0x77);

    devices_reset_all();
    address_space_read(&address_space_memory, IOMEM, &r, 8);
    g_assert_cmphex(r, ==, 0);
    g_assert_cmphex(io_read(0xe0, 4), ==, 0);
}

int main(int argc, char **argv)
{
    Error *err = NULL;

    g_test_init(&argc, &argv, NULL);
    memory_init();
    for (int i = 0; i < 16; i++) {
        isa_irqs[i] = qemu_allocate_irq(isa_irq_handler, NULL, i);
    }
    isa_set_irq_handler(get_isa_irq);
    g_assert_true(device_realize(device_new("pc-testdev"), &err));

    g_test_add_func("/pc-testdev/ioport", test_ioport);
    g_test_add_func("/pc-testdev/irq-lines", test_irq_lines);
    g_test_add_func("/pc-testdev/iomem", test_iomem);
    return g_test_run();
}
