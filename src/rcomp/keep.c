/*
 * keep.c -- pages that stay in the window from one runner to the next.
 *
 * A page version never changes.  So when a runner needs a page at its
 * snapshot and the window already holds that very version, dropping it at
 * reset and fetching it again (a userfaultfd round trip to the master, tens
 * of microseconds) buys nothing.  This module decides which pages stay.
 *
 * The kept set maps page -> frame: the page's bytes in the window are the
 * frame's (the version the page had when it entered), and the frame is
 * the diff base should the page be written later.  It is a hash table
 * (open addressing, linear probing, at most half full) with two lists
 * beside it: the pages marked dead and the pages marked stale since the
 * last sweep and refresh.  Every operation of a runner's reset costs what
 * it touches, whatever the set's size: a set of thousands of pages (the
 * stacks of a tree of runners that creates many, each page kept after its
 * creator wrote it) made a sorted array's merge and sweep move the whole
 * array at every runner (docs/performance.md, "A kept set that costs what
 * a runner touches").  Only a sweep and rc_keep_each_marked need order
 * (one drop per run of consecutive pages): they sort the marked pages.
 * Between runner k (snapshot s_k) and runner k+1 (snapshot s_k1) on this
 * RComp:
 *
 *   1. a page runner k touched stays if it is an ordinary SR page (not
 *      the system page, not PR or a zero span, which the window resets;
 *      input pages, immutable, stay in the window's own capped ring) that
 *      lies outside runner k's writable set at its end
 *      (own stack, heap ranges, the stacks of the runners it created), with
 *      its base frame known.  Every other touched page is dropped.  The
 *      own stack counts only when a write reached it (vm_own_written: the
 *      interpreter checks every SR store, and a run of translated code
 *      counts as writing it), so the page a runner reads its arguments
 *      from stays like any page it read.
 *   2. the master sends the pages any commit changed in (s_k, s_k1]
 *      (MSG_RUNNER_KEEP); those are dropped, and so are kept pages inside
 *      runner k's writable ranges and runner k+1's declared ranges (stack
 *      and heap: prefetched or zero-spanned for it, and writable).
 *      A page dropped in step 2 that runner k+1 prefetches is not
 *      unmapped but overwritten (run.c, window_refill): all 4096 bytes
 *      become its version at s_k1 before runner k+1 runs, so nothing
 *      runner k wrote or saw survives, and from then on it is a touched
 *      page of runner k+1 (diffed at its commit against that version,
 *      handed to step 1 at the next reset) -- exactly what a page copied
 *      in by UFFDIO_COPY is.  Only the system calls differ.
 *   3. without MSG_RUNNER_KEEP (a long list, a retry on an older snapshot,
 *      an older master) everything is dropped, as before; so it is when
 *      more than RC_KEEP_MAX pages are kept, so that memory stays bounded.
 *   4. with MSG_RUNNER_KEEP_FRAMES the list names, with each page, the
 *      frame of its version at s_k1, and step 2 drops less: a listed page
 *      outside runner k+1's declared ranges is marked stale with that
 *      frame (rc_keep_update), and a page in runner k's writable set
 *      stays too, marked stale with its own frame -- its base, the
 *      version at s_k, which is the version at s_k1 when the list does
 *      not name it (rc_keep_stale_range).  After the sweep, each stale
 *      page still kept gets its frame's 4096 bytes copied over it
 *      (rc_keep_refresh; run.c, window_overwrite): whatever runner k
 *      wrote or saw there is gone.  A page marked dead as well is dropped
 *      (dead wins).
 *      A chosen stack's first page has zeros as its base by choice, not a
 *      version (stacks.c), so run.c marks it dead unless the list names
 *      it (rc_keep_invalidate_unlisted): named, its frame is the version
 *      at s_k1, whoever wrote it -- the creator's commit when it lies in
 *      (s_k, s_k1], as in a chain whose child runs next here.  Why copy rather than
 *      drop: a drop is an madvise now and a fault later, both changes to
 *      the page tables, which cost 3-10 us a page on the VM of
 *      docs/performance.md; a 4 KiB copy costs well under one.
 *
 * Why a kept page is exactly what runner k+1 must read.  Invariant: after
 * step 2 (and 4) for runner k+1, every kept page holds the version visible
 * at s_k1.  Step 4 keeps it by construction: every page it keeps that step
 * 2 would drop has the version at s_k1 copied over it.  A page kept in step 1 entered for runner k at s_k (prefetch or
 * resolver, both at s_k) and runner k could not have written it (only the
 * writable set is writable: vm_check_write faults any other SR store before
 * it happens; an own stack page kept was not written, as the engine saw),
 * so it holds the version at s_k; by induction so does every
 * page kept earlier and not dropped since.  The version visible at s_k1 of
 * a page no commit in (s_k, s_k1] touched is the version visible at s_k
 * (snapshots read the newest version <= their epoch), and step 2 drops
 * every page some commit there did touch.  Hence the invariant.  Its frame
 * stays alive while runner k+1 runs: it is the version s_k1 sees, and GC
 * keeps what in-flight snapshots see.
 *
 * Writes.  The window records only pages that entered, so a runner's store
 * to a kept page (already present: no fault) is invisible to the touched
 * set.  Runner k+1's declared ranges are cleared of kept pages in step 2,
 * so the only writable kept pages are in the stacks of runners it creates
 * (added to the writable set by newr mid-run); the commit marks those and
 * diffs them too (rc_keep_each_marked), and the next reset drops them.
 *
 * The private region and the runner context are not kept pages: the window
 * zeroes the PR for every runner and the context page is rewritten.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "isa/isa.h"
#include "rcomp/keep.h"
#include "util/alloc.h"

#define KEEP_FREE UINT64_MAX    /* an empty slot's page: no SR page is it */
#define KEEP_MIN_CAP 64u

/* Slot where page's probe starts (Fibonacci hashing). */
static size_t home(const rc_keep *k, uint64_t page)
{
    return (size_t)((page * 0x9E3779B97F4A7C15ull) >> (64 - k->bits));
}

/* Slot holding page, or SIZE_MAX. */
static size_t find(const rc_keep *k, uint64_t page)
{
    if (!k->cap)
        return SIZE_MAX;
    size_t mask = k->cap - 1;
    for (size_t i = home(k, page);; i = (i + 1) & mask) {
        if (k->v[i].page == page)
            return i;
        if (k->v[i].page == KEEP_FREE)
            return SIZE_MAX;
    }
}

/* Puts page with frame in (a kept page of that number takes the new
 * frame: it entered again).  The table has room (n < cap / 2). */
static void insert(rc_keep *k, uint64_t page, uint32_t frame)
{
    assert(page != KEEP_FREE && 2 * (k->n + 1) <= k->cap);
    size_t mask = k->cap - 1, i = home(k, page);
    while (k->v[i].page != KEEP_FREE && k->v[i].page != page)
        i = (i + 1) & mask;
    k->n += k->v[i].page == KEEP_FREE;
    k->v[i] = (rc_kept){ page, frame, 0, 0 };
}

/* Empties slot i, moving back the entries after it that probed past it
 * (linear probing's deletion without tombstones). */
static void erase(rc_keep *k, size_t i)
{
    size_t mask = k->cap - 1;
    for (size_t j = (i + 1) & mask; k->v[j].page != KEEP_FREE;
         j = (j + 1) & mask) {
        size_t h = home(k, k->v[j].page);
        /* j's entry may fill i unless its home lies cyclically in (i, j] */
        int stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
        if (!stays) {
            k->v[i] = k->v[j];
            i = j;
        }
    }
    k->v[i] = (rc_kept){ KEEP_FREE, 0, 0, 0 };
    k->n--;
}

/* Grows the table (and the mark lists, which never hold more than the
 * table) so that `need` entries fit at most half full.  Call with nothing
 * marked.  DVM_ENOMEM: the set unchanged. */
static dvm_status reserve(rc_keep *k, size_t need)
{
    assert(!k->nmarked && !k->nstale);
    if (2 * need <= k->cap)
        return DVM_OK;
    size_t cap = k->cap ? k->cap : KEEP_MIN_CAP;
    unsigned bits = k->cap ? k->bits : 6;
    while (2 * need > cap) {
        cap *= 2;
        bits++;
    }
    rc_kept *v = dvm_malloc(cap * sizeof *v);
    uint64_t *marked = dvm_malloc(cap * sizeof *marked);
    uint64_t *stale = dvm_malloc(cap * sizeof *stale);
    if (!v || !marked || !stale) {
        dvm_free(v);
        dvm_free(marked);
        dvm_free(stale);
        return status_set(DVM_ENOMEM, "kept pages");
    }
    for (size_t i = 0; i < cap; i++)
        v[i] = (rc_kept){ KEEP_FREE, 0, 0, 0 };
    rc_keep old = *k;
    k->v = v;
    k->cap = cap;
    k->bits = bits;
    k->n = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.v[i].page != KEEP_FREE)
            insert(k, old.v[i].page, old.v[i].frame);
    assert(k->n == old.n);
    dvm_free(old.v);
    dvm_free(old.marked);
    dvm_free(old.stale);
    k->marked = marked;
    k->stale = stale;
    return DVM_OK;
}

void rc_keep_free(rc_keep *k)
{
    dvm_free(k->v);
    dvm_free(k->add);
    dvm_free(k->marked);
    dvm_free(k->stale);
    memset(k, 0, sizeof *k);
}

int rc_keep_get(const rc_keep *k, uint64_t page, uint32_t *frame)
{
    size_t i = find(k, page);
    if (i == SIZE_MAX)
        return 0;
    *frame = k->v[i].frame;
    return 1;
}

int rc_keep_get_live(const rc_keep *k, uint64_t page, uint32_t *frame)
{
    size_t i = find(k, page);
    if (i == SIZE_MAX || k->v[i].dead || k->v[i].stale)
        return 0;
    *frame = k->v[i].frame;
    return 1;
}

dvm_status rc_keep_note(rc_keep *k, uint64_t page, uint32_t frame)
{
    if (k->nadd == k->capadd) {
        rc_kept *a = dvm_grow(k->add, &k->capadd, k->nadd + 1, sizeof *a);
        if (!a)
            return status_set(DVM_ENOMEM, "kept pages");
        k->add = a;
    }
    k->add[k->nadd++] = (rc_kept){ page, frame, 0, 0 };
    return DVM_OK;
}

/* Merges the noted pages into the set (a noted page replaces a kept one
 * of the same number: it entered again, from a newer frame). */
dvm_status rc_keep_merge(rc_keep *k)
{
    assert(!k->nmarked && !k->nstale);
    if (!k->nadd)
        return DVM_OK;
    dvm_status st = reserve(k, k->n + k->nadd);
    if (st)
        return st;
    for (size_t j = 0; j < k->nadd; j++)
        insert(k, k->add[j].page, k->add[j].frame);
    k->nadd = 0;
    return DVM_OK;
}

/* Marks slot i dead, listing its page once.  The list cannot overflow:
 * an entry is listed at most once between sweeps, and it has a slot per
 * table slot. */
static void mark(rc_keep *k, size_t i)
{
    if (k->v[i].dead)
        return;
    assert(k->nmarked < k->cap);
    k->v[i].dead = 1;
    k->marked[k->nmarked++] = k->v[i].page;
}

/* Marks slot i stale, listing its page once (as mark). */
static void stale_one(rc_keep *k, size_t i)
{
    if (k->v[i].dead || k->v[i].stale)
        return;
    assert(k->nstale < k->cap);
    k->v[i].stale = 1;
    k->stale[k->nstale++] = k->v[i].page;
}

/* Calls each(k, slot) for the kept pages in [lo, hi): by lookup when the
 * range is smaller than the table, else by a walk of the table. */
static void each_in_range(rc_keep *k, uint64_t lo, uint64_t hi,
                          void (*each)(rc_keep *, size_t))
{
    if (lo >= hi || !k->n)
        return;
    if (hi - lo <= k->cap) {
        for (uint64_t p = lo; p < hi; p++) {
            size_t i = find(k, p);
            if (i != SIZE_MAX)
                each(k, i);
        }
        return;
    }
    for (size_t i = 0; i < k->cap; i++)
        if (k->v[i].page != KEEP_FREE && k->v[i].page >= lo &&
            k->v[i].page < hi)
            each(k, i);
}

void rc_keep_invalidate(rc_keep *k, uint64_t page)
{
    size_t i = find(k, page);
    if (i != SIZE_MAX)
        mark(k, i);
}

void rc_keep_invalidate_range(rc_keep *k, uint64_t lo, uint64_t hi)
{
    each_in_range(k, lo, hi, mark);
}

void rc_keep_invalidate_all(rc_keep *k)
{
    for (size_t i = 0; i < k->cap; i++)
        if (k->v[i].page != KEEP_FREE)
            mark(k, i);
}

void rc_keep_update(rc_keep *k, uint64_t page, uint32_t frame)
{
    size_t i = find(k, page);
    if (i == SIZE_MAX)
        return;
    k->v[i].frame = frame;
    stale_one(k, i);
}

void rc_keep_invalidate_unlisted(rc_keep *k, uint64_t page)
{
    size_t i = find(k, page);
    if (i != SIZE_MAX && !k->v[i].stale)
        mark(k, i);
}

void rc_keep_restore_unlisted(rc_keep *k, uint64_t page, uint32_t frame)
{
    size_t i = find(k, page);
    if (i == SIZE_MAX || k->v[i].stale)
        return;
    k->v[i].frame = frame;
    stale_one(k, i);
}

void rc_keep_stale_range(rc_keep *k, uint64_t lo, uint64_t hi)
{
    each_in_range(k, lo, hi, stale_one);
}

size_t rc_keep_refresh(rc_keep *k,
                       void (*copy)(void *arg, uint64_t page, uint32_t frame),
                       void *arg)
{
    assert(!k->nmarked);
    size_t n = 0;
    for (size_t j = 0; j < k->nstale; j++) {
        size_t i = find(k, k->stale[j]);
        if (i == SIZE_MAX || !k->v[i].stale)
            continue;           /* dropped since it was marked */
        assert(!k->v[i].dead);
        copy(arg, k->v[i].page, k->v[i].frame);
        k->v[i].stale = 0;
        n++;
    }
    k->nstale = 0;
    return n;
}

static int cmp_page(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts the marked pages, ascending (unique: each is listed once). */
static void sort_marked(rc_keep *k)
{
    if (k->nmarked > 1)
        qsort(k->marked, k->nmarked, sizeof *k->marked, cmp_page);
}

size_t rc_keep_sweep(rc_keep *k, void (*drop)(void *arg, uint64_t page,
                                              uint64_t n), void *arg)
{
    size_t n = k->nmarked;
    if (!n)                     /* the common case costs nothing */
        return 0;
    sort_marked(k);
    for (size_t j = 0; j < n; j++) {
        size_t i = find(k, k->marked[j]);
        assert(i != SIZE_MAX && k->v[i].dead);
        erase(k, i);
    }
    for (size_t j = 0; j < n;) {        /* one call per consecutive run */
        size_t e = j + 1;
        while (e < n && k->marked[e] == k->marked[e - 1] + 1)
            e++;
        drop(arg, k->marked[j], e - j);
        j = e;
    }
    k->nmarked = 0;
    return n;
}

void rc_keep_each_marked(rc_keep *k,
                         void (*fn)(void *arg, uint64_t page, uint32_t frame),
                         void *arg)
{
    sort_marked(k);
    for (size_t j = 0; j < k->nmarked; j++) {
        size_t i = find(k, k->marked[j]);
        assert(i != SIZE_MAX && k->v[i].dead);
        fn(arg, k->marked[j], k->v[i].frame);
    }
}
