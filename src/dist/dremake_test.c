/*
 * dremake_test.c -- the master's watch over versions only their holders
 * can make: a version kept in time is never made again; one not kept is
 * made again when due, then after doubling waits up to the bound, with
 * its base and tag as noted; a look takes the due notes only, and the
 * queue stays in due order through looks and compaction; a cleared list
 * forgets everything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "dist/dremake.h"

#define MS 1000000ull

/* The fake master: versions with epoch <= kept_upto are kept; every
 * version made again is recorded. */
typedef struct fake {
    uint64_t kept_upto;
    dremake_ent made[64];
    size_t nmade;
} fake;

static int fake_state(void *arg, const dremake_ent *e)
{
    const fake *f = arg;
    return e->epoch <= f->kept_upto ? DREMAKE_DONE : DREMAKE_WAITS;
}

static void fake_remake(void *arg, const dremake_ent *e)
{
    fake *f = arg;
    assert_true(f->nmade < 64);
    f->made[f->nmade++] = *e;
}

static cmsg_tag tag(uint64_t rid)
{
    return (cmsg_tag){ 4, 1, 2, rid, CMSG_TAG_WHOLE | 3 };
}

static void test_kept_in_time(void **state)
{
    (void)state;
    fake f = { 0 };
    const dremake_ops ops = { fake_state, fake_remake, &f };
    dremake r;
    dremake_init(&r);
    cmsg_tag t = tag(9);
    for (uint64_t e = 1; e <= 5; e++)
        assert_int_equal(dremake_note(&r, 100 + e, e, e - 1, &t, 0), DVM_OK);
    assert_int_equal(dremake_run(&r, DREMAKE_FIRST_NS - 1, &ops), 0);
    assert_int_equal(dremake_count(&r), 5);
    f.kept_upto = 5;
    assert_int_equal(dremake_run(&r, 10 * DREMAKE_FIRST_NS, &ops), 0);
    assert_int_equal(dremake_count(&r), 0);
    assert_int_equal(f.nmade, 0);
    dremake_free(&r);
}

/* A version never kept is made again when due, with what was noted, and
 * then after 2, 4, 8... times the first wait, never more than the bound. */
static void test_made_again_backing_off(void **state)
{
    (void)state;
    fake f = { 0 };
    const dremake_ops ops = { fake_state, fake_remake, &f };
    dremake r;
    dremake_init(&r);
    cmsg_tag t = tag(7);
    uint64_t t0 = 1000 * MS;
    assert_int_equal(dremake_note(&r, 0x40001, 515, 480, &t, t0), DVM_OK);
    assert_int_equal(dremake_run(&r, t0 + DREMAKE_FIRST_NS - 1, &ops), 0);
    uint64_t now = t0 + DREMAKE_FIRST_NS;
    assert_int_equal(dremake_run(&r, now, &ops), 1);
    assert_int_equal(f.nmade, 1);
    assert_int_equal(f.made[0].page, 0x40001);
    assert_int_equal(f.made[0].epoch, 515);
    assert_int_equal(f.made[0].base, 480);
    assert_true(cmsg_tag_same(&f.made[0].tag, &t));
    uint64_t wait = 2 * DREMAKE_FIRST_NS;
    for (int k = 0; k < 8; k++) {
        assert_int_equal(dremake_run(&r, now + wait - 1, &ops), 0);
        now += wait;
        assert_int_equal(dremake_run(&r, now, &ops), 1);
        wait = wait * 2 > DREMAKE_WAIT_MAX_NS ? DREMAKE_WAIT_MAX_NS
                                              : wait * 2;
    }
    assert_int_equal(f.nmade, 9);
    assert_int_equal(r.again.v[r.again.head].wait_ns, DREMAKE_WAIT_MAX_NS);
    f.kept_upto = 515;          /* kept at last: forgotten */
    assert_int_equal(dremake_run(&r, now + 100 * DREMAKE_WAIT_MAX_NS, &ops),
                     0);
    assert_int_equal(dremake_count(&r), 0);
    dremake_free(&r);
}

/* A look takes the due notes only: the kept ones go, the others are
 * made again (in placement order) and wait at the back, behind the notes
 * not yet due; a cleared list forgets everything. */
static void test_due_only(void **state)
{
    (void)state;
    fake f = { 0 };
    const dremake_ops ops = { fake_state, fake_remake, &f };
    dremake r;
    dremake_init(&r);
    for (uint64_t e = 1; e <= 1000; e++) {
        cmsg_tag t = tag(e);
        assert_int_equal(dremake_note(&r, e % 7, e, 0, &t, e * MS), DVM_OK);
    }
    f.kept_upto = 990;
    assert_int_equal(dremake_run(&r, 995 * MS + DREMAKE_FIRST_NS, &ops), 5);
    assert_int_equal(dremake_count(&r), 10);
    for (size_t i = 0; i < f.nmade; i++)
        assert_int_equal(f.made[i].epoch, 991 + i);
    const dremake_queue *fq = &r.fresh, *aq = &r.again;
    assert_int_equal(fq->n - fq->head, 5);      /* 996..1000, not due */
    assert_int_equal(aq->n - aq->head, 5);      /* 991..995, made again */
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(fq->v[fq->head + i].epoch, 996 + i);
        assert_int_equal(aq->v[aq->head + i].epoch, 991 + i);
    }
    for (size_t i = aq->head + 1; i < aq->n; i++)
        assert_true(aq->v[i - 1].due_ns <= aq->v[i].due_ns);
    dremake_clear(&r);
    assert_int_equal(dremake_run(&r, UINT64_MAX / 2, &ops), 0);
    assert_int_equal(dremake_count(&r), 0);
    dremake_free(&r);
}

/* Notes made again in one look with different waits keep the queue in
 * due order: the shorter wait is not due before the longer one ahead of
 * it, and both are made again once that one is due. */
static void test_due_order_kept(void **state)
{
    (void)state;
    fake f = { 0 };
    const dremake_ops ops = { fake_state, fake_remake, &f };
    dremake r;
    dremake_init(&r);
    cmsg_tag t = tag(1);
    assert_int_equal(dremake_note(&r, 1, 1, 0, &t, 0), DVM_OK);
    uint64_t now = DREMAKE_FIRST_NS;
    for (int k = 0; k < 3; k++) {       /* note 1 waits 8x the first */
        assert_int_equal(dremake_run(&r, now, &ops), 1);
        now = r.again.v[r.again.head].due_ns;
    }
    assert_int_equal(dremake_note(&r, 2, 2, 0, &t, now - DREMAKE_FIRST_NS),
                     DVM_OK);
    assert_int_equal(dremake_run(&r, now, &ops), 2);
    assert_int_equal(dremake_count(&r), 2);
    const dremake_queue *q = &r.again;
    assert_int_equal(q->v[q->head].epoch, 1);
    assert_int_equal(q->v[q->head + 1].epoch, 2);
    assert_int_equal(q->v[q->head + 1].due_ns, q->v[q->head].due_ns);
    uint64_t due = q->v[q->head].due_ns;
    assert_int_equal(dremake_run(&r, due - 1, &ops), 0);
    assert_int_equal(dremake_run(&r, due, &ops), 2);
    dremake_free(&r);
}

/* A note made after another was made again (whose next look is later
 * than the new note's first) is looked at on time: the two waits do not
 * hold each other up.  (One queue for both hit its order assertion.) */
static void test_note_after_remake(void **state)
{
    (void)state;
    fake f = { 0 };
    const dremake_ops ops = { fake_state, fake_remake, &f };
    dremake r;
    dremake_init(&r);
    cmsg_tag t = tag(3);
    assert_int_equal(dremake_note(&r, 1, 1, 0, &t, 0), DVM_OK);
    assert_int_equal(dremake_run(&r, DREMAKE_FIRST_NS, &ops), 1);
    uint64_t t1 = DREMAKE_FIRST_NS + MS;        /* due at t1 + FIRST */
    assert_int_equal(dremake_note(&r, 2, 2, 1, &t, t1), DVM_OK);
    assert_int_equal(dremake_run(&r, t1 + DREMAKE_FIRST_NS, &ops), 1);
    assert_int_equal(f.made[1].epoch, 2);
    assert_int_equal(dremake_run(&r, 3 * DREMAKE_FIRST_NS, &ops), 1);
    assert_int_equal(f.made[2].epoch, 1);
    assert_int_equal(dremake_count(&r), 2);
    dremake_free(&r);
}

/* Many notes through the queue's compaction keep their order. */
static void test_many(void **state)
{
    (void)state;
    fake f = { 0 };
    const dremake_ops ops = { fake_state, fake_remake, &f };
    dremake r;
    dremake_init(&r);
    uint64_t e = 0;
    for (int round = 0; round < 50; round++) {
        for (int k = 0; k < 1000; k++, e++) {
            cmsg_tag t = tag(e);
            assert_int_equal(dremake_note(&r, e, e + 1, e, &t, e * MS),
                             DVM_OK);
        }
        f.kept_upto = e - 500;  /* every due one: noted at e - 501 or before */
        assert_int_equal(dremake_run(&r, (e - 501) * MS + DREMAKE_FIRST_NS,
                                     &ops), 0);
        assert_int_equal(dremake_count(&r), 500);
        assert_int_equal(r.fresh.v[r.fresh.head].epoch, e - 499);
    }
    assert_true(r.fresh.cap < 4000);
    dremake_free(&r);
}

/* A note is found by (page, epoch) among those as made (several pages
 * an epoch) and among those made again; not once it is forgotten, nor
 * one never made. */
static void test_find(void **state)
{
    (void)state;
    fake f = { 0 };
    const dremake_ops ops = { fake_state, fake_remake, &f };
    dremake r;
    dremake_init(&r);
    for (uint64_t e = 1; e <= 100; e++)
        for (uint64_t p = 0; p < 3; p++) {
            cmsg_tag t = tag(e * 10 + p);
            assert_int_equal(dremake_note(&r, 500 + p, e, e - 1, &t, e * MS),
                             DVM_OK);
        }
    const dremake_ent *x = dremake_find(&r, 502, 37);
    assert_non_null(x);
    assert_int_equal(x->tag.rid, 372);
    assert_int_equal(x->base, 36);
    assert_null(dremake_find(&r, 503, 37));
    assert_null(dremake_find(&r, 500, 101));
    assert_null(dremake_find(&r, 500, 0));
    f.kept_upto = 40;           /* 1..40 forgotten, 41..50 made again */
    assert_int_equal(dremake_run(&r, 50 * MS + DREMAKE_FIRST_NS, &ops), 30);
    assert_null(dremake_find(&r, 501, 40));
    x = dremake_find(&r, 501, 45);
    assert_non_null(x);
    assert_int_equal(x->tag.rid, 451);
    assert_int_equal(x->wait_ns, 2 * DREMAKE_FIRST_NS);
    x = dremake_find(&r, 500, 51);
    assert_non_null(x);
    assert_int_equal(x->wait_ns, DREMAKE_FIRST_NS);
    dremake_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kept_in_time),
        cmocka_unit_test(test_made_again_backing_off),
        cmocka_unit_test(test_due_only),
        cmocka_unit_test(test_due_order_kept),
        cmocka_unit_test(test_note_after_remake),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
