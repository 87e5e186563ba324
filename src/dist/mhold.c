/*
 * mhold.c -- the held output: an array of entries used as a queue (the
 * released front is reclaimed when the queue empties or the array must
 * grow), each with the store frames of its bytes.  A write fills the
 * newest entry's partial frame in memory; a full one goes to a fresh
 * store frame, and the partial rest goes there too when another entry
 * begins.  Release reads the frames back into a buffer of MHOLD_CHUNK
 * bytes and sends it.
 */
#include "dist/mhold.h"

#include <assert.h>
#include <string.h>

#include "util/alloc.h"

void mhold_init(mhold *h, mem_store *st)
{
    memset(h, 0, sizeof *h);
    h->st = st;
}

/* Frees entry e's frames and array. */
static void ent_free(mhold *h, mhold_ent *e)
{
    for (size_t i = 0; i < e->nfr; i++)
        store_release(h->st, e->fr[i]);
    dvm_free(e->fr);
    h->bytes -= e->len;
}

void mhold_free(mhold *h)
{
    for (size_t i = h->head; i < h->n; i++)
        ent_free(h, &h->e[i]);
    dvm_free(h->e);
    assert(h->bytes == 0);
    mhold_init(h, h->st);
}

/* Writes the n (<= a frame) bytes of p to a fresh frame of e. */
static dvm_status ent_frame(mhold *h, mhold_ent *e, const uint8_t *p,
                            size_t n)
{
    uint32_t *fr = dvm_grow(e->fr, &e->capfr, e->nfr + 1, sizeof *fr);
    if (!fr)
        return status_set(DVM_ENOMEM, "out of memory");
    e->fr = fr;
    uint32_t f;
    dvm_status st = store_alloc(h->st, &f);
    if (!st && (st = store_write(h->st, f, p, n)))
        store_release(h->st, f);
    if (!st)
        e->fr[e->nfr++] = f;
    return st;
}

/* The newest entry's partial frame to the store. */
static dvm_status part_flush(mhold *h)
{
    if (!h->npart)
        return DVM_OK;
    assert(h->n > h->head);
    dvm_status st = ent_frame(h, &h->e[h->n - 1], h->part, h->npart);
    if (!st)
        h->npart = 0;
    return st;
}

/* The entry that takes bytes of (epoch, chan): the newest, or a new one. */
static dvm_status ent_for(mhold *h, uint64_t epoch, uint64_t chan,
                          mhold_ent **out)
{
    if (h->n > h->head) {
        mhold_ent *t = &h->e[h->n - 1];
        assert(epoch >= t->epoch);
        if (t->epoch == epoch && t->chan == chan) {
            *out = t;
            return DVM_OK;
        }
        if (part_flush(h))
            return DVM_ENOMEM;
    }
    if (h->head == h->n)
        h->head = h->n = 0;
    else if (h->n == h->cap && h->head) {
        memmove(h->e, h->e + h->head, (h->n - h->head) * sizeof *h->e);
        h->n -= h->head;
        h->head = 0;
    }
    mhold_ent *e = dvm_grow(h->e, &h->cap, h->n + 1, sizeof *e);
    if (!e)
        return status_set(DVM_ENOMEM, "out of memory");
    h->e = e;
    e = &h->e[h->n++];
    memset(e, 0, sizeof *e);
    e->epoch = epoch;
    e->chan = chan;
    *out = e;
    return DVM_OK;
}

dvm_status mhold_put(mhold *h, uint64_t epoch, uint64_t chan, const void *p,
                     size_t n)
{
    mhold_ent *e;
    dvm_status st = ent_for(h, epoch, chan, &e);
    const uint8_t *b = p;
    while (!st && n) {
        size_t k = STORE_FRAME_SIZE - h->npart;
        if (k > n)
            k = n;
        memcpy(h->part + h->npart, b, k);
        if (h->npart + k == STORE_FRAME_SIZE &&
            (st = ent_frame(h, e, h->part, STORE_FRAME_SIZE)))
            break;
        h->npart = (h->npart + k) % STORE_FRAME_SIZE;
        e->len += k;
        h->bytes += k;
        b += k;
        n -= k;
    }
    return st;
}

/* Sends entry e (the newest when last: its partial frame is in memory)
 * through send, MHOLD_CHUNK bytes at a time. */
static dvm_status ent_send(mhold *h, const mhold_ent *e, int last,
                           uint8_t *buf, mhold_send_fn send, void *arg)
{
    uint64_t left = e->len;
    size_t fill = 0;
    dvm_status st = DVM_OK;
    for (size_t i = 0; i < e->nfr && !st; i++) {
        size_t k = left < STORE_FRAME_SIZE ? (size_t)left : STORE_FRAME_SIZE;
        st = store_read(h->st, e->fr[i], buf + fill, k);
        fill += k;
        left -= k;
        if (!st && (fill == MHOLD_CHUNK || !left)) {
            st = send(arg, e->chan, buf, fill);
            fill = 0;
        }
    }
    if (!st && fill)
        st = send(arg, e->chan, buf, fill);
    if (!st && last && h->npart) {
        assert(left == h->npart);
        st = send(arg, e->chan, h->part, h->npart);
    }
    return st;
}

dvm_status mhold_release(mhold *h, uint64_t stable, mhold_send_fn send,
                         void *arg)
{
    uint8_t *buf = NULL;
    dvm_status st = DVM_OK;
    while (!st && h->head < h->n && h->e[h->head].epoch <= stable) {
        if (!buf && !(buf = dvm_malloc(MHOLD_CHUNK))) {
            st = status_set(DVM_ENOMEM, "out of memory");
            break;
        }
        mhold_ent *e = &h->e[h->head];
        int last = h->head + 1 == h->n;
        st = ent_send(h, e, last, buf, send, arg);
        ent_free(h, e);
        h->head++;
        if (last)
            h->npart = 0;
    }
    dvm_free(buf);
    if (st) {
        h->npart = 0;
        mhold_free(h);
    }
    return st;
}
