/*
 * dremake_test.c -- the master's watch over versions only their holders
 * can make: a version kept in time is never made again; one not kept is
 * made again when due, then after doubling waits up to the bound, with
 * its base and tag as noted; the list keeps its order as it shrinks;
 * a cleared list forgets everything.
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
    assert_int_equal(r.n, 5);
    f.kept_upto = 5;
    assert_int_equal(dremake_run(&r, 10 * DREMAKE_FIRST_NS, &ops), 0);
    assert_int_equal(r.n, 0);
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
    assert_int_equal(r.v[0].wait_ns, DREMAKE_WAIT_MAX_NS);
    f.kept_upto = 515;          /* kept at last: forgotten */
    assert_int_equal(dremake_run(&r, now + 100 * DREMAKE_WAIT_MAX_NS, &ops),
                     0);
    assert_int_equal(r.n, 0);
    dremake_free(&r);
}

/* Kept versions go from the middle of the list; the others stay in
 * placement order, each with its own due time. */
static void test_order_kept(void **state)
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
    assert_int_equal(r.n, 10);
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(r.v[i].epoch, 991 + i);
    for (size_t i = 0; i < f.nmade; i++)
        assert_int_equal(f.made[i].epoch, 991 + i);
    dremake_clear(&r);
    assert_int_equal(dremake_run(&r, UINT64_MAX / 2, &ops), 0);
    assert_int_equal(r.n, 0);
    dremake_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kept_in_time),
        cmocka_unit_test(test_made_again_backing_off),
        cmocka_unit_test(test_order_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
