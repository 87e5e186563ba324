/*
 * rcb_test.c -- the ready queue's removal from the middle (locality takes a
 * runner behind the head): order, count and tail stay right.
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_after),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
