/*
 * jit_load.c -- finds the translator's LLVM half (jit_backend.h).
 *
 * Built with DVM_JIT_MODULE, the backend is the module dvm-jit.so: looked
 * for beside the running executable (a build tree: dvm, the tests and the
 * module share one directory), then where `cmake --install` puts it
 * relative to the executable (util/exe.h: bin/../LIBDIR/dvm), so that an
 * installed tree may move (a package unpacked elsewhere).  It is loaded
 * once per process, at the first jit_backend_load, with RTLD_NOW so that a
 * module that does not fit the binary fails there, whole, rather than at
 * a later call; its table must carry this build's JIT_BACKEND_ABI.
 * Otherwise the backend is linked in.
 */
#include "exec/jit_backend.h"

#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "util/exe.h"

/* Folds the identity of the file at path (device, inode, size,
 * modification time) into *h; 0 when it cannot be read. */
static int tag_file(const char *path, uint64_t *h)
{
    struct stat sb;
    if (stat(path, &sb) < 0)
        return 0;
    uint64_t v[5] = {(uint64_t)sb.st_dev, (uint64_t)sb.st_ino,
                     (uint64_t)sb.st_size, (uint64_t)sb.st_mtim.tv_sec,
                     (uint64_t)sb.st_mtim.tv_nsec};
    for (int i = 0; i < 5; i++)
        *h = (*h ^ v[i]) * 0x100000001b3ull;
    return 1;
}

/* Folds the identity of the executable that runs translated code into
 * *h: the RComp's (util/exe.h), the same file whether dvm (`dvm
 * translate`) or dvm-rcomp asks, so that what one kept the other finds.
 * 0 when it cannot be read. */
static int tag_rcomp_exe(uint64_t *h)
{
    char path[PATH_MAX];
    return exe_rcomp(path, sizeof path) == 0 && tag_file(path, h);
}

#if DVM_JIT_MODULE
#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>            /* R_OK */

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const jit_backend_ops *loaded;
static char load_error[512];

/* The module's path into buf (util/exe.h: beside the running
 * executable, else where `cmake --install` puts it); 0 when there is
 * none. */
static int module_path(char *buf, size_t cap)
{
    return exe_near("dvm-jit.so", R_OK, buf, cap);
}

static void load(void)
{
    char path[PATH_MAX];
    if (!module_path(path, sizeof path)) {
        snprintf(load_error, sizeof load_error, "no dvm-jit.so beside the "
                 "dvm binary or in %s from it", exe_libdir_rel());
        return;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(load_error, sizeof load_error, "%.400s", dlerror());
        return;
    }
    const jit_backend_ops *ops = dlsym(h, "jit_llvm_backend");
    if (!ops || ops->abi != JIT_BACKEND_ABI) {
        snprintf(load_error, sizeof load_error, "%.300s: not this dvm's "
                 "translator (interface %u, expected %u)", path,
                 ops ? ops->abi : 0u, JIT_BACKEND_ABI);
        dlclose(h);
        return;
    }
    loaded = ops;               /* the module stays for the process */
}

int jit_backend_present(void)
{
    char path[PATH_MAX];
    return module_path(path, sizeof path);
}

uint64_t jit_backend_tag(void)
{
    char path[PATH_MAX];
    uint64_t h = 0xcbf29ce484222325ull ^ JIT_BACKEND_ABI;
    if (!tag_rcomp_exe(&h) || !module_path(path, sizeof path) ||
        !tag_file(path, &h))
        return 0;
    return h;
}

dvm_status jit_backend_load(const jit_backend_ops **out)
{
    pthread_once(&load_once, load);
    if (!loaded)
        return status_set(DVM_EUNSUPP, "translator: %s", load_error);
    *out = loaded;
    return DVM_OK;
}

#else

int jit_backend_present(void)
{
    return 1;
}

uint64_t jit_backend_tag(void)
{
    uint64_t h = 0xcbf29ce484222325ull ^ JIT_BACKEND_ABI;
    return tag_rcomp_exe(&h) ? h : 0;
}

dvm_status jit_backend_load(const jit_backend_ops **out)
{
    *out = &jit_llvm_backend;
    return DVM_OK;
}

#endif
