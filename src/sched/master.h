/*
 * master.h -- the DVM master of a single-host DVM: scheduler master,
 * scheduler agent and memory service in one process, RComps as children.
 *
 * master_create loads a program into a fresh shared region (a commit of the
 * DVM's own per segment, one for the system page), starts the RComp
 * processes, and master_run drives the run to quiescence: it feeds runners
 * to RComps in batches, answers their page and frame requests, validates and
 * installs their commits in one total order, emits committed output, makes
 * created runners schedulable, wakes watchers, re-executes conflicting
 * runners (with a progress guarantee), and replaces RComps that die.
 * After the run, master_read reads the committed memory (for --dump).
 */
#ifndef DVM_MASTER_H
#define DVM_MASTER_H

#include <stddef.h>
#include <stdint.h>

#include "image/program.h"
#include "obs/obs.h"
#include "util/status.h"

typedef struct master master;

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
    obs *obs;                   /* metrics and events; NULL: none */
} master_config;

typedef struct master_stats {
    uint64_t runners_run;       /* attempts sent back by RComps */
    uint64_t runners_committed;
    uint64_t runners_aborted;
    uint64_t runners_faulted;
    uint64_t reexecuted;        /* attempts repeated after a conflict */
    uint64_t rerun_lost;        /* runners re-run because an RComp died */
    uint64_t exclusive_runs;    /* runs under the progress guarantee */
    uint64_t commits;
    uint64_t conflicts;
    uint64_t watchers_created;
    uint64_t watchers_woken;
    uint64_t watchers_dropped;
    uint64_t pages_prefetched;
    uint64_t pages_faulted;
    uint64_t pages_written;
    uint64_t page_requests;
    uint64_t rcomps_replaced;
    uint64_t signals;           /* system page commits after the start */
    uint64_t versions_freed;
    uint64_t ns_setup, ns_run, ns_commit, ns_dispatch;
} master_stats;

/* Creates the master, loads the program, starts RComps.  On success *out
 * owns everything (processes included). */
dvm_status master_create(const master_config *cfg, master **out);
/* Runs to quiescence.  Returns DVM_OK (runner faults are not errors: see
 * master_stats.runners_faulted) or a fatal error. */
dvm_status master_run(master *m);
/* Copies n bytes of committed memory at addr into buf. */
dvm_status master_read(const master *m, uint64_t addr, void *buf, size_t n);
const master_stats *master_get_stats(const master *m);
/* Prints the --stats report to stderr. */
void master_print_stats(const master *m);
/* Stops RComps, frees everything. */
void master_destroy(master *m);

#endif
