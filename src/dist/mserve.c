/*
 * mserve.c -- the master service: nodes, clients, one program at a time.
 *
 * Peers are told apart by their first message: JOIN makes a node,
 * SUBMIT, STATUS_REQ, RESUME or DRAIN a client.  Anything else, or a malformed message,
 * closes that peer (logged) and nothing else happens.
 *
 * A program runs inside master_run (sched/master.c) with a master_remote
 * whose poll turns the transport: node messages arrive there as RELAYs
 * and are handed to the RComp set (rcomps_on_remote) as if they came from
 * a local socket, once the pages they carry are in the master's frames.
 * A node's RComp place gets a master slot when its first message of a
 * generation arrives; a new generation means the old process is gone
 * (rcomp_lost: its runners run elsewhere).  A node that goes away loses
 * all its slots the same way.  A node that joins during a run is sent
 * START at once and receives runners as soon as its RComps are ready.
 * The client going away (Ctrl-C) cancels the run.
 *
 * Each node has a name (its own, or its host's; "-2", "-3", ... added
 * when a live node has it already) under which the obs hub (obs.h, for
 * `--http`) counts what its RComps do; the master itself is the node
 * "master" there (it is the memory service).  The hub lives as long as
 * the service: each program begins with obs_begin.
 *
 * The master measures each node's clock against its own (clocksync.h):
 * a burst of CLOCK_PINGs when the node joins and every 10 s; a run starts
 * once the nodes present are measured.  A RESULT's runner times, taken on
 * the node's clock, are moved onto the master's before the RComp set (the
 * trace, the metrics) sees them.
 *
 * With a state directory the running program is saved at its commit
 * points (dist/msave.h) and its output leaves only once saved.  A master
 * that starts and finds a program in the store waits (MSERVE_RESUME_S) for
 * its client to come back with RESUME, sends it the output it lacks and
 * goes on with the program where the store left it; nodes rejoin as they
 * would join any master.  A program that ends keeps its verdict in the
 * store until its client leaves with it (ended): a client whose master
 * died between the two resumes and gets the output it lacks and the
 * verdict; one the master has no program for is told so
 * (CMSG_DONE_NO_PROGRAM) and may submit again.
 *
 * Stable commits: a commit's output leaves, and new snapshots see it,
 * only once every version of every commit up to it is kept by its home
 * and backup (the index's stable epoch, vindex.h): output waits in the
 * hold (mhold.h), runners the commit made wait in the scheduler's gate
 * (master_remote.stable, snap_stable).
 *
 * Leaving in order (LEAVE, cmsg.h): a node asks (ASK); its slots are
 * dispatched nothing more and leave __nrcomp, the node leaves __nnode,
 * and the master answers ACK, after which no dispatch for it follows (the
 * transport keeps the order).  The node lets its RComps finish, their
 * results commit, and says DONE: what it did not finish goes back to the
 * ready queue without counting as a failure (rcomp_left), and the master
 * closes it.
 *
 * Draining (DRAIN, dvm node --drain): a client names a live node; the
 * master sends that node DRAIN, and the node leaves as on SIGTERM (ASK,
 * ACK, DONE).  The client waits (MSERVE_MAX_DRAINS at most, all clients
 * together) and is answered DONE when the node left (0), or was lost
 * before it could (1); an unknown name is answered at once (2).  Asking
 * again for a node on its way out only adds a waiter.
 *
 * Heartbeat: every node sends something (at least a PING, the transport's
 * keepalive) every CMSG_PING_MS; a node the master has not heard from for
 * the heartbeat bound (--heartbeat, CMSG_NODE_SILENT_MS) is closed and
 * lost like one whose endpoint failed, so a cut link costs at most that
 * long (check_heartbeats says why this bound does not misfire when the
 * master is busy).  The master PINGs every node as often (the same
 * keepalive), so that a node it closed while the link was down notices
 * the silence (node.c) and ends, to be started and join again.  When the link
 * comes back, what the old endpoint still sends is dropped (its peer is
 * closed; a node that connects again is a new peer, and old runs and
 * generations are refused by number).
 */
#define _GNU_SOURCE
#include "dist/mserve.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cluster/transport.h"
#include "cluster/wire.h"
#include "dist/clocksync.h"
#include "dist/cmsg.h"
#include "dist/dheld.h"
#include "dist/dmake.h"
#include "dist/dremake.h"
#include "dist/kin.h"
#include "dist/linkcost.h"
#include "dist/mhold.h"
#include "dist/msave.h"
#include "dist/stall.h"
#include "dist/vindex.h"
#include "image/image.h"
#include "image/inpage.h"
#include "isa/isa.h"
#include "mem/store.h"
#include "sched/master.h"
#include "sched/persist.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/le.h"
#include "util/sigstop.h"

#define MSERVE_MAX_NODES 256
/* How long a restarted master waits for the client of a saved program. */
#define MSERVE_RESUME_S 60
/* Committed output under way to the client at most: past it the commit
 * point waits for the client to take it (flow control), so a slow client
 * costs the master this much memory, not the output's size. */
#define MSERVE_OUT_UNSENT (1u << 20)
#define MSERVE_OUT_WAIT_MS 100
/* Committed output held for acks from homes (in the store's frames) at
 * most: past it results wait uncommitted (master_remote.may_commit). */
#define MSERVE_HOLD_MAX (16u << 20)
/* Bits of a node's region set (2 MiB regions, hashed). */
#define MSERVE_REGION_BITS (1u << 14)
#define MSERVE_REGION_WORDS (MSERVE_REGION_BITS / 64)

/* How long the master waits for the pages it gathers from the holders
 * (saves and dumps of a masks-only run), and how many a question asks
 * for (gather_fetch below). */
#define MSERVE_GATHER_WAIT_MS 30000
/* Bounds on what a node's RESULT says for placement (cmsg_result_fig):
 * input pages a runner had fetched (the input windows hold 2^32 pages),
 * a link's time per page (a minute: no link that slow is one to use). */
#define MSERVE_INPUT_PAGES_MAX (1ull << 32)
#define MSERVE_LINK_NS_PAGE_MAX 60000000000ull
#define MSERVE_GATHER_BATCH 256

/* (page, epoch) pairs being gathered for a DROP or a PULL. */
typedef struct mpairs {
    uint64_t *v;
    size_t n, cap;
} mpairs;

typedef struct mnode {
    uint64_t peer;
    int live;
    int nrcomps;
    int *slot;                  /* per RComp place: master slot or -1 */
    uint64_t *gen;              /* generation of that slot */
    int started;                /* START sent for the current run */
    int leaving;                /* asked to leave (LEAVE ASK) */
    uint64_t results;           /* results its RComps sent, all runs */
    uint64_t pages_in;          /* pages it sent with results */
    uint64_t changes_in;        /* of them, changed pages (not output) */
    uint64_t pages_out;         /* versions it fetched */
    uint64_t inputs_out;        /* input pages it fetched */
    uint64_t waits[CMSG_FETCH_WAIT_BUCKETS + 1];   /* its fetch waits
                                   counted so far (NODE_STATS), and sum */
    uint64_t cache[CMSG_NODE_STATS];    /* its NODE_STATS, by CMSG_NS_* */
    uint64_t id;                /* never reused: placement (home.h) */
    char addr[CMSG_MAX_ADDR];   /* where it serves other nodes; "": it
                                   homes nothing */
    uint64_t stored;            /* versions it acknowledged (STORED) */
    uint64_t *sb;               /* STORE being gathered: page, epoch, 1 */
    const uint8_t **sbp;        /* and their data */
    size_t nsb, capsb, capsbp;
    mpairs drop, pull;          /* DROP, PULL being gathered */
    mpairs handover;            /* leaving, masks only: versions it alone
                                   keeps, asked of it (HFETCH) for their
                                   new holders; its LEAVE ACK waits */
    uint64_t handover_ns;       /* when they were asked */
    int ack_owed;               /* its LEAVE ACK waits for them */
    uint64_t *ab;               /* APPLY being gathered (CMSG_APPLY_WIDTH
                                   words an entry) */
    size_t nab, capab;
    uint64_t regions[MSERVE_REGION_WORDS];  /* 2 MiB regions it was sent
                                   pages of this run (hashed: a hint) */
    kin_table kin;              /* identities of the runners placed on
                                   it this run (dist/kin.h) */
    uint64_t run_results;       /* results it gave in this run */
    uint64_t run_inputs;        /* input pages it fetched in this run */
    uint64_t link_ns_page;      /* its time per input page, as its
                                   RESULTs say in this run (0: not
                                   measured) */
    char name[CMSG_MAX_NODE_NAME + 8];  /* unique among live nodes */
    int obs;                    /* its node in the obs hub; -1: none */
    clocksync clk;              /* its clock against the master's */
} mnode;

/* A client waiting for a node it asked to drain to leave. */
#define MSERVE_MAX_DRAINS 64

/* How long a result waits for its changes to be held at a home (DHELD)
 * before its node is asked to send them again (DRESEND), and again
 * after each such ask (gate_check). */
#define MSERVE_RESEND_MS 100

/* How many RComps in a row are replaced for a result whose changes no
 * home came to hold, with no result held in between, before the program
 * fails (gate_check): the commits wait in order behind that one, so no
 * runner of the program could commit any more. */
#define MSERVE_GATE_KILLS_MAX 5

typedef struct mdrain {
    uint64_t peer;              /* the client */
    uint64_t node;              /* the node's id (mnode.id) */
} mdrain;

/* A commit of a remote result: its epoch and the tag (node, place,
 * generation, run id, attempt) under which its node sent the changed
 * bytes to the homes (DELTA). */
typedef struct mtag {
    uint64_t epoch;
    cmsg_tag tag;
    uint64_t snap;              /* its runner's snapshot */
} mtag;

/* A version of a tagged commit that goes as STORE all the same
 * (change_replayable). */
typedef struct mskip {
    uint64_t epoch, page;
} mskip;

/* A page whose newest version has its data at its holders only (masks
 * only), fetched from one of them: for a save (save_gather) or, at the
 * end of the run, for the dumps (dump_gather). */
typedef struct gather_page {
    uint64_t page, epoch;
    uint64_t asked;             /* the node id asked; UINT64_MAX: none */
    uint64_t absent;            /* the last node that did not have it;
                                   UINT64_MAX: none */
    uint8_t *data;              /* DISA_PAGE bytes once they came */
    int fresh;                  /* asked for in this turn (gather_ask) */
} gather_page;

typedef struct mslot {
    int node, rcomp;
    uint64_t gen;
} mslot;

/* The stable epoch as one waiter for it saw it last, since when it has
 * not moved while something waited, and whether it was bypassed since
 * (stable_upto). */
typedef struct mstall {
    uint64_t stable, since_ns;
    int bypassed;
} mstall;

typedef struct mserve {
    mserve_config cfg;
    transport *t;
    uint16_t port;
    mnode nodes[MSERVE_MAX_NODES];
    size_t nnodes;
    uint64_t clients[MSERVE_MAX_NODES];     /* peers known as clients (more
                                               at once are refused) */
    size_t nclients;
    mdrain drains[MSERVE_MAX_DRAINS];       /* clients of DRAIN waiting */
    size_t ndrains;
    /* the program: pending once submitted, running inside master_run */
    int pending, running;
    uint64_t run_id;
    uint64_t client;
    uint8_t *sub_buf;
    size_t sub_len;
    cmsg_submit sub;
    msave save;                 /* --state: the program's saved state */
    mhold hold;                 /* output until its commit is stable */
    mstall hold_stall;          /* the stable epoch, as output saw it */
    mstall snap_stall;          /* and as snapshots saw it */
    int restoring;              /* the pending program comes from it */
    uint64_t resume_until_ns;   /* its client must be back by then */
    int ended;                  /* a program that ended: its verdict kept
                                   in the store (msave_end) */
    uint64_t ended_client;      /* its client, UINT64_MAX when unknown
                                   (a restarted master) */
    uint64_t ended_until_ns;    /* unknown client: kept for it until then */
    dvm_program *prog;
    master *m;
    uint64_t t_run_ns;
    mslot slots[RCOMPS_SLOTS_MAX];
    uint64_t req_page, req_epoch;   /* the page request being answered */
    uint64_t req_ns;                /* when it arrived */
    obs *obs;                       /* cfg.obs */
    int obs_master;                 /* the master's node there */
    uint64_t obs_ns;                /* nodes' levels last published */
    msg_buf fix;                    /* a RESULT on the master's clock */
    master_remote remote;
    vindex vx;                  /* versions homed on nodes */
    linkcost link;              /* input pages each kind of runner
                                   fetches where its input is not (this
                                   run; dist/linkcost.h) */
    uint64_t input_pages;       /* the running program's inputs' pages
                                   (with their length words) */
    size_t run_answered;        /* nodes that gave a result in this run */
    vindex_ops vops;
    uint64_t next_id;           /* of the next node to join */
    uint64_t pushed;            /* commits up to this one are placed */
    uint64_t gc_epoch;          /* the index was collected at this one */
    size_t pulls;               /* PULLs asked for (all runs) */
    uint64_t handed_over;       /* versions sent to new holders from a
                                   node that left (all runs) */
    mtag *ctag;                 /* the tags of the commits not yet placed,
                                   in commit order */
    size_t nctag, capctag;
    mskip *cskip;               /* their versions that go as STORE, in
                                   commit order */
    size_t nskip, capskip;
    const mtag *apply;          /* the commit being placed, when its node
                                   sent its changes to the homes */
    uint64_t apply_base;        /* the version it applies to */
    int apply_whole;            /* the version is the committing node's
                                   whole page (masks only, adopted) */
    cmsg_start rule;            /* the running program's flags: what
                                   results bring data of */
    uint64_t *dl;               /* masks only: frame -> page + 1 of a
                                   result's change without data */
    size_t ndl;                 /* its frames (mapped, zero until used) */
    dheld held;                 /* masks only: deltas held at a home that
                                   is not their committing node (DHELD) */
    dmake made;                 /* masks only: holders able to make each
                                   page's newest version (dmake.h) */
    dremake remake;             /* masks only: versions placed without
                                   data, until every holder keeps them */
    uint64_t remake_ns;         /* the list was last looked at */
    uint64_t remade;            /* versions made again: asked for by a
                                   holder (NEED) or not kept in time, all
                                   runs */
    cmsg_tag remake_last;       /* in a look: the commit last asked for */
    int remake_asked, remake_logged;
    cmsg_tag deciding;          /* the result let through the gate last,
                                   until it is committed (else refused) */
    int has_deciding;
    uint64_t *dec;              /* its pages without data, each with the
                                   holders counted for it: MSERVE_DEC_WIDTH
                                   words (page, n, ids) */
    size_t ndec, capdec;
    uint64_t *ddrop;            /* tags of results refused or dropped,
                                   for the next DDROP */
    size_t nddrop, capddrop;
    cmsg_tag gwait;             /* the result the gate holds, since when */
    uint64_t gwait_ns;
    uint64_t resend_ns;         /* the gate's result: last DRESEND (or
                                   when it began to wait) */
    uint64_t resends;           /* DRESEND sent */
    int gwait_slot;             /* -1: none */
    uint64_t homes_ns;          /* the nodes that home pages last changed */
    uint64_t hids[CMSG_MAX_PEERS];  /* those nodes now */
    size_t nhids;
    int held_new;               /* a DHELD or STORED came this turn */
    uint64_t gate_waits, gate_kills;    /* results that waited for DHELD,
                                   RComps killed for one; all runs */
    unsigned gate_kills_row;    /* RComps killed for one since a result
                                   was last held (this run) */
    uint8_t replay[DISA_PAGE];  /* scratch: a version made as a holder
                                   makes it */
    gather_page *dw;             /* pages to fetch from their holders, by
                                   page (dump_gather, save_gather); NULL:
                                   none */
    size_t ndw, capdw;
    int gathering;              /* a save fetches its pages: results
                                   wait (hold_may_commit) */
    uint64_t *gather_count;     /* counts the pages fetched (one of: */
    uint64_t dump_fetched;      /* dumped pages fetched from holders, since
                                   the master started */
    uint64_t save_fetched;      /* pages fetched for saves (--state), since
                                   the master started */
    uint64_t input_bytes_out;   /* input bytes sent to nodes (pages of
                                   the input windows they asked for),
                                   since the master started */
    uint64_t first_touch[2];    /* first-touch pages answered: [0] by the
                                   epoch alone (the node fetches from the
                                   homes), [1] with the master's data; all
                                   runs */
    uint64_t applied, stored_full, needed;  /* versions placed by APPLY,
                                   by STORE (with data), asked for again
                                   (NEED); all runs */
    uint64_t *pg;               /* scratch: a commit's pages */
    size_t npg, cappg;
    msg_buf b, rec;
    status_first fatal;         /* the program's first fatal error */
} mserve;

static volatile sig_atomic_t mserve_quit;

static void mserve_on_signal(int sig)
{
    (void)sig;
    mserve_quit = 1;
}

static void ms_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void ms_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "dvm master: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static dvm_status ms_send(mserve *s, uint64_t peer, uint16_t type)
{
    if (s->b.oom)
        return status_set(DVM_ENOMEM, "out of memory encoding a message");
    return transport_send(s->t, peer, type, s->b.p, s->b.len);
}

/* Closes a peer that broke the protocol (the transport logs nothing for
 * this side's application-level refusals, so it is logged here). */
static void ms_refuse(mserve *s, uint64_t peer, const char *why)
{
    ms_log("closing %s: %s", transport_peer_name(s->t, peer), why);
    transport_close(s->t, peer);
}

static void node_lost(mserve *s, mnode *nd);
static void gather_send(mserve *s, mnode *nd, const uint64_t *ent, size_t n);
static void handover_check(mserve *s);

/* Closes node nd, which broke the protocol (why: logged), and loses it. */
static void ms_drop_node(mserve *s, mnode *nd, const char *why)
{
    ms_refuse(s, nd->peer, why);
    node_lost(s, nd);
}

/* Frees what nd allocated (it is dead or about to be reused). */
static void node_free(mnode *nd)
{
    dvm_free(nd->slot);
    dvm_free(nd->gen);
    dvm_free(nd->sb);
    dvm_free(nd->sbp);
    dvm_free(nd->drop.v);
    dvm_free(nd->pull.v);
    dvm_free(nd->handover.v);
    dvm_free(nd->ab);
    nd->ab = NULL;
    nd->nab = nd->capab = 0;
    nd->slot = NULL;
    nd->gen = NULL;
    nd->sb = nd->drop.v = nd->pull.v = nd->handover.v = NULL;
    nd->handover.n = nd->handover.cap = 0;
    nd->sbp = NULL;
}

static mnode *node_of(mserve *s, uint64_t peer)
{
    for (size_t i = 0; i < s->nnodes; i++)
        if (s->nodes[i].live && s->nodes[i].peer == peer)
            return &s->nodes[i];
    return NULL;
}

static int is_client(const mserve *s, uint64_t peer)
{
    for (size_t i = 0; i < s->nclients; i++)
        if (s->clients[i] == peer)
            return 1;
    return 0;
}

/* ---- the run's link to the master ------------------------------------------- */

static rcomp_set *ms_rcs(mserve *s)
{
    return master_rcomps(s->m);
}

static mem_store *ms_store(mserve *s)
{
    return master_commit_point(s->m)->store;
}

/* __nnode: nodes with at least one live RComp in this run. */
static dvm_status signal_nodes(mserve *s)
{
    rcomp_set *rs = ms_rcs(s);
    uint64_t n = 0;
    for (size_t i = 0; i < s->nnodes; i++) {
        const mnode *nd = &s->nodes[i];
        int any = 0;
        for (int k = 0; k < nd->nrcomps && nd->slot; k++)
            any |= nd->slot[k] >= 0 && !rs->rc[nd->slot[k]].gone;
        n += nd->live && !nd->leaving && any;
    }
    return commit_write(master_commit_point(s->m), DISA_SYS_NNODE, &n,
                        sizeof n);
}

static uint32_t region_bit(uint64_t page)
{
    uint64_t h = (page >> 9) * 0x9E3779B97F4A7C15ULL;
    return (uint32_t)(h >> 50) & (MSERVE_REGION_BITS - 1);
}

/* nd was sent page's data: it has the page's region in its cache. */
static void region_mark(mnode *nd, uint64_t page)
{
    uint32_t b = region_bit(page);
    nd->regions[b / 64] |= 1ULL << (b % 64);
}

static mem_space *ms_space(mserve *s)
{
    return master_commit_point(s->m)->space;
}

/* The version epochs a message names: a DISPATCH's prefetch entries (at
 * their runners' snapshots), then, for its runners with
 * MSG_RUNNER_KEEP_FRAMES, their listed changed pages' (at the same
 * snapshots: the node puts its own frames of those versions in the
 * list), a PAGE_RESP's page (the request's).  Sets
 * *ver (owned, NULL when none), *nver, and *page to the data of a
 * PAGE_RESP's frame (NULL otherwise). */
static dvm_status versions_of(mserve *s, uint32_t type, const uint8_t *p,
                              size_t n, uint64_t **ver, size_t *nver,
                              const uint8_t **page)
{
    *ver = NULL;
    *nver = 0;
    *page = NULL;
    if (type == MSG_PAGE_RESP && le_ld64(p)) {
        uint32_t f;
        if (!(*ver = dvm_malloc(sizeof **ver)))
            return status_set(DVM_ENOMEM, "out of memory");
        (*ver)[0] = space_lookup_version(ms_space(s), s->req_page,
                                         s->req_epoch, &f);
        *nver = 1;
        /* A version a holder keeps is fetched from the homes, like one
         * whose data the master gave away: the master sends its own
         * copy only while no holder has acknowledged it yet. */
        uint32_t fr = (uint32_t)le_ld64(p);
        int kept = fr == SPACE_FRAME_AWAY ||
                   vindex_kept(&s->vx, s->req_page, (*ver)[0]);
        *page = kept ? NULL : store_frame(ms_store(s), fr);
        s->first_touch[!kept]++;
        return DVM_OK;
    }
    if (type != MSG_DISPATCH)
        return DVM_OK;
    msg_dispatch d;
    dvm_status st = msg_decode_dispatch(p, n, &d);
    if (st)
        return st;
    size_t k = 0;
    for (uint32_t i = 0; i < d.n; i++)
        k += d.r[i].npre + (d.r[i].flags & MSG_RUNNER_KEEP_FRAMES ?
                            d.r[i].ninval : 0);
    if (!(*ver = dvm_calloc(k + 1, sizeof **ver)))
        st = status_set(DVM_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < d.n && !st; i++)
        for (uint32_t q = 0; q < d.r[i].npre; q++) {
            uint32_t f;
            (*ver)[(*nver)++] = space_lookup_version(
                ms_space(s), d.r[i].pre[q].page, d.r[i].snap, &f);
            assert(f == d.r[i].pre[q].frame);
        }
    for (uint32_t i = 0; i < d.n && !st; i++)
        for (uint32_t q = 0; d.r[i].flags & MSG_RUNNER_KEEP_FRAMES &&
                             q < d.r[i].ninval; q++) {
            uint32_t f;
            (*ver)[(*nver)++] = space_lookup_version(
                ms_space(s), d.r[i].inval[q], d.r[i].snap, &f);
        }
    msg_dispatch_free(&d);
    return st;
}

/* ---- homes ------------------------------------------------------------------ */

/* Versions per STORE message, entries per DROP.  A few versions a
 * message (16 KiB of data) keep a STORE small enough for UCX to send it
 * eagerly: a rendezvous STORE arrives after the questions of nodes that
 * the dispatch sent after it, which then go to the master instead (16
 * versions a message did that: a thousand versions of bench/commit.dasm
 * fetched from the master).  Four rather than one cut the messages of a
 * turn that placed several commits (bench/recovery "replication"). */
#define MSERVE_STORE_BATCH 4
#define MSERVE_DROP_BATCH 4096
/* The index is collected when this many commits passed. */
#define MSERVE_VINDEX_GC 256

static mnode *node_by_id(mserve *s, uint64_t id)
{
    for (size_t i = 0; i < s->nnodes; i++)
        if (s->nodes[i].live && s->nodes[i].id == id)
            return &s->nodes[i];
    return NULL;
}

static void apply_flush(mserve *s, mnode *nd)
{
    if (!nd->nab)
        return;
    mb_reset(&s->b);
    cmsg_encode_fetch(&s->b, s->run_id, nd->ab, nd->nab, CMSG_APPLY_WIDTH,
                      NULL, 0);
    (void)ms_send(s, nd->peer, WIRE_APPLY);     /* gone: DOWN follows */
    nd->nab = 0;
}

static void store_flush(mserve *s, mnode *nd)
{
    if (!nd->nsb)
        return;
    mb_reset(&s->b);
    cmsg_encode_fetch(&s->b, s->run_id, nd->sb, nd->nsb, 3, nd->sbp,
                      nd->nsb);
    (void)ms_send(s, nd->peer, WIRE_STORE);     /* gone: DOWN follows */
    nd->nsb = 0;
}

/* Sends the pairs gathered in l to nd as one message of the given type
 * (DROP, PULL). */
static void pairs_flush(mserve *s, mnode *nd, mpairs *l, uint16_t type)
{
    if (!l->n)
        return;
    mb_reset(&s->b);
    cmsg_encode_fetch(&s->b, s->run_id, l->v, l->n, 2, NULL, 0);
    (void)ms_send(s, nd->peer, type);
    l->n = 0;
}

/* Adds (page, epoch) to l, sending l when it is full; 1 when added.
 * Without memory the pair is left out (a DROP: the node keeps a dead
 * version; a PULL: one copy fewer) and 0 returned. */
static int pairs_add(mserve *s, mnode *nd, mpairs *l, uint16_t type,
                     uint64_t page, uint64_t epoch)
{
    uint64_t *v = dvm_grow(l->v, &l->cap, 2 * (l->n + 1), sizeof *v);
    if (!v)
        return 0;
    l->v = v;
    l->v[2 * l->n] = page;
    l->v[2 * l->n++ + 1] = epoch;
    if (l->n >= MSERVE_DROP_BATCH)
        pairs_flush(s, nd, l, type);
    return 1;
}

static void homes_flush(mserve *s)
{
    for (size_t i = 0; i < s->nnodes; i++)
        if (s->nodes[i].live) {
            store_flush(s, &s->nodes[i]);
            apply_flush(s, &s->nodes[i]);
            pairs_flush(s, &s->nodes[i], &s->nodes[i].drop, WIRE_DROP);
            pairs_flush(s, &s->nodes[i], &s->nodes[i].pull, WIRE_PULL);
        }
}

/* 1 when the running program's results bring the data of page
 * (cmsg_start_keeps_data: always unless in masks-only mode). */
static int masks_keep(const mserve *s, uint64_t page)
{
    return cmsg_start_keeps_data(&s->rule, page);
}

/* space_set_dataless: frame, granted for a change of page, came without
 * its data (result_pages marked it); the mark goes with the answer. */
static int ms_dataless(void *arg, uint32_t frame, uint64_t page)
{
    mserve *s = arg;
    if (!s->dl || frame >= s->ndl || s->dl[frame] != page + 1)
        return 0;
    s->dl[frame] = 0;
    return 1;
}

/* 1 when version (page, epoch) is alive at the master, *f its frame
 * (SPACE_FRAME_AWAY: its data is at its holders only). */
static int version_frame(mserve *s, uint64_t page, uint64_t epoch,
                         uint32_t *f)
{
    return space_lookup_version(ms_space(s), page, epoch, f) == epoch && *f;
}

/* Batches of APPLY entries (no data: a few words each). */
#define MSERVE_APPLY_BATCH 256

/* (page, epoch) goes to nd as an APPLY: the node makes it from version
 * base and the delta its committing node sent under tag t (t->attempt
 * with CMSG_TAG_WHOLE: the whole form).  A STORE gathered before it
 * leaves first, so that nd sees versions in the order they were placed.
 * Returns 1 when gathered. */
static int apply_ent(mserve *s, mnode *nd, uint64_t page, uint64_t epoch,
                     uint64_t base, const cmsg_tag *t)
{
    uint64_t *e = dvm_grow(nd->ab, &nd->capab,
                           CMSG_APPLY_WIDTH * (nd->nab + 1), sizeof *e);
    if (!e)
        return 0;
    nd->ab = e;
    store_flush(s, nd);
    const uint64_t w[CMSG_APPLY_WIDTH] = { page, epoch, base, t->node,
                                           t->rcomp, t->gen, t->rid,
                                           t->attempt };
    memcpy(nd->ab + CMSG_APPLY_WIDTH * nd->nab++, w, sizeof w);
    if (nd->nab >= MSERVE_APPLY_BATCH)
        apply_flush(s, nd);
    return 1;
}

/* The tag an APPLY of the commit being placed (s->apply) names: its
 * delta's, with CMSG_TAG_WHOLE when the version is the committing node's
 * whole page (s->apply_whole). */
static cmsg_tag apply_tag(const mserve *s)
{
    cmsg_tag t = s->apply->tag;
    if (s->apply_whole)
        t.attempt |= CMSG_TAG_WHOLE;
    return t;
}

/* (page, epoch) of the commit being placed (s->apply) goes to nd as an
 * APPLY (apply_ent).  Returns 1 when gathered. */
static int apply_add(mserve *s, mnode *nd, uint64_t page, uint64_t epoch)
{
    const cmsg_tag t = apply_tag(s);
    if (!apply_ent(s, nd, page, epoch, s->apply_base, &t))
        return 0;
    s->applied++;
    return 1;
}

/* vindex: (page, epoch) goes to node id: as an APPLY when it is a version
 * of the commit being placed and its node sent the changes to the homes
 * (s->apply), else in its next STORE, or, when the master gave its data
 * away, in a PULL (the node fetches it from the holder that has it).
 * Without memory it is not sent: one copy fewer.  Returns 1 when it was
 * sent (the node's STORED will say it keeps it). */
static int home_store(void *arg, uint64_t id, uint64_t page, uint64_t epoch)
{
    mserve *s = arg;
    mnode *nd = node_by_id(s, id);
    uint32_t f;
    if (!nd || !nd->started || !version_frame(s, page, epoch, &f))
        return 0;
    if (s->apply && s->apply->epoch == epoch)
        return apply_add(s, nd, page, epoch);
    if (f == SPACE_FRAME_AWAY) {
        s->pulls++;
        return pairs_add(s, nd, &nd->pull, WIRE_PULL, page, epoch);
    }
    apply_flush(s, nd);
    uint64_t *e = dvm_grow(nd->sb, &nd->capsb, 3 * (nd->nsb + 1), sizeof *e);
    if (e)
        nd->sb = e;
    const uint8_t **d = dvm_grow(nd->sbp, &nd->capsbp, nd->nsb + 1,
                                 sizeof *d);
    if (d)
        nd->sbp = d;
    if (!e || !d)
        return 0;
    nd->sb[3 * nd->nsb] = page;
    nd->sb[3 * nd->nsb + 1] = epoch;
    nd->sb[3 * nd->nsb + 2] = 1;
    nd->sbp[nd->nsb++] = store_frame(ms_store(s), f);
    s->stored_full++;
    if (nd->nsb >= MSERVE_STORE_BATCH)
        store_flush(s, nd);
    return 1;
}

/* vindex: node id may forget (page, epoch). */
static void home_drop(void *arg, uint64_t id, uint64_t page, uint64_t epoch)
{
    mserve *s = arg;
    mnode *nd = node_by_id(s, id);
    if (nd && nd->started)
        pairs_add(s, nd, &nd->drop, WIRE_DROP, page, epoch);
}

/* vindex (its gc, every MSERVE_VINDEX_GC commits, over every entry): a
 * version made after the space's GC horizon is alive without looking it
 * up -- a walk down its page's chain; with the give-away sweep below,
 * over ~1,200 entries, ~8% of all CPU samples of 4 homing nodes and
 * their master in a run of small commits -- since GC frees only
 * versions older than one at or below its horizon. */
static int home_alive(void *arg, uint64_t page, uint64_t epoch)
{
    uint32_t f;
    if (epoch > space_gc_horizon(ms_space(arg)))
        return 1;
    return version_frame(arg, page, epoch, &f);
}

/* vindex: every holder of (page, epoch) is gone.  The master still has
 * its data (then it is stored anew), or the run cannot go on. */
static void home_lost(void *arg, uint64_t page, uint64_t epoch)
{
    mserve *s = arg;
    uint32_t f;
    if (s->running && version_frame(s, page, epoch, &f) &&
        f == SPACE_FRAME_AWAY)
        status_first_set(&s->fatal, status_set(DVM_EIO,
            "the version of page 0x%" PRIx64 " made by commit %" PRIu64
            " was lost with its home and backup nodes",
            page * (uint64_t)DISA_PAGE, epoch));
}

/* vindex: (page, epoch) is kept by its home and its backup: the master
 * gives its own copy away unless it is the page's newest version (which
 * commits merge into and the master reads). */
static void home_replicated(void *arg, uint64_t page, uint64_t epoch)
{
    (void)space_give_away(ms_space(arg), page, epoch);
}

/* vindex_release_replicated: the master's copy of replicated version
 * (page, epoch) goes if it can (home_replicated); 1 when it is gone (or
 * the version is), so that the version is not visited again. */
static int home_release(void *arg, uint64_t page, uint64_t epoch)
{
    uint32_t f;
    if (!version_frame(arg, page, epoch, &f) || f == SPACE_FRAME_AWAY)
        return 1;               /* masks only: most never had data here */
    return space_give_away(ms_space(arg), page, epoch);
}

/* The nodes that home pages changed (one joined or was lost): every
 * node is told the new list, and the run's versions are placed again.
 * Returns the copies sent to new holders. */
static size_t homes_changed(mserve *s)
{
    static cmsg_peers m;
    m.n = 0;
    for (size_t i = 0; i < s->nnodes; i++) {
        const mnode *nd = &s->nodes[i];
        /* A leaving node homes nothing more: its versions are copied to
         * their new holders while it is still there to be asked. */
        if (nd->live && !nd->leaving && nd->addr[0] && m.n < CMSG_MAX_PEERS) {
            m.id[m.n] = nd->id;
            m.addr[m.n++] = (cmsg_str){ (const uint8_t *)nd->addr,
                                        strlen(nd->addr) };
        }
    }
    size_t copies = vindex_set_nodes(&s->vx, m.id, m.n, &s->vops);
    /* A node counted able to make a version may home the page no more
     * (told to drop its versions): from now on acknowledgements count. */
    dmake_clear(&s->made);
    s->homes_ns = clock_now_ns();
    memcpy(s->hids, m.id, m.n * sizeof *m.id);
    s->nhids = m.n;
    for (size_t i = 0; i < s->nnodes; i++) {
        mnode *nd = &s->nodes[i];
        if (!nd->live)
            continue;
        m.self = nd->id;
        mb_reset(&s->b);
        cmsg_encode_peers(&s->b, &m);
        (void)ms_send(s, nd->peer, WIRE_PEERS);
    }
    if (s->running)
        homes_flush(s);
    return copies;
}

static void pg_add(void *arg, uint64_t page)
{
    mserve *s = arg;
    uint64_t *p = dvm_grow(s->pg, &s->cappg, s->npg + 1, sizeof *p);
    if (!p) {
        status_first_set(&s->fatal, status_set(DVM_ENOMEM, "out of memory"));
        return;
    }
    s->pg = p;
    s->pg[s->npg++] = page;
}

/* The tag of commit e, when its node sent its changes to the homes;
 * *k: where the search starts (the tags are in commit order). */
static const mtag *tag_of(const mserve *s, uint64_t e, size_t *k)
{
    while (*k < s->nctag && s->ctag[*k].epoch < e)
        (*k)++;
    return *k < s->nctag && s->ctag[*k].epoch == e ? &s->ctag[*k] : NULL;
}

/* 1 when version (page, e) of a tagged commit goes as STORE; *k: where
 * the search starts (the entries are in commit order). */
static int skipped(const mserve *s, uint64_t e, uint64_t page, size_t *k)
{
    while (*k < s->nskip && s->cskip[*k].epoch < e)
        (*k)++;
    for (size_t i = *k; i < s->nskip && s->cskip[i].epoch == e; i++)
        if (s->cskip[i].page == page)
            return 1;
    return 0;
}

/* Places the versions of the commits since the last call at their homes
 * (a commit the log no longer names stays the master's alone), and
 * collects the index now and then.  The versions of a remote result's
 * commit go as APPLY (the homes have its changed bytes), the others,
 * the DVM's own writes and those of a commit placed late, as STORE. */
/* space_visible_pages: a restored page's version is placed (STORE). */
static void restored_add(void *arg, uint64_t page, uint32_t frame)
{
    mserve *s = arg;
    uint32_t f;
    uint64_t e = space_lookup_version(ms_space(s), page,
                                      space_epoch(ms_space(s)), &f);
    (void)frame;
    if (e && vindex_add(&s->vx, page, e, &s->vops))
        status_first_set(&s->fatal, DVM_ENOMEM);
}

/* Places the newest versions of a restored program (--state) at their
 * homes, as a fresh program's loaded pages are: the commit log starts at
 * the restore, so the loop of homes_push would never name them, and a
 * holder could make no version whose base is one of them (masks only:
 * the master has no copy of the version to send instead). */
static void homes_place_restored(mserve *s)
{
    mem_space *sp = ms_space(s);
    s->apply = NULL;
    space_visible_pages(sp, 0, DISA_ADDR_LIMIT / DISA_PAGE, space_epoch(sp),
                        SIZE_MAX, restored_add, s);
    s->pushed = space_epoch(sp);
}

/* Masks only: version (page, e) of the commit being placed (s->apply),
 * placed at now_ns, went to its holders without data, so only its
 * holders can make it: watched until they keep it (dremake.h).  Without
 * memory it is not watched, as before. */
static void remake_note(mserve *s, uint64_t page, uint64_t e,
                        uint64_t now_ns)
{
    uint32_t f;
    if (!s->apply || !version_frame(s, page, e, &f) || f != SPACE_FRAME_AWAY)
        return;
    const cmsg_tag t = apply_tag(s);
    (void)dremake_note(&s->remake, page, e, s->apply_base, &t, now_ns);
}

static void homes_push(void *arg)
{
    mserve *s = arg;
    mem_space *sp = ms_space(s);
    if (!s->pushed && s->restoring)
        homes_place_restored(s);
    uint64_t now = space_epoch(sp);
    uint64_t now_ns = s->pushed < now ? clock_now_ns() : 0;
    size_t k = 0, ks = 0;
    for (uint64_t e = s->pushed + 1; e <= now && !s->fatal.st; e++) {
        s->npg = 0;
        if (space_pages_changed(sp, e - 1, e, (size_t)1 << 24, pg_add, s) ==
            SIZE_MAX)
            continue;
        const mtag *t = tag_of(s, e, &k);
        for (size_t i = 0; i < s->npg && !s->fatal.st; i++) {
            uint32_t f;
            s->apply = t && !skipped(s, e, s->pg[i], &ks) ? t : NULL;
            s->apply_base = s->apply ? space_lookup_version(sp, s->pg[i], e - 1, &f)
                              : 0;
            s->apply_whole = s->apply && !masks_keep(s, s->pg[i]) &&
                             s->apply_base <= t->snap;
            if (vindex_add(&s->vx, s->pg[i], e, &s->vops))
                status_first_set(&s->fatal, DVM_ENOMEM);
            remake_note(s, s->pg[i], e, now_ns);
        }
        s->apply = NULL;
    }
    s->nctag = s->nskip = 0;
    s->pushed = now;
    if (now - s->gc_epoch >= MSERVE_VINDEX_GC) {
        vindex_gc(&s->vx, &s->vops);
        vindex_release_replicated(&s->vx, home_release, s);
        s->gc_epoch = now;
    }
    homes_flush(s);
}

/* NODE_ADDR: where nd serves other nodes; from now on it homes pages. */
static void on_node_addr(mserve *s, mnode *nd, const uint8_t *p, size_t len)
{
    cmsg_str a;
    if (nd->addr[0] || cmsg_decode_addr(p, len, &a) ||
        cmsg_str_copy(a, nd->addr, sizeof nd->addr)) {
        nd->addr[0] = '\0';
        ms_drop_node(s, nd, "bad node address");
        return;
    }
    ms_log("node %s serves the pages it homes on %s", nd->name, nd->addr);
    homes_changed(s);
}

/* The (page, epoch) pairs of a STORED, NEED or FETCH (what) from nd into
 * *f: 1 when they are for this run; 0 when stale or malformed (then nd
 * is dropped). */
static int run_pairs(mserve *s, mnode *nd, const uint8_t *p, size_t len,
                     const char *what, cmsg_fetch *f)
{
    char why[32];
    if (cmsg_decode_fetch(p, len, 2, f)) {
        snprintf(why, sizeof why, "malformed %s", what);
        ms_drop_node(s, nd, why);
        return 0;
    }
    return s->running && f->run == s->run_id;
}

/* STORED: versions node nd keeps. */
static void on_stored(mserve *s, mnode *nd, const uint8_t *p, size_t len)
{
    cmsg_fetch f;
    if (!run_pairs(s, nd, p, len, "stored", &f))
        return;
    nd->stored += f.n;
    for (uint64_t i = 0; i < f.n; i++) {
        uint64_t page = le_ld64(f.ent + 16 * i);
        uint64_t epoch = le_ld64(f.ent + 16 * i + 8);
        if (vindex_ack(&s->vx, nd->id, page, epoch, &s->vops))
            home_replicated(s, page, epoch);
    }
    s->held_new = 1;            /* a result at the gate may reach its base */
}

/* 1 when version (page, epoch), just installed, is its base (the
 * version before it) with change c's bytes over it: what a holder makes
 * of the base and the delta.  A result's page is its RComp's view of the
 * page with the changed bytes over it, which the master adopts as it is
 * when no commit came between; that view can differ from the base
 * outside the changed bytes (a stack page the RComp reused: its kept
 * copy), and then only the data itself will do. */
static int change_replayable(mserve *s, const mem_change *c, uint64_t epoch)
{
    mem_space *sp = ms_space(s);
    uint32_t fn = space_lookup(sp, c->page, epoch);
    uint32_t fb = space_lookup(sp, c->page, epoch - 1);
    if (!fn || fn == SPACE_FRAME_AWAY || fb == SPACE_FRAME_AWAY)
        return 0;
    const uint8_t *nw = store_frame(ms_store(s), fn);
    if (fb)
        memcpy(s->replay, store_frame(ms_store(s), fb), DISA_PAGE);
    else
        memset(s->replay, 0, DISA_PAGE);
    uint64_t bits[DIFF_WORDS];
    mem_delta d = space_change_delta(c);
    if (diff_is_implied(d))     /* its bytes, as the version keeps them */
        d = space_version_delta(sp, c->page, epoch, bits);
    diff_apply(s->replay, nw, d);
    return memcmp(s->replay, nw, DISA_PAGE) == 0;
}

/* The tag under which remote slot `slot` sent result res's deltas. */
static cmsg_tag slot_tag(const mserve *s, int slot, const msg_result *res)
{
    const mslot *sl = &s->slots[slot];
    return (cmsg_tag){ s->nodes[sl->node].id, (uint64_t)sl->rcomp, sl->gen,
                       res->rid, res->attempt };
}

static void dec_commit(mserve *s, uint64_t epoch);
static void remake_need(mserve *s, uint64_t page, uint64_t epoch);

/* master_remote.committed: remote slot `slot`'s result res made commit
 * epoch; its node sent the changed bytes to the homes under the tag
 * (node, place, generation, run id, attempt), and the homes make the
 * versions from them when the commit is placed (homes_push).  Without
 * memory the commit goes as STORE.  A result let through
 * the gate notes who can make its versions (dec_commit). */
static void remote_committed(void *arg, int slot, const msg_result *res,
                             uint64_t epoch)
{
    mserve *s = arg;
    const mslot *sl = &s->slots[slot];
    cmsg_tag ct = slot_tag(s, slot, res);
    if (s->has_deciding && cmsg_tag_same(&s->deciding, &ct)) {
        s->has_deciding = 0;    /* committed: its deltas are applied */
        dec_commit(s, epoch);
    }
    mtag *t = dvm_grow(s->ctag, &s->capctag, s->nctag + 1, sizeof *t);
    if (!t || epoch <= s->pushed)
        return;
    s->ctag = t;
    for (uint32_t i = 0; i < res->nchanges; i++) {
        if (!masks_keep(s, res->changes[i].page) ||
            change_replayable(s, &res->changes[i], epoch))
            continue;           /* without data: made at the homes */
        mskip *k = dvm_grow(s->cskip, &s->capskip, s->nskip + 1, sizeof *k);
        if (!k)
            return;             /* the whole commit goes as STORE */
        s->cskip = k;
        s->cskip[s->nskip++] = (mskip){ epoch, res->changes[i].page };
    }
    s->ctag = t;
    s->ctag[s->nctag++] = (mtag){ epoch, { s->nodes[sl->node].id,
                                           (uint64_t)sl->rcomp, sl->gen,
                                           res->rid, res->attempt },
                                  res->snap };
}

/* NEED: versions of an APPLY node nd could not make (the delta or the
 * base had not come, or never will: its committing node was lost).  With
 * results that bring their data the master still has it (it gives data
 * away only once both holders acknowledged), and sends it as STORE;
 * masks only it answers with a PULL (home_store), and asks the committing
 * node of a version it watches (remake_need) to send the delta again. */
static void on_need(mserve *s, mnode *nd, const uint8_t *p, size_t len)
{
    cmsg_fetch f;
    if (!run_pairs(s, nd, p, len, "need", &f))
        return;
    s->needed += f.n;
    s->remake_asked = 0;
    int dead = 0;
    for (uint64_t i = 0; i < f.n; i++) {
        uint64_t page = le_ld64(f.ent + 16 * i);
        uint64_t epoch = le_ld64(f.ent + 16 * i + 8);
        dead |= !home_alive(s, page, epoch);
        (void)home_store(s, nd->id, page, epoch);
        remake_need(s, page, epoch);
    }
    /* A version collected since it was placed is not waited for: the
     * index forgets it now rather than at its next collection. */
    if (dead)
        vindex_gc(&s->vx, &s->vops);
    homes_flush(s);
}

/* Sends b's RComp messages to remote slot `slot`, naming the page
 * versions they refer to by frame; a PAGE_RESP carries its page's data
 * (the RComp waits for it), a DISPATCH does not: the node fetches what it
 * has not cached (FETCH). */
static dvm_status remote_send(void *arg, int slot, int page, const msg_buf *b)
{
    mserve *s = arg;
    const mslot *sl = &s->slots[slot];
    mnode *nd = &s->nodes[sl->node];
    dvm_status st = DVM_OK;
    homes_push(s);              /* what a dispatch names is on its way home */
    for (size_t off = 0; off + MSG_HEADER_SIZE <= b->len && !st;) {
        uint32_t type = le_ld32(b->p + off);
        size_t n = (size_t)le_ld64(b->p + off + 8);
        const uint8_t *p = b->p + off + MSG_HEADER_SIZE;
        off += MSG_HEADER_SIZE + n;
        uint64_t *ver;
        size_t nver;
        const uint8_t *data;
        st = versions_of(s, type, p, n, &ver, &nver, &data);
        if (!st && type == MSG_PAGE_RESP && nver)
            region_mark(nd, s->req_page);
        if (data) {
            if (s->obs && nd->obs >= 0)
                obs_page_fetch(s->obs, nd->obs, s->obs_master,
                               (uint32_t)sl->rcomp,
                               clock_now_ns() - s->req_ns);
        }
        if (!st) {
            mb_reset(&s->b);
            mb_reset(&s->rec);
            cmsg_encode_relay(&s->rec, s->run_id, (uint64_t)sl->rcomp,
                              sl->gen, page, type, p, n, ver, nver, &data,
                              data != NULL);
            mb_reset(&s->b);
            cmsg_batch_add(&s->b, &s->rec);
            st = ms_send(s, nd->peer, WIRE_RELAY);
        }
        dvm_free(ver);
    }
    return st;
}

/* The master gave up on slot `slot`: its process is replaced. */
static void remote_lost(void *arg, int slot)
{
    mserve *s = arg;
    const mslot *sl = &s->slots[slot];
    const mnode *nd = &s->nodes[sl->node];
    if (!nd->live)
        return;
    uint64_t v[2] = { (uint64_t)sl->rcomp, sl->gen };
    mb_reset(&s->b);
    cmsg_encode_u64s(&s->b, v, 2);
    (void)ms_send(s, nd->peer, WIRE_KILL);
}

static void ddrop_flush(mserve *s);
static void gate_check(mserve *s);
static void remake_check(mserve *s);

/* Locality: a runner would rather run where a runner of the same
 * identity ran before in this run (2: dist/kin.h), else where its first
 * heap range's first region is cached (1). */
static int remote_affinity(void *arg, int slot, const runner_desc *d)
{
    mserve *s = arg;
    const mnode *nd = &s->nodes[s->slots[slot].node];
    uint64_t id = kin_identity(d);
    if (!id)
        return 0;
    if (kin_has(&nd->kin, id))
        return 2;
    uint32_t b = region_bit(d->heap[0].lo / DISA_PAGE);
    return (int)(nd->regions[b / 64] >> (b % 64) & 1);
}

/* Runner d went to slot `slot`: its node remembers the identity.  1 when
 * the node had not run it (or d has no identity). */
static int remote_placed(void *arg, int slot, const runner_desc *d)
{
    mserve *s = arg;
    mnode *nd = &s->nodes[s->slots[slot].node];
    uint64_t id = kin_identity(d);
    if (!id)
        return 1;
    int known = kin_has(&nd->kin, id);
    kin_note(&nd->kin, id);
    return !known;
}

/* What running d on the slot's node would spend fetching its input over
 * the node's link: nothing where the node ran its identity (it keeps
 * the input pages for the run), else what d's kind fetches where its
 * input is not, times the share of the input the node lacks, times the
 * node's time per page (dist/linkcost.h). */
static uint64_t remote_fetch_ns(void *arg, int slot, const runner_desc *d)
{
    mserve *s = arg;
    const mnode *nd = &s->nodes[s->slots[slot].node];
    uint64_t id = kin_identity(d);
    if (!nd->link_ns_page || (id && kin_has(&nd->kin, id)))
        return 0;
    return linkcost_fetch_ns(&s->link, d->fi, nd->link_ns_page,
                             nd->run_inputs, s->input_pages);
}

/* 1 while, in this run of a program with inputs, the slot's node gave no
 * result, or other nodes run it and none of them did: nothing says yet
 * how long its link takes to bring them, or what a runner costs where
 * the link is not what it waits for (master.c, link_defers: nothing to
 * compare it with). */
static int remote_fresh(void *arg, int slot)
{
    mserve *s = arg;
    const mnode *own = &s->nodes[s->slots[slot].node];
    if (!s->sub.nin || !own->run_results)
        return s->sub.nin > 0;
    if (s->run_answered >= 2)
        return 0;               /* the common case, after the first results */
    for (size_t i = 0; i < s->nnodes; i++)
        if (&s->nodes[i] != own && s->nodes[i].live && s->nodes[i].started)
            return 1;           /* another runs it, and gave nothing yet */
    return 0;
}

/* The round trip to the slot's node, as the clock pings measured it. */
static uint64_t remote_net_ns(void *arg, int slot)
{
    mserve *s = arg;
    const mnode *nd = &s->nodes[s->slots[slot].node];
    return nd->clk.valid ? nd->clk.delay : 0;
}

static void clock_pings(mserve *s);
static void observe_nodes(mserve *s, int now_too);
static void check_heartbeats(mserve *s);
static void hold_release(mserve *s);

static dvm_status remote_poll(void *arg, int *wait_ms)
{
    mserve *s = arg;
    homes_push(s);
    size_t k = transport_progress(s->t);
    ddrop_flush(s);
    gate_check(s);
    remake_check(s);
    hold_release(s);
    clock_pings(s);
    observe_nodes(s, 0);
    *wait_ms = k > 0 || transport_arm(s->t) == DVM_EAGAIN
               ? 0 : transport_timeout_ms(s->t);
    int due = s->m ? msave_wait_ms(&s->save, s->m) : -1;
    if (due >= 0 && (*wait_ms < 0 || due < *wait_ms))
        *wait_ms = due;         /* a deferred save (output held) */
    /* A silent node is noticed even when nothing else happens. */
    if (*wait_ms < 0 || *wait_ms > CMSG_PING_MS)
        *wait_ms = CMSG_PING_MS;
    check_heartbeats(s);
    /* Results wait for what came: the loop turns again at once. */
    if (s->held_new && s->m && rcomps_waiting(ms_rcs(s)))
        *wait_ms = 0;
    s->held_new = 0;
    if (mserve_quit && !s->fatal.st)
        status_first_set(&s->fatal,
                         status_set(DVM_EIO, "the master was stopped"));
    return status_first_get(&s->fatal);
}

static dvm_status send_output(void *arg, uint64_t index, const uint8_t *p,
                              size_t n)
{
    mserve *s = arg;
    mb_reset(&s->b);
    cmsg_encode_output(&s->b, index, p, n);
    if (ms_send(s, s->client, WIRE_OUTPUT))
        return status_set(DVM_EIO, "the client is gone");
    while (transport_drain(s->t, s->client, MSERVE_OUT_UNSENT,
                           MSERVE_OUT_WAIT_MS) > MSERVE_OUT_UNSENT)
        if (mserve_quit)
            return status_set(DVM_EIO, "the master was stopped");
    return DVM_OK;
}

/* Holds output of the newest commit until it is stable (hold_release). */
static dvm_status hold_output(void *arg, uint64_t index, const uint8_t *p,
                              size_t n)
{
    mserve *s = arg;
    if (!s->hold.st)            /* no program: nothing to wait for */
        return send_output(s, index, p, n);
    return mhold_put(&s->hold, space_epoch(ms_space(s)), index, p, n);
}

/* How long the stable epoch, or a result at the gate, may stand still
 * before the master stops waiting for it: twice the heartbeat bound. */
static uint64_t stall_bound_ns(const mserve *s)
{
    return 2000000ull * (uint64_t)(s->cfg.heartbeat_ms ? s->cfg.heartbeat_ms
                                                       : CMSG_HEARTBEAT_MS);
}

/* Logs what the master knows of the holders of version (page, epoch)
 * (one that did not come, or is not acknowledged); absent: a node that
 * said it lacked it, or UINT64_MAX. */
static void log_holders(mserve *s, uint64_t page, uint64_t epoch,
                        uint64_t absent)
{
    uint64_t hold[HOME_COPIES];
    size_t n = home_pick(page, s->hids, s->nhids, hold);
    for (size_t i = 0; i < n; i++) {
        const mnode *nd = node_by_id(s, hold[i]);
        ms_log("page 0x%" PRIx64 " version %" PRIu64 ": holder %s%s%s%s%s",
               page * (uint64_t)DISA_PAGE, epoch, nd ? nd->name : "(gone)",
               nd && !nd->live ? ", lost" : "",
               nd && !nd->started ? ", not started" : "",
               vindex_kept_by(&s->vx, page, epoch, hold[i])
                   ? ", acknowledged" : ", not acknowledged",
               hold[i] == absent ? ", lacked it when asked" : "");
    }
    if (!n)
        ms_log("page 0x%" PRIx64 ": no node homes it",
               page * (uint64_t)DISA_PAGE);
}

/* vindex_each: logs the holders of one version of epoch u->epoch (the
 * first not stable). */
typedef struct unacked_find {
    mserve *s;
    uint64_t epoch;
    int logged;
} unacked_find;

static void unacked_log(void *arg, uint64_t page, uint64_t epoch)
{
    unacked_find *u = arg;
    if (u->logged || epoch != u->epoch)
        return;
    u->logged = 1;
    log_holders(u->s, page, epoch, UINT64_MAX);
}

/* The epoch up to which what waits for stable commits (`what`: held
 * output, new snapshots; `waiting`: 1 while something does) may go: the
 * stable one, or, when that has not moved for twice the heartbeat bound
 * while something waits (a holder that answers heartbeats but does not
 * store: its store is full), every commit placed -- said in the log,
 * with the holders of one version that waits.  With results that bring
 * their data the master still has the data of every version not kept by
 * both its holders; masks only it does not (docs/cluster.md, "Not done
 * yet").  Held output is released so once per bound; with `sticky`
 * (snapshots, where every turn counts) every commit placed goes until
 * the stable epoch moves again. */
static uint64_t stable_upto(mserve *s, mstall *w, int waiting,
                            const char *what, int sticky)
{
    uint64_t stable = vindex_stable(&s->vx, s->pushed), now = clock_now_ns();
    uint64_t bound = stall_bound_ns(s);
    if (stable != w->stable) {
        w->stable = stable;
        w->since_ns = now;
        w->bypassed = 0;
    } else if (sticky && w->bypassed) {
        return s->pushed;
    } else if (!waiting) {
        w->since_ns = now;
    } else if (now - w->since_ns > bound) {
        ms_log("%" PRIu64 " page versions not acknowledged by live holders "
               "within twice the heartbeat bound: %s up to commit %"
               PRIu64 " without them", vindex_waiting(&s->vx), what,
               s->pushed);
        unacked_find u = { s, stable + 1, 0 };
        vindex_each(&s->vx, 0, unacked_log, &u);
        w->since_ns = now;
        w->bypassed = 1;
        return s->pushed;
    }
    return stable;
}

static uint64_t hold_upto(mserve *s)
{
    return stable_upto(s, &s->hold_stall, mhold_bytes(&s->hold) != 0,
                       "output released", 0);
}

/* master_remote.stable: the epoch new snapshots take (the commits since
 * the last turn are placed first, so that a program's first commits
 * become stable before its first runner goes). */
static uint64_t snap_stable(void *arg, int waiting)
{
    mserve *s = arg;
    homes_push(s);
    return stable_upto(s, &s->snap_stall, waiting, "snapshots taken", 1);
}

/* Sends the held output of the commits that are stable now: every
 * version of every commit up to them is kept by its home and backup
 * (the commits made since the last push are placed first, so that their
 * STOREs leave now).  An error (the client gone) stops the run. */
static void hold_release(mserve *s)
{
    if (!s->hold.st || s->fatal.st)
        return;
    homes_push(s);
    dvm_status st = mhold_release(&s->hold, hold_upto(s), send_output, s);
    if (st)
        status_first_set(&s->fatal, st);
}

/* master_remote.may_commit: not while the held output is at its bound,
 * nor while a save gathers its pages (save_gather). */
static int hold_may_commit(void *arg)
{
    mserve *s = arg;
    return mhold_bytes(&s->hold) < MSERVE_HOLD_MAX && !s->gathering;
}

/* The run ended (st): once it ended well, its held output is sent when
 * its last commits are stable, the transport turning meanwhile (acks,
 * heartbeats: a silent holder is given up and its versions placed
 * again).  The hold is emptied either way.  Returns the run's status. */
static dvm_status hold_finish(mserve *s, dvm_status st)
{
    while (!st && mhold_bytes(&s->hold)) {
        hold_release(s);
        if (s->fatal.st || mserve_quit)
            break;
        if (mhold_bytes(&s->hold)) {
            transport_wait(s->t, CMSG_PING_MS);
            check_heartbeats(s);
        }
    }
    if (!st && mserve_quit && !s->fatal.st)
        status_first_set(&s->fatal,
                         status_set(DVM_EIO, "the master was stopped"));
    if (!st && s->fatal.st)
        st = status_first_get(&s->fatal);
    mhold_free(&s->hold);
    s->hold.st = NULL;
    return st;
}

/* Committed output: held until its commit is stable, or, when the
 * program is saved, first until the batch that commits it is saved
 * (ms_batch). */
static dvm_status out_to_client(void *arg, size_t index, const void *p,
                                size_t n)
{
    mserve *s = arg;
    if (s->save.ms)
        return msave_output(&s->save, index, p, n);
    return hold_output(s, index, p, n);
}

static dvm_status save_gather(mserve *s);
static void gather_free(mserve *s);

static dvm_status ms_batch(void *arg, int now)
{
    mserve *s = arg;
    dvm_status st = DVM_OK;
    /* Decided once: a save found due after its gathering was skipped
     * would lack the pages away from the master.  A save waits for the
     * disk (seconds on a busy one): the keepalives due leave before it,
     * so that the nodes' bound for the master (CMSG_HEARTBEAT_MS) is
     * spent on the save alone. */
    if (msave_due(&s->save, s->m, now)) {
        transport_tick(s->t);
        st = save_gather(s);
        if (!st)
            st = msave_batch(&s->save, s->m, 1, hold_output, s);
        gather_free(s);
    }
    if (!st)
        hold_release(s);
    return st;
}

static dvm_status ms_restore(void *arg, commit_point *cp)
{
    mserve *s = arg;
    return msave_restore(&s->save, cp);
}

static ssize_t diag_write(void *arg, const char *p, size_t n)
{
    mserve *s = arg;
    if (s->client != UINT64_MAX)
        (void)out_to_client(s, CMSG_CHAN_DIAG, p, n);
    return (ssize_t)n;
}

/* The run's diagnostics, line by line to the client. */
static FILE *diag_open(mserve *s)
{
    cookie_io_functions_t io = { .write = diag_write };
    FILE *f = fopencookie(s, "w", io);
    if (f)
        setvbuf(f, NULL, _IOLBF, 0);
    return f;
}

/* ---- nodes ----------------------------------------------------------------- */

/* START: the program and its options, not its inputs (the node asks for
 * the input pages its RComps touch: on_fetch). */
static dvm_status node_start(mserve *s, mnode *nd)
{
    cmsg_start st = { .run = s->run_id, .engine = s->sub.engine,
                      .image = s->sub.image, .flags = s->rule.flags };
    for (int k = 0; k < nd->nrcomps; k++) {
        nd->slot[k] = -1;
        nd->gen[k] = 0;
    }
    memset(nd->regions, 0, sizeof nd->regions);
    kin_clear(&nd->kin);
    nd->run_results = nd->run_inputs = nd->link_ns_page = 0;
    nd->nsb = nd->drop.n = nd->pull.n = 0;
    mb_reset(&s->b);
    cmsg_encode_start(&s->b, &st);
    nd->started = 1;
    return ms_send(s, nd->peer, WIRE_START);
}

/* ---- clocks ---------------------------------------------------------------- */

/* Sends nd its next clock ping when one is due. */
static void clock_ping(mserve *s, mnode *nd)
{
    uint64_t seq;
    if (!nd->live || !clocksync_ping_due(&nd->clk, clock_now_ns(), &seq))
        return;
    mb_reset(&s->b);
    cmsg_encode_clock_ping(&s->b, seq);
    (void)ms_send(s, nd->peer, WIRE_CLOCK_PING);    /* gone: DOWN follows */
}

static void clock_pings(mserve *s)
{
    for (size_t i = 0; i < s->nnodes; i++)
        clock_ping(s, &s->nodes[i]);
}

/* CLOCK_PONG: one sample; the next ping of the burst goes at once. */
static void on_clock(mserve *s, mnode *nd, const uint8_t *p, size_t len)
{
    uint64_t t3 = clock_now_ns();
    cmsg_clock c;
    int first = nd->clk.bursts == 0;
    if (cmsg_decode_clock_pong(p, len, &c) ||
        clocksync_pong(&nd->clk, &c, t3)) {
        ms_drop_node(s, nd, status_message());
        return;
    }
    if (first && nd->clk.bursts)
        ms_log("node %s: clock offset %+" PRId64 " ns (round trip %" PRIu64
               " ns)", nd->name, nd->clk.offset, nd->clk.delay);
    clock_ping(s, nd);
}

/* ---- metrics ----------------------------------------------------------------- */

/* The obs node of remote slot `slot` (master_remote.obs_place). */
static int remote_obs_place(void *arg, int slot, uint32_t *rcomp)
{
    mserve *s = arg;
    const mslot *sl = &s->slots[slot];
    *rcomp = (uint32_t)sl->rcomp;
    return s->nodes[sl->node].obs;
}

/* RComps of nd alive in this run; between runs, those it starts each run
 * with. */
static uint64_t node_rcomps(mserve *s, const mnode *nd)
{
    if (!s->running || !nd->started)
        return (uint64_t)nd->nrcomps;
    rcomp_set *rs = ms_rcs(s);
    uint64_t n = 0;
    for (int k = 0; k < nd->nrcomps; k++)
        n += nd->slot[k] >= 0 && !rs->rc[nd->slot[k]].gone;
    return n;
}

/* Publishes each node's levels (its RComps, its page cache) at most every
 * 100 ms, or now when `now_too`. */
static void observe_nodes(mserve *s, int now_too)
{
    uint64_t now = clock_now_ns();
    if (!s->obs || (!now_too && now - s->obs_ns < 100000000u))
        return;
    s->obs_ns = now;
    for (size_t i = 0; i < s->nnodes; i++) {
        const mnode *nd = &s->nodes[i];
        if (!nd->live || nd->obs < 0)
            continue;
        obs_levels l = { .pages_cached = nd->cache[CMSG_NS_CACHED],
                         .pages_homed = nd->cache[CMSG_NS_HOMED],
                         .rcomps_live = node_rcomps(s, nd) };
        obs_levels_set(s->obs, nd->obs, &l, now);
    }
}

static int name_taken(const mserve *s, const mnode *self, const char *name)
{
    if (!strcmp(name, "master") || !strcmp(name, "local"))
        return 1;
    for (size_t i = 0; i < s->nnodes; i++)
        if (&s->nodes[i] != self && s->nodes[i].live &&
            !strcmp(s->nodes[i].name, name))
            return 1;
    return 0;
}

/* nd's name, from the one it gave (or its host's), made unique among the
 * live nodes; its node in the obs hub (-1 when the hub is full). */
static void node_name(mserve *s, mnode *nd, const cmsg_join *j)
{
    char base[CMSG_MAX_NODE_NAME + 1];
    if (j->name.len) {
        memcpy(base, j->name.p, (size_t)j->name.len);
        base[j->name.len] = '\0';
    } else {                    /* the host of "HOST:PORT", or "node" */
        const char *pn = transport_peer_name(s->t, nd->peer);
        size_t n = strcspn(pn, ":");
        n = n > CMSG_MAX_NODE_NAME ? CMSG_MAX_NODE_NAME : n;
        memcpy(base, pn, n);
        base[n] = '\0';
        if (!cmsg_node_name_ok(base, n))
            snprintf(base, sizeof base, "node");
    }
    nd->obs = -1;
    for (int k = 1; k <= 2 * MSERVE_MAX_NODES + 2; k++) {
        snprintf(nd->name, sizeof nd->name, k == 1 ? "%s" : "%s-%d", base,
                 k);
        if (name_taken(s, nd, nd->name))
            continue;
        if (!s->obs || !obs_node_add(s->obs, nd->name,
                                     (uint32_t)nd->nrcomps, &nd->obs))
            return;
    }
    nd->obs = -1;               /* the hub is full: the node goes uncounted */
}

/* ---- joining and leaving ------------------------------------------------------ */

static void on_join(mserve *s, uint64_t peer, const uint8_t *p, size_t len)
{
    cmsg_join j;
    if (node_of(s, peer) || is_client(s, peer) ||
        cmsg_decode_join(p, len, &j)) {
        ms_refuse(s, peer, "bad join");
        return;
    }
    uint64_t nrc = j.nrcomps;
    mnode *nd = NULL;
    for (size_t i = 0; i < s->nnodes && !nd; i++)
        if (!s->nodes[i].live)
            nd = &s->nodes[i];
    if (!nd && s->nnodes < MSERVE_MAX_NODES)
        nd = &s->nodes[s->nnodes++];
    if (!nd) {
        ms_refuse(s, peer, "too many nodes");
        return;
    }
    node_free(nd);
    *nd = (mnode){ .peer = peer, .live = 1, .nrcomps = (int)nrc,
                   .slot = dvm_calloc(nrc, sizeof(int)),
                   .gen = dvm_calloc(nrc, sizeof(uint64_t)),
                   .id = ++s->next_id };
    if (!nd->slot || !nd->gen) {
        nd->live = 0;
        ms_refuse(s, peer, "out of memory");
        return;
    }
    node_name(s, nd, &j);
    transport_keepalive(s->t, peer, 1);
    clocksync_init(&nd->clk, clock_now_ns());
    ms_log("node %s joined as %s (%" PRIu64 " rcomps)",
           transport_peer_name(s->t, peer), nd->name, nrc);
    clock_ping(s, nd);
    observe_nodes(s, 1);
    if (s->running && node_start(s, nd))
        ms_refuse(s, peer, status_message());
    else
        homes_changed(s);
}

static void send_done(mserve *s, uint64_t peer, int code, const char *err,
                      const char *stats, size_t nstats, const uint8_t *dump,
                      size_t ndump);

/* Answers the clients waiting for nd to drain: code 0 with the line
 * `text` (it left in order), else the error `text`. */
static void drains_answer(mserve *s, const mnode *nd, int code,
                          const char *text)
{
    for (size_t i = 0; i < s->ndrains;) {
        if (s->drains[i].node != nd->id) {
            i++;
            continue;
        }
        send_done(s, s->drains[i].peer, code, code ? text : "", text,
                  code ? 0 : strlen(text), NULL, 0);
        s->drains[i] = s->drains[--s->ndrains];
    }
}

/* Every slot of nd is lost (its host is gone or broke the protocol); the
 * versions it held get new holders. */
static void node_lost(mserve *s, mnode *nd)
{
    nd->live = 0;
    drains_answer(s, nd, 1, "the node was lost before it left in order");
    size_t pulls = s->pulls, copies = homes_changed(s);
    if (s->obs && nd->obs >= 0)
        obs_node_live(s->obs, nd->obs, 0, 0);
    if (!s->running || !nd->started)
        return;
    ms_log("node %s lost: %zu page versions copied to new holders (%zu "
           "from their other holder)", nd->name, copies, s->pulls - pulls);
    rcomp_set *rs = ms_rcs(s);
    for (int k = 0; k < nd->nrcomps; k++) {
        int sl = nd->slot[k];
        if (sl >= 0 && !rs->rc[sl].gone) {
            dvm_status st = rcomp_lost(rs, &rs->rc[sl], "its host is gone");
            if (st)
                status_first_set(&s->fatal, st);
        }
    }
    dvm_status st = signal_nodes(s);
    if (st)
        status_first_set(&s->fatal, st);
}

/* Closes every node not heard from within the heartbeat bound: lost.
 *
 * Why the bound (CMSG_NODE_SILENT_MS, 0.7 s by default) does not give up
 * nodes that are merely slow, or a master that is: a node's silence is
 * the transport's (transport_silent_ms), which
 *   - counts from the arrival of the node's last message inside UCX, not
 *     from when this loop handled it: a message waiting behind a large
 *     rendezvous, or behind a long event of another peer, still counts;
 *   - counts only the time this master was able to listen: a pause
 *     between two turns of the transport longer than its deaf gap
 *     (150 ms) counts 150 ms.  A master stalled by a commit streaming
 *     output to a slow client, a batch of LMDB writes with fsync
 *     (msave), or a host that gave it no CPU, blames no node for that
 *     time, whatever order events and this check come in;
 * and the nodes' signs of life flow wherever they wait: the keepalives
 * go at every turn of the transport, including transport_drain (a node
 * pacing a large result) and transport_tick (a node starting RComps, or
 * waiting for an RComp to take a message).  What is left is a node that
 * truly cannot send for the bound less a ping period and a deaf gap
 * (~0.45 s): a node process that gets no CPU for that long.  Such hosts
 * raise --heartbeat; the 5 s of earlier versions are one option away.
 * The master's keepalives to the nodes go the same way (on_join). */
static void check_heartbeats(mserve *s)
{
    uint64_t bound = s->cfg.heartbeat_ms ? s->cfg.heartbeat_ms
                                         : CMSG_NODE_SILENT_MS;
    for (size_t i = 0; i < s->nnodes; i++) {
        mnode *nd = &s->nodes[i];
        uint64_t silent = nd->live ? transport_silent_ms(s->t, nd->peer) : 0;
        if (silent > bound) {
            ms_log("closing %s: no heartbeat within the bound of %" PRIu64
                   " ms (--heartbeat; silent %" PRIu64 " ms)",
                   transport_peer_name(s->t, nd->peer), bound, silent);
            transport_abort(s->t, nd->peer);
            node_lost(s, nd);
        }
    }
    handover_check(s);          /* the other bound the nodes have */
}

/* LEAVE ACK to nd: nothing more is dispatched to it, and the master
 * needs nothing more of what it keeps. */
static void leave_ack(mserve *s, mnode *nd)
{
    cmsg_leave l = { CMSG_LEAVE_ACK, s->running ? s->run_id : 0, 0 };
    nd->ack_owed = 0;
    nd->handover.n = 0;
    mb_reset(&s->b);
    cmsg_encode_leave(&s->b, &l);
    (void)ms_send(s, nd->peer, WIRE_LEAVE);     /* gone: DOWN follows */
}

/*
 * The hand-over of a node that leaves in order, in a masks-only run.
 *
 * Its versions get new holders when it leaves (homes_changed), and a new
 * holder fetches a version to keep (PULL) from the nodes that home pages
 * (dist/nhome.c, route_list) -- which the leaving node no longer does:
 * the others close their connections to it.  A version whose other
 * holder acknowledged keeping it is fetched from there; one that only the
 * leaving node keeps (its other holder joined since and is still
 * fetching it, or left just before) would be lost with it, and the
 * master has no copy to send instead.  So before the homes change, the
 * master asks the leaving node for those (HFETCH on its connection, as
 * the gatherings of saves and dumps do), sends each to the version's
 * holders then (STORE, with the data), and answers the node's LEAVE ASK
 * only once all came -- the node waits for that answer before it ends
 * (up to its --drain-wait) -- or after MSERVE_HANDOVER_WAIT_MS, said in
 * the log.
 */
#define MSERVE_HANDOVER_WAIT_MS 5000

/* vindex_each_only_at's walk for the hand-over of nd. */
typedef struct handover_walk {
    mserve *s;
    mnode *nd;
} handover_walk;

/* vindex_each_only_at: a version only the leaving node keeps; noted when
 * the master has no copy (else its own STORE serves the new holders). */
static void handover_note(void *arg, uint64_t page, uint64_t epoch)
{
    handover_walk *hw = arg;
    mnode *nd = hw->nd;
    uint32_t f;
    if (!version_frame(hw->s, page, epoch, &f) || f != SPACE_FRAME_AWAY)
        return;
    uint64_t *v = dvm_grow(nd->handover.v, &nd->handover.cap,
                           2 * (nd->handover.n + 1), sizeof *v);
    if (!v)
        return;                 /* not handed over: as before, one copy */
    nd->handover.v = v;
    v[2 * nd->handover.n] = page;
    v[2 * nd->handover.n++ + 1] = epoch;
}

/* Masks only, nd leaving: the versions only nd keeps, without a copy at
 * the master, are asked of it (above). */
static void handover_ask(mserve *s, mnode *nd)
{
    nd->handover.n = 0;
    if (!s->running || !nd->started ||
        !(s->rule.flags & CMSG_START_MASKS_ONLY))
        return;
    handover_walk hw = { s, nd };
    vindex_each_only_at(&s->vx, nd->id, handover_note, &hw);
    size_t w = nd->handover.n;
    for (size_t i = 0; i < w; i += MSERVE_GATHER_BATCH)
        gather_send(s, nd, nd->handover.v + 2 * i,
                    w - i < MSERVE_GATHER_BATCH ? w - i : MSERVE_GATHER_BATCH);
    nd->handover_ns = clock_now_ns();
}

/* HFETCHED from leaving nd: version (page, epoch), data NULL when nd
 * lacked it.  One it was asked to hand over goes to the holders now that
 * do not keep it yet (STORE, sent before data is gone); once none is
 * left to come, nd's LEAVE ASK is answered. */
static void handover_take(mserve *s, mnode *nd, uint64_t page,
                          uint64_t epoch, const uint8_t *data)
{
    mpairs *l = &nd->handover;
    size_t i = 0;
    while (i < l->n && (l->v[2 * i] != page || l->v[2 * i + 1] != epoch))
        i++;
    if (i == l->n)
        return;
    l->v[2 * i] = l->v[2 * (l->n - 1)];
    l->v[2 * i + 1] = l->v[2 * (l->n - 1) + 1];
    l->n--;
    uint64_t hold[HOME_COPIES];
    size_t n = data ? home_pick(page, s->hids, s->nhids, hold) : 0;
    for (size_t k = 0; k < n; k++) {
        mnode *h = node_by_id(s, hold[k]);
        if (!h || h == nd || !h->live || !h->started ||
            vindex_kept_by(&s->vx, page, epoch, hold[k]))
            continue;
        const uint64_t ent[3] = { page, epoch, 1 };
        mb_reset(&s->b);
        cmsg_encode_fetch(&s->b, s->run_id, ent, 1, 3, &data, 1);
        if (!ms_send(s, h->peer, WIRE_STORE))
            s->handed_over++;
    }
    if (!l->n && nd->ack_owed)
        leave_ack(s, nd);
}

/* Leaving nodes whose hand-over did not end within its bound are
 * answered all the same (said in the log). */
static void handover_check(mserve *s)
{
    uint64_t now = clock_now_ns();
    for (size_t i = 0; i < s->nnodes; i++) {
        mnode *nd = &s->nodes[i];
        if (!nd->live || !nd->ack_owed ||
            now - nd->handover_ns < MSERVE_HANDOVER_WAIT_MS * 1000000ull)
            continue;
        ms_log("node %s: %zu page versions only it keeps did not come "
               "from it within %d s; it leaves without handing them over",
               nd->name, nd->handover.n, MSERVE_HANDOVER_WAIT_MS / 1000);
        leave_ack(s, nd);
    }
}

/* LEAVE ASK: nd is dispatched nothing more; its slots and itself leave
 * __nrcomp and __nnode; ACK tells it that no dispatch follows. */
static void leave_ask(mserve *s, mnode *nd)
{
    nd->leaving = 1;
    ms_log("node %s is leaving", transport_peer_name(s->t, nd->peer));
    dvm_status st = DVM_OK;
    if (s->running && nd->started) {
        for (int k = 0; k < nd->nrcomps && !st; k++)
            if (nd->slot[k] >= 0)
                st = rcomps_leave(ms_rcs(s), nd->slot[k]);
        if (!st)
            st = signal_nodes(s);
    }
    if (st) {
        status_first_set(&s->fatal, st);
        return;
    }
    handover_ask(s, nd);
    size_t copies = homes_changed(s);
    if (copies)
        ms_log("node %s leaves: %zu page versions copied to new holders",
               nd->name, copies);
    if (nd->handover.n) {
        ms_log("node %s leaves: %zu page versions only it keeps are "
               "fetched from it for their new holders", nd->name,
               nd->handover.n);
        nd->ack_owed = 1;
    } else {
        leave_ack(s, nd);
    }
}

/* LEAVE DONE: nd leaves; what it did not finish runs elsewhere, not
 * counted as a failure. */
static void leave_done(mserve *s, mnode *nd, const cmsg_leave *l)
{
    if (!nd->leaving)
        leave_ask(s, nd);
    rcomp_set *rs = s->running && nd->started ? ms_rcs(s) : NULL;
    for (int k = 0; rs && k < nd->nrcomps; k++)
        if (nd->slot[k] >= 0)
            rcomp_left(rs, &rs->rc[nd->slot[k]]);
    nd->live = 0;
    (void)homes_changed(s);
    ms_log("node %s left (drained; %" PRIu64 " runners given back)",
           transport_peer_name(s->t, nd->peer), l->given_back);
    char line[CMSG_MAX_NODE_NAME + 96];
    snprintf(line, sizeof line, "node %s left the cluster in order (%"
             PRIu64 " runners given back)\n", nd->name, l->given_back);
    drains_answer(s, nd, 0, line);
    transport_close(s->t, nd->peer);
}

static void on_leave(mserve *s, mnode *nd, const uint8_t *p, size_t len)
{
    cmsg_leave l;
    if (cmsg_decode_leave(p, len, &l) || l.step == CMSG_LEAVE_ACK) {
        ms_drop_node(s, nd, "bad leave message");
    } else if (l.step == CMSG_LEAVE_ASK) {
        if (!nd->leaving)
            leave_ask(s, nd);
    } else {
        leave_done(s, nd, &l);
    }
}

/* The slot for place k of nd at generation gen (a new one for a new
 * generation); -1 for a message of an old generation, -2 when the run has
 * no slot left for a new one (the node is refused: its RComps are
 * replaced without end). */
static int slot_for(mserve *s, mnode *nd, int k, uint64_t gen)
{
    if (gen < nd->gen[k] || (gen == nd->gen[k] && nd->slot[k] < 0))
        return -1;
    if (gen == nd->gen[k])
        return nd->slot[k];
    rcomp_set *rs = ms_rcs(s);
    if (rs->nrc == rs->cap)
        return -2;
    int old = nd->slot[k];
    dvm_status st = DVM_OK;
    if (old >= 0 && !rs->rc[old].gone)
        st = rcomp_lost(rs, &rs->rc[old], "replaced on its host");
    int idx = -1;
    if (!st)
        st = rcomps_add_remote(rs, &idx);
    if (!st) {
        s->slots[idx] = (mslot){ (int)(nd - s->nodes), k, gen };
        nd->slot[k] = idx;
        nd->gen[k] = gen;
        if (nd->leaving)        /* a replacement on a leaving node */
            st = rcomps_leave(rs, idx);
    }
    if (!st)
        st = signal_nodes(s);
    if (st) {
        status_first_set(&s->fatal, st);
        return -1;
    }
    return idx;
}

/* The RESULT m of nd with its runner's times on the master's clock: m
 * then points at s->fix. */
static dvm_status result_clock(mserve *s, const mnode *nd, msg_result *res,
                               cmsg_relay *m)
{
    if (!nd->clk.valid)
        return DVM_OK;
    res->t_start_ns = clocksync_to_master(&nd->clk, res->t_start_ns);
    res->t_end_ns = clocksync_to_master(&nd->clk, res->t_end_ns);
    mb_reset(&s->fix);
    msg_encode_result(&s->fix, res);
    if (s->fix.oom)
        return status_set(DVM_ENOMEM, "out of memory");
    m->msg = s->fix.p + MSG_HEADER_SIZE;
    m->len = s->fix.len - MSG_HEADER_SIZE;
    return DVM_OK;
}

/* 1 when frame c of result res comes with its data: its output's
 * always, a change's unless in masks-only mode (masks_keep) and its
 * delta is explicit (a node sends an implied change's bytes as a mask
 * instead of its data, unless there are none). */
static int result_frame_data(const mserve *s, const msg_result *res, size_t c)
{
    return c >= res->nchanges || masks_keep(s, res->changes[c].page) ||
           res->changes[c].nruns == DIFF_IMPLIED;
}

/* DHELD: deltas nd keeps for results of other nodes (masks only). */
static void on_dheld(mserve *s, mnode *nd, const uint8_t *p, size_t len)
{
    cmsg_tags t;
    if (cmsg_decode_dheld(p, len, &t)) {
        ms_drop_node(s, nd, "malformed dheld");
        return;
    }
    if (!s->running || t.run != s->run_id)
        return;
    for (uint64_t i = 0; i < t.n; i++) {
        uint64_t page;
        cmsg_tag tag;
        cmsg_tags_ent(&t, i, &page, &tag);
        if (dheld_add(&s->held, &tag, page, nd->id))
            status_first_set(&s->fatal, DVM_ENOMEM);
    }
    s->held_new = 1;
}

/* Tag t's result will never be applied: its holders are told (DDROP,
 * at the next turn of the loop). */
static void ddrop_add(mserve *s, const cmsg_tag *t)
{
    uint64_t *x = dvm_grow(s->ddrop, &s->capddrop,
                           CMSG_TAG_WORDS * (s->nddrop + 1), sizeof *x);
    if (!x)
        return;                 /* its deltas stay until the program ends */
    s->ddrop = x;
    const uint64_t w[CMSG_TAG_WORDS] = { t->node, t->rcomp, t->gen, t->rid,
                                         t->attempt };
    memcpy(x + CMSG_TAG_WORDS * s->nddrop++, w, sizeof w);
}

/* The result let through the gate last was not committed: refused. */
static void deciding_end(mserve *s)
{
    if (s->has_deciding)
        ddrop_add(s, &s->deciding);
    s->has_deciding = 0;
    s->ndec = 0;
}

/* Sends the gathered DDROP to every started node. */
static void ddrop_flush(mserve *s)
{
    deciding_end(s);
    if (!s->nddrop)
        return;
    mb_reset(&s->b);
    cmsg_encode_tags(&s->b, s->run_id, s->ddrop, s->nddrop, CMSG_TAG_WORDS);
    for (size_t i = 0; i < s->nnodes && !s->b.oom; i++)
        if (s->nodes[i].live && s->nodes[i].started)
            (void)ms_send(s, s->nodes[i].peer, WIRE_DDROP);
    s->nddrop = 0;
}

/* 1 when holder id can make page's next version from its base, the
 * page's newest version: there is none, the master still has its data
 * (a holder that lacks it fetches it from there), id acknowledged
 * keeping it (STORED), or id was counted for the commit through this
 * gate that made it (dmake.h).  A holder that joined the page's holders
 * and is still fetching the base is none of these: its word alone would
 * let a commit through that only the committing node and the base's
 * other holders could make. */
static int base_reachable(mserve *s, uint64_t page, uint64_t id)
{
    mem_space *sp = ms_space(s);
    uint32_t f = 0;
    uint64_t base = space_lookup_version(sp, page, space_epoch(sp), &f);
    return !base || (f && f != SPACE_FRAME_AWAY) ||
           vindex_kept_by(&s->vx, page, base, id) ||
           dmake_can(&s->made, page, base, id);
}

/* The nodes that make page's delta of tag t safe, into ids: nodes that
 * home page now, other than t's committing node, that said they hold
 * the delta (DHELD; the word of a node that homes the page no more does
 * not count) and can reach its base (base_reachable).  Returns how many;
 * when t's node is the only node that homes page now (the others were
 * lost), its own copy of the delta is all there can be: then it alone,
 * and 1. */
static size_t delta_counted(mserve *s, const cmsg_tag *t, uint64_t page,
                            uint64_t ids[HOME_COPIES])
{
    uint64_t hold[HOME_COPIES];
    size_t n = home_pick(page, s->hids, s->nhids, hold), k = 0;
    int other = 0;
    for (size_t i = 0; i < n; i++) {
        if (hold[i] == t->node)
            continue;
        other = 1;
        if (dheld_has(&s->held, t, page, hold[i]) &&
            base_reachable(s, page, hold[i]))
            ids[k++] = hold[i];
    }
    if (!other)
        ids[k++] = t->node;
    return k;
}

/* Words of a deciding page: page, n, ids[HOME_COPIES]. */
#define MSERVE_DEC_WIDTH (2 + HOME_COPIES)

/* Notes page's counted holders ids[0, n) for the result being decided.
 * Without memory the page is not noted: its holders count for the next
 * commit of the page once they acknowledge. */
static void dec_add(mserve *s, uint64_t page, const uint64_t *ids, size_t n)
{
    uint64_t *d = dvm_grow(s->dec, &s->capdec,
                           MSERVE_DEC_WIDTH * (s->ndec + 1), sizeof *d);
    if (!d)
        return;
    s->dec = d;
    d += MSERVE_DEC_WIDTH * s->ndec++;
    d[0] = page;
    d[1] = n;
    memcpy(d + 2, ids, n * sizeof *ids);
}

/* The deciding result made commit epoch: its counted holders can make
 * each of its versions (dmake). */
static void dec_commit(mserve *s, uint64_t epoch)
{
    for (size_t i = 0; i < s->ndec; i++) {
        const uint64_t *d = s->dec + MSERVE_DEC_WIDTH * i;
        (void)dmake_note(&s->made, d[0], epoch, d + 2, (size_t)d[1]);
    }
    s->ndec = 0;
}

/* master_remote.result_gate: in masks-only mode a result is committed
 * only once every page it changed without data has its delta held by a
 * current holder other than its committing node that can reach the
 * page's base (delta_counted, dheld.h, dmake.h); the names go then.
 * A dropped result's holders are told to forget its deltas. */
static int remote_gate(void *arg, int slot, const uint8_t *p, size_t len,
                       int drop)
{
    mserve *s = arg;
    msg_result res;
    if (!(s->rule.flags & CMSG_START_MASKS_ONLY) ||
        msg_decode_result(p, len, &res))
        return 1;               /* the RComp set judges it */
    cmsg_tag t = slot_tag(s, slot, &res);
    int ok = 1;
    for (uint32_t c = 0; c < res.nchanges && ok && !drop; c++) {
        uint64_t ids[HOME_COPIES];
        ok = result_frame_data(s, &res, c) ||
             delta_counted(s, &t, res.changes[c].page, ids) > 0;
    }
    if (ok || drop) {
        deciding_end(s);
        for (uint32_t c = 0; c < res.nchanges && !drop; c++) {
            uint64_t ids[HOME_COPIES];
            if (!result_frame_data(s, &res, c))
                dec_add(s, res.changes[c].page, ids,
                        delta_counted(s, &t, res.changes[c].page, ids));
        }
        for (uint32_t c = 0; c < res.nchanges; c++)
            dheld_forget(&s->held, &t, res.changes[c].page);
        if (drop)
            ddrop_add(s, &t);
        else if (res.nchanges) {
            s->deciding = t;
            s->has_deciding = 1;
        }
        if (s->gwait_slot == slot && cmsg_tag_same(&s->gwait, &t))
            s->gwait_slot = -1;
        if (!drop)
            s->gate_kills_row = 0;
    } else if (s->gwait_slot != slot || !cmsg_tag_same(&s->gwait, &t)) {
        s->gwait = t;
        s->gwait_slot = slot;
        s->gwait_ns = s->resend_ns = clock_now_ns();
        s->gate_waits++;
    }
    msg_result_free(&res);
    return ok;
}

/* Asks the node that sent the deltas of tag t to send them again to the
 * pages' holders now (DRESEND), unless that node is gone (then nothing
 * can be asked). */
static void dresend_send(mserve *s, const cmsg_tag *t)
{
    mnode *nd = node_by_id(s, t->node);
    if (!nd || !nd->started)
        return;
    const uint64_t w[CMSG_TAG_WORDS] = { t->node, t->rcomp, t->gen, t->rid,
                                         t->attempt };
    mb_reset(&s->b);
    cmsg_encode_tags(&s->b, s->run_id, w, 1, CMSG_TAG_WORDS);
    if (!s->b.oom && !ms_send(s, nd->peer, WIRE_DRESEND))
        s->resends++;
}

/* Asks the node of the result at the gate to send its deltas again to
 * the pages' holders now (DRESEND): its DELTA did not reach them, or
 * went to holders that changed since.  A lost node's RComp goes with
 * it. */
static void resend_ask(mserve *s, uint64_t now)
{
    s->resend_ns = now;
    dresend_send(s, &s->gwait);
}

/* A result at the gate has its node asked to send its deltas again
 * (resend_ask) MSERVE_RESEND_MS after it began to wait and after each
 * ask, and at once whenever the nodes that home pages changed since the
 * last ask (it sent them to the holders it knew).  One that waited for
 * twice the heartbeat bound all the same (its node cannot reach a
 * holder, or no longer keeps what it sent) has its RComp killed: the
 * result is dropped with it and its runner runs again; after
 * MSERVE_GATE_KILLS_MAX such in a row, none held in between, the program
 * fails with that said rather than replacing RComps for ever.  A holder
 * that is merely stopped keeps the result waiting, as it keeps output
 * (the bound). */
static void gate_check(mserve *s)
{
    uint64_t now = clock_now_ns(), bound = stall_bound_ns(s);
    if (s->gwait_slot < 0)
        return;
    if (now - s->gwait_ns < bound) {
        if (s->homes_ns > s->resend_ns ||
            now - s->resend_ns >= MSERVE_RESEND_MS * 1000000ull)
            resend_ask(s, now);
        return;
    }
    ms_log("a result of %s waited %" PRIu64 " ms for its changes to be "
           "held at a home: its RComp is replaced",
           s->nodes[s->slots[s->gwait_slot].node].name,
           (clock_now_ns() - s->gwait_ns) / 1000000);
    remote_lost(s, s->gwait_slot);
    s->gate_kills++;
    s->gwait_slot = -1;
    if (++s->gate_kills_row >= MSERVE_GATE_KILLS_MAX)
        status_first_set(&s->fatal, status_set(DVM_EIO,
            "%u results in a row waited in vain for a home to hold their "
            "changes (their RComps were replaced each time): no commit "
            "can be made any more", s->gate_kills_row));
}

/* ---- versions made again (masks only, dist/dremake.h) ---- */

/* How often the list of versions placed without data is looked at. */
#define MSERVE_REMAKE_LOOK_MS 50

/* dremake_ops.state: done once (page, epoch) was collected, or once every
 * holder it has now acknowledged it. */
static int remake_state(void *arg, const dremake_ent *e)
{
    mserve *s = arg;
    if (!home_alive(s, e->page, e->epoch))
        return DREMAKE_DONE;
    uint64_t hold[HOME_COPIES];
    size_t n = home_pick(e->page, s->hids, s->nhids, hold);
    for (size_t i = 0; i < n; i++)
        if (!vindex_kept_by(&s->vx, e->page, e->epoch, hold[i]))
            return DREMAKE_WAITS;
    return n ? DREMAKE_DONE : DREMAKE_WAITS;
}

/* DRESEND of tag t (its form bit cleared: the node sends both) to its
 * committing node, unless it is the one asked last in this look (the
 * versions of one commit are next to each other) or gone. */
static void remake_resend(mserve *s, cmsg_tag t)
{
    t.attempt &= ~CMSG_TAG_WHOLE;
    if (s->remake_asked && cmsg_tag_same(&t, &s->remake_last))
        return;
    s->remake_asked = 1;
    s->remake_last = t;
    dresend_send(s, &t);
}

/* dremake_ops.remake: e's APPLY again to every live holder that has not
 * acknowledged it (one that made it meanwhile acknowledges it again),
 * and its committing node asked to send the delta again to the holders
 * it has now (DRESEND).  The first version of a look has its holders
 * logged. */
static void remake_one(void *arg, const dremake_ent *e)
{
    mserve *s = arg;
    uint64_t hold[HOME_COPIES];
    size_t n = home_pick(e->page, s->hids, s->nhids, hold);
    if (!s->remake_logged)
        log_holders(s, e->page, e->epoch, UINT64_MAX);
    s->remake_logged = 1;
    for (size_t i = 0; i < n; i++) {
        mnode *nd = node_by_id(s, hold[i]);
        if (nd && nd->started &&
            !vindex_kept_by(&s->vx, e->page, e->epoch, hold[i]))
            (void)apply_ent(s, nd, e->page, e->epoch, e->base, &e->tag);
    }
    remake_resend(s, e->tag);
    s->remade++;
}

/* A holder asked for version (page, epoch) (NEED: it waited
 * NHOME_PARK_MS for the delta): when the master watches the version, its
 * committing node is asked for the delta now (DRESEND), not only when the
 * note is due -- that node keeps its deltas for a few thousand commits,
 * which a busy node makes in well under a note's first wait. */
static void remake_need(mserve *s, uint64_t page, uint64_t epoch)
{
    const dremake_ent *e = dremake_find(&s->remake, page, epoch);
    if (!e)
        return;
    remake_resend(s, e->tag);
    s->remade++;
}

/* Masks only: the versions placed without data that no holder made in
 * time are made again (dremake.h), looked at every
 * MSERVE_REMAKE_LOOK_MS.  A version whose only holder with the delta went
 * before the other made it would otherwise wait for ever while its
 * committing node still keeps the delta (docs/cluster.md). */
static void remake_check(mserve *s)
{
    uint64_t now = clock_now_ns();
    if (!s->running || !dremake_count(&s->remake) ||
        now - s->remake_ns < MSERVE_REMAKE_LOOK_MS * 1000000ull)
        return;
    s->remake_ns = now;
    s->remake_asked = s->remake_logged = 0;
    const dremake_ops ops = { remake_state, remake_one, s };
    size_t k = dremake_run(&s->remake, now, &ops);
    if (!k)
        return;
    ms_log("%zu page versions not kept by their holders in time: made again "
           "from their committing nodes' changes (DRESEND, APPLY)", k);
    homes_flush(s);
}

/* The figures a node adds to a RESULT (cmsg_result_fig): its link's
 * time per input page, and the input pages it fetched for the runner,
 * which the runner's kind learns (linkcost_note) when the node had not
 * run its identity before (rcb.h, placed_new): a runner sent back to its
 * input fetches nothing, which says nothing of what its kind reads.
 * DVM_EPROTO when they are missing or beyond any link or input. */
static dvm_status result_link(mserve *s, mnode *nd, int slot, uint64_t rid,
                              const cmsg_relay *m)
{
    if (m->nver != CMSG_RESULT_FIGS)
        return status_set(DVM_EPROTO, "a result without its figures");
    uint64_t pages = le_ld64(m->ver + 8 * CMSG_RF_INPUT_PAGES);
    uint64_t per = le_ld64(m->ver + 8 * CMSG_RF_LINK_NS_PAGE);
    if (pages > MSERVE_INPUT_PAGES_MAX || per > MSERVE_LINK_NS_PAGE_MAX)
        return status_set(DVM_EPROTO, "a result's figures out of bounds "
                          "(%" PRIu64 " input pages, %" PRIu64 " ns a page)",
                          pages, per);
    if (nd->run_results++ == 0)
        s->run_answered++;
    if (per)
        nd->link_ns_page = per;
    const rcb *r = rcomps_inflight_runner(ms_rcs(s), slot, rid);
    if (r && r->placed_new)     /* what it held before its own fetches */
        linkcost_note(&s->link, r->d.fi, pages,
                      nd->run_inputs > pages ? nd->run_inputs - pages : 0,
                      s->input_pages);
    return DVM_OK;
}

/* A RESULT's pages -- its changes', then its output's -- go into the
 * frames the master granted (only those); the commit point streams the
 * output from there to the client (out_to_client), as from a local RComp.
 * The record carries the data of the last npages frames; a large commit's
 * earlier ones came ahead in FRAMES records (frames_ahead).  Its times
 * are moved onto the master's clock. */
static dvm_status result_pages(mserve *s, mnode *nd, int slot,
                               cmsg_relay *m)
{
    msg_result res;
    dvm_status st = msg_decode_result(m->msg, m->len, &res);
    if (st)
        return DVM_OK;          /* the RComp set refuses it as for a local */
    size_t nf = msg_result_nframes(&res), ndata = 0;
    for (size_t c = 0; c < nf; c++) {
        ndata += result_frame_data(s, &res, c);
        nd->changes_in += c < res.nchanges && result_frame_data(s, &res, c);
    }
    if (m->npages > ndata || (ndata > 0 && m->npages == 0)) {
        msg_result_free(&res);
        return status_set(DVM_EPROTO, "result without its pages");
    }
    for (size_t c = 0, k = 0; c < nf && !st; c++) {
        uint32_t f = *msg_result_frame(&res, c);
        int data = result_frame_data(s, &res, c);
        k += data;
        if (!rcomps_frame_granted(ms_rcs(s), slot, f))
            continue;
        if (s->dl && f < s->ndl)
            s->dl[f] = data ? 0 : res.changes[c].page + 1;
        if (data && k > ndata - m->npages)
            st = store_write(ms_store(s), f,
                             m->pages + (k - 1 - (ndata - m->npages)) * CMSG_PAGE,
                             CMSG_PAGE);
    }
    if (!st)
        st = result_clock(s, nd, &res, m);
    if (!st)
        st = result_link(s, nd, slot, res.rid, m);
    msg_result_free(&res);
    return st;
}

/* FRAMES from a node: the data of frames a RESULT of that RComp names
 * next, ahead of it (a large commit); into the frames granted to the
 * slot (only those).  Never passed to the RComp set. */
static dvm_status frames_ahead(mserve *s, int slot, const cmsg_relay *m)
{
    uint32_t *ids;
    size_t n;
    dvm_status st = msg_decode_frames(m->msg, m->len, &ids, &n);
    if (st)
        return st;
    if (n != m->npages || n == 0)
        st = status_set(DVM_EPROTO, "frame data without its frames");
    for (size_t c = 0; !st && c < n; c++)
        if (rcomps_frame_granted(ms_rcs(s), slot, ids[c]))
            st = store_write(ms_store(s), ids[c], m->pages + c * CMSG_PAGE,
                             CMSG_PAGE);
    dvm_free(ids);
    return st;
}

/* ---- input pages --------------------------------------------------------------
 * The program's inputs stay here: nodes ask for the pages of the input
 * windows their RComps touch (FETCH with CMSG_EPOCH_INPUT), and the master
 * makes each as an RComp of dvm run makes it from a file
 * (image/inpage.h), from the bytes the client submitted. */

/* Reads the bytes of a submitted input (arg: its cmsg_input). */
static uint64_t input_read(void *arg, uint64_t off, uint8_t *dst, uint64_t n)
{
    const cmsg_input *in = arg;
    uint64_t len = (uint64_t)in->data.len;
    if (off >= len)
        return 0;
    n = n < len - off ? n : len - off;
    memcpy(dst, in->data.p + off, (size_t)n);
    return n;
}

/* The running program's inputs as page sources, into src; their number
 * (an input whose name no channel has is bound to nothing, as on a node
 * of dvm run). */
static size_t input_sources(mserve *s, inpage_src *src)
{
    size_t k = 0;
    for (uint32_t i = 0; i < s->sub.nin; i++) {
        const prog_channel *c = program_channel(
            s->prog, (const char *)s->sub.in[i].name.p,
            (size_t)s->sub.in[i].name.len);
        if (c)
            src[k++] = (inpage_src){ c->addr,
                                     (uint64_t)s->sub.in[i].data.len,
                                     input_read, &s->sub.in[i] };
    }
    return k;
}

/* The input pages among f's entries. */
static size_t input_entries(const cmsg_fetch *f)
{
    size_t k = 0;
    for (uint64_t i = 0; i < f->n; i++)
        k += le_ld64(f->ent + 16 * i + 8) == CMSG_EPOCH_INPUT;
    return k;
}

/* FETCH: the versions a node lacks for a dispatch.  Each is there unless
 * its runner is no longer in flight (a stale dispatch): then "absent".
 * Input pages are always there (made into inbuf). */
static void on_fetch(mserve *s, mnode *nd, const uint8_t *p, size_t len)
{
    cmsg_fetch f;
    if (!run_pairs(s, nd, p, len, "fetch", &f) || !nd->started)
        return;
    uint64_t t0 = clock_now_ns();
    uint64_t *ent = dvm_calloc(3 * f.n + 1, sizeof *ent);
    const uint8_t **pages = dvm_calloc(f.n + 1, sizeof *pages);
    size_t nask = input_entries(&f), np = 0, nin = 0;
    uint8_t *inbuf = dvm_malloc(nask * CMSG_PAGE + 1);
    inpage_src src[CMSG_MAX_INPUTS];
    size_t nsrc = nask ? input_sources(s, src) : 0;
    uint64_t now = space_epoch(ms_space(s));
    for (uint64_t i = 0; ent && pages && inbuf && i < f.n; i++) {
        uint64_t page = le_ld64(f.ent + 16 * i);
        uint64_t epoch = le_ld64(f.ent + 16 * i + 8);
        uint32_t fr = 0;
        ent[3 * i] = page;
        ent[3 * i + 1] = epoch;
        if (epoch == CMSG_EPOCH_INPUT) {
            (void)inpage_fill(src, nsrc, page, inbuf + nin * CMSG_PAGE);
            pages[np++] = inbuf + nin++ * CMSG_PAGE;
            ent[3 * i + 2] = 1;
            continue;
        }
        if (epoch > now) {          /* the rest was checked by the decoder */
            ms_drop_node(s, nd, "fetch of a version that never was");
            goto out;
        }
        int present = space_lookup_version(ms_space(s), page, epoch, &fr) ==
                      epoch && fr;
        if (present && fr == SPACE_FRAME_AWAY)
            present = CMSG_AT_HOMES;
        ent[3 * i + 2] = (uint64_t)present;
        if (present == 1) {
            pages[np++] = store_frame(ms_store(s), fr);
            region_mark(nd, page);
        }
    }
    if (ent && pages && inbuf) {
        mb_reset(&s->b);
        cmsg_encode_fetch(&s->b, s->run_id, ent, f.n, 3, pages, np);
        nd->pages_out += np - nin;
        nd->inputs_out += nin;
        nd->run_inputs += nin;
        s->input_bytes_out += (uint64_t)nin * CMSG_PAGE;
        (void)ms_send(s, nd->peer, WIRE_FETCHED);   /* gone: DOWN follows */
        if (s->obs && nd->obs >= 0 && np)
            obs_pages_fetch(s->obs, nd->obs, s->obs_master, UINT32_MAX, np,
                            clock_now_ns() - t0);
    } else {
        status_first_set(&s->fatal, status_set(DVM_ENOMEM, "out of memory"));
    }
out:
    dvm_free(ent);
    dvm_free(pages);
    dvm_free(inbuf);
}

static void on_relay(mserve *s, mnode *nd, const uint8_t *p, size_t len)
{
    cmsg_relay m;
    if (cmsg_decode_relay(p, len, &m) || m.rcomp >= (uint64_t)nd->nrcomps) {
        ms_drop_node(s, nd, "malformed relay");
        return;
    }
    if (!s->running || !nd->started || m.run != s->run_id)
        return;
    int slot = slot_for(s, nd, (int)m.rcomp, m.gen);
    if (slot == -2)
        ms_drop_node(s, nd, "its RComps were replaced too often");
    if (slot < 0)
        return;
    dvm_status st = DVM_OK;
    if (m.nver && !(m.type == MSG_RESULT && !m.page)) {
        st = status_set(DVM_EPROTO, "versions in a node's relay");
    } else if (m.type == MSG_PAGE_REQ && m.page) {
        uint64_t v[2];
        if (!msg_decode_u64s(m.msg, m.len, v, 2)) {
            s->req_page = v[0];
            s->req_epoch = v[1];
            s->req_ns = clock_now_ns();
        }
    } else if (m.type == MSG_RESULT && !m.page) {
        st = result_pages(s, nd, slot, &m);
        nd->results++;
        nd->pages_in += m.npages;
    } else if (m.type == MSG_FRAMES && !m.page) {
        stall_at("dvm master", "frames", s->t);     /* a test's (stall.h) */
        st = frames_ahead(s, slot, &m);
        nd->pages_in += m.npages;
        if (!st)
            return;             /* data only: nothing for the RComp set */
    } else if (m.npages)
        st = status_set(DVM_EPROTO, "pages with a message that has none");
    if (st) {
        ms_drop_node(s, nd, status_message());
        return;
    }
    st = rcomps_on_remote(ms_rcs(s), slot, m.page, m.type, m.msg, m.len);
    if (st)
        status_first_set(&s->fatal, st);
}

/* The fetch waits a node counted since its last NODE_STATS, into the
 * metrics (dvm_node_fetch_wait_seconds).  0, or -1 when a count went
 * back (a node counts from its start; a new connection is a new mnode). */
static int node_waits(mserve *s, mnode *nd, const cmsg_node_stats *ns)
{
    uint64_t d[CMSG_FETCH_WAIT_BUCKETS + 1], now[CMSG_FETCH_WAIT_BUCKETS + 1];
    memcpy(now, ns->wait, sizeof ns->wait);
    now[CMSG_FETCH_WAIT_BUCKETS] = ns->wait_sum_ns;
    for (size_t k = 0; k <= CMSG_FETCH_WAIT_BUCKETS; k++) {
        if (now[k] < nd->waits[k])
            return -1;
        d[k] = now[k] - nd->waits[k];
    }
    memcpy(nd->waits, now, sizeof now);
    if (s->obs && nd->obs >= 0)
        obs_fetch_wait_add(s->obs, nd->obs, d, d[CMSG_FETCH_WAIT_BUCKETS]);
    return 0;
}

/* NODE_STATS: the node's page cache figures, for dvm status, and its
 * fetch waits, for the metrics. */
static void on_node_stats(mserve *s, mnode *nd, const uint8_t *p, size_t len)
{
    _Static_assert(CMSG_FETCH_WAIT_BUCKETS == OBS_FETCH_WAIT_BUCKETS,
                   "NODE_STATS carries obs.h's fetch-wait buckets");
    cmsg_node_stats ns;
    if (cmsg_decode_node_stats(p, len, &ns) ||
        (ns.has_wait && node_waits(s, nd, &ns))) {
        ms_drop_node(s, nd, "malformed node stats");
        return;
    }
    memcpy(nd->cache, ns.v, sizeof nd->cache);
}

/* A RELAY message: its records in order, while the node is not refused. */
typedef struct relay_ctx {
    mserve *s;
    mnode *nd;
} relay_ctx;

/* cmsg_batch_each: one record; the rest are dropped with a lost node. */
static dvm_status on_relay_rec(void *arg, const uint8_t *rec, size_t rlen)
{
    relay_ctx *c = arg;
    on_relay(c->s, c->nd, rec, rlen);
    return c->nd->live ? DVM_OK : DVM_ECLOSED;
}

static void on_relays(mserve *s, mnode *nd, const uint8_t *p, size_t len)
{
    if (nd->results >= 16)      /* a test's long step (stall.h) */
        stall_once("dvm master", NULL);
    relay_ctx c = { s, nd };
    if (cmsg_batch_each(p, len, on_relay_rec, &c) && nd->live)
        ms_drop_node(s, nd, status_message());      /* malformed */
}

/* ---- clients ---------------------------------------------------------------- */

/* DONE into s->b. */
static void encode_done(mserve *s, int code, const char *err,
                        const char *stats, size_t nstats, const uint8_t *dump,
                        size_t ndump, const uint8_t *trace, size_t ntrace)
{
    cmsg_done d = { (uint64_t)code, { (const uint8_t *)err, strlen(err) },
                    { (const uint8_t *)stats, nstats }, { dump, ndump },
                    { trace, ntrace } };
    mb_reset(&s->b);
    cmsg_encode_done(&s->b, &d);
}

/* DONE to peer (not kept: an answer, not a program's verdict). */
static void send_done(mserve *s, uint64_t peer, int code, const char *err,
                      const char *stats, size_t nstats, const uint8_t *dump,
                      size_t ndump)
{
    encode_done(s, code, err, stats, nstats, dump, ndump, NULL, 0);
    (void)ms_send(s, peer, WIRE_DONE);
}

/* The verdict of the program to its client; with a store, kept there
 * first (msave_end: a client whose master dies now still gets it from
 * the restarted master), until the client leaves with it.  DVM_OK when
 * it could be sent (the client is connected). */
static dvm_status send_verdict(mserve *s, int code, const char *err,
                               const char *stats, size_t nstats,
                               const uint8_t *dump, size_t ndump,
                               const uint8_t *trace, size_t ntrace)
{
    encode_done(s, code, err, stats, nstats, dump, ndump, trace, ntrace);
    if (s->save.ms && !s->b.oom) {
        dvm_status st = msave_end(&s->save, s->b.p, s->b.len);
        if (st)
            ms_log("%s", status_message());
        s->ended = !st;
        s->ended_client = s->client;
        stall_stop_at("dvm master", "verdict");
    }
    return ms_send(s, s->client, WIRE_DONE);
}

/* The ended program's verdict is no longer kept: its client has it, or
 * did not come back for it in time, or another program starts. */
static void drop_ended(mserve *s)
{
    if (s->ended && msave_finish(&s->save))
        ms_log("%s", status_message());
    s->ended = 0;
    s->ended_client = UINT64_MAX;
}

static void on_submit(mserve *s, transport_event *ev)
{
    if (s->pending || s->running) {
        send_done(s, ev->peer, 2, "another program is running on this "
                  "cluster; try again when it is done", "", 0, NULL, 0);
        return;
    }
    uint8_t *buf = transport_event_take(ev);
    dvm_status st = cmsg_decode_submit(buf, ev->len, &s->sub);
    if (!st)
        st = image_parse(s->sub.image.p, (size_t)s->sub.image.len, &s->prog);
    if (st) {
        ms_log("refusing a program from %s: %s",
               transport_peer_name(s->t, ev->peer), status_message());
        send_done(s, ev->peer, 2, status_message(), "", 0, NULL, 0);
        dvm_free(buf);
        return;
    }
    drop_ended(s);
    s->sub_buf = buf;
    s->sub_len = ev->len;
    s->client = ev->peer;
    s->pending = 1;
}

/* RESUME of the program that ended (its verdict kept): the output the
 * client lacks, then the verdict; dropped once the client leaves. */
static void resume_ended(mserve *s, uint64_t peer, const cmsg_resume *r)
{
    uint8_t *done = NULL;
    size_t n = 0;
    s->client = peer;           /* send_output's addressee */
    dvm_status st = msave_replay(&s->save, r, send_output, s);
    if (!st)
        st = msave_verdict(&s->save, &done, &n);
    s->client = UINT64_MAX;
    if (st) {
        ms_log("refusing to resume for %s: %s", transport_peer_name(s->t, peer),
               status_message());
        send_done(s, peer, 2, status_message(), "", 0, NULL, 0);
        return;
    }
    mb_reset(&s->b);
    mb_bytes(&s->b, done, n);
    dvm_free(done);
    if (!ms_send(s, peer, WIRE_DONE))
        ms_log("client %s resumed the program that ended: sent its verdict",
               transport_peer_name(s->t, peer));
    s->ended_client = peer;
}

/* RESUME: the client of the saved program is back; it gets the output it
 * lacks, then the program goes on. */
static void on_resume(mserve *s, uint64_t peer, const uint8_t *p, size_t len)
{
    cmsg_resume r;
    if (cmsg_decode_resume(p, len, &r)) {
        ms_refuse(s, peer, status_message());
        return;
    }
    if (s->ended && !s->pending && !s->running &&
        r.id == s->save.head.submit_id) {
        resume_ended(s, peer, &r);
        return;
    }
    if (!s->pending || !s->restoring || s->client != UINT64_MAX) {
        send_done(s, peer, CMSG_DONE_NO_PROGRAM, "no program to resume on "
                  "this master", "", 0, NULL, 0);
        return;
    }
    s->client = peer;
    if (msave_replay(&s->save, &r, send_output, s)) {
        ms_log("refusing to resume for %s: %s", transport_peer_name(s->t, peer),
               status_message());
        send_done(s, peer, 2, status_message(), "", 0, NULL, 0);
        s->client = UINT64_MAX;
        return;
    }
    ms_log("client %s resumed the saved program",
           transport_peer_name(s->t, peer));
}

static void on_status(mserve *s, uint64_t peer, const uint8_t *p, size_t len);

/* The live node named name, or NULL. */
static mnode *node_named(mserve *s, cmsg_str name)
{
    for (size_t i = 0; i < s->nnodes; i++) {
        mnode *nd = &s->nodes[i];
        if (nd->live && strlen(nd->name) == name.len &&
            !memcmp(nd->name, name.p, (size_t)name.len))
            return nd;
    }
    return NULL;
}

/* DRAIN from a client: the named node is told to leave (once), and the
 * client waits for it (drains_answer). */
static void on_drain(mserve *s, uint64_t peer, const uint8_t *p, size_t len)
{
    cmsg_str name;
    if (cmsg_decode_drain(p, len, &name)) {
        ms_refuse(s, peer, status_message());
        return;
    }
    mnode *nd = node_named(s, name);
    char err[CMSG_MAX_NODE_LABEL + 96];
    if (!nd || s->ndrains == MSERVE_MAX_DRAINS) {
        snprintf(err, sizeof err, nd ? "too many drains waiting on this "
                 "master; try again later" : "no node named '%.*s' in the "
                 "cluster (dvm status lists them)", (int)name.len,
                 (const char *)name.p);
        send_done(s, peer, 2, err, "", 0, NULL, 0);
        return;
    }
    s->drains[s->ndrains++] = (mdrain){ peer, nd->id };
    ms_log("client %s asks node %s to leave", transport_peer_name(s->t, peer),
           nd->name);
    if (nd->leaving)            /* on its way out already */
        return;
    mb_reset(&s->b);
    cmsg_encode_drain(&s->b, nd->name, strlen(nd->name));
    (void)ms_send(s, nd->peer, WIRE_DRAIN);     /* gone: DOWN follows */
}

/* A submitted program whose client left before it started. */
static void drop_pending(mserve *s)
{
    if (s->restoring && msave_finish(&s->save))
        ms_log("%s", status_message());
    s->restoring = 0;
    s->pending = 0;
    program_free(s->prog);
    s->prog = NULL;
    dvm_free(s->sub_buf);
    s->sub_buf = NULL;
}

/* A peer is gone: a node is lost; the client of the program cancels it
 * (running) or drops it (pending); it is no client nor drain asker now. */
static void on_down(mserve *s, transport_event *ev, mnode *nd)
{
    if (nd) {
        ms_log("node %s left (%s)", transport_peer_name(s->t, ev->peer),
               ev->reason ? ev->reason : "closed");
        node_lost(s, nd);
    } else if ((s->running || s->pending) && ev->peer == s->client) {
        ms_log("client %s left (%s): its program is cancelled",
               transport_peer_name(s->t, ev->peer),
               ev->reason ? ev->reason : "closed");
        if (s->running)
            status_first_set(&s->fatal, status_set(DVM_EIO,
                             "cancelled: the client went away"));
        else
            drop_pending(s);
        s->client = UINT64_MAX;
    } else if (s->ended && ev->peer == s->ended_client) {
        drop_ended(s);          /* it left with the verdict */
    }
    for (size_t i = 0; i < s->nclients; i++)
        if (s->clients[i] == ev->peer)
            s->clients[i] = s->clients[--s->nclients];
    for (size_t i = 0; i < s->ndrains;)
        if (s->drains[i].peer == ev->peer)
            s->drains[i] = s->drains[--s->ndrains];
        else
            i++;
}

static void on_gathered(mserve *s, mnode *nd, const uint8_t *p,
                          size_t len);

static void on_event(void *arg, transport_event *ev)
{
    mserve *s = arg;
    mnode *nd = node_of(s, ev->peer);
    if (ev->kind == TRANSPORT_UP)
        return;
    if (ev->kind == TRANSPORT_DOWN) {
        on_down(s, ev, nd);
        return;
    }
    if (nd) {
        if (ev->type == WIRE_PING)
            return;
        if (ev->type == WIRE_LEAVE)
            on_leave(s, nd, ev->data, ev->len);
        else if (ev->type == WIRE_RELAY)
            on_relays(s, nd, ev->data, ev->len);
        else if (ev->type == WIRE_FETCH)
            on_fetch(s, nd, ev->data, ev->len);
        else if (ev->type == WIRE_NODE_STATS)
            on_node_stats(s, nd, ev->data, ev->len);
        else if (ev->type == WIRE_CLOCK_PONG)
            on_clock(s, nd, ev->data, ev->len);
        else if (ev->type == WIRE_STORED)
            on_stored(s, nd, ev->data, ev->len);
        else if (ev->type == WIRE_NEED)
            on_need(s, nd, ev->data, ev->len);
        else if (ev->type == WIRE_DHELD)
            on_dheld(s, nd, ev->data, ev->len);
        else if (ev->type == WIRE_NODE_ADDR)
            on_node_addr(s, nd, ev->data, ev->len);
        else if (ev->type == WIRE_HFETCHED)
            on_gathered(s, nd, ev->data, ev->len);
        else
            ms_drop_node(s, nd, "unexpected message from a node");
        return;
    }
    if (ev->type == WIRE_JOIN) {
        on_join(s, ev->peer, ev->data, ev->len);
        return;
    }
    if (ev->type != WIRE_SUBMIT && ev->type != WIRE_STATUS_REQ &&
        ev->type != WIRE_RESUME && ev->type != WIRE_DRAIN) {
        ms_refuse(s, ev->peer, "unexpected message");
        return;
    }
    if (!is_client(s, ev->peer)) {
        if (s->nclients == MSERVE_MAX_NODES) {  /* untracked, it could join */
            ms_refuse(s, ev->peer, "too many clients at once");
            return;
        }
        s->clients[s->nclients++] = ev->peer;
    }
    if (ev->type == WIRE_SUBMIT)
        on_submit(s, ev);
    else if (ev->type == WIRE_RESUME)
        on_resume(s, ev->peer, ev->data, ev->len);
    else if (ev->type == WIRE_DRAIN)
        on_drain(s, ev->peer, ev->data, ev->len);
    else
        on_status(s, ev->peer, ev->data, ev->len);
}

/* ---- status ------------------------------------------------------------------ */

/* One figure of `dvm status`: its JSON member and its words in the text;
 * a number (str NULL) or a string. */
typedef struct status_field {
    const char *key, *label;
    uint64_t v;
    const char *str;
} status_field;

#define SF_NUM(k, l, x) { k, l, (uint64_t)(x), NULL }
#define SF_STR(k, l, x) { k, l, 0, x }

/* Writes fields v[0, n) as JSON members ("key":value, comma separated) or
 * as text ("label: value", separated by sep). */
static void status_fields(FILE *f, int json, const status_field *v,
                          size_t n, const char *sep)
{
    for (size_t i = 0; i < n; i++) {
        if (json)
            fprintf(f, "%s\"%s\":", i ? "," : "", v[i].key);
        else
            fprintf(f, "%s%s: ", i ? sep : "", v[i].label);
        if (v[i].str)
            fprintf(f, json ? "\"%s\"" : "%s", v[i].str);
        else
            fprintf(f, "%" PRIu64, v[i].v);
    }
}

/* vindex: one more under-replicated version (arg: a walk) whose data
 * the master gave away: the loss of the one node that keeps it now, or
 * of the holder it is being copied from, would lose it. */
typedef struct underkept_walk {
    mserve *s;
    uint64_t n;
} underkept_walk;

static void count_underkept(void *arg, uint64_t page, uint64_t epoch)
{
    underkept_walk *w = arg;
    uint32_t f;
    if (version_frame(w->s, page, epoch, &f) && f == SPACE_FRAME_AWAY)
        w->n++;
}

/* Versions given away that fewer than HOME_COPIES nodes keep now. */
static uint64_t versions_underkept(mserve *s)
{
    underkept_walk w = { s, 0 };
    if (s->running)
        vindex_each(&s->vx, 0, count_underkept, &w);
    return w.n;
}

/* The master's figures: the program, its commits, pages and held output. */
static void status_master(mserve *s, FILE *f, int json)
{
    const master_stats *st = s->running ? master_get_stats(s->m) : NULL;
    double secs = s->running ? (double)(clock_now_ns() - s->t_run_ns) / 1e9
                             : 0;
    uint64_t commits = st ? st->commits : 0;
    size_t ready = 0, running = 0, unstable = 0;
    uint64_t waited = 0;
    if (s->running) {
        const rcb_pool *pool = master_commit_point(s->m)->pool;
        running = rcomps_inflight(ms_rcs(s));
        ready = pool->ready.n + pool->exclusive.n;
        unstable = pool->unstable.n;
        waited = pool->waited;
    }
    space_stats ss = { 0, 0, 0, 0 };
    if (s->running)
        space_get_stats(ms_space(s), &ss);
    const status_field v[] = {
        SF_NUM("page_versions_at_master", "page versions at the master",
               ss.versions),
        SF_NUM("page_versions_data_at_homes_only",
               "page versions with their data at their homes only",
               ss.away),
        SF_NUM("page_versions_under_replicated",
               "page versions at homes only that fewer than two nodes keep "
               "(being copied after a node went)", versions_underkept(s)),
        SF_NUM("output_held_bytes",
               "output held until stored at homes (bytes)",
               s->hold.st ? mhold_bytes(&s->hold) : 0),
        SF_NUM("versions_waiting_for_homes", "versions waiting for acks",
               s->running ? vindex_waiting(&s->vx) : 0),
        SF_NUM("versions_placed_without_data",
               "versions placed at homes without data (APPLY)",
               s->applied),
        SF_NUM("versions_placed_with_data",
               "versions sent to homes with their data by the master",
               s->stored_full),
        SF_NUM("versions_needed", "versions homes asked for again (NEED)",
               s->needed),
        SF_NUM("results_waited_for_held_deltas",
               "results that waited for a home to hold their changes",
               s->gate_waits),
        SF_NUM("deltas_asked_again",
               "results whose node was asked to send its changes again "
               "(DRESEND)", s->resends),
        SF_NUM("versions_remade",
               "versions a holder lacked or no holder kept in time, made "
               "again from their committing node's changes", s->remade),
        SF_NUM("rcomps_replaced_for_held_deltas",
               "RComps replaced: their changes never reached a home",
               s->gate_kills),
        SF_NUM("dump_pages_from_homes",
               "dumped pages fetched from their holders at the end",
               s->dump_fetched),
        SF_NUM("versions_handed_over",
               "page versions a leaving node alone kept, sent to their new "
               "holders", s->handed_over),
        SF_NUM("saved_pages_from_homes",
               "pages fetched from their holders to be saved (--state)",
               s->save_fetched),
        SF_NUM("input_bytes_to_nodes",
               "input bytes sent to nodes (the pages they asked for)",
               s->input_bytes_out),
        SF_NUM("first_touch_from_homes",
               "first-touch pages fetched from their homes",
               s->first_touch[0]),
        SF_NUM("first_touch_from_master",
               "first-touch pages sent by the master", s->first_touch[1]),
        SF_NUM("results_waiting_for_acks", "results waiting to commit",
               s->running ? rcomps_waiting(ms_rcs(s)) : 0),
        SF_NUM("results_waiting_for_held_deltas",
               "results waiting to commit behind one whose changes no home "
               "holds yet",
               s->running && s->gwait_slot >= 0 ? rcomps_waiting(ms_rcs(s))
                                                : 0),
        SF_STR("program", "program", s->running ? "running" : "idle"),
        SF_NUM("commits", "commits", commits),
        SF_NUM("commits_per_s", "commits per second",
               secs > 0 ? (double)commits / secs + 0.5 : 0),
        SF_NUM("conflicts", "conflicts", st ? st->conflicts : 0),
        SF_NUM("runners_running", "runners running", running),
        SF_NUM("runners_ready", "runners ready", ready),
        SF_NUM("runners_waiting_for_stable",
               "runners waiting for their commit to be stored at its homes",
               unstable),
        SF_NUM("runners_waited_for_stable",
               "runners that waited for their commit to be stored",
               waited),
    };
    status_fields(f, json, v, sizeof v / sizeof v[0], "\n");
}

/* Node nd's figures. */
static void status_node(mserve *s, FILE *f, int json, const mnode *nd)
{
    rcomp_set *rs = s->running ? ms_rcs(s) : NULL;
    int live = 0, timed = 0;
    uint64_t factors = 0;
    for (int k = 0; rs && nd->started && k < nd->nrcomps; k++) {
        const rcomp_slot *sl = nd->slot[k] >= 0 ? &rs->rc[nd->slot[k]] : NULL;
        live += sl && !sl->gone;
        if (sl && !sl->gone && sl->place.factor) {
            factors += sl->place.factor;
            timed++;
        }
    }
    const uint64_t *c = nd->cache;
    const status_field v[] = {
        SF_STR("name", "name", nd->name),
        SF_STR("host", "host", transport_peer_name(s->t, nd->peer)),
        SF_NUM("rcomps", "rcomps", nd->nrcomps),
        SF_NUM("rcomps_live", "rcomps in the program", live),
        SF_NUM("results", "results", nd->results),
        SF_NUM("speed_pct", "speed (% of the cluster's)",
               timed ? 100u * PLACE_ONE * (uint64_t)timed / factors : 0),
        SF_NUM("round_trip_us", "round trip (us)",
               nd->clk.valid ? nd->clk.delay / 1000 : 0),
        SF_NUM("pages_sent", "pages sent", nd->pages_in),
        SF_NUM("changed_pages_sent", "changed pages sent with data",
               nd->changes_in),
        SF_NUM("pages_fetched", "pages fetched", nd->pages_out),
        SF_NUM("input_pages_fetched", "input pages fetched", nd->inputs_out),
        SF_NUM("link_us_per_input_page", "link time per input page (us)",
               nd->link_ns_page / 1000),
        SF_NUM("pages_cached", "pages cached", c[CMSG_NS_CACHED]),
        SF_NUM("cache_hits", "cache hits", c[CMSG_NS_HITS]),
        SF_NUM("cache_misses", "cache misses", c[CMSG_NS_MISSES]),
        SF_NUM("pages_homed", "pages homed", c[CMSG_NS_HOMED]),
        SF_NUM("pages_served_to_nodes", "pages served to nodes",
               c[CMSG_NS_SERVED]),
        SF_NUM("pages_from_homes", "pages fetched from homes",
               c[CMSG_NS_FROM_HOMES]),
        SF_NUM("versions_stored", "versions stored", nd->stored),
    };
    fputs(json ? "{" : "  ", f);
    status_fields(f, json, v, sizeof v / sizeof v[0], ", ");
    fputs(json ? "}" : "\n", f);
}

/* STATUS_REQ: the figures as text or JSON.  When they cannot be gathered
 * (no memory) the client is closed, so it fails at once with the reason
 * logged here rather than waiting. */
static void on_status(mserve *s, uint64_t peer, const uint8_t *p, size_t len)
{
    uint64_t json;
    if (cmsg_decode_u64s(p, len, &json, 1) || json > 1) {
        ms_refuse(s, peer, "bad status request");
        return;
    }
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    if (!f) {
        ms_refuse(s, peer, "out of memory for the status");
        return;
    }
    fputs(json ? "{" : "", f);
    status_master(s, f, (int)json);
    fputs(json ? ",\"hosts\":[" : "\nhosts:\n", f);
    int first = 1;
    for (size_t i = 0; i < s->nnodes; i++) {
        if (!s->nodes[i].live)
            continue;
        fputs(json && !first ? "," : "", f);
        status_node(s, f, (int)json, &s->nodes[i]);
        first = 0;
    }
    fputs(json ? "]}\n" : "", f);
    if (fclose(f)) {
        ms_refuse(s, peer, "out of memory for the status");
        free(text);
        return;
    }
    mb_reset(&s->b);
    cmsg_put_str(&s->b, text, n);
    (void)ms_send(s, peer, WIRE_STATUS);
    free(text);
}

/* ---- one program ------------------------------------------------------------- */

/* ---- pages from their holders ------------------------------------------------
 * A masks-only run's results bring the master no page data but the
 * system page's and output, so a page's newest version is usually at its
 * holders only (SPACE_FRAME_AWAY).  Two things need such data at the
 * master: the dumps, once the program has ended and its output is stored
 * (hold_finish), and, with --state, each save of a batch (the store holds
 * the newest version of every page the batch changed).  For either the
 * master notes the pages it lacks (s->dw, by page), asks a holder that
 * acknowledged each version for it (HFETCH on the node's connection,
 * answered HFETCHED from its home store, as another node's question), and
 * reads those pages from there.  A holder that lacks the version, or is
 * lost meanwhile, is passed over for the other; the run fails with a
 * clear message when no holder gives a page within MSERVE_GATHER_WAIT_MS
 * (every holder lost: as a lost version during the run).
 *
 * A save's gathering runs inside the master's loop (its batch hook), and
 * no result is committed meanwhile (results that arrive wait, as when the
 * held output is at its bound: hold_may_commit), so the versions it asks
 * for stay the newest, hence are neither collected nor dropped at their
 * holders, and the batch saves exactly the epoch it gathered for.  (The
 * system page, which a node's coming or going commits, keeps its data at
 * the master.)  A version the save then lacks anyway fails the run with
 * a message naming it (msave_batch), never a wrong store. */

static int gather_page_cmp(const void *a, const void *b)
{
    const gather_page *x = a, *y = b;
    return x->page < y->page ? -1 : x->page > y->page;
}

static gather_page *gather_find(mserve *s, uint64_t page)
{
    gather_page key = { .page = page };
    return s->ndw ? bsearch(&key, s->dw, s->ndw, sizeof *s->dw,
                            gather_page_cmp) : NULL;
}

/* Notes version (page, e) to fetch.  DVM_ENOMEM. */
static dvm_status gather_note(mserve *s, uint64_t page, uint64_t e)
{
    gather_page *w = dvm_grow(s->dw, &s->capdw, s->ndw + 1, sizeof *w);
    if (!w)
        return status_set(DVM_ENOMEM, "out of memory for pages to fetch");
    s->dw = w;
    s->dw[s->ndw++] = (gather_page){ page, e, UINT64_MAX, UINT64_MAX, NULL,
                                    0 };
    return DVM_OK;
}

/* Sorts the noted pages, each once. */
static void gather_sort(mserve *s)
{
    if (s->ndw)
        qsort(s->dw, s->ndw, sizeof *s->dw, gather_page_cmp);
    size_t k = 0;
    for (size_t i = 0; i < s->ndw; i++)
        if (!k || s->dw[k - 1].page != s->dw[i].page)
            s->dw[k++] = s->dw[i];
        else
            dvm_free(s->dw[i].data);
    s->ndw = k;
}

/* Notes page when its newest version is at the holders only. */
static dvm_status dump_want(mserve *s, uint64_t page)
{
    uint32_t f = 0;
    mem_space *sp = ms_space(s);
    uint64_t e = space_lookup_version(sp, page, space_epoch(sp), &f);
    return e && f == SPACE_FRAME_AWAY ? gather_note(s, page, e) : DVM_OK;
}

/* The dumped pages at holders only, sorted, each once, into s->dw. */
static dvm_status dump_wanted(mserve *s)
{
    dvm_status st = DVM_OK;
    for (uint32_t i = 0; i < s->sub.ndump && !st; i++) {
        const cmsg_dump *d = &s->sub.dump[i];
        if (!d->bytes)
            continue;
        uint64_t last = (d->addr + d->bytes - 1) / DISA_PAGE;
        for (uint64_t pg = d->addr / DISA_PAGE; pg <= last && !st; pg++)
            st = dump_want(s, pg);
    }
    gather_sort(s);
    return st;
}

/* The holder to ask for w: a live node among its holders now that
 * acknowledged the version, the one that lacked it last only if no other
 * did; NULL when none (not acknowledged yet, or lost). */
static mnode *gather_holder(mserve *s, const gather_page *w)
{
    uint64_t hold[HOME_COPIES];
    size_t n = home_pick(w->page, s->hids, s->nhids, hold);
    mnode *again = NULL;
    for (size_t i = 0; i < n; i++) {
        mnode *nd = node_by_id(s, hold[i]);
        if (!nd || !nd->live || !nd->started ||
            !vindex_kept_by(&s->vx, w->page, w->epoch, hold[i]))
            continue;
        if (hold[i] != w->absent)
            return nd;
        again = nd;
    }
    return again;
}

/* Asks nd for the pages ent[0, 2n) (page, epoch pairs). */
static void gather_send(mserve *s, mnode *nd, const uint64_t *ent, size_t n)
{
    mb_reset(&s->b);
    cmsg_encode_fetch(&s->b, s->run_id, ent, n, 2, NULL, 0);
    (void)ms_send(s, nd->peer, WIRE_HFETCH);
}

/* Asks a holder for every page not asked for (or asked of a node gone),
 * in batches per node: each page's holder first (gather_holder), then per
 * node the pages it was picked for (fresh marks them), so that the work
 * is the pages times the nodes, not the pages squared. */
static void gather_ask(mserve *s)
{
    uint64_t ent[2 * MSERVE_GATHER_BATCH];
    int any = 0;
    for (size_t i = 0; i < s->ndw; i++) {
        gather_page *w = &s->dw[i];
        mnode *asked = w->asked == UINT64_MAX ? NULL
                                              : node_by_id(s, w->asked);
        w->fresh = 0;
        if (w->data || (asked && asked->live))
            continue;
        mnode *nd = gather_holder(s, w);
        w->asked = nd ? nd->id : UINT64_MAX;
        w->fresh = nd != NULL;
        any |= w->fresh;
    }
    for (size_t k = 0; any && k < s->nnodes; k++) {
        mnode *nd = &s->nodes[k];
        size_t n = 0;
        for (size_t i = 0; nd->live && i < s->ndw; i++) {
            gather_page *w = &s->dw[i];
            if (!w->fresh || w->asked != nd->id)
                continue;
            ent[2 * n] = w->page;
            ent[2 * n + 1] = w->epoch;
            if (++n == MSERVE_GATHER_BATCH) {
                gather_send(s, nd, ent, n);
                n = 0;
            }
        }
        if (n)
            gather_send(s, nd, ent, n);
    }
}

/* HFETCHED from nd: the noted pages it had (counted in *s->gather_count);
 * those it lacks are asked of another holder next.  Answers no page asks
 * for (late, or of another run) are dropped; a malformed one drops the
 * node. */
static void on_gathered(mserve *s, mnode *nd, const uint8_t *p, size_t len)
{
    cmsg_fetch f;
    if (cmsg_decode_fetch(p, len, 3, &f)) {
        ms_drop_node(s, nd, status_message());
        return;
    }
    const uint8_t *data = f.pages;
    for (uint64_t i = 0; i < f.n; i++) {
        const uint8_t *e = f.ent + 24 * i;
        int present = le_ld64(e + 16) == 1;
        if (nd->leaving && f.run == s->run_id)
            handover_take(s, nd, le_ld64(e), le_ld64(e + 8),
                          present ? data : NULL);
        gather_page *w = f.run == s->run_id ? gather_find(s, le_ld64(e))
                                           : NULL;
        if (w && !w->data && w->asked == nd->id &&
            w->epoch == le_ld64(e + 8)) {
            w->asked = UINT64_MAX;
            if (present && (w->data = dvm_malloc(DISA_PAGE))) {
                memcpy(w->data, data, DISA_PAGE);
                if (s->gather_count)
                    (*s->gather_count)++;
            } else if (!present) {
                w->absent = nd->id;
            }
        }
        data += present ? DISA_PAGE : 0;
    }
}

/* The first noted page still missing, or NULL. */
static const gather_page *gather_missing(const mserve *s)
{
    for (size_t i = 0; i < s->ndw; i++)
        if (!s->dw[i].data)
            return &s->dw[i];
    return NULL;
}

/* Fetches every noted page from its holders (above), the master's loop
 * turning meanwhile (homes, heartbeats) but committing nothing; what
 * names the pages in the error.  Counts the pages in *count.  Returns
 * DVM_OK once all came, else the run's fatal error or a timeout's. */
static dvm_status gather_fetch(mserve *s, const char *what, uint64_t *count)
{
    uint64_t end = clock_now_ns() + (uint64_t)MSERVE_GATHER_WAIT_MS * 1000000u;
    const gather_page *w;
    s->gather_count = count;
    while ((w = gather_missing(s)) && !s->fatal.st && !mserve_quit) {
        if (clock_now_ns() > end) {
            log_holders(s, w->page, w->epoch, w->absent);
            return status_set(DVM_EIO, "the %s page 0x%" PRIx64 " (the "
                              "version of commit %" PRIu64 ") did not come "
                              "from its holders within %d s", what,
                              w->page * (uint64_t)DISA_PAGE, w->epoch,
                              MSERVE_GATHER_WAIT_MS / 1000);
        }
        homes_push(s);
        gather_ask(s);
        homes_flush(s);
        transport_wait(s->t, 20);
        ddrop_flush(s);
        check_heartbeats(s);
    }
    if (!s->fatal.st && mserve_quit)
        status_first_set(&s->fatal,
                         status_set(DVM_EIO, "the master was stopped"));
    return s->fatal.st ? status_first_get(&s->fatal) : DVM_OK;
}

/* Fetches the dumped pages that are at their holders only (above); st is
 * the run's status so far (nothing to do unless DVM_OK).  Returns the
 * run's status. */
static dvm_status dump_gather(mserve *s, dvm_status st)
{
    if (st || !s->sub.ndump || !(s->rule.flags & CMSG_START_MASKS_ONLY))
        return st;
    stall_stop_at("dvm master", "dump");
    if ((st = dump_wanted(s)))
        return st;
    return gather_fetch(s, "dumped", &s->dump_fetched);
}

static void gather_free(mserve *s)
{
    for (size_t i = 0; i < s->ndw; i++)
        dvm_free(s->dw[i].data);
    dvm_free(s->dw);
    s->dw = NULL;
    s->ndw = s->capdw = 0;
}

/* ---- saves of a masks-only run ---- */

/* persist_pages_since: a page whose newest version is away is noted. */
static void save_want(void *arg, uint64_t page, uint64_t epoch,
                      const uint8_t *data)
{
    mserve *s = arg;
    if (!data && gather_note(s, page, epoch))
        status_first_set(&s->fatal, DVM_ENOMEM);
}

/* msave's away hook: the gathered data of (page, epoch), NULL if none. */
static const uint8_t *save_away(void *arg, uint64_t page, uint64_t epoch)
{
    const gather_page *w = gather_find(arg, page);
    return w && w->epoch == epoch ? w->data : NULL;
}

/* Before a save: the pages of the batch whose newest version is at its
 * holders only are fetched from them (above). */
static dvm_status save_gather(mserve *s)
{
    if (!(s->rule.flags & CMSG_START_MASKS_ONLY))
        return DVM_OK;
    homes_push(s);
    persist_pages_since(master_commit_point(s->m), s->save.saved_epoch,
                        save_want, s);
    if (s->fatal.st)
        return status_first_get(&s->fatal);
    gather_sort(s);
    if (!s->ndw)
        return DVM_OK;
    s->gathering = 1;           /* hold_may_commit: no commit meanwhile */
    dvm_status st = gather_fetch(s, "saved", &s->save_fetched);
    s->gathering = 0;
    return st;
}

/* Copies the committed bytes [addr, addr + n) into buf: the pages
 * dump_gather fetched from their holders, the master's own for the
 * rest. */
static void dump_read(mserve *s, uint64_t addr, uint8_t *buf, size_t n)
{
    while (n) {
        uint64_t off = addr % DISA_PAGE;
        size_t k = DISA_PAGE - off < n ? (size_t)(DISA_PAGE - off) : n;
        const gather_page *w = gather_find(s, addr / DISA_PAGE);
        if (w && w->data)
            memcpy(buf, w->data + off, k);
        else
            master_read(s->m, addr, buf, k);
        addr += k;
        buf += k;
        n -= k;
    }
}

/* The dump ranges' committed bytes, in order; NULL with *n 0 if none. */
static uint8_t *read_dumps(mserve *s, size_t *n)
{
    size_t total = 0;
    for (uint32_t i = 0; i < s->sub.ndump; i++)
        total += (size_t)s->sub.dump[i].bytes;
    uint8_t *buf = dvm_malloc(total + 1);
    size_t off = 0;
    for (uint32_t i = 0; i < s->sub.ndump && buf; i++) {
        dump_read(s, s->sub.dump[i].addr, buf + off,
                  (size_t)s->sub.dump[i].bytes);
        off += (size_t)s->sub.dump[i].bytes;
    }
    *n = buf ? total : 0;
    return buf;
}

/* The trace file's bytes (a memfd), or NULL. */
static uint8_t *read_trace(int fd, size_t *n)
{
    *n = 0;
    off_t end = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (end <= 0 || (size_t)end > TRANSPORT_DEFAULT_MAX_MSG / 2)
        return NULL;
    uint8_t *buf = dvm_malloc((size_t)end);
    if (buf && pread(fd, buf, (size_t)end, 0) == end) {
        *n = (size_t)end;
        return buf;
    }
    dvm_free(buf);
    return NULL;
}

/* The end of a run: the verdict to the client (exit code, error, stats,
 * dumps, trace), the master gone, STOP to the nodes. */
static void finish_run(mserve *s, dvm_status st, int trace_fd)
{
    char errbuf[512];
    snprintf(errbuf, sizeof errbuf, "%s", st ? status_message() : "");
    int code = st ? 2 : master_get_stats(s->m)->runners_faulted ? 1 : 0;
    char *stats = NULL;
    size_t nstats = 0, ndump = 0, ntrace = 0;
    FILE *f = NULL;
    if ((s->sub.flags & CMSG_SUBMIT_STATS) &&
        (f = open_memstream(&stats, &nstats))) {
        master_fprint_stats(s->m, f);
        fclose(f);
    }
    uint8_t *dump = st ? NULL : read_dumps(s, &ndump);
    master_destroy(s->m);       /* closes the trace */
    s->m = NULL;
    uint8_t *trace = read_trace(trace_fd, &ntrace);
    /* A client gone before its DOWN was read (the run ended on a send to
     * it that failed) is logged as one gone before. */
    if (s->client == UINT64_MAX ||
        send_verdict(s, code, errbuf, stats ? stats : "", nstats, dump,
                     ndump, trace, ntrace))
        ms_log("program cancelled: %s", st ? errbuf : "done");
    free(stats);
    dvm_free(dump);
    dvm_free(trace);
    uint64_t run = s->run_id;
    for (size_t i = 0; i < s->nnodes; i++) {
        mnode *nd = &s->nodes[i];
        if (nd->live && nd->started) {
            mb_reset(&s->b);
            cmsg_encode_u64s(&s->b, &run, 1);
            (void)ms_send(s, nd->peer, WIRE_STOP);
        }
        nd->started = 0;
    }
}

/* 1 when every RComp of every node that was sent START is ready. */
static int all_ready(mserve *s)
{
    rcomp_set *rs = ms_rcs(s);
    for (size_t i = 0; i < s->nnodes; i++) {
        const mnode *nd = &s->nodes[i];
        if (nd->live && nd->started && !nd->leaving && nd->clk.bursts == 0)
            return 0;
        for (int k = 0; nd->live && nd->started && !nd->leaving &&
                        k < nd->nrcomps; k++)
            if (nd->slot[k] < 0 || !rs->rc[nd->slot[k]].ready)
                return 0;
    }
    return 1;
}

/* Waits (bounded) until the nodes present at the start are ready, so that
 * the first runner sees their RComps on the system page, as in dvm run,
 * and their clocks are measured (their first runners are timed). */
static void wait_ready(mserve *s)
{
    uint64_t t0 = clock_now_ns();
    while (!all_ready(s) && !s->fatal.st && !mserve_quit &&
           clock_now_ns() - t0 < (uint64_t)CMSG_START_WAIT_MS * 1000000u) {
        transport_wait(s->t, 50);
        check_heartbeats(s);
    }
}

/* Whether the program about to run goes masks only (s->rule): not
 * asked otherwise (--results-with-data), and at least two nodes that
 * home pages, so that every version has two holders to be made at.
 * With --state too since 2026-12-06 (each save then fetches the data it
 * lacks, save_gather; docs/cluster.md, "Master restart", says why it
 * waited until then). */
static void masks_decide(mserve *s)
{
    size_t homing = 0;
    for (size_t i = 0; i < s->nnodes; i++)
        homing += s->nodes[i].live && !s->nodes[i].leaving &&
                  s->nodes[i].addr[0];
    /* DVM_TEST_RESULTS_WITH_DATA in the master's environment: as
     * --results-with-data (to run the test suite the older way). */
    int asked = !s->cfg.results_with_data &&
                getenv("DVM_TEST_RESULTS_WITH_DATA") == NULL;
    int on = asked && homing >= 2;
    s->rule = (cmsg_start){ .flags = on ? CMSG_START_MASKS_ONLY : 0 };
    if (on)
        ms_log("program %" PRIu64 ": results bring masks only (%zu homing "
               "nodes)", s->run_id, homing);
}

/* Masks only: the frame marks, and the space told of them. */
static dvm_status masks_start(mserve *s)
{
    size_t n = store_max_frames(ms_store(s));
    void *p = mmap(NULL, n * sizeof *s->dl, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return status_set(DVM_ENOMEM, "out of memory for the frame marks");
    s->dl = p;
    s->ndl = n;
    space_set_dataless(ms_space(s), ms_dataless, s);
    return DVM_OK;
}

static void masks_end(mserve *s)
{
    if (s->dl)
        munmap(s->dl, s->ndl * sizeof *s->dl);
    s->dl = NULL;
    s->ndl = 0;
}

/* Runs the pending program to its end and answers its client (DONE).  A
 * --trace the master cannot make a file for fails the program at once
 * (exit status 2, the reason in the error): the client asked for it. */
static void run_program(mserve *s)
{
    char engine[8], trace_path[64];
    (void)cmsg_str_copy(s->sub.engine, engine, sizeof engine);
    int trace_fd = -1;
    dvm_status st = DVM_OK;
    if ((s->sub.flags & CMSG_SUBMIT_TRACE) &&
        (trace_fd = memfd_create("dvm-trace", MFD_CLOEXEC)) < 0)
        st = status_set(DVM_ESYS, "cannot make a file for the trace: %s",
                        strerror(errno));
    if (trace_fd >= 0)
        snprintf(trace_path, sizeof trace_path, "/proc/self/fd/%d", trace_fd);
    master_config cfg = { .prog = s->prog, .rcomp_exe = s->cfg.rcomp_exe,
                          .nrcomps = 0, .engine = engine, .obs = s->obs,
                          .remote = &s->remote, .out_fn = out_to_client,
                          .out_arg = s, .diag = diag_open(s),
                          .trace_path = trace_fd >= 0 ? trace_path : NULL };
    s->pending = 0;
    s->fatal.st = DVM_OK;
    s->run_id++;
    linkcost_clear(&s->link);
    s->run_answered = 0;
    s->input_pages = 0;
    for (uint32_t i = 0; i < s->sub.nin; i++)
        s->input_pages += (8 + (uint64_t)s->sub.in[i].data.len +
                           CMSG_PAGE - 1) / CMSG_PAGE;
    masks_decide(s);
    vindex_clear(&s->vx);
    dheld_clear(&s->held);
    dmake_clear(&s->made);
    dremake_clear(&s->remake);
    s->has_deciding = 0;
    s->ndec = 0;
    s->nddrop = 0;
    s->gwait_slot = -1;
    s->gate_kills_row = 0;
    s->pushed = s->gc_epoch = 0;
    s->nctag = s->nskip = 0;
    s->t_run_ns = clock_now_ns();
    if (s->obs)
        obs_begin(s->obs);
    s->remote.restore = s->restoring ? ms_restore : NULL;
    s->remote.batch = s->save.ms ? ms_batch : NULL;
    s->save.away = save_away;
    s->save.away_arg = s;
    if (!st)
        st = master_create(&cfg, &s->m);
    if (!st && (s->rule.flags & CMSG_START_MASKS_ONLY))
        st = masks_start(s);
    if (!st && !s->restoring &&
        (st = msave_start(&s->save, s->m, s->sub_buf, s->sub_len))) {
        master_destroy(s->m);
        s->m = NULL;
    }
    if (st) {
        send_done(s, s->client, 2, status_message(), "", 0, NULL, 0);
    } else {
        mhold_init(&s->hold, ms_store(s));
        s->hold_stall = s->snap_stall = (mstall){ 0, clock_now_ns(), 0 };
        s->running = 1;
        for (size_t i = 0; i < s->nnodes; i++)
            if (s->nodes[i].live && !s->nodes[i].leaving &&
                node_start(s, &s->nodes[i]))
                ms_refuse(s, s->nodes[i].peer, status_message());
        wait_ready(s);
        st = s->fatal.st ? status_first_get(&s->fatal)
                      : master_run(s->m);
        st = hold_finish(s, st);
        st = dump_gather(s, st);
        vindex_clear(&s->vx);       /* before the master's space goes */
        finish_run(s, st, trace_fd);
        gather_free(s);
        s->running = 0;
    }
    masks_end(s);
    if (s->obs) {
        observe_nodes(s, 1);
        obs_finish(s->obs);
    }
    if (!s->ended && msave_finish(&s->save))
        ms_log("%s", status_message());
    s->restoring = 0;
    if (trace_fd >= 0)
        close(trace_fd);
    s->m = NULL;
    if (cfg.diag)
        fclose(cfg.diag);
    program_free(s->prog);
    s->prog = NULL;
    dvm_free(s->sub_buf);
    s->sub_buf = NULL;
}

/* ---- the service --------------------------------------------------------------- */

/* Opens the state directory; a program found there is pending, waiting
 * for its client.  Errors (a store that is not this master's, a saved
 * program that does not decode) are fatal. */
static dvm_status load_saved(mserve *s, const char *dir)
{
    int present = 0, ended = 0;
    dvm_status st = msave_open(&s->save, dir, &present, &ended, &s->sub_buf,
                               &s->sub_len);
    if (st || !present)
        return st;
    if (ended) {                /* only its verdict waits for its client */
        dvm_free(s->sub_buf);
        s->sub_buf = NULL;
        s->ended = 1;
        s->ended_until_ns = clock_now_ns() + MSERVE_RESUME_S * 1000000000ull;
        ms_log("a program that ended: its verdict waits up to %d s for its "
               "client", MSERVE_RESUME_S);
        return DVM_OK;
    }
    st = cmsg_decode_submit(s->sub_buf, s->sub_len, &s->sub);
    if (!st)
        st = image_parse(s->sub.image.p, (size_t)s->sub.image.len, &s->prog);
    if (!st && cmsg_submit_id(s->sub_buf, s->sub_len) != s->save.head.submit_id)
        st = status_set(DVM_EFORMAT, "its id does not match");
    if (st)
        return status_set(DVM_EFORMAT, "%s: corrupt master state: the saved "
                          "program: %s", dir, status_message());
    s->pending = s->restoring = 1;
    ms_log("a saved program (epoch %" PRIu64 "): waiting up to %d s for its "
           "client", s->save.head.epoch, MSERVE_RESUME_S);
    return DVM_OK;
}

/* 1 while the saved program waits for its client; drops it when the
 * client did not come back in time. */
static int awaiting_client(mserve *s)
{
    if (!s->restoring || s->client != UINT64_MAX)
        return 0;
    if (clock_now_ns() < s->resume_until_ns)
        return 1;
    ms_log("the saved program's client did not come back: dropped");
    drop_pending(s);
    return 1;
}

static dvm_status write_port(const char *path, uint16_t port)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return status_set_errno(DVM_EIO, "cannot write '%s'", path);
    fprintf(f, "%u\n", (unsigned)port);
    if (fclose(f))
        return status_set_errno(DVM_EIO, "cannot write '%s'", path);
    return DVM_OK;
}

static void install_signals(void)
{
    sigstop_install(mserve_on_signal);
    signal(SIGPIPE, SIG_IGN);
}

dvm_status mserve_main(const mserve_config *cfg)
{
    mserve *s = dvm_calloc(1, sizeof *s);
    if (!s)
        return status_set(DVM_ENOMEM, "out of memory");
    s->cfg = *cfg;
    s->client = UINT64_MAX;
    s->remote = (master_remote){ .send = remote_send, .lost = remote_lost,
                                 .affinity = remote_affinity,
                                 .placed = remote_placed,
                                 .fetch_ns = remote_fetch_ns,
                                 .fresh = remote_fresh,
                                 .net_ns = remote_net_ns,
                                 .poll = remote_poll,
                                 .before_gc = homes_push,
                                 .committed = remote_committed,
                                 .obs_place = remote_obs_place, .fd = -1,
                                 .may_commit = hold_may_commit,
                                 .result_gate = remote_gate,
                                 .stable = snap_stable, .arg = s };
    s->obs = cfg->obs;
    s->vops = (vindex_ops){ home_store, home_drop, home_alive, home_lost,
                            s };
    vindex_init(&s->vx);
    dheld_init(&s->held);
    dremake_init(&s->remake);
    dmake_init(&s->made);
    s->gwait_slot = -1;
    s->ended_client = UINT64_MAX;
    mb_init(&s->b);
    mb_init(&s->fix);
    install_signals();
    /* A master restarted, with its state or without, takes its address
     * again at once, although the connections of the one killed linger
     * (TIME_WAIT).  Linux lets a listener bind over them only when the
     * dead one had SO_REUSEADDR too, so every master sets it. */
    setenv("UCX_TCP_CM_REUSEADDR", "y", 0);
    transport_config tc = { .secret = cfg->secret,
                            .keepalive_type = WIRE_PING,
                            .keepalive_ms = CMSG_PING_MS,
                            .on_event = on_event, .arg = s };
    dvm_status st = cfg->state_dir ? load_saved(s, cfg->state_dir) : DVM_OK;
    if (!st)
        st = transport_create(&tc, &s->t);
    if (!st && s->obs)
        st = obs_node_add(s->obs, "master", 0, &s->obs_master);
    if (!st)
        st = transport_listen(s->t, cfg->listen, &s->port);
    if (!st && cfg->port_file)
        st = write_port(cfg->port_file, s->port);
    if (!st) {
        s->remote.fd = transport_fd(s->t);
        fprintf(stderr, "dvm master: listening on %s (port %u)%s\n",
                cfg->listen, (unsigned)s->port, cfg->secret ? "" :
                "; no --secret-file: loopback only, no authentication");
    }
    s->resume_until_ns = clock_now_ns() + MSERVE_RESUME_S * 1000000000ull;
    while (!st && !mserve_quit) {
        if (s->pending && !awaiting_client(s)) {
            run_program(s);
        } else {
            transport_wait(s->t, s->restoring ? 200 : CMSG_PING_MS);
            clock_pings(s);
            observe_nodes(s, 0);
        }
        check_heartbeats(s);
        if (s->ended && clock_now_ns() > s->ended_until_ns &&
            s->ended_client == UINT64_MAX) {
            ms_log("the ended program's client did not come back for its "
                   "verdict: dropped");
            drop_ended(s);
        }
    }
    msave_close(&s->save);
    transport_destroy(s->t);
    for (size_t i = 0; i < s->nnodes; i++)
        node_free(&s->nodes[i]);
    vindex_free(&s->vx);
    dheld_free(&s->held);
    dmake_free(&s->made);
    dremake_free(&s->remake);
    dvm_free(s->dec);
    dvm_free(s->ddrop);
    dvm_free(s->pg);
    dvm_free(s->ctag);
    dvm_free(s->cskip);
    mb_free(&s->b);
    mb_free(&s->rec);
    mb_free(&s->fix);
    dvm_free(s->sub_buf);
    program_free(s->prog);
    dvm_free(s);
    return st;
}
