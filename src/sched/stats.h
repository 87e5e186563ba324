/*
 * stats.h -- what the master counts: the --stats report, and what the
 * commit point, dispatch and the RComp set add to as they decide.
 * A plain struct of counters, owned by the master and written only on its
 * thread.
 */
#ifndef DVM_SCHED_STATS_H
#define DVM_SCHED_STATS_H

#include <stdint.h>

typedef struct master_stats {
    uint64_t runners_run;       /* attempts sent back by RComps */
    uint64_t runners_committed;
    uint64_t runners_aborted;
    uint64_t runners_faulted;
    uint64_t reexecuted;        /* attempts repeated after a conflict */
    uint64_t rerun_lost;        /* runners re-run because an RComp died */
    uint64_t runners_taken_back; /* from an RComp's queue before it started
                                   them, to run elsewhere (master.c) */
    uint64_t exclusive_runs;    /* runs under the progress guarantee */
    uint64_t local_started;     /* children started at once by their
                                   creator's RComp (sched/local.h) */
    uint64_t local_kept;        /* of those, results kept as they were */
    uint64_t local_rerun;       /* results that failed the check (or
                                   could not be checked): run again */
    uint64_t local_dropped;     /* results of children never created
                                   (their creator did not commit) */
    uint64_t commits;
    uint64_t conflicts;
    uint64_t watchers_created;
    uint64_t watchers_woken;
    uint64_t watchers_dropped;
    uint64_t pages_prefetched;
    uint64_t pages_faulted;
    uint64_t pages_written;
    uint64_t page_requests;
    uint64_t rcomps_replaced;
    uint64_t signals;           /* system page commits after the start */
    uint64_t versions_freed;
    uint64_t frames_touched;    /* distinct frames of the store ever used
                                   (store_frames_touched) */
    uint64_t stacks_granted;    /* stack-area blocks granted to RComps */
    uint64_t stack_bytes_held;  /* held by runners at the end (after the
                                   dropped watchers' are freed): 0 */
    uint64_t ns_setup, ns_run, ns_commit, ns_dispatch;
} master_stats;

#endif
