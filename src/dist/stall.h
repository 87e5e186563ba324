/*
 * stall.h -- a test hook: one long step of a loop, on demand.
 *
 * The heartbeat bound (docs/cluster.md, Heartbeats) must not give up a
 * healthy peer because this side, or the peer, was busy for a while: a
 * long commit, a disk write, RComps starting.  Such steps are rare and
 * their length is luck, so the tests ask for one instead: with
 * DVM_TEST_STALL_MS=N in its environment a process stalls once, N
 * milliseconds, where its code calls stall_once.  Without the variable
 * (the normal case) stall_once does nothing.
 */
#ifndef DVM_DIST_STALL_H
#define DVM_DIST_STALL_H

#include "cluster/transport.h"

/* The first call in this process with DVM_TEST_STALL_MS set sleeps that
 * many milliseconds (logged on stderr as "WHO: stalling N ms (test)");
 * with t not NULL it turns t (transport_tick) every 10 ms meanwhile, as a
 * step that keeps its transport alive does; with t NULL it is deaf, as a
 * blocking call is.  Every later call, and every call without the
 * variable, returns at once. */
void stall_once(const char *who, transport *t);

#endif
