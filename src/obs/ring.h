/*
 * ring.h -- the recent runner events, for the dashboard's task stream.
 *
 * A fixed power-of-two array of events and a sequence number: the writer
 * (the master's thread, the only one) fills the slot of sequence `head` and
 * then publishes head + 1 with release order; a reader (the HTTP thread)
 * loads head with acquire order, copies the slots it wants, and then loads
 * head again: a slot whose sequence is older than (new head - capacity)
 * may have been overwritten while it was copied, and is dropped.  Every
 * field is a relaxed atomic, so a torn slot is a dropped slot, never a
 * data race.  The writer never waits, never takes a lock and never
 * allocates: a push is a fence, four relaxed stores and a release store, cheap
 * enough for any runner rate.  A reader that falls more than `capacity`
 * events behind sees the newest `capacity`; one that asks for fewer events
 * than there are gets an even sample of them, read straight from the slots.
 */
#ifndef DVM_OBS_RING_H
#define DVM_OBS_RING_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

/* How a runner attempt ended, as the dashboard colours it. */
typedef enum ring_outcome {
    RING_COMMIT,
    RING_CONFLICT,              /* tried to commit; re-executed */
    RING_ABORT,
    RING_FAULT,
    RING_LOST                   /* its RComp died */
} ring_outcome;

typedef struct ring_event {
    uint64_t seq;               /* set by ring_read */
    uint64_t rid;
    uint64_t t_start_ns, t_end_ns;  /* CLOCK_MONOTONIC */
    uint32_t rcomp;             /* RComp index within its node */
    uint16_t node;
    uint8_t outcome;            /* ring_outcome */
    uint8_t attempt;            /* saturates at 255 */
} ring_event;

typedef struct obs_ring obs_ring;

/* A ring of 2^log2cap events (log2cap in 4..24). */
dvm_status ring_create(unsigned log2cap, obs_ring **out);
void ring_destroy(obs_ring *r);
/* Appends e (its seq is ignored).  One writer thread only. */
void ring_push(obs_ring *r, const ring_event *e);
/* Copies events with seq >= since into dst, oldest first, and returns how
 * many: all of them when there are at most max, else an even sample of
 * max (spaced evenly with jitter, so no periodic pattern aliases).  *next gets the sequence after the
 * newest event (the `since` of the next call).  Any thread. */
size_t ring_read(const obs_ring *r, uint64_t since, ring_event *dst,
                 size_t max, uint64_t *next);
/* Sequence of the next event to be pushed (events pushed so far). */
uint64_t ring_head(const obs_ring *r);

#endif
