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
 * the transport), and connects again, with a growing wait, when such a
 * connection goes down while its node still homes pages: in a
 * masks-only program a result's changes reach the other holder over it
 * or nowhere.
 *
 * A version the node's page cache lacks is looked up in its own home
 * store first, then asked of its home (HFETCH), then of its backup, then
 * of the master, which still has every version: each "absent" answer, and
 * a holder that goes away with a question open, moves the question on to
 * the next one.  Other nodes' questions are answered from the home store
 * (HFETCHED).  Messages from a peer that is neither the master nor a node
 * it connected to are only HFETCH and DELTA; anything else closes that
 * peer.
 *
 * A result's changes go from its node to the homes: the node that
 * relays a result sends the changed bytes of each page to the page's
 * home and backup (DELTA, as it sees the homes), which keep them
 * (dpend.h).  When the master has committed the result and places its
 * versions it tells the holders the epoch and the base version (APPLY);
 * each makes the version, base with the changed bytes over it, keeps it
 * and acknowledges it (STORED), or, lacking the delta or the base, asks
 * the master for it (NEED), which then sends it (STORE).
 */
#ifndef DVM_DIST_NHOME_H
#define DVM_DIST_NHOME_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/transport.h"
#include "dist/cmsg.h"
#include "dist/dpend.h"
#include "dist/hstore.h"
#include "dist/pcache.h"

typedef struct nhome_peer {
    uint64_t id;                /* the master's id of that node */
    uint64_t peer;              /* our connection to it, UINT64_MAX none */
    int up;
    int lost;                   /* it was up and went down: logged */
    uint64_t retry_ns;          /* no connection: when to try again */
    unsigned backoff_ms;        /* ... and the wait after that */
    char addr[CMSG_MAX_ADDR];   /* where it listens (PEERS) */
} nhome_peer;

/* A node that still homes pages but whose connection went down (its
 * endpoint failed, or the link broke) is connected again, first after
 * NHOME_RECONNECT_MS, the wait doubling up to NHOME_RECONNECT_MAX_MS. */
#define NHOME_RECONNECT_MS 50
#define NHOME_RECONNECT_MAX_MS 1000

/* An APPLY entry that waits for its delta or its base. */
typedef struct nhome_park {
    uint64_t page, epoch, base;
    cmsg_tag tag;
    uint64_t t_ns;              /* when it came */
    int asked;                  /* masks only: NEED sent, still waits */
} nhome_park;
/* How long an APPLY entry waits for its delta (which may come after it:
 * it travels from another node) or its base before the node asks the
 * master for the version (NEED), in milliseconds. */
#define NHOME_PARK_MS 100

/* A DELTA being gathered for node id (n entries so far). */
typedef struct nhome_dq {
    uint64_t id;
    msg_buf b;
    size_t n;
} nhome_dq;

typedef struct nhome_ask {
    uint64_t page, epoch, id;   /* the version, the node asked */
    int keep;                   /* for the home store (PULL) */
} nhome_ask;

/* Where questions for the master go (after the node's earlier messages);
 * parked dispatches may go once something was filled. */
typedef struct nhome_ops {
    dvm_status (*to_master)(void *arg, uint16_t type, const msg_buf *b);
    dvm_status (*filled)(void *arg);
    void (*log)(void *arg, const char *line);   /* one line, no newline */
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
    dpend pend;                 /* deltas waiting for APPLY */
    dpend sent;                 /* masks only: this node's own deltas as
                                   it sent them, until applied or
                                   dropped (DRESEND sends them again) */
    uint64_t resent;            /* deltas sent again (DRESEND) */
    nhome_park *park;           /* APPLY entries waiting, in order */
    size_t npark, cappark;
    nhome_dq *dq;               /* DELTAs being gathered, by node */
    size_t ndq, capdq;
    uint64_t *acks, *needs;     /* scratch: pairs */
    size_t capacks, capneeds;
    nhome_ask *ask;             /* questions open at other nodes */
    size_t nask, capask;
    msg_buf b, m;               /* scratch */
    uint64_t served;            /* versions served to other nodes */
    uint64_t from_homes;        /* versions fetched from other nodes */
    uint64_t deltas_sent;       /* page deltas sent to holders */
    int no_deltas;              /* test hook (DVM_TEST_NO_DELTAS set): it
                                   sends none, as a node lost before its
                                   changes reached the holders; 2 (set to
                                   "never"): in a masks-only program it
                                   keeps none either, so none go when
                                   asked again (DRESEND) */
    uint64_t abort_at;          /* test hook (DVM_TEST_PEER_ABORT=N): once
                                   N deltas went, every connection to the
                                   other nodes is aborted, once, as a link
                                   that broke with messages in flight */
    int one_holder;             /* test hook (DVM_TEST_DELTA_ONE_HOLDER
                                   set): a delta goes first to one holder
                                   other than this node only, the one of
                                   lowest id (DRESEND sends to all) */
    uint64_t exit_at;           /* test hook (DVM_TEST_EXIT_AFTER_APPLIED=
                                   N): the node is killed (SIGKILL) once
                                   it made N versions of APPLYs */
    uint64_t applied, needed;   /* APPLY entries made, asked for again */
    int masks;                  /* the program runs masks only */
    uint64_t *retry;            /* masks only: versions to keep that no
                                   holder had yet (pairs), asked again */
    size_t nretry, capretry;
    uint64_t retry_ns;          /* when they were last asked */
    uint64_t *held;             /* scratch: a DHELD's entries */
    size_t capheld;
    uint64_t *later;            /* DROPs held back (pairs): versions a
                                   waiting APPLY entry still needs */
    size_t nlater, caplater;
    uint64_t drops_waited;      /* DROPs held back so (the first logged) */
} nhome;

void nhome_init(nhome *h, transport *t, const nhome_ops *ops);
void nhome_destroy(nhome *h);
/* A program starts: versions in frames of store, cached in pc; masks: it
 * runs masks only (CMSG_START_MASKS_ONLY): deltas are held until applied
 * or dropped, and reported to the master (DHELD). */
dvm_status nhome_start(nhome *h, uint64_t run, mem_store *store, pcache *pc,
                       int masks);
/* DDROP from the master: the deltas of those results go (this node's
 * own kept copies too). */
dvm_status nhome_on_ddrop(nhome *h, const uint8_t *p, size_t len);
/* DRESEND from the master: the deltas of those results of this node,
 * kept since sent (masks only), go again to their pages' holders now
 * (this node's own share kept at once).  DVM_EPROTO when malformed,
 * DVM_ENOMEM. */
dvm_status nhome_on_dresend(nhome *h, const uint8_t *p, size_t len);
/* The deltas of tag (a result of this node) again to the holders now;
 * returns how many were found, *st the status. */
size_t nhome_resend(nhome *h, const cmsg_tag *tag, dvm_status *st);
/* The program ends: every homed version and open question goes. */
void nhome_stop(nhome *h);

/* Messages from the master: PEERS, STORE, DROP.  DVM_EPROTO when
 * malformed.  A version that DROP names but a waiting APPLY entry still
 * needs (as its base, or its own version while it waits) is dropped once
 * no waiting entry needs it. */
dvm_status nhome_on_peers(nhome *h, const uint8_t *p, size_t len);
dvm_status nhome_on_store(nhome *h, const uint8_t *p, size_t len);
dvm_status nhome_on_drop(nhome *h, const uint8_t *p, size_t len);
/* HFETCH from the master (the end of a masks-only run: the dumped
 * pages' newest versions): answered on conn with HFETCHED from the home
 * store, as another node's.  DVM_EPROTO when malformed. */
dvm_status nhome_on_master_fetch(nhome *h, uint64_t conn, const uint8_t *p,
                                 size_t len);
/* PULL: versions to keep from now on, fetched from their other holder
 * (never from the master); each kept is acknowledged (STORED). */
dvm_status nhome_on_pull(nhome *h, const uint8_t *p, size_t len);

/* APPLY: versions to make from their base and a delta, keep and
 * acknowledge (STORED), in the order they came; one whose delta or base
 * is not here waits for it (a DELTA, a STORE) up to NHOME_PARK_MS, then
 * is asked for (NEED).  DVM_EPROTO when malformed. */
dvm_status nhome_on_apply(nhome *h, const uint8_t *p, size_t len);
/* Called at every turn of the node's loop: the waiting APPLY entries
 * whose delta and base came are made, those that waited too long are
 * asked for, and the connections to nodes that went down are made again
 * when their wait is over. */
dvm_status nhome_tick(nhome *h, uint64_t now_ns);
/* The changes c[0, n) of a result this node relays, made by RComp place
 * `rcomp` of generation gen for runner (rid, attempt), the new pages'
 * data in pages[0, n): each page's changed bytes go to its home and
 * backup (DELTA, gathered until nhome_flush_deltas; kept here at once
 * when this node is one).  A holder that cannot be reached is left out
 * (it will ask the master).  When whole is not NULL, each change i with
 * whole[i] also sends its adopted form, under the tag with
 * CMSG_TAG_WHOLE in its attempt: what makes the version when the master
 * adopted the page rather than merged it (it has no data to check the
 * page against).  That is the whole page for NHOME_WHOLE_PAGE, and the
 * changed bytes again for NHOME_WHOLE_BYTES, a page whose RComp's view
 * was the base itself (the base with the changed bytes over it is the
 * page then).  Returns DVM_OK or DVM_ENOMEM. */
enum { NHOME_WHOLE_BYTES = 1, NHOME_WHOLE_PAGE = 2 };
dvm_status nhome_deltas(nhome *h, uint64_t rcomp, uint64_t gen, uint64_t rid,
                        uint64_t attempt, const mem_change *c, size_t n,
                        const uint8_t *const *pages, const uint8_t *whole);

/* Sends the DELTAs gathered (after the results they belong to went to
 * the master: its verdict is what a commit waits for). */
void nhome_flush_deltas(nhome *h);

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
