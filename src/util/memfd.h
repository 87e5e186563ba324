/*
 * memfd.h -- bytes in memory as a file: the program image that child
 * processes (RComps) inherit and open by descriptor.
 */
#ifndef DVM_MEMFD_H
#define DVM_MEMFD_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

/* Creates a close-on-exec memfd called name holding p[0..len).  On success
 * *fd is owned by the caller. */
dvm_status memfd_from_bytes(const char *name, const uint8_t *p, size_t len,
                            int *fd);

#endif
