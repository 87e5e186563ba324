/*
 * vm_test.c -- unit tests of code.c, vm.c and the translator stub: code
 * building and validation, instruction lookup, the writable set checks and
 * fault texts.  The interpreter itself is tested by interp_test.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "exec/code.h"
#include "exec/jit.h"
#include "exec/vm.h"
#include "isa/isa.h"
#include "util/alloc.h"

/* A program with one code segment at addr holding bytes[0..n) and the
 * instruction starts offs[0..ni). */
static dvm_program *one_seg(uint64_t addr, const uint8_t *bytes, size_t n,
                            const uint32_t *offs, size_t ni)
{
    dvm_program *p = program_new();
    assert_non_null(p);
    p->segs = dvm_calloc(1, sizeof(prog_segment));
    p->nsegs = 1;
    p->segs[0].addr = addr;
    p->segs[0].size = n;
    p->segs[0].flags = PROG_SEG_CODE;
    p->segs[0].bytes = dvm_malloc(n);
    memcpy(p->segs[0].bytes, bytes, n);
    p->segs[0].insn_offs = dvm_malloc(ni * sizeof(uint32_t) + 1);
    memcpy(p->segs[0].insn_offs, offs, ni * sizeof(uint32_t));
    p->segs[0].ninsns = ni;
    return p;
}

/* Encodes: br:j 0x40000000+X (X = after data), 8 data bytes, exit:c. */
static size_t sample(uint8_t *buf, uint32_t *offs)
{
    isa_insn j = {.op = ISA_OP_BR, .opt = ISA_OPT_J, .nops = 1};
    j.ops[0] = (isa_operand){ISA_M_DIR, ISA_T_Q, 0x40000000 + 11 + 8, 0};
    size_t n = isa_encode(&j, buf);
    offs[0] = 0;
    memset(buf + n, 0xAA, 8);
    n += 8;
    isa_insn e = {.op = ISA_OP_EXIT, .opt = ISA_OPT_C, .nops = 0};
    offs[1] = (uint32_t)n;
    n += isa_encode(&e, buf + n);
    return n;
}

static void test_code_build(void **state)
{
    (void)state;
    uint8_t buf[64];
    uint32_t offs[2];
    size_t n = sample(buf, offs);
    dvm_program *p = one_seg(0x40000000, buf, n, offs, 2);
    vm_code *c = NULL;
    assert_int_equal(code_build(p, &c), DVM_OK);
    assert_int_equal(c->ninsns, 2);
    assert_int_equal(c->insns[0].target, 1);
    assert_int_equal(c->insns[0].next, VM_NO_INSN);  /* data follows */
    assert_int_equal(c->insns[0].next_pc, 0x4000000b);
    assert_int_equal(c->insns[1].pc, 0x40000013);
    assert_int_equal(code_index(c, 0x40000000), 0);
    assert_int_equal(code_index(c, 0x40000001), VM_NO_INSN);
    assert_int_equal(code_index(c, 0x40000013), 1);
    assert_int_equal(code_index(c, 0x3fffffff), VM_NO_INSN);
    assert_int_equal(code_index(c, 0x40000000 + n), VM_NO_INSN);
    assert_int_equal(code_index(c, ~0ULL), VM_NO_INSN);
    assert_int_equal(c->nro, 2);
    assert_int_equal(c->ro[0].lo, 0x40000000);
    assert_int_equal(c->ro[0].hi, 0x40000000 + n);
    assert_int_equal(c->ro[1].lo, DISA_INPUT_BASE);
    assert_int_equal(c->ro[1].hi, DISA_ADDR_LIMIT);
    code_free(c);
    program_free(p);
}

static void test_code_build_rejects(void **state)
{
    (void)state;
    uint8_t buf[64];
    uint32_t offs[2];
    size_t n = sample(buf, offs);
    vm_code *c = NULL;
    buf[offs[1]] = 0x7f;                        /* bad opcode */
    dvm_program *p = one_seg(0x40000000, buf, n, offs, 2);
    assert_int_equal(code_build(p, &c), DVM_EFORMAT);
    assert_null(c);
    program_free(p);
    n = sample(buf, offs);
    p = one_seg(0x40000000, buf, n - 1, offs, 2);  /* truncated */
    assert_int_equal(code_build(p, &c), DVM_EFORMAT);
    program_free(p);
    offs[1] = 4;                                /* overlaps the first */
    p = one_seg(0x40000000, buf, n, offs, 2);
    assert_int_equal(code_build(p, &c), DVM_EFORMAT);
    program_free(p);
    offs[1] = 19;
    p = one_seg(0x1000, buf, n, offs, 2);       /* code in the PR */
    assert_int_equal(code_build(p, &c), DVM_EFORMAT);
    program_free(p);
    assert_null(c);
}

/* A code object with only the read-only ranges of a code at 0x50000000. */
static vm_code ro_only;
static dvm_range ro_ranges[2] = {
    {0x50000000, 0x50001000}, {DISA_INPUT_BASE, DISA_ADDR_LIMIT}};

/* r, on a dummy window, with ro_only as its code. */
static void ro_runner(vm_runner *r)
{
    static uint8_t dummy[8];
    ro_only.ro = ro_ranges;
    ro_only.nro = 2;
    vm_runner_init(r, dummy, &ro_only);
}

static void test_check_write(void **state)
{
    (void)state;
    vm_runner r;
    ro_runner(&r);
    assert_int_equal(vm_check_write(&r, 0, 8), VM_FAULT_NONE);
    assert_int_equal(vm_check_write(&r, DISA_RB - 8, 8), VM_FAULT_NONE);
    assert_int_equal(vm_check_write(&r, DISA_RB - 4, 8), VM_FAULT_WRITABLE);
    assert_int_equal(vm_runner_add_writable(&r, DISA_RB, DISA_RB + 4), 0);
    assert_int_equal(vm_check_write(&r, DISA_RB - 4, 8), VM_FAULT_NONE);
    assert_int_equal(vm_check_write(&r, DISA_RB - 4, 9), VM_FAULT_WRITABLE);
    /* adjacent ranges together cover a write */
    vm_runner_add_writable(&r, 0x60000000, 0x60001000);
    vm_runner_add_writable(&r, 0x60001000, 0x60002000);
    assert_int_equal(vm_check_write(&r, 0x60000ffc, 8), VM_FAULT_NONE);
    assert_int_equal(vm_check_write(&r, 0x60001ffc, 8), VM_FAULT_WRITABLE);
    assert_int_equal(vm_check_write(&r, 0x5fffffff, 1), VM_FAULT_WRITABLE);
    /* read-only wins over writable */
    vm_runner_add_writable(&r, DISA_RB, DISA_ADDR_LIMIT);
    assert_int_equal(vm_check_write(&r, 0x50000ffc, 8), VM_FAULT_READONLY);
    assert_int_equal(vm_check_write(&r, 0x4ffffff8, 8), VM_FAULT_NONE);
    assert_int_equal(vm_check_write(&r, 0x4ffffffc, 8), VM_FAULT_READONLY);
    assert_int_equal(vm_check_write(&r, 0x50001000, 8), VM_FAULT_NONE);
    assert_int_equal(vm_check_write(&r, DISA_INPUT_BASE - 1, 2),
                     VM_FAULT_READONLY);
    assert_int_equal(vm_check_write(&r, DISA_SYSPAGE, 8), VM_FAULT_READONLY);
    vm_runner_reset(&r);
    assert_int_equal(r.nwr, 0);
    assert_int_equal(vm_check_write(&r, 0x60000000, 1), VM_FAULT_WRITABLE);
    vm_runner_destroy(&r);
}

/* The own stack's writes are noted (vm_own_written): only an accepted
 * write that reaches it, from either side; a faulting one, a PR write or
 * one to another range is not; a reset forgets both range and note. */
static void test_own_written(void **state)
{
    (void)state;
    vm_runner r;
    ro_runner(&r);
    assert_int_equal(vm_runner_add_own(&r, 0x60000000, 0x60000010), 0);
    assert_int_equal(vm_runner_add_writable(&r, 0x60000010, 0x60001000), 0);
    assert_int_equal(r.nwr, 2);
    assert_int_equal(vm_check_write(&r, 0x60000010, 8), VM_FAULT_NONE);
    assert_int_equal(vm_check_write(&r, 0x2000, 8), VM_FAULT_NONE);
    assert_int_equal(vm_check_write(&r, 0x5ffffffc, 8), VM_FAULT_WRITABLE);
    assert_false(vm_own_written(&r));
    assert_int_equal(vm_check_write(&r, 0x6000000c, 8), VM_FAULT_NONE);
    assert_true(vm_own_written(&r));           /* straddles its end */
    vm_runner_reset(&r);
    assert_false(vm_own_written(&r));
    assert_int_equal(vm_runner_add_writable(&r, 0x60000000, 0x60000010), 0);
    assert_int_equal(vm_check_write(&r, 0x60000000, 8), VM_FAULT_NONE);
    assert_false(vm_own_written(&r));          /* no own stack named */
    vm_runner_reset(&r);
    assert_int_equal(vm_runner_add_own(&r, 0x60000000, 0x60000010), 0);
    assert_int_equal(vm_check_write(&r, 0x5ffffff8, 9), VM_FAULT_WRITABLE);
    assert_false(vm_own_written(&r));          /* refused: nothing written */
    assert_int_equal(vm_check_write(&r, 0x60000008, 8), VM_FAULT_NONE);
    assert_true(vm_own_written(&r));
    vm_runner_destroy(&r);
}

static void test_describe(void **state)
{
    (void)state;
    static uint8_t dummy[8];
    vm_runner r;
    char buf[128];
    ro_only.ro = ro_ranges;
    ro_only.nro = 2;
    vm_runner_init(&r, dummy, &ro_only);
    assert_int_equal(vm_raise(&r, VM_FAULT_READONLY, 0x40000000, 0x40000010),
                     VM_EXIT_FAULT);
    vm_fault_describe(&r, buf, sizeof buf);
    assert_string_equal(buf,
                        "memory fault: write to read-only memory at 0x40000010");
    vm_raise(&r, VM_FAULT_ARITH, 0x4000002c, 0);
    assert_int_equal(r.fault_pc, 0x4000002c);
    vm_fault_describe(&r, buf, sizeof buf);
    assert_string_equal(buf, "arithmetic fault: division by zero");
    vm_raise(&r, VM_FAULT_EXEC, 0x40000000, 0x40000123);
    vm_fault_describe(&r, buf, sizeof buf);
    assert_string_equal(buf, "execution fault: no instruction at 0x40000123");
    vm_raise(&r, VM_FAULT_MEMORY, 0x40000000, 0x400000000000);
    vm_fault_describe(&r, buf, sizeof buf);
    assert_string_equal(buf, "memory fault: address 0x400000000000 out of range");
    vm_raise(&r, VM_FAULT_WRITABLE, 0x40000000, 0x70000000);
    vm_fault_describe(&r, buf, sizeof buf);
    assert_string_equal(buf, "memory fault: write outside the writable set "
                        "at 0x70000000");
    vm_raise(&r, VM_FAULT_DESCRIPTOR, 0x40000000, 0x108);
    vm_fault_describe(&r, buf, sizeof buf);
    assert_string_equal(buf, "bad runner descriptor: invalid word at 0x108");
    vm_runner_destroy(&r);
}

static void test_jit_stub(void **state)
{
    (void)state;
#ifndef DVM_HAVE_LLVM
    jit_engine *j = NULL;
    assert_int_equal(jit_available(), 0);
    assert_int_equal(jit_create(&ro_only, &j), DVM_EUNSUPP);
    assert_null(j);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_build),
        cmocka_unit_test(test_code_build_rejects),
        cmocka_unit_test(test_check_write),
        cmocka_unit_test(test_own_written),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_jit_stub),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
