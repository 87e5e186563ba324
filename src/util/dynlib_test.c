/*
 * dynlib_test.c -- libraries loaded at their first use: a function of the
 * C library's libm found and called with its own type, a library that is
 * not there and a function a library lacks each a clear error, the
 * outcome of an open kept.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "util/dynlib.h"

static void test_open_and_call(void **state)
{
    (void)state;
    static dynlib m = DYNLIB_INIT("libm.so.6");
    assert_int_equal(dynlib_open(&m), DVM_OK);
    __typeof__(ldexp) *f = NULL;
    assert_int_equal(dynlib_fn(&m, "ldexp", (void **)&f), DVM_OK);
    assert_non_null(f);
    assert_true(f(1.5, 2) == 6.0);
    assert_int_equal(dynlib_open(&m), DVM_OK);  /* again: the same */
}

static void test_missing_library(void **state)
{
    (void)state;
    static dynlib none = DYNLIB_INIT("libdvm-no-such-library.so.7");
    assert_int_equal(dynlib_open(&none), DVM_EUNSUPP);
    assert_non_null(strstr(status_message(), "libdvm-no-such-library.so.7"));
    assert_int_equal(dynlib_open(&none), DVM_EUNSUPP);  /* kept */
}

#define M_FNS(X) X(ldexp) X(frexp)
DYNLIB_TABLE(m_fns, m_table, "libm.so.6", M_FNS, "maths")
#define NONE_FNS(X) X(ldexp) X(dvm_absent_function)
double dvm_absent_function(double);    /* declared, defined nowhere */
DYNLIB_TABLE(none_fns, none_table, "libm.so.6", NONE_FNS, "absent")

/* DYNLIB_TABLE: every function of the list, typed as declared; a
 * function the library lacks fails the table's load with its name. */
static void test_table(void **state)
{
    (void)state;
    assert_int_equal(m_table(), DVM_OK);
    int e = 0;
    assert_true(m_fns.ldexp(1.5, 2) == 6.0);
    assert_true(m_fns.frexp(6.0, &e) == 0.75 && e == 3);
    assert_int_equal(m_table(), DVM_OK);        /* again: filled once */
    assert_int_equal(none_table(), DVM_EUNSUPP);
    assert_non_null(strstr(status_message(), "dvm_absent_function"));
    assert_true(!strncmp(status_message(), "absent: ", 8));
    assert_non_null(none_fns.ldexp);            /* those before it taken */
}

static void test_missing_function(void **state)
{
    (void)state;
    static dynlib m = DYNLIB_INIT("libm.so.6");
    assert_int_equal(dynlib_open(&m), DVM_OK);
    void *f = (void *)&m;
    assert_int_equal(dynlib_fn(&m, "dvm_no_such_function", &f), DVM_EUNSUPP);
    assert_ptr_equal(f, (void *)&m);    /* not set on failure */
    assert_non_null(strstr(status_message(), "dvm_no_such_function"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_and_call),
        cmocka_unit_test(test_missing_library),
        cmocka_unit_test(test_missing_function),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
