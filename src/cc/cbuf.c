/*
 * cbuf.c -- growable text buffers for the generated DISA.  They live
 * outside the arena (the final text is handed to the caller), so growth is
 * dvm_realloc; running out of memory ends the compilation.  A buffer's
 * block is recorded in c->bufs from its first growth until cbuf_free or
 * cbuf_take, so that a diagnostic ending the compilation from any depth
 * (cdiag.c's longjmp) releases every block still in use through
 * cbuf_free_all.
 */
#include <assert.h>
#include <stdarg.h>
#include <string.h>

#include "cc/cc_int.h"
#include "util/alloc.h"

/* Drops slot i from the table of live blocks, then the table's unused
 * tail: buffers are mostly released in the reverse order of their first
 * growth, so the table stays short. */
static void live_drop(cc_ctx *c, size_t i)
{
    assert(i < c->nbufs && c->bufs[i]);
    c->bufs[i] = NULL;
    while (c->nbufs && !c->bufs[c->nbufs - 1])
        c->nbufs--;
}

/* Appends s[0..n) to b, keeping b NUL-terminated. */
void cbuf_putn(cc_ctx *c, cbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (!b->s) {
            void *t = dvm_grow(c->bufs, &c->capbufs, c->nbufs + 1,
                               sizeof *c->bufs);
            if (!t)
                cdiag_fatal(c, "out of memory");
            c->bufs = t;
            b->slot = c->nbufs;
            c->bufs[c->nbufs++] = NULL;
        }
        assert(c->bufs[b->slot] == b->s);
        char *p = dvm_realloc(b->s, cap);
        if (!p)
            cdiag_fatal(c, "out of memory");
        c->bufs[b->slot] = p;
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void cbuf_puts(cc_ctx *c, cbuf *b, const char *s)
{
    cbuf_putn(c, b, s, strlen(s));
}

void cbuf_printf(cc_ctx *c, cbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < (int)sizeof tmp) {
        cbuf_putn(c, b, tmp, (size_t)n);
        return;
    }
    char *p = carena_alloc(c, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cbuf_putn(c, b, p, (size_t)n);
}

/* Releases b's text and empties b. */
void cbuf_free(cc_ctx *c, cbuf *b)
{
    if (b->s)
        live_drop(c, b->slot);
    dvm_free(b->s);
    *b = (cbuf){0};
}

/* Hands b's text to the caller (dvm_free; NULL when b never held text) and
 * empties b. */
char *cbuf_take(cc_ctx *c, cbuf *b)
{
    char *s = b->s;
    if (s)
        live_drop(c, b->slot);
    *b = (cbuf){0};
    return s;
}

/* Releases every block still in use (the failure path) and the table. */
void cbuf_free_all(cc_ctx *c)
{
    for (size_t i = 0; i < c->nbufs; i++)
        dvm_free(c->bufs[i]);
    dvm_free(c->bufs);
    c->bufs = NULL;
    c->nbufs = c->capbufs = 0;
}
