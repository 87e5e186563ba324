/*
 * main.c -- `dvm`: dispatch to a subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/version.h"

static void usage(FILE *f)
{
    fputs("usage: dvm asm PROG.dasm [-o PROG.dvm]   assemble\n"
          "       dvm dis PROG.dvm                  disassemble\n"
          "       dvm run [options] PROG.dasm|PROG.dvm\n"
          "       dvm --version                     versions of dvm, DISA, c0\n"
          "run options:\n"
          "  -n, --rcomps N          RComps (default: one per CPU)\n"
          "  --engine interp|jit     execution engine (default: jit if built)\n"
          "  --dump ADDR:COUNT:TYPE  print committed memory after the run\n"
          "  --in NAME=FILE          bind an input channel\n"
          "  --out NAME=FILE         bind an output channel\n"
          "  --stats                 counts and times on standard error\n"
          "  --trace FILE            Chrome trace-event JSON of the run\n"
          "  --http ADDR             serve /metrics (Prometheus) and the\n"
          "                          dashboard on HOST:PORT (default host\n"
          "                          127.0.0.1; port 0: any free port)\n"
          "  --linger SECONDS        with --http: keep serving after the run\n"
          "                          (until SIGINT or SIGTERM)\n",
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
    if (!strcmp(cmd, "__rcomp"))
        return cmd_rcomp(argc - 1, argv + 1);
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("dvm %s (DISA %s, c0 %s)\n", DVM_VERSION, DVM_DISA_VERSION,
               DVM_C0_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "dvm: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
