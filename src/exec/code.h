/*
 * code.h -- a program's instructions, pre-decoded for the engines.
 *
 * code_build() decodes every instruction of every code segment once (via
 * isa_decode, so a hostile image cannot produce an invalid vm_insn) into a
 * flat array, and builds the map from DISA address to instruction index that
 * jumps use: a jump to an address that is not the start of an instruction is
 * an execution fault.  A vm_code is immutable after building and shared by
 * every runner of an RComp (and by both engines).
 */
#ifndef DVM_CODE_H
#define DVM_CODE_H

#include <stddef.h>
#include <stdint.h>

#include "image/program.h"
#include "isa/isa.h"
#include "isa/runner.h"
#include "util/status.h"

#define VM_NO_INSN UINT32_MAX

typedef struct vm_insn {
    uint8_t op, opt, nops;
    uint64_t pc;                /* DISA address of this instruction */
    uint64_t next_pc;           /* address just past it (bl's link value) */
    uint32_t next;              /* index of the instruction at next_pc, or
                                   VM_NO_INSN (running off is a fault) */
    uint32_t target;            /* for a DIR-mode jump operand: index of the
                                   target, or VM_NO_INSN if none there */
    uint16_t xop;               /* interpreter handler (interp_select),
                                   with a flag a noting run reads (interp.c,
                                   H_LOUD) */
    isa_operand o[ISA_MAX_OPERANDS];
} vm_insn;

typedef struct vm_code_seg {
    uint64_t addr, size;        /* size: the stored bytes, which index maps */
    uint64_t end;               /* end of the segment with its zero tail */
    uint32_t *index;            /* per byte offset: insn index or VM_NO_INSN */
} vm_code_seg;

typedef struct vm_code {
    vm_insn *insns;   size_t ninsns;
    vm_code_seg *segs; size_t nsegs;   /* code segments, sorted */
    dvm_range *ro;     size_t nro;      /* read-only SR ranges: code segments,
                                          input windows and the system page */
    uint32_t *cost;             /* cost[i]: the interpreter's cost of insns
                                   0 .. i-1 (interp_cost), ninsns + 1
                                   entries: the tiering's measure of work */
    uint64_t *pr_pages; size_t npr_pages; /* the PR pages that direct-mode
                                          operands reach (an access's first
                                          and last byte), sorted, distinct:
                                          with vm_runner.prw_lo/hi, every
                                          page the interpreter may write */
} vm_code;

/* Decodes the code segments of p.  On success *out owns a new vm_code.
 * Returns DVM_EFORMAT (with message naming the address) on an undecodable
 * instruction, DVM_ENOMEM on allocation failure. */
dvm_status code_build(const dvm_program *p, vm_code **out);
void code_free(vm_code *c);
/* Index of the instruction starting at addr, or VM_NO_INSN. */
uint32_t code_index(const vm_code *c, uint64_t addr);
/* The interpreter's handler for a fully built instruction (next and target
 * set): a specialised one where the operands allow it, else the generic
 * handler of its opcode; a specialised one whose static addresses are not
 * private carries a flag, so that a run that notes its accesses takes the
 * generic handler there (interp.c).  Implemented in interp.c; code_build
 * stores it in vm_insn.xop. */
uint16_t interp_select(const vm_insn *in);
/* The interpreter's cost of in (its xop chosen), in units of its cheapest
 * instructions; at least 1. */
uint32_t interp_cost(const vm_insn *in);

#endif
