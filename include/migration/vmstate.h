/*
 * Device state as data.  Every device describes its guest-visible state in a
 * VMStateDescription: named, versioned fields at offsets in its struct, plus
 * optional subsections sent only when needed.  Migration and the state
 * round-trip test serialise these tables; no device writes save/load code.
 *
 * Encoding (big-endian, like QEMU's stream): fields in order; then for each
 * needed subsection: 0x05, name length (u8), name, version (be32), its
 * encoding; then 0x00 ends the section.
 */
#ifndef MIGRATION_VMSTATE_H
#define MIGRATION_VMSTATE_H

#include "util/osdep.h"

typedef enum {
    VMS_UINT8,
    VMS_UINT16,
    VMS_UINT32,
    VMS_UINT64,
    VMS_INT32,
    VMS_INT64,
    VMS_BOOL,
    VMS_BUFFER,       /* raw bytes, size = byte count */
    VMS_STRUCT,       /* nested description */
    VMS_TIMER,        /* QEMUTimer (embedded): expiry time or -1 */
    VMS_TIMER_PTR,    /* QEMUTimer * */
} VMStateType;

typedef struct VMStateDescription VMStateDescription;

typedef struct VMStateField {
    const char *name;
    VMStateType type;
    size_t offset;
    size_t size;           /* element size in bytes */
    unsigned num;          /* array length, 1 for scalars */
    const VMStateDescription *vmsd;   /* VMS_STRUCT */
    int version_id;        /* field exists since this version */
    /* Values a loaded field must not exceed (0 = unchecked). */
    uint64_t max;
} VMStateField;

struct VMStateDescription {
    const char *name;
    int version_id;
    int minimum_version_id;
    const VMStateField *fields;                 /* ends with { .name = NULL } */
    const VMStateDescription *const *subsections;  /* NULL-terminated */
    bool (*needed)(void *opaque);               /* subsections only */
    int (*pre_save)(void *opaque);
    /* Validate and apply loaded state; return -1 with a message to refuse. */
    int (*post_load)(void *opaque, int version_id, Error **errp);
};

#define VMSTATE_FIELD_(_n, _f, _st, _type, _num) { \
    .name = (_n), .type = (_type), .offset = offsetof(_st, _f), \
    .size = sizeof(((_st *)0)->_f) / (_num), .num = (_num) }
#define VMSTATE_UINT8(_f, _st)  VMSTATE_FIELD_(#_f, _f, _st, VMS_UINT8, 1)
#define VMSTATE_UINT16(_f, _st) VMSTATE_FIELD_(#_f, _f, _st, VMS_UINT16, 1)
#define VMSTATE_UINT32(_f, _st) VMSTATE_FIELD_(#_f, _f, _st, VMS_UINT32, 1)
#define VMSTATE_UINT64(_f, _st) VMSTATE_FIELD_(#_f, _f, _st, VMS_UINT64, 1)
#define VMSTATE_INT32(_f, _st)  VMSTATE_FIELD_(#_f, _f, _st, VMS_INT32, 1)
#define VMSTATE_INT64(_f, _st)  VMSTATE_FIELD_(#_f, _f, _st, VMS_INT64, 1)
#define VMSTATE_BOOL(_f, _st)   VMSTATE_FIELD_(#_f, _f, _st, VMS_BOOL, 1)
#define VMSTATE_UINT8_ARRAY(_f, _st, _n) \
    VMSTATE_FIELD_(#_f, _f, _st, VMS_UINT8, _n)
#define VMSTATE_UINT16_ARRAY(_f, _st, _n) \
    VMSTATE_FIELD_(#_f, _f, _st, VMS_UINT16, _n)
#define VMSTATE_UINT32_ARRAY(_f, _st, _n) \
    VMSTATE_FIELD_(#_f, _f, _st, VMS_UINT32, _n)
#define VMSTATE_UINT64_ARRAY(_f, _st, _n) \
    VMSTATE_FIELD_(#_f, _f, _st, VMS_UINT64, _n)
#define VMSTATE_BUFFER(_f, _st) { .name = #_f, .type = VMS_BUFFER, \
    .offset = offsetof(_st, _f), .size = sizeof(((_st *)0)->_f), .num = 1 }
#define VMSTATE_STRUCT(_f, _st, _vmsd, _type) { .name = #_f, \
    .type = VMS_STRUCT, .offset = offsetof(_st, _f), .size = sizeof(_type), \
    .num = 1, .vmsd = &(_vmsd) }
#define VMSTATE_STRUCT_ARRAY(_f, _st, _n, _vmsd, _type) { .name = #_f, \
    .type = VMS_STRUCT, .offset = offsetof(_st, _f), .size = sizeof(_type), \
    .num = (_n), .vmsd = &(_vmsd) }
#define VMSTATE_TIMER(_f, _st) { .name = #_f, .type = VMS_TIMER, \
    .offset = offsetof(_st, _f), .size = sizeof(QEMUTimer), .num = 1 }
#define VMSTATE_TIMER_PTR(_f, _st) { .name = #_f, .type = VMS_TIMER_PTR, \
    .offset = offsetof(_st, _f), .size = sizeof(void *), .num = 1 }
/* A scalar whose loaded value must not exceed _max (indexes, counts). */
#define VMSTATE_FIELD_MAX(_f, _st, _type, _max) { .name = #_f, \
    .type = (_type), .offset = offsetof(_st, _f), \
    .size = sizeof(((_st *)0)->_f), .num = 1, .max = (_max) }
#define VMSTATE_END_OF_LIST() { .name = NULL }

void vmstate_save(GByteArray *out, const VMStateDescription *vmsd,
                  void *opaque);
/* Load from buf[*pos..len); on error leaves a message and returns false. */
bool vmstate_load(const uint8_t *buf, size_t len, size_t *pos,
                  const VMStateDescription *vmsd, void *opaque,
                  int version_id, Error **errp);
/* Fill every field with pseudo-random values (state round-trip tests). */
void vmstate_randomize(const VMStateDescription *vmsd, void *opaque,
                       GRand *rand);

#endif
