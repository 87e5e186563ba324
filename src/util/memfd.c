/*
 * memfd.c -- see memfd.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/memfd.h"

dvm_status memfd_from_bytes(const char *name, const uint8_t *p, size_t len,
                            int *out)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0)
        return status_set_errno(DVM_ESYS, "memfd_create %s", name);
    for (size_t off = 0; off < len;) {
        ssize_t k = write(fd, p + off, len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            dvm_status st = status_set_errno(DVM_ESYS, "writing %s", name);
            close(fd);
            return st;
        }
        off += (size_t)k;
    }
    *out = fd;
    return DVM_OK;
}
