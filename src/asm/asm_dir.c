/*
 * asm_dir.c -- the directives of DISA.md 7.
 *
 * One table maps each directive name to its handler; a handler gets the
 * cursor just after the name and either finishes the line or reports the
 * first thing wrong with it (and the line is dropped).  Handlers run in
 * every pass with the same effect on the layout, so the silent passes and
 * the final one agree; only the final pass reports and stores bytes.
 */
#include <assert.h>
#include <string.h>

#include "asm/asm_int.h"
#include "util/alloc.h"

typedef void (*dir_fn)(asm_ctx *c, expr_cursor *cur, int col, int arg);

/* Parses `E` as the whole rest of the line. */
static dvm_status one_expr(asm_ctx *c, expr_cursor *cur, uint64_t *v)
{
    uint64_t x;
    if (asm_expr(c, cur, &x) || asm_expect_eol(c, cur))
        return DVM_ESYNTAX;
    *v = x;
    return DVM_OK;
}

/* True when the cursor is at the end of a list (EOL), else consumes ','. */
static int list_next(asm_ctx *c, expr_cursor *cur, int *stop)
{
    if (expr_peek(cur)->kind == TK_EOL)
        return 0;
    if (asm_expect(c, cur, ',', "',' or the end of the line")) {
        *stop = 1;
        return 0;
    }
    return 1;
}

/* .text / .data: switch to section sec, keeping its location counter. */
static void dir_section(asm_ctx *c, expr_cursor *cur, int col, int sec)
{
    (void)col;
    if (asm_expect_eol(c, cur) == DVM_OK)
        c->sec = sec;
}

/* .org E: move the location counter forward (a new segment starts at the
 * next byte emitted); moving back or out of the SR is an error. */
static void dir_org(asm_ctx *c, expr_cursor *cur, int col, int arg)
{
    uint64_t v, loc = c->loc[c->sec];
    (void)arg;
    if (one_expr(c, cur, &v))
        return;
    if (v < loc) {
        asm_error(c, col, "'.org 0x%llx' would move back (the location is "
                  "0x%llx)", (unsigned long long)v, (unsigned long long)loc);
        return;
    }
    if (v > ASM_SR_END) {
        asm_error(c, col, "'.org 0x%llx' is past the end of the shared "
                  "region (0x%llx)", (unsigned long long)v,
                  (unsigned long long)ASM_SR_END);
        return;
    }
    c->loc[c->sec] = v;
}

/* .align N: pad with zero bytes to a multiple of N. */
static void dir_align(asm_ctx *c, expr_cursor *cur, int col, int arg)
{
    uint64_t n;
    (void)arg;
    if (one_expr(c, cur, &n))
        return;
    if (n == 0 || n > ASM_SR_END) {
        asm_error(c, col, "bad alignment %llu", (unsigned long long)n);
        return;
    }
    uint64_t pad = (n - c->loc[c->sec] % n) % n;
    asm_emit(c, NULL, pad, 0, col);
}

/* .zero N: N zero bytes. */
static void dir_zero(asm_ctx *c, expr_cursor *cur, int col, int arg)
{
    uint64_t n;
    (void)arg;
    if (one_expr(c, cur, &n) == DVM_OK)
        asm_emit(c, NULL, n, 0, col);
}

/* True when v fits in `bytes` bytes as a signed or an unsigned value. */
static int fits(uint64_t v, int bytes)
{
    if (bytes == 8)
        return 1;
    uint64_t lim = 1ULL << (8 * bytes);
    return v < lim ||
           ((int64_t)v < 0 && (int64_t)v >= -(int64_t)(lim / 2));
}

/* .byte .word .dword .quad: arg is the width in bytes. */
static void dir_int(asm_ctx *c, expr_cursor *cur, int col, int bytes)
{
    int stop = 0;
    (void)col;
    do {
        const lex_token *t = expr_peek(cur);
        uint64_t v;
        uint8_t b[8];
        if (asm_expr(c, cur, &v))
            return;
        if (!fits(v, bytes)) {
            asm_error(c, t->col, "value 0x%llx does not fit in %d byte%s",
                      (unsigned long long)v, bytes, bytes > 1 ? "s" : "");
            return;
        }
        for (int i = 0; i < bytes; i++)
            b[i] = (uint8_t)(v >> (8 * i));
        if (asm_emit(c, b, (size_t)bytes, 0, t->col))
            return;
    } while (list_next(c, cur, &stop));
}

/* .double F, ...: binary64 values ([sign] float literal or integer
 * expression converted by value). */
static void dir_double(asm_ctx *c, expr_cursor *cur, int col, int arg)
{
    int stop = 0;
    (void)col;
    (void)arg;
    do {
        const lex_token *t = expr_peek(cur), *n = &cur->t[cur->i + 1];
        double d;
        uint64_t v, u;
        int neg = lex_is(t, '-') && n->kind == TK_FLOAT;
        if (t->kind == TK_FLOAT || neg || (lex_is(t, '+') &&
                                           n->kind == TK_FLOAT)) {
            d = t->kind == TK_FLOAT ? t->fval : neg ? -n->fval : n->fval;
            cur->i += t->kind == TK_FLOAT ? 1 : 2;
        } else if (asm_expr(c, cur, &v)) {
            return;
        } else {
            d = (double)(int64_t)v;
        }
        uint8_t b[8];
        memcpy(&u, &d, sizeof u);
        for (int i = 0; i < 8; i++)
            b[i] = (uint8_t)(u >> (8 * i));
        if (asm_emit(c, b, 8, 0, t->col))
            return;
    } while (list_next(c, cur, &stop));
}

/* .ascii / .asciz: arg is 1 for the terminating NUL. */
static void dir_ascii(asm_ctx *c, expr_cursor *cur, int col, int nul)
{
    int stop = 0;
    (void)col;
    do {
        const lex_token *t = expr_peek(cur);
        if (t->kind != TK_STRING) {
            asm_error(c, t->col, "expected a string");
            return;
        }
        uint8_t *b = dvm_malloc(t->len + 1);
        if (!b) {
            c->fatal = status_set(DVM_ENOMEM, "out of memory");
            return;
        }
        size_t n = lex_string_decode(t, b);
        if (nul)
            b[n++] = 0;
        dvm_status st = asm_emit(c, b, n, 0, t->col);
        dvm_free(b);
        if (st)
            return;
        cur->i++;
    } while (list_next(c, cur, &stop));
}

/* Expects an identifier at the cursor and moves past it. */
static const lex_token *name_arg(asm_ctx *c, expr_cursor *cur)
{
    const lex_token *t = expr_peek(cur);
    if (t->kind != TK_IDENT) {
        asm_error(c, t->col, "expected a name");
        return NULL;
    }
    if (t->len > ASM_MAX_NAME) {
        asm_error(c, t->col, "name longer than %d characters", ASM_MAX_NAME);
        return NULL;
    }
    cur->i++;
    return t;
}

/* .equ NAME, E: a constant symbol. */
static void dir_equ(asm_ctx *c, expr_cursor *cur, int col, int arg)
{
    uint64_t v;
    (void)col;
    (void)arg;
    const lex_token *name = name_arg(c, cur);
    if (!name || asm_expect(c, cur, ',', "','"))
        return;
    c->defining = symtab_find(&c->syms, name->text, name->len);
    dvm_status st = one_expr(c, cur, &v);
    c->defining = NULL;
    if (st == DVM_OK)
        asm_define_constant(c, name, v);
}

/* .entry E: where the first runner starts (once). */
static void dir_entry(asm_ctx *c, expr_cursor *cur, int col, int arg)
{
    uint64_t v;
    (void)arg;
    if (one_expr(c, cur, &v))
        return;
    if (c->have_entry) {
        asm_error(c, col, "'.entry' given twice");
        return;
    }
    c->have_entry = 1;
    c->entry = v;
}

/* Parses `E, E` as the whole rest of the line. */
static dvm_status two_exprs(asm_ctx *c, expr_cursor *cur, uint64_t *a,
                            uint64_t *b)
{
    uint64_t x, y;
    if (asm_expr(c, cur, &x) || asm_expect(c, cur, ',', "','") ||
        one_expr(c, cur, &y))
        return DVM_ESYNTAX;
    *a = x;
    *b = y;
    return DVM_OK;
}

/* .heap BASE, LEN: a heap range of the first runner, inside the SR. */
static void dir_heap(asm_ctx *c, expr_cursor *cur, int col, int arg)
{
    uint64_t base, len;
    (void)arg;
    if (two_exprs(c, cur, &base, &len))
        return;
    if (len == 0 || base < DISA_RB || base >= DISA_ADDR_LIMIT ||
        len > DISA_ADDR_LIMIT - base) {
        asm_error(c, col, "heap range 0x%llx+0x%llx is not a non-empty "
                  "range of the shared region", (unsigned long long)base,
                  (unsigned long long)len);
        return;
    }
    prog_range *h = dvm_grow(c->heap, &c->heapcap, c->nheap + 1, sizeof *h);
    if (!h) {
        c->fatal = status_set(DVM_ENOMEM, "out of memory");
        return;
    }
    c->heap = h;
    c->heap[c->nheap++] = (prog_range){base, len};
}

/* Checks the name, address and direction of a channel; 0 when fine. */
static int bad_channel(asm_ctx *c, const lex_token *name, uint64_t addr,
                       int dir, int col)
{
    if (name->len == 6 && !memcmp(name->text, "stdout", 6)) {
        asm_error(c, name->col, "channel name 'stdout' is reserved");
        return 1;
    }
    for (size_t i = 0; i < c->nchans; i++) {
        if (strlen(c->chans[i].name) == name->len &&
            !memcmp(c->chans[i].name, name->text, name->len)) {
            asm_error(c, name->col, "channel '%s' is already declared",
                      c->chans[i].name);
            return 1;
        }
    }
    if (dir == PROG_CHAN_OUT && addr > DISA_OUT - 8) {
        asm_error(c, col, "output channel address 0x%llx is not in the "
                  "private region below 0x%llx (with room for its count)",
                  (unsigned long long)addr, (unsigned long long)DISA_OUT);
        return 1;
    }
    if (dir == PROG_CHAN_IN &&
        (addr < DISA_INPUT_BASE || addr > DISA_INPUT_LAST)) {
        asm_error(c, col, "input channel address 0x%llx is not in the "
                  "input windows [0x%llx, 0x%llx] (its bytes, from ADDR+8 "
                  "to the system page, need room for one)",
                  (unsigned long long)addr,
                  (unsigned long long)DISA_INPUT_BASE,
                  (unsigned long long)DISA_INPUT_LAST);
        return 1;
    }
    return 0;
}

/* .channel NAME, ADDR, in|out: declares an I/O channel (DISA.md 8). */
static void dir_channel(asm_ctx *c, expr_cursor *cur, int col, int arg)
{
    uint64_t addr;
    (void)arg;
    const lex_token *name = name_arg(c, cur), *d;
    if (!name || asm_expect(c, cur, ',', "','") || asm_expr(c, cur, &addr) ||
        asm_expect(c, cur, ',', "','"))
        return;
    d = expr_peek(cur);
    int dir = lex_ident_is(d, "in") ? PROG_CHAN_IN
              : lex_ident_is(d, "out") ? PROG_CHAN_OUT : -1;
    if (dir < 0) {
        asm_error(c, d->col, "expected 'in' or 'out'");
        return;
    }
    cur->i++;
    if (asm_expect_eol(c, cur) || bad_channel(c, name, addr, dir, col))
        return;
    prog_channel *ch = dvm_grow(c->chans, &c->chancap, c->nchans + 1,
                                sizeof *ch);
    if (!ch || !(ch[c->nchans].name = dvm_strndup(name->text, name->len))) {
        if (ch)
            c->chans = ch;
        c->fatal = status_set(DVM_ENOMEM, "out of memory");
        return;
    }
    c->chans = ch;
    ch[c->nchans].addr = addr;
    ch[c->nchans++].dir = dir;
}

/* .include was expanded while reading; here only its syntax is checked. */
static void dir_include(asm_ctx *c, expr_cursor *cur, int col, int arg)
{
    (void)col;
    (void)arg;
    if (expr_peek(cur)->kind != TK_STRING) {
        asm_error(c, expr_peek(cur)->col, "expected a file name string");
        return;
    }
    cur->i++;
    asm_expect_eol(c, cur);
}

static const struct {
    const char *name;
    dir_fn fn;
    int arg;
} directives[] = {
    {".text", dir_section, SEC_TEXT}, {".data", dir_section, SEC_DATA},
    {".org", dir_org, 0},             {".align", dir_align, 0},
    {".byte", dir_int, 1},            {".word", dir_int, 2},
    {".dword", dir_int, 4},           {".quad", dir_int, 8},
    {".double", dir_double, 0},       {".zero", dir_zero, 0},
    {".ascii", dir_ascii, 0},         {".asciz", dir_ascii, 1},
    {".equ", dir_equ, 0},             {".entry", dir_entry, 0},
    {".heap", dir_heap, 0},           {".channel", dir_channel, 0},
    {".include", dir_include, 0},
};

void asm_directive(asm_ctx *c, expr_cursor *cur)
{
    const lex_token *t = expr_peek(cur);
    for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++) {
        if (lex_ident_is(t, directives[i].name)) {
            cur->i++;
            directives[i].fn(c, cur, t->col, directives[i].arg);
            return;
        }
    }
    asm_error(c, t->col, "unknown directive '%.*s'", (int)t->len, t->text);
}
