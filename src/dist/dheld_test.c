/*
 * dheld_test.c -- the master's held-delta names: added, found, forgotten
 * (runs stay reachable after a deletion), which nodes said each, many
 * names through growth.
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
    assert_false(dheld_has(&h, &t, 300, 5));
    assert_int_equal(dheld_add(&h, &t, 300, 5), DVM_OK);
    assert_int_equal(dheld_add(&h, &t, 300, 5), DVM_OK);    /* once */
    assert_int_equal(h.n, 1);
    assert_true(dheld_has(&h, &t, 300, 5));
    assert_false(dheld_has(&h, &t, 301, 5));
    cmsg_tag o = t;
    o.attempt = 1;
    assert_false(dheld_has(&h, &o, 300, 5));
    dheld_forget(&h, &t, 300);
    assert_false(dheld_has(&h, &t, 300, 5));
    assert_int_equal(h.n, 0);
    dheld_free(&h);
}

/* A name keeps which nodes said it: another node's word is not found;
 * past DHELD_HOLDERS nodes the oldest is forgotten; forgetting the name
 * forgets all of them. */
static void test_holders(void **state)
{
    (void)state;
    dheld h;
    dheld_init(&h);
    cmsg_tag t = tag(9);
    assert_int_equal(dheld_add(&h, &t, 40, 1), DVM_OK);
    assert_true(dheld_has(&h, &t, 40, 1));
    assert_false(dheld_has(&h, &t, 40, 2));
    for (uint64_t k = 2; k <= DHELD_HOLDERS + 1; k++)
        assert_int_equal(dheld_add(&h, &t, 40, k), DVM_OK);
    assert_int_equal(h.n, 1);
    assert_false(dheld_has(&h, &t, 40, 1));
    for (uint64_t k = 2; k <= DHELD_HOLDERS + 1; k++)
        assert_true(dheld_has(&h, &t, 40, k));
    dheld_forget(&h, &t, 40);
    assert_false(dheld_has(&h, &t, 40, 2));
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
        assert_int_equal(dheld_add(&h, &t, 1000 + i % 3, 5), DVM_OK);
    }
    for (uint64_t i = 0; i < 20000; i += 2) {
        cmsg_tag t = tag(i / 3);
        dheld_forget(&h, &t, 1000 + i % 3);
    }
    assert_int_equal(h.n, 10000);
    for (uint64_t i = 0; i < 20000; i++) {
        cmsg_tag t = tag(i / 3);
        assert_int_equal(dheld_has(&h, &t, 1000 + i % 3, 5), i % 2);
    }
    dheld_clear(&h);
    cmsg_tag t = tag(1);
    assert_false(dheld_has(&h, &t, 1001, 5));
    dheld_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_has_forget),
        cmocka_unit_test(test_holders),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
