/*
 * transport_failalloc_test.c -- the transport under allocation failure.
 *
 * Two transports in one process, a listener A and a client B on
 * 127.0.0.1: B connects, sends a PING of 100 KiB once it is up, A answers
 * with a PONG of the same bytes, and both are destroyed.  The walk runs
 * this for N = 1, 2, ...: the N-th allocation of the project's allocator
 * and every later one fail (UCX's own allocations are not counted).  Each
 * run must end by itself -- the exchange done, or an API call refused with
 * DVM_ENOMEM, or B told by an event that its peer is gone -- never a hang,
 * a crash or a leak (the sanitizer build checks leaks at exit).  The walk
 * ends at the first N at which the exchange succeeds.  In a build without
 * DVM_ALLOC_FAILPOINTS the test skips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cluster/transport.h"
#include "cluster/wire.h"
#include "util/alloc.h"

#define WALK_MAX 500
#define PAYLOAD (100u << 10)
#define RUN_SECONDS 10

typedef struct end {
    transport *t;
    int up, down, pong, failed;
    uint64_t peer;
} end;

static uint8_t payload[PAYLOAD];

static void on_event(void *arg, transport_event *ev)
{
    end *e = arg;
    if (ev->kind == TRANSPORT_UP) {
        e->up = 1;
        e->peer = ev->peer;
        /* only B starts: it is the one that connected */
        if (!ev->inbound &&
            transport_send(e->t, ev->peer, WIRE_PING, payload, PAYLOAD))
            e->failed = 1;
    } else if (ev->kind == TRANSPORT_DOWN) {
        e->down = 1;
    } else if (ev->type == WIRE_PING) {
        if (transport_send(e->t, ev->peer, WIRE_PONG, ev->data, ev->len))
            transport_close(e->t, ev->peer);    /* B learns by the BYE */
    } else {
        e->pong = ev->len == PAYLOAD && !memcmp(ev->data, payload, PAYLOAD);
    }
}

/* Refusals and rejections are expected here; their lines are not news. */
static void quiet(void *arg, const char *line)
{
    (void)arg;
    (void)line;
}

static dvm_status open_end(end *e)
{
    transport_config cfg = {.on_event = on_event, .arg = e,
                            .log = quiet, .handshake_ms = 5000};
    memset(e, 0, sizeof *e);
    return transport_create(&cfg, &e->t);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Pumps both until B has its PONG, B's peer is down, or B could not send.
 * 1 if it ended by itself, 0 if it stalled. */
static int pump(end *a, end *b)
{
    double stop = now_s() + RUN_SECONDS;
    while (!b->pong && !b->down && !b->failed) {
        if (now_s() > stop)
            return 0;
        transport_progress(a->t);
        transport_progress(b->t);
    }
    return 1;
}

/* One run with allocations failing from the n-th on: 1 if the exchange
 * succeeded, 0 if it ended cleanly without. */
static int run(long n)
{
    end a, b;
    char where[32];
    uint16_t port;
    int ok = 0;
    dvm_alloc_fail_from(n);
    dvm_status st = open_end(&a);
    if (st)
        goto err_a;
    if ((st = transport_listen(a.t, "127.0.0.1:0", &port)))
        goto err_b;
    if ((st = open_end(&b)))
        goto err_b;
    snprintf(where, sizeof where, "127.0.0.1:%u", port);
    uint64_t id;
    st = transport_connect(b.t, where, &id);
    if (!st) {
        if (!pump(&a, &b))
            fail_msg("allocation %ld: the exchange stalled", n);
        ok = b.pong;
    }
    transport_destroy(b.t);
err_b:
    transport_destroy(a.t);
err_a:
    dvm_alloc_fail_from(0);
    if (st && st != DVM_ENOMEM)
        fail_msg("allocation %ld: status %d (%s)", n, st, status_message());
    return ok;
}

static void test_walk(void **state)
{
    (void)state;
    if (!dvm_alloc_fail_from(0))
        skip();
    for (size_t i = 0; i < PAYLOAD; i++)
        payload[i] = (uint8_t)(i * 13 + 1);
    long n = 1;
    while (n < WALK_MAX && !run(n))
        n++;
    assert_true(n < WALK_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
