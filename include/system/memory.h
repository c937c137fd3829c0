/*
 * The memory API: a tree of regions (RAM, ROM, I/O callbacks, aliases and
 * containers with priorities) per address space, flattened into a sorted list
 * of ranges after every change.  Dispatch (vCPU exits, device DMA) searches
 * the flat list; listeners (KVM memslots) are told the new list on commit.
 */
#ifndef SYSTEM_MEMORY_H
#define SYSTEM_MEMORY_H

#include "util/osdep.h"

typedef struct MemoryRegion MemoryRegion;
typedef struct AddressSpace AddressSpace;

typedef struct MemoryRegionOps {
    uint64_t (*read)(void *opaque, uint64_t addr, unsigned size);
    void (*write)(void *opaque, uint64_t addr, uint64_t val, unsigned size);
    /* Sizes the guest may use; others read as all-ones and write nothing.
     * 0 means the default: min 1, max 4. */
    struct {
        unsigned min_access_size, max_access_size;
        bool unaligned;
    } valid;
    /* Sizes the callbacks implement; the core splits or widens the rest. */
    struct {
        unsigned min_access_size, max_access_size;
    } impl;
} MemoryRegionOps;

typedef enum {
    MR_CONTAINER,
    MR_RAM,
    MR_IO,
    MR_ALIAS,
} MemoryRegionType;

struct MemoryRegion {
    char *name;
    MemoryRegionType type;
    uint64_t size;            /* UINT64_MAX stands for the whole 2^64 space */
    bool enabled;
    bool readonly;            /* ROM, or a read-only view through an alias */
    uint8_t *ram;             /* host memory of an MR_RAM region */
    bool ram_owned;
    bool romd_mode;           /* ROM device: reads come from ram */
    const MemoryRegionOps *ops;   /* MR_IO, or an MR_RAM ROM device */
    void *opaque;
    MemoryRegion *alias;
    uint64_t alias_offset;
    MemoryRegion *container;
    uint64_t addr;            /* offset within the container */
    int priority;
    GPtrArray *subregions;    /* kept sorted: highest priority first */
};

/* One piece of the flattened view: [start, end) maps to mr at offset. */
typedef struct FlatRange {
    uint64_t start, end;
    MemoryRegion *mr;         /* a RAM or I/O region, never a container */
    uint64_t offset;
    bool readonly;
} FlatRange;

typedef struct FlatView {
    FlatRange *ranges;
    unsigned nr;
} FlatView;

typedef struct MemoryListener MemoryListener;
struct MemoryListener {
    /* Called after the flat view of 'as' changed (and once on registration). */
    void (*commit)(MemoryListener *l, AddressSpace *as, const FlatView *view);
    AddressSpace *as;
};

struct AddressSpace {
    const char *name;
    MemoryRegion *root;
    FlatView view;
    GPtrArray *listeners;
};

extern AddressSpace address_space_memory;
extern AddressSpace address_space_io;
MemoryRegion *get_system_memory(void);
MemoryRegion *get_system_io(void);
void memory_init(void);

void memory_region_init(MemoryRegion *mr, const char *name, uint64_t size);
/* Anonymous memory, untouched pages cost nothing. */
void memory_region_init_ram(MemoryRegion *mr, const char *name, uint64_t size);
void memory_region_init_ram_ptr(MemoryRegion *mr, const char *name,
                                uint64_t size, void *ptr);
void memory_region_init_rom(MemoryRegion *mr, const char *name, uint64_t size);
void memory_region_init_io(MemoryRegion *mr, const MemoryRegionOps *ops,
                           void *opaque, const char *name, uint64_t size);
/*
 * A ROM device (flash): memory that guests never write directly.  In ROMD
 * mode (the initial one) reads come from the memory, so KVM maps it as a
 * read-only slot and code runs from it without exits; writes always go to
 * ops->write.  Out of ROMD mode (a flash showing its status or ID) every
 * access goes to the callbacks.  A read-only alias of it drops writes.
 */
void memory_region_init_rom_device(MemoryRegion *mr, const MemoryRegionOps *ops,
                                   void *opaque, const char *name,
                                   uint64_t size);
void memory_region_rom_device_set_romd(MemoryRegion *mr, bool romd_mode);
/* Whether reads of an MR_RAM or MR_IO region come straight from memory. */
static inline bool memory_region_reads_ram(const MemoryRegion *mr)
{
    return mr->type == MR_RAM && (!mr->ops || mr->romd_mode);
}
void memory_region_init_alias(MemoryRegion *mr, const char *name,
                              MemoryRegion *target, uint64_t offset,
                              uint64_t size);
void memory_region_destroy(MemoryRegion *mr);

void memory_region_add_subregion(MemoryRegion *container, uint64_t offset,
                                 MemoryRegion *sub);
void memory_region_add_subregion_overlap(MemoryRegion *container,
                                         uint64_t offset, MemoryRegion *sub,
                                         int priority);
void memory_region_del_subregion(MemoryRegion *container, MemoryRegion *sub);
void memory_region_set_enabled(MemoryRegion *mr, bool enabled);
void memory_region_set_readonly(MemoryRegion *mr, bool readonly);
void memory_region_set_address(MemoryRegion *mr, uint64_t addr);
void memory_region_set_alias_offset(MemoryRegion *mr, uint64_t offset);
static inline uint8_t *memory_region_get_ram_ptr(MemoryRegion *mr)
{
    return mr->ram;
}

/* Batch several changes into one re-flattening (and one memslot sync). */
void memory_region_transaction_begin(void);
void memory_region_transaction_commit(void);

void memory_listener_register(MemoryListener *l, AddressSpace *as);
void memory_listener_unregister(MemoryListener *l);

void address_space_init(AddressSpace *as, MemoryRegion *root, const char *name);
void address_space_destroy(AddressSpace *as);
const FlatRange *address_space_lookup(AddressSpace *as, uint64_t addr);
/* Accesses of any length; returns false if part of it hit nothing. */
bool address_space_rw(AddressSpace *as, uint64_t addr, void *buf,
                      uint64_t len, bool is_write);
static inline bool address_space_read(AddressSpace *as, uint64_t addr,
                                      void *buf, uint64_t len)
{
    return address_space_rw(as, addr, buf, len, false);
}
static inline bool address_space_write(AddressSpace *as, uint64_t addr,
                                       const void *buf, uint64_t len)
{
    return address_space_rw(as, addr, (void *)buf, len, true);
}
/* Write even into ROM (loaders putting firmware in place). */
bool address_space_write_rom(AddressSpace *as, uint64_t addr, const void *buf,
                             uint64_t len);
/* A host pointer to len bytes of guest RAM at addr, or NULL. */
void *address_space_map_ram(AddressSpace *as, uint64_t addr, uint64_t len,
                            bool is_write);

/* The callback path for one access of 1, 2, 4 or 8 bytes (exits, qtest). */
uint64_t memory_region_dispatch_read(MemoryRegion *mr, uint64_t addr,
                                     unsigned size);
void memory_region_dispatch_write(MemoryRegion *mr, uint64_t addr,
                                  uint64_t val, unsigned size);

/* "info mtree": the region tree and the flat views. */
void memory_print_tree(GString *out);

#endif
