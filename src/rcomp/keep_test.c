/*
 * keep_test.c -- the kept-page set alone: merge (a page noted again takes
 * its new frame), marks and sweeps (one drop per run of consecutive pages),
 * lookups, and pages made current in place (update, stale, refresh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rcomp/keep.h"
#include "util/alloc.h"

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
    assert_true(rc_keep_get(&k, 20, &f));
    assert_int_equal(f, 2);
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

/* rc_keep_get_live answers only for a page neither marked dead nor stale
 * (its frame is then the version it holds), where rc_keep_get answers for
 * every kept page. */
static void test_get_live(void **state)
{
    (void)state;
    rc_keep k = { 0 };
    uint32_t f = 0;
    for (uint64_t p = 1; p <= 3; p++)
        assert_int_equal(rc_keep_note(&k, p, (uint32_t)p + 10), DVM_OK);
    assert_int_equal(rc_keep_merge(&k), DVM_OK);
    rc_keep_invalidate(&k, 1);
    rc_keep_stale_range(&k, 2, 3);
    assert_false(rc_keep_get_live(&k, 1, &f));
    assert_false(rc_keep_get_live(&k, 2, &f));
    assert_false(rc_keep_get_live(&k, 4, &f));
    assert_true(rc_keep_get(&k, 1, &f));
    assert_true(rc_keep_get_live(&k, 3, &f));
    assert_int_equal(f, 13);
    rc_keep_free(&k);
}

/* Merges and sweeps change only what they name: a page noted again
 * takes its new frame, a page noted twice is kept once, and a sweep
 * drops the marked pages in ascending order, whatever order the marks
 * came in, and leaves the others as they were. */
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
    assert_true(rc_keep_get(&k, 50, &f));
    assert_int_equal(f, 8);
    rc_keep_invalidate(&k, 60);
    rc_keep_invalidate(&k, 30);                 /* lower than the first */
    rc_keep_invalidate(&k, 70);
    drops d = { .k = 0 };
    assert_int_equal(rc_keep_sweep(&k, note_drop, &d), 3);
    assert_int_equal(d.k, 3);
    assert_int_equal(d.page[0], 30);
    assert_int_equal(d.page[1], 60);
    assert_int_equal(d.page[2], 70);
    assert_int_equal(k.n, 5);                   /* 10, 20, 40, 45, 50 */
    uint64_t want[] = { 10, 20, 40, 45, 50 };
    for (size_t i = 0; i < 5; i++) {
        assert_true(rc_keep_get(&k, want[i], &f));
        assert_int_equal(f, want[i] == 45 ? 4 : want[i] == 50 ? 8
                                                   : want[i] / 10);
    }
    assert_false(rc_keep_get(&k, 60, &f));
    rc_keep_invalidate(&k, 45);
    d.k = 0;
    assert_int_equal(rc_keep_sweep(&k, note_drop, &d), 1);
    assert_int_equal(k.n, 4);
    assert_true(rc_keep_get(&k, 10, &f));
    assert_false(rc_keep_get(&k, 45, &f));
    rc_keep_free(&k);
}

typedef struct copies {
    uint64_t page[8];
    uint32_t frame[8];
    size_t k;
} copies;

static void note_copy(void *arg, uint64_t page, uint32_t frame)
{
    copies *c = arg;
    assert_true(c->k < 8);
    c->page[c->k] = page;
    c->frame[c->k++] = frame;
}

/* Kept pages 10, 11, 12, 20 with frames 1, 2, 3, 4. */
static void four_kept(rc_keep *k)
{
    uint64_t pages[] = { 10, 11, 12, 20 };
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(rc_keep_note(k, pages[i], i + 1), DVM_OK);
    assert_int_equal(rc_keep_merge(k), DVM_OK);
}

/* A changed page with its new version's frame is copied over once, with
 * that frame, and stays with it; a written page (stale range) is copied
 * back from its own frame; a page not kept is ignored; a refresh leaves
 * nothing marked for the next one. */
static void test_update_and_refresh(void **state)
{
    (void)state;
    rc_keep k = { 0 };
    four_kept(&k);
    rc_keep_update(&k, 11, 9);
    rc_keep_update(&k, 11, 9);                  /* listed twice */
    rc_keep_update(&k, 15, 7);                  /* not kept */
    rc_keep_stale_range(&k, 11, 13);            /* 11 (listed), 12 */
    drops d = { .k = 0 };
    assert_int_equal(rc_keep_sweep(&k, note_drop, &d), 0);
    copies c = { .k = 0 };
    assert_int_equal(rc_keep_refresh(&k, note_copy, &c), 2);
    assert_int_equal(c.k, 2);
    assert_int_equal(c.page[0], 11);
    assert_int_equal(c.frame[0], 9);            /* the new version */
    assert_int_equal(c.page[1], 12);
    assert_int_equal(c.frame[1], 3);            /* its own base */
    uint32_t f;
    assert_true(rc_keep_get(&k, 11, &f));
    assert_int_equal(f, 9);
    assert_int_equal(k.n, 4);
    assert_int_equal(k.nstale, 0);
    c.k = 0;
    assert_int_equal(rc_keep_refresh(&k, note_copy, &c), 0);
    assert_int_equal(c.k, 0);
    rc_keep_free(&k);
}

/* Dead wins: a page marked stale and then invalidated (the next runner
 * declares it) is dropped by the sweep and never copied over. */
static void test_dead_wins_over_stale(void **state)
{
    (void)state;
    rc_keep k = { 0 };
    four_kept(&k);
    rc_keep_update(&k, 10, 5);
    rc_keep_stale_range(&k, 20, 21);
    rc_keep_invalidate(&k, 10);
    rc_keep_invalidate_range(&k, 20, 30);
    rc_keep_update(&k, 12, 6);                  /* after the marks too */
    rc_keep_invalidate(&k, 12);
    drops d = { .k = 0 };
    assert_int_equal(rc_keep_sweep(&k, note_drop, &d), 3);
    copies c = { .k = 0 };
    assert_int_equal(rc_keep_refresh(&k, note_copy, &c), 0);
    assert_int_equal(k.n, 1);                   /* 11 alone */
    uint32_t f;
    assert_true(rc_keep_get(&k, 11, &f));
    assert_int_equal(k.nstale, 0);
    rc_keep_free(&k);
}

/* A page whose own frame is no version (a chosen stack's first page)
 * stays only when the list named it: 10, listed, is copied over with the
 * listed frame; 11, not listed, is dropped; 30 is not kept at all. */
static void test_invalidate_unlisted(void **state)
{
    (void)state;
    rc_keep k = { 0 };
    four_kept(&k);
    rc_keep_update(&k, 10, 8);
    rc_keep_invalidate_unlisted(&k, 10);
    rc_keep_invalidate_unlisted(&k, 11);
    rc_keep_invalidate_unlisted(&k, 30);
    drops d = { .k = 0 };
    assert_int_equal(rc_keep_sweep(&k, note_drop, &d), 1);
    assert_int_equal(d.page[0], 11);
    copies c = { .k = 0 };
    assert_int_equal(rc_keep_refresh(&k, note_copy, &c), 1);
    assert_int_equal(c.page[0], 10);
    assert_int_equal(c.frame[0], 8);
    assert_int_equal(k.n, 3);
    rc_keep_free(&k);
}

/* A chosen stack's first page whose earlier version is known (it was
 * kept when the block was taken) is copied back to that version when the
 * list does not name it, and to the listed one when it does: 10, listed
 * with 8, gets 8; 11, not listed, gets back 4, its old version's frame;
 * 30 is not kept at all.  Nothing is dropped. */
static void test_restore_unlisted(void **state)
{
    (void)state;
    rc_keep k = { 0 };
    four_kept(&k);
    rc_keep_update(&k, 10, 8);
    rc_keep_restore_unlisted(&k, 10, 3);
    rc_keep_restore_unlisted(&k, 11, 4);
    rc_keep_restore_unlisted(&k, 30, 5);
    rc_keep_stale_range(&k, 10, 12);    /* the runner wrote both */
    drops d = { .k = 0 };
    assert_int_equal(rc_keep_sweep(&k, note_drop, &d), 0);
    copies c = { .k = 0 };
    assert_int_equal(rc_keep_refresh(&k, note_copy, &c), 2);
    assert_int_equal(c.page[0], 10);
    assert_int_equal(c.frame[0], 8);
    assert_int_equal(c.page[1], 11);
    assert_int_equal(c.frame[1], 4);
    uint32_t f;
    assert_true(rc_keep_get(&k, 11, &f) && f == 4);
    assert_int_equal(k.n, 4);
    rc_keep_free(&k);
}

/* A merge without memory for a larger table changes nothing: the set as
 * it was, the noted pages still noted, and a later merge takes them. */
static void test_merge_without_memory(void **state)
{
    (void)state;
    rc_keep k = { 0 };
    four_kept(&k);
    for (uint64_t p = 100; p < 200; p++)        /* past the first table */
        assert_int_equal(rc_keep_note(&k, p, (uint32_t)p), DVM_OK);
    if (!dvm_alloc_fail_from(1)) {
        rc_keep_free(&k);
        skip();                 /* a build without failure injection */
    }
    assert_int_equal(rc_keep_merge(&k), DVM_ENOMEM);
    dvm_alloc_fail_from(0);
    uint32_t f;
    assert_int_equal(k.n, 4);
    assert_int_equal(k.nadd, 100);
    assert_true(rc_keep_get(&k, 12, &f) && f == 3);
    assert_false(rc_keep_get(&k, 150, &f));
    assert_int_equal(rc_keep_merge(&k), DVM_OK);
    assert_int_equal(k.n, 104);
    assert_true(rc_keep_get(&k, 150, &f) && f == 150);
    assert_true(rc_keep_get(&k, 20, &f) && f == 4);
    rc_keep_free(&k);
}

/* The model of the differential test: page p (below MODEL_PAGES) kept
 * with frame[p] when kept[p]. */
#define MODEL_PAGES 4096
typedef struct model {
    uint8_t kept[MODEL_PAGES], dead[MODEL_PAGES];
    uint32_t frame[MODEL_PAGES];
    uint64_t dropped[MODEL_PAGES];
    size_t ndropped;
} model;

static void model_drop(void *arg, uint64_t page, uint64_t n)
{
    model *m = arg;
    assert_true(n > 0);
    if (m->ndropped)            /* ascending, and runs are maximal */
        assert_true(page > m->dropped[m->ndropped - 1] + 1);
    for (uint64_t p = page; p < page + n; p++) {
        assert_true(p < MODEL_PAGES && m->kept[p] && m->dead[p]);
        m->dropped[m->ndropped++] = p;
    }
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Thousands of pages through rounds of merges, marks (one page, ranges
 * small and larger than the table) and sweeps, checked against the model
 * after each round: the table's probing and its deletions lose nothing,
 * keep nothing dropped, and every page keeps its latest frame. */
static void test_against_model(void **state)
{
    (void)state;
    static model m;
    memset(&m, 0, sizeof m);
    rc_keep k = { 0 };
    uint64_t s = 88172645463325252ull;
    for (int round = 0; round < 400; round++) {
        int nnote = (int)(next_rand(&s) % 64);
        for (int i = 0; i < nnote; i++) {
            uint64_t p = next_rand(&s) % MODEL_PAGES;
            uint32_t f = (uint32_t)(next_rand(&s) % 100000) + 1;
            assert_int_equal(rc_keep_note(&k, p, f), DVM_OK);
            m.kept[p] = 1;
            m.frame[p] = f;
        }
        assert_int_equal(rc_keep_merge(&k), DVM_OK);
        int nmark = (int)(next_rand(&s) % 8);
        for (int i = 0; i < nmark; i++) {
            uint64_t lo = next_rand(&s) % MODEL_PAGES, hi = lo + 1;
            uint64_t kind = next_rand(&s) % 4;
            if (kind == 1)
                hi = lo + next_rand(&s) % 16;
            else if (kind == 2)                 /* wider than the table */
                hi = lo + k.cap + next_rand(&s) % 64;
            if (kind == 0)
                rc_keep_invalidate(&k, lo);
            else
                rc_keep_invalidate_range(&k, lo, hi);
            for (uint64_t p = lo; p < hi && p < MODEL_PAGES; p++)
                m.dead[p] |= m.kept[p];
        }
        m.ndropped = 0;
        size_t want = 0;
        for (size_t p = 0; p < MODEL_PAGES; p++)
            want += m.dead[p];
        assert_int_equal(rc_keep_sweep(&k, model_drop, &m), want);
        assert_int_equal(m.ndropped, want);
        size_t n = 0;
        for (size_t p = 0; p < MODEL_PAGES; p++) {
            if (m.dead[p])
                m.kept[p] = m.dead[p] = 0;
            uint32_t f = 0;
            int got = rc_keep_get(&k, p, &f);
            assert_int_equal(got, m.kept[p]);
            if (got)
                assert_int_equal(f, m.frame[p]);
            n += m.kept[p];
        }
        assert_int_equal(k.n, n);
    }
    rc_keep_free(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_and_get),
        cmocka_unit_test(test_get_live),
        cmocka_unit_test(test_invalidate_and_sweep),
        cmocka_unit_test(test_partial_merge_and_sweep),
        cmocka_unit_test(test_update_and_refresh),
        cmocka_unit_test(test_dead_wins_over_stale),
        cmocka_unit_test(test_invalidate_unlisted),
        cmocka_unit_test(test_restore_unlisted),
        cmocka_unit_test(test_merge_without_memory),
        cmocka_unit_test(test_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
