/*
 * exe.c -- the project's other files, found from the running executable
 * (exe.h).  /proc/self/exe names the executable even when it was started
 * through a link or a relative path; the files beside it are looked up
 * by full path, so the current directory never matters.
 */
#include "util/exe.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef DVM_LIBDIR_REL
#define DVM_LIBDIR_REL "../lib/dvm"
#endif

int exe_self(char *buf, size_t cap)
{
    assert(buf && cap > 0);
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n <= 0 || (size_t)n >= cap - 1)
        return -1;
    buf[n] = '\0';
    return 0;
}

/* The path dir/rel/name (dir/name when rel is NULL) into buf; 0 when it
 * does not fit. */
static int join(const char *dir, const char *rel, const char *name,
                char *buf, size_t cap)
{
    int k = rel ? snprintf(buf, cap, "%s/%s/%s", dir, rel, name)
                : snprintf(buf, cap, "%s/%s", dir, name);
    return k > 0 && (size_t)k < cap;
}

int exe_near(const char *name, int mode, char *buf, size_t cap)
{
    assert(name && !strchr(name, '/'));
    char dir[PATH_MAX];
    if (exe_self(dir, sizeof dir) < 0)
        return 0;
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    return (join(dir, NULL, name, buf, cap) && access(buf, mode) == 0) ||
           (join(dir, DVM_LIBDIR_REL, name, buf, cap) &&
            access(buf, mode) == 0);
}

int exe_rcomp(char *buf, size_t cap)
{
    if (exe_near("dvm-rcomp", X_OK, buf, cap))
        return 0;
    return exe_self(buf, cap);
}

const char *exe_libdir_rel(void)
{
    return DVM_LIBDIR_REL;
}
