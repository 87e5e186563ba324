/*
 * hstore.h -- the page versions a node keeps as their home or backup.
 *
 * Beside its page cache (pcache.h) a node holds the versions the master
 * placed on it (home.h): named by (page, epoch) like cached ones, in
 * frames of the node's store, never evicted; a version leaves only when
 * the master says it is dead (no live snapshot can see it) or moved, or
 * with the program.  Other nodes fetch from here.
 */
#ifndef DVM_DIST_HSTORE_H
#define DVM_DIST_HSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "dist/pcache.h"

typedef struct hstore {
    pcache c;                   /* every entry holds one reference */
    uint64_t stored, dropped;   /* versions put, versions dropped */
} hstore;

/* An empty home store over store (borrowed). */
dvm_status hstore_init(hstore *h, mem_store *store);
/* Frees every version's frame. */
void hstore_destroy(hstore *h);
/* Keeps a copy of data (one page) as (page, epoch); a version already
 * held is left as it is.  DVM_ENOMEM when the store is full. */
dvm_status hstore_put(hstore *h, uint64_t page, uint64_t epoch,
                      const void *data);
/* The data of (page, epoch), or NULL when not held. */
const void *hstore_find(const hstore *h, uint64_t page, uint64_t epoch);
/* Forgets (page, epoch) if held. */
void hstore_drop(hstore *h, uint64_t page, uint64_t epoch);
/* Versions held. */
static inline size_t hstore_count(const hstore *h)
{
    return h->c.live;
}

#endif
