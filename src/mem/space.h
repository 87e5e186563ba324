/*
 * space.h -- the shared region as page versions (the memory service).
 *
 * Commits are numbered by a global epoch.  Every SR page that was ever
 * written has a chain of immutable versions, newest first, each tagged with
 * the epoch of the commit that made it, naming a frame of the store and the
 * bytes that commit changed (a mem_delta: runs, or a bitmap when dense).  A snapshot is an epoch e: it sees, for
 * each page, the newest version with epoch <= e (a page with none reads as
 * zeros).
 *
 * Validation of a commit made on snapshot e: for each page it changed, the
 * changed bytes of every version newer than e must not intersect its
 * changed bytes (diff_intersect: byte granularity, whatever the forms).
 * Installing: the commit gets epoch current+1; for each page, if the
 * runner's base is still the newest version its frame is adopted as the new
 * version as is, otherwise a new frame is the newest version with the
 * runner's changed bytes applied.
 *
 * Garbage collection with the oldest live snapshot m: a page keeps every
 * version newer than m (needed to validate and to wake watchers of live
 * snapshots) plus the newest one <= m; older versions and their frames are
 * freed.
 *
 * The cluster master may give away the data of an old version once the
 * version is kept elsewhere (its home nodes): the version stays, with its
 * delta, and names SPACE_FRAME_AWAY instead of a frame.  It may also
 * install versions without data at all (space_set_dataless): a change
 * whose frame carries only its changed-byte mask, and a merge into a base
 * whose data is elsewhere, become versions named SPACE_FRAME_AWAY at
 * once, made by the homes from the base and the committing node's bytes.
 *
 * Single-threaded: only the master calls into a mem_space.
 */
#ifndef DVM_SPACE_H
#define DVM_SPACE_H

#include <stddef.h>
#include <stdint.h>

#include "mem/diff.h"
#include "mem/store.h"
#include "util/status.h"

typedef struct mem_space mem_space;

/* One changed page of a commit.  frame holds the runner's full new page
 * content (ownership passes to the space on install, back to the caller on
 * a failed validation).  nruns and data are the change's mem_delta laid
 * flat, so that { page, frame, n, runs } is a change of n runs: data points
 * to nruns runs, or to a bitmap of DIFF_WORDS words when nruns is
 * DIFF_BITMAP (borrowed; copied on install), or is NULL when nruns is
 * DIFF_IMPLIED: the page reads as zeros at the commit's snapshot (the
 * caller's to ensure) and the frame's nonzero bytes are the changed ones.
 * space_change_delta and space_change convert. */
typedef struct mem_change {
    uint64_t page;              /* page number (address / 4096), in the SR */
    uint32_t frame;
    uint32_t nruns;             /* run count, or DIFF_BITMAP */
    const void *data;           /* const mem_run[nruns] or uint64_t[64] */
} mem_change;

static inline mem_delta space_change_delta(const mem_change *c)
{
    if (c->nruns == DIFF_BITMAP)
        return diff_of_bits(c->data);
    return diff_of_runs(c->data, c->nruns);
}

static inline mem_change space_change(uint64_t page, uint32_t frame,
                                      mem_delta d)
{
    const void *data = diff_is_bitmap(d) ? (const void *)d.bits
                                         : (const void *)d.runs;
    return (mem_change){ page, frame, d.nruns, data };
}

typedef struct space_stats {
    uint64_t pages;             /* pages with at least one version */
    uint64_t versions;          /* versions alive */
    uint64_t freed;             /* versions freed by GC so far */
    uint64_t away;              /* alive versions whose data is elsewhere */
} space_stats;

/* The frame of a version whose data was given away (space_give_away):
 * never a frame of a store. */
#define SPACE_FRAME_AWAY UINT32_MAX

dvm_status space_create(mem_store *store, mem_space **out);
/* Frees every version and frame. */
void space_destroy(mem_space *s);
/* Frees s and its versions but gives no frame back to the store: for an
 * owner that destroys the store next, whose memory then goes back to the
 * system at once when its file is closed (punching a heap of 1 GiB out
 * of it run by run first cost ~0.1-0.2 s at the end of bench/mem). */
void space_abandon(mem_space *s);
/* Epoch of the newest commit (0 before any). */
uint64_t space_epoch(const mem_space *s);

/* Frame of page as seen by snapshot epoch (0: zero page). */
uint32_t space_lookup(const mem_space *s, uint64_t page, uint64_t epoch);

/* The epoch of the version of page that snapshot epoch sees (0: none, the
 * page reads as zeros); its frame in *frame.  A version is named by
 * (page, its epoch) for as long as it lives: the cluster's nodes cache
 * versions under that name. */
uint64_t space_lookup_version(const mem_space *s, uint64_t page,
                              uint64_t epoch, uint32_t *frame);

/* Calls fn(arg, page, frame) for each page in [pg_lo, pg_hi) that has a
 * version visible at epoch with a non-zero frame, in ascending page order,
 * stopping after max calls.  Returns the number of calls. */
size_t space_visible_pages(const mem_space *s, uint64_t pg_lo, uint64_t pg_hi,
                           uint64_t epoch, size_t max,
                           void (*fn)(void *arg, uint64_t page, uint32_t frame),
                           void *arg);

/* DVM_OK when the changes made on snapshot snap conflict with no commit
 * after snap, else DVM_ECONFLICT (no message: conflicts are normal). */
dvm_status space_validate(const mem_space *s, uint64_t snap,
                          const mem_change *c, size_t n);

/* Installs validated changes as one commit and returns its epoch in
 * *epoch.  The frames of c become the space's (adopted or released).
 * Returns DVM_ENOMEM (nothing installed, frames still the caller's). */
dvm_status space_install(mem_space *s, uint64_t snap, const mem_change *c,
                         size_t n, uint64_t *epoch);

/* Installs consult fn(arg, frame, page) for each change's frame: 1 when
 * the frame carries no data (only the change's mask is known here, never
 * implied): the version is installed as SPACE_FRAME_AWAY and the frame
 * released.  A change that would merge into a version named
 * SPACE_FRAME_AWAY is installed the same way.  NULL fn: every frame has
 * its data (the default). */
void space_set_dataless(mem_space *s,
                        int (*fn)(void *arg, uint32_t frame, uint64_t page),
                        void *arg);

/* True when a commit with epoch in (after, upto], other than epoch
 * `except`, changed a byte of [lo, hi) (byte addresses).  Only exact for
 * after >= the GC horizon. */
int space_changed_between(const mem_space *s, uint64_t lo, uint64_t hi,
                          uint64_t after, uint64_t upto, uint64_t except);

/* Calls fn(arg, page) for each page a commit with epoch in (after, upto]
 * installed a version of (a page may be named more than once), from the
 * commit log.  Returns the number of calls, or SIZE_MAX without calling
 * fn for more than max pages, or when the log no longer reaches back to
 * `after` (after < the GC horizon) or upto > the current epoch: then the
 * caller must assume every page changed. */
size_t space_pages_changed(const mem_space *s, uint64_t after, uint64_t upto,
                           size_t max, void (*fn)(void *arg, uint64_t page),
                           void *arg);
/* space_pages_changed, and for an `after` the GC passed, from the trail of
 * the last few thousand pages installed, kept past the GC: a snapshot no
 * runner holds any more still says which pages changed since (what an
 * RComp's kept pages need, sched/master.c).  SIZE_MAX as there, and when
 * the trail no longer reaches back either.  Only the page numbers
 * outlive the GC: not the versions of the epochs it passed. */
size_t space_pages_changed_past_gc(const mem_space *s, uint64_t after,
                                   uint64_t upto, size_t max,
                                   void (*fn)(void *arg, uint64_t page),
                                   void *arg);

/* Restoring a saved state into a fresh space (no commit yet): page's
 * newest version, made by the commit of `epoch`, is frame (the space's
 * from now on).  Its changed bytes are not known and not needed: every
 * snapshot taken after the restore is at least the restored epoch, so no
 * validation or watcher ever asks what a restored version changed.
 * DVM_EINVAL when the space is in use, the page is already there or
 * epoch is 0 (nothing changes); DVM_ENOMEM. */
dvm_status space_restore(mem_space *s, uint64_t page, uint64_t epoch,
                         uint32_t frame);
/* Ends a restore: the current epoch (and the GC horizon: there is no
 * commit log before it) becomes epoch.  DVM_EINVAL when a restored version
 * is newer. */
dvm_status space_restore_epoch(mem_space *s, uint64_t epoch);
/* Gives away the data of version (page, epoch) when it is alive and not
 * its page's newest version (the cluster master, once the version is
 * stored at its homes): its frame returns to the store and lookups name
 * SPACE_FRAME_AWAY for it from then on; validation, installs (which read
 * only the newest version's data) and GC go on as before.  Returns 1 when
 * the data was given away now, else 0. */
int space_give_away(mem_space *s, uint64_t page, uint64_t epoch);

/* Frees versions no snapshot >= oldest_live can need. */
void space_gc(mem_space *s, uint64_t oldest_live);
/* The GC horizon: the largest oldest_live processed so far (capped at the
 * epoch).  Every version installed by a commit after it is still in the
 * space, whatever the lookups that would find it cost. */
uint64_t space_gc_horizon(const mem_space *s);

/* The bytes the version of page installed by the commit of epoch
 * changed, an implied change derived into bits[] (DIFF_WORDS); no bytes
 * (zero runs) when there is no such version.  Exact while that version is
 * alive. */
mem_delta space_version_delta(const mem_space *s, uint64_t page,
                              uint64_t epoch, uint64_t *bits);

void space_get_stats(const mem_space *s, space_stats *out);

#endif
