/*
 * rcomps.c -- the RComp processes of a single-host DVM (the scheduler
 * agent's job).
 *
 * Each RComp is `dvm __rcomp ...` started with fork + exec, so it begins
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
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched/master_int.h"
#include "util/alloc.h"

#define RCOMP_SOCKBUF (8 << 20)
#define RCOMP_MAX_ARGS 64

static void sock_tune(int fd)
{
    int sz = RCOMP_SOCKBUF;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
}

/* Registers fd in the master's epoll set with the slot's address and a tag
 * bit (0 ctl, 1 page) in the low bit of the pointer's index. */
static dvm_status epoll_watch(master *m, int fd, uint64_t key)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = key };
    if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return status_set_errno(DVM_ESYS, "epoll_ctl");
    return DVM_OK;
}

/* An RComp's argument vector, built before fork (the child may not
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
    for (size_t c = 0; c < p->nchans; c++)
        if (!strcmp(p->chans[c].name, name))
            return p->chans[c].addr;
    return 0;
}

/* Builds `dvm __rcomp ...` for slot s with its socket ends ctl and page. */
static dvm_status rcomp_argv(master *m, rcomp_slot *s, int ctl, int page,
                             rcomp_args *a)
{
    memset(a, 0, sizeof *a);
    args_add(a, "%s", m->cfg.self_exe);
    args_add(a, "__rcomp");
    args_add(a, "--index");  args_add(a, "%d", s->index);
    args_add(a, "--ctl");    args_add(a, "%d", ctl);
    args_add(a, "--page");   args_add(a, "%d", page);
    args_add(a, "--store");  args_add(a, "%d", store_fd(m->store));
    args_add(a, "--frames"); args_add(a, "%u", store_max_frames(m->store));
    args_add(a, "--image");  args_add(a, "%d", m->image_fd);
    args_add(a, "--engine"); args_add(a, "%s", m->cfg.engine);
    for (size_t i = 0; i < m->cfg.nin; i++) {
        args_add(a, "--in");
        args_add(a, "0x%llx=%s", (unsigned long long)channel_addr(
                 m->cfg.prog, m->cfg.in[i].name), m->cfg.in[i].path);
    }
    if (a->oom) {
        args_free(a);
        return status_set(DVM_ENOMEM, "RComp arguments");
    }
    return DVM_OK;
}

/* In the child between fork and exec: only async-signal-safe calls. */
static void rcomp_exec_child(master *m, int ctl, int page, char **argv)
{
    int keep[] = { ctl, page, store_fd(m->store), m->image_fd };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        fcntl(keep[i], F_SETFD, 0);
    execv(m->cfg.self_exe, argv);
    _exit(127);
}

dvm_status rcomp_spawn(master *m, rcomp_slot *s)
{
    int ctl[2], page[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0)
        return status_set_errno(DVM_ESYS, "socketpair");
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, page) < 0)
        goto err_ctl;
    sock_tune(ctl[0]);
    sock_tune(ctl[1]);
    rcomp_args args;
    dvm_status st = rcomp_argv(m, s, ctl[1], page[1], &args);
    if (st)
        goto err_args;
    pid_t pid = fork();
    if (pid == 0)
        rcomp_exec_child(m, ctl[1], page[1], args.v);
    args_free(&args);
    if (pid < 0) {
        st = status_set_errno(DVM_ESYS, "cannot start an RComp: fork");
        goto err_args;
    }
    close(ctl[1]);
    close(page[1]);
    fcntl(ctl[0], F_SETFL, O_NONBLOCK);
    fcntl(page[0], F_SETFL, O_NONBLOCK);
    conn_init(&s->ctl, ctl[0]);
    conn_init(&s->page, page[0]);
    s->pid = pid;
    s->ready = 0;
    st = epoll_watch(m, ctl[0], (uint64_t)s->index << 1);
    if (!st)
        st = epoll_watch(m, page[0], (uint64_t)s->index << 1 | 1);
    return st;
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

dvm_status rcomps_start(master *m)
{
    m->rc = dvm_calloc((size_t)m->nrc, sizeof *m->rc);
    if (!m->rc)
        return status_set(DVM_ENOMEM, "out of memory");
    for (int i = 0; i < m->nrc; i++) {
        rcomp_slot *s = &m->rc[i];
        s->index = i;
        s->inflight = dvm_calloc(MASTER_BATCH_MAX, sizeof *s->inflight);
        if (!s->inflight)
            return status_set(DVM_ENOMEM, "out of memory");
        conn_init(&s->ctl, -1);
        conn_init(&s->page, -1);
        dvm_status st = rcomp_spawn(m, s);
        if (st)
            return st;
        char name[32];
        snprintf(name, sizeof name, "rcomp %d", i);
        trace_thread_name(&m->trace, i + 1, name);
    }
    return DVM_OK;
}

/* Returns the frames still granted to s to the store. */
static void rcomp_reclaim_frames(master *m, rcomp_slot *s)
{
    for (size_t i = 0; i < s->ngranted; i++) {
        uint32_t f = s->granted[i];
        if (m->frame_owner[f] == s->index + 1) {
            m->frame_owner[f] = 0;
            store_release(m->store, f);
        }
    }
    s->ngranted = 0;
}

/* Kills (if alive) and reaps the process of s and closes its conns. */
static void rcomp_reap(master *m, rcomp_slot *s)
{
    if (s->ctl.fd >= 0)
        epoll_ctl(m->epfd, EPOLL_CTL_DEL, s->ctl.fd, NULL);
    if (s->page.fd >= 0)
        epoll_ctl(m->epfd, EPOLL_CTL_DEL, s->page.fd, NULL);
    conn_close(&s->ctl);
    conn_close(&s->page);
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    s->pid = 0;
}

dvm_status rcomp_lost(master *m, rcomp_slot *s, const char *why)
{
    if (m->cfg.progress || getenv("DVM_DEBUG"))
        fprintf(stderr, "dvm: rcomp %d lost (%s); replacing it\n", s->index,
                why);
    rcomp_reap(m, s);
    /* The oldest in-flight runner was the one running.  If RComps keep
     * dying under it, it is the cause: fault it instead of killing RComps
     * forever. */
    rcb *running = s->nin ? s->inflight[s->in_head] : NULL;
    if (running && ++running->lost >= MASTER_LOST_LIMIT) {
        fprintf(stderr, "dvm: runner %llu: fault at 0x%llx: its RComp died "
                "%u times while running it\n", (unsigned long long)running->rid,
                (unsigned long long)running->fi, running->lost);
        m->st.runners_faulted++;
        if (running == m->running_exclusive)
            m->running_exclusive = NULL;
        rcb_free(running);
        s->in_head = (s->in_head + 1) % MASTER_BATCH_MAX;
        s->nin--;
    }
    /* Requeue in-flight runners at the head, keeping their order. */
    for (size_t k = s->nin; k > 0; k--) {
        rcb *r = s->inflight[(s->in_head + k - 1) % MASTER_BATCH_MAX];
        if (r == m->running_exclusive)
            m->running_exclusive = NULL, rcb_push_front(&m->exclusive, r);
        else
            rcb_push_front(&m->ready, r);
        m->st.rerun_lost++;
    }
    s->nin = s->in_head = 0;
    rcomp_reclaim_frames(m, s);
    if (++m->respawns > MASTER_RESPAWN_MAX)
        return status_set(DVM_ESYS, "RComps keep dying (%d replaced); "
                          "giving up", m->respawns);
    m->st.rcomps_replaced++;
    /* The DVM shrank and grows back: both are signals on the system page
     * (DISA.md 8.3), so watchers of __nrcomp wake. */
    dvm_status st = master_signal_rcomps(m, (uint64_t)m->nrc - 1);
    if (!st)
        st = rcomp_spawn(m, s);
    if (!st)
        st = master_signal_rcomps(m, (uint64_t)m->nrc);
    return st;
}

void rcomps_stop(master *m)
{
    if (!m->rc)
        return;
    msg_buf b;
    mb_init(&b);
    msg_encode_u64s(&b, MSG_SHUTDOWN, NULL, 0);
    for (int i = 0; i < m->nrc; i++) {
        rcomp_slot *s = &m->rc[i];
        if (s->pid > 0 && s->ctl.fd >= 0) {
            fcntl(s->ctl.fd, F_SETFL, 0);
            (void)conn_send(&s->ctl, &b);
        }
        conn_close(&s->ctl);
        conn_close(&s->page);
        if (s->pid > 0)
            while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        s->pid = 0;
        /* A run that stopped on an error may leave runners in flight:
         * they are owned here and freed with the slot. */
        for (size_t k = 0; s->inflight && k < s->nin; k++)
            rcb_free(s->inflight[(s->in_head + k) % MASTER_BATCH_MAX]);
        s->nin = 0;
        dvm_free(s->inflight);
        dvm_free(s->granted);
    }
    mb_free(&b);
    dvm_free(m->rc);
    m->rc = NULL;
}

/* Waits until fd is writable, for at most ms milliseconds. */
static int wait_writable(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    return poll(&p, 1, ms) > 0 && (p.revents & POLLOUT);
}

dvm_status rcomp_send(master *m, rcomp_slot *s)
{
    /* The master must never block for long on one RComp (it would stop
     * answering the others' page requests), but sockets are sized so that
     * a full one means the RComp is stuck: wait a bounded time, then treat
     * it as lost. */
    const msg_buf *b = &m->out;
    if (b->oom)
        return status_set(DVM_ENOMEM, "out of memory encoding a message");
    size_t off = 0;
    while (off < b->len) {
        ssize_t n = send(s->ctl.fd, b->p + off, b->len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN && wait_writable(s->ctl.fd, 10000))
            continue;
        return rcomp_lost(m, s, "cannot send to it");
    }
    return DVM_OK;
}

dvm_status rcomp_grant(master *m, rcomp_slot *s, uint64_t want)
{
    if (want == 0 || want > MASTER_GRANT_MAX)
        want = want ? MASTER_GRANT_MAX : 1;
    uint32_t *g = dvm_grow(s->granted, &s->capgranted, s->ngranted + want,
                           sizeof *g);
    if (!g)
        return status_set(DVM_ENOMEM, "out of memory");
    s->granted = g;
    size_t first = s->ngranted;
    while (s->ngranted - first < want) {
        uint32_t f;
        if (store_alloc(m->store, &f)) {
            space_gc(m->space, master_oldest_snapshot(m));
            if (store_alloc(m->store, &f))
                break;
        }
        m->frame_owner[f] = (uint16_t)(s->index + 1);
        s->granted[s->ngranted++] = f;
    }
    if (s->ngranted == first)
        return status_set(DVM_ENOMEM, "the frame store is full (%u frames)",
                          store_max_frames(m->store));
    mb_reset(&m->out);
    msg_encode_frames(&m->out, s->granted + first, s->ngranted - first);
    return rcomp_send(m, s);
}
