/*
 * transport.h -- authenticated message endpoints between hosts, over UCX.
 *
 * One transport per process: a UCX context and worker (ucp), at most one
 * listener, and peers.  A peer is one endpoint, made by transport_connect
 * or accepted by the listener, named by an id that is never reused.
 * Messages are UCX active messages: a wire envelope (wire.h) as the AM
 * header and the payload as its data.  UCX sends small payloads eagerly
 * and large ones (page data) by rendezvous; a rendezvous payload is
 * received by ucp_am_recv_data_nbx straight into the buffer the
 * application is handed, with no copy in between.
 *
 * The transport is single-threaded and made for an event loop:
 *
 *     for (;;) {
 *         transport_progress(t);          // delivers events
 *         if (transport_arm(t) == DVM_EAGAIN)
 *             continue;                   // more work arrived meanwhile
 *         epoll_wait(..., transport_timeout_ms(t))   // transport_fd(t)
 *     }                                              // among others
 *
 * Events reach the callback of the configuration, only from inside
 * transport_progress, never from inside UCX, so the callback may send,
 * connect and close freely:
 *
 *   TRANSPORT_UP    the peer passed the handshake (auth.h); only now may
 *                   messages be sent to it
 *   TRANSPORT_MSG   a message, in the order the peer sent it
 *   TRANSPORT_DOWN  the peer is gone: status DVM_ECLOSED after an orderly
 *                   close (BYE) by either side; DVM_EPROTO when this side
 *                   refused it (handshake failed, malformed or oversized
 *                   message, a message before authentication) or it refused
 *                   this side (reason "refused by the peer: ..."); DVM_EIO
 *                   when the endpoint failed (process died, network).
 *                   reason says why.  The last event of a peer; its id is
 *                   dead after it.  A peer that connected to the listener
 *                   and never came up is not reported at all.
 *
 * This side's refusals are logged once per peer (the log callback, or
 * stderr), and the peer is told the reason in a BYE before the endpoint
 * closes.
 * Without a secret there is no authentication, so transport_listen then
 * accepts loopback addresses only.
 */
#ifndef DVM_TRANSPORT_H
#define DVM_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/auth.h"
#include "util/status.h"

#define TRANSPORT_DEFAULT_MAX_MSG (64u << 20)   /* payload bytes */
#define TRANSPORT_DEFAULT_MAX_PEERS 4096
#define TRANSPORT_DEFAULT_HANDSHAKE_MS 10000
#define TRANSPORT_DEFAULT_DEAF_GAP_MS 150

typedef struct transport transport;

typedef enum transport_event_kind {
    TRANSPORT_UP = 1,
    TRANSPORT_MSG,
    TRANSPORT_DOWN
} transport_event_kind;

typedef struct transport_event {
    transport_event_kind kind;
    uint64_t peer;
    int inbound;            /* the peer connected to our listener */
    /* TRANSPORT_MSG */
    uint16_t type;          /* a wire type other than HELLO, PROOF, BYE */
    uint8_t *data;          /* len bytes, owned by the transport; see
                               transport_event_take */
    size_t len;
    /* TRANSPORT_DOWN */
    dvm_status status;
    const char *reason;
} transport_event;

typedef void (*transport_event_fn)(void *arg, transport_event *ev);
typedef void (*transport_log_fn)(void *arg, const char *line);
/* A send finished (st 0) or failed; the buffer is free again. */
typedef void (*transport_sent_fn)(void *arg, dvm_status st);

typedef struct transport_config {
    const auth_secret *secret;  /* NULL: no authentication; else must
                                   outlive the transport */
    size_t max_msg;             /* largest payload accepted and sent;
                                   0: TRANSPORT_DEFAULT_MAX_MSG */
    size_t max_peers;           /* more connections are rejected;
                                   0: TRANSPORT_DEFAULT_MAX_PEERS */
    size_t handshake_ms;        /* a peer not authenticated this long after
                                   its endpoint was made is refused;
                                   0: TRANSPORT_DEFAULT_HANDSHAKE_MS */
    size_t rndv_min;            /* the application's payloads of at least
                                   this many bytes go by rendezvous (the
                                   handshake, BYE and TAKEN never); 0: UCX
                                   decides (UCX_RNDV_THRESH) */
    uint16_t keepalive_type;    /* sent empty to a peer given
                                   transport_keepalive when nothing went
                                   to it for keepalive_ms; 0: none */
    unsigned keepalive_ms;
    unsigned deaf_gap_ms;       /* a pause between two turns of UCX longer
                                   than this is this side's own stall:
                                   only this much of it counts as a peer's
                                   silence (transport_silent_ms);
                                   0: TRANSPORT_DEFAULT_DEAF_GAP_MS */
    transport_event_fn on_event;
    void *arg;                  /* for on_event and log */
    transport_log_fn log;       /* NULL: "dvm: LINE" on stderr */
} transport_config;

typedef struct transport_stats {
    uint64_t sent, received;        /* messages, handshake included */
    uint64_t received_rndv;         /* of which by rendezvous */
    uint64_t refused;               /* peers refused (DVM_EPROTO) */
} transport_stats;

/* Creates a transport: UCX context and worker with wakeup support.
 * *cfg is copied.  DVM_EIO with UCX's message if UCX cannot start. */
dvm_status transport_create(const transport_config *cfg, transport **out);

/* Closes every peer (without BYE), the listener, the worker and the
 * context, and frees t; no event is delivered.  NULL is a no-op. */
void transport_destroy(transport *t);

/* Listens on "HOST:PORT" (port 0: any free port); sets *port to the port
 * bound.  One listener per transport.  Without a secret only loopback
 * addresses are accepted (DVM_EINVAL saying so). */
dvm_status transport_listen(transport *t, const char *hostport,
                            uint16_t *port);

/* Stops listening: connection requests not yet accepted are rejected, the
 * listening socket is closed; peers stay.  No-op when not listening. */
void transport_unlisten(transport *t);

/* Starts connecting to "HOST:PORT"; sets *peer.  The outcome is an event:
 * TRANSPORT_UP, or TRANSPORT_DOWN (e.g. nobody listening). */
dvm_status transport_connect(transport *t, const char *hostport,
                             uint64_t *peer);

/* Sends a copy of data[0, len) as a message of the given type to a peer
 * that is up.  DVM_ENOENT: no such peer or not up (any more); DVM_EINVAL:
 * type is not a message type or len > max_msg. */
dvm_status transport_send(transport *t, uint64_t peer, uint16_t type,
                          const void *data, size_t len);

/* Like transport_send without the copy: data must stay valid until done
 * is called, exactly once, with the outcome: from inside this call when
 * UCX sent the message at once, else from transport_progress or
 * transport_destroy.  done must not call into the transport.  On an error
 * return done is not called. */
dvm_status transport_send_ref(transport *t, uint64_t peer, uint16_t type,
                              const void *data, size_t len,
                              transport_sent_fn done, void *arg);

/* Runs UCX until at most max payload bytes of the sends to peer are
 * still under way, or timeout_ms passed; returns how many are (0 when the
 * peer is not up: its sends failed).  Under way: not sent yet, or not
 * yet handed to the peer's application, less the 256 KiB the peer tells
 * in steps of (transport.c, Flow control), so what one drained sender
 * puts in the peer's queue stays below max, a step and its next
 * message.  Delivers no event: what arrives meanwhile waits for transport_progress, so it
 * may be called from inside an event's handling -- a sender's flow
 * control (the master streaming output to a client as fast as the client
 * takes it, a node shipping a large result as fast as the master copies
 * it in). */
size_t transport_drain(transport *t, uint64_t peer, size_t max,
                       int timeout_ms);

/* Closes a peer in order: BYE, then a flushed close.  TRANSPORT_DOWN
 * (DVM_ECLOSED) follows.  No-op for an unknown or closing peer. */
void transport_close(transport *t, uint64_t peer);

/* Closes a peer that no longer answers (a cut link): no BYE, a forced
 * close, which ends at once (a flushed one would wait for the peer).
 * TRANSPORT_DOWN (DVM_ECLOSED) follows.  No-op for an unknown or closing
 * peer. */
void transport_abort(transport *t, uint64_t peer);

/* Signs of life, kept by the transport itself so that they flow wherever
 * UCX turns (transport_progress, transport_drain, transport_tick), not
 * only when the application's loop comes round:
 *
 *   keepalive  a peer given transport_keepalive(t, peer, 1) is sent an
 *              empty message of cfg.keepalive_type whenever nothing was
 *              sent to it for cfg.keepalive_ms, at any turn of UCX.
 *   silence    the time since a message of the peer last arrived (its
 *              header, counted inside UCX, before the application takes
 *              it and even while the message still waits behind a
 *              rendezvous), counted on a listening clock: a pause of this
 *              side between two turns of UCX longer than cfg.deaf_gap_ms
 *              counts only deaf_gap_ms, since whatever the peer sent
 *              meanwhile could not be read.  A peer is not blamed for this
 *              side's own stalls. */

/* Keepalives to a peer (on) or none (off); no-op for an unknown peer. */
void transport_keepalive(transport *t, uint64_t peer, int on);

/* Milliseconds of listening (above) since the peer's last message
 * arrived, or since its endpoint was made; 0 for an unknown peer. */
uint64_t transport_silent_ms(const transport *t, uint64_t peer);

/* Runs UCX and sends the keepalives due, delivering no event (what
 * arrives waits for transport_progress): for a loop about to do
 * something long, between its steps, and inside waits of its own. */
void transport_tick(transport *t);

/* Makes progress: runs UCX, sends what the handshakes owe, delivers
 * events.  Returns the number of events delivered. */
size_t transport_progress(transport *t);

/* The fd to wait on for readability (the worker's event fd). */
int transport_fd(const transport *t);

/* Arms the fd before sleeping on it: DVM_OK, or DVM_EAGAIN when events are
 * already pending (call transport_progress again instead of sleeping). */
dvm_status transport_arm(transport *t);

/* Milliseconds until transport_progress has a deadline to enforce (a
 * handshake that must be done by then), 0 if one is due, -1 if none: the
 * longest an event loop may sleep. */
int transport_timeout_ms(const transport *t);

/* Progress, then sleep on the fd at most timeout_ms (-1: no limit; never
 * past transport_timeout_ms).  Returns the events delivered. */
size_t transport_wait(transport *t, int timeout_ms);

/* The message's buffer, now owned by the caller (dvm_free); ev->data is
 * NULL afterwards.  Only for TRANSPORT_MSG, inside the callback. */
void *transport_event_take(transport_event *ev);

/* "HOST:PORT" of a live peer, or "?". */
const char *transport_peer_name(const transport *t, uint64_t peer);

/* Number of peers not yet reported down. */
size_t transport_peer_count(const transport *t);

void transport_get_stats(const transport *t, transport_stats *out);

#endif
