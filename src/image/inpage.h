/*
 * inpage.h -- the pages of the input windows, made from bound inputs.
 *
 * An input channel's window (DISA.md 8.2) reads as the input's 64-bit
 * length at the channel's address, its bytes from the address + 8, and
 * zeros everywhere else; a declared channel left unbound reads as zeros,
 * that is length 0.  Two places make such pages: an RComp from the
 * files bound to it (rcomp/io.c), and a cluster's master from the inputs
 * a client submitted, for the nodes that ask for them (dist/mserve.c).
 * Both go through inpage_fill, so that a page reads the same on every
 * host.  Where the bytes come from is the caller's: a read function.
 * Pure computation but for that function: no allocation.
 */
#ifndef DVM_IMAGE_INPAGE_H
#define DVM_IMAGE_INPAGE_H

#include <stddef.h>
#include <stdint.h>

#include "isa/isa.h"

/* Reads up to n bytes of the input from offset off into dst; returns the
 * number read (fewer than n: the rest of dst is left as it was, zeros). */
typedef uint64_t (*inpage_read_fn)(void *arg, uint64_t off, uint8_t *dst,
                                      uint64_t n);

/* One bound input: its channel's address and its length in bytes. */
typedef struct inpage_src {
    uint64_t addr, len;
    inpage_read_fn read;
    void *arg;
} inpage_src;

/* Fills buf (DISA_PAGE bytes) with page `page` of the input windows as
 * the inputs src[0, n) make it.  Returns 1 when a byte of the page belongs
 * to one of them (its length word or its bytes), else 0 (buf all zeros). */
int inpage_fill(const inpage_src *src, size_t n, uint64_t page,
                   uint8_t *buf);

/* 1 when page lies in the input windows (DISA_INPUT_BASE up to the system
 * page). */
int inpage_is_input(uint64_t page);

/* ---- the input windows as one file ----------------------------------------
 * A cluster's node keeps the input pages its RComps asked for in one sparse
 * file the size of the input windows (page p at byte offset
 * inpage_index(p) * DISA_PAGE), and one bit a page, set once the page's
 * bytes are written there, in a shared map that its RComps read (dist/
 * ninput.h, rcomp/pages.c).  The node writes the page, then sets its bit
 * with release order; an RComp that sees the bit with acquire order reads
 * the whole page. */

/* Pages of the input windows, and bytes of their presence map. */
#define INPAGE_PAGES ((DISA_SYSPAGE - DISA_INPUT_BASE) / DISA_PAGE)
#define INPAGE_MAP_BYTES (INPAGE_PAGES / 8)

/* The number of input page `page` (inpage_is_input must hold). */
uint64_t inpage_index(uint64_t page);
/* 1 when map says page is present (acquire). */
int inpage_present(const uint64_t *map, uint64_t page);
/* Marks page present in map (release: after its bytes are written). */
void inpage_set_present(uint64_t *map, uint64_t page);

#endif
