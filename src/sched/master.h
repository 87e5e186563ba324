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
#include <stdio.h>

#include "sched/commit.h"
#include "sched/config.h"
#include "sched/rcomps.h"
#include "sched/stats.h"
#include "util/status.h"

typedef struct master master;

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
/* The same report to f. */
void master_fprint_stats(const master *m, FILE *f);
/* The RComp set and the commit point, for the cluster master, which adds
 * remote RComps and relays their messages (config.h, master_remote). */
rcomp_set *master_rcomps(master *m);
commit_point *master_commit_point(master *m);
/* Ends the output after the run: warns of bytes sent to unbound channels,
 * closes the output files (--out).  DVM_OK, or the first failure (its
 * message names the channel; any later one is printed here); every file
 * is closed either way.  master_destroy does the same, silently, when
 * this was not called. */
dvm_status master_close_outputs(master *m);
/* Stops RComps, frees everything. */
void master_destroy(master *m);

#endif
