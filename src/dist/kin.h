/*
 * kin.h -- which runners a node ran before: placement that keeps a task
 * where its data already is.
 *
 * Many programs run "the same task" again, round after round: k-means'
 * assign runner w reads chunk w of the input and writes chunk w's
 * partial sums, every iteration.  The node that ran it keeps what it
 * fetched for it -- every input page for the whole run (dist/ninput.h),
 * and the page versions in its cache -- so the next round's runner of
 * chunk w is cheapest there.  Elsewhere it fetches them again, which on a
 * slow link costs more than the runner (docs/performance.md, "A slow
 * link").
 *
 * A runner's *identity* is its entry point and the exact first byte of
 * its first heap range (kin_identity): what such a program keeps from
 * one round to the next.  A page or 2 MiB region would not do: k-means'
 * partial sums of several chunks share a page, so a page names a group
 * of chunks.  A runner without a heap range has no identity.
 *
 * A kin_table is one node's memory of the identities of the runners
 * placed on it in this run: a direct-mapped table (KIN_KEYS entries; a
 * collision forgets the older identity, which only loses a hint).  The
 * master keeps one per node and prefers, when it fills an RComp's batch,
 * a ready runner whose identity that node's table holds.
 */
#ifndef DVM_DIST_KIN_H
#define DVM_DIST_KIN_H

#include <stdint.h>

#include "isa/runner.h"

#define KIN_KEYS 1024u          /* a power of two */

typedef struct kin_table {
    uint64_t key[KIN_KEYS];     /* identities; 0: empty */
} kin_table;

/* d's identity: nonzero, the same for every runner of the same entry
 * point and first heap byte; 0 when d has no heap range. */
uint64_t kin_identity(const runner_desc *d);

/* Forgets every identity (a new run). */
void kin_clear(kin_table *t);

/* Remembers identity id (nonzero), forgetting the one it collides with. */
void kin_note(kin_table *t, uint64_t id);

/* 1 if t remembers identity id (nonzero), else 0. */
int kin_has(const kin_table *t, uint64_t id);

#endif
