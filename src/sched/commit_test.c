/*
 * commit_test.c -- the commit point fed crafted results: what it installs,
 * what it refuses as a conflict, when a runner must run alone, what happens
 * to frames, watchers and children.  No processes: a store, a space, a
 * watcher index and a pool, as the master owns them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "isa/isa.h"
#include "sched/commit_fixture.h"
#include "util/alloc.h"

#define PAGE_A (DISA_RB / DISA_PAGE + 16)     /* an ordinary SR page */
#define ADDR_A (PAGE_A * DISA_PAGE)

typedef struct fixture {
    commit_fixture c;
    mem_run runs[4];
} fixture;

static int setup(void **state)
{
    fixture *f = dvm_calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(commit_fixture_open(&f->c, 1024), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    commit_fixture_close(&f->c);
    dvm_free(f);
    return 0;
}

/* A runner record as dispatch leaves it: snapshot taken, in no queue. */
static rcb *dispatched(fixture *f, uint64_t snap)
{
    rcb *r = rcb_new(&f->c.pool);
    assert_non_null(r);
    r->snap = snap;
    return r;
}

/* A frame holding page content with byte `off` set to v. */
static uint32_t frame_with(fixture *f, unsigned off, uint8_t v)
{
    uint32_t fr;
    assert_int_equal(store_alloc(f->c.store, &fr), DVM_OK);
    memset(store_frame(f->c.store, fr), 0, DISA_PAGE);
    store_frame(f->c.store, fr)[off] = v;
    return fr;
}

/* A committing result of r changing byte `off` of PAGE_A to v (run k of
 * the fixture's run array holds the delta). */
static msg_result result_of(fixture *f, const rcb *r, mem_change *c, int k,
                            unsigned off, uint8_t v)
{
    f->runs[k] = (mem_run){ (uint16_t)off, 1 };
    *c = space_change(PAGE_A, frame_with(f, off, v),
                      diff_of_runs(&f->runs[k], 1));
    return (msg_result){ .rid = r->rid, .attempt = r->attempt,
                         .snap = r->snap, .exit = MSG_EXIT_COMMIT,
                         .nchanges = 1, .changes = c };
}

static uint8_t committed_byte(fixture *f, uint64_t addr)
{
    uint32_t fr = space_lookup(f->c.space, addr / DISA_PAGE,
                               space_epoch(f->c.space));
    return fr ? store_frame(f->c.store, fr)[addr % DISA_PAGE] : 0;
}

static void test_commit_installs_one_epoch(void **state)
{
    fixture *f = *state;
    uint64_t e0 = commit_epoch(&f->c.cp);
    rcb *r = dispatched(f, e0);
    mem_change c;
    msg_result res = result_of(f, r, &c, 0, 10, 0x5a);
    assert_int_equal(commit_result(&f->c.cp, r, &res), DVM_OK);
    assert_int_equal(commit_epoch(&f->c.cp), e0 + 1);
    assert_int_equal(committed_byte(f, ADDR_A + 10), 0x5a);
    assert_int_equal(f->c.st.commits, 1);
    assert_int_equal(f->c.st.runners_committed, 1);
    assert_int_equal(f->c.st.pages_written, 1);
    assert_null(f->c.pool.ready.head);
}

/* Two runners on one snapshot write the same byte: the second, validated
 * against the first's newer version, conflicts; its frame goes back to the
 * store and it waits to run again with attempt 1, same run id. */
static void test_stale_snapshot_conflicts(void **state)
{
    fixture *f = *state;
    uint64_t e0 = commit_epoch(&f->c.cp);
    rcb *a = dispatched(f, e0), *b = dispatched(f, e0);
    uint64_t rid_b = b->rid;
    mem_change ca, cb;
    msg_result ra = result_of(f, a, &ca, 0, 10, 1);
    msg_result rb = result_of(f, b, &cb, 1, 10, 2);
    assert_int_equal(commit_result(&f->c.cp, a, &ra), DVM_OK);
    size_t in_use = store_in_use(f->c.store);
    assert_int_equal(commit_result(&f->c.cp, b, &rb), DVM_OK);
    assert_int_equal(store_in_use(f->c.store), in_use - 1);
    assert_int_equal(f->c.st.conflicts, 1);
    assert_int_equal(f->c.st.reexecuted, 1);
    assert_int_equal(committed_byte(f, ADDR_A + 10), 1);
    assert_int_equal(commit_epoch(&f->c.cp), e0 + 1);
    rcb *again = rcb_pop(&f->c.pool.ready);
    assert_non_null(again);
    assert_int_equal(again->rid, rid_b);
    assert_int_equal(again->attempt, 1);
    rcb_free(again);
}

/* Disjoint bytes of one page never conflict (byte granularity). */
static void test_disjoint_bytes_both_commit(void **state)
{
    fixture *f = *state;
    uint64_t e0 = commit_epoch(&f->c.cp);
    rcb *a = dispatched(f, e0), *b = dispatched(f, e0);
    mem_change ca, cb;
    msg_result ra = result_of(f, a, &ca, 0, 10, 1);
    msg_result rb = result_of(f, b, &cb, 1, 11, 2);
    assert_int_equal(commit_result(&f->c.cp, a, &ra), DVM_OK);
    assert_int_equal(commit_result(&f->c.cp, b, &rb), DVM_OK);
    assert_int_equal(f->c.st.conflicts, 0);
    assert_int_equal(committed_byte(f, ADDR_A + 10), 1);
    assert_int_equal(committed_byte(f, ADDR_A + 11), 2);
}

/* After COMMIT_CONFLICT_LIMIT conflicts a runner waits in the exclusive
 * queue (it will run alone), not in the ready queue. */
static void test_third_conflict_runs_alone(void **state)
{
    fixture *f = *state;
    rcb *loser = dispatched(f, commit_epoch(&f->c.cp));
    for (int i = 0; i < COMMIT_CONFLICT_LIMIT; i++) {
        loser->snap = commit_epoch(&f->c.cp);
        rcb *winner = dispatched(f, loser->snap);
        mem_change cw, cl;
        msg_result rw = result_of(f, winner, &cw, 0, 20, (uint8_t)i);
        msg_result rl = result_of(f, loser, &cl, 1, 20, 0xee);
        assert_int_equal(commit_result(&f->c.cp, winner, &rw), DVM_OK);
        assert_int_equal(commit_result(&f->c.cp, loser, &rl), DVM_OK);
        rcb_queue *want = i + 1 < COMMIT_CONFLICT_LIMIT ? &f->c.pool.ready
                                                        : &f->c.pool.exclusive;
        assert_ptr_equal(want->head, loser);
        loser = rcb_pop(want);
    }
    assert_int_equal(loser->attempt, COMMIT_CONFLICT_LIMIT);
    assert_null(f->c.pool.ready.head);
    /* Run alone now: nothing else commits, so it commits. */
    f->c.pool.running_exclusive = loser;
    loser->snap = commit_epoch(&f->c.cp);
    mem_change c;
    msg_result r = result_of(f, loser, &c, 1, 20, 0xee);
    assert_int_equal(commit_result(&f->c.cp, loser, &r), DVM_OK);
    assert_null(f->c.pool.running_exclusive);
    assert_int_equal(committed_byte(f, ADDR_A + 20), 0xee);
}

/* Aborted and faulted attempts change nothing and give their frames
 * back. */
static void test_abort_and_fault_release_frames(void **state)
{
    fixture *f = *state;
    uint64_t e0 = commit_epoch(&f->c.cp);
    size_t in_use = store_in_use(f->c.store);
    for (uint32_t ex = MSG_EXIT_ABORT; ex <= MSG_EXIT_FAULT; ex++) {
        rcb *r = dispatched(f, e0);
        mem_change c;
        msg_result res = result_of(f, r, &c, 0, 30, 9);
        res.exit = ex;
        res.fault = ex == MSG_EXIT_FAULT ? VM_FAULT_ARITH : VM_FAULT_NONE;
        assert_int_equal(commit_result(&f->c.cp, r, &res), DVM_OK);
    }
    assert_int_equal(store_in_use(f->c.store), in_use);
    assert_int_equal(commit_epoch(&f->c.cp), e0);
    assert_int_equal(f->c.st.runners_aborted, 1);
    assert_int_equal(f->c.st.runners_faulted, 1);
}

/* A watcher wakes on a commit of the DVM's own exactly as on a runner's:
 * the one install path. */
static void test_dvm_write_wakes_watchers(void **state)
{
    fixture *f = *state;
    rcb *w = rcb_new(&f->c.pool);
    w->d.nwatch = 1;
    w->d.watch = dvm_calloc(1, sizeof *w->d.watch);
    w->d.watch[0] = (dvm_range){ ADDR_A + 100, ADDR_A + 108 };
    assert_int_equal(watch_add(f->c.watchers, (uint64_t)(uintptr_t)w,
                               w->d.watch, 1), DVM_OK);
    rcb_pool_watch(&f->c.pool, w);
    uint64_t v = 7;
    assert_int_equal(commit_write(&f->c.cp, ADDR_A + 50, &v, 8), DVM_OK);
    assert_null(f->c.pool.ready.head);          /* other bytes: asleep */
    assert_int_equal(commit_write(&f->c.cp, ADDR_A + 104, &v, 8), DVM_OK);
    assert_ptr_equal(f->c.pool.ready.head, w);
    assert_int_equal(f->c.pool.nwatching, 0);
    assert_int_equal(f->c.st.watchers_woken, 1);
    assert_int_equal(f->c.st.commits, 2);
    assert_int_equal(committed_byte(f, ADDR_A + 104), 7);
}

/* A watcher of [lo, hi), in the index. */
static rcb *watching(fixture *f, uint64_t lo, uint64_t hi)
{
    rcb *w = rcb_new(&f->c.pool);
    assert_non_null(w);
    w->d.nwatch = 1;
    w->d.watch = dvm_calloc(1, sizeof *w->d.watch);
    w->d.watch[0] = (dvm_range){ lo, hi };
    assert_int_equal(watch_add(f->c.watchers, (uint64_t)(uintptr_t)w,
                               w->d.watch, 1), DVM_OK);
    rcb_pool_watch(&f->c.pool, w);
    return w;
}

/* A committing result of r changing PAGE_A, zero at its snapshot, to
 * every 8th byte from `first` on set to v: implied by its frame. */
static msg_result result_implied(fixture *f, const rcb *r, mem_change *c,
                                 unsigned first, uint8_t v)
{
    uint32_t fr = frame_with(f, first, v);
    for (unsigned b = first; b < DISA_PAGE; b += 8)
        store_frame(f->c.store, fr)[b] = v;
    *c = space_change(PAGE_A, fr, diff_implied());
    return (msg_result){ .rid = r->rid, .attempt = r->attempt,
                         .snap = r->snap, .exit = MSG_EXIT_COMMIT,
                         .nchanges = 1, .changes = c };
}

/* Implied changes wake exactly the watchers of their own bytes, adopted
 * or merged onto a newer version (whose frame then holds more nonzero
 * bytes than the change), and conflict exactly. */
static void test_implied_changes_exact(void **state)
{
    fixture *f = *state;
    uint64_t e0 = commit_epoch(&f->c.cp);
    rcb *between = watching(f, ADDR_A + 1, ADDR_A + 4);
    rcb *on_a = watching(f, ADDR_A + 16, ADDR_A + 17);
    rcb *a = dispatched(f, e0), *b = dispatched(f, e0), *c = dispatched(f, e0);
    mem_change ca, cb, cc;
    msg_result ra = result_implied(f, a, &ca, 0, 1);
    msg_result rb = result_implied(f, b, &cb, 4, 2);
    msg_result rc = result_implied(f, c, &cc, 2, 3);
    store_frame(f->c.store, cc.frame)[4] = 3;   /* b's byte 4 too */
    assert_int_equal(commit_result(&f->c.cp, a, &ra), DVM_OK);
    assert_ptr_equal(rcb_pop(&f->c.pool.ready), on_a);
    rcb_free(on_a);
    assert_null(f->c.pool.ready.head);
    rcb *a_only = watching(f, ADDR_A + 8, ADDR_A + 9);   /* a's byte */
    rcb *on_b = watching(f, ADDR_A + 3, ADDR_A + 5);
    assert_int_equal(commit_result(&f->c.cp, b, &rb), DVM_OK);
    assert_int_equal(commit_epoch(&f->c.cp), e0 + 2);
    assert_ptr_equal(rcb_pop(&f->c.pool.ready), on_b);
    rcb_free(on_b);
    assert_null(f->c.pool.ready.head);          /* a_only: b merged over a */
    assert_int_equal(f->c.pool.nwatching, 2);
    assert_int_equal(committed_byte(f, ADDR_A + 8), 1);
    assert_int_equal(committed_byte(f, ADDR_A + 12), 2);
    /* c shares byte 4 with b only: a conflict, found from frames alone. */
    assert_int_equal(commit_result(&f->c.cp, c, &rc), DVM_OK);
    assert_int_equal(f->c.st.conflicts, 1);
    assert_int_equal(commit_epoch(&f->c.cp), e0 + 2);
    rcb_free(rcb_pop(&f->c.pool.ready));
    (void)between;
    (void)a_only;
}

/* Children become records at their creator's commit; a child watcher
 * whose bytes a commit after the creator's snapshot already changed is
 * schedulable at once (DISA.md 6.4), another one watches. */
static void test_children_admitted(void **state)
{
    fixture *f = *state;
    uint64_t e0 = commit_epoch(&f->c.cp);
    rcb *creator = dispatched(f, e0);
    uint64_t v = 1;
    assert_int_equal(commit_write(&f->c.cp, ADDR_A + 200, &v, 8), DVM_OK);
    runner_desc kids[3];
    memset(kids, 0, sizeof kids);
    for (int i = 0; i < 3; i++) {
        kids[i] = (runner_desc){ .sb = ADDR_A + 0x10000 * (i + 1), .ss = 64,
                                 .fi = DISA_TEXT_BASE };
    }
    kids[1].nwatch = kids[2].nwatch = 1;
    kids[1].watch = dvm_calloc(1, sizeof(dvm_range));
    kids[2].watch = dvm_calloc(1, sizeof(dvm_range));
    kids[1].watch[0] = (dvm_range){ ADDR_A + 200, ADDR_A + 201 }; /* missed */
    kids[2].watch[0] = (dvm_range){ ADDR_A + 300, ADDR_A + 301 };
    mem_change c;
    msg_result res = result_of(f, creator, &c, 0, 10, 3);
    res.nkids = 3;
    res.kids = kids;
    assert_int_equal(commit_result(&f->c.cp, creator, &res), DVM_OK);
    assert_int_equal(f->c.pool.ready.n, 2);
    assert_int_equal(f->c.pool.nwatching, 1);
    assert_int_equal(f->c.st.watchers_created, 2);
    for (int i = 0; i < 3; i++)
        assert_null(kids[i].watch);           /* taken by the records */
    rcb *first = rcb_pop(&f->c.pool.ready), *second = rcb_pop(&f->c.pool.ready);
    assert_int_equal(first->d.sb, ADDR_A + 0x10000);
    assert_int_equal(second->d.nwatch, 1);
    assert_int_equal(second->watch_from, e0);
    rcb_free(first);
    rcb_free(second);
}

/* Frames holding n bytes of output, byte i being (uint8_t)(i * 7 + seed),
 * as an RComp leaves them; ids in fr (room for MSG_OUTPUT_FRAMES(n)). */
static msg_output output_in_frames(fixture *f, uint32_t chan, uint64_t n,
                                   unsigned seed, uint32_t *fr)
{
    uint32_t k = (uint32_t)MSG_OUTPUT_FRAMES(n);
    for (uint32_t j = 0; j < k; j++) {
        assert_int_equal(store_alloc(f->c.store, &fr[j]), DVM_OK);
        for (unsigned b = 0; b < DISA_PAGE; b++)
            store_frame(f->c.store, fr[j])[b] =
                (uint8_t)(((uint64_t)j * DISA_PAGE + b) * 7 + seed);
    }
    return (msg_output){ chan, n, k, fr };
}

typedef struct captured {
    uint8_t bytes[1 << 17];
    size_t n, writes, biggest;
} captured;

static dvm_status capture(void *arg, size_t index, const void *p, size_t n)
{
    captured *c = arg;
    (void)index;
    assert_true(c->n + n <= sizeof c->bytes);
    memcpy(c->bytes + c->n, p, n);
    c->n += n;
    c->writes++;
    if (n > c->biggest)
        c->biggest = n;
    return DVM_OK;
}

/* Output goes to its sink from the frames that hold it, in chunks, and
 * the frames go back to the store.  (A result naming a channel the program
 * does not have never gets here: rcomps_test, output_unknown_channel.) */
static void test_output_in_chunks(void **state)
{
    fixture *f = *state;
    size_t used = store_in_use(f->c.store);
    uint32_t fr[32];
    captured *c = dvm_calloc(1, sizeof *c);
    assert_non_null(c);
    io_sink_close(&f->c.sink);
    assert_int_equal(io_sink_open_fn(&f->c.sink, "stdout", capture, c, 0), 0);
    rcb *r = dispatched(f, commit_epoch(&f->c.cp));
    uint64_t n = 30 * DISA_PAGE + 5;        /* more than one chunk */
    msg_output o = output_in_frames(f, 0, n, 3, fr);
    msg_result res = { .rid = r->rid, .snap = r->snap,
                       .exit = MSG_EXIT_COMMIT, .nout = 1, .out = &o };
    assert_int_equal(commit_result(&f->c.cp, r, &res), DVM_OK);
    assert_int_equal(c->n, n);
    for (uint64_t i = 0; i < n; i++)
        assert_int_equal(c->bytes[i], (uint8_t)(i * 7 + 3));
    assert_true(c->writes > 1 && c->biggest < n);
    assert_int_equal(store_in_use(f->c.store), used);
    dvm_free(c);
}

/* An attempt that does not commit writes nothing; its output's frames go
 * back to the store all the same. */
static void test_output_dropped_unless_committed(void **state)
{
    fixture *f = *state;
    size_t used = store_in_use(f->c.store);
    uint32_t fr[2];
    static const uint32_t exits[] = { MSG_EXIT_ABORT, MSG_EXIT_FAULT };
    for (int k = 0; k < 2; k++) {
        rcb *r = dispatched(f, commit_epoch(&f->c.cp));
        msg_output o = output_in_frames(f, 0, 5000, 1, fr);
        msg_result res = { .rid = r->rid, .snap = r->snap, .exit = exits[k],
                           .fault = VM_FAULT_MEMORY, .nout = 1, .out = &o };
        assert_int_equal(commit_result(&f->c.cp, r, &res), DVM_OK);
        assert_int_equal(store_in_use(f->c.store), used);
    }
    /* a conflict: the second of two commits of one byte from one snapshot */
    uint64_t e0 = commit_epoch(&f->c.cp);
    rcb *a = dispatched(f, e0), *b = dispatched(f, e0);
    mem_change ca, cb;
    msg_result ra = result_of(f, a, &ca, 0, 8, 1);
    assert_int_equal(commit_result(&f->c.cp, a, &ra), DVM_OK);
    used = store_in_use(f->c.store);
    msg_result rb = result_of(f, b, &cb, 1, 8, 2);
    msg_output o = output_in_frames(f, 0, 5000, 1, fr);
    rb.nout = 1;
    rb.out = &o;
    assert_int_equal(commit_result(&f->c.cp, b, &rb), DVM_OK);
    assert_int_equal(f->c.st.conflicts, 1);
    assert_int_equal(f->c.sink.bytes, 0);
    assert_int_equal(store_in_use(f->c.store), used);
}

/* ---- stacks chosen by the DVM (DISA 1.1) --------------------------------- */

/* A record whose stack the DVM chose (a block of the fixture's area). */
static rcb *on_chosen_stack(fixture *f, uint64_t snap)
{
    rcb *r = dispatched(f, snap);
    assert_int_equal(stacks_alloc(f->c.stacks, 0, STACKS_RUNNER, &r->d.sb),
                     DVM_OK);
    r->d.ss = DISA_PAGE;
    r->d.flags = RUNNER_STACK_CHOSEN;
    return r;
}

/* A child descriptor on a chosen stack, as take_stacks leaves it: the
 * block belongs to the runners. */
static runner_desc chosen_kid(fixture *f)
{
    runner_desc k = { .ss = DISA_PAGE, .fi = DISA_TEXT_BASE,
                      .flags = RUNNER_STACK_CHOSEN };
    assert_int_equal(stacks_alloc(f->c.stacks, 0, STACKS_RUNNER, &k.sb),
                     DVM_OK);
    return k;
}

/* Bytes of the stack area held by runners, and retired. */
static uint64_t held(const fixture *f)
{
    return stacks_owner_bytes(f->c.stacks, STACKS_RUNNER);
}

static uint64_t retired(const fixture *f)
{
    return stacks_owner_bytes(f->c.stacks, STACKS_LIMBO);
}

/* A runner's chosen stack is retired when it finishes, whatever the way,
 * and free once no snapshot predates that; its child's stays with the
 * child. */
static void test_chosen_stacks_freed_when_done(void **state)
{
    fixture *f = *state;
    for (uint32_t ex = MSG_EXIT_COMMIT; ex <= MSG_EXIT_FAULT; ex++) {
        rcb *r = on_chosen_stack(f, commit_epoch(&f->c.cp));
        mem_change c;
        msg_result res = result_of(f, r, &c, 0, 40, (uint8_t)ex);
        res.exit = ex;
        res.fault = ex == MSG_EXIT_FAULT ? VM_FAULT_ARITH : VM_FAULT_NONE;
        assert_int_equal(commit_result(&f->c.cp, r, &res), DVM_OK);
        uint64_t now = commit_epoch(&f->c.cp);  /* >= 1: the first commits */
        assert_true(held(f) == 0);
        assert_true(retired(f) == DISA_PAGE);
        assert_int_equal(stacks_reclaim(f->c.stacks, now - 1), 0);
        assert_int_equal(stacks_reclaim(f->c.stacks, now), 1);
        assert_true(stacks_in_use(f->c.stacks) == 0);
    }
    rcb *r = on_chosen_stack(f, commit_epoch(&f->c.cp));
    runner_desc kid = chosen_kid(f);
    mem_change c;
    msg_result res = result_of(f, r, &c, 0, 41, 1);
    res.nkids = 1;
    res.kids = &kid;
    assert_int_equal(commit_result(&f->c.cp, r, &res), DVM_OK);
    assert_true(held(f) == DISA_PAGE);                      /* the child's */
    rcb *child = rcb_pop(&f->c.pool.ready);
    assert_int_equal(child->d.flags, RUNNER_STACK_CHOSEN);
    assert_true(stacks_owned(f->c.stacks, child->d.sb, 0, STACKS_RUNNER));
    child->snap = commit_epoch(&f->c.cp);
    res = (msg_result){ .rid = child->rid, .snap = child->snap,
                        .exit = MSG_EXIT_ABORT };
    assert_int_equal(commit_result(&f->c.cp, child, &res), DVM_OK);
    assert_true(held(f) == 0);
    stacks_reclaim(f->c.stacks, commit_epoch(&f->c.cp));
    assert_true(stacks_in_use(f->c.stacks) == 0);
}

/* A conflicting creator keeps its own stack (it runs again on it); the
 * stacks of the children it would have created are free again. */
static void test_conflict_frees_children_stacks(void **state)
{
    fixture *f = *state;
    uint64_t e0 = commit_epoch(&f->c.cp);
    rcb *a = dispatched(f, e0), *b = on_chosen_stack(f, e0);
    runner_desc kids[2] = { chosen_kid(f), chosen_kid(f) };
    mem_change ca, cb;
    msg_result ra = result_of(f, a, &ca, 0, 50, 1);
    msg_result rb = result_of(f, b, &cb, 1, 50, 2);
    rb.nkids = 2;
    rb.kids = kids;
    assert_int_equal(commit_result(&f->c.cp, a, &ra), DVM_OK);
    assert_true(stacks_in_use(f->c.stacks) == 3 * DISA_PAGE);
    assert_int_equal(commit_result(&f->c.cp, b, &rb), DVM_OK);
    assert_int_equal(f->c.st.conflicts, 1);
    assert_true(stacks_in_use(f->c.stacks) == DISA_PAGE);   /* b's own */
    assert_true(retired(f) == 0);           /* the kids': free at once */
    rcb *again = rcb_pop(&f->c.pool.ready);
    assert_ptr_equal(again, b);
    assert_true(stacks_owned(f->c.stacks, b->d.sb, 0, STACKS_RUNNER));
    commit_runner_done(&f->c.cp, again);
    assert_true(held(f) == 0);
    stacks_reclaim(f->c.stacks, commit_epoch(&f->c.cp));
    assert_true(stacks_in_use(f->c.stacks) == 0);
    assert_int_equal(stacks_free_blocks(f->c.stacks), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_installs_one_epoch,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_snapshot_conflicts,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_disjoint_bytes_both_commit,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_third_conflict_runs_alone,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_and_fault_release_frames,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_dvm_write_wakes_watchers,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_children_admitted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_dropped_unless_committed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_in_chunks,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_chosen_stacks_freed_when_done,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_implied_changes_exact, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_conflict_frees_children_stacks,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
