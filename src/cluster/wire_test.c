/*
 * wire_test.c -- the envelope: round trip and every field refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cluster/wire.h"
#include "util/le.h"

static void test_roundtrip(void **state)
{
    (void)state;
    uint8_t h[WIRE_HEADER_SIZE];
    wire_encode(h, WIRE_PONG, 4096, 0x1122334455667788ull);
    wire_header w = {0};
    assert_int_equal(wire_decode(h, sizeof h, 4096, 4096, &w), 0);
    assert_int_equal(w.version, WIRE_VERSION);
    assert_int_equal(w.type, WIRE_PONG);
    assert_int_equal(w.length, 4096);
    assert_int_equal(w.seq, 0x1122334455667788ull);
    assert_memory_equal(h, "DVMC", 4);
}

/* Decodes h and expects a refusal whose message contains what. */
static void refused(const uint8_t *h, size_t hlen, size_t data, size_t max,
                    const char *what)
{
    wire_header w = {.type = 77};
    assert_int_equal(wire_decode(h, hlen, data, max, &w), DVM_EPROTO);
    assert_non_null(strstr(status_message(), what));
    assert_int_equal(w.type, 77);           /* untouched */
}

static void test_each_field(void **state)
{
    (void)state;
    uint8_t h[WIRE_HEADER_SIZE + 1];
    wire_encode(h, WIRE_PING, 10, 0);
    refused(h, WIRE_HEADER_SIZE - 1, 10, 100, "envelope of 23 bytes");
    refused(h, WIRE_HEADER_SIZE + 1, 10, 100, "envelope of 25 bytes");
    refused(h, WIRE_HEADER_SIZE, 11, 100, "ping message says 10 bytes, 11");
    refused(h, WIRE_HEADER_SIZE, 10, 9, "exceeds the limit of 9");
    h[0] ^= 1;
    refused(h, WIRE_HEADER_SIZE, 10, 100, "not a DVM cluster message");
    h[0] ^= 1;
    h[5] = 1;
    char why[64];
    snprintf(why, sizeof why, "version %d, this DVM speaks %d",
             256 + WIRE_VERSION, WIRE_VERSION);
    refused(h, WIRE_HEADER_SIZE, 10, 100, why);
    h[5] = 0;
    h[6] = 0;
    refused(h, WIRE_HEADER_SIZE, 10, 100, "unknown message type 0");
    h[6] = WIRE_TYPE_END;
    refused(h, WIRE_HEADER_SIZE, 10, 100, "unknown message type");
    h[6] = WIRE_PING;
    le_st64(h + 8, 1ull << 63);
    refused(h, WIRE_HEADER_SIZE, 10, 100, "says 9223372036854775808 bytes");
}

static void test_types(void **state)
{
    (void)state;
    assert_string_equal(wire_type_name(WIRE_HELLO), "hello");
    assert_string_equal(wire_type_name(WIRE_BYE), "bye");
    assert_string_equal(wire_type_name(0), "unknown");
    assert_string_equal(wire_type_name(WIRE_TYPE_END), "unknown");
    assert_true(wire_type_is_handshake(WIRE_HELLO));
    assert_true(wire_type_is_handshake(WIRE_PROOF));
    assert_false(wire_type_is_handshake(WIRE_BYE));
    assert_false(wire_type_is_handshake(WIRE_PING));
    assert_false(wire_type_is_handshake(999));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_each_field),
        cmocka_unit_test(test_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
