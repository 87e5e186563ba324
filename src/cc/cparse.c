/*
 * cparse.c -- the hand-written recursive-descent parser of c0 (C0.md
 * sections 4 to 7): declarations, statements and expressions to a typed
 * tree.  Types are checked and conversions made explicit (ND_CAST) as each
 * node is built; operators on constants fold at once (cfold.c), so
 * constant expressions are just nodes that became ND_NUM.  Arrays decay to
 * pointers where C says so (ND_ADDR of the array).  Objects are kept in
 * nested scopes; file-scope objects of every translation unit are also
 * listed in the context, since calls, recursion and the library's reach
 * are resolved over the whole program (cgen.c).
 */
#include <string.h>

#include "cc/cc_int.h"
#include "util/alloc.h"

#define PARSE_MAX_DEPTH 400

typedef struct vscope {
    struct vscope *next;
    char *name;
    cobj *var;
    ctype *type_def;
    ctype *enum_ty;
    int64_t enum_val;
} vscope;

typedef struct tscope {
    struct tscope *next;
    char *name;
    ctype *ty;
} tscope;

typedef struct scope {
    struct scope *up;
    vscope *vars;
    tscope *tags;
} scope;

typedef struct declattr {
    storage sc;
    bool is_inline;
} declattr;

typedef struct glabel {
    struct glabel *next;
    char *name;
    token *tok;
    bool defined;
    char *sym;
} glabel;

typedef struct parser {
    cc_ctx *c;
    token *t;
    scope *sc;
    cobj *fn;                  /* function being parsed */
    cobj *locals;
    glabel *labels;
    cnode *cur_switch;
    int loop_depth, switch_depth;
    int depth;
    int nlabel;
    bool allow_seg;
    int nstatic;
} parser;

static cnode *expr(parser *p);
static cnode *assign(parser *p);
static cnode *conditional(parser *p);
static cnode *cast(parser *p);
static cnode *stmt(parser *p);
static ctype *declspec(parser *p, declattr *attr);
static ctype *declarator(parser *p, ctype *ty);
static ctype *abstract_declarator(parser *p, ctype *ty);
static cnode *compound(parser *p);
static cnode *new_cast(parser *p, cnode *n, ctype *ty);

/* ---- tokens -------------------------------------------------------- */

static bool is(parser *p, const char *s)
{
    return p->t->kind != TK_EOF && clex_is(p->t, s);
}

static bool eat(parser *p, const char *s)
{
    if (!is(p, s))
        return false;
    p->t = p->t->next;
    return true;
}

static token *expect(parser *p, const char *s)
{
    token *t = p->t;
    if (!eat(p, s)) {
        if (t->kind == TK_EOF)
            cdiag_error(p->c, t, "expected '%s' at end of input", s);
        cdiag_error(p->c, t, "expected '%s' before '%.*s'", s, t->len,
                    t->loc);
    }
    return t;
}

static char *tok_str(parser *p, token *t)
{
    return carena_strndup(p->c, t->loc, (size_t)t->len);
}

static token *expect_ident(parser *p)
{
    token *t = p->t;
    if (t->kind != TK_IDENT)
        cdiag_error(p->c, t, "expected an identifier before '%.*s'", t->len,
                    t->loc);
    p->t = t->next;
    return t;
}

static void enter(parser *p)
{
    if (++p->depth > PARSE_MAX_DEPTH)
        cdiag_error(p->c, p->t, "nesting too deep");
}

/* ---- scopes -------------------------------------------------------- */

static void push_scope(parser *p)
{
    scope *s = carena_alloc(p->c, sizeof *s);
    s->up = p->sc;
    p->sc = s;
}

static void pop_scope(parser *p)
{
    p->sc = p->sc->up;
}

static vscope *find_var(parser *p, const char *name)
{
    for (scope *s = p->sc; s; s = s->up)
        for (vscope *v = s->vars; v; v = v->next)
            if (!strcmp(v->name, name))
                return v;
    return NULL;
}

static vscope *find_var_here(parser *p, const char *name)
{
    for (vscope *v = p->sc->vars; v; v = v->next)
        if (!strcmp(v->name, name))
            return v;
    return NULL;
}

static vscope *push_var(parser *p, const char *name)
{
    vscope *v = carena_alloc(p->c, sizeof *v);
    v->name = carena_strndup(p->c, name, strlen(name));
    v->next = p->sc->vars;
    p->sc->vars = v;
    return v;
}

static ctype *find_tag(parser *p, const char *name, bool here)
{
    for (scope *s = p->sc; s; s = here ? NULL : s->up)
        for (tscope *t = s->tags; t; t = t->next)
            if (!strcmp(t->name, name))
                return t->ty;
    return NULL;
}

static void push_tag(parser *p, const char *name, ctype *ty)
{
    tscope *t = carena_alloc(p->c, sizeof *t);
    t->name = carena_strndup(p->c, name, strlen(name));
    t->ty = ty;
    t->next = p->sc->tags;
    p->sc->tags = t;
}

static ctype *find_typedef(parser *p, token *t)
{
    if (t->kind != TK_IDENT)
        return NULL;
    vscope *v = find_var(p, tok_str(p, t));
    return v ? v->type_def : NULL;
}

/* ---- nodes --------------------------------------------------------- */

static cnode *new_node(parser *p, nd_kind k, token *t)
{
    cnode *n = carena_alloc(p->c, sizeof *n);
    n->kind = k;
    n->tok = t;
    n->line = t->line;
    return n;
}

static cnode *new_num(parser *p, int64_t v, ctype *ty, token *t)
{
    cnode *n = new_node(p, ND_NUM, t);
    n->val = v;
    n->ty = ty;
    return n;
}

static cnode *new_unary(parser *p, nd_kind k, cnode *a, ctype *ty, token *t)
{
    cnode *n = new_node(p, k, t);
    n->lhs = a;
    n->ty = ty;
    return cfold(p->c, n);
}

static cnode *new_bin(parser *p, nd_kind k, cnode *a, cnode *b, ctype *ty,
                      token *t)
{
    cnode *n = new_node(p, k, t);
    n->lhs = a;
    n->rhs = b;
    n->ty = ty;
    return cfold(p->c, n);
}

static cnode *new_var(parser *p, cobj *v, token *t)
{
    cnode *n = new_node(p, ND_VAR, t);
    n->var = v;
    n->ty = v->ty;
    return n;
}

/* An array or function used as a value becomes a pointer. */
static cnode *decay(parser *p, cnode *n)
{
    if (n->ty->kind == TY_ARRAY)
        return new_unary(p, ND_ADDR, n, ctypes_ptr_to(p->c, n->ty->base),
                         n->tok);
    if (n->ty->kind == TY_FUNC) {
        if (n->kind == ND_VAR && n->var->is_func)
            n->var->addr_taken = true;
        return new_unary(p, ND_ADDR, n, ctypes_ptr_to(p->c, n->ty), n->tok);
    }
    return n;
}

static cnode *rvalue(parser *p, cnode *n)
{
    n = decay(p, n);
    if (n->ty->kind == TY_VOID)
        cdiag_error(p->c, n->tok, "a void value is not ignored as it ought "
                                  "to be");
    if (n->kind == ND_SEG)
        cdiag_error(p->c, n->tok, "a segment 'E[lo,,hi]' may appear only in "
                                  "a range list");
    return n;
}

static ctype *promote(ctype *t)
{
    if (ctypes_is_integer(t) && (t->size < 4 || t->kind == TY_ENUM))
        return ty_int;
    return t;
}

static bool is_null_const(cnode *n)
{
    return n->kind == ND_NUM && n->val == 0 && ctypes_is_integer(n->ty);
}

/* Checks that n may be assigned to a `to` and converts it. */
static cnode *convert_assign(parser *p, cnode *n, ctype *to, token *at)
{
    n = rvalue(p, n);
    ctype *from = n->ty;
    if (ctypes_is_arith(to) && ctypes_is_arith(from))
        return new_cast(p, n, to);
    if (to->kind == TY_PTR) {
        if (from->kind == TY_PTR || is_null_const(n))
            return new_cast(p, n, to);
        if (ctypes_is_integer(from)) {
            cdiag_warn(p->c, at, "making a pointer from an integer without "
                                 "a cast");
            return new_cast(p, n, to);
        }
    }
    if (ctypes_is_integer(to) && from->kind == TY_PTR) {
        cdiag_warn(p->c, at, "making an integer from a pointer without a "
                             "cast");
        return new_cast(p, n, to);
    }
    if ((to->kind == TY_STRUCT || to->kind == TY_UNION) &&
        ctypes_unqual(to) == ctypes_unqual(from))
        return n;
    cdiag_error(p->c, at, "incompatible types: cannot convert '%s' to '%s'",
                ctypes_name(p->c, from), ctypes_name(p->c, to));
}

static cnode *new_cast(parser *p, cnode *n, ctype *ty)
{
    if (ty->kind == TY_VOID)
        return new_unary(p, ND_CAST, n, ty, n->tok);
    n = rvalue(p, n);
    if (!ctypes_is_scalar(ty) || !ctypes_is_scalar(n->ty))
        cdiag_error(p->c, n->tok, "cannot convert '%s' to '%s'",
                    ctypes_name(p->c, n->ty), ctypes_name(p->c, ty));
    if ((ty->kind == TY_DOUBLE && n->ty->kind == TY_PTR) ||
        (ty->kind == TY_PTR && n->ty->kind == TY_DOUBLE))
        cdiag_error(p->c, n->tok, "cannot convert between a pointer and "
                                  "double");
    if (ctypes_unqual(n->ty) == ctypes_unqual(ty) && ty->kind != TY_PTR)
        return n;
    return new_unary(p, ND_CAST, n, ty, n->tok);
}

static cnode *to_bool_operand(parser *p, cnode *n)
{
    n = rvalue(p, n);
    if (!ctypes_is_scalar(n->ty))
        cdiag_error(p->c, n->tok, "a scalar is needed here, not '%s'",
                    ctypes_name(p->c, n->ty));
    return n;
}

static void check_arith(parser *p, cnode *n, const char *what)
{
    if (!ctypes_is_arith(n->ty))
        cdiag_error(p->c, n->tok, "invalid operand to %s (have '%s')", what,
                    ctypes_name(p->c, n->ty));
}

static void check_int(parser *p, cnode *n, const char *what)
{
    if (!ctypes_is_integer(n->ty))
        cdiag_error(p->c, n->tok, "invalid operand to %s (have '%s'); an "
                                  "integer is needed", what,
                    ctypes_name(p->c, n->ty));
}

static cnode *arith(parser *p, nd_kind k, cnode *a, cnode *b, token *t,
                    const char *what, bool ints)
{
    a = rvalue(p, a);
    b = rvalue(p, b);
    if (ints) {
        check_int(p, a, what);
        check_int(p, b, what);
    } else {
        check_arith(p, a, what);
        check_arith(p, b, what);
    }
    ctype *ty = ctypes_common(a->ty, b->ty);
    return new_bin(p, k, new_cast(p, a, ty), new_cast(p, b, ty), ty, t);
}

static cnode *shift(parser *p, nd_kind k, cnode *a, cnode *b, token *t)
{
    a = rvalue(p, a);
    b = rvalue(p, b);
    check_int(p, a, "a shift");
    check_int(p, b, "a shift");
    ctype *ty = promote(a->ty);
    return new_bin(p, k, new_cast(p, a, ty), new_cast(p, b, ty_long), ty, t);
}

static long elem_size(parser *p, ctype *ptr, token *t)
{
    ctype *b = ptr->base;
    if (b->kind == TY_VOID)
        return 1;
    if (b->kind == TY_FUNC || !b->complete || b->size <= 0)
        cdiag_error(p->c, t, "arithmetic on a pointer to an incomplete or "
                             "function type");
    return b->size;
}

/* a * b wrapping at 64 bits, as the generated code computes it. */
static int64_t wrap_mul(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a * (uint64_t)b);
}

/* i * size as a long, with constants gathered: (x * k) * size is
 * x * (k * size) and (x + k) * size is x * size + k * size, so an index
 * like 2 * n + 1 becomes one multiplication and a displacement. */
static cnode *scale(parser *p, cnode *i, long size, token *t)
{
    i = new_cast(p, i, ty_long);
    if (size == 1)
        return i;
    if (i->kind == ND_MUL && i->ty == ty_long && i->rhs->kind == ND_NUM)
        return new_bin(p, ND_MUL, i->lhs,
                       new_num(p, wrap_mul(i->rhs->val, size), ty_long, t),
                       ty_long, t);
    if (i->kind == ND_MUL && i->ty == ty_long && i->lhs->kind == ND_NUM)
        return new_bin(p, ND_MUL, i->rhs,
                       new_num(p, wrap_mul(i->lhs->val, size), ty_long, t),
                       ty_long, t);
    if ((i->kind == ND_ADD || i->kind == ND_SUB) && i->ty == ty_long &&
        i->rhs->kind == ND_NUM)
        return new_bin(p, i->kind, scale(p, i->lhs, size, t),
                       new_num(p, wrap_mul(i->rhs->val, size), ty_long, t),
                       ty_long, t);
    return new_bin(p, ND_MUL, i, new_num(p, size, ty_long, t), ty_long, t);
}

static cnode *new_add(parser *p, cnode *a, cnode *b, token *t)
{
    a = rvalue(p, a);
    b = rvalue(p, b);
    if (ctypes_is_arith(a->ty) && ctypes_is_arith(b->ty))
        return arith(p, ND_ADD, a, b, t, "'+'", false);
    if (a->ty->kind != TY_PTR) {
        cnode *x = a;
        a = b;
        b = x;
    }
    if (a->ty->kind != TY_PTR || !ctypes_is_integer(b->ty))
        cdiag_error(p->c, t, "invalid operands to '+' ('%s' and '%s')",
                    ctypes_name(p->c, a->ty), ctypes_name(p->c, b->ty));
    return new_bin(p, ND_ADD, a, scale(p, b, elem_size(p, a->ty, t), t),
                   a->ty, t);
}

static cnode *new_sub(parser *p, cnode *a, cnode *b, token *t)
{
    a = rvalue(p, a);
    b = rvalue(p, b);
    if (ctypes_is_arith(a->ty) && ctypes_is_arith(b->ty))
        return arith(p, ND_SUB, a, b, t, "'-'", false);
    if (a->ty->kind == TY_PTR && ctypes_is_integer(b->ty))
        return new_bin(p, ND_SUB, a, scale(p, b, elem_size(p, a->ty, t), t),
                       a->ty, t);
    if (a->ty->kind == TY_PTR && b->ty->kind == TY_PTR) {
        long sz = elem_size(p, a->ty, t);
        cnode *d = new_bin(p, ND_SUB, new_cast(p, a, ty_long),
                           new_cast(p, b, ty_long), ty_long, t);
        if (sz == 1)
            return d;
        return new_bin(p, ND_DIV, d, new_num(p, sz, ty_long, t), ty_long, t);
    }
    cdiag_error(p->c, t, "invalid operands to '-' ('%s' and '%s')",
                ctypes_name(p->c, a->ty), ctypes_name(p->c, b->ty));
}

static cnode *compare(parser *p, nd_kind k, cnode *a, cnode *b, token *t)
{
    a = rvalue(p, a);
    b = rvalue(p, b);
    if (ctypes_is_arith(a->ty) && ctypes_is_arith(b->ty)) {
        ctype *ty = ctypes_common(a->ty, b->ty);
        return new_bin(p, k, new_cast(p, a, ty), new_cast(p, b, ty), ty_int,
                       t);
    }
    if ((a->ty->kind == TY_PTR || is_null_const(a)) &&
        (b->ty->kind == TY_PTR || is_null_const(b))) {
        return new_bin(p, k, new_cast(p, a, ty_ulong),
                       new_cast(p, b, ty_ulong), ty_int, t);
    }
    if ((a->ty->kind == TY_PTR && ctypes_is_integer(b->ty)) ||
        (b->ty->kind == TY_PTR && ctypes_is_integer(a->ty))) {
        cdiag_warn(p->c, t, "comparison between a pointer and an integer");
        return new_bin(p, k, new_cast(p, a, ty_ulong),
                       new_cast(p, b, ty_ulong), ty_int, t);
    }
    cdiag_error(p->c, t, "invalid operands to a comparison ('%s' and '%s')",
                ctypes_name(p->c, a->ty), ctypes_name(p->c, b->ty));
}

static bool is_lvalue(cnode *n)
{
    switch (n->kind) {
    case ND_VAR: return !n->var->is_func;
    case ND_DEREF: return true;
    case ND_MEMBER: return is_lvalue(n->lhs);
    default: return false;
    }
}

static void check_modifiable(parser *p, cnode *n, token *t)
{
    if (!is_lvalue(n))
        cdiag_error(p->c, t, "the left operand is not an lvalue");
    if (n->ty->kind == TY_ARRAY)
        cdiag_error(p->c, t, "cannot assign to an array");
    if (n->ty->is_const)
        cdiag_error(p->c, t, "cannot assign to a const object");
    if (n->ty->kind == TY_FUNC)
        cdiag_error(p->c, t, "cannot assign to a function");
}

static cnode *new_assign(parser *p, cnode *a, cnode *b, token *t)
{
    check_modifiable(p, a, t);
    if (!ctypes_is_scalar(a->ty) && a->ty->kind != TY_STRUCT &&
        a->ty->kind != TY_UNION)
        cdiag_error(p->c, t, "cannot assign to '%s'", ctypes_name(p->c, a->ty));
    b = convert_assign(p, b, a->ty, t);
    cnode *n = new_node(p, ND_ASSIGN, t);
    n->lhs = a;
    n->rhs = b;
    n->ty = a->ty;
    return n;
}

/* a op= b: kept as one node (a evaluated once); rhs converted to the
 * operation type, which cgen knows from node->rhs->ty. */
static cnode *new_opassign(parser *p, nd_kind op, cnode *a, cnode *b,
                           token *t)
{
    check_modifiable(p, a, t);
    b = rvalue(p, b);
    cnode *n = new_node(p, ND_OPASSIGN, t);
    n->op = op;
    n->lhs = a;
    n->ty = a->ty;
    if (a->ty->kind == TY_PTR && (op == ND_ADD || op == ND_SUB)) {
        if (!ctypes_is_integer(b->ty))
            cdiag_error(p->c, t, "invalid operands to a compound "
                                 "assignment");
        n->rhs = scale(p, b, elem_size(p, a->ty, t), t);
        return n;
    }
    bool ints = op == ND_MOD || op == ND_SHL || op == ND_SHR ||
                op == ND_BITAND || op == ND_BITOR || op == ND_BITXOR;
    if (ints) {
        check_int(p, a, "a compound assignment");
        check_int(p, b, "a compound assignment");
    } else {
        check_arith(p, a, "a compound assignment");
        check_arith(p, b, "a compound assignment");
    }
    if (op == ND_SHL || op == ND_SHR) {
        n->rhs = new_cast(p, b, ty_long);
        n->val = 0;
        n->fty = promote(a->ty);
        return n;
    }
    ctype *ty = ctypes_common(a->ty, b->ty);
    n->rhs = new_cast(p, b, ty);
    n->fty = ty;
    return n;
}

static cnode *new_incdec(parser *p, nd_kind k, cnode *a, int d, token *t)
{
    check_modifiable(p, a, t);
    if (!ctypes_is_scalar(a->ty))
        cdiag_error(p->c, t, "invalid operand to '++' or '--'");
    cnode *n = new_node(p, k, t);
    n->lhs = a;
    n->ty = a->ty;
    n->val = a->ty->kind == TY_PTR ? d * elem_size(p, a->ty, t) : d;
    return n;
}

static cnode *new_deref(parser *p, cnode *a, token *t)
{
    a = rvalue(p, a);
    if (a->ty->kind != TY_PTR)
        cdiag_error(p->c, t, "cannot dereference '%s'; a pointer is needed",
                    ctypes_name(p->c, a->ty));
    if (a->ty->base->kind == TY_VOID)
        cdiag_error(p->c, t, "cannot dereference a 'void *'");
    if (a->ty->base->kind == TY_FUNC)
        return a->lhs && a->kind == ND_ADDR ? a->lhs : new_unary(p, ND_DEREF, a, a->ty->base, t);
    cnode *n = new_node(p, ND_DEREF, t);
    n->lhs = a;
    n->ty = a->ty->base;
    return n;
}

/* ---- expressions --------------------------------------------------- */

static bool is_typename(parser *p, token *t)
{
    static const char *const kw[] = {
        "void", "char", "short", "int", "long", "double", "signed",
        "unsigned", "struct", "union", "enum", "const", "volatile", "bool",
        "_Bool", "typedef", "static", "extern", "register", "auto",
        "inline", "restrict", "standalone", "float", NULL};
    if (t->kind == TK_KEYWORD)
        for (int i = 0; kw[i]; i++)
            if (clex_is(t, kw[i]))
                return true;
    return find_typedef(p, t) != NULL;
}

static ctype *typename(parser *p)
{
    declattr attr = {0};
    token *t = p->t;
    ctype *ty = declspec(p, &attr);
    if (attr.sc != SC_NONE)
        cdiag_error(p->c, t, "a storage class is not allowed here");
    return abstract_declarator(p, ty);
}

static cnode *funcall(parser *p, cnode *fn, token *t)
{
    fn = rvalue(p, fn);
    if (fn->ty->kind != TY_PTR || fn->ty->base->kind != TY_FUNC)
        cdiag_error(p->c, t, "called object is not a function");
    ctype *fty = fn->ty->base;
    cnode *n = new_node(p, ND_CALL, t);
    n->fty = fty;
    n->ty = fty->base;
    if (fn->kind == ND_ADDR && fn->lhs->kind == ND_VAR && fn->lhs->var->is_func) {
        n->func = fn->lhs->var;
        fn->lhs->var->addr_taken = false;
        for (cobj *o = p->c->globals; o; o = o->next)
            (void)o;
    } else {
        n->lhs = fn;
    }
    cnode head = {0}, *cur = &head;
    ctype *param = fty->params;
    int nargs = 0;
    while (!is(p, ")")) {
        if (cur != &head)
            expect(p, ",");
        token *at = p->t;
        cnode *a = assign(p);
        if (param) {
            a = convert_assign(p, a, param, at);
            param = param->next;
        } else if (!fty->oldstyle) {
            cdiag_error(p->c, at, "too many arguments in the call");
        } else {
            a = rvalue(p, a);
            if (ctypes_is_integer(a->ty))
                a = new_cast(p, a, promote(a->ty));
        }
        nargs++;
        cur = cur->next = a;
    }
    if (param)
        cdiag_error(p->c, p->t, "too few arguments in the call");
    expect(p, ")");
    n->args = head.next;
    n->val = nargs;
    return n;
}

static member *find_member(ctype *ty, token *name)
{
    for (member *m = ty->members; m; m = m->next)
        if (m->name && m->name->len == name->len &&
            !memcmp(m->name->loc, name->loc, (size_t)name->len))
            return m;
    return NULL;
}

static cnode *struct_ref(parser *p, cnode *a, token *t)
{
    if (a->ty->kind != TY_STRUCT && a->ty->kind != TY_UNION)
        cdiag_error(p->c, t, "member reference of a non-struct ('%s')",
                    ctypes_name(p->c, a->ty));
    if (!a->ty->complete)
        cdiag_error(p->c, t, "member reference of an incomplete struct");
    token *name = expect_ident(p);
    member *m = find_member(a->ty, name);
    if (!m)
        cdiag_error(p->c, name, "no member named '%.*s'", name->len,
                    name->loc);
    cnode *n = new_node(p, ND_MEMBER, name);
    n->lhs = a;
    n->mem = m;
    n->ty = m->ty;
    if (a->ty->is_const && !m->ty->is_const) {
        n->ty = ctypes_copy(p->c, m->ty);
        n->ty->is_const = true;
    }
    return n;
}

static cnode *index_or_seg(parser *p, cnode *a, token *t)
{
    bool seg_ok = p->allow_seg;
    p->allow_seg = false;
    cnode *i = assign(p);
    p->allow_seg = seg_ok;
    if (seg_ok && is(p, ",") && clex_is(p->t->next, ",")) {
        p->t = p->t->next->next;
        p->allow_seg = false;
        cnode *hi = assign(p);
        p->allow_seg = seg_ok;
        expect(p, "]");
        a = rvalue(p, a);
        if (a->ty->kind != TY_PTR)
            cdiag_error(p->c, t, "a segment needs a pointer or array");
        cnode *n = new_node(p, ND_SEG, t);
        n->lhs = a;
        n->cond = new_cast(p, i, ty_long);
        n->rhs = new_cast(p, hi, ty_long);
        n->val = elem_size(p, a->ty, t);
        n->ty = ty_void;
        if (!is(p, ",") && !is(p, ";") && p->t->kind != TK_IDENT)
            cdiag_error(p->c, p->t, "a segment must be a whole range");
        return n;
    }
    if (is(p, ",") && clex_is(p->t->next, ","))
        cdiag_error(p->c, p->t, "a segment 'E[lo,,hi]' may appear only in "
                                "a range list");
    expect(p, "]");
    return new_deref(p, new_add(p, a, i, t), t);
}

static cnode *postfix(parser *p, cnode *n)
{
    for (;;) {
        token *t = p->t;
        if (eat(p, "(")) {
            bool s = p->allow_seg;
            p->allow_seg = false;
            n = funcall(p, n, t);
            p->allow_seg = s;
        } else if (eat(p, "[")) {
            n = index_or_seg(p, n, t);
            if (n->kind == ND_SEG)
                return n;
        } else if (eat(p, ".")) {
            n = struct_ref(p, n, t);
        } else if (eat(p, "->")) {
            n = struct_ref(p, new_deref(p, n, t), t);
        } else if (eat(p, "++")) {
            n = new_incdec(p, ND_POSTINC, n, 1, t);
        } else if (eat(p, "--")) {
            n = new_incdec(p, ND_POSTINC, n, -1, t);
        } else {
            return n;
        }
    }
}

static cobj *builtin_var(parser *p, const char *name, token *t)
{
    static const char *const names[] = {"__rid", "__attempt", "__nrcomp",
                                        "__nnode", NULL};
    for (int i = 0; names[i]; i++) {
        if (strcmp(name, names[i]))
            continue;
        cobj *v = carena_alloc(p->c, sizeof *v);
        v->name = v->sym = (char *)names[i];
        v->ty = ctypes_copy(p->c, i == 0 ? ty_ulong : ty_long);
        v->ty->is_const = true;
        v->is_lib = true;
        v->is_def = true;
        v->sc = SC_EXTERN;
        v->tok = t;
        v->in_text = i < 2;   /* PR words: not a range */
        return v;
    }
    return NULL;
}

static cnode *primary(parser *p)
{
    token *t = p->t;
    if (eat(p, "(")) {
        bool s = p->allow_seg;
        p->allow_seg = false;
        cnode *n = expr(p);
        p->allow_seg = s;
        expect(p, ")");
        return n;
    }
    if (t->kind == TK_NUM) {
        p->t = t->next;
        if (t->ty == ty_double) {
            cnode *n = new_node(p, ND_FNUM, t);
            n->fval = t->fval;
            n->ty = ty_double;
            return n;
        }
        return new_num(p, t->ival, t->ty, t);
    }
    if (t->kind == TK_CHAR) {
        p->t = t->next;
        return new_num(p, t->ival, ty_int, t);
    }
    if (t->kind == TK_STR) {
        cbuf b = {0};
        while (p->t->kind == TK_STR) {
            cbuf_putn(p->c, &b, p->t->str, (size_t)p->t->strlen - 1);
            p->t = p->t->next;
        }
        cnode *n = new_node(p, ND_STR, t);
        n->name = carena_strndup(p->c, b.s ? b.s : "", b.len);
        n->val = (int64_t)b.len + 1;
        n->ty = ctypes_array_of(p->c, ty_char, (long)b.len + 1);
        cbuf_free(p->c, &b);
        return n;
    }
    if (t->kind == TK_KEYWORD && (clex_is(t, "true") || clex_is(t, "false"))) {
        p->t = t->next;
        return new_num(p, clex_is(t, "true"), ty_int, t);
    }
    if (t->kind == TK_KEYWORD && clex_is(t, "sizeof"))
        return NULL;
    if (t->kind == TK_IDENT) {
        p->t = t->next;
        char *name = tok_str(p, t);
        vscope *v = find_var(p, name);
        if (v && v->var)
            return new_var(p, v->var, t);
        if (v && v->enum_ty)
            return new_num(p, v->enum_val, ty_int, t);
        cobj *b = builtin_var(p, name, t);
        if (b)
            return new_var(p, b, t);
        if (is(p, "("))
            cdiag_error(p->c, t, "implicit declaration of function '%s'; "
                                 "declare it before the call", name);
        if (v && v->type_def)
            cdiag_error(p->c, t, "unexpected type name '%s'", name);
        cdiag_error(p->c, t, "'%s' undeclared", name);
    }
    if (t->kind == TK_EOF)
        cdiag_error(p->c, t, "expected an expression at end of input");
    cdiag_error(p->c, t, "expected an expression before '%.*s'", t->len,
                t->loc);
}

static cnode *sizeof_expr(parser *p, token *t)
{
    ctype *ty;
    if (is(p, "(") && is_typename(p, p->t->next)) {
        p->t = p->t->next;
        ty = typename(p);
        expect(p, ")");
    } else {
        cnode *n = cast(p);
        ty = n->ty;
        if (n->kind == ND_SEG)
            cdiag_error(p->c, t, "a segment has no size");
    }
    if (ty->kind == TY_FUNC || ty->kind == TY_VOID || !ty->complete)
        cdiag_error(p->c, t, "sizeof of an incomplete or function type");
    return new_num(p, ty->size, ty_ulong, t);
}

/* -x or ~x: the operand promoted, the result of its type. */
static cnode *promoted_unary(parser *p, nd_kind k, const char *what,
                             token *t)
{
    cnode *n = rvalue(p, cast(p));
    if (k == ND_BITNOT)
        check_int(p, n, what);
    else
        check_arith(p, n, what);
    ctype *ty = promote(n->ty);
    return new_unary(p, k, new_cast(p, n, ty), ty, t);
}

static cnode *unary(parser *p)
{
    token *t = p->t;
    enter(p);
    cnode *n;
    if (eat(p, "+")) {
        n = rvalue(p, cast(p));
        check_arith(p, n, "unary '+'");
        n = new_cast(p, n, promote(n->ty));
    } else if (eat(p, "-")) {
        n = promoted_unary(p, ND_NEG, "unary '-'", t);
    } else if (eat(p, "!")) {
        n = to_bool_operand(p, cast(p));
        n = new_unary(p, ND_NOT, n, ty_int, t);
    } else if (eat(p, "~")) {
        n = promoted_unary(p, ND_BITNOT, "'~'", t);
    } else if (eat(p, "&")) {
        n = cast(p);
        if (n->ty->kind == TY_FUNC) {
            n = decay(p, n);
        } else {
            if (!is_lvalue(n))
                cdiag_error(p->c, t, "cannot take the address of an "
                                     "rvalue");
            n = new_unary(p, ND_ADDR, n, ctypes_ptr_to(p->c, n->ty), t);
        }
    } else if (eat(p, "*")) {
        n = new_deref(p, cast(p), t);
    } else if (eat(p, "++")) {
        n = new_incdec(p, ND_PREINC, unary(p), 1, t);
    } else if (eat(p, "--")) {
        n = new_incdec(p, ND_PREINC, unary(p), -1, t);
    } else if (t->kind == TK_KEYWORD && clex_is(t, "sizeof")) {
        p->t = t->next;
        n = sizeof_expr(p, t);
    } else {
        n = postfix(p, primary(p));
    }
    p->depth--;
    return n;
}

static cnode *cast(parser *p)
{
    token *t = p->t;
    if (is(p, "(") && is_typename(p, t->next)) {
        p->t = t->next;
        ctype *ty = typename(p);
        expect(p, ")");
        enter(p);
        cnode *n = cast(p);
        p->depth--;
        if (ty->kind == TY_STRUCT || ty->kind == TY_UNION ||
            ty->kind == TY_ARRAY)
            cdiag_error(p->c, t, "cannot cast to '%s'", ctypes_name(p->c, ty));
        n = new_cast(p, n, ty);
        if (n->kind == ND_NUM || n->kind == ND_FNUM) {
            n->tok = t;
        }
        return n;
    }
    return unary(p);
}

typedef struct binop {
    const char *op;
    int prec;
    nd_kind kind;
} binop;

static const binop binops[] = {
    {"||", 1, ND_LOGOR}, {"&&", 2, ND_LOGAND}, {"|", 3, ND_BITOR},
    {"^", 4, ND_BITXOR}, {"&", 5, ND_BITAND}, {"==", 6, ND_EQ},
    {"!=", 6, ND_NE}, {"<", 7, ND_LT}, {"<=", 7, ND_LE}, {">", 7, ND_GT},
    {">=", 7, ND_GE}, {"<<", 8, ND_SHL}, {">>", 8, ND_SHR},
    {"+", 9, ND_ADD}, {"-", 9, ND_SUB}, {"*", 10, ND_MUL},
    {"/", 10, ND_DIV}, {"%", 10, ND_MOD}, {NULL, 0, ND_NULL}};

static cnode *make_binary(parser *p, nd_kind k, cnode *a, cnode *b, token *t)
{
    switch (k) {
    case ND_ADD: return new_add(p, a, b, t);
    case ND_SUB: return new_sub(p, a, b, t);
    case ND_MUL: return arith(p, k, a, b, t, "'*'", false);
    case ND_DIV: return arith(p, k, a, b, t, "'/'", false);
    case ND_MOD: return arith(p, k, a, b, t, "'%'", true);
    case ND_BITAND: return arith(p, k, a, b, t, "'&'", true);
    case ND_BITOR: return arith(p, k, a, b, t, "'|'", true);
    case ND_BITXOR: return arith(p, k, a, b, t, "'^'", true);
    case ND_SHL:
    case ND_SHR: return shift(p, k, a, b, t);
    case ND_LOGAND:
    case ND_LOGOR:
        return new_bin(p, k, to_bool_operand(p, a), to_bool_operand(p, b),
                       ty_int, t);
    default: return compare(p, k, a, b, t);
    }
}

static cnode *binary(parser *p, int prec)
{
    enter(p);
    cnode *a = cast(p);
    for (;;) {
        int i;
        token *t = p->t;
        for (i = 0; binops[i].op; i++)
            if (t->kind == TK_PUNCT && clex_is(t, binops[i].op))
                break;
        if (!binops[i].op || binops[i].prec < prec)
            break;
        p->t = t->next;
        cnode *b = binary(p, binops[i].prec + 1);
        a = make_binary(p, binops[i].kind, a, b, t);
    }
    p->depth--;
    return a;
}

static cnode *conditional(parser *p)
{
    cnode *c = binary(p, 1);
    token *t = p->t;
    if (!eat(p, "?"))
        return c;
    c = to_bool_operand(p, c);
    enter(p);
    cnode *a = rvalue(p, expr(p));
    expect(p, ":");
    cnode *b = rvalue(p, conditional(p));
    p->depth--;
    cnode *n = new_node(p, ND_COND, t);
    n->cond = c;
    if (ctypes_is_arith(a->ty) && ctypes_is_arith(b->ty)) {
        ctype *ty = ctypes_common(a->ty, b->ty);
        n->then = new_cast(p, a, ty);
        n->els = new_cast(p, b, ty);
        n->ty = ty;
    } else if (a->ty->kind == TY_VOID && b->ty->kind == TY_VOID) {
        n->then = a;
        n->els = b;
        n->ty = ty_void;
    } else if (a->ty->kind == TY_PTR && (b->ty->kind == TY_PTR || is_null_const(b))) {
        n->then = a;
        n->els = new_cast(p, b, a->ty);
        n->ty = a->ty;
    } else if (b->ty->kind == TY_PTR && is_null_const(a)) {
        n->then = new_cast(p, a, b->ty);
        n->els = b;
        n->ty = b->ty;
    } else if ((a->ty->kind == TY_STRUCT || a->ty->kind == TY_UNION) &&
               ctypes_unqual(a->ty) == ctypes_unqual(b->ty)) {
        n->then = a;
        n->els = b;
        n->ty = a->ty;
    } else {
        cdiag_error(p->c, t, "type mismatch in conditional expression ('%s' "
                             "and '%s')", ctypes_name(p->c, a->ty),
                    ctypes_name(p->c, b->ty));
    }
    if (cfold_is_const(c)) {
        bool v = c->kind == ND_FNUM ? c->fval != 0 : c->val != 0;
        cnode *r = v ? n->then : n->els;
        if (cfold_is_const(r))
            return r;
    }
    return n;
}

static const struct { const char *op; nd_kind kind; } assign_ops[] = {
    {"+=", ND_ADD}, {"-=", ND_SUB}, {"*=", ND_MUL}, {"/=", ND_DIV},
    {"%=", ND_MOD}, {"&=", ND_BITAND}, {"|=", ND_BITOR}, {"^=", ND_BITXOR},
    {"<<=", ND_SHL}, {">>=", ND_SHR}, {NULL, ND_NULL}};

static cnode *assign(parser *p)
{
    enter(p);
    cnode *n = conditional(p);
    token *t = p->t;
    if (eat(p, "=")) {
        n = new_assign(p, n, assign(p), t);
    } else {
        for (int i = 0; assign_ops[i].op; i++)
            if (eat(p, assign_ops[i].op)) {
                n = new_opassign(p, assign_ops[i].kind, n, assign(p), t);
                break;
            }
    }
    p->depth--;
    return n;
}

static cnode *expr(parser *p)
{
    cnode *n = assign(p);
    token *t = p->t;
    while (eat(p, ",")) {
        cnode *b = assign(p);
        cnode *c = new_node(p, ND_COMMA, t);
        c->lhs = n;
        c->rhs = rvalue(p, b);
        c->ty = c->rhs->ty;
        n = c;
        t = p->t;
    }
    return n;
}

static int64_t const_int(parser *p)
{
    cnode *n = conditional(p);
    return cfold_int(p->c, n);
}

/* ---- declarations -------------------------------------------------- */

static long align_to(long n, long a)
{
    return (n + a - 1) / a * a;
}

static void struct_members(parser *p, ctype *ty)
{
    member head = {0}, *cur = &head;
    expect(p, "{");
    while (!eat(p, "}")) {
        declattr attr = {0};
        token *at = p->t;
        ctype *base = declspec(p, &attr);
        if (attr.sc != SC_NONE)
            cdiag_error(p->c, at, "a storage class is not allowed on a "
                                  "member");
        bool first = true;
        if (eat(p, ";") && (base->kind == TY_STRUCT || base->kind == TY_UNION)) {
            cur = cur->next = carena_alloc(p->c, sizeof *cur);
            cur->ty = base;
            continue;
        }
        while (!eat(p, ";")) {
            if (!first)
                expect(p, ",");
            first = false;
            ctype *mt = declarator(p, base);
            if (is(p, ":"))
                cdiag_error(p->c, p->t, "bit-fields are not supported");
            if (mt->kind == TY_FUNC)
                cdiag_error(p->c, mt->name, "a member cannot be a function");
            if (!mt->complete || mt->kind == TY_VOID)
                cdiag_error(p->c, mt->name ? mt->name : at,
                            "member has an incomplete type");
            cur = cur->next = carena_alloc(p->c, sizeof *cur);
            cur->ty = mt;
            cur->name = mt->name;
        }
    }
    long off = 0;
    int align = 1;
    for (member *m = head.next; m; m = m->next) {
        if (ty->kind == TY_STRUCT) {
            off = align_to(off, m->ty->align);
            m->offset = off;
            off += m->ty->size;
        } else {
            m->offset = 0;
            if (m->ty->size > off)
                off = m->ty->size;
        }
        if (m->ty->align > align)
            align = m->ty->align;
    }
    /* anonymous struct/union members: lift their members */
    member h2 = {0}, *c2 = &h2;
    for (member *m = head.next; m; m = m->next) {
        if (m->name) {
            c2 = c2->next = m;
            continue;
        }
        for (member *s = m->ty->members; s; s = s->next) {
            member *x = carena_alloc(p->c, sizeof *x);
            *x = *s;
            x->offset += m->offset;
            c2 = c2->next = x;
        }
    }
    c2->next = NULL;
    ty->members = h2.next;
    ty->align = align;
    ty->size = align_to(off, align);
    ty->complete = true;
}

static ctype *struct_decl(parser *p, bool is_union)
{
    token *tag = NULL;
    if (p->t->kind == TK_IDENT)
        tag = expect_ident(p);
    if (tag && !is(p, "{")) {
        ctype *ty = find_tag(p, tok_str(p, tag), false);
        if (ty) {
            if ((ty->kind == TY_UNION) != is_union)
                cdiag_error(p->c, tag, "'%.*s' defined as a different kind "
                            "of tag", tag->len, tag->loc);
            return ty;
        }
        ty = ctypes_struct(p->c, is_union);
        push_tag(p, tok_str(p, tag), ty);
        return ty;
    }
    ctype *ty = NULL;
    if (tag) {
        ty = find_tag(p, tok_str(p, tag), true);
        if (ty && ty->complete)
            cdiag_error(p->c, tag, "redefinition of '%.*s'", tag->len,
                        tag->loc);
        if (ty && (ty->kind == TY_UNION) != is_union)
            cdiag_error(p->c, tag, "'%.*s' defined as a different kind of "
                        "tag", tag->len, tag->loc);
    }
    if (!ty) {
        ty = ctypes_struct(p->c, is_union);
        if (tag)
            push_tag(p, tok_str(p, tag), ty);
    }
    struct_members(p, ty);
    return ty;
}

static ctype *enum_decl(parser *p)
{
    ctype *ty = ctypes_copy(p->c, ty_int);
    ty->kind = TY_ENUM;
    ty->origin = NULL;
    token *tag = NULL;
    if (p->t->kind == TK_IDENT)
        tag = expect_ident(p);
    if (tag && !is(p, "{")) {
        ctype *t = find_tag(p, tok_str(p, tag), false);
        if (!t)
            cdiag_error(p->c, tag, "unknown enum '%.*s'", tag->len, tag->loc);
        if (t->kind != TY_ENUM)
            cdiag_error(p->c, tag, "'%.*s' is not an enum", tag->len,
                        tag->loc);
        return t;
    }
    expect(p, "{");
    int64_t v = 0;
    bool first = true;
    while (!eat(p, "}")) {
        if (!first) {
            expect(p, ",");
            if (eat(p, "}"))
                break;
        }
        first = false;
        token *name = expect_ident(p);
        if (eat(p, "="))
            v = const_int(p);
        if (v != (int32_t)v)
            cdiag_error(p->c, name, "enumerator value out of the range of "
                                    "int");
        char *s = tok_str(p, name);
        if (find_var_here(p, s))
            cdiag_error(p->c, name, "redefinition of '%s'", s);
        vscope *vs = push_var(p, s);
        vs->enum_ty = ty;
        vs->enum_val = v++;
    }
    if (tag)
        push_tag(p, tok_str(p, tag), ty);
    return ty;
}

enum {
    K_VOID = 1 << 0, K_BOOL = 1 << 2, K_CHAR = 1 << 4, K_SHORT = 1 << 6,
    K_INT = 1 << 8, K_LONG = 1 << 10, K_DOUBLE = 1 << 14, K_OTHER = 1 << 16,
    K_SIGNED = 1 << 17, K_UNSIGNED = 1 << 18
};

static ctype *spec_type(parser *p, int k, token *t)
{
    switch (k) {
    case K_VOID: return ty_void;
    case K_BOOL: return ty_bool;
    case K_CHAR: case K_SIGNED + K_CHAR: return ty_char;
    case K_UNSIGNED + K_CHAR: return ty_uchar;
    case K_SHORT: case K_SHORT + K_INT: case K_SIGNED + K_SHORT:
    case K_SIGNED + K_SHORT + K_INT: return ty_short;
    case K_UNSIGNED + K_SHORT: case K_UNSIGNED + K_SHORT + K_INT:
        return ty_ushort;
    case K_INT: case K_SIGNED: case K_SIGNED + K_INT: return ty_int;
    case K_UNSIGNED: case K_UNSIGNED + K_INT: return ty_uint;
    case K_LONG: case K_LONG + K_INT: case K_LONG + K_LONG:
    case K_LONG + K_LONG + K_INT: case K_SIGNED + K_LONG:
    case K_SIGNED + K_LONG + K_INT: case K_SIGNED + K_LONG + K_LONG:
    case K_SIGNED + K_LONG + K_LONG + K_INT: return ty_long;
    case K_UNSIGNED + K_LONG: case K_UNSIGNED + K_LONG + K_INT:
    case K_UNSIGNED + K_LONG + K_LONG:
    case K_UNSIGNED + K_LONG + K_LONG + K_INT: return ty_ulong;
    case K_DOUBLE: return ty_double;
    case K_LONG + K_DOUBLE:
        cdiag_error(p->c, t, "'long double' is not supported");
    default:
        cdiag_error(p->c, t, "invalid combination of type specifiers");
    }
}

static void set_storage(parser *p, declattr *attr, storage sc, token *t)
{
    if (!attr)
        cdiag_error(p->c, t, "a storage class is not allowed here");
    if (attr->sc != SC_NONE)
        cdiag_error(p->c, t, "more than one storage class");
    attr->sc = sc;
}

static ctype *declspec(parser *p, declattr *attr)
{
    int k = 0;
    ctype *ty = ty_int;
    bool is_const = false, any = false;
    token *start = p->t;
    for (;;) {
        token *t = p->t;
        if (t->kind == TK_KEYWORD) {
            static const struct { const char *kw; storage sc; } scs[] = {
                {"typedef", SC_TYPEDEF}, {"static", SC_STATIC},
                {"extern", SC_EXTERN}, {"register", SC_REGISTER},
                {"standalone", SC_STANDALONE}, {NULL, SC_NONE}};
            bool done = false;
            for (int i = 0; scs[i].kw; i++)
                if (clex_is(t, scs[i].kw)) {
                    set_storage(p, attr, scs[i].sc, t);
                    done = true;
                }
            if (done) {
                p->t = t->next;
                continue;
            }
            if (clex_is(t, "const")) {
                is_const = true;
                p->t = t->next;
                continue;
            }
            if (clex_is(t, "volatile") || clex_is(t, "auto") ||
                clex_is(t, "restrict")) {
                p->t = t->next;
                continue;
            }
            if (clex_is(t, "inline")) {
                if (attr)
                    attr->is_inline = true;
                p->t = t->next;
                continue;
            }
            if (clex_is(t, "float"))
                cdiag_error(p->c, t, "'float' is not supported; use "
                                     "'double'");
            if (clex_is(t, "struct") || clex_is(t, "union") ||
                clex_is(t, "enum")) {
                if (k)
                    cdiag_error(p->c, t, "invalid combination of type "
                                         "specifiers");
                p->t = t->next;
                ty = clex_is(t, "enum") ? enum_decl(p)
                                        : struct_decl(p, clex_is(t, "union"));
                k += K_OTHER;
                any = true;
                continue;
            }
            static const struct { const char *kw; int k; } sp[] = {
                {"void", K_VOID}, {"bool", K_BOOL}, {"_Bool", K_BOOL},
                {"char", K_CHAR}, {"short", K_SHORT}, {"int", K_INT},
                {"long", K_LONG}, {"double", K_DOUBLE},
                {"signed", K_SIGNED}, {"unsigned", K_UNSIGNED}, {NULL, 0}};
            int i;
            for (i = 0; sp[i].kw; i++)
                if (clex_is(t, sp[i].kw))
                    break;
            if (!sp[i].kw)
                break;
            if (k & K_OTHER)
                cdiag_error(p->c, t, "invalid combination of type "
                                     "specifiers");
            if ((sp[i].k == K_SIGNED || sp[i].k == K_UNSIGNED) &&
                (k & (K_SIGNED | K_UNSIGNED)))
                cdiag_error(p->c, t, "invalid combination of type "
                                     "specifiers");
            k += sp[i].k;
            if (k & (K_LONG * 3) && (k & (K_LONG * 3)) == K_LONG * 3)
                cdiag_error(p->c, t, "'long long long' is too long");
            ty = spec_type(p, k, t);
            any = true;
            p->t = t->next;
            continue;
        }
        ctype *td;
        if (!k && t->kind == TK_IDENT && (td = find_typedef(p, t))) {
            ty = td;
            k += K_OTHER;
            any = true;
            p->t = t->next;
            continue;
        }
        break;
    }
    if (!any && !is_const && (!attr || attr->sc == SC_NONE))
        cdiag_error(p->c, start, "expected a type before '%.*s'", start->len,
                    start->loc);
    if (is_const) {
        ty = ctypes_copy(p->c, ty);
        ty->is_const = true;
    }
    return ty;
}

static ctype *func_params(parser *p, ctype *ret)
{
    ctype *fty = ctypes_func(p->c, ret);
    if (ret->kind == TY_STRUCT || ret->kind == TY_UNION)
        cdiag_error(p->c, p->t, "functions cannot return a struct in this "
                                "version; pass a pointer");
    if (ret->kind == TY_ARRAY || ret->kind == TY_FUNC)
        cdiag_error(p->c, p->t, "a function cannot return an array or a "
                                "function");
    if (eat(p, ")")) {
        fty->oldstyle = true;
        return fty;
    }
    if (is(p, "void") && clex_is(p->t->next, ")")) {
        p->t = p->t->next->next;
        return fty;
    }
    ctype head = {0}, *cur = &head;
    while (!eat(p, ")")) {
        if (cur != &head)
            expect(p, ",");
        if (is(p, "..."))
            cdiag_error(p->c, p->t, "variadic functions are not supported");
        declattr attr = {0};
        token *at = p->t;
        ctype *ty = declspec(p, &attr);
        if (attr.sc != SC_NONE && attr.sc != SC_REGISTER)
            cdiag_error(p->c, at, "invalid storage class for a parameter");
        ty = declarator(p, ty);
        token *name = ty->name;
        if (ty->kind == TY_ARRAY)
            ty = ctypes_ptr_to(p->c, ty->base);
        else if (ty->kind == TY_FUNC)
            ty = ctypes_ptr_to(p->c, ty);
        else
            ty = ctypes_copy(p->c, ty);
        if (ty->kind == TY_VOID)
            cdiag_error(p->c, at, "a parameter cannot be void");
        if (!ty->complete)
            cdiag_error(p->c, at, "parameter has an incomplete type");
        ty->name = name;
        cur = cur->next = ty;
    }
    fty->params = head.next;
    return fty;
}

static ctype *type_suffix(parser *p, ctype *ty)
{
    if (eat(p, "("))
        return func_params(p, ty);
    if (eat(p, "[")) {
        long len = -1;
        if (!is(p, "]")) {
            token *t = p->t;
            cnode *n = conditional(p);
            if (n->kind != ND_NUM || !ctypes_is_integer(n->ty))
                cdiag_error(p->c, t, "an array size must be an integer "
                                     "constant expression (no VLAs)");
            if (n->val < 0 || (!n->ty->uns && n->val < 0))
                cdiag_error(p->c, t, "array size is negative");
            if (n->val > ((int64_t)1 << 45))
                cdiag_error(p->c, t, "array is too large");
            len = (long)n->val;
        }
        expect(p, "]");
        ty = type_suffix(p, ty);
        if (!ty->complete || ty->kind == TY_VOID)
            cdiag_error(p->c, p->t, "array of an incomplete type");
        if (ty->kind == TY_FUNC)
            cdiag_error(p->c, p->t, "array of functions");
        if (len >= 0 && ty->size && len > (((int64_t)1 << 46) / ty->size))
            cdiag_error(p->c, p->t, "array is too large");
        return ctypes_array_of(p->c, ty, len);
    }
    return ty;
}

static ctype *pointers(parser *p, ctype *ty)
{
    while (eat(p, "*")) {
        ty = ctypes_ptr_to(p->c, ty);
        for (;;) {
            if (eat(p, "const")) {
                ty = ctypes_copy(p->c, ty);
                ty->is_const = true;
            } else if (!eat(p, "volatile") && !eat(p, "restrict")) {
                break;
            }
        }
    }
    return ty;
}

/* A declarator (named, or abstract for type names): pointers, then a
 * parenthesised inner declarator or a name, then array and function
 * suffixes, which apply before the inner declarator's own. */
static ctype *any_declarator(parser *p, ctype *ty, bool abstract)
{
    enter(p);
    ty = pointers(p, ty);
    if (is(p, "(") && !is_typename(p, p->t->next) && !clex_is(p->t->next, ")")) {
        p->t = p->t->next;
        token *start = p->t;
        ctype dummy = {0};
        any_declarator(p, &dummy, abstract);
        expect(p, ")");
        ty = type_suffix(p, ty);
        token *after = p->t;
        p->t = start;
        ty = any_declarator(p, ty, abstract);
        p->t = after;
        p->depth--;
        return ty;
    }
    token *name = NULL;
    if (!abstract && p->t->kind == TK_IDENT) {
        name = p->t;
        p->t = p->t->next;
    } else if (!abstract && p->t->kind == TK_KEYWORD && !is(p, "(") &&
               !is(p, "[")) {
        cdiag_error(p->c, p->t, "'%.*s' is a keyword and cannot be a name",
                    p->t->len, p->t->loc);
    }
    ty = type_suffix(p, ty);
    if (!abstract) {
        ty = ctypes_copy(p->c, ty);
        ty->name = name;
    }
    p->depth--;
    return ty;
}

static ctype *declarator(parser *p, ctype *ty)
{
    return any_declarator(p, ty, false);
}

static ctype *abstract_declarator(parser *p, ctype *ty)
{
    return any_declarator(p, ty, true);
}

/* ---- objects ------------------------------------------------------- */

static bool is_mnemonic(const char *s)
{
    static const char *const m[] = {"mov", "add", "sub", "mul", "div", "and",
                                    "or", "xor", "br", "bl", "newr", "exit",
                                    NULL};
    for (int i = 0; m[i]; i++)
        if (!strcmp(s, m[i]))
            return true;
    return false;
}

static char *global_sym(parser *p, const char *name, bool is_static)
{
    if (is_static)
        return carena_printf(p->c, "c0.s%d.%s", p->c->tu, name);
    if (is_mnemonic(name))
        return carena_printf(p->c, "c0.g.%s", name);
    return (char *)name;
}

cobj *cparse_find_global(cc_ctx *c, const char *name)
{
    for (cobj *o = c->globals; o; o = o->next)
        if (!o->is_static && !strcmp(o->name, name))
            return o;
    return NULL;
}

static cobj *new_global(parser *p, ctype *ty, declattr *attr, token *name)
{
    char *s = tok_str(p, name);
    bool is_static = attr->sc == SC_STATIC;
    vscope *vs = find_var_here(p, s);
    if (vs && vs->var) {
        cobj *o = vs->var;
        if (o->is_builtin_decl && o->is_func) {
            o->ty = ty;
            o->tok = name;
            o->is_builtin_decl = false;
            return o;
        }
        if (!ctypes_compatible(o->ty, ty))
            cdiag_error(p->c, name, "conflicting types for '%s'", s);
        if (ty->kind == TY_ARRAY && ty->len >= 0)
            o->ty = ty;
        if (ty->kind == TY_FUNC && !ty->oldstyle)
            o->ty = ty;
        return o;
    }
    if (vs)
        cdiag_error(p->c, name, "'%s' redeclared as a different kind of "
                                "symbol", s);
    cobj *o = NULL;
    if (!is_static)
        for (cobj *g = p->c->globals; g; g = g->next)
            if (!g->is_static && !strcmp(g->name, s) && g->tu != p->c->tu) {
                o = g;
                break;
            }
    if (o) {
        if (!ctypes_compatible(o->ty, ty) && !o->is_builtin_decl &&
            !(p->c->in_lib && o->is_func))
            cdiag_error(p->c, name, "conflicting types for '%s' (declared "
                                    "differently in another file)", s);
        if (!o->is_func && ty->kind == TY_ARRAY && ty->len >= 0)
            o->ty = ty;
    } else {
        o = carena_alloc(p->c, sizeof *o);
        o->name = s;
        o->sym = global_sym(p, s, is_static);
        o->ty = ty;
        o->tok = name;
        o->is_static = is_static;
        o->sc = attr->sc;
        o->tu = p->c->tu;
        o->is_func = ty->kind == TY_FUNC;
        o->is_lib = p->c->in_lib;
        o->is_builtin_decl = name->file && name->file->prelude;
        o->next = p->c->globals;
        p->c->globals = o;
    }
    push_var(p, s)->var = o;
    return o;
}

static cobj *new_local(parser *p, ctype *ty, token *name)
{
    char *s = tok_str(p, name);
    vscope *vs = find_var_here(p, s);
    if (vs)
        cdiag_error(p->c, name, "redefinition of '%s'", s);
    cobj *o = carena_alloc(p->c, sizeof *o);
    o->name = s;
    o->ty = ty;
    o->tok = name;
    o->is_local = true;
    o->next = p->locals;
    p->locals = o;
    push_var(p, s)->var = o;
    return o;
}

/* ---- initializers -------------------------------------------------- */

typedef struct initz {
    cc_ctx *c;
    unsigned char *buf;
    reloc *relocs;
} initz;

static void put_bytes(unsigned char *b, long off, int64_t v, long size)
{
    for (long i = 0; i < size; i++)
        b[off + i] = (unsigned char)((uint64_t)v >> (8 * i));
}

static char *string_sym(parser *p, const char *s, long len);

/* An address constant: &global (+ const), a function, a string. */
static bool addr_const(parser *p, cnode *n, const char **sym, long *add)
{
    switch (n->kind) {
    case ND_CAST:
        if (n->ty->size != 8)
            return false;
        return addr_const(p, n->lhs, sym, add);
    case ND_ADDR: {
        cnode *a = n->lhs;
        long off = 0;
        while (a->kind == ND_MEMBER) {
            off += a->mem->offset;
            a = a->lhs;
        }
        if (a->kind == ND_DEREF) {
            if (!addr_const(p, a->lhs, sym, add))
                return false;
            *add += off;
            return true;
        }
        if (a->kind == ND_STR) {
            *sym = string_sym(p, a->name, a->val);
            *add = off;
            return true;
        }
        if (a->kind != ND_VAR || a->var->is_local ||
            a->var->sc == SC_REGISTER || a->var->is_lib)
            return false;
        if (a->var->is_func)
            a->var->addr_taken = true;
        *sym = a->var->sym;
        *add = off;
        return true;
    }
    case ND_ADD:
    case ND_SUB:
        if (n->rhs->kind != ND_NUM || !addr_const(p, n->lhs, sym, add))
            return false;
        *add = (long)((uint64_t)*add + (n->kind == ND_ADD
                                            ? (uint64_t)n->rhs->val
                                            : 0 - (uint64_t)n->rhs->val));
        return true;
    default:
        return false;
    }
}

static void init_scalar(parser *p, initz *z, ctype *ty, long off, token *at)
{
    cnode *n = convert_assign(p, assign(p), ty, at);
    if (n->kind == ND_NUM) {
        put_bytes(z->buf, off, n->val, ty->size);
        return;
    }
    if (n->kind == ND_FNUM) {
        if (ty->kind == TY_DOUBLE) {
            memcpy(z->buf + off, &n->fval, 8);
            return;
        }
    }
    const char *sym;
    long add = 0;
    if (ty->size == 8 && addr_const(p, n, &sym, &add)) {
        reloc *r = carena_alloc(p->c, sizeof *r);
        r->offset = off;
        r->sym = sym;
        r->addend = add;
        r->next = z->relocs;
        z->relocs = r;
        return;
    }
    cdiag_error(p->c, at, "a file-scope initializer must be a constant "
                          "expression");
}

static void global_init(parser *p, initz *z, ctype *ty, long off);
static ctype *init_target(parser *p, ctype *ty, initz *z);

static void check_designator(parser *p)
{
    if (is(p, ".") || is(p, "["))
        cdiag_error(p->c, p->t, "designated initializers are not supported");
}

static bool string_init(parser *p, ctype *ty, unsigned char *buf, long off,
                        cnode **out)
{
    token *t = p->t;
    bool braced = is(p, "{") && t->next->kind == TK_STR;
    if (ty->kind != TY_ARRAY || ty->base->kind != TY_CHAR ||
        (p->t->kind != TK_STR && !braced))
        return false;
    if (braced)
        p->t = p->t->next;
    cnode *s = primary(p);
    if (braced)
        expect(p, "}");
    if (ty->len < 0) {
        ty->len = (long)s->val;
        ty->size = ty->len;
        ty->complete = true;
    } else if (s->val - 1 > ty->len) {
        cdiag_warn(p->c, t, "initializer-string is too long for its array");
    }
    long n = s->val < ty->len ? (long)s->val : ty->len;
    if (buf)
        memcpy(buf + off, s->name, (size_t)n);
    if (out)
        *out = s;
    return true;
}

/* Walks a brace list (or, unbraced, the elements it can take) for an
 * array or struct of type ty, calling each(p, ctx, element type, byte
 * offset, index, member) for every initializer; an array of unknown
 * length gets the length it takes. */
typedef void init_each(parser *p, void *ctx, ctype *ety, long off, long i,
                       member *m);

static void init_list(parser *p, ctype *ty, init_each *each, void *ctx)
{
    bool braced = eat(p, "{");
    long i = 0;
    member *m = ty->kind == TY_ARRAY ? NULL : ty->members;
    for (;; i++) {
        bool more = ty->kind == TY_ARRAY
                        ? (braced || ty->len < 0 || i < ty->len)
                        : (braced || m != NULL);
        if (!more || is(p, "}") || (!braced && is(p, ";")))
            break;
        if (i)
            expect(p, ",");
        if (braced && is(p, "}"))
            break;
        check_designator(p);
        if (ty->kind == TY_ARRAY) {
            if (ty->len >= 0 && i >= ty->len)
                cdiag_error(p->c, p->t, "excess elements in array "
                                        "initializer");
            each(p, ctx, ty->base, i * ty->base->size, i, NULL);
        } else {
            if (!m)
                cdiag_error(p->c, p->t, "excess elements in struct "
                                        "initializer");
            each(p, ctx, m->ty, m->offset, i, m);
            m = ty->kind == TY_UNION ? NULL : m->next;
        }
    }
    if (ty->kind == TY_ARRAY && ty->len < 0) {
        ty->len = i;
        ty->size = i * ty->base->size;
        ty->complete = true;
    }
    if (braced) {
        eat(p, ",");
        expect(p, "}");
    }
}

typedef struct global_ctx {
    initz *z;
    long off;
} global_ctx;

static void global_each(parser *p, void *ctx, ctype *ety, long off, long i,
                        member *m)
{
    global_ctx *g = ctx;
    (void)i;
    (void)m;
    global_init(p, g->z, ety, g->off + off);
}

static void global_init_list(parser *p, initz *z, ctype *ty, long off)
{
    global_ctx g = {z, off};
    init_list(p, ty, global_each, &g);
}

/* The type to initialise (a fresh array type when its length comes from
 * the initializer) and a zeroed buffer large enough for it. */
static ctype *init_target(parser *p, ctype *ty, initz *z)
{
    long size = ty->size;
    if (ty->kind == TY_ARRAY && ty->len < 0) {
        long ntok = 1;
        for (token *q = p->t; q->kind != TK_EOF && !clex_is(q, ";");
             q = q->next)
            ntok += q->kind == TK_STR ? q->strlen : 1;
        ty = ctypes_array_of(p->c, ty->base, -1);
        size = ntok * ty->base->size;
    }
    z->buf = carena_alloc(p->c, (size_t)size + 1);
    return ty;
}

static void global_init(parser *p, initz *z, ctype *ty, long off)
{
    enter(p);
    if (string_init(p, ty, z->buf, off, NULL)) {
        p->depth--;
        return;
    }
    if (ctypes_is_aggr(ty)) {
        if (!is(p, "{") && !(ty->kind == TY_ARRAY || ty->kind == TY_STRUCT))
            cdiag_error(p->c, p->t, "expected '{'");
        global_init_list(p, z, ty, off);
        p->depth--;
        return;
    }
    bool braced = eat(p, "{");
    init_scalar(p, z, ty, off, p->t);
    if (braced)
        expect(p, "}");
    p->depth--;
}

/* Local initializers become assignments (after zeroing an aggregate). */
static void local_init(parser *p, cnode **cur, cobj *v, ctype *ty,
                       cnode *lv);

static cnode *lv_elem(parser *p, cnode *lv, long i, token *t)
{
    cnode *a = decay(p, lv);
    return new_deref(p, new_add(p, a, new_num(p, i, ty_long, t), t), t);
}

static cnode *lv_member(parser *p, cnode *lv, member *m, token *t)
{
    cnode *n = new_node(p, ND_MEMBER, t);
    n->lhs = lv;
    n->mem = m;
    n->ty = m->ty;
    return n;
}

static void add_stmt(parser *p, cnode **cur, cnode *e, token *t)
{
    cnode *s = new_node(p, ND_EXPR_STMT, t);
    s->lhs = e;
    *cur = (*cur)->next = s;
}

typedef struct local_ctx {
    cnode **cur;
    cobj *v;
    cnode *lv;
    token *t;
} local_ctx;

static void local_each(parser *p, void *ctx, ctype *ety, long off, long i,
                       member *m)
{
    local_ctx *l = ctx;
    (void)off;
    local_init(p, l->cur, l->v, ety,
               m ? lv_member(p, l->lv, m, l->t) : lv_elem(p, l->lv, i, l->t));
}

static void local_init_list(parser *p, cnode **cur, cobj *v, ctype *ty,
                            cnode *lv)
{
    local_ctx l = {cur, v, lv, p->t};
    init_list(p, ty, local_each, &l);
}

static void local_init(parser *p, cnode **cur, cobj *v, ctype *ty, cnode *lv)
{
    enter(p);
    token *t = p->t;
    cnode *s;
    if (string_init(p, ty, NULL, 0, &s)) {
        long n = s->val < ty->len ? (long)s->val : ty->len;
        for (long i = 0; i < n; i++)
            add_stmt(p, cur, new_assign(p, lv_elem(p, lv, i, t),
                                        new_num(p, (signed char)s->name[i],
                                                ty_int, t), t), t);
        p->depth--;
        return;
    }
    if (ctypes_is_aggr(ty) && (is(p, "{") || ty->kind == TY_ARRAY)) {
        local_init_list(p, cur, v, ty, lv);
        p->depth--;
        return;
    }
    bool braced = eat(p, "{");
    cnode *e = assign(p);
    cnode *a = lv;
    if (ty->is_const) {
        ctype *u = ctypes_copy(p->c, ty);
        u->is_const = false;
        a = new_node(p, lv->kind, lv->tok);
        *a = *lv;
        a->ty = u;
    }
    add_stmt(p, cur, new_assign(p, a, e, t), t);
    if (braced)
        expect(p, "}");
    p->depth--;
}

/* ---- function bodies, statements ----------------------------------- */

static char *new_label(parser *p)
{
    return carena_printf(p->c, "c0.L%d.%d", p->c->tu, ++p->nlabel);
}

/* A defined object private to this unit (a string literal, a block
 * static), listed with the globals. */
static cobj *new_static(parser *p, char *name, char *sym, ctype *ty)
{
    cobj *o = carena_alloc(p->c, sizeof *o);
    o->name = name;
    o->sym = sym;
    o->ty = ty;
    o->is_static = true;
    o->is_def = true;
    o->tu = p->c->tu;
    o->next = p->c->globals;
    p->c->globals = o;
    return o;
}

static char *string_sym(parser *p, const char *s, long len)
{
    char *sym = carena_printf(p->c, "c0.str.%d", p->c->nstrings++);
    cobj *o = new_static(p, sym, sym, ctypes_array_of(p->c, ty_char, len));
    o->init = carena_alloc(p->c, (size_t)len);
    memcpy(o->init, s, (size_t)len);
    o->in_text = true;
    return o->sym;
}

static bool is_decl_start(parser *p)
{
    return is_typename(p, p->t);
}

static cnode *declaration(parser *p, ctype *base, declattr *attr)
{
    cnode head = {0}, *cur = &head;
    bool first = true;
    token *start = p->t;
    while (!eat(p, ";")) {
        if (!first && !eat(p, ","))
            expect(p, ";");
        first = false;
        ctype *ty = declarator(p, base);
        token *name = ty->name;
        if (!name)
            cdiag_error(p->c, start, "expected a variable name");
        if (ty->kind == TY_VOID)
            cdiag_error(p->c, name, "variable declared void");
        if (attr->sc == SC_TYPEDEF) {
            char *s = tok_str(p, name);
            vscope *vs = find_var_here(p, s);
            if (vs && !(vs->type_def && ctypes_compatible(vs->type_def, ty)))
                cdiag_error(p->c, name, "redefinition of '%s'", s);
            push_var(p, s)->type_def = ty;
            continue;
        }
        if (ty->kind == TY_FUNC) {
            cobj *f = new_global(p, ty, &(declattr){.sc = attr->sc == SC_STATIC ? SC_STATIC : SC_NONE}, name);
            (void)f;
            continue;
        }
        if (attr->sc == SC_STATIC || attr->sc == SC_EXTERN) {
            cobj *o;
            if (attr->sc == SC_EXTERN) {
                o = new_global(p, ty, attr, name);
            } else {
                char *n = tok_str(p, name);
                o = new_static(p, n, carena_printf(p->c, "c0.s%d.%s.%d.%s",
                                                   p->c->tu, p->fn->name,
                                                   ++p->nstatic, n), ty);
                o->tok = name;
                push_var(p, o->name)->var = o;
            }
            if (eat(p, "=")) {
                if (attr->sc == SC_EXTERN)
                    cdiag_error(p->c, name, "an 'extern' block variable "
                                            "cannot be initialised");
                initz z = {p->c, NULL, NULL};
                ty = o->ty = init_target(p, ty, &z);
                global_init(p, &z, ty, 0);
                o->init = z.buf;
                o->relocs = z.relocs;
            }
            if (!o->ty->complete && attr->sc != SC_EXTERN)
                cdiag_error(p->c, name, "variable has an incomplete type");
            continue;
        }
        if (attr->sc == SC_STANDALONE)
            cdiag_error(p->c, name, "'standalone' is only for file-scope "
                                    "variables");
        cobj *v = new_local(p, ty, name);
        if (eat(p, "=")) {
            cnode *lv = new_var(p, v, name);
            if (ctypes_is_aggr(ty)) {
                if (ty->kind == TY_ARRAY && ty->len < 0) {
                    token *save = p->t;
                    cnode h2 = {0}, *c2 = &h2;
                    local_init(p, &c2, v, ty, lv);
                    p->t = save;
                }
                cnode *z = new_node(p, ND_ZERO, name);
                z->lhs = lv;
                z->ty = ty;
                add_stmt(p, &cur, z, name);
            }
            local_init(p, &cur, v, ty, lv);
        }
        if (!v->ty->complete)
            cdiag_error(p->c, name, "variable '%s' has an incomplete type",
                        v->name);
    }
    cnode *b = new_node(p, ND_BLOCK, start);
    b->body = head.next;
    return b;
}

static cnode *expr_stmt(parser *p)
{
    token *t = p->t;
    cnode *n = new_node(p, ND_EXPR_STMT, t);
    n->lhs = expr(p);
    if (n->lhs->kind == ND_SEG)
        cdiag_error(p->c, t, "a segment may appear only in a range list");
    expect(p, ";");
    return n;
}

static bool derefs_local_addr(cnode *n)
{
    /* &x, local array decay, &a[i] ... reach a local object's storage */
    switch (n->kind) {
    case ND_ADDR: {
        cnode *a = n->lhs;
        while (a->kind == ND_MEMBER)
            a = a->lhs;
        if (a->kind == ND_VAR)
            return a->var->is_local;
        if (a->kind == ND_DEREF)
            return derefs_local_addr(a->lhs);
        return false;
    }
    case ND_ADD:
    case ND_SUB:
    case ND_CAST: return derefs_local_addr(n->lhs);
    default: return false;
    }
}

static bool range_is_local(cnode *n)
{
    while (n->kind == ND_MEMBER)
        n = n->lhs;
    if (n->kind == ND_VAR)
        return n->var->is_local || n->var->sc == SC_REGISTER ||
               (n->var->is_lib && n->var->in_text);
    if (n->kind == ND_DEREF)
        return derefs_local_addr(n->lhs);
    return false;
}

static const char *range_name(cnode *n)
{
    while (n->kind == ND_MEMBER || n->kind == ND_DEREF || n->kind == ND_ADD ||
           n->kind == ND_ADDR || n->kind == ND_CAST)
        n = n->lhs;
    return n->kind == ND_VAR ? n->var->name : "this object";
}

static range *parse_range(parser *p)
{
    token *t = p->t;
    p->allow_seg = true;
    cnode *n = conditional(p);
    p->allow_seg = false;
    range *r = carena_alloc(p->c, sizeof *r);
    r->tok = t;
    if (n->kind == ND_SEG) {
        if (derefs_local_addr(n->lhs))
            cdiag_error(p->c, t, "'%s' is local to this runner and cannot be "
                        "a range", range_name(n->lhs));
        r->base = n->lhs;
        r->lo = n->cond;
        r->hi = n->rhs;
        r->elem = n->val;
        return r;
    }
    if (!is_lvalue(n))
        cdiag_error(p->c, t, "a range must be an lvalue or a segment "
                             "'E[lo,,hi]'");
    if (range_is_local(n))
        cdiag_error(p->c, t, "'%s' is local to this runner and cannot be a "
                    "range", range_name(n));
    if (!n->ty->complete || n->ty->size <= 0)
        cdiag_error(p->c, t, "a range needs a complete type");
    cnode *a = new_node(p, ND_ADDR, t);
    a->lhs = n;
    a->ty = ctypes_ptr_to(p->c, n->ty);
    r->base = a;
    r->size = n->ty->size;
    return r;
}

static range *range_list(parser *p, range *list, int *count)
{
    range **tail = &list;
    while (*tail)
        tail = &(*tail)->next;
    do {
        range *r = parse_range(p);
        if (++*count > 64)
            cdiag_error(p->c, r->tok, "too many ranges: at most 64 per list");
        *tail = r;
        tail = &r->next;
    } while (eat(p, ","));
    return list;
}

static cnode *runner_stmt(parser *p, token *t)
{
    token *name = expect_ident(p);
    char *s = tok_str(p, name);
    vscope *v = find_var(p, s);
    if (!v || !v->var)
        cdiag_error(p->c, name, "'%s' undeclared; a runner target must be a "
                                "declared function", s);
    cobj *f = v->var;
    if (!f->is_func)
        cdiag_error(p->c, name, "the runner target '%s' must be a function "
                                "name", s);
    if (f->ty->base->kind != TY_VOID)
        cdiag_error(p->c, name, "the runner target '%s' must return void", s);
    for (ctype *pt = f->ty->params; pt; pt = pt->next)
        if (!ctypes_is_scalar(pt) && pt->kind != TY_STRUCT &&
            pt->kind != TY_UNION)
            cdiag_error(p->c, name, "runner parameters must be scalars or "
                                    "structs");
    cnode *n = new_node(p, ND_RUNNER, t);
    n->func = f;
    n->fty = f->ty;
    f->is_runner_target = true;
    expect(p, "(");
    cnode head = {0}, *cur = &head;
    ctype *param = f->ty->params;
    while (!is(p, ")")) {
        if (cur != &head)
            expect(p, ",");
        token *at = p->t;
        cnode *a = assign(p);
        if (!param && !f->ty->oldstyle)
            cdiag_error(p->c, at, "too many arguments to the runner");
        if (derefs_local_addr(decay(p, a)))
            cdiag_error(p->c, at, "a runner cannot be passed the address of "
                                  "a local ('%s'): it points into this "
                                  "runner's private region",
                        range_name(decay(p, a)));
        a = param ? convert_assign(p, a, param, at) : rvalue(p, a);
        if (param)
            param = param->next;
        cur = cur->next = a;
    }
    if (param)
        cdiag_error(p->c, p->t, "too few arguments to the runner");
    expect(p, ")");
    n->args = head.next;
    int nu = 0, nw = 0;
    for (;;) {
        token *c = p->t;
        if (c->kind != TK_IDENT)
            break;
        if (clex_is(c, "using")) {
            p->t = c->next;
            n->usings = range_list(p, n->usings, &nu);
        } else if (clex_is(c, "watching")) {
            p->t = c->next;
            n->watches = range_list(p, n->watches, &nw);
        } else if (clex_is(c, "in")) {
            p->t = c->next;
            cdiag_warn(p->c, c, "the 'in' clause is evaluated and ignored: "
                                "there is one shared region");
            cnode *e = assign(p);
            cnode *s = new_node(p, ND_EXPR_STMT, c);
            s->lhs = e;
            s->next = n->body;
            n->body = s;
        } else {
            cdiag_error(p->c, c, "expected 'using', 'watching', 'in' or ';' "
                                 "after the runner's arguments");
        }
    }
    expect(p, ";");
    return n;
}

static cnode *switch_stmt(parser *p, token *t)
{
    cnode *n = new_node(p, ND_SWITCH, t);
    expect(p, "(");
    cnode *c = rvalue(p, expr(p));
    check_int(p, c, "switch");
    n->cond = new_cast(p, c, promote(c->ty));
    expect(p, ")");
    cnode *sw = p->cur_switch;
    p->cur_switch = n;
    n->brk = new_label(p);
    p->switch_depth++;
    n->then = stmt(p);
    p->switch_depth--;
    p->cur_switch = sw;
    return n;
}

static cnode *case_stmt(parser *p, token *t, bool is_default)
{
    cnode *sw = p->cur_switch;
    if (!sw)
        cdiag_error(p->c, t, "'%s' label not within a switch statement",
                    is_default ? "default" : "case");
    cnode *n = new_node(p, ND_CASE, t);
    if (is_default) {
        if (sw->default_case)
            cdiag_error(p->c, t, "multiple default labels in one switch");
        sw->default_case = n;
    } else {
        token *at = p->t;
        cnode *e = conditional(p);
        if (e->kind != ND_NUM || !ctypes_is_integer(e->ty))
            cdiag_error(p->c, at, "case label must be an integer constant "
                                  "expression");
        n->val = cfold_trunc(sw->cond->ty, e->val);
        for (cnode *c = sw->cases; c; c = c->next_case)
            if (c->val == n->val)
                cdiag_error(p->c, at, "duplicate case value");
        n->next_case = sw->cases;
        sw->cases = n;
    }
    expect(p, ":");
    n->label = new_label(p);
    if (is(p, "}"))
        return n;
    n->lhs = stmt(p);
    return n;
}

static glabel *get_label(parser *p, token *t)
{
    char *s = tok_str(p, t);
    for (glabel *l = p->labels; l; l = l->next)
        if (!strcmp(l->name, s))
            return l;
    glabel *l = carena_alloc(p->c, sizeof *l);
    l->name = s;
    l->tok = t;
    l->sym = new_label(p);
    l->next = p->labels;
    p->labels = l;
    return l;
}

static cnode *loop_body(parser *p, cnode *n)
{
    n->brk = new_label(p);
    n->cont = new_label(p);
    p->loop_depth++;
    cnode *b = stmt(p);
    p->loop_depth--;
    return b;
}

static cnode *cond_expr(parser *p)
{
    return to_bool_operand(p, expr(p));
}

static cnode *for_stmt(parser *p, token *t)
{
    cnode *n = new_node(p, ND_FOR, t);
    expect(p, "(");
    push_scope(p);
    if (is_decl_start(p)) {
        declattr attr = {0};
        ctype *base = declspec(p, &attr);
        if (attr.sc != SC_NONE && attr.sc != SC_REGISTER)
            cdiag_error(p->c, t, "invalid storage class in a 'for' "
                                 "declaration");
        n->init = declaration(p, base, &attr);
    } else if (!eat(p, ";")) {
        n->init = expr_stmt(p);
    }
    if (!is(p, ";"))
        n->cond = cond_expr(p);
    expect(p, ";");
    if (!is(p, ")"))
        n->inc = expr(p);
    expect(p, ")");
    n->then = loop_body(p, n);
    pop_scope(p);
    return n;
}

static bool ends_function(cnode *s)
{
    if (!s)
        return false;
    switch (s->kind) {
    case ND_RETURN: case ND_GOTO: case ND_COMMIT: case ND_ABORT:
        return true;
    case ND_BLOCK: {
        cnode *last = s->body;
        while (last && last->next)
            last = last->next;
        return ends_function(last);
    }
    case ND_IF: return s->els && ends_function(s->then) && ends_function(s->els);
    case ND_FOR: return !s->cond;
    case ND_DO: return s->cond->kind == ND_NUM && s->cond->val;
    case ND_LABEL: return ends_function(s->lhs);
    default: return false;
    }
}


static cnode *stmt(parser *p)
{
    token *t = p->t;
    enter(p);
    cnode *n;
    if (t->kind == TK_KEYWORD) {
        if (eat(p, "return")) {
            n = new_node(p, ND_RETURN, t);
            ctype *rt = p->fn->ty->base;
            if (!eat(p, ";")) {
                token *at = p->t;
                cnode *e = expr(p);
                expect(p, ";");
                if (rt->kind == TY_VOID) {
                    if (rvalue(p, e)->ty->kind != TY_VOID || true)
                        cdiag_warn(p->c, at, "'return' with a value in a "
                                             "void function");
                    n->lhs = e;
                    n->ty = ty_void;
                } else {
                    n->lhs = convert_assign(p, e, rt, at);
                }
            } else if (rt->kind != TY_VOID) {
                cdiag_warn(p->c, t, "'return' with no value in a function "
                                    "returning a value");
            }
        } else if (eat(p, "if")) {
            n = new_node(p, ND_IF, t);
            expect(p, "(");
            n->cond = cond_expr(p);
            expect(p, ")");
            n->then = stmt(p);
            if (eat(p, "else"))
                n->els = stmt(p);
        } else if (eat(p, "while")) {
            n = new_node(p, ND_FOR, t);
            expect(p, "(");
            n->cond = cond_expr(p);
            expect(p, ")");
            n->then = loop_body(p, n);
        } else if (eat(p, "do")) {
            n = new_node(p, ND_DO, t);
            n->then = loop_body(p, n);
            expect(p, "while");
            expect(p, "(");
            n->cond = cond_expr(p);
            expect(p, ")");
            expect(p, ";");
        } else if (eat(p, "for")) {
            n = for_stmt(p, t);
        } else if (eat(p, "switch")) {
            n = switch_stmt(p, t);
        } else if (eat(p, "case")) {
            n = case_stmt(p, t, false);
        } else if (eat(p, "default")) {
            n = case_stmt(p, t, true);
        } else if (eat(p, "break")) {
            if (!p->loop_depth && !p->switch_depth)
                cdiag_error(p->c, t, "'break' not within a loop or switch");
            expect(p, ";");
            n = new_node(p, ND_BREAK, t);
        } else if (eat(p, "continue")) {
            if (!p->loop_depth)
                cdiag_error(p->c, t, "'continue' not within a loop");
            expect(p, ";");
            n = new_node(p, ND_CONTINUE, t);
        } else if (eat(p, "goto")) {
            token *l = expect_ident(p);
            n = new_node(p, ND_GOTO, t);
            n->label = get_label(p, l)->sym;
            expect(p, ";");
        } else if (eat(p, "commit") || eat(p, "commitd")) {
            if (clex_is(t, "commitd"))
                cdiag_warn(p->c, t, "'commitd' is 'commit' here: every "
                                    "watcher ends after one attempt");
            expect(p, ";");
            n = new_node(p, ND_COMMIT, t);
        } else if (eat(p, "abort") || eat(p, "abortd")) {
            if (clex_is(t, "abortd"))
                cdiag_warn(p->c, t, "'abortd' is 'abort' here: every "
                                    "watcher ends after one attempt");
            expect(p, ";");
            n = new_node(p, ND_ABORT, t);
        } else if (eat(p, "runner")) {
            n = runner_stmt(p, t);
        } else if (eat(p, "asm") || eat(p, "__asm__")) {
            n = new_node(p, ND_ASM, t);
            eat(p, "volatile");
            expect(p, "(");
            if (p->t->kind != TK_STR)
                cdiag_error(p->c, p->t, "asm needs a string literal");
            cbuf b = {0};
            bool first = true;
            while (p->t->kind == TK_STR) {
                if (!first)
                    cbuf_puts(p->c, &b, "\n");
                first = false;
                cbuf_putn(p->c, &b, p->t->str, (size_t)p->t->strlen - 1);
                p->t = p->t->next;
            }
            n->asm_text = carena_strndup(p->c, b.s, b.len);
            cbuf_free(p->c, &b);
            expect(p, ")");
            expect(p, ";");
        } else if (is(p, "{")) {
            n = compound(p);
        } else if (is_decl_start(p)) {
            declattr attr = {0};
            ctype *base = declspec(p, &attr);
            n = declaration(p, base, &attr);
        } else {
            n = expr_stmt(p);
        }
    } else if (eat(p, ";")) {
        n = new_node(p, ND_NULL, t);
    } else if (is(p, "{")) {
        n = compound(p);
    } else if (t->kind == TK_IDENT && clex_is(t->next, ":") &&
               !find_typedef(p, t)) {
        p->t = t->next->next;
        glabel *l = get_label(p, t);
        if (l->defined)
            cdiag_error(p->c, t, "duplicate label '%s'", l->name);
        l->defined = true;
        n = new_node(p, ND_LABEL, t);
        n->label = l->sym;
        if (!is(p, "}"))
            n->lhs = stmt(p);
    } else if (is_decl_start(p)) {
        declattr attr = {0};
        ctype *base = declspec(p, &attr);
        n = declaration(p, base, &attr);
    } else {
        n = expr_stmt(p);
    }
    p->depth--;
    return n;
}

static cnode *compound(parser *p)
{
    token *t = expect(p, "{");
    cnode *n = new_node(p, ND_BLOCK, t);
    cnode head = {0}, *cur = &head;
    push_scope(p);
    while (!eat(p, "}")) {
        if (p->t->kind == TK_EOF)
            cdiag_error(p->c, t, "unterminated block: expected '}'");
        cur = cur->next = stmt(p);
    }
    pop_scope(p);
    n->body = head.next;
    return n;
}

static void function(parser *p, ctype *ty, declattr *attr)
{
    token *name = ty->name;
    if (!name)
        cdiag_error(p->c, p->t, "a function needs a name");
    cobj *f = new_global(p, ty, attr, name);
    if (!is(p, "{")) {
        expect(p, ";");
        return;
    }
    if (f->is_def && !(p->c->in_lib && !f->is_lib)) {
        if (f->is_lib || !p->c->in_lib)
            cdiag_error(p->c, name, "redefinition of function '%s'", f->name);
    }
    bool skip = p->c->in_lib && f->is_def;   /* the program defines it */
    if (!skip) {
        f->is_def = true;
        f->ty = ty;
        f->is_lib = p->c->in_lib;
    }
    p->fn = skip ? carena_alloc(p->c, sizeof(cobj)) : f;
    if (skip) {
        *p->fn = *f;
    }
    p->locals = NULL;
    p->labels = NULL;
    push_scope(p);
    cobj phead = {0}, *pcur = &phead;
    int slot = 0;
    for (ctype *pt = ty->params; pt; pt = pt->next) {
        if (!pt->name)
            cdiag_error(p->c, name, "a parameter of a function definition "
                                    "needs a name");
        cobj *v = new_local(p, pt, pt->name);
        v->is_param = true;
        v->param_slot = slot;
        slot += (int)((pt->size + 7) / 8);
        pcur = pcur->next_param = v;
    }
    cnode *body = compound(p);
    pop_scope(p);
    for (glabel *l = p->labels; l; l = l->next)
        if (!l->defined)
            cdiag_error(p->c, l->tok, "label '%s' used but not defined",
                        l->name);
    if (ty->base->kind != TY_VOID && strcmp(f->name, "main")) {
        cnode *last = body->body;
        while (last && last->next)
            last = last->next;
        if (!ends_function(last))
            cdiag_warn(p->c, name, "control may reach the end of non-void "
                                   "function '%s'", f->name);
    }
    if (skip)
        return;
    f->body = body;
    f->params = phead.next_param;
    f->locals = p->locals;
    f->tok = name;
}

static void global_var(parser *p, ctype *ty, declattr *attr)
{
    token *name = ty->name;
    if (!name)
        cdiag_error(p->c, p->t, "expected a variable name");
    if (ty->kind == TY_VOID)
        cdiag_error(p->c, name, "variable '%.*s' declared void", name->len,
                    name->loc);
    cobj *o = new_global(p, ty, attr, name);
    if (attr->sc == SC_STANDALONE)
        o->sc = SC_STANDALONE;
    if (attr->sc == SC_REGISTER)
        o->sc = SC_REGISTER;
    if (attr->sc != SC_EXTERN && o->sc == SC_EXTERN)
        o->sc = attr->sc;
    if (eat(p, "=")) {
        if (attr->sc == SC_REGISTER)
            cdiag_error(p->c, name, "a 'register' global cannot have an "
                                    "initializer; it is zero at each "
                                    "attempt's start");
        if (o->init)
            cdiag_error(p->c, name, "redefinition of '%s'", o->name);
        if (!ty->complete && !(ty->kind == TY_ARRAY && ty->len < 0))
            cdiag_error(p->c, name, "variable has an incomplete type");
        initz z = {p->c, NULL, NULL};
        ty = init_target(p, ty, &z);
        global_init(p, &z, ty, 0);
        o->ty = ty;
        o->init = z.buf;
        o->relocs = z.relocs;
        o->is_def = true;
        if (ty->is_const && attr->sc != SC_STANDALONE)
            o->in_text = true;
    } else if (attr->sc != SC_EXTERN) {
        o->is_def = true;
        o->tentative = true;
    }
}

static void toplevel(parser *p)
{
    declattr attr = {0};
    token *start = p->t;
    ctype *base = declspec(p, &attr);
    if (eat(p, ";"))
        return;
    bool first = true;
    for (;;) {
        if (!first)
            expect(p, ",");
        first = false;
        ctype *ty = declarator(p, base);
        if (!ty->name)
            cdiag_error(p->c, start, "expected a name in the declaration");
        if (attr.sc == SC_TYPEDEF) {
            char *s = tok_str(p, ty->name);
            vscope *vs = find_var_here(p, s);
            if (vs && !(vs->type_def && ctypes_compatible(vs->type_def, ty)))
                cdiag_error(p->c, ty->name, "redefinition of '%s'", s);
            push_var(p, s)->type_def = ty;
        } else if (ty->kind == TY_FUNC) {
            if (attr.sc == SC_REGISTER || attr.sc == SC_STANDALONE)
                cdiag_error(p->c, ty->name, "invalid storage class for a "
                                            "function");
            if (is(p, "{")) {
                function(p, ty, &attr);
                return;
            }
            new_global(p, ty, &attr, ty->name);
        } else {
            global_var(p, ty, &attr);
        }
        if (eat(p, ";"))
            return;
        if (!is(p, ","))
            expect(p, ";");
    }
}

static scope *file_scope;

/* Parses one translation unit into the context's globals. */
cnode *cparse_unit(cc_ctx *c, token *t)
{
    parser p = {.c = c, .t = t};
    push_scope(&p);
    file_scope = p.sc;
    while (p.t->kind != TK_EOF)
        toplevel(&p);
    return NULL;
}
