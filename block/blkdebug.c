/*
 * blkdebug: error injection and breakpoints for tests, QEMU's
 * "blkdebug:[CONFIG]:IMAGE" filename.  The blkdebug node sits on top of
 * IMAGE (opened with the drive's format) and sees every request of the
 * backend before the image does.  A request passes events on its way: a
 * read read_aio, a write or zero write write_aio, a flush flush_to_os and
 * then flush_to_disk; a discard passes none.
 *
 * At each event the rules of the config file (QEMU's ini syntax) apply,
 * looked at in the engine's state, which starts at 1:
 *   [inject-error]  event, errno (default 5), state (0: any), sector (-1:
 *                   any; the request must cover it), once, immediately:
 *                   the request fails with that errno, the image never
 *                   sees it; once: the rule goes away when it fired.
 *                   immediately is accepted and changes nothing: requests
 *                   here always end through their callback.
 *   [set-state]     event, state (0: any), new_state: the state to move
 *                   to once every rule of the event was looked at.
 * A breakpoint (qemu-io "break EVENT TAG" from the monitor) holds the next
 * request that passes EVENT until "resume TAG"; the held request waits in
 * a queue, not in a thread.  Everything here runs with the big lock, in
 * the thread that submits.  A drain lets every held request go on, since
 * nothing else could end it.
 *
 * align=N: the image sees only requests aligned to N bytes; the node pads
 * the rest on the way down (block/align.c), after the events, so, as in
 * QEMU, the reads of a read-modify-write pass no events.
 *
 * Unlike QEMU, where blkdebug is the protocol under the format driver, the
 * node is above the format here: sectors are guest sectors, and a qcow2
 * image writes its metadata after flush_to_disk.
 */
#include "block/block_int.h"
#include "util/opts.h"

typedef enum {
    EV_READ_AIO,
    EV_WRITE_AIO,
    EV_FLUSH_TO_OS,
    EV_FLUSH_TO_DISK,
    EV_NONE,                    /* ends an event list */
} DebugEvent;

static const char *const event_names[EV_NONE] = {
    [EV_READ_AIO] = "read_aio",
    [EV_WRITE_AIO] = "write_aio",
    [EV_FLUSH_TO_OS] = "flush_to_os",
    [EV_FLUSH_TO_DISK] = "flush_to_disk",
};

typedef struct Rule {
    bool set_state;             /* [set-state]; else [inject-error] */
    int event;                  /* DebugEvent; -1 until given */
    int64_t state;              /* 0: in any state */
    int64_t new_state;          /* -1 until given */
    int64_t error;              /* errno to fail with */
    int64_t sector;             /* -1: any */
    bool once, immediately;
    int line;                   /* of the section, for messages */
    GHashTable *keys;           /* given so far (duplicates are errors) */
} Rule;

typedef struct Breakpoint {
    DebugEvent event;
    char *tag;
} Breakpoint;

/* A request on its way through the events of its operation. */
typedef struct DebugReq {
    BlkReq *req;
    const DebugEvent *next;     /* events still to pass, EV_NONE last */
    int error;                  /* errno injected, 0: none */
    char *tag;                  /* of the breakpoint holding it */
} DebugReq;

typedef struct DebugState {
    BlockDriverState *image;
    BlockAlign align;           /* align.align 0: requests pass as they are */
    GPtrArray *rules;           /* Rule *, in file order */
    GPtrArray *breakpoints;     /* Breakpoint * */
    GQueue held;                /* DebugReq * stopped at a breakpoint */
    int64_t state;
} DebugState;

static int event_lookup(const char *name)
{
    for (int i = 0; i < EV_NONE; i++) {
        if (!strcmp(event_names[i], name)) {
            return i;
        }
    }
    return -1;
}

/* ---- the config file ---- */

static void rule_free(gpointer p)
{
    Rule *r = p;
    g_hash_table_unref(r->keys);
    g_free(r);
}

static bool parse_number(const char *v, int64_t min, int64_t max,
                         int64_t *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 0);
    if (!*v || *end || errno || n < min || n > max) {
        return false;
    }
    *out = n;
    return true;
}

/* One key = "value" of rule r; where names the line for messages. */
static bool rule_set(Rule *r, const char *key, const char *val,
                     const char *where, Error **errp)
{
    const char *section = r->set_state ? "set-state" : "inject-error";
    static const char *const inject_keys[] = {
        "event", "errno", "state", "sector", "once", "immediately", NULL,
    };
    static const char *const state_keys[] = {
        "event", "state", "new_state", NULL,
    };
    const char *const *keys = r->set_state ? state_keys : inject_keys;

    if (!g_strv_contains(keys, key)) {
        g_autofree char *list = g_strjoinv(", ", (char **)keys);
        return error_fail(errp, "%s: [%s] has no key '%s' (keys: %s)", where,
                          section, key, list);
    }
    if (!g_hash_table_add(r->keys, g_strdup(key))) {
        return error_fail(errp, "%s: '%s' given twice in one [%s]", where,
                          key, section);
    }
    if (!strcmp(key, "event")) {
        r->event = event_lookup(val);
        if (r->event < 0) {
            return error_fail(errp, "%s: unknown event '%s' (kestrel's "
                              "blkdebug has read_aio, write_aio, flush_to_os, "
                              "flush_to_disk)", where, val);
        }
    } else if (!strcmp(key, "errno")) {
        if (!parse_number(val, 1, 4095, &r->error)) {
            return error_fail(errp, "%s: errno '%s': expected a number from "
                              "1 to 4095", where, val);
        }
    } else if (!strcmp(key, "state") || !strcmp(key, "new_state")) {
        if (!parse_number(val, 0, INT32_MAX, key[0] == 's' ? &r->state :
                          &r->new_state)) {
            return error_fail(errp, "%s: %s '%s': expected a number from 0 "
                              "to %d", where, key, val, INT32_MAX);
        }
    } else if (!strcmp(key, "sector")) {
        if (!parse_number(val, -1, INT64_MAX / 512, &r->sector)) {
            return error_fail(errp, "%s: sector '%s': expected a sector "
                              "number (or -1: any)", where, val);
        }
    } else if (!opt_parse_bool(val, !strcmp(key, "once") ? &r->once :
                               &r->immediately)) {
        return error_fail(errp, "%s: %s '%s': expected on or off", where,
                          key, val);
    }
    return true;
}

static bool rule_complete(Rule *r, const char *path, Error **errp)
{
    const char *section = r->set_state ? "set-state" : "inject-error";

    if (r->event < 0) {
        return error_fail(errp, "%s:%d: [%s] needs an event", path, r->line,
                          section);
    }
    if (r->set_state && r->new_state < 0) {
        return error_fail(errp, "%s:%d: [set-state] needs a new_state", path,
                          r->line);
    }
    return true;
}

static bool parse_config(DebugState *s, const char *path, Error **errp)
{
    g_autofree char *text = NULL;
    GError *gerr = NULL;

    if (!g_file_get_contents(path, &text, NULL, &gerr)) {
        error_setg(errp, "Could not read blkdebug config file: %s",
                   gerr->message);
        g_error_free(gerr);
        return false;
    }
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    Rule *cur = NULL;
    for (int i = 0; lines[i]; i++) {
        g_autofree char *where = g_strdup_printf("%s:%d", path, i + 1);
        char *l = g_strstrip(lines[i]);
        size_t n = strlen(l);

        if (!n || l[0] == '#') {
            continue;
        }
        if (l[0] == '[') {
            if (cur && !rule_complete(cur, path, errp)) {
                return false;
            }
            char *name = l[n - 1] == ']' ? g_strstrip(g_strndup(l + 1, n - 2))
                                         : NULL;
            bool inject = name && !strcmp(name, "inject-error");
            bool set_state = name && !strcmp(name, "set-state");
            g_free(name);
            if (!inject && !set_state) {
                return error_fail(errp, "%s: unknown section %s (blkdebug "
                                  "knows [inject-error] and [set-state])",
                                  where, l);
            }
            cur = g_new0(Rule, 1);
            cur->set_state = set_state;
            cur->event = -1;
            cur->new_state = -1;
            cur->error = EIO;
            cur->sector = -1;
            cur->line = i + 1;
            cur->keys = g_hash_table_new_full(g_str_hash, g_str_equal,
                                              g_free, NULL);
            g_ptr_array_add(s->rules, cur);
            continue;
        }
        char *eq = strchr(l, '=');
        char *val = eq ? g_strstrip(eq + 1) : NULL;
        size_t vn = val ? strlen(val) : 0;
        if (!eq || vn < 2 || val[0] != '"' || val[vn - 1] != '"') {
            return error_fail(errp, "%s: expected key = \"value\", got '%s'",
                              where, l);
        }
        *eq = 0;
        val[vn - 1] = 0;
        if (!cur) {
            return error_fail(errp, "%s: '%s' before any [section]", where,
                              g_strstrip(l));
        }
        if (!rule_set(cur, g_strstrip(l), val + 1, where, errp)) {
            return false;
        }
    }
    return !cur || rule_complete(cur, path, errp);
}

/* ---- events ---- */

static const DebugEvent read_events[] = { EV_READ_AIO, EV_NONE };
static const DebugEvent write_events[] = { EV_WRITE_AIO, EV_NONE };
static const DebugEvent flush_events[] = {
    EV_FLUSH_TO_OS, EV_FLUSH_TO_DISK, EV_NONE,
};
static const DebugEvent no_events[] = { EV_NONE };

static const DebugEvent *events_of(BlkOp op)
{
    switch (op) {
    case BLK_OP_READ:
        return read_events;
    case BLK_OP_WRITE:
    case BLK_OP_ZEROES:
    case BLK_OP_ZEROES_UNMAP:
    case BLK_OP_TRIM:
        return write_events;
    case BLK_OP_FLUSH:
        return flush_events;
    default:
        return no_events;
    }
}

static bool rule_matches(DebugState *s, Rule *r, DebugEvent ev, BlkReq *req)
{
    if (r->event != (int)ev || (r->state && r->state != s->state)) {
        return false;
    }
    if (r->sector < 0) {
        return true;
    }
    int64_t start = r->sector * 512;
    return req->bytes && start < req->offset + req->bytes &&
           start + 512 > req->offset;
}

/* The rules of event ev for d, all in the state before the event. */
static void apply_rules(DebugState *s, DebugReq *d, DebugEvent ev)
{
    int64_t new_state = s->state;

    for (guint i = 0; i < s->rules->len;) {
        Rule *r = g_ptr_array_index(s->rules, i);
        if (!rule_matches(s, r, ev, d->req)) {
            i++;
        } else if (r->set_state) {
            new_state = r->new_state;
            i++;
        } else if (!d->error) {
            d->error = r->error;
            if (r->once) {
                g_ptr_array_remove_index(s->rules, i);
            } else {
                i++;
            }
        } else {
            i++;
        }
    }
    s->state = new_state;
}

static Breakpoint *take_breakpoint(DebugState *s, DebugEvent ev)
{
    for (guint i = 0; i < s->breakpoints->len; i++) {
        Breakpoint *bp = g_ptr_array_index(s->breakpoints, i);
        if (bp->event == ev) {
            return g_ptr_array_steal_index(s->breakpoints, i);
        }
    }
    return NULL;
}

static void fail_cb(AioSub *sub, int ret)
{
    blkreq_done(container_of(sub, BlkReq, sub), ret);
}

/* Take d through its remaining events, then fail it or pass it on. */
static void debug_run(DebugState *s, DebugReq *d)
{
    while (*d->next != EV_NONE && !d->error) {
        DebugEvent ev = *d->next++;
        apply_rules(s, d, ev);
        Breakpoint *bp = take_breakpoint(s, ev);
        if (bp) {
            d->tag = bp->tag;
            g_free(bp);
            g_queue_push_tail(&s->held, d);
            return;
        }
    }
    BlkReq *req = d->req;
    int error = d->error;
    g_free(d);
    if (error) {
        req->sub.cb = fail_cb;
        aio_complete_later(&req->sub, -error);
        return;
    }
    if (s->align.align) {
        block_align_submit(&s->align, s->image, req);
        return;
    }
    req->bs = s->image;
    blkreq_submit(req);
}

static bool debug_aio_submit(BlockDriverState *bs, BlkReq *req)
{
    DebugReq *d = g_new0(DebugReq, 1);

    d->req = req;
    d->next = events_of(req->op);
    debug_run(bs->opaque, d);
    return true;
}

/* Resume the first (all) held requests with tag; how many. */
static int release(DebugState *s, const char *tag, bool all)
{
    int n = 0;

    for (GList *l = s->held.head; l;) {
        GList *next = l->next;
        DebugReq *d = l->data;
        if (!tag || !strcmp(d->tag, tag)) {
            g_queue_delete_link(&s->held, l);
            g_clear_pointer(&d->tag, g_free);
            debug_run(s, d);
            n++;
            if (!all) {
                break;
            }
        }
        l = next;
    }
    return n;
}

static void debug_drain(BlockDriverState *bs)
{
    release(bs->opaque, NULL, true);
}

/* ---- the monitor's breakpoints (qemu-io) ---- */

static DebugState *debug_state(BlockBackend *blk)
{
    BlockDriverState *bs = blk_bs(blk);
    return bs && bs->drv == &bdrv_blkdebug ? bs->opaque : NULL;
}

int blk_debug_breakpoint(BlockBackend *blk, const char *event,
                         const char *tag)
{
    DebugState *s = debug_state(blk);
    int ev = event_lookup(event);

    if (!s) {
        return -ENOTSUP;
    }
    if (ev < 0) {
        return -ENOENT;
    }
    Breakpoint *bp = g_new0(Breakpoint, 1);
    bp->event = ev;
    bp->tag = g_strdup(tag);
    g_ptr_array_add(s->breakpoints, bp);
    return 0;
}

int blk_debug_resume(BlockBackend *blk, const char *tag)
{
    DebugState *s = debug_state(blk);

    if (!s) {
        return -ENOTSUP;
    }
    return release(s, tag, false) ? 0 : -ENOENT;
}

/* As in QEMU, requests held at the tag go on too. */
int blk_debug_remove_breakpoint(BlockBackend *blk, const char *tag)
{
    DebugState *s = debug_state(blk);
    int n = 0;

    if (!s) {
        return -ENOTSUP;
    }
    for (guint i = 0; i < s->breakpoints->len;) {
        Breakpoint *bp = g_ptr_array_index(s->breakpoints, i);
        if (!strcmp(bp->tag, tag)) {
            g_ptr_array_remove_index(s->breakpoints, i);
            n++;
        } else {
            i++;
        }
    }
    n += release(s, tag, true);
    return n ? 0 : -ENOENT;
}

bool blk_debug_is_suspended(BlockBackend *blk, const char *tag)
{
    DebugState *s = debug_state(blk);

    for (GList *l = s ? s->held.head : NULL; l; l = l->next) {
        if (!strcmp(((DebugReq *)l->data)->tag, tag)) {
            return true;
        }
    }
    return false;
}

/* ---- the node: synchronous calls go straight to the image (padded) ---- */

static int debug_preadv(BlockDriverState *bs, int64_t off, int64_t bytes,
                        const struct iovec *iov, int niov)
{
    DebugState *s = bs->opaque;
    return s->align.align ?
           block_align_preadv(s->image, s->align.align, off, bytes, iov,
                              niov) :
           bdrv_preadv(s->image, off, bytes, iov, niov);
}

static int debug_pwritev(BlockDriverState *bs, int64_t off, int64_t bytes,
                         const struct iovec *iov, int niov)
{
    DebugState *s = bs->opaque;
    return s->align.align ?
           block_align_pwritev(s->image, s->align.align, off, bytes, iov,
                               niov) :
           bdrv_pwritev(s->image, off, bytes, iov, niov);
}

static int debug_pwrite_zeroes(BlockDriverState *bs, int64_t off,
                               int64_t bytes, int flags)
{
    DebugState *s = bs->opaque;
    return s->align.align ?
           block_align_pwrite_zeroes(s->image, s->align.align, off, bytes,
                                     flags) :
           bdrv_pwrite_zeroes(s->image, off, bytes, flags);
}

static int debug_pdiscard(BlockDriverState *bs, int64_t off, int64_t bytes,
                          int flags)
{
    DebugState *s = bs->opaque;
    return s->align.align ?
           block_align_pdiscard(s->image, s->align.align, off, bytes, flags) :
           bdrv_pdiscard(s->image, off, bytes, flags);
}

static int debug_flush(BlockDriverState *bs)
{
    DebugState *s = bs->opaque;
    return bdrv_flush(s->image);
}

static int debug_block_status(BlockDriverState *bs, int64_t off,
                              int64_t bytes, int64_t *pnum, int64_t *map)
{
    DebugState *s = bs->opaque;
    return bdrv_block_status(s->image, off, bytes, pnum, map);
}

static uint32_t debug_cluster_size(BlockDriverState *bs)
{
    DebugState *s = bs->opaque;
    return bdrv_cluster_size(s->image);
}

static void debug_state_free(DebugState *s)
{
    g_assert(g_queue_is_empty(&s->held));
    g_assert(g_queue_is_empty(&s->align.waiting));
    g_ptr_array_unref(s->rules);
    g_ptr_array_unref(s->breakpoints);
    bdrv_close(s->image);
    g_free(s);
}

static void debug_close(BlockDriverState *bs)
{
    debug_state_free(bs->opaque);
}

static void breakpoint_free(gpointer p)
{
    Breakpoint *bp = p;
    g_free(bp->tag);
    g_free(bp);
}

bool blkdebug_align_ok(uint64_t align)
{
    return align <= 1 * GiB && !(align & (align - 1));
}

BlockDriverState *blkdebug_new(const char *name, BlockDriverState *image,
                               const char *config, uint32_t align,
                               Error **errp)
{
    DebugState *s = g_new0(DebugState, 1);

    s->image = image;
    s->state = 1;
    s->rules = g_ptr_array_new_with_free_func(rule_free);
    s->breakpoints = g_ptr_array_new_with_free_func(breakpoint_free);
    g_queue_init(&s->held);
    g_queue_init(&s->align.waiting);
    if (!blkdebug_align_ok(align)) {
        error_setg(errp, "Cannot meet constraints with align %" PRIu32
                   " (a power of two up to 1G)", align);
        debug_state_free(s);
        return NULL;
    }
    s->align.align = align > 1 ? align : 0;
    if (config && *config && !parse_config(s, config, errp)) {
        debug_state_free(s);
        return NULL;
    }
    BlockDriverState *bs = bdrv_new_node(&bdrv_blkdebug, name);
    bs->opaque = s;
    bs->filtered = image;
    bs->size = image->size;
    bs->read_only = image->read_only;
    bs->cache = image->cache;
    return bs;
}

BlockDriverState *blkdebug_open(const char *name, const char *image,
                                const char *format, const BdrvOpenParams *p,
                                bool open_backing, bool probe_warn,
                                Error **errp)
{
    BdrvOpenParams ip = *p;

    ip.blkdebug_config = NULL;
    ip.blkdebug_align = 0;
    BlockDriverState *img = bdrv_open(image, format, &ip, open_backing,
                                      probe_warn, errp);
    if (!img) {
        return NULL;
    }
    return blkdebug_new(name, img, p->blkdebug_config, p->blkdebug_align,
                        errp);
}

const BlockDriver bdrv_blkdebug = {
    .name = "blkdebug",
    .close = debug_close,
    .aio_submit = debug_aio_submit,
    .preadv = debug_preadv,
    .pwritev = debug_pwritev,
    .pwrite_zeroes = debug_pwrite_zeroes,
    .pdiscard = debug_pdiscard,
    .flush = debug_flush,
    .block_status = debug_block_status,
    .cluster_size = debug_cluster_size,
    .drain = debug_drain,
};
