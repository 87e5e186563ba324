/*
 * commit.c -- the commit point of the DVM (see commit.h).
 *
 * Commits are processed one at a time on the master's thread, and that is
 * the total order of commits (DISA.md 6.2).  For a committing runner R with
 * snapshot e:
 *
 *   1. validate: R's changed bytes against every version newer than e
 *      (space_validate).  A conflict discards the attempt (its frames go
 *      back to the store, its children and output are dropped) and R runs
 *      again with __attempt + 1; after COMMIT_CONFLICT_LIMIT conflicts it
 *      waits in the exclusive queue and runs alone, when nothing else is in
 *      flight, so it cannot conflict again (the progress guarantee).
 *   2. install: one new epoch E for all of R's pages (space_install),
 *      counted and traced; the watchers whose ranges R's changed bytes
 *      touch wake: exactly, byte by byte, whether a page's change is runs
 *      (a query each) or a bitmap (a query over its bounds, then each
 *      candidate's ranges are tested against the bitmap).  The DVM's own
 *      writes take this same step (commit_write).
 *   3. emit R's output, in this (commit) order: straight from the frames
 *      the RComp wrote it into to the sinks, COMMIT_OUT_CHUNK bytes at a
 *      time, read through the store's file (store_read), so the master
 *      never holds a commit's output, in a buffer or mapped; the frames go
 *      back to the store after, and at once for an attempt that did not
 *      commit.
 *   4. make R's children schedulable; a child watcher first checks whether
 *      a commit in (e, E) -- after R's snapshot, other than R's own --
 *      already changed its ranges ("watch from the creator's snapshot on",
 *      DISA.md 6.4): if so it is schedulable at once, else it watches.
 *      The child R's RComp started at once (res->local, sched/local.h)
 *      goes to the caller instead, which puts it in that RComp's ring.
 *      Step 2 precedes step 4 so that R's own commit never wakes them.
 *
 * Aborted and faulted attempts change nothing; a fault is reported once,
 * here, where it becomes final.
 *
 * Runners waiting (ready, exclusive or watching) cost the master memory, so
 * their number is bounded (max_runners): a commit whose children would
 * pass the bound is refused before step 2 and reported as a fault of its
 * runner, which changes nothing; the runners already waiting go on, so a
 * runner fork bomb ends in faults instead of exhausting the host.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "exec/vm.h"
#include "isa/isa.h"
#include "sched/commit.h"
#include "util/alloc.h"
#include "util/clock.h"

/* Bytes of output the master holds at a time: one sink write. */
#define COMMIT_OUT_CHUNK (64u * 1024)

uint64_t commit_epoch(const commit_point *cp)
{
    return space_epoch(cp->space);
}

/* ---- watchers -------------------------------------------------------- */

/* r becomes schedulable now (noted for the trace's flows): made so by
 * the newest commit, which it must see (on the cluster it waits until
 * that commit is stable: rcb.h, the gate). */
static void make_ready(commit_point *cp, rcb *r)
{
    r->ready_ns = trace_enabled(cp->trace) ? clock_now_ns() : 0;
    rcb_push(cp->pool->made, r);
}

/* Makes a watcher schedulable: out of the index and the watching list,
 * into the ready queue (it fires once). */
static void wake_one(void *arg, uint64_t id)
{
    commit_point *cp = arg;
    rcb *w = (rcb *)(uintptr_t)id;
    assert(w->d.nwatch > 0);
    watch_remove(cp->watchers, id);
    rcb_pool_unwatch(cp->pool, w);
    cp->st->watchers_woken++;
    make_ready(cp, w);
}

typedef struct dense_ctx {
    commit_point *cp;
    uint64_t base;              /* address of the changed page */
    mem_delta d;                /* its changed bytes: a bitmap */
} dense_ctx;

/* watch_query callback for a dense page: wakes watcher id only when one
 * of its ranges holds a changed byte (the query was only the bounds). */
static void wake_if_changed(void *arg, uint64_t id)
{
    const dense_ctx *c = arg;
    const rcb *w = (const rcb *)(uintptr_t)id;
    for (uint32_t i = 0; i < w->d.nwatch; i++) {
        uint64_t lo = w->d.watch[i].lo, hi = w->d.watch[i].hi;
        lo = lo > c->base ? lo - c->base : 0;
        hi = hi < c->base + DISA_PAGE ? hi - c->base : DISA_PAGE;
        if (lo < hi && diff_touch(c->d, (unsigned)lo, (unsigned)hi)) {
            wake_one(c->cp, id);
            return;
        }
    }
}

/* Wakes the watchers the bitmap d of page touches: one query over the
 * span from its first to its last changed byte, then an exact check. */
static void wake_dense(commit_point *cp, uint64_t page, mem_delta d)
{
    unsigned lo, hi;
    if (!diff_bounds(d, &lo, &hi))
        return;
    dense_ctx ctx = { cp, page * DISA_PAGE, d };
    watch_query(cp->watchers, ctx.base + lo, ctx.base + hi, wake_if_changed,
                &ctx);
}

/* Wakes every watcher whose ranges intersect the bytes of the changes
 * installed as epoch: a query per run (few), or wake_dense for a bitmap.
 * An implied change's bytes come from its version (its frame, which the
 * space may have merged and released). */
static void wake_watchers(commit_point *cp, const mem_change *c, size_t n,
                          uint64_t epoch)
{
    if (watch_count(cp->watchers) == 0)
        return;
    uint64_t bits[DIFF_WORDS];
    for (size_t i = 0; i < n; i++) {
        mem_delta d = space_change_delta(&c[i]);
        uint64_t base = c[i].page * DISA_PAGE;
        if (diff_is_implied(d))
            d = space_version_delta(cp->space, c[i].page, epoch, bits);
        if (diff_is_bitmap(d)) {
            wake_dense(cp, c[i].page, d);
            continue;
        }
        for (uint32_t k = 0; k < d.nruns; k++)
            watch_query(cp->watchers, base + d.runs[k].off,
                        base + d.runs[k].off + d.runs[k].len, wake_one, cp);
    }
}

/* ---- install: the one path every change takes ------------------------ */

/* Installs changes c[0..n) made at snapshot snap as one epoch (the frames
 * become page versions), counts and traces the commit (rid 0: the DVM's
 * own) and wakes the watchers of its bytes.  On success *epoch is the new
 * epoch.  On failure nothing is installed and the frames are the
 * caller's. */
static dvm_status commit_install(commit_point *cp, uint64_t rid,
                                 uint64_t snap, const mem_change *c,
                                 size_t n, uint64_t *epoch)
{
    uint64_t e;
    dvm_status st = space_install(cp->space, snap, c, n, &e);
    if (st)
        return st;
    assert(e == space_epoch(cp->space));
    cp->st->commits++;
    if (trace_enabled(cp->trace))   /* no clock read per commit else */
        trace_instant(cp->trace, "commit", clock_now_ns(), rid, e);
    wake_watchers(cp, c, n, e);
    *epoch = e;
    return DVM_OK;
}

static void release_frames(commit_point *cp, const mem_change *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        store_release(cp->store, c[i].frame);
}

/* ---- the DVM's own writes -------------------------------------------- */

/* Prepares page change *c for the bytes [*addr, ...) of *src that fall in
 * one page: a new frame holding the page's current content with them
 * written over, and the run they cover in *run.  Advances the cursors. */
static dvm_status write_page(commit_point *cp, uint64_t *addr,
                             const uint8_t **src, uint64_t *left,
                             mem_change *c, mem_run *run)
{
    uint64_t page = *addr / DISA_PAGE, off = *addr % DISA_PAGE;
    uint64_t k = DISA_PAGE - off < *left ? DISA_PAGE - off : *left;
    uint32_t f;
    if (store_alloc(cp->store, &f))
        return status_set(DVM_ENOMEM, "frame store full");
    uint8_t *fp = store_frame(cp->store, f);
    uint32_t old = space_lookup(cp->space, page, space_epoch(cp->space));
    if (old)
        memcpy(fp, store_frame(cp->store, old), DISA_PAGE);
    else
        memset(fp, 0, DISA_PAGE);
    memcpy(fp + off, *src, k);
    *run = (mem_run){ (uint16_t)off, (uint16_t)k };
    *c = (mem_change){ page, f, 1, run };
    *addr += k;
    *src += k;
    *left -= k;
    return DVM_OK;
}

dvm_status commit_write(commit_point *cp, uint64_t addr, const void *data,
                        uint64_t n)
{
    assert(addr >= DISA_RB && n <= DISA_ADDR_LIMIT - addr);
    uint64_t npages = (addr % DISA_PAGE + n + DISA_PAGE - 1) / DISA_PAGE;
    mem_change *c = dvm_calloc(npages ? npages : 1, sizeof *c);
    mem_run *runs = dvm_calloc(npages ? npages : 1, sizeof *runs);
    dvm_status st = c && runs ? DVM_OK
                              : status_set(DVM_ENOMEM, "out of memory");
    const uint8_t *src = data;
    uint64_t at = addr, left = n, epoch;
    size_t k = 0;
    while (!st && left && !(st = write_page(cp, &at, &src, &left, &c[k],
                                            &runs[k])))
        k++;
    if (!st)
        st = commit_install(cp, 0, space_epoch(cp->space), c, k, &epoch);
    if (st)
        release_frames(cp, c, k);
    dvm_free(c);
    dvm_free(runs);
    return st;
}

/* ---- runner results -------------------------------------------------- */

/* Writes the n bytes of chunk to sink s (and the output tail). */
static dvm_status emit_chunk(commit_point *cp, io_sink *s, const uint8_t *chunk,
                             size_t n)
{
    dvm_status st = io_sink_write(s, chunk, n);
    observe_output(cp->ob, chunk, n);
    return st;
}

/* Streams output o from its frames to sink s, COMMIT_OUT_CHUNK bytes at a
 * time through chunk: the frames are read through the store's file, so
 * neither a buffer nor the resident set of the master grows with the
 * output. */
static dvm_status emit_one(commit_point *cp, io_sink *s, const msg_output *o,
                           uint8_t *chunk)
{
    uint64_t left = o->len;
    size_t fill = 0;
    assert(o->nframes == MSG_OUTPUT_FRAMES(o->len));
    for (uint32_t k = 0; k < o->nframes; k++) {
        size_t n = left < STORE_FRAME_SIZE ? (size_t)left : STORE_FRAME_SIZE;
        dvm_status st = store_read(cp->store, o->frames[k], chunk + fill, n);
        fill += n;
        left -= n;
        if (!st && (fill == COMMIT_OUT_CHUNK || !left)) {
            st = emit_chunk(cp, s, chunk, fill);
            fill = 0;
        }
        if (st)
            return st;
    }
    return DVM_OK;
}

/* Emits res's output, channel by channel, in the order the result lists
 * it.  The frames stay the result's (commit_result releases them). */
static dvm_status emit_output(commit_point *cp, const msg_result *res)
{
    uint8_t chunk[COMMIT_OUT_CHUNK];
    for (uint32_t i = 0; i < res->nout; i++) {
        const msg_output *o = &res->out[i];
        /* Validated when the result arrived (rcomps.c check_outputs): a
         * result naming an unknown channel never reaches the commit. */
        assert(o->chan < cp->nsinks);
        dvm_status st = emit_one(cp, &cp->sinks[o->chan], o, chunk);
        if (st)
            return st;
    }
    return DVM_OK;
}

/* The frames holding res's output go back to the store: written, or never
 * to be (abort, fault, conflict, a refused commit). */
static void release_output(commit_point *cp, const msg_result *res)
{
    for (uint32_t i = 0; i < res->nout; i++)
        for (uint32_t k = 0; k < res->out[i].nframes; k++)
            store_release(cp->store, res->out[i].frames[k]);
}

/* True when a commit in (after, upto] other than `except` changed a byte
 * watched by w. */
static int watcher_missed(const commit_point *cp, const rcb *w,
                          uint64_t after, uint64_t upto, uint64_t except)
{
    for (uint32_t i = 0; i < w->d.nwatch; i++)
        if (space_changed_between(cp->space, w->d.watch[i].lo,
                                  w->d.watch[i].hi, after, upto, except))
            return 1;
    return 0;
}

/* Places child watcher r: schedulable at once when a commit after its
 * creator's snapshot already changed its ranges, else in the index. */
static dvm_status admit_watcher(commit_point *cp, rcb *r, uint64_t epoch)
{
    cp->st->watchers_created++;
    if (watcher_missed(cp, r, r->watch_from, epoch, epoch)) {
        cp->st->watchers_woken++;
        make_ready(cp, r);
        return DVM_OK;
    }
    dvm_status st = watch_add(cp->watchers, (uint64_t)(uintptr_t)r,
                              r->d.watch, r->d.nwatch);
    if (st)
        return st;
    rcb_pool_watch(cp->pool, r);
    return DVM_OK;
}

void commit_free_kid_stacks(commit_point *cp, const msg_result *res)
{
    for (uint32_t i = 0; i < res->nkids; i++) {
        if (!(res->kids[i].flags & RUNNER_STACK_CHOSEN))
            continue;
        dvm_status st = stacks_free(cp->stacks, res->kids[i].sb);
        assert(st == DVM_OK);
        (void)st;
    }
}

/* r is done: its chosen stack, which its creator's commit wrote, is
 * retired until no snapshot in use predates now, then goes back to the
 * RComp that ran r (stacks.h). */
void commit_runner_done(commit_point *cp, rcb *r)
{
    if (r->d.flags & RUNNER_STACK_CHOSEN) {
        dvm_status st = stacks_retire(cp->stacks, r->d.sb,
                                      space_epoch(cp->space), r->stack_home);
        assert(st == DVM_OK);
        (void)st;
    }
    rcb_free(r);
}

/* Is child i of res (record r) the one its RComp started at once
 * (res->local)?  Then it goes to the caller (cp->local_kid) instead of
 * the ready queue: a plain runner on a stack the DVM chose, which no
 * other runner can write, of a pool that makes runners ready at once (not
 * a cluster's gated pool). */
static int local_kid(const commit_point *cp, const msg_result *res,
                     uint32_t i, const rcb *r)
{
    return res->local == i + 1 && r->d.nwatch == 0 &&
           (r->d.flags & RUNNER_STACK_CHOSEN) && !cp->pool->gated;
}

/* Gives every child of the committed result a record (taking its
 * descriptor) and makes it schedulable or watching. */
static dvm_status admit_children(commit_point *cp, msg_result *res,
                                 uint64_t epoch)
{
    for (uint32_t i = 0; i < res->nkids; i++) {
        rcb *r = rcb_new(cp->pool);
        if (!r)
            return status_set(DVM_ENOMEM, "out of memory for runners");
        r->d = runner_desc_take(&res->kids[i]);
        r->watch_from = res->snap;
        if (local_kid(cp, res, i, r)) {
            cp->local_kid = r;
            continue;
        }
        if (r->d.nwatch == 0) {
            make_ready(cp, r);
            continue;
        }
        dvm_status st = admit_watcher(cp, r, epoch);
        if (st) {
            commit_runner_done(cp, r);
            return st;
        }
    }
    return DVM_OK;
}

/* Runners waiting now: ready, exclusive, watching. */
static uint64_t waiting(const commit_point *cp)
{
    const rcb_pool *p = cp->pool;
    return p->ready.n + p->exclusive.n + p->unstable.n + p->nwatching;
}

/* True (with the fault reported) when res's children would leave more
 * than max_runners waiting (0: no bound). */
static int too_many_children(commit_point *cp, const rcb *r,
                             const msg_result *res)
{
    uint64_t w = waiting(cp);
    if (res->nkids == 0 || cp->max_runners == 0 ||
        (w <= cp->max_runners && res->nkids <= cp->max_runners - w))
        return 0;
    fprintf(stderr, "dvm: runner %llu: fault at exit: its %u new runners "
            "would leave more than %llu waiting (--max-runners)\n",
            (unsigned long long)r->rid, res->nkids,
            (unsigned long long)cp->max_runners);
    cp->st->runners_faulted++;
    return 1;
}

/* Validates and installs a committing runner's result.  Owns r: frees
 * it, or puts it back in the pool after a conflict. */
static dvm_status commit_runner(commit_point *cp, rcb *r, msg_result *res)
{
    uint64_t tv = observe_clock(cp->ob);
    int conflict = space_validate(cp->space, res->snap, res->changes,
                                  res->nchanges) == DVM_ECONFLICT;
    observe_validation(cp->ob, tv);
    cp->conflict_rate = cp->conflict_rate * 0.95 + (conflict ? 0.05 : 0.0);
    if (conflict) {
        release_frames(cp, res->changes, res->nchanges);
        commit_free_kid_stacks(cp, res);
        cp->st->conflicts++;
        cp->st->reexecuted++;
        trace_instant(cp->trace, "conflict", clock_now_ns(), r->rid, r->snap);
        rcb_pool_retry(cp->pool, r, COMMIT_CONFLICT_LIMIT);
        return DVM_OK;
    }
    if (too_many_children(cp, r, res)) {
        release_frames(cp, res->changes, res->nchanges);
        rcb_free(r);
        return DVM_OK;
    }
    uint64_t epoch;
    assert(res->base <= res->snap);
    dvm_status st = commit_install(cp, r->rid, res->base ? res->base
                                                         : res->snap,
                                   res->changes, res->nchanges, &epoch);
    if (!st) {
        cp->st->runners_committed++;
        cp->st->pages_written += res->nchanges;
        st = emit_output(cp, res);
    }
    if (!st)
        st = admit_children(cp, res, epoch);
    commit_runner_done(cp, r);
    return st;
}

static void report_fault(commit_point *cp, const rcb *r, const msg_result *res)
{
    vm_runner tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.fault = (int)res->fault;
    tmp.fault_pc = res->fault_pc;
    tmp.fault_addr = res->fault_addr;
    char why[256];
    vm_fault_describe(&tmp, why, sizeof why);
    fprintf(cp->diag, "dvm: runner %llu: fault at 0x%llx: %s\n",
            (unsigned long long)r->rid, (unsigned long long)res->fault_pc, why);
    if (cp->fault_note)
        cp->fault_note(cp->fault_note_arg, res->fault_pc, cp->diag);
    cp->st->runners_faulted++;
}

dvm_status commit_result(commit_point *cp, rcb *r, msg_result *res)
{
    assert(r->rid == res->rid && r->snap == res->snap &&
           r->attempt == res->attempt);
    assert(res->snap <= space_epoch(cp->space));
    rcb_pool_done(cp->pool, r);
    dvm_status st = DVM_OK;
    if (res->exit == MSG_EXIT_COMMIT) {
        st = commit_runner(cp, r, res);
    } else {
        if (res->exit == MSG_EXIT_FAULT)
            report_fault(cp, r, res);
        else
            cp->st->runners_aborted++;
        release_frames(cp, res->changes, res->nchanges);
        commit_free_kid_stacks(cp, res);
        commit_runner_done(cp, r);
    }
    release_output(cp, res);
    return st;
}
