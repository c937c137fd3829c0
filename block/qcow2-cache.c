/*
 * A write-back cache of one-cluster metadata tables (L2 tables, refcount
 * blocks), kept in their on-disk byte order.  Replacement is CLOCK over
 * entries nobody holds.  A cache may depend on another: before any of its
 * dirty tables is written, the other one is written and synced (L2 tables
 * depend on refcount blocks, see qcow2.h).  Called with s->lock held.
 */
#include "qcow2.h"

typedef struct CacheEntry {
    uint64_t offset;            /* 0: free */
    int ref;
    bool dirty;
    bool used;                  /* CLOCK's second-chance bit */
} CacheEntry;

struct Qcow2Cache {
    BDRVQcow2State *s;
    Qcow2Cache *dep;
    CacheEntry *e;
    uint8_t *tables;
    int n;
    int hand;
    size_t size;
    GHashTable *map;            /* offset >> 9 -> entry index + 1 */
};

Qcow2Cache *qcache_new(BDRVQcow2State *s, int entries, Qcow2Cache *dep)
{
    Qcow2Cache *c = g_new0(Qcow2Cache, 1);
    c->s = s;
    c->dep = dep;
    c->n = entries;
    c->size = s->cluster_size;
    c->e = g_new0(CacheEntry, entries);
    c->tables = block_alloc((size_t)entries * c->size);
    if (!c->tables) {
        g_free(c->e);
        g_free(c);
        return NULL;
    }
    c->map = g_hash_table_new(g_direct_hash, g_direct_equal);
    return c;
}

void qcache_free(Qcow2Cache *c)
{
    if (c) {
        g_hash_table_destroy(c->map);
        free(c->tables);
        g_free(c->e);
        g_free(c);
    }
}

void qcache_set_dep(Qcow2Cache *c, Qcow2Cache *dep)
{
    c->dep = dep;
}

static void *table_of(Qcow2Cache *c, int i)
{
    return c->tables + (size_t)i * c->size;
}

static int index_of(Qcow2Cache *c, void *table)
{
    return ((uint8_t *)table - c->tables) / c->size;
}

static int lookup(Qcow2Cache *c, uint64_t offset)
{
    gpointer v = g_hash_table_lookup(c->map, GSIZE_TO_POINTER(offset >> 9));
    return GPOINTER_TO_INT(v) - 1;
}

bool qcache_has_dirty(Qcow2Cache *c)
{
    for (int i = 0; i < c->n; i++) {
        if (c->e[i].dirty) {
            return true;
        }
    }
    return false;
}

static int write_entry(Qcow2Cache *c, int i)
{
    if (!c->e[i].dirty) {
        return 0;
    }
    if (c->dep && qcache_has_dirty(c->dep)) {
        int ret = qcache_flush(c->dep);
        if (!ret) {
            ret = bfile_flush(&c->s->file);
        }
        if (ret) {
            return ret;
        }
    }
    int ret = bfile_pwrite(&c->s->file, c->e[i].offset, table_of(c, i),
                           c->size);
    if (!ret) {
        c->e[i].dirty = false;
    }
    return ret;
}

int qcache_flush(Qcow2Cache *c)
{
    int ret = 0;
    for (int i = 0; i < c->n; i++) {
        int r = write_entry(c, i);
        ret = ret ? ret : r;
    }
    return ret;
}

static int victim(Qcow2Cache *c)
{
    for (int pass = 0; pass < 2 * c->n + 1; pass++) {
        int i = c->hand;
        c->hand = (c->hand + 1) % c->n;
        if (c->e[i].ref) {
            continue;
        }
        if (!c->e[i].offset) {
            return i;
        }
        if (c->e[i].used) {
            c->e[i].used = false;
            continue;
        }
        return i;
    }
    return -1;
}

int qcache_get(Qcow2Cache *c, uint64_t offset, void **table, bool load)
{
    int i = lookup(c, offset);
    if (i >= 0) {
        c->e[i].ref++;
        c->e[i].used = true;
        if (!load) {
            memset(table_of(c, i), 0, c->size);
            c->e[i].dirty = true;
        }
        *table = table_of(c, i);
        return 0;
    }
    i = victim(c);
    if (i < 0) {
        return -ENOMEM;         /* every entry held: a bug, not the image */
    }
    if (c->e[i].offset) {
        int ret = write_entry(c, i);
        if (ret) {
            return ret;
        }
        g_hash_table_remove(c->map, GSIZE_TO_POINTER(c->e[i].offset >> 9));
        c->e[i].offset = 0;
    }
    if (load) {
        int ret = bfile_pread(&c->s->file, offset, table_of(c, i), c->size);
        if (ret) {
            return ret;
        }
    } else {
        memset(table_of(c, i), 0, c->size);
    }
    c->e[i] = (CacheEntry){ .offset = offset, .ref = 1, .used = true,
                            .dirty = !load };
    g_hash_table_insert(c->map, GSIZE_TO_POINTER(offset >> 9),
                        GINT_TO_POINTER(i + 1));
    *table = table_of(c, i);
    return 0;
}

void qcache_put(Qcow2Cache *c, void *table)
{
    int i = index_of(c, table);
    g_assert(c->e[i].ref > 0);
    c->e[i].ref--;
}

/* Write one table now (after its dependency). */
int qcache_write(Qcow2Cache *c, void *table)
{
    return write_entry(c, index_of(c, table));
}

void qcache_dirty(Qcow2Cache *c, void *table)
{
    c->e[index_of(c, table)].dirty = true;
}

void *qcache_peek(Qcow2Cache *c, uint64_t offset)
{
    int i = lookup(c, offset);
    if (i < 0) {
        return NULL;
    }
    c->e[i].used = true;
    return table_of(c, i);
}

/* The table's cluster was freed: drop it without writing. */
void qcache_forget(Qcow2Cache *c, uint64_t offset)
{
    int i = lookup(c, offset);
    if (i >= 0) {
        g_assert(!c->e[i].ref);
        g_hash_table_remove(c->map, GSIZE_TO_POINTER(offset >> 9));
        c->e[i] = (CacheEntry){ 0 };
    }
}
