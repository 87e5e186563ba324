/*
 * input.c -- bound input files, checked and prepared before a run
 * (input.h).
 *
 * Slurping waits with poll(), never with a blocking read, so the wait for
 * each next byte is bounded; the descriptor of a FIFO is opened
 * non-blocking for the same reason (a blocking open would wait for a
 * writer forever).  Bytes go straight into the memfd as they arrive, so a
 * large piped input costs its size in the memfd once, not twice.
 */
#define _GNU_SOURCE
#include "io/input.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Waits up to wait_ms for fd to be readable (or at its end); returns 1,
 * 0 on timeout, -1 on error (errno set). */
static int wait_readable(int fd, int wait_ms)
{
    struct pollfd p = { fd, POLLIN, 0 };
    for (;;) {
        int r = poll(&p, 1, wait_ms);
        if (r >= 0 || errno != EINTR)
            return r;
    }
}

/* Appends n bytes of buf to memfd; DVM_OK or DVM_EIO with a message. */
static dvm_status append(int memfd, const char *buf, size_t n,
                         const char *what)
{
    while (n) {
        ssize_t w = write(memfd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return status_set_errno(DVM_EIO, "cannot keep the bytes of %s",
                                    what);
        buf += w;
        n -= (size_t)w;
    }
    return DVM_OK;
}

/* Copies fd into memfd (see io_input_slurp); DVM_OK or a failure. */
static dvm_status copy_all(int fd, int memfd, const char *what, uint64_t max,
                           int wait_ms)
{
    char buf[65536];
    uint64_t total = 0;
    for (;;) {
        int r = wait_readable(fd, wait_ms);
        if (r < 0)
            return status_set_errno(DVM_EIO, "cannot read %s", what);
        if (r == 0)
            return status_set(DVM_EIO, "%s: nothing arrived for %d ms "
                              "(is anybody writing to it?)", what, wait_ms);
        ssize_t k = read(fd, buf, sizeof buf);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k < 0)
            return status_set_errno(DVM_EIO, "cannot read %s", what);
        if (k == 0)
            return DVM_OK;
        if ((uint64_t)k > max - total)
            return status_set(DVM_ERANGE, "%s is larger than %llu bytes",
                              what, (unsigned long long)max);
        total += (uint64_t)k;
        dvm_status st = append(memfd, buf, (size_t)k, what);
        if (st)
            return st;
    }
}

dvm_status io_input_slurp(int fd, const char *what, uint64_t max, int wait_ms,
                          int *memfd)
{
    int m = memfd_create("dvm-input", 0);
    if (m < 0)
        return status_set_errno(DVM_ESYS, "memfd_create for %s", what);
    dvm_status st = copy_all(fd, m, what, max, wait_ms);
    if (st) {
        close(m);
        return st;
    }
    *memfd = m;
    return DVM_OK;
}

/* Prepares the open input fd with status sb (see io_input_open). */
static dvm_status prepare(int fd, const struct stat *sb, const char *what,
                          uint64_t window, int wait_ms, int *out,
                          uint64_t *len)
{
    if (S_ISDIR(sb->st_mode))
        return status_set(DVM_EIO, "%s is a directory", what);
    if (S_ISREG(sb->st_mode)) {
        if ((uint64_t)sb->st_size > window)
            return status_set(DVM_ERANGE, "%s is %llu bytes; its channel's "
                              "window holds %llu", what,
                              (unsigned long long)sb->st_size,
                              (unsigned long long)window);
        *out = dup(fd);
        if (*out < 0)
            return status_set_errno(DVM_ESYS, "dup of %s", what);
        *len = (uint64_t)sb->st_size;
        return DVM_OK;
    }
    uint64_t max = window < IO_INPUT_SLURP_MAX ? window : IO_INPUT_SLURP_MAX;
    dvm_status st = io_input_slurp(fd, what, max, wait_ms, out);
    struct stat ms;
    if (st == DVM_OK && fstat(*out, &ms) == 0)
        *len = (uint64_t)ms.st_size;
    return st;
}

dvm_status io_input_open(const char *path, const char *name, uint64_t window,
                         int wait_ms, int *fd, uint64_t *len)
{
    char what[512];
    snprintf(what, sizeof what, "input file '%s' for channel '%s'", path,
             name);
    int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f < 0)
        return status_set_errno(DVM_EIO, "cannot read %s", what);
    struct stat sb;
    dvm_status st = fstat(f, &sb) == 0
        ? prepare(f, &sb, what, window, wait_ms, fd, len)
        : status_set_errno(DVM_EIO, "cannot read %s", what);
    close(f);
    return st;
}

void io_input_path(int fd, char *buf)
{
    snprintf(buf, 32, "/dev/fd/%d", fd);
}
