/*
 * place.c -- the arithmetic of batches: depth, share, order (place.h).
 *
 * A kind's average weighs a new sample 1/8, as the set's run time does.  An RComp's factor is a ratio of two
 * moving sums (PLACE_WEIGHT), the time its runners took and the time the
 * same runners took on average, not an average of per-runner ratios: on
 * a host whose core is shared, a short runner either runs through or
 * waits a whole time slice of the other process, so single ratios jump
 * between 1 and 10 and their average would follow the last few; the
 * sums weigh each runner by its time, and one outlier (a translation, a
 * page fault storm) counts at most 8 times its kind's average.
 */
#include <assert.h>
#include <stdlib.h>

#include "sched/place.h"

/* The kind of runners of entry point `entry` in k (replaced, with no
 * average, when another entry held its slot). */
static place_kind *kind_of(place_set *k, uint64_t entry, int id)
{
    size_t h = (size_t)((entry * 0x9E3779B97F4A7C15ULL) >> 40);
    place_kind *e = &k->v[h & (PLACE_KINDS - 1)];
    if (e->entry != entry || !e->avg_ns)
        *e = (place_kind){ entry, 0, id, 0 };
    return e;
}

/* A moving average of weight 1/8 with sample x; the first sample (avg 0)
 * is taken whole, plus one so that the average stays nonzero. */
static uint64_t ewma(uint64_t avg, uint64_t x)
{
    return avg ? avg - avg / 8 + x / 8 : x + 1;
}

/* x bounded to [lo, hi]. */
static double bound(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* Adds a runner that took d where the set's average is want to r's sums
 * and recomputes its factor. */
static void weigh(place_rcomp *r, double d, double want)
{
    r->took = r->took * (1 - PLACE_WEIGHT) +
              bound(d, want / 8, want * 8) * PLACE_WEIGHT;
    r->want = r->want * (1 - PLACE_WEIGHT) + want * PLACE_WEIGHT;
    r->factor = (uint32_t)bound(r->took / r->want * PLACE_ONE,
                                PLACE_ONE / 8, PLACE_ONE * 8);
    assert(r->factor >= PLACE_ONE / 8);
}

void place_note(place_rcomp *r, int id, place_set *k, uint64_t entry,
                uint64_t t_start, uint64_t t_end, int busy)
{
    k->runner_ns = ewma(k->runner_ns, t_end > t_start ? t_end - t_start : 0);
    uint64_t from = t_start;
    if (r->last_end_ns && r->last_end_ns < t_start)
        from = r->last_end_ns;      /* it went on from the last one's end */
    uint64_t d = (t_end > from ? t_end - from : 0) + 1;
    r->own_ns = ewma(r->own_ns, d);
    place_kind *e = kind_of(k, entry, id);
    e->mixed |= e->first != id;
    if (e->mixed)
        weigh(r, (double)d, (double)e->avg_ns);
    e->avg_ns = e->avg_ns ? ewma(e->avg_ns, d) : d;
    r->last_end_ns = busy ? t_end : 0;
    assert(e->avg_ns > 0);
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

uint32_t place_factor(const place_rcomp *r, uint32_t fallback)
{
    return r->factor ? r->factor : fallback ? fallback : PLACE_ONE;
}

size_t place_share(size_t ready, uint32_t f, double speed_sum,
                   size_t n_equal)
{
    assert(f > 0);
    if (!ready)
        return 0;
    double share = speed_sum > 0
                   ? (double)ready * ((double)PLACE_ONE / f) / speed_sum
                   : (double)ready / (double)(n_equal ? n_equal : 1);
    if (share < 1)
        return 1;
    return share >= (double)ready ? ready : (size_t)share;
}

uint64_t place_start_ns(uint64_t net_ns, size_t inflight, uint64_t runner_ns,
                        uint32_t f)
{
    return net_ns / 2 + (uint64_t)inflight * runner_ns * f / PLACE_ONE;
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
