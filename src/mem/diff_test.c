/*
 * diff_test.c -- page diffs against a byte-by-byte model.
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

static void check_against_model(const uint8_t *a, const uint8_t *b)
{
    static mem_run got[DIFF_MAX_RUNS], want[DIFF_MAX_RUNS];
    size_t ng = diff_page(a, b, got);
    size_t nw = model_diff(a, b, want);
    assert_int_equal(ng, nw);
    assert_memory_equal(got, want, ng * sizeof *got);
    assert_true(diff_runs_valid(got, ng));
    uint8_t c[DIFF_PAGE];
    memcpy(c, a, sizeof c);
    diff_apply(c, b, got, ng);
    assert_memory_equal(c, b, sizeof c);
}

static void test_unchanged_and_zero(void **state)
{
    (void)state;
    static uint8_t a[DIFF_PAGE], z[DIFF_PAGE];
    mem_run r[DIFF_MAX_RUNS];
    assert_int_equal(diff_page(a, a, r), 0);
    assert_int_equal(diff_page(NULL, z, r), 0);
    a[4095] = 1;
    assert_int_equal(diff_page(NULL, a, r), 1);
    assert_int_equal(r[0].off, 4095);
    assert_int_equal(r[0].len, 1);
    memset(a, 0xff, sizeof a);
    assert_int_equal(diff_page(z, a, r), 1);
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
    assert_int_equal(diff_page(a, b, r), DIFF_MAX_RUNS);
    check_against_model(a, b);
    memset(b, 0, sizeof b);
    for (unsigned i = 1; i < DIFF_PAGE; i += 2)
        b[i] = 1;
    assert_int_equal(diff_page(a, b, r), DIFF_MAX_RUNS);
}

static void test_adjacent_bytes_one_run(void **state)
{
    (void)state;
    static uint8_t a[DIFF_PAGE], b[DIFF_PAGE];
    b[7] = 1;
    b[8] = 2;                   /* across a word edge */
    mem_run r[DIFF_MAX_RUNS];
    assert_int_equal(diff_page(a, b, r), 1);
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
    return diff_page(a, b, r);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unchanged_and_zero),
        cmocka_unit_test(test_alternating_max_runs),
        cmocka_unit_test(test_adjacent_bytes_one_run),
        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_intersect_and_touch),
        cmocka_unit_test(test_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
