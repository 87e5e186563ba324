/*
 * nhome.h -- a node's part of the homes: the versions it keeps, and
 * where it fetches the versions it lacks.
 *
 * The master places every committed page version at a home node and a
 * backup (dist/home.h) and sends it there (STORE); the node keeps it
 * (hstore.h) and acknowledges it (STORED) until the master says it is
 * dead or moved (DROP).  A version whose data the master gave away comes
 * as a PULL: the node fetches it from its other holder and keeps it.  The master tells every node which nodes home
 * pages and where they listen (PEERS); a node connects to each of the
 * others (authenticated with the cluster secret like every connection of
 * the transport).
 *
 * A version the node's page cache lacks is looked up in its own home
 * store first, then asked of its home (HFETCH), then of its backup, then
 * of the master, which still has every version: each "absent" answer, and
 * a holder that goes away with a question open, moves the question on to
 * the next one.  Other nodes' questions are answered from the home store
 * (HFETCHED).  Messages from a peer that is neither the master nor a node
 * it connected to are only HFETCH; anything else closes that peer.
 */
#ifndef DVM_DIST_NHOME_H
#define DVM_DIST_NHOME_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/transport.h"
#include "dist/cmsg.h"
#include "dist/hstore.h"
#include "dist/pcache.h"

typedef struct nhome_peer {
    uint64_t id;                /* the master's id of that node */
    uint64_t peer;              /* our connection to it, UINT64_MAX none */
    int up;
} nhome_peer;

typedef struct nhome_ask {
    uint64_t page, epoch, id;   /* the version, the node asked */
    int keep;                   /* for the home store (PULL) */
} nhome_ask;

/* Where questions for the master go (after the node's earlier messages);
 * parked dispatches may go once something was filled. */
typedef struct nhome_ops {
    dvm_status (*to_master)(void *arg, uint16_t type, const msg_buf *b);
    dvm_status (*filled)(void *arg);
    void *arg;
} nhome_ops;

typedef struct nhome {
    transport *t;               /* borrowed */
    nhome_ops ops;
    uint64_t self;              /* this node's id; UINT64_MAX before PEERS */
    nhome_peer peer[CMSG_MAX_PEERS];
    uint64_t ids[CMSG_MAX_PEERS];   /* the nodes that home pages */
    size_t npeer, nids;
    /* the program's: */
    int running;
    uint64_t run;
    pcache *pc;                 /* the node's page cache, borrowed */
    hstore home;
    nhome_ask *ask;             /* questions open at other nodes */
    size_t nask, capask;
    msg_buf b, m;               /* scratch */
    uint64_t served;            /* versions served to other nodes */
    uint64_t from_homes;        /* versions fetched from other nodes */
} nhome;

void nhome_init(nhome *h, transport *t, const nhome_ops *ops);
void nhome_destroy(nhome *h);
/* A program starts: versions in frames of store, cached in pc. */
dvm_status nhome_start(nhome *h, uint64_t run, mem_store *store, pcache *pc);
/* The program ends: every homed version and open question goes. */
void nhome_stop(nhome *h);

/* Messages from the master: PEERS, STORE, DROP.  DVM_EPROTO when
 * malformed. */
dvm_status nhome_on_peers(nhome *h, const uint8_t *p, size_t len);
dvm_status nhome_on_store(nhome *h, const uint8_t *p, size_t len);
dvm_status nhome_on_drop(nhome *h, const uint8_t *p, size_t len);
/* PULL: versions to keep from now on, fetched from their other holder
 * (never from the master); each kept is acknowledged (STORED). */
dvm_status nhome_on_pull(nhome *h, const uint8_t *p, size_t len);

/* An event of a peer other than the master (a node).  Returns DVM_OK or
 * the error (out of memory, the master unreachable) that ends the node. */
dvm_status nhome_on_event(nhome *h, transport_event *ev);

/* (page, epoch) is wanted in the page cache (its entry exists, not
 * filled): filled from the home store at once (returns 1) or added to
 * the questions of want (returns 0). */
int nhome_local(nhome *h, uint64_t page, uint64_t epoch);
/* Asks for the n versions want[2i], want[2i+1]: of their holders, or of
 * the master.  Their page cache entries are marked asked now
 * (pcache_asked): the whole wait is timed, whoever answers. */
dvm_status nhome_fetch(nhome *h, const uint64_t *want, size_t n);

#endif
