/*
 * Image nodes: format probing, opening a backing chain (with loop
 * detection, and never probing a backing file's format), and the
 * synchronous node I/O that drivers and tools use.
 */
#include "block/block_int.h"
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

static const BlockDriver *const drivers[] = { &bdrv_qcow2, &bdrv_raw };

const BlockDriver *bdrv_find_format(const char *name)
{
    for (unsigned i = 0; i < ARRAY_SIZE(drivers); i++) {
        if (!strcmp(drivers[i]->name, name)) {
            return drivers[i];
        }
    }
    return NULL;
}

const char *bdrv_probe_format(const char *filename, Error **errp)
{
    BlockFile f;
    uint8_t buf[512] = { 0 };
    if (!bfile_open(&f, filename, false, BLOCK_CACHE_WRITEBACK, errp)) {
        return NULL;
    }
    int ret = bfile_pread(&f, 0, buf, sizeof(buf));
    bfile_close(&f);
    if (ret < 0) {
        error_setg(errp, "Could not read '%s': %s", filename, strerror(-ret));
        return NULL;
    }
    const BlockDriver *best = &bdrv_raw;
    int score = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(drivers); i++) {
        int s = drivers[i]->probe ? drivers[i]->probe(buf, sizeof(buf)) : 0;
        if (s > score) {
            score = s;
            best = drivers[i];
        }
    }
    return best->name;
}

char *bdrv_backing_path(BlockDriverState *bs, const char *backing)
{
    if (g_path_is_absolute(backing)) {
        return g_strdup(backing);
    }
    g_autofree char *dir = g_path_get_dirname(bs->filename);
    if (!strcmp(dir, ".")) {
        return g_strdup(backing);     /* as given, like QEMU shows it */
    }
    return g_build_filename(dir, backing, NULL);
}

BlockDriverState *bdrv_new_node(const BlockDriver *drv, const char *filename)
{
    static unsigned nodes;
    BlockDriverState *bs = g_new0(BlockDriverState, 1);

    bs->drv = drv;
    bs->refcnt = 1;
    bs->filename = g_strdup(filename);
    snprintf(bs->node_name, sizeof(bs->node_name), "#block%u", nodes++);
    return bs;
}

static BlockDriverState *open_one(const char *filename, const char *format,
                                  const BdrvOpenParams *p, bool probe_warn,
                                  Error **errp)
{
    struct stat st;
    if (stat(filename, &st) < 0) {
        error_setg(errp, "Could not open '%s': %s", filename, strerror(errno));
        return NULL;
    }
    if (!format) {
        format = bdrv_probe_format(filename, errp);
        if (!format) {
            return NULL;
        }
        if (probe_warn) {
            warn_report("Image format was not specified for '%s' and probing "
                        "guessed %s; specify format=%s to silence this%s",
                        filename, format, format, strcmp(format, "raw") ? "" :
                        " (writes of a format signature to sector 0 are "
                        "refused)");
        }
    }
    const BlockDriver *drv = bdrv_find_format(format);
    if (!drv) {
        error_setg(errp, "Unknown image format '%s' (known: qcow2, raw)",
                   format);
        return NULL;
    }
    BlockDriverState *bs = bdrv_new_node(drv, filename);
    bs->read_only = !p->rw;
    bs->cache = p->cache;
    bs->dev = st.st_dev;
    bs->ino = st.st_ino;
    bs->probed_raw = probe_warn && drv == &bdrv_raw;
    if (!drv->open(bs, p, errp)) {
        g_free(bs->filename);
        g_free(bs->backing_file);
        g_free(bs->backing_format);
        g_free(bs);
        return NULL;
    }
    return bs;
}

BlockDriverState *bdrv_open(const char *filename, const char *format,
                            const BdrvOpenParams *p, bool open_backing,
                            bool probe_warn, Error **errp)
{
    if (g_str_has_prefix(filename, "blkdebug:")) {
        /* blkdebug:[CONFIG]:IMAGE */
        const char *config = filename + strlen("blkdebug:");
        const char *image = strchr(config, ':');
        if (!image || !image[1]) {
            error_setg(errp, "blkdebug requires both config file and image "
                       "path (blkdebug:[CONFIG]:IMAGE)");
            return NULL;
        }
        g_autofree char *config_path = g_strndup(config, image - config);
        BdrvOpenParams dp = *p;
        dp.blkdebug_config = config_path;
        return blkdebug_open(filename, image + 1, format, &dp, open_backing,
                             probe_warn, errp);
    }
    if (p->blkdebug_config) {
        g_autofree char *name = g_strdup_printf("blkdebug:%s:%s",
                                                p->blkdebug_config, filename);
        return blkdebug_open(name, filename, format, p, open_backing,
                             probe_warn, errp);
    }
    if (g_str_has_prefix(filename, NULL_CO_FILENAME)) {
        if (format && strcmp(format, "raw")) {
            error_setg(errp, "'%s': only format raw can be used on null-co",
                       filename);
            return NULL;
        }
        return null_open(p);        /* raw on null-co is null-co itself */
    }
    BlockDriverState *top = open_one(filename, format, p, probe_warn, errp);
    if (top && p->backing && open_backing) {
        /* blockdev-add backing=NODE: that node, shared with its users. */
        bdrv_ref(p->backing);
        top->backing = p->backing;
        top->backing_node = true;
        return top;
    }
    BdrvOpenParams bp = *p;
    bp.rw = false;
    bp.check = false;

    for (BlockDriverState *bs = top; bs && open_backing && bs->backing_file;
         bs = bs->backing) {
        g_autofree char *path = bdrv_backing_path(bs, bs->backing_file);
        struct stat st;
        if (!bs->backing_format) {
            error_setg(errp, "'%s': backing file '%s' has no format recorded "
                       "and kestrel does not probe backing files (record it "
                       "with: kestrel-img rebase -u -b '%s' -F FMT '%s')",
                       bs->filename, bs->backing_file, bs->backing_file,
                       bs->filename);
            goto fail;
        }
        if (stat(path, &st) == 0) {
            for (BlockDriverState *b = top; b; b = b->backing) {
                if (b->dev == st.st_dev && b->ino == st.st_ino) {
                    error_setg(errp, "'%s': backing file '%s' leads back to "
                               "'%s': backing chain loop", bs->filename,
                               path, b->filename);
                    goto fail;
                }
            }
        }
        Error *local = NULL;
        bs->backing = open_one(path, bs->backing_format, &bp, false, &local);
        if (!bs->backing) {
            error_setg(errp, "'%s': could not open backing file: %s",
                       bs->filename, local->msg);
            error_free(local);
            goto fail;
        }
    }
    return top;
fail:
    bdrv_close(top);
    return NULL;
}

void bdrv_ref(BlockDriverState *bs)
{
    bs->refcnt++;
}

void bdrv_close(BlockDriverState *bs)
{
    while (bs && !--bs->refcnt) {
        BlockDriverState *next = bs->backing;
        bs->drv->close(bs);
        g_free(bs->filename);
        g_free(bs->backing_file);
        g_free(bs->backing_format);
        g_free(bs);
        bs = next;
    }
}

/* ---- synchronous node I/O ---- */

int bdrv_preadv(BlockDriverState *bs, int64_t off, int64_t bytes,
                const struct iovec *iov, int niov)
{
    if (off < 0 || bytes < 0) {
        return -EINVAL;
    }
    int64_t in = off >= bs->size ? 0 : MIN(bytes, bs->size - off);
    if (in < bytes) {
        iov_memset(iov, niov, in, 0, bytes - in);
    }
    if (!in) {
        return 0;
    }
    if (in == bytes) {
        return bs->drv->preadv(bs, off, in, iov, niov);
    }
    struct iovec tmp[niov + 1];
    int n = iov_slice(tmp, iov, niov, 0, in);
    return bs->drv->preadv(bs, off, in, tmp, n);
}

static int check_write(BlockDriverState *bs, int64_t off, int64_t bytes)
{
    if (bs->read_only) {
        return -EACCES;
    }
    if (off < 0 || bytes < 0 || off > bs->size || bytes > bs->size - off) {
        return -EIO;
    }
    return 0;
}

int bdrv_pwritev(BlockDriverState *bs, int64_t off, int64_t bytes,
                 const struct iovec *iov, int niov)
{
    int ret = check_write(bs, off, bytes);
    return ret ? ret : bytes ? bs->drv->pwritev(bs, off, bytes, iov, niov) : 0;
}

int bdrv_pread(BlockDriverState *bs, int64_t off, void *buf, int64_t bytes)
{
    struct iovec iov = { buf, bytes };
    return bdrv_preadv(bs, off, bytes, &iov, 1);
}

int bdrv_pwrite(BlockDriverState *bs, int64_t off, const void *buf,
                int64_t bytes)
{
    struct iovec iov = { (void *)buf, bytes };
    return bdrv_pwritev(bs, off, bytes, &iov, 1);
}

int bdrv_flush(BlockDriverState *bs)
{
    return bs->read_only ? 0 : bs->drv->flush(bs);
}

int bdrv_pwrite_zeroes(BlockDriverState *bs, int64_t off, int64_t bytes,
                       int flags)
{
    int ret = check_write(bs, off, bytes);
    return ret ? ret : bs->drv->pwrite_zeroes(bs, off, bytes, flags);
}

int bdrv_pdiscard(BlockDriverState *bs, int64_t off, int64_t bytes, int flags)
{
    int ret = check_write(bs, off, bytes);
    if (ret || !bs->drv->pdiscard) {
        return ret;
    }
    return bs->drv->pdiscard(bs, off, bytes, flags);
}

int bdrv_block_status(BlockDriverState *bs, int64_t off, int64_t bytes,
                      int64_t *pnum, int64_t *map)
{
    bytes = MIN(bytes, bs->size - off);
    if (bytes <= 0) {
        *pnum = 0;
        return 0;
    }
    *map = 0;
    return bs->drv->block_status(bs, off, bytes, pnum, map);
}

int bdrv_block_status_above(BlockDriverState *bs, int64_t off, int64_t bytes,
                            int64_t *pnum, int64_t *map, int *depth)
{
    int d = 0;
    *pnum = MIN(bytes, bs->size - off);
    for (;;) {
        int64_t n;
        int st = bdrv_block_status(bs, off, *pnum, &n, map);
        if (st < 0) {
            return st;
        }
        *pnum = n;
        if ((st & BDRV_BLOCK_ALLOCATED) || !bs->backing) {
            *depth = d;
            return st;
        }
        if (off >= bs->backing->size) {
            *depth = d + 1;
            return BDRV_BLOCK_ZERO;
        }
        *pnum = MIN(*pnum, bs->backing->size - off);
        bs = bs->backing;
        d++;
    }
}

int bdrv_truncate(BlockDriverState *bs, int64_t size, Error **errp)
{
    if (bs->read_only) {
        error_setg(errp, "Image is read-only");
        return -EACCES;
    }
    if (!bs->drv->truncate) {
        error_setg(errp, "Format '%s' cannot be resized", bs->drv->name);
        return -ENOTSUP;
    }
    return bs->drv->truncate(bs, size, errp);
}

int bdrv_check(BlockDriverState *bs, BdrvCheckResult *res, int fix)
{
    memset(res, 0, sizeof(*res));
    if (!bs->drv->check) {
        return -ENOTSUP;
    }
    return bs->drv->check(bs, res, fix);
}

bool bdrv_create(const char *fmt, const char *filename,
                 const BlockCreateOpts *o, Error **errp)
{
    const BlockDriver *drv = bdrv_find_format(fmt);
    if (!drv) {
        error_setg(errp, "Unknown format '%s' (known: qcow2, raw)", fmt);
        return false;
    }
    return drv->create(filename, o, errp);
}

void bdrv_snapshots_free(BdrvSnapshot *list, int n)
{
    for (int i = 0; i < n; i++) {
        g_free(list[i].id);
        g_free(list[i].name);
    }
    g_free(list);
}

uint32_t bdrv_cluster_size(BlockDriverState *bs)
{
    return bs->drv->cluster_size ? bs->drv->cluster_size(bs) : 0;
}
