/*
 * rcomp.c -- the RComp process: setup and the control loop.
 *
 * An RComp is started by the master as `dvm __rcomp OPTIONS` (rcomp.h) and
 * lives as long as the DVM: it loads the image once, builds the engine once
 * (the translator's cache then serves every runner), maps the frame store
 * and opens its window, and then serves the control socket:
 *
 *   DISPATCH   runners appended to a local FIFO, run in order, one RESULT
 *              each (run.c); with a claim board (--claim), each only
 *              once it is claimed there, and one the master took back
 *              meanwhile is skipped (net/claim.h)
 *   FRAMES     frames granted into the local pool (commit.c asks for them
 *              with FRAME_REQ and waits; DISPATCH arriving meanwhile is
 *              queued, never lost or reordered)
 *   STACKS     stack blocks granted into the local pools (stacks.c asks
 *              with STACK_REQ from inside a newr, and waits the same way)
 *   RUN        a run of zero frames for a large zero span (adopt.c asks
 *              with RUN_REQ before the runner starts, and waits the same
 *              way)
 *   SHUTDOWN   or end of stream: exit 0
 *
 * Anything else is a protocol error: exit 3 with a message.  Every message
 * to stderr starts with "dvm rcomp K: ".
 *
 * The page socket belongs to the window's handler thread (pages.c); the
 * control socket to the engine thread.  Started by a single-host master
 * (--ctl-queue), the control channel's bytes go through a queue in
 * shared memory (net/shmq.h) and the socket only rings: a dispatch that
 * comes while the RComp polls costs neither side a system call.  The FIFO holds decoded batches: a
 * batch's runner array is its own allocation, so a pointer to the runner
 * being run stays valid while more batches are queued behind it.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/code.h"
#include "exec/jit_cache.h"
#include "image/image.h"
#include "isa/isa.h"
#include "rcomp/rcomp.h"
#include "rcomp/rcomp_int.h"
#include "util/alloc.h"
#include "util/version.h"

#define RC_MAX_IN 64
#define RC_INPUT_CAP_PAGES 32768        /* 128 MiB of input pages mapped */
#define RC_INPUT_AHEAD_PAGES 15         /* 64 KiB of input a fault */

typedef struct rc_opts {
    const char *in[RC_MAX_IN];
    size_t nin;
    const char *in_window, *in_map;     /* a cluster node's input pages */
} rc_opts;

/* ---- options ----------------------------------------------------------- */

/* Parses a non-negative int option value. */
static dvm_status opt_int(const char *flag, const char *v, long max,
                          long *out)
{
    char *end;
    errno = 0;
    long n = v ? strtol(v, &end, 10) : -1;
    if (!v || errno || end == v || *end || n < 0 || n > max)
        return status_set(DVM_EINVAL, "%s: expected a number, got '%s'",
                          flag, v ? v : "(nothing)");
    *out = n;
    return DVM_OK;
}

/* Handles one option at argv[i] (value at argv[i + 1]). */
static dvm_status opt_one(rcomp *rc, rc_opts *o, const char *f,
                          const char *v)
{
    long n = 0;
    dvm_status st = DVM_OK;
    if (!strcmp(f, "--engine")) {
        if (!v || (strcmp(v, "interp") && strcmp(v, "jit")))
            return status_set(DVM_EINVAL, "--engine: interp or jit");
        rc->engine = v;
    } else if (!strcmp(f, "--in")) {
        if (!v || o->nin == RC_MAX_IN)
            return status_set(DVM_EINVAL, "--in: missing or too many");
        o->in[o->nin++] = v;
    } else if (!strcmp(f, "--input-window") || !strcmp(f, "--input-map")) {
        if (!v || !*v)
            return status_set(DVM_EINVAL, "%s: missing path", f);
        if (!strcmp(f, "--input-window"))
            o->in_window = v;
        else
            o->in_map = v;
    } else if (!strcmp(f, "--jit-cache")) {
        if (!v || !*v)
            return status_set(DVM_EINVAL, "--jit-cache: missing directory");
        rc->jit_cache = v;
    } else if (!strcmp(f, "--frames")) {
        if (!(st = opt_int(f, v, UINT32_MAX, &n)))
            rc->nframes = (uint32_t)n;
    } else if (!strcmp(f, "--adopt")) {
        if (!(st = opt_int(f, v, RC_ZERO_SPAN_MAX, &n)))
            rc->adopt_min = (uint64_t)n;
    } else if (!strcmp(f, "--yield")) {
        if (!(st = opt_int(f, v, 1, &n)))
            rc->yield = (int)n;
    } else if (!strcmp(f, "--local-children")) {
        if (!(st = opt_int(f, v, 1, &n)))
            rc->local_children = (int)n;
    } else if (!strcmp(f, "--dvm-version")) {
        /* The master's version: an RComp executable of another build
         * (dvm-rcomp left from an older install) would speak another
         * protocol; it refuses instead. */
        if (!v || strcmp(v, DVM_VERSION))
            return status_set(DVM_EINVAL, "this RComp is of dvm %s, its "
                              "master of dvm %s: install dvm and dvm-rcomp "
                              "from one build", DVM_VERSION, v ? v : "?");
        rc->version_ok = 1;
    } else {
        int *slot = !strcmp(f, "--index") ? &rc->index
                  : !strcmp(f, "--ctl")   ? &rc->ctl_fd
                  : !strcmp(f, "--page")  ? &rc->page_fd
                  : !strcmp(f, "--store") ? &rc->store_fd
                  : !strcmp(f, "--claim") ? &rc->claim_fd
                  : !strcmp(f, "--ctl-queue") ? &rc->queue_fd
                  : !strcmp(f, "--image") ? &rc->image_fd : NULL;
        if (!slot)
            return status_set(DVM_EINVAL, "unknown option '%s'", f);
        if (!(st = opt_int(f, v, INT_MAX, &n)))
            *slot = (int)n;
    }
    return st;
}

/* Parses argv (argv[0] is the command name) into rc and o. */
static dvm_status parse_opts(rcomp *rc, rc_opts *o, int argc, char **argv)
{
    rc->index = rc->ctl_fd = rc->page_fd = rc->store_fd = rc->image_fd = -1;
    rc->claim_fd = rc->queue_fd = -1;
    for (int i = 1; i < argc; i += 2) {
        dvm_status st = opt_one(rc, o, argv[i], i + 1 < argc ? argv[i + 1]
                                                            : NULL);
        if (st)
            return st;
    }
    if (rc->ctl_fd < 0 || rc->page_fd < 0 || rc->store_fd < 0 ||
        rc->image_fd < 0 || !rc->nframes || !rc->engine || !rc->version_ok)
        return status_set(DVM_EINVAL, "missing option (need --index --ctl "
                          "--page --store --frames --image --engine "
                          "--dvm-version)");
    return DVM_OK;
}

/* ---- setup ------------------------------------------------------------- */

/* Maps the image memfd and parses it. */
static dvm_status load_image(rcomp *rc)
{
    struct stat sb;
    if (fstat(rc->image_fd, &sb) < 0 || sb.st_size <= 0)
        return status_set_errno(DVM_EIO, "image fd %d", rc->image_fd);
    void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE,
                   rc->image_fd, 0);
    if (p == MAP_FAILED)
        return status_set_errno(DVM_EIO, "image fd %d: mmap", rc->image_fd);
    dvm_status st = image_parse(p, (size_t)sb.st_size, &rc->prog);
    munmap(p, (size_t)sb.st_size);
    return st;
}

/* The engine: the translator for --engine jit, else the interpreter. */
static dvm_status make_engine(rcomp *rc)
{
    dvm_status st = code_build(rc->prog, &rc->code);
    if (!st && !strcmp(rc->engine, "jit"))
        st = jit_create(rc->code, &rc->jit);
    if (!st && rc->jit && rc->jit_cache &&
        jit_share(rc->jit, rc->jit_cache, jit_cache_program_hash(rc->prog)))
        fprintf(stderr, "dvm: rcomp %d: %s; translating alone\n", rc->index,
                status_message());
    return st;
}

/* The window, with a plain PR and a bounded input cache. */
static dvm_status open_window(rcomp *rc)
{
    dvm_status st = window_open(rc_resolve, rc, &rc->win);
    if (st)
        return st;
    /* Without a plain PR the resolver answers PR zeros itself: slower,
     * same result. */
    if (!window_plain(rc->win, DISA_RB / DISA_PAGE)) {
        window_plain_keep(rc->win, RC_PR_RESIDENT);
        window_plain_soft(rc->win, RC_PR_SOFT);
        rc_outputs_keep(rc);
    } else {
        status_clear();
    }
    window_set_input_cap(rc->win, RC_INPUT_CAP_PAGES);
    window_set_input_ahead(rc->win, rc_input_ahead, RC_INPUT_AHEAD_PAGES);
    vm_runner_init(&rc->vr, window_base(rc->win), rc->code);
    rc_stacks_init(rc);
    rc_pr_init(rc);
    return DVM_OK;
}

/* The engine thread's reusable buffers. */
static dvm_status alloc_buffers(rcomp *rc)
{
    if (posix_memalign((void **)&rc->ctx, DISA_PAGE, DISA_PAGE)) {
        rc->ctx = NULL;
        return status_set(DVM_ENOMEM, "context page");
    }
    memset(rc->ctx, 0, DISA_PAGE);
    rc->scratch = dvm_malloc(DIFF_DENSE * sizeof *rc->scratch);
    rc->dbits = dvm_malloc(2 * DIFF_BITMAP_BYTES);
    if (!rc->scratch || !rc->dbits)
        return status_set(DVM_ENOMEM, "diff buffer");
    return rc_basemap_init(&rc->base);
}

static dvm_status setup(rcomp *rc, const rc_opts *o)
{
    dvm_status st = load_image(rc);
    if (!st)
        st = make_engine(rc);
    if (!st)
        st = store_attach(rc->store_fd, rc->nframes, &rc->store);
    for (size_t i = 0; i < o->nin && !st; i++)
        st = rc_input_add(rc, o->in[i]);
    if (!st && (o->in_window || o->in_map))
        st = rc_inputs_asked(rc, o->in_window, o->in_map);
    if (!st)
        st = rc_outputs_init(rc);
    if (!st)
        st = alloc_buffers(rc);
    if (!st)
        st = rc_local_init(rc);
    if (!st && rc->claim_fd >= 0)
        st = claim_board_map(rc->claim_fd, rc->index, &rc->claim);
    if (!st)
        st = open_window(rc);
    return st;
}

/* Frees what setup made; safe on a partial setup. */
static void teardown(rcomp *rc)
{
    if (rc->win) {
        window_close(rc->win);  /* stops the handler first */
        vm_runner_destroy(&rc->vr);
    }
    for (size_t i = rc->fifo_head; i < rc->nfifo; i++)
        msg_dispatch_free(&rc->fifo[i]);
    claim_boards_unmap(rc->claim, 1);
    dvm_free(rc->fifo);
    dvm_free(rc->pool);
    rc_stacks_free(rc);
    dvm_free(rc->prepg);
    dvm_free(rc->zeroed);
    dvm_free(rc->pend);
    dvm_free(rc->runs);
    dvm_free(rc->bits);
    dvm_free(rc->scratch);
    dvm_free(rc->dbits);
    dvm_free(rc->iv);
    dvm_free(rc->kst);
    dvm_free(rc->chg);
    dvm_free(rc->outs);
    dvm_free(rc->ofr);
    dvm_free(rc->out);
    free(rc->ctx);
    rc_basemap_free(&rc->base);
    rc_keep_free(&rc->keep);
    rc_inputs_free(rc);
    if (rc->jit)
        jit_destroy(rc->jit);
    code_free(rc->code);
    if (rc->store)
        store_destroy(rc->store);
    program_free(rc->prog);
    rc_local_free(rc);
    mb_free(&rc->obuf);
    mb_free(&rc->page_buf);
    conn_close(&rc->ctl);
    conn_close(&rc->page);
    pthread_mutex_destroy(&rc->mu);
}

/* ---- the FIFO and the control socket ---------------------------------- */

dvm_status rc_queue_dispatch(rcomp *rc, const uint8_t *p, size_t len)
{
    assert(rc->fifo_head <= rc->nfifo && rc->nfifo <= rc->capfifo);
    if (rc->fifo_head == rc->nfifo)
        rc->fifo_head = rc->nfifo = 0;
    if (rc->nfifo == rc->capfifo) {
        msg_dispatch *f = dvm_grow(rc->fifo, &rc->capfifo, rc->nfifo + 1,
                                   sizeof *f);
        if (!f)
            return status_set(DVM_ENOMEM, "dispatch queue");
        rc->fifo = f;
    }
    dvm_status st = msg_decode_dispatch(p, len, &rc->fifo[rc->nfifo]);
    if (st)
        return st == DVM_ENOMEM ? st : status_set(DVM_EPROTO, "bad DISPATCH:"
                                                  " %s", status_message());
    rc->nfifo++;
    return DVM_OK;
}

/* Adds a FRAMES grant to the pool. */
static dvm_status add_frames(rcomp *rc, const uint8_t *p, size_t len)
{
    uint32_t *ids;
    size_t n;
    if (msg_decode_frames(p, len, &ids, &n))
        return status_set(DVM_EPROTO, "bad FRAMES");
    rc->frames_asked = 0;       /* the answer to the newest request */
    dvm_status st = DVM_OK;
    uint32_t *pool = rc->npool + n > rc->cappool
        ? dvm_grow(rc->pool, &rc->cappool, rc->npool + n, sizeof *pool)
        : rc->pool;
    if (!pool)
        st = status_set(DVM_ENOMEM, "frame pool");
    for (size_t i = 0; i < n && !st; i++) {
        if (!ids[i] || ids[i] >= rc->nframes)
            st = status_set(DVM_EPROTO, "FRAMES: frame %u out of range",
                            ids[i]);
        else
            pool[rc->npool++] = ids[i];
    }
    assert(rc->npool <= rc->cappool || st);
    if (pool)
        rc->pool = pool;
    dvm_free(ids);
    return st;
}

/* Handles one control message other than a result wait. */
static dvm_status on_ctl(rcomp *rc, uint32_t type, const uint8_t *p,
                         size_t len)
{
    switch (type) {
    case MSG_DISPATCH:
        return rc_queue_dispatch(rc, p, len);
    case MSG_FRAMES:
        return add_frames(rc, p, len);
    case MSG_STACKS:
        return rc_stacks_add(rc, p, len);
    case MSG_RUN:
        return rc_adopt_on_run(rc, p, len);
    case MSG_SHUTDOWN:
        return DVM_ECLOSED;
    default:
        return status_set(DVM_EPROTO, "unexpected message type %u", type);
    }
}

dvm_status rc_wait_reply(rcomp *rc, uint32_t want)
{
    for (;;) {
        uint32_t type;
        const uint8_t *p;
        size_t len;
        dvm_status st = conn_recv(&rc->ctl, &type, &p, &len);
        if (!st)
            st = on_ctl(rc, type, p, len);
        if (st || type == want)
            return st;
    }
}

dvm_status rc_flush(rcomp *rc)
{
    if (rc->obuf.oom)
        return status_set(DVM_ENOMEM, "control message too large");
    assert(rc->obuf.len > 0 || rc->nunsent == 0 || rc->ctl.q);
    dvm_status st = rc->obuf.len ? conn_send(&rc->ctl, &rc->obuf) : DVM_OK;
    if (!st && rc->nunsent)
        conn_ring_asked(&rc->ctl);  /* results already in the queue */
    mb_reset(&rc->obuf);
    rc->nunsent = 0;
    return st;
}

dvm_status rc_flush_ring(rcomp *rc)
{
    dvm_status st = rc_flush(rc);
    conn_ring_asked(&rc->ctl);
    return st;
}

int rc_may_ask_ahead(const rcomp *rc)
{
    return rc->ctl.q && !rc->obuf.len;
}

int rc_send_ahead(rcomp *rc)
{
    assert(rc->ctl.q);
    dvm_status st = rc->obuf.oom ? DVM_ENOMEM
                                 : conn_send_quiet(&rc->ctl, &rc->obuf);
    mb_reset(&rc->obuf);
    return st == DVM_OK;
}

/* The next runner to run, or NULL when the FIFO is empty. */
static const msg_runner *fifo_peek(rcomp *rc)
{
    while (rc->fifo_head < rc->nfifo) {
        msg_dispatch *d = &rc->fifo[rc->fifo_head];
        assert(rc->fifo_pos <= d->n);
        if (rc->fifo_pos < d->n)
            return &d->r[rc->fifo_pos];
        msg_dispatch_free(d);
        rc->fifo_head++;
        rc->fifo_pos = 0;
    }
    return NULL;
}

/* With --ctl-queue, ctl's bytes go through shared memory (net/shmq.h);
 * the socket then carries doorbells and the master's end of file. */
static dvm_status attach_queue(rcomp *rc)
{
    if (rc->queue_fd < 0)
        return DVM_OK;
    shmq *q;
    dvm_status st = shmq_open(rc->queue_fd, &q);
    close(rc->queue_fd);
    rc->queue_fd = -1;
    if (!st)
        conn_attach_shmq(&rc->ctl, q, 0);
    return st;
}

/* Serves the control socket until shutdown; returns the exit status. */
static dvm_status serve(rcomp *rc)
{
    msg_encode_u64s(&rc->obuf, MSG_READY, NULL, 0);
    for (;;) {
        const msg_runner *mr = fifo_peek(rc);
        dvm_status st;
        if (mr) {
            int mine = !rc->claim || claim_start(rc->claim, rc->claim_seq);
            rc->fifo_pos++;     /* (mr stays: fifo_peek frees it) */
            st = mine ? rc_run(rc, mr) : rc_skip(rc);
            rc->claim_seq++;
            while (!st && rc->loc_ready)        /* a child started at once */
                st = rc_local_run(rc);
        } else {
            uint32_t type;
            const uint8_t *p;
            size_t len;
            st = rc_flush(rc);  /* never block with results held back */
            if (!st)
                st = conn_recv(&rc->ctl, &type, &p, &len);
            if (!st)
                st = on_ctl(rc, type, p, len);
        }
        if (st)
            return st;
    }
}

static int exit_code(dvm_status st)
{
    if (st == DVM_ECLOSED)
        return 0;
    return st == DVM_EPROTO ? RC_EXIT_PROTO : 1;
}

int rcomp_main(int argc, char **argv)
{
    rcomp rc;
    rc_opts o = { .nin = 0 };
    memset(&rc, 0, sizeof rc);
    signal(SIGPIPE, SIG_IGN);   /* a master gone is DVM_ECLOSED, not death */
    pthread_mutex_init(&rc.mu, NULL);
    mb_init(&rc.obuf);
    mb_init(&rc.page_buf);
    conn_init(&rc.ctl, -1);
    conn_init(&rc.page, -1);
    dvm_status st = parse_opts(&rc, &o, argc, argv);
    int code = RC_EXIT_SETUP;
    if (!st) {
        conn_init(&rc.ctl, rc.ctl_fd);
        conn_init(&rc.page, rc.page_fd);
        st = attach_queue(&rc);
        if (!st)
            st = setup(&rc, &o);
        if (!st) {
            st = serve(&rc);
            code = exit_code(st);
        }
    }
    if (st && st != DVM_ECLOSED)
        fprintf(stderr, "dvm rcomp %d: %s\n", rc.index, status_message());
    teardown(&rc);
    return code;
}
