/*
 * conn.c -- framed messages over a stream socket.
 *
 * The receive buffer accumulates bytes; a frame is handed out once its
 * header and whole payload are buffered, as a pointer into the buffer that
 * stays valid until the next receive call on the same conn.  Consumed bytes
 * are compacted lazily, at the start of the next read, so handing out
 * several buffered frames in a row copies nothing.
 */
#include "net/conn.h"

#include <errno.h>
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
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

dvm_status conn_send(conn *c, const msg_buf *b)
{
    if (b->oom)
        return status_set(DVM_ENOMEM, "message too large to encode");
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

/* Compacts consumed bytes and ensures room for a read.  want is the size of
 * the frame being assembled, if known.  Returns DVM_ENOMEM on failure. */
static dvm_status conn_make_room(conn *c, size_t want)
{
    if (c->rpos) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    size_t need = c->rlen + CONN_READ_CHUNK;
    if (want > need)
        need = want;
    uint8_t *nb = dvm_grow(c->rbuf, &c->rcap, need, 1);
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

/* One recv() into the buffer, with flags (MSG_DONTWAIT to poll a
 * blocking socket).  Returns DVM_OK (some bytes), DVM_EAGAIN (none
 * available), DVM_ECLOSED, or an error. */
static dvm_status conn_fill_flags(conn *c, int flags)
{
    dvm_status st = conn_make_room(c, conn_pending_frame(c));
    if (st)
        return st;
    for (;;) {
        ssize_t n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, flags);
        if (n > 0) {
            c->rlen += (size_t)n;
            return DVM_OK;
        }
        if (n == 0) {
            c->closed = 1;
            return DVM_ECLOSED;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return DVM_EAGAIN;
        if (errno == ECONNRESET) {
            c->closed = 1;
            return DVM_ECLOSED;
        }
        return status_set_errno(DVM_ESYS, "read");
    }
}

static dvm_status conn_fill(conn *c)
{
    return conn_fill_flags(c, 0);
}

dvm_status conn_spin(conn *c, uint64_t budget_ns)
{
    spin_wait w;
    int polling = spin_begin(&w, budget_ns);
    int once = budget_ns > 0;   /* one look even while backing off */
    for (;;) {
        if (c->rlen - c->rpos >= MSG_HEADER_SIZE &&
            c->rlen - c->rpos >= conn_pending_frame(c))
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

dvm_status conn_recv(conn *c, uint32_t *type, const uint8_t **payload,
                     size_t *len)
{
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
