/*
 * sink.h -- where committed output goes (DISA.md 8.1).
 *
 * Output channel bytes reach the master as part of a runner's commit (in
 * frames of the store, which the commit point reads a chunk at a time) and
 * are appended to the channel's sink in commit order; a sink is a file
 * descriptor (standard output, or a file bound with --out NAME=FILE) or
 * nothing (an unbound channel: the bytes are counted and discarded, and
 * a warning names the channel at the end of the run), or a function (the
 * cluster master streams a channel to the client that submitted the
 * program).
 */
#ifndef DVM_SINK_H
#define DVM_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

/* Takes n committed bytes of channel `index`; returns DVM_OK or an error
 * (with its message set) that stops the run. */
typedef dvm_status (*io_sink_fn)(void *arg, size_t index, const void *p,
                                 size_t n);

typedef struct io_sink {
    char *name;                 /* channel name, owned */
    int fd;                     /* -1: unbound (or a function sink) */
    int owns_fd;
    uint64_t bytes;             /* bytes committed to the channel */
    io_sink_fn fn;              /* non-NULL: bytes go to fn instead */
    void *arg;
    size_t index;
} io_sink;

/* Binds s to fd (owns_fd: close it at io_sink_close). name is copied. */
dvm_status io_sink_open_fd(io_sink *s, const char *name, int fd, int owns_fd);
/* Creates/truncates path and binds s to it. */
dvm_status io_sink_open_file(io_sink *s, const char *name, const char *path);
/* An unbound channel. */
dvm_status io_sink_open_null(io_sink *s, const char *name);
/* A sink whose bytes go to fn(arg, index, ...).  name is copied. */
dvm_status io_sink_open_fn(io_sink *s, const char *name, io_sink_fn fn,
                           void *arg, size_t index);
/* Appends n bytes (all of them: retries short writes).  DVM_EIO with a
 * message naming the channel when the file refuses them (a full device). */
dvm_status io_sink_write(io_sink *s, const void *p, size_t n);
/* Closes the file the sink owns and frees the sink (which may be closed
 * again: nothing happens).  DVM_EIO with a message naming the channel when
 * close fails: bytes written before may never reach the file (a full disk
 * on a network file system reports so only here). */
dvm_status io_sink_close(io_sink *s);

#endif
