/*
 * expr.c -- assemble-time expressions (DISA.md 2.1).
 *
 * A small descent evaluator over the lexer's tokens:
 *
 *     expr  := term (('+' | '-') term)*
 *     term  := unary ('*' unary)*
 *     unary := ('-' | '+')* (INT | IDENT)
 *
 * All arithmetic is unsigned 64-bit and wraps, which is also two's
 * complement signed arithmetic, so `-8` and `0xfffffffffffffff8` are the
 * same value.  Float literals are not expressions; the callers that accept
 * them (immediates of :f operands, .double) recognise them before calling.
 *
 * Nothing recurses (there are no parentheses, and runs of prefix operators
 * are a loop), so hostile input such as 150,000 minus signs in a row costs
 * time linear in its length and no stack.
 */
#include "asm/expr.h"

#include <assert.h>
#include <string.h>

#include "isa/isa.h"

static const struct {
    const char *name;
    uint64_t value;
} predefined[] = {
    {"__sb", DISA_CTX_SB},         {"__ss", DISA_CTX_SS},
    {"__rid", DISA_CTX_RID},       {"__fi", DISA_CTX_FI},
    {"__attempt", DISA_CTX_ATTEMPT}, {"__out", DISA_OUT},
    {"__nrcomp", DISA_SYS_NRCOMP}, {"__nnode", DISA_SYS_NNODE},
};

int expr_predefined(const char *name, size_t len, uint64_t *v)
{
    for (size_t i = 0; i < sizeof predefined / sizeof predefined[0]; i++) {
        if (strlen(predefined[i].name) == len &&
            memcmp(predefined[i].name, name, len) == 0) {
            *v = predefined[i].value;
            return 1;
        }
    }
    return 0;
}

const lex_token *expr_peek(const expr_cursor *c)
{
    assert(c->i < c->n);
    return &c->t[c->i];
}

/* Moves past the current token unless it is the end of the line. */
static void advance(expr_cursor *c)
{
    if (c->t[c->i].kind != TK_EOL && c->t[c->i].kind != TK_ERROR)
        c->i++;
}

/* The failure for token t where an operand was expected. */
static dvm_status operand_error(const lex_token *t)
{
    if (t->kind == TK_FLOAT)
        return status_set(DVM_ESYNTAX, "float literal not allowed here");
    if (lex_is(t, '('))
        return status_set(DVM_ESYNTAX, "parentheses are not allowed in "
                                       "expressions");
    return status_set(DVM_ESYNTAX, "expected a number or a symbol");
}

/* unary := ('-' | '+')* (INT | IDENT); sets *v on success.  The prefix
 * operators are counted in a loop, not by recursion, so any number of them
 * costs no stack. */
static dvm_status eval_unary(expr_cursor *c, expr_lookup_fn lookup, void *ud,
                             uint64_t *v)
{
    const lex_token *t;
    int negate = 0;
    for (t = expr_peek(c); lex_is(t, '-') || lex_is(t, '+'); t = expr_peek(c)) {
        negate ^= t->punct == '-';
        advance(c);
    }
    uint64_t x;
    dvm_status st;
    if (t->kind == TK_INT) {
        advance(c);
        x = t->ival;
    } else if (t->kind == TK_IDENT) {
        if ((st = lookup(ud, t, &x)))
            return st;
        advance(c);
    } else {
        return operand_error(t);
    }
    *v = negate ? (uint64_t)0 - x : x;
    return DVM_OK;
}

/* term := unary ('*' unary)*; sets *v on success. */
static dvm_status eval_term(expr_cursor *c, expr_lookup_fn lookup, void *ud,
                            uint64_t *v)
{
    uint64_t x = 0, y = 0;
    dvm_status st = eval_unary(c, lookup, ud, &x);
    while (st == DVM_OK && lex_is(expr_peek(c), '*')) {
        advance(c);
        if ((st = eval_unary(c, lookup, ud, &y)) == DVM_OK)
            x *= y;
    }
    if (st == DVM_OK)
        *v = x;
    return st;
}

dvm_status expr_eval(expr_cursor *c, expr_lookup_fn lookup, void *ud,
                     uint64_t *v)
{
    uint64_t x = 0, y = 0;
    dvm_status st = eval_term(c, lookup, ud, &x);
    while (st == DVM_OK &&
           (lex_is(expr_peek(c), '+') || lex_is(expr_peek(c), '-'))) {
        int op = expr_peek(c)->punct;
        advance(c);
        if ((st = eval_term(c, lookup, ud, &y)) == DVM_OK)
            x = op == '+' ? x + y : x - y;
    }
    if (st == DVM_OK)
        *v = x;
    return st;
}
