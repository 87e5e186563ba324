/*
 * jit_llvm.c -- the translator's use of LLVM: a backend (jit_backend.h)
 * of one target machine and one ORC LLJIT per engine.
 *
 * translate() builds a region's module (jit_region_module), verifies and
 * optimises it with a short pipeline of its own (JIT_PASSES: scalar
 * replacement, early CSE, instcombine, CFG simplification, GVN; without
 * GVN above JIT_GVN_MAX instructions, where its load analysis, quadratic
 * in a function's window accesses, takes seconds), has the target
 * machine emit its object code, adds that to
 * the LLJIT and looks its entry up; load() adds object code that a
 * translate() made, here or in another process of the same build (the
 * shared cache, jit_cache.h).  Object code names no host address: the
 * runtime helpers are called by name (jit_helpers), names each LLJIT
 * defines at this process's addresses.  The code lives as long as the
 * backend.  LLVM's native target is initialised once per
 * process, at the first backend.
 *
 * This file and the stages it calls form the module dvm-jit.so (or are
 * linked in with DVM_LLVM_STATIC); nothing else in the project includes
 * an LLVM header's functions.
 */
#include "exec/jit_backend.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

struct jit_backend {
    LLVMOrcLLJITRef lljit;
    LLVMTargetMachineRef tm;    /* the optimiser's view of the host */
    int vex;                    /* the host has AVX (jit_target.vex) */
};

/* Records an LLVM error as the status message; consumes err. */
static dvm_status llvm_fail(LLVMErrorRef err, const char *what)
{
    char *msg = LLVMGetErrorMessage(err);
    dvm_status st = status_set(DVM_EINVAL, "translator: %s: %s", what, msg);
    LLVMDisposeErrorMessage(msg);
    return st;
}

/* The passes a region gets.  A region is one function over the
 * window's words, calling only runtime helpers: what pays is turning
 * the words into SSA values and folding what that exposes.  LLVM's
 * default<O2> adds inlining, loop and vectoriser passes; it cost several
 * times as much optimisation time and made no faster code here (alu,
 * k-means; docs/performance.md, "A pipeline of its own"). */
#define JIT_PASSES "function(sroa,early-cse<memssa>,instcombine," \
                   "simplifycfg,gvn,instcombine,simplifycfg)"
#define JIT_PASSES_LARGE "function(sroa,early-cse<memssa>,instcombine," \
                         "simplifycfg)"

/* Verifies and optimises module m of size region insns for the host:
 * JIT_PASSES, or JIT_PASSES_LARGE for a region too big for GVN; a
 * pipeline in DVM_JIT_PASSES (LLVM's syntax, e.g. default<O2>) replaces
 * both, to compare pipelines side by side. */
static dvm_status optimise(jit_backend *b, LLVMModuleRef m, size_t size)
{
    char *msg = NULL;
    if (LLVMVerifyModule(m, LLVMReturnStatusAction, &msg)) {
        dvm_status st = status_set(DVM_EINVAL, "translator: bad IR: %s", msg);
        LLVMDisposeMessage(msg);
        return st;
    }
    LLVMDisposeMessage(msg);
    LLVMPassBuilderOptionsRef opt = LLVMCreatePassBuilderOptions();
    const char *pp = size > JIT_GVN_MAX ? JIT_PASSES_LARGE : JIT_PASSES;
    const char *env = getenv("DVM_JIT_PASSES");
    if (env && *env)
        pp = env;
    LLVMErrorRef err = LLVMRunPasses(m, pp, b->tm, opt);
    LLVMDisposePassBuilderOptions(opt);
    if (!err)
        return DVM_OK;
    dvm_status st = llvm_fail(err, "optimising");
    static int said;            /* a failed translation is interpreted on,
                                   silently: a bad override is said once */
    if (pp == env && !said) {
        said = 1;
        fprintf(stderr, "dvm: DVM_JIT_PASSES=%s: %s\n", env, status_message());
    }
    return st;
}

/* Adds the object code in buf (consumed) to b's JIT and sets *out to
 * its symbol name. */
static dvm_status add_object(jit_backend *b, LLVMMemoryBufferRef buf,
                             const char *name, jit_fn *out)
{
    LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(b->lljit);
    LLVMErrorRef err = LLVMOrcLLJITAddObjectFile(b->lljit, jd, buf);
    if (err)
        return llvm_fail(err, "adding code");
    LLVMOrcExecutorAddress addr = 0;
    if ((err = LLVMOrcLLJITLookup(b->lljit, &addr, name)))
        return llvm_fail(err, "looking code up");
    *out = (jit_fn)(uintptr_t)addr;
    return DVM_OK;
}

/* Generates the object code of the optimised module m into *out. */
static dvm_status emit(jit_backend *b, LLVMModuleRef m,
                       LLVMMemoryBufferRef *out)
{
    char *msg = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(b->tm, m, LLVMObjectFile, &msg,
                                            out)) {
        dvm_status st = status_set(DVM_EINVAL, "translator: code "
                                   "generation: %s", msg ? msg : "?");
        LLVMDisposeMessage(msg);
        return st;
    }
    return DVM_OK;
}

/* A copy of buf's bytes into *obj. */
static dvm_status keep_object(LLVMMemoryBufferRef buf, jit_object *obj)
{
    size_t n = LLVMGetBufferSize(buf);
    obj->p = dvm_malloc(n ? n : 1);
    if (!obj->p)
        return status_set(DVM_ENOMEM, "translator: out of memory");
    memcpy(obj->p, LLVMGetBufferStart(buf), n);
    obj->len = n;
    return DVM_OK;
}

static dvm_status backend_translate(jit_backend *b, const jit_request *q,
                                    jit_fn *out, size_t *size,
                                    jit_object *obj)
{
    assert(b && q && q->code && q->name && out && size);
    LLVMContextRef cx = LLVMContextCreate();
    LLVMModuleRef m = NULL;
    LLVMMemoryBufferRef buf = NULL;
    size_t n = 0;
    jit_target t = {q->code, q->nan_bits, b->vex,
                    LLVMOrcLLJITGetTripleString(b->lljit),
                    LLVMOrcLLJITGetDataLayoutStr(b->lljit),
                    q->region_max};
    jit_object o = {NULL, 0};
    dvm_status st = jit_region_module(&t, cx, q->entry, q->name, &m, &n);
    if (!st)
        st = optimise(b, m, n);
    if (!st)
        st = emit(b, m, &buf);
    if (m)
        LLVMDisposeModule(m);
    LLVMContextDispose(cx);
    if (!st && obj)
        st = keep_object(buf, &o);
    if (st) {
        if (buf)
            LLVMDisposeMemoryBuffer(buf);
        return st;
    }
    if ((st = add_object(b, buf, q->name, out))) {
        dvm_free(o.p);
        return st;
    }
    *size = n;
    if (obj)
        *obj = o;
    return DVM_OK;
}

static dvm_status backend_load(jit_backend *b, const uint8_t *obj,
                               size_t len, const char *name, jit_fn *out)
{
    assert(b && obj && name && out);
    LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRangeCopy(
        (const char *)obj, len, name);
    return add_object(b, buf, name, out);
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

/* True when LLVM's feature string feat ("+a,-b,...") enables name. */
static int has_feature(const char *feat, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = feat; (p = strstr(p, name)) != NULL; p += n)
        if (p > feat && p[-1] == '+' && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

/* Creates the target machine the optimiser tunes for: the host CPU; sets
 * *vex when it has AVX (the JIT's code generator targets the same host
 * with the same features). */
static dvm_status make_tm(LLVMTargetMachineRef *out, int *vex)
{
    char *triple = LLVMGetDefaultTargetTriple(), *err = NULL;
    char *cpu = LLVMGetHostCPUName(), *feat = LLVMGetHostCPUFeatures();
    LLVMTargetRef t;
    dvm_status st = DVM_OK;
    if (LLVMGetTargetFromTriple(triple, &t, &err)) {
        st = status_set(DVM_EUNSUPP, "translator: no target: %s", err);
        LLVMDisposeMessage(err);
    } else {
        *vex = has_feature(feat, "avx");
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

/* Defines the runtime helpers' names (jit_helpers) in jd at this
 * process's addresses: the object code calls them by name. */
static dvm_status define_helpers(jit_backend *b, LLVMOrcJITDylibRef jd)
{
    LLVMOrcCSymbolMapPair sym[16];
    assert(jit_nhelpers <= sizeof sym / sizeof sym[0]);
    for (size_t i = 0; i < jit_nhelpers; i++) {
        sym[i].Name = LLVMOrcLLJITMangleAndIntern(b->lljit,
                                                  jit_helpers[i].name);
        sym[i].Sym.Address = (LLVMOrcExecutorAddress)(uintptr_t)
                             jit_helpers[i].fn;
        sym[i].Sym.Flags.GenericFlags = LLVMJITSymbolGenericFlagsExported |
                                        LLVMJITSymbolGenericFlagsCallable;
        sym[i].Sym.Flags.TargetFlags = 0;
    }
    LLVMErrorRef err = LLVMOrcJITDylibDefine(jd,
        LLVMOrcAbsoluteSymbols(sym, jit_nhelpers));
    return err ? llvm_fail(err, "defining the helpers") : DVM_OK;
}

/* Creates b's LLJIT, with the process's symbols (memset, memcpy, ... that
 * the optimiser may call) visible to the code. */
static dvm_status make_lljit(jit_backend *b)
{
    LLVMErrorRef err = LLVMOrcCreateLLJIT(&b->lljit, NULL);
    if (err)
        return llvm_fail(err, "creating the JIT");
    LLVMOrcDefinitionGeneratorRef gen;
    err = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&gen,
        LLVMOrcLLJITGetGlobalPrefix(b->lljit), NULL, NULL);
    if (err)
        return llvm_fail(err, "process symbols");
    LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(b->lljit);
    LLVMOrcJITDylibAddGenerator(jd, gen);
    return define_helpers(b, jd);
}

static void backend_destroy(jit_backend *b)
{
    if (!b)
        return;
    if (b->lljit) {
        LLVMErrorRef err = LLVMOrcDisposeLLJIT(b->lljit);
        if (err)
            LLVMConsumeError(err);
    }
    if (b->tm)
        LLVMDisposeTargetMachine(b->tm);
    dvm_free(b);
}

static dvm_status backend_create(jit_backend **out)
{
    assert(out);
    pthread_once(&llvm_once, llvm_init);
    if (!llvm_ready)
        return status_set(DVM_EUNSUPP, "translator: LLVM has no native "
                          "target here (use --engine interp)");
    jit_backend *b = dvm_calloc(1, sizeof *b);
    if (!b)
        return status_set(DVM_ENOMEM, "translator: out of memory");
    dvm_status st = make_tm(&b->tm, &b->vex);
    if (!st)
        st = make_lljit(b);
    if (st) {
        backend_destroy(b);
        return st;
    }
    *out = b;
    return DVM_OK;
}

const jit_backend_ops jit_llvm_backend = {
    JIT_BACKEND_ABI,
    backend_create,
    backend_destroy,
    backend_translate,
    backend_load,
};
