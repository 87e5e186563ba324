/*
 * keep.c -- pages that stay in the window from one runner to the next.
 *
 * A page version never changes.  So when a runner needs a page at its
 * snapshot and the window already holds that very version, dropping it at
 * reset and fetching it again (a userfaultfd round trip to the master, tens
 * of microseconds) buys nothing.  This module decides which pages stay.
 *
 * The kept set is a sorted array of {page, frame}: the page's bytes in the
 * window are the frame's (the version the page had when it entered), and
 * the frame is the diff base should the page be written later.  Between
 * runner k (snapshot s_k) and runner k+1 (snapshot s_k1) on this RComp:
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
 *      (dead wins), and a page that cannot be listed stale is marked dead.
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

/* First index whose page is >= page. */
static size_t lower_bound(const rc_keep *k, uint64_t page)
{
    size_t lo = 0, hi = k->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->v[mid].page < page)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void rc_keep_free(rc_keep *k)
{
    dvm_free(k->v);
    dvm_free(k->add);
    dvm_free(k->stale);
    memset(k, 0, sizeof *k);
}

int rc_keep_get(const rc_keep *k, uint64_t page, uint32_t *frame)
{
    size_t i = lower_bound(k, page);
    if (i == k->n || k->v[i].page != page)
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

static int cmp_kept(const void *a, const void *b)
{
    const rc_kept *x = a, *y = b;
    return x->page < y->page ? -1 : x->page > y->page;
}

/* Merges the noted pages into the set (a noted page replaces a kept one
 * of the same number: it entered again, from a newer frame). */
dvm_status rc_keep_merge(rc_keep *k)
{
    assert(!k->nmarked && !k->nstale);
    if (!k->nadd)
        return DVM_OK;
    rc_kept *v = dvm_grow(k->v, &k->cap, k->n + k->nadd, sizeof *v);
    if (!v)
        return status_set(DVM_ENOMEM, "kept pages");
    k->v = v;
    qsort(k->add, k->nadd, sizeof *k->add, cmp_kept);
    /* Merge from the back, both sorted; equal pages keep the noted one. */
    size_t i = k->n, j = k->nadd, o = k->n + k->nadd;
    while (j > 0) {
        if (i > 0 && v[i - 1].page > k->add[j - 1].page) {
            v[--o] = v[--i];
        } else {
            if (i > 0 && v[i - 1].page == k->add[j - 1].page) {
                v[--o] = v[--i];
                v[o].dead = 1;          /* superseded, still mapped */
            }
            v[--o] = k->add[--j];
        }
    }
    assert(o == i);
    k->n += k->nadd;
    k->nadd = 0;
    /* Squeeze out the superseded entries (and repeats among the noted),
     * from the lowest place the merge wrote: below it every entry is an
     * old one, smaller than any noted page, so none is superseded. */
    size_t m = i;
    for (size_t a = i; a < k->n; a++) {
        if (v[a].dead || (m && v[m - 1].page == v[a].page))
            continue;
        v[m++] = v[a];
    }
    k->n = m;
    return DVM_OK;
}

static void mark(rc_keep *k, size_t i)
{
    if (!k->nmarked || i < k->first_marked)
        k->first_marked = i;
    k->nmarked += !k->v[i].dead;
    k->v[i].dead = 1;
}

void rc_keep_invalidate(rc_keep *k, uint64_t page)
{
    size_t i = lower_bound(k, page);
    if (i < k->n && k->v[i].page == page)
        mark(k, i);
}

void rc_keep_invalidate_range(rc_keep *k, uint64_t lo, uint64_t hi)
{
    for (size_t i = lower_bound(k, lo); i < k->n && k->v[i].page < hi; i++)
        mark(k, i);
}

void rc_keep_invalidate_all(rc_keep *k)
{
    for (size_t i = 0; i < k->n; i++)
        mark(k, i);
}

/* Marks entry i stale, listing its page once. */
static void stale_one(rc_keep *k, size_t i)
{
    if (k->v[i].dead || k->v[i].stale)
        return;
    if (k->nstale == k->capstale) {
        uint64_t *s = dvm_grow(k->stale, &k->capstale, k->nstale + 1,
                               sizeof *s);
        if (!s) {               /* dropped instead: slower, as correct */
            mark(k, i);
            return;
        }
        k->stale = s;
    }
    k->stale[k->nstale++] = k->v[i].page;
    k->v[i].stale = 1;
}

void rc_keep_update(rc_keep *k, uint64_t page, uint32_t frame)
{
    size_t i = lower_bound(k, page);
    if (i == k->n || k->v[i].page != page)
        return;
    k->v[i].frame = frame;
    stale_one(k, i);
}

void rc_keep_invalidate_unlisted(rc_keep *k, uint64_t page)
{
    size_t i = lower_bound(k, page);
    if (i < k->n && k->v[i].page == page && !k->v[i].stale)
        mark(k, i);
}

void rc_keep_restore_unlisted(rc_keep *k, uint64_t page, uint32_t frame)
{
    size_t i = lower_bound(k, page);
    if (i == k->n || k->v[i].page != page || k->v[i].stale)
        return;
    k->v[i].frame = frame;
    stale_one(k, i);
}

void rc_keep_stale_range(rc_keep *k, uint64_t lo, uint64_t hi)
{
    for (size_t i = lower_bound(k, lo); i < k->n && k->v[i].page < hi; i++)
        stale_one(k, i);
}

size_t rc_keep_refresh(rc_keep *k,
                       void (*copy)(void *arg, uint64_t page, uint32_t frame),
                       void *arg)
{
    assert(!k->nmarked);
    size_t n = 0;
    for (size_t j = 0; j < k->nstale; j++) {
        size_t i = lower_bound(k, k->stale[j]);
        if (i == k->n || k->v[i].page != k->stale[j] || !k->v[i].stale)
            continue;           /* dropped since it was marked */
        assert(!k->v[i].dead);
        copy(arg, k->v[i].page, k->v[i].frame);
        k->v[i].stale = 0;
        n++;
    }
    k->nstale = 0;
    return n;
}

size_t rc_keep_sweep(rc_keep *k, void (*drop)(void *arg, uint64_t page,
                                              uint64_t n), void *arg)
{
    size_t m = k->first_marked, dropped = 0, i = m;
    if (!k->nmarked)            /* the common case costs nothing */
        return 0;
    while (i < k->n) {          /* (nothing below first_marked moves) */
        if (!k->v[i].dead) {
            k->v[m++] = k->v[i++];
            continue;
        }
        size_t j = i + 1;               /* one call per consecutive run */
        while (j < k->n && k->v[j].dead &&
               k->v[j].page == k->v[j - 1].page + 1)
            j++;
        drop(arg, k->v[i].page, k->v[j - 1].page - k->v[i].page + 1);
        dropped += j - i;
        i = j;
    }
    k->n = m;
    k->nmarked = 0;
    return dropped;
}

void rc_keep_each_marked(const rc_keep *k,
                         void (*fn)(void *arg, uint64_t page, uint32_t frame),
                         void *arg)
{
    if (!k->nmarked)
        return;
    for (size_t i = k->first_marked; i < k->n; i++)   /* none below */
        if (k->v[i].dead)
            fn(arg, k->v[i].page, k->v[i].frame);
}
