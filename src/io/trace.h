/*
 * trace.h -- runner timelines in the Chrome trace-event JSON format.
 *
 * `dvm run --trace FILE` writes a JSON object {"traceEvents": [...]} that
 * Perfetto (ui.perfetto.dev) and chrome://tracing open: one complete event
 * ("ph":"X") per runner attempt on the RComp's track, instant events
 * ("ph":"i") for commits, conflicts and dispatches on the master's
 * track, flow events ("ph":"s" and "f") from the commit that made a
 * runner schedulable (its creator's commit, or the commit that woke a
 * watcher) to the start of its first attempt, and metadata events naming
 * the tracks.  Timestamps are microseconds of CLOCK_MONOTONIC relative to
 * the start of the run.
 */
#ifndef DVM_TRACE_H
#define DVM_TRACE_H

#include <stdint.h>
#include <stdio.h>

#include "util/status.h"

typedef struct io_trace {
    FILE *f;
    uint64_t t0_ns;
    int first;
} io_trace;

/* True when events are being written (a trace file is open). */
static inline int trace_enabled(const io_trace *t)
{
    return t->f != NULL;
}

/* Opens path and writes the header; t0_ns is the run's time origin. */
dvm_status trace_open(io_trace *t, const char *path, uint64_t t0_ns);
/* Names a track (tid) of the DVM process. */
void trace_thread_name(io_trace *t, int tid, const char *name);
/* One runner attempt on RComp tid, [start, end) in CLOCK_MONOTONIC ns. */
void trace_runner(io_trace *t, int tid, uint64_t rid, uint64_t attempt,
                  uint64_t start_ns, uint64_t end_ns, const char *outcome);
/* An instant event (commit, conflict, ...) on the master's track (tid 0). */
void trace_instant(io_trace *t, const char *name, uint64_t ts_ns,
                   uint64_t rid, uint64_t epoch);
/* Runner rid sent to RComp to_tid (its track) at ts_ns: an instant event
 * "dispatch" on the master's track, args rid and rcomp (to_tid). */
void trace_dispatch(io_trace *t, uint64_t ts_ns, uint64_t rid, int to_tid);
/* A flow, id the runner's id: from the master's track at from_ns (the
 * commit that made the runner schedulable) to RComp track to_tid at to_ns
 * (the start of the runner's first attempt). */
void trace_flow(io_trace *t, uint64_t id, uint64_t from_ns, int to_tid,
                uint64_t to_ns);
/* Writes the footer and closes.  Returns DVM_EIO if any write failed. */
dvm_status trace_close(io_trace *t);

#endif
