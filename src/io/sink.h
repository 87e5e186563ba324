/*
 * sink.h -- where committed output goes (DISA.md 8.1).
 *
 * Output channel bytes reach the master as part of a runner's commit and
 * are appended to the channel's sink in commit order; a sink is a file
 * descriptor (standard output, or a file bound with --out NAME=FILE) or
 * nothing (an unbound channel: the bytes are counted and discarded, and
 * a warning names the channel at the end of the run).
 */
#ifndef DVM_SINK_H
#define DVM_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

typedef struct io_sink {
    char *name;                 /* channel name, owned */
    int fd;                     /* -1: unbound */
    int owns_fd;
    uint64_t bytes;             /* bytes committed to the channel */
} io_sink;

/* Binds s to fd (owns_fd: close it at io_sink_close). name is copied. */
dvm_status io_sink_open_fd(io_sink *s, const char *name, int fd, int owns_fd);
/* Creates/truncates path and binds s to it. */
dvm_status io_sink_open_file(io_sink *s, const char *name, const char *path);
/* An unbound channel. */
dvm_status io_sink_open_null(io_sink *s, const char *name);
/* Appends n bytes (all of them: retries short writes). */
dvm_status io_sink_write(io_sink *s, const void *p, size_t n);
void io_sink_close(io_sink *s);

#endif
