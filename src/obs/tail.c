/*
 * tail.c -- the output tail (see tail.h).
 */
#include <string.h>

#include "obs/tail.h"

void tail_init(obs_tail *t)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
}

void tail_fini(obs_tail *t)
{
    pthread_mutex_destroy(&t->mu);
}

/* Copies n bytes (n <= TAIL_BYTES) into the ring at position pos. */
static void ring_put(char *buf, uint64_t pos, const char *p, size_t n)
{
    size_t at = (size_t)(pos % TAIL_BYTES);
    size_t first = n < TAIL_BYTES - at ? n : TAIL_BYTES - at;
    memcpy(buf + at, p, first);
    memcpy(buf, p + first, n - first);
}

void tail_append(obs_tail *t, const void *p, size_t n)
{
    const char *c = p;
    pthread_mutex_lock(&t->mu);
    uint64_t pos = t->total;
    t->total += n;
    if (n > TAIL_BYTES) {
        pos += n - TAIL_BYTES;
        c += n - TAIL_BYTES;
        n = TAIL_BYTES;
    }
    ring_put(t->buf, pos, c, n);
    pthread_mutex_unlock(&t->mu);
}

void tail_reset(obs_tail *t)
{
    pthread_mutex_lock(&t->mu);
    t->total = 0;
    pthread_mutex_unlock(&t->mu);
}

size_t tail_read(obs_tail *t, char *dst, size_t cap, uint64_t *total)
{
    pthread_mutex_lock(&t->mu);
    uint64_t have = t->total < TAIL_BYTES ? t->total : TAIL_BYTES;
    size_t n = have < cap ? (size_t)have : cap;
    uint64_t pos = t->total - n;
    for (size_t i = 0; i < n; i++)
        dst[i] = t->buf[(pos + i) % TAIL_BYTES];
    *total = t->total;
    pthread_mutex_unlock(&t->mu);
    return n;
}
