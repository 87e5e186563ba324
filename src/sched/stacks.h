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
 * Not thread safe (the master is one thread).
 */
#ifndef DVM_STACKS_H
#define DVM_STACKS_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

#define STACKS_RUNNER 0u        /* owner tag of a runner's stack */

typedef struct stacks stacks;

/* An allocator for [base, base + 4096 << max_order); base 4096-aligned,
 * max_order <= 40.  On success *out owns it. */
dvm_status stacks_create(uint64_t base, unsigned max_order, stacks **out);
void stacks_destroy(stacks *s);

/* Allocates a block of 4096 << order bytes for owner; sets *base.
 * DVM_ERANGE (with a message) when no free block is large enough,
 * DVM_ENOMEM when the bookkeeping cannot grow. */
dvm_status stacks_alloc(stacks *s, unsigned order, uint32_t owner,
                        uint64_t *base);
/* Frees the allocated block at base.  DVM_EINVAL when base is not the start
 * of an allocated block (nothing changes). */
dvm_status stacks_free(stacks *s, uint64_t base);
/* True when base starts an allocated block of that order owned by owner. */
int stacks_owned(const stacks *s, uint64_t base, unsigned order,
                 uint32_t owner);
/* Gives the allocated block at base to owner.  DVM_EINVAL if none. */
dvm_status stacks_set_owner(stacks *s, uint64_t base, uint32_t owner);
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
