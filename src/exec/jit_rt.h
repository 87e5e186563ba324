/*
 * jit_rt.h -- the runtime helpers translated code calls, by name.
 *
 * A region's object code names no host address: where it needs the
 * runtime (a fault, an SR write the inline tests did not accept, newr,
 * fmod, an exit) it calls one of these helpers by its name, and whoever
 * loads the code binds each name to this process's address -- LLVM's JIT
 * (jit_llvm.c, define_helpers) or the project's own loader (jit_elf.c,
 * through jit.c).  The helpers live in the executable, not in the LLVM
 * module, so that loading a kept translation does not load LLVM.
 */
#ifndef DVM_JIT_RT_H
#define DVM_JIT_RT_H

#include <stddef.h>

/* A runtime helper of translated code and its name. */
typedef struct jit_helper {
    const char *name;
    void (*fn)(void);
} jit_helper;

/* The helpers, jit_nhelpers of them, by the names translated code calls
 * them (jit_ir.h, callee). */
extern const jit_helper jit_helpers[];
extern const size_t jit_nhelpers;

#endif
