/*
 * jit_lower.c -- the translator's lowering: one DISA instruction into LLVM
 * IR, in its block of the region function (jit_region.c).
 *
 * Memory.  DISA address a is win + a: an i8 GEP off the `win` argument and
 * a load or store of the operand's width, align 1.  Every effective
 * address is computed mod 2^64 and checked (ea <= 2^46 - width, else a
 * memory fault), which folds away for direct operands.  A write is checked
 * like vm_check_write: PR writes (ea + w <= RB) pass inline; an SR write
 * passes inline when it lies in ctx's cached interval of bytes known to be
 * writable and not read only, and otherwise calls rt_write, which asks
 * vm_check_write and, on success, widens the cached interval (the writable
 * set only grows during a run, and read-only ranges never change).  The
 * interval lives in two allocas (registers, after SROA), loaded from ctx
 * at the region's entry and again after each rt_write, so a loop storing
 * through a pointer does not reload it.  A store at a computed address
 * first tests the interval alone (in_cached): inside it the address is in
 * the SR, below 2^46, writable and clear of the promoted words (which are
 * in the PR), so the store needs no other check; outside, the full
 * sequence runs, with its faults in their order.  In the unchecked copy
 * of a versioned counted loop (jit_region.c) a load or store through the
 * loop's pointer has no check at all: the loop's guard proved its whole
 * range.
 *
 * Loads and stores of the window go through jit_load and jit_store
 * (jit_promote.c), which keep promoted words in registers.
 *
 * Faults.  Every fault check branches (marked unlikely) to a cold block
 * of its own that calls rt_raise (vm_raise) with the fault kind, the DISA
 * instruction address and the offending address, and returns
 * VM_EXIT_FAULT.  (One shared fault block with phis was the first design;
 * its phis grow thousands of incoming edges and the optimiser slows to a
 * crawl.)  The semantics, order of evaluation and fault addresses are
 * those of interp.c, instruction by instruction; jit_test.c and
 * tools/difffuzz.c hold the two engines to it.
 *
 * Floats.  LLVM's IEEE arithmetic is the hardware's except for NaN bits,
 * which LLVM leaves unspecified and exploits (x * -1.0 becomes a sign
 * flip; a folded 0/0 is a positive NaN; fadd and fmul are commutative to
 * it, so with two NaN operands either may win).  On x86-64 each add, sub,
 * mul and div is emitted as the SSE2 instruction itself (its VEX form on
 * a host with AVX), as inline assembly LLVM cannot rewrite (float_insn),
 * so its NaN bits are the hardware's and the interpreter's with no check
 * at all; elsewhere host_nan() pins them after each operation (a compare
 * and an unlikely branch).  LLVM's own fadd with that check, tried on
 * x86-64 too, ran k-means' distance loop at half the speed: the check
 * costs two instructions per operation and moves every loaded operand
 * through an integer register (the fix-up needs its bits).  fmod (div:r on
 * :f) is the C library's, called like the interpreter calls it.
 *
 * Runtime helpers (jit_rt.c, in the executable) are called by name, so
 * that a region's object code names no host address.  The semantics, order of evaluation and
 * fault addresses are those of interp.c, instruction by instruction
 * (vm_src_signed in vm.h is the one both use for the signedness of a
 * source); jit_test.c and tools/difffuzz.c hold the two engines to it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "exec/jit_ir.h"
#include "exec/jit_find.h"

/* ---- faults ---------------------------------------------------------------- */

/* The region's shared raise block, made on first use: phis for the fault
 * kind, pc and address, the promoted words spilled, rt_raise, return. */
static LLVMBasicBlockRef raise_block(jb *b)
{
    if (b->raise_bb)
        return b->raise_bb;
    LLVMBasicBlockRef here = LLVMGetInsertBlock(b->b);
    b->raise_bb = new_bb(b, "spillraise");
    LLVMPositionBuilderAtEnd(b->b, b->raise_bb);
    b->r_kind = LLVMBuildPhi(b->b, b->i32, "fk");
    b->r_pc = LLVMBuildPhi(b->b, b->i64, "fpc");
    b->r_addr = LLVMBuildPhi(b->b, b->i64, "fa");
    jit_spill(b);
    LLVMValueRef args[4] = {b->ctx, b->r_kind, b->r_pc, b->r_addr};
    LLVMBuildRet(b->b, LLVMBuildCall2(b->b, b->raise_ty,
        callee(b, "dvm_rt_raise", b->raise_ty), args, 4, "rc"));
    LLVMPositionBuilderAtEnd(b->b, here);
    return b->raise_bb;
}

/* Raises fault kind (an i32 value) at the current instruction with
 * offending address addr: rt_raise, then return its VM_EXIT_FAULT; with
 * promoted words, through the shared raise block, which spills them
 * first.  Ends the current block. */
static void raise_here(jb *b, LLVMValueRef kind, LLVMValueRef addr)
{
    LLVMValueRef pc = k64(b, b->in->pc);
    if (b->npro) {
        LLVMBasicBlockRef to = raise_block(b), from = LLVMGetInsertBlock(b->b);
        LLVMBuildBr(b->b, to);
        LLVMAddIncoming(b->r_kind, &kind, &from, 1);
        LLVMAddIncoming(b->r_pc, &pc, &from, 1);
        LLVMAddIncoming(b->r_addr, &addr, &from, 1);
        return;
    }
    LLVMValueRef args[4] = {b->ctx, kind, pc, addr};
    LLVMValueRef rc = LLVMBuildCall2(b->b, b->raise_ty,
        callee(b, "dvm_rt_raise", b->raise_ty), args, 4, "rc");
    LLVMBuildRet(b->b, rc);
}

/* Continues when ok holds; else raises fault kind (an i32 value) at the
 * current instruction with offending address addr, in a cold block of its
 * own (one shared fault block would gather phis with thousands of
 * incoming edges, which the optimiser handles in quadratic time). */
static void check_kind(jb *b, LLVMValueRef ok, LLVMValueRef kind,
                       LLVMValueRef addr)
{
    if (is_true(ok))
        return;
    LLVMBasicBlockRef cont = new_bb(b, "ok"), cold = new_bb(b, "fault");
    LLVMValueRef br = LLVMBuildCondBr(b->b, ok, cont, cold);
    weigh_branch(b, br, b->unlikely);
    LLVMPositionBuilderAtEnd(b->b, cold);
    raise_here(b, kind, addr);
    LLVMPositionBuilderAtEnd(b->b, cont);
}

/* check_kind with a constant kind. */
static void check(jb *b, LLVMValueRef ok, int kind, LLVMValueRef addr)
{
    check_kind(b, ok, k32(b, (uint32_t)kind), addr);
}

/* Raises fault kind at the current instruction unconditionally; ends the
 * block. */
static void fault_now(jb *b, int kind, LLVMValueRef addr)
{
    raise_here(b, k32(b, (uint32_t)kind), addr);
}

/* Checks that w bytes at ea lie below 2^46: a memory fault at ea. */
static void check_range(jb *b, LLVMValueRef ea, unsigned w)
{
    LLVMValueRef ok = LLVMBuildICmp(b->b, LLVMIntULE, ea,
                                    k64(b, DISA_ADDR_LIMIT - w), "inr");
    check(b, ok, VM_FAULT_MEMORY, ea);
}

/* The effective address of memory operand o: E, mem64[E] or mem64[E] + D,
 * mod 2^64; the pointer word is checked, the address itself not yet. */
static LLVMValueRef operand_ea_unchecked(jb *b, const isa_operand *o)
{
    assert(o->mode != ISA_M_IMM);
    LLVMValueRef ea = k64(b, o->value);
    if (o->mode != ISA_M_DIR) {
        check_range(b, ea, 8);
        ea = jit_load(b, ea, 8);
        if (o->mode == ISA_M_DISP)
            ea = LLVMBuildAdd(b->b, ea, k64(b, (uint64_t)o->disp), "ea");
    }
    return ea;
}

/* The checked effective address of memory operand o accessed with width
 * w: E, mem64[E] or mem64[E] + D, mod 2^64, then checked against 2^46. */
static LLVMValueRef operand_ea(jb *b, const isa_operand *o, unsigned w)
{
    LLVMValueRef ea = operand_ea_unchecked(b, o);
    check_range(b, ea, w);
    return ea;
}

/* The jump address named by jump operand o (not checked: jumps check it
 * against the code). */
static LLVMValueRef jump_addr(jb *b, const isa_operand *o)
{
    LLVMValueRef a = k64(b, o->value);
    if (o->mode == ISA_M_DIR)
        return a;
    assert(o->mode != ISA_M_IMM);
    check_range(b, a, 8);
    a = jit_load(b, a, 8);
    if (o->mode == ISA_M_DISP)
        a = LLVMBuildAdd(b->b, a, k64(b, (uint64_t)o->disp), "ja");
    return a;
}

/* Widens an integer v of w bytes to i64: sign- or zero-extension. */
static LLVMValueRef widen(jb *b, LLVMValueRef v, unsigned w, int sgn)
{
    if (w == 8)
        return v;
    return sgn ? LLVMBuildSExt(b->b, v, b->i64, "sx")
               : LLVMBuildZExt(b->b, v, b->i64, "zx");
}

/* Reads source operand o: at its width, widened per sgn (its type's, or
 * forced by mov:z / mov:s).  An immediate is truncated to its type's width
 * and extended like a memory read.  A :f source is a double unless bits is
 * set (and/or/xor take it as its bit pattern). */
static jv read_src(jb *b, const isa_operand *o, int sgn, int bits)
{
    unsigned w = isa_type_bytes[o->type];
    LLVMValueRef raw;
    if (o->mode == ISA_M_IMM)
        raw = LLVMConstInt(int_ty(b, w), o->value, 0);
    else if (b->lp_fast && o->mode != ISA_M_DIR && o->value == b->lp_ptr)
        raw = mem_load(b, operand_ea_unchecked(b, o), w);   /* guarded */
    else
        raw = jit_load(b, operand_ea(b, o, w), w);
    if (isa_type_float[o->type] && !bits)
        return (jv){LLVMBuildBitCast(b->b, raw, b->dbl, "f"), 1, sgn};
    return (jv){widen(b, raw, w, sgn), 0, sgn};
}

/* v as a double (an integer converts by value, per its signedness). */
static LLVMValueRef as_double(jb *b, jv v)
{
    if (v.flt)
        return v.v;
    return v.sgn ? LLVMBuildSIToFP(b->b, v.v, b->dbl, "cv")
                 : LLVMBuildUIToFP(b->b, v.v, b->dbl, "cv");
}

/* Double x truncated toward zero to i64; NaN or out of the int64 range
 * gives 0x8000000000000000 (fptosi alone would be poison there). */
static LLVMValueRef double_to_i64(jb *b, LLVMValueRef x)
{
    LLVMValueRef lo = LLVMConstReal(b->dbl, -9223372036854775808.0);
    LLVMValueRef hi = LLVMConstReal(b->dbl, 9223372036854775808.0);
    LLVMValueRef in = LLVMBuildAnd(b->b,
        LLVMBuildFCmp(b->b, LLVMRealOGE, x, lo, "ge"),
        LLVMBuildFCmp(b->b, LLVMRealOLT, x, hi, "lt"), "in");
    /* Clamp first so the conversion itself never sees an out-of-range
     * value; the select then picks the DISA answer. */
    LLVMValueRef safe = LLVMBuildSelect(b->b, in, x,
                                        LLVMConstReal(b->dbl, 0.0), "sf");
    LLVMValueRef i = LLVMBuildFPToSI(b->b, safe, b->i64, "fi");
    return LLVMBuildSelect(b->b, in, i, k64(b, 0x8000000000000000ULL), "cvt");
}

/* In the entry block: the allocas of ctx's cached writable interval,
 * loaded from ctx (reloaded after each rt_write, check_write). */
void jit_lower_slots(jb *b)
{
    b->ok_lo = LLVMBuildAlloca(b->b, b->i64, "oklo");
    b->ok_hi = LLVMBuildAlloca(b->b, b->i64, "okhi");
    LLVMBuildStore(b->b, ctx_load(b, offsetof(jit_ctx, ok_lo)), b->ok_lo);
    LLVMBuildStore(b->b, ctx_load(b, offsetof(jit_ctx, ok_hi)), b->ok_hi);
}

/* i1: the w bytes at ea lie in the cached writable interval [lo, hi):
 * ea - lo <= hi - lo - w, with hi - lo >= w (an empty interval is
 * lo = hi), all mod 2^64, so no wrap-around of ea + w can pass. */
static LLVMValueRef in_cached(jb *b, LLVMValueRef ea, unsigned w)
{
    LLVMValueRef lo = LLVMBuildLoad2(b->b, b->i64, b->ok_lo, "lo");
    LLVMValueRef hi = LLVMBuildLoad2(b->b, b->i64, b->ok_hi, "hi");
    LLVMValueRef span = LLVMBuildSub(b->b, hi, lo, "span");
    LLVMValueRef off = LLVMBuildSub(b->b, ea, lo, "off");
    LLVMValueRef fits = LLVMBuildICmp(b->b, LLVMIntUGE, span, k64(b, w),
                                      "fits");
    LLVMValueRef at = LLVMBuildICmp(b->b, LLVMIntULE, off,
        LLVMBuildSub(b->b, span, k64(b, w), "room"), "at");
    return LLVMBuildAnd(b->b, fits, at, "cached");
}

/* Widens ctx's noted PR bytes [prw_lo, prw_hi) to cover the w bytes at
 * ea: what the RComp's PR reset must clear (vm.h, prw_lo/hi). */
static void note_pr_write(jb *b, LLVMValueRef ea, unsigned w)
{
    LLVMValueRef lo = ctx_load(b, offsetof(jit_ctx, prw_lo));
    LLVMValueRef hi = ctx_load(b, offsetof(jit_ctx, prw_hi));
    LLVMValueRef end = LLVMBuildAdd(b->b, ea, k64(b, w), "pre");
    ctx_store(b, offsetof(jit_ctx, prw_lo), LLVMBuildSelect(b->b,
        LLVMBuildICmp(b->b, LLVMIntULT, ea, lo, "prl"), ea, lo, "prlo"));
    ctx_store(b, offsetof(jit_ctx, prw_hi), LLVMBuildSelect(b->b,
        LLVMBuildICmp(b->b, LLVMIntUGT, end, hi, "prh"), end, hi, "prhi"));
}

/* Checks a w-byte write at ea (in range) like vm_check_write: PR writes
 * pass, noted when ea is computed (a direct one is among the code's
 * pr_pages); an SR write passes inline inside ctx's cached writable
 * interval, else rt_write decides (its fault kind raised at ea). */
static void check_write(jb *b, LLVMValueRef ea, unsigned w)
{
    LLVMValueRef pr = LLVMBuildICmp(b->b, LLVMIntULE, ea,
                                    k64(b, DISA_RB - w), "pr");
    if (is_true(pr))
        return;
    LLVMBasicBlockRef sr = new_bb(b, "sr"), slow = new_bb(b, "slow");
    LLVMBasicBlockRef done = new_bb(b, "wok"), prw = new_bb(b, "prw");
    LLVMBuildCondBr(b->b, pr, prw, sr);
    LLVMPositionBuilderAtEnd(b->b, prw);
    note_pr_write(b, ea, w);
    LLVMBuildBr(b->b, done);
    LLVMPositionBuilderAtEnd(b->b, sr);
    LLVMBuildCondBr(b->b, in_cached(b, ea, w), done, slow);
    LLVMPositionBuilderAtEnd(b->b, slow);
    LLVMValueRef args[3] = {b->ctx, ea, k64(b, w)};
    LLVMValueRef f = LLVMBuildCall2(b->b, b->write_ty,
        callee(b, "dvm_rt_write", b->write_ty), args, 3, "wf");
    check_kind(b, LLVMBuildICmp(b->b, LLVMIntEQ, f, k32(b, 0), "wr"), f, ea);
    LLVMBuildStore(b->b, ctx_load(b, offsetof(jit_ctx, ok_lo)), b->ok_lo);
    LLVMBuildStore(b->b, ctx_load(b, offsetof(jit_ctx, ok_hi)), b->ok_hi);
    LLVMBuildBr(b->b, done);
    LLVMPositionBuilderAtEnd(b->b, done);
}

/* The i64 value of the 8-byte integer source o (IMM or DIR in the PR, as
 * jit_region.c's loop_fits allows), without checks. */
static LLVMValueRef loop_word(jb *b, const isa_operand *o)
{
    assert(o->mode == ISA_M_IMM || o->mode == ISA_M_DIR);
    return o->mode == ISA_M_IMM ? k64(b, o->value)
                                : jit_load(b, k64(b, o->value), 8);
}

/* i1: a <= e, unsigned. */
static LLVMValueRef ule(jb *b, LLVMValueRef a, LLVMValueRef e)
{
    return LLVMBuildICmp(b->b, LLVMIntULE, a, e, "gle");
}

/* The passes the versioned loop has left after this one, its counter at
 * n: (bound - 1 - n) / cstep when n is below the bound, else none (one
 * pass).  Exact for n and bound at most 2^46. */
static LLVMValueRef loop_rest(jb *b, LLVMValueRef n, LLVMValueRef bound)
{
    LLVMValueRef left = LLVMBuildSub(b->b,
        LLVMBuildSub(b->b, bound, k64(b, 1), "gbm"), n, "gd");
    return LLVMBuildSelect(b->b,
        LLVMBuildICmp(b->b, LLVMIntULT, n, bound, "glt"),
        LLVMBuildUDiv(b->b, left, k64(b, b->lp_cstep), "gq"), k64(b, 0),
        "gk");
}

void jit_lower_loop_guard(jb *b, LLVMBasicBlockRef fast,
                          LLVMBasicBlockRef checked)
{
    const vm_insn *l = &b->code->insns[b->lp_latch];
    LLVMValueRef p = jit_load(b, k64(b, b->lp_ptr), 8);
    LLVMValueRef n = jit_load(b, k64(b, b->lp_cnt), 8);
    LLVMValueRef bound = loop_word(b, &l->o[1]);
    LLVMValueRef cap = k64(b, DISA_ADDR_LIMIT);
    /* The pointer, the counter and the bound below 2^46: the counter
     * does not wrap before it passes the bound, and signed and unsigned
     * compares of it agree. */
    LLVMValueRef ok = LLVMBuildAnd(b->b, ule(b, p, cap),
        LLVMBuildAnd(b->b, ule(b, n, cap), ule(b, bound, cap), "gnb"),
        "gin");
    LLVMValueRef k = loop_rest(b, n, bound);
    /* k * |step| at most 2^46 (a range that long leaves the SR anyway):
     * so the pointer's last value below is exact in signed i64. */
    int down = (int64_t)b->lp_step < 0;
    uint64_t mag = down ? -b->lp_step : b->lp_step;
    ok = LLVMBuildAnd(b->b, ok,
        ule(b, k, k64(b, DISA_ADDR_LIMIT / mag)), "gkk");
    LLVMValueRef last = LLVMBuildAdd(b->b, p,
        LLVMBuildMul(b->b, k, k64(b, b->lp_step), "gks"), "gl");
    /* Stores: inside the cached writable interval.  Loads only: inside
     * the SR (below 2^46, and clear of the promoted words, in the PR). */
    LLVMValueRef lo = k64(b, DISA_RB), hi = cap;
    if (b->lp_store) {
        lo = LLVMBuildLoad2(b->b, b->i64, b->ok_lo, "lo");
        hi = LLVMBuildLoad2(b->b, b->i64, b->ok_hi, "hi");
    }
    LLVMValueRef first = LLVMBuildAdd(b->b, down ? last : p,
                                      k64(b, (uint64_t)b->lp_lo), "gf");
    LLVMValueRef end = LLVMBuildAdd(b->b, down ? p : last,
                                    k64(b, (uint64_t)b->lp_hi), "ge");
    ok = LLVMBuildAnd(b->b, ok,
        LLVMBuildICmp(b->b, LLVMIntSGE, first, lo, "glo"), "g1");
    ok = LLVMBuildAnd(b->b, ok,
        LLVMBuildICmp(b->b, LLVMIntSLE, end, hi, "ghi"), "g2");
    LLVMBuildCondBr(b->b, ok, fast, checked);
}

/* Stores v to destination operand o converted to o's type (DISA.md 2.3):
 * float to integer through int64, integer to :f by value per v's
 * signedness, then truncated to o's width; the address is computed and
 * checked, the write checked, the value stored.  A computed address inside
 * the cached writable interval needs none of the checks (see the top). */
static void write_dst(jb *b, const isa_operand *o, jv v)
{
    unsigned w = isa_type_bytes[o->type];
    LLVMValueRef x;
    if (isa_type_float[o->type])
        x = LLVMBuildBitCast(b->b, as_double(b, v), b->i64, "fb");
    else
        x = v.flt ? double_to_i64(b, v.v) : v.v;
    if (w < 8)
        x = LLVMBuildTrunc(b->b, x, int_ty(b, w), "tr");
    if (o->mode == ISA_M_DIR) {
        LLVMValueRef ea = operand_ea(b, o, w);
        check_write(b, ea, w);
        jit_store(b, ea, x);
        return;
    }
    LLVMValueRef ea = operand_ea_unchecked(b, o);
    if (b->lp_fast) {           /* through the loop's pointer: guarded */
        assert(o->value == b->lp_ptr);
        mem_store(b, ea, x);
        return;
    }
    LLVMBasicBlockRef fast = new_bb(b, "wfast"), full = new_bb(b, "wfull");
    LLVMBasicBlockRef join = new_bb(b, "wdone");
    LLVMBuildCondBr(b->b, in_cached(b, ea, w), fast, full);
    LLVMPositionBuilderAtEnd(b->b, fast);
    mem_store(b, ea, x);
    LLVMBuildBr(b->b, join);
    LLVMPositionBuilderAtEnd(b->b, full);
    check_range(b, ea, w);
    check_write(b, ea, w);
    jit_store(b, ea, x);
    LLVMBuildBr(b->b, join);
    LLVMPositionBuilderAtEnd(b->b, join);
}

/* ---- control ------------------------------------------------------------ */

/* Jumps to address t through the region's dispatch block. */
static void goto_dispatch(jb *b, LLVMValueRef t)
{
    LLVMBasicBlockRef from = LLVMGetInsertBlock(b->b);
    LLVMValueRef pc = k64(b, b->in->pc);
    LLVMBuildBr(b->b, b->disp_bb);
    LLVMAddIncoming(b->d_to, &t, &from, 1);
    LLVMAddIncoming(b->d_from, &pc, &from, 1);
}

/* Continues at instruction i: a branch to its block, or, when i lies
 * outside the region (a region is bounded in size), a jump out through
 * the dispatch block (which leaves with i's address). */
static void go_insn(jb *b, uint32_t i)
{
    assert(i != VM_NO_INSN);
    if (b->blk[i])
        LLVMBuildBr(b->b, b->blk[i]);
    else
        goto_dispatch(b, k64(b, b->code->insns[i].pc));
}

/* Continues at the next instruction, or raises the fall-off fault (at the
 * current instruction, address next_pc). */
static void fall_through(jb *b)
{
    const vm_insn *in = b->in;
    if (in->next == VM_NO_INSN) {
        fault_now(b, VM_FAULT_EXEC, k64(b, in->next_pc));
        return;
    }
    go_insn(b, in->next);
}

/* Jumps through jump operand o (DIR: a branch to the known target or an
 * execution fault; else: the dispatch block). */
static void jump(jb *b, const isa_operand *o)
{
    const vm_insn *in = b->in;
    if (o->mode != ISA_M_DIR) {
        goto_dispatch(b, jump_addr(b, o));
    } else if (in->target == VM_NO_INSN) {
        fault_now(b, VM_FAULT_EXEC, k64(b, o->value));
    } else {
        go_insn(b, in->target);
    }
}

/* ---- instructions -------------------------------------------------------- */

#if !defined(__x86_64__)
/* The bits of double x with its quiet bit set. */
static LLVMValueRef quiet_bits(jb *b, LLVMValueRef x)
{
    return LLVMBuildOr(b->b, LLVMBuildBitCast(b->b, x, b->i64, "xb"),
                       k64(b, 0x0008000000000000ULL), "qb");
}

/* z, the double result of an arithmetic operation on p and q, with its
 * NaN made the one the hardware makes: p's NaN quieted if p is one, else
 * q's, else (a NaN the operation created) the host's default NaN.  LLVM
 * leaves NaN bits unspecified and exploits it (x * -1.0 becomes a sign
 * flip, a folded 0/0 is a positive NaN); the interpreter's are the
 * hardware's. */
static LLVMValueRef host_nan(jb *b, LLVMValueRef z, LLVMValueRef p,
                             LLVMValueRef q)
{
    /* The fix-up is rare: a branch around it (marked unlikely) keeps the
     * common path to one compare, where selects would cost three compares
     * and three blends on every float operation. */
    LLVMValueRef ok = LLVMBuildFCmp(b->b, LLVMRealORD, z, z, "zok");
    LLVMBasicBlockRef from = LLVMGetInsertBlock(b->b);
    LLVMBasicBlockRef cont = new_bb(b, "nan.ok"), fix = new_bb(b, "nan");
    LLVMValueRef br = LLVMBuildCondBr(b->b, ok, cont, fix);
    weigh_branch(b, br, b->unlikely);
    LLVMPositionBuilderAtEnd(b->b, fix);
    LLVMValueRef pn = LLVMBuildFCmp(b->b, LLVMRealUNO, p, p, "pn");
    LLVMValueRef qn = LLVMBuildFCmp(b->b, LLVMRealUNO, q, q, "qn");
    LLVMValueRef nb = LLVMBuildSelect(b->b, qn, quiet_bits(b, q),
                                      k64(b, b->nan_bits), "nq");
    nb = LLVMBuildSelect(b->b, pn, quiet_bits(b, p), nb, "np");
    LLVMValueRef fixed = LLVMBuildBitCast(b->b, nb, b->dbl, "n");
    LLVMBuildBr(b->b, cont);
    LLVMPositionBuilderAtEnd(b->b, cont);
    LLVMValueRef phi = LLVMBuildPhi(b->b, b->dbl, "fz");
    LLVMValueRef vals[2] = {z, fixed};
    LLVMBasicBlockRef bbs[2] = {from, fix};
    LLVMAddIncoming(phi, vals, bbs, 2);
    return phi;
}
#endif

/* fmod(p, q) through the C library, like the interpreter. */
static LLVMValueRef call_fmod(jb *b, LLVMValueRef p, LLVMValueRef q)
{
    LLVMValueRef args[2] = {p, q};
    return LLVMBuildCall2(b->b, b->fmod_ty,
                          callee(b, "dvm_rt_fmod", b->fmod_ty), args, 2, "fmod");
}

#if defined(__x86_64__)
/* x86-64: p OP q as the one SSE2 instruction (insn) that the interpreter's
 * compiled C executes for it, as inline assembly.  LLVM cannot fold or
 * rewrite what it cannot see into (x * -1.0 into a sign flip, 0/0 into its
 * own NaN), so the result's NaN bits are the hardware's, which are the
 * interpreter's, by construction: no check after the operation.  p is the
 * first source, as in the C code: the tied destination of the SSE2 form,
 * or, on a host with AVX, the first source of the VEX form (vaddsd q, p,
 * z), which picks NaNs by the same rule and, having a separate
 * destination, needs no register copy and no merge into a register the
 * surrounding VEX code last wrote (a false dependency, and on some cores a
 * transition stall, for every operation). */
static LLVMValueRef float_insn(jb *b, const char *insn, LLVMValueRef p,
                               LLVMValueRef q)
{
    LLVMTypeRef args[2] = {b->dbl, b->dbl};
    LLVMTypeRef fty = LLVMFunctionType(b->dbl, args, 2, 0);
    char text[32];
    const char *cons = b->vex ? "=x,x,x" : "=x,0,x";
    int n = b->vex ? snprintf(text, sizeof text, "v%s $2, $1, $0", insn)
                   : snprintf(text, sizeof text, "%s $2, $0", insn);
    LLVMValueRef code = LLVMGetInlineAsm(fty, text, (size_t)n, (char *)cons,
                                         strlen(cons), 0, 0,
                                         LLVMInlineAsmDialectATT, 0);
    LLVMValueRef a[2] = {p, q};
    return LLVMBuildCall2(b->b, fty, code, a, 2, insn);
}

/* The float operation of in on p and q (not div:r). */
static LLVMValueRef float_arith(jb *b, LLVMValueRef p, LLVMValueRef q)
{
    switch (b->in->op) {
    case ISA_OP_ADD: return float_insn(b, "addsd", p, q);
    case ISA_OP_SUB: return float_insn(b, "subsd", p, q);
    case ISA_OP_MUL: return float_insn(b, "mulsd", p, q);
    default:
        assert(b->in->op == ISA_OP_DIV);
        return float_insn(b, "divsd", p, q);
    }
}
#else
/* Elsewhere: LLVM's operation, with the result's NaN bits pinned to the
 * interpreter's (host_nan). */
static LLVMValueRef float_arith(jb *b, LLVMValueRef p, LLVMValueRef q)
{
    LLVMValueRef z;
    switch (b->in->op) {
    case ISA_OP_ADD: z = LLVMBuildFAdd(b->b, p, q, "fadd"); break;
    case ISA_OP_SUB: z = LLVMBuildFSub(b->b, p, q, "fsub"); break;
    case ISA_OP_MUL: z = LLVMBuildFMul(b->b, p, q, "fmul"); break;
    default:
        assert(b->in->op == ISA_OP_DIV);
        z = LLVMBuildFDiv(b->b, p, q, "fdiv");
        break;
    }
    return host_nan(b, z, p, q);
}
#endif

/* The float-domain result of in (mov, add, sub, mul, div, div:r). */
static jv float_op(jb *b, jv x, jv y)
{
    const vm_insn *in = b->in;
    LLVMValueRef p = as_double(b, x);
    if (in->op == ISA_OP_MOV)
        return (jv){p, 1, 1};
    LLVMValueRef q = as_double(b, y);
    if (in->op == ISA_OP_DIV && in->opt == ISA_OPT_R)
        return (jv){call_fmod(b, p, q), 1, 1};
    return (jv){float_arith(b, p, q), 1, 1};
}

/* Integer x / y (or remainder), signed per x: division by zero faults;
 * INT64_MIN / -1 is INT64_MIN with remainder 0 (no poison reaches LLVM). */
static LLVMValueRef int_div(jb *b, jv x, jv y, int rem)
{
    LLVMValueRef nz = LLVMBuildICmp(b->b, LLVMIntNE, y.v, k64(b, 0), "nz");
    check(b, nz, VM_FAULT_ARITH, k64(b, 0));
    if (!x.sgn)
        return rem ? LLVMBuildURem(b->b, x.v, y.v, "urem")
                   : LLVMBuildUDiv(b->b, x.v, y.v, "udiv");
    LLVMValueRef m1 = LLVMBuildICmp(b->b, LLVMIntEQ, y.v, k64(b, UINT64_MAX),
                                    "m1");
    LLVMValueRef sy = LLVMBuildSelect(b->b, m1, k64(b, 1), y.v, "sy");
    LLVMValueRef q = rem ? LLVMBuildSRem(b->b, x.v, sy, "srem")
                         : LLVMBuildSDiv(b->b, x.v, sy, "sdiv");
    LLVMValueRef alt = rem ? k64(b, 0) : LLVMBuildSub(b->b, k64(b, 0), x.v,
                                                      "neg");
    return LLVMBuildSelect(b->b, m1, alt, q, "div");
}

/* The integer-domain result of in on x, y (signedness of x). */
static jv int_op(jb *b, jv x, jv y)
{
    const vm_insn *in = b->in;
    LLVMValueRef v;
    switch (in->op) {
    case ISA_OP_MOV: v = x.v; break;
    case ISA_OP_ADD: v = LLVMBuildAdd(b->b, x.v, y.v, "add"); break;
    case ISA_OP_SUB: v = LLVMBuildSub(b->b, x.v, y.v, "sub"); break;
    case ISA_OP_MUL: v = LLVMBuildMul(b->b, x.v, y.v, "mul"); break;
    case ISA_OP_AND: v = LLVMBuildAnd(b->b, x.v, y.v, "and"); break;
    case ISA_OP_OR:  v = LLVMBuildOr(b->b, x.v, y.v, "or"); break;
    case ISA_OP_XOR: v = LLVMBuildXor(b->b, x.v, y.v, "xor"); break;
    default:
        assert(in->op == ISA_OP_DIV);
        v = int_div(b, x, y, in->opt == ISA_OPT_R);
        break;
    }
    return (jv){v, 0, x.sgn};
}

/* mov, add, sub, mul, div, and, or, xor: sources left to right, the
 * operation, the destination; then the next instruction. */
static void emit_alu(jb *b)
{
    const vm_insn *in = b->in;
    int bits = in->op == ISA_OP_AND || in->op == ISA_OP_OR ||
               in->op == ISA_OP_XOR;
    jv x = read_src(b, &in->o[0], vm_src_signed(in, &in->o[0]), bits);
    jv y = {NULL, 0, 0};
    if (in->nops == 3)
        y = read_src(b, &in->o[1], vm_src_signed(in, &in->o[1]), bits);
    jv z = x.flt || y.flt ? float_op(b, x, y) : int_op(b, x, y);
    write_dst(b, &in->o[in->nops - 1], z);
    fall_through(b);
}

/* The i1 condition of br (opt) on x, y: ordered float compares when
 * either is :f (only :ne holds with a NaN), else integer compares signed
 * per the first source. */
static LLVMValueRef condition(jb *b, int opt, jv x, jv y)
{
    static const LLVMRealPredicate fp[] = {
        [ISA_OPT_E] = LLVMRealOEQ, [ISA_OPT_NE] = LLVMRealUNE,
        [ISA_OPT_L] = LLVMRealOLT, [ISA_OPT_LE] = LLVMRealOLE,
        [ISA_OPT_G] = LLVMRealOGT, [ISA_OPT_GE] = LLVMRealOGE};
    static const LLVMIntPredicate ip[2][ISA_OPT_GE + 1] = {
        {[ISA_OPT_E] = LLVMIntEQ, [ISA_OPT_NE] = LLVMIntNE,
         [ISA_OPT_L] = LLVMIntULT, [ISA_OPT_LE] = LLVMIntULE,
         [ISA_OPT_G] = LLVMIntUGT, [ISA_OPT_GE] = LLVMIntUGE},
        {[ISA_OPT_E] = LLVMIntEQ, [ISA_OPT_NE] = LLVMIntNE,
         [ISA_OPT_L] = LLVMIntSLT, [ISA_OPT_LE] = LLVMIntSLE,
         [ISA_OPT_G] = LLVMIntSGT, [ISA_OPT_GE] = LLVMIntSGE}};
    assert(opt >= ISA_OPT_E && opt <= ISA_OPT_GE);
    if (x.flt || y.flt)
        return LLVMBuildFCmp(b->b, fp[opt], as_double(b, x), as_double(b, y),
                             "fc");
    return LLVMBuildICmp(b->b, ip[x.sgn][opt], x.v, y.v, "ic");
}

/* br: both sources, the compare, then the jump (evaluated only when
 * taken) or the fall-through; br:j jumps. */
static void emit_br(jb *b)
{
    const vm_insn *in = b->in;
    if (in->opt == ISA_OPT_J) {
        jump(b, &in->o[0]);
        return;
    }
    const isa_operand *a = &in->o[0], *c = &in->o[1];
    jv x = read_src(b, a, isa_type_signed[a->type], 0);
    jv y = read_src(b, c, isa_type_signed[c->type], 0);
    LLVMValueRef cond = condition(b, in->opt, x, y);
    LLVMBasicBlockRef taken = new_bb(b, "taken"), not = new_bb(b, "not");
    LLVMValueRef br = LLVMBuildCondBr(b->b, cond, taken, not);
    if (jit_find_extremum_guard(b->code, (uint32_t)(in - b->code->insns)))
        weigh_branch(b, br, b->skip_likely);
    LLVMPositionBuilderAtEnd(b->b, taken);
    jump(b, &in->o[2]);
    LLVMPositionBuilderAtEnd(b->b, not);
    fall_through(b);
}

/* bl: the target evaluated and checked (an execution fault before the
 * link is written), then the link (next_pc, 64-bit) stored, then the
 * jump. */
static void emit_bl(jb *b)
{
    const vm_insn *in = b->in;
    const isa_operand *t = &in->o[0], *l = &in->o[1];
    LLVMValueRef to = NULL;
    if (t->mode == ISA_M_DIR && in->target == VM_NO_INSN) {
        fault_now(b, VM_FAULT_EXEC, k64(b, t->value));
        return;
    }
    if (t->mode != ISA_M_DIR) {
        to = jump_addr(b, t);
        LLVMValueRef args[2] = {b->ctx, to};
        LLVMValueRef ok = LLVMBuildCall2(b->b, b->isinsn_ty,
            callee(b, "dvm_rt_isinsn", b->isinsn_ty), args, 2, "isi");
        check(b, LLVMBuildICmp(b->b, LLVMIntNE, ok, k32(b, 0), "ti"),
              VM_FAULT_EXEC, to);
    }
    LLVMValueRef ea = operand_ea(b, l, 8);
    check_write(b, ea, 8);
    jit_store(b, ea, k64(b, in->next_pc));
    if (to)
        goto_dispatch(b, to);
    else
        go_insn(b, in->target);
}

/* newr: the four 64-bit operand values left to right, the promoted words
 * spilled (vm_newr only reads the window), then rt_newr. */
static void emit_newr(jb *b)
{
    const vm_insn *in = b->in;
    LLVMValueRef args[7] = {b->ctx, b->win};
    for (int i = 0; i < 4; i++) {
        const isa_operand *o = &in->o[i];
        args[2 + i] = o->mode == ISA_M_IMM ? k64(b, o->value)
                                           : jit_load(b, operand_ea(b, o, 8), 8);
    }
    args[6] = k64(b, in->pc);
    jit_spill(b);                   /* vm_newr reads descriptors in the PR */
    LLVMValueRef f = LLVMBuildCall2(b->b, b->newr_ty,
        callee(b, "dvm_rt_newr", b->newr_ty), args, 7, "nr");
    LLVMBasicBlockRef cont = new_bb(b, "ok");
    LLVMBuildCondBr(b->b, LLVMBuildICmp(b->b, LLVMIntEQ, f, k32(b, 0), "nok"),
                    cont, b->raised_bb);
    LLVMPositionBuilderAtEnd(b->b, cont);
    jit_reload(b);                  /* it may write the sb word (sb = 0) */
    fall_through(b);
}

/* exit: the promoted words spilled, then returns commit or abort. */
static void emit_exit(jb *b)
{
    jit_spill(b);
    int rc = b->in->opt == ISA_OPT_A ? VM_EXIT_ABORT : VM_EXIT_COMMIT;
    LLVMValueRef args[4] = {b->ctx, k32(b, (uint32_t)rc), k64(b, b->in->pc),
                            k64(b, 0)};
    LLVMBuildRet(b->b, LLVMBuildCall2(b->b, b->raise_ty,
        callee(b, "dvm_rt_exit", b->raise_ty), args, 4, "exit"));
}

/* Translates the current instruction into its (current) block. */
void jit_lower_insn(jb *b)
{
    switch (b->in->op) {
    case ISA_OP_BR:   emit_br(b); break;
    case ISA_OP_BL:   emit_bl(b); break;
    case ISA_OP_NEWR: emit_newr(b); break;
    case ISA_OP_EXIT: emit_exit(b); break;
    default:          emit_alu(b); break;
    }
}
