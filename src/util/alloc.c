/*
 * alloc.c -- allocation wrappers, with deliberate failures in debug builds.
 *
 * With DVM_ALLOC_FAILPOINTS every allocation is counted (atomically: the
 * window's handler thread allocates too); from the N-th on, each fails.  N
 * comes from the environment (DVM_FAIL_ALLOC) on the first allocation, or
 * from dvm_alloc_fail_from, which unit tests use to walk N = 1, 2, ...
 * through one operation in one process.
 */
#include "util/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef DVM_ALLOC_FAILPOINTS
#include <stdatomic.h>
static atomic_long alloc_count;
static long alloc_fail_at = -1;

/* True when this allocation must fail (DVM_FAIL_ALLOC=N: the N-th on). */
static int alloc_should_fail(void)
{
    if (alloc_fail_at < 0) {
        const char *e = getenv("DVM_FAIL_ALLOC");
        alloc_fail_at = e ? atol(e) : 0;
    }
    long n = atomic_fetch_add(&alloc_count, 1) + 1;
    return alloc_fail_at > 0 && n >= alloc_fail_at;
}

int dvm_alloc_fail_from(long n)
{
    atomic_store(&alloc_count, 0);
    alloc_fail_at = n;
    return 1;
}
#else
#define alloc_should_fail() 0

int dvm_alloc_fail_from(long n)
{
    (void)n;
    return 0;
}
#endif

void *dvm_malloc(size_t n)
{
    if (alloc_should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *dvm_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    if (alloc_should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *dvm_realloc(void *p, size_t n)
{
    if (alloc_should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void *dvm_grow(void *p, size_t *cap, size_t need, size_t esize)
{
    if (need <= *cap)
        return p;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / esize)
            return NULL;
        ncap *= 2;
    }
    void *np = dvm_realloc(p, ncap * esize);
    if (!np)
        return NULL;
    *cap = ncap;
    return np;
}

char *dvm_strdup(const char *s)
{
    return dvm_strndup(s, strlen(s));
}

char *dvm_strndup(const char *s, size_t n)
{
    char *d = dvm_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void dvm_free(void *p)
{
    free(p);
}
