/*
 * dpend.c -- pending deltas at a home (see dpend.h).
 *
 * A ring of DPEND_MAX slots in arrival order: a delta is put at the tail
 * and taken from anywhere (its slot becomes a hole), the oldest goes when
 * the ring is full.  Lookups go through a chained hash index from (tag,
 * page) to the deltas of that name, newest first, so a delta is found in
 * constant time whatever order the APPLYs name them in (a home holds the
 * deltas of hundreds of commits while their APPLY batch gathers); each
 * delta knows its arrival number, which gives its slot.  dpend_each
 * (every delta of a tag, any page: DRESEND) walks the ring instead; a
 * delta leaves the ring and the index together (slot_forget).
 * Held (dpend_hold: a masks-only program, where the master has no copy
 * of what a delta makes) the ring grows instead: a delta goes only when
 * applied or dropped (dpend_drop).
 */
#include "dist/dpend.h"

#include <assert.h>
#include <string.h>

#include "util/alloc.h"

struct dpend_ent {
    cmsg_tag tag;
    uint64_t page;
    uint64_t seq;               /* arrival number (slot: seq - base) */
    dpend_ent *next;            /* in its index bucket */
    uint8_t mask[8 * CMSG_MASK_WORDS];  /* as it came: le u64s */
    uint64_t nbytes;
    uint8_t bytes[];
};

dvm_status dpend_init(dpend *d)
{
    memset(d, 0, sizeof *d);
    d->ring = dvm_calloc(DPEND_MAX, sizeof *d->ring);
    d->idx = dvm_calloc(2 * DPEND_MAX, sizeof *d->idx);
    d->cap = DPEND_MAX;
    d->nidx = 2 * DPEND_MAX;
    if (d->ring && d->idx)
        return DVM_OK;
    dvm_free(d->ring);
    dvm_free(d->idx);
    d->ring = d->idx = NULL;
    return status_set(DVM_ENOMEM, "out of memory");
}

void dpend_clear(dpend *d)
{
    for (size_t i = 0; d->ring && i < d->cap; i++) {
        dvm_free(d->ring[i]);
        d->ring[i] = NULL;
    }
    if (d->idx)
        memset(d->idx, 0, d->nidx * sizeof *d->idx);
    d->base += d->count;
    d->head = d->count = 0;
}

void dpend_free(dpend *d)
{
    dpend_clear(d);
    dvm_free(d->ring);
    dvm_free(d->idx);
    d->ring = d->idx = NULL;
}

/* The index bucket of (tag, page). */
static dpend_ent **bucket(dpend *d, const cmsg_tag *tag, uint64_t page)
{
    return &d->idx[cmsg_name_hash(tag, page) & (d->nidx - 1)];
}

/* x goes into the index, first of its name (the newest). */
static void idx_put(dpend *d, dpend_ent *x)
{
    dpend_ent **b = bucket(d, &x->tag, x->page);
    x->next = *b;
    *b = x;
}

/* x leaves the index. */
static void idx_del(dpend *d, dpend_ent *x)
{
    dpend_ent **p = bucket(d, &x->tag, x->page);
    while (*p != x) {
        assert(*p);
        p = &(*p)->next;
    }
    *p = x->next;
}

/* The delta in slot s goes: out of the index, freed, a hole left. */
static void slot_forget(dpend *d, dpend_ent **s)
{
    idx_del(d, *s);
    dvm_free(*s);
    *s = NULL;
}

static dpend_ent **slot_at(dpend *d, size_t k)
{
    return &d->ring[(d->head + k) % d->cap];
}

/* Drops the oldest slot (a delta or a hole). */
static void drop_oldest(dpend *d)
{
    dpend_ent **s = slot_at(d, 0);
    if (*s) {
        slot_forget(d, s);
        d->evicted++;
    }
    d->head = (d->head + 1) % d->cap;
    d->base++;
    d->count--;
}

/* Doubles the ring, its slots in order from 0, and the index, built
 * anew oldest first (so the newest of a name comes first).  DVM_ENOMEM. */
static dvm_status ring_grow(dpend *d)
{
    dpend_ent **r = dvm_calloc(2 * d->cap, sizeof *r);
    dpend_ent **ix = dvm_calloc(2 * d->nidx, sizeof *ix);
    if (!r || !ix) {
        dvm_free(r);
        dvm_free(ix);
        return status_set(DVM_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < d->count; k++)
        r[k] = *slot_at(d, k);
    dvm_free(d->ring);
    dvm_free(d->idx);
    d->ring = r;
    d->idx = ix;
    d->head = 0;
    d->cap *= 2;
    d->nidx *= 2;
    for (size_t k = 0; k < d->count; k++)
        if (r[k])
            idx_put(d, r[k]);
    return DVM_OK;
}

void dpend_hold(dpend *d, int hold)
{
    d->hold = hold;
}

dvm_status dpend_put(dpend *d, const cmsg_delta_ent *e)
{
    dpend_ent *x = dvm_malloc(sizeof *x + e->bytes.len);
    if (!x)
        return status_set(DVM_ENOMEM, "out of memory");
    x->tag = e->tag;
    x->page = e->page;
    memcpy(x->mask, e->mask, sizeof x->mask);
    x->nbytes = e->bytes.len;
    memcpy(x->bytes, e->bytes.p, e->bytes.len);
    if (d->count == d->cap && d->hold && ring_grow(d)) {
        dvm_free(x);
        return DVM_ENOMEM;
    }
    if (d->count == d->cap)
        drop_oldest(d);
    x->seq = d->base + d->count;
    *slot_at(d, d->count++) = x;
    idx_put(d, x);
    d->kept++;
    return DVM_OK;
}

/* Holes at the head go. */
static void trim_head(dpend *d)
{
    while (d->count && !*slot_at(d, 0))
        drop_oldest(d);
}

size_t dpend_drop(dpend *d, const cmsg_tag *tag)
{
    size_t n = 0;
    for (size_t k = 0; k < d->count; k++) {
        dpend_ent **s = slot_at(d, k);
        cmsg_tag t = *tag;
        t.attempt = (*s ? (*s)->tag.attempt : 0) & CMSG_TAG_WHOLE;
        t.attempt |= tag->attempt;
        if (*s && cmsg_tag_same(&(*s)->tag, &t)) {
            slot_forget(d, s);
            n++;
        }
    }
    d->dropped += n;
    trim_head(d);
    return n;
}

size_t dpend_each(const dpend *d, const cmsg_tag *tag,
                  void (*fn)(void *arg, const cmsg_delta_ent *e), void *arg)
{
    size_t n = 0;
    for (size_t k = 0; k < d->count; k++) {
        const dpend_ent *x = d->ring[(d->head + k) % d->cap];
        cmsg_tag t = *tag;
        t.attempt |= x ? x->tag.attempt & CMSG_TAG_WHOLE : 0;
        if (!x || !cmsg_tag_same(&x->tag, &t))
            continue;
        cmsg_delta_ent e = { x->tag, x->page, x->mask,
                             { x->bytes, x->nbytes } };
        fn(arg, &e);
        n++;
    }
    return n;
}

/* The delta in slot k when it is the other form (whole page or changed
 * bytes, CMSG_TAG_WHOLE) of (tag, page): sent right beside it. */
static int sibling(dpend *d, size_t k, const cmsg_tag *tag, uint64_t page)
{
    if (k >= d->count)
        return 0;
    dpend_ent *x = *slot_at(d, k);
    cmsg_tag t = *tag;
    t.attempt ^= CMSG_TAG_WHOLE;
    return x && x->page == page && cmsg_tag_same(&x->tag, &t);
}

/* The newest delta named (tag, page), or NULL. */
static dpend_ent *find(dpend *d, const cmsg_tag *tag, uint64_t page)
{
    dpend_ent *x = *bucket(d, tag, page);
    while (x && (x->page != page || !cmsg_tag_same(&x->tag, tag)))
        x = x->next;
    return x;
}

/* x goes, and its other form (whole page or changed bytes) when that
 * came right beside it: it will never be asked for. */
static void forget_pair(dpend *d, dpend_ent *x, const cmsg_tag *tag)
{
    size_t k = (size_t)(x->seq - d->base);
    assert(k < d->count && *slot_at(d, k) == x);
    uint64_t page = x->page;
    slot_forget(d, slot_at(d, k));
    for (size_t j = k ? k - 1 : k + 1; j <= k + 1; j += 2)
        if (sibling(d, j, tag, page))
            slot_forget(d, slot_at(d, j));
}

int dpend_apply(dpend *d, const cmsg_tag *tag, uint64_t page, uint8_t *data)
{
    dpend_ent *x = find(d, tag, page);
    if (!x)
        return 0;
    cmsg_delta_ent e = { x->tag, page, x->mask, { x->bytes, x->nbytes } };
    cmsg_delta_apply(&e, data);
    forget_pair(d, x, tag);
    d->applied++;
    /* Older copies of the same delta (sent again: DRESEND) are spent
     * too; held, nothing else would ever take them out. */
    while ((x = find(d, tag, page))) {
        forget_pair(d, x, tag);
        d->dropped++;
    }
    trim_head(d);
    return 1;
}
