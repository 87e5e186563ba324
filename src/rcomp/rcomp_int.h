/*
 * rcomp_int.h -- the RComp's state, shared by its modules:
 *
 *   rcomp.c   options, setup, the control loop and the dispatch FIFO
 *   run.c     running one runner (reset, context, prefetch, engine, result)
 *   commit.c  the commit: diffs clipped to the committable bytes, frames
 *   pages.c   the window's resolver (handler thread) and the base map
 *   keep.c    the pages that stay mapped from one runner to the next
 *   io.c      input channel files and output channel windows
 *   stacks.c  stacks chosen by the DVM: the granted blocks, newr's source
 *   adopt.c   large zero spans written straight into granted frames
 *
 * Two threads: the engine thread runs everything but the resolver; the
 * window's handler thread runs the resolver and owns the page socket.  They
 * share only `snap` and the base map, both under `mu` (see pages.c).
 */
#ifndef DVM_RCOMP_INT_H
#define DVM_RCOMP_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "exec/jit.h"
#include "isa/isa.h"
#include "exec/vm.h"
#include "image/program.h"
#include "image/inpage.h"
#include "mem/diff.h"
#include "mem/store.h"
#include "mem/window.h"
#include "net/claim.h"
#include "net/conn.h"
#include "net/msg.h"
#include "rcomp/keep.h"
#include "util/status.h"

#define RC_EXIT_PROTO 3         /* exit status of a protocol error */
#define RC_EXIT_SETUP 2         /* bad options or unusable inputs */
#define RC_FRAME_BATCH 64       /* frames asked for at least at a time:
                                   few enough that the frames an RComp
                                   holds unused are ones the master's
                                   collections freed recently (mapped,
                                   warm), not fresh ones (a first-touch
                                   fault each; 256 before) */
#define RC_STACK_BATCH_BYTES (1u << 20) /* stack blocks asked for at a
                                   time: about this many bytes, >= 1, */
#define RC_STACK_BATCH_MAX 16   /* and at most this many: few enough that
                                   the blocks of runners that ran here come
                                   back while still mapped (sched/stacks.h;
                                   64 and 4 were slower for one-page stacks,
                                   docs/performance.md) */
#define RC_FLUSH_RESULTS 32     /* RESULTs held back at most */
#define RC_FLUSH_BYTES 65536    /* bytes of them held back at most */
#define RC_FLUSH_NS 50000       /* and for at most this long (then the next
                                   runner's end sends them) */

#define RC_ZERO_SPAN_MIN 2       /* pages: a span costs three system calls,
                                   a uffd fault tens of microseconds */
#define RC_ZERO_SPAN_MAX (1u << 20) /* pages: the commit reads a span's
                                   residency with mincore, whose cost
                                   grows with the span (a 2^46-byte
                                   "whole SR" heap stays with uffd) */
#define RC_MAX_SPANS 8
#define RC_ZERO_EAGER_MAX 4     /* known-zero pages of small heap ranges
                                   filled before a runner starts (run.c) */
#define RC_PR_STATIC_MAX 3      /* ranges of PR pages the code's direct
                                   operands name beyond the resident ones:
                                   more, and every reset drops the whole PR
                                   (run.c) */
#define RC_PR_RESIDENT 4        /* PR pages [0, 4) stay resident, cleared
                                   by memset at each reset: the context
                                   page and the first words programs use
                                   (0x2000..: c0's runtime words) */
#define RC_PR_SOFT 64           /* PR pages [4, 64), when named written by
                                   few enough runners' stores, are zeroed in
                                   place rather than dropped: c0's fixed
                                   function frames (window_plain_soft) */
#define RC_KEEP_MAX (1u << 16)  /* pages kept across runners at most (256
                                   MiB): beyond, all go (keep.c) */
#define RC_KEEP_OWN_MAX 256     /* a runner's unwritten own stack page stays
                                   only while fewer pages are kept: stacks
                                   that never come back here (a fan-out's
                                   thousands) would make every reset's merge
                                   move them all (run.c, keep.c) */

#define RC_LOCAL_DEPTH 16       /* children started at once in a row, at
                                   most, before the master's dispatch is
                                   waited for again (local.c) */
#define RC_LOCAL_PAGES 8        /* pages a child started at once may be
                                   given (its creator's changes and its
                                   heap), at most */
#define RC_LOCAL_HELD (RC_LOCAL_DEPTH * RC_LOCAL_PAGES) /* private copies
                                   a chain holds at most (local.c) */
#define RC_LOCAL_SHORT_NS 20000 /* with the translator: a creator that ran
                                   longer starts no child (local.c) */

typedef struct rc_span {        /* a candidate zero span, pages [lo, hi) */
    uint64_t lo, hi;
} rc_span;

typedef struct rc_adopted {     /* a zero span mapped over a run of frames
                                   (adopt.c): pages [lo, lo + n) are frames
                                   [first, first + n) */
    uint64_t lo, n;
    uint32_t first;
} rc_adopted;

/* An input channel bound to a file: its address and length, read with
 * pread page by page (arg: the file descriptor, owned). */
typedef inpage_src rc_input;

typedef struct rc_output {      /* an output channel window in the PR */
    uint64_t addr;
    uint64_t max;               /* largest byte count that fits */
} rc_output;

typedef struct rc_slot {        /* base map slot: live when gen matches */
    uint64_t page;
    uint32_t frame;
    uint32_t gen;
} rc_slot;

typedef struct rc_basemap {     /* SR page -> frame the runner started from */
    rc_slot *slot;
    size_t cap, n;
    uint32_t gen;
} rc_basemap;

typedef struct rc_pending {     /* a touched page with committable changes */
    uint64_t page;
    uint32_t base;              /* frame of the base content, 0: zeros */
    uint32_t nruns;             /* run count, DIFF_BITMAP, or
                                   DIFF_IMPLIED (base 0, whole page) */
    size_t at;                  /* its first run in runs[], or (bitmap)
                                   its first word in bits[] */
    uint32_t frame;             /* its frame already holds the version
                                   (adopt.c); 0: one from the pool */
} rc_pending;

/* A chosen stack's first page made zeros for a child (stacks.c). */
typedef struct rc_zeroed {
    uint64_t page;
    uint32_t frame;             /* if kept: its version's frame before it
                                   was zeroed (0: zeros) */
    int kept;                   /* it was kept, so frame is known */
} rc_zeroed;

typedef struct rc_prepage {     /* a page the runner about to start
                                   prefetches (run.c) */
    uint64_t page;
    uint32_t resident;          /* 1: kept mapped at reset, to be refilled */
    uint32_t zero;              /* 1: not in the master's list, known zero
                                   (run.c, "small heap ranges") */
} rc_prepage;

typedef struct rc_stack_pool {  /* granted stack blocks of one order */
    uint64_t *base;
    size_t n, cap;
    int asked;                  /* a MSG_STACK_REQ sent ahead of need is
                                   not answered yet (stacks.c) */
} rc_stack_pool;

typedef struct rcomp {
    int index;
    const char *engine;
    int ctl_fd, page_fd, store_fd, image_fd;
    int claim_fd;               /* --claim: the host's claim boards, or -1 */
    int queue_fd;               /* --ctl-queue: ctl's shared-memory queue
                                   (net/shmq.h), or -1 */
    uint32_t nframes;
    conn ctl, page;             /* page: handler thread only */
    mem_store *store;
    dvm_program *prog;
    vm_code *code;
    jit_engine *jit;            /* NULL: the interpreter */
    const char *jit_cache;      /* --jit-cache: translations shared with
                                   the program's other RComps, or NULL */
    mem_window *win;
    vm_runner vr;

    rc_input *in;    size_t nin;
    const uint64_t *inmap;      /* --input-map: which input pages the
                                   node has (image/inpage.h); NULL: the
                                   inputs are files (in) */
    int inwin_fd;               /* --input-window: those pages */
    rc_output *out;  size_t nout;      /* out[0] is stdout */

    /* Shared with the handler thread, under mu. */
    pthread_mutex_t mu;
    uint64_t snap;
    const msg_runner *cur;      /* the runner being run (its ranges) */
    rc_basemap base;
    uint64_t faulted;           /* SR pages resolved by message */
    rc_keep keep;               /* engine thread: pages kept from earlier
                                   runners (keep.c) */
    msg_buf page_buf;           /* handler thread's encoder */

    /* Engine thread only. */
    uint8_t *ctx;               /* the runner context page (aligned) */
    msg_dispatch *fifo;  size_t nfifo, capfifo, fifo_head;
    size_t fifo_pos;            /* next runner of fifo[fifo_head] */
    claim_board *claim;         /* its board (net/claim.h), or NULL: it
                                   runs every runner it is sent */
    uint32_t claim_seq;         /* the next runner's number on it */
    uint32_t *pool;  size_t npool, cappool;     /* granted frames */
    uint64_t adopt_min;         /* zero spans of this many pages or more
                                   are mapped over runs of frames (adopt.c;
                                   --adopt), 0: none */
    int version_ok;             /* --dvm-version named this build's */
    int yield;                  /* --yield: give the CPU to a polling
                                   master after a result that creates
                                   runners (run.c, yield_to_master) */
    rc_adopted adopted[RC_MAX_SPANS];   /* this runner's */
    size_t nadopted;
    uint32_t run_first;         /* the last MSG_RUN: frames granted */
    uint64_t run_n;
    int frames_asked;           /* a MSG_FRAME_REQ is not answered yet
                                   (commit.c, ensure_frames) */
    rc_prepage *prepg; size_t nprepg, capprepg; /* by page (run.c) */
    rc_zeroed *zeroed; size_t nzeroed, capzeroed; /* stack pages given
                                   zeros as their base this runner
                                   (stacks.c) */
    int zeroed_lost;            /* one of them could not be listed */
    rc_pending *pend; size_t npend, cappend;
    mem_run *runs;   size_t nruns, capruns;
    uint64_t *bits;  size_t nbits, capbits;    /* bitmaps, in words */
    mem_run *scratch;           /* DIFF_DENSE runs of diff_page */
    uint64_t *dbits;            /* 2 * DIFF_WORDS: diff_page's bitmap, then
                                   the committable mask of the page */
    void *iv;        size_t capiv;      /* commit.c's interval buffer */
    dvm_range prs[RC_PR_STATIC_MAX];    /* run.c: the code's PR pages past
                                   the resident ones, as page ranges */
    size_t nprs;                /* SIZE_MAX: too many, or not tracked */
    uint64_t prs_resident;      /* run.c: the resident PR pages the code's
                                   direct operands name, bit p: page p */
    dvm_range *kst;  size_t nkst, capkst; /* commit.c: the created runners'
                                   stacks, sorted and merged */
    mem_change *chg; size_t capchg;
    msg_output *outs;
    uint32_t *ofr;   size_t capofr;     /* frames holding the outputs */
    rc_stack_pool stacks[DISA_STACK_ORDER + 1];
    dvm_status stack_err;       /* asking the master for stacks failed */
    msg_buf obuf;               /* outgoing control frames, not yet sent */
    size_t nunsent;             /* RESULTs in obuf */
    uint64_t unsent_since;      /* t_end_ns of the oldest of them */
    int failed_proto;

    /* Children started at once (local.c). */
    int local_children;         /* --local-children */
    vm_notes notes;             /* the running local child's accesses */
    int loc_ready;              /* loc_* describe a child to start now */
    unsigned loc_depth;         /* local children run since the last
                                   runner the master sent */
    uint64_t loc_snap;          /* its creator's snapshot */
    runner_desc loc_kid;        /* its descriptor (heap: loc_heap) */
    dvm_range *loc_heap; size_t caploc_heap;
    msg_prefetch loc_pre[RC_LOCAL_PAGES];   /* the creator's changed
                                   pages, each in a private copy */
    uint32_t nloc_pre;
    uint8_t loc_copy[RC_LOCAL_PAGES];   /* loc_pre[i] is a private copy */
    msg_prefetch loc_held[RC_LOCAL_HELD];   /* the private copies the
                                   local children since the last runner the
                                   master sent ran on: base frames of window
                                   pages until the next such runner's
                                   reset, which must not keep those pages
                                   as they are */
    uint32_t nloc_held;
} rcomp;

/* rcomp.c */
/* Sends the control frames gathered in obuf. */
dvm_status rc_flush(rcomp *rc);
/* rc_flush, then rings a master that sleeps whatever was sent: before
 * waiting for the answer to a request that went in quietly. */
dvm_status rc_flush_ring(rcomp *rc);
/* Grants asked ahead of need (frames, commit.c; stack blocks, stacks.c):
 * a request goes into the queue without ringing, like a result, only
 * over a queue in shared memory (the results before it are in it
 * already, so the order holds) and when nothing is gathered in obuf;
 * rc_may_ask_ahead says whether that holds.  rc_send_ahead sends the one
 * request the caller then encoded into obuf; 1 when it went, 0 when it
 * could not (the request made when the pool runs short reports why). */
int rc_may_ask_ahead(const rcomp *rc);
int rc_send_ahead(rcomp *rc);
/* Receives control messages until one of the given type (MSG_FRAMES or
 * MSG_STACKS: a grant) arrives and is handled, queueing any DISPATCH.
 * Returns DVM_OK, DVM_ECLOSED (shutdown or end of stream) or DVM_EPROTO
 * with a message. */
dvm_status rc_wait_reply(rcomp *rc, uint32_t type);
/* Decodes and queues a DISPATCH payload. */
dvm_status rc_queue_dispatch(rcomp *rc, const uint8_t *p, size_t len);

/* run.c */
/* Runs one runner and sends its RESULT.  DVM_ECLOSED ends the RComp
 * cleanly; other failures are fatal (message recorded). */
dvm_status rc_run(rcomp *rc, const msg_runner *mr);
/* rc_run for a runner the RComp started itself (local.c): noted, on the
 * interpreter, its result flagged MSG_RESULT_LOCAL. */
dvm_status rc_run_noted(rcomp *rc, const msg_runner *mr);
/* 1 when no runner the master sent waits (the FIFO and the queue). */
int rc_idle(rcomp *rc);
/* Passes over a runner the master took back (net/claim.h): runs nothing,
 * sends nothing, and drops every page the window keeps, so that the next
 * runner's changed list, which starts from the skipped runner's snapshot,
 * leaves nothing stale mapped. */
dvm_status rc_skip(rcomp *rc);

/* Prepares the PR reset from the code's direct-mode PR pages (after the
 * engine and the window exist). */
void rc_pr_init(rcomp *rc);
/* 0 when the runner that just ran cannot have written PR page `page` (it
 * then holds zeros), 1 when it may have. */
int rc_pr_maybe_written(const rcomp *rc, uint64_t page);
/* The PR pages a runner may have written, for the reset: the code's
 * static ranges stat[0..nstat) (nstat <= RC_PR_STATIC_MAX), the pages of
 * bits (bit p: page p < VM_PRW_PAGES) and the pages of bytes [lo, hi)
 * (none when lo >= hi), as sorted ranges of page numbers into out, none
 * overlapping or adjacent.  When more than cap (>= 1), the two ranges
 * with the least gap between them are joined until cap remain: a
 * superset.  Returns their number. */
size_t rc_pr_ranges(const dvm_range *stat, size_t nstat, uint64_t bits,
                    uint64_t lo, uint64_t hi, dvm_range *out, size_t cap);

/* local.c */
/* Prepares the notes buffer (--local-children).  DVM_ENOMEM. */
dvm_status rc_local_init(rcomp *rc);
void rc_local_free(rcomp *rc);
/* After committing runner mr with result res (not yet sent): picks one
 * child to start at once and copies what it will see (the creator's
 * changed pages, into frames of the pool), when the RComp has nothing
 * else to do.  Returns 1 + its index (res->local), or 0. */
uint32_t rc_local_pick(rcomp *rc, const msg_runner *mr,
                       const msg_result *res);
/* Runs the child rc_local_pick prepared (loc_ready) and sends its result
 * with notes.  DVM_ECLOSED / fatal as rc_run. */
dvm_status rc_local_run(rcomp *rc);
/* In a reset that keeps pages, after the master's list of changed pages
 * named their versions: for a runner the master sent, the pages local
 * children ran on private copies are no versions, so those the list did
 * not name are marked dead (that runner's prefetch still reuses them in
 * place, run.c drop_or_reuse).  For a local child they stay. */
void rc_local_unkeep(rcomp *rc, int starting_local);
/* After a reset: for a runner the master sent, which kept nothing based
 * on them, the held private copies go back to the pool; for a local child,
 * its own copies join them. */
void rc_local_after_reset(rcomp *rc, int starting_local);

/* commit.c */
/* Builds res's changes from the touched SR pages, clipped to what the
 * runner may commit; takes frames (asking the master when needed). */
dvm_status rc_commit(rcomp *rc, const msg_runner *mr, msg_result *res);

/* adopt.c */
/* Maps a run of zero frames over zero span [page, page + n) when it is
 * large enough (asking the master for the run; none granted: nothing
 * changes).  DVM_OK, or a fatal status. */
dvm_status rc_adopt_span(rcomp *rc, uint64_t page, uint64_t n);
/* 1 and *frame when page lies in a span mapped over frames, else 0. */
int rc_adopt_frame(const rcomp *rc, uint64_t page, uint32_t *frame);
/* Unmaps the runner's mapped spans and queues MSG_RUN_DONE for each run
 * (after its RESULT, before anything is sent). */
dvm_status rc_adopt_end(rcomp *rc);
/* Handles MSG_RUN: the granted run into run_first and run_n. */
dvm_status rc_adopt_on_run(rcomp *rc, const uint8_t *p, size_t len);

/* stacks.c */
/* Makes rc->vr take chosen stacks from rc's pools. */
void rc_stacks_init(rcomp *rc);
void rc_stacks_free(rcomp *rc);
/* Adds a STACKS grant to its pool. */
dvm_status rc_stacks_add(rcomp *rc, const uint8_t *p, size_t len);

/* pages.c */
dvm_status rc_basemap_init(rc_basemap *m);
void rc_basemap_free(rc_basemap *m);
void rc_basemap_clear(rc_basemap *m);
/* Records page -> frame; DVM_ENOMEM. */
dvm_status rc_basemap_put(rc_basemap *m, uint64_t page, uint32_t frame);
/* 1 and *frame if known, else 0. */
int rc_basemap_get(const rc_basemap *m, uint64_t page, uint32_t *frame);
/* The window resolver (handler thread); arg is the rcomp. */
int rc_resolve(void *arg, uint64_t page, uint8_t *buf);
/* The window's read-ahead of input pages (window_set_input_ahead): page's
 * bytes into buf and 0 when they cost no request -- a bound file's bytes,
 * or on a node a page already in its file -- else 1: not an input's page
 * (zeros), or one the node would have to ask for. */
int rc_input_ahead(void *arg, uint64_t page, uint8_t *buf);

/* io.c */
/* Parses "ADDR=PATH" and maps the file as an input channel. */
dvm_status rc_input_add(rcomp *rc, const char *spec);
void rc_inputs_free(rcomp *rc);
/* Fills buf with page of the input windows; 1 if all zeros. */
int rc_input_page(const rcomp *rc, uint64_t page, uint8_t *buf);
/* Takes the input pages from a cluster node's files (dist/ninput.h): the
 * pages at window, the presence map at map.  DVM_EIO when either cannot
 * be opened or mapped. */
dvm_status rc_inputs_asked(rcomp *rc, const char *window, const char *map);
/* Reads input page `page` from the node's file into buf; 0. */
int rc_input_read(const rcomp *rc, uint64_t page, uint8_t *buf);
/* Builds the output channel table from the program. */
dvm_status rc_outputs_init(rcomp *rc);
/* Keeps the pages of the output counts that the code names directly
 * resident across runners (window_plain_keep_page), once the window's PR
 * is plain. */
void rc_outputs_keep(rcomp *rc);
/* Lists the runner's output in res (channel and count; no frames yet).
 * Returns VM_FAULT_NONE, or VM_FAULT_MEMORY with *bad the channel address
 * when a count does not fit its channel's window. */
int rc_outputs_collect(rcomp *rc, msg_result *res, uint64_t *bad);
/* Frames the outputs listed in res need. */
size_t rc_outputs_nframes(const msg_result *res);
/* Copies each listed output from the window into frames of the pool
 * (which holds rc_outputs_nframes(res) at least) and names them in res. */
dvm_status rc_outputs_write(rcomp *rc, msg_result *res);

#endif
