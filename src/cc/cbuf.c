/*
 * cbuf.c -- growable text buffers for the generated DISA.  They live
 * outside the arena (the final text is handed to the caller), so growth is
 * dvm_realloc; running out of memory ends the compilation.
 */
#include <stdarg.h>
#include <string.h>

#include "cc/cc_int.h"
#include "util/alloc.h"

/* Appends s[0..n) to b, keeping b NUL-terminated. */
void cbuf_putn(cc_ctx *c, cbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = dvm_realloc(b->s, cap);
        if (!p)
            cdiag_fatal(c, "out of memory");
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
