/*
 * node.h -- `dvm node`: one host's part of a cluster DVM.
 *
 * A node joins a master (dist/mserve.h) over the cluster transport and,
 * for each program the master runs, owns a frame store and RComp
 * processes exactly as the embedded master does (the same `dvm __rcomp`,
 * the same socketpair protocol, net/msg.h).  It relays between its RComps
 * and the master, translating frame ids: the master's frames name page
 * versions in the master's store, the RComps' frames are this node's.
 * It caches the page versions it receives, keeps those the master placed
 * on it (its homes) and serves them to the other nodes (docs/cluster.md).
 */
#ifndef DVM_DIST_NODE_H
#define DVM_DIST_NODE_H

#include <stdint.h>

#include "cluster/auth.h"
#include "util/status.h"

typedef struct node_config {
    const char *master;         /* "HOST:PORT" */
    int nrcomps;
    const char *rcomp_exe;      /* RComps run `EXE __rcomp` (util/exe.h) */
    const auth_secret *secret;  /* NULL: none (loopback masters only) */
    const char *name;           /* NULL: the host's name (the master makes
                                   names unique) */
    int64_t clock_skew_ns;      /* added to every time the node takes (a
                                   test aid: a host whose clock is off) */
    int reconnect_s;            /* a master lost after joining is tried
                                 * again (backoff) this long; 0: never */
    unsigned heartbeat_ms;      /* a master silent this long is gone;
                                   0: CMSG_HEARTBEAT_MS */
    int leave_wait_ms;          /* leaving, the runners dispatched get this
                                   long to finish; < 0: CMSG_LEAVE_WAIT_MS */
    const char *listen;         /* "HOST:PORT" where other nodes fetch the
                                   versions homed here; NULL: homes none */
} node_config;

/* The default of node_config.reconnect_s. */
#define NODE_RECONNECT_S 30

/* Runs a node until the master goes away (and cannot be reached again
 * within cfg->reconnect_s) or SIGINT/SIGTERM.  Returns DVM_OK after a
 * clean end, else an error with its message. */
dvm_status node_main(const node_config *cfg);

#endif
