/*
 * node.c -- the node agent: a host's RComps, relayed to the master.
 *
 * One thread, one epoll set over the RComps' sockets and the transport's
 * event fd; the RComps' control messages travel through queues in shared
 * memory (net/shmq.h), which the loop reads on every turn and whose
 * sockets ring only when it sleeps.  Between programs a node holds nothing but its connection to
 * the master.  START brings a program: the node creates a frame store,
 * writes the image into a memfd, makes the files its RComps read input
 * pages from (ninput.h: the master keeps the inputs, and the node fetches
 * the pages its RComps touch), makes the
 * directory its RComps share their translations in (engine jit:
 * exec/jit_cache.h; removed at STOP) and starts
 * its RComps (sched/rcomps.h, rcomp_process_start), each numbered by its
 * place (0..n-1) and a generation that grows each time the place gets a
 * new process, so that a message from or for a dead process is recognised
 * and dropped.  STOP ends the program: RComps killed, store gone.
 *
 * Relaying translates frame ids, in both directions:
 *   DISPATCH   each prefetch entry names a page version (page, epoch);
 *              the node's page cache (pcache.h) has it, or the versions
 *              the node homes do, or it is fetched from its home, backup
 *              or the master (nhome.h) and the dispatch waits, behind the
 *              RComp's earlier ones; the RComp is told the cached frame,
 *              referenced until the runner's result
 *   FRAMES     each granted master frame gets a local frame standing for
 *              it; the RComp writes new page versions there
 *   PAGE_RESP  the version's data, cached like a fetched one
 *   RESULT     every change, and every frame of its output, names a frame
 *              granted to that RComp (checked); the master's frame
 *              replaces it and the frame's data goes along (the changes'
 *              pages, then the output's, in order: the last 256 in the
 *              record, any before in FRAMES records ahead of it, 256
 *              pages each, so no message grows with a commit); the local
 *              frames are free again
 * Every other message names no frame and passes unchanged (a new message
 * that names frames needs its translation here).
 * A process that dies, or breaks the protocol, is replaced at once (next
 * generation); its frames return to the store.  The master learns of it
 * from the new generation and runs its runners elsewhere.
 *
 * A master lost after the node joined it is tried again, with a backoff
 * from NODE_BACKOFF_MIN_MS doubling to NODE_BACKOFF_MAX_MS, for
 * cfg.reconnect_s: a master restarted with its saved state (dvm master
 * --state) gets its nodes back and gives them runners as to any node that
 * joins.  The program the node had is gone with the old connection.
 * Signs of life: something goes to the master at least every CMSG_PING_MS
 * (the transport's keepalive, an empty PING, when nothing else does), so
 * the master can tell a silent node (a cut link) from an idle one; the
 * master PINGs the node as often, and a master silent for the heartbeat
 * bound (--heartbeat) is gone: the node ends (status 2), as when the
 * endpoint fails.  That is how a node that the master gave up during a
 * cut link learns of it.  The keepalives go at every turn of the
 * transport, and the node turns it inside its long steps too (starting
 * RComps, waiting for an RComp to take a message, pacing a large result):
 * the master gives a node up after well under a second of silence
 * (CMSG_NODE_SILENT_MS), so no step of the node may keep them back that
 * long.
 *
 * Leaving (SIGTERM or SIGINT; a second one ends the node at once): the
 * node asks the master (LEAVE ASK), which dispatches nothing more to it
 * and answers ACK; the RComps finish what they were sent (at most
 * --drain-wait, CMSG_LEAVE_WAIT_MS by default), their results go up, and
 * the node says DONE with the
 * count of runners it gives back unfinished, stops its RComps, and exits
 * once the master closed it (status 0).  DRAIN from the master (an
 * operator's dvm node --drain) starts the same way out.
 */
#define _GNU_SOURCE
#include "dist/node.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster/transport.h"
#include "cluster/wire.h"
#include "dist/cmsg.h"
#include "dist/linkcost.h"
#include "dist/nhome.h"
#include "dist/ninput.h"
#include "dist/pcache.h"
#include "dist/stall.h"
#include "exec/jit.h"
#include "exec/jit_cache.h"
#include "image/image.h"
#include "image/inpage.h"
#include "mem/store.h"
#include "net/claim.h"
#include "net/conn.h"
#include "sched/rcb.h"
#include "sched/rcomps.h"
#include "util/alloc.h"
#include "util/spin.h"
#include "util/clock.h"
#include "util/memfd.h"
#include "util/le.h"
#include "util/sigstop.h"

#define NODE_STORE_FRAMES (1u << 26)
#define NODE_BACKOFF_MIN_MS 100
#define NODE_BACKOFF_MAX_MS 2000
#define NODE_KEY_NET UINT64_MAX
#define NODE_SEND_WAIT_MS 10000
/* RELAY records to the master are gathered while the node has work and
 * sent as one message before it sleeps, or at this size. */
#define NODE_BATCH_BYTES (1u << 20)
/* A RESULT's frame data goes up at most this many pages a record (1 MiB):
 * the rest in FRAMES records ahead of it, so that no message to the
 * master grows with a commit (a commit of 512 MiB of output). */
#define NODE_RECORD_PAGES 256u
/* ... and waits while more than this is on its way to the master: the
 * master receives it as fast as it copies it into its frames, instead of
 * queueing a whole commit's data in its transport. */
#define NODE_AHEAD_UNSENT (4u << 20)
#define NODE_AHEAD_WAIT_MS 100
/* The page cache's figures go to the master at most this often. */
#define NODE_STATS_MS 250
#define NODE_STATS_NS (NODE_STATS_MS * 1000000ull)
/* Unreferenced cached pages kept at most (256 MiB). */
#define NODE_CACHE_PAGES (1u << 16)

/* A cache entry a runner uses, until its result. */
typedef struct node_tmp {
    uint64_t rid;
    uint32_t ent;
} node_tmp;

/* A DISPATCH waiting for pages fetched from the master. */
typedef struct node_parked {
    msg_buf b;                      /* the translated message */
    uint32_t *ents;                 /* the entries it waits for */
    size_t nents;
    size_t nrun;                    /* its runners (the newest of rid[]) */
    uint64_t t_ns;                  /* when it was parked */
} node_parked;

/* The owner of cache entries held for runners taken back from a parked
 * dispatch (node_tmp.rid): let go once no dispatch is parked, never
 * before -- a parked dispatch waits for its entries to be filled, and an
 * entry let go may be evicted, its slot reused for another page, and the
 * dispatch left waiting for a fill that never comes. */
#define NODE_RID_UNPARK UINT64_MAX

typedef struct node_rc {
    pid_t pid;
    uint64_t gen;
    conn ctl, page;
    uint64_t rid[RCB_RING_MAX];     /* dispatched, oldest first */
    uint32_t seq[RCB_RING_MAX];     /* their numbers on the claim board */
    size_t nrid;
    uint32_t claim_next;            /* the next runner's number there */
    node_tmp *tmp;                  /* cached pages used until a result */
    size_t ntmp, captmp;
    node_parked *park;              /* dispatches waiting, in order */
    size_t npark, cappark;
    size_t nunpark;                 /* tmp[] entries of NODE_RID_UNPARK */
    uint64_t req_page;              /* of the page request in flight */
    int page_wait;                  /* its answer waits for page_ent */
    uint32_t page_ent;
    int in_wait;                    /* its answer waits for input page */
    uint64_t in_page;
    uint64_t in_asked;              /* input pages asked of the master
                                       for its current runner (the oldest
                                       of rid[]): its RESULT says it */
    uint32_t *granted;              /* local frames granted, unused */
    size_t ngranted, capgranted;
} node_rc;

typedef struct node {
    node_config cfg;
    transport *t;
    uint64_t master;
    int up, down;
    int epfd;
    uint64_t run;
    int running;
    cmsg_start rule;                /* the program's START: its flags
                                       alone (what keeps data) */
    mem_store *store;
    pcache pc;
    linkcost_link link;             /* its link to the master, timed
                                       (this program's) */
    uint32_t *l2m;                  /* local frame -> master frame */
    uint16_t *owner;                /* local frame -> rcomp + 1 */
    int image_fd;
    int claim_fd;                   /* the RComps' claim boards (net/
                                       claim.h), one each; -1: none */
    claim_board *claims;
    uint64_t park_hold_ns;          /* test hook (DVM_TEST_PARK_MS=N):
                                       every dispatch is parked, N ms at
                                       least, as behind a slow link */
    dvm_program *prog;
    char engine[8];
    char *jit_cache;                /* the program's shared translations
                                       (exec/jit_cache.h), or NULL */
    ninput inputs;                  /* the input pages that came from
                                       the master (ninput.h) */
    node_rc *rc;
    msg_buf out, rel, tmpb;
    msg_buf batch;                  /* RELAY records not sent yet */
    status_first fatal;         /* the first fatal error: the loop stops */
    nhome home;                     /* versions homed here; fetching */
    char addr[CMSG_MAX_ADDR];       /* where it serves other nodes */
    cmsg_node_stats stats_sent;     /* figures last reported */
    pcache_waits waits;             /* fetch waits, since it joined */
    uint64_t stats_ns;              /* when */
    int leave;                      /* NODE_LEAVE_* */
    uint64_t leave_ns;              /* when it asked to leave */
    int drain;                      /* the master said DRAIN */
} node;

/* Leaving, step by step. */
enum {
    NODE_LEAVE_NO,                  /* not leaving */
    NODE_LEAVE_ASKED,               /* ASK sent, waiting for ACK */
    NODE_LEAVE_ACKED,               /* nothing more comes: finishing */
    NODE_LEAVE_DONE                 /* DONE sent, waiting to be closed */
};
/* Waiting for the master to close a node that said DONE, at most. */
#define NODE_CLOSE_WAIT_MS 5000

static volatile sig_atomic_t node_signals;   /* SIGTERM/SIGINT seen */

static void node_on_signal(int sig)
{
    (void)sig;
    if (node_signals < 2)
        node_signals++;
}

/* Sends a message to the master now.  A send that UCX refuses (the
 * endpoint failed: a node given up by the master's heartbeat bound finds
 * so when it runs again, often before the DOWN event) loses the master
 * as DOWN would, so that the node tries to reach it again
 * (--reconnect) instead of ending. */
static dvm_status send_now(node *n, uint16_t type, const msg_buf *b)
{
    if (b->oom)
        return status_set(DVM_ENOMEM, "out of memory encoding a message");
    dvm_status st = transport_send(n->t, n->master, type, b->p, b->len);
    if (st == DVM_EIO)
        n->down = 1;
    return st;
}

/* Sends the RELAY records gathered so far as one message, then the
 * changes of its results to their homes: the master hears of a result
 * first (the commit waits for its verdict), and a holder whose APPLY
 * overtakes the changes waits for them. */
static dvm_status node_flush(node *n)
{
    dvm_status st = DVM_OK;
    nhome_flush_deltas(&n->home);
    if (n->batch.len) {
        st = send_now(n, WIRE_RELAY, &n->batch);
        mb_reset(&n->batch);
    }
    return st;
}

/* Sends a message to the master after the RELAY records before it. */
static dvm_status node_send_master(node *n, uint16_t type, const msg_buf *b)
{
    dvm_status st = node_flush(n);
    return st ? st : send_now(n, type, b);
}

/* The node's clock: CLOCK_MONOTONIC and the configured skew. */
static uint64_t node_clock(const node *n)
{
    return clock_now_ns() + (uint64_t)n->cfg.clock_skew_ns;
}

/* CLOCK_PING: answered at once with when it came and when the pong left. */
static dvm_status from_master_clock(node *n, const uint8_t *p, size_t len)
{
    cmsg_clock c = { 0, node_clock(n), 0 };
    dvm_status st = cmsg_decode_clock_ping(p, len, &c.seq);
    if (!st)
        st = node_flush(n);     /* the records before it go first */
    if (st)
        return st;
    mb_reset(&n->rel);
    c.t2 = node_clock(n);
    cmsg_encode_clock_pong(&n->rel, &c);
    return send_now(n, WIRE_CLOCK_PONG, &n->rel);
}

/* JOIN: the RComp count and the node's name (given, or the host's); then
 * NODE_ADDR when it serves homed versions. */
static dvm_status node_join(node *n)
{
    char host[CMSG_MAX_NODE_NAME + 1];
    const char *name = n->cfg.name;
    if (!name) {
        if (gethostname(host, sizeof host) < 0)
            host[0] = '\0';
        host[sizeof host - 1] = '\0';
        name = cmsg_node_name_ok(host, strlen(host)) ? host : "node";
    }
    cmsg_join j = { (uint64_t)n->cfg.nrcomps,
                    { (const uint8_t *)name, strlen(name) } };
    mb_reset(&n->rel);
    cmsg_encode_join(&n->rel, &j);
    dvm_status st = node_send_master(n, WIRE_JOIN, &n->rel);
    if (st || !n->addr[0])
        return st;
    mb_reset(&n->rel);
    cmsg_encode_addr(&n->rel, n->addr, strlen(n->addr));
    return node_send_master(n, WIRE_NODE_ADDR, &n->rel);
}

/* ---- frames ---------------------------------------------------------------- */

static dvm_status frame_new(node *n, uint32_t *f)
{
    if (store_alloc(n->store, f))
        return status_set(DVM_ENOMEM, "the node's frame store is full");
    return DVM_OK;
}

/* Runner rid of r uses cache entry (page, epoch): one more reference,
 * *frame its frame, *idx the entry; *wait when its data is not here. */
static dvm_status tmp_get(node *n, node_rc *r, uint64_t rid, uint64_t page,
                          uint64_t epoch, uint32_t *idx, int *created)
{
    node_tmp *t = dvm_grow(r->tmp, &r->captmp, r->ntmp + 1, sizeof *t);
    if (!t)
        return status_set(DVM_ENOMEM, "out of memory");
    r->tmp = t;
    dvm_status st = pcache_get(&n->pc, page, epoch, idx, created);
    if (!st)
        r->tmp[r->ntmp++] = (node_tmp){ rid, *idx };
    return st;
}

/* Drops the cache references of runner rid (all when all is set). */
static void tmp_release(node *n, node_rc *r, uint64_t rid, int all)
{
    size_t w = 0;
    for (size_t i = 0; i < r->ntmp; i++) {
        if (all || r->tmp[i].rid == rid)
            pcache_put(&n->pc, r->tmp[i].ent);
        else
            r->tmp[w++] = r->tmp[i];
    }
    r->ntmp = w;
}

static void park_free(node_rc *r)
{
    for (size_t i = 0; i < r->npark; i++) {
        mb_free(&r->park[i].b);
        dvm_free(r->park[i].ents);
    }
    r->npark = 0;
}

/* Frees the frames granted to r and not used. */
static void granted_release(node *n, node_rc *r, uint16_t owner)
{
    for (size_t i = 0; i < r->ngranted; i++)
        if (n->owner[r->granted[i]] == owner) {
            n->owner[r->granted[i]] = 0;
            store_release(n->store, r->granted[i]);
        }
    r->ngranted = 0;
}

/* ---- RComp processes --------------------------------------------------------- */

static dvm_status epoll_add(node *n, int fd, uint64_t key)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = key };
    if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return status_set_errno(DVM_ESYS, "epoll_ctl");
    return DVM_OK;
}

static dvm_status rc_spawn(node *n, int i)
{
    node_rc *r = &n->rc[i];
    rcomp_spawn_spec sp = { n->cfg.rcomp_exe, n->engine, store_fd(n->store),
                            NODE_STORE_FRAMES, n->image_fd, n->prog, NULL,
                            0, 0, n->jit_cache, n->inputs.win_path,
                            n->inputs.map_path,
                            n->claims ? n->claim_fd : 0, 0,
                            0 /* no queue: results ring the node anyway */,
                            0 /* no local children: the node does not
                                 relay their results */ };
    int ctl, page;
    if (n->claims) {            /* a new process numbers from 0 */
        claim_reset(&n->claims[i]);
        r->claim_next = 0;
    }
    shmq *q;                    /* ctl through shared memory (net/shmq.h) */
    dvm_status st = shmq_create(SHMQ_CAP_DEFAULT, &sp.queue_fd, &q);
    if (st)
        return st;
    st = rcomp_process_start(&sp, i, &r->pid, &ctl, &page);
    close(sp.queue_fd);
    if (st) {
        shmq_close(q);
        return st;
    }
    conn_init(&r->ctl, ctl);
    conn_attach_shmq(&r->ctl, q, 1);
    conn_init(&r->page, page);
    transport_tick(n->t);           /* starting RComps takes a while */
    r->gen++;
    st = epoll_add(n, ctl, (uint64_t)i << 1);
    if (!st)
        st = epoll_add(n, page, (uint64_t)i << 1 | 1);
    return st;
}

/* Kills and reaps place i's process and frees what it held. */
static void rc_kill(node *n, int i)
{
    node_rc *r = &n->rc[i];
    rcomp_process_stop(n->epfd, &r->ctl, &r->page, &r->pid);
    r->page_wait = r->in_wait = 0;
    r->in_asked = 0;
    park_free(r);
    tmp_release(n, r, 0, 1);
    r->nunpark = 0;
    granted_release(n, r, (uint16_t)(i + 1));
    r->nrid = 0;
}

/* Place i gets a new process (the next generation). */
static dvm_status rc_replace(node *n, int i, const char *why)
{
    fprintf(stderr, "dvm node: rcomp %d lost (%s); replacing it\n", i, why);
    rc_kill(n, i);
    return rc_spawn(n, i);
}

/* Waits up to ms for fd to take more (1) or not (0), turning the
 * transport meanwhile: the master must keep hearing the node. */
static int rc_wait_out(node *n, int fd, int ms)
{
    for (int waited = 0; waited < ms; waited += CMSG_PING_MS / 2) {
        struct pollfd w = { .fd = fd, .events = POLLOUT };
        int k = poll(&w, 1, CMSG_PING_MS / 2);
        if (k != 0)
            return k > 0;
        transport_tick(n->t);
    }
    return 0;
}

/* Writes b to c: into its queue, where what does not fit waits in the
 * conn (node_on_queues moves it on); to a socket, waiting a bounded time
 * when it is full. */
static dvm_status rc_send(node *n, conn *c, const msg_buf *b)
{
    if (b->oom)
        return status_set(DVM_ENOMEM, "out of memory encoding a message");
    if (c->q)
        return conn_send(c, b);
    size_t off = 0;
    while (off < b->len) {
        ssize_t k = send(c->fd, b->p + off, b->len - off, MSG_NOSIGNAL);
        if (k > 0) {
            off += (size_t)k;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && errno == EAGAIN &&
            rc_wait_out(n, c->fd, NODE_SEND_WAIT_MS))
            continue;
        return status_set(DVM_ECLOSED, "the RComp does not take messages");
    }
    return DVM_OK;
}

/* ---- program start and stop -------------------------------------------------- */

static void node_stop(node *n)
{
    if (!n->running)
        return;
    for (int i = 0; i < n->cfg.nrcomps; i++) {
        rc_kill(n, i);
        dvm_free(n->rc[i].tmp);
        dvm_free(n->rc[i].park);
        dvm_free(n->rc[i].granted);
    }
    dvm_free(n->rc);
    n->rc = NULL;
    if (n->claims) {
        claim_boards_unmap(n->claims, n->cfg.nrcomps);
        close(n->claim_fd);
    }
    n->claims = NULL;
    n->claim_fd = -1;
    if (n->image_fd >= 0)
        close(n->image_fd);
    n->image_fd = -1;
    program_free(n->prog);
    n->prog = NULL;
    jit_cache_dir_remove(n->jit_cache);
    dvm_free(n->jit_cache);
    n->jit_cache = NULL;
    nhome_stop(&n->home);
    ninput_stop(&n->inputs);
    pcache_destroy(&n->pc);
    store_destroy(n->store);
    n->store = NULL;
    munmap(n->l2m, (size_t)NODE_STORE_FRAMES * sizeof *n->l2m);
    munmap(n->owner, (size_t)NODE_STORE_FRAMES * sizeof *n->owner);
    n->running = 0;
}

static void *map_table(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static dvm_status node_start(node *n, const uint8_t *p, size_t len)
{
    cmsg_start s;
    dvm_status st = cmsg_decode_start(p, len, &s);
    if (st)
        return st;
    node_stop(n);
    linkcost_link_reset(&n->link);
    n->running = 1;
    n->run = s.run;
    n->rule = (cmsg_start){ .flags = s.flags };
    memcpy(n->engine, s.engine.p, (size_t)s.engine.len);
    n->engine[s.engine.len] = '\0';
    if ((st = image_parse(s.image.p, (size_t)s.image.len, &n->prog)) ||
        (st = memfd_from_bytes("dvm-image", s.image.p, (size_t)s.image.len,
                         &n->image_fd)) ||
        (st = store_create(NODE_STORE_FRAMES, &n->store)) ||
        (st = pcache_init(&n->pc, n->store, NODE_CACHE_PAGES)) ||
        (st = nhome_start(&n->home, s.run, n->store, &n->pc,
                          (s.flags & CMSG_START_MASKS_ONLY) != 0)) ||
        (st = ninput_start(&n->inputs)))
        return st;
    n->pc.waits = &n->waits;       /* counted across programs */
    n->l2m = map_table((size_t)NODE_STORE_FRAMES * sizeof *n->l2m);
    n->owner = map_table((size_t)NODE_STORE_FRAMES * sizeof *n->owner);
    n->rc = dvm_calloc((size_t)n->cfg.nrcomps, sizeof *n->rc);
    if (!n->l2m || !n->owner || !n->rc)
        return status_set(DVM_ENOMEM, "out of memory");
    if (!strcmp(n->engine, "jit") && jit_available() &&
        jit_cache_dir_make(&n->jit_cache))  /* the RComps share: 1 LLVM */
        fprintf(stderr, "dvm node: %s; each RComp translates alone\n",
                status_message());
    if (n->cfg.nrcomps > 0 &&     /* a node that only homes has none */
        claim_boards_create(n->cfg.nrcomps, &n->claim_fd, &n->claims)) {
        fprintf(stderr, "dvm node: %s; runners sent here stay here\n",
                status_message());
        n->claims = NULL;
        n->claim_fd = -1;
    }
    stall_once("dvm node", n->t);  /* a test's slow start (stall.h) */
    for (int i = 0; i < n->cfg.nrcomps && !st; i++) {
        conn_init(&n->rc[i].ctl, -1);
        conn_init(&n->rc[i].page, -1);
        st = rc_spawn(n, i);
    }
    return st;
}

/* ---- master -> RComp ------------------------------------------------------------ */

/* Sends r's parked dispatches whose pages have all arrived, in order. */
static dvm_status park_drain(node *n, int i)
{
    node_rc *r = &n->rc[i];
    while (r->npark) {
        node_parked *p = &r->park[0];
        for (size_t k = 0; k < p->nents; k++)
            if (!n->pc.e[p->ents[k]].filled)
                return DVM_OK;
        if (n->park_hold_ns && clock_now_ns() - p->t_ns < n->park_hold_ns)
            return DVM_OK;
        dvm_status st = rc_send(n, &r->ctl, &p->b);
        mb_free(&p->b);
        dvm_free(p->ents);
        memmove(r->park, r->park + 1, (r->npark - 1) * sizeof *r->park);
        r->npark--;
        if (st)
            return rc_replace(n, i, "cannot send to it");
    }
    if (r->nunpark)
        tmp_release(n, r, NODE_RID_UNPARK, 0);
    r->nunpark = 0;
    return DVM_OK;
}

/* Parks the dispatch in n->out of nrun runners behind r's others,
 * waiting for ents. */
static dvm_status park_add(node_rc *r, const msg_buf *b, uint32_t *ents,
                           size_t nents, size_t nrun)
{
    node_parked *p = dvm_grow(r->park, &r->cappark, r->npark + 1, sizeof *p);
    if (!p)
        return status_set(DVM_ENOMEM, "out of memory");
    r->park = p;
    p = &r->park[r->npark];
    mb_init(&p->b);
    mb_bytes(&p->b, b->p, b->len);
    if (p->b.oom)
        return status_set(DVM_ENOMEM, "out of memory");
    p->ents = ents;
    p->nents = nents;
    p->nrun = nrun;
    p->t_ns = clock_now_ns();
    r->npark++;
    return DVM_OK;
}

/* This node's frame of version (page, epoch) for a runner's list of
 * changed pages (MSG_RUNNER_KEEP_FRAMES), held for runner rid like its
 * prefetched versions; MSG_FRAME_NONE when the cache does not hold it
 * filled (the RComp then drops the page: nothing is fetched for it). */
static uint32_t keep_frame(node *n, node_rc *r, uint64_t rid, uint64_t page,
                           uint64_t epoch)
{
    uint32_t idx;
    int created;
    if (!epoch)
        return 0;                       /* zeros */
    if (!pcache_find(&n->pc, page, epoch, &idx))
        return MSG_FRAME_NONE;
    if (tmp_get(n, r, rid, page, epoch, &idx, &created)) {
        status_clear();
        return MSG_FRAME_NONE;
    }
    assert(!created && n->pc.e[idx].filled);
    return n->pc.e[idx].frame;
}

/* The master's frames in the runners' lists of changed pages replaced by
 * this node's (vers: the versions, in the order of the runners' lists). */
static void keep_frames(node *n, node_rc *r, msg_dispatch *d,
                        const uint8_t *vers)
{
    size_t k = 0;
    for (uint32_t j = 0; j < d->n; j++)
        for (uint32_t q = 0; d->r[j].flags & MSG_RUNNER_KEEP_FRAMES &&
                             q < d->r[j].ninval; q++, k++)
            d->r[j].inval_frame[q] = keep_frame(n, r, d->r[j].rid,
                d->r[j].inval[q], le_ld64(vers + 8 * k));
}

/* DISPATCH: each prefetch entry names a version (page, epoch); cached
 * ones are used at once, the others are fetched from the master and the
 * dispatch waits for them (behind the RComp's earlier ones); the
 * versions of its runners' lists of changed pages follow (keep_frames). */
static dvm_status relay_dispatch(node *n, int i, const cmsg_relay *m)
{
    node_rc *r = &n->rc[i];
    msg_dispatch d;
    dvm_status st = msg_decode_dispatch(m->msg, m->len, &d);
    if (st)
        return st;
    uint64_t k = 0, kinv = 0;
    for (uint32_t j = 0; j < d.n; j++) {
        k += d.r[j].npre;
        if (d.r[j].flags & MSG_RUNNER_KEEP_FRAMES)
            kinv += d.r[j].ninval;
    }
    uint32_t *ents = dvm_calloc(k + 1, sizeof *ents);
    uint64_t *want = dvm_calloc(2 * k + 1, sizeof *want);
    size_t nwant = 0, nwait = 0;
    if (!ents || !want)
        st = status_set(DVM_ENOMEM, "out of memory");
    else if (k + kinv != m->nver || m->npages ||
             r->nrid + d.n > RCB_RING_MAX)
        st = status_set(DVM_EPROTO, "dispatch: versions or runners do not "
                        "match");
    if (!st)
        keep_frames(n, r, &d, m->ver + 8 * k);
    k = 0;
    for (uint32_t j = 0; j < d.n && !st; j++) {
        for (uint32_t q = 0; q < d.r[j].npre && !st; q++, k++) {
            msg_prefetch *pre = &d.r[j].pre[q];
            uint64_t epoch = le_ld64(m->ver + 8 * k);
            int created;
            st = tmp_get(n, r, d.r[j].rid, pre->page, epoch, &ents[k],
                         &created);
            if (st)
                break;
            pre->frame = n->pc.e[ents[k]].frame;
            if (created && !nhome_local(&n->home, pre->page, epoch)) {
                want[2 * nwant] = pre->page;
                want[2 * nwant++ + 1] = epoch;
            }
            /* ents[0, nwait): the entries still to be filled, compacted
             * in place (nwait <= k: no entry is overwritten unread). */
            if (!n->pc.e[ents[k]].filled)
                ents[nwait++] = ents[k];
        }
    }
    int sent = 0;                   /* delivered, or parked behind others */
    uint32_t seq0 = r->claim_next;
    for (uint32_t j = 0; !st && n->claims && j < d.n; j++)
        claim_offer(&n->claims[i], r->claim_next++);  /* before it is sent */
    if (!st) {
        mb_reset(&n->out);
        msg_encode_dispatch(&n->out, &d);
        if (nwait || r->npark || n->park_hold_ns) {
            st = park_add(r, &n->out, ents, nwait, d.n);
            ents = NULL;
            sent = !st;
        } else if (rc_send(n, &r->ctl, &n->out)) {
            st = rc_replace(n, i, "cannot send to it");     /* a new RComp */
        } else {
            sent = 1;
        }
    }
    /* The runners enter the ring (the order of their results) once their
     * dispatch is on its way to this RComp, not before. */
    for (uint32_t j = 0; sent && j < d.n; j++) {
        r->seq[r->nrid] = seq0 + j;
        r->rid[r->nrid++] = d.r[j].rid;
    }
    if (!st && nwant)
        st = nhome_fetch(&n->home, want, nwant);
    dvm_free(ents);
    dvm_free(want);
    msg_dispatch_free(&d);
    return st;
}

static dvm_status node_filled(node *n);
static dvm_status page_answer(node *n, int i, uint64_t local);

/* ---- input pages --------------------------------------------------------------
 * A program's inputs stay with the master (START carries none): the node
 * keeps the input pages its RComps read in n->inputs (ninput.h),
 * where the RComps read them themselves; an RComp asks (PAGE_REQ) only
 * for a page not there yet, and its answer (PAGE_RESP 0: "read it now")
 * waits until the page came from the master. */

/* RComp i asks for input page `page`. */
static dvm_status input_ask(node *n, int i, uint64_t page)
{
    node_rc *r = &n->rc[i];
    if (ninput_present(&n->inputs, page))
        return page_answer(n, i, 0);
    r->in_wait = 1;
    r->in_page = page;
    uint64_t want[2 * NINPUT_AHEAD];
    size_t k = ninput_ask(&n->inputs, page, want);
    if (!k)
        return DVM_OK;          /* asked before: on its way */
    r->in_asked += k;
    linkcost_asked(&n->link, want[0], (uint32_t)k, clock_now_ns());
    mb_reset(&n->tmpb);
    cmsg_encode_fetch(&n->tmpb, n->run, want, k, 2, NULL, 0);
    if (n->tmpb.oom)
        return status_set(DVM_ENOMEM, "out of memory");
    return node_send_master(n, WIRE_FETCH, &n->tmpb);
}

/* An input page of a FETCHED (data: NULL when it came without): into
 * n->inputs. */
static dvm_status input_came(node *n, uint64_t page, const uint8_t *data)
{
    if (!data)
        return status_set(DVM_EPROTO, "fetched: input page %#" PRIx64
                          " without its data", page);
    return ninput_present(&n->inputs, page)
           ? DVM_OK : ninput_fill(&n->inputs, page, data);
}

/* FETCHED: the versions asked for; parked dispatches may go. */
static dvm_status from_master_fetched(node *n, const uint8_t *p, size_t len)
{
    cmsg_fetch f;
    dvm_status st = cmsg_decode_fetch(p, len, 3, &f);
    if (st || !n->running || f.run != n->run)
        return st;
    uint64_t k = 0;
    if (f.n && le_ld64(f.ent + 8) == CMSG_EPOCH_INPUT)  /* input_ask's */
        linkcost_answered(&n->link, le_ld64(f.ent), clock_now_ns());
    for (uint64_t j = 0; j < f.n && !st; j++) {
        uint64_t page = le_ld64(f.ent + 24 * j);
        uint64_t epoch = le_ld64(f.ent + 24 * j + 8);
        int present = (int)le_ld64(f.ent + 24 * j + 16);
        uint64_t want[2] = { page, epoch };
        if (epoch == CMSG_EPOCH_INPUT)
            st = input_came(n, page, present == 1
                                     ? f.pages + CMSG_PAGE * k++ : NULL);
        else if (present == CMSG_AT_HOMES)  /* they have it by now: again */
            st = nhome_fetch(&n->home, want, 1);
        else
            pcache_fill(&n->pc, page, epoch,
                        present == 1 ? f.pages + CMSG_PAGE * k++ : NULL);
    }
    return st ? st : node_filled(n);
}

/* FRAMES: a local frame for each master frame granted. */
static dvm_status relay_frames(node *n, int i, const cmsg_relay *m)
{
    node_rc *r = &n->rc[i];
    uint32_t *ids;
    size_t k;
    dvm_status st = msg_decode_frames(m->msg, m->len, &ids, &k);
    if (st)
        return st;
    uint32_t *g = dvm_grow(r->granted, &r->capgranted, r->ngranted + k,
                           sizeof *g);
    if (!g)
        st = status_set(DVM_ENOMEM, "out of memory");
    else
        r->granted = g;
    for (size_t j = 0; j < k && !st; j++) {
        uint32_t f;
        if ((st = frame_new(n, &f)))
            break;
        n->l2m[f] = ids[j];
        n->owner[f] = (uint16_t)(i + 1);
        r->granted[r->ngranted++] = f;
        ids[j] = f;
    }
    if (!st) {
        mb_reset(&n->out);
        msg_encode_frames(&n->out, ids, k);
        if (rc_send(n, &r->ctl, &n->out))
            st = rc_replace(n, i, "cannot send to it");
    }
    dvm_free(ids);
    return st;
}

/* Answers r's page request with local frame `local` (0: zero page). */
static dvm_status page_answer(node *n, int i, uint64_t local)
{
    mb_reset(&n->out);
    msg_encode_u64s(&n->out, MSG_PAGE_RESP, &local, 1);
    if (rc_send(n, &n->rc[i].page, &n->out))
        return rc_replace(n, i, "cannot send to it");
    return DVM_OK;
}

/* Versions arrived: parked dispatches and waiting page requests go. */
static dvm_status node_filled(node *n)
{
    dvm_status st = DVM_OK;
    for (int i = 0; n->running && i < n->cfg.nrcomps && !st; i++) {
        node_rc *r = &n->rc[i];
        st = park_drain(n, i);
        if (!st && r->page_wait && n->pc.e[r->page_ent].filled) {
            r->page_wait = 0;
            st = page_answer(n, i, n->pc.e[r->page_ent].frame);
        }
        if (!st && r->in_wait && ninput_present(&n->inputs, r->in_page)) {
            r->in_wait = 0;
            st = page_answer(n, i, 0);
        }
    }
    return st;
}

/* PAGE_RESP: the page's data into a local frame.  A version whose data
 * the master gave away comes without it: it is fetched from its home
 * (nhome.h) and the answer waits for it. */
static dvm_status relay_page(node *n, int i, const cmsg_relay *m)
{
    node_rc *r = &n->rc[i];
    uint64_t f;
    dvm_status st = msg_decode_u64s(m->msg, m->len, &f, 1);
    if (st)
        return st;
    if (m->npages > (f != 0) || m->nver != (f != 0))
        return status_set(DVM_EPROTO, "page response without its page");
    if (!f)
        return page_answer(n, i, 0);
    uint64_t epoch = le_ld64(m->ver);
    uint32_t idx;
    int created;
    if ((st = tmp_get(n, r, r->nrid ? r->rid[0] : 0, r->req_page, epoch,
                      &idx, &created)))
        return st;
    if (m->npages)
        pcache_fill(&n->pc, r->req_page, epoch, m->pages);
    else if (created && !nhome_local(&n->home, r->req_page, epoch)) {
        uint64_t want[2] = { r->req_page, epoch };
        st = nhome_fetch(&n->home, want, 1);
    }
    r->page_wait = 1;
    r->page_ent = idx;
    return st ? st : node_filled(n);
}

static dvm_status relay_up(node *n, int i, int page, uint32_t type,
                           const uint8_t *p, size_t len,
                           const uint64_t *fig, size_t nfig,
                           const uint8_t *const *pages, size_t npages);

/* 1 when the newest runner of r's ring is in a parked dispatch (the
 * newest dispatches are the parked ones): it is counted out of it. */
static int newest_parked(node_rc *r)
{
    for (size_t j = r->npark; j-- > 0;)
        if (r->park[j].nrun) {
            r->park[j].nrun--;
            return 1;
        }
    return 0;
}

/* The cache entries held for runner rid, taken back from a parked
 * dispatch, are let go once no dispatch is parked (NODE_RID_UNPARK). */
static void tmp_unpark(node_rc *r, uint64_t rid)
{
    for (size_t i = 0; i < r->ntmp; i++)
        if (r->tmp[i].rid == rid) {
            r->tmp[i].rid = NODE_RID_UNPARK;
            r->nunpark++;
        }
}

/* TAKE_BACK: up to the asked number of place i's runners its RComp has
 * not started, newest first, down to the second (the oldest may be
 * running), each won on the claim board (net/claim.h); their cached
 * pages are let go -- at once, or, for a runner of a dispatch parked
 * here for its pages (the RComp skips it when the dispatch goes), once
 * no dispatch is parked.  A node behind a slow link, whose dispatches
 * wait longest for their pages, is the one most worth taking from.
 * GIVEN_BACK names them to the master, which sends nothing to this
 * RComp between the two. */
static dvm_status relay_take_back(node *n, int i, const cmsg_relay *m)
{
    node_rc *r = &n->rc[i];
    uint64_t want, rid[MSG_GIVEN_BACK_MAX];
    size_t k = 0;
    if (m->page || m->nver || m->npages ||
        msg_decode_u64s(m->msg, m->len, &want, 1))
        return status_set(DVM_EPROTO, "bad take back");
    while (n->claims && k < want && k < MSG_GIVEN_BACK_MAX &&
           r->nrid > 1 && claim_take(&n->claims[i], r->seq[r->nrid - 1])) {
        rid[k++] = r->rid[--r->nrid];
        if (newest_parked(r))
            tmp_unpark(r, rid[k - 1]);
        else
            tmp_release(n, r, rid[k - 1], 0);
    }
    msg_buf b;
    mb_init(&b);
    msg_encode_given_back(&b, rid, k);
    dvm_status st = b.oom ? status_set(DVM_ENOMEM, "out of memory")
                  : relay_up(n, i, 0, MSG_GIVEN_BACK, b.p + MSG_HEADER_SIZE,
                             b.len - MSG_HEADER_SIZE, NULL, 0, NULL, 0);
    mb_free(&b);
    return st;
}

/* Any other message names no frame: it goes to the RComp's control
 * socket unchanged (the RComp judges it as from a local master). */
static dvm_status relay_down(node *n, int i, const cmsg_relay *m)
{
    if (m->page || m->nver || m->npages)
        return status_set(DVM_EPROTO, "relay of message type %u with pages",
                          (unsigned)m->type);
    mb_reset(&n->out);
    size_t at = mb_begin(&n->out, m->type);
    mb_bytes(&n->out, m->msg, m->len);
    mb_end(&n->out, at);
    if (rc_send(n, &n->rc[i].ctl, &n->out))
        return rc_replace(n, i, "cannot send to it");
    return DVM_OK;
}

/* One record of a RELAY from the master (a cmsg_batch_fn; arg: the node). */
static dvm_status from_master_relay(void *arg, const uint8_t *p, size_t len)
{
    node *n = arg;
    cmsg_relay m;
    dvm_status st = cmsg_decode_relay(p, len, &m);
    if (st)
        return st;
    if (!n->running || m.run != n->run)
        return DVM_OK;                  /* for a program that ended */
    if (m.rcomp >= (uint64_t)n->cfg.nrcomps)
        return status_set(DVM_EPROTO, "relay for rcomp %" PRIu64 " of %d",
                          m.rcomp, n->cfg.nrcomps);
    int i = (int)m.rcomp;
    if (m.gen != n->rc[i].gen)
        return DVM_OK;                  /* for a process that is gone */
    switch (m.type) {
    case MSG_DISPATCH:
        return relay_dispatch(n, i, &m);
    case MSG_FRAMES:
        return relay_frames(n, i, &m);
    case MSG_PAGE_RESP:
        return relay_page(n, i, &m);
    case MSG_TAKE_BACK:
        return relay_take_back(n, i, &m);
    default:
        return relay_down(n, i, &m);
    }
}

static dvm_status from_master_kill(node *n, const uint8_t *p, size_t len)
{
    uint64_t v[2];
    dvm_status st = cmsg_decode_u64s(p, len, v, 2);
    if (st || !n->running || v[0] >= (uint64_t)n->cfg.nrcomps ||
        v[1] != n->rc[v[0]].gen)
        return st;
    return rc_replace(n, (int)v[0], "the master refused it");
}

/* LEAVE from the master: only ACK, which ends what was dispatched. */
static dvm_status from_master_leave(node *n, const uint8_t *p, size_t len)
{
    cmsg_leave l;
    dvm_status st = cmsg_decode_leave(p, len, &l);
    if (!st && l.step != CMSG_LEAVE_ACK)
        st = status_set(DVM_EPROTO, "leave step %llu from the master",
                        (unsigned long long)l.step);
    if (!st && n->leave == NODE_LEAVE_ASKED)
        n->leave = NODE_LEAVE_ACKED;
    return st;
}

/* DRAIN from the master: the node leaves as on SIGTERM. */
static dvm_status from_master_drain(node *n, const uint8_t *p, size_t len)
{
    cmsg_str name;
    dvm_status st = cmsg_decode_drain(p, len, &name);
    if (!st && !n->drain && !node_signals)
        fprintf(stderr, "dvm node: the master asks this node (%.*s) to "
                "leave\n", (int)name.len, (const char *)name.p);
    if (!st)
        n->drain = 1;
    return st;
}

/* 1 once the node is to leave (a signal, or DRAIN). */
static int node_leaving(const node *n)
{
    return node_signals || n->drain;
}

static dvm_status from_master(node *n, uint16_t type, const uint8_t *p,
                              size_t len)
{
    uint64_t run;
    switch (type) {
    case WIRE_PING:
        return DVM_OK;
    case WIRE_LEAVE:
        return from_master_leave(n, p, len);
    case WIRE_DRAIN:
        return from_master_drain(n, p, len);
    case WIRE_RELAY:
        return cmsg_batch_each(p, len, from_master_relay, n);
    case WIRE_START:    /* none after DONE: the master knows it left */
        return n->leave == NODE_LEAVE_DONE ? DVM_OK : node_start(n, p, len);
    case WIRE_STOP:
        if (cmsg_decode_u64s(p, len, &run, 1))
            return DVM_EPROTO;
        if (n->running && run == n->run)
            node_stop(n);
        return DVM_OK;
    case WIRE_KILL:
        return from_master_kill(n, p, len);
    case WIRE_FETCHED:
        return from_master_fetched(n, p, len);
    case WIRE_PEERS:
        return nhome_on_peers(&n->home, p, len);
    case WIRE_STORE:
        return nhome_on_store(&n->home, p, len);
    case WIRE_DROP:
        return nhome_on_drop(&n->home, p, len);
    case WIRE_PULL:
        return nhome_on_pull(&n->home, p, len);
    case WIRE_HFETCH:
        return nhome_on_master_fetch(&n->home, n->master, p, len);
    case WIRE_APPLY:
        return nhome_on_apply(&n->home, p, len);
    case WIRE_DDROP:
        return nhome_on_ddrop(&n->home, p, len);
    case WIRE_DRESEND:
        return nhome_on_dresend(&n->home, p, len);
    case WIRE_CLOCK_PING:
        return from_master_clock(n, p, len);
    default:
        return status_set(DVM_EPROTO, "unexpected message '%s' from the "
                          "master", wire_type_name(type));
    }
}

static void node_on_event(void *arg, transport_event *ev)
{
    node *n = arg;
    if (ev->peer != n->master) {
        dvm_status st = nhome_on_event(&n->home, ev);
        if (st)
            status_first_set(&n->fatal, st);
        return;
    }
    if (ev->kind == TRANSPORT_UP) {
        n->up = 1;
        dvm_status st = node_join(n);
        if (st)
            status_first_set(&n->fatal, st);
    } else if (ev->kind == TRANSPORT_DOWN) {
        n->down = 1;
        if (!n->up || ev->status != DVM_ECLOSED)
            status_first_set(&n->fatal,
                status_set(ev->status ? ev->status : DVM_EIO,
                           "the master %s: %s", n->up ? "is gone" :
                           "cannot be reached", ev->reason));
    } else {
        dvm_status st = from_master(n, ev->type, ev->data, ev->len);
        if (st)
            status_first_set(&n->fatal, st);
    }
}

/* ---- RComp -> master --------------------------------------------------------------- */

static dvm_status relay_up(node *n, int i, int page, uint32_t type,
                           const uint8_t *p, size_t len,
                           const uint64_t *fig, size_t nfig,
                           const uint8_t *const *pages, size_t npages)
{
    mb_reset(&n->rel);
    cmsg_encode_relay(&n->rel, n->run, (uint64_t)i, n->rc[i].gen, page, type,
                      p, len, fig, nfig, pages, npages);
    cmsg_batch_add(&n->batch, &n->rel);
    return n->batch.len >= NODE_BATCH_BYTES ? node_flush(n) : DVM_OK;
}

/* The data of the first k frames ids[] (the master's) goes up ahead of
 * the result, in FRAMES records of NODE_RECORD_PAGES pages at most: each
 * names the frames, the master copies their data in.  Paced: at most
 * NODE_AHEAD_UNSENT bytes under way at once. */
static dvm_status ship_ahead(node *n, int i, const uint32_t *ids,
                             const uint8_t **pages, size_t k)
{
    dvm_status st = DVM_OK;
    for (size_t at = 0; at < k && !st; at += NODE_RECORD_PAGES) {
        size_t m = k - at < NODE_RECORD_PAGES ? k - at : NODE_RECORD_PAGES;
        mb_reset(&n->tmpb);
        msg_encode_frames(&n->tmpb, ids + at, m);
        st = n->tmpb.oom ? status_set(DVM_ENOMEM, "out of memory")
             : relay_up(n, i, 0, MSG_FRAMES, n->tmpb.p + MSG_HEADER_SIZE,
                        n->tmpb.len - MSG_HEADER_SIZE, NULL, 0, pages + at,
                        m);
        while (!st && node_signals < 2 &&
               transport_drain(n->t, n->master, NODE_AHEAD_UNSENT,
                               NODE_AHEAD_WAIT_MS) > NODE_AHEAD_UNSENT)
            ;                   /* the master takes it as it goes */
    }
    return st;
}

/* Names result res's frames (this node's, granted to the RComp
 * `owner`) by the master's frames, in place; local[c] and pages[c] get
 * frame c's local number and data, and the frame leaves the RComp.  Returns
 * 1 when a frame is not the RComp's: those before it are translated (and
 * in local[], for the caller to release), the rest not. */
static int frames_to_master(node *n, uint16_t owner, msg_result *res,
                            uint32_t *local, const uint8_t **pages)
{
    size_t nf = msg_result_nframes(res);
    for (size_t c = 0; c < nf; c++) {
        uint32_t *fp = msg_result_frame(res, c), f = *fp;
        if (f == 0 || f >= NODE_STORE_FRAMES || n->owner[f] != owner)
            return 1;
        n->owner[f] = 0;
        local[c] = f;
        pages[c] = store_frame(n->store, f);
        *fp = n->l2m[f];
    }
    return 0;
}

/* 1 when page is the first page of a stack res's runner chose for a
 * child (rcomp/stacks.c, stack_zero): the RComp made it zeros in its
 * window whatever the page's version held, so the page it commits is
 * not that version with the changed bytes over it.  Pages of the
 * children's stacks a program chose itself are counted too (needlessly:
 * the whole page is right for them as well). */
static int kid_stack_page(const msg_result *res, uint64_t page)
{
    for (uint32_t k = 0; k < res->nkids; k++)
        if (res->kids[k].sb / DISA_PAGE == page)
            return 1;
    return 0;
}

/* The frames of result res whose data goes to the master: all of them,
 * or (CMSG_START_MASKS_ONLY) those of output and of the changes
 * cmsg_start_keeps_data names; into ids[] (the master's frames) and
 * dp[] (their data, from pages[]).  Each change without data gets
 * whole[c] set, saying what its homes make the version of when the
 * master adopts the page (it cannot check the page without its data):
 * the whole page for a child's fresh stack page (kid_stack_page), the
 * changed bytes over the base for every other (the RComp's view of it
 * was the snapshot's version: fetched, kept, or zeros for none); and,
 * when implied, its changed bytes as a bitmap in bits[] (the master
 * cannot derive them).  Returns the count. */
static size_t data_frames(const node *n, msg_result *res,
                          const uint8_t **pages, uint32_t *ids,
                          const uint8_t **dp, uint8_t *whole, uint64_t *bits)
{
    size_t nf = msg_result_nframes(res), k = 0;
    for (size_t c = 0; c < nf; c++) {
        mem_change *ch = c < res->nchanges ? &res->changes[c] : NULL;
        if (ch && !cmsg_start_keeps_data(&n->rule, ch->page)) {
            uint64_t *b = bits + DIFF_WORDS * c;
            mem_delta d = ch->nruns == DIFF_IMPLIED
                          ? diff_resolve(diff_implied(), pages[c], b)
                          : space_change_delta(ch);
            if (diff_valid(d)) {        /* else with its data, as before */
                whole[c] = kid_stack_page(res, ch->page) ? NHOME_WHOLE_PAGE
                                                         : NHOME_WHOLE_BYTES;
                *ch = space_change(ch->page, ch->frame, d);
                continue;
            }
        }
        ids[k] = *msg_result_frame(res, c);
        dp[k++] = pages[c];
    }
    return k;
}

/* RESULT: frames translated to the master's, with the pages' data (the
 * last NODE_RECORD_PAGES with it, any before ahead of it); in masks-only
 * mode only the data data_frames names. */
static dvm_status result_up(node *n, int i, const uint8_t *p, size_t len)
{
    node_rc *r = &n->rc[i];
    msg_result res;
    if (msg_decode_result(p, len, &res))
        return rc_replace(n, i, status_message());
    size_t nf = msg_result_nframes(&res);
    const uint8_t **pages = dvm_calloc(nf + 1, sizeof *pages);
    const uint8_t **dp = dvm_calloc(nf + 1, sizeof *dp);
    uint32_t *local = dvm_calloc(nf + 1, sizeof *local);
    uint32_t *ids = dvm_calloc(nf + 1, sizeof *ids);
    uint8_t *whole = dvm_calloc(nf + 1, 1);
    int masks = (n->rule.flags & CMSG_START_MASKS_ONLY) != 0;
    uint64_t *bits = masks ? dvm_calloc(DIFF_WORDS * nf + 1, sizeof *bits)
                           : NULL;
    dvm_status st = pages && dp && local && ids && whole && (bits || !masks)
                    ? DVM_OK : status_set(DVM_ENOMEM, "out of memory");
    uint16_t owner = (uint16_t)(i + 1);
    int foreign = !st && frames_to_master(n, owner, &res, local, pages);
    mem_change *orig = NULL;    /* the changes as the RComp made them */
    size_t nd = 0;
    if (!st && !foreign) {
        orig = dvm_malloc((res.nchanges + 1) * sizeof *orig);
        st = orig ? DVM_OK : status_set(DVM_ENOMEM, "out of memory");
    }
    if (!st && !foreign) {
        if (res.nchanges)       /* changes is NULL when there are none */
            memcpy(orig, res.changes, res.nchanges * sizeof *orig);
        nd = masks ? data_frames(n, &res, pages, ids, dp, whole, bits) : nf;
        for (size_t c = 0; !masks && c < nf; c++) {
            ids[c] = *msg_result_frame(&res, c);
            dp[c] = pages[c];
        }
    }
    size_t ahead = nd > NODE_RECORD_PAGES ? nd - NODE_RECORD_PAGES : 0;
    if (!st && !foreign && res.exit == MSG_EXIT_COMMIT)
        st = nhome_deltas(&n->home, (uint64_t)i, r->gen, res.rid,
                          res.attempt, orig, res.nchanges, pages,
                          masks ? whole : NULL);
    if (!st && !foreign)
        st = ship_ahead(n, i, ids, dp, ahead);
    if (!st && !foreign) {
        res.t_start_ns += (uint64_t)n->cfg.clock_skew_ns;
        res.t_end_ns += (uint64_t)n->cfg.clock_skew_ns;
        uint64_t fig[CMSG_RESULT_FIGS] = { r->in_asked, n->link.ns_per_page };
        r->in_asked = 0;
        mb_reset(&n->tmpb);
        msg_encode_result(&n->tmpb, &res);
        st = n->tmpb.oom ? status_set(DVM_ENOMEM, "out of memory")
             : relay_up(n, i, 0, MSG_RESULT, n->tmpb.p + MSG_HEADER_SIZE,
                        n->tmpb.len - MSG_HEADER_SIZE, fig, CMSG_RESULT_FIGS,
                        dp + ahead, nd - ahead);
    }
    for (size_t c = 0; c < nf && local && local[c]; c++)
        store_release(n->store, local[c]);
    if (foreign) {
        st = rc_replace(n, i, "result names a frame it does not own");
        goto out;
    }
    /* Used frames leave the grant list; the runner's page copies go. */
    size_t w = 0;
    for (size_t k = 0; k < r->ngranted; k++)
        if (n->owner[r->granted[k]] == owner)
            r->granted[w++] = r->granted[k];
    r->ngranted = w;
    tmp_release(n, r, res.rid, 0);
    if (r->nrid && r->rid[0] == res.rid) {
        memmove(r->rid, r->rid + 1, (r->nrid - 1) * sizeof *r->rid);
        memmove(r->seq, r->seq + 1, (r->nrid - 1) * sizeof *r->seq);
        r->nrid--;
    }
out:
    dvm_free(pages);
    dvm_free(dp);
    dvm_free(local);
    dvm_free(ids);
    dvm_free(whole);
    dvm_free(bits);
    if (orig && res.nchanges)   /* the decoded deltas, to be freed */
        memcpy(res.changes, orig, res.nchanges * sizeof *orig);
    dvm_free(orig);
    msg_result_free(&res);
    return st;
}

static dvm_status rc_frame(node *n, int i, int page, uint32_t type,
                           const uint8_t *p, size_t len)
{
    if (page) {
        uint64_t v[2];
        if (type != MSG_PAGE_REQ || msg_decode_u64s(p, len, v, 2))
            return rc_replace(n, i, "bad page message");
        if (inpage_is_input(v[0]))
            return input_ask(n, i, v[0]);
        n->rc[i].req_page = v[0];
        return relay_up(n, i, 1, type, p, len, NULL, 0, NULL, 0);
    }
    switch (type) {
    case MSG_RESULT:
        return result_up(n, i, p, len);
    default:
        /* READY, FRAME_REQ and any message that names no frame go up
         * unchanged; the master judges them as from a local RComp. */
        return relay_up(n, i, 0, type, p, len, NULL, 0, NULL, 0);
    }
}

/* Handles the whole frames of place i's ctl (page: its page) channel:
 * the first through conn_poll_frame when poll is set (its socket is
 * readable), the rest as buffered or queued. */
static dvm_status rc_frames(node *n, int i, int page, int poll)
{
    uint64_t gen = n->rc[i].gen;
    for (int first = poll;; first = 0) {
        conn *c = page ? &n->rc[i].page : &n->rc[i].ctl;
        uint32_t type;
        const uint8_t *p;
        size_t len;
        dvm_status st = first || !c->q  /* a socket: read it again */
                            ? conn_poll_frame(c, &type, &p, &len)
                            : conn_take_frame(c, &type, &p, &len);
        if (st == DVM_EAGAIN)
            return DVM_OK;
        if (st)
            return rc_replace(n, i, st == DVM_ECLOSED ? "it exited"
                                                      : status_message());
        st = rc_frame(n, i, page, type, p, len);
        if (st || n->rc[i].gen != gen)
            return st;
    }
}

static dvm_status rc_readable(node *n, uint64_t key)
{
    int i = (int)(key >> 1), page = (int)(key & 1);
    if (!n->running || i >= n->cfg.nrcomps)
        return DVM_OK;
    return rc_frames(n, i, page, 1);
}

/* The RComps' ctl queues (net/shmq.h), read without any event: every
 * whole frame they hold is handled and buffered output moved on. */
static dvm_status node_on_queues(node *n)
{
    for (int i = 0; n->running && i < n->cfg.nrcomps; i++) {
        conn *c = &n->rc[i].ctl;
        if (n->rc[i].pid <= 0 || !conn_ready(c))
            continue;
        dvm_status st = conn_flush(c);
        st = st ? rc_replace(n, i, status_message()) : rc_frames(n, i, 0, 0);
        if (st)
            return st;
    }
    return DVM_OK;
}

/* conn_group's at: RComp i's ctl conn while the node runs a program and
 * the RComp has a process. */
static conn *rc_ctl(void *arg, int i)
{
    node *n = arg;
    return n->running && n->rc && n->rc[i].pid > 0 ? &n->rc[i].ctl : NULL;
}

static int rc_count(void *arg)
{
    return ((node *)arg)->cfg.nrcomps;
}

/* Reports the page cache's figures and the fetch waits to the master
 * when they changed, at most every NODE_STATS_NS. */
static dvm_status node_report(node *n)
{
    _Static_assert(CMSG_FETCH_WAIT_BUCKETS == OBS_FETCH_WAIT_BUCKETS,
                   "NODE_STATS carries obs.h's fetch-wait buckets");
    cmsg_node_stats s;
    memset(&s, 0, sizeof s);        /* compared whole, padding included */
    uint64_t *v = s.v;
    if (n->running) {
        v[CMSG_NS_CACHED] = n->pc.live;
        v[CMSG_NS_HITS] = n->pc.hits;
        v[CMSG_NS_MISSES] = n->pc.misses;
        v[CMSG_NS_EVICTED] = n->pc.evicted;
        v[CMSG_NS_HOMED] = hstore_count(&n->home.home);
    }
    v[CMSG_NS_SERVED] = n->home.served;
    v[CMSG_NS_FROM_HOMES] = n->home.from_homes;
    s.has_wait = 1;
    memcpy(s.wait, n->waits.bucket, sizeof s.wait);
    s.wait_sum_ns = n->waits.sum_ns;
    uint64_t now = clock_now_ns();
    if (!memcmp(&s, &n->stats_sent, sizeof s) ||
        now - n->stats_ns < NODE_STATS_NS)
        return DVM_OK;
    memcpy(&n->stats_sent, &s, sizeof s);
    n->stats_ns = now;
    mb_reset(&n->rel);
    cmsg_encode_node_stats(&n->rel, &s);
    return node_send_master(n, WIRE_NODE_STATS, &n->rel);
}

/* DVM_EIO when the master said nothing for the heartbeat bound (also
 * while connecting: a connection that hangs is given up the same way).
 * The silence is the transport's (transport_silent_ms): it counts from
 * the arrival of the master's last message, on the listening clock, so
 * a stall of this node is not taken for the master's silence. */
static dvm_status node_heartbeat(const node *n)
{
    unsigned bound = n->cfg.heartbeat_ms ? n->cfg.heartbeat_ms
                                         : CMSG_HEARTBEAT_MS;
    if (transport_silent_ms(n->t, n->master) <= bound)
        return DVM_OK;
    return status_set(DVM_EIO, "the master %s for %u ms (--heartbeat)",
                      n->up ? "is gone: nothing heard"
                            : "cannot be reached: no answer", bound);
}

/* ---- leaving ------------------------------------------------------------------------ */

/* Runners dispatched to the node's RComps and not finished. */
static uint64_t node_unfinished(const node *n)
{
    uint64_t k = 0;
    for (int i = 0; n->running && i < n->cfg.nrcomps; i++)
        k += n->rc[i].nrid + n->rc[i].npark;
    return k;
}

static dvm_status leave_send(node *n, uint64_t step, uint64_t given_back)
{
    cmsg_leave l = { step, n->running ? n->run : 0, given_back };
    mb_reset(&n->rel);
    cmsg_encode_leave(&n->rel, &l);
    return node_send_master(n, WIRE_LEAVE, &n->rel);
}

/* One step of leaving, as far as it can go now; sets *quit when the node
 * may end. */
static dvm_status node_leave_step(node *n, int *quit)
{
    uint64_t now = clock_now_ns(), waited = (now - n->leave_ns) / 1000000u;
    uint64_t bound = n->cfg.leave_wait_ms < 0 ? CMSG_LEAVE_WAIT_MS
                                              : (uint64_t)n->cfg.leave_wait_ms;
    if (n->leave == NODE_LEAVE_NO) {
        if (!n->up) {
            *quit = 1;
            return DVM_OK;
        }
        n->leave = NODE_LEAVE_ASKED;
        n->leave_ns = now;
        fprintf(stderr, "dvm node: leaving: %" PRIu64 " runners to finish "
                "(at most %.1f s)\n", node_unfinished(n), bound / 1000.0);
        return leave_send(n, CMSG_LEAVE_ASK, 0);
    }
    if (n->leave == NODE_LEAVE_DONE) {
        *quit = waited > bound + NODE_CLOSE_WAIT_MS;
        return DVM_OK;
    }
    uint64_t left = node_unfinished(n);
    /* Until ACK nothing is known to be final; then until done; bounded. */
    if (waited <= bound && (n->leave == NODE_LEAVE_ASKED || left))
        return DVM_OK;
    n->leave = NODE_LEAVE_DONE;
    fprintf(stderr, "dvm node: left the cluster (%" PRIu64 " runners given "
            "back)\n", left);
    dvm_status st = leave_send(n, CMSG_LEAVE_DONE, left);
    if (!st)
        st = node_flush(n);
    node_stop(n);
    return st;
}

/* nhome's questions for the master, after the RELAY records before them. */
static dvm_status home_to_master(void *arg, uint16_t type, const msg_buf *b)
{
    return node_send_master(arg, type, b);
}

/* Versions arrived from other nodes: parked dispatches and page requests
 * may go. */
static dvm_status home_filled(void *arg)
{
    return node_filled(arg);
}

/* The homes' log lines, on the node's stderr. */
static void home_log(void *arg, const char *line)
{
    (void)arg;
    fprintf(stderr, "dvm node: %s\n", line);
}

/* Listens where other nodes fetch the versions homed here; n->addr is
 * "HOST:PORT" with the port bound. */
static dvm_status home_listen(node *n)
{
    const char *colon = strrchr(n->cfg.listen, ':');
    uint16_t port;
    if (!colon || (size_t)(colon - n->cfg.listen) + 7 > sizeof n->addr)
        return status_set(DVM_EINVAL, "bad --listen address '%s' (HOST:PORT)",
                          n->cfg.listen);
    dvm_status st = transport_listen(n->t, n->cfg.listen, &port);
    if (!st)
        snprintf(n->addr, sizeof n->addr, "%.*s:%u",
                 (int)(colon - n->cfg.listen), n->cfg.listen, (unsigned)port);
    return st;
}

/* Whether the loop polls before it sleeps (util/spin.h): while this
 * node's RComps run runners, the answers to their dispatches, results and
 * page questions usually come within microseconds, and a node asleep
 * costs each a wake-up -- but only while a CPU is left over, or the poll
 * takes time from the RComps it waits for.  (Polling also after serving
 * other nodes' page questions, for the next one, made bench/fetch slower
 * here: too many pollers for the CPUs.)  The armed UCX worker's fd is in
 * the set, so network events end the poll too. */
static int node_should_spin(const node *n)
{
    if (!n->running)
        return 0;
    int busy = 0;
    for (int i = 0; i < n->cfg.nrcomps; i++)
        busy += n->rc[i].nrid > 0;
    return busy && busy < spin_cpus();
}

/* ---- the loop ----------------------------------------------------------------------- */

static dvm_status node_loop(node *n)
{
    struct epoll_event ev[64];
    conn_group rcs = { rc_ctl, rc_count, n };
    spin_mem queues = { conn_group_ready, conn_group_sleep, conn_group_awake,
                        &rcs };
    int quit = 0;
    while (node_signals < 2 && !quit && !n->fatal.st && !n->down) {
        (void)transport_progress(n->t);
        /* After DONE the node says nothing more: the master closes it. */
        int talk = n->up && n->leave != NODE_LEAVE_DONE;
        dvm_status fst = talk ? node_report(n) : DVM_OK;
        if (!fst && node_leaving(n))
            fst = node_leave_step(n, &quit);
        if (!fst && n->leave != NODE_LEAVE_DONE)
            fst = node_heartbeat(n);
        if (!fst && n->up)
            fst = nhome_tick(&n->home, clock_now_ns());
        if (!fst && n->park_hold_ns && n->running)
            fst = node_filled(n);   /* parked dispatches whose hold ended */
        if (!fst)
            fst = node_flush(n);
        if (fst)
            status_first_set(&n->fatal, fst);
        if (n->fatal.st || n->down)
            break;
        /* Everything this turn received was handled above, and arming
         * drains UCX first: a turn that did work need not be followed by
         * another before sleeping (it cost a node four system calls a
         * message, in a loop whose messages are page questions). */
        int again = transport_arm(n->t) == DVM_EAGAIN;
        int to = transport_timeout_ms(n->t);
        if (to < 0 || to > CMSG_PING_MS)   /* keepalives go at turns */
            to = CMSG_PING_MS;
        int m = spin_epoll_wait(n->epfd, ev, 64, again ? 0 : to,
                                !again && node_should_spin(n), &queues);
        if (m < 0 && errno != EINTR)
            return status_set_errno(DVM_ESYS, "epoll_wait");
        for (int j = 0; j < m && !n->fatal.st; j++) {
            if (ev[j].data.u64 == NODE_KEY_NET)
                continue;
            dvm_status st = rc_readable(n, ev[j].data.u64);
            if (st)
                status_first_set(&n->fatal, st);
        }
        dvm_status qst = n->fatal.st ? DVM_OK : node_on_queues(n);
        if (qst)
            status_first_set(&n->fatal, qst);
    }
    if (n->fatal.st)
        return status_first_get(&n->fatal);
    return DVM_OK;
}

/* One connection to the master: joins, serves it until it goes away.
 * Sets *joined when the master accepted the connection. */
static dvm_status node_session(node *n, int *joined)
{
    n->up = n->down = 0;
    n->fatal.st = DVM_OK;
    /* A new connection is a new node at the master: waits count anew. */
    memset(&n->waits, 0, sizeof n->waits);
    dvm_status st = transport_connect(n->t, n->cfg.master, &n->master);
    if (!st) {
        transport_keepalive(n->t, n->master, 1);
        st = node_loop(n);
    }
    *joined = n->up;
    node_stop(n);
    return st;
}

/* Sessions until the master is gone for good: one lost after joining is
 * tried again (backoff) for cfg.reconnect_s; then the loss is the
 * node's end (DVM_OK when the master closed the connection). */
static dvm_status node_serve(node *n)
{
    uint64_t lost_ns = 0;
    unsigned backoff = NODE_BACKOFF_MIN_MS;
    dvm_status lost = DVM_OK;
    char why[256] = "";
    for (;;) {
        int joined;
        dvm_status st = node_session(n, &joined);
        if (node_leaving(n))
            return DVM_OK;
        if (!n->down || n->cfg.reconnect_s <= 0 || (!joined && !lost_ns))
            return st;
        if (joined) {
            lost_ns = clock_now_ns();
            backoff = NODE_BACKOFF_MIN_MS;
            lost = st;
            snprintf(why, sizeof why, "%s",
                     st ? status_message() : "the master left");
            fprintf(stderr, "dvm node: %s; trying to reach it again for "
                    "%d s\n", why, n->cfg.reconnect_s);
        }
        if (clock_now_ns() - lost_ns >= (uint64_t)n->cfg.reconnect_s *
                                         1000000000ull)
            return lost ? status_set(lost, "%s", why) : DVM_OK;
        transport_wait(n->t, (int)backoff);
        backoff = backoff * 2 > NODE_BACKOFF_MAX_MS ? NODE_BACKOFF_MAX_MS
                                                    : backoff * 2;
    }
}

dvm_status node_main(const node_config *cfg)
{
    node *n = dvm_calloc(1, sizeof *n);
    if (!n)
        return status_set(DVM_ENOMEM, "out of memory");
    n->cfg = *cfg;
    n->image_fd = n->claim_fd = -1;
    const char *hold = getenv("DVM_TEST_PARK_MS");
    n->park_hold_ns = hold ? strtoull(hold, NULL, 10) * 1000000ull : 0;
    ninput_init(&n->inputs);
    mb_init(&n->out);
    mb_init(&n->rel);
    mb_init(&n->tmpb);
    mb_init(&n->batch);
    sigstop_install(node_on_signal);
    transport_config tc = { .secret = cfg->secret,
                            .keepalive_type = WIRE_PING,
                            .keepalive_ms = CMSG_PING_MS,
                            .on_event = node_on_event, .arg = n };
    dvm_status st = transport_create(&tc, &n->t);
    nhome_ops ops = { home_to_master, home_filled, home_log, n };
    nhome_init(&n->home, n->t, &ops);
    if (!st && cfg->listen)
        st = home_listen(n);
    if (!st)
        n->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!st && n->epfd < 0)
        st = status_set_errno(DVM_ESYS, "epoll_create1");
    if (!st)
        st = epoll_add(n, transport_fd(n->t), NODE_KEY_NET);
    if (!st)
        st = node_serve(n);
    nhome_destroy(&n->home);
    transport_destroy(n->t);
    if (n->epfd > 0)
        close(n->epfd);
    mb_free(&n->out);
    mb_free(&n->rel);
    mb_free(&n->tmpb);
    mb_free(&n->batch);
    dvm_free(n);
    return st;
}
