/*
 * obs.h -- what a running DVM shows of itself: the metrics every master
 * keeps (for Prometheus), the recent runner events and the output tail
 * (for the dashboard), and their renderings.  The HTTP server (http.h)
 * serves them; the master feeds them.
 *
 * The master calls a handful of functions, from its own thread only:
 *
 *   obs_node_add      once per node (the embedded run has one, "local"),
 *                     with its RComp count; again for a node that comes
 *                     back (same name: same index);
 *   obs_node_live     a cluster's node left (or came back);
 *   obs_begin         a long-lived master starts another program;
 *   obs_dispatched    when runners go to an RComp;
 *   obs_result        when an attempt's fate is decided (committed,
 *                     conflicted, aborted, faulted, lost with its RComp);
 *   obs_validation    the time one commit validation took;
 *   obs_page_fetch    a page served to an RComp, from which node, how long
 *                     (obs_pages_fetch: several in one answer);
 *   obs_output        committed output bytes;
 *   obs_levels        now and then (a few times a second): the node's
 *                     levels and the counters it already keeps;
 *   obs_finish        the run is over.
 *
 * Each is a few relaxed atomic operations (obs_output: a mutex for a
 * memcpy), so feeding them costs the master nothing measurable at 100,000
 * runners a second.  The renderers run on any thread at any time.
 *
 * Metrics are per node (label node="..."); page fetches also carry the
 * node the page came from (label from="..."), which on one host is the
 * node itself.  The full list is OBS_NODE_METRICS below and
 * docs/observe.md.
 */
#ifndef DVM_OBS_H
#define DVM_OBS_H

#include <stddef.h>
#include <stdint.h>

#include "obs/ring.h"
#include "obs/text.h"
#include "util/status.h"

#define OBS_MAX_NODES 256
/* Most events one /api/state answer carries (an even sample of those
 * since the last poll when there were more). */
#define OBS_EVENTS_MAX 3000
/* Runner events kept (2^18: 2.6 s at 100,000 runners a second, longer
 * than a dashboard's poll interval). */
#define OBS_RING_LOG2 18
#define OBS_RING_EVENTS (1u << OBS_RING_LOG2)

typedef struct obs obs;

/* What the implementation is, for dvm_info and the dashboard. */
typedef struct obs_info {
    const char *version, *disa, *c0;
} obs_info;

/* One attempt's fate (obs_result). */
typedef struct obs_runner {
    int node;
    uint32_t rcomp;
    uint64_t rid, attempt;
    ring_outcome outcome;
    uint64_t t_dispatch_ns;     /* CLOCK_MONOTONIC; 0: unknown */
    uint64_t t_start_ns, t_end_ns;  /* as the RComp measured them */
} obs_runner;

/* A node's levels and the counters its master keeps anyway (obs_levels). */
typedef struct obs_levels {
    uint64_t runners_created, runners_reexecuted, runners_lost;
    uint64_t commits;           /* every commit, the DVM's own included */
    uint64_t watchers_created, watchers_woken, watchers_waiting;
    uint64_t runners_queued, runners_running;
    uint64_t pages_cached;      /* page versions held */
    uint64_t pages_homed;       /* distinct pages whose home this node is */
    uint64_t pages_prefetched;
    uint64_t frames_used, frames_total;
    uint64_t rcomps_live, rcomps_replaced;
} obs_levels;

dvm_status obs_create(const obs_info *info, obs **out);
void obs_destroy(obs *o);

/* Adds a node with nrcomps RComps; *index gets its number (the `node` of
 * the other calls).  A node of that name already there is live again
 * with its old number (DVM_EINVAL if it had fewer RComps). */
dvm_status obs_node_add(obs *o, const char *name, uint32_t nrcomps,
                        int *index);
/* Node `node` is live or not (left the cluster), with nrcomps RComps (at
 * most its count when added); a node not live shows no RComp process. */
void obs_node_live(obs *o, int node, int live, uint32_t nrcomps);
/* Another program begins (a cluster master runs one after another): the
 * dashboard starts over (output, "finished"); counters keep counting. */
void obs_begin(obs *o);
void obs_dispatched(obs *o, int node, uint32_t rcomp, uint32_t n);
void obs_result(obs *o, const obs_runner *r);
void obs_validation(obs *o, int node, uint64_t ns);
/* A page served to `node`'s RComp from node `from` in ns nanoseconds. */
void obs_page_fetch(obs *o, int node, int from, uint32_t rcomp, uint64_t ns);
/* npages pages served in one answer that took ns nanoseconds: counted
 * npages times, timed once. */
void obs_pages_fetch(obs *o, int node, int from, uint32_t rcomp,
                     uint64_t npages, uint64_t ns);

/* A cluster node's own view of its page fetches: the whole wait for a
 * page version fetched from another node or the master, from the
 * request to the data in its cache (dvm_node_fetch_wait_seconds).  The
 * node counts them in these buckets (seconds; a bucket holds the waits
 * up to its bound and above the one before, the last bucket those above
 * every bound) and sends the counts to its master, which adds what is
 * new with obs_fetch_wait_add. */
#define OBS_FETCH_WAIT_BOUNDS                                                \
    2e-6, 4e-6, 6e-6, 8e-6, 1e-5, 1.2e-5, 1.5e-5, 2e-5, 2.5e-5, 3e-5, 4e-5, \
    5e-5, 6e-5, 8e-5, 1e-4, 1.5e-4, 2e-4, 3e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 0.1
#define OBS_FETCH_WAIT_BUCKETS 24   /* the bounds above, and one more */
/* The bucket of a wait of ns nanoseconds. */
size_t obs_fetch_wait_bucket(uint64_t ns);
/* Adds waits counted by `node`: buckets[OBS_FETCH_WAIT_BUCKETS], their
 * sum in ns. */
void obs_fetch_wait_add(obs *o, int node, const uint64_t *buckets,
                        uint64_t sum_ns);
void obs_output(obs *o, const void *bytes, size_t n);
/* now_ns: CLOCK_MONOTONIC (the commit rate is measured against it). */
void obs_levels_set(obs *o, int node, const obs_levels *l, uint64_t now_ns);
/* The RComp's process id and runners in flight (pid 0: none). */
void obs_rcomp_set(obs *o, int node, uint32_t rcomp, int64_t pid,
                   uint32_t inflight);
/* The run is over: rates drop to 0, the dashboard says so. */
void obs_finish(obs *o);

/* GET /metrics: the Prometheus text exposition. */
dvm_status obs_render_metrics(obs *o, text *t);
/* GET /api/state?since=SEQ: JSON for the dashboard, with the runner events
 * from sequence `since` on. */
dvm_status obs_render_state(obs *o, uint64_t since, text *t);

#endif
