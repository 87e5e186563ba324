/*
 * clocksync.h -- how far a node's clock is from the master's.
 *
 * Runner slices in a cluster trace are timed by the node that ran them,
 * on its own CLOCK_MONOTONIC, which on another host has nothing to do
 * with the master's.  The master measures each node's offset the way NTP
 * does: it sends CLOCK_PING at t0 (its clock), the node notes t1 when the
 * ping arrives and t2 when its CLOCK_PONG leaves (the node's clock), the
 * master notes t3 when the pong arrives.  Then
 *
 *     offset = ((t1 - t0) + (t2 - t3)) / 2     (node clock - master clock)
 *     delay  = (t3 - t0) - (t2 - t1)           (the round trip on the wire)
 *
 * and the offset is exact when both legs take as long; its error is at
 * most delay / 2.  So each measurement is a burst of CLOCKSYNC_PINGS
 * pings, one at a time, and keeps the sample of the smallest round trip.
 * A burst runs when the node joins and every CLOCKSYNC_PERIOD_NS after
 * (clocks drift).  The first burst's best sample so far is used until the
 * burst ends; after that a burst's result replaces the offset at its end.
 *
 * A node time t_node is the master's t_node - offset (clocksync_to_master).
 * Pure bookkeeping: the caller sends and receives (dist/mserve.c).
 */
#ifndef DVM_DIST_CLOCKSYNC_H
#define DVM_DIST_CLOCKSYNC_H

#include <stdint.h>

#include "dist/cmsg.h"
#include "util/status.h"

#define CLOCKSYNC_PINGS 8
#define CLOCKSYNC_PERIOD_NS (10ull * 1000000000ull)

typedef struct clocksync {
    uint64_t seq;               /* of the last ping sent */
    uint64_t t0;                /* when it was sent (master clock) */
    int waiting;                /* its pong has not arrived */
    int left;                   /* pings left in this burst */
    uint64_t next_ns;           /* the next burst starts */
    uint64_t best_delay;        /* this burst's best sample */
    int64_t best_offset;
    int valid;                  /* offset holds a measurement */
    int bursts;                 /* bursts completed */
    int64_t offset;             /* node clock - master clock, ns */
    uint64_t delay;             /* the round trip it was measured with */
} clocksync;

/* A node seen at now: its first burst is due at once. */
void clocksync_init(clocksync *c, uint64_t now);
/* 1 when a ping should be sent now: *seq is its number (t0 = now is
 * recorded); 0 otherwise (one in flight, or no burst due). */
int clocksync_ping_due(clocksync *c, uint64_t now, uint64_t *seq);
/* The pong p arrived at t3.  DVM_EPROTO for a pong that answers no ping
 * in flight or whose times cannot be (the node turned longer than the
 * round trip). */
dvm_status clocksync_pong(clocksync *c, const cmsg_clock *p, uint64_t t3);
/* A time on the node's clock, on the master's (unchanged before the
 * first measurement). */
uint64_t clocksync_to_master(const clocksync *c, uint64_t t_node);

#endif
