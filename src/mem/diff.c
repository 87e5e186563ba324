/*
 * diff.c -- byte-exact page diffs: sorted runs, or a bitmap when dense.
 *
 * diff_page is on the commit path of every runner, for every page it may
 * have written, so it must cost little more than a memcmp when the page is
 * unchanged or changed in a few places.  It walks the page in two modes:
 *
 *   skipping:  compare 64-byte blocks while they are equal (the XORs of
 *              their words ORed, no branch inside: vector code), then
 *              8-byte words; at a differing word, the first differing byte
 *              is found from the XOR's trailing zero count (little endian:
 *              lower addresses are lower bits);
 *   in a run:  extend over whole words whose 8 bytes all differ (the XOR has
 *              no zero byte), then byte by byte up to the first equal byte.
 *
 * Runs are maximal stretches of changed bytes, so they come out sorted,
 * disjoint and never adjacent (two stretches separated by no unchanged byte
 * are one stretch).  At most every other byte can start a run, hence
 * DIFF_MAX_RUNS = 2048.
 *
 * When the walk finds a run more than DIFF_DENSE, the page is dense: it
 * stops and makes the bitmap instead, one word XOR per 8 bytes, whose
 * non-zero bytes are folded to one bit each (diff_word_mask).  A dense page
 * thus costs two passes at most, and its delta is 512 bytes however many
 * runs it has.  Applying a bitmap blends 8 bytes at a time under the byte
 * mask its 8 bits spread to (diff_spread).
 *
 * A page that was zero needs no second pass when it is dense: its change
 * is implied by its new content (diff.h), so diff_zero_page walks it
 * against zeros and stops at the (DIFF_DENSE + 1)-th run, and
 * diff_resolve makes the bitmap only for whoever needs it, with the same
 * word fold against zero.  (A first pass that counted the runs a word at
 * a time made a new stack page with one word written cost ~550 ns; the
 * walk, skipping zero blocks, ~110.)
 *
 * The other functions are small helpers over both forms: intersection of
 * runs is a merge walk (both lists sorted), of bitmaps a word AND, of runs
 * with a bitmap a range test per run; touch is a binary search over runs,
 * a range test over a bitmap.
 */
#include "mem/diff.h"

#include <assert.h>
#include <string.h>

#include "util/bits.h"

/* Bytes compared at once while skipping equal stretches. */
#define DIFF_BLOCK 64u

static const uint8_t diff_zero[DIFF_PAGE];

/* The 8 bytes at p as a little-endian word (any alignment). */
static inline uint64_t diff_load(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

static inline void diff_store(uint8_t *p, uint64_t w)
{
    memcpy(p, &w, sizeof w);
}

/* True when some byte of w is zero. */
static inline int diff_has_zero_byte(uint64_t w)
{
    return ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull) != 0;
}

/* Bit j set when byte j of x is non-zero. */
static inline uint64_t diff_word_mask(uint64_t x)
{
    x |= x >> 4;
    x |= x >> 2;
    x |= x >> 1;
    x &= 0x0101010101010101ull;
    return (x * 0x0102040810204080ull) >> 56;
}

/* Byte j all ones when bit j of the 8-bit m is set. */
static inline uint64_t diff_spread(uint64_t m)
{
    m = (m | m << 28) & 0x0000000F0000000Full;
    m = (m | m << 14) & 0x0003000300030003ull;
    m = (m | m << 7) & 0x0101010101010101ull;
    return m * 0xFF;
}

/* Mask of bits [lo, hi) of one word, 0 <= lo < hi <= 64. */
static inline uint64_t diff_word_range(unsigned lo, unsigned hi)
{
    assert(lo < hi && hi <= 64);
    uint64_t up = hi == 64 ? ~0ull : (1ull << hi) - 1;
    return up & ~((1ull << lo) - 1);
}

/* ---- the walk ------------------------------------------------------------ */

/* Whether the DIFF_BLOCK bytes at a and b are equal: the words' XORs
 * ORed, with no branch inside (the compiler makes it vector code). */
static inline int diff_block_equal(const uint8_t *a, const uint8_t *b)
{
    uint64_t x = 0;
    for (unsigned k = 0; k < DIFF_BLOCK; k += 8)
        x |= diff_load(a + k) ^ diff_load(b + k);
    return x == 0;
}

/* Offset of the first byte >= i that differs, or DIFF_PAGE. */
static unsigned diff_skip_equal(const uint8_t *a, const uint8_t *b, unsigned i)
{
    while (i < DIFF_PAGE && (i & 7u)) {
        if (a[i] != b[i])
            return i;
        i++;
    }
    for (;;) {
        while (i < DIFF_PAGE && (i & (DIFF_BLOCK - 1))) {
            uint64_t x = diff_load(a + i) ^ diff_load(b + i);
            if (x)
                return i + (unsigned)__builtin_ctzll(x) / 8u;
            i += 8;
        }
        while (i < DIFF_PAGE && diff_block_equal(a + i, b + i))
            i += DIFF_BLOCK;
        if (i >= DIFF_PAGE)
            return DIFF_PAGE;
        uint64_t x = diff_load(a + i) ^ diff_load(b + i);
        if (x)
            return i + (unsigned)__builtin_ctzll(x) / 8u;
        i += 8;             /* the block differs further on */
    }
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

/* Writes up to max runs of the page to runs[]; returns how many there are,
 * or max + 1 when there are more. */
static size_t diff_walk(const uint8_t *old, const uint8_t *new_,
                        mem_run *runs, size_t max)
{
    size_t n = 0;
    unsigned i = 0;
    for (;;) {
        i = diff_skip_equal(old, new_, i);
        if (i >= DIFF_PAGE)
            return n;
        if (n == max)
            return max + 1;
        unsigned end = diff_skip_changed(old, new_, i + 1);
        runs[n].off = (uint16_t)i;
        runs[n].len = (uint16_t)(end - i);
        n++;
        i = end;
    }
}

/* The bitmap of the bytes where old and new_ differ. */
static void diff_page_bits(const uint8_t *old, const uint8_t *new_,
                           uint64_t *bits)
{
    for (unsigned w = 0; w < DIFF_WORDS; w++) {
        uint64_t m = 0;
        const uint8_t *a = old + w * 64u, *b = new_ + w * 64u;
        for (unsigned k = 0; k < 8; k++)
            m |= diff_word_mask(diff_load(a + 8 * k) ^ diff_load(b + 8 * k))
                 << (8 * k);
        bits[w] = m;
    }
}

size_t diff_page_runs(const uint8_t *old, const uint8_t *new_, mem_run *runs)
{
    assert(new_ && runs);
    size_t n = diff_walk(old ? old : diff_zero, new_, runs, DIFF_MAX_RUNS);
    assert(n <= DIFF_MAX_RUNS);
    return n;
}

mem_delta diff_page(const uint8_t *old, const uint8_t *new_, mem_run *runs,
                    uint64_t *bits)
{
    assert(new_ && runs && bits);
    if (!old)
        old = diff_zero;
    size_t n = diff_walk(old, new_, runs, DIFF_DENSE);
    if (n <= DIFF_DENSE)
        return diff_of_runs(runs, n);
    diff_page_bits(old, new_, bits);
    return diff_of_bits(bits);
}

mem_delta diff_zero_page(const uint8_t *new_, mem_run *runs)
{
    assert(new_ && runs);
    size_t n = diff_walk(diff_zero, new_, runs, DIFF_DENSE);
    return n > DIFF_DENSE ? diff_implied() : diff_of_runs(runs, n);
}

mem_delta diff_resolve(mem_delta d, const uint8_t *new_, uint64_t *bits)
{
    if (!diff_is_implied(d))
        return d;
    assert(new_ && bits);
    diff_page_bits(diff_zero, new_, bits);
    return diff_of_bits(bits);
}

/* ---- bitmaps ------------------------------------------------------------- */

void diff_bits_set(uint64_t *bits, unsigned lo, unsigned hi)
{
    assert(bits && hi <= DIFF_PAGE);
    while (lo < hi) {
        unsigned w = lo / 64, end = (w + 1) * 64 < hi ? (w + 1) * 64 : hi;
        bits[w] |= diff_word_range(lo % 64, end - w * 64);
        lo = end;
    }
}

int diff_bits_any(const uint64_t *bits, unsigned lo, unsigned hi)
{
    assert(bits && hi <= DIFF_PAGE);
    while (lo < hi) {
        unsigned w = lo / 64, end = (w + 1) * 64 < hi ? (w + 1) * 64 : hi;
        if (bits[w] & diff_word_range(lo % 64, end - w * 64))
            return 1;
        lo = end;
    }
    return 0;
}

void diff_runs_to_bits(const mem_run *r, size_t n, uint64_t *bits)
{
    assert(bits && (r || n == 0));
    memset(bits, 0, DIFF_BITMAP_BYTES);
    for (size_t i = 0; i < n; i++)
        diff_bits_set(bits, r[i].off, (unsigned)r[i].off + r[i].len);
}

/* The bits of word w that start a run (set, with the bit before clear). */
static inline uint64_t diff_starts(const uint64_t *bits, unsigned w)
{
    uint64_t carry = w ? bits[w - 1] >> 63 : 0;
    return bits[w] & ~(bits[w] << 1 | carry);
}

size_t diff_bits_nruns(const uint64_t *bits)
{
    assert(bits);
    size_t n = 0;
    for (unsigned w = 0; w < DIFF_WORDS; w++)
        n += bits_count64(diff_starts(bits, w));
    return n;
}

/* First bit >= i whose value is `set`, or DIFF_PAGE. */
static unsigned diff_bits_next(const uint64_t *bits, unsigned i, int set)
{
    while (i < DIFF_PAGE) {
        uint64_t x = (set ? bits[i / 64] : ~bits[i / 64]) >> (i % 64);
        if (x)
            return i + (unsigned)__builtin_ctzll(x);
        i = (i / 64 + 1) * 64;
    }
    return DIFF_PAGE;
}

size_t diff_bits_to_runs(const uint64_t *bits, mem_run *runs)
{
    assert(bits && runs);
    size_t n = 0;
    unsigned i = diff_bits_next(bits, 0, 1);
    while (i < DIFF_PAGE) {
        unsigned end = diff_bits_next(bits, i, 0);
        runs[n++] = (mem_run){ (uint16_t)i, (uint16_t)(end - i) };
        i = diff_bits_next(bits, end, 1);
    }
    return n;
}

int diff_bits_and(uint64_t *bits, const uint64_t *mask)
{
    assert(bits && mask);
    uint64_t any = 0;
    for (unsigned w = 0; w < DIFF_WORDS; w++)
        any |= bits[w] &= mask[w];
    return any != 0;
}

/* ---- runs ---------------------------------------------------------------- */

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

/* ---- deltas -------------------------------------------------------------- */

/* True when a run of r[0..n) has a bit of bits set. */
static int diff_runs_meet_bits(const mem_run *r, size_t n,
                               const uint64_t *bits)
{
    for (size_t i = 0; i < n; i++)
        if (diff_bits_any(bits, r[i].off, (unsigned)r[i].off + r[i].len))
            return 1;
    return 0;
}

int diff_intersect(mem_delta a, mem_delta b)
{
    assert(!diff_is_implied(a) && !diff_is_implied(b));
    if (!diff_is_bitmap(a) && !diff_is_bitmap(b))
        return diff_runs_intersect(a.runs, a.nruns, b.runs, b.nruns);
    if (!diff_is_bitmap(a))
        return diff_runs_meet_bits(a.runs, a.nruns, b.bits);
    if (!diff_is_bitmap(b))
        return diff_runs_meet_bits(b.runs, b.nruns, a.bits);
    for (unsigned w = 0; w < DIFF_WORDS; w++)
        if (a.bits[w] & b.bits[w])
            return 1;
    return 0;
}

int diff_touch(mem_delta d, unsigned lo, unsigned hi)
{
    assert(hi <= DIFF_PAGE && !diff_is_implied(d));
    if (!diff_is_bitmap(d))
        return diff_runs_touch(d.runs, d.nruns, lo, hi);
    return lo < hi && diff_bits_any(d.bits, lo, hi);
}

/* Copies the bytes of bits from src to dst, 8 at a time. */
static void diff_apply_bits(uint8_t *dst, const uint8_t *src,
                            const uint64_t *bits)
{
    for (unsigned g = 0; g < DIFF_PAGE / 8; g++) {
        uint64_t m = (bits[g / 8] >> (g % 8 * 8)) & 0xFF;
        if (!m)
            continue;
        uint8_t *d = dst + 8 * g;
        uint64_t s = diff_load(src + 8 * g);
        if (m != 0xFF) {
            uint64_t bm = diff_spread(m);
            s = (s & bm) | (diff_load(d) & ~bm);
        }
        diff_store(d, s);
    }
}

void diff_apply(uint8_t *dst, const uint8_t *src, mem_delta d)
{
    assert(dst && !diff_is_implied(d));
    if (!src)
        src = diff_zero;
    if (diff_is_bitmap(d)) {
        diff_apply_bits(dst, src, d.bits);
        return;
    }
    for (size_t i = 0; i < d.nruns; i++) {
        assert((unsigned)d.runs[i].off + d.runs[i].len <= DIFF_PAGE);
        memcpy(dst + d.runs[i].off, src + d.runs[i].off, d.runs[i].len);
    }
}

int diff_valid(mem_delta d)
{
    if (diff_is_implied(d))
        return 1;
    if (!diff_is_bitmap(d))
        return diff_runs_valid(d.runs, d.nruns);
    return d.bits && diff_bits_next(d.bits, 0, 1) < DIFF_PAGE;
}

size_t diff_size(mem_delta d)
{
    if (diff_is_implied(d))
        return 0;
    return diff_is_bitmap(d) ? DIFF_BITMAP_BYTES : d.nruns * sizeof(mem_run);
}

int diff_bounds(mem_delta d, unsigned *lo, unsigned *hi)
{
    assert(lo && hi && !diff_is_implied(d));
    if (!diff_is_bitmap(d)) {
        if (d.nruns == 0)
            return 0;
        *lo = d.runs[0].off;
        *hi = (unsigned)d.runs[d.nruns - 1].off + d.runs[d.nruns - 1].len;
        return 1;
    }
    unsigned first = diff_bits_next(d.bits, 0, 1), w = DIFF_WORDS;
    if (first >= DIFF_PAGE)
        return 0;
    while (!d.bits[w - 1])
        w--;
    *lo = first;
    *hi = (w - 1) * 64 + 64 - (unsigned)__builtin_clzll(d.bits[w - 1]);
    return 1;
}
