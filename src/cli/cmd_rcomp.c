/*
 * cmd_rcomp.c -- `dvm __rcomp`: the RComp process body (rcomp.h), started by
 * the master, never by users.
 */
#include "cli/cli.h"
#include "rcomp/rcomp.h"

int cmd_rcomp(int argc, char **argv) { return rcomp_main(argc, argv); }
