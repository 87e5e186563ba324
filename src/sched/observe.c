/*
 * observe.c -- the master's side of src/obs: what it tells the metrics,
 * the event ring and the output tail, in one place, so that the scheduler
 * itself carries only one-line calls at its decision points:
 *
 *   dispatch_batch        observe_dispatch (stamps the dispatch time)
 *   master_handle_result  observe_result (the attempt's fate, its times)
 *   commit_result         observe_clock + observe_validation
 *   answer_page           observe_clock + observe_page
 *   emit_output           observe_output
 *   master_run            observe_tick (levels, a few times a second)
 *
 * Without an obs hub (master_config.obs NULL) every call returns at once;
 * observe_clock then reads no clock.  All run on the master's thread.
 */
#include "obs/obs.h"
#include "sched/master_int.h"

/* Levels are published at most this often (and once at the end). */
#define OBSERVE_TICK_NS 100000000ull

dvm_status observe_setup(master *m)
{
    if (!m->cfg.obs)
        return DVM_OK;
    return obs_node_add(m->cfg.obs, "local", (uint32_t)m->nrc, &m->obs_node);
}

uint64_t observe_clock(const master *m)
{
    return m->cfg.obs ? master_now_ns() : 0;
}

void observe_dispatch(master *m, rcomp_slot *s, uint32_t k)
{
    if (!m->cfg.obs || k == 0)
        return;
    uint64_t now = master_now_ns();
    for (size_t i = s->nin - k; i < s->nin; i++)
        s->inflight[(s->in_head + i) % MASTER_BATCH_MAX]->t_dispatch = now;
    obs_dispatched(m->cfg.obs, m->obs_node, (uint32_t)s->index, k);
}

void observe_result(master *m, const rcomp_slot *s, const msg_result *res,
                    uint64_t t_dispatch, int conflict)
{
    if (!m->cfg.obs)
        return;
    static const ring_outcome by_exit[] = { RING_COMMIT, RING_ABORT,
                                            RING_FAULT };
    obs_runner r = { m->obs_node, (uint32_t)s->index, res->rid, res->attempt,
                     conflict ? RING_CONFLICT : by_exit[res->exit],
                     t_dispatch, res->t_start_ns, res->t_end_ns };
    obs_result(m->cfg.obs, &r);
}

void observe_validation(master *m, uint64_t t0)
{
    if (m->cfg.obs)
        obs_validation(m->cfg.obs, m->obs_node, master_now_ns() - t0);
}

void observe_page(master *m, const rcomp_slot *s, uint64_t t0)
{
    if (m->cfg.obs)
        obs_page_fetch(m->cfg.obs, m->obs_node, m->obs_node,
                       (uint32_t)s->index, master_now_ns() - t0);
}

void observe_output(master *m, const void *bytes, size_t n)
{
    if (m->cfg.obs)
        obs_output(m->cfg.obs, bytes, n);
}

static void publish_levels(master *m, uint64_t now)
{
    space_stats ss;
    space_get_stats(m->space, &ss);
    obs_levels l = {
        .runners_created = m->next_rid - 1,
        .runners_reexecuted = m->st.reexecuted + m->st.rerun_lost,
        .runners_lost = m->st.rerun_lost,
        .commits = m->st.commits,
        .watchers_created = m->st.watchers_created,
        .watchers_woken = m->st.watchers_woken,
        .watchers_waiting = watch_count(m->watchers),
        .runners_queued = m->ready.n + m->exclusive.n,
        .pages_cached = ss.versions,
        .pages_homed = ss.pages,
        .pages_prefetched = m->st.pages_prefetched,
        .frames_used = store_in_use(m->store),
        .frames_total = store_max_frames(m->store),
        .rcomps_replaced = m->st.rcomps_replaced,
    };
    for (int i = 0; i < m->nrc; i++) {
        const rcomp_slot *s = &m->rc[i];
        l.runners_running += s->nin;
        l.rcomps_live += s->pid > 0;
        obs_rcomp_set(m->cfg.obs, m->obs_node, (uint32_t)i, s->pid,
                      (uint32_t)s->nin);
    }
    obs_levels_set(m->cfg.obs, m->obs_node, &l, now);
}

void observe_tick(master *m, int final)
{
    if (!m->cfg.obs)
        return;
    uint64_t now = master_now_ns();
    if (!final && now - m->obs_tick_ns < OBSERVE_TICK_NS)
        return;
    m->obs_tick_ns = now;
    publish_levels(m, now);
}
