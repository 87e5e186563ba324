/*
 * jit.c -- the translator: DISA to native code through LLVM's ORC JIT.
 *
 * DISA has no registers: the whole state of a runner is its memory and its
 * pc.  So a translation is free to start anywhere, and to stop anywhere by
 * returning to C with the address to go on at.  We use that twice: native
 * code is organised in *regions*, and a region we could not translate is
 * simply left to the interpreter, which picks up at the same address.
 *
 * Regions.  A region is named by its entry instruction and holds every
 * instruction reachable from it along direct edges: fall-through, direct
 * (DIR-mode) branch targets, `bl` targets, and the return points of the
 * `bl`s it contains (reached back through `br:j (link)`).  It becomes one
 * LLVM function  i32 fn(jit_ctx *ctx, i8 *win)  with one basic block per
 * DISA instruction, so loops are LLVM loops and run wholly in native code.
 * Regions are translated lazily, the first time a runner enters one, under
 * the engine's lock, and cached in a per-instruction table of native entry
 * points for the life of the engine (one per RComp, shared by its runners).
 *
 * Memory.  DISA address a is win + a: an i8 GEP off the `win` argument and
 * a load or store of the operand's width, align 1.  Every effective
 * address is computed mod 2^64 and checked (ea <= 2^46 - width, else a
 * memory fault), which folds away for direct operands.  A write is checked
 * like vm_check_write: PR writes (ea + w <= RB) pass inline; an SR write
 * passes inline when it lies in ctx's cached interval of bytes known to be
 * writable and not read only, and otherwise calls rt_write, which asks
 * vm_check_write and, on success, widens the cached interval (the writable
 * set only grows during a run, and read-only ranges never change).
 *
 * Promoted words.  DISA has no registers: programs keep their scalars in
 * direct-addressed words of the PR (`add i:q, $1, i`) and reach arrays
 * through indirect operands whose address is known only at run time.
 * LLVM cannot prove that win + ea does not alias win + 0x2070, so left to
 * itself it reloads and re-stores every scalar around every indirect
 * access, and loops run several times slower than C.  So each region
 * (up to JIT_O2_MAX insns) *promotes* the direct words it uses most: 8
 * bytes, 8-aligned, in the PR, which no other direct access of the region
 * overlaps (so promoted words never overlap each other, and a direct
 * operand either names one whole or misses them all).  At most
 * JIT_PROMOTE_MAX, chosen by uses, a use in a loop weighing 16 times more.
 * Each gets an i64 alloca, loaded from the window in the entry block;
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
 * (the base of a stack it chose), so the words are reloaded after it; the
 * other helpers (rt_write,
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
 *
 * Control.  Direct jumps are LLVM branches.  Indirect jumps (IND/DISP jump
 * operands) go to the region's dispatch block: a switch over the addresses
 * of the region's entry and return points; any other address leaves the
 * function with JIT_CONTINUE and ctx->next/ctx->from, and jit_run looks the
 * address up (not an instruction start: VM_FAULT_EXEC raised at the jump)
 * and enters the region named by it.
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
 * flip; a folded 0/0 is a positive NaN).  On x86-64 each add, sub, mul
 * and div is emitted as the SSE2 instruction itself, as inline assembly
 * LLVM cannot rewrite (float_insn), so its NaN bits are the hardware's and
 * the interpreter's with no check at all; elsewhere host_nan() pins them
 * after each operation (a compare and an unlikely branch).  fmod (div:r on
 * :f) is the C library's, called like the interpreter calls it.
 *
 * Optimisation.  Regions are optimised with LLVM's O2 pipeline, or O1
 * above JIT_O2_MAX instructions: O2's load analysis is quadratic in the
 * number of window accesses in one function.
 *
 * Runtime helpers are called through absolute addresses baked into the IR,
 * so the JIT resolves no symbols.
 */
#include "exec/jit.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "util/alloc.h"

enum { JIT_CONTINUE = 3 };      /* native return: go on at ctx->next */
enum { JIT_O2_MAX = 1000 };     /* larger regions are optimised at O1 */
enum { JIT_PROMOTE_MAX = 16 };  /* promoted words per region, at most */

/* What translated code sees of a run: its first argument. */
typedef struct jit_ctx {
    vm_runner *r;
    uint64_t ok_lo, ok_hi;      /* SR bytes known writable, not read only */
    uint64_t next;              /* JIT_CONTINUE: the address to go on at */
    uint64_t from;              /* ... and the address of the jump there */
} jit_ctx;

typedef int (*jit_fn)(jit_ctx *ctx, uint8_t *win);

struct jit_engine {
    const vm_code *code;
    LLVMOrcLLJITRef lljit;
    LLVMTargetMachineRef tm;    /* the optimiser's view of the host */
    pthread_mutex_t lock;       /* serialises translation */
    uint64_t nan_bits;          /* the host's default NaN */
    jit_fn *fns;                /* per insn: region entry, or NULL */
    uint8_t *bad;               /* per insn: translation failed */
    unsigned nregions;
};

/* ------------------------------------------------------------------------
 * Runtime helpers called from translated code.
 * --------------------------------------------------------------------- */

/* Widens c's cached writable interval around the (accepted) write
 * [ea, ea+w): the writable range holding it, clipped by read-only ranges. */
static void rt_widen(jit_ctx *c, uint64_t ea, uint64_t w)
{
    const vm_runner *r = c->r;
    const vm_code *code = r->code;
    uint64_t lo = 0, hi = 0;
    for (size_t i = 0; i < r->nwr && hi == 0; i++)
        if (r->wr[i].lo <= ea && ea + w <= r->wr[i].hi)
            lo = r->wr[i].lo, hi = r->wr[i].hi;
    for (size_t i = 0; i < code->nro && hi; i++) {
        const dvm_range *ro = &code->ro[i];
        if (ro->hi <= ea)
            lo = ro->hi > lo ? ro->hi : lo;
        else if (ro->lo >= ea + w)
            hi = ro->lo < hi ? ro->lo : hi;
        else
            hi = 0;             /* cannot happen after an accepted write */
    }
    if (hi > lo && lo >= DISA_RB && hi <= DISA_ADDR_LIMIT)
        c->ok_lo = lo, c->ok_hi = hi;
}

/* Checks an SR write the inline tests did not accept.  Returns the fault
 * kind (VM_FAULT_NONE when the write is allowed). */
static int rt_write(jit_ctx *c, uint64_t ea, uint64_t w)
{
    assert(ea < DISA_ADDR_LIMIT && w <= DISA_ADDR_LIMIT - ea);
    int f = vm_check_write(c->r, ea, (unsigned)w);
    if (f == VM_FAULT_NONE && ea >= DISA_RB)
        rt_widen(c, ea, w);
    return f;
}

/* Executes newr with operand values a..d at instruction pc.  Returns 0, or
 * VM_EXIT_FAULT with the fault recorded.  win is passed so the optimiser
 * knows the call reads the window (vm_newr reads the descriptors). */
static int rt_newr(jit_ctx *c, uint8_t *win, uint64_t a, uint64_t b,
                   uint64_t d3, uint64_t d4, uint64_t pc)
{
    assert(win == c->r->win);
    (void)win;
    const uint64_t v[4] = {a, b, d3, d4};
    int f = vm_newr(c->r, v);
    if (f == VM_FAULT_NONE)
        return 0;
    return vm_raise(c->r, f, pc, c->r->fault_addr);
}

/* True (1) when address a starts an instruction. */
static int rt_isinsn(jit_ctx *c, uint64_t a)
{
    return code_index(c->r->code, a) != VM_NO_INSN;
}

/* Records where translated code exited; returns the exit kind rc. */
static int rt_exit(jit_ctx *c, uint32_t rc, uint64_t pc, uint64_t unused)
{
    (void)unused;
    c->r->exit_pc = pc;
    return (int)rc;
}

/* Records a fault raised by translated code; returns VM_EXIT_FAULT. */
static int rt_raise(jit_ctx *c, uint32_t kind, uint64_t pc, uint64_t addr)
{
    return vm_raise(c->r, (int)kind, pc, addr);
}

/* ------------------------------------------------------------------------
 * The IR builder.
 * --------------------------------------------------------------------- */

/* A source value: i64 (widened) or double. */
typedef struct jv {
    LLVMValueRef v;
    int flt;                    /* double */
    int sgn;                    /* integer signedness of its type */
} jv;

typedef struct jb {
    const vm_code *code;
    LLVMContextRef cx;
    LLVMModuleRef m;
    LLVMBuilderRef b;
    LLVMValueRef fn, ctx, win;
    LLVMTypeRef i1, i8, i32, i64, dbl, ptr, fnty;
    LLVMTypeRef write_ty, newr_ty, raise_ty, isinsn_ty, fmod_ty;
    LLVMValueRef unlikely;      /* branch weights: second successor cold */
    uint64_t nan_bits;          /* the host's default NaN */
    uint8_t *in_region;         /* per insn: 1 in region, 2 also a case */
    uint32_t *list;             /* region insns in discovery order */
    size_t nlist;
    LLVMBasicBlockRef *blk;     /* per insn: its block, or NULL */
    LLVMBasicBlockRef disp_bb;
    LLVMBasicBlockRef raised_bb;        /* returns VM_EXIT_FAULT */
    LLVMValueRef d_to, d_from, d_sw;    /* dispatch phis and switch */
    const vm_insn *in;          /* instruction being translated */
    size_t npro;                /* promoted words (see the top comment) */
    uint64_t *pro;              /* ... their addresses, ascending */
    LLVMValueRef *slot;         /* ... their i64 allocas */
    uint8_t *dirty;             /* ... per word: written by the region */
    uint64_t pro_lo, pro_hi;    /* ... the span [lo, hi) they lie in */
    LLVMBasicBlockRef raise_bb; /* ... their shared raise block, or NULL */
    LLVMValueRef r_kind, r_pc, r_addr;  /* ... and its phis */
} jb;

/* The i64 constant v. */
static LLVMValueRef k64(jb *b, uint64_t v)
{
    return LLVMConstInt(b->i64, v, 0);
}

/* The i32 constant v. */
static LLVMValueRef k32(jb *b, uint32_t v)
{
    return LLVMConstInt(b->i32, v, 0);
}

/* The integer type of w bytes. */
static LLVMTypeRef int_ty(jb *b, unsigned w)
{
    assert(w == 1 || w == 2 || w == 4 || w == 8);
    return LLVMIntTypeInContext(b->cx, 8 * w);
}

/* A callee at the absolute host address f. */
static LLVMValueRef callee(jb *b, void (*f)(void))
{
    return LLVMConstIntToPtr(k64(b, (uint64_t)(uintptr_t)f), b->ptr);
}

/* A new block of the region function. */
static LLVMBasicBlockRef new_bb(jb *b, const char *name)
{
    return LLVMAppendBasicBlockInContext(b->cx, b->fn, name);
}

/* True when v is the constant true. */
static int is_true(LLVMValueRef v)
{
    return LLVMIsAConstantInt(v) && LLVMConstIntGetZExtValue(v) == 1;
}

static void spill(jb *b);

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
    spill(b);
    LLVMValueRef args[4] = {b->ctx, b->r_kind, b->r_pc, b->r_addr};
    LLVMBuildRet(b->b, LLVMBuildCall2(b->b, b->raise_ty,
        callee(b, (void (*)(void))rt_raise), args, 4, "rc"));
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
        callee(b, (void (*)(void))rt_raise), args, 4, "rc");
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
    LLVMSetMetadata(br, LLVMGetMDKindIDInContext(b->cx, "prof", 4),
                    b->unlikely);
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

/* Pointer to DISA address ea (already checked). */
static LLVMValueRef waddr(jb *b, LLVMValueRef ea)
{
    return LLVMBuildGEP2(b->b, b->i8, b->win, &ea, 1, "p");
}

/* Loads the i64 field at byte offset off of the jit_ctx. */
static LLVMValueRef ctx_load(jb *b, size_t off)
{
    LLVMValueRef o = k64(b, off);
    LLVMValueRef p = LLVMBuildGEP2(b->b, b->i8, b->ctx, &o, 1, "cf");
    return LLVMBuildLoad2(b->b, b->i64, p, "cv");
}

/* Stores i64 v into the field at byte offset off of the jit_ctx. */
static void ctx_store(jb *b, size_t off, LLVMValueRef v)
{
    LLVMValueRef o = k64(b, off);
    LLVMBuildStore(b->b, v, LLVMBuildGEP2(b->b, b->i8, b->ctx, &o, 1, "cf"));
}

/* Checks that w bytes at ea lie below 2^46: a memory fault at ea. */
static void check_range(jb *b, LLVMValueRef ea, unsigned w)
{
    LLVMValueRef ok = LLVMBuildICmp(b->b, LLVMIntULE, ea,
                                    k64(b, DISA_ADDR_LIMIT - w), "inr");
    check(b, ok, VM_FAULT_MEMORY, ea);
}

/* ---- promoted words ------------------------------------------------------ */

/* Loads the w-byte integer at checked ea from the window itself. */
static LLVMValueRef mem_load(jb *b, LLVMValueRef ea, unsigned w)
{
    LLVMValueRef v = LLVMBuildLoad2(b->b, int_ty(b, w), waddr(b, ea), "ld");
    LLVMSetAlignment(v, 1);
    return v;
}

/* Stores integer v at checked ea in the window itself. */
static void mem_store(jb *b, LLVMValueRef ea, LLVMValueRef v)
{
    LLVMValueRef st = LLVMBuildStore(b->b, v, waddr(b, ea));
    LLVMSetAlignment(st, 1);
}

/* Writes the promoted words back to the window, so that it holds the
 * whole DISA memory.  Only words the region writes directly: the others
 * never differ from the window (they change only through a reload). */
static void spill(jb *b)
{
    for (size_t i = 0; i < b->npro; i++) {
        if (!b->dirty[i])
            continue;
        LLVMValueRef v = LLVMBuildLoad2(b->b, b->i64, b->slot[i], "pv");
        mem_store(b, k64(b, b->pro[i]), v);
    }
}

/* Reloads every promoted word from the window (after a spill and a write
 * that may have changed some of them). */
static void reload(jb *b)
{
    for (size_t i = 0; i < b->npro; i++)
        LLVMBuildStore(b->b, mem_load(b, k64(b, b->pro[i]), 8), b->slot[i]);
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

/* The alloca that holds exactly the w bytes at ea, or NULL: only a
 * constant ea naming a promoted word, accessed whole. */
static LLVMValueRef slot_of(const jb *b, LLVMValueRef ea, unsigned w)
{
    if (!b->npro || w != 8 || !LLVMIsAConstantInt(ea))
        return NULL;
    uint64_t a = LLVMConstIntGetZExtValue(ea);
    ptrdiff_t i = promoted_at(b, a, w);
    return i >= 0 && b->pro[i] == a ? b->slot[i] : NULL;
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
    LLVMSetMetadata(br, LLVMGetMDKindIDInContext(b->cx, "prof", 4),
                    b->unlikely);
}

/* Loads the w-byte integer at checked ea (not widened): from its alloca
 * when ea names a promoted word; else from the window, after a spill when
 * the access meets the promoted span. */
static LLVMValueRef load_int(jb *b, LLVMValueRef ea, unsigned w)
{
    LLVMValueRef s = slot_of(b, ea, w);
    if (s)
        return LLVMBuildLoad2(b->b, b->i64, s, "pv");
    if (!may_hit(b, ea, w))
        return mem_load(b, ea, w);
    LLVMBasicBlockRef fast, cold, join = new_bb(b, "ldj");
    split_on_span(b, ea, w, &fast, &cold);
    LLVMPositionBuilderAtEnd(b->b, fast);
    LLVMValueRef v[2] = {mem_load(b, ea, w), NULL};
    LLVMBuildBr(b->b, join);
    LLVMPositionBuilderAtEnd(b->b, cold);
    spill(b);
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
static void store_int(jb *b, LLVMValueRef ea, LLVMValueRef v)
{
    unsigned w = LLVMGetIntTypeWidth(LLVMTypeOf(v)) / 8;
    LLVMValueRef s = slot_of(b, ea, w);
    if (s) {
        LLVMBuildStore(b->b, v, s);
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
    spill(b);
    mem_store(b, ea, v);
    reload(b);
    LLVMBuildBr(b->b, join);
    LLVMPositionBuilderAtEnd(b->b, join);
}

/* The checked effective address of memory operand o accessed with width
 * w: E, mem64[E] or mem64[E] + D, mod 2^64, then checked against 2^46. */
static LLVMValueRef operand_ea(jb *b, const isa_operand *o, unsigned w)
{
    assert(o->mode != ISA_M_IMM);
    LLVMValueRef ea = k64(b, o->value);
    if (o->mode != ISA_M_DIR) {
        check_range(b, ea, 8);
        ea = load_int(b, ea, 8);
        if (o->mode == ISA_M_DISP)
            ea = LLVMBuildAdd(b->b, ea, k64(b, (uint64_t)o->disp), "ea");
    }
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
    a = load_int(b, a, 8);
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
    else
        raw = load_int(b, operand_ea(b, o, w), w);
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

/* Checks a w-byte write at ea (in range) like vm_check_write: PR writes
 * pass; an SR write passes inline inside ctx's cached writable interval,
 * else rt_write decides (its fault kind raised at ea). */
static void check_write(jb *b, LLVMValueRef ea, unsigned w)
{
    LLVMValueRef pr = LLVMBuildICmp(b->b, LLVMIntULE, ea,
                                    k64(b, DISA_RB - w), "pr");
    if (is_true(pr))
        return;
    LLVMBasicBlockRef sr = new_bb(b, "sr"), slow = new_bb(b, "slow");
    LLVMBasicBlockRef done = new_bb(b, "wok");
    LLVMBuildCondBr(b->b, pr, done, sr);
    LLVMPositionBuilderAtEnd(b->b, sr);
    LLVMValueRef lo = ctx_load(b, offsetof(jit_ctx, ok_lo));
    LLVMValueRef hi = ctx_load(b, offsetof(jit_ctx, ok_hi));
    LLVMValueRef end = LLVMBuildAdd(b->b, ea, k64(b, w), "end");
    LLVMValueRef in = LLVMBuildAnd(b->b,
        LLVMBuildICmp(b->b, LLVMIntUGE, ea, lo, "gelo"),
        LLVMBuildICmp(b->b, LLVMIntULE, end, hi, "lehi"), "cached");
    LLVMBuildCondBr(b->b, in, done, slow);
    LLVMPositionBuilderAtEnd(b->b, slow);
    LLVMValueRef args[3] = {b->ctx, ea, k64(b, w)};
    LLVMValueRef f = LLVMBuildCall2(b->b, b->write_ty,
        callee(b, (void (*)(void))rt_write), args, 3, "wf");
    check_kind(b, LLVMBuildICmp(b->b, LLVMIntEQ, f, k32(b, 0), "wr"), f, ea);
    LLVMBuildBr(b->b, done);
    LLVMPositionBuilderAtEnd(b->b, done);
}

/* Stores v to destination operand o converted to o's type (DISA.md 2.3):
 * float to integer through int64, integer to :f by value per v's
 * signedness, then truncated to o's width; the address is computed and
 * checked, the write checked, the value stored. */
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
    LLVMValueRef ea = operand_ea(b, o, w);
    check_write(b, ea, w);
    store_int(b, ea, x);
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

/* Continues at the next instruction, or raises the fall-off fault (at the
 * current instruction, address next_pc). */
static void fall_through(jb *b)
{
    const vm_insn *in = b->in;
    if (in->next == VM_NO_INSN) {
        fault_now(b, VM_FAULT_EXEC, k64(b, in->next_pc));
        return;
    }
    assert(b->blk[in->next]);
    LLVMBuildBr(b->b, b->blk[in->next]);
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
        assert(b->blk[in->target]);
        LLVMBuildBr(b->b, b->blk[in->target]);
    }
}

/* ---- instructions -------------------------------------------------------- */

/* Signedness of source o of in: its type's, unless mov:z / mov:s. */
static int src_signed(const vm_insn *in, const isa_operand *o)
{
    if (in->op == ISA_OP_MOV && in->opt == ISA_OPT_Z)
        return 0;
    if (in->op == ISA_OP_MOV && in->opt == ISA_OPT_S)
        return 1;
    return isa_type_signed[o->type];
}

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
    LLVMSetMetadata(br, LLVMGetMDKindIDInContext(b->cx, "prof", 4),
                    b->unlikely);
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
                          callee(b, (void (*)(void))fmod), args, 2, "fmod");
}

#if defined(__x86_64__)
/* x86-64: p OP q as the one SSE2 instruction (insn) that the interpreter's
 * compiled C executes for it, as inline assembly.  LLVM cannot fold or
 * rewrite what it cannot see into (x * -1.0 into a sign flip, 0/0 into its
 * own NaN), so the result's NaN bits are the hardware's, which are the
 * interpreter's, by construction: no check after the operation.  The tied
 * operand keeps p as the first (destination) source, as in the C code. */
static LLVMValueRef float_insn(jb *b, const char *insn, LLVMValueRef p,
                               LLVMValueRef q)
{
    LLVMTypeRef args[2] = {b->dbl, b->dbl};
    LLVMTypeRef fty = LLVMFunctionType(b->dbl, args, 2, 0);
    char text[32], cons[] = "=x,0,x";
    int n = snprintf(text, sizeof text, "%s $2, $0", insn);
    LLVMValueRef code = LLVMGetInlineAsm(fty, text, (size_t)n, cons,
                                         sizeof cons - 1, 0, 0,
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
    jv x = read_src(b, &in->o[0], src_signed(in, &in->o[0]), bits);
    jv y = {NULL, 0, 0};
    if (in->nops == 3)
        y = read_src(b, &in->o[1], src_signed(in, &in->o[1]), bits);
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
    LLVMBuildCondBr(b->b, cond, taken, not);
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
            callee(b, (void (*)(void))rt_isinsn), args, 2, "isi");
        check(b, LLVMBuildICmp(b->b, LLVMIntNE, ok, k32(b, 0), "ti"),
              VM_FAULT_EXEC, to);
    }
    LLVMValueRef ea = operand_ea(b, l, 8);
    check_write(b, ea, 8);
    store_int(b, ea, k64(b, in->next_pc));
    if (to)
        goto_dispatch(b, to);
    else
        LLVMBuildBr(b->b, b->blk[in->target]);
}

/* newr: the four 64-bit operand values left to right, the promoted words
 * spilled (vm_newr reads the descriptors through the window), rt_newr,
 * then the promoted words reloaded (a chosen stack's base is written into
 * its descriptor, usually in the PR). */
static void emit_newr(jb *b)
{
    const vm_insn *in = b->in;
    LLVMValueRef args[7] = {b->ctx, b->win};
    for (int i = 0; i < 4; i++) {
        const isa_operand *o = &in->o[i];
        args[2 + i] = o->mode == ISA_M_IMM ? k64(b, o->value)
                                           : load_int(b, operand_ea(b, o, 8), 8);
    }
    args[6] = k64(b, in->pc);
    spill(b);                   /* vm_newr reads descriptors in the PR */
    LLVMValueRef f = LLVMBuildCall2(b->b, b->newr_ty,
        callee(b, (void (*)(void))rt_newr), args, 7, "nr");
    LLVMBasicBlockRef cont = new_bb(b, "ok");
    LLVMBuildCondBr(b->b, LLVMBuildICmp(b->b, LLVMIntEQ, f, k32(b, 0), "nok"),
                    cont, b->raised_bb);
    LLVMPositionBuilderAtEnd(b->b, cont);
    reload(b);                  /* it may write the sb word (sb = 0) */
    fall_through(b);
}

/* exit: the promoted words spilled, then returns commit or abort. */
static void emit_exit(jb *b)
{
    spill(b);
    int rc = b->in->opt == ISA_OPT_A ? VM_EXIT_ABORT : VM_EXIT_COMMIT;
    LLVMValueRef args[4] = {b->ctx, k32(b, (uint32_t)rc), k64(b, b->in->pc),
                            k64(b, 0)};
    LLVMBuildRet(b->b, LLVMBuildCall2(b->b, b->raise_ty,
        callee(b, (void (*)(void))rt_exit), args, 4, "exit"));
}

/* Translates the current instruction into its (current) block. */
static void emit_insn(jb *b)
{
    switch (b->in->op) {
    case ISA_OP_BR:   emit_br(b); break;
    case ISA_OP_BL:   emit_bl(b); break;
    case ISA_OP_NEWR: emit_newr(b); break;
    case ISA_OP_EXIT: emit_exit(b); break;
    default:          emit_alu(b); break;
    }
}

/* ---- regions ------------------------------------------------------------ */

/* Adds insn i to the region (once); case marks it a dispatch target. */
static void region_add(jb *b, uint32_t i, int is_case)
{
    if (i == VM_NO_INSN)
        return;
    if (!b->in_region[i])
        b->list[b->nlist++] = i;
    if (b->in_region[i] < 1 + is_case)
        b->in_region[i] = (uint8_t)(1 + is_case);
}

/* Finds the region of entry: everything reachable along direct edges,
 * with the return points of its bls as further dispatch targets. */
static void region_find(jb *b, uint32_t entry)
{
    region_add(b, entry, 1);
    for (size_t k = 0; k < b->nlist; k++) {
        const vm_insn *in = &b->code->insns[b->list[k]];
        switch (in->op) {
        case ISA_OP_EXIT:
            break;
        case ISA_OP_BR:
            region_add(b, in->target, 0);
            if (in->opt != ISA_OPT_J)
                region_add(b, in->next, 0);
            break;
        case ISA_OP_BL:
            region_add(b, in->target, 0);
            region_add(b, in->next, 1);
            break;
        default:
            region_add(b, in->next, 0);
            break;
        }
    }
}

/* ---- choosing the promoted words ---------------------------------------- */

/* A direct access of the region to the PR: address, width, times used. */
typedef struct jacc {
    uint64_t a;
    unsigned w, n;
    int wr;                     /* written (by some of them) */
} jacc;

/* Records a direct access of w bytes at a (PR ones only); wr: a write. */
static void acc_add(jacc *v, size_t *n, uint64_t a, unsigned w, int wr)
{
    if (a < DISA_RB)
        v[(*n)++] = (jacc){a, w, 1, wr};
}

/* Records the direct access memory operand o of width w makes: at its
 * address (a write when wr), or a read of its pointer word (8 bytes) when
 * IND or DISP. */
static void acc_mem(jacc *v, size_t *n, const isa_operand *o, unsigned w,
                    int wr)
{
    if (o->mode == ISA_M_DIR)
        acc_add(v, n, o->value, w, wr);
    else if (o->mode != ISA_M_IMM)
        acc_add(v, n, o->value, 8, 0);
}

/* Records the direct access of jump operand o: its pointer word. */
static void acc_jump(jacc *v, size_t *n, const isa_operand *o)
{
    if (o->mode != ISA_M_DIR)
        acc_add(v, n, o->value, 8, 0);
}

static void acc_ops(jacc *v, size_t *n, const vm_insn *in);

/* Records the direct accesses of in (at most 4), as emit_insn makes
 * them, each counted as weight uses. */
static void acc_insn(jacc *v, size_t *n, const vm_insn *in, unsigned weight)
{
    size_t first = *n;
    acc_ops(v, n, in);
    for (size_t i = first; i < *n; i++)
        v[i].n = weight;
}

/* Loop nesting estimate per insn index, in depth[] (zeroed, ninsns + 1):
 * every direct backward jump of the region covers the insns from its
 * target to itself. */
static void loop_depth(const jb *b, unsigned *depth)
{
    for (size_t k = 0; k < b->nlist; k++) {
        uint32_t i = b->list[k];
        const vm_insn *in = &b->code->insns[i];
        if ((in->op == ISA_OP_BR || in->op == ISA_OP_BL) &&
            in->target != VM_NO_INSN && in->target <= i) {
            depth[in->target]++;
            depth[i + 1]--;
        }
    }
    for (size_t i = 1; i <= b->code->ninsns; i++)
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
 * for O2 (each spill is one store per word, and faults spill).  Returns
 * 0, or -1 out of memory. */
static int promote_find(jb *b)
{
    if (b->nlist > JIT_O2_MAX)
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
    if (!b->pro || !b->slot || !b->dirty) {
        dvm_free(v);
        return -1;
    }
    for (size_t i = 0; i < m; i++)
        b->pro[i] = v[i].a, b->dirty[i] = (uint8_t)v[i].wr;
    b->npro = m;
    if (m)
        b->pro_lo = b->pro[0], b->pro_hi = b->pro[m - 1] + 8;
    dvm_free(v);
    return 0;
}

/* In the entry block: one i64 alloca per promoted word, loaded from the
 * window (the invariant holds from the start). */
static void promote_slots(jb *b)
{
    for (size_t i = 0; i < b->npro; i++)
        b->slot[i] = LLVMBuildAlloca(b->b, b->i64, "w");
    reload(b);
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
    spill(b);
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
    promote_slots(b);
    build_fault_block(b);
    build_dispatch(b);
    for (size_t k = 0; k < b->nlist; k++) {
        uint32_t i = b->list[k];
        char bn[32];
        snprintf(bn, sizeof bn, "i%" PRIx64, b->code->insns[i].pc);
        b->blk[i] = new_bb(b, bn);
        if (b->in_region[i] == 2)
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
        emit_insn(b);
    }
}

/* ---- the engine ---------------------------------------------------------- */

/* Records an LLVM error as the status message; consumes err. */
static dvm_status llvm_fail(LLVMErrorRef err, const char *what)
{
    char *msg = LLVMGetErrorMessage(err);
    dvm_status st = status_set(DVM_EINVAL, "translator: %s: %s", what, msg);
    LLVMDisposeErrorMessage(msg);
    return st;
}

/* Verifies and optimises module m of size region insns for the host: O2,
 * or O1 for a region too big for O2's load analysis, which is quadratic
 * (thousands of window accesses in one function take seconds). */
static dvm_status optimise(jit_engine *j, LLVMModuleRef m, size_t size)
{
    char *msg = NULL;
    if (LLVMVerifyModule(m, LLVMReturnStatusAction, &msg)) {
        dvm_status st = status_set(DVM_EINVAL, "translator: bad IR: %s", msg);
        LLVMDisposeMessage(msg);
        return st;
    }
    LLVMDisposeMessage(msg);
    LLVMPassBuilderOptionsRef opt = LLVMCreatePassBuilderOptions();
    const char *pp = size > JIT_O2_MAX ? "default<O1>" : "default<O2>";
    LLVMErrorRef err = LLVMRunPasses(m, pp, j->tm, opt);
    LLVMDisposePassBuilderOptions(opt);
    return err ? llvm_fail(err, "optimising") : DVM_OK;
}

/* Builds the IR of the region of entry into a new module in cx; on
 * success *out owns it and *size is the region's instruction count. */
static dvm_status build_module(jit_engine *j, LLVMContextRef cx,
                               uint32_t entry, const char *name,
                               LLVMModuleRef *out, size_t *size)
{
    jb b;
    memset(&b, 0, sizeof b);
    b.code = j->code;
    b.cx = cx;
    b.nan_bits = j->nan_bits;
    b.in_region = dvm_calloc(j->code->ninsns, 1);
    b.list = dvm_malloc(j->code->ninsns * sizeof *b.list);
    b.blk = dvm_calloc(j->code->ninsns, sizeof *b.blk);
    if (!b.in_region || !b.list || !b.blk)
        goto err_mem;
    region_find(&b, entry);
    if (promote_find(&b))
        goto err_mem;
    b.m = LLVMModuleCreateWithNameInContext(name, cx);
    LLVMSetTarget(b.m, LLVMOrcLLJITGetTripleString(j->lljit));
    LLVMSetDataLayout(b.m, LLVMOrcLLJITGetDataLayoutStr(j->lljit));
    b.b = LLVMCreateBuilderInContext(cx);
    init_types(&b);
    b.unlikely = cold_weights(&b);
    build_skeleton(&b, name, entry);
    build_body(&b);
    LLVMDisposeBuilder(b.b);
    dvm_free(b.in_region);
    dvm_free(b.list);
    dvm_free(b.blk);
    dvm_free(b.pro);
    dvm_free(b.slot);
    dvm_free(b.dirty);
    *out = b.m;
    *size = b.nlist;
    return DVM_OK;
err_mem:
    dvm_free(b.in_region);
    dvm_free(b.list);
    dvm_free(b.blk);
    dvm_free(b.pro);
    dvm_free(b.slot);
    dvm_free(b.dirty);
    return status_set(DVM_ENOMEM, "translator: out of memory");
}

/* Translates the region of entry and returns its native code in *out. */
static dvm_status translate(jit_engine *j, uint32_t entry, jit_fn *out)
{
    char name[32];
    snprintf(name, sizeof name, "dvm_region_%u", j->nregions++);
    LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMContextRef cx = LLVMOrcThreadSafeContextGetContext(tsc);
    LLVMModuleRef m = NULL;
    size_t size = 0;
    dvm_status st = build_module(j, cx, entry, name, &m, &size);
    if (st)
        goto err_ctx;
    if ((st = optimise(j, m, size))) {
        LLVMDisposeModule(m);
        goto err_ctx;
    }
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(m, tsc);
    LLVMOrcDisposeThreadSafeContext(tsc);
    LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(j->lljit);
    LLVMErrorRef err = LLVMOrcLLJITAddLLVMIRModule(j->lljit, jd, tsm);
    if (err)
        return llvm_fail(err, "adding code");
    LLVMOrcExecutorAddress addr = 0;
    if ((err = LLVMOrcLLJITLookup(j->lljit, &addr, name)))
        return llvm_fail(err, "looking code up");
    *out = (jit_fn)(uintptr_t)addr;
    return DVM_OK;
err_ctx:
    LLVMOrcDisposeThreadSafeContext(tsc);
    return st;
}

/* The native entry of the region of insn i, translating it on first use;
 * NULL when it cannot be translated (the caller interprets instead). */
static jit_fn region(jit_engine *j, uint32_t i)
{
    jit_fn fn = __atomic_load_n(&j->fns[i], __ATOMIC_ACQUIRE);
    if (fn || __atomic_load_n(&j->bad[i], __ATOMIC_ACQUIRE))
        return fn;
    pthread_mutex_lock(&j->lock);
    fn = j->fns[i];
    if (!fn && !j->bad[i]) {
        if (translate(j, i, &fn) == DVM_OK)
            __atomic_store_n(&j->fns[i], fn, __ATOMIC_RELEASE);
        else
            __atomic_store_n(&j->bad[i], 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&j->lock);
    return fn;
}

static pthread_once_t llvm_once = PTHREAD_ONCE_INIT;
static int llvm_ready;

/* Initialises LLVM's native target once per process. */
static void llvm_init(void)
{
    llvm_ready = !LLVMInitializeNativeTarget() &&
                 !LLVMInitializeNativeAsmPrinter() &&
                 !LLVMInitializeNativeAsmParser();  /* inline asm */
}

int jit_available(void)
{
    pthread_once(&llvm_once, llvm_init);
    return llvm_ready;
}

/* The host's default NaN: what an invalid operation yields here. */
static uint64_t host_default_nan(void)
{
    volatile double zero = 0.0;
    double n = zero / zero;
    uint64_t bits;
    memcpy(&bits, &n, 8);
    return bits;
}

/* Creates the target machine the optimiser tunes for: the host CPU. */
static dvm_status make_tm(LLVMTargetMachineRef *out)
{
    char *triple = LLVMGetDefaultTargetTriple(), *err = NULL;
    char *cpu = LLVMGetHostCPUName(), *feat = LLVMGetHostCPUFeatures();
    LLVMTargetRef t;
    dvm_status st = DVM_OK;
    if (LLVMGetTargetFromTriple(triple, &t, &err)) {
        st = status_set(DVM_EUNSUPP, "translator: no target: %s", err);
        LLVMDisposeMessage(err);
    } else {
        *out = LLVMCreateTargetMachine(t, triple, cpu, feat,
                                       LLVMCodeGenLevelDefault,
                                       LLVMRelocDefault,
                                       LLVMCodeModelJITDefault);
    }
    LLVMDisposeMessage(triple);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(feat);
    return st;
}

/* Creates j's LLJIT, with the process's symbols (memset, memcpy, ... that
 * the optimiser may call) visible to the code. */
static dvm_status make_lljit(jit_engine *j)
{
    LLVMErrorRef err = LLVMOrcCreateLLJIT(&j->lljit, NULL);
    if (err)
        return llvm_fail(err, "creating the JIT");
    LLVMOrcDefinitionGeneratorRef gen;
    err = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&gen,
        LLVMOrcLLJITGetGlobalPrefix(j->lljit), NULL, NULL);
    if (err)
        return llvm_fail(err, "process symbols");
    LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(j->lljit), gen);
    return DVM_OK;
}

dvm_status jit_create(const vm_code *code, jit_engine **out)
{
    assert(code && out);
    if (!jit_available())
        return status_set(DVM_EUNSUPP, "translator: LLVM has no native "
                          "target here (use --engine interp)");
    jit_engine *j = dvm_calloc(1, sizeof *j);
    if (!j)
        return status_set(DVM_ENOMEM, "translator: out of memory");
    j->code = code;
    j->nan_bits = host_default_nan();
    j->fns = dvm_calloc(code->ninsns + 1, sizeof *j->fns);
    j->bad = dvm_calloc(code->ninsns + 1, 1);
    dvm_status st = DVM_ENOMEM;
    if (!j->fns || !j->bad) {
        status_set(st, "translator: out of memory");
        goto err_engine;
    }
    if ((st = make_tm(&j->tm)) || (st = make_lljit(j)))
        goto err_engine;
    pthread_mutex_init(&j->lock, NULL);
    *out = j;
    return DVM_OK;
err_engine:
    if (j->lljit)
        LLVMOrcDisposeLLJIT(j->lljit);
    if (j->tm)
        LLVMDisposeTargetMachine(j->tm);
    dvm_free(j->fns);
    dvm_free(j->bad);
    dvm_free(j);
    return st;
}

void jit_destroy(jit_engine *j)
{
    if (!j)
        return;
    LLVMErrorRef err = LLVMOrcDisposeLLJIT(j->lljit);
    if (err)
        LLVMConsumeError(err);
    LLVMDisposeTargetMachine(j->tm);
    pthread_mutex_destroy(&j->lock);
    dvm_free(j->fns);
    dvm_free(j->bad);
    dvm_free(j);
}

int jit_run(jit_engine *j, vm_runner *r, uint64_t fi)
{
    assert(j && r && r->code == j->code && r->win);
    uint32_t i = code_index(j->code, fi);
    if (i == VM_NO_INSN)
        return vm_raise(r, VM_FAULT_EXEC, fi, fi);
    jit_ctx c = {r, 0, 0, 0, 0};
    for (;;) {
        jit_fn fn = region(j, i);
        if (!fn)                /* untranslatable: the state is memory */
            return interp_run(r, j->code->insns[i].pc);
        int rc = fn(&c, r->win);
        if (rc != JIT_CONTINUE)
            return rc;
        i = code_index(j->code, c.next);
        if (i == VM_NO_INSN)
            return vm_raise(r, VM_FAULT_EXEC, c.from, c.next);
    }
}
