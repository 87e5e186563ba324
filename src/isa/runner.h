/*
 * runner.h -- what DISA calls a runner, as data: an address range and the
 * runner descriptor that `newr` reads (DISA.md 5.1), and the notes of a
 * runner's accesses that let a speculative run be checked.
 *
 * These are the one definition every layer above shares.  The engines
 * (exec) produce descriptors when a runner executes `newr`; the messages
 * (net) carry them from an RComp to the master; the master (sched) keeps
 * one inside each runner record; the watcher index (sched/watch) indexes
 * their watched ranges.  None of those layers needs another's types for
 * this, so none includes another's headers for it.
 *
 * A descriptor owns its two range arrays.  Ranges are half-open [lo, hi).
 * runner_desc_valid states the DISA 5.1 rules every descriptor that comes
 * from outside a process (a message) must satisfy before it is trusted.
 *
 * DISA 1.1: a stack the DVM chose (the descriptor in memory said sb = 0)
 * is flagged RUNNER_STACK_CHOSEN: it is a block of the stack area that the
 * DVM takes back when the runner is done with it.  Its size is a whole
 * number of pages; the block holding it has 2^runner_stack_order(ss) pages.
 */
#ifndef DVM_RUNNER_H
#define DVM_RUNNER_H

#include <stddef.h>
#include <stdint.h>

/* Heap or watched ranges per runner at most (DISA asks for >= 64). */
#define RUNNER_MAX_RANGES 4096

typedef struct dvm_range {
    uint64_t lo, hi;            /* [lo, hi) */
} dvm_range;

/* The index of the first of the n ranges r, sorted and disjoint (so their
 * ends are sorted too), that ends after a; n when none does. */
static inline size_t dvm_range_first_after(const dvm_range *r, size_t n,
                                           uint64_t a)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid].hi <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* runner_desc.flags */
enum { RUNNER_STACK_CHOSEN = 1 };       /* sb chosen by the DVM (1.1) */

typedef struct runner_desc {
    uint64_t sb, ss, fi;        /* stack base, stack size, entry */
    uint32_t flags;             /* RUNNER_* */
    uint32_t nheap, nwatch;
    dvm_range *heap;            /* owned */
    dvm_range *watch;           /* owned; nwatch > 0 makes it a watcher */
} runner_desc;

/* One memory access of a runner started where its creator ran
 * (sched/local.h): len bytes at addr, and the bytes found there before
 * the access, little-endian as in memory -- what a load read, or what a
 * store overwrote; bytes past len are 0.  The interpreter writes them
 * (exec/vm.h, vm_note), the RComp sends them (net/msg.h, msg_note), the
 * master checks them: one type for all three. */
typedef struct runner_note {
    uint64_t addr;
    uint8_t len;                /* 1 to 8 */
    uint8_t store;              /* 1: a store's overwritten bytes */
    uint8_t bytes[8];
} runner_note;

/* The faults that end a runner (DISA.md 5.4), defined once: the engines
 * raise them, results carry them, the master reports them. */
#define VM_FAULTS(X)                                                  \
    X(NONE,       "no fault")                                         \
    X(MEMORY,     "memory fault: address out of range")               \
    X(ARITH,      "arithmetic fault: division by zero")               \
    X(EXEC,       "execution fault: no instruction at jump target")   \
    X(DESCRIPTOR, "bad runner descriptor")                            \
    X(WRITABLE,   "memory fault: write outside the writable set")     \
    X(READONLY,   "memory fault: write to read-only memory")          \
    X(NOMEM,      "out of memory creating a runner")                  \
    X(NOSTACK,    "no free range of that size in the stack area")

enum vm_fault {
#define VM_FAULT_ENUM(name, text) VM_FAULT_##name,
    VM_FAULTS(VM_FAULT_ENUM)
#undef VM_FAULT_ENUM
    VM_FAULT_COUNT
};

/* The order (log2 of its pages) of the stack-area block that holds a
 * chosen stack of ss bytes (> 0). */
unsigned runner_stack_order(uint64_t ss);

/* Frees d's ranges and zeroes it (a NULL-safe reset). */
void runner_desc_free(runner_desc *d);

/* Takes d's ranges into a new descriptor (d is left empty).  Returns the
 * descriptor that now owns them. */
runner_desc runner_desc_take(runner_desc *d);

/* Returns 1 when d obeys DISA.md 5.1: its stack and every range lie wholly
 * in the SR with length > 0, counts <= RUNNER_MAX_RANGES; a chosen stack
 * is whole pages inside the stack area, aligned to its block. */
int runner_desc_valid(const runner_desc *d);

#endif
