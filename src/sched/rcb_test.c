/*
 * rcb_test.c -- the ready queue's removal from the middle (locality takes a
 * runner behind the head): order, count and tail stay right.  The
 * cluster's gate: runners wait for their commit to be stable, go in order
 * once it is, the snapshot epoch never goes back, and each runner a
 * release left waiting counts once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sched/rcb.h"

static void test_take_after(void **state)
{
    (void)state;
    rcb r[4] = { { .rid = 1 }, { .rid = 2 }, { .rid = 3 }, { .rid = 4 } };
    rcb_queue q = { 0 };
    for (int i = 0; i < 3; i++)
        rcb_push(&q, &r[i]);
    assert_ptr_equal(rcb_take_after(&q, &r[0]), &r[1]);    /* the middle */
    assert_int_equal(q.n, 2);
    assert_ptr_equal(rcb_take_after(&q, &r[0]), &r[2]);    /* the tail */
    assert_ptr_equal(q.tail, &r[0]);
    rcb_push(&q, &r[3]);                                    /* after it */
    assert_ptr_equal(r[0].next, &r[3]);
    assert_ptr_equal(rcb_take_after(&q, NULL), &r[0]);     /* the head */
    assert_ptr_equal(rcb_pop(&q), &r[3]);
    assert_null(rcb_pop(&q));
    assert_int_equal(q.n, 0);
    assert_null(q.tail);
}

/* A gated pool's runner made ready by commit epoch. */
static rcb *held(rcb_pool *p, uint64_t epoch)
{
    rcb *r = rcb_new(p);
    assert_non_null(r);
    rcb_pool_hold(p, r, epoch);
    return r;
}

static void test_gate(void **state)
{
    (void)state;
    rcb_pool p;
    rcb_pool_init(&p);
    p.gated = 1;
    rcb *a = held(&p, 3), *b = held(&p, 3), *c = held(&p, 5);
    assert_int_equal(rcb_pool_release(&p, 2), 2);   /* none stable yet */
    assert_null(p.ready.head);
    assert_int_equal(p.unstable.n, 3);
    assert_int_equal(rcb_pool_release(&p, 4), 4);   /* epoch 3's go */
    assert_ptr_equal(p.ready.head, a);
    assert_ptr_equal(a->next, b);
    assert_ptr_equal(p.ready.tail, b);
    assert_int_equal(p.waited, 2);
    assert_ptr_equal(p.unstable.head, c);
    rcb *d = held(&p, 7);
    assert_int_equal(rcb_pool_release(&p, 1), 4);   /* never lower */
    assert_int_equal(p.unstable.n, 2);
    assert_int_equal(rcb_pool_release(&p, 7), 7);   /* c, d: both waited */
    assert_int_equal(p.waited, 4);
    assert_ptr_equal(p.ready.tail, d);
    assert_null(p.unstable.head);
    rcb *e = held(&p, 7);                           /* stable at once */
    assert_int_equal(rcb_pool_release(&p, 7), 7);
    assert_int_equal(p.waited, 4);
    assert_ptr_equal(p.ready.tail, e);
    assert_int_equal(p.ready.n, 5);
    rcb_pool_destroy(&p);
}

/* A conflicted attempt waits for the newest commit in a gated pool, goes
 * at once otherwise, and alone after the limit either way. */
static void test_retry(void **state)
{
    (void)state;
    rcb_pool p;
    rcb_pool_init(&p);
    rcb *r = rcb_new(&p);
    assert_non_null(r);
    rcb_pool_retry(&p, r, 2, 0);
    assert_ptr_equal(rcb_pop(&p.ready), r);              /* ungated */
    p.gated = 1;
    rcb_pool_retry(&p, r, 3, 9);
    assert_ptr_equal(p.unstable.head, r);
    assert_true(r->need == 9 && r->attempt == 2);
    assert_int_equal(rcb_pool_release(&p, 8), 8);
    assert_null(p.ready.head);
    assert_int_equal(rcb_pool_release(&p, 9), 9);
    assert_ptr_equal(rcb_pop(&p.ready), r);
    rcb_pool_retry(&p, r, 3, 10);                   /* the limit */
    assert_ptr_equal(p.exclusive.head, r);
    assert_null(p.unstable.head);
    rcb_pool_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_after),
        cmocka_unit_test(test_gate),
        cmocka_unit_test(test_retry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
