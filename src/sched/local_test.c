/*
 * local_test.c -- the check of a child started where its creator ran:
 * notes compared, byte by byte, with the versions a snapshot sees.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "isa/isa.h"
#include "sched/commit_fixture.h"
#include "sched/local.h"
#include "util/alloc.h"

#define ADDR_A (DISA_RB + 16 * DISA_PAGE + 100)   /* an ordinary SR byte */

typedef struct fixture {
    commit_fixture c;
    local_check chk;
    local_context ctx;
} fixture;

static int setup(void **state)
{
    fixture *f = dvm_calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(commit_fixture_open(&f->c, 256), 0);
    local_check_init(&f->chk);
    f->ctx = (local_context){ .sb = DISA_STACK_BASE, .ss = 4096, .rid = 7,
                              .fi = 0x40000000, .attempt = 0 };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    local_check_free(&f->chk);
    commit_fixture_close(&f->c);
    dvm_free(f);
    return 0;
}

/* Commits len bytes of v at addr; returns the new epoch. */
static uint64_t write_bytes(fixture *f, uint64_t addr, uint64_t v,
                            unsigned len)
{
    uint8_t b[8];
    for (unsigned i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    assert_int_equal(commit_write(&f->c.cp, addr, b, len), DVM_OK);
    return space_epoch(f->c.space);
}

static msg_note note(uint64_t addr, unsigned len, int store, uint64_t v)
{
    msg_note n = { .addr = addr, .len = (uint8_t)len, .store = (uint8_t)store };
    for (unsigned i = 0; i < 8; i++)
        n.bytes[i] = (uint8_t)(v >> (8 * i));
    return n;
}

static int valid(fixture *f, uint64_t epoch, const msg_note *v, size_t n)
{
    return local_valid(&f->chk, f->c.space, f->c.store, &f->ctx, epoch, v, n);
}

static void test_read_same_value_passes(void **state)
{
    fixture *f = *state;
    uint64_t e1 = write_bytes(f, ADDR_A, 0x1122334455667788ull, 8);
    msg_note n = note(ADDR_A, 8, 0, 0x1122334455667788ull);
    assert_int_equal(valid(f, e1, &n, 1), 1);
    /* a change of other bytes of the page after e1 does not matter */
    uint64_t e2 = write_bytes(f, ADDR_A + 64, 9, 1);
    assert_int_equal(valid(f, e2, &n, 1), 1);
}

static void test_changed_byte_fails(void **state)
{
    fixture *f = *state;
    write_bytes(f, ADDR_A, 5, 8);
    uint64_t e2 = write_bytes(f, ADDR_A + 3, 1, 1);
    msg_note n = note(ADDR_A, 8, 0, 5);
    assert_int_equal(valid(f, e2, &n, 1), 0);
}

static void test_page_without_version_reads_zero(void **state)
{
    fixture *f = *state;
    msg_note z = note(ADDR_A, 4, 0, 0), nz = note(ADDR_A, 4, 0, 1);
    assert_int_equal(valid(f, 0, &z, 1), 1);
    assert_int_equal(valid(f, 0, &nz, 1), 0);
}

/* A load of a byte the child stored first is its own; the store itself
 * is checked by the bytes it overwrote. */
static void test_own_store_then_load(void **state)
{
    fixture *f = *state;
    uint64_t e = write_bytes(f, ADDR_A, 3, 8);
    msg_note v[2] = { note(ADDR_A, 8, 1, 3), note(ADDR_A, 8, 0, 42) };
    assert_int_equal(valid(f, e, v, 2), 1);
    v[0] = note(ADDR_A, 8, 1, 4);       /* it overwrote another value */
    assert_int_equal(valid(f, e, v, 2), 0);
}

/* A load before the child's store is checked, even if a store follows. */
static void test_load_before_store_checked(void **state)
{
    fixture *f = *state;
    uint64_t e = write_bytes(f, ADDR_A, 3, 8);
    msg_note v[2] = { note(ADDR_A, 8, 0, 2), note(ADDR_A, 8, 1, 2) };
    assert_int_equal(valid(f, e, v, 2), 0);
}

static void test_context_and_other_regions(void **state)
{
    fixture *f = *state;
    msg_note rid = note(DISA_CTX_RID, 8, 0, 7);
    assert_int_equal(valid(f, 0, &rid, 1), 1);
    rid = note(DISA_CTX_RID, 8, 0, 0);  /* the RComp did not know it */
    assert_int_equal(valid(f, 0, &rid, 1), 0);
    msg_note sb = note(DISA_CTX_SB + 4, 4, 0, DISA_STACK_BASE >> 32);
    assert_int_equal(valid(f, 0, &sb, 1), 1);
    msg_note in = note(DISA_INPUT_BASE + 8, 8, 0, 0);
    assert_int_equal(valid(f, 0, &in, 1), 0);
    msg_note pr = note(0x10000, 8, 0, 0);
    assert_int_equal(valid(f, 0, &pr, 1), 0);
}

/* A note across two pages reads each byte from its own page. */
static void test_note_across_pages(void **state)
{
    fixture *f = *state;
    uint64_t at = DISA_RB + 20 * DISA_PAGE - 4;
    uint64_t e = write_bytes(f, at, 0x0102030405060708ull, 8);
    msg_note n = note(at, 8, 0, 0x0102030405060708ull);
    assert_int_equal(valid(f, e, &n, 1), 1);
    n.bytes[7] ^= 1;
    assert_int_equal(valid(f, e, &n, 1), 0);
}

/* The set of stored bytes grows past its first size. */
static void test_many_stores(void **state)
{
    fixture *f = *state;
    enum { N = 600 };
    msg_note *v = dvm_calloc(2 * N, sizeof *v);
    assert_non_null(v);
    for (unsigned i = 0; i < N; i++) {
        v[i] = note(ADDR_A + 8 * i, 8, 1, 0);
        v[N + i] = note(ADDR_A + 8 * i, 8, 0, i + 1);
    }
    assert_int_equal(valid(f, 0, v, 2 * N), 1);
    dvm_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_same_value_passes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_changed_byte_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_page_without_version_reads_zero,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_store_then_load, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_before_store_checked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_context_and_other_regions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_note_across_pages, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_many_stores, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
