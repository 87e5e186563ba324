/*
 * jit_test.c -- the translator against the interpreter, instruction by
 * instruction.
 *
 * Each test builds a small program from isa_insn values (labels resolved to
 * instruction addresses), runs it on interp_run and on jit_run over the same
 * 2^46 window (reset between the runs), and requires the same exit, the same
 * fault (kind, instruction address, offending address), the same children
 * and the same bytes in the areas programs use: the PR scratch area, the top
 * of the PR, and the SR heap.  The interpreter is the reference; where a test
 * also states the expected result it is to prove that the test exercises
 * what it names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <elf.h>
#include <sys/mman.h>
#include <unistd.h>

#include "exec/jit.h"
#include "exec/jit_cache.h"
#include "exec/jit_find.h"
#include "util/alloc.h"

#define CODE     DISA_TEXT_BASE
#define HEAP     0x50000000ULL          /* writable SR range */
#define HEAPLEN  0x2000ULL
#define RO_DATA  (CODE + 0x100000)      /* SR, readable, not writable */
#define PR_AREA  0x10000ULL             /* compared: [0, PR_AREA) */
#define PR_TOP   0x1000ULL              /* compared: [RB - PR_TOP, RB) */

static uint8_t *win;

/* ---- programs ------------------------------------------------------------ */

/* An operand; lab >= 0 makes its value the address of insn lab plus
 * o.value. */
typedef struct top {
    isa_operand o;
    int lab;
} top;

#define OPND(m, t, v, d) \
    ((top){{ISA_M_##m, ISA_T_##t, (uint64_t)(v), (int64_t)(d)}, -1})
#define IMM(v, t)     OPND(IMM, t, v, 0)
#define DIR(a, t)     OPND(DIR, t, a, 0)
#define IND(a, t)     OPND(IND, t, a, 0)
#define DSP(d, a, t)  OPND(DISP, t, a, d)
#define LBL(k)        ((top){{ISA_M_DIR, ISA_T_Q, 0, 0}, (k)})
#define LIMM(k)       ((top){{ISA_M_IMM, ISA_T_Q, 0, 0}, (k)})

#define MAXI 4096
typedef struct tprog {
    isa_insn in[MAXI];
    int lab[MAXI][ISA_MAX_OPERANDS];
    int n;
} tprog;

/* Appends an instruction; returns its index (a label). */
static int ins(tprog *t, int op, int opt, const top *ops, int n)
{
    assert_true(t->n < MAXI);
    assert_int_equal(n, isa_operand_count(op, opt));
    isa_insn *in = &t->in[t->n];
    memset(in, 0, sizeof *in);
    in->op = (uint8_t)op;
    in->opt = (uint8_t)opt;
    in->nops = (uint8_t)n;
    for (int i = 0; i < n; i++) {
        in->ops[i] = ops[i].o;
        t->lab[t->n][i] = ops[i].lab;
    }
    return t->n++;
}

#define INS(t, op, opt, ...)                                            \
    ins(t, ISA_OP_##op, ISA_OPT_##opt, (top[]){__VA_ARGS__},            \
        (int)(sizeof((top[]){__VA_ARGS__}) / sizeof(top)))
#define EXIT(t, opt) ins(t, ISA_OP_EXIT, ISA_OPT_##opt, NULL, 0)

/* Builds t into a program with one code segment at CODE and a read-only
 * data segment at RO_DATA. */
static dvm_program *build(const tprog *t)
{
    uint64_t addr[MAXI + 1], a = CODE;
    for (int k = 0; k < t->n; k++) {
        addr[k] = a;
        a += isa_encoded_size(&t->in[k]);
    }
    addr[t->n] = a;
    dvm_program *p = program_new();
    assert_non_null(p);
    p->segs = dvm_calloc(2, sizeof *p->segs);
    prog_segment *s = &p->segs[0];
    s->addr = CODE;
    s->size = a - CODE;
    s->flags = PROG_SEG_CODE;
    s->bytes = dvm_malloc(s->size + 1);
    s->insn_offs = dvm_malloc((size_t)(t->n + 1) * sizeof(uint32_t));
    s->ninsns = (uint64_t)t->n;
    for (int k = 0; k < t->n; k++) {
        isa_insn in = t->in[k];
        for (int i = 0; i < in.nops; i++)
            if (t->lab[k][i] >= 0)
                in.ops[i].value += addr[t->lab[k][i]];
        s->insn_offs[k] = (uint32_t)(addr[k] - CODE);
        isa_encode(&in, s->bytes + (addr[k] - CODE));
    }
    prog_segment *d = &p->segs[1];
    d->addr = RO_DATA;
    d->size = 64;
    d->flags = PROG_SEG_CODE;               /* read only, no insns */
    d->bytes = dvm_calloc(1, 64);
    d->insn_offs = dvm_malloc(sizeof(uint32_t));
    for (int i = 0; i < 8; i++)
        d->bytes[8 * i] = (uint8_t)(0x11 * i);
    p->nsegs = 2;
    p->entry = CODE;
    return p;
}

/* ---- running ------------------------------------------------------------- */

typedef struct outcome {
    int rc, fault;
    uint64_t pc, addr;
    size_t nkids;
    uint64_t kid_sb;
    uint64_t prw_pages;         /* the low PR pages noted as written */
    uint64_t prw_lo, prw_hi;    /* the PR bytes noted as written */
    uint8_t *pr, *top, *heap;
} outcome;

typedef void (*init_fn)(uint8_t *w);

/* Zeroes every area a test may touch and loads p's segments. */
static void reset(const dvm_program *p)
{
    assert_int_equal(madvise(win, DISA_RB, MADV_DONTNEED), 0);
    assert_int_equal(madvise(win + HEAP - 0x10000, 0x20000,
                             MADV_DONTNEED), 0);
    assert_int_equal(madvise(win + DISA_ADDR_LIMIT - 0x10000, 0x10000,
                             MADV_DONTNEED), 0);
    for (size_t i = 0; i < p->nsegs; i++)
        memcpy(win + p->segs[i].addr, p->segs[i].bytes, p->segs[i].size);
}

/* A copy of n bytes of the window at a. */
static uint8_t *snap(uint64_t a, size_t n)
{
    uint8_t *s = malloc(n);
    assert_non_null(s);
    memcpy(s, win + a, n);
    return s;
}

/* Stacks chosen for sb = 0 in these tests: one page at HEAP + 0x1000
 * (compared with the heap), more is refused. */
static int fake_alloc(void *ctx, uint64_t ss, uint64_t *sb)
{
    (void)ctx;
    if (ss > 0x1000)
        return VM_FAULT_NOSTACK;
    *sb = HEAP + 0x1000;
    return VM_FAULT_NONE;
}

static void fake_release(void *ctx, uint64_t sb, uint64_t ss)
{
    (void)ctx;
    (void)sb;
    (void)ss;
}

/* Runs p from fi on engine j (NULL: the interpreter) into *o. */
static void run_one(const dvm_program *p, const vm_code *c, jit_engine *j,
                    init_fn init, uint64_t fi, outcome *o)
{
    reset(p);
    if (init)
        init(win);
    vm_runner r;
    vm_runner_init(&r, win, c);
    assert_int_equal(vm_runner_add_writable(&r, HEAP, HEAP + HEAPLEN), 0);
    r.stacks = (vm_stack_ops){ fake_alloc, fake_release, NULL };
    o->rc = j ? jit_run(j, &r, fi) : interp_run(&r, fi);
    o->fault = r.fault;
    o->pc = r.fault_pc;
    o->addr = r.fault_addr;
    o->nkids = r.nkids;
    o->kid_sb = r.nkids ? r.kids[0].sb : 0;
    o->prw_pages = r.prw_pages;
    o->prw_lo = r.prw_lo;
    o->prw_hi = r.prw_hi;
    o->pr = snap(0, PR_AREA);
    o->top = snap(DISA_RB - PR_TOP, PR_TOP);
    o->heap = snap(HEAP, HEAPLEN);
    vm_runner_destroy(&r);
}

static void outcome_free(outcome *o)
{
    free(o->pr);
    free(o->top);
    free(o->heap);
}

/* Asserts that two outcomes agree, naming the first differing byte. */
static void same(const outcome *a, const outcome *b)
{
    assert_int_equal(a->rc, b->rc);
    assert_int_equal(a->fault, b->fault);
    if (a->rc == VM_EXIT_FAULT) {
        assert_int_equal(a->pc, b->pc);
        assert_int_equal(a->addr, b->addr);
        return;                 /* a faulted runner's memory is discarded */
    }
    assert_int_equal(a->nkids, b->nkids);
    assert_int_equal(a->kid_sb, b->kid_sb);
    for (size_t i = 0; i < PR_AREA; i++)
        if (a->pr[i] != b->pr[i])
            fail_msg("PR byte 0x%zx: interp 0x%02x jit 0x%02x", i,
                     a->pr[i], b->pr[i]);
    assert_memory_equal(a->top, b->top, PR_TOP);
    for (size_t i = 0; i < HEAPLEN; i++)
        if (a->heap[i] != b->heap[i])
            fail_msg("heap byte 0x%zx: interp 0x%02x jit 0x%02x", i,
                     a->heap[i], b->heap[i]);
}

/* Runs t from insn 0 on both engines, checks they agree and returns the
 * interpreter's outcome in *o (the caller frees it). */
static void both_at(const tprog *t, init_fn init, int entry, outcome *o)
{
    dvm_program *p = build(t);
    vm_code *c;
    jit_engine *j, *m;
    jit_limits eager = jit_limits_eager(), mixed = jit_limits_eager();
    mixed.hot = 1;              /* both tiers, crossing at every jump */
    mixed.region_max = 64;
    assert_int_equal(code_build(p, &c), 0);
    assert_int_equal(jit_create_limits(c, &eager, &j), 0);
    assert_int_equal(jit_create_limits(c, &mixed, &m), 0);
    uint64_t fi = entry < 0 ? CODE + 1 : c->insns[entry].pc;
    outcome oj;
    run_one(p, c, NULL, init, fi, o);
    for (int k = 0; k < 2; k++) {           /* then cached translations */
        run_one(p, c, j, init, fi, &oj);
        same(o, &oj);
        outcome_free(&oj);
    }
    run_one(p, c, m, init, fi, &oj);
    same(o, &oj);
    outcome_free(&oj);
    jit_destroy(j);
    jit_destroy(m);
    code_free(c);
    program_free(p);
}

static void both(const tprog *t, init_fn init, outcome *o)
{
    both_at(t, init, 0, o);
}

/* Runs t on both engines and checks the exit (and fault kind). */
static void expect(const tprog *t, init_fn init, int rc, int fault)
{
    outcome o;
    both(t, init, &o);
    assert_int_equal(o.rc, rc);
    assert_int_equal(o.fault, fault);
    outcome_free(&o);
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void wr64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static uint64_t dbits(double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    return v;
}

/* ---- values -------------------------------------------------------------- */

static const uint64_t patterns[] = {
    0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
    0xffffffff, 0x7fffffffffffffffULL, 0x8000000000000000ULL, UINT64_MAX,
    0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0x3ff8000000000000ULL,
    0xc004000000000000ULL, 0x7ff0000000000000ULL, 0xfff0000000000000ULL,
    0xfff8000000000000ULL, 0x43e0000000000000ULL, 0xc3e0000000000000ULL,
    0x43f0000000000000ULL, 0x4070000000000000ULL, 0xc0c0000000000000ULL,
    0x8000000000000000ULL | 1, 0x3fe0000000000000ULL, 0x41dfffffffc00000ULL,
};
#define NPAT (sizeof patterns / sizeof patterns[0])

#define SLOT(i) (0x100 + 8 * (uint64_t)(i))     /* pattern i in the PR */
#define OUT(i)  (0x2000 + 8 * (uint64_t)(i))    /* results */

/* Writes every pattern to its slot. */
static void init_patterns(uint8_t *w)
{
    for (size_t i = 0; i < NPAT; i++)
        wr64(w + SLOT(i), patterns[i]);
    wr64(w + 0x80, SLOT(0));                  /* pointer for IND/DISP */
}

/* ---- tests ----------------------------------------------------------------- */

/* mov from every type to every type, every option, direct and immediate. */
static void test_mov_matrix(void **state)
{
    (void)state;
    static const int opts[] = {ISA_OPT_NONE, ISA_OPT_Z, ISA_OPT_S};
    for (int oi = 0; oi < 3; oi++)
        for (int imm = 0; imm < 2; imm++)
            for (size_t pi = 0; pi < NPAT; pi += 1) {
                tprog *t = calloc(1, sizeof *t);
                int k = 0;
                for (int ts = 0; ts < ISA_T_COUNT; ts++)
                    for (int td = 0; td < ISA_T_COUNT; td++, k++) {
                        top s = imm ? IMM(patterns[pi], Q) : DIR(SLOT(pi), Q);
                        s.o.type = (uint8_t)ts;
                        top d = DIR(OUT(k), Q);
                        d.o.type = (uint8_t)td;
                        ins(t, ISA_OP_MOV, opts[oi], (top[]){s, d}, 2);
                    }
                EXIT(t, C);
                expect(t, init_patterns, VM_EXIT_COMMIT, VM_FAULT_NONE);
                free(t);
            }
}

/* Spot checks of the conversion rules on the interpreter's result. */
static void test_conversions(void **state)
{
    (void)state;
    tprog *t = calloc(1, sizeof *t);
    INS(t, MOV, NONE, IMM(0x1ff, UB), DIR(OUT(0), Q));
    INS(t, MOV, NONE, IMM(-1, UD), DIR(OUT(1), Q));
    INS(t, MOV, Z, IMM(-1, Q), DIR(OUT(2), F));
    INS(t, MOV, NONE, IMM(dbits(NAN), F), DIR(OUT(3), UB));
    INS(t, MOV, NONE, IMM(dbits(-3.9), F), DIR(OUT(4), Q));
    INS(t, MOV, NONE, IMM(dbits(1e19), F), DIR(OUT(5), UQ));
    INS(t, MOV, NONE, IMM(dbits(300.7), F), DIR(OUT(6), UB));
    INS(t, MOV, S, IMM(0x80, UB), DIR(OUT(7), Q));
    EXIT(t, C);
    outcome o;
    both(t, NULL, &o);
    uint8_t *pr = o.pr;
    assert_int_equal(rd64(pr + OUT(0)), 255);
    assert_int_equal(rd64(pr + OUT(1)), 0xffffffffULL);
    assert_int_equal(rd64(pr + OUT(2)), dbits(18446744073709551615.0));
    assert_int_equal(pr[OUT(3)], 0);
    assert_int_equal(rd64(pr + OUT(4)), (uint64_t)-3);
    assert_int_equal(rd64(pr + OUT(5)), 0x8000000000000000ULL);
    assert_int_equal(pr[OUT(6)], 44);
    assert_int_equal(rd64(pr + OUT(7)), (uint64_t)-128);
    outcome_free(&o);
    free(t);
}

/* add, sub, mul, and, or, xor over type triples and value pairs. */
static void test_alu_matrix(void **state)
{
    (void)state;
    static const int ops[] = {ISA_OP_ADD, ISA_OP_SUB, ISA_OP_MUL,
                              ISA_OP_AND, ISA_OP_OR, ISA_OP_XOR};
    static const int dts[] = {ISA_T_Q, ISA_T_UD, ISA_T_B, ISA_T_F};
    for (size_t oi = 0; oi < 6; oi++)
        for (int pass = 0; pass < 4; pass++) {
            tprog *t = calloc(1, sizeof *t);
            int k = 0;
            for (int ta = 0; ta < ISA_T_COUNT; ta++)
                for (int tb = 0; tb < ISA_T_COUNT; tb++)
                    for (int di = 0; di < 4; di++, k++) {
                        size_t a = (size_t)(k * 7 + pass) % NPAT;
                        size_t b = (size_t)(k * 13 + pass * 5 + 3) % NPAT;
                        top x = DIR(SLOT(a), Q), y = DIR(SLOT(b), Q);
                        if ((k + pass) % 5 == 0)
                            y = IMM(patterns[b], Q);
                        top d = DIR(OUT(k), Q);
                        x.o.type = (uint8_t)ta;
                        y.o.type = (uint8_t)tb;
                        d.o.type = (uint8_t)dts[di];
                        ins(t, ops[oi], ISA_OPT_NONE, (top[]){x, y, d}, 3);
                    }
            EXIT(t, C);
            expect(t, init_patterns, VM_EXIT_COMMIT, VM_FAULT_NONE);
            free(t);
        }
}

/* div and div:r, all signedness and float combinations, nonzero divisors,
 * INT64_MIN / -1. */
static void test_div(void **state)
{
    (void)state;
    static const int tys[] = {ISA_T_Q, ISA_T_UQ, ISA_T_B, ISA_T_UW, ISA_T_D,
                              ISA_T_F};
    for (int rem = 0; rem < 2; rem++) {
        tprog *t = calloc(1, sizeof *t);
        int k = 0;
        for (size_t a = 0; a < NPAT; a++)
            for (int ta = 0; ta < 6; ta++)
                for (int tb = 0; tb < 6; tb++, k++) {
                    size_t b = (a * 3 + (size_t)tb + 1) % NPAT;
                    if (patterns[b] == 0)
                        b = 1;
                    top x = DIR(SLOT(a), Q), y = IMM(patterns[b], Q);
                    x.o.type = (uint8_t)tys[ta];
                    y.o.type = (uint8_t)tys[tb];
                    if (!isa_type_float[tys[tb]] &&
                        (patterns[b] & ((2ULL << (8 * isa_type_bytes[tys[tb]]
                                                  - 1)) - 1)) == 0)
                        y = IMM(7, Q);
                    top d = DIR(OUT(k % 1000), Q);
                    d.o.type = (uint8_t)tys[(ta + tb) % 6];
                    ins(t, ISA_OP_DIV, rem ? ISA_OPT_R : ISA_OPT_NONE,
                        (top[]){x, y, d}, 3);
                }
        INS(t, DIV, NONE, IMM(INT64_MIN, Q), IMM(-1, Q), DIR(OUT(1000), Q));
        INS(t, DIV, R, IMM(INT64_MIN, Q), IMM(-1, Q), DIR(OUT(1001), Q));
        INS(t, DIV, NONE, IMM(-7, Q), IMM(2, Q), DIR(OUT(1002), Q));
        INS(t, DIV, R, IMM(-7, Q), IMM(2, Q), DIR(OUT(1003), Q));
        INS(t, DIV, NONE, IMM(-7, UQ), IMM(2, Q), DIR(OUT(1004), Q));
        INS(t, DIV, NONE, IMM(dbits(0.0), F), IMM(0, Q), DIR(OUT(1005), Q));
        EXIT(t, C);
        outcome o;
        both(t, init_patterns, &o);
        assert_int_equal(o.rc, VM_EXIT_COMMIT);
        assert_int_equal(rd64(o.pr + OUT(1000)), (uint64_t)INT64_MIN);
        assert_int_equal(rd64(o.pr + OUT(1001)), 0);
        assert_int_equal(rd64(o.pr + OUT(1002)), (uint64_t)-3);
        assert_int_equal(rd64(o.pr + OUT(1003)), (uint64_t)-1);
        assert_int_equal(rd64(o.pr + OUT(1004)), (UINT64_MAX - 6) / 2);
        assert_int_equal(rd64(o.pr + OUT(1005)), 0x8000000000000000ULL);
        outcome_free(&o);
        free(t);
    }
}

/* Float results that are NaNs created by an operation keep the host's
 * bits, even when LLVM could fold them. */
static void test_float_nan(void **state)
{
    (void)state;
    tprog *t = calloc(1, sizeof *t);
    INS(t, DIV, NONE, IMM(dbits(0.0), F), IMM(dbits(0.0), F), DIR(OUT(0), F));
    INS(t, SUB, NONE, IMM(dbits(INFINITY), F), IMM(dbits(INFINITY), F),
        DIR(OUT(1), F));
    INS(t, MUL, NONE, IMM(0, F), IMM(dbits(INFINITY), F), DIR(OUT(2), F));
    INS(t, MOV, NONE, IMM(dbits(0.0), F), DIR(OUT(3), F));
    INS(t, DIV, NONE, DIR(OUT(3), F), DIR(OUT(3), F), DIR(OUT(4), F));
    INS(t, ADD, NONE, DIR(OUT(4), F), IMM(1, Q), DIR(OUT(5), F));
    INS(t, DIV, R, IMM(dbits(5.5), F), IMM(2, Q), DIR(OUT(6), F));
    INS(t, DIV, R, IMM(dbits(5.5), F), IMM(0, Q), DIR(OUT(7), F));
    INS(t, ADD, NONE, IMM(1, Q), IMM(dbits(0.5), F), DIR(OUT(8), Q));
    INS(t, MUL, NONE, DIR(OUT(0), F), IMM(-1, W), DIR(OUT(9), F));
    INS(t, SUB, NONE, IMM(dbits(-0.0), F), DIR(OUT(0), F), DIR(OUT(10), F));
    INS(t, ADD, NONE, DIR(OUT(0), F), IMM(dbits(-0.0), F), DIR(OUT(11), F));
    EXIT(t, C);
    outcome o;
    both(t, NULL, &o);
    assert_true(isnan(*(double *)(o.pr + OUT(0))));
    assert_int_equal(rd64(o.pr + OUT(8)), 1);
    assert_int_equal(rd64(o.pr + OUT(9)), rd64(o.pr + OUT(0)));
    outcome_free(&o);
    free(t);
}

/* A PR word used mostly as :f (the translator keeps it in a float
 * register): a signalling NaN written into it as an integer, read as :f
 * (quieted by the operation only) and as :q (bits unchanged), changed by
 * an operation, then written through a pointer that aliases it (the
 * register reloaded), every iteration. */
static void test_float_words(void **state)
{
    (void)state;
    const uint64_t snan = 0x7ff0000000000001ULL;
    tprog *t = calloc(1, sizeof *t);
    INS(t, MOV, NONE, IMM(snan, Q), DIR(0x60, Q));
    INS(t, MOV, NONE, IMM(0x60, Q), DIR(0x40, Q));
    INS(t, MOV, NONE, IMM(4, Q), DIR(0x48, Q));
    int loop = INS(t, MUL, NONE, DIR(0x60, F), IMM(dbits(1.0), F),
                   DIR(0x68, F));
    INS(t, MOV, NONE, DIR(0x60, Q), DIR(0x70, Q));
    INS(t, ADD, NONE, DIR(0x60, F), IMM(dbits(1.5), F), DIR(0x60, F));
    INS(t, ADD, NONE, DIR(0x60, F), DIR(0x68, F), DIR(0x78, F));
    INS(t, MOV, NONE, IMM(snan, Q), IND(0x40, Q));
    INS(t, SUB, NONE, DIR(0x48, Q), IMM(1, Q), DIR(0x48, Q));
    INS(t, BR, G, DIR(0x48, Q), IMM(0, Q), LBL(loop));
    EXIT(t, C);
    outcome o;
    both(t, NULL, &o);
    assert_int_equal(o.rc, VM_EXIT_COMMIT);
    assert_int_equal(rd64(o.pr + 0x60), snan);
    assert_int_equal(rd64(o.pr + 0x68), snan | 0x0008000000000000ULL);
    assert_int_equal(rd64(o.pr + 0x70), snan);
    assert_int_equal(rd64(o.pr + 0x78), snan | 0x0008000000000000ULL);
    outcome_free(&o);
    free(t);
}

/* Division by zero: an arithmetic fault at the instruction, also when the
 * destination is bad (the operation comes first). */
static void test_div_zero(void **state)
{
    (void)state;
    static const int tys[] = {ISA_T_Q, ISA_T_UQ, ISA_T_UB, ISA_T_W};
    for (int ty = 0; ty < 4; ty++)
        for (int rem = 0; rem < 2; rem++) {
            tprog *t = calloc(1, sizeof *t);
            top y = DIR(SLOT(0), Q);
            y.o.type = (uint8_t)tys[ty];
            INS(t, MOV, NONE, IMM(5, Q), DIR(OUT(0), Q));
            ins(t, ISA_OP_DIV, rem ? ISA_OPT_R : ISA_OPT_NONE,
                (top[]){IMM(9, Q), y, DIR(DISA_ADDR_LIMIT, Q)}, 3);
            EXIT(t, C);
            outcome o;
            both(t, init_patterns, &o);
            assert_int_equal(o.fault, VM_FAULT_ARITH);
            assert_int_equal(o.pc, CODE + isa_encoded_size(&t->in[0]));
            outcome_free(&o);
            free(t);
        }
}

/* A loop with every compare condition and type: counts how often each
 * branch is taken over pairs of patterns. */
static void test_branches(void **state)
{
    (void)state;
    static const int conds[] = {ISA_OPT_E, ISA_OPT_NE, ISA_OPT_L,
                                ISA_OPT_LE, ISA_OPT_G, ISA_OPT_GE};
    static const int tys[] = {ISA_T_Q, ISA_T_UQ, ISA_T_B, ISA_T_UW, ISA_T_F,
                              ISA_T_D};
    for (int ta = 0; ta < 6; ta++)
        for (int tb = 0; tb < 6; tb++) {
            tprog *t = calloc(1, sizeof *t);
            int k = 0;
            for (size_t a = (size_t)ta; a < NPAT; a += 5)
                for (size_t bb = (size_t)tb; bb < NPAT; bb += 4)
                    for (int c = 0; c < 6; c++, k++) {
                        top x = DIR(SLOT(a), Q), y = DIR(SLOT(bb), Q);
                        if (k % 4 == 1)
                            y = IMM(patterns[bb], Q);
                        x.o.type = (uint8_t)tys[ta];
                        y.o.type = (uint8_t)tys[tb];
                        int here = t->n;
                        ins(t, ISA_OP_BR, conds[c],
                            (top[]){x, y, LBL(here + 2)}, 3);
                        INS(t, ADD, NONE, DIR(OUT(k % 500), Q), IMM(1, Q),
                            DIR(OUT(k % 500), Q));
                        INS(t, ADD, NONE, DIR(OUT(k % 500 + 500), Q),
                            IMM(3, Q), DIR(OUT(k % 500 + 500), Q));
                    }
            EXIT(t, C);
            expect(t, init_patterns, VM_EXIT_COMMIT, VM_FAULT_NONE);
            free(t);
        }
}

/* Indirect and displacement modes, negative displacements, the address
 * wrapping mod 2^64, and the bounds at 2^46. */
static void init_ptrs(uint8_t *w)
{
    init_patterns(w);
    wr64(w + 0x40, 0x300);
    wr64(w + 0x48, HEAP + 0x100);
    wr64(w + 0x50, DISA_ADDR_LIMIT - 8);
    wr64(w + 0x58, UINT64_MAX - 7);          /* + 0x10 wraps to 8 */
    wr64(w + 0x60, DISA_ADDR_LIMIT - 4);
    wr64(w + 0x68, DISA_RB - 4);              /* straddles PR/SR */
    wr64(w + 0x70, RO_DATA);
    wr64(w + DISA_ADDR_LIMIT - 8, 0x1234);
}

static void test_modes(void **state)
{
    (void)state;
    tprog *t = calloc(1, sizeof *t);
    INS(t, MOV, NONE, IMM(0x1122334455667788ULL, Q), IND(0x40, Q));
    INS(t, ADD, NONE, IND(0x40, Q), DSP(8, 0x40, Q), DSP(-8, 0x48, Q));
    INS(t, MOV, NONE, DSP(0x10, 0x58, Q), DSP(16, 0x40, UD));
    INS(t, MOV, NONE, IND(0x50, Q), DSP(24, 0x40, W));
    INS(t, MOV, NONE, DSP(2, 0x60, W), DSP(32, 0x40, Q));
    INS(t, MOV, NONE, IND(0x70, Q), DSP(40, 0x40, Q));
    INS(t, MOV, NONE, DSP(8, 0x70, UB), IND(0x48, B));
    INS(t, MOV, NONE, IMM(-1, Q), DIR(DISA_RB - 8, Q));
    EXIT(t, C);
    expect(t, init_ptrs, VM_EXIT_COMMIT, VM_FAULT_NONE);
    free(t);
}

/* Memory faults: pointer and effective address out of range, in source,
 * destination, jump and newr operands. */
static void test_memory_faults(void **state)
{
    (void)state;
    static const top bad[] = {
        DIR(DISA_ADDR_LIMIT - 7, Q), DIR(UINT64_MAX, Q),
        IND(DISA_ADDR_LIMIT - 4, Q), DSP(5, 0x50, Q), DSP(2, 0x60, Q),
        IND(0x58, Q), DSP(1, 0x50, UQ), DSP(0x40, 0x50, B),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (int where = 0; where < 4; where++) {
            tprog *t = calloc(1, sizeof *t);
            INS(t, MOV, NONE, IMM(1, Q), DIR(OUT(0), Q));
            if (where == 0)
                INS(t, ADD, NONE, bad[i], IMM(1, Q), DIR(OUT(1), Q));
            else if (where == 1)
                INS(t, ADD, NONE, IMM(1, Q), bad[i], DIR(OUT(1), Q));
            else if (where == 2)
                INS(t, MOV, NONE, IMM(1, Q), bad[i]);
            else
                INS(t, NEWR, NONE, IMM(0x40, Q), bad[i], IMM(0, Q), IMM(0, Q));
            EXIT(t, C);
            outcome o;
            both(t, init_ptrs, &o);
            assert_int_equal(o.rc, VM_EXIT_FAULT);
            assert_true(o.fault == VM_FAULT_MEMORY);
            outcome_free(&o);
            free(t);
        }
}

/* The integer type of w bytes (1, 2, 4 or 8). */
static uint8_t width_type(int w)
{
    return w == 8 ? ISA_T_Q : w == 4 ? ISA_T_UD : w == 2 ? ISA_T_W : ISA_T_UB;
}

/* Ends t with exit:c, runs it on both engines, checks the fault kind
 * (VM_FAULT_NONE: none) and frees t. */
static void exit_with_fault(tprog *t, int fault)
{
    EXIT(t, C);
    outcome o;
    both(t, NULL, &o);
    assert_int_equal(o.fault, fault);
    outcome_free(&o);
    free(t);
}

/* Writes: PR, heap, outside the writable set, read-only code and data,
 * input windows and the system page, a write straddling PR and SR. */
static void test_writes(void **state)
{
    (void)state;
    static const struct { uint64_t a; int w; int fault; } cases[] = {
        {0x3000, 8, VM_FAULT_NONE}, {HEAP, 8, VM_FAULT_NONE},
        {HEAP + HEAPLEN - 8, 8, VM_FAULT_NONE},
        {HEAP + HEAPLEN - 4, 8, VM_FAULT_WRITABLE},
        {HEAP - 1, 2, VM_FAULT_WRITABLE}, {HEAP + HEAPLEN, 1, VM_FAULT_WRITABLE},
        {CODE, 1, VM_FAULT_READONLY}, {RO_DATA + 8, 8, VM_FAULT_READONLY},
        {DISA_INPUT_BASE, 8, VM_FAULT_READONLY},
        {DISA_SYSPAGE, 8, VM_FAULT_READONLY},
        {DISA_RB - 4, 8, VM_FAULT_READONLY}, {DISA_RB - 8, 8, VM_FAULT_NONE},
        {0x7000000000ULL, 4, VM_FAULT_WRITABLE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int mode = 0; mode < 3; mode++) {
            tprog *t = calloc(1, sizeof *t);
            INS(t, MOV, NONE, IMM(cases[i].a, Q), DIR(0x40, Q));
            top d = mode == 0 ? DIR(cases[i].a, Q)
                  : mode == 1 ? IND(0x40, Q) : DSP(-16, 0x48, Q);
            d.o.type = width_type(cases[i].w);
            INS(t, MOV, NONE, IMM(cases[i].a + 16, Q), DIR(0x48, Q));
            /* repeat: the second write takes the cached path */
            INS(t, MOV, NONE, IMM(0x5a5a5a5a5a5a5a5aULL, Q), d);
            INS(t, ADD, NONE, IMM(1, Q), IMM(2, Q), d);
            exit_with_fault(t, cases[i].fault);
        }
}

/* Writes through a pointer once the heap is the cached writable interval
 * (a first write at HEAP widens it): at its edges, across them, below it,
 * and at addresses whose ea + w wraps past 2^64, each with the fault (and
 * fault address) of the interpreter. */
static void test_cached_edges(void **state)
{
    (void)state;
    static const struct { uint64_t a; int w; int fault; } cases[] = {
        {HEAP + HEAPLEN - 8, 8, VM_FAULT_NONE},
        {HEAP + HEAPLEN - 7, 8, VM_FAULT_WRITABLE},
        {HEAP + HEAPLEN - 1, 1, VM_FAULT_NONE},
        {HEAP + HEAPLEN - 1, 2, VM_FAULT_WRITABLE},
        {HEAP + HEAPLEN, 1, VM_FAULT_WRITABLE},
        {HEAP - 1, 1, VM_FAULT_WRITABLE}, {HEAP - 1, 8, VM_FAULT_WRITABLE},
        {HEAP - 8, 8, VM_FAULT_WRITABLE}, {0x3000, 8, VM_FAULT_NONE},
        {UINT64_MAX - 3, 8, VM_FAULT_MEMORY}, {UINT64_MAX, 1, VM_FAULT_MEMORY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int mode = 0; mode < 2; mode++) {
            tprog *t = calloc(1, sizeof *t);
            INS(t, MOV, NONE, IMM(HEAP, Q), DIR(0x40, Q));
            INS(t, MOV, NONE, IMM(7, Q), IND(0x40, Q));
            INS(t, MOV, NONE, IMM(cases[i].a, Q), DIR(0x40, Q));
            INS(t, MOV, NONE, IMM(cases[i].a + 16, Q), DIR(0x48, Q));
            top d = mode == 0 ? IND(0x40, Q) : DSP(-16, 0x48, Q);
            d.o.type = width_type(cases[i].w);
            INS(t, MOV, NONE, IMM(0x5a5a5a5a5a5a5a5aULL, Q), d);
            exit_with_fault(t, cases[i].fault);
        }
}

/* A loop that writes the heap through a pointer (the cached write check,
 * widened on first use), then walks past its end into a fault. */
static void test_heap_loop(void **state)
{
    (void)state;
    for (int over = 0; over < 2; over++) {
        tprog *t = calloc(1, sizeof *t);
        INS(t, MOV, NONE, IMM(HEAP, Q), DIR(0x40, Q));
        int loop = INS(t, MOV, NONE, DIR(0x40, Q), IND(0x40, Q));
        INS(t, ADD, NONE, DIR(0x40, Q), IMM(8, Q), DIR(0x40, Q));
        INS(t, BR, L, DIR(0x40, UQ), IMM(HEAP + HEAPLEN + 8 * over, Q),
            LBL(loop));
        EXIT(t, C);
        outcome o;
        both(t, NULL, &o);
        assert_int_equal(o.fault, over ? VM_FAULT_WRITABLE : VM_FAULT_NONE);
        if (!over)
            assert_int_equal(rd64(o.heap + 16), HEAP + 16);
        outcome_free(&o);
        free(t);
    }
}

/* A new program that sets up a counted loop: the heap made the cached
 * writable interval first when warm is set, then the pointer word 0x40 =
 * start, the bound word 0x50 = bound, the sum word 0x48 = 0x100.  The
 * caller frees it (exit_with_fault). */
static tprog *loop_prologue(int warm, uint64_t start, uint64_t bound)
{
    tprog *t = calloc(1, sizeof *t);
    assert_non_null(t);
    if (warm) {
        INS(t, MOV, NONE, IMM(HEAP, Q), DIR(0x40, Q));
        INS(t, MOV, NONE, IMM(7, Q), IND(0x40, Q));
    }
    INS(t, MOV, NONE, IMM(start, Q), DIR(0x40, Q));
    INS(t, MOV, NONE, IMM(bound, Q), DIR(0x50, Q));
    INS(t, MOV, NONE, IMM(0x100, Q), DIR(0x48, Q));
    return t;
}

/* Counted loops storing through a pointer (the translator runs them
 * without per-store checks when its guard proves the whole range
 * writable): ranges ending exactly at the heap's end, crossing it (a
 * fault at the iteration the interpreter faults at), starting below it,
 * stores after the step (D(p) with the stepped pointer), a pointer into
 * the promoted PR words (aliases seen, the bound word overwritten), a
 * bound the body changes, and a pointer that wraps past 2^64.  The heap
 * is the cached writable interval before the loop when warm is set. */
static void test_counted_loops(void **state)
{
    (void)state;
    static const struct {
        uint64_t start, bound, step;
        int64_t disp;
        int w, after, dirbound, moving, warm, fault;
    } cases[] = {
        {HEAP, HEAP + HEAPLEN, 8, 0, 8, 0, 0, 0, 1, VM_FAULT_NONE},
        {HEAP, HEAP + HEAPLEN, 8, 0, 8, 0, 1, 0, 0, VM_FAULT_NONE},
        {HEAP, HEAP + HEAPLEN, 8, -8, 8, 1, 1, 0, 1, VM_FAULT_NONE},
        {HEAP, HEAP + HEAPLEN, 1, 0, 1, 0, 0, 0, 1, VM_FAULT_NONE},
        {HEAP, HEAP + HEAPLEN, 1, 0, 2, 0, 0, 0, 1, VM_FAULT_WRITABLE},
        {HEAP, HEAP + HEAPLEN + 8, 8, 0, 8, 0, 1, 0, 1, VM_FAULT_WRITABLE},
        {HEAP, HEAP + HEAPLEN, 8, 8, 8, 0, 0, 0, 1, VM_FAULT_WRITABLE},
        {HEAP, HEAP + HEAPLEN, 8, 0, 8, 1, 0, 0, 1, VM_FAULT_WRITABLE},
        {HEAP - 8, HEAP + 64, 8, 0, 8, 0, 0, 0, 1, VM_FAULT_WRITABLE},
        {HEAP + 8, HEAP + 64, 8, -16, 8, 0, 1, 0, 1, VM_FAULT_WRITABLE},
        {HEAP + 1, HEAP + 64, 1, -2, 1, 0, 1, 0, 1, VM_FAULT_WRITABLE},
        {0x48, 0x58, 8, 0, 8, 0, 1, 0, 1, VM_FAULT_NONE},
        {0x38, 0x60, 8, 0, 8, 1, 1, 0, 1, VM_FAULT_NONE},
        {HEAP, HEAP + 64, 8, 0, 8, 0, 1, 1, 1, VM_FAULT_WRITABLE},
        {UINT64_MAX - 15, UINT64_MAX, 8, 0, 8, 0, 0, 0, 1, VM_FAULT_MEMORY},
        {UINT64_MAX - 15, UINT64_MAX, 8, 0, 8, 0, 1, 0, 0, VM_FAULT_MEMORY},
        {HEAP + 8, HEAP, 8, 0, 8, 0, 1, 0, 1, VM_FAULT_NONE},
        {HEAP + HEAPLEN - 8, 0, 8, 0, 8, 0, 0, 0, 1, VM_FAULT_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tprog *t = loop_prologue(cases[i].warm, cases[i].start,
                                 cases[i].bound);
        top d = DSP(cases[i].disp, 0x40, Q);
        d.o.type = width_type(cases[i].w);
        int loop = INS(t, ADD, NONE, DIR(0x48, Q), IMM(1, Q), DIR(0x48, Q));
        if (!cases[i].after)
            INS(t, MOV, NONE, DIR(0x48, Q), d);
        if (cases[i].moving)
            INS(t, ADD, NONE, DIR(0x50, Q), IMM(8, Q), DIR(0x50, Q));
        INS(t, ADD, NONE, DIR(0x40, Q), IMM(cases[i].step, Q),
            DIR(0x40, Q));
        if (cases[i].after)
            INS(t, MOV, NONE, DIR(0x48, Q), d);
        INS(t, BR, L, DIR(0x40, UQ), cases[i].dirbound ? DIR(0x50, UQ)
                                     : IMM(cases[i].bound, UQ), LBL(loop));
        exit_with_fault(t, cases[i].fault);
    }
}

/* Counted loops reading through a pointer (loads unchecked in the
 * translator's guarded copy): over the heap, up to 2^46 exactly, across
 * it, over the promoted PR words themselves (the pointer and the sum
 * read while they change), and wrapping past 2^64; with a store through
 * the pointer too when st is set. */
static void test_counted_reads(void **state)
{
    (void)state;
    static const struct {
        uint64_t start, bound, step;
        int64_t disp;
        int w, st, fault;
    } cases[] = {
        {HEAP, HEAP + HEAPLEN, 8, 0, 8, 0, VM_FAULT_NONE},
        {HEAP, HEAP + HEAPLEN, 8, 0, 8, 1, VM_FAULT_NONE},
        {HEAP, HEAP + HEAPLEN, 4, 4, 4, 1, VM_FAULT_WRITABLE},
        {DISA_ADDR_LIMIT - 64, DISA_ADDR_LIMIT, 8, 0, 8, 0, VM_FAULT_NONE},
        {DISA_ADDR_LIMIT - 64, DISA_ADDR_LIMIT, 1, 0, 2, 0, VM_FAULT_MEMORY},
        {DISA_ADDR_LIMIT - 64, DISA_ADDR_LIMIT + 8, 8, 0, 8, 0,
         VM_FAULT_MEMORY},
        {0x30, 0x60, 8, 0, 8, 0, VM_FAULT_NONE},
        {DISA_RB - 32, DISA_RB + 32, 8, 0, 8, 0, VM_FAULT_NONE},
        {UINT64_MAX - 15, UINT64_MAX, 8, 0, 8, 0, VM_FAULT_MEMORY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tprog *t = calloc(1, sizeof *t);
        INS(t, MOV, NONE, IMM(HEAP, Q), DIR(0x40, Q));
        INS(t, MOV, NONE, IMM(7, Q), IND(0x40, Q));
        INS(t, MOV, NONE, IMM(cases[i].start, Q), DIR(0x40, Q));
        INS(t, MOV, NONE, IMM(3, Q), DIR(0x48, Q));
        top d = DSP(cases[i].disp, 0x40, Q);
        d.o.type = width_type(cases[i].w);
        int loop = INS(t, ADD, NONE, DIR(0x48, Q), d, DIR(0x48, Q));
        if (cases[i].st)
            INS(t, MOV, NONE, DIR(0x48, Q), d);
        INS(t, ADD, NONE, DIR(0x40, Q), IMM(cases[i].step, Q),
            DIR(0x40, Q));
        INS(t, BR, L, DIR(0x40, UQ), IMM(cases[i].bound, UQ), LBL(loop));
        exit_with_fault(t, cases[i].fault);
    }
}

/* Loops counted by a word beside their pointer (the translator versions
 * them with the iterations the counter leaves): loads or stores through
 * the pointer over the heap, ending exactly at its end and one step
 * past, stepping down (negative steps) to its start and one step below,
 * one pass only (the counter already at or past the bound), a counter
 * starting below zero (the guard refuses it), reads up to 2^46 and one
 * step across, reads and stores over the promoted PR words (the
 * pointer, counter, bound and sum), a step too large for the guard's
 * product, a branch skipping the access, and a branch skipping the
 * counter's step once (the loop then runs one iteration more than its
 * counter says: not versioned; the guard trusting the counter would let
 * the last store past the heap's end).  The heap is the cached writable
 * interval before the loop when warm is set. */
static void test_counter_loops(void **state)
{
    (void)state;
    static const struct {
        uint64_t start, n0, bound, step, cstep;
        int64_t disp;
        int st, after, dirbound, warm, skip, fault;
    } cases[] = {
        {HEAP, 0, HEAPLEN / 8, 8, 1, 0, 1, 0, 0, 1, 0, VM_FAULT_NONE},
        {HEAP, 0, HEAPLEN / 8, 8, 1, 0, 1, 0, 1, 0, 0, VM_FAULT_NONE},
        {HEAP, 0, HEAPLEN / 8 + 1, 8, 1, 0, 1, 0, 1, 1, 0,
         VM_FAULT_WRITABLE},
        {HEAP, 3, 3 + 2 * HEAPLEN / 32, 32, 2, 24, 1, 0, 0, 1, 0,
         VM_FAULT_NONE},
        {HEAP, 3, 4 + 2 * HEAPLEN / 32, 32, 2, 24, 1, 0, 0, 1, 0,
         VM_FAULT_WRITABLE},
        {HEAP, 0, HEAPLEN / 8, 8, 1, -8, 1, 1, 1, 1, 0, VM_FAULT_NONE},
        {HEAP + HEAPLEN - 8, 0, HEAPLEN / 8, -8ULL, 1, 0, 1, 0, 0, 1, 0,
         VM_FAULT_NONE},
        {HEAP + HEAPLEN - 8, 0, HEAPLEN / 8 + 1, -8ULL, 1, 0, 1, 0, 1, 1, 0,
         VM_FAULT_WRITABLE},
        {HEAP + HEAPLEN - 8, 0, HEAPLEN / 8, -8ULL, 1, 0, 0, 1, 0, 1, 0,
         VM_FAULT_NONE},
        {HEAP + HEAPLEN - 8, 5, 5, 8, 1, 0, 1, 0, 0, 1, 0, VM_FAULT_NONE},
        {HEAP + HEAPLEN - 8, 9, 5, 8, 1, 0, 1, 0, 1, 1, 0, VM_FAULT_NONE},
        {HEAP + HEAPLEN, 9, 5, 8, 1, 0, 1, 0, 0, 1, 0, VM_FAULT_WRITABLE},
        {HEAP, -3ULL, 5, 8, 1, 0, 1, 0, 0, 1, 0, VM_FAULT_NONE},
        {HEAP, -3ULL, 5, 8, 1, 0, 0, 0, 1, 1, 0, VM_FAULT_NONE},
        {DISA_ADDR_LIMIT - 64, 0, 8, 8, 1, 0, 0, 0, 0, 1, 0, VM_FAULT_NONE},
        {DISA_ADDR_LIMIT - 64, 0, 9, 8, 1, 0, 0, 0, 1, 1, 0,
         VM_FAULT_MEMORY},
        {DISA_ADDR_LIMIT - 64, 0, 8, 8, 1, 1, 0, 1, 0, 1, 0,
         VM_FAULT_MEMORY},
        {0x30, 0, 6, 8, 1, 0, 0, 0, 1, 1, 0, VM_FAULT_NONE},
        {0x30, 0, 6, 8, 1, 0, 1, 1, 1, 1, 0, VM_FAULT_NONE},
        {0x60, 0, 6, -8ULL, 1, 0, 1, 0, 0, 1, 0, VM_FAULT_NONE},
        {HEAP, 0, 4, 1ULL << 31, 1, 0, 1, 0, 0, 1, 0, VM_FAULT_WRITABLE},
        {HEAP, 0, HEAPLEN / 8, 8, 1, 0, 1, 0, 0, 1, 1, VM_FAULT_NONE},
        {HEAP, 0, HEAPLEN / 8 + 1, 8, 1, 0, 1, 1, 0, 1, 1,
         VM_FAULT_WRITABLE},
        {HEAP, 0, HEAPLEN / 8, 8, 1, 0, 1, 0, 1, 1, 2, VM_FAULT_WRITABLE},
        {HEAP, 0, HEAPLEN / 8 - 1, 8, 1, -8, 1, 1, 0, 1, 2, VM_FAULT_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tprog *t = loop_prologue(cases[i].warm, cases[i].start,
                                 cases[i].bound);
        INS(t, MOV, NONE, IMM(cases[i].n0, Q), DIR(0x58, Q));
        top d = DSP(cases[i].disp, 0x40, Q);
        int loop = INS(t, ADD, NONE, DIR(0x48, Q), IMM(1, Q), DIR(0x48, Q));
        for (int at = 0; at < 2; at++) {
            if (at == cases[i].after && cases[i].skip == 1)
                INS(t, BR, E, DIR(0x58, Q), IMM(1, Q), LBL(t->n + 2));
            if (at == cases[i].after && cases[i].st)
                INS(t, MOV, NONE, DIR(0x48, Q), d);
            else if (at == cases[i].after)
                INS(t, ADD, NONE, DIR(0x48, Q), d, DIR(0x48, Q));
            if (at)
                continue;
            INS(t, ADD, NONE, DIR(0x40, Q), IMM(cases[i].step, Q),
                DIR(0x40, Q));
            if (cases[i].skip == 2)
                INS(t, BR, E, DIR(0x40, Q),
                    IMM(cases[i].start + 2 * cases[i].step, Q),
                    LBL(t->n + 2));
            INS(t, ADD, NONE, DIR(0x58, Q), IMM(cases[i].cstep, Q),
                DIR(0x58, Q));
        }
        INS(t, BR, L, DIR(0x58, Q), cases[i].dirbound ? DIR(0x50, Q)
                                    : IMM(cases[i].bound, Q), LBL(loop));
        exit_with_fault(t, cases[i].fault);
    }
}

/* Execution faults: direct jump to no instruction, indirect jump into the
 * middle of one, falling off the end, a bad entry. */
static void test_exec_faults(void **state)
{
    (void)state;
    tprog *t = calloc(1, sizeof *t);
    INS(t, BR, J, OPND(DIR, Q, CODE + 3, 0));
    EXIT(t, C);
    expect(t, NULL, VM_EXIT_FAULT, VM_FAULT_EXEC);
    memset(t, 0, sizeof *t);
    INS(t, MOV, NONE, LIMM(1), DIR(0x40, Q));
    INS(t, ADD, NONE, DIR(0x40, Q), IMM(1, Q), DIR(0x40, Q));
    INS(t, BR, J, IND(0x40, Q));
    EXIT(t, C);
    expect(t, NULL, VM_EXIT_FAULT, VM_FAULT_EXEC);
    memset(t, 0, sizeof *t);
    INS(t, MOV, NONE, IMM(1, Q), DIR(0x40, Q));
    INS(t, BR, E, DIR(0x40, Q), IMM(2, Q), LBL(0));
    expect(t, NULL, VM_EXIT_FAULT, VM_FAULT_EXEC);
    memset(t, 0, sizeof *t);
    INS(t, BR, NE, DIR(0x40, Q), IMM(0, Q), OPND(DIR, Q, 0x10, 0));
    INS(t, BR, E, DIR(0x40, Q), IMM(0, Q), OPND(DIR, Q, 0x10, 0));
    EXIT(t, C);
    expect(t, NULL, VM_EXIT_FAULT, VM_FAULT_EXEC);
    memset(t, 0, sizeof *t);
    INS(t, BL, NONE, OPND(DIR, Q, CODE - 8, 0), DIR(0x40, Q));
    EXIT(t, C);
    expect(t, NULL, VM_EXIT_FAULT, VM_FAULT_EXEC);
    memset(t, 0, sizeof *t);
    INS(t, BL, NONE, IND(0x40, Q), DIR(CODE, Q));   /* exec before write */
    EXIT(t, C);
    expect(t, NULL, VM_EXIT_FAULT, VM_FAULT_EXEC);
    memset(t, 0, sizeof *t);
    EXIT(t, C);
    outcome o;
    both_at(t, NULL, -1, &o);
    assert_int_equal(o.fault, VM_FAULT_EXEC);
    assert_int_equal(o.pc, CODE + 1);
    outcome_free(&o);
    free(t);
}

/* The call/return idiom, with a subroutine called from two sites inside a
 * loop, and a return to an address computed at run time. */
static void test_calls(void **state)
{
    (void)state;
    tprog *t = calloc(1, sizeof *t);
    INS(t, MOV, NONE, IMM(10, Q), DIR(0x40, Q));                /* 0 */
    int loop = INS(t, BL, NONE, LBL(9), DIR(0x48, Q));          /* 1 */
    INS(t, ADD, NONE, DIR(0x50, Q), IMM(100, Q), DIR(0x50, Q)); /* 2 */
    INS(t, BL, NONE, LBL(9), DIR(0x48, Q));                     /* 3 */
    INS(t, SUB, NONE, DIR(0x40, Q), IMM(1, Q), DIR(0x40, Q));   /* 4 */
    INS(t, BR, G, DIR(0x40, Q), IMM(0, Q), LBL(loop));          /* 5 */
    INS(t, MOV, NONE, LIMM(8), DIR(0x58, Q));                   /* 6 */
    INS(t, BR, J, IND(0x58, Q));                                /* 7 */
    EXIT(t, C);                                                 /* 8 */
    INS(t, MUL, NONE, DIR(0x50, Q), IMM(3, Q), DIR(0x50, Q));   /* 9 */
    INS(t, BL, NONE, LBL(12), DIR(0x60, Q));                    /* 10 */
    INS(t, BR, J, IND(0x48, Q));                                /* 11 */
    INS(t, ADD, NONE, DIR(0x50, Q), IMM(1, Q), DIR(0x50, Q));   /* 12 */
    INS(t, BR, J, DSP(0, 0x60, Q));                             /* 13 */
    outcome o;
    both(t, NULL, &o);
    assert_int_equal(o.rc, VM_EXIT_COMMIT);
    assert_int_equal(rd64(o.pr + 0x40), 0);
    outcome_free(&o);
    /* entering in the middle, at a subroutine whose return is garbage */
    both_at(t, NULL, 12, &o);
    assert_int_equal(o.fault, VM_FAULT_EXEC);
    outcome_free(&o);
    free(t);
}

/* exit:c, exit:a, exit with no option. */
static void test_exit(void **state)
{
    (void)state;
    tprog *t = calloc(1, sizeof *t);
    EXIT(t, A);
    expect(t, NULL, VM_EXIT_ABORT, VM_FAULT_NONE);
    memset(t, 0, sizeof *t);
    EXIT(t, NONE);
    expect(t, NULL, VM_EXIT_COMMIT, VM_FAULT_NONE);
    free(t);
}

/* newr: a good child (its stack becomes writable), bad descriptors. */
static void init_desc(uint8_t *w)
{
    wr64(w + 0x200, HEAP + 0x1000);            /* stack desc: sb, ss */
    wr64(w + 0x208, 0x100);
    wr64(w + 0x210, 1);                        /* heap: 1 range */
    wr64(w + 0x218, HEAP);
    wr64(w + 0x220, 0x80);
    wr64(w + 0x230, 0);                        /* watch: none */
    wr64(w + 0x240, CODE);                     /* entry */
    wr64(w + 0x300, 0x1000);                   /* bad stack: in the PR */
    wr64(w + 0x308, 0x100);
    wr64(w + 0x80, 0x210);
}

static void test_newr(void **state)
{
    (void)state;
    tprog *t = calloc(1, sizeof *t);
    INS(t, NEWR, NONE, IMM(0x200, Q), DIR(0x80, Q), IMM(0x230, Q),
        IMM(0x240, Q));
    INS(t, MOV, NONE, IMM(7, Q), DIR(HEAP + 0x1008, Q));
    EXIT(t, C);
    outcome o;
    both(t, init_desc, &o);
    assert_int_equal(o.nkids, 1);
    assert_int_equal(o.kid_sb, HEAP + 0x1000);
    outcome_free(&o);
    memset(t, 0, sizeof *t);
    INS(t, NEWR, NONE, IMM(0x300, Q), IMM(0x210, Q), IMM(0x230, Q),
        IMM(0x240, Q));
    EXIT(t, C);
    expect(t, init_desc, VM_EXIT_FAULT, VM_FAULT_DESCRIPTOR);
    memset(t, 0, sizeof *t);
    INS(t, NEWR, NONE, IMM(0x200, Q), IMM(0x210, Q), IMM(0x230, Q),
        IMM(DISA_ADDR_LIMIT - 4, Q));
    EXIT(t, C);
    expect(t, init_desc, VM_EXIT_FAULT, VM_FAULT_DESCRIPTOR);
    free(t);
}

/* newr with sb = 0 (DISA 1.1) writes the chosen base into the descriptor
 * in the PR; translated code keeps that word in a register (it is used
 * directly several times) and must see the new value after the newr. */
static void init_chosen(uint8_t *w)
{
    init_desc(w);
    wr64(w + 0x200, 5);                        /* overwritten by the code */
}

/* What the RComp's PR reset relies on, translated: a store through a
 * computed PR address (0x5000, prw_lo/hi) and newr's write of a chosen
 * stack base (0x200, prw_pages) are noted; direct stores (the code's
 * pr_pages) and SR stores need not be -- so the range is not the whole PR, which the
 * reset would then drop at every runner. */
static void test_pr_writes_noted(void **state)
{
    (void)state;
    tprog *t = calloc(1, sizeof *t);
    INS(t, MOV, NONE, IMM(0x5000, Q), DIR(0x300, Q));
    INS(t, MOV, NONE, IMM(1, Q), IND(0x300, Q));
    INS(t, MOV, NONE, IMM(2, Q), DIR(HEAP, Q));
    INS(t, MOV, NONE, IMM(0, Q), DIR(0x200, Q));
    INS(t, NEWR, NONE, IMM(0x200, Q), IMM(0x210, Q), IMM(0x230, Q),
        IMM(0x240, Q));
    EXIT(t, C);
    dvm_program *p = build(t);
    vm_code *c;
    jit_engine *j;
    jit_limits eager = jit_limits_eager();
    assert_int_equal(code_build(p, &c), 0);
    assert_int_equal(jit_create_limits(c, &eager, &j), 0);
    outcome o;
    run_one(p, c, j, init_chosen, c->insns[0].pc, &o);
    assert_int_equal(o.rc, VM_EXIT_COMMIT);
    assert_int_equal(o.nkids, 1);
    assert_int_equal(o.prw_pages, 1);   /* newr's write at 0x200 */
    assert_int_equal(o.prw_lo, 0x5000); /* translated code's own range */
    assert_int_equal(o.prw_hi, 0x5008);
    outcome_free(&o);
    jit_destroy(j);
    code_free(c);
    program_free(p);
    free(t);
}

static void test_newr_chosen(void **state)
{
    (void)state;
    tprog *t = calloc(1, sizeof *t);
    INS(t, MOV, NONE, IMM(0, Q), DIR(0x200, Q));
    INS(t, ADD, NONE, DIR(0x200, Q), IMM(1, Q), DIR(0x88, Q));
    INS(t, NEWR, NONE, IMM(0x200, Q), IMM(0x210, Q), IMM(0x230, Q),
        IMM(0x240, Q));
    INS(t, MOV, NONE, DIR(0x200, Q), DIR(0x90, Q));
    INS(t, ADD, NONE, DIR(0x200, Q), IMM(8, Q), DIR(0x98, Q));
    INS(t, MOV, NONE, IMM(7, Q), IND(0x200, Q));
    INS(t, MOV, NONE, IMM(8, Q), IND(0x98, Q));
    EXIT(t, C);
    outcome o;
    both(t, init_chosen, &o);
    assert_int_equal(o.rc, VM_EXIT_COMMIT);
    assert_int_equal(o.nkids, 1);
    assert_int_equal(o.kid_sb, HEAP + 0x1000);
    assert_int_equal(rd64(o.pr + 0x88), 1);
    assert_int_equal(rd64(o.pr + 0x90), HEAP + 0x1000);
    assert_int_equal(rd64(o.pr + 0x200), HEAP + 0x1000);
    assert_int_equal(rd64(o.heap + 0x1000), 7);
    assert_int_equal(rd64(o.heap + 0x1008), 8);
    outcome_free(&o);
    memset(t, 0, sizeof *t);
    INS(t, MOV, NONE, IMM(0, Q), DIR(0x200, Q));
    INS(t, MOV, NONE, IMM(0x2000, Q), DIR(0x208, Q));
    INS(t, NEWR, NONE, IMM(0x200, Q), IMM(0x210, Q), IMM(0x230, Q),
        IMM(0x240, Q));
    EXIT(t, C);
    expect(t, init_chosen, VM_EXIT_FAULT, VM_FAULT_NOSTACK);
    free(t);
}

/* The subleq interpreter of DISA.md 10 running a small subleq program:
 * a loop of indirect accesses. */
static void init_subleq(uint8_t *w)
{
    /* subleq program at 0x400: words a, b, c.  Counts mem[0x500] down
     * from 20 by mem[0x508] = 1 until <= 0, then halts (c = -1 -> jump to
     * 0x700, which holds a halting word triple). */
    uint64_t prog[] = {0x508, 0x500, 0x418, 0x510, 0x510, 0x400};
    for (int i = 0; i < 6; i++)
        wr64(w + 0x400 + 8 * i, prog[i]);
    wr64(w + 0x500, 20);
    wr64(w + 0x508, 1);
    wr64(w + 0x40, 0x400);                    /* pc */
}

/* A running extremum over the patterns: `br:<opt> X, Y, skip` over
 * `mov d, best; mov c, at` (the guard jit_find_extremum_guard names),
 * with d the pattern of type ty and X, Y the two words in either order.
 * Floats include both zeros, infinities and NaNs, whose order the
 * branch, not a min or max instruction, decides. */
static void extremum_loop(tprog *t, int opt, int ty, int best_first)
{
    top d = DIR(0x2020, Q), best = DIR(0x2000, Q), p = DIR(0x2010, Q);
    d.o.type = best.o.type = (uint8_t)ty;
    top x = best_first ? best : d, y = best_first ? d : best;
    INS(t, MOV, NONE, IMM(patterns[3], Q), DIR(0x2000, Q));
    INS(t, MOV, NONE, IMM(0, Q), DIR(0x2008, Q));
    INS(t, MOV, NONE, IMM(SLOT(0), Q), p);
    INS(t, MOV, NONE, IMM(0, Q), DIR(0x2018, Q));
    int loop = t->n;
    top src = IND(0x2010, Q);
    src.o.type = (uint8_t)ty;
    INS(t, MOV, NONE, src, d);
    ins(t, ISA_OP_BR, opt, (top[]){x, y, LBL(loop + 4)}, 3);
    INS(t, MOV, NONE, d, best);
    INS(t, MOV, NONE, DIR(0x2018, Q), DIR(0x2008, Q));
    INS(t, ADD, NONE, p, IMM(8, Q), p);
    INS(t, ADD, NONE, DIR(0x2018, Q), IMM(1, Q), DIR(0x2018, Q));
    INS(t, BR, L, DIR(0x2018, Q), IMM(NPAT, Q), LBL(loop));
    EXIT(t, C);
}

/* Both engines agree on running extrema of every order and type. */
static void test_extremum_loops(void **state)
{
    (void)state;
    static const int opts[] = {ISA_OPT_L, ISA_OPT_LE, ISA_OPT_G, ISA_OPT_GE};
    static const int tys[] = {ISA_T_F, ISA_T_Q, ISA_T_UQ, ISA_T_D};
    for (int o = 0; o < 4; o++)
        for (int ty = 0; ty < 4; ty++)
            for (int bf = 0; bf < 2; bf++) {
                tprog *t = calloc(1, sizeof *t);
                extremum_loop(t, opts[o], tys[ty], bf);
                expect(t, init_patterns, VM_EXIT_COMMIT, VM_FAULT_NONE);
                free(t);
            }
}

/* jit_find_extremum_guard on t's insn i. */
static int guard_at(const tprog *t, int i)
{
    dvm_program *p = build(t);
    vm_code *c;
    assert_int_equal(code_build(p, &c), 0);
    int g = jit_find_extremum_guard(c, (uint32_t)i);
    code_free(c);
    program_free(p);
    return g;
}

/* The guard is the branch over movs between its own operands, and only
 * that. */
static void test_extremum_guard(void **state)
{
    (void)state;
    tprog *t = calloc(1, sizeof *t);
    extremum_loop(t, ISA_OPT_GE, ISA_T_F, 0);
    assert_true(guard_at(t, 5));                /* the loop's br */
    assert_false(guard_at(t, 6));               /* a mov */
    assert_false(guard_at(t, 10));              /* the backward br:l */
    t->in[5].opt = ISA_OPT_E;                   /* equality: no order */
    assert_false(guard_at(t, 5));
    t->in[5].opt = ISA_OPT_LE;
    t->in[6].ops[0].value = 0x2028;             /* copies another word */
    assert_false(guard_at(t, 5));
    t->in[6].ops[0].value = 0x2000;             /* ... best into d */
    t->in[6].ops[1].value = 0x2020;
    assert_true(guard_at(t, 5));
    t->in[7].op = ISA_OP_ADD;                   /* not only movs */
    t->in[7].nops = 3;
    t->in[7].ops[2] = t->in[7].ops[1];
    t->in[7].ops[1] = IMM(1, Q).o;
    assert_false(guard_at(t, 5));
    free(t);

    t = calloc(1, sizeof *t);                   /* five movs: too many */
    int at = INS(t, BR, L, DIR(0x2000, Q), DIR(0x2008, Q), LBL(6));
    for (int k = 0; k < JIT_EXTREMUM_MOVS + 1; k++)
        INS(t, MOV, NONE, DIR(0x2000, Q), DIR(0x2008, Q));
    EXIT(t, C);
    assert_false(guard_at(t, at));
    t->in[at].ops[2].value = 0;                 /* four: a guard */
    t->lab[at][2] = 5;
    assert_true(guard_at(t, at));
    t->in[at].ops[2].mode = ISA_M_IND;          /* no direct target */
    assert_false(guard_at(t, at));
    free(t);
}

static void test_subleq(void **state)
{
    (void)state;
    tprog *t = calloc(1, sizeof *t);
    int loop = INS(t, MOV, Z, IND(0x40, Q), DIR(0x48, Q));
    INS(t, MOV, Z, DSP(8, 0x40, Q), DIR(0x50, Q));
    INS(t, SUB, NONE, IND(0x50, Q), IND(0x48, Q), IND(0x50, Q));
    int le = t->n + 4;
    INS(t, BR, L, IMM(0, Q), IND(0x50, Q), LBL(le));
    INS(t, MOV, Z, DSP(16, 0x40, Q), DIR(0x58, Q));
    INS(t, MOV, NONE, DIR(0x58, Q), DIR(0x40, Q));
    INS(t, BR, J, LBL(le + 2));
    INS(t, ADD, NONE, DIR(0x40, Q), IMM(24, Q), DIR(0x40, Q)); /* le */
    INS(t, BR, J, LBL(le + 2));
    INS(t, BR, LE, DIR(0x500, Q), IMM(0, Q), LBL(le + 4));  /* le + 2 */
    INS(t, BR, J, LBL(loop));
    EXIT(t, C);                                             /* le + 4 */
    outcome o;
    both(t, init_subleq, &o);
    assert_int_equal(o.rc, VM_EXIT_COMMIT);
    assert_int_equal(rd64(o.pr + 0x500), 0);
    outcome_free(&o);
    free(t);
}

/* One engine shared by runners on several threads' worth of entries: the
 * cache hands out the same translation. */
static void test_regions_cached(void **state)
{
    (void)state;
    tprog *t = calloc(1, sizeof *t);
    for (int i = 0; i < 20; i++)
        INS(t, ADD, NONE, DIR(0x40, Q), IMM((uint64_t)i, Q), DIR(0x40, Q));
    EXIT(t, C);
    for (int e = 0; e < 20; e += 3) {
        outcome o;
        both_at(t, NULL, e, &o);
        outcome_free(&o);
    }
    free(t);
}

/* A counting loop of n iterations followed by MAXI / 2 straight-line
 * instructions: the loop's head is hot, the straight line runs once. */
static tprog *loop_then_line(uint64_t n)
{
    tprog *t = calloc(1, sizeof *t);
    INS(t, MOV, NONE, IMM(0, Q), DIR(0x40, Q));
    int loop = INS(t, ADD, NONE, DIR(0x40, Q), IMM(1, Q), DIR(0x40, Q));
    INS(t, BR, L, DIR(0x40, Q), IMM(n, Q), LBL(loop));
    for (int i = 0; i < MAXI / 2; i++)
        INS(t, ADD, NONE, DIR(0x48, Q), IMM((uint64_t)i, Q), DIR(0x48, Q));
    EXIT(t, C);
    return t;
}

/* The tiered limits with every translation made by the runner, so that
 * what an engine translated is known when its run returns. */
static jit_limits tiered_here(void)
{
    jit_limits l = jit_limits_tiered();
    l.background = JIT_BG_OFF;
    return l;
}

/* Runs t on an engine with limits l, checks the outcome against the
 * interpreter's and returns what the engine translated. */
static jit_stats run_limited(const tprog *t, const jit_limits *l)
{
    dvm_program *p = build(t);
    vm_code *c;
    jit_engine *j;
    outcome a, b;
    assert_int_equal(code_build(p, &c), 0);
    assert_int_equal(jit_create_limits(c, l, &j), 0);
    run_one(p, c, NULL, NULL, CODE, &a);
    run_one(p, c, j, NULL, CODE, &b);
    same(&a, &b);
    outcome_free(&a);
    outcome_free(&b);
    jit_stats st = jit_stats_get(j);
    jit_destroy(j);
    code_free(c);
    program_free(p);
    return st;
}

/* Tiered: a loop run long enough is translated, one region of the loop
 * alone; code that runs once or a loop that stays cold is not translated
 * at all. */
static void test_tier_hot_only(void **state)
{
    (void)state;
    jit_limits l = tiered_here();
    l.hot = 1000;               /* the loop runs 200,000 insns */
    l.hot_per_insn = 100;
    tprog *t = loop_then_line(100000);
    jit_stats st = run_limited(t, &l);
    assert_int_equal(st.regions, 1);
    assert_int_equal(st.insns, 2);
    free(t);
    t = loop_then_line(10);
    st = run_limited(t, &l);
    assert_int_equal(st.regions, 0);
    free(t);
}

/* A loop of n iterations whose body adds 32-bit integers (a generic
 * handler) when generic, or 64-bit ones (a specialised one) when not. */
static tprog *loop_of(uint64_t n, int generic)
{
    tprog *t = calloc(1, sizeof *t);
    INS(t, MOV, NONE, IMM(0, Q), DIR(0x40, Q));
    int loop = INS(t, ADD, NONE, DIR(0x40, Q), IMM(1, Q), DIR(0x40, Q));
    if (generic)
        INS(t, ADD, NONE, DIR(0x48, D), IMM(3, D), DIR(0x48, D));
    else
        INS(t, ADD, NONE, DIR(0x48, Q), IMM(3, Q), DIR(0x48, Q));
    INS(t, BR, L, DIR(0x40, Q), IMM(n, Q), LBL(loop));
    EXIT(t, C);
    return t;
}

/* The tiering counts the interpreter's cost, not instructions: 1,000
 * iterations of three instructions (3,000) pass hot = 6,000 when one of
 * them is a 32-bit add (a generic handler, 8: 10,000), not otherwise. */
static void test_tier_weighted(void **state)
{
    (void)state;
    jit_limits l = tiered_here();
    l.hot = 6000;
    l.hot_per_insn = 0;
    tprog *t = loop_of(1000, 1);
    assert_int_equal(run_limited(t, &l).regions, 1);
    free(t);
    t = loop_of(1000, 0);
    assert_int_equal(run_limited(t, &l).regions, 0);
    free(t);
}

/* Calls fn on the path of every entry in cache directory dir. */
static void each_entry(const char *dir, void (*fn)(const char *path))
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    char path[4200];
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 2 || strcmp(e->d_name + n - 2, ".o"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        fn(path);
    }
    closedir(d);
}

/* Flips a byte of the object of the entry at path. */
static void corrupt_entry(const char *path)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, JIT_CACHE_HEADER + 10, SEEK_SET);
    int b = fgetc(f);
    fseek(f, JIT_CACHE_HEADER + 10, SEEK_SET);
    fputc(b ^ 0xff, f);
    fclose(f);
}

/* The section of ELF object o (len bytes, checked by LLVM's writer) named
 * name. */
static Elf64_Shdr *elf_section(uint8_t *o, size_t len, const char *name)
{
    Elf64_Ehdr *eh = (Elf64_Ehdr *)o;
    assert_true(len >= sizeof *eh && eh->e_shoff + eh->e_shnum *
                sizeof(Elf64_Shdr) <= len);
    Elf64_Shdr *sh = (Elf64_Shdr *)(o + eh->e_shoff);
    const char *names = (const char *)o + sh[eh->e_shstrndx].sh_offset;
    for (size_t i = 0; i < eh->e_shnum; i++)
        if (!strcmp(names + sh[i].sh_name, name))
            return &sh[i];
    fail_msg("no section %s", name);
    return NULL;
}

/* Rewrites the entry at path (a whole, valid one) so that only LLVM's
 * loader takes it: its empty .note.GNU-stack becomes an allocated note,
 * which jit_elf.c does not load (DVM_EUNSUPP) and LLVM maps as it is. */
static void llvm_only_entry(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t buf[1 << 16], *e;
    size_t n = fread(buf, 1, sizeof buf, f), len, m;
    fclose(f);
    assert_true(n < sizeof buf);
    jit_cache_key k;
    assert_true(jit_cache_header_key(buf, n, &k));
    const uint8_t *obj;
    uint32_t insns;
    assert_int_equal(jit_cache_decode(buf, n, &k, &obj, &len, &insns), 0);
    uint8_t *o = (uint8_t *)obj;
    Elf64_Shdr *note = elf_section(o, len, ".note.GNU-stack");
    note->sh_type = SHT_NOTE;
    note->sh_flags = SHF_ALLOC;
    assert_int_equal(jit_cache_encode(&k, insns, o, len, &e, &m), 0);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(e, 1, m, f), m);
    fclose(f);
    dvm_free(e);
}

/* Engines sharing one cache directory on one program: its code, the
 * directory and the interpreter's outcome. */
typedef struct shared_fx {
    tprog *t;                   /* owned */
    dvm_program *p;
    vm_code *c;
    char *dir;
    outcome ref;
} shared_fx;

static void shared_open(shared_fx *f, tprog *t)
{
    f->t = t;
    f->p = build(t);
    assert_int_equal(code_build(f->p, &f->c), 0);
    assert_int_equal(jit_cache_dir_make(&f->dir), 0);
    run_one(f->p, f->c, NULL, NULL, CODE, &f->ref);
}

/* Engine j on f's program sharing f's directory (keeping as the
 * environment says). */
static jit_engine *shared_engine(shared_fx *f, const jit_limits *l)
{
    jit_engine *j;
    assert_int_equal(jit_create_limits(f->c, l, &j), 0);
    const prog_segment *code = &f->p->segs[0];
    assert_int_equal(jit_share(j, f->dir, jit_cache_hash(code->bytes,
                                                         code->size, 7)), 0);
    return j;
}

/* Runs f's program on a new engine of limits l sharing f's directory
 * (each entry given to spoil first, unless NULL), checks its outcome and
 * returns what it translated and loaded. */
static jit_stats shared_run(shared_fx *f, const jit_limits *l,
                            void (*spoil)(const char *path))
{
    jit_engine *j = shared_engine(f, l);
    outcome o;
    if (spoil)
        each_entry(f->dir, spoil);
    run_one(f->p, f->c, j, NULL, CODE, &o);
    same(&f->ref, &o);
    outcome_free(&o);
    jit_stats st = jit_stats_get(j);
    jit_destroy(j);
    return st;
}

static void shared_close(shared_fx *f)
{
    outcome_free(&f->ref);
    jit_cache_dir_remove(f->dir);
    dvm_free(f->dir);
    code_free(f->c);
    program_free(f->p);
    free(f->t);
}

/* Limits under which loop_of(100000, 1) gets hot at once. */
static jit_limits quick_limits(void)
{
    jit_limits l = tiered_here();
    l.hot = 1000;
    l.hot_per_insn = 100;
    return l;
}

/* Engines sharing a cache directory: the first translates the hot loop,
 * the second loads it (no translation, nor LLVM: jit_elf.c), the same
 * outcome; a third finds the entry corrupt, says so, and translates it
 * itself. */
static void test_shared(void **state)
{
    (void)state;
    jit_limits l = quick_limits();
    shared_fx f;
    shared_open(&f, loop_of(100000, 1));
    static const uint64_t want[3][2] = {{1, 0}, {0, 1}, {1, 0}};
    for (int k = 0; k < 3; k++) {
        jit_stats st = shared_run(&f, &l, k == 2 ? corrupt_entry : NULL);
        assert_int_equal(st.regions, want[k][0]);
        assert_int_equal(st.loaded, want[k][1]);
    }
    jit_cache_counts n;
    assert_int_equal(jit_cache_counts_read(f.dir, &n), 0);
    assert_int_equal(n.translated, 2);
    assert_true(n.translate_us > 0);    /* two translations took time */
    assert_int_equal(n.loaded, 1);
    assert_int_equal(n.native, 1);      /* without LLVM (jit_elf.c) */
    assert_int_equal(n.bad, 1);
    shared_close(&f);
}

/* An entry the engine's own loader does not handle (DVM_EUNSUPP) is
 * loaded by LLVM's instead: not translated again, not counted bad, the
 * same outcome. */
static void test_shared_llvm_fallback(void **state)
{
    (void)state;
    jit_limits l = quick_limits();
    shared_fx f;
    shared_open(&f, loop_of(100000, 1));
    assert_int_equal(shared_run(&f, &l, NULL).regions, 1);
    jit_stats st = shared_run(&f, &l, llvm_only_entry);
    assert_int_equal(st.regions, 0);
    assert_int_equal(st.loaded, 1);
    jit_cache_counts n;
    assert_int_equal(jit_cache_counts_read(f.dir, &n), 0);
    assert_int_equal(n.loaded, 1);
    assert_int_equal(n.native, 0);
    assert_int_equal(n.bad, 0);
    shared_close(&f);
}

/* An engine finding a live process's claim (here its own pid) on its hot
 * region interprets on (translates nothing, the same outcome); once the
 * claim is gone it translates the region itself. */
static void test_shared_claimed(void **state)
{
    (void)state;
    jit_limits l = quick_limits();
    shared_fx f;
    shared_open(&f, loop_of(100000, 1));
    char path[4200];            /* the loop's head is insn 1 */
    snprintf(path, sizeof path, "%s/1-%u.claim", f.dir, l.region_max);
    FILE *cl = fopen(path, "w");
    assert_non_null(cl);
    fprintf(cl, "%ld\n", (long)getpid());
    fclose(cl);
    jit_stats st = shared_run(&f, &l, NULL);
    assert_int_equal(st.regions + st.loaded, 0);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(shared_run(&f, &l, NULL).regions, 1);
    shared_close(&f);
}

/* Engines sharing a cache directory count a region's heat together: a
 * loop of 1.2 M units, under hot = 1.5 M alone, is translated by the
 * second engine that runs it (both stop every JIT_PROBE, 2^16, to add
 * their heat), and not by an engine alone. */
static void test_shared_heat(void **state)
{
    (void)state;
    jit_limits l = tiered_here();
    l.hot = 1500000;
    l.hot_per_insn = 0;
    shared_fx f;
    shared_open(&f, loop_of(400000, 0));
    for (int k = 0; k < 2; k++)
        assert_int_equal(shared_run(&f, &l, NULL).regions, (uint64_t)k);
    assert_int_equal(run_limited(f.t, &l).regions, 0);  /* alone: cold */
    shared_close(&f);
}

/* Two counting loops in turn, of n1 and n2 iterations. */
static tprog *two_loops(uint64_t n1, uint64_t n2)
{
    tprog *t = calloc(1, sizeof *t);
    INS(t, MOV, NONE, IMM(0, Q), DIR(0x40, Q));
    int a = INS(t, ADD, NONE, DIR(0x40, Q), IMM(1, Q), DIR(0x40, Q));
    INS(t, BR, L, DIR(0x40, Q), IMM(n1, Q), LBL(a));
    INS(t, MOV, NONE, IMM(0, Q), DIR(0x50, Q));
    int b = INS(t, ADD, NONE, DIR(0x50, Q), IMM(1, Q), DIR(0x50, Q));
    INS(t, BR, L, DIR(0x50, Q), IMM(n2, Q), LBL(b));
    EXIT(t, C);
    return t;
}

/* The regions t makes tiered with thresholds hot and hot_warm, nothing
 * more per instruction of a region. */
static uint64_t regions_at(const tprog *t, uint32_t hot, uint32_t hot_warm)
{
    jit_limits l = tiered_here();
    l.hot = hot;
    l.hot_per_insn = 0;
    l.hot_warm = hot_warm;
    return run_limited(t, &l).regions;
}

/* Once a region is translated (LLVM set up), hot drops to hot_warm: a
 * second loop that runs less than hot but more than hot_warm is
 * translated too; with no hot_warm, it is not. */
static void test_tier_warm(void **state)
{
    (void)state;
    /* the first loop runs 200,000 insns, the second 10,000 */
    tprog *t = two_loops(100000, 5000);
    assert_int_equal(regions_at(t, 100000, 1000), 2);
    assert_int_equal(regions_at(t, 100000, 0), 1);
    free(t);
}

/* A loop whose body branches (odd iterations do more): its back edge
 * credits the run since the last jump target to the loop's head, so the
 * head counts all the loop's work (~4,500 insns in 1,000 iterations), not
 * only the runs that start there (~3,500), and passes hot = 4,000. */
static void test_tier_loop_head(void **state)
{
    (void)state;
    tprog *t = calloc(1, sizeof *t);
    INS(t, MOV, NONE, IMM(0, Q), DIR(0x40, Q));
    int head = INS(t, AND, NONE, DIR(0x40, Q), IMM(1, Q), DIR(0x48, Q));
    INS(t, BR, E, DIR(0x48, Q), IMM(0, Q), LBL(head + 3));
    INS(t, ADD, NONE, DIR(0x50, Q), IMM(1, Q), DIR(0x50, Q));
    INS(t, ADD, NONE, DIR(0x40, Q), IMM(1, Q), DIR(0x40, Q));
    INS(t, BR, L, DIR(0x40, Q), IMM(1000, Q), LBL(head));
    EXIT(t, C);
    assert_int_equal(regions_at(t, 4000, 0), 1);
    assert_int_equal(regions_at(t, 5000, 0), 0);
    free(t);
}

/* The limits bound what an engine translates: eager, a straight line of
 * MAXI / 2 instructions becomes regions of at most region_max, and no
 * more instructions than the budget (overshot by one region at most) nor
 * regions than allowed. */
static void test_tier_limits(void **state)
{
    (void)state;
    jit_limits l = jit_limits_eager();
    l.region_max = 64;
    l.budget = 200;
    tprog *t = loop_then_line(3);
    jit_stats st = run_limited(t, &l);
    assert_true(st.insns <= l.budget + l.region_max);
    assert_true(st.regions >= 2 && st.regions <= 5);
    l.budget = 1u << 20;
    l.regions = 2;
    st = run_limited(t, &l);
    assert_int_equal(st.regions, 2);
    free(t);
}

/* Translating beside the runner (jit.h): with background always, the hot
 * loop's region goes to the engine's thread and the runner interprets
 * on; the runs go on giving the interpreter's outcome, and within a
 * bounded number of runs (each ~1 ms; the translation takes some) the
 * region is translated, once, beside the runner, and run natively. */
static void test_background(void **state)
{
    (void)state;
    jit_limits l = quick_limits();
    l.background = JIT_BG_ALWAYS;
    shared_fx f;                        /* its program; not shared */
    shared_open(&f, loop_of(100000, 1));
    jit_engine *j;
    outcome o;
    assert_int_equal(jit_create_limits(f.c, &l, &j), 0);
    jit_stats st = {0, 0, 0, 0};
    for (int k = 0; k < 5000 && !st.regions; k++) {
        run_one(f.p, f.c, j, NULL, CODE, &o);
        same(&f.ref, &o);
        outcome_free(&o);
        st = jit_stats_get(j);
    }
    assert_int_equal(st.regions, 1);
    assert_int_equal(st.background, 1);
    run_one(f.p, f.c, j, NULL, CODE, &o);   /* now native */
    same(&f.ref, &o);
    outcome_free(&o);
    assert_int_equal(jit_stats_get(j).regions, 1);
    jit_destroy(j);
    shared_close(&f);
}

/* An engine destroyed just after giving its hot region to its thread
 * waits for a translation begun and drops one not begun: either way the
 * region is settled or its shared claim given up, so that a second
 * engine loads the entry or translates the region itself (it does not
 * wait on a claim left behind), and it is translated once in all. */
static void test_background_destroyed(void **state)
{
    (void)state;
    jit_limits l = quick_limits();
    l.background = JIT_BG_ALWAYS;
    shared_fx f;
    shared_open(&f, loop_of(100000, 1));
    jit_stats st = shared_run(&f, &l, NULL);    /* one run, then destroy */
    jit_cache_counts n;
    assert_int_equal(jit_cache_counts_read(f.dir, &n), 0);
    assert_int_equal(n.translated, n.background);
    assert_true(n.translated <= 1);
    l.background = JIT_BG_OFF;
    st = shared_run(&f, &l, NULL);
    assert_int_equal(st.regions + st.loaded, 1);
    assert_int_equal(jit_cache_counts_read(f.dir, &n), 0);
    assert_int_equal(n.translated, 1);
    shared_close(&f);
}

/* DVM_JIT_BACKGROUND sets the engine's choice; another value is refused
 * with a message naming it. */
static void test_background_env(void **state)
{
    (void)state;
    shared_fx f;
    shared_open(&f, loop_of(10, 0));
    jit_engine *j;
    static const char *const ok[] = {"off", "idle", "always", ""};
    for (size_t k = 0; k < 4; k++) {
        setenv("DVM_JIT_BACKGROUND", ok[k], 1);
        assert_int_equal(jit_create(f.c, &j), 0);
        jit_destroy(j);
    }
    setenv("DVM_JIT_BACKGROUND", "sometimes", 1);
    assert_int_equal(jit_create(f.c, &j), DVM_EINVAL);
    assert_non_null(strstr(status_message(), "DVM_JIT_BACKGROUND=sometimes"));
    unsetenv("DVM_JIT_BACKGROUND");
    shared_close(&f);
}

/* Translating ahead (jit_translate_ahead): refused when nothing is kept;
 * with a keeping directory, both loops of two_loops are translated, a
 * second time both are found kept, and a run on a new engine loads its
 * hot loop from there, translating nothing, with the interpreter's
 * outcome. */
static void test_translate_ahead(void **state)
{
    (void)state;
    jit_limits l = quick_limits();
    shared_fx f;
    shared_open(&f, two_loops(100000, 100000));
    jit_engine *j = shared_engine(&f, &l);      /* DVM_JIT_KEEP=off */
    jit_ahead a;
    assert_int_equal(jit_translate_ahead(j, &a), DVM_EINVAL);
    assert_non_null(strstr(status_message(), "kept nowhere"));
    jit_destroy(j);
    char keep[] = "/tmp/dvm-ahead-XXXXXX";
    assert_non_null(mkdtemp(keep));
    setenv("DVM_JIT_KEEP", keep, 1);
    static const uint64_t want[2][2] = {{2, 0}, {0, 2}};  /* new, kept */
    for (int k = 0; k < 2; k++) {
        j = shared_engine(&f, &l);
        assert_int_equal(jit_translate_ahead(j, &a), 0);
        assert_int_equal(a.loops, 2);
        assert_int_equal(a.translated, want[k][0]);
        assert_int_equal(a.kept, want[k][1]);
        assert_int_equal(a.refused, 0);
        jit_destroy(j);
    }
    jit_cache_dir_remove(f.dir);        /* a run's directory of its own */
    dvm_free(f.dir);
    assert_int_equal(jit_cache_dir_make(&f.dir), 0);
    jit_stats st = shared_run(&f, &l, NULL);
    assert_int_equal(st.regions, 0);
    assert_int_equal(st.loaded, 2);
    setenv("DVM_JIT_KEEP", "off", 1);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", keep);
    assert_int_equal(system(cmd), 0);
    shared_close(&f);
}

static int group_setup(void **state)
{
    (void)state;
    /* These tests make their own shared directories; translations kept
     * across runs (the user's cache, by default) are system/jit_keep's,
     * and would carry one run's regions into the next. */
    setenv("DVM_JIT_KEEP", "off", 1);
    win = mmap(NULL, DISA_ADDR_LIMIT, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return win == MAP_FAILED ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    munmap(win, DISA_ADDR_LIMIT);
    return 0;
}

/* Every float operation is translated: on x86-64 inline assembly, SSE2
 * or, on a host with AVX, VEX instructions, which the JIT's own target
 * must accept (LLVM's assembler stops the process on one it does not). */
static void test_float_translated(void **state)
{
    (void)state;
    static const int ops[] = {ISA_OP_ADD, ISA_OP_SUB, ISA_OP_MUL, ISA_OP_DIV};
    jit_limits l = jit_limits_eager();
    for (size_t i = 0; i < 4; i++) {
        tprog *t = calloc(1, sizeof *t);
        INS(t, MOV, NONE, IMM(dbits(2.5), F), DIR(0x40, F));
        ins(t, ops[i], ISA_OPT_NONE,
            (top[]){DIR(0x40, F), IMM(dbits(1.5), F), DIR(0x48, F)}, 3);
        EXIT(t, C);
        assert_int_equal(run_limited(t, &l).regions, 1);
        free(t);
    }
}

int main(void)
{
    if (!jit_available()) {
        printf("translator not available: skipped\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mov_matrix),
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_alu_matrix),
        cmocka_unit_test(test_div),
        cmocka_unit_test(test_float_nan),
        cmocka_unit_test(test_float_words),
        cmocka_unit_test(test_div_zero),
        cmocka_unit_test(test_branches),
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_memory_faults),
        cmocka_unit_test(test_writes),
        cmocka_unit_test(test_heap_loop),
        cmocka_unit_test(test_cached_edges),
        cmocka_unit_test(test_counted_loops),
        cmocka_unit_test(test_counted_reads),
        cmocka_unit_test(test_counter_loops),
        cmocka_unit_test(test_exec_faults),
        cmocka_unit_test(test_calls),
        cmocka_unit_test(test_exit),
        cmocka_unit_test(test_newr),
        cmocka_unit_test(test_newr_chosen),
        cmocka_unit_test(test_pr_writes_noted),
        cmocka_unit_test(test_subleq),
        cmocka_unit_test(test_extremum_guard),
        cmocka_unit_test(test_extremum_loops),
        cmocka_unit_test(test_regions_cached),
        cmocka_unit_test(test_tier_weighted),
        cmocka_unit_test(test_tier_hot_only),
        cmocka_unit_test(test_tier_limits),
        cmocka_unit_test(test_float_translated),
        cmocka_unit_test(test_tier_warm),
        cmocka_unit_test(test_shared),
        cmocka_unit_test(test_shared_llvm_fallback),
        cmocka_unit_test(test_shared_heat),
        cmocka_unit_test(test_shared_claimed),
        cmocka_unit_test(test_tier_loop_head),
        cmocka_unit_test(test_background),
        cmocka_unit_test(test_background_destroyed),
        cmocka_unit_test(test_background_env),
        cmocka_unit_test(test_translate_ahead),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
