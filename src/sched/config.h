/*
 * config.h -- what a run of the master is told: the program, the RComps,
 * the engine, the channel bindings, the trace and progress options, the
 * obs hub that --http serves.
 * Filled by the command line (cli), read by the master and its RComp set.
 */
#ifndef DVM_SCHED_CONFIG_H
#define DVM_SCHED_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "image/program.h"
#include "obs/obs.h"

typedef struct master_binding {
    const char *name;           /* channel name */
    const char *path;           /* file */
} master_binding;

typedef struct master_config {
    const dvm_program *prog;    /* borrowed for the life of the master */
    const char *self_exe;       /* the dvm binary (RComps run `dvm __rcomp`) */
    int nrcomps;
    const char *engine;         /* "interp" or "jit" */
    const master_binding *in;  size_t nin;
    const master_binding *out; size_t nout;
    const char *trace_path;     /* NULL: no trace */
    int progress;               /* progress line on stderr */
    uint64_t max_runners;       /* most runners waiting at once (ready or
                                 * watching); 0: MASTER_MAX_RUNNERS */
    int heartbeat_s;            /* an RComp with runners in flight that
                                 * shows no sign of life this long is
                                 * replaced; 0: MASTER_HEARTBEAT_S */
    obs *obs;                   /* metrics and events (borrowed); NULL: none */
} master_config;

/* The default liveness bound, in seconds. */
#define MASTER_HEARTBEAT_S 10

/* The default bound on waiting runners: each costs the master a record
 * and its descriptor (a few hundred bytes), so this keeps a runaway
 * program (a runner fork bomb) to about a gigabyte of the master. */
#define MASTER_MAX_RUNNERS (1ULL << 22)

#endif
