/*
 * local.h -- the check of a child started where its creator ran.
 *
 * An RComp that commits a runner C may run one of C's children, K, at once
 * on C's snapshot with C's changes on top, before the master has committed
 * C (docs/local_children.md).  K's result comes with notes: every access K
 * made outside its own stack and the private region, with the bytes it
 * found.  A runner's execution is a function of the bytes it reads (DISA
 * has no clock and no random source), so if every byte K read holds, at
 * the epoch of C's commit, the value K saw, then K's run at that snapshot
 * would have read the same bytes, taken the same path, stored the same
 * values and created the same children: its result is its result at that
 * snapshot.  Bytes K stored before reading them are its own and need no
 * check; bytes a store overwrote are checked like reads, because a store
 * of the value a byte already held is no change in K's diff, and is right
 * at the commit's snapshot only if the byte holds that value there too.
 *
 * The context page (DISA.md 5.3) is checked against the context K would
 * have been given: its run id is numbered by the master, so a K that read
 * it is run again.  Input windows and the system page are not versions of
 * the space: a K that read them is run again too.
 */
#ifndef DVM_LOCAL_H
#define DVM_LOCAL_H

#include <stddef.h>
#include <stdint.h>

#include "isa/runner.h"
#include "mem/space.h"
#include "mem/store.h"
#include "net/msg.h"
#include "util/status.h"

/* Scratch of the check, reused from one check to the next. */
typedef struct local_check {
    uint64_t *set;              /* open addressing: stored byte + 1, 0 free */
    size_t cap;                 /* a power of two, or 0 */
} local_check;

/* What K's context page holds at its dispatch. */
typedef struct local_context {
    uint64_t sb, ss, rid, fi, attempt;
} local_context;

void local_check_init(local_check *c);
void local_check_free(local_check *c);

/* Checks notes[0..n) of a child with context ctx against the versions
 * snapshot epoch sees.  Returns 1 when every byte read (and every byte
 * overwritten before the child stored it) holds the noted value there,
 * 0 when one does not or cannot be checked, or DVM_ENOMEM (the caller runs
 * the child again, as for 0). */
int local_valid(local_check *c, const mem_space *sp, const mem_store *st,
                const local_context *ctx, uint64_t epoch,
                const msg_note *notes, size_t n);

#endif
