/*
 * vindex.c -- the master's index of homed versions: one array of
 * entries, walked whole when the nodes change or dead versions are
 * collected (both rare next to commits), appended to on commits.
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
    vindex_init(x);
}

void vindex_clear(vindex *x)
{
    x->n = 0;
}

dvm_status vindex_add(vindex *x, uint64_t page, uint64_t epoch,
                      const vindex_ops *ops)
{
    if (!x->nids)
        return DVM_OK;
    vindex_ent *e = dvm_grow(x->e, &x->cap, x->n + 1, sizeof *e);
    if (!e)
        return status_set(DVM_ENOMEM, "out of memory");
    x->e = e;
    e = &x->e[x->n++];
    e->page = page;
    e->epoch = epoch;
    e->nhold = (uint32_t)home_pick(page, x->ids, x->nids, e->hold);
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
        for (size_t j = 0; j < k; j++)
            if (!home_has(e->hold, e->nhold, h[j])) {
                ops->store(ops->arg, h[j], e->page, e->epoch);
                copies++;
            }
        for (uint32_t j = 0; j < e->nhold; j++)
            if (!home_has(h, k, e->hold[j]) && home_has(ids, n, e->hold[j]))
                ops->drop(ops->arg, e->hold[j], e->page, e->epoch);
        memcpy(e->hold, h, k * sizeof *h);
        e->nhold = (uint32_t)k;
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
}
