/*
 * place_test.c -- the arithmetic of batches: an RComp's time per runner
 * counted from one runner's end to the next while it is busy (and from
 * the start when it began idle), the depth that covers two round trips,
 * shares in proportion to speed (the last runners of a run finish
 * together on RComps of unequal speed), and the order of refills.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "sched/place.h"

/* The first runner's run (plus one, so that 0 stays "none"); while busy
 * the gap from the last end counts (the reset and fetches between
 * runners); after idle the run alone again. */
static void test_note(void **state)
{
    (void)state;
    place_rcomp r = { 0 };
    place_note(&r, 1000, 9000, 1);
    assert_int_equal(r.cost_ns, 8001);
    assert_int_equal(r.last_end_ns, 9000);
    /* Busy: ran 11,000..19,000, counted from 9,000: 10,000. */
    place_note(&r, 11000, 19000, 0);
    assert_int_equal(r.cost_ns, 8001 - 8001 / 8 + 10000 / 8);
    assert_int_equal(r.last_end_ns, 0);
    /* It was idle before: the run alone (8,000), not the idle gap. */
    uint64_t c = r.cost_ns;
    place_note(&r, 500000, 508000, 0);
    assert_int_equal(r.cost_ns, c - c / 8 + 8000 / 8);
}

/* A clock that went back (another host's, or a bogus result) counts no
 * time, and never makes the cost 0. */
static void test_note_clock_back(void **state)
{
    (void)state;
    place_rcomp r = { 0 };
    place_note(&r, 5000, 4000, 1);
    assert_int_equal(r.cost_ns, 1);
    place_note(&r, 3000, 2000, 1);
    assert_true(r.cost_ns >= 1);
}

/* Converges to the rate the RComp really finishes runners at: 100
 * runners of 6 µs each with 4 µs between them, busy throughout. */
static void test_note_converges(void **state)
{
    (void)state;
    place_rcomp r = { 0 };
    uint64_t t = 0;
    for (int i = 0; i < 100; i++) {
        place_note(&r, t + 4000, t + 10000, 1);
        t += 10000;
    }
    assert_in_range(r.cost_ns, 9900, 10100);
}

static void test_cap(void **state)
{
    (void)state;
    assert_int_equal(place_cap(0, 0, 64), PLACE_BATCH_MIN);    /* unknown */
    assert_int_equal(place_cap(0, 500000, 64), PLACE_BATCH_MIN);
    assert_int_equal(place_cap(1000, 0, 64), 64);              /* the most */
    assert_int_equal(place_cap(5000, 0, 64), 40);
    assert_int_equal(place_cap(20000, 0, 64), PLACE_BATCH_MIN);
    /* Two round trips of 100 µs more: 400 µs of 10 µs runners. */
    assert_int_equal(place_cap(10000, 0, 64), 20);
    assert_int_equal(place_cap(10000, 100000, 64), 40);
    assert_int_equal(place_cap(10000, 400000, 64), 64);
    assert_int_equal(place_cap(10000, 400000, 1000), 100);
}

static void test_cost(void **state)
{
    (void)state;
    place_rcomp r = { 0 };
    assert_int_equal(place_cost(&r, 7), 7);
    assert_int_equal(place_cost(&r, 0), 0);
    r.cost_ns = 3;
    assert_int_equal(place_cost(&r, 7), 3);
}

/* Two RComps, one twice as slow (20 µs a runner against 10): of the last
 * 30 runners the fast one takes 20 and the slow one 10, so both finish
 * after 200 µs (an even split: the slow one's 15 take 300 µs). */
static void test_share_by_speed(void **state)
{
    (void)state;
    double sum = 1e9 / 10000 + 1e9 / 20000;
    size_t fast = place_share(30, 10000, sum, 2);
    size_t slow = place_share(30, 20000, sum, 2);
    assert_int_equal(fast, 20);
    assert_int_equal(slow, 10);
    assert_int_equal(fast * 10000, slow * 20000);
}

static void test_share_edges(void **state)
{
    (void)state;
    assert_int_equal(place_share(0, 10000, 1e5, 2), 0);
    /* Nothing measured: an even split. */
    assert_int_equal(place_share(30, 0, 0, 3), 10);
    assert_int_equal(place_share(30, 10000, 0, 3), 10);
    assert_int_equal(place_share(30, 0, 1e5, 0), 30);
    /* At least one, at most all. */
    assert_int_equal(place_share(1, 10000, 1e9, 8), 1);
    assert_int_equal(place_share(5, 1, 1e3, 2), 5);
}

static void test_start(void **state)
{
    (void)state;
    assert_int_equal(place_start_ns(0, 0, 10000), 0);
    assert_int_equal(place_start_ns(0, 3, 10000), 30000);
    assert_int_equal(place_start_ns(200000, 3, 10000), 130000);
}

/* Soonest first; equal starts keep the slot order. */
static void test_order(void **state)
{
    (void)state;
    place_pick v[] = { { 50, 0, 1 }, { 10, 1, 2 }, { 50, 2, 3 },
                       { 0, 3, 4 }, { 10, 4, 5 } };
    place_order(v, 5);
    const int want[] = { 3, 1, 4, 0, 2 };
    for (int i = 0; i < 5; i++) {
        assert_int_equal(v[i].slot, want[i]);
        assert_int_equal(v[i].n, (size_t)want[i] + 1);
    }
    place_order(v, 0);
    place_order(v, 1);
    assert_int_equal(v[0].slot, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_note),
        cmocka_unit_test(test_note_clock_back),
        cmocka_unit_test(test_note_converges),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_cost),
        cmocka_unit_test(test_share_by_speed),
        cmocka_unit_test(test_share_edges),
        cmocka_unit_test(test_start),
        cmocka_unit_test(test_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
