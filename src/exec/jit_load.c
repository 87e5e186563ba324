/*
 * jit_load.c -- finds the translator's LLVM half (jit_backend.h).
 *
 * Built with DVM_JIT_MODULE, the backend is the module dvm-jit.so: looked
 * for beside the running executable (a build tree: dvm, the tests and the
 * module share one directory), then where `cmake --install` puts it
 * relative to the executable (DVM_JIT_MODULE_REL: bin/../LIBDIR/dvm), so
 * that an installed tree may move (a package unpacked elsewhere).  It is loaded once per process, at the first
 * jit_backend_load, with RTLD_NOW so that a module that does not fit the
 * binary fails there, whole, rather than at a later call; its table must
 * carry this build's JIT_BACKEND_ABI.  Otherwise the backend is linked in.
 */
#include "exec/jit_backend.h"

#include <stdio.h>
#include <sys/stat.h>

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

#if DVM_JIT_MODULE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const jit_backend_ops *loaded;
static char load_error[512];

/* Writes into buf the module's path in directory rel (relative to the
 * running executable's: "." beside it, DVM_JIT_MODULE_REL where
 * `cmake --install` puts it); 0 when /proc/self/exe cannot be read or
 * the path does not fit. */
static int near_exe(const char *rel, char *buf, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 0;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    int k = snprintf(buf, cap, "%s/%s/dvm-jit.so", exe, rel);
    return k > 0 && (size_t)k < cap;
}

/* The first module path that exists into buf; 0 when there is none. */
static int module_path(char *buf, size_t cap)
{
    return (near_exe(".", buf, cap) && access(buf, R_OK) == 0) ||
           (near_exe(DVM_JIT_MODULE_REL, buf, cap) && access(buf, R_OK) == 0);
}

static void load(void)
{
    char path[PATH_MAX];
    if (!module_path(path, sizeof path)) {
        snprintf(load_error, sizeof load_error, "no dvm-jit.so beside the "
                 "dvm binary or in %s from it", DVM_JIT_MODULE_REL);
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
    if (!tag_file("/proc/self/exe", &h) || !module_path(path, sizeof path) ||
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
    return tag_file("/proc/self/exe", &h) ? h : 0;
}

dvm_status jit_backend_load(const jit_backend_ops **out)
{
    *out = &jit_llvm_backend;
    return DVM_OK;
}

#endif
