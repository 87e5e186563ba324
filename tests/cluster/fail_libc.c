/*
 * fail_libc.c -- preloaded into a process (LD_PRELOAD) whose libc calls
 * must fail as they do when a resource runs out.  DVM_TEST_FAIL_LIBC names
 * the calls that fail, any of:
 *
 *   open_memstream   every call returns NULL, errno ENOMEM
 *   memfd_trace      memfd_create of "dvm-trace" (the master's --trace
 *                    file) returns -1, errno EMFILE; others work
 *
 * The master builds `dvm status` in a memory stream and a submit's trace
 * in such a file; cluster/status_nomem and cluster/trace_nofd check that
 * the client hears of the failure.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static int fails(const char *what)
{
    const char *v = getenv("DVM_TEST_FAIL_LIBC");
    return v && strstr(v, what);
}

FILE *open_memstream(char **ptr, size_t *size)
{
    if (fails("open_memstream")) {
        errno = ENOMEM;
        return NULL;
    }
    FILE *(*real)(char **, size_t *) =
        (FILE *(*)(char **, size_t *))dlsym(RTLD_NEXT, "open_memstream");
    return real(ptr, size);
}

int memfd_create(const char *name, unsigned int flags)
{
    if (fails("memfd_trace") && !strcmp(name, "dvm-trace")) {
        errno = EMFILE;
        return -1;
    }
    int (*real)(const char *, unsigned int) =
        (int (*)(const char *, unsigned int))dlsym(RTLD_NEXT, "memfd_create");
    return real(name, flags);
}
