/*
 * cgen.c -- DISA code generation for a whole c0 program (C0.md sections 4
 * to 7 and 13).
 *
 * Values.  An expression's value is a `val`: an immediate ($5, $sym+8, a
 * double), or memory at one of three kinds of place: a direct address
 * (`x`, `c0.f.main+16`), a displacement off a 64-bit word at a direct
 * address (`8(p)`, `-16(c0.fp)`), or a displacement off a word that itself
 * lies at a displacement off c0.fp (a pointer kept in a frame slot), which
 * an instruction reaches by first copying the word to a scratch word
 * c0.x0..x2.  A val carries the suffix it is stored with, which may differ
 * from the C type when a widening conversion was free (reading a `:b` word
 * already gives the 64-bit value of the wider type); where signedness
 * decides the result (div, br, conversion to double) the value is first
 * given its C type's suffix (`want`).
 *
 * Frames.  A function that may recurse (it lies on a cycle of the call
 * graph, counting a call through a pointer as a call of every function
 * whose address is taken) or whose address is taken uses the calling
 * convention of C0.md 6.2: a frame in the PR call stack reached through
 * c0.fp.  Every other function has its frame at a fixed PR address (label
 * c0.f.NAME: link word, parameters, locals, temporaries), which callers
 * fill directly; those words are directly addressed, which the translator
 * keeps in registers.  Temporaries live in the frame; they are allocated
 * per statement and their high-water mark sizes the frame.
 *
 * The library (clib.c) is the last translation unit; every function is
 * generated only when reached from main or a runner statement.
 */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "cc/cc_int.h"
#include "util/alloc.h"

#define PR_REGS_BASE 0x10000L
#define PR_REGS_LIMIT (PR_REGS_BASE + (256L << 20))
#define STACK_TOP 0x20000000L

typedef enum { V_IMM, V_DIR, V_DISP, V_IND, V_NONE } vkind;

typedef struct val {
    vkind kind;
    const char *base;          /* symbol text; NULL: number only */
    long off;                  /* address offset or displacement */
    long woff;                 /* V_IND: the word's displacement off base */
    const char *sfx;
    const char *fimm;          /* a double immediate's text */
    const char *dsym;          /* V_DISP/V_IND: a symbol added to off */
    bool temp;
    bool btemp;                /* V_DISP: its base word is a temporary */
    long tslot;                /* a temporary: its offset + 1, else 0 */
} val;

typedef struct gen {
    cc_ctx *c;
    cbuf *out;
    cobj *fn;
    bool frame;                /* fn uses the c0.fp frame */
    const char *fr;            /* fixed frame label */
    long temp_base, ntemp, max_temp;
    const char *ret_label;
    const char *brk, *cont;
    int nlabel;
    int last_line;
    const cfile *last_file;
    cbuf pool;                 /* .text constants */
    bool uses_pow2;            /* the table of powers of two is needed */
    bool uses_stack;           /* some code uses the call stack (c0.sp) */
    int npool;
} gen;

static val gen_expr(gen *g, cnode *n);
static void gen_void(gen *g, cnode *n);
static val gen_addr(gen *g, cnode *n);
static val binop(gen *g, nd_kind k, ctype *ty, val a, val b, val *dest);
static void gen_stmt(gen *g, cnode *n);
static void gen_branch(gen *g, cnode *n, const char *label, bool when);
static val convert(gen *g, val v, ctype *from, ctype *to);

/* ---- text ---------------------------------------------------------- */

static void out(gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(gen *g, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof tmp)
        cdiag_fatal(g->c, "line too long");
    cbuf_putn(g->c, g->out, tmp, (size_t)n);
}

static const char *new_label(gen *g)
{
    return carena_printf(g->c, "c0.l%d", ++g->nlabel);
}

static void label(gen *g, const char *l)
{
    out(g, "%s:\n", l);
}

/* ---- vals ---------------------------------------------------------- */

static val imm(long v, const char *sfx)
{
    return (val){.kind = V_IMM, .off = v, .sfx = sfx};
}

static val imm_sym(const char *sym, long off)
{
    return (val){.kind = V_IMM, .base = sym, .off = off, .sfx = "uq"};
}

static val dir(const char *base, long off, const char *sfx)
{
    return (val){.kind = V_DIR, .base = base, .off = off, .sfx = sfx};
}

static char *addr_text(gen *g, const char *base, long off)
{
    if (!base)
        return carena_printf(g->c, "%ld", off);
    if (!off)
        return (char *)base;
    return carena_printf(g->c, "%s%+ld", base, off);
}

static bool sfx_signed(const char *s)
{
    return s[0] != 'u' && s[0] != 'f';
}

/* The operand text of v read or written with suffix sfx; a V_IND word is
 * first copied to the scratch word c0.x<k>. */
static const char *opnd(gen *g, val v, const char *sfx, int k)
{
    switch (v.kind) {
    case V_IMM:
        if (v.fimm)
            return carena_printf(g->c, "$%s:%s", v.fimm, sfx);
        return carena_printf(g->c, "$%s:%s", addr_text(g, v.base, v.off), sfx);
    case V_DIR:
        return carena_printf(g->c, "%s:%s", addr_text(g, v.base, v.off), sfx);
    case V_DISP:
        return carena_printf(g->c, "%s(%s):%s", addr_text(g, v.dsym, v.off),
                             v.base, sfx);
    case V_IND:
        out(g, "    mov %ld(%s):uq, c0.x%d:uq\n", v.woff, v.base, k);
        return carena_printf(g->c, "%s(c0.x%d):%s",
                             addr_text(g, v.dsym, v.off), k, sfx);
    default:
        cdiag_fatal(g->c, "value expected");
    }
}

static void ins2(gen *g, const char *op, val a, const char *sa, val d,
                 const char *sd)
{
    const char *x = opnd(g, a, sa, 0);
    const char *y = opnd(g, d, sd, 1);
    out(g, "    %s %s, %s\n", op, x, y);
}

static void ins3(gen *g, const char *op, val a, const char *sa, val b,
                 const char *sb, val d, const char *sd)
{
    const char *x = opnd(g, a, sa, 0);
    const char *y = opnd(g, b, sb, 1);
    const char *z = opnd(g, d, sd, 2);
    out(g, "    %s %s, %s, %s\n", op, x, y, z);
}

static void br(gen *g, const char *cond, val a, val b, const char *l)
{
    const char *x = opnd(g, a, a.sfx, 0);
    const char *y = opnd(g, b, b.sfx, 1);
    out(g, "    br:%s %s, %s, %s\n", cond, x, y, l);
}

static void jump(gen *g, const char *l)
{
    out(g, "    br:j %s\n", l);
}

static void mov(gen *g, val a, val d)
{
    if (a.kind == d.kind && a.kind != V_IMM && a.base == d.base &&
        a.off == d.off && a.woff == d.woff && !strcmp(a.sfx, d.sfx))
        return;
    ins2(g, "mov", a, a.sfx, d, d.sfx);
}

/* A fresh temporary of `size` bytes (8-aligned) with suffix sfx. */
static val temp_n(gen *g, long size, const char *sfx)
{
    long off = g->ntemp;
    g->ntemp += (size + 7) / 8 * 8;
    if (g->ntemp > g->max_temp)
        g->max_temp = g->ntemp;
    val v;
    if (g->frame)
        v = (val){.kind = V_DISP, .base = "c0.fp",
                  .off = -(g->temp_base + off + ((size + 7) / 8 * 8)),
                  .sfx = sfx};
    else
        v = dir(g->fr, g->temp_base + off, sfx);
    v.temp = true;
    v.tslot = off + 1;
    return v;
}

/* Gives back temporary v when it is the last one allocated (its value has
 * just been consumed), so a chain like a*b + c*d reuses its words. */
static void release(gen *g, val v)
{
    if (v.tslot && v.kind != V_IMM &&
        g->ntemp - (v.tslot - 1) == 8)
        g->ntemp = v.tslot - 1;
}

static val temp(gen *g, const char *sfx)
{
    return temp_n(g, 8, sfx);
}

/* v with its value in a temporary (or an immediate). */
static val stable(gen *g, val v)
{
    if (v.kind == V_IMM || v.temp || v.kind == V_NONE)
        return v;
    val t = temp(g, v.sfx);
    mov(g, v, t);
    return t;
}

/* The address in v (a pointer value) as a memory place. */
static val deref_val(gen *g, val p, long off, const char *sfx)
{
    switch (p.kind) {
    case V_IMM:
        return dir(p.base, p.off + off, sfx);
    case V_DIR:
        return (val){.kind = V_DISP, .base = addr_text(g, p.base, p.off),
                     .off = off, .sfx = sfx, .btemp = p.temp};
    case V_DISP:
        if (!strcmp(p.base, "c0.fp") || !strcmp(p.base, "c0.sp"))
            return (val){.kind = V_IND, .base = p.base, .woff = p.off,
                         .off = off, .sfx = sfx};
        /* fallthrough */
    default: {
        val t = temp(g, "uq");
        ins2(g, "mov", p, "uq", t, "uq");
        return deref_val(g, t, off, sfx);
    }
    }
}

/* The address of place v as a value. */
static val addr_of(gen *g, val v)
{
    switch (v.kind) {
    case V_DIR:
        return imm_sym(v.base, v.off);
    case V_DISP: {
        val w = dir(v.base, 0, "uq");
        w.temp = v.btemp;
        if (!v.off && !v.dsym)
            return w;
        val t = temp(g, "uq");
        ins3(g, "add", w, "uq", imm_sym(v.dsym, v.off), "q", t, "uq");
        return t;
    }
    case V_IND: {
        val w = (val){.kind = V_DISP, .base = v.base, .off = v.woff,
                      .sfx = "uq"};
        val t = temp(g, "uq");
        ins3(g, "add", w, "uq", imm_sym(v.dsym, v.off), "q", t, "uq");
        return t;
    }
    default:
        cdiag_fatal(g->c, "address of a non-place");
    }
}

static val with_sfx(val v, const char *sfx)
{
    v.sfx = sfx;
    return v;
}

/* v (holding a value of type ty) with ty's own suffix, copied if its
 * storage suffix has other signedness (C0.md 2.3: first source decides). */
static val want(gen *g, val v, ctype *ty)
{
    const char *s = ctypes_sfx(ty);
    if (!strcmp(v.sfx, s))
        return v;
    if (v.kind == V_IMM)
        return with_sfx(v, s);
    if (sfx_signed(v.sfx) == sfx_signed(s) && v.sfx[0] != 'f' && s[0] != 'f')
        return v;
    val t = temp(g, s);
    mov(g, v, t);
    return t;
}

/* ---- side effects -------------------------------------------------- */

static bool has_effects(cnode *n)
{
    if (!n)
        return false;
    switch (n->kind) {
    case ND_ASSIGN: case ND_OPASSIGN: case ND_PREINC: case ND_POSTINC:
    case ND_CALL:
        return true;
    default:
        break;
    }
    return has_effects(n->lhs) || has_effects(n->rhs) ||
           has_effects(n->cond) || has_effects(n->then) ||
           has_effects(n->els);
}

/* ---- constants ----------------------------------------------------- */

static val fconst(gen *g, double d)
{
    if (isfinite(d) && !(d == 0 && signbit(d))) {
        char *s = carena_printf(g->c, "%.17g", d);
        if (!strpbrk(s, ".en"))
            s = carena_printf(g->c, "%s.0", s);
        return (val){.kind = V_IMM, .fimm = s, .sfx = "f"};
    }
    uint64_t bits;
    memcpy(&bits, &d, 8);
    const char *l = carena_printf(g->c, "c0.k%d", g->npool++);
    cbuf_printf(g->c, &g->pool, "%s: .quad 0x%016llx    # %g\n", l,
                (unsigned long long)bits, d);
    return dir(l, 0, "f");
}

/* ---- conversions --------------------------------------------------- */

static bool free_int_cast(ctype *from, ctype *to)
{
    return to->size >= from->size &&
           (from->uns || !to->uns || to->size == 8);
}

static val to_bool(gen *g, val v, ctype *from)
{
    val t = temp(g, "ub");
    const char *l = new_label(g);
    ins2(g, "mov", imm(0, "q"), "q", t, "ub");
    v = want(g, v, from);
    if (from->kind == TY_DOUBLE)
        br(g, "e", v, imm(0, "f"), l);
    else
        br(g, "e", v, imm(0, v.sfx), l);
    ins2(g, "mov", imm(1, "q"), "q", t, "ub");
    label(g, l);
    return t;
}

static val double_to_ulong(gen *g, val v)
{
    val t = temp(g, "uq");
    const char *big = new_label(g), *huge = new_label(g),
               *done = new_label(g);
    v = stable(g, v);
    br(g, "ge", v, fconst(g, 9223372036854775808.0), big);
    ins2(g, "mov", v, "f", t, "q");
    jump(g, done);
    label(g, big);
    br(g, "ge", v, fconst(g, 18446744073709551616.0), huge);
    val f = temp(g, "f");
    ins3(g, "sub", v, "f", fconst(g, 9223372036854775808.0), "f", f, "f");
    ins2(g, "mov", f, "f", t, "q");
    ins3(g, "xor", t, "q", imm(INT64_MIN, "q"), "q", t, "q");
    jump(g, done);
    label(g, huge);
    ins2(g, "mov", imm(INT64_MIN, "q"), "q", t, "q");
    label(g, done);
    return t;
}

/* v, a value of type from, converted to type to. */
static val convert(gen *g, val v, ctype *from, ctype *to)
{
    if (to->kind == TY_VOID)
        return (val){.kind = V_NONE, .sfx = "q"};
    if (to->kind == TY_BOOL && from->kind != TY_BOOL)
        return to_bool(g, v, from);
    if (to->kind == TY_DOUBLE) {
        if (from->kind == TY_DOUBLE)
            return v;
        v = want(g, v, from);
        if (v.kind == V_IMM) {
            double d = from->uns && from->size == 8 ? (double)(uint64_t)v.off
                                                    : (double)v.off;
            if (!v.base)
                return fconst(g, d);
        }
        val t = temp(g, "f");
        mov(g, v, t);
        return t;
    }
    if (from->kind == TY_DOUBLE) {
        if (to->kind == TY_LONG && to->uns)
            return double_to_ulong(g, v);
        val t = temp(g, ctypes_sfx(to));
        mov(g, v, t);
        return t;
    }
    if (v.kind == V_IMM && !v.base) {
        val r = imm(cfold_trunc(to, v.off), ctypes_sfx(to));
        return r;
    }
    if (free_int_cast(from, to) || to->kind == TY_PTR)
        return v;
    if (v.kind == V_IMM)
        return with_sfx(v, ctypes_sfx(to));
    val t = temp(g, ctypes_sfx(to));
    mov(g, v, t);
    return t;
}

/* ---- expressions --------------------------------------------------- */

static val local_place(gen *g, cobj *v)
{
    if (g->frame) {
        if (v->is_param)
            return (val){.kind = V_DISP, .base = "c0.fp",
                         .off = 16 + 8L * v->param_slot, .sfx = "q"};
        return (val){.kind = V_DISP, .base = "c0.fp", .off = -v->offset,
                     .sfx = "q"};
    }
    return dir(g->fr, v->offset, "q");
}

static void note_ref(gen *g, cobj *f)
{
    (void)g;
    f->reached = true;
}

static val var_place(gen *g, cnode *n)
{
    cobj *v = n->var;
    val r;
    if (v->is_func) {
        note_ref(g, v);
        return dir(v->sym, 0, "uq");
    }
    if (v->is_local)
        r = local_place(g, v);
    else
        r = dir(v->sym, 0, "q");
    r.sfx = ctypes_is_scalar(n->ty) ? ctypes_sfx(n->ty) : "q";
    return r;
}

/* *(p + i + off) for p + i: a constant part of i joins the displacement,
 * and a global base address becomes the displacement's symbol, so
 * `a[i]` is one operand `a(t)` with t = i * size. */
static val deref_sum(gen *g, cnode *p, long off, const char *sfx)
{
    cnode *i = p->rhs;
    if ((i->kind == ND_ADD || i->kind == ND_SUB) && i->rhs->kind == ND_NUM &&
        ctypes_is_integer(i->ty)) {
        off = (long)((uint64_t)off + (i->kind == ND_ADD
                                          ? (uint64_t)i->rhs->val
                                          : 0 - (uint64_t)i->rhs->val));
        i = i->lhs;
    }
    val a = gen_expr(g, p->lhs);
    if (has_effects(i))
        a = stable(g, a);
    val b = gen_expr(g, i);
    if (a.kind == V_IMM && a.base && !a.fimm) {
        if (b.kind == V_DIR && (!strcmp(b.sfx, "q") || !strcmp(b.sfx, "uq"))) {
            val r = deref_val(g, with_sfx(b, "uq"),
                              (long)((uint64_t)a.off + (uint64_t)off), sfx);
            r.dsym = a.base;
            return r;
        }
    }
    return deref_val(g, binop(g, ND_ADD, p->ty, a, b, NULL), off, sfx);
}

static val gen_addr(gen *g, cnode *n)
{
    switch (n->kind) {
    case ND_VAR:
        return var_place(g, n);
    case ND_STR: {
        cobj *o = carena_alloc(g->c, sizeof *o);
        const char *l = carena_printf(g->c, "c0.str.%d", g->c->nstrings++);
        cbuf_printf(g->c, &g->pool, "%s: .ascii \"", l);
        for (long i = 0; i < n->val; i++) {
            unsigned char ch = (unsigned char)n->name[i];
            if (ch >= 32 && ch < 127 && ch != '"' && ch != '\\')
                cbuf_putn(g->c, &g->pool, (const char *)&ch, 1);
            else
                cbuf_printf(g->c, &g->pool, "\\%03o", ch);
        }
        cbuf_puts(g->c, &g->pool, "\"\n");
        (void)o;
        return dir(l, 0, "b");
    }
    case ND_DEREF: {
        cnode *p = n->lhs;
        long off = 0;
        const char *sfx = ctypes_is_scalar(n->ty) ? ctypes_sfx(n->ty) : "q";
        if ((p->kind == ND_ADD || p->kind == ND_SUB) &&
            p->rhs->kind == ND_NUM && p->ty->kind == TY_PTR) {
            off = (long)(p->kind == ND_ADD ? (uint64_t)p->rhs->val
                                           : 0 - (uint64_t)p->rhs->val);
            p = p->lhs;
        }
        if (p->kind == ND_ADD && p->ty->kind == TY_PTR)
            return deref_sum(g, p, off, sfx);
        return deref_val(g, gen_expr(g, p), off, sfx);
    }
    case ND_MEMBER: {
        val v = gen_addr(g, n->lhs);
        v.off += n->mem->offset;
        v.sfx = ctypes_is_scalar(n->ty) ? ctypes_sfx(n->ty) : "q";
        v.temp = false;
        return v;
    }
    case ND_COND:
    case ND_ASSIGN:
    case ND_COMMA:
    case ND_CALL: {
        val v = gen_expr(g, n);
        return v;
    }
    default:
        cdiag_error(g->c, n->tok, "not an lvalue");
    }
}

static void copy_bytes(gen *g, val src, val dst, long size)
{
    long i = 0;
    for (; i + 8 <= size; i += 8) {
        val a = src, b = dst;
        a.off += i;
        b.off += i;
        ins2(g, "mov", a, "q", b, "q");
    }
    for (; i < size; i++) {
        val a = src, b = dst;
        a.off += i;
        b.off += i;
        ins2(g, "mov", a, "ub", b, "ub");
    }
}

/* A place whose address does not depend on memory later code may change. */
static val stable_place(gen *g, val p)
{
    if (p.kind == V_DIR || (p.kind == V_DISP && !strcmp(p.base, "c0.fp")))
        return p;
    val a = stable(g, addr_of(g, p));
    return deref_val(g, a, 0, p.sfx);
}

static void zero_fill(gen *g, val place, long size)
{
    if (size <= 256) {
        long i = 0;
        for (; i + 8 <= size; i += 8) {
            val b = place;
            b.off += i;
            ins2(g, "mov", imm(0, "q"), "q", b, "q");
        }
        for (; i < size; i++) {
            val b = place;
            b.off += i;
            ins2(g, "mov", imm(0, "q"), "q", b, "ub");
        }
        return;
    }
    val pa = temp(g, "uq");
    mov(g, with_sfx(addr_of(g, place), "uq"), pa);
    val end = temp(g, "uq");
    ins3(g, "add", pa, "uq", imm(size / 8 * 8, "q"), "q", end, "uq");
    const char *l = new_label(g);
    label(g, l);
    ins2(g, "mov", imm(0, "q"), "q", deref_val(g, pa, 0, "q"), "q");
    ins3(g, "add", pa, "uq", imm(8, "q"), "q", pa, "uq");
    br(g, "l", pa, end, l);
    for (long i = 0; i < size % 8; i++)
        ins2(g, "mov", imm(0, "q"), "q", deref_val(g, pa, i, "q"), "ub");
}

static const char *arith_op(nd_kind k)
{
    switch (k) {
    case ND_ADD: return "add";
    case ND_SUB: return "sub";
    case ND_MUL: return "mul";
    case ND_DIV: return "div";
    case ND_MOD: return "div:r";
    case ND_BITAND: return "and";
    case ND_BITOR: return "or";
    case ND_BITXOR: return "xor";
    default: return NULL;
    }
}

static val pow2(gen *g, val cnt, int bits)
{
    /* 2^(cnt mod bits) from the table c0.pow2 */
    val t = temp(g, "q");
    ins3(g, "and", cnt, cnt.sfx, imm(bits - 1, "q"), "q", t, "q");
    ins3(g, "mul", t, "q", imm(8, "q"), "q", t, "q");
    ins3(g, "add", t, "q", imm_sym("c0.pow2", 0), "q", t, "q");
    g->uses_pow2 = true;
    return deref_val(g, t, 0, "uq");
}

static val gen_shift(gen *g, nd_kind k, ctype *ty, val a, val b, val *dest)
{
    int bits = ty->size == 8 ? 64 : 32;
    const char *s = ctypes_sfx(ty);
    val d = dest ? *dest : temp(g, s);
    s = d.sfx;
    val p;
    long cnt = -1;
    if (b.kind == V_IMM && !b.base) {
        cnt = (long)((uint64_t)b.off % (unsigned)bits);
        p = imm((long)((uint64_t)1 << cnt), ty->size == 8 ? "uq" : "q");
        if (cnt == 63)
            p = imm(INT64_MIN, "uq");
    } else {
        p = pow2(g, b, bits);
    }
    if (k == ND_SHL) {
        ins3(g, "mul", a, a.sfx, p, p.sfx, d, s);
        return d;
    }
    a = want(g, a, ty);
    if (ty->uns) {
        ins3(g, "div", a, a.sfx, p, p.sfx, d, s);
        return d;
    }
    /* arithmetic: for a < 0, ~(~a / 2^n) */
    const char *neg = new_label(g), *done = new_label(g);
    a = stable(g, a);
    p = p.kind == V_IMM ? p : stable(g, p);
    br(g, "l", a, imm(0, a.sfx), neg);
    ins3(g, "div", a, a.sfx, p, p.sfx, d, s);
    jump(g, done);
    label(g, neg);
    val t = temp(g, "q");
    ins3(g, "xor", a, a.sfx, imm(-1, "q"), "q", t, "q");
    ins3(g, "div", t, "q", p, p.sfx, t, "q");
    ins3(g, "xor", t, "q", imm(-1, "q"), "q", d, s);
    label(g, done);
    return d;
}

/* a op b of type ty into dest (or a new temporary). */
static val binop(gen *g, nd_kind k, ctype *ty, val a, val b, val *dest)
{
    const char *s = ty->kind == TY_DOUBLE ? "f" : ctypes_sfx(ty);
    if (k == ND_SHL || k == ND_SHR)
        return gen_shift(g, k, ty, a, b, dest);
    if ((k == ND_ADD || k == ND_SUB) && a.kind == V_IMM && b.kind == V_IMM &&
        !a.fimm && !b.fimm && (a.base || b.base) && !(b.base && k == ND_SUB)) {
        val r = a.base ? a : b;
        long o = (long)(k == ND_ADD ? (uint64_t)a.off + (uint64_t)b.off
                                    : (uint64_t)a.off - (uint64_t)b.off);
        r.off = o;
        r.sfx = s;
        return r;
    }
    if (k == ND_DIV || k == ND_MOD)
        a = want(g, a, ty);
    if (!dest) {
        release(g, b);
        release(g, a);
        release(g, b);
    }
    val d = dest ? *dest : temp(g, s);
    ins3(g, arith_op(k), a, a.sfx, b, b.sfx, d, d.sfx);
    return d;
}

static const char *cond_name(nd_kind k)
{
    switch (k) {
    case ND_EQ: return "e";
    case ND_NE: return "ne";
    case ND_LT: return "l";
    case ND_LE: return "le";
    case ND_GT: return "g";
    default: return "ge";
    }
}

static nd_kind invert(nd_kind k)
{
    switch (k) {
    case ND_EQ: return ND_NE;
    case ND_NE: return ND_EQ;
    case ND_LT: return ND_GE;
    case ND_LE: return ND_GT;
    case ND_GT: return ND_LE;
    default: return ND_LT;
    }
}

static val bool_value(gen *g, cnode *n)
{
    val t = temp(g, "d");
    const char *l = new_label(g);
    ins2(g, "mov", imm(0, "q"), "q", t, "d");
    gen_branch(g, n, l, false);
    ins2(g, "mov", imm(1, "q"), "q", t, "d");
    label(g, l);
    return t;
}

/* One arm of ?: : its value (an aggregate's address) into t. */
static void cond_arm(gen *g, cnode *arm, val t, bool aggr)
{
    val a = gen_expr(g, arm);
    if (aggr)
        mov(g, addr_of(g, a), t);
    else if (t.kind != V_NONE)
        mov(g, a, t);
}

static val gen_cond_expr(gen *g, cnode *n)
{
    const char *le = new_label(g), *ld = new_label(g);
    bool aggr = !ctypes_is_scalar(n->ty) && n->ty->kind != TY_VOID;
    val t = n->ty->kind == TY_VOID ? (val){.kind = V_NONE, .sfx = "q"}
            : temp(g, aggr ? "uq" : ctypes_sfx(n->ty));
    gen_branch(g, n->cond, le, false);
    cond_arm(g, n->then, t, aggr);
    jump(g, ld);
    label(g, le);
    cond_arm(g, n->els, t, aggr);
    label(g, ld);
    if (aggr)
        return deref_val(g, t, 0, "q");
    return t;
}

static bool fixed_callee(cobj *f)
{
    return f && !f->frame;
}

static const char *frame_sym(gen *g, cobj *f)
{
    return carena_printf(g->c, "c0.f.%s", f->sym);
}

static long param_off(cobj *f, int slot)
{
    (void)f;
    return 8 + 8L * slot;
}

static void store_args(gen *g, cnode *args, ctype *params, val *vals,
                       val (*slot)(gen *, void *, int), void *ctx)
{
    int k = 0, i = 0;
    ctype *pt = params;
    for (cnode *a = args; a; a = a->next, i++) {
        ctype *ty = pt ? pt : a->ty;
        val d = slot(g, ctx, k);
        if (ctypes_is_scalar(ty)) {
            d.sfx = ctypes_sfx(ty);
            mov(g, vals[i], d);
        } else {
            copy_bytes(g, vals[i], d, ty->size);
        }
        k += (int)((ty->size + 7) / 8);
        if (pt)
            pt = pt->next;
    }
}

static val eval_args(gen *g, cnode *args, val **out_vals, int *n)
{
    int cnt = 0;
    for (cnode *a = args; a; a = a->next)
        cnt++;
    val *v = carena_alloc(g->c, sizeof(val) * (size_t)(cnt + 1));
    int i = 0;
    for (cnode *a = args; a; a = a->next, i++) {
        v[i] = gen_expr(g, a);
        bool later = false;
        for (cnode *b = a->next; b; b = b->next)
            later |= has_effects(b);
        if (later || (v[i].kind == V_IND))
            v[i] = ctypes_is_scalar(a->ty) ? stable(g, v[i])
                                           : stable_place(g, v[i]);
    }
    *out_vals = v;
    *n = cnt;
    return (val){0};
}

static val sp_slot(gen *g, void *ctx, int k)
{
    (void)g;
    (void)ctx;
    return (val){.kind = V_DISP, .base = "c0.sp", .off = 16 + 8L * k,
                 .sfx = "q"};
}

static val fixed_slot(gen *g, void *ctx, int k)
{
    cobj *f = ctx;
    return dir(frame_sym(g, f), param_off(f, k), "q");
}

static int arg_slots(cnode *args, ctype *params)
{
    int k = 0;
    ctype *pt = params;
    for (cnode *a = args; a; a = a->next) {
        ctype *ty = pt ? pt : a->ty;
        k += (int)((ty->size + 7) / 8);
        if (pt)
            pt = pt->next;
    }
    return k;
}

/* The operand a call of f jumps to.  Library functions are called
 * through a read-only word holding their address, `bl (c0.a.f)`: the
 * translator follows only direct call targets into a region, so the
 * library's code is not compiled again into every region that calls it
 * (a print at the end of a hot loop), but once, where it is hot. */
static const char *call_target(gen *g, cobj *f)
{
    if (!f->is_lib)
        return f->sym;
    if (!f->addr_word) {
        f->addr_word = true;
        cbuf_printf(g->c, &g->pool, "c0.a.%s: .quad %s\n", f->sym, f->sym);
    }
    return carena_printf(g->c, "(c0.a.%s)", f->sym);
}

static val gen_call(gen *g, cnode *n)
{
    val fnv = {0};
    if (!n->func) {
        fnv = gen_expr(g, n->lhs);
        fnv = stable(g, fnv);
    }
    val *vals;
    int cnt;
    eval_args(g, n->args, &vals, &cnt);
    cobj *f = n->func;
    if (f)
        note_ref(g, f);
    if (fixed_callee(f)) {
        store_args(g, n->args, n->fty->params, vals, fixed_slot, f);
        out(g, "    bl %s, %s\n", call_target(g, f), frame_sym(g, f));
    } else {
        int slots = arg_slots(n->args, n->fty->params);
        long size = 16 + 8L * slots;
        g->uses_stack = true;
        out(g, "    sub c0.sp:q, $%ld, c0.sp\n", size);
        store_args(g, n->args, n->fty->params, vals, sp_slot, NULL);
        if (f) {
            out(g, "    bl %s, c0.ra\n", call_target(g, f));
        } else if (fnv.kind == V_DIR) {
            out(g, "    bl (%s), c0.ra\n", addr_text(g, fnv.base, fnv.off));
        } else {
            ins2(g, "mov", fnv, "uq", dir("c0.x0", 0, "uq"), "uq");
            out(g, "    bl (c0.x0), c0.ra\n");
        }
        out(g, "    add c0.sp:q, $%ld, c0.sp\n", size);
    }
    if (n->ty->kind == TY_VOID)
        return (val){.kind = V_NONE, .sfx = "q"};
    val t = temp(g, ctypes_sfx(n->ty));
    mov(g, dir("c0.rv", 0, ctypes_sfx(n->ty)), t);
    return t;
}

static bool simple_place(val v)
{
    return v.kind == V_DIR || v.kind == V_DISP;
}

/* The dest hint for `lhs = rhs`: whether rhs's last instruction may write
 * the destination directly. */
static cnode *hint_target(cnode *rhs, ctype *lty)
{
    while (rhs->kind == ND_CAST && ctypes_is_integer(rhs->ty) &&
           ctypes_is_integer(rhs->lhs->ty) && rhs->ty->size >= lty->size)
        rhs = rhs->lhs;
    if (!arith_op(rhs->kind))
        return NULL;
    if (rhs->ty->kind == TY_DOUBLE)
        return lty->kind == TY_DOUBLE ? rhs : NULL;
    if ((ctypes_is_integer(lty) || lty->kind == TY_PTR) &&
        (ctypes_is_integer(rhs->ty) || rhs->ty->kind == TY_PTR) &&
        lty->size <= rhs->ty->size && lty->kind != TY_BOOL)
        return rhs;
    return NULL;
}

static val gen_binary(gen *g, cnode *n, val *dest);

/* Stores the value of r into the place d of type lty (r already has
 * lty's type): the last instruction of an arithmetic r writes d itself,
 * each arm of ?: stores its own value, and a narrowing integer cast is
 * the store's own truncation. */
static void gen_into(gen *g, cnode *r, val d, ctype *lty)
{
    cnode *h = hint_target(r, lty);
    if (h && simple_place(d)) {
        val v = gen_binary(g, h, &d);
        if (!(v.kind == d.kind && v.base == d.base && v.off == d.off))
            mov(g, v, d);
        return;
    }
    if (r->kind == ND_COND && ctypes_is_scalar(r->ty) && simple_place(d) &&
        ctypes_unqual(r->ty) == ctypes_unqual(lty)) {
        const char *le = new_label(g), *ld = new_label(g);
        gen_branch(g, r->cond, le, false);
        gen_into(g, r->then, d, lty);
        jump(g, ld);
        label(g, le);
        gen_into(g, r->els, d, lty);
        label(g, ld);
        return;
    }
    while (r->kind == ND_CAST && ctypes_is_integer(r->ty) &&
           ctypes_is_integer(r->lhs->ty) && r->ty->size >= lty->size &&
           lty->kind != TY_BOOL && r->ty->kind != TY_BOOL &&
           ctypes_is_integer(lty))
        r = r->lhs;
    mov(g, gen_expr(g, r), d);
}

static val gen_assign(gen *g, cnode *n)
{
    cnode *l = n->lhs, *r = n->rhs;
    if (!ctypes_is_scalar(n->ty)) {
        val dst = gen_addr(g, l);
        if (has_effects(r))
            dst = stable_place(g, dst);
        val src = gen_addr(g, r);
        copy_bytes(g, src, dst, n->ty->size);
        return dst;
    }
    val dst = gen_addr(g, l);
    if (has_effects(r))
        dst = stable_place(g, dst);
    val d = with_sfx(dst, ctypes_sfx(l->ty));
    gen_into(g, r, d, l->ty);
    return d;
}

static val gen_opassign(gen *g, cnode *n)
{
    cnode *l = n->lhs;
    val place = gen_addr(g, l);
    if (has_effects(n->rhs) || place.kind == V_IND)
        place = stable_place(g, place);
    val b = gen_expr(g, n->rhs);
    place.sfx = ctypes_sfx(l->ty);
    if (l->ty->kind == TY_PTR) {
        ins3(g, n->op == ND_ADD ? "add" : "sub", place, "uq", b, b.sfx,
             place, "uq");
        return place;
    }
    ctype *ty = n->fty;
    bool direct = ctypes_is_integer(ty) && ctypes_is_integer(l->ty) &&
                  l->ty->kind != TY_BOOL &&
                  (n->op == ND_ADD || n->op == ND_SUB || n->op == ND_MUL ||
                   n->op == ND_BITAND || n->op == ND_BITOR ||
                   n->op == ND_BITXOR || n->op == ND_SHL) &&
                  l->ty->size <= ty->size;
    direct |= ty->kind == TY_DOUBLE && l->ty->kind == TY_DOUBLE &&
              arith_op(n->op);
    if (direct) {
        binop(g, n->op, ty, place, b, &place);
        return place;
    }
    val a = convert(g, place, l->ty, ty);
    val r = binop(g, n->op, ty, a, b, NULL);
    mov(g, convert(g, r, ty, l->ty), place);
    return place;
}

static val gen_incdec(gen *g, cnode *n)
{
    val place = gen_addr(g, n->lhs);
    if (place.kind == V_IND)
        place = stable_place(g, place);
    ctype *ty = n->lhs->ty;
    place.sfx = ctypes_sfx(ty);
    val old = {0};
    if (n->kind == ND_POSTINC) {
        old = temp(g, place.sfx);
        mov(g, place, old);
    }
    if (ty->kind == TY_BOOL) {
        if (n->val > 0)
            ins2(g, "mov", imm(1, "q"), "q", place, "ub");
        else
            ins3(g, "xor", place, "ub", imm(1, "q"), "q", place, "ub");
    } else if (ty->kind == TY_DOUBLE) {
        ins3(g, "add", place, "f", imm(n->val, "f"), "f", place, "f");
    } else {
        ins3(g, "add", place, place.sfx, imm(n->val, "q"), "q", place,
             place.sfx);
    }
    return n->kind == ND_POSTINC ? old : place;
}

static val gen_binary(gen *g, cnode *n, val *dest)
{
    val a = gen_expr(g, n->lhs);
    if (has_effects(n->rhs))
        a = stable(g, a);
    val b = gen_expr(g, n->rhs);
    return binop(g, n->kind, n->ty, a, b, dest);
}

static val gen_expr(gen *g, cnode *n)
{
    switch (n->kind) {
    case ND_NUM:
        return imm(n->val, ctypes_sfx(n->ty));
    case ND_FNUM:
        return fconst(g, n->fval);
    case ND_VAR:
    case ND_DEREF:
    case ND_MEMBER:
    case ND_STR:
        return gen_addr(g, n);
    case ND_ADDR: {
        if (n->lhs->kind == ND_VAR && n->lhs->var->is_func) {
            note_ref(g, n->lhs->var);
            return imm_sym(n->lhs->var->sym, 0);
        }
        val p = gen_addr(g, n->lhs);
        return with_sfx(addr_of(g, p), "uq");
    }
    case ND_CAST: {
        val v = gen_expr(g, n->lhs);
        return convert(g, v, n->lhs->ty, n->ty);
    }
    case ND_ADD: case ND_SUB: case ND_MUL: case ND_DIV: case ND_MOD:
    case ND_BITAND: case ND_BITOR: case ND_BITXOR: case ND_SHL: case ND_SHR:
        return gen_binary(g, n, NULL);
    case ND_NEG: {
        val a = gen_expr(g, n->lhs);
        if (n->ty->kind == TY_DOUBLE) {
            val t = temp(g, "f");
            if (a.kind == V_IMM)
                a = stable(g, a);
            ins3(g, "xor", a, "q", imm(INT64_MIN, "q"), "q", t, "q");
            return t;
        }
        val t = temp(g, ctypes_sfx(n->ty));
        ins3(g, "sub", imm(0, "q"), "q", a, a.sfx, t, t.sfx);
        return t;
    }
    case ND_BITNOT: {
        val a = gen_expr(g, n->lhs);
        val t = temp(g, ctypes_sfx(n->ty));
        ins3(g, "xor", a, a.sfx, imm(-1, "q"), "q", t, t.sfx);
        return t;
    }
    case ND_EQ: case ND_NE: case ND_LT: case ND_LE: case ND_GT: case ND_GE:
    case ND_NOT: case ND_LOGAND: case ND_LOGOR:
        return bool_value(g, n);
    case ND_ASSIGN:
        return gen_assign(g, n);
    case ND_OPASSIGN:
        return gen_opassign(g, n);
    case ND_PREINC:
    case ND_POSTINC:
        return gen_incdec(g, n);
    case ND_COND:
        return gen_cond_expr(g, n);
    case ND_COMMA:
        gen_void(g, n->lhs);
        return gen_expr(g, n->rhs);
    case ND_CALL:
        return gen_call(g, n);
    case ND_ZERO:
        zero_fill(g, gen_addr(g, n->lhs), n->ty->size);
        return (val){.kind = V_NONE, .sfx = "q"};
    default:
        cdiag_fatal(g->c, "unexpected expression node %d", n->kind);
    }
}

/* Evaluates n for its effects only: a postfix ++/-- need not keep the
 * old value. */
static void gen_void(gen *g, cnode *n)
{
    if (n->kind == ND_POSTINC) {
        n->kind = ND_PREINC;
        gen_expr(g, n);
        n->kind = ND_POSTINC;
        return;
    }
    if (n->kind == ND_COMMA) {
        gen_void(g, n->lhs);
        gen_void(g, n->rhs);
        return;
    }
    gen_expr(g, n);
}

/* Jumps to label when n's truth equals `when`, else falls through. */
static void gen_branch(gen *g, cnode *n, const char *l, bool when)
{
    switch (n->kind) {
    case ND_NOT:
        gen_branch(g, n->lhs, l, !when);
        return;
    case ND_LOGAND:
    case ND_LOGOR: {
        bool and = n->kind == ND_LOGAND;
        if (and != when) {
            gen_branch(g, n->lhs, l, when);
            gen_branch(g, n->rhs, l, when);
        } else {
            const char *skip = new_label(g);
            gen_branch(g, n->lhs, skip, !when);
            gen_branch(g, n->rhs, l, when);
            label(g, skip);
        }
        return;
    }
    case ND_NUM:
        if ((n->val != 0) == when)
            jump(g, l);
        return;
    case ND_EQ: case ND_NE: case ND_LT: case ND_LE: case ND_GT: case ND_GE: {
        val a = gen_expr(g, n->lhs);
        if (has_effects(n->rhs))
            a = stable(g, a);
        val b = gen_expr(g, n->rhs);
        ctype *ty = n->lhs->ty;
        a = want(g, a, ty);
        if (b.kind == V_IMM)
            b = with_sfx(b, ty->kind == TY_DOUBLE ? "f" : ctypes_sfx(ty));
        nd_kind k = n->kind;
        bool fl = ty->kind == TY_DOUBLE;
        if (when) {
            br(g, cond_name(k), a, b, l);
        } else if (!fl || k == ND_EQ || k == ND_NE) {
            br(g, cond_name(invert(k)), a, b, l);
        } else {
            const char *skip = new_label(g);
            br(g, cond_name(k), a, b, skip);
            jump(g, l);
            label(g, skip);
        }
        return;
    }
    default: {
        val v = gen_expr(g, n);
        v = want(g, v, n->ty);
        br(g, when ? "ne" : "e", v, imm(0, v.sfx), l);
        return;
    }
    }
}

/* ---- statements ---------------------------------------------------- */

static void line_comment(gen *g, cnode *n)
{
    token *t = n->tok;
    if (!t || !t->file)
        return;
    if (t->line == g->last_line && t->file == g->last_file)
        return;
    g->last_line = t->line;
    g->last_file = t->file;
    const char *s = t->loc;
    const cfile *f = t->file;
    const char *text = "";
    int len = 0;
    if (s >= f->text && s <= f->text + f->len) {
        const char *b = s, *e = s;
        while (b > f->text && b[-1] != '\n')
            b--;
        while (e < f->text + f->len && *e != '\n' && *e != '\r')
            e++;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        text = b;
        len = (int)(e - b);
        if (len > 100)
            len = 100;
    }
    out(g, "    # %s:%d: %.*s\n", f->name, t->line, len, text);
}

static bool ranges_have(range *r, bool segments)
{
    for (; r; r = r->next)
        if (segments ? r->lo != NULL
                     : has_effects(r->base) || has_effects(r->lo) ||
                       has_effects(r->hi))
            return true;
    return false;
}

/* A list without segments has a fixed length: each range at its place. */
static void gen_fixed_ranges(gen *g, range *r, const char *desc)
{
    long n = 0;
    for (range *x = r; x; x = x->next)
        n++;
    out(g, "    mov $%ld, %s:q\n", n, desc);
    for (long i = 0; r; r = r->next, i++) {
        val base = gen_expr(g, r->base);
        ins2(g, "mov", base, "uq", dir(desc, 8 + 16 * i, "uq"), "uq");
        ins2(g, "mov", imm(r->size, "q"), "q", dir(desc, 16 + 16 * i, "q"),
             "q");
    }
}

static void gen_ranges(gen *g, range *r, const char *desc, const char *cur)
{
    if (!ranges_have(r, true)) {
        gen_fixed_ranges(g, r, desc);
        return;
    }
    out(g, "    mov $0, %s:q\n", desc);
    out(g, "    mov $%s+8, %s:q\n", desc, cur);
    val c = dir(cur, 0, "uq");
    for (; r; r = r->next) {
        val base = stable(g, gen_expr(g, r->base));
        const char *skip = NULL;
        if (r->lo) {
            val lo = stable(g, gen_expr(g, r->lo));
            val hi = stable(g, gen_expr(g, r->hi));
            skip = new_label(g);
            br(g, "l", hi, lo, "c0.trap.range");
            br(g, "e", hi, lo, skip);
            val t = temp(g, "q");
            ins3(g, "mul", lo, "q", imm(r->elem, "q"), "q", t, "q");
            ins3(g, "add", base, "uq", t, "q", deref_val(g, c, 0, "uq"), "uq");
            ins3(g, "sub", hi, "q", lo, "q", t, "q");
            ins3(g, "mul", t, "q", imm(r->elem, "q"), "q",
                 deref_val(g, c, 8, "q"), "q");
        } else {
            ins2(g, "mov", base, "uq", deref_val(g, c, 0, "uq"), "uq");
            ins2(g, "mov", imm(r->size, "q"), "q", deref_val(g, c, 8, "q"),
                 "q");
        }
        out(g, "    add %s:q, $16, %s\n", cur, cur);
        out(g, "    add %s:q, $1, %s\n", desc, desc);
        if (skip)
            label(g, skip);
    }
}

static val child_slot(gen *g, void *ctx, int k)
{
    (void)g;
    (void)ctx;
    return (val){.kind = V_DISP, .base = "c0.nd.stack", .off = 8L * k,
                 .sfx = "q"};
}

static void gen_runner(gen *g, cnode *n)
{
    for (cnode *s = n->body; s; s = s->next)
        gen_expr(g, s->lhs);
    val *vals;
    int cnt;
    eval_args(g, n->args, &vals, &cnt);
    bool effects = ranges_have(n->usings, false) ||
                   ranges_have(n->watches, false);
    for (int i = 0; i < cnt; i++)
        if (effects || vals[i].kind == V_IND)
            vals[i] = stable(g, vals[i]);
    note_ref(g, n->func);
    gen_ranges(g, n->usings, "c0.nd.heap", "c0.nd.hp");
    gen_ranges(g, n->watches, "c0.nd.watch", "c0.nd.wp");
    const char *none = NULL;
    if (n->watches) {
        none = new_label(g);
        out(g, "    br:e c0.nd.watch:q, $0, %s\n", none);
    }
    int slots = arg_slots(n->args, n->fty->params);
    out(g, "    mov $0, c0.nd.stack:q\n");
    out(g, "    mov $%d, c0.nd.stack+8:q\n", 8 * (slots ? slots : 1));
    out(g, "    mov $c0.entry.%s, c0.nd.fi:q\n", n->func->sym);
    out(g, "    newr $c0.nd.stack, $c0.nd.heap, $c0.nd.watch, $c0.nd.fi\n");
    store_args(g, n->args, n->fty->params, vals, child_slot, NULL);
    if (none)
        label(g, none);
}

static void gen_switch(gen *g, cnode *n)
{
    val v = stable(g, gen_expr(g, n->cond));
    v = want(g, v, n->cond->ty);
    for (cnode *c = n->cases; c; c = c->next_case)
        br(g, "e", v, imm(c->val, ctypes_sfx(n->cond->ty)), c->label);
    jump(g, n->default_case ? n->default_case->label : n->brk);
    const char *brk = g->brk;
    g->brk = n->brk;
    gen_stmt(g, n->then);
    g->brk = brk;
    label(g, n->brk);
}

/* A loop's body with its break and continue targets, then the continue
 * label. */
static void gen_loop_body(gen *g, cnode *n)
{
    const char *brk = g->brk, *cont = g->cont;
    g->brk = n->brk;
    g->cont = n->cont;
    gen_stmt(g, n->then);
    g->brk = brk;
    g->cont = cont;
    label(g, n->cont);
}

static void gen_loop(gen *g, cnode *n)
{
    const char *body = new_label(g);
    if (n->init)
        gen_stmt(g, n->init);
    bool always = !n->cond || (n->cond->kind == ND_NUM && n->cond->val);
    if (n->cond && n->cond->kind == ND_NUM && !n->cond->val) {
        jump(g, n->brk);
    } else if (!always) {
        g->ntemp = 0;                   /* the test also guards the entry */
        gen_branch(g, n->cond, n->brk, false);
    }
    label(g, body);
    gen_loop_body(g, n);
    if (n->inc) {
        g->ntemp = 0;
        gen_void(g, n->inc);
    }
    g->ntemp = 0;
    if (always)
        jump(g, body);
    else
        gen_branch(g, n->cond, body, true);
    label(g, n->brk);
}

static void gen_do(gen *g, cnode *n)
{
    const char *body = new_label(g);
    label(g, body);
    gen_loop_body(g, n);
    g->ntemp = 0;
    gen_branch(g, n->cond, body, true);
    label(g, n->brk);
}

static void gen_asm(gen *g, cnode *n)
{
    const char *s = n->asm_text;
    g->uses_stack = true;       /* it may call a function of C0.md 6.2 */
    while (*s) {
        const char *e = strchr(s, '\n');
        if (!e)
            e = s + strlen(s);
        out(g, "    %.*s\n", (int)(e - s), s);
        s = *e ? e + 1 : e;
    }
}

static void gen_stmt(gen *g, cnode *n)
{
    if (!n)
        return;
    g->ntemp = 0;
    if (n->kind != ND_BLOCK && n->kind != ND_LABEL && n->kind != ND_CASE)
        line_comment(g, n);
    switch (n->kind) {
    case ND_BLOCK:
        for (cnode *s = n->body; s; s = s->next)
            gen_stmt(g, s);
        return;
    case ND_EXPR_STMT:
        gen_void(g, n->lhs);
        return;
    case ND_IF: {
        const char *le = new_label(g);
        gen_branch(g, n->cond, le, false);
        gen_stmt(g, n->then);
        if (n->els) {
            const char *ld = new_label(g);
            jump(g, ld);
            label(g, le);
            gen_stmt(g, n->els);
            label(g, ld);
        } else {
            label(g, le);
        }
        return;
    }
    case ND_FOR: gen_loop(g, n); return;
    case ND_DO: gen_do(g, n); return;
    case ND_SWITCH: gen_switch(g, n); return;
    case ND_CASE:
        label(g, n->label);
        gen_stmt(g, n->lhs);
        return;
    case ND_BREAK: jump(g, g->brk); return;
    case ND_CONTINUE: jump(g, g->cont); return;
    case ND_RETURN:
        if (n->lhs) {
            val v = gen_expr(g, n->lhs);
            if (g->fn->ty->base->kind != TY_VOID)
                mov(g, v, dir("c0.rv", 0, ctypes_sfx(g->fn->ty->base)));
        }
        jump(g, g->ret_label);
        return;
    case ND_GOTO: jump(g, n->label); return;
    case ND_LABEL:
        label(g, n->label);
        gen_stmt(g, n->lhs);
        return;
    case ND_COMMIT: out(g, "    exit:c\n"); return;
    case ND_ABORT: out(g, "    exit:a\n"); return;
    case ND_RUNNER: gen_runner(g, n); return;
    case ND_ASM: gen_asm(g, n); return;
    case ND_NULL: return;
    default:
        cdiag_fatal(g->c, "unexpected statement node %d", n->kind);
    }
}

/* ---- functions ----------------------------------------------------- */

static long layout_locals(cobj *f, bool frame)
{
    long off = frame ? 0 : 8;
    if (!frame)
        for (cobj *p = f->params; p; p = p->next_param) {
            p->offset = 8 + 8L * p->param_slot;
            if (p->offset + ((p->ty->size + 7) / 8 * 8) > off)
                off = p->offset + ((p->ty->size + 7) / 8 * 8);
        }
    for (cobj *v = f->locals; v; v = v->next) {
        if (v->is_param)
            continue;
        long a = v->ty->align < 8 ? v->ty->align : 8;
        if (frame) {
            off = (off + v->ty->size + a - 1) / a * a;
            v->offset = off;
        } else {
            off = (off + a - 1) / a * a;
            v->offset = off;
            off += v->ty->size;
        }
    }
    return (off + 7) / 8 * 8;
}

static void gen_function(gen *g, cobj *f, cbuf *frames, long *pr_next)
{
    g->fn = f;
    g->frame = f->frame;
    g->uses_stack |= f->frame;
    g->fr = frame_sym(g, f);
    g->ntemp = g->max_temp = 0;
    g->last_line = -1;
    g->temp_base = layout_locals(f, f->frame);
    g->ret_label = new_label(g);
    out(g, "\n# %s %s\n", f->name, f->frame ? "(frame on the call stack)"
                                            : "(frame at a fixed address)");
    out(g, "%s:\n", f->sym);
    cbuf body = {0};
    cbuf *saved = g->out;
    g->out = &body;
    gen_stmt(g, f->body);
    g->out = saved;
    long size = (g->temp_base + g->max_temp + 15) / 16 * 16;
    if (f->frame) {
        out(g, "    mov c0.ra:q, 0(c0.sp)\n    mov c0.fp:q, 8(c0.sp)\n"
               "    mov c0.sp:q, c0.fp\n    sub c0.sp:q, $%ld, c0.sp\n"
               "    br:l c0.sp:q, $c0.stack_limit, c0.trap.stack\n", size);
    }
    cbuf_putn(g->c, g->out, body.s ? body.s : "", body.len);
    cbuf_free(g->c, &body);
    label(g, g->ret_label);
    if (f->frame)
        out(g, "    mov 0(c0.fp):q, c0.ra\n    mov c0.fp:q, c0.sp\n"
               "    mov 8(c0.fp):q, c0.fp\n    br:j (c0.ra)\n");
    else {
        out(g, "    br:j (%s)\n", g->fr);
        *pr_next = (*pr_next + 15) / 16 * 16;
        cbuf_printf(g->c, frames, ".equ %s, 0x%lx\n", g->fr, *pr_next);
        *pr_next += size;
        if (*pr_next > PR_REGS_LIMIT)
            cdiag_error(g->c, f->tok, "frames at fixed addresses and "
                        "register globals exceed the 256 MiB PR area");
    }
}

/* A runner's entry: c0.sp set when the program uses the call stack (else
 * the runner never touches the page of the runtime words for it), c0.fp
 * left at the 0 every runner's PR starts with (DISA 5.3), the arguments
 * copied from the DISA stack, f called, exit:c.  Emitted once every
 * reached function is, so that g->uses_stack is final. */
static void gen_entry(gen *g, cobj *f, const char *name, bool args)
{
    out(g, "\n%s:\n", name);
    if (g->uses_stack)
        out(g, "    mov $c0.stack_top, c0.sp:q\n");
    int slots = 0;
    for (ctype *p = f->ty->params; p; p = p->next)
        slots += (int)((p->size + 7) / 8);
    if (f->frame) {
        out(g, "    sub c0.sp:q, $%d, c0.sp\n", 16 + 8 * slots);
        for (int k = 0; args && k < slots; k++)
            out(g, "    mov %d(__sb):q, %d(c0.sp):q\n", 8 * k, 16 + 8 * k);
        out(g, "    bl %s, c0.ra\n", f->sym);
    } else {
        for (int k = 0; args && k < slots; k++)
            out(g, "    mov %d(__sb):q, %s+%ld:q\n", 8 * k, frame_sym(g, f),
                param_off(f, k));
        out(g, "    bl %s, %s\n", f->sym, frame_sym(g, f));
    }
    out(g, "    exit:c\n");
}

/* ---- call graph ---------------------------------------------------- */

typedef struct walkctx {
    cc_ctx *c;
    cobj *f;
} walkctx;

static void add_edge(cc_ctx *c, cobj *from, cobj *to)
{
    for (calledge *e = from->calls; e; e = e->next)
        if (e->to == to)
            return;
    calledge *e = carena_alloc(c, sizeof *e);
    e->to = to;
    e->next = from->calls;
    from->calls = e;
}

static void walk(walkctx *w, cnode *n);

static void walk_list(walkctx *w, cnode *n)
{
    for (; n; n = n->next)
        walk(w, n);
}

static void walk(walkctx *w, cnode *n)
{
    if (!n)
        return;
    if (n->kind == ND_CALL) {
        if (n->func)
            add_edge(w->c, w->f, n->func);
        else
            w->f->calls_indirect = true;
    }
    if (n->kind == ND_ADDR && n->lhs->kind == ND_VAR && n->lhs->var->is_func)
        n->lhs->var->addr_taken = true;
    if (n->kind == ND_VAR && n->var->is_func)
        n->var->addr_taken = true;
    if (n->kind == ND_RUNNER) {
        n->func->is_runner_target = true;
        add_edge(w->c, w->f, n->func);      /* reach only, see scc */
        for (range *r = n->usings; r; r = r->next) {
            walk(w, r->base); walk(w, r->lo); walk(w, r->hi);
        }
        for (range *r = n->watches; r; r = r->next) {
            walk(w, r->base); walk(w, r->lo); walk(w, r->hi);
        }
        walk_list(w, n->body);
    }
    if (n->kind == ND_ADDR && n->lhs->kind == ND_VAR && n->lhs->var->is_func) {
        /* already noted */
    } else {
        walk(w, n->lhs);
    }
    walk(w, n->rhs);
    walk(w, n->cond);
    walk(w, n->then);
    walk(w, n->els);
    walk(w, n->init);
    walk(w, n->inc);
    if (n->kind == ND_BLOCK)
        walk_list(w, n->body);
    walk_list(w, n->args);
}

typedef struct scc {
    cobj **stack;
    int sp, index;
    cobj **funcs;
    int nfuncs;
    cc_ctx *c;
} scc;

static bool is_call_edge(cobj *from, cobj *to)
{
    (void)from;
    (void)to;
    return true;
}

static void strongconnect(scc *s, cobj *v);

static void visit_edge(scc *s, cobj *v, cobj *w)
{
    if (!w->is_def || !w->body)
        return;
    if (w->scc_index == 0) {
        strongconnect(s, w);
        if (w->scc_low < v->scc_low)
            v->scc_low = w->scc_low;
    } else if (w->on_stack && w->scc_index < v->scc_low) {
        v->scc_low = w->scc_index;
    }
}

static void strongconnect(scc *s, cobj *v)
{
    v->scc_index = v->scc_low = ++s->index;
    s->stack[s->sp++] = v;
    v->on_stack = true;
    for (calledge *e = v->calls; e; e = e->next)
        if (is_call_edge(v, e->to))
            visit_edge(s, v, e->to);
    if (v->calls_indirect)
        for (int i = 0; i < s->nfuncs; i++)
            if (s->funcs[i]->addr_taken)
                visit_edge(s, v, s->funcs[i]);
    if (v->scc_low != v->scc_index)
        return;
    int n = 0;
    cobj *w;
    do {
        w = s->stack[--s->sp];
        w->on_stack = false;
        n++;
    } while (w != v);
    if (n > 1) {
        for (int i = s->sp; i < s->sp + n; i++)
            s->stack[i]->frame = true;
    }
    for (calledge *e = v->calls; e; e = e->next)
        if (e->to == v)
            v->frame = true;
    if (v->calls_indirect && v->addr_taken)
        v->frame = true;
}

/* Runner statements start a fresh PR: they are not calls.  Edges from
 * ND_RUNNER were added for reach; recursion counts only calls, so the
 * graph is rebuilt with calls only for the SCC pass. */
static void collect_calls(cc_ctx *c, cobj *f, cnode *n);

static void collect_list(cc_ctx *c, cobj *f, cnode *n)
{
    for (; n; n = n->next)
        collect_calls(c, f, n);
}

static void collect_calls(cc_ctx *c, cobj *f, cnode *n)
{
    if (!n)
        return;
    if (n->kind == ND_CALL && n->func)
        add_edge(c, f, n->func);
    collect_calls(c, f, n->lhs);
    collect_calls(c, f, n->rhs);
    collect_calls(c, f, n->cond);
    collect_calls(c, f, n->then);
    collect_calls(c, f, n->els);
    collect_calls(c, f, n->init);
    collect_calls(c, f, n->inc);
    if (n->kind == ND_BLOCK)
        collect_list(c, f, n->body);
    collect_list(c, f, n->args);
    if (n->kind == ND_RUNNER) {
        collect_list(c, f, n->body);
        for (range *r = n->usings; r; r = r->next) {
            collect_calls(c, f, r->base); collect_calls(c, f, r->lo);
            collect_calls(c, f, r->hi);
        }
        for (range *r = n->watches; r; r = r->next) {
            collect_calls(c, f, r->base); collect_calls(c, f, r->lo);
            collect_calls(c, f, r->hi);
        }
    }
}

static void plan_frames(cc_ctx *c, cobj **funcs, int n)
{
    for (int i = 0; i < n; i++) {
        walkctx w = {c, funcs[i]};
        walk(&w, funcs[i]->body);
        funcs[i]->calls = NULL;
    }
    for (int i = 0; i < n; i++)
        collect_calls(c, funcs[i], funcs[i]->body);
    scc s = {.stack = carena_alloc(c, sizeof(cobj *) * (size_t)(n + 1)),
             .funcs = funcs, .nfuncs = n, .c = c};
    for (int i = 0; i < n; i++)
        if (!funcs[i]->scc_index)
            strongconnect(&s, funcs[i]);
    for (int i = 0; i < n; i++)
        if (funcs[i]->addr_taken)
            funcs[i]->frame = true;
}

/* ---- data ---------------------------------------------------------- */

static void emit_init(gen *g, cobj *o, cbuf *b)
{
    long size = o->ty->size;
    long i = 0;
    while (i < size) {
        reloc *r = NULL;
        for (reloc *x = o->relocs; x; x = x->next)
            if (x->offset == i)
                r = x;
        if (r) {
            cbuf_printf(g->c, b, "    .quad %s\n",
                        addr_text(g, r->sym, r->addend));
            i += 8;
            continue;
        }
        long z = 0;
        while (i + z < size && !o->init[i + z]) {
            bool rel = false;
            for (reloc *x = o->relocs; x; x = x->next)
                rel |= x->offset == i + z;
            if (rel)
                break;
            z++;
        }
        if (z >= 16) {
            cbuf_printf(g->c, b, "    .zero %ld\n", z);
            i += z;
            continue;
        }
        cbuf_puts(g->c, b, "    .byte ");
        long k = 0;
        for (; k < 16 && i < size; k++, i++) {
            bool rel = false;
            for (reloc *x = o->relocs; x; x = x->next)
                rel |= x->offset == i;
            if (rel)
                break;
            cbuf_printf(g->c, b, "%s%d", k ? ", " : "", o->init[i]);
        }
        cbuf_puts(g->c, b, "\n");
    }
}

static int cmp_obj(const void *a, const void *b)
{
    const cobj *x = *(cobj *const *)a, *y = *(cobj *const *)b;
    return (x->tu > y->tu) - (x->tu < y->tu);
}

static cobj **globals_in_order(cc_ctx *c, int *n)
{
    int cnt = 0;
    for (cobj *o = c->globals; o; o = o->next)
        cnt++;
    cobj **v = carena_alloc(c, sizeof(cobj *) * (size_t)(cnt + 1));
    int i = cnt;
    for (cobj *o = c->globals; o; o = o->next)
        v[--i] = o;
    (void)cmp_obj;
    *n = cnt;
    return v;
}

static void emit_data(gen *g, cobj **objs, int n, cbuf *text, cbuf *data,
                      cbuf *equs, long *pr_next)
{
    long bss = 0;
    for (int i = 0; i < n; i++) {
        cobj *o = objs[i];
        if (o->is_func || o->is_lib)
            continue;
        if (!o->ty->complete || o->ty->size <= 0) {
            if (!o->is_def)
                continue;
            cdiag_error(g->c, o->tok, "'%s' has an incomplete type", o->name);
        }
        long size = o->ty->size;
        long align = o->ty->align < 8 ? o->ty->align : 8;
        if (o->sc == SC_REGISTER) {
            *pr_next = (*pr_next + align - 1) / align * align;
            cbuf_printf(g->c, equs, ".equ %s, 0x%lx    # register global\n",
                        o->sym, *pr_next);
            *pr_next += size;
            continue;
        }
        if (o->sc == SC_STANDALONE) {
            align = 4096;
            size = (size + 4095) / 4096 * 4096;
        }
        if (o->init && o->in_text) {
            cbuf_printf(g->c, text, "    .align %ld\n%s:\n", align, o->sym);
            emit_init(g, o, text);
        } else if (o->init) {
            cbuf_printf(g->c, data, "    .align %ld\n%s:\n", align, o->sym);
            emit_init(g, o, data);
            if (size > o->ty->size)
                cbuf_printf(g->c, data, "    .zero %ld\n", size - o->ty->size);
        } else {
            bss = (bss + align - 1) / align * align;
            cbuf_printf(g->c, equs, ".equ %s, c0.bss+%ld\n", o->sym, bss);
            bss += size;
            if (bss >= 0x3E0000000000L - 0x40000000L)
                cdiag_error(g->c, o->tok, "globals must end below the "
                            "stack area at 0x3E0000000000");
        }
    }
}

static const char header[] =
    "# generated by dvm cc (c0 1.0)\n"
    ".equ c0.sp, 0x2000\n"
    ".equ c0.fp, 0x2008\n"
    ".equ c0.ra, 0x2010\n"
    ".equ c0.rv, 0x2018\n"
    ".equ c0.inpos, 0x2028\n"
    ".equ c0.x0, 0x2040\n"
    ".equ c0.x1, 0x2048\n"
    ".equ c0.x2, 0x2050\n"
    ".equ c0.nd.stack, 0x2058\n"
    ".equ c0.nd.fi, 0x2068\n"
    ".equ c0.nd.hp, 0x2070\n"
    ".equ c0.nd.wp, 0x2078\n"
    ".equ c0.nd.heap, 0x2080\n"
    ".equ c0.nd.watch, 0x2488\n"
    ".equ c0.stack_top, 0x20000000\n";

static bool uses_input(cc_ctx *c)
{
    for (cobj *o = c->globals; o; o = o->next)
        if (o->is_func && o->reached && o->is_lib &&
            !strncmp(o->name, "input_", 6))
            return true;
    return false;
}

/* Functions named in initialised data are reached and address-taken. */
static void mark_reloc_targets(cobj **objs, int n)
{
    for (int i = 0; i < n; i++)
        for (reloc *r = objs[i]->relocs; r; r = r->next)
            for (int j = 0; j < n; j++)
                if (objs[j]->is_func && !strcmp(objs[j]->sym, r->sym)) {
                    objs[j]->reached = true;
                    objs[j]->addr_taken = true;
                }
}

/* Generates the whole program. */
void cgen_program(cc_ctx *c, cbuf *outb)
{
    int n;
    cobj **objs = globals_in_order(c, &n);
    cobj **funcs = carena_alloc(c, sizeof(cobj *) * (size_t)(n + 1));
    int nf = 0;
    cobj *main_fn = NULL;
    for (int i = 0; i < n; i++) {
        cobj *o = objs[i];
        if (o->is_func && o->body)
            funcs[nf++] = o;
        if (o->is_func && !strcmp(o->name, "main") && !o->is_static)
            main_fn = o;
    }
    if (!main_fn || !main_fn->body)
        cdiag_error(c, NULL, "the program has no 'main' function");
    ctype *mr = main_fn->ty->base;
    if ((mr->kind != TY_VOID && mr->kind != TY_INT && mr->kind != TY_LONG) ||
        main_fn->ty->params)
        cdiag_error(c, main_fn->tok, "'main' must take no parameters and "
                                     "return void, int or long");
    mark_reloc_targets(objs, n);
    plan_frames(c, funcs, nf);
    gen g = {.c = c};
    cbuf *text = outb;
    cbuf frames = {0}, data = {0}, equs = {0}, code = {0};
    g.out = &code;
    long pr_next = PR_REGS_BASE;
    emit_data(&g, objs, n, &g.pool, &data, &equs, &pr_next);
    main_fn->reached = true;
    bool progress = true;
    bool *done = carena_alloc(c, (size_t)nf + 1);
    while (progress) {
        progress = false;
        for (int i = 0; i < nf; i++) {
            if (done[i] || !funcs[i]->reached)
                continue;
            done[i] = true;
            progress = true;
            gen_function(&g, funcs[i], &frames, &pr_next);
        }
    }
    for (int i = 0; i < nf; i++)
        if (done[i] && funcs[i]->is_runner_target)
            gen_entry(&g, funcs[i],
                      carena_printf(c, "c0.entry.%s", funcs[i]->sym), true);
    for (int i = 0; i < n; i++) {
        cobj *o = objs[i];
        if (o->is_func && o->reached && !o->body)
            cdiag_error(c, o->tok, "function '%s' is used but never defined",
                        o->name);
    }
    long limit = (pr_next + 4095) / 4096 * 4096;
    cbuf_puts(c, text, header);
    cbuf_printf(c, text, ".equ c0.stack_limit, 0x%lx\n", limit);
    if (uses_input(c))
        cbuf_puts(c, text, ".channel stdin, 0x3F0000000000, in\n");
    cbuf_puts(c, text, ".entry c0.start\n\n    .text\n");
    g.out = text;
    gen_entry(&g, main_fn, "c0.start", false);
    g.out = text;
    out(&g, "\nc0.trap.stack:\n    mov $1, 0x3FFFFFFFF000:q\n"
            "c0.trap.range:\n    mov $1, 0x3FFFFFFFF008:q\n");
    cbuf_putn(c, text, code.s ? code.s : "", code.len);
    cbuf_puts(c, text, "\n# constants, strings and read-only data\n"
                        "    .align 8\n");
    if (g.uses_pow2) {
        cbuf_puts(c, text, "c0.pow2:                 # 2^0 .. 2^63, for shifts\n");
        for (int i = 0; i < 64; i += 4)
            cbuf_printf(c, text, "    .quad 0x%llx, 0x%llx, 0x%llx, 0x%llx\n",
                        1ULL << i, 1ULL << (i + 1), 1ULL << (i + 2),
                        1ULL << (i + 3));
    }
    cbuf_putn(c, text, g.pool.s ? g.pool.s : "", g.pool.len);
    cbuf_puts(c, text, "\n    .data\n");
    cbuf_putn(c, text, data.s ? data.s : "", data.len);
    cbuf_puts(c, text, "    .align 4096\nc0.bss:\n\n");
    cbuf_putn(c, text, equs.s ? equs.s : "", equs.len);
    cbuf_putn(c, text, frames.s ? frames.s : "", frames.len);
    cbuf_free(c, &code);
    cbuf_free(c, &g.pool);
    cbuf_free(c, &data);
    cbuf_free(c, &equs);
    cbuf_free(c, &frames);
}
