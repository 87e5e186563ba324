/*
 * vm.h -- what an engine sees of a runner, and the semantics both engines
 * share: effective-address checks, the writable set, newr descriptors,
 * faults.
 *
 * An engine runs one runner on a window: DISA address a lives at win + a
 * for every a < 2^46 (the RComp maps the window; pages arrive on first touch
 * transparently).  The engine never touches host memory outside
 * [win, win + 2^46): every effective address is checked against 2^46 first.
 *
 * Writes: PR addresses (< RB) are always writable.  An SR write must not
 * touch a read-only range (code, input windows, system page: a memory fault,
 * VM_FAULT_READONLY) and must lie in the writable set (own stack, heap ranges,
 * stacks of runners created so far: else VM_FAULT_WRITABLE).
 *
 * newr parses and validates the four descriptors (DISA.md 5.1), appends a
 * runner_desc, and adds the child's stack to the writable set.  A stack
 * descriptor with sb = 0 (DISA 1.1) asks for a stack of ss bytes rounded up
 * to pages (ss = 0: one page): the runner's vm_stack_ops choose one in the
 * stack area, and newr writes its base into the descriptor's sb word, a
 * write of the creator (checked like any other).  Such a child carries
 * RUNNER_STACK_CHOSEN; whoever discards the children of an attempt that
 * does not commit gives their chosen stacks back (vm_runner_release_stacks).
 *
 * Noting (vm_notes): a runner run speculatively is validated later by
 * value -- it stands if every byte of shared memory it read still holds
 * what it saw -- so the interpreter can note, per run, every access
 * outside the runner's private memory with the bytes found there.  The
 * notes go to an array the caller owns and sizes; one that does not fit
 * marks the run uncheckable instead of growing anything mid-run.
 */
#ifndef DVM_VM_H
#define DVM_VM_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "exec/code.h"
#include "util/status.h"


enum vm_exit { VM_EXIT_COMMIT, VM_EXIT_ABORT, VM_EXIT_FAULT };

/* Where stacks chosen by the DVM come from (the RComp's grants).  alloc
 * sets *sb to a free range of ss bytes (ss a multiple of the page size, at
 * most the stack area) and returns VM_FAULT_NONE, or returns the fault to
 * raise; release gives back a range alloc returned. */
typedef struct vm_stack_ops {
    int (*alloc)(void *ctx, uint64_t ss, uint64_t *sb);
    void (*release)(void *ctx, uint64_t sb, uint64_t ss);
    void *ctx;
} vm_stack_ops;

#define VM_PRW_PAGES 64          /* PR pages noted one by one when written */

/* One access a noting run made (interp_run, vm_runner.notes): a
 * runner_note (isa/runner.h). */
typedef runner_note vm_note;

/* The notes of one run, in program order.  A run notes every access of
 * memory outside its private memory: an access not wholly inside the PR
 * below the context page, the PR above it, or the runner's own stack
 * [own_lo, own_hi) (one straddling a boundary is noted whole), except a
 * load wholly inside a code segment, whose bytes never change (c0's
 * constant tables live there).  The context page is noted: its words (the
 * runner's id) differ between runners.  An exact repeat of the latest
 * note is not appended again. */
typedef struct vm_notes {
    vm_note *v;                 /* room for cap notes; the caller's */
    size_t n, cap;
    int overflow;               /* a note did not fit: the run is not
                                   checkable (it still runs to its end) */
} vm_notes;

typedef struct vm_runner {
    uint8_t *win;               /* window base */
    const vm_code *code;
    dvm_range *wr;  size_t nwr, capwr;   /* writable SR ranges */
    size_t wr_hint;             /* last range that matched */
    runner_desc *kids; size_t nkids, capkids;
    int fault;                  /* enum vm_fault */
    uint64_t fault_pc;          /* DISA address of the faulting insn */
    uint64_t fault_addr;        /* offending address (or jump target) */
    uint64_t exit_pc;           /* DISA address of the exit executed */
    vm_stack_ops stacks;        /* alloc NULL: sb = 0 faults (NOSTACK) */
    uint64_t prw_pages;         /* PR pages below VM_PRW_PAGES that a
                                   computed-address store reached since
                                   the last reset (bit p: page p) */
    uint64_t prw_lo, prw_hi;    /* PR bytes written through a computed
                                   address above those pages, or by
                                   translated code (jit.c, jit_ctx):
                                   [prw_lo, prw_hi), empty when lo >= hi.
                                   Direct-mode stores are the code's
                                   pr_pages (code.h) */
    uint64_t own_lo, own_hi;    /* the runner's own stack (vm_runner_add_own:
                                   the RComp keeps its pages when no write
                                   reached them) */
    int own_written;            /* a write accepted by vm_check_write
                                   touched [own_lo, own_hi) since the last
                                   reset; translated code sets it (its
                                   stores are not all checked there) */
    vm_notes *notes;            /* non-NULL: interp_run notes its shared
                                   accesses here (vm_notes); the caller's,
                                   set per run: NULL after vm_runner_init,
                                   left alone by vm_runner_reset */
} vm_runner;

/* Widens the noted PR bytes to cover [lo, hi) (none when lo >= hi). */
static inline void vm_note_pr_range(vm_runner *r, uint64_t lo, uint64_t hi)
{
    if (lo >= hi)
        return;
    if (lo < r->prw_lo)
        r->prw_lo = lo;
    if (hi > r->prw_hi)
        r->prw_hi = hi;
}

/* Notes the PR part of a write of n bytes (1 to 8) at ea (none when ea
 * lies in the SR; a write straddling the two counts up to DISA_RB).  Low
 * pages go into a bit set, not the byte range: c0 writes its runtime
 * words at 0x2000 and its frames from 0x10000, and one range over both
 * made every reset clear the 12 pages between them. */
static inline void vm_note_pr_write(vm_runner *r, uint64_t ea, unsigned n)
{
    if (ea >= DISA_RB)
        return;
    uint64_t hi = ea + n < DISA_RB ? ea + n : DISA_RB;
    assert(n >= 1 && n <= 8);
    if (hi <= VM_PRW_PAGES * DISA_PAGE) {
        r->prw_pages |= 1ull << (ea / DISA_PAGE) |
                        1ull << ((hi - 1) / DISA_PAGE);
        return;
    }
    if (ea < r->prw_lo)
        r->prw_lo = ea;
    if (hi > r->prw_hi)
        r->prw_hi = hi;
}

/* True when the w bytes at a (a + w <= 2^46) are private memory of
 * every runner, which a noting run does not note: wholly in the PR, and
 * not touching the context page. */
static inline int vm_unnoted_pr(uint64_t a, unsigned w)
{
    return a + w <= DISA_RB &&
           (a + w <= DISA_CTX || a >= DISA_CTX + DISA_PAGE);
}

/* In a noting run (r->notes set): appends the note of an access of w
 * bytes (1 to 8) at ea (in range) that is about to happen -- a load, or
 * with store a store, whose bytes there are read now -- unless the range
 * is private (vm_unnoted_pr, or wholly in r's own stack), repeats the
 * latest note exactly, or the notes are full (then sets overflow). */
void vm_note_access(vm_runner *r, uint64_t ea, unsigned w, int store);

/* Signedness of source o of instruction in (DISA.md 2.3): its type's,
 * unless mov:z / mov:s force zero / sign extension. */
static inline int vm_src_signed(const vm_insn *in, const isa_operand *o)
{
    if (in->op == ISA_OP_MOV && in->opt == ISA_OPT_Z)
        return 0;
    if (in->op == ISA_OP_MOV && in->opt == ISA_OPT_S)
        return 1;
    return isa_type_signed[o->type];
}

/* Prepares r for a runner on win with code; no ranges, no children. */
void vm_runner_init(vm_runner *r, uint8_t *win, const vm_code *code);
/* Gives the chosen stacks of r's children back (r->stacks.release) and
 * clears their flag: for an attempt whose children will not be created
 * (abort, fault, a result never sent). */
void vm_runner_release_stacks(vm_runner *r);
/* Drops ranges and children (keeps the allocations for reuse). */
void vm_runner_reset(vm_runner *r);
/* Frees everything r owns. */
void vm_runner_destroy(vm_runner *r);
/* Adds [lo, hi) to the writable set.  Returns DVM_ENOMEM on failure. */
dvm_status vm_runner_add_writable(vm_runner *r, uint64_t lo, uint64_t hi);
/* Adds the runner's own stack [lo, hi) to the writable set, as
 * vm_runner_add_writable, and notes it as the range own_written watches. */
dvm_status vm_runner_add_own(vm_runner *r, uint64_t lo, uint64_t hi);

/* 1 when r's own stack may have been written since the last reset. */
static inline int vm_own_written(const vm_runner *r)
{
    return r->own_written;
}

/* Checks a write of n bytes at ea (ea < 2^46 and ea + n <= 2^46 already
 * checked by the caller).  Returns VM_FAULT_NONE or the fault. */
int vm_check_write(vm_runner *r, uint64_t ea, unsigned n);

/* Executes newr with the operand values v[0..3].  Returns VM_FAULT_NONE or
 * the fault to raise (the caller records pc); on a fault r->fault_addr is
 * already the offending address (the bad descriptor word), so the caller
 * raises with vm_raise(r, f, pc, r->fault_addr). */
int vm_newr(vm_runner *r, const uint64_t v[4]);

/* Records a fault on r (kind, instruction address, offending address) and
 * returns VM_EXIT_FAULT. */
int vm_raise(vm_runner *r, int fault, uint64_t pc, uint64_t addr);

/* Writes "REASON" text for r's fault into buf (e.g. "memory fault: write to
 * read-only memory at 0x40000010"). */
void vm_fault_describe(const vm_runner *r, char *buf, size_t n);

/* The interpreter: runs from fi until exit or fault.  Returns enum vm_exit.
 * On VM_EXIT_FAULT, r->fault/fault_pc/fault_addr say why.  With r->notes
 * set, the run appends to r->notes a note of each access of shared memory
 * (vm_notes) it made, in program order: operands read and written, the
 * pointer words of indirect and displacement operands (jump operands
 * too), newr's descriptor words and its write of a chosen stack's base. */
int interp_run(vm_runner *r, uint64_t fi);

/* Tiering (jit.c): the interpreter counts, per jump target (branch and
 * call targets, computed jump targets; not the fall-through), the cost of
 * the instructions it ran from there up to the next taken jump (in units
 * of its cheapest instruction, interp_cost), and stops at a
 * target whose count passed `hot`, so that the caller can run translated
 * code from there.  The counts are shared by the runners of one engine; a
 * lost update between threads is harmless. */
typedef struct vm_tier {
    int32_t *count;             /* per insn; owned by the caller */
    const uint32_t *cost;       /* the code's running cost (vm_code.cost) */
    int32_t hot;
} vm_tier;

#define VM_EXIT_HOT 3           /* interp_run_tier stopped: not an exit */

/* Runs r (r->notes NULL: a tiered run does not note) like interp_run,
 * from instruction index i (which exists), but returns VM_EXIT_HOT with
 * *at the index of a jump target whose count passed t->hot, before
 * executing it.  The state to go on with is r's memory and *at. */
int interp_run_tier(vm_runner *r, uint32_t i, const vm_tier *t, uint32_t *at);

#endif
