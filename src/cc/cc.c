/*
 * cc.c -- the compiler's driver: preprocess and parse each translation
 * unit (the library's declarations first, so every unit sees them), then
 * the library's definitions as the last unit, then generate the whole
 * program.  A diagnostic ends the compilation by longjmp back here, where
 * the arena is released and nothing is returned.
 */
#include <assert.h>
#include <string.h>

#include "cc/cc.h"
#include "cc/cc_int.h"
#include "util/alloc.h"

static void apply_defines(cc_ctx *c)
{
    for (size_t i = 0; i < c->opts->ndefines; i++) {
        const char *d = c->opts->defines[i];
        if (d[0] == '-') {
            cpp_undef(c, d + 1);
            continue;
        }
        const char *eq = strchr(d, '=');
        if (eq)
            cpp_define(c, carena_strndup(c, d, (size_t)(eq - d)), eq + 1);
        else
            cpp_define(c, d, "1");
    }
}

/* Tokens of the library declarations followed by the unit's tokens. */
static token *unit_tokens(cc_ctx *c, cfile *f, bool with_prelude)
{
    c->macros = NULL;
    c->conds = NULL;
    c->depth = 0;
    cpp_init(c);
    apply_defines(c);
    token *t = clex_file(c, f);
    if (!with_prelude)
        return t;
    const char *pre = clib_prelude();
    cfile *pf = cpp_new_file(c, "<built-in>", pre, strlen(pre));
    pf->prelude = true;
    token *p = clex_file(c, pf);
    token *q = p;
    while (q->next->kind != TK_EOF)
        q = q->next;
    q->next = t;
    t->bol = true;
    return p;
}

static void print_tokens(cc_ctx *c, cbuf *b, token *t)
{
    int line = 0;
    for (; t->kind != TK_EOF; t = t->next) {
        if (t->file->prelude)
            continue;
        if (t->bol || t->line != line) {
            if (b->len)
                cbuf_puts(c, b, "\n");
        } else if (t->space) {
            cbuf_puts(c, b, " ");
        }
        line = t->line;
        cbuf_putn(c, b, t->loc, (size_t)t->len);
    }
    cbuf_puts(c, b, "\n");
}

typedef struct src {
    const char *name;
    const char *text;          /* NULL: read the file `name` */
    size_t len;
} src;

static dvm_status compile(const cc_opts *o, const src *srcs, size_t n,
                          FILE *diag, char **out, size_t *outlen)
{
    cc_ctx *c = dvm_calloc(1, sizeof *c);
    if (!c)
        return status_set(DVM_ENOMEM, "out of memory");
    c->opts = o;
    c->diag = diag;
    cbuf result = {0};
    if (setjmp(c->fail)) {
        cbuf_free_all(c);
        carena_free_all(c);
        dvm_free(c);
        return status_set(DVM_ESYNTAX, "compilation failed");
    }
    for (size_t i = 0; i < n; i++) {
        c->tu = (int)i;
        size_t len = srcs[i].len;
        const char *text = srcs[i].text;
        if (!text && !(text = cpp_read_file(c, srcs[i].name, &len))) {
            fprintf(diag, "dvm cc: error: cannot read '%s'\n", srcs[i].name);
            longjmp(c->fail, 1);
        }
        token *t = unit_tokens(c, cpp_new_file(c, srcs[i].name, text, len),
                               !o->preprocess_only);
        t = cpp_run(c, t);
        if (o->preprocess_only) {
            print_tokens(c, &result, t);
            continue;
        }
        cparse_unit(c, t);
    }
    if (!o->preprocess_only) {
        c->tu = (int)n;
        c->in_lib = true;
        const char *lib = clib_source();
        token *t = cpp_run(c, unit_tokens(c, cpp_new_file(c, "<library>", lib,
                                                       strlen(lib)), true));
        cparse_unit(c, t);
        cgen_program(c, &result);
    }
    if (!result.s)
        cbuf_puts(c, &result, "");
    assert(c->bufs[result.slot] == result.s);
    *outlen = result.len;
    *out = cbuf_take(c, &result);
    cbuf_free_all(c);
    carena_free_all(c);
    dvm_free(c);
    return 0;
}

dvm_status cc_compile(const cc_opts *o, const char *const *files,
                      size_t nfiles, FILE *diag, char **out, size_t *outlen)
{
    src *s = dvm_calloc(nfiles ? nfiles : 1, sizeof *s);
    if (!s)
        return status_set(DVM_ENOMEM, "out of memory");
    for (size_t i = 0; i < nfiles; i++)
        s[i].name = files[i];
    dvm_status st = compile(o, s, nfiles, diag, out, outlen);
    dvm_free(s);
    return st;
}

dvm_status cc_compile_string(const cc_opts *o, const char *name,
                             const char *src_text, size_t len, FILE *diag,
                             char **out, size_t *outlen)
{
    src s = {name, src_text, len};
    return compile(o, &s, 1, diag, out, outlen);
}
