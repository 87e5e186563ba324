/*
 * transport_limit_test.c -- the peer limit of a listener, and closing the
 * listener while peers stay: three transports
 * in one process on 127.0.0.1, pumped in turn (transport_wait with a 1 ms
 * cap, since each transport sleeps on its own fd), every pump bounded in
 * rounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cluster/transport.h"
#include "cluster/wire.h"
#include "util/alloc.h"

#define ROUNDS 100000

typedef struct end {
    transport *t;
    int ups, downs, msgs;
    uint64_t peer;
    dvm_status down_status;
    int logs;
} end;

static void on_event(void *arg, transport_event *ev)
{
    end *e = arg;
    if (ev->kind == TRANSPORT_UP) {
        e->ups++;
        e->peer = ev->peer;
    } else if (ev->kind == TRANSPORT_DOWN) {
        e->downs++;
        e->down_status = ev->status;
    } else {
        e->msgs++;
    }
}

static void on_log(void *arg, const char *line)
{
    (void)line;
    ((end *)arg)->logs++;
}

static void open_end(end *e, size_t max_peers)
{
    memset(e, 0, sizeof *e);
    transport_config cfg = {.on_event = on_event, .arg = e, .log = on_log,
                            .max_peers = max_peers};
    assert_int_equal(transport_create(&cfg, &e->t), 0);
}

static void connect_to(end *e, uint16_t port)
{
    char where[32];
    uint64_t id;
    snprintf(where, sizeof where, "127.0.0.1:%u", port);
    assert_int_equal(transport_connect(e->t, where, &id), 0);
}

/* Pumps the ends until cond(ends) holds; bounded. */
static int pump(end **ends, int n, int (*cond)(end **))
{
    for (int r = 0; r < ROUNDS && !cond(ends); r++)
        for (int i = 0; i < n; i++)
            transport_wait(ends[i]->t, 1);
    return cond(ends);
}

static int first_up(end **e)
{
    return e[1]->ups == 1 && e[0]->ups == 1;
}

static int second_down(end **e)
{
    return e[2]->downs == 1;
}

static void test_peer_limit(void **state)
{
    (void)state;
    end a, b, c, *ends[] = {&a, &b, &c};
    uint16_t port;
    open_end(&a, 1);
    open_end(&b, 0);
    open_end(&c, 0);
    assert_int_equal(transport_listen(a.t, "127.0.0.1:0", &port), 0);
    connect_to(&b, port);
    assert_true(pump(ends, 3, first_up));
    connect_to(&c, port);
    assert_true(pump(ends, 3, second_down));
    assert_int_equal(c.ups, 0);
    assert_int_equal(c.down_status, DVM_EIO);   /* rejected */
    assert_int_equal(a.logs, 1);
    assert_int_equal(a.ups, 1);
    assert_int_equal(transport_peer_count(a.t), 1);
    transport_destroy(c.t);
    transport_destroy(b.t);
    transport_destroy(a.t);
}

static int b_msg(end **e)
{
    return e[0]->msgs == 1;
}

/* After transport_unlisten the connected peer stays, a new one fails. */
static void test_unlisten(void **state)
{
    (void)state;
    end a, b, c, *ends[] = {&a, &b, &c};
    uint16_t port;
    open_end(&a, 0);
    open_end(&b, 0);
    open_end(&c, 0);
    assert_int_equal(transport_listen(a.t, "127.0.0.1:0", &port), 0);
    connect_to(&b, port);
    assert_true(pump(ends, 3, first_up));
    transport_unlisten(a.t);
    connect_to(&c, port);
    assert_true(pump(ends, 3, second_down));
    assert_int_equal(c.ups, 0);
    assert_int_equal(transport_send(b.t, b.peer, WIRE_PING, "still", 5), 0);
    assert_true(pump(ends, 3, b_msg));
    assert_int_equal(a.ups, 1);
    assert_int_equal(a.downs, 0);
    transport_destroy(c.t);
    transport_destroy(b.t);
    transport_destroy(a.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peer_limit),
        cmocka_unit_test(test_unlisten),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
