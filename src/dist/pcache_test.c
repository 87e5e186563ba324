/*
 * pcache_test.c -- the node's page cache: lookups by (page, epoch),
 * references, filling, forgetting, and eviction of unreferenced entries
 * only, with every frame back in the store at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dist/pcache.h"

static void test_get_fill_put(void **state)
{
    (void)state;
    mem_store *st;
    assert_int_equal(store_create(1024, &st), DVM_OK);
    pcache c;
    assert_int_equal(pcache_init(&c, st, 8), DVM_OK);
    uint32_t a, b;
    int created;
    assert_int_equal(pcache_get(&c, 100, 5, &a, &created), DVM_OK);
    assert_true(created);
    assert_false(c.e[a].filled);
    uint8_t page[STORE_FRAME_SIZE];
    memset(page, 0x5a, sizeof page);
    pcache_fill(&c, 100, 5, page);
    assert_true(c.e[a].filled);
    assert_memory_equal(store_frame(st, c.e[a].frame), page, sizeof page);
    /* Same name: the same entry; another epoch: another one. */
    assert_int_equal(pcache_get(&c, 100, 5, &b, &created), DVM_OK);
    assert_false(created);
    assert_int_equal(a, b);
    assert_int_equal(c.e[a].refs, 2);
    assert_int_equal(pcache_get(&c, 100, 6, &b, &created), DVM_OK);
    assert_true(created);
    assert_int_not_equal(a, b);
    /* An entry whose data never comes goes when its last user does. */
    pcache_fill(&c, 100, 6, NULL);
    pcache_put(&c, b);
    assert_int_equal(c.live, 1);
    assert_int_equal(pcache_get(&c, 100, 6, &b, &created), DVM_OK);
    assert_true(created);
    pcache_put(&c, b);
    pcache_put(&c, a);
    pcache_put(&c, a);
    assert_int_equal(c.live, 1);    /* filled entries stay cached */
    assert_int_equal(pcache_get(&c, 100, 5, &a, &created), DVM_OK);
    assert_false(created);
    pcache_put(&c, a);
    pcache_destroy(&c);
    assert_int_equal(store_in_use(st), 0);
    store_destroy(st);
}

/* A version asked for (pcache_asked) counts its wait once, when its data
 * arrives; one filled without a fetch (from the home store) counts
 * nothing, and a second mark keeps the first start. */
static void test_fetch_waits(void **state)
{
    (void)state;
    mem_store *st;
    assert_int_equal(store_create(64, &st), DVM_OK);
    pcache c;
    pcache_waits w = { { 0 }, 0 };
    assert_int_equal(pcache_init(&c, st, 8), DVM_OK);
    c.waits = &w;
    uint32_t a, b;
    int created;
    uint8_t page[STORE_FRAME_SIZE] = { 0 };
    assert_int_equal(pcache_get(&c, 1, 1, &a, &created), DVM_OK);
    assert_int_equal(pcache_get(&c, 2, 1, &b, &created), DVM_OK);
    pcache_asked(&c, 1, 1, 1);              /* long ago: above every bound */
    pcache_asked(&c, 1, 1, UINT64_MAX);     /* moved on: start kept */
    pcache_asked(&c, 9, 9, 1);              /* no such entry: nothing */
    pcache_fill(&c, 1, 1, page);
    pcache_fill(&c, 1, 1, page);            /* filled already: once */
    pcache_fill(&c, 2, 1, page);            /* not fetched: not counted */
    uint64_t n = 0;
    for (size_t k = 0; k < OBS_FETCH_WAIT_BUCKETS; k++)
        n += w.bucket[k];
    assert_int_equal(n, 1);
    assert_int_equal(w.bucket[OBS_FETCH_WAIT_BUCKETS - 1], 1);
    assert_true(w.sum_ns > 0);
    pcache_asked(&c, 1, 1, 5);              /* filled: no new mark */
    assert_int_equal(c.e[a].asked_ns, 1);
    pcache_put(&c, a);
    pcache_put(&c, b);
    pcache_destroy(&c);
    store_destroy(st);
}

static void test_evict_unreferenced(void **state)
{
    (void)state;
    mem_store *st;
    assert_int_equal(store_create(1024, &st), DVM_OK);
    pcache c;
    assert_int_equal(pcache_init(&c, st, 8), DVM_OK);
    uint8_t page[STORE_FRAME_SIZE] = { 1 };
    uint32_t idx[20];
    int created;
    for (uint64_t i = 0; i < 20; i++) {
        assert_int_equal(pcache_get(&c, i, 1, &idx[i], &created), DVM_OK);
        pcache_fill(&c, i, 1, page);
    }
    /* Referenced entries are never evicted, whatever the limit. */
    assert_int_equal(c.live, 20);
    for (uint64_t i = 0; i < 10; i++)
        pcache_put(&c, idx[i]);
    assert_true(c.live <= 10 + 8);
    for (uint64_t i = 10; i < 20; i++)
        assert_true(c.e[idx[i]].used && c.e[idx[i]].refs == 1);
    for (uint64_t i = 10; i < 20; i++)
        pcache_put(&c, idx[i]);
    assert_true(c.live <= 8);
    assert_true(c.evicted >= 12);
    pcache_destroy(&c);
    assert_int_equal(store_in_use(st), 0);
    store_destroy(st);
}

/* A cache without a limit (a home's store) grows its table as it fills:
 * every entry is still found after each doubling, a forgotten one is
 * not, and chains stay short. */
static void test_table_grows(void **state)
{
    (void)state;
    enum { N = 40000 };
    mem_store *st;
    assert_int_equal(store_create(N + 16, &st), DVM_OK);
    pcache c;
    assert_int_equal(pcache_init(&c, st, 0), DVM_OK);
    size_t first = c.nbucket;
    uint32_t idx, forgotten = 0;
    int created;
    uint8_t page[STORE_FRAME_SIZE];
    memset(page, 1, sizeof page);
    for (uint64_t i = 0; i < N; i++) {     /* 200 pages, many epochs */
        assert_int_equal(pcache_get(&c, 0x60000 + i % 200, i, &idx,
                                    &created), DVM_OK);
        assert_true(created);
        if (i == 7) {
            forgotten = idx;
            pcache_forget(&c, idx);     /* unlinked, still referenced */
            continue;
        }
        pcache_fill(&c, 0x60000 + i % 200, i, page);  /* kept, as a
                                                   home's store keeps them */
    }
    assert_true(c.nbucket >= first * 4 && c.live <= 2 * c.nbucket);
    size_t longest = 0;
    for (size_t b = 0; b < c.nbucket; b++) {
        size_t len = 0;
        for (uint32_t k = c.bucket[b]; k; k = c.e[k - 1].next)
            len++;
        longest = len > longest ? len : longest;
    }
    assert_true(longest < 16);
    for (uint64_t i = 0; i < N; i++)
        assert_int_equal(pcache_find(&c, 0x60000 + i % 200, i, &idx),
                         i != 7);
    assert_int_equal(c.e[forgotten].refs, 1);
    pcache_destroy(&c);
    assert_int_equal(store_in_use(st), 0);
    store_destroy(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_fill_put),
        cmocka_unit_test(test_evict_unreferenced),
        cmocka_unit_test(test_fetch_waits),
        cmocka_unit_test(test_table_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
