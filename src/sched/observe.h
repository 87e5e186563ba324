/*
 * observe.h -- the scheduler's side of src/obs: what the master, its RComp
 * set and its commit point tell the metrics, the runner event ring and the
 * output tail.  One observer per master; the commit point borrows it (and
 * the RComp set through the commit point).  Every call is a one-liner at
 * a decision point:
 *
 *   master.c    observe_setup, observe_dispatch, observe_due (levels)
 *   rcomps.c    observe_result (an attempt's fate), observe_page
 *   commit.c    observe_validation, observe_output
 *
 * Without an obs hub (observer.o NULL), and with a NULL observer, every
 * call returns at once and observe_clock reads no clock.  All run on the
 * master's thread.
 */
#ifndef DVM_SCHED_OBSERVE_H
#define DVM_SCHED_OBSERVE_H

#include <stddef.h>
#include <stdint.h>

#include "net/msg.h"
#include "obs/obs.h"
#include "sched/config.h"
#include "sched/rcb.h"

typedef struct observer {
    obs *o;                     /* borrowed; NULL: observing nothing */
    int node;                   /* this master's node in o */
    uint64_t tick_ns;           /* levels last published */
    const master_remote *remote;    /* borrowed; NULL: every RComp local */
} observer;

/* Observes into o (NULL: nothing) as the node "local" with nrcomps RComps,
 * or for a cluster master (remote set) as the node "master" (its RComps
 * are the remote ones, each on its node: remote->obs_place). */
dvm_status observe_setup(observer *ob, obs *o, int nrcomps,
                         const master_remote *remote);
/* Now, for observe_validation/observe_page (0 when observing nothing). */
uint64_t observe_clock(const observer *ob);
/* The last k runners of RComp rcomp's in-flight ring were just dispatched:
 * stamps their dispatch time. */
void observe_dispatch(observer *ob, int rcomp, rcb_ring *inflight,
                      uint32_t k);
/* An attempt's result was handled; conflict: validation refused it. */
void observe_result(observer *ob, int rcomp, const msg_result *res,
                    uint64_t t_dispatch, int conflict);
void observe_validation(observer *ob, uint64_t t0);
void observe_page(observer *ob, int rcomp, uint64_t t0);
void observe_output(observer *ob, const void *bytes, size_t n);
/* RComp slot `rcomp`'s process and runners in flight, for the dashboard. */
void observe_rcomp(observer *ob, int rcomp, int64_t pid, uint32_t inflight);
/* True when the master should publish its levels now (obs_levels_set):
 * at most every 100 ms, and always when final. */
int observe_due(observer *ob, int final);

#endif
