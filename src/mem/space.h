/*
 * space.h -- the shared region as page versions (the memory service).
 *
 * Commits are numbered by a global epoch.  Every SR page that was ever
 * written has a chain of immutable versions, newest first, each tagged with
 * the epoch of the commit that made it, naming a frame of the store and the
 * runs of bytes that commit changed.  A snapshot is an epoch e: it sees, for
 * each page, the newest version with epoch <= e (a page with none reads as
 * zeros).
 *
 * Validation of a commit made on snapshot e: for each page it changed, the
 * runs of every version newer than e must not intersect its runs.
 * Installing: the commit gets epoch current+1; for each page, if the
 * runner's base is still the newest version its frame is adopted as the new
 * version as is, otherwise a new frame is the newest version with the
 * runner's runs applied.
 *
 * Garbage collection with the oldest live snapshot m: a page keeps every
 * version newer than m (needed to validate and to wake watchers of live
 * snapshots) plus the newest one <= m; older versions and their frames are
 * freed.
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
 * a failed validation). */
typedef struct mem_change {
    uint64_t page;              /* page number (address / 4096), in the SR */
    uint32_t frame;
    uint32_t nruns;
    mem_run *runs;              /* borrowed; copied on install */
} mem_change;

typedef struct space_stats {
    uint64_t pages;             /* pages with at least one version */
    uint64_t versions;          /* versions alive */
    uint64_t freed;             /* versions freed by GC so far */
} space_stats;

dvm_status space_create(mem_store *store, mem_space **out);
/* Frees every version and frame. */
void space_destroy(mem_space *s);
/* Epoch of the newest commit (0 before any). */
uint64_t space_epoch(const mem_space *s);

/* Frame of page as seen by snapshot epoch (0: zero page). */
uint32_t space_lookup(const mem_space *s, uint64_t page, uint64_t epoch);

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

/* True when a commit with epoch in (after, upto], other than epoch
 * `except`, changed a byte of [lo, hi) (byte addresses).  Only exact for
 * after >= the GC horizon. */
int space_changed_between(const mem_space *s, uint64_t lo, uint64_t hi,
                          uint64_t after, uint64_t upto, uint64_t except);

/* Frees versions no snapshot >= oldest_live can need. */
void space_gc(mem_space *s, uint64_t oldest_live);

void space_get_stats(const mem_space *s, space_stats *out);

#endif
