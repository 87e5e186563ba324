/*
 * obs.c -- the metrics, events and output tail of a running DVM (obs.h).
 *
 * Metric families are defined once, in OBS_NODE_METRICS: a field of
 * obs_node per family, holding that node's series, so that the master's
 * calls reach a series through a pointer and never through a lookup.  The
 * one exception is dvm_pages_fetched_total{node,from}: its series for a
 * (node, from) pair is created on the first fetch of that pair (a lookup
 * under the registry's mutex, once) and cached in the node.
 *
 * Nodes are appended under `mu` and never removed; the node count is
 * published with release order after the node is complete, so the HTTP
 * thread may walk nodes [0, nnodes) without the lock.  Per-RComp values
 * are relaxed atomics in an array sized when the node is added.  A node
 * that leaves a cluster stays, marked not live; one that comes back under
 * its name gets its old index (and series) again.
 *
 * A long-lived master runs many programs (obs_begin starts each): the
 * counters it mirrors from a program's own statistics (obs_levels_set)
 * are the sum over its programs, so that they only grow, as Prometheus
 * expects of a counter.
 */
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "obs/metrics.h"
#include "obs/obs.h"
#include "obs/tail.h"
#include "util/alloc.h"
#include "util/clock.h"

/* Histogram bounds (seconds). */
static const double dispatch_bounds[] = {
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3,
    2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5 };
static const double validate_bounds[] = {
    1e-7, 2.5e-7, 5e-7, 1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4,
    2.5e-4, 5e-4, 1e-3, 1e-2 };
static const double page_bounds[] = {
    5e-7, 1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4,
    1e-3, 1e-2, 0.1 };
static const double fetch_wait_bounds[] = { OBS_FETCH_WAIT_BOUNDS };
#define NB(a) (sizeof a / sizeof a[0])
_Static_assert(NB(fetch_wait_bounds) + 1 == OBS_FETCH_WAIT_BUCKETS,
               "one bucket more than bounds");

/* X(field, kind, name, help, bounds, nbounds): the per-node families. */
#define OBS_NODE_METRICS(X)                                                  \
    X(created, COUNTER, "dvm_runners_created_total",                        \
      "Runners created (the first runner and every newr).", NULL, 0)        \
    X(dispatched, COUNTER, "dvm_runners_dispatched_total",                  \
      "Runner attempts sent to an RComp.", NULL, 0)                         \
    X(committed, COUNTER, "dvm_runners_committed_total",                    \
      "Runners that committed.", NULL, 0)                                   \
    X(aborted, COUNTER, "dvm_runners_aborted_total",                        \
      "Runners that exited with exit:a.", NULL, 0)                          \
    X(faulted, COUNTER, "dvm_runners_faulted_total",                        \
      "Runners that faulted.", NULL, 0)                                     \
    X(reexecuted, COUNTER, "dvm_runners_reexecuted_total",                  \
      "Attempts run again: after a conflict or with a lost RComp.", NULL, 0)\
    X(lost, COUNTER, "dvm_runners_lost_total",                              \
      "Attempts run again because their RComp died.", NULL, 0)              \
    X(conflicts, COUNTER, "dvm_conflicts_total",                            \
      "Commits refused by validation (the runner runs again).", NULL, 0)    \
    X(commits, COUNTER, "dvm_commits_total",                                \
      "Commits installed, the DVM's own (program load, system page) "       \
      "included.", NULL, 0)                                                 \
    X(commit_rate, GAUGE, "dvm_commit_rate",                                \
      "Commits per second over the last second.", NULL, 0)                  \
    X(queued, GAUGE, "dvm_runners_queued",                                  \
      "Runners ready and waiting for an RComp.", NULL, 0)                   \
    X(running, GAUGE, "dvm_runners_running",                                \
      "Runner attempts on RComps now.", NULL, 0)                            \
    X(w_created, COUNTER, "dvm_watchers_created_total",                     \
      "Watchers created.", NULL, 0)                                         \
    X(w_woken, COUNTER, "dvm_watchers_woken_total",                         \
      "Watchers woken by a commit.", NULL, 0)                               \
    X(w_waiting, GAUGE, "dvm_watchers_waiting",                             \
      "Watchers waiting for a commit to their ranges.", NULL, 0)            \
    X(p_cached, GAUGE, "dvm_pages_cached",                                  \
      "Page versions held by this node.", NULL, 0)                          \
    X(p_homed, GAUGE, "dvm_pages_homed",                                    \
      "Distinct pages whose home is this node.", NULL, 0)                   \
    X(p_prefetched, COUNTER, "dvm_pages_prefetched_total",                  \
      "Pages copied into RComp windows before their runner started.",       \
      NULL, 0)                                                              \
    X(f_used, GAUGE, "dvm_frames_used",                                     \
      "Frames of the frame store in use.", NULL, 0)                         \
    X(f_total, GAUGE, "dvm_frames_capacity",                                \
      "Frames the frame store can hold.", NULL, 0)                          \
    X(rcomps, GAUGE, "dvm_rcomps",                                          \
      "RComp processes alive.", NULL, 0)                                    \
    X(replaced, COUNTER, "dvm_rcomps_replaced_total",                       \
      "RComps that died and were replaced.", NULL, 0)                       \
    X(h_dispatch, HISTOGRAM, "dvm_dispatch_start_seconds",                  \
      "From dispatch by the master to the start of the runner on its "      \
      "RComp.", dispatch_bounds, NB(dispatch_bounds))                       \
    X(h_validate, HISTOGRAM, "dvm_commit_validation_seconds",               \
      "Validation of one commit against newer page versions.",              \
      validate_bounds, NB(validate_bounds))                                 \
    X(h_page, HISTOGRAM, "dvm_page_fetch_seconds",                          \
      "Serving one page fetch (request received to answer sent).",         \
      page_bounds, NB(page_bounds))                                         \
    X(h_fetch_wait, HISTOGRAM, "dvm_node_fetch_wait_seconds",               \
      "A node's whole wait for a page version fetched from another node "  \
      "or the master, request to data in its cache, as the node measured " \
      "it.", fetch_wait_bounds, NB(fetch_wait_bounds))

enum {
#define X(f, k, n, h, b, nb) FAM_##f,
    OBS_NODE_METRICS(X)
#undef X
    FAM_COUNT
};

typedef struct obs_rcomp {
    _Atomic int64_t pid;
    _Atomic uint64_t inflight, done, pages;
} obs_rcomp;

typedef struct obs_node {
    char name[64];
    int index;
    uint32_t nrcomps;
    obs_rcomp *rc;              /* owned, nrcomps of them */
    _Atomic uint32_t shown;     /* RComps it has now (<= nrcomps) */
    _Atomic int live;
    obs_levels base, last;      /* mirrored counters: earlier programs'
                                   sum, this program's (master's thread) */
    struct {
#define X(f, k, n, h, b, nb) metrics_series *f;
        OBS_NODE_METRICS(X)
#undef X
    } s;
    _Atomic(metrics_series *) fetched[OBS_MAX_NODES];   /* by `from` */
    uint64_t rate_t_ns, rate_commits;   /* master's thread only */
} obs_node;

struct obs {
    obs_info info;
    metrics_registry *reg;
    metrics_family *fam[FAM_COUNT];
    metrics_family *fetched, *nodes_fam, *info_fam;
    metrics_series *nodes_gauge;
    pthread_mutex_t mu;         /* node appends, fetched-series creation */
    obs_node *node[OBS_MAX_NODES];
    _Atomic int nnodes;
    _Atomic int finished;
    _Atomic uint64_t run;       /* programs begun (obs_begin) */
    obs_ring *ring;
    obs_tail tail;
    uint64_t t0_ns;
};

static dvm_status add_family(obs *o, metrics_kind kind, const char *name,
                             const char *help, const char *l0,
                             const char *l1, metrics_family **out)
{
    metrics_def d = { kind, name, help, { l0, l1, NULL }, NULL, 0 };
    return metrics_family_add(o->reg, &d, out);
}

static dvm_status add_node_families(obs *o)
{
    static const metrics_def defs[FAM_COUNT] = {
#define X(f, k, n, h, b, nb) { METRICS_##k, n, h, { "node" }, b, nb },
        OBS_NODE_METRICS(X)
#undef X
    };
    dvm_status st = DVM_OK;
    for (int i = 0; i < FAM_COUNT && !st; i++)
        st = metrics_family_add(o->reg, &defs[i], &o->fam[i]);
    return st;
}

/* dvm_info{version,disa,c0} 1 and dvm_nodes. */
static dvm_status add_global_families(obs *o)
{
    metrics_def d = { METRICS_GAUGE, "dvm_info", "What this DVM is: its "
                      "version and the DISA and c0 versions it implements.",
                      { "version", "disa", "c0" }, NULL, 0 };
    metrics_series *info;
    const char *v[] = { o->info.version, o->info.disa, o->info.c0 };
    dvm_status st = metrics_family_add(o->reg, &d, &o->info_fam);
    if (!st)
        st = metrics_series_get(o->info_fam, v, &info);
    if (!st)
        metrics_gauge_set(info, 1);
    if (!st)
        st = add_family(o, METRICS_GAUGE, "dvm_nodes", "Nodes in the DVM.",
                        NULL, NULL, &o->nodes_fam);
    if (!st)
        st = metrics_series_get(o->nodes_fam, NULL, &o->nodes_gauge);
    if (!st)
        st = add_family(o, METRICS_COUNTER, "dvm_pages_fetched_total",
                        "Pages fetched on demand by a node's RComps, by the "
                        "node that served them.", "node", "from",
                        &o->fetched);
    return st;
}

dvm_status obs_create(const obs_info *info, obs **out)
{
    obs *o = dvm_calloc(1, sizeof *o);
    if (!o)
        return status_set(DVM_ENOMEM, "out of memory for metrics");
    o->info = *info;
    o->t0_ns = clock_now_ns();
    pthread_mutex_init(&o->mu, NULL);
    tail_init(&o->tail);
    dvm_status st = metrics_create(&o->reg);
    if (!st)
        st = ring_create(OBS_RING_LOG2, &o->ring);
    if (!st)
        st = add_global_families(o);
    if (!st)
        st = add_node_families(o);
    if (st) {
        obs_destroy(o);
        return st;
    }
    *out = o;
    return DVM_OK;
}

void obs_destroy(obs *o)
{
    if (!o)
        return;
    for (int i = 0; i < atomic_load(&o->nnodes); i++) {
        dvm_free(o->node[i]->rc);
        dvm_free(o->node[i]);
    }
    ring_destroy(o->ring);
    metrics_destroy(o->reg);
    tail_fini(&o->tail);
    pthread_mutex_destroy(&o->mu);
    dvm_free(o);
}

/* Creates node n's series of every per-node family. */
static dvm_status node_series(obs *o, obs_node *n)
{
    _Static_assert(sizeof n->s == FAM_COUNT * sizeof(metrics_series *),
                   "one series pointer per family");
    metrics_series **s = (metrics_series **)&n->s;
    const char *v[] = { n->name };
    dvm_status st = DVM_OK;
    for (int i = 0; i < FAM_COUNT && !st; i++)
        st = metrics_series_get(o->fam[i], v, &s[i]);
    return st;
}

static obs_node *node_new(obs *o, const char *name, uint32_t nrcomps)
{
    obs_node *n = dvm_calloc(1, sizeof *n);
    if (!n)
        return NULL;
    snprintf(n->name, sizeof n->name, "%s", name);
    n->nrcomps = nrcomps;
    n->shown = nrcomps;
    n->live = 1;
    n->rc = dvm_calloc(nrcomps ? nrcomps : 1, sizeof *n->rc);
    if (!n->rc || node_series(o, n)) {
        dvm_free(n->rc);
        dvm_free(n);
        return NULL;
    }
    return n;
}

/* dvm_nodes: the live nodes with RComps (a master's own node has none). */
static void count_nodes(obs *o)
{
    int n = 0;
    for (int i = 0; i < atomic_load(&o->nnodes); i++)
        n += atomic_load(&o->node[i]->live) && o->node[i]->shown > 0;
    metrics_gauge_set(o->nodes_gauge, n);
}

static int node_find(obs *o, const char *name)
{
    for (int i = 0; i < atomic_load(&o->nnodes); i++)
        if (!strcmp(o->node[i]->name, name))
            return i;
    return -1;
}

/* The node `name` again (live, with nrcomps RComps): *index set. */
static dvm_status node_again(obs *o, int k, uint32_t nrcomps, int *index)
{
    obs_node *n = o->node[k];
    if (nrcomps > n->nrcomps)
        return status_set(DVM_EINVAL, "node %s had %u RComps", n->name,
                          n->nrcomps);
    obs_node_live(o, k, 1, nrcomps);
    *index = k;
    return DVM_OK;
}

dvm_status obs_node_add(obs *o, const char *name, uint32_t nrcomps,
                        int *index)
{
    if (!name || !*name || strlen(name) >= sizeof ((obs_node *)0)->name)
        return status_set(DVM_EINVAL, "bad node name");
    pthread_mutex_lock(&o->mu);
    int k = node_find(o, name);
    if (k >= 0) {
        pthread_mutex_unlock(&o->mu);
        return node_again(o, k, nrcomps, index);
    }
    k = atomic_load_explicit(&o->nnodes, memory_order_relaxed);
    obs_node *n = k < OBS_MAX_NODES ? node_new(o, name, nrcomps) : NULL;
    if (n) {
        n->index = k;
        o->node[k] = n;
        atomic_store_explicit(&o->nnodes, k + 1, memory_order_release);
        count_nodes(o);
    }
    pthread_mutex_unlock(&o->mu);
    if (!n)
        return k < OBS_MAX_NODES ? status_set(DVM_ENOMEM, "out of memory "
                                              "for metrics")
                                 : status_set(DVM_ERANGE, "more than %d nodes",
                                              OBS_MAX_NODES);
    *index = k;
    return DVM_OK;
}

static obs_node *node_at(obs *o, int i)
{
    assert(i >= 0 && i < atomic_load_explicit(&o->nnodes,
                                              memory_order_relaxed));
    return o->node[i];
}

void obs_node_live(obs *o, int node, int live, uint32_t nrcomps)
{
    obs_node *n = node_at(o, node);
    assert(nrcomps <= n->nrcomps);
    atomic_store(&n->shown, nrcomps);
    atomic_store(&n->live, live);
    for (uint32_t i = 0; !live && i < n->nrcomps; i++) {
        atomic_store_explicit(&n->rc[i].pid, 0, memory_order_relaxed);
        atomic_store_explicit(&n->rc[i].inflight, 0, memory_order_relaxed);
    }
    if (!live) {
        metrics_gauge_set(n->s.rcomps, 0);
        metrics_gauge_set(n->s.running, 0);
    }
    count_nodes(o);
}

static obs_rcomp *rcomp_at(obs_node *n, uint32_t i)
{
    return i < n->nrcomps ? &n->rc[i] : NULL;
}

void obs_dispatched(obs *o, int node, uint32_t rcomp, uint32_t n)
{
    obs_node *nd = node_at(o, node);
    metrics_add(nd->s.dispatched, n);
    obs_rcomp *r = rcomp_at(nd, rcomp);
    if (r)
        atomic_fetch_add_explicit(&r->inflight, n, memory_order_relaxed);
}

static metrics_series *outcome_series(obs_node *n, ring_outcome oc)
{
    switch (oc) {
    case RING_COMMIT:   return n->s.committed;
    case RING_CONFLICT: return n->s.conflicts;
    case RING_ABORT:    return n->s.aborted;
    case RING_FAULT:    return n->s.faulted;
    default:            return NULL;    /* lost: counted by obs_levels */
    }
}

void obs_result(obs *o, const obs_runner *r)
{
    obs_node *n = node_at(o, r->node);
    metrics_series *s = outcome_series(n, r->outcome);
    if (s)
        metrics_add(s, 1);
    if (r->t_dispatch_ns && r->t_start_ns >= r->t_dispatch_ns)
        metrics_observe_ns(n->s.h_dispatch, r->t_start_ns - r->t_dispatch_ns);
    obs_rcomp *rc = rcomp_at(n, r->rcomp);
    if (rc) {
        atomic_fetch_add_explicit(&rc->done, 1, memory_order_relaxed);
        if (atomic_load_explicit(&rc->inflight, memory_order_relaxed))
            atomic_fetch_sub_explicit(&rc->inflight, 1, memory_order_relaxed);
    }
    ring_event e = { 0, r->rid, r->t_start_ns, r->t_end_ns, r->rcomp,
                     (uint16_t)r->node, (uint8_t)r->outcome,
                     (uint8_t)(r->attempt > 255 ? 255 : r->attempt) };
    ring_push(o->ring, &e);
}

void obs_validation(obs *o, int node, uint64_t ns)
{
    metrics_observe_ns(node_at(o, node)->s.h_validate, ns);
}

/* The fetched{node,from} series, created on the pair's first fetch. */
static metrics_series *fetched_series(obs *o, obs_node *n, int from)
{
    metrics_series *s = atomic_load_explicit(&n->fetched[from],
                                             memory_order_acquire);
    if (s)
        return s;
    const char *v[] = { n->name, node_at(o, from)->name };
    if (metrics_series_get(o->fetched, v, &s))
        return NULL;            /* out of memory: the fetch goes uncounted */
    atomic_store_explicit(&n->fetched[from], s, memory_order_release);
    return s;
}

void obs_page_fetch(obs *o, int node, int from, uint32_t rcomp, uint64_t ns)
{
    obs_pages_fetch(o, node, from, rcomp, 1, ns);
}

void obs_pages_fetch(obs *o, int node, int from, uint32_t rcomp,
                     uint64_t npages, uint64_t ns)
{
    obs_node *n = node_at(o, node);
    metrics_series *s = fetched_series(o, n, from);
    if (s)
        metrics_add(s, npages);
    metrics_observe_ns(n->s.h_page, ns);
    obs_rcomp *rc = rcomp_at(n, rcomp);
    if (rc)
        atomic_fetch_add_explicit(&rc->pages, npages, memory_order_relaxed);
}

size_t obs_fetch_wait_bucket(uint64_t ns)
{
    size_t k = 0;
    while (k < NB(fetch_wait_bounds) && (double)ns > fetch_wait_bounds[k] * 1e9)
        k++;
    return k;
}

void obs_fetch_wait_add(obs *o, int node, const uint64_t *buckets,
                        uint64_t sum_ns)
{
    metrics_hist_add(node_at(o, node)->s.h_fetch_wait, buckets,
                     OBS_FETCH_WAIT_BUCKETS, sum_ns);
}

void obs_output(obs *o, const void *bytes, size_t n)
{
    tail_append(&o->tail, bytes, n);
}

/* Commits per second since the last measurement at least a second ago. */
static void update_rate(obs *o, obs_node *n, uint64_t commits, uint64_t t)
{
    if (n->rate_t_ns == 0 || commits < n->rate_commits) {
        n->rate_t_ns = t;
        n->rate_commits = commits;
        return;
    }
    if (t - n->rate_t_ns < 1000000000ull || atomic_load(&o->finished))
        return;
    double dt = (double)(t - n->rate_t_ns) / 1e9;
    metrics_gauge_set(n->s.commit_rate, (double)(commits - n->rate_commits)
                                        / dt);
    n->rate_t_ns = t;
    n->rate_commits = commits;
}

/* X(field): the counters obs_levels mirrors. */
#define OBS_MIRRORED(X)                                                      \
    X(runners_created) X(runners_reexecuted) X(runners_lost) X(commits)     \
    X(watchers_created) X(watchers_woken) X(pages_prefetched)               \
    X(rcomps_replaced)

void obs_levels_set(obs *o, int node, const obs_levels *now_l, uint64_t now)
{
    obs_node *n = node_at(o, node);
    n->last = *now_l;
    obs_levels sum = *now_l, *l = &sum;
#define X(f) sum.f += n->base.f;
    OBS_MIRRORED(X)
#undef X
    metrics_set_counter(n->s.created, l->runners_created);
    metrics_set_counter(n->s.reexecuted, l->runners_reexecuted);
    metrics_set_counter(n->s.lost, l->runners_lost);
    metrics_set_counter(n->s.commits, l->commits);
    metrics_set_counter(n->s.w_created, l->watchers_created);
    metrics_set_counter(n->s.w_woken, l->watchers_woken);
    metrics_gauge_set(n->s.w_waiting, (double)l->watchers_waiting);
    metrics_gauge_set(n->s.queued, (double)l->runners_queued);
    metrics_gauge_set(n->s.running, (double)l->runners_running);
    metrics_gauge_set(n->s.p_cached, (double)l->pages_cached);
    metrics_gauge_set(n->s.p_homed, (double)l->pages_homed);
    metrics_set_counter(n->s.p_prefetched, l->pages_prefetched);
    metrics_gauge_set(n->s.f_used, (double)l->frames_used);
    metrics_gauge_set(n->s.f_total, (double)l->frames_total);
    metrics_gauge_set(n->s.rcomps, (double)l->rcomps_live);
    metrics_set_counter(n->s.replaced, l->rcomps_replaced);
    update_rate(o, n, l->commits, now);
}

void obs_rcomp_set(obs *o, int node, uint32_t rcomp, int64_t pid,
                   uint32_t inflight)
{
    obs_rcomp *rc = rcomp_at(node_at(o, node), rcomp);
    if (!rc)
        return;
    atomic_store_explicit(&rc->pid, pid, memory_order_relaxed);
    atomic_store_explicit(&rc->inflight, inflight, memory_order_relaxed);
}

void obs_begin(obs *o)
{
    for (int i = 0; i < atomic_load(&o->nnodes); i++) {
        obs_node *n = o->node[i];
#define X(f) n->base.f += n->last.f;
        OBS_MIRRORED(X)
#undef X
        memset(&n->last, 0, sizeof n->last);
        n->rate_t_ns = 0;
        for (uint32_t k = 0; k < n->nrcomps; k++)
            atomic_store_explicit(&n->rc[k].inflight, 0,
                                  memory_order_relaxed);
    }
    tail_reset(&o->tail);
    atomic_fetch_add(&o->run, 1);
    atomic_store(&o->finished, 0);
}

void obs_finish(obs *o)
{
    atomic_store(&o->finished, 1);
    for (int i = 0; i < atomic_load(&o->nnodes); i++) {
        metrics_gauge_set(o->node[i]->s.commit_rate, 0);
        metrics_gauge_set(o->node[i]->s.running, 0);
    }
}

dvm_status obs_render_metrics(obs *o, text *t)
{
    return metrics_render(o->reg, t);
}

/* ---- /api/state ------------------------------------------------------------- */

static uint64_t cval(const metrics_series *s)
{
    return metrics_counter_value(s);
}

static void render_rcomps(text *t, const obs_node *n)
{
    text_puts(t, "\"rcomps\":[");
    for (uint32_t i = 0; i < atomic_load(&n->shown); i++) {
        const obs_rcomp *r = &n->rc[i];
        text_printf(t, "%s[%lld,%llu,%llu,%llu]", i ? "," : "",
                    (long long)atomic_load(&r->pid),
                    (unsigned long long)atomic_load(&r->inflight),
                    (unsigned long long)atomic_load(&r->done),
                    (unsigned long long)atomic_load(&r->pages));
    }
    text_puts(t, "]");
}

static void render_node(text *t, const obs_node *n)
{
    text_puts(t, "{\"name\":");
    text_json_str(t, n->name, strlen(n->name));
    text_printf(t, ",\"live\":%s", atomic_load(&n->live) ? "true" : "false");
    text_printf(t, ",\"created\":%llu,\"dispatched\":%llu,\"committed\":%llu,"
                "\"aborted\":%llu,\"faulted\":%llu,\"conflicts\":%llu,"
                "\"commits\":%llu,",
                (unsigned long long)cval(n->s.created),
                (unsigned long long)cval(n->s.dispatched),
                (unsigned long long)cval(n->s.committed),
                (unsigned long long)cval(n->s.aborted),
                (unsigned long long)cval(n->s.faulted),
                (unsigned long long)cval(n->s.conflicts),
                (unsigned long long)cval(n->s.commits));
    text_printf(t, "\"rate\":%.1f,\"queued\":%.0f,\"running\":%.0f,"
                "\"watchers\":%.0f,\"cached\":%.0f,\"homed\":%.0f,"
                "\"frames_used\":%.0f,\"frames_total\":%.0f,",
                metrics_gauge_value(n->s.commit_rate),
                metrics_gauge_value(n->s.queued),
                metrics_gauge_value(n->s.running),
                metrics_gauge_value(n->s.w_waiting),
                metrics_gauge_value(n->s.p_cached),
                metrics_gauge_value(n->s.p_homed),
                metrics_gauge_value(n->s.f_used),
                metrics_gauge_value(n->s.f_total));
    uint64_t fetched = 0;
    for (int i = 0; i < OBS_MAX_NODES; i++) {
        const metrics_series *f = atomic_load(&n->fetched[i]);
        fetched += f ? cval(f) : 0;
    }
    text_printf(t, "\"fetched\":%llu,", (unsigned long long)fetched);
    render_rcomps(t, n);
    text_puts(t, "}");
}

/* Page traffic: one edge per (from, to) pair that moved pages. */
static void render_traffic(obs *o, text *t, int nn)
{
    int first = 1;
    text_puts(t, "\"traffic\":[");
    for (int to = 0; to < nn; to++)
        for (int from = 0; from < nn; from++) {
            const metrics_series *s = atomic_load(&o->node[to]->fetched[from]);
            if (!s)
                continue;
            text_printf(t, "%s{\"from\":", first ? "" : ",");
            text_json_str(t, o->node[from]->name, strlen(o->node[from]->name));
            text_puts(t, ",\"to\":");
            text_json_str(t, o->node[to]->name, strlen(o->node[to]->name));
            text_printf(t, ",\"pages\":%llu}", (unsigned long long)cval(s));
            first = 0;
        }
    text_puts(t, "]");
}

static void render_output(obs *o, text *t)
{
    char buf[TAIL_BYTES];
    uint64_t total;
    size_t n = tail_read(&o->tail, buf, sizeof buf, &total);
    text_printf(t, "\"output\":{\"total\":%llu,\"tail\":",
                (unsigned long long)total);
    text_json_str(t, buf, n);
    text_puts(t, "}");
}

static long long rel_us(const obs *o, uint64_t ns)
{
    return ((long long)ns - (long long)o->t0_ns) / 1000;
}

/* Events since `since`: all of them, or an even sample of OBS_EVENTS_MAX
 * when there were more (the dashboard draws what it gets). */
static dvm_status render_events(obs *o, uint64_t since, text *t)
{
    ring_event *ev = dvm_calloc(OBS_EVENTS_MAX, sizeof *ev);
    if (!ev)
        return status_set(DVM_ENOMEM, "out of memory for events");
    uint64_t next;
    size_t n = ring_read(o->ring, since, ev, OBS_EVENTS_MAX, &next);
    uint64_t oldest = next > OBS_RING_EVENTS ? next - OBS_RING_EVENTS : 0;
    uint64_t seen = next - (since > oldest && since <= next ? since : oldest);
    text_printf(t, "\"events\":{\"next\":%llu,\"seen\":%llu,\"list\":[",
                (unsigned long long)next, (unsigned long long)seen);
    for (size_t i = 0; i < n; i++) {
        const ring_event *e = &ev[i];
        text_printf(t, "%s[%llu,%u,%u,%u,%u,%lld,%lld]", i ? "," : "",
                    (unsigned long long)e->rid, e->node, e->rcomp, e->outcome,
                    e->attempt, rel_us(o, e->t_start_ns),
                    rel_us(o, e->t_end_ns));
    }
    text_puts(t, "]}");
    dvm_free(ev);
    return DVM_OK;
}

dvm_status obs_render_state(obs *o, uint64_t since, text *t)
{
    int nn = atomic_load_explicit(&o->nnodes, memory_order_acquire);
    text_puts(t, "{\"version\":");
    text_json_str(t, o->info.version, strlen(o->info.version));
    text_puts(t, ",\"disa\":");
    text_json_str(t, o->info.disa, strlen(o->info.disa));
    text_puts(t, ",\"c0\":");
    text_json_str(t, o->info.c0, strlen(o->info.c0));
    text_printf(t, ",\"finished\":%s,\"run\":%llu,\"now_us\":%lld,"
                "\"nodes\":[", atomic_load(&o->finished) ? "true" : "false",
                (unsigned long long)atomic_load(&o->run), rel_us(o, clock_now_ns()));
    for (int i = 0; i < nn; i++) {
        if (i)
            text_puts(t, ",");
        render_node(t, o->node[i]);
    }
    text_puts(t, "],");
    render_traffic(o, t, nn);
    text_puts(t, ",");
    render_output(o, t);
    text_puts(t, ",");
    dvm_status st = render_events(o, since, t);
    text_puts(t, "}");
    return st ? st : text_status(t);
}
