/*
 * cdiag.c -- diagnostics: "FILE:LINE:COL: error: MESSAGE" on the diag
 * stream (C0.md section 9).  An error ends the compilation: the first
 * error is the one reported, and cc_compile (reached by longjmp) returns
 * with nothing written.  Warnings are counted and go on (-w silences them,
 * -Werror makes the first one an error).
 */
#include <stdarg.h>

#include "cc/cc.h"
#include "cc/cc_int.h"

static void report(cc_ctx *c, const cfile *f, int line, int col,
                   const char *kind, const char *fmt, va_list ap)
{
    if (f)
        fprintf(c->diag, "%s:%d:%d: %s: ", f->name, line, col, kind);
    else
        fprintf(c->diag, "dvm cc: %s: ", kind);
    vfprintf(c->diag, fmt, ap);
    fputc('\n', c->diag);
}

/* Reports an error at token t (may be NULL) and ends the compilation. */
void cdiag_error(cc_ctx *c, const token *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(c, t ? t->file : NULL, t ? t->line : 0, t ? t->col : 0, "error",
           fmt, ap);
    va_end(ap);
    c->nerrors++;
    longjmp(c->fail, 1);
}

/* Reports an error at byte `at` of f's text and ends the compilation. */
void cdiag_error_at(cc_ctx *c, const cfile *f, const char *at,
                    const char *fmt, ...)
{
    int line = 1, col = 1;
    for (const char *p = f->text; p < at; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    va_list ap;
    va_start(ap, fmt);
    report(c, f, line, col, "error", fmt, ap);
    va_end(ap);
    c->nerrors++;
    longjmp(c->fail, 1);
}

/* Reports a warning at t; with -Werror it is an error. */
void cdiag_warn(cc_ctx *c, const token *t, const char *fmt, ...)
{
    if (c->opts->no_warnings)
        return;
    va_list ap;
    va_start(ap, fmt);
    report(c, t ? t->file : NULL, t ? t->line : 0, t ? t->col : 0,
           c->opts->werror ? "error" : "warning", fmt, ap);
    va_end(ap);
    c->nwarnings++;
    if (c->opts->werror) {
        c->nerrors++;
        longjmp(c->fail, 1);
    }
}

/* An internal failure (out of memory, a broken invariant reached by
 * input): "error: internal compiler error: ...". */
void cdiag_fatal(cc_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(c->diag, "dvm cc: error: internal compiler error: ");
    vfprintf(c->diag, fmt, ap);
    fputc('\n', c->diag);
    va_end(ap);
    c->nerrors++;
    longjmp(c->fail, 1);
}
