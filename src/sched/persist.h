/*
 * persist.h -- the master's state as records, for a store above the
 * scheduler (the cluster master's --state, src/dist/mstate.h).
 *
 * What a running program needs to go on after the master process is gone
 * is small and changes only at commits: the epoch, the next run id, the
 * newest version of every page (the master is the memory service), and
 * every runner that is waiting, ready or in flight (its run id, attempt,
 * descriptor, and whether it watches).  Everything else is rebuilt:
 *
 *   - runners in flight are saved as ready: after a restart they run
 *     again with the same run id and attempt, as after a lost RComp, on a
 *     new snapshot (so only the newest page versions are needed: no
 *     snapshot older than the restart is ever used again);
 *   - the stack area is the stacks of the saved runners whose stack the
 *     DVM chose (claimed again); blocks granted to RComps and retired
 *     blocks are free (no RComp and no snapshot of before survives);
 *   - the watcher index is the saved watchers' ranges.
 *
 * Saving is incremental: the runner pool keeps a journal of the records
 * made, changed or freed (rcb.h), and the space's commit log names the
 * pages that changed since an epoch.  Restoring fills a master created
 * without its program loaded (master_remote.restore).
 */
#ifndef DVM_SCHED_PERSIST_H
#define DVM_SCHED_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "isa/runner.h"
#include "sched/commit.h"
#include "sched/rcomps.h"
#include "util/status.h"

/* A runner as saved.  d is borrowed from the record when given out. */
typedef struct persist_runner {
    uint64_t rid, attempt, watch_from;
    uint32_t lost;
    uint32_t watching;          /* 1: in the watcher index */
    runner_desc d;
} persist_runner;

typedef void (*persist_runner_fn)(void *arg, const persist_runner *r);
typedef void (*persist_page_fn)(void *arg, uint64_t page, uint64_t epoch,
                                const uint8_t *data);

/* ---- saving ---- */

/* Calls fn for every runner the master holds: ready, exclusive, watching,
 * in flight on any RComp of rs.  Returns how many. */
size_t persist_each_runner(const commit_point *cp, const rcomp_set *rs,
                           persist_runner_fn fn, void *arg);
/* Starts the pool's journal (after a full save). */
void persist_journal_start(commit_point *cp);
/* Hands out the journal and empties it: put(arg, r) for each record made
 * or changed, gone(arg, rid) for each freed.  Returns 0, or -1 when the
 * journal lost an entry (out of memory): then the caller must save every
 * runner again (persist_each_runner) and delete what is not there. */
int persist_journal_drain(commit_point *cp, persist_runner_fn put,
                          void (*gone)(void *arg, uint64_t rid), void *arg);
/* Calls fn(arg, page, epoch, data) with the newest version of every page
 * a commit in (after, now] changed; every page with a version when the
 * commit log does not reach back to after (or after is 0).  A page may be
 * named more than once.  data is NULL for a version whose data is away
 * (SPACE_FRAME_AWAY: at the cluster's holders only).  Returns how many
 * calls. */
size_t persist_pages_since(const commit_point *cp, uint64_t after,
                           persist_page_fn fn, void *arg);

/* ---- restoring (into a master created with master_remote.restore) ---- */

/* Page page's content `data` (4096 bytes), its version made at epoch. */
dvm_status persist_restore_page(commit_point *cp, uint64_t page,
                                uint64_t epoch, const uint8_t *data);
/* A runner: takes r->d (left empty) on success.  Its chosen stack is
 * claimed, a watcher enters the index, others the ready (or, after
 * COMMIT_CONFLICT_LIMIT conflicts, exclusive) queue.  DVM_EINVAL with a
 * message when it contradicts what is there (a run id seen, a stack
 * taken, a descriptor DISA forbids). */
dvm_status persist_restore_runner(commit_point *cp, persist_runner *r);
/* Ends a restore: the epoch and the next run id.  DVM_EINVAL when a
 * restored page or run id is newer. */
dvm_status persist_restore_done(commit_point *cp, uint64_t epoch,
                                uint64_t next_rid);

#endif
