/*
 * jit_ir.h -- what the stages of the translator share (internal to
 * src/exec; built only with LLVM).
 *
 * The translator turns a *region* of DISA instructions into one LLVM
 * function and runs it through LLVM's ORC JIT.  It works in stages, one
 * file each:
 *
 *   jit_find.c     finds a region's instructions (in the binary, without
 *                  LLVM: jit_find.h)
 *   jit_region.c   builds a region's function: the entry and
 *                  dispatch blocks, one block per instruction, the module
 *   jit_lower.c    lowers each DISA instruction into its block (operands,
 *                  values, control, faults, and the runtime helpers the
 *                  translated code calls)
 *   jit_promote.c  PR-word promotion: the direct words a region keeps in
 *                  registers, and every load and store of the window
 *   jit_llvm.c     optimisation and ORC: the backend's table
 *                  (jit_backend.h), whose caller, jit.c, is the engine:
 *                  counts, tiers, the per-engine cache of regions, jit_run
 *
 * This header holds the state the three after jit_find.c share while one region is
 * built (jb), the value type of translated code (its context and entry
 * types are jit_backend.h's), and the
 * small IR helpers every stage uses.
 */
#ifndef DVM_JIT_IR_H
#define DVM_JIT_IR_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include <llvm-c/Core.h>

#include "exec/jit_backend.h"
#include "exec/jit_rt.h"
#include "exec/vm.h"
#include "util/status.h"

enum { JIT_GVN_MAX = 1000 };    /* larger regions are optimised without GVN */
enum { JIT_PROMOTE_MAX = 16 };  /* promoted words per region, at most */
enum { JIT_LOOP_MAX = 32 };     /* insns of a versioned loop, at most */

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
    LLVMValueRef skip_likely;   /* ... first successor likely (a running
                                   extremum's guard: jit_find.h) */
    uint64_t nan_bits;          /* the host's default NaN */
    int vex;                    /* jit_target.vex */
    uint8_t *in_region;         /* per insn: JIT_IN_* bits (jit_find.h) */
    uint32_t *list;             /* region insns in discovery order */
    size_t nlist;
    size_t max;                 /* ... at most this many */
    LLVMBasicBlockRef *blk;     /* per insn: its block, or NULL */
    LLVMBasicBlockRef disp_bb;
    LLVMBasicBlockRef raised_bb;        /* returns VM_EXIT_FAULT */
    LLVMValueRef d_to, d_from, d_sw;    /* dispatch phis and switch */
    const vm_insn *in;          /* instruction being translated */
    size_t npro;                /* promoted words (see the top comment) */
    uint64_t *pro;              /* ... their addresses, ascending */
    LLVMValueRef *slot;         /* ... their allocas (i64 or double) */
    uint8_t *dirty;             /* ... per word: written by the region */
    uint8_t *flt;               /* ... per word: its alloca is a double */
    uint64_t pro_lo, pro_hi;    /* ... the span [lo, hi) they lie in */
    LLVMBasicBlockRef raise_bb; /* ... their shared raise block, or NULL */
    LLVMValueRef ok_lo, ok_hi;  /* allocas: ctx's cached writable interval */
    LLVMValueRef r_kind, r_pc, r_addr;  /* ... and its phis */
    /* The region's versioned counted loop (jit_region.c), if any: insns
     * [lp_head, lp_latch], counted by the word lp_cnt (stepped by
     * lp_cstep > 0 up to the latch's bound); every access of its body
     * through the pointer word lp_ptr (stepped by lp_step, two's
     * complement, negative allowed unless it is the counter) touches
     * bytes [p + lp_lo, p + lp_hi) at an iteration whose pointer is p on
     * entry.  The pointer may be the counter itself. */
    uint32_t lp_head, lp_latch; /* VM_NO_INSN: none */
    uint64_t lp_ptr, lp_step;
    uint64_t lp_cnt, lp_cstep;
    int64_t lp_lo, lp_hi;       /* ... and loads through it too */
    int lp_store;               /* some access through lp_ptr is a store */
    int lp_fast;                /* lowering its unchecked copy */
} jb;


/* What building a region needs to know of its engine. */
typedef struct jit_target {
    const vm_code *code;
    uint64_t nan_bits;          /* the host's default NaN */
    int vex;                    /* the host has AVX: VEX-encoded float ops */
    const char *triple;         /* the JIT's target triple ... */
    const char *layout;         /* ... and data layout */
    size_t region_max;          /* instructions in one region, at most */
} jit_target;


/* ---- jit_region.c ------------------------------------------------------- */

/* Builds the IR of the region of instruction entry into a new module
 * `name` in cx.  On success *out owns the module and *size is the region's
 * instruction count.  Returns DVM_ENOMEM (message set) on allocation
 * failure. */
dvm_status jit_region_module(const jit_target *t, LLVMContextRef cx,
                             uint32_t entry, const char *name,
                             LLVMModuleRef *out, size_t *size);

/* ---- jit_lower.c -------------------------------------------------------- */

/* Translates instruction b->in into the current block (which it ends). */
void jit_lower_insn(jb *b);
/* Emits, in the entry block, the allocas of ctx's cached writable
 * interval, loaded from ctx. */
void jit_lower_slots(jb *b);
/* Ends the current block with the guard of the region's versioned loop:
 * to fast when every access through its pointer, over the iterations its
 * counter leaves to run, lies in the cached writable interval (some
 * access a store) or in the SR (loads only), else to checked. */
void jit_lower_loop_guard(jb *b, LLVMBasicBlockRef fast,
                          LLVMBasicBlockRef checked);

/* ---- jit_promote.c ------------------------------------------------------ */

/* Chooses the region's promoted words (b->pro, b->npro, b->dirty, span),
 * owned by b.  Returns 0, or -1 out of memory. */
int jit_promote_find(jb *b);
/* Emits, in the entry block, one alloca per promoted word loaded from
 * the window. */
void jit_promote_slots(jb *b);
/* Emits the write-back of the promoted words the region writes, so that
 * the window holds the whole DISA memory. */
void jit_spill(jb *b);
/* Loads every promoted word from the window again (after something wrote
 * the window behind the region's back: rt_newr choosing a stack). */
void jit_reload(jb *b);
/* Emits a load of the w-byte integer at checked ea (not widened). */
LLVMValueRef jit_load(jb *b, LLVMValueRef ea, unsigned w);
/* Emits a store of integer v (its width) at checked ea. */
void jit_store(jb *b, LLVMValueRef ea, LLVMValueRef v);

/* ---- IR helpers ---------------------------------------------------------- */

/* The i64 constant v. */
static inline LLVMValueRef k64(jb *b, uint64_t v)
{
    return LLVMConstInt(b->i64, v, 0);
}

/* The i32 constant v. */
static inline LLVMValueRef k32(jb *b, uint32_t v)
{
    return LLVMConstInt(b->i32, v, 0);
}

/* The integer type of w bytes. */
static inline LLVMTypeRef int_ty(jb *b, unsigned w)
{
    assert(w == 1 || w == 2 || w == 4 || w == 8);
    return LLVMIntTypeInContext(b->cx, 8 * w);
}

/* The runtime helper `name` of type ty, declared in b's module: called
 * by name, not by address, so that a region's object code is the same in
 * every process (jit_helpers says what each name is). */
static inline LLVMValueRef callee(jb *b, const char *name, LLVMTypeRef ty)
{
    LLVMValueRef f = LLVMGetNamedFunction(b->m, name);
    return f ? f : LLVMAddFunction(b->m, name, ty);
}

/* A new block of the region function. */
static inline LLVMBasicBlockRef new_bb(jb *b, const char *name)
{
    return LLVMAppendBasicBlockInContext(b->cx, b->fn, name);
}

/* True when v is the constant true. */
/* Gives the conditional branch br the weights w (b->unlikely,
 * b->skip_likely). */
static inline void weigh_branch(jb *b, LLVMValueRef br, LLVMValueRef w)
{
    LLVMSetMetadata(br, LLVMGetMDKindIDInContext(b->cx, "prof", 4), w);
}

static inline int is_true(LLVMValueRef v)
{
    return LLVMIsAConstantInt(v) && LLVMConstIntGetZExtValue(v) == 1;
}
/* Pointer to DISA address ea (already checked). */
static inline LLVMValueRef waddr(jb *b, LLVMValueRef ea)
{
    return LLVMBuildGEP2(b->b, b->i8, b->win, &ea, 1, "p");
}

/* Loads the i64 field at byte offset off of the jit_ctx. */
static inline LLVMValueRef ctx_load(jb *b, size_t off)
{
    LLVMValueRef o = k64(b, off);
    LLVMValueRef p = LLVMBuildGEP2(b->b, b->i8, b->ctx, &o, 1, "cf");
    return LLVMBuildLoad2(b->b, b->i64, p, "cv");
}

/* Stores i64 v into the field at byte offset off of the jit_ctx. */
static inline void ctx_store(jb *b, size_t off, LLVMValueRef v)
{
    LLVMValueRef o = k64(b, off);
    LLVMBuildStore(b->b, v, LLVMBuildGEP2(b->b, b->i8, b->ctx, &o, 1, "cf"));
}

/* Loads the w-byte integer at checked ea from the window itself. */
static inline LLVMValueRef mem_load(jb *b, LLVMValueRef ea, unsigned w)
{
    LLVMValueRef v = LLVMBuildLoad2(b->b, int_ty(b, w), waddr(b, ea), "ld");
    LLVMSetAlignment(v, 1);
    return v;
}

/* Stores integer v at checked ea in the window itself. */
static inline void mem_store(jb *b, LLVMValueRef ea, LLVMValueRef v)
{
    LLVMValueRef st = LLVMBuildStore(b->b, v, waddr(b, ea));
    LLVMSetAlignment(st, 1);
}

#endif
