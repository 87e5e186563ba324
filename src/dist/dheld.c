/*
 * dheld.c -- the held-delta names of the master (see dheld.h).
 *
 * Slots hold a name or are empty (used 0); the table doubles at half
 * full.  Deletion shifts the following run back so that lookups never
 * meet a hole inside a run (no tombstones).
 */
#include "dist/dheld.h"

#include <string.h>

#include "util/alloc.h"

struct dheld_ent {
    cmsg_tag tag;
    uint64_t page;
    uint64_t holder[DHELD_HOLDERS];  /* the nodes that said so, in a ring */
    unsigned nholder;           /* said so in all (the ring's next: % ) */
    int used;
};

#define DHELD_MIN 256u

void dheld_init(dheld *h)
{
    memset(h, 0, sizeof *h);
}

void dheld_free(dheld *h)
{
    dvm_free(h->v);
    dheld_init(h);
}

void dheld_clear(dheld *h)
{
    if (h->v)
        memset(h->v, 0, h->cap * sizeof *h->v);
    h->n = 0;
}

static int same(const dheld_ent *e, const cmsg_tag *t, uint64_t page)
{
    return e->used && e->page == page && cmsg_tag_same(&e->tag, t);
}

static size_t slot_of(size_t cap, const cmsg_tag *t, uint64_t page)
{
    return (size_t)(cmsg_name_hash(t, page) >> 17) & (cap - 1);
}

/* The slot of (t, page), or the empty slot where it would go. */
static size_t probe(const dheld *h, const cmsg_tag *t, uint64_t page)
{
    size_t i = slot_of(h->cap, t, page);
    while (h->v[i].used && !same(&h->v[i], t, page))
        i = (i + 1) & (h->cap - 1);
    return i;
}

/* Doubles the table (or makes the first).  DVM_ENOMEM. */
static dvm_status grow(dheld *h)
{
    size_t cap = h->cap ? 2 * h->cap : DHELD_MIN;
    dheld_ent *v = dvm_calloc(cap, sizeof *v);
    if (!v)
        return status_set(DVM_ENOMEM, "out of memory");
    dheld old = *h;
    h->v = v;
    h->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.v[i].used)
            h->v[probe(h, &old.v[i].tag, old.v[i].page)] = old.v[i];
    dvm_free(old.v);
    return DVM_OK;
}

dvm_status dheld_add(dheld *h, const cmsg_tag *t, uint64_t page,
                     uint64_t holder)
{
    if (dheld_has(h, t, page, holder))
        return DVM_OK;
    if (2 * (h->n + 1) > h->cap) {
        dvm_status st = grow(h);
        if (st)
            return st;
    }
    size_t i = probe(h, t, page);
    dheld_ent *e = &h->v[i];
    if (!e->used) {
        *e = (dheld_ent){ .tag = *t, .page = page, .used = 1 };
        h->n++;
    }
    e->holder[e->nholder++ % DHELD_HOLDERS] = holder;
    return DVM_OK;
}

int dheld_has(const dheld *h, const cmsg_tag *t, uint64_t page,
              uint64_t holder)
{
    if (!h->n)
        return 0;
    const dheld_ent *e = &h->v[probe(h, t, page)];
    unsigned n = e->nholder < DHELD_HOLDERS ? e->nholder : DHELD_HOLDERS;
    for (unsigned k = 0; e->used && k < n; k++)
        if (e->holder[k] == holder)
            return 1;
    return 0;
}

void dheld_forget(dheld *h, const cmsg_tag *t, uint64_t page)
{
    if (!h->n)
        return;
    size_t i = probe(h, t, page), mask = h->cap - 1;
    if (!h->v[i].used)
        return;
    h->v[i].used = 0;
    h->n--;
    /* Shift back the entries of the run after i that may move. */
    for (size_t j = (i + 1) & mask; h->v[j].used; j = (j + 1) & mask) {
        size_t k = slot_of(h->cap, &h->v[j].tag, h->v[j].page);
        /* j may move to i when its home k is not in (i, j]. */
        int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        h->v[i] = h->v[j];
        h->v[j].used = 0;
        i = j;
    }
}
