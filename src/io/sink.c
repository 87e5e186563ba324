/*
 * sink.c -- output channel sinks: plain blocking writes in commit order.
 *
 * The master is the only writer and applies commits one at a time, so the
 * order of bytes in a sink is the commit order without any locking.  Every
 * failure -- a write (ENOSPC: a full device) or the close of a bound file --
 * is an error with a message naming the channel, decided here once; the
 * run stops with it and `dvm run` exits with status 2.
 */
#include "io/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"

dvm_status io_sink_open_fd(io_sink *s, const char *name, int fd, int owns_fd)
{
    char *n = dvm_strdup(name);
    if (!n)
        return status_set(DVM_ENOMEM, "out of memory");
    *s = (io_sink){ .name = n, .fd = fd, .owns_fd = owns_fd };
    return DVM_OK;
}

dvm_status io_sink_open_file(io_sink *s, const char *name, const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return status_set_errno(DVM_EIO, "cannot open output file '%s' for "
                                "channel %s", path, name);
    dvm_status st = io_sink_open_fd(s, name, fd, 1);
    if (st)
        close(fd);
    return st;
}

dvm_status io_sink_open_null(io_sink *s, const char *name)
{
    return io_sink_open_fd(s, name, -1, 0);
}

dvm_status io_sink_open_fn(io_sink *s, const char *name, io_sink_fn fn,
                           void *arg, size_t index)
{
    dvm_status st = io_sink_open_fd(s, name, -1, 0);
    if (!st) {
        s->fn = fn;
        s->arg = arg;
        s->index = index;
    }
    return st;
}

dvm_status io_sink_write(io_sink *s, const void *p, size_t n)
{
    s->bytes += n;
    if (s->fn)
        return s->fn(s->arg, s->index, p, n);
    if (s->fd < 0)
        return DVM_OK;
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(s->fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return status_set_errno(DVM_EIO, "writing channel %s", s->name);
        b += w;
        n -= (size_t)w;
    }
    return DVM_OK;
}

dvm_status io_sink_close(io_sink *s)
{
    dvm_status st = DVM_OK;
    /* close is not retried on EINTR: the descriptor is gone either way */
    if (s->owns_fd && s->fd >= 0 && close(s->fd) < 0)
        st = status_set_errno(DVM_EIO, "closing the file of channel %s",
                              s->name);
    dvm_free(s->name);
    memset(s, 0, sizeof *s);
    s->fd = -1;
    return st;
}
