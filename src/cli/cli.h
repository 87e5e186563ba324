/*
 * cli.h -- the subcommands of `dvm`.  Each returns the process exit status:
 * 0 success, 1 runner faults (run), 2 usage/assembly/load error.
 */
#ifndef DVM_CLI_H
#define DVM_CLI_H

int cmd_asm(int argc, char **argv);
int cmd_dis(int argc, char **argv);
int cmd_run(int argc, char **argv);
/* Internal: the RComp process body, started by the master. */
int cmd_rcomp(int argc, char **argv);

#endif
