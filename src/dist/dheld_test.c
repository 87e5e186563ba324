/*
 * dheld_test.c -- the master's held-delta names: added, found, forgotten
 * (runs stay reachable after a deletion), many names through growth.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "dist/dheld.h"

static cmsg_tag tag(uint64_t rid)
{
    return (cmsg_tag){ 2, 1, 3, rid, 0 };
}

static void test_add_has_forget(void **state)
{
    (void)state;
    dheld h;
    dheld_init(&h);
    cmsg_tag t = tag(7);
    assert_false(dheld_has(&h, &t, 300));
    assert_int_equal(dheld_add(&h, &t, 300), DVM_OK);
    assert_int_equal(dheld_add(&h, &t, 300), DVM_OK);    /* once */
    assert_int_equal(h.n, 1);
    assert_true(dheld_has(&h, &t, 300));
    assert_false(dheld_has(&h, &t, 301));
    cmsg_tag o = t;
    o.attempt = 1;
    assert_false(dheld_has(&h, &o, 300));
    dheld_forget(&h, &t, 300);
    assert_false(dheld_has(&h, &t, 300));
    assert_int_equal(h.n, 0);
    dheld_free(&h);
}

/* 20,000 names (the table grows), every other one forgotten: the rest
 * are all still found, the forgotten ones are not. */
static void test_many(void **state)
{
    (void)state;
    dheld h;
    dheld_init(&h);
    for (uint64_t i = 0; i < 20000; i++) {
        cmsg_tag t = tag(i / 3);
        assert_int_equal(dheld_add(&h, &t, 1000 + i % 3), DVM_OK);
    }
    for (uint64_t i = 0; i < 20000; i += 2) {
        cmsg_tag t = tag(i / 3);
        dheld_forget(&h, &t, 1000 + i % 3);
    }
    assert_int_equal(h.n, 10000);
    for (uint64_t i = 0; i < 20000; i++) {
        cmsg_tag t = tag(i / 3);
        assert_int_equal(dheld_has(&h, &t, 1000 + i % 3), i % 2);
    }
    dheld_clear(&h);
    cmsg_tag t = tag(1);
    assert_false(dheld_has(&h, &t, 1001));
    dheld_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_has_forget),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
