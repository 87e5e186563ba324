/*
 * transport.c -- UCX endpoints, the handshake on each, framed messages.
 *
 * Everything UCX calls back (active messages, connection requests,
 * endpoint errors, completions) runs inside ucp_worker_progress, which only
 * transport_progress and transport_destroy call.  Those callbacks decide
 * and record but never call the application or post sends: a connection
 * request is queued, a message is appended to its peer's receive queue,
 * a failure marks the peer down.  Afterwards transport_progress walks the
 * peers: it accepts queued connection requests, sends the PROOF a handshake
 * owes, reports UP, hands out the messages at the head of each queue whose
 * data is complete, closes the endpoints of peers that are down and
 * reports them DOWN.  The application's callback therefore runs outside
 * UCX and may send, connect and close.
 *
 * Order.  UCX calls the active-message callback of one endpoint in the
 * order the messages were sent (one lane carries every AM header, the
 * rendezvous ones included), and the envelope's sequence number checks it.
 * A rendezvous message sits in its queue until its data has arrived, and
 * the messages behind it wait, so the application sees the sender's order.
 *
 * Authentication is decided inside the callback, the moment a HELLO or
 * PROOF arrives (auth.c is pure computation), so the check "no other type
 * before the peer is authenticated" is exact: a message that follows the
 * PROOF is accepted only if that PROOF was right.  The HELLO is sent when
 * the endpoint is made, so it is the first message in each direction.
 *
 * Lifetime.  A peer stays allocated while UCX may still call back with it:
 * refs counts its list entry, rendezvous receives in flight and an
 * endpoint close in flight.  A peer that is down is invisible to the API
 * (lookups skip it) but remains until refs drops to 0.
 *
 * Signs of life (transport.h).  am_recv stamps its peer with the listening
 * clock of the turn it arrives in; every turn of UCX (progress_ucx: from
 * transport_progress, transport_drain, transport_tick) first moves that
 * clock, then sends the keepalives due.  The listening clock is the
 * monotonic clock less this side's deaf time: of each pause between two
 * turns, what exceeds cfg.deaf_gap_ms.  The reason: a pause of this side
 * (a long commit, a disk write, a process that got no CPU) is a time in
 * which nothing a peer sent could be read, so counting it as the peer's
 * silence would give up healthy peers exactly when this side is slow.  A
 * pause up to deaf_gap_ms is an ordinary turn of a loop that sleeps at
 * most that long, and counts in full.
 *
 * Flow control.  A sender that paces itself by its sends' completions
 * (transport_drain) is not paced by the receiving application: UCX
 * completes a send once the bytes left, and the receiver's turns of UCX
 * (every transport_drain and transport_tick, and each keepalive period of
 * a long backlog) copy what arrives into its receive queue whether or not
 * its application is taking messages.  A master slow to copy in the
 * records of a node's large result (a loaded host) thus queued them as
 * fast as the node shipped them.
 * So each side tells its peer, in a TAKEN message, how many payload bytes
 * of the peer's messages its application has been handed so far
 * (cumulative, so a lost count cannot drift), whenever that grew by
 * TRANSPORT_TAKEN_STEP since it last told; a sender counts the payload of
 * its application's messages, and what the peer has not taken is the
 * difference.  transport_drain waits for both: the sends done, and no
 * more than max bytes untaken beyond the TAKEN_STEP the peer may owe
 * (a peer that took everything owes less than a step, so a drain never
 * waits for a TAKEN that will not come).  What a receiver queues from
 * one drained sender is then bounded by max, a step and the message sent
 * after the drain, whatever its application is busy with.  A TAKEN that goes back, or counts more than
 * was sent, is a protocol error.
 *
 * UCX in a container.  Over loopback UCX picks TCP and shared memory by
 * itself (UCX_TLS unset); posix/sysv shared memory and TCP work in a
 * sandbox without RDMA devices.  UCX may warn about transports it cannot
 * use; those lines are UCX's, on stderr, and harmless.
 */
#include "cluster/transport.h"

#include <assert.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucp/api/ucp.h>

#include "cluster/addr.h"
#include "cluster/wire.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/dynlib.h"
#include "util/le.h"

/* UCX's functions, from libucp.so.0 (which brings libucs), loaded at the
 * first transport_create (util/dynlib.h): a process that never talks to
 * another host never loads UCX.  One line per function; the pointers have
 * the types of ucp.h's declarations. */
#define UCX_FNS(X)                                                       \
    X(ucp_am_recv_data_nbx)                                              \
    X(ucp_am_send_nbx)                                                   \
    X(ucp_cleanup)                                                       \
    X(ucp_config_read)                                                   \
    X(ucp_config_release)                                                \
    X(ucp_conn_request_query)                                            \
    X(ucp_ep_close_nbx)                                                  \
    X(ucp_ep_create)                                                     \
    X(ucp_init_version)                                                  \
    X(ucp_listener_create)                                               \
    X(ucp_listener_destroy)                                              \
    X(ucp_listener_query)                                                \
    X(ucp_listener_reject)                                               \
    X(ucp_request_free)                                                  \
    X(ucp_worker_arm)                                                    \
    X(ucp_worker_create)                                                 \
    X(ucp_worker_destroy)                                                \
    X(ucp_worker_get_efd)                                                \
    X(ucp_worker_progress)                                               \
    X(ucp_worker_set_am_recv_handler)                                    \
    X(ucs_status_string)

DYNLIB_TABLE(ucx, ucx_load, "libucp.so.0", UCX_FNS, "the cluster transport")

#define TRANSPORT_AM_ID 17
#define TRANSPORT_REASON_MAX 256
#define TRANSPORT_BYE_MAX 200       /* longest reason a BYE may carry */
#define TRANSPORT_PROGRESS_ROUNDS 4096
#define TRANSPORT_DESTROY_MS 2000
#define TRANSPORT_TAKEN_STEP (256u << 10)   /* bytes taken between TAKENs */

enum tpeer_state { P_HANDSHAKE, P_UP };

typedef struct tpeer tpeer;

typedef struct rxmsg {
    struct rxmsg *next;
    tpeer *p;
    uint16_t type;
    uint8_t *data;
    size_t len;
    int done;           /* the data has arrived */
    int failed;         /* ... or not: the receive failed */
    int orphan;         /* the peer went down while it was arriving */
} rxmsg;

struct tpeer {
    transport *t;
    uint64_t id;
    ucp_ep_h ep;                    /* NULL once closed */
    int inbound;
    enum tpeer_state state;
    auth_session auth;
    uint64_t tx_seq, rx_seq;
    rxmsg *rx_head, *rx_tail;
    int down;                       /* gone; DOWN to report */
    int down_reported;
    int announced;                  /* the application knows its id */
    int local_close;                /* the application closed it */
    int flush_close;                /* close the endpoint flushed, not forced */
    int refused;                    /* this side refused it: BYE says why */
    int refs;
    void *close_req;                /* its endpoint's close, not done yet */
    tpeer *close_next;              /* in the transport's closing list */
    int64_t deadline_ms;            /* the handshake must be done by then */
    int keepalive;                  /* transport_keepalive */
    uint64_t heard_ns;              /* listening clock at its last message */
    uint64_t sent_ns;               /* monotonic clock at the last send */
    size_t unsent;                  /* payload bytes of sends not done */
    uint64_t sent_app;              /* payload bytes the application sent */
    uint64_t peer_took;             /* ... of which the peer's TAKEN says
                                       its application took */
    uint64_t took;                  /* payload bytes of the peer's messages
                                       handed to the application */
    uint64_t took_told;             /* ... as last told in a TAKEN */
    dvm_status down_status;
    char reason[TRANSPORT_REASON_MAX];
    char name[ADDR_TEXT_MAX];
};

typedef struct txreq {
    uint8_t hdr[WIRE_HEADER_SIZE];
    transport *t;
    uint64_t peer;                  /* whose unsent bytes it counts in */
    size_t len;
    transport_sent_fn done;
    void *arg;
    uint8_t copy[];
} txreq;

struct transport {
    transport_config cfg;
    ucp_context_h ctx;
    ucp_worker_h worker;
    ucp_listener_h listener;
    int efd;
    tpeer **peers;
    size_t npeers, cap_peers;
    size_t live;                    /* peers not yet reported down */
    ucp_conn_request_h *conns;      /* connection requests to accept */
    size_t nconns, cap_conns;
    uint64_t next_id;
    size_t inflight;                /* UCX requests that will call back */
    tpeer *closing;                 /* peers whose close is under way */
    uint64_t turn_ns;               /* monotonic clock at the last turn */
    uint64_t deaf_ns;               /* this side's pauses beyond the gap */
    transport_stats stats;
};

/* ---- logging and failure -------------------------------------------- */

/* One line to the configured log (or "dvm: LINE" on stderr). */
static void transport_log(transport *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void transport_log(transport *t, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (t->cfg.log)
        t->cfg.log(t->cfg.arg, line);
    else
        fprintf(stderr, "dvm: %s\n", line);
}

/* Marks p down with status st and reason (first decision wins). */
static void peer_down(tpeer *p, dvm_status st, const char *reason)
{
    if (p->down)
        return;
    p->down = 1;
    p->down_status = st;
    snprintf(p->reason, sizeof p->reason, "%s", reason);
}

/* This side refuses p for the reason of the status just recorded: logged
 * here, once per peer, and told to the peer in a BYE. */
static void peer_refuse(tpeer *p)
{
    if (p->down)
        return;
    peer_down(p, DVM_EPROTO, status_message());
    p->refused = 1;
    p->flush_close = 1;
    p->t->stats.refused++;
    transport_log(p->t, "transport: peer %" PRIu64 " (%s) refused: %s",
                  p->id, p->name, p->reason);
}

/* A BYE from p with the reason text[0, n): empty for an orderly close,
 * else why p refused this side (shown with unprintable bytes as '?'). */
static void recv_bye(tpeer *p, const uint8_t *text, size_t n, int rndv)
{
    char why[TRANSPORT_REASON_MAX];
    if (rndv || n > TRANSPORT_BYE_MAX) {
        status_set(DVM_EPROTO, "bye of %zu bytes", n);
        peer_refuse(p);
        return;
    }
    if (n == 0) {
        peer_down(p, DVM_ECLOSED, "closed by the peer");
        return;
    }
    int k = snprintf(why, sizeof why, "refused by the peer: ");
    for (size_t i = 0; i < n && (size_t)k + 1 < sizeof why; i++)
        why[k++] = text[i] >= 0x20 && text[i] < 0x7f ? (char)text[i] : '?';
    why[k] = 0;
    peer_down(p, DVM_EPROTO, why);
}

/* ---- peers ------------------------------------------------------------ */

/* Milliseconds on the DVM's clock (util/clock.h). */
static int64_t now_ms(void)
{
    return (int64_t)(clock_now_ns() / 1000000);
}

/* Nanoseconds on the DVM's clock. */
static uint64_t now_ns(void)
{
    return clock_now_ns();
}

/* The listening clock at monotonic time now (see the top): the time
 * since the last turn counts up to the deaf gap. */
static uint64_t listen_ns(const transport *t, uint64_t now)
{
    uint64_t gap = (uint64_t)t->cfg.deaf_gap_ms * 1000000u;
    uint64_t since = now > t->turn_ns ? now - t->turn_ns : 0;
    return t->turn_ns - t->deaf_ns + (since < gap ? since : gap);
}

/* The live peer with that id, or NULL. */
static tpeer *peer_by_id(const transport *t, uint64_t id)
{
    for (size_t i = 0; i < t->npeers; i++)
        if (t->peers[i]->id == id && !t->peers[i]->down)
            return t->peers[i];
    return NULL;
}

/* The listed peer (live or down) whose endpoint is ep, or NULL. */
static tpeer *peer_by_ep(const transport *t, ucp_ep_h ep)
{
    for (size_t i = 0; i < t->npeers; i++)
        if (t->peers[i]->ep == ep)
            return t->peers[i];
    return NULL;
}

/* Frees a peer nobody refers to any more. */
static void peer_free(tpeer *p)
{
    assert(p->refs == 0 && !p->rx_head && !p->ep);
    dvm_free(p);
}

/* Drops one reference; the last frees p. */
static void peer_unref(tpeer *p)
{
    assert(p->refs > 0);
    if (--p->refs == 0)
        peer_free(p);
}

/* A new peer, listed, in handshake; ep is set by the caller.  NULL on
 * allocation failure. */
static tpeer *peer_new(transport *t, int inbound, const char *name)
{
    tpeer *p = dvm_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    tpeer **a = dvm_grow(t->peers, &t->cap_peers, t->npeers + 1, sizeof *a);
    if (!a) {
        dvm_free(p);
        return NULL;
    }
    t->peers = a;
    t->peers[t->npeers++] = p;
    t->live++;
    p->t = t;
    p->id = ++t->next_id;
    p->inbound = inbound;
    p->state = P_HANDSHAKE;
    p->refs = 1;
    p->deadline_ms = now_ms() + (int64_t)t->cfg.handshake_ms;
    p->sent_ns = now_ns();
    p->heard_ns = listen_ns(t, p->sent_ns);
    snprintf(p->name, sizeof p->name, "%s", name);
    return p;
}

/* ---- sending ---------------------------------------------------------- */

/* UCX: a send that did not finish at once is done (or failed); hands the
 * buffer back and frees the request. */
static void send_done(void *request, ucs_status_t status, void *user_data)
{
    txreq *r = user_data;
    transport *t = r->t;
    tpeer *p = peer_by_id(t, r->peer);
    t->inflight--;
    if (p)
        p->unsent -= r->len;
    if (r->done)
        r->done(r->arg, status == UCS_OK ? DVM_OK : DVM_EIO);
    dvm_free(r);
    ucx.ucp_request_free(request);
}

/* 1 for the transport's own messages (the handshake, BYE, TAKEN): never
 * the application's to send, and always sent eagerly (a receiver refuses
 * them by rendezvous). */
static int transport_own_type(uint16_t type)
{
    return wire_type_is_handshake(type) || type == WIRE_BYE ||
           type == WIRE_TAKEN;
}

/* Posts the message of r (header filled here) with payload data[0, len)
 * on p's endpoint; r is owned by the send from now on (freed, r->done
 * called, at completion).  DVM_EIO if UCX refuses at once; r->done is
 * not called then, but r is freed. */
static dvm_status peer_post(transport *t, tpeer *p, uint16_t type,
                            const void *data, size_t len, txreq *r)
{
    wire_encode(r->hdr, type, len, p->tx_seq++);
    r->t = t;
    uint32_t flags = UCP_AM_SEND_FLAG_REPLY;
    if (t->cfg.rndv_min && len >= t->cfg.rndv_min && !transport_own_type(type))
        flags |= UCP_AM_SEND_FLAG_RNDV;
    ucp_request_param_t prm = {
        .op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK |
                        UCP_OP_ATTR_FIELD_USER_DATA | UCP_OP_ATTR_FIELD_FLAGS,
        .flags = flags,
        .cb.send = send_done,
        .user_data = r,
    };
    ucs_status_ptr_t req = ucx.ucp_am_send_nbx(p->ep, TRANSPORT_AM_ID,
                                               r->hdr, WIRE_HEADER_SIZE,
                                               data, len, &prm);
    t->stats.sent++;
    p->sent_ns = now_ns();
    if (req == NULL) {
        if (r->done)
            r->done(r->arg, DVM_OK);
        dvm_free(r);
        return DVM_OK;
    }
    if (UCS_PTR_IS_ERR(req)) {
        dvm_free(r);
        return status_set(DVM_EIO, "send to peer %" PRIu64 " (%s): %s", p->id,
                          p->name,
                          ucx.ucs_status_string(UCS_PTR_STATUS(req)));
    }
    t->inflight++;
    r->peer = p->id;
    r->len = len;
    p->unsent += len;
    return DVM_OK;
}

/* Sends a copy of data[0, len) to p; the transport's own messages. */
static dvm_status peer_send_copy(transport *t, tpeer *p, uint16_t type,
                                 const void *data, size_t len)
{
    txreq *r = dvm_malloc(sizeof *r + len);
    if (!r)
        return status_set(DVM_ENOMEM, "no memory for a message of %zu bytes",
                          len);
    r->done = NULL;
    r->arg = NULL;
    if (len)
        memcpy(r->copy, data, len);
    return peer_post(t, p, type, r->copy, len, r);
}

/* Sends this side's HELLO on p's new endpoint; the peer goes down if it
 * cannot. */
static void peer_send_hello(transport *t, tpeer *p)
{
    uint8_t hello[AUTH_HELLO_SIZE];
    auth_hello(&p->auth, hello);
    if (peer_send_copy(t, p, WIRE_HELLO, hello, sizeof hello))
        peer_down(p, DVM_EIO, status_message());
}

/* Checks a send by the application; sets *out to the peer. */
static dvm_status send_check(transport *t, uint64_t peer, uint16_t type,
                             size_t len, tpeer **out)
{
    if (type == 0 || type >= WIRE_TYPE_END || transport_own_type(type))
        return status_set(DVM_EINVAL, "cannot send message type %u", type);
    if (len > t->cfg.max_msg)
        return status_set(DVM_EINVAL, "message of %zu bytes exceeds the limit "
                          "of %zu", len, t->cfg.max_msg);
    tpeer *p = peer_by_id(t, peer);
    if (!p || p->state != P_UP)
        return status_set(DVM_ENOENT, "peer %" PRIu64 " is not connected",
                          peer);
    *out = p;
    return DVM_OK;
}

dvm_status transport_send(transport *t, uint64_t peer, uint16_t type,
                          const void *data, size_t len)
{
    tpeer *p;
    dvm_status st = send_check(t, peer, type, len, &p);
    if (st)
        return st;
    st = peer_send_copy(t, p, type, data, len);
    if (!st)
        p->sent_app += len;
    return st;
}

dvm_status transport_send_ref(transport *t, uint64_t peer, uint16_t type,
                              const void *data, size_t len,
                              transport_sent_fn done, void *arg)
{
    tpeer *p;
    dvm_status st = send_check(t, peer, type, len, &p);
    if (st)
        return st;
    txreq *r = dvm_malloc(sizeof *r);
    if (!r)
        return status_set(DVM_ENOMEM, "no memory for a send request");
    r->done = done;
    r->arg = arg;
    st = peer_post(t, p, type, data, len, r);
    if (!st)
        p->sent_app += len;
    return st;
}

/* ---- receiving (inside ucp_worker_progress) --------------------------- */

/* Frees a received message and its data (NULL if the application took
 * it). */
static void rxmsg_free(rxmsg *m)
{
    dvm_free(m->data);
    dvm_free(m);
}

/* UCX: the data of a rendezvous message is in m->data (or failed).  An
 * orphan (its peer went down meanwhile) is freed here. */
static void recv_done(void *request, ucs_status_t status, size_t length,
                      void *user_data)
{
    (void)length;
    rxmsg *m = user_data;
    tpeer *p = m->p;
    ucx.ucp_request_free(request);
    p->t->inflight--;
    m->done = 1;
    m->failed = status != UCS_OK;
    if (m->orphan)
        rxmsg_free(m);
    else if (m->failed)
        peer_down(p, DVM_EIO, ucx.ucs_status_string(status));
    peer_unref(p);
}

/* Starts receiving a rendezvous payload into m->data. */
static void recv_rndv(transport *t, tpeer *p, rxmsg *m, void *desc)
{
    ucp_request_param_t prm = {
        .op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA,
        .cb.recv_am = recv_done,
        .user_data = m,
    };
    t->stats.received_rndv++;
    ucs_status_ptr_t req = ucx.ucp_am_recv_data_nbx(t->worker, desc,
                                                    m->data, m->len, &prm);
    if (req == NULL) {
        m->done = 1;
    } else if (UCS_PTR_IS_ERR(req)) {
        m->done = m->failed = 1;
        peer_down(p, DVM_EIO, ucx.ucs_status_string(UCS_PTR_STATUS(req)));
    } else {
        p->refs++;
        t->inflight++;
    }
}

/* Queues the message h of p whose payload is data (or, rendezvous, the
 * descriptor data). */
static void recv_enqueue(transport *t, tpeer *p, const wire_header *h,
                         void *data, int rndv)
{
    rxmsg *m = dvm_calloc(1, sizeof *m);
    uint8_t *buf = dvm_malloc(h->length ? h->length : 1);
    if (!m || !buf) {
        dvm_free(m);
        dvm_free(buf);
        peer_down(p, DVM_EIO, "no memory for a received message");
        return;
    }
    m->p = p;
    m->type = h->type;
    m->data = buf;
    m->len = h->length;
    if (p->rx_tail)
        p->rx_tail->next = m;
    else
        p->rx_head = m;
    p->rx_tail = m;
    if (rndv) {
        recv_rndv(t, p, m, data);
    } else {
        if (m->len)
            memcpy(buf, data, m->len);
        m->done = 1;
    }
}

/* A handshake message h of p, payload data. */
static void recv_handshake(tpeer *p, const wire_header *h, const void *data,
                           int rndv)
{
    dvm_status st;
    if (auth_done(&p->auth))
        st = status_set(DVM_EPROTO, "%s message after authentication",
                        wire_type_name(h->type));
    else if (rndv)
        st = status_set(DVM_EPROTO, "%s message by rendezvous",
                        wire_type_name(h->type));
    else if (h->type == WIRE_HELLO)
        st = auth_on_hello(&p->auth, data, h->length);
    else
        st = auth_on_proof(&p->auth, data, h->length);
    if (st)
        peer_refuse(p);
}

/* A TAKEN from p: its application has taken the first n payload bytes
 * this side's application sent it (the transport's comment, Flow
 * control).  A count that goes back or exceeds what was sent refuses p. */
static void recv_taken(tpeer *p, const uint8_t *data, size_t len, int rndv)
{
    if (len != 8 || rndv) {
        status_set(DVM_EPROTO, "taken message of %zu bytes%s", len,
                   rndv ? " by rendezvous" : "");
        peer_refuse(p);
        return;
    }
    uint64_t n = le_ld64(data);
    if (n < p->peer_took || n > p->sent_app) {
        status_set(DVM_EPROTO, "taken %" PRIu64 " bytes, of %" PRIu64
                   " sent (%" PRIu64 " taken before)", n, p->sent_app,
                   p->peer_took);
        peer_refuse(p);
        return;
    }
    p->peer_took = n;
}

/* Decides one incoming message h of p: handshake, BYE, TAKEN, or
 * queued. */
static void recv_message(transport *t, tpeer *p, const wire_header *h,
                         void *data, int rndv)
{
    if (h->seq != p->rx_seq) {
        status_set(DVM_EPROTO, "message %" PRIu64 " out of sequence "
                   "(expected %" PRIu64 ")", h->seq, p->rx_seq);
        peer_refuse(p);
        return;
    }
    p->rx_seq++;
    if (h->type == WIRE_BYE) {
        recv_bye(p, data, h->length, rndv);
    } else if (wire_type_is_handshake(h->type)) {
        recv_handshake(p, h, data, rndv);
    } else if (!auth_done(&p->auth)) {
        status_set(DVM_EPROTO, "%s message before authentication",
                   wire_type_name(h->type));
        peer_refuse(p);
    } else if (h->type == WIRE_TAKEN) {
        recv_taken(p, data, h->length, rndv);
    } else {
        recv_enqueue(t, p, h, data, rndv);
    }
}

/* UCX: one active message.  Finds the sender by its endpoint (every send
 * carries UCP_AM_SEND_FLAG_REPLY), validates the envelope and decides it.
 * Always UCS_OK: the data is copied or its rendezvous started here. */
static ucs_status_t am_recv(void *arg, const void *header, size_t hlen,
                            void *data, size_t len,
                            const ucp_am_recv_param_t *param)
{
    transport *t = arg;
    tpeer *p = NULL;
    if (param->recv_attr & UCP_AM_RECV_ATTR_FIELD_REPLY_EP)
        p = peer_by_ep(t, param->reply_ep);
    if (!p || p->down)
        return UCS_OK;              /* unknown or gone: dropped */
    t->stats.received++;
    p->heard_ns = t->turn_ns - t->deaf_ns;  /* this turn's listening time */
    wire_header h;
    if (wire_decode(header, hlen, len, t->cfg.max_msg, &h))
        peer_refuse(p);
    else
        recv_message(t, p, &h, data,
                     !!(param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV));
    return UCS_OK;
}

/* UCX: p's endpoint failed (peer died, connection reset, unreachable). */
static void ep_error(void *arg, ucp_ep_h ep, ucs_status_t status)
{
    (void)ep;
    tpeer *p = arg;
    char why[TRANSPORT_REASON_MAX];
    snprintf(why, sizeof why, "endpoint failed: %s",
             ucx.ucs_status_string(status));
    peer_down(p, DVM_EIO, why);
}

/* UCX: a client connects to the listener; accepted in transport_progress
 * (accept_queued), or rejected at once if it cannot even be queued. */
static void conn_request(ucp_conn_request_h req, void *arg)
{
    transport *t = arg;
    ucp_conn_request_h *a = dvm_grow(t->conns, &t->cap_conns, t->nconns + 1,
                                     sizeof *a);
    if (!a) {
        ucx.ucp_listener_reject(t->listener, req);
        return;
    }
    t->conns = a;
    t->conns[t->nconns++] = req;
}

/* ---- endpoints -------------------------------------------------------- */

/* Creates p's endpoint from params (address or connection request, set by
 * the caller) and sends the HELLO.  DVM_EIO on failure (p stays down). */
static dvm_status peer_open(transport *t, tpeer *p, ucp_ep_params_t *prm)
{
    prm->field_mask |= UCP_EP_PARAM_FIELD_ERR_HANDLER |
                       UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE;
    prm->err_mode = UCP_ERR_HANDLING_MODE_PEER;
    prm->err_handler.cb = ep_error;
    prm->err_handler.arg = p;
    dvm_status st = auth_start(&p->auth, t->cfg.secret, !p->inbound);
    if (st) {
        peer_down(p, st, status_message());
        return st;
    }
    ucs_status_t us = ucx.ucp_ep_create(t->worker, prm, &p->ep);
    if (us != UCS_OK) {
        p->ep = NULL;
        st = status_set(DVM_EIO, "%s: cannot create endpoint: %s", p->name,
                        ucx.ucs_status_string(us));
        peer_down(p, st, status_message());
        return st;
    }
    peer_send_hello(t, p);
    return DVM_OK;
}

/* Takes p out of t's closing list (it is there). */
static void closing_unlink(transport *t, tpeer *p)
{
    tpeer **l = &t->closing;
    while (*l != p) {
        assert(*l);
        l = &(*l)->close_next;
    }
    *l = p->close_next;
    p->close_next = NULL;
}

/* Ends p's close, done or given up: the request goes back to UCX (one
 * not finished completes inside it, without calling back) and the
 * peer's reference for it goes. */
static void close_release(transport *t, tpeer *p)
{
    assert(p->close_req);
    closing_unlink(t, p);
    ucx.ucp_request_free(p->close_req);
    p->close_req = NULL;
    t->inflight--;
    peer_unref(p);
}

/* UCX: an endpoint close finished. */
static void close_done(void *request, ucs_status_t status, void *user_data)
{
    (void)status;
    tpeer *p = user_data;
    assert(p->close_req == request);
    (void)request;
    close_release(p->t, p);
}

/* Closes p's endpoint: flushed after an orderly close, forced otherwise. */
static void peer_close_ep(transport *t, tpeer *p)
{
    ucp_request_param_t prm = {
        .op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK |
                        UCP_OP_ATTR_FIELD_USER_DATA | UCP_OP_ATTR_FIELD_FLAGS,
        .flags = p->flush_close ? 0 : UCP_EP_CLOSE_FLAG_FORCE,
        .cb.send = close_done,
        .user_data = p,
    };
    ucs_status_ptr_t req = ucx.ucp_ep_close_nbx(p->ep, &prm);
    p->ep = NULL;
    if (req && !UCS_PTR_IS_ERR(req)) {
        p->refs++;
        t->inflight++;
        p->close_req = req;
        p->close_next = t->closing;
        t->closing = p;
    }
}

/* Accepts one queued connection request (or rejects it: too many). */
static void accept_one(transport *t, ucp_conn_request_h req)
{
    char name[ADDR_TEXT_MAX] = "?";
    ucp_conn_request_attr_t attr = {
        .field_mask = UCP_CONN_REQUEST_ATTR_FIELD_CLIENT_ADDR};
    if (ucx.ucp_conn_request_query(req, &attr) == UCS_OK)
        addr_format((struct sockaddr *)&attr.client_address, name);
    int full = t->live >= t->cfg.max_peers;
    tpeer *p = full ? NULL : peer_new(t, 1, name);
    if (!p) {
        if (full)
            transport_log(t, "transport: connection from %s rejected: %zu "
                          "peers connected, the limit", name, t->live);
        else
            transport_log(t, "transport: connection from %s rejected: no "
                          "memory for a peer", name);
        ucx.ucp_listener_reject(t->listener, req);
        return;
    }
    ucp_ep_params_t prm = {.field_mask = UCP_EP_PARAM_FIELD_CONN_REQUEST,
                           .conn_request = req};
    (void)peer_open(t, p, &prm);
}

/* Accepts or rejects every queued connection request. */
static void accept_queued(transport *t)
{
    for (size_t i = 0; i < t->nconns; i++)
        accept_one(t, t->conns[i]);
    t->nconns = 0;
}

/* ---- delivery (outside UCX) ------------------------------------------ */

/* Hands ev to the application's callback. */
static void deliver(transport *t, transport_event *ev)
{
    if (t->cfg.on_event)
        t->cfg.on_event(t->cfg.arg, ev);
}

/* Sends the PROOF p's handshake owes; reports UP when it is complete
 * (also when p went down since: UP, then DOWN). */
static size_t service_handshake(transport *t, tpeer *p)
{
    if (!p->down && auth_proof_due(&p->auth)) {
        uint8_t proof[AUTH_PROOF_SIZE];
        dvm_status st = auth_proof(&p->auth, proof);
        if (!st)
            st = peer_send_copy(t, p, WIRE_PROOF, proof, sizeof proof);
        if (st) {
            peer_down(p, DVM_EIO, status_message());
            return 0;
        }
    }
    if (!auth_done(&p->auth))
        return 0;
    p->state = P_UP;
    p->announced = 1;
    transport_event ev = {.kind = TRANSPORT_UP, .peer = p->id,
                          .inbound = p->inbound};
    deliver(t, &ev);
    return 1;
}

static void progress_ucx(transport *t);

/* Turns UCX when a keepalive period passed since the last turn: between
 * two messages of a long backlog (see service_messages). */
static void turn_if_due(transport *t)
{
    if (t->cfg.keepalive_type &&
        now_ns() - t->turn_ns >= (uint64_t)t->cfg.keepalive_ms * 1000000u)
        progress_ucx(t);
}

/* Tells p what this side's application has taken of its messages, once
 * that grew by a step since the last TAKEN (the comment atop, Flow
 * control). */
static void tell_taken(transport *t, tpeer *p)
{
    if (p->took - p->took_told < TRANSPORT_TAKEN_STEP || p->down ||
        !p->ep || p->local_close)
        return;
    uint8_t n[8];
    le_st64(n, p->took);
    if (peer_send_copy(t, p, WIRE_TAKEN, n, sizeof n))
        peer_down(p, DVM_EIO, status_message());
    else
        p->took_told = p->took;
}

/* Hands out p's complete messages from the head of its queue: those that
 * were queued when it began.  Handling one may take long (a master
 * committing a batch of results, writing its state), and a backlog of
 * them longer still, with no turn of UCX: no keepalive would leave, and
 * a peer that waits for signs of life (a node for its master) would give
 * this side up while it works.  So between two messages UCX turns once a
 * keepalive period has passed; what that brings waits for the next call
 * (the bound on the loop), so that one busy peer cannot keep it going. */
static size_t service_messages(transport *t, tpeer *p)
{
    size_t n = 0;
    const rxmsg *last = p->rx_tail;
    while (p->rx_head && p->rx_head->done && !p->rx_head->failed &&
           !p->local_close) {
        rxmsg *m = p->rx_head;
        int was_last = m == last;
        p->rx_head = m->next;
        if (!p->rx_head)
            p->rx_tail = NULL;
        transport_event ev = {.kind = TRANSPORT_MSG, .peer = p->id,
                              .inbound = p->inbound, .type = m->type,
                              .data = m->data, .len = m->len};
        deliver(t, &ev);
        m->data = ev.data;          /* NULL if taken */
        p->took += m->len;
        rxmsg_free(m);
        tell_taken(t, p);
        n++;
        if (was_last)
            break;
        turn_if_due(t);
    }
    return n;
}

/* Drops p's queue: complete messages are freed, the ones still arriving
 * are freed by their completion. */
static void drop_queue(tpeer *p)
{
    rxmsg *m = p->rx_head;
    while (m) {
        rxmsg *next = m->next;
        if (m->done)
            rxmsg_free(m);
        else
            m->orphan = 1;
        m = next;
    }
    p->rx_head = p->rx_tail = NULL;
}

/* A peer that is down: close its endpoint, report it (if the application
 * knew it) and drop the list's reference. */
static size_t service_down(transport *t, tpeer *p)
{
    if (p->ep && p->refused)
        (void)peer_send_copy(t, p, WIRE_BYE, p->reason,
                             strnlen(p->reason, TRANSPORT_BYE_MAX));
    if (p->ep)
        peer_close_ep(t, p);
    drop_queue(p);
    p->down_reported = 1;
    t->live--;
    if (!p->announced)
        return 0;                   /* the application never heard of it */
    transport_event ev = {.kind = TRANSPORT_DOWN, .peer = p->id,
                          .inbound = p->inbound, .status = p->down_status,
                          .reason = p->reason};
    deliver(t, &ev);
    return 1;
}

/* Everything transport_progress owes p: handshake, UP, messages, DOWN.
 * Returns the events delivered. */
static size_t service_peer(transport *t, tpeer *p)
{
    size_t n = 0;
    if (p->state == P_HANDSHAKE)
        n += service_handshake(t, p);
    if (p->state == P_UP)
        n += service_messages(t, p);
    if (p->down && !p->down_reported)
        n += service_down(t, p);
    return n;
}

/* Unlists the peers reported down; frees those nobody else refers to. */
static void reap(transport *t)
{
    size_t j = 0;
    for (size_t i = 0; i < t->npeers; i++) {
        tpeer *p = t->peers[i];
        if (p->down_reported)
            peer_unref(p);
        else
            t->peers[j++] = p;
    }
    t->npeers = j;
}

/* A turn begins: the listening clock moves (a pause beyond the deaf gap
 * is this side's own, not the peers' silence). */
static void turn_begin(transport *t)
{
    uint64_t now = now_ns(), gap = (uint64_t)t->cfg.deaf_gap_ms * 1000000u;
    if (now > t->turn_ns + gap)
        t->deaf_ns += now - t->turn_ns - gap;
    if (now > t->turn_ns)
        t->turn_ns = now;
}

/* Sends an empty keepalive to every peer that wants one and was sent
 * nothing for cfg.keepalive_ms. */
static void send_keepalives(transport *t)
{
    if (!t->cfg.keepalive_type)
        return;
    uint64_t due = (uint64_t)t->cfg.keepalive_ms * 1000000u;
    for (size_t i = 0; i < t->npeers; i++) {
        tpeer *p = t->peers[i];
        if (p->keepalive && !p->down && p->state == P_UP &&
            t->turn_ns - p->sent_ns >= due &&
            peer_send_copy(t, p, t->cfg.keepalive_type, NULL, 0))
            peer_down(p, DVM_EIO, status_message());
    }
}

/* One turn: runs UCX until it has nothing more to do right now (bounded),
 * then sends the keepalives due. */
static void progress_ucx(transport *t)
{
    turn_begin(t);
    for (int i = 0; i < TRANSPORT_PROGRESS_ROUNDS; i++)
        if (!ucx.ucp_worker_progress(t->worker))
            break;
    send_keepalives(t);
}

/* Refuses the peers whose handshake ran past its deadline. */
static void expire_handshakes(transport *t)
{
    int64_t now = now_ms();
    for (size_t i = 0; i < t->npeers; i++) {
        tpeer *p = t->peers[i];
        if (!p->down && p->state == P_HANDSHAKE && !auth_done(&p->auth) &&
            now >= p->deadline_ms) {
            status_set(DVM_EPROTO, "handshake not done within %zu ms",
                       t->cfg.handshake_ms);
            peer_refuse(p);
        }
    }
}

int transport_timeout_ms(const transport *t)
{
    int64_t first = -1, now = now_ms();
    for (size_t i = 0; i < t->npeers; i++) {
        const tpeer *p = t->peers[i];
        if (!p->down && p->state == P_HANDSHAKE && !auth_done(&p->auth) &&
            (first < 0 || p->deadline_ms < first))
            first = p->deadline_ms;
    }
    if (first < 0)
        return -1;
    return first <= now ? 0 : (int)(first - now);
}

size_t transport_progress(transport *t)
{
    progress_ucx(t);
    accept_queued(t);
    expire_handshakes(t);
    size_t n = 0;
    for (size_t i = 0; i < t->npeers; i++)   /* callbacks may add peers */
        n += service_peer(t, t->peers[i]);
    reap(t);
    return n;
}

/* 1 if transport_progress has something to do without UCX. */
static int work_pending(const transport *t)
{
    if (t->nconns)
        return 1;
    for (size_t i = 0; i < t->npeers; i++) {
        const tpeer *p = t->peers[i];
        if ((p->down && !p->down_reported) ||
            (!p->down && auth_proof_due(&p->auth)) ||
            (p->state == P_HANDSHAKE && auth_done(&p->auth)) ||
            (p->rx_head && p->rx_head->done && !p->local_close))
            return 1;
    }
    return 0;
}

int transport_fd(const transport *t)
{
    return t->efd;
}

dvm_status transport_arm(transport *t)
{
    if (work_pending(t))
        return DVM_EAGAIN;
    /* Sends posted since the last progress (by the event callback, or by
     * the application between progress and arm) may wait for the worker
     * to progress; give them that chance before sleeping. */
    if (ucx.ucp_worker_progress(t->worker))
        return DVM_EAGAIN;
    ucs_status_t us = ucx.ucp_worker_arm(t->worker);
    if (us == UCS_ERR_BUSY)
        return DVM_EAGAIN;
    if (us != UCS_OK)
        return status_set(DVM_EIO, "cannot arm the UCX worker: %s",
                          ucx.ucs_status_string(us));
    return DVM_OK;
}

/* Payload bytes of p's sends still under way: not sent, or not taken by
 * the peer's application beyond the step it may not have told yet. */
static size_t under_way(const tpeer *p)
{
    assert(p->peer_took <= p->sent_app);
    uint64_t untaken = p->sent_app - p->peer_took;
    untaken = untaken > TRANSPORT_TAKEN_STEP ? untaken - TRANSPORT_TAKEN_STEP
                                             : 0;
    return untaken > p->unsent ? (size_t)untaken : p->unsent;
}

size_t transport_drain(transport *t, uint64_t peer, size_t max,
                       int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        progress_ucx(t);
        const tpeer *p = peer_by_id(t, peer);
        int64_t left = end - now_ms();
        size_t n = p ? under_way(p) : 0;
        if (!p || n <= max || left <= 0)
            return n;
        if (ucx.ucp_worker_arm(t->worker) == UCS_OK) {
            struct pollfd pfd = {.fd = t->efd, .events = POLLIN};
            (void)poll(&pfd, 1, (int)left);
        }
    }
}

size_t transport_wait(transport *t, int timeout_ms)
{
    size_t n = transport_progress(t);
    if (n || transport_arm(t) != DVM_OK)
        return n;
    int due = transport_timeout_ms(t);
    if (due >= 0 && (timeout_ms < 0 || due < timeout_ms))
        timeout_ms = due;
    struct pollfd pfd = {.fd = t->efd, .events = POLLIN};
    (void)poll(&pfd, 1, timeout_ms);
    return transport_progress(t);
}

/* ---- set-up and tear-down -------------------------------------------- */

/* Creates the context and worker of t and installs the AM handler. */
static dvm_status ucx_open(transport *t)
{
    /* UCX 1.13's TCP transport asserts (tcp_ep.c:939, PUT_TX_WAITING_ACK)
     * when a rendezvous by PUT over TCP meets a peer that is slow to
     * acknowledge -- seen with large page and output transfers between
     * busy processes -- and the assertion ends the process.  Without PUT
     * over TCP, UCX carries large messages by its active-message
     * rendezvous instead: slower on TCP only, and correct.  A value the
     * operator set (UCX_TCP_PUT_ENABLE) is kept. */
    (void)setenv("UCX_TCP_PUT_ENABLE", "n", 0);
    dvm_status st = ucx_load();
    if (st)
        return st;
    ucp_config_t *config;
    ucs_status_t us = ucx.ucp_config_read(NULL, NULL, &config);
    if (us != UCS_OK)
        return status_set(DVM_EIO, "UCX configuration: %s",
                          ucx.ucs_status_string(us));
    ucp_params_t cp = {.field_mask = UCP_PARAM_FIELD_FEATURES,
                       .features = UCP_FEATURE_AM | UCP_FEATURE_WAKEUP};
    us = ucx.ucp_init_version(UCP_API_MAJOR, UCP_API_MINOR, &cp, config,
                               &t->ctx);
    ucx.ucp_config_release(config);
    if (us != UCS_OK)
        return status_set(DVM_EIO, "cannot start UCX: %s",
                          ucx.ucs_status_string(us));
    ucp_worker_params_t wp = {.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE,
                              .thread_mode = UCS_THREAD_MODE_SINGLE};
    us = ucx.ucp_worker_create(t->ctx, &wp, &t->worker);
    if (us != UCS_OK)
        goto err_ctx;
    us = ucx.ucp_worker_get_efd(t->worker, &t->efd);
    if (us != UCS_OK)
        goto err_worker;
    ucp_am_handler_param_t hp = {
        .field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID |
                      UCP_AM_HANDLER_PARAM_FIELD_CB |
                      UCP_AM_HANDLER_PARAM_FIELD_ARG |
                      UCP_AM_HANDLER_PARAM_FIELD_FLAGS,
        .id = TRANSPORT_AM_ID,
        .cb = am_recv,
        .arg = t,
        .flags = UCP_AM_FLAG_WHOLE_MSG,
    };
    us = ucx.ucp_worker_set_am_recv_handler(t->worker, &hp);
    if (us != UCS_OK)
        goto err_worker;
    return DVM_OK;

err_worker:
    ucx.ucp_worker_destroy(t->worker);
err_ctx:
    ucx.ucp_cleanup(t->ctx);
    return status_set(DVM_EIO, "cannot start a UCX worker: %s",
                      ucx.ucs_status_string(us));
}

dvm_status transport_create(const transport_config *cfg, transport **out)
{
    transport *t = dvm_calloc(1, sizeof *t);
    if (!t)
        return status_set(DVM_ENOMEM, "no memory for the transport");
    t->cfg = *cfg;
    if (!t->cfg.max_msg)
        t->cfg.max_msg = TRANSPORT_DEFAULT_MAX_MSG;
    if (!t->cfg.max_peers)
        t->cfg.max_peers = TRANSPORT_DEFAULT_MAX_PEERS;
    if (!t->cfg.handshake_ms)
        t->cfg.handshake_ms = TRANSPORT_DEFAULT_HANDSHAKE_MS;
    if (!t->cfg.deaf_gap_ms)
        t->cfg.deaf_gap_ms = TRANSPORT_DEFAULT_DEAF_GAP_MS;
    t->turn_ns = now_ns();
    uint16_t ka = cfg->keepalive_type;
    if (ka && (ka >= WIRE_TYPE_END || transport_own_type(ka) ||
               !cfg->keepalive_ms)) {
        dvm_free(t);
        return status_set(DVM_EINVAL, "bad keepalive (type %u every %u ms)",
                          ka, cfg->keepalive_ms);
    }
    dvm_status st = ucx_open(t);
    if (st) {
        dvm_free(t);
        return st;
    }
    *out = t;
    return DVM_OK;
}

dvm_status transport_listen(transport *t, const char *hostport,
                            uint16_t *port)
{
    addr a;
    if (t->listener)
        return status_set(DVM_EINVAL, "already listening");
    dvm_status st = addr_parse(hostport, &a);
    if (st)
        return st;
    if (!t->cfg.secret && !addr_is_loopback((struct sockaddr *)&a.ss))
        return status_set(DVM_EINVAL, "%s: refusing to listen beyond this "
                          "host without a cluster secret; listen on a "
                          "loopback address or give a secret", hostport);
    ucp_listener_params_t lp = {
        .field_mask = UCP_LISTENER_PARAM_FIELD_SOCK_ADDR |
                      UCP_LISTENER_PARAM_FIELD_CONN_HANDLER,
        .sockaddr = {.addr = (struct sockaddr *)&a.ss, .addrlen = a.len},
        .conn_handler = {.cb = conn_request, .arg = t},
    };
    ucs_status_t us = ucx.ucp_listener_create(t->worker, &lp, &t->listener);
    if (us != UCS_OK)
        return status_set(DVM_EIO, "%s: cannot listen: %s", hostport,
                          ucx.ucs_status_string(us));
    ucp_listener_attr_t la = {.field_mask = UCP_LISTENER_ATTR_FIELD_SOCKADDR};
    us = ucx.ucp_listener_query(t->listener, &la);
    if (us != UCS_OK) {
        ucx.ucp_listener_destroy(t->listener);
        t->listener = NULL;
        return status_set(DVM_EIO, "%s: cannot query the listener: %s",
                          hostport, ucx.ucs_status_string(us));
    }
    *port = addr_port((struct sockaddr *)&la.sockaddr);
    return DVM_OK;
}

dvm_status transport_connect(transport *t, const char *hostport,
                             uint64_t *peer)
{
    addr a;
    dvm_status st = addr_parse(hostport, &a);
    if (st)
        return st;
    if (t->live >= t->cfg.max_peers)
        return status_set(DVM_ERANGE, "%s: %zu peers connected already",
                          hostport, t->live);
    char name[ADDR_TEXT_MAX];
    tpeer *p = peer_new(t, 0, addr_format((struct sockaddr *)&a.ss, name));
    if (!p)
        return status_set(DVM_ENOMEM, "no memory for a peer");
    ucp_ep_params_t prm = {
        .field_mask = UCP_EP_PARAM_FIELD_FLAGS | UCP_EP_PARAM_FIELD_SOCK_ADDR,
        .flags = UCP_EP_PARAMS_FLAGS_CLIENT_SERVER,
        .sockaddr = {.addr = (struct sockaddr *)&a.ss, .addrlen = a.len},
    };
    st = peer_open(t, p, &prm);
    if (st)
        return st;                  /* p is down; reaped by progress */
    p->announced = 1;
    *peer = p->id;
    return DVM_OK;
}

void transport_close(transport *t, uint64_t peer)
{
    tpeer *p = peer_by_id(t, peer);
    if (!p)
        return;
    if (p->state == P_UP)
        (void)peer_send_copy(t, p, WIRE_BYE, NULL, 0);
    peer_down(p, DVM_ECLOSED, "closed by this side");
    p->local_close = 1;
    p->flush_close = 1;             /* the BYE must get out */
}

void transport_abort(transport *t, uint64_t peer)
{
    tpeer *p = peer_by_id(t, peer);
    if (!p)
        return;
    peer_down(p, DVM_ECLOSED, "closed by this side (no answer)");
    p->local_close = 1;
}

void transport_unlisten(transport *t)
{
    if (!t->listener)
        return;
    for (size_t i = 0; i < t->nconns; i++)
        ucx.ucp_listener_reject(t->listener, t->conns[i]);
    t->nconns = 0;
    ucx.ucp_listener_destroy(t->listener);
    t->listener = NULL;
}

void transport_destroy(transport *t)
{
    if (!t)
        return;
    transport_unlisten(t);
    for (size_t i = 0; i < t->npeers; i++) {
        tpeer *p = t->peers[i];
        p->flush_close = 0;
        if (p->ep)
            peer_close_ep(t, p);
        drop_queue(p);
        p->down = p->down_reported = 1;
    }
    for (size_t i = 0; i < t->npeers; i++)
        peer_unref(t->peers[i]);
    /* The list is gone with its peers: the callbacks the progress below
     * still makes (send_done after a rendezvous, receives) look peers up
     * and must find none, not freed memory. */
    t->npeers = 0;
    /* Forced closes cancel the sends and receives still in flight; all
     * call back within a few rounds.  A flushed close of a peer that no
     * longer answers may not: bounded by time, what is left is released
     * with the worker. */
    int64_t end = now_ms() + TRANSPORT_DESTROY_MS;
    while (t->inflight && now_ms() < end)
        ucx.ucp_worker_progress(t->worker);
    /* A close still under way is handed back before the worker goes:
     * UCX expects every close request it gave out to be released by
     * then (a flushed close whose peer no longer answers, or one that
     * finished in the last round, aborts the worker's teardown
     * otherwise). */
    while (t->closing)
        close_release(t, t->closing);
    ucx.ucp_worker_destroy(t->worker);
    ucx.ucp_cleanup(t->ctx);
    dvm_free(t->peers);
    dvm_free(t->conns);
    dvm_free(t);
}

void transport_keepalive(transport *t, uint64_t peer, int on)
{
    tpeer *p = peer_by_id(t, peer);
    if (p)
        p->keepalive = !!on;
}

uint64_t transport_silent_ms(const transport *t, uint64_t peer)
{
    const tpeer *p = peer_by_id(t, peer);
    if (!p)
        return 0;
    uint64_t now = listen_ns(t, now_ns());
    return now > p->heard_ns ? (now - p->heard_ns) / 1000000u : 0;
}

void transport_tick(transport *t)
{
    progress_ucx(t);
}

void *transport_event_take(transport_event *ev)
{
    assert(ev->kind == TRANSPORT_MSG);
    void *d = ev->data;
    ev->data = NULL;
    return d;
}

const char *transport_peer_name(const transport *t, uint64_t peer)
{
    const tpeer *p = peer_by_id(t, peer);
    return p ? p->name : "?";
}

size_t transport_peer_count(const transport *t)
{
    return t->live;
}

void transport_get_stats(const transport *t, transport_stats *out)
{
    *out = t->stats;
}
