/*
 * stacks.c -- stacks chosen by the DVM, as an RComp hands them out
 * (DISA 1.1: `newr` with sb = 0).
 *
 * The master owns the stack area; it grants each RComp blocks of 2^order
 * pages ahead of need, like frames.  The RComp keeps one pool per order
 * and gives a `newr` the newest block of the order its size needs (the
 * engines call rc_stack_alloc through the runner's vm_stack_ops).  A
 * pool asks the master for more ahead of need: when a `newr` leaves it
 * half a batch or less, a MSG_STACK_REQ for about RC_STACK_BATCH_BYTES
 * worth of blocks (at least one) goes into the queue to the master
 * without waiting, like a result, and the MSG_STACKS that answers it is
 * read with the next messages.  A `newr` waits for the master only when
 * its pool is empty: for the answer to the request already sent, or for
 * one it sends then, queueing any DISPATCH meanwhile.  (Before, every
 * pool ran dry first: one creator in sixteen of a graph of short tasks
 * waited a round trip to a master that was busy or asleep, 20-40 µs in
 * the middle of its run.)  An empty grant means the area has no such
 * range free: the creator whose pool is empty faults.
 *
 * The first page of a block taken is made zeros in the window at once,
 * with zeros as its diff base (stack_zero): a UFFDIO_COPY, or a memset
 * when the page is still mapped as a kept page (the own stack of an
 * earlier runner here that did not write it, run.c).  DISA says a chosen stack's
 * contents are unspecified until the creator writes them, and the creator
 * normally writes at once (SIHO: the child's input, at its base): so the
 * creator gets no userfaultfd round trip to the master for a page whose
 * old bytes do not matter.  The commit diffs the page against zeros, so
 * its frame is zeros plus the creator's writes, which the master adopts as
 * the page's next version as is: no commit can have changed the page since
 * the creator's snapshot (the master grants a block only once no snapshot
 * in flight predates its release), so nothing needs merging and the child
 * reads exactly what the creator wrote, zeros elsewhere.
 *
 * The master grants an RComp first the freed blocks whose runners ran
 * there (sched/stacks.h), and asks come at most RC_STACK_BATCH_MAX blocks
 * at a time: such a block's first page is then usually still mapped,
 * kept at the version its last runner read.  stack_zero notes that
 * version's frame, so that a reset whose next snapshot predates the
 * creator's commit copies it back (run.c, mark_changed) instead of
 * dropping the page: a block that circulates between the runners of one
 * RComp costs no page-table change at all.
 *
 * A block goes back to the pool when the attempt that took it will not
 * create its child (abort, fault, an output fault at exit: run.c calls
 * vm_runner_release_stacks).  When the attempt commits, the block travels
 * with the child in the RESULT and belongs to the master from then on,
 * whatever the commit's fate: the master frees it if the commit conflicts
 * and when the child finishes.
 */
#include <assert.h>

#include "isa/isa.h"
#include "rcomp/rcomp_int.h"
#include "util/alloc.h"

/* Blocks to ask for at once for `order`: about RC_STACK_BATCH_BYTES, at
 * most RC_STACK_BATCH_MAX. */
static size_t batch_of(unsigned order)
{
    _Static_assert(RC_STACK_BATCH_MAX <= MSG_STACKS_MAX, "batch too large");
    uint64_t n = RC_STACK_BATCH_BYTES / (DISA_PAGE << order);
    return n < 1 ? 1 : n > RC_STACK_BATCH_MAX ? RC_STACK_BATCH_MAX
                                              : (size_t)n;
}

/* Appends base to the pool of order; DVM_ENOMEM. */
static dvm_status pool_push(rcomp *rc, unsigned order, uint64_t base)
{
    rc_stack_pool *p = &rc->stacks[order];
    uint64_t *v = dvm_grow(p->base, &p->cap, p->n + 1, sizeof *v);
    if (!v)
        return status_set(DVM_ENOMEM, "stack pool");
    p->base = v;
    p->base[p->n++] = base;
    return DVM_OK;
}

dvm_status rc_stacks_add(rcomp *rc, const uint8_t *p, size_t len)
{
    uint64_t base[MSG_STACKS_MAX];
    unsigned order;
    size_t n;
    if (msg_decode_stacks(p, len, &order, base, &n))
        return status_set(DVM_EPROTO, "bad STACKS: %s", status_message());
    /* Taken even when this RComp did not ask: on a cluster, the answer to
     * a request of the process this one replaced may come to it (the
     * master and the node know the RComp by its slot). */
    rc->stacks[order].asked = 0;
    dvm_status st = DVM_OK;
    for (size_t i = 0; i < n && !st; i++)
        st = pool_push(rc, order, base[i]);
    return st;
}

/* Waits until the pool of order has blocks or its request is answered
 * (an answer for another order may come first). */
static dvm_status wait_answer(rcomp *rc, unsigned order)
{
    const rc_stack_pool *p = &rc->stacks[order];
    dvm_status st = DVM_OK;
    while (!st && p->asked && p->n == 0)
        st = rc_wait_reply(rc, MSG_STACKS);
    return st;
}

/* Asks the master for blocks of order and waits for its answer; when a
 * request sent ahead is still out, waits for that one instead (ringing a
 * master that sleeps: the request went in quietly). */
static dvm_status ask_master(rcomp *rc, unsigned order)
{
    rc_stack_pool *p = &rc->stacks[order];
    if (p->asked) {
        dvm_status st = rc_flush_ring(rc);
        return st ? st : wait_answer(rc, order);
    }
    msg_encode_stack_req(&rc->obuf, order, batch_of(order));
    p->asked = 1;
    dvm_status st = rc_flush(rc);       /* results before it, in order */
    return st ? st : wait_answer(rc, order);
}

/* Asks for blocks of order ahead of need (rc_send_ahead), when the pool
 * is down to half a batch and no request is out.  Best effort: a request
 * that cannot go now goes when the pool is empty. */
static void ask_ahead(rcomp *rc, unsigned order)
{
    rc_stack_pool *p = &rc->stacks[order];
    if (p->asked || p->n > batch_of(order) / 2 || rc->stack_err ||
        !rc_may_ask_ahead(rc))
        return;
    msg_encode_stack_req(&rc->obuf, order, batch_of(order));
    p->asked = rc_send_ahead(rc);
}

/* Makes the first page of the stack at sb zeros in the window, with zeros
 * as its diff base.  Best effort: when the window cannot even record the
 * page, it is left as it was, and its first touch fetches it from the
 * master as before (the resolver then replaces the zero base); when the
 * kernel refuses the copy after the page was recorded, the window keeps
 * the failure and the runner does not commit.  A page the window cannot reach
 * (a ThreadSanitizer build's window is 256 GiB, the stack area lies at
 * 62 TiB) is refused by window_fill and recorded nowhere, so the commit
 * does not read it. */
/* Lists page as one whose base is zeros by choice, not the version the
 * snapshot sees: the next reset must not restore it from that base
 * (run.c, reset_window), but from frame, its version's, when it was kept
 * (known). */
static void note_zeroed(rcomp *rc, uint64_t page, int known, uint32_t frame)
{
    if (rc->nzeroed == rc->capzeroed) {
        rc_zeroed *v = dvm_grow(rc->zeroed, &rc->capzeroed, rc->nzeroed + 1,
                                sizeof *v);
        if (!v) {
            rc->zeroed_lost = 1;
            return;
        }
        rc->zeroed = v;
    }
    rc->zeroed[rc->nzeroed++] = (rc_zeroed){ page, frame, known };
}

static void stack_zero(rcomp *rc, uint64_t sb)
{
    static const uint8_t zeros[DISA_PAGE];
    uint64_t page = sb / DISA_PAGE;
    uint32_t kf = 0;
    assert(sb % DISA_PAGE == 0 && sb >= DISA_RB);
    int kept = rc_keep_get(&rc->keep, page, &kf);   /* mapped (an earlier */
    note_zeroed(rc, page, kept, kf);        /* runner's own stack, read) */
    pthread_mutex_lock(&rc->mu);
    dvm_status st = rc_basemap_put(&rc->base, page, 0);
    pthread_mutex_unlock(&rc->mu);
    if (st)
        return;
    if (kept)
        (void)window_refill(rc->win, page, NULL);
    else
        (void)window_fill(rc->win, page, zeros);
}

/* vm_stack_ops.alloc.  A failure to talk to the master is recorded in
 * rc->stack_err (the runner faults; rc_run then stops the RComp). */
static int stack_alloc(void *ctx, uint64_t ss, uint64_t *sb)
{
    rcomp *rc = ctx;
    unsigned order = runner_stack_order(ss);
    assert(ss % DISA_PAGE == 0 && (DISA_PAGE << order) >= ss);
    rc_stack_pool *p = &rc->stacks[order];
    if (p->n == 0 && !rc->stack_err)
        rc->stack_err = ask_master(rc, order);
    if (p->n == 0)
        return rc->stack_err ? VM_FAULT_NOMEM : VM_FAULT_NOSTACK;
    *sb = p->base[--p->n];
    stack_zero(rc, *sb);
    ask_ahead(rc, order);
    return VM_FAULT_NONE;
}

/* vm_stack_ops.release: the block stays granted to this RComp.  The pool
 * had it before, so it has room (no allocation, cannot fail). */
static void stack_release(void *ctx, uint64_t sb, uint64_t ss)
{
    rcomp *rc = ctx;
    rc_stack_pool *p = &rc->stacks[runner_stack_order(ss)];
    assert(p->n < p->cap);
    p->base[p->n++] = sb;
}

void rc_stacks_init(rcomp *rc)
{
    rc->vr.stacks = (vm_stack_ops){ stack_alloc, stack_release, rc };
}

void rc_stacks_free(rcomp *rc)
{
    for (unsigned k = 0; k <= DISA_STACK_ORDER; k++)
        dvm_free(rc->stacks[k].base);
}
