/*
 * cli.h -- the subcommands of `dvm`.  Each returns the process exit status:
 * 0 success, 1 runner faults (run), 2 usage/assembly/load error.
 */
#ifndef DVM_CLI_H
#define DVM_CLI_H

#include <stddef.h>

#include "cluster/auth.h"

int cmd_asm(int argc, char **argv);
int cmd_dis(int argc, char **argv);
int cmd_run(int argc, char **argv);
/* The cluster (docs/cluster.md). */
int cmd_master(int argc, char **argv);
int cmd_node(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_status(int argc, char **argv);
/* Reads --secret-file path into *s (owned; NULL when path is NULL).
 * Returns 0 or 2 (message printed). */
int cli_load_secret(const char *path, auth_secret **s);
void cli_free_secret(auth_secret *s);
/* Internal: the RComp process body, started by the master. */
int cmd_rcomp(int argc, char **argv);

#endif
