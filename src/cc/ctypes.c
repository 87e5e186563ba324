/*
 * ctypes.c -- c0 types (C0.md section 3): sizes, alignments, their DISA
 * suffixes, and the usual arithmetic conversions.  The basic types are
 * shared singletons; derived types are allocated in the arena.
 */
#include <string.h>

#include "cc/cc_int.h"

#define BASIC(n, k, sz, u) \
    static ctype n##_t = {.kind = k, .size = sz, .align = sz, .uns = u, \
                          .complete = true};                            \
    ctype *ty_##n = &n##_t;
BASIC(void, TY_VOID, 1, false)
BASIC(bool, TY_BOOL, 1, true)
BASIC(char, TY_CHAR, 1, false)
BASIC(uchar, TY_CHAR, 1, true)
BASIC(short, TY_SHORT, 2, false)
BASIC(ushort, TY_SHORT, 2, true)
BASIC(int, TY_INT, 4, false)
BASIC(uint, TY_INT, 4, true)
BASIC(long, TY_LONG, 8, false)
BASIC(ulong, TY_LONG, 8, true)
BASIC(double, TY_DOUBLE, 8, false)

bool ctypes_is_integer(const ctype *t)
{
    return t->kind == TY_BOOL || t->kind == TY_CHAR || t->kind == TY_SHORT ||
           t->kind == TY_INT || t->kind == TY_LONG || t->kind == TY_ENUM;
}

bool ctypes_is_arith(const ctype *t)
{
    return ctypes_is_integer(t) || t->kind == TY_DOUBLE;
}

bool ctypes_is_ptr(const ctype *t)
{
    return t->kind == TY_PTR || t->kind == TY_ARRAY;
}

bool ctypes_is_scalar(const ctype *t)
{
    return ctypes_is_arith(t) || t->kind == TY_PTR;
}

bool ctypes_is_aggr(const ctype *t)
{
    return t->kind == TY_STRUCT || t->kind == TY_UNION ||
           t->kind == TY_ARRAY;
}

/* A fresh copy of t (for qualifiers and declarator names). */
ctype *ctypes_copy(cc_ctx *c, const ctype *t)
{
    ctype *n = carena_alloc(c, sizeof *n);
    *n = *t;
    n->origin = t->origin ? t->origin : (ctype *)t;
    n->next = NULL;
    n->name = NULL;
    return n;
}

ctype *ctypes_unqual(ctype *t)
{
    return t->origin ? t->origin : t;
}

ctype *ctypes_ptr_to(cc_ctx *c, ctype *base)
{
    ctype *t = carena_alloc(c, sizeof *t);
    t->kind = TY_PTR;
    t->size = t->align = 8;
    t->uns = true;
    t->base = base;
    t->complete = true;
    return t;
}

ctype *ctypes_array_of(cc_ctx *c, ctype *base, long len)
{
    ctype *t = carena_alloc(c, sizeof *t);
    t->kind = TY_ARRAY;
    t->size = len < 0 ? 0 : base->size * len;
    t->align = base->align;
    t->base = base;
    t->len = len;
    t->complete = len >= 0;
    return t;
}

ctype *ctypes_func(cc_ctx *c, ctype *ret)
{
    ctype *t = carena_alloc(c, sizeof *t);
    t->kind = TY_FUNC;
    t->size = t->align = 1;
    t->base = ret;
    t->complete = true;
    return t;
}

ctype *ctypes_struct(cc_ctx *c, bool is_union)
{
    ctype *t = carena_alloc(c, sizeof *t);
    t->kind = is_union ? TY_UNION : TY_STRUCT;
    t->align = 1;
    return t;
}

static bool same_scalar(const ctype *a, const ctype *b)
{
    if (a->kind == TY_ENUM || b->kind == TY_ENUM)
        return a->size == b->size &&
               (a->kind == b->kind || a->kind == TY_INT || b->kind == TY_INT);
    return a->kind == b->kind && a->uns == b->uns;
}

/* Whether a and b are compatible (C99 6.2.7, loosely: qualifiers aside). */
bool ctypes_compatible(const ctype *a, const ctype *b)
{
    a = a->origin ? a->origin : a;
    b = b->origin ? b->origin : b;
    if (a == b)
        return true;
    switch (a->kind) {
    case TY_PTR:
        return b->kind == TY_PTR && ctypes_compatible(a->base, b->base);
    case TY_ARRAY:
        return b->kind == TY_ARRAY && ctypes_compatible(a->base, b->base) &&
               (a->len < 0 || b->len < 0 || a->len == b->len);
    case TY_FUNC:
        if (b->kind != TY_FUNC || !ctypes_compatible(a->base, b->base))
            return false;
        if (a->oldstyle || b->oldstyle)
            return true;
        {
            const ctype *p = a->params, *q = b->params;
            for (; p && q; p = p->next, q = q->next)
                if (!ctypes_compatible(p, q))
                    return false;
            return !p && !q;
        }
    case TY_STRUCT:
    case TY_UNION:
        return false;
    default:
        return same_scalar(a, b);
    }
}

/* The usual arithmetic conversions of two arithmetic types. */
ctype *ctypes_common(ctype *a, ctype *b)
{
    if (a->kind == TY_DOUBLE || b->kind == TY_DOUBLE)
        return ty_double;
    if (a->size < 4)
        a = ty_int;
    if (b->size < 4)
        b = ty_int;
    if (a->kind == TY_ENUM)
        a = ty_int;
    if (b->kind == TY_ENUM)
        b = ty_int;
    if (a->size != b->size)
        return a->size > b->size ? (a->size == 8 ? (a->uns ? ty_ulong : ty_long) : a)
                                 : (b->size == 8 ? (b->uns ? ty_ulong : ty_long) : b);
    if (a->size == 8)
        return a->uns || b->uns ? ty_ulong : ty_long;
    return a->uns || b->uns ? ty_uint : ty_int;
}

/* The DISA suffix of a scalar type (C0.md section 3). */
const char *ctypes_sfx(const ctype *t)
{
    switch (t->kind) {
    case TY_BOOL: return "ub";
    case TY_CHAR: return t->uns ? "ub" : "b";
    case TY_SHORT: return t->uns ? "uw" : "w";
    case TY_INT: return t->uns ? "ud" : "d";
    case TY_ENUM: return "d";
    case TY_LONG: return t->uns ? "uq" : "q";
    case TY_DOUBLE: return "f";
    default: return "uq";
    }
}

/* A C spelling of t for diagnostics. */
char *ctypes_name(cc_ctx *c, const ctype *t)
{
    switch (t->kind) {
    case TY_VOID: return "void";
    case TY_BOOL: return "bool";
    case TY_CHAR: return t->uns ? "unsigned char" : "char";
    case TY_SHORT: return t->uns ? "unsigned short" : "short";
    case TY_INT: return t->uns ? "unsigned int" : "int";
    case TY_ENUM: return "enum";
    case TY_LONG: return t->uns ? "unsigned long" : "long";
    case TY_DOUBLE: return "double";
    case TY_PTR: return carena_printf(c, "%s *", ctypes_name(c, t->base));
    case TY_ARRAY: return carena_printf(c, "%s[%ld]", ctypes_name(c, t->base),
                                        t->len);
    case TY_FUNC: return carena_printf(c, "%s (*)()", ctypes_name(c, t->base));
    case TY_STRUCT: return "struct";
    case TY_UNION: return "union";
    }
    return "?";
}
