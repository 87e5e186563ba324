/*
 * jit_cache_fuzz.c -- libFuzzer target for the translator cache's entry
 * decoder (jit_cache_decode): any bytes are refused or decoded within
 * their bounds; a decoded entry encodes back to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/jit_cache.h"
#include "util/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    jit_cache_key k = {0, 0, 0, 0};
    jit_cache_header_key(p, n, &k); /* the key the entry claims, so that
                                       the checks past it are reached */
    const uint8_t *obj;
    size_t len;
    uint32_t insns;
    if (jit_cache_decode(p, n, &k, &obj, &len, &insns))
        return 0;
    if (obj < p || obj + len != p + n)
        abort();
    uint8_t *e;
    size_t m;
    if (jit_cache_encode(&k, insns, obj, len, &e, &m) || m != n ||
        memcmp(e, p, n))
        abort();
    dvm_free(e);
    return 0;
}
