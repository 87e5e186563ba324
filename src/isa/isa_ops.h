/*
 * isa_ops.h -- DISA 1.0 defined once.
 *
 * Every table of the project about instructions, options, types and
 * addressing modes (the opcode enum, mnemonic names, the assembler's and
 * disassembler's tables, the engines' dispatch tables) is derived from the
 * X-macro lists below.  To add an instruction, add one line here.
 *
 * Operand kinds (the "shape" string of an opcode, one letter per operand):
 *   D  data source: immediate, direct, indirect or displacement; typed
 *   M  data destination: any mode but immediate; typed
 *   J  jump target: a memory operand whose effective address is jumped to;
 *      untyped (a suffix is accepted and ignored)
 *   L  link destination: receives a 64-bit address; untyped
 *   A  address source (newr): read as a 64-bit value; untyped
 * Untyped operands neither take nor give a type in type propagation.
 */
#ifndef DVM_ISA_OPS_H
#define DVM_ISA_OPS_H

/*    name   mnemonic shape   meaning */
#define ISA_OPCODES(X)                                                        \
    X(MOV,  "mov",  "DM",   "M1 <- [D1], converted to M1's type")             \
    X(ADD,  "add",  "DDM",  "M1 <- [D1] + [D2]")                              \
    X(SUB,  "sub",  "DDM",  "M1 <- [D1] - [D2]")                              \
    X(MUL,  "mul",  "DDM",  "M1 <- [D1] * [D2]")                              \
    X(DIV,  "div",  "DDM",  "M1 <- [D1] / [D2] (:r remainder)")               \
    X(AND,  "and",  "DDM",  "M1 <- [D1] & [D2] (integers only)")              \
    X(OR,   "or",   "DDM",  "M1 <- [D1] | [D2] (integers only)")              \
    X(XOR,  "xor",  "DDM",  "M1 <- [D1] ^ [D2] (integers only)")              \
    X(BR,   "br",   "DDJ",  "if [D1] cond [D2] jump to EA(M1); br:j M1")      \
    X(BL,   "bl",   "JL",   "M2 <- next address; jump to EA(M1)")             \
    X(NEWR, "newr", "AAAA", "create a runner from descriptors [D1]..[D4]")    \
    X(EXIT, "exit", "",     "end the runner: :c commit (default), :a abort")

/*    name  text  opcode  meaning */
#define ISA_OPTIONS(X)                                  \
    X(NONE, "",   0,    "no option")                    \
    X(Z,    "z",  MOV,  "zero-extend the source")       \
    X(S,    "s",  MOV,  "sign-extend the source")       \
    X(R,    "r",  DIV,  "remainder instead of quotient")\
    X(E,    "e",  BR,   "jump if equal")                \
    X(NE,   "ne", BR,   "jump if not equal")            \
    X(L,    "l",  BR,   "jump if less")                 \
    X(LE,   "le", BR,   "jump if less or equal")        \
    X(G,    "g",  BR,   "jump if greater")              \
    X(GE,   "ge", BR,   "jump if greater or equal")     \
    X(J,    "j",  BR,   "jump always (one operand)")    \
    X(C,    "c",  EXIT, "commit")                       \
    X(A,    "a",  EXIT, "abort")

/*    name suffix bytes signed float */
#define ISA_TYPES(X)              \
    X(Q,  "q",  8, 1, 0)          \
    X(B,  "b",  1, 1, 0)          \
    X(W,  "w",  2, 1, 0)          \
    X(D,  "d",  4, 1, 0)          \
    X(UB, "ub", 1, 0, 0)          \
    X(UW, "uw", 2, 0, 0)          \
    X(UD, "ud", 4, 0, 0)          \
    X(UQ, "uq", 8, 0, 0)          \
    X(F,  "f",  8, 1, 1)

/*    name  syntax     meaning */
#define ISA_MODES(X)                                          \
    X(IMM,  "$E",   "the value E")                            \
    X(DIR,  "E",    "the memory at address E")                \
    X(IND,  "(E)",  "the memory at mem64[E]")                 \
    X(DISP, "D(E)", "the memory at mem64[E] + D")

#endif
