/*
 * jit_find.h -- which instructions a translated region holds, found
 * without LLVM.
 *
 * The engine (jit.c) sizes a hot region before it decides to translate
 * it (the threshold grows with the region's size), and with a shared
 * cache it does so before it knows whether another RComp's translation
 * will be there to load.  Finding the region needs nothing of LLVM, so it
 * lives here, in the binary: only the process that translates loads
 * dvm-jit.so (jit_backend.h).  The builder (jit_region.c, in the module)
 * uses the same finder, so the size the engine saw is the size built.
 * The builder also asks here which branches guard a running extremum
 * (a question of code shape, like the region's).
 */
#ifndef DVM_JIT_FIND_H
#define DVM_JIT_FIND_H

#include <stddef.h>
#include <stdint.h>

#include "exec/code.h"

/* Bits of a region's per-insn flags. */
enum {
    JIT_IN_REGION = 1,          /* in the region */
    JIT_IN_CASE = 2,            /* ... and a dispatch target (entry, return
                                 * points of bls) */
    JIT_IN_LOOP = 4             /* scratch of the finder; clear on return */
};

/* Finds the region of entry (docs in jit_region.c): sets flags[i] (zero
 * on entry, code->ninsns bytes) to JIT_IN_* bits for each insn of it and
 * lists them in discovery order in list[0..max); returns how many (at
 * most max, at least 1). */
size_t jit_find_region(const vm_code *code, uint32_t entry, size_t max,
                       uint8_t *flags, uint32_t *list);

/* The number of instructions the region of entry would hold (at most
 * region_max), or 0 out of memory. */
size_t jit_find_size(const vm_code *code, uint32_t entry, size_t region_max);

/* The most movs a running extremum's guard may skip. */
enum { JIT_EXTREMUM_MOVS = 4 };

/* True when insn i is a conditional `br` that guards a running extremum:
 * a forward jump over 1..JIT_EXTREMUM_MOVS movs that fall through to its
 * target, one of which copies one compared word into the other
 * (`br:ge d, best, skip; mov d, best; mov c, at; skip:`).  Over a scan
 * such an update is rare (about ln n times in n for values in random
 * order), so the translator marks the skip likely: then LLVM keeps the
 * branch, which the CPU predicts, rather than a select, which puts the
 * compare on the loop's critical path.  A heuristic of layout and of
 * select-or-branch only: it changes no result. */
int jit_find_extremum_guard(const vm_code *code, uint32_t i);

#endif
