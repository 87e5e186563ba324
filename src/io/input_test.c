/*
 * input_test.c -- bound inputs: a pipe read whole into a memfd, bounds on
 * its size and on the wait, directories and oversized files refused.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/input.h"

static void test_pipe_slurped(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "hello, pipe", 11), 11);
    close(p[1]);
    int m = -1;
    assert_int_equal(io_input_slurp(p[0], "pipe", 100, 1000, &m), DVM_OK);
    char buf[16] = {0};
    assert_int_equal(pread(m, buf, sizeof buf, 0), 11);
    assert_string_equal(buf, "hello, pipe");
    assert_int_equal(fcntl(m, F_GETFD) & FD_CLOEXEC, 0);  /* inherited */
    close(m);
    close(p[0]);
}

static void test_pipe_bounds(void **state)
{
    (void)state;
    int p[2], m = -1;
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "0123456789", 10), 10);
    /* The writer stays open and silent: the wait ends it. */
    assert_int_equal(io_input_slurp(p[0], "pipe", 100, 50, &m), DVM_EIO);
    assert_non_null(strstr(status_message(), "nothing arrived for 50 ms"));
    close(p[1]);
    assert_int_equal(m, -1);
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "0123456789", 10), 10);
    close(p[1]);
    assert_int_equal(io_input_slurp(p[0], "pipe", 9, 1000, &m), DVM_ERANGE);
    assert_non_null(strstr(status_message(), "larger than 9 bytes"));
    close(p[0]);
}

static void test_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/input_testXXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    int fd = -1;
    uint64_t len = 0;
    assert_int_equal(io_input_open(dir, "c", 100, 1000, &fd, &len), DVM_EIO);
    assert_non_null(strstr(status_message(), "is a directory"));
    snprintf(path, sizeof path, "%s/f", dir);
    FILE *f = fopen(path, "w");
    fputs("abcd", f);
    fclose(f);
    assert_int_equal(io_input_open(path, "c", 3, 1000, &fd, &len),
                     DVM_ERANGE);
    assert_non_null(strstr(status_message(), "window holds 3"));
    assert_int_equal(io_input_open(path, "c", 4, 1000, &fd, &len), DVM_OK);
    assert_true(len == 4);
    char p2[32], buf[8] = {0};
    io_input_path(fd, p2);
    int g = open(p2, O_RDONLY);
    assert_true(g >= 0);
    assert_int_equal(read(g, buf, sizeof buf), 4);
    assert_string_equal(buf, "abcd");
    close(g);
    close(fd);
    remove(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipe_slurped),
        cmocka_unit_test(test_pipe_bounds),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
