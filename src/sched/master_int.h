/*
 * master_int.h -- the master's internal state, shared by master.c (event
 * loop, dispatch), commit.c (what happens to a runner's result) and
 * rcomps.c (RComp processes).  Not for use outside src/sched.
 */
#ifndef DVM_MASTER_INT_H
#define DVM_MASTER_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "exec/code.h"
#include "io/sink.h"
#include "io/trace.h"
#include "mem/space.h"
#include "mem/store.h"
#include "net/conn.h"
#include "sched/master.h"
#include "sched/watch.h"

/* After this many conflicts a runner runs alone (progress guarantee). */
#define MASTER_CONFLICT_LIMIT 3
/* Most runners in flight on one RComp. */
#define MASTER_BATCH_MAX 16
/* Most pages prefetched for one runner (the rest fault in lazily). */
#define MASTER_PREFETCH_MAX 4096
/* Stack of the first runner, chosen by the DVM (DISA.md 7). */
#define MASTER_FIRST_SB 0x3E0000000000ULL
#define MASTER_FIRST_SS 0x10000ULL
/* Frames granted per request at most. */
#define MASTER_GRANT_MAX 65536
/* A runner whose RComp dies this often while running it is faulted. */
#define MASTER_LOST_LIMIT 8
/* Respawns tolerated before the run is declared broken. */
#define MASTER_RESPAWN_MAX 1000

/* A runner control block: everything the master knows of a runner. */
typedef struct rcb {
    uint64_t rid, attempt;
    uint64_t sb, ss, fi;
    uint32_t nheap, nwatch;
    vm_range *heap;             /* owned */
    vm_range *watch;            /* owned; nwatch > 0: a watcher */
    uint64_t watch_from;        /* creator's snapshot (watchers) */
    uint64_t snap;              /* snapshot of the current attempt */
    uint32_t lost;              /* RComps that died while running it */
    uint64_t t_dispatch;        /* when last dispatched (with obs only) */
    struct rcb *next;           /* run queue link */
    struct rcb *wprev, *wnext;  /* list of watching watchers */
} rcb;

typedef struct rcb_queue {
    rcb *head, *tail;
    size_t n;
} rcb_queue;

typedef struct rcomp_slot {
    int index;                  /* slot number, also the trace track */
    pid_t pid;                  /* 0: no process */
    int ready;                  /* MSG_READY received: may be dispatched to */
    conn ctl, page;
    rcb **inflight;             /* dispatched, in dispatch order (a ring) */
    size_t nin, in_head;
    uint32_t *granted;          /* frames granted and not yet used */
    size_t ngranted, capgranted;
} rcomp_slot;

struct master {
    master_config cfg;
    mem_store *store;
    mem_space *space;
    watch_index *watchers;
    rcomp_slot *rc;
    int nrc;
    int epfd;
    int image_fd;
    uint16_t *frame_owner;      /* per frame: slot+1 when granted */
    rcb_queue ready;            /* schedulable */
    rcb_queue exclusive;        /* waiting to run alone */
    rcb *watching;              /* watchers in the index (a list) */
    rcb *running_exclusive;
    uint64_t next_rid;
    io_sink *sinks;             /* 0: stdout, k: k-th out channel */
    size_t nsinks;
    io_trace trace;
    master_stats st;
    uint64_t t0_ns;
    uint64_t last_progress_ns, last_progress_commits;
    int progress_shown;
    int respawns;
    uint64_t last_gc_commits;
    double conflict_rate;       /* moving average over recent results */
    msg_buf out;                /* encode buffer */
    int obs_node;               /* this master's node in cfg.obs */
    uint64_t obs_tick_ns;       /* last observe_tick that published */
};

/* rcb.c-like helpers (master.c) */
rcb *rcb_new(master *m);
void rcb_free(rcb *r);
void rcb_push(rcb_queue *q, rcb *r);
void rcb_push_front(rcb_queue *q, rcb *r);
rcb *rcb_pop(rcb_queue *q);

/* commit.c */
dvm_status master_handle_result(master *m, rcomp_slot *s, const uint8_t *p,
                                size_t len);
uint64_t master_oldest_snapshot(const master *m);
/* Wakes the watchers of bytes [lo, hi) (after a commit of the DVM's own). */
void master_wake_range(master *m, uint64_t lo, uint64_t hi);

/* master.c: a commit of the DVM's own (program load, system page): bytes
 * [addr, addr+n) of the SR become data in one commit (one epoch), and the
 * watchers of those bytes wake. */
dvm_status master_write(master *m, uint64_t addr, const void *data,
                        uint64_t n);
/* Commits the system page's __nrcomp = live RComps (a signal). */
dvm_status master_signal_rcomps(master *m, uint64_t live);

/* rcomps.c */
dvm_status rcomps_start(master *m);
dvm_status rcomp_spawn(master *m, rcomp_slot *s);
/* Declares slot s dead: kills and reaps the process, requeues its runners,
 * reclaims its frames, and starts a replacement. */
dvm_status rcomp_lost(master *m, rcomp_slot *s, const char *why);
void rcomps_stop(master *m);
dvm_status rcomp_send(master *m, rcomp_slot *s);
dvm_status rcomp_grant(master *m, rcomp_slot *s, uint64_t want);

uint64_t master_now_ns(void);

/* observe.c: the master's calls into src/obs (no-ops without cfg.obs). */
dvm_status observe_setup(master *m);
/* The time to pass to observe_validation/observe_page (0 without obs). */
uint64_t observe_clock(const master *m);
/* The last k runners put in flight on s were just dispatched. */
void observe_dispatch(master *m, rcomp_slot *s, uint32_t k);
/* An attempt's result was handled; conflict: it was refused. */
void observe_result(master *m, const rcomp_slot *s, const msg_result *res,
                    uint64_t t_dispatch, int conflict);
void observe_validation(master *m, uint64_t t0);
void observe_page(master *m, const rcomp_slot *s, uint64_t t0);
void observe_output(master *m, const void *bytes, size_t n);
/* Publishes levels (at most every 100 ms unless final). */
void observe_tick(master *m, int final);

#endif
