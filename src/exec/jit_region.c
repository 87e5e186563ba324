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
 * jit_region_module builds one region into one module; jit.c optimises,
 * compiles and caches it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "exec/jit_ir.h"
#include "util/alloc.h"

/* ---- regions ------------------------------------------------------------ */

enum { IN_REGION = 1, IN_CASE = 2, IN_LOOP = 4 };  /* in_region bits */

/* The direct successors of in into s[0..1] (VM_NO_INSN: none); s[1] of a
 * bl is its return point.  Returns the number of slots used. */
static int successors(const vm_insn *in, uint32_t s[2])
{
    s[0] = s[1] = VM_NO_INSN;
    switch (in->op) {
    case ISA_OP_EXIT:
        return 0;
    case ISA_OP_BR:
        s[0] = in->target;
        if (in->opt != ISA_OPT_J)
            s[1] = in->next;
        return 2;
    case ISA_OP_BL:
        s[0] = in->target;
        s[1] = in->next;
        return 2;
    default:
        s[0] = in->next;
        return 1;
    }
}

/* Adds insn i to the region (once); case marks it a dispatch target. */
static void region_add(jb *b, uint32_t i, int is_case)
{
    if (i == VM_NO_INSN)
        return;
    if (!b->in_region[i]) {
        if (b->nlist >= b->max)
            return;             /* full: a jump there leaves the region */
        b->list[b->nlist++] = i;
    }
    b->in_region[i] |= IN_REGION | (is_case ? IN_CASE : 0);
}

/* Adds everything reachable along direct edges from the region's insns
 * list[from..], with the return points of bls as dispatch targets. */
static void region_grow(jb *b, size_t from)
{
    for (size_t k = from; k < b->nlist; k++) {
        const vm_insn *in = &b->code->insns[b->list[k]];
        uint32_t s[2];
        successors(in, s);
        region_add(b, s[0], 0);
        region_add(b, s[1], in->op == ISA_OP_BL);
    }
}

/* True when insn i is in the region and known to lead back to entry. */
static int leads_back(const jb *b, uint32_t i, uint32_t entry)
{
    return i != VM_NO_INSN && (i == entry || (b->in_region[i] & IN_LOOP));
}

/* Marks IN_LOOP the region's insns from which a path of direct edges
 * inside the region leads back to entry (a bl's return point counts as
 * its successor): a fixed point, walking the list backwards. */
static void mark_loop(jb *b, uint32_t entry)
{
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t k = b->nlist; k-- > 0;) {
            uint32_t i = b->list[k], s[2];
            if (b->in_region[i] & IN_LOOP)
                continue;
            successors(&b->code->insns[i], s);
            if (leads_back(b, s[0], entry) || leads_back(b, s[1], entry)) {
                b->in_region[i] |= IN_LOOP;
                changed = 1;
            }
        }
    }
}

/* When entry lies on a loop, keeps only the loop (the insns that lead
 * back to it) and returns 1; else leaves the region as it is and returns
 * 0. */
static int keep_loop(jb *b, uint32_t entry)
{
    mark_loop(b, entry);
    int loop = (b->in_region[entry] & IN_LOOP) != 0;
    size_t m = 0;
    for (size_t k = 0; k < b->nlist; k++) {
        uint32_t i = b->list[k];
        if (!loop || (b->in_region[i] & IN_LOOP))
            b->list[m++] = i;
        else
            b->in_region[i] = 0;
        b->in_region[i] &= (uint8_t)~IN_LOOP;
    }
    b->nlist = m;
    return loop;
}

/* Finds the region of entry.  When entry heads a loop: the loop, and the
 * code of the functions it calls (reachable from their entries); the code
 * after the loop stays out (reached once, it is left to the interpreter).
 * Otherwise everything reachable from entry.  Always along direct edges,
 * with the return points of bls as further dispatch targets, and at most
 * b->max insns. */
static void region_find(jb *b, uint32_t entry)
{
    region_add(b, entry, 1);
    region_grow(b, 0);
    if (!keep_loop(b, entry))
        return;
    size_t n = b->nlist;
    for (size_t k = 0; k < n; k++) {
        const vm_insn *in = &b->code->insns[b->list[k]];
        if (in->op == ISA_OP_BL)
            region_add(b, in->target, 0);
    }
    region_grow(b, n);
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

/* The branch-weight metadata that marks a second successor cold. */
static LLVMValueRef cold_weights(jb *b)
{
    LLVMMetadataRef md[3] = {
        LLVMMDStringInContext2(b->cx, "branch_weights", 14),
        LLVMValueAsMetadata(k32(b, 1u << 20)),
        LLVMValueAsMetadata(k32(b, 1))};
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
        if (b->in_region[i] & IN_CASE)
            LLVMAddCase(b->d_sw, k64(b, b->code->insns[i].pc), b->blk[i]);
    }
    LLVMPositionBuilderAtEnd(b->b, start);
    LLVMBuildBr(b->b, b->blk[entry]);
}

/* Emits the region's function body. */
static void build_body(jb *b)
{
    for (size_t k = 0; k < b->nlist; k++) {
        b->in = &b->code->insns[b->list[k]];
        LLVMPositionBuilderAtEnd(b->b, b->blk[b->list[k]]);
        jit_lower_insn(b);
    }
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
    region_find(b, entry);
    return jit_promote_find(b);
}

size_t jit_region_size(const vm_code *code, uint32_t entry,
                       size_t region_max)
{
    assert(code && entry < code->ninsns && region_max > 0);
    jb b;
    memset(&b, 0, sizeof b);
    b.code = code;
    b.max = region_max;
    b.in_region = dvm_calloc(code->ninsns, 1);
    b.list = dvm_malloc(region_max * sizeof *b.list);
    if (b.in_region && b.list)
        region_find(&b, entry);
    region_free(&b);
    return b.nlist;
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
    b.max = t->region_max;
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
    b.unlikely = cold_weights(&b);
    build_skeleton(&b, name, entry);
    build_body(&b);
    *out = b.m;
    *size = b.nlist;
done:
    region_free(&b);
    return st;
}
