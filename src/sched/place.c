/*
 * place.c -- the arithmetic of batches: depth, share, order (place.h).
 *
 * The moving averages weigh a new sample 1/8, as the set-wide runner
 * time does (rcomps.c, note_duration): a few dozen runners move them, a
 * single slow one (a page fault storm, a preempted process) does not.
 */
#include <assert.h>
#include <stdlib.h>

#include "sched/place.h"

void place_note(place_rcomp *r, uint64_t t_start, uint64_t t_end, int busy)
{
    uint64_t from = t_start;
    if (r->last_end_ns && r->last_end_ns < t_start)
        from = r->last_end_ns;      /* it went on from the last one's end */
    uint64_t d = t_end > from ? t_end - from : 0;
    r->cost_ns = r->cost_ns ? r->cost_ns - r->cost_ns / 8 + d / 8 : d + 1;
    r->last_end_ns = busy ? t_end : 0;
    assert(r->cost_ns > 0);
}

size_t place_cap(uint64_t runner_ns, uint64_t net_ns, size_t max)
{
    assert(max >= PLACE_BATCH_MIN);
    if (!runner_ns)
        return PLACE_BATCH_MIN;
    uint64_t n = (PLACE_QUEUE_NS + 2 * net_ns) / runner_ns;
    return n < PLACE_BATCH_MIN ? PLACE_BATCH_MIN
         : n > max ? max : (size_t)n;
}

uint64_t place_cost(const place_rcomp *r, uint64_t fallback_ns)
{
    return r->cost_ns ? r->cost_ns : fallback_ns;
}

size_t place_share(size_t ready, uint64_t cost_ns, double speed_sum,
                   size_t n_equal)
{
    if (!ready)
        return 0;
    double share = cost_ns && speed_sum > 0
                   ? (double)ready * (1e9 / (double)cost_ns) / speed_sum
                   : (double)ready / (double)(n_equal ? n_equal : 1);
    if (share < 1)
        return 1;
    return share >= (double)ready ? ready : (size_t)share;
}

uint64_t place_start_ns(uint64_t net_ns, size_t inflight, uint64_t cost_ns)
{
    return net_ns / 2 + (uint64_t)inflight * cost_ns;
}

static int pick_cmp(const void *a, const void *b)
{
    const place_pick *x = a, *y = b;
    if (x->start_ns != y->start_ns)
        return x->start_ns < y->start_ns ? -1 : 1;
    return (x->slot > y->slot) - (x->slot < y->slot);
}

void place_order(place_pick *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, pick_cmp);
}
