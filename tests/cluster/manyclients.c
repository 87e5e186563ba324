/*
 * manyclients.c -- many clients of one master at once.
 *
 *   cluster_manyclients HOST:PORT N
 *
 * Connects N peers, then sends a STATUS_REQ on each and keeps them all
 * connected until each got its STATUS or was closed.  Prints
 * "answered A closed C".  Exits 0 when every peer had its fate, 1 if not
 * within 60 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/transport.h"
#include "cluster/wire.h"
#include "util/alloc.h"

typedef struct many {
    uint64_t *peer;
    int *state;                 /* 0 connecting, 1 up, 2 answered, 3 closed */
    size_t n;
} many;

static int index_of(const many *m, uint64_t peer)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->peer[i] == peer)
            return (int)i;
    return -1;
}

static void on_event(void *arg, transport_event *ev)
{
    many *m = arg;
    int i = index_of(m, ev->peer);
    if (i < 0)
        return;
    if (ev->kind == TRANSPORT_UP)
        m->state[i] = 1;
    else if (ev->kind == TRANSPORT_DOWN && m->state[i] != 2)
        m->state[i] = 3;
    else if (ev->kind == TRANSPORT_MSG && ev->type == WIRE_STATUS)
        m->state[i] = 2;
}

/* The number of peers whose state is at least `least`. */
static size_t count_from(const many *m, int least)
{
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++)
        k += m->state[i] >= least;
    return k;
}

static int wait_all(transport *t, const many *m, int least)
{
    for (int i = 0; i < 6000 && count_from(m, least) < m->n; i++)
        transport_wait(t, 10);
    return count_from(m, least) == m->n;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    many m = { NULL, NULL, (size_t)atoi(argv[2]) };
    m.peer = dvm_calloc(m.n + 1, sizeof *m.peer);
    m.state = dvm_calloc(m.n + 1, sizeof *m.state);
    for (size_t i = 0; i < m.n; i++)
        m.peer[i] = UINT64_MAX;
    transport_config tc = { .on_event = on_event, .arg = &m };
    transport *t;
    if (!m.peer || !m.state || transport_create(&tc, &t)) {
        fprintf(stderr, "manyclients: %s\n", status_message());
        return 1;
    }
    for (size_t i = 0; i < m.n; i++)
        if (transport_connect(t, argv[1], &m.peer[i])) {
            fprintf(stderr, "manyclients: %s\n", status_message());
            return 1;
        }
    int ok = wait_all(t, &m, 1);
    uint8_t text[8] = { 0 };                    /* STATUS_REQ: u64 json 0 */
    for (size_t i = 0; ok && i < m.n; i++)
        transport_send(t, m.peer[i], WIRE_STATUS_REQ, text, sizeof text);
    ok = ok && wait_all(t, &m, 2);
    size_t closed = 0;
    for (size_t i = 0; i < m.n; i++)
        closed += m.state[i] == 3;
    printf("answered %zu closed %zu\n", m.n - closed, closed);
    transport_destroy(t);
    dvm_free(m.peer);
    dvm_free(m.state);
    return ok ? 0 : 1;
}
