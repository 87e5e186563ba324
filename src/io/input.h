/*
 * input.h -- input files bound to channels, checked and prepared before a
 * run (DISA.md 8.2: a bound file that cannot be read is an error before
 * anything runs).
 *
 * The master opens every bound input once, before any RComp exists.  A
 * regular file must fit its channel's window.  A directory is refused.
 * Anything else -- a pipe (`--in data=<(cmd)`), a FIFO, a character device,
 * standard input -- cannot be read twice or at an offset, so it is read
 * whole into a memfd (io_input_slurp), with a bound on its size and on the
 * wait for its next byte.  Either way the caller gets a descriptor that
 * stays open, and not close-on-exec, for the whole run, so every RComp
 * opens the very same bytes as /dev/fd/N (io_input_path).
 */
#ifndef DVM_INPUT_H
#define DVM_INPUT_H

#include <stdint.h>

#include "util/status.h"

/* The most bytes read from one input that is not a regular file. */
#define IO_INPUT_SLURP_MAX (1ULL << 30)

/* Reads fd until its end into a fresh memfd (not close-on-exec) holding
 * exactly those bytes.  what names the input in messages.  Refuses more
 * than max bytes (DVM_ERANGE) and gives up when no byte and no end arrive
 * for wait_ms milliseconds (DVM_EIO; a FIFO nobody writes to).  fd is not
 * closed.  On success *memfd is owned by the caller. */
dvm_status io_input_slurp(int fd, const char *what, uint64_t max, int wait_ms,
                          int *memfd);

/* Opens the file at path bound to channel name, whose window holds at most
 * window bytes, as described above.  On success *fd (owned, open across
 * exec) reads the input's bytes from offset 0 and *len is their number. */
dvm_status io_input_open(const char *path, const char *name, uint64_t window,
                         int wait_ms, int *fd, uint64_t *len);

/* Writes "/dev/fd/FD" to buf (at least 32 bytes): the path under which a
 * child process opens the input descriptor fd. */
void io_input_path(int fd, char *buf);

#endif
