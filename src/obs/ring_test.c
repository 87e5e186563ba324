/*
 * ring_test.c -- the runner event ring: order, `since`, the newest events
 * after wrap-around, a cap on what one read returns, and a reader racing a
 * writer (every event it returns is whole: its fields agree with its
 * sequence number).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "obs/ring.h"

/* An event whose every field derives from q, so a torn one shows. */
static ring_event ev_of(uint64_t q)
{
    return (ring_event){ 0, q, q * 3, q * 5, (uint32_t)q, (uint16_t)(q * 7),
                         (uint8_t)(q % 5), (uint8_t)(q * 11) };
}

static void check_event(const ring_event *e)
{
    ring_event w = ev_of(e->seq);
    assert_int_equal(e->rid, w.rid);
    assert_int_equal(e->t_start_ns, w.t_start_ns);
    assert_int_equal(e->t_end_ns, w.t_end_ns);
    assert_int_equal(e->rcomp, w.rcomp);
    assert_int_equal(e->node, w.node);
    assert_int_equal(e->outcome, w.outcome);
    assert_int_equal(e->attempt, w.attempt);
}

static void test_order_since_wrap(void **state)
{
    (void)state;
    obs_ring *r;
    ring_event out[64];
    uint64_t next;
    assert_int_equal(ring_create(4, &r), DVM_OK);     /* 16 slots */
    assert_int_equal(ring_read(r, 0, out, 64, &next), 0);
    assert_int_equal(next, 0);
    for (uint64_t q = 0; q < 10; q++) {
        ring_event e = ev_of(q);
        ring_push(r, &e);
    }
    assert_int_equal(ring_read(r, 4, out, 64, &next), 6);
    assert_int_equal(out[0].seq, 4);
    assert_int_equal(next, 10);
    assert_int_equal(ring_read(r, next, out, 64, &next), 0);
    for (uint64_t q = 10; q < 40; q++) {
        ring_event e = ev_of(q);
        ring_push(r, &e);
    }
    /* Overwritten events are gone; the newest 15 (one slot is the one
     * the writer may be filling) come back in order. */
    size_t n = ring_read(r, 10, out, 64, &next);
    assert_int_equal(next, 40);
    assert_int_equal(n, 15);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(out[i].seq, 25 + i);
        check_event(&out[i]);
    }
    /* A cap samples evenly: in order, one from each third. */
    assert_int_equal(ring_read(r, 25, out, 3, &next), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_true(out[i].seq >= 25 + 5 * i && out[i].seq < 30 + 5 * i);
        check_event(&out[i]);
    }
    assert_int_equal(ring_head(r), 40);
    ring_destroy(r);
    assert_int_equal(ring_create(3, &r), DVM_EINVAL);
    assert_int_equal(ring_create(25, &r), DVM_EINVAL);
}

#define RACE_EVENTS 2000000ull

static void *writer(void *arg)
{
    obs_ring *r = arg;
    for (uint64_t q = 0; q < RACE_EVENTS; q++) {
        ring_event e = ev_of(q);
        ring_push(r, &e);
    }
    return NULL;
}

static void test_race(void **state)
{
    (void)state;
    obs_ring *r;
    assert_int_equal(ring_create(6, &r), DVM_OK);     /* 64 slots: laps */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, writer, r), 0);
    ring_event out[64];
    uint64_t since = 0, next, seen = 0;
    for (size_t max = 1; ring_head(r) < RACE_EVENTS; max = max % 64 + 1) {
        size_t n = ring_read(r, since, out, max, &next);
        assert_true(n <= max);
        for (size_t i = 0; i < n; i++) {
            check_event(&out[i]);
            assert_true(out[i].seq >= since && out[i].seq < next);
            assert_true(i == 0 || out[i].seq > out[i - 1].seq);
        }
        seen += n;
        since = next;
    }
    pthread_join(t, NULL);
    /* A writer that finished before the first read above (a busy host
     * can schedule it so) leaves its last lap: the read after it sees it. */
    size_t n = ring_read(r, since, out, 64, &next);
    for (size_t i = 0; i < n; i++)
        check_event(&out[i]);
    seen += n;
    assert_true(seen > 0);
    ring_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_since_wrap),
        cmocka_unit_test(test_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
