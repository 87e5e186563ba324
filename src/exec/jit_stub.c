/*
 * jit_stub.c -- the translator when the build has no LLVM.
 *
 * The interpreter is then the only engine: jit_available() says so, and
 * jit_create() fails with DVM_EUNSUPP and a message the command line can
 * show.  jit_destroy, jit_run and jit_translate_ahead can only be reached
 * through a jit_engine, which cannot exist here.
 */
#include "exec/jit.h"

#include <assert.h>
#include <stddef.h>

int jit_available(void)
{
    return 0;
}

dvm_status jit_create(const vm_code *code, jit_engine **out)
{
    (void)code;
    (void)out;
    return status_set(DVM_EUNSUPP, "the translator is not available: this "
                      "dvm was built without LLVM (use --engine interp)");
}

dvm_status jit_create_limits(const vm_code *code, const jit_limits *l,
                             jit_engine **out)
{
    (void)l;
    return jit_create(code, out);
}

jit_stats jit_stats_get(const jit_engine *j)
{
    (void)j;
    assert(!"jit_stats_get without a translator");
    return (jit_stats){0, 0, 0, 0};
}

dvm_status jit_share(jit_engine *j, const char *dir, uint64_t prog)
{
    (void)j;
    (void)dir;
    (void)prog;
    assert(!"jit_share without a translator");
    return DVM_EUNSUPP;
}

dvm_status jit_translate_ahead(jit_engine *j, jit_ahead *out)
{
    (void)j;
    (void)out;
    assert(!"jit_translate_ahead without a translator");
    return DVM_EUNSUPP;
}

void jit_destroy(jit_engine *j)
{
    assert(j == NULL);
    (void)j;
}

int jit_run(jit_engine *j, vm_runner *r, uint64_t fi)
{
    (void)j;
    (void)r;
    (void)fi;
    assert(!"jit_run without a translator");
    return VM_EXIT_FAULT;
}
