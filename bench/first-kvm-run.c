/*
 * LD_PRELOAD shim used by bench/run.py on QEMU, which has no start-up
 * timestamp hook of its own: it wraps ioctl() and prints the
 * CLOCK_MONOTONIC time of the process's first KVM_RUN call and of that
 * call's return (the first exit) to stderr, in the format of kestrel's
 * KESTREL_BENCH_TIMESTAMPS hook:
 *
 *   kestrel-bench: first-kvm-run-ns N
 *   kestrel-bench: first-exit-ns N
 *
 * Every other ioctl passes straight through (one dlsym at load, one
 * atomic load per call).  Not part of kestrel.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static int (*real_ioctl)(int, unsigned long, void *);
static atomic_int seen;

__attribute__((constructor)) static void shim_init(void)
{
    real_ioctl = (int (*)(int, unsigned long, void *))dlsym(RTLD_NEXT, "ioctl");
}

static void stamp(const char *what)
{
    struct timespec ts;
    char buf[96];
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int n = snprintf(buf, sizeof(buf), "kestrel-bench: %s %lld\n", what,
                     (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    if (write(2, buf, (size_t)n) < 0) {
        /* nothing to do */
    }
}

int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (req == KVM_RUN && atomic_load_explicit(&seen, memory_order_relaxed) == 0 &&
        atomic_exchange(&seen, 1) == 0) {
        stamp("first-kvm-run-ns");
        int r = real_ioctl(fd, req, arg);
        stamp("first-exit-ns");
        return r;
    }
    return real_ioctl(fd, req, arg);
}
