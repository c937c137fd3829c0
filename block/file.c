/*
 * Host files (regular files and block devices) with synchronous, whole
 * transfers, plus iovec helpers.  With O_DIRECT, transfers that are not
 * aligned go through an aligned bounce buffer (read-modify-write for
 * writes); the callers that can race on one block (qcow2 metadata) hold
 * their own lock.
 */
#include "block/block_int.h"
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include <linux/falloc.h>

void *block_alloc(size_t size)
{
    void *p = NULL;
    if (posix_memalign(&p, 4096, MAX(size, 1))) {
        return NULL;
    }
    memset(p, 0, size);
    return p;
}

bool bfile_open(BlockFile *f, const char *path, bool rw, BlockCacheMode cache,
                Error **errp)
{
    bool direct = cache == BLOCK_CACHE_NONE || cache == BLOCK_CACHE_DIRECTSYNC;
    int flags = (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | (direct ? O_DIRECT : 0);
    struct stat st;

    memset(f, 0, sizeof(*f));
    f->fd = open(path, flags);
    if (f->fd < 0 && errno == EINVAL && direct) {
        error_setg(errp, "Could not open '%s': the file system does not "
                   "support O_DIRECT (cache=none)", path);
        return false;
    }
    if (f->fd < 0) {
        error_setg(errp, "Could not open '%s': %s", path, strerror(errno));
        return false;
    }
    if (fstat(f->fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
        error_setg(errp, "Could not open '%s': not a regular file or block "
                   "device", path);
        close(f->fd);
        f->fd = -1;
        return false;
    }
    f->is_bdev = S_ISBLK(st.st_mode);
    f->direct = direct;
    f->no_flush = cache == BLOCK_CACHE_UNSAFE;
    f->align = 1;
    if (direct) {
        int bs = 0;
        f->align = 4096;
        if (f->is_bdev && ioctl(f->fd, BLKSSZGET, &bs) == 0 && bs > 0) {
            f->align = MAX(bs, 512);
        }
    }
    f->path = g_strdup(path);
    return true;
}

void bfile_close(BlockFile *f)
{
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
    g_free(f->path);
    f->path = NULL;
}

bool bfile_aligned(BlockFile *f, int64_t off, const struct iovec *iov,
                   int niov)
{
    if (!f->direct) {
        return true;
    }
    if (off % f->align) {
        return false;
    }
    for (int i = 0; i < niov; i++) {
        if ((uintptr_t)iov[i].iov_base % f->align || iov[i].iov_len % f->align) {
            return false;
        }
    }
    return true;
}

/* Loop until everything moved; a read that meets EOF zero-fills. */
static int rw_loop(BlockFile *f, bool write, int64_t off,
                   const struct iovec *iov, int niov)
{
    size_t total = iov_size(iov, niov), done = 0;
    struct iovec tmp[niov + 1];

    while (done < total) {
        int n = iov_slice(tmp, iov, niov, done, total - done);
        ssize_t r = write ? pwritev(f->fd, tmp, MIN(n, IOV_MAX), off + done)
                          : preadv(f->fd, tmp, MIN(n, IOV_MAX), off + done);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (r == 0) {
            if (write) {
                return -EIO;
            }
            iov_memset(iov, niov, done, 0, total - done);
            return 0;
        }
        done += r;
    }
    return 0;
}

/* Misaligned O_DIRECT: move the covering aligned range through a buffer. */
static int bounce(BlockFile *f, bool write, int64_t off,
                  const struct iovec *iov, int niov)
{
    size_t len = iov_size(iov, niov);
    int64_t start = ALIGN_DOWN(off, (int64_t)f->align);
    int64_t end = ALIGN_UP(off + (int64_t)len, (int64_t)f->align);
    uint8_t *buf = block_alloc(end - start);
    struct iovec biov = { buf, end - start };
    int ret = 0;

    if (!buf) {
        return -ENOMEM;
    }
    if (!write || start != off || end != off + (int64_t)len) {
        ret = rw_loop(f, false, start, &biov, 1);
    }
    if (ret == 0 && write) {
        iov_to_buf(iov, niov, 0, buf + (off - start), len);
        ret = rw_loop(f, true, start, &biov, 1);
    } else if (ret == 0) {
        iov_from_buf(iov, niov, 0, buf + (off - start), len);
    }
    free(buf);
    return ret;
}

int bfile_preadv(BlockFile *f, int64_t off, const struct iovec *iov, int niov)
{
    if (!bfile_aligned(f, off, iov, niov)) {
        return bounce(f, false, off, iov, niov);
    }
    return rw_loop(f, false, off, iov, niov);
}

int bfile_pwritev(BlockFile *f, int64_t off, const struct iovec *iov,
                  int niov)
{
    if (!bfile_aligned(f, off, iov, niov)) {
        return bounce(f, true, off, iov, niov);
    }
    return rw_loop(f, true, off, iov, niov);
}

int bfile_pread(BlockFile *f, int64_t off, void *buf, size_t len)
{
    struct iovec iov = { buf, len };
    return bfile_preadv(f, off, &iov, 1);
}

int bfile_pwrite(BlockFile *f, int64_t off, const void *buf, size_t len)
{
    struct iovec iov = { (void *)buf, len };
    return bfile_pwritev(f, off, &iov, 1);
}

int bfile_flush(BlockFile *f)
{
    if (f->no_flush) {
        return 0;
    }
    return fdatasync(f->fd) < 0 ? -errno : 0;
}

int64_t bfile_length(BlockFile *f)
{
    struct stat st;
    if (f->is_bdev) {
        uint64_t size;
        return ioctl(f->fd, BLKGETSIZE64, &size) < 0 ? -errno : (int64_t)size;
    }
    return fstat(f->fd, &st) < 0 ? -errno : st.st_size;
}

int bfile_truncate(BlockFile *f, int64_t len)
{
    if (f->is_bdev) {
        return bfile_length(f) >= len ? 0 : -ENOSPC;
    }
    return ftruncate(f->fd, len) < 0 ? -errno : 0;
}

int bfile_discard(BlockFile *f, int64_t off, int64_t len)
{
    if (f->is_bdev) {
        uint64_t range[2] = { off, len };
        return ioctl(f->fd, BLKDISCARD, range) < 0 ? -errno : 0;
    }
    if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  off, len) < 0) {
        return errno == EOPNOTSUPP ? 0 : -errno;
    }
    return 0;
}

/* Reserve [off, off + len); with full, write zeros (preallocation=full). */
int bfile_allocate(BlockFile *f, int64_t off, int64_t len, bool full)
{
    if (!full) {
        return fallocate(f->fd, 0, off, len) < 0 ? -errno : 0;
    }
    size_t chunk = 1 << 20;
    uint8_t *buf = block_alloc(chunk);
    int ret = 0;
    if (!buf) {
        return -ENOMEM;
    }
    for (int64_t pos = off; pos < off + len && !ret; pos += chunk) {
        ret = bfile_pwrite(f, pos, buf, MIN((int64_t)chunk, off + len - pos));
    }
    free(buf);
    return ret;
}

/* ---- iovec helpers ---- */

size_t iov_size(const struct iovec *iov, int niov)
{
    size_t n = 0;
    for (int i = 0; i < niov; i++) {
        n += iov[i].iov_len;
    }
    return n;
}

int iov_slice(struct iovec *dst, const struct iovec *src, int niov,
              size_t off, size_t len)
{
    int n = 0;
    for (int i = 0; i < niov && len; i++) {
        if (off >= src[i].iov_len) {
            off -= src[i].iov_len;
            continue;
        }
        size_t take = MIN(src[i].iov_len - off, len);
        dst[n].iov_base = (uint8_t *)src[i].iov_base + off;
        dst[n].iov_len = take;
        n++;
        len -= take;
        off = 0;
    }
    return n;
}

void iov_memset(const struct iovec *iov, int niov, size_t off, int c,
                size_t len)
{
    for (int i = 0; i < niov && len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t take = MIN(iov[i].iov_len - off, len);
        memset((uint8_t *)iov[i].iov_base + off, c, take);
        len -= take;
        off = 0;
    }
}

size_t iov_to_buf(const struct iovec *iov, int niov, size_t off, void *buf,
                  size_t len)
{
    size_t done = 0;
    for (int i = 0; i < niov && done < len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t take = MIN(iov[i].iov_len - off, len - done);
        memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + off, take);
        done += take;
        off = 0;
    }
    return done;
}

size_t iov_from_buf(const struct iovec *iov, int niov, size_t off,
                    const void *buf, size_t len)
{
    size_t done = 0;
    for (int i = 0; i < niov && done < len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t take = MIN(iov[i].iov_len - off, len - done);
        memcpy((uint8_t *)iov[i].iov_base + off, (const uint8_t *)buf + done,
               take);
        done += take;
        off = 0;
    }
    return done;
}

bool buffer_is_zero(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t i = 0;
    for (; i < len && ((uintptr_t)(p + i) & 7); i++) {
        if (p[i]) {
            return false;
        }
    }
    for (; i + 8 <= len; i += 8) {
        if (*(const uint64_t *)(p + i)) {
            return false;
        }
    }
    for (; i < len; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}
