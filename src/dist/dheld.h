/*
 * dheld.h -- the deltas the master knows to be held at a home.
 *
 * In a masks-only program (dist/cmsg.h, CMSG_START_MASKS_ONLY) the master
 * receives a result's changed-byte masks, not its pages: the versions are
 * made at the pages' holders from the committing node's deltas, and the
 * master keeps no copy to fall back on.  So it commits such a result only
 * once, for each page it changed, a holder other than the committing
 * node said it keeps the page's delta (DHELD): then the committing node
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

typedef struct dheld {
    dheld_ent *v;               /* cap slots */
    size_t cap, n;
} dheld;

/* An empty set (no allocation until the first add). */
void dheld_init(dheld *h);
void dheld_free(dheld *h);
/* Forgets every name. */
void dheld_clear(dheld *h);
/* Notes (t, page) held.  DVM_ENOMEM (not noted). */
dvm_status dheld_add(dheld *h, const cmsg_tag *t, uint64_t page);
/* 1 when (t, page) was noted. */
int dheld_has(const dheld *h, const cmsg_tag *t, uint64_t page);
/* Forgets (t, page) if noted. */
void dheld_forget(dheld *h, const cmsg_tag *t, uint64_t page);

#endif
