/*
 * diff.h -- byte-exact page diffs as runs.
 *
 * A commit describes what a runner changed in a page as sorted, disjoint,
 * non-adjacent runs of bytes [off, off+len).  Runs are what validation
 * intersects (write-write conflicts at byte granularity) and what watchers
 * are matched against.
 */
#ifndef DVM_DIFF_H
#define DVM_DIFF_H

#include <stddef.h>
#include <stdint.h>

#define DIFF_PAGE 4096u
#define DIFF_MAX_RUNS 2048u     /* at most every other byte */

typedef struct mem_run {
    uint16_t off;               /* 0..4095 */
    uint16_t len;               /* 1..4096, off + len <= 4096 */
} mem_run;

/* Compares new against old (old NULL: the zero page) and writes the runs of
 * changed bytes to runs[] (room for DIFF_MAX_RUNS).  Returns the count;
 * 0 means unchanged. */
size_t diff_page(const uint8_t *old, const uint8_t *new_, mem_run *runs);
/* True when any run of a intersects any run of b. */
int diff_runs_intersect(const mem_run *a, size_t na, const mem_run *b,
                        size_t nb);
/* True when any run intersects the byte interval [lo, hi) of the page. */
int diff_runs_touch(const mem_run *r, size_t n, unsigned lo, unsigned hi);
/* Copies the bytes of the runs from src to dst. */
void diff_apply(uint8_t *dst, const uint8_t *src, const mem_run *r, size_t n);
/* True when runs are sorted, disjoint, within a page and non-empty. */
int diff_runs_valid(const mem_run *r, size_t n);

#endif
