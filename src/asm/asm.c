/*
 * asm.c -- the DISA assembler driver (DISA.md 7).
 *
 * Source is first read into one list of lines with every .include expanded
 * (asm_src.c).  Then passes run over the list.  A pass assembles each line
 * exactly as the final pass will, but silently and without storing bytes:
 * it only moves the location counters and defines symbols.  A symbol used
 * before its definition takes its value from the previous pass, so the
 * silent passes repeat until nothing changes (every definition keeps its
 * value and the .data base, the 4 KiB boundary after the end of .text, stays
 * put).  Instruction sizes depend on the syntax only, so ordinary programs
 * settle after two passes; only `.org`/`.zero`/`.align` arguments that
 * depend on later symbols need more, and a layout that never settles is
 * reported.  The last pass reports every error (at most ASM_MAX_ERRORS)
 * and stores the bytes into segments, one per run of contiguous bytes of a
 * section; they become the dvm_program with the symbols, heap ranges,
 * channels and entry.
 *
 * Zero bytes from `.zero` and `.align` are not stored (DISA 1.1): they grow
 * the open segment's zero tail.  When explicit bytes follow, a tail shorter
 * than ASM_ZERO_SPLIT is stored as zeros; a longer one stays the tail of its
 * segment and the bytes open a new segment right after it, so `.zero 1<<30`
 * costs nothing wherever it stands, and a code segment keeps covering its
 * zeros (they stay read only).
 */
#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "asm/asm.h"
#include "asm/asm_int.h"
#include "util/alloc.h"

/* Prints one diagnostic for line li unless the cap was reached. */
static void vreport(asm_ctx *c, size_t li, int col, const char *fmt,
                    va_list ap)
{
    const asm_line *l = &c->lines[li];
    c->nerrors++;
    if (!c->diag || c->nerrors > ASM_MAX_ERRORS + 1)
        return;
    if (c->nerrors == ASM_MAX_ERRORS + 1) {
        fprintf(c->diag, "%s: error: too many errors, giving up\n",
                c->files[l->file].path);
        return;
    }
    fprintf(c->diag, "%s:%u:%d: error: ", c->files[l->file].path, l->lineno,
            col);
    vfprintf(c->diag, fmt, ap);
    fputc('\n', c->diag);
}

void asm_error(asm_ctx *c, int col, const char *fmt, ...)
{
    if (!c->report)
        return;
    va_list ap;
    va_start(ap, fmt);
    vreport(c, c->cur, col, fmt, ap);
    va_end(ap);
}

void asm_error_at(asm_ctx *c, size_t line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(c, line, col, fmt, ap);
    va_end(ap);
}

dvm_status asm_expr(asm_ctx *c, expr_cursor *cur, uint64_t *v)
{
    dvm_status st = expr_eval(cur, asm_lookup, c, v);
    if (st)
        asm_error(c, expr_peek(cur)->col, "%s", status_message());
    return st;
}

dvm_status asm_expect_eol(asm_ctx *c, expr_cursor *cur)
{
    const lex_token *t = expr_peek(cur);
    if (t->kind == TK_EOL)
        return DVM_OK;
    asm_error(c, t->col, "unexpected '%.*s' (expected the end of the line)",
              (int)t->len, t->text);
    return DVM_ESYNTAX;
}

dvm_status asm_expect(asm_ctx *c, expr_cursor *cur, int ch, const char *what)
{
    const lex_token *t = expr_peek(cur);
    if (lex_is(t, ch)) {
        cur->i++;
        return DVM_OK;
    }
    asm_error(c, t->col, "expected %s", what);
    return DVM_ESYNTAX;
}

/* Opens a new segment of the current section at its location counter. */
static asm_seg *open_segment(asm_ctx *c)
{
    asm_seg *s = dvm_grow(c->segs, &c->segcap, c->nsegs + 1, sizeof *s);
    if (!s)
        return NULL;
    c->segs = s;
    s = &c->segs[c->nsegs];
    memset(s, 0, sizeof *s);
    s->addr = c->loc[c->sec];
    s->sec = c->sec;
    s->line = (uint32_t)c->cur;
    c->open_seg[c->sec] = (int)c->nsegs++;
    return s;
}

/* The open segment of the current section if the location counter is at
 * its end, else NULL. */
static asm_seg *current_segment(asm_ctx *c)
{
    int k = c->open_seg[c->sec];
    asm_seg *s = k >= 0 ? &c->segs[k] : NULL;
    if (!s || s->addr + s->size + s->tail != c->loc[c->sec])
        return NULL;
    return s;
}

/* Zero bytes that storing explicit bytes now would store first: the open
 * segment's tail when it is short enough to be stored, else 0. */
static uint64_t pending_zeros(asm_ctx *c)
{
    asm_seg *s = current_segment(c);
    return s && s->tail < ASM_ZERO_SPLIT ? s->tail : 0;
}

/* Grows the zero tail of the open segment (opening one) by n. */
static dvm_status store_zeros(asm_ctx *c, uint64_t n)
{
    asm_seg *s = current_segment(c);
    if (!s && !(s = open_segment(c))) {
        c->fatal = DVM_ENOMEM;
        return status_set(DVM_ENOMEM, "out of memory");
    }
    s->tail += n;
    return DVM_OK;
}

/* The segment explicit bytes go to: the open one with its short tail made
 * room for (stored as zeros by the caller), or a new one. */
static asm_seg *segment_for_bytes(asm_ctx *c)
{
    asm_seg *s = current_segment(c);
    if (!s || s->tail >= ASM_ZERO_SPLIT)
        return open_segment(c);
    return s;
}

/* Stores n bytes (p, or zeros when p is NULL) in the open segment of the
 * current section. */
static dvm_status store(asm_ctx *c, const uint8_t *p, size_t n, int insn)
{
    if (!p && !insn)
        return store_zeros(c, n);
    asm_seg *s = segment_for_bytes(c);
    if (!s)
        goto err_nomem;
    uint8_t *b = dvm_grow(s->bytes, &s->cap, s->size + s->tail + n, 1);
    if (!b)
        goto err_nomem;
    s->bytes = b;
    memset(b + s->size, 0, s->tail);
    s->size += s->tail;
    s->tail = 0;
    if (insn) {
        uint32_t *o = dvm_grow(s->offs, &s->offcap, s->noffs + 1, sizeof *o);
        if (!o)
            goto err_nomem;
        s->offs = o;
        s->offs[s->noffs++] = (uint32_t)s->size;
    }
    if (p)
        memcpy(b + s->size, p, n);
    else
        memset(b + s->size, 0, n);
    s->size += n;
    return DVM_OK;
err_nomem:
    c->fatal = DVM_ENOMEM;
    return status_set(DVM_ENOMEM, "out of memory");
}

dvm_status asm_emit(asm_ctx *c, const uint8_t *p, size_t n, int insn,
                    int col)
{
    uint64_t loc = c->loc[c->sec];
    assert(loc <= ASM_SR_END);
    if (n > ASM_SR_END - loc) {
        asm_error(c, col, "the section runs past the end of the shared "
                  "region (0x%llx)", (unsigned long long)ASM_SR_END);
        return DVM_ESYNTAX;
    }
    if (c->report && n > 0) {
        uint64_t stored = p || insn ? n + pending_zeros(c) : 0;
        if (stored > ASM_MAX_BYTES - c->total) {
            asm_error(c, col, "program too large (more than %u MiB of "
                      "initialised bytes)", ASM_MAX_BYTES >> 20);
            return DVM_ESYNTAX;
        }
        dvm_status st = store(c, p, n, insn);
        if (st)
            return st;
        c->total += stored;
    }
    c->loc[c->sec] = loc + n;
    return DVM_OK;
}

/* `NAME = E` */
static void assignment(asm_ctx *c, expr_cursor *cur)
{
    const lex_token *name = expr_peek(cur);
    uint64_t v;
    cur->i += 2;
    c->defining = symtab_find(&c->syms, name->text, name->len);
    dvm_status st = asm_expr(c, cur, &v);
    c->defining = NULL;
    if (st || asm_expect_eol(c, cur))
        return;
    asm_define_constant(c, name, v);
}

/* Assembles line c->cur. */
static void assemble_line(asm_ctx *c)
{
    const asm_line *l = &c->lines[c->cur];
    if (lex_line(&c->lex, l->text, l->len)) {
        c->fatal = DVM_ENOMEM;
        return;
    }
    expr_cursor cur = {c->lex.t, c->lex.n, 0};
    const lex_token *last = &c->lex.t[c->lex.n - 1];
    if (last->kind == TK_ERROR) {
        asm_error(c, last->col, "%s", last->msg);
        return;
    }
    while (expr_peek(&cur)->kind == TK_LABEL) {
        if (asm_define(c, expr_peek(&cur), c->loc[c->sec]))
            return;
        cur.i++;
    }
    const lex_token *t = expr_peek(&cur);
    if (t->kind == TK_EOL)
        return;
    if (t->kind == TK_IDENT && lex_is(&cur.t[cur.i + 1], '='))
        assignment(c, &cur);
    else if (t->kind == TK_IDENT && t->text[0] == '.')
        asm_directive(c, &cur);
    else if (t->kind == TK_IDENT)
        asm_instruction(c, &cur);
    else
        asm_error(c, t->col, "expected a label, an instruction or a "
                  "directive");
}

/* Frees the per-pass lists (segments, heap, channels). */
static void reset_lists(asm_ctx *c)
{
    for (size_t i = 0; i < c->nsegs; i++) {
        dvm_free(c->segs[i].bytes);
        dvm_free(c->segs[i].offs);
    }
    for (size_t i = 0; i < c->nchans; i++)
        dvm_free(c->chans[i].name);
    c->nsegs = c->nheap = c->nchans = 0;
}

/* Runs one pass; returns the .data base the layout asks for. */
static uint64_t run_pass(asm_ctx *c)
{
    reset_lists(c);
    c->pass++;
    c->unstable = 0;
    c->sec = SEC_TEXT;
    c->loc[SEC_TEXT] = DISA_TEXT_BASE;
    c->loc[SEC_DATA] = c->data_base;
    c->open_seg[SEC_TEXT] = c->open_seg[SEC_DATA] = -1;
    c->have_entry = 0;
    c->total = 0;
    for (c->cur = 0; c->cur < c->nlines && !c->fatal; c->cur++)
        assemble_line(c);
    uint64_t end = c->loc[SEC_TEXT];
    return (end + DISA_PAGE - 1) / DISA_PAGE * DISA_PAGE;
}

/* qsort orders: segments by address, symbols by name. */
static int seg_cmp(const void *a, const void *b)
{
    const asm_seg *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int sym_cmp(const void *a, const void *b)
{
    return strcmp(((const prog_symbol *)a)->name,
                  ((const prog_symbol *)b)->name);
}

/* Moves the non-empty segments into p, checking that they do not overlap. */
static dvm_status build_segments(asm_ctx *c, dvm_program *p)
{
    if (c->nsegs)
        qsort(c->segs, c->nsegs, sizeof *c->segs, seg_cmp);
    if (!(p->segs = dvm_calloc(c->nsegs, sizeof *p->segs)))
        return status_set(DVM_ENOMEM, "out of memory");
    uint64_t prev_end = 0;
    for (size_t i = 0; i < c->nsegs; i++) {
        asm_seg *s = &c->segs[i];
        if (!s->size && !s->tail)
            continue;
        if (s->addr < prev_end)
            asm_error_at(c, s->line, 1, "bytes at 0x%llx overlap bytes "
                         "emitted earlier", (unsigned long long)s->addr);
        assert(s->addr >= DISA_RB &&
               s->addr + s->size + s->tail <= ASM_SR_END);
        prev_end = s->addr + s->size + s->tail;
        prog_segment *d = &p->segs[p->nsegs++];
        d->addr = s->addr;
        d->size = s->size + s->tail;
        d->zero_tail = s->tail;
        d->flags = s->sec == SEC_TEXT ? PROG_SEG_CODE : 0;
        d->bytes = s->bytes;
        d->insn_offs = s->offs;
        d->ninsns = s->noffs;
        s->bytes = NULL;
        s->offs = NULL;
        s->size = s->noffs = 0;
    }
    return DVM_OK;
}

/* Copies the symbols defined in the final pass into p, sorted by name. */
static dvm_status build_symbols(asm_ctx *c, dvm_program *p)
{
    if (!(p->syms = dvm_calloc(c->syms.n, sizeof *p->syms)))
        return status_set(DVM_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->syms.cap; i++) {
        const asm_sym *s = &c->syms.slots[i];
        if (!s->name || s->pass != c->pass)
            continue;
        prog_symbol *d = &p->syms[p->nsyms];
        if (!(d->name = dvm_strdup(s->name)))
            return status_set(DVM_ENOMEM, "out of memory");
        d->value = s->value;
        p->nsyms++;
    }
    if (p->nsyms)
        qsort(p->syms, p->nsyms, sizeof *p->syms, sym_cmp);
    return DVM_OK;
}

/* The default entry: main if defined, else the start of .text. */
static uint64_t default_entry(const asm_ctx *c, const dvm_program *p)
{
    asm_sym *m = symtab_find(&c->syms, "main", 4);
    if (m && m->pass == c->pass)
        return m->value;
    for (size_t i = 0; i < p->nsegs; i++)
        if (p->segs[i].flags & PROG_SEG_CODE)
            return p->segs[i].addr;
    return DISA_TEXT_BASE;
}

/* Builds the program from the final pass.  On success *out owns it. */
static dvm_status build_program(asm_ctx *c, dvm_program **out)
{
    dvm_status st;
    dvm_program *p = program_new();
    if (!p)
        return status_set(DVM_ENOMEM, "out of memory");
    if ((st = build_segments(c, p)) || (st = build_symbols(c, p)))
        goto err_prog;
    p->chans = c->chans;
    p->nchans = c->nchans;
    p->heap = c->heap;
    p->nheap = c->nheap;
    c->chans = NULL;
    c->heap = NULL;
    c->nchans = c->chancap = c->nheap = c->heapcap = 0;
    p->entry = c->have_entry ? c->entry : default_entry(c, p);
    *out = p;
    return DVM_OK;
err_prog:
    program_free(p);
    return st;
}

/* Runs the passes and builds the program. */
static dvm_status assemble_lines(asm_ctx *c, dvm_program **out)
{
    uint64_t base = DISA_TEXT_BASE;
    for (int i = 0; i < ASM_MAX_PASSES; i++) {
        c->data_base = base;
        base = run_pass(c);
        if (c->fatal)
            return c->fatal;
        if (i > 0 && !c->unstable && base == c->data_base)
            break;
    }
    c->data_base = base;
    c->report = 1;
    run_pass(c);
    if (c->fatal)
        return c->fatal;
    dvm_program *p = NULL;
    dvm_status st = c->nerrors ? DVM_OK : build_program(c, &p);
    if (st)
        return st;
    if (c->nerrors) {
        program_free(p);
        return status_set(DVM_ESYNTAX, "%d assembly error%s", c->nerrors,
                          c->nerrors == 1 ? "" : "s");
    }
    *out = p;
    return DVM_OK;
}

/* Frees everything c owns (not c itself). */
static void ctx_free(asm_ctx *c)
{
    reset_lists(c);
    dvm_free(c->segs);
    dvm_free(c->heap);
    dvm_free(c->chans);
    symtab_free(&c->syms);
    dvm_free(c->stack);
    lex_buf_free(&c->early_lex);
    lex_buf_free(&c->lex);
    asm_free_source(c);
}

/* Assembles path (src == NULL: read it) or src[0..len) named path. */
static dvm_status assemble(const char *path, const char *src, size_t len,
                           FILE *diag, dvm_program **out)
{
    asm_ctx c;
    memset(&c, 0, sizeof c);
    c.diag = diag;
    dvm_status st = asm_read_source(&c, path, src, len);
    if (st == DVM_OK)
        st = assemble_lines(&c, out);
    ctx_free(&c);
    return st;
}

dvm_status asm_assemble_file(const char *path, FILE *diag, dvm_program **out)
{
    assert(path && out);
    return assemble(path, NULL, 0, diag, out);
}

dvm_status asm_assemble_string(const char *name, const char *src, size_t len,
                               FILE *diag, dvm_program **out)
{
    assert(name && src && out);
    return assemble(name, src, len, diag, out);
}

/* Lookup over a finished program's symbols and the predefined ones. */
static dvm_status program_lookup(void *ud, const lex_token *tok, uint64_t *v)
{
    const dvm_program *p = ud;
    char name[256];
    if (expr_predefined(tok->text, tok->len, v))
        return DVM_OK;
    if (tok->len < sizeof name) {
        memcpy(name, tok->text, tok->len);
        name[tok->len] = 0;
        if (p && program_symbol(p, name, v) == DVM_OK)
            return DVM_OK;
    }
    return status_set(DVM_ENOENT, "undefined symbol '%.*s'", (int)tok->len,
                      tok->text);
}

dvm_status asm_eval_expr(const dvm_program *p, const char *expr,
                         uint64_t *out)
{
    lex_buf b = {0};
    uint64_t v;
    dvm_status st = lex_line(&b, expr, strlen(expr));
    if (st)
        return st;
    const lex_token *last = &b.t[b.n - 1];
    if (last->kind == TK_ERROR) {
        st = status_set(DVM_ESYNTAX, "bad expression '%s': %s", expr,
                        last->msg);
        goto out;
    }
    expr_cursor cur = {b.t, b.n, 0};
    if ((st = expr_eval(&cur, program_lookup, (void *)p, &v)))
        goto out;
    if (expr_peek(&cur)->kind != TK_EOL) {
        st = status_set(DVM_ESYNTAX, "bad expression '%s'", expr);
        goto out;
    }
    *out = v;
out:
    lex_buf_free(&b);
    return st;
}
