/*
 * rcb_test.c -- the ready queue's removal from the middle (locality takes a
 * runner behind the head): order, count and tail stay right; the cluster's
 * pick by affinity score (rcb_peek_preferred).  The
 * cluster's gate: runners wait for their commit to be stable, go in order
 * once it is, the snapshot epoch never goes back, and each runner a
 * release left waiting counts once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sched/rcb.h"

static void test_take_after(void **state)
{
    (void)state;
    rcb r[4] = { { .rid = 1 }, { .rid = 2 }, { .rid = 3 }, { .rid = 4 } };
    rcb_queue q = { 0 };
    for (int i = 0; i < 3; i++)
        rcb_push(&q, &r[i]);
    assert_ptr_equal(rcb_take_after(&q, &r[0]), &r[1]);    /* the middle */
    assert_int_equal(q.n, 2);
    assert_ptr_equal(rcb_take_after(&q, &r[0]), &r[2]);    /* the tail */
    assert_ptr_equal(q.tail, &r[0]);
    rcb_push(&q, &r[3]);                                    /* after it */
    assert_ptr_equal(r[0].next, &r[3]);
    assert_ptr_equal(rcb_take_after(&q, NULL), &r[0]);     /* the head */
    assert_ptr_equal(rcb_pop(&q), &r[3]);
    assert_null(rcb_pop(&q));
    assert_int_equal(q.n, 0);
    assert_null(q.tail);
}

/* rcb_peek_preferred's scores: by rid, from the table in arg. */
static int score_of(void *arg, const rcb *r)
{
    const int *score = arg;
    return score[r->rid];
}

/* The first of the highest score within the look, 2 ending the scan;
 * the head when nothing scores; order and tail kept. */
/* What dispatch does with rcb_peek_preferred: takes the record it names. */
static rcb *take_preferred(rcb_queue *q, size_t look,
                           int (*score)(void *arg, const rcb *r), void *arg)
{
    rcb *prev;
    rcb *r = rcb_peek_preferred(q, look, score, arg, &prev);
    return r ? rcb_take_after(q, prev) : NULL;
}

static void test_take_preferred(void **state)
{
    (void)state;
    rcb r[6];
    rcb_queue q = { 0 };
    for (int i = 0; i < 6; i++) {
        r[i] = (rcb){ .rid = (uint64_t)i };
        rcb_push(&q, &r[i]);
    }
    int score[6] = { 0, 1, 0, 2, 1, 2 };
    assert_ptr_equal(take_preferred(&q, 6, score_of, score), &r[3]);
    assert_ptr_equal(take_preferred(&q, 6, score_of, score), &r[5]);
    assert_ptr_equal(q.tail, &r[4]);
    assert_ptr_equal(take_preferred(&q, 6, score_of, score), &r[1]);
    int none[6] = { 0 };
    assert_ptr_equal(take_preferred(&q, 6, score_of, none), &r[0]);
    /* r[4] (score 1) is beyond a look of 1: the head goes. */
    assert_ptr_equal(take_preferred(&q, 1, score_of, score), &r[2]);
    assert_ptr_equal(take_preferred(&q, 1, score_of, score), &r[4]);
    assert_null(take_preferred(&q, 6, score_of, score));
    assert_int_equal(q.n, 0);
    assert_null(q.tail);
}

/* A runner the commit point makes ready in pool p. */
static rcb *made(rcb_pool *p)
{
    rcb *r = rcb_new(p);
    assert_non_null(r);
    rcb_push(p->made, r);
    return r;
}

static void test_gate(void **state)
{
    (void)state;
    rcb_pool p;
    rcb_pool_init(&p);
    rcb *z = made(&p);
    assert_ptr_equal(p.ready.head, z);              /* not gated */
    rcb_pool_gate(&p);
    rcb *a = made(&p), *b = made(&p);               /* by commits <= 3 */
    assert_int_equal(rcb_pool_release(&p, 2, 3), 2);    /* none stable */
    assert_int_equal(p.ready.n, 1);
    rcb *c = made(&p);                              /* by commits <= 5 */
    assert_int_equal(rcb_pool_release(&p, 4, 5), 4);    /* a and b go */
    assert_ptr_equal(p.ready.head->next, a);
    assert_ptr_equal(a->next, b);
    assert_ptr_equal(p.ready.tail, b);
    assert_int_equal(p.waited, 2);
    assert_ptr_equal(p.unstable.head, c);
    assert_int_equal(c->need, 5);
    rcb *d = made(&p);
    assert_int_equal(rcb_pool_release(&p, 1, 7), 4);    /* never lower */
    assert_int_equal(p.unstable.n, 2);
    assert_int_equal(d->need, 7);
    assert_int_equal(rcb_pool_release(&p, 7, 7), 7);    /* c, d: waited */
    assert_int_equal(p.waited, 4);
    assert_ptr_equal(p.ready.tail, d);
    assert_null(p.unstable.head);
    assert_null(p.tagged);
    rcb *e = made(&p);                              /* stable at once */
    assert_int_equal(rcb_pool_release(&p, 8, 8), 8);
    assert_int_equal(p.waited, 4);
    assert_ptr_equal(p.ready.tail, e);
    rcb *f = rcb_new(&p);                           /* the first runner */
    rcb_pool_hold(&p, f, 9);
    rcb *g = made(&p);
    assert_int_equal(rcb_pool_release(&p, 9, 10), 9);
    assert_ptr_equal(p.ready.tail, f);
    assert_ptr_equal(p.unstable.head, g);
    assert_int_equal(g->need, 10);
    assert_int_equal(p.ready.n, 7);
    rcb_pool_destroy(&p);
}

/* A conflicted attempt goes where runners made ready go (in a gated pool
 * it waits for the newest commit), and alone after the limit. */
static void test_retry(void **state)
{
    (void)state;
    rcb_pool p;
    rcb_pool_init(&p);
    rcb *r = rcb_new(&p);
    assert_non_null(r);
    rcb_pool_retry(&p, r, 3);
    assert_ptr_equal(rcb_pop(&p.ready), r);              /* not gated */
    rcb_pool_gate(&p);
    r->need = 1;                                    /* an old tag */
    rcb_pool_retry(&p, r, 3);
    assert_ptr_equal(p.unstable.head, r);
    assert_int_equal(r->attempt, 2);
    assert_int_equal(rcb_pool_release(&p, 8, 9), 8);
    assert_int_equal(r->need, 9);
    assert_null(p.ready.head);
    assert_int_equal(rcb_pool_release(&p, 9, 9), 9);
    assert_ptr_equal(rcb_pop(&p.ready), r);
    rcb_pool_retry(&p, r, 3);                       /* the limit */
    assert_ptr_equal(p.exclusive.head, r);
    assert_null(p.unstable.head);
    rcb_pool_destroy(&p);
}

/* Results pop the oldest, taking back pops the newest; both wrap. */
static void test_ring_both_ends(void **state)
{
    (void)state;
    rcb r[RCB_RING_MAX + 3];
    rcb_ring g = { .head = 0 };
    for (size_t i = 0; i < RCB_RING_MAX - 1; i++)
        rcb_ring_push(&g, &r[i]);
    for (size_t i = 0; i < RCB_RING_MAX - 2; i++)
        assert_ptr_equal(rcb_ring_pop(&g), &r[i]);
    rcb_ring_push(&g, &r[RCB_RING_MAX]);            /* wraps */
    rcb_ring_push(&g, &r[RCB_RING_MAX + 1]);
    assert_ptr_equal(rcb_ring_pop_newest(&g), &r[RCB_RING_MAX + 1]);
    assert_ptr_equal(rcb_ring_pop_newest(&g), &r[RCB_RING_MAX]);
    rcb_ring_push(&g, &r[RCB_RING_MAX + 2]);
    assert_int_equal(g.n, 2);
    assert_ptr_equal(rcb_ring_pop(&g), &r[RCB_RING_MAX - 2]);
    assert_ptr_equal(rcb_ring_pop_newest(&g), &r[RCB_RING_MAX + 2]);
    assert_null(rcb_ring_pop_newest(&g));
    assert_null(rcb_ring_pop(&g));
}

/* rcb_ring_take: the k-th oldest goes, across the wrap, the others in
 * their order. */
static void test_ring_take(void **state)
{
    (void)state;
    rcb r[6];
    rcb_ring g = { .head = RCB_RING_MAX - 2 };      /* wraps after 2 */
    for (size_t i = 0; i < 6; i++)
        rcb_ring_push(&g, &r[i]);
    assert_ptr_equal(rcb_ring_take(&g, 1), &r[1]);
    assert_ptr_equal(rcb_ring_take(&g, 3), &r[4]);
    assert_ptr_equal(rcb_ring_take(&g, 3), &r[5]);  /* the newest */
    assert_int_equal(g.n, 3);
    assert_ptr_equal(rcb_ring_pop(&g), &r[0]);
    assert_ptr_equal(rcb_ring_pop(&g), &r[2]);
    assert_ptr_equal(rcb_ring_take(&g, 0), &r[3]);
    assert_null(rcb_ring_pop(&g));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_after),
        cmocka_unit_test(test_take_preferred),
        cmocka_unit_test(test_gate),
        cmocka_unit_test(test_retry),
        cmocka_unit_test(test_ring_both_ends),
        cmocka_unit_test(test_ring_take),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
