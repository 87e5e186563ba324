/*
 * msave_test.c -- a resuming client gets exactly the saved output it lacks:
 * from its counts to what the master emitted, per channel (the program's
 * and the diagnostics), nothing for a channel it has whole; a client of
 * another program, or one claiming more than was emitted, is refused.
 * A program that ended keeps its verdict, and its output, until it is
 * finished.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dist/msave.h"
#include "dist/statedir_fixture.h"
#include "util/alloc.h"


typedef struct sent {
    char out[2][64];
    size_t n[2];
} sent;

static dvm_status on_send(void *arg, uint64_t chan, const uint8_t *p, size_t n)
{
    sent *s = arg;
    int k = chan == CMSG_CHAN_DIAG;
    assert_true(chan == 0 || k);
    memcpy(s->out[k] + s->n[k], p, n);
    s->n[k] += n;
    return DVM_OK;
}

/* Opens the store in statedir: *v, and the status msave_open returned;
 * *present and *ended as it set them (0 when it refused the store).  A
 * SUBMIT handed out is freed; one handed out by a refusal fails. */
static dvm_status open_store(msave *v, int *present, int *ended)
{
    uint8_t *sub = NULL;
    size_t nsub;
    *present = *ended = 0;
    dvm_status st = msave_open(v, statedir, present, ended, &sub, &nsub);
    if (st || !*present)
        assert_null(sub);
    dvm_free(sub);
    return st;
}

/* A saved program: "line 1\nline 2\n" on stdout in two records, a fault
 * report on the diagnostics. */
static void save_program(void)
{
    msave v;
    int present, ended;
    assert_int_equal(open_store(&v, &present, &ended), DVM_OK);
    assert_false(present);
    mstate_head h = { .epoch = 4, .next_rid = 3, .submit_id = 99,
                      .nchans = 2 };
    h.chans[0] = (mstate_chan){ 0, 14 };
    h.chans[1] = (mstate_chan){ CMSG_CHAN_DIAG, 6 };
    assert_int_equal(mstate_begin(v.ms), DVM_OK);
    mstate_put_submit(v.ms, (const uint8_t *)"x", 1);
    mstate_put_head(v.ms, &h);
    mstate_put_output(v.ms, 0, 0, (const uint8_t *)"line 1\n", 7);
    mstate_put_output(v.ms, 0, 7, (const uint8_t *)"line 2\n", 7);
    mstate_put_output(v.ms, CMSG_CHAN_DIAG, 0, (const uint8_t *)"fault\n", 6);
    assert_int_equal(mstate_commit(v.ms), DVM_OK);
    msave_close(&v);
}

static void test_replay_from_counts(void **state)
{
    (void)state;
    save_program();
    msave v;
    int present, ended;
    assert_int_equal(open_store(&v, &present, &ended), DVM_OK);
    assert_true(present);
    assert_false(ended);
    /* Got "line 1\nli" and the whole report: gets "ne 2\n" only. */
    cmsg_resume r = { .id = 99, .n = 2, .chan = { 0, CMSG_CHAN_DIAG },
                      .bytes = { 9, 6 } };
    sent s;
    memset(&s, 0, sizeof s);
    assert_int_equal(msave_replay(&v, &r, on_send, &s), DVM_OK);
    assert_int_equal(s.n[0], 5);
    assert_memory_equal(s.out[0], "ne 2\n", 5);
    assert_int_equal(s.n[1], 0);
    /* Got nothing (a channel not named is at 0): everything. */
    r.n = 0;
    memset(&s, 0, sizeof s);
    assert_int_equal(msave_replay(&v, &r, on_send, &s), DVM_OK);
    assert_int_equal(s.n[0], 14);
    assert_int_equal(s.n[1], 6);
    /* More than was emitted, a channel never written to, another
     * program: refused. */
    r.n = 1;
    r.bytes[0] = 15;
    assert_int_equal(msave_replay(&v, &r, on_send, &s), DVM_EPROTO);
    r.chan[0] = 3;
    r.bytes[0] = 1;
    assert_int_equal(msave_replay(&v, &r, on_send, &s), DVM_EPROTO);
    r.id = 98;
    r.n = 0;
    assert_int_equal(msave_replay(&v, &r, on_send, &s), DVM_EPROTO);
    /* Finished: a store without a program. */
    assert_int_equal(msave_finish(&v), DVM_OK);
    msave_close(&v);
    assert_int_equal(open_store(&v, &present, &ended), DVM_OK);
    assert_false(present);
    msave_close(&v);
}

/* The verdict is kept over a restart with the output it followed; a
 * store with none says so; finishing drops it with the program. */
static void test_verdict_kept(void **state)
{
    (void)state;
    save_program();
    msave v;
    int present, ended;
    uint8_t *done = NULL;
    size_t ndone;
    assert_int_equal(open_store(&v, &present, &ended), DVM_OK);
    assert_true(present);
    assert_false(ended);
    assert_int_equal(msave_verdict(&v, &done, &ndone), DVM_EFORMAT);
    msg_buf b;
    mb_init(&b);
    cmsg_done d = { 1, { (const uint8_t *)"err", 3 }, { NULL, 0 },
                    { NULL, 0 }, { NULL, 0 } };
    cmsg_encode_done(&b, &d);
    assert_int_equal(msave_end(&v, b.p, b.len), DVM_OK);
    msave_close(&v);
    assert_int_equal(open_store(&v, &present, &ended), DVM_OK);
    assert_true(present);
    assert_true(ended);
    assert_int_equal(msave_verdict(&v, &done, &ndone), DVM_OK);
    assert_int_equal(ndone, b.len);
    assert_memory_equal(done, b.p, b.len);
    dvm_free(done);
    mb_free(&b);
    cmsg_resume r = { .id = 99, .n = 1, .chan = { 0 }, .bytes = { 7 } };
    sent s;
    memset(&s, 0, sizeof s);
    assert_int_equal(msave_replay(&v, &r, on_send, &s), DVM_OK);
    assert_int_equal(s.n[0], 7);
    assert_memory_equal(s.out[0], "line 2\n", 7);
    assert_int_equal(msave_finish(&v), DVM_OK);
    msave_close(&v);
    assert_int_equal(open_store(&v, &present, &ended), DVM_OK);
    assert_false(present);
    assert_false(ended);
    msave_close(&v);
}

/* A verdict that does not decode, or one without its program: the store
 * is refused. */
static void test_verdict_corrupt(void **state)
{
    (void)state;
    save_program();
    msave v;
    int present, ended;
    assert_int_equal(open_store(&v, &present, &ended), DVM_OK);
    assert_int_equal(msave_end(&v, (const uint8_t *)"garbage", 7), DVM_OK);
    msave_close(&v);
    assert_int_equal(open_store(&v, &present, &ended), DVM_EFORMAT);
    msave_close(&v);
    mstate *ms;
    assert_int_equal(mstate_open(statedir, &ms), DVM_OK);
    assert_int_equal(mstate_begin(ms), DVM_OK);
    mstate_clear(ms);
    mstate_put_verdict(ms, (const uint8_t *)"x", 1);
    assert_int_equal(mstate_commit(ms), DVM_OK);
    mstate_close(ms);
    assert_int_equal(open_store(&v, &present, &ended), DVM_EFORMAT);
    msave_close(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STATEDIR_TEST(test_replay_from_counts),
        STATEDIR_TEST(test_verdict_kept),
        STATEDIR_TEST(test_verdict_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
