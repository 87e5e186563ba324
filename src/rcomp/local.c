/*
 * local.c -- children started where their creator ran.
 *
 * A chain of tasks used to pass through the master at every step: the
 * creator's result goes to the master, which commits it, makes the child
 * ready and dispatches it, and only then does an RComp start it.  Here an
 * RComp that commits a runner C and has nothing else to do (no runner the
 * master sent waits) starts one of C's children, K, at once: on C's
 * snapshot with C's changes on top, which is what K would see at C's
 * commit unless another commit in between changed what K reads.  The
 * master decides that afterwards (sched/local.h): K runs on the
 * interpreter, which notes every access K makes outside its own stack and
 * the private region with the bytes found (exec/vm.h, vm_notes), and K's
 * result goes to the master with the notes, right after C's.  It is kept
 * if every byte K read holds the same value at C's commit; otherwise the
 * master runs K again as any other runner, and K's first run left nothing
 * behind.  If C does not commit, K's result is dropped.
 *
 * Which child: the first plain runner (not a watcher) on a stack the DVM
 * chose, which no other runner can write; at most RC_LOCAL_DEPTH in a row
 * before the master's dispatch is waited for again, so that a chain's
 * snapshot does not grow ever older; and only when C changed at most
 * RC_LOCAL_PAGES pages.
 *
 * What K sees.  K runs as a runner of C's snapshot whose prefetch list is
 * C's changed pages and K's heap pages (the reset keeps C's other pages,
 * true to that snapshot, as it would for any runner of the same
 * snapshot).  The changed pages' content is C's frames', but those frames
 * are the master's once C's result is sent (it may merge and free them at
 * once, or free them because C conflicted), so each is first copied into
 * a frame of the RComp's own pool: K's base for those pages, which its
 * commit diffs against.  Such a copy is no version of the page, so a page
 * based on it must never be kept as it is for a runner the master sent:
 * the reset before the next such runner makes it the version the master's
 * list of changed pages names for it, or marks it dead when the list does
 * not name it (rc_local_unkeep: the list may predate C's commit, or C may
 * have committed nothing; a dead page stays mapped only to be copied over
 * by that runner's prefetch).  Until then the copies stay, and the pages
 * based on them stay mapped for the local children after K: what those
 * read there is checked by value like anything else, and a child started
 * on the pages of a creator that conflicted is dropped with it.  Dropping
 * those pages at each local child's reset instead cost a madvise and a
 * UFFDIO_COPY a step (the child's stack page) and made a chain slower than
 * the master's dispatch.  The copies go back to the pool after that reset
 * (a chain holds at most RC_LOCAL_HELD); they were never named in a
 * result, so they are still this RComp's.
 *
 * K's run id is the master's to give (it numbers K at C's commit): K's
 * context holds 0 there, and a K that reads it fails the check.
 */
#include <assert.h>
#include <string.h>

#include "rcomp/rcomp_int.h"
#include "util/alloc.h"
#include "util/clock.h"

dvm_status rc_local_init(rcomp *rc)
{
    if (!rc->local_children)
        return DVM_OK;
    rc->notes.v = dvm_malloc(MSG_NOTES_MAX * sizeof *rc->notes.v);
    if (!rc->notes.v)
        return status_set(DVM_ENOMEM, "notes of local children");
    rc->notes.cap = MSG_NOTES_MAX;
    return DVM_OK;
}

void rc_local_free(rcomp *rc)
{
    dvm_free(rc->notes.v);
    rc->notes = (vm_notes){ 0 };
    dvm_free(rc->loc_heap);
    rc->loc_heap = NULL;
    rc->caploc_heap = 0;
}

int rc_idle(rcomp *rc)
{
    size_t left = rc->nfifo - rc->fifo_head;
    if (left > 1 || (left == 1 && rc->fifo_pos < rc->fifo[rc->fifo_head].n))
        return 0;               /* (the runner in progress is counted out:
                                   serve moves fifo_pos past it first) */
    return !conn_ready(&rc->ctl);
}

/* The index of the child of res to start at once, or -1. */
static int pick_child(const msg_result *res)
{
    for (uint32_t i = 0; i < res->nkids; i++)
        if (res->kids[i].nwatch == 0 &&
            (res->kids[i].flags & RUNNER_STACK_CHOSEN))
            return (int)i;
    return -1;
}

/* Whether the RComp may start a child of res now.  The child runs on the
 * interpreter, so with the translator only after a creator that ran
 * briefly (RC_LOCAL_SHORT_NS): a chain of tiny tasks, where the dispatch
 * is most of a step, not one whose hot kernel would run interpreted. */
static int may_start(rcomp *rc, const msg_result *res)
{
    if (!rc->local_children || !res->nkids)     /* most commits: no clock */
        return 0;
    if (rc->jit && clock_now_ns() - res->t_start_ns > RC_LOCAL_SHORT_NS)
        return 0;
    return res->exit == MSG_EXIT_COMMIT && rc->loc_depth < RC_LOCAL_DEPTH &&
           res->nchanges <= RC_LOCAL_PAGES && !rc->nadopted &&
           rc->npool >= res->nchanges + RC_FRAME_BATCH / 4 && !rc->loc_ready &&
           rc->nloc_held + RC_LOCAL_PAGES <= RC_LOCAL_HELD && rc_idle(rc);
}

/* Copies child k's descriptor into loc_kid (its heap into loc_heap). */
static dvm_status keep_child(rcomp *rc, const runner_desc *k)
{
    if (k->nheap > rc->caploc_heap) {
        dvm_range *v = dvm_grow(rc->loc_heap, &rc->caploc_heap, k->nheap,
                                sizeof *v);
        if (!v)
            return status_set(DVM_ENOMEM, "local child");
        rc->loc_heap = v;
    }
    if (k->nheap)
        memcpy(rc->loc_heap, k->heap, k->nheap * sizeof *k->heap);
    rc->loc_kid = *k;
    rc->loc_kid.heap = rc->loc_heap;
    rc->loc_kid.watch = NULL;
    return DVM_OK;
}

/* Appends page to the child's prefetch list with frame f, or (copy) with
 * a frame of the pool holding f's bytes, which the RComp then holds until
 * the pages based on it are settled (rc_local_after_reset).  Room in the
 * list, and a frame in the pool for a copy, are the caller's to ensure. */
static void list_page(rcomp *rc, uint64_t page, uint32_t f, int copy)
{
    assert(rc->nloc_pre < RC_LOCAL_PAGES && (!copy || rc->npool > 0));
    if (copy) {
        uint32_t g = rc->pool[--rc->npool];
        memcpy(store_frame(rc->store, g), store_frame(rc->store, f),
               DISA_PAGE);
        f = g;
    }
    rc->loc_copy[rc->nloc_pre] = (uint8_t)copy;
    rc->loc_pre[rc->nloc_pre++] = (msg_prefetch){ page, f };
}

/*
 * The prefetch list of the child: each changed page of res, in a private
 * copy.  Why copies: the creator's frames are the master's once its result
 * is sent, and the master frees them at once if the creator conflicts (or
 * merges them into new frames): a page of the child's window based on one
 * of them could be read, or kept for a later runner, as a version no
 * snapshot has.  (The pages of stacks the creator chose seemed to need
 * none -- the master installs those frames as they are when the creator
 * commits -- but a creator that conflicts commits nothing, and its frames
 * go back to the store while this RComp would keep the child's stack page
 * as one of them.)
 */
static void copy_changes(rcomp *rc, const msg_result *res)
{
    assert(rc->nloc_pre == 0);
    assert(res->nchanges <= RC_LOCAL_PAGES && rc->npool >= res->nchanges);
    for (uint32_t i = 0; i < res->nchanges; i++)
        list_page(rc, res->changes[i].page, res->changes[i].frame, 1);
}
/* Gives frame f back to the pool, which may have been filled to its
 * capacity by grants since f left it.  Without memory to grow it, f stays
 * unused until the RComp ends (the master takes back what it granted). */
static void pool_put(rcomp *rc, uint32_t f)
{
    if (rc->npool == rc->cappool) {
        uint32_t *v = dvm_grow(rc->pool, &rc->cappool, rc->npool + 1,
                               sizeof *v);
        if (!v)
            return;
        rc->pool = v;
    }
    rc->pool[rc->npool++] = f;
}

/* The child will not start after all: its copies go back to the pool. */
static void return_copies(rcomp *rc)
{
    for (uint32_t i = 0; i < rc->nloc_pre; i++)
        if (rc->loc_copy[i])
            pool_put(rc, rc->loc_pre[i].frame);
    rc->nloc_pre = 0;
}

/* 1 when page is in the prefetch list being built. */
static int listed(const rcomp *rc, uint64_t page)
{
    for (uint32_t i = 0; i < rc->nloc_pre; i++)
        if (rc->loc_pre[i].page == page)
            return 1;
    return 0;
}

/* 1 when frame is a private copy the running local child is based on. */
static int held(const rcomp *rc, uint32_t frame)
{
    for (uint32_t i = 0; i < rc->nloc_held; i++)
        if (rc->loc_held[i].frame == frame)
            return 1;
    return 0;
}

/* Adds page's content at the creator's snapshot (with the changes of the
 * local children before it) to the prefetch list when the RComp knows
 * it: a page the creator had mapped (its base map) or one kept from
 * before it (the reset made those true to that snapshot).  A creator
 * that was itself a local child may have had the page as a private copy,
 * which goes back to the pool at the next reset: copied again.  1 when
 * listed (or listed already), 0 when unknown or no room. */
static int list_known(rcomp *rc, uint64_t page)
{
    uint32_t f;
    if (listed(rc, page))
        return 1;
    pthread_mutex_lock(&rc->mu);
    int known = rc_basemap_get(&rc->base, page, &f);
    pthread_mutex_unlock(&rc->mu);
    if (!known && !rc_keep_get_live(&rc->keep, page, &f))
        return 0;
    int copy = held(rc, f);
    if (rc->nloc_pre == RC_LOCAL_PAGES || (copy && rc->npool == 0))
        return 0;
    list_page(rc, page, f, copy);
    return 1;
}

/* Lists every page of child k's heap ranges, as the master's dispatch
 * would prefetch them (the reset drops a declared page it does not
 * prefetch).  0 when one is not known here: started at once, the child
 * would fetch it from the master on touch, a round trip that costs more
 * than the dispatch it saves.  Large ranges are not looked at page by
 * page. */
static int list_heap(rcomp *rc, const runner_desc *k)
{
    for (uint32_t i = 0; i < k->nheap; i++) {
        uint64_t lo = k->heap[i].lo / DISA_PAGE;
        uint64_t hi = (k->heap[i].hi + DISA_PAGE - 1) / DISA_PAGE;
        if (hi - lo > RC_LOCAL_PAGES)
            return 0;
        for (uint64_t p = lo; p < hi; p++)
            if (!list_known(rc, p))
                return 0;
    }
    return 1;
}

uint32_t rc_local_pick(rcomp *rc, const msg_runner *mr,
                       const msg_result *res)
{
    if (!may_start(rc, res))
        return 0;
    int i = pick_child(res);
    rc->nloc_pre = 0;
    if (i < 0 || keep_child(rc, &res->kids[i]))
        return 0;
    copy_changes(rc, res);
    if (!list_heap(rc, &res->kids[i])) {
        return_copies(rc);
        return 0;
    }
    rc->loc_snap = mr->snap;
    rc->loc_ready = 1;
    return (uint32_t)i + 1;
}

dvm_status rc_local_run(rcomp *rc)
{
    assert(rc->loc_ready);
    msg_runner k = { .rid = 0, .attempt = 0, .snap = rc->loc_snap,
                     .flags = MSG_RUNNER_KEEP, .d = rc->loc_kid,
                     .npre = rc->nloc_pre, .pre = rc->loc_pre };
    rc->loc_ready = 0;
    rc->loc_depth++;
    return rc_run_noted(rc, &k);
}

void rc_local_unkeep(rcomp *rc, int starting_local)
{
    if (starting_local)         /* the chain's view: checked by value */
        return;
    for (uint32_t i = 0; i < rc->nloc_held; i++)
        rc_keep_invalidate_unlisted(&rc->keep, rc->loc_held[i].page);
}

void rc_local_after_reset(rcomp *rc, int starting_local)
{
    if (starting_local) {
        assert(rc->nloc_held + rc->nloc_pre <= RC_LOCAL_HELD);
        for (uint32_t i = 0; i < rc->nloc_pre; i++)
            if (rc->loc_copy[i])
                rc->loc_held[rc->nloc_held++] = rc->loc_pre[i];
        return;
    }
    for (uint32_t i = 0; i < rc->nloc_held; i++)
        pool_put(rc, rc->loc_held[i].frame);
    rc->nloc_held = 0;
}
