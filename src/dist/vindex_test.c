/*
 * vindex_test.c -- the master's index of homed versions: new versions go
 * to their two holders; when a node is lost every version it held gets a
 * new holder and the others are untouched; a node joining takes over
 * regions (stored there, dropped at the node that gave them up); dead
 * versions are dropped at their holders; the stable epoch waits for
 * every holder a commit's versions were sent to, the new holder of a
 * lost one included, and for no collected or unsent version.
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
    int refuse;                 /* stores are not sent */
} world;

static int w_store(void *arg, uint64_t node, uint64_t page, uint64_t epoch)
{
    world *w = arg;
    (void)epoch;
    assert_int_equal(w->held[node][page / HOME_REGION_PAGES], 0);
    w->held[node][page / HOME_REGION_PAGES] = 1;
    w->stores++;
    return !w->refuse;
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

/* Acks version i of the index at its holder j. */
static int ack_at(vindex *x, size_t i, uint32_t j, const vindex_ops *ops)
{
    return vindex_ack(x, x->e[i].hold[j], x->e[i].page, x->e[i].epoch, ops);
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
    /* Node 5 joins: it takes regions, which the others drop once every
     * holder keeps them (until then node 5 may have to fetch them). */
    uint64_t more[] = { 1, 3, 4, 5 };
    vindex_set_nodes(&x, more, 4, &ops);
    assert_int_equal(w.drops, 0);
    size_t taken = 0;
    for (size_t i = 0; i < x.n; i++) {
        taken += x.e[i].nformer;
        for (uint32_t j = 0; j < x.e[i].nhold; j++)
            (void)ack_at(&x, i, j, &ops);
    }
    assert_true(taken > 0);
    assert_int_equal(w.drops, taken);
    check(&w, more, 4);
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
        assert_int_equal(vindex_ack(&x, 9, e->page, 4, &ops), 0);    /* no holder */
        assert_int_equal(vindex_kept(&x, e->page, 4), 0);
        assert_int_equal(vindex_ack(&x, e->hold[0], e->page, 4, &ops), 0);
        assert_int_equal(vindex_kept(&x, e->page, 4), 1);  /* one holder */
        assert_int_equal(vindex_ack(&x, e->hold[1], e->page, 4, &ops), 1);
        assert_int_equal(vindex_ack(&x, e->hold[1], e->page, 4, &ops), 0);
    }
    assert_int_equal(vindex_ack(&x, 1, 0, 5, &ops), 0);  /* unknown */
    assert_int_equal(vindex_kept(&x, 0, 5), 0);
    vindex_each(&x, 1, count, &rep);
    assert_int_equal(rep, 50);
    /* Node 3 lost: the versions it held are not replicated until their
     * new holder acknowledges. */
    uint64_t left[] = { 1, 2 };
    memset(w.held[3], 0, sizeof w.held[3]);
    vindex_set_nodes(&x, left, 2, &ops);
    rep = 0;
    vindex_each(&x, 1, count, &rep);
    assert_true(rep < 50);
    size_t under = 0;
    vindex_each(&x, 0, count, &under);
    assert_int_equal(under, 50 - rep);
    assert_int_equal(w.lost, 0);
    /* Their new holders acknowledge: every version is replicated again. */
    for (size_t i = 0; i < x.n; i++)
        for (uint32_t j = 0; j < x.e[i].nhold; j++)
            (void)ack_at(&x, i, j, &ops);
    under = 0;
    vindex_each(&x, 0, count, &under);
    assert_int_equal(under, 0);
    /* Both remaining lost at once: every version is lost. */
    uint64_t other = 7;
    vindex_set_nodes(&x, &other, 1, &ops);
    assert_int_equal(w.lost, 50);
    vindex_free(&x);
}

static void test_stable(void **state)
{
    (void)state;
    static world w;
    vindex_ops ops = { w_store, w_drop, w_alive, w_lost, &w };
    vindex x;
    vindex_init(&x);
    assert_int_equal(vindex_stable(&x, 7), 7);          /* no nodes */
    vindex_add(&x, 0, 7, &ops);
    assert_int_equal(vindex_stable(&x, 7), 7);
    uint64_t ids[] = { 1, 2, 3 };
    vindex_set_nodes(&x, ids, 3, &ops);
    /* e[0], e[1]: epoch 8; e[2]: 9; e[3]: 10 */
    vindex_add(&x, 10 * HOME_REGION_PAGES, 8, &ops);
    vindex_add(&x, 11 * HOME_REGION_PAGES, 8, &ops);
    vindex_add(&x, 12 * HOME_REGION_PAGES, 9, &ops);
    vindex_add(&x, 13 * HOME_REGION_PAGES, 10, &ops);
    assert_int_equal(vindex_waiting(&x), 4);
    assert_int_equal(vindex_stable(&x, 10), 7);
    ack_at(&x, 0, 0, &ops);
    ack_at(&x, 0, 1, &ops);
    ack_at(&x, 1, 1, &ops);
    assert_int_equal(vindex_stable(&x, 10), 7);         /* e[1] half */
    ack_at(&x, 2, 0, &ops);
    ack_at(&x, 2, 1, &ops);                                   /* epoch 9 out of order */
    assert_int_equal(vindex_stable(&x, 10), 7);
    ack_at(&x, 1, 0, &ops);
    assert_int_equal(vindex_stable(&x, 10), 9);
    assert_int_equal(vindex_stable(&x, 8), 8);          /* not placed yet */
    /* e[3]'s first holder acks, then its other holder is lost: it waits
     * for its new holder. */
    ack_at(&x, 3, 0, &ops);
    uint64_t gone = x.e[3].hold[1], left[2];
    size_t nl = 0;
    for (size_t i = 0; i < 3; i++)
        if (ids[i] != gone)
            left[nl++] = ids[i];
    memset(w.held[gone], 0, sizeof w.held[gone]);
    vindex_set_nodes(&x, left, nl, &ops);
    assert_int_equal(vindex_stable(&x, 10), 9);
    for (uint32_t j = 0; j < x.e[3].nhold; j++)
        ack_at(&x, 3, j, &ops);
    assert_int_equal(vindex_stable(&x, 10), 10);
    assert_int_equal(vindex_waiting(&x), 0);
    /* A version collected before its acks waits no more. */
    vindex_add(&x, 14 * HOME_REGION_PAGES, 11, &ops);
    vindex_add(&x, 150 * HOME_REGION_PAGES, 12, &ops);
    assert_int_equal(vindex_stable(&x, 12), 10);
    w.dead_below = 100;
    vindex_gc(&x, &ops);
    assert_int_equal(vindex_stable(&x, 12), 11);
    /* A version that could not be sent is not waited for at that node. */
    w.refuse = 1;
    vindex_add(&x, 151 * HOME_REGION_PAGES, 13, &ops);
    assert_int_equal(vindex_stable(&x, 13), 11);
    w.refuse = 0;
    for (size_t i = 0; i < x.n; i++)
        for (uint32_t j = 0; j < x.e[i].nhold; j++)
            ack_at(&x, i, j, &ops);
    assert_int_equal(vindex_stable(&x, 13), 13);
    /* All the nodes lost: nothing can be waited for. */
    vindex_add(&x, 152 * HOME_REGION_PAGES, 14, &ops);
    assert_int_equal(vindex_stable(&x, 14), 13);
    vindex_set_nodes(&x, NULL, 0, &ops);
    assert_int_equal(vindex_stable(&x, 14), 14);
    vindex_clear(&x);
    assert_int_equal(vindex_waiting(&x), 0);
    vindex_free(&x);
}

static int s_store(void *arg, uint64_t node, uint64_t page, uint64_t epoch)
{
    (void)node;
    (void)page;
    (void)epoch;
    (*(size_t *)arg)++;
    return 1;
}

static int s_alive(void *arg, uint64_t page, uint64_t epoch)
{
    (void)arg;
    (void)page;
    (void)epoch;
    return 1;
}

/* A joined node takes a version from holders a and c; a, given up, is
 * not told to drop it while the joined node has not acknowledged it:
 * when c is lost then, the version is not lost (a still has it, and
 * holds it again), and a is told to drop it only when the holders it
 * went to all keep it. */
static void test_former_keeps(void **state)
{
    (void)state;
    static world w;
    vindex_ops ops = { w_store, w_drop, w_alive, w_lost, &w };
    vindex x;
    vindex_init(&x);
    uint64_t two[] = { 1, 2 };
    vindex_set_nodes(&x, two, 2, &ops);
    uint64_t page = 0, h[HOME_COPIES], three[] = { 1, 2, 3 };
    /* a page that node 3 takes from node 1 or 2 when it joins */
    for (;; page += HOME_REGION_PAGES) {
        assert_true(page < PAGES * HOME_REGION_PAGES);
        if (home_has(h, home_pick(page, three, 3, h), 3))
            break;
    }
    assert_int_equal(vindex_add(&x, page, 6, &ops), DVM_OK);
    ack_at(&x, 0, 0, &ops);
    ack_at(&x, 0, 1, &ops);
    uint64_t kept = home_has(h, HOME_COPIES, 1) ? 1 : 2;
    uint64_t given = kept == 1 ? 2 : 1;
    vindex_set_nodes(&x, three, 3, &ops);
    assert_int_equal(x.e[0].nformer, 1);
    assert_int_equal(x.e[0].former[0], given);
    assert_int_equal(w.drops, 0);
    assert_int_equal(vindex_kept_by(&x, page, 6, kept), 1);
    assert_int_equal(vindex_kept_by(&x, page, 6, 3), 0);
    /* The holder it kept is lost before node 3 acknowledged. */
    memset(w.held[kept], 0, sizeof w.held[kept]);
    uint64_t left[] = { given, 3 };
    w.held[given][page / HOME_REGION_PAGES] = 0;    /* stored anew */
    vindex_set_nodes(&x, left, 2, &ops);
    assert_int_equal(w.lost, 0);
    assert_int_equal(x.e[0].nformer, 0);
    assert_true(home_has(x.e[0].hold, x.e[0].nhold, given));
    /* A rejoins; the holders acknowledge; nothing waits to be dropped. */
    for (uint32_t j = 0; j < x.e[0].nhold; j++)
        ack_at(&x, 0, j, &ops);
    assert_int_equal(w.drops, 0);
    vindex_set_nodes(&x, three, 3, &ops);
    assert_int_equal(w.drops, 0);       /* kept until node 3 keeps it */
    ack_at(&x, 0, 0, &ops);
    ack_at(&x, 0, 1, &ops);
    assert_int_equal(w.drops, 1);
    assert_int_equal(x.e[0].nformer, 0);
    /* Holders and former holders all gone at once: lost. */
    uint64_t other = 7;
    vindex_set_nodes(&x, &other, 1, &ops);
    assert_int_equal(w.lost, 1);
    vindex_free(&x);
}

/* A former holder still there but not a holder again keeps a version
 * from being lost: a new holder that lacks it asks every node that homes
 * pages after its holders (dist/nhome.c, route_list).  Nodes 1-4; node 5
 * joins and takes the version from holder f; then its two holders are
 * lost at once while nodes 6 and 7 join, both ranked above f for the
 * page: not lost, f keeps its copy (until the version is collected, when
 * it is told to drop it with the holders).  (Until 2026-12-04 new
 * holders fetched from holders only, and this version was lost.) */
static void test_former_not_holder(void **state)
{
    (void)state;
    static world w;
    vindex_ops ops = { w_store, w_drop, w_alive, w_lost, &w };
    uint64_t four[] = { 1, 2, 3, 4 }, five[] = { 1, 2, 3, 4, 5 };
    uint64_t page = 0, f = 0, h4[HOME_COPIES], h5[HOME_COPIES];
    uint64_t after[5], h[HOME_COPIES];
    size_t na = 0;
    for (;; page += HOME_REGION_PAGES, na = 0) {
        assert_true(page < PAGES * HOME_REGION_PAGES);
        home_pick(page, four, 4, h4);
        home_pick(page, five, 5, h5);
        if (!home_has(h5, HOME_COPIES, 5))
            continue;
        f = home_has(h5, HOME_COPIES, h4[0]) ? h4[1] : h4[0];
        for (size_t i = 0; i < 5; i++)
            if (!home_has(h5, HOME_COPIES, five[i]))
                after[na++] = five[i];
        after[na++] = 6;
        after[na++] = 7;
        home_pick(page, after, na, h);
        if (!home_has(h, HOME_COPIES, f))
            break;
    }
    vindex x;
    vindex_init(&x);
    vindex_set_nodes(&x, four, 4, &ops);
    assert_int_equal(vindex_add(&x, page, 3, &ops), DVM_OK);
    vindex_set_nodes(&x, five, 5, &ops);
    assert_int_equal(x.e[0].nformer, 1);
    assert_int_equal(x.e[0].former[0], f);
    for (uint32_t j = 0; j < HOME_COPIES; j++)
        memset(w.held[h5[j]], 0, sizeof w.held[h5[j]]);
    vindex_set_nodes(&x, after, na, &ops);
    assert_int_equal(w.lost, 0);
    assert_int_equal(x.e[0].nformer, 1);        /* until it is collected */
    assert_int_equal(w.drops, 0);
    w.dead_below = PAGES;
    vindex_gc(&x, &ops);
    assert_int_equal(w.drops, HOME_COPIES + 1);     /* f with the holders */
    assert_int_equal(w.held[f][page / HOME_REGION_PAGES], 0);
    assert_int_equal(x.n, 0);
    vindex_free(&x);
}

/* One node: its ack alone makes the version stable. */
static void test_stable_single(void **state)
{
    (void)state;
    size_t stores = 0;
    vindex_ops ops = { s_store, NULL, s_alive, NULL, &stores };
    vindex x;
    vindex_init(&x);
    uint64_t one = 1;
    vindex_set_nodes(&x, &one, 1, &ops);
    for (uint64_t e = 1; e <= 3000; e++)
        vindex_add(&x, e * HOME_REGION_PAGES, e, &ops);
    assert_int_equal(vindex_stable(&x, 3000), 0);
    for (uint64_t e = 1; e <= 3000; e++)
        assert_int_equal(vindex_ack(&x, 1, e * HOME_REGION_PAGES, e, &ops), 0);
    assert_int_equal(vindex_stable(&x, 3000), 3000);
    assert_int_equal(stores, 3000);
    vindex_free(&x);
}

/* fn of vindex_each_only_at: counts and records the versions. */
typedef struct only_seen {
    size_t n;
    uint64_t page[4], epoch[4];
} only_seen;

static void only_at(void *arg, uint64_t page, uint64_t epoch)
{
    only_seen *o = arg;
    assert_true(o->n < 4);
    o->page[o->n] = page;
    o->epoch[o->n++] = epoch;
}

/* vindex_each_only_at names the versions a node acknowledged and no
 * other holder did: none before any ack, one while its other holder has
 * not acknowledged, none once it has, and none of a version the node
 * never acknowledged. */
static void test_only_at(void **state)
{
    (void)state;
    static world w;
    vindex_ops ops = { w_store, w_drop, w_alive, w_lost, &w };
    uint64_t two[] = { 1, 2 }, h[HOME_COPIES];
    vindex x;
    vindex_init(&x);
    vindex_set_nodes(&x, two, 2, &ops);
    assert_int_equal(vindex_add(&x, 0, 7, &ops), DVM_OK);
    assert_int_equal(vindex_add(&x, HOME_REGION_PAGES, 8, &ops), DVM_OK);
    home_pick(0, two, 2, h);
    only_seen o = { 0 };
    vindex_each_only_at(&x, h[0], only_at, &o);
    assert_int_equal(o.n, 0);
    (void)vindex_ack(&x, h[0], 0, 7, &ops);
    vindex_each_only_at(&x, h[0], only_at, &o);
    assert_int_equal(o.n, 1);
    assert_int_equal(o.page[0], 0);
    assert_int_equal(o.epoch[0], 7);
    o.n = 0;
    vindex_each_only_at(&x, h[1], only_at, &o);
    assert_int_equal(o.n, 0);
    (void)vindex_ack(&x, h[1], 0, 7, &ops);
    vindex_each_only_at(&x, h[0], only_at, &o);
    assert_int_equal(o.n, 0);
    vindex_free(&x);
}

/* vindex_release_replicated: only replicated versions are offered; one
 * whose release said 1 is never offered again, one that said 0 (the
 * master's copy could not go yet: its page's newest version) is offered
 * at the next call. */
typedef struct release_seen {
    size_t calls;
    uint64_t refuse_epoch;      /* release says 0 for this epoch */
} release_seen;

static int release(void *arg, uint64_t page, uint64_t epoch)
{
    release_seen *r = arg;
    (void)page;
    r->calls++;
    return epoch != r->refuse_epoch;
}

static void test_release_once(void **state)
{
    (void)state;
    static world w;
    vindex_ops ops = { w_store, w_drop, w_alive, w_lost, &w };
    uint64_t two[] = { 1, 2 };
    vindex x;
    vindex_init(&x);
    vindex_set_nodes(&x, two, 2, &ops);
    for (uint64_t e = 1; e <= 3; e++)
        assert_int_equal(vindex_add(&x, (e - 1) * HOME_REGION_PAGES, e, &ops),
                         DVM_OK);
    release_seen r = { 0, 2 };
    vindex_release_replicated(&x, release, &r);
    assert_int_equal(r.calls, 0);               /* none replicated */
    for (size_t i = 0; i < 2; i++) {            /* epochs 1 and 2 */
        (void)ack_at(&x, i, 0, &ops);
        assert_int_equal(ack_at(&x, i, 1, &ops), 1);
    }
    (void)ack_at(&x, 2, 0, &ops);               /* epoch 3: one copy */
    vindex_release_replicated(&x, release, &r);
    assert_int_equal(r.calls, 2);
    vindex_release_replicated(&x, release, &r);
    assert_int_equal(r.calls, 3);               /* epoch 2 again only */
    r.refuse_epoch = 0;
    vindex_release_replicated(&x, release, &r);
    assert_int_equal(r.calls, 4);
    vindex_release_replicated(&x, release, &r);
    assert_int_equal(r.calls, 4);               /* both released */
    assert_int_equal(ack_at(&x, 2, 1, &ops), 1);
    vindex_release_replicated(&x, release, &r);
    assert_int_equal(r.calls, 5);               /* epoch 3, now replicated */
    vindex_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_place_lose_join_gc),
        cmocka_unit_test(test_single_node),
        cmocka_unit_test(test_ack_and_lost),
        cmocka_unit_test(test_stable),
        cmocka_unit_test(test_stable_single),
        cmocka_unit_test(test_former_keeps),
        cmocka_unit_test(test_former_not_holder),
        cmocka_unit_test(test_only_at),
        cmocka_unit_test(test_release_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
