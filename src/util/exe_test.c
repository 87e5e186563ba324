/*
 * exe_test.c -- the files found from the running executable (exe.h):
 * this test binary's own path, a name beside it, names that are not
 * there, and the RComp executable's fallback to the executable itself.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/exe.h"

static void test_self_is_this_binary(void **state)
{
    (void)state;
    char self[PATH_MAX];
    assert_int_equal(exe_self(self, sizeof self), 0);
    assert_true(self[0] == '/');
    assert_non_null(strstr(self, "exe_test"));
    assert_int_equal(access(self, X_OK), 0);
}

static void test_self_too_small(void **state)
{
    (void)state;
    char tiny[4];
    assert_int_equal(exe_self(tiny, sizeof tiny), -1);
}

static void test_near_finds_a_name_beside(void **state)
{
    (void)state;
    char self[PATH_MAX], found[PATH_MAX];
    assert_int_equal(exe_self(self, sizeof self), 0);
    const char *base = strrchr(self, '/') + 1;
    assert_int_equal(exe_near(base, X_OK, found, sizeof found), 1);
    assert_string_equal(found, self);   /* dir/name, no "./" */
}

static void test_near_missing(void **state)
{
    (void)state;
    char found[PATH_MAX];
    assert_int_equal(exe_near("no-such-file-of-dvm", R_OK, found,
                              sizeof found), 0);
    char tiny[8];             /* a path that does not fit is not found */
    assert_int_equal(exe_near("exe_test", R_OK, tiny, sizeof tiny), 0);
}

/* exe_rcomp gives dvm-rcomp beside this binary when the build put one
 * there, else this binary itself; either is executable. */
static void test_rcomp_exe(void **state)
{
    (void)state;
    char rc[PATH_MAX], self[PATH_MAX], near[PATH_MAX];
    assert_int_equal(exe_rcomp(rc, sizeof rc), 0);
    assert_int_equal(exe_self(self, sizeof self), 0);
    if (exe_near("dvm-rcomp", X_OK, near, sizeof near))
        assert_string_equal(rc, near);
    else
        assert_string_equal(rc, self);
    assert_int_equal(access(rc, X_OK), 0);
    assert_true(strlen(exe_libdir_rel()) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_self_is_this_binary),
        cmocka_unit_test(test_self_too_small),
        cmocka_unit_test(test_near_finds_a_name_beside),
        cmocka_unit_test(test_near_missing),
        cmocka_unit_test(test_rcomp_exe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
