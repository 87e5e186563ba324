/*
 * stdfds_test.c -- closed standard descriptors become /dev/null, in their
 * own places, and open ones are left alone.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/stdfds.h"

/* True when fd is open on /dev/null. */
static int is_null(int fd)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat("/dev/null", &b) == 0 &&
           S_ISCHR(a.st_mode) && a.st_rdev == b.st_rdev;
}

static void test_closed_become_null(void **state)
{
    (void)state;
    int saved[3];
    for (int fd = 0; fd <= 2; fd++)
        assert_true((saved[fd] = dup(fd)) > 2);
    close(1);
    close(2);
    assert_int_equal(stdfds_ensure(), DVM_OK);
    int r1 = is_null(1), r2 = is_null(2);
    int next = open("/dev/zero", O_RDONLY);   /* no longer lands on 1 */
    for (int fd = 0; fd <= 2; fd++) {
        dup2(saved[fd], fd);
        close(saved[fd]);
    }
    assert_true(r1 && r2);
    assert_true(next > 2);
    close(next);
}

static void test_open_left_alone(void **state)
{
    (void)state;
    struct stat before, after;
    assert_int_equal(fstat(0, &before), 0);
    assert_int_equal(stdfds_ensure(), DVM_OK);
    assert_int_equal(fstat(0, &after), 0);
    assert_true(before.st_ino == after.st_ino &&
                before.st_dev == after.st_dev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_become_null),
        cmocka_unit_test(test_open_left_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
