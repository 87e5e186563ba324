/*
 * dpend.h -- the deltas a home node keeps until the master rules on them.
 *
 * A node that relays a result sends the changed bytes of each page to
 * the page's home and backup (DELTA, dist/cmsg.h) before the master has
 * validated the result.  The holder keeps them here, named by the
 * result's tag and the page, until the master tells it the commit's
 * epoch (APPLY): then the new version is its base version with these
 * bytes over it, and the delta goes.  A result that does not commit
 * (a conflict, an abort, its RComp lost) is never named: its deltas stay
 * until they are pushed out, oldest first, beyond DPEND_MAX.  Nothing
 * depends on a delta being here: a holder that lacks one when asked
 * answers NEED, and the master sends the version itself (STORE).
 */
#ifndef DVM_DIST_DPEND_H
#define DVM_DIST_DPEND_H

#include <stddef.h>
#include <stdint.h>

#include "dist/cmsg.h"

/* Deltas kept at most (each at most a mask and a page of bytes). */
#define DPEND_MAX 4096

typedef struct dpend_ent dpend_ent;

typedef struct dpend {
    dpend_ent **ring;           /* cap slots, NULL: empty */
    size_t cap;                 /* DPEND_MAX, more when held */
    size_t head, count;         /* oldest slot; slots used (holes too) */
    uint64_t base;              /* arrival number of the oldest slot */
    dpend_ent **idx;            /* (tag, page) -> its deltas, newest first */
    size_t nidx;                /* buckets: a power of two, 2 * cap */
    int hold;                   /* dpend_hold */
    uint64_t kept, applied, evicted, dropped;
} dpend;

/* An empty set.  DVM_ENOMEM. */
dvm_status dpend_init(dpend *d);
/* Frees every delta and the set. */
void dpend_free(dpend *d);
/* Forgets every delta (a program ended). */
void dpend_clear(dpend *d);
/* hold 1: nothing is pushed out any more, the set grows instead (a
 * masks-only program: the master has no copy of the versions the deltas
 * make, so a delta goes only when applied or dropped); 0: the oldest
 * goes beyond DPEND_MAX (the default). */
void dpend_hold(dpend *d, int hold);
/* Forgets every delta of tag, whole-page form (CMSG_TAG_WHOLE) included:
 * its result will never be applied.  Returns how many went. */
size_t dpend_drop(dpend *d, const cmsg_tag *tag);
/* Calls fn(arg, e) for every delta of tag, whole-page form
 * (CMSG_TAG_WHOLE) included, oldest first; e lives until the set
 * changes.  Returns how many. */
size_t dpend_each(const dpend *d, const cmsg_tag *tag,
                  void (*fn)(void *arg, const cmsg_delta_ent *e), void *arg);
/* Keeps a copy of e (unless held, the oldest goes when full).
 * DVM_ENOMEM: not kept. */
dvm_status dpend_put(dpend *d, const cmsg_delta_ent *e);
/* The delta of (tag, page): written over data (a page) and forgotten;
 * returns 1, or 0 when there is none (data untouched).  The newest of
 * equal names wins, and the older ones (the same delta sent again) go
 * with it, counted as dropped.  The other form of each (whole page or
 * changed bytes, CMSG_TAG_WHOLE), when it came right beside it, goes
 * too: it will never be asked for. */
int dpend_apply(dpend *d, const cmsg_tag *tag, uint64_t page, uint8_t *data);

#endif
