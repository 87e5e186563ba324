/*
 * place_test.c -- the arithmetic of batches: an RComp's time per runner
 * counted from one runner's end to the next while it is busy (and from
 * the start when it began idle) against the same runners' elsewhere,
 * the set's average run time (runs only, the gaps between them not),
 * the depth that covers two round trips,
 * shares in proportion to speed (the last runners of a run finish
 * together on RComps of unequal speed), and the order of refills.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "sched/place.h"

/* A kind that one RComp ran says nothing of its speed; once another
 * ran it, the other's time against its average counts.  While busy the
 * gap from the last end counts (the reset and fetches between runners);
 * after idle the run alone again. */
static void test_note(void **state)
{
    (void)state;
    place_set k = { 0 };
    place_rcomp r = { 0 }, r2 = { 0 };
    place_note(&r, 0, &k, 77, 1000, 9000, 1);
    assert_int_equal(k.runner_ns, 8001);        /* the set's run time */
    assert_int_equal(r.factor, 0);              /* nothing to compare */
    assert_int_equal(place_factor(&r, 0), PLACE_ONE);
    assert_int_equal(place_factor(&r, 700), 700);
    assert_int_equal(r.last_end_ns, 9000);
    assert_int_equal(r.own_ns, 8002);           /* its own, unbiased */
    /* RComp 1: twice the average (8,001). */
    place_note(&r2, 1, &k, 77, 0, 16001, 0);
    assert_int_equal(k.runner_ns, 8001 - 8001 / 8 + 16001 / 8);
    assert_int_equal(r2.factor, 2 * PLACE_ONE);
    assert_int_equal(r2.last_end_ns, 0);
    assert_int_equal(r2.own_ns, 16003);
    /* RComp 0 again, busy: ran 11,000..19,000, counted from 9,000:
     * 10,001 against the kind's 8,001 - 1,000 + 2,000. */
    place_note(&r, 0, &k, 77, 11000, 19000, 0);
    assert_int_equal(r.factor, (uint32_t)(10001.0 / 9001 * PLACE_ONE));
    assert_int_equal(r.last_end_ns, 0);
    assert_int_equal(r.own_ns, 8002 - 8002 / 8 + 10001 / 8);
    /* It was idle before: the run alone (8,001), not the idle gap. */
    place_rcomp r3 = { 0 };
    uint64_t avg = 9001 - 9001 / 8 + 10001 / 8;
    place_note(&r3, 3, &k, 77, 500000, 508000, 0);
    assert_int_equal(r3.factor, (uint32_t)(8001.0 / (double)avg * PLACE_ONE));
}

/* A clock that went back (another host's, or a bogus result) counts no
 * time; the factor stays within its bounds. */
static void test_note_clock_back(void **state)
{
    (void)state;
    place_set k = { 0 };
    place_rcomp r = { 0 }, r2 = { 0 };
    place_note(&r2, 1, &k, 1, 0, 4000, 0);
    place_note(&r, 0, &k, 1, 5000, 4000, 1);
    assert_int_equal(r.factor, PLACE_ONE / 8);     /* at least 1/8 */
    for (int i = 0; i < 100; i++) {
        place_note(&r, 0, &k, 1, 3000, 2000, 1);
        assert_in_range(r.factor, PLACE_ONE / 8, 8 * PLACE_ONE);
    }
}

/* Two RComps, one twice as slow, running runners of two kinds that
 * differ 100-fold (k-means' chunks and its combining runner), the long
 * kind on the fast one only: their factors still say 2:1.  (An average
 * of time per runner would call the fast one slow; the long kind, which
 * only it runs, would call it as fast as the set.) */
static void test_note_kinds(void **state)
{
    (void)state;
    place_set k = { 0 };
    place_rcomp fast = { 0 }, slow = { 0 };
    uint64_t tf = 0, ts = 0;
    for (int i = 0; i < 400; i++) {
        uint64_t d = i % 10 == 0 ? 1000000 : 10000;
        uint64_t entry = i % 10 == 0 ? 0x40 : 0x80;
        place_note(&fast, 0, &k, entry, tf, tf + d, 0);
        tf += d;
        if (i % 10 != 0) {
            place_note(&slow, 1, &k, entry, ts, ts + 2 * d, 0);
            ts += 2 * d;
        }
    }
    double rel = (double)slow.factor / fast.factor;
    print_message("slow/fast factor: %.3f\n", rel);
    assert_true(rel > 1.8 && rel < 2.2);
}

/* A core shared with a busy process: a runner either runs through
 * (10 µs) or waits the other's time slice (it takes 10 times as long),
 * one time in four, on RComp 1; RComp 0 runs alone.  The factors come
 * out near the true ratio, (3 + 10) / 4 = 3.25, whatever the order. */
static void test_note_bursty(void **state)
{
    (void)state;
    place_set k = { 0 };
    place_rcomp a = { 0 }, b = { 0 };
    uint64_t x = 12345;
    for (int i = 0; i < 2000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        place_note(&a, 0, &k, 5, 0, 10000, 0);
        place_note(&b, 1, &k, 5, 0, (x >> 62) == 0 ? 100000 : 10000, 0);
    }
    double rel = (double)b.factor / a.factor;
    print_message("bursty slow/fast factor: %.3f\n", rel);
    assert_true(rel > 2.0 && rel < 4.5);
}

/* One outlier (a translation: 1,000 times the usual) counts as 8 times
 * the usual: it moves the factor by about (8 - 1) / 16. */
static void test_note_outlier(void **state)
{
    (void)state;
    place_set k = { 0 };
    place_rcomp r = { 0 };
    place_note(&r, 1, &k, 9, 0, 10000, 0);
    for (int i = 0; i < 50; i++)
        place_note(&r, 0, &k, 9, 0, 10000, 0);
    assert_in_range(r.factor, PLACE_ONE - 8, PLACE_ONE + 8);
    place_note(&r, 0, &k, 9, 0, 10000000, 0);
    assert_true(r.factor > PLACE_ONE && r.factor <= 3 * PLACE_ONE / 2);
}

/* Entries that share a slot of the table replace each other. */
static void test_kinds_collide(void **state)
{
    (void)state;
    place_set k = { 0 };
    place_rcomp r = { 0 };
    for (uint64_t e = 0; e < 4 * PLACE_KINDS; e++)
        place_note(&r, (int)(e % 3), &k, e, 0, e % 2 ? 1000 : 100000, 0);
    assert_int_equal(r.factor, 0);  /* each one new: nothing compared */
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

static void test_factor(void **state)
{
    (void)state;
    place_rcomp r = { 0 };
    assert_int_equal(place_factor(&r, 0), PLACE_ONE);
    assert_int_equal(place_factor(&r, 500), 500);
    r.factor = 3000;
    assert_int_equal(place_factor(&r, 0), 3000);
    assert_int_equal(place_factor(&r, 500), 3000);
}

/* Two RComps, one twice as slow (20 µs a runner against 10): of the last
 * 30 runners the fast one takes 20 and the slow one 10, so both finish
 * after 200 µs (an even split: the slow one's 15 take 300 µs). */
static void test_share_by_speed(void **state)
{
    (void)state;
    double sum = 1.0 + 0.5;
    size_t fast = place_share(30, PLACE_ONE, sum, 2);
    size_t slow = place_share(30, 2 * PLACE_ONE, sum, 2);
    assert_int_equal(fast, 20);
    assert_int_equal(slow, 10);
    assert_int_equal(fast * 10000, slow * 20000);
}

static void test_share_edges(void **state)
{
    (void)state;
    assert_int_equal(place_share(0, PLACE_ONE, 2, 2), 0);
    /* Nothing measured: an even split. */
    assert_int_equal(place_share(30, PLACE_ONE, 0, 3), 10);
    assert_int_equal(place_share(30, 4 * PLACE_ONE, 0, 3), 10);
    assert_int_equal(place_share(30, PLACE_ONE, 0, 0), 30);
    /* At least one, at most all. */
    assert_int_equal(place_share(1, PLACE_ONE, 8, 8), 1);
    assert_int_equal(place_share(5, 1, 1, 2), 5);
}

static void test_start(void **state)
{
    (void)state;
    assert_int_equal(place_start_ns(0, 0, 10000, PLACE_ONE), 0);
    assert_int_equal(place_start_ns(0, 3, 10000, PLACE_ONE), 30000);
    assert_int_equal(place_start_ns(200000, 3, 10000, PLACE_ONE), 130000);
    assert_int_equal(place_start_ns(0, 3, 10000, 2 * PLACE_ONE), 60000);
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
        cmocka_unit_test(test_note_kinds),
        cmocka_unit_test(test_note_bursty),
        cmocka_unit_test(test_note_outlier),
        cmocka_unit_test(test_kinds_collide),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_factor),
        cmocka_unit_test(test_share_by_speed),
        cmocka_unit_test(test_share_edges),
        cmocka_unit_test(test_start),
        cmocka_unit_test(test_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
