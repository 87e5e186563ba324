/*
 * pcache.h -- a node's page cache: page versions it received, by name.
 *
 * A page version is named by (page, epoch of the commit that made it) and
 * never changes, so a node keeps the versions it received in frames of its
 * store and serves later runners from them without asking again.  An
 * entry is referenced by the runners that use it (their prefetch and
 * first-touch pages) until their results; entries nobody references are
 * evicted, oldest first, when the cache holds more than its limit.  An
 * entry can exist before its data (filled == 0): it was asked for and the
 * answer is on its way.
 *
 * The cache also times the versions fetched for it: an entry marked when
 * its fetch goes out (pcache_asked) adds, when its data arrives, the wait
 * to the node's fetch-wait histogram (obs.h's buckets), which the node
 * reports to its master.
 */
#ifndef DVM_DIST_PCACHE_H
#define DVM_DIST_PCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "mem/store.h"
#include "obs/obs.h"
#include "util/status.h"

typedef struct pcache_entry {
    uint64_t page, epoch;
    uint32_t frame;
    uint32_t refs;
    uint32_t next;              /* hash chain: index + 1, 0 ends */
    uint8_t filled, used;
    uint64_t asked_ns;          /* its fetch went out then; 0: none */
} pcache_entry;

/* Fetch waits: counts per bucket (obs_fetch_wait_bucket) and their sum. */
typedef struct pcache_waits {
    uint64_t bucket[OBS_FETCH_WAIT_BUCKETS];
    uint64_t sum_ns;
} pcache_waits;

typedef struct pcache {
    mem_store *store;           /* borrowed: frames come from it */
    pcache_entry *e;
    size_t n, cap;              /* entries allocated (used or free) */
    uint32_t *bucket;           /* index + 1 of a chain's first entry */
    size_t nbucket;             /* a power of two; doubles as entries
                                   pass twice as many */
    uint32_t free_head;         /* index + 1 of a free entry */
    size_t live, limit;
    size_t hits, misses, evicted;
    pcache_waits *waits;        /* borrowed; NULL: waits not counted */
} pcache;

/* An empty cache over store that keeps at most limit unreferenced
 * entries' worth of frames (referenced ones are never evicted). */
dvm_status pcache_init(pcache *c, mem_store *store, size_t limit);
/* Releases every entry's frame and the cache. */
void pcache_destroy(pcache *c);
/* The entry of (page, epoch) with one more reference: *idx.  A new entry
 * (*created = 1) has a fresh frame and filled == 0.  Returns DVM_OK or
 * DVM_ENOMEM (the store or memory is full). */
dvm_status pcache_get(pcache *c, uint64_t page, uint64_t epoch,
                      uint32_t *idx, int *created);
/* The filled entry of (page, epoch) without a reference or a count:
 * 1 with *idx set, else 0. */
int pcache_find(const pcache *c, uint64_t page, uint64_t epoch,
                uint32_t *idx);
/* Drops one reference to entry idx; evicts when over the limit. */
void pcache_put(pcache *c, uint32_t idx);
/* The data of (page, epoch) arrived (data non-NULL: copied into its entry
 * if that is not filled yet, and the wait since pcache_asked counted in
 * c->waits) or will never come (data NULL: the entry is forgotten).
 * Nothing happens when no entry has that name. */
void pcache_fill(pcache *c, uint64_t page, uint64_t epoch, const void *data);
/* The fetch of (page, epoch) goes out at now_ns: its unfilled entry is
 * marked (the first time only: a question moved on to another holder
 * keeps its start), so that pcache_fill counts the wait. */
void pcache_asked(pcache *c, uint64_t page, uint64_t epoch, uint64_t now_ns);
/* Removes entry idx from lookups (its data will never come); its frame
 * goes back to the store when its last reference is dropped. */
void pcache_forget(pcache *c, uint32_t idx);

#endif
