/*
 * stacks.h -- the allocator of the stack area (DISA 1.1, DISA.md 5.1).
 *
 * `newr` with sb = 0 asks the DVM for a stack.  The master owns the stack
 * area and hands out blocks of 2^order pages, aligned to their size (a
 * buddy allocator): allocation takes the smallest free block that fits and
 * splits it, freeing merges a block with its free buddy, so ranges are
 * reused and the area does not fragment into unusable pieces however many
 * runners a program creates over its life.
 *
 * Every allocated block has an owner tag: STACKS_RUNNER for a block that a
 * runner the master knows of holds (its stack), or k > 0 for a block granted
 * to the RComp in slot k - 1 and not yet used by a committed newr.  The
 * master checks with stacks_owned that a child's stack was granted to the
 * RComp that reports it, and frees all of an RComp's grants when it is lost.
 *
 * A block whose runner has finished is not reusable at once: its bytes
 * were last written by the commit of its runner's creator, and a creator
 * running on an older snapshot that wrote them again (its own child's
 * input) would conflict with that commit for nothing.  So stacks_retire
 * parks it (owner STACKS_LIMBO) with the epoch it was freed at, and
 * stacks_reclaim frees the parked blocks whose epoch no snapshot in use
 * predates: every creator that can get the block then reads it as of
 * after its last write.  A block retired with a home (the RComp that ran
 * its runner) is remembered as that RComp's when it is freed, and the
 * next blocks granted to it are those, newest first, while they are still
 * free: its first page is likely still mapped in that RComp's window, as
 * the version its runner read, so the next child there that gets it
 * costs a memset, not a page fault and a copy (rcomp/stacks.c).  The
 * block itself is free like any other (another owner may take it, a
 * buddy merge with it): a preference, so that no RComp ever holds blocks
 * it did not ask for.
 *
 * Not thread safe (the master is one thread).
 */
#ifndef DVM_STACKS_H
#define DVM_STACKS_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

#define STACKS_RUNNER 0u        /* owner tag of a runner's stack */
#define STACKS_LIMBO 0xFFFFFFFEu /* retired, waiting for stacks_reclaim */

typedef struct stacks stacks;

/* An allocator for [base, base + 4096 << max_order); base 4096-aligned,
 * max_order <= 40.  On success *out owns it. */
dvm_status stacks_create(uint64_t base, unsigned max_order, stacks **out);
void stacks_destroy(stacks *s);

/* Allocates a block of 4096 << order bytes for owner; sets *base: the
 * newest still free of those its RComp last ran on (stacks_retire's
 * home), else any.  DVM_ERANGE (with a message) when no free block is
 * large enough, DVM_ENOMEM when the bookkeeping cannot grow. */
dvm_status stacks_alloc(stacks *s, unsigned order, uint32_t owner,
                        uint64_t *base);
/* Allocates the block of 4096 << order bytes at base for owner (a saved
 * state coming back).  DVM_EINVAL (with a message) when base is not the
 * aligned start of such a block or the block is not free; DVM_ENOMEM when
 * the bookkeeping cannot grow. */
dvm_status stacks_claim(stacks *s, uint64_t base, unsigned order,
                        uint32_t owner);
/* Frees the allocated block at base.  DVM_EINVAL when base is not the start
 * of an allocated block (nothing changes). */
dvm_status stacks_free(stacks *s, uint64_t base);
/* True when base starts an allocated block of that order owned by owner. */
int stacks_owned(const stacks *s, uint64_t base, unsigned order,
                 uint32_t owner);
/* Gives the allocated block at base to owner.  DVM_EINVAL if none. */
dvm_status stacks_set_owner(stacks *s, uint64_t base, uint32_t owner);
/* Retires the allocated block at base, freed at `epoch` (every write to
 * it committed at or before it): owner STACKS_LIMBO until stacks_reclaim
 * is called with an epoch at least this one.  home: the owner whose
 * grants should prefer it once it is free (the RComp that ran its
 * runner, whose window still maps it), or 0.  DVM_EINVAL if base is not
 * an allocated block.  Should its bookkeeping fail for want of memory,
 * the block is freed at once (correct: it only risks a conflict). */
dvm_status stacks_retire(stacks *s, uint64_t base, uint64_t epoch,
                         uint32_t home);
/* Frees the retired blocks whose epoch is <= oldest (the oldest snapshot
 * any runner uses, or will use), remembering each as its home's; returns
 * how many. */
size_t stacks_reclaim(stacks *s, uint64_t oldest);

/* Frees every block of owner; returns how many. */
size_t stacks_free_owner(stacks *s, uint32_t owner);
/* Bytes in allocated blocks. */
uint64_t stacks_in_use(const stacks *s);
/* Bytes in the blocks of owner (a scan of every block: for the end of a
 * run and for tests). */
uint64_t stacks_owner_bytes(const stacks *s, uint32_t owner);
/* Number of free blocks (a measure of fragmentation, for tests). */
size_t stacks_free_blocks(const stacks *s);

#endif
