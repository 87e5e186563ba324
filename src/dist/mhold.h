/*
 * mhold.h -- committed output held until its commit is stable.
 *
 * The cluster master acknowledges a commit -- sends its output to the
 * client -- only once every page version of every commit up to it is
 * kept by its home and its backup node (the stable epoch, dist/vindex.h).
 * Output waits here meanwhile, tagged with the epoch of the commit that
 * made it, in commit order: mhold_release sends every entry at or below
 * the stable epoch, oldest first, so the order of the output does not
 * change.
 *
 * The bytes are kept in frames of the master's frame store, written and
 * read back through its file (store_write, store_read), not in the
 * master's heap and not through the store's mapping: a commit that prints
 * 256 MiB does not grow the master's resident set.  Only the last,
 * partial frame of the newest entry is gathered in memory (at most a
 * frame).  Consecutive writes of one epoch and channel make one entry.
 */
#ifndef DVM_DIST_MHOLD_H
#define DVM_DIST_MHOLD_H

#include <stddef.h>
#include <stdint.h>

#include "mem/store.h"
#include "util/status.h"

/* Sends n output bytes of chan to the client. */
typedef dvm_status (*mhold_send_fn)(void *arg, uint64_t chan, const uint8_t *p,
                                    size_t n);

/* Bytes of one send at most (an OUTPUT message's data). */
#define MHOLD_CHUNK (64u * 1024u)

typedef struct mhold_ent {
    uint64_t epoch, chan, len;
    uint32_t *fr;               /* full frames, in order */
    size_t nfr, capfr;
} mhold_ent;

typedef struct mhold {
    mem_store *st;              /* borrowed: where the bytes are */
    mhold_ent *e;               /* entries [head, n) */
    size_t head, n, cap;
    uint8_t part[STORE_FRAME_SIZE];    /* the newest entry's last bytes */
    size_t npart;
    uint64_t bytes;             /* held, all entries */
} mhold;

/* An empty queue keeping its bytes in st (borrowed; outlives the queue's
 * entries). */
void mhold_init(mhold *h, mem_store *st);
/* Drops every entry unsent (their frames back to the store) and frees the
 * queue; it may be initialised again. */
void mhold_free(mhold *h);
/* Holds n bytes of chan made by the commit of epoch (at least the newest
 * entry's).  DVM_ENOMEM when the store or memory is full (nothing held). */
dvm_status mhold_put(mhold *h, uint64_t epoch, uint64_t chan, const void *p,
                     size_t n);
/* Sends, oldest first, every entry of epoch <= stable through send (in
 * pieces of at most MHOLD_CHUNK bytes), and forgets it.  The first error
 * of send or of the store is returned; the entry it stopped in is
 * dropped with the rest of what was held. */
dvm_status mhold_release(mhold *h, uint64_t stable, mhold_send_fn send,
                         void *arg);
/* Bytes held. */
static inline uint64_t mhold_bytes(const mhold *h)
{
    return h->bytes;
}

#endif
