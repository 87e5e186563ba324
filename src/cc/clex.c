/*
 * clex.c -- the c0 lexer (C0.md section 2): a file's bytes to a list of
 * preprocessing tokens, each with its file, line and column (bytes, from
 * 1).  Numbers stay preprocessing numbers until after preprocessing
 * (clex_number types them by C's rules); identifiers become keywords then
 * too (clex_convert_keywords), so macros may be named like keywords.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cc/cc_int.h"

static const char *const keywords[] = {
    "break", "case", "char", "const", "continue", "default", "do", "double",
    "else", "enum", "extern", "for", "goto", "if", "int", "long", "register",
    "return", "short", "signed", "sizeof", "static", "struct", "switch",
    "typedef", "union", "unsigned", "void", "volatile", "while", "auto",
    "inline", "restrict", "bool", "_Bool", "true", "false", "runner",
    "commit", "abort", "commitd", "abortd", "standalone", "asm", "float",
    "__asm__", NULL};

static const char *const puncts[] = {
    "<<=", ">>=", "...", "==", "!=", "<=", ">=", "->", "++", "--", "<<",
    ">>", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "&&", "||", "##",
    NULL};

typedef struct lexer {
    cc_ctx *c;
    const cfile *f;
    const char *p, *end;
    int line, col;
    bool bol, space;
} lexer;

bool clex_is(const token *t, const char *s)
{
    return (int)strlen(s) == t->len && !memcmp(t->loc, s, (size_t)t->len) &&
           t->kind != TK_STR && t->kind != TK_CHAR;
}

token *clex_copy(cc_ctx *c, const token *t)
{
    token *n = carena_alloc(c, sizeof *n);
    *n = *t;
    n->next = NULL;
    return n;
}

static void advance(lexer *l, size_t n)
{
    for (size_t i = 0; i < n && l->p < l->end; i++, l->p++) {
        if (*l->p == '\n') {
            l->line++;
            l->col = 1;
        } else {
            l->col++;
        }
    }
}

static _Noreturn void lex_error(lexer *l, const char *msg)
{
    token t = {.file = l->f, .line = l->line, .col = l->col};
    cdiag_error(l->c, &t, "%s", msg);
}

/* Skips blanks and comments; notes line starts and spacing. */
static void skip_space(lexer *l)
{
    while (l->p < l->end) {
        char ch = *l->p;
        if (ch == '\n') {
            l->bol = true;
            l->space = false;
            advance(l, 1);
        } else if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' ||
                   ch == '\v') {
            l->space = true;
            advance(l, 1);
        } else if (ch == '\\' && l->p + 1 < l->end && l->p[1] == '\n') {
            advance(l, 2);
        } else if (ch == '/' && l->p + 1 < l->end && l->p[1] == '/') {
            while (l->p < l->end && *l->p != '\n')
                advance(l, 1);
            l->space = true;
        } else if (ch == '/' && l->p + 1 < l->end && l->p[1] == '*') {
            const char *q = NULL;
            for (const char *s = l->p + 2; s + 1 < l->end; s++)
                if (s[0] == '*' && s[1] == '/') {
                    q = s;
                    break;
                }
            if (!q)
                lex_error(l, "unterminated comment");
            advance(l, (size_t)(q + 2 - l->p));
            l->space = true;
        } else {
            return;
        }
    }
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Reads one (possibly escaped) character of a literal at *pp. */
static int read_char(lexer *l, const char **pp)
{
    const char *p = *pp;
    if (*p != '\\') {
        *pp = p + 1;
        return (unsigned char)*p;
    }
    p++;
    if (p >= l->end)
        lex_error(l, "unterminated literal");
    int v;
    if (*p == 'x') {
        p++;
        if (p >= l->end || hexval((unsigned char)*p) < 0)
            lex_error(l, "'\\x' needs hexadecimal digits");
        v = 0;
        while (p < l->end && hexval((unsigned char)*p) >= 0) {
            v = v * 16 + hexval((unsigned char)*p++);
            if (v > 255)
                lex_error(l, "hexadecimal escape out of range");
        }
    } else if (*p >= '0' && *p <= '7') {
        v = 0;
        for (int i = 0; i < 3 && p < l->end && *p >= '0' && *p <= '7'; i++)
            v = v * 8 + (*p++ - '0');
        if (v > 255)
            lex_error(l, "octal escape out of range");
    } else {
        static const char from[] = "ntr\\'\"abfv?";
        static const char to[] = "\n\t\r\\'\"\a\b\f\v?";
        const char *q = memchr(from, *p, sizeof from - 1);
        if (!q)
            lex_error(l, "unknown escape sequence");
        v = (unsigned char)to[q - from];
        p++;
    }
    *pp = p;
    return v;
}

static token *new_token(lexer *l, tk_kind k, const char *start)
{
    token *t = carena_alloc(l->c, sizeof *t);
    t->kind = k;
    t->loc = start;
    t->file = l->f;
    t->line = l->line;
    t->col = l->col;
    t->bol = l->bol;
    t->space = l->space;
    l->bol = l->space = false;
    return t;
}

static token *lex_string(lexer *l)
{
    token *t = new_token(l, TK_STR, l->p);
    const char *p = l->p + 1;
    char *buf = carena_alloc(l->c, (size_t)(l->end - p) + 1);
    int n = 0;
    while (p < l->end && *p != '"') {
        if (*p == '\n')
            break;
        buf[n++] = (char)read_char(l, &p);
    }
    if (p >= l->end || *p != '"')
        lex_error(l, "unterminated string literal");
    buf[n++] = 0;
    t->str = buf;
    t->strlen = n;
    t->ty = ctypes_array_of(l->c, ty_char, n);
    t->len = (int)(p + 1 - l->p);
    advance(l, (size_t)t->len);
    return t;
}

static token *lex_char(lexer *l)
{
    token *t = new_token(l, TK_CHAR, l->p);
    const char *p = l->p + 1;
    if (p >= l->end || *p == '\'' || *p == '\n')
        lex_error(l, "empty or unterminated character constant");
    int v = read_char(l, &p);
    if (p >= l->end || *p != '\'')
        lex_error(l, "unterminated or multi-character character constant");
    t->ival = (signed char)v;
    t->ty = ty_int;
    t->len = (int)(p + 1 - l->p);
    advance(l, (size_t)t->len);
    return t;
}

static size_t punct_len(const char *p, const char *end)
{
    for (int i = 0; puncts[i]; i++) {
        size_t n = strlen(puncts[i]);
        if ((size_t)(end - p) >= n && !memcmp(p, puncts[i], n))
            return n;
    }
    return strchr("+-*/%&|^~!<>=?:;,.()[]{}#", *p) ? 1 : 0;
}

static token *lex_one(lexer *l)
{
    const char *p = l->p;
    unsigned char ch = (unsigned char)*p;
    token *t;
    if (isdigit(ch) || (ch == '.' && p + 1 < l->end && isdigit((unsigned char)p[1]))) {
        const char *q = p;
        for (;;) {
            if (q + 1 < l->end && strchr("eEpP", q[0]) && strchr("+-", q[1]))
                q += 2;
            else if (q < l->end && (isalnum((unsigned char)*q) || *q == '.' || *q == '_'))
                q++;
            else
                break;
        }
        t = new_token(l, TK_PPNUM, p);
        t->len = (int)(q - p);
    } else if (isalpha(ch) || ch == '_') {
        const char *q = p;
        while (q < l->end && (isalnum((unsigned char)*q) || *q == '_'))
            q++;
        t = new_token(l, TK_IDENT, p);
        t->len = (int)(q - p);
    } else if (ch == '"') {
        return lex_string(l);
    } else if (ch == '\'') {
        return lex_char(l);
    } else {
        size_t n = punct_len(p, l->end);
        if (!n) {
            if (ch >= 128)
                lex_error(l, "bytes above 127 may appear only in comments "
                             "and literals");
            lex_error(l, "stray character in program");
        }
        t = new_token(l, TK_PUNCT, p);
        t->len = (int)n;
    }
    advance(l, (size_t)t->len);
    return t;
}

/* Tokenizes a whole file; the list ends with a TK_EOF token. */
token *clex_file(cc_ctx *c, const cfile *f)
{
    lexer l = {.c = c, .f = f, .p = f->text, .end = f->text + f->len,
               .line = 1, .col = 1, .bol = true};
    token head = {0}, *cur = &head;
    for (;;) {
        skip_space(&l);
        if (l.p >= l.end)
            break;
        cur = cur->next = lex_one(&l);
    }
    cur->next = new_token(&l, TK_EOF, l.p);
    return head.next;
}

/* Identifiers spelled like keywords become keywords. */
void clex_convert_keywords(cc_ctx *c, token *t)
{
    (void)c;
    for (; t; t = t->next) {
        if (t->kind != TK_IDENT)
            continue;
        for (int i = 0; keywords[i]; i++)
            if (clex_is(t, keywords[i])) {
                t->kind = TK_KEYWORD;
                break;
            }
    }
}

/* Integer constant type by C's rules (C99 6.4.4.1). */
static ctype *int_type(uint64_t v, bool dec, bool u, int l)
{
    if (!u && l == 0 && v <= 0x7FFFFFFF)
        return ty_int;
    if (!dec && !u && l == 0 && v <= 0xFFFFFFFF)
        return ty_uint;
    if (u && l == 0 && v <= 0xFFFFFFFF)
        return ty_uint;
    if (!u && v <= 0x7FFFFFFFFFFFFFFF)
        return ty_long;
    return ty_ulong;
}

static bool float_number(cc_ctx *c, token *t, const char *s)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s)
        return false;
    if (*end == 'l' || *end == 'L')
        cdiag_error(c, t, "long double constants are not supported");
    if (*end == 'f' || *end == 'F' || *end == 'd' || *end == 'D')
        end++;
    if (*end)
        cdiag_error(c, t, "invalid floating constant '%s'", s);
    t->kind = TK_NUM;
    t->fval = d;
    t->ty = ty_double;
    return true;
}

/* Turns a preprocessing number into an integer or floating constant. */
void clex_number(cc_ctx *c, token *t)
{
    char *s = carena_strndup(c, t->loc, (size_t)t->len);
    int base = 10;
    const char *p = s;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit((unsigned char)p[2])) {
        base = 16;
        p += 2;
    } else if (p[0] == '0') {
        base = 8;
    }
    uint64_t v = 0;
    bool ovf = false;
    const char *q = p;
    for (; *q; q++) {
        int d = hexval((unsigned char)*q);
        if (d < 0 || d >= base)
            break;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            ovf = true;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    if (*q == '.' || ((*q == 'e' || *q == 'E') && base != 16) ||
        ((*q == 'p' || *q == 'P') && base == 16) ||
        (base == 8 && isdigit((unsigned char)*q))) {
        if (float_number(c, t, s))
            return;
    }
    bool u = false;
    int l = 0;
    for (; *q; q++) {
        if ((*q == 'u' || *q == 'U') && !u)
            u = true;
        else if ((*q == 'l' || *q == 'L') && l < 2)
            l++;
        else
            cdiag_error(c, t, "invalid integer constant '%s'", s);
    }
    if (ovf)
        cdiag_error(c, t, "integer constant '%s' is too large", s);
    t->kind = TK_NUM;
    t->ival = (int64_t)v;
    t->ty = int_type(v, base == 10, u, l);
}
