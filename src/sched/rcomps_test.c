/*
 * rcomps_test.c -- the master's side of the RComp protocol, against
 * scripted RComps.
 *
 * The RComp set starts real processes: this test binary, re-executed as
 * `__rcomp` (cfg.rcomp_exe = /proc/self/exe), plays an RComp that follows a
 * script named in DVM_TEST_SCRIPT: it says READY, reads one dispatch and
 * answers it with a crafted result -- one that names a wrong attempt, a
 * frame it was never granted, a runner it is not running, a child on a
 * stack block it was never granted, output in frames it was never granted
 * (or in a frame it also names for a page), output whose count runs
 * beyond its frames or goes to a channel the program lacks, or a valid
 * result sent after a protocol violation (so from an RComp already
 * declared lost).  Each test checks that the set refuses what it must:
 * the RComp is replaced, the runner is back in the ready queue unchanged
 * (same run id, same attempt), nothing was committed for it, and the
 * frames granted to the lost RComp are back in the store.  Remote slots:
 * a node that leaves gives its runners back; a result that arrives while
 * master_remote.may_commit says no waits, and is committed later, or
 * dropped with its slot.  Children started at once (sched/local.h): a
 * result whose notes hold is kept, one whose notes do not runs again, one
 * of a child the master did not take as started at once is dropped, and
 * one no creator named is a protocol error.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "isa/isa.h"
#include "sched/commit_fixture.h"
#include "sched/rcomps.h"
#include "util/alloc.h"
#include "util/clock.h"

#define STACK_SB (DISA_RB + 0x100000)
#define IMPLIED_PAGE ((DISA_RB + 0x200000) / DISA_PAGE)

/* ---- the scripted RComp (runs in the child) ------------------------------ */

static int arg_fd(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return atoi(argv[i + 1]);
    return -1;
}

static void send_or_die(conn *c, msg_buf *b)
{
    if (b->oom || conn_send(c, b))
        _exit(3);
    mb_reset(b);
}

/* Appends a RESULT answering runner r (rid, attempt, snap as given) with
 * one page change in `frame` if frame != 0. */
static void put_result(msg_buf *b, uint64_t rid, uint64_t attempt,
                       uint64_t snap, uint32_t frame)
{
    static const mem_run run = { 8, 1 };
    mem_change c = space_change(STACK_SB / DISA_PAGE, frame,
                                diff_of_runs(&run, 1));
    msg_result res = { .rid = rid, .attempt = attempt, .snap = snap,
                       .exit = MSG_EXIT_COMMIT, .nchanges = frame ? 1 : 0,
                       .changes = &c };
    msg_encode_result(b, &res);
}

/* Appends a RESULT answering runner r with IMPLIED_PAGE changed as a
 * zero page in frame (diff.h). */
static void put_result_implied(msg_buf *b, const msg_runner *r, uint32_t frame)
{
    mem_change c = space_change(IMPLIED_PAGE, frame, diff_implied());
    msg_result res = { .rid = r->rid, .attempt = r->attempt, .snap = r->snap,
                       .exit = MSG_EXIT_COMMIT, .nchanges = 1,
                       .changes = &c };
    msg_encode_result(b, &res);
}

/* Asks for frames and returns the first granted. */
static uint32_t get_frame(conn *ctl, msg_buf *b)
{
    uint64_t one = 1;
    msg_encode_u64s(b, MSG_FRAME_REQ, &one, 1);
    send_or_die(ctl, b);
    uint32_t type;
    const uint8_t *p;
    size_t len;
    uint32_t *ids;
    size_t n;
    if (conn_recv(ctl, &type, &p, &len) || type != MSG_FRAMES ||
        msg_decode_frames(p, len, &ids, &n) || n == 0)
        _exit(4);
    uint32_t f = ids[0];
    dvm_free(ids);
    return f;
}

#define RUN_FRAMES 8

/* Asks for a run of RUN_FRAMES zero frames, writes every one of them
 * through the store (as a runner writes its mapped span) and returns the
 * first. */
static uint32_t get_run(int argc, char **argv, conn *ctl, msg_buf *b)
{
    uint64_t n = RUN_FRAMES, v[2];
    msg_encode_u64s(b, MSG_RUN_REQ, &n, 1);
    send_or_die(ctl, b);
    uint32_t type;
    const uint8_t *p;
    size_t len;
    mem_store *st;
    if (conn_recv(ctl, &type, &p, &len) || type != MSG_RUN ||
        msg_decode_u64s(p, len, v, 2) || v[1] != n ||
        store_attach(arg_fd(argc, argv, "--store"),
                     (uint32_t)arg_fd(argc, argv, "--frames"), &st))
        _exit(6);
    for (uint32_t i = 0; i < n; i++)
        memset(store_frame(st, (uint32_t)v[0] + i), 0x5a, DISA_PAGE);
    store_destroy(st);
    return (uint32_t)v[0];
}

/* Appends RUN_DONE for the run at first. */
static void put_run_done(msg_buf *b, uint32_t first)
{
    uint64_t v[2] = { first, RUN_FRAMES };
    msg_encode_u64s(b, MSG_RUN_DONE, v, 2);
}

/* Asks for two stack blocks of one page and returns them in base[]. */
static void get_stacks(conn *ctl, msg_buf *b, uint64_t base[2])
{
    msg_encode_stack_req(b, 0, 2);
    send_or_die(ctl, b);
    uint32_t type;
    const uint8_t *p;
    size_t len;
    unsigned order;
    uint64_t got[MSG_STACKS_MAX];
    size_t n;
    if (conn_recv(ctl, &type, &p, &len) || type != MSG_STACKS ||
        msg_decode_stacks(p, len, &order, got, &n) || n != 2)
        _exit(5);
    base[0] = got[0];
    base[1] = got[1];
}

/* Appends a committing RESULT with one child on the chosen stack sb. */
static void put_result_kid(msg_buf *b, uint64_t rid, uint64_t attempt,
                           uint64_t snap, uint64_t sb)
{
    runner_desc kid = { .sb = sb, .ss = DISA_PAGE, .fi = DISA_TEXT_BASE,
                        .flags = RUNNER_STACK_CHOSEN };
    msg_result res = { .rid = rid, .attempt = attempt, .snap = snap,
                       .exit = MSG_EXIT_COMMIT, .nkids = 1, .kids = &kid };
    msg_encode_result(b, &res);
}

/* The local child scripts (`local_...`, sched/local.h): the runner
 * commits one child on a granted block, names it as started at once
 * (unless `local_unexpected`), and the child's result follows: rid 0, the
 * creator's snapshot, a note of the context's run id -- right (the rid
 * the master will give it, 2) for `local_kept`, 0 for `local_rerun` --
 * and for `local_watcher` a creator whose child is a watcher, which the
 * master does not take as started at once. */
static void local_script(const char *script, conn *ctl, msg_buf *b,
                         const msg_runner *r)
{
    uint64_t g[2];
    get_stacks(ctl, b, g);
    dvm_range w = { STACK_SB, STACK_SB + 8 };
    runner_desc kid = { .sb = g[1], .ss = DISA_PAGE, .fi = DISA_TEXT_BASE,
                        .flags = RUNNER_STACK_CHOSEN };
    if (!strcmp(script, "local_watcher")) {
        kid.nwatch = 1;
        kid.watch = &w;
    }
    msg_result c = { .rid = r->rid, .attempt = r->attempt, .snap = r->snap,
                     .exit = MSG_EXIT_COMMIT, .nkids = 1, .kids = &kid,
                     .local = strcmp(script, "local_unexpected") ? 1 : 0 };
    msg_encode_result(b, &c);
    msg_note n = { .addr = DISA_CTX_RID, .len = 8,
                   .bytes = { !strcmp(script, "local_rerun") ? 0 : 2 } };
    msg_result k = { .rid = 0, .snap = r->snap, .exit = MSG_EXIT_COMMIT,
                     .flags = MSG_RESULT_LOCAL, .nnotes = 1, .notes = &n };
    msg_encode_result(b, &k);
}

/* Appends a committing RESULT with a page change in frame f (if not 0)
 * and output of len bytes to channel chan in the n frames of.  The count
 * need not match the frames: the master must check. */
static void put_result_out(msg_buf *b, const msg_runner *r, uint32_t f,
                           uint32_t chan, uint64_t len, const uint32_t *of,
                           uint32_t n)
{
    static const mem_run run = { 8, 1 };
    mem_change c = space_change(STACK_SB / DISA_PAGE, f,
                                diff_of_runs(&run, 1));
    msg_output o = { chan, len, n, of };
    msg_result res = { .rid = r->rid, .attempt = r->attempt, .snap = r->snap,
                       .exit = MSG_EXIT_COMMIT, .nchanges = f ? 1 : 0,
                       .changes = &c, .nout = 1, .out = &o };
    msg_encode_result(b, &res);
}

/* The output scripts: `output_...`. */
static void output_script(const char *script, conn *ctl, msg_buf *b,
                          const msg_runner *r)
{
    uint32_t f = get_frame(ctl, b), g = get_frame(ctl, b);
    uint32_t foreign = (f > g ? f : g) + 1;
    if (!strcmp(script, "output_valid"))
        put_result_out(b, r, f, 0, 3, &g, 1);
    else if (!strcmp(script, "output_foreign_frame"))
        put_result_out(b, r, f, 0, 3, &foreign, 1);
    else if (!strcmp(script, "output_frame_twice"))
        put_result_out(b, r, f, 0, 3, &f, 1);
    else if (!strcmp(script, "output_beyond_frames"))
        put_result_out(b, r, f, 0, DISA_PAGE + 1, &g, 1);
    else
        put_result_out(b, r, f, 7, 3, &g, 1);   /* unknown channel */
}

static int fake_rcomp(int argc, char **argv)
{
    const char *script = getenv("DVM_TEST_SCRIPT");
    conn ctl;
    conn_init(&ctl, arg_fd(argc, argv, "--ctl"));
    shmq *q;
    if (shmq_open(arg_fd(argc, argv, "--ctl-queue"), &q))
        _exit(2);
    conn_attach_shmq(&ctl, q, 0);
    msg_buf b;
    mb_init(&b);
    msg_encode_u64s(&b, MSG_READY, NULL, 0);
    send_or_die(&ctl, &b);
    uint32_t type;
    const uint8_t *p;
    size_t len;
    msg_dispatch d;
    if (conn_recv(&ctl, &type, &p, &len) || type != MSG_DISPATCH ||
        msg_decode_dispatch(p, len, &d) || d.n == 0)
        _exit(2);
    const msg_runner *r = &d.r[0];
    if (!strcmp(script, "wrong_attempt")) {
        put_result(&b, r->rid, r->attempt + 1, r->snap, 0);
    } else if (!strcmp(script, "stale_snapshot")) {
        put_result(&b, r->rid, r->attempt, r->snap + 1, 0);
    } else if (!strcmp(script, "foreign_frame")) {
        uint32_t granted = get_frame(&ctl, &b);
        put_result(&b, r->rid, r->attempt, r->snap, granted + 1);
    } else if (!strcmp(script, "foreign_stack")) {
        uint64_t g[2];
        get_stacks(&ctl, &b, g);
        put_result_kid(&b, r->rid, r->attempt, r->snap,
                       (g[0] > g[1] ? g[0] : g[1]) + 0x10000);
    } else if (!strcmp(script, "chosen_stack")) {
        uint64_t g[2];
        get_stacks(&ctl, &b, g);
        put_result_kid(&b, r->rid, r->attempt, r->snap, g[1]);
    } else if (!strncmp(script, "output_", 7)) {
        output_script(script, &ctl, &b, r);
    } else if (!strncmp(script, "local_", 6)) {
        local_script(script, &ctl, &b, r);
    } else if (!strcmp(script, "implied")) {
        put_result_implied(&b, r, get_frame(&ctl, &b));
    } else if (!strcmp(script, "run")) {
        uint32_t first = get_run(argc, argv, &ctl, &b);
        put_result_implied(&b, r, first + 3);
        put_run_done(&b, first);
    } else if (!strcmp(script, "run_done_bad")) {
        uint32_t first = get_run(argc, argv, &ctl, &b);
        put_result_implied(&b, r, first + 3);
        uint64_t one = first;                       /* a word short */
        msg_encode_u64s(&b, MSG_RUN_DONE, &one, 1);
    } else if (!strcmp(script, "run_lost")) {
        uint32_t first = get_run(argc, argv, &ctl, &b);
        put_result_implied(&b, r, first + RUN_FRAMES);  /* not its own */
    } else if (!strcmp(script, "unknown_runner")) {
        put_result(&b, r->rid + 1000, r->attempt, r->snap, 0);
    } else if (!strcmp(script, "result_after_lost")) {
        uint32_t f = get_frame(&ctl, &b);
        msg_encode_u64s(&b, MSG_READY, NULL, 0);   /* a second READY */
        put_result(&b, r->rid, r->attempt, r->snap, f);
    } else {
        put_result(&b, r->rid, r->attempt, r->snap, get_frame(&ctl, &b));
    }
    send_or_die(&ctl, &b);
    msg_dispatch_free(&d);
    /* Stay until the master closes the socket or kills us. */
    while (!conn_recv(&ctl, &type, &p, &len))
        ;
    mb_free(&b);
    return 0;
}

/* ---- the master's side ------------------------------------------------------ */

typedef struct fixture {
    commit_fixture c;
    dvm_program prog;
    master_config cfg;
    rcomp_set rs;
    int image_fd;
} fixture;

static int setup(void **state)
{
    fixture *f = dvm_calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(commit_fixture_open(&f->c, 4096), 0);
    f->cfg = (master_config){ .prog = &f->prog, .rcomp_exe = "/proc/self/exe",
                              .nrcomps = 1, .engine = "interp" };
    f->image_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    f->rs = (rcomp_set){ .cfg = &f->cfg, .cp = &f->c.cp, .nrc = 1,
                         .epfd = epoll_create1(EPOLL_CLOEXEC),
                         .image_fd = f->image_fd };
    f->rs.frame_owner = dvm_calloc(4096, sizeof *f->rs.frame_owner);
    assert_non_null(f->rs.frame_owner);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rcomps_stop(&f->rs);
    close(f->rs.epfd);
    close(f->image_fd);
    dvm_free(f->rs.frame_owner);
    commit_fixture_close(&f->c);
    dvm_free(f);
    return 0;
}

/* Serves the set's sockets and queues, as the master's loop does, until
 * done(f) or 10 s pass. */
static void serve_until(fixture *f, int (*done)(const fixture *))
{
    uint64_t t_end = clock_now_ns() + 10000000000ull;
    spin_mem queues = rcomps_queues(&f->rs);
    while (!done(f) && clock_now_ns() < t_end) {
        struct epoll_event ev[8];
        int n = spin_epoll_wait(f->rs.epfd, ev, 8, 100, 1, &queues);
        for (int i = 0; i < n; i++)
            assert_int_equal(rcomps_on_readable(&f->rs, ev[i].data.u64),
                             DVM_OK);
        assert_int_equal(rcomps_on_queues(&f->rs), DVM_OK);
    }
    assert_true(done(f));
}

static int slot_ready(const fixture *f)
{
    return f->rs.rc[0].ready;
}

static int replaced(const fixture *f)
{
    return f->c.st.rcomps_replaced > 0;
}

static int committed(const fixture *f)
{
    return f->c.st.runners_committed > 0;
}

/* Starts one scripted RComp and dispatches one runner (rid 1, attempt 0)
 * to it.  Returns the runner. */
static rcb *start_and_dispatch(fixture *f, const char *script)
{
    setenv("DVM_TEST_SCRIPT", script, 1);
    assert_int_equal(rcomps_start(&f->rs), DVM_OK);
    serve_until(f, slot_ready);
    rcb *r = rcb_new(&f->c.pool);
    r->d.sb = STACK_SB;
    r->d.ss = DISA_PAGE;
    r->d.fi = DISA_TEXT_BASE;
    r->snap = commit_epoch(&f->c.cp);
    rcomp_slot *s = &f->rs.rc[0];
    rcb_ring_push(&s->inflight, r);
    msg_runner mr = { .rid = r->rid, .attempt = r->attempt, .snap = r->snap,
                      .d = r->d };
    msg_dispatch md = { 1, &mr };
    mb_reset(&f->rs.out);
    msg_encode_dispatch(&f->rs.out, &md);
    assert_int_equal(rcomp_send(&f->rs, s), DVM_OK);
    return r;
}

/* The refusal every bad result must lead to. */
static void assert_refused(fixture *f, rcb *r, size_t frames_before)
{
    serve_until(f, replaced);
    assert_int_equal(f->c.st.runners_committed, 0);
    assert_int_equal(space_lookup(f->c.space, STACK_SB / DISA_PAGE,
                                  commit_epoch(&f->c.cp)), 0);
    assert_int_equal(f->rs.rc[0].inflight.n, 0);
    assert_ptr_equal(f->c.pool.ready.head, r);    /* back, unchanged */
    assert_int_equal(r->rid, 1);
    assert_int_equal(r->attempt, 0);
    assert_int_equal(f->rs.rc[0].ngranted, 0);
    /* The replacement's signals are the only frames in use. */
    assert_int_equal(store_in_use(f->c.store), frames_before + 2);
}

static void refused_with(void **state, const char *script)
{
    fixture *f = *state;
    size_t before = store_in_use(f->c.store);
    rcb *r = start_and_dispatch(f, script);
    assert_refused(f, r, before);
    rcb_pop(&f->c.pool.ready);
    rcb_free(r);
}

static void test_wrong_attempt_refused(void **state)
{
    refused_with(state, "wrong_attempt");
}

static void test_stale_snapshot_refused(void **state)
{
    refused_with(state, "stale_snapshot");
}

static void test_foreign_frame_refused(void **state)
{
    refused_with(state, "foreign_frame");
}

/* A child on a stack block never granted to the RComp: refused, and the
 * blocks it was granted are back in the stack area. */
static void test_foreign_stack_refused(void **state)
{
    refused_with(state, "foreign_stack");
    fixture *f = *state;
    assert_true(stacks_in_use(f->c.stacks) == 0);
}

/* A child on a granted block commits: the block is the child's now, the
 * other block stays granted to the RComp until it is lost. */
static void test_chosen_stack_commits(void **state)
{
    fixture *f = *state;
    start_and_dispatch(f, "chosen_stack");
    serve_until(f, committed);
    assert_int_equal(f->c.st.rcomps_replaced, 0);
    assert_int_equal(f->c.st.stacks_granted, 2);
    rcb *child = rcb_pop(&f->c.pool.ready);
    assert_non_null(child);
    assert_int_equal(child->d.flags, RUNNER_STACK_CHOSEN);
    assert_true(stacks_owned(f->c.stacks, child->d.sb, 0, STACKS_RUNNER));
    assert_true(stacks_owner_bytes(f->c.stacks, STACKS_RUNNER) == DISA_PAGE);
    assert_true(stacks_owner_bytes(f->c.stacks, 1) == DISA_PAGE);
    assert_int_equal(rcomp_lost(&f->rs, &f->rs.rc[0], "test"), DVM_OK);
    assert_true(stacks_in_use(f->c.stacks) == DISA_PAGE);
    commit_runner_done(&f->c.cp, child);
    assert_true(stacks_owner_bytes(f->c.stacks, STACKS_LIMBO) == DISA_PAGE);
    stacks_reclaim(f->c.stacks, commit_epoch(&f->c.cp));
    assert_true(stacks_in_use(f->c.stacks) == 0);
}

static void test_unknown_runner_refused(void **state)
{
    refused_with(state, "unknown_runner");
}

/* A valid result that arrives after its RComp broke the protocol (a second
 * READY) comes from an RComp already declared lost: it is never read. */
static void test_result_after_lost_ignored(void **state)
{
    refused_with(state, "result_after_lost");
}

/* Output in frames: refused when a frame was not granted to the RComp,
 * or is named twice (for a page and for output), when the count runs past
 * the frames or the channel does not exist.  The frames it was granted
 * are back in the store (assert_refused). */
static void test_bad_output_refused(void **state)
{
    static const char *const scripts[] = {
        "output_foreign_frame", "output_frame_twice", "output_beyond_frames",
        "output_unknown_channel" };
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        refused_with(state, scripts[i]);
        teardown(state);
        setup(state);
    }
}

/* Output in a granted frame commits: written to the sink, the frame back
 * in the store. */
static void test_output_commits(void **state)
{
    fixture *f = *state;
    size_t before = store_in_use(f->c.store);
    start_and_dispatch(f, "output_valid");
    serve_until(f, committed);
    assert_int_equal(f->c.st.rcomps_replaced, 0);
    assert_int_equal(f->c.sink.bytes, 3);
    /* the page version only: not the output's frame */
    assert_int_equal(store_in_use(f->c.store), before + 1);
}

/* A page changed as implied by its frame (diff.h) must be zero at the
 * runner's snapshot: when it is, the change commits; when it is not, the
 * frame's nonzero bytes are not what changed and the result is refused. */
static void test_implied_commits(void **state)
{
    fixture *f = *state;
    start_and_dispatch(f, "implied");
    serve_until(f, committed);
    assert_int_equal(f->c.st.rcomps_replaced, 0);
    assert_int_equal(commit_epoch(&f->c.cp), 1);
    assert_int_not_equal(space_lookup(f->c.space, IMPLIED_PAGE, 1), 0);
}

static void test_implied_nonzero_refused(void **state)
{
    fixture *f = *state;
    static const uint8_t one = 1;
    assert_int_equal(commit_write(&f->c.cp, IMPLIED_PAGE * DISA_PAGE + 5,
                                  &one, 1), DVM_OK);
    refused_with(state, "implied");
}

static int runs_back(const fixture *f)
{
    return committed(f) && f->rs.rc[0].nruns == 0;
}

/* True when frames [first, first + n) read as zeros in the master's
 * store. */
static int frames_zero(fixture *f, uint32_t first, uint32_t n)
{
    for (uint32_t i = first; i < first + n; i++)
        for (unsigned b = 0; b < DISA_PAGE; b++)
            if (store_frame(f->c.store, i)[b])
                return 0;
    return 1;
}

/* A run of zero frames (MSG_RUN_REQ): the frame a result names becomes
 * the page's version as the RComp wrote it; RUN_DONE gives back the rest,
 * punched: they read as zeros again and are free. */
static void test_run_adopted(void **state)
{
    fixture *f = *state;
    size_t before = store_in_use(f->c.store);
    start_and_dispatch(f, "run");
    serve_until(f, runs_back);
    assert_int_equal(f->c.st.rcomps_replaced, 0);
    uint32_t first = (uint32_t)space_lookup(f->c.space, IMPLIED_PAGE, 1);
    assert_int_not_equal(first, 0);
    assert_int_equal(store_frame(f->c.store, first)[100], 0x5a);
    first -= 3;
    assert_true(frames_zero(f, first, 3));
    assert_true(frames_zero(f, first + 4, RUN_FRAMES - 4));
    assert_int_equal(f->rs.frame_owner[first], 0);
    assert_int_equal(store_in_use(f->c.store), before + 1);
}

/* An RComp lost with a run granted (here: its result names a frame past
 * the run) loses exactly the run's frames: back in the store, punched
 * (the dead runner's bytes are gone). */
static void test_run_lost_punched(void **state)
{
    fixture *f = *state;
    size_t before = store_in_use(f->c.store);
    rcb *r = start_and_dispatch(f, "run_lost");
    assert_refused(f, r, before);
    assert_int_equal(f->rs.rc[0].nruns, 0);
    for (uint32_t i = 1; i < store_max_frames(f->c.store); i++)
        assert_int_not_equal(store_frame(f->c.store, i)[0], 0x5a);
    rcb_pop(&f->c.pool.ready);
    rcb_free(r);
}

/* A malformed RUN_DONE loses the RComp (it gave back no run it named):
 * the result before it committed, the rest of the run comes back
 * punched (and may be in use again: the lost RComp's signal commit). */
static void test_run_done_malformed(void **state)
{
    fixture *f = *state;
    start_and_dispatch(f, "run_done_bad");
    serve_until(f, replaced);
    assert_int_equal(f->c.st.runners_committed, 1);
    assert_int_equal(f->rs.rc[0].nruns, 0);
    uint32_t first = (uint32_t)space_lookup(f->c.space, IMPLIED_PAGE, 1);
    assert_int_not_equal(first, 0);
    assert_int_equal(store_frame(f->c.store, first)[0], 0x5a);
    first -= 3;
    for (uint32_t i = 0; i < RUN_FRAMES; i++)
        if (i != 3)
            assert_int_not_equal(store_frame(f->c.store, first + i)[0], 0x5a);
}

static int two_results(const fixture *f)
{
    const master_stats *st = &f->c.st;
    return st->local_kept + st->local_rerun + st->local_dropped > 0;
}

/* A child started at once whose notes hold at its creator's commit is
 * kept: it commits as the master numbered it (rid 2), its stack is the
 * runner's, nothing waits. */
static void test_local_kept(void **state)
{
    fixture *f = *state;
    start_and_dispatch(f, "local_kept");
    serve_until(f, two_results);
    const master_stats *st = &f->c.st;
    assert_int_equal(st->rcomps_replaced, 0);
    assert_int_equal(st->local_started, 1);
    assert_int_equal(st->local_kept, 1);
    assert_int_equal(st->runners_committed, 2);
    assert_int_equal(f->rs.rc[0].inflight.n, 0);
    assert_null(f->c.pool.ready.head);
}

/* One whose notes do not hold (it read run id 0) runs again: its record
 * is in the ready queue, unchanged, and nothing of its result was
 * committed. */
static void test_local_rerun(void **state)
{
    fixture *f = *state;
    start_and_dispatch(f, "local_rerun");
    serve_until(f, two_results);
    const master_stats *st = &f->c.st;
    assert_int_equal(st->rcomps_replaced, 0);
    assert_int_equal(st->local_rerun, 1);
    assert_int_equal(st->runners_committed, 1);
    rcb *k = f->c.pool.ready.head;
    assert_non_null(k);
    assert_int_equal(k->rid, 2);
    assert_int_equal(k->attempt, 0);
    assert_int_equal(k->local, 0);
    assert_int_equal(f->rs.rc[0].inflight.n, 0);
}

/* A creator whose child is a watcher: the master admits the child as a
 * watcher, and the result the RComp sends for it is dropped. */
static void test_local_watcher_dropped(void **state)
{
    fixture *f = *state;
    start_and_dispatch(f, "local_watcher");
    serve_until(f, two_results);
    const master_stats *st = &f->c.st;
    assert_int_equal(st->rcomps_replaced, 0);
    assert_int_equal(st->local_dropped, 1);
    assert_int_equal(st->local_started, 0);
    assert_int_equal(st->watchers_created, 1);
    assert_int_equal(st->runners_committed, 1);
    assert_int_equal(f->rs.rc[0].inflight.n, 0);
}

/* A local result that no creator named is a protocol error: the RComp is
 * replaced (its creator's commit stands). */
static void test_local_unexpected_refused(void **state)
{
    fixture *f = *state;
    start_and_dispatch(f, "local_unexpected");
    serve_until(f, replaced);
    assert_int_equal(f->c.st.runners_committed, 1);
    assert_int_equal(f->c.st.local_kept, 0);
}

/* The control: a correct result commits, with the frame it was granted. */
static void test_valid_result_commits(void **state)
{
    fixture *f = *state;
    start_and_dispatch(f, "valid");
    serve_until(f, committed);
    assert_int_equal(f->c.st.rcomps_replaced, 0);
    assert_int_equal(commit_epoch(&f->c.cp), 1);
    assert_int_equal(f->rs.rc[0].inflight.n, 0);
    assert_null(f->c.pool.ready.head);
}

static void remote_lost_stub(void *arg, int slot)
{
    (void)arg;
    (void)slot;
    fail_msg("a slot that leaves is not lost");
}

/* Remote slots whose node leaves (rcomps_leave, rcomp_left): nothing is
 * dispatched to them any more, even after a READY; __nrcomp drops at
 * once; what one had in flight goes back to the ready queue without
 * counting as a lost RComp. */
static void test_leave_gives_back(void **state)
{
    fixture *f = *state;
    master_remote rem = { .lost = remote_lost_stub, .arg = f };
    f->cfg.remote = &rem;
    f->cfg.nrcomps = 0;
    f->rs.nrc = 0;
    f->rs.cap = 2;
    f->rs.rc = dvm_calloc(2, sizeof *f->rs.rc);
    assert_non_null(f->rs.rc);
    int a, b;
    assert_int_equal(rcomps_add_remote(&f->rs, &a), DVM_OK);
    assert_int_equal(rcomps_add_remote(&f->rs, &b), DVM_OK);
    assert_int_equal(rcomps_on_remote(&f->rs, a, 0, MSG_READY, NULL, 0),
                     DVM_OK);
    assert_true(f->rs.rc[a].ready);
    rcb *r = rcb_new(&f->c.pool);
    assert_non_null(r);
    rcb_ring_push(&f->rs.rc[a].inflight, r);
    uint64_t signals = f->c.st.signals;
    assert_int_equal(rcomps_leave(&f->rs, a), DVM_OK);
    assert_int_equal(rcomps_leave(&f->rs, b), DVM_OK);
    assert_int_equal(rcomps_leave(&f->rs, b), DVM_OK);   /* once is enough */
    assert_int_equal(f->c.st.signals, signals + 2);
    assert_int_equal(rcomps_live(&f->rs), 0);
    assert_false(f->rs.rc[a].ready);
    assert_int_equal(rcomps_on_remote(&f->rs, b, 0, MSG_READY, NULL, 0),
                     DVM_OK);
    assert_false(f->rs.rc[b].ready);
    assert_int_equal(rcomps_inflight(&f->rs), 1);   /* still running there */
    rcomp_left(&f->rs, &f->rs.rc[a]);
    rcomp_left(&f->rs, &f->rs.rc[b]);
    rcomp_left(&f->rs, &f->rs.rc[a]);               /* gone: a no-op */
    assert_true(f->rs.rc[a].gone && f->rs.rc[b].gone);
    assert_int_equal(rcomps_inflight(&f->rs), 0);
    assert_ptr_equal(f->c.pool.ready.head, r);
    assert_int_equal(r->lost, 0);
    assert_int_equal(f->c.st.rerun_lost, 0);
    assert_int_equal(f->c.st.signals, signals + 2);
    rcb_pop(&f->c.pool.ready);
    rcb_free(r);
}

static int may_commit_now;

static int may_commit_stub(void *arg)
{
    (void)arg;
    return may_commit_now;
}

static void lost_ok(void *arg, int slot)
{
    (void)arg;
    (void)slot;
}

/* A remote slot with runner *r in flight (the fixture's set made remote). */
static int remote_with_runner(fixture *f, master_remote *rem, rcb **r)
{
    f->cfg.remote = rem;
    f->cfg.nrcomps = 0;
    f->rs.nrc = 0;
    f->rs.cap = 2;
    f->rs.rc = dvm_calloc(2, sizeof *f->rs.rc);
    assert_non_null(f->rs.rc);
    int a;
    assert_int_equal(rcomps_add_remote(&f->rs, &a), DVM_OK);
    assert_int_equal(rcomps_on_remote(&f->rs, a, 0, MSG_READY, NULL, 0),
                     DVM_OK);
    *r = rcb_new(&f->c.pool);
    assert_non_null(*r);
    (*r)->snap = commit_epoch(&f->c.cp);
    rcb_ring_push(&f->rs.rc[a].inflight, *r);
    return a;
}

/* Hands slot a the RESULT of r (no change) as a node would. */
static dvm_status remote_result(fixture *f, int a, const rcb *r)
{
    msg_buf b;
    mb_init(&b);
    put_result(&b, r->rid, r->attempt, r->snap, 0);
    dvm_status st = rcomps_on_remote(&f->rs, a, 0, MSG_RESULT,
                                     b.p + MSG_HEADER_SIZE,
                                     b.len - MSG_HEADER_SIZE);
    mb_free(&b);
    return st;
}

/* A remote slot whose runner *r's result arrived while
 * master_remote.may_commit said 0: it waits, uncommitted and still in
 * flight.  Returns the slot. */
static int result_waiting(fixture *f, rcb **r)
{
    static master_remote rem = { .lost = lost_ok,
                                 .may_commit = may_commit_stub };
    rem.arg = f;
    int a = remote_with_runner(f, &rem, r);
    may_commit_now = 0;
    assert_int_equal(remote_result(f, a, *r), DVM_OK);
    assert_int_equal(rcomps_waiting(&f->rs), 1);
    assert_int_equal(rcomps_inflight(&f->rs), 1);
    return a;
}

/* The waiting result is committed once may_commit says 1. */
static void test_results_wait(void **state)
{
    fixture *f = *state;
    rcb *r;
    (void)result_waiting(f, &r);
    assert_int_equal(rcomps_commit_waiting(&f->rs), DVM_OK);
    assert_int_equal(f->c.st.runners_committed, 0);
    may_commit_now = 1;
    assert_int_equal(rcomps_commit_waiting(&f->rs), DVM_OK);
    assert_int_equal(rcomps_waiting(&f->rs), 0);
    assert_int_equal(rcomps_inflight(&f->rs), 0);
    assert_int_equal(f->c.st.runners_committed, 1);
}

/* A node's RComp never starts a child at once: a result that names one
 * loses the slot, and its runner runs again. */
static void test_remote_local_refused(void **state)
{
    fixture *f = *state;
    static master_remote rem = { .lost = lost_ok,
                                 .may_commit = may_commit_stub };
    rem.arg = f;
    rcb *r;
    int a = remote_with_runner(f, &rem, &r);
    may_commit_now = 1;
    runner_desc kid = { .sb = STACK_SB, .ss = DISA_PAGE, .fi = DISA_TEXT_BASE };
    msg_result res = { .rid = r->rid, .attempt = r->attempt, .snap = r->snap,
                       .exit = MSG_EXIT_COMMIT, .nkids = 1, .kids = &kid,
                       .local = 1 };
    msg_buf b;
    mb_init(&b);
    msg_encode_result(&b, &res);
    assert_int_equal(rcomps_on_remote(&f->rs, a, 0, MSG_RESULT,
                                      b.p + MSG_HEADER_SIZE,
                                      b.len - MSG_HEADER_SIZE), DVM_OK);
    mb_free(&b);
    assert_true(f->rs.rc[a].gone);
    assert_int_equal(f->c.st.runners_committed, 0);
    assert_ptr_equal(f->c.pool.ready.head, r);
    rcb_pop(&f->c.pool.ready);
    rcb_free(r);
}

/* A waiting result of a slot lost meanwhile is dropped: its runner is
 * back in the ready queue, nothing committed. */
static void test_waiting_result_of_lost_slot(void **state)
{
    fixture *f = *state;
    rcb *r;
    int a = result_waiting(f, &r);
    assert_int_equal(rcomp_lost(&f->rs, &f->rs.rc[a], "test"), DVM_OK);
    may_commit_now = 1;
    assert_int_equal(rcomps_commit_waiting(&f->rs), DVM_OK);
    assert_int_equal(rcomps_waiting(&f->rs), 0);
    assert_int_equal(f->c.st.runners_committed, 0);
    assert_ptr_equal(f->c.pool.ready.head, r);
    assert_int_equal(r->lost, 0);       /* it had finished: not its doing */
    rcb_pop(&f->c.pool.ready);
    rcb_free(r);
}

/* A lost slot counts against the runner it was running -- the oldest
 * whose result has not come -- not the one before it whose result waits:
 * that one had finished.  The one running is faulted at the limit, the
 * finished one goes back to the ready queue. */
static void test_lost_counts_the_running_one(void **state)
{
    fixture *f = *state;
    rcb *done;
    int a = result_waiting(f, &done);
    rcb *running = rcb_new(&f->c.pool);
    assert_non_null(running);
    running->snap = done->snap;
    running->lost = RCOMPS_LOST_LIMIT - 1;
    rcb_ring_push(&f->rs.rc[a].inflight, running);
    assert_int_equal(rcomp_lost(&f->rs, &f->rs.rc[a], "test"), DVM_OK);
    assert_int_equal(f->c.st.runners_faulted, 1);
    assert_int_equal(done->lost, 0);
    assert_ptr_equal(f->c.pool.ready.head, done);
    assert_null(done->next);            /* the faulted one is not queued */
    assert_int_equal(rcomps_inflight(&f->rs), 0);
    may_commit_now = 1;
    assert_int_equal(rcomps_commit_waiting(&f->rs), DVM_OK);
    assert_int_equal(rcomps_waiting(&f->rs), 0);
    rcb_pop(&f->c.pool.ready);
    rcb_free(done);
}

/* A slot's claim numbers run at most a board ahead of its oldest runner
 * in flight, however often the newer ones are taken back and replaced
 * (net/claim.h): before rcomps_claim_room the master reused the word of
 * a runner still queued behind a long one. */
static void test_claim_room(void **state)
{
    (void)state;
    rcomp_slot s;
    rcb head, newer;
    memset(&s, 0, sizeof s);
    memset(&head, 0, sizeof head);
    memset(&newer, 0, sizeof newer);
    assert_int_equal(rcomps_claim_room(&s), RCB_RING_MAX);
    s.claim_next = UINT32_MAX - 10;             /* the numbers wrap */
    rcb_ring_push(&s.inflight, &head);
    rcomps_offer(&s, &head, 0);
    assert_int_equal(rcomps_claim_room(&s), CLAIM_SLOTS - 1);
    size_t offered = 1;
    while (rcomps_claim_room(&s) > 0 && offered < 4 * CLAIM_SLOTS) {
        rcb_ring_push(&s.inflight, &newer);
        rcomps_offer(&s, &newer, 0);
        assert_ptr_equal(rcb_ring_pop_newest(&s.inflight), &newer);
        offered++;                              /* taken back */
    }
    assert_int_equal(offered, CLAIM_SLOTS);
    assert_int_equal((uint32_t)(s.claim_next - head.claim_seq), CLAIM_SLOTS);
    assert_ptr_equal(rcb_ring_pop(&s.inflight), &head);     /* answered */
    assert_int_equal(rcomps_claim_room(&s), RCB_RING_MAX);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "__rcomp"))
        return fake_rcomp(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_run_adopted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_done_malformed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_run_lost_punched, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_implied_commits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_implied_nonzero_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_valid_result_commits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wrong_attempt_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stale_snapshot_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_foreign_frame_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_runner_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_foreign_stack_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_chosen_stack_commits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_results_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_counts_the_running_one,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiting_result_of_lost_slot,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_result_after_lost_ignored, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_output_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_leave_gives_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_local_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_local_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_local_rerun, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_watcher_dropped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_local_unexpected_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_output_commits, setup,
                                        teardown),
        cmocka_unit_test(test_claim_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
