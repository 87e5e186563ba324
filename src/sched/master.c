/*
 * master.c -- the master's life: setup, the event loop, dispatch.
 *
 * One thread, one epoll set over every RComp's two sockets.  The loop
 *   - answers page requests at once (an RComp's engine thread is blocked
 *     on them),
 *   - processes results in arrival order (commit.c: the commit order),
 *   - grants frames,
 *   - and refills RComps whose in-flight queue runs low with batches of
 *     ready runners, each with a snapshot (the current epoch) and the list
 *     of its declared stack and heap pages that exist, for eager copying.
 * A run ends at quiescence: nothing ready, nothing in flight.
 *
 * Snapshots are taken at dispatch.  That is the moment a runner "starts"
 * in the sense of DISA.md 6.1: every commit processed before it is
 * visible to it; a commit processed later is not.  The oldest in-flight
 * snapshot bounds garbage collection of page versions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "image/image.h"
#include "sched/master_int.h"
#include "util/alloc.h"

/* Frame store size: 2^26 frames = 256 GiB of sparse address space. */
#define MASTER_STORE_FRAMES (1u << 26)

uint64_t master_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- runner control blocks -------------------------------------------- */

rcb *rcb_new(master *m)
{
    rcb *r = dvm_calloc(1, sizeof *r);
    if (r)
        r->rid = m->next_rid++;
    return r;
}

void rcb_free(rcb *r)
{
    if (!r)
        return;
    dvm_free(r->heap);
    dvm_free(r->watch);
    dvm_free(r);
}

void rcb_push(rcb_queue *q, rcb *r)
{
    r->next = NULL;
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
    q->n++;
}

void rcb_push_front(rcb_queue *q, rcb *r)
{
    r->next = q->head;
    q->head = r;
    if (!q->tail)
        q->tail = r;
    q->n++;
}

rcb *rcb_pop(rcb_queue *q)
{
    rcb *r = q->head;
    if (!r)
        return NULL;
    q->head = r->next;
    if (!q->head)
        q->tail = NULL;
    q->n--;
    r->next = NULL;
    return r;
}

static void rcb_queue_free(rcb_queue *q)
{
    rcb *r;
    while ((r = rcb_pop(q)))
        rcb_free(r);
}

/* ---- loading the program ------------------------------------------------ */

/* Prepares page change *c for the bytes [*addr, ...) of *src that fall in
 * one page: a new frame holding the page's current content with them
 * written over, and the run they cover in *run.  Advances the cursors. */
static dvm_status write_page(master *m, uint64_t *addr, const uint8_t **src,
                             uint64_t *left, mem_change *c, mem_run *run)
{
    uint64_t page = *addr / DISA_PAGE, off = *addr % DISA_PAGE;
    uint64_t k = DISA_PAGE - off < *left ? DISA_PAGE - off : *left;
    uint32_t f;
    if (store_alloc(m->store, &f))
        return status_set(DVM_ENOMEM, "frame store full");
    uint8_t *fp = store_frame(m->store, f);
    uint32_t old = space_lookup(m->space, page, space_epoch(m->space));
    if (old)
        memcpy(fp, store_frame(m->store, old), DISA_PAGE);
    else
        memset(fp, 0, DISA_PAGE);
    memcpy(fp + off, *src, k);
    *run = (mem_run){ (uint16_t)off, (uint16_t)k };
    *c = (mem_change){ page, f, 1, run };
    *addr += k;
    *src += k;
    *left -= k;
    return DVM_OK;
}

dvm_status master_write(master *m, uint64_t addr, const void *data,
                        uint64_t n)
{
    uint64_t npages = (addr % DISA_PAGE + n + DISA_PAGE - 1) / DISA_PAGE;
    mem_change *c = dvm_calloc(npages ? npages : 1, sizeof *c);
    mem_run *runs = dvm_calloc(npages ? npages : 1, sizeof *runs);
    dvm_status st = c && runs ? DVM_OK
                              : status_set(DVM_ENOMEM, "out of memory");
    const uint8_t *src = data;
    uint64_t at = addr, left = n, epoch;
    size_t k = 0;
    while (!st && left && !(st = write_page(m, &at, &src, &left, &c[k],
                                            &runs[k])))
        k++;
    if (!st)
        st = space_install(m->space, space_epoch(m->space), c, k, &epoch);
    if (st) {
        for (size_t i = 0; i < k; i++)
            store_release(m->store, c[i].frame);
    } else {
        m->st.commits++;
        trace_instant(&m->trace, "commit", master_now_ns(), 0, epoch);
        master_wake_range(m, addr, addr + n);
    }
    dvm_free(c);
    dvm_free(runs);
    return st;
}

static dvm_status master_load(master *m)
{
    const dvm_program *p = m->cfg.prog;
    for (size_t i = 0; i < p->nsegs; i++) {
        uint64_t n = prog_seg_stored(&p->segs[i]);
        dvm_status st = n ? master_write(m, p->segs[i].addr,
                                         p->segs[i].bytes, n) : DVM_OK;
        if (st)
            return st;
    }
    uint64_t sys[2] = { (uint64_t)m->nrc, 1 };
    return master_write(m, DISA_SYS_NRCOMP, sys, sizeof sys);
}

dvm_status master_signal_rcomps(master *m, uint64_t live)
{
    m->st.signals++;
    return master_write(m, DISA_SYS_NRCOMP, &live, sizeof live);
}

/* Writes the program image into a memfd the RComps inherit. */
static dvm_status master_image_fd(master *m)
{
    uint8_t *buf;
    size_t len;
    dvm_status st = image_serialize(m->cfg.prog, &buf, &len);
    if (st)
        return st;
    int fd = memfd_create("dvm-image", MFD_CLOEXEC);
    if (fd < 0) {
        dvm_free(buf);
        return status_set_errno(DVM_ESYS, "memfd_create");
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, buf + off, len - off);
        if (n <= 0) {
            dvm_free(buf);
            close(fd);
            return status_set_errno(DVM_ESYS, "writing the image memfd");
        }
        off += (size_t)n;
    }
    dvm_free(buf);
    m->image_fd = fd;
    return DVM_OK;
}

static dvm_status first_runner(master *m)
{
    const dvm_program *p = m->cfg.prog;
    rcb *r = rcb_new(m);
    if (!r)
        return status_set(DVM_ENOMEM, "out of memory");
    r->sb = MASTER_FIRST_SB;
    r->ss = MASTER_FIRST_SS;
    r->fi = p->entry;
    r->nheap = p->nheap ? (uint32_t)p->nheap : 1;
    r->heap = dvm_calloc(r->nheap, sizeof *r->heap);
    if (!r->heap) {
        rcb_free(r);
        return status_set(DVM_ENOMEM, "out of memory");
    }
    if (!p->nheap)
        r->heap[0] = (vm_range){ DISA_RB, DISA_ADDR_LIMIT };
    for (size_t i = 0; i < p->nheap; i++)
        r->heap[i] = (vm_range){ p->heap[i].base,
                                 p->heap[i].base + p->heap[i].len };
    rcb_push(&m->ready, r);
    return DVM_OK;
}

/* ---- output channels ------------------------------------------------------ */

static const char *out_binding(const master *m, const char *name)
{
    for (size_t i = 0; i < m->cfg.nout; i++)
        if (!strcmp(m->cfg.out[i].name, name))
            return m->cfg.out[i].path;
    return NULL;
}

static dvm_status open_sinks(master *m)
{
    const dvm_program *p = m->cfg.prog;
    m->sinks = dvm_calloc(p->nchans + 1, sizeof *m->sinks);
    if (!m->sinks)
        return status_set(DVM_ENOMEM, "out of memory");
    dvm_status st = io_sink_open_fd(&m->sinks[0], "stdout", STDOUT_FILENO, 0);
    m->nsinks = 1;
    for (size_t i = 0; i < p->nchans && !st; i++) {
        if (p->chans[i].dir != PROG_CHAN_OUT)
            continue;
        const char *path = out_binding(m, p->chans[i].name);
        io_sink *s = &m->sinks[m->nsinks];
        st = path ? io_sink_open_file(s, p->chans[i].name, path)
                  : io_sink_open_null(s, p->chans[i].name);
        if (!st)
            m->nsinks++;
    }
    return st;
}

/* ---- dispatch ------------------------------------------------------------- */

typedef struct prefetch_acc {
    msg_runner *r;
    size_t cap;
    int oom;
    int truncated;              /* some visible page was left out */
} prefetch_acc;

static void prefetch_one(void *arg, uint64_t page, uint32_t frame)
{
    prefetch_acc *a = arg;
    if (a->r->npre >= MASTER_PREFETCH_MAX) {
        a->truncated = 1;
        return;
    }
    msg_prefetch *np = dvm_grow(a->r->pre, &a->cap, a->r->npre + 1,
                                sizeof *np);
    if (!np) {
        a->oom = 1;
        return;
    }
    a->r->pre = np;
    a->r->pre[a->r->npre++] = (msg_prefetch){ page, frame };
}

static void prefetch_range(const master *m, prefetch_acc *a, uint64_t lo,
                           uint64_t hi, uint64_t snap)
{
    /* Input windows are local to each RComp and the system page is
     * fetched on touch: prefetch only ordinary SR pages. */
    size_t left = MASTER_PREFETCH_MAX - a->r->npre;
    if (hi > DISA_INPUT_BASE)
        hi = DISA_INPUT_BASE;
    if (lo >= hi)
        return;
    /* One more than fits, so that prefetch_one sees a truncation. */
    space_visible_pages(m->space, lo / DISA_PAGE,
                        (hi + DISA_PAGE - 1) / DISA_PAGE, snap, left + 1,
                        prefetch_one, a);
}

/* Describes runner r at snapshot snap for a DISPATCH. */
static dvm_status describe_runner(const master *m, const rcb *r, msg_runner *d)
{
    memset(d, 0, sizeof *d);
    *d = (msg_runner){ .rid = r->rid, .attempt = r->attempt, .snap = r->snap,
                       .sb = r->sb, .ss = r->ss, .fi = r->fi,
                       .nheap = r->nheap, .heap = r->heap };
    prefetch_acc a = { d, 0, 0, 0 };
    prefetch_range(m, &a, r->sb, r->sb + r->ss, r->snap);
    for (uint32_t i = 0; i < r->nheap; i++)
        prefetch_range(m, &a, r->heap[i].lo, r->heap[i].hi, r->snap);
    if (!a.truncated)
        d->flags |= MSG_RUNNER_PREFETCH_COMPLETE;
    return a.oom ? status_set(DVM_ENOMEM, "out of memory") : DVM_OK;
}

/* Takes up to n runners for slot s and sends them as one batch. */
static dvm_status dispatch_batch(master *m, rcomp_slot *s, rcb_queue *q,
                                 size_t n)
{
    msg_runner d[MASTER_BATCH_MAX];
    uint32_t k = 0;
    dvm_status st = DVM_OK;
    uint64_t snap = space_epoch(m->space);
    while (k < n && q->head && !st) {
        rcb *r = rcb_pop(q);
        r->snap = snap;
        s->inflight[(s->in_head + s->nin++) % MASTER_BATCH_MAX] = r;
        st = describe_runner(m, r, &d[k++]);
    }
    if (!st) {
        msg_dispatch md = { k, d };
        mb_reset(&m->out);
        msg_encode_dispatch(&m->out, &md);
    }
    for (uint32_t i = 0; i < k; i++)
        dvm_free(d[i].pre);
    return st ? st : rcomp_send(m, s);
}

static size_t inflight_total(const master *m)
{
    size_t n = 0;
    for (int i = 0; i < m->nrc; i++)
        n += m->rc[i].nin;
    return n;
}

/* Exclusive mode: the oldest over-conflicted runner runs alone. */
static dvm_status dispatch_exclusive(master *m)
{
    if (m->running_exclusive || inflight_total(m) > 0)
        return DVM_OK;
    for (int i = 0; i < m->nrc; i++) {
        if (!m->rc[i].ready)
            continue;
        m->running_exclusive = m->exclusive.head;
        m->st.exclusive_runs++;
        return dispatch_batch(m, &m->rc[i], &m->exclusive, 1);
    }
    return DVM_OK;
}

static dvm_status dispatch(master *m)
{
    if (m->exclusive.head || m->running_exclusive)
        return dispatch_exclusive(m);
    /* Small batches keep snapshots fresh; larger ones amortise messages
     * when there is plenty of work.  When runners conflict a lot, a batch
     * is one runner: every runner then starts from the newest snapshot
     * and only runners truly running at the same time can conflict. */
    size_t per = m->ready.n / (size_t)m->nrc;
    size_t batch = per < 2 ? 2 : per > MASTER_BATCH_MAX ? MASTER_BATCH_MAX
                                                          : per;
    if (m->conflict_rate > 0.2)
        batch = 1;
    for (int i = 0; i < m->nrc && m->ready.head; i++) {
        rcomp_slot *s = &m->rc[i];
        if (!s->ready || s->nin > batch / 2 || (batch == 1 && s->nin))
            continue;
        size_t room = MASTER_BATCH_MAX - s->nin;
        dvm_status st = dispatch_batch(m, s, &m->ready,
                                       room < batch ? room : batch);
        if (st)
            return st;
    }
    return DVM_OK;
}

/* ---- requests from RComps -------------------------------------------------- */

static dvm_status answer_page(master *m, rcomp_slot *s, const uint8_t *p,
                              size_t len)
{
    uint64_t v[2];
    if (msg_decode_u64s(p, len, v, 2) || v[0] < DISA_RB / DISA_PAGE ||
        v[0] >= DISA_ADDR_LIMIT / DISA_PAGE || v[1] > space_epoch(m->space))
        return rcomp_lost(m, s, "bad page request");
    m->st.page_requests++;
    uint64_t frame = space_lookup(m->space, v[0], v[1]);
    msg_buf b;
    mb_init(&b);
    msg_encode_u64s(&b, MSG_PAGE_RESP, &frame, 1);
    dvm_status st = conn_send(&s->page, &b);
    mb_free(&b);
    return st ? rcomp_lost(m, s, "page socket closed") : DVM_OK;
}

static dvm_status on_ctl_frame(master *m, rcomp_slot *s, uint32_t type,
                               const uint8_t *p, size_t len)
{
    uint64_t want;
    switch (type) {
    case MSG_RESULT:
        return master_handle_result(m, s, p, len);
    case MSG_READY:
        if (len || s->ready)
            return rcomp_lost(m, s, "bad ready message");
        s->ready = 1;
        return DVM_OK;
    case MSG_FRAME_REQ:
        if (msg_decode_u64s(p, len, &want, 1))
            return rcomp_lost(m, s, "bad frame request");
        return rcomp_grant(m, s, want);
    default:
        return rcomp_lost(m, s, "unexpected message");
    }
}

/* Drains every complete frame of one socket. */
static dvm_status on_readable(master *m, rcomp_slot *s, int is_page)
{
    pid_t pid = s->pid;
    for (;;) {
        uint32_t type;
        const uint8_t *p;
        size_t len;
        conn *c = is_page ? &s->page : &s->ctl;
        dvm_status st = conn_poll_frame(c, &type, &p, &len);
        if (st == DVM_EAGAIN)
            return DVM_OK;
        if (st)
            return rcomp_lost(m, s, st == DVM_ECLOSED ? "it exited"
                                                      : status_message());
        if (is_page)
            st = type == MSG_PAGE_REQ ? answer_page(m, s, p, len)
                                      : rcomp_lost(m, s, "bad page message");
        else
            st = on_ctl_frame(m, s, type, p, len);
        if (st || s->pid != pid)
            return st;
    }
}

/* ---- progress line --------------------------------------------------------- */

static void progress_tick(master *m, int final)
{
    if (!m->cfg.progress)
        return;
    uint64_t now = master_now_ns();
    if (!final && now - m->t0_ns < 1000000000ull)
        return;
    if (!final && now - m->last_progress_ns < 500000000ull)
        return;
    if (final && !m->progress_shown)
        return;
    double dt = (double)(now - m->last_progress_ns) / 1e9;
    double rate = dt > 0 ? (double)(m->st.commits - m->last_progress_commits)
                           / dt : 0;
    fprintf(stderr, "\r\033[Kdvm: %" PRIu64 " runners done, %zu queued, "
            "%zu running, %.0f commits/s%s", m->st.runners_committed +
            m->st.runners_faulted + m->st.runners_aborted,
            m->ready.n + m->exclusive.n, inflight_total(m), rate,
            final ? "\n" : "");
    m->progress_shown = 1;
    m->last_progress_ns = now;
    m->last_progress_commits = m->st.commits;
}

/* ---- the loop ---------------------------------------------------------------- */

static int quiescent(const master *m)
{
    return !m->ready.head && !m->exclusive.head && !m->running_exclusive &&
           inflight_total(m) == 0;
}

dvm_status master_run(master *m)
{
    uint64_t t_start = master_now_ns();
    dvm_status st = DVM_OK;
    struct epoll_event ev[64];
    while (!st) {
        uint64_t td = master_now_ns();
        st = dispatch(m);
        m->st.ns_dispatch += master_now_ns() - td;
        if (st || quiescent(m))
            break;
        int n = epoll_wait(m->epfd, ev, 64, m->cfg.progress ? 250 : -1);
        if (n < 0 && errno != EINTR)
            st = status_set_errno(DVM_ESYS, "epoll_wait");
        for (int i = 0; i < n && !st; i++) {
            rcomp_slot *s = &m->rc[ev[i].data.u64 >> 1];
            if (s->pid > 0)
                st = on_readable(m, s, (int)(ev[i].data.u64 & 1));
        }
        if (m->st.commits - m->last_gc_commits >= 256) {
            space_gc(m->space, master_oldest_snapshot(m));
            m->last_gc_commits = m->st.commits;
        }
        progress_tick(m, 0);
    }
    progress_tick(m, 1);
    m->st.watchers_dropped = watch_count(m->watchers);
    m->st.ns_run = master_now_ns() - t_start;
    space_gc(m->space, space_epoch(m->space));
    space_stats ss;
    space_get_stats(m->space, &ss);
    m->st.versions_freed = ss.freed;
    return st;
}

/* ---- create / destroy ------------------------------------------------------ */

static dvm_status master_setup(master *m)
{
    dvm_status st = store_create(MASTER_STORE_FRAMES, &m->store);
    if (!st)
        st = space_create(m->store, &m->space);
    if (!st)
        st = watch_index_create(&m->watchers);
    if (st)
        return st;
    m->frame_owner = mmap(NULL, (size_t)MASTER_STORE_FRAMES * 2,
                          PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m->frame_owner == MAP_FAILED) {
        m->frame_owner = NULL;
        return status_set_errno(DVM_ENOMEM, "mmap");
    }
    m->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (m->epfd < 0)
        return status_set_errno(DVM_ESYS, "epoll_create1");
    if (m->cfg.trace_path &&
        (st = trace_open(&m->trace, m->cfg.trace_path, m->t0_ns)))
        return st;
    trace_thread_name(&m->trace, 0, "master");
    if ((st = open_sinks(m)) || (st = master_load(m)) ||
        (st = master_image_fd(m)) || (st = first_runner(m)))
        return st;
    return rcomps_start(m);
}

dvm_status master_create(const master_config *cfg, master **out)
{
    master *m = dvm_calloc(1, sizeof *m);
    if (!m)
        return status_set(DVM_ENOMEM, "out of memory");
    m->cfg = *cfg;
    m->nrc = cfg->nrcomps;
    m->next_rid = 1;
    m->epfd = m->image_fd = -1;
    m->t0_ns = master_now_ns();
    mb_init(&m->out);
    dvm_status st = master_setup(m);
    if (st) {
        master_destroy(m);
        return st;
    }
    m->st.ns_setup = master_now_ns() - m->t0_ns;
    *out = m;
    return DVM_OK;
}

dvm_status master_read(const master *m, uint64_t addr, void *buf, size_t n)
{
    uint8_t *dst = buf;
    if (addr >= DISA_ADDR_LIMIT || n > DISA_ADDR_LIMIT - addr)
        return status_set(DVM_ERANGE, "address 0x%llx out of range",
                          (unsigned long long)addr);
    uint64_t epoch = space_epoch(m->space);
    while (n) {
        uint64_t page = addr / DISA_PAGE, off = addr % DISA_PAGE;
        size_t k = DISA_PAGE - off < n ? (size_t)(DISA_PAGE - off) : n;
        uint32_t f = addr >= DISA_RB ? space_lookup(m->space, page, epoch) : 0;
        if (f)
            memcpy(dst, store_frame(m->store, f) + off, k);
        else
            memset(dst, 0, k);
        dst += k;
        addr += k;
        n -= k;
    }
    return DVM_OK;
}

const master_stats *master_get_stats(const master *m)
{
    return &m->st;
}

void master_print_stats(const master *m)
{
    const master_stats *s = &m->st;
    fprintf(stderr,
            "dvm: stats: rcomps %d, engine %s\n"
            "  runners: run %" PRIu64 ", committed %" PRIu64 ", aborted %"
            PRIu64 ", faulted %" PRIu64 ", re-executed %" PRIu64
            ", re-run after lost rcomp %" PRIu64 ", run exclusively %" PRIu64
            "\n"
            "  watchers: created %" PRIu64 ", woken %" PRIu64 ", dropped %"
            PRIu64 "\n"
            "  commits %" PRIu64 ", conflicts %" PRIu64 "\n"
            "  pages: prefetched %" PRIu64 ", fetched on touch %" PRIu64
            ", written %" PRIu64 ", versions freed %" PRIu64 "\n"
            "  rcomps replaced %" PRIu64 ", system page signals %" PRIu64 "\n"
            "  time: setup %.3f ms, run %.3f ms (dispatch %.3f ms, commit "
            "%.3f ms)\n",
            m->nrc, m->cfg.engine, s->runners_run, s->runners_committed,
            s->runners_aborted, s->runners_faulted, s->reexecuted,
            s->rerun_lost, s->exclusive_runs, s->watchers_created,
            s->watchers_woken, s->watchers_dropped, s->commits, s->conflicts,
            s->pages_prefetched, s->pages_faulted, s->pages_written,
            s->versions_freed, s->rcomps_replaced, s->signals, s->ns_setup / 1e6,
            s->ns_run / 1e6, s->ns_dispatch / 1e6, s->ns_commit / 1e6);
}

static void warn_unbound(const master *m)
{
    for (size_t i = 1; i < m->nsinks; i++)
        if (m->sinks[i].fd < 0 && m->sinks[i].bytes)
            fprintf(stderr, "dvm: warning: %" PRIu64 " bytes written to "
                    "unbound channel '%s' were discarded (bind it with "
                    "--out %s=FILE)\n", m->sinks[i].bytes, m->sinks[i].name,
                    m->sinks[i].name);
}

void master_destroy(master *m)
{
    if (!m)
        return;
    rcomps_stop(m);
    warn_unbound(m);
    for (size_t i = 0; i < m->nsinks; i++)
        io_sink_close(&m->sinks[i]);
    dvm_free(m->sinks);
    if (trace_close(&m->trace))
        fprintf(stderr, "dvm: %s\n", status_message());
    rcb_queue_free(&m->ready);
    rcb_queue_free(&m->exclusive);
    while (m->watching) {
        rcb *w = m->watching;
        m->watching = w->wnext;
        rcb_free(w);
    }
    watch_index_destroy(m->watchers);
    if (m->space)
        space_destroy(m->space);
    if (m->store)
        store_destroy(m->store);
    if (m->frame_owner)
        munmap(m->frame_owner, (size_t)MASTER_STORE_FRAMES * 2);
    if (m->epfd >= 0)
        close(m->epfd);
    if (m->image_fd >= 0)
        close(m->image_fd);
    mb_free(&m->out);
    dvm_free(m);
}
