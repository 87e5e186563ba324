/*
 * msave.h -- what the master service saves of a running program, and
 * when (dvm master --state DIR; the store is dist/mstate.h).
 *
 * A program is saved whole when it starts (its SUBMIT, every page, its
 * first runner), then after turns of the master's loop that changed
 * something: the pages commits changed since the last save, the runners
 * the pool's journal names, the output committed since, and the head
 * (epoch, next run id, counters, bytes emitted per channel) -- one LMDB
 * transaction.  Turns are gathered into fewer transactions (each costs an
 * fsync): a save with output waits at most MSAVE_OUTPUT_MS (its output is
 * held that long), one without at most MSAVE_DEFER_MS; the master's loop
 * sleeps no longer than that (msave_wait_ms).  A crash loses only commits
 * nobody has seen: their runners run again.  Output is held back until the transaction that records it
 * is durable and only then sent to the client, so output that reached a
 * client is always in the store, and a restarted master can send a
 * resuming client exactly the bytes it lacks (msave_replay).  A program
 * that ends keeps its verdict (the DONE payload) in the store before the
 * verdict is sent (msave_end), with its output, so that a client whose
 * master died before the verdict reached it gets the output it lacks and
 * the verdict from a restarted master; it is dropped once its client has
 * it (msave_finish), as is a cancelled program.
 */
#ifndef DVM_DIST_MSAVE_H
#define DVM_DIST_MSAVE_H

#include <stddef.h>
#include <stdint.h>

#include "dist/cmsg.h"
#include "dist/mstate.h"
#include "net/msg.h"
#include "sched/master.h"

/* Sends n output bytes of chan to the client. */
typedef dvm_status (*msave_send_fn)(void *arg, uint64_t chan, const uint8_t *p,
                                    size_t n);

/* Longest a save is deferred: with output, without. */
#define MSAVE_OUTPUT_MS 5
#define MSAVE_DEFER_MS 50

/* The data of version (page, epoch), which is away from the master (at
 * its holders only: masks only); NULL when the caller does not have it. */
typedef const uint8_t *(*msave_away_fn)(void *arg, uint64_t page,
                                        uint64_t epoch);

typedef struct msave {
    mstate *ms;                 /* NULL: nothing is saved */
    msave_away_fn away;         /* set by the owner after msave_open; NULL:
                                   no version is away */
    void *away_arg;
    int lacking;                /* this batch met a version without data */
    uint64_t lack_page, lack_epoch;     /* the first such */
    mstate_head head;           /* as saved, plus this batch's output */
    uint64_t saved_epoch;       /* epoch of the last save */
    uint64_t saved_ns;          /* when */
    msg_buf pend;               /* output not saved yet: chan, n, bytes */
} msave;

/* Opens the store in dir (v->ms).  *present: a program is in the store;
 * then v->head and *submit (owned, *nsubmit bytes) are what was saved,
 * and *ended says whether it ended (its verdict kept, msave_verdict) or
 * is in progress.  DVM_EFORMAT, naming dir, for a store that does not
 * pass (mstate.h), a kept verdict that does not decode as DONE, or one
 * without its program; outputs are set only on success. */
dvm_status msave_open(msave *v, const char *dir, int *present, int *ended,
                      uint8_t **submit, size_t *nsubmit);
void msave_close(msave *v);

/* Holds n output bytes of chan for the next save.  DVM_ENOMEM. */
dvm_status msave_output(msave *v, uint64_t chan, const void *p, size_t n);
/* Saves a program that starts now on master m (fresh: loaded, its first
 * runner made) under the id of its SUBMIT payload. */
dvm_status msave_start(msave *v, master *m, const uint8_t *submit, size_t n);
/* The master's restore hook (master_remote.restore, arg v): the saved
 * pages, runners, epoch and counters into cp. */
dvm_status msave_restore(void *v, commit_point *cp);
/* Whether msave_batch(v, m, now, ...) would save now. */
int msave_due(const msave *v, master *m, int now);
/* Saves what changed since the last save (nothing when nothing did; a
 * change without output may be deferred unless `now`, see above), then
 * sends the held output through send.  A page whose newest version is
 * away is read through v->away; one it does not give fails the batch
 * (DVM_EIO, naming the page; nothing of the batch is saved).  An error
 * stops the run. */
dvm_status msave_batch(msave *v, master *m, int now, msave_send_fn send,
                       void *arg);
/* Milliseconds until a deferred save is due (0: now), or -1 when nothing
 * waits to be saved. */
int msave_wait_ms(const msave *v, master *m);
/* A resuming client has r: checks it against what was saved (its id, no
 * channel beyond what was emitted) and sends it the rest of the saved
 * output.  DVM_EPROTO with a message when r does not fit. */
dvm_status msave_replay(msave *v, const cmsg_resume *r, msave_send_fn send,
                        void *arg);
/* The program ended with the DONE payload p[0, n): kept, durably, with
 * the head and output (a restarted master answers a RESUME with them);
 * its runners are dropped.  Nothing to do without a store. */
dvm_status msave_end(msave *v, const uint8_t *p, size_t n);
/* The kept verdict of the program that ended: *p owned by the caller.
 * DVM_EFORMAT when there is none. */
dvm_status msave_verdict(msave *v, uint8_t **p, size_t *n);
/* The program is over, and its client has the verdict (or it was
 * cancelled): dropped from the store. */
dvm_status msave_finish(msave *v);

#endif
