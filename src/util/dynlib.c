/*
 * dynlib.c -- a shared library loaded at its first use (dynlib.h).  One
 * process-wide lock orders the first opens: they are rare (once per
 * library and process), and dlopen takes the loader's own lock anyway.
 */
#include "util/dynlib.h"

#include <assert.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;

void dynlib_lock(void)
{
    pthread_mutex_lock(&open_lock);
}

void dynlib_unlock(void)
{
    pthread_mutex_unlock(&open_lock);
}

dvm_status dynlib_open_locked(dynlib *lib)
{
    assert(lib && lib->soname);
    if (!lib->tried) {
        lib->handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
        if (!lib->handle) {
            const char *e = dlerror();
            snprintf(lib->why, sizeof lib->why, "%s", e ? e : "not found");
        }
        lib->tried = 1;
    }
    if (lib->handle)
        return DVM_OK;
    return status_set(DVM_EUNSUPP, "cannot load %s: %s", lib->soname,
                      lib->why);
}

dvm_status dynlib_open(dynlib *lib)
{
    dynlib_lock();
    dvm_status st = dynlib_open_locked(lib);
    dynlib_unlock();
    return st;
}

dvm_status dynlib_fn(dynlib *lib, const char *name, void **fn)
{
    assert(lib && lib->handle && name && fn);
    void *p = dlsym(lib->handle, name);
    if (!p)
        return status_set(DVM_EUNSUPP, "%s has no %s", lib->soname, name);
    *fn = p;
    return DVM_OK;
}
