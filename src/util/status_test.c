/*
 * status_test.c -- status_first keeps the first error and its message
 * while later ones are recorded, and gives both back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "util/status.h"

static void test_first_kept(void **state)
{
    (void)state;
    status_first f = { DVM_OK, "" };
    assert_int_equal(status_first_get(&f), DVM_OK);
    status_first_set(&f, status_set(DVM_EIO, "the first"));
    status_first_set(&f, status_set(DVM_ENOMEM, "the second"));
    assert_int_equal(f.st, DVM_EIO);
    assert_string_equal(f.msg, "the first");
    status_set(DVM_EINVAL, "later");
    assert_int_equal(status_first_get(&f), DVM_EIO);
    assert_string_equal(status_message(), "the first");
}

static void test_long_message_cut(void **state)
{
    (void)state;
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    status_first f = { DVM_OK, "" };
    status_first_set(&f, status_set(DVM_EIO, "%s", big));
    assert_int_equal(strlen(f.msg), sizeof f.msg - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_kept),
        cmocka_unit_test(test_long_message_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
