/*
 * clocksync_test.c -- the offset of a node's clock from ping samples.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dist/clocksync.h"

/* One ping answered by a node whose clock is `skew` ahead of the
 * master's, with the legs taking `out` and `back` ns and the node turning
 * it around in `turn` ns; returns the master's receive time. */
static uint64_t exchange(clocksync *c, uint64_t now, int64_t skew,
                         uint64_t out, uint64_t back, uint64_t turn)
{
    uint64_t seq;
    assert_int_equal(clocksync_ping_due(c, now, &seq), 1);
    assert_int_equal(clocksync_ping_due(c, now, &seq), 0);  /* one at a time */
    uint64_t t1 = now + out + (uint64_t)skew;
    cmsg_clock p = { seq, t1, t1 + turn };
    uint64_t t3 = now + out + turn + back;
    assert_int_equal(clocksync_pong(c, &p, t3), DVM_OK);
    return t3;
}

static void test_smallest_round_trip_wins(void **state)
{
    (void)state;
    clocksync c;
    int64_t skew = -(int64_t)5000000000000ll;  /* the node 5000 s behind */
    uint64_t now = 1000000000000ull;
    clocksync_init(&c, now);
    assert_int_equal(clocksync_to_master(&c, 77), 77);  /* unmeasured */
    /* A lopsided slow sample first: used until a better one ends the
     * burst. */
    now = exchange(&c, now, skew, 900000, 100000, 5000);
    assert_true(c.valid);
    assert_int_equal(c.offset, skew + 400000);
    for (int i = 1; i < CLOCKSYNC_PINGS; i++)
        now = exchange(&c, now, skew, 1000 + (uint64_t)(i == 4) * 0,
                       i == 4 ? 1000 : 3000, 500);
    /* Sample 4 had equal legs: its offset is exact. */
    assert_int_equal(c.offset, skew);
    assert_int_equal(c.delay, 2000);
    assert_int_equal(clocksync_to_master(&c, 1000000 + (uint64_t)skew),
                     1000000);
    uint64_t seq;
    assert_int_equal(clocksync_ping_due(&c, now + 1, &seq), 0);
    /* The next burst, CLOCKSYNC_PERIOD_NS later, replaces the offset only
     * at its end. */
    now += CLOCKSYNC_PERIOD_NS;
    now = exchange(&c, now, skew + 100, 1000, 1000, 0);
    assert_int_equal(c.offset, skew);
    for (int i = 1; i < CLOCKSYNC_PINGS; i++)
        now = exchange(&c, now, skew + 100, 1000, 1000, 0);
    assert_int_equal(c.offset, skew + 100);
}

static void test_bad_pongs(void **state)
{
    (void)state;
    clocksync c;
    clocksync_init(&c, 100);
    cmsg_clock p = { 1, 200, 200 };
    assert_int_equal(clocksync_pong(&c, &p, 300), DVM_EPROTO);  /* no ping */
    uint64_t seq;
    assert_int_equal(clocksync_ping_due(&c, 100, &seq), 1);
    p.seq = seq + 1;
    assert_int_equal(clocksync_pong(&c, &p, 300), DVM_EPROTO);  /* wrong seq */
    p = (cmsg_clock){ seq, 0, 500 };
    assert_int_equal(clocksync_pong(&c, &p, 300), DVM_EPROTO);  /* turn > rtt */
    p = (cmsg_clock){ seq, 0, 100 };
    assert_int_equal(clocksync_pong(&c, &p, 50), DVM_EPROTO);   /* t3 < t0 */
    assert_false(c.valid);
    assert_int_equal(clocksync_pong(&c, &p, 300), DVM_OK);
    assert_true(c.valid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smallest_round_trip_wins),
        cmocka_unit_test(test_bad_pongs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
