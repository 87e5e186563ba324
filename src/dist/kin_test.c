/*
 * kin_test.c -- runner identities (the same task round after round is
 * one identity; another chunk, entry point or no heap is not) and a
 * node's table of them (remembered, forgotten on collision and clear).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dist/kin.h"

/* A runner of entry fi whose heap ranges are heap[0, n). */
static runner_desc desc(uint64_t fi, dvm_range *heap, uint32_t n)
{
    return (runner_desc){ .sb = 0x30000, .ss = 16, .fi = fi, .nheap = n,
                          .heap = heap };
}

static void test_identity(void **state)
{
    (void)state;
    /* k-means' assign runner of chunk w: its partial sums, 640 bytes a
     * chunk (six chunks share a page), and its done flag. */
    dvm_range a[2] = { { 0x100000000 + 640 * 3, 640 }, { 0x200000000 + 24, 8 } };
    dvm_range b[2] = { { 0x100000000 + 640 * 3, 640 }, { 0x200000000 + 24, 8 } };
    dvm_range c[2] = { { 0x100000000 + 640 * 4, 640 }, { 0x200000000 + 32, 8 } };
    runner_desc r1 = desc(0x4000, a, 2), r2 = desc(0x4000, b, 2);
    r2.sb = 0x50000;            /* another round's stack: the same task */
    runner_desc other_chunk = desc(0x4000, c, 2);
    runner_desc other_entry = desc(0x4100, a, 2);
    runner_desc no_heap = desc(0x4000, NULL, 0);
    uint64_t id = kin_identity(&r1);
    assert_int_not_equal(id, 0);
    assert_int_equal(kin_identity(&r2), id);
    assert_int_not_equal(kin_identity(&other_chunk), id);
    assert_int_not_equal(kin_identity(&other_entry), id);
    assert_int_equal(kin_identity(&no_heap), 0);
}

static void test_table(void **state)
{
    (void)state;
    static kin_table t;
    kin_clear(&t);
    dvm_range h[64];
    uint64_t id[64];
    for (int w = 0; w < 64; w++) {
        h[w] = (dvm_range){ 0x100000000 + 640 * (uint64_t)w, 640 };
        runner_desc d = desc(0x4000, &h[w], 1);
        id[w] = kin_identity(&d);
        assert_false(kin_has(&t, id[w]));
    }
    for (int w = 0; w < 64; w += 2)
        kin_note(&t, id[w]);
    int kept = 0, odd = 0;
    for (int w = 0; w < 64; w++) {
        kept += w % 2 == 0 && kin_has(&t, id[w]);
        odd += w % 2 == 1 && kin_has(&t, id[w]);
    }
    assert_int_equal(odd, 0);
    assert_true(kept >= 28);    /* 32 in 1024 entries: few collide */
    kin_clear(&t);
    for (int w = 0; w < 64; w++)
        assert_false(kin_has(&t, id[w]));
}

/* Two identities that pick the same entry: the later one wins. */
static void test_collision(void **state)
{
    (void)state;
    static kin_table t;
    kin_clear(&t);
    uint64_t x = 5ULL << 54 | 1, y = 5ULL << 54 | 2;
    kin_note(&t, x);
    assert_true(kin_has(&t, x));
    kin_note(&t, y);
    assert_true(kin_has(&t, y));
    assert_false(kin_has(&t, x));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_collision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
