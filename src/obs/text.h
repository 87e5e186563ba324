/*
 * text.h -- a growable text buffer for the renderers of src/obs (metrics
 * exposition, JSON).
 *
 * Appending never fails loudly: an allocation failure sets `oom`, later
 * appends do nothing, and the renderer reports DVM_ENOMEM once at the end
 * (text_status).  That keeps every renderer a straight sequence of appends.
 * The buffer is always NUL-terminated when p is not NULL.
 */
#ifndef DVM_OBS_TEXT_H
#define DVM_OBS_TEXT_H

#include <stddef.h>

#include "util/status.h"

typedef struct text {
    char *p;                    /* owned; NULL until the first append */
    size_t n, cap;
    int oom;
} text;

void text_init(text *t);
void text_free(text *t);
/* Appends n bytes of s. */
void text_put(text *t, const char *s, size_t n);
/* Appends a NUL-terminated string. */
void text_puts(text *t, const char *s);
/* Appends printf-style. */
void text_printf(text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (quotes included); bytes that are not
 * printable ASCII are escaped as \u00XX, so any bytes give valid JSON. */
void text_json_str(text *t, const char *s, size_t n);
/* DVM_OK, or DVM_ENOMEM (message set) when an append failed. */
dvm_status text_status(const text *t);

#endif
