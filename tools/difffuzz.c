/*
 * difffuzz.c -- differential fuzzer: the translator against the interpreter.
 *
 *     difffuzz SECONDS SEED
 *
 * generates random valid DISA programs for SECONDS seconds from SEED, runs
 * each on interp_run, on jit_run translating every region (eager) and on
 * jit_run tiered with tiny thresholds and regions (so that execution
 * crosses between the tiers all the time), over the same window (reset
 * between the runs), and compares exit, fault (kind, instruction address, offending
 * address), children and memory.  On the first difference it prints the
 * program, both outcomes and the seed that reproduces it, and exits 1.
 *
 * Programs use every instruction, option, type and addressing mode, forward
 * branches, bounded loops (counters in memory no other instruction
 * writes; counted pointer loops and loops counted beside their pointer,
 * stepped words there too), calls and returns through link words, computed jumps, newr with
 * good and bad descriptors, and, rarely, every kind of fault.  Memory is
 * split so that results stay comparable bit for bit: integer-typed
 * destinations go to the integer area (PR or heap), :f destinations to the
 * float area, and the float area only ever holds values made by float
 * operations or conversions, whose NaNs are the host's default NaN (two
 * different NaN payloads meeting in one operation would give an answer
 * that depends on operand order in the machine code, which neither engine
 * pins down).
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "exec/jit.h"
#include "util/alloc.h"

#define CODE     DISA_TEXT_BASE
#define HEAP     0x50000000ULL
#define HEAPLEN  0x1000ULL
#define PTRS     0x100ULL       /* 16 pointers into the int area */
#define FPTRS    0x180ULL       /* 8 pointers into the float area */
#define BADPTRS  0x1c0ULL       /* 8 bad pointers */
#define DESC     0x400ULL       /* newr descriptors */
#define INTS     0x2000ULL      /* 64 integer words */
#define FLTS     0x3000ULL      /* 32 doubles */
#define CNTS     0x3800ULL      /* loop counters */
#define LINKS    0x3900ULL      /* link words */
#define JMPS     0x3a00ULL      /* computed jump targets */
#define PRLEN    0x4000ULL      /* compared PR bytes */
#define MAXI     600

static uint8_t *win;
static uint64_t rng;

/* ---- randomness ---------------------------------------------------------- */

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A uniform number below n (n > 0). */
static uint64_t below(uint64_t n)
{
    return rnd() % n;
}

/* True with probability 1/n. */
static int one_in(uint64_t n)
{
    return below(n) == 0;
}

static uint64_t dbits(double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    return v;
}

/* An interesting 64-bit integer. */
static uint64_t rand_int(void)
{
    static const uint64_t special[] = {
        0, 1, 2, 7, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff,
        0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
        0x7fffffffffffffffULL, 0x8000000000000000ULL, UINT64_MAX,
        UINT64_MAX - 1, (uint64_t)-7, (uint64_t)-128};
    switch (below(4)) {
    case 0: return special[below(sizeof special / sizeof special[0])];
    case 1: return below(1000);
    case 2: return (uint64_t)-(int64_t)below(1000);
    default: return rnd();
    }
}

/* An interesting double (as bits); its only NaN is the host default. */
static uint64_t rand_float(void)
{
    static const double special[] = {
        0.0, -0.0, 1.0, -1.0, 0.5, 1e300, -1e300, 4.9e-324, 2.2e-308,
        9.2233720368547758e18, -9.2233720368547758e18, 1.8446744073709552e19,
        255.5, -128.5, 3.0, 1e-10};
    volatile double zero = 0.0;
    switch (below(6)) {
    case 0: return dbits(special[below(sizeof special / sizeof special[0])]);
    case 1: return dbits(zero / zero);
    case 2: return dbits(below(2) ? 1.0 / zero : -1.0 / zero);
    case 3: return dbits((double)(int64_t)rand_int());
    default: return dbits(((double)(int64_t)rnd()) / (double)(1 + below(1u << 20)));
    }
}

/* ---- program building ---------------------------------------------------- */

typedef struct prog {
    isa_insn in[MAXI];
    int lab[MAXI][ISA_MAX_OPERANDS];    /* operand value += address of insn */
    int n;
} prog;

static prog P;

/* Appends an instruction with no label references; returns its index. */
static int emit(int op, int opt, const isa_operand *ops)
{
    assert(P.n < MAXI);
    isa_insn *in = &P.in[P.n];
    memset(in, 0, sizeof *in);
    in->op = (uint8_t)op;
    in->opt = (uint8_t)opt;
    in->nops = (uint8_t)isa_operand_count(op, opt);
    for (int i = 0; i < in->nops; i++) {
        in->ops[i] = ops[i];
        P.lab[P.n][i] = -1;
    }
    return P.n++;
}

static isa_operand opnd(int mode, int type, uint64_t v, int64_t d)
{
    return (isa_operand){(uint8_t)mode, (uint8_t)type, v, d};
}

/* A random integer type. */
static int int_type(void)
{
    static const int t[] = {ISA_T_Q, ISA_T_B, ISA_T_W, ISA_T_D, ISA_T_UB,
                            ISA_T_UW, ISA_T_UD, ISA_T_UQ};
    return t[below(8)];
}

/* A bad memory operand (rare): out of range or a bad pointer. */
static isa_operand bad_mem(int type)
{
    switch (below(4)) {
    case 0: return opnd(ISA_M_DIR, type, DISA_ADDR_LIMIT - below(4), 0);
    case 1: return opnd(ISA_M_IND, type, BADPTRS + 8 * below(8), 0);
    case 2: return opnd(ISA_M_DISP, type, PTRS + 8 * below(16),
                        (int64_t)(DISA_ADDR_LIMIT - below(64)));
    default: return opnd(ISA_M_IND, type, DISA_ADDR_LIMIT - 4, 0);
    }
}

/* A memory operand of integer type in the integer area. */
static isa_operand int_mem(int type)
{
    if (one_in(1500))
        return bad_mem(type);
    switch (below(5)) {
    case 0:
        return opnd(ISA_M_DIR, type, INTS + below(0x1f8), 0);
    case 1:                     /* aligned: promotable when 8 bytes */
        return opnd(ISA_M_DIR, one_in(2) ? ISA_T_Q : type,
                    INTS + 8 * below(0x3f), 0);
    case 2:
        return opnd(ISA_M_DIR, type, HEAP + below(HEAPLEN - 8), 0);
    case 3:
        return opnd(ISA_M_IND, type, PTRS + 8 * below(16), 0);
    default:
        return opnd(ISA_M_DISP, type, PTRS + 8 * below(16),
                    (int64_t)below(0x100) - 0x40);
    }
}

/* A memory operand of type :f in the float area. */
static isa_operand flt_mem(void)
{
    if (one_in(1500))
        return bad_mem(ISA_T_F);
    switch (below(3)) {
    case 0:
        return opnd(ISA_M_DIR, ISA_T_F, FLTS + 8 * below(32), 0);
    case 1:
        return opnd(ISA_M_IND, ISA_T_F, FPTRS + 8 * below(8), 0);
    default:
        return opnd(ISA_M_DISP, ISA_T_F, FPTRS + 8 * below(8),
                    8 * ((int64_t)below(8) - 4));
    }
}

/* A source operand: float when flt, else integer; sometimes immediate.
 * An integer source may read float bits (no NaN is ever made of them). */
static isa_operand src(int flt)
{
    if (flt) {
        if (one_in(4))
            return opnd(ISA_M_IMM, ISA_T_F,
                        one_in(3) ? rand_int() % 100 : rand_float(), 0);
        return flt_mem();
    }
    int t = int_type();
    if (one_in(3))
        return opnd(ISA_M_IMM, t, rand_int(), 0);
    if (one_in(8))
        return opnd(ISA_M_DIR, t, FLTS + below(0xf8), 0);
    return int_mem(t);
}

/* A destination: :f in the float area when flt, else integer.  Rarely a
 * write that faults (read only, outside the writable set). */
static isa_operand dst(int flt)
{
    if (one_in(1500))
        return opnd(ISA_M_DIR, flt ? ISA_T_F : int_type(),
                    one_in(2) ? CODE + below(16) : HEAP + HEAPLEN + below(8),
                    0);
    return flt ? flt_mem() : int_mem(int_type());
}

/* An arithmetic/logic/move instruction with random types and modes. */
static void gen_alu(void)
{
    static const int ops[] = {ISA_OP_MOV, ISA_OP_ADD, ISA_OP_SUB, ISA_OP_MUL,
                              ISA_OP_DIV, ISA_OP_AND, ISA_OP_OR, ISA_OP_XOR};
    int op = ops[below(8)], opt = ISA_OPT_NONE;
    int bitwise = op == ISA_OP_AND || op == ISA_OP_OR || op == ISA_OP_XOR;
    isa_operand o[3];
    int fa = !bitwise && one_in(3), fb = !bitwise && one_in(3);
    o[0] = src(fa);
    if (op == ISA_OP_MOV) {
        opt = (int)below(3) == 0 ? ISA_OPT_NONE : one_in(2) ? ISA_OPT_Z
                                                            : ISA_OPT_S;
        o[1] = dst(one_in(3));
        emit(op, opt, o);
        return;
    }
    o[1] = src(fb);
    if (op == ISA_OP_DIV && one_in(2))
        opt = ISA_OPT_R;
    if (op == ISA_OP_DIV && !fb && !one_in(10))  /* mostly no fault */
        o[1] = opnd(ISA_M_IMM, int_type(), 1 + below(200) * (1 + rnd() % 3), 0);
    if (op == ISA_OP_DIV && o[1].mode == ISA_M_IMM && !one_in(20) &&
        !(o[1].value & 0x7f))
        o[1].value |= 1;
    if (op == ISA_OP_DIV && !fb && one_in(4))   /* c0's shifts and masks */
        o[1] = opnd(ISA_M_IMM, one_in(2) ? ISA_T_Q : ISA_T_UQ,
                    1ULL << below(64), 0);
    o[2] = dst(one_in(3));
    emit(op, opt, o);
}

/* A conditional branch over the next few instructions (forward only);
 * returns the index of the branch, to be patched by the caller. */
static int gen_br_fwd(void)
{
    static const int conds[] = {ISA_OPT_E, ISA_OPT_NE, ISA_OPT_L,
                                ISA_OPT_LE, ISA_OPT_G, ISA_OPT_GE};
    int f = one_in(4);
    isa_operand o[3] = {src(f), src(!f && one_in(4)),
                        opnd(ISA_M_DIR, ISA_T_Q, 0, 0)};
    return emit(ISA_OP_BR, conds[below(6)], o);
}

/* Generates up to n straight-line instructions with forward branches
 * that stay inside them; depth bounds nesting of loops. */
static void gen_body(int n, int depth);

/* A bounded loop: counter k from 1..4 (or a few more) down to 0. */
static void gen_loop(int depth)
{
    uint64_t cnt = CNTS + 8 * (uint64_t)depth;
    isa_operand init[2] = {opnd(ISA_M_IMM, ISA_T_Q, 1 + below(6), 0),
                           opnd(ISA_M_DIR, ISA_T_Q, cnt, 0)};
    emit(ISA_OP_MOV, ISA_OPT_NONE, init);
    int top = P.n;
    gen_body(3 + (int)below(8), depth + 1);
    isa_operand dec[3] = {opnd(ISA_M_DIR, ISA_T_Q, cnt, 0),
                          opnd(ISA_M_IMM, ISA_T_Q, 1, 0),
                          opnd(ISA_M_DIR, ISA_T_Q, cnt, 0)};
    emit(ISA_OP_SUB, ISA_OPT_NONE, dec);
    isa_operand br[3] = {opnd(ISA_M_DIR, one_in(2) ? ISA_T_Q : ISA_T_UD,
                              cnt, 0),
                         opnd(ISA_M_IMM, ISA_T_Q, 0, 0),
                         opnd(ISA_M_DIR, ISA_T_Q, 0, 0)};
    int b = emit(ISA_OP_BR, ISA_OPT_G, br);
    P.lab[b][2] = top;
}

/* A move through pointer word pw at offset d, from near d or from a
 * source; when other is set, sometimes to elsewhere instead. */
static void gen_ptr_move(uint64_t pw, int64_t d, int other)
{
    isa_operand mv[2] = {one_in(3) ? opnd(ISA_M_DISP, int_type(), pw,
                                          d + (int64_t)below(8))
                                    : src(0),
                         opnd(ISA_M_DISP, int_type(), pw, d)};
    if (other && one_in(6))
        mv[1] = int_mem(int_type());
    emit(ISA_OP_MOV, ISA_OPT_NONE, mv);
}

/* A loop's latch `br:l w, B, top` on words of type t, B the immediate
 * bound or (half the time) the word bw. */
static void gen_latch(uint64_t w, int t, uint64_t bound, uint64_t bw,
                      int top)
{
    isa_operand br[3] = {opnd(ISA_M_DIR, t, w, 0),
                         one_in(2) ? opnd(ISA_M_IMM, t, bound, 0)
                                   : opnd(ISA_M_DIR, t, bw, 0),
                         opnd(ISA_M_DIR, ISA_T_Q, 0, 0)};
    int b = emit(ISA_OP_BR, ISA_OPT_L, br);
    P.lab[b][2] = top;
}

/* A counted pointer loop, the shape the translator versions: loads and
 * stores through a pointer word (in the counters' area, which nothing else
 * writes) stepped by `add p, $c, p` up to `br:l p, B, top`, B an
 * immediate or a word; the range mostly inside the heap, sometimes
 * across its ends or in the PR integer words (aliases). */
static void gen_ptr_loop(int depth)
{
    uint64_t pw = CNTS + 0x80 + 8 * (uint64_t)depth;
    uint64_t bw = CNTS + 0xc0 + 8 * (uint64_t)depth;
    uint64_t c = 1 + below(16), n = 1 + below(12);
    uint64_t start = one_in(6) ? INTS + below(0x80)
                   : one_in(6) ? HEAP + HEAPLEN - below(0x40)
                               : HEAP + below(HEAPLEN / 2);
    uint64_t bound = start + c * n - below(c) + (one_in(8) ? 0x40 : 0);
    isa_operand init[2] = {opnd(ISA_M_IMM, ISA_T_UQ, start, 0),
                           opnd(ISA_M_DIR, ISA_T_UQ, pw, 0)};
    emit(ISA_OP_MOV, ISA_OPT_NONE, init);
    isa_operand bo[2] = {opnd(ISA_M_IMM, ISA_T_UQ, bound, 0),
                         opnd(ISA_M_DIR, ISA_T_UQ, bw, 0)};
    emit(ISA_OP_MOV, ISA_OPT_NONE, bo);
    int top = P.n, after = one_in(3);
    for (int k = 0; k < 4; k++) {
        if (k == 2) {
            isa_operand st[3] = {opnd(ISA_M_DIR, ISA_T_UQ, pw, 0),
                                 opnd(ISA_M_IMM, ISA_T_UQ, c, 0),
                                 opnd(ISA_M_DIR, ISA_T_UQ, pw, 0)};
            emit(ISA_OP_ADD, ISA_OPT_NONE, st);
        }
        if (one_in(4)) {
            gen_alu();
            continue;
        }
        int64_t d = (int64_t)below(24) - 8 - (after && k >= 2 ? (int64_t)c : 0);
        gen_ptr_move(pw, d, 0);
    }
    gen_latch(pw, ISA_T_UQ, bound, bw, top);
}

/* The start of a pointer that steps by c for n passes: mostly inside
 * the heap (from its top down when c < 0), sometimes across either end
 * of it or over the PR integer words (aliases). */
static uint64_t loop_start(int64_t c, uint64_t n)
{
    uint64_t span = (uint64_t)(c < 0 ? -c : c) * n;
    if (one_in(6))
        return INTS + below(0x80);
    if (one_in(3))
        return c < 0 ? HEAP + below(0x40) : HEAP + HEAPLEN - below(0x40);
    return c < 0 ? HEAP + span + below(HEAPLEN / 2)
                 : HEAP + below(HEAPLEN / 2);
}

/* A loop counted by a word beside its pointer (k-means' shape, which the
 * translator versions too): counter n from n0 (sometimes below zero,
 * sometimes past the bound: one pass) by d up to `br:l n, B, top`, B an
 * immediate or a word; the pointer stepped by c (sometimes negative);
 * loads and stores through it, a forward branch over some of them (never
 * over a step, so the loop ends), and sometimes a branch over the
 * counter's step in one pass (the pointer's value there, reached once:
 * the loop then runs once more than its counter says). */
static void gen_cnt_loop(int depth)
{
    uint64_t pw = CNTS + 0x80 + 8 * (uint64_t)depth;
    uint64_t bw = CNTS + 0xc0 + 8 * (uint64_t)depth;
    uint64_t nw = CNTS + 0x40 + 8 * (uint64_t)depth;
    int64_t c = (int64_t)(1 + below(16)) * (one_in(3) ? -1 : 1);
    uint64_t d = 1 + below(3), n = 1 + below(12);
    uint64_t n0 = one_in(8) ? -below(4) : below(5);
    uint64_t bound = one_in(8) ? n0 - below(3) : n0 + d * n - below(d);
    uint64_t start = loop_start(c, n);
    isa_operand init[3][2] = {
        {opnd(ISA_M_IMM, ISA_T_Q, start, 0), opnd(ISA_M_DIR, ISA_T_Q, pw, 0)},
        {opnd(ISA_M_IMM, ISA_T_Q, bound, 0), opnd(ISA_M_DIR, ISA_T_Q, bw, 0)},
        {opnd(ISA_M_IMM, ISA_T_Q, n0, 0), opnd(ISA_M_DIR, ISA_T_Q, nw, 0)}};
    for (int k = 0; k < 3; k++)
        emit(ISA_OP_MOV, ISA_OPT_NONE, init[k]);
    int top = P.n, skip = -1, over = -1;
    for (int k = 0; k < 5; k++) {
        if (skip >= 0 && (k == 2 || one_in(2)))
            P.lab[skip][2] = P.n, skip = -1;    /* never over a step */
        if (k == 2) {
            isa_operand st[3] = {opnd(ISA_M_DIR, ISA_T_Q, pw, 0),
                                 opnd(ISA_M_IMM, ISA_T_Q, (uint64_t)c, 0),
                                 opnd(ISA_M_DIR, ISA_T_Q, pw, 0)};
            emit(ISA_OP_ADD, ISA_OPT_NONE, st);
            continue;
        }
        if (k == 3) {
            isa_operand sk[3] = {opnd(ISA_M_DIR, ISA_T_Q, pw, 0),
                                 opnd(ISA_M_IMM, ISA_T_Q,
                                      start + 2 * (uint64_t)c, 0),
                                 opnd(ISA_M_DIR, ISA_T_Q, 0, 0)};
            if (one_in(6))
                over = emit(ISA_OP_BR, ISA_OPT_E, sk);
            isa_operand ns[3] = {opnd(ISA_M_DIR, ISA_T_Q, nw, 0),
                                 opnd(ISA_M_IMM, ISA_T_Q, d, 0),
                                 opnd(ISA_M_DIR, ISA_T_Q, nw, 0)};
            emit(ISA_OP_ADD, ISA_OPT_NONE, ns);
            if (over >= 0)
                P.lab[over][2] = P.n;
            continue;
        }
        if (skip < 0 && k < 2 && one_in(3))
            skip = gen_br_fwd();
        int64_t o = (int64_t)below(24) - 8 - (k > 2 ? c : 0);
        gen_ptr_move(pw, o, 1);
    }
    gen_latch(nw, ISA_T_Q, bound, bw, top);
}

/* A call of subroutine s (its index patched later, in subs[]). */
static int subs_at[8], nsubs, calls[64][2], ncalls;

static void gen_call(void)
{
    if (ncalls == 64)
        return;
    int s = (int)below(4);
    isa_operand o[2] = {opnd(ISA_M_DIR, ISA_T_Q, 0, 0),
                        opnd(ISA_M_DIR, ISA_T_Q, LINKS + 8 * (uint64_t)s, 0)};
    calls[ncalls][0] = emit(ISA_OP_BL, ISA_OPT_NONE, o);
    calls[ncalls++][1] = s;
}

/* A computed forward jump: the target's address stored, then br:j
 * through it (indirect or displacement). */
static int gen_computed_jump(void)
{
    uint64_t slot = JMPS + 8 * below(4);
    isa_operand m[2] = {opnd(ISA_M_IMM, ISA_T_Q, 0, 0),
                        opnd(ISA_M_DIR, ISA_T_Q, slot, 0)};
    int d = one_in(2) ? 8 : 0;
    m[0].value = (uint64_t)-d;              /* the label minus d */
    int mi = emit(ISA_OP_MOV, ISA_OPT_NONE, m);
    isa_operand j = d ? opnd(ISA_M_DISP, ISA_T_Q, slot, d)
                      : opnd(ISA_M_IND, ISA_T_Q, slot, 0);
    emit(ISA_OP_BR, ISA_OPT_J, &j);
    return mi;                  /* caller sets lab[mi][0] */
}

/* newr with the good descriptors, or (rarely) a bad one. */
static void gen_newr(void)
{
    isa_operand o[4] = {opnd(ISA_M_IMM, ISA_T_Q, DESC, 0),
                        opnd(ISA_M_IMM, ISA_T_Q, DESC + 0x10, 0),
                        opnd(ISA_M_IMM, ISA_T_Q, DESC + 0x30, 0),
                        opnd(ISA_M_IMM, ISA_T_Q, DESC + 0x38, 0)};
    if (one_in(2))
        o[1] = opnd(ISA_M_DIR, ISA_T_Q, DESC + 0x40, 0);
    if (one_in(10))
        o[below(4)] = opnd(ISA_M_IMM, ISA_T_Q, DESC + 0x48 + 8 * below(2), 0);
    emit(ISA_OP_NEWR, ISA_OPT_NONE, o);
}

static void gen_body(int n, int depth)
{
    int pending[8], npending = 0;
    for (int k = 0; k < n && P.n < MAXI - 100; k++) {
        uint64_t c = below(100);
        if (c < 8 && npending < 8)
            pending[npending++] = gen_br_fwd();
        else if (c < 11 && depth < 3) {
            uint64_t kind = below(3);
            if (kind == 0)
                gen_loop(depth);
            else if (kind == 1)
                gen_ptr_loop(depth);
            else
                gen_cnt_loop(depth);
        }
        else if (c < 14 && depth < 3)
            gen_call();
        else if (c < 16 && npending < 8)
            pending[npending++] = -1 - gen_computed_jump();
        else if (c < 17)
            gen_newr();
        else if (c < 18 && one_in(4))
            emit(ISA_OP_EXIT, one_in(2) ? ISA_OPT_A : ISA_OPT_C, NULL);
        else
            gen_alu();
        if (npending && one_in(3)) {        /* land a pending jump here */
            int b = pending[--npending];
            if (b >= 0)
                P.lab[b][2] = P.n;
            else
                P.lab[-1 - b][0] = P.n;
            gen_alu();
        }
    }
    while (npending) {
        int b = pending[--npending];
        if (b >= 0)
            P.lab[b][2] = P.n;
        else
            P.lab[-1 - b][0] = P.n;
        gen_alu();
    }
}

/* Ends the main body: exit (mostly), or a jump to no instruction, or a
 * jump to a tail that runs off the end of the code (returns its index, to
 * be aimed at the tail; else -1). */
static int gen_end(void)
{
    isa_operand j = opnd(ISA_M_DIR, ISA_T_Q, 0, 0);
    switch (below(40)) {
    case 0:
        j.value = CODE + 1;
        emit(ISA_OP_BR, ISA_OPT_J, &j);
        return -1;
    case 1:
        return emit(ISA_OP_BR, ISA_OPT_J, &j);
    default:
        emit(ISA_OP_EXIT, one_in(5) ? ISA_OPT_A : ISA_OPT_NONE, NULL);
        return -1;
    }
}

/* Generates a whole program: main body, its end, the subroutines (each
 * returning through its link word), and maybe a tail that falls off. */
static void gen_program(void)
{
    memset(&P, 0, sizeof P);
    nsubs = ncalls = 0;
    gen_body(10 + (int)below(80), 0);
    int tail = gen_end();
    for (int s = 0; s < 4; s++) {
        subs_at[s] = P.n;
        gen_body(1 + (int)below(6), 3);
        isa_operand r = opnd(ISA_M_IND, ISA_T_Q, LINKS + 8 * (uint64_t)s, 0);
        emit(ISA_OP_BR, ISA_OPT_J, &r);
    }
    nsubs = 4;
    for (int c = 0; c < ncalls; c++)
        P.lab[calls[c][0]][0] = subs_at[calls[c][1]];
    if (tail >= 0) {
        P.lab[tail][0] = P.n;
        gen_alu();
    }
}

/* Builds P into a program (one code segment at CODE). */
static dvm_program *build(void)
{
    static uint64_t addr[MAXI + 1];
    uint64_t a = CODE;
    for (int k = 0; k < P.n; k++) {
        addr[k] = a;
        a += isa_encoded_size(&P.in[k]);
    }
    addr[P.n] = a;
    dvm_program *p = program_new();
    prog_segment *s = p ? dvm_calloc(1, sizeof *s) : NULL;
    if (!s)
        abort();
    p->segs = s;
    p->nsegs = 1;
    s->addr = CODE;
    s->size = a - CODE;
    s->flags = PROG_SEG_CODE;
    s->bytes = dvm_malloc(s->size);
    s->insn_offs = dvm_malloc((size_t)P.n * sizeof(uint32_t) + 4);
    s->ninsns = (uint64_t)P.n;
    if (!s->bytes || !s->insn_offs)
        abort();
    for (int k = 0; k < P.n; k++) {
        isa_insn in = P.in[k];
        for (int i = 0; i < in.nops; i++)
            if (P.lab[k][i] >= 0)
                in.ops[i].value += addr[P.lab[k][i]];
        P.in[k] = in;           /* keep resolved for printing */
        P.lab[k][0] = P.lab[k][1] = P.lab[k][2] = P.lab[k][3] = -1;
        s->insn_offs[k] = (uint32_t)(addr[k] - CODE);
        isa_encode(&in, s->bytes + (addr[k] - CODE));
    }
    p->entry = CODE;
    return p;
}

/* ---- running and comparing ------------------------------------------------ */

typedef struct outcome {
    int rc, fault;
    uint64_t pc, addr;
    size_t nkids;
    uint8_t pr[PRLEN], heap[HEAPLEN];
} outcome;

static uint64_t init_seed;

static void wr64(uint64_t a, uint64_t v)
{
    memcpy(win + a, &v, 8);
}

/* Resets the window and fills the areas from init_seed. */
static void init_memory(const dvm_program *p)
{
    if (madvise(win, DISA_RB, MADV_DONTNEED) ||
        madvise(win + HEAP - 0x1000, 0x4000, MADV_DONTNEED))
        abort();
    memcpy(win + CODE, p->segs[0].bytes, p->segs[0].size);
    uint64_t saved = rng;
    rng = init_seed;
    for (uint64_t i = 0; i < 0x200; i += 8)
        wr64(INTS + i, rand_int());
    for (uint64_t i = 0; i < HEAPLEN; i += 8)
        wr64(HEAP + i, rand_int());
    for (uint64_t i = 0; i < 32; i++)
        wr64(FLTS + 8 * i, rand_float());
    for (uint64_t i = 0; i < 16; i++)
        wr64(PTRS + 8 * i, i < 12 ? INTS + 0x40 + below(0x100)
                                  : HEAP + 0x40 + below(HEAPLEN - 0x100));
    for (uint64_t i = 0; i < 8; i++)
        wr64(FPTRS + 8 * i, FLTS + 0x20 + 8 * below(24));
    static const uint64_t bad[8] = {
        DISA_ADDR_LIMIT - 4, DISA_ADDR_LIMIT, UINT64_MAX - 3, CODE,
        HEAP + HEAPLEN, 0x7000000000ULL, DISA_SYSPAGE, DISA_RB - 4};
    for (int i = 0; i < 8; i++)
        wr64(BADPTRS + 8 * (uint64_t)i, bad[i]);
    wr64(DESC, HEAP + 0x800);                  /* stack sb, ss */
    wr64(DESC + 8, 0x100);
    wr64(DESC + 0x10, 1);                      /* heap: one range */
    wr64(DESC + 0x18, HEAP);
    wr64(DESC + 0x20, 0x100);
    wr64(DESC + 0x30, 0);                      /* watch: none */
    wr64(DESC + 0x38, CODE);                   /* entry */
    wr64(DESC + 0x40, DESC + 0x10);            /* pointer to heap desc */
    wr64(DESC + 0x48, DISA_ADDR_LIMIT - 4);    /* bad */
    wr64(DESC + 0x50, 0x40);                   /* bad: a PR range */
    rng = saved;
}

/* Runs the program on engine j (NULL: interpreter) into *o. */
static void run_one(const dvm_program *p, const vm_code *c, jit_engine *j,
                    outcome *o)
{
    init_memory(p);
    vm_runner r;
    vm_runner_init(&r, win, c);
    if (vm_runner_add_writable(&r, HEAP, HEAP + HEAPLEN))
        abort();
    o->rc = j ? jit_run(j, &r, CODE) : interp_run(&r, CODE);
    o->fault = r.fault;
    o->pc = r.fault_pc;
    o->addr = r.fault_addr;
    o->nkids = r.nkids;
    memcpy(o->pr, win, PRLEN);
    memcpy(o->heap, win + HEAP, HEAPLEN);
    vm_runner_destroy(&r);
}

/* Describes the first difference of a and b into buf; 0 when none. */
static int differ(const outcome *a, const outcome *b, char *buf, size_t n)
{
    if (a->rc != b->rc || a->fault != b->fault || a->pc != b->pc ||
        a->addr != b->addr || a->nkids != b->nkids) {
        snprintf(buf, n, "exit interp %d/%d pc 0x%" PRIx64 " addr 0x%"
                 PRIx64 " kids %zu; jit %d/%d pc 0x%" PRIx64 " addr 0x%"
                 PRIx64 " kids %zu", a->rc, a->fault, a->pc, a->addr,
                 a->nkids, b->rc, b->fault, b->pc, b->addr, b->nkids);
        return 1;
    }
    if (a->rc == VM_EXIT_FAULT)
        return 0;
    for (size_t i = 0; i < PRLEN; i++)
        if (a->pr[i] != b->pr[i]) {
            snprintf(buf, n, "PR byte 0x%zx: interp 0x%02x jit 0x%02x", i,
                     a->pr[i], b->pr[i]);
            return 1;
        }
    for (size_t i = 0; i < HEAPLEN; i++)
        if (a->heap[i] != b->heap[i]) {
            snprintf(buf, n, "heap byte 0x%" PRIx64 ": interp 0x%02x jit "
                     "0x%02x", (uint64_t)(HEAP + i), a->heap[i], b->heap[i]);
            return 1;
        }
    return 0;
}

/* Prints operand o in assembler syntax. */
static void print_operand(const isa_operand *o)
{
    const char *t = isa_type_name[o->type];
    switch (o->mode) {
    case ISA_M_IMM:  printf("$0x%" PRIx64 ":%s", o->value, t); break;
    case ISA_M_DIR:  printf("0x%" PRIx64 ":%s", o->value, t); break;
    case ISA_M_IND:  printf("(0x%" PRIx64 "):%s", o->value, t); break;
    default:
        printf("%" PRId64 "(0x%" PRIx64 "):%s", o->disp, o->value, t);
        break;
    }
}

/* Prints the program, one instruction a line with its address. */
static void print_program(const vm_code *c)
{
    for (size_t k = 0; k < c->ninsns; k++) {
        const vm_insn *in = &c->insns[k];
        printf("  0x%" PRIx64 ": %s%s%s", in->pc, isa_op_name[in->op],
               in->opt ? ":" : "", isa_opt_name[in->opt]);
        for (int i = 0; i < in->nops; i++) {
            printf(i ? ", " : " ");
            print_operand(&in->o[i]);
        }
        printf("\n");
    }
}

/* Generates, runs and compares one program; returns 1 on a difference. */
static int one_program(uint64_t seed, unsigned long *faults)
{
    static outcome a, b;
    char why[256];
    rng = seed | 1;
    init_seed = rnd() | 1;
    gen_program();
    dvm_program *p = build();
    vm_code *c;
    jit_engine *j, *m;
    jit_limits eager = jit_limits_eager(), mixed = jit_limits_eager();
    mixed.hot = (uint32_t)below(3);         /* both tiers, small regions */
    mixed.region_max = 1 + (uint32_t)below(8);
    if (code_build(p, &c) || jit_create_limits(c, &eager, &j) ||
        jit_create_limits(c, &mixed, &m)) {
        fprintf(stderr, "difffuzz: %s\n", status_message());
        exit(2);
    }
    run_one(p, c, NULL, &a);
    run_one(p, c, j, &b);
    int bad = differ(&a, &b, why, sizeof why);
    if (!bad) {
        run_one(p, c, m, &b);
        bad = differ(&a, &b, why, sizeof why);
        if (bad)
            printf("difffuzz: tiered, hot %u, regions of %u at most\n",
                   mixed.hot, mixed.region_max);
    }
    *faults += a.rc == VM_EXIT_FAULT;
    if (bad) {
        printf("difffuzz: difference, program seed 0x%" PRIx64 ": %s\n",
               seed, why);
        print_program(c);
    }
    jit_destroy(j);
    jit_destroy(m);
    code_free(c);
    program_free(p);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: difffuzz SECONDS SEED\n");
        return 2;
    }
    double secs = atof(argv[1]);
    uint64_t seed = strtoull(argv[2], NULL, 0);
    if (!jit_available()) {
        printf("difffuzz: translator not available: skipped\n");
        return 0;
    }
    win = mmap(NULL, DISA_ADDR_LIMIT, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (win == MAP_FAILED) {
        perror("difffuzz: mmap");
        return 2;
    }
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned long n = 0, faults = 0;
    uint64_t s = seed * 0x9e3779b97f4a7c15ULL + 1;
    do {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        if (one_program(s, &faults))
            return 1;
        n++;
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((double)(t.tv_sec - t0.tv_sec) +
             (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
    printf("difffuzz: %lu programs (%lu faulted), no difference\n", n,
           faults);
    return 0;
}
