/*
 * stdfds.c -- open /dev/null on closed standard descriptors (stdfds.h).
 *
 * open() returns the lowest free number, so filling 0, 1, 2 in order with
 * fresh opens of /dev/null puts each on its own number; anything else means
 * the descriptor table changed under us, and is refused rather than
 * trusted.
 */
#include "util/stdfds.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* True when descriptor fd is open. */
static int fd_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0 || errno != EBADF;
}

/* Bit fd: descriptor fd was closed at start. */
static unsigned closed_at_start;

int stdfds_was_closed(int fd)
{
    return fd >= 0 && fd <= 2 && (closed_at_start >> fd & 1);
}

dvm_status stdfds_ensure(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fd_open(fd))
            continue;
        int got = open("/dev/null", fd ? O_WRONLY : O_RDONLY);
        if (got == fd) {
            closed_at_start |= 1u << fd;
            continue;
        }
        if (got >= 0)
            close(got);
        return status_set_errno(DVM_ESYS, "cannot open /dev/null on the "
                                "closed descriptor %d", fd);
    }
    return DVM_OK;
}
