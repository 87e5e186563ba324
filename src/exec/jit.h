/*
 * jit.h -- the translator: DISA to native code through LLVM's ORC JIT,
 * as the upper tier of a tiered engine.
 *
 * One jit_engine per RComp, for the life of the RComp: counts, translations
 * and the code they make are shared by every runner that runs the same
 * code.  jit_run has exactly the contract of interp_run (vm.h): same
 * exits, same faults with the same DISA instruction address.
 *
 * Tiering.  jit_run interprets first; the interpreter counts, per jump
 * target, the cost of the instructions it ran from there (in units of
 * its cheapest instruction, ~1-2 ns; a generic one -- an integer operand
 * through a pointer, a narrow type, a destination through a pointer --
 * counts 8: interp_cost), and a region
 * (jit_region.c) is translated only once its entry is hot: `hot` units
 * run from it, plus `hot_per_insn` more for each instruction the region
 * holds.  The defaults make that about twice what translating the region
 * costs (a few milliseconds for LLVM and the first region, some 50 us an
 * instruction), so
 * that translating never costs much more than interpreting the code it
 * replaces.  LLVM's set-up is paid once per engine: after the first
 * translation `hot` drops to `hot_warm` (about twice what a small region
 * costs then), so the second hot loop of a program is not interpreted as
 * long as the first.  A region holds at most `region_max` instructions, and an
 * engine translates at most `budget` instructions and `regions` regions
 * in all; past that it interprets.  With hot = 0 and hot_per_insn = 0
 * every region is translated at its first entry (DVM_JIT=eager in the
 * environment, or jit_limits_eager), which keeps the translator itself
 * covered by the tests.
 *
 * Shared translations (jit_share, jit_cache.h).  The RComps of one
 * program on one host share a directory: a region one engine translated
 * is loaded by the others (~0.3 ms, against 10-250 ms to translate), one
 * engine translates a region while the others interpret on, and a
 * region's heat is summed over the engines (each looks at the directory
 * every JIT_PROBE units it runs from a hot-candidate entry, and adds
 * them), so the thresholds above are per program, not per RComp.
 *
 * Translating beside the runner.  A translation takes milliseconds of
 * LLVM (tens for a large region) during which the runner that found the
 * region hot would wait.  When a CPU is idle at that moment (fewer
 * threads runnable on the host than CPUs this process may use, read from
 * /proc/loadavg), the engine hands the region to a thread of its own and
 * the runner interprets on; the thread installs the code when it is done
 * and the runner enters it the next time it reaches the region.  When
 * every CPU is busy the runner translates, as a second thread would only
 * take a CPU from another runner.  One region at a time is translated
 * beside the runner; meanwhile the engine decides nothing else (its hot
 * regions are looked at again a little later), so that LLVM is only ever
 * used by one thread.  jit_limits.background chooses: never, when a CPU
 * is idle (the tiered default), or always (for the tests);
 * DVM_JIT_BACKGROUND=off|idle|always in the environment sets it.
 *
 * Built only with LLVM; without it, jit_available() is 0 and jit_create
 * fails with DVM_EUNSUPP.
 */
#ifndef DVM_JIT_H
#define DVM_JIT_H

#include <stdint.h>

#include "exec/vm.h"
#include "util/status.h"

typedef struct jit_engine jit_engine;

typedef struct jit_limits {
    uint32_t hot;               /* cost run before a region is translated
                                   (units of interp_cost) */
    uint32_t hot_per_insn;      /* ... plus this many per insn it holds */
    uint32_t hot_warm;          /* hot once LLVM is set up, if lower (0: hot) */
    uint32_t region_max;        /* insns in one region, at most (> 0) */
    uint32_t regions;           /* regions per engine, at most */
    uint64_t budget;            /* insns translated per engine, at most */
    int background;             /* enum jit_background */
} jit_limits;

/* When a region is translated beside the runner (see above). */
enum jit_background {
    JIT_BG_OFF,                 /* never: the runner translates */
    JIT_BG_IDLE,                /* when a CPU is idle */
    JIT_BG_ALWAYS,              /* always */
};

typedef struct jit_stats {
    uint64_t regions;           /* regions translated */
    uint64_t insns;             /* instructions in them and loaded ones */
    uint64_t loaded;            /* regions loaded from the shared cache */
    uint64_t background;        /* ... of the translated: beside the
                                   runner */
} jit_stats;

/* The tiered defaults (docs/performance.md says how they were chosen). */
static inline jit_limits jit_limits_tiered(void)
{
    return (jit_limits){.hot = 1u << 24, .hot_per_insn = 50000,
                        .hot_warm = 1u << 21,
                        .region_max = 2000,
                        .regions = 4096, .budget = 1u << 18,
                        .background = JIT_BG_IDLE};
}

/* Every region translated at its first entry, by the runner. */
static inline jit_limits jit_limits_eager(void)
{
    jit_limits l = jit_limits_tiered();
    l.hot = l.hot_per_insn = 0;
    l.background = JIT_BG_OFF;
    return l;
}

int jit_available(void);
/* Creates an engine with the defaults: tiered, or eager when the
 * environment says DVM_JIT=eager, translating beside the runner as
 * DVM_JIT_BACKGROUND says when it is set.  Returns DVM_EINVAL for another
 * value of either, DVM_EUNSUPP without a translator, DVM_ENOMEM. */
dvm_status jit_create(const vm_code *code, jit_engine **out);
/* Creates an engine with limits l (copied). */
dvm_status jit_create_limits(const vm_code *code, const jit_limits *l,
                             jit_engine **out);
/* Destroys j; a translation its thread has begun is finished first. */
void jit_destroy(jit_engine *j);
/* Shares j's translations with the other engines of the program that
 * hashes to prog (its code and layout: what translated code depends on)
 * on this host, through the directory dir
 * (jit_cache.h): a hot region another engine put there is loaded, not
 * translated; one another engine is translating is interpreted on until
 * it is there; what j translates it puts there.  Translations are also
 * kept across runs (jit_cache_keep), in the user's cache directory
 * ($XDG_CACHE_HOME/dvm/jit or ~/.cache/dvm/jit; passed over in silence
 * when it cannot be used), in DIR with DVM_JIT_KEEP=DIR in the
 * environment (said and ignored when DIR cannot be used), nowhere with
 * DVM_JIT_KEEP=off (jit_cache_keep_where).  Returns
 * DVM_EIO (message set) when dir cannot be used: j then translates
 * alone. */
dvm_status jit_share(jit_engine *j, const char *dir, uint64_t prog);
/* What jit_translate_ahead did. */
typedef struct jit_ahead {
    uint64_t loops;             /* loop heads found (regions to keep) */
    uint64_t translated;        /* ... translated now */
    uint64_t kept;              /* ... kept already */
    uint64_t refused;           /* ... over the limits, or LLVM refused */
} jit_ahead;

/* Translates ahead of any run the region of every loop head of j's
 * program (the target of a backward `br`, where the tiering counts a
 * loop's work and a run would enter native code) and keeps it for the
 * program's later runs on this host, as a compiler builds ahead of time:
 * a later run loads each region the first time its loop is entered
 * instead of interpreting and translating.  j must share a cache that
 * keeps its entries (jit_share: DVM_JIT_KEEP, or the user's cache
 * directory); returns DVM_EINVAL (message set) when it does not.  Sets
 * *out on DVM_OK.  Not while j's thread translates (an engine that runs
 * nothing meanwhile, as `dvm translate`'s). */
dvm_status jit_translate_ahead(jit_engine *j, jit_ahead *out);
/* Runs the runner from fi.  Returns enum vm_exit. */
int jit_run(jit_engine *j, vm_runner *r, uint64_t fi);
/* What j translated so far. */
jit_stats jit_stats_get(const jit_engine *j);

#endif
