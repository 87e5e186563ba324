/*
 * commit.c -- what the master does with a runner's result: the commit
 * point of the DVM.
 *
 * Results are processed one at a time on the master's thread, and that is
 * the total order of commits (DISA.md 6.2).  For a committing runner R with
 * snapshot e:
 *
 *   1. validate: R's changed bytes against every version newer than e
 *      (space_validate).  A conflict discards the attempt (its frames go
 *      back to the store, its children and output are dropped) and R runs
 *      again with __attempt + 1; after MASTER_CONFLICT_LIMIT conflicts it
 *      waits in the exclusive queue and runs alone, when nothing else is in
 *      flight, so it cannot conflict again (the progress guarantee).
 *   2. install: one new epoch E for all of R's pages (space_install).
 *   3. emit R's output, in this (commit) order.
 *   4. wake the watchers whose ranges R's changed bytes touch: exactly,
 *      byte by byte, whether a page's change is runs (a query each) or a
 *      bitmap (a query over its bounds, then each candidate's ranges are
 *      tested against the bitmap).
 *   5. make R's children schedulable; a child watcher first checks whether
 *      a commit in (e, E) -- after R's snapshot, other than R's own --
 *      already changed its ranges ("watch from the creator's snapshot on",
 *      DISA.md 6.4): if so it is schedulable at once, else it watches.
 *      Step 4 precedes step 5 so that R's own commit never wakes them.
 *
 * Aborted and faulted attempts change nothing; a fault is reported once,
 * here, where it becomes final.
 */
#include <stdio.h>
#include <string.h>

#include "sched/master_int.h"
#include "util/alloc.h"

uint64_t master_oldest_snapshot(const master *m)
{
    uint64_t oldest = space_epoch(m->space);
    for (int i = 0; i < m->nrc; i++) {
        const rcomp_slot *s = &m->rc[i];
        for (size_t k = 0; k < s->nin; k++) {
            const rcb *r = s->inflight[(s->in_head + k) % MASTER_BATCH_MAX];
            if (r->snap < oldest)
                oldest = r->snap;
        }
    }
    return oldest;
}

/* Checks that every frame of the result was granted to s and takes it back
 * from s's grant list (ownership moves to the commit). */
static dvm_status take_frames(master *m, rcomp_slot *s, const msg_result *res)
{
    if (res->nchanges == 0)     /* most results: nothing to take */
        return DVM_OK;
    for (uint32_t i = 0; i < res->nchanges; i++) {
        uint32_t f = res->changes[i].frame;
        if (f >= store_max_frames(m->store) ||
            m->frame_owner[f] != s->index + 1)
            return status_set(DVM_EPROTO, "result names frame %u it does not "
                              "own", (unsigned)f);
    }
    for (uint32_t i = 0; i < res->nchanges; i++)
        m->frame_owner[res->changes[i].frame] = 0;
    /* Drop used frames from the grant list (compaction in one pass). */
    size_t w = 0;
    for (size_t i = 0; i < s->ngranted; i++)
        if (m->frame_owner[s->granted[i]] == s->index + 1)
            s->granted[w++] = s->granted[i];
    s->ngranted = w;
    return DVM_OK;
}

static void release_frames(master *m, const msg_result *res)
{
    for (uint32_t i = 0; i < res->nchanges; i++)
        store_release(m->store, res->changes[i].frame);
}

/* Converts the result's changes to the space's form (borrowing deltas). */
static mem_change *changes_of(const msg_result *res)
{
    mem_change *c = dvm_calloc(res->nchanges ? res->nchanges : 1, sizeof *c);
    if (!c)
        return NULL;
    for (uint32_t i = 0; i < res->nchanges; i++)
        c[i] = space_change(res->changes[i].page, res->changes[i].frame,
                            res->changes[i].delta);
    return c;
}

static void requeue_conflict(master *m, rcb *r)
{
    m->st.conflicts++;
    m->st.reexecuted++;
    r->attempt++;
    trace_instant(&m->trace, "conflict", master_now_ns(), r->rid, r->snap);
    if (r->attempt >= MASTER_CONFLICT_LIMIT)
        rcb_push(&m->exclusive, r);
    else
        rcb_push(&m->ready, r);
}

static dvm_status emit_output(master *m, const msg_result *res)
{
    for (uint32_t i = 0; i < res->nout; i++) {
        const msg_output *o = &res->out[i];
        if (o->chan >= m->nsinks)
            return status_set(DVM_EPROTO, "output to unknown channel %u",
                              o->chan);
        dvm_status st = io_sink_write(&m->sinks[o->chan], o->bytes,
                                      (size_t)o->len);
        observe_output(m, o->bytes, (size_t)o->len);
        if (st) {
            fprintf(stderr, "dvm: %s\n", status_message());
            return st;
        }
    }
    return DVM_OK;
}

/* Makes a watcher schedulable: out of the index and the watching list,
 * into the ready queue (it fires once). */
static void wake_one(void *arg, uint64_t id)
{
    master *m = arg;
    rcb *w = (rcb *)(uintptr_t)id;
    watch_remove(m->watchers, id);
    if (w->wprev)
        w->wprev->wnext = w->wnext;
    else
        m->watching = w->wnext;
    if (w->wnext)
        w->wnext->wprev = w->wprev;
    w->wprev = w->wnext = NULL;
    m->st.watchers_woken++;
    rcb_push(&m->ready, w);
}

/* Puts a watcher in the index and the watching list. */
static dvm_status watch_start(master *m, rcb *w)
{
    dvm_status st = watch_add(m->watchers, (uint64_t)(uintptr_t)w, w->watch,
                              w->nwatch);
    if (st)
        return st;
    w->wprev = NULL;
    w->wnext = m->watching;
    if (m->watching)
        m->watching->wprev = w;
    m->watching = w;
    return DVM_OK;
}

void master_wake_range(master *m, uint64_t lo, uint64_t hi)
{
    if (watch_count(m->watchers))
        watch_query(m->watchers, lo, hi, wake_one, m);
}

typedef struct dense_ctx {
    master *m;
    uint64_t base;              /* address of the changed page */
    mem_delta d;                /* its changed bytes: a bitmap */
} dense_ctx;

/* watch_query callback for a dense page: wakes watcher id only when one
 * of its ranges holds a changed byte (the query was only the bounds). */
static void wake_if_changed(void *arg, uint64_t id)
{
    const dense_ctx *c = arg;
    const rcb *w = (const rcb *)(uintptr_t)id;
    for (uint32_t i = 0; i < w->nwatch; i++) {
        uint64_t lo = w->watch[i].lo, hi = w->watch[i].hi;
        lo = lo > c->base ? lo - c->base : 0;
        hi = hi < c->base + DISA_PAGE ? hi - c->base : DISA_PAGE;
        if (lo < hi && diff_touch(c->d, (unsigned)lo, (unsigned)hi)) {
            wake_one(c->m, id);
            return;
        }
    }
}

/* Wakes the watchers a bitmap change touches: one query over the span
 * from its first to its last changed byte, then an exact check. */
static void wake_dense(master *m, const msg_change *c)
{
    unsigned lo, hi;
    if (!diff_bounds(c->delta, &lo, &hi))
        return;
    dense_ctx ctx = { m, c->page * DISA_PAGE, c->delta };
    watch_query(m->watchers, ctx.base + lo, ctx.base + hi, wake_if_changed,
                &ctx);
}

/* Wakes every watcher whose ranges intersect the bytes of the changes:
 * a query per run (few), or wake_dense for a bitmap. */
static void wake_watchers(master *m, const msg_result *res)
{
    if (watch_count(m->watchers) == 0)
        return;
    for (uint32_t i = 0; i < res->nchanges; i++) {
        const msg_change *c = &res->changes[i];
        uint64_t base = c->page * DISA_PAGE;
        if (diff_is_bitmap(c->delta)) {
            wake_dense(m, c);
            continue;
        }
        const mem_run *r = c->delta.runs;
        for (uint32_t k = 0; k < c->delta.nruns; k++)
            watch_query(m->watchers, base + r[k].off,
                        base + r[k].off + r[k].len, wake_one, m);
    }
}

/* True when a commit in (after, upto] other than `except` changed a byte
 * watched by w. */
static int watcher_missed(const master *m, const rcb *w, uint64_t after,
                          uint64_t upto, uint64_t except)
{
    for (uint32_t i = 0; i < w->nwatch; i++)
        if (space_changed_between(m->space, w->watch[i].lo, w->watch[i].hi,
                                  after, upto, except))
            return 1;
    return 0;
}

/* Turns a vm_child into a new rcb (taking its ranges). */
static rcb *child_rcb(master *m, vm_child *k, uint64_t creator_snap)
{
    rcb *r = rcb_new(m);
    if (!r)
        return NULL;
    r->sb = k->sb;
    r->ss = k->ss;
    r->fi = k->fi;
    r->nheap = k->nheap;
    r->heap = k->heap;
    r->nwatch = k->nwatch;
    r->watch = k->watch;
    r->watch_from = creator_snap;
    k->heap = k->watch = NULL;
    k->nheap = k->nwatch = 0;
    return r;
}

static dvm_status admit_children(master *m, msg_result *res, uint64_t epoch)
{
    for (uint32_t i = 0; i < res->nkids; i++) {
        rcb *r = child_rcb(m, &res->kids[i], res->snap);
        if (!r)
            return status_set(DVM_ENOMEM, "out of memory for runners");
        if (r->nwatch == 0) {
            rcb_push(&m->ready, r);
            continue;
        }
        m->st.watchers_created++;
        if (watcher_missed(m, r, res->snap, epoch, epoch)) {
            m->st.watchers_woken++;
            rcb_push(&m->ready, r);
            continue;
        }
        dvm_status st = watch_start(m, r);
        if (st) {
            rcb_free(r);
            return st;
        }
    }
    return DVM_OK;
}

/* Validates and installs a committing runner's result.  Owns r: frees
 * it, or requeues it after a conflict; on failure it is freed too (the
 * run stops). */
static dvm_status commit_result(master *m, rcb *r, msg_result *res)
{
    mem_change *c = changes_of(res);
    if (!c) {
        rcb_free(r);
        return status_set(DVM_ENOMEM, "out of memory");
    }
    uint64_t tv = observe_clock(m);
    int conflict = space_validate(m->space, res->snap, c, res->nchanges) ==
                   DVM_ECONFLICT;
    observe_validation(m, tv);
    m->conflict_rate = m->conflict_rate * 0.95 + (conflict ? 0.05 : 0.0);
    if (conflict) {
        dvm_free(c);
        release_frames(m, res);
        requeue_conflict(m, r);
        return DVM_OK;
    }
    uint64_t epoch;
    dvm_status st = space_install(m->space, res->snap, c, res->nchanges,
                                  &epoch);
    dvm_free(c);
    if (st) {
        rcb_free(r);
        return st;
    }
    m->st.commits++;
    m->st.runners_committed++;
    m->st.pages_written += res->nchanges;
    trace_instant(&m->trace, "commit", master_now_ns(), r->rid, epoch);
    st = emit_output(m, res);
    if (!st) {
        wake_watchers(m, res);
        st = admit_children(m, res, epoch);
    }
    rcb_free(r);
    return st;
}

static void report_fault(master *m, const rcb *r, const msg_result *res)
{
    vm_runner tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.fault = (int)res->fault;
    tmp.fault_pc = res->fault_pc;
    tmp.fault_addr = res->fault_addr;
    char why[256];
    vm_fault_describe(&tmp, why, sizeof why);
    fprintf(stderr, "dvm: runner %llu: fault at 0x%llx: %s\n",
            (unsigned long long)r->rid, (unsigned long long)res->fault_pc, why);
    m->st.runners_faulted++;
}

/* Removes and returns the oldest in-flight runner of s if it is rid. */
static rcb *inflight_pop(rcomp_slot *s, uint64_t rid)
{
    if (s->nin == 0)
        return NULL;
    rcb *r = s->inflight[s->in_head];
    if (r->rid != rid)
        return NULL;
    s->in_head = (s->in_head + 1) % MASTER_BATCH_MAX;
    s->nin--;
    return r;
}

/* Puts a popped in-flight runner back to be run again unchanged. */
static void requeue_lost(master *m, rcb *r)
{
    if (r == m->running_exclusive) {
        m->running_exclusive = NULL;
        rcb_push_front(&m->exclusive, r);
    } else {
        rcb_push_front(&m->ready, r);
    }
}

static const char *const exit_names[] = { "commit", "abort", "fault" };

dvm_status master_handle_result(master *m, rcomp_slot *s, const uint8_t *p,
                                size_t len)
{
    msg_result res;
    dvm_status st = msg_decode_result(p, len, &res);
    if (st)
        return rcomp_lost(m, s, status_message());
    rcb *r = inflight_pop(s, res.rid);
    if (!r || res.snap != r->snap || res.attempt != r->attempt ||
        take_frames(m, s, &res)) {
        const char *why = r ? status_message() : "result for a runner it "
                          "was not running";
        if (r)
            requeue_lost(m, r);
        msg_result_free(&res);
        return rcomp_lost(m, s, why);
    }
    if (r == m->running_exclusive)
        m->running_exclusive = NULL;
    m->st.runners_run++;
    m->st.pages_prefetched += res.pages_prefetched;
    m->st.pages_faulted += res.pages_faulted;
    trace_runner(&m->trace, s->index + 1, r->rid, r->attempt, res.t_start_ns,
                 res.t_end_ns, exit_names[res.exit]);
    uint64_t t = master_now_ns();
    uint64_t t_dispatch = r->t_dispatch, conflicts = m->st.conflicts;
    if (res.exit == MSG_EXIT_COMMIT) {
        st = commit_result(m, r, &res);
    } else {
        if (res.exit == MSG_EXIT_FAULT)
            report_fault(m, r, &res);
        else
            m->st.runners_aborted++;
        release_frames(m, &res);
        rcb_free(r);
    }
    m->st.ns_commit += master_now_ns() - t;
    observe_result(m, s, &res, t_dispatch, m->st.conflicts != conflicts);
    msg_result_free(&res);
    return st;
}
