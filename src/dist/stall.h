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
 *
 * A second hook stops a homing node at a chosen moment, as a host that
 * stops (SIGSTOP) would: with DVM_TEST_STOP_ON_PAGE=ADDR (hexadecimal) a
 * node stops itself the first time it is asked to store a version of the
 * page holding ADDR, before it stores it (stall_stop_on_page).  A third
 * stops a process at a named point of its code: DVM_TEST_STOP_AT=NAME
 * (stall_stop_at; the master's "verdict": a program's verdict is saved,
 * not sent yet; "dump": a masks-only program ended, its dumped pages not
 * fetched from their holders yet).  A fourth stalls at a named point (stall_at):
 * DVM_TEST_STALL_AT=NAME with DVM_TEST_STALL_MS.  A fifth makes a node
 * answer as if it lacked a version once: DVM_TEST_LACK_AT=NAME.
 */
#ifndef DVM_DIST_STALL_H
#define DVM_DIST_STALL_H

#include <stdint.h>

#include "cluster/transport.h"

/* The first call in this process with DVM_TEST_STALL_MS set sleeps that
 * many milliseconds (logged on stderr as "WHO: stalling N ms (test)");
 * with t not NULL it turns t (transport_tick) every 10 ms meanwhile, as a
 * step that keeps its transport alive does; with t NULL it is deaf, as a
 * blocking call is.  Every later call, and every call without the
 * variable, returns at once. */
void stall_once(const char *who, transport *t);

/* With DVM_TEST_STALL_AT equal to point, the first call stalls as
 * stall_once does, DVM_TEST_STALL_MS milliseconds, turning t (not NULL);
 * stall_once then stalls nowhere.  The master's "frames": the first
 * record of a large result's frames that it copies in, for a master that
 * turns UCX while a node ships to it (cluster/paced).  Every other call
 * returns at once. */
void stall_at(const char *who, const char *point, transport *t);

/* With DVM_TEST_STOP_ON_PAGE naming page `page` (a page number), the
 * first call says so on stderr as WHO and raises SIGSTOP; every other
 * call returns at once. */
void stall_stop_on_page(const char *who, uint64_t page);

/* With DVM_TEST_STOP_AT equal to point, the first call says so on stderr
 * as WHO and raises SIGSTOP; every other call returns at once. */
void stall_stop_at(const char *who, const char *point);

/* With DVM_TEST_LACK_AT equal to point, the first call says so on stderr
 * as WHO and returns 1: the caller acts as if it lacked what it was asked
 * for (a node's "dump": it answers the master's first HFETCH with every
 * version absent).  Every other call returns 0. */
int stall_lack_at(const char *who, const char *point);

#endif
