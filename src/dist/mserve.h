/*
 * mserve.h -- `dvm master`: the cluster's master as a long-lived service.
 *
 * It listens on the cluster transport for nodes (dist/node.h), which join
 * and leave at any time, and for clients: `dvm submit` (a program to run,
 * one at a time) and `dvm status`.  A submitted program runs on the same
 * master as `dvm run` (sched/master.h) with no RComps of its own: every
 * RComp is a remote slot on some node, relayed by this service.  Output is
 * streamed to the client as it is committed; at the end the client gets
 * the exit code, the error, the --stats report and the --dump bytes.
 */
#ifndef DVM_DIST_MSERVE_H
#define DVM_DIST_MSERVE_H

#include "cluster/auth.h"
#include "obs/obs.h"
#include "util/status.h"

typedef struct mserve_config {
    const char *listen;         /* "HOST:PORT" (port 0: any) */
    const auth_secret *secret;  /* NULL: none, loopback only */
    const char *rcomp_exe;
    const char *port_file;      /* NULL, or a file to write the port to */
    obs *obs;                   /* metrics and dashboard (borrowed), for
                                   every program; NULL: none */
    const char *state_dir;      /* NULL, or where the running program is
                                 * saved (dist/msave.h) */
    unsigned heartbeat_ms;      /* a node not heard from this long is lost;
                                   0: CMSG_NODE_SILENT_MS */
    int results_with_data;      /* results bring their changed pages'
                                   data (--results-with-data); else
                                   changed-byte masks only, when the
                                   program allows it */
} mserve_config;

/* Serves until SIGINT/SIGTERM.  Returns DVM_OK after a clean end, else an
 * error with its message. */
dvm_status mserve_main(const mserve_config *cfg);

#endif
