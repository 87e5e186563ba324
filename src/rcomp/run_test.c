/*
 * run_test.c -- the PR pages a runner may have written, as the reset is
 * told them (rc_pr_ranges): the code's static ranges, the low pages noted
 * one by one and the byte range beyond, sorted and joined; when too many,
 * the nearest ones joined, never a page lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "isa/isa.h"
#include "rcomp/rcomp_int.h"

#define CAP 8

/* Asserts that v[0..n) equals want[0..nwant), printing both on a mismatch. */
static void expect(const dvm_range *v, size_t n, const dvm_range *want,
                   size_t nwant)
{
    int same = n == nwant;
    for (size_t i = 0; same && i < n; i++)
        same = v[i].lo == want[i].lo && v[i].hi == want[i].hi;
    if (same)
        return;
    for (size_t i = 0; i < n; i++)
        print_error("got [%llu, %llu)\n", (unsigned long long)v[i].lo,
                    (unsigned long long)v[i].hi);
    for (size_t i = 0; i < nwant; i++)
        print_error("want [%llu, %llu)\n", (unsigned long long)want[i].lo,
                    (unsigned long long)want[i].hi);
    fail();
}

/* c0's runner: runtime words on page 2 (static), newr's write of a chosen
 * stack base there too, frames on page 16.  Two ranges, not the fourteen
 * pages one byte range over both would name. */
static void test_two_clusters(void **state)
{
    (void)state;
    dvm_range stat[1] = { { 5, 6 } }, v[CAP];
    size_t n = rc_pr_ranges(stat, 1, 1ull << 2 | 1ull << 16, DISA_RB, 0,
                            v, CAP);
    dvm_range want[3] = { { 2, 3 }, { 5, 6 }, { 16, 17 } };
    expect(v, n, want, 3);
}

/* Runs of bits are one range each; ranges that overlap or touch, whatever
 * their source, become one; bytes name every page they reach. */
static void test_joined(void **state)
{
    (void)state;
    dvm_range stat[2] = { { 7, 9 }, { 40, 41 } }, v[CAP];
    uint64_t bits = 3ull << 3 | 1ull << 9 | 1ull << 63;
    size_t n = rc_pr_ranges(stat, 2, bits, 0x27ff8, 0x29001, v, CAP);
    dvm_range want[4] = { { 3, 5 }, { 7, 10 }, { 39, 42 }, { 63, 64 } };
    expect(v, n, want, 4);
    n = rc_pr_ranges(stat, 2, 1ull << 63, 0x40000, 0x40008, v, CAP);
    dvm_range tail[3] = { { 7, 9 }, { 40, 41 }, { 63, 65 } };
    expect(v, n, tail, 3);
    n = rc_pr_ranges(NULL, 0, 0, DISA_RB, 0, v, CAP);
    assert_int_equal(n, 0);
}

/* More ranges than the reset takes: the least gaps close first, and the
 * result still covers every page named. */
static void test_too_many(void **state)
{
    (void)state;
    uint64_t bits = 0;
    for (int p = 0; p < 40; p += 4)     /* ten single pages, gaps of 3 */
        bits |= 1ull << p;
    bits |= 1ull << 41;                 /* and one 4 pages past the last */
    dvm_range v[CAP];
    size_t n = rc_pr_ranges(NULL, 0, bits, DISA_RB, 0, v, 4);
    assert_int_equal(n, 4);
    for (int p = 0; p < 64; p++) {
        int named = 0;
        for (size_t i = 0; i < n; i++)
            named |= (uint64_t)p >= v[i].lo && (uint64_t)p < v[i].hi;
        if (bits >> p & 1)
            assert_true(named);
    }
    for (size_t i = 0; i + 1 < n; i++)
        assert_true(v[i].hi < v[i + 1].lo);
    assert_int_equal(rc_pr_ranges(NULL, 0, bits, DISA_RB, 0, v, 1), 1);
    assert_int_equal(v[0].lo, 0);
    assert_int_equal(v[0].hi, 42);
}

/* Runs of bits at the word's ends: all 64 pages are one range, and a
 * run that ends at page 63 is not cut short. */
static void test_bit_runs_at_the_ends(void **state)
{
    (void)state;
    dvm_range v[CAP];
    size_t n = rc_pr_ranges(NULL, 0, ~0ull, DISA_RB, 0, v, CAP);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].lo, 0);
    assert_int_equal(v[0].hi, 64);
    n = rc_pr_ranges(NULL, 0, 1ull | ~0ull << 60, DISA_RB, 0, v, CAP);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].lo, 0);
    assert_int_equal(v[0].hi, 1);
    assert_int_equal(v[1].lo, 60);
    assert_int_equal(v[1].hi, 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_clusters),
        cmocka_unit_test(test_joined),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_bit_runs_at_the_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
