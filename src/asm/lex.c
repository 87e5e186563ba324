/*
 * lex.c -- the line lexer of the DISA assembler.
 *
 * The assembler works line by line (DISA.md 7: a line holds an optional
 * label, then one instruction or directive), so the lexer turns exactly one
 * line into a token array.  Numbers are decoded here (decimal, 0x hex,
 * character literals with C escapes, decimal and hex floats); strings are
 * validated here and decoded on demand, so a lexical error is found once, at
 * its column, whatever later consumes the token.  A label is recognised by
 * position and spelling alone ("name:" followed by a blank or the end of the
 * line, before anything else on the line), which keeps `mov:z` an
 * instruction with an option.
 */
#include "asm/lex.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

/* Character classes of symbols: [A-Za-z_.] first, digits after. */
static int is_sym_start(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           c == '.';
}

static int is_sym_char(int c)
{
    return is_sym_start(c) || (c >= '0' && c <= '9');
}

/* The value of hex digit c, or -1. */
static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int lex_valid_symbol(const char *name, size_t len)
{
    if (len == 0 || !is_sym_start((unsigned char)name[0]))
        return 0;
    for (size_t i = 1; i < len; i++)
        if (!is_sym_char((unsigned char)name[i]))
            return 0;
    return 1;
}

int lex_is(const lex_token *t, int c)
{
    return t->kind == TK_PUNCT && t->punct == c;
}

int lex_ident_is(const lex_token *t, const char *s)
{
    size_t n = strlen(s);
    return t->kind == TK_IDENT && t->len == n && memcmp(t->text, s, n) == 0;
}

void lex_buf_free(lex_buf *b)
{
    dvm_free(b->t);
    memset(b, 0, sizeof *b);
}

/* Decodes the escape sequence after a backslash at s[i] (s[i] is the
 * character following '\').  Returns the characters consumed (>= 1) and
 * sets *val, or 0 for an invalid escape. */
static size_t scan_escape(const char *s, size_t len, size_t i, int *val)
{
    static const char from[] = "ntr0\\\"'abfve?";
    static const char to[] = "\n\t\r\0\\\"'\a\b\f\v\033?";
    if (i >= len)
        return 0;
    int c = (unsigned char)s[i];
    if (c == 'x') {
        int v = 0;
        size_t k = i + 1;
        while (k < len && k < i + 3 && hex_value((unsigned char)s[k]) >= 0)
            v = v * 16 + hex_value((unsigned char)s[k++]);
        if (k == i + 1)
            return 0;
        *val = v;
        return k - i;
    }
    if (c >= '0' && c <= '7') {
        int v = 0;
        size_t k = i;
        while (k < len && k < i + 3 && s[k] >= '0' && s[k] <= '7')
            v = v * 8 + (s[k++] - '0');
        if (v > 255)
            return 0;
        *val = v;
        return k - i;
    }
    const char *p = c ? memchr(from, c, sizeof from - 1) : NULL;
    if (!p)
        return 0;
    *val = (unsigned char)to[p - from];
    return 1;
}

/* Scans the body of a string starting after the opening quote.  Returns the
 * index of the closing quote, or len when unterminated; sets *bad to the
 * index of an invalid escape (or len when none). */
static size_t scan_string(const char *s, size_t len, size_t i, size_t *bad)
{
    *bad = len;
    while (i < len && s[i] != '"') {
        if (s[i] == '\\') {
            int v;
            size_t k = scan_escape(s, len, i + 1, &v);
            if (k == 0 && *bad == len)
                *bad = i;
            i += 1 + (k ? k : 1);
        } else {
            i++;
        }
    }
    return i < len ? i : len;
}

size_t lex_string_decode(const lex_token *t, uint8_t *out)
{
    assert(t->kind == TK_STRING);
    size_t n = 0;
    for (size_t i = 0; i < t->len;) {
        int v = (unsigned char)t->text[i];
        size_t k = 1;
        if (v == '\\') {
            k = 1 + scan_escape(t->text, t->len, i + 1, &v);
            assert(k > 1);
        }
        out[n++] = (uint8_t)v;
        i += k;
    }
    return n;
}

/* Appends a token to b; returns it, or NULL on ENOMEM. */
static lex_token *push(lex_buf *b, int kind, const char *s, size_t start,
                       size_t end)
{
    lex_token *t = dvm_grow(b->t, &b->cap, b->n + 1, sizeof *t);
    if (!t)
        return NULL;
    b->t = t;
    t = &b->t[b->n++];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->col = (int)start + 1;
    t->text = s + start;
    t->len = end - start;
    return t;
}

/* Decimal or hex integer at s[i]: returns the end index, or 0 when there
 * are no digits or (setting *ovf) the value does not fit in 64 bits. */
static size_t scan_int(const char *s, size_t len, size_t i, uint64_t *v,
                       int *ovf)
{
    int base = 10;
    uint64_t x = 0;
    if (i + 1 < len && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        base = 16;
        i += 2;
    }
    size_t start = i;
    for (; i < len; i++) {
        int d = hex_value((unsigned char)s[i]);
        if (d < 0 || d >= base)
            break;
        if (x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) {
            *ovf = 1;
            return 0;
        }
        x = x * (uint64_t)base + (uint64_t)d;
    }
    if (i == start)
        return 0;
    *v = x;
    return i;
}

/* True when the number at s[start..i) continues as a float literal. */
static int float_follows(const char *s, size_t len, size_t start, size_t i)
{
    int hex = i > start + 1 && (s[start + 1] == 'x' || s[start + 1] == 'X');
    if (i >= len)
        return 0;
    if (s[i] == '.')
        return 1;
    if (hex)
        return s[i] == 'p' || s[i] == 'P';
    return s[i] == 'e' || s[i] == 'E';
}

/* Lexes a number starting at s[i]; returns the end index. */
static size_t lex_number(lex_buf *b, const char *s, size_t len, size_t i,
                         dvm_status *st)
{
    uint64_t v = 0;
    int ovf = 0;
    size_t e = scan_int(s, len, i, &v, &ovf);
    lex_token *t;
    if (e && float_follows(s, len, i, e)) {
        char tmp[128];
        size_t n = len - i < sizeof tmp - 1 ? len - i : sizeof tmp - 1;
        memcpy(tmp, s + i, n);
        tmp[n] = 0;
        char *end;
        double d = strtod(tmp, &end);
        e = i + (size_t)(end - tmp);
        if (!(t = push(b, TK_FLOAT, s, i, e)))
            goto err_nomem;
        t->fval = d;
    } else {
        size_t stop = e ? e : i + 1;
        while (stop < len && is_sym_char((unsigned char)s[stop]))
            stop++;
        if (!(t = push(b, TK_INT, s, i, stop)))
            goto err_nomem;
        t->ival = v;
        if (!e || stop != e) {
            t->kind = TK_ERROR;
            t->msg = ovf ? "number too large" : "malformed number";
        }
        e = stop;
    }
    if (e < len && is_sym_char((unsigned char)s[e]) && t->kind == TK_FLOAT) {
        t->kind = TK_ERROR;
        t->msg = "malformed number";
    }
    return e;
err_nomem:
    *st = DVM_ENOMEM;
    return len;
}

/* Lexes a character literal at s[i] (the opening quote). */
static size_t lex_char(lex_buf *b, const char *s, size_t len, size_t i,
                       dvm_status *st)
{
    size_t k = i + 1;
    int v = -1;
    if (k < len && s[k] == '\\') {
        size_t n = scan_escape(s, len, k + 1, &v);
        k = n ? k + 1 + n : len;
    } else if (k < len && s[k] != '\'') {
        v = (unsigned char)s[k++];
    }
    int ok = v >= 0 && k < len && s[k] == '\'';
    lex_token *t = push(b, ok ? TK_INT : TK_ERROR, s, i, ok ? k + 1 : i + 1);
    if (!t) {
        *st = DVM_ENOMEM;
        return len;
    }
    t->ival = ok ? (uint64_t)v : 0;
    t->msg = "malformed character literal";
    return ok ? k + 1 : len;
}

/* Lexes a string at s[i] (the opening quote). */
static size_t lex_str(lex_buf *b, const char *s, size_t len, size_t i,
                      dvm_status *st)
{
    size_t bad;
    size_t close = scan_string(s, len, i + 1, &bad);
    lex_token *t;
    if (close == len || bad != len) {
        if (!(t = push(b, TK_ERROR, s, bad != len ? bad : i, len)))
            goto err_nomem;
        t->msg = close == len ? "unterminated string" : "invalid escape";
        return len;
    }
    if (!(t = push(b, TK_STRING, s, i + 1, close)))
        goto err_nomem;
    t->col = (int)i + 1;
    return close + 1;
err_nomem:
    *st = DVM_ENOMEM;
    return len;
}

/* True when only labels precede the token about to be pushed. */
static int at_line_start(const lex_buf *b)
{
    for (size_t k = 0; k < b->n; k++)
        if (b->t[k].kind != TK_LABEL)
            return 0;
    return 1;
}

/* Lexes an identifier (or a label) at s[i]. */
static size_t lex_ident(lex_buf *b, const char *s, size_t len, size_t i,
                        dvm_status *st)
{
    size_t e = i;
    while (e < len && is_sym_char((unsigned char)s[e]))
        e++;
    int label = e < len && s[e] == ':' &&
                (e + 1 == len || s[e + 1] == ' ' || s[e + 1] == '\t' ||
                 s[e + 1] == '#' || s[e + 1] == '\r') &&
                at_line_start(b);
    if (!push(b, label ? TK_LABEL : TK_IDENT, s, i, e)) {
        *st = DVM_ENOMEM;
        return len;
    }
    return label ? e + 1 : e;
}

/* Lexes the token at s[i] (not a blank); returns the next index. */
static size_t lex_one(lex_buf *b, const char *s, size_t len, size_t i,
                      dvm_status *st)
{
    int c = (unsigned char)s[i];
    if (c >= '0' && c <= '9')
        return lex_number(b, s, len, i, st);
    if (is_sym_start(c))
        return lex_ident(b, s, len, i, st);
    if (c == '\'')
        return lex_char(b, s, len, i, st);
    if (c == '"')
        return lex_str(b, s, len, i, st);
    lex_token *t;
    if (c && strchr(",()$:+-*=", c)) {
        if (!(t = push(b, TK_PUNCT, s, i, i + 1)))
            goto err_nomem;
        t->punct = c;
        return i + 1;
    }
    if (!(t = push(b, TK_ERROR, s, i, i + 1)))
        goto err_nomem;
    t->msg = "unexpected character";
    return len;
err_nomem:
    *st = DVM_ENOMEM;
    return len;
}

dvm_status lex_line(lex_buf *b, const char *s, size_t len)
{
    dvm_status st = DVM_OK;
    size_t i = 0;
    b->n = 0;
    while (i < len && st == DVM_OK) {
        int c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            i++;
            continue;
        }
        if (c == '#')
            break;
        i = lex_one(b, s, len, i, &st);
        if (b->n && b->t[b->n - 1].kind == TK_ERROR)
            break;
    }
    if (st)
        return status_set(st, "out of memory");
    if (b->n && b->t[b->n - 1].kind == TK_ERROR)
        return DVM_OK;
    if (!push(b, TK_EOL, s, i < len ? i : len, i < len ? i : len))
        return status_set(DVM_ENOMEM, "out of memory");
    return DVM_OK;
}
