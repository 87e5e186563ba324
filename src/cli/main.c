/*
 * main.c -- `dvm`: dispatch to a subcommand, once standard descriptors
 * 0-2 are known to be open (util/stdfds.h); a failed write to standard
 * output is exit status 2 with a message, whatever the subcommand.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/stdfds.h"
#include "util/version.h"

static void usage(FILE *f)
{
    fputs("usage: dvm asm PROG.dasm [-o PROG.dvm]   assemble\n"
          "       dvm dis PROG.dvm                  disassemble\n"
          "       dvm cc [options] FILE.c0... [-o OUT.dasm]  compile c0\n"
          "       dvm run [options] PROG.dasm|PROG.dvm|PROG.c0\n"
          "       dvm translate [run options] PROG  translate its loops "
          "ahead, for its runs here\n"
          "       dvm master [--listen HOST:PORT] [--secret-file F] "
          "[--http HOST:PORT] [--state DIR] [--heartbeat S]\n"
          "                [--results-with-data | --masks-only]\n"
          "       dvm node --master HOST:PORT [--rcomps N] [--secret-file F] "
          "[--name NAME]\n"
          "                [--reconnect S] [--heartbeat S] [--drain-wait S]\n"
          "                [--listen HOST:PORT]\n"
          "       dvm node --drain NAME --master HOST:PORT [--secret-file F] "
          "[--drain-wait S]\n"
          "       dvm submit --master HOST:PORT [--secret-file F] "
          "[--reconnect S] [run options] PROG\n"
          "       dvm status --master HOST:PORT [--secret-file F] [--json]\n"
          "       dvm --version                     versions of dvm, DISA, c0\n"
          "run options:\n"
          "  -n, --rcomps N          RComps (default: one per CPU)\n"
          "  --engine interp|jit     execution engine (default: jit if built)\n"
          "  --dump ADDR:COUNT:TYPE  print committed memory after the run\n"
          "  --in NAME=FILE          bind an input channel (a pipe is read "
          "whole first)\n"
          "  --in-wait SECONDS       give up on a pipe silent this long "
          "(default 30)\n"
          "  --out NAME=FILE         bind an output channel\n"
          "  --max-runners N         most runners waiting at once; a commit "
          "that\n"
          "                          would pass it faults (default 4194304)\n"
          "  --heartbeat SECONDS     replace an RComp silent this long with "
          "runners\n"
          "                          in flight (stopped?) (default 10)\n"
          "  --local-children        an RComp with nothing queued starts a\n"
          "                          committed runner's child at once, kept\n"
          "                          if what it read did not change (off)\n"
          "  --stats                 counts and times on standard error\n"
          "  --trace FILE            Chrome trace-event JSON of the run\n"
          "  --http ADDR             serve /metrics (Prometheus) and the\n"
          "                          dashboard on HOST:PORT (default host\n"
          "                          127.0.0.1; port 0: any free port)\n"
          "  --linger SECONDS        with --http: keep serving after the run\n"
          "                          (until SIGINT or SIGTERM)\n"
          "master and node options:\n"
          "  --heartbeat SECONDS     give up a peer silent this long, at "
          "least 0.4\n"
          "                          (default: master 0.7 for its nodes, node "
          "5 for\n"
          "                          its master)\n"
          "  SIGTERM to a node       it leaves in order: finishes its runners "
          "(at\n"
          "                          most --drain-wait S, default 10), gives "
          "back\n"
          "                          the rest, exits 0\n"
          "  dvm node --drain NAME   the same, asked through the master "
          "(NAME as\n"
          "                          dvm status shows it); waits until it "
          "left:\n"
          "                          0, unknown name 2, lost on the way 1\n",
          f);
}

/* Flushes and closes standard output, so that a failed write (a full
 * disk, /dev/full, a closed pipe) is an error, not lost output.  Returns
 * rc, or 2 with a message (none when rc is 2 already: the command has
 * reported its failure). */
static int close_stdout(int rc)
{
    int bad = ferror(stdout);
    errno = 0;
    if ((fclose(stdout) == 0 && !bad) || rc == 2)
        return rc;
    fprintf(stderr, "dvm: error writing standard output%s%s\n",
            errno ? ": " : "", errno ? strerror(errno) : "");
    return 2;
}

static int dispatch(int argc, char **argv)
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
    if (!strcmp(cmd, "cc"))
        return cmd_cc(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "translate"))
        return cmd_translate(argc - 1, argv + 1);
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

int main(int argc, char **argv)
{
    /* First of all, in the master and in every RComp (the same binary):
     * a closed standard descriptor must not become the frame store. */
    if (stdfds_ensure()) {
        fprintf(stderr, "dvm: %s\n", status_message());
        return 2;
    }
    return close_stdout(dispatch(argc, argv));
}
