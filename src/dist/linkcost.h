/*
 * linkcost.h -- what a runner costs in fetching over its node's link:
 * placement that keeps input-heavy runners off a slow link.
 *
 * A runner that a node never ran before reads its input pages over that
 * node's link (dist/ninput.h: a node keeps the input pages its RComps
 * read for the whole run, so a runner of the same identity, dist/kin.h,
 * finds them there the next time).  On a fast link that is a fraction of
 * the runner's time; on a slow one it can be many times it: k-means'
 * chunk of 100 KB takes 40 ms at 20 Mbit/s against a few ms of
 * computing.  The cost is the product of two things measured apart, so
 * that each is known as soon as anything measured it:
 *
 *   - What a runner fetches: the input pages a runner of one entry point
 *     (its "kind") fetched on a node that had not run it before and
 *     lacked most of the input, a moving average per kind over every node
 *     (linkcost_note; the master learns it from each RESULT, which its
 *     node annotates with the input pages it asked for that runner).  A
 *     runner sent back to the node that ran it, or on a node that held
 *     most of the input already, says little of what its kind reads, and
 *     is not counted.  Until a kind has a figure it counts as one read-ahead
 *     (LINKCOST_PRIOR_PAGES): the first batches of a phase are exactly
 *     where a slow link is not to be filled blindly.  The figure is
 *     scaled by the share of the input the node lacks: a node that read
 *     most of it already (its own runners' and what it read ahead) fetches
 *     little for a runner new to it, a node that read none fetches it
 *     all.
 *   - What a page costs on a node's link: the node times each batch of
 *     input pages it asks the master for, from the question to the
 *     answer, per page (linkcost_link; it rides on the same RESULTs).
 *
 * The master's dispatch (sched/master.c) then passes a runner over on an
 * RComp whose host would take longer to fetch it than another RComp would
 * take to start it there, its own fetch included.
 *
 * Pure computation, no allocation, no I/O; the clock is the caller's.
 */
#ifndef DVM_DIST_LINKCOST_H
#define DVM_DIST_LINKCOST_H

#include <stdint.h>

#include "dist/ninput.h"

#define LINKCOST_KINDS 256u         /* entry points remembered (power of 2) */
#define LINKCOST_ASKS 16u           /* a node's questions timed at once */
#define LINKCOST_MIN_PAGES 4u       /* a smaller answer says little of the
                                       link: its round trip is most of it */
#define LINKCOST_PRIOR_PAGES NINPUT_AHEAD   /* a kind not measured yet */

/* The input pages runners of one entry point fetch on a node that lacks
 * most of the input: a moving average (1/4 weight) in sixteenths of a
 * page. */
typedef struct linkcost_kind {
    uint64_t entry;
    uint64_t pages16;
    uint64_t seen;              /* runners noted; 0: slot unused */
} linkcost_kind;

typedef struct linkcost {
    linkcost_kind v[LINKCOST_KINDS];
} linkcost;

/* Forgets every kind (a new run). */
void linkcost_clear(linkcost *c);

/* A runner of entry point `entry` fetched `pages` input pages on a node
 * that held `have` of the program's `total` input pages before it ran.
 * Counted only when the node lacked at least half of them. */
void linkcost_note(linkcost *c, uint64_t entry, uint64_t pages,
                   uint64_t have, uint64_t total);

/* The input pages, in sixteenths, a runner of `entry` is expected to fetch
 * on a node that lacks most of the input; LINKCOST_PRIOR_PAGES (times 16)
 * while none of its kind was counted. */
uint64_t linkcost_pages16(const linkcost *c, uint64_t entry);

/* The time a runner of `entry` would spend fetching on a node whose link
 * takes ns_per_page a page and that holds `have` of the program's `total`
 * input pages: its kind's pages times the share of the input the node
 * lacks times ns_per_page; 0 when the program has no input, the node
 * holds it all, or its link is not measured. */
uint64_t linkcost_fetch_ns(const linkcost *c, uint64_t entry,
                           uint64_t ns_per_page, uint64_t have,
                           uint64_t total);

/* A node's measure of its link to the master: the questions for input
 * pages under way (the first page asked, when, how many), and the moving
 * average (1/2 weight: a link that became slow is to be seen at once) of
 * the time per page of the answers to those of LINKCOST_MIN_PAGES pages
 * or more. */
typedef struct linkcost_link {
    struct {
        uint64_t page, t0_ns;
        uint32_t pages;         /* 0: free */
    } ask[LINKCOST_ASKS];
    uint64_t ns_per_page;       /* 0: not measured yet */
} linkcost_link;

/* Forgets the questions under way and the measure (a new run): a link's
 * speed changes between programs, and a measure from before misleads
 * more than none, which holds a node to a few runners until its first
 * result measured it (PLACE_BATCH_FRESH). */
void linkcost_link_reset(linkcost_link *l);

/* A question for `pages` input pages from `page` on left at now_ns.  When
 * LINKCOST_ASKS are under way already, the oldest is no longer timed. */
void linkcost_asked(linkcost_link *l, uint64_t page, uint32_t pages,
                    uint64_t now_ns);

/* The answer whose first input page is `page` came at now_ns; an answer
 * to no timed question changes nothing. */
void linkcost_answered(linkcost_link *l, uint64_t page, uint64_t now_ns);

#endif
