/*
 * keep_test.c -- the kept-page set alone: merge (a page noted again takes
 * its new frame), marks and sweeps (one drop per run of consecutive pages),
 * lookups.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rcomp/keep.h"

typedef struct drops {
    uint64_t page[8], n[8];
    size_t k;
} drops;

static void note_drop(void *arg, uint64_t page, uint64_t n)
{
    drops *d = arg;
    assert_true(d->k < 8);
    d->page[d->k] = page;
    d->n[d->k++] = n;
}

static void test_merge_and_get(void **state)
{
    (void)state;
    rc_keep k = { 0 };
    uint32_t f;
    assert_int_equal(rc_keep_note(&k, 30, 3), DVM_OK);
    assert_int_equal(rc_keep_note(&k, 10, 1), DVM_OK);
    assert_int_equal(rc_keep_merge(&k), DVM_OK);
    assert_int_equal(k.n, 2);
    assert_int_equal(rc_keep_note(&k, 20, 2), DVM_OK);
    assert_int_equal(rc_keep_note(&k, 30, 9), DVM_OK);  /* entered again */
    assert_int_equal(rc_keep_merge(&k), DVM_OK);
    assert_int_equal(k.n, 3);
    assert_true(rc_keep_get(&k, 30, &f));
    assert_int_equal(f, 9);
    assert_true(rc_keep_get(&k, 10, &f));
    assert_int_equal(f, 1);
    assert_false(rc_keep_get(&k, 11, &f));
    for (size_t i = 1; i < k.n; i++)
        assert_true(k.v[i - 1].page < k.v[i].page);
    rc_keep_free(&k);
}

static void test_invalidate_and_sweep(void **state)
{
    (void)state;
    rc_keep k = { 0 };
    uint64_t pages[] = { 5, 6, 7, 9, 12, 13 };
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(rc_keep_note(&k, pages[i], (uint32_t)i), DVM_OK);
    assert_int_equal(rc_keep_merge(&k), DVM_OK);
    rc_keep_invalidate(&k, 6);
    rc_keep_invalidate(&k, 8);                  /* not kept: nothing */
    rc_keep_invalidate_range(&k, 7, 10);        /* 7, 9 */
    rc_keep_invalidate_range(&k, 13, 1ULL << 34);
    drops d = { .k = 0 };
    assert_int_equal(rc_keep_sweep(&k, note_drop, &d), 4);
    assert_int_equal(d.k, 3);                   /* 6-7, 9, 13 */
    assert_int_equal(d.page[0], 6);
    assert_int_equal(d.n[0], 2);
    assert_int_equal(d.page[1], 9);
    assert_int_equal(d.n[1], 1);
    assert_int_equal(d.page[2], 13);
    uint32_t f;
    assert_int_equal(k.n, 2);                   /* a stale page never stays */
    assert_false(rc_keep_get(&k, 6, &f));
    assert_false(rc_keep_get(&k, 9, &f));
    assert_true(rc_keep_get(&k, 12, &f));
    rc_keep_invalidate_all(&k);
    d.k = 0;
    assert_int_equal(rc_keep_sweep(&k, note_drop, &d), 2);
    assert_int_equal(k.n, 0);
    rc_keep_free(&k);
}

/* Merges and sweeps start where they change something (keep.c): a merge
 * of pages above the kept ones and a sweep whose first mark lies past the
 * front leave the entries below as they were, and the set stays sorted
 * and unique -- whatever order the marks came in. */
static void test_partial_merge_and_sweep(void **state)
{
    (void)state;
    rc_keep k = { 0 };
    uint32_t f;
    for (uint64_t p = 1; p <= 6; p++)
        assert_int_equal(rc_keep_note(&k, p * 10, (uint32_t)p), DVM_OK);
    assert_int_equal(rc_keep_merge(&k), DVM_OK);
    assert_int_equal(rc_keep_note(&k, 70, 7), DVM_OK);
    assert_int_equal(rc_keep_note(&k, 45, 4), DVM_OK);
    assert_int_equal(rc_keep_note(&k, 50, 8), DVM_OK);  /* entered again */
    assert_int_equal(rc_keep_note(&k, 45, 4), DVM_OK);  /* noted twice */
    assert_int_equal(rc_keep_merge(&k), DVM_OK);
    assert_int_equal(k.n, 8);                   /* 10..60, 45, 70 */
    for (size_t i = 1; i < k.n; i++)
        assert_true(k.v[i - 1].page < k.v[i].page);
    assert_true(rc_keep_get(&k, 50, &f));
    assert_int_equal(f, 8);
    rc_keep_invalidate(&k, 60);
    rc_keep_invalidate(&k, 30);                 /* lower than the first */
    rc_keep_invalidate(&k, 70);
    drops d = { .k = 0 };
    assert_int_equal(rc_keep_sweep(&k, note_drop, &d), 3);
    assert_int_equal(d.k, 3);
    assert_int_equal(d.page[0], 30);
    assert_int_equal(k.n, 5);                   /* 10, 20, 40, 45, 50 */
    uint64_t want[] = { 10, 20, 40, 45, 50 };
    for (size_t i = 0; i < k.n; i++) {
        assert_int_equal(k.v[i].page, want[i]);
        assert_int_equal(k.v[i].dead, 0);
    }
    rc_keep_invalidate(&k, 45);
    d.k = 0;
    assert_int_equal(rc_keep_sweep(&k, note_drop, &d), 1);
    assert_int_equal(k.n, 4);
    assert_true(rc_keep_get(&k, 10, &f));
    assert_false(rc_keep_get(&k, 45, &f));
    rc_keep_free(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_and_get),
        cmocka_unit_test(test_invalidate_and_sweep),
        cmocka_unit_test(test_partial_merge_and_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
