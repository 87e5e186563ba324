/*
 * persist_test.c -- the master's state as records: what a fixture master
 * holds (pages written by its own commits, a ready runner on a chosen
 * stack, a watcher) is read out, restored into a fresh one, and found the
 * same: page contents and version epochs, the epoch, the run ids, the
 * queues, the watcher index (a commit to the watched bytes wakes the
 * watcher), the claimed stack.  The journal names made, changed and freed
 * records; a restore that contradicts itself is refused.  A runner that
 * waits in the cluster's gate for its commit to be stable is saved like a
 * ready one.  A version whose data is away is given out without it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sched/commit_fixture.h"
#include "sched/persist.h"
#include "util/alloc.h"

#define BASE (DISA_RB + 0x100000)

typedef struct saved {
    uint64_t page[8], epoch[8];
    uint8_t data[8][DISA_PAGE];
    int away[8];                /* given without data */
    size_t npages;
    persist_runner r[8];
    size_t nrunners;
    uint64_t gone[8];
    size_t ngone;
} saved;

static void on_page(void *arg, uint64_t page, uint64_t epoch,
                    const uint8_t *data)
{
    saved *s = arg;
    assert_true(s->npages < 8);
    s->page[s->npages] = page;
    s->epoch[s->npages] = epoch;
    s->away[s->npages] = data == NULL;
    if (data)
        memcpy(s->data[s->npages], data, DISA_PAGE);
    s->npages++;
}

/* Keeps a deep copy of r. */
static void on_runner(void *arg, const persist_runner *r)
{
    saved *s = arg;
    persist_runner *c = &s->r[s->nrunners++];
    *c = *r;
    c->d.heap = dvm_calloc(r->d.nheap + 1, sizeof *c->d.heap);
    memcpy(c->d.heap, r->d.heap, r->d.nheap * sizeof *c->d.heap);
    c->d.watch = NULL;
    if (r->d.nwatch) {
        c->d.watch = dvm_calloc(r->d.nwatch, sizeof *c->d.watch);
        memcpy(c->d.watch, r->d.watch, r->d.nwatch * sizeof *c->d.watch);
    }
}

static void on_gone(void *arg, uint64_t rid)
{
    saved *s = arg;
    s->gone[s->ngone++] = rid;
}

static rcb *make_runner(commit_fixture *f, int watcher, int chosen)
{
    rcb *r = rcb_new(&f->pool);
    r->d.ss = 0x1000;
    r->d.fi = 0x100;
    r->d.nheap = 1;
    r->d.heap = dvm_calloc(1, sizeof *r->d.heap);
    r->d.heap[0] = (dvm_range){ BASE, BASE + 64 };
    if (chosen) {
        assert_int_equal(stacks_alloc(f->stacks, 0, STACKS_RUNNER, &r->d.sb),
                         DVM_OK);
        r->d.flags = RUNNER_STACK_CHOSEN;
    } else {
        r->d.sb = BASE + 0x10000;
    }
    if (watcher) {
        r->d.nwatch = 1;
        r->d.watch = dvm_calloc(1, sizeof *r->d.watch);
        r->d.watch[0] = (dvm_range){ BASE + 8, BASE + 16 };
        assert_int_equal(watch_add(f->watchers, (uint64_t)(uintptr_t)r,
                                   r->d.watch, 1), DVM_OK);
        rcb_pool_watch(&f->pool, r);
    } else {
        rcb_push(&f->pool.ready, r);
    }
    return r;
}

static void save_all(commit_fixture *f, saved *s)
{
    rcomp_set rs = { .nrc = 0 };
    memset(s, 0, sizeof *s);
    size_t n = persist_pages_since(&f->cp, 0, on_page, s);
    assert_int_equal(n, s->npages);
    assert_int_equal(persist_each_runner(&f->cp, &rs, on_runner, s), 2);
}

static void free_saved(saved *s)
{
    for (size_t i = 0; i < s->nrunners; i++)
        runner_desc_free(&s->r[i].d);
}

static void test_round_trip(void **state)
{
    (void)state;
    commit_fixture a, b;
    assert_int_equal(commit_fixture_open(&a, 256), 0);
    assert_int_equal(commit_fixture_open(&b, 256), 0);
    uint64_t v = 7;
    assert_int_equal(commit_write(&a.cp, BASE, &v, 8), DVM_OK);
    assert_int_equal(commit_write(&a.cp, BASE + DISA_PAGE, &v, 8), DVM_OK);
    v = 9;
    assert_int_equal(commit_write(&a.cp, BASE, &v, 8), DVM_OK);
    make_runner(&a, 0, 1);
    make_runner(&a, 1, 0);
    a.st.commits = 3;
    saved s;
    save_all(&a, &s);
    assert_int_equal(s.npages, 2);
    assert_int_equal(s.epoch[0], 3);        /* newest version only */
    assert_int_equal(s.epoch[1], 2);
    saved since;                            /* what changed after epoch 2 */
    memset(&since, 0, sizeof since);
    assert_int_equal(persist_pages_since(&a.cp, 2, on_page, &since), 1);
    assert_int_equal(since.page[0], BASE / DISA_PAGE);
    for (size_t i = 0; i < s.npages; i++)
        assert_int_equal(persist_restore_page(&b.cp, s.page[i], s.epoch[i],
                                              s.data[i]), DVM_OK);
    for (size_t i = 0; i < s.nrunners; i++)
        assert_int_equal(persist_restore_runner(&b.cp, &s.r[i]), DVM_OK);
    /* A run id newer than the next one, or an epoch older than a page. */
    assert_int_equal(persist_restore_done(&b.cp, 3, 2), DVM_EINVAL);
    assert_int_equal(persist_restore_done(&b.cp, 2, 3), DVM_EINVAL);
    assert_int_equal(persist_restore_done(&b.cp, 3, 3), DVM_OK);
    assert_int_equal(space_epoch(b.space), 3);
    uint32_t fr;
    assert_int_equal(space_lookup_version(b.space, BASE / DISA_PAGE, 3, &fr),
                     3);
    assert_int_equal(*(uint64_t *)(store_frame(b.store, fr) + 0), 9);
    assert_int_equal(b.pool.ready.n, 1);
    assert_int_equal(b.pool.nwatching, 1);
    assert_int_equal(watch_count(b.watchers), 1);
    rcb *r = b.pool.ready.head;
    assert_int_equal(r->rid, 1);
    assert_true(stacks_owned(b.stacks, r->d.sb, 0, STACKS_RUNNER));
    /* The restored watcher wakes at a commit to its bytes. */
    v = 1;
    assert_int_equal(commit_write(&b.cp, BASE + 8, &v, 8), DVM_OK);
    assert_int_equal(b.pool.ready.n, 2);
    assert_int_equal(b.pool.nwatching, 0);
    /* The same runners again: their run ids and stack are taken. */
    saved t;
    save_all(&a, &t);
    assert_int_equal(persist_restore_runner(&b.cp, &t.r[0]), DVM_EINVAL);
    free_saved(&s);
    free_saved(&t);
    commit_fixture_close(&a);
    commit_fixture_close(&b);
}

static void test_journal(void **state)
{
    (void)state;
    commit_fixture a;
    assert_int_equal(commit_fixture_open(&a, 64), 0);
    rcb *r1 = make_runner(&a, 0, 0);
    persist_journal_start(&a.cp);
    saved s;
    memset(&s, 0, sizeof s);
    assert_int_equal(persist_journal_drain(&a.cp, on_runner, on_gone, &s), 0);
    assert_int_equal(s.nrunners + s.ngone, 0);
    rcb *r2 = make_runner(&a, 1, 0);         /* made, then unwatched */
    rcb_pool_unwatch(&a.pool, r2);
    watch_remove(a.watchers, (uint64_t)(uintptr_t)r2);
    rcb_touch(r1);
    rcb_touch(r1);
    assert_int_equal(persist_journal_drain(&a.cp, on_runner, on_gone, &s), 0);
    assert_int_equal(s.nrunners, 2);         /* each record once */
    assert_int_equal(s.r[0].rid, r2->rid);
    assert_int_equal(s.r[0].watching, 0);
    assert_int_equal(s.r[1].rid, r1->rid);
    free_saved(&s);
    memset(&s, 0, sizeof s);
    rcb_touch(r1);
    assert_ptr_equal(rcb_pop(&a.pool.ready), r1);
    rcb_free(r1);
    assert_int_equal(persist_journal_drain(&a.cp, on_runner, on_gone, &s), 0);
    assert_int_equal(s.nrunners, 0);
    assert_int_equal(s.ngone, 1);
    assert_int_equal(s.gone[0], 1);
    rcb_free(r2);
    commit_fixture_close(&a);
}

static void test_gated(void **state)
{
    (void)state;
    commit_fixture a;
    assert_int_equal(commit_fixture_open(&a, 64), 0);
    rcb_pool_gate(&a.pool);
    rcb *r = make_runner(&a, 0, 0);
    assert_ptr_equal(rcb_pop(&a.pool.ready), r);
    rcb_push(a.pool.made, r);
    rcb *w = make_runner(&a, 1, 0);
    saved s;
    save_all(&a, &s);
    assert_true(s.r[0].rid == r->rid && !s.r[0].watching);
    assert_true(s.r[1].rid == w->rid && s.r[1].watching);
    free_saved(&s);
    commit_fixture_close(&a);
}

static int all_dataless(void *arg, uint32_t frame, uint64_t page)
{
    (void)arg, (void)frame, (void)page;
    return 1;
}

/* A newest version whose data is away (the cluster master in masks-only
 * mode) is given out as NULL, never as a frame; the others with data. */
static void test_away_pages(void **state)
{
    (void)state;
    commit_fixture f;
    assert_int_equal(commit_fixture_open(&f, 256), 0);
    uint64_t v = 7;
    assert_int_equal(commit_write(&f.cp, BASE, &v, 8), DVM_OK);
    space_set_dataless(f.cp.space, all_dataless, NULL);
    assert_int_equal(commit_write(&f.cp, BASE + DISA_PAGE, &v, 8), DVM_OK);
    static saved a;
    memset(&a, 0, sizeof a);
    assert_int_equal(persist_pages_since(&f.cp, 0, on_page, &a), 2);
    for (size_t i = 0; i < a.npages; i++)
        assert_int_equal(a.away[i], a.page[i] == BASE / DISA_PAGE + 1);
    memset(&a, 0, sizeof a);
    assert_int_equal(persist_pages_since(&f.cp, 1, on_page, &a), 1);
    assert_int_equal(a.page[0], BASE / DISA_PAGE + 1);
    assert_int_equal(a.epoch[0], 2);
    assert_true(a.away[0]);
    commit_fixture_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_journal),
        cmocka_unit_test(test_gated),
        cmocka_unit_test(test_away_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
