/*
 * cli.h -- the subcommands of `dvm`.  Each returns the process exit status:
 * 0 success, 1 runner faults (run), 2 usage/assembly/load error.
 */
#ifndef DVM_CLI_H
#define DVM_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "obs/http.h"
#include "obs/obs.h"
#include "cluster/auth.h"

int cmd_asm(int argc, char **argv);
int cmd_dis(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_cc(int argc, char **argv);
/* dvm translate: the translator's work ahead of a program's runs. */
int cmd_translate(int argc, char **argv);

#define CC_MAX_OPTS 256
struct cc_opts;
/* The compile options of `dvm cc` shared with `dvm run PROG.c0`. */
int cc_parse_option(struct cc_opts *o, int argc, char **argv, int *i);
int cc_build(const struct cc_opts *o, const char *const *files, size_t n,
             char **text, size_t *len);

/* The cluster (docs/cluster.md). */
int cmd_master(int argc, char **argv);
int cmd_node(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_status(int argc, char **argv);
/* dvm node --drain NAME: asks the master to let that node leave. */
int cmd_drain(int argc, char **argv);
/* Reads --secret-file path into *s (owned; NULL when path is NULL).
 * Returns 0 or 2 (message printed). */
int cli_load_secret(const char *path, auth_secret **s);
void cli_free_secret(auth_secret *s);
/* Option values: seconds in [lo, hi] as milliseconds in *ms, a decimal
 * integer in [lo, hi] in *out.  0, or -1 (not a number or out of range;
 * nothing written). */
int cli_parse_seconds(const char *v, double lo, double hi, int64_t *ms);
int cli_parse_int(const char *v, long lo, long hi, int *out);
/* Internal: the RComp process body, started by the master. */
int cmd_rcomp(int argc, char **argv);

/* serve.c: the obs hub and HTTP server behind --http. */
typedef struct cli_serve {
    obs *obs;                   /* NULL: not serving */
    obs_http *http;
} cli_serve;
/* Starts serving on addr (NULL: does nothing).  Returns 0, or 2 with the
 * message printed. */
int serve_start(const char *addr, cli_serve *sv);
/* Marks the run finished, serves for linger_s more seconds (or until
 * SIGINT/SIGTERM), then stops and frees. */
void serve_stop(cli_serve *sv, double linger_s);

#endif
