/*
 * asm_test.c -- unit tests of the assembler: encoding, type propagation,
 * layout, symbols, directives, expression evaluation, and one test per
 * class of error checking the exact "file:line:col: error:" location.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "asm/asm.h"
#include "image/image.h"
#include "isa/isa.h"
#include "util/alloc.h"

/* Assembles src as "t.dasm"; returns the status, *p on success and the
 * diagnostics in *diag (owned, free()). */
static dvm_status asm_src(const char *src, dvm_program **p, char **diag)
{
    size_t len;
    FILE *f = open_memstream(diag, &len);
    assert_non_null(f);
    dvm_program *prog = NULL;
    dvm_status st = asm_assemble_string("t.dasm", src, strlen(src), f, &prog);
    fclose(f);
    if (p)
        *p = prog;
    else
        program_free(prog);
    return st;
}

static dvm_program *asm_ok(const char *src)
{
    dvm_program *p;
    char *diag;
    dvm_status st = asm_src(src, &p, &diag);
    if (st)
        fprintf(stderr, "%s", diag);
    free(diag);
    assert_int_equal(st, DVM_OK);
    return p;
}

/* Decodes instruction k of segment 0. */
static isa_insn insn_at(const dvm_program *p, size_t k)
{
    isa_insn in;
    size_t n;
    const prog_segment *s = &p->segs[0];
    assert_true(k < s->ninsns);
    assert_int_equal(isa_decode(s->bytes + s->insn_offs[k],
                                s->size - s->insn_offs[k], &in, &n), DVM_OK);
    return in;
}

static uint64_t sym(const dvm_program *p, const char *name)
{
    uint64_t v = 0;
    assert_int_equal(program_symbol(p, name, &v), DVM_OK);
    return v;
}

static void test_encoding(void **state)
{
    (void)state;
    dvm_program *p = asm_ok("mov $-5:b, 0x200\nexit:c\n");
    assert_int_equal(p->nsegs, 1);
    assert_true(p->segs[0].addr == 0x40000000);
    assert_int_equal(p->segs[0].flags, PROG_SEG_CODE);
    assert_int_equal(p->segs[0].ninsns, 2);
    assert_int_equal(p->segs[0].size, 2 + 9 + 9 + 2);
    const uint8_t want[] = {ISA_OP_MOV, 0, ISA_M_IMM << 4 | ISA_T_B,
                            0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            ISA_M_DIR << 4 | ISA_T_B, 0, 2, 0, 0, 0, 0, 0, 0,
                            ISA_OP_EXIT, ISA_OPT_C};
    assert_memory_equal(p->segs[0].bytes, want, sizeof want);
    program_free(p);
}

static void test_modes_and_types(void **state)
{
    (void)state;
    dvm_program *p = asm_ok("x = 0x100\ny = 0x108\n"
                            "add (x):q, 8(x), (y)\n"
                            "loop: br:l i:uq, $10240, loop\n"
                            "i = 0x200\n"
                            "bl loop:b, 0x300:d\n"
                            "mov -8(x):w, x\n");
    isa_insn a = insn_at(p, 0);
    assert_int_equal(a.ops[0].mode, ISA_M_IND);
    assert_int_equal(a.ops[1].mode, ISA_M_DISP);
    assert_int_equal(a.ops[1].disp, 8);
    for (int i = 0; i < 3; i++)
        assert_int_equal(a.ops[i].type, ISA_T_Q);
    isa_insn b = insn_at(p, 1);
    assert_int_equal(b.opt, ISA_OPT_L);
    assert_int_equal(b.ops[0].type, ISA_T_UQ);
    assert_int_equal(b.ops[1].type, ISA_T_UQ);
    assert_int_equal(b.ops[2].type, ISA_T_Q);           /* untyped kind */
    assert_true(b.ops[2].value == sym(p, "loop"));
    assert_true(b.ops[0].value == 0x200);               /* forward .equ */
    isa_insn c = insn_at(p, 2);
    assert_int_equal(c.ops[0].type, ISA_T_Q);
    assert_int_equal(c.ops[1].type, ISA_T_Q);
    isa_insn d = insn_at(p, 3);
    assert_int_equal(d.ops[0].disp, -8);
    assert_int_equal(d.ops[1].type, ISA_T_W);
    program_free(p);
}

static void test_immediates(void **state)
{
    (void)state;
    dvm_program *p = asm_ok("mov $3:f, 0x100\nmov $-2.5:f, 0x100\n"
                            "mov $255:b, 0x100\nmov $-1:uw, 0x100\n"
                            "mov $'\\n', 0x100\nmov $lab+8, 0x100\nlab:\n");
    double d3 = 3.0, dm = -2.5;
    uint64_t u3, um;
    memcpy(&u3, &d3, 8);
    memcpy(&um, &dm, 8);
    assert_true(insn_at(p, 0).ops[0].value == u3);
    assert_true(insn_at(p, 1).ops[0].value == um);
    assert_true(insn_at(p, 2).ops[0].value == UINT64_MAX);
    assert_true(insn_at(p, 3).ops[0].value == 0xffff);
    assert_true(insn_at(p, 4).ops[0].value == '\n');
    assert_true(insn_at(p, 5).ops[0].value == sym(p, "lab") + 8);
    program_free(p);
}

static void test_layout(void **state)
{
    (void)state;
    dvm_program *p = asm_ok(".data\nd: .quad 1, d\n.text\nmain: exit\n"
                            ".org 0x40002000\nfar: .byte 1\n");
    assert_int_equal(p->nsegs, 3);
    assert_true(p->segs[0].addr == 0x40000000);
    assert_true(p->segs[1].addr == 0x40002000);
    assert_true(p->segs[2].addr == 0x40003000);        /* .data after .text */
    assert_int_equal(p->segs[2].flags, 0);
    assert_true(sym(p, "d") == 0x40003000);
    assert_memory_equal(p->segs[2].bytes + 8, "\x00\x30\x00\x40", 4);
    assert_true(p->entry == sym(p, "main"));
    program_free(p);
}

static void test_symbols(void **state)
{
    (void)state;
    dvm_program *p = asm_ok("zeta: exit\nalpha = __sb + 8\n.equ mid, "
                            "__nrcomp\n.entry zeta+2\n");
    assert_int_equal(p->nsyms, 3);
    assert_string_equal(p->syms[0].name, "alpha");
    assert_string_equal(p->syms[1].name, "mid");
    assert_string_equal(p->syms[2].name, "zeta");
    assert_true(p->syms[0].value == 0x1008);
    assert_true(p->syms[1].value == 0x3FFFFFFFF000ULL);
    assert_true(p->entry == 0x40000002);
    program_free(p);
    p = asm_ok(".data\n.quad 1\n");
    assert_true(p->entry == 0x40000000);
    program_free(p);
}

static void test_directives(void **state)
{
    (void)state;
    dvm_program *p = asm_ok(".byte 1, -1\n.align 8\n.word 0x1234\n"
                            ".dword -2\n.zero 2\n.asciz \"hi\\n\"\n"
                            ".double 1.5\n.heap 0x50000000, 16\n"
                            ".heap 0x60000000, 8\n"
                            ".channel log, 0x1000, out\n"
                            ".channel in1, 0x3F0000000000, in\n");
    const uint8_t want[] = {1, 0xff, 0, 0, 0, 0, 0, 0, 0x34, 0x12,
                            0xfe, 0xff, 0xff, 0xff, 0, 0, 'h', 'i', '\n', 0,
                            0, 0, 0, 0, 0, 0, 0xf8, 0x3f};
    assert_int_equal(p->segs[0].size, sizeof want);
    assert_memory_equal(p->segs[0].bytes, want, sizeof want);
    assert_int_equal(p->segs[0].ninsns, 0);
    assert_int_equal(p->nheap, 2);
    assert_true(p->heap[1].base == 0x60000000 && p->heap[1].len == 8);
    assert_int_equal(p->nchans, 2);
    assert_string_equal(p->chans[0].name, "log");
    assert_int_equal(p->chans[0].dir, PROG_CHAN_OUT);
    assert_int_equal(p->chans[1].dir, PROG_CHAN_IN);
    program_free(p);
}

/* DISA 1.1: .zero and .align grow an unstored zero tail; a short tail
 * followed by bytes is stored, a long one ends its segment. */
static void test_zero_tails(void **state)
{
    (void)state;
    dvm_program *p = asm_ok(".data\nbig: .zero 1024*1024*1024\nx: .quad 5\n"
                            ".zero 3\n.byte 7\n.align 4096\n.zero 8\n"
                            ".text\nmain: exit\n.zero 1024*1024\n");
    assert_int_equal(p->nsegs, 3);
    const prog_segment *t = &p->segs[0], *d0 = &p->segs[1], *d1 = &p->segs[2];
    assert_int_equal(t->flags, PROG_SEG_CODE);
    assert_int_equal(t->zero_tail, 1 << 20);
    assert_int_equal(t->ninsns, 1);
    assert_true(prog_seg_stored(t) < 16);
    assert_int_equal(d0->size, 1ULL << 30);
    assert_int_equal(d0->zero_tail, 1ULL << 30);
    assert_null(d0->bytes);
    assert_true(d1->addr == sym(p, "x") && d1->addr == d0->addr + d0->size);
    assert_int_equal(prog_seg_stored(d1), 12);
    assert_memory_equal(d1->bytes, "\5\0\0\0\0\0\0\0\0\0\0\7", 12);
    assert_int_equal(d1->zero_tail, 4096 - 12 + 8);
    uint8_t *b;
    size_t n;
    assert_int_equal(image_serialize(p, &b, &n), DVM_OK);
    assert_true(n < 1024);
    dvm_free(b);
    program_free(p);
}

/* Checks that src fails with a first diagnostic starting with loc and
 * containing msg. */
static void check_error(const char *src, const char *loc, const char *msg)
{
    dvm_program *p;
    char *diag;
    dvm_status st = asm_src(src, &p, &diag);
    if (st != DVM_ESYNTAX || strncmp(diag, loc, strlen(loc)) ||
        !strstr(diag, msg))
        fail_msg("source:\n%s\nexpected %s ... %s\ngot (%d):\n%s", src, loc,
                 msg, st, diag);
    assert_null(p);
    free(diag);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *src, *loc, *msg;
    } cases[] = {
        {"exit\n  mov $1, nowhere\n", "t.dasm:2:11: error:", "undefined"},
        {"a: exit\na: exit\n", "t.dasm:2:1: error:", "already defined"},
        {"__sb = 4\n", "t.dasm:1:1: error:", "predefined"},
        {"frob 1\n", "t.dasm:1:1: error:", "unknown instruction"},
        {"MOV $1, 2\n", "t.dasm:1:1: error:", "unknown instruction"},
        {"  .frob 1\n", "t.dasm:1:3: error:", "unknown directive"},
        {"mov:q $1, 2\n", "t.dasm:1:5: error:", "unknown option"},
        {"add:z $1, 2, 3\n", "t.dasm:1:5: error:", "does not apply"},
        {"br $1, 2, 3\n", "t.dasm:1:1: error:", "condition"},
        {"br:e:l $1, 2, 3\n", "t.dasm:1:6: error:", "only one option"},
        {"br:j 1, 2\n", "t.dasm:1:9: error:", "takes 1 operand"},
        {"add $1, 2\n", "t.dasm:1:1: error:", "takes 3 operands"},
        {"mov $1, $2\n", "t.dasm:1:9: error:", "destination"},
        {"br:j $1\n", "t.dasm:1:6: error:", "jump target"},
        {"bl 1, $2\n", "t.dasm:1:7: error:", "link destination"},
        {"mov $1.5, 2\n", "t.dasm:1:5: error:", "float literal"},
        {"mov $1.5:d, 2\n", "t.dasm:1:5: error:", "float literal"},
        {"and $1:f, 2, 3\n", "t.dasm:1:1: error:", "integers only"},
        {"div:r 1, 2:f, 3\n", "t.dasm:1:1: error:", "integers only"},
        {"mov 1:x, 2\n", "t.dasm:1:7: error:", "unknown type"},
        {"mov (1, 2\n", "t.dasm:1:7: error:", "expected ')'"},
        {"mov 1 2, 3\n", "t.dasm:1:7: error:", "expected ','"},
        {"mov $(1), 2\n", "t.dasm:1:6: error:", "parentheses"},
        {"add 1:f, $1.5+1, 3\n", "t.dasm:1:14: error:", "expected ','"},
        {".org 0x50000000\n.org 0x40000000\n", "t.dasm:2:1: error:",
         "move back"},
        {".org 0x3F0000000001\n", "t.dasm:1:1: error:", "past the end"},
        {".org 0x3EFFFFFFFFFF\n.quad 1\n", "t.dasm:2:7: error:",
         "past the end"},
        {".byte 256\n", "t.dasm:1:7: error:", "does not fit"},
        {".align 0\n", "t.dasm:1:1: error:", "bad alignment"},
        {".ascii 5\n", "t.dasm:1:8: error:", "expected a string"},
        {".ascii \"abc\n", "t.dasm:1:8: error:", "unterminated"},
        {"mov $'ab', 1\n", "t.dasm:1:6: error:", "character literal"},
        {"mov $99999999999999999999, 1\n", "t.dasm:1:6: error:",
         "too large"},
        {".entry 1\n.entry 2\n", "t.dasm:2:1: error:", "twice"},
        {".heap 0x100, 8\n", "t.dasm:1:1: error:", "heap range"},
        {".heap 0x50000000, 0\n", "t.dasm:1:1: error:", "heap range"},
        {".channel stdout, 0x100, out\n", "t.dasm:1:10: error:",
         "reserved"},
        {".channel a, 0x100, out\n.channel a, 0x200, out\n",
         "t.dasm:2:10: error:", "already declared"},
        {".channel a, 0x20000000, out\n", "t.dasm:1:1: error:",
         "private region"},
        {".channel a, 0x100, in\n", "t.dasm:1:1: error:", "input windows"},
        {".channel a, 0x3FFFFFFFEFF8, in\n", "t.dasm:1:1: error:",
         "need room for one"},
        {".channel a, 0x100, both\n", "t.dasm:1:20: error:", "'in' or"},
        {".data\nexit\n", "t.dasm:2:1: error:", "belong in .text"},
        {"x = 1 +\n", "t.dasm:1:8: error:", "expected a number"},
        {"mov @, 1\n", "t.dasm:1:5: error:", "unexpected character"},
        {".include 5\n", "t.dasm:1:10: error:", "file name"},
        {".include \"/nonexistent/x.dasm\"\n", "t.dasm:1:10: error:",
         "cannot open"},
        {".org x+1\nx: exit\n", "t.dasm:2:1: error:", "does not settle"},
        {".text 1\n", "t.dasm:1:7: error:", "end of the line"},
        {"a = b\nb = a + 1\n", "t.dasm:1:5: error:", "circular"},
        {"a = a\n", "t.dasm:1:5: error:", "circular"},
        {".equ a, b\n.equ b, c\nc = a\n", "t.dasm:1:9: error:",
         "circular"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_error(cases[i].src, cases[i].loc, cases[i].msg);
}

static void test_many_errors(void **state)
{
    (void)state;
    char *src = dvm_malloc(100 * 8 + 1);
    char *q = src;
    for (int i = 0; i < 100; i++)
        q += sprintf(q, "bogus\n");
    dvm_program *p;
    char *diag;
    assert_int_equal(asm_src(src, &p, &diag), DVM_ESYNTAX);
    int lines = 0;
    for (char *c = diag; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 51);             /* 50 errors and "too many" */
    assert_non_null(strstr(diag, "t.dasm:2:1: error: unknown instruction"));
    assert_non_null(strstr(diag, "too many errors"));
    free(diag);
    dvm_free(src);
}

/* Writes text to dir/name. */
static void write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_include(void **state)
{
    (void)state;
    char dir[] = "/tmp/asm_testXXXXXX", path[600], sub[600];
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof sub, "%s/sub", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file(dir, "top.dasm", "main: .include \"sub/a.inc\"\nexit\n");
    write_file(dir, "sub/a.inc", "  .include \"b.inc\"\nval = 7\n");
    write_file(dir, "sub/b.inc", "mov $val, 0x100\n");
    write_file(dir, "cyc.dasm", ".include \"sub/c1.inc\"\n");
    write_file(dir, "sub/c1.inc", "exit\n.include \"c2.inc\"\n");
    write_file(dir, "sub/c2.inc", "\n  .include \"c1.inc\"\n");
    snprintf(path, sizeof path, "%s/top.dasm", dir);
    dvm_program *p = NULL;
    assert_int_equal(asm_assemble_file(path, stderr, &p), DVM_OK);
    assert_int_equal(p->segs[0].ninsns, 2);
    assert_true(sym(p, "val") == 7 && sym(p, "main") == 0x40000000);
    program_free(p);
    snprintf(path, sizeof path, "%s/cyc.dasm", dir);
    char *diag;
    size_t len;
    FILE *f = open_memstream(&diag, &len);
    assert_int_equal(asm_assemble_file(path, f, &p), DVM_ESYNTAX);
    fclose(f);
    snprintf(path, sizeof path, "%s/sub/c2.inc:2:12: error: include cycle",
             dir);
    assert_non_null(strstr(diag, path));
    free(diag);
    snprintf(path, sizeof path, "%s/none.dasm", dir);
    assert_int_equal(asm_assemble_file(path, NULL, &p), DVM_EIO);
    const char *rm[] = {"sub/a.inc", "sub/b.inc", "sub/c1.inc", "sub/c2.inc",
                        "top.dasm", "cyc.dasm", "sub", ""};
    for (size_t i = 0; i < sizeof rm / sizeof rm[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, rm[i]);
        remove(path);
    }
}

static void test_include_depth(void **state)
{
    (void)state;
    char dir[] = "/tmp/asm_testXXXXXX", path[600], text[64];
    assert_non_null(mkdtemp(dir));
    for (int i = 0; i < 20; i++) {
        snprintf(path, sizeof path, "f%d.inc", i);
        snprintf(text, sizeof text, ".include \"f%d.inc\"\n", i + 1);
        write_file(dir, path, text);
    }
    write_file(dir, "f20.inc", "exit\n");
    snprintf(path, sizeof path, "%s/f0.inc", dir);
    dvm_program *p = NULL;
    char *diag;
    size_t len;
    FILE *f = open_memstream(&diag, &len);
    assert_int_equal(asm_assemble_file(path, f, &p), DVM_ESYNTAX);
    fclose(f);
    assert_non_null(strstr(diag, "f16.inc:1:10: error: includes nested"));
    free(diag);
    for (int i = 0; i <= 20; i++) {
        snprintf(path, sizeof path, "%s/f%d.inc", dir, i);
        remove(path);
    }
    remove(dir);
}

/* Including one 4 MiB file again and again stops at 64 MiB in all (the
 * sources were unbounded: 40 includes of 60 MB took 3 GB). */
static void test_include_total(void **state)
{
    (void)state;
    char dir[] = "/tmp/asm_testXXXXXX", path[600];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/big.inc", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputc('#', f);
    for (int i = 0; i < (4 << 20) - 2; i++)
        fputc('x', f);
    fputc('\n', f);
    fclose(f);
    char *top = dvm_malloc(20 * 20 + 8), *q = top;
    for (int i = 0; i < 20; i++)
        q += sprintf(q, ".include \"big.inc\"\n");
    strcpy(q, "exit\n");
    write_file(dir, "top.dasm", top);
    dvm_free(top);
    snprintf(path, sizeof path, "%s/top.dasm", dir);
    dvm_program *p = NULL;
    char *diag;
    size_t len;
    f = open_memstream(&diag, &len);
    assert_int_equal(asm_assemble_file(path, f, &p), DVM_ESYNTAX);
    fclose(f);
    assert_non_null(strstr(diag, "top.dasm:16:10: error: "));
    assert_non_null(strstr(diag, "larger than 64 MiB in all"));
    free(diag);
    remove(path);
    snprintf(path, sizeof path, "%s/big.inc", dir);
    remove(path);
    remove(dir);
}

static void test_eval(void **state)
{
    (void)state;
    dvm_program *p = asm_ok(".data\nresult: .quad 0\nq: .quad 0\n");
    uint64_t v = 0;
    assert_int_equal(asm_eval_expr(p, "result", &v), DVM_OK);
    assert_true(v == sym(p, "result"));
    assert_int_equal(asm_eval_expr(p, "q+40", &v), DVM_OK);
    assert_true(v == sym(p, "q") + 40);
    assert_int_equal(asm_eval_expr(p, "0x1000 + 2*3 - 1", &v), DVM_OK);
    assert_true(v == 0x1005);
    assert_int_equal(asm_eval_expr(p, "__out", &v), DVM_OK);
    assert_true(v == 0x20000000);
    assert_int_equal(asm_eval_expr(p, "-8", &v), DVM_OK);
    assert_true(v == (uint64_t)-8);
    assert_int_equal(asm_eval_expr(p, "nothere", &v), DVM_ENOENT);
    assert_int_equal(asm_eval_expr(p, "1 +", &v), DVM_ESYNTAX);
    assert_int_equal(asm_eval_expr(p, "1 2", &v), DVM_ESYNTAX);
    assert_int_equal(asm_eval_expr(p, "@", &v), DVM_ESYNTAX);
    program_free(p);
}

/* A string of n copies of op followed by tail (owned). */
static char *repeat(int op, size_t n, const char *tail)
{
    char *s = dvm_malloc(n + strlen(tail) + 1);
    assert_non_null(s);
    memset(s, op, n);
    strcpy(s + n, tail);
    return s;
}

/* Hundreds of thousands of prefix operators cost no stack, in the
 * assembler and in --dump expressions alike (they used to overflow it). */
static void test_deep_prefix(void **state)
{
    (void)state;
    uint64_t v = 0;
    char *e = repeat('-', 300001, "5");
    assert_int_equal(asm_eval_expr(NULL, e, &v), DVM_OK);
    assert_true(v == (uint64_t)-5);
    dvm_free(e);
    e = repeat('+', 300000, "7\n");
    memcpy(e, "x = ", 4);
    dvm_program *p = asm_ok(e);
    assert_true(sym(p, "x") == 7);
    program_free(p);
    dvm_free(e);
}

/* A forward chain of constants of any length settles (DISA.md 7: use
 * before definition); it used to be refused after 8 links. */
static void test_forward_chain(void **state)
{
    (void)state;
    enum { LINKS = 20000 };
    char *src = dvm_malloc(LINKS * 40 + 64), *q = src;
    assert_non_null(src);
    q += sprintf(q, "mov $a0, 0x50000000\n");
    for (int i = 0; i < LINKS; i++)
        q += sprintf(q, i % 2 ? "a%d = a%d + 1\n" : ".equ a%d, a%d + 1\n",
                     i, i + 1);
    sprintf(q, "a%d = end - 3\nend: exit\n", LINKS);
    dvm_program *p = asm_ok(src);
    uint64_t end = sym(p, "end");
    assert_true(sym(p, "a0") == end - 3 + LINKS);
    assert_true(sym(p, "a9") == end - 3 + LINKS - 9);
    isa_insn in = insn_at(p, 0);
    assert_true(in.ops[0].value == end - 3 + LINKS);
    program_free(p);
    dvm_free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_modes_and_types),
        cmocka_unit_test(test_immediates),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_symbols),
        cmocka_unit_test(test_directives),
        cmocka_unit_test(test_zero_tails),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_many_errors),
        cmocka_unit_test(test_include),
        cmocka_unit_test(test_include_depth),
        cmocka_unit_test(test_include_total),
        cmocka_unit_test(test_eval),
        cmocka_unit_test(test_deep_prefix),
        cmocka_unit_test(test_forward_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
