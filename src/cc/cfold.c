/*
 * cfold.c -- constant folding with c0's arithmetic (C0.md section 3):
 * integers wrap at their type's width, division truncates, shifts take
 * their count modulo the width, double to integer gives
 * 0x8000000000000000 out of range.  The parser folds every operator whose
 * operands are constants, so integer constant expressions (array sizes,
 * case labels, enumerators) are simply nodes that folded to ND_NUM.
 */
#include <math.h>

#include "cc/cc_int.h"

bool cfold_is_const(cnode *n)
{
    return n->kind == ND_NUM || n->kind == ND_FNUM;
}

/* v converted to the integer (or pointer) type t: the low bits, extended
 * by t's signedness. */
int64_t cfold_trunc(const ctype *t, int64_t v)
{
    if (t->kind == TY_BOOL)
        return v != 0;
    switch (t->size) {
    case 1: return t->uns ? (int64_t)(uint8_t)v : (int64_t)(int8_t)v;
    case 2: return t->uns ? (int64_t)(uint16_t)v : (int64_t)(int16_t)v;
    case 4: return t->uns ? (int64_t)(uint32_t)v : (int64_t)(int32_t)v;
    default: return v;
    }
}

/* The value of an integer constant expression; an error otherwise. */
int64_t cfold_int(cc_ctx *c, cnode *n)
{
    if (n->kind != ND_NUM || !ctypes_is_integer(n->ty))
        cdiag_error(c, n->tok, "expected an integer constant expression");
    return n->val;
}

static int64_t d2i(const ctype *t, double d)
{
    if (t->kind == TY_BOOL)
        return d != 0;
    if (t->kind == TY_LONG && t->uns && d >= 9223372036854775808.0 &&
        d < 18446744073709551616.0)
        return (int64_t)(uint64_t)d;
    if (!(d > -9223372036854775809.0 && d < 9223372036854775808.0))
        return cfold_trunc(t, INT64_MIN);
    return cfold_trunc(t, (int64_t)d);
}

static cnode *num(cc_ctx *c, cnode *n, int64_t v)
{
    cnode *r = carena_alloc(c, sizeof *r);
    r->kind = ND_NUM;
    r->tok = n->tok;
    r->ty = n->ty;
    r->val = n->ty->kind == TY_PTR ? v : cfold_trunc(n->ty, v);
    return r;
}

static cnode *fnum(cc_ctx *c, cnode *n, double d)
{
    cnode *r = carena_alloc(c, sizeof *r);
    r->kind = ND_FNUM;
    r->tok = n->tok;
    r->ty = ty_double;
    r->fval = d;
    return r;
}

static cnode *fold_cast(cc_ctx *c, cnode *n)
{
    cnode *a = n->lhs;
    const ctype *t = n->ty;
    if (t->kind == TY_DOUBLE) {
        if (a->kind == ND_FNUM)
            return fnum(c, n, a->fval);
        return fnum(c, n, a->ty->uns && a->ty->size == 8
                              ? (double)(uint64_t)a->val
                              : (double)a->val);
    }
    if (!ctypes_is_integer(t) && t->kind != TY_PTR)
        return n;
    if (a->kind == ND_FNUM)
        return num(c, n, d2i(t, a->fval));
    return num(c, n, a->val);
}

static bool cmp_f(nd_kind k, double a, double b)
{
    switch (k) {
    case ND_EQ: return a == b;
    case ND_NE: return a != b;
    case ND_LT: return a < b;
    case ND_LE: return a <= b;
    case ND_GT: return a > b;
    default: return a >= b;
    }
}

static bool cmp_i(nd_kind k, int64_t a, int64_t b, bool uns)
{
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    switch (k) {
    case ND_EQ: return a == b;
    case ND_NE: return a != b;
    case ND_LT: return uns ? ua < ub : a < b;
    case ND_LE: return uns ? ua <= ub : a <= b;
    case ND_GT: return uns ? ua > ub : a > b;
    default: return uns ? ua >= ub : a >= b;
    }
}

static cnode *fold_float(cc_ctx *c, cnode *n, double a, double b)
{
    switch (n->kind) {
    case ND_ADD: return fnum(c, n, a + b);
    case ND_SUB: return fnum(c, n, a - b);
    case ND_MUL: return fnum(c, n, a * b);
    case ND_DIV: return fnum(c, n, a / b);
    default: return n;
    }
}

static void warn_overflow(cc_ctx *c, cnode *n, int64_t a, int64_t b)
{
    const ctype *t = n->ty;
    if (t->uns || t->size < 4)
        return;
    bool ovf = false;
    if (t->size == 4) {
        int32_t r;
        if (n->kind == ND_ADD)
            ovf = __builtin_add_overflow((int32_t)a, (int32_t)b, &r);
        else if (n->kind == ND_SUB)
            ovf = __builtin_sub_overflow((int32_t)a, (int32_t)b, &r);
        else if (n->kind == ND_MUL)
            ovf = __builtin_mul_overflow((int32_t)a, (int32_t)b, &r);
    } else {
        int64_t r;
        if (n->kind == ND_ADD)
            ovf = __builtin_add_overflow(a, b, &r);
        else if (n->kind == ND_SUB)
            ovf = __builtin_sub_overflow(a, b, &r);
        else if (n->kind == ND_MUL)
            ovf = __builtin_mul_overflow(a, b, &r);
    }
    if (ovf)
        cdiag_warn(c, n->tok, "integer overflow in constant expression; "
                              "it wraps (write L for a long constant)");
}

static cnode *fold_int(cc_ctx *c, cnode *n, int64_t a, int64_t b)
{
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    bool uns = n->ty->uns;
    int bits = n->ty->size == 8 ? 64 : 32;
    warn_overflow(c, n, a, b);
    switch (n->kind) {
    case ND_ADD: return num(c, n, (int64_t)(ua + ub));
    case ND_SUB: return num(c, n, (int64_t)(ua - ub));
    case ND_MUL: return num(c, n, (int64_t)(ua * ub));
    case ND_DIV:
    case ND_MOD:
        if (b == 0)
            return n;
        if (uns) {
            if (bits == 32) {
                ua = (uint32_t)ua;
                ub = (uint32_t)ub;
            }
            return num(c, n, (int64_t)(n->kind == ND_DIV ? ua / ub : ua % ub));
        }
        if (b == -1)
            return num(c, n, n->kind == ND_DIV ? (int64_t)(0 - ua) : 0);
        return num(c, n, n->kind == ND_DIV ? a / b : a % b);
    case ND_BITAND: return num(c, n, a & b);
    case ND_BITOR: return num(c, n, a | b);
    case ND_BITXOR: return num(c, n, a ^ b);
    case ND_SHL: return num(c, n, (int64_t)(ua << (ub % (unsigned)bits)));
    case ND_SHR:
        if (uns)
            return num(c, n, (int64_t)((bits == 32 ? (uint32_t)ua : ua) >>
                                       (ub % (unsigned)bits)));
        return num(c, n, a >> (ub % (unsigned)bits));
    default: return n;
    }
}

/* Folds n if its operands are constants; returns n or its value. */
cnode *cfold(cc_ctx *c, cnode *n)
{
    cnode *a = n->lhs, *b = n->rhs;
    if (!a || !cfold_is_const(a))
        return n;
    switch (n->kind) {
    case ND_CAST: return fold_cast(c, n);
    case ND_NEG:
        return a->kind == ND_FNUM ? fnum(c, n, -a->fval)
                                  : num(c, n, (int64_t)(0 - (uint64_t)a->val));
    case ND_BITNOT: return num(c, n, ~a->val);
    case ND_NOT:
        return num(c, n, a->kind == ND_FNUM ? !(a->fval != 0) : !a->val);
    case ND_LOGAND:
    case ND_LOGOR: {
        bool av = a->kind == ND_FNUM ? a->fval != 0 : a->val != 0;
        if (n->kind == ND_LOGAND && !av)
            return num(c, n, 0);
        if (n->kind == ND_LOGOR && av)
            return num(c, n, 1);
        if (!cfold_is_const(b))
            return n;
        return num(c, n, b->kind == ND_FNUM ? b->fval != 0 : b->val != 0);
    }
    case ND_COND:
        return n;
    default:
        break;
    }
    if (!b || !cfold_is_const(b))
        return n;
    if (n->kind >= ND_EQ && n->kind <= ND_GE) {
        if (a->kind == ND_FNUM || b->kind == ND_FNUM)
            return num(c, n, cmp_f(n->kind, a->fval, b->fval));
        return num(c, n, cmp_i(n->kind, a->val, b->val, a->ty->uns));
    }
    if (n->ty->kind == TY_DOUBLE)
        return fold_float(c, n, a->fval, b->fval);
    if (!ctypes_is_integer(n->ty))
        return n;
    return fold_int(c, n, a->val, b->val);
}
