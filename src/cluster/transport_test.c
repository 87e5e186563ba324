/*
 * transport_test.c -- two processes over loopback: messages, handshake,
 * refusals, failures.
 *
 * Each test forks a client before either side starts UCX (UCX state is
 * never shared across fork): the parent listens on 127.0.0.1, port 0, and
 * writes the bound port into a pipe; the child reads it, connects and runs
 * its script, returning its verdict as the exit status (cmocka asserts
 * only run in the parent).  Every wait is bounded by a count of rounds
 * and a deadline of seconds that a correct run never comes near; no test
 * depends on how fast anything happens.
 *
 * A refusal test also needs a client that does not follow the protocol;
 * raw_client speaks UCX directly and sends whatever bytes it is given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <ucp/api/ucp.h>
#include <unistd.h>

#include "cluster/addr.h"
#include "cluster/auth.h"
#include "cluster/transport.h"
#include "cluster/wire.h"
#include "util/alloc.h"
#include "util/le.h"

#define WAIT_SECONDS 20
#define MIB (1u << 20)

/* ---- events ------------------------------------------------------------ */

typedef struct rec {
    transport *t;
    uint64_t peer;              /* last peer up */
    int ups, downs, msgs;
    int settled;                /* UP or DOWN events */
    dvm_status down_status;
    char down_reason[256];
    uint16_t last_type;
    uint8_t *last;              /* last message, taken */
    size_t last_len;
    int bad;                    /* a message broke the expected pattern */
    int echo;                   /* answer PING with PONG of the same bytes */
    int check_pattern;          /* PING i must be pattern(i) */
    int logs;
    char log[512];
    unsigned slow_ms;           /* each message takes this long to handle */
    int busy;                   /* messages handled in one call, so far */
    uint64_t sent_at_first;     /* transport's sent count at the first */
    uint64_t sent_at_last;      /* ... and at the last slow message */
} rec;

static void on_log(void *arg, const char *line)
{
    rec *r = arg;
    r->logs++;
    snprintf(r->log, sizeof r->log, "%s", line);
}

static size_t size_of(int i);
static int pattern_ok(const uint8_t *p, size_t n, int i);

/* A message whose handling takes r->slow_ms: the transport's sent count
 * is noted at the first and at each further one. */
static void handle_slowly(rec *r)
{
    transport_stats st;
    transport_get_stats(r->t, &st);
    if (r->busy++ == 0)
        r->sent_at_first = st.sent;
    r->sent_at_last = st.sent;
    usleep(r->slow_ms * 1000u);
}

static void on_event(void *arg, transport_event *ev)
{
    rec *r = arg;
    switch (ev->kind) {
    case TRANSPORT_UP:
        r->settled++;
        r->ups++;
        r->peer = ev->peer;
        break;
    case TRANSPORT_DOWN:
        r->settled++;
        r->downs++;
        r->down_status = ev->status;
        snprintf(r->down_reason, sizeof r->down_reason, "%s", ev->reason);
        break;
    case TRANSPORT_MSG:
        if (r->check_pattern &&
            (ev->len != size_of(r->msgs) ||
             !pattern_ok(ev->data, ev->len, r->msgs)))
            r->bad++;
        r->msgs++;
        r->last_type = ev->type;
        r->last_len = ev->len;
        dvm_free(r->last);
        r->last = transport_event_take(ev);
        if (r->slow_ms)
            handle_slowly(r);
        if (r->echo && ev->type == WIRE_PING &&
            transport_send(r->t, ev->peer, WIRE_PONG, r->last, r->last_len))
            r->bad++;
        break;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Pumps t until *counter >= want; 1 on success, 0 at the deadline. */
static int pump_until(rec *r, const int *counter, int want)
{
    double end = now_s() + WAIT_SECONDS;
    for (long i = 0; i < 100000000 && *counter < want; i++) {
        if (now_s() > end)
            return 0;
        transport_wait(r->t, 100);
    }
    return *counter >= want;
}

static size_t handshake_ms;     /* for the next transports made; 0: default */
static unsigned keepalive_ms;   /* ... PONG keepalives this often; 0: none */
static unsigned deaf_gap_ms;    /* ... 0: default */
static size_t rndv_min;         /* ... every payload this long by rendezvous */

static transport *make(rec *r, const auth_secret *secret, size_t max_msg)
{
    memset(r, 0, sizeof *r);
    transport_config cfg = {.secret = secret, .max_msg = max_msg,
                            .handshake_ms = handshake_ms,
                            .keepalive_type = keepalive_ms ? WIRE_PONG : 0,
                            .keepalive_ms = keepalive_ms,
                            .deaf_gap_ms = deaf_gap_ms,
                            .rndv_min = rndv_min,
                            .on_event = on_event, .arg = r, .log = on_log};
    transport *t = NULL;
    if (transport_create(&cfg, &t))
        return NULL;
    r->t = t;
    return t;
}

static void unmake(rec *r)
{
    transport_destroy(r->t);
    dvm_free(r->last);
    r->last = NULL;
}

/* ---- message contents -------------------------------------------------- */

/* The i-th message of the ordered stream: small, page-sized and 1 MiB. */
static size_t size_of(int i)
{
    static const size_t sizes[] = {0, 1, 64, 4096, MIB, 100, MIB, 8, 65536};
    return sizes[i % (int)(sizeof sizes / sizeof sizes[0])];
}

static uint8_t pattern_byte(size_t k, int i)
{
    return (uint8_t)(k * 131u + (unsigned)i * 7u + (k >> 12));
}

static uint8_t *pattern(int i, size_t *n)
{
    *n = size_of(i);
    uint8_t *p = dvm_malloc(*n ? *n : 1);
    for (size_t k = 0; p && k < *n; k++)
        p[k] = pattern_byte(k, i);
    return p;
}

static int pattern_ok(const uint8_t *p, size_t n, int i)
{
    for (size_t k = 0; k < n; k++)
        if (p[k] != pattern_byte(k, i))
            return 0;
    return 1;
}

/* ---- processes --------------------------------------------------------- */

typedef int (*client_fn)(uint16_t port, int which);

typedef struct child {
    pid_t pid;
} child;

static pid_t live_child;        /* killed by the teardown if a test failed */

/* Starts this program again as the client named name (see main), with
 * case which, against 127.0.0.1:port.  A fresh process: no UCX state of
 * the parent crosses the fork. */
static child spawn(const char *name, int which, uint16_t port)
{
    char w[16], pt[16];
    snprintf(w, sizeof w, "%d", which);
    snprintf(pt, sizeof pt, "%u", port);
    child c = {.pid = fork()};
    assert_true(c.pid >= 0);
    if (c.pid == 0) {
        execl("/proc/self/exe", "transport_test", "--client", name, w, pt,
              (char *)NULL);
        _exit(98);
    }
    live_child = c.pid;
    return c;
}

static int kill_child(void **state)
{
    (void)state;
    if (live_child > 0) {
        kill(live_child, SIGKILL);
        waitpid(live_child, NULL, 0);
    }
    live_child = 0;
    handshake_ms = 0;
    keepalive_ms = deaf_gap_ms = 0;
    rndv_min = 0;
    return 0;
}

/* Waits for the child (bounded) and returns its exit status, or -1. */
static int reap_child(child *c)
{
    int st = 0;
    double end = now_s() + WAIT_SECONDS;
    while (waitpid(c->pid, &st, WNOHANG) == 0) {
        if (now_s() > end) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &st, 0);
            live_child = 0;
            return -1;
        }
        usleep(1000);
    }
    live_child = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A listening server in the parent. */
static transport *serve(rec *r, const auth_secret *secret, size_t max_msg,
                        uint16_t *port)
{
    transport *t = make(r, secret, max_msg);
    assert_non_null(t);
    assert_int_equal(transport_listen(t, "127.0.0.1:0", port), 0);
    assert_true(*port > 0);
    return t;
}

/* Client side: connects and waits for UP.  0 on success. */
static int client_up(rec *r, uint16_t port, const auth_secret *secret,
                     size_t max_msg)
{
    char where[64];
    snprintf(where, sizeof where, "127.0.0.1:%u", port);
    uint64_t id;
    if (!make(r, secret, max_msg))
        return 10;
    if (transport_connect(r->t, where, &id))
        return 11;
    if (!pump_until(r, &r->settled, 1))
        return 12;
    return r->ups == 1 && r->peer == id ? 0 : 13;
}

static auth_secret secret_a, secret_b;

static void secrets(void)
{
    (void)auth_secret_set(&secret_a, "alpha secret", 12);
    (void)auth_secret_set(&secret_b, "bravo secret", 12);
}

/* ---- ordered stream ---------------------------------------------------- */

#define STREAM_MSGS 27

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static int refs_done, refs_failed;

/* transport_send_ref's callback: the buffer is free. */
static void sent(void *arg, dvm_status st)
{
    dvm_free(arg);
    refs_done++;
    refs_failed += st != DVM_OK;
}

/* Sends the i-th message of the stream, odd ones without a copy. */
static int send_nth(rec *r, int i, int *refs)
{
    size_t n;
    uint8_t *p = pattern(i, &n);
    if (!p)
        return -1;
    if (i % 2 == 0) {
        dvm_status st = transport_send(r->t, r->peer, WIRE_PING, p, n);
        dvm_free(p);
        return st;
    }
    (*refs)++;
    dvm_status st = transport_send_ref(r->t, r->peer, WIRE_PING, p, n, sent,
                                       p);
    if (st)
        dvm_free(p);
    return st;
}

/* Closes r's peer in order; 1 once its DOWN came, as a close's. */
static int close_cleanly(rec *r)
{
    transport_close(r->t, r->peer);
    return pump_until(r, &r->downs, 1) && r->down_status == DVM_ECLOSED;
}

/* Sends STREAM_MSGS messages of size_of(i), waits for the server's PONG,
 * closes; every buffer lent is handed back and no fd is left.  which 1:
 * every payload of a byte or more goes by rendezvous, as the server's. */
static int client_stream(uint16_t port, int which)
{
    rndv_min = which ? 1 : 0;
    rec r;
    int fds0 = count_fds(), refs = 0;
    int rc = client_up(&r, port, NULL, 0);
    for (int i = 0; !rc && i < STREAM_MSGS; i++)
        if (send_nth(&r, i, &refs))
            rc = 20;
    if (!rc && (!pump_until(&r, &r.msgs, 1) || r.last_type != WIRE_PONG))
        rc = 21;
    if (!rc && !close_cleanly(&r))
        rc = 22;
    unmake(&r);
    if (!rc && (refs_done != refs || refs_failed))
        rc = 23;
    return rc || count_fds() == fds0 ? rc : 24;
}

/* The stream of client_stream(which) arrives whole and in order. */
static void run_stream(int which)
{
    int fds0 = count_fds();
    rec r;
    uint16_t port;
    rndv_min = which ? 1 : 0;
    serve(&r, NULL, 0, &port);
    r.check_pattern = 1;
    child c = spawn("stream", which, port);
    assert_true(pump_until(&r, &r.msgs, STREAM_MSGS));
    assert_int_equal(r.bad, 0);
    assert_int_equal(r.ups, 1);
    assert_int_equal(transport_send(r.t, r.peer, WIRE_PONG, "ok", 2), 0);
    assert_true(pump_until(&r, &r.downs, 1));
    assert_int_equal(r.down_status, DVM_ECLOSED);
    transport_stats s;
    transport_get_stats(r.t, &s);
    assert_true(s.received_rndv >= 2);      /* the 1 MiB messages */
    if (which)                              /* all but the empty one */
        assert_int_equal(s.received_rndv, STREAM_MSGS - 3);
    assert_int_equal(transport_peer_count(r.t), 0);
    unmake(&r);
    assert_int_equal(reap_child(&c), 0);
    assert_int_equal(count_fds(), fds0);    /* no socket left behind */
}

static void test_stream_in_order(void **state)
{
    (void)state;
    run_stream(0);
}

/* Rendezvous forced for every payload on both sides (rndv_min 1, as
 * bench/fetch_raw measures it): the control messages still go eagerly.
 * The server's TAKEN for the 1 MiB messages went by rendezvous once, and
 * the client refused it ("taken message of 8 bytes by rendezvous"). */
static void test_stream_all_rendezvous(void **state)
{
    (void)state;
    run_stream(1);
}

/* ---- round trips ------------------------------------------------------- */

#define ROUND_TRIPS 10000

/* which round trips (0: ROUND_TRIPS), one at a time, then exits. */
static int client_pingpong(uint16_t port, int which)
{
    rec r;
    int rc = client_up(&r, port, NULL, 0);
    for (int i = 0; !rc && i < (which ? which : ROUND_TRIPS); i++) {
        uint8_t b[8];
        le_st64(b, (uint64_t)i);
        if (transport_send(r.t, r.peer, WIRE_PING, b, sizeof b) ||
            !pump_until(&r, &r.msgs, i + 1) || r.last_type != WIRE_PONG ||
            r.last_len != 8 || le_ld64(r.last) != (uint64_t)i)
            rc = 30;
    }
    unmake(&r);
    return rc;
}

static void test_round_trips(void **state)
{
    (void)state;
    rec r;
    uint16_t port;
    serve(&r, NULL, 0, &port);
    r.echo = 1;
    child c = spawn("pingpong", 0, port);
    assert_true(pump_until(&r, &r.downs, 1));  /* the client exits */
    assert_int_equal(r.msgs, ROUND_TRIPS);
    assert_int_equal(r.bad, 0);
    unmake(&r);
    assert_int_equal(reap_child(&c), 0);
}

/* ---- an epoll event loop ----------------------------------------------- */

#define LOOP_PINGS 200
#define LOOP_SLEEP_MS 5000      /* far longer than any wakeup takes */

/* Adds fd to the epoll set ep with tag as its data. */
static void watch(int ep, int fd, uint64_t tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
}

/* Sleeps in epoll_wait on ep; a timeout is a lost wakeup.  Returns 1 if
 * the pipe (read end rd, tag 99) was readable; its byte is consumed. */
static int loop_sleep(int ep, int rd)
{
    struct epoll_event evs[2];
    int k = epoll_wait(ep, evs, 2, LOOP_SLEEP_MS), seen = 0;
    assert_true(k > 0);
    char c;
    for (int i = 0; i < k; i++)
        seen |= evs[i].data.u64 == 99;
    if (seen)
        assert_int_equal(read(rd, &c, 1), 1);
    return seen;
}

/* The loop transport.h prescribes: progress, decide, arm, and only then
 * sleep in epoll_wait on the transport's fd next to an unrelated pipe.
 * The server echoes LOOP_PINGS pings one at a time; none may be slept
 * through, and the client's exit must wake it too. */
static void test_epoll_loop(void **state)
{
    (void)state;
    rec r;
    uint16_t port;
    int fds[2], ep = epoll_create1(EPOLL_CLOEXEC);
    assert_true(ep >= 0);
    assert_int_equal(pipe(fds), 0);
    serve(&r, NULL, 0, &port);
    r.echo = 1;
    watch(ep, transport_fd(r.t), 1);
    watch(ep, fds[0], 99);
    child c = spawn("pingpong", LOOP_PINGS, port);
    int written = 0, seen = 0;
    for (long i = 0; i < 1000000; i++) {
        transport_progress(r.t);
        if (r.downs && seen)
            break;                          /* decided before sleeping */
        if (r.msgs >= LOOP_PINGS / 2 && !written)
            written = write(fds[1], "x", 1) == 1;
        if (transport_arm(r.t) == DVM_OK)
            seen += loop_sleep(ep, fds[0]);
    }
    assert_int_equal(r.msgs, LOOP_PINGS);
    assert_int_equal(seen, 1);
    assert_int_equal(reap_child(&c), 0);
    close(ep);
    close(fds[0]);
    close(fds[1]);
    unmake(&r);
}

/* ---- authentication ---------------------------------------------------- */

typedef struct auth_case {
    const auth_secret *server, *client;
    int expect_up;
    const char *server_log;     /* expected in the server's log, or NULL */
} auth_case;

static const auth_case auth_cases[] = {
    {&secret_a, &secret_a, 1, NULL},
    {&secret_a, &secret_b, 0, "wrong cluster secret"},
    {&secret_a, NULL, 0, "peer has no cluster secret"},
    {NULL, &secret_a, 0, "peer requires a cluster secret"},
    {NULL, NULL, 1, NULL},
};
#define AUTH_NONE 4

/* Connects with the case's secret; exchanges one PING if up. */
static int client_auth(uint16_t port, int which)
{
    const auth_case *ac = &auth_cases[which];
    rec r;
    int rc = client_up(&r, port, ac->client, 0);
    if (ac->expect_up && !rc) {
        if (transport_send(r.t, r.peer, WIRE_PING, "hi", 2) ||
            !pump_until(&r, &r.msgs, 1) || r.last_type != WIRE_PONG)
            rc = 40;
    } else if (!ac->expect_up) {
        /* must be refused, with DVM_EPROTO or the server's close */
        rc = r.ups == 0 && r.downs == 1 && r.down_status != DVM_OK ? 0 : 41;
    }
    unmake(&r);
    return rc;
}

static void run_auth_case(int which)
{
    const auth_case *ac = &auth_cases[which];
    int fds0 = count_fds();
    rec r;
    uint16_t port;
    serve(&r, ac->server, 0, &port);
    r.echo = 1;
    child c = spawn("auth", which, port);
    if (ac->expect_up) {
        assert_true(pump_until(&r, &r.downs, 1));
        assert_int_equal(r.ups, 1);
        assert_int_equal(r.msgs, 1);
        assert_int_equal(r.logs, 0);
    } else {
        assert_true(pump_until(&r, &r.logs, 1));
        transport_wait(r.t, 0);
        assert_int_equal(r.ups, 0);
        assert_int_equal(r.downs, 0);       /* never announced */
        assert_int_equal(r.logs, 1);        /* logged once */
        assert_non_null(strstr(r.log, ac->server_log));
    }
    unmake(&r);
    assert_int_equal(reap_child(&c), 0);
    assert_int_equal(count_fds(), fds0);
}

static void test_auth_same_secret(void **state)
{
    (void)state;
    run_auth_case(0);
}

static void test_auth_wrong_secret(void **state)
{
    (void)state;
    run_auth_case(1);
}

static void test_auth_client_without(void **state)
{
    (void)state;
    run_auth_case(2);
}

static void test_auth_server_without(void **state)
{
    (void)state;
    run_auth_case(3);
}

/* ---- a client that breaks the protocol --------------------------------- */

typedef struct raw {
    ucp_context_h ctx;
    ucp_worker_h worker;
    ucp_ep_h ep;
    int failed;
} raw;

static void raw_error(void *arg, ucp_ep_h ep, ucs_status_t status)
{
    (void)ep;
    (void)status;
    ((raw *)arg)->failed = 1;
}

/* The server's BYE (its refusal) counts as being dropped. */
static ucs_status_t raw_am(void *arg, const void *header, size_t hlen,
                           void *data, size_t len,
                           const ucp_am_recv_param_t *param)
{
    (void)data;
    (void)param;
    wire_header h;
    if (!wire_decode(header, hlen, len, 4096, &h) && h.type == WIRE_BYE)
        ((raw *)arg)->failed = 1;
    return UCS_OK;
}

/* Opens a bare UCX endpoint to 127.0.0.1:port.  0 on success. */
static int raw_open(raw *w, uint16_t port)
{
    memset(w, 0, sizeof *w);
    ucp_params_t cp = {.field_mask = UCP_PARAM_FIELD_FEATURES,
                       .features = UCP_FEATURE_AM};
    ucp_worker_params_t wp = {.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE,
                              .thread_mode = UCS_THREAD_MODE_SINGLE};
    addr a;
    char where[64];
    snprintf(where, sizeof where, "127.0.0.1:%u", port);
    if (ucp_init(&cp, NULL, &w->ctx) != UCS_OK ||
        ucp_worker_create(w->ctx, &wp, &w->worker) != UCS_OK ||
        addr_parse(where, &a))
        return 1;
    ucp_am_handler_param_t hp = {
        .field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID |
                      UCP_AM_HANDLER_PARAM_FIELD_CB |
                      UCP_AM_HANDLER_PARAM_FIELD_ARG,
        .id = 17, .cb = raw_am, .arg = w};
    if (ucp_worker_set_am_recv_handler(w->worker, &hp) != UCS_OK)
        return 1;
    ucp_ep_params_t ep = {
        .field_mask = UCP_EP_PARAM_FIELD_FLAGS | UCP_EP_PARAM_FIELD_SOCK_ADDR |
                      UCP_EP_PARAM_FIELD_ERR_HANDLER |
                      UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE,
        .flags = UCP_EP_PARAMS_FLAGS_CLIENT_SERVER,
        .sockaddr = {.addr = (struct sockaddr *)&a.ss, .addrlen = a.len},
        .err_mode = UCP_ERR_HANDLING_MODE_PEER,
        .err_handler = {.cb = raw_error, .arg = w},
    };
    return ucp_ep_create(w->worker, &ep, &w->ep) != UCS_OK;
}

/* Sends one AM with the transport's id, then runs until the server drops
 * the endpoint.  0 if it did. */
static int raw_send_until_dropped(raw *w, const void *hdr, size_t hlen,
                                  const void *data, size_t len)
{
    ucp_request_param_t prm = {.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS,
                               .flags = UCP_AM_SEND_FLAG_REPLY};
    ucs_status_ptr_t req = NULL;
    if (hlen)                   /* 0: send nothing at all */
        req = ucp_am_send_nbx(w->ep, 17, hdr, hlen, data, len, &prm);
    double end = now_s() + WAIT_SECONDS;
    while (!w->failed && now_s() < end)
        ucp_worker_progress(w->worker);
    if (req && !UCS_PTR_IS_ERR(req)) {
        while (ucp_request_check_status(req) == UCS_INPROGRESS &&
               now_s() < end)
            ucp_worker_progress(w->worker);
        ucp_request_free(req);
    }
    return !w->failed;
}

static void raw_close(raw *w)
{
    ucp_request_param_t prm = {.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS,
                               .flags = UCP_EP_CLOSE_FLAG_FORCE};
    ucs_status_ptr_t req = ucp_ep_close_nbx(w->ep, &prm);
    double end = now_s() + WAIT_SECONDS;
    if (req && !UCS_PTR_IS_ERR(req)) {
        while (ucp_request_check_status(req) == UCS_INPROGRESS &&
               now_s() < end)
            ucp_worker_progress(w->worker);
        ucp_request_free(req);
    }
    ucp_worker_destroy(w->worker);
    ucp_cleanup(w->ctx);
}

typedef struct garbage {
    uint8_t hdr[WIRE_HEADER_SIZE];
    size_t hlen;
    const char *log;            /* what the server must say */
} garbage;

/* The which-th way to break the protocol. */
static garbage garbage_case(int which)
{
    garbage g = {.hlen = WIRE_HEADER_SIZE};
    switch (which) {
    case 0:
        g.hlen = 5;
        memcpy(g.hdr, "junk!", 5);
        g.log = "envelope of 5 bytes";
        break;
    case 1:
        wire_encode(g.hdr, WIRE_PING, 3, 0);
        g.log = "ping message before authentication";
        break;
    case 2:
        wire_encode(g.hdr, WIRE_HELLO, 3, 0);
        g.hdr[4] = WIRE_VERSION + 1;    /* a version after this one */
        static char next[32];
        snprintf(next, sizeof next, "protocol version %d", WIRE_VERSION + 1);
        g.log = next;
        break;
    default:
        g.hlen = 0;             /* silence: the handshake times out */
        g.log = "handshake not done within 1000 ms";
        break;
    }
    return g;
}

/* Sends the garbage, expects to be dropped, then connects properly and
 * exchanges a message: the listener still serves. */
static int client_garbage(uint16_t port, int which)
{
    garbage g = garbage_case(which);
    raw w;
    if (raw_open(&w, port))
        return 50;
    int rc = raw_send_until_dropped(&w, g.hdr, g.hlen, "xyz", 3) ? 51 : 0;
    raw_close(&w);
    return rc ? rc : client_auth(port, AUTH_NONE);
}

static void run_garbage(int which)
{
    garbage gc = garbage_case(which), *g = &gc;
    int fds0 = count_fds();
    rec r;
    uint16_t port;
    serve(&r, NULL, 0, &port);
    r.echo = 1;
    child c = spawn("garbage", which, port);
    assert_true(pump_until(&r, &r.downs, 1));   /* the good client left */
    assert_int_equal(r.ups, 1);
    assert_int_equal(r.msgs, 1);
    assert_int_equal(r.logs, 1);
    assert_non_null(strstr(r.log, g->log));
    unmake(&r);
    assert_int_equal(reap_child(&c), 0);
    assert_int_equal(count_fds(), fds0);
}

static void test_garbage_envelope(void **state)
{
    (void)state;
    run_garbage(0);
}

static void test_message_before_auth(void **state)
{
    (void)state;
    run_garbage(1);
}

static void test_wrong_version(void **state)
{
    (void)state;
    run_garbage(2);
}

static void test_handshake_timeout(void **state)
{
    (void)state;
    handshake_ms = 1000;
    run_garbage(3);
}

/* ---- closing by the listener's side ------------------------------------ */

/* Sends one PING of n bytes and expects the peer to go down with status
 * st and a reason that contains why.  0 if so. */
static int ping_then_down(rec *r, const void *p, size_t n, dvm_status st,
                          const char *why)
{
    if (transport_send(r->t, r->peer, WIRE_PING, p, n))
        return 1;
    if (!pump_until(r, &r->downs, 1) || r->down_status != st ||
        !strstr(r->down_reason, why))
        return 2;
    return 0;
}

/* Sends one PING; the server closes: DOWN "closed by the peer". */
static int client_closed(uint16_t port, int which)
{
    (void)which;
    rec r;
    int rc = client_up(&r, port, NULL, 0);
    if (!rc && ping_then_down(&r, "bye?", 4, DVM_ECLOSED,
                              "closed by the peer"))
        rc = 80;
    unmake(&r);
    return rc;
}

/* Closes r's peer with close (twice: a no-op the second time); nothing
 * can be sent to it any more and it goes down with the reason. */
static void close_peer(rec *r, void (*close)(transport *, uint64_t),
                       const char *reason)
{
    close(r->t, r->peer);
    close(r->t, r->peer);
    assert_int_equal(transport_send(r->t, r->peer, WIRE_PING, "x", 1),
                     DVM_ENOENT);
    assert_true(pump_until(r, &r->downs, 1));
    assert_int_equal(r->down_status, DVM_ECLOSED);
    assert_string_equal(r->down_reason, reason);
}

static void test_server_closes(void **state)
{
    (void)state;
    rec r;
    uint16_t port;
    serve(&r, NULL, 0, &port);
    child c = spawn("closed", 0, port);
    assert_true(pump_until(&r, &r.msgs, 1));
    close_peer(&r, transport_close, "closed by this side");
    assert_int_equal(reap_child(&c), 0);
    unmake(&r);
}

/* ---- limits ------------------------------------------------------------ */

/* A client allowed 1 MiB sends 1 MiB to a server that accepts 64 KiB. */
static int client_oversize(uint16_t port, int which)
{
    (void)which;
    rec r;
    int rc = client_up(&r, port, NULL, MIB);
    uint8_t *big = dvm_calloc(1, MIB);
    if (!rc && (!big || ping_then_down(&r, big, MIB, DVM_EPROTO,
                                       "refused by the peer: ping message "
                                       "of 1048576 bytes exceeds the limit "
                                       "of 65536")))
        rc = 60;
    dvm_free(big);
    unmake(&r);
    return rc;
}

static void test_oversize_refused(void **state)
{
    (void)state;
    rec r;
    uint16_t port;
    serve(&r, NULL, 65536, &port);
    child c = spawn("oversize", 0, port);
    assert_true(pump_until(&r, &r.downs, 1));
    assert_int_equal(r.ups, 1);
    assert_int_equal(r.down_status, DVM_EPROTO);
    assert_int_equal(r.msgs, 0);
    assert_int_equal(r.logs, 1);
    assert_non_null(strstr(r.log, "exceeds the limit of 65536"));
    unmake(&r);
    assert_int_equal(reap_child(&c), 0);
}

/* ---- failure ----------------------------------------------------------- */

/* Comes up, says so, then waits to be killed. */
static int client_victim(uint16_t port, int which)
{
    (void)which;
    rec r;
    int rc = client_up(&r, port, NULL, 0);
    if (!rc && transport_send(r.t, r.peer, WIRE_PING, "x", 1))
        rc = 70;
    for (int i = 0; !rc && i < 100000; i++)
        transport_wait(r.t, 100);
    return rc ? rc : 71;
}

static void test_killed_peer(void **state)
{
    (void)state;
    int fds0 = count_fds();
    rec r;
    uint16_t port;
    serve(&r, NULL, 0, &port);
    child c = spawn("victim", 0, port);
    assert_true(pump_until(&r, &r.msgs, 1));
    kill(c.pid, SIGKILL);
    assert_int_equal(reap_child(&c), -1);
    assert_true(pump_until(&r, &r.downs, 1));
    assert_int_equal(r.down_status, DVM_EIO);
    assert_int_equal(r.logs, 0);            /* a failure, not a refusal */
    assert_int_equal(transport_peer_count(r.t), 0);
    unmake(&r);
    assert_int_equal(count_fds(), fds0);
}

/* A peer stopped (it answers nothing) is closed with close: it goes
 * down with the reason, and the transport is destroyed all the same,
 * within its bounded wait. */
static void close_stopped(void (*close)(transport *, uint64_t),
                          const char *reason)
{
    rec r;
    uint16_t port;
    serve(&r, NULL, 0, &port);
    child c = spawn("victim", 0, port);
    assert_true(pump_until(&r, &r.msgs, 1));
    kill(c.pid, SIGSTOP);
    close_peer(&r, close, reason);
    assert_int_equal(transport_peer_count(r.t), 0);
    double t0 = now_s();
    unmake(&r);
    assert_true(now_s() - t0 < WAIT_SECONDS);
    kill(c.pid, SIGKILL);
    assert_int_equal(reap_child(&c), -1);
}

/* A peer given up (transport_abort): DOWN at once, no BYE waited for,
 * and the transport is destroyed without waiting for the peer. */
static void test_abort(void **state)
{
    (void)state;
    close_stopped(transport_abort, "closed by this side (no answer)");
}

/* A peer closed in order (transport_close: the BYE flushed) that answers
 * nothing: the transport hands UCX back the close it never saw finish
 * (a leaving node's exit once aborted in UCX's worker teardown over
 * it). */
static void test_close_unanswered(void **state)
{
    (void)state;
    close_stopped(transport_close, "closed by this side");
}

static void test_nobody_listening(void **state)
{
    (void)state;
    rec r;
    uint16_t port;
    serve(&r, NULL, 0, &port);
    unmake(&r);                             /* the port is free again */
    assert_non_null(make(&r, NULL, 0));
    char where[64];
    snprintf(where, sizeof where, "127.0.0.1:%u", port);
    uint64_t id;
    assert_int_equal(transport_connect(r.t, where, &id), 0);
    assert_true(pump_until(&r, &r.downs, 1));
    assert_int_equal(r.ups, 0);
    assert_int_equal(r.down_status, DVM_EIO);
    unmake(&r);
}

/* ---- signs of life ----------------------------------------------------- */

/* Comes up and says nothing itself: its transport sends keepalives (PONG,
 * empty, every 10 ms) while it turns, until it is killed. */
static int client_keepalive(uint16_t port, int which)
{
    (void)which;
    rec r;
    keepalive_ms = 10;
    int rc = client_up(&r, port, NULL, 0);
    if (!rc)
        transport_keepalive(r.t, r.peer, 1);
    for (int i = 0; !rc && i < 1000000; i++)
        transport_wait(r.t, 5);
    return rc ? rc : 71;
}

/* Pumps r until its peer's silence is below (less) or above (!less)
 * ms; 1 on success, 0 at the deadline. */
static int pump_silence(rec *r, int less, uint64_t ms)
{
    double end = now_s() + WAIT_SECONDS;
    while (now_s() < end) {
        uint64_t q = transport_silent_ms(r->t, r->peer);
        if (less ? q < ms : q > ms)
            return 1;
        transport_wait(r->t, 5);
    }
    return 0;
}

/* Keepalives flow while the peer turns its transport; a stopped peer's
 * silence grows while this side listens, but a pause of this side counts
 * only the deaf gap (50 ms here), however long; the peer's next message
 * ends the silence. */
static void test_keepalive_silence(void **state)
{
    (void)state;
    rec r;
    uint16_t port;
    deaf_gap_ms = 50;
    serve(&r, NULL, 0, &port);
    child c = spawn("keepalive", 0, port);
    assert_true(pump_until(&r, &r.msgs, 3));
    assert_int_equal(r.last_type, WIRE_PONG);
    assert_int_equal(r.last_len, 0);
    assert_int_equal(transport_silent_ms(r.t, 999), 0);     /* unknown */
    kill(c.pid, SIGSTOP);
    assert_true(pump_silence(&r, 0, 200));
    uint64_t before = transport_silent_ms(r.t, r.peer);
    usleep(500 * 1000);                     /* deaf: no turn */
    uint64_t deaf = transport_silent_ms(r.t, r.peer);
    assert_true(deaf >= before && deaf <= before + 51);
    transport_tick(r.t);
    uint64_t after = transport_silent_ms(r.t, r.peer);
    assert_true(after >= before && after <= before + 52);
    kill(c.pid, SIGCONT);
    assert_true(pump_silence(&r, 1, 100));
    unmake(&r);
    kill(c.pid, SIGKILL);
    assert_int_equal(reap_child(&c), -1);
}

/* Waits for the server's go (a PONG), then sends BURST_MSGS PINGs at
 * once and turns until it is killed. */
#define BURST_MSGS 12
static int client_burst(uint16_t port, int which)
{
    (void)which;
    rec r;
    int rc = client_up(&r, port, NULL, 0);
    if (!rc && !pump_until(&r, &r.msgs, 1))
        rc = 40;
    for (int i = 0; !rc && i < BURST_MSGS; i++)
        if (transport_send(r.t, r.peer, WIRE_PING, NULL, 0))
            rc = 41;
    for (int i = 0; !rc && i < 1000000; i++)
        transport_wait(r.t, 5);
    return rc ? rc : 72;
}

/* A backlog of messages, each slow to handle, handed out by one call:
 * keepalives still leave between them (a master working through a batch
 * of results must not fall silent for its nodes).  The server only ticks
 * while the burst arrives (UCX turns, nothing is delivered), so that one
 * call hands out all of it. */
static void test_keepalive_while_busy(void **state)
{
    (void)state;
    rec r;
    uint16_t port;
    keepalive_ms = 10;
    serve(&r, NULL, 0, &port);
    child c = spawn("burst", 0, port);
    assert_true(pump_until(&r, &r.ups, 1));
    transport_keepalive(r.t, r.peer, 1);
    assert_int_equal(transport_send(r.t, r.peer, WIRE_PONG, NULL, 0), 0);
    for (int i = 0; i < 60; i++) {      /* the burst arrives, undelivered */
        transport_tick(r.t);
        usleep(5 * 1000);
    }
    r.slow_ms = 20;
    size_t got = transport_wait(r.t, 100);
    assert_int_equal(got, BURST_MSGS);  /* one call: the whole backlog */
    assert_int_equal(r.busy, BURST_MSGS);
    /* 11 gaps of 20 ms, a keepalive due every 10 ms. */
    assert_true(r.sent_at_last - r.sent_at_first >= BURST_MSGS / 2);
    unmake(&r);
    kill(c.pid, SIGKILL);
    assert_int_equal(reap_child(&c), -1);
}

/* ---- flow control -------------------------------------------------------- */

#define PACED_MSGS 16
#define PACED_SIZE (64u << 10)
#define PACED_MAX (128u << 10)

/* Waits for the server's go (a PONG), sends PACED_MSGS PINGs of
 * PACED_SIZE, drains to PACED_MAX -- which waits until the server's
 * application took them, not only until UCX sent them -- then sends a
 * PONG and closes. */
static int client_paced(uint16_t port, int which)
{
    (void)which;
    rec r;
    static uint8_t buf[PACED_SIZE];
    int rc = client_up(&r, port, NULL, 0);
    if (!rc && !pump_until(&r, &r.msgs, 1))
        rc = 60;
    for (int i = 0; !rc && i < PACED_MSGS; i++)
        if (transport_send(r.t, r.peer, WIRE_PING, buf, sizeof buf))
            rc = 61;
    if (!rc && transport_drain(r.t, r.peer, PACED_MAX, WAIT_SECONDS * 1000) >
                   PACED_MAX)
        rc = 62;
    if (!rc && transport_send(r.t, r.peer, WIRE_PONG, NULL, 0))
        rc = 63;
    if (!rc && !close_cleanly(&r))
        rc = 64;
    unmake(&r);
    return rc;
}

/* Messages that only reached the receiver's queue do not release a
 * draining sender: while the server turns UCX without handing anything
 * out, the client's drain holds and its marker never comes; once the
 * server's application takes the PINGs, their TAKEN releases it. */
static void test_drain_waits_for_taken(void **state)
{
    (void)state;
    rec r;
    uint16_t port;
    transport_stats st;
    serve(&r, NULL, 0, &port);
    child c = spawn("paced", 0, port);
    assert_true(pump_until(&r, &r.ups, 1));
    transport_get_stats(r.t, &st);
    uint64_t base = st.received;
    assert_int_equal(transport_send(r.t, r.peer, WIRE_PONG, NULL, 0), 0);
    double end = now_s() + WAIT_SECONDS;
    while (st.received < base + PACED_MSGS && now_s() < end) {
        transport_tick(r.t);                /* arrives, undelivered */
        usleep(1000);
        transport_get_stats(r.t, &st);
    }
    assert_int_equal(st.received, base + PACED_MSGS);
    for (int i = 0; i < 300; i++) {         /* the marker does not come */
        transport_tick(r.t);
        usleep(1000);
    }
    transport_get_stats(r.t, &st);
    assert_int_equal(st.received, base + PACED_MSGS);
    assert_int_equal(r.msgs, 0);
    assert_true(pump_until(&r, &r.msgs, PACED_MSGS + 1));
    assert_int_equal(r.last_type, WIRE_PONG);
    assert_true(pump_until(&r, &r.downs, 1));
    assert_int_equal(r.down_status, DVM_ECLOSED);
    unmake(&r);
    assert_int_equal(reap_child(&c), 0);
}

/* A peer that says its application took what was never sent, or sends a
 * TAKEN of the wrong size: after a HELLO (no secret: that authenticates
 * it), a TAKEN counting 1 byte, or one of 3 bytes.  0 if dropped. */
static int client_taken(uint16_t port, int which)
{
    raw w;
    auth_session a;
    uint8_t hello[AUTH_HELLO_SIZE], n[8];
    uint8_t hdr[WIRE_HEADER_SIZE];
    if (raw_open(&w, port) || auth_start(&a, NULL, 1))
        return 50;
    auth_hello(&a, hello);
    wire_encode(hdr, WIRE_HELLO, sizeof hello, 0);
    ucp_request_param_t prm = {.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS,
                               .flags = UCP_AM_SEND_FLAG_REPLY};
    ucs_status_ptr_t req = ucp_am_send_nbx(w.ep, 17, hdr, sizeof hdr, hello,
                                           sizeof hello, &prm);
    if (UCS_PTR_IS_ERR(req))
        return 51;
    double end = now_s() + WAIT_SECONDS;
    while (req && ucp_request_check_status(req) == UCS_INPROGRESS &&
           now_s() < end)
        ucp_worker_progress(w.worker);
    if (req)
        ucp_request_free(req);
    le_st64(n, 1);
    wire_encode(hdr, WIRE_TAKEN, which ? 3 : 8, 1);
    int rc = raw_send_until_dropped(&w, hdr, sizeof hdr, n, which ? 3 : 8);
    raw_close(&w);
    return rc ? 52 : 0;
}

/* A TAKEN that counts more than this side sent, or is malformed,
 * refuses the peer with a message that says so. */
static void run_taken(int which, const char *why)
{
    rec r;
    uint16_t port;
    serve(&r, NULL, 0, &port);
    child c = spawn("taken", which, port);
    assert_true(pump_until(&r, &r.logs, 1));
    assert_non_null(strstr(r.log, why));
    assert_int_equal(reap_child(&c), 0);
    assert_int_equal(r.msgs, 0);
    unmake(&r);
}

static void test_taken_refused(void **state)
{
    (void)state;
    run_taken(0, "taken 1 bytes, of 0 sent");
    run_taken(1, "taken message of 3 bytes");
}

/* ---- API checks -------------------------------------------------------- */

static void test_api_refusals(void **state)
{
    (void)state;
    rec r;
    assert_non_null(make(&r, NULL, 100));
    uint16_t port;
    assert_int_equal(transport_listen(r.t, "0.0.0.0:0", &port), DVM_EINVAL);
    assert_non_null(strstr(status_message(), "without a cluster secret"));
    assert_int_equal(transport_listen(r.t, "nonsense", &port), DVM_EINVAL);
    assert_int_equal(transport_send(r.t, 1, WIRE_PING, "x", 1), DVM_ENOENT);
    assert_int_equal(transport_send(r.t, 1, WIRE_HELLO, "x", 1), DVM_EINVAL);
    assert_int_equal(transport_send(r.t, 1, WIRE_TAKEN, "x", 1), DVM_EINVAL);
    assert_int_equal(transport_send(r.t, 1, 999, "x", 1), DVM_EINVAL);
    assert_int_equal(transport_send(r.t, 1, WIRE_PING, "x", 101), DVM_EINVAL);
    assert_int_equal(transport_listen(r.t, "127.0.0.1:0", &port), 0);
    assert_int_equal(transport_listen(r.t, "127.0.0.1:0", &port), DVM_EINVAL);
    transport_unlisten(r.t);
    transport_unlisten(r.t);                /* a no-op the second time */
    assert_int_equal(transport_listen(r.t, "127.0.0.1:0", &port), 0);
    unmake(&r);
    transport_config bad = {.keepalive_type = WIRE_HELLO, .keepalive_ms = 1};
    transport *t = NULL;
    assert_int_equal(transport_create(&bad, &t), DVM_EINVAL);
    bad.keepalive_type = WIRE_TAKEN;    /* the transport's own: an empty
                                           one would be refused */
    assert_int_equal(transport_create(&bad, &t), DVM_EINVAL);
    bad.keepalive_type = WIRE_PING;
    bad.keepalive_ms = 0;
    assert_int_equal(transport_create(&bad, &t), DVM_EINVAL);
    assert_null(t);
}

static const struct {
    const char *name;
    client_fn fn;
} clients[] = {
    {"stream", client_stream},   {"pingpong", client_pingpong},
    {"auth", client_auth},       {"garbage", client_garbage},
    {"oversize", client_oversize}, {"victim", client_victim},
    {"closed", client_closed},   {"keepalive", client_keepalive},
    {"burst", client_burst},     {"paced", client_paced},
    {"taken", client_taken},
};

/* transport_test --client NAME CASE PORT: one client of a test. */
static int client_main(char **argv)
{
    for (size_t i = 0; i < sizeof clients / sizeof clients[0]; i++)
        if (!strcmp(argv[2], clients[i].name))
            return clients[i].fn((uint16_t)atoi(argv[4]), atoi(argv[3]));
    return 97;
}

int main(int argc, char **argv)
{
    secrets();
    if (argc == 5 && !strcmp(argv[1], "--client"))
        return client_main(argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_api_refusals, kill_child),
        cmocka_unit_test_teardown(test_stream_in_order, kill_child),
        cmocka_unit_test_teardown(test_stream_all_rendezvous, kill_child),
        cmocka_unit_test_teardown(test_round_trips, kill_child),
        cmocka_unit_test_teardown(test_epoll_loop, kill_child),
        cmocka_unit_test_teardown(test_auth_same_secret, kill_child),
        cmocka_unit_test_teardown(test_auth_wrong_secret, kill_child),
        cmocka_unit_test_teardown(test_auth_client_without, kill_child),
        cmocka_unit_test_teardown(test_auth_server_without, kill_child),
        cmocka_unit_test_teardown(test_garbage_envelope, kill_child),
        cmocka_unit_test_teardown(test_message_before_auth, kill_child),
        cmocka_unit_test_teardown(test_wrong_version, kill_child),
        cmocka_unit_test_teardown(test_handshake_timeout, kill_child),
        cmocka_unit_test_teardown(test_server_closes, kill_child),
        cmocka_unit_test_teardown(test_oversize_refused, kill_child),
        cmocka_unit_test_teardown(test_killed_peer, kill_child),
        cmocka_unit_test_teardown(test_abort, kill_child),
        cmocka_unit_test_teardown(test_close_unanswered, kill_child),
        cmocka_unit_test_teardown(test_nobody_listening, kill_child),
        cmocka_unit_test_teardown(test_keepalive_silence, kill_child),
        cmocka_unit_test_teardown(test_keepalive_while_busy, kill_child),
        cmocka_unit_test_teardown(test_drain_waits_for_taken, kill_child),
        cmocka_unit_test_teardown(test_taken_refused, kill_child),
    };
    if (getenv("TEST_FILTER"))          /* e.g. TEST_FILTER=test_auth* */
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
