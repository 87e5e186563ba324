/*
 * window_test.c -- the runner window: faults, fills, resets, scale, caps.
 *
 * The resolver used here writes a recognisable pattern (page number and a
 * "version" the test bumps) so that every check can tell which resolution a
 * byte came from, and counts its calls so that the tests can tell a fault
 * from a page that was already there.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "isa/isa.h"
#include "mem/window.h"
#include "util/sanitize.h"

/* The resolver runs on the window's handler thread while the test thread
 * sleeps in a page fault: the kernel orders the two, but ThreadSanitizer
 * cannot see that, so what they share is atomic. */
typedef struct res {
    _Atomic uint64_t calls;
    _Atomic uint64_t version;
    _Atomic uint64_t zero_from; /* pages >= this read as zeros */
    _Atomic uint64_t fail_page; /* this page fails to resolve */
    _Atomic uint64_t ahead_calls;
    _Atomic uint64_t ahead_stop; /* read_ahead refuses this page */
} res;

static int resolve(void *arg, uint64_t page, uint8_t *buf)
{
    res *r = arg;
    r->calls++;
    if (page == r->fail_page)
        return DVM_EIO;
    if (page >= r->zero_from)
        return 1;
    memset(buf, (int)(r->version & 0xff), 4096);
    memcpy(buf, &page, 8);
    return 0;
}

/* ThreadSanitizer's address space layout has no room for 2^46 bytes: under
 * it the window is 256 GiB (the handler thread, the part TSan is here for,
 * is the same) and the tests of addresses above that are skipped. */
#ifdef DVM_TSAN
#define TEST_WINDOW (1ULL << 38)
#else
#define TEST_WINDOW (1ULL << 46)
#endif

static mem_window *open_with(res *r)
{
    r->zero_from = UINT64_MAX;
    r->fail_page = UINT64_MAX;
    mem_window *w = NULL;
    assert_int_equal(window_open_sized(resolve, r, TEST_WINDOW, &w), DVM_OK);
    assert_non_null(w);
    return w;
}

static uint64_t rd64(mem_window *w, uint64_t addr)
{
    uint64_t v;
    memcpy(&v, window_base(w) + addr, 8);
    return v;
}

/* Lines of /proc/self/maps: the number of mappings of this process. */
/* Mappings of this process that overlap the window of w: a split window
 * shows up here (other mappings, e.g. a sanitizer's, do not count). */
static int map_count_in(mem_window *w)
{
    uintptr_t lo = (uintptr_t)window_base(w), hi = lo + TEST_WINDOW;
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    int n = 0;
    unsigned long a, b;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a < hi && b > lo)
            n++;
    fclose(f);
    return n;
}

static void test_fault_content(void **state)
{
    (void)state;
    res r = { .version = 0xab };
    mem_window *w = open_with(&r);
    uint64_t page = 0x40000;                    /* address 0x40000000 */
    assert_false(window_touched(w, page));
    assert_int_equal(rd64(w, page * 4096), page);
    assert_int_equal(window_base(w)[page * 4096 + 100], 0xab);
    assert_int_equal(r.calls, 1);
    assert_true(window_touched(w, page));
    window_base(w)[page * 4096 + 200] = 7;     /* present: no new fault */
    assert_int_equal(window_base(w)[page * 4096 + 200], 7);
    assert_int_equal(r.calls, 1);
    assert_int_equal(window_failed(w), DVM_OK);
    window_close(w);
}

static void test_zero_pages(void **state)
{
    (void)state;
    res r = { .version = 1 };
    mem_window *w = open_with(&r);
    r.zero_from = 0;
    uint8_t *p = window_base(w) + 0x3000;
    assert_int_equal(p[0], 0);
    assert_int_equal(p[4095], 0);
    p[10] = 42;                                 /* copy-on-write of zeros */
    assert_int_equal(p[10], 42);
    assert_int_equal(r.calls, 1);
    assert_true(window_touched(w, 3));
    window_close(w);
}

static void test_fill(void **state)
{
    (void)state;
    res r = { .version = 1 };
    mem_window *w = open_with(&r);
    uint8_t buf[4096];
    memset(buf, 0x5a, sizeof buf);
    assert_int_equal(window_fill(w, 0x50000, buf), DVM_OK);
    assert_int_equal(window_base(w)[0x50000ULL * 4096 + 7], 0x5a);
    assert_int_equal(r.calls, 0);
    assert_true(window_touched(w, 0x50000));
    memset(buf, 0x11, sizeof buf);              /* fill over a present page */
    assert_int_equal(window_fill(w, 0x50000, buf), DVM_OK);
    assert_int_equal(window_base(w)[0x50000ULL * 4096 + 7], 0x11);
    assert_int_equal(window_fill(w, 0x50000, NULL), DVM_OK);
    assert_int_equal(window_base(w)[0x50000ULL * 4096 + 7], 0);
    assert_int_equal(window_fill(w, 0x50001, NULL), DVM_OK);
    assert_int_equal(window_base(w)[0x50001ULL * 4096 + 9], 0);
    assert_int_equal(window_touched_count(w), 2);
    assert_int_equal(r.calls, 0);
    window_close(w);
}

static void test_reset(void **state)
{
    (void)state;
    res r = { .version = 1 };
    mem_window *w = open_with(&r);
    uint8_t buf[4096];
    memset(buf, 0x77, sizeof buf);
    for (uint64_t p = 0x40000; p < 0x40010; p++)
        assert_int_equal(rd64(w, p * 4096), p);
    window_base(w)[0x40001ULL * 4096 + 9] = 99;
    assert_int_equal(window_fill(w, 0x60000, buf), DVM_OK);
    assert_int_equal(r.calls, 16);
    assert_int_equal(window_reset(w), DVM_OK);
    assert_int_equal(window_touched_count(w), 0);
    assert_false(window_touched(w, 0x40001));
    r.version = 2;                              /* the next runner's view */
    assert_int_equal(window_base(w)[0x40001ULL * 4096 + 9], 2);
    assert_int_equal(window_base(w)[0x60000ULL * 4096 + 9], 2);
    assert_int_equal(r.calls, 18);
    window_close(w);
}

static void touch_one(void *arg, uint64_t page)
{
    (void)page;
    (*(size_t *)arg)++;
}

/* A walk over the touched pages whose callback touches new ones: each
 * call but the last faults in the next page of a chain, and the walk
 * visits it too (the list is read in batches, until one comes back
 * empty). */
typedef struct chain_walk {
    mem_window *w;
    uint64_t next, last;        /* the page the next call touches */
    size_t seen;
} chain_walk;

static void touch_next(void *arg, uint64_t page)
{
    chain_walk *c = arg;
    (void)page;
    c->seen++;
    if (c->next <= c->last) {
        volatile uint8_t b = window_base(c->w)[c->next * 4096];
        (void)b;
        c->next++;
    }
}

static void test_touched_during_walk(void **state)
{
    (void)state;
    res r = { .version = 1 };
    mem_window *w = open_with(&r);
    r.zero_from = 0;
    const uint64_t first = 0x40000;
    for (uint64_t i = 0; i < 40; i++)       /* more than one batch */
        (void)*(volatile uint8_t *)&window_base(w)[(first + i) * 4096];
    chain_walk c = {w, first + 1000, first + 1099, 0};
    window_each_touched(w, touch_next, &c);
    assert_int_equal(c.seen, 140);
    assert_int_equal(window_touched_count(w), 140);
    assert_int_equal(window_reset(w), DVM_OK);
    window_close(w);
}

/* 262,144 pages spread over 16 GiB: the window stays one mapping. */
static void test_many_pages(void **state)
{
    (void)state;
    res r = { .version = 1 };
    mem_window *w = open_with(&r);
    r.zero_from = 0;
    int before = map_count_in(w);
    const uint64_t n = 262144, first = 0x40000;
    volatile uint8_t sum = 0;
    for (uint64_t i = 0; i < n; i++)
        sum += window_base(w)[(first + i * 16) * 4096];
    assert_int_equal(sum, 0);
    assert_int_equal(r.calls, n);
    assert_true(map_count_in(w) <= before + 2);
    assert_int_equal(window_touched_count(w), n);
    size_t seen = 0;
    window_each_touched(w, touch_one, &seen);
    assert_int_equal(seen, n);
    assert_int_equal(window_reset(w), DVM_OK);
    assert_int_equal(window_touched_count(w), 0);
    assert_true(map_count_in(w) <= before + 2);
    sum += window_base(w)[first * 4096];
    assert_int_equal(r.calls, n + 1);
    window_close(w);
}

/* A full-size window with a cap of 8 input pages (skips the test where
 * the window cannot reach the input windows). */
static mem_window *open_capped(res *r)
{
    if (TEST_WINDOW < DISA_ADDR_LIMIT)
        skip();
    mem_window *w = open_with(r);
    window_set_input_cap(w, 8);
    return w;
}

/* With a cap of 8 input pages, reading 40 keeps 8; the first faults again
 * with the same content. */
static void test_input_cap(void **state)
{
    (void)state;
    res r = { .version = 3 };
    mem_window *w = open_capped(&r);
    uint64_t in = DISA_INPUT_BASE / 4096;
    for (uint64_t p = in; p < in + 40; p++)
        assert_int_equal(rd64(w, p * 4096), p);
    assert_int_equal(rd64(w, 0x40000ULL * 4096), 0x40000);  /* not capped */
    assert_int_equal(window_touched_count(w), 9);
    assert_false(window_touched(w, in));
    assert_true(window_touched(w, in + 39));
    uint64_t calls = r.calls;
    assert_int_equal(rd64(w, in * 4096), in);
    assert_int_equal(r.calls, calls + 1);
    assert_int_equal(window_reset(w), DVM_OK);
    assert_int_equal(window_touched_count(w), 0);
    assert_int_equal(rd64(w, (in + 39) * 4096), in + 39);
    window_close(w);
}

static int keep_even(void *arg, uint64_t page)
{
    (void)arg;
    return page % 2 == 0;
}

/* window_reset_keep: kept pages stay mapped (no fault, old bytes) and are
 * no longer touched; the others, and kept pages after window_drop, fault
 * again; capped input pages stay. */
static void test_reset_keep(void **state)
{
    (void)state;
    res r = { .version = 3 };
    mem_window *w = open_capped(&r);
    uint64_t in = DISA_INPUT_BASE / 4096;
    assert_int_equal(rd64(w, 0x40000ULL * 4096), 0x40000);
    assert_int_equal(rd64(w, 0x40001ULL * 4096), 0x40001);
    assert_int_equal(rd64(w, in * 4096), in);
    assert_int_equal(window_reset_keep(w, keep_even, NULL), DVM_OK);
    assert_false(window_touched(w, 0x40000));
    uint64_t calls = r.calls;
    r.version = 4;
    assert_int_equal(window_base(w)[0x40000ULL * 4096 + 8], 3); /* stayed */
    assert_int_equal(rd64(w, in * 4096), in);
    assert_int_equal(r.calls, calls);
    assert_int_equal(window_base(w)[0x40001ULL * 4096 + 8], 4); /* refetched */
    assert_int_equal(r.calls, calls + 1);
    window_drop(w, 0x40000, 1);
    assert_int_equal(window_base(w)[0x40000ULL * 4096 + 8], 4);
    assert_int_equal(r.calls, calls + 2);
    assert_int_equal(window_reset(w), DVM_OK);
    window_close(w);
}

/* The read-ahead's source: the resolver's pattern, refusing ahead_stop. */
static int ahead(void *arg, uint64_t page, uint8_t *buf)
{
    res *r = arg;
    r->ahead_calls++;
    if (page == r->ahead_stop)
        return 1;
    return resolve(arg, page, buf) == 0 ? 0 : 1;
}

/* Input read-ahead: a fault on an input page brings the 7 after it (one
 * resolver call, no more faults for them); the read-ahead stops at a
 * page its source refuses and at a page already present (whose bytes
 * stay); a page outside the input windows is never read ahead; read-ahead
 * pages are recorded (in the ring) and stay across a keeping reset. */
static void test_input_ahead(void **state)
{
    (void)state;
    if (TEST_WINDOW < DISA_ADDR_LIMIT)
        skip();
    res r = { .version = 3 };
    mem_window *w = open_with(&r);
    window_set_input_cap(w, 64);
    window_set_input_ahead(w, ahead, 7);
    uint64_t in = DISA_INPUT_BASE / 4096;
    r.ahead_stop = in + 18;
    assert_int_equal(rd64(w, in * 4096), in);
    assert_int_equal(r.calls, 1 + 7);     /* the fault, then 7 ahead */
    assert_int_equal(r.ahead_calls, 7);
    for (uint64_t p = in + 1; p < in + 8; p++)
        assert_int_equal(rd64(w, p * 4096), p);
    assert_int_equal(r.calls, 8);
    assert_int_equal(window_touched_count(w), 8);
    assert_int_equal(rd64(w, (in + 16) * 4096), in + 16);  /* 17 ahead */
    assert_int_equal(r.ahead_calls, 9);   /* 17, then 18 refused */
    uint64_t calls = r.calls;
    assert_int_equal(rd64(w, (in + 17) * 4096), in + 17);
    assert_int_equal(r.calls, calls);
    assert_int_equal(rd64(w, (in + 18) * 4096), in + 18); /* a fault */
    assert_int_equal(r.calls, calls + 1 + 7);            /* 19..25 ahead */
    r.version = 5;                        /* a present page keeps its bytes */
    assert_int_equal(rd64(w, (in + 30) * 4096), in + 30);
    assert_int_equal(window_base(w)[(in + 30) * 4096 + 8], 5);
    r.version = 6;
    calls = r.ahead_calls;
    assert_int_equal(rd64(w, (in + 28) * 4096), in + 28);
    assert_int_equal(r.ahead_calls, calls + 1);  /* 29; 30 is there */
    assert_int_equal(window_base(w)[(in + 29) * 4096 + 8], 6);
    assert_int_equal(window_base(w)[(in + 30) * 4096 + 8], 5);
    calls = r.ahead_calls;
    assert_int_equal(rd64(w, 0x40000ULL * 4096), 0x40000);
    assert_int_equal(r.ahead_calls, calls);      /* not an input page */
    assert_int_equal(window_reset_keep(w, keep_even, NULL), DVM_OK);
    calls = r.calls;
    for (uint64_t p = in; p < in + 8; p++)
        assert_int_equal(rd64(w, p * 4096), p);
    assert_int_equal(r.calls, calls);
    window_close(w);
}

static void test_resolver_failure(void **state)
{
    (void)state;
    res r = { .version = 1 };
    mem_window *w = open_with(&r);
    r.fail_page = 0x40005;
    assert_int_equal(rd64(w, 0x40005ULL * 4096), 0);
    assert_int_equal(window_failed(w), DVM_EIO);
    assert_int_equal(window_reset(w), DVM_OK);
    assert_int_equal(window_failed(w), DVM_OK);
    window_close(w);
}

/* A plain prefix: zero on touch without the resolver, dropped by reset. */
static void test_plain(void **state)
{
    (void)state;
    res r = { .version = 4 };
    mem_window *w = open_with(&r);
    int before = map_count_in(w);
    assert_int_equal(window_plain(w, DISA_RB / 4096), DVM_OK);
    assert_true(map_count_in(w) <= before + 1);
    uint8_t *b = window_base(w);
    assert_int_equal(b[0x100], 0);
    b[0x100] = 5;
    b[DISA_OUT + 8] = 6;
    uint8_t buf[4096];
    memset(buf, 0x33, sizeof buf);
    assert_int_equal(window_fill(w, 1, buf), DVM_OK);
    assert_int_equal(b[0x1000 + 17], 0x33);
    assert_int_equal(r.calls, 0);
    assert_int_equal(rd64(w, DISA_RB), DISA_RB / 4096);    /* SR faults */
    assert_int_equal(r.calls, 1);
    assert_int_equal(window_reset(w), DVM_OK);
    assert_int_equal(b[0x100], 0);
    assert_int_equal(b[DISA_OUT + 8], 0);
    assert_int_equal(b[0x1000 + 17], 0);
    assert_int_equal(r.calls, 1);
    window_close(w);
}

static int resident(mem_window *w, uint64_t page)
{
    unsigned char v = 0;
    assert_int_equal(mincore(window_base(w) + page * 4096, 4096, &v), 0);
    return v & 1;
}

/* A window whose PR is plain, its first nkeep pages kept resident. */
static mem_window *open_plain(res *r, uint64_t nkeep)
{
    mem_window *w = open_with(r);
    assert_int_equal(window_plain(w, DISA_RB / 4096), DVM_OK);
    window_plain_keep(w, nkeep);
    return w;
}

/* Kept plain pages: cleared at reset but still resident; the pages
 * after them are dropped. */
static void test_plain_keep(void **state)
{
    (void)state;
    res r = { .version = 4 };
    mem_window *w = open_plain(&r, 3);
    uint8_t *b = window_base(w);
    b[0x10] = 1;
    b[2 * 4096 + 4095] = 2;
    b[3 * 4096] = 3;
    b[DISA_OUT] = 4;
    for (int k = 0; k < 2; k++) {
        assert_int_equal(window_reset(w), DVM_OK);
        assert_true(resident(w, 0) && resident(w, 2));
        assert_false(resident(w, 3));
        assert_false(resident(w, DISA_OUT / 4096));
        assert_int_equal(b[0x10], 0);
        assert_int_equal(b[2 * 4096 + 4095], 0);
        assert_int_equal(b[3 * 4096], 0);
        assert_int_equal(b[DISA_OUT], 0);
    }
    assert_int_equal(r.calls, 0);
    window_close(w);
}

/* Plain pages named as written are dropped at the next reset, those not
 * named stay as they are (the caller's promise: it never wrote them); the
 * naming holds for one reset, and too many ranges drop everything. */
static void test_plain_written(void **state)
{
    (void)state;
    res r = { .version = 4 };
    mem_window *w = open_plain(&r, 2);
    uint8_t *b = window_base(w);
    b[5 * 4096] = 1;
    b[9 * 4096] = 2;
    dvm_range one = { 5, 6 };
    window_plain_written(w, &one, 1);
    assert_int_equal(window_reset(w), DVM_OK);
    assert_false(resident(w, 5));
    assert_true(resident(w, 9));        /* not named: left alone */
    assert_int_equal(window_reset(w), DVM_OK);      /* not told: all go */
    assert_false(resident(w, 9));
    b[9 * 4096] = 2;
    dvm_range many[WINDOW_PLAIN_RANGES + 1];
    for (size_t i = 0; i <= WINDOW_PLAIN_RANGES; i++)
        many[i] = (dvm_range){ 20 + 2 * i, 21 + 2 * i };
    window_plain_written(w, many, WINDOW_PLAIN_RANGES + 1);
    assert_int_equal(window_reset(w), DVM_OK);
    assert_false(resident(w, 9));
    assert_int_equal(b[9 * 4096], 0);
    assert_int_equal(r.calls, 0);
    window_close(w);
}

/* Soft-kept plain pages named as written are zeroed in place and stay
 * resident (the next runner writes them without a fault); a page past the
 * soft part is dropped; too many soft pages named in one reset, or a
 * reset told nothing, drop them as before. */
static void test_plain_soft(void **state)
{
    (void)state;
    res r = { .version = 4 };
    mem_window *w = open_plain(&r, 2);
    window_plain_soft(w, 40);
    uint8_t *b = window_base(w);
    b[5 * 4096 + 7] = 1;
    b[39 * 4096 + 4095] = 2;
    b[40 * 4096] = 3;
    dvm_range two[2] = { { 5, 6 }, { 39, 41 } };
    window_plain_written(w, two, 2);
    assert_int_equal(window_reset(w), DVM_OK);
    assert_true(resident(w, 5) && resident(w, 39));
    assert_false(resident(w, 40));
    assert_int_equal(b[5 * 4096 + 7], 0);
    assert_int_equal(b[39 * 4096 + 4095], 0);
    assert_int_equal(b[40 * 4096], 0);
    b[6 * 4096] = 4;                    /* 17 soft pages named: dropped */
    dvm_range wide = { 5, 22 };
    window_plain_written(w, &wide, 1);
    assert_int_equal(window_reset(w), DVM_OK);
    assert_false(resident(w, 5) || resident(w, 6));
    assert_int_equal(b[6 * 4096], 0);
    b[7 * 4096] = 5;
    assert_int_equal(window_reset(w), DVM_OK);     /* not told: all go */
    assert_false(resident(w, 7));
    assert_int_equal(b[7 * 4096], 0);
    assert_int_equal(r.calls, 0);
    window_close(w);
}

static void count_page(void *arg, uint64_t page)
{
    (void)page;
    (*(size_t *)arg)++;
}

/* A fill beyond a window smaller than 2^46 (a ThreadSanitizer build's:
 * the stack area lies beyond it) is refused and recorded nowhere: a page
 * recorded but not installed would be read by the commit, outside the
 * mapping. */
static void test_fill_beyond(void **state)
{
    (void)state;
    res r = { .version = 1 };
    r.zero_from = UINT64_MAX;
    r.fail_page = UINT64_MAX;
    const uint64_t size = 1ULL << 30, end = size / 4096;
    mem_window *w = NULL;
    assert_int_equal(window_open_sized(resolve, &r, size, &w), DVM_OK);
    assert_int_equal(window_fill(w, end, NULL), DVM_ERANGE);
    assert_int_equal(window_fill(w, DISA_STACK_BASE / 4096, NULL),
                     DVM_ERANGE);
    assert_false(window_touched(w, end));
    assert_int_equal(window_touched_count(w), 0);
    size_t seen = 0;
    window_each_touched(w, count_page, &seen);
    assert_int_equal(seen, 0);
    assert_int_equal(window_fill(w, end - 1, NULL), DVM_OK);  /* the last */
    assert_int_equal(window_touched_count(w), 1);
    assert_int_equal(window_reset(w), DVM_OK);
    window_close(w);
}

/* A fill that the kernel refuses (here: a source it cannot read) is
 * recorded as the window's failure, so the runner does not commit. */
static void test_fill_failure(void **state)
{
    (void)state;
    res r = { .version = 1 };
    r.zero_from = UINT64_MAX;
    r.fail_page = UINT64_MAX;
    mem_window *w = NULL;
    assert_int_equal(window_open_sized(resolve, &r, 1ULL << 30, &w), DVM_OK);
    assert_int_equal(window_failed(w), DVM_OK);
    const uint8_t *unreadable = (const uint8_t *)(uintptr_t)4096;
    assert_int_equal(window_fill(w, 0x1000, unreadable), DVM_ESYS);
    assert_int_equal(window_failed(w), DVM_ESYS);
    assert_int_equal(window_reset(w), DVM_OK);
    assert_int_equal(window_failed(w), DVM_OK);
    window_close(w);
}

/* A zero span: its pages never reach the resolver and read as zeros,
 * fills copy plainly, touched pages are seen, and after reset the span is
 * gone (its pages fault into the resolver again). */
static void test_zero_span(void **state)
{
    (void)state;
    res r = { .version = 9 };
    mem_window *w = open_with(&r);
    const uint64_t lo = 0x40000, n = 256;
    uint8_t page[4096];
    memset(page, 0x5a, sizeof page);
    assert_int_equal(window_zero_span(w, lo, n), DVM_OK);
    assert_true(window_in_zero_span(w, lo + 10));
    assert_false(window_in_zero_span(w, lo + n));
    assert_int_equal(window_fill(w, lo + 3, page), DVM_OK);
    assert_int_equal(window_base(w)[(lo + 3) * 4096 + 7], 0x5a);
    assert_int_equal(rd64(w, (lo + 100) * 4096), 0);     /* kernel zeros */
    window_base(w)[(lo + 200) * 4096] = 1;
    assert_int_equal(r.calls, 0);
    assert_true(window_touched(w, lo + 200));
    assert_false(window_touched(w, lo + 201));
    size_t seen = 0;
    window_each_touched(w, count_page, &seen);
    assert_true(seen >= 2 && seen <= 3);     /* a read may map a zero page */
    assert_int_equal(window_reset(w), DVM_OK);
    assert_false(window_in_zero_span(w, lo + 10));
    assert_int_equal(rd64(w, (lo + 200) * 4096), lo + 200);  /* resolver */
    assert_int_equal(r.calls, 1);
    window_close(w);
}

/* A span backed by a memfd: writes land in the file, a touched page is
 * resident, unmapping leaves the bytes in the file and zeros in the
 * window, and the reset gives the window back as one mapping. */
static void test_span_map(void **state)
{
    (void)state;
    res r = { .version = 9 };
    mem_window *w = open_with(&r);
    const uint64_t lo = 0x40000, n = 64;
    int fd = memfd_create("frames", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)(n + 8) * 4096), 0);
    uint8_t *f = mmap(NULL, (n + 8) * 4096, PROT_READ | PROT_WRITE,
                      MAP_SHARED, fd, 0);
    assert_true(f != MAP_FAILED);
    int maps = map_count_in(w);
    assert_int_equal(window_zero_span(w, lo, n), DVM_OK);
    assert_int_equal(window_span_map(w, lo, n, fd, 8 * 4096), DVM_OK);
    uint8_t page[4096];
    memset(page, 0x5a, sizeof page);
    assert_int_equal(window_fill(w, lo + 3, page), DVM_OK);   /* plain copy */
    window_base(w)[(lo + 10) * 4096 + 5] = 7;
    assert_int_equal(f[(8 + 10) * 4096 + 5], 7);      /* in the file */
    assert_int_equal(f[(8 + 3) * 4096 + 99], 0x5a);
    assert_true(window_touched(w, lo + 10));
    assert_false(window_touched(w, lo + 11));
    size_t seen = 0;
    window_each_touched(w, count_page, &seen);
    assert_int_equal(seen, 2);
    assert_int_equal(window_span_unmap(w, lo), DVM_OK);
    assert_int_equal(window_base(w)[(lo + 10) * 4096 + 5], 0);
    assert_int_equal(f[(8 + 10) * 4096 + 5], 7);      /* still in the file */
    assert_int_equal(window_reset(w), DVM_OK);
    assert_int_equal(map_count_in(w), maps);
    assert_int_equal(rd64(w, (lo + 10) * 4096), lo + 10);    /* resolver */
    /* A span still mapped at the reset is unmapped by it. */
    assert_int_equal(window_zero_span(w, lo, n), DVM_OK);
    assert_int_equal(window_span_map(w, lo, n, fd, 8 * 4096), DVM_OK);
    assert_int_equal(window_reset(w), DVM_OK);
    assert_int_equal(map_count_in(w), maps);
    assert_int_equal(rd64(w, (lo + 3) * 4096 + 8), 0x0909090909090909ULL);
    munmap(f, (n + 8) * 4096);
    close(fd);
    window_close(w);
}

int main(void)
{
    alarm(100);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_content),
        cmocka_unit_test(test_zero_pages),
        cmocka_unit_test(test_fill),
        cmocka_unit_test(test_fill_beyond),
        cmocka_unit_test(test_fill_failure),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_many_pages),
        cmocka_unit_test(test_touched_during_walk),
        cmocka_unit_test(test_input_cap),
        cmocka_unit_test(test_input_ahead),
        cmocka_unit_test(test_reset_keep),
        cmocka_unit_test(test_resolver_failure),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_plain_keep),
        cmocka_unit_test(test_plain_written),
        cmocka_unit_test(test_plain_soft),
        cmocka_unit_test(test_zero_span),
        cmocka_unit_test(test_span_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
