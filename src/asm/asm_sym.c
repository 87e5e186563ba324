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
    if (s->pass != c->pass - 1 || s->value != v) {
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

dvm_status asm_lookup(void *ctx, const lex_token *tok, uint64_t *v)
{
    asm_ctx *c = ctx;
    if (expr_predefined(tok->text, tok->len, v))
        return DVM_OK;
    asm_sym *s = symtab_find(&c->syms, tok->text, tok->len);
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
