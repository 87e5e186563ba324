/*
 * rcomps.c -- the RComp processes of a single-host DVM (the scheduler
 * agent's job).
 *
 * Each RComp is `EXE __rcomp ...` (EXE: dvm-rcomp, or dvm itself where
 * dvm-rcomp is missing; util/exe.h) started with vfork + exec, so it begins
 * with a clean address space for its 2^46-byte window, and talks to the
 * master over two socketpairs: ctl (dispatch, results, frame grants) and
 * page (first-touch page requests from its fault handler thread, strictly
 * request/response).  The frame store and the program image are memfds it
 * inherits.
 *
 * An RComp that dies (kill -9, crash, protocol violation) loses nothing:
 * its in-flight runners never committed, so they go back to the head of
 * the ready queue unchanged (same rid, same attempt) and run elsewhere;
 * frames granted to it and not used by a processed commit return to the
 * store; a new RComp takes the slot.
 *
 * Runs.  A local RComp is started with --adopt: a runner's zero span of
 * RCOMPS_ADOPT_PAGES pages or more is written straight into frames
 * (src/rcomp/adopt.c), a run of consecutive frames reading as zeros that
 * it asks for with MSG_RUN_REQ.  Their frames are granted like others
 * (frame_owner), so a result may name them as any granted frame; after
 * the result, MSG_RUN_DONE gives back those no result named, and they are
 * punched (their bytes are the runner's) and go back to the store's runs
 * (store_release_run).  A lost RComp's runs go back the same way.
 *
 * Stacks chosen by the DVM (DISA 1.1) are granted like frames: an RComp
 * asks for a few blocks of one size at a time (MSG_STACK_REQ) and keeps
 * them, so that `newr` with sb = 0 seldom waits for the master.  A granted
 * block carries the RComp's owner tag in the stack allocator; a result
 * whose children use a chosen stack must name blocks granted to that RComp
 * (take_stacks), and their ownership passes to the runners (the commit
 * point frees them).  Blocks still granted to a lost RComp return to the
 * stack area.
 *
 * RComps never outlive the master.  Each asks the kernel, before exec, for
 * SIGKILL when its parent dies (PR_SET_PDEATHSIG), then checks that the
 * parent is still the master (it may have died before the request), so
 * even `kill -9` of the master alone takes them down.  And a master told
 * to stop (SIGTERM, SIGINT, SIGHUP) kills and reaps its RComps before it
 * dies of the same signal; the handler uses only async-signal-safe calls
 * and reads the slots' pids, which the master writes only outside it.
 *
 * Liveness: an RComp running a runner either sends something or uses CPU
 * time (runners make no system calls; a page request is answered at once).
 * So does one that is starting (exec, setup, until MSG_READY).  One that
 * does neither for the heartbeat bound -- stopped with SIGSTOP, or stuck --
 * would stall the run forever, so it is replaced like a dead one and its
 * runners run elsewhere (rcomps_check_alive).  The CPU time is
 * read from /proc/PID/stat, so no message and no thread of the RComp is
 * needed for it.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/jit.h"
#include "exec/jit_cache.h"
#include "isa/isa.h"
#include "sched/rcomps.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/spin.h"
#include "util/version.h"

#define RCOMP_SOCKBUF (8 << 20)
#define RCOMP_MAX_ARGS 64
#define RCOMPS_ADOPT_PAGES 4096 /* 16 MiB: smaller spans are copied (a
                                   run costs a round trip, an mmap and a
                                   page-table teardown) */

static void sock_tune(int fd)
{
    int sz = RCOMP_SOCKBUF;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
}

/* Registers fd in the master's epoll set with the slot's address and a tag
 * bit (0 ctl, 1 page) in the low bit of the pointer's index. */
static dvm_status epoll_watch(rcomp_set *rs, int fd, uint64_t key)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = key };
    if (epoll_ctl(rs->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return status_set_errno(DVM_ESYS, "epoll_ctl");
    return DVM_OK;
}

/* An RComp's argument vector, built before vfork (the child may not
 * allocate).  Strings are owned by the vector. */
typedef struct rcomp_args {
    char *v[RCOMP_MAX_ARGS + 1];
    int n;
    int oom;
} rcomp_args;

static void args_add(rcomp_args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void args_add(rcomp_args *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (a->n < RCOMP_MAX_ARGS && vasprintf(&s, fmt, ap) >= 0)
        a->v[a->n++] = s;
    else
        a->oom = 1;
    va_end(ap);
}

static void args_free(rcomp_args *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
}

/* The address of the program's channel called name (0 if none). */
static uint64_t channel_addr(const dvm_program *p, const char *name)
{
    const prog_channel *c = program_channel(p, name, strlen(name));
    return c ? c->addr : 0;
}

/* Builds `EXE __rcomp ...` number index with its socket ends ctl and
 * page. */
static dvm_status rcomp_argv(const rcomp_spawn_spec *sp, int index, int ctl,
                             int page, rcomp_args *a)
{
    memset(a, 0, sizeof *a);
    args_add(a, "%s", sp->rcomp_exe);
    args_add(a, "__rcomp");
    args_add(a, "--index");  args_add(a, "%d", index);
    args_add(a, "--ctl");    args_add(a, "%d", ctl);
    args_add(a, "--page");   args_add(a, "%d", page);
    args_add(a, "--store");  args_add(a, "%d", sp->store_fd);
    args_add(a, "--frames"); args_add(a, "%u", sp->nframes);
    args_add(a, "--image");  args_add(a, "%d", sp->image_fd);
    args_add(a, "--engine"); args_add(a, "%s", sp->engine);
    args_add(a, "--dvm-version"); args_add(a, "%s", DVM_VERSION);
    if (sp->jit_cache) {
        args_add(a, "--jit-cache");
        args_add(a, "%s", sp->jit_cache);
    }
    if (sp->input_window) {
        assert(sp->nin == 0 && sp->input_map);
        args_add(a, "--input-window");
        args_add(a, "%s", sp->input_window);
        args_add(a, "--input-map");
        args_add(a, "%s", sp->input_map);
    }
    if (sp->claim_fd > 0) {
        args_add(a, "--claim");
        args_add(a, "%d", sp->claim_fd);
    }
    if (sp->queue_fd > 0) {
        args_add(a, "--ctl-queue");
        args_add(a, "%d", sp->queue_fd);
    }
    if (sp->yield) {
        args_add(a, "--yield");
        args_add(a, "1");
    }
    if (sp->local_children) {
        args_add(a, "--local-children");
        args_add(a, "1");
    }
    if (sp->adopt_pages) {
        args_add(a, "--adopt");
        args_add(a, "%llu", (unsigned long long)sp->adopt_pages);
    }
    for (size_t i = 0; i < sp->nin; i++) {
        args_add(a, "--in");
        args_add(a, "0x%llx=%s", (unsigned long long)channel_addr(
                 sp->prog, sp->in[i].name), sp->in[i].path);
    }
    if (a->oom) {
        args_free(a);
        return status_set(DVM_ENOMEM, "RComp arguments");
    }
    return DVM_OK;
}

/* The set whose RComps a terminating signal takes down (one per master),
 * and the dispositions it replaced. */
static rcomp_set *volatile stop_set;
static const int stop_signals[] = { SIGTERM, SIGINT, SIGHUP };
static struct sigaction stop_saved[3];

/* Kills and reaps every RComp of stop_set, then dies of sig. */
static void on_stop_signal(int sig)
{
    rcomp_set *rs = stop_set;
    for (int i = 0; rs && rs->rc && i < rs->nrc; i++)
        if (rs->rc[i].pid > 0)
            kill(rs->rc[i].pid, SIGKILL);
    for (int i = 0; rs && rs->rc && i < rs->nrc; i++)
        if (rs->rc[i].pid > 0)
            while (waitpid(rs->rc[i].pid, NULL, 0) < 0 && errno == EINTR)
                ;
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Installs on_stop_signal for rs (a signal ignored when the master
 * started, as SIGHUP under nohup, stays ignored). */
static void stop_signals_install(rcomp_set *rs)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigfillset(&sa.sa_mask);
    stop_set = rs;
    for (size_t i = 0; i < 3; i++) {
        sigaction(stop_signals[i], NULL, &stop_saved[i]);
        if (stop_saved[i].sa_handler != SIG_IGN)
            sigaction(stop_signals[i], &sa, NULL);
    }
}

static void stop_signals_restore(void)
{
    for (size_t i = 0; i < 3; i++)
        sigaction(stop_signals[i], &stop_saved[i], NULL);
    stop_set = NULL;
}

/*
 * In the child between vfork and exec.  The child borrows the master's
 * memory and runs on its CPU while the master waits for the exec: no
 * copy of the master's page tables, no copy-on-write faults in the master
 * afterwards, and no wait for another CPU to pick the child up (a fork's
 * child waited ~4 ms for one on a VM, before it could exec).  So it writes
 * no memory of the master's -- only system calls on its own process,
 * async-signal-safe -- and never returns: execv, or _exit.  The stop
 * signals, blocked since before the vfork, act as before the master's
 * handlers (the child's handler table is its own copy); it dies with the
 * master (parent: the master's pid).
 */
static void rcomp_exec_child(const rcomp_spawn_spec *sp, int ctl, int page,
                             char **argv, pid_t parent, const sigset_t *mask)
{
    for (size_t i = 0; i < 3; i++)
        sigaction(stop_signals[i], &stop_saved[i], NULL);
    sigprocmask(SIG_SETMASK, mask, NULL);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(127);
    int keep[] = { ctl, page, sp->store_fd, sp->image_fd, sp->claim_fd,
                   sp->queue_fd };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (keep[i] > 0)
            fcntl(keep[i], F_SETFD, 0);
    execv(sp->rcomp_exe, argv);
    _exit(127);
}

dvm_status rcomp_process_start(const rcomp_spawn_spec *sp, int index,
                               pid_t *pid_out, int *ctl_out, int *page_out)
{
    int ctl[2], page[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0)
        return status_set_errno(DVM_ESYS, "socketpair");
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, page) < 0)
        goto err_ctl;
    sock_tune(ctl[0]);
    sock_tune(ctl[1]);
    rcomp_args args;
    dvm_status st = rcomp_argv(sp, index, ctl[1], page[1], &args);
    if (st)
        goto err_args;
    /* No stop signal may run the master's handler in the child. */
    sigset_t stops, mask;
    sigemptyset(&stops);
    for (size_t i = 0; i < 3; i++)
        sigaddset(&stops, stop_signals[i]);
    sigprocmask(SIG_BLOCK, &stops, &mask);
    pid_t parent = getpid(), pid = vfork();
    if (pid == 0)
        rcomp_exec_child(sp, ctl[1], page[1], args.v, parent, &mask);
    sigprocmask(SIG_SETMASK, &mask, NULL);
    args_free(&args);
    if (pid < 0) {
        st = status_set_errno(DVM_ESYS, "cannot start an RComp: vfork");
        goto err_args;
    }
    close(ctl[1]);
    close(page[1]);
    fcntl(ctl[0], F_SETFL, O_NONBLOCK);
    fcntl(page[0], F_SETFL, O_NONBLOCK);
    *pid_out = pid;
    *ctl_out = ctl[0];
    *page_out = page[0];
    return DVM_OK;
err_args:
    close(page[0]);
    close(page[1]);
    close(ctl[0]);
    close(ctl[1]);
    return st;
err_ctl:
    st = status_set_errno(DVM_ESYS, "cannot start an RComp: socketpair");
    close(ctl[0]);
    close(ctl[1]);
    return st;
}

static dvm_status rcomp_spawn(rcomp_set *rs, rcomp_slot *s)
{
    rcomp_spawn_spec sp = { rs->cfg->rcomp_exe, rs->cfg->engine,
                            store_fd(rs->cp->store),
                            store_max_frames(rs->cp->store), rs->image_fd,
                            rs->cfg->prog, rs->cfg->in, rs->cfg->nin,
                            RCOMPS_ADOPT_PAGES, rs->jit_cache, NULL, NULL,
                            rs->claims ? rs->claim_fd : 0, 0,
                            rs->cfg->nrcomps + 1 > spin_cpus(),
                            rs->cfg->local_children };
    pid_t pid;
    if (s->claim) {             /* a new process numbers from 0 */
        claim_reset(s->claim);
        s->claim_next = 0;
    }
    shmq *q;
    dvm_status st = shmq_create(SHMQ_CAP_DEFAULT, &sp.queue_fd, &q);
    if (st)
        return st;
    int ctl, page;
    st = rcomp_process_start(&sp, s->index, &pid, &ctl, &page);
    close(sp.queue_fd);         /* the RComp has its own now */
    if (st) {
        shmq_close(q);
        return st;
    }
    conn_init(&s->ctl, ctl);
    conn_attach_shmq(&s->ctl, q, 1);
    conn_init(&s->page, page);
    s->pid = pid;
    s->ready = 0;
    s->alive_ns = s->cpu_ticks = 0;     /* a new process: its own clock */
    s->keep_valid = 0;          /* a fresh window holds nothing */
    s->place = (place_rcomp){ 0 };      /* nor a speed yet */
    memset(s->recent, 0, sizeof s->recent);
    s->any_recent = 0;
    st = epoll_watch(rs, ctl, (uint64_t)s->index << 1);
    if (!st)
        st = epoll_watch(rs, page, (uint64_t)s->index << 1 | 1);
    return st;
}

/* Makes the directory rs's RComps share their translations in, when
 * they translate (engine jit, a translator here); without it each
 * translates alone, as is said. */
static void jit_cache_start(rcomp_set *rs)
{
    if (rs->cfg->remote || strcmp(rs->cfg->engine, "jit") ||
        !jit_available())
        return;
    if (jit_cache_dir_make(&rs->jit_cache))
        fprintf(stderr, "dvm: %s; each RComp translates alone\n",
                status_message());
}

dvm_status rcomps_start(rcomp_set *rs)
{
    assert(rs->cfg && rs->cp && rs->epfd >= 0 &&
           (rs->nrc > 0 || rs->cfg->remote));
    mb_init(&rs->out);
    rs->cap = rs->cfg->remote ? RCOMPS_SLOTS_MAX : rs->nrc;
    if (rs->nrc > rs->cap)
        return status_set(DVM_EINVAL, "too many RComps");
    rs->rc = dvm_calloc((size_t)rs->cap, sizeof *rs->rc);
    if (!rs->rc)
        return status_set(DVM_ENOMEM, "out of memory");
    stop_signals_install(rs);
    jit_cache_start(rs);
    rs->claim_fd = -1;
    rs->nclaims = rs->nrc;
    if (rs->nrc > 0 &&
        claim_boards_create(rs->nrc, &rs->claim_fd, &rs->claims)) {
        fprintf(stderr, "dvm: %s; runners sent to an RComp stay there\n",
                status_message());
        rs->claim_fd = -1;
        rs->claims = NULL;
    }
    for (int i = 0; i < rs->nrc; i++) {
        rcomp_slot *s = &rs->rc[i];
        s->index = i;
        s->claim = rs->claims ? &rs->claims[i] : NULL;
        conn_init(&s->ctl, -1);
        conn_init(&s->page, -1);
        dvm_status st = rcomp_spawn(rs, s);
        if (st)
            return st;
        char name[32];
        snprintf(name, sizeof name, "rcomp %d", i);
        trace_thread_name(rs->cp->trace, i + 1, name);
    }
    return DVM_OK;
}

/* The stack allocator's owner tag of what is granted to s. */
static uint32_t stack_owner(const rcomp_slot *s)
{
    return (uint32_t)s->index + 1;
}

/* Returns the frames of run r still granted to s to the store, punched,
 * in pieces of consecutive ones. */
static void release_run(rcomp_set *rs, const rcomp_slot *s, rcomp_run r)
{
    uint16_t owner = (uint16_t)(s->index + 1);
    uint32_t end = r.first + r.n;
    for (uint32_t f = r.first; f < end;) {
        uint32_t g = f;
        while (g < end && rs->frame_owner[g] == owner)
            rs->frame_owner[g++] = 0;
        if (g > f)
            store_release_run(rs->cp->store, f, g - f);
        while (g < end && rs->frame_owner[g] != owner)
            g++;
        f = g;
    }
}

/* Returns the frames still granted to s to the store. */
static void rcomp_reclaim_frames(rcomp_set *rs, rcomp_slot *s)
{
    for (size_t i = 0; i < s->ngranted; i++) {
        uint32_t f = s->granted[i];
        if (rs->frame_owner[f] == s->index + 1) {
            rs->frame_owner[f] = 0;
            store_release(rs->cp->store, f);
        }
    }
    s->ngranted = s->granted_live = 0;
    for (size_t i = 0; i < s->nruns; i++)
        release_run(rs, s, s->runs[i]);
    s->nruns = 0;
}

void rcomp_process_stop(int epfd, conn *ctl, conn *page, pid_t *pid)
{
    if (ctl->fd >= 0)
        epoll_ctl(epfd, EPOLL_CTL_DEL, ctl->fd, NULL);
    if (page->fd >= 0)
        epoll_ctl(epfd, EPOLL_CTL_DEL, page->fd, NULL);
    conn_close(ctl);
    conn_close(page);
    if (*pid > 0) {
        kill(*pid, SIGKILL);
        while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    *pid = 0;
}

/* Kills (if alive) and reaps the process of s and closes its conns. */
static void rcomp_reap(rcomp_set *rs, rcomp_slot *s)
{
    rcomp_process_stop(rs->epfd, &s->ctl, &s->page, &s->pid);
}

uint64_t rcomps_live(const rcomp_set *rs)
{
    uint64_t n = 0;
    for (int i = 0; i < rs->nrc; i++)
        n += rs->rc[i].remote ? !rs->rc[i].gone && !rs->rc[i].leaving
                              : rs->rc[i].pid > 0;
    return n;
}

/* Commits the system page's __nrcomp = live RComps (a signal, DISA.md
 * 8.3): a commit of the DVM's own, so watchers of it wake. */
static dvm_status signal_rcomps(rcomp_set *rs, uint64_t live)
{
    rs->cp->st->signals++;
    return commit_write(rs->cp, DISA_SYS_NRCOMP, &live, sizeof live);
}

/* Requeues s's in-flight runners at the head, keeping their order, and
 * takes back its frames and stacks. */
static void rcomp_give_back(rcomp_set *rs, rcomp_slot *s)
{
    for (size_t k = s->inflight.n; k > 0; k--)
        rcb_pool_requeue(rs->cp->pool, rcb_ring_at(&s->inflight, k - 1));
    s->inflight.n = s->inflight.head = 0;
    s->taking = 0;
    s->local_drop = 0;
    rcomp_reclaim_frames(rs, s);
    stacks_free_owner(rs->cp->stacks, stack_owner(s));
}

void rcomps_offer(rcomp_slot *s, rcb *r, uint64_t now_ns)
{
    if (s->inflight.n == 1)     /* it had nothing: its clock starts */
        s->progress_ns = now_ns;
    assert(rcb_ring_at(&s->inflight, s->inflight.n - 1) == r);
    assert(s->inflight.n == 1 || s->claim_next - rcb_ring_at(
               &s->inflight, 0)->claim_seq < CLAIM_SLOTS);   /* room */
    r->claim_seq = s->claim_next++;     /* a remote one's: as its node
                                           numbers it */
    r->stack_home = stack_owner(s);
    if (s->claim)
        claim_offer(s->claim, r->claim_seq);
}

size_t rcomps_claim_room(const rcomp_slot *s)
{
    if (s->inflight.n == 0)
        return RCB_RING_MAX;
    uint32_t used = s->claim_next -
                    rcb_ring_at(&s->inflight, 0)->claim_seq;
    return used >= CLAIM_SLOTS ? 0 : CLAIM_SLOTS - used;
}

/* s's newest runner in flight goes back to the head of the ready queue. */
static void requeue_newest(rcomp_set *rs, rcomp_slot *s)
{
    rcb_pool_requeue(rs->cp->pool, rcb_ring_pop_newest(&s->inflight));
}

/* k runners were taken back from s; none: not tried again at once. */
static void taken_back(rcomp_set *rs, rcomp_slot *s, size_t k)
{
    if (!k)
        s->take_back_ns = clock_now_ns() + RCOMPS_TAKE_BACK_PAUSE_NS;
    rs->cp->st->runners_taken_back += k;
}

size_t rcomps_take_back(rcomp_set *rs, rcomp_slot *s, size_t n)
{
    size_t k = 0;
    assert(!s->remote && s->claim);
    while (k < n && s->inflight.n > 1 &&
           claim_take(s->claim, rcb_ring_at(&s->inflight,
                                            s->inflight.n - 1)->claim_seq))
    {                           /* a started one ends it: so is every
                                   one before it */
        requeue_newest(rs, s);
        k++;
    }
    taken_back(rs, s, k);
    return k;
}

dvm_status rcomps_take_back_remote(rcomp_set *rs, rcomp_slot *s, size_t n)
{
    assert(s->remote && !s->taking && n > 0);
    uint64_t v = n;
    mb_reset(&rs->out);
    msg_encode_u64s(&rs->out, MSG_TAKE_BACK, &v, 1);
    s->taking = 1;
    return rcomp_send(rs, s);
}

/* MSG_GIVEN_BACK from remote slot s, the answer to its TAKE_BACK: the runners
 * it names must be the newest in flight there, newest first; they go
 * back to the ready queue.  Anything else: s is lost. */
static dvm_status on_given_back(rcomp_set *rs, rcomp_slot *s,
                                const uint8_t *p, size_t len)
{
    uint64_t rid[MSG_GIVEN_BACK_MAX];
    size_t k;
    if (!s->remote || !s->taking)
        return rcomp_lost(rs, s, "runners taken back unasked");
    if (msg_decode_given_back(p, len, rid, &k))
        return rcomp_lost(rs, s, status_message());
    s->taking = 0;
    for (size_t i = 0; i < k; i++) {
        if (s->inflight.n < 2 ||
            rcb_ring_at(&s->inflight, s->inflight.n - 1)->rid != rid[i])
            return rcomp_lost(rs, s, "taken back: not its newest runners");
        requeue_newest(rs, s);
    }
    taken_back(rs, s, k);
    return DVM_OK;
}

dvm_status rcomps_leave(rcomp_set *rs, int index)
{
    assert(index >= 0 && index < rs->nrc && rs->rc[index].remote);
    rcomp_slot *s = &rs->rc[index];
    if (s->gone || s->leaving)
        return DVM_OK;
    s->leaving = 1;
    s->ready = 0;
    return signal_rcomps(rs, rcomps_live(rs));
}

void rcomp_left(rcomp_set *rs, rcomp_slot *s)
{
    if (s->gone)
        return;
    assert(s->remote && s->leaving);
    rcomp_give_back(rs, s);
    s->gone = 1;
}

/* How many of slot index's results wait in rs's queue (rare: asked when
 * the slot is lost, so counted then rather than kept). */
static size_t results_waiting(const rcomp_set *rs, int index)
{
    size_t n = 0;
    for (const rcomp_waiting *w = rs->wait_head; w; w = w->next)
        n += w->index == index;
    return n;
}

dvm_status rcomp_lost(rcomp_set *rs, rcomp_slot *s, const char *why)
{
    if (rs->cfg->progress || getenv("DVM_DEBUG"))
        fprintf(stderr, "dvm: rcomp %d lost (%s); replacing it\n", s->index,
                why);
    rcomp_reap(rs, s);
    /* The oldest in-flight runner whose result has not come was the one
     * running.  If RComps keep dying under it, it is the cause: fault it
     * instead of killing RComps forever.  Those before it in the ring
     * had finished: their results came and wait to be committed (remote
     * ones behind a save, the stable epoch or a home's DHELD; results
     * come in the ring's order, so the slot's k waiting ones are its k
     * oldest), and their RComp's death (its node lost, its process
     * killed) is not their doing.  Counted against them, such waits
     * under churn -- a save fetching pages from holders that come and go
     * stops every commit for its round trip -- could fault a runner that
     * had done nothing wrong. */
    rcb_pool *pool = rs->cp->pool;
    size_t done = results_waiting(rs, s->index);
    rcb *running = done < s->inflight.n ? rcb_ring_at(&s->inflight, done)
                                        : NULL;
    if (running)
        rcb_touch(running);
    if (running && ++running->lost >= RCOMPS_LOST_LIMIT) {
        fprintf(rs->cp->diag, "dvm: runner %llu: fault at 0x%llx: its RComp died "
                "%u times while running it\n", (unsigned long long)running->rid,
                (unsigned long long)running->d.fi, running->lost);
        rs->cp->st->runners_faulted++;
        rcb_pool_done(pool, running);
        commit_runner_done(rs->cp, rcb_ring_take(&s->inflight, done));
    }
    rs->cp->st->rerun_lost += s->inflight.n;
    rcomp_give_back(rs, s);
    if (s->remote) {
        s->gone = 1;
        s->ready = 0;
        rs->cfg->remote->lost(rs->cfg->remote->arg, s->index);
        return signal_rcomps(rs, rcomps_live(rs));
    }
    if (++rs->respawns > RCOMPS_RESPAWN_MAX)
        return status_set(DVM_ESYS, "RComps keep dying (%d replaced); "
                          "giving up", rs->respawns);
    rs->cp->st->rcomps_replaced++;
    /* The DVM shrank and grows back: both are signals on the system page
     * (DISA.md 8.3), so watchers of __nrcomp wake. */
    dvm_status st = signal_rcomps(rs, rcomps_live(rs));
    if (!st)
        st = rcomp_spawn(rs, s);
    if (!st)
        st = signal_rcomps(rs, rcomps_live(rs));
    return st;
}

void rcomps_stop(rcomp_set *rs)
{
    if (stop_set == rs)
        stop_signals_restore();
    local_check_free(&rs->local);
    if (!rs->rc) {
        mb_free(&rs->out);
        return;
    }
    msg_buf b;
    mb_init(&b);
    msg_encode_u64s(&b, MSG_SHUTDOWN, NULL, 0);
    for (int i = 0; i < rs->nrc; i++) {
        rcomp_slot *s = &rs->rc[i];
        if (s->pid > 0 && s->ctl.q)     /* else its end of file says it */
            (void)conn_send(&s->ctl, &b);
        conn_close(&s->ctl);
        conn_close(&s->page);
        if (s->pid > 0)
            while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        s->pid = 0;
        /* A run that stopped on an error may leave runners in flight:
         * they are owned here and freed with the slot. */
        rcb *r;
        while ((r = rcb_ring_pop(&s->inflight)))
            rcb_free(r);
        dvm_free(s->granted);
        dvm_free(s->runs);
    }
    mb_free(&b);
    for (rcomp_waiting *w = rs->wait_head, *next; w; w = next) {
        next = w->next;
        dvm_free(w);
    }
    rs->wait_head = rs->wait_tail = NULL;
    rs->nwaiting = 0;
    if (rs->claims) {
        claim_boards_unmap(rs->claims, rs->nclaims);
        close(rs->claim_fd);
    }
    rs->claims = NULL;
    rs->claim_fd = -1;
    dvm_free(rs->rc);
    rs->rc = NULL;
    mb_free(&rs->out);
    jit_cache_dir_remove(rs->jit_cache);
    dvm_free(rs->jit_cache);
    rs->jit_cache = NULL;
}

/* Sends b to remote slot s (page channel when page is 1); a slot that
 * cannot take it is lost. */
static dvm_status remote_send(rcomp_set *rs, rcomp_slot *s, int page,
                              const msg_buf *b)
{
    const master_remote *r = rs->cfg->remote;
    if (s->gone)
        return DVM_OK;
    if (r->send(r->arg, s->index, page, b))
        return rcomp_lost(rs, s, status_message());
    return DVM_OK;
}

/* Waits until fd is writable, for at most ms milliseconds. */
dvm_status rcomp_send(rcomp_set *rs, rcomp_slot *s)
{
    const msg_buf *b = &rs->out;
    if (b->oom)
        return status_set(DVM_ENOMEM, "out of memory encoding a message");
    if (s->remote)
        return remote_send(rs, s, 0, b);
    /* A local RComp's queue never makes the master wait (it would stop
     * answering the others): what the queue cannot take waits in the
     * conn, and rcomps_on_queues moves it on as the RComp reads. */
    assert(s->ctl.q);
    dvm_status st = conn_send(&s->ctl, b);
    return st == DVM_EPROTO ? rcomp_lost(rs, s, status_message()) : st;
}

static dvm_status rcomp_grant(rcomp_set *rs, rcomp_slot *s, uint64_t want)
{
    if (want == 0 || want > RCOMPS_GRANT_MAX)
        want = want ? RCOMPS_GRANT_MAX : 1;
    uint32_t *g = dvm_grow(s->granted, &s->capgranted, s->ngranted + want,
                           sizeof *g);
    if (!g)
        return status_set(DVM_ENOMEM, "out of memory");
    s->granted = g;
    size_t first = s->ngranted;
    /* Versions collected before the grant, not only when the store is
     * full: what the last commits freed then goes out again instead of
     * frames never written, each of which costs its first writer a
     * fault that allocates and zeroes it (~3 us on a VM).  The periodic
     * collection (every MASTER_GC_COMMITS commits) lags the grants a
     * run starts with: the tree sum at -n 2 touched 620-1,560 distinct
     * frames without this, 550-790 with it, and the counter at -n 1 130
     * against 100 (docs/performance.md, "Frames collected before a
     * grant"; system/counter).  Local RComps only: a cluster master
     * collects at its own pace, after its before_gc hook. */
    if (!rs->cfg->remote && store_free_count(rs->cp->store) < want)
        space_gc(rs->cp->space, rcomps_oldest_snapshot(rs));
    while (s->ngranted - first < want) {
        uint32_t f;
        if (store_alloc(rs->cp->store, &f)) {
            space_gc(rs->cp->space, rcomps_oldest_snapshot(rs));
            if (store_alloc(rs->cp->store, &f))
                break;
        }
        rs->frame_owner[f] = (uint16_t)(s->index + 1);
        s->granted[s->ngranted++] = f;
    }
    if (s->ngranted == first)
        return status_set(DVM_ENOMEM, "the frame store is full (%u frames)",
                          store_max_frames(rs->cp->store));
    mb_reset(&rs->out);
    msg_encode_frames(&rs->out, s->granted + first, s->ngranted - first);
    return rcomp_send(rs, s);
}

/* Grants s a run of n zero frames (MSG_RUN; n = 0 when the store has no
 * such run free, even after a collection). */
static dvm_status grant_run(rcomp_set *rs, rcomp_slot *s, uint64_t n)
{
    if (n == 0 || n > store_max_frames(rs->cp->store))
        return rcomp_lost(rs, s, "bad run request");
    rcomp_run *v = dvm_grow(s->runs, &s->capruns, s->nruns + 1, sizeof *v);
    if (!v)
        return status_set(DVM_ENOMEM, "out of memory");
    s->runs = v;
    uint32_t first = 0;
    if (store_alloc_run(rs->cp->store, (uint32_t)n, &first)) {
        space_gc(rs->cp->space, rcomps_oldest_snapshot(rs));
        if (store_alloc_run(rs->cp->store, (uint32_t)n, &first))
            first = 0;
    }
    uint64_t reply[2] = { first, first ? n : 0 };
    if (first) {
        for (uint32_t f = first; f < first + n; f++)
            rs->frame_owner[f] = (uint16_t)(s->index + 1);
        s->runs[s->nruns++] = (rcomp_run){ first, (uint32_t)n };
    }
    mb_reset(&rs->out);
    msg_encode_u64s(&rs->out, MSG_RUN, reply, 2);
    return rcomp_send(rs, s);
}

/* MSG_RUN_DONE from s: the frames of the run that no result took go
 * back, punched. */
static dvm_status run_done(rcomp_set *rs, rcomp_slot *s, const uint8_t *p,
                           size_t len)
{
    uint64_t v[2];
    size_t i = 0;
    if (msg_decode_u64s(p, len, v, 2))
        return rcomp_lost(rs, s, "bad run done message");
    while (i < s->nruns && (s->runs[i].first != v[0] ||
                            s->runs[i].n != v[1]))
        i++;
    if (i == s->nruns)
        return rcomp_lost(rs, s, "bad run done message");
    release_run(rs, s, s->runs[i]);
    s->runs[i] = s->runs[--s->nruns];
    return DVM_OK;
}

/* ---- what RComps say ---------------------------------------------------- */

size_t rcomps_inflight(const rcomp_set *rs)
{
    size_t n = 0;
    for (int i = 0; i < rs->nrc; i++)
        n += rs->rc[i].inflight.n;
    return n;
}

uint64_t rcomps_oldest_snapshot(const rcomp_set *rs)
{
    /* A gated pool's next snapshots take its stable epoch, not the newest
     * (rcb.h). */
    const rcb_pool *p = rs->cp->pool;
    uint64_t oldest = p->gated ? p->snap : commit_epoch(rs->cp);
    for (int i = 0; i < rs->nrc; i++)
        oldest = rcb_ring_oldest_snap(&rs->rc[i].inflight, oldest);
    return oldest;
}

#define RCOMPS_GRANT_SLACK 256  /* grant-list entries before a compaction */

/* Takes frame f from s (ownership moves to the commit point) if it was
 * granted to s and not named before; returns 0 if not. */
static int take_frame(rcomp_set *rs, uint16_t owner, uint32_t f)
{
    if (f >= store_max_frames(rs->cp->store) || rs->frame_owner[f] != owner)
        return 0;
    rs->frame_owner[f] = 0;
    return 1;
}

/* Checks that every frame of the result -- its page changes' and its
 * output's -- was granted to s, each named once, and takes them back from
 * s's grant list (ownership moves to the commit point).  Nothing changes
 * on failure. */
static dvm_status take_frames(rcomp_set *rs, rcomp_slot *s, msg_result *res)
{
    size_t n = msg_result_nframes(res), i;
    if (n == 0)                 /* most results: nothing to take */
        return DVM_OK;
    uint16_t owner = (uint16_t)(s->index + 1);
    for (i = 0; i < n && take_frame(rs, owner, *msg_result_frame(res, i)); i++)
        ;
    if (i < n) {
        uint32_t bad = *msg_result_frame(res, i);
        while (i-- > 0)         /* undo: the RComp keeps its grants */
            rs->frame_owner[*msg_result_frame(res, i)] = owner;
        return status_set(DVM_EPROTO, "result names frame %u it does not "
                          "own", (unsigned)bad);
    }
    /* Used frames leave the grant list in one pass once it has doubled
     * since the last (plus a margin), not at every result: a pass per
     * result cost the length of the list per commit.  Entries left behind
     * are harmless: frame_owner says a frame is no longer s's (reclaim
     * checks it, and clears it as it goes, so an id granted to s again
     * and listed twice is released once). */
    if (s->ngranted < 2 * s->granted_live + RCOMPS_GRANT_SLACK)
        return DVM_OK;
    size_t w = 0;
    for (i = 0; i < s->ngranted; i++)
        if (rs->frame_owner[s->granted[i]] == owner)
            s->granted[w++] = s->granted[i];
    s->ngranted = s->granted_live = w;
    return DVM_OK;
}

/* The frames take_frames took go back to the store: the result they came
 * with is refused after all. */
static void release_result_frames(rcomp_set *rs, msg_result *res)
{
    for (size_t i = 0, n = msg_result_nframes(res); i < n; i++)
        store_release(rs->cp->store, *msg_result_frame(res, i));
}

/* Checks that every output of the result goes to a channel of the
 * program. */
static dvm_status check_outputs(const rcomp_set *rs, const msg_result *res)
{
    for (uint32_t o = 0; o < res->nout; o++)
        if (res->out[o].chan >= rs->cp->nsinks)
            return status_set(DVM_EPROTO, "result writes to unknown "
                              "channel %u", (unsigned)res->out[o].chan);
    return DVM_OK;
}

/* Checks that every page the result changes as implied by its frame
 * (diff.h) reads as zeros at the runner's snapshot: only then are the
 * frame's nonzero bytes the bytes it changed. */
static dvm_status check_implied(const rcomp_set *rs, const msg_result *res)
{
    for (uint32_t i = 0; i < res->nchanges; i++) {
        const mem_change *c = &res->changes[i];
        if (c->nruns == DIFF_IMPLIED &&
            space_lookup(rs->cp->space, c->page, res->snap))
            return status_set(DVM_EPROTO, "result changes page 0x%llx as "
                              "a zero page, which it is not at snapshot "
                              "%llu", (unsigned long long)c->page,
                              (unsigned long long)res->snap);
    }
    return DVM_OK;
}

/* Checks that every chosen stack of the result's children was granted to
 * s and passes it to the runners (the commit point frees it).  Nothing
 * changes on failure. */
static dvm_status take_stacks(rcomp_set *rs, rcomp_slot *s,
                              const msg_result *res)
{
    uint32_t i;
    for (i = 0; i < res->nkids; i++) {
        const runner_desc *k = &res->kids[i];
        if (!(k->flags & RUNNER_STACK_CHOSEN))
            continue;
        if (!stacks_owned(rs->cp->stacks, k->sb, runner_stack_order(k->ss),
                          stack_owner(s)))
            break;
        stacks_set_owner(rs->cp->stacks, k->sb, STACKS_RUNNER);
    }
    if (i == res->nkids)
        return DVM_OK;
    uint64_t bad = res->kids[i].sb;
    while (i-- > 0)             /* undo: the RComp keeps its grants */
        if (res->kids[i].flags & RUNNER_STACK_CHOSEN)
            stacks_set_owner(rs->cp->stacks, res->kids[i].sb, stack_owner(s));
    return status_set(DVM_EPROTO, "result names stack 0x%llx it was not "
                      "granted", (unsigned long long)bad);
}

/* Grants s up to count blocks of 2^order pages of the stack area; none
 * when the area has no such range free (the RComp faults its creator). */
static dvm_status grant_stacks(rcomp_set *rs, rcomp_slot *s, unsigned order,
                               size_t count)
{
    uint64_t base[MSG_STACKS_MAX];
    size_t n = 0;
    assert(count <= MSG_STACKS_MAX);
    stacks_reclaim(rs->cp->stacks, rcomps_oldest_snapshot(rs));
    while (n < count && !stacks_alloc(rs->cp->stacks, order, stack_owner(s),
                                      &base[n]))
        n++;
    rs->cp->st->stacks_granted += n;
    mb_reset(&rs->out);
    msg_encode_stacks(&rs->out, order, base, n);
    return rcomp_send(rs, s);
}

static const char *const exit_names[] = { "commit", "abort", "fault" };

/* ---- children started where their creator ran ---------------------------
 * An RComp may run one child of a runner it committed at once, on the
 * creator's snapshot with the creator's changes on top (sched/local.h);
 * the creator's result names it (msg_result.local) and the child's result
 * comes next on the same queue.  Processing the creator's commit makes the
 * child's record (commit_point.local_kid) and puts it at the head of the
 * slot's ring, where that next result finds it; if the creator did not
 * commit, the child never exists and its result is dropped
 * (local_drop).  A child's result is kept when its notes pass the check
 * at the creator's commit epoch: it then counts as a result on that
 * snapshot, installed by merging its changed bytes onto the newest
 * versions (its frames were made on the older one, msg_result.base).
 * Otherwise it goes back to the ready queue as if never run. */

/* A checked result that is not kept: its frames and stacks go back (after
 * the checks that they were s's); a child it started at once is dropped
 * in turn. */
static void local_discard(rcomp_set *rs, rcomp_slot *s, msg_result *res)
{
    release_result_frames(rs, res);
    commit_free_kid_stacks(rs->cp, res);
    s->local_drop = res->local != 0;
    s->progress_ns = clock_now_ns();
}

/* The result of a child started at once whose creator did not commit:
 * its frames and stacks must be s's, and go back. */
static dvm_status local_dropped(rcomp_set *rs, rcomp_slot *s,
                                msg_result *res)
{
    if (res->snap > commit_epoch(rs->cp) || take_frames(rs, s, res))
        return rcomp_lost(rs, s, "bad result of a dropped child");
    if (take_stacks(rs, s, res)) {
        release_result_frames(rs, res);
        return rcomp_lost(rs, s, status_message());
    }
    rs->cp->st->local_dropped++;
    local_discard(rs, s, res);
    return DVM_OK;
}

/* r's local result res, which passed the transport's checks: kept (it
 * becomes a result at r's creator's commit, returns 1) or run again
 * (returns 0, r back in the ready queue). */
static int local_keep(rcomp_set *rs, rcb *r, msg_result *res)
{
    local_context ctx = { r->d.sb, r->d.ss, r->rid, r->d.fi, 0 };
    int ok = !(res->flags & MSG_RESULT_UNCHECKED) &&
             local_valid(&rs->local, rs->cp->space, rs->cp->store, &ctx,
                         r->local_epoch, res->notes, res->nnotes) == 1;
    r->local = 0;
    if (!ok) {
        rs->cp->st->local_rerun++;
        rcb_pool_requeue(rs->cp->pool, r);
        return 0;
    }
    rs->cp->st->local_kept++;
    res->rid = r->rid;          /* numbered by the master, after it ran */
    res->base = res->snap;
    res->snap = r->snap = r->local_epoch;
    return 1;
}

/* After res's commit: the child its RComp started at once, if the commit
 * admitted it, goes to the head of s's ring; else its result is dropped. */
static void local_place(rcomp_set *rs, rcomp_slot *s, const msg_result *res,
                        uint32_t claim_seq)
{
    rcb *k = rs->cp->local_kid;
    rs->cp->local_kid = NULL;
    if (!k) {
        s->local_drop = 1;
        return;
    }
    k->local = 1;
    k->local_epoch = commit_epoch(rs->cp);
    k->snap = res->base ? res->base : res->snap;
    k->attempt = 0;
    k->claim_seq = claim_seq;
    k->stack_home = stack_owner(s);
    rcb_ring_push_front(&s->inflight, k);
    rs->cp->st->local_started++;
}

/* A result from s: it must answer the oldest runner in flight there (same
 * run id, snapshot and attempt) and name only frames granted to s; then it
 * goes to the commit point.  Anything else: s is lost, and the runner it
 * named (if it was s's) runs again unchanged. */
static dvm_status on_result(rcomp_set *rs, rcomp_slot *s, const uint8_t *p,
                            size_t len)
{
    msg_result res;
    if (msg_decode_result(p, len, &res))
        return rcomp_lost(rs, s, status_message());
    int local = !!(res.flags & MSG_RESULT_LOCAL);
    if (s->remote && (local || res.local)) {    /* nodes never start them */
        msg_result_free(&res);
        return rcomp_lost(rs, s, "a child started at once on a node");
    }
    if (local && s->local_drop) {
        dvm_status st = local_dropped(rs, s, &res);
        msg_result_free(&res);
        return st;
    }
    if (s->local_drop) {        /* it named a child it then did not run */
        msg_result_free(&res);
        return rcomp_lost(rs, s, "expected the result of the child it "
                          "started");
    }
    rcb *head = s->inflight.n ? rcb_ring_at(&s->inflight, 0) : NULL;
    uint32_t claim_seq = head ? head->claim_seq : 0;
    rcb *r = local ? (head && head->local ? rcb_ring_pop(&s->inflight) : NULL)
                   : rcb_ring_pop_rid(&s->inflight, res.rid);
    const char *why = NULL;
    if (!r)
        why = "result for a runner it was not running";
    else if (res.snap != r->snap || res.attempt != r->attempt ||
             (!local && r->local))
        why = "result for another attempt of the runner";
    else if (check_outputs(rs, &res) || check_implied(rs, &res) ||
             take_frames(rs, s, &res))
        why = status_message();
    else if (take_stacks(rs, s, &res)) {
        why = status_message();
        release_result_frames(rs, &res);
    }
    if (why) {
        if (r)
            rcb_pool_requeue(rs->cp->pool, r);
        dvm_status st = rcomp_lost(rs, s, why);
        msg_result_free(&res);
        return st;
    }
    if (local && !local_keep(rs, r, &res)) {
        local_discard(rs, s, &res);
        msg_result_free(&res);
        return DVM_OK;
    }
    s->progress_ns = clock_now_ns();
    master_stats *st = rs->cp->st;
    st->runners_run++;
    place_note(&s->place, s->index, &rs->place, r->d.fi, res.t_start_ns,
               res.t_end_ns, s->inflight.n > 0);
    st->pages_prefetched += res.pages_prefetched;
    st->pages_faulted += res.pages_faulted;
    trace_runner(rs->cp->trace, s->index + 1, r->rid, r->attempt,
                 res.t_start_ns, res.t_end_ns, exit_names[res.exit]);
    if (r->attempt == 0 && r->ready_ns)     /* made ready -> first start */
        trace_flow(rs->cp->trace, r->rid, r->ready_ns, s->index + 1,
                   res.t_start_ns);
    uint64_t t = clock_now_ns();
    uint64_t t_dispatch = r->t_dispatch, conflicts = st->conflicts;
    uint64_t e0 = commit_epoch(rs->cp);
    dvm_status rc = commit_result(rs->cp, r, &res);
    if (res.local)
        local_place(rs, s, &res, claim_seq);
    st->ns_commit += clock_now_ns() - t;
    if (!rc && s->remote && rs->cfg->remote->committed &&
        commit_epoch(rs->cp) == e0 + 1)
        rs->cfg->remote->committed(rs->cfg->remote->arg, s->index, &res,
                                   e0 + 1);
    observe_result(rs->cp->ob, s->index, &res, t_dispatch,
                   st->conflicts != conflicts);
    msg_result_free(&res);
    return rc;
}

/* A first-touch page request: the frame of the page at the epoch. */
static dvm_status answer_page(rcomp_set *rs, rcomp_slot *s, const uint8_t *p,
                              size_t len)
{
    uint64_t v[2];
    if (msg_decode_u64s(p, len, v, 2) || v[0] < DISA_RB / DISA_PAGE ||
        v[0] >= DISA_ADDR_LIMIT / DISA_PAGE || v[1] > commit_epoch(rs->cp))
        return rcomp_lost(rs, s, "bad page request");
    rs->cp->st->page_requests++;
    uint64_t t0 = observe_clock(rs->cp->ob);
    uint64_t frame = space_lookup(rs->cp->space, v[0], v[1]);
    msg_buf b;
    mb_init(&b);
    msg_encode_u64s(&b, MSG_PAGE_RESP, &frame, 1);
    if (s->remote) {
        dvm_status rst = b.oom ? status_set(DVM_ENOMEM, "out of memory")
                               : remote_send(rs, s, 1, &b);
        mb_free(&b);
        return rst;
    }
    dvm_status st = conn_send(&s->page, &b);
    mb_free(&b);
    observe_page(rs->cp->ob, s->index, t0);
    return st ? rcomp_lost(rs, s, "page socket closed") : DVM_OK;
}

static dvm_status on_ctl_frame(rcomp_set *rs, rcomp_slot *s, uint32_t type,
                               const uint8_t *p, size_t len)
{
    uint64_t want;
    unsigned order;
    size_t count;
    switch (type) {
    case MSG_RESULT:
        return on_result(rs, s, p, len);
    case MSG_READY:
        if (len || s->ready)
            return rcomp_lost(rs, s, "bad ready message");
        s->ready = !s->leaving;
        return DVM_OK;
    case MSG_FRAME_REQ:
        if (msg_decode_u64s(p, len, &want, 1))
            return rcomp_lost(rs, s, "bad frame request");
        return rcomp_grant(rs, s, want);
    case MSG_STACK_REQ:
        if (msg_decode_stack_req(p, len, &order, &count))
            return rcomp_lost(rs, s, status_message());
        return grant_stacks(rs, s, order, count);
    case MSG_RUN_REQ:
        if (msg_decode_u64s(p, len, &want, 1))
            return rcomp_lost(rs, s, "bad run request");
        return grant_run(rs, s, want);
    case MSG_RUN_DONE:
        return run_done(rs, s, p, len);
    case MSG_GIVEN_BACK:
        return on_given_back(rs, s, p, len);
    default:
        return rcomp_lost(rs, s, "unexpected message");
    }
}

dvm_status rcomps_add_remote(rcomp_set *rs, int *index)
{
    assert(rs->cfg->remote);
    if (rs->nrc == rs->cap)
        return status_set(DVM_ENOMEM, "too many RComps (%d)", rs->cap);
    rcomp_slot *s = &rs->rc[rs->nrc];
    memset(s, 0, sizeof *s);
    s->index = rs->nrc++;
    s->remote = 1;
    conn_init(&s->ctl, -1);
    conn_init(&s->page, -1);
    char name[32];
    snprintf(name, sizeof name, "rcomp %d", s->index);
    trace_thread_name(rs->cp->trace, s->index + 1, name);
    *index = s->index;
    return signal_rcomps(rs, rcomps_live(rs));
}

/* 1 when remote results may be committed now (master_remote.may_commit). */
static int may_commit(const rcomp_set *rs)
{
    const master_remote *r = rs->cfg->remote;
    return !r->may_commit || r->may_commit(r->arg);
}

/* Keeps remote result p of slot index until it may be committed. */
static dvm_status result_wait(rcomp_set *rs, int index, const uint8_t *p,
                              size_t len)
{
    rcomp_waiting *w = dvm_malloc(sizeof *w + len);
    if (!w)
        return status_set(DVM_ENOMEM, "out of memory");
    w->next = NULL;
    w->index = index;
    w->len = len;
    memcpy(w->p, p, len);
    if (rs->wait_tail)
        rs->wait_tail->next = w;
    else
        rs->wait_head = w;
    rs->wait_tail = w;
    rs->nwaiting++;
    return DVM_OK;
}

/* The oldest waiting result, taken out of the queue (the caller frees). */
static rcomp_waiting *result_next(rcomp_set *rs)
{
    rcomp_waiting *w = rs->wait_head;
    rs->wait_head = w->next;
    if (!rs->wait_head)
        rs->wait_tail = NULL;
    rs->nwaiting--;
    return w;
}

/* 1 when remote result p of slot index may be committed as far as
 * master_remote.result_gate goes (drop: it is dropped instead). */
static int gate(const rcomp_set *rs, int index, const uint8_t *p, size_t len,
                int drop)
{
    const master_remote *r = rs->cfg->remote;
    return !r->result_gate || r->result_gate(r->arg, index, p, len, drop);
}

dvm_status rcomps_commit_waiting(rcomp_set *rs)
{
    dvm_status st = DVM_OK;
    while (!st && rs->wait_head) {
        rcomp_waiting *w = rs->wait_head;
        int gone = rs->rc[w->index].gone;
        if (!gone && (!may_commit(rs) || !gate(rs, w->index, w->p, w->len, 0)))
            break;
        w = result_next(rs);
        rcomp_slot *s = &rs->rc[w->index];
        if (gone)
            (void)gate(rs, w->index, w->p, w->len, 1);
        else
            st = on_ctl_frame(rs, s, MSG_RESULT, w->p, w->len);
        dvm_free(w);
    }
    return st;
}

dvm_status rcomps_on_remote(rcomp_set *rs, int index, int page, uint32_t type,
                            const uint8_t *p, size_t len)
{
    assert(index >= 0 && index < rs->nrc && rs->rc[index].remote);
    rcomp_slot *s = &rs->rc[index];
    if (s->gone)
        return DVM_OK;
    if (page)
        return type == MSG_PAGE_REQ ? answer_page(rs, s, p, len)
                                    : rcomp_lost(rs, s, "bad page message");
    if (type == MSG_RESULT && (rs->wait_head || !may_commit(rs) ||
                               !gate(rs, index, p, len, 0)))
        return result_wait(rs, index, p, len);
    return on_ctl_frame(rs, s, type, p, len);
}

const rcb *rcomps_inflight_runner(const rcomp_set *rs, int index,
                                  uint64_t rid)
{
    assert(index >= 0 && index < rs->nrc);
    return rcb_ring_find(&rs->rc[index].inflight, rid);
}

int rcomps_frame_granted(const rcomp_set *rs, int index, uint32_t f)
{
    return f > 0 && f < store_max_frames(rs->cp->store) &&
           rs->frame_owner[f] == index + 1;
}

/* Handles the whole frames of slot s's ctl (page: its page) channel: the
 * first through conn_poll_frame when poll is set (the socket is
 * readable), the rest as buffered or queued. */
static dvm_status slot_frames(rcomp_set *rs, rcomp_slot *s, int is_page,
                              int poll)
{
    pid_t pid = s->pid;
    s->alive_ns = clock_now_ns();
    /* One read per wake-up: the first frame is read, the rest of what
     * that read brought is drained from the buffer.  Another read would
     * mostly find nothing (EAGAIN, a wasted system call per wake-up);
     * bytes that arrive meanwhile keep the fd readable, and epoll (level
     * triggered) wakes the loop for them. */
    for (int first = poll;; first = 0) {
        uint32_t type;
        const uint8_t *p;
        size_t len;
        conn *c = is_page ? &s->page : &s->ctl;
        dvm_status st = first ? conn_poll_frame(c, &type, &p, &len)
                              : conn_take_frame(c, &type, &p, &len);
        if (st == DVM_EAGAIN)
            return DVM_OK;
        if (st)
            return rcomp_lost(rs, s, st == DVM_ECLOSED ? "it exited"
                                                       : status_message());
        if (is_page)
            st = type == MSG_PAGE_REQ ? answer_page(rs, s, p, len)
                                      : rcomp_lost(rs, s, "bad page message");
        else
            st = on_ctl_frame(rs, s, type, p, len);
        if (st || s->pid != pid)
            return st;
    }
}

dvm_status rcomps_on_readable(rcomp_set *rs, uint64_t key)
{
    assert((key >> 1) < (uint64_t)rs->nrc);
    rcomp_slot *s = &rs->rc[key >> 1];
    if (s->pid <= 0)
        return DVM_OK;
    return slot_frames(rs, s, (int)(key & 1), 1);
}

dvm_status rcomps_on_queues(rcomp_set *rs)
{
    for (int i = 0; i < rs->nrc; i++) {
        rcomp_slot *s = &rs->rc[i];
        if (s->pid <= 0 || !conn_ready(&s->ctl))
            continue;
        dvm_status st = conn_flush(&s->ctl);
        st = st ? rcomp_lost(rs, s, status_message())
                : slot_frames(rs, s, 0, 0);
        if (st)
            return st;
    }
    return DVM_OK;
}

/* conn_group's at: the ctl conn of slot i while it has a process. */
static conn *slot_ctl(void *arg, int i)
{
    rcomp_set *rs = arg;
    return rs->rc[i].pid > 0 ? &rs->rc[i].ctl : NULL;
}

static int slot_count(void *arg)
{
    return ((rcomp_set *)arg)->nrc;
}

spin_mem rcomps_queues(rcomp_set *rs)
{
    rs->queues = (conn_group){ slot_ctl, slot_count, rs };
    return (spin_mem){ conn_group_ready, conn_group_sleep, conn_group_awake,
                       &rs->queues };
}

/* Reads the state letter and user + system clock ticks of process pid;
 * returns 0, or -1 when it cannot be read. */
static int proc_cpu(pid_t pid, char *state, uint64_t *ticks)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long long ut, st;
    /* After "pid (comm)": state, then 10 fields, then utime, stime. */
    if (!p || sscanf(p + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
                     "%llu %llu", state, &ut, &st) != 3)
        return -1;
    *ticks = ut + st;
    return 0;
}

/* True when slot s is starting or has runners in flight, and has shown
 * no sign of life within bound_ns of now; refreshes its sign of life
 * otherwise. */
static int rcomp_silent(rcomp_slot *s, uint64_t now, uint64_t bound_ns)
{
    char state;
    uint64_t ticks;
    if (s->ready && s->inflight.n == 0) {   /* idle: the clock starts with
                                             * work */
        s->alive_ns = 0;
        return 0;
    }
    if (s->alive_ns == 0)
        s->alive_ns = now;
    if (proc_cpu(s->pid, &state, &ticks) == 0 && state != 'T' &&
        state != 't' && ticks != s->cpu_ticks) {
        s->cpu_ticks = ticks;
        s->alive_ns = now;
    }
    return now - s->alive_ns > bound_ns;
}

dvm_status rcomps_check_alive(rcomp_set *rs, uint64_t now_ns)
{
    if (now_ns - rs->checked_ns < 500000000ull)
        return DVM_OK;
    rs->checked_ns = now_ns;
    int secs = rs->cfg->heartbeat_s ? rs->cfg->heartbeat_s
                                    : MASTER_HEARTBEAT_S;
    for (int i = 0; i < rs->nrc; i++) {
        rcomp_slot *s = &rs->rc[i];
        if (s->pid <= 0 ||
            !rcomp_silent(s, now_ns, (uint64_t)secs * 1000000000ull))
            continue;
        fprintf(stderr, "dvm: warning: rcomp %d showed no sign of life for "
                "%d s while %s (stopped?); replacing it\n",
                s->index, secs, s->ready ? "running" : "starting");
        dvm_status st = rcomp_lost(rs, s, "no sign of life");
        if (st)
            return st;
    }
    return DVM_OK;
}

void rcomps_in_flight(const rcomp_set *rs, int *local, int *remote)
{
    int l = 0, r = 0;
    for (int i = 0; i < rs->nrc; i++)
        if (rs->rc[i].inflight.n) {
            if (rs->rc[i].remote)
                r++;
            else
                l++;
        }
    *local = l;
    *remote = r;
}

int rcomps_busy(const rcomp_set *rs)
{
    for (int i = 0; i < rs->nrc; i++)
        if (rs->rc[i].pid > 0 && (!rs->rc[i].ready || rs->rc[i].inflight.n))
            return 1;
    return 0;
}
