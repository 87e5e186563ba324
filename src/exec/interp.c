/*
 * interp.c -- the reference interpreter: DISA semantics, threaded dispatch.
 *
 * The interpreter runs the vm_insn array built by code_build.  Each
 * instruction carries a handler number (vm_insn.xop) chosen once, at build
 * time, by interp_select(): either the generic handler of its opcode (the
 * handler enum starts with one per ISA_OPCODES entry) or a specialised one
 * for the hot shapes, the ones the c0 compiler emits most (the list is at
 * FAST_HANDLERS): 64-bit integer and float operations, movs and compares
 * of direct words and immediates, with a source or the destination
 * through a pointer (array elements: a[i] + x, a[i] == 0, a[i] += x);
 * bytes, through a pointer or direct (char arrays, booleans); div and
 * div:r of a word (by a power of two a shift or a mask: c0's >> and %);
 * bl to a known target and br:j through a private link word (calls and
 * returns).  A specialised handler may skip every check that
 * interp_select proved statically: its direct addresses are below 2^46 -
 * 8, its fall-through successor and jump target exist.  What stays
 * dynamic is the write check for SR destinations (PR writes, the common
 * case, cost one compare), a divisor of zero, and the address a pointer
 * holds: out of range, and the handler hands the instruction to the
 * generic one, which faults exactly as it would have (nothing was
 * written, and reads have no effect to undo); a store through a pointer
 * goes through write_mem, as a generic one does.
 *
 * Dispatch is `goto *label[ip->xop]` with DVM_COMPUTED_GOTO (the default)
 * and a switch otherwise; the handler bodies are the same text either way,
 * written with the CASE / MCASE / DISPATCH / NEXT macros.
 *
 * Semantics (DISA.md 2.3 and 3), which the translator must match exactly:
 *  - A source is read at its width and widened to 64 bits: signed types
 *    sign-extend, unsigned ones zero-extend; mov:z / mov:s force zero / sign
 *    extension and with it the signedness of the source (so mov:z of -1:q to
 *    an :f destination gives 18446744073709551615.0).  An immediate is
 *    treated exactly like a memory read: its 64-bit pattern is truncated to
 *    its type's width and then extended ($0x1ff:ub reads as 255, $-1:ud as
 *    4294967295).
 *  - The domain is float if any source is :f (integer sources convert by
 *    value, per their own signedness), else 64-bit integer with the
 *    signedness of the first source (div, div:r, br, and the conversion of
 *    an integer result stored to :f).  and/or/xor are always integer: a :f
 *    source (not producible by the assembler) is taken as its bit pattern.
 *    div:r in the float domain (equally unproducible) is fmod.
 *  - Integer results truncate to the destination's width.  A float stored
 *    to an integer destination goes through int64: truncation toward zero,
 *    and NaN or a value outside [-2^63, 2^63) gives 0x8000000000000000; the
 *    result is then truncated to the width (also for :uq).
 *  - Integer division by zero is an arithmetic fault; INT64_MIN / -1 is
 *    INT64_MIN with remainder 0; the remainder takes the dividend's sign.
 *  - Float compares are ordered: with a NaN only :ne holds.
 *  - Order of evaluation, which decides which fault wins: sources left to
 *    right (each effective address computed and bounds-checked, the value
 *    read), then the operation (division fault), then the destination
 *    (address, bounds, writable check, store).  A jump operand is evaluated
 *    only when the jump is taken; bl evaluates and checks its target before
 *    storing the link.  newr reads its four operands left to right.
 *  - An access of w bytes at ea is in range iff ea < 2^46 and
 *    ea + w <= 2^46, ea computed modulo 2^64; indirect and displacement
 *    modes first read a 64-bit pointer, itself range-checked.
 *  - Faults record the DISA address of the faulting instruction.  Running
 *    off the code records the last instruction's pc and, as the address,
 *    its next_pc; a bad jump records the target; a bad entry records fi as
 *    both.
 *
 * Tiering: interp_run_tier is the same loop with a vm_tier.  Between two
 * taken jumps the interpreter runs straight, so at each taken jump the
 * instructions run since the previous jump target are a range of the
 * array, and their cost the difference of two running sums (the tier's
 * cost, interp_cost: a generic instruction counts 8, so the threshold
 * measures interpreting time, not instructions): TIER credits it to that target's count
 * (no counting per instruction), or, at a backward jump, to the jump's
 * own target, the head of the loop they ran in (so a loop whose body
 * branches counts all its work at its head, where its region starts),
 * then stops the run at the new target once its count passed the
 * threshold.  interp_run passes no tier; the
 * test of the tier pointer is the only cost it adds, once per taken jump.
 *
 * Noting (vm_runner.notes, vm.h): a noting run notes every access of
 * shared memory with the bytes found there.  It is the same loop with a
 * second dispatch table (computed goto) or its handler numbers offset by
 * H_NOTING (switch), so that a plain run pays nothing for it.  The
 * generic handlers and the specialised ones through a pointer have a
 * noting version each (the same text, instantiated with m = 1: every
 * access goes through note(), whose inline test passes private PR
 * addresses, the common case, for one compare or two); the other
 * specialised handlers run unchanged, as a plain run's, when their
 * static addresses -- direct operands and the pointer words of the
 * pointer handlers -- are private PR.  Those are known when the handler is
 * chosen: interp_select marks a handler whose static addresses are not
 * with H_LOUD, which a plain run ignores and a noting run dispatches to
 * the generic handler of the opcode.  Own-stack addresses are known only
 * at run time: the generic handlers and vm_note_access pass them.
 */
#include "exec/vm.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the interpreter stores DISA's little-endian words natively"
#endif

#define LIKELY(x)   __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Specialised shapes: 64-bit integer operations, float operations, and
 * compares (C's float compares are DISA's: ordered, with a NaN only :ne
 * holds). */
#define FAST_ALU(X) X(ADD, +) X(SUB, -) X(MUL, *) X(AND, &) X(OR, |) X(XOR, ^)
#define FAST_FALU(X) X(ADD, +) X(SUB, -) X(MUL, *) X(DIV, /)
#define FAST_CMP(X) X(E, ==) X(NE, !=) X(L, <) X(LE, <=) X(G, >) X(GE, >=)

/* The specialised handlers by name.  Operand forms, sources first and
 * the destination last where it is not a direct word: D direct, I
 * immediate, P through a pointer (indirect or displacement).
 *
 *   ADD.._DD _DI _ID       64-bit integer operations into a direct word
 *   ADD.._DP _PD _PI _PP   the same, a source or both through a pointer
 *   ADD.._DDP _DIP _PDP _PIP   stored through a pointer (a[i] = x + y,
 *                          a[i] += y)
 *   FADD.._DD _DI _ID _DP _PD   the same of :f operands
 *   DIVU2 REMU2 DIVS2 REMS2_DI  div, div:r of a word by an immediate
 *                          power of two: a shift or a mask (c0's >>, %)
 *   DIVS REMS DIVU REMU_DD _DI  by a word or any other immediate: a
 *                          divide, with the generic fault and INT64_MIN / -1
 *   MOV_D MOV_I            a word or an immediate to a direct word
 *   MOV_P MOV_DP MOV_IP    a pointer's target to a direct word, a direct
 *                          word or an immediate to a pointer's target
 *   MOV_P8S MOV_P8U        a byte through a pointer, sign- or
 *                          zero-extended, to a direct word
 *   MOV_IP8 MOV_DP8        an immediate's or a word's low byte through a
 *                          pointer (c0's char arrays)
 *   MOV_I8 MOV_D8          an immediate's or a byte's low byte to a
 *                          direct byte (c0's booleans)
 *   BRS BRU BRF_c_DD _DI   signed, unsigned, float compares
 *   BRS BRU_c_PD _PI _DP   64-bit compares, a source through a pointer
 *   BRS8 BRU8_c_PI _DI     a byte through a pointer or direct against an
 *                          immediate
 *   BRJ                    br:j to a known target
 *   BRJ_P                  br:j through a link word in the private PR
 *                          (c0's returns)
 *   BL_D                   bl to a known target, linking into a direct
 *                          word (c0's calls)
 *
 * The list names each through FH_S (its operands direct or immediate: a
 * noting run runs it as a plain one does) or FH_P (an operand through a
 * pointer: a noting run has its own version), defined where the list is
 * used. */
#define FH_ALU(name, op) FH_S(name##_DD) FH_S(name##_DI) FH_S(name##_ID)
#define FH_FALU(name, op) FH_S(F##name##_DD) FH_S(F##name##_DI)           \
                          FH_S(F##name##_ID) FH_P(F##name##_DP)           \
                          FH_P(F##name##_PD)
#define FH_CMP(c, op) FH_S(BRS_##c##_DD) FH_S(BRS_##c##_DI)               \
                      FH_S(BRU_##c##_DD) FH_S(BRU_##c##_DI)               \
                      FH_S(BRF_##c##_DD) FH_S(BRF_##c##_DI)
#define FH_ALU_P(name, op) FH_P(name##_DP) FH_P(name##_PD)                \
                           FH_P(name##_PI) FH_P(name##_PP)                \
                           FH_P(name##_DDP) FH_P(name##_DIP)              \
                           FH_P(name##_PDP) FH_P(name##_PIP)
#define FH_CMP_P(c, op) FH_P(BRS_##c##_PD) FH_P(BRS_##c##_PI)             \
                        FH_P(BRS_##c##_DP) FH_P(BRU_##c##_PD)             \
                        FH_P(BRU_##c##_PI) FH_P(BRU_##c##_DP)
#define FH_CMP8(c, op) FH_P(BRS8_##c##_PI) FH_P(BRU8_##c##_PI)             \
                       FH_S(BRS8_##c##_DI) FH_S(BRU8_##c##_DI)
#define FAST_HANDLERS                                                     \
    FAST_ALU(FH_ALU) FAST_FALU(FH_FALU)                                   \
    FAST_ALU(FH_ALU_P) FAST_CMP(FH_CMP_P) FH_S(BL_D) FH_S(BRJ_P)          \
    FH_P(MOV_P8S) FH_P(MOV_P8U) FH_P(MOV_IP8) FH_P(MOV_DP8)               \
    FH_S(DIVS_DD) FH_S(REMS_DD) FH_S(DIVU_DD) FH_S(REMU_DD)               \
    FH_S(DIVS_DI) FH_S(REMS_DI) FH_S(DIVU_DI) FH_S(REMU_DI)               \
    FH_S(MOV_I8) FH_S(MOV_D8)                                             \
    FAST_CMP(FH_CMP8)                                                     \
    FH_S(MOV_D) FH_S(MOV_I) FH_P(MOV_P) FH_P(MOV_DP) FH_P(MOV_IP)         \
    FH_S(DIVU2_DI) FH_S(REMU2_DI) FH_S(DIVS2_DI) FH_S(REMS2_DI)           \
    FAST_CMP(FH_CMP) FH_S(BRJ)

/* Handler numbers: the generic handler of every opcode (numbered as the
 * opcodes), then the specialised ones. */
enum interp_handler {
#define H_GEN(name, mn, shape, text) H_##name,
    ISA_OPCODES(H_GEN)
#undef H_GEN
#define FH_S(h) H_##h,
#define FH_P(h) H_##h,
    FAST_HANDLERS
#undef FH_S
#undef FH_P
    H_COUNT
};

/* vm_insn.xop is a handler number, with H_LOUD added to a specialised
 * one whose static addresses a noting run must note (interp_select).  A
 * switch dispatches a noting run's instructions on xop + H_NOTING. */
#define H_LOUD   256u
#define H_NOTING 512u
_Static_assert(H_COUNT <= H_LOUD, "handler numbers fit below H_LOUD");

/* ---- selection (at code_build time) ---------------------------------- */

/* The low w bytes of raw, sign- or zero-extended to 64 bits. */
static inline uint64_t widen(uint64_t raw, unsigned w, int sgn)
{
    unsigned sh = 64 - 8 * w;
    if (sh == 0)
        return raw;
    return sgn ? (uint64_t)((int64_t)(raw << sh) >> sh) : raw << sh >> sh;
}

/* True when o is a 64-bit integer operand (:q or :uq). */
static int is_int64(const isa_operand *o)
{
    return o->type == ISA_T_Q || o->type == ISA_T_UQ;
}

/* True when o is direct and 8 bytes at its address lie below 2^46. */
static int dir_ok(const isa_operand *o)
{
    return o->mode == ISA_M_DIR && o->value <= DISA_ADDR_LIMIT - 8;
}

/* Fast form of an 8-byte source or destination o of class f (1: :f, 0:
 * :q or :uq): 0 direct, 1 immediate, 2 through a pointer whose own
 * address is in range (the address it holds is checked as the handler
 * runs), -1 none of these or of the other class. */
static int word_form(const isa_operand *o, int f)
{
    if (f ? o->type != ISA_T_F : !is_int64(o))
        return -1;
    if (o->mode == ISA_M_IMM)
        return 1;
    if (o->value > DISA_ADDR_LIMIT - 8)
        return -1;
    return o->mode == ISA_M_DIR ? 0 : 2;
}

/* Handler for add, sub, mul, div of :f sources into a direct :f
 * destination, or the generic one. */
static uint16_t select_falu(const vm_insn *in)
{
    static const uint8_t form[3][3] = {     /* [a][b]: offset, 9: none */
        { 0, 1, 3 }, { 2, 9, 9 }, { 4, 9, 9 } };
    int a = word_form(&in->o[0], 1), b = word_form(&in->o[1], 1);
    if (a < 0 || b < 0 || form[a][b] == 9 ||
        (in->op == ISA_OP_DIV && in->opt == ISA_OPT_R))
        return in->op;
    switch (in->op) {
#define SEL_FALU(name, op) \
    case ISA_OP_##name: return (uint16_t)(H_F##name##_DD + form[a][b]);
    FAST_FALU(SEL_FALU)
#undef SEL_FALU
    }
    return in->op;
}

/* Handler for mov of 8 bytes to 8 bytes of the same class (integer or
 * float: the same bits, whatever mov's option) from a direct word, an
 * immediate or a pointer's target to a direct word, or from a direct
 * word or an immediate to a pointer's target; or the generic one. */
static uint16_t select_mov(const vm_insn *in)
{
    int f = in->o[1].type == ISA_T_F;
    int a = word_form(&in->o[0], f), d = word_form(&in->o[1], f);
    if (a < 0 || d < 0 || d == 1)
        return in->op;
    if (d == 0)
        return (uint16_t)(a == 0 ? H_MOV_D : a == 1 ? H_MOV_I : H_MOV_P);
    return a == 2 ? in->op : (uint16_t)(a == 0 ? H_MOV_DP : H_MOV_IP);
}

/* Handler for div or div:r of the direct 64-bit word in->o[0] by a direct
 * word (b 0) or an immediate (b 1) in->o[1] into a direct 64-bit word:
 * by a word, the divide handlers.  An immediate divisor that is a
 * power of two as the first source's signedness reads it (not a signed
 * 2^63, INT64_MIN) has a shift or a mask, which need no check of zero;
 * any other divisor the handlers that divide, as int_div does. */
static uint16_t select_div(const vm_insn *in, int b)
{
    uint64_t y = in->o[1].value;
    int sgn = in->o[0].type == ISA_T_Q, rem = in->opt == ISA_OPT_R;
    assert(word_form(&in->o[0], 0) == 0 && (b == 0 || b == 1));
    _Static_assert(H_REMU_DI == H_DIVS_DD + 7, "divide handlers in a row");
    if (b == 0)                 /* by a word */
        return (uint16_t)(H_DIVS_DD + 2 * !sgn + rem);
    if (y == 0 || (y & (y - 1)) || (sgn && y >> 63))
        return (uint16_t)(H_DIVS_DI + 2 * !sgn + rem);
    if (rem)
        return sgn ? H_REMS2_DI : H_REMU2_DI;
    return sgn ? H_DIVS2_DI : H_DIVU2_DI;
}

/* The k-th of the eight pointer forms of in's integer operation, in
 * FH_ALU_P's order (_DP _PD _PI _PP _DDP _DIP _PDP _PIP), or the generic
 * handler (div has none). */
static uint16_t alu_ptr_form(const vm_insn *in, int k)
{
    switch (in->op) {
#define SEL_ALU_P(name, op) \
    case ISA_OP_##name: return (uint16_t)(H_##name##_DP + k);
    FAST_ALU(SEL_ALU_P)
#undef SEL_ALU_P
    }
    return in->op;
}

/* Handler for an integer add, sub, mul, and, or, xor of 64-bit words
 * into a direct one, a source through a pointer (form a, b: word_form's,
 * one of them 2), or the generic one. */
static uint16_t select_alu_ptr(const vm_insn *in, int a, int b)
{
    if (a == 1)                 /* immediate, pointer: rare */
        return in->op;
    return alu_ptr_form(in, a == 0 ? 0 : b == 0 ? 1 : b == 1 ? 2 : 3);
}

/* True when o is a byte (:b or :ub) through a pointer whose own address
 * is in range. */
static int byte_ptr(const isa_operand *o)
{
    return (o->type == ISA_T_B || o->type == ISA_T_UB) &&
           (o->mode == ISA_M_IND || o->mode == ISA_M_DISP) &&
           o->value <= DISA_ADDR_LIMIT - 8;
}

/* True when o is a direct byte (:b or :ub) at most at 2^46 - 8, the
 * bound every specialised handler's static address keeps (loud). */
static int byte_dir(const isa_operand *o)
{
    return (o->type == ISA_T_B || o->type == ISA_T_UB) &&
           o->mode == ISA_M_DIR && o->value <= DISA_ADDR_LIMIT - 8;
}

/* Handler for mov of a byte through a pointer to a direct 64-bit
 * integer word, or of an integer immediate or a direct 64-bit integer
 * word's low byte to a byte through a pointer; 0 if none (the low byte
 * of a source is the same however mov extends it). */
static uint16_t select_mov8(const vm_insn *in)
{
    const isa_operand *a = &in->o[0], *d = &in->o[1];
    if (byte_dir(d)) {
        if (a->mode == ISA_M_IMM && !isa_type_float[a->type])
            return H_MOV_I8;
        return byte_dir(a) ? H_MOV_D8 : 0;
    }
    if (byte_ptr(a) && is_int64(d) && dir_ok(d)) {
        int sgn = in->opt == ISA_OPT_S ||
                  (in->opt != ISA_OPT_Z && a->type == ISA_T_B);
        return sgn ? H_MOV_P8S : H_MOV_P8U;
    }
    if (!byte_ptr(d))
        return 0;
    if (a->mode == ISA_M_IMM && !isa_type_float[a->type])
        return H_MOV_IP8;
    return is_int64(a) && dir_ok(a) ? H_MOV_DP8 : 0;
}

/* Handler for an integer add, sub, mul, and, or, xor of 64-bit words
 * stored through a pointer d: the first source direct or through a
 * pointer, the second direct or immediate; or the generic one. */
static uint16_t select_alu_pdst(const vm_insn *in)
{
    int a = word_form(&in->o[0], 0), b = word_form(&in->o[1], 0);
    if (a < 0 || a == 1 || b < 0 || b == 2)
        return in->op;
    return alu_ptr_form(in, 4 + (a == 2) * 2 + b);  /* DDP DIP PDP PIP */
}

/* Handler for mov and the bitwise/arithmetic ops (next exists). */
static uint16_t select_alu(const vm_insn *in)
{
    const isa_operand *d = &in->o[in->nops - 1];
    uint16_t h8;
    if (in->op == ISA_OP_MOV && (h8 = select_mov8(in)))
        return h8;
    if (in->op == ISA_OP_MOV)
        return select_mov(in);
    if (d->type == ISA_T_F && dir_ok(d))
        return select_falu(in);
    if (word_form(d, 0) == 2)
        return select_alu_pdst(in);
    if (!is_int64(d) || !dir_ok(d))
        return in->op;
    int a = word_form(&in->o[0], 0), b = word_form(&in->o[1], 0);
    if (a < 0 || b < 0 || (a == 1 && b == 1))
        return in->op;
    if (a == 2 || b == 2)
        return in->op == ISA_OP_DIV ? in->op : select_alu_ptr(in, a, b);
    switch (in->op) {
#define SEL_ALU(name, op) \
    case ISA_OP_##name: return (uint16_t)(H_##name##_DD + (b ? 1 : a ? 2 : 0));
    FAST_ALU(SEL_ALU)
#undef SEL_ALU
    }
    assert(in->op == ISA_OP_DIV);
    return a == 0 ? select_div(in, b) : in->op;
}

/* True when o is an integer immediate that reads as its own 64-bit
 * pattern (its truncation to its type's width and extension give it
 * back: $0:b, $-1:b, any :q or :uq). */
static int imm_as_is(const isa_operand *o)
{
    return o->mode == ISA_M_IMM && !isa_type_float[o->type] &&
           widen(o->value, isa_type_bytes[o->type],
                 isa_type_signed[o->type]) == o->value;
}

/* Handler for br (conditional: next and target must exist). */
static uint16_t select_br(const vm_insn *in)
{
    const isa_operand *j = &in->o[0];
    if (in->opt == ISA_OPT_J && j->mode != ISA_M_DIR &&
        j->value <= DISA_ADDR_LIMIT - 8 && vm_unnoted_pr(j->value, 8))
        return H_BRJ_P;         /* a return through a private link word */
    if (in->target == VM_NO_INSN)
        return in->op;
    if (in->opt == ISA_OPT_J)
        return H_BRJ;
    int fa = word_form(&in->o[0], 1), fb = word_form(&in->o[1], 1);
    if (in->next != VM_NO_INSN && fa == 0 && (fb == 0 || fb == 1)) {
        switch (in->opt) {
#define SEL_FCMP(c, op) \
        case ISA_OPT_##c: return (uint16_t)(H_BRF_##c##_DD + fb);
        FAST_CMP(SEL_FCMP)
#undef SEL_FCMP
        }
    }
    if (in->next != VM_NO_INSN && imm_as_is(&in->o[1]) &&
        (byte_ptr(&in->o[0]) || byte_dir(&in->o[0]))) {
        /* BRS8_PI, BRU8_PI, BRS8_DI, BRU8_DI in a row */
        int k = (in->o[0].type == ISA_T_UB) + 2 * byte_dir(&in->o[0]);
        switch (in->opt) {
#define SEL_CMP8(c, op) \
        case ISA_OPT_##c: return (uint16_t)(H_BRS8_##c##_PI + k);
        FAST_CMP(SEL_CMP8)
#undef SEL_CMP8
        }
    }
    int a = word_form(&in->o[0], 0), b = word_form(&in->o[1], 0);
    if (in->next == VM_NO_INSN || a < 0 || b < 0 || a == 1 ||
        (a == 2 && b == 2))
        return in->op;
    int u = in->o[0].type == ISA_T_UQ;
    if (a == 0 && b != 2) {
        switch (in->opt) {
#define SEL_CMP(c, op) \
        case ISA_OPT_##c: return (uint16_t)(H_BRS_##c##_DD + 2 * u + b);
        FAST_CMP(SEL_CMP)
#undef SEL_CMP
        }
        return in->op;
    }
    int k = a == 0 ? 2 : b;     /* PD PI DP */
    switch (in->opt) {
#define SEL_CMP_P(c, op) \
    case ISA_OPT_##c: return (uint16_t)(H_BRS_##c##_PD + 3 * u + k);
    FAST_CMP(SEL_CMP_P)
#undef SEL_CMP_P
    }
    return in->op;
}

/* The handler for in: a specialised one where the operands allow it,
 * else the generic one. */
static uint16_t select_handler(const vm_insn *in)
{
    if (in->op == ISA_OP_BR)
        return select_br(in);
    if (in->op == ISA_OP_BL)    /* a call: known target, direct link */
        return in->target != VM_NO_INSN && dir_ok(&in->o[1]) ? H_BL_D
                                                            : in->op;
    if (in->next == VM_NO_INSN)
        return in->op;
    switch (in->op) {
    case ISA_OP_MOV: case ISA_OP_ADD: case ISA_OP_SUB: case ISA_OP_MUL:
    case ISA_OP_AND: case ISA_OP_OR: case ISA_OP_XOR: case ISA_OP_DIV:
        return select_alu(in);
    default:
        return in->op;
    }
}

/* True when in, run by a specialised handler, reads or writes a word at
 * a static address that a noting run notes: a direct operand, or the
 * pointer word of an indirect or displacement one (a jump operand is
 * not read; the handler chosen proved every such address below
 * 2^46 - 8). */
static int loud(const vm_insn *in)
{
    int n = in->op != ISA_OP_BR ? in->nops : in->opt == ISA_OPT_J ? 0 : 2;
    for (int k = in->op == ISA_OP_BL; k < n; k++) {    /* bl: its link */
        const isa_operand *o = &in->o[k];
        assert(o->mode == ISA_M_IMM || o->value <= DISA_ADDR_LIMIT - 8);
        if (o->mode != ISA_M_IMM && !vm_unnoted_pr(o->value, 8))
            return 1;
    }
    return 0;
}

uint16_t interp_select(const vm_insn *in)
{
    assert(in && in->op < ISA_OP_COUNT);
    uint16_t h = select_handler(in);
    return h != in->op && loud(in) ? (uint16_t)(h | H_LOUD) : h;
}

/* A generic handler decodes its operands' modes and types as it runs:
 * measured on this machine's interpreter, 20 M iterations of three adds
 * and a counted branch took 0.19 s with direct :q operands (specialised
 * handlers, ~2 ns each), 0.90 s through a pointer and 1.16 s as :f
 * (generic then, 14-18 ns): about eight times the cost. */
#define INTERP_GENERIC_COST 8

/* A specialised divide (not a shift or a mask) waits for the hardware
 * divider, tens of cycles: several simple handlers' time, so that a loop
 * of divisions reaches the tiering's threshold after as much interpreting
 * time as any other. */
#define INTERP_DIVIDE_COST 4

uint32_t interp_cost(const vm_insn *in)
{
    assert(in && in->op < ISA_OP_COUNT);
    unsigned h = in->xop & ~H_LOUD;
    if (h == in->op)
        return INTERP_GENERIC_COST;
    return h >= H_DIVS_DD && h <= H_REMU_DI ? INTERP_DIVIDE_COST : 1;
}

/* ---- memory and values ------------------------------------------------ */

static inline uint64_t ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline void st64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* Loads w (1, 2, 4 or 8) bytes at p, zero-extended. */
static inline uint64_t ld(const uint8_t *p, unsigned w)
{
    uint8_t v8; uint16_t v16; uint32_t v32;
    switch (w) {
    case 1: memcpy(&v8, p, 1); return v8;
    case 2: memcpy(&v16, p, 2); return v16;
    case 4: memcpy(&v32, p, 4); return v32;
    default: assert(w == 8); return ld64(p);
    }
}

/* Stores the low w (1, 2, 4 or 8) bytes of v at p. */
static inline void st(uint8_t *p, unsigned w, uint64_t v)
{
    uint8_t v8 = (uint8_t)v; uint16_t v16 = (uint16_t)v;
    uint32_t v32 = (uint32_t)v;
    switch (w) {
    case 1: memcpy(p, &v8, 1); break;
    case 2: memcpy(p, &v16, 2); break;
    case 4: memcpy(p, &v32, 4); break;
    default: assert(w == 8); st64(p, v); break;
    }
}

static inline double bits_f(uint64_t v)
{
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static inline uint64_t f_bits(double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    return v;
}

/* Float to integer: through int64, truncating; NaN or out of range gives
 * 0x8000000000000000. */
static inline uint64_t f2i(double d)
{
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return 0x8000000000000000ULL;
    return (uint64_t)(int64_t)d;
}

/* Records a as the offending address; returns a memory fault. */
static int bad_addr(vm_runner *r, uint64_t a)
{
    r->fault_addr = a;
    return VM_FAULT_MEMORY;
}

/* The helpers of the generic handlers take the run's mode, nt (1: a
 * noting run), as their last argument, always a constant: always inlined
 * into the loop, they give each mode its own copy of every handler, and
 * a plain run's copy tests no nt.  (Inlined so, with no calls left in them,
 * a plain run's generic handlers also got faster: from about 7 to 5 ns
 * measured here.) */
#define PER_MODE static inline __attribute__((always_inline))

/* In a noting run (nt), notes an access of w bytes at ea (in range) about
 * to happen, a store's with store: vm_note_access, past an inline test
 * of the common case (private PR, which it would pass). */
static inline void note(vm_runner *r, int nt, uint64_t ea, unsigned w,
                        int store)
{
    if (nt && !vm_unnoted_pr(ea, w))
        vm_note_access(r, ea, w, store);
}

/* Computes the effective address of memory operand o into *ea, checking an
 * access of w bytes there (w = 0: a jump target, not checked here); the
 * pointer word read noted when nt. */
PER_MODE int operand_ea(vm_runner *r, const isa_operand *o, unsigned w,
                        uint64_t *ea, int nt)
{
    assert(o->mode != ISA_M_IMM);
    uint64_t a = o->value;
    if (o->mode != ISA_M_DIR) {
        if (a > DISA_ADDR_LIMIT - 8)
            return bad_addr(r, a);
        note(r, nt, a, 8, 0);
        a = ld64(r->win + a) + (uint64_t)o->disp;
    }
    if (w && a > DISA_ADDR_LIMIT - w)
        return bad_addr(r, a);
    *ea = a;
    return VM_FAULT_NONE;
}

/* Reads source o (immediate or memory) widened per sgn into *v; its
 * reads noted when nt. */
PER_MODE int read_src(vm_runner *r, const isa_operand *o, int sgn,
                      uint64_t *v, int nt)
{
    unsigned w = isa_type_bytes[o->type];
    uint64_t raw = o->value, ea;
    if (o->mode != ISA_M_IMM) {
        int f = operand_ea(r, o, w, &ea, nt);
        if (f)
            return f;
        note(r, nt, ea, w, 0);
        raw = ld(r->win + ea, w);
    }
    *v = widen(raw, w, sgn);
    return VM_FAULT_NONE;
}

/* The value v of a source of type t and signedness sgn, as a double. */
static double to_double(uint64_t v, int t, int sgn)
{
    if (isa_type_float[t])
        return bits_f(v);
    return sgn ? (double)(int64_t)v : (double)v;
}

/* Stores the low w bytes of v at ea (in range), checking the write; the
 * bytes it overwrites noted when nt (the specialised stores through a
 * pointer use it too). */
PER_MODE int write_mem(vm_runner *r, uint64_t ea, unsigned w, uint64_t v,
                       int nt)
{
    if (ea + w > DISA_RB) {
        int f = vm_check_write(r, ea, w);
        if (f) {
            r->fault_addr = ea;
            return f;
        }
    }
    note(r, nt, ea, w, 1);
    vm_note_pr_write(r, ea, w);         /* for the RComp's PR reset */
    st(r->win + ea, w, v);
    return VM_FAULT_NONE;
}

/* Stores bits v (already of d's type) at destination d (noted when nt). */
PER_MODE int write_dst(vm_runner *r, const isa_operand *d, uint64_t v,
                       int nt)
{
    unsigned w = isa_type_bytes[d->type];
    uint64_t ea;
    int f = operand_ea(r, d, w, &ea, nt);
    return f ? f : write_mem(r, ea, w, v, nt);
}

/* Stores integer result v (signedness sgn) at d, converting to :f. */
PER_MODE int store_int(vm_runner *r, const isa_operand *d, uint64_t v,
                       int sgn, int nt)
{
    if (isa_type_float[d->type])
        v = f_bits(sgn ? (double)(int64_t)v : (double)v);
    return write_dst(r, d, v, nt);
}

/* Stores float result z at d, converting to an integer type. */
PER_MODE int store_float(vm_runner *r, const isa_operand *d, double z, int nt)
{
    return write_dst(r, d, isa_type_float[d->type] ? f_bits(z) : f2i(z), nt);
}

/* ---- generic operations ------------------------------------------------ */

/* True when in (mov or a 3-operand op) computes in the float domain. */
static int float_domain(const vm_insn *in)
{
    if (in->op == ISA_OP_AND || in->op == ISA_OP_OR || in->op == ISA_OP_XOR)
        return 0;
    return isa_type_float[in->o[0].type] ||
           (in->nops == 3 && isa_type_float[in->o[1].type]);
}

/* Integer division of x by y (signed per sgn): quotient or, with rem,
 * remainder into *res. */
static int int_div(vm_runner *r, uint64_t x, uint64_t y, int sgn, int rem,
                   uint64_t *res)
{
    if (y == 0) {
        r->fault_addr = 0;
        return VM_FAULT_ARITH;
    }
    if (!sgn)
        *res = rem ? x % y : x / y;
    else if ((int64_t)y == -1)  /* INT64_MIN / -1 wraps; remainder 0 */
        *res = rem ? 0 : 0 - x;
    else
        *res = rem ? (uint64_t)((int64_t)x % (int64_t)y)
                   : (uint64_t)((int64_t)x / (int64_t)y);
    return VM_FAULT_NONE;
}

/* Signed x / y and x % y for y = 2^k, k < 63: int_div's results (the
 * quotient rounds toward zero, the remainder takes the dividend's sign)
 * with a shift, biased by y - 1 for a negative dividend. */
static inline uint64_t sdiv_pow2(uint64_t x, uint64_t y)
{
    uint64_t bias = (uint64_t)((int64_t)x >> 63) & (y - 1);
    return (uint64_t)((int64_t)(x + bias) >> __builtin_ctzll(y));
}

static inline uint64_t srem_pow2(uint64_t x, uint64_t y)
{
    return x - (sdiv_pow2(x, y) << __builtin_ctzll(y));
}

/* The integer result of in on x, y (first source signedness sgn). */
static int int_op(vm_runner *r, const vm_insn *in, uint64_t x, uint64_t y,
                  int sgn, uint64_t *res)
{
    switch (in->op) {
    case ISA_OP_MOV: *res = x; break;
    case ISA_OP_ADD: *res = x + y; break;
    case ISA_OP_SUB: *res = x - y; break;
    case ISA_OP_MUL: *res = x * y; break;
    case ISA_OP_AND: *res = x & y; break;
    case ISA_OP_OR:  *res = x | y; break;
    case ISA_OP_XOR: *res = x ^ y; break;
    default:
        assert(in->op == ISA_OP_DIV);
        return int_div(r, x, y, sgn, in->opt == ISA_OPT_R, res);
    }
    return VM_FAULT_NONE;
}

/* The float result of in (mov, add, sub, mul, div) on p, q. */
static double float_op(const vm_insn *in, double p, double q)
{
    switch (in->op) {
    case ISA_OP_MOV: return p;
    case ISA_OP_ADD: return p + q;
    case ISA_OP_SUB: return p - q;
    case ISA_OP_MUL: return p * q;
    default:
        assert(in->op == ISA_OP_DIV);
        return in->opt == ISA_OPT_R ? fmod(p, q) : p / q;
    }
}

/* Executes mov, add, sub, mul, div, and, or, xor (noting when nt). */
PER_MODE int op_alu(vm_runner *r, const vm_insn *in, int nt)
{
    const isa_operand *a = &in->o[0], *b = &in->o[1];
    const isa_operand *d = &in->o[in->nops - 1];
    int sa = vm_src_signed(in, a), sb = vm_src_signed(in, b), f;
    uint64_t x, y = 0, res;
    if ((f = read_src(r, a, sa, &x, nt)) ||
        (in->nops == 3 && (f = read_src(r, b, sb, &y, nt))))
        return f;
    if (float_domain(in)) {
        double q = in->nops == 3 ? to_double(y, b->type, sb) : 0.0;
        return store_float(r, d, float_op(in, to_double(x, a->type, sa), q),
                           nt);
    }
    if ((f = int_op(r, in, x, y, sa, &res)))
        return f;
    return store_int(r, d, res, sa, nt);
}

/* Resolves jump operand o of in to an instruction index in *to (a
 * pointer word read noted when nt). */
PER_MODE int jump_to(vm_runner *r, const vm_insn *in, const isa_operand *o,
                     uint32_t *to, int nt)
{
    uint64_t a;
    if (o->mode == ISA_M_DIR && in->target != VM_NO_INSN) {
        *to = in->target;
        return VM_FAULT_NONE;
    }
    int f = operand_ea(r, o, 0, &a, nt);
    if (f)
        return f;
    uint32_t i = code_index(r->code, a);
    if (i == VM_NO_INSN) {
        r->fault_addr = a;
        return VM_FAULT_EXEC;
    }
    *to = i;
    return VM_FAULT_NONE;
}

/* The fall-through successor of in into *to, or an execution fault. */
static int fall_through(vm_runner *r, const vm_insn *in, uint32_t *to)
{
    if (in->next == VM_NO_INSN) {
        r->fault_addr = in->next_pc;
        return VM_FAULT_EXEC;
    }
    *to = in->next;
    return VM_FAULT_NONE;
}

/* Integer condition opt on x, y (signed per sgn). */
static int cond_int(int opt, uint64_t x, uint64_t y, int sgn)
{
    int lt = sgn ? (int64_t)x < (int64_t)y : x < y;
    switch (opt) {
    case ISA_OPT_E:  return x == y;
    case ISA_OPT_NE: return x != y;
    case ISA_OPT_L:  return lt;
    case ISA_OPT_LE: return lt || x == y;
    case ISA_OPT_G:  return !lt && x != y;
    default: assert(opt == ISA_OPT_GE); return !lt;
    }
}

/* Float condition opt on p, q: ordered (NaN: only :ne holds). */
static int cond_float(int opt, double p, double q)
{
    switch (opt) {
    case ISA_OPT_E:  return p == q;
    case ISA_OPT_NE: return p != q;
    case ISA_OPT_L:  return p < q;
    case ISA_OPT_LE: return p <= q;
    case ISA_OPT_G:  return p > q;
    default: assert(opt == ISA_OPT_GE); return p >= q;
    }
}

/* Executes br: the next instruction's index into *to (noting when nt). */
PER_MODE int op_br(vm_runner *r, const vm_insn *in, uint32_t *to, int nt)
{
    if (in->opt == ISA_OPT_J)
        return jump_to(r, in, &in->o[0], to, nt);
    const isa_operand *a = &in->o[0], *b = &in->o[1];
    int sa = isa_type_signed[a->type], sb = isa_type_signed[b->type], f, c;
    uint64_t x, y;
    if ((f = read_src(r, a, sa, &x, nt)) || (f = read_src(r, b, sb, &y, nt)))
        return f;
    if (isa_type_float[a->type] || isa_type_float[b->type])
        c = cond_float(in->opt, to_double(x, a->type, sa),
                       to_double(y, b->type, sb));
    else
        c = cond_int(in->opt, x, y, sa);
    return c ? jump_to(r, in, &in->o[2], to, nt) : fall_through(r, in, to);
}

/* Executes bl: target checked, then the link stored (noting when nt). */
PER_MODE int op_bl(vm_runner *r, const vm_insn *in, uint32_t *to, int nt)
{
    uint32_t t;
    uint64_t ea;
    int f;
    if ((f = jump_to(r, in, &in->o[0], &t, nt)) ||
        (f = operand_ea(r, &in->o[1], 8, &ea, nt)) ||
        (f = write_mem(r, ea, 8, in->next_pc, nt)))
        return f;
    *to = t;
    return VM_FAULT_NONE;
}

/* Executes newr: four 64-bit operand values, then vm_newr (noting when
 * nt; vm_newr notes its reads when r->notes is set). */
PER_MODE int op_newr(vm_runner *r, const vm_insn *in, int nt)
{
    uint64_t v[4], ea;
    for (int i = 0; i < 4; i++) {
        const isa_operand *o = &in->o[i];
        if (o->mode == ISA_M_IMM) {
            v[i] = o->value;
            continue;
        }
        int f = operand_ea(r, o, 8, &ea, nt);
        if (f)
            return f;
        note(r, nt, ea, 8, 0);
        v[i] = ld64(r->win + ea);
    }
    return vm_newr(r, v);
}

/* ---- the dispatch loop ------------------------------------------------- */

/* Handler labels.  CASE(h): handler h, run alike by plain and noting
 * runs; MCASE(m, h): the version of h for a plain (m 0) or a noting (m 1)
 * run.  Computed goto: labels L_h, and N_h for a noting run's own
 * versions, reached through a table per mode.  Switch: the case of h is
 * h, h + H_LOUD (which a plain run ignores) or h + H_NOTING; a noting
 * run's marked handlers, h + H_LOUD + H_NOTING, take the default. */
#ifdef DVM_COMPUTED_GOTO
#define CASE(h)     L_##h:
#define MCASE_0(h)  L_##h:
#define MCASE_1(h)  N_##h:
#define DISPATCH()  goto *labels[ip->xop]
#else
#define CASE(h)     case H_##h: case H_LOUD | H_##h: case H_NOTING | H_##h:
#define MCASE_0(h)  case H_##h: case H_LOUD | H_##h:
#define MCASE_1(h)  case H_NOTING | H_##h:
#define DISPATCH()  goto dispatch
#endif
#define MCASE(m, h) MCASE_##m(h)
/* Fall through to the successor (generic handlers: it may not exist). */
#define NEXT()                                                  \
    do {                                                        \
        if (UNLIKELY(ip->next == VM_NO_INSN))                   \
            goto falloff;                                       \
        ip = base + ip->next;                                   \
        DISPATCH();                                             \
    } while (0)
/* Specialised handlers: the successor is known to exist. */
#define FAST_NEXT() do { ip++; DISPATCH(); } while (0)
#define DIRV(k) ld64(win + ip->o[k].value)
#define IMMV(k) (ip->o[k].value)
#define STORE_DIR(k, v)                                                 \
    do {                                                                \
        uint64_t a_ = ip->o[k].value;                                   \
        if (UNLIKELY(a_ > DISA_RB - 8) &&                               \
            (f = vm_check_write(r, a_, 8)) != VM_FAULT_NONE) {          \
            r->fault_addr = a_;                                         \
            goto fault;                                                 \
        }                                                               \
        st64(win + a_, (v));                                            \
    } while (0)
/* Stores v's low byte at direct operand k (below the limit), checked as
 * STORE_DIR checks. */
#define STORE_DIR8(k, v)                                                \
    do {                                                                \
        uint64_t a_ = ip->o[k].value;                                   \
        if (UNLIKELY(a_ >= DISA_RB) &&                                  \
            (f = vm_check_write(r, a_, 1)) != VM_FAULT_NONE) {          \
            r->fault_addr = a_;                                         \
            goto fault;                                                 \
        }                                                               \
        win[a_] = (uint8_t)(v);                                         \
    } while (0)
/* div (rem 0) or div:r (rem 1), signed when sgn, of the direct word
 * operand 0 by y into direct operand 2: int_div's results and fault. */
#define DIV_CASE(y, sgn, rem)                                           \
    do {                                                                \
        uint64_t q_;                                                    \
        if (UNLIKELY((f = int_div(r, DIRV(0), (y), (sgn), (rem), &q_)))) \
            goto fault;                                                 \
        STORE_DIR(2, q_);                                               \
        FAST_NEXT();                                                    \
    } while (0)
#define FV(v) bits_f(v)
/* The address pointer operand k holds (+ its disp) into e, for an 8-byte
 * access; one out of range takes the generic handler of mode m, which
 * faults as it should (nothing has been written yet, and reads have no
 * effect). */
#define PTR_EA_OR(k, e, out)                                            \
    do {                                                                \
        (e) = ld64(win + ip->o[k].value) + (uint64_t)ip->o[k].disp;     \
        if (UNLIKELY((e) > DISA_ADDR_LIMIT - 8))                        \
            goto out;                                                   \
    } while (0)
#define PTR_EA(k, e, m) PTR_EA_OR(k, e, generic_alu_##m)
/* The 8 bytes at pointer operand k's target into v (noted in mode 1);
 * out of range, to label out. */
#define PTRV_OR(k, v, m, out)                                           \
    do {                                                                \
        uint64_t p_;                                                    \
        PTR_EA_OR(k, p_, out);                                          \
        note(r, m, p_, 8, 0);                                           \
        (v) = ld64(win + p_);                                           \
    } while (0)
#define PTRV(k, v, m) PTRV_OR(k, v, m, generic_alu_##m)
/* Stores v's low w bytes (8 or 1) at pointer operand k's target, checked
 * and noted by write_mem as a generic store is. */
#define STORE_PTR_W(k, v, w, m)                                         \
    do {                                                                \
        uint64_t e_;                                                    \
        PTR_EA(k, e_, m);                                               \
        if ((f = write_mem(r, e_, (w), (v), m)) != VM_FAULT_NONE)       \
            goto fault;                                                 \
    } while (0)
#define STORE_PTR(k, v, m) STORE_PTR_W(k, v, 8, m)
#define FALU_CASES(name, op)                                            \
    CASE(F##name##_DD) {                                                \
        STORE_DIR(2, f_bits(FV(DIRV(0)) op FV(DIRV(1)))); FAST_NEXT(); }\
    CASE(F##name##_DI) {                                                \
        STORE_DIR(2, f_bits(FV(DIRV(0)) op FV(IMMV(1)))); FAST_NEXT(); }\
    CASE(F##name##_ID) {                                                \
        STORE_DIR(2, f_bits(FV(IMMV(0)) op FV(DIRV(1)))); FAST_NEXT(); }
#define ALU_CASES(name, op)                                             \
    CASE(name##_DD) { STORE_DIR(2, DIRV(0) op DIRV(1)); FAST_NEXT(); }  \
    CASE(name##_DI) { STORE_DIR(2, DIRV(0) op IMMV(1)); FAST_NEXT(); }  \
    CASE(name##_ID) { STORE_DIR(2, IMMV(0) op DIRV(1)); FAST_NEXT(); }
/* The handlers through a pointer, in mode m. */
#define FALU_PTR_CASES(m, name, op)                                     \
    MCASE(m, F##name##_DP) {                                            \
        uint64_t y_;                                                    \
        PTRV(1, y_, m);                                                 \
        STORE_DIR(2, f_bits(FV(DIRV(0)) op FV(y_))); FAST_NEXT(); }     \
    MCASE(m, F##name##_PD) {                                            \
        uint64_t x_;                                                    \
        PTRV(0, x_, m);                                                 \
        STORE_DIR(2, f_bits(FV(x_) op FV(DIRV(1)))); FAST_NEXT(); }
#define FALU_PTR_CASES_0(name, op) FALU_PTR_CASES(0, name, op)
#define FALU_PTR_CASES_1(name, op) FALU_PTR_CASES(1, name, op)
/* Integer operations with a source through a pointer, in mode m
 * (sources read left to right, as the generic handler does). */
#define ALU_PTR_CASES(m, name, op)                                      \
    MCASE(m, name##_DP) {                                               \
        uint64_t y_;                                                    \
        PTRV(1, y_, m);                                                 \
        STORE_DIR(2, DIRV(0) op y_); FAST_NEXT(); }                     \
    MCASE(m, name##_PD) {                                               \
        uint64_t x_;                                                    \
        PTRV(0, x_, m);                                                 \
        STORE_DIR(2, x_ op DIRV(1)); FAST_NEXT(); }                     \
    MCASE(m, name##_PI) {                                               \
        uint64_t x_;                                                    \
        PTRV(0, x_, m);                                                 \
        STORE_DIR(2, x_ op IMMV(1)); FAST_NEXT(); }                     \
    MCASE(m, name##_PP) {                                               \
        uint64_t x_, y_;                                                \
        PTRV(0, x_, m);                                                 \
        PTRV(1, y_, m);                                                 \
        STORE_DIR(2, x_ op y_); FAST_NEXT(); }                          \
    MCASE(m, name##_DDP) {                                              \
        STORE_PTR(2, DIRV(0) op DIRV(1), m); FAST_NEXT(); }             \
    MCASE(m, name##_DIP) {                                              \
        STORE_PTR(2, DIRV(0) op IMMV(1), m); FAST_NEXT(); }             \
    MCASE(m, name##_PDP) {                                              \
        uint64_t x_;                                                    \
        PTRV(0, x_, m);                                                 \
        STORE_PTR(2, x_ op DIRV(1), m); FAST_NEXT(); }                  \
    MCASE(m, name##_PIP) {                                              \
        uint64_t x_;                                                    \
        PTRV(0, x_, m);                                                 \
        STORE_PTR(2, x_ op IMMV(1), m); FAST_NEXT(); }
#define ALU_PTR_CASES_0(name, op) ALU_PTR_CASES(0, name, op)
#define ALU_PTR_CASES_1(name, op) ALU_PTR_CASES(1, name, op)
/* Integer compares with a source through a pointer, in mode m. */
#define CMP_PTR_CASES(m, c, op)                                         \
    MCASE(m, BRS_##c##_PD) {                                            \
        uint64_t x_;                                                    \
        PTRV_OR(0, x_, m, generic_br_##m);                              \
        BR_TO((int64_t)x_ op (int64_t)DIRV(1)); }                       \
    MCASE(m, BRS_##c##_PI) {                                            \
        uint64_t x_;                                                    \
        PTRV_OR(0, x_, m, generic_br_##m);                              \
        BR_TO((int64_t)x_ op (int64_t)IMMV(1)); }                       \
    MCASE(m, BRS_##c##_DP) {                                            \
        uint64_t y_;                                                    \
        PTRV_OR(1, y_, m, generic_br_##m);                              \
        BR_TO((int64_t)DIRV(0) op (int64_t)y_); }                       \
    MCASE(m, BRU_##c##_PD) {                                            \
        uint64_t x_;                                                    \
        PTRV_OR(0, x_, m, generic_br_##m);                              \
        BR_TO(x_ op DIRV(1)); }                                         \
    MCASE(m, BRU_##c##_PI) {                                            \
        uint64_t x_;                                                    \
        PTRV_OR(0, x_, m, generic_br_##m);                              \
        BR_TO(x_ op IMMV(1)); }                                         \
    MCASE(m, BRU_##c##_DP) {                                            \
        uint64_t y_;                                                    \
        PTRV_OR(1, y_, m, generic_br_##m);                              \
        BR_TO(DIRV(0) op y_); }
/* A byte through pointer operand k into v, sign-extended when s (noted
 * in mode 1); out of range, to label out. */
#define PTRB_OR(k, v, s, m, out)                                        \
    do {                                                                \
        uint64_t p_;                                                    \
        PTR_EA_OR(k, p_, out);                                          \
        note(r, m, p_, 1, 0);                                           \
        (v) = (s) ? (uint64_t)(int64_t)(int8_t)win[p_] : win[p_];       \
    } while (0)
/* Compares of a byte through a pointer with an immediate, in mode m. */
#define CMP8_CASES(m, c, op)                                            \
    MCASE(m, BRS8_##c##_PI) {                                           \
        uint64_t x_;                                                    \
        PTRB_OR(0, x_, 1, m, generic_br_##m);                           \
        BR_TO((int64_t)x_ op (int64_t)IMMV(1)); }                       \
    MCASE(m, BRU8_##c##_PI) {                                           \
        uint64_t x_;                                                    \
        PTRB_OR(0, x_, 0, m, generic_br_##m);                           \
        BR_TO(x_ op IMMV(1)); }
/* Compares of a direct byte with an immediate. */
#define CMP8_DIR_CASES(c, op)                                           \
    CASE(BRS8_##c##_DI) {                                               \
        BR_TO((int64_t)(int8_t)win[ip->o[0].value] op (int64_t)IMMV(1)); } \
    CASE(BRU8_##c##_DI) { BR_TO((uint64_t)win[ip->o[0].value] op IMMV(1)); }
#define CMP8_CASES_0(c, op) CMP8_CASES(0, c, op)
#define CMP8_CASES_1(c, op) CMP8_CASES(1, c, op)
#define STORE_PTR8(k, v, m) STORE_PTR_W(k, v, 1, m)
#define CMP_PTR_CASES_0(c, op) CMP_PTR_CASES(0, c, op)
#define CMP_PTR_CASES_1(c, op) CMP_PTR_CASES(1, c, op)
#define PTR_CASES(m)                                                    \
    FAST_FALU(FALU_PTR_CASES_##m)                                       \
    FAST_ALU(ALU_PTR_CASES_##m)                                         \
    FAST_CMP(CMP_PTR_CASES_##m)                                         \
    FAST_CMP(CMP8_CASES_##m)                                            \
    MCASE(m, MOV_P8S) {                                                 \
        uint64_t x_;                                                    \
        PTRB_OR(0, x_, 1, m, generic_alu_##m);                          \
        STORE_DIR(1, x_); FAST_NEXT(); }                                \
    MCASE(m, MOV_P8U) {                                                 \
        uint64_t x_;                                                    \
        PTRB_OR(0, x_, 0, m, generic_alu_##m);                          \
        STORE_DIR(1, x_); FAST_NEXT(); }                                \
    MCASE(m, MOV_IP8) { STORE_PTR8(1, IMMV(0), m); FAST_NEXT(); }       \
    MCASE(m, MOV_DP8) { STORE_PTR8(1, DIRV(0), m); FAST_NEXT(); }       \
    MCASE(m, MOV_P) {                                                   \
        uint64_t x_;                                                    \
        PTRV(0, x_, m);                                                 \
        STORE_DIR(1, x_);                                               \
        FAST_NEXT();                                                    \
    }                                                                   \
    MCASE(m, MOV_DP) { STORE_PTR(1, DIRV(0), m); FAST_NEXT(); }         \
    MCASE(m, MOV_IP) { STORE_PTR(1, IMMV(0), m); FAST_NEXT(); }
/* Tiering at a taken jump to insn t: credits the straight run of insns
 * from `last` (the previous jump target) to this one to last's count, or
 * to t's when the jump goes back (t heads a loop this run belongs to),
 * and stops at t when t's count passed the threshold. */
#define TIER(t)                                                         \
    do {                                                                \
        if (UNLIKELY(tier != NULL)) {                                   \
            uint32_t t_ = (t), h_ = (uint32_t)(ip - base);              \
            uint32_t n_ = tier->cost[h_ + 1] - tier->cost[last];        \
            if (tier_credit(tier, t_ <= h_ ? t_ : last, n_, t_)) {      \
                *at = t_;                                               \
                return VM_EXIT_HOT;                                     \
            }                                                           \
            last = t_;                                                  \
        }                                                               \
    } while (0)
#define BR_TO(c)                                                        \
    do {                                                                \
        if (c) {                                                        \
            TIER(ip->target);                                           \
            ip = base + ip->target;                                     \
        } else {                                                        \
            ip++;                                                       \
        }                                                               \
        DISPATCH();                                                     \
    } while (0)
#define CMP_CASES(c, op)                                                \
    CASE(BRS_##c##_DD) { BR_TO((int64_t)DIRV(0) op (int64_t)DIRV(1)); } \
    CASE(BRS_##c##_DI) { BR_TO((int64_t)DIRV(0) op (int64_t)IMMV(1)); } \
    CASE(BRU_##c##_DD) { BR_TO(DIRV(0) op DIRV(1)); }                   \
    CASE(BRU_##c##_DI) { BR_TO(DIRV(0) op IMMV(1)); }                   \
    CASE(BRF_##c##_DD) { BR_TO(FV(DIRV(0)) op FV(DIRV(1))); }           \
    CASE(BRF_##c##_DI) { BR_TO(FV(DIRV(0)) op FV(IMMV(1))); }
/* The generic handlers, in mode m. */
#define GENERIC_CASES(m)                                                \
    MCASE(m, MOV) MCASE(m, ADD) MCASE(m, SUB) MCASE(m, MUL)             \
    MCASE(m, DIV) MCASE(m, AND) MCASE(m, OR) MCASE(m, XOR) {            \
generic_alu_##m:                /* also a specialised one's way out */  \
        if ((f = op_alu(r, ip, m)))                                     \
            goto fault;                                                 \
        NEXT();                                                         \
    }                                                                   \
    MCASE(m, BR) {                                                      \
generic_br_##m:                 /* also a specialised one's way out */  \
        if ((f = op_br(r, ip, &to, m)))                                 \
            goto fault;                                                 \
        if (to != ip->next)                                             \
            TIER(to);                                                   \
        ip = base + to;                                                 \
        DISPATCH();                                                     \
    }                                                                   \
    MCASE(m, BL) {                                                      \
        if ((f = op_bl(r, ip, &to, m)))                                 \
            goto fault;                                                 \
        TIER(to);                                                       \
        ip = base + to;                                                 \
        DISPATCH();                                                     \
    }                                                                   \
    MCASE(m, NEWR) {                                                    \
        if ((f = op_newr(r, ip, m)))                                    \
            goto fault;                                                 \
        NEXT();                                                         \
    }                                                                   \
    MCASE(m, EXIT) {                                                    \
        r->exit_pc = ip->pc;                                            \
        return ip->opt == ISA_OPT_A ? VM_EXIT_ABORT : VM_EXIT_COMMIT;   \
    }

/* Adds n to the count of insn from; true when the count of insn to
 * passed the threshold.  (Relaxed atomics: plain loads and stores, no
 * torn values; the count wraps, as unsigned.) */
static inline int tier_credit(const vm_tier *t, uint32_t from, uint32_t n,
                              uint32_t to)
{
    uint32_t c = (uint32_t)__atomic_load_n(&t->count[from], __ATOMIC_RELAXED);
    __atomic_store_n(&t->count[from], (int32_t)(c + n), __ATOMIC_RELAXED);
    return __atomic_load_n(&t->count[to], __ATOMIC_RELAXED) >
           __atomic_load_n(&t->hot, __ATOMIC_RELAXED);
}

/* The interpreter loop from insn i; tier (and at) may be NULL, and are
 * when r->notes is set (a noting run). */
static int run(vm_runner *r, uint32_t i, const vm_tier *tier, uint32_t *at)
{
    const vm_insn *const base = r->code->insns;
    uint8_t *const win = r->win;
    uint32_t to = 0, last = i;  /* last: the latest jump target (TIER) */
    int f = VM_FAULT_NONE;
    const vm_insn *ip = base + i;
    assert(!r->notes || !tier);
#ifdef DVM_COMPUTED_GOTO
    /* A plain run: H_LOUD ignored.  A noting run: its own versions of the
     * generic and pointer handlers, and a marked handler's way to the
     * generic one (n_loud). */
    static const void *const plain[2 * H_LOUD] = {
#define LBL_GEN(name, mn, shape, text) [H_##name] = &&L_##name,
        ISA_OPCODES(LBL_GEN)
#define FH_S(h) [H_##h] = &&L_##h, [H_LOUD | H_##h] = &&L_##h,
#define FH_P(h) FH_S(h)
        FAST_HANDLERS
#undef FH_S
#undef FH_P
#undef LBL_GEN
    };
    static const void *const noting[2 * H_LOUD] = {
#define LBL_GEN(name, mn, shape, text) [H_##name] = &&N_##name,
        ISA_OPCODES(LBL_GEN)
#define FH_S(h) [H_##h] = &&L_##h, [H_LOUD | H_##h] = &&n_loud,
#define FH_P(h) [H_##h] = &&N_##h, [H_LOUD | H_##h] = &&n_loud,
        FAST_HANDLERS
#undef FH_S
#undef FH_P
#undef LBL_GEN
    };
    const void *const *const labels = r->notes ? noting : plain;
    DISPATCH();
#else
    const unsigned mode = r->notes ? H_NOTING : 0;
    unsigned key;
dispatch:
    assert((ip->xop & ~H_LOUD) < H_COUNT);
    key = ip->xop | mode;
redispatch:
    switch (key) {
#endif
    GENERIC_CASES(0)
    GENERIC_CASES(1)
    FAST_ALU(ALU_CASES)
    FAST_FALU(FALU_CASES)
    PTR_CASES(0)
    PTR_CASES(1)
    CASE(MOV_D) { STORE_DIR(1, DIRV(0)); FAST_NEXT(); }
    CASE(MOV_I) { STORE_DIR(1, IMMV(0)); FAST_NEXT(); }
    CASE(MOV_I8) { STORE_DIR8(1, IMMV(0)); FAST_NEXT(); }
    CASE(MOV_D8) { STORE_DIR8(1, win[ip->o[0].value]); FAST_NEXT(); }
    FAST_CMP(CMP8_DIR_CASES)
    CASE(DIVS_DD) { DIV_CASE(DIRV(1), 1, 0); }
    CASE(REMS_DD) { DIV_CASE(DIRV(1), 1, 1); }
    CASE(DIVU_DD) { DIV_CASE(DIRV(1), 0, 0); }
    CASE(REMU_DD) { DIV_CASE(DIRV(1), 0, 1); }
    CASE(DIVS_DI) { DIV_CASE(IMMV(1), 1, 0); }
    CASE(REMS_DI) { DIV_CASE(IMMV(1), 1, 1); }
    CASE(DIVU_DI) { DIV_CASE(IMMV(1), 0, 0); }
    CASE(REMU_DI) { DIV_CASE(IMMV(1), 0, 1); }
    CASE(DIVU2_DI) {
        STORE_DIR(2, DIRV(0) >> __builtin_ctzll(IMMV(1))); FAST_NEXT(); }
    CASE(REMU2_DI) { STORE_DIR(2, DIRV(0) & (IMMV(1) - 1)); FAST_NEXT(); }
    CASE(DIVS2_DI) { STORE_DIR(2, sdiv_pow2(DIRV(0), IMMV(1))); FAST_NEXT(); }
    CASE(REMS2_DI) { STORE_DIR(2, srem_pow2(DIRV(0), IMMV(1))); FAST_NEXT(); }
    FAST_CMP(CMP_CASES)
    CASE(BRJ) {
        TIER(ip->target);
        ip = base + ip->target;
        DISPATCH();
    }
    CASE(BL_D) {                /* the target is known: the link store */
        STORE_DIR(1, ip->next_pc);
        TIER(ip->target);
        ip = base + ip->target;
        DISPATCH();
    }
    CASE(BRJ_P) {
        uint64_t a_ = ld64(win + ip->o[0].value) + (uint64_t)ip->o[0].disp;
        to = code_index(r->code, a_);
        if (UNLIKELY(to == VM_NO_INSN)) {
            r->fault_addr = a_;
            f = VM_FAULT_EXEC;
            goto fault;
        }
        TIER(to);
        ip = base + to;
        DISPATCH();
    }
#ifdef DVM_COMPUTED_GOTO
n_loud:                         /* noting: a marked handler's generic one */
    goto *labels[ip->op];
#else
    default:
        if ((key & (H_NOTING | H_LOUD)) == (H_NOTING | H_LOUD)) {
            key = H_NOTING | ip->op;    /* noting: a marked handler's */
            goto redispatch;            /* generic one */
        }
        assert(!"bad interpreter handler");
        f = VM_FAULT_EXEC;
        goto fault;
    }
#endif
falloff:
    return vm_raise(r, VM_FAULT_EXEC, ip->pc, ip->next_pc);
fault:
    return vm_raise(r, f, ip->pc, r->fault_addr);
}

int interp_run(vm_runner *r, uint64_t fi)
{
    assert(r && r->win && r->code);
    uint32_t i = code_index(r->code, fi);
    if (i == VM_NO_INSN)
        return vm_raise(r, VM_FAULT_EXEC, fi, fi);
    return run(r, i, NULL, NULL);
}

int interp_run_tier(vm_runner *r, uint32_t i, const vm_tier *t, uint32_t *at)
{
    assert(r && r->win && r->code && i < r->code->ninsns && t && t->count);
    assert(at && !r->notes);
    return run(r, i, t, at);
}
