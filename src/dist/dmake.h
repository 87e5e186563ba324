/*
 * dmake.h -- which holders can make each page's newest version.
 *
 * In a masks-only program (dist/cmsg.h, CMSG_START_MASKS_ONLY) a page's
 * new version is made at its holders from its base (the version before
 * it) and the committing node's delta.  A holder that keeps the delta
 * but not the base (it joined the page's holders and is still fetching
 * the base) cannot make it alone: should the committing node die then,
 * and the base's other holders with it, the version would be lost with
 * the master holding no copy.  So the master's gate (dist/mserve.c,
 * delta_held) counts a holder's DHELD only when the holder can reach the
 * base: it acknowledged keeping it (vindex_kept_by), or it was counted
 * for the commit that made the base -- which this set remembers, page by
 * page, for the newest version of each page that a commit through the
 * gate made (by induction such a holder can make every version after
 * the last one it acknowledged).
 *
 * A page's entry names one epoch and up to HOME_COPIES nodes; a newer
 * commit replaces it.  An open-addressed table keyed by page (linear
 * probing, doubled at half full, no deletion: cleared whole when the
 * program ends or the nodes that home pages change, since a node that
 * stopped homing a page was told to drop its versions).
 */
#ifndef DVM_DIST_DMAKE_H
#define DVM_DIST_DMAKE_H

#include <stddef.h>
#include <stdint.h>

#include "dist/home.h"
#include "util/status.h"

typedef struct dmake_ent dmake_ent;

typedef struct dmake {
    dmake_ent *v;               /* cap slots */
    size_t cap, n;
} dmake;

/* An empty set (no allocation until the first note). */
void dmake_init(dmake *m);
void dmake_free(dmake *m);
/* Forgets every page. */
void dmake_clear(dmake *m);
/* Nodes ids[0, n) (n <= HOME_COPIES) can make version (page, epoch),
 * page's newest: what was noted for page goes.  DVM_ENOMEM (then page
 * is forgotten: its holders count once they acknowledge). */
dvm_status dmake_note(dmake *m, uint64_t page, uint64_t epoch,
                      const uint64_t *ids, size_t n);
/* 1 when node id was noted able to make (page, epoch), else 0. */
int dmake_can(const dmake *m, uint64_t page, uint64_t epoch, uint64_t id);

#endif
