/*
 * asm_sym.c -- the assembler's symbol table.
 *
 * Open addressing with linear probing, keyed by name, never shrinking (a
 * program's symbols are only added).  A symbol records the last pass that
 * defined it; its value field holds that definition.  So during pass p a
 * symbol with pass == p was defined earlier in this pass, one with
 * pass == p - 1 is a forward reference answered by the previous pass, and
 * anything older is undefined.  Definitions that change a value mark the
 * pass unstable, which makes the driver run another pass.
 *
 * Constants (`NAME = E`, `.equ NAME, E`) remember their line.  From the
 * second pass on, a constant used before its line is resolved at once
 * through that line instead of taking the previous pass's value: its
 * expression is evaluated on the resolver's behalf, and when that needs
 * another constant not yet resolved, the evaluation stops (DVM_EAGAIN),
 * the missing constant goes on an explicit stack and is resolved first.
 * So a chain of forward definitions of any length settles in one pass, in
 * dependency order, with no recursion (a chain of a million links costs
 * no stack), and a constant met again while it is on the stack, or while
 * its own line is being assembled, is a circular definition.  Labels are
 * not resolved early: they move with the layout, which the passes settle.
 */
#include <assert.h>
#include <string.h>

#include "asm/asm_int.h"
#include "util/alloc.h"

/* FNV-1a of name[0..len). */
static uint64_t hash_name(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

void symtab_free(asm_symtab *t)
{
    for (size_t i = 0; i < t->cap; i++)
        dvm_free(t->slots[i].name);
    dvm_free(t->slots);
    memset(t, 0, sizeof *t);
}

/* The slot of name, or the empty slot where it would go (cap > 0). */
static asm_sym *probe(asm_sym *slots, size_t cap, const char *name,
                      size_t len)
{
    assert(cap && (cap & (cap - 1)) == 0);
    size_t i = (size_t)hash_name(name, len) & (cap - 1);
    for (;; i = (i + 1) & (cap - 1)) {
        asm_sym *s = &slots[i];
        if (!s->name ||
            (strlen(s->name) == len && memcmp(s->name, name, len) == 0))
            return s;
    }
}

asm_sym *symtab_find(const asm_symtab *t, const char *name, size_t len)
{
    if (!t->cap)
        return NULL;
    asm_sym *s = probe(t->slots, t->cap, name, len);
    return s->name ? s : NULL;
}

/* Doubles the table; returns DVM_OK or DVM_ENOMEM (table unchanged). */
static dvm_status rehash(asm_symtab *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 64;
    asm_sym *ns = dvm_calloc(ncap, sizeof *ns);
    if (!ns)
        return DVM_ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        asm_sym *o = &t->slots[i];
        if (o->name)
            *probe(ns, ncap, o->name, strlen(o->name)) = *o;
    }
    dvm_free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return DVM_OK;
}

asm_sym *symtab_intern(asm_symtab *t, const char *name, size_t len)
{
    if ((t->n + 1) * 2 > t->cap && rehash(t))
        return NULL;
    asm_sym *s = probe(t->slots, t->cap, name, len);
    if (!s->name) {
        if (!(s->name = dvm_strndup(name, len)))
            return NULL;
        t->n++;
    }
    return s;
}

dvm_status asm_define(asm_ctx *c, const lex_token *tok, uint64_t v)
{
    uint64_t pre;
    if (expr_predefined(tok->text, tok->len, &pre)) {
        asm_error(c, tok->col, "'%.*s' is predefined and cannot be redefined",
                  (int)tok->len, tok->text);
        return DVM_ESYNTAX;
    }
    if (tok->len > ASM_MAX_NAME) {
        asm_error(c, tok->col, "symbol name longer than %d characters",
                  ASM_MAX_NAME);
        return DVM_ESYNTAX;
    }
    asm_sym *s = symtab_intern(&c->syms, tok->text, tok->len);
    if (!s) {
        c->fatal = DVM_ENOMEM;
        return status_set(DVM_ENOMEM, "out of memory");
    }
    if (s->pass == c->pass) {
        asm_error(c, tok->col, "symbol '%s' is already defined", s->name);
        return DVM_ESYNTAX;
    }
    int early_differs = s->early_pass == c->pass && s->early_value != v;
    if (s->pass != c->pass - 1 || s->value != v || early_differs) {
        if (c->report && c->nerrors == 0) {
            asm_error(c, tok->col, "the value of '%s' does not settle "
                      "(circular definition)", s->name);
            return DVM_ESYNTAX;
        }
        c->unstable = 1;
    }
    s->value = v;
    s->pass = c->pass;
    return DVM_OK;
}

dvm_status asm_define_constant(asm_ctx *c, const lex_token *tok, uint64_t v)
{
    dvm_status st = asm_define(c, tok, v);
    if (st == DVM_OK)
        symtab_find(&c->syms, tok->text, tok->len)->def_line =
            (uint32_t)c->cur + 1;
    return st;
}

/* Evaluates the expression of constant s's line into *v, on the resolver's
 * behalf: DVM_EAGAIN with c->missing set when it needs an unresolved
 * constant, another failure when the line is not a well-formed
 * definition. */
static dvm_status eval_constant_line(asm_ctx *c, const asm_sym *s,
                                     uint64_t *v)
{
    const asm_line *l = &c->lines[s->def_line - 1];
    dvm_status st = lex_line(&c->early_lex, l->text, l->len);
    if (st)
        return c->fatal = st;
    expr_cursor cur = {c->early_lex.t, c->early_lex.n, 0};
    while (expr_peek(&cur)->kind == TK_LABEL)
        cur.i++;
    const lex_token *t = expr_peek(&cur);
    if (t->kind == TK_IDENT && lex_ident_is(t, ".equ"))
        cur.i += 3;                 /* .equ NAME , E */
    else
        cur.i += 2;                 /* NAME = E */
    if (cur.i >= cur.n)
        return status_set(DVM_ESYNTAX, "not a definition");
    c->resolving = 1;
    st = expr_eval(&cur, asm_lookup, c, v);
    c->resolving = 0;
    if (st == DVM_OK && expr_peek(&cur)->kind != TK_EOL)
        st = status_set(DVM_ESYNTAX, "not a definition");
    return st;
}

/* Pushes s on the resolver's stack; DVM_ENOMEM is fatal. */
static dvm_status push(asm_ctx *c, asm_sym *s)
{
    asm_sym **n = dvm_grow(c->stack, &c->stackcap, c->nstack + 1, sizeof *n);
    if (!n)
        return c->fatal = status_set(DVM_ENOMEM, "out of memory");
    c->stack = n;
    c->stack[c->nstack++] = s;
    s->visiting = c->pass;
    return DVM_OK;
}

/* Empties the stack (after a failure). */
static void unwind(asm_ctx *c)
{
    while (c->nstack)
        c->stack[--c->nstack]->visiting = 0;
}

/* Resolves constant s (and what it needs, in dependency order) in the
 * current pass: DVM_OK with s->early_value set, DVM_ESYNTAX for a cycle,
 * or another failure that leaves s to the previous pass's value. */
static dvm_status resolve(asm_ctx *c, asm_sym *s)
{
    assert(!c->resolving && c->nstack == 0);
    dvm_status st = push(c, s);
    while (st == DVM_OK && c->nstack) {
        asm_sym *top = c->stack[c->nstack - 1];
        uint64_t v;
        c->missing = NULL;
        st = eval_constant_line(c, top, &v);
        if (st == DVM_OK) {
            top->early_value = v;
            top->early_pass = c->pass;
            top->visiting = 0;
            c->nstack--;
        } else if (st == DVM_EAGAIN && c->missing->visiting != c->pass &&
                   c->missing != c->defining) {
            st = push(c, c->missing);
        } else if (st == DVM_EAGAIN) {
            st = status_set(DVM_ESYNTAX, "circular definition: '%s' "
                            "depends on itself", c->missing->name);
        }
    }
    unwind(c);
    return st;
}

/* A constant that is not resolved in this pass yet, but can be. */
static int resolvable(const asm_ctx *c, const asm_sym *s)
{
    return s->def_line && c->pass >= 2 && s->pass != c->pass &&
           s->early_pass != c->pass;
}

dvm_status asm_lookup(void *ctx, const lex_token *tok, uint64_t *v)
{
    asm_ctx *c = ctx;
    if (expr_predefined(tok->text, tok->len, v))
        return DVM_OK;
    asm_sym *s = symtab_find(&c->syms, tok->text, tok->len);
    if (s && s->early_pass == c->pass && s->pass != c->pass) {
        *v = s->early_value;
        return DVM_OK;
    }
    if (s && resolvable(c, s)) {
        if (c->resolving) {
            c->missing = s;
            return status_set(DVM_EAGAIN, "'%s' is not resolved yet",
                              s->name);
        }
        dvm_status st = resolve(c, s);
        if (st == DVM_OK) {
            *v = s->early_value;
            return DVM_OK;
        }
        if (st == DVM_ESYNTAX || c->fatal)
            return st;
    }
    if (s && s->pass >= c->pass - 1) {
        *v = s->value;
        return DVM_OK;
    }
    if (!c->report) {           /* reported, if still undefined, at the end */
        *v = 0;
        return DVM_OK;
    }
    return status_set(DVM_ENOENT, "undefined symbol '%.*s'", (int)tok->len,
                      tok->text);
}
