/*
 * vindex.c -- the master's index of homed versions: one array of
 * entries, walked whole when the nodes change or dead versions are
 * collected (both rare next to commits), appended to on commits, and an
 * open-addressing table (linear probing, at most half full) from name to
 * entry for acknowledgements, rebuilt when it grows or the array is
 * compacted.
 */
#include "dist/vindex.h"

#include <assert.h>
#include <string.h>

#include "util/alloc.h"

void vindex_init(vindex *x)
{
    memset(x, 0, sizeof *x);
}

void vindex_free(vindex *x)
{
    dvm_free(x->e);
    dvm_free(x->tab);
    vindex_init(x);
}

void vindex_clear(vindex *x)
{
    x->n = 0;
    if (x->tab)
        memset(x->tab, 0, x->tcap * sizeof *x->tab);
}

static size_t slot_of(const vindex *x, uint64_t page, uint64_t epoch)
{
    uint64_t h = page * 0x9E3779B97F4A7C15ULL ^ epoch * 0xC2B2AE3D27D4EB4FULL;
    return (size_t)(h >> 20) & (x->tcap - 1);
}

static void tab_put(vindex *x, size_t idx)
{
    size_t i = slot_of(x, x->e[idx].page, x->e[idx].epoch);
    while (x->tab[i])
        i = (i + 1) & (x->tcap - 1);
    x->tab[i] = (uint32_t)idx + 1;
}

/* Rebuilds the table for the entries, with room for at least want. */
static dvm_status tab_rebuild(vindex *x, size_t want)
{
    size_t cap = x->tcap ? x->tcap : 1024;
    while (cap < 2 * want + 2)
        cap *= 2;
    if (cap != x->tcap) {
        uint32_t *t = dvm_calloc(cap, sizeof *t);
        if (!t)
            return status_set(DVM_ENOMEM, "out of memory");
        dvm_free(x->tab);
        x->tab = t;
        x->tcap = cap;
    } else {
        memset(x->tab, 0, cap * sizeof *x->tab);
    }
    for (size_t i = 0; i < x->n; i++)
        tab_put(x, i);
    return DVM_OK;
}

static vindex_ent *find(const vindex *x, uint64_t page, uint64_t epoch)
{
    if (!x->tcap)
        return NULL;
    for (size_t i = slot_of(x, page, epoch); x->tab[i];
         i = (i + 1) & (x->tcap - 1)) {
        vindex_ent *e = &x->e[x->tab[i] - 1];
        if (e->page == page && e->epoch == epoch)
            return e;
    }
    return NULL;
}

dvm_status vindex_add(vindex *x, uint64_t page, uint64_t epoch,
                      const vindex_ops *ops)
{
    if (!x->nids || find(x, page, epoch))
        return DVM_OK;
    vindex_ent *e = dvm_grow(x->e, &x->cap, x->n + 1, sizeof *e);
    if (!e)
        return status_set(DVM_ENOMEM, "out of memory");
    x->e = e;
    if (2 * (x->n + 1) + 2 > x->tcap && tab_rebuild(x, x->n + 1))
        return DVM_ENOMEM;
    e = &x->e[x->n++];
    e->page = page;
    e->epoch = epoch;
    e->acked = 0;
    e->nhold = (uint32_t)home_pick(page, x->ids, x->nids, e->hold);
    tab_put(x, x->n - 1);
    for (uint32_t i = 0; i < e->nhold; i++)
        ops->store(ops->arg, e->hold[i], page, epoch);
    return DVM_OK;
}

size_t vindex_set_nodes(vindex *x, const uint64_t *ids, size_t n,
                        const vindex_ops *ops)
{
    size_t copies = 0;
    assert(n <= VINDEX_MAX_NODES);
    memcpy(x->ids, ids, n * sizeof *ids);
    x->nids = n;
    for (size_t i = 0; i < x->n; i++) {
        vindex_ent *e = &x->e[i];
        uint64_t h[HOME_COPIES];
        size_t k = home_pick(e->page, ids, n, h);
        uint32_t acked = 0, left = 0;
        for (uint32_t j = 0; j < e->nhold; j++)
            left += home_has(ids, n, e->hold[j]);
        if (e->nhold && !left)
            ops->lost(ops->arg, e->page, e->epoch);
        for (size_t j = 0; j < k; j++) {
            for (uint32_t o = 0; o < e->nhold; o++)
                if (e->hold[o] == h[j] && (e->acked >> o & 1))
                    acked |= 1u << j;
            if (!home_has(e->hold, e->nhold, h[j])) {
                ops->store(ops->arg, h[j], e->page, e->epoch);
                copies++;
            }
        }
        for (uint32_t j = 0; j < e->nhold; j++)
            if (!home_has(h, k, e->hold[j]) && home_has(ids, n, e->hold[j]))
                ops->drop(ops->arg, e->hold[j], e->page, e->epoch);
        memcpy(e->hold, h, k * sizeof *h);
        e->nhold = (uint32_t)k;
        e->acked = acked;
    }
    return copies;
}

void vindex_gc(vindex *x, const vindex_ops *ops)
{
    size_t w = 0;
    for (size_t i = 0; i < x->n; i++) {
        vindex_ent *e = &x->e[i];
        if (ops->alive(ops->arg, e->page, e->epoch)) {
            x->e[w++] = *e;
            continue;
        }
        for (uint32_t j = 0; j < e->nhold; j++)
            ops->drop(ops->arg, e->hold[j], e->page, e->epoch);
    }
    x->n = w;
    if (x->tcap)
        (void)tab_rebuild(x, w);        /* same size: cannot fail */
}

/* 1 when e is kept by every one of HOME_COPIES holders. */
static int replicated(const vindex_ent *e)
{
    return e->nhold == HOME_COPIES &&
           e->acked == (1u << HOME_COPIES) - 1;
}

int vindex_ack(vindex *x, uint64_t node, uint64_t page, uint64_t epoch)
{
    vindex_ent *e = find(x, page, epoch);
    if (!e || replicated(e))
        return 0;
    for (uint32_t j = 0; j < e->nhold; j++)
        if (e->hold[j] == node)
            e->acked |= 1u << j;
    return replicated(e);
}

void vindex_each_replicated(const vindex *x,
                            void (*fn)(void *arg, uint64_t page,
                                       uint64_t epoch), void *arg)
{
    for (size_t i = 0; i < x->n; i++)
        if (replicated(&x->e[i]))
            fn(arg, x->e[i].page, x->e[i].epoch);
}
