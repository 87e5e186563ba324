/*
 * stacks_test.c -- the stack area allocator in isolation: placement of the
 * first stack, alignment and disjointness against a brute-force model
 * under random allocation and freeing, full coalescing, exhaustion and
 * reuse, owners, refusal of bad frees, and a long life of short-lived
 * stacks in an area that holds only a few at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "isa/isa.h"
#include "sched/stacks.h"

#define AREA 0x3E0000000000ULL
#define PG DISA_PAGE

static stacks *make(unsigned max_order)
{
    stacks *s;
    assert_int_equal(stacks_create(AREA, max_order, &s), DVM_OK);
    return s;
}

static uint64_t alloc_ok(stacks *s, unsigned order, uint32_t owner)
{
    uint64_t b = 0;
    assert_int_equal(stacks_alloc(s, order, owner, &b), DVM_OK);
    return b;
}

/* The first stack of a fresh area is its start (the first runner's stack,
 * 64 KiB at 0x3E0000000000, is allocated this way). */
static void test_first_stack(void **state)
{
    (void)state;
    stacks *s = make(28);
    assert_true(alloc_ok(s, 4, STACKS_RUNNER) == AREA);
    assert_true(stacks_in_use(s) == 16 * PG);
    assert_true(stacks_owned(s, AREA, 4, STACKS_RUNNER));
    assert_false(stacks_owned(s, AREA, 3, STACKS_RUNNER));
    assert_false(stacks_owned(s, AREA, 4, 1));
    uint64_t b = alloc_ok(s, 0, 1);
    assert_true(b >= AREA + 16 * PG && b < AREA + (PG << 28));
    assert_int_equal(stacks_free(s, AREA), DVM_OK);
    assert_int_equal(stacks_free(s, b), DVM_OK);
    assert_true(stacks_in_use(s) == 0);
    assert_int_equal(stacks_free_blocks(s), 1);      /* all merged back */
    stacks_destroy(s);
}

typedef struct live {
    uint64_t base, len;
} live;

/* Fails unless [b, b+len) is aligned to len, inside the area of max_order
 * and disjoint from the n live blocks. */
static void check_place(const live *v, size_t n, uint64_t b, uint64_t len,
                        unsigned max_order)
{
    assert_true(b >= AREA && b + len <= AREA + (PG << max_order));
    assert_true((b - AREA) % len == 0);
    for (size_t i = 0; i < n; i++)
        assert_true(b + len <= v[i].base || v[i].base + v[i].len <= b);
}

/* Random allocations and frees against a model of the live blocks; at
 * the end everything is freed and the area is one block again. */
static void test_random_model(void **state)
{
    (void)state;
    const unsigned max_order = 12;
    stacks *s = make(max_order);
    live v[4096];
    size_t n = 0;
    uint64_t used = 0;
    srand(7);
    for (int step = 0; step < 200000; step++) {
        if (n && (rand() % 2 || n == 4096)) {
            size_t k = (size_t)rand() % n;
            assert_int_equal(stacks_free(s, v[k].base), DVM_OK);
            used -= v[k].len;
            v[k] = v[--n];
            continue;
        }
        unsigned order = (unsigned)(rand() % 5);
        uint64_t b;
        dvm_status st = stacks_alloc(s, order, STACKS_RUNNER, &b);
        if (st) {
            assert_int_equal(st, DVM_ERANGE);
            continue;
        }
        check_place(v, n, b, PG << order, max_order);
        v[n++] = (live){ b, PG << order };
        used += PG << order;
        assert_true(stacks_in_use(s) == used);
    }
    while (n)
        assert_int_equal(stacks_free(s, v[--n].base), DVM_OK);
    assert_true(stacks_in_use(s) == 0);
    assert_int_equal(stacks_free_blocks(s), 1);
    stacks_destroy(s);
}

/* A full area refuses; a freed range is reused at once. */
static void test_exhaustion_and_reuse(void **state)
{
    (void)state;
    stacks *s = make(4);
    uint64_t b[16];
    for (int i = 0; i < 16; i++)
        b[i] = alloc_ok(s, 0, STACKS_RUNNER);
    uint64_t x;
    status_clear();
    assert_int_equal(stacks_alloc(s, 0, STACKS_RUNNER, &x), DVM_ERANGE);
    assert_non_null(strstr(status_message(), "stack area full"));
    assert_int_equal(stacks_alloc(s, 5, STACKS_RUNNER, &x), DVM_ERANGE);
    assert_int_equal(stacks_free(s, b[9]), DVM_OK);
    assert_true(alloc_ok(s, 0, STACKS_RUNNER) == b[9]);
    stacks_destroy(s);
}

/* Every other page free: no two-page range exists until a buddy frees. */
static void test_fragmentation(void **state)
{
    (void)state;
    stacks *s = make(6);
    uint64_t b[64], x;
    for (int i = 0; i < 64; i++)
        b[i] = alloc_ok(s, 0, STACKS_RUNNER);
    for (int i = 0; i < 64; i += 2)
        assert_int_equal(stacks_free(s, b[i]), DVM_OK);
    assert_int_equal(stacks_alloc(s, 1, STACKS_RUNNER, &x), DVM_ERANGE);
    int odd = 1;
    while ((b[odd] - AREA) / PG % 2 == 0)    /* a block whose buddy is free */
        odd += 2;
    assert_int_equal(stacks_free(s, b[odd]), DVM_OK);
    x = alloc_ok(s, 1, STACKS_RUNNER);
    assert_true(x == (b[odd] & ~(2 * PG - 1)));
    assert_int_equal(stacks_free(s, x), DVM_OK);
    for (int i = 1; i < 64; i += 2)
        if (i != odd)
            assert_int_equal(stacks_free(s, b[i]), DVM_OK);
    assert_true(alloc_ok(s, 6, STACKS_RUNNER) == AREA);
    stacks_destroy(s);
}

/* Owners: grants to RComps, handing one to a runner, freeing all of one
 * RComp's grants. */
static void test_owners(void **state)
{
    (void)state;
    stacks *s = make(20);
    uint64_t g1[8], g2[8];
    for (int i = 0; i < 8; i++) {
        g1[i] = alloc_ok(s, 2, 1);
        g2[i] = alloc_ok(s, 2, 2);
    }
    assert_int_equal(stacks_set_owner(s, g1[3], STACKS_RUNNER), DVM_OK);
    assert_true(stacks_owned(s, g1[3], 2, STACKS_RUNNER));
    assert_false(stacks_owned(s, g1[3], 2, 1));
    assert_int_equal(stacks_free_owner(s, 1), 7);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(stacks_owned(s, g1[i], 2, 1), 0);
        assert_true(stacks_owned(s, g2[i], 2, 2));
    }
    assert_true(stacks_owned(s, g1[3], 2, STACKS_RUNNER));
    assert_int_equal(stacks_free_owner(s, 2), 8);
    assert_int_equal(stacks_free_owner(s, 2), 0);
    assert_true(stacks_in_use(s) == 4 * PG);
    assert_true(stacks_owner_bytes(s, STACKS_RUNNER) == 4 * PG);
    assert_true(stacks_owner_bytes(s, 1) == 0);
    assert_int_equal(stacks_set_owner(s, g2[0], 3), DVM_EINVAL);
    stacks_destroy(s);
}

/* Retired blocks are not reusable until reclaimed with an epoch at
 * least theirs; reclaiming goes in retirement order. */
static void test_retire_reclaim(void **state)
{
    (void)state;
    stacks *s = make(2);                    /* four pages */
    uint64_t b[4], x;
    for (int i = 0; i < 4; i++)
        b[i] = alloc_ok(s, 0, STACKS_RUNNER);
    assert_int_equal(stacks_retire(s, b[0], 5, 0), DVM_OK);
    assert_int_equal(stacks_retire(s, b[1], 7, 0), DVM_OK);
    assert_int_equal(stacks_retire(s, b[1], 8, 0), DVM_EINVAL);   /* twice */
    assert_int_equal(stacks_retire(s, b[0] + 1, 8, 0), DVM_EINVAL);
    assert_true(stacks_owner_bytes(s, STACKS_LIMBO) == 2 * PG);
    assert_true(stacks_owner_bytes(s, STACKS_RUNNER) == 2 * PG);
    assert_int_equal(stacks_alloc(s, 0, STACKS_RUNNER, &x), DVM_ERANGE);
    assert_int_equal(stacks_reclaim(s, 4), 0);
    assert_int_equal(stacks_reclaim(s, 6), 1);
    assert_true(alloc_ok(s, 0, STACKS_RUNNER) == b[0]);
    assert_int_equal(stacks_reclaim(s, 100), 1);
    assert_int_equal(stacks_reclaim(s, 100), 0);
    assert_true(alloc_ok(s, 0, 1) == b[1]);
    assert_int_equal(stacks_retire(s, b[1], 9, 0), DVM_OK);   /* a grant too */
    assert_int_equal(stacks_free_owner(s, 1), 0);          /* not its any more */
    assert_int_equal(stacks_reclaim(s, 9), 1);
    assert_int_equal(stacks_free(s, b[0]), DVM_OK);
    assert_int_equal(stacks_free(s, b[2]), DVM_OK);
    assert_int_equal(stacks_free(s, b[3]), DVM_OK);
    assert_int_equal(stacks_free_blocks(s), 1);
    stacks_destroy(s);
}

/* A block retired with a home is free once reclaimed, and the next grant
 * to that home takes it first (the newest first), even when its buddy
 * has merged with it meanwhile; another owner's grants do not prefer it,
 * and a block another owner took is not given twice. */
static void test_reclaim_prefers_home(void **state)
{
    (void)state;
    stacks *s = make(4);                    /* sixteen pages */
    uint64_t v[6], x;
    for (int i = 0; i < 6; i++)
        v[i] = alloc_ok(s, 0, STACKS_RUNNER);
    assert_true(v[0] % (2 * PG) == 0 && v[1] == v[0] + PG);  /* buddies */
    assert_int_equal(stacks_retire(s, v[0], 3, 2), DVM_OK);
    assert_int_equal(stacks_retire(s, v[1], 3, 2), DVM_OK);
    assert_int_equal(stacks_retire(s, v[3], 4, 2), DVM_OK);
    assert_int_equal(stacks_retire(s, v[4], 4, 3), DVM_OK);
    assert_int_equal(stacks_retire(s, v[5], 4, 0), DVM_OK);
    assert_int_equal(stacks_reclaim(s, 5), 5);
    assert_true(stacks_owner_bytes(s, STACKS_LIMBO) == 0);
    /* Home 2: v[3], then v[1] split out of the merged pair, then v[0]. */
    assert_true(alloc_ok(s, 0, 2) == v[3]);
    assert_true(alloc_ok(s, 0, 2) == v[1]);
    assert_true(alloc_ok(s, 0, 2) == v[0]);
    /* Home 3's newest block, taken by another owner first: not given
     * again; the older one is. */
    assert_int_equal(stacks_retire(s, v[2], 6, 3), DVM_OK);
    assert_int_equal(stacks_reclaim(s, 6), 1);
    assert_int_equal(stacks_claim(s, v[2], 0, STACKS_RUNNER), DVM_OK);
    assert_true(alloc_ok(s, 0, 3) == v[4]);
    x = alloc_ok(s, 0, 3);
    assert_true(x != v[2] && x != v[4]);
    uint64_t r = v[2];
    /* Losing the home forgets its preferences. */
    assert_int_equal(stacks_free_owner(s, 2), 3);
    assert_int_equal(stacks_free_owner(s, 3), 2);
    assert_int_equal(stacks_free(s, r), DVM_OK);
    assert_int_equal(stacks_free_blocks(s), 1);             /* whole again */
    stacks_destroy(s);
}

/* Frees of anything but an allocated block's start are refused and
 * change nothing. */
/* A saved block claimed again at its own address, in a fresh area and
 * beside others; a taken, misaligned or outside block is refused. */
static void test_claim(void **state)
{
    (void)state;
    stacks *s = make(10);
    assert_int_equal(stacks_claim(s, AREA + 12 * PG, 2, STACKS_RUNNER),
                     DVM_OK);
    assert_true(stacks_owned(s, AREA + 12 * PG, 2, STACKS_RUNNER));
    assert_int_equal(stacks_claim(s, AREA + 12 * PG, 2, STACKS_RUNNER),
                     DVM_EINVAL);
    assert_int_equal(stacks_claim(s, AREA + 13 * PG, 0, STACKS_RUNNER),
                     DVM_EINVAL);
    assert_int_equal(stacks_claim(s, AREA + 2 * PG, 2, STACKS_RUNNER),
                     DVM_EINVAL);
    assert_int_equal(stacks_claim(s, AREA + (1024 + 4) * PG, 2,
                                  STACKS_RUNNER), DVM_EINVAL);
    assert_int_equal(stacks_claim(s, AREA, 0, STACKS_RUNNER), DVM_OK);
    assert_int_equal(stacks_in_use(s), 5 * PG);
    /* Everything else is still there for the allocator. */
    uint64_t b = alloc_ok(s, 2, STACKS_RUNNER);
    assert_true(b != AREA + 12 * PG && b != AREA);
    assert_int_equal(stacks_free(s, AREA + 12 * PG), DVM_OK);
    assert_int_equal(stacks_free(s, AREA), DVM_OK);
    assert_int_equal(stacks_free(s, b), DVM_OK);
    assert_int_equal(stacks_free_blocks(s), 1);
    stacks_destroy(s);
}

static void test_bad_frees(void **state)
{
    (void)state;
    stacks *s = make(10);
    uint64_t b = alloc_ok(s, 3, STACKS_RUNNER);
    const uint64_t bad[] = { b + PG, b + 1, AREA - PG, AREA + (PG << 10),
                             0, UINT64_MAX, b + 8 * PG };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(stacks_free(s, bad[i]), DVM_EINVAL);
    assert_true(stacks_in_use(s) == 8 * PG);
    assert_int_equal(stacks_free(s, b), DVM_OK);
    assert_int_equal(stacks_free(s, b), DVM_EINVAL);     /* double free */
    assert_int_equal(stacks_free_blocks(s), 1);
    stacks_destroy(s);
}

/* A program's life: a million short-lived stacks of mixed sizes in an area
 * that holds 64 pages, a few alive at a time -- far more than the area
 * could hold if nothing were reused. */
static void test_long_life(void **state)
{
    (void)state;
    stacks *s = make(6);
    uint64_t ring[4] = { 0 };
    for (int i = 0; i < 1000000; i++) {
        uint64_t *slot = &ring[i % 4];
        if (*slot)
            assert_int_equal(stacks_free(s, *slot), DVM_OK);
        *slot = alloc_ok(s, (unsigned)(i % 4), STACKS_RUNNER);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(stacks_free(s, ring[i]), DVM_OK);
    assert_int_equal(stacks_free_blocks(s), 1);
    stacks_destroy(s);
}

/* The table grows past its first size with many live blocks. */
static void test_many_blocks(void **state)
{
    (void)state;
    stacks *s = make(28);
    enum { N = 100000 };
    uint64_t *b = malloc(N * sizeof *b);
    assert_non_null(b);
    for (int i = 0; i < N; i++)
        b[i] = alloc_ok(s, (unsigned)(i % 3), 1 + (uint32_t)(i % 5));
    for (int i = 0; i < N; i++)
        assert_true(stacks_owned(s, b[i], (unsigned)(i % 3),
                                 1 + (uint32_t)(i % 5)));
    for (uint32_t o = 1; o <= 5; o++)
        assert_int_equal(stacks_free_owner(s, o), N / 5);
    assert_int_equal(stacks_free_blocks(s), 1);
    free(b);
    stacks_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_stack),
        cmocka_unit_test(test_random_model),
        cmocka_unit_test(test_exhaustion_and_reuse),
        cmocka_unit_test(test_fragmentation),
        cmocka_unit_test(test_owners),
        cmocka_unit_test(test_bad_frees),
        cmocka_unit_test(test_claim),
        cmocka_unit_test(test_retire_reclaim),
        cmocka_unit_test(test_reclaim_prefers_home),
        cmocka_unit_test(test_long_life),
        cmocka_unit_test(test_many_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
