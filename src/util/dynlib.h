/*
 * dynlib.h -- a shared library loaded at its first use.
 *
 * dvm links only what every command needs.  The libraries of optional
 * parts -- UCX for the cluster transport, OpenSSL's HMAC for its
 * handshake, libmicrohttpd for --http -- cost a process ~10 ms to load
 * and initialise on a VM (relocations, page faults, their constructors),
 * which `dvm run`, `dvm cc` and every RComp would pay for nothing.  So
 * the module that uses one opens it here when it first needs it
 * (dlopen by soname, from the system's library directories only) and
 * takes the addresses of the functions it calls, each into a pointer of
 * the function's own type (the caller's __typeof__ of the declaration in
 * the library's header), so that every call is still checked against the
 * header.  A library that cannot be loaded is an error of the operation
 * that needed it, said with the loader's reason; nothing else changes.
 */
#ifndef DVM_DYNLIB_H
#define DVM_DYNLIB_H

#include "util/status.h"

typedef struct dynlib {
    const char *soname;         /* e.g. "libucp.so.0" */
    void *handle;               /* NULL until opened */
    int tried;                  /* opened or failed: the outcome stays */
    char why[200];              /* the loader's reason, when it failed */
} dynlib;

#define DYNLIB_INIT(soname) { (soname), 0, 0, "" }

/* Opens lib once per process (later calls give the first outcome; safe
 * from any thread).  DVM_OK, or DVM_EUNSUPP with a message naming the
 * library and why it could not be loaded. */
dvm_status dynlib_open(dynlib *lib);
/* dynlib_open with the loads' lock already held (dynlib_lock). */
dvm_status dynlib_open_locked(dynlib *lib);
/* The one lock of every first open and of the tables' fills. */
void dynlib_lock(void);
void dynlib_unlock(void);

/* Sets *fn to the address of function name in lib (opened): DVM_OK, or
 * DVM_EUNSUPP with a message (a library of the wrong version).  *fn is
 * set only on success.  The caller's pointer is of the function's own
 * type; it is passed as (void **)&ptr, POSIX's idiom for dlsym. */
dvm_status dynlib_fn(dynlib *lib, const char *name, void **fn);

/* A table of a library's functions:
 *
 *   #define UCX_FNS(X) X(ucp_init_version) X(ucp_cleanup) ...
 *   DYNLIB_TABLE(ucx, ucx_load, "libucp.so.0", UCX_FNS, "the transport")
 *
 * defines `static struct { ... } ucx`, one pointer per function listed,
 * each of the type of the function's declaration in the library's header
 * (calls are ucx.ucp_cleanup(...)), and `static dvm_status ucx_load(void)`,
 * which opens the library once and fills the table: DVM_OK, or
 * DVM_EUNSUPP with the reason (the library or a function missing) after
 * what needed it ("the transport: cannot load libucp.so.0: ..."). */
#define DYNLIB_PTR_(f) __typeof__(f) *f;
#define DYNLIB_GET_(f)                                                      \
    if (!st_ && !t_->f)                                                     \
        st_ = dynlib_fn(l_, #f, (void **)&t_->f);
#define DYNLIB_TABLE(var, load, soname, FNS, what)                          \
    static struct { FNS(DYNLIB_PTR_) } var;                                 \
    static dvm_status load(void)                                            \
    {                                                                       \
        static dynlib lib_ = DYNLIB_INIT(soname);                           \
        dynlib *l_ = &lib_;                                                 \
        __typeof__(var) *t_ = &var;                                         \
        dynlib_lock();                                                      \
        dvm_status st_ = dynlib_open_locked(l_);                            \
        FNS(DYNLIB_GET_)                                                    \
        dynlib_unlock();                                                    \
        if (st_)                                                            \
            return status_set(st_, "%s: %s", (what), status_message());     \
        return DVM_OK;                                                      \
    }

#endif
