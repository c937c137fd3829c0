/* Serialisation of device state from VMStateDescription tables. */
#include "migration/vmstate.h"
#include "system/timer.h"

#define SUBSECTION_MARK 0x05
#define SECTION_END     0x00

static void put_be(GByteArray *out, uint64_t v, unsigned bytes)
{
    uint8_t b[8];
    for (unsigned i = 0; i < bytes; i++) {
        b[i] = v >> ((bytes - 1 - i) * 8);
    }
    g_byte_array_append(out, b, bytes);
}

static uint64_t load_uint(const void *p, unsigned bytes)
{
    switch (bytes) {
    case 1: return *(const uint8_t *)p;
    case 2: return *(const uint16_t *)p;
    case 4: return *(const uint32_t *)p;
    default: return *(const uint64_t *)p;
    }
}

static void store_uint(void *p, unsigned bytes, uint64_t v)
{
    switch (bytes) {
    case 1: *(uint8_t *)p = v; break;
    case 2: *(uint16_t *)p = v; break;
    case 4: *(uint32_t *)p = v; break;
    default: *(uint64_t *)p = v; break;
    }
}

static unsigned scalar_bytes(const VMStateField *f)
{
    switch (f->type) {
    case VMS_UINT8: case VMS_BOOL: return 1;
    case VMS_UINT16: return 2;
    case VMS_UINT32: case VMS_INT32: return 4;
    default: return 8;
    }
}

static QEMUTimer *field_timer(const VMStateField *f, void *elem)
{
    return f->type == VMS_TIMER ? elem : *(QEMUTimer **)elem;
}

static void save_fields(GByteArray *out, const VMStateDescription *vmsd,
                        void *opaque);

void vmstate_save(GByteArray *out, const VMStateDescription *vmsd,
                  void *opaque)
{
    if (vmsd->pre_save) {
        vmsd->pre_save(opaque);
    }
    save_fields(out, vmsd, opaque);
    for (const VMStateDescription *const *sub = vmsd->subsections;
         sub && *sub; sub++) {
        if ((*sub)->needed && !(*sub)->needed(opaque)) {
            continue;
        }
        size_t n = strlen((*sub)->name);
        g_assert(n < 256);
        put_be(out, SUBSECTION_MARK, 1);
        put_be(out, n, 1);
        g_byte_array_append(out, (const guint8 *)(*sub)->name, n);
        put_be(out, (*sub)->version_id, 4);
        vmstate_save(out, *sub, opaque);
    }
    put_be(out, SECTION_END, 1);
}

static void save_fields(GByteArray *out, const VMStateDescription *vmsd,
                        void *opaque)
{
    for (const VMStateField *f = vmsd->fields; f && f->name; f++) {
        for (unsigned i = 0; i < f->num; i++) {
            void *elem = (char *)opaque + f->offset + i * f->size;
            switch (f->type) {
            case VMS_BUFFER:
                g_byte_array_append(out, elem, f->size);
                break;
            case VMS_STRUCT:
                vmstate_save(out, f->vmsd, elem);
                break;
            case VMS_TIMER:
            case VMS_TIMER_PTR: {
                QEMUTimer *t = field_timer(f, elem);
                put_be(out, t ? (uint64_t)t->expire : UINT64_MAX, 8);
                break;
            }
            case VMS_BOOL:
                put_be(out, *(bool *)elem, 1);
                break;
            default:
                put_be(out, load_uint(elem, f->size), scalar_bytes(f));
                break;
            }
        }
    }
}

typedef struct Reader {
    const uint8_t *buf;
    size_t len, *pos;
} Reader;

static bool get_be(Reader *r, unsigned bytes, uint64_t *v, const char *what,
                   Error **errp)
{
    if (r->len - *r->pos < bytes) {
        error_setg(errp, "state ends early in '%s'", what);
        return false;
    }
    *v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        *v = (*v << 8) | r->buf[(*r->pos)++];
    }
    return true;
}

static bool load_one(Reader *r, const VMStateDescription *vmsd, void *opaque,
                     int version_id, Error **errp);

static bool load_fields(Reader *r, const VMStateDescription *vmsd,
                        void *opaque, int version_id, Error **errp)
{
    for (const VMStateField *f = vmsd->fields; f && f->name; f++) {
        if (f->version_id > version_id) {
            continue;
        }
        for (unsigned i = 0; i < f->num; i++) {
            void *elem = (char *)opaque + f->offset + i * f->size;
            uint64_t v;
            switch (f->type) {
            case VMS_BUFFER:
                if (r->len - *r->pos < f->size) {
                    error_setg(errp, "state ends early in '%s.%s'",
                               vmsd->name, f->name);
                    return false;
                }
                memcpy(elem, r->buf + *r->pos, f->size);
                *r->pos += f->size;
                break;
            case VMS_STRUCT:
                if (!load_one(r, f->vmsd, elem, f->vmsd->version_id, errp)) {
                    error_prepend(errp, "%s.%s: ", vmsd->name, f->name);
                    return false;
                }
                break;
            case VMS_TIMER:
            case VMS_TIMER_PTR: {
                QEMUTimer *t = field_timer(f, elem);
                if (!get_be(r, 8, &v, f->name, errp)) {
                    return false;
                }
                if (t && (int64_t)v >= 0) {
                    timer_mod(t, v);
                } else if (t) {
                    timer_del(t);
                }
                break;
            }
            case VMS_BOOL:
                if (!get_be(r, 1, &v, f->name, errp)) {
                    return false;
                }
                if (v > 1) {
                    error_setg(errp, "%s.%s: invalid bool %" PRIu64,
                               vmsd->name, f->name, v);
                    return false;
                }
                *(bool *)elem = v;
                break;
            default:
                if (!get_be(r, scalar_bytes(f), &v, f->name, errp)) {
                    return false;
                }
                if (f->max && v > f->max) {
                    error_setg(errp, "%s.%s: value %" PRIu64 " exceeds %" PRIu64,
                               vmsd->name, f->name, v, f->max);
                    return false;
                }
                store_uint(elem, f->size, v);
                break;
            }
        }
    }
    return true;
}

static const VMStateDescription *find_subsection(
    const VMStateDescription *vmsd, const char *name, size_t n)
{
    for (const VMStateDescription *const *sub = vmsd->subsections;
         sub && *sub; sub++) {
        if (strlen((*sub)->name) == n && !memcmp((*sub)->name, name, n)) {
            return *sub;
        }
    }
    return NULL;
}

static bool load_one(Reader *r, const VMStateDescription *vmsd, void *opaque,
                     int version_id, Error **errp)
{
    if (version_id > vmsd->version_id ||
        version_id < vmsd->minimum_version_id) {
        error_setg(errp, "%s: unsupported version %d (accepts %d..%d)",
                   vmsd->name, version_id, vmsd->minimum_version_id,
                   vmsd->version_id);
        return false;
    }
    if (!load_fields(r, vmsd, opaque, version_id, errp)) {
        return false;
    }
    for (;;) {
        uint64_t mark, n, ver;
        if (!get_be(r, 1, &mark, vmsd->name, errp)) {
            return false;
        }
        if (mark == SECTION_END) {
            break;
        }
        if (mark != SUBSECTION_MARK || !get_be(r, 1, &n, vmsd->name, errp) ||
            r->len - *r->pos < n) {
            if (errp && !*errp) {
                error_setg(errp, "%s: malformed subsection", vmsd->name);
            }
            return false;
        }
        const char *name = (const char *)r->buf + *r->pos;
        const VMStateDescription *sub = find_subsection(vmsd, name, n);
        if (!sub) {
            error_setg(errp, "%s: unknown subsection '%.*s'", vmsd->name,
                       (int)n, name);
            return false;
        }
        *r->pos += n;
        if (!get_be(r, 4, &ver, sub->name, errp) ||
            !load_one(r, sub, opaque, (int)ver, errp)) {
            return false;
        }
    }
    if (vmsd->post_load && vmsd->post_load(opaque, version_id, errp) < 0) {
        if (errp && !*errp) {
            error_setg(errp, "%s: state rejected", vmsd->name);
        }
        return false;
    }
    return true;
}

bool vmstate_load(const uint8_t *buf, size_t len, size_t *pos,
                  const VMStateDescription *vmsd, void *opaque,
                  int version_id, Error **errp)
{
    Reader r = { .buf = buf, .len = len, .pos = pos };
    return load_one(&r, vmsd, opaque, version_id, errp);
}

void vmstate_randomize(const VMStateDescription *vmsd, void *opaque,
                       GRand *rand)
{
    for (const VMStateField *f = vmsd->fields; f && f->name; f++) {
        for (unsigned i = 0; i < f->num; i++) {
            void *elem = (char *)opaque + f->offset + i * f->size;
            switch (f->type) {
            case VMS_STRUCT:
                vmstate_randomize(f->vmsd, elem, rand);
                break;
            case VMS_TIMER:
            case VMS_TIMER_PTR: {
                QEMUTimer *t = field_timer(f, elem);
                if (t && g_rand_boolean(rand)) {
                    timer_mod(t, g_rand_int_range(rand, 0, 1 << 30));
                } else if (t) {
                    timer_del(t);
                }
                break;
            }
            case VMS_BOOL:
                *(bool *)elem = g_rand_boolean(rand);
                break;
            default: {
                uint8_t *b = elem;
                for (size_t j = 0; j < f->size; j++) {
                    b[j] = g_rand_int(rand);
                }
                if (f->max && f->type != VMS_BUFFER) {
                    uint64_t v = load_uint(elem, f->size);
                    store_uint(elem, f->size, v % (f->max + 1));
                }
                break;
            }
            }
        }
    }
    for (const VMStateDescription *const *sub = vmsd->subsections;
         sub && *sub; sub++) {
        vmstate_randomize(*sub, opaque, rand);
    }
}
