/*
 * jit.h -- the translator: DISA to native code through LLVM's ORC JIT.
 *
 * One jit_engine per RComp, for the life of the RComp: translations are
 * cached and shared by every runner that runs the same code.  jit_run has
 * exactly the contract of interp_run (vm.h): same exits, same faults with
 * the same DISA instruction address.  Built only with LLVM; without it,
 * jit_available() is 0 and jit_create fails with DVM_EUNSUPP.
 */
#ifndef DVM_JIT_H
#define DVM_JIT_H

#include "exec/vm.h"
#include "util/status.h"

typedef struct jit_engine jit_engine;

int jit_available(void);
dvm_status jit_create(const vm_code *code, jit_engine **out);
void jit_destroy(jit_engine *j);
/* Runs the runner from fi.  Returns enum vm_exit. */
int jit_run(jit_engine *j, vm_runner *r, uint64_t fi);

#endif
