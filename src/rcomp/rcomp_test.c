/*
 * rcomp_test.c -- an RComp driven by hand.
 *
 * The test forks and runs rcomp_main in the child, over two socketpairs and
 * a real frame store, and plays the master in the parent: it dispatches
 * runners of tiny hand-encoded programs, answers PAGE_REQ from a table of
 * pages it wrote into frames, grants frames on FRAME_REQ and stack blocks
 * on STACK_REQ, and checks each RESULT: changes and their frames, outputs,
 * children (with stacks of their own or chosen by the DVM), faults.  alarm()
 * bounds every test; the RComp is killed on teardown.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "image/image.h"
#include "isa/isa.h"
#include "mem/store.h"
#include "net/claim.h"
#include "net/conn.h"
#include "net/msg.h"
#include "net/shmq.h"
#include "rcomp/rcomp.h"
#include "rcomp/rcomp_int.h"        /* RC_FRAME_BATCH */
#include "util/alloc.h"
#include "util/sanitize.h"
#include "util/version.h"

#define NFRAMES 4096
#define HEAP    0x50000000ULL
#define STACK   0x60000000ULL
#define DESC    0x70000000ULL   /* page of runner descriptors, served */
#define INADDR  0x3F0000000000ULL
#define GRANT_MAX 24            /* stack blocks in one scripted grant */

/* ---- programs ---------------------------------------------------------- */

static isa_operand imm(uint64_t v)
{
    return (isa_operand){ ISA_M_IMM, ISA_T_Q, v, 0 };
}

static isa_operand dir(uint64_t a, int type)
{
    return (isa_operand){ ISA_M_DIR, (uint8_t)type, a, 0 };
}

static isa_operand ind(uint64_t a, int type)
{
    return (isa_operand){ ISA_M_IND, (uint8_t)type, a, 0 };
}

static isa_insn ins(int op, int opt, int n, isa_operand a, isa_operand b,
                    isa_operand c, isa_operand d)
{
    isa_insn i = { (uint8_t)op, (uint8_t)opt, (uint8_t)n, { a, b, c, d } };
    return i;
}

#define MOV(a, b)  ins(ISA_OP_MOV, ISA_OPT_NONE, 2, a, b, imm(0), imm(0))
#define DIV(a, b, c) ins(ISA_OP_DIV, ISA_OPT_NONE, 3, a, b, c, imm(0))
#define NEWR(a, b, c, d) ins(ISA_OP_NEWR, ISA_OPT_NONE, 4, a, b, c, d)
#define EXIT(o)    ins(ISA_OP_EXIT, o, 0, imm(0), imm(0), imm(0), imm(0))
/* Six instructions: a child at DISA_TEXT_BASE on a stack the DVM chooses
 * (its descriptors in the PR; newr writes the base at 0x100). */
#define CHOSEN_CHILD                                                       \
        MOV(imm(0), dir(0x100, ISA_T_Q)),               /* sb = 0 */       \
        MOV(imm(0x100), dir(0x108, ISA_T_Q)),           /* ss */           \
        MOV(imm(0), dir(0x110, ISA_T_Q)),               /* no heap */      \
        MOV(imm(0), dir(0x118, ISA_T_Q)),               /* no watch */     \
        MOV(imm(DISA_TEXT_BASE), dir(0x120, ISA_T_Q)),                     \
        NEWR(imm(0x100), imm(0x110), imm(0x118), imm(0x120))

/* An image of the instructions at DISA_TEXT_BASE, with channels. */
static int make_image(const isa_insn *code, size_t n,
                      const prog_channel *ch, size_t nch)
{
    dvm_program *p = program_new();
    assert_non_null(p);
    prog_segment *s = dvm_calloc(1, sizeof *s);
    uint8_t *bytes = dvm_malloc(n * ISA_MAX_INSN_BYTES);
    uint32_t *offs = dvm_malloc(n * sizeof *offs);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        offs[i] = (uint32_t)len;
        len += isa_encode(&code[i], bytes + len);
    }
    *s = (prog_segment){ .addr = DISA_TEXT_BASE, .size = len,
                         .flags = PROG_SEG_CODE, .bytes = bytes,
                         .insn_offs = offs, .ninsns = n };
    p->segs = s;
    p->nsegs = 1;
    p->entry = DISA_TEXT_BASE;
    if (nch) {
        p->chans = dvm_calloc(nch, sizeof *p->chans);
        for (size_t i = 0; i < nch; i++) {
            p->chans[i] = ch[i];
            p->chans[i].name = dvm_strdup(ch[i].name);
        }
        p->nchans = nch;
    }
    uint8_t *img;
    size_t ilen;
    assert_int_equal(image_serialize(p, &img, &ilen), DVM_OK);
    program_free(p);
    int fd = memfd_create("image", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, img, ilen), (ssize_t)ilen);
    dvm_free(img);
    return fd;
}

/* ---- the master's side ------------------------------------------------- */

typedef struct fake_master {
    pid_t pid;
    conn ctl, page;
    mem_store *store;
    uint64_t pages[16];
    uint32_t frames[16];
    size_t npages;
    int page_reqs, frame_reqs, stack_reqs;
    uint64_t grant[4][GRANT_MAX];   /* stack blocks per STACK_REQ (0 ends) */
    int ready;                  /* MSG_READY messages seen */
    int run_reqs, runs_done;    /* RUN_REQ and RUN_DONE messages seen */
    uint64_t run[2];            /* the last run granted: first, n */
    uint64_t done[2];           /* the last RUN_DONE: first, n */
    int no_runs;                /* answer RUN_REQ with none granted */
    msg_buf b;
    uint8_t *res_copy;          /* payload of the last RESULT */
} fake_master;

static uint32_t new_frame(fake_master *m, const void *content, size_t n)
{
    uint32_t id;
    assert_int_equal(store_alloc(m->store, &id), DVM_OK);
    uint8_t *f = store_frame(m->store, id);
    memset(f, 0, STORE_FRAME_SIZE);
    memcpy(f, content, n);
    return id;
}

/* Serves page at the snapshot with content (PAGE_REQ answers). */
static void serve_page(fake_master *m, uint64_t page, const void *c, size_t n)
{
    m->pages[m->npages] = page;
    m->frames[m->npages++] = new_frame(m, c, n);
}

/* The RComp's --adopt for the next start (0: not given). */
static int start_adopt;
/* The RComp's --claim for the next start (0: not given; board 0). */
static int start_claim_fd;
/* 1: the next start's control channel goes through a queue in shared
 * memory (--ctl-queue), as with a real master; the fake master then
 * polls the queue (it never asks to be rung). */
static int start_queue;
/* 1: the next start has --yield 1 (a master sharing the CPUs). */
static int start_yield;

static void start(fake_master *m, int image_fd, const char *in_spec)
{
    int ctl[2], pg[2], qfd = -1;
    shmq *q = NULL;
    memset(m, 0, sizeof *m);
    assert_int_equal(store_create(NFRAMES, &m->store), DVM_OK);
    if (start_queue)
        assert_int_equal(shmq_create(SHMQ_CAP_MIN, &qfd, &q), DVM_OK);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, ctl), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pg), 0);
    m->pid = fork();
    assert_true(m->pid >= 0);
    if (m->pid == 0) {
        close(ctl[0]);
        close(pg[0]);
        char a[9][32];
        snprintf(a[0], 32, "%d", ctl[1]);
        snprintf(a[1], 32, "%d", pg[1]);
        snprintf(a[2], 32, "%d", store_fd(m->store));
        snprintf(a[3], 32, "%d", NFRAMES);
        snprintf(a[4], 32, "%d", image_fd);
        snprintf(a[5], 32, "%d", start_adopt);
        snprintf(a[6], 32, "%d", start_claim_fd);
        snprintf(a[7], 32, "%d", qfd);
        char *argv[32] = { "__rcomp", "--index", "0", "--ctl", a[0], "--page",
                           a[1], "--store", a[2], "--frames", a[3], "--image",
                           a[4], "--engine", "interp", "--adopt", a[5],
                           "--dvm-version", DVM_VERSION };
        int argc = 19;
        if (start_claim_fd > 0) {
            argv[argc++] = "--claim";
            argv[argc++] = a[6];
        }
        if (in_spec) {
            argv[argc++] = "--in";
            argv[argc++] = (char *)in_spec;
        }
        if (qfd >= 0) {
            argv[argc++] = "--ctl-queue";
            argv[argc++] = a[7];
        }
        if (start_yield) {
            argv[argc++] = "--yield";
            argv[argc++] = "1";
        }
        _exit(rcomp_main(argc, argv));
    }
    close(ctl[1]);
    close(pg[1]);
    close(image_fd);
    conn_init(&m->ctl, ctl[0]);
    if (q) {
        close(qfd);
        conn_attach_shmq(&m->ctl, q, 0);
    }
    conn_init(&m->page, pg[0]);
    mb_init(&m->b);
}

/* Sends SHUTDOWN and returns the RComp's exit status. */
static int stop(fake_master *m)
{
    mb_reset(&m->b);
    msg_encode_u64s(&m->b, MSG_SHUTDOWN, NULL, 0);
    conn_send(&m->ctl, &m->b);
    int ws = 0;
    assert_int_equal(waitpid(m->pid, &ws, 0), m->pid);
    conn_close(&m->ctl);
    conn_close(&m->page);
    mb_free(&m->b);
    free(m->res_copy);
    store_destroy(m->store);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static void send_runners(fake_master *m, msg_runner *r, uint32_t n)
{
    msg_dispatch d = { n, r };
    mb_reset(&m->b);
    msg_encode_dispatch(&m->b, &d);
    assert_int_equal(conn_send(&m->ctl, &m->b), DVM_OK);
}

static void answer_page(fake_master *m, const uint8_t *p, size_t len)
{
    uint64_t v[2];
    assert_int_equal(msg_decode_u64s(p, len, v, 2), DVM_OK);
    uint64_t f = 0;
    for (size_t i = 0; i < m->npages; i++)
        if (m->pages[i] == v[0])
            f = m->frames[i];
    m->page_reqs++;
    mb_reset(&m->b);
    msg_encode_u64s(&m->b, MSG_PAGE_RESP, &f, 1);
    assert_int_equal(conn_send(&m->page, &m->b), DVM_OK);
}

static void answer_frames(fake_master *m, const uint8_t *p, size_t len)
{
    uint64_t want;
    assert_int_equal(msg_decode_u64s(p, len, &want, 1), DVM_OK);
    assert_true(want >= RC_FRAME_BATCH);
    uint32_t ids[RC_FRAME_BATCH];
    for (size_t i = 0; i < RC_FRAME_BATCH; i++)
        assert_int_equal(store_alloc(m->store, &ids[i]), DVM_OK);
    m->frame_reqs++;
    mb_reset(&m->b);
    msg_encode_frames(&m->b, ids, RC_FRAME_BATCH);
    assert_int_equal(conn_send(&m->ctl, &m->b), DVM_OK);
}

/* Grants a run of zero frames from the store. */
static void answer_run(fake_master *m, const uint8_t *p, size_t len)
{
    uint64_t n;
    uint32_t first;
    assert_int_equal(msg_decode_u64s(p, len, &n, 1), DVM_OK);
    if (m->no_runs)
        first = 0, n = 0;
    else
        assert_int_equal(store_alloc_run(m->store, (uint32_t)n, &first),
                         DVM_OK);
    m->run[0] = first;
    m->run[1] = n;
    m->run_reqs++;
    mb_reset(&m->b);
    msg_encode_u64s(&m->b, MSG_RUN, m->run, 2);
    assert_int_equal(conn_send(&m->ctl, &m->b), DVM_OK);
}

/* Grants the blocks scripted for this request (order 0). */
static void answer_stacks(fake_master *m, const uint8_t *p, size_t len)
{
    unsigned order;
    size_t count;
    assert_int_equal(msg_decode_stack_req(p, len, &order, &count), DVM_OK);
    assert_int_equal(order, 0);
    assert_true(count >= 1);
    assert_true(m->stack_reqs < 4);
    const uint64_t *g = m->grant[m->stack_reqs++];
    size_t n = 0;
    while (n < GRANT_MAX && g[n])
        n++;
    mb_reset(&m->b);
    msg_encode_stacks(&m->b, 0, g, n);
    assert_int_equal(conn_send(&m->ctl, &m->b), DVM_OK);
}

/* One buffered or freshly read frame from c, if any is ready now. */
static int try_recv(conn *c, short revents, uint32_t *t, const uint8_t **p,
                    size_t *len)
{
    if (conn_next_buffered(c, t, p, len) == DVM_OK)
        return 1;
    return (revents & (POLLIN | POLLHUP)) && conn_recv(c, t, p, len) == 0;
}

/* Plays the master until a RESULT arrives; decodes it into *r. */
static void wait_result(fake_master *m, msg_result *r)
{
    for (;;) {
        struct pollfd pf[2] = { { m->ctl.fd, POLLIN, 0 },
                                { m->page.fd, POLLIN, 0 } };
        if (m->ctl.q)           /* the queue is polled, 1 ms apart */
            assert_true(poll(pf, 2, 1) >= 0);
        else if (m->ctl.rlen == m->ctl.rpos && m->page.rlen == m->page.rpos)
            assert_true(poll(pf, 2, 10000) > 0);
        else    /* a part of a message may be buffered: read on if more came */
            assert_true(poll(pf, 2, 0) >= 0);
        uint32_t t;
        const uint8_t *p;
        size_t len;
        if (try_recv(&m->page, pf[1].revents, &t, &p, &len)) {
            assert_int_equal(t, MSG_PAGE_REQ);
            answer_page(m, p, len);
        }
        if (m->ctl.q ? conn_take_frame(&m->ctl, &t, &p, &len) != DVM_OK
                     : !try_recv(&m->ctl, pf[0].revents, &t, &p, &len))
            continue;
        if (t == MSG_FRAME_REQ) {
            answer_frames(m, p, len);
            continue;
        }
        if (t == MSG_STACK_REQ) {
            answer_stacks(m, p, len);
            continue;
        }
        if (t == MSG_RUN_REQ) {
            answer_run(m, p, len);
            continue;
        }
        if (t == MSG_RUN_DONE) {
            assert_int_equal(msg_decode_u64s(p, len, m->done, 2), DVM_OK);
            m->runs_done++;
            continue;
        }
        if (t == MSG_READY) {
            assert_int_equal(len, 0);
            m->ready++;
            continue;
        }
        assert_int_equal(t, MSG_RESULT);
        assert_int_equal(m->ready, 1);
        free(m->res_copy);
        m->res_copy = malloc(len + 1);
        memcpy(m->res_copy, p, len);
        assert_int_equal(msg_decode_result(m->res_copy, len, r), DVM_OK);
        return;
    }
}

static msg_runner runner(uint64_t rid, dvm_range *heap, uint32_t nheap)
{
    return (msg_runner){ .rid = rid, .snap = 5,
                         .d = { .sb = STACK, .ss = 0x1000,
                                .fi = DISA_TEXT_BASE, .nheap = nheap,
                                .heap = heap } };
}

static const mem_change *change_of(const msg_result *r, uint64_t page)
{
    for (uint32_t i = 0; i < r->nchanges; i++)
        if (r->changes[i].page == page)
            return &r->changes[i];
    return NULL;
}

/* ---- tests ------------------------------------------------------------- */

/* Heap write committed; own stack write discarded, except where it
 * overlaps the created runner's stack; one child; stdout output. */
static void test_commit(void **state)
{
    (void)state;
    isa_insn code[] = {
        MOV(imm(0x1122334455667788ULL), dir(HEAP + 0x10, ISA_T_Q)),
        MOV(imm(7), dir(STACK, ISA_T_Q)),
        NEWR(imm(DESC), imm(DESC + 16), imm(DESC + 24), imm(DESC + 32)),
        MOV(imm(9), dir(STACK + 0x800, ISA_T_Q)),
        MOV(imm(3), dir(DISA_OUT, ISA_T_Q)),
        MOV(imm(0x636261), dir(DISA_OUT + 8, ISA_T_UD)),
        EXIT(ISA_OPT_C),
    };
    fake_master m;
    start(&m, make_image(code, 7, NULL, 0), NULL);
    uint64_t desc[5] = { STACK + 0x800, 0x100, 0, 0, DISA_TEXT_BASE };
    serve_page(&m, DESC / 4096, desc, sizeof desc);
    dvm_range heap = { HEAP, HEAP + 0x10000 };
    msg_runner r = runner(42, &heap, 1);
    send_runners(&m, &r, 1);
    msg_result res;
    wait_result(&m, &res);
    assert_int_equal(res.rid, 42);
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    assert_int_equal(res.nchanges, 2);
    const mem_change *h = change_of(&res, HEAP / 4096);
    assert_non_null(h);
    assert_int_equal(space_change_delta(h).nruns, 1);
    assert_int_equal(space_change_delta(h).runs[0].off, 0x10);
    assert_int_equal(space_change_delta(h).runs[0].len, 8);
    uint64_t v;
    memcpy(&v, store_frame(m.store, h->frame) + 0x10, 8);
    assert_int_equal(v, 0x1122334455667788ULL);
    const mem_change *s = change_of(&res, STACK / 4096);
    assert_non_null(s);
    assert_int_equal(space_change_delta(s).nruns, 1);
    assert_int_equal(space_change_delta(s).runs[0].off, 0x800);
    assert_int_equal(space_change_delta(s).runs[0].len, 1);
    assert_int_equal(store_frame(m.store, s->frame)[0], 0);   /* discarded */
    assert_int_equal(store_frame(m.store, s->frame)[0x800], 9);
    assert_int_equal(res.nkids, 1);
    assert_int_equal(res.kids[0].sb, STACK + 0x800);
    assert_int_equal(res.kids[0].ss, 0x100);
    assert_int_equal(res.kids[0].fi, DISA_TEXT_BASE);
    assert_int_equal(res.nout, 1);
    assert_int_equal(res.out[0].chan, 0);
    assert_int_equal(res.out[0].len, 3);
    assert_int_equal(res.out[0].nframes, 1);    /* the bytes are in a frame */
    assert_memory_equal(store_frame(m.store, res.out[0].frames[0]), "abc", 3);
    assert_int_equal(res.pages_faulted, 3);      /* descriptors, heap, stack */
    assert_int_equal(m.frame_reqs, 1);
    msg_result_free(&res);
    assert_int_equal(stop(&m), 0);
}

/* Over a queue, the frame pool asks for more ahead of need once a commit
 * leaves it at less than half a batch, without waiting: the master (here,
 * grants of RC_FRAME_BATCH) sees a second FRAME_REQ after RC_FRAME_BATCH
 * / 2 + 1 one-page commits.  (Before, the second request came only when
 * a commit found the pool short: after RC_FRAME_BATCH of them.) */
static void test_frames_asked_ahead(void **state)
{
    (void)state;
    enum { N = RC_FRAME_BATCH / 2 + 12 };
    isa_insn code[] = {
        MOV(dir(DISA_CTX_RID, ISA_T_Q), dir(HEAP + 0x10, ISA_T_Q)),
        EXIT(ISA_OPT_C),
    };
    fake_master m;
    start_queue = 1;
    start(&m, make_image(code, 2, NULL, 0), NULL);
    start_queue = 0;
    dvm_range heap = { HEAP, HEAP + 0x1000 };
    static msg_runner r[N];
    for (int i = 0; i < N; i++)
        r[i] = runner((uint64_t)i + 1, &heap, 1);
    send_runners(&m, r, N);
    for (int i = 0; i < N; i++) {
        msg_result res;
        wait_result(&m, &res);
        assert_int_equal(res.exit, MSG_EXIT_COMMIT);
        assert_int_equal(res.nchanges, 1);
        if (i < RC_FRAME_BATCH / 2)
            assert_int_equal(m.frame_reqs, 1);
        msg_result_free(&res);
    }
    assert_int_equal(m.frame_reqs, 2);
    assert_int_equal(stop(&m), 0);
}

/* A page that was zero, all of it in the heap, changed in more than
 * DIFF_DENSE places: its change is implied (no bitmap) and its frame is
 * the page as the runner left it.  The same writes into a page only part
 * of which is in the heap stay a bitmap, exactly the bytes written. */
static void test_dense_zero_page_implied(void **state)
{
    (void)state;
    enum { N = DIFF_DENSE + 8 };
    isa_insn code[2 * N + 1];
    for (unsigned i = 0; i < N; i++) {
        code[i] = MOV(imm(i + 1), dir(HEAP + 0x1000 + 16 * i, ISA_T_Q));
        code[N + i] = MOV(imm(i + 1), dir(HEAP + 0x2000 + 16 * i, ISA_T_Q));
    }
    code[2 * N] = EXIT(ISA_OPT_C);
    fake_master m;
    start(&m, make_image(code, 2 * N + 1, NULL, 0), NULL);
    dvm_range heap = { HEAP, HEAP + 0x2800 };
    msg_runner r = runner(43, &heap, 1);
    send_runners(&m, &r, 1);
    msg_result res;
    wait_result(&m, &res);
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    assert_int_equal(res.nchanges, 2);
    const mem_change *whole = change_of(&res, HEAP / 4096 + 1);
    const mem_change *part = change_of(&res, HEAP / 4096 + 2);
    assert_non_null(whole);
    assert_non_null(part);
    assert_true(diff_is_implied(space_change_delta(whole)));
    mem_delta d = space_change_delta(part);
    assert_true(diff_is_bitmap(d));
    for (unsigned b = 0; b < DISA_PAGE; b++) {
        uint8_t want = b % 16 == 0 && b / 16 < N ? (uint8_t)(b / 16 + 1) : 0;
        assert_int_equal(store_frame(m.store, whole->frame)[b], want);
        assert_int_equal(store_frame(m.store, part->frame)[b], want);
        assert_int_equal(diff_touch(d, b, b + 1), want != 0);
    }
    msg_result_free(&res);
    assert_int_equal(stop(&m), 0);
}

/* The frame of page's change in r, checking that the change is exactly
 * the bytes [lo, hi) of the page (lo == hi: the page has no change). */
static uint32_t changed_exactly(const msg_result *r, uint64_t page,
                                unsigned lo, unsigned hi)
{
    const mem_change *c = change_of(r, page);
    if (lo == hi) {
        assert_null(c);
        return 0;
    }
    assert_non_null(c);
    mem_delta d = space_change_delta(c);
    for (unsigned b = 0; b < DISA_PAGE; b++)
        assert_int_equal(diff_is_implied(d) ? 1 : diff_touch(d, b, b + 1),
                         diff_is_implied(d) || (b >= lo && b < hi));
    return c->frame;
}

/*
 * A heap of 16 pages, zero at the snapshot but for a prefetched page, with
 * the runner's own stack inside it (half of page 9, all of page 10), with
 * --adopt 4: the span is mapped over a run of frames, and the commit
 * adopts the frames of the pages that changed -- a dense page (implied),
 * a sparse one, page 9 with its stack half cleared -- and none of a page
 * written and reset, zeros written over zeros, a page only read, a page of
 * the own stack.  The prefetched page (not zero at the snapshot) is diffed
 * against its base into a frame of the pool.  After the result, RUN_DONE
 * gives the run back.
 */
static void test_adopted_span(void **state)
{
    (void)state;
    enum { N = DIFF_DENSE + 8 };
    isa_insn code[N + 16];
    size_t k = 0;
    for (unsigned i = 0; i < N; i++)
        code[k++] = MOV(imm(i + 1), dir(HEAP + 16 * i, ISA_T_Q));
    code[k++] = MOV(imm(0x1234), dir(HEAP + 0x1008, ISA_T_Q));
    code[k++] = MOV(imm(5), dir(HEAP + 0x2000, ISA_T_Q));
    code[k++] = MOV(imm(0), dir(HEAP + 0x2000, ISA_T_Q));
    code[k++] = MOV(imm(0), dir(HEAP + 0x3000, ISA_T_Q));
    code[k++] = MOV(dir(HEAP + 0x4000, ISA_T_Q), dir(HEAP + 0x4008, ISA_T_B));
    code[k++] = MOV(imm(6), dir(HEAP + 0x5010, ISA_T_B));
    code[k++] = MOV(imm(7), dir(HEAP + 0x9010, ISA_T_Q));
    code[k++] = MOV(imm(8), dir(HEAP + 0x9810, ISA_T_Q));
    code[k++] = MOV(imm(9), dir(HEAP + 0xA000, ISA_T_Q));
    code[k++] = MOV(imm(10), dir(HEAP + 0xF000, ISA_T_Q));
    code[k++] = EXIT(ISA_OPT_C);
    fake_master m;
    start_adopt = 4;
    start(&m, make_image(code, k, NULL, 0), NULL);
    start_adopt = 0;
    uint8_t base[32];
    memset(base, 0x11, sizeof base);
    uint32_t bf = new_frame(&m, base, sizeof base);
    dvm_range heap = { HEAP, HEAP + 0x10000 };
    msg_runner r = runner(44, &heap, 1);
    r.d.sb = HEAP + 0x9800;
    r.d.ss = 0x1800;
    r.flags = MSG_RUNNER_PREFETCH_COMPLETE;
    msg_prefetch pre = { HEAP / 4096 + 5, bf };
    r.pre = &pre;
    r.npre = 1;
    send_runners(&m, &r, 1);
    msg_result res;
    wait_result(&m, &res);
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    assert_int_equal(m.run_reqs, 1);
    assert_int_equal(m.run[1], 16);
    assert_int_equal(res.nchanges, 5);
    uint64_t pg = HEAP / 4096;
    uint32_t run0 = (uint32_t)m.run[0];
    assert_int_equal(changed_exactly(&res, pg, 0, 1), run0);    /* implied */
    assert_true(diff_is_implied(space_change_delta(change_of(&res, pg))));
    assert_int_equal(store_frame(m.store, run0)[16 * (N - 1)], N);
    assert_int_equal(changed_exactly(&res, pg + 1, 8, 10), run0 + 1);
    changed_exactly(&res, pg + 2, 0, 0);        /* written and reset */
    changed_exactly(&res, pg + 3, 0, 0);        /* zeros over zeros */
    changed_exactly(&res, pg + 4, 0, 0);        /* read only */
    uint32_t f5 = changed_exactly(&res, pg + 5, 0x10, 0x11);
    assert_true(f5 < run0 || f5 >= run0 + 16);  /* from the pool */
    assert_int_equal(store_frame(m.store, f5)[0x10], 6);
    assert_int_equal(store_frame(m.store, f5)[0x11], 0x11);    /* base */
    assert_int_equal(changed_exactly(&res, pg + 9, 0x10, 0x11), run0 + 9);
    assert_int_equal(store_frame(m.store, run0 + 9)[0x810], 0);    /* stack */
    changed_exactly(&res, pg + 10, 0, 0);       /* all own stack */
    assert_int_equal(changed_exactly(&res, pg + 15, 0, 1), run0 + 15);
    msg_result_free(&res);
    /* RUN_DONE follows the result: the next result waits behind it. */
    r.rid = 45;
    r.npre = 0;
    send_runners(&m, &r, 1);
    wait_result(&m, &res);
    assert_int_equal(m.runs_done, 1);
    assert_int_equal(m.done[0], run0);
    assert_int_equal(m.done[1], 16);
    assert_int_equal(m.run_reqs, 2);
    /* The second runner wrote into a run of its own, not into the first
     * run's adopted frames (the window maps them no longer). */
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    assert_int_not_equal(m.run[0], run0);
    assert_int_equal(changed_exactly(&res, pg, 0, 1), m.run[0]);
    assert_int_equal(store_frame(m.store, run0 + 1)[8], 0x34);
    msg_result_free(&res);
    assert_int_equal(stop(&m), 0);
}

/* A master that grants no run (its store has none free): the span stays
 * anonymous memory and the pages are copied into frames of the pool, as
 * for a small span; no RUN_DONE follows. */
static void test_adopt_refused(void **state)
{
    (void)state;
    isa_insn code[] = {
        MOV(imm(0x1234), dir(HEAP + 0x1008, ISA_T_Q)),
        MOV(imm(5), dir(HEAP + 0x3000, ISA_T_B)),
        EXIT(ISA_OPT_C),
    };
    fake_master m;
    start_adopt = 4;
    start(&m, make_image(code, 3, NULL, 0), NULL);
    start_adopt = 0;
    m.no_runs = 1;
    dvm_range heap = { HEAP, HEAP + 0x10000 };
    for (uint64_t rid = 50; rid < 52; rid++) {
        msg_runner r = runner(rid, &heap, 1);
        r.flags = MSG_RUNNER_PREFETCH_COMPLETE;
        send_runners(&m, &r, 1);
        msg_result res;
        wait_result(&m, &res);
        assert_int_equal(res.exit, MSG_EXIT_COMMIT);
        assert_int_equal(res.nchanges, 2);
        uint32_t f = changed_exactly(&res, HEAP / 4096 + 1, 8, 10);
        assert_int_equal(store_frame(m.store, f)[8], 0x34);
        changed_exactly(&res, HEAP / 4096 + 3, 0, 1);
        msg_result_free(&res);
    }
    assert_int_equal(m.run_reqs, 2);
    assert_int_equal(m.runs_done, 0);
    assert_int_equal(stop(&m), 0);
}

/* The value runner rid copied to HEAP, from its result. */
static uint64_t copied_value(fake_master *m, uint64_t rid)
{
    msg_result res;
    wait_result(m, &res);
    assert_int_equal(res.rid, rid);
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    const mem_change *h = change_of(&res, HEAP / 4096);
    uint64_t v = 0;
    if (h)
        memcpy(&v, store_frame(m->store, h->frame), 8);
    msg_result_free(&res);
    return v;
}

/* Sends runner rid on heap at snapshot 6 with MSG_RUNNER_KEEP and one
 * page changed since the last runner's snapshot. */
static void send_changed(fake_master *m, uint64_t rid, dvm_range *heap,
                         uint64_t *changed)
{
    msg_runner r = runner(rid, heap, 1);
    r.snap = 6;
    r.flags = MSG_RUNNER_KEEP;
    r.ninval = 1;
    r.inval = changed;
    send_runners(m, &r, 1);
}

#define COPY_SRC 0x58000000ULL     /* the word start_copier's code copies */

/* Starts an RComp on a program that copies COPY_SRC's word to HEAP, with
 * COPY_SRC's page served holding 11, and runs runner 1 on heap: it
 * fetches both pages and copies 11. */
static void start_copier(fake_master *m, dvm_range *heap)
{
    isa_insn code[] = {
        MOV(dir(COPY_SRC, ISA_T_Q), dir(HEAP, ISA_T_Q)),
        EXIT(ISA_OPT_C),
    };
    start(m, make_image(code, 2, NULL, 0), NULL);
    uint64_t a = 11;
    serve_page(m, COPY_SRC / 4096, &a, 8);
    msg_runner r = runner(1, heap, 1);
    send_runners(m, &r, 1);
    assert_int_equal(copied_value(m, 1), 11);
    assert_int_equal(m->page_reqs, 2);          /* src, heap */
}

/* Pages that stay (keep.c): a page read by one runner stays for the next
 * when the master lists no change to it, and is fetched again when it does
 * (a stale page kept would hand runner 3 the old 11). */
static void test_kept_pages(void **state)
{
    (void)state;
    const uint64_t src = COPY_SRC;
    fake_master m;
    dvm_range heap = { HEAP, HEAP + 8 };
    start_copier(&m, &heap);
    uint64_t b = 22;
    msg_runner r = runner(2, &heap, 1);
    r.flags = MSG_RUNNER_KEEP;                  /* nothing changed */
    send_runners(&m, &r, 1);
    assert_int_equal(copied_value(&m, 2), 11);
    assert_int_equal(m.page_reqs, 3);           /* heap only: src stayed */
    serve_page(&m, src / 4096, &b, 8);          /* a newer version */
    uint64_t changed[1] = { src / 4096 };
    send_changed(&m, 3, &heap, changed);
    assert_int_equal(copied_value(&m, 3), 22);
    assert_int_equal(m.page_reqs, 5);           /* src again, heap */
    r = runner(4, &heap, 1);                    /* no flag: all dropped */
    r.snap = 6;
    send_runners(&m, &r, 1);
    assert_int_equal(copied_value(&m, 4), 22);
    assert_int_equal(m.page_reqs, 7);
    assert_int_equal(stop(&m), 0);
}

/* Starts an RComp on code (n instructions), whose first two copy the
 * word at stk + 8 to HEAP, with stk's page served holding 42 there, and
 * runs runner 1 on stack stk: it copies 42.  Returns the address of the
 * third instruction, another runner's entry. */
/* The address of code[i] in make_image's image. */
static uint64_t entry_at(const isa_insn *code, size_t i)
{
    uint8_t tmp[ISA_MAX_INSN_BYTES];
    uint64_t entry = DISA_TEXT_BASE;
    for (size_t k = 0; k < i; k++)
        entry += isa_encode(&code[k], tmp);
    return entry;
}

/* Runs runner 2 from fi with MSG_RUNNER_KEEP_FRAMES and an empty list
 * (nothing changed since runner 1); its result in *res. */
static void run_second(fake_master *m, uint64_t fi, msg_result *res)
{
    msg_runner r = runner(2, NULL, 0);
    r.d.fi = fi;
    r.flags = MSG_RUNNER_KEEP | MSG_RUNNER_KEEP_FRAMES;
    send_runners(m, &r, 1);
    wait_result(m, res);
}

static uint64_t start_stack_reader(fake_master *m, const isa_insn *code,
                                   size_t n, dvm_range *heap)
{
    const uint64_t stk = DISA_STACK_BASE + 0x5000;
    uint64_t entry = entry_at(code, 2);
    start(m, make_image(code, n, NULL, 0), NULL);
    uint64_t arg[2] = { 0, 42 };
    serve_page(m, stk / 4096, arg, sizeof arg);
    msg_runner r = runner(1, heap, 1);
    r.d.sb = stk;
    send_runners(m, &r, 1);
    assert_int_equal(copied_value(m, 1), 42);
    return entry;
}

/* The own stack page a runner read its argument from and did not write
 * stays for the next runner like a page it read (run.c,
 * invalidate_written): runner 2, on another stack, reads it without a
 * page request.  Runner 3 then takes that block as a created runner's
 * stack: a kept page, zeroed in place (stacks.c, stack_zero), diffed
 * against zeros -- the child's stack holds exactly what runner 3 wrote. */
static void test_own_stack_kept(void **state)
{
    (void)state;
#ifdef DVM_TSAN
    /* A ThreadSanitizer build's window is 256 GiB (mem/window.c): the
     * stack area, at 62 TiB, is out of its reach. */
    skip();
#endif
    const uint64_t stk = DISA_STACK_BASE + 0x5000;
    isa_insn code[] = {
        MOV(dir(stk + 8, ISA_T_Q), dir(HEAP, ISA_T_Q)),
        EXIT(ISA_OPT_C),
        CHOSEN_CHILD,   /* runner 3: its argument 5 */
        MOV(imm(5), ind(0x100, ISA_T_Q)),
        EXIT(ISA_OPT_C),
    };
    fake_master m;
    dvm_range heap = { HEAP, HEAP + 8 };
    uint64_t third = start_stack_reader(&m, code, 10, &heap);
    assert_int_equal(m.page_reqs, 2);           /* its stack, heap */
    msg_runner r = runner(2, &heap, 1);
    r.flags = MSG_RUNNER_KEEP;                  /* nothing changed */
    send_runners(&m, &r, 1);
    assert_int_equal(copied_value(&m, 2), 42);
    assert_int_equal(m.page_reqs, 3);           /* heap: stk's page stayed */
    m.grant[0][0] = stk;                        /* the block comes back */
    r = runner(3, NULL, 0);
    r.d.fi = third;
    r.flags = MSG_RUNNER_KEEP;
    send_runners(&m, &r, 1);
    msg_result res;
    wait_result(&m, &res);
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    assert_int_equal(res.nkids, 1);
    assert_true(res.kids[0].sb == stk);
    const mem_change *c = change_of(&res, stk / 4096);
    assert_non_null(c);
    uint64_t w[2];
    memcpy(w, store_frame(m.store, c->frame), sizeof w);
    assert_int_equal(w[0], 5);
    assert_int_equal(w[1], 0);                  /* not the 42 it held */
    assert_int_equal(m.page_reqs, 3);
    msg_result_free(&res);
    /* Runner 4 reads the page at a newer version: the 0 runner 3 left
     * there is gone (dropped once at this reset, run.c drop_marked). */
    uint64_t newer[2] = { 5, 77 };
    serve_page(&m, stk / 4096, newer, sizeof newer);
    uint64_t changed[1] = { stk / 4096 };
    send_changed(&m, 4, &heap, changed);
    assert_int_equal(copied_value(&m, 4), 77);
    assert_int_equal(m.page_reqs, 5);           /* heap, stk's page */
    assert_int_equal(stop(&m), 0);
}

/* Runner 1 reads its own stack's 42 and writes 7 there; runner 2, with
 * flags, on another stack, reads STACK's page: the version, 42, with
 * reqs page requests in all. */
static void own_stack_written(uint32_t flags, int reqs)
{
    isa_insn code[] = {
        MOV(dir(STACK, ISA_T_Q), dir(HEAP, ISA_T_Q)),
        MOV(imm(7), ind(DISA_CTX_SB, ISA_T_Q)),
        EXIT(ISA_OPT_C),
    };
    fake_master m;
    start(&m, make_image(code, 3, NULL, 0), NULL);
    uint64_t arg = 42;
    serve_page(&m, STACK / 4096, &arg, 8);
    dvm_range heap = { HEAP, HEAP + 8 };
    msg_runner r = runner(1, &heap, 1);
    send_runners(&m, &r, 1);
    assert_int_equal(copied_value(&m, 1), 42);
    assert_int_equal(m.page_reqs, 2);           /* its stack, heap */
    r = runner(2, &heap, 1);
    r.d.sb = STACK + 0x10000;
    r.flags = flags;
    send_runners(&m, &r, 1);
    assert_int_equal(copied_value(&m, 2), 42);
    assert_int_equal(m.page_reqs, reqs);
    assert_int_equal(stop(&m), 0);
}

/* A runner that writes its own stack leaves the page dirty: it is
 * dropped at the next reset, and a later reader gets the version, not
 * the bytes written (the 7 that stayed would read as 7): heap, its
 * stack, and STACK's page again. */
static void test_own_stack_written_dropped(void **state)
{
    (void)state;
    own_stack_written(MSG_RUNNER_KEEP, 5);
}

/* With the list's frames the written page is copied back from its base
 * in place (run.c, mark_changed): no commit changed it since, so its base
 * is the version.  Runner 2 asks for its heap and own stack only. */
static void test_written_page_restored(void **state)
{
    (void)state;
    own_stack_written(MSG_RUNNER_KEEP | MSG_RUNNER_KEEP_FRAMES, 4);
}

/* The word runner rid wrote at HEAP + 8, and its change's first run. */
static uint64_t second_word(fake_master *m, uint64_t rid, mem_run *run)
{
    msg_result res;
    wait_result(m, &res);
    assert_int_equal(res.rid, rid);
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    const mem_change *h = change_of(&res, HEAP / 4096);
    assert_non_null(h);
    *run = space_change_delta(h).runs[0];
    assert_int_equal(space_change_delta(h).nruns, 1);
    uint64_t v;
    memcpy(&v, store_frame(m->store, h->frame) + 8, 8);
    msg_result_free(&res);
    return v;
}

/* A page the last runner wrote and the next one prefetches stays mapped
 * and gets the new version copied over it (run.c, window_refill): the
 * next runner reads that version, none of the bytes written before it,
 * and its diff is against it.  A written page the next runner does not
 * prefetch is dropped and faults in again. */
static void test_written_page_refilled(void **state)
{
    (void)state;
    isa_insn code[] = {
        MOV(dir(HEAP, ISA_T_Q), dir(HEAP + 8, ISA_T_Q)),
        EXIT(ISA_OPT_C),
    };
    fake_master m;
    start(&m, make_image(code, 2, NULL, 0), NULL);
    uint64_t v1[2] = { 5, 0 }, v2[2] = { 7, 0 }, v3[2] = { 9, 0 };
    msg_prefetch pre = { HEAP / 4096, new_frame(&m, v1, sizeof v1) };
    dvm_range heap = { HEAP, HEAP + 16 };
    mem_run run;
    msg_runner r = runner(1, &heap, 1);
    r.npre = 1;
    r.pre = &pre;
    send_runners(&m, &r, 1);
    assert_int_equal(second_word(&m, 1, &run), 5);
    pre.frame = new_frame(&m, v2, sizeof v2);   /* heap page at snapshot 6 */
    r = runner(2, &heap, 1);
    r.snap = 6;
    r.flags = MSG_RUNNER_KEEP;
    r.npre = 1;
    r.pre = &pre;
    uint64_t changed[1] = { HEAP / 4096 };
    r.ninval = 1;
    r.inval = changed;
    send_runners(&m, &r, 1);
    assert_int_equal(second_word(&m, 2, &run), 7);
    assert_int_equal(run.off, 8);               /* word 0 is 7 in base */
    assert_int_equal(run.len, 1);
    assert_int_equal(m.page_reqs, 0);
    serve_page(&m, HEAP / 4096, v3, sizeof v3);
    r = runner(3, &heap, 1);                    /* not prefetched */
    r.snap = 7;
    r.flags = MSG_RUNNER_KEEP;
    r.inval = changed;
    r.ninval = 1;
    send_runners(&m, &r, 1);
    assert_int_equal(second_word(&m, 3, &run), 9);
    assert_int_equal(m.page_reqs, 1);           /* dropped, faulted in */
    assert_int_equal(stop(&m), 0);
}

/* Runner rid on heap at snapshot snap with MSG_RUNNER_KEEP_FRAMES: the
 * n pages listed changed since the last runner's snapshot, each with the
 * frame of its version at snap. */
static void send_updated(fake_master *m, uint64_t rid, dvm_range *heap,
                         uint64_t snap, uint64_t *pages, uint32_t *frames,
                         uint32_t n)
{
    msg_runner r = runner(rid, heap, 1);
    r.snap = snap;
    r.flags = MSG_RUNNER_KEEP | MSG_RUNNER_KEEP_FRAMES;
    r.ninval = n;
    r.inval = n ? pages : NULL;
    r.inval_frame = n ? frames : NULL;
    send_runners(m, &r, 1);
}

/* Pages copied over in place (run.c, mark_changed): a kept page that a
 * commit changed is made its new version from the frame the master lists
 * with it, without a page request -- the master here would still answer
 * with the old 11, so a page dropped and fetched again reads 11. */
static void test_changed_page_copied_over(void **state)
{
    (void)state;
    fake_master m;
    dvm_range heap = { HEAP, HEAP + 8 };
    start_copier(&m, &heap);
    uint64_t b = 22, c = 33;
    uint64_t changed[1] = { COPY_SRC / 4096 };
    uint32_t frame[1] = { new_frame(&m, &b, 8) };
    send_updated(&m, 2, &heap, 6, changed, frame, 1);
    assert_int_equal(copied_value(&m, 2), 22);
    assert_int_equal(m.page_reqs, 3);           /* heap only */
    send_updated(&m, 3, &heap, 6, NULL, NULL, 0);
    assert_int_equal(copied_value(&m, 3), 22);  /* it stays the new one */
    assert_int_equal(m.page_reqs, 4);
    frame[0] = new_frame(&m, &c, 8);
    send_updated(&m, 4, &heap, 7, changed, frame, 1);
    assert_int_equal(copied_value(&m, 4), 33);
    frame[0] = 0;                               /* zeros at snapshot 8 */
    send_updated(&m, 5, &heap, 8, changed, frame, 1);
    assert_int_equal(copied_value(&m, 5), 0);
    assert_int_equal(m.page_reqs, 6);           /* heap alone each time */
    assert_int_equal(stop(&m), 0);
}

/* A listed page whose version the relay does not hold (MSG_FRAME_NONE,
 * a node's cache without it) is dropped and fetched on touch, not copied
 * over: runner 2 reads the 22 the master now serves, with one more page
 * request than the heap's; a frame taken at face value would be refused
 * (out of the store's range) and fail the runner. */
static void test_changed_page_not_at_hand(void **state)
{
    (void)state;
    fake_master m;
    dvm_range heap = { HEAP, HEAP + 8 };
    start_copier(&m, &heap);
    uint64_t b = 22;
    serve_page(&m, COPY_SRC / 4096, &b, 8);
    uint64_t changed[1] = { COPY_SRC / 4096 };
    uint32_t frame[1] = { MSG_FRAME_NONE };
    send_updated(&m, 2, &heap, 6, changed, frame, 1);
    assert_int_equal(copied_value(&m, 2), 22);
    assert_int_equal(m.page_reqs, 4);           /* src again, heap */
    assert_int_equal(stop(&m), 0);
}

/* A runner the master took back (net/claim.h) is skipped, and every page
 * the RComp kept goes with it: the next runner's changed list starts from
 * the skipped runner's snapshot, so a change listed only for the skipped
 * one would otherwise be missed.  Runner 1 copies 11 and keeps COPY_SRC;
 * runner 2 (snapshot 6, listing COPY_SRC changed to 22) is taken back
 * before the RComp reaches it; runner 3, at snapshot 6 with nothing
 * listed, must read 22 -- a kept page would give it 11 -- and its result
 * is the next one (runner 2 sends none). */
static void test_taken_back_skipped(void **state)
{
    (void)state;
    int fd;
    claim_board *b;
    assert_int_equal(claim_boards_create(1, &fd, &b), DVM_OK);
    fake_master m;
    dvm_range heap = { HEAP, HEAP + 8 };
    claim_offer(b, 0);
    start_claim_fd = fd;
    start_copier(&m, &heap);
    start_claim_fd = 0;
    uint64_t v = 22;
    serve_page(&m, COPY_SRC / 4096, &v, 8);
    claim_offer(b, 1);
    assert_int_equal(claim_take(b, 1), 1);
    uint64_t changed[1] = { COPY_SRC / 4096 };
    send_changed(&m, 2, &heap, changed);
    claim_offer(b, 2);
    msg_runner r = runner(3, &heap, 1);
    r.snap = 6;
    r.flags = MSG_RUNNER_KEEP;
    send_runners(&m, &r, 1);
    assert_int_equal(copied_value(&m, 3), 22);
    assert_int_equal(claim_take(b, 2), 0);      /* it started runner 3 */
    assert_int_equal(stop(&m), 0);
    claim_boards_unmap(b, 1);
    close(fd);
}

/* A chosen stack's first page has zeros as its base by choice (stacks.c),
 * not the version the snapshot sees.  Runner 2 takes the block of runner
 * 1's stack for a child and aborts: the block keeps its version (42).
 * Runner 3 reads it: had the page been restored from its zero base, it
 * would read 0; it is dropped and fetched again instead. */
static void test_chosen_stack_not_restored(void **state)
{
    (void)state;
#ifdef DVM_TSAN
    skip();                     /* the stack area is beyond its window */
#endif
    const uint64_t stk = DISA_STACK_BASE + 0x5000;
    isa_insn code[] = {
        MOV(dir(stk + 8, ISA_T_Q), dir(HEAP, ISA_T_Q)),
        EXIT(ISA_OPT_C),
        CHOSEN_CHILD,           /* runner 2: a child, then abort */
        EXIT(ISA_OPT_A),
    };
    fake_master m;
    dvm_range heap = { HEAP, HEAP + 8 };
    uint64_t second = start_stack_reader(&m, code, 9, &heap);
    m.grant[0][0] = stk;                        /* the block comes back */
    msg_result res;
    run_second(&m, second, &res);
    assert_int_equal(res.exit, MSG_EXIT_ABORT);
    msg_result_free(&res);
    send_updated(&m, 3, &heap, 5, NULL, NULL, 0);
    assert_int_equal(copied_value(&m, 3), 42);
    assert_int_equal(stop(&m), 0);
}

/* A chosen stack's first page that the list names stays (run.c,
 * mark_changed): its frame there is the version the new snapshot sees --
 * here the creator's own commit.  Runner 2 creates a child on a fresh
 * block and writes its argument 5 there; runner 3, whose list names the
 * page with runner 2's frame, reads it without a page request.  Dropped,
 * the page would be fetched again from a master that answers zeros. */
static void test_chosen_stack_listed_kept(void **state)
{
    (void)state;
#ifdef DVM_TSAN
    skip();                     /* the stack area is beyond its window */
#endif
    const uint64_t stk = DISA_STACK_BASE + 0x5000;
    const uint64_t blk = DISA_STACK_BASE + 0x9000;
    isa_insn code[] = {
        MOV(dir(stk + 8, ISA_T_Q), dir(HEAP, ISA_T_Q)),
        EXIT(ISA_OPT_C),
        CHOSEN_CHILD,           /* runner 2: a child, its argument 5 */
        MOV(imm(5), ind(0x100, ISA_T_Q)),
        EXIT(ISA_OPT_C),
        MOV(dir(blk, ISA_T_Q), dir(HEAP, ISA_T_Q)),     /* runner 3 */
        EXIT(ISA_OPT_C),
    };
    fake_master m;
    dvm_range heap = { HEAP, HEAP + 8 };
    uint64_t second = start_stack_reader(&m, code, 12, &heap);
    m.grant[0][0] = blk;
    msg_result res;
    run_second(&m, second, &res);
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    const mem_change *c = change_of(&res, blk / 4096);
    assert_non_null(c);
    uint64_t listed[1] = { blk / 4096 };
    uint32_t frame[1] = { c->frame };
    msg_result_free(&res);
    size_t reqs = m.page_reqs;
    msg_runner r = runner(3, &heap, 1);
    r.d.fi = entry_at(code, 10);
    r.snap = 6;
    r.flags = MSG_RUNNER_KEEP | MSG_RUNNER_KEEP_FRAMES;
    r.ninval = 1;
    r.inval = listed;
    r.inval_frame = frame;
    send_runners(&m, &r, 1);
    assert_int_equal(copied_value(&m, 3), 5);
    assert_int_equal(m.page_reqs, reqs + 1);    /* heap only */
    assert_int_equal(stop(&m), 0);
}

/* A declared range whose every page the master prefetches is no zero span
 * (run.c, span_candidate): its pages are ordinary prefetched pages, kept
 * after the runner.  Runner 2, declaring another heap, reads the second
 * one without a page request; as a span's page it would have been
 * dropped at the reset and fetched again -- from a master that answers
 * with zeros here, so the 9 would read 0.  The list names a page twice
 * (overlapping ranges), which counts once. */
static void test_prefetched_range_stays(void **state)
{
    (void)state;
    const uint64_t two = HEAP + 0x1000;
    isa_insn code[] = {
        MOV(dir(two, ISA_T_Q), dir(DESC, ISA_T_Q)),
        EXIT(ISA_OPT_C),
    };
    fake_master m;
    start(&m, make_image(code, 2, NULL, 0), NULL);
    uint64_t a = 8, b = 9;
    uint32_t fa = new_frame(&m, &a, 8);
    /* Overlapping ranges: the master lists the first page twice. */
    msg_prefetch pre[3] = { { HEAP / 4096, fa }, { HEAP / 4096, fa },
                            { two / 4096, new_frame(&m, &b, 8) } };
    dvm_range heap[3] = { { HEAP, HEAP + 0x2000 }, { HEAP, HEAP + 0x1000 },
                          { DESC, DESC + 8 } };
    msg_runner r = runner(1, heap, 3);
    r.flags = MSG_RUNNER_PREFETCH_COMPLETE;
    r.pre = pre;
    r.npre = 3;
    send_runners(&m, &r, 1);
    msg_result res;
    wait_result(&m, &res);
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    msg_result_free(&res);
    int reqs = m.page_reqs;
    dvm_range other = { DESC, DESC + 8 };
    r = runner(2, &other, 1);
    r.flags = MSG_RUNNER_KEEP | MSG_RUNNER_KEEP_FRAMES;
    send_runners(&m, &r, 1);
    wait_result(&m, &res);
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    const mem_change *c = change_of(&res, DESC / 4096);
    assert_non_null(c);
    uint64_t v;
    memcpy(&v, store_frame(m.store, c->frame), 8);
    assert_int_equal(v, 9);
    msg_result_free(&res);
    assert_int_equal(m.page_reqs, reqs + 1);    /* DESC again, not two */
    assert_int_equal(stop(&m), 0);
}

/* A small heap range on a page the master's complete prefetch list leaves
 * out is zero at the snapshot, filled before the runner starts (run.c,
 * list_zero_pages), never asked for.  The next runner on the same page at
 * the same snapshot (its creator's commit not seen yet, as when runners
 * share a page of slots) finds zeros again, not the bytes the first one
 * wrote: had those stayed, it would copy the 5 into its second word. */
static void test_small_heap_zero(void **state)
{
    (void)state;
    isa_insn code[] = {
        MOV(dir(HEAP, ISA_T_Q), dir(HEAP + 8, ISA_T_Q)),
        MOV(imm(5), dir(HEAP, ISA_T_Q)),
        EXIT(ISA_OPT_C),
    };
    fake_master m;
    start(&m, make_image(code, 3, NULL, 0), NULL);
    dvm_range heap = { HEAP, HEAP + 16 };
    mem_run run;
    for (uint64_t rid = 1; rid <= 3; rid++) {
        msg_runner r = runner(rid, &heap, 1);
        r.flags = MSG_RUNNER_PREFETCH_COMPLETE |
                  (rid > 1 ? MSG_RUNNER_KEEP : 0);
        send_runners(&m, &r, 1);
        assert_int_equal(second_word(&m, rid, &run), 0);
        assert_int_equal(run.off, 0);           /* the 5 only */
        assert_int_equal(run.len, 1);
    }
    assert_int_equal(m.page_reqs, 0);
    assert_int_equal(stop(&m), 0);
}

/* Few committable bytes (a 48-byte heap range less the runner's own
 * 16-byte stack in its middle): only they are compared, and the changes
 * are exactly the written bytes among them -- two 8-byte stores that each
 * straddle the stack's edge leave 4 bytes each, less an unchanged byte,
 * and the frame holds the base elsewhere. */
static void test_small_ranges_clipped(void **state)
{
    (void)state;
    const uint64_t all1 = 0x0101010101010101ULL;
    isa_insn code[] = {
        MOV(imm(all1), dir(HEAP + 12, ISA_T_Q)),
        MOV(imm(all1), dir(HEAP + 28, ISA_T_Q)),
        EXIT(ISA_OPT_C),
    };
    fake_master m;
    start(&m, make_image(code, 3, NULL, 0), NULL);
    uint8_t base[64];
    memset(base, 0, sizeof base);
    base[13] = 1;                               /* unchanged byte: a gap */
    msg_prefetch pre = { HEAP / 4096, new_frame(&m, base, sizeof base) };
    dvm_range heap = { HEAP, HEAP + 48 };
    msg_runner r = runner(1, &heap, 1);
    r.d.sb = HEAP + 16;
    r.d.ss = 16;
    r.npre = 1;
    r.pre = &pre;
    send_runners(&m, &r, 1);
    msg_result res;
    wait_result(&m, &res);
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    const mem_change *h = change_of(&res, HEAP / 4096);
    assert_non_null(h);
    mem_delta d = space_change_delta(h);
    assert_int_equal(d.nruns, 3);
    assert_int_equal(d.runs[0].off, 12);
    assert_int_equal(d.runs[0].len, 1);
    assert_int_equal(d.runs[1].off, 14);
    assert_int_equal(d.runs[1].len, 2);
    assert_int_equal(d.runs[2].off, 32);
    assert_int_equal(d.runs[2].len, 4);
    const uint8_t *f = store_frame(m.store, h->frame);
    uint8_t want[64] = { 0 };
    memset(want + 12, 1, 4);
    memset(want + 32, 1, 4);
    assert_memory_equal(f, want, sizeof want);
    msg_result_free(&res);
    assert_int_equal(stop(&m), 0);
}

/* Created runners' stacks, created out of order and overlapping, are
 * what the creator commits of its own stack page: exactly the bytes
 * written inside their union, nothing of the rest. */
static void test_kid_stacks_clipped(void **state)
{
    (void)state;
    const uint64_t all1 = 0x0101010101010101ULL;
    isa_insn code[] = {
        NEWR(imm(DESC), imm(DESC + 16), imm(DESC + 24), imm(DESC + 32)),
        NEWR(imm(DESC + 64), imm(DESC + 80), imm(DESC + 88),
             imm(DESC + 96)),
        MOV(imm(all1), dir(STACK + 0x7fc, ISA_T_Q)),    /* 4 in B */
        MOV(imm(all1), dir(STACK + 0x9fc, ISA_T_Q)),    /* 4 in A */
        MOV(imm(all1), dir(STACK + 0xc00, ISA_T_Q)),    /* own only */
        EXIT(ISA_OPT_C),
    };
    fake_master m;
    start(&m, make_image(code, 6, NULL, 0), NULL);
    uint64_t desc[13] = { STACK + 0x900, 0x100, 0, 0, DISA_TEXT_BASE, 0, 0,
                          0, STACK + 0x800, 0x180, 0, 0, DISA_TEXT_BASE };
    serve_page(&m, DESC / 4096, desc, sizeof desc);
    msg_runner r = runner(1, NULL, 0);
    send_runners(&m, &r, 1);
    msg_result res;
    wait_result(&m, &res);
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    assert_int_equal(res.nkids, 2);
    const mem_change *s = change_of(&res, STACK / 4096);
    assert_non_null(s);
    mem_delta d = space_change_delta(s);
    assert_int_equal(d.nruns, 2);
    assert_int_equal(d.runs[0].off, 0x800);
    assert_int_equal(d.runs[0].len, 4);
    assert_int_equal(d.runs[1].off, 0x9fc);
    assert_int_equal(d.runs[1].len, 4);
    msg_result_free(&res);
    assert_int_equal(stop(&m), 0);
}

/* Four words of HEAP runner rid committed (0 where unchanged), and its
 * output's length on stdout. */
static void heap_words(fake_master *m, uint64_t rid, uint64_t w[4],
                       uint64_t *out)
{
    msg_result res;
    wait_result(m, &res);
    assert_int_equal(res.rid, rid);
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    const mem_change *h = change_of(&res, HEAP / 4096);
    w[0] = w[1] = w[2] = w[3] = 0;
    if (h)
        memcpy(w, store_frame(m->store, h->frame), 32);
    *out = res.nout ? res.out[0].len : 0;
    msg_result_free(&res);
}

/* Runs program code (n instructions) as three runners in a row on one
 * RComp, with the 32-byte heap at HEAP: each must commit the words 0, 0,
 * 0, last there and an output of out bytes. */
static void run_thrice(const isa_insn *code, size_t n, uint64_t last,
                       uint64_t out_len)
{
    fake_master m;
    start(&m, make_image(code, n, NULL, 0), NULL);
    dvm_range heap = { HEAP, HEAP + 32 };
    for (uint64_t rid = 1; rid <= 3; rid++) {
        msg_runner r = runner(rid, &heap, 1);
        r.flags = rid > 1 ? MSG_RUNNER_KEEP : 0;
        send_runners(&m, &r, 1);
        uint64_t w[4], out;
        heap_words(&m, rid, w, &out);
        assert_int_equal(w[0], 0);
        assert_int_equal(w[1], 0);
        assert_int_equal(w[2], 0);
        assert_int_equal(w[3], last);
        assert_int_equal(out, out_len);
    }
    assert_int_equal(stop(&m), 0);
}

/* Every runner starts with a zero PR, though the reset drops only the PR
 * pages the interpreter saw written (run.c): a page written with a direct
 * address below and above those written through a pointer (0x10000,
 * 0x3ffff000), one written through a pointer (0x30000000), and the output
 * count written through a pointer all read as zeros in the next runner,
 * and that output was not lost. */
static void test_pr_zero_each_runner(void **state)
{
    (void)state;
    const uint64_t far = 0x30000000, ptr = 0x3000, optr = 0x3008,
                   bptr = 0x3010, top = 0x3ffff000;
    isa_insn code[] = {     /* far and DISA_OUT only through pointers */
        MOV(imm(far), dir(ptr, ISA_T_Q)),
        MOV(imm(DISA_OUT), dir(optr, ISA_T_Q)),
        MOV(imm(DISA_OUT + 8), dir(bptr, ISA_T_Q)),
        MOV(dir(0x10000, ISA_T_Q), dir(HEAP, ISA_T_Q)),
        MOV(ind(ptr, ISA_T_Q), dir(HEAP + 8, ISA_T_Q)),
        MOV(ind(optr, ISA_T_Q), dir(HEAP + 16, ISA_T_Q)),
        MOV(dir(top, ISA_T_Q), dir(HEAP + 24, ISA_T_Q)),
        MOV(imm(7), dir(0x10000, ISA_T_Q)),
        MOV(imm(8), dir(top, ISA_T_Q)),
        MOV(imm(9), ind(ptr, ISA_T_Q)),
        MOV(imm(0x61), ind(bptr, ISA_T_Q)),
        MOV(imm(1), ind(optr, ISA_T_Q)),
        EXIT(ISA_OPT_C),
    };
    run_thrice(code, 13, 0, 1);
}

/* The resident PR pages (the first RC_PR_RESIDENT) are zeroed where the
 * last runner may have written them, and only there (run.c,
 * pr_resident_written): page 0 by a direct store, page 3 only through a
 * pointer (the interpreter notes it), page 2 not at all.  Each runner
 * reads all three words before writing them: a page left unzeroed hands
 * the next one a 5 or a 6. */
static void test_pr_resident_zeroed(void **state)
{
    (void)state;
    const uint64_t ptr = 0x0800, w3 = 0x3100;
    isa_insn code[] = {
        MOV(dir(ptr, ISA_T_Q), dir(HEAP, ISA_T_Q)),
        MOV(imm(w3), dir(ptr, ISA_T_Q)),
        MOV(ind(ptr, ISA_T_Q), dir(HEAP + 8, ISA_T_Q)),
        MOV(dir(0x2000, ISA_T_Q), dir(HEAP + 16, ISA_T_Q)),
        MOV(imm(6), ind(ptr, ISA_T_Q)),
        MOV(imm(5), dir(ptr + 8, ISA_T_Q)),
        MOV(dir(ptr + 8, ISA_T_Q), dir(HEAP + 24, ISA_T_Q)),
        EXIT(ISA_OPT_C),
    };
    run_thrice(code, 8, 5, 0);
}

/* An output count the code names directly stays mapped from one runner
 * to the next (io.c, rc_outputs_keep) and is zeroed in place at each
 * reset, and the commit reads it without asking the kernel whether it was
 * written: runner 2 (entry: the exit) prints nothing, runner 3 reads its
 * count as 0 before printing, not runner 1's 1. */
static void test_out_count_kept(void **state)
{
    (void)state;
    isa_insn code[] = {
        EXIT(ISA_OPT_C),
        MOV(dir(DISA_OUT, ISA_T_Q), dir(HEAP, ISA_T_Q)),
        MOV(imm(1), dir(DISA_OUT, ISA_T_Q)),
        MOV(imm(0x61), dir(DISA_OUT + 8, ISA_T_UB)),
        EXIT(ISA_OPT_C),
    };
    uint8_t enc[ISA_MAX_INSN_BYTES];
    uint64_t body = DISA_TEXT_BASE + isa_encode(&code[0], enc);
    fake_master m;
    start(&m, make_image(code, 5, NULL, 0), NULL);
    dvm_range heap = { HEAP, HEAP + 32 };
    for (uint64_t rid = 1; rid <= 3; rid++) {
        msg_runner r = runner(rid, &heap, 1);
        r.flags = rid > 1 ? MSG_RUNNER_KEEP : 0;
        r.d.fi = rid == 2 ? DISA_TEXT_BASE : body;
        send_runners(&m, &r, 1);
        uint64_t w[4], out;
        heap_words(&m, rid, w, &out);
        assert_int_equal(w[0], 0);
        assert_int_equal(out, rid == 2 ? 0 : 1);
    }
    assert_int_equal(stop(&m), 0);
}

/* Prefetched base + change; abort; fault; output overflow; one batch. */
static void test_batch_exits(void **state)
{
    (void)state;
    isa_insn code[] = {
        /* 0: add to a prefetched heap word, commit */
        MOV(imm(0x55), dir(HEAP + 8, ISA_T_UB)),
        EXIT(ISA_OPT_C),
        /* 2: write, then abort */
        MOV(imm(1), dir(HEAP, ISA_T_Q)),
        EXIT(ISA_OPT_A),
        /* 4: divide by zero */
        DIV(imm(1), imm(0), dir(HEAP, ISA_T_Q)),
        /* 5: an output count larger than stdout's window */
        MOV(imm(0x40000000), dir(DISA_OUT, ISA_T_Q)),
        EXIT(ISA_OPT_C),
    };
    fake_master m;
    start(&m, make_image(code, 7, NULL, 0), NULL);
    uint64_t base[2] = { 0xAAAAAAAAAAAAAAAAULL, 0xBBBBBBBBBBBBBBBBULL };
    uint32_t bf = new_frame(&m, base, sizeof base);
    dvm_range heap = { HEAP, HEAP + 0x1000 };
    msg_prefetch pre = { HEAP / 4096, bf };
    msg_runner r[4];
    for (int i = 0; i < 4; i++)
        r[i] = runner(100 + (uint64_t)i, &heap, 1);
    r[0].npre = 1;
    r[0].pre = &pre;
    size_t off[4] = { 0, 0, 0, 0 };
    for (int i = 0, k = 0; i < 7; i++) {
        if (i == 0 || i == 2 || i == 4 || i == 5)
            r[k++].d.fi = DISA_TEXT_BASE + off[0];
        off[0] += isa_encoded_size(&code[i]);
    }
    send_runners(&m, r, 4);
    msg_result res;
    wait_result(&m, &res);
    assert_int_equal(res.rid, 100);
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    assert_int_equal(res.nchanges, 1);
    assert_int_equal(res.pages_prefetched, 1);
    assert_int_equal(res.pages_faulted, 0);
    const uint8_t *f = store_frame(m.store, res.changes[0].frame);
    assert_int_equal(f[0], 0xAA);
    assert_int_equal(f[8], 0x55);
    assert_int_equal(f[9], 0xBB);
    assert_int_equal(space_change_delta(&res.changes[0]).nruns, 1);
    msg_result_free(&res);
    wait_result(&m, &res);
    assert_int_equal(res.rid, 101);
    assert_int_equal(res.exit, MSG_EXIT_ABORT);
    assert_int_equal(res.nchanges, 0);
    msg_result_free(&res);
    wait_result(&m, &res);
    assert_int_equal(res.rid, 102);
    assert_int_equal(res.exit, MSG_EXIT_FAULT);
    assert_int_equal(res.fault, VM_FAULT_ARITH);
    assert_int_equal(res.fault_pc, r[2].d.fi);
    msg_result_free(&res);
    wait_result(&m, &res);
    assert_int_equal(res.rid, 103);
    assert_int_equal(res.exit, MSG_EXIT_FAULT);
    assert_int_equal(res.fault, VM_FAULT_MEMORY);
    assert_int_equal(res.fault_addr, DISA_OUT);
    assert_int_equal(res.nout, 0);
    msg_result_free(&res);
    assert_int_equal(m.page_reqs, 1);           /* runner 101's heap page */
    assert_int_equal(stop(&m), 0);
}

/* An input channel file: length at ADDR, bytes from ADDR+8; a named out
 * channel. */
/* A ThreadSanitizer build's window is 256 GiB (mem/window.c): the
 * channel windows near 2^46 are out of its reach. */
static void test_channels(void **state)
{
    (void)state;
#ifdef DVM_TSAN
    skip();
#endif
    isa_insn code[] = {
        MOV(dir(INADDR, ISA_T_Q), dir(HEAP, ISA_T_Q)),
        MOV(dir(INADDR + 8, ISA_T_Q), dir(HEAP + 8, ISA_T_Q)),
        MOV(imm(2), dir(0x10000000, ISA_T_Q)),
        MOV(imm(0x6968), dir(0x10000008, ISA_T_UW)),
        EXIT(ISA_OPT_C),
    };
    prog_channel ch[] = { { "data", INADDR, PROG_CHAN_IN },
                          { "log", 0x10000000, PROG_CHAN_OUT } };
    char path[] = "/tmp/rcomp_test_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789", 10), 10);
    close(fd);
    char spec[64];
    snprintf(spec, sizeof spec, "0x%llx=%s", (unsigned long long)INADDR, path);
    fake_master m;
    start(&m, make_image(code, 5, ch, 2), spec);
    dvm_range heap = { HEAP, HEAP + 0x1000 };
    msg_runner r = runner(7, &heap, 1);
    send_runners(&m, &r, 1);
    msg_result res;
    wait_result(&m, &res);
    unlink(path);
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    assert_int_equal(res.nchanges, 1);
    const uint8_t *f = store_frame(m.store, res.changes[0].frame);
    uint64_t len;
    memcpy(&len, f, 8);
    assert_int_equal(len, 10);
    assert_memory_equal(f + 8, "01234567", 8);
    assert_int_equal(res.nout, 1);
    assert_int_equal(res.out[0].chan, 1);
    assert_memory_equal(store_frame(m.store, res.out[0].frames[0]), "hi", 2);
    msg_result_free(&res);
    assert_int_equal(m.page_reqs, 1);           /* the heap page, zeros */
    assert_int_equal(stop(&m), 0);
}

/* A malformed message is a protocol error: exit 3. */
static void test_protocol_error(void **state)
{
    (void)state;
    isa_insn code[] = { EXIT(ISA_OPT_C) };
    fake_master m;
    start(&m, make_image(code, 1, NULL, 0), NULL);
    uint64_t junk = 1;
    mb_reset(&m.b);
    msg_encode_u64s(&m.b, MSG_PAGE_RESP, &junk, 1);
    assert_int_equal(conn_send(&m.ctl, &m.b), DVM_OK);
    int ws = 0;
    assert_int_equal(waitpid(m.pid, &ws, 0), m.pid);
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 3);
    conn_close(&m.ctl);
    conn_close(&m.page);
    mb_free(&m.b);
    store_destroy(m.store);
}

/* Many empty runners in batches: the per-runner cost, all included. */
static void test_empty_runners(void **state)
{
    (void)state;
    isa_insn code[] = { EXIT(ISA_OPT_C) };
    fake_master m;
    start(&m, make_image(code, 1, NULL, 0), NULL);
    enum { N = 20000, BATCH = 100 };
    msg_runner r[BATCH];
    struct timespec t0, t1;
    uint64_t inside = 0, first = 0, last = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int b = 0; b < N / BATCH; b++) {
        for (int i = 0; i < BATCH; i++)
            r[i] = runner((uint64_t)(b * BATCH + i + 1), NULL, 0);
        send_runners(&m, r, BATCH);
        for (int i = 0; i < BATCH; i++) {
            msg_result res;
            wait_result(&m, &res);
            assert_int_equal(res.exit, MSG_EXIT_COMMIT);
            inside += res.t_end_ns - res.t_start_ns;
            first = first ? first : res.t_start_ns;
            last = res.t_end_ns;
            msg_result_free(&res);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
                 (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 / N;
    fprintf(stderr, "empty runner: %.2f us each end to end (batches of %d), "
            "%.2f us in the RComp from start to result, %.2f us apart\n", us,
            BATCH, (double)inside / N / 1e3, (double)(last - first) / N / 1e3);
    assert_int_equal(stop(&m), 0);
}

/* Over a queue, a pool down to half a batch asks for more ahead of need,
 * without waiting: the second STACK_REQ comes before the RESULT of the
 * runner whose newr left the pool low.  (Before, the request came only
 * when a newr found the pool empty: after the first result here.) */
static void test_stacks_asked_ahead(void **state)
{
    (void)state;
    isa_insn code[] = { CHOSEN_CHILD, EXIT(ISA_OPT_C) };
    fake_master m;
    start_queue = 1;
    start(&m, make_image(code, 7, NULL, 0), NULL);
    start_queue = 0;
    for (int i = 0; i < 3; i++)
        m.grant[0][i] = DISA_STACK_BASE + (uint64_t)(i + 1) * 0x1000;
    for (int i = 0; i < 4; i++)
        m.grant[1][i] = DISA_STACK_BASE + (uint64_t)(i + 4) * 0x1000;
    msg_runner r[5];
    for (int i = 0; i < 5; i++)
        r[i] = runner((uint64_t)i + 1, NULL, 0);
    send_runners(&m, r, 5);
    uint64_t seen[5];
    for (int i = 0; i < 5; i++) {
        msg_result res;
        wait_result(&m, &res);
        assert_int_equal(res.exit, MSG_EXIT_COMMIT);
        assert_int_equal(res.nkids, 1);
        seen[i] = res.kids[0].sb;
        if (i == 0)     /* asked ahead while the first runner ran */
            assert_int_equal(m.stack_reqs, 2);
        msg_result_free(&res);
    }
    /* Runner 4 found the pool empty and took from the second grant, which
     * left the pool low again: a third ask, answered with no block (the
     * script has none), which faults nobody: runner 5 had a block. */
    assert_int_equal(m.stack_reqs, 3);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < i; j++)
            assert_true(seen[i] != seen[j]);
    assert_int_equal(stop(&m), 0);
}

/* With --yield the RComp gives its CPU to the polling master after a
 * result that creates runners (run.c, yield_to_master; this fake master
 * polls, so every result here takes that path): results keep their
 * order and content and the RComp serves on.  The yield itself shows only
 * in timing, which tests do not measure: bench/taskbench measures it
 * (docs/performance.md). */
static void test_yield_after_children(void **state)
{
    (void)state;
    isa_insn kid[] = { CHOSEN_CHILD, EXIT(ISA_OPT_C) };
    fake_master m;
    start_queue = start_yield = 1;
    start(&m, make_image(kid, 7, NULL, 0), NULL);
    start_queue = start_yield = 0;
    for (int i = 0; i < 4; i++)
        m.grant[0][i] = DISA_STACK_BASE + (uint64_t)(i + 1) * 0x1000;
    msg_runner r[4];
    for (int i = 0; i < 4; i++)
        r[i] = runner((uint64_t)i + 1, NULL, 0);
    send_runners(&m, r, 4);
    for (int i = 0; i < 4; i++) {
        msg_result res;
        wait_result(&m, &res);
        assert_int_equal(res.rid, (uint64_t)i + 1);
        assert_int_equal(res.exit, MSG_EXIT_COMMIT);
        assert_int_equal(res.nkids, 1);
        msg_result_free(&res);
    }
    assert_int_equal(stop(&m), 0);
}

/* Runs rcomp_main(argc, argv) in a child; its standard error into msg
 * (cap bytes, terminated); returns its exit status. */
static int rcomp_main_child(int argc, char **argv, char *msg, size_t cap)
{
    int err[2];
    assert_int_equal(pipe(err), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(err[1], 2);
        _exit(rcomp_main(argc, argv));
    }
    close(err[1]);
    memset(msg, 0, cap);
    size_t got = 0;
    ssize_t n;
    while (got < cap - 1 &&
           (n = read(err[0], msg + got, cap - 1 - got)) > 0)
        got += (size_t)n;
    close(err[0]);
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws));
    return WEXITSTATUS(ws);
}

/* --yield takes 0 or 1; anything else is a setup error that names it. */
static void test_yield_option_checked(void **state)
{
    (void)state;
    char msg[512];
    char *argv[] = { "__rcomp", "--index", "0", "--yield", "2" };
    assert_int_equal(rcomp_main_child(5, argv, msg, sizeof msg), 2);
    assert_non_null(strstr(msg, "--yield"));    /* RC_EXIT_SETUP above */
}

/* An RComp started by a master of another dvm version (a dvm-rcomp left
 * from another install) refuses at setup, naming both; one started with
 * no version at all (an older master) refuses too. */
static void test_version_checked(void **state)
{
    (void)state;
    char msg[512];
    char *other[] = { "__rcomp", "--index", "0", "--dvm-version", "0.0.0-x" };
    assert_int_equal(rcomp_main_child(5, other, msg, sizeof msg), 2);
    assert_non_null(strstr(msg, "0.0.0-x"));
    assert_non_null(strstr(msg, DVM_VERSION));
    char *none[] = { "__rcomp", "--index", "0", "--ctl", "3", "--page", "4",
                     "--store", "5", "--frames", "8", "--image", "6",
                     "--engine", "interp" };
    assert_int_equal(rcomp_main_child(15, none, msg, sizeof msg), 2);
    assert_non_null(strstr(msg, "--dvm-version"));
}

/* A STACKS grant the RComp did not ask for is taken into its pool, not
 * refused: on a cluster the answer to the request of an RComp that died
 * reaches the one that replaced it (cluster/faults caught an RComp that
 * refused it and exited, again and again, under the same runner). */
static void test_stacks_not_asked_taken(void **state)
{
    (void)state;
    isa_insn code[] = { CHOSEN_CHILD, EXIT(ISA_OPT_C) };
    fake_master m;
    start(&m, make_image(code, 7, NULL, 0), NULL);
    const uint64_t b = DISA_STACK_BASE + 0x5000;
    mb_reset(&m.b);
    msg_encode_stacks(&m.b, 0, &b, 1);
    assert_int_equal(conn_send(&m.ctl, &m.b), DVM_OK);
    msg_runner r = runner(1, NULL, 0);
    send_runners(&m, &r, 1);
    msg_result res;
    wait_result(&m, &res);
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    assert_int_equal(res.nkids, 1);
    assert_true(res.kids[0].sb == b);
    assert_int_equal(m.stack_reqs, 0);
    msg_result_free(&res);
    assert_int_equal(stop(&m), 0);
}

/* newr with sb = 0 (DISA 1.1): blocks come from the RComp's grants, one
 * STACK_REQ per empty pool; an aborted runner's block goes back to the
 * pool (the next runner reuses it without asking); an empty grant faults
 * the creator.  The runner with rid 2 aborts, the others commit. */
static void test_chosen_stacks(void **state)
{
    (void)state;
    isa_insn code[] = {
        CHOSEN_CHILD,
        ins(ISA_OP_BR, ISA_OPT_E, 3, dir(DISA_CTX_RID, ISA_T_Q), imm(2),
            dir(0, ISA_T_Q), imm(0)),
        EXIT(ISA_OPT_C),
        EXIT(ISA_OPT_A),
    };
    uint8_t tmp[8 * ISA_MAX_INSN_BYTES];
    uint64_t at = DISA_TEXT_BASE;
    for (int i = 0; i < 8; i++)
        at += isa_encode(&code[i], tmp);
    code[6].ops[2].value = at;                          /* the exit:a */
    fake_master m;
    start(&m, make_image(code, 9, NULL, 0), NULL);
    const uint64_t b1 = DISA_STACK_BASE + 0x1000, b2 = DISA_STACK_BASE + 0x2000;
    m.grant[0][0] = b1;
    m.grant[0][1] = b2;
    msg_runner r[4];
    for (int i = 0; i < 4; i++)
        r[i] = runner((uint64_t)i + 1, NULL, 0);
    send_runners(&m, r, 4);
    msg_result res;
    wait_result(&m, &res);                              /* rid 1: commits */
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    assert_int_equal(res.nkids, 1);
    assert_true(res.kids[0].sb == b2);
    assert_int_equal(res.kids[0].ss, 0x1000);
    assert_int_equal(res.kids[0].flags, RUNNER_STACK_CHOSEN);
    msg_result_free(&res);
    wait_result(&m, &res);                              /* rid 2: aborts */
    assert_int_equal(res.exit, MSG_EXIT_ABORT);
    assert_int_equal(res.nkids, 0);
    msg_result_free(&res);
    wait_result(&m, &res);                              /* rid 3: reuses */
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    assert_true(res.kids[0].sb == b1);
    assert_int_equal(m.stack_reqs, 1);
    msg_result_free(&res);
    wait_result(&m, &res);                              /* rid 4: none left */
    assert_int_equal(m.stack_reqs, 2);
    assert_int_equal(res.exit, MSG_EXIT_FAULT);
    assert_int_equal(res.fault, VM_FAULT_NOSTACK);
    assert_int_equal(res.fault_addr, 0x100);
    msg_result_free(&res);
    assert_int_equal(stop(&m), 0);
}

/* Many children on chosen stacks (more than commit.c scans per page, so
 * their stacks are looked up sorted), granted in an order that is not
 * address order: each stack page is committed with exactly the input its
 * creator wrote, zeros elsewhere, although the master's version of one of
 * them holds an earlier occupant's bytes, overwritten in part with zeros;
 * and a fresh stack page costs no page request (stacks.c makes it zeros
 * at once). */
static void test_many_chosen_stacks(void **state)
{
    (void)state;
#ifdef DVM_TSAN
    /* A ThreadSanitizer build's window is 256 GiB (mem/window.c): the
     * creator here writes its children's stacks, at 62 TiB, out of its
     * reach.  test_chosen_stacks, whose creator leaves them alone, runs
     * there. */
    skip();
#endif
    enum { KIDS = 20 };
    isa_insn code[4 + 3 * KIDS + 2];
    size_t n = 0;
    code[n++] = MOV(imm(0x100), dir(0x108, ISA_T_Q));           /* ss */
    code[n++] = MOV(imm(0), dir(0x110, ISA_T_Q));               /* no heap */
    code[n++] = MOV(imm(0), dir(0x118, ISA_T_Q));               /* no watch */
    code[n++] = MOV(imm(DISA_TEXT_BASE), dir(0x120, ISA_T_Q));
    const isa_operand at_sb = { ISA_M_IND, ISA_T_Q, 0x100, 0 };
    const isa_operand at_sb8 = { ISA_M_DISP, ISA_T_Q, 0x100, 8 };
    for (int k = 0; k < KIDS; k++) {
        code[n++] = MOV(imm(0), dir(0x100, ISA_T_Q));           /* sb = 0 */
        code[n++] = NEWR(imm(0x100), imm(0x110), imm(0x118), imm(0x120));
        code[n++] = MOV(imm((uint64_t)k + 1), at_sb);
        if (k == 7)                     /* zeros over the old bytes */
            code[n++] = MOV(imm(0), at_sb8);
    }
    code[n++] = EXIT(ISA_OPT_C);
    assert_true(n <= sizeof code / sizeof *code);
    fake_master m;
    start(&m, make_image(code, n, NULL, 0), NULL);
    for (int k = 0; k < KIDS; k++)      /* taken last first */
        m.grant[0][k] = DISA_STACK_BASE +
                        0x1000 * (uint64_t)(k < KIDS / 2 ? 2 * k + 2
                                                          : 2 * (k - KIDS / 2) + 1);
    uint64_t old[3] = { 0x5555, 0x6666, 0x7777 };
    serve_page(&m, m.grant[0][KIDS - 1 - 7] / 4096, old, sizeof old);
    msg_runner r = runner(1, NULL, 0);
    send_runners(&m, &r, 1);
    msg_result res;
    wait_result(&m, &res);
    assert_int_equal(res.exit, MSG_EXIT_COMMIT);
    assert_int_equal(res.nkids, KIDS);
    assert_int_equal(res.nchanges, KIDS);
    assert_int_equal(m.page_reqs, 0);
    for (int k = 0; k < KIDS; k++) {
        const mem_change *c = change_of(&res, res.kids[k].sb / 4096);
        assert_non_null(c);
        mem_delta d = space_change_delta(c);
        assert_int_equal(d.nruns, 1);
        assert_int_equal(d.runs[0].off, 0);
        assert_int_equal(d.runs[0].len, 1);
        uint8_t want[4096] = { 0 };
        want[0] = (uint8_t)(k + 1);
        assert_memory_equal(store_frame(m.store, c->frame), want, 4096);
    }
    msg_result_free(&res);
    assert_int_equal(stop(&m), 0);
}

int main(void)
{
    alarm(110);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit),
        cmocka_unit_test(test_dense_zero_page_implied),
        cmocka_unit_test(test_kept_pages),
        cmocka_unit_test(test_own_stack_kept),
        cmocka_unit_test(test_own_stack_written_dropped),
        cmocka_unit_test(test_written_page_refilled),
        cmocka_unit_test(test_changed_page_copied_over),
        cmocka_unit_test(test_changed_page_not_at_hand),
        cmocka_unit_test(test_taken_back_skipped),
        cmocka_unit_test(test_written_page_restored),
        cmocka_unit_test(test_chosen_stack_not_restored),
        cmocka_unit_test(test_chosen_stack_listed_kept),
        cmocka_unit_test(test_prefetched_range_stays),
        cmocka_unit_test(test_small_heap_zero),
        cmocka_unit_test(test_small_ranges_clipped),
        cmocka_unit_test(test_kid_stacks_clipped),
        cmocka_unit_test(test_pr_zero_each_runner),
        cmocka_unit_test(test_pr_resident_zeroed),
        cmocka_unit_test(test_out_count_kept),
        cmocka_unit_test(test_chosen_stacks),
        cmocka_unit_test(test_stacks_asked_ahead),
        cmocka_unit_test(test_stacks_not_asked_taken),
        cmocka_unit_test(test_yield_after_children),
        cmocka_unit_test(test_yield_option_checked),
        cmocka_unit_test(test_version_checked),
        cmocka_unit_test(test_frames_asked_ahead),
        cmocka_unit_test(test_many_chosen_stacks),
        cmocka_unit_test(test_batch_exits),
        cmocka_unit_test(test_channels),
        cmocka_unit_test(test_adopted_span),
        cmocka_unit_test(test_adopt_refused),
        cmocka_unit_test(test_protocol_error),
        cmocka_unit_test(test_empty_runners),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
