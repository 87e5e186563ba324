/*
 * nhome_test.c -- a node's homes without a network: a node that alone
 * homes pages (PEERS names only itself) keeps what STORE sends, makes a
 * version from its base and a delta when APPLY names it, and drops what
 * DROP names -- except a version a waiting APPLY entry still needs,
 * whose drop waits until the entry is made.  Messages to the master are
 * caught by the ops and checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/wire.h"
#include "dist/nhome.h"
#include "mem/diff.h"
#include "util/le.h"

#define RUN 7
#define SELF 1
#define PAGE 0x40010u

/* What the node told the master: the last STORED's pairs. */
typedef struct told {
    int stored, needs;
    uint64_t pv[16];
    size_t n;
} told;

static dvm_status to_master(void *arg, uint16_t type, const msg_buf *b)
{
    told *t = arg;
    cmsg_fetch f;
    assert_int_equal(cmsg_decode_fetch(b->p, b->len, 2, &f), DVM_OK);
    if (type == WIRE_NEED) {
        t->needs++;
        return DVM_OK;
    }
    assert_int_equal(type, WIRE_STORED);
    t->stored++;
    t->n = f.n;
    for (uint64_t i = 0; i < f.n && i < 8; i++) {
        t->pv[2 * i] = le_ld64(f.ent + 16 * i);
        t->pv[2 * i + 1] = le_ld64(f.ent + 16 * i + 8);
    }
    return DVM_OK;
}

static dvm_status filled(void *arg)
{
    (void)arg;
    return DVM_OK;
}

typedef struct fixture {
    told t;
    nhome h;
    mem_store *store;
    pcache pc;
    msg_buf b;
} fixture;

static int setup(void **state)
{
    fixture *f = test_calloc(1, sizeof *f);
    assert_int_equal(store_create(64, &f->store), DVM_OK);
    assert_int_equal(pcache_init(&f->pc, f->store, 16), DVM_OK);
    const nhome_ops ops = { to_master, filled, NULL, &f->t };
    nhome_init(&f->h, NULL, &ops);
    assert_int_equal(nhome_start(&f->h, RUN, f->store, &f->pc, 0), DVM_OK);
    mb_init(&f->b);
    static cmsg_peers m;
    m.self = SELF;
    m.n = 1;
    m.id[0] = SELF;
    m.addr[0] = (cmsg_str){ (const uint8_t *)"127.0.0.1:9", 11 };
    cmsg_encode_peers(&f->b, &m);
    assert_int_equal(nhome_on_peers(&f->h, f->b.p, f->b.len), DVM_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    nhome_destroy(&f->h);
    mb_free(&f->b);
    pcache_destroy(&f->pc);
    assert_int_equal(store_in_use(f->store), 0);
    store_destroy(f->store);
    test_free(f);
    return 0;
}

/* STORE of (PAGE, epoch), every byte fill. */
static void store_version(fixture *f, uint64_t epoch, int fill)
{
    static uint8_t page[CMSG_PAGE];
    memset(page, fill, sizeof page);
    const uint8_t *pages[1] = { page };
    const uint64_t ent[3] = { PAGE, epoch, 1 };     /* with its page */
    mb_reset(&f->b);
    cmsg_encode_fetch(&f->b, RUN, ent, 1, 3, pages, 1);
    assert_int_equal(nhome_on_store(&f->h, f->b.p, f->b.len), DVM_OK);
}

/* APPLY: (PAGE, epoch) from (PAGE, base) and the delta of runner rid. */
static void apply_version(fixture *f, uint64_t epoch, uint64_t base,
                          uint64_t rid)
{
    const uint64_t ent[CMSG_APPLY_WIDTH] = { PAGE, epoch, base, SELF, 0, 0,
                                             rid, 0 };
    mb_reset(&f->b);
    cmsg_encode_fetch(&f->b, RUN, ent, 1, CMSG_APPLY_WIDTH, NULL, 0);
    assert_int_equal(nhome_on_apply(&f->h, f->b.p, f->b.len), DVM_OK);
}

static void drop_version(fixture *f, uint64_t epoch)
{
    const uint64_t ent[2] = { PAGE, epoch };
    mb_reset(&f->b);
    cmsg_encode_fetch(&f->b, RUN, ent, 1, 2, NULL, 0);
    assert_int_equal(nhome_on_drop(&f->h, f->b.p, f->b.len), DVM_OK);
}

/* The result of runner rid changes byte 100 of PAGE to 0x5a: its delta,
 * kept here (the node is the page's only holder). */
static void delta_of(fixture *f, uint64_t rid)
{
    static uint8_t page[CMSG_PAGE];
    uint64_t bits[DIFF_WORDS] = { 0 };
    page[100] = 0x5a;
    bits[100 / 64] = 1ull << (100 % 64);
    const mem_change c = { PAGE, 0, DIFF_BITMAP, bits };
    const uint8_t *pages[1] = { page };
    assert_int_equal(nhome_deltas(&f->h, 0, 0, rid, 0, &c, 1, pages, NULL),
                     DVM_OK);
}

static void test_store_apply_drop(void **state)
{
    fixture *f = *state;
    store_version(f, 5, 0x11);
    assert_int_equal(f->t.stored, 1);
    assert_int_equal(f->t.pv[0], PAGE);
    assert_int_equal(f->t.pv[1], 5);
    delta_of(f, 3);
    apply_version(f, 9, 5, 3);              /* made at once */
    assert_int_equal(f->t.stored, 2);
    assert_int_equal(f->t.pv[1], 9);
    const uint8_t *v = hstore_find(&f->h.home, PAGE, 9);
    assert_non_null(v);
    assert_int_equal(v[100], 0x5a);
    assert_int_equal(v[99], 0x11);
    drop_version(f, 5);                     /* no one needs it: gone */
    assert_null(hstore_find(&f->h.home, PAGE, 5));
    assert_int_equal(f->h.nlater, 0);
}

/* The drop of a base a waiting entry needs waits for the entry (before
 * it, the base went at once and the entry could never be made). */
static void test_drop_waits_for_apply(void **state)
{
    fixture *f = *state;
    store_version(f, 5, 0x11);
    apply_version(f, 9, 5, 3);              /* its delta has not come */
    assert_int_equal(f->t.stored, 1);
    assert_int_equal(f->h.npark, 1);
    drop_version(f, 5);                     /* the master collected it */
    assert_non_null(hstore_find(&f->h.home, PAGE, 5));
    assert_int_equal(f->h.nlater, 1);
    delta_of(f, 3);                         /* the delta comes */
    assert_int_equal(nhome_tick(&f->h, 1), DVM_OK);
    assert_int_equal(f->t.stored, 2);       /* made and acknowledged */
    assert_int_equal(f->t.pv[0], PAGE);
    assert_int_equal(f->t.pv[1], 9);
    const uint8_t *v = hstore_find(&f->h.home, PAGE, 9);
    assert_non_null(v);
    assert_int_equal(v[100], 0x5a);
    assert_int_equal(v[4000], 0x11);
    assert_null(hstore_find(&f->h.home, PAGE, 5));  /* dropped now */
    assert_int_equal(f->h.nlater, 0);
    assert_int_equal(f->h.npark, 0);
    assert_int_equal(f->t.needs, 0);
}

/* A chain: 9 from 5 and 12 from 9 both wait; the master collects 5 and
 * 9.  Both drops wait; each goes once nothing waiting needs it. */
static void test_drop_waits_for_chain(void **state)
{
    fixture *f = *state;
    store_version(f, 5, 0x11);
    apply_version(f, 9, 5, 3);
    apply_version(f, 12, 9, 4);
    assert_int_equal(f->h.npark, 2);
    drop_version(f, 5);
    drop_version(f, 9);
    assert_int_equal(f->h.nlater, 2);
    delta_of(f, 3);
    delta_of(f, 4);
    assert_int_equal(nhome_tick(&f->h, 1), DVM_OK);
    assert_int_equal(f->h.npark, 0);
    assert_non_null(hstore_find(&f->h.home, PAGE, 12));
    assert_null(hstore_find(&f->h.home, PAGE, 9));
    assert_null(hstore_find(&f->h.home, PAGE, 5));
    assert_int_equal(f->h.nlater, 0);
    assert_int_equal(hstore_count(&f->h.home), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_apply_drop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_drop_waits_for_apply, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_drop_waits_for_chain, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
