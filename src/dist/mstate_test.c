/*
 * mstate_test.c -- the master's saved state: a batch written and read
 * back after reopening (head, program, pages, runners, output from any
 * offset), a batch that is aborted leaves nothing, clearing drops the
 * program, and stores that are not this master's -- another format, a
 * garbage file, a record that does not decode, a runner DISA forbids, a
 * gap in the output -- are refused with a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "dist/mstate.h"
#include "isa/isa.h"
#include "dist/statedir_fixture.h"
#include "util/alloc.h"


static dvm_range heap1 = { DISA_RB, DISA_RB + 4096 };
static dvm_range watch1 = { DISA_RB + 64, DISA_RB + 72 };

static persist_runner runner(uint64_t rid, int watching)
{
    return (persist_runner){ .rid = rid, .attempt = 2, .watch_from = 7,
                             .lost = 1, .watching = (uint32_t)watching,
                             .d = { .sb = DISA_RB + 0x10000, .ss = 0x1000,
                                    .fi = 0x100, .nheap = 1,
                                    .nwatch = watching ? 1 : 0,
                                    .heap = &heap1,
                                    .watch = watching ? &watch1 : NULL } };
}

/* Writes a program with 2 pages, 2 runners and 10 bytes of output. */
static void write_program(mstate *ms)
{
    uint8_t page[DISA_PAGE];
    memset(page, 0xab, sizeof page);
    mstate_head h = { .epoch = 9, .next_rid = 5, .submit_id = 0x1234,
                      .nchans = 2 };
    h.stats.commits = 9;
    h.chans[0] = (mstate_chan){ 0, 10 };
    h.chans[1] = (mstate_chan){ 0xFFFF, 0 };
    persist_runner a = runner(3, 0), b = runner(4, 1);
    assert_int_equal(mstate_begin(ms), DVM_OK);
    mstate_put_submit(ms, (const uint8_t *)"program", 7);
    mstate_put_head(ms, &h);
    mstate_put_page(ms, DISA_RB / DISA_PAGE + 1, 3, page);
    page[0] = 1;
    mstate_put_page(ms, DISA_RB / DISA_PAGE, 9, page);
    mstate_put_runner(ms, &a);
    mstate_put_runner(ms, &b);
    mstate_put_output(ms, 0, 0, (const uint8_t *)"hello ", 6);
    mstate_put_output(ms, 0, 6, (const uint8_t *)"you\n", 4);
    assert_int_equal(mstate_commit(ms), DVM_OK);
}

typedef struct seen {
    uint64_t pages[4], epochs[4];
    size_t npages;
    uint64_t rids[4];
    uint32_t watching[4];
    size_t nrunners;
    char out[64];
    size_t nout;
} seen;

static dvm_status on_page(void *arg, uint64_t page, uint64_t epoch,
                          const uint8_t *data)
{
    seen *s = arg;
    assert_true(data[1] == 0xab);
    s->pages[s->npages] = page;
    s->epochs[s->npages++] = epoch;
    return DVM_OK;
}

static dvm_status on_runner(void *arg, persist_runner *r)
{
    seen *s = arg;
    assert_int_equal(r->attempt, 2);
    assert_int_equal(r->d.heap[0].lo, heap1.lo);
    s->watching[s->nrunners] = r->watching;
    s->rids[s->nrunners++] = r->rid;
    return DVM_OK;
}

static dvm_status on_out(void *arg, uint64_t chan, const uint8_t *p, size_t n)
{
    seen *s = arg;
    assert_true(chan <= 1);
    memcpy(s->out + s->nout, p, n);
    s->nout += n;
    return DVM_OK;
}

static void test_round_trip(void **state)
{
    (void)state;
    mstate *ms;
    assert_int_equal(mstate_open(statedir, &ms), DVM_OK);
    write_program(ms);
    mstate_close(ms);
    assert_int_equal(mstate_open(statedir, &ms), DVM_OK);
    int present = 0;
    mstate_head h;
    uint8_t *sub = NULL;
    size_t nsub = 0;
    assert_int_equal(mstate_get(ms, &present, &h, &sub, &nsub), DVM_OK);
    assert_true(present);
    assert_int_equal(nsub, 7);
    assert_memory_equal(sub, "program", 7);
    dvm_free(sub);
    assert_int_equal(h.epoch, 9);
    assert_int_equal(h.next_rid, 5);
    assert_int_equal(h.submit_id, 0x1234);
    assert_int_equal(h.stats.commits, 9);
    assert_int_equal(h.nchans, 2);
    assert_int_equal(h.chans[0].bytes, 10);
    assert_int_equal(h.chans[1].chan, 0xFFFF);
    seen s;
    memset(&s, 0, sizeof s);
    assert_int_equal(mstate_each_page(ms, on_page, &s), DVM_OK);
    assert_int_equal(s.npages, 2);
    assert_int_equal(s.pages[0], DISA_RB / DISA_PAGE);     /* ascending */
    assert_int_equal(s.epochs[0], 9);
    assert_int_equal(s.epochs[1], 3);
    assert_int_equal(mstate_each_runner(ms, on_runner, &s), DVM_OK);
    assert_int_equal(s.nrunners, 2);
    assert_int_equal(s.rids[0], 3);
    assert_int_equal(s.watching[1], 1);
    /* Output from the middle of a record, up to the end. */
    assert_int_equal(mstate_each_output(ms, 0, 4, 10, on_out, &s), DVM_OK);
    assert_int_equal(s.nout, 6);
    assert_memory_equal(s.out, "o you\n", 6);
    /* Beyond what was saved: refused. */
    assert_int_equal(mstate_each_output(ms, 0, 0, 11, on_out, &s),
                     DVM_EFORMAT);
    /* Runner 3 done: deleted; then the program is cleared. */
    assert_int_equal(mstate_begin(ms), DVM_OK);
    mstate_del_runner(ms, 3);
    assert_int_equal(mstate_commit(ms), DVM_OK);
    memset(&s, 0, sizeof s);
    assert_int_equal(mstate_each_runner(ms, on_runner, &s), DVM_OK);
    assert_int_equal(s.nrunners, 1);
    assert_int_equal(mstate_begin(ms), DVM_OK);
    mstate_clear(ms);
    assert_int_equal(mstate_commit(ms), DVM_OK);
    assert_int_equal(mstate_get(ms, &present, &h, &sub, &nsub), DVM_OK);
    assert_false(present);
    memset(&s, 0, sizeof s);
    assert_int_equal(mstate_each_page(ms, on_page, &s), DVM_OK);
    assert_int_equal(s.npages, 0);
    mstate_close(ms);
}

/* One master per store. */
static void test_second_opener_refused(void **state)
{
    (void)state;
    mstate *a, *b;
    assert_int_equal(mstate_open(statedir, &a), DVM_OK);
    assert_int_equal(mstate_open(statedir, &b), DVM_EIO);
    assert_non_null(strstr(status_message(), "another master"));
    mstate_close(a);
    assert_int_equal(mstate_open(statedir, &b), DVM_OK);
    mstate_close(b);
}

static void test_abort_keeps_nothing(void **state)
{
    (void)state;
    mstate *ms;
    assert_int_equal(mstate_open(statedir, &ms), DVM_OK);
    persist_runner a = runner(3, 0);
    assert_int_equal(mstate_begin(ms), DVM_OK);
    mstate_put_runner(ms, &a);
    mstate_abort(ms);
    seen s;
    memset(&s, 0, sizeof s);
    assert_int_equal(mstate_each_runner(ms, on_runner, &s), DVM_OK);
    assert_int_equal(s.nrunners, 0);
    /* A put outside a batch fails the next commit. */
    assert_int_not_equal(mstate_put_runner(ms, &a), DVM_OK);
    mstate_close(ms);
}

/* Puts key -> val into database db of the store in statedir, bypassing the
 * module (to make a corrupt store). */
static void raw_put(const char *db, const void *key, size_t nk,
                    const void *val, size_t nv)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 8);
    mdb_env_set_mapsize(env, 64ULL << 30);
    assert_int_equal(mdb_env_open(env, statedir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, db, MDB_CREATE, &dbi), 0);
    MDB_val k = { nk, (void *)key }, v = { nv, (void *)val };
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void test_other_format_refused(void **state)
{
    (void)state;
    mstate *ms;
    assert_int_equal(mstate_open(statedir, &ms), DVM_OK);
    mstate_close(ms);
    uint8_t f[16] = { 'D', 'V', 'M', 'S', 99 };
    raw_put("meta", "format", 6, f, sizeof f);
    assert_int_equal(mstate_open(statedir, &ms), DVM_EFORMAT);
    assert_non_null(strstr(status_message(), "format 99"));
    raw_put("meta", "format", 6, "xx", 2);
    assert_int_equal(mstate_open(statedir, &ms), DVM_EFORMAT);
}

static void test_garbage_file_refused(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/data.mdb", statedir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 20000; i++)
        fputc(i * 7 & 0xff, f);
    fclose(f);
    mstate *ms;
    assert_int_not_equal(mstate_open(statedir, &ms), DVM_OK);
    assert_non_null(strstr(status_message(), statedir));
}

static void test_bad_records_refused(void **state)
{
    (void)state;
    mstate *ms;
    assert_int_equal(mstate_open(statedir, &ms), DVM_OK);
    write_program(ms);
    mstate_close(ms);
    seen s;
    memset(&s, 0, sizeof s);
    /* A page record one byte short. */
    uint8_t k[8] = { 0, 0, 0, 0, 0, 0, 0x10, 0 }, v[4103];
    memset(v, 1, sizeof v);
    raw_put("pages", k, 8, v, sizeof v);
    assert_int_equal(mstate_open(statedir, &ms), DVM_OK);
    assert_int_equal(mstate_each_page(ms, on_page, &s), DVM_EFORMAT);
    /* A runner whose heap range is empty, and one under another key. */
    persist_runner bad = runner(6, 0);
    dvm_range empty = { DISA_RB + 8, DISA_RB + 8 };
    bad.d.heap = &empty;
    assert_int_equal(mstate_begin(ms), DVM_OK);
    mstate_put_runner(ms, &bad);
    assert_int_equal(mstate_commit(ms), DVM_OK);
    assert_int_equal(mstate_each_runner(ms, on_runner, &s), DVM_EFORMAT);
    mstate_close(ms);
    uint8_t rk[8] = { 0, 0, 0, 0, 0, 0, 0, 6 }, rv[8] = { 0 };
    raw_put("runners", rk, 8, rv, sizeof rv);
    assert_int_equal(mstate_open(statedir, &ms), DVM_OK);
    assert_int_equal(mstate_each_runner(ms, on_runner, &s), DVM_EFORMAT);
    /* A head whose channel count does not match its size. */
    raw_put("meta", "head", 4, "0123456789", 10);
    int present;
    mstate_head h;
    uint8_t *sub;
    size_t nsub;
    assert_int_equal(mstate_get(ms, &present, &h, &sub, &nsub), DVM_EFORMAT);
    mstate_close(ms);
}

static void test_output_gap_refused(void **state)
{
    (void)state;
    mstate *ms;
    assert_int_equal(mstate_open(statedir, &ms), DVM_OK);
    assert_int_equal(mstate_begin(ms), DVM_OK);
    mstate_put_output(ms, 1, 0, (const uint8_t *)"ab", 2);
    mstate_put_output(ms, 1, 5, (const uint8_t *)"cd", 2);
    assert_int_equal(mstate_commit(ms), DVM_OK);
    seen s;
    memset(&s, 0, sizeof s);
    assert_int_equal(mstate_each_output(ms, 1, 0, 7, on_out, &s), DVM_EFORMAT);
    mstate_close(ms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STATEDIR_TEST(test_round_trip),
        STATEDIR_TEST(test_second_opener_refused),
        STATEDIR_TEST(test_abort_keeps_nothing),
        STATEDIR_TEST(test_other_format_refused),
        STATEDIR_TEST(test_garbage_file_refused),
        STATEDIR_TEST(test_bad_records_refused),
        STATEDIR_TEST(test_output_gap_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
