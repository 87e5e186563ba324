/*
 * expr.h -- assemble-time expressions of DISA.md 2.1.
 *
 * An expression is numbers and symbols combined with + - * (usual
 * precedence, unary minus, no parentheses), evaluated in wrapping 64-bit
 * arithmetic.  The evaluator walks a token array through a cursor; symbols
 * are resolved by a callback so the assembler (two passes, forward
 * references) and `dvm run --dump` (the symbols of a program) share it.
 */
#ifndef DVM_ASM_EXPR_H
#define DVM_ASM_EXPR_H

#include <stdint.h>

#include "asm/lex.h"
#include "util/status.h"

/* A position in a token array that ends with TK_EOL.  On failure of a
 * parsing function, i is left at the offending token. */
typedef struct expr_cursor {
    const lex_token *t;
    size_t n, i;
} expr_cursor;

/* Resolves the identifier tok: returns DVM_OK and sets *v, or a failure
 * status with its message recorded (status_set). */
typedef dvm_status (*expr_lookup_fn)(void *ud, const lex_token *tok,
                                     uint64_t *v);

/* The token at the cursor. */
const lex_token *expr_peek(const expr_cursor *c);

/* Parses and evaluates an expression at the cursor, leaving it after the
 * expression.  Returns DVM_OK and sets *v, DVM_ESYNTAX with a message, or
 * whatever lookup returned. */
dvm_status expr_eval(expr_cursor *c, expr_lookup_fn lookup, void *ud,
                     uint64_t *v);

/* Value of a predefined symbol (DISA.md 5.3, 8.1, 8.3): 1 and *v if name is
 * one, else 0. */
int expr_predefined(const char *name, size_t len, uint64_t *v);

#endif
