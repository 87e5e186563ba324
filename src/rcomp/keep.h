/*
 * keep.h -- the pages an RComp keeps mapped across runners (see keep.c for
 * the rule and why it is safe).  A plain data structure: the RComp's run.c
 * feeds it and drops from the window what it says.
 */
#ifndef DVM_RCOMP_KEEP_H
#define DVM_RCOMP_KEEP_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

typedef struct rc_kept {
    uint64_t page;
    uint32_t frame;             /* the version's frame, 0: zeros */
    uint16_t dead;              /* marked for the next sweep */
    uint16_t stale;             /* to be made frame's bytes (refresh) */
} rc_kept;

typedef struct rc_keep {
    rc_kept *v;     size_t n, cap;      /* hash table of cap slots (a power
                                           of two, 0 before the first
                                           merge), n entries, at most half
                                           full; free slots have page
                                           UINT64_MAX */
    unsigned bits;                      /* log2(cap) */
    rc_kept *add;   size_t nadd, capadd;/* noted, not merged yet */
    uint64_t *marked; size_t nmarked;   /* pages marked dead since the
                                           last sweep (cap slots) */
    uint64_t *stale;  size_t nstale;    /* pages marked stale since the
                                           last refresh (cap slots) */
} rc_keep;

/* Frees the arrays; the set is empty (zeroed) after. */
void rc_keep_free(rc_keep *k);
/* 1 and *frame when page is kept (live or marked), else 0. */
int rc_keep_get(const rc_keep *k, uint64_t page, uint32_t *frame);
/* As rc_keep_get, for a page neither marked dead nor stale: its frame is
 * the version it holds. */
int rc_keep_get_live(const rc_keep *k, uint64_t page, uint32_t *frame);
/* Notes page (with its base frame) to be kept; DVM_ENOMEM. */
dvm_status rc_keep_note(rc_keep *k, uint64_t page, uint32_t frame);
/* Merges the noted pages in; a noted page replaces a kept one of the same
 * number.  Call with no page marked.  DVM_ENOMEM (nothing merged, the
 * noted pages still noted). */
dvm_status rc_keep_merge(rc_keep *k);
/* Mark kept pages for the next sweep: one page, pages [lo, hi), all. */
void rc_keep_invalidate(rc_keep *k, uint64_t page);
void rc_keep_invalidate_range(rc_keep *k, uint64_t lo, uint64_t hi);
void rc_keep_invalidate_all(rc_keep *k);
/* Removes the marked pages, calling drop(arg, page, n) once per run of
 * consecutive ones.  Returns how many were removed. */
/* Marks kept page `page` stale with frame as its version: the next
 * refresh copies frame's bytes over it.  A page not kept is ignored. */
void rc_keep_update(rc_keep *k, uint64_t page, uint32_t frame);
/* Marks kept page `page` dead unless it is marked stale (rc_keep_update
 * named its version): for a page whose own frame is no version. */
void rc_keep_invalidate_unlisted(rc_keep *k, uint64_t page);
/* Marks kept page `page` stale with frame as its version unless it is
 * marked stale already (rc_keep_update named its version): for a page
 * whose own frame is no version but whose version is known. */
void rc_keep_restore_unlisted(rc_keep *k, uint64_t page, uint32_t frame);
/* Marks the kept pages [lo, hi) stale with their own frame (restored by
 * the next refresh), as rc_keep_update. */
void rc_keep_stale_range(rc_keep *k, uint64_t lo, uint64_t hi);
/* Calls copy(arg, page, frame) once for each kept page still marked stale
 * and not dead, and unmarks them all.  Call after rc_keep_sweep. */
size_t rc_keep_refresh(rc_keep *k,
                       void (*copy)(void *arg, uint64_t page, uint32_t frame),
                       void *arg);
size_t rc_keep_sweep(rc_keep *k, void (*drop)(void *arg, uint64_t page,
                                              uint64_t n), void *arg);
/* Calls fn for each marked page, ascending (the list of marked pages is
 * sorted in place). */
void rc_keep_each_marked(rc_keep *k,
                         void (*fn)(void *arg, uint64_t page, uint32_t frame),
                         void *arg);

#endif
