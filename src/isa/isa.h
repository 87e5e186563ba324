/*
 * isa.h -- DISA instructions as data: enums, names, and the binary encoding.
 *
 * The enums and name tables are generated from isa_ops.h.  An encoded
 * instruction, as stored in a program's code segments (and so in images), is
 *
 *     u8 opcode, u8 option, then per operand:
 *         u8 (mode << 4 | type), u64 value, and for DISP also i64 disp
 *
 * little endian.  `value` is the immediate's 64-bit pattern (already of the
 * operand's type: a :f immediate holds IEEE-754 bits) or the address E.
 * The operand count follows from opcode and option (br:j has one).  Types
 * stored are the effective types after propagation; untyped operands store Q.
 */
#ifndef DVM_ISA_H
#define DVM_ISA_H

#include <stddef.h>
#include <stdint.h>

#include "isa/isa_ops.h"
#include "util/status.h"

enum isa_opcode {
#define ISA_OP_ENUM(name, mn, shape, text) ISA_OP_##name,
    ISA_OPCODES(ISA_OP_ENUM)
#undef ISA_OP_ENUM
    ISA_OP_COUNT
};

enum isa_option {
#define ISA_OPT_ENUM(name, text, op, mean) ISA_OPT_##name,
    ISA_OPTIONS(ISA_OPT_ENUM)
#undef ISA_OPT_ENUM
    ISA_OPT_COUNT
};

enum isa_type {
#define ISA_TYPE_ENUM(name, sfx, bytes, sgn, flt) ISA_T_##name,
    ISA_TYPES(ISA_TYPE_ENUM)
#undef ISA_TYPE_ENUM
    ISA_T_COUNT
};

enum isa_mode {
#define ISA_MODE_ENUM(name, syn, text) ISA_M_##name,
    ISA_MODES(ISA_MODE_ENUM)
#undef ISA_MODE_ENUM
    ISA_M_COUNT
};

#define ISA_MAX_OPERANDS 4
#define ISA_MAX_INSN_BYTES (2 + ISA_MAX_OPERANDS * 17)

/* Memory layout constants of DISA.md section 1. */
#define DISA_ADDR_BITS      46
#define DISA_ADDR_LIMIT     (1ULL << DISA_ADDR_BITS)
#define DISA_RB             0x40000000ULL
#define DISA_TEXT_BASE      0x40000000ULL
#define DISA_STACK_BASE     0x3E0000000000ULL   /* (1.1) the stack area */
#define DISA_STACK_ORDER    28                  /* it holds 2^28 pages */
#define DISA_INPUT_BASE     0x3F0000000000ULL
#define DISA_SYSPAGE        0x3FFFFFFFF000ULL
/* The highest address of an input channel: its window, from ADDR + 8 up to
 * the system page, must hold at least one byte. */
#define DISA_INPUT_LAST     (DISA_SYSPAGE - 9)
#define DISA_CTX            0x1000ULL
#define DISA_OUT            0x20000000ULL
#define DISA_PAGE           4096ULL
#define DISA_CTX_SB         0x1000ULL
#define DISA_CTX_SS         0x1008ULL
#define DISA_CTX_RID        0x1010ULL
#define DISA_CTX_FI         0x1018ULL
#define DISA_CTX_ATTEMPT    0x1020ULL
/* Whether page number `page` lies in the SR, [DISA_RB, DISA_ADDR_LIMIT):
 * the pages that can have versions. */
#define DISA_SR_PAGE(page) \
    ((page) >= DISA_RB / DISA_PAGE && (page) < DISA_ADDR_LIMIT / DISA_PAGE)
#define DISA_SYS_NRCOMP     0x3FFFFFFFF000ULL
#define DISA_SYS_NNODE      0x3FFFFFFFF008ULL

typedef struct isa_operand {
    uint8_t mode;   /* enum isa_mode */
    uint8_t type;   /* enum isa_type */
    uint64_t value; /* immediate bits or address E */
    int64_t disp;   /* D of DISP mode, else 0 */
} isa_operand;

typedef struct isa_insn {
    uint8_t op;     /* enum isa_opcode */
    uint8_t opt;    /* enum isa_option */
    uint8_t nops;
    isa_operand ops[ISA_MAX_OPERANDS];
} isa_insn;

extern const char *const isa_op_name[ISA_OP_COUNT];
extern const char *const isa_op_shape[ISA_OP_COUNT];
extern const char *const isa_op_meaning[ISA_OP_COUNT];
extern const char *const isa_opt_name[ISA_OPT_COUNT];
extern const uint8_t isa_opt_owner[ISA_OPT_COUNT]; /* opcode taking it */
extern const char *const isa_type_name[ISA_T_COUNT];
extern const uint8_t isa_type_bytes[ISA_T_COUNT];
extern const uint8_t isa_type_signed[ISA_T_COUNT];
extern const uint8_t isa_type_float[ISA_T_COUNT];

/* Operand count of op with option opt (br:j has 1). */
int isa_operand_count(int op, int opt);
/* Operand kind letter ('D','M','J','L','A') of operand i of op/opt. */
char isa_operand_kind(int op, int opt, int i);
/* Encoded size of insn in bytes. */
size_t isa_encoded_size(const isa_insn *insn);
/* Writes insn to buf (at least isa_encoded_size bytes); returns bytes. */
size_t isa_encode(const isa_insn *insn, uint8_t *buf);
/* Decodes one instruction from buf[0..len).  Validates opcode, option
 * (must belong to op, or NONE; br needs a condition or J), mode and type
 * (immediate only for D/A kinds).  On success sets *out and *size.
 * Returns DVM_EFORMAT with a message otherwise. */
dvm_status isa_decode(const uint8_t *buf, size_t len, isa_insn *out,
                      size_t *size);
/* The 64-bit pattern of integer v read at the width of integer type
 * `type`: truncated, then extended by the type's signedness (how immediates
 * are stored). */
uint64_t isa_imm_pattern(uint64_t v, int type);
/* True when op with opt accepts :f operands (not and/or/xor, not div:r). */
int isa_takes_float(int op, int opt);
/* Checks that a decoded instruction is in the one form the assembler
 * writes, so that disassembling and assembling it again gives the same
 * bytes: untyped operands (J, L, A) are :q, integer immediates are their
 * type's pattern, :f immediates are not NaN (source cannot write one), and
 * :f operands appear only where isa_takes_float.  Returns DVM_OK or
 * DVM_EFORMAT with a message. */
dvm_status isa_check_canonical(const isa_insn *in);
/* Lookups by name; return -1 if none. */
int isa_op_lookup(const char *name, size_t len);
int isa_opt_lookup(const char *name, size_t len);
int isa_type_lookup(const char *name, size_t len);

#endif
