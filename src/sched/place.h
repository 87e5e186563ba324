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
 *     each gets a share in proportion to its speed (place_share): the
 *     rate at which it finished runners lately (place_note: the time
 *     from one runner's end to the next one's, on the RComp's own clock,
 *     so it counts the window reset, page fetches and result messages
 *     between runners, not only the runners).  A node on a slower or
 *     busier host then holds less of the last runners of a run, which
 *     the others would otherwise wait for.
 *   - Order.  Among the RComps due a refill, the one that would start a
 *     runner sent now soonest is served first (place_order: its runners
 *     in flight times its time per runner, plus half its round trip), so
 *     that the few runners of a narrow phase go where they start first.
 *
 * An RComp that finished nothing yet takes the average of the others
 * (or of the whole set); before any runner ended everywhere every RComp
 * counts as equally fast, and the batches are those of a set-wide
 * average (the embedded DVM's RComps are alike, and so are its batches).
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

/* What placement knows of one RComp. */
typedef struct place_rcomp {
    uint64_t cost_ns;           /* moving average of the time from one
                                   runner's end to the next (or of a
                                   runner's run when it started idle);
                                   0: none yet */
    uint64_t last_end_ns;       /* the last runner's end (its clock);
                                   0: it had nothing more in flight */
    uint64_t net_ns;            /* the round trip to its host; 0: local
                                   or not measured */
} place_rcomp;

/* Records that r finished a runner that ran [t_start, t_end) on its own
 * clock; busy is 1 when r still has runners in flight after it (the next
 * one's cost will be counted from t_end). */
void place_note(place_rcomp *r, uint64_t t_start, uint64_t t_end, int busy);

/* The most runners an RComp with round trip net_ns is given at a time,
 * when runners run runner_ns on average (0: not known): PLACE_QUEUE_NS
 * plus two round trips of runner time, at least PLACE_BATCH_MIN, at most
 * max. */
size_t place_cap(uint64_t runner_ns, uint64_t net_ns, size_t max);

/* r's time per runner: its own, or fallback_ns when it has none (0: not
 * known either). */
uint64_t place_cost(const place_rcomp *r, uint64_t fallback_ns);

/* The share of `ready` runners that an RComp of time per runner cost_ns
 * gets when the RComps that take work have speeds (runners per second,
 * 1e9 / cost) summing to speed_sum: at least 1 when ready > 0.  cost_ns
 * 0 or speed_sum 0 (nothing measured): ready / n_equal. */
size_t place_share(size_t ready, uint64_t cost_ns, double speed_sum,
                   size_t n_equal);

/* When an RComp would start a runner sent now, from now: half its round
 * trip plus inflight runners of cost_ns each. */
uint64_t place_start_ns(uint64_t net_ns, size_t inflight, uint64_t cost_ns);

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
