/*
 * watch.h -- the watcher pool index: which watchers does a commit wake?
 *
 * A watcher (DISA 6.4) watches a few byte ranges of the SR.  When a commit
 * changes bytes in [lo, hi), the scheduler asks the index for every watcher
 * with a range intersecting [lo, hi): O(log n + hits) per query.  Watchers
 * are named by a caller-chosen 64-bit id (the runner id); the index keeps
 * its own copy of the ranges.
 *
 * Single-threaded.
 */
#ifndef DVM_WATCH_H
#define DVM_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "isa/runner.h"          /* dvm_range: {lo, hi}, half-open */
#include "util/status.h"

typedef struct watch_index watch_index;

/* Creates an empty index; on success *out owns it. */
dvm_status watch_index_create(watch_index **out);
/* Frees the index (NULL is fine). */
void watch_index_destroy(watch_index *w);

/* Adds watcher id with ranges r[0..n) (copied).  DVM_EINVAL when n is 0,
 * a range is empty (lo >= hi) or id is already present; DVM_ENOMEM leaves
 * the index unchanged. */
dvm_status watch_add(watch_index *w, uint64_t id, const dvm_range *r,
                     size_t n);
/* Removes watcher id and all its ranges.  Returns 1 if it was present,
 * else 0. */
int watch_remove(watch_index *w, uint64_t id);

/* Calls fn(arg, id) once for each watcher with a range intersecting
 * [lo, hi), however many of its ranges do, in no particular order.  fn may
 * call watch_remove and watch_add (a watcher removed before its turn is
 * not reported; one added during the query is not reported) but not
 * watch_query.  Returns the number of calls. */
size_t watch_query(watch_index *w, uint64_t lo, uint64_t hi,
                   void (*fn)(void *arg, uint64_t id), void *arg);

/* Watchers in the index. */
size_t watch_count(const watch_index *w);

#endif
