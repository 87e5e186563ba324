/*
 * main.c -- `dvm`: dispatch to a subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
    fputs("usage: dvm asm PROG.dasm [-o PROG.dvm]   assemble\n"
          "       dvm dis PROG.dvm                  disassemble\n"
          "       dvm run [options] PROG.dasm|PROG.dvm\n"
          "run options:\n"
          "  -n, --rcomps N          RComps (default: one per CPU)\n"
          "  --engine interp|jit     execution engine (default: jit if built)\n"
          "  --dump ADDR:COUNT:TYPE  print committed memory after the run\n"
          "  --in NAME=FILE          bind an input channel\n"
          "  --out NAME=FILE         bind an output channel\n"
          "  --stats                 counts and times on standard error\n"
          "  --trace FILE            Chrome trace-event JSON of the run\n"
          "       dvm master [--listen HOST:PORT] [--secret-file F]\n"
          "       dvm node --master HOST:PORT [--rcomps N] [--secret-file F]\n"
          "       dvm submit --master HOST:PORT [--secret-file F] [run "
          "options] PROG\n"
          "       dvm status --master HOST:PORT [--secret-file F] [--json]\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "asm"))
        return cmd_asm(argc - 1, argv + 1);
    if (!strcmp(cmd, "dis"))
        return cmd_dis(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "master"))
        return cmd_master(argc - 1, argv + 1);
    if (!strcmp(cmd, "node"))
        return cmd_node(argc - 1, argv + 1);
    if (!strcmp(cmd, "submit"))
        return cmd_submit(argc - 1, argv + 1);
    if (!strcmp(cmd, "status"))
        return cmd_status(argc - 1, argv + 1);
    if (!strcmp(cmd, "__rcomp"))
        return cmd_rcomp(argc - 1, argv + 1);
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "dvm: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
