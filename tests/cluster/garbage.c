/*
 * garbage.c -- a peer that passes the handshake and then sends garbage.
 *
 *   cluster_garbage HOST:PORT ROUNDS [SECRET-FILE]
 *
 * Each round connects anew and sends one message of a random cluster type
 * with random payload bytes; every other round first joins as a node (a
 * valid JOIN) so that the garbage reaches the master's node path.  The
 * master must close each such peer and keep serving.  Exits 0 when every
 * round ended with the master closing the peer (or the peer finishing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/transport.h"
#include "cluster/wire.h"
#include "util/alloc.h"

typedef struct peer_state {
    uint64_t peer;
    int up, down;
} peer_state;

static void on_event(void *arg, transport_event *ev)
{
    peer_state *p = arg;
    if (ev->peer != p->peer)
        return;
    if (ev->kind == TRANSPORT_UP)
        p->up = 1;
    else if (ev->kind == TRANSPORT_DOWN)
        p->down = 1;
}

static int one_round(const char *addr, const auth_secret *secret, int join)
{
    peer_state ps = { 0, 0, 0 };
    transport_config tc = { .secret = secret, .on_event = on_event,
                            .arg = &ps };
    transport *t;
    if (transport_create(&tc, &t) || transport_connect(t, addr, &ps.peer)) {
        fprintf(stderr, "garbage: %s\n", status_message());
        return 1;
    }
    for (int i = 0; i < 500 && !ps.up && !ps.down; i++)
        transport_wait(t, 10);
    if (!ps.up) {
        transport_destroy(t);
        fprintf(stderr, "garbage: the master did not accept us\n");
        return 1;
    }
    if (join) {
        uint8_t nrc[8] = { 2 };
        transport_send(t, ps.peer, WIRE_JOIN, nrc, sizeof nrc);
    }
    size_t n = (size_t)(rand() % 300);
    uint8_t *junk = dvm_malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        junk[i] = (uint8_t)(rand() % 4 ? rand() : 0);
    uint16_t type = (uint16_t)(WIRE_JOIN + rand() % (WIRE_TYPE_END - WIRE_JOIN));
    if (type == WIRE_SUBMIT && n > 8)
        junk[0] = 3;            /* a short engine name, then garbage */
    transport_send(t, ps.peer, type, junk, n);
    dvm_free(junk);
    for (int i = 0; i < 50 && !ps.down; i++)
        transport_wait(t, 10);
    transport_destroy(t);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    auth_secret secret, *sp = NULL;
    if (argc > 3) {
        if (auth_secret_load(argv[3], &secret))
            return 2;
        sp = &secret;
    }
    srand(12345);
    int rounds = atoi(argv[2]);
    for (int r = 0; r < rounds; r++)
        if (one_round(argv[1], sp, r % 2))
            return 1;
    return 0;
}
