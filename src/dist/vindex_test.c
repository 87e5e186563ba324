/*
 * vindex_test.c -- the master's index of homed versions: new versions go
 * to their two holders; when a node is lost every version it held gets a
 * new holder and the others are untouched; a node joining takes over
 * regions (stored there, dropped at the node that gave them up); dead
 * versions are dropped at their holders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dist/vindex.h"

#define PAGES 200

/* Copies per (node, version) as the callbacks left them. */
typedef struct world {
    uint8_t held[8][PAGES];
    size_t stores, drops, lost;
    uint64_t dead_below;        /* pages below this are dead */
} world;

static void w_store(void *arg, uint64_t node, uint64_t page, uint64_t epoch)
{
    world *w = arg;
    (void)epoch;
    assert_int_equal(w->held[node][page / HOME_REGION_PAGES], 0);
    w->held[node][page / HOME_REGION_PAGES] = 1;
    w->stores++;
}

static void w_drop(void *arg, uint64_t node, uint64_t page, uint64_t epoch)
{
    world *w = arg;
    (void)epoch;
    assert_int_equal(w->held[node][page / HOME_REGION_PAGES], 1);
    w->held[node][page / HOME_REGION_PAGES] = 0;
    w->drops++;
}

static int w_alive(void *arg, uint64_t page, uint64_t epoch)
{
    (void)epoch;
    return page / HOME_REGION_PAGES >= ((world *)arg)->dead_below;
}

static void w_lost(void *arg, uint64_t page, uint64_t epoch)
{
    (void)page;
    (void)epoch;
    ((world *)arg)->lost++;
}

/* Every version is held exactly by its holders among ids. */
static void check(const world *w, const uint64_t *ids, size_t n)
{
    for (uint64_t pg = 0; pg < PAGES; pg++) {
        uint64_t h[HOME_COPIES];
        size_t k = home_pick(pg * HOME_REGION_PAGES, ids, n, h);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(w->held[ids[i]][pg],
                             home_has(h, k, ids[i]) && pg >= w->dead_below);
    }
}

static void test_place_lose_join_gc(void **state)
{
    (void)state;
    static world w;
    vindex_ops ops = { w_store, w_drop, w_alive, w_lost, &w };
    vindex x;
    vindex_init(&x);
    uint64_t ids[] = { 1, 2, 3, 4 };
    vindex_set_nodes(&x, ids, 4, &ops);
    for (uint64_t pg = 0; pg < PAGES; pg++)
        assert_int_equal(vindex_add(&x, pg * HOME_REGION_PAGES, 9, &ops),
                         DVM_OK);
    assert_int_equal(w.stores, 2 * PAGES);
    check(&w, ids, 4);
    /* Node 2 is lost: its copies are gone with it. */
    memset(w.held[2], 0, sizeof w.held[2]);
    uint64_t left[] = { 1, 3, 4 };
    size_t before = w.stores;
    vindex_set_nodes(&x, left, 3, &ops);
    check(&w, left, 3);
    assert_int_equal(w.drops, 0);
    assert_true(w.stores - before > PAGES / 4);
    assert_true(w.stores - before < PAGES);
    /* Node 5 joins: it takes regions, which the others then drop. */
    uint64_t more[] = { 1, 3, 4, 5 };
    vindex_set_nodes(&x, more, 4, &ops);
    check(&w, more, 4);
    assert_true(w.drops > 0);
    /* Collection. */
    w.dead_below = PAGES / 2;
    vindex_gc(&x, &ops);
    check(&w, more, 4);
    assert_int_equal(x.n, PAGES / 2);
    vindex_free(&x);
}

static void test_single_node(void **state)
{
    (void)state;
    static world w;
    vindex_ops ops = { w_store, w_drop, w_alive, w_lost, &w };
    vindex x;
    vindex_init(&x);
    assert_int_equal(vindex_add(&x, 5 * HOME_REGION_PAGES, 1, &ops), DVM_OK);  /* no nodes */
    assert_int_equal(x.n, 0);
    uint64_t one = 1;
    vindex_set_nodes(&x, &one, 1, &ops);
    assert_int_equal(vindex_add(&x, 5 * HOME_REGION_PAGES, 1, &ops), DVM_OK);
    assert_int_equal(x.e[0].nhold, 1);      /* no backup */
    assert_int_equal(w.stores, 1);
    vindex_free(&x);
}

static void count(void *arg, uint64_t page, uint64_t epoch)
{
    (void)page;
    (void)epoch;
    (*(size_t *)arg)++;
}

/* Acknowledgements: a version is replicated once both holders said so;
 * a holder lost takes its acknowledgement with it; both holders lost at
 * once is reported. */
static void test_ack_and_lost(void **state)
{
    (void)state;
    static world w;
    vindex_ops ops = { w_store, w_drop, w_alive, w_lost, &w };
    vindex x;
    vindex_init(&x);
    uint64_t ids[] = { 1, 2, 3 };
    vindex_set_nodes(&x, ids, 3, &ops);
    for (uint64_t pg = 0; pg < 50; pg++)
        vindex_add(&x, pg * HOME_REGION_PAGES, 4, &ops);
    vindex_add(&x, 0, 4, &ops);                 /* known: nothing */
    assert_int_equal(x.n, 50);
    size_t rep = 0;
    for (uint64_t pg = 0; pg < 50; pg++) {
        const vindex_ent *e = &x.e[pg];
        assert_int_equal(vindex_ack(&x, 9, e->page, 4), 0);    /* no holder */
        assert_int_equal(vindex_ack(&x, e->hold[0], e->page, 4), 0);
        assert_int_equal(vindex_ack(&x, e->hold[1], e->page, 4), 1);
        assert_int_equal(vindex_ack(&x, e->hold[1], e->page, 4), 0);
    }
    assert_int_equal(vindex_ack(&x, 1, 0, 5), 0);  /* unknown version */
    vindex_each_replicated(&x, count, &rep);
    assert_int_equal(rep, 50);
    /* Node 3 lost: the versions it held are not replicated until their
     * new holder acknowledges. */
    uint64_t left[] = { 1, 2 };
    memset(w.held[3], 0, sizeof w.held[3]);
    vindex_set_nodes(&x, left, 2, &ops);
    rep = 0;
    vindex_each_replicated(&x, count, &rep);
    assert_true(rep < 50);
    assert_int_equal(w.lost, 0);
    /* Both remaining lost at once: every version is lost. */
    uint64_t other = 7;
    vindex_set_nodes(&x, &other, 1, &ops);
    assert_int_equal(w.lost, 50);
    vindex_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_place_lose_join_gc),
        cmocka_unit_test(test_single_node),
        cmocka_unit_test(test_ack_and_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
