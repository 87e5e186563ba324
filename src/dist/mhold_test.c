/*
 * mhold_test.c -- the held output: nothing leaves before its epoch is
 * stable; released in order and byte for byte (frames, the partial last
 * frame, several entries, a large one in chunks); the store gets every
 * frame back, on release and when the queue is dropped unsent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dist/mhold.h"
#include "util/alloc.h"

/* What the client got: its bytes, with the channel of each. */
typedef struct got {
    uint8_t *p;
    uint64_t *chan;
    size_t n, cap, sends, fail_at;
} got;

static dvm_status take(void *arg, uint64_t chan, const uint8_t *p, size_t n)
{
    got *g = arg;
    assert_true(n > 0 && n <= MHOLD_CHUNK);
    if (++g->sends == g->fail_at)
        return status_set(DVM_EIO, "the client is gone");
    size_t cap = g->cap;
    g->p = dvm_grow(g->p, &cap, g->n + n, 1);
    g->chan = dvm_grow(g->chan, &g->cap, g->n + n, sizeof *g->chan);
    assert_non_null(g->p);
    assert_non_null(g->chan);
    memcpy(g->p + g->n, p, n);
    for (size_t i = 0; i < n; i++)
        g->chan[g->n + i] = chan;
    g->n += n;
    return DVM_OK;
}

static void got_free(got *g)
{
    dvm_free(g->p);
    dvm_free(g->chan);
}

static uint8_t byte_at(uint64_t chan, size_t i)
{
    return (uint8_t)(i * 7 + chan * 31 + i / 4093);
}

/* Holds n bytes of chan (byte_at, from offset at) in pieces of piece. */
static void put(mhold *h, uint64_t epoch, uint64_t chan, size_t at, size_t n,
                size_t piece)
{
    uint8_t *b = dvm_malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        b[i] = byte_at(chan, at + i);
    for (size_t o = 0; o < n; o += piece)
        assert_int_equal(mhold_put(h, epoch, chan, b + o,
                                   n - o < piece ? n - o : piece), DVM_OK);
    dvm_free(b);
}

static void check(const got *g, size_t from, uint64_t chan, size_t at,
                  size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(g->p[from + i], byte_at(chan, at + i));
        assert_int_equal(g->chan[from + i], chan);
    }
}

static void test_order_and_bytes(void **state)
{
    (void)state;
    mem_store *st;
    assert_int_equal(store_create(1 << 16, &st), DVM_OK);
    mhold h;
    mhold_init(&h, st);
    got g = { 0 };
    put(&h, 3, 0, 0, 10, 10);                   /* a line */
    put(&h, 3, 1, 0, 5000, 333);                /* another channel */
    put(&h, 4, 0, 10, 3 * STORE_FRAME_SIZE, 4096);
    put(&h, 6, 0, 10 + 3 * STORE_FRAME_SIZE, 1000000, 65536);  /* big */
    put(&h, 6, 2, 0, 7, 7);
    assert_int_equal(mhold_bytes(&h), 10 + 5000 + 3 * 4096 + 1000000 + 7);
    assert_int_equal(mhold_release(&h, 2, take, &g), DVM_OK);
    assert_int_equal(g.n, 0);                   /* nothing stable yet */
    assert_int_equal(mhold_release(&h, 3, take, &g), DVM_OK);
    assert_int_equal(g.n, 5010);
    check(&g, 0, 0, 0, 10);
    check(&g, 10, 1, 0, 5000);
    put(&h, 7, 1, 5000, 100, 100);              /* more while held */
    assert_int_equal(mhold_release(&h, 6, take, &g), DVM_OK);
    check(&g, 5010, 0, 10, 3 * STORE_FRAME_SIZE + 1000000);
    check(&g, 5010 + 3 * STORE_FRAME_SIZE + 1000000, 2, 0, 7);
    assert_int_equal(mhold_bytes(&h), 100);
    assert_int_equal(mhold_release(&h, 100, take, &g), DVM_OK);
    check(&g, g.n - 100, 1, 5000, 100);
    assert_int_equal(mhold_bytes(&h), 0);
    assert_int_equal(store_in_use(st), 0);
    /* The queue is reused once empty. */
    put(&h, 8, 0, 0, 5, 5);
    assert_int_equal(mhold_release(&h, 8, take, &g), DVM_OK);
    check(&g, g.n - 5, 0, 0, 5);
    mhold_free(&h);
    got_free(&g);
    store_destroy(st);
}

/* Dropped unsent, or cut by a send that fails: every frame goes back. */
static void test_drop_and_fail(void **state)
{
    (void)state;
    mem_store *st;
    assert_int_equal(store_create(1 << 12, &st), DVM_OK);
    mhold h;
    mhold_init(&h, st);
    put(&h, 1, 0, 0, 50000, 50000);
    put(&h, 2, 0, 0, 50, 50);
    assert_true(store_in_use(st) > 0);
    mhold_free(&h);
    assert_int_equal(store_in_use(st), 0);
    mhold_init(&h, st);
    put(&h, 1, 0, 0, 200000, 4096);
    put(&h, 2, 0, 0, 50, 50);
    got g = { .fail_at = 2 };
    assert_int_equal(mhold_release(&h, 2, take, &g), DVM_EIO);
    assert_int_equal(mhold_bytes(&h), 0);
    assert_int_equal(store_in_use(st), 0);
    mhold_free(&h);
    got_free(&g);
    store_destroy(st);
}

/* Many small entries (a line per commit) through a reused queue. */
static void test_many(void **state)
{
    (void)state;
    mem_store *st;
    assert_int_equal(store_create(1 << 14, &st), DVM_OK);
    mhold h;
    mhold_init(&h, st);
    got g = { 0 };
    size_t at = 0;
    for (uint64_t e = 1; e <= 3000; e++) {
        put(&h, e, 0, at, 12, 12);
        at += 12;
        if (e % 7 == 0)
            assert_int_equal(mhold_release(&h, e - 3, take, &g), DVM_OK);
    }
    assert_int_equal(mhold_release(&h, 3000, take, &g), DVM_OK);
    assert_int_equal(g.n, at);
    check(&g, 0, 0, 0, at);
    assert_int_equal(store_in_use(st), 0);
    mhold_free(&h);
    got_free(&g);
    store_destroy(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_bytes),
        cmocka_unit_test(test_drop_and_fail),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
