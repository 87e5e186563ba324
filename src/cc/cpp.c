/*
 * cpp.c -- the built-in preprocessor (C0.md section 2): #include of files
 * and bundled headers, object- and function-like macros with # and ##,
 * conditional inclusion, #error, #line, #pragma (ignored with a warning).
 *
 * Tokens flow as a singly linked list.  Macro expansion follows Prosser's
 * algorithm: every token carries a hide set, the macros whose expansion
 * produced it, which may not expand it again; so self-referencing macros
 * stop and every expansion terminates.  Expanded tokens take the position
 * of the macro name they replace, so diagnostics point at the expansion.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cc/cc.h"
#include "cc/cc_int.h"
#include "util/alloc.h"

#define CPP_MAX_INCLUDE_DEPTH 256
#define CPP_MAX_EXPANSIONS 1000000

struct hideset {
    hideset *next;
    const char *name;
    int len;
};

typedef struct mparam {
    struct mparam *next;
    token *name;
} mparam;

typedef struct macro {
    struct macro *next;
    char *name;
    bool objlike, deleted;
    mparam *params;
    token *body;               /* ends with TK_EOF */
    int builtin;               /* 1 __FILE__, 2 __LINE__ */
} macro;

typedef struct cond_incl {
    struct cond_incl *next;
    enum { IN_THEN, IN_ELIF, IN_ELSE } ctx;
    token *tok;
    bool included;
} cond_incl;

static long expansions;

/* ---- helpers ------------------------------------------------------- */

static token *new_eof(cc_ctx *c, token *at)
{
    token *t = clex_copy(c, at);
    t->kind = TK_EOF;
    t->len = 0;
    return t;
}

static bool hs_contains(hideset *hs, const token *t)
{
    for (; hs; hs = hs->next)
        if (hs->len == t->len && !memcmp(hs->name, t->loc, (size_t)t->len))
            return true;
    return false;
}

static hideset *hs_add(cc_ctx *c, hideset *hs, const char *name, int len)
{
    hideset *h = carena_alloc(c, sizeof *h);
    h->name = name;
    h->len = len;
    h->next = hs;
    return h;
}

static hideset *hs_union(cc_ctx *c, hideset *a, hideset *b)
{
    for (; a; a = a->next)
        if (!hs_contains(b, &(token){.loc = a->name, .len = a->len}))
            b = hs_add(c, b, a->name, a->len);
    return b;
}

static hideset *hs_intersect(cc_ctx *c, hideset *a, hideset *b)
{
    hideset *r = NULL;
    for (; a; a = a->next)
        if (hs_contains(b, &(token){.loc = a->name, .len = a->len}))
            r = hs_add(c, r, a->name, a->len);
    return r;
}

static macro *find_macro(cc_ctx *c, const token *t)
{
    if (t->kind != TK_IDENT)
        return NULL;
    for (macro *m = c->macros; m; m = m->next)
        if ((int)strlen(m->name) == t->len &&
            !memcmp(m->name, t->loc, (size_t)t->len))
            return m->deleted ? NULL : m;
    return NULL;
}

static macro *add_macro(cc_ctx *c, const char *name, bool objlike,
                        token *body)
{
    macro *m = carena_alloc(c, sizeof *m);
    m->name = carena_strndup(c, name, strlen(name));
    m->objlike = objlike;
    m->body = body;
    m->next = c->macros;
    c->macros = m;
    return m;
}

static token *skip_line(cc_ctx *c, token *t, bool warn)
{
    if (t->bol)
        return t;
    if (warn)
        cdiag_warn(c, t, "extra tokens after preprocessing directive");
    while (!t->bol && t->kind != TK_EOF)
        t = t->next;
    return t;
}

/* Copies the tokens to the end of the line, ending with an EOF token. */
static token *copy_line(cc_ctx *c, token **rest, token *t)
{
    token head = {0}, *cur = &head;
    for (; !t->bol && t->kind != TK_EOF; t = t->next)
        cur = cur->next = clex_copy(c, t);
    cur->next = new_eof(c, t);
    *rest = t;
    return head.next;
}

/* A file (or text) of the compilation, numbered in order. */
cfile *cpp_new_file(cc_ctx *c, const char *name, const char *text,
                    size_t len)
{
    cfile *f = carena_alloc(c, sizeof *f);
    f->name = name;
    f->text = text;
    f->len = len;
    f->index = c->nfiles++;
    return f;
}

/* ---- #include ------------------------------------------------------ */

/* The contents of a regular file in the arena, or NULL. */
char *cpp_read_file(cc_ctx *c, const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    struct stat st;
    if (fstat(fileno(fp), &st) || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return NULL;
    }
    cbuf b = {0};
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, fp)) > 0)
        cbuf_putn(c, &b, tmp, n);
    fclose(fp);
    char *s = carena_strndup(c, b.s ? b.s : "", b.len);
    *len = b.len;
    cbuf_free(c, &b);
    return s;
}

/* Tokenizes the file at path, or returns NULL if it cannot be read. */
static token *tokenize_path(cc_ctx *c, const char *path)
{
    size_t len;
    char *s = cpp_read_file(c, path, &len);
    if (!s)
        return NULL;
    return clex_file(c, cpp_new_file(c, path, s, len));
}

static token *bundled(cc_ctx *c, const char *name)
{
    const char *n = name;
    if (!strncmp(n, "libi0/", 6))
        n += 6;
    const char *text = clib_header(n);
    if (!text)
        return NULL;
    return clex_file(c, cpp_new_file(c, carena_printf(c, "<%s>", name), text,
                                 strlen(text)));
}

static token *search_include(cc_ctx *c, const token *at, const char *name,
                             bool quoted)
{
    token *t;
    if (quoted) {
        const char *cur = at->file->name;
        const char *slash = strrchr(cur, '/');
        char *path = slash ? carena_printf(c, "%.*s/%s", (int)(slash - cur),
                                           cur, name)
                           : carena_printf(c, "%s", name);
        if (cur[0] != '<' && (t = tokenize_path(c, path)))
            return t;
    }
    for (size_t i = 0; i < c->opts->nincdirs; i++) {
        char *path = carena_printf(c, "%s/%s", c->opts->incdirs[i], name);
        if ((t = tokenize_path(c, path)))
            return t;
    }
    if ((t = bundled(c, name)))
        return t;
    cdiag_error(c, at, "cannot find include file '%s'", name);
}

static char *join_tokens(cc_ctx *c, token *t, token *end);

static token *append(token *a, token *b)
{
    if (a->kind == TK_EOF)
        return b;
    token *p = a;
    while (p->next->kind != TK_EOF)
        p = p->next;
    p->next = b;
    return a;
}

static token *preprocess2(cc_ctx *c, token *t);

static token *include_file(cc_ctx *c, token *t, token *dir)
{
    char *name;
    bool quoted;
    token *rest;
    if (t->kind == TK_STR) {
        name = carena_strndup(c, t->loc + 1, (size_t)t->len - 2);
        quoted = true;
        rest = skip_line(c, t->next, true);
    } else if (clex_is(t, "<")) {
        token *s = t->next;
        while (!clex_is(s, ">")) {
            if (s->bol || s->kind == TK_EOF)
                cdiag_error(c, t, "expected '>'");
            s = s->next;
        }
        name = join_tokens(c, t->next, s);
        quoted = false;
        rest = skip_line(c, s->next, true);
    } else {
        cdiag_error(c, t, "expected a file name after #include");
    }
    if (c->depth >= CPP_MAX_INCLUDE_DEPTH)
        cdiag_error(c, dir, "#include nested too deeply");
    token *inc = search_include(c, dir, name, quoted);
    return append(inc, rest);
}

/* ---- macro definitions --------------------------------------------- */

/* C11 6.10.3.3: '##' may not begin or end a replacement list.  Checked
 * when the macro is defined, so expansion may rely on an operand on each
 * side of every '##'. */
static token *check_paste_ends(cc_ctx *c, token *body)
{
    token *last = NULL;
    for (token *p = body; p->kind != TK_EOF; p = p->next)
        last = p;
    if (clex_is(body, "##") || (last && clex_is(last, "##")))
        cdiag_error(c, clex_is(body, "##") ? body : last, "'##' cannot "
                    "appear at either end of a macro expansion");
    return body;
}

static void read_macro_def(cc_ctx *c, token **rest, token *t)
{
    if (t->kind != TK_IDENT)
        cdiag_error(c, t, "macro name must be an identifier");
    char *name = carena_strndup(c, t->loc, (size_t)t->len);
    if (!strcmp(name, "defined"))
        cdiag_error(c, t, "'defined' cannot be a macro name");
    t = t->next;
    if (!t->space && clex_is(t, "(") && !t->bol) {
        mparam head = {0}, *cur = &head;
        t = t->next;
        while (!clex_is(t, ")")) {
            if (cur != &head) {
                if (!clex_is(t, ","))
                    cdiag_error(c, t, "expected ',' in macro parameter list");
                t = t->next;
            }
            if (clex_is(t, "..."))
                cdiag_error(c, t, "variadic macros are not supported");
            if (t->kind != TK_IDENT || t->bol)
                cdiag_error(c, t, "expected a macro parameter name");
            cur = cur->next = carena_alloc(c, sizeof *cur);
            cur->name = t;
            t = t->next;
        }
        macro *m = add_macro(c, name, false,
                             check_paste_ends(c, copy_line(c, rest, t->next)));
        m->params = head.next;
    } else {
        add_macro(c, name, true, check_paste_ends(c, copy_line(c, rest, t)));
    }
}

/* ---- macro expansion ----------------------------------------------- */

typedef struct marg {
    struct marg *next;
    token *name;
    token *tok;
} marg;

static token *read_arg(cc_ctx *c, token **rest, token *t, token *call)
{
    token head = {0}, *cur = &head;
    int level = 0;
    for (;;) {
        if (level == 0 && (clex_is(t, ")") || clex_is(t, ",")))
            break;
        if (t->kind == TK_EOF)
            cdiag_error(c, call, "unterminated macro argument list");
        if (clex_is(t, "("))
            level++;
        else if (clex_is(t, ")"))
            level--;
        cur = cur->next = clex_copy(c, t);
        t = t->next;
    }
    cur->next = new_eof(c, t);
    *rest = t;
    return head.next;
}

static marg *read_args(cc_ctx *c, token **rest, token *t, macro *m)
{
    token *start = t;
    t = t->next->next;
    marg head = {0}, *cur = &head;
    for (mparam *p = m->params; p; p = p->next) {
        if (cur != &head) {
            if (!clex_is(t, ","))
                cdiag_error(c, start, "too few arguments to macro '%s'",
                            m->name);
            t = t->next;
        }
        cur = cur->next = carena_alloc(c, sizeof *cur);
        cur->name = p->name;
        cur->tok = read_arg(c, &t, t, start);
    }
    if (!m->params && !clex_is(t, ")")) {
        token *a = read_arg(c, &t, t, start);
        if (a->kind != TK_EOF)
            cdiag_error(c, start, "macro '%s' takes no arguments", m->name);
    }
    if (!clex_is(t, ")"))
        cdiag_error(c, start, "too many arguments to macro '%s'", m->name);
    *rest = t;
    return head.next;
}

static marg *find_arg(marg *a, const token *t)
{
    for (; a; a = a->next)
        if (t->len == a->name->len &&
            !memcmp(t->loc, a->name->loc, (size_t)t->len))
            return a;
    return NULL;
}

static char *join_tokens(cc_ctx *c, token *t, token *end)
{
    cbuf b = {0};
    for (token *p = t; p != end && p->kind != TK_EOF; p = p->next) {
        if (p != t && p->space)
            cbuf_puts(c, &b, " ");
        cbuf_putn(c, &b, p->loc, (size_t)p->len);
    }
    char *s = carena_strndup(c, b.s ? b.s : "", b.len);
    cbuf_free(c, &b);
    return s;
}

static token *new_str_token(cc_ctx *c, const char *s, token *tmpl)
{
    cbuf b = {0};
    cbuf_puts(c, &b, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '\\' || *p == '"')
            cbuf_puts(c, &b, "\\");
        cbuf_putn(c, &b, p, 1);
    }
    cbuf_puts(c, &b, "\"");
    char *text = carena_strndup(c, b.s, b.len);
    cbuf_free(c, &b);
    cfile *f = cpp_new_file(c, tmpl->file->name, text, strlen(text));
    token *t = clex_file(c, f);
    t->file = tmpl->file;
    t->line = tmpl->line;
    t->col = tmpl->col;
    return t;
}

static token *paste(cc_ctx *c, token *l, token *r)
{
    char *s = carena_printf(c, "%.*s%.*s", l->len, l->loc, r->len, r->loc);
    cfile *f = cpp_new_file(c, l->file->name, s, strlen(s));
    token *t = clex_file(c, f);
    /* One token, not none (text the lexer skips, such as a NUL byte) nor
     * several. */
    if (t->kind == TK_EOF || t->next->kind != TK_EOF)
        cdiag_error(c, l, "pasting forms '%s', an invalid token", s);
    t->file = l->file;
    t->line = l->line;
    t->col = l->col;
    return t;
}

static token *copy_list(cc_ctx *c, token *t)
{
    token head = {0}, *cur = &head;
    for (; t->kind != TK_EOF; t = t->next)
        cur = cur->next = clex_copy(c, t);
    cur->next = clex_copy(c, t);
    return head.next;
}

static void nest(cc_ctx *c, token *at)
{
    if (++c->nesting > 200)
        cdiag_error(c, at, "macro arguments or #if expression nested too "
                           "deeply");
}

static token *expand_arg(cc_ctx *c, token *a)
{
    nest(c, a);
    token *r = preprocess2(c, copy_list(c, a));
    c->nesting--;
    return r;
}

/* Replaces parameters in the body by arguments, with # and ##. */
static token *subst(cc_ctx *c, token *t, marg *args)
{
    token head = {0}, *cur = &head;
    while (t->kind != TK_EOF) {
        if (clex_is(t, "#")) {
            marg *a = find_arg(args, t->next);
            if (!a)
                cdiag_error(c, t->next, "'#' is not followed by a macro "
                                        "parameter");
            cur = cur->next = new_str_token(c, join_tokens(c, a->tok, NULL),
                                             t);
            t = t->next->next;
            continue;
        }
        if (clex_is(t, "##")) {
            if (cur == &head)
                cdiag_error(c, t, "'##' cannot appear at either end of a "
                                  "macro expansion");
            if (t->next->kind == TK_EOF)
                cdiag_error(c, t, "'##' cannot appear at either end of a "
                                  "macro expansion");
            marg *a = find_arg(args, t->next);
            if (a) {
                if (a->tok->kind != TK_EOF) {
                    *cur = *paste(c, cur, a->tok);
                    for (token *p = a->tok->next; p->kind != TK_EOF;
                         p = p->next)
                        cur = cur->next = clex_copy(c, p);
                }
                t = t->next->next;
                continue;
            }
            *cur = *paste(c, cur, t->next);
            t = t->next->next;
            continue;
        }
        marg *a = find_arg(args, t);
        if (a && clex_is(t->next, "##")) {
            token *rhs = t->next->next;
            if (a->tok->kind == TK_EOF) {
                marg *a2 = find_arg(args, rhs);
                if (a2) {
                    for (token *p = a2->tok; p->kind != TK_EOF; p = p->next)
                        cur = cur->next = clex_copy(c, p);
                } else {
                    cur = cur->next = clex_copy(c, rhs);
                }
                t = rhs->next;
                continue;
            }
            for (token *p = a->tok; p->kind != TK_EOF; p = p->next)
                cur = cur->next = clex_copy(c, p);
            t = t->next;
            continue;
        }
        if (a) {
            token *e = expand_arg(c, a->tok);
            for (; e->kind != TK_EOF; e = e->next)
                cur = cur->next = clex_copy(c, e);
            t = t->next;
            continue;
        }
        cur = cur->next = clex_copy(c, t);
        t = t->next;
    }
    cur->next = t;
    return head.next;
}

static void place_at(token *t, token *at, hideset *hs, cc_ctx *c)
{
    for (; t->kind != TK_EOF; t = t->next) {
        t->file = at->file;
        t->line = at->line;
        t->col = at->col;
        t->hs = hs_union(c, hs, t->hs);
    }
}

static token *builtin_macro(cc_ctx *c, macro *m, token *t)
{
    if (m->builtin == 1)
        return new_str_token(c, t->file->name, t);
    token *n = clex_copy(c, t);
    char *s = carena_printf(c, "%d", t->line);
    n->kind = TK_PPNUM;
    n->loc = s;
    n->len = (int)strlen(s);
    return n;
}

/* If t is a macro call, expands it and returns true with *rest at the
 * expansion. */
static bool expand_macro(cc_ctx *c, token **rest, token *t)
{
    if (hs_contains(t->hs, t))
        return false;
    macro *m = find_macro(c, t);
    if (!m)
        return false;
    if (++expansions > CPP_MAX_EXPANSIONS)
        cdiag_error(c, t, "too many macro expansions");
    if (m->builtin) {
        token *n = builtin_macro(c, m, t);
        n->next = t->next;
        n->bol = t->bol;
        n->space = t->space;
        *rest = n;
        return true;
    }
    if (m->objlike) {
        hideset *hs = hs_add(c, t->hs, m->name, (int)strlen(m->name));
        token *body = copy_list(c, m->body);
        body = subst(c, body, NULL);
        place_at(body, t, hs, c);
        token *end = body;
        if (body->kind != TK_EOF) {
            body->bol = t->bol;
            body->space = t->space;
        }
        *rest = append(body, t->next);
        (void)end;
        return true;
    }
    if (!clex_is(t->next, "("))
        return false;
    token *start = t;
    marg *args = read_args(c, &t, t, m);
    token *rparen = t;
    hideset *hs = hs_intersect(c, start->hs, rparen->hs);
    hs = hs_add(c, hs, m->name, (int)strlen(m->name));
    token *body = subst(c, m->body, args);
    place_at(body, start, hs, c);
    if (body->kind != TK_EOF) {
        body->bol = start->bol;
        body->space = start->space;
    }
    *rest = append(body, rparen->next);
    return true;
}

/* ---- #if ----------------------------------------------------------- */

typedef struct pexpr {
    cc_ctx *c;
    token *t;
} pexpr;

static int64_t pe_cond(pexpr *e);

static _Noreturn void pe_error(pexpr *e)
{
    cdiag_error(e->c, e->t, "invalid expression in #if");
}

static bool pe_eat(pexpr *e, const char *s)
{
    if (e->t->kind != TK_EOF && clex_is(e->t, s)) {
        e->t = e->t->next;
        return true;
    }
    return false;
}

static int64_t pe_primary(pexpr *e)
{
    token *t = e->t;
    if (pe_eat(e, "(")) {
        int64_t v = pe_cond(e);
        if (!pe_eat(e, ")"))
            pe_error(e);
        return v;
    }
    if (t->kind == TK_PPNUM) {
        clex_number(e->c, t);
        if (t->ty == ty_double)
            cdiag_error(e->c, t, "floating constant in #if");
        e->t = t->next;
        return t->ival;
    }
    if (t->kind == TK_CHAR) {
        e->t = t->next;
        return t->ival;
    }
    if (t->kind == TK_IDENT) {
        e->t = t->next;
        return 0;
    }
    pe_error(e);
}

static int64_t pe_unary1(pexpr *e);

static int64_t pe_unary(pexpr *e)
{
    nest(e->c, e->t);
    int64_t v = pe_unary1(e);
    e->c->nesting--;
    return v;
}

static int64_t pe_unary1(pexpr *e)
{
    if (pe_eat(e, "+"))
        return pe_unary(e);
    if (pe_eat(e, "-"))
        return (int64_t)(0 - (uint64_t)pe_unary(e));
    if (pe_eat(e, "!"))
        return !pe_unary(e);
    if (pe_eat(e, "~"))
        return ~pe_unary(e);
    return pe_primary(e);
}

static int64_t pe_binary(pexpr *e, int prec);

static const struct { const char *op; int prec; } pe_ops[] = {
    {"||", 1}, {"&&", 2}, {"|", 3}, {"^", 4}, {"&", 5}, {"==", 6},
    {"!=", 6}, {"<", 7}, {"<=", 7}, {">", 7}, {">=", 7}, {"<<", 8},
    {">>", 8}, {"+", 9}, {"-", 9}, {"*", 10}, {"/", 10}, {"%", 10},
    {NULL, 0}};

static int64_t pe_apply(pexpr *e, const char *op, int64_t a, int64_t b,
                        token *at)
{
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    switch (op[0]) {
    case '|': return op[1] ? (a || b) : a | b;
    case '&': return op[1] ? (a && b) : a & b;
    case '^': return a ^ b;
    case '=': return a == b;
    case '!': return a != b;
    case '<': return op[1] == '<' ? (int64_t)(ua << (ub & 63))
                     : op[1] ? a <= b : a < b;
    case '>': return op[1] == '>' ? a >> (ub & 63) : op[1] ? a >= b : a > b;
    case '+': return (int64_t)(ua + ub);
    case '-': return (int64_t)(ua - ub);
    case '*': return (int64_t)(ua * ub);
    default:
        if (b == 0)
            cdiag_error(e->c, at, "division by zero in #if");
        if (a == INT64_MIN && b == -1)
            return op[0] == '/' ? a : 0;
        return op[0] == '/' ? a / b : a % b;
    }
}

static int64_t pe_binary(pexpr *e, int prec)
{
    int64_t a = pe_unary(e);
    for (;;) {
        int i;
        for (i = 0; pe_ops[i].op; i++)
            if (e->t->kind == TK_PUNCT && clex_is(e->t, pe_ops[i].op))
                break;
        if (!pe_ops[i].op || pe_ops[i].prec < prec)
            return a;
        token *at = e->t;
        e->t = e->t->next;
        int64_t b = pe_binary(e, pe_ops[i].prec + 1);
        a = pe_apply(e, pe_ops[i].op, a, b, at);
    }
}

static int64_t pe_cond(pexpr *e)
{
    int64_t v = pe_binary(e, 1);
    if (!pe_eat(e, "?"))
        return v;
    int64_t a = pe_cond(e);
    if (!pe_eat(e, ":"))
        pe_error(e);
    int64_t b = pe_cond(e);
    return v ? a : b;
}

static token *read_defined(cc_ctx *c, token **rest, token *t)
{
    bool paren = clex_is(t, "(");
    if (paren)
        t = t->next;
    if (t->kind != TK_IDENT)
        cdiag_error(c, t, "macro name must be an identifier");
    macro *m = find_macro(c, t);
    token *n = clex_copy(c, t);
    n->kind = TK_PPNUM;
    n->loc = m ? "1" : "0";
    n->len = 1;
    t = t->next;
    if (paren) {
        if (!clex_is(t, ")"))
            cdiag_error(c, t, "expected ')'");
        t = t->next;
    }
    *rest = t;
    return n;
}

static bool eval_if(cc_ctx *c, token **rest, token *t)
{
    token *start = t;
    token *line = copy_line(c, rest, t->next);
    token head = {0}, *cur = &head;
    for (token *p = line; p->kind != TK_EOF;) {
        if (clex_is(p, "defined")) {
            cur = cur->next = read_defined(c, &p, p->next);
            continue;
        }
        cur = cur->next = p;
        p = p->next;
    }
    cur->next = new_eof(c, start);
    token *e = preprocess2(c, head.next);
    if (e->kind == TK_EOF)
        cdiag_error(c, start, "#if with no expression");
    pexpr pe = {c, e};
    int64_t v = pe_cond(&pe);
    if (pe.t->kind != TK_EOF)
        pe_error(&pe);
    return v != 0;
}

static token *skip_cond(cc_ctx *c, token *t)
{
    (void)c;
    int depth = 0;
    for (; t->kind != TK_EOF; t = t->next) {
        if (!t->bol || !clex_is(t, "#"))
            continue;
        token *d = t->next;
        if (d->bol)
            continue;
        if (clex_is(d, "if") || clex_is(d, "ifdef") || clex_is(d, "ifndef"))
            depth++;
        else if (depth && clex_is(d, "endif"))
            depth--;
        else if (!depth && (clex_is(d, "elif") || clex_is(d, "else") ||
                            clex_is(d, "endif")))
            return t;
    }
    return t;
}

static void push_cond(cc_ctx *c, token *t, bool included)
{
    cond_incl *ci = carena_alloc(c, sizeof *ci);
    ci->next = c->conds;
    ci->ctx = IN_THEN;
    ci->tok = t;
    ci->included = included;
    c->conds = ci;
}

/* ---- directives ---------------------------------------------------- */

static void do_line(cc_ctx *c, token *dir, token *t)
{
    token *rest;
    token *line = preprocess2(c, copy_line(c, &rest, t));
    if (line->kind != TK_PPNUM)
        cdiag_error(c, dir, "#line needs a line number");
    clex_number(c, line);
    if (line->ty == ty_double || line->ival < 1 || line->ival > 0x7FFFFFFF)
        cdiag_error(c, dir, "invalid #line number");
    const cfile *nf = dir->file;
    if (line->next->kind == TK_STR) {
        cfile *f = carena_alloc(c, sizeof *f);
        *f = *dir->file;
        f->name = line->next->str;
        nf = f;
    }
    int delta = (int)line->ival - (rest->line);
    for (token *p = rest; p->kind != TK_EOF && p->file == dir->file;
         p = p->next) {
        p->line += delta;
        p->file = nf;
    }
}

static token *directive(cc_ctx *c, token *hash, token *t)
{
    token *d = t;
    if (d->bol || d->kind == TK_EOF)
        return t;                       /* null directive */
    if (clex_is(d, "include")) {
        c->depth++;
        return include_file(c, d->next, hash);
    }
    if (clex_is(d, "define")) {
        read_macro_def(c, &t, d->next);
        return t;
    }
    if (clex_is(d, "undef")) {
        if (d->next->kind != TK_IDENT || d->next->bol)
            cdiag_error(c, d, "macro name must be an identifier");
        cpp_undef(c, carena_strndup(c, d->next->loc, (size_t)d->next->len));
        return skip_line(c, d->next->next, true);
    }
    if (clex_is(d, "if")) {
        bool v = eval_if(c, &t, d);
        push_cond(c, hash, v);
        return v ? t : skip_cond(c, t);
    }
    if (clex_is(d, "ifdef") || clex_is(d, "ifndef")) {
        if (d->next->kind != TK_IDENT || d->next->bol)
            cdiag_error(c, d, "macro name must be an identifier");
        bool v = find_macro(c, d->next) != NULL;
        if (clex_is(d, "ifndef"))
            v = !v;
        push_cond(c, hash, v);
        t = skip_line(c, d->next->next, true);
        return v ? t : skip_cond(c, t);
    }
    if (clex_is(d, "elif")) {
        if (!c->conds || c->conds->ctx == IN_ELSE)
            cdiag_error(c, d, "#elif without #if");
        c->conds->ctx = IN_ELIF;
        if (!c->conds->included && eval_if(c, &t, d)) {
            c->conds->included = true;
            return t;
        }
        return skip_cond(c, skip_line(c, d->next, false));
    }
    if (clex_is(d, "else")) {
        if (!c->conds || c->conds->ctx == IN_ELSE)
            cdiag_error(c, d, "#else without #if");
        c->conds->ctx = IN_ELSE;
        t = skip_line(c, d->next, true);
        if (c->conds->included)
            return skip_cond(c, t);
        c->conds->included = true;
        return t;
    }
    if (clex_is(d, "endif")) {
        if (!c->conds)
            cdiag_error(c, d, "#endif without #if");
        c->conds = c->conds->next;
        return skip_line(c, d->next, true);
    }
    if (clex_is(d, "error")) {
        token *rest;
        cdiag_error(c, hash, "#error %s",
                    join_tokens(c, copy_line(c, &rest, d->next), NULL));
    }
    if (clex_is(d, "pragma")) {
        cdiag_warn(c, hash, "#pragma is ignored");
        return skip_line(c, d->next, false);
    }
    if (clex_is(d, "line")) {
        do_line(c, hash, d->next);
        token *rest;
        copy_line(c, &rest, d->next);
        return rest;
    }
    if (d->kind == TK_PPNUM) {
        do_line(c, hash, d);
        token *rest;
        copy_line(c, &rest, d);
        return rest;
    }
    cdiag_error(c, d, "unknown preprocessing directive '#%.*s'", d->len,
                d->loc);
}

static token *preprocess2(cc_ctx *c, token *t)
{
    token head = {0}, *cur = &head;
    while (t->kind != TK_EOF) {
        if (expand_macro(c, &t, t))
            continue;
        if (t->bol && clex_is(t, "#") && t->kind == TK_PUNCT) {
            t = directive(c, t, t->next);
            continue;
        }
        cur = cur->next = t;
        t = t->next;
    }
    cur->next = t;
    return head.next;
}

/* Defines NAME as VALUE (text). */
void cpp_define(cc_ctx *c, const char *name, const char *value)
{
    cfile *f = cpp_new_file(c, "<command line>", value, strlen(value));
    token *body = clex_file(c, f);
    add_macro(c, name, true, body);
}

void cpp_undef(cc_ctx *c, const char *name)
{
    macro *m = add_macro(c, name, true, NULL);
    m->deleted = true;
}

/* The predefined macros of C0.md section 2. */
void cpp_init(cc_ctx *c)
{
    expansions = 0;
    cpp_define(c, "__DVM__", "1");
    cpp_define(c, "__C0__", "1");
    add_macro(c, "__FILE__", true, NULL)->builtin = 1;
    add_macro(c, "__LINE__", true, NULL)->builtin = 2;
}

/* Preprocesses a token list; the result's numbers are typed and its
 * keywords marked, ready for the parser. */
token *cpp_run(cc_ctx *c, token *t)
{
    token *r = preprocess2(c, t);
    if (c->conds)
        cdiag_error(c, c->conds->tok, "unterminated conditional directive");
    for (token *p = r; p->kind != TK_EOF; p = p->next) {
        if (p->kind == TK_PPNUM)
            clex_number(c, p);
    }
    clex_convert_keywords(c, r);
    return r;
}
