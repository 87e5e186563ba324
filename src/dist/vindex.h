/*
 * vindex.h -- the master's index of homed page versions.
 *
 * For every committed version the master has placed on nodes, the index
 * keeps its name (page, epoch) and its holders (home first, then backup:
 * dist/home.h, over the nodes that home pages now).  It says whom to
 * send a version to and whom to tell to drop one:
 *   add        a new version: stored at its holders
 *   set_nodes  the nodes changed (one joined, one was lost): every
 *              version is placed again; holders it did not have get it
 *              (a lost home's backup is the new home and the next node
 *              the new backup), holders it lost that are still there
 *              drop it once every new holder keeps it (until then they
 *              are its former holders: the new holders may have to
 *              fetch it from them, and the holder it kept may die)
 *   gc         versions no live snapshot can see any more: dropped at
 *              their holders and forgotten
 *   ack        a holder says it keeps a version; a version every one of
 *              whose HOME_COPIES holders said so is replicated (the
 *              master may give its own copy away)
 *   stable     the highest epoch E such that every version of every
 *              commit up to E is kept by all the holders it was sent to
 *              (commits up to E may be acknowledged)
 * A version whose holders are all gone at once is reported lost (the
 * master still has its data, or the run cannot go on).
 * The index moves no data: its callbacks do (the master's service).
 */
#ifndef DVM_DIST_VINDEX_H
#define DVM_DIST_VINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "dist/home.h"
#include "util/status.h"

#define VINDEX_MAX_NODES 256

/* Former holders a version keeps until its holders all keep it. */
#define VINDEX_FORMER 4

typedef struct vindex_ent {
    uint64_t page, epoch;
    uint64_t hold[HOME_COPIES];
    uint64_t former[VINDEX_FORMER];     /* alive, not holders, not told
                                         * to drop it yet */
    uint32_t nhold, nformer;
    uint32_t acked;             /* bit j: hold[j] keeps it */
    uint32_t wait;              /* bit j: hold[j] was sent it and its ack
                                 * is awaited; 0: the version is stable */
    uint32_t released;          /* vindex_release_replicated's fn said the
                                 * master's copy is gone */
} vindex_ent;

/* A version (page, epoch) is to be stored at, or dropped by, node. */
typedef void (*vindex_fn)(void *arg, uint64_t node, uint64_t page,
                          uint64_t epoch);

typedef struct vindex_ops {
    /* 1 when the version was sent to node (its ack will come), 0 when it
     * could not be (the version is not waited for at that holder) */
    int (*store)(void *arg, uint64_t node, uint64_t page, uint64_t epoch);
    vindex_fn drop;
    /* 1 while the version is alive (some live snapshot may see it) */
    int (*alive)(void *arg, uint64_t page, uint64_t epoch);
    /* every holder of the version is gone */
    void (*lost)(void *arg, uint64_t page, uint64_t epoch);
    void *arg;
} vindex_ops;

typedef struct vindex {
    vindex_ent *e;
    size_t n, cap;
    uint32_t *tab;              /* (page, epoch) -> index + 1, 0 empty */
    size_t tcap;                /* a power of two, more than 2n */
    uint64_t ids[VINDEX_MAX_NODES];     /* the nodes that home pages */
    size_t nids;
    /* Epochs with versions not stable yet, ascending, from phead: the
     * epoch and how many of its versions wait for acks. */
    uint64_t *pep;
    uint32_t *pcnt;
    size_t phead, pn, pcap;
} vindex;

/* An empty index with no nodes. */
void vindex_init(vindex *x);
void vindex_free(vindex *x);
/* Forgets every version (a program ended); the nodes stay. */
void vindex_clear(vindex *x);
/* Places (page, epoch) and stores it at its holders (none without
 * nodes: then it is not indexed).  DVM_ENOMEM. */
dvm_status vindex_add(vindex *x, uint64_t page, uint64_t epoch,
                      const vindex_ops *ops);
/* The nodes are now ids[0, n) (n <= VINDEX_MAX_NODES): every version is
 * placed again (above).  A holder given up that is still among ids
 * becomes a former holder: told to drop the version only once each of
 * its holders acknowledged it (vindex_ack), or when it is collected
 * (more than VINDEX_FORMER of them: the oldest is told now).  A version
 * is lost when none of its holders is left, unless a former holder is
 * one of its holders again (new holders fetch only from holders).
 * A former holder that becomes a holder again is stored anew.  Returns
 * the copies stored at new holders. */
size_t vindex_set_nodes(vindex *x, const uint64_t *ids, size_t n,
                        const vindex_ops *ops);
/* Drops and forgets the versions that are no longer alive. */
void vindex_gc(vindex *x, const vindex_ops *ops);
/* Holder node keeps (page, epoch); once every holder does, its former
 * holders are told to drop it (ops->drop).  Returns 1 when that made the
 * version replicated (every holder of HOME_COPIES keeps it), else 0
 * (unknown version or holder included). */
int vindex_ack(vindex *x, uint64_t node, uint64_t page, uint64_t epoch,
               const vindex_ops *ops);
/* 1 when holder node acknowledged keeping (page, epoch), else 0. */
int vindex_kept_by(const vindex *x, uint64_t page, uint64_t epoch,
                   uint64_t node);
/* The stable epoch: the highest E <= placed (the commits placed so far)
 * with no version of epoch <= E still waiting for an ack.  A version
 * waits from vindex_add until every holder it was sent to acked it; one
 * whose holders changed meanwhile (vindex_set_nodes) waits for the acks
 * of its holders then, and one collected (vindex_gc) waits no more.
 * Without nodes nothing waits: every epoch placed is stable. */
uint64_t vindex_stable(const vindex *x, uint64_t placed);
/* 1 when a holder of (page, epoch) acknowledged keeping it (its home or
 * backup can answer for it), else 0. */
int vindex_kept(const vindex *x, uint64_t page, uint64_t epoch);
/* Versions waiting for acks (all epochs). */
uint64_t vindex_waiting(const vindex *x);
/* Calls fn(arg, page, epoch) for every replicated version (replicated
 * 1), or for every version that is not (replicated 0: new ones before
 * their acks, and those a lost or leaving holder left with one copy
 * until the new holder acknowledges). */
void vindex_each(const vindex *x, int replicated,
                 void (*fn)(void *arg, uint64_t page, uint64_t epoch),
                 void *arg);
/* Calls fn(arg, page, epoch) for every replicated version that fn has
 * not released yet: one for which fn returns 1 is released and never
 * visited again (the master's copy went; revisiting every replicated
 * version at every gc, with vindex_gc's lookups, was ~8% of a homing
 * cluster's CPU in a run of small commits). */
void vindex_release_replicated(vindex *x,
                               int (*fn)(void *arg, uint64_t page,
                                         uint64_t epoch),
                               void *arg);
/* Calls fn(arg, page, epoch) for every version that node acknowledged
 * keeping and no other of its holders did: node is its only copy that
 * is known to be kept (a node about to leave must hand those over). */
void vindex_each_only_at(const vindex *x, uint64_t node,
                         void (*fn)(void *arg, uint64_t page, uint64_t epoch),
                         void *arg);

#endif
