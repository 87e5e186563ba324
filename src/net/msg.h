/*
 * msg.h -- the messages between the master (scheduler + memory service) and
 * an RComp, and their wire encoding.
 *
 * The single-host DVM is the one-host case of the cluster: master and RComps
 * are separate processes that share nothing but the frame store (store.h)
 * and talk only through these messages.  Every message is a frame
 *
 *     u32 type, u32 reserved (0), u64 payload length, payload
 *
 * little endian, over a byte stream (conn.h).  Payloads are flat sequences of
 * u64 (and raw bytes for page bitmaps); every decoder checks every count against
 * the bytes that remain before allocating, so a hostile or truncated message
 * yields DVM_EPROTO and never a crash or an absurd allocation.
 *
 * Flow:
 *   master -> rcomp   MSG_DISPATCH   a batch of runners to run, in order
 *   rcomp  -> master  MSG_RESULT     one per runner: exit kind, fault, page
 *                                    changes (in granted frames, each with
 *                                    its changed bytes as runs or, when
 *                                    dense, a bitmap, or implied by the
 *                                    frame of a page that was zero),
 *                                    children, output
 *                                    (its bytes in granted frames: the
 *                                    message names them and the count)
 *   rcomp  -> master  MSG_FRAME_REQ  "grant me n frames"
 *   master -> rcomp   MSG_FRAMES     the granted frame ids
 *   rcomp  -> master  MSG_PAGE_REQ   (page socket) frame of page at epoch?
 *   master -> rcomp   MSG_PAGE_RESP  (page socket) the frame id, 0 = zeros
 *   master -> rcomp   MSG_SHUTDOWN   exit cleanly
 *   rcomp  -> master  MSG_READY      set up (engine built, window open):
 *                                    the master dispatches only to ready
 *                                    RComps
 *   rcomp  -> master  MSG_STACK_REQ  "grant me n stacks of 2^order pages"
 *                                    (DISA 1.1, newr with sb = 0)
 *   master -> rcomp   MSG_STACKS     the granted stack bases (none: the
 *                                    stack area has no such range free)
 *   rcomp  -> master  MSG_RUN_REQ    u64 n: "grant me a run of n
 *                                    consecutive frames reading as zeros"
 *                                    (an RComp started with --adopt, for a
 *                                    large zero span of a runner)
 *   master -> rcomp   MSG_RUN        u64 first, u64 n: the run granted
 *                                    (n = 0: none)
 *   rcomp  -> master  MSG_RUN_DONE   u64 first, u64 n: the run's frames
 *                                    that no RESULT before this message
 *                                    named go back (punched)
 *   master -> node    MSG_TAKE_BACK  u64 n: take back up to n runners the
 *                                    RComp has not started, newest first
 *                                    (a cluster node answers it for its
 *                                    RComp through the claim board,
 *                                    net/claim.h; an RComp never sees it)
 *   node   -> master  MSG_GIVEN_BACK u64 k, k x u64 rid: the runners
 *                                    taken back, newest first (k may be 0)
 */
#ifndef DVM_MSG_H
#define DVM_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "isa/runner.h"
#include "mem/diff.h"
#include "mem/space.h"
#include "util/status.h"

enum msg_type {
    MSG_DISPATCH = 1,
    MSG_RESULT,
    MSG_FRAME_REQ,
    MSG_FRAMES,
    MSG_PAGE_REQ,
    MSG_PAGE_RESP,
    MSG_SHUTDOWN,
    MSG_READY,
    MSG_STACK_REQ,
    MSG_STACKS,
    MSG_RUN_REQ,
    MSG_RUN,
    MSG_RUN_DONE,
    MSG_TAKE_BACK,
    MSG_GIVEN_BACK,
    MSG_TYPE_END
};

#define MSG_HEADER_SIZE 16
#define MSG_MAX_PAYLOAD (1ULL << 34)    /* 16 GiB: refuse anything larger */

/* Growable output buffer for encoding.  Errors are sticky (oom). */
typedef struct msg_buf {
    uint8_t *p;
    size_t len, cap;
    int oom;
} msg_buf;

/* Bounds-checked reader over a payload.  Errors are sticky (err). */
typedef struct msg_reader {
    const uint8_t *p;
    size_t len, pos;
    int err;
} msg_reader;

void mb_init(msg_buf *b);
void mb_free(msg_buf *b);
void mb_reset(msg_buf *b);
void mb_u64(msg_buf *b, uint64_t v);
void mb_bytes(msg_buf *b, const void *p, size_t n);
/* Starts a frame of the given type (reserves the header); mb_end fills
 * the length.  Returns the frame's start offset. */
size_t mb_begin(msg_buf *b, uint32_t type);
void mb_end(msg_buf *b, size_t start);

void mr_init(msg_reader *r, const void *p, size_t len);
uint64_t mr_u64(msg_reader *r);
/* Returns a pointer to n raw bytes, or NULL (and err) if fewer remain. */
const uint8_t *mr_bytes(msg_reader *r, size_t n);
/* Reads a count that is followed by at least count*min_item_bytes bytes;
 * sets err (and returns 0) if it cannot be. */
uint64_t mr_count(msg_reader *r, size_t min_item_bytes);

/* ---- DISPATCH ---------------------------------------------------------- */

typedef struct msg_prefetch {
    uint64_t page;
    uint32_t frame;
} msg_prefetch;

/* msg_runner.flags */
enum {
    /* The prefetch list holds every page of the runner's stack and heap
     * ranges (below the input windows) that is not zero at its snapshot:
     * any other page of those ranges reads as zeros, without asking. */
    MSG_RUNNER_PREFETCH_COMPLETE = 1,
    /* Pages may stay: inval lists every page a commit changed between the
     * snapshot of the runner dispatched before this one to the same RComp
     * and this runner's snapshot (not earlier than it).  A page resident
     * in the RComp's window and not listed is still this snapshot's
     * version.  Without the flag (an older master, a long list, a fresh
     * RComp) the RComp drops every page.  On the wire the list follows the
     * prefetch list, only when the flag is set. */
    MSG_RUNNER_KEEP = 2,
    /* With MSG_RUNNER_KEEP only: each listed page comes with the frame of
     * its version at this runner's snapshot (0: zeros there), in the same
     * store as the prefetch frames, so that the RComp may copy that
     * version over a page it keeps instead of dropping the page.  On the
     * wire each entry of the list is then u64 page, u64 frame.  A node
     * relaying the dispatch puts its own frames there (the master tells
     * it the versions), or MSG_FRAME_NONE for a version its cache does
     * not hold: the RComp drops that page as without the flag. */
    MSG_RUNNER_KEEP_FRAMES = 4
};
#define MSG_FRAME_NONE UINT32_MAX   /* a listed page's version not at hand */
#define MSG_RUNNER_FLAGS (MSG_RUNNER_PREFETCH_COMPLETE | MSG_RUNNER_KEEP | \
                          MSG_RUNNER_KEEP_FRAMES)

typedef struct msg_runner {
    uint64_t rid, attempt, snap;
    uint32_t flags;             /* MSG_RUNNER_* */
    runner_desc d;              /* stack, entry, heap ranges (no watched
                                   ranges: a dispatched runner runs) */
    uint32_t npre;
    msg_prefetch *pre;          /* pages of stack/heap visible at snap */
    uint32_t ninval;            /* MSG_RUNNER_KEEP: pages changed since */
    uint64_t *inval;            /* the RComp's previous runner's snapshot */
    uint32_t *inval_frame;      /* MSG_RUNNER_KEEP_FRAMES: the version of
                                   inval[i] at snap (0: zeros;
                                   MSG_FRAME_NONE: not at hand), else NULL */
} msg_runner;

typedef struct msg_dispatch {
    uint32_t n;
    msg_runner *r;
} msg_dispatch;

void msg_encode_dispatch(msg_buf *b, const msg_dispatch *d);
/* On success *out owns allocations; free with msg_dispatch_free. */
dvm_status msg_decode_dispatch(const uint8_t *p, size_t len, msg_dispatch *out);
void msg_dispatch_free(msg_dispatch *d);

/* ---- RESULT ------------------------------------------------------------ */

enum msg_exit { MSG_EXIT_COMMIT = 0, MSG_EXIT_ABORT = 1, MSG_EXIT_FAULT = 2 };

/* A changed page.  On the wire: u64 page, u64 frame, u64 tag, then
 * either tag runs (1..DIFF_MAX_RUNS), one u64 each (off | len << 16), or,
 * when tag is MSG_CHANGE_BITMAP, the bitmap as DIFF_BITMAP_BYTES raw bytes
 * (DIFF_WORDS little-endian words; at least one bit set), or, when tag is
 * MSG_CHANGE_IMPLIED, nothing: the page was zero at the runner's snapshot
 * and its changed bytes are the nonzero bytes of the frame (a page the
 * snapshot does not see as zero makes the result a protocol error, which
 * the master checks, not the decoder). */
#define MSG_CHANGE_BITMAP (1ULL << 32)
#define MSG_CHANGE_IMPLIED (1ULL << 33)

/* A changed page is decoded straight into the memory service's form,
 * mem_change (mem/space.h): page, the granted frame holding the new
 * content, and the changed bytes (data owned by a decoded result). */

/* An output channel's bytes of one commit.  On the wire: u64 chan, u64
 * len, u64 nframes, nframes x u64 frame: the bytes lie in those frames, in
 * order, 4096 a frame, the last one holding the rest; so nframes is
 * exactly ceil(len / 4096), and a count beyond the frames (or frames
 * beyond the count) is refused.  The frames were granted to the RComp
 * (MSG_FRAMES) like those of page changes, and the master releases them
 * once it has written the bytes to the channel's sink (or dropped them:
 * abort, fault, conflict).  The message never carries output bytes, so
 * its size does not grow with the output. */
#define MSG_OUTPUT_MAX (1ULL << 29)     /* bytes of one channel at most: the
                                           PR below the SR holds no more */
#define MSG_OUTPUT_FRAMES(len) (((len) + 4095) / 4096)

typedef struct msg_output {
    uint32_t chan;              /* index: 0 = stdout, k = k-th out channel
                                   of the program (1-based, declaration
                                   order among out channels) */
    uint64_t len;               /* 1 .. MSG_OUTPUT_MAX */
    uint32_t nframes;           /* MSG_OUTPUT_FRAMES(len) */
    const uint32_t *frames;     /* decoded: into the result's oframes */
} msg_output;

/* A memory access of a runner started where its creator ran (a "local"
 * child, docs/local_children.md): a runner_note (isa/runner.h).  On the
 * wire: u64 addr, u64 (len | store << 8), u64 bytes (little-endian). */
typedef runner_note msg_note;

#define MSG_NOTES_MAX 4096      /* notes one result carries at most */

/* msg_result.flags */
enum {
    /* The result of the child its creator's result named (local): run
     * at the creator's snapshot with the creator's changes on top, before
     * the master knew of it.  rid is 0 (the master numbers it), and notes
     * hold every access it made outside its own stack and the private
     * region: the master keeps the result only if each byte it read
     * holds the same value at the creator's commit. */
    MSG_RESULT_LOCAL = 1,
    /* With MSG_RESULT_LOCAL: the notes are incomplete (too many); the
     * master runs the child again as any other. */
    MSG_RESULT_UNCHECKED = 2
};
#define MSG_RESULT_FLAGS (MSG_RESULT_LOCAL | MSG_RESULT_UNCHECKED)

typedef struct msg_result {
    uint64_t rid, attempt, snap;
    uint32_t exit;              /* enum msg_exit */
    uint32_t fault;             /* enum vm_fault */
    uint64_t fault_pc, fault_addr;
    uint64_t t_start_ns, t_end_ns;   /* CLOCK_MONOTONIC, for traces */
    uint64_t pages_prefetched;  /* pages copied in eagerly */
    uint64_t pages_faulted;     /* SR pages fetched on first touch */
    uint32_t nchanges;
    mem_change *changes;
    uint32_t nkids;
    runner_desc *kids;
    uint32_t nout;
    msg_output *out;
    uint32_t *oframes;          /* decoded: every output's frames, in
                                   order (owned) */
    size_t noframes;
    uint32_t local;             /* a commit: 1 + the index of the child
                                   the RComp started at once (its result
                                   comes next); 0: none */
    uint32_t flags;             /* MSG_RESULT_* */
    uint32_t nnotes;            /* MSG_RESULT_LOCAL: the accesses, in */
    msg_note *notes;            /* order (decoded: owned) */
    uint64_t base;              /* the master's, not on the wire: the
                                   snapshot the frames were made on when
                                   older than snap (a local child kept);
                                   0: snap */
} msg_result;

void msg_encode_result(msg_buf *b, const msg_result *r);
/* Decodes and validates (deltas valid, ranges in the SR, sizes sane,
 * output counts that match their frames).  On success *out owns its
 * allocations; free with msg_result_free. */
dvm_status msg_decode_result(const uint8_t *p, size_t len, msg_result *out);
void msg_result_free(msg_result *r);
/* The frames a decoded result names: its changes', then its output's, in
 * order; i < msg_result_nframes(r). */
size_t msg_result_nframes(const msg_result *r);
uint32_t *msg_result_frame(msg_result *r, size_t i);

/* ---- small messages ---------------------------------------------------- */

/* FRAME_REQ: u64 count.  FRAMES: u64 n, n x u64 frame.
 * PAGE_REQ: u64 page, u64 epoch.  PAGE_RESP: u64 frame.
 * SHUTDOWN: empty. */
void msg_encode_u64s(msg_buf *b, uint32_t type, const uint64_t *v, size_t n);
/* Most runners one MSG_GIVEN_BACK names (an RComp holds at most 64). */
#define MSG_GIVEN_BACK_MAX 64
/* MSG_GIVEN_BACK: k run ids, newest first. */
void msg_encode_given_back(msg_buf *b, const uint64_t *rid, size_t k);
/* Decodes MSG_GIVEN_BACK into rid[MSG_GIVEN_BACK_MAX]; *k their number.
 * Each id is non-zero. */
dvm_status msg_decode_given_back(const uint8_t *p, size_t len, uint64_t *rid,
                                 size_t *k);
/* Decodes a payload of exactly n u64s. */
dvm_status msg_decode_u64s(const uint8_t *p, size_t len, uint64_t *v, size_t n);
/* FRAMES: on success *ids (owned) holds *n frame ids. */
dvm_status msg_decode_frames(const uint8_t *p, size_t len, uint32_t **ids,
                             size_t *n);
void msg_encode_frames(msg_buf *b, const uint32_t *ids, size_t n);

/* STACK_REQ: u64 order, u64 count (1..MSG_STACKS_MAX).
 * STACKS: u64 order, u64 n (0..MSG_STACKS_MAX), n x u64 base: blocks of
 * 2^order pages of the stack area, each aligned to its size. */
#define MSG_STACKS_MAX 64
void msg_encode_stack_req(msg_buf *b, unsigned order, size_t count);
/* On success *order and *count (validated). */
dvm_status msg_decode_stack_req(const uint8_t *p, size_t len,
                                unsigned *order, size_t *count);
void msg_encode_stacks(msg_buf *b, unsigned order, const uint64_t *base,
                       size_t n);
/* On success *order, base[0..*n) (base has room for MSG_STACKS_MAX). */
dvm_status msg_decode_stacks(const uint8_t *p, size_t len, unsigned *order,
                             uint64_t *base, size_t *n);


#endif
