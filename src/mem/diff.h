/*
 * diff.h -- byte-exact page diffs: runs when sparse, a bitmap when dense.
 *
 * A commit describes what a runner changed in a page as a mem_delta, the
 * exact set of changed bytes in one of two forms:
 *
 *   runs     sorted, disjoint, non-adjacent runs of bytes [off, off+len);
 *            the form of a page changed in a few places (DIFF_DENSE runs
 *            or fewer: 4 bytes a run);
 *   bitmap   DIFF_WORDS 64-bit words, bit i % 64 of word i / 64 set when
 *            byte i changed (512 bytes whatever the page holds); the form
 *            of a page changed in many places, such as an array of 64-bit
 *            words whose high bytes stay zero (one run every 8 bytes).
 *
 * Both forms are exact: a bitmap is never widened over unchanged bytes, so
 * conflicts (intersections), watcher matches (touch) and applying a commit
 * mean the same whichever form a side uses.  Every operation accepts every
 * combination of forms.
 *
 * A third form says nothing itself: implied, for a page that was the zero
 * page before the change.  Its changed bytes are then exactly the nonzero
 * bytes of the new content (a byte written with zero over zero did not
 * change), so a dense change of a zero page travels without its bitmap and
 * whoever needs the bytes derives them from the new content
 * (diff_resolve).  The operations below other than diff_valid and
 * diff_size take resolved deltas only.
 */
#ifndef DVM_DIFF_H
#define DVM_DIFF_H

#include <stddef.h>
#include <stdint.h>

#define DIFF_PAGE 4096u
#define DIFF_MAX_RUNS 2048u     /* at most every other byte */
#define DIFF_WORDS 64u          /* words of a bitmap: DIFF_PAGE bits */
#define DIFF_BITMAP_BYTES (DIFF_WORDS * 8u)
#define DIFF_DENSE 32u          /* a diff with more runs is a bitmap */
#define DIFF_BITMAP UINT32_MAX  /* mem_delta.nruns of a bitmap */
#define DIFF_IMPLIED (UINT32_MAX - 1)   /* mem_delta.nruns of an implied
                                           change: no storage */

typedef struct mem_run {
    uint16_t off;               /* 0..4095 */
    uint16_t len;               /* 1..4096, off + len <= 4096 */
} mem_run;

/* The changed bytes of a page; borrows its storage. */
typedef struct mem_delta {
    uint32_t nruns;             /* runs[0..nruns), or DIFF_BITMAP: bits,
                                   or DIFF_IMPLIED: neither */
    union {
        const mem_run *runs;
        const uint64_t *bits;   /* DIFF_WORDS words */
    };
} mem_delta;

static inline int diff_is_bitmap(mem_delta d)
{
    return d.nruns == DIFF_BITMAP;
}

static inline int diff_is_implied(mem_delta d)
{
    return d.nruns == DIFF_IMPLIED;
}

static inline mem_delta diff_implied(void)
{
    return (mem_delta){ .nruns = DIFF_IMPLIED, .runs = NULL };
}

static inline mem_delta diff_of_runs(const mem_run *r, size_t n)
{
    return (mem_delta){ .nruns = (uint32_t)n, .runs = r };
}

static inline mem_delta diff_of_bits(const uint64_t *bits)
{
    return (mem_delta){ .nruns = DIFF_BITMAP, .bits = bits };
}

/* ---- deltas ---------------------------------------------------------- */

/* Compares new against old (old NULL: the zero page).  With DIFF_DENSE
 * runs or fewer the result is runs in runs[] (room for DIFF_DENSE), else
 * a bitmap in bits[] (room for DIFF_WORDS).  nruns == 0: unchanged. */
mem_delta diff_page(const uint8_t *old, const uint8_t *new_, mem_run *runs,
                    uint64_t *bits);
/* Compares new_ with the zero page: as diff_page(NULL, new_, runs, ...)
 * when that makes runs, else the implied delta, without computing a
 * bitmap. */
mem_delta diff_zero_page(const uint8_t *new_, mem_run *runs);
/* d itself, or when d is implied the bitmap of the nonzero bytes of
 * new_ (the page's content after the change) in bits[] (room for
 * DIFF_WORDS; the bitmap may be empty). */
mem_delta diff_resolve(mem_delta d, const uint8_t *new_, uint64_t *bits);
/* True when a and b have a changed byte in common. */
int diff_intersect(mem_delta a, mem_delta b);
/* True when d has a changed byte in [lo, hi) (hi <= DIFF_PAGE). */
int diff_touch(mem_delta d, unsigned lo, unsigned hi);
/* Copies the changed bytes of d from src (NULL: zeros) to dst. */
void diff_apply(uint8_t *dst, const uint8_t *src, mem_delta d);
/* True when d is well formed and non-empty: valid runs, or a bitmap with
 * a bit set; an implied delta is well formed (its content decides). */
int diff_valid(mem_delta d);
/* Bytes of d's storage (runs or bitmap; none when implied). */
size_t diff_size(mem_delta d);
/* The smallest [*lo, *hi) holding every changed byte; 0 (and nothing
 * written) when d is empty. */
int diff_bounds(mem_delta d, unsigned *lo, unsigned *hi);

/* ---- runs ------------------------------------------------------------ */

/* Every run of changed bytes, into runs[] (room for DIFF_MAX_RUNS).
 * Returns the count. */
size_t diff_page_runs(const uint8_t *old, const uint8_t *new_, mem_run *runs);
/* True when any run of a intersects any run of b. */
int diff_runs_intersect(const mem_run *a, size_t na, const mem_run *b,
                        size_t nb);
/* True when any run intersects the byte interval [lo, hi) of the page. */
int diff_runs_touch(const mem_run *r, size_t n, unsigned lo, unsigned hi);
/* True when runs are sorted, disjoint, within a page and non-empty. */
int diff_runs_valid(const mem_run *r, size_t n);

/* ---- bitmaps --------------------------------------------------------- */

/* Sets the bits of [lo, hi) (hi <= DIFF_PAGE). */
void diff_bits_set(uint64_t *bits, unsigned lo, unsigned hi);
/* True when a bit of [lo, hi) is set. */
int diff_bits_any(const uint64_t *bits, unsigned lo, unsigned hi);
/* The bitmap of runs r[0..n) into bits[] (cleared first). */
void diff_runs_to_bits(const mem_run *r, size_t n, uint64_t *bits);
/* Number of maximal runs of set bits. */
size_t diff_bits_nruns(const uint64_t *bits);
/* The maximal runs of set bits, into runs[] (room for diff_bits_nruns).
 * Returns the count. */
size_t diff_bits_to_runs(const uint64_t *bits, mem_run *runs);
/* bits &= mask; returns 1 when a bit remains. */
int diff_bits_and(uint64_t *bits, const uint64_t *mask);

#endif
