/*
 * space_test.c -- page versions: snapshots, conflicts, install paths,
 * watchers' change queries, GC, and a randomized model of full copies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mem/space.h"

typedef struct fixture {
    mem_store *store;
    mem_space *space;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || store_create(1 << 16, &f->store) ||
        space_create(f->store, &f->space))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    space_destroy(f->space);
    assert_int_equal(store_in_use(f->store), 0);
    store_destroy(f->store);
    free(f);
    return 0;
}

/* A runner's page: a fresh frame holding the snapshot's content. */
static uint32_t runner_page(fixture *f, uint64_t page, uint64_t snap)
{
    uint32_t fr, base = space_lookup(f->space, page, snap);
    assert_int_equal(store_alloc(f->store, &fr), DVM_OK);
    uint8_t *p = store_frame(f->store, fr);
    if (base)
        memcpy(p, store_frame(f->store, base), STORE_FRAME_SIZE);
    else
        memset(p, 0, STORE_FRAME_SIZE);
    return fr;
}

/* Validates and installs the one change c made on snapshot snap; its
 * frame goes back to the store unless installed.  Returns the status;
 * *epoch set on success. */
static dvm_status commit_one(fixture *f, uint64_t snap, mem_change c,
                             uint64_t *epoch)
{
    dvm_status st = space_validate(f->space, snap, &c, 1);
    if (!st)
        st = space_install(f->space, snap, &c, 1, epoch);
    if (st)
        store_release(f->store, c.frame);
    return st;
}

/* Commits len bytes of value val at byte address addr (within one page)
 * on snapshot snap.  Returns the status; *epoch set on success. */
static dvm_status write_bytes(fixture *f, uint64_t snap, uint64_t addr,
                              unsigned len, uint8_t val, uint64_t *epoch)
{
    static mem_run runs[DIFF_DENSE];
    static uint64_t bits[DIFF_WORDS];
    uint64_t page = addr / DIFF_PAGE;
    uint32_t base = space_lookup(f->space, page, snap);
    uint32_t fr = runner_page(f, page, snap);
    memset(store_frame(f->store, fr) + addr % DIFF_PAGE, val, len);
    mem_delta d = diff_page(base ? store_frame(f->store, base) : NULL,
                            store_frame(f->store, fr), runs, bits);
    return commit_one(f, snap, space_change(page, fr, d), epoch);
}

static uint8_t read_byte(fixture *f, uint64_t addr, uint64_t snap)
{
    uint32_t fr = space_lookup(f->space, addr / DIFF_PAGE, snap);
    return fr ? store_frame(f->store, fr)[addr % DIFF_PAGE] : 0;
}

static void test_versions_and_snapshots(void **state)
{
    fixture *f = *state;
    uint64_t e1, e2, e3;
    assert_int_equal(space_epoch(f->space), 0);
    assert_int_equal(space_lookup(f->space, 0x40000, 0), 0);
    assert_int_equal(write_bytes(f, 0, 0x40000000, 4, 1, &e1), DVM_OK);
    assert_int_equal(write_bytes(f, e1, 0x40000000, 2, 2, &e2), DVM_OK);
    assert_int_equal(write_bytes(f, e2, 0x40001000, 1, 3, &e3), DVM_OK);
    assert_int_equal(e1, 1);
    assert_int_equal(e3, 3);
    assert_int_equal(space_epoch(f->space), 3);
    assert_int_equal(read_byte(f, 0x40000000, 0), 0);
    assert_int_equal(read_byte(f, 0x40000000, e1), 1);
    assert_int_equal(read_byte(f, 0x40000000, e2), 2);
    assert_int_equal(read_byte(f, 0x40000003, e3), 1);
    assert_int_equal(read_byte(f, 0x40001000, e2), 0);
    assert_int_equal(read_byte(f, 0x40001000, e3), 3);
    space_stats st;
    space_get_stats(f->space, &st);
    assert_int_equal(st.pages, 2);
    assert_int_equal(st.versions, 3);
    assert_int_equal(store_in_use(f->store), 3);
}

/* A commit without page changes (an empty runner) is an epoch like any
 * other, also as the very first commit of a space (no page index yet). */
static void test_empty_commit_first(void **state)
{
    fixture *f = *state;
    uint64_t e;
    assert_int_equal(space_install(f->space, 0, NULL, 0, &e), DVM_OK);
    assert_int_equal(e, 1);
    assert_int_equal(space_epoch(f->space), 1);
}

static void test_byte_conflicts(void **state)
{
    fixture *f = *state;
    uint64_t e, a = 0x40000000;
    assert_int_equal(write_bytes(f, 0, a + 10, 4, 1, &e), DVM_OK);
    /* On snapshot 0: bytes 14.. and ..9 are adjacent, not overlapping. */
    assert_int_equal(write_bytes(f, 0, a + 14, 2, 7, &e), DVM_OK);
    assert_int_equal(write_bytes(f, 0, a + 6, 4, 7, &e), DVM_OK);
    assert_int_equal(write_bytes(f, 0, a + 13, 1, 7, &e), DVM_ECONFLICT);
    assert_int_equal(write_bytes(f, 0, a + 9, 1, 9, &e), DVM_ECONFLICT);
    /* A snapshot after those commits does not conflict with them. */
    assert_int_equal(write_bytes(f, e, a + 8, 8, 9, &e), DVM_OK);
    /* Writing a byte with the value it had is no change, no conflict. */
    uint64_t snap = e - 1;
    assert_int_equal(write_bytes(f, snap, a + 100, 1, 0, &e), DVM_OK);
    assert_int_equal(read_byte(f, a + 8, e), 9);
    assert_int_equal(read_byte(f, a + 6, e), 7);
}

/* Commits val at every stride-th byte of page from byte first on (a
 * dense change: a bitmap) on snapshot snap; as write_bytes. */
static dvm_status write_stride(fixture *f, uint64_t snap, uint64_t page,
                               unsigned first, unsigned stride, uint8_t val,
                               uint64_t *epoch)
{
    static mem_run runs[DIFF_DENSE];
    static uint64_t bits[DIFF_WORDS];
    uint32_t base = space_lookup(f->space, page, snap);
    uint32_t fr = runner_page(f, page, snap);
    uint8_t *p = store_frame(f->store, fr);
    for (unsigned b = first; b < DIFF_PAGE; b += stride)
        p[b] = val;
    mem_delta d = diff_page(base ? store_frame(f->store, base) : NULL, p,
                            runs, bits);
    assert_true(diff_is_bitmap(d));
    return commit_one(f, snap, space_change(page, fr, d), epoch);
}

/* Bitmap changes conflict with runs and bitmaps exactly on shared bytes,
 * merge exactly their bytes, and wake watchers only on their bytes. */
static void test_dense_conflicts(void **state)
{
    fixture *f = *state;
    uint64_t page = 0x40010, a = page * DIFF_PAGE, e1, e2, e3, e;
    assert_int_equal(write_stride(f, 0, page, 0, 8, 1, &e1), DVM_OK);
    /* On snapshot 0: byte 1 is adjacent to the dense change, no conflict. */
    assert_int_equal(write_bytes(f, 0, a + 1, 1, 2, &e2), DVM_OK);
    assert_int_equal(write_bytes(f, 0, a + 16, 1, 2, &e), DVM_ECONFLICT);
    assert_int_equal(write_bytes(f, 0, a + 4095, 1, 2, &e), DVM_OK);
    /* Dense against dense: interleaved bytes do not conflict... */
    assert_int_equal(write_stride(f, 0, page, 4, 8, 3, &e3), DVM_OK);
    /* ...one shared byte does (byte 1, written at e2). */
    assert_int_equal(write_stride(f, 0, page, 1, 8, 4, &e), DVM_ECONFLICT);
    assert_int_equal(write_stride(f, 0, page, 2, 8, 4, &e), DVM_OK);
    for (unsigned b = 0; b < 64; b++) {
        uint8_t want = b % 8 == 0 ? 1 : b == 1 ? 2 : b % 8 == 4 ? 3
                     : b % 8 == 2 ? 4 : 0;
        assert_int_equal(read_byte(f, a + b, e), want);
    }
    assert_int_equal(read_byte(f, a + 4095, e), 2);
    /* Watchers: only the changed bytes of the dense commit e1. */
    assert_false(space_changed_between(f->space, a + 1, a + 8, 0, e1, 0));
    assert_true(space_changed_between(f->space, a + 8, a + 9, 0, e1, 0));
    assert_true(space_changed_between(f->space, a + 7, a + 4000, 0, e1, 0));
    assert_false(space_changed_between(f->space, a + 4089, a + 4096, 0, e1,
                                       0));
    assert_true(space_changed_between(f->space, a + 4089, a + 4096, 0, e2 + 1,
                                      0));
    assert_false(space_changed_between(f->space, a + 3, a + 4, 0, e, 0));
    assert_true(space_changed_between(f->space, a + 4, a + 5, e2 + 1, e3, 0));
}

static void test_adopt_and_merge(void **state)
{
    fixture *f = *state;
    uint64_t e1, e2, page = 0x40000;
    uint32_t fr = runner_page(f, page, 0);
    store_frame(f->store, fr)[5] = 5;
    mem_run r1 = {5, 1};
    mem_change c = {page, fr, 1, &r1};
    assert_int_equal(space_install(f->space, 0, &c, 1, &e1), DVM_OK);
    assert_int_equal(space_lookup(f->space, page, e1), fr);      /* adopted */
    /* A runner on snapshot 0 writes byte 7: merged onto e1's content. */
    uint32_t fr2 = runner_page(f, page, 0);
    store_frame(f->store, fr2)[7] = 7;
    mem_run r2 = {7, 1};
    mem_change c2 = {page, fr2, 1, &r2};
    assert_int_equal(space_validate(f->space, 0, &c2, 1), DVM_OK);
    size_t used = store_in_use(f->store);
    assert_int_equal(space_install(f->space, 0, &c2, 1, &e2), DVM_OK);
    assert_int_equal(store_in_use(f->store), used); /* +merge, -runner's */
    uint32_t m = space_lookup(f->space, page, e2);
    assert_int_not_equal(m, fr2);
    assert_int_not_equal(m, fr);
    assert_int_equal(store_frame(f->store, m)[5], 5);
    assert_int_equal(store_frame(f->store, m)[7], 7);
    assert_int_equal(store_frame(f->store, fr)[7], 0);  /* immutable */
}

static void test_install_errors(void **state)
{
    (void)state;
    mem_store *st;
    mem_space *sp;
    assert_int_equal(store_create(3, &st), DVM_OK);    /* 2 frames */
    assert_int_equal(space_create(st, &sp), DVM_OK);
    uint32_t a, b;
    assert_int_equal(store_alloc(st, &a), DVM_OK);
    assert_int_equal(store_alloc(st, &b), DVM_OK);
    mem_run r = {0, 1}, r2 = {1, 1};
    store_frame(st, a)[0] = 1;
    mem_change c = {9, a, 1, &r};
    uint64_t e = 0, e2 = 77;
    assert_int_equal(space_install(sp, 0, &c, 1, &e), DVM_OK);
    /* Merge path needs a frame and the store is full. */
    mem_change c2 = {9, b, 1, &r2};
    assert_int_equal(space_install(sp, 0, &c2, 1, &e2), DVM_ENOMEM);
    assert_int_equal(e2, 77);
    assert_int_equal(space_epoch(sp), 1);
    assert_int_equal(store_in_use(st), 2);          /* b still the caller's */
    /* A page twice in one commit is refused. */
    mem_change dup[2] = {{10, b, 1, &r}, {10, b, 1, &r2}};
    assert_int_equal(space_install(sp, 1, dup, 2, &e2), DVM_EINVAL);
    store_release(st, b);
    space_destroy(sp);
    assert_int_equal(store_in_use(st), 0);
    store_destroy(st);
}

typedef struct seen {
    uint64_t pages[64];
    size_t n;
} seen;

static void record_page(void *arg, uint64_t page, uint32_t frame)
{
    seen *s = arg;
    assert_int_not_equal(frame, 0);
    s->pages[s->n++] = page;
}

/* A restored space: the saved newest versions at their epochs, then
 * commits go on from the saved epoch; a page twice, an epoch older than a
 * version, or a restore into a used space are refused. */
static void test_restore(void **state)
{
    fixture *f = *state;
    uint32_t a, b;
    assert_int_equal(store_alloc(f->store, &a), DVM_OK);
    assert_int_equal(store_alloc(f->store, &b), DVM_OK);
    memset(store_frame(f->store, a), 7, DIFF_PAGE);
    memset(store_frame(f->store, b), 9, DIFF_PAGE);
    assert_int_equal(space_restore(f->space, 0x40001, 5, a), DVM_OK);
    assert_int_equal(space_restore(f->space, 0x40001, 6, b), DVM_EINVAL);
    assert_int_equal(space_restore(f->space, 0x40000, 8, b), DVM_OK);
    assert_int_equal(space_restore_epoch(f->space, 7), DVM_EINVAL);
    assert_int_equal(space_restore_epoch(f->space, 10), DVM_OK);
    assert_int_equal(space_epoch(f->space), 10);
    uint32_t fr;
    assert_int_equal(space_lookup_version(f->space, 0x40001, 10, &fr), 5);
    assert_int_equal(fr, a);
    assert_int_equal(read_byte(f, 0x40000010, 10), 9);
    uint64_t e;
    assert_int_equal(write_bytes(f, 10, 0x40000000, 2, 1, &e), DVM_OK);
    assert_int_equal(e, 11);
    assert_int_equal(read_byte(f, 0x40000001, 11), 1);
    assert_int_equal(read_byte(f, 0x40000002, 11), 9);
    assert_int_equal(read_byte(f, 0x40000001, 10), 9);
    seen sn = { .n = 0 };
    assert_int_equal(space_visible_pages(f->space, 0, UINT64_MAX / 2, 11, 8,
                                         record_page, &sn), 2);
    assert_int_equal(sn.pages[0], 0x40000);
    assert_int_equal(space_restore(f->space, 0x40002, 3, a), DVM_EINVAL);
    space_gc(f->space, 11);
    assert_int_equal(read_byte(f, 0x40001000, 11), 7);
}

static void test_visible_pages(void **state)
{
    fixture *f = *state;
    uint64_t pages[] = {0x40000, 0x40001, 0x50000, 0x3fffffff0, 0x40005};
    uint64_t e = 0;
    for (int i = 0; i < 5; i++)
        assert_int_equal(write_bytes(f, e, pages[i] * DIFF_PAGE, 1, 1, &e),
                         DVM_OK);
    /* Many more pages so the index has both a main and a recent part. */
    for (uint64_t p = 0; p < 3000; p++)
        assert_int_equal(write_bytes(f, e, (0x100000 + p * 7) * DIFF_PAGE,
                                     1, 1, &e), DVM_OK);
    seen s = {{0}, 0};
    assert_int_equal(space_visible_pages(f->space, 0x40000, 1ull << 34, 5,
                                         64, record_page, &s), 5);
    uint64_t want[] = {0x40000, 0x40001, 0x40005, 0x50000, 0x3fffffff0};
    assert_memory_equal(s.pages, want, sizeof want);
    s.n = 0;    /* snapshot 2 sees only the first two */
    assert_int_equal(space_visible_pages(f->space, 0x40000, 1ull << 34, 2,
                                         64, record_page, &s), 2);
    s.n = 0;
    assert_int_equal(space_visible_pages(f->space, 0x40001, 0x40002, e, 64,
                                         record_page, &s), 1);
    assert_int_equal(s.pages[0], 0x40001);
    s.n = 0;
    assert_int_equal(space_visible_pages(f->space, 0, UINT64_MAX, e, 3,
                                         record_page, &s), 3);
    assert_int_equal(s.pages[2], 0x40005);
    s.n = 0;
    assert_int_equal(space_visible_pages(f->space, 0x100000 + 700, 0x100000
                                         + 770, e, 64, record_page, &s), 10);
}

static void test_changed_between(void **state)
{
    fixture *f = *state;
    uint64_t a = 0x40000000, e0, e1, e2, e3;
    assert_int_equal(write_bytes(f, 0, a + 100, 1, 1, &e0), DVM_OK);
    assert_int_equal(write_bytes(f, e0, a + 5 * 4096 + 7, 2, 1, &e1),
                     DVM_OK);
    assert_int_equal(write_bytes(f, e1, a + 200, 1, 1, &e2), DVM_OK);
    assert_int_equal(write_bytes(f, e2, a + 300, 1, 1, &e3), DVM_OK);
    mem_space *s = f->space;
    assert_true(space_changed_between(s, a, a + 101, 0, e3, 0));
    assert_false(space_changed_between(s, a, a + 100, 0, e3, 0));
    assert_false(space_changed_between(s, a + 101, a + 200, 0, e3, 0));
    assert_false(space_changed_between(s, a, a + 101, e0, e3, 0));
    assert_false(space_changed_between(s, a, a + 101, 0, e3, e0));
    /* A range over many pages, the change on page 5. */
    assert_true(space_changed_between(s, a + 4096, a + 100 * 4096, e0, e1,
                                      0));
    assert_true(space_changed_between(s, a + 5 * 4096 + 8, a + 5 * 4096 + 9,
                                      0, e3, 0));
    assert_false(space_changed_between(s, a + 5 * 4096 + 9, a + 1000000, 0,
                                       e3, 0));
    assert_false(space_changed_between(s, a + 4096, a + 100 * 4096, e0, e3,
                                       e1));
    assert_true(space_changed_between(s, 0, UINT64_MAX, e2, e3, 0));
    assert_false(space_changed_between(s, 0, UINT64_MAX, e3, e3, 0));
    /* Past the GC horizon only the page walk can answer. */
    space_gc(s, e1);
    assert_true(space_changed_between(s, a, a + 201, e1, e3, 0));
    assert_false(space_changed_between(s, a, a + 201, e2, e3, 0));
}

static void collect_page(void *arg, uint64_t page)
{
    uint64_t *v = arg;
    v[1 + v[0]++] = page;
}

static void test_pages_changed(void **state)
{
    fixture *f = *state;
    uint64_t a = 0x40000000 / 4096, e1, e2, e3, v[8] = { 0 };
    assert_int_equal(write_bytes(f, 0, a * 4096, 1, 1, &e1), DVM_OK);
    assert_int_equal(write_bytes(f, e1, (a + 3) * 4096, 1, 1, &e2), DVM_OK);
    assert_int_equal(write_bytes(f, e2, a * 4096 + 9, 1, 1, &e3), DVM_OK);
    mem_space *s = f->space;
    assert_int_equal(space_pages_changed(s, e1, e3, 8, collect_page, v), 2);
    assert_int_equal(v[0], 2);
    assert_true(v[1] + v[2] == 2 * a + 3);
    v[0] = 0;
    assert_int_equal(space_pages_changed(s, e3, e3, 8, collect_page, v), 0);
    assert_int_equal(space_pages_changed(s, 0, e3, 2, collect_page, v),
                     SIZE_MAX);                 /* more than max */
    assert_int_equal(space_pages_changed(s, 0, e3 + 1, 8, collect_page, v),
                     SIZE_MAX);                 /* the future */
    assert_int_equal(v[0], 0);
    space_gc(s, e2);                            /* the log starts after e2 */
    assert_int_equal(space_pages_changed(s, e1, e3, 8, collect_page, v),
                     SIZE_MAX);
    assert_int_equal(space_pages_changed(s, e2, e3, 8, collect_page, v), 1);
    assert_int_equal(v[1], a);
    /* Before the horizon the trail answers: the same pages, in order. */
    v[0] = 0;
    assert_int_equal(space_pages_changed_past_gc(s, e1, e3, 8, collect_page,
                                                 v), 2);
    assert_int_equal(v[1], a + 3);
    assert_int_equal(v[2], a);
    v[0] = 0;
    assert_int_equal(space_pages_changed_past_gc(s, 0, e3, 8, collect_page,
                                                 v), 3);
    assert_int_equal(space_pages_changed_past_gc(s, 0, e3, 2, collect_page,
                                                 v), SIZE_MAX);
    assert_int_equal(space_pages_changed_past_gc(s, 0, e3 + 1, 8,
                                                 collect_page, v), SIZE_MAX);
    space_gc(s, e3);
    v[0] = 0;
    assert_int_equal(space_pages_changed_past_gc(s, e2, e3, 8, collect_page,
                                                 v), 1);
    assert_int_equal(v[1], a);
}

/* The trail holds the last few thousand pages installed: a snapshot from
 * before those is answered "everything", never with a partial list. */
static void test_pages_changed_trail_overflow(void **state)
{
    fixture *f = *state;
    mem_space *s = f->space;
    uint64_t a = 0x40000000 / 4096, e0, e = 0, v[8] = { 0 };
    assert_int_equal(write_bytes(f, 0, a * 4096, 1, 1, &e0), DVM_OK);
    e = e0;
    for (int i = 0; i < 5000; i++) {        /* more than the trail holds */
        uint64_t next;
        assert_int_equal(write_bytes(f, e, (a + 1 + i % 4) * 4096, 1,
                                     (uint8_t)(i + 2), &next), DVM_OK);
        e = next;
        if (i % 256 == 0)
            space_gc(s, e);
    }
    space_gc(s, e);
    assert_int_equal(space_pages_changed_past_gc(s, e0, e, 8, collect_page,
                                                 v), SIZE_MAX);
    assert_int_equal(v[0], 0);              /* e0's successors are gone */
    assert_int_equal(space_pages_changed_past_gc(s, e - 5, e, 8,
                                                 collect_page, v), 5);
    assert_int_equal(v[0], 5);
}

static void test_gc_frees_exactly(void **state)
{
    fixture *f = *state;
    uint64_t a = 0x40000000, e[6];
    e[0] = 0;
    for (int i = 1; i < 6; i++)
        assert_int_equal(write_bytes(f, e[i - 1], a + (unsigned)i, 1,
                                     (uint8_t)i, &e[i]), DVM_OK);
    assert_int_equal(store_in_use(f->store), 5);
    assert_int_equal(space_gc_horizon(f->space), 0);
    space_gc(f->space, e[2]);           /* keeps e2 (newest <= 2), e3.. */
    assert_int_equal(store_in_use(f->store), 4);
    /* The horizon: every version made after it is still there. */
    assert_int_equal(space_gc_horizon(f->space), e[2]);
    for (int i = 3; i < 6; i++) {
        uint32_t fr;
        assert_int_equal(space_lookup_version(f->space, a / DIFF_PAGE, e[i],
                                              &fr), e[i]);
    }
    assert_int_equal(read_byte(f, a + 2, e[2]), 2);
    assert_int_equal(read_byte(f, a + 1, e[2]), 1);
    assert_int_equal(read_byte(f, a + 4, e[4]), 4);
    space_gc(f->space, e[2]);           /* idempotent */
    assert_int_equal(store_in_use(f->store), 4);
    space_gc(f->space, 1000);           /* only the newest remains */
    assert_int_equal(store_in_use(f->store), 1);
    assert_int_equal(space_gc_horizon(f->space), e[5]);   /* capped */
    assert_int_equal(read_byte(f, a + 5, e[5]), 5);
    space_stats st;
    space_get_stats(f->space, &st);
    assert_int_equal(st.versions, 1);
    assert_int_equal(st.freed, 4);
    /* Commits after a GC past the epoch are collected by the next GC. */
    uint64_t e6, e7;
    assert_int_equal(write_bytes(f, e[5], a, 1, 6, &e6), DVM_OK);
    assert_int_equal(write_bytes(f, e6, a, 1, 7, &e7), DVM_OK);
    space_gc(f->space, e7);
    assert_int_equal(store_in_use(f->store), 1);
    assert_int_equal(read_byte(f, a, e7), 7);
}

/* space_abandon frees the versions (the sanitizer build would see a leak
 * otherwise) and gives no frame back: the store, destroyed next, keeps
 * them until then.  space_destroy gives every one back. */
static void test_abandon_keeps_frames(void **state)
{
    (void)state;
    mem_store *st;
    mem_space *sp, *sp2;
    assert_int_equal(store_create(1 << 12, &st), DVM_OK);
    assert_int_equal(space_create(st, &sp), DVM_OK);
    fixture f = { st, sp };
    uint64_t e = 0;
    for (int i = 0; i < 6; i++)
        assert_int_equal(write_bytes(&f, e, 0x40000000 + 4096u * (unsigned)(i % 3),
                                     1, (uint8_t)(i + 1), &e), DVM_OK);
    assert_int_equal(store_in_use(st), 6);
    space_abandon(sp);
    assert_int_equal(store_in_use(st), 6);
    assert_int_equal(space_create(st, &sp2), DVM_OK);
    f.space = sp2;
    assert_int_equal(write_bytes(&f, 0, 0x40000000, 1, 9, &e), DVM_OK);
    assert_int_equal(store_in_use(st), 7);
    space_destroy(sp2);
    assert_int_equal(store_in_use(st), 6);
    space_abandon(NULL);
    store_destroy(st);
}

/* ---- randomized model ---------------------------------------------------- */

#define MP 24                   /* model pages */
#define MBYTES ((int)(MP * DIFF_PAGE))
#define MAXE 1200

static uint64_t model_page(int i)
{
    return i < 12 ? 0x40000 + (uint64_t)i : 0x90000 + (uint64_t)i * 1000;
}

typedef struct model {
    uint8_t *mem[MAXE + 1];     /* full copies per epoch (NULL: dropped) */
    uint32_t *lastw;            /* epoch of the last write of each byte */
    uint8_t (*chg)[MBYTES / 8]; /* bitmap of bytes each epoch changed */
} model;

static int model_changed(const model *m, int lo, int hi, uint64_t after,
                         uint64_t upto, uint64_t except)
{
    for (uint64_t e = after + 1; e <= upto; e++)
        for (int b = lo; b < hi && e != except; b++)
            if (m->chg[e][b / 8] & (1 << (b % 8)))
                return 1;
    return 0;
}

static void check_snapshot(fixture *f, const model *m, uint64_t e)
{
    for (int i = 0; i < MP; i++) {
        uint32_t fr = space_lookup(f->space, model_page(i), e);
        const uint8_t *want = m->mem[e] + i * DIFF_PAGE;
        if (fr)
            assert_memory_equal(store_frame(f->store, fr), want, DIFF_PAGE);
        else
            for (int k = 0; k < (int)DIFF_PAGE; k++)
                assert_int_equal(want[k], 0);
    }
}

/* One runner: snapshot snap, writes a few random stretches on 1-3 pages. */
static void model_step(fixture *f, model *m, uint64_t snap, unsigned *seed)
{
    static mem_run runs[4][DIFF_DENSE];
    static uint64_t bits[4][DIFF_WORDS];
    static uint8_t rp[4][DIFF_PAGE];    /* the runner's pages */
    mem_change c[4];
    int np = 1 + rand_r(seed) % 3, used[MP] = {0};
    int conflict = 0, n = 0;
    for (int k = 0; k < np; k++) {
        int i = rand_r(seed) % MP;
        if (used[i])
            continue;
        used[i] = 1;
        uint32_t fr = runner_page(f, model_page(i), snap);
        uint8_t *p = store_frame(f->store, fr);
        for (int w = rand_r(seed) % 4; w >= 0; w--) {
            int off = rand_r(seed) % DIFF_PAGE;
            int len = 1 + rand_r(seed) % (w == 0 ? 200 : 8);
            for (int b = off; b < off + len && b < (int)DIFF_PAGE; b++)
                p[b] = (uint8_t)rand_r(seed);
        }
        if (rand_r(seed) % 3 == 0) {    /* dense: every 8th byte, a bitmap */
            int off = rand_r(seed) % DIFF_PAGE;
            int len = 300 + rand_r(seed) % 3000;
            for (int b = off; b < off + len && b < (int)DIFF_PAGE; b += 8)
                p[b] = (uint8_t)rand_r(seed);
        }
        uint32_t base = space_lookup(f->space, model_page(i), snap);
        /* A page that was zero: half the time its change is implied. */
        mem_delta d = !base && rand_r(seed) % 2
                      ? diff_zero_page(p, runs[n])
                      : diff_page(base ? store_frame(f->store, base) : NULL,
                                  p, runs[n], bits[n]);
        c[n] = space_change(model_page(i), fr, d);
        d = diff_resolve(d, p, bits[n]);
        for (unsigned b = 0; b < DIFF_PAGE; b++)
            if (diff_touch(d, b, b + 1))
                conflict |= m->lastw[i * DIFF_PAGE + b] > snap;
        memcpy(rp[n], p, DIFF_PAGE);
        n++;
    }
    dvm_status st = space_validate(f->space, snap, c, (size_t)n);
    assert_int_equal(st, conflict ? DVM_ECONFLICT : DVM_OK);
    if (conflict) {
        for (int k = 0; k < n; k++)
            store_release(f->store, c[k].frame);
        return;
    }
    uint64_t e;
    uint8_t *next = malloc(MBYTES);
    assert_non_null(next);
    assert_int_equal(space_install(f->space, snap, c, (size_t)n, &e), DVM_OK);
    assert_true(e <= MAXE);
    assert_non_null(m->mem[e - 1]);     /* the newest copy is always kept */
    memcpy(next, m->mem[e - 1], MBYTES);
    for (int k = 0; k < n; k++) {
        int i = 0;
        while (model_page(i) != c[k].page)
            i++;
        mem_delta d = diff_resolve(space_change_delta(&c[k]), rp[k],
                                   bits[k]);
        for (unsigned b = 0; b < DIFF_PAGE; b++)
            if (diff_touch(d, b, b + 1)) {
                int at = i * DIFF_PAGE + (int)b;
                next[at] = rp[k][b];
                m->lastw[at] = (uint32_t)e;
                m->chg[e][at / 8] |= (uint8_t)(1 << (at % 8));
            }
    }
    m->mem[e] = next;
}

static void test_random_model(void **state)
{
    fixture *f = *state;
    model m = {{0}, calloc(MBYTES, 4), calloc(MAXE + 1, MBYTES / 8)};
    m.mem[0] = calloc(1, MBYTES);
    uint64_t live[8] = {0};
    unsigned seed = 42;
    for (int step = 0; step < 1000; step++) {
        uint64_t snap = live[rand_r(&seed) % 8];
        model_step(f, &m, snap, &seed);
        uint64_t now = space_epoch(f->space);
        if (rand_r(&seed) % 3 == 0)
            live[rand_r(&seed) % 8] = now;      /* a new snapshot */
        if (step % 10 == 9) {
            uint64_t oldest = now;
            for (int k = 0; k < 8; k++)
                oldest = live[k] < oldest ? live[k] : oldest;
            space_gc(f->space, oldest);
            for (uint64_t e = 0; e < oldest; e++) {
                free(m.mem[e]);
                m.mem[e] = NULL;
            }
            for (int k = 0; k < 8; k++)
                check_snapshot(f, &m, live[k]);
            check_snapshot(f, &m, now);
            space_stats st;
            space_get_stats(f->space, &st);
            assert_int_equal(store_in_use(f->store), st.versions);
            /* Watch queries from a live snapshot. */
            for (int q = 0; q < 20; q++) {
                int lo = rand_r(&seed) % MBYTES;
                int hi = lo + 1 + rand_r(&seed) % (q < 10 ? 64 : MBYTES - lo);
                if (hi > MBYTES)
                    hi = MBYTES;
                /* Model bytes are contiguous only within a page group. */
                int pg = lo / DIFF_PAGE;
                if (hi > (pg + 1) * (int)DIFF_PAGE && (pg >= 11 ||
                    hi > 12 * (int)DIFF_PAGE))
                    hi = (pg + 1) * DIFF_PAGE;
                uint64_t after = live[q % 8], except = now - (uint64_t)(q % 3);
                uint64_t alo = model_page(pg) * DIFF_PAGE + lo % DIFF_PAGE;
                uint64_t ahi = alo + (uint64_t)(hi - lo);
                assert_int_equal(space_changed_between(f->space, alo, ahi,
                                                       after, now, except),
                                 model_changed(&m, lo, hi, after, now,
                                               except));
            }
        }
    }
    for (int e = 0; e <= MAXE; e++)
        free(m.mem[e]);
    free(m.lastw);
    free(m.chg);
}

/* A large commit: 60000 pages in one install, then a sparse large walk. */
static void test_large_commit(void **state)
{
    fixture *f = *state;
    enum { N = 60000 };
    mem_change *c = malloc(N * sizeof *c);
    mem_run r = {0, 8};
    for (uint32_t i = 0; i < N; i++) {
        c[i] = (mem_change){0x40000 + i, 0, 1, &r};
        assert_int_equal(store_alloc(f->store, &c[i].frame), DVM_OK);
        memcpy(store_frame(f->store, c[i].frame), &i, 4);
    }
    uint64_t e, e2;
    assert_int_equal(space_validate(f->space, 0, c, N), DVM_OK);
    assert_int_equal(space_install(f->space, 0, c, N, &e), DVM_OK);
    mem_change small = {0x30, 0, 1, &r};
    assert_int_equal(store_alloc(f->store, &small.frame), DVM_OK);
    assert_int_equal(space_install(f->space, e, &small, 1, &e2), DVM_OK);
    space_stats st;
    space_get_stats(f->space, &st);
    assert_int_equal(st.pages, N + 1);
    seen s = {{0}, 0};
    assert_int_equal(space_visible_pages(f->space, 0x40000 + 1000, 1ull << 34,
                                         e, 64, record_page, &s), 64);
    assert_int_equal(s.pages[63], 0x40000 + 1063);
    assert_true(space_changed_between(f->space, 0, UINT64_MAX, 0, e, 0));
    assert_false(space_changed_between(f->space, 0x40000 * 4096ull + 8,
                                       0x50000 * 4096ull, e, e2, 0));
    free(c);
}

/* ---- allocation failures ------------------------------------------------- */

/* One scenario run in a child with DVM_FAIL_ALLOC=N: every failure must be
 * DVM_ENOMEM and leave the space as it was.  Exit 0: a failure was handled;
 * 3: nothing failed; anything else: a bug. */
static int enomem_scenario(void)
{
    mem_store *st;
    mem_space *sp;
    if (store_create(1 << 14, &st))
        return 0;
    if (space_create(st, &sp)) {
        store_destroy(st);
        return 0;
    }
    static mem_change c[300];
    static mem_run r = {0, 4};
    int failed = 0;
    for (int round = 0; round < 3 && !failed; round++) {
        for (uint32_t i = 0; i < 300; i++) {
            c[i] = (mem_change){0x40000 + i * 3, 0, 1, &r};
            if (store_alloc(st, &c[i].frame))
                return 1;
        }
        uint64_t e = 99, before = space_epoch(sp);
        space_stats s0, s1;
        space_get_stats(sp, &s0);
        size_t used = store_in_use(st);
        dvm_status rc = space_install(sp, 0, c, 300, &e);
        space_get_stats(sp, &s1);
        if (rc) {
            if (rc != DVM_ENOMEM || e != 99 || space_epoch(sp) != before ||
                s1.versions != s0.versions || store_in_use(st) != used)
                return 2;
            for (uint32_t i = 0; i < 300; i++)
                store_release(st, c[i].frame);
            failed = 1;
        }
        space_gc(sp, space_epoch(sp));
        space_get_stats(sp, &s1);
        if (store_in_use(st) != s1.versions)
            return 2;
    }
    space_destroy(sp);
    if (store_in_use(st) != 0)
        return 2;
    store_destroy(st);
    return failed ? 0 : 3;
}

static void test_enomem(void **state)
{
    (void)state;
#ifdef DVM_ALLOC_FAILPOINTS
    for (int n = 1;; n += n < 64 ? 1 : 5) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            char v[16];
            snprintf(v, sizeof v, "%d", n);
            setenv("DVM_FAIL_ALLOC", v, 1);
            execl("/proc/self/exe", "space_test", "enomem", (char *)NULL);
            _exit(9);
        }
        int ws;
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        assert_true(WIFEXITED(ws));
        if (WEXITSTATUS(ws) == 3)
            break;
        assert_int_equal(WEXITSTATUS(ws), 0);
    }
#else
    skip();
#endif
}

/* Giving away an old version's data: its frame goes back to the store,
 * lookups name SPACE_FRAME_AWAY, the newest version is never given away,
 * and validation, merging installs and GC go on. */
static void test_give_away(void **state)
{
    fixture *f = *state;
    uint64_t e1, e2, e3;
    assert_int_equal(write_bytes(f, 0, 0x40000000, 4, 1, &e1), DVM_OK);
    assert_int_equal(write_bytes(f, e1, 0x40000010, 4, 2, &e2), DVM_OK);
    assert_int_equal(store_in_use(f->store), 2);
    assert_int_equal(space_give_away(f->space, 0x40000, e2), 0);  /* newest */
    assert_int_equal(space_give_away(f->space, 0x40000, 7), 0);   /* none */
    assert_int_equal(space_give_away(f->space, 0x40000, e1), 1);
    assert_int_equal(space_give_away(f->space, 0x40000, e1), 0);  /* once */
    assert_int_equal(store_in_use(f->store), 1);
    assert_int_equal(space_lookup(f->space, 0x40000, e1), SPACE_FRAME_AWAY);
    space_stats st;
    space_get_stats(f->space, &st);
    assert_int_equal(st.away, 1);
    /* A commit on the old snapshot merges into the newest version (its
     * runner had the old data from elsewhere: here, one changed byte). */
    static mem_run runs[DIFF_DENSE];
    static uint64_t bits[DIFF_WORDS];
    uint32_t fr;
    assert_int_equal(store_alloc(f->store, &fr), DVM_OK);
    memset(store_frame(f->store, fr), 0, STORE_FRAME_SIZE);
    store_frame(f->store, fr)[0x100] = 3;
    mem_change c = space_change(0x40000, fr,
                                diff_page(NULL, store_frame(f->store, fr),
                                          runs, bits));
    assert_int_equal(space_validate(f->space, e1, &c, 1), DVM_OK);
    assert_int_equal(space_install(f->space, e1, &c, 1, &e3), DVM_OK);
    assert_int_equal(read_byte(f, 0x40000010, e3), 2);
    assert_int_equal(read_byte(f, 0x40000100, e3), 3);
    space_gc(f->space, e3);
    space_get_stats(f->space, &st);
    assert_int_equal(st.away, 0);
    assert_int_equal(st.versions, 1);
    assert_int_equal(store_in_use(f->store), 1);
}

/* space_set_dataless: frames of the page below carry no data. */
static int no_data(void *arg, uint32_t frame, uint64_t page)
{
    (void)frame;
    return page == *(const uint64_t *)arg;
}

/* Versions installed without data: a change whose frame carries only its
 * mask becomes a version named SPACE_FRAME_AWAY at once (adopted or
 * merged alike), its frame released; validation and watchers' queries
 * still see its bytes; a change with data that would merge into such a
 * version is installed without data too; another page is untouched. */
static void test_dataless_install(void **state)
{
    fixture *f = *state;
    static uint64_t away_page = 0x40000;
    uint64_t e1, e2, e3, e4;
    assert_int_equal(write_bytes(f, 0, 0x40000000, 4, 1, &e1), DVM_OK);
    space_set_dataless(f->space, no_data, &away_page);
    assert_int_equal(write_bytes(f, e1, 0x40000010, 4, 2, &e2), DVM_OK);
    assert_int_equal(space_lookup(f->space, 0x40000, e2), SPACE_FRAME_AWAY);
    assert_int_equal(space_lookup(f->space, 0x40000, e1) != SPACE_FRAME_AWAY,
                     1);
    assert_int_equal(store_in_use(f->store), 1);        /* e1's frame */
    /* A runner on snapshot e1 writing the same bytes conflicts. */
    assert_int_equal(write_bytes(f, e1, 0x40000012, 1, 5, &e3),
                     DVM_ECONFLICT);
    assert_true(space_changed_between(f->space, 0x40000010, 0x40000014, e1,
                                      e2, 0));
    /* Another page keeps its data. */
    assert_int_equal(write_bytes(f, e2, 0x40001000, 4, 3, &e3), DVM_OK);
    assert_int_equal(read_byte(f, 0x40001000, e3), 3);
    /* With data, merging into a version without it: without data. */
    space_set_dataless(f->space, NULL, NULL);
    assert_int_equal(write_bytes(f, e1, 0x40000100, 4, 4, &e4), DVM_OK);
    assert_int_equal(space_lookup(f->space, 0x40000, e4), SPACE_FRAME_AWAY);
    space_stats st;
    space_get_stats(f->space, &st);
    assert_int_equal(st.away, 2);
    space_gc(f->space, e4);
    space_get_stats(f->space, &st);
    assert_int_equal(st.away, 1);
    assert_int_equal(store_in_use(f->store), 1);        /* e3's frame */
}

/* Commits the page content p (a page zero at snap) as an implied change
 * on snapshot snap; as write_bytes. */
static dvm_status write_implied(fixture *f, uint64_t snap, uint64_t page,
                                const uint8_t *p, uint64_t *epoch)
{
    assert_int_equal(space_lookup(f->space, page, snap), 0);
    uint32_t fr = runner_page(f, page, snap);
    memcpy(store_frame(f->store, fr), p, DIFF_PAGE);
    return commit_one(f, snap, space_change(page, fr, diff_implied()), epoch);
}

/* Implied changes: adopted without a copy, their bytes derived from the
 * frame exactly where needed -- conflicts either way round, a merge onto
 * a newer version (whose version keeps the bytes, not the merged frame's),
 * watchers, giving the data away, GC. */
static void test_implied(void **state)
{
    fixture *f = *state;
    static uint8_t p[DIFF_PAGE];
    uint64_t page = 0x40020, a = page * DIFF_PAGE, e1, e2, e3, e4, e;
    for (unsigned b = 0; b < DIFF_PAGE; b += 8)
        p[b] = (uint8_t)(b / 8 + 1);            /* every 8th byte: dense */
    assert_int_equal(write_implied(f, 0, page, p, &e1), DVM_OK);
    uint32_t fr = space_lookup(f->space, page, e1);
    assert_memory_equal(store_frame(f->store, fr), p, DIFF_PAGE);
    /* On snapshot 0 a byte between the implied ones does not conflict, one
     * of them does (runs against the derived bytes). */
    assert_int_equal(write_bytes(f, 0, a + 9, 1, 0x77, &e2), DVM_OK);
    assert_int_equal(write_bytes(f, 0, a + 16, 1, 0x77, &e), DVM_ECONFLICT);
    /* An implied change validated against newer versions: interleaved
     * bytes pass and merge, a shared byte conflicts. */
    static uint8_t q[DIFF_PAGE];
    for (unsigned b = 4; b < DIFF_PAGE; b += 8)
        q[b] = 0x44;
    assert_int_equal(write_implied(f, 0, page, q, &e3), DVM_OK);
    q[9] = 0x55;
    assert_int_equal(write_implied(f, 0, page, q, &e), DVM_ECONFLICT);
    for (unsigned b = 0; b < 64; b++) {
        uint8_t want = b % 8 == 0 ? (uint8_t)(b / 8 + 1) : b == 9 ? 0x77
                     : b % 8 == 4 ? 0x44 : 0;
        assert_int_equal(read_byte(f, a + b, e3), want);
    }
    /* Watchers see exactly each commit's bytes: the adopted implied one,
     * the merged one (not the bytes it merged onto). */
    assert_false(space_changed_between(f->space, a + 1, a + 8, 0, e1, 0));
    assert_true(space_changed_between(f->space, a + 8, a + 9, 0, e1, 0));
    assert_false(space_changed_between(f->space, a + 8, a + 9, e2, e3, 0));
    assert_true(space_changed_between(f->space, a + 12, a + 13, e2, e3, 0));
    mem_delta d = space_version_delta(f->space, page, e3, (uint64_t[DIFF_WORDS]){0});
    assert_true(diff_is_bitmap(d));
    assert_false(diff_touch(d, 0, 4));
    assert_true(diff_touch(d, 4, 5));
    assert_int_equal(space_version_delta(f->space, page, e3 + 1,
                                         (uint64_t[DIFF_WORDS]){0}).nruns, 0);
    /* Given away, the adopted version keeps its bytes (derived first). */
    uint64_t other = page + 1;
    assert_int_equal(write_implied(f, 0, other, p, &e4), DVM_OK);
    uint64_t e5;
    assert_int_equal(write_bytes(f, e4, other * DIFF_PAGE + 1, 1, 9, &e5),
                     DVM_OK);
    size_t used = store_in_use(f->store);
    assert_int_equal(space_give_away(f->space, other, e4), 1);
    assert_int_equal(store_in_use(f->store), used - 1);
    uint64_t ob = other * DIFF_PAGE;
    assert_true(space_changed_between(f->space, ob + 16, ob + 17, e3, e4, 0));
    assert_false(space_changed_between(f->space, ob + 17, ob + 24, e3, e4, 0));
    assert_int_equal(write_bytes(f, e3, ob + 24, 1, 1, &e), DVM_ECONFLICT);
    assert_int_equal(write_bytes(f, e3, ob + 25, 1, 1, &e), DVM_OK);
    space_gc(f->space, space_epoch(f->space));
    space_stats st;
    space_get_stats(f->space, &st);
    assert_int_equal(st.versions, 2);
    assert_int_equal(store_in_use(f->store), 2);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "enomem") == 0)
        return enomem_scenario();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_versions_and_snapshots, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_commit_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_byte_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adopt_and_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dense_conflicts, setup, teardown),
        cmocka_unit_test(test_install_errors),
        cmocka_unit_test_setup_teardown(test_visible_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_between, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pages_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pages_changed_trail_overflow,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_gc_frees_exactly, setup,
                                        teardown),
        cmocka_unit_test(test_abandon_keeps_frames),
        cmocka_unit_test_setup_teardown(test_random_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_commit, setup, teardown),
        cmocka_unit_test(test_enomem),
        cmocka_unit_test_setup_teardown(test_give_away, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dataless_install, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_implied, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
