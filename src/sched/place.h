/*
 * place.h -- how much work each RComp is given, and which first.
 *
 * The master gives RComps ready runners in batches and refills an RComp
 * when half of what it holds is left (master.c, dispatch).  Three things
 * decide the batches, and this module is the arithmetic of them, kept
 * apart from the loop so that it can be tested on its own:
 *
 *   - Depth.  An RComp holds about PLACE_QUEUE_NS of runner time, so
 *     that it stays busy while the master handles the results of the
 *     other half.  On a cluster a refill reaches the RComp one network
 *     round trip after the RComp's last result left it, so an RComp on
 *     another host holds two round trips more (place_cap): under a
 *     200 µs link delay it would otherwise sit idle for most of each
 *     refill.
 *   - Share.  When fewer runners are ready than the RComps could hold,
 *     each gets a share in proportion to its speed (place_share).  An
 *     RComp's speed is how long its runners take against how long the
 *     same runners (those of the same entry point) take on all RComps
 *     (place_note: a ratio of moving sums, its "factor"), with a
 *     runner's time counted from the end of the one before it on that
 *     RComp while it is busy, on the RComp's own clock, so that it counts
 *     the window reset, page fetches and result messages between runners.
 *     Runners of one program differ by orders of magnitude (k-means'
 *     chunks and its combining runner), so a plain average per RComp
 *     would call slow the one that ran the long runner; against the same
 *     runners elsewhere it does not.  A node on a slower or busier host
 *     then holds less of the last runners of a run or a phase, which the
 *     others would otherwise wait for.
 *   - Order.  Among the RComps due a refill, the one that would start a
 *     runner sent now soonest is served first (place_order: its runners
 *     in flight times the set's time per runner times its factor, plus
 *     half its round trip), so that the few runners of a narrow phase go
 *     where they start first.
 *
 * On a cluster two more rules use these figures (master.c, "links"): an
 * RComp passes a runner over when its host's link would fetch it much
 * slower than another RComp's would and that one would start it sooner
 * (each RComp's own time per runner, own_ns, sizes its queue there), and
 * a host that gave no result yet in a run with inputs is sent
 * PLACE_BATCH_FRESH runners at a time.
 *
 * An RComp not measured yet takes the mean factor of those measured;
 * before any is measured every RComp counts as equally fast, and the
 * batches are those of a set-wide average (the embedded DVM's RComps are
 * alike, and so are its batches).
 * Pure computation: no allocation, no I/O.
 */
#ifndef DVM_SCHED_PLACE_H
#define DVM_SCHED_PLACE_H

#include <stddef.h>
#include <stdint.h>

/* The runner time an RComp is given at a time, and the fewest runners it
 * is given when they are long. */
#define PLACE_QUEUE_NS 200000
#define PLACE_BATCH_MIN 16
/* The most runners an RComp on a host that gave no result yet in this
 * run is given at a time (master_remote.fresh): until its first result
 * nothing says how slow its link is, and a full batch of runners that
 * fetch their input over a slow link would hold a phase up for seconds
 * (docs/performance.md, "A slow link"). */
#define PLACE_BATCH_FRESH 2

#define PLACE_ONE 1024          /* a factor of 1: as fast as the set */
#define PLACE_KINDS 256         /* entry points remembered (a power of 2) */

/* The time runners of one entry point take, over all RComps.  A kind
 * that ran on one RComp only says nothing of that RComp's speed against
 * the others, and counts in no factor until another ran it too. */
typedef struct place_kind {
    uint64_t entry;
    uint64_t avg_ns;            /* moving average; 0: slot unused */
    int first;                  /* the RComp that ran it first */
    int mixed;                  /* another RComp ran it since */
} place_kind;

/* What placement knows of the whole set of RComps: the runners' average
 * run time (1/8 weight; their own runs, without what lies between them:
 * batches are sized by it) and the runner kinds, a direct-mapped table by
 * entry point (a collision replaces the kind; its next runners start it
 * again). */
typedef struct place_set {
    uint64_t runner_ns;         /* 0: no runner ended yet */
    place_kind v[PLACE_KINDS];
} place_set;

#define PLACE_WEIGHT (1.0 / 16)  /* of a runner in an RComp's sums */

/* What placement knows of one RComp. */
typedef struct place_rcomp {
    uint32_t factor;            /* took / want, PLACE_ONE: as fast as the
                                   set; 0: nothing measured yet */
    double took;                /* moving sum of its runners' times */
    double want;                /* moving sum of the same runners' average
                                   times over the set */
    uint64_t last_end_ns;       /* the last runner's end (its clock);
                                   0: it had nothing more in flight */
    uint64_t own_ns;            /* its own time per runner, counted as
                                   for its factor (1/8 weight; 0: none
                                   ended yet): what its queue will take
                                   (master.c, "links") */
} place_rcomp;

/* Records that r (RComp number id of set k) finished a runner of entry
 * point `entry` that ran [t_start, t_end) on r's clock; busy is 1 when r
 * still has runners in flight after it (the next one's time counts from
 * t_end).  Updates k's average run time, the kind's average, r's own
 * time per runner, and r's sums and factor (a runner counts at most 8 times and at least 1/8 of its
 * kind's average, so one outlier -- a translation, a page fault storm --
 * moves the factor little). */
void place_note(place_rcomp *r, int id, place_set *k, uint64_t entry,
                uint64_t t_start, uint64_t t_end, int busy);

/* The most runners an RComp with round trip net_ns is given at a time,
 * when runners run runner_ns on average (0: not known): PLACE_QUEUE_NS
 * plus two round trips of runner time, at least PLACE_BATCH_MIN, at most
 * max. */
size_t place_cap(uint64_t runner_ns, uint64_t net_ns, size_t max);

/* r's factor, or `fallback` when it has none yet (the mean of those that
 * have one: a factor is relative, and the first runners of a kind, which
 * translate its code, make the kind's average high and every factor
 * below PLACE_ONE for a while); PLACE_ONE when fallback is 0. */
uint32_t place_factor(const place_rcomp *r, uint32_t fallback);

/* The share of `ready` runners that an RComp of factor f gets when the
 * RComps that take work have speeds (PLACE_ONE / factor) summing to
 * speed_sum: at least 1 when ready > 0; speed_sum 0 (nothing weighed):
 * ready / n_equal. */
size_t place_share(size_t ready, uint32_t f, double speed_sum,
                   size_t n_equal);

/* When an RComp of factor f would start a runner sent now, from now:
 * half its round trip plus inflight runners of runner_ns times f. */
uint64_t place_start_ns(uint64_t net_ns, size_t inflight, uint64_t runner_ns,
                        uint32_t f);

/* An RComp due a refill: when it would start a runner sent now, and how
 * many runners it is to be sent. */
typedef struct place_pick {
    uint64_t start_ns;
    int slot;
    size_t n;
} place_pick;

/* Sorts v[0, n) by start_ns, soonest first, ties by slot (the lower slot
 * first, as dispatch always went). */
void place_order(place_pick *v, size_t n);

#endif
