/*
 * cmd_master.c -- `dvm master` and `dvm node`: the long-lived processes of
 * a cluster DVM (docs/cluster.md).  Both parse their options, read the
 * cluster secret if one is given, and hand over to the service
 * (dist/mserve.h, dist/node.h).  `dvm node --drain NAME` is a client
 * instead (cmd_drain, cmd_submit.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd_run.h"
#include "cluster/addr.h"
#include "dist/cmsg.h"
#include "dist/mserve.h"
#include "dist/node.h"
#include "util/alloc.h"

#define MASTER_DEFAULT_LISTEN "127.0.0.1:7070"
/* A node of a master on loopback serves the other nodes on loopback; one
 * of a master elsewhere only with --listen (its address the others can
 * reach). */
#define NODE_DEFAULT_LISTEN "127.0.0.1:0"

static int svc_usage(const char *cmd, const char *msg, const char *arg)
{
    fprintf(stderr, "dvm %s: %s%s%s\n", cmd, msg, arg ? ": " : "",
            arg ? arg : "");
    if (!strcmp(cmd, "master"))
        fprintf(stderr, "usage: dvm master [--listen HOST:PORT] "
                "[--secret-file F] [--port-file F] [--http HOST:PORT] "
                "[--state DIR] [--heartbeat SECONDS] "
                "[--results-with-data | --masks-only]\n");
    else
        fprintf(stderr, "usage: dvm node --master HOST:PORT [--rcomps N] "
                "[--secret-file F] [--name NAME] [--reconnect S] "
                "[--heartbeat SECONDS] [--drain-wait SECONDS] "
                "[--listen HOST:PORT]\n"
                "       dvm node --drain NAME --master HOST:PORT "
                "[--secret-file F] [--drain-wait SECONDS]\n");
    return 2;
}

typedef struct svc_opts {
    const char *listen, *master, *secret_file, *port_file, *http, *name;
    const char *state;
    int nrcomps;
    int64_t clock_skew_ns;
    int reconnect_s;            /* node: how long to retry a lost master */
    unsigned heartbeat_ms;      /* --heartbeat (0: the default) */
    int results_with_data;      /* master: --results-with-data */
    int drain_wait_ms;          /* --drain-wait (-1: the default) */
} svc_opts;

/* 1 when "HOST:PORT" resolves to a loopback address. */
static int loopback_host(const char *hostport)
{
    addr a;
    return !addr_parse(hostport, &a) &&
           addr_is_loopback((const struct sockaddr *)&a.ss);
}

/* --clock-skew-ns N (a test aid, docs/trace.md): |N| < 2^62. */
static int parse_skew(const char *v, int64_t *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || end == v || n > (1LL << 62) || n < -(1LL << 62))
        return -1;
    *out = n;
    return 0;
}

/* Option values (cli.h). */
int cli_parse_seconds(const char *v, double lo, double hi, int64_t *ms)
{
    char *end;
    double sec = strtod(v, &end);
    if (end == v || *end || !(sec >= lo) || !(sec <= hi))
        return -1;
    *ms = (int64_t)(sec * 1000);
    return 0;
}

int cli_parse_int(const char *v, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return -1;
    *out = (int)n;
    return 0;
}

static int svc_parse(const char *cmd, int argc, char **argv, svc_opts *o)
{
    int is_master = !strcmp(cmd, "master");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        /* --masks-only: the default (with --state too since
         * 2026-12-06); kept so that it can undo an earlier
         * --results-with-data.  The last of the two counts. */
        if (is_master && (!strcmp(a, "--masks-only") ||
                          !strcmp(a, "--results-with-data"))) {
            o->results_with_data = !strcmp(a, "--results-with-data");
            continue;
        }
        if (!v)
            return svc_usage(cmd, "unknown option or missing value", a);
        if (!strcmp(a, "--listen"))
            o->listen = v;
        else if (is_master && !strcmp(a, "--port-file"))
            o->port_file = v;
        else if (is_master && !strcmp(a, "--http"))
            o->http = v;
        else if (is_master && !strcmp(a, "--state"))
            o->state = v;
        else if (!is_master && !strcmp(a, "--name")) {
            if (!cmsg_node_name_ok(v, strlen(v)))
                return svc_usage(cmd, "bad node name (1..63 of A-Z a-z "
                                 "0-9 . _ -)", v);
            o->name = v;
        } else if (!is_master && !strcmp(a, "--clock-skew-ns")) {
            if (parse_skew(v, &o->clock_skew_ns))
                return svc_usage(cmd, "bad clock skew", v);
        } else if (!strcmp(a, "--heartbeat")) {
            /* At least four of a node's signs of life fit in the bound. */
            int64_t ms;
            if (cli_parse_seconds(v, 4.0 * CMSG_PING_MS / 1000, 3600, &ms))
                return svc_usage(cmd, "bad heartbeat (0.4..3600 seconds)", v);
            o->heartbeat_ms = (unsigned)ms;
        } else if (!is_master && !strcmp(a, "--drain-wait")) {
            int64_t ms;
            if (cli_parse_seconds(v, 0, 3600, &ms))
                return svc_usage(cmd, "bad drain wait (0..3600 seconds)", v);
            o->drain_wait_ms = (int)ms;
        } else if (!is_master && !strcmp(a, "--master")) {
            o->master = v;
        } else if (!strcmp(a, "--secret-file")) {
            o->secret_file = v;
        } else if (!is_master && (!strcmp(a, "--rcomps") || !strcmp(a, "-n"))) {
            /* 0: a node that only homes pages */
            if (cli_parse_int(v, 0, 1024, &o->nrcomps))
                return svc_usage(cmd, "bad RComp count (0..1024)", v);
        } else if (!is_master && !strcmp(a, "--reconnect")) {
            if (cli_parse_int(v, 0, 86400, &o->reconnect_s))
                return svc_usage(cmd, "bad reconnect time (0..86400 s)", v);
        } else {
            return svc_usage(cmd, "unknown option", a);
        }
        i++;
    }
    if (!is_master && !o->master)
        return svc_usage(cmd, "--master HOST:PORT is required", NULL);
    if (!is_master && !o->listen && loopback_host(o->master))
        o->listen = NODE_DEFAULT_LISTEN;
    return 0;
}

/* Loads the secret of --secret-file into *s (NULL without the option).
 * Returns 0 or 2 (message printed). */
int cli_load_secret(const char *path, auth_secret **s)
{
    *s = NULL;
    if (!path)
        return 0;
    auth_secret *k = dvm_malloc(sizeof *k);
    if (!k || auth_secret_load(path, k)) {
        fprintf(stderr, "dvm: %s\n", k ? status_message() : "out of memory");
        dvm_free(k);
        return 2;
    }
    *s = k;
    return 0;
}

void cli_free_secret(auth_secret *s)
{
    if (s)
        auth_secret_wipe(s);
    dvm_free(s);
}

static int svc_main(const char *cmd, int argc, char **argv)
{
    svc_opts o = { .listen = strcmp(cmd, "master") ? NULL
                                                   : MASTER_DEFAULT_LISTEN,
                   .reconnect_s = NODE_RECONNECT_S, .drain_wait_ms = -1 };
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o.nrcomps = ncpu < 1 ? 1 : ncpu > 1024 ? 1024 : (int)ncpu;
    int rc = svc_parse(cmd, argc, argv, &o);
    auth_secret *secret;
    if (rc || (rc = cli_load_secret(o.secret_file, &secret)))
        return rc;
    char rcomp_exe[4096];
    if (run_rcomp_exe(rcomp_exe, sizeof rcomp_exe)) {
        cli_free_secret(secret);
        return 2;
    }
    dvm_status st;
    if (!strcmp(cmd, "master")) {
        cli_serve sv;
        if ((rc = serve_start(o.http, &sv))) {
            cli_free_secret(secret);
            return rc;
        }
        mserve_config mc = { o.listen, secret, rcomp_exe, o.port_file, sv.obs,
                             o.state, o.heartbeat_ms, o.results_with_data };
        st = mserve_main(&mc);
        serve_stop(&sv, 0);
    } else {
        node_config nc = { o.master, o.nrcomps, rcomp_exe, secret, o.name,
                           o.clock_skew_ns, o.reconnect_s, o.heartbeat_ms,
                           o.drain_wait_ms, o.listen };
        st = node_main(&nc);
    }
    cli_free_secret(secret);
    if (st) {
        fprintf(stderr, "dvm %s: %s\n", cmd, status_message());
        return 2;
    }
    return 0;
}

int cmd_master(int argc, char **argv)
{
    return svc_main("master", argc, argv);
}

int cmd_node(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--drain"))
            return cmd_drain(argc, argv);
    return svc_main("node", argc, argv);
}
