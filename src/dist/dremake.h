/*
 * dremake.h -- versions only their holders can make, watched until they
 * keep them.
 *
 * In a masks-only program (dist/cmsg.h, CMSG_START_MASKS_ONLY) the master
 * places a commit's versions at their holders without data (APPLY): each
 * holder makes the version from its base and the committing node's delta.
 * The gate (dist/dheld.h) lets a result commit once one current holder
 * other than its committing node reported the delta held; the other gets
 * the version from it (PULL).  When that holder goes before the other
 * pulled the version, or the holders change before either made it (a
 * node lost, two leaving one after the other, a delta to a holder still
 * connecting dropped), no live holder has the delta any more, and the
 * version would wait for ever -- although the committing node still keeps
 * its delta (the node's `sent` set, for DRESEND).
 *
 * So the master notes every version it placed that way (page, epoch, the
 * base it applies to, the tag that names the delta and its form) and
 * looks at the notes now and then: a version that every holder it has
 * now keeps, or that was collected, is forgotten; one still not kept
 * DREMAKE_FIRST_NS after it was placed is *made again*: the master sends
 * its APPLY again to each holder that has not acknowledged it and asks
 * the committing node to send the delta again to the holders it has now
 * (DRESEND).  A holder that already made it only acknowledges it again.
 * The next look comes after twice the wait, up to DREMAKE_WAIT_MAX_NS.
 *
 * A list in placement order (epoch order); its length is the versions not
 * yet kept by every holder, which in a healthy cluster is the last few
 * milliseconds of commits.
 */
#ifndef DVM_DIST_DREMAKE_H
#define DVM_DIST_DREMAKE_H

#include <stddef.h>
#include <stdint.h>

#include "dist/cmsg.h"
#include "util/status.h"

/* The wait before a version not kept by every holder is made again, and
 * the longest wait between two such attempts (it doubles). */
#define DREMAKE_FIRST_NS 500000000ull
#define DREMAKE_WAIT_MAX_NS 8000000000ull

typedef struct dremake_ent {
    uint64_t page, epoch;
    uint64_t base;              /* the version it applies to (0: none) */
    cmsg_tag tag;               /* its delta; attempt | CMSG_TAG_WHOLE:
                                   the committing node's whole page */
    uint64_t due_ns;            /* looked at again then */
    uint64_t wait_ns;           /* the wait after that */
} dremake_ent;

typedef struct dremake {
    dremake_ent *v;
    size_t n, cap;
} dremake;

/* The fate of a noted version (dremake_ops.state). */
enum { DREMAKE_WAITS, DREMAKE_DONE };

typedef struct dremake_ops {
    /* DREMAKE_DONE when every holder keeps (page, epoch) now, or it was
     * collected: forgotten; else DREMAKE_WAITS. */
    int (*state)(void *arg, const dremake_ent *e);
    /* Makes e again (its APPLY to the holders that lack it, DRESEND). */
    void (*remake)(void *arg, const dremake_ent *e);
    void *arg;
} dremake_ops;

/* An empty list (no allocation until the first note). */
void dremake_init(dremake *r);
void dremake_free(dremake *r);
/* Forgets every note (a new program). */
void dremake_clear(dremake *r);
/* Notes version (page, epoch) of base `base`, placed at now_ns and made
 * from the delta of tag t.  DVM_ENOMEM: not noted (the version is not
 * watched; nothing else changes). */
dvm_status dremake_note(dremake *r, uint64_t page, uint64_t epoch,
                        uint64_t base, const cmsg_tag *t, uint64_t now_ns);
/* Looks at every note at now_ns: those ops->state says are done are
 * forgotten; of the others, those due are passed to ops->remake and are
 * due again after twice their last wait.  Returns how many were made
 * again. */
size_t dremake_run(dremake *r, uint64_t now_ns, const dremake_ops *ops);

#endif
