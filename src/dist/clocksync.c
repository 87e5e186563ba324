/*
 * clocksync.c -- a node's clock offset from pings (clocksync.h).
 */
#include "dist/clocksync.h"

#include <assert.h>

void clocksync_init(clocksync *c, uint64_t now)
{
    *c = (clocksync){ .next_ns = now, .best_delay = UINT64_MAX };
}

int clocksync_ping_due(clocksync *c, uint64_t now, uint64_t *seq)
{
    if (c->waiting)
        return 0;
    if (c->left == 0) {
        if (now < c->next_ns)
            return 0;
        c->left = CLOCKSYNC_PINGS;
        c->best_delay = UINT64_MAX;
    }
    c->seq++;
    c->t0 = now;
    c->waiting = 1;
    *seq = c->seq;
    return 1;
}

/* The end of a burst (or any better first sample): the offset to use. */
static void adopt(clocksync *c)
{
    c->offset = c->best_offset;
    c->delay = c->best_delay;
    c->valid = 1;
}

dvm_status clocksync_pong(clocksync *c, const cmsg_clock *p, uint64_t t3)
{
    if (!c->waiting || p->seq != c->seq)
        return status_set(DVM_EPROTO, "clock pong for no ping in flight");
    assert(p->t2 >= p->t1 && c->left > 0);
    uint64_t turn = p->t2 - p->t1;
    if (t3 < c->t0 || turn > t3 - c->t0)
        return status_set(DVM_EPROTO, "clock pong with impossible times");
    c->waiting = 0;
    uint64_t delay = (t3 - c->t0) - turn;
    /* Differences of unsigned times, read as signed: offsets of either
     * sign, up to 2^62 ns, without overflow. */
    int64_t offset = (int64_t)(p->t1 - c->t0) / 2 +
                     (int64_t)(p->t2 - t3) / 2;
    if (delay < c->best_delay) {
        c->best_delay = delay;
        c->best_offset = offset;
        if (c->bursts == 0)
            adopt(c);
    }
    if (--c->left == 0) {
        adopt(c);
        c->bursts++;
        c->next_ns = t3 + CLOCKSYNC_PERIOD_NS;
    }
    return DVM_OK;
}

uint64_t clocksync_to_master(const clocksync *c, uint64_t t_node)
{
    return c->valid ? t_node - (uint64_t)c->offset : t_node;
}
