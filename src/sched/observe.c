/*
 * observe.c -- the scheduler's calls into src/obs (see observe.h).
 */
#include "sched/observe.h"
#include "util/clock.h"

/* Levels are published at most this often (and once at the end). */
#define OBSERVE_TICK_NS 100000000ull

static int observing(const observer *ob)
{
    return ob && ob->o;
}

dvm_status observe_setup(observer *ob, obs *o, int nrcomps,
                         const master_remote *remote)
{
    *ob = (observer){ o, 0, 0, remote };
    return o ? obs_node_add(o, remote ? "master" : "local",
                            (uint32_t)nrcomps, &ob->node)
             : DVM_OK;
}

/* The obs node of RComp slot `slot`, and *rc its RComp there. */
static int place(const observer *ob, int slot, uint32_t *rc)
{
    int node = -1;
    if (ob->remote && ob->remote->obs_place)
        node = ob->remote->obs_place(ob->remote->arg, slot, rc);
    if (node >= 0)
        return node;
    *rc = ob->remote ? UINT32_MAX : (uint32_t)slot;   /* none: uncounted */
    return ob->node;
}

uint64_t observe_clock(const observer *ob)
{
    return observing(ob) ? clock_now_ns() : 0;
}

void observe_dispatch(observer *ob, int rcomp, rcb_ring *inflight,
                      uint32_t k)
{
    if (!observing(ob) || k == 0)
        return;
    uint64_t now = clock_now_ns();
    for (size_t i = inflight->n - k; i < inflight->n; i++)
        rcb_ring_at(inflight, i)->t_dispatch = now;
    uint32_t rc;
    int node = place(ob, rcomp, &rc);
    obs_dispatched(ob->o, node, rc, k);
}

void observe_result(observer *ob, int rcomp, const msg_result *res,
                    uint64_t t_dispatch, int conflict)
{
    if (!observing(ob))
        return;
    static const ring_outcome by_exit[] = { RING_COMMIT, RING_ABORT,
                                            RING_FAULT };
    uint32_t rc;
    int node = place(ob, rcomp, &rc);
    obs_runner r = { node, rc, res->rid, res->attempt,
                     conflict ? RING_CONFLICT : by_exit[res->exit],
                     t_dispatch, res->t_start_ns, res->t_end_ns };
    obs_result(ob->o, &r);
}

void observe_validation(observer *ob, uint64_t t0)
{
    if (observing(ob))
        obs_validation(ob->o, ob->node, clock_now_ns() - t0);
}

void observe_page(observer *ob, int rcomp, uint64_t t0)
{
    if (observing(ob))
        obs_page_fetch(ob->o, ob->node, ob->node, (uint32_t)rcomp,
                       clock_now_ns() - t0);
}

void observe_output(observer *ob, const void *bytes, size_t n)
{
    if (observing(ob))
        obs_output(ob->o, bytes, n);
}

void observe_rcomp(observer *ob, int rcomp, int64_t pid, uint32_t inflight)
{
    if (!observing(ob))
        return;
    uint32_t rc;
    int node = place(ob, rcomp, &rc);
    obs_rcomp_set(ob->o, node, rc, pid, inflight);
}

int observe_due(observer *ob, int final)
{
    if (!observing(ob))
        return 0;
    uint64_t now = clock_now_ns();
    if (!final && now - ob->tick_ns < OBSERVE_TICK_NS)
        return 0;
    ob->tick_ns = now;
    return 1;
}
