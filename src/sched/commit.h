/*
 * commit.h -- the commit point of the DVM: the one place where memory
 * changes, for runners and for the DVM itself.
 *
 * Every change of the shared region goes through commit_install: the
 * DVM's own writes (the program's segments at load, the system page's
 * signals) and the commits of runners.  Install gives the change the next
 * epoch, counts it, traces it and wakes the watchers whose bytes it
 * touched -- written once, so both kinds behave the same to a program
 * that watches them.  Runner commits add validation before, and output
 * and children after.
 *
 * The commit point knows nothing of RComps or processes: the caller has
 * already checked that a result is the answer to what it dispatched (run
 * id, snapshot, attempt, frames and stacks granted to that RComp), and
 * passes the record and the result in.  What it does not take it never
 * touches.
 *
 * Stacks chosen by the DVM (DISA 1.1) come back to the stack area here:
 * a runner's when it has finished (committed, aborted, faulted; a watcher
 * after it ran: retired first, see stacks.h), its children's when its
 * commit conflicts or it did not commit.  A conflicting runner keeps its
 * own: it runs again on it.
 */
#ifndef DVM_SCHED_COMMIT_H
#define DVM_SCHED_COMMIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "io/sink.h"
#include "io/trace.h"
#include "mem/space.h"
#include "mem/store.h"
#include "net/msg.h"
#include "sched/observe.h"
#include "sched/rcb.h"
#include "sched/stacks.h"
#include "sched/stats.h"
#include "sched/watch.h"

/* After this many conflicts a runner runs alone (progress guarantee). */
#define COMMIT_CONFLICT_LIMIT 3

typedef struct commit_point {
    mem_store *store;           /* all borrowed from the master */
    mem_space *space;
    watch_index *watchers;
    rcb_pool *pool;
    stacks *stacks;             /* the stack area (DISA 1.1) */
    io_sink *sinks;             /* 0: stdout, k: k-th out channel */
    size_t nsinks;
    io_trace *trace;
    master_stats *st;
    observer *ob;               /* metrics and events */
    FILE *diag;                 /* runner fault reports (stderr) */
    void (*fault_note)(void *arg, uint64_t pc, FILE *diag);  /* or NULL */
    void *fault_note_arg;
    double conflict_rate;       /* moving average over recent results */
    uint64_t max_runners;       /* most waiting runners (master_config);
                                 * 0: no bound */
    rcb *local_kid;             /* out of commit_result: the record of the
                                   child its RComp started at once
                                   (msg_result.local), in no queue (the
                                   caller's), when the commit admitted it
                                   as a plain runner; else NULL */
} commit_point;

/* A commit of the DVM's own: bytes [addr, addr + n) of the SR become data,
 * in one epoch, and the watchers of those bytes wake.  Frames come from
 * the store.  Returns DVM_OK, or an error with nothing installed. */
dvm_status commit_write(commit_point *cp, uint64_t addr, const void *data,
                        uint64_t n);

/* What happens to a runner's result.  Takes r: it is freed (finished) or
 * back in the pool (conflict: attempt + 1).  The result's frames belong to
 * the commit point now: they become page versions or go back to the store;
 * its output's frames go back to the store, after their bytes were written
 * to the sinks if it committed.  res names only channels the program has
 * (the caller validated it: rcomps.c check_outputs).
 * The caller frees res.  Returns DVM_OK, or a fatal error (the run stops:
 * out of memory, an output sink that failed). */
dvm_status commit_result(commit_point *cp, rcb *r, msg_result *res);

/* The children of res will never exist: their chosen stacks are free at
 * once (nothing was committed into them since they were last free). */
void commit_free_kid_stacks(commit_point *cp, const msg_result *res);

/* r has finished for good outside a result (its RComp kept dying under
 * it): its stack, if the DVM chose it, is free again, and r is freed. */
void commit_runner_done(commit_point *cp, rcb *r);

/* Snapshots older than this may still be in use: the caller's bound for
 * garbage collection is min(this, its in-flight snapshots). */
uint64_t commit_epoch(const commit_point *cp);

#endif
