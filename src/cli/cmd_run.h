/*
 * cmd_run.h -- what `dvm run` and `dvm submit` share: the options of a
 * run, their parsing, the checks made before anything runs, and the
 * printing of dumped values.
 */
#ifndef DVM_CLI_CMD_RUN_H
#define DVM_CLI_CMD_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "cc/cc.h"
#include "cli/cli.h"
#include "image/program.h"
#include "sched/config.h"

#define RUN_MAX_DUMPS 64
#define RUN_MAX_BINDINGS 32
#define RUN_IN_WAIT_S 30        /* default bound on the wait for piped input */

typedef struct run_dump {
    const char *addr_expr, *count_expr;
    int type;
} run_dump;

typedef struct run_opts {
    const char *cmd;            /* "run" or "submit" (usage messages) */
    int nrcomps;
    const char *engine;
    const char *path;
    const char *trace;
    const char *http;           /* --http ADDR */
    double linger;              /* --linger SECONDS */
    int stats;
    run_dump dumps[RUN_MAX_DUMPS];
    size_t ndumps;
    master_binding in[RUN_MAX_BINDINGS], out[RUN_MAX_BINDINGS];
    size_t nin, nout;
    int in_wait_s;              /* --in-wait */
    uint64_t max_runners;       /* --max-runners (0: the default) */
    int heartbeat_s;            /* --heartbeat (0: the default) */
    int local_children;         /* --local-children (sched/local.h) */
    /* Inputs as opened before the run (io/input.h): the descriptors, -1
     * until opened, and the /dev/fd paths the RComps open. */
    int infd[RUN_MAX_BINDINGS];
    int stdin_fd;               /* standard input read whole, or -1 */
    char inpath[RUN_MAX_BINDINGS][32];
    cc_opts cc;                 /* compile options for PROG.c0 */
    const char *incs[CC_MAX_OPTS], *defs[CC_MAX_OPTS];
    struct srcmap *srcmap;      /* run PROG.c0: fault notes (cli/srcmap.h) */
    const char *master;         /* submit: HOST:PORT */
    const char *secret_file;    /* submit */
    int reconnect_s;            /* submit: how long to retry a lost master
                                 * (0: never) */
} run_opts;

/* The default of run_opts.reconnect_s. */
#define RUN_RECONNECT_S 30

/* Defaults, then argv (argv[0] is the command).  Returns 0 or the exit
 * status of a usage error (message printed). */
int run_opts_init(run_opts *o, const char *cmd, int argc, char **argv);
/* Parses argv into o; returns 0 or the exit status of a usage error. */
int run_parse_args(int argc, char **argv, run_opts *o);
/* The checks before a run: code present, bindings (bound inputs opened:
 * o->infd, paths rewritten to /dev/fd/N), dump expressions (resolved into
 * addr[i], count[i]).  Returns 0 or 2 (message printed). */
int run_check(const dvm_program *p, run_opts *o, uint64_t *addr,
              uint64_t *count);
struct srcmap;
/* Loads o->path: a c0 source is compiled in memory (o->cc) and assembled,
 * with a source map for fault notes in *map (srcmap_free; NULL for
 * other programs), anything else goes to the assembler's loader.
 * Returns 0 or 2 (message printed). */
int run_load(run_opts *o, dvm_program **p, struct srcmap **map);
/* Closes what run_check opened. */
void run_close_inputs(run_opts *o);
/* The path of the executable RComps run (`EXE __rcomp ...`: dvm-rcomp,
 * else this dvm binary; util/exe.h) into buf.  Returns 0 or 2 (message
 * printed). */
int run_rcomp_exe(char *buf, size_t n);
/* Prints one dumped value of the given type (isa types) on stdout. */
void run_print_value(int type, const uint8_t *b);

#endif
