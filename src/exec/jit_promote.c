/*
 * jit_promote.c -- the translator's PR-word promotion, and every load and
 * store of the window the translated code makes.
 *
 * DISA has no registers: programs keep their scalars in
 * direct-addressed words of the PR (`add i:q, $1, i`) and reach arrays
 * through indirect operands whose address is known only at run time.
 * LLVM cannot prove that win + ea does not alias win + 0x2070, so left to
 * itself it reloads and re-stores every scalar around every indirect
 * access, and loops run several times slower than C.  So each region
 * (up to JIT_GVN_MAX insns) *promotes* the direct words it uses most: 8
 * bytes, 8-aligned, in the PR, which no other direct access of the region
 * overlaps (so promoted words never overlap each other, and a direct
 * operand either names one whole or misses them all).  At most
 * JIT_PROMOTE_MAX, chosen by uses, a use in a loop weighing 16 times more.
 * Each gets an alloca, loaded from the window in the entry block: a
 * double when the region uses the word mostly as :f (so that a float
 * kept across instructions stays in a float register), else an i64;
 * direct reads and writes of it use the alloca, which SROA turns into SSA
 * values, i.e. registers.  The invariant:
 *
 *     DISA memory = the window, except at the promoted words, whose
 *     values are their allocas'; a word the region never writes directly
 *     ("clean") has the same value in both.
 *
 * Whatever may see memory through the window restores it first: spill()
 * writes the dirty words back.  That happens before every return (exit,
 * fault, an indirect jump out of the region) and before rt_newr, which
 * reads descriptors through the window and may write one word of them
 * (the base of a stack it chose), so the words are reloaded after it
 * (jit_reload); the other helpers (rt_write,
 * rt_isinsn, fmod) do not read it.  Faults share one raise block per
 * region (phis for kind, pc and address) so that the spill is emitted
 * once, not once per fault check.  An access at a computed address
 * (indirect, displacement, a pointer that may point into the PR) first
 * tests whether [ea, ea+w) meets the span [pro_lo, pro_hi) of all
 * promoted words, one unsigned compare, normally false (arrays live in
 * the SR) and often folded away by LLVM; if it does, a cold path spills,
 * does the access on the window and, for a write, reloads every promoted
 * word (the write may have changed any of them, whole or in part), which
 * restores the invariant.  The result is bit-exact with the interpreter
 * whatever a pointer holds, including a pointer at a promoted word itself.
 */
#include <stdlib.h>

#include "exec/jit_ir.h"
#include "util/alloc.h"

/* ---- access ---------------------------------------------------------- */

/* The i64 value of promoted word i (its alloca holds a double when the
 * region uses it mostly as :f, so that it stays in a float register). */
static LLVMValueRef slot_load(jb *b, size_t i)
{
    if (!b->flt[i])
        return LLVMBuildLoad2(b->b, b->i64, b->slot[i], "pv");
    LLVMValueRef d = LLVMBuildLoad2(b->b, b->dbl, b->slot[i], "pf");
    return LLVMBuildBitCast(b->b, d, b->i64, "pb");
}

/* Sets promoted word i to the i64 v. */
static void slot_store(jb *b, size_t i, LLVMValueRef v)
{
    if (b->flt[i])
        v = LLVMBuildBitCast(b->b, v, b->dbl, "pd");
    LLVMBuildStore(b->b, v, b->slot[i]);
}

/* Writes the promoted words back to the window, so that it holds the
 * whole DISA memory.  Only words the region writes directly: the others
 * never differ from the window (they change only through a reload). */
void jit_spill(jb *b)
{
    for (size_t i = 0; i < b->npro; i++)
        if (b->dirty[i])
            mem_store(b, k64(b, b->pro[i]), slot_load(b, i));
}

/* Reloads every promoted word from the window (after a spill and a write
 * that may have changed some of them). */
void jit_reload(jb *b)
{
    for (size_t i = 0; i < b->npro; i++)
        slot_store(b, i, mem_load(b, k64(b, b->pro[i]), 8));
}

/* The promoted word that [a, a+w) overlaps, or -1 (the lowest one when
 * it overlaps several). */
static ptrdiff_t promoted_at(const jb *b, uint64_t a, unsigned w)
{
    size_t lo = 0, hi = b->npro;
    while (lo < hi) {           /* first word ending after a */
        size_t mid = lo + (hi - lo) / 2;
        if (b->pro[mid] + 8 <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < b->npro && b->pro[lo] < a + w)
        return (ptrdiff_t)lo;
    return -1;
}

/* The promoted word that holds exactly the w bytes at ea, or -1: only a
 * constant ea naming a promoted word, accessed whole. */
static ptrdiff_t slot_of(const jb *b, LLVMValueRef ea, unsigned w)
{
    if (!b->npro || w != 8 || !LLVMIsAConstantInt(ea))
        return -1;
    uint64_t a = LLVMConstIntGetZExtValue(ea);
    ptrdiff_t i = promoted_at(b, a, w);
    return i >= 0 && b->pro[i] == a ? i : -1;
}

/* True when [ea, ea+w) may overlap a promoted word (a constant ea is
 * decided here; any other must be tested at run time). */
static int may_hit(const jb *b, LLVMValueRef ea, unsigned w)
{
    if (!b->npro)
        return 0;
    if (LLVMIsAConstantInt(ea))
        return promoted_at(b, LLVMConstIntGetZExtValue(ea), w) >= 0;
    return 1;
}

/* i1: [ea, ea+w) misses the span of the promoted words, i.e. ea lies
 * outside [lo-w+1, hi): one unsigned compare (mod 2^64, so a span near 0
 * works too). */
static LLVMValueRef misses_span(jb *b, LLVMValueRef ea, unsigned w)
{
    uint64_t start = b->pro_lo - (w - 1);
    LLVMValueRef off = LLVMBuildSub(b->b, ea, k64(b, start), "so");
    return LLVMBuildICmp(b->b, LLVMIntUGE, off, k64(b, b->pro_hi - start),
                         "miss");
}

/* Branches to a new fast block when ea's w bytes miss the promoted span,
 * else (marked unlikely) to a new cold block; returns the two in *fast
 * and *cold. */
static void split_on_span(jb *b, LLVMValueRef ea, unsigned w,
                          LLVMBasicBlockRef *fast, LLVMBasicBlockRef *cold)
{
    *fast = new_bb(b, "far");
    *cold = new_bb(b, "near");
    LLVMValueRef br = LLVMBuildCondBr(b->b, misses_span(b, ea, w), *fast,
                                      *cold);
    weigh_branch(b, br, b->unlikely);
}

/* Loads the w-byte integer at checked ea (not widened): from its alloca
 * when ea names a promoted word; else from the window, after a spill when
 * the access meets the promoted span. */
LLVMValueRef jit_load(jb *b, LLVMValueRef ea, unsigned w)
{
    ptrdiff_t s = slot_of(b, ea, w);
    if (s >= 0)
        return slot_load(b, (size_t)s);
    if (!may_hit(b, ea, w))
        return mem_load(b, ea, w);
    LLVMBasicBlockRef fast, cold, join = new_bb(b, "ldj");
    split_on_span(b, ea, w, &fast, &cold);
    LLVMPositionBuilderAtEnd(b->b, fast);
    LLVMValueRef v[2] = {mem_load(b, ea, w), NULL};
    LLVMBuildBr(b->b, join);
    LLVMPositionBuilderAtEnd(b->b, cold);
    jit_spill(b);
    v[1] = mem_load(b, ea, w);
    LLVMBuildBr(b->b, join);
    LLVMPositionBuilderAtEnd(b->b, join);
    LLVMValueRef phi = LLVMBuildPhi(b->b, int_ty(b, w), "ldv");
    LLVMBasicBlockRef from[2] = {fast, cold};
    LLVMAddIncoming(phi, v, from, 2);
    return phi;
}

/* Stores integer v (of w bytes) at checked ea: into its alloca when ea
 * names a promoted word; else into the window, between a spill and a
 * reload when the access meets the promoted span. */
void jit_store(jb *b, LLVMValueRef ea, LLVMValueRef v)
{
    unsigned w = LLVMGetIntTypeWidth(LLVMTypeOf(v)) / 8;
    ptrdiff_t s = slot_of(b, ea, w);
    if (s >= 0) {
        slot_store(b, (size_t)s, v);
        return;
    }
    if (!may_hit(b, ea, w)) {
        mem_store(b, ea, v);
        return;
    }
    LLVMBasicBlockRef fast, cold, join = new_bb(b, "stj");
    split_on_span(b, ea, w, &fast, &cold);
    LLVMPositionBuilderAtEnd(b->b, fast);
    mem_store(b, ea, v);
    LLVMBuildBr(b->b, join);
    LLVMPositionBuilderAtEnd(b->b, cold);
    jit_spill(b);
    mem_store(b, ea, v);
    jit_reload(b);
    LLVMBuildBr(b->b, join);
    LLVMPositionBuilderAtEnd(b->b, join);
}

/* ---- choosing the promoted words ---------------------------------------- */

/* A direct access of the region to the PR: address, width, times used. */
typedef struct jacc {
    uint64_t a;
    unsigned w, n;
    unsigned nf;                /* ... of them as :f */
    int wr;                     /* written (by some of them) */
} jacc;

/* Records a direct access of w bytes at a (PR ones only); wr: a write,
 * f: as :f. */
static void acc_add(jacc *v, size_t *n, uint64_t a, unsigned w, int wr,
                    int f)
{
    if (a < DISA_RB)
        v[(*n)++] = (jacc){a, w, 1, f != 0, wr};
}

/* Records the direct access memory operand o of width w makes: at its
 * address (a write when wr), or a read of its pointer word (8 bytes) when
 * IND or DISP. */
static void acc_mem(jacc *v, size_t *n, const isa_operand *o, unsigned w,
                    int wr)
{
    if (o->mode == ISA_M_DIR)
        acc_add(v, n, o->value, w, wr, isa_type_float[o->type]);
    else if (o->mode != ISA_M_IMM)
        acc_add(v, n, o->value, 8, 0, 0);
}

/* Records the direct access of jump operand o: its pointer word. */
static void acc_jump(jacc *v, size_t *n, const isa_operand *o)
{
    if (o->mode != ISA_M_DIR)
        acc_add(v, n, o->value, 8, 0, 0);
}

static void acc_ops(jacc *v, size_t *n, const vm_insn *in);

/* Records the direct accesses of in (at most 4), as emit_insn makes
 * them, each counted as weight uses. */
static void acc_insn(jacc *v, size_t *n, const vm_insn *in, unsigned weight)
{
    size_t first = *n;
    acc_ops(v, n, in);
    for (size_t i = first; i < *n; i++)
        v[i].n = weight, v[i].nf *= weight;
}

/* Loop nesting estimate per insn index, in depth[] (zeroed, ninsns + 1):
 * every direct backward jump of the region covers the insns from its
 * target to itself.  Only the span of the region's indices is summed, so
 * that a small region of a huge program costs little. */
static void loop_depth(const jb *b, unsigned *depth)
{
    size_t lo = b->code->ninsns, hi = 0;
    for (size_t k = 0; k < b->nlist; k++) {
        uint32_t i = b->list[k];
        const vm_insn *in = &b->code->insns[i];
        lo = i < lo ? i : lo;
        hi = i + 1 > hi ? i + 1 : hi;
        if ((in->op == ISA_OP_BR || in->op == ISA_OP_BL) &&
            in->target != VM_NO_INSN && in->target <= i) {
            depth[in->target]++;
            depth[i + 1]--;
            lo = in->target < lo ? in->target : lo;
        }
    }
    for (size_t i = lo + 1; i < hi; i++)
        depth[i] += depth[i - 1];
}

/* Records the direct accesses of in (at most 4), as emit_insn makes
 * them. */
static void acc_ops(jacc *v, size_t *n, const vm_insn *in)
{
    switch (in->op) {
    case ISA_OP_EXIT:
        break;
    case ISA_OP_BR:
        if (in->opt == ISA_OPT_J) {
            acc_jump(v, n, &in->o[0]);
            break;
        }
        acc_mem(v, n, &in->o[0], isa_type_bytes[in->o[0].type], 0);
        acc_mem(v, n, &in->o[1], isa_type_bytes[in->o[1].type], 0);
        acc_jump(v, n, &in->o[2]);
        break;
    case ISA_OP_BL:
        acc_jump(v, n, &in->o[0]);
        acc_mem(v, n, &in->o[1], 8, 1);
        break;
    case ISA_OP_NEWR:
        for (int i = 0; i < 4; i++)
            acc_mem(v, n, &in->o[i], 8, 0);
        break;
    default:
        for (int i = 0; i < in->nops; i++)
            acc_mem(v, n, &in->o[i], isa_type_bytes[in->o[i].type],
                    i == in->nops - 1);
        break;
    }
}

/* qsort order: by address, then width. */
static int acc_cmp(const void *x, const void *y)
{
    const jacc *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return (p->w > q->w) - (p->w < q->w);
}

/* qsort order: most used first, then by address. */
static int acc_cmp_uses(const void *x, const void *y)
{
    const jacc *p = x, *q = y;
    if (p->n != q->n)
        return p->n > q->n ? -1 : 1;
    return acc_cmp(x, y);
}

/* Sorts v[0..n) and merges equal accesses (summing uses); returns the
 * new count. */
static size_t acc_merge(jacc *v, size_t n)
{
    qsort(v, n, sizeof *v, acc_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && v[m - 1].a == v[i].a && v[m - 1].w == v[i].w) {
            v[m - 1].n += v[i].n;
            v[m - 1].nf += v[i].nf;
            v[m - 1].wr |= v[i].wr;
        } else
            v[m++] = v[i];
    }
    return m;
}

/* True when merged access v[i] is a promotable word: 8 bytes, aligned,
 * wholly in the PR, and no other direct access of the region overlaps it
 * (widths are at most 8, so only neighbours closer than 8 can). */
static int promotable(const jacc *v, size_t n, size_t i)
{
    uint64_t a = v[i].a;
    if (v[i].w != 8 || a % 8 || a + 8 > DISA_RB)
        return 0;
    for (size_t j = i; j-- > 0 && a - v[j].a < 8;)
        if (v[j].a + v[j].w > a)
            return 0;
    return i + 1 >= n || v[i + 1].a >= a + 8;
}

/* Chooses the region's promoted words (b->pro, b->npro): the promotable
 * ones, the JIT_PROMOTE_MAX most used if more (a use in a loop counts 16
 * times one outside, in a nested loop 256 times, ...).  None in a region too big
 * for GVN (each spill is one store per word, and faults spill).  Returns
 * 0, or -1 out of memory. */
int jit_promote_find(jb *b)
{
    if (b->nlist > JIT_GVN_MAX)
        return 0;
    jacc *v = dvm_malloc((4 * b->nlist + 1) * sizeof *v);
    if (!v)
        return -1;
    unsigned *depth = dvm_calloc(b->code->ninsns + 1, sizeof *depth);
    if (!depth) {
        dvm_free(v);
        return -1;
    }
    loop_depth(b, depth);
    size_t n = 0, m = 0;
    for (size_t k = 0; k < b->nlist; k++) {
        uint32_t i = b->list[k];
        unsigned d = depth[i] < 3 ? depth[i] : 3;
        acc_insn(v, &n, &b->code->insns[i], 1u << (4 * d));
    }
    dvm_free(depth);
    n = acc_merge(v, n);
    for (size_t i = 0; i < n; i++)
        if (promotable(v, n, i))
            v[m++] = v[i];
    if (m > JIT_PROMOTE_MAX) {
        qsort(v, m, sizeof *v, acc_cmp_uses);
        m = JIT_PROMOTE_MAX;
        qsort(v, m, sizeof *v, acc_cmp);
    }
    b->pro = dvm_malloc((m + 1) * sizeof *b->pro);
    b->slot = dvm_malloc((m + 1) * sizeof *b->slot);
    b->dirty = dvm_malloc(m + 1);
    b->flt = dvm_malloc(m + 1);
    if (!b->pro || !b->slot || !b->dirty || !b->flt) {
        dvm_free(v);
        return -1;
    }
    for (size_t i = 0; i < m; i++)
        b->pro[i] = v[i].a, b->dirty[i] = (uint8_t)v[i].wr,
        b->flt[i] = 2 * v[i].nf > v[i].n;
    b->npro = m;
    if (m)
        b->pro_lo = b->pro[0], b->pro_hi = b->pro[m - 1] + 8;
    dvm_free(v);
    return 0;
}

/* In the entry block: one alloca per promoted word (a double for a word
 * used mostly as :f, else an i64), loaded from the window (the invariant
 * holds from the start). */
void jit_promote_slots(jb *b)
{
    for (size_t i = 0; i < b->npro; i++)
        b->slot[i] = LLVMBuildAlloca(b->b, b->flt[i] ? b->dbl : b->i64, "w");
    jit_reload(b);
}
