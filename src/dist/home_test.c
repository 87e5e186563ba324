/*
 * home_test.c -- placement: two distinct holders from the live nodes,
 * the same for every page of a region, spread over the nodes, and a
 * node's loss or arrival moves only the regions it held or takes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dist/home.h"

static void test_pick_basic(void **state)
{
    (void)state;
    uint64_t h[HOME_COPIES];
    assert_int_equal(home_pick(7, NULL, 0, h), 0);
    uint64_t one = 42;
    assert_int_equal(home_pick(7, &one, 1, h), 1);
    assert_int_equal(h[0], 42);
    uint64_t ids[] = { 3, 9, 4, 11 };
    for (uint64_t pg = 0; pg < 4096; pg += 97) {
        assert_int_equal(home_pick(pg, ids, 4, h), 2);
        assert_int_not_equal(h[0], h[1]);
        assert_true(home_has(ids, 4, h[0]) && home_has(ids, 4, h[1]));
        /* The same holders for every page of the region, whatever the
         * order of the list. */
        uint64_t rev[] = { 11, 4, 9, 3 }, g[HOME_COPIES];
        uint64_t first = pg / HOME_REGION_PAGES * HOME_REGION_PAGES;
        home_pick(first + HOME_REGION_PAGES - 1, rev, 4, g);
        assert_int_equal(g[0], h[0]);
        assert_int_equal(g[1], h[1]);
    }
}

static void test_spread(void **state)
{
    (void)state;
    uint64_t ids[] = { 1, 2, 3, 4 }, h[HOME_COPIES];
    size_t homes[5] = { 0 };
    for (uint64_t r = 0; r < 4000; r++) {
        home_pick(r * HOME_REGION_PAGES, ids, 4, h);
        homes[h[0]]++;
    }
    for (int i = 1; i <= 4; i++)
        assert_true(homes[i] > 800 && homes[i] < 1200);
}

/* Removing node 3: a region keeps its holders unless 3 was one of them;
 * then the survivor moves up (a backup becomes the home) and the next
 * node becomes the backup.  Adding it back restores the old placement. */
static void test_loss_moves_only_its_regions(void **state)
{
    (void)state;
    uint64_t all[] = { 1, 2, 3, 4, 5 }, less[] = { 1, 2, 4, 5 };
    size_t moved = 0;
    for (uint64_t r = 0; r < 2000; r++) {
        uint64_t a[HOME_COPIES], b[HOME_COPIES];
        home_pick(r * HOME_REGION_PAGES, all, 5, a);
        home_pick(r * HOME_REGION_PAGES, less, 4, b);
        if (!home_has(a, 2, 3)) {
            assert_memory_equal(a, b, sizeof a);
            continue;
        }
        moved++;
        uint64_t kept = a[0] == 3 ? a[1] : a[0];
        assert_int_equal(b[0], kept);       /* the backup is the home */
        assert_int_not_equal(b[1], 3);
    }
    assert_true(moved > 2000 / 5 && moved < 2000 * 3 / 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick_basic),
        cmocka_unit_test(test_spread),
        cmocka_unit_test(test_loss_moves_only_its_regions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
