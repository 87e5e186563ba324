/*
 * crc32_test.c -- crc32_ieee against a bitwise CRC-32 written here: the
 * standard check value, every length to 300 at every alignment (the
 * eight-byte steps and the byte tail meet everywhere), a large buffer,
 * and callers on several threads at once (the tables are built once).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "util/crc32.h"

/* Bitwise CRC-32, one bit at a time: slow and obviously right. */
static uint32_t ref_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

/* n pseudo-random bytes (the caller frees them). */
static uint8_t *random_bytes(size_t n, uint64_t seed)
{
    uint8_t *b = malloc(n ? n : 1);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        b[i] = (uint8_t)(seed >> 56);
    }
    return b;
}

static void test_check_value(void **state)
{
    (void)state;
    assert_int_equal(crc32_ieee("123456789", 9), 0xCBF43926u);
    assert_int_equal(crc32_ieee(NULL, 0), 0);
    assert_int_equal(crc32_ieee("", 0), 0);
    assert_int_equal(crc32_ieee("a", 1), 0xE8B7BE43u);
}

static void test_lengths_and_alignments(void **state)
{
    (void)state;
    uint8_t *b = random_bytes(300 + 8, 1);
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n <= 300; n++)
            assert_int_equal(crc32_ieee(b + off, n), ref_crc32(b + off, n));
    free(b);
}

static void test_large_and_special(void **state)
{
    (void)state;
    size_t n = (1u << 20) + 5;
    uint8_t *b = random_bytes(n, 2);
    assert_int_equal(crc32_ieee(b, n), ref_crc32(b, n));
    for (size_t i = 0; i < n; i++)
        b[i] = 0xFF;
    assert_int_equal(crc32_ieee(b, n), ref_crc32(b, n));
    for (size_t i = 0; i < n; i++)
        b[i] = 0;
    assert_int_equal(crc32_ieee(b, n), ref_crc32(b, n));
    free(b);
}

/* Each thread checksums the same buffer; all must agree. */
static void *crc_thread(void *arg)
{
    const uint8_t *b = arg;
    return (void *)(uintptr_t)crc32_ieee(b, 4096);
}

static void test_threads(void **state)
{
    (void)state;
    uint8_t *b = random_bytes(4096, 3);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, crc_thread, b), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        assert_int_equal(pthread_join(t[i], &r), 0);
        assert_int_equal((uint32_t)(uintptr_t)r, ref_crc32(b, 4096));
    }
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_value),
        cmocka_unit_test(test_lengths_and_alignments),
        cmocka_unit_test(test_large_and_special),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
