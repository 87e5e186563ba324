/*
 * rcb.h -- the runner record: everything the master knows of a runner, and
 * the places a record can be.
 *
 * A record (rcb) is created when the DVM makes a runner (the first runner,
 * or a child admitted at its creator's commit) and freed when the runner
 * has finished.  At any moment it is in exactly one place:
 *
 *   pool.ready              schedulable, in FIFO order
 *   pool.unstable           the cluster (a gated pool): made schedulable by
 *                           a commit not yet stable, waits until it is
 *                           (rcb_pool_release), in FIFO order
 *   pool.exclusive          conflicted COMMIT_CONFLICT_LIMIT times: waits to
 *                           run alone (the progress guarantee)
 *   pool.watching           a watcher in the watcher index (a list, so the
 *                           index's ids map back to records)
 *   an RComp's ring         dispatched, in dispatch order; the oldest is the
 *                           one running.  pool.running_exclusive points at
 *                           it when it was taken from pool.exclusive.
 *
 * The ring is fixed size (RCB_RING_MAX): an RComp never has more runners in
 * flight.  Results come back in dispatch order, so a result always names
 * the ring's oldest record, and anything else is a protocol violation.
 */
#ifndef DVM_SCHED_RCB_H
#define DVM_SCHED_RCB_H

#include <stddef.h>
#include <stdint.h>

#include "isa/runner.h"

/* Most runners in flight on one RComp (the master sends fewer unless
 * runners are short: master.c, dispatch). */
#define RCB_RING_MAX 64

typedef struct rcb {
    uint64_t rid, attempt;
    runner_desc d;              /* stack, entry, heap and watched ranges */
    uint64_t watch_from;        /* creator's snapshot (watchers) */
    uint64_t snap;              /* snapshot of the current attempt */
    uint32_t lost;              /* RComps that died while running it */
    uint8_t placed_new;         /* its last dispatch went to a host that
                                   had not run its identity (a cluster's
                                   master_remote.placed) */
    uint64_t ready_ns;          /* when a commit made it schedulable (0:
                                   the first runner), for trace flows */
    uint64_t t_dispatch;        /* last dispatch (when observed) */
    uint32_t claim_seq;         /* its number on its RComp's claim board
                                   (net/claim.h), while in a ring */
    uint32_t stack_home;        /* the stacks owner tag of the RComp it
                                   was last offered to (0: none), whose
                                   grants prefer its chosen stack once it
                                   is free (stacks.h) */
    uint8_t local;              /* started at once by its creator's RComp
                                   (sched/local.h): in that RComp's ring
                                   until its result is checked */
    uint64_t local_epoch;       /* then: its creator's commit, the
                                   snapshot its notes are checked at */
    uint64_t need;              /* in pool.unstable, once a release saw it:
                                   the epoch it must see (at least the
                                   commit that made it ready) */
    struct rcb *next;           /* queue link */
    struct rcb *wprev, *wnext;  /* pool.watching list */
    struct rcb_pool *pool;      /* the pool that made it (its journal) */
    size_t jslot;               /* 1 + its entry in the journal; 0: none */
} rcb;

typedef struct rcb_queue {
    rcb *head, *tail;
    size_t n;
} rcb_queue;

/* An RComp's in-flight runners, oldest first. */
typedef struct rcb_ring {
    rcb *slot[RCB_RING_MAX];
    size_t head, n;
} rcb_ring;

/* An entry of the pool's journal: record rid changed (r) or is gone
 * (r NULL) since the journal was last drained. */
typedef struct rcb_jent {
    uint64_t rid;
    struct rcb *r;
} rcb_jent;

typedef struct rcb_pool {
    uint64_t next_rid;          /* run ids: 1, 2, ... */
    int journaling;             /* keep the journal (a store saves it) */
    rcb_jent *journal;          /* each record at most once */
    size_t njournal, capjournal;
    int journal_oom;            /* an entry was lost: save everything */
    rcb_queue ready;
    rcb_queue exclusive;
    rcb_queue *made;            /* where runners made ready go: &ready, or
                                   &unstable in a gated pool */
    rcb *running_exclusive;     /* in some ring, or NULL */
    rcb *watching;              /* watchers in the index */
    size_t nwatching;
    /* The cluster's gate (gated 1; the embedded DVM leaves it alone):
     * snapshots take the stable epoch, snap, not the newest one. */
    int gated;
    rcb_queue unstable;         /* ascending need */
    rcb *tagged;                /* the last of unstable whose need is set;
                                   NULL: none */
    size_t nseen;               /* the first nseen of unstable were there at
                                   the last release */
    uint64_t snap;              /* the epoch dispatch gives snapshots: the
                                   newest stable one seen, never lower */
    uint64_t waited;            /* runners released that a release before
                                   had left waiting */
} rcb_pool;

/* ---- records ---- */

/* A zeroed record with the pool's next run id, or NULL (out of memory). */
rcb *rcb_new(rcb_pool *p);
/* Frees r and its descriptor (NULL-safe); journaled as gone. */
void rcb_free(rcb *r);
/* r changed in a way a store keeps (attempt, lost count, watching): noted
 * in its pool's journal when the pool keeps one. */
void rcb_touch(rcb *r);
/* True when r is in p's watching list. */
int rcb_is_watching(const rcb_pool *p, const rcb *r);

/* ---- FIFO queues (records not owned while queued elsewhere) ---- */

void rcb_push(rcb_queue *q, rcb *r);
void rcb_push_front(rcb_queue *q, rcb *r);
/* Removes and returns the head, or NULL when q is empty. */
rcb *rcb_pop(rcb_queue *q);
/* Removes and returns the record after prev (prev NULL: the head), which
 * must exist. */
rcb *rcb_take_after(rcb_queue *q, rcb *prev);
/* Scores the first `look` records of q (score(arg, r): 0, 1 or 2; 2 is
 * the best there is and ends the scan) and returns the first of the
 * highest score, the head when every score is 0, left in q, with *prev
 * the record before it (NULL: it is the head; rcb_take_after takes it);
 * NULL when q is empty. */
rcb *rcb_peek_preferred(const rcb_queue *q, size_t look,
                        int (*score)(void *arg, const rcb *r), void *arg,
                        rcb **prev);
/* Frees every queued record. */
void rcb_queue_free(rcb_queue *q);

/* ---- in-flight rings ---- */

/* Appends r (the ring must have room). */
void rcb_ring_push(rcb_ring *g, rcb *r);
/* The k-th oldest (k < n). */
rcb *rcb_ring_at(const rcb_ring *g, size_t k);
/* Puts r before the oldest (there is room). */
void rcb_ring_push_front(rcb_ring *g, rcb *r);
/* Removes and returns the oldest, or NULL when empty. */
rcb *rcb_ring_pop(rcb_ring *g);
/* Removes and returns the newest record (one taken back before its RComp
 * started it: master.c, "taking back"), or NULL when g is empty. */
rcb *rcb_ring_pop_newest(rcb_ring *g);
/* Removes and returns the oldest if its run id is rid, else NULL. */
rcb *rcb_ring_pop_rid(rcb_ring *g, uint64_t rid);
/* Removes and returns the k-th oldest (k < n); the others keep their
 * order. */
rcb *rcb_ring_take(rcb_ring *g, size_t k);
/* The runner of run id rid in g, oldest first, or NULL. */
const rcb *rcb_ring_find(const rcb_ring *g, uint64_t rid);
/* Smallest snapshot in the ring, or `bound` if none is smaller. */
uint64_t rcb_ring_oldest_snap(const rcb_ring *g, uint64_t bound);

/* ---- the pool ---- */

void rcb_pool_init(rcb_pool *p);
/* Frees every record the pool holds (not the ones in rings). */
void rcb_pool_destroy(rcb_pool *p);
/* r has left its ring without finishing (its RComp was lost, or its result
 * was refused): back at the head of its queue, unchanged. */
void rcb_pool_requeue(rcb_pool *p, rcb *r);
/* r's attempt conflicted: it runs again with attempt + 1 (in p->made: in a
 * gated pool once the newest commit is stable, since a snapshot before the
 * commit it conflicted with would only conflict again), alone after
 * `limit` conflicts. */
void rcb_pool_retry(rcb_pool *p, rcb *r, uint32_t limit);
/* r has left its ring for good (finished): clears running_exclusive. */
void rcb_pool_done(rcb_pool *p, const rcb *r);
/* The journal: records made, changed or freed since the last drain (see
 * sched/persist.h).  Entries of drained records are forgotten. */
void rcb_journal_start(rcb_pool *p);
void rcb_journal_clear(rcb_pool *p);

/* ---- the cluster's gate ----
 * On the cluster a snapshot is the stable epoch -- every commit up to it
 * is stored at its pages' homes -- not the newest one, so that a node
 * finds every version a snapshot names at its homes.  A runner made
 * schedulable by commit E (a child of E's runner, a watcher E woke, an
 * attempt that conflicted with E or an earlier one) must see E, since
 * its input is on its stack: the commit point puts it in p->made, which
 * is pool.unstable in a gated pool, and the next release notes the newest
 * epoch as the one it waits for (E or a later commit made before that
 * release: no earlier snapshot sees E); it goes once a release finds that
 * epoch stable.  So the commit point does the same work with or without a
 * gate.  Epochs only grow, so the queue is in need order and a release
 * takes from its head only.  The embedded DVM, where every epoch is
 * stable at once, never gates. */

/* Makes p gated: runners made ready from now on wait in pool.unstable. */
void rcb_pool_gate(rcb_pool *p);
/* Gated pool p: r, made schedulable by commit `epoch`, waits for it
 * (epoch no lower than any waiting runner's). */
void rcb_pool_hold(rcb_pool *p, rcb *r, uint64_t epoch);
/* Gated pool p: commits up to `stable` are stable, and `newest` is the
 * newest.  The runners made ready since the last release wait for newest;
 * the snapshot epoch p->snap becomes stable when higher, and the waiting
 * runners whose epoch is at most p->snap join the ready queue, in order
 * (one that an earlier release left waiting counts once in p->waited).
 * Returns p->snap. */
uint64_t rcb_pool_release(rcb_pool *p, uint64_t stable, uint64_t newest);

/* Links watcher w into / out of the watching list. */
void rcb_pool_watch(rcb_pool *p, rcb *w);
void rcb_pool_unwatch(rcb_pool *p, rcb *w);

#endif
