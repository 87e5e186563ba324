/*
 * dpend.c -- pending deltas at a home (see dpend.h).
 *
 * A ring of DPEND_MAX slots in arrival order: a delta is put at the tail
 * and taken from anywhere (its slot becomes a hole), the oldest goes when
 * the ring is full.  Lookups search from the newest: a delta is asked for
 * soon after it came (one round trip through the master), so the search
 * is short in the common case and bounded by the ring's size always.
 * Held (dpend_hold: a masks-only program, where the master has no copy
 * of what a delta makes) the ring grows instead: a delta goes only when
 * applied or dropped (dpend_drop).
 */
#include "dist/dpend.h"

#include <string.h>

#include "util/alloc.h"

struct dpend_ent {
    cmsg_tag tag;
    uint64_t page;
    uint8_t mask[8 * CMSG_MASK_WORDS];  /* as it came: le u64s */
    uint64_t nbytes;
    uint8_t bytes[];
};

dvm_status dpend_init(dpend *d)
{
    memset(d, 0, sizeof *d);
    d->ring = dvm_calloc(DPEND_MAX, sizeof *d->ring);
    d->cap = DPEND_MAX;
    return d->ring ? DVM_OK : status_set(DVM_ENOMEM, "out of memory");
}

void dpend_clear(dpend *d)
{
    for (size_t i = 0; d->ring && i < d->cap; i++) {
        dvm_free(d->ring[i]);
        d->ring[i] = NULL;
    }
    d->head = d->count = 0;
}

void dpend_free(dpend *d)
{
    dpend_clear(d);
    dvm_free(d->ring);
    d->ring = NULL;
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
        dvm_free(*s);
        *s = NULL;
        d->evicted++;
    }
    d->head = (d->head + 1) % d->cap;
    d->count--;
}

/* Doubles the ring, its slots in order from 0.  DVM_ENOMEM. */
static dvm_status ring_grow(dpend *d)
{
    dpend_ent **r = dvm_calloc(2 * d->cap, sizeof *r);
    if (!r)
        return status_set(DVM_ENOMEM, "out of memory");
    for (size_t k = 0; k < d->count; k++)
        r[k] = *slot_at(d, k);
    dvm_free(d->ring);
    d->ring = r;
    d->head = 0;
    d->cap *= 2;
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
    *slot_at(d, d->count++) = x;
    d->kept++;
    return DVM_OK;
}

static int same_tag(const cmsg_tag *a, const cmsg_tag *b)
{
    return a->node == b->node && a->rcomp == b->rcomp && a->gen == b->gen &&
           a->rid == b->rid && a->attempt == b->attempt;
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
        if (*s && same_tag(&(*s)->tag, &t)) {
            dvm_free(*s);
            *s = NULL;
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
        if (!x || !same_tag(&x->tag, &t))
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
    return x && x->page == page && same_tag(&x->tag, &t);
}

int dpend_apply(dpend *d, const cmsg_tag *tag, uint64_t page, uint8_t *data)
{
    for (size_t k = d->count; k-- > 0;) {
        dpend_ent **s = slot_at(d, k);
        if (!*s || (*s)->page != page || !same_tag(&(*s)->tag, tag))
            continue;
        cmsg_delta_ent e = { (*s)->tag, page, (*s)->mask,
                             { (*s)->bytes, (*s)->nbytes } };
        cmsg_delta_apply(&e, data);
        dvm_free(*s);
        *s = NULL;
        d->applied++;
        /* Its other form will never be asked for. */
        for (size_t j = k ? k - 1 : k + 1; j <= k + 1; j += 2)
            if (sibling(d, j, tag, page)) {
                dvm_free(*slot_at(d, j));
                *slot_at(d, j) = NULL;
            }
        trim_head(d);
        return 1;
    }
    return 0;
}
