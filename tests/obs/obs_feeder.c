/*
 * obs_feeder.c -- obs_feeder SECONDS RATE: serves the obs hub on
 * 127.0.0.1 (a free port, printed as "dashboard at URL") and feeds it as a
 * two-node DVM running RATE runners a second would, for SECONDS: attempts
 * on 8 RComps per node (mostly commits, some conflicts, aborts and
 * faults), page fetches within and between the nodes, output lines and
 * levels.  The dashboard load test points Chromium at it: no machine here
 * runs 100,000 real runners a second, but the page only sees the hub.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "obs/http.h"
#include "obs/obs.h"

#define NODES 2
#define RCOMPS 8

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static ring_outcome pick_outcome(uint64_t k)
{
    unsigned r = (unsigned)(k * 2654435761u % 100);
    return r < 90 ? RING_COMMIT : r < 98 ? RING_CONFLICT
                  : r < 99 ? RING_ABORT : RING_FAULT;
}

/* One millisecond's worth of runners, pages and output. */
static void feed_ms(obs *o, const int *node, uint64_t per_ms, uint64_t *k,
                    uint64_t now)
{
    for (uint64_t i = 0; i < per_ms; i++, (*k)++) {
        int n = node[*k % NODES];
        uint32_t rc = (uint32_t)(*k / NODES % RCOMPS);
        uint64_t dur = 20000 + *k * 7919 % 400000;
        obs_dispatched(o, n, rc, 1);
        obs_runner r = { n, rc, *k + 1, 0, pick_outcome(*k),
                         now - dur - 5000, now - dur, now };
        obs_result(o, &r);
        if (*k % 10 == 0)       /* to and from each node in turn */
            obs_page_fetch(o, node[*k / 10 % NODES], node[*k / 20 % NODES],
                           rc, 3000);
        if (*k % 1000 == 0) {
            char line[64];
            int len = snprintf(line, sizeof line, "runner %llu done\n",
                               (unsigned long long)*k + 1);
            obs_output(o, line, (size_t)len);
        }
    }
}

static void levels(obs *o, const int *node, uint64_t k, uint64_t now)
{
    for (int i = 0; i < NODES; i++) {
        obs_levels l = { .runners_created = k / NODES, .commits = k * 9 / 20,
                         .runners_queued = 1000, .runners_running = RCOMPS,
                         .pages_cached = 5000, .pages_homed = 2500,
                         .frames_used = 6000, .frames_total = 1 << 20,
                         .rcomps_live = RCOMPS };
        obs_levels_set(o, node[i], &l, now);
        for (uint32_t r = 0; r < RCOMPS; r++)
            obs_rcomp_set(o, node[i], r, 1000 + i * RCOMPS + (int)r, 1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return fprintf(stderr, "usage: obs_feeder SECONDS RATE\n"), 2;
    double seconds = atof(argv[1]);
    uint64_t per_ms = strtoull(argv[2], NULL, 10) / 1000;
    static const obs_info info = { "feeder", "1.1", "1.0" };
    obs *o;
    obs_http *h;
    int node[NODES];
    if (obs_create(&info, &o) || obs_node_add(o, "node-a", RCOMPS, &node[0]) ||
        obs_node_add(o, "node-b", RCOMPS, &node[1]) ||
        http_start(o, "127.0.0.1:0", &h))
        return fprintf(stderr, "obs_feeder: %s\n", status_message()), 1;
    fprintf(stderr, "obs_feeder: dashboard at %s\n", http_url(h));
    uint64_t t0 = now_ns(), end = t0 + (uint64_t)(seconds * 1e9), k = 0;
    uint64_t next = t0, last_levels = 0;
    for (uint64_t t; (t = now_ns()) < end;) {
        while (next <= t) {     /* catch up: the rate holds on average */
            feed_ms(o, node, per_ms, &k, t);
            next += 1000000;
        }
        if (t - last_levels > 100000000) {
            levels(o, node, k, t);
            last_levels = t;
        }
        struct timespec d = { 0, 200000 };
        nanosleep(&d, NULL);
    }
    fprintf(stderr, "obs_feeder: fed %llu runners\n", (unsigned long long)k);
    http_stop(h);
    obs_destroy(o);
    return 0;
}
