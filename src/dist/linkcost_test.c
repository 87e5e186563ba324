/*
 * linkcost_test.c -- the input pages a kind of runner fetches (a prior
 * until learned, averaged over nodes that lacked most of the input,
 * replaced on collision, cleared), a node's time per page
 * (timed questions, small answers ignored, answers to nothing ignored, a
 * full table), and their product.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dist/linkcost.h"

static linkcost c;              /* 256 kinds: too large for a test's stack */

static void test_kinds(void **state)
{
    (void)state;
    linkcost_clear(&c);
    assert_int_equal(linkcost_pages16(&c, 0x4000), LINKCOST_PRIOR_PAGES * 16);
    linkcost_note(&c, 0x4000, 25, 0, 800);
    assert_int_equal(linkcost_pages16(&c, 0x4000), 25 * 16);
    linkcost_note(&c, 0x4000, 0, 100, 800);     /* read ahead by another */
    assert_int_equal(linkcost_pages16(&c, 0x4000), 25 * 16 * 3 / 4);
    linkcost_note(&c, 0x4000, 0, 401, 800);     /* most was there: ignored */
    linkcost_note(&c, 0x4000, 9, 0, 0);         /* no input: ignored */
    assert_int_equal(linkcost_pages16(&c, 0x4000), 25 * 16 * 3 / 4);
    assert_int_equal(linkcost_pages16(&c, 0x4008), LINKCOST_PRIOR_PAGES * 16);
    for (int i = 0; i < 64; i++)
        linkcost_note(&c, 0x4000, 32, 400, 800);
    assert_in_range(linkcost_pages16(&c, 0x4000), 32 * 16 - 4, 32 * 16);
    linkcost_clear(&c);
    assert_int_equal(linkcost_pages16(&c, 0x4000), LINKCOST_PRIOR_PAGES * 16);
}

/* A kind that reads no input learns so, and costs nothing anywhere. */
static void test_no_input_read(void **state)
{
    (void)state;
    linkcost_clear(&c);
    for (int i = 0; i < 40; i++)
        linkcost_note(&c, 0x5000, 0, 1, 1000);
    assert_int_equal(linkcost_pages16(&c, 0x5000), 0);
    assert_int_equal(linkcost_fetch_ns(&c, 0x5000, 9000000, 0, 1000), 0);
}

/* Two entry points that share a slot: the later one replaces the other. */
static void test_collision(void **state)
{
    (void)state;
    linkcost_clear(&c);
    uint64_t a = 0x1000, b = 0;
    linkcost_note(&c, a, 10, 0, 100);
    for (uint64_t e = a + 8; !b; e += 8) {
        linkcost_note(&c, e, 3, 0, 100);
        if (linkcost_pages16(&c, a) != 10 * 16)
            b = e;
    }
    assert_int_equal(linkcost_pages16(&c, a), LINKCOST_PRIOR_PAGES * 16);
    assert_int_equal(linkcost_pages16(&c, b), 3 * 16);
    linkcost_note(&c, a, 10, 0, 100);
    assert_int_equal(linkcost_pages16(&c, a), 10 * 16);
    assert_int_equal(linkcost_pages16(&c, b), LINKCOST_PRIOR_PAGES * 16);
}

static void test_fetch_ns(void **state)
{
    (void)state;
    linkcost_clear(&c);
    /* Not measured yet: one read-ahead, on a node that holds none. */
    assert_int_equal(linkcost_fetch_ns(&c, 0x4000, 1000, 0, 800),
                     LINKCOST_PRIOR_PAGES * 1000);
    linkcost_note(&c, 0x4000, 25, 0, 800);
    assert_int_equal(linkcost_fetch_ns(&c, 0x4000, 0, 0, 800), 0);
    assert_int_equal(linkcost_fetch_ns(&c, 0x4000, 1600000, 0, 0), 0);
    /* 25 pages at 20 Mbit/s (1.6 ms a page): 40 ms on a node holding
     * none of the input, 10 ms on one holding three quarters, nothing on
     * one holding it all. */
    assert_int_equal(linkcost_fetch_ns(&c, 0x4000, 1600000, 0, 800), 40000000);
    assert_int_equal(linkcost_fetch_ns(&c, 0x4000, 1600000, 600, 800),
                     10000000);
    assert_int_equal(linkcost_fetch_ns(&c, 0x4000, 1600000, 800, 800), 0);
    assert_int_equal(linkcost_fetch_ns(&c, 0x4000, 1600000, 900, 800), 0);
    assert_int_equal(linkcost_fetch_ns(&c, 0x4000, UINT64_MAX / 8, 0, 800),
                     UINT64_MAX);
}

static void test_link(void **state)
{
    (void)state;
    linkcost_link l = { 0 };
    linkcost_asked(&l, 100, 32, 1000);
    linkcost_asked(&l, 200, 2, 1000);       /* too small to say */
    linkcost_answered(&l, 200, 500000);
    assert_int_equal(l.ns_per_page, 0);
    linkcost_answered(&l, 999, 2000);       /* asked by nobody */
    assert_int_equal(l.ns_per_page, 0);
    linkcost_answered(&l, 100, 1000 + 32 * 1600000);
    assert_int_equal(l.ns_per_page, 1600001);
    linkcost_answered(&l, 100, 9000000000); /* answered once only */
    assert_int_equal(l.ns_per_page, 1600001);
    linkcost_asked(&l, 300, 8, 10);
    linkcost_answered(&l, 300, 10 + 8 * 6000);
    assert_int_equal(l.ns_per_page, 1600001 / 2 + 6001 / 2);
    linkcost_link_reset(&l);
    assert_int_equal(l.ns_per_page, 0);         /* measured again */
}

/* More questions than are timed: the oldest is forgotten, the rest are
 * answered. */
static void test_link_full(void **state)
{
    (void)state;
    linkcost_link l = { 0 };
    for (uint64_t i = 0; i <= LINKCOST_ASKS; i++)
        linkcost_asked(&l, 1000 + i, 8, 100 + i);
    linkcost_answered(&l, 1000, 8100);          /* forgotten */
    assert_int_equal(l.ns_per_page, 0);
    linkcost_answered(&l, 1000 + LINKCOST_ASKS, 100 + LINKCOST_ASKS + 8000);
    assert_int_equal(l.ns_per_page, 1001);
    linkcost_link_reset(&l);
    linkcost_answered(&l, 1001, 100000);        /* reset: not timed */
    assert_int_equal(l.ns_per_page, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_no_input_read),
        cmocka_unit_test(test_collision),
        cmocka_unit_test(test_fetch_ns),
        cmocka_unit_test(test_link),
        cmocka_unit_test(test_link_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
