/*
 * run.c -- the life of one runner inside an RComp (the fast path).
 *
 *   1. the window reset: the PR pages the last runner may have written
 *      go ("The PR reset" below); the pages it touched go too, except
 *      those keep.c shows are still this runner's versions (with
 *      MSG_RUNNER_KEEP: the master's list of pages changed since the last
 *      runner's snapshot), which stay mapped, and
 *      those this runner prefetches, which stay mapped to be overwritten
 *      in step 3 (window_refill: a copy instead of a madvise and a
 *      UFFDIO_COPY; a runner's own stack and heap pages are the ones the
 *      runner before it on the same RComp wrote, often).
 *   2. the runner context page (0x1000): one window_fill of a prepared page.
 *   3. snapshot and prefetch: the base map is emptied, every prefetched page
 *      is recorded with its frame and copied in eagerly, and so are the
 *      known-zero pages of small heap ranges (list_zero_pages).
 *   4. the writable set: own stack and heap ranges.
 *   5. the engine runs from fi; missing pages fault into the resolver.
 *   6. the result: a commit (outputs, clipped changes, children), an abort,
 *      or a fault; one MSG_RESULT (and MSG_RUN_DONE for each span mapped
 *      over frames, adopt.c).
 *
 * An empty runner should cost about ten microseconds all included, so this
 * path allocates nothing once buffers have grown and makes no system call
 * beyond the window's (reset, fill) and the send of the result.  Results
 * are gathered and sent together while more runners wait in the FIFO (up
 * to RC_FLUSH_RESULTS of them, for at most RC_FLUSH_NS): one write and one
 * wake-up of the master instead of one each; rcomp.c flushes before it
 * blocks on the socket.  Over a queue in shared memory (net/shmq.h) each
 * result goes into the queue at once, where a master that polls finds it
 * and can dispatch what it made ready; only the doorbell that wakes a
 * sleeping master waits for the flush.  The price: a result may wait for the end of the
 * runner after it (a long one holds back the short one before it by its
 * own duration); the master sees children a little later in that case.
 *
 * Snapshot invariant: `snap` and the base map are set (under mu) before the
 * engine runs, and only the engine's faults make the handler thread read
 * them; the base map therefore names exactly the frames this runner's pages
 * came from when the commit diffs against them.
 */
#include <assert.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "isa/isa.h"
#include "rcomp/rcomp_int.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/le.h"

#define PG_RB     (DISA_RB / DISA_PAGE)
#define PG_IN     (DISA_INPUT_BASE / DISA_PAGE)

/* The source of known-zero pages filled eagerly (list_zero_pages). */
static const uint8_t zero_page[DISA_PAGE] __attribute__((aligned(4096)));

/* Step 1's first cut for a page the last runner touched (keep.c): an
 * ordinary SR page whose version is known is noted; those the runner could
 * write go right after, by range (reset_window: the writable set is a list,
 * so ranges cost a binary search each, where a test per page would cost
 * the list's length).  Runs under the window's lock; the handler thread is
 * idle between runners. */
static int keep_page(void *arg, uint64_t page)
{
    rcomp *rc = arg;
    if (page < PG_RB || page >= PG_IN)
        return 0;
    uint32_t frame;
    pthread_mutex_lock(&rc->mu);
    int known = rc_basemap_get(&rc->base, page, &frame);
    pthread_mutex_unlock(&rc->mu);
    return known && rc_keep_note(&rc->keep, page, frame) == DVM_OK;
}

static void drop_run(void *arg, uint64_t page, uint64_t n)
{
    window_drop(((rcomp *)arg)->win, page, n);
}

static int cmp_prepage(const void *a, const void *b)
{
    const rc_prepage *x = a, *y = b;
    return x->page < y->page ? -1 : x->page > y->page;
}

/* Entry of page among the n sorted ones of v, or NULL. */
static rc_prepage *find_prepage(rc_prepage *v, size_t n, uint64_t page)
{
    rc_prepage key = { page, 0, 0 };
    return n ? bsearch(&key, v, n, sizeof *v, cmp_prepage) : NULL;
}

/* The whole pages of [lo, hi) below the input windows, as [*a, *b); 1
 * when they make a zero span: enough of them to pay for the two system
 * calls a span costs and not so many that reading them back is slow. */
static int span_pages(uint64_t lo, uint64_t hi, uint64_t *a, uint64_t *b)
{
    *a = (lo + DISA_PAGE - 1) / DISA_PAGE;
    *b = hi / DISA_PAGE;
    if (*b > PG_IN)
        *b = PG_IN;
    return *a < *b && *b - *a >= RC_ZERO_SPAN_MIN &&
           *b - *a <= RC_ZERO_SPAN_MAX;
}

/* True when page lies in a range of mr that may become a zero span. */
static int in_span(const msg_runner *mr, uint64_t page)
{
    uint64_t a, b;
    if (span_pages(mr->d.sb, mr->d.sb + mr->d.ss, &a, &b) && page >= a &&
        page < b)
        return 1;
    for (uint32_t i = 0; i < mr->d.nheap; i++)
        if (span_pages(mr->d.heap[i].lo, mr->d.heap[i].hi, &a, &b) &&
            page >= a && page < b)
            return 1;
    return 0;
}

/* True when page is among the n zero pages listed so far (not sorted
 * yet: in the order of the heap ranges, which may overlap). */
static int listed_zero(const rc_prepage *v, size_t n, uint64_t page)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].page == page)
            return 1;
    return 0;
}

/*
 * Small heap ranges.  A runner's heap slot of a few bytes on a page no
 * commit has written yet (the first runners on each page of commit.dasm's
 * slots, a tree's leaves) is zero at its snapshot, and the master's
 * complete prefetch list says so by leaving it out.  Left to the first
 * touch, it costs a round trip through the handler thread (two wake-ups
 * and a UFFDIO_COPY: the resolver answers "zeros" itself, pages.c); filled
 * before the runner starts, the copy alone, or a memset when the last
 * runner left the page mapped (drop_or_reuse treats it as prefetched).
 * Only heap ranges of at most two pages, outside zero spans, and at most
 * RC_ZERO_EAGER_MAX pages: a runner declares a heap to write it, where an
 * empty runner never touches its stack, and a large range is a zero span.
 * Appends them to rc->prepg (sorted again) marked zero.
 */
static void list_zero_pages(rcomp *rc, const msg_runner *mr)
{
    size_t n0 = rc->nprepg;
    if (!(mr->flags & MSG_RUNNER_PREFETCH_COMPLETE))
        return;
    for (uint32_t i = 0; i < mr->d.nheap; i++) {
        uint64_t lo = mr->d.heap[i].lo / DISA_PAGE;
        uint64_t hi = (mr->d.heap[i].hi + DISA_PAGE - 1) / DISA_PAGE;
        if (hi - lo > 2)
            continue;
        for (uint64_t p = lo; p < hi; p++)
            if (rc->nprepg - n0 < RC_ZERO_EAGER_MAX && p >= PG_RB &&
                p < PG_IN && !in_span(mr, p) &&
                !find_prepage(rc->prepg, n0, p) &&
                !listed_zero(rc->prepg + n0, rc->nprepg - n0, p))
                rc->prepg[rc->nprepg++] = (rc_prepage){ p, 0, 1 };
    }
    if (rc->nprepg > n0 && rc->nprepg > 1)
        qsort(rc->prepg, rc->nprepg, sizeof *rc->prepg, cmp_prepage);
}

/* Lists the pages mr prefetches in rc->prepg, sorted, none resident, and
 * the known-zero pages of its small heap ranges (list_zero_pages). */
static dvm_status list_prefetched(rcomp *rc, const msg_runner *mr)
{
    size_t cap = (size_t)mr->npre + RC_ZERO_EAGER_MAX;
    if (cap > rc->capprepg) {
        rc_prepage *v = dvm_grow(rc->prepg, &rc->capprepg, cap,
                                 sizeof *v);
        if (!v)
            return status_set(DVM_ENOMEM, "prefetch list");
        rc->prepg = v;
    }
    int sorted = 1;
    for (uint32_t i = 0; i < mr->npre; i++) {
        rc->prepg[i] = (rc_prepage){ mr->pre[i].page, 0, 0 };
        sorted &= i == 0 || mr->pre[i - 1].page < mr->pre[i].page;
    }
    rc->nprepg = mr->npre;
    if (!sorted)
        qsort(rc->prepg, rc->nprepg, sizeof *rc->prepg, cmp_prepage);
    list_zero_pages(rc, mr);
    return DVM_OK;
}

/* rc->prepg's entry of page, or NULL when the runner does not prefetch
 * it. */
static rc_prepage *prefetched(const rcomp *rc, uint64_t page)
{
    return find_prepage(rc->prepg, rc->nprepg, page);
}

/* Drops kept pages [page, page + n), except those the next runner
 * prefetches: they stay mapped, marked resident, and prefetch() copies
 * their version over them (window_refill) -- a memcpy where dropping and
 * filling again would cost a madvise and a UFFDIO_COPY (keep.c, step 2). */
static void drop_or_reuse(void *arg, uint64_t page, uint64_t n)
{
    rcomp *rc = arg;
    uint64_t lo = page;
    for (uint64_t p = page; p < page + n && rc->nprepg; p++) {
        rc_prepage *e = prefetched(rc, p);
        if (!e)
            continue;
        e->resident = 1;
        if (p > lo)
            window_drop(rc->win, lo, p - lo);
        lo = p + 1;
    }
    if (lo < page + n)
        window_drop(rc->win, lo, page + n - lo);
}

/*
 * The PR reset.  Every runner starts with a zero PR; dropping the whole
 * 1 GiB prefix with one madvise costs its page-table walk (~2 us on the
 * VM of docs/performance.md), most of an empty runner.  The interpreter
 * knows which PR pages a runner may have written: its stores with a
 * direct-mode address reach only the pages the code names (vm_code's
 * pr_pages, fixed per program), and all its others go through one
 * function that notes them (vm_runner.prw_pages, one bit for each of the
 * first VM_PRW_PAGES pages, and prw_lo/hi beyond; exec/vm.h), as does
 * newr's write of a chosen stack base.  (One byte range for all of them
 * spanned c0's runtime words at 0x2000 and its frames at 0x10000, and
 * every reset of a Task Bench task cleared the 12 pages between them:
 * ~56 KiB of memset a runner.)  Those pages, past the resident
 * prefix, are all the reset must drop (window_plain_written), and of the
 * resident prefix all it must zero (window_plain_kept_written: a memset
 * of 16 KiB per runner was a few percent of a small commit).  Translated
 * code notes its computed-address PR stores the same way (jit.c,
 * jit_ctx.prw_lo/hi); for a program whose direct PR pages make too many
 * ranges the whole PR goes at every reset, as before.
 */
void rc_pr_init(rcomp *rc)
{
    const vm_code *c = rc->code;
    rc->nprs = 0;
    rc->prs_resident = 0;
    for (size_t i = 0; i < c->npr_pages && rc->nprs != SIZE_MAX; i++) {
        uint64_t p = c->pr_pages[i];
        if (p < RC_PR_RESIDENT) {
            rc->prs_resident |= 1ull << p;
            continue;
        }
        if (rc->nprs && rc->prs[rc->nprs - 1].hi == p)
            rc->prs[rc->nprs - 1].hi = p + 1;
        else if (rc->nprs < RC_PR_STATIC_MAX)
            rc->prs[rc->nprs++] = (dvm_range){ p, p + 1 };
        else
            rc->nprs = SIZE_MAX;
    }
}

/* Appends [lo, hi) to v (n entries, room for it), keeping v sorted by lo. */
static size_t pr_insert(dvm_range *v, size_t n, uint64_t lo, uint64_t hi)
{
    size_t i = n;
    for (; i > 0 && v[i - 1].lo > lo; i--)
        v[i] = v[i - 1];
    v[i] = (dvm_range){ lo, hi };
    return n + 1;
}

/* Merges entry i of v (n entries) with entry i + 1; returns n - 1. */
static size_t pr_join(dvm_range *v, size_t n, size_t i)
{
    if (v[i + 1].hi > v[i].hi)
        v[i].hi = v[i + 1].hi;
    memmove(v + i + 1, v + i + 2, (n - i - 2) * sizeof *v);
    return n - 1;
}

size_t rc_pr_ranges(const dvm_range *stat, size_t nstat, uint64_t bits,
                    uint64_t lo, uint64_t hi, dvm_range *out, size_t cap)
{
    dvm_range v[RC_PR_STATIC_MAX + VM_PRW_PAGES / 2 + 1];
    size_t n = 0;
    assert(nstat <= RC_PR_STATIC_MAX && cap >= 1);
    for (size_t i = 0; i < nstat; i++)
        n = pr_insert(v, n, stat[i].lo, stat[i].hi);
    _Static_assert(VM_PRW_PAGES == 64, "bits is one word");
    while (bits) {                      /* each run of set bits: a range */
        unsigned p = (unsigned)__builtin_ctzll(bits);
        uint64_t clear = ~(bits >> p);  /* its first zero ends the run */
        unsigned q = clear ? p + (unsigned)__builtin_ctzll(clear) : 64;
        n = pr_insert(v, n, p, q);
        bits = q < 64 ? bits & ~0ull << q : 0;
    }
    if (lo < hi)
        n = pr_insert(v, n, lo / DISA_PAGE, (hi + DISA_PAGE - 1) / DISA_PAGE);
    for (size_t i = 0; i + 1 < n;)     /* overlapping or adjacent: one */
        if (v[i + 1].lo <= v[i].hi)
            n = pr_join(v, n, i);
        else
            i++;
    while (n > cap) {                   /* too many: close the least gap */
        size_t best = 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (v[i + 1].lo - v[i].hi < v[best + 1].lo - v[best].hi)
                best = i;
        n = pr_join(v, n, best);
    }
    memcpy(out, v, n * sizeof *v);
    return n;
}

int rc_pr_maybe_written(const rcomp *rc, uint64_t page)
{
    const vm_runner *r = &rc->vr;
    if (rc->nprs == SIZE_MAX || page < RC_PR_RESIDENT || page >= PG_RB)
        return 1;
    for (size_t i = 0; i < rc->nprs; i++)
        if (page >= rc->prs[i].lo && page < rc->prs[i].hi)
            return 1;
    if (page < VM_PRW_PAGES && (r->prw_pages >> page & 1))
        return 1;
    return r->prw_lo < r->prw_hi && page >= r->prw_lo / DISA_PAGE &&
           page < (r->prw_hi + DISA_PAGE - 1) / DISA_PAGE;
}

/* The resident PR pages among v's n ranges, with the code's own (bit p:
 * page p).  Not the context page: step 2 writes all of it for every
 * runner. */
static uint64_t pr_resident_written(const rcomp *rc, const dvm_range *v,
                                    size_t n)
{
    uint64_t m = rc->prs_resident;
    for (size_t i = 0; i < n; i++)
        for (uint64_t p = v[i].lo; p < v[i].hi && p < RC_PR_RESIDENT; p++)
            m |= 1ull << p;
    return m & ~(1ull << (DISA_CTX / DISA_PAGE));
}

/* Tells the window which PR pages the last runner may have written: of
 * the resident ones, to zero; of the rest, the static ranges and the
 * dynamic pages (rc_pr_ranges).  Nothing to tell when that is the whole
 * PR (a store through a pointer at 0, say): the reset then zeroes and
 * drops it all. */
static void tell_pr_written(rcomp *rc)
{
    dvm_range v[WINDOW_PLAIN_RANGES];
    if (rc->nprs == SIZE_MAX)
        return;
    size_t n = rc_pr_ranges(rc->prs, rc->nprs, rc->vr.prw_pages,
                            rc->vr.prw_lo, rc->vr.prw_hi, v,
                            WINDOW_PLAIN_RANGES);
    if (n && v[0].lo == 0 && v[0].hi >= PG_RB)
        return;
    window_plain_kept_written(rc->win, pr_resident_written(rc, v, n));
    window_plain_written(rc->win, v, n);
}

typedef void (*keep_mark)(rc_keep *k, uint64_t lo, uint64_t hi);

/* Marks the kept pages of byte range [lo, hi) with mark: dead
 * (rc_keep_invalidate_range) or stale (rc_keep_stale_range). */
static void mark_bytes(rc_keep *k, keep_mark mark, uint64_t lo, uint64_t hi)
{
    if (lo < hi)
        mark(k, lo / DISA_PAGE, (hi + DISA_PAGE - 1) / DISA_PAGE);
}

static void invalidate_bytes(rc_keep *k, uint64_t lo, uint64_t hi)
{
    mark_bytes(k, rc_keep_invalidate_range, lo, hi);
}

/* The first sweep of a reset (what the last commit marked: kept pages
 * in the stacks its runner created) leaves the pages that runner touched
 * to the rest of the reset, which notes them again and drops them with
 * its other written pages: a kept page made a created stack's first page
 * (stacks.c, stack_zero) costs one madvise, not two. */
typedef struct marked_drop {
    rcomp *rc;
    void (*drop)(void *, uint64_t, uint64_t);
} marked_drop;

static void drop_marked(void *arg, uint64_t page, uint64_t n)
{
    marked_drop *m = arg;
    uint64_t lo = page;
    for (uint64_t p = page; p < page + n; p++) {
        if (!window_touched(m->rc->win, p))
            continue;
        if (p > lo)
            m->drop(m->rc, lo, p - lo);
        lo = p + 1;
    }
    if (lo < page + n)
        m->drop(m->rc, lo, page + n - lo);
}

/* Marks the kept pages the last runner may have written: its writable
 * ranges, less its own stack when no write reached it (vm_own_written).
 * A runner reads its arguments there and seldom writes it (c0 never
 * does), so the page stays, true to the version it was given, like a page
 * it only read (keep.c, step 1) -- no madvise at this reset, and no
 * UFFDIO_COPY when the block comes back to this RComp as a created
 * runner's stack.  A page the own stack shares with another writable
 * range is marked through that range.  Only while few pages are kept
 * (RC_KEEP_OWN_MAX). */
static void mark_written(rcomp *rc, keep_mark mark)
{
    const vm_runner *r = &rc->vr;
    int whole = vm_own_written(r) || r->own_lo >= r->own_hi ||
                rc->keep.n >= RC_KEEP_OWN_MAX;
    for (size_t i = 0; i < r->nwr; i++) {
        uint64_t lo = r->wr[i].lo, hi = r->wr[i].hi;
        if (whole) {
            mark_bytes(&rc->keep, mark, lo, hi);
            continue;
        }
        mark_bytes(&rc->keep, mark, lo, hi < r->own_lo ? hi : r->own_lo);
        mark_bytes(&rc->keep, mark, lo > r->own_hi ? lo : r->own_hi, hi);
    }
}

/*
 * Pages changed and pages written, copied over instead of dropped
 * (MSG_RUNNER_KEEP_FRAMES).  Every kept page must hold its version at the
 * new snapshot s_k1 (keep.c).  A listed page has the frame of that
 * version with it: copied over.  A page the last runner may have written
 * and the list does not name had no commit in (s_k, s_k1], the last
 * runner's own included, so its version at s_k1 is its base at s_k, the
 * frame it is kept with: copied back over whatever the runner wrote.
 * Except a chosen stack's first page: its base is zeros by choice
 * (stacks.c), not a version.  If the list names it, with the frame of its
 * version at s_k1 (the creator's commit, when that is in (s_k, s_k1]), it
 * is copied over like any changed page, and the child that reads its
 * arguments there next, often on this RComp, finds it mapped.  If not,
 * its version at s_k1 is the one it had at s_k: when the page was kept
 * then (a block come back to the RComp that ran its last runner,
 * sched/stacks.h), stack_zero noted that version's frame, and it is
 * copied back; otherwise it is dropped as before.  Without frames every
 * listed page is dead already, so the test changes nothing there.  Both copies
 * are 4 KiB in user space; a drop is an madvise now and a fault later,
 * each a page-table change, and those cost 3-10 us a page on the VM of
 * docs/performance.md ("Pages that stay in place").
 */
static void mark_changed(rcomp *rc, const msg_runner *mr, int local)
{
    rc_keep *k = &rc->keep;
    int frames = !!(mr->flags & MSG_RUNNER_KEEP_FRAMES) && !rc->zeroed_lost;
    for (uint32_t i = 0; i < mr->ninval; i++) {
        if (frames && mr->inval_frame[i] != MSG_FRAME_NONE)
            rc_keep_update(k, mr->inval[i], mr->inval_frame[i]);
        else
            rc_keep_invalidate(k, mr->inval[i]);
    }
    rc_local_unkeep(rc, local);
    for (size_t i = 0; i < rc->nzeroed; i++) {
        const rc_zeroed *z = &rc->zeroed[i];
        if (frames && z->kept)
            rc_keep_restore_unlisted(k, z->page, z->frame);
        else
            rc_keep_invalidate_unlisted(k, z->page);
    }
    mark_written(rc, frames ? rc_keep_stale_range
                            : rc_keep_invalidate_range);
    rc->nzeroed = 0;
    rc->zeroed_lost = 0;
}

/* rc_keep_refresh's copy: frame's bytes (0: zeros) over kept page. */
static void copy_version(void *arg, uint64_t page, uint32_t frame)
{
    rcomp *rc = arg;
    window_overwrite(rc->win, page,
                     frame ? store_frame(rc->store, frame) : NULL);
}

/* Step 1 without keeping: every page the last runner touched goes, and
 * every page kept from before it. */
static dvm_status drop_all(rcomp *rc)
{
    rc_keep_invalidate_all(&rc->keep);
    rc_keep_sweep(&rc->keep, drop_run, rc);
    rc->nzeroed = 0;            /* dropped with the rest */
    rc->zeroed_lost = 0;
    return window_reset(rc->win);
}

/* Step 1's start, kept or not: the PR pages the last runner may have
 * written, and what its commit marked (drop: how a page goes). */
static void drop_last(rcomp *rc, void (*drop)(void *, uint64_t, uint64_t))
{
    tell_pr_written(rc);
    marked_drop md = { rc, drop };
    rc_keep_sweep(&rc->keep, drop_marked, &md);
}

/* Step 1's body: the window reset, keeping what keep.c allows. */
static dvm_status reset_keeping(rcomp *rc, const msg_runner *mr,
                                int local)
{
    rc_keep *k = &rc->keep;
    int keep = !!(mr->flags & MSG_RUNNER_KEEP);
    void (*drop)(void *, uint64_t, uint64_t) = keep ? drop_or_reuse
                                                    : drop_run;
    dvm_status st = list_prefetched(rc, mr);
    if (st)
        return st;
    drop_last(rc, drop);
    if (!keep)
        return drop_all(rc);
    k->nadd = 0;
    st = window_reset_keep(rc->win, keep_page, rc);
    if (rc_keep_merge(k)) {     /* no room: drop what was to stay */
        for (size_t i = 0; i < k->nadd; i++)
            drop(rc, k->add[i].page, 1);
        k->nadd = 0;
    }
    if (k->n > RC_KEEP_MAX)     /* memory stays bounded */
        rc_keep_invalidate_all(k);
    mark_changed(rc, mr, local);
    invalidate_bytes(k, mr->d.sb, mr->d.sb + mr->d.ss);
    for (uint32_t i = 0; i < mr->d.nheap; i++)
        invalidate_bytes(k, mr->d.heap[i].lo, mr->d.heap[i].hi);
    rc_keep_sweep(k, drop, rc);
    rc_keep_refresh(k, copy_version, rc);
    return st;
}

/* Step 1: the window reset; then the private copies a local child ran
 * on, which no kept page is based on now, are free (local.c). */
static dvm_status reset_window(rcomp *rc, const msg_runner *mr, int local)
{
    dvm_status st = reset_keeping(rc, mr, local);
    rc_local_after_reset(rc, local);
    return st;
}

/* Step 2: the runner context (DISA.md 5.3). */
static dvm_status load_context(rcomp *rc, const msg_runner *mr)
{
    uint8_t *c = rc->ctx;
    le_st64(c + (DISA_CTX_SB - DISA_CTX), mr->d.sb);
    le_st64(c + (DISA_CTX_SS - DISA_CTX), mr->d.ss);
    le_st64(c + (DISA_CTX_RID - DISA_CTX), mr->rid);
    le_st64(c + (DISA_CTX_FI - DISA_CTX), mr->d.fi);
    le_st64(c + (DISA_CTX_ATTEMPT - DISA_CTX), mr->attempt);
    return window_fill(rc->win, DISA_CTX / DISA_PAGE, c);
}

/* Checks what the engine and the commit rely on in a dispatched runner. */
static dvm_status check_runner(const rcomp *rc, const msg_runner *mr)
{
    if (!runner_desc_valid(&mr->d))
        return status_set(DVM_EPROTO, "runner %llu: bad descriptor",
                          (unsigned long long)mr->rid);
    for (uint32_t i = 0; i < mr->npre; i++)
        if (mr->pre[i].page < PG_RB || mr->pre[i].page >= PG_IN ||
            mr->pre[i].frame >= rc->nframes)
            return status_set(DVM_EPROTO, "runner %llu: bad prefetch page",
                              (unsigned long long)mr->rid);
    for (uint32_t i = 0; mr->inval_frame && i < mr->ninval; i++)
        if (mr->inval_frame[i] >= rc->nframes &&
            mr->inval_frame[i] != MSG_FRAME_NONE)
            return status_set(DVM_EPROTO, "runner %llu: bad frame of a "
                              "changed page", (unsigned long long)mr->rid);
    return DVM_OK;
}

/* True when the master prefetches every page of [a, b).  rc->prepg is
 * sorted, and may name a page twice (the ranges of a runner may overlap:
 * the master lists each range's pages); its known-zero entries lie
 * outside spans, and are not counted. */
static int all_prefetched(const rcomp *rc, uint64_t a, uint64_t b)
{
    size_t lo = 0, hi = rc->nprepg;
    while (lo < hi) {                   /* first entry >= a */
        size_t mid = lo + (hi - lo) / 2;
        if (rc->prepg[mid].page < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint64_t n = 0;
    for (size_t i = lo; i < rc->nprepg && rc->prepg[i].page < b; i++)
        n += !rc->prepg[i].zero &&
             (i == lo || rc->prepg[i].page != rc->prepg[i - 1].page);
    assert(n <= b - a);
    return n == b - a;
}

/*
 * Adds [lo, hi) (bytes) as a candidate zero span (span_pages), unless no
 * page of it is zero: the master prefetches them all.  Why: a span is
 * memory outside the kept pages' machinery -- unregistered, filled by
 * stores that fault each page in, dropped with one madvise at reset and
 * registered again -- so every runner on it pays a page-table change per
 * page twice.  Its pages as ordinary prefetched pages stay mapped after the
 * runner, kept (keep.c), and a later runner's prefetch copies over them:
 * k-means' assign runners declare a slot of partial sums that the round
 * before wrote, and its combining runner all 64 slots.
 */
static void span_candidate(const rcomp *rc, rc_span *v, size_t *n,
                           uint64_t lo, uint64_t hi)
{
    uint64_t a, b;
    if (span_pages(lo, hi, &a, &b) && *n < RC_MAX_SPANS &&
        !all_prefetched(rc, a, b))
        v[(*n)++] = (rc_span){ a, b };
}

static int cmp_span(const void *x, const void *y)
{
    const rc_span *a = x, *b = y;
    return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* When the master's prefetch list is complete, the large declared ranges
 * become zero spans of the window (window_zero_span): their pages that are
 * not prefetched are zero, and the kernel can zero-fill them on touch
 * without a resolver round trip.  The largest are mapped over runs of
 * frames (adopt.c), before the prefetched pages are copied in. */
static dvm_status zero_spans(rcomp *rc, const msg_runner *mr)
{
    if (!(mr->flags & MSG_RUNNER_PREFETCH_COMPLETE))
        return DVM_OK;
    rc_span v[RC_MAX_SPANS];
    size_t n = 0;
    span_candidate(rc, v, &n, mr->d.sb, mr->d.sb + mr->d.ss);
    for (uint32_t i = 0; i < mr->d.nheap; i++)
        span_candidate(rc, v, &n, mr->d.heap[i].lo, mr->d.heap[i].hi);
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_span);
    size_t k = 0;                       /* merge overlapping spans */
    for (size_t i = 0; i < n; i++) {
        if (k && v[i].lo <= v[k - 1].hi) {
            if (v[i].hi > v[k - 1].hi)
                v[k - 1].hi = v[i].hi;
        } else {
            v[k++] = v[i];
        }
    }
    for (size_t i = 0; i < k; i++) {
        dvm_status st = window_zero_span(rc->win, v[i].lo, v[i].hi - v[i].lo);
        if (st == DVM_EAGAIN)
            break;
        if (!st)
            st = rc_adopt_span(rc, v[i].lo, v[i].hi - v[i].lo);
        if (st)
            return st;
    }
    return DVM_OK;
}

/* Step 3: the snapshot, the base map, the prefetched pages. */
static dvm_status prefetch(rcomp *rc, const msg_runner *mr)
{
    dvm_status st = zero_spans(rc, mr);
    if (st)
        return st;
    pthread_mutex_lock(&rc->mu);
    rc->snap = mr->snap;
    rc->cur = mr;
    rc->faulted = 0;
    rc_basemap_clear(&rc->base);
    for (uint32_t i = 0; i < mr->npre && !st; i++)
        st = rc_basemap_put(&rc->base, mr->pre[i].page, mr->pre[i].frame);
    for (size_t i = 0; i < rc->nprepg && !st; i++)
        if (rc->prepg[i].zero)
            st = rc_basemap_put(&rc->base, rc->prepg[i].page, 0);
    pthread_mutex_unlock(&rc->mu);
    for (uint32_t i = 0; i < mr->npre && !st; i++) {
        uint64_t page = mr->pre[i].page;
        uint32_t f = mr->pre[i].frame, kf;
        const uint8_t *src = f ? store_frame(rc->store, f) : NULL;
        const rc_prepage *e = prefetched(rc, page);
        if (e && e->resident)   /* mapped, stale: copied over */
            st = window_refill(rc->win, page, src);
        else if (rc_keep_get(&rc->keep, page, &kf) && kf == f)
            continue;           /* this very version is still mapped */
        else
            st = window_fill(rc->win, page, src);
    }
    for (size_t i = 0; i < rc->nprepg && !st; i++) {
        const rc_prepage *e = &rc->prepg[i];
        if (e->zero)    /* a copy of zeros: mapped writable, unlike
                           UFFDIO_ZEROPAGE's shared page */
            st = e->resident ? window_refill(rc->win, e->page, NULL)
                             : window_fill(rc->win, e->page, zero_page);
    }
    return st;
}

/* Step 4: own stack and heap ranges are writable. */
static dvm_status set_writable(rcomp *rc, const msg_runner *mr)
{
    vm_runner_reset(&rc->vr);
    dvm_status st = vm_runner_add_own(&rc->vr, mr->d.sb, mr->d.sb + mr->d.ss);
    for (uint32_t i = 0; i < mr->d.nheap && !st; i++)
        st = vm_runner_add_writable(&rc->vr, mr->d.heap[i].lo, mr->d.heap[i].hi);
    return st;
}

/* Step 5.  A local child runs on the interpreter, which notes its
 * accesses (translated code does not). */
static int engine_run(rcomp *rc, uint64_t fi, int local)
{
    assert(!rc->vr.notes);
    if (local) {
        rc->notes.n = 0;
        rc->notes.overflow = 0;
        rc->vr.notes = &rc->notes;
        int ex = interp_run(&rc->vr, fi);
        rc->vr.notes = NULL;
        return ex;
    }
    if (rc->jit)
        return jit_run(rc->jit, &rc->vr, fi);
    return interp_run(&rc->vr, fi);
}

static void set_fault(msg_result *res, int fault, uint64_t pc, uint64_t addr)
{
    res->exit = MSG_EXIT_FAULT;
    res->fault = (uint32_t)fault;
    res->fault_pc = pc;
    res->fault_addr = addr;
}

/* Step 6 for exit:c.  An output count that does not fit its channel turns
 * the commit into a memory fault of the exit instruction, with the
 * channel's address as the offending address. */
static dvm_status finish_commit(rcomp *rc, const msg_runner *mr,
                                msg_result *res)
{
    uint64_t bad = 0;
    int f = rc_outputs_collect(rc, res, &bad);
    if (f != VM_FAULT_NONE) {
        set_fault(res, f, rc->vr.exit_pc, bad);
        return DVM_OK;
    }
    dvm_status st = rc_commit(rc, mr, res);
    if (st)
        return st;
    res->exit = MSG_EXIT_COMMIT;     /* the children's stacks go with them */
    res->kids = rc->vr.kids;
    res->nkids = (uint32_t)rc->vr.nkids;
    return DVM_OK;
}

/* Steps 1-5; returns the engine's exit or a negative status. */
static int start_and_run(rcomp *rc, const msg_runner *mr, int local)
{
    dvm_status st = check_runner(rc, mr);
    if (!st)
        st = reset_window(rc, mr, local);
    if (!st)
        st = load_context(rc, mr);
    if (!st)
        st = prefetch(rc, mr);
    if (!st)
        st = set_writable(rc, mr);
    if (st)
        return st;
    return engine_run(rc, mr->d.fi, local);
}

dvm_status rc_skip(rcomp *rc)
{
    drop_last(rc, drop_run);
    vm_runner_reset(&rc->vr);   /* nothing it wrote is mapped now */
    dvm_status st = drop_all(rc);
    rc_local_after_reset(rc, 0);
    return st;
}

/*
 * Where the master shares the host's CPUs with its RComps (--yield: the
 * RComps and the master outnumber the CPUs), a master that polls for
 * results is runnable but gets a CPU only when some process there gives
 * one up: the scheduler does not preempt an RComp running its queue for
 * it.  So the results of a round sat in the queue until an RComp ran dry,
 * and a graph of short dependent tasks ran in lock-step rounds: the
 * RComps ran their queues, then waited together while the master
 * committed the round and dispatched the next (docs/performance.md,
 * "The master's turn after a result that creates runners").  A result
 * that creates runners is one the master must commit before they can
 * run; after it, an RComp yields once.  Where the master waits on this
 * CPU it runs now, commits, dispatches and polls again (its polls yield
 * back); elsewhere the yield returns at once (one system call).  A
 * master asleep is rung as before, when the queue runs dry; a result
 * that creates nothing (independent runners, a chain's last task) is not
 * worth a switch.
 */
static void yield_to_master(const rcomp *rc, const msg_result *res)
{
    assert(res->exit == MSG_EXIT_COMMIT || res->nkids == 0);
    if (rc->yield && res->nkids && !res->local &&
        !shmq_reader_sleeps(rc->ctl.q))
        sched_yield();
}

/* 1 when [a, a + n) lies in the chosen stack of one of the runner's
 * children. */
static int in_kid_stack(const vm_runner *r, uint64_t a, uint64_t n)
{
    for (size_t k = 0; k < r->nkids; k++)
        if ((r->kids[k].flags & RUNNER_STACK_CHOSEN) &&
            a >= r->kids[k].sb && a + n <= r->kids[k].sb + r->kids[k].ss)
            return 1;
    return 0;
}

/* A stack the DVM chose for a child reads as zeros from the choice on
 * (stacks.c): what the runner wrote there overwrote no version, so those
 * accesses are no reads of the snapshot, and leave the notes. */
static void drop_kid_stack_notes(rcomp *rc)
{
    size_t w = 0;
    if (!rc->vr.nkids)
        return;
    for (size_t i = 0; i < rc->notes.n; i++)
        if (!in_kid_stack(&rc->vr, rc->notes.v[i].addr, rc->notes.v[i].len))
            rc->notes.v[w++] = rc->notes.v[i];
    rc->notes.n = w;
}

/* A local child's result carries its notes (the interpreter's, as they
 * are: both are runner_notes). */
static void attach_notes(rcomp *rc, msg_result *res)
{
    res->flags = MSG_RESULT_LOCAL;
    if (rc->notes.overflow) {
        res->flags |= MSG_RESULT_UNCHECKED;
        return;
    }
    drop_kid_stack_notes(rc);
    assert(rc->notes.n <= MSG_NOTES_MAX);
    res->notes = rc->notes.v;
    res->nnotes = (uint32_t)rc->notes.n;
}

static dvm_status run_one(rcomp *rc, const msg_runner *mr, int local)
{
    msg_result res = { .rid = mr->rid, .attempt = mr->attempt,
                       .snap = mr->snap, .t_start_ns = clock_now_ns(),
                       .pages_prefetched = mr->npre };
    int ex = start_and_run(rc, mr, local);
    if (ex < 0)
        return ex;
    if (rc->stack_err)          /* the master is gone or spoke nonsense */
        return rc->stack_err;
    dvm_status st = window_failed(rc->win);
    if (st)     /* a page could not be had: the runner saw wrong bytes */
        return status_set(st, "a page could not be fetched (%s)",
                          status_name(st));
    if (ex == VM_EXIT_COMMIT)
        st = finish_commit(rc, mr, &res);
    else if (ex == VM_EXIT_ABORT)
        res.exit = MSG_EXIT_ABORT;
    else
        set_fault(&res, rc->vr.fault, rc->vr.fault_pc, rc->vr.fault_addr);
    if (st)
        return st;
    if (res.exit != MSG_EXIT_COMMIT)    /* its children will never exist */
        vm_runner_release_stacks(&rc->vr);
    if (local)
        attach_notes(rc, &res);
    if (res.exit == MSG_EXIT_COMMIT)
        res.local = rc_local_pick(rc, mr, &res);
    pthread_mutex_lock(&rc->mu);
    res.pages_faulted = rc->faulted;
    rc->cur = NULL;             /* mr does not outlive this call */
    pthread_mutex_unlock(&rc->mu);
    res.t_end_ns = clock_now_ns();
    msg_encode_result(&rc->obuf, &res);
    st = rc_adopt_end(rc);      /* unmapped before the result is sent */
    if (st)
        return st;
    if (!rc->nunsent++)
        rc->unsent_since = res.t_end_ns;
    if (rc->ctl.q && !rc->obuf.oom) {   /* in the queue now, rung later */
        st = conn_send_quiet(&rc->ctl, &rc->obuf);
        mb_reset(&rc->obuf);
        if (st)
            return st;
        yield_to_master(rc, &res);
    }
    if (rc->nunsent < RC_FLUSH_RESULTS && rc->obuf.len < RC_FLUSH_BYTES &&
        res.t_end_ns - rc->unsent_since < RC_FLUSH_NS)
        return rc->obuf.oom ? status_set(DVM_ENOMEM, "result of runner %llu",
                                         (unsigned long long)mr->rid)
                            : DVM_OK;
    return rc_flush(rc);
}

dvm_status rc_run(rcomp *rc, const msg_runner *mr)
{
    rc->loc_depth = 0;
    return run_one(rc, mr, 0);
}

dvm_status rc_run_noted(rcomp *rc, const msg_runner *mr)
{
    return run_one(rc, mr, 1);
}
