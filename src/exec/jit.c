/*
 * jit.c -- the translator: DISA to native code through LLVM's ORC JIT.
 *
 * DISA has no registers: the whole state of a runner is its memory and its
 * pc.  So a translation is free to start anywhere, and to stop anywhere by
 * returning to C with the address to go on at.  We use that twice: native
 * code is organised in *regions*, and a region we could not translate is
 * simply left to the interpreter, which picks up at the same address.
 *
 * The stages are files of their own (jit_ir.h lists them): jit_region.c
 * finds a region and builds its function, jit_lower.c lowers each
 * instruction, jit_promote.c keeps the region's hot PR words in registers.
 * This file is the engine: it optimises and compiles a region's module,
 * adds it to the ORC JIT, and caches the native entry per instruction for
 * the life of the engine (one per RComp, shared by its runners); regions
 * are translated lazily, the first time a runner enters one, under the
 * engine's lock.
 *
 * Optimisation.  Regions are optimised with LLVM's O2 pipeline, or O1
 * above JIT_O2_MAX instructions: O2's load analysis is quadratic in the
 * number of window accesses in one function.
 */
#include "exec/jit.h"

#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "exec/jit_ir.h"
#include "util/alloc.h"

struct jit_engine {
    const vm_code *code;
    LLVMOrcLLJITRef lljit;
    LLVMTargetMachineRef tm;    /* the optimiser's view of the host */
    pthread_mutex_t lock;       /* serialises translation */
    uint64_t nan_bits;          /* the host's default NaN */
    jit_fn *fns;                /* per insn: region entry, or NULL */
    uint8_t *bad;               /* per insn: translation failed */
    unsigned nregions;
};

/* ---- the engine ---------------------------------------------------------- */

/* Records an LLVM error as the status message; consumes err. */
static dvm_status llvm_fail(LLVMErrorRef err, const char *what)
{
    char *msg = LLVMGetErrorMessage(err);
    dvm_status st = status_set(DVM_EINVAL, "translator: %s: %s", what, msg);
    LLVMDisposeErrorMessage(msg);
    return st;
}

/* Verifies and optimises module m of size region insns for the host: O2,
 * or O1 for a region too big for O2's load analysis, which is quadratic
 * (thousands of window accesses in one function take seconds). */
static dvm_status optimise(jit_engine *j, LLVMModuleRef m, size_t size)
{
    char *msg = NULL;
    if (LLVMVerifyModule(m, LLVMReturnStatusAction, &msg)) {
        dvm_status st = status_set(DVM_EINVAL, "translator: bad IR: %s", msg);
        LLVMDisposeMessage(msg);
        return st;
    }
    LLVMDisposeMessage(msg);
    LLVMPassBuilderOptionsRef opt = LLVMCreatePassBuilderOptions();
    const char *pp = size > JIT_O2_MAX ? "default<O1>" : "default<O2>";
    LLVMErrorRef err = LLVMRunPasses(m, pp, j->tm, opt);
    LLVMDisposePassBuilderOptions(opt);
    return err ? llvm_fail(err, "optimising") : DVM_OK;
}

static dvm_status translate(jit_engine *j, uint32_t entry, jit_fn *out)
{
    char name[32];
    snprintf(name, sizeof name, "dvm_region_%u", j->nregions++);
    LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMContextRef cx = LLVMOrcThreadSafeContextGetContext(tsc);
    LLVMModuleRef m = NULL;
    size_t size = 0;
    jit_target t = {j->code, j->nan_bits,
                    LLVMOrcLLJITGetTripleString(j->lljit),
                    LLVMOrcLLJITGetDataLayoutStr(j->lljit)};
    dvm_status st = jit_region_module(&t, cx, entry, name, &m, &size);
    if (st)
        goto err_ctx;
    if ((st = optimise(j, m, size))) {
        LLVMDisposeModule(m);
        goto err_ctx;
    }
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(m, tsc);
    LLVMOrcDisposeThreadSafeContext(tsc);
    LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(j->lljit);
    LLVMErrorRef err = LLVMOrcLLJITAddLLVMIRModule(j->lljit, jd, tsm);
    if (err)
        return llvm_fail(err, "adding code");
    LLVMOrcExecutorAddress addr = 0;
    if ((err = LLVMOrcLLJITLookup(j->lljit, &addr, name)))
        return llvm_fail(err, "looking code up");
    *out = (jit_fn)(uintptr_t)addr;
    return DVM_OK;
err_ctx:
    LLVMOrcDisposeThreadSafeContext(tsc);
    return st;
}

/* The native entry of the region of insn i, translating it on first use;
 * NULL when it cannot be translated (the caller interprets instead). */
static jit_fn region(jit_engine *j, uint32_t i)
{
    jit_fn fn = __atomic_load_n(&j->fns[i], __ATOMIC_ACQUIRE);
    if (fn || __atomic_load_n(&j->bad[i], __ATOMIC_ACQUIRE))
        return fn;
    pthread_mutex_lock(&j->lock);
    fn = j->fns[i];
    if (!fn && !j->bad[i]) {
        if (translate(j, i, &fn) == DVM_OK)
            __atomic_store_n(&j->fns[i], fn, __ATOMIC_RELEASE);
        else
            __atomic_store_n(&j->bad[i], 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&j->lock);
    return fn;
}

static pthread_once_t llvm_once = PTHREAD_ONCE_INIT;
static int llvm_ready;

/* Initialises LLVM's native target once per process. */
static void llvm_init(void)
{
    llvm_ready = !LLVMInitializeNativeTarget() &&
                 !LLVMInitializeNativeAsmPrinter() &&
                 !LLVMInitializeNativeAsmParser();  /* inline asm */
}

int jit_available(void)
{
    pthread_once(&llvm_once, llvm_init);
    return llvm_ready;
}

/* The host's default NaN: what an invalid operation yields here. */
static uint64_t host_default_nan(void)
{
    volatile double zero = 0.0;
    double n = zero / zero;
    uint64_t bits;
    memcpy(&bits, &n, 8);
    return bits;
}

/* Creates the target machine the optimiser tunes for: the host CPU. */
static dvm_status make_tm(LLVMTargetMachineRef *out)
{
    char *triple = LLVMGetDefaultTargetTriple(), *err = NULL;
    char *cpu = LLVMGetHostCPUName(), *feat = LLVMGetHostCPUFeatures();
    LLVMTargetRef t;
    dvm_status st = DVM_OK;
    if (LLVMGetTargetFromTriple(triple, &t, &err)) {
        st = status_set(DVM_EUNSUPP, "translator: no target: %s", err);
        LLVMDisposeMessage(err);
    } else {
        *out = LLVMCreateTargetMachine(t, triple, cpu, feat,
                                       LLVMCodeGenLevelDefault,
                                       LLVMRelocDefault,
                                       LLVMCodeModelJITDefault);
    }
    LLVMDisposeMessage(triple);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(feat);
    return st;
}

/* Creates j's LLJIT, with the process's symbols (memset, memcpy, ... that
 * the optimiser may call) visible to the code. */
static dvm_status make_lljit(jit_engine *j)
{
    LLVMErrorRef err = LLVMOrcCreateLLJIT(&j->lljit, NULL);
    if (err)
        return llvm_fail(err, "creating the JIT");
    LLVMOrcDefinitionGeneratorRef gen;
    err = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&gen,
        LLVMOrcLLJITGetGlobalPrefix(j->lljit), NULL, NULL);
    if (err)
        return llvm_fail(err, "process symbols");
    LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(j->lljit), gen);
    return DVM_OK;
}

dvm_status jit_create(const vm_code *code, jit_engine **out)
{
    assert(code && out);
    if (!jit_available())
        return status_set(DVM_EUNSUPP, "translator: LLVM has no native "
                          "target here (use --engine interp)");
    jit_engine *j = dvm_calloc(1, sizeof *j);
    if (!j)
        return status_set(DVM_ENOMEM, "translator: out of memory");
    j->code = code;
    j->nan_bits = host_default_nan();
    j->fns = dvm_calloc(code->ninsns + 1, sizeof *j->fns);
    j->bad = dvm_calloc(code->ninsns + 1, 1);
    dvm_status st = DVM_ENOMEM;
    if (!j->fns || !j->bad) {
        status_set(st, "translator: out of memory");
        goto err_engine;
    }
    if ((st = make_tm(&j->tm)) || (st = make_lljit(j)))
        goto err_engine;
    pthread_mutex_init(&j->lock, NULL);
    *out = j;
    return DVM_OK;
err_engine:
    if (j->lljit)
        LLVMOrcDisposeLLJIT(j->lljit);
    if (j->tm)
        LLVMDisposeTargetMachine(j->tm);
    dvm_free(j->fns);
    dvm_free(j->bad);
    dvm_free(j);
    return st;
}

void jit_destroy(jit_engine *j)
{
    if (!j)
        return;
    LLVMErrorRef err = LLVMOrcDisposeLLJIT(j->lljit);
    if (err)
        LLVMConsumeError(err);
    LLVMDisposeTargetMachine(j->tm);
    pthread_mutex_destroy(&j->lock);
    dvm_free(j->fns);
    dvm_free(j->bad);
    dvm_free(j);
}

int jit_run(jit_engine *j, vm_runner *r, uint64_t fi)
{
    assert(j && r && r->code == j->code && r->win);
    uint32_t i = code_index(j->code, fi);
    if (i == VM_NO_INSN)
        return vm_raise(r, VM_FAULT_EXEC, fi, fi);
    jit_ctx c = {r, 0, 0, 0, 0};
    for (;;) {
        jit_fn fn = region(j, i);
        if (!fn)                /* untranslatable: the state is memory */
            return interp_run(r, j->code->insns[i].pc);
        int rc = fn(&c, r->win);
        if (rc != JIT_CONTINUE)
            return rc;
        i = code_index(j->code, c.next);
        if (i == VM_NO_INSN)
            return vm_raise(r, VM_FAULT_EXEC, c.from, c.next);
    }
}
