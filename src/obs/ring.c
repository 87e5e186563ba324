/*
 * ring.c -- the runner event ring (see ring.h for the protocol).
 *
 * The check is the seqlock's: the writer fences (release) after it has
 * published head = h and before it overwrites the slot of h - cap; a
 * reader fences (acquire) after its copies and then loads head again.  If
 * a copy saw any store of that overwrite, the fences synchronise and the
 * second load sees head >= h, so the reader drops seq h - cap and older.
 */
#include <assert.h>
#include <stdatomic.h>

#include "obs/ring.h"
#include "util/alloc.h"

typedef struct slot {
    _Atomic uint64_t rid, t_start, t_end, packed;
} slot;

struct obs_ring {
    slot *slots;                /* owned, cap of them */
    uint64_t mask;
    _Atomic uint64_t head;
};

dvm_status ring_create(unsigned log2cap, obs_ring **out)
{
    if (log2cap < 4 || log2cap > 24)
        return status_set(DVM_EINVAL, "event ring size 2^%u out of range",
                          log2cap);
    obs_ring *r = dvm_calloc(1, sizeof *r);
    if (!r)
        return status_set(DVM_ENOMEM, "out of memory for the event ring");
    r->slots = dvm_calloc((size_t)1 << log2cap, sizeof *r->slots);
    if (!r->slots) {
        dvm_free(r);
        return status_set(DVM_ENOMEM, "out of memory for the event ring");
    }
    r->mask = ((uint64_t)1 << log2cap) - 1;
    *out = r;
    return DVM_OK;
}

void ring_destroy(obs_ring *r)
{
    if (!r)
        return;
    dvm_free(r->slots);
    dvm_free(r);
}

static uint64_t pack(const ring_event *e)
{
    return (uint64_t)e->rcomp << 32 | (uint64_t)e->node << 16 |
           (uint64_t)e->outcome << 8 | e->attempt;
}

static void unpack(uint64_t p, ring_event *e)
{
    e->rcomp = (uint32_t)(p >> 32);
    e->node = (uint16_t)(p >> 16);
    e->outcome = (uint8_t)(p >> 8);
    e->attempt = (uint8_t)p;
}

void ring_push(obs_ring *r, const ring_event *e)
{
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    slot *s = &r->slots[h & r->mask];
    /* Pairs with ring_read's acquire fence: a reader that sees any of
     * these stores then sees head >= h (seqlock order). */
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&s->rid, e->rid, memory_order_relaxed);
    atomic_store_explicit(&s->t_start, e->t_start_ns, memory_order_relaxed);
    atomic_store_explicit(&s->t_end, e->t_end_ns, memory_order_relaxed);
    atomic_store_explicit(&s->packed, pack(e), memory_order_relaxed);
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

uint64_t ring_head(const obs_ring *r)
{
    return atomic_load_explicit(&r->head, memory_order_acquire);
}

static void copy_slot(const obs_ring *r, uint64_t seq, ring_event *e)
{
    const slot *s = &r->slots[seq & r->mask];
    e->seq = seq;
    e->rid = atomic_load_explicit(&s->rid, memory_order_relaxed);
    e->t_start_ns = atomic_load_explicit(&s->t_start, memory_order_relaxed);
    e->t_end_ns = atomic_load_explicit(&s->t_end, memory_order_relaxed);
    unpack(atomic_load_explicit(&s->packed, memory_order_relaxed), e);
}

/* The k-th of m picks among n > m events: one in each of m equal spans,
 * at a hashed place within its span, so that a periodic pattern in the
 * events (RComps taken in turn) does not alias into the sample, and the
 * picks are strictly increasing. */
static uint64_t pick(uint64_t k, uint64_t m, uint64_t n)
{
    uint64_t lo = k * n / m, hi = (k + 1) * n / m;      /* hi > lo */
    uint64_t h = (k + 1) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    return lo + h % (hi - lo);
}

size_t ring_read(const obs_ring *r, uint64_t since, ring_event *dst,
                 size_t max, uint64_t *next)
{
    uint64_t cap = r->mask + 1;
    uint64_t head = ring_head(r);
    uint64_t from = since;
    if (head - from > cap || from > head)
        from = head > cap ? head - cap : 0;
    uint64_t n = head - from;
    size_t m = n < max ? (size_t)n : max;
    for (size_t k = 0; k < m; k++)
        copy_slot(r, from + (n == m ? k : pick(k, m, n)), &dst[k]);
    /* Order the copies before the second look at head. */
    atomic_thread_fence(memory_order_acquire);
    uint64_t head2 = atomic_load_explicit(&r->head, memory_order_relaxed);
    /* Slots of seq < head2 + 1 - cap may hold newer events (the one of
     * head2 itself may be being written now). */
    uint64_t safe = head2 + 1 > cap ? head2 + 1 - cap : 0;
    size_t skip = 0;
    while (skip < m && dst[skip].seq < safe)
        skip++;
    for (size_t k = skip; k < m; k++)
        dst[k - skip] = dst[k];
    *next = head;
    return m - skip;
}
