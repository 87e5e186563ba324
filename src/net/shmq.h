/*
 * shmq.h -- a pair of byte queues in shared memory between two processes:
 * the master's (or a test's) control channel to one RComp.
 *
 * Why.  A runner's life crosses the master-RComp channel twice (dispatch,
 * result).  Over a socket each crossing is a send and a read, and each
 * send wakes the peer's wait queue whether the peer sleeps or polls: on a
 * virtual machine the socket's locks and wake-ups were the largest kernel
 * cost of small tasks (docs/performance.md, "The runner hand-off").  In
 * shared memory a crossing is a copy and a store; a system call is made
 * only to wake a peer that really sleeps.
 *
 * Layout.  One memfd: a page of two direction headers, then the two data
 * areas of cap bytes each (cap a power of two).  Direction 0 carries the
 * creator's bytes to the other end, direction 1 the other way.  Each
 * direction is a single-producer single-consumer ring of bytes counted
 * from 0 forever: the producer owns `tail` (bytes written), the consumer
 * `head` (bytes consumed); tail - head bytes are readable and
 * cap - (tail - head) writable.  The bytes are a stream: framing is the
 * caller's (net/conn.c frames messages over it exactly as over a socket),
 * so a message larger than the ring goes through in pieces while the
 * consumer reads.
 *
 * Waking.  The queues carry data; sleeping is done on a file descriptor
 * the caller already has (the socketpair, which also reports the peer's
 * death as end of file).  A side that is about to sleep on it sets its
 * flag (`reader_waits` for data, `writer_waits` for room), then looks at
 * the queue once more, and sleeps only if it is still empty (full); a
 * side that has just published bytes (room) looks at the peer's flag and,
 * when it is set, clears it and sends one byte on the socket: a doorbell,
 * which means only "look again".  Both the flag store and the publish are
 * sequentially consistent and each side loads the other's after its own
 * store, so at least one side sees the other's: either the sleeper sees
 * the bytes and does not sleep, or the producer sees the flag and rings.
 * No wake-up is lost, and none is made for a peer that polls or runs.
 *
 * Trust.  The peer can write anything into the shared pages.  Indices
 * are read once and checked (tail - head never above cap: anything else
 * is DVM_EPROTO, and the channel is dropped); data is copied out before it
 * is parsed (conn.c's buffer), so the peer cannot change a frame under
 * its reader.  Offsets into the data areas are masked, so no index can
 * reach outside them.
 */
#ifndef DVM_NET_SHMQ_H
#define DVM_NET_SHMQ_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

/* Bytes a direction holds by default: 64 KiB, 16 pages.  The ring's
 * pages are the one place every message passes, so it is kept small
 * enough to stay mapped and cached: a first touch of a shared page costs
 * each process a fault (5-7 us on a virtual machine), and a 1 MiB ring
 * was still being walked for the first time after 16,000 short runners
 * (~0.16 faults a runner on each side; empty Task Bench runners 0.94x
 * with 64 KiB, docs/performance.md "Queues that stay mapped").  A
 * dispatch batch of runners with their page lists still fits whole;
 * larger frames go in pieces while the peer reads. */
#define SHMQ_CAP_DEFAULT ((size_t)1 << 16)
/* Least and largest capacities shmq_create and shmq_open accept. */
#define SHMQ_CAP_MIN ((size_t)4096)
#define SHMQ_CAP_MAX ((size_t)1 << 30)

/* Where direction d's tail and head lie in the memfd's first page (d 0:
 * the creator's bytes, 1: the peer's), for tests and fuzzers that play a
 * peer writing any index (shmq.c asserts the layout). */
#define SHMQ_TAIL_OFFSET(d) ((size_t)(d) * 256)
#define SHMQ_HEAD_OFFSET(d) ((size_t)(d) * 256 + 64)

typedef struct shmq shmq;

/* Creates a queue pair of cap bytes a direction (a power of two within
 * [SHMQ_CAP_MIN, SHMQ_CAP_MAX]) in a close-on-exec memfd.  On success *q
 * is the creator's end (owned by the caller, free with shmq_close) and
 * *fd the memfd to hand to the peer (owned by the caller, who closes it
 * once the peer has it). */
dvm_status shmq_create(size_t cap, int *fd, shmq **q);
/* Maps the other end of the pair in memfd fd (fd stays the caller's).
 * DVM_EINVAL when fd holds no queue pair.  On success *q is the caller's. */
dvm_status shmq_open(int fd, shmq **q);
/* Unmaps q (NULL is fine). */
void shmq_close(shmq *q);

/* Copies up to len bytes of p into the outgoing queue, as many as fit,
 * and publishes them; *wrote is set to that number (maybe 0).
 * DVM_EPROTO when the peer's index is corrupt. */
dvm_status shmq_write(shmq *q, const void *p, size_t len, size_t *wrote);
/* Copies up to max readable bytes of the incoming queue to dst and
 * consumes them; *got is set (maybe 0).  DVM_EPROTO when the peer's
 * index is corrupt. */
dvm_status shmq_read(shmq *q, void *dst, size_t max, size_t *got);
/* Bytes readable now (a memory load; a corrupt index reads as 1, so that
 * the caller's shmq_read reports it). */
size_t shmq_readable(const shmq *q);
/* Bytes writable now (a corrupt index reads as 0). */
size_t shmq_room(const shmq *q);

/* After shmq_write: 1 when the peer sleeps for data and must be rung (its
 * flag is cleared: ring exactly once), else 0. */
int shmq_reader_to_wake(shmq *q);
/* 1 when the peer has asked to be rung for data (it sleeps, or is about
 * to), else 0 (it polls, or is busy): a look at its flag, which stays. */
int shmq_reader_sleeps(const shmq *q);
/* After shmq_read: 1 when the peer waits for room and must be rung. */
int shmq_writer_to_wake(shmq *q);

/* Before sleeping for data: sets this end's flag, then looks again.  1:
 * still nothing readable, sleep (the peer will ring); 0: bytes came, the
 * flag is cleared, do not sleep. */
int shmq_sleep_for_data(shmq *q);
/* The same before sleeping for want bytes of room (want <= cap). */
int shmq_sleep_for_room(shmq *q, size_t want);
/* After a sleep (or a wake-up for another reason): this end no longer
 * needs ringing. */
void shmq_awake(shmq *q);

#endif
