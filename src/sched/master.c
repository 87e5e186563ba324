/*
 * master.c -- the master's life: setup, the event loop, dispatch.
 *
 * One thread, one epoll set over every RComp's two sockets.  The loop
 *   - answers page requests at once (an RComp's engine thread is blocked
 *     on them),
 *   - processes results in arrival order (commit.c: the commit order),
 *   - grants frames,
 *   - and refills RComps whose in-flight queue runs low with batches of
 *     ready runners, each with a snapshot (the current epoch) and the list
 *     of its declared stack and heap pages that exist, for eager copying.
 * A run ends at quiescence: nothing ready, nothing in flight.
 *
 * Snapshots are taken at dispatch.  That is the moment a runner "starts"
 * in the sense of DISA.md 6.1: every commit processed before it is
 * visible to it; a commit processed later is not.  The oldest in-flight
 * snapshot bounds garbage collection of page versions.
 *
 * On the cluster (master_remote.stable) a snapshot is the stable epoch
 * instead, the newest whose commits are all stored at their homes; the
 * runners made ready by newer commits wait in the pool's gate (rcb.h)
 * until theirs is stable.  An older snapshot is as good as the newest:
 * validation checks a result against every version newer than its
 * snapshot (space_validate), so it costs conflicts, never exactness, and
 * collection is bounded by the gate's epoch too (rcomps_oldest_snapshot).
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "exec/jit_cache.h"
#include "image/image.h"
#include "isa/isa.h"
#include "sched/commit.h"
#include "sched/master.h"
#include "sched/place.h"
#include "sched/rcb.h"
#include "sched/rcomps.h"
#include "sched/watch.h"
#include "util/alloc.h"
#include "util/spin.h"
#include "util/clock.h"
#include "util/memfd.h"

/* Commits between two collections of the versions no snapshot in flight
 * can see.  A collection costs what it frees, so a short interval costs
 * little, and the frames it frees go back on the store's LIFO stack while
 * still mapped and warm in every process: with 256 the first ~300 tasks of
 * a graph of short tasks each wrote fresh frames (the store's high-water
 * mark), a first-touch page fault each, 4-5 us a task on the VM of
 * docs/performance.md.  A cluster master keeps 256: its saves are paced by
 * the collections (the remote batch hook). */
#define MASTER_GC_COMMITS 32
#define MASTER_GC_COMMITS_REMOTE 256

/* Frame store size: 2^26 frames = 256 GiB of sparse address space. */
#define MASTER_STORE_FRAMES (1u << 26)
/* Most pages prefetched for one runner (the rest fault in lazily). */
#define MASTER_PREFETCH_MAX 4096
#define MASTER_PREFETCH_WATCH 16    /* pages of a woken watcher's watched
                                       ranges sent with it */
#define MASTER_LOCALITY_SCAN 64    /* ready runners a batch looks at */
#define MASTER_INVAL_MAX 1024       /* page versions listed for MSG_RUNNER_KEEP;
                                       more: the RComp drops everything */
/* Stack of the first runner, chosen by the DVM (DISA.md 7): the first
 * block of the stack area. */
#define MASTER_FIRST_SB DISA_STACK_BASE
/* Ready runners a cluster's dispatch looks at for one its slot prefers. */
#define MASTER_AFFINITY_LOOK 16
/* The epoll key of the network's fd (RComp keys are slot << 1 | page). */
#define MASTER_REMOTE_KEY UINT64_MAX
#define MASTER_FIRST_SS 0x10000ULL

/* The master owns the memory service (store, space), the watcher index,
 * the runner pool, the output sinks and the trace; the commit point and
 * the RComp set borrow them (they are the layers below this loop). */
struct master {
    master_config cfg;
    mem_store *store;
    mem_space *space;
    watch_index *watchers;
    stacks *stacks;             /* the stack area (DISA 1.1) */
    rcb_pool pool;
    commit_point cp;
    rcomp_set rcs;
    observer ob;
    int epfd;
    int image_fd;
    io_sink *sinks;             /* 0: stdout, k: k-th out channel */
    size_t nsinks;
    int sinks_closed;           /* master_close_outputs ran */
    io_trace trace;
    master_stats st;
    uint64_t t0_ns;
    uint64_t last_progress_ns, last_progress_commits;
    int progress_shown;
    uint64_t last_gc_commits;
    unsigned head_passed;       /* batches that passed over the ready head
                                   (locality) */
    place_pick *picks;          /* dispatch's RComps due a refill */
    size_t cap_picks;
    uint64_t link_deferred;     /* batches the links ended (--stats) */
    int place_even;             /* DVM_PLACE=even: queues alone decide,
                                   every RComp counts as equally fast and
                                   near (for comparisons: bench/placement) */
    uint64_t take_back_ns;      /* "taking back": an RComp's silence that
                                   lets the master take its queue; 0: the
                                   default, UINT64_MAX: never */
};

/* ---- loading the program ------------------------------------------------ */

static dvm_status master_load(master *m)
{
    const dvm_program *p = m->cfg.prog;
    for (size_t i = 0; i < p->nsegs; i++) {
        uint64_t n = prog_seg_stored(&p->segs[i]);
        dvm_status st = n ? commit_write(&m->cp, p->segs[i].addr,
                                         p->segs[i].bytes, n) : DVM_OK;
        if (st)
            return st;
    }
    uint64_t sys[2] = { (uint64_t)m->cfg.nrcomps, 1 };
    return commit_write(&m->cp, DISA_SYS_NRCOMP, sys, sizeof sys);
}

/* Writes the program image into a memfd the RComps inherit. */
static dvm_status master_image_fd(master *m)
{
    uint8_t *buf;
    size_t len;
    dvm_status st = image_serialize(m->cfg.prog, &buf, &len);
    if (st)
        return st;
    st = memfd_from_bytes("dvm-image", buf, len, &m->image_fd);
    dvm_free(buf);
    return st;
}

static dvm_status first_runner(master *m)
{
    const dvm_program *p = m->cfg.prog;
    rcb *r = rcb_new(&m->pool);
    if (!r)
        return status_set(DVM_ENOMEM, "out of memory");
    dvm_status st = stacks_alloc(m->stacks,
                                 runner_stack_order(MASTER_FIRST_SS),
                                 STACKS_RUNNER, &r->d.sb);
    if (st) {                   /* a fresh area: only memory can fail */
        rcb_free(r);
        return st;
    }
    assert(r->d.sb == MASTER_FIRST_SB);
    r->d.ss = MASTER_FIRST_SS;
    r->d.flags = RUNNER_STACK_CHOSEN;
    r->d.fi = p->entry;
    r->d.nheap = p->nheap ? (uint32_t)p->nheap : 1;
    r->d.heap = dvm_calloc(r->d.nheap, sizeof *r->d.heap);
    if (!r->d.heap) {
        rcb_free(r);
        return status_set(DVM_ENOMEM, "out of memory");
    }
    if (!p->nheap)
        r->d.heap[0] = (dvm_range){ DISA_RB, DISA_ADDR_LIMIT };
    for (size_t i = 0; i < p->nheap; i++)
        r->d.heap[i] = (dvm_range){ p->heap[i].base,
                                    p->heap[i].base + p->heap[i].len };
    assert(runner_desc_valid(&r->d));
    rcb_push(&m->pool.ready, r);
    return DVM_OK;
}

/* The cluster: the first runner reads the program the setup's commits
 * wrote and the system page as the RComps ready at the start made it
 * (the run starts once they are), restored runners the state restored;
 * they wait for those commits to be stable like any runner made ready by
 * a commit. */
static void gate_first(master *m)
{
    rcb *r;
    while ((r = rcb_pop(&m->pool.ready)))
        rcb_pool_hold(&m->pool, r, space_epoch(m->space));
}

/* ---- output channels ------------------------------------------------------ */

static const char *out_binding(const master *m, const char *name)
{
    for (size_t i = 0; i < m->cfg.nout; i++)
        if (!strcmp(m->cfg.out[i].name, name))
            return m->cfg.out[i].path;
    return NULL;
}

static dvm_status open_sinks(master *m)
{
    const dvm_program *p = m->cfg.prog;
    m->sinks = dvm_calloc(p->nchans + 1, sizeof *m->sinks);
    if (!m->sinks)
        return status_set(DVM_ENOMEM, "out of memory");
    io_sink_fn fn = m->cfg.out_fn;
    dvm_status st = fn ? io_sink_open_fn(&m->sinks[0], "stdout", fn,
                                         m->cfg.out_arg, 0)
                       : io_sink_open_fd(&m->sinks[0], "stdout",
                                         STDOUT_FILENO, 0);
    m->nsinks = 1;
    for (size_t i = 0; i < p->nchans && !st; i++) {
        if (p->chans[i].dir != PROG_CHAN_OUT)
            continue;
        const char *path = out_binding(m, p->chans[i].name);
        io_sink *s = &m->sinks[m->nsinks];
        st = fn ? io_sink_open_fn(s, p->chans[i].name, fn, m->cfg.out_arg,
                                  m->nsinks)
             : path ? io_sink_open_file(s, p->chans[i].name, path)
                    : io_sink_open_null(s, p->chans[i].name);
        if (!st)
            m->nsinks++;
    }
    m->cp.sinks = m->sinks;
    m->cp.nsinks = m->nsinks;
    return st;
}

/* ---- dispatch ------------------------------------------------------------- */

typedef struct prefetch_acc {
    msg_runner *r;
    size_t cap;
    int oom;
    int truncated;              /* some visible page was left out */
} prefetch_acc;

static void prefetch_one(void *arg, uint64_t page, uint32_t frame)
{
    prefetch_acc *a = arg;
    if (a->r->npre >= MASTER_PREFETCH_MAX) {
        a->truncated = 1;
        return;
    }
    msg_prefetch *np = dvm_grow(a->r->pre, &a->cap, a->r->npre + 1,
                                sizeof *np);
    if (!np) {
        a->oom = 1;
        return;
    }
    a->r->pre = np;
    a->r->pre[a->r->npre++] = (msg_prefetch){ page, frame };
}

static void prefetch_range(const master *m, prefetch_acc *a, uint64_t lo,
                           uint64_t hi, uint64_t snap)
{
    /* Input windows are local to each RComp and the system page is
     * fetched on touch: prefetch only ordinary SR pages. */
    size_t left = MASTER_PREFETCH_MAX - a->r->npre;
    if (hi > DISA_INPUT_BASE)
        hi = DISA_INPUT_BASE;
    if (lo >= hi)
        return;
    /* One more than fits, so that prefetch_one sees a truncation. */
    space_visible_pages(m->space, lo / DISA_PAGE,
                        (hi + DISA_PAGE - 1) / DISA_PAGE, snap, left + 1,
                        prefetch_one, a);
}

/* A woken watcher reads what it watches (that is why it woke): the pages
 * of its watched ranges go with it, a few at most, so that it does not
 * fetch them one fault at a time.  Not part of the complete list. */
static void prefetch_watched(const master *m, prefetch_acc *a, const rcb *r)
{
    int truncated = a->truncated;
    size_t limit = a->r->npre + MASTER_PREFETCH_WATCH;
    for (uint32_t i = 0; i < r->d.nwatch && a->r->npre < limit; i++) {
        uint64_t lo = r->d.watch[i].lo, hi = r->d.watch[i].hi;
        if (hi > DISA_INPUT_BASE)
            hi = DISA_INPUT_BASE;
        if (lo < hi && a->r->npre < MASTER_PREFETCH_MAX)
            space_visible_pages(m->space, lo / DISA_PAGE,
                                (hi + DISA_PAGE - 1) / DISA_PAGE, r->snap,
                                limit - a->r->npre, prefetch_one, a);
    }
    a->truncated = truncated;
}

/* Describes runner r at snapshot snap for a DISPATCH. */
static dvm_status describe_runner(const master *m, const rcb *r, msg_runner *d)
{
    memset(d, 0, sizeof *d);
    *d = (msg_runner){ .rid = r->rid, .attempt = r->attempt, .snap = r->snap,
                       .d = { .sb = r->d.sb, .ss = r->d.ss, .fi = r->d.fi,
                              .nheap = r->d.nheap, .heap = r->d.heap } };
    prefetch_acc a = { d, 0, 0, 0 };
    prefetch_range(m, &a, r->d.sb, r->d.sb + r->d.ss, r->snap);
    for (uint32_t i = 0; i < r->d.nheap; i++)
        prefetch_range(m, &a, r->d.heap[i].lo, r->d.heap[i].hi, r->snap);
    if (!a.truncated)
        d->flags |= MSG_RUNNER_PREFETCH_COMPLETE;
    prefetch_watched(m, &a, r);
    return a.oom ? status_set(DVM_ENOMEM, "out of memory") : DVM_OK;
}

/* ---- pages that stay ------------------------------------------------------
 * An RComp keeps the pages its runners read from one runner to the next
 * (src/rcomp/keep.c).  They are true to the snapshot of the last runner
 * sent to it, s->keep_snap; a runner on a newer snapshot carries every page
 * a commit changed since (MSG_RUNNER_KEEP), from the space's commit log,
 * or from its trail of recent changes once the GC passed keep_snap: the GC
 * runs every MASTER_GC_COMMITS commits up to the oldest snapshot in
 * flight, which an RComp between two runners does not hold, and with the
 * log alone each RComp dropped every page it kept once per collection (a
 * graph of short tasks then fetched ~4 pages a runner on touch, one in 25
 * runners).  When neither reaches back, the list would be long, or the
 * snapshot is older, the runner goes without the flag and the RComp drops
 * everything. */

typedef struct inval_acc {
    msg_runner *r;
    size_t cap;
    int oom;
} inval_acc;

static void inval_one(void *arg, uint64_t page)
{
    inval_acc *a = arg;
    uint64_t *v = dvm_grow(a->r->inval, &a->cap, a->r->ninval + 1, sizeof *v);
    if (!v) {
        a->oom = 1;
        return;
    }
    a->r->inval = v;
    a->r->inval[a->r->ninval++] = page;
}

/*
 * The version each listed page has at d's snapshot (MSG_RUNNER_KEEP_FRAMES).
 * Why: on a host whose page-table changes are dear (a fault and an unmap
 * cost 3-10 us a page on the VM of docs/performance.md, a 4 KiB copy well
 * under one), an RComp that keeps a page some commit changed copies the
 * new version over it rather than dropping it and faulting it in again;
 * this lets it.  Each frame is one the snapshot sees, so it lives while
 * the runner is in flight (GC keeps what live snapshots see).  Without
 * memory for the frames the list goes without them.
 */
static void keep_frames(const master *m, msg_runner *d)
{
    if (d->ninval &&
        !(d->inval_frame = dvm_malloc(d->ninval * sizeof *d->inval_frame)))
        return;
    for (uint32_t i = 0; i < d->ninval; i++)
        d->inval_frame[i] = space_lookup(m->space, d->inval[i], d->snap);
    d->flags |= MSG_RUNNER_KEEP_FRAMES;
}

/* Sets d's MSG_RUNNER_KEEP list for slot s, then makes d's snapshot the
 * one s's pages are true to. */
static void describe_keep(const master *m, rcomp_slot *s, msg_runner *d)
{
    if (s->keep_valid && s->keep_snap <= d->snap) {
        inval_acc a = { d, 0, 0 };
        size_t n = space_pages_changed_past_gc(m->space, s->keep_snap,
                                               d->snap, MASTER_INVAL_MAX,
                                               inval_one, &a);
        if (n != SIZE_MAX && !a.oom) {
            d->flags |= MSG_RUNNER_KEEP;
            keep_frames(m, d);
        }
    }
    if (!(d->flags & MSG_RUNNER_KEEP)) {
        dvm_free(d->inval);
        d->inval = NULL;
        d->ninval = 0;
    }
    s->keep_snap = d->snap;
    s->keep_valid = 1;
}

/* ---- locality --------------------------------------------------------------
 * A runner is cheapest on the RComp that last ran a runner with the same
 * heap: the pages that runner read (and the input pages) may still be
 * mapped there.  Each slot remembers the first heap page of the runners
 * sent to it, in a small direct-mapped table (s->recent); a batch for s
 * takes, among the first MASTER_LOCALITY_SCAN ready runners, the first
 * whose first heap page is there, else the head.  A runner passed over
 * stays in front; after MASTER_LOCALITY_SCAN picks that passed it over,
 * the head goes next whatever its heap, so none starves. */

static uint64_t locality_key(const rcb *r)
{
    return r->d.nheap ? r->d.heap[0].lo / DISA_PAGE : 0;
}

static uint64_t *locality_slot(rcomp_slot *s, uint64_t key)
{
    size_t h = (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 40);
    return &s->recent[h & (RCOMPS_RECENT - 1)];
}

/* Takes the ready runner for s that locality prefers. */
static rcb *locality_take(master *m, rcomp_slot *s, rcb_queue *q)
{
    rcb *prev = NULL, *r = s->any_recent ? q->head : NULL;
    /* (An empty table matches nothing: runners without a heap, as a
     * runner-per-task program makes them, cost no scan.) */
    for (int i = 0; r && i < MASTER_LOCALITY_SCAN &&
                    m->head_passed < MASTER_LOCALITY_SCAN; i++) {
        uint64_t key = locality_key(r);
        if (key && *locality_slot(s, key) == key) {
            m->head_passed = prev ? m->head_passed + 1 : 0;
            return rcb_take_after(q, prev);
        }
        prev = r;
        r = r->next;
    }
    m->head_passed = 0;
    r = rcb_pop(q);
    if (r && locality_key(r)) {
        *locality_slot(s, locality_key(r)) = locality_key(r);
        s->any_recent = 1;
    }
    return r;
}

/* The cluster's affinity of the runner r for the slot in a (an
 * affinity_arg). */
typedef struct affinity_arg {
    const master_remote *rm;
    int slot;
} affinity_arg;

static int affinity_score(void *arg, const rcb *r)
{
    const affinity_arg *a = arg;
    return a->rm->affinity(a->rm->arg, a->slot, &r->d);
}

static int link_defers(const master *m, const rcomp_slot *s, const rcb *r);

/* On a cluster: among the next MASTER_AFFINITY_LOOK ready runners, the
 * first of the highest affinity for slot s (master_remote.affinity), or
 * the head when none has any -- unless the links say that runner would
 * start sooner elsewhere (link_defers): then the first of those runners
 * that would not, or NULL (s takes nothing more now). */
static rcb *affinity_take(master *m, rcomp_slot *s, rcb_queue *q)
{
    affinity_arg a = { m->cfg.remote, s->index };
    rcb *prev;
    rcb *r = rcb_peek_preferred(q, MASTER_AFFINITY_LOOK, affinity_score, &a,
                                &prev);
    if (r && link_defers(m, s, r)) {
        size_t k = 0;
        prev = NULL;
        for (r = q->head; r && k < MASTER_AFFINITY_LOOK; k++) {
            if (!link_defers(m, s, r))
                break;
            prev = r;
            r = r->next;
        }
        if (k == MASTER_AFFINITY_LOOK)
            r = NULL;
        m->link_deferred += r == NULL;
    }
    return r ? rcb_take_after(q, prev) : NULL;
}

/* The next runner for slot s: on a cluster the one affinity_take picks
 * (NULL: none for s now); else the ready runner locality prefers
 * (locality_take), or the queue's head.  The cluster is told where each
 * runner went (placed). */
static rcb *take_runner(master *m, rcomp_slot *s, rcb_queue *q)
{
    const master_remote *rm = m->cfg.remote;
    rcb *r;
    if (q != &m->pool.ready)
        r = rcb_pop(q);
    else if (!rm || !rm->affinity)
        r = locality_take(m, s, q);
    else
        r = affinity_take(m, s, q);
    if (r)
        r->placed_new = rm && rm->placed &&
                        rm->placed(rm->arg, s->index, &r->d);
    return r;
}

/* Takes up to n runners for slot s and sends them as one batch. */
static dvm_status dispatch_batch(master *m, rcomp_slot *s, rcb_queue *q,
                                 size_t n)
{
    msg_runner d[RCB_RING_MAX];
    uint32_t k = 0;
    dvm_status st = DVM_OK;
    uint64_t snap = m->pool.gated ? m->pool.snap : space_epoch(m->space);
    uint64_t now = clock_now_ns();
    assert(s->ready && s->inflight.n + n <= RCB_RING_MAX);
    size_t room = rcomps_claim_room(s);
    if (n > room)
        n = room;
    while (k < n && q->head && !st) {
        rcb *r = take_runner(m, s, q);
        if (!r)
            break;              /* the links keep the rest off s */
        r->snap = snap;
        r->local = 0;           /* a local child run again: as any other */
        rcb_ring_push(&s->inflight, r);
        rcomps_offer(s, r, now);
        if (trace_enabled(&m->trace))   /* no call per runner else */
            trace_dispatch(&m->trace, now, r->rid, s->index + 1);
        st = describe_runner(m, r, &d[k]);
        describe_keep(m, s, &d[k++]);
    }
    if (!k && !st)
        return DVM_OK;
    observe_dispatch(&m->ob, s->index, &s->inflight, k);
    if (!st) {
        msg_dispatch md = { k, d };
        mb_reset(&m->rcs.out);
        msg_encode_dispatch(&m->rcs.out, &md);
    }
    for (uint32_t i = 0; i < k; i++) {
        dvm_free(d[i].pre);
        dvm_free(d[i].inval);
        dvm_free(d[i].inval_frame);
    }
    return st ? st : rcomp_send(&m->rcs, s);
}

/* Exclusive mode: the oldest over-conflicted runner runs alone, on the
 * newest snapshot (in a gated pool once it is stable: an older one could
 * conflict with the commits after it). */
static dvm_status dispatch_exclusive(master *m)
{
    if (m->pool.running_exclusive || rcomps_inflight(&m->rcs) > 0 ||
        (m->pool.gated && m->pool.snap < space_epoch(m->space)))
        return DVM_OK;
    for (int i = 0; i < m->rcs.nrc; i++) {
        if (!m->rcs.rc[i].ready)
            continue;
        m->pool.running_exclusive = m->pool.exclusive.head;
        m->st.exclusive_runs++;
        return dispatch_batch(m, &m->rcs.rc[i], &m->pool.exclusive, 1);
    }
    return DVM_OK;
}

/* The cluster: the runners whose commits are stable now join the ready
 * queue, and the snapshots of this dispatch take the stable epoch. */
static void gate_release(master *m)
{
    const master_remote *rm = m->cfg.remote;
    int waiting = m->pool.unstable.head ||
                  (m->pool.exclusive.head &&
                   m->pool.snap < space_epoch(m->space));
    (void)rcb_pool_release(&m->pool, rm->stable(rm->arg, waiting),
                           space_epoch(m->space));
}

/* ---- placement ---------------------------------------------------------------
 * Which RComps get ready runners, how many, and in what order
 * (sched/place.h has the why).  An RComp refills when half of its batch
 * is left, so short runners go in batches that keep it busy while the
 * master handles the other half's results, with one message (and one
 * wake-up) for dozens of them; long ones keep the in-flight work small,
 * so that the last runners of a run do not queue behind one another on
 * one RComp while another is idle. */

/* What one dispatch knows of the whole set. */
typedef struct place_survey {
    double speed_sum;           /* of the RComps that take work; 0: none
                                   measured, or not weighed */
    size_t ntake;               /* RComps that take work */
    uint32_t factor;            /* of one not measured yet: the mean of
                                   those measured (0: none) */
} place_survey;

/* The round trip to slot s's host (0 for a local RComp). */
static uint64_t slot_net_ns(const master *m, const rcomp_slot *s)
{
    const master_remote *rm = m->cfg.remote;
    return s->remote && rm && rm->net_ns && !m->place_even
           ? rm->net_ns(rm->arg, s->index) : 0;
}

/* Fills *v from the RComps that take work (ready ones). */
static void survey(const master *m, place_survey *v)
{
    uint64_t fsum = 0, known = 0;
    v->ntake = 0;
    v->speed_sum = 0;
    for (int i = 0; i < m->rcs.nrc; i++) {
        const rcomp_slot *s = &m->rcs.rc[i];
        v->ntake += s->ready != 0;
        if (s->ready && s->place.factor) {
            fsum += s->place.factor;
            known++;
        }
    }
    v->factor = known && !m->place_even ? (uint32_t)(fsum / known) : 0;
    for (int i = 0; v->factor && i < m->rcs.nrc; i++)
        if (m->rcs.rc[i].ready)
            v->speed_sum += (double)PLACE_ONE /
                            place_factor(&m->rcs.rc[i].place, v->factor);
}

/* How many runners slot s is to be sent now (0: none, it holds enough).
 * Small batches keep snapshots fresh; larger ones amortise messages when
 * there is plenty of work.  When runners conflict a lot, a batch is one
 * runner: every runner then starts from the newest snapshot and only
 * runners truly running at the same time can conflict. */
static size_t slot_batch(const master *m, const rcomp_slot *s,
                         const place_survey *v, uint64_t net_ns)
{
    size_t per = place_share(m->pool.ready.n,
                             place_factor(&s->place, v->factor),
                             v->speed_sum, v->ntake);
    size_t cap = place_cap(m->rcs.place.runner_ns, net_ns, RCB_RING_MAX);
    size_t batch = per < 2 ? 2 : per > cap ? cap : per;
    size_t nin = s->inflight.n;
    const master_remote *rm = m->cfg.remote;
    if (s->remote && rm && rm->fresh && !m->place_even &&
        rm->fresh(rm->arg, s->index) && batch > PLACE_BATCH_FRESH)
        batch = PLACE_BATCH_FRESH;
    if (m->cp.conflict_rate > 0.2)
        batch = 1;
    if (s->taking)              /* its GIVEN_BACK must find the same newest */
        return 0;
    if (nin > batch / 2 || (batch == 1 && nin))
        return 0;
    return RCB_RING_MAX - nin < batch ? RCB_RING_MAX - nin : batch;
}

/* When slot s would start a runner sent now (0 for all: slot order). */
static uint64_t slot_start_ns(const master *m, const rcomp_slot *s,
                              const place_survey *v, uint64_t net_ns)
{
    return m->place_even ? 0
         : place_start_ns(net_ns, s->inflight.n, m->rcs.place.runner_ns,
                          place_factor(&s->place, v->factor));
}

/* ---- links ------------------------------------------------------------------
 * A runner new to a host reads its input over that host's link
 * (dist/linkcost.h).  Slot s passes it over when another RComp that takes
 * work would fetch it faster by at least twice a runner's time on the
 * fastest other RComp (and by PLACE_QUEUE_NS), and would start it sooner:
 * when that one would start a runner sent now (link_start_ns: its queue,
 * its own time per runner, half its round trip) plus its own fetch of it
 * is less than the same for s.  The runner stays ready for that RComp's
 * next refill, and s's batch ends.  Only a slow link ever says so: links
 * that differ by less than a runner's time (every link of a healthy
 * cluster, whose measures vary with the load as much as with the link)
 * leave queues and speeds to decide alone, as before. */

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* When slot t would start a runner sent now, as the links see it: half
 * its round trip plus its runners in flight times its own time per
 * runner (place_rcomp.own_ns), or at once when it has none yet.  Not the
 * set's average times its factor, as slot_start_ns: the runners that
 * fetched over a slow link are in the set's average, many times a
 * runner's computing time, and would make every queue look as slow as
 * that link (the factor is bounded, and cannot take it out). */
static uint64_t link_start_ns(const master *m, const rcomp_slot *t)
{
    return slot_net_ns(m, t) / 2 + (uint64_t)t->inflight.n * t->place.own_ns;
}

/* The shortest time per runner of the RComps other than s that take
 * work: what a runner costs where fetching is not what it waits for.  Not
 * s's own: on a slow link that is mostly its fetches.  Before any other
 * is measured, the set's average (which then holds s's runners alone). */
static uint64_t link_fastest_ns(const master *m, const rcomp_slot *s)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < m->rcs.nrc; i++) {
        const rcomp_slot *t = &m->rcs.rc[i];
        if (t != s && t->ready && t->place.own_ns && t->place.own_ns < best)
            best = t->place.own_ns;
    }
    return best == UINT64_MAX ? m->rcs.place.runner_ns : best;
}

static int link_defers(const master *m, const rcomp_slot *s, const rcb *r)
{
    const master_remote *rm = m->cfg.remote;
    if (!rm || !rm->fetch_ns || m->place_even || !s->remote)
        return 0;
    uint64_t fetch = rm->fetch_ns(rm->arg, s->index, &r->d);
    if (fetch < PLACE_QUEUE_NS)
        return 0;               /* the common case: no scan of the set */
    uint64_t fastest = link_fastest_ns(m, s);
    uint64_t least = add_sat(fastest, fastest);
    if (least < PLACE_QUEUE_NS)
        least = PLACE_QUEUE_NS;
    if (fetch < least)
        return 0;
    uint64_t here = add_sat(link_start_ns(m, s), fetch);
    for (int i = 0; i < m->rcs.nrc; i++) {
        const rcomp_slot *t = &m->rcs.rc[i];
        if (t == s || !t->ready || !t->remote)
            continue;
        uint64_t there = rm->fetch_ns(rm->arg, i, &r->d);
        if (fetch - least >= there &&
            add_sat(link_start_ns(m, t), there) < here)
            return 1;
    }
    return 0;
}

/* Fills m->picks with the RComps due a refill, soonest to start first;
 * *n is their number. */
static dvm_status pick_rcomps(master *m, size_t *n)
{
    place_survey v;
    size_t k = 0;
    survey(m, &v);
    place_pick *p = dvm_grow(m->picks, &m->cap_picks,
                             (size_t)m->rcs.nrc + 1, sizeof *p);
    if (!p)
        return status_set(DVM_ENOMEM, "out of memory for dispatch");
    m->picks = p;
    for (int i = 0; i < m->rcs.nrc; i++) {
        const rcomp_slot *s = &m->rcs.rc[i];
        uint64_t net = s->ready ? slot_net_ns(m, s) : 0;
        size_t b = s->ready ? slot_batch(m, s, &v, net) : 0;
        if (b)
            p[k++] = (place_pick){ slot_start_ns(m, s, &v, net), i, b };
    }
    place_order(p, k);
    *n = k;
    return DVM_OK;
}

static dvm_status dispatch(master *m)
{
    if (m->pool.gated)
        gate_release(m);
    if (m->pool.exclusive.head || m->pool.running_exclusive)
        return dispatch_exclusive(m);
    if (!m->pool.ready.head)
        return DVM_OK;
    size_t n;
    dvm_status st = pick_rcomps(m, &n);
    for (size_t i = 0; !st && i < n && m->pool.ready.head; i++)
        st = dispatch_batch(m, &m->rcs.rc[m->picks[i].slot],
                            &m->pool.ready, m->picks[i].n);
    return st;
}

/* ---- taking back ------------------------------------------------------------
 * A batch is sized by the runners' average time (place.h), but the runners
 * of one program differ: when one far longer than the rest heads an
 * RComp's queue, those behind it wait for it while other RComps run dry.
 * So when an RComp is idle and nothing is ready, and another RComp has
 * runners queued behind the one it runs, and has either given no result
 * for a while (MASTER_TAKE_BACK_NS, or 4 of the set's average runner
 * times if more: a long runner at its head) or holds that much work in
 * its queue by the set's average (long runners all, as at the end of a
 * phase of unequal ones), the master takes back the newer half of that
 * queue, and dispatch sends it to the idle one.  Its claim board decides
 * each runner against the RComp starting it meanwhile (net/claim.h), and
 * the RComp skips the runners it lost.  Halving again at each idle moment
 * moves every runner from behind a very long one in a few rounds, and few
 * when its runner is about to end.  A remote RComp's board is on its
 * node: the master asks the node (MSG_TAKE_BACK), which takes back what it
 * can and names them (MSG_GIVEN_BACK); until then the master sends that RComp
 * nothing, so the runners named are the newest in its ring.
 * DVM_TAKE_BACK_US sets the silence (0: at once; "off": never; "always":
 * take_back_always, local RComps only). */

#define MASTER_TAKE_BACK_NS 1000000
#define MASTER_TAKE_BACK_ALWAYS (UINT64_MAX - 1)

/* The silence DVM_TAKE_BACK_US=value asks for (0: the default). */
static uint64_t take_back_setting(const char *v)
{
    if (!v || !*v)
        return 0;
    if (!strcmp(v, "off"))
        return UINT64_MAX;
    if (!strcmp(v, "always"))
        return MASTER_TAKE_BACK_ALWAYS;
    char *end;
    unsigned long long us = strtoull(v, &end, 10);
    if (*end || us > UINT64_MAX / 2000) {
        fprintf(stderr, "dvm: DVM_TAKE_BACK_US=%s: not a number of "
                "microseconds; using the default\n", v);
        return 0;
    }
    return us ? us * 1000 : 1;  /* 1 ns: at once */
}

/* How long an RComp must be silent before its queue is taken. */
static uint64_t take_back_silence(const master *m)
{
    if (m->take_back_ns)
        return m->take_back_ns;
    uint64_t t = 4 * m->rcs.place.runner_ns;
    return t > MASTER_TAKE_BACK_NS ? t : MASTER_TAKE_BACK_NS;
}

/* True when some RComp could take work now and has none. */
static int rcomp_idle(const master *m)
{
    for (int i = 0; i < m->rcs.nrc; i++) {
        const rcomp_slot *s = &m->rcs.rc[i];
        if (s->ready && !s->gone && !s->leaving && s->inflight.n == 0)
            return 1;
    }
    return 0;
}

/* The RComp (with a claim board here, or remote) with the most runners
 * queued behind the one it runs among those silent for `silence` at now
 * or whose queue holds MASTER_TAKE_BACK_NS of runners at the set's
 * average, and not paused after a try that took nothing; NULL if none.
 * *due: when the first of the others would be (UINT64_MAX: none). */
static rcomp_slot *take_back_victim(master *m, uint64_t now,
                                    uint64_t silence, uint64_t *due)
{
    rcomp_slot *v = NULL;
    *due = UINT64_MAX;
    for (int i = 0; i < m->rcs.nrc; i++) {
        rcomp_slot *s = &m->rcs.rc[i];
        if ((!s->claim && !s->remote) || !s->ready || s->taking ||
            s->inflight.n < 2)
            continue;
        uint64_t at = s->progress_ns + silence;
        if ((s->inflight.n - 1) * m->rcs.place.runner_ns >=
            MASTER_TAKE_BACK_NS)
            at = now;           /* its queue alone is worth it */
        if (at < s->take_back_ns)
            at = s->take_back_ns;       /* it had none to give lately */
        if (at > now)
            *due = at < *due ? at : *due;
        else if (!v || s->inflight.n > v->inflight.n)
            v = s;
    }
    return v;
}

/* DVM_TAKE_BACK_US=always: every loop takes back half of every local
 * RComp's queue, idle or not (a test of the skip and of what is
 * dispatched after it: tests/cmake/system.cmake). */
static void take_back_always(master *m)
{
    for (int i = 0; i < m->rcs.nrc; i++) {
        rcomp_slot *s = &m->rcs.rc[i];
        if (s->claim && s->ready && s->inflight.n > 1 &&
            !m->pool.running_exclusive)
            (void)rcomps_take_back(&m->rcs, s, s->inflight.n / 2);
    }
}

/* Takes back what "taking back" says; *wait_ms is lowered to when it may
 * next be due.  Returns DVM_OK or a fatal error. */
static dvm_status take_back(master *m, int *wait_ms)
{
    if (m->take_back_ns == MASTER_TAKE_BACK_ALWAYS && m->rcs.claims)
        take_back_always(m);
    if (m->take_back_ns >= MASTER_TAKE_BACK_ALWAYS ||
        m->pool.ready.head || m->pool.exclusive.head ||
        m->pool.running_exclusive || !rcomp_idle(m))
        return DVM_OK;
    uint64_t now = clock_now_ns(), due;
    rcomp_slot *v = take_back_victim(m, now, take_back_silence(m), &due);
    if (v && v->remote)
        return rcomps_take_back_remote(&m->rcs, v, v->inflight.n / 2);
    if (v) {
        (void)rcomps_take_back(&m->rcs, v, v->inflight.n / 2);
        return DVM_OK;
    }
    if (due != UINT64_MAX) {
        int ms = (int)((due - now + 999999) / 1000000);
        if (*wait_ms < 0 || ms < *wait_ms)
            *wait_ms = ms;
    }
    return DVM_OK;
}

/* ---- progress line --------------------------------------------------------- */

static void progress_tick(master *m, int final)
{
    if (!m->cfg.progress)
        return;
    uint64_t now = clock_now_ns();
    if (!final && now - m->t0_ns < 1000000000ull)
        return;
    if (!final && now - m->last_progress_ns < 500000000ull)
        return;
    if (final && !m->progress_shown)
        return;
    double dt = (double)(now - m->last_progress_ns) / 1e9;
    double rate = dt > 0 ? (double)(m->st.commits - m->last_progress_commits)
                           / dt : 0;
    fprintf(stderr, "\r\033[Kdvm: %" PRIu64 " runners done, %zu queued, "
            "%zu running, %.0f commits/s%s", m->st.runners_committed +
            m->st.runners_faulted + m->st.runners_aborted,
            m->pool.ready.n + m->pool.exclusive.n + m->pool.unstable.n,
            rcomps_inflight(&m->rcs), rate,
            final ? "\n" : "");
    m->progress_shown = 1;
    m->last_progress_ns = now;
    m->last_progress_commits = m->st.commits;
}

/* ---- metrics: the master's levels -------------------------------------- */

/* Publishes what the master holds (queues, watchers, memory, RComps) and
 * the counters it keeps anyway, when observe_due says so. */
static void observe_levels(master *m, int final)
{
    if (!observe_due(&m->ob, final))
        return;
    space_stats ss;
    space_get_stats(m->space, &ss);
    obs_levels l = {
        .runners_created = m->pool.next_rid - 1,
        .runners_reexecuted = m->st.reexecuted + m->st.rerun_lost,
        .runners_lost = m->st.rerun_lost, .commits = m->st.commits,
        .watchers_created = m->st.watchers_created,
        .watchers_woken = m->st.watchers_woken,
        .watchers_waiting = watch_count(m->watchers),
        .runners_queued = m->pool.ready.n + m->pool.exclusive.n +
                          m->pool.unstable.n,
        .pages_cached = ss.versions, .pages_homed = ss.pages,
        .pages_prefetched = m->st.pages_prefetched,
        .frames_used = store_in_use(m->store),
        .frames_total = store_max_frames(m->store),
        .rcomps_replaced = m->st.rcomps_replaced,
    };
    for (int i = 0; i < m->rcs.nrc; i++) {
        const rcomp_slot *s = &m->rcs.rc[i];
        l.runners_running += s->inflight.n;
        l.rcomps_live += s->pid > 0;
        observe_rcomp(&m->ob, i, s->pid, (uint32_t)s->inflight.n);
    }
    obs_levels_set(m->ob.o, m->ob.node, &l, clock_now_ns());
}

/* ---- the loop ---------------------------------------------------------------- */

static int quiescent(const master *m)
{
    return !m->pool.ready.head && !m->pool.exclusive.head &&
           !m->pool.unstable.head && !m->pool.running_exclusive &&
           rcomps_inflight(&m->rcs) == 0;
}

/* The network's turn in the loop (the cluster master). */
static dvm_status remote_poll(master *m, int *wait_ms)
{
    uint64_t t = clock_now_ns();
    dvm_status st = m->cfg.remote->poll(m->cfg.remote->arg, wait_ms);
    m->st.ns_dispatch += clock_now_ns() - t;
    return st;
}

/* Whether the loop polls before it sleeps (util/spin.h): while RComps run
 * runners their results usually come within microseconds, and a master
 * asleep costs each a wake-up.  While a CPU is left over, always.  When
 * this host's busy RComps take every CPU, only while runners are shorter
 * on average than the poll's budget: then the next result is due within
 * it, and a sleeping master's wake-up (15-20 us between an RComp's ring
 * and the first commit on the VM of docs/performance.md) is on the path
 * of every round of a graph; a poll yields its CPU to the RComp there
 * every other time (spin.c).  Longer runners' results come while the
 * master would sleep anyway, and its polls would only take their time
 * (k-means: 6% slower). */
static int should_spin(const master *m)
{
    int local, remote;
    rcomps_in_flight(&m->rcs, &local, &remote);
    if (!local && !remote)
        return 0;
    uint64_t avg = m->rcs.place.runner_ns;
    return local < spin_cpus() || (avg && avg < spin_budget_ns());
}

dvm_status master_run(master *m)
{
    uint64_t t_start = clock_now_ns();
    dvm_status st = DVM_OK;
    struct epoll_event ev[64];
    spin_mem queues = rcomps_queues(&m->rcs);
    if (m->pool.gated)
        gate_first(m);
    while (!st) {
        uint64_t td = clock_now_ns();
        int tb_ms = -1;
        st = take_back(m, &tb_ms);
        if (!st)
            st = dispatch(m);
        m->st.ns_dispatch += clock_now_ns() - td;
        if (st || quiescent(m))
            break;
        /* While RComps start or run runners, wake now and then to check
         * that they are alive. */
        int wait_ms = -1, to = m->cfg.progress || m->cfg.obs ? 250
                               : rcomps_busy(&m->rcs) ? 500 : -1;
        size_t waiting = rcomps_waiting(&m->rcs);
        if (m->cfg.remote && (st = rcomps_commit_waiting(&m->rcs)))
            break;
        if (m->cfg.remote && (st = remote_poll(m, &wait_ms)))
            break;
        if (wait_ms >= 0 && (to < 0 || wait_ms < to))
            to = wait_ms;
        if (tb_ms >= 0 && (to < 0 || tb_ms < to))
            to = tb_ms;
        /* Waiting results taken: what they made ready is dispatched at
         * once, not after the next event. */
        if (rcomps_waiting(&m->rcs) < waiting)
            to = 0;
        int n = spin_epoll_wait(m->epfd, ev, 64, to,
                                to != 0 && should_spin(m), &queues);
        if (n < 0 && errno != EINTR)
            st = status_set_errno(DVM_ESYS, "epoll_wait");
        for (int i = 0; i < n && !st; i++)
            if (ev[i].data.u64 != MASTER_REMOTE_KEY)
                st = rcomps_on_readable(&m->rcs, ev[i].data.u64);
        if (!st)
            st = rcomps_on_queues(&m->rcs);
        if (!st)
            st = rcomps_check_alive(&m->rcs, clock_now_ns());
        int gc_due = m->st.commits - m->last_gc_commits >=
                     (m->cfg.remote ? MASTER_GC_COMMITS_REMOTE
                                    : MASTER_GC_COMMITS);
        if (!st && m->cfg.remote && m->cfg.remote->batch)
            st = m->cfg.remote->batch(m->cfg.remote->arg, gc_due);
        if (gc_due) {
            if (m->cfg.remote && m->cfg.remote->before_gc)
                m->cfg.remote->before_gc(m->cfg.remote->arg);
            space_gc(m->space, rcomps_oldest_snapshot(&m->rcs));
            m->last_gc_commits = m->st.commits;
        }
        progress_tick(m, 0);
        observe_levels(m, 0);
    }
    if (!st && m->cfg.remote && m->cfg.remote->batch)
        st = m->cfg.remote->batch(m->cfg.remote->arg, 1);
    progress_tick(m, 1);
    assert(watch_count(m->watchers) == m->pool.nwatching);
    m->st.watchers_dropped = watch_count(m->watchers);
    for (rcb *w = m->pool.watching; w; w = w->wnext)
        if (w->d.flags & RUNNER_STACK_CHOSEN) {     /* dropped: done */
            stacks_free(m->stacks, w->d.sb);
            w->d.flags &= ~(uint32_t)RUNNER_STACK_CHOSEN;
        }
    m->st.stack_bytes_held = stacks_owner_bytes(m->stacks, STACKS_RUNNER);
    m->st.ns_run = clock_now_ns() - t_start;
    space_gc(m->space, space_epoch(m->space));
    space_stats ss;
    space_get_stats(m->space, &ss);
    m->st.versions_freed = ss.freed;
    m->st.frames_touched = store_frames_touched(m->store);
    observe_levels(m, 1);
    /* The trace is complete: a failure to write it fails the run. */
    dvm_status tst = trace_close(&m->trace);
    return st ? st : tst;
}

/* ---- create / destroy ------------------------------------------------------ */

static dvm_status master_setup(master *m)
{
    dvm_status st = store_create(MASTER_STORE_FRAMES, &m->store);
    if (!st)
        st = space_create(m->store, &m->space);
    if (!st)
        st = watch_index_create(&m->watchers);
    if (st)
        return st;
    if ((st = stacks_create(DISA_STACK_BASE, DISA_STACK_ORDER, &m->stacks)))
        return st;
    m->cp = (commit_point){ .diag = m->cfg.diag ? m->cfg.diag : stderr,
                            .fault_note = m->cfg.fault_note,
                            .fault_note_arg = m->cfg.fault_note_arg,
                            .store = m->store, .space = m->space,
                            .watchers = m->watchers, .pool = &m->pool,
                            .stacks = m->stacks, .trace = &m->trace,
                            .st = &m->st, .ob = &m->ob,
                            .max_runners = m->cfg.max_runners
                                ? m->cfg.max_runners : MASTER_MAX_RUNNERS };
    m->rcs.frame_owner = mmap(NULL, (size_t)MASTER_STORE_FRAMES * 2,
                          PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m->rcs.frame_owner == MAP_FAILED) {
        m->rcs.frame_owner = NULL;
        return status_set_errno(DVM_ENOMEM, "mmap");
    }
    m->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (m->epfd < 0)
        return status_set_errno(DVM_ESYS, "epoll_create1");
    if (m->cfg.trace_path &&
        (st = trace_open(&m->trace, m->cfg.trace_path, m->t0_ns)))
        return st;
    trace_thread_name(&m->trace, 0, "master");
    const master_remote *rm = m->cfg.remote;
    if ((st = open_sinks(m)) ||
        (st = rm && rm->restore ? rm->restore(rm->arg, &m->cp)
                                : master_load(m)) ||
        (st = master_image_fd(m)) ||
        (!(rm && rm->restore) && (st = first_runner(m))) ||
        (st = observe_setup(&m->ob, m->cfg.obs, m->rcs.nrc, m->cfg.remote)))
        return st;
    m->rcs.epfd = m->epfd;
    m->rcs.image_fd = m->image_fd;
    if (m->cfg.remote) {
        struct epoll_event ev = { .events = EPOLLIN,
                                  .data.u64 = MASTER_REMOTE_KEY };
        if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->cfg.remote->fd, &ev) < 0)
            return status_set_errno(DVM_ESYS, "epoll_ctl");
    }
    return rcomps_start(&m->rcs);
}

dvm_status master_create(const master_config *cfg, master **out)
{
    master *m = dvm_calloc(1, sizeof *m);
    if (!m)
        return status_set(DVM_ENOMEM, "out of memory");
    m->cfg = *cfg;
    m->epfd = m->image_fd = -1;
    m->t0_ns = clock_now_ns();
    m->place_even = getenv("DVM_PLACE") && !strcmp(getenv("DVM_PLACE"),
                                                   "even");
    m->take_back_ns = take_back_setting(getenv("DVM_TAKE_BACK_US"));
    rcb_pool_init(&m->pool);
    if (cfg->remote && cfg->remote->stable)
        rcb_pool_gate(&m->pool);
    m->rcs = (rcomp_set){ .cfg = &m->cfg, .cp = &m->cp, .epfd = -1,
                          .image_fd = -1, .nrc = cfg->nrcomps };
    dvm_status st = master_setup(m);
    if (st) {
        master_destroy(m);
        return st;
    }
    m->st.ns_setup = clock_now_ns() - m->t0_ns;
    *out = m;
    return DVM_OK;
}

dvm_status master_read(const master *m, uint64_t addr, void *buf, size_t n)
{
    uint8_t *dst = buf;
    if (addr >= DISA_ADDR_LIMIT || n > DISA_ADDR_LIMIT - addr)
        return status_set(DVM_ERANGE, "address 0x%llx out of range",
                          (unsigned long long)addr);
    uint64_t epoch = space_epoch(m->space);
    while (n) {
        uint64_t page = addr / DISA_PAGE, off = addr % DISA_PAGE;
        size_t k = DISA_PAGE - off < n ? (size_t)(DISA_PAGE - off) : n;
        uint32_t f = addr >= DISA_RB ? space_lookup(m->space, page, epoch) : 0;
        if (f)
            memcpy(dst, store_frame(m->store, f) + off, k);
        else
            memset(dst, 0, k);
        dst += k;
        addr += k;
        n -= k;
    }
    return DVM_OK;
}

const master_stats *master_get_stats(const master *m)
{
    return &m->st;
}

rcomp_set *master_rcomps(master *m)
{
    return &m->rcs;
}

commit_point *master_commit_point(master *m)
{
    return &m->cp;
}

void master_print_stats(const master *m)
{
    master_fprint_stats(m, stderr);
}

void master_fprint_stats(const master *m, FILE *f)
{
    const master_stats *s = &m->st;
    fprintf(f,
            "dvm: stats: rcomps %d, engine %s\n"
            "  runners: run %" PRIu64 ", committed %" PRIu64 ", aborted %"
            PRIu64 ", faulted %" PRIu64 ", re-executed %" PRIu64
            ", re-run after lost rcomp %" PRIu64 ", run exclusively %" PRIu64
            "\n"
            "  watchers: created %" PRIu64 ", woken %" PRIu64 ", dropped %"
            PRIu64 "\n"
            "  commits %" PRIu64 ", conflicts %" PRIu64 "\n"
            "  pages: prefetched %" PRIu64 ", fetched on touch %" PRIu64
            ", written %" PRIu64 ", versions freed %" PRIu64
            ", frames touched %" PRIu64 "\n"
            "  rcomps replaced %" PRIu64 ", system page signals %" PRIu64
            ", stacks granted %" PRIu64 ", stack bytes held at the end %"
            PRIu64 "\n"
            "  time: setup %.3f ms, run %.3f ms (dispatch %.3f ms, commit "
            "%.3f ms)\n",
            m->cfg.remote ? (int)rcomps_live(&m->rcs) : m->cfg.nrcomps,
            m->cfg.engine, s->runners_run, s->runners_committed,
            s->runners_aborted, s->runners_faulted, s->reexecuted,
            s->rerun_lost, s->exclusive_runs, s->watchers_created,
            s->watchers_woken, s->watchers_dropped, s->commits, s->conflicts,
            s->pages_prefetched, s->pages_faulted, s->pages_written,
            s->versions_freed, s->frames_touched, s->rcomps_replaced,
            s->signals, s->stacks_granted, s->stack_bytes_held,
            s->ns_setup / 1e6,
            s->ns_run / 1e6, s->ns_dispatch / 1e6, s->ns_commit / 1e6);
    if (s->local_started)
        fprintf(f, "  children started where their creator ran %" PRIu64
                ": kept %" PRIu64 ", run again %" PRIu64 ", dropped %" PRIu64
                "\n", s->local_started, s->local_kept, s->local_rerun,
                s->local_dropped);
    if (s->runners_taken_back)
        fprintf(f, "  runners taken back from a busy RComp %" PRIu64 "\n",
                s->runners_taken_back);
    if (m->cfg.remote)
        fprintf(f, "  batches ended by a slow link %" PRIu64 "\n",
                m->link_deferred);
    if (m->pool.gated)
        fprintf(f, "  runners that waited for their commit to be stored at "
                "its homes %" PRIu64 "\n", m->pool.waited);
    jit_cache_counts jc;
    if (m->rcs.jit_cache && !jit_cache_counts_read(m->rcs.jit_cache, &jc))
        fprintf(f, "  translator: regions translated %" PRIu64 ", loaded "
                "from the shared cache %" PRIu64 " (kept from earlier runs %"
                PRIu64 ", without LLVM %" PRIu64 "), bad entries %" PRIu64
                ", translated beside the runner %" PRIu64 ", translating %.1f "
                "ms\n", jc.translated, jc.loaded, jc.kept, jc.native, jc.bad,
                jc.background, (double)jc.translate_us / 1000.0);
}

static void warn_unbound(const master *m)
{
    for (size_t i = 1; i < m->nsinks; i++)
        if (m->sinks[i].fd < 0 && !m->sinks[i].fn && m->sinks[i].bytes)
            fprintf(stderr, "dvm: warning: %" PRIu64 " bytes written to "
                    "unbound channel '%s' were discarded (bind it with "
                    "--out %s=FILE)\n", m->sinks[i].bytes, m->sinks[i].name,
                    m->sinks[i].name);
}

dvm_status master_close_outputs(master *m)
{
    dvm_status first = DVM_OK;
    char why[512];
    if (m->sinks_closed)
        return DVM_OK;
    m->sinks_closed = 1;
    warn_unbound(m);
    for (size_t i = 0; i < m->nsinks; i++) {
        dvm_status st = io_sink_close(&m->sinks[i]);
        if (st && !first) {
            first = st;
            snprintf(why, sizeof why, "%s", status_message());
        } else if (st) {        /* reported here; the first is returned */
            fprintf(stderr, "dvm: error: %s\n", status_message());
        }
    }
    return first ? status_set(first, "%s", why) : DVM_OK;
}

void master_destroy(master *m)
{
    if (!m)
        return;
    rcomps_stop(&m->rcs);
    if (!m->sinks_closed)
        warn_unbound(m);
    for (size_t i = 0; i < m->nsinks; i++)
        (void)io_sink_close(&m->sinks[i]);    /* closed already, or an
                                                   error path */
    dvm_free(m->sinks);
    if (trace_close(&m->trace))
        fprintf(stderr, "dvm: %s\n", status_message());
    dvm_free(m->picks);
    rcb_pool_destroy(&m->pool);
    watch_index_destroy(m->watchers);
    stacks_destroy(m->stacks);
    space_abandon(m->space);        /* the store goes next, whole */
    if (m->store)
        store_destroy(m->store);
    if (m->rcs.frame_owner)
        munmap(m->rcs.frame_owner, (size_t)MASTER_STORE_FRAMES * 2);
    if (m->epfd >= 0)
        close(m->epfd);
    if (m->image_fd >= 0)
        close(m->image_fd);
    dvm_free(m);
}
