/*
 * shmq.c -- see shmq.h.
 *
 * The four words of a direction sit on their own cache lines: the
 * producer's tail and the consumer's head are written on every message
 * by different processes, and sharing a line would bounce it twice as
 * often.  Memory order: the producer's data copy happens before its
 * release (here sequentially consistent) store of tail, which the
 * consumer loads with acquire before copying out; the consumer's copy
 * happens before its store of head, which the producer loads before it
 * overwrites those bytes.  The flags' Dekker pattern is in shmq.h.
 */
#define _GNU_SOURCE
#include "net/shmq.h"

#include <assert.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"

#define SHMQ_LINE 64
#define SHMQ_HDR 4096           /* the two directions' headers */

/* One direction's shared words, each on its own line. */
typedef struct shmq_dir {
    _Alignas(SHMQ_LINE) _Atomic uint64_t tail;   /* producer */
    _Alignas(SHMQ_LINE) _Atomic uint64_t head;   /* consumer */
    _Alignas(SHMQ_LINE) _Atomic uint32_t reader_waits;
    _Alignas(SHMQ_LINE) _Atomic uint32_t writer_waits;
} shmq_dir;

_Static_assert(2 * sizeof(shmq_dir) <= SHMQ_HDR, "headers fit a page");
_Static_assert(sizeof(shmq_dir) == SHMQ_TAIL_OFFSET(1) &&
               offsetof(shmq_dir, tail) == SHMQ_TAIL_OFFSET(0) &&
               offsetof(shmq_dir, head) == SHMQ_HEAD_OFFSET(0),
               "the layout shmq.h publishes");

struct shmq {
    uint8_t *map;
    size_t len, cap;
    shmq_dir *tx, *rx;          /* this end writes tx, reads rx */
    uint8_t *txd, *rxd;
};

static int cap_valid(size_t cap)
{
    return cap >= SHMQ_CAP_MIN && cap <= SHMQ_CAP_MAX &&
           (cap & (cap - 1)) == 0;
}

/* Maps len bytes of fd and makes end `side` (0 creator, 1 peer) of it. */
static dvm_status shmq_map(int fd, size_t len, int side, shmq **out)
{
    shmq *q = dvm_malloc(sizeof *q);
    if (!q)
        return status_set(DVM_ENOMEM, "out of memory for a queue");
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        dvm_status st = status_set_errno(DVM_ESYS, "mapping a queue");
        dvm_free(q);
        return st;
    }
    q->map = p;
    q->len = len;
    q->cap = (len - SHMQ_HDR) / 2;
    shmq_dir *d = (shmq_dir *)q->map;
    uint8_t *data = q->map + SHMQ_HDR;
    q->tx = &d[side];
    q->rx = &d[!side];
    q->txd = data + (size_t)side * q->cap;
    q->rxd = data + (size_t)!side * q->cap;
    *out = q;
    return DVM_OK;
}

dvm_status shmq_create(size_t cap, int *fd_out, shmq **out)
{
    assert(cap_valid(cap));
    int fd = memfd_create("dvm-shmq", MFD_CLOEXEC);
    if (fd < 0)
        return status_set_errno(DVM_ESYS, "memfd_create queue");
    dvm_status st;
    if (ftruncate(fd, (off_t)(SHMQ_HDR + 2 * cap)) < 0) {
        st = status_set_errno(DVM_ESYS, "sizing a queue");
        goto err_fd;
    }
    shmq *q;
    if ((st = shmq_map(fd, SHMQ_HDR + 2 * cap, 0, &q)))
        goto err_fd;
    *fd_out = fd;
    *out = q;
    return DVM_OK;
err_fd:
    close(fd);
    return st;
}

dvm_status shmq_open(int fd, shmq **out)
{
    struct stat sb;
    if (fstat(fd, &sb) < 0)
        return status_set_errno(DVM_EINVAL, "queue fd %d", fd);
    size_t len = (size_t)sb.st_size;
    if (sb.st_size < SHMQ_HDR || (len - SHMQ_HDR) % 2 ||
        !cap_valid((len - SHMQ_HDR) / 2))
        return status_set(DVM_EINVAL, "fd %d holds no queue pair", fd);
    return shmq_map(fd, len, 1, out);
}

void shmq_close(shmq *q)
{
    if (!q)
        return;
    munmap(q->map, q->len);
    dvm_free(q);
}

/* Bytes in direction d, or cap + 1 when its indices are corrupt. */
static uint64_t dir_used(const shmq_dir *d, size_t cap)
{
    uint64_t t = atomic_load(&d->tail), h = atomic_load(&d->head);
    return t - h <= cap ? t - h : cap + 1;
}

dvm_status shmq_write(shmq *q, const void *p, size_t len, size_t *wrote)
{
    uint64_t t = atomic_load_explicit(&q->tx->tail, memory_order_relaxed);
    uint64_t h = atomic_load_explicit(&q->tx->head, memory_order_acquire);
    if (t - h > q->cap)
        return status_set(DVM_EPROTO, "queue: the reader's index is corrupt");
    size_t n = q->cap - (size_t)(t - h);
    if (n > len)
        n = len;
    size_t at = (size_t)t & (q->cap - 1), first = q->cap - at;
    if (first > n)
        first = n;
    memcpy(q->txd + at, p, first);
    memcpy(q->txd, (const uint8_t *)p + first, n - first);
    atomic_store(&q->tx->tail, t + n);
    *wrote = n;
    return DVM_OK;
}

dvm_status shmq_read(shmq *q, void *dst, size_t max, size_t *got)
{
    uint64_t h = atomic_load_explicit(&q->rx->head, memory_order_relaxed);
    uint64_t t = atomic_load_explicit(&q->rx->tail, memory_order_acquire);
    if (t - h > q->cap)
        return status_set(DVM_EPROTO, "queue: the writer's index is corrupt");
    size_t n = (size_t)(t - h);
    if (n > max)
        n = max;
    size_t at = (size_t)h & (q->cap - 1), first = q->cap - at;
    if (first > n)
        first = n;
    memcpy(dst, q->rxd + at, first);
    memcpy((uint8_t *)dst + first, q->rxd, n - first);
    atomic_store(&q->rx->head, h + n);
    *got = n;
    return DVM_OK;
}

size_t shmq_readable(const shmq *q)
{
    uint64_t n = dir_used(q->rx, q->cap);
    return n > q->cap ? 1 : (size_t)n;
}

size_t shmq_room(const shmq *q)
{
    uint64_t n = dir_used(q->tx, q->cap);
    return n > q->cap ? 0 : q->cap - (size_t)n;
}

/* Clears *flag if set; 1 when this call cleared it. */
static int take_flag(_Atomic uint32_t *flag)
{
    return atomic_load(flag) && atomic_exchange(flag, 0);
}

int shmq_reader_sleeps(const shmq *q)
{
    return atomic_load(&q->tx->reader_waits) != 0;
}

int shmq_reader_to_wake(shmq *q)
{
    return take_flag(&q->tx->reader_waits);
}

int shmq_writer_to_wake(shmq *q)
{
    return take_flag(&q->rx->writer_waits);
}

int shmq_sleep_for_data(shmq *q)
{
    atomic_store(&q->rx->reader_waits, 1);
    if (shmq_readable(q) == 0)
        return 1;
    atomic_store(&q->rx->reader_waits, 0);
    return 0;
}

int shmq_sleep_for_room(shmq *q, size_t want)
{
    assert(want <= q->cap);
    atomic_store(&q->tx->writer_waits, 1);
    if (shmq_room(q) < want)
        return 1;
    atomic_store(&q->tx->writer_waits, 0);
    return 0;
}

void shmq_awake(shmq *q)
{
    if (atomic_load_explicit(&q->rx->reader_waits, memory_order_relaxed))
        atomic_store(&q->rx->reader_waits, 0);
    if (atomic_load_explicit(&q->tx->writer_waits, memory_order_relaxed))
        atomic_store(&q->tx->writer_waits, 0);
}
