/*
 * commit_point.c -- the master's validate + install path alone: commits per
 * second of the commit point (src/sched/commit.c, commit_result) fed
 * crafted results in one process, no RComp, no socket, no scheduler loop.
 *
 * The results are those of bench/commit.dasm: runner i changes the 8 bytes
 * of slot i, slots packed 512 to a page, so consecutive commits change the
 * same page at disjoint bytes.  Each runner's snapshot lags the epoch by
 * LAG commits (the commits made while it was in flight), so validation
 * walks up to LAG newer versions of its page and install merges (copies the
 * newest version and lays the runner's bytes on it); LAG 0 is a runner
 * alone, whose frame is adopted as is.  The page versions no snapshot can
 * see any more are collected every 1024 commits, as the master does.
 *
 * What the RComp does (a frame holding base + change, the result's change
 * list, the runner record) is prepared outside the timed part; the timed
 * part is commit_result and the collection.  Peer: the floor of the same
 * work, one 4 KiB frame copy and one small allocation a commit, timed the
 * same way in the same run.
 *
 *   commit_point [COMMITS] [REPS]     (default 200000, 5)
 *
 * One JSON line per LAG: median commits per second of REPS runs.  Not a
 * test: numbers depend on the machine and its load.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/commit_fixture.h"
#include "util/alloc.h"
#include "util/clock.h"

#define SLOTS_PAGE (0x0100000000ULL / DISA_PAGE)
#define BATCH 512               /* results prepared, then committed */
#define GC_EVERY 1024
#define FRAMES (1u << 16)
#define MAX_REPS 15

typedef struct batch {
    rcb *r[BATCH];
    mem_change c[BATCH];
    mem_run run[BATCH];
    msg_result res[BATCH];
} batch;

/* The result of runner i (snapshot snap): its 8-byte slot set to i + 1 in
 * a fresh frame over the page's version at snap. */
static int prepare_one(commit_fixture *f, batch *b, size_t k, uint64_t i,
                       uint64_t snap)
{
    uint64_t page = SLOTS_PAGE + i / 512, off = (i % 512) * 8;
    uint32_t fr, base = space_lookup(f->space, page, snap);
    rcb *r = rcb_new(&f->pool);
    if (!r || store_alloc(f->store, &fr))
        return -1;
    uint8_t *p = store_frame(f->store, fr);
    if (base)
        memcpy(p, store_frame(f->store, base), DISA_PAGE);
    else
        memset(p, 0, DISA_PAGE);
    uint64_t v = i + 1;
    memcpy(p + off, &v, 8);
    r->snap = snap;
    b->r[k] = r;
    b->run[k] = (mem_run){ (uint16_t)off, 8 };
    b->c[k] = space_change(page, fr, diff_of_runs(&b->run[k], 1));
    b->res[k] = (msg_result){ .rid = r->rid, .attempt = r->attempt,
                              .snap = snap, .exit = MSG_EXIT_COMMIT,
                              .nchanges = 1, .changes = &b->c[k] };
    return 0;
}

/* Commits runners [i, i + n) at snapshot lag `lag`; returns the time the
 * commit point took in ns, or 0 on a failure. */
static uint64_t commit_batch(commit_fixture *f, batch *b, uint64_t i,
                             size_t n, uint64_t lag)
{
    uint64_t t = 0;
    for (size_t k = 0; k < n; k++) {
        uint64_t e = commit_epoch(&f->cp);
        /* A snapshot `lag` commits old: the epoch before them. */
        uint64_t snap = e > lag ? e - lag : 0;
        if (prepare_one(f, b, k, i + k, snap))
            return 0;
        uint64_t t0 = clock_now_ns();
        if (commit_result(&f->cp, b->r[k], &b->res[k]) ||
            f->st.conflicts)
            return 0;
        if ((i + k) % GC_EVERY == GC_EVERY - 1)
            space_gc(f->space, e + 1 > lag ? e + 1 - lag : 0);
        t += clock_now_ns() - t0;
    }
    return t;
}

/* One run of `commits` commits; commits per second, or -1. */
static double run_once(uint64_t commits, uint64_t lag)
{
    commit_fixture f;
    memset(&f, 0, sizeof f);
    batch *b = dvm_calloc(1, sizeof *b);
    double rate = -1;
    if (!b || commit_fixture_open(&f, FRAMES))
        goto out;
    uint64_t ns = 0;
    for (uint64_t i = 0; i < commits; i += BATCH) {
        size_t n = commits - i < BATCH ? (size_t)(commits - i) : BATCH;
        uint64_t t = commit_batch(&f, b, i, n, lag);
        if (!t)
            goto out;
        ns += t;
    }
    rate = (double)commits * 1e9 / (double)(ns ? ns : 1);
out:
    commit_fixture_close(&f);
    dvm_free(b);
    return rate;
}

/* The peer: a 4 KiB frame copy and one small allocation a commit. */
static double run_floor(uint64_t commits)
{
    static uint8_t a[DISA_PAGE], z[DISA_PAGE];
    uint64_t t0 = clock_now_ns();
    for (uint64_t i = 0; i < commits; i++) {
        void *v = malloc(64);
        if (!v)
            return -1;
        z[i % DISA_PAGE] = (uint8_t)i;
        memcpy(a, z, DISA_PAGE);
        __asm__ volatile("" : : "r"(v), "r"(a) : "memory");
        free(v);
    }
    uint64_t ns = clock_now_ns() - t0;
    return (double)commits * 1e9 / (double)(ns ? ns : 1);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    uint64_t commits = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    if (!commits || reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "usage: commit_point [COMMITS] [REPS <= %d]\n",
                MAX_REPS);
        return 2;
    }
    static const uint64_t lags[] = { 0, 2, 32 };
    double floor_v[MAX_REPS];
    for (int r = 0; r < reps; r++)
        floor_v[r] = run_floor(commits);
    double peer = median(floor_v, reps);
    for (size_t l = 0; l < sizeof lags / sizeof *lags; l++) {
        double v[MAX_REPS];
        for (int r = 0; r < reps; r++)
            if ((v[r] = run_once(commits, lags[l])) < 0) {
                fprintf(stderr, "commit_point: lag %llu: %s\n",
                        (unsigned long long)lags[l], status_message());
                return 1;
            }
        double m = median(v, reps);
        printf("{\"bench\": \"commit-point\", \"commits\": %llu, "
               "\"snapshot_lag\": %llu, \"commits_per_s\": %.0f, "
               "\"ns_per_commit\": %.1f, \"peer\": \"copy4k+malloc\", "
               "\"peer_per_s\": %.0f, \"reps\": %d}\n",
               (unsigned long long)commits, (unsigned long long)lags[l], m,
               1e9 / m, peer, reps);
    }
    return 0;
}
