/*
 * jit.c -- the translator: DISA to native code through LLVM's ORC JIT.
 *
 * DISA has no registers: the whole state of a runner is its memory and its
 * pc.  So a translation is free to start anywhere, and to stop anywhere by
 * returning to C with the address to go on at, and the interpreter and
 * native code hand a run to each other with nothing to convert: the
 * window and an instruction index.  Native code is organised in
 * *regions*, and whatever is not translated (cold code, a region over the
 * limits, one LLVM refused) is left to the interpreter.
 *
 * Tiers.  jit_run interprets (interp_run_tier) until the interpreter
 * stops at a hot jump target (see jit.h for the thresholds) or at one
 * already translated; region() then decides under the engine's lock:
 * the first time a target is hot its threshold grows with the size of
 * its region (jit_region_size), the next time the region is translated
 * if the engine's budget allows, else the target is marked never to be
 * translated.  Native code returns JIT_CONTINUE with the address to go on
 * at when it leaves its region; jit_run enters that address's region if
 * translated, else interprets from there.  The per-instruction count
 * doubles as the interpreter's stop signal: a translated entry's count is
 * JIT_COUNT_NATIVE (above any threshold, so the interpreter stops there),
 * a refused one's JIT_COUNT_NEVER (2^31 instructions below it).
 *
 * The stages are files of their own (jit_ir.h lists them): jit_region.c
 * finds a region and builds its function, jit_lower.c lowers each
 * instruction, jit_promote.c keeps the region's hot PR words in registers.
 * This file is the engine: it optimises and compiles a region's module,
 * adds it to the ORC JIT (made at the first translation, so that a
 * program that never gets hot never pays for LLVM), and caches the native
 * entry per instruction for the life of the engine (one per RComp, shared
 * by its runners, like the counts).
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

enum {
    JIT_COUNT_NATIVE = INT32_MAX / 2,   /* count of a translated entry */
    JIT_COUNT_NEVER = INT32_MIN,        /* ... of one never translated */
};

struct jit_engine {
    const vm_code *code;
    jit_limits lim;
    pthread_mutex_t lock;       /* serialises translation and decisions */
    LLVMOrcLLJITRef lljit;      /* made at the first translation */
    LLVMTargetMachineRef tm;    /* ... the optimiser's view of the host */
    int llvm_broken;            /* ... making them failed */
    uint64_t nan_bits;          /* the host's default NaN */
    int vex;                    /* the host has AVX (jit_target.vex) */
    jit_fn *fns;                /* per insn: region entry, or NULL */
    uint8_t *bad;               /* per insn: never to be translated */
    uint8_t *sized;             /* per insn: threshold raised by its size */
    int32_t *count;             /* per insn: cost run from it (vm_tier) */
    vm_tier tier;
    jit_stats stats;            /* under lock */
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

static dvm_status make_llvm(jit_engine *j);

/* Translates the region of entry and returns its native code in *out and
 * its size in *size.  Under j's lock. */
static dvm_status translate(jit_engine *j, uint32_t entry, jit_fn *out,
                            size_t *size)
{
    dvm_status st = make_llvm(j);
    if (st)
        return st;
    char name[32];
    snprintf(name, sizeof name, "dvm_region_%llu",
             (unsigned long long)j->stats.regions);
    LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMContextRef cx = LLVMOrcThreadSafeContextGetContext(tsc);
    LLVMModuleRef m = NULL;
    jit_target t = {j->code, j->nan_bits, j->vex,
                    LLVMOrcLLJITGetTripleString(j->lljit),
                    LLVMOrcLLJITGetDataLayoutStr(j->lljit),
                    j->lim.region_max};
    if ((st = jit_region_module(&t, cx, entry, name, &m, size)))
        goto err_ctx;
    if ((st = optimise(j, m, *size))) {
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

/* Adds one to insn i's count (entered from jit_run: at least that insn
 * runs); true when it passed the threshold. */
static int count_hot(jit_engine *j, uint32_t i)
{
    uint32_t c = (uint32_t)__atomic_load_n(&j->count[i], __ATOMIC_RELAXED);
    int32_t n = (int32_t)(c + 1u);
    __atomic_store_n(&j->count[i], n, __ATOMIC_RELAXED);
    return n > __atomic_load_n(&j->tier.hot, __ATOMIC_RELAXED);
}

/* After a translation, LLVM is set up: the threshold drops to hot_warm
 * if that is lower (see jit.h).  Under j's lock. */
static void warm_up(jit_engine *j)
{
    int32_t w = (int32_t)j->lim.hot_warm;
    if (w > 0 && w < j->tier.hot)
        __atomic_store_n(&j->tier.hot, w, __ATOMIC_RELAXED);
}

/* Sets insn i's count (see JIT_COUNT_*). */
static void count_set(jit_engine *j, uint32_t i, int32_t n)
{
    __atomic_store_n(&j->count[i], n, __ATOMIC_RELAXED);
}

/* True when the hot insn i must wait for more work: the first time it
 * is hot, its threshold grows by hot_per_insn per insn of its region
 * (the count is set back by that much).  Under j's lock. */
static int wait_for_size(jit_engine *j, uint32_t i)
{
    if (j->sized[i] || j->lim.hot_per_insn == 0)
        return 0;
    j->sized[i] = 1;
    uint64_t more = (uint64_t)jit_region_size(j->code, i, j->lim.region_max) *
                    j->lim.hot_per_insn;
    if (more > (uint64_t)INT32_MAX / 2)
        more = INT32_MAX / 2;
    count_set(j, i, (int32_t)(j->tier.hot - (int64_t)more));
    return more > 0;
}

/* True when the limits let j translate one more region. */
static int within_budget(const jit_engine *j)
{
    return j->stats.regions < j->lim.regions &&
           j->stats.insns < j->lim.budget;
}

/* Decides on the hot insn i under j's lock: translates its region, or
 * waits for more work, or refuses for good (over budget, failed). */
static jit_fn decide(jit_engine *j, uint32_t i)
{
    jit_fn fn = j->fns[i];
    size_t size = 0;
    if (fn || j->bad[i] || wait_for_size(j, i))
        return fn;
    if (within_budget(j) && translate(j, i, &fn, &size) == DVM_OK) {
        j->stats.regions++;
        j->stats.insns += size;
        warm_up(j);
        __atomic_store_n(&j->fns[i], fn, __ATOMIC_RELEASE);
        count_set(j, i, JIT_COUNT_NATIVE);
    } else {
        __atomic_store_n(&j->bad[i], 1, __ATOMIC_RELEASE);
        count_set(j, i, JIT_COUNT_NEVER);
    }
    return fn;
}

/* The native entry of the region of insn i, entered once more: its code
 * when translated, or translated now when i is hot; NULL to interpret. */
static jit_fn region(jit_engine *j, uint32_t i)
{
    jit_fn fn = __atomic_load_n(&j->fns[i], __ATOMIC_ACQUIRE);
    if (fn)
        return fn;
    if (__atomic_load_n(&j->bad[i], __ATOMIC_ACQUIRE)) {
        count_set(j, i, JIT_COUNT_NEVER);   /* it ran up to hot again */
        return NULL;
    }
    if (!count_hot(j, i))
        return NULL;
    pthread_mutex_lock(&j->lock);
    fn = decide(j, i);
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

/* Disposes of j's LLJIT (and the code it holds), if any. */
static void drop_lljit(jit_engine *j)
{
    if (!j->lljit)
        return;
    LLVMErrorRef err = LLVMOrcDisposeLLJIT(j->lljit);
    if (err)
        LLVMConsumeError(err);
    j->lljit = NULL;
}

/* Makes j's target machine and LLJIT on the first translation (a program
 * that never gets hot never pays for them).  Under j's lock. */
static dvm_status make_llvm(jit_engine *j)
{
    if (j->lljit)
        return DVM_OK;
    if (j->llvm_broken)
        return status_set(DVM_EUNSUPP, "translator: no JIT");
    dvm_status st = make_tm(&j->tm, &j->vex);
    if (!st && (st = make_lljit(j)))
        drop_lljit(j);
    j->llvm_broken = st != DVM_OK;
    return st;
}

/* The limits the environment asks for: DVM_JIT unset or "tiered", or
 * "eager".  Returns DVM_EINVAL for anything else. */
static dvm_status env_limits(jit_limits *l)
{
    const char *v = getenv("DVM_JIT");
    if (!v || !*v || !strcmp(v, "tiered"))
        *l = jit_limits_tiered();
    else if (!strcmp(v, "eager"))
        *l = jit_limits_eager();
    else
        return status_set(DVM_EINVAL, "DVM_JIT=%s: expected tiered or eager",
                          v);
    return DVM_OK;
}

dvm_status jit_create(const vm_code *code, jit_engine **out)
{
    jit_limits l;
    dvm_status st = env_limits(&l);
    return st ? st : jit_create_limits(code, &l, out);
}

/* Frees j and what it owns. */
static void engine_free(jit_engine *j)
{
    drop_lljit(j);
    if (j->tm)
        LLVMDisposeTargetMachine(j->tm);
    dvm_free(j->fns);
    dvm_free(j->bad);
    dvm_free(j->sized);
    dvm_free(j->count);
    dvm_free(j);
}

dvm_status jit_create_limits(const vm_code *code, const jit_limits *l,
                             jit_engine **out)
{
    assert(code && l && l->region_max > 0 && l->hot <= INT32_MAX / 2 && out);
    if (!jit_available())
        return status_set(DVM_EUNSUPP, "translator: LLVM has no native "
                          "target here (use --engine interp)");
    jit_engine *j = dvm_calloc(1, sizeof *j);
    if (!j)
        return status_set(DVM_ENOMEM, "translator: out of memory");
    size_t n = code->ninsns + 1;
    j->code = code;
    j->lim = *l;
    j->nan_bits = host_default_nan();
    j->fns = dvm_calloc(n, sizeof *j->fns);
    j->bad = dvm_calloc(n, 1);
    j->sized = dvm_calloc(n, 1);
    j->count = dvm_calloc(n, sizeof *j->count);
    if (!j->fns || !j->bad || !j->sized || !j->count) {
        engine_free(j);
        return status_set(DVM_ENOMEM, "translator: out of memory");
    }
    j->tier = (vm_tier){j->count, code->cost, (int32_t)l->hot};
    pthread_mutex_init(&j->lock, NULL);
    *out = j;
    return DVM_OK;
}

void jit_destroy(jit_engine *j)
{
    if (!j)
        return;
    pthread_mutex_destroy(&j->lock);
    engine_free(j);
}

jit_stats jit_stats_get(const jit_engine *j)
{
    assert(j);
    jit_stats s;
    pthread_mutex_lock((pthread_mutex_t *)&j->lock);
    s = j->stats;
    pthread_mutex_unlock((pthread_mutex_t *)&j->lock);
    return s;
}

/* Interprets r from insn *i until it exits (returns the exit) or reaches
 * an instruction that is hot or translated (returns VM_EXIT_HOT, *i it). */
static int interpret(jit_engine *j, vm_runner *r, uint32_t *i)
{
    uint32_t at = 0;
    int rc = interp_run_tier(r, *i, &j->tier, &at);
    if (rc == VM_EXIT_HOT)
        *i = at;
    return rc;
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
        if (!fn) {              /* the state is memory and i: interpret */
            int rc = interpret(j, r, &i);
            if (rc != VM_EXIT_HOT)
                return rc;
            if (__atomic_load_n(&j->fns[i], __ATOMIC_ACQUIRE))
                count_set(j, i, JIT_COUNT_NATIVE);  /* no creeping up */
            continue;
        }
        /* Translated stores to the PR are not noted one by one: any PR
         * byte may now have been written (vm.h, prw_lo/hi); nor are those
         * inside the writable interval it caches, the own stack's
         * included (own_written). */
        r->prw_lo = 0;
        r->prw_hi = DISA_RB;
        r->own_written = 1;
        int rc = fn(&c, r->win);
        if (rc != JIT_CONTINUE)
            return rc;
        i = code_index(j->code, c.next);
        if (i == VM_NO_INSN)
            return vm_raise(r, VM_FAULT_EXEC, c.from, c.next);
    }
}
