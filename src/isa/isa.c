/*
 * isa.c -- tables derived from isa_ops.h, and the instruction encoding.
 *
 * The encoding is documented in isa.h.  isa_decode() is the single gate
 * through which bytes from an image become instructions, so it validates
 * everything an engine relies on: opcode, option ownership, operand count,
 * mode and type ranges, and that immediates appear only where a value is
 * read.
 */
#include "isa/isa.h"

#include <assert.h>
#include <string.h>

#include "util/le.h"

const char *const isa_op_name[ISA_OP_COUNT] = {
#define X(name, mn, shape, text) mn,
    ISA_OPCODES(X)
#undef X
};
const char *const isa_op_shape[ISA_OP_COUNT] = {
#define X(name, mn, shape, text) shape,
    ISA_OPCODES(X)
#undef X
};
const char *const isa_op_meaning[ISA_OP_COUNT] = {
#define X(name, mn, shape, text) text,
    ISA_OPCODES(X)
#undef X
};
const char *const isa_opt_name[ISA_OPT_COUNT] = {
#define X(name, text, op, mean) text,
    ISA_OPTIONS(X)
#undef X
};
#define ISA_OP_0 0xff
#define ISA_OP_OWNER(op) ISA_OP_##op
const uint8_t isa_opt_owner[ISA_OPT_COUNT] = {
#define X(name, text, op, mean) ISA_OP_OWNER(op),
    ISA_OPTIONS(X)
#undef X
};
const char *const isa_type_name[ISA_T_COUNT] = {
#define X(name, sfx, bytes, sgn, flt) sfx,
    ISA_TYPES(X)
#undef X
};
const uint8_t isa_type_bytes[ISA_T_COUNT] = {
#define X(name, sfx, bytes, sgn, flt) bytes,
    ISA_TYPES(X)
#undef X
};
const uint8_t isa_type_signed[ISA_T_COUNT] = {
#define X(name, sfx, bytes, sgn, flt) sgn,
    ISA_TYPES(X)
#undef X
};
const uint8_t isa_type_float[ISA_T_COUNT] = {
#define X(name, sfx, bytes, sgn, flt) flt,
    ISA_TYPES(X)
#undef X
};

int isa_operand_count(int op, int opt)
{
    assert(op >= 0 && op < ISA_OP_COUNT);
    if (op == ISA_OP_BR && opt == ISA_OPT_J)
        return 1;
    return (int)strlen(isa_op_shape[op]);
}

char isa_operand_kind(int op, int opt, int i)
{
    assert(i >= 0 && i < isa_operand_count(op, opt));
    if (op == ISA_OP_BR && opt == ISA_OPT_J)
        return 'J';
    return isa_op_shape[op][i];
}

size_t isa_encoded_size(const isa_insn *insn)
{
    size_t n = 2;
    for (int i = 0; i < insn->nops; i++)
        n += insn->ops[i].mode == ISA_M_DISP ? 17 : 9;
    return n;
}

size_t isa_encode(const isa_insn *insn, uint8_t *buf)
{
    assert(insn->nops == isa_operand_count(insn->op, insn->opt));
    size_t n = 0;
    buf[n++] = insn->op;
    buf[n++] = insn->opt;
    for (int i = 0; i < insn->nops; i++) {
        const isa_operand *o = &insn->ops[i];
        buf[n++] = (uint8_t)(o->mode << 4 | o->type);
        le_st64(buf + n, o->value);
        n += 8;
        if (o->mode == ISA_M_DISP) {
            le_st64(buf + n, (uint64_t)o->disp);
            n += 8;
        }
    }
    assert(n == isa_encoded_size(insn));
    return n;
}

/* True when opt is acceptable on op (NONE allowed except on br). */
static int isa_option_valid(int op, int opt)
{
    if (opt < 0 || opt >= ISA_OPT_COUNT)
        return 0;
    if (opt == ISA_OPT_NONE)
        return op != ISA_OP_BR;
    return isa_opt_owner[opt] == op;
}

static dvm_status decode_operand(const uint8_t *buf, size_t len, size_t *pos,
                                 char kind, isa_operand *o)
{
    if (*pos + 9 > len)
        return status_set(DVM_EFORMAT, "truncated instruction operand");
    uint8_t mt = buf[*pos];
    o->mode = mt >> 4;
    o->type = mt & 15;
    if (o->mode >= ISA_M_COUNT)
        return status_set(DVM_EFORMAT, "bad addressing mode %u", o->mode);
    if (o->type >= ISA_T_COUNT)
        return status_set(DVM_EFORMAT, "bad operand type %u", o->type);
    if (o->mode == ISA_M_IMM && kind != 'D' && kind != 'A')
        return status_set(DVM_EFORMAT, "immediate where memory is required");
    o->value = le_ld64(buf + *pos + 1);
    o->disp = 0;
    *pos += 9;
    if (o->mode == ISA_M_DISP) {
        if (*pos + 8 > len)
            return status_set(DVM_EFORMAT, "truncated displacement");
        o->disp = (int64_t)le_ld64(buf + *pos);
        *pos += 8;
    }
    return DVM_OK;
}

dvm_status isa_decode(const uint8_t *buf, size_t len, isa_insn *out,
                      size_t *size)
{
    isa_insn insn;
    memset(&insn, 0, sizeof insn);
    if (len < 2)
        return status_set(DVM_EFORMAT, "truncated instruction");
    insn.op = buf[0];
    insn.opt = buf[1];
    if (insn.op >= ISA_OP_COUNT)
        return status_set(DVM_EFORMAT, "bad opcode %u", insn.op);
    if (!isa_option_valid(insn.op, insn.opt))
        return status_set(DVM_EFORMAT, "bad option %u for %s", insn.opt,
                          isa_op_name[insn.op]);
    insn.nops = (uint8_t)isa_operand_count(insn.op, insn.opt);
    size_t pos = 2;
    for (int i = 0; i < insn.nops; i++) {
        char kind = isa_operand_kind(insn.op, insn.opt, i);
        dvm_status st = decode_operand(buf, len, &pos, kind, &insn.ops[i]);
        if (st)
            return st;
    }
    *out = insn;
    *size = pos;
    return DVM_OK;
}

uint64_t isa_imm_pattern(uint64_t v, int type)
{
    assert(type >= 0 && type < ISA_T_COUNT && !isa_type_float[type]);
    unsigned bits = 8u * isa_type_bytes[type];
    if (bits == 64)
        return v;
    uint64_t mask = (1ULL << bits) - 1;
    v &= mask;
    if (isa_type_signed[type] && (v >> (bits - 1)) & 1)
        v |= ~mask;
    return v;
}

int isa_takes_float(int op, int opt)
{
    return op != ISA_OP_AND && op != ISA_OP_OR && op != ISA_OP_XOR &&
           !(op == ISA_OP_DIV && opt == ISA_OPT_R);
}

/* True when the :f bits are a NaN (all exponent bits, a fraction). */
static int bits_nan(uint64_t u)
{
    return (u >> 52 & 0x7ff) == 0x7ff && (u & ((1ULL << 52) - 1)) != 0;
}

/* Checks operand i of in (see isa_check_canonical). */
static dvm_status check_canonical_operand(const isa_insn *in, int i)
{
    const isa_operand *o = &in->ops[i];
    char kind = isa_operand_kind(in->op, in->opt, i);
    int flt = isa_type_float[o->type];
    if (kind != 'D' && kind != 'M' && o->type != ISA_T_Q)
        return status_set(DVM_EFORMAT, "operand %d is untyped but has type "
                          ":%s", i + 1, isa_type_name[o->type]);
    if (flt && !isa_takes_float(in->op, in->opt))
        return status_set(DVM_EFORMAT, "operand %d is :f, but '%s' works on "
                          "integers only", i + 1, isa_op_name[in->op]);
    if (o->mode != ISA_M_IMM)
        return DVM_OK;
    if (flt && bits_nan(o->value))
        return status_set(DVM_EFORMAT, "operand %d is a NaN immediate",
                          i + 1);
    if (!flt && o->value != isa_imm_pattern(o->value, o->type))
        return status_set(DVM_EFORMAT, "operand %d: immediate 0x%llx is "
                          "wider than its type :%s", i + 1,
                          (unsigned long long)o->value,
                          isa_type_name[o->type]);
    return DVM_OK;
}

dvm_status isa_check_canonical(const isa_insn *in)
{
    for (int i = 0; i < in->nops; i++) {
        dvm_status st = check_canonical_operand(in, i);
        if (st)
            return st;
    }
    return DVM_OK;
}

static int lookup(const char *const *names, int n, const char *s, size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
            return i;
    return -1;
}

int isa_op_lookup(const char *name, size_t len)
{
    return lookup(isa_op_name, ISA_OP_COUNT, name, len);
}

int isa_opt_lookup(const char *name, size_t len)
{
    if (len == 0)
        return -1;
    return lookup(isa_opt_name, ISA_OPT_COUNT, name, len);
}

int isa_type_lookup(const char *name, size_t len)
{
    return lookup(isa_type_name, ISA_T_COUNT, name, len);
}
