/*
 * addr_test.c -- HOST:PORT parsing, loopback classification, formatting.
 * Only numeric hosts and "localhost": no test needs a name server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "cluster/addr.h"

static const char *roundtrip(const char *text)
{
    static char buf[ADDR_TEXT_MAX];
    addr a;
    assert_int_equal(addr_parse(text, &a), 0);
    return addr_format((struct sockaddr *)&a.ss, buf);
}

static void test_parse_format(void **state)
{
    (void)state;
    assert_string_equal(roundtrip("127.0.0.1:7000"), "127.0.0.1:7000");
    assert_string_equal(roundtrip("10.1.2.3:0"), "10.1.2.3:0");
    assert_string_equal(roundtrip("[::1]:65535"), "[::1]:65535");
    addr a;
    assert_int_equal(addr_parse("localhost:5", &a), 0);
    assert_int_equal(addr_port((struct sockaddr *)&a.ss), 5);
    assert_true(addr_is_loopback((struct sockaddr *)&a.ss));
}

static void test_parse_refused(void **state)
{
    (void)state;
    static const char *bad[] = {"", "7000", ":7000", "host", "1.2.3.4:",
                                "1.2.3.4:65536", "1.2.3.4:7x", "1.2.3.4:-1",
                                "[::1:7000", "[]:7000", "1.2.3.4: 7"};
    addr a;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(addr_parse(bad[i], &a), DVM_EINVAL);
    assert_non_null(strstr(status_message(), "1.2.3.4: 7"));
}

static int loop(const char *text)
{
    addr a;
    assert_int_equal(addr_parse(text, &a), 0);
    return addr_is_loopback((struct sockaddr *)&a.ss);
}

static void test_loopback(void **state)
{
    (void)state;
    assert_true(loop("127.0.0.1:1"));
    assert_true(loop("127.255.0.9:1"));
    assert_true(loop("[::1]:1"));
    assert_true(loop("[::ffff:127.0.0.1]:1"));
    assert_false(loop("0.0.0.0:1"));
    assert_false(loop("128.0.0.1:1"));
    assert_false(loop("10.0.0.1:1"));
    assert_false(loop("[::]:1"));
    assert_false(loop("[::ffff:10.0.0.1]:1"));
    struct sockaddr un = {.sa_family = AF_UNIX};
    assert_false(addr_is_loopback(&un));
    char buf[ADDR_TEXT_MAX];
    assert_string_equal(addr_format(&un, buf), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format),
        cmocka_unit_test(test_parse_refused),
        cmocka_unit_test(test_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
