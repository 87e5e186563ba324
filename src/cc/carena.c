/*
 * carena.c -- the compilation's arena.  Every allocation of a compilation
 * comes from here and is released together by carena_free_all, so the
 * phases never free and a diagnostic may end the compilation by longjmp
 * from any depth without leaking.  Running out of memory is reported as an
 * internal error through the same longjmp.
 */
#include <stdarg.h>
#include <string.h>

#include "cc/cc_int.h"
#include "util/alloc.h"

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
};

#define ARENA_CHUNK (1u << 20)

/* Returns n zeroed bytes owned by the arena; never NULL (fails the
 * compilation instead). */
void *carena_alloc(cc_ctx *c, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct arena_chunk *k = c->chunks;
    if (!k || k->cap - k->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        k = dvm_malloc(sizeof *k + cap);
        if (!k)
            cdiag_fatal(c, "out of memory");
        k->used = 0;
        k->cap = cap;
        k->next = c->chunks;
        c->chunks = k;
    }
    void *p = (char *)k->data + k->used;
    k->used += n;
    memset(p, 0, n);
    return p;
}

/* A NUL-terminated copy of s[0..n) in the arena. */
char *carena_strndup(cc_ctx *c, const char *s, size_t n)
{
    char *p = carena_alloc(c, n + 1);
    memcpy(p, s, n);
    return p;
}

/* printf into the arena. */
char *carena_printf(cc_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = carena_alloc(c, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* Releases everything allocated by the compilation. */
void carena_free_all(cc_ctx *c)
{
    while (c->chunks) {
        struct arena_chunk *k = c->chunks;
        c->chunks = k->next;
        dvm_free(k);
    }
}
