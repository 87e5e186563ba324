/*
 * watch_test.c -- the watcher index: semantics, a randomized comparison
 * with a brute-force model, removal during a query, and a million watchers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sched/watch.h"

typedef struct hitlist {
    uint64_t *ids;
    size_t n;
} hitlist;

static void record(void *arg, uint64_t id)
{
    hitlist *h = arg;
    h->ids[h->n++] = id;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_basic(void **state)
{
    (void)state;
    watch_index *w;
    assert_int_equal(watch_index_create(&w), DVM_OK);
    dvm_range r1[2] = {{100, 200}, {150, 300}};
    dvm_range r2[1] = {{200, 201}};
    assert_int_equal(watch_add(w, 7, r1, 2), DVM_OK);
    assert_int_equal(watch_add(w, 8, r2, 1), DVM_OK);
    assert_int_equal(watch_add(w, 7, r2, 1), DVM_EINVAL);
    assert_int_equal(watch_add(w, 9, r2, 0), DVM_EINVAL);
    dvm_range empty = {5, 5};
    assert_int_equal(watch_add(w, 9, &empty, 1), DVM_EINVAL);
    assert_int_equal(watch_count(w), 2);
    uint64_t buf[8];
    hitlist h = {buf, 0};
    /* Both ranges of 7 match: reported once. */
    assert_int_equal(watch_query(w, 160, 170, record, &h), 1);
    assert_int_equal(buf[0], 7);
    h.n = 0;
    assert_int_equal(watch_query(w, 0, 100, record, &h), 0);   /* adjacent */
    assert_int_equal(watch_query(w, 300, 400, record, &h), 0);
    assert_int_equal(watch_query(w, 199, 199, record, &h), 0); /* empty */
    assert_int_equal(watch_query(w, 200, 201, record, &h), 2);
    assert_int_equal(watch_remove(w, 7), 1);
    assert_int_equal(watch_remove(w, 7), 0);
    h.n = 0;
    assert_int_equal(watch_query(w, 0, UINT64_MAX, record, &h), 1);
    assert_int_equal(buf[0], 8);
    assert_int_equal(watch_count(w), 1);
    watch_index_destroy(w);
    watch_index_destroy(NULL);
}

/* A callback that removes every hit and the next watcher id too. */
typedef struct remover {
    watch_index *w;
    size_t calls;
} remover;

static void remove_hit(void *arg, uint64_t id)
{
    remover *r = arg;
    r->calls++;
    assert_int_equal(watch_remove(r->w, id), 1);
    watch_remove(r->w, id + 1);
    dvm_range nr = {0, 1000};
    assert_int_equal(watch_add(r->w, id + 1000000, &nr, 1), DVM_OK);
}

static void test_remove_during_query(void **state)
{
    (void)state;
    watch_index *w;
    assert_int_equal(watch_index_create(&w), DVM_OK);
    for (uint64_t i = 0; i < 100; i++) {
        dvm_range r = {i * 10, i * 10 + 5};
        assert_int_equal(watch_add(w, i, &r, 1), DVM_OK);
    }
    remover rm = {w, 0};
    size_t n = watch_query(w, 0, 1000, remove_hit, &rm);
    assert_int_equal(n, rm.calls);
    /* Every call also removed its successor, so roughly half were
     * reported, and none twice or after removal. */
    assert_int_equal(n, 50);
    assert_int_equal(watch_count(w), 50);
    watch_index_destroy(w);
}

/* ---- randomized comparison with brute force ------------------------------ */

#define RW 3000

typedef struct model_w {
    int live;
    size_t n;
    dvm_range r[3];
} model_w;

static uint64_t rnd64(unsigned *seed)
{
    return ((uint64_t)rand_r(seed) << 31) ^ (uint64_t)rand_r(seed);
}

static dvm_range random_range(unsigned *seed, uint64_t span)
{
    uint64_t lo = rnd64(seed) % span;
    uint64_t len = rand_r(seed) % 4 == 0 ? rnd64(seed) % (span / 4) + 1
                                         : rnd64(seed) % 64 + 1;
    return (dvm_range){lo, lo + len};
}

static void test_random_vs_model(void **state)
{
    (void)state;
    static model_w m[RW];
    memset(m, 0, sizeof m);
    watch_index *w;
    assert_int_equal(watch_index_create(&w), DVM_OK);
    uint64_t *got = malloc(RW * sizeof *got), *want = malloc(RW * sizeof *want);
    unsigned seed = 7;
    size_t live = 0;
    for (int step = 0; step < 60000; step++) {
        int op = rand_r(&seed) % 10, i = rand_r(&seed) % RW;
        if (op < 4 && !m[i].live) {
            m[i].n = 1 + (size_t)(rand_r(&seed) % 3);
            for (size_t k = 0; k < m[i].n; k++)
                m[i].r[k] = random_range(&seed, 100000);
            assert_int_equal(watch_add(w, (uint64_t)i, m[i].r, m[i].n),
                             DVM_OK);
            m[i].live = 1;
            live++;
        } else if (op < 6) {
            assert_int_equal(watch_remove(w, (uint64_t)i), m[i].live);
            live -= m[i].live;
            m[i].live = 0;
        } else {
            dvm_range q = random_range(&seed, 100000);
            size_t nw = 0;
            for (int k = 0; k < RW; k++)
                for (size_t j = 0; m[k].live && j < m[k].n; j++)
                    if (m[k].r[j].lo < q.hi && q.lo < m[k].r[j].hi) {
                        want[nw++] = (uint64_t)k;
                        break;
                    }
            hitlist h = {got, 0};
            assert_int_equal(watch_query(w, q.lo, q.hi, record, &h), nw);
            qsort(got, h.n, sizeof *got, cmp_u64);
            assert_memory_equal(got, want, nw * sizeof *got);
        }
        assert_int_equal(watch_count(w), live);
    }
    free(got);
    free(want);
    watch_index_destroy(w);
}

/* ---- a million watchers -------------------------------------------------- */

static void count_hit(void *arg, uint64_t id)
{
    (void)id;
    ++*(size_t *)arg;
}

static void test_million(void **state)
{
    (void)state;
    enum { N = 1000000 };
    watch_index *w;
    assert_int_equal(watch_index_create(&w), DVM_OK);
    clock_t t0 = clock();
    /* Watcher i: a stack word at 16 i and a flag at 2^32 + 64 i. */
    for (uint64_t i = 0; i < N; i++) {
        dvm_range r[2] = {{0x40000000 + 16 * i, 0x40000000 + 16 * i + 8},
                         {(1ull << 32) + 64 * i, (1ull << 32) + 64 * i + 1}};
        assert_int_equal(watch_add(w, i + 1, r, 2), DVM_OK);
    }
    clock_t t1 = clock();
    size_t hits = 0;
    for (uint64_t q = 0; q < 200000; q++) {
        uint64_t i = (q * 7919) % N;
        size_t before = hits;
        watch_query(w, 0x40000000 + 16 * i + 4, 0x40000000 + 16 * i + 5,
                    count_hit, &hits);
        assert_int_equal(hits, before + 1);
    }
    /* A range covering 1000 watchers' flags and stacks reports each once. */
    size_t n = 0;
    watch_query(w, 0, UINT64_MAX, count_hit, &n);
    assert_int_equal(n, N);
    n = 0;
    watch_query(w, 1ull << 32, (1ull << 32) + 64 * 1000, count_hit, &n);
    assert_int_equal(n, 1000);
    clock_t t2 = clock();
    for (uint64_t i = 0; i < N; i += 2)
        assert_int_equal(watch_remove(w, i + 1), 1);
    assert_int_equal(watch_count(w), N / 2);
    clock_t t3 = clock();
    print_message("million: add %.2fs, 200k queries %.2fs, remove half "
                  "%.2fs\n", (double)(t1 - t0) / CLOCKS_PER_SEC,
                  (double)(t2 - t1) / CLOCKS_PER_SEC,
                  (double)(t3 - t2) / CLOCKS_PER_SEC);
    watch_index_destroy(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_remove_during_query),
        cmocka_unit_test(test_random_vs_model),
        cmocka_unit_test(test_million),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
