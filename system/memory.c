/*
 * Memory API: region tree, flattening and dispatch.  See include/system/memory.h
 * and docs/memory.md.  Everything here runs under the big lock.
 */
#include "system/memory.h"
#include <sys/mman.h>

AddressSpace address_space_memory;
AddressSpace address_space_io;
static MemoryRegion system_memory;
static MemoryRegion system_io;
static GPtrArray *address_spaces;
static int transaction_depth;
static bool update_pending;

MemoryRegion *get_system_memory(void) { return &system_memory; }
MemoryRegion *get_system_io(void) { return &system_io; }

static void memory_region_changed(void);

void memory_region_init(MemoryRegion *mr, const char *name, uint64_t size)
{
    memset(mr, 0, sizeof(*mr));
    mr->name = g_strdup(name);
    mr->size = size;
    mr->enabled = true;
    mr->type = MR_CONTAINER;
    mr->subregions = g_ptr_array_new();
}

void memory_region_init_ram_ptr(MemoryRegion *mr, const char *name,
                                uint64_t size, void *ptr)
{
    memory_region_init(mr, name, size);
    mr->type = MR_RAM;
    mr->ram = ptr;
}

void memory_region_init_ram(MemoryRegion *mr, const char *name, uint64_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        error_report("cannot allocate %" PRIu64 " bytes for %s: %s",
                     size, name, strerror(errno));
        exit(1);
    }
    memory_region_init_ram_ptr(mr, name, size, p);
    mr->ram_owned = true;
}

void memory_region_init_rom(MemoryRegion *mr, const char *name, uint64_t size)
{
    memory_region_init_ram(mr, name, size);
    mr->readonly = true;
}

void memory_region_init_io(MemoryRegion *mr, const MemoryRegionOps *ops,
                           void *opaque, const char *name, uint64_t size)
{
    memory_region_init(mr, name, size);
    mr->type = MR_IO;
    mr->ops = ops;
    mr->opaque = opaque;
}

void memory_region_init_rom_device(MemoryRegion *mr, const MemoryRegionOps *ops,
                                   void *opaque, const char *name,
                                   uint64_t size)
{
    memory_region_init_ram(mr, name, size);
    mr->ops = ops;
    mr->opaque = opaque;
    mr->romd_mode = true;
}

void memory_region_rom_device_set_romd(MemoryRegion *mr, bool romd_mode)
{
    g_assert(mr->type == MR_RAM && mr->ops);
    if (mr->romd_mode != romd_mode) {
        mr->romd_mode = romd_mode;
        memory_region_changed();    /* KVM drops or restores the slot */
    }
}

void memory_region_init_alias(MemoryRegion *mr, const char *name,
                              MemoryRegion *target, uint64_t offset,
                              uint64_t size)
{
    memory_region_init(mr, name, size);
    mr->type = MR_ALIAS;
    mr->alias = target;
    mr->alias_offset = offset;
}

void memory_region_destroy(MemoryRegion *mr)
{
    g_assert(!mr->container);
    if (mr->ram_owned) {
        munmap(mr->ram, mr->size);
    }
    g_ptr_array_free(mr->subregions, true);
    g_free(mr->name);
    memset(mr, 0, sizeof(*mr));
}

static void insert_subregion(MemoryRegion *container, MemoryRegion *sub)
{
    guint i;
    g_assert(!sub->container);
    sub->container = container;
    /* Highest priority first; among equals the newest wins. */
    for (i = 0; i < container->subregions->len; i++) {
        MemoryRegion *other = g_ptr_array_index(container->subregions, i);
        if (sub->priority >= other->priority) {
            break;
        }
    }
    g_ptr_array_insert(container->subregions, i, sub);
    memory_region_changed();
}

void memory_region_add_subregion(MemoryRegion *container, uint64_t offset,
                                 MemoryRegion *sub)
{
    sub->addr = offset;
    sub->priority = 0;
    insert_subregion(container, sub);
}

void memory_region_add_subregion_overlap(MemoryRegion *container,
                                         uint64_t offset, MemoryRegion *sub,
                                         int priority)
{
    sub->addr = offset;
    sub->priority = priority;
    insert_subregion(container, sub);
}

void memory_region_del_subregion(MemoryRegion *container, MemoryRegion *sub)
{
    g_assert(sub->container == container);
    g_ptr_array_remove(container->subregions, sub);
    sub->container = NULL;
    memory_region_changed();
}

void memory_region_set_enabled(MemoryRegion *mr, bool enabled)
{
    if (mr->enabled != enabled) {
        mr->enabled = enabled;
        memory_region_changed();
    }
}

void memory_region_set_readonly(MemoryRegion *mr, bool readonly)
{
    if (mr->readonly != readonly) {
        mr->readonly = readonly;
        memory_region_changed();
    }
}

void memory_region_set_address(MemoryRegion *mr, uint64_t addr)
{
    if (mr->addr != addr) {
        MemoryRegion *container = mr->container;
        int prio = mr->priority;
        memory_region_transaction_begin();
        if (container) {
            memory_region_del_subregion(container, mr);
            memory_region_add_subregion_overlap(container, addr, mr, prio);
        } else {
            mr->addr = addr;
        }
        memory_region_transaction_commit();
    }
}

void memory_region_set_alias_offset(MemoryRegion *mr, uint64_t offset)
{
    if (mr->alias_offset != offset) {
        mr->alias_offset = offset;
        memory_region_changed();
    }
}

/* ---- flattening ---- */

static uint64_t region_end(uint64_t base, uint64_t size)
{
    return (size == UINT64_MAX || base + size < base) ? UINT64_MAX : base + size;
}

/* Add the parts of [start, end) that no higher-priority range claimed yet. */
static void add_uncovered(GArray *ranges, FlatRange fr)
{
    uint64_t pos = fr.start;

    while (pos < fr.end) {
        uint64_t stop = fr.end;
        bool covered = false;
        for (guint i = 0; i < ranges->len; i++) {
            FlatRange *r = &g_array_index(ranges, FlatRange, i);
            if (r->start <= pos && pos < r->end) {
                pos = r->end;
                covered = true;
                break;
            }
            if (r->start > pos && r->start < stop) {
                stop = r->start;
            }
        }
        if (covered) {
            continue;
        }
        FlatRange piece = fr;
        piece.start = pos;
        piece.end = stop;
        piece.offset = fr.offset + (pos - fr.start);
        g_array_append_val(ranges, piece);
        pos = stop;
    }
}

static void render(GArray *ranges, MemoryRegion *mr, uint64_t base,
                   uint64_t clip_start, uint64_t clip_end, bool readonly)
{
    if (!mr->enabled) {
        return;
    }
    uint64_t start = MAX(base, clip_start);
    uint64_t end = MIN(region_end(base, mr->size), clip_end);
    if (start >= end) {
        return;
    }
    readonly |= mr->readonly;
    switch (mr->type) {
    case MR_ALIAS:
        render(ranges, mr->alias, base - mr->alias_offset, start, end, readonly);
        break;
    case MR_CONTAINER:
        for (guint i = 0; i < mr->subregions->len; i++) {
            MemoryRegion *sub = g_ptr_array_index(mr->subregions, i);
            render(ranges, sub, base + sub->addr, start, end, readonly);
        }
        break;
    case MR_RAM:
    case MR_IO: {
        FlatRange fr = {
            .start = start, .end = end, .mr = mr,
            .offset = start - base, .readonly = readonly,
        };
        add_uncovered(ranges, fr);
        break;
    }
    }
}

static gint cmp_range(gconstpointer a, gconstpointer b)
{
    const FlatRange *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static FlatView flatten(MemoryRegion *root)
{
    GArray *ranges = g_array_new(false, false, sizeof(FlatRange));
    render(ranges, root, 0, 0, UINT64_MAX, false);
    g_array_sort(ranges, cmp_range);
    /* Merge neighbours that continue the same region (fewer memslots). */
    guint out = 0;
    for (guint i = 0; i < ranges->len; i++) {
        FlatRange *r = &g_array_index(ranges, FlatRange, i);
        if (out > 0) {
            FlatRange *prev = &g_array_index(ranges, FlatRange, out - 1);
            if (prev->mr == r->mr && prev->end == r->start &&
                prev->readonly == r->readonly &&
                prev->offset + (prev->end - prev->start) == r->offset) {
                prev->end = r->end;
                continue;
            }
        }
        g_array_index(ranges, FlatRange, out++) = *r;
    }
    FlatView v = { .nr = out };
    v.ranges = (FlatRange *)g_array_free(ranges, false);
    return v;
}

static void address_space_update(AddressSpace *as)
{
    FlatView old = as->view;
    as->view = flatten(as->root);
    for (guint i = 0; i < as->listeners->len; i++) {
        MemoryListener *l = g_ptr_array_index(as->listeners, i);
        l->commit(l, as, &as->view);
    }
    g_free(old.ranges);
}

static void memory_region_changed(void)
{
    if (transaction_depth) {
        update_pending = true;
        return;
    }
    for (guint i = 0; address_spaces && i < address_spaces->len; i++) {
        address_space_update(g_ptr_array_index(address_spaces, i));
    }
}

void memory_region_transaction_begin(void)
{
    transaction_depth++;
}

void memory_region_transaction_commit(void)
{
    g_assert(transaction_depth > 0);
    if (--transaction_depth == 0 && update_pending) {
        update_pending = false;
        memory_region_changed();
    }
}

void address_space_init(AddressSpace *as, MemoryRegion *root, const char *name)
{
    as->name = name;
    as->root = root;
    as->listeners = g_ptr_array_new();
    as->view = flatten(root);
    if (!address_spaces) {
        address_spaces = g_ptr_array_new();
    }
    g_ptr_array_add(address_spaces, as);
}

void address_space_destroy(AddressSpace *as)
{
    g_ptr_array_remove(address_spaces, as);
    g_ptr_array_free(as->listeners, true);
    g_free(as->view.ranges);
    memset(as, 0, sizeof(*as));
}

void memory_init(void)
{
    memory_region_init(&system_memory, "system", UINT64_MAX);
    memory_region_init(&system_io, "io", 65536);
    address_space_init(&address_space_memory, &system_memory, "memory");
    address_space_init(&address_space_io, &system_io, "I/O");
}

void memory_listener_register(MemoryListener *l, AddressSpace *as)
{
    l->as = as;
    g_ptr_array_add(as->listeners, l);
    l->commit(l, as, &as->view);
}

void memory_listener_unregister(MemoryListener *l)
{
    g_ptr_array_remove(l->as->listeners, l);
    l->as = NULL;
}

/* ---- dispatch ---- */

const FlatRange *address_space_lookup(AddressSpace *as, uint64_t addr)
{
    unsigned lo = 0, hi = as->view.nr;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        const FlatRange *r = &as->view.ranges[mid];
        if (addr < r->start) {
            hi = mid;
        } else if (addr >= r->end) {
            lo = mid + 1;
        } else {
            return r;
        }
    }
    return NULL;
}

static unsigned size_or(unsigned v, unsigned dflt)
{
    return v ? v : dflt;
}

static bool access_valid(MemoryRegion *mr, uint64_t addr, unsigned size)
{
    const MemoryRegionOps *ops = mr->ops;
    if (size < size_or(ops->valid.min_access_size, 1) ||
        size > size_or(ops->valid.max_access_size, 4)) {
        return false;
    }
    if (!ops->valid.unaligned && (addr & (size - 1))) {
        return false;
    }
    return true;
}

/*
 * Bring an access to the sizes the callbacks implement: split wide accesses
 * into little-endian pieces, widen narrow ones to an aligned implemented size.
 */
uint64_t memory_region_dispatch_read(MemoryRegion *mr, uint64_t addr,
                                     unsigned size)
{
    const MemoryRegionOps *ops = mr->ops;
    if (!access_valid(mr, addr, size) || !ops->read) {
        log_guest_error("invalid read of size %u at %s+0x%" PRIx64,
                        size, mr->name, addr);
        return size == 8 ? UINT64_MAX : (1ULL << (size * 8)) - 1;
    }
    unsigned imin = size_or(ops->impl.min_access_size, 1);
    unsigned imax = size_or(ops->impl.max_access_size, 4);
    if (size < imin) {
        uint64_t base = addr & ~(uint64_t)(imin - 1);
        unsigned shift = (addr - base) * 8;
        uint64_t v = ops->read(mr->opaque, base, imin) >> shift;
        return size == 8 ? v : v & ((1ULL << (size * 8)) - 1);
    }
    if (size > imax) {
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i += imax) {
            v |= memory_region_dispatch_read(mr, addr + i, imax) << (i * 8);
        }
        return v;
    }
    return ops->read(mr->opaque, addr, size);
}

void memory_region_dispatch_write(MemoryRegion *mr, uint64_t addr,
                                  uint64_t val, unsigned size)
{
    const MemoryRegionOps *ops = mr->ops;
    if (size < 8) {
        val &= (1ULL << (size * 8)) - 1;
    }
    if (!access_valid(mr, addr, size) || !ops->write) {
        log_guest_error("invalid write of size %u at %s+0x%" PRIx64,
                        size, mr->name, addr);
        return;
    }
    unsigned imin = size_or(ops->impl.min_access_size, 1);
    unsigned imax = size_or(ops->impl.max_access_size, 4);
    if (size < imin) {
        uint64_t base = addr & ~(uint64_t)(imin - 1);
        ops->write(mr->opaque, base, val << ((addr - base) * 8), imin);
        return;
    }
    if (size > imax) {
        for (unsigned i = 0; i < size; i += imax) {
            memory_region_dispatch_write(mr, addr + i, val >> (i * 8), imax);
        }
        return;
    }
    ops->write(mr->opaque, addr, val, size);
}

static unsigned io_chunk(uint64_t addr, uint64_t len, uint64_t room)
{
    unsigned size = 8;
    while (size > len || size > room || (addr & (size - 1))) {
        size >>= 1;
    }
    return size;
}

static bool rw_internal(AddressSpace *as, uint64_t addr, uint8_t *buf,
                        uint64_t len, bool is_write, bool force)
{
    bool ok = true;
    while (len > 0) {
        const FlatRange *r = address_space_lookup(as, addr);
        if (!r) {
            /* Unassigned: reads float high, writes vanish. */
            uint64_t step = len;
            for (unsigned i = 0; i < as->view.nr; i++) {
                if (as->view.ranges[i].start > addr) {
                    step = MIN(len, as->view.ranges[i].start - addr);
                    break;
                }
            }
            if (!is_write) {
                memset(buf, 0xff, step);
            }
            ok = false;
            addr += step;
            buf += step;
            len -= step;
            continue;
        }
        uint64_t room = r->end - addr;
        uint64_t offset = r->offset + (addr - r->start);
        /* A ROM device's own writes, and its reads out of ROMD mode, are
         * commands for it; a read-only alias of it drops writes. */
        bool romd_io = r->mr->type == MR_RAM && r->mr->ops && !force &&
                       (is_write ? !r->readonly : !r->mr->romd_mode);
        if (r->mr->type == MR_RAM && !romd_io) {
            uint64_t n = MIN(len, room);
            if (!is_write) {
                memcpy(buf, r->mr->ram + offset, n);
            } else if (!r->readonly || force) {
                memcpy(r->mr->ram + offset, buf, n);
            }
            addr += n;
            buf += n;
            len -= n;
            continue;
        }
        /* Split like the bus would: never wider than the device accepts. */
        unsigned size = io_chunk(addr, MIN(len, size_or(
                                 r->mr->ops->valid.max_access_size, 4)), room);
        if (is_write) {
            uint64_t v = 0;
            memcpy(&v, buf, size);
            memory_region_dispatch_write(r->mr, offset, v, size);
        } else {
            uint64_t v = memory_region_dispatch_read(r->mr, offset, size);
            memcpy(buf, &v, size);
        }
        addr += size;
        buf += size;
        len -= size;
    }
    return ok;
}

bool address_space_rw(AddressSpace *as, uint64_t addr, void *buf,
                      uint64_t len, bool is_write)
{
    return rw_internal(as, addr, buf, len, is_write, false);
}

bool address_space_write_rom(AddressSpace *as, uint64_t addr, const void *buf,
                             uint64_t len)
{
    return rw_internal(as, addr, (void *)buf, len, true, true);
}

void *address_space_map_ram(AddressSpace *as, uint64_t addr, uint64_t len,
                            bool is_write)
{
    const FlatRange *r = address_space_lookup(as, addr);
    if (!r || !memory_region_reads_ram(r->mr) ||
        (is_write && (r->readonly || r->mr->ops)) || len > r->end - addr) {
        return NULL;
    }
    return r->mr->ram + r->offset + (addr - r->start);
}

/* ---- info mtree ---- */

static const char *type_name(const MemoryRegion *mr)
{
    switch (mr->type) {
    case MR_RAM: return mr->ops ? (mr->romd_mode ? "romd" : "romd i/o")
                                : mr->readonly ? "rom" : "ram";
    case MR_IO: return "i/o";
    case MR_ALIAS: return "alias";
    default: return "container";
    }
}

static void print_region(GString *out, const MemoryRegion *mr, uint64_t base,
                         int depth)
{
    uint64_t last = mr->size == UINT64_MAX ? UINT64_MAX : base + mr->size - 1;
    g_string_append_printf(out, "%*s%016" PRIx64 "-%016" PRIx64
                           " (prio %d, %s%s): %s", depth * 2, "", base, last,
                           mr->priority, type_name(mr),
                           mr->enabled ? "" : ", disabled", mr->name);
    if (mr->type == MR_ALIAS) {
        g_string_append_printf(out, " @%s %016" PRIx64, mr->alias->name,
                               mr->alias_offset);
    }
    g_string_append_c(out, '\n');
    for (guint i = 0; i < mr->subregions->len; i++) {
        const MemoryRegion *sub = g_ptr_array_index(mr->subregions, i);
        print_region(out, sub, base + sub->addr, depth + 1);
    }
}

void memory_print_tree(GString *out)
{
    for (guint i = 0; i < address_spaces->len; i++) {
        AddressSpace *as = g_ptr_array_index(address_spaces, i);
        g_string_append_printf(out, "address-space: %s\n", as->name);
        print_region(out, as->root, 0, 1);
        g_string_append_printf(out, "flat view of %s:\n", as->name);
        for (unsigned j = 0; j < as->view.nr; j++) {
            const FlatRange *r = &as->view.ranges[j];
            g_string_append_printf(out, "  %016" PRIx64 "-%016" PRIx64
                                   " %s%s @%" PRIx64 "\n", r->start, r->end - 1,
                                   r->mr->name, r->readonly ? " (ro)" : "",
                                   r->offset);
        }
        g_string_append_c(out, '\n');
    }
}
