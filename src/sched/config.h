/*
 * config.h -- what a run of the master is told: the program, the RComps,
 * the engine, the channel bindings, the trace and progress options.
 * Filled by the command line (cli), read by the master and its RComp set.
 */
#ifndef DVM_SCHED_CONFIG_H
#define DVM_SCHED_CONFIG_H

#include <stddef.h>

#include "image/program.h"

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
} master_config;

#endif
