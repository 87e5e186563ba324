/*
 * dremake.c -- the master's watch over versions only their holders can
 * make (see dremake.h).
 *
 * Two queues in arrays, each appended at n and taken at head, compacted
 * when its taken front is at least half of it: the notes as they are
 * made (due a fixed time after, on a monotonic clock: in due order by
 * construction), and those made again (due after their own, longer
 * waits: each is put no earlier than the one ahead of it, which keeps
 * that queue in due order too).  So dremake_run stops in each at the
 * first note not due.
 */
#include "dist/dremake.h"

#include <assert.h>
#include <string.h>

#include "util/alloc.h"

void dremake_init(dremake *r)
{
    memset(r, 0, sizeof *r);
}

void dremake_free(dremake *r)
{
    dvm_free(r->fresh.v);
    dvm_free(r->again.v);
    dremake_init(r);
}

void dremake_clear(dremake *r)
{
    r->fresh.head = r->fresh.n = 0;
    r->again.head = r->again.n = 0;
}

static size_t queue_count(const dremake_queue *q)
{
    return q->n - q->head;
}

size_t dremake_count(const dremake *r)
{
    return queue_count(&r->fresh) + queue_count(&r->again);
}

/* Appends e to q, whose back is due no later.  DVM_ENOMEM (not
 * appended). */
static dvm_status push(dremake_queue *q, const dremake_ent *e)
{
    assert(q->head == q->n || q->v[q->n - 1].due_ns <= e->due_ns);
    if (q->head && q->head >= q->n / 2) {
        memmove(q->v, q->v + q->head, (q->n - q->head) * sizeof *q->v);
        q->n -= q->head;
        q->head = 0;
    }
    dremake_ent *v = dvm_grow(q->v, &q->cap, q->n + 1, sizeof *v);
    if (!v)
        return status_set(DVM_ENOMEM, "out of memory");
    q->v = v;
    q->v[q->n++] = *e;
    return DVM_OK;
}

dvm_status dremake_note(dremake *r, uint64_t page, uint64_t epoch,
                        uint64_t base, const cmsg_tag *t, uint64_t now_ns)
{
    assert(base < epoch);
    const dremake_ent e = { page, epoch, base, *t,
                            now_ns + DREMAKE_FIRST_NS, DREMAKE_FIRST_NS };
    assert(r->fresh.head == r->fresh.n ||
           r->fresh.v[r->fresh.n - 1].epoch <= epoch);
    return push(&r->fresh, &e);
}

/* The wait after w: twice it, at most DREMAKE_WAIT_MAX_NS. */
static uint64_t next_wait(uint64_t w)
{
    return w >= DREMAKE_WAIT_MAX_NS / 2 ? DREMAKE_WAIT_MAX_NS : 2 * w;
}

/* e, due at now_ns and not done, made again and put in the queue of
 * those made again: due after twice its last wait, and not before the
 * note ahead of it there (one made again earlier may wait longer), so
 * at most DREMAKE_WAIT_MAX_NS later than its own wait. */
static void remake(dremake *r, dremake_ent e, uint64_t now_ns,
                   const dremake_ops *ops)
{
    ops->remake(ops->arg, &e);
    e.wait_ns = next_wait(e.wait_ns);
    e.due_ns = now_ns + e.wait_ns;
    const dremake_queue *q = &r->again;
    if (q->head < q->n && q->v[q->n - 1].due_ns > e.due_ns)
        e.due_ns = q->v[q->n - 1].due_ns;
    (void)push(&r->again, &e);  /* without memory: no longer watched */
}

/* Takes q's due notes (dremake_run); returns how many were made again. */
static size_t run_queue(dremake *r, dremake_queue *q, uint64_t now_ns,
                        const dremake_ops *ops)
{
    size_t made = 0;
    while (q->head < q->n && q->v[q->head].due_ns <= now_ns) {
        dremake_ent e = q->v[q->head++];
        if (ops->state(ops->arg, &e) == DREMAKE_DONE)
            continue;
        remake(r, e, now_ns, ops);
        made++;
    }
    if (q->head == q->n)
        q->head = q->n = 0;
    return made;
}

size_t dremake_run(dremake *r, uint64_t now_ns, const dremake_ops *ops)
{
    /* Those made again first: the fresh ones made again in this look go
     * behind them, due later. */
    size_t made = run_queue(r, &r->again, now_ns, ops);
    return made + run_queue(r, &r->fresh, now_ns, ops);
}

/* The first of q's notes whose epoch is at least epoch (q->n: none); q's
 * epochs do not go down. */
static size_t first_at(const dremake_queue *q, uint64_t epoch)
{
    size_t lo = q->head, hi = q->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (q->v[mid].epoch < epoch)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const dremake_ent *dremake_find(const dremake *r, uint64_t page,
                                uint64_t epoch)
{
    const dremake_queue *f = &r->fresh, *a = &r->again;
    for (size_t i = first_at(f, epoch); i < f->n && f->v[i].epoch == epoch;
         i++)
        if (f->v[i].page == page)
            return &f->v[i];
    for (size_t i = a->head; i < a->n; i++)
        if (a->v[i].page == page && a->v[i].epoch == epoch)
            return &a->v[i];
    return NULL;
}
