/*
 * home.h -- where a page version lives: its home node and its backup.
 *
 * Pages are placed by their 2 MiB region (HOME_REGION_PAGES pages), so a
 * range stays together, with rendezvous hashing: every live node gets a
 * score for the region (a hash of region and node id) and the nodes in
 * descending score order are the region's holders, the first its home,
 * the second its backup.  A node joining or leaving moves only the
 * regions whose first two holders it is or becomes: the others keep their
 * home and backup.  Node ids are the master's (never reused), so the
 * master and every node compute the same placement from the same list.
 */
#ifndef DVM_DIST_HOME_H
#define DVM_DIST_HOME_H

#include <stddef.h>
#include <stdint.h>

#define HOME_REGION_PAGES 512u
/* Copies of a version: the home and its backup. */
#define HOME_COPIES 2

/* The region of a page number. */
static inline uint64_t home_region(uint64_t page)
{
    return page / HOME_REGION_PAGES;
}

/* The score of node id for region (higher wins). */
uint64_t home_score(uint64_t region, uint64_t id);

/* The holders of page among the n node ids ids[] (distinct): the
 * min(n, HOME_COPIES) best, home first, into out.  Returns their number
 * (0 when n is 0). */
size_t home_pick(uint64_t page, const uint64_t *ids, size_t n,
                 uint64_t out[HOME_COPIES]);

/* 1 when id is among the k holders in h[]. */
int home_has(const uint64_t *h, size_t k, uint64_t id);

#endif
