/*
 * The asynchronous engine: one io_uring for file I/O, a pool of worker
 * threads for driver work that may block (qcow2 metadata, bounce buffers),
 * and one eventfd that wakes the main loop for both.  Everything here except
 * the worker queue is touched only by the thread that holds the big lock
 * (the main loop, or a vCPU thread in device code); tools are single
 * threaded.  Completions run in aio_dispatch(), never inside a submit.
 */
#include "block/block_int.h"
#include <liburing.h>
#include <sys/eventfd.h>
#include <poll.h>
#include <unistd.h>

#define RING_ENTRIES 256
#define MAX_WORKERS 4     /* more only fight over the image file's lock */
#define ASYNC_MIN (32 * 1024)

static bool initialized;
static int efd = -1;
static struct io_uring ring;
static bool have_ring;
static unsigned ring_inflight;      /* SQEs handed to the ring */
static unsigned ring_unsubmitted;   /* prepared, not yet submitted */
static unsigned plug_depth;
static AioSub *overflow_head, *overflow_tail;  /* waiting for ring room */

static GThreadPool *pool;
static GMutex done_lock;
static AioSub *done_head, *done_tail;   /* finished worker jobs */
static gint workers_busy;
static GSource *main_source;

bool aio_have_uring(void)
{
    return have_ring;
}

static void signal_efd(void)
{
    uint64_t one = 1;
    while (write(efd, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
}

static void push_done(AioSub *s)
{
    g_mutex_lock(&done_lock);
    s->next = NULL;
    if (done_tail) {
        done_tail->next = s;
    } else {
        done_head = s;
    }
    done_tail = s;
    g_mutex_unlock(&done_lock);
    signal_efd();
}

static void worker_fn(gpointer data, gpointer user)
{
    AioSub *s = data;
    s->ret = s->work(s);
    g_atomic_int_dec_and_test(&workers_busy);
    push_done(s);
}

void aio_run_in_worker(AioSub *s)
{
    block_init();
    g_atomic_int_inc(&workers_busy);
    g_thread_pool_push(pool, s, NULL);
}

void aio_complete_later(AioSub *s, int ret)
{
    block_init();
    s->ret = ret;
    push_done(s);
}

static int file_work(AioSub *s)
{
    switch (s->op) {
    case AIO_READ:
        return bfile_preadv(s->file, s->off, s->iov, s->niov);
    case AIO_WRITE:
        return bfile_pwritev(s->file, s->off, s->iov, s->niov);
    default:
        return bfile_flush(s->file);
    }
}

static void ring_submit(void)
{
    if (ring_unsubmitted) {
        int r = io_uring_submit(&ring);
        if (r >= 0) {
            ring_unsubmitted -= MIN((unsigned)r, ring_unsubmitted);
        }
    }
}

/* Put s on the ring; false if there is no room. */
static bool ring_prep(AioSub *s)
{
    if (ring_inflight >= RING_ENTRIES) {
        return false;
    }
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    if (!sqe) {
        ring_submit();
        sqe = io_uring_get_sqe(&ring);
        if (!sqe) {
            return false;
        }
    }
    switch (s->op) {
    case AIO_READ:
        io_uring_prep_readv(sqe, s->file->fd, s->iov, s->niov, s->off);
        break;
    case AIO_WRITE:
        io_uring_prep_writev(sqe, s->file->fd, s->iov, s->niov, s->off);
        break;
    default:
        io_uring_prep_fsync(sqe, s->file->fd, IORING_FSYNC_DATASYNC);
        break;
    }
    if (s->op == AIO_READ && !s->file->direct && s->len >= ASYNC_MIN) {
        /* Big page-cache copies: let the kernel's workers do them on
         * other CPUs instead of inline in this thread. */
        io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
    }
    io_uring_sqe_set_data(sqe, s);
    ring_inflight++;
    ring_unsubmitted++;
    return true;
}

void aio_file_submit(AioSub *s)
{
    block_init();
    if (s->op != AIO_FSYNC) {
        s->len = iov_size(s->iov, s->niov);
    } else if (s->file->no_flush) {
        aio_complete_later(s, 0);
        return;
    }
    if (!have_ring || (s->op != AIO_FSYNC &&
                       !bfile_aligned(s->file, s->off, s->iov, s->niov))) {
        s->work = file_work;
        aio_run_in_worker(s);
        return;
    }
    if (overflow_head || !ring_prep(s)) {
        s->next = NULL;
        if (overflow_tail) {
            overflow_tail->next = s;
        } else {
            overflow_head = s;
        }
        overflow_tail = s;
        return;
    }
    if (!plug_depth) {
        ring_submit();
    }
}

void blk_io_plug(void)
{
    plug_depth++;
}

void blk_io_unplug(void)
{
    g_assert(plug_depth > 0);
    if (--plug_depth == 0 && have_ring) {
        ring_submit();
    }
}

/*
 * A short transfer: reads stop at the end of the file (the rest reads as
 * zeros); a short write is finished synchronously, which only happens when
 * the disk is nearly full and is about to fail anyway.
 */
static int finish_short(AioSub *s, size_t done)
{
    if (s->op == AIO_READ) {
        iov_memset(s->iov, s->niov, done, 0, s->len - done);
        return 0;
    }
    struct iovec tmp[s->niov + 1];
    int n = iov_slice(tmp, s->iov, s->niov, done, s->len - done);
    return bfile_pwritev(s->file, s->off + done, tmp, n);
}

static bool reap_ring(void)
{
    struct io_uring_cqe *cqe;
    bool progress = false;
    unsigned head, n = 0;
    AioSub *list = NULL, **tail = &list;

    /* Collect first: callbacks may submit and reuse ring slots. */
    io_uring_for_each_cqe(&ring, head, cqe) {
        AioSub *s = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        n++;
        if (res < 0) {
            s->ret = res;
        } else if (s->op != AIO_FSYNC && (size_t)res < s->len) {
            s->ret = finish_short(s, res);
        } else {
            s->ret = 0;
        }
        s->next = NULL;
        *tail = s;
        tail = &s->next;
    }
    if (n) {
        io_uring_cq_advance(&ring, n);
        ring_inflight -= n;
        progress = true;
    }
    while (overflow_head && ring_prep(overflow_head)) {
        overflow_head = overflow_head->next;
        if (!overflow_head) {
            overflow_tail = NULL;
        }
    }
    while (list) {
        AioSub *s = list;
        list = s->next;
        s->cb(s, s->ret);
    }
    return progress;
}

static bool run_done(void)
{
    g_mutex_lock(&done_lock);
    AioSub *list = done_head;
    done_head = done_tail = NULL;
    g_mutex_unlock(&done_lock);
    bool progress = list != NULL;
    while (list) {
        AioSub *s = list;
        list = s->next;
        s->cb(s, s->ret);
    }
    return progress;
}

static void drain_efd(void)
{
    uint64_t v;
    while (read(efd, &v, sizeof(v)) < 0 && errno == EINTR) {
    }
}

/* Run what is ready; submissions made by callbacks go out as one batch. */
static bool dispatch_ready(void)
{
    bool progress = false;
    plug_depth++;
    if (have_ring) {
        progress |= reap_ring();
    }
    progress |= run_done();
    if (--plug_depth == 0 && have_ring) {
        ring_submit();
    }
    return progress;
}

bool aio_poll(bool blocking)
{
    block_init();
    if (dispatch_ready() || !blocking) {
        return true;
    }
    if (have_ring && ring_inflight && !g_atomic_int_get(&workers_busy) &&
        !done_head) {
        /* Only ring work outstanding: wait on the ring itself. */
        ring_unsubmitted = 0;
        io_uring_submit_and_wait(&ring, 1);
        return dispatch_ready();
    }
    drain_efd();
    if (dispatch_ready()) {
        return true;
    }
    if (!ring_inflight && !g_atomic_int_get(&workers_busy) && !done_head) {
        return false;       /* nothing could ever arrive */
    }
    struct pollfd pfd = { .fd = efd, .events = POLLIN };
    poll(&pfd, 1, -1);
    drain_efd();
    return dispatch_ready();
}

/* ---- glib main loop source ---- */

static gboolean src_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    drain_efd();
    dispatch_ready();
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs aio_source_funcs = {
    .dispatch = src_dispatch,
};

void block_attach_main_loop(void)
{
    block_init();
    if (main_source) {
        return;
    }
    main_source = g_source_new(&aio_source_funcs, sizeof(GSource));
    g_source_add_unix_fd(main_source, efd, G_IO_IN);
    g_source_attach(main_source, NULL);
}

void block_init(void)
{
    if (initialized) {
        return;
    }
    initialized = true;
    efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) {
        error_report("block: eventfd: %s", strerror(errno));
        exit(1);
    }
    /* KESTREL_NO_URING=1 forces the thread pool (tests of that path). */
    const char *no = getenv("KESTREL_NO_URING");
    if (!(no && *no == '1') &&
        io_uring_queue_init(RING_ENTRIES, &ring, 0) == 0) {
        if (io_uring_register_eventfd(&ring, efd) == 0) {
            have_ring = true;
        } else {
            io_uring_queue_exit(&ring);
        }
    }
    pool = g_thread_pool_new(worker_fn, NULL, MAX_WORKERS, false, NULL);
}
