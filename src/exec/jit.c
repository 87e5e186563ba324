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
 * its region (jit_find_size, which needs no LLVM), the next time the region is translated
 * if the engine's budget allows, else the target is marked never to be
 * translated.  Native code returns JIT_CONTINUE with the address to go on
 * at when it leaves its region; jit_run enters that address's region if
 * translated, else interprets from there.  The per-instruction count
 * doubles as the interpreter's stop signal: a translated entry's count is
 * JIT_COUNT_NATIVE (above any threshold, so the interpreter stops there),
 * a refused one's JIT_COUNT_NEVER (2^31 instructions below it).
 *
 * The stages are files of their own (jit_ir.h lists them): jit_find.c
 * finds a region (in the binary: sizing one loads no LLVM), jit_region.c
 * builds its function, jit_lower.c lowers each
 * instruction, jit_promote.c keeps the region's hot PR words in registers,
 * jit_llvm.c optimises a region's module and adds it to the ORC JIT.
 * Those are LLVM's half, the backend (jit_backend.h): a module loaded the
 * first time a region is hot, so that a program that never gets hot never
 * pays for LLVM, not even for loading it.  This file is the engine: the
 * counts and the decisions, and the cache of native entries per
 * instruction for the life of the engine (one per RComp, shared by its
 * runners, like the counts).  With a shared cache (jit_share) decide()
 * first looks there: an entry another engine put is loaded; else the
 * region's heat over all engines decides, and a claim makes one engine
 * translate it while the others interpret on.  A loaded entry is mapped
 * by the project's own loader (jit_elf.c) when it can, so that an engine
 * that only loads what others translated (or what an earlier run kept)
 * never loads LLVM; what that loader does not handle goes to LLVM's.
 */
#include "exec/jit.h"

#include <assert.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "exec/jit_backend.h"
#include "exec/jit_cache.h"
#include "exec/jit_elf.h"
#include "exec/jit_find.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/spin.h"

enum {
    JIT_COUNT_NATIVE = INT32_MAX / 2,   /* count of a translated entry */
    JIT_COUNT_NEVER = INT32_MIN,        /* ... of one never translated */
    JIT_RECHECK = 1 << 20,      /* cost run between two looks at the
                                   shared cache while another engine
                                   translates a region (~2 ms) */
    JIT_PROBE = 1 << 16,        /* with a shared cache: cost run between
                                   two looks at it (and additions to the
                                   region's shared heat): ~0.1 ms, as a
                                   look that finds the region costs no
                                   LLVM (jit_elf.c) */
};

struct jit_engine {
    const vm_code *code;
    jit_limits lim;
    pthread_mutex_t lock;       /* serialises translation and decisions */
    const jit_backend_ops *ops; /* LLVM's half: loaded when first hot */
    jit_backend *be;            /* ... and made then */
    int broken;                 /* ... loading or making it failed */
    uint64_t nan_bits;          /* the host's default NaN */
    jit_fn *fns;                /* per insn: region entry, or NULL */
    uint8_t *bad;               /* per insn: never to be translated */
    uint8_t *sized;             /* per insn: threshold raised by its size */
    int32_t *count;             /* per insn: cost run from it (vm_tier) */
    vm_tier tier;
    jit_stats stats;            /* under lock */
    jit_cache *cache;           /* shared with the program's other RComps
                                   (jit_share), or NULL */
    uint64_t prog;              /* ... the program's hash */
    uint64_t host;              /* ... what code depends on of the host */
    uint8_t *refused;           /* per insn: its shared entry was bad */
    int32_t level;              /* ... the shared heat that makes a region
                                   hot (tier.hot: JIT_PROBE) */
    uint32_t *more;             /* ... per insn: the heat its region's size
                                   adds to level (once sized) */
    jit_elf_image **imgs;       /* ... regions loaded without LLVM */
    size_t nimgs, capimgs;
    /* Translating beside the runner (jit.h), all under lock: */
    pthread_t bg;               /* the thread that translates */
    int bg_made;                /* ... once made */
    pthread_cond_t bg_wake;     /* a region given to it, or bg_stop */
    uint32_t bg_entry;          /* the region it translates, VM_NO_INSN
                                   when none: LLVM is its meanwhile */
    int bg_claimed;             /* ... claimed in the shared cache */
    int bg_stop;                /* the engine is being destroyed */
};

/* ---- the engine ---------------------------------------------------------- */

/* Makes j's backend when a region is first hot: a program that never
 * gets hot never loads LLVM.  A module that cannot be loaded is said once
 * (the engine interprets from then on).  Under j's lock. */
static dvm_status make_backend(jit_engine *j)
{
    if (j->be)
        return DVM_OK;
    if (j->broken)
        return status_set(DVM_EUNSUPP, "translator: not available");
    dvm_status st = jit_backend_load(&j->ops);
    if (st)
        fprintf(stderr, "dvm: %s; interpreting\n", status_message());
    else
        st = j->ops->create(&j->be);
    j->broken = st != DVM_OK;
    return st;
}

/* The symbol of the region of entry: the same in every engine of the
 * program, so that one engine's object code is found by another's. */
static void region_name(uint32_t entry, char *buf, size_t cap)
{
    snprintf(buf, cap, "dvm_region_%u", entry);
}

/* Translates the region of entry and returns its native code in *out and
 * its size in *size, and its object code in *obj when obj is not NULL.
 * Under j's lock, with j's backend made. */
static dvm_status translate(jit_engine *j, uint32_t entry, jit_fn *out,
                            size_t *size, jit_object *obj)
{
    char name[32];
    region_name(entry, name, sizeof name);
    jit_request q = {j->code, entry, j->lim.region_max, j->nan_bits, name};
    uint64_t t0 = clock_now_ns();
    dvm_status st = j->ops->translate(j->be, &q, out, size, obj);
    if (j->cache)               /* --stats: what translating cost */
        jit_cache_add(j->cache, offsetof(jit_cache_counts, translate_us),
                      (clock_now_ns() - t0) / 1000);
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
    if (j->cache && w > 0 && w < j->level)
        j->level = w;
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
    uint64_t more = (uint64_t)jit_find_size(j->code, i, j->lim.region_max) *
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

/* Installs fn, the native code of the region of insn i (size insns).
 * Under j's lock. */
static void install(jit_engine *j, uint32_t i, jit_fn fn, size_t size)
{
    j->stats.insns += size;
    warm_up(j);
    __atomic_store_n(&j->fns[i], fn, __ATOMIC_RELEASE);
    count_set(j, i, JIT_COUNT_NATIVE);
}

/* The shared cache's key of the region of insn i. */
static jit_cache_key cache_key(const jit_engine *j, uint32_t i)
{
    return (jit_cache_key){j->prog, j->host, i, j->lim.region_max};
}

/* Loads the object code obj of len bytes, the region of insn i, into *fn
 * without LLVM (jit_elf.c), the image kept until j is destroyed.
 * DVM_EUNSUPP (message set) when that loader cannot load it.  Under j's
 * lock. */
static dvm_status load_native(jit_engine *j, uint32_t i, const uint8_t *obj,
                              size_t len, jit_fn *fn)
{
    char name[32];
    region_name(i, name, sizeof name);
    jit_elf_image **a = dvm_grow(j->imgs, &j->capimgs, j->nimgs + 1,
                                 sizeof *a);
    if (!a)
        return status_set(DVM_ENOMEM, "translator: out of memory");
    j->imgs = a;
    dvm_status st = jit_elf_load(obj, len, jit_helpers, jit_nhelpers, name,
                                 &a[j->nimgs], fn);
    if (!st) {
        j->nimgs++;
        jit_cache_count(j->cache, offsetof(jit_cache_counts, native));
    }
    return st;
}

/* Loads the object code obj of len bytes, the region of insn i, into *fn
 * with LLVM's loader.  DVM_EUNSUPP (said) when there is no backend. */
static dvm_status load_llvm(jit_engine *j, uint32_t i, const uint8_t *obj,
                            size_t len, jit_fn *fn)
{
    char name[32];
    region_name(i, name, sizeof name);
    dvm_status st = make_backend(j);
    return st ? st : j->ops->load(j->be, obj, len, name, fn);
}

/* Loads the region of insn i from j's shared cache if another engine put
 * it there: without LLVM when it can, else with it.  Returns 1 when
 * loaded (*fn set), 0 when there is no usable entry (a bad one said
 * once).  Under j's lock. */
static int load_shared(jit_engine *j, uint32_t i, jit_fn *fn)
{
    jit_cache_key k = cache_key(j, i);
    uint8_t *obj;
    size_t len;
    uint32_t insns;
    dvm_status st = jit_cache_get(j->cache, &k, &obj, &len, &insns);
    if (st == DVM_ENOENT)
        return 0;
    if (!st) {
        st = load_native(j, i, obj, len, fn);
        if (st == DVM_EUNSUPP)
            st = load_llvm(j, i, obj, len, fn);
        dvm_free(obj);
        if (!st) {
            j->stats.loaded++;
            jit_cache_count(j->cache, offsetof(jit_cache_counts, loaded));
            install(j, i, *fn, insns);
            return 1;
        }
    }
    if (st && st != DVM_EUNSUPP) {      /* EUNSUPP: no backend, said */
        fprintf(stderr, "dvm: %s; translating it here\n", status_message());
        jit_cache_count(j->cache, offsetof(jit_cache_counts, bad));
    }
    j->refused[i] = 1;
    return 0;
}

/* With a shared cache: adds what insn i ran since its count was last set
 * to its heat summed over the program's engines, and starts its count
 * again; true while that heat is at most level, plus hot_per_insn per
 * insn of its region once past level (the region is sized then,
 * without LLVM: jit_find.h).  So N engines running one loop make it hot N times
 * sooner than one.  Under j's lock. */
static int still_cold(jit_engine *j, uint32_t i)
{
    int32_t c = __atomic_load_n(&j->count[i], __ATOMIC_RELAXED);
    uint64_t heat = jit_cache_heat(j->cache, i, c > 0 ? (uint64_t)c : 0);
    count_set(j, i, 0);
    uint64_t need = (uint64_t)j->level;
    if (heat <= need)
        return 1;
    if (!j->sized[i] && j->lim.hot_per_insn) {
        j->sized[i] = 1;
        uint64_t more = (uint64_t)jit_find_size(j->code, i,
                                                j->lim.region_max) *
                        j->lim.hot_per_insn;
        j->more[i] = (uint32_t)(more < INT32_MAX / 2 ? more : INT32_MAX / 2);
    }
    return heat <= need + j->more[i];
}

/* With a shared cache, the hot insn i: 1 when decided for now (*fn:
 * loaded, or NULL: still cold over all engines, or another engine is
 * translating it: interpret on and look again), 0 to go on here
 * (*claimed: this engine claimed it).  Under j's lock. */
static int shared(jit_engine *j, uint32_t i, jit_fn *fn, int *claimed)
{
    *claimed = 0;
    if (!j->cache || j->refused[i])
        return 0;
    if (load_shared(j, i, fn))
        return 1;
    if (j->refused[i])
        return 0;               /* a bad entry: translated here */
    if (still_cold(j, i))
        return 1;
    jit_cache_key k = cache_key(j, i);
    if (jit_cache_claim(j->cache, &k)) {
        *claimed = 1;
        return 0;
    }
    count_set(j, i, j->tier.hot - JIT_RECHECK);
    return 1;
}

/* Puts the object code of the region of insn i (size insns) into j's
 * shared cache; a failure is said, the region is translated anyway. */
static void put_shared(jit_engine *j, uint32_t i, size_t size,
                       jit_object *obj)
{
    jit_cache_key k = cache_key(j, i);
    if (jit_cache_put(j->cache, &k, (uint32_t)size, obj->p, obj->len))
        fprintf(stderr, "dvm: %s\n", status_message());
    dvm_free(obj->p);
}

/* Ends the translation of the region of insn i: st DVM_OK installs fn
 * (size insns) and puts its object obj (consumed) in the shared cache;
 * a failure marks i never to be translated and gives up the shared claim
 * when claimed.  Returns fn, or NULL on failure.  Under j's lock. */
static jit_fn settle(jit_engine *j, uint32_t i, dvm_status st, jit_fn fn,
                     size_t size, jit_object *obj, int claimed)
{
    if (st == DVM_OK) {
        j->stats.regions++;
        if (j->cache) {
            put_shared(j, i, size, obj);
            jit_cache_count(j->cache, offsetof(jit_cache_counts, translated));
        }
        install(j, i, fn, size);
        return fn;
    }
    if (claimed) {
        jit_cache_key k = cache_key(j, i);
        jit_cache_unclaim(j->cache, &k);
    }
    __atomic_store_n(&j->bad[i], 1, __ATOMIC_RELEASE);
    count_set(j, i, JIT_COUNT_NEVER);
    return NULL;
}

/* Interprets on from the hot insn i and looks at it again after
 * JIT_RECHECK more units.  Returns NULL. */
static jit_fn look_later(jit_engine *j, uint32_t i)
{
    count_set(j, i, j->tier.hot - JIT_RECHECK);
    return NULL;
}

/* True when a CPU this process may use is idle now: fewer threads are
 * runnable on the host (/proc/loadavg's fourth field, the caller
 * included) than CPUs in the process's affinity mask (spin_cpus).  False
 * when that cannot be read: the runner translates, as it always did. */
static int cpu_idle(void)
{
    char buf[128];
    int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    unsigned running;
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    if (sscanf(buf, "%*s %*s %*s %u/", &running) != 1)
        return 0;
    return running < (unsigned)spin_cpus();
}

/* The translating thread of j: takes the region given in bg_entry,
 * translates it outside j's lock (nothing else uses LLVM meanwhile:
 * decide() waits for bg_entry to clear) and settles it under the lock.
 * Stopped (jit_destroy), it ends a translation begun and drops a region
 * given but not begun, its shared claim given up for the others. */
static void *bg_main(void *arg)
{
    jit_engine *j = arg;
    pthread_mutex_lock(&j->lock);
    for (;;) {
        while (!j->bg_stop && j->bg_entry == VM_NO_INSN)
            pthread_cond_wait(&j->bg_wake, &j->lock);
        if (j->bg_stop)
            break;              /* a region given, not begun: dropped */
        uint32_t i = j->bg_entry;
        pthread_mutex_unlock(&j->lock);
        jit_fn fn = NULL;
        size_t size = 0;
        jit_object obj = {NULL, 0};
        dvm_status st = translate(j, i, &fn, &size, j->cache ? &obj : NULL);
        pthread_mutex_lock(&j->lock);
        if (settle(j, i, st, fn, size, &obj, j->bg_claimed)) {
            j->stats.background++;
            if (j->cache)
                jit_cache_count(j->cache,
                                offsetof(jit_cache_counts, background));
        }
        j->bg_entry = VM_NO_INSN;
    }
    if (j->bg_entry != VM_NO_INSN && j->bg_claimed) {
        jit_cache_key k = cache_key(j, j->bg_entry);
        jit_cache_unclaim(j->cache, &k);    /* others may translate it */
    }
    j->bg_entry = VM_NO_INSN;
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

/* Makes j's translating thread, with every signal blocked (the runner's
 * thread takes the process's signals).  Returns 0, or -1 when it cannot
 * be made.  Under j's lock. */
static int bg_make(jit_engine *j)
{
    if (j->bg_made)
        return 0;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&j->bg, NULL, bg_main, j);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        return -1;
    j->bg_made = 1;
    return 0;
}

/* Gives the region of the hot insn i (claimed: its shared claim is j's)
 * to j's thread when the limits and the CPUs allow it: returns 1, and the
 * runner interprets on.  Returns 0 for the runner to translate it (a
 * thread that cannot be made is not tried again).  Under j's lock, with
 * j's backend made. */
static int bg_give(jit_engine *j, uint32_t i, int claimed)
{
    assert(j->bg_entry == VM_NO_INSN);
    if (j->lim.background == JIT_BG_OFF ||
        (j->lim.background == JIT_BG_IDLE && !cpu_idle()))
        return 0;
    if (bg_make(j)) {
        j->lim.background = JIT_BG_OFF;
        return 0;
    }
    j->bg_entry = i;
    j->bg_claimed = claimed;
    pthread_cond_signal(&j->bg_wake);
    look_later(j, i);
    return 1;
}

/* Decides on the hot insn i under j's lock: loads its region from the
 * shared cache, translates it here or beside the runner, or waits for
 * more work (or for another engine's or j's thread's translation), or
 * refuses for good (over budget, failed). */
static jit_fn decide(jit_engine *j, uint32_t i)
{
    jit_fn fn = j->fns[i];
    size_t size = 0;
    int claimed;
    if (fn || j->bad[i])
        return fn;
    if (j->bg_entry != VM_NO_INSN)      /* LLVM is the thread's for now */
        return look_later(j, i);
    if (shared(j, i, &fn, &claimed))
        return fn;
    if (wait_for_size(j, i))
        return fn;
    int ok = make_backend(j) == DVM_OK && within_budget(j);
    if (ok && bg_give(j, i, claimed))
        return NULL;
    jit_object obj = {NULL, 0};
    dvm_status st = ok ? translate(j, i, &fn, &size,
                                   j->cache ? &obj : NULL) : DVM_EUNSUPP;
    return settle(j, i, st, fn, size, &obj, claimed);
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

int jit_available(void)
{
    return jit_backend_present();
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

/* What translated code depends on of the host: the backend's interface,
 * the default NaN, the name of the host, and on x86 the CPU's vendor,
 * model and features as LLVM reads them (CPUID leaves 0, 1 without the
 * core's APIC id, 7, and the state the OS enables, XCR0), so that an
 * entry kept in a directory other hosts share is never loaded on a CPU
 * that lacks what it uses. */
static uint64_t host_tag(uint64_t nan_bits)
{
    struct {
        uint64_t abi, nan;
        uint32_t cpu[14];
        char name[64];
    } t;
    memset(&t, 0, sizeof t);
    t.abi = JIT_BACKEND_ABI;
    t.nan = nan_bits;
    uint32_t *w = t.cpu;
#if defined(__x86_64__)
    __get_cpuid(0, &w[0], &w[1], &w[2], &w[3]);
    __get_cpuid(1, &w[4], &w[5], &w[6], &w[7]);
    w[5] &= 0x00ffffffu;        /* bits 31-24: this core's APIC id */
    __get_cpuid_count(7, 0, &w[8], &w[9], &w[10], &w[11]);
    if (w[6] & (1u << 27))      /* OSXSAVE: XCR0 readable */
        __asm__ volatile("xgetbv" : "=a"(w[12]), "=d"(w[13]) : "c"(0));
#else
    (void)w;
#endif
    gethostname(t.name, sizeof t.name - 1);
    return jit_cache_hash(&t, sizeof t, 0);
}

/* The limits the environment asks for: DVM_JIT unset or "tiered", or
 * "eager", and DVM_JIT_BACKGROUND unset (the limits' own), "off", "idle"
 * or "always".  Returns DVM_EINVAL for anything else. */
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
    const char *b = getenv("DVM_JIT_BACKGROUND");
    if (!b || !*b)
        return DVM_OK;
    static const char *const names[] = {"off", "idle", "always"};
    for (int k = 0; k < 3; k++)
        if (!strcmp(b, names[k])) {
            l->background = k;
            return DVM_OK;
        }
    return status_set(DVM_EINVAL, "DVM_JIT_BACKGROUND=%s: expected off, "
                      "idle or always", b);
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
    if (j->be)
        j->ops->destroy(j->be);
    dvm_free(j->fns);
    dvm_free(j->bad);
    dvm_free(j->sized);
    dvm_free(j->count);
    dvm_free(j->refused);
    dvm_free(j->more);
    for (size_t k = 0; k < j->nimgs; k++)
        jit_elf_free(j->imgs[k]);
    dvm_free(j->imgs);
    jit_cache_close(j->cache);
    dvm_free(j);
}

dvm_status jit_create_limits(const vm_code *code, const jit_limits *l,
                             jit_engine **out)
{
    assert(code && l && l->region_max > 0 && l->hot <= INT32_MAX / 2 && out);
    if (!jit_available())
        return status_set(DVM_EUNSUPP, "translator: not installed (no "
                          "dvm-jit.so; use --engine interp)");
    jit_engine *j = dvm_calloc(1, sizeof *j);
    if (!j)
        return status_set(DVM_ENOMEM, "translator: out of memory");
    size_t n = code->ninsns + 1;
    j->code = code;
    j->lim = *l;
    j->nan_bits = host_default_nan();
    j->host = host_tag(j->nan_bits);
    j->fns = dvm_calloc(n, sizeof *j->fns);
    j->bad = dvm_calloc(n, 1);
    j->sized = dvm_calloc(n, 1);
    j->count = dvm_calloc(n, sizeof *j->count);
    j->refused = dvm_calloc(n, 1);
    j->more = dvm_calloc(n, sizeof *j->more);
    if (!j->fns || !j->bad || !j->sized || !j->count || !j->refused ||
        !j->more) {
        engine_free(j);
        return status_set(DVM_ENOMEM, "translator: out of memory");
    }
    j->tier = (vm_tier){j->count, code->cost, (int32_t)l->hot};
    j->bg_entry = VM_NO_INSN;
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->bg_wake, NULL);
    *out = j;
    return DVM_OK;
}

void jit_destroy(jit_engine *j)
{
    if (!j)
        return;
    if (j->bg_made) {           /* its translation, if any, ends first */
        pthread_mutex_lock(&j->lock);
        j->bg_stop = 1;
        pthread_cond_signal(&j->bg_wake);
        pthread_mutex_unlock(&j->lock);
        pthread_join(j->bg, NULL);
    }
    pthread_cond_destroy(&j->bg_wake);
    pthread_mutex_destroy(&j->lock);
    engine_free(j);
}

/* DVM_JIT_KEEP_MAX: the bound on kept translations in MiB (1..2^20), 0
 * (the default) when unset; anything else is said (by each engine) and
 * ignored. */
static uint64_t keep_bound(void)
{
    const char *v = getenv("DVM_JIT_KEEP_MAX");
    if (!v || !*v)
        return 0;
    char *end;
    unsigned long long mib = strtoull(v, &end, 10);
    if (*end || mib < 1 || mib > (1ull << 20)) {
        fprintf(stderr, "dvm: DVM_JIT_KEEP_MAX=%s is not a size in MiB "
                "(1..1048576); keeping at most %llu MiB\n", v,
                (unsigned long long)(JIT_CACHE_KEEP_MAX >> 20));
        return 0;
    }
    return (uint64_t)mib << 20;
}

/* Keeps c's translations across runs where the environment says
 * (jit_cache_keep_where: DVM_JIT_KEEP, else the user's cache directory).
 * A directory named by DVM_JIT_KEEP that cannot be used is said; the
 * default one is made if missing and passed over in silence when it
 * cannot be used (a service whose home is not writable): keeping is an
 * optimisation, never a reason to fail or to speak at every run. */
static void keep_open(jit_cache *c)
{
    char dir[4096];
    int dflt = 0;
    if (!jit_cache_keep_where(getenv("DVM_JIT_KEEP"),
                              getenv("XDG_CACHE_HOME"), getenv("HOME"),
                              dir, sizeof dir, &dflt))
        return;
    if (dflt && jit_cache_make_parents(dir) < 0)
        return;
    if (jit_cache_keep(c, dir, jit_backend_tag()) == DVM_OK)
        jit_cache_keep_bound(c, keep_bound());
    else if (!dflt)
        fprintf(stderr, "dvm: %s; not keeping translations\n",
                status_message());
}

dvm_status jit_share(jit_engine *j, const char *dir, uint64_t prog)
{
    assert(j && dir && !j->cache);
    jit_cache *c;
    dvm_status st = jit_cache_open(dir, &c);
    if (st)
        return st;
    keep_open(c);
    pthread_mutex_lock(&j->lock);
    j->cache = c;
    j->prog = prog;
    j->level = j->tier.hot;     /* now summed over the engines */
    if (j->tier.hot > JIT_PROBE)
        __atomic_store_n(&j->tier.hot, JIT_PROBE, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&j->lock);
    return DVM_OK;
}

/* Marks in back[] (code->ninsns bytes, zeroed) every loop head: the
 * target of a `br` at or after it. */
static void mark_loop_heads(const vm_code *code, uint8_t *back)
{
    for (uint32_t k = 0; k < code->ninsns; k++) {
        const vm_insn *in = &code->insns[k];
        if (in->op == ISA_OP_BR && in->target != VM_NO_INSN &&
            in->target <= k)
            back[in->target] = 1;
    }
}

/* Translates the region of loop head i ahead for jit_translate_ahead,
 * counting into *a.  Under j's lock. */
static void ahead_one(jit_engine *j, uint32_t i, jit_ahead *a)
{
    jit_cache_key k = cache_key(j, i);
    uint8_t *obj;
    size_t len, size = 0;
    uint32_t insns;
    a->loops++;
    if (jit_cache_get(j->cache, &k, &obj, &len, &insns) == DVM_OK) {
        dvm_free(obj);
        a->kept++;
        return;
    }
    jit_fn fn = NULL;
    jit_object o = {NULL, 0};
    dvm_status st = make_backend(j);
    if (!st)
        st = within_budget(j) ? translate(j, i, &fn, &size, &o)
                              : DVM_ERANGE;
    if (settle(j, i, st, fn, size, &o, 0))
        a->translated++;
    else
        a->refused++;
}

dvm_status jit_translate_ahead(jit_engine *j, jit_ahead *out)
{
    assert(j && out);
    if (!j->cache || !jit_cache_keeps(j->cache))
        return status_set(DVM_EINVAL, "translations are kept nowhere "
                          "(DVM_JIT_KEEP=off, or no cache directory)");
    uint8_t *back = dvm_calloc(j->code->ninsns + 1, 1);
    if (!back)
        return status_set(DVM_ENOMEM, "translator: out of memory");
    mark_loop_heads(j->code, back);
    jit_ahead a = {0, 0, 0, 0};
    pthread_mutex_lock(&j->lock);
    assert(j->bg_entry == VM_NO_INSN);  /* LLVM is this thread's */
    for (uint32_t i = 0; i < j->code->ninsns; i++)
        if (back[i] && !j->fns[i] && !j->bad[i])
            ahead_one(j, i, &a);
    pthread_mutex_unlock(&j->lock);
    dvm_free(back);
    *out = a;
    return DVM_OK;
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
    jit_ctx c = {r, 0, 0, 0, 0, DISA_RB, 0};     /* no PR bytes noted */
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
        /* Translated code notes its computed-address PR stores in c, as
         * the interpreter does in r (vm.h, prw_lo/hi; a direct one is
         * among the code's pr_pages; the helpers note theirs in r), and
         * c is merged into r after each call.  Its stores inside the
         * writable interval it caches are not checked one by one, the
         * own stack's included (own_written). */
        r->own_written = 1;
        int rc = fn(&c, r->win);
        vm_note_pr_range(r, c.prw_lo, c.prw_hi);
        if (rc != JIT_CONTINUE)
            return rc;
        i = code_index(j->code, c.next);
        if (i == VM_NO_INSN)
            return vm_raise(r, VM_FAULT_EXEC, c.from, c.next);
    }
}
