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
 */
#ifndef DVM_CONN_H
#define DVM_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "net/msg.h"
#include "util/status.h"

typedef struct conn {
    int fd;
    uint8_t *rbuf;
    size_t rlen, rcap, rpos;    /* buffered bytes [rpos, rlen) */
    int closed;
} conn;

void conn_init(conn *c, int fd);
/* Frees buffers and closes fd. */
void conn_close(conn *c);
/* Sends the bytes of b (one or more whole frames).  DVM_ECLOSED if the peer
 * is gone, DVM_ESYS otherwise. */
dvm_status conn_send(conn *c, const msg_buf *b);
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
