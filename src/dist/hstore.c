/*
 * hstore.c -- a node's homed versions: a page cache whose entries are
 * each held by one reference of the store itself, so none is ever
 * evicted; dropping forgets the entry and gives that reference back.
 */
#include "dist/hstore.h"

#include "mem/store.h"

dvm_status hstore_init(hstore *h, mem_store *store)
{
    h->stored = h->dropped = 0;
    return pcache_init(&h->c, store, 0);
}

void hstore_destroy(hstore *h)
{
    pcache_destroy(&h->c);
}

dvm_status hstore_put(hstore *h, uint64_t page, uint64_t epoch,
                      const void *data)
{
    uint32_t idx;
    int created;
    dvm_status st = pcache_get(&h->c, page, epoch, &idx, &created);
    if (st)
        return st;
    if (!created) {
        h->c.e[idx].refs--;     /* held already: keep its one reference */
        return DVM_OK;
    }
    pcache_fill(&h->c, page, epoch, data);
    h->stored++;
    return DVM_OK;
}

const void *hstore_find(const hstore *h, uint64_t page, uint64_t epoch)
{
    uint32_t idx;
    if (!pcache_find(&h->c, page, epoch, &idx))
        return NULL;
    return store_frame(h->c.store, h->c.e[idx].frame);
}

void hstore_drop(hstore *h, uint64_t page, uint64_t epoch)
{
    uint32_t idx;
    if (!pcache_find(&h->c, page, epoch, &idx))
        return;
    pcache_forget(&h->c, idx);
    pcache_put(&h->c, idx);
    h->dropped++;
}
