/*
 * text.c -- the growable text buffer (see text.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "obs/text.h"
#include "util/alloc.h"

void text_init(text *t)
{
    memset(t, 0, sizeof *t);
}

void text_free(text *t)
{
    dvm_free(t->p);
    text_init(t);
}

/* Makes room for n more bytes and the terminator; 0 on success. */
static int text_room(text *t, size_t n)
{
    if (t->oom)
        return -1;
    char *p = dvm_grow(t->p, &t->cap, t->n + n + 1, 1);
    if (!p) {
        t->oom = 1;
        return -1;
    }
    t->p = p;
    return 0;
}

void text_put(text *t, const char *s, size_t n)
{
    if (text_room(t, n))
        return;
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = '\0';
}

void text_puts(text *t, const char *s)
{
    text_put(t, s, strlen(s));
}

void text_printf(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        text_put(t, small, (size_t)n);
        return;
    }
    if (text_room(t, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(t->p + t->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->n += (size_t)n;
}

void text_json_str(text *t, const char *s, size_t n)
{
    text_put(t, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            text_printf(t, "\\%c", c);
        else if (c == '\n')
            text_put(t, "\\n", 2);
        else if (c < 0x20 || c >= 0x7f)
            text_printf(t, "\\u%04x", c);
        else
            text_put(t, (const char *)&c, 1);
    }
    text_put(t, "\"", 1);
}

dvm_status text_status(const text *t)
{
    return t->oom ? status_set(DVM_ENOMEM, "out of memory rendering text")
                  : DVM_OK;
}
