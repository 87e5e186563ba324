/*
 * conn.h -- framed messages over a stream socket.
 *
 * A conn wraps one connected stream fd.  Sending writes whole frames
 * (blocking, retried on EINTR/partial writes).  Receiving has two styles:
 * conn_recv() blocks until one whole frame is there (RComps; it polls
 * first for the spin budget, util/spin.h, so that an answer that comes
 * within microseconds finds its reader awake), and
 * conn_poll_frame() works on a non-blocking fd inside an event loop
 * (master): it reads what is available and hands out complete frames one
 * at a time.  A frame whose header is invalid (unknown type, oversized
 * length) is a protocol error: the connection is unusable afterwards.
 *
 * A conn may carry its bytes in shared memory instead (net/shmq.h,
 * conn_attach_shmq): the master's channel to each of its own RComps.  The
 * framing is the same; the socket then carries only doorbells (one byte:
 * "look at the queue", sent only to a peer that sleeps) and the peer's
 * end of file.  An event loop's end (nonblocking) never waits to send:
 * what the queue cannot take now waits in the conn's out buffer until
 * conn_flush moves it; it must then look at the conn (conn_ready) on
 * every turn and ask to be rung before it sleeps (conn_sleep).  A
 * blocking end (the RComp) waits for room, polling first.
 */
#ifndef DVM_CONN_H
#define DVM_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "net/msg.h"
#include "net/shmq.h"
#include "util/status.h"

typedef struct conn {
    int fd;
    uint8_t *rbuf;
    size_t rlen, rcap, rpos;    /* buffered bytes [rpos, rlen) */
    int closed;
    shmq *q;                    /* bytes in shared memory, or NULL */
    int nonblocking;            /* with q: buffer what q cannot take */
    uint8_t *wbuf;              /* with q, nonblocking: bytes not yet */
    size_t wlen, wcap, wpos;    /* in q, [wpos, wlen) */
} conn;

void conn_init(conn *c, int fd);
/* Frees buffers, closes fd and the queue. */
void conn_close(conn *c);
/* From now on c's bytes go through q (owned by c from here on; the peer
 * must attach the other end before either sends); nonblocking for an
 * event loop's end (see above). */
void conn_attach_shmq(conn *c, shmq *q, int nonblocking);
/* Sends the bytes of b (one or more whole frames).  DVM_ECLOSED if the peer
 * is gone, DVM_EPROTO if its queue index is corrupt, DVM_ESYS otherwise.
 * A nonblocking queue end keeps what does not fit (DVM_ENOMEM if it
 * cannot). */
dvm_status conn_send(conn *c, const msg_buf *b);
/* A blocking queue end: conn_send, but a peer asleep is not rung while
 * everything fits (the peer sees the bytes when it next looks, or when
 * conn_ring_asked rings it).  On a socket: conn_send. */
dvm_status conn_send_quiet(conn *c, const msg_buf *b);
/* A queue end: rings the peer if it asked to be (it sleeps). */
void conn_ring_asked(conn *c);
/* A nonblocking queue end: moves buffered bytes into the queue as room
 * allows.  DVM_OK (maybe some left), DVM_EPROTO. */
dvm_status conn_flush(conn *c);
/* A queue end: 1 when a turn of the event loop has work on c without any
 * system call (a whole frame buffered or bytes in the queue, or buffered
 * output and room for it), else 0.  Always 0 without a queue. */
int conn_ready(const conn *c);
/* A queue end about to sleep: asks the peer to ring for data (and for
 * room while output is buffered).  1: sleep; 0: something came, do not
 * (the requests are withdrawn).  Always 1 without a queue. */
int conn_sleep(conn *c);
/* After sleeping: withdraws the requests conn_sleep made. */
void conn_awake(conn *c);

/* The queue ends an event loop looks at on every turn (the master's or a
 * node's local RComps): count(arg) slots, conn i of them at(arg, i), or
 * NULL while slot i has no live peer.  The three functions below are the
 * hooks of util/spin.h's spin_mem over a group (their argument); the
 * group must outlive the waits that use them. */
typedef struct conn_group {
    conn *(*at)(void *arg, int i);
    int (*count)(void *arg);
    void *arg;
} conn_group;
/* 1 when some live conn of g is ready (conn_ready). */
int conn_group_ready(void *g);
/* Asks every live conn of g to be rung (conn_sleep); 1: sleep; 0: one had
 * something meanwhile (every request withdrawn). */
int conn_group_sleep(void *g);
/* Withdraws every live conn's requests (conn_awake). */
void conn_group_awake(void *g);
/* Without a system call: a whole frame buffered or taken from the queue
 * (DVM_OK, as conn_poll_frame), DVM_EAGAIN, DVM_ECLOSED once the socket
 * said end of file and nothing is left, DVM_EPROTO. */
dvm_status conn_take_frame(conn *c, uint32_t *type, const uint8_t **payload,
                           size_t *len);
/* Blocks for one frame, polling first (conn_spin with spin_budget_ns()).
 * On success *type, *payload (valid until the next receive on c) and *len
 * are set.  DVM_ECLOSED at end of stream. */
dvm_status conn_recv(conn *c, uint32_t *type, const uint8_t **payload,
                     size_t *len);
/* Polls a blocking conn for up to budget_ns without sleeping (util/spin.h,
 * which may stop it sooner, but looks once at least; budget 0: not at
 * all): returns DVM_OK once a whole frame is buffered (conn_recv then
 * returns it without blocking), DVM_EAGAIN when the polling ended first,
 * DVM_ECLOSED or an error. */
dvm_status conn_spin(conn *c, uint64_t budget_ns);
/* Non-blocking: reads what is available (call when the fd is readable)
 * and returns DVM_OK with a frame, DVM_EAGAIN when no whole frame is
 * buffered yet, DVM_ECLOSED at end of stream, DVM_EPROTO on a bad header. */
dvm_status conn_poll_frame(conn *c, uint32_t *type, const uint8_t **payload,
                           size_t *len);
/* Returns a whole frame already buffered without reading (DVM_EAGAIN if
 * none): drain with this after conn_poll_frame succeeded. */
dvm_status conn_next_buffered(conn *c, uint32_t *type, const uint8_t **payload,
                              size_t *len);

#endif
