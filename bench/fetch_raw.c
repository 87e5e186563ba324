/*
 * fetch_raw.c -- the round trip a page fetch cannot beat: one request, one
 * reply of 64 B or 4 KiB between two processes over loopback, through the
 * cluster transport (src/cluster/transport.h, UCX active messages), next to
 * the same exchange over a plain TCP socket (the peer).  Prints one JSON
 * line per result: median and 99th percentile round trip in microseconds.
 *
 * UCX chooses its transports at run time; on one host it prefers shared
 * memory.  Each UCX line is measured twice: with UCX's choice ("default")
 * and with UCX_TLS=tcp, what two hosts without RDMA would use.  A 4 KiB
 * reply is also measured forced through rendezvous (rndv_min), the path
 * page data of a few pages and more takes.  The UCX sides poll busily
 * ("ucx-am"); the "-wait" lines sleep on the event fd between messages
 * instead (transport_wait), as the blocking TCP peer does; the
 * "-srvwait" lines have the echoing side sleep and the asking side poll,
 * as a page fetch does (the asking node polls while its RComp waits, the
 * holder sleeps until the question comes).
 *
 *   fetch_raw [ITERS]            (default 20000, after 1000 warm-up)
 *   fetch_raw --server KIND ...  (internal: the echoing side)
 *
 * Not a test: numbers depend on the machine and its load.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster/transport.h"
#include "cluster/wire.h"
#include "util/alloc.h"

#define WARMUP 1000

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *system, const char *tls, size_t bytes,
                   double *rtt, int n)
{
    qsort(rtt, (size_t)n, sizeof *rtt, cmp_double);
    printf("{\"bench\": \"fetch_raw\", \"system\": \"%s\", \"tls\": \"%s\", "
           "\"bytes\": %zu, \"iters\": %d, \"rtt_us_median\": %.2f, "
           "\"rtt_us_p99\": %.2f}\n", system, tls, bytes, n, rtt[n / 2],
           rtt[(size_t)n * 99 / 100]);
    fflush(stdout);
}

/* ---- UCX active messages ----------------------------------------------- */

typedef struct side {
    transport *t;
    int sleep;              /* wait on the event fd instead of polling */
    uint64_t peer;
    int up, down, got;
    size_t reply;           /* server: bytes of each PONG */
    uint8_t *buf;
} side;

static void on_event(void *arg, transport_event *ev)
{
    side *s = arg;
    if (ev->kind == TRANSPORT_UP) {
        s->up = 1;
        s->peer = ev->peer;
    } else if (ev->kind == TRANSPORT_DOWN) {
        s->down = 1;
    } else if (ev->type == WIRE_PING && s->reply) {
        if (transport_send(s->t, ev->peer, WIRE_PONG, s->buf, s->reply))
            s->down = 1;
    } else {
        s->got++;
    }
}

/* One step of the side's loop: busy progress, or sleep until there is
 * something to progress. */
static void step(side *s)
{
    if (s->sleep)
        transport_wait(s->t, -1);
    else
        transport_progress(s->t);
}

static transport *open_side(side *s, size_t rndv_min)
{
    transport_config cfg = {.on_event = on_event, .arg = s,
                            .rndv_min = rndv_min};
    if (transport_create(&cfg, &s->t)) {
        fprintf(stderr, "fetch_raw: %s\n", status_message());
        exit(1);
    }
    return s->t;
}

/* The echoing side: replies to every PING with reply bytes. */
static int ucx_server(int fd, size_t reply, size_t rndv_min, int sleep)
{
    side s = {.reply = reply, .buf = dvm_calloc(1, reply), .sleep = sleep};
    uint16_t port;
    open_side(&s, rndv_min);
    if (transport_listen(s.t, "127.0.0.1:0", &port))
        return 1;
    if (write(fd, &port, sizeof port) != sizeof port)
        return 1;
    close(fd);
    while (!s.down)
        step(&s);
    transport_destroy(s.t);
    dvm_free(s.buf);
    return 0;
}

/* Starts this program as the server of kind ("ucx", "ucx-wait" or "tcp");
 * returns the
 * port it listens on. */
static uint16_t start_server(char **argv, const char *kind, size_t reply,
                             size_t rndv_min, pid_t *pid)
{
    int fds[2];
    char a[32], b[32], c[16];
    if (pipe(fds))
        exit(1);
    snprintf(a, sizeof a, "%zu", reply);
    snprintf(b, sizeof b, "%zu", rndv_min);
    snprintf(c, sizeof c, "%d", fds[1]);
    *pid = fork();
    if (*pid == 0) {
        close(fds[0]);
        execl("/proc/self/exe", argv[0], "--server", kind, a, b, c,
              (char *)NULL);
        _exit(1);
    }
    close(fds[1]);
    uint16_t port = 0;
    if (read(fds[0], &port, sizeof port) != sizeof port) {
        fprintf(stderr, "fetch_raw: %s server did not start\n", kind);
        exit(1);
    }
    close(fds[0]);
    return port;
}

/* How the two sides wait between messages. */
enum { BOTH_POLL, BOTH_SLEEP, SERVER_SLEEPS, NWAYS };
static const char *const way_suffix[NWAYS] = {"", "-wait", "-srvwait"};

static void ucx_client(char **argv, const char *tls, size_t reply,
                       size_t rndv_min, int way, int iters)
{
    pid_t pid;
    uint16_t port = start_server(argv, way == BOTH_POLL ? "ucx" : "ucx-wait",
                                 reply, rndv_min, &pid);
    side s = {.sleep = way == BOTH_SLEEP};
    char where[32];
    snprintf(where, sizeof where, "127.0.0.1:%u", port);
    open_side(&s, rndv_min);
    if (transport_connect(s.t, where, &s.peer))
        exit(1);
    while (!s.up && !s.down)
        step(&s);
    double *rtt = dvm_malloc(sizeof *rtt * (size_t)iters);
    uint8_t req[64] = {0};
    for (int i = -WARMUP; i < iters && !s.down; i++) {
        int want = s.got + 1;
        double t0 = now_us();
        if (transport_send(s.t, s.peer, WIRE_PING, req, sizeof req))
            exit(1);
        while (s.got < want && !s.down)
            step(&s);
        if (i >= 0)
            rtt[i] = now_us() - t0;
    }
    if (s.down) {
        fprintf(stderr, "fetch_raw: peer lost\n");
        exit(1);
    }
    char name[32];
    snprintf(name, sizeof name, "ucx-am%s%s", rndv_min ? "-rndv" : "",
             way_suffix[way]);
    report(name, tls, reply, rtt, iters);
    dvm_free(rtt);
    transport_close(s.t, s.peer);
    while (!s.down)
        step(&s);
    transport_destroy(s.t);
    waitpid(pid, NULL, 0);
}

/* ---- the peer: a TCP socket -------------------------------------------- */

static int full_io(int fd, void *buf, size_t n, int wr)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t r = wr ? write(fd, p, n) : read(fd, p, n);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int tcp_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int tcp_server(int pfd, size_t reply)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int ls = tcp_socket();
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 1) ||
        getsockname(ls, (struct sockaddr *)&a, &len))
        return 1;
    uint16_t port = ntohs(a.sin_port);
    if (write(pfd, &port, sizeof port) != sizeof port)
        return 1;
    close(pfd);
    int fd = accept(ls, NULL, NULL);
    uint8_t req[64], *buf = calloc(1, reply);
    while (fd >= 0 && !full_io(fd, req, sizeof req, 0) &&
           !full_io(fd, buf, reply, 1))
        ;
    free(buf);
    close(fd);
    close(ls);
    return 0;
}

static void tcp_client(char **argv, size_t reply, int iters)
{
    pid_t pid;
    uint16_t port = start_server(argv, "tcp", reply, 0, &pid);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = tcp_socket();
    if (connect(fd, (struct sockaddr *)&a, sizeof a))
        exit(1);
    double *rtt = malloc(sizeof *rtt * (size_t)iters);
    uint8_t req[64] = {0}, *buf = malloc(reply);
    for (int i = -WARMUP; i < iters; i++) {
        double t0 = now_us();
        if (full_io(fd, req, sizeof req, 1) || full_io(fd, buf, reply, 0))
            exit(1);
        if (i >= 0)
            rtt[i] = now_us() - t0;
    }
    report("tcp-socket", "tcp", reply, rtt, iters);
    close(fd);
    waitpid(pid, NULL, 0);
    free(rtt);
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "--server")) {
        size_t reply = strtoul(argv[3], NULL, 10);
        int fd = atoi(argv[5]);
        if (!strcmp(argv[2], "tcp"))
            return tcp_server(fd, reply);
        return ucx_server(fd, reply, strtoul(argv[4], NULL, 10),
                          !strcmp(argv[2], "ucx-wait"));
    }
    int iters = argc > 1 ? atoi(argv[1]) : 20000;
    if (iters < 1) {
        fprintf(stderr, "usage: fetch_raw [ITERS]\n");
        return 2;
    }
    static const size_t sizes[] = {64, 4096};
    for (int k = 0; k < 2; k++) {
        const char *tls = k ? "tcp" : "default";
        if (k)
            setenv("UCX_TLS", "tcp", 1);    /* inherited by the server */
        for (int way = 0; way < NWAYS; way++) {
            for (size_t i = 0; i < 2; i++)
                ucx_client(argv, tls, sizes[i], 0, way, iters);
            ucx_client(argv, tls, 4096, 1, way, iters);
        }
    }
    for (size_t i = 0; i < 2; i++)
        tcp_client(argv, sizes[i], iters);
    return 0;
}
