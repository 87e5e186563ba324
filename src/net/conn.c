/*
 * conn.c -- framed messages over a stream socket.
 *
 * The receive buffer accumulates bytes; a frame is handed out once its
 * header and whole payload are buffered, as a pointer into the buffer that
 * stays valid until the next receive call on the same conn.  Consumed bytes
 * are compacted lazily, at the start of the next read, so handing out
 * several buffered frames in a row copies nothing.
 *
 * With a queue (shmq.h) the receive buffer fills from the queue instead
 * of the socket, and the socket is read only for doorbells, whose bytes
 * mean nothing and are thrown away.  Whoever publishes bytes (or room)
 * rings a peer that asked for it; whoever sleeps asks first and looks
 * again (shmq.h explains why no wake-up is lost).
 */
#include "net/conn.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/spin.h"
#include "util/le.h"

#define CONN_READ_CHUNK (256 * 1024)

void conn_init(conn *c, int fd)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
}

void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    dvm_free(c->rbuf);
    dvm_free(c->wbuf);
    shmq_close(c->q);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

void conn_attach_shmq(conn *c, shmq *q, int nonblocking)
{
    assert(!c->q && q);
    c->q = q;
    c->nonblocking = nonblocking;
}

/* ---- doorbells --------------------------------------------------------- */

/* Rings the peer: one byte on the socket.  A full socket already holds a
 * doorbell the peer has not read, and a gone peer is found by reading:
 * neither is an error here. */
static void conn_ring(conn *c)
{
    static const uint8_t bell = 0;
    while (send(c->fd, &bell, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
           errno == EINTR)
        ;
}

void conn_ring_asked(conn *c)
{
    if (c->q && shmq_reader_to_wake(c->q))
        conn_ring(c);
}

/* One recv() of up to cap bytes into buf with flags, retried on EINTR:
 * DVM_OK with *n > 0, DVM_EAGAIN (nothing there), DVM_ECLOSED (end of
 * file or reset: c is marked closed), DVM_ESYS. */
static dvm_status conn_recv_some(conn *c, void *buf, size_t cap, int flags,
                                 size_t *n)
{
    for (;;) {
        ssize_t k = recv(c->fd, buf, cap, flags);
        if (k > 0) {
            *n = (size_t)k;
            return DVM_OK;
        }
        if (k == 0 || errno == ECONNRESET) {
            c->closed = 1;
            return DVM_ECLOSED;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return DVM_EAGAIN;
        if (errno != EINTR)
            return status_set_errno(DVM_ESYS, "read");
    }
}

/* Reads and drops the doorbells waiting on the socket, without blocking
 * (block: waits for one first).  End of file marks c closed.  DVM_OK or
 * DVM_ESYS. */
static dvm_status conn_read_bells(conn *c, int block)
{
    uint8_t bells[64];
    for (int flags = block ? 0 : MSG_DONTWAIT;; flags = MSG_DONTWAIT) {
        size_t n;
        dvm_status st = conn_recv_some(c, bells, sizeof bells, flags, &n);
        if (st == DVM_OK && n == sizeof bells)
            continue;           /* maybe more; a shorter read got all */
        return st == DVM_ESYS ? st : DVM_OK;
    }
}

/* ---- sending through a queue ------------------------------------------- */

/* Writes what fits of p[0..len) to the queue, ringing a peer that sleeps
 * for data; *wrote is set. */
static dvm_status conn_put(conn *c, const uint8_t *p, size_t len,
                           size_t *wrote)
{
    dvm_status st = shmq_write(c->q, p, len, wrote);
    if (!st && *wrote && shmq_reader_to_wake(c->q))
        conn_ring(c);
    return st;
}

/* A blocking end waits for room: polls first, then asks to be rung and
 * sleeps on the socket.  DVM_OK when there is room, DVM_ECLOSED. */
static dvm_status conn_wait_room(conn *c)
{
    spin_wait w;
    if (spin_begin(&w, spin_budget_ns()))
        do {
            if (shmq_room(c->q)) {
                spin_found(&w);
                return DVM_OK;
            }
        } while (spin_next(&w));
    conn_ring_asked(c);         /* a full queue is read only by a peer
                                   awake: bytes sent quietly included */
    while (shmq_sleep_for_room(c->q, 1)) {
        dvm_status st = conn_read_bells(c, 1);
        if (st)
            return st;
        if (c->closed)
            return status_set(DVM_ECLOSED, "peer closed the connection");
    }
    shmq_awake(c->q);
    return DVM_OK;
}

static dvm_status conn_send_blocking(conn *c, const uint8_t *p, size_t len)
{
    for (size_t off = 0;;) {
        size_t n;
        dvm_status st = conn_put(c, p + off, len - off, &n);
        if (st)
            return st;
        if ((off += n) == len)
            return DVM_OK;
        if ((st = conn_wait_room(c)))
            return st;
    }
}

/* Appends p[0..len) to the out buffer, first dropping what the queue
 * took once that is at least as much as is left (so a buffer the queue
 * drains slowly does not keep its consumed bytes). */
static dvm_status conn_keep(conn *c, const uint8_t *p, size_t len)
{
    if (c->wpos && c->wpos >= c->wlen - c->wpos) {
        memmove(c->wbuf, c->wbuf + c->wpos, c->wlen - c->wpos);
        c->wlen -= c->wpos;
        c->wpos = 0;
    }
    uint8_t *nb = dvm_grow(c->wbuf, &c->wcap, c->wlen + len, 1);
    if (!nb)
        return status_set(DVM_ENOMEM, "out of memory for a message");
    c->wbuf = nb;
    memcpy(c->wbuf + c->wlen, p, len);
    c->wlen += len;
    return DVM_OK;
}

dvm_status conn_flush(conn *c)
{
    if (!c->q || c->wpos == c->wlen)
        return DVM_OK;
    size_t n;
    dvm_status st = conn_put(c, c->wbuf + c->wpos, c->wlen - c->wpos, &n);
    if (!st)
        c->wpos += n;
    return st;
}

static dvm_status conn_send_queued(conn *c, const uint8_t *p, size_t len)
{
    size_t n = 0;
    dvm_status st = conn_flush(c);
    if (!st && c->wpos == c->wlen)
        st = conn_put(c, p, len, &n);
    if (!st && n < len)
        st = conn_keep(c, p + n, len - n);
    return st;
}

dvm_status conn_send_quiet(conn *c, const msg_buf *b)
{
    if (b->oom)
        return status_set(DVM_ENOMEM, "message too large to encode");
    if (!c->q || c->nonblocking)
        return conn_send(c, b);
    size_t n;
    dvm_status st = shmq_write(c->q, b->p, b->len, &n);
    if (st || n == b->len)
        return st;
    conn_ring_asked(c);         /* it must read for the rest to fit */
    return conn_send_blocking(c, b->p + n, b->len - n);
}

dvm_status conn_send(conn *c, const msg_buf *b)
{
    if (b->oom)
        return status_set(DVM_ENOMEM, "message too large to encode");
    if (c->q)
        return c->nonblocking ? conn_send_queued(c, b->p, b->len)
                              : conn_send_blocking(c, b->p, b->len);
    size_t off = 0;
    while (off < b->len) {
        ssize_t n = send(c->fd, b->p + off, b->len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
            return status_set(DVM_ECLOSED, "peer closed the connection");
        if (n < 0)
            return status_set_errno(DVM_ESYS, "write");
        off += (size_t)n;
    }
    return DVM_OK;
}

dvm_status conn_next_buffered(conn *c, uint32_t *type, const uint8_t **payload,
                              size_t *len)
{
    size_t avail = c->rlen - c->rpos;
    if (avail < MSG_HEADER_SIZE)
        return DVM_EAGAIN;
    const uint8_t *h = c->rbuf + c->rpos;
    uint64_t t = le_ld32(h), rsv = le_ld32(h + 4), n = le_ld64(h + 8);
    if (t == 0 || t >= MSG_TYPE_END || rsv != 0 || n > MSG_MAX_PAYLOAD)
        return status_set(DVM_EPROTO, "bad message header (type %llu)",
                          (unsigned long long)t);
    if (avail - MSG_HEADER_SIZE < n)
        return DVM_EAGAIN;
    *type = (uint32_t)t;
    *payload = h + MSG_HEADER_SIZE;
    *len = (size_t)n;
    c->rpos += MSG_HEADER_SIZE + (size_t)n;
    return DVM_OK;
}

/* Compacts consumed bytes and ensures room for more bytes (at least a
 * chunk).  The room follows the bytes that came, never a length a header
 * only claims: a peer that declares a 16 GiB frame and sends 16 bytes
 * gets a chunk, not 16 GiB.  Returns DVM_ENOMEM on failure. */
static dvm_status conn_make_room(conn *c, size_t more)
{
    if (c->rpos) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    if (more < CONN_READ_CHUNK)
        more = CONN_READ_CHUNK;
    uint8_t *nb = dvm_grow(c->rbuf, &c->rcap, c->rlen + more, 1);
    if (!nb)
        return status_set(DVM_ENOMEM, "out of memory for a message");
    c->rbuf = nb;
    return DVM_OK;
}

/* Size of the frame at the head of the buffer if its header is there. */
static size_t conn_pending_frame(const conn *c)
{
    if (c->rlen - c->rpos < MSG_HEADER_SIZE)
        return 0;
    uint64_t n = le_ld64(c->rbuf + c->rpos + 8);
    return n > MSG_MAX_PAYLOAD ? 0 : (size_t)n + MSG_HEADER_SIZE;
}

/* Room to make before a read of the socket: what the frame being
 * assembled still lacks, but no more than is buffered already, so that
 * the buffer at most doubles per read of a large frame. */
static size_t conn_lack(const conn *c)
{
    size_t have = c->rlen - c->rpos, frame = conn_pending_frame(c);
    size_t lack = frame > have ? frame - have : 0;
    return lack < have ? lack : have;
}

/* One recv() into the buffer, with flags (MSG_DONTWAIT to poll a
 * blocking socket).  Returns DVM_OK (some bytes), DVM_EAGAIN (none
 * available), DVM_ECLOSED, or an error. */
static dvm_status conn_fill_flags(conn *c, int flags)
{
    dvm_status st = conn_make_room(c, conn_lack(c));
    size_t n;
    if (!st)
        st = conn_recv_some(c, c->rbuf + c->rlen, c->rcap - c->rlen, flags,
                            &n);
    if (!st)
        c->rlen += n;
    return st;
}

static dvm_status conn_fill(conn *c)
{
    return conn_fill_flags(c, 0);
}

/* Whether a whole frame (or a bad header, for the caller to report) is
 * buffered. */
static int conn_has_frame(const conn *c)
{
    return c->rlen - c->rpos >= MSG_HEADER_SIZE &&
           c->rlen - c->rpos >= conn_pending_frame(c);
}

/* Moves what the queue holds into the receive buffer, ringing a peer that
 * waits for room. */
static dvm_status conn_pull(conn *c)
{
    while (shmq_readable(c->q)) {
        dvm_status st = conn_make_room(c, shmq_readable(c->q));
        size_t got = 0;
        if (!st)
            st = shmq_read(c->q, c->rbuf + c->rlen, c->rcap - c->rlen, &got);
        if (st)
            return st;
        c->rlen += got;
        if (shmq_writer_to_wake(c->q))
            conn_ring(c);
    }
    return DVM_OK;
}

dvm_status conn_take_frame(conn *c, uint32_t *type, const uint8_t **payload,
                           size_t *len)
{
    dvm_status st = conn_next_buffered(c, type, payload, len);
    if (st != DVM_EAGAIN || !c->q)
        return st;
    if ((st = conn_pull(c)))
        return st;
    st = conn_next_buffered(c, type, payload, len);
    if (st == DVM_EAGAIN && c->closed && !shmq_readable(c->q))
        return DVM_ECLOSED;
    return st;
}

int conn_ready(const conn *c)
{
    return c->q && (conn_has_frame(c) || shmq_readable(c->q) ||
                    (c->wpos < c->wlen && shmq_room(c->q)));
}

int conn_sleep(conn *c)
{
    if (!c->q)
        return 1;
    if (conn_has_frame(c) || !shmq_sleep_for_data(c->q))
        return 0;
    if (c->wpos < c->wlen && !shmq_sleep_for_room(c->q, 1)) {
        shmq_awake(c->q);
        return 0;
    }
    return 1;
}

void conn_awake(conn *c)
{
    if (c->q)
        shmq_awake(c->q);
}

int conn_group_ready(void *g)
{
    const conn_group *cg = g;
    for (int i = 0, n = cg->count(cg->arg); i < n; i++) {
        conn *c = cg->at(cg->arg, i);
        if (c && conn_ready(c))
            return 1;
    }
    return 0;
}

void conn_group_awake(void *g)
{
    const conn_group *cg = g;
    for (int i = 0, n = cg->count(cg->arg); i < n; i++) {
        conn *c = cg->at(cg->arg, i);
        if (c)
            conn_awake(c);
    }
}

int conn_group_sleep(void *g)
{
    const conn_group *cg = g;
    for (int i = 0, n = cg->count(cg->arg); i < n; i++) {
        conn *c = cg->at(cg->arg, i);
        if (c && !conn_sleep(c)) {
            conn_group_awake(g);
            return 0;
        }
    }
    return 1;
}

/* conn_spin on a queue: memory loads, no system call. */
static dvm_status conn_spin_queue(conn *c, uint64_t budget_ns)
{
    spin_wait w;
    int polling = spin_begin(&w, budget_ns);
    for (;;) {
        dvm_status st = conn_pull(c);
        if (st)
            return st;
        if (conn_has_frame(c)) {
            if (polling)
                spin_found(&w);
            return DVM_OK;
        }
        if (c->closed)
            return DVM_ECLOSED;
        if (!polling || !(polling = spin_next(&w)))
            return DVM_EAGAIN;
    }
}

dvm_status conn_spin(conn *c, uint64_t budget_ns)
{
    if (c->q)
        return conn_spin_queue(c, budget_ns);
    spin_wait w;
    int polling = spin_begin(&w, budget_ns);
    int once = budget_ns > 0;   /* one look even while backing off */
    for (;;) {
        if (conn_has_frame(c))
            return DVM_OK;         /* a whole frame (or a bad header) */
        if (c->closed)
            return DVM_ECLOSED;
        if (!polling && !once)
            return DVM_EAGAIN;
        once = 0;
        dvm_status st = conn_fill_flags(c, MSG_DONTWAIT);
        if (st == DVM_OK) {
            if (polling)
                spin_found(&w);
            continue;
        }
        if (st != DVM_EAGAIN)
            return st;
        polling = polling && spin_next(&w);
    }
}

/* conn_recv on a queue: polls once, then sleeps on the socket until rung
 * (or until end of file). */
static dvm_status conn_recv_queue(conn *c, uint32_t *type,
                                  const uint8_t **payload, size_t *len)
{
    for (int polled = 0;;) {
        dvm_status st = conn_take_frame(c, type, payload, len);
        if (st != DVM_EAGAIN)
            return st;
        if (!polled) {
            polled = 1;
            st = conn_spin_queue(c, spin_budget_ns());
        } else if (shmq_sleep_for_data(c->q)) {
            st = conn_read_bells(c, 1);
            shmq_awake(c->q);
        }
        if (st && st != DVM_EAGAIN && st != DVM_ECLOSED)
            return st;
    }
}

dvm_status conn_recv(conn *c, uint32_t *type, const uint8_t **payload,
                     size_t *len)
{
    if (c->q)
        return conn_recv_queue(c, type, payload, len);
    int polled = 0;
    for (;;) {
        dvm_status st = conn_next_buffered(c, type, payload, len);
        if (st != DVM_EAGAIN)
            return st;
        if (c->closed)
            return DVM_ECLOSED;
        if (!polled) {          /* awake for the spin budget first */
            polled = 1;
            st = conn_spin(c, spin_budget_ns());
        } else {
            st = conn_fill(c);
        }
        if (st && st != DVM_EAGAIN)
            return st;
    }
}

dvm_status conn_poll_frame(conn *c, uint32_t *type, const uint8_t **payload,
                           size_t *len)
{
    if (c->q) {
        dvm_status st = conn_read_bells(c, 0);
        return st ? st : conn_take_frame(c, type, payload, len);
    }
    dvm_status st = conn_next_buffered(c, type, payload, len);
    if (st != DVM_EAGAIN)
        return st;
    if (c->closed)
        return DVM_ECLOSED;
    for (;;) {
        st = conn_fill(c);
        if (st)
            return st;
        st = conn_next_buffered(c, type, payload, len);
        if (st != DVM_EAGAIN)
            return st;
    }
}
