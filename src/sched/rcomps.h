/*
 * rcomps.h -- the RComp processes of a host and the protocol the master
 * speaks with them (the scheduler agent's job).
 *
 * The set owns the processes, their two sockets each, the runners in
 * flight on each (a ring of runner records), and the frames granted to
 * each.  It turns what an RComp sends into decisions of the layer below:
 * a result that answers what was dispatched goes to the commit point; a
 * page request is answered from the memory service; anything else means
 * the RComp is broken, and it is replaced (rcomp_lost).  It calls nothing
 * above it: the master's loop calls in.
 */
#ifndef DVM_SCHED_RCOMPS_H
#define DVM_SCHED_RCOMPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/claim.h"
#include "net/conn.h"
#include "net/msg.h"
#include "sched/commit.h"
#include "sched/local.h"
#include "sched/config.h"
#include "sched/place.h"
#include "sched/rcb.h"
#include "util/spin.h"

/* A runner whose RComp dies this often while running it is faulted. */
#define RCOMPS_LOST_LIMIT 8
/* Respawns tolerated before the run is declared broken. */
#define RCOMPS_RESPAWN_MAX 1000
/* Slots at most when RComps live on other hosts (frame_owner is 16 bits). */
#define RCOMPS_SLOTS_MAX 4096
/* After a try to take runners back from an RComp that took none (its
 * RComp had started them, or its node could not), no other try there
 * for this long: a node asked again at once would answer again at once,
 * for nothing, as long as the idle RComp stays idle. */
#define RCOMPS_TAKE_BACK_PAUSE_NS 1000000
/* Frames granted per request at most. */
#define RCOMPS_GRANT_MAX 65536

#define RCOMPS_RECENT 256       /* a power of two */

typedef struct rcomp_run {      /* a run of zero frames granted to an
                                   RComp (MSG_RUN): frames [first,
                                   first + n) */
    uint32_t first, n;
} rcomp_run;

typedef struct rcomp_slot {
    int index;                  /* slot number, also the trace track - 1 */
    pid_t pid;                  /* 0: no process */
    int ready;                  /* MSG_READY received: may be dispatched to */
    int remote;                 /* on another host: cfg->remote relays */
    int gone;                   /* remote and lost: never used again */
    int leaving;                /* remote and its node leaves: finishes
                                 * what it has, is dispatched nothing new */
    conn ctl, page;
    rcb_ring inflight;          /* dispatched, oldest first */
    uint32_t *granted;          /* frames granted, and some used since
                                   (frame_owner tells; rcomps.c) */
    size_t ngranted, capgranted;
    size_t granted_live;        /* ngranted after the last compaction */
    rcomp_run *runs;            /* runs granted, not yet done (frames of
                                   them still its own: frame_owner) */
    size_t nruns, capruns;
    uint64_t alive_ns;          /* last sign of life (a message, CPU used,
                                 * work seen starting); 0: idle */
    uint64_t cpu_ticks;         /* its user + system time when last seen */
    uint64_t recent[RCOMPS_RECENT]; /* first heap pages of runners sent
                                   here lately, by hash (0: none; master.c,
                                   "locality") */
    int any_recent;             /* some entry of recent is not 0 */
    int keep_valid;             /* keep_snap names a runner sent to this */
    uint64_t keep_snap;         /* process: the snapshot of the last one, to
                                   which its kept pages are true (master.c,
                                   "pages that stay") */
    place_rcomp place;          /* its speed (place.h) */
    claim_board *claim;         /* local: its board; NULL: remote */
    uint32_t claim_next;        /* the next runner's number on it */
    int taking;                 /* remote: a TAKE_BACK is out, its TAKEN
                                   not back; nothing is sent meanwhile */
    uint64_t take_back_ns;      /* no taking back from it before this
                                   (a try that took nothing: master.c) */
    uint64_t progress_ns;       /* its last result, or the dispatch that
                                   gave it work when it had none (master.c,
                                   "taking back") */
    int local_drop;             /* its next result is that of a child it
                                   started at once whose creator did not
                                   commit: dropped (sched/local.h) */
} rcomp_slot;

/* A remote result that waits to be committed (master_remote.may_commit). */
typedef struct rcomp_waiting {
    struct rcomp_waiting *next;
    int index;                  /* its slot */
    size_t len;
    uint8_t p[];                /* the RESULT message's payload */
} rcomp_waiting;

typedef struct rcomp_set {
    const master_config *cfg;   /* borrowed */
    commit_point *cp;           /* borrowed */
    int epfd;                   /* the master's epoll set (borrowed) */
    int image_fd;               /* borrowed */
    rcomp_slot *rc;
    int nrc;                    /* slots in use */
    int cap;                    /* slots allocated */
    uint16_t *frame_owner;      /* per frame: slot + 1 when granted */
    int respawns;
    msg_buf out;                /* encode buffer; rcomp_send sends it */
    conn_group queues;          /* the ctl queues, for rcomps_queues */
    uint64_t checked_ns;        /* last liveness check */
    rcomp_waiting *wait_head, *wait_tail;   /* results waiting, in order */
    size_t nwaiting;
    place_set place;            /* runner times: the set's average, by
                                   which batches are sized, and by entry
                                   point, by which each slot's speed is
                                   weighed (place.h) */
    char *jit_cache;            /* the directory the RComps share their
                                   translations in (engine jit), or NULL */
    int claim_fd;               /* the local RComps' claim boards, or -1 */
    claim_board *claims;        /* mapped, one per local slot; NULL:
                                   none (their runners stay where sent) */
    int nclaims;                /* boards: the local slots */
    local_check local;          /* the check of local children's notes */
} rcomp_set;

/* How to start one RComp process: the binary, the engine, the frame store
 * and program image it maps (fds it inherits), the program and the input
 * bindings (for the channel addresses). */
typedef struct rcomp_spawn_spec {
    const char *rcomp_exe, *engine;
    int store_fd;
    uint32_t nframes;
    int image_fd;
    const dvm_program *prog;
    const master_binding *in;
    size_t nin;
    uint64_t adopt_pages;       /* --adopt: zero spans of this many pages
                                   or more written into runs of frames
                                   (MSG_RUN_REQ); 0: none */
    const char *jit_cache;      /* --jit-cache: the program's shared
                                   translations (exec/jit_cache.h), or
                                   NULL */
    /* --input-window, --input-map: the input pages a cluster's node
     * keeps (dist/ninput.h), or NULL; in must then be empty. */
    const char *input_window, *input_map;
    /* --claim: the host's claim boards (net/claim.h), board `index`; 0:
     * none, the RComp runs every runner it is sent.  (A descriptor, and
     * never 0: stdin is open.) */
    int claim_fd;
    /* --ctl-queue: the shared-memory end of the ctl channel (net/shmq.h:
     * the memfd of a pair whose creator's end the caller attaches to its
     * ctl conn), or 0: the ctl bytes go through the socket. */
    int queue_fd;
    /* --yield: the master shares this host's CPUs with its RComps (they
     * and it outnumber the CPUs), so an RComp yields its CPU to a polling
     * master after a result that creates runners (rcomp/run.c,
     * yield_to_master).  0: it never does. */
    int yield;
    /* --local-children: after a commit, the RComp may start one of the
     * children at once, where its queue is empty (sched/local.h).  Only
     * the embedded DVM's RComps: a cluster node does not relay those
     * results.  0: it never does. */
    int local_children;
} rcomp_spawn_spec;

/* Starts `dvm __rcomp` number index with two socketpairs (ctl, page).  On
 * success *pid and this side's ends (*ctl, *page: non-blocking, owned by
 * the caller) are set. */
dvm_status rcomp_process_start(const rcomp_spawn_spec *sp, int index,
                               pid_t *pid, int *ctl, int *page);
/* The reverse: takes ctl and page out of epoll set epfd and closes them,
 * kills the process *pid (if any: *pid > 0) and reaps it; *pid becomes 0. */
void rcomp_process_stop(int epfd, conn *ctl, conn *page, pid_t *pid);

/* Starts cfg->nrcomps RComps.  rs must have cfg, cp, epfd, image_fd set.
 * On failure what was started is stopped by rcomps_stop. */
dvm_status rcomps_start(rcomp_set *rs);
/* Shuts every RComp down, reaps it, frees the set (in-flight records
 * too). */
void rcomps_stop(rcomp_set *rs);

/* Handles what slot `key` (epoll data) says: drains every complete frame
 * of the socket.  Returns DVM_OK (a broken RComp is replaced, not an
 * error) or a fatal error. */
dvm_status rcomps_on_readable(rcomp_set *rs, uint64_t key);
/* The local RComps' ctl channels are queues in shared memory (net/shmq.h)
 * read without any event: the loop calls rcomps_on_queues on every turn,
 * and passes rcomps_queues(rs) (util/spin.h) to its wait.
 * rcomps_on_queues handles every whole frame the queues hold and moves
 * buffered output into them; returns as rcomps_on_readable. */
dvm_status rcomps_on_queues(rcomp_set *rs);
/* The spin_mem of rs's queues (util/spin.h), for the loop's wait. */
spin_mem rcomps_queues(rcomp_set *rs);

/* Sends rs->out to s; an RComp that cannot take it is lost. */
dvm_status rcomp_send(rcomp_set *rs, rcomp_slot *s);

/* Declares slot s dead: kills and reaps the process, requeues its runners,
 * reclaims its frames, signals the change on the system page and starts a
 * replacement.  `why` is logged.  Returns DVM_OK or a fatal error. */
dvm_status rcomp_lost(rcomp_set *rs, rcomp_slot *s, const char *why);

/* Replaces every RComp that is starting or has runners in flight but has
 * shown no sign of life -- no message, no CPU time used -- for the bound
 * (cfg->heartbeat_s): stopped (SIGSTOP) or stuck, it would stall the run.
 * Looks at most twice a second.  Returns DVM_OK or a fatal error. */
dvm_status rcomps_check_alive(rcomp_set *rs, uint64_t now_ns);
/* True when some RComp is starting or has runners in flight: then the
 * master's loop must wake now and then for rcomps_check_alive. */
int rcomps_busy(const rcomp_set *rs);
/* Counts the RComps on this host (*local) and on others (*remote) that
 * have runners dispatched and not yet answered. */
void rcomps_in_flight(const rcomp_set *rs, int *local, int *remote);
/* Adds a slot for an RComp on another host (cfg->remote set); *index names
 * it from now on.  Commits the new __nrcomp.  DVM_ENOMEM when the set is
 * full. */
dvm_status rcomps_add_remote(rcomp_set *rs, int *index);
/* Remote slot index's node leaves in order (rcomps_leave): it is
 * dispatched nothing from now on, no longer counted in __nrcomp (committed
 * now, so watchers wake), and runs what it has. */
dvm_status rcomps_leave(rcomp_set *rs, int index);
/* Leaving slot s is gone: the runners it did not finish go back to the
 * ready queue at its head, in order, without counting against them (not
 * a failure), and its frames return. */
void rcomp_left(rcomp_set *rs, rcomp_slot *s);
/* One RComp message (type, payload) from remote slot index, on its page
 * channel when page is 1: handled as rcomps_on_readable handles a local
 * one's.  Frames named by a result must hold their content already.
 * Returns DVM_OK or a fatal error. */
dvm_status rcomps_on_remote(rcomp_set *rs, int index, int page, uint32_t type,
                            const uint8_t *p, size_t len);
/* Commits the remote results that wait (in order) while
 * cfg->remote->may_commit allows; a result of a slot lost or gone
 * meanwhile is dropped (its runner was given back with the slot).
 * Returns DVM_OK or a fatal error. */
dvm_status rcomps_commit_waiting(rcomp_set *rs);
/* Remote results waiting to be committed. */
static inline size_t rcomps_waiting(const rcomp_set *rs)
{
    return rs->nwaiting;
}
/* The runner of run id rid in flight on slot index (its result not
 * committed yet), or NULL; borrowed until the slot's next result. */
const rcb *rcomps_inflight_runner(const rcomp_set *rs, int index,
                                  uint64_t rid);
/* 1 if frame f is granted to slot index and not used yet, else 0. */
int rcomps_frame_granted(const rcomp_set *rs, int index, uint32_t f);

/* RComps alive now: local ones with a process, remote ones not lost nor
 * leaving. */
uint64_t rcomps_live(const rcomp_set *rs);
/* Runner r (just put in s's ring) gets s's next claim number and is
 * queued on s's claim board, when s has one (a remote one's is on its
 * node, which numbers the same way).  s must have claim room. */
void rcomps_offer(rcomp_slot *s, rcb *r, uint64_t now_ns);
/* How many more runners s may be sent before a claim word would be
 * reused while the runner that last used it may still be queued: the
 * board holds CLAIM_SLOTS numbers from s's oldest runner in flight (the
 * one its RComp starts next or runs now).  Runners taken back from the
 * newer end still used up their numbers, so with many take-backs behind
 * one long runner the numbers run ahead of it; s then gets nothing until
 * that runner is answered (net/claim.h). */
size_t rcomps_claim_room(const rcomp_slot *s);
/* Takes back up to n runners queued on local slot s that its RComp has
 * not started, newest first, down to the second in flight (the oldest
 * may be running), and puts them back at the head of the ready queue in
 * their order.  Returns how many. */
size_t rcomps_take_back(rcomp_set *rs, rcomp_slot *s, size_t n);
/* The same for remote slot s: asks its node (MSG_TAKE_BACK); the runners
 * come back with its MSG_GIVEN_BACK, and s is dispatched nothing until then
 * (s->taking).  Returns DVM_OK or a fatal error. */
dvm_status rcomps_take_back_remote(rcomp_set *rs, rcomp_slot *s, size_t n);

/* Runners in flight on every RComp. */
size_t rcomps_inflight(const rcomp_set *rs);
/* The oldest snapshot any in-flight runner uses (the GC bound), at most
 * the current epoch (in a gated pool, its snapshot epoch: rcb.h). */
uint64_t rcomps_oldest_snapshot(const rcomp_set *rs);

#endif
