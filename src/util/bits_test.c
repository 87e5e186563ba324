/*
 * bits_test.c -- bits_count64 against the compiler's own count, on the
 * edges and on a million pseudo-random words of every density.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/bits.h"

static void test_edges(void **state)
{
    (void)state;
    assert_int_equal(bits_count64(0), 0);
    assert_int_equal(bits_count64(~0ULL), 64);
    assert_int_equal(bits_count64(1ULL << 63), 1);
    assert_int_equal(bits_count64(0x5555555555555555ULL), 32);
    for (unsigned i = 0; i < 64; i++) {
        assert_int_equal(bits_count64(1ULL << i), 1);
        assert_int_equal(bits_count64((1ULL << i) - 1), i);
    }
}

static void test_random_words(void **state)
{
    (void)state;
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    for (unsigned i = 0; i < 1000000; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t a = s, b = s * 0xBF58476D1CE4E5B9ULL;
        uint64_t x = i % 3 == 0 ? a & b : i % 3 == 1 ? a | b : a;
        assert_int_equal(bits_count64(x),
                         (unsigned)__builtin_popcountll(x));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_random_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
