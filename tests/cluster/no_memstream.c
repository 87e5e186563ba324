/*
 * no_memstream.c -- preloaded into a process (LD_PRELOAD) whose
 * open_memstream must fail as it does when memory runs out: every call
 * returns NULL with errno ENOMEM.  The master builds `dvm status` in such
 * a stream; cluster/status_nomem checks the client hears of the failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

FILE *open_memstream(char **ptr, size_t *size)
{
    (void)ptr;
    (void)size;
    errno = ENOMEM;
    return NULL;
}
