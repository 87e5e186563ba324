/*
 * pcache.c -- the node's page cache: a chained hash table of entries in
 * one growable array (indices stay valid when it grows), a free list, and
 * eviction by a sweep over the array that frees unreferenced entries until
 * the cache is back under three quarters of its limit.  The table doubles
 * whenever its entries pass twice its buckets: a home's store (hstore.c)
 * has no limit and keeps every version it homes until the master drops
 * it, so with a fixed table its chains grow with the program (the chain
 * walk was a sixth of a homing node's own CPU in bench/recovery's
 * replication run, 65,536 buckets then).
 */
#include "dist/pcache.h"

#include <assert.h>
#include <string.h>

#include "util/alloc.h"
#include "util/clock.h"

#define PCACHE_BUCKETS_MIN ((size_t)1 << 12)
#define PCACHE_BUCKETS_MAX ((size_t)1 << 30)

/* The bucket of (page, epoch) in a table of nbucket (a power of two):
 * the high half of a multiplicative hash. */
static size_t hash_in(uint64_t page, uint64_t epoch, size_t nbucket)
{
    uint64_t h = page * 0x9E3779B97F4A7C15ULL ^ epoch * 0xC2B2AE3D27D4EB4FULL;
    return (size_t)(h >> 32) & (nbucket - 1);
}

static size_t hash(const pcache *c, uint64_t page, uint64_t epoch)
{
    return hash_in(page, epoch, c->nbucket);
}

dvm_status pcache_init(pcache *c, mem_store *store, size_t limit)
{
    memset(c, 0, sizeof *c);
    c->store = store;
    c->limit = limit;
    c->nbucket = PCACHE_BUCKETS_MIN;
    c->bucket = dvm_calloc(c->nbucket, sizeof *c->bucket);
    return c->bucket ? DVM_OK : status_set(DVM_ENOMEM, "out of memory");
}

/* Doubles the table when the entries pass twice its buckets: every chain
 * is walked and its entries pushed onto the new table's chains (only
 * linked entries are reachable, so a forgotten one stays unlinked).  Out
 * of memory keeps the old table: longer chains, nothing lost. */
static void grow_table(pcache *c)
{
    if (c->live <= 2 * c->nbucket || c->nbucket >= PCACHE_BUCKETS_MAX)
        return;
    size_t nb = c->nbucket * 2;
    uint32_t *b = dvm_calloc(nb, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < c->nbucket; i++)
        for (uint32_t k = c->bucket[i], next; k; k = next) {
            pcache_entry *x = &c->e[k - 1];
            uint32_t *head = &b[hash_in(x->page, x->epoch, nb)];
            next = x->next;
            x->next = *head;
            *head = k;
        }
    dvm_free(c->bucket);
    c->bucket = b;
    c->nbucket = nb;
}

void pcache_destroy(pcache *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].used)
            store_release(c->store, c->e[i].frame);
    dvm_free(c->e);
    dvm_free(c->bucket);
    memset(c, 0, sizeof *c);
}

/* Unlinks entry idx from its chain (if linked). */
static void unlink_entry(pcache *c, uint32_t idx)
{
    pcache_entry *x = &c->e[idx];
    uint32_t *p = &c->bucket[hash(c, x->page, x->epoch)];
    while (*p && *p != idx + 1)
        p = &c->e[*p - 1].next;
    if (*p)
        *p = x->next;
    x->next = 0;
}

static void free_entry(pcache *c, uint32_t idx)
{
    pcache_entry *x = &c->e[idx];
    assert(x->used && x->refs == 0);
    store_release(c->store, x->frame);
    x->used = 0;
    x->next = c->free_head;
    c->free_head = idx + 1;
    c->live--;
}

/* Index + 1 of the entry named (page, epoch), or 0. */
static uint32_t find(const pcache *c, uint64_t page, uint64_t epoch)
{
    for (uint32_t k = c->bucket[hash(c, page, epoch)]; k; k = c->e[k - 1].next)
        if (c->e[k - 1].page == page && c->e[k - 1].epoch == epoch)
            return k;
    return 0;
}

int pcache_find(const pcache *c, uint64_t page, uint64_t epoch,
                uint32_t *idx)
{
    uint32_t k = find(c, page, epoch);
    if (!k || !c->e[k - 1].filled)
        return 0;
    *idx = k - 1;
    return 1;
}

dvm_status pcache_get(pcache *c, uint64_t page, uint64_t epoch,
                      uint32_t *idx, int *created)
{
    uint32_t k = find(c, page, epoch);
    if (k) {
        c->e[k - 1].refs++;
        c->hits++;
        *idx = k - 1;
        *created = 0;
        return DVM_OK;
    }
    uint32_t frame;
    if (store_alloc(c->store, &frame))
        return status_set(DVM_ENOMEM, "the node's frame store is full");
    uint32_t i;
    if (c->free_head) {
        i = c->free_head - 1;
        c->free_head = c->e[i].next;
    } else {
        pcache_entry *ne = dvm_grow(c->e, &c->cap, c->n + 1, sizeof *ne);
        if (!ne) {
            store_release(c->store, frame);
            return status_set(DVM_ENOMEM, "out of memory");
        }
        c->e = ne;
        i = (uint32_t)c->n++;
    }
    uint32_t *b = &c->bucket[hash(c, page, epoch)];
    c->e[i] = (pcache_entry){ page, epoch, frame, 1, *b, 0, 1, 0 };
    *b = i + 1;
    c->live++;
    grow_table(c);
    c->misses++;
    *idx = i;
    *created = 1;
    return DVM_OK;
}

/* Frees unreferenced entries until under 3/4 of the limit. */
static void evict(pcache *c)
{
    for (size_t i = 0; i < c->n && c->live > c->limit / 4 * 3; i++) {
        pcache_entry *x = &c->e[i];
        if (x->used && x->refs == 0 && x->filled) {
            unlink_entry(c, (uint32_t)i);
            free_entry(c, (uint32_t)i);
            c->evicted++;
        }
    }
}

void pcache_put(pcache *c, uint32_t idx)
{
    pcache_entry *x = &c->e[idx];
    assert(x->used && x->refs > 0);
    if (--x->refs == 0 && !x->filled) {
        /* forgotten, or its data never came: nobody can use it */
        unlink_entry(c, idx);
        free_entry(c, idx);
        return;
    }
    if (c->live > c->limit)
        evict(c);
}

void pcache_forget(pcache *c, uint32_t idx)
{
    pcache_entry *x = &c->e[idx];
    unlink_entry(c, idx);
    x->filled = 0;
    if (x->refs == 0)
        free_entry(c, idx);
}

void pcache_fill(pcache *c, uint64_t page, uint64_t epoch, const void *data)
{
    uint32_t k = find(c, page, epoch);
    if (!k)
        return;
    pcache_entry *x = &c->e[k - 1];
    if (!data) {
        pcache_forget(c, k - 1);
    } else if (!x->filled) {
        memcpy(store_frame(c->store, x->frame), data, STORE_FRAME_SIZE);
        x->filled = 1;
        if (x->asked_ns && c->waits) {
            uint64_t now = clock_now_ns();
            uint64_t w = now > x->asked_ns ? now - x->asked_ns : 0;
            c->waits->bucket[obs_fetch_wait_bucket(w)]++;
            c->waits->sum_ns += w;
        }
    }
}

void pcache_asked(pcache *c, uint64_t page, uint64_t epoch, uint64_t now_ns)
{
    uint32_t k = find(c, page, epoch);
    if (k && !c->e[k - 1].filled && !c->e[k - 1].asked_ns)
        c->e[k - 1].asked_ns = now_ns;
}
