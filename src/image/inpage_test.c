/*
 * inpage_test.c -- the pages of the input windows: the length word and the
 * bytes cut to each page (a word across two pages too), zeros elsewhere,
 * a short read leaving zeros, several inputs on one page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "image/inpage.h"
#include "isa/isa.h"

#define PG (DISA_INPUT_BASE / DISA_PAGE)

/* The input's bytes: byte i is (i * 7 + 3) & 0xFF, as many as arg says
 * are readable (the rest is "unreadable": a short read). */
static uint64_t read_pattern(void *arg, uint64_t off, uint8_t *dst,
                             uint64_t n)
{
    uint64_t readable = *(const uint64_t *)arg, got = 0;
    for (; got < n && off + got < readable; got++)
        dst[got] = (uint8_t)((off + got) * 7 + 3);
    return got;
}

static uint8_t want_byte(uint64_t i) { return (uint8_t)(i * 7 + 3); }

static void test_first_pages(void **state)
{
    (void)state;
    uint64_t readable = 5000;
    inpage_src s = { DISA_INPUT_BASE, 5000, read_pattern, &readable };
    uint8_t b[DISA_PAGE];
    assert_int_equal(inpage_fill(&s, 1, PG, b), 1);
    uint64_t len;
    memcpy(&len, b, 8);                 /* little-endian, as the window */
    assert_int_equal(len, 5000);
    for (uint64_t i = 8; i < DISA_PAGE; i++)
        assert_int_equal(b[i], want_byte(i - 8));
    assert_int_equal(inpage_fill(&s, 1, PG + 1, b), 1);
    for (uint64_t i = 0; i < DISA_PAGE; i++)
        assert_int_equal(b[i], i < 5000 - 4088 ? want_byte(4088 + i) : 0);
    memset(b, 0xAA, sizeof b);
    assert_int_equal(inpage_fill(&s, 1, PG + 2, b), 0);
    for (uint64_t i = 0; i < DISA_PAGE; i++)
        assert_int_equal(b[i], 0);
}

static void test_word_across_pages(void **state)
{
    (void)state;
    uint64_t readable = 100, addr = DISA_INPUT_BASE + DISA_PAGE - 4;
    inpage_src s = { addr, 0x0102030405060708ULL, read_pattern, &readable };
    uint8_t b[DISA_PAGE];
    assert_int_equal(inpage_fill(&s, 1, PG, b), 1);
    assert_int_equal(b[DISA_PAGE - 4], 0x08);
    assert_int_equal(b[DISA_PAGE - 1], 0x05);
    assert_int_equal(b[DISA_PAGE - 5], 0);
    assert_int_equal(inpage_fill(&s, 1, PG + 1, b), 1);
    assert_int_equal(b[0], 0x04);
    assert_int_equal(b[3], 0x01);
    /* only 100 bytes could be read: the rest of the page reads 0 */
    for (uint64_t i = 4; i < DISA_PAGE; i++)
        assert_int_equal(b[i], i - 4 < 100 ? want_byte(i - 4) : 0);
}

static void test_two_inputs(void **state)
{
    (void)state;
    uint64_t r1 = 16, r2 = 16;
    inpage_src s[2] = {
        { DISA_INPUT_BASE, 16, read_pattern, &r1 },
        { DISA_INPUT_BASE + 64, 3, read_pattern, &r2 },
    };
    uint8_t b[DISA_PAGE];
    assert_int_equal(inpage_fill(s, 2, PG, b), 1);
    assert_int_equal(b[0], 16);
    assert_int_equal(b[8], want_byte(0));
    assert_int_equal(b[23], want_byte(15));
    assert_int_equal(b[24], 0);
    assert_int_equal(b[64], 3);
    assert_int_equal(b[74], want_byte(2));
    assert_int_equal(b[75], 0);
    assert_int_equal(inpage_fill(s, 0, PG, b), 0);    /* none bound */
}

static void test_is_input(void **state)
{
    (void)state;
    assert_true(inpage_is_input(PG));
    assert_true(inpage_is_input(DISA_SYSPAGE / DISA_PAGE - 1));
    assert_false(inpage_is_input(PG - 1));
    assert_false(inpage_is_input(DISA_SYSPAGE / DISA_PAGE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_pages),
        cmocka_unit_test(test_word_across_pages),
        cmocka_unit_test(test_two_inputs),
        cmocka_unit_test(test_is_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
