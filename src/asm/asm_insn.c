/*
 * asm_insn.c -- instructions: `mnemonic[:option] operand, ...`.
 *
 * Everything about the instruction set comes from the isa tables: the
 * mnemonic, the option and its owner, the operand count and kinds, the type
 * suffixes.  An operand is parsed in one of the four modes of DISA.md 2.1
 * with an optional type suffix; then the operands are checked against their
 * kinds left to right, which is also where type propagation happens (an
 * operand without a suffix takes the type of the nearest typed operand to
 * its left, or :q; untyped kinds J/L/A neither take nor give a type and are
 * stored as :q).  Immediates are stored as the 64-bit pattern of their type:
 * integers truncated to the width and extended again by the type's
 * signedness, :f as IEEE-754 bits (an integer immediate converted by value).
 */
#include <assert.h>
#include <string.h>

#include "asm/asm_int.h"

typedef struct asm_opnd {
    isa_operand o;
    int typed;          /* a suffix was given */
    int isfloat;        /* an immediate written as a float literal */
    double f;
    int col;
} asm_opnd;

/* The IEEE-754 bits of d. */
static uint64_t double_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* Parses `[+|-]FLOAT` at the cursor if that is what is there; returns 1 and
 * sets *f when it did. */
static int float_literal(expr_cursor *cur, double *f)
{
    const lex_token *t = expr_peek(cur);
    int neg = 0;
    size_t k = cur->i;
    if (lex_is(t, '-') || lex_is(t, '+')) {
        neg = t->punct == '-';
        t = &cur->t[++k];
    }
    if (t->kind != TK_FLOAT)
        return 0;
    *f = neg ? -t->fval : t->fval;
    cur->i = k + 1;
    return 1;
}

/* Parses an optional type suffix `:t`. */
static dvm_status type_suffix(asm_ctx *c, expr_cursor *cur, asm_opnd *o)
{
    if (!lex_is(expr_peek(cur), ':'))
        return DVM_OK;
    cur->i++;
    const lex_token *t = expr_peek(cur);
    int ty = t->kind == TK_IDENT ? isa_type_lookup(t->text, t->len) : -1;
    if (ty < 0) {
        asm_error(c, t->col, "unknown type suffix ':%.*s'", (int)t->len,
                  t->text);
        return DVM_ESYNTAX;
    }
    cur->i++;
    o->typed = 1;
    o->o.type = (uint8_t)ty;
    return DVM_OK;
}

/* Parses `(E)` at the cursor (which is at '('); sets *v to E. */
static dvm_status paren_expr(asm_ctx *c, expr_cursor *cur, uint64_t *v)
{
    cur->i++;
    if (asm_expr(c, cur, v))
        return DVM_ESYNTAX;
    return asm_expect(c, cur, ')', "')'");
}

/* Parses one operand in any mode, with its suffix. */
static dvm_status parse_operand(asm_ctx *c, expr_cursor *cur, asm_opnd *o)
{
    uint64_t v = 0, d = 0;
    memset(o, 0, sizeof *o);
    o->col = expr_peek(cur)->col;
    if (lex_is(expr_peek(cur), '$')) {
        cur->i++;
        o->o.mode = ISA_M_IMM;
        o->isfloat = float_literal(cur, &o->f);
        if (!o->isfloat && asm_expr(c, cur, &v))
            return DVM_ESYNTAX;
    } else if (lex_is(expr_peek(cur), '(')) {
        o->o.mode = ISA_M_IND;
        if (paren_expr(c, cur, &v))
            return DVM_ESYNTAX;
    } else {
        if (asm_expr(c, cur, &d))
            return DVM_ESYNTAX;
        o->o.mode = ISA_M_DIR;
        v = d;
        if (lex_is(expr_peek(cur), '(')) {
            o->o.mode = ISA_M_DISP;
            o->o.disp = (int64_t)d;
            if (paren_expr(c, cur, &v))
                return DVM_ESYNTAX;
        }
    }
    o->o.value = v;
    return type_suffix(c, cur, o);
}

/* Parses the options after the mnemonic; sets *opt (ISA_OPT_NONE when
 * there is none) after checking that it belongs to op. */
static dvm_status parse_option(asm_ctx *c, expr_cursor *cur, int op,
                               int *opt)
{
    int found = ISA_OPT_NONE;
    while (lex_is(expr_peek(cur), ':')) {
        const lex_token *t = &cur->t[cur->i + 1];
        int o = t->kind == TK_IDENT ? isa_opt_lookup(t->text, t->len) : -1;
        if (o < 0) {
            asm_error(c, t->col, "unknown option ':%.*s'", (int)t->len,
                      t->text);
            return DVM_ESYNTAX;
        }
        if (isa_opt_owner[o] != op) {
            asm_error(c, t->col, "option ':%s' does not apply to '%s'",
                      isa_opt_name[o], isa_op_name[op]);
            return DVM_ESYNTAX;
        }
        if (found != ISA_OPT_NONE) {
            asm_error(c, t->col, "'%s' takes only one option",
                      isa_op_name[op]);
            return DVM_ESYNTAX;
        }
        found = o;
        cur->i += 2;
    }
    *opt = found;
    return DVM_OK;
}

/* Reports that br lacks its condition, listing the options from the table. */
static void missing_condition(asm_ctx *c, int col)
{
    char list[64] = "";
    for (int o = 0; o < ISA_OPT_COUNT; o++) {
        if (isa_opt_owner[o] == ISA_OP_BR && strlen(list) + 6 < sizeof list) {
            strcat(list, " :");
            strcat(list, isa_opt_name[o]);
        }
    }
    asm_error(c, col, "'br' needs a condition or :j (one of%s)", list);
}

/* Checks operand o of kind k and gives it its type; *cur_type is the type
 * propagated from the left. */
static dvm_status check_operand(asm_ctx *c, asm_opnd *o, char k,
                                int *cur_type)
{
    static const char *const what[] = {['M'] = "a destination",
                                       ['J'] = "a jump target",
                                       ['L'] = "a link destination"};
    if (k == 'D' || k == 'M') {
        if (!o->typed)
            o->o.type = (uint8_t)*cur_type;
        *cur_type = o->o.type;
    } else {
        o->o.type = ISA_T_Q;
    }
    if (o->o.mode != ISA_M_IMM)
        return DVM_OK;
    if (k != 'D' && k != 'A') {
        asm_error(c, o->col, "an immediate cannot be %s", what[(int)k]);
        return DVM_ESYNTAX;
    }
    if (o->isfloat && !isa_type_float[o->o.type]) {
        asm_error(c, o->col, "float literal on an operand of integer type "
                  ":%s", isa_type_name[o->o.type]);
        return DVM_ESYNTAX;
    }
    if (o->isfloat)
        o->o.value = double_bits(o->f);
    else if (isa_type_float[o->o.type])
        o->o.value = double_bits((double)(int64_t)o->o.value);
    else
        o->o.value = isa_imm_pattern(o->o.value, o->o.type);
    return DVM_OK;
}

/* Checks the rules that involve the whole instruction. */
static dvm_status check_insn(asm_ctx *c, const isa_insn *in, int col)
{
    int anyf = 0;
    for (int i = 0; i < in->nops; i++)
        anyf |= isa_type_float[in->ops[i].type];
    if (anyf && !isa_takes_float(in->op, in->opt)) {
        asm_error(c, col, "'%s%s' works on integers only (no :f operands)",
                  isa_op_name[in->op], in->op == ISA_OP_DIV ? ":r" : "");
        return DVM_ESYNTAX;
    }
    return DVM_OK;
}

/* Parses the operand list into in (whose op and opt are set). */
static dvm_status parse_operands(asm_ctx *c, expr_cursor *cur, isa_insn *in,
                                 int col)
{
    int want = isa_operand_count(in->op, in->opt), n = 0, ty = ISA_T_Q;
    asm_opnd o;
    while (expr_peek(cur)->kind != TK_EOL) {
        if (n > 0 && asm_expect(c, cur, ',', "',' or the end of the line"))
            return DVM_ESYNTAX;
        if (n == want) {
            asm_error(c, expr_peek(cur)->col, "'%s' takes %d operand%s",
                      isa_op_name[in->op], want, want == 1 ? "" : "s");
            return DVM_ESYNTAX;
        }
        if (parse_operand(c, cur, &o) ||
            check_operand(c, &o, isa_operand_kind(in->op, in->opt, n), &ty))
            return DVM_ESYNTAX;
        in->ops[n++] = o.o;
    }
    if (n != want) {
        asm_error(c, col, "'%s' takes %d operand%s, not %d",
                  isa_op_name[in->op], want, want == 1 ? "" : "s", n);
        return DVM_ESYNTAX;
    }
    in->nops = (uint8_t)n;
    return DVM_OK;
}

/* Declared in asm_int.h: parses, checks and emits one instruction; every
 * problem is reported once and drops the line. */
void asm_instruction(asm_ctx *c, expr_cursor *cur)
{
    const lex_token *m = expr_peek(cur);
    isa_insn in;
    int opt;
    memset(&in, 0, sizeof in);
    int op = isa_op_lookup(m->text, m->len);
    if (op < 0) {
        asm_error(c, m->col, "unknown instruction '%.*s'", (int)m->len,
                  m->text);
        return;
    }
    cur->i++;
    if (parse_option(c, cur, op, &opt))
        return;
    if (op == ISA_OP_BR && opt == ISA_OPT_NONE) {
        missing_condition(c, m->col);
        return;
    }
    in.op = (uint8_t)op;
    in.opt = (uint8_t)opt;
    if (parse_operands(c, cur, &in, m->col) || check_insn(c, &in, m->col))
        return;
    if (c->sec != SEC_TEXT) {
        asm_error(c, m->col, "instructions belong in .text");
        return;
    }
    uint8_t buf[ISA_MAX_INSN_BYTES];
    size_t n = isa_encode(&in, buf);
    asm_emit(c, buf, n, 1, m->col);
}
