/*
 * status.c -- thread-local last-error messages for dvm_status.
 *
 * A message is a fixed-size thread-local buffer: recording one never
 * allocates, so even DVM_ENOMEM can be explained.
 */
#include "util/status.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char status_buf[1024];

const char *status_name(dvm_status st)
{
    switch (st) {
#define DVM_STATUS_CASE(name, val, text) case name: return text;
        DVM_STATUS_CODES(DVM_STATUS_CASE)
#undef DVM_STATUS_CASE
    }
    return "unknown error";
}

dvm_status status_set(dvm_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(status_buf, sizeof status_buf, fmt, ap);
    va_end(ap);
    return st;
}

dvm_status status_set_errno(dvm_status st, const char *fmt, ...)
{
    int err = errno;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(status_buf, sizeof status_buf, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof status_buf)
        snprintf(status_buf + n, sizeof status_buf - (size_t)n, ": %s",
                 strerror(err));
    return st;
}

const char *status_message(void)
{
    return status_buf[0] ? status_buf : "no error";
}

void status_clear(void)
{
    status_buf[0] = '\0';
}

void status_first_set(status_first *f, dvm_status st)
{
    assert(st != DVM_OK);
    if (f->st)
        return;
    f->st = st;
    const char *m = status_message();
    size_t n = strnlen(m, sizeof f->msg - 1);   /* cut if longer */
    memcpy(f->msg, m, n);
    f->msg[n] = '\0';
}

dvm_status status_first_get(const status_first *f)
{
    return f->st ? status_set(f->st, "%s", f->msg) : DVM_OK;
}
