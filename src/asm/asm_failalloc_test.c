/*
 * asm_failalloc_test.c -- the assembler, the image format and the
 * disassembler under allocation failure (the SQLite idea).
 *
 * Each test walks N = 1, 2, ... : the N-th allocation and every later one
 * fail (dvm_alloc_fail_from), the operation runs, and it must either
 * succeed or return DVM_ENOMEM with a message that says so -- never another
 * code, never "no error", never a leak (the ASan build checks leaks at
 * exit).  The walk ends at the first N at which the operation succeeds.
 * In a build without DVM_ALLOC_FAILPOINTS the tests skip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "asm/asm.h"
#include "asm/dis.h"
#include "image/image.h"
#include "util/alloc.h"
#include "util/status.h"

/* Most allocations any operation below needs; a walk longer than this is a
 * failure of its own (an operation that never succeeds). */
#define WALK_MAX 2000

/* Every directive that allocates: strings, heap ranges, channels, symbols
 * defined late, an include-free source of a few sections. */
static const char SRC[] =
    "        .text\n"
    "main:   mov msg:q, __out+8\n"
    "        mov $len:q, __out\n"
    "        add later:q, $1, later:q\n"
    "        exit:c\n"
    "        .data\n"
    "msg:    .ascii \"hello, world\\n\"\n"
    "name:   .asciz \"a\", \"bc\"\n"
    "later:  .quad 1, 2, later\n"
    "        .double 1.5\n"
    "        .equ len, 13\n"
    "        .heap 0x100000000, 0x1000\n"
    "        .heap 0x200000000, 0x1000\n"
    "        .channel in1, 0x3F0000000000, in\n"
    "        .channel out1, 0x10000000, out\n";

/* Checks a failed step: out of memory, and a message saying so. */
static void expect_nomem(dvm_status st, long n)
{
    if (st != DVM_ENOMEM || !strstr(status_message(), "out of memory"))
        fail_msg("allocation %ld: status %d, message '%s'", n, st,
                 status_message());
}

static dvm_status assemble(dvm_program **p)
{
    FILE *diag = fopen("/dev/null", "w");
    assert_non_null(diag);
    dvm_status st = asm_assemble_string("t.dasm", SRC, sizeof SRC - 1, diag,
                                        p);
    fclose(diag);
    return st;
}

static void assemble_walk(void **state)
{
    (void)state;
    if (!dvm_alloc_fail_from(0))
        skip();
    for (long n = 1; n < WALK_MAX; n++) {
        dvm_program *p = NULL;
        status_clear();
        dvm_alloc_fail_from(n);
        dvm_status st = assemble(&p);
        dvm_alloc_fail_from(0);
        if (!st) {
            program_free(p);
            return;
        }
        expect_nomem(st, n);
    }
    fail_msg("assembly never succeeded");
}

/* Serialises and parses back, both under the failpoint. */
static dvm_status image_round(const dvm_program *p)
{
    uint8_t *buf;
    size_t len;
    dvm_status st = image_serialize(p, &buf, &len);
    if (st)
        return st;
    dvm_program *q;
    st = image_parse(buf, len, &q);
    dvm_free(buf);
    if (!st)
        program_free(q);
    return st;
}

static void image_walk(void **state)
{
    (void)state;
    dvm_program *p;
    if (!dvm_alloc_fail_from(0))
        skip();
    assert_int_equal(assemble(&p), DVM_OK);
    for (long n = 1; n < WALK_MAX; n++) {
        status_clear();
        dvm_alloc_fail_from(n);
        dvm_status st = image_round(p);
        dvm_alloc_fail_from(0);
        if (!st) {
            program_free(p);
            return;
        }
        expect_nomem(st, n);
    }
    fail_msg("image round trip never succeeded");
}

static void dis_walk(void **state)
{
    (void)state;
    dvm_program *p;
    if (!dvm_alloc_fail_from(0))
        skip();
    assert_int_equal(assemble(&p), DVM_OK);
    for (long n = 1; n < WALK_MAX; n++) {
        FILE *out = fopen("/dev/null", "w");
        assert_non_null(out);
        status_clear();
        dvm_alloc_fail_from(n);
        dvm_status st = dis_write(p, out);
        dvm_alloc_fail_from(0);
        fclose(out);
        if (!st) {
            program_free(p);
            return;
        }
        expect_nomem(st, n);
    }
    fail_msg("disassembly never succeeded");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(assemble_walk),
        cmocka_unit_test(image_walk),
        cmocka_unit_test(dis_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
