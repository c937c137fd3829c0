/* Big-endian loads and stores on byte buffers (SCSI/ATAPI CDBs and
 * replies, on-disk formats), independent of alignment. */
#ifndef UTIL_BYTEORDER_H
#define UTIL_BYTEORDER_H

#include <stdint.h>

static inline uint16_t ld_be16(const uint8_t *p)
{
    return p[0] << 8 | p[1];
}
static inline uint32_t ld_be32(const uint8_t *p)
{
    return (uint32_t)ld_be16(p) << 16 | ld_be16(p + 2);
}
static inline uint64_t ld_be64(const uint8_t *p)
{
    return (uint64_t)ld_be32(p) << 32 | ld_be32(p + 4);
}
static inline void st_be16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}
static inline void st_be32(uint8_t *p, uint32_t v)
{
    st_be16(p, v >> 16);
    st_be16(p + 2, v);
}
static inline void st_be64(uint8_t *p, uint64_t v)
{
    st_be32(p, v >> 32);
    st_be32(p + 4, v);
}

#endif
