/*
 * dremake.c -- the master's watch over versions only their holders can
 * make (see dremake.h).
 *
 * A queue in an array: notes are appended at n and taken at head, and
 * the array is compacted when its taken front is at least half of it.
 * Due times only grow along the queue (a note is due a fixed time after
 * it is made, on a monotonic clock; one made again goes to the back,
 * due after a longer wait and not before the note ahead of it), so
 * dremake_run stops at the first note not due.
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
    dvm_free(r->v);
    dremake_init(r);
}

void dremake_clear(dremake *r)
{
    r->head = r->n = 0;
}

size_t dremake_count(const dremake *r)
{
    return r->n - r->head;
}

/* Appends e.  DVM_ENOMEM (not appended). */
static dvm_status push(dremake *r, const dremake_ent *e)
{
    assert(r->head == r->n || r->v[r->n - 1].due_ns <= e->due_ns);
    if (r->head && r->head >= r->n / 2) {
        memmove(r->v, r->v + r->head, (r->n - r->head) * sizeof *r->v);
        r->n -= r->head;
        r->head = 0;
    }
    dremake_ent *v = dvm_grow(r->v, &r->cap, r->n + 1, sizeof *v);
    if (!v)
        return status_set(DVM_ENOMEM, "out of memory");
    r->v = v;
    r->v[r->n++] = *e;
    return DVM_OK;
}

dvm_status dremake_note(dremake *r, uint64_t page, uint64_t epoch,
                        uint64_t base, const cmsg_tag *t, uint64_t now_ns)
{
    assert(base < epoch);
    const dremake_ent e = { page, epoch, base, *t,
                            now_ns + DREMAKE_FIRST_NS, DREMAKE_FIRST_NS };
    return push(r, &e);
}

/* The wait after w: twice it, at most DREMAKE_WAIT_MAX_NS. */
static uint64_t next_wait(uint64_t w)
{
    return w >= DREMAKE_WAIT_MAX_NS / 2 ? DREMAKE_WAIT_MAX_NS : 2 * w;
}

size_t dremake_run(dremake *r, uint64_t now_ns, const dremake_ops *ops)
{
    size_t made = 0;
    while (r->head < r->n && r->v[r->head].due_ns <= now_ns) {
        dremake_ent e = r->v[r->head++];
        if (ops->state(ops->arg, &e) == DREMAKE_DONE)
            continue;
        ops->remake(ops->arg, &e);
        made++;
        e.wait_ns = next_wait(e.wait_ns);
        e.due_ns = now_ns + e.wait_ns;
        /* Not before the back of the queue (one made again earlier in
         * this look may wait longer): the order stays that of due times,
         * and e waits at most DREMAKE_WAIT_MAX_NS more. */
        if (r->head < r->n && r->v[r->n - 1].due_ns > e.due_ns)
            e.due_ns = r->v[r->n - 1].due_ns;
        (void)push(r, &e);      /* without memory: no longer watched */
    }
    if (r->head == r->n)
        r->head = r->n = 0;
    return made;
}
