/* The memory API: flattening, priorities, aliases, read-only views, splits. */
#include "system/memory.h"

static uint64_t last_addr, last_val;
static unsigned last_size, nr_calls;

static uint64_t io_read(void *opaque, uint64_t addr, unsigned size)
{
    last_addr = addr;
    last_size = size;
    nr_calls++;
    /* Each byte reads as its own offset: easy to check splits and widening. */
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)((addr + i) & 0xff) << (i * 8);
    }
    return v;
}

static void io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    last_addr = addr;
    last_size = size;
    last_val = val;
    nr_calls++;
}

static const MemoryRegionOps ops_byte = {
    .read = io_read, .write = io_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static const MemoryRegionOps ops_long_only = {
    .read = io_read, .write = io_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static const MemoryRegionOps ops_strict = {
    .read = io_read, .write = io_write,
    .valid = { .min_access_size = 4, .max_access_size = 4 },
};

typedef struct {
    MemoryRegion root;
    AddressSpace as;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    memory_region_init(&f->root, "root", UINT64_MAX);
    address_space_init(&f->as, &f->root, "test");
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    address_space_destroy(&f->as);
    /* The regions stay (static); only the root goes. */
    for (guint i = 0; i < f->root.subregions->len; i++) {
        ((MemoryRegion *)g_ptr_array_index(f->root.subregions, i))->container = NULL;
    }
    memory_region_destroy(&f->root);
}

static void test_ram_and_unassigned(Fixture *f, gconstpointer data)
{
    static MemoryRegion ram;
    memory_region_init_ram(&ram, "ram", 0x10000);
    memory_region_add_subregion(&f->root, 0x1000, &ram);

    uint32_t v = 0x12345678, r = 0;
    g_assert_true(address_space_write(&f->as, 0x2000, &v, 4));
    g_assert_true(address_space_read(&f->as, 0x2000, &r, 4));
    g_assert_cmphex(r, ==, 0x12345678);
    g_assert_cmphex(ram.ram[0x1000], ==, 0x78);
    /* Nothing there: reads float high, and the call says so. */
    g_assert_false(address_space_read(&f->as, 0x20000, &r, 4));
    g_assert_cmphex(r, ==, 0xffffffff);
    /* An access straddling the end of RAM: RAM part read, rest all-ones. */
    ram.ram[0xffff] = 0xab;
    r = 0;
    g_assert_false(address_space_read(&f->as, 0x10fff, &r, 2));
    g_assert_cmphex(r, ==, 0xffab);
    g_assert_cmpuint(f->as.view.nr, ==, 1);
}

static void test_priority_overlap(Fixture *f, gconstpointer data)
{
    static MemoryRegion low, high, io;
    memory_region_init_ram(&low, "low", 0x10000);
    memory_region_init_ram(&high, "high", 0x1000);
    memory_region_init_io(&io, &ops_byte, NULL, "io", 0x100);
    memory_region_add_subregion(&f->root, 0, &low);
    memory_region_add_subregion_overlap(&f->root, 0x4000, &high, 1);
    memory_region_add_subregion_overlap(&f->root, 0x4800, &io, 2);

    /* low | high | io | high | low */
    g_assert_cmpuint(f->as.view.nr, ==, 5);
    g_assert_true(address_space_lookup(&f->as, 0x3fff)->mr == &low);
    g_assert_true(address_space_lookup(&f->as, 0x4000)->mr == &high);
    g_assert_true(address_space_lookup(&f->as, 0x4800)->mr == &io);
    g_assert_true(address_space_lookup(&f->as, 0x4900)->mr == &high);
    g_assert_cmphex(address_space_lookup(&f->as, 0x4900)->offset, ==, 0x900);
    g_assert_true(address_space_lookup(&f->as, 0x5000)->mr == &low);

    memory_region_set_enabled(&high, false);
    g_assert_cmpuint(f->as.view.nr, ==, 3);
    g_assert_true(address_space_lookup(&f->as, 0x4000)->mr == &low);
    memory_region_set_enabled(&high, true);
    memory_region_del_subregion(&f->root, &io);
    g_assert_true(address_space_lookup(&f->as, 0x4800)->mr == &high);
}

static void test_alias_readonly(Fixture *f, gconstpointer data)
{
    static MemoryRegion ram, alias;
    memory_region_init_ram(&ram, "ram", 0x2000);
    memory_region_init_alias(&alias, "alias", &ram, 0x1000, 0x1000);
    memory_region_set_readonly(&alias, true);
    memory_region_add_subregion(&f->root, 0x100000, &alias);
    ram.ram[0x1004] = 0x5a;

    uint8_t b = 0;
    address_space_read(&f->as, 0x100004, &b, 1);
    g_assert_cmphex(b, ==, 0x5a);
    b = 0x11;
    address_space_write(&f->as, 0x100004, &b, 1);
    g_assert_cmphex(ram.ram[0x1004], ==, 0x5a);      /* dropped: read-only */
    g_assert_true(address_space_lookup(&f->as, 0x100000)->readonly);
    g_assert_null(address_space_map_ram(&f->as, 0x100000, 16, true));
    g_assert_nonnull(address_space_map_ram(&f->as, 0x100000, 16, false));
    /* The loader path writes through. */
    address_space_write_rom(&f->as, 0x100004, &b, 1);
    g_assert_cmphex(ram.ram[0x1004], ==, 0x11);
    /* Moving the alias window. */
    memory_region_set_alias_offset(&alias, 0);
    ram.ram[4] = 0x77;
    address_space_read(&f->as, 0x100004, &b, 1);
    g_assert_cmphex(b, ==, 0x77);
}

static void test_container_nesting(Fixture *f, gconstpointer data)
{
    static MemoryRegion box, inner, ram;
    memory_region_init(&box, "box", 0x10000);
    memory_region_init_io(&inner, &ops_byte, NULL, "inner", 0x10);
    memory_region_init_ram(&ram, "ram", 0x100000);
    memory_region_add_subregion(&box, 0x20, &inner);
    memory_region_add_subregion_overlap(&f->root, 0x50000, &box, 1);
    memory_region_add_subregion(&f->root, 0, &ram);

    const FlatRange *r = address_space_lookup(&f->as, 0x50025);
    g_assert_true(r->mr == &inner);
    g_assert_cmphex(r->offset + (0x50025 - r->start), ==, 5);
    /* The empty parts of a container let lower regions show through. */
    g_assert_true(address_space_lookup(&f->as, 0x50000)->mr == &ram);
    memory_region_set_address(&box, 0x60000);
    g_assert_true(address_space_lookup(&f->as, 0x60020)->mr == &inner);
    g_assert_true(address_space_lookup(&f->as, 0x50020)->mr == &ram);
}

static void test_access_sizes(Fixture *f, gconstpointer data)
{
    static MemoryRegion byte, wide, strict;
    memory_region_init_io(&byte, &ops_byte, NULL, "byte", 0x10);
    memory_region_init_io(&wide, &ops_long_only, NULL, "long", 0x10);
    memory_region_init_io(&strict, &ops_strict, NULL, "strict", 0x10);
    memory_region_add_subregion(&f->root, 0x0, &byte);
    memory_region_add_subregion(&f->root, 0x10, &wide);
    memory_region_add_subregion(&f->root, 0x20, &strict);

    /* A 4-byte read of a byte-only device is four byte calls. */
    nr_calls = 0;
    g_assert_cmphex(memory_region_dispatch_read(&byte, 4, 4), ==, 0x07060504);
    g_assert_cmpuint(nr_calls, ==, 4);
    g_assert_cmpuint(last_size, ==, 1);
    /* A byte read of a long-only device is one widened, aligned call. */
    nr_calls = 0;
    g_assert_cmphex(memory_region_dispatch_read(&wide, 6, 1), ==, 6);
    g_assert_cmpuint(nr_calls, ==, 1);
    g_assert_cmpuint(last_addr, ==, 4);
    g_assert_cmpuint(last_size, ==, 4);
    memory_region_dispatch_write(&wide, 5, 0xab, 1);
    g_assert_cmphex(last_val, ==, 0xab00);
    /* A device that only takes 4-byte accesses ignores others. */
    nr_calls = 0;
    g_assert_cmphex(memory_region_dispatch_read(&strict, 0, 1), ==, 0xff);
    memory_region_dispatch_write(&strict, 0, 1, 2);
    g_assert_cmpuint(nr_calls, ==, 0);
    g_assert_cmphex(memory_region_dispatch_read(&strict, 2, 4), ==, 0xffffffff);
    g_assert_cmpuint(nr_calls, ==, 0);
    /* Through the address space, an 8-byte read of a 4-max device splits. */
    nr_calls = 0;
    uint64_t v;
    address_space_read(&f->as, 0x20, &v, 8);
    g_assert_cmpuint(nr_calls, ==, 2);   /* two 4-byte accesses */
    g_assert_cmphex(v, ==, 0x0706050403020100ULL);
}

static void test_transaction(Fixture *f, gconstpointer data)
{
    static MemoryRegion a, b;
    memory_region_init_ram(&a, "a", 0x1000);
    memory_region_init_ram(&b, "b", 0x1000);
    memory_region_transaction_begin();
    memory_region_add_subregion(&f->root, 0, &a);
    memory_region_add_subregion(&f->root, 0x1000, &b);
    g_assert_cmpuint(f->as.view.nr, ==, 0);   /* not yet flattened */
    memory_region_transaction_commit();
    g_assert_cmpuint(f->as.view.nr, ==, 2);
    GString *s = g_string_new(NULL);
    memory_print_tree(s);
    g_assert_nonnull(strstr(s->str, "0000000000001000-0000000000001fff"));
    g_string_free(s, true);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add("/memory/" name, Fixture, NULL, \
                                 fixture_setup, fn, fixture_teardown)
    ADD("ram-unassigned", test_ram_and_unassigned);
    ADD("priority-overlap", test_priority_overlap);
    ADD("alias-readonly", test_alias_readonly);
    ADD("container-nesting", test_container_nesting);
    ADD("access-sizes", test_access_sizes);
    ADD("transaction", test_transaction);
    return g_test_run();
}
