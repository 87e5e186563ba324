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
 * Two queues, each in the order of its notes' due times: the notes as
 * made, each due DREMAKE_FIRST_NS after it was made, and the notes made
 * again, each due after its longer wait and not before the note ahead of
 * it (so at most DREMAKE_WAIT_MAX_NS later than its wait).  So a look
 * takes only the due notes from the fronts, and a version costs one look
 * in a healthy cluster, however many commits there are: the first queue
 * holds the last DREMAKE_FIRST_NS of placed versions (~70,000 notes,
 * 5 MB, at 140,000 commits a second).
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

/* A queue of notes, v[head .. n), in the order of their due times. */
typedef struct dremake_queue {
    dremake_ent *v;
    size_t head, n, cap;
} dremake_queue;

typedef struct dremake {
    dremake_queue fresh;        /* as noted: due DREMAKE_FIRST_NS later */
    dremake_queue again;        /* made again: due after their waits */
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
 * from the delta of tag t.  Notes come in the order of their epochs and
 * times (now_ns from a monotonic clock).  DVM_ENOMEM: not noted (the
 * version is not watched; nothing else changes). */
dvm_status dremake_note(dremake *r, uint64_t page, uint64_t epoch,
                        uint64_t base, const cmsg_tag *t, uint64_t now_ns);
/* Takes the notes due at now_ns: those ops->state says are done are
 * forgotten, the others passed to ops->remake and due again after twice
 * their last wait (at most DREMAKE_WAIT_MAX_NS).  Notes not due are not
 * looked at.  Returns how many were made again. */
size_t dremake_run(dremake *r, uint64_t now_ns, const dremake_ops *ops);
/* The notes held (versions not known to be kept by every holder). */
size_t dremake_count(const dremake *r);
/* The note of version (page, epoch), or NULL; valid until the next call
 * that changes r.  Notes are made in the order of their epochs (a binary
 * search finds them among those as made; those made again are few). */
const dremake_ent *dremake_find(const dremake *r, uint64_t page,
                                uint64_t epoch);

#endif
