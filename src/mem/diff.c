/*
 * diff.c -- byte-exact page diffs as sorted runs.
 *
 * diff_page is on the commit path of every runner, for every page it may
 * have written, so it must cost little more than a memcmp when the page is
 * unchanged or changed in a few places.  It walks the page in two modes:
 *
 *   skipping:  compare 8-byte words while they are equal (one load pair and
 *              a compare per 8 bytes); at a differing word, the first
 *              differing byte is found from the XOR's trailing zero count
 *              (little endian: lower addresses are lower bits);
 *   in a run:  extend over whole words whose 8 bytes all differ (the XOR has
 *              no zero byte), then byte by byte up to the first equal byte.
 *
 * Runs are maximal stretches of changed bytes, so they come out sorted,
 * disjoint and never adjacent (two stretches separated by no unchanged byte
 * are one stretch).  At most every other byte can start a run, hence
 * DIFF_MAX_RUNS = 2048.
 *
 * The other functions are small helpers over run lists: intersection is a
 * merge walk (both lists sorted), touch is a binary search.
 */
#include "mem/diff.h"

#include <assert.h>
#include <string.h>

static const uint8_t diff_zero[DIFF_PAGE];

/* The 8 bytes at p as a little-endian word (any alignment). */
static inline uint64_t diff_load(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* True when some byte of w is zero. */
static inline int diff_has_zero_byte(uint64_t w)
{
    return ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull) != 0;
}

/* Offset of the first byte >= i that differs, or DIFF_PAGE. */
static unsigned diff_skip_equal(const uint8_t *a, const uint8_t *b, unsigned i)
{
    while (i < DIFF_PAGE && (i & 7u)) {
        if (a[i] != b[i])
            return i;
        i++;
    }
    while (i < DIFF_PAGE) {
        uint64_t x = diff_load(a + i) ^ diff_load(b + i);
        if (x)
            return i + (unsigned)__builtin_ctzll(x) / 8u;
        i += 8;
    }
    return DIFF_PAGE;
}

/* Offset of the first byte >= i that is equal, or DIFF_PAGE. */
static unsigned diff_skip_changed(const uint8_t *a, const uint8_t *b,
                                  unsigned i)
{
    while (i < DIFF_PAGE) {
        if (!(i & 7u) &&
            !diff_has_zero_byte(diff_load(a + i) ^ diff_load(b + i))) {
            i += 8;
            continue;
        }
        if (a[i] == b[i])
            return i;
        i++;
    }
    return DIFF_PAGE;
}

size_t diff_page(const uint8_t *old, const uint8_t *new_, mem_run *runs)
{
    assert(new_ && runs);
    if (!old)
        old = diff_zero;
    size_t n = 0;
    unsigned i = 0;
    for (;;) {
        i = diff_skip_equal(old, new_, i);
        if (i >= DIFF_PAGE)
            break;
        unsigned end = diff_skip_changed(old, new_, i + 1);
        assert(n < DIFF_MAX_RUNS);
        runs[n].off = (uint16_t)i;
        runs[n].len = (uint16_t)(end - i);
        n++;
        i = end;
    }
    return n;
}

int diff_runs_intersect(const mem_run *a, size_t na, const mem_run *b,
                        size_t nb)
{
    size_t i = 0, j = 0;
    while (i < na && j < nb) {
        unsigned aend = (unsigned)a[i].off + a[i].len;
        unsigned bend = (unsigned)b[j].off + b[j].len;
        if (aend <= b[j].off)
            i++;
        else if (bend <= a[i].off)
            j++;
        else
            return 1;
    }
    return 0;
}

int diff_runs_touch(const mem_run *r, size_t n, unsigned lo, unsigned hi)
{
    if (lo >= hi)
        return 0;
    /* First run whose end is past lo; the runs are sorted and disjoint,
     * so their ends ascend too. */
    size_t a = 0, b = n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if ((unsigned)r[m].off + r[m].len <= lo)
            a = m + 1;
        else
            b = m;
    }
    return a < n && r[a].off < hi;
}

void diff_apply(uint8_t *dst, const uint8_t *src, const mem_run *r, size_t n)
{
    assert(dst && src);
    for (size_t i = 0; i < n; i++) {
        assert((unsigned)r[i].off + r[i].len <= DIFF_PAGE);
        memcpy(dst + r[i].off, src + r[i].off, r[i].len);
    }
}

int diff_runs_valid(const mem_run *r, size_t n)
{
    if (n > DIFF_MAX_RUNS || (n && !r))
        return 0;
    unsigned prev_end = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned end = (unsigned)r[i].off + r[i].len;
        if (r[i].len == 0 || end > DIFF_PAGE)
            return 0;
        if (i > 0 && r[i].off < prev_end)
            return 0;
        prev_end = end;
    }
    return 1;
}
