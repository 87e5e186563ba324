/*
 * sink_test.c -- output sinks: bytes arrive whole; a write the file
 * refuses (a full device) and a close that fails are errors whose message
 * names the channel; a sink closes once.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/sink.h"

static void test_write_reaches_file(void **state)
{
    (void)state;
    char path[] = "/tmp/dvm-sink-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    io_sink s;
    assert_int_equal(io_sink_open_file(&s, "log", path), DVM_OK);
    assert_int_equal(io_sink_write(&s, "abc", 3), DVM_OK);
    assert_int_equal(io_sink_write(&s, "de", 2), DVM_OK);
    assert_int_equal(s.bytes, 5);
    assert_int_equal(io_sink_close(&s), DVM_OK);
    assert_int_equal(io_sink_close(&s), DVM_OK);    /* again: nothing */
    char buf[8] = { 0 };
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, sizeof buf), 5);
    assert_memory_equal(buf, "abcde", 5);
    close(fd);
    unlink(path);
}

static void test_full_device(void **state)
{
    (void)state;
    io_sink s;
    if (io_sink_open_file(&s, "result", "/dev/full"))
        skip();
    assert_int_equal(io_sink_write(&s, "abc", 3), DVM_EIO);
    assert_non_null(strstr(status_message(), "writing channel result"));
    assert_non_null(strstr(status_message(), "No space left"));
    assert_int_equal(io_sink_close(&s), DVM_OK);
}

/* close(2) failing is reported: here the descriptor is gone beneath the
 * sink (EBADF), as a network file system reports a lost write (EIO). */
static void test_close_failure(void **state)
{
    (void)state;
    int fd = open("/dev/null", O_WRONLY);
    assert_true(fd >= 0);
    io_sink s;
    assert_int_equal(io_sink_open_fd(&s, "result", fd, 1), DVM_OK);
    close(fd);
    assert_int_equal(io_sink_close(&s), DVM_EIO);
    assert_non_null(strstr(status_message(),
                           "closing the file of channel result"));
    assert_int_equal(io_sink_close(&s), DVM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_reaches_file),
        cmocka_unit_test(test_full_device),
        cmocka_unit_test(test_close_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
