/*
 * diff_test.c -- page diffs against a byte-by-byte model: runs, bitmaps,
 * the choice between them (DIFF_DENSE), and every operation over every
 * combination of forms compared with a byte array; the implied form of a
 * page that was zero against the same model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mem/diff.h"

/* The model: maximal runs of differing bytes, found one byte at a time. */
static size_t model_diff(const uint8_t *a, const uint8_t *b, mem_run *runs)
{
    size_t n = 0;
    for (unsigned i = 0; i < DIFF_PAGE;) {
        if (a[i] == b[i]) {
            i++;
            continue;
        }
        unsigned j = i;
        while (j < DIFF_PAGE && a[j] != b[j])
            j++;
        runs[n].off = (uint16_t)i;
        runs[n].len = (uint16_t)(j - i);
        n++;
        i = j;
    }
    return n;
}

/* The model of a byte set: one byte per page byte, 1 when in the set. */
static void model_bytes(mem_delta d, uint8_t *m)
{
    memset(m, 0, DIFF_PAGE);
    if (!diff_is_bitmap(d)) {
        for (size_t i = 0; i < d.nruns; i++)
            memset(m + d.runs[i].off, 1, d.runs[i].len);
        return;
    }
    for (unsigned i = 0; i < DIFF_PAGE; i++)
        m[i] = (uint8_t)(d.bits[i / 64] >> (i % 64) & 1);
}

/* diff_page's delta: the model's runs when DIFF_DENSE or fewer, else the
 * bitmap of exactly the same bytes; applying it yields b. */
static void check_delta_against_model(const uint8_t *a, const uint8_t *b,
                                      const mem_run *want, size_t nw)
{
    static mem_run runs[DIFF_DENSE], back[DIFF_MAX_RUNS];
    static uint64_t bits[DIFF_WORDS];
    mem_delta d = diff_page(a, b, runs, bits);
    assert_int_equal(diff_is_bitmap(d), nw > DIFF_DENSE);
    if (!diff_is_bitmap(d)) {
        assert_int_equal(d.nruns, nw);
        assert_memory_equal(d.runs, want, nw * sizeof *want);
    } else {
        assert_true(diff_valid(d));
        assert_int_equal(diff_bits_nruns(bits), nw);
        assert_int_equal(diff_bits_to_runs(bits, back), nw);
        assert_memory_equal(back, want, nw * sizeof *want);
    }
    static uint8_t c[DIFF_PAGE];
    memcpy(c, a, sizeof c);
    diff_apply(c, b, d);
    assert_memory_equal(c, b, sizeof c);
}

static void check_against_model(const uint8_t *a, const uint8_t *b)
{
    static mem_run got[DIFF_MAX_RUNS], want[DIFF_MAX_RUNS];
    size_t ng = diff_page_runs(a, b, got);
    size_t nw = model_diff(a, b, want);
    assert_int_equal(ng, nw);
    assert_memory_equal(got, want, ng * sizeof *got);
    assert_true(diff_runs_valid(got, ng));
    uint8_t c[DIFF_PAGE];
    memcpy(c, a, sizeof c);
    diff_apply(c, b, diff_of_runs(got, ng));
    assert_memory_equal(c, b, sizeof c);
    check_delta_against_model(a, b, want, nw);
}

static void test_unchanged_and_zero(void **state)
{
    (void)state;
    static uint8_t a[DIFF_PAGE], z[DIFF_PAGE];
    mem_run r[DIFF_MAX_RUNS];
    assert_int_equal(diff_page_runs(a, a, r), 0);
    assert_int_equal(diff_page_runs(NULL, z, r), 0);
    a[4095] = 1;
    assert_int_equal(diff_page_runs(NULL, a, r), 1);
    assert_int_equal(r[0].off, 4095);
    assert_int_equal(r[0].len, 1);
    memset(a, 0xff, sizeof a);
    assert_int_equal(diff_page_runs(z, a, r), 1);
    assert_int_equal(r[0].off, 0);
    assert_int_equal(r[0].len, 4096);
}

static void test_alternating_max_runs(void **state)
{
    (void)state;
    static uint8_t a[DIFF_PAGE], b[DIFF_PAGE];
    for (unsigned i = 0; i < DIFF_PAGE; i += 2)
        b[i] = 1;
    mem_run r[DIFF_MAX_RUNS];
    assert_int_equal(diff_page_runs(a, b, r), DIFF_MAX_RUNS);
    check_against_model(a, b);
    memset(b, 0, sizeof b);
    for (unsigned i = 1; i < DIFF_PAGE; i += 2)
        b[i] = 1;
    assert_int_equal(diff_page_runs(a, b, r), DIFF_MAX_RUNS);
}

static void test_adjacent_bytes_one_run(void **state)
{
    (void)state;
    static uint8_t a[DIFF_PAGE], b[DIFF_PAGE];
    b[7] = 1;
    b[8] = 2;                   /* across a word edge */
    mem_run r[DIFF_MAX_RUNS];
    assert_int_equal(diff_page_runs(a, b, r), 1);
    assert_int_equal(r[0].off, 7);
    assert_int_equal(r[0].len, 2);
}

static void test_random_against_model(void **state)
{
    (void)state;
    static uint8_t a[DIFF_PAGE], b[DIFF_PAGE];
    srand(1234);
    for (int iter = 0; iter < 3000; iter++) {
        for (unsigned i = 0; i < DIFF_PAGE; i++)
            a[i] = (uint8_t)(rand() & 3);
        memcpy(b, a, sizeof b);
        int mode = iter % 4;
        int nchg = mode == 0 ? rand() % 4 : mode == 1 ? rand() % 64
                 : mode == 2 ? rand() % 4096 : 0;
        for (int k = 0; k < nchg; k++)
            b[rand() % DIFF_PAGE] ^= (uint8_t)(1 + rand() % 255);
        if (mode == 3) {        /* a few long stretches */
            for (int k = rand() % 5; k > 0; k--) {
                unsigned off = (unsigned)rand() % DIFF_PAGE;
                unsigned len = (unsigned)rand() % (DIFF_PAGE - off) + 1;
                for (unsigned i = off; i < off + len; i++)
                    b[i] = (uint8_t)(a[i] + 1 + rand() % 3);
            }
        }
        check_against_model(a, b);
    }
}

/* Model of intersection: a byte bitmap. */
static int model_intersect(const mem_run *a, size_t na, const mem_run *b,
                           size_t nb)
{
    uint8_t m[DIFF_PAGE] = {0};
    for (size_t i = 0; i < na; i++)
        memset(m + a[i].off, 1, a[i].len);
    for (size_t i = 0; i < nb; i++)
        for (unsigned k = b[i].off; k < (unsigned)b[i].off + b[i].len; k++)
            if (m[k])
                return 1;
    return 0;
}

static size_t random_runs(mem_run *r, unsigned density)
{
    static uint8_t a[DIFF_PAGE], b[DIFF_PAGE];
    memset(b, 0, sizeof b);
    for (unsigned i = 0; i < density; i++)
        b[rand() % DIFF_PAGE] = 1;
    return diff_page_runs(a, b, r);
}

static void test_intersect_and_touch(void **state)
{
    (void)state;
    mem_run a[DIFF_MAX_RUNS], b[DIFF_MAX_RUNS];
    /* Adjacent bytes do not intersect; a shared byte does. */
    a[0] = (mem_run){10, 5};
    b[0] = (mem_run){15, 3};
    assert_false(diff_runs_intersect(a, 1, b, 1));
    b[0] = (mem_run){14, 3};
    assert_true(diff_runs_intersect(a, 1, b, 1));
    assert_false(diff_runs_touch(a, 1, 0, 10));
    assert_true(diff_runs_touch(a, 1, 0, 11));
    assert_true(diff_runs_touch(a, 1, 14, 100));
    assert_false(diff_runs_touch(a, 1, 15, 100));
    assert_false(diff_runs_touch(a, 1, 12, 12));
    srand(99);
    for (int iter = 0; iter < 2000; iter++) {
        size_t na = random_runs(a, (unsigned)rand() % 64);
        size_t nb = random_runs(b, (unsigned)rand() % 64);
        assert_int_equal(diff_runs_intersect(a, na, b, nb),
                         model_intersect(a, na, b, nb));
        unsigned lo = (unsigned)rand() % DIFF_PAGE;
        unsigned hi = lo + (unsigned)rand() % (DIFF_PAGE - lo + 1);
        mem_run t = {(uint16_t)lo, (uint16_t)(hi - lo)};
        assert_int_equal(diff_runs_touch(a, na, lo, hi),
                         hi > lo && model_intersect(a, na, &t, 1));
    }
}

static void test_valid(void **state)
{
    (void)state;
    mem_run r[3] = {{0, 4}, {4, 2}, {10, 4086}};
    assert_true(diff_runs_valid(r, 3));
    assert_true(diff_runs_valid(NULL, 0));
    r[1].off = 3;               /* overlaps */
    assert_false(diff_runs_valid(r, 3));
    r[1] = (mem_run){5, 0};     /* empty */
    assert_false(diff_runs_valid(r, 3));
    r[1] = (mem_run){5, 1};
    r[2] = (mem_run){10, 4087}; /* past the page */
    assert_false(diff_runs_valid(r, 3));
    r[2] = (mem_run){2, 1};     /* unsorted */
    assert_false(diff_runs_valid(r, 3));
}

/* Dense: a page of 64-bit words whose high bytes stay zero. */
static void test_dense_words_are_a_bitmap(void **state)
{
    (void)state;
    static uint8_t a[DIFF_PAGE], b[DIFF_PAGE];
    for (unsigned i = 0; i < DIFF_PAGE; i += 8)
        b[i] = (uint8_t)(i / 8 % 255 + 1);
    mem_run runs[DIFF_DENSE];
    uint64_t bits[DIFF_WORDS];
    mem_delta d = diff_page(a, b, runs, bits);
    assert_true(diff_is_bitmap(d));
    assert_int_equal(diff_size(d), DIFF_BITMAP_BYTES);
    for (unsigned w = 0; w < DIFF_WORDS; w++)
        assert_int_equal(bits[w], 0x0101010101010101ull);
    assert_int_equal(diff_bits_nruns(bits), 512);
    unsigned lo, hi;
    assert_true(diff_bounds(d, &lo, &hi));
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 4089);
    check_against_model(a, b);
}

/* DIFF_DENSE runs stay runs; one more makes a bitmap. */
static void test_dense_threshold(void **state)
{
    (void)state;
    static uint8_t a[DIFF_PAGE], b[DIFF_PAGE];
    mem_run runs[DIFF_DENSE];
    uint64_t bits[DIFF_WORDS];
    for (unsigned k = 0; k < DIFF_DENSE; k++)
        b[k * 100 + 3] = 1;
    mem_delta d = diff_page(a, b, runs, bits);
    assert_false(diff_is_bitmap(d));
    assert_int_equal(d.nruns, DIFF_DENSE);
    assert_int_equal(diff_size(d), DIFF_DENSE * sizeof(mem_run));
    b[4095] = 1;
    d = diff_page(a, b, runs, bits);
    assert_true(diff_is_bitmap(d));
    check_against_model(a, b);
    assert_int_equal(diff_page(b, b, runs, bits).nruns, 0);
}

/* A bitmap and runs conflict exactly on shared bytes: adjacent bytes do
 * not, in either order, nor do two bitmaps with adjacent bytes. */
static void test_bitmap_intersect_adjacent(void **state)
{
    (void)state;
    uint64_t x[DIFF_WORDS] = { 0 }, y[DIFF_WORDS] = { 0 };
    for (unsigned i = 0; i < DIFF_PAGE; i += 8)
        diff_bits_set(x, i, i + 1);                 /* bytes 0, 8, 16, ... */
    mem_delta bx = diff_of_bits(x);
    mem_run r = { 1, 7 };                           /* bytes 1..7 */
    assert_false(diff_intersect(bx, diff_of_runs(&r, 1)));
    assert_false(diff_intersect(diff_of_runs(&r, 1), bx));
    r = (mem_run){ 63, 1 };                         /* across a word edge */
    assert_false(diff_intersect(bx, diff_of_runs(&r, 1)));
    r = (mem_run){ 63, 2 };                         /* byte 64 */
    assert_true(diff_intersect(bx, diff_of_runs(&r, 1)));
    assert_true(diff_intersect(diff_of_runs(&r, 1), bx));
    for (unsigned i = 1; i < DIFF_PAGE; i += 8)
        diff_bits_set(y, i, i + 1);                 /* bytes 1, 9, ... */
    assert_false(diff_intersect(bx, diff_of_bits(y)));
    diff_bits_set(y, 4088, 4089);
    assert_true(diff_intersect(bx, diff_of_bits(y)));
    assert_true(diff_intersect(diff_of_bits(y), bx));
    assert_false(diff_touch(bx, 1, 8));
    assert_true(diff_touch(bx, 1, 9));
    assert_true(diff_touch(bx, 4088, 4096));
    assert_false(diff_touch(bx, 4089, 4096));
    assert_false(diff_touch(bx, 8, 8));
}

static void test_bits_helpers(void **state)
{
    (void)state;
    uint64_t x[DIFF_WORDS] = { 0 }, m[DIFF_WORDS] = { 0 };
    assert_false(diff_valid(diff_of_bits(x)));      /* empty */
    assert_false(diff_valid(diff_of_bits(NULL)));
    unsigned lo, hi;
    assert_false(diff_bounds(diff_of_bits(x), &lo, &hi));
    assert_false(diff_bounds(diff_of_runs(NULL, 0), &lo, &hi));
    diff_bits_set(x, 60, 200);
    diff_bits_set(x, 4095, 4096);
    assert_true(diff_valid(diff_of_bits(x)));
    assert_int_equal(diff_bits_nruns(x), 2);
    mem_run r[2];
    assert_int_equal(diff_bits_to_runs(x, r), 2);
    assert_int_equal(r[0].off, 60);
    assert_int_equal(r[0].len, 140);
    assert_int_equal(r[1].off, 4095);
    assert_int_equal(r[1].len, 1);
    assert_true(diff_bounds(diff_of_bits(x), &lo, &hi));
    assert_int_equal(lo, 60);
    assert_int_equal(hi, 4096);
    assert_true(diff_bits_any(x, 199, 300));
    assert_false(diff_bits_any(x, 200, 4095));
    diff_bits_set(m, 128, 129);
    assert_true(diff_bits_and(x, m));
    assert_int_equal(diff_bits_nruns(x), 1);
    memset(m, 0, sizeof m);
    assert_false(diff_bits_and(x, m));
    uint64_t y[DIFF_WORDS];
    diff_runs_to_bits(r, 2, y);
    assert_int_equal(diff_bits_nruns(y), 2);
    assert_true(diff_bits_any(y, 4095, 4096));
}

/* Applying a bitmap copies exactly its bytes; NULL source is zeros. */
static void test_bitmap_apply(void **state)
{
    (void)state;
    static uint8_t dst[DIFF_PAGE], src[DIFF_PAGE], want[DIFF_PAGE];
    uint64_t x[DIFF_WORDS];
    srand(7);
    for (int iter = 0; iter < 200; iter++) {
        for (unsigned i = 0; i < DIFF_PAGE; i++) {
            dst[i] = (uint8_t)rand();
            src[i] = (uint8_t)rand();
        }
        for (unsigned w = 0; w < DIFF_WORDS; w++)
            x[w] = (uint64_t)rand() << 40 ^ (uint64_t)rand() << 20 ^
                   (uint64_t)rand();
        int zero = iter % 2;
        for (unsigned i = 0; i < DIFF_PAGE; i++)
            want[i] = x[i / 64] >> (i % 64) & 1 ? (zero ? 0 : src[i])
                                                 : dst[i];
        diff_apply(dst, zero ? NULL : src, diff_of_bits(x));
        assert_memory_equal(dst, want, sizeof want);
    }
}

/* A random delta: runs (sparse) or a bitmap (dense) of random bytes; its
 * model in m. */
static mem_delta random_delta(mem_run *runs, uint64_t *bits, uint8_t *m)
{
    static uint8_t a[DIFF_PAGE], b[DIFF_PAGE];
    memset(b, 0, sizeof b);
    int dense = rand() % 2;
    unsigned n = dense ? 40 + (unsigned)rand() % 2000
                       : (unsigned)rand() % 40;
    for (unsigned i = 0; i < n; i++)
        b[rand() % DIFF_PAGE] = 1;
    if (rand() % 4 == 0) {
        unsigned off = (unsigned)rand() % DIFF_PAGE;
        memset(b + off, 1, (unsigned)rand() % (DIFF_PAGE - off) + 1);
    }
    mem_delta d = diff_page(a, b, runs, bits);
    model_bytes(d, m);
    assert_memory_equal(m, b, DIFF_PAGE);
    return d;
}

/* Every operation over every combination of forms, against the model,
 * and the same answer from the run form of each bitmap. */
static void test_random_forms_against_model(void **state)
{
    (void)state;
    static mem_run ra[DIFF_DENSE], rb[DIFF_DENSE];
    static mem_run xa[DIFF_MAX_RUNS], xb[DIFF_MAX_RUNS];
    static uint64_t ba[DIFF_WORDS], bb[DIFF_WORDS];
    static uint8_t ma[DIFF_PAGE], mb[DIFF_PAGE];
    srand(4321);
    for (int iter = 0; iter < 3000; iter++) {
        mem_delta a = random_delta(ra, ba, ma);
        mem_delta b = random_delta(rb, bb, mb);
        int want = 0;
        for (unsigned i = 0; i < DIFF_PAGE; i++)
            want |= ma[i] & mb[i];
        assert_int_equal(diff_intersect(a, b), want);
        assert_int_equal(diff_intersect(b, a), want);
        mem_delta a2 = diff_is_bitmap(a) ?
            diff_of_runs(xa, diff_bits_to_runs(a.bits, xa)) : a;
        mem_delta b2 = diff_is_bitmap(b) ?
            diff_of_runs(xb, diff_bits_to_runs(b.bits, xb)) : b;
        assert_int_equal(diff_intersect(a2, b2), want);
        assert_int_equal(diff_intersect(a2, b), want);
        unsigned lo = (unsigned)rand() % DIFF_PAGE;
        unsigned hi = lo + (unsigned)rand() % (rand() % 2 ? 16 : DIFF_PAGE -
                                                lo + 1);
        hi = hi > DIFF_PAGE ? DIFF_PAGE : hi;
        int touch = 0;
        for (unsigned i = lo; i < hi; i++)
            touch |= ma[i];
        assert_int_equal(diff_touch(a, lo, hi), touch);
        assert_int_equal(diff_touch(a2, lo, hi), touch);
    }
}

/* diff_zero_page of b: diff_page(NULL, b)'s runs when sparse, else
 * implied, and resolved the bitmap of exactly the model's bytes: b's
 * nonzero bytes. */
static void check_zero_page(const uint8_t *b)
{
    static const uint8_t zero[DIFF_PAGE];
    static mem_run runs[DIFF_DENSE], want[DIFF_MAX_RUNS], back[DIFF_MAX_RUNS];
    static uint64_t bits[DIFF_WORDS];
    size_t nw = model_diff(zero, b, want);
    mem_delta d = diff_zero_page(b, runs);
    assert_int_equal(diff_is_implied(d), nw > DIFF_DENSE);
    assert_true(diff_valid(d) || nw == 0);
    if (!diff_is_implied(d)) {
        assert_int_equal(d.nruns, nw);
        assert_memory_equal(d.runs, want, nw * sizeof *want);
        assert_ptr_equal(diff_resolve(d, b, bits).runs, d.runs);
        return;
    }
    assert_int_equal(diff_size(d), 0);
    mem_delta r = diff_resolve(d, b, bits);
    assert_true(diff_is_bitmap(r));
    assert_int_equal(diff_bits_to_runs(r.bits, back), nw);
    assert_memory_equal(back, want, nw * sizeof *want);
    uint8_t c[DIFF_PAGE] = {0};
    diff_apply(c, b, r);
    assert_memory_equal(c, b, sizeof c);
}

/* The walk skips equal stretches a block of 64 bytes at a time: one or
 * two changed bytes at every offset of the first blocks and around each
 * block boundary, against a random page and against zeros (the zero
 * page's form too). */
static void test_changes_around_blocks(void **state)
{
    (void)state;
    static uint8_t a[DIFF_PAGE], b[DIFF_PAGE], z[DIFF_PAGE], zero[DIFF_PAGE];
    srand(7);
    for (unsigned i = 0; i < DIFF_PAGE; i++)
        a[i] = (uint8_t)(rand() | 1);
    for (unsigned i = 0; i < DIFF_PAGE; i++) {
        if (i >= 200 && (i + 2) % 64 > 4 && i < DIFF_PAGE - 8)
            continue;               /* the middles of later blocks */
        unsigned j = (i * 37 + 65) % DIFF_PAGE;
        memcpy(b, a, sizeof b);
        b[i] ^= 0x40;
        check_against_model(a, b);
        b[j] ^= 0x20;
        check_against_model(a, b);
        memset(z, 0, sizeof z);
        z[i] = 1;
        check_against_model(zero, z);
        check_zero_page(z);
        z[j] = 2;
        check_zero_page(z);
    }
}

/* The implied form: dense pages that were zero, at the threshold, a full
 * page, and random pages of every density. */
static void test_zero_page_implied(void **state)
{
    (void)state;
    static uint8_t b[DIFF_PAGE];
    memset(b, 0, sizeof b);
    check_zero_page(b);                         /* unchanged: no runs */
    for (unsigned n = DIFF_DENSE - 1; n <= DIFF_DENSE + 2; n++) {
        memset(b, 0, sizeof b);
        for (unsigned k = 0; k < n; k++)
            b[k * 8] = (uint8_t)(k + 1);        /* n runs */
        check_zero_page(b);
    }
    for (unsigned i = 0; i < DIFF_PAGE; i += 8)  /* mem's words: i/8 + 1 */
        memcpy(b + i, &(uint64_t){ i / 8 + 1 }, 8);
    check_zero_page(b);
    memset(b, 0xff, sizeof b);                  /* one run: the page */
    check_zero_page(b);
    unsigned seed = 7;
    for (int t = 0; t < 300; t++) {
        unsigned every = 1 + (unsigned)rand_r(&seed) % 64;
        memset(b, 0, sizeof b);
        for (unsigned i = 0; i < DIFF_PAGE; i++)
            if ((unsigned)rand_r(&seed) % every == 0)
                b[i] = (uint8_t)rand_r(&seed);
        check_zero_page(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unchanged_and_zero),
        cmocka_unit_test(test_alternating_max_runs),
        cmocka_unit_test(test_adjacent_bytes_one_run),
        cmocka_unit_test(test_changes_around_blocks),
        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_intersect_and_touch),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_dense_words_are_a_bitmap),
        cmocka_unit_test(test_dense_threshold),
        cmocka_unit_test(test_bitmap_intersect_adjacent),
        cmocka_unit_test(test_bits_helpers),
        cmocka_unit_test(test_bitmap_apply),
        cmocka_unit_test(test_random_forms_against_model),
        cmocka_unit_test(test_zero_page_implied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
