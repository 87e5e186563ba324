/*
 * nhome.c -- a node's homed versions and its questions to other nodes.
 *
 * The peer table holds the nodes this node connected to (one outbound
 * connection each, made when PEERS names them); questions go out on
 * those and their answers come back on them.  Inbound connections are
 * other nodes' questions, answered on the connection they came on.  A
 * question open at a node is remembered (page, epoch, node) until its
 * answer, or until that node goes away or leaves the list: then it moves
 * on to the next holder (home.h), and in the end to the master.
 */
#include "dist/nhome.h"

#include <assert.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/wire.h"
#include "dist/home.h"
#include "dist/stall.h"
#include "mem/diff.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/le.h"

#define NHOME_MASTER UINT64_MAX

static dvm_status park_run(nhome *h, uint64_t now_ns, size_t from);
static dvm_status pair_add(uint64_t **v, size_t *n, size_t *cap,
                           uint64_t page, uint64_t epoch);

void nhome_init(nhome *h, transport *t, const nhome_ops *ops)
{
    memset(h, 0, sizeof *h);
    h->t = t;
    h->ops = *ops;
    h->self = UINT64_MAX;
    const char *nd = getenv("DVM_TEST_NO_DELTAS");
    h->no_deltas = !nd ? 0 : strcmp(nd, "never") ? 1 : 2;
    const char *ab = getenv("DVM_TEST_PEER_ABORT");
    h->abort_at = ab ? strtoull(ab, NULL, 10) : 0;
    h->one_holder = getenv("DVM_TEST_DELTA_ONE_HOLDER") != NULL;
    const char *ex = getenv("DVM_TEST_EXIT_AFTER_APPLIED");
    h->exit_at = ex ? strtoull(ex, NULL, 10) : 0;
    mb_init(&h->b);
    mb_init(&h->m);
}

void nhome_destroy(nhome *h)
{
    nhome_stop(h);
    dvm_free(h->ask);
    dvm_free(h->park);
    dvm_free(h->acks);
    dvm_free(h->needs);
    dvm_free(h->held);
    dvm_free(h->retry);
    dvm_free(h->later);
    for (size_t i = 0; i < h->ndq; i++)
        mb_free(&h->dq[i].b);
    dvm_free(h->dq);
    mb_free(&h->b);
    mb_free(&h->m);
}

dvm_status nhome_start(nhome *h, uint64_t run, mem_store *store, pcache *pc,
                       int masks)
{
    nhome_stop(h);
    dvm_status st = hstore_init(&h->home, store);
    if (!st && (st = dpend_init(&h->pend)))
        hstore_destroy(&h->home);
    if (!st && (st = dpend_init(&h->sent))) {
        dpend_free(&h->pend);
        hstore_destroy(&h->home);
    }
    if (st)
        return st;
    h->running = 1;
    h->run = run;
    h->pc = pc;
    h->masks = masks;
    dpend_hold(&h->pend, masks);
    /* not held: a result waits at the gate for a short while only, the
     * oldest copies (long committed) are pushed out past DPEND_MAX */
    dpend_hold(&h->sent, 0);
    return DVM_OK;
}

void nhome_stop(nhome *h)
{
    if (!h->running)
        return;
    hstore_destroy(&h->home);
    dpend_free(&h->pend);
    dpend_free(&h->sent);
    h->running = 0;
    h->pc = NULL;
    h->nask = 0;
    h->npark = 0;
    h->nretry = 0;
    h->nlater = 0;
    h->drops_waited = 0;
    for (size_t i = 0; i < h->ndq; i++)
        h->dq[i].n = 0;                 /* the program's deltas go */
}

static nhome_peer *peer_by_id(nhome *h, uint64_t id)
{
    for (size_t i = 0; i < h->npeer; i++)
        if (h->peer[i].id == id)
            return &h->peer[i];
    return NULL;
}

static nhome_peer *peer_by_conn(nhome *h, uint64_t conn)
{
    for (size_t i = 0; i < h->npeer; i++)
        if (h->peer[i].peer == conn)
            return &h->peer[i];
    return NULL;
}

/* The nodes to ask for page, in order, into c (room for CMSG_MAX_PEERS
 * + HOME_COPIES): its holders; for a version to keep (PULL), then every
 * other node that homes pages.  A version moves to new holders when
 * nodes join: when both of its holders are new (two nodes joined at
 * once), neither has it, and the nodes that had it are former holders,
 * still homing other pages and keeping it until the new ones do (the
 * master tells them to drop it only then).  Returns how many. */
static size_t route_list(const nhome *h, uint64_t page, int keep,
                         uint64_t *c)
{
    size_t k = home_pick(page, h->ids, h->nids, c);
    for (size_t i = 0; keep && i < h->nids; i++)
        if (!home_has(c, k, h->ids[i]))
            c[k++] = h->ids[i];
    return k;
}

/* The node to ask for page after `after` was asked (UINT64_MAX: none
 * yet): the next of route_list that is another node and reachable, or
 * NHOME_MASTER. */
static uint64_t route(nhome *h, uint64_t page, uint64_t after, int keep)
{
    uint64_t c[CMSG_MAX_PEERS + HOME_COPIES];
    size_t k = route_list(h, page, keep, c), i = 0;
    if (after != UINT64_MAX && home_has(c, k, after))
        while (c[i++] != after)
            ;
    for (; i < k; i++) {
        const nhome_peer *p = c[i] == h->self ? NULL : peer_by_id(h, c[i]);
        if (p && p->up)
            return c[i];
    }
    return NHOME_MASTER;
}

static dvm_status ask_add(nhome *h, uint64_t page, uint64_t epoch,
                          uint64_t id, int keep)
{
    nhome_ask *a = dvm_grow(h->ask, &h->capask, h->nask + 1, sizeof *a);
    if (!a)
        return status_set(DVM_ENOMEM, "out of memory");
    h->ask = a;
    h->ask[h->nask++] = (nhome_ask){ page, epoch, id, keep };
    return DVM_OK;
}

/* Sends the entries of pv (pairs) whose target is id, as one question;
 * a node that cannot be sent to hands them to the master (tgt).  Versions
 * to keep are never asked of the master (it gave its copy away). */
/* The versions of pv (pairs) that tgt sends to the master, to keep
 * (PULL): no holder had them.  Without masks the master sent its copy
 * (it has the data of every version until both holders keep it), so
 * they are given up; in a masks-only program the holder may be about
 * to make them (an APPLY on its way), so they are asked again every
 * NHOME_PARK_MS (nhome_tick) until one comes or they are dropped. */
static dvm_status retry_add(nhome *h, const uint64_t *pv, const uint64_t *tgt,
                            size_t n)
{
    for (size_t i = 0; h->masks && i < n; i++) {
        if (tgt[i] != NHOME_MASTER)
            continue;
        uint64_t *x = dvm_grow(h->retry, &h->capretry, 2 * (h->nretry + 1),
                               sizeof *x);
        if (!x)
            return status_set(DVM_ENOMEM, "out of memory");
        h->retry = x;
        x[2 * h->nretry] = pv[2 * i];
        x[2 * h->nretry++ + 1] = pv[2 * i + 1];
    }
    return DVM_OK;
}

static dvm_status ask_one(nhome *h, const uint64_t *pv, uint64_t *tgt,
                          size_t n, uint64_t id, uint64_t *sel, int keep)
{
    if (id == NHOME_MASTER && keep)
        return retry_add(h, pv, tgt, n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (tgt[i] == id) {
            sel[2 * k] = pv[2 * i];
            sel[2 * k++ + 1] = pv[2 * i + 1];
        }
    if (!k)
        return DVM_OK;
    mb_reset(&h->m);
    cmsg_encode_fetch(&h->m, h->run, sel, k, 2, NULL, 0);
    if (id == NHOME_MASTER)
        return h->m.oom ? status_set(DVM_ENOMEM, "out of memory")
                        : h->ops.to_master(h->ops.arg, WIRE_FETCH, &h->m);
    const nhome_peer *p = peer_by_id(h, id);
    if (h->m.oom || transport_send(h->t, p->peer, WIRE_HFETCH, h->m.p,
                                   h->m.len)) {
        for (size_t i = 0; i < n; i++)
            if (tgt[i] == id)
                tgt[i] = NHOME_MASTER;
        return DVM_OK;
    }
    dvm_status st = DVM_OK;
    for (size_t i = 0; i < k && !st; i++)
        st = ask_add(h, sel[2 * i], sel[2 * i + 1], id, keep);
    return st;
}

/* Asks for the n versions of pv (pairs), each of the holder after
 * `after`; keep: for the home store (PULL), else for the page cache. */
static dvm_status ask_all(nhome *h, const uint64_t *pv, size_t n,
                          uint64_t after, int keep)
{
    if (!n)
        return DVM_OK;
    uint64_t *tgt = dvm_calloc(n, sizeof *tgt);
    uint64_t *sel = dvm_calloc(2 * n, sizeof *sel);
    dvm_status st = tgt && sel ? DVM_OK
                               : status_set(DVM_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && !st; i++)
        tgt[i] = route(h, pv[2 * i], after, keep);
    for (size_t k = 0; k < h->npeer && !st; k++)
        if (h->peer[k].up)
            st = ask_one(h, pv, tgt, n, h->peer[k].id, sel, keep);
    if (!st)
        st = ask_one(h, pv, tgt, n, NHOME_MASTER, sel, keep);
    dvm_free(tgt);
    dvm_free(sel);
    return st;
}

dvm_status nhome_fetch(nhome *h, const uint64_t *want, size_t n)
{
    uint64_t now = clock_now_ns();
    for (size_t i = 0; h->pc && i < n; i++)     /* its wait starts now */
        pcache_asked(h->pc, want[2 * i], want[2 * i + 1], now);
    return ask_all(h, want, n, UINT64_MAX, 0);
}

static int parked(const nhome *h, uint64_t page, uint64_t epoch)
{
    for (size_t i = 0; i < h->npark; i++)
        if (h->park[i].page == page && h->park[i].epoch == epoch)
            return 1;
    return 0;
}

int nhome_local(nhome *h, uint64_t page, uint64_t epoch)
{
    if (!h->running)
        return 0;
    const void *d = hstore_find(&h->home, page, epoch);
    /* An APPLY of it waiting here may be made now: its delta can have
     * come since (waiting entries are tried at the turns of the loop). */
    if (!d && parked(h, page, epoch) && !park_run(h, 0, 0))
        d = hstore_find(&h->home, page, epoch);
    if (d)
        pcache_fill(h->pc, page, epoch, d);
    return d != NULL;
}

/* The questions open at node id move on to the node after it. */
static dvm_status reroute(nhome *h, uint64_t id)
{
    uint64_t *pv = dvm_calloc(4 * h->nask + 1, sizeof *pv);
    if (!pv)
        return status_set(DVM_ENOMEM, "out of memory");
    uint64_t *kv = pv + 2 * h->nask;    /* the ones to keep */
    size_t k = 0, kk = 0, w = 0;
    for (size_t i = 0; i < h->nask; i++) {
        const nhome_ask *a = &h->ask[i];
        if (a->id != id) {
            h->ask[w++] = *a;
        } else if (a->keep) {
            kv[2 * kk] = a->page;
            kv[2 * kk++ + 1] = a->epoch;
        } else {
            pv[2 * k] = a->page;
            pv[2 * k++ + 1] = a->epoch;
        }
    }
    h->nask = w;
    dvm_status st = ask_all(h, pv, k, id, 0);
    if (!st)
        st = ask_all(h, kv, kk, id, 1);
    dvm_free(pv);
    return st ? st : k ? h->ops.filled(h->ops.arg) : DVM_OK;
}

/* Removes peer slot p (closing our connection to it). */
static dvm_status peer_remove(nhome *h, nhome_peer *p)
{
    uint64_t id = p->id;
    if (p->peer != UINT64_MAX)
        transport_close(h->t, p->peer);
    *p = h->peer[--h->npeer];
    return reroute(h, id);
}

/* One line through the node's log, when it has one. */
static void home_log(nhome *h, const char *fmt, ...)
{
    char line[CMSG_MAX_ADDR + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (h->ops.log)
        h->ops.log(h->ops.arg, line);
}

/* Connects slot q to its node (at once; its UP comes later).  A connect
 * that fails at once leaves q without a connection, to be tried again
 * after its backoff (peers_reconnect). */
static void peer_connect(nhome *h, nhome_peer *q, uint64_t now_ns)
{
    q->up = 0;
    if (transport_connect(h->t, q->addr, &q->peer))
        q->peer = UINT64_MAX;
    q->retry_ns = now_ns + (uint64_t)q->backoff_ms * 1000000u;
    q->backoff_ms = q->backoff_ms * 2 > NHOME_RECONNECT_MAX_MS
                        ? NHOME_RECONNECT_MAX_MS : q->backoff_ms * 2;
}

/* Index of id in ids[0, n), or n. */
static size_t id_index(const uint64_t *ids, size_t n, uint64_t id)
{
    size_t i = 0;
    while (i < n && ids[i] != id)
        i++;
    return i;
}

/* PEERS: the nodes that home pages now.  A slot goes when its node is
 * no longer among them, when its id is this node's own, or when the id
 * now names a node elsewhere: ids are the master's, and a master that
 * restarted (--state) gives them anew in the order the nodes join again,
 * so an id kept from before may name another node now.  Every node of
 * the list without a slot gets one, connected. */
dvm_status nhome_on_peers(nhome *h, const uint8_t *p, size_t len)
{
    static cmsg_peers m;
    char addr[CMSG_MAX_ADDR];
    dvm_status st = cmsg_decode_peers(p, len, &m);
    if (st)
        return st;
    h->self = m.self;
    h->nids = m.n;
    memcpy(h->ids, m.id, m.n * sizeof *m.id);
    for (size_t i = 0; i < h->npeer && !st;) {
        size_t k = id_index(m.id, m.n, h->peer[i].id);
        if (k < m.n && m.id[k] != m.self &&
            !cmsg_str_copy(m.addr[k], addr, sizeof addr) &&
            !strcmp(addr, h->peer[i].addr))
            i++;
        else
            st = peer_remove(h, &h->peer[i]);
    }
    uint64_t now = clock_now_ns();
    for (uint32_t i = 0; i < m.n && !st; i++) {
        if (m.id[i] == m.self || peer_by_id(h, m.id[i]) ||
            cmsg_str_copy(m.addr[i], addr, sizeof addr))
            continue;
        nhome_peer *q = &h->peer[h->npeer++];
        *q = (nhome_peer){ .id = m.id[i], .peer = UINT64_MAX,
                           .backoff_ms = NHOME_RECONNECT_MS };
        memcpy(q->addr, addr, sizeof addr);
        peer_connect(h, q, now);
    }
    return st;
}

/* Slots left without a connection (it went down, or the connect failed)
 * whose wait is over are connected again: their node still homes pages
 * (PEERS would have removed it), and in a masks-only program the deltas
 * of this node's results reach no one else.  While the slot is down its
 * deltas are dropped and its questions go elsewhere; the master's
 * DRESEND sends the deltas again once it is up. */
static void peers_reconnect(nhome *h, uint64_t now_ns)
{
    for (size_t i = 0; i < h->npeer; i++) {
        nhome_peer *q = &h->peer[i];
        if (q->peer != UINT64_MAX || now_ns < q->retry_ns)
            continue;
        peer_connect(h, q, now_ns);
    }
}

/* Sends STORED for the n versions of pv (pairs). */
static dvm_status stored(nhome *h, const uint64_t *pv, size_t n)
{
    if (!n)
        return DVM_OK;
    mb_reset(&h->b);
    cmsg_encode_fetch(&h->b, h->run, pv, n, 2, NULL, 0);
    if (h->b.oom)
        return status_set(DVM_ENOMEM, "out of memory");
    return h->ops.to_master(h->ops.arg, WIRE_STORED, &h->b);
}

dvm_status nhome_on_store(nhome *h, const uint8_t *p, size_t len)
{
    cmsg_fetch f;
    dvm_status st = cmsg_decode_fetch(p, len, 3, &f);
    if (st || !h->running || f.run != h->run)
        return st;
    if (f.npages != f.n)
        return status_set(DVM_EPROTO, "store without its pages");
    uint64_t *ack = dvm_calloc(2 * f.n + 1, sizeof *ack);
    if (!ack)
        return status_set(DVM_ENOMEM, "out of memory");
    size_t k = 0;
    for (uint64_t i = 0; i < f.n; i++) {
        uint64_t page = le_ld64(f.ent + 24 * i);
        uint64_t epoch = le_ld64(f.ent + 24 * i + 8);
        stall_stop_on_page("dvm node", page);
        if (hstore_put(&h->home, page, epoch, f.pages + CMSG_PAGE * i))
            continue;           /* full: not acknowledged, the master
                                   keeps it */
        ack[2 * k] = page;
        ack[2 * k++ + 1] = epoch;
    }
    st = stored(h, ack, k);
    dvm_free(ack);
    return st;
}

/* Whether a waiting APPLY entry needs (page, epoch): as its base, or as
 * the version it makes (which a later entry of the page may need as its
 * base once made). */
static int park_needs(const nhome *h, uint64_t page, uint64_t epoch)
{
    for (size_t i = 0; i < h->npark; i++) {
        const nhome_park *a = &h->park[i];
        if (a->page == page && (a->base == epoch || a->epoch == epoch))
            return 1;
    }
    return 0;
}

/* The DROPs held back whose versions no waiting entry needs any more
 * are carried out. */
static void later_run(nhome *h)
{
    size_t w = 0;
    for (size_t i = 0; i < h->nlater; i++) {
        uint64_t page = h->later[2 * i], epoch = h->later[2 * i + 1];
        if (park_needs(h, page, epoch)) {
            h->later[2 * w] = page;
            h->later[2 * w++ + 1] = epoch;
        } else {
            hstore_drop(&h->home, page, epoch);
        }
    }
    h->nlater = w;
}

/* DROP: the master collected these versions (no live snapshot can read
 * them) or moved them elsewhere.  Why a drop may wait: the master
 * collects a version once a newer one of its page is committed, and
 * that newer one is made here from it (APPLY names it as the base).  An
 * APPLY entry that waits here for its delta (it travels from the
 * committing node, and may come after the APPLY) still needs that base;
 * dropped now, the entry could be made from nowhere -- in a masks-only
 * program the master has no copy to send either.  So such a drop waits
 * until no waiting entry needs the version (later_run, after each pass
 * over the entries). */
dvm_status nhome_on_drop(nhome *h, const uint8_t *p, size_t len)
{
    cmsg_fetch f;
    dvm_status st = cmsg_decode_fetch(p, len, 2, &f);
    if (st || !h->running || f.run != h->run)
        return st;
    for (uint64_t i = 0; i < f.n && !st; i++) {
        uint64_t page = le_ld64(f.ent + 16 * i);
        uint64_t epoch = le_ld64(f.ent + 16 * i + 8);
        if (park_needs(h, page, epoch)) {
            if (!h->drops_waited++)
                home_log(h, "the drop of page 0x%" PRIx64 " epoch %" PRIu64
                         " waits: a waiting APPLY needs it", page, epoch);
            st = pair_add(&h->later, &h->nlater, &h->caplater, page, epoch);
        } else
            hstore_drop(&h->home, page, epoch);
        for (size_t k = h->nretry; k-- > 0;)   /* no longer asked for */
            if (h->retry[2 * k] == page && h->retry[2 * k + 1] == epoch) {
                h->retry[2 * k] = h->retry[2 * --h->nretry];
                h->retry[2 * k + 1] = h->retry[2 * h->nretry + 1];
            }
    }
    return st;
}

/* HFETCH from another node or the master: answered on conn from the
 * home store (every version absent when lack is set: a test's).
 * DVM_EPROTO when malformed (nothing sent). */
static dvm_status serve(nhome *h, uint64_t conn, const uint8_t *p,
                        size_t len, int lack)
{
    cmsg_fetch f;
    dvm_status st = cmsg_decode_fetch(p, len, 2, &f);
    if (st)
        return st;
    uint64_t *ent = dvm_calloc(3 * f.n + 1, sizeof *ent);
    const uint8_t **pages = dvm_calloc(f.n + 1, sizeof *pages);
    size_t np = 0;
    for (uint64_t i = 0; ent && pages && i < f.n; i++) {
        uint64_t page = le_ld64(f.ent + 16 * i);
        uint64_t epoch = le_ld64(f.ent + 16 * i + 8);
        const uint8_t *d = h->running && f.run == h->run && !lack
                           ? hstore_find(&h->home, page, epoch) : NULL;
        ent[3 * i] = page;
        ent[3 * i + 1] = epoch;
        ent[3 * i + 2] = d != NULL;
        if (d)
            pages[np++] = d;
    }
    if (ent && pages) {
        mb_reset(&h->b);
        cmsg_encode_fetch(&h->b, f.run, ent, f.n, 3, pages, np);
        if (!h->b.oom &&
            !transport_send(h->t, conn, WIRE_HFETCHED, h->b.p, h->b.len))
            h->served += np;
    }
    dvm_free(ent);
    dvm_free(pages);
    return DVM_OK;
}

dvm_status nhome_on_master_fetch(nhome *h, uint64_t conn, const uint8_t *p,
                                 size_t len)
{
    return serve(h, conn, p, len, stall_lack_at("dvm node", "dump"));
}

/* ---- changes from committing nodes --------------------------------------- */

/* The changed-byte mask of change c, as CMSG_MASK_WORDS words. */
static void change_mask(const mem_change *c, const uint8_t *page,
                        uint64_t *mask)
{
    if (c->nruns == DIFF_IMPLIED) {     /* the page was zeros: its nonzero
                                           bytes are the changed ones */
        mem_delta d = diff_resolve(space_change_delta(c), page, mask);
        assert(diff_is_bitmap(d));
        (void)d;
        return;
    }
    if (c->nruns == DIFF_BITMAP) {
        memcpy(mask, c->data, 8 * CMSG_MASK_WORDS);
        return;
    }
    memset(mask, 0, 8 * CMSG_MASK_WORDS);
    diff_runs_to_bits(c->data, c->nruns, mask);
}

/* Entries per DELTA message: at most a mask and a page each, so about
 * 1 MiB at most. */
#define NHOME_DELTA_BATCH 256

/* The DELTA being gathered for node id (a free slot when n is 0). */
static nhome_dq *dq_for(nhome *h, uint64_t id)
{
    nhome_dq *free_dq = NULL;
    for (size_t i = 0; i < h->ndq; i++) {
        if (h->dq[i].n && h->dq[i].id == id)
            return &h->dq[i];
        if (!h->dq[i].n && !free_dq)
            free_dq = &h->dq[i];
    }
    if (!free_dq) {
        nhome_dq *d = dvm_grow(h->dq, &h->capdq, h->ndq + 1, sizeof *d);
        if (!d)
            return NULL;
        h->dq = d;
        free_dq = &h->dq[h->ndq++];
        mb_init(&free_dq->b);
    }
    free_dq->id = id;
    free_dq->n = 0;
    mb_reset(&free_dq->b);
    return free_dq;
}

/* The test hook DVM_TEST_PEER_ABORT: every connection to another node
 * aborted, once, the DELTA just sent with them; each comes back DOWN
 * through the transport, as a link that broke. */
static void peers_abort(nhome *h)
{
    h->abort_at = 0;
    for (size_t i = 0; i < h->npeer; i++)
        if (h->peer[i].peer != UINT64_MAX)
            transport_abort(h->t, h->peer[i].peer);
}

/* Sends the DELTA gathered in d, if its node is still reachable (else it
 * will ask the master), and empties d. */
static void dq_send(nhome *h, nhome_dq *d)
{
    const nhome_peer *q = peer_by_id(h, d->id);
    if (d->n && !d->b.oom && q && q->up) {
        le_st64(d->b.p + 8, d->n);      /* the count, now known */
        if (!transport_send(h->t, q->peer, WIRE_DELTA, d->b.p, d->b.len))
            h->deltas_sent += d->n;
    }
    d->n = 0;
    if (h->abort_at && h->deltas_sent >= h->abort_at)
        peers_abort(h);
}

void nhome_flush_deltas(nhome *h)
{
    for (size_t i = 0; i < h->ndq; i++)
        dq_send(h, &h->dq[i]);
}

/* The change of page made under tag t, as its mask and its packed
 * changed bytes (nb of them), for holder id: kept at once when it is this
 * node, else gathered for id's next DELTA (sent only when send). */
static dvm_status delta_to(nhome *h, uint64_t id, const cmsg_tag *t,
                           uint64_t page, const uint64_t *mask,
                           const uint8_t *packed, size_t nb, int send)
{
    if (id == h->self) {
        uint8_t le[8 * CMSG_MASK_WORDS];
        for (size_t w = 0; w < CMSG_MASK_WORDS; w++)
            le_st64(le + 8 * w, mask[w]);
        cmsg_delta_ent e = { *t, page, le, { packed, nb } };
        (void)dpend_put(&h->pend, &e);  /* not kept: NEED asks for it */
        return DVM_OK;
    }
    if (!send)
        return DVM_OK;
    nhome_dq *d = dq_for(h, id);
    if (!d)
        return status_set(DVM_ENOMEM, "out of memory");
    if (!d->n)
        cmsg_encode_delta_head(&d->b, h->run, 0);
    cmsg_encode_delta_ent(&d->b, t, page, mask, packed, nb);
    if (++d->n == NHOME_DELTA_BATCH)
        dq_send(h, d);
    return DVM_OK;
}

/* DELTA from another node: its entries kept until APPLY.  In a
 * masks-only program each page whose whole form came (after its changed
 * bytes) is reported held to the master (DHELD), which commits the
 * result only then.  DVM_EPROTO when malformed. */
static dvm_status take_deltas(nhome *h, const uint8_t *p, size_t len)
{
    cmsg_delta d;
    dvm_status st = cmsg_decode_delta(p, len, &d);
    if (st || !h->running || d.run != h->run)
        return st;
    size_t off = 0, nh = 0;
    for (uint64_t i = 0; i < d.n; i++) {
        cmsg_delta_ent e;
        cmsg_delta_next(&d, &off, &e);
        if (dpend_put(&h->pend, &e) ||  /* not kept: NEED asks for it */
            !h->masks || !(e.tag.attempt & CMSG_TAG_WHOLE))
            continue;
        uint64_t *x = dvm_grow(h->held, &h->capheld,
                               CMSG_DHELD_WIDTH * (nh + 1), sizeof *x);
        if (!x)
            break;              /* not reported: the result waits, then
                                   runs again */
        h->held = x;
        const uint64_t w[CMSG_DHELD_WIDTH] = {
            e.page, e.tag.node, e.tag.rcomp, e.tag.gen, e.tag.rid,
            e.tag.attempt & ~CMSG_TAG_WHOLE };
        memcpy(x + CMSG_DHELD_WIDTH * nh++, w, sizeof w);
    }
    if (!nh)
        return DVM_OK;
    mb_reset(&h->b);
    cmsg_encode_tags(&h->b, h->run, h->held, nh, CMSG_DHELD_WIDTH);
    if (h->b.oom)
        return status_set(DVM_ENOMEM, "out of memory");
    return h->ops.to_master(h->ops.arg, WIRE_DHELD, &h->b);
}

dvm_status nhome_on_ddrop(nhome *h, const uint8_t *p, size_t len)
{
    cmsg_tags t;
    dvm_status st = cmsg_decode_ddrop(p, len, &t);
    if (st || !h->running || t.run != h->run)
        return st;
    for (uint64_t i = 0; i < t.n; i++) {
        uint64_t page;
        cmsg_tag tag;
        cmsg_tags_ent(&t, i, &page, &tag);
        (void)dpend_drop(&h->pend, &tag);
        if (tag.node == h->self)
            (void)dpend_drop(&h->sent, &tag);
    }
    return DVM_OK;
}

/* dpend_each's callback of resend: one kept delta again to the page's
 * holders now. */
typedef struct resend_ctx {
    nhome *h;
    dvm_status st;
    size_t n;
} resend_ctx;

static void resend_ent(void *arg, const cmsg_delta_ent *e)
{
    resend_ctx *r = arg;
    uint64_t hold[HOME_COPIES], mask[CMSG_MASK_WORDS];
    for (size_t w = 0; w < CMSG_MASK_WORDS; w++)
        mask[w] = le_ld64(e->mask + 8 * w);
    size_t nh = home_pick(e->page, r->h->ids, r->h->nids, hold);
    for (size_t k = 0; k < nh && !r->st; k++)
        r->st = delta_to(r->h, hold[k], &e->tag, e->page, mask, e->bytes.p,
                         (size_t)e->bytes.len, 1);
    r->n++;
}

size_t nhome_resend(nhome *h, const cmsg_tag *tag, dvm_status *st)
{
    resend_ctx r = { h, DVM_OK, 0 };
    *st = DVM_OK;
    if (!h->running || tag->node != h->self)
        return 0;
    /* dpend_put of our own copies (resend_ent, delta_to) appends to pend,
     * never to sent: the walk sees a set that does not change. */
    (void)dpend_each(&h->sent, tag, resend_ent, &r);
    nhome_flush_deltas(h);
    h->resent += r.n;
    *st = r.st;
    return r.n;
}

dvm_status nhome_on_dresend(nhome *h, const uint8_t *p, size_t len)
{
    cmsg_tags t;
    dvm_status st = cmsg_decode_dresend(p, len, &t);
    if (st || !h->running || t.run != h->run)
        return st;
    for (uint64_t i = 0; i < t.n && !st; i++) {
        uint64_t page;
        cmsg_tag tag;
        cmsg_tags_ent(&t, i, &page, &tag);
        (void)nhome_resend(h, &tag, &st);
    }
    return st;
}

/* Masks only: a copy of a delta this node sent (the changed bytes of
 * page under t), kept in sent until applied or dropped, for DRESEND.
 * DVM_ENOMEM. */
static dvm_status sent_put(nhome *h, const cmsg_tag *t, uint64_t page,
                           const uint64_t *mask, const uint8_t *packed,
                           size_t nb)
{
    if (!h->masks)
        return DVM_OK;
    uint8_t le[8 * CMSG_MASK_WORDS];
    for (size_t w = 0; w < CMSG_MASK_WORDS; w++)
        le_st64(le + 8 * w, mask[w]);
    cmsg_delta_ent e = { *t, page, le, { packed, nb } };
    return dpend_put(&h->sent, &e);
}

/* Under the test hook DVM_TEST_DELTA_ONE_HOLDER, 1 when a delta goes to
 * holder id of the nh in hold[] (this node's own copy always does). */
static int one_holder_gets(const nhome *h, const uint64_t *hold, size_t nh,
                           uint64_t id)
{
    uint64_t low = UINT64_MAX;
    for (size_t k = 0; k < nh; k++)
        if (hold[k] != h->self && hold[k] < low)
            low = hold[k];
    return !h->one_holder || id == h->self || id == low;
}

dvm_status nhome_deltas(nhome *h, uint64_t rcomp, uint64_t gen, uint64_t rid,
                        uint64_t attempt, const mem_change *c, size_t n,
                        const uint8_t *const *pages, const uint8_t *whole)
{
    static const uint64_t all[CMSG_MASK_WORDS] = {
#define ALL8 ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull
        ALL8, ALL8, ALL8, ALL8, ALL8, ALL8, ALL8, ALL8
#undef ALL8
    };
    if (!h->running || h->self == UINT64_MAX || !n || !h->nids ||
        (h->no_deltas && (!h->masks || h->no_deltas > 1)))
        return DVM_OK;
    int send = !h->no_deltas;       /* masks only: kept, sent on DRESEND */
    uint8_t *packed = dvm_malloc(CMSG_PAGE);
    if (!packed)
        return status_set(DVM_ENOMEM, "out of memory");
    const cmsg_tag t = { h->self, rcomp, gen, rid, attempt };
    dvm_status st = DVM_OK;
    for (size_t i = 0; i < n && !st; i++) {
        uint64_t hold[HOME_COPIES], mask[CMSG_MASK_WORDS];
        size_t nh = home_pick(c[i].page, h->ids, h->nids, hold);
        change_mask(&c[i], pages[i], mask);     /* once for both holders */
        size_t nb = cmsg_delta_pack(mask, pages[i], packed);
        for (size_t k = 0; k < nh && !st; k++)
            st = delta_to(h, hold[k], &t, c[i].page, mask, packed, nb,
                          send && one_holder_gets(h, hold, nh, hold[k]));
        if (!st)
            st = sent_put(h, &t, c[i].page, mask, packed, nb);
        const cmsg_tag tw = { t.node, t.rcomp, t.gen, t.rid,
                              t.attempt | CMSG_TAG_WHOLE };
        int full = whole && whole[i] == NHOME_WHOLE_PAGE;
        const uint64_t *wm = full ? all : mask;
        const uint8_t *wb = full ? pages[i] : packed;
        size_t wn = full ? CMSG_PAGE : nb;
        for (size_t k = 0; whole && whole[i] && k < nh && !st; k++)
            st = delta_to(h, hold[k], &tw, c[i].page, wm, wb, wn,
                          send && one_holder_gets(h, hold, nh, hold[k]));
        if (!st && whole && whole[i])
            st = sent_put(h, &tw, c[i].page, wm, wb, wn);
    }
    dvm_free(packed);
    return st;
}

/* Makes version (page, epoch) from (page, base) and the delta of t;
 * 1 when it is kept now (or already was). */
static int apply_one(nhome *h, const nhome_park *a, uint8_t *buf)
{
    if (hstore_find(&h->home, a->page, a->epoch))
        return 1;
    const uint8_t *b = a->base ? hstore_find(&h->home, a->page, a->base)
                               : NULL;
    if (a->base && !b)
        return 0;
    if (b)
        memcpy(buf, b, CMSG_PAGE);
    else
        memset(buf, 0, CMSG_PAGE);
    /* A result of this node whose page it did not hold when it sent the
     * delta, but holds now: its own sent copy makes the version. */
    int made = dpend_apply(&h->pend, &a->tag, a->page, buf) ||
               (a->tag.node == h->self &&
                dpend_apply(&h->sent, &a->tag, a->page, buf));
    if (made && a->tag.node == h->self) {
        uint8_t scratch[CMSG_PAGE];     /* applied: no resend any more */
        (void)dpend_apply(&h->sent, &a->tag, a->page, scratch);
    }
    return made && !hstore_put(&h->home, a->page, a->epoch, buf);
}

/* Adds (page, epoch) to the pairs *v (growing, *n of them). */
static dvm_status pair_add(uint64_t **v, size_t *n, size_t *cap,
                           uint64_t page, uint64_t epoch)
{
    uint64_t *x = dvm_grow(*v, cap, 2 * (*n + 1), sizeof *x);
    if (!x)
        return status_set(DVM_ENOMEM, "out of memory");
    *v = x;
    x[2 * *n] = page;
    x[2 * (*n)++ + 1] = epoch;
    return DVM_OK;
}

/* Makes what can be made of the parked APPLY entries from the one at
 * `from` on, in the order they came (a version is the base of the next
 * of its page, so an entry whose base waits waits too); those waiting
 * longer than NHOME_PARK_MS (at now_ns; 0: none) are asked for (NEED).
 * The versions made are acknowledged (STORED). */
static dvm_status park_run(nhome *h, uint64_t now_ns, size_t from)
{
    if (from >= h->npark)
        return DVM_OK;
    uint8_t buf[CMSG_PAGE];
    size_t w = from, nack = 0, nneed = 0;
    dvm_status st = DVM_OK;
    for (size_t i = from; i < h->npark && !st; i++) {
        nhome_park *a = &h->park[i];
        if (apply_one(h, a, buf)) {
            h->applied++;
            st = pair_add(&h->acks, &nack, &h->capacks, a->page, a->epoch);
        } else if (now_ns && !a->asked &&
                   now_ns - a->t_ns > NHOME_PARK_MS * 1000000ull) {
            h->needed++;
            st = pair_add(&h->needs, &nneed, &h->capneeds, a->page, a->epoch);
            /* Masks only: the master has no copy, the other holder may
             * not have it either (it lacked the delta): this entry goes
             * on waiting for its base, asked once. */
            a->asked = h->masks;
            if (a->asked)
                h->park[w++] = *a;
            /* and its base, when missing, is fetched from a holder
             * (collected at the master, it was not copied here). */
            const uint64_t b[2] = { a->page, a->base };
            if (!st && a->asked && a->base &&
                !hstore_find(&h->home, a->page, a->base))
                st = ask_all(h, b, 1, UINT64_MAX, 1);
        } else {
            h->park[w++] = *a;
        }
    }
    if (st)
        return st;
    h->npark = w;
    later_run(h);
    st = stored(h, h->acks, nack);
    if (h->exit_at && h->applied >= h->exit_at) {
        home_log(h, "test hook: killed after %" PRIu64 " versions made",
                 h->applied);
        raise(SIGKILL);
    }
    if (!st && nneed) {
        mb_reset(&h->b);
        cmsg_encode_fetch(&h->b, h->run, h->needs, nneed, 2, NULL, 0);
        st = h->b.oom ? status_set(DVM_ENOMEM, "out of memory")
                      : h->ops.to_master(h->ops.arg, WIRE_NEED, &h->b);
    }
    return st;
}

/* The versions to keep that no holder had: asked again (retry_add). */
static dvm_status retry_run(nhome *h, uint64_t now_ns)
{
    if (!h->nretry || now_ns - h->retry_ns < NHOME_PARK_MS * 1000000ull)
        return DVM_OK;
    h->retry_ns = now_ns;
    size_t n = h->nretry;
    uint64_t *pv = dvm_malloc(2 * n * sizeof *pv);
    if (!pv)
        return status_set(DVM_ENOMEM, "out of memory");
    memcpy(pv, h->retry, 2 * n * sizeof *pv);
    h->nretry = 0;
    dvm_status st = DVM_OK;
    for (size_t i = 0; i < n && !st; i++)       /* kept meanwhile: done */
        if (hstore_find(&h->home, pv[2 * i], pv[2 * i + 1]))
            st = stored(h, pv + 2 * i, 1);
        else
            st = ask_all(h, pv + 2 * i, 1, UINT64_MAX, 1);
    dvm_free(pv);
    return st;
}

dvm_status nhome_tick(nhome *h, uint64_t now_ns)
{
    peers_reconnect(h, now_ns);
    dvm_status st = h->running ? park_run(h, now_ns, 0) : DVM_OK;
    return st || !h->running ? st : retry_run(h, now_ns);
}

dvm_status nhome_on_apply(nhome *h, const uint8_t *p, size_t len)
{
    cmsg_fetch f;
    dvm_status st = cmsg_decode_apply(p, len, &f);
    if (st || !h->running || f.run != h->run)
        return st;
    nhome_park *a = dvm_grow(h->park, &h->cappark, h->npark + f.n + 1,
                             sizeof *a);
    if (!a)
        return status_set(DVM_ENOMEM, "out of memory");
    h->park = a;
    uint64_t now = clock_now_ns();
    size_t from = h->npark;
    for (uint64_t i = 0; i < f.n; i++) {
        nhome_park *e = &h->park[h->npark++];
        cmsg_apply_ent(&f, i, &e->page, &e->epoch, &e->base, &e->tag);
        e->t_ns = now;
        e->asked = 0;
        stall_stop_on_page("dvm node", e->page);
    }
    /* The entries parked before wait for something that has not come
     * (the node's loop tries them again at every turn): only the new
     * ones can be made now. */
    return park_run(h, 0, from);
}

/* Our connection to q is closed (q broke the protocol or went away);
 * its open questions move on. */
/* q's connection is gone (why): closed here, its questions moved on,
 * and q connected again after its backoff (peers_reconnect). */
static dvm_status peer_down(nhome *h, nhome_peer *q, const char *why)
{
    if (q->peer != UINT64_MAX)
        transport_close(h->t, q->peer);
    if (q->up && !q->lost)      /* once per loss, not per failed retry */
        home_log(h, "the connection to node %" PRIu64 " (%s) went down: "
                 "%s; connecting again", q->id, q->addr, why);
    q->lost |= q->up;
    q->up = 0;
    q->peer = UINT64_MAX;
    return reroute(h, q->id);
}

/* The open question (page, epoch) at id, removed: 1 + its keep flag, or
 * 0 when there is none. */
static int ask_take(nhome *h, uint64_t page, uint64_t epoch, uint64_t id)
{
    for (size_t i = 0; i < h->nask; i++)
        if (h->ask[i].page == page && h->ask[i].epoch == epoch &&
            h->ask[i].id == id) {
            int keep = h->ask[i].keep;
            h->ask[i] = h->ask[--h->nask];
            return 1 + keep;
        }
    return 0;
}

dvm_status nhome_on_pull(nhome *h, const uint8_t *p, size_t len)
{
    cmsg_fetch f;
    dvm_status st = cmsg_decode_fetch(p, len, 2, &f);
    if (st || !h->running || f.run != h->run)
        return st;
    uint64_t *pv = dvm_calloc(4 * f.n + 1, sizeof *pv);
    if (!pv)
        return status_set(DVM_ENOMEM, "out of memory");
    uint64_t *have = pv + 2 * f.n;
    size_t k = 0, kh = 0;
    for (uint64_t i = 0; i < f.n; i++) {
        uint64_t page = le_ld64(f.ent + 16 * i);
        uint64_t epoch = le_ld64(f.ent + 16 * i + 8);
        uint64_t *d = hstore_find(&h->home, page, epoch) ? have : pv;
        size_t *nd = d == have ? &kh : &k;
        d[2 * *nd] = page;
        d[2 * (*nd)++ + 1] = epoch;
    }
    st = stored(h, have, kh);
    if (!st)
        st = ask_all(h, pv, k, UINT64_MAX, 1);
    dvm_free(pv);
    return st;
}

/* HFETCHED from node q: the present ones into the page cache, the absent
 * ones asked of the next holder. */
static dvm_status answered(nhome *h, nhome_peer *q, const uint8_t *p,
                           size_t len)
{
    cmsg_fetch f;
    if (cmsg_decode_fetch(p, len, 3, &f))
        return peer_down(h, q, "a malformed answer");
    if (!h->running || f.run != h->run)
        return DVM_OK;
    uint64_t *pv = dvm_calloc(6 * f.n + 1, sizeof *pv);
    if (!pv)
        return status_set(DVM_ENOMEM, "out of memory");
    uint64_t *kv = pv + 2 * f.n, *got = pv + 4 * f.n;
    size_t k = 0, kk = 0, kg = 0, d = 0;
    for (uint64_t i = 0; i < f.n; i++) {
        uint64_t page = le_ld64(f.ent + 24 * i);
        uint64_t epoch = le_ld64(f.ent + 24 * i + 8);
        int present = (int)le_ld64(f.ent + 24 * i + 16);
        const uint8_t *data = present == 1 ? f.pages + CMSG_PAGE * d++ : NULL;
        int taken = ask_take(h, page, epoch, q->id);
        if (!taken)
            continue;                   /* not asked of it */
        uint64_t *to = data ? got : taken == 2 ? kv : pv;
        size_t *nto = data ? &kg : taken == 2 ? &kk : &k;
        if (data && taken == 2 && hstore_put(&h->home, page, epoch, data))
            continue;                   /* full: not acknowledged */
        if (data && taken == 1) {
            pcache_fill(h->pc, page, epoch, data);
            h->from_homes++;
            continue;
        }
        to[2 * *nto] = page;
        to[2 * (*nto)++ + 1] = epoch;
    }
    dvm_status st = ask_all(h, pv, k, q->id, 0);
    if (!st)
        st = ask_all(h, kv, kk, q->id, 1);
    if (!st)
        st = stored(h, got, kg);
    dvm_free(pv);
    return st ? st : h->ops.filled(h->ops.arg);
}

dvm_status nhome_on_event(nhome *h, transport_event *ev)
{
    nhome_peer *q = peer_by_conn(h, ev->peer);
    if (!q) {
        if (ev->kind == TRANSPORT_MSG && ev->type == WIRE_HFETCH) {
            if (serve(h, ev->peer, ev->data, ev->len, 0))  /* malformed */
                transport_close(h->t, ev->peer);
        } else if (ev->kind == TRANSPORT_MSG && ev->type == WIRE_DELTA) {
            if (take_deltas(h, ev->data, ev->len))  /* malformed */
                transport_close(h->t, ev->peer);
        } else if (ev->kind == TRANSPORT_MSG)
            transport_close(h->t, ev->peer);
        return DVM_OK;
    }
    if (ev->kind == TRANSPORT_UP) {
        q->up = 1;
        q->backoff_ms = NHOME_RECONNECT_MS;
        if (q->lost)
            home_log(h, "connected again to node %" PRIu64 " (%s)", q->id,
                     q->addr);
        q->lost = 0;
        return DVM_OK;
    }
    if (ev->kind == TRANSPORT_DOWN) {
        q->peer = UINT64_MAX;       /* gone already: nothing to close */
        return peer_down(h, q, ev->reason);
    }
    if (ev->type == WIRE_HFETCHED)
        return answered(h, q, ev->data, ev->len);
    return peer_down(h, q, "an unexpected message");
}
