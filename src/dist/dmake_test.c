/*
 * dmake_test.c -- which holders can make each page's newest version:
 * noted, found for that epoch and those nodes only, replaced by a newer
 * note, forgotten by clear, many pages through growth.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "dist/dmake.h"

static void test_note_can(void **state)
{
    (void)state;
    dmake m;
    dmake_init(&m);
    assert_false(dmake_can(&m, 300, 4, 1));
    const uint64_t ids[] = { 1, 2 };
    assert_int_equal(dmake_note(&m, 300, 4, ids, 2), DVM_OK);
    assert_true(dmake_can(&m, 300, 4, 1));
    assert_true(dmake_can(&m, 300, 4, 2));
    assert_false(dmake_can(&m, 300, 4, 3));     /* another node */
    assert_false(dmake_can(&m, 300, 3, 1));     /* another version */
    assert_false(dmake_can(&m, 301, 4, 1));     /* another page */
    /* A newer commit of the page replaces what was noted. */
    assert_int_equal(dmake_note(&m, 300, 9, ids + 1, 1), DVM_OK);
    assert_false(dmake_can(&m, 300, 4, 2));
    assert_false(dmake_can(&m, 300, 9, 1));
    assert_true(dmake_can(&m, 300, 9, 2));
    assert_int_equal(m.n, 1);
    /* No node (the committing node alone could make it). */
    assert_int_equal(dmake_note(&m, 300, 10, NULL, 0), DVM_OK);
    assert_false(dmake_can(&m, 300, 10, 2));
    dmake_clear(&m);
    assert_false(dmake_can(&m, 300, 10, 2));
    assert_int_equal(m.n, 0);
    dmake_free(&m);
}

/* 20,000 pages (the table grows): each still names its own epoch and
 * node. */
static void test_many(void **state)
{
    (void)state;
    dmake m;
    dmake_init(&m);
    for (uint64_t p = 0; p < 20000; p++) {
        const uint64_t id = p % 7;
        assert_int_equal(dmake_note(&m, p * 512, p + 1, &id, 1), DVM_OK);
    }
    assert_int_equal(m.n, 20000);
    for (uint64_t p = 0; p < 20000; p++) {
        assert_true(dmake_can(&m, p * 512, p + 1, p % 7));
        assert_false(dmake_can(&m, p * 512, p + 1, p % 7 + 1));
        assert_false(dmake_can(&m, p * 512, p, p % 7));
    }
    dmake_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_note_can),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
