/*
 * lex.h -- the line lexer of the DISA assembler.
 *
 * A source line becomes an array of tokens that always ends with TK_EOL.
 * Lexical errors do not fail the call: they end the array with a TK_ERROR
 * token that carries the column and a fixed message, so the caller reports
 * them with its own file and line.  Strings are kept as the raw text between
 * the quotes (already validated); lex_string_decode() expands the escapes.
 */
#ifndef DVM_ASM_LEX_H
#define DVM_ASM_LEX_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

enum lex_kind {
    TK_EOL,     /* end of line (or the start of a comment) */
    TK_ERROR,   /* a lexical error; msg says which */
    TK_LABEL,   /* "name:" at the start of a line; text is the name */
    TK_IDENT,   /* [A-Za-z_.][A-Za-z0-9_.]* */
    TK_INT,     /* integer or character literal: ival */
    TK_FLOAT,   /* decimal or hex float literal: fval */
    TK_STRING,  /* "..." : text/len is the raw inside of the quotes */
    TK_PUNCT    /* one of , ( ) $ : + - * = : punct */
};

typedef struct lex_token {
    int kind;
    int punct;          /* TK_PUNCT: the character */
    int col;            /* 1-based column of the first character */
    const char *text;   /* the token's source text (not terminated) */
    size_t len;
    uint64_t ival;      /* TK_INT */
    double fval;        /* TK_FLOAT */
    const char *msg;    /* TK_ERROR: static message */
} lex_token;

/* A reusable token array; zero-initialise, free with lex_buf_free. */
typedef struct lex_buf {
    lex_token *t;
    size_t n, cap;
} lex_buf;

/* Tokenises s[0..len) into b (replacing its contents).  Returns DVM_ENOMEM
 * or DVM_OK; the tokens point into s, which must outlive them. */
dvm_status lex_line(lex_buf *b, const char *s, size_t len);

/* Frees the array of b and zeroes it. */
void lex_buf_free(lex_buf *b);

/* Writes the bytes of a TK_STRING token (escapes expanded) to out, which
 * has room for at least t->len bytes; returns how many were written. */
size_t lex_string_decode(const lex_token *t, uint8_t *out);

/* True when the token is the punctuation character c. */
int lex_is(const lex_token *t, int c);

/* True when the token is an identifier spelled exactly s. */
int lex_ident_is(const lex_token *t, const char *s);

/* True when name[0..len) is a valid symbol. */
int lex_valid_symbol(const char *name, size_t len);

#endif
