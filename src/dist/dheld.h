/*
 * dheld.h -- the deltas the master knows to be held at a home.
 *
 * In a masks-only program (dist/cmsg.h, CMSG_START_MASKS_ONLY) the master
 * receives a result's changed-byte masks, not its pages: the versions are
 * made at the pages' holders from the committing node's deltas, and the
 * master keeps no copy to fall back on.  So it commits such a result only
 * once, for each page it changed, a holder other than the committing
 * node said it keeps the page's delta (DHELD) and is a holder of the
 * page *now* (the holders change when nodes join, leave or resplit: an
 * old holder's word is worth nothing once it no longer homes the page,
 * so each name keeps which nodes said it): then the committing node
 * can die at any moment without the commit's data going with it (the
 * holder makes the version, the other holder pulls it from there).
 *
 * A set of (tag, page) names, an open-addressed hash table with linear
 * probing and backward-shift deletion.  A DHELD may come before the
 * result it names (it travels from another node); names of results that
 * never came (their node died) stay until the program ends (dheld_clear).
 */
#ifndef DVM_DIST_DHELD_H
#define DVM_DIST_DHELD_H

#include <stddef.h>
#include <stdint.h>

#include "dist/cmsg.h"

typedef struct dheld_ent dheld_ent;

/* The nodes kept per name (the last that said it; a page has at most
 * HOME_COPIES holders at once, a few more across holder changes). */
#define DHELD_HOLDERS 4u

typedef struct dheld {
    dheld_ent *v;               /* cap slots */
    size_t cap, n;
} dheld;

/* An empty set (no allocation until the first add). */
void dheld_init(dheld *h);
void dheld_free(dheld *h);
/* Forgets every name. */
void dheld_clear(dheld *h);
/* Notes (t, page) held by node holder.  DVM_ENOMEM (not noted). */
dvm_status dheld_add(dheld *h, const cmsg_tag *t, uint64_t page,
                     uint64_t holder);
/* 1 when (t, page) was noted held by holder (one of the last
 * DHELD_HOLDERS nodes that said so). */
int dheld_has(const dheld *h, const cmsg_tag *t, uint64_t page,
              uint64_t holder);
/* Forgets (t, page) if noted, with all its holders. */
void dheld_forget(dheld *h, const cmsg_tag *t, uint64_t page);

#endif
