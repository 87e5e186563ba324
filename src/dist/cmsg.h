/*
 * cmsg.h -- the payloads of the cluster's own messages (master, nodes,
 * clients), and their validating decoders.
 *
 * Each payload travels as the data of one transport message
 * (cluster/transport.h) whose envelope (cluster/wire.h) names its type and
 * version.  Payloads are flat little-endian u64 sequences and byte strings
 * (u64 length, bytes), written with the msg_buf of net/msg.h; every
 * decoder checks every count and length against the bytes that remain
 * and against a bound, before it allocates or trusts anything, so a
 * malformed payload is DVM_EPROTO with a message, never a crash.
 *
 *   node   -> master  JOIN    u64 rcomps, then optionally string name
 *                             (the node's name: 1..CMSG_MAX_NODE_NAME
 *                             bytes of [A-Za-z0-9._-]; without it the
 *                             master names the node by its host)
 *   node   -> master  NODE_ADDR  string address (after JOIN, optional):
 *                             "HOST:PORT" where it serves other nodes the
 *                             versions it homes (a node without one homes
 *                             nothing)
 *   master -> node    PEERS   u64 its own id, u64 n, n x (u64 id, string
 *                             address): the nodes that home pages, in no
 *                             order (placement: dist/home.h); sent at every
 *                             change
 *   master -> node    STORE   as FETCHED, every entry present: versions
 *                             the node homes (or backs up) from now on
 *   node   -> master  STORED  as FETCH: the versions of a STORE it keeps
 *   master -> node    DROP    as FETCH: versions it need not keep any more
 *   master -> node    PULL    as FETCH: versions it homes from now on, to
 *                             fetch from their other holder (the master
 *                             gave its copy away); STORED follows
 *   node   -> node    DELTA   u64 run, u64 n, n x (tag: u64 node, u64
 *                             rcomp, u64 gen, u64 rid, u64 attempt; u64
 *                             page, 64 x u64 changed-byte mask, string
 *                             the changed bytes in page order): the
 *                             changes of a result its node relays, sent to
 *                             each page's home and backup, to keep until
 *                             the master says whether they commit (APPLY)
 *   master -> node    APPLY   u64 run, u64 n, n x (u64 page, u64 epoch,
 *                             u64 base, tag): version (page, epoch) is
 *                             version (page, base) (0: zeros) with the
 *                             changed bytes of the tagged DELTA over it;
 *                             the node makes and keeps it (STORED), or
 *                             asks for it (NEED)
 *   node   -> master  NEED    as FETCH: versions of an APPLY the node could
 *                             not make (delta or base missing): the master
 *                             sends them (STORE)
 *   node   -> master  DHELD   u64 run, u64 n, n x (u64 page, tag): the
 *                             node keeps the deltas (whole page and changed
 *                             bytes) of those results' pages until their
 *                             APPLY or DDROP (masks only)
 *   master -> node    DDROP   u64 run, u64 n, n x tag: those results will
 *                             never be applied (refused, or their RComp
 *                             lost): their deltas go
 *   master -> node    DRESEND as DDROP: those results of the node wait
 *                             at the master for their deltas to be held
 *                             at a current holder (DHELD): the node sends
 *                             them again to the pages' holders now (masks
 *                             only; it keeps what it sent until applied
 *                             or dropped, the oldest pushed out)
 *   node   -> node    HFETCH  as FETCH: versions asked of their home
 *   node   -> node    HFETCHED  as FETCHED: the home's answer
 *   node  <-> master  RELAY   one or more records, each u64 length and the
 *                             record; a record is one RComp message:
 *                             u64 run, u64 rcomp (the node's
 *                             index), u64 gen (which process in that
 *                             place), u64 page (1: page channel), the
 *                             message (net/msg.h frame), u64 npages and
 *                             npages x 4096 bytes of page data: the pages
 *                             the message names by frame, in order (the
 *                             changes of a RESULT, then the frames of its
 *                             output -- the last 256 of them; any before
 *                             go up ahead in records of type FRAMES, which
 *                             name master frames granted to that RComp and
 *                             carry their data, 256 pages at most; the page
 *                             of a PAGE_RESP); before the pages, u64 nver and
 *                             nver x u64: the epochs of the versions a
 *                             DISPATCH's prefetch entries or a PAGE_RESP
 *                             name (a version is (page, epoch))
 *   node   -> master  FETCH   u64 run, u64 n, n x (u64 page, u64 epoch):
 *                             versions a node lacks for a dispatch, and
 *                             pages of the input windows (epoch
 *                             CMSG_EPOCH_INPUT) its RComps asked for
 *   master -> node    FETCHED u64 run, u64 n, n x (u64 page, u64 epoch,
 *                             u64 present), u64 npages, the present ones'
 *                             data in order; present is 0 (absent), 1, or
 *                             CMSG_AT_HOMES: the master gave its copy away
 *                             after the version's home and backup had it
 *   master -> node    START   u64 run, string engine, string image,
 *                             u64 flags, u64 ndump, ndump x (u64 addr,
 *                             u64 bytes); no input: the node fetches the
 *                             input pages its RComps touch (FETCH)
 *   master -> node    STOP    u64 run
 *   master -> node    KILL    u64 rcomp, u64 gen: replace that process
 *   client -> master  SUBMIT  string engine, u64 flags, string image,
 *                             u64 nin, nin x (string channel, string data),
 *                             u64 ndump, ndump x (u64 addr, u64 bytes)
 *   master -> client  OUTPUT  u64 channel (CMSG_CHAN_DIAG: diagnostics),
 *                             string bytes
 *   master -> client  DONE    u64 exit code, string error, string stats,
 *                             string dump bytes, string trace (JSON); the
 *                             answer to a RESUME this master has no
 *                             program for has exit code
 *                             CMSG_DONE_NO_PROGRAM
 *   node   -> master  NODE_STATS  u64 pages cached, u64 cache hits,
 *                             u64 misses, u64 evicted, u64 versions homed,
 *                             u64 versions it served to other nodes, u64
 *                             versions it fetched from homes (the last two
 *                             since it started; sent now and then); then,
 *                             from nodes that time their fetches, u64
 *                             version (CMSG_FETCH_WAIT_VERSION),
 *                             CMSG_FETCH_WAIT_BUCKETS u64 counts of fetch
 *                             waits (obs.h's buckets) and u64 their sum in
 *                             ns, all since the node joined (this
 *                             connection)
 *   client -> master  STATUS_REQ  u64 json
 *   master -> node    CLOCK_PING  u64 version (CMSG_CLOCK_VERSION), u64 seq
 *   node   -> master  CLOCK_PONG  u64 version, u64 seq, u64 t1 (the ping
 *                             received), u64 t2 (the pong sent), t1 <= t2,
 *                             on the node's CLOCK_MONOTONIC (dist/clocksync.h)
 *   node  <-> master  LEAVE   u64 version (CMSG_LEAVE_VERSION), u64 step,
 *                             u64 run, u64 given back: a node leaving in
 *                             order.  ASK (node): it wants to leave; ACK
 *                             (master): no runner is dispatched to it after
 *                             this message; DONE (node): it leaves now,
 *                             `given back` runners were not finished
 *   node   -> master  PING    any bytes: a sign of life (heartbeat)
 *   client -> master  DRAIN   u64 version (CMSG_DRAIN_VERSION), string
 *                             name (a node's name as the master shows it:
 *                             JOIN's, "-2", "-3", ... added when taken):
 *                             the operator asks that node to leave in order
 *                             (dvm node --drain); the master answers DONE
 *                             once it left (exit code 0, stats: the line
 *                             saying so), at once with exit code 2 and the
 *                             error when no live node has that name, or
 *                             with exit code 1 when the node was lost
 *                             before it left in order
 *   master -> node    DRAIN   the same, with the node's own name: leave as
 *                             on SIGTERM (LEAVE ASK, ...)
 *   master -> client  STATUS  string text
 */
#ifndef DVM_DIST_CMSG_H
#define DVM_DIST_CMSG_H

#include <stddef.h>
#include <stdint.h>

#include "net/msg.h"
#include "util/status.h"

#define CMSG_PAGE 4096u
/* Bounds a decoder enforces. */
#define CMSG_MAX_RCOMPS 1024
#define CMSG_MAX_INPUTS 32
#define CMSG_MAX_DUMPS 64
#define CMSG_MAX_NAME 256
#define CMSG_MAX_NODE_NAME 63
/* The version of the CLOCK_PING and CLOCK_PONG payloads. */
#define CMSG_CLOCK_VERSION 1
#define CMSG_SUBMIT_STATS 1u
#define CMSG_SUBMIT_TRACE 2u
/* OUTPUT's channel for the run's diagnostics (runner faults): the
 * client's standard error. */
#define CMSG_CHAN_DIAG 0xFFFFu
/* How long a run waits for the RComps of the nodes present at its start
 * before it begins (so the first runner sees them all on the system
 * page), in milliseconds. */
#define CMSG_START_WAIT_MS 10000

/* Master and node send each other a sign of life (an empty PING, the
 * transport's keepalive) when nothing else went for CMSG_PING_MS.  The
 * master gives a node up after CMSG_NODE_SILENT_MS of listening without a
 * message from it (the default of dvm master --heartbeat); a node gives
 * its master up after CMSG_HEARTBEAT_MS (dvm node --heartbeat), longer on
 * purpose: a master stalled by its disk must not lose every node at once,
 * and a node that learns late that it was given up costs the program
 * nothing.  Milliseconds (docs/cluster.md, Heartbeats). */
#define CMSG_PING_MS 100
/* A sanitizer build runs every process several times slower, and the
 * suite runs it on loaded hosts beside other tests: its default bound is
 * longer, so that a node starved of CPU there is not taken for a stopped
 * one.  (Such a build is for testing; an operator runs the plain one.) */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CMSG_NODE_SILENT_MS 3000
#define CMSG_HEARTBEAT_MS 15000
#else
#define CMSG_NODE_SILENT_MS 700
#define CMSG_HEARTBEAT_MS 5000
#endif
/* LEAVE: its version and steps. */
#define CMSG_LEAVE_VERSION 1
#define CMSG_LEAVE_ASK 0
#define CMSG_LEAVE_ACK 1
#define CMSG_LEAVE_DONE 2
/* How long a leaving node lets the runners dispatched to it finish before
 * it gives the rest back, in milliseconds. */
#define CMSG_LEAVE_WAIT_MS 10000

typedef struct cmsg_str {
    const uint8_t *p;           /* points into the payload */
    uint64_t len;
} cmsg_str;

typedef struct cmsg_input {
    cmsg_str name, data;
} cmsg_input;

/* What a node adds to each RESULT it relays (RELAY's ver), for placement
 * (dist/linkcost.h). */
enum cmsg_result_fig {
    CMSG_RF_INPUT_PAGES,        /* input pages the node asked the master
                                   for while the runner ran (read-ahead
                                   included) */
    CMSG_RF_LINK_NS_PAGE,       /* the node's time per input page fetched
                                   (0: not measured yet) */
    CMSG_RESULT_FIGS
};

typedef struct cmsg_relay {
    uint64_t run, rcomp, gen;
    int page;
    uint32_t type;              /* the RComp message's type */
    const uint8_t *msg;         /* its payload */
    size_t len;
    uint64_t nver;
    const uint8_t *ver;         /* nver x u64 little endian */
    uint64_t npages;
    const uint8_t *pages;       /* npages x CMSG_PAGE bytes */
} cmsg_relay;

/* FETCH (width 2: page, epoch) and FETCHED (width 3: page, epoch,
 * present; then pages for the present ones).  Decoding refuses an entry
 * whose page is outside the SR or whose epoch is 0, unless it is a page of
 * the input windows with CMSG_EPOCH_INPUT (and such a page with another
 * epoch), and more than CMSG_MAX_INPUT_FETCH input pages. */
#define CMSG_MAX_FETCH (1u << 20)
#define CMSG_AT_HOMES 2
/* The "epoch" of a page of the input windows in FETCH and FETCHED: input
 * pages are no commit's versions, and no commit has this epoch. */
#define CMSG_EPOCH_INPUT UINT64_MAX
/* The most input pages one FETCH may ask for (the master makes each one
 * for the answer). */
#define CMSG_MAX_INPUT_FETCH 64u
typedef struct cmsg_fetch {
    uint64_t run, n;
    const uint8_t *ent;         /* n x width u64s */
    uint64_t npages;
    const uint8_t *pages;
} cmsg_fetch;

void cmsg_encode_fetch(msg_buf *b, uint64_t run, const uint64_t *ent,
                       size_t n, int width, const uint8_t *const *pages,
                       size_t npages);
/* Entry i's field k: le u64 at ent + 8 * (width * i + k). */
dvm_status cmsg_decode_fetch(const uint8_t *p, size_t len, int width,
                             cmsg_fetch *out);

/* DELTA and APPLY.  A tag names the result that made a commit: the
 * committing node (its id), the RComp place there and the place's
 * generation, the runner's run id and attempt.  A process runs an
 * attempt at most once, so a tag names one result for the life of a
 * program. */
typedef struct cmsg_tag {
    uint64_t node, rcomp, gen, rid, attempt;
} cmsg_tag;
#define CMSG_TAG_WORDS 5

/* True when a and b name the same result attempt (every word equal). */
static inline int cmsg_tag_same(const cmsg_tag *a, const cmsg_tag *b)
{
    return a->node == b->node && a->rcomp == b->rcomp && a->gen == b->gen &&
           a->rid == b->rid && a->attempt == b->attempt;
}

/* A 64-bit hash of a delta's name (tag, page), for the tables that find
 * deltas by name (dpend, dheld). */
static inline uint64_t cmsg_name_hash(const cmsg_tag *t, uint64_t page)
{
    uint64_t x = page * 0x9E3779B97F4A7C15ull;
    x ^= (t->rid + (t->attempt << 20)) * 0xC2B2AE3D27D4EB4Full;
    x ^= (t->node + (t->rcomp << 16) + (t->gen << 32)) * 0x165667B19E3779F9ull;
    return x ^ (x >> 29);
}
/* In a tag's attempt: the delta is the whole page (every byte marked),
 * sent beside the changed bytes when the master has no data to tell
 * whether the page is its base with those bytes over it. */
#define CMSG_TAG_WHOLE (1ull << 63)
#define CMSG_MASK_WORDS 64          /* a page's changed-byte mask */
#define CMSG_MAX_DELTAS 4096        /* entries of a DELTA */
typedef struct cmsg_delta {
    uint64_t run, n;
    const uint8_t *ent;             /* the n entries, validated */
    size_t len;
} cmsg_delta;
typedef struct cmsg_delta_ent {
    cmsg_tag tag;
    uint64_t page;
    const uint8_t *mask;            /* CMSG_MASK_WORDS le u64 */
    cmsg_str bytes;                 /* as many as the mask's bits */
} cmsg_delta_ent;
/* A DELTA is its head, then n entries. */
void cmsg_encode_delta_head(msg_buf *b, uint64_t run, uint64_t n);
void cmsg_encode_delta_ent(msg_buf *b, const cmsg_tag *t, uint64_t page,
                           const uint64_t *mask, const uint8_t *bytes,
                           size_t nbytes);
/* DVM_EPROTO for more than CMSG_MAX_DELTAS entries, a page outside the
 * SR, or changed bytes that do not match their mask. */
dvm_status cmsg_decode_delta(const uint8_t *p, size_t len, cmsg_delta *out);
/* The entry of a decoded DELTA at *off (0 first), moving *off past it;
 * call it d->n times. */
void cmsg_delta_next(const cmsg_delta *d, size_t *off, cmsg_delta_ent *e);
/* The bytes of page (CMSG_PAGE) that mask marks, in page order, into out
 * (CMSG_PAGE bytes); returns how many. */
size_t cmsg_delta_pack(const uint64_t *mask, const uint8_t *page,
                       uint8_t *out);
/* Writes entry e's changed bytes over page (CMSG_PAGE bytes). */
void cmsg_delta_apply(const cmsg_delta_ent *e, uint8_t *page);
/* APPLY: FETCH entries of CMSG_APPLY_WIDTH words (page, epoch, base, the
 * tag's words); decoding refuses a base not older than its epoch. */
#define CMSG_APPLY_WIDTH (3 + CMSG_TAG_WORDS)
dvm_status cmsg_decode_apply(const uint8_t *p, size_t len, cmsg_fetch *out);
/* Entry i of a decoded APPLY: its page, epoch, base and tag. */
void cmsg_apply_ent(const cmsg_fetch *f, uint64_t i, uint64_t *page,
                    uint64_t *epoch, uint64_t *base, cmsg_tag *t);

/* DHELD (width CMSG_DHELD_WIDTH: page, tag), DDROP and DRESEND (width
 * CMSG_TAG_WORDS: tag).  Decoding refuses a page outside the SR, an
 * attempt with CMSG_TAG_WHOLE, more than CMSG_MAX_FETCH entries. */
#define CMSG_DHELD_WIDTH (1 + CMSG_TAG_WORDS)
typedef struct cmsg_tags {
    uint64_t run, n;
    int width;
    const uint8_t *ent;         /* n x width le u64s */
} cmsg_tags;
/* ent: n x width words (page first in DHELD). */
void cmsg_encode_tags(msg_buf *b, uint64_t run, const uint64_t *ent,
                      size_t n, int width);
dvm_status cmsg_decode_dheld(const uint8_t *p, size_t len, cmsg_tags *out);
dvm_status cmsg_decode_ddrop(const uint8_t *p, size_t len, cmsg_tags *out);
dvm_status cmsg_decode_dresend(const uint8_t *p, size_t len, cmsg_tags *out);
/* Entry i: its tag, and its page (DHELD; 0 for DDROP and DRESEND). */
void cmsg_tags_ent(const cmsg_tags *t, uint64_t i, uint64_t *page,
                   cmsg_tag *tag);

/* NODE_ADDR: where a node serves its homed versions (one string of
 * 1..CMSG_MAX_ADDR-1 bytes without NUL). */
#define CMSG_MAX_ADDR 256
void cmsg_encode_addr(msg_buf *b, const char *addr, size_t n);
dvm_status cmsg_decode_addr(const uint8_t *p, size_t len, cmsg_str *out);

/* PEERS: the nodes that home pages (ids distinct, addresses non-empty). */
#define CMSG_MAX_PEERS 256
typedef struct cmsg_peers {
    uint64_t self;
    uint32_t n;
    uint64_t id[CMSG_MAX_PEERS];
    cmsg_str addr[CMSG_MAX_PEERS];
} cmsg_peers;

void cmsg_encode_peers(msg_buf *b, const cmsg_peers *m);
dvm_status cmsg_decode_peers(const uint8_t *p, size_t len, cmsg_peers *out);

/* NODE_STATS: these u64s (CMSG_NODE_STATS of them, in this order), then
 * (optional) the fetch waits. */
enum cmsg_node_stat {
    CMSG_NS_CACHED,             /* pages cached */
    CMSG_NS_HITS,               /* cache hits */
    CMSG_NS_MISSES,             /* cache misses */
    CMSG_NS_EVICTED,            /* pages evicted */
    CMSG_NS_HOMED,              /* versions homed */
    CMSG_NS_SERVED,             /* versions served to other nodes */
    CMSG_NS_FROM_HOMES,         /* versions fetched from homes */
    CMSG_NODE_STATS
};
#define CMSG_FETCH_WAIT_VERSION 1
#define CMSG_FETCH_WAIT_BUCKETS 24  /* OBS_FETCH_WAIT_BUCKETS */

typedef struct cmsg_node_stats {
    uint64_t v[CMSG_NODE_STATS];
    int has_wait;               /* the node sent its fetch waits */
    uint64_t wait[CMSG_FETCH_WAIT_BUCKETS];
    uint64_t wait_sum_ns;
} cmsg_node_stats;

/* NODE_STATS with its fetch waits when s->has_wait; decoding accepts the
 * figures alone (nodes that do not time fetches) or with the waits of
 * version CMSG_FETCH_WAIT_VERSION, nothing else. */
void cmsg_encode_node_stats(msg_buf *b, const cmsg_node_stats *s);
dvm_status cmsg_decode_node_stats(const uint8_t *p, size_t len,
                                  cmsg_node_stats *out);

typedef struct cmsg_dump {
    uint64_t addr, bytes;
} cmsg_dump;

/* START's flags.  MASKS_ONLY: the node sends the master, for each page a
 * result changed, its changed-byte mask without its data, except for the
 * system page (cmsg_start_keeps_data); the homes make every version from
 * the committing node's changes, and the master fetches the dumped pages
 * from their holders at the end (HFETCH). */
#define CMSG_START_MASKS_ONLY 1u
typedef struct cmsg_start {
    uint64_t run;
    cmsg_str engine, image;
    uint64_t flags;
} cmsg_start;

typedef struct cmsg_submit {
    cmsg_str engine, image;
    uint64_t flags;
    uint32_t nin;
    cmsg_input in[CMSG_MAX_INPUTS];
    uint32_t ndump;
    cmsg_dump dump[CMSG_MAX_DUMPS];
} cmsg_submit;

typedef struct cmsg_done {
    uint64_t code;
    cmsg_str error, stats, dump, trace;
} cmsg_done;

void cmsg_put_str(msg_buf *b, const void *p, size_t n);

typedef struct cmsg_leave {
    uint64_t step, run, given_back;
} cmsg_leave;

void cmsg_encode_leave(msg_buf *b, const cmsg_leave *l);
/* DVM_EPROTO for another version, an unknown step, or given back runners
 * in a step other than DONE. */
dvm_status cmsg_decode_leave(const uint8_t *p, size_t len, cmsg_leave *out);

/* DRAIN: the name of the node to leave: 1..CMSG_MAX_NODE_LABEL bytes of
 * a node name's alphabet (JOIN's name and the suffix the master adds). */
#define CMSG_DRAIN_VERSION 1
#define CMSG_MAX_NODE_LABEL (CMSG_MAX_NODE_NAME + 7)
void cmsg_encode_drain(msg_buf *b, const char *name, size_t n);
/* DVM_EPROTO for another version or a bad name. */
dvm_status cmsg_decode_drain(const uint8_t *p, size_t len, cmsg_str *out);

/* RELAY: the RComp message of the given type and payload msg[0, len);
 * ver: nver u64s, the version epochs of a PAGE_RESP (master -> node), the
 * CMSG_RESULT_FIGS figures of a RESULT (node -> master: enum
 * cmsg_result_fig), none with any other; pages: npages pages, each a
 * pointer. */
void cmsg_encode_relay(msg_buf *b, uint64_t run, uint64_t rcomp, uint64_t gen,
                       int page, uint32_t type, const uint8_t *msg,
                       size_t len, const uint64_t *ver, size_t nver,
                       const uint8_t *const *pages, size_t npages);
dvm_status cmsg_decode_relay(const uint8_t *p, size_t len, cmsg_relay *out);
/* Appends record rec to the RELAY message being built in batch. */
void cmsg_batch_add(msg_buf *batch, const msg_buf *rec);
/* The record of a RELAY message p[0, len) at *off: returns 1 with *rec,
 * *rlen set and *off moved past it, 0 at the end, -1 when malformed. */
int cmsg_batch_next(const uint8_t *p, size_t len, size_t *off,
                    const uint8_t **rec, size_t *rlen);
/* Calls fn(ctx, rec, rlen) for each record of the RELAY message p[0, len)
 * in order, stopping at the first that returns non-zero.  Returns that
 * status, DVM_EPROTO ("malformed relay") when a record is malformed (the
 * records before it were handed on), else DVM_OK. */
typedef dvm_status (*cmsg_batch_fn)(void *ctx, const uint8_t *rec,
                                    size_t rlen);
dvm_status cmsg_batch_each(const uint8_t *p, size_t len, cmsg_batch_fn fn,
                           void *ctx);

void cmsg_encode_start(msg_buf *b, const cmsg_start *s);
dvm_status cmsg_decode_start(const uint8_t *p, size_t len, cmsg_start *out);
/* 1 when a result's change of page goes to the master with its data
 * under START s: always without CMSG_START_MASKS_ONLY, else only the
 * system page. */
int cmsg_start_keeps_data(const cmsg_start *s, uint64_t page);

void cmsg_encode_submit(msg_buf *b, const cmsg_submit *s);
dvm_status cmsg_decode_submit(const uint8_t *p, size_t len, cmsg_submit *out);

void cmsg_encode_done(msg_buf *b, const cmsg_done *d);
dvm_status cmsg_decode_done(const uint8_t *p, size_t len, cmsg_done *out);

/* OUTPUT: u64 channel, string. */
void cmsg_encode_output(msg_buf *b, uint64_t chan, const void *p, size_t n);
dvm_status cmsg_decode_output(const uint8_t *p, size_t len, uint64_t *chan,
                              cmsg_str *bytes);

/* Payloads of exactly n u64s (JOIN, STOP, KILL, STATUS_REQ). */
void cmsg_encode_u64s(msg_buf *b, const uint64_t *v, size_t n);
dvm_status cmsg_decode_u64s(const uint8_t *p, size_t len, uint64_t *v,
                            size_t n);
/* RESUME: a client that lost its master asks a restarted one (dvm master
 * --state) to go on with its program: the program's id (cmsg_submit_id of
 * its SUBMIT payload) and the bytes it has received per channel.  At most
 * CMSG_MAX_CHANS channels, each once. */
#define CMSG_MAX_CHANS 256
/* DONE's exit code when the master has no program to resume for the
 * client: it never saved it (it died before the program's first save, or
 * ran without --state) or it dropped it (the program ended; the verdict
 * was lost with the master).  A client that received no byte of the
 * program loses nothing by submitting it again (cmd_submit.c); one that
 * did cannot know the rest.  Never an exit status. */
#define CMSG_DONE_NO_PROGRAM 3
typedef struct cmsg_resume {
    uint64_t id;
    uint32_t n;
    uint64_t chan[CMSG_MAX_CHANS], bytes[CMSG_MAX_CHANS];
} cmsg_resume;
void cmsg_encode_resume(msg_buf *b, const cmsg_resume *r);
dvm_status cmsg_decode_resume(const uint8_t *p, size_t len, cmsg_resume *out);
/* The id of a SUBMIT payload: a 64-bit FNV-1a hash of its bytes (names a
 * program across a master's restart; not a security measure). */
uint64_t cmsg_submit_id(const uint8_t *p, size_t len);

/* STATUS: one string. */
dvm_status cmsg_decode_str(const uint8_t *p, size_t len, cmsg_str *out);

/* JOIN: the node's RComp count and name (len 0: none given). */
typedef struct cmsg_join {
    uint64_t nrcomps;
    cmsg_str name;
} cmsg_join;

void cmsg_encode_join(msg_buf *b, const cmsg_join *j);
/* DVM_EPROTO for an RComp count above CMSG_MAX_RCOMPS (0 is a node
 * that homes pages only) or a bad name. */
dvm_status cmsg_decode_join(const uint8_t *p, size_t len, cmsg_join *out);
/* 1 if name[0, len) is a valid node name (see JOIN), else 0. */
int cmsg_node_name_ok(const void *name, size_t len);

/* CLOCK_PONG: the node's side of one clock measurement. */
typedef struct cmsg_clock {
    uint64_t seq, t1, t2;
} cmsg_clock;

void cmsg_encode_clock_ping(msg_buf *b, uint64_t seq);
dvm_status cmsg_decode_clock_ping(const uint8_t *p, size_t len,
                                  uint64_t *seq);
void cmsg_encode_clock_pong(msg_buf *b, const cmsg_clock *c);
/* DVM_EPROTO for another version or t2 < t1. */
dvm_status cmsg_decode_clock_pong(const uint8_t *p, size_t len,
                                  cmsg_clock *out);

/* Copies s into a NUL-terminated buffer of cap bytes; DVM_EPROTO if it
 * does not fit or holds a NUL. */
dvm_status cmsg_str_copy(cmsg_str s, char *buf, size_t cap);

#endif
