/*
 * dpend_test.c -- pending deltas: kept by tag and page, applied once,
 * the newest of equal names, the oldest pushed out when full.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "dist/dpend.h"
#include "util/le.h"

static uint8_t mask[8 * CMSG_MASK_WORDS];

/* A delta of one changed byte at offset off, value v. */
static cmsg_delta_ent delta(uint64_t rid, uint64_t page, unsigned off,
                            const uint8_t *v)
{
    memset(mask, 0, sizeof mask);
    le_st64(mask + 8 * (off / 64), 1ull << (off % 64));
    return (cmsg_delta_ent){ { 1, 0, 1, rid, 0 }, page, mask, { v, 1 } };
}

static void test_apply_once(void **state)
{
    (void)state;
    dpend d;
    assert_int_equal(dpend_init(&d), DVM_OK);
    static const uint8_t v = 0xAB;
    cmsg_delta_ent e = delta(7, 300, 100, &v);
    assert_int_equal(dpend_put(&d, &e), DVM_OK);
    uint8_t page[CMSG_PAGE];
    memset(page, 1, sizeof page);
    cmsg_tag other = e.tag;
    other.attempt = 1;
    assert_int_equal(dpend_apply(&d, &other, 300, page), 0);
    assert_int_equal(dpend_apply(&d, &e.tag, 301, page), 0);
    assert_int_equal(page[100], 1);
    assert_int_equal(dpend_apply(&d, &e.tag, 300, page), 1);
    assert_int_equal(page[100], 0xAB);
    assert_int_equal(page[99], 1);
    assert_int_equal(page[101], 1);
    assert_int_equal(dpend_apply(&d, &e.tag, 300, page), 0);
    dpend_free(&d);
}

static void test_newest_wins(void **state)
{
    (void)state;
    dpend d;
    assert_int_equal(dpend_init(&d), DVM_OK);
    static const uint8_t a = 1, b = 2;
    cmsg_delta_ent e = delta(7, 300, 5, &a);
    assert_int_equal(dpend_put(&d, &e), DVM_OK);
    e = delta(7, 300, 5, &b);
    assert_int_equal(dpend_put(&d, &e), DVM_OK);
    uint8_t page[CMSG_PAGE] = { 0 };
    assert_int_equal(dpend_apply(&d, &e.tag, 300, page), 1);
    assert_int_equal(page[5], 2);
    /* The older copy went with it. */
    assert_int_equal(d.count, 0);
    assert_int_equal(d.dropped, 1);
    assert_int_equal(dpend_apply(&d, &e.tag, 300, page), 0);
    dpend_free(&d);
}

static void test_oldest_pushed_out(void **state)
{
    (void)state;
    dpend d;
    assert_int_equal(dpend_init(&d), DVM_OK);
    static const uint8_t v = 9;
    for (uint64_t i = 0; i < DPEND_MAX + 2; i++) {
        cmsg_delta_ent e = delta(i, 300, 0, &v);
        assert_int_equal(dpend_put(&d, &e), DVM_OK);
    }
    assert_int_equal(d.evicted, 2);
    uint8_t page[CMSG_PAGE] = { 0 };
    cmsg_tag t = { 1, 0, 1, 1, 0 };
    assert_int_equal(dpend_apply(&d, &t, 300, page), 0);
    t.rid = 2;
    assert_int_equal(dpend_apply(&d, &t, 300, page), 1);
    t.rid = DPEND_MAX + 1;
    assert_int_equal(dpend_apply(&d, &t, 300, page), 1);
    dpend_clear(&d);
    assert_int_equal(d.count, 0);
    dpend_free(&d);
}

/* Held (a masks-only program): nothing is pushed out, the set grows;
 * a dropped tag's deltas go, both forms; applying one form of a delta
 * makes its other form, sent beside it, go too. */
static void test_held_not_pushed_out(void **state)
{
    (void)state;
    dpend d;
    assert_int_equal(dpend_init(&d), DVM_OK);
    dpend_hold(&d, 1);
    static const uint8_t v = 9;
    for (uint64_t i = 0; i < 2 * DPEND_MAX + 3; i++) {
        cmsg_delta_ent e = delta(i, 300, 0, &v);
        assert_int_equal(dpend_put(&d, &e), DVM_OK);
    }
    assert_int_equal(d.evicted, 0);
    uint8_t page[CMSG_PAGE] = { 0 };
    cmsg_tag t = { 1, 0, 1, 0, 0 };
    assert_int_equal(dpend_apply(&d, &t, 300, page), 1);     /* the oldest */
    t.rid = 5;
    assert_int_equal(dpend_drop(&d, &t), 1);
    assert_int_equal(dpend_apply(&d, &t, 300, page), 0);
    t.rid = 2 * DPEND_MAX + 2;
    assert_int_equal(dpend_apply(&d, &t, 300, page), 1);
    dpend_free(&d);
}

static void test_whole_and_bytes(void **state)
{
    (void)state;
    dpend d;
    assert_int_equal(dpend_init(&d), DVM_OK);
    dpend_hold(&d, 1);
    static uint8_t whole[CMSG_PAGE];
    static uint8_t all[8 * CMSG_MASK_WORDS];
    memset(whole, 7, sizeof whole);
    memset(all, 0xFF, sizeof all);
    static const uint8_t v = 3;
    for (uint64_t rid = 1; rid <= 3; rid++) {
        cmsg_delta_ent e = delta(rid, 300, 10, &v);
        assert_int_equal(dpend_put(&d, &e), DVM_OK);
        e.tag.attempt |= CMSG_TAG_WHOLE;
        e.mask = all;
        e.bytes = (cmsg_str){ whole, CMSG_PAGE };
        assert_int_equal(dpend_put(&d, &e), DVM_OK);
    }
    uint8_t page[CMSG_PAGE] = { 0 };
    cmsg_tag t = { 1, 0, 1, 2, 0 };
    assert_int_equal(dpend_apply(&d, &t, 300, page), 1);     /* bytes */
    assert_int_equal(page[10], 3);
    assert_int_equal(page[11], 0);
    t.attempt |= CMSG_TAG_WHOLE;
    assert_int_equal(dpend_apply(&d, &t, 300, page), 0);     /* gone */
    t.rid = 3;
    assert_int_equal(dpend_apply(&d, &t, 300, page), 1);     /* whole */
    assert_int_equal(page[11], 7);
    t.attempt = 0;
    assert_int_equal(dpend_apply(&d, &t, 300, page), 0);     /* gone */
    t.rid = 1;
    assert_int_equal(dpend_drop(&d, &t), 2);                 /* both */
    assert_int_equal(d.dropped, 2);
    dpend_free(&d);
}

static void count_ent(void *arg, const cmsg_delta_ent *e)
{
    uint64_t *sum = arg;
    *sum += e->page + (e->tag.attempt & CMSG_TAG_WHOLE ? 1000 : 0);
}

/* The resend walk (a node's own sent deltas, DRESEND): every delta of
 * the tag, both forms, none of another tag; nothing is taken away, and
 * after a drop (or an apply) nothing of it is walked. */
/* Held (masks only), a pair of forms sent twice (DRESEND) beside another
 * result's: applying the bytes takes all four of its deltas, and only
 * those. */
static void test_resent_pairs_go(void **state)
{
    (void)state;
    dpend d;
    assert_int_equal(dpend_init(&d), DVM_OK);
    dpend_hold(&d, 1);
    static uint8_t whole[CMSG_PAGE], all[8 * CMSG_MASK_WORDS];
    memset(all, 0xFF, sizeof all);
    static const uint8_t v = 9;
    for (int copy = 0; copy < 2; copy++) {
        cmsg_delta_ent e = delta(5, 40, 3, &v);
        assert_int_equal(dpend_put(&d, &e), DVM_OK);
        e.tag.attempt |= CMSG_TAG_WHOLE;
        e.mask = all;
        e.bytes = (cmsg_str){ whole, CMSG_PAGE };
        assert_int_equal(dpend_put(&d, &e), DVM_OK);
        e = delta(6, 40, 3, &v);
        assert_int_equal(dpend_put(&d, &e), DVM_OK);
    }
    uint8_t page[CMSG_PAGE] = { 0 };
    cmsg_tag t = { 1, 0, 1, 5, 0 };
    assert_int_equal(dpend_apply(&d, &t, 40, page), 1);
    assert_int_equal(page[3], 9);
    t.attempt |= CMSG_TAG_WHOLE;
    assert_int_equal(dpend_apply(&d, &t, 40, page), 0);
    t = (cmsg_tag){ 1, 0, 1, 6, 0 };
    uint64_t n = 0;
    assert_int_equal(dpend_each(&d, &t, count_ent, &n), 2);
    assert_int_equal(dpend_drop(&d, &t), 2);
    assert_int_equal(d.count, 0);
    dpend_free(&d);
}

static void test_each_for_resend(void **state)
{
    (void)state;
    dpend d;
    assert_int_equal(dpend_init(&d), DVM_OK);
    static const uint8_t v = 9;
    cmsg_delta_ent e = delta(7, 300, 1, &v);
    assert_int_equal(dpend_put(&d, &e), DVM_OK);
    e.tag.attempt |= CMSG_TAG_WHOLE;
    assert_int_equal(dpend_put(&d, &e), DVM_OK);
    e = delta(7, 301, 1, &v);
    assert_int_equal(dpend_put(&d, &e), DVM_OK);
    e = delta(8, 302, 1, &v);
    assert_int_equal(dpend_put(&d, &e), DVM_OK);
    cmsg_tag t = delta(7, 0, 0, &v).tag;
    uint64_t sum = 0;
    assert_int_equal(dpend_each(&d, &t, count_ent, &sum), 3);
    assert_int_equal(sum, 300 + 1300 + 301);
    sum = 0;
    assert_int_equal(dpend_each(&d, &t, count_ent, &sum), 3);  /* kept */
    uint8_t page[CMSG_PAGE] = { 0 };
    assert_int_equal(dpend_apply(&d, &t, 301, page), 1);
    sum = 0;
    assert_int_equal(dpend_each(&d, &t, count_ent, &sum), 2);
    assert_int_equal(sum, 300 + 1300);
    assert_int_equal(dpend_drop(&d, &t), 2);
    assert_int_equal(dpend_each(&d, &t, count_ent, &sum), 0);
    cmsg_tag o = delta(8, 0, 0, &v).tag;
    assert_int_equal(dpend_each(&d, &o, count_ent, &sum), 1);
    dpend_free(&d);
}

static void pages_of(void *arg, const cmsg_delta_ent *e)
{
    unsigned *seen = arg;
    *seen |= 1u << (e->page - 100);
}

/* The walk by tag (the ring) and the lookup by name (the index) see the
 * same set, through a ring that grows while held and one that pushes
 * the oldest out, after applies and drops: a page of a tag is walked
 * exactly when applying it finds it, and then neither sees it. */
static void test_each_agrees_with_index(void **state)
{
    (void)state;
    enum { N = 2 * DPEND_MAX + 6 };
    static const uint8_t v = 5;
    for (int held = 0; held <= 1; held++) {
        dpend d;
        assert_int_equal(dpend_init(&d), DVM_OK);
        dpend_hold(&d, held);
        for (uint64_t i = 0; i < N; i++) {
            cmsg_delta_ent e = delta(i / 2, 100 + i % 2, 0, &v);
            assert_int_equal(dpend_put(&d, &e), DVM_OK);
        }
        uint8_t page[CMSG_PAGE];
        for (uint64_t i = 0; i < N; i += 3) {   /* some applied, */
            cmsg_tag t = delta(i / 2, 0, 0, &v).tag;
            (void)dpend_apply(&d, &t, 100 + i % 2, page);
        }
        for (uint64_t r = 0; r < N / 2; r += 7) {   /* some dropped */
            cmsg_tag t = delta(r, 0, 0, &v).tag;
            (void)dpend_drop(&d, &t);
        }
        for (uint64_t r = 0; r < N / 2; r++) {
            cmsg_tag t = delta(r, 0, 0, &v).tag;
            unsigned seen = 0;
            size_t n = dpend_each(&d, &t, pages_of, &seen);
            assert_int_equal(n, __builtin_popcount(seen));
            for (unsigned p = 0; p < 2; p++)
                assert_int_equal(dpend_apply(&d, &t, 100 + p, page),
                                 (seen >> p) & 1);
            assert_int_equal(dpend_each(&d, &t, pages_of, &seen), 0);
        }
        assert_int_equal(d.count, 0);
        dpend_free(&d);
    }
}

/* Deltas added and then found in any order (a scrambled one, through a
 * ring that grows while held and through one that pushes the oldest
 * out), every fifth tag dropped on the way: each delta is applied once,
 * with its own bytes, unless pushed out or dropped, and the set ends
 * empty. */
static void test_any_order(void **state)
{
    (void)state;
    enum { N = 3 * DPEND_MAX };
    static uint8_t v[N];
    static uint8_t gone[N / 3];
    for (int held = 0; held <= 1; held++) {
        dpend d;
        assert_int_equal(dpend_init(&d), DVM_OK);
        dpend_hold(&d, held);
        memset(gone, 0, sizeof gone);
        for (uint64_t i = 0; i < N; i++) {
            v[i] = (uint8_t)(i * 7 + 1);
            cmsg_delta_ent e = delta(i / 3, 100 + i % 3, (unsigned)(i % 64),
                                     &v[i]);
            assert_int_equal(dpend_put(&d, &e), DVM_OK);
        }
        uint64_t first = held ? 0 : N - DPEND_MAX;  /* older: pushed out */
        uint64_t want = 0;
        for (uint64_t n = 0; n < N; n++) {
            uint64_t i = (n * 7919) % N;            /* 7919: prime to N */
            cmsg_tag t = { 1, 0, 1, i / 3, 0 };
            if ((i / 3) % 5 == 0 && !gone[i / 3]) {
                gone[i / 3] = 1;
                size_t kept = 0;
                for (uint64_t j = i / 3 * 3; j < i / 3 * 3 + 3; j++)
                    kept += j >= first;
                assert_int_equal(dpend_drop(&d, &t), kept);
            }
            uint8_t page[CMSG_PAGE] = { 0 };
            int ok = i >= first && !gone[i / 3];
            assert_int_equal(dpend_apply(&d, &t, 100 + i % 3, page), ok);
            assert_int_equal(page[i % 64], ok ? v[i] : 0);
            assert_int_equal(dpend_apply(&d, &t, 100 + i % 3, page), 0);
            want += ok;
        }
        assert_int_equal(d.applied, want);
        assert_int_equal(d.count, 0);
        dpend_free(&d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_once),
        cmocka_unit_test(test_newest_wins),
        cmocka_unit_test(test_oldest_pushed_out),
        cmocka_unit_test(test_held_not_pushed_out),
        cmocka_unit_test(test_whole_and_bytes),
        cmocka_unit_test(test_resent_pairs_go),
        cmocka_unit_test(test_each_for_resend),
        cmocka_unit_test(test_each_agrees_with_index),
        cmocka_unit_test(test_any_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
