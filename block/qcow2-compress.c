/*
 * Compressed clusters: raw deflate with a 4 KiB window (what every qcow2
 * reader expects) or a zstd frame (v3 compression_type=1).  Decompression
 * stops once a whole cluster came out: the input is rounded up to 512-byte
 * sectors and may carry the start of the next compressed cluster.
 */
#include "qcow2.h"
#include <zlib.h>
#include <zstd.h>

ssize_t qcow2_compress(BDRVQcow2State *s, void *dst, size_t cap,
                       const void *src, size_t len)
{
    if (s->compression_type == 1) {
        size_t r = ZSTD_compress(dst, cap, src, len, 3);
        return ZSTD_isError(r) ? -ENOSPC : (ssize_t)r;
    }
    z_stream z = { 0 };
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        return -ENOMEM;
    }
    z.next_in = (Bytef *)src;
    z.avail_in = len;
    z.next_out = dst;
    z.avail_out = cap;
    int r = deflate(&z, Z_FINISH);
    ssize_t out = cap - z.avail_out;
    deflateEnd(&z);
    return r == Z_STREAM_END ? out : -ENOSPC;
}

int qcow2_decompress(BDRVQcow2State *s, void *dst, size_t len,
                     const void *src, size_t slen)
{
    if (s->compression_type == 1) {
        ZSTD_DCtx *d = ZSTD_createDCtx();
        ZSTD_inBuffer in = { src, slen, 0 };
        ZSTD_outBuffer out = { dst, len, 0 };
        int ret = 0;
        if (!d) {
            return -ENOMEM;
        }
        while (out.pos < len) {
            size_t r = ZSTD_decompressStream(d, &out, &in);
            if (ZSTD_isError(r) || (r == 0 && out.pos < len) ||
                (in.pos == in.size && out.pos < len)) {
                ret = -EIO;
                break;
            }
        }
        ZSTD_freeDCtx(d);
        return ret;
    }
    z_stream z = { 0 };
    if (inflateInit2(&z, -15) != Z_OK) {
        return -ENOMEM;
    }
    z.next_in = (Bytef *)src;
    z.avail_in = slen;
    z.next_out = dst;
    z.avail_out = len;
    int r = inflate(&z, Z_FINISH);
    bool ok = (r == Z_STREAM_END || r == Z_BUF_ERROR || r == Z_OK) &&
              z.avail_out == 0;
    inflateEnd(&z);
    return ok ? 0 : -EIO;
}
