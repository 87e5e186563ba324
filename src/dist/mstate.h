/*
 * mstate.h -- the cluster master's state on local disk (`dvm master
 * --state DIR`), so that a master killed and started again with the same
 * DIR goes on with the program it was running.
 *
 * An LMDB environment in DIR (one master at a time: DIR/master.lock) with
 * four databases:
 *   meta     "format": the store's format, page size and the size of the
 *            saved counters (a store of another format is refused);
 *            "head": the program's epoch, next run id, the id of its
 *            SUBMIT, its counters and the bytes of output emitted per
 *            channel; "submit": the SUBMIT payload itself.  No "head":
 *            no program in progress; "verdict": the DONE payload of a
 *            program that ended, kept (with its head, SUBMIT and output)
 *            until its client has it.
 *   pages    page number -> (epoch, 4096 bytes): its newest version
 *   runners  run id -> a runner record (sched/persist.h)
 *   output   (channel, offset) -> output bytes emitted at that offset
 * Keys are big-endian (LMDB orders them bytewise), values little-endian.
 *
 * Writes happen in batches: mstate_begin, any puts, mstate_commit -- one
 * LMDB write transaction, durable (fsync) when mstate_commit returns.  A
 * put that fails latches its error; mstate_commit then aborts the batch
 * and returns it.  Everything read back is validated (sizes, counts,
 * ranges, the key agreeing with the value); a store that does not pass
 * is refused with a message naming DIR (DVM_EFORMAT).
 */
#ifndef DVM_DIST_MSTATE_H
#define DVM_DIST_MSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "sched/persist.h"
#include "sched/stats.h"
#include "util/status.h"

#define MSTATE_FORMAT 1
/* Output channels counted per program (the program's, plus diagnostics). */
#define MSTATE_MAX_CHANS 256

typedef struct mstate mstate;

typedef struct mstate_chan {
    uint64_t chan, bytes;       /* channel, bytes emitted on it */
} mstate_chan;

typedef struct mstate_head {
    uint64_t epoch, next_rid;
    uint64_t submit_id;         /* cmsg_submit_id of the SUBMIT */
    master_stats stats;
    uint32_t nchans;
    mstate_chan chans[MSTATE_MAX_CHANS];
} mstate_head;

typedef dvm_status (*mstate_page_fn)(void *arg, uint64_t page,
                                     uint64_t epoch, const uint8_t *data);
/* May take r->d (leaving it empty); what is left is freed after. */
typedef dvm_status (*mstate_runner_fn)(void *arg, persist_runner *r);
typedef dvm_status (*mstate_output_fn)(void *arg, uint64_t chan,
                                       const uint8_t *p, size_t n);

/* Opens (creating DIR and the store when absent), takes DIR for this
 * process alone (DVM_EIO when another master holds it) and checks the
 * format.  On success *out owns it. */
dvm_status mstate_open(const char *dir, mstate **out);
void mstate_close(mstate *ms);

/* ---- a batch ---- */

dvm_status mstate_begin(mstate *ms);
/* Ends the batch: durable on DVM_OK; on error nothing of it is kept. */
dvm_status mstate_commit(mstate *ms);
void mstate_abort(mstate *ms);
/* Drops the program: head, submit, verdict, pages, runners, output. */
dvm_status mstate_clear(mstate *ms);
/* Drops every saved runner (before saving them all again). */
dvm_status mstate_clear_runners(mstate *ms);
dvm_status mstate_put_submit(mstate *ms, const uint8_t *p, size_t n);
/* The program ended with the DONE payload p[0, n). */
dvm_status mstate_put_verdict(mstate *ms, const uint8_t *p, size_t n);
dvm_status mstate_put_head(mstate *ms, const mstate_head *h);
dvm_status mstate_put_page(mstate *ms, uint64_t page, uint64_t epoch,
                           const uint8_t *data);
dvm_status mstate_put_runner(mstate *ms, const persist_runner *r);
dvm_status mstate_del_runner(mstate *ms, uint64_t rid);
/* Output bytes p[0, n) emitted on chan at offset at. */
dvm_status mstate_put_output(mstate *ms, uint64_t chan, uint64_t at,
                             const uint8_t *p, size_t n);

/* ---- reading (each its own read transaction) ---- */

/* *present 0: no program (h, *submit untouched).  1: *h and *submit (owned
 * by the caller, *nsubmit bytes) are set. */
dvm_status mstate_get(mstate *ms, int *present, mstate_head *h,
                      uint8_t **submit, size_t *nsubmit);
/* *present 0: no verdict saved (*p untouched).  1: *p (owned by the
 * caller, *n bytes) is the DONE payload of the program that ended. */
dvm_status mstate_get_verdict(mstate *ms, int *present, uint8_t **p,
                              size_t *n);
/* fn for every saved page, ascending; stops at fn's first error. */
dvm_status mstate_each_page(mstate *ms, mstate_page_fn fn, void *arg);
/* fn for every saved runner, by run id. */
dvm_status mstate_each_runner(mstate *ms, mstate_runner_fn fn, void *arg);
/* fn with the output of chan from offset `from` up to `upto`, in order.
 * DVM_EFORMAT when the saved output has a gap there. */
dvm_status mstate_each_output(mstate *ms, uint64_t chan, uint64_t from,
                              uint64_t upto, mstate_output_fn fn, void *arg);

#endif
