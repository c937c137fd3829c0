/*
 * Boot blobs and file loading.  Blobs are kept as copies and written into
 * guest memory (RAM or ROM) on every system reset, in the order added.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "hw/core/loader.h"
#include "system/memory.h"

typedef struct RomBlob {
    char *name;
    uint8_t *data;
    size_t len;
    size_t zero_len;            /* zero bytes written after data */
    uint64_t addr;
} RomBlob;

static GPtrArray *rom_blobs;

void rom_add_blob_zero_tail(const char *name, const void *data, size_t len,
                            size_t zero_len, uint64_t addr)
{
    RomBlob *rom = g_new0(RomBlob, 1);

    if (!rom_blobs) {
        rom_blobs = g_ptr_array_new();
    }
    rom->name = g_strdup(name);
    rom->data = g_memdup2(data, len);
    rom->len = len;
    rom->zero_len = zero_len;
    rom->addr = addr;
    g_ptr_array_add(rom_blobs, rom);
}

void rom_add_blob(const char *name, const void *data, size_t len,
                  uint64_t addr)
{
    rom_add_blob_zero_tail(name, data, len, 0, addr);
}

static bool rom_write_zeros(uint64_t addr, size_t len)
{
    static const uint8_t zeros[4096];

    while (len) {
        size_t n = MIN(len, sizeof(zeros));

        if (!address_space_write_rom(&address_space_memory, addr, zeros, n)) {
            return false;
        }
        addr += n;
        len -= n;
    }
    return true;
}

void rom_reset_all(void)
{
    for (unsigned i = 0; rom_blobs && i < rom_blobs->len; i++) {
        RomBlob *rom = g_ptr_array_index(rom_blobs, i);

        if (!address_space_write_rom(&address_space_memory, rom->addr,
                                     rom->data, rom->len) ||
            !rom_write_zeros(rom->addr + rom->len, rom->zero_len)) {
            error_report("rom '%s' at 0x%" PRIx64 "+0x%zx is not backed by "
                         "memory", rom->name, rom->addr, rom->len + rom->zero_len);
        }
    }
}

uint8_t *load_file(const char *path, size_t max, size_t *len, Error **errp)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t done = 0;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error_setg(errp, "could not open '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0) {
        error_setg(errp, "could not stat '%s': %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        error_setg(errp, "'%s' is not a regular file", path);
        goto fail;
    }
    if ((uint64_t)st.st_size > max) {
        error_setg(errp, "'%s' is too large (%" PRIu64 " bytes, at most %zu)",
                   path, (uint64_t)st.st_size, max);
        goto fail;
    }
    buf = g_try_malloc(st.st_size + 1);
    if (!buf) {
        error_setg(errp, "out of memory reading '%s'", path);
        goto fail;
    }
    while (done < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + done, st.st_size - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            error_setg(errp, "could not read '%s': %s", path,
                       n < 0 ? strerror(errno) : "file shrank while reading");
            goto fail;
        }
        done += n;
    }
    buf[done] = 0;    /* handy for text files */
    close(fd);
    *len = done;
    return buf;

fail:
    g_free(buf);
    close(fd);
    return NULL;
}
