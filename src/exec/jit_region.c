/*
 * jit_region.c -- the translator's regions: which instructions one native
 * function holds, and that function's frame around the lowered
 * instructions.
 *
 * A region is named by its entry instruction and holds the instructions
 * reachable from it along direct edges: fall-through, direct (DIR-mode)
 * branch targets, `bl` targets, and the return points of the `bl`s it
 * contains (reached back through `br:j (link)`).  When the entry heads a
 * loop (a region is translated when its entry is hot, and hot entries are
 * mostly loop heads), only the loop and the functions it calls: the code
 * after the loop runs once, and translating it would cost more than
 * interpreting it.  A region holds at most region_max instructions; a
 * jump to an instruction outside leaves through the dispatch block.  It
 * becomes one
 * LLVM function  i32 fn(jit_ctx *ctx, i8 *win)  with one basic block per
 * DISA instruction, so loops are LLVM loops and run wholly in native code.
 *
 * Control.  Direct jumps are LLVM branches.  Indirect jumps (IND/DISP jump
 * operands) go to the region's dispatch block: a switch over the addresses
 * of the region's entry and return points; any other address leaves the
 * function with JIT_CONTINUE and ctx->next/ctx->from, and jit_run looks the
 * address up (not an instruction start: VM_FAULT_EXEC raised at the jump)
 * and enters the region named by it.
 *
 * Counted loops.  A store through a pointer costs a check per store (the
 * cached writable interval, jit_lower.c), and a load through one two
 * (below 2^46, clear of the promoted words), which LLVM cannot move out
 * of a loop: the interval is reloaded after each rt_write, and nothing
 * bounds the pointer for it.  So the region's first loop of a counted
 * shape is *versioned* (loop_fits): insns [h, l] ending in `br:l n, B, h`,
 * n a PR word (the counter) written only by one `add n, $d, n`
 * (0 < d < 2^32), B an immediate or a PR word the body does not write; a
 * body of ALU insns and direct forward branches that stay in the loop;
 * a PR pointer word p written only by one `add p, $c, p`
 * (0 < |c| < 2^32; c > 0 when p is n itself, the shape of `mem`); no
 * branch jumping over either step; stores to memory only through p
 * ((p), D(p)), and at least one access through it.  The counter gives
 * the iterations left, k + 1 with k = (B - 1 - n) / d when n < B, else
 * k = 0, so the pointer's values are p + i * c for i = 0..k.  The loop's
 * head block holds a guard (jit_lower_loop_guard): p, n and B at most
 * 2^46, k * |c| at most 2^46, and every byte every iteration's loads and
 * stores through p would touch, from the lowest pointer + the lowest
 * offset to the highest pointer + the highest end, inside the cached
 * interval when one is a store, else inside the SR (either way clear of
 * the promoted words, all in the PR).  Then an unchecked copy of the loop
 * runs to the end, its accesses through p plain loads and stores; else
 * the checked loop runs one iteration and, when it stores through p,
 * comes back to the guard (so the first write that widens the interval
 * moves the loop to the copy); a loop that only loads stays in the
 * checked loop (nothing widens for it: its range only shrinks, so the
 * copy could at most take a tail of it, and the guard each pass would
 * cost a loop over PR words more than its checks).
 * An access that would fault, alias a promoted word or wrap never runs
 * in the copy, so faults and state are the checked loop's; the rest of
 * the copy is the same lowering, its faults at the same pcs.  The guard
 * may be wider than the accesses (a branch may skip some), never
 * narrower.  k-means' distance loop is the shape with n != p: counted by
 * the centroid index, its pointer stepping by 32 beside it.
 *
 * jit_region_module builds one region into one module; jit.c optimises,
 * compiles and caches it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "exec/jit_find.h"
#include "exec/jit_ir.h"
#include "util/alloc.h"

/* ---- counted loops ------------------------------------------------------ */

/* True when o is an 8-byte integer operand. */
static int is_word(const isa_operand *o)
{
    return isa_type_bytes[o->type] == 8 && !isa_type_float[o->type];
}

/* True when the direct destination o overlaps the 8 bytes at a. */
static int dst_meets(const isa_operand *o, uint64_t a)
{
    uint64_t e = o->value;
    return e < a + 8 && a < e + isa_type_bytes[o->type];
}

/* True when the 8-byte words at a and e overlap without being one word. */
static int words_clash(uint64_t a, uint64_t e)
{
    return a != e && a < e + 8 && e < a + 8;
}

/* True when c is a step the loop allows: 0 < c < 2^32, or, when neg is
 * set, also -2^32 < c < 0 (two's complement). */
static int step_fits(uint64_t c, int neg)
{
    return (c != 0 && c < 1ULL << 32) || (neg && c > -(1ULL << 32));
}

/* True when in is `add w, $c, w` on words with step_fits(c, neg): a
 * step of the loop (c in *c). */
static int is_step(const vm_insn *in, uint64_t w, int neg, uint64_t *c)
{
    const isa_operand *o = in->o;
    if (in->op != ISA_OP_ADD || in->opt != ISA_OPT_NONE || in->nops != 3 ||
        o[0].mode != ISA_M_DIR || o[0].value != w || !is_word(&o[0]) ||
        o[1].mode != ISA_M_IMM || !is_word(&o[1]) ||
        !step_fits(o[1].value, neg) ||
        o[2].mode != ISA_M_DIR || o[2].value != w || !is_word(&o[2]))
        return 0;
    *c = o[1].value;
    return 1;
}

static int through(jb *b, const isa_operand *o, uint64_t c, int *n);

/* Accounts for the destination of body insn in of the loop whose
 * pointer is b->lp_ptr, counter b->lp_cnt and bound word bw (bw = the
 * counter: an immediate bound): a store through the pointer widens
 * [b->lp_lo, b->lp_hi) by its offset (plus the step once the step has
 * run: b->lp_step != 0); the pointer's step sets b->lp_step (negative
 * allowed unless the pointer is the counter), the counter's
 * b->lp_cstep.  *n counts the accesses through the pointer.  Returns 0
 * when the insn rules the loop out. */
static int body_dst(jb *b, const vm_insn *in, uint64_t bw, int *n)
{
    const isa_operand *o = &in->o[in->nops - 1];
    uint64_t p = b->lp_ptr, cw = b->lp_cnt;
    if (o->mode == ISA_M_DIR) {
        if (bw != cw && dst_meets(o, bw))
            return 0;
        if (dst_meets(o, p))
            return !b->lp_step && is_step(in, p, p != cw, &b->lp_step);
        if (dst_meets(o, cw))
            return !b->lp_cstep && is_step(in, cw, 0, &b->lp_cstep);
        return 1;
    }
    if (o->mode == ISA_M_IMM || o->value != p ||
        !through(b, o, b->lp_step, n))
        return 0;
    b->lp_store = 1;
    return 1;
}

/* Widens [b->lp_lo, b->lp_hi) by the bytes memory operand o (through the
 * pointer, c its step so far) touches; *n counts the accesses.  Returns 0
 * when its displacement is too large to keep the guard exact. */
static int through(jb *b, const isa_operand *o, uint64_t c, int *n)
{
    if (o->disp <= -(1LL << 32) || o->disp >= 1LL << 32)
        return 0;
    int64_t d = o->disp + (int64_t)c;
    int64_t e = d + isa_type_bytes[o->type];
    b->lp_lo = *n && b->lp_lo < d ? b->lp_lo : d;
    b->lp_hi = *n && b->lp_hi > e ? b->lp_hi : e;
    ++*n;
    return 1;
}

/* Accounts for the sources of body insn in that read through the
 * pointer b->lp_ptr (its step so far in b->lp_step).  Returns 0 when one
 * rules the loop out. */
static int body_src(jb *b, const vm_insn *in, int *n)
{
    for (int i = 0; i < in->nops - 1; i++) {
        const isa_operand *o = &in->o[i];
        if ((o->mode == ISA_M_IND || o->mode == ISA_M_DISP) &&
            o->value == b->lp_ptr && !through(b, o, b->lp_step, n))
            return 0;
    }
    return 1;
}

/* True when branch in, at i in the body of the loop whose latch is l,
 * jumps directly forward inside the loop (to the latch at most). */
static int body_branch(const vm_insn *in, uint32_t i, uint32_t l)
{
    const isa_operand *t = &in->o[in->opt == ISA_OPT_J ? 0 : 2];
    return t->mode == ISA_M_DIR && in->target != VM_NO_INSN &&
           in->target > i && in->target <= l;
}

/* True when no branch of the loop body [h, s) jumps over insn s, so s
 * runs in every iteration. */
static int never_skipped(const jb *b, uint32_t h, uint32_t s)
{
    for (uint32_t i = h; i < s; i++) {
        const vm_insn *in = &b->code->insns[i];
        if (in->op == ISA_OP_BR && in->target > s)
            return 0;
    }
    return 1;
}

/* True when insns [h, l) are a body the translator versions with
 * pointer word p, counter b->lp_cnt and bound word bw (bw = the
 * counter: an immediate bound), and sets b->lp_ptr, lp_step, lp_cstep,
 * lp_lo, lp_hi, lp_store: ALU insns and direct forward branches inside
 * the loop, the pointer (a PR word) written only by one `add p, $c, p`
 * and the counter only by one `add n, $d, n` (one insn when they are
 * the same word), neither step jumped over, the bound word not written,
 * stores to memory only through the pointer, and at least one access
 * through it. */
static int loop_try(jb *b, uint32_t h, uint32_t l, uint64_t bw, uint64_t p)
{
    uint64_t cw = b->lp_cnt;
    if (p + 8 > DISA_RB || words_clash(p, cw) || words_clash(p, bw) ||
        words_clash(bw, cw))
        return 0;
    b->lp_ptr = p;
    b->lp_step = b->lp_cstep = 0;
    b->lp_store = 0;
    uint32_t sp = l, sc = l;    /* where the steps are */
    int n = 0;                  /* accesses through p */
    for (uint32_t i = h; i < l; i++) {
        const vm_insn *in = &b->code->insns[i];
        if (in->op == ISA_OP_BL || in->op == ISA_OP_NEWR ||
            in->op == ISA_OP_EXIT || in->next != i + 1 || !b->blk[i] ||
            !body_src(b, in, &n))
            return 0;
        if (in->op == ISA_OP_BR) {
            if (!body_branch(in, i, l))
                return 0;
            continue;
        }
        int had_p = b->lp_step != 0, had_c = b->lp_cstep != 0;
        if (!body_dst(b, in, bw, &n))
            return 0;
        sp = !had_p && b->lp_step ? i : sp;
        sc = !had_c && b->lp_cstep ? i : sc;
    }
    if (p == cw)
        b->lp_cstep = b->lp_step, sc = sp;
    return b->lp_step && b->lp_cstep && n && never_skipped(b, h, sp) &&
           never_skipped(b, h, sc);
}

/* True when insns [h, l] of the region are a counted loop the translator
 * versions (sets b->lp_*): a body loop_try accepts, ending in
 * `br:l n, B, h` with n a PR word (the counter) and B an immediate or a
 * PR word the body does not write.  The pointer is the counter itself
 * when that fits, else the first word the body steps that fits. */
static int loop_fits(jb *b, uint32_t h, uint32_t l)
{
    const vm_insn *lt = &b->code->insns[l];
    const isa_operand *po = &lt->o[0], *bo = &lt->o[1];
    if (h >= l || l - h >= JIT_LOOP_MAX || lt->opt != ISA_OPT_L ||
        po->mode != ISA_M_DIR || !is_word(po) || po->value + 8 > DISA_RB ||
        !is_word(bo) || (bo->mode != ISA_M_IMM &&
                         (bo->mode != ISA_M_DIR || bo->value + 8 > DISA_RB)))
        return 0;
    uint64_t cw = po->value, bw = bo->mode == ISA_M_DIR ? bo->value : cw;
    b->lp_cnt = cw;
    int fits = loop_try(b, h, l, bw, cw);
    for (uint32_t i = h; i < l && !fits; i++) {
        const vm_insn *in = &b->code->insns[i];
        uint64_t c, p = in->o[2].value;
        fits = p != cw && is_step(in, p, 1, &c) && loop_try(b, h, l, bw, p);
    }
    if (fits)
        b->lp_head = h, b->lp_latch = l;
    return fits;
}

/* Finds the region's versioned loop (the first that fits; b->lp_head
 * stays VM_NO_INSN when none does). */
static void loop_find(jb *b)
{
    for (size_t k = 0; k < b->nlist; k++) {
        uint32_t l = b->list[k];
        const vm_insn *in = &b->code->insns[l];
        if (in->op == ISA_OP_BR && in->opt != ISA_OPT_J &&
            in->target != VM_NO_INSN && in->target < l &&
            b->blk[in->target] && loop_fits(b, in->target, l))
            return;
    }
}

/* Lowers the unchecked copy of the versioned loop into fast[] (one block
 * per insn, head first): its back edge stays in the copy, its exit and
 * its faults are the checked loop's. */
static void loop_lower_fast(jb *b, LLVMBasicBlockRef *fast)
{
    LLVMBasicBlockRef saved[JIT_LOOP_MAX];
    uint32_t h = b->lp_head, n = b->lp_latch - h + 1;
    for (uint32_t k = 0; k < n; k++)
        saved[k] = b->blk[h + k], b->blk[h + k] = fast[k];
    b->lp_fast = 1;
    for (uint32_t k = 0; k < n; k++) {
        b->in = &b->code->insns[h + k];
        LLVMPositionBuilderAtEnd(b->b, fast[k]);
        jit_lower_insn(b);
    }
    b->lp_fast = 0;
    for (uint32_t k = 0; k < n; k++)
        b->blk[h + k] = saved[k];
}

/* ---- the region function ----------------------------------------------- */

/* Sets up the types of b (in b->cx). */
static void init_types(jb *b)
{
    b->i1 = LLVMInt1TypeInContext(b->cx);
    b->i8 = LLVMInt8TypeInContext(b->cx);
    b->i32 = LLVMInt32TypeInContext(b->cx);
    b->i64 = LLVMInt64TypeInContext(b->cx);
    b->dbl = LLVMDoubleTypeInContext(b->cx);
    b->ptr = LLVMPointerTypeInContext(b->cx, 0);
    LLVMTypeRef fa[2] = {b->ptr, b->ptr};
    b->fnty = LLVMFunctionType(b->i32, fa, 2, 0);
    LLVMTypeRef wa[3] = {b->ptr, b->i64, b->i64};
    b->write_ty = LLVMFunctionType(b->i32, wa, 3, 0);
    LLVMTypeRef na[7] = {b->ptr, b->ptr, b->i64, b->i64, b->i64, b->i64,
                         b->i64};
    b->newr_ty = LLVMFunctionType(b->i32, na, 7, 0);
    LLVMTypeRef ra[4] = {b->ptr, b->i32, b->i64, b->i64};
    b->raise_ty = LLVMFunctionType(b->i32, ra, 4, 0);
    LLVMTypeRef ia[2] = {b->ptr, b->i64};
    b->isinsn_ty = LLVMFunctionType(b->i32, ia, 2, 0);
    LLVMTypeRef da[2] = {b->dbl, b->dbl};
    b->fmod_ty = LLVMFunctionType(b->dbl, da, 2, 0);
}

/* Branch-weight metadata: the first successor taken `first` times for
 * `second` of the other (LLVM's own guess for __builtin_expect is 2000:1;
 * above 99:1 its code generator turns a select back into a branch). */
static LLVMValueRef branch_weights(jb *b, uint32_t first, uint32_t second)
{
    LLVMMetadataRef md[3] = {
        LLVMMDStringInContext2(b->cx, "branch_weights", 14),
        LLVMValueAsMetadata(k32(b, first)),
        LLVMValueAsMetadata(k32(b, second))};
    return LLVMMetadataAsValue(b->cx, LLVMMDNodeInContext2(b->cx, md, 3));
}

/* Builds the block that returns VM_EXIT_FAULT for a fault already
 * recorded (newr). */
static void build_fault_block(jb *b)
{
    b->raised_bb = new_bb(b, "raised");
    LLVMPositionBuilderAtEnd(b->b, b->raised_bb);
    LLVMBuildRet(b->b, k32(b, VM_EXIT_FAULT));
}

/* Builds the dispatch block: a switch over the region's dispatch targets;
 * any other address spills the promoted words and returns JIT_CONTINUE
 * with ctx->next and ctx->from. */
static void build_dispatch(jb *b)
{
    LLVMBasicBlockRef out = new_bb(b, "leave");
    b->disp_bb = new_bb(b, "dispatch");
    LLVMPositionBuilderAtEnd(b->b, b->disp_bb);
    b->d_to = LLVMBuildPhi(b->b, b->i64, "to");
    b->d_from = LLVMBuildPhi(b->b, b->i64, "from");
    b->d_sw = LLVMBuildSwitch(b->b, b->d_to, out, 8);
    LLVMPositionBuilderAtEnd(b->b, out);
    jit_spill(b);
    ctx_store(b, offsetof(jit_ctx, next), b->d_to);
    ctx_store(b, offsetof(jit_ctx, from), b->d_from);
    LLVMBuildRet(b->b, k32(b, JIT_CONTINUE));
}

/* Creates the region function `i32 name(ptr noalias ctx, ptr win)`, its
 * entry block (with the promoted words' allocas), fault and dispatch
 * blocks, and one block per region insn. */
static void build_skeleton(jb *b, const char *name, uint32_t entry)
{
    b->fn = LLVMAddFunction(b->m, name, b->fnty);
    b->ctx = LLVMGetParam(b->fn, 0);
    b->win = LLVMGetParam(b->fn, 1);
    unsigned noalias = LLVMGetEnumAttributeKindForName("noalias", 7);
    LLVMAddAttributeAtIndex(b->fn, 1,
                            LLVMCreateEnumAttribute(b->cx, noalias, 0));
    LLVMBasicBlockRef start = new_bb(b, "entry");
    LLVMPositionBuilderAtEnd(b->b, start);
    jit_promote_slots(b);
    jit_lower_slots(b);
    build_fault_block(b);
    build_dispatch(b);
    for (size_t k = 0; k < b->nlist; k++) {
        uint32_t i = b->list[k];
        char bn[32];
        snprintf(bn, sizeof bn, "i%" PRIx64, b->code->insns[i].pc);
        b->blk[i] = new_bb(b, bn);
        if (b->in_region[i] & JIT_IN_CASE)
            LLVMAddCase(b->d_sw, k64(b, b->code->insns[i].pc), b->blk[i]);
    }
    LLVMPositionBuilderAtEnd(b->b, start);
    LLVMBuildBr(b->b, b->blk[entry]);
}

/* Lowers the versioned loop's latch (b->in) in the checked loop of a
 * loop that only loads through its pointer: its back edge goes to
 * checked, past the guard (see the top: a loop over PR words would pay
 * the guard each pass).  checked NULL (the latch lowered before the
 * head): to the guard. */
static void loop_lower_latch(jb *b, LLVMBasicBlockRef checked)
{
    LLVMBasicBlockRef guard = b->blk[b->lp_head];
    if (checked)
        b->blk[b->lp_head] = checked;
    jit_lower_insn(b);
    b->blk[b->lp_head] = guard;
}

/* Emits the region's function body.  The versioned loop's head block
 * holds its guard, which picks the unchecked copy or the checked loop;
 * the checked loop's back edge comes back to the guard when the loop
 * stores through its pointer (so the loop moves to the copy as soon as
 * the cached interval covers it), else to the checked loop's head. */
static void build_body(jb *b)
{
    LLVMBasicBlockRef fast[JIT_LOOP_MAX], checked = NULL;
    loop_find(b);
    uint32_t h = b->lp_head;
    if (h != VM_NO_INSN)
        for (uint32_t k = 0; k <= b->lp_latch - h; k++)
            fast[k] = new_bb(b, "fast");
    for (size_t k = 0; k < b->nlist; k++) {
        uint32_t i = b->list[k];
        b->in = &b->code->insns[i];
        LLVMPositionBuilderAtEnd(b->b, b->blk[i]);
        if (i == h) {
            checked = new_bb(b, "checked");
            jit_lower_loop_guard(b, fast[0], checked);
            LLVMPositionBuilderAtEnd(b->b, checked);
        }
        if (i == b->lp_latch && !b->lp_store)
            loop_lower_latch(b, checked);
        else
            jit_lower_insn(b);
    }
    if (h != VM_NO_INSN)
        loop_lower_fast(b, fast);
}

/* Frees what building a region allocated (b->m, once made, belongs to
 * the caller). */
static void region_free(jb *b)
{
    if (b->b)
        LLVMDisposeBuilder(b->b);
    dvm_free(b->in_region);
    dvm_free(b->list);
    dvm_free(b->blk);
    dvm_free(b->pro);
    dvm_free(b->slot);
    dvm_free(b->dirty);
    dvm_free(b->flt);
}

/* Allocates the per-instruction tables of b for code of n insns and
 * finds the region of entry with its promoted words.  Returns 0, or -1
 * out of memory. */
static int region_plan(jb *b, size_t n, uint32_t entry)
{
    b->in_region = dvm_calloc(n, 1);
    b->list = dvm_malloc((n < b->max ? n : b->max) * sizeof *b->list);
    b->blk = dvm_calloc(n, sizeof *b->blk);
    if (!b->in_region || !b->list || !b->blk)
        return -1;
    b->nlist = jit_find_region(b->code, entry, b->max, b->in_region,
                               b->list);
    return jit_promote_find(b);
}

dvm_status jit_region_module(const jit_target *t, LLVMContextRef cx,
                             uint32_t entry, const char *name,
                             LLVMModuleRef *out, size_t *size)
{
    assert(t && t->code && entry < t->code->ninsns && out && size);
    jb b;
    memset(&b, 0, sizeof b);
    b.code = t->code;
    b.cx = cx;
    b.nan_bits = t->nan_bits;
    b.vex = t->vex;
    b.max = t->region_max;
    b.lp_head = b.lp_latch = VM_NO_INSN;
    dvm_status st = DVM_OK;
    if (region_plan(&b, t->code->ninsns, entry)) {
        st = status_set(DVM_ENOMEM, "translator: out of memory");
        goto done;
    }
    b.m = LLVMModuleCreateWithNameInContext(name, cx);
    LLVMSetTarget(b.m, t->triple);
    LLVMSetDataLayout(b.m, t->layout);
    b.b = LLVMCreateBuilderInContext(cx);
    init_types(&b);
    b.unlikely = branch_weights(&b, 1u << 20, 1);
    b.skip_likely = branch_weights(&b, 2000, 1);
    build_skeleton(&b, name, entry);
    build_body(&b);
    *out = b.m;
    *size = b.nlist;
done:
    region_free(&b);
    return st;
}
