/*
 * config.h -- what a run of the master is told: the program, the RComps,
 * the engine, the channel bindings, the trace and progress options, the
 * obs hub that --http serves.
 * Filled by the command line (cli), read by the master and its RComp set.
 */
#ifndef DVM_SCHED_CONFIG_H
#define DVM_SCHED_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "image/program.h"
#include "isa/runner.h"
#include "io/sink.h"
#include "net/msg.h"
#include "obs/obs.h"

struct commit_point;
typedef struct commit_point commit_point;

typedef struct master_binding {
    const char *name;           /* channel name */
    const char *path;           /* file */
} master_binding;

/* RComps on other hosts (the cluster master): the layer above the master
 * relays their messages.  Each is a slot of the RComp set like a local one
 * (rcomps_add_remote); what the set would write to its sockets goes to
 * send, what the host says comes in through rcomps_on_remote. */
typedef struct master_remote {
    /* Sends b (whole RComp messages) to remote slot `slot`, on its page
     * channel when page is 1.  An error makes the slot lost. */
    dvm_status (*send)(void *arg, int slot, int page, const msg_buf *b);
    /* The master declared slot `slot` lost (its runners run elsewhere). */
    void (*lost)(void *arg, int slot);
    /* Optional: how much runner d would rather run on slot `slot`: 2 if
     * its host ran a runner of the same identity before (the input pages
     * it read are there), 1 if the host caches the runner's pages, else
     * 0.  Dispatch takes, among the first few ready runners, the first of
     * the highest score. */
    int (*affinity)(void *arg, int slot, const runner_desc *d);
    /* Optional: runner d goes to slot `slot` (so that affinity can say 2
     * for its kin later).  Returns 1 when slot's host had not run d's
     * identity before (rcb.placed_new), else 0. */
    int (*placed)(void *arg, int slot, const runner_desc *d);
    /* Optional: how long runner d would spend on slot `slot`'s host
     * fetching what it reads over that host's link, in ns (0: nothing to
     * fetch there, or not known).  Dispatch passes a runner over on an
     * RComp where that is more than a runner's average time and another
     * RComp would start it sooner, its own fetch included (master.c,
     * "links"). */
    uint64_t (*fetch_ns)(void *arg, int slot, const runner_desc *d);
    /* Optional: 1 while slot `slot`'s host has given no result yet in this
     * run, so that nothing is known of its link: it is given
     * PLACE_BATCH_FRESH runners at a time until then (sched/place.h). */
    int (*fresh)(void *arg, int slot);
    /* Optional: the network round trip to remote slot `slot`'s host, in
     * ns (0: not measured yet).  Dispatch gives RComps farther away more
     * runners at a time (sched/place.h). */
    uint64_t (*net_ns)(void *arg, int slot);
    /* Called at every turn of the master's loop before it sleeps: makes
     * progress on the network and delivers what arrived (rcomps_on_remote).
     * Sets *wait_ms to the longest the loop may sleep (0: not at all, -1:
     * no limit).  An error stops the run. */
    dvm_status (*poll)(void *arg, int *wait_ms);
    /* Optional: called before old page versions are collected, while the
     * commit log still names every commit since the last call. */
    void (*before_gc)(void *arg);
    /* Optional: the obs node (obs.h) of remote slot `slot`, and *rcomp its
     * RComp there; -1 when it has none.  Without it, remote slots count
     * as the master's own node. */
    int (*obs_place)(void *arg, int slot, uint32_t *rcomp);
    /* Optional: fills the fresh master from a saved state (sched/persist.h)
     * instead of loading the program and making its first runner. */
    dvm_status (*restore)(void *arg, commit_point *cp);
    /* Optional: called after each turn of the loop (a batch of commits,
     * possibly none) and once when the run ends: the place to save the
     * state before output leaves.  `now` is 1 when what the master holds
     * must be saved at once: at the end, and before garbage collection
     * cuts the commit log (which names the pages changed since a save);
     * otherwise a batch without output may wait for the next.  An error
     * stops the run. */
    dvm_status (*batch)(void *arg, int now);
    /* Optional: 0 while the master must not commit remote results now
     * (the cluster master holds as much output not yet acknowledged as it
     * may): results wait in the RComp set, in the order they came, and
     * are committed at a turn of the loop where it says 1 again
     * (rcomps_commit_waiting).  It is asked outside the transport's
     * callbacks' reach: the scheduler never waits inside a commit. */
    int (*may_commit)(void *arg);
    /* Optional: asked, besides may_commit, before remote slot `slot`'s
     * waiting result p (a RESULT payload) is committed: 0 while that
     * result must wait (the cluster master in masks-only mode: its
     * changes are not yet held at a home), and it waits like one
     * may_commit refused, the later ones behind it.  drop 1: the result
     * is dropped instead (its RComp was lost) and the answer does not
     * matter. */
    int (*result_gate)(void *arg, int slot, const uint8_t *p, size_t len,
                       int drop);
    /* Optional: remote slot `slot`'s result res was committed as epoch
     * (called after its commit, before the next result is taken). */
    void (*committed)(void *arg, int slot, const msg_result *res,
                      uint64_t epoch);
    /* Optional: the stable epoch -- every commit up to it has all its page
     * versions stored where they are homed -- which new snapshots then
     * take instead of the newest epoch, runners made ready by a newer
     * commit waiting for it (rcb.h, the gate).  `waiting` is 1 while
     * runners wait for a newer one.  Asked at every dispatch, never
     * inside a commit. */
    uint64_t (*stable)(void *arg, int waiting);
    int fd;                     /* readable: something for poll */
    void *arg;
} master_remote;

typedef struct master_config {
    const dvm_program *prog;    /* borrowed for the life of the master */
    const char *rcomp_exe;      /* RComps run `EXE __rcomp` (util/exe.h) */
    int nrcomps;
    const char *engine;         /* "interp" or "jit" */
    int local_children;         /* RComps may start a committed runner's
                                   child at once (sched/local.h) */
    const master_binding *in;  size_t nin;
    const master_binding *out; size_t nout;
    const char *trace_path;     /* NULL: no trace */
    int progress;               /* progress line on stderr */
    uint64_t max_runners;       /* most runners waiting at once (ready or
                                 * watching); 0: MASTER_MAX_RUNNERS */
    int heartbeat_s;            /* an RComp with runners in flight that
                                 * shows no sign of life this long is
                                 * replaced; 0: MASTER_HEARTBEAT_S */
    obs *obs;                   /* metrics and events (borrowed); NULL: none */
    /* The cluster master: NULL for the embedded DVM.  With remote set,
     * nrcomps (local RComps) may be 0. */
    const master_remote *remote;
    io_sink_fn out_fn;          /* non-NULL: every channel (stdout too) */
    void *out_arg;
    FILE *diag;                 /* runner fault reports; NULL: stderr */
    /* Called after each runner fault report with the fault's address
     * (`dvm run PROG.c0`: the c0 line); NULL: none. */
    void (*fault_note)(void *arg, uint64_t pc, FILE *diag);
    void *fault_note_arg;
} master_config;

/* The default liveness bound, in seconds. */
#define MASTER_HEARTBEAT_S 10

/* The default bound on waiting runners: each costs the master a record
 * and its descriptor (a few hundred bytes), so this keeps a runaway
 * program (a runner fork bomb) to about a gigabyte of the master. */
#define MASTER_MAX_RUNNERS (1ULL << 22)

#endif
