/* tb_core.h -- the Task Bench graphs for the C peers (tb_omp.c, tb_mpi.c),
 * the same definitions as bench/taskbench/graph.py (see README.md there):
 * which tasks exist, their dependencies (tasks of the previous timestep,
 * ascending, no duplicates), the kernel, and the value and check word of
 * each task.  The tables are built before the timed part; each task checks
 * its inputs with tb_check() and computes its slot with tb_compute().
 *
 * Arguments of both peers: PATTERN W T ITERS [RADIX PERIOD THRESHOLD RUN]
 * (THRESHOLD: random_nearest keeps a neighbour whose hash >> 11 is below
 * it; RUN 0 builds the tables and runs no task, for the start-up time).
 * They print "CHECKSUM COUNT" and report compute_s= on stderr. */
#ifndef TB_CORE_H
#define TB_CORE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TB_A 6364136223846793005ULL
#define TB_C 1442695040888963407ULL

static const char *const tb_patterns[] = {
    "trivial", "no_comm", "stencil_1d", "stencil_1d_periodic", "dom",
    "tree", "fft", "nearest", "spread", "random_nearest"};
enum { TB_TRIVIAL, TB_NO_COMM, TB_STENCIL, TB_STENCIL_P, TB_DOM, TB_TREE,
       TB_FFT, TB_NEAREST, TB_SPREAD, TB_RANDOM_NEAREST, TB_NPATTERNS };

/* One output: its tag (task id + 1), value and check word. */
struct tb_slot {
    uint64_t tag, value, chk, pad;
};

struct tb_graph {
    int pattern;
    long W, T, radix, period, stages, iters, run;
    uint64_t threshold;
    long *dep_at;   /* deps of task x: dep_list[dep_at[x] .. dep_at[x + 1]) */
    long *dep_list;
    struct tb_slot *slots; /* W * T, zero where no task */
};

static uint64_t tb_mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* The kernel: n dependent multiply-adds; the result is the task's value. */
static uint64_t tb_kernel(uint64_t h, long n)
{
    for (long k = 0; k < n; k++)
        h = h * TB_A + TB_C;
    return h;
}

static long tb_offset(const struct tb_graph *g, long t)
{
    long o = t + g->W - g->T;
    return g->pattern == TB_DOM && o > 0 ? o : 0;
}

static long tb_width(const struct tb_graph *g, long t)
{
    long w = g->W;
    if (g->pattern == TB_DOM) {
        w = w < t + 1 ? w : t + 1;
        w = w < g->T - t ? w : g->T - t;
    } else if (g->pattern == TB_TREE && t < 62 && (1L << t) < w) {
        w = 1L << t;
    }
    return w;
}

static int tb_exists(const struct tb_graph *g, long t, long i)
{
    return t >= 0 && t < g->T && i >= tb_offset(g, t) && i < tb_offset(g, t) + tb_width(g, t);
}

static long tb_dset(const struct tb_graph *g, long t)
{
    if (g->pattern == TB_FFT)
        return (t + g->stages - 1) % g->stages;
    if (g->pattern == TB_SPREAD || g->pattern == TB_RANDOM_NEAREST)
        return t % g->period;
    return 0;
}

static int tb_keep(const struct tb_graph *g, long dset, long j, long i)
{
    uint64_t h = tb_mix((uint64_t)g->radix);
    h = tb_mix(h ^ (uint64_t)dset);
    h = tb_mix(h ^ (uint64_t)j);
    h = tb_mix(h ^ (uint64_t)i);
    return j == i || (h >> 11) < g->threshold;
}

/* Task Bench's dependencies(dset(t), i) as points into p; returns the count
 * (at most W + 2). */
static long tb_raw_deps(const struct tb_graph *g, long t, long i, long *p)
{
    long n = 0, W = g->W, r = g->radix, ds = tb_dset(g, t), lo, hi;
    switch (g->pattern) {
    case TB_TRIVIAL:
        break;
    case TB_NO_COMM:
        p[n++] = i;
        break;
    case TB_STENCIL:
    case TB_STENCIL_P:
        for (long j = i > 0 ? i - 1 : 0; j <= i + 1 && j < W; j++)
            p[n++] = j;
        if (g->pattern == TB_STENCIL_P && i - 1 < 0)
            p[n++] = W - 1;
        if (g->pattern == TB_STENCIL_P && i + 1 >= W)
            p[n++] = 0;
        break;
    case TB_DOM:
        p[n++] = i > 0 ? i - 1 : 0;
        p[n++] = i;
        break;
    case TB_TREE:
        p[n++] = i / 2;
        break;
    case TB_FFT:
        for (long d = i - (1L << ds); d <= i + (1L << ds); d += 1L << ds)
            if (d >= 0 && d < W)
                p[n++] = d;
        break;
    case TB_SPREAD:
        for (long k = 0; k < r; k++)
            p[n++] = (i + k * W / r + (k > 0 ? ds : 0)) % W;
        break;
    case TB_NEAREST:
    case TB_RANDOM_NEAREST:
        lo = i - r / 2 > 0 ? i - r / 2 : 0;
        hi = i + (r - 1) / 2 < W - 1 ? i + (r - 1) / 2 : W - 1;
        for (long j = lo; r > 0 && j <= hi; j++)
            if (g->pattern == TB_NEAREST || tb_keep(g, ds, j, i))
                p[n++] = j;
        break;
    }
    return n;
}

static int tb_cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* The deps of task (t, i) as task ids into out, ascending; returns the count. */
static long tb_deps(const struct tb_graph *g, long t, long i, long *out)
{
    long raw[g->W + g->radix + 4], n, m = 0;
    if (t == 0)
        return 0;
    n = tb_raw_deps(g, t, i, raw);
    qsort(raw, (size_t)n, sizeof raw[0], tb_cmp_long);
    for (long k = 0; k < n; k++)
        if ((k == 0 || raw[k] != raw[k - 1]) && tb_exists(g, t - 1, raw[k]))
            out[m++] = (t - 1) * g->W + raw[k];
    return m;
}

static void tb_die(const char *msg)
{
    fprintf(stderr, "taskbench: %s\n", msg);
    exit(1);
}

/* Parses argv and builds the dependency tables and the zeroed slots. */
static void tb_init(struct tb_graph *g, int argc, char **argv)
{
    long nt, cap;
    memset(g, 0, sizeof *g);
    if (argc < 5)
        tb_die("usage: PATTERN W T ITERS [RADIX PERIOD THRESHOLD RUN]");
    g->pattern = -1;
    for (int k = 0; k < TB_NPATTERNS; k++)
        if (strcmp(argv[1], tb_patterns[k]) == 0)
            g->pattern = k;
    g->W = atol(argv[2]);
    g->T = atol(argv[3]);
    g->iters = atol(argv[4]);
    g->radix = argc > 5 ? atol(argv[5]) : 3;
    g->period = argc > 6 ? atol(argv[6]) : 3;
    g->threshold = argc > 7 ? strtoull(argv[7], NULL, 10) : (1ULL << 53) / 4;
    g->run = argc > 8 ? atol(argv[8]) : 1;
    if (g->pattern < 0 || g->W < 1 || g->T < 1 || g->radix < 0 || g->period < 1)
        tb_die("bad pattern, W, T, radix or period");
    for (g->stages = 1; (1L << g->stages) < g->W; g->stages++)
        ;
    nt = g->W * g->T;
    cap = nt * (g->W + g->radix + 4);
    g->dep_at = calloc((size_t)nt + 1, sizeof *g->dep_at);
    g->dep_list = calloc((size_t)cap, sizeof *g->dep_list);
    g->slots = calloc((size_t)nt, sizeof *g->slots);
    if (!g->dep_at || !g->dep_list || !g->slots)
        tb_die("out of memory");
    for (long x = 0; x < nt; x++) {
        long t = x / g->W, i = x % g->W;
        g->dep_at[x + 1] = g->dep_at[x] +
            (tb_exists(g, t, i) ? tb_deps(g, t, i, g->dep_list + g->dep_at[x]) : 0);
    }
}

/* Checks the inputs of task x and folds them into its seed; dies on a
 * mismatch (an input that is not what its task wrote). */
static uint64_t tb_check(const struct tb_graph *g, long x)
{
    uint64_t h = tb_mix((uint64_t)x + 1);
    for (long k = g->dep_at[x]; k < g->dep_at[x + 1]; k++) {
        long d = g->dep_list[k];
        const struct tb_slot *s = &g->slots[d];
        if (s->tag != (uint64_t)d + 1 || s->chk != tb_mix(s->tag ^ s->value)) {
            fprintf(stderr, "taskbench: task %ld: input %ld is not its task's output\n", x, d);
            exit(1);
        }
        h = tb_mix(h ^ s->value);
    }
    return h;
}

/* Runs task x: checks its inputs, runs the kernel, writes its slot. */
static void tb_compute(struct tb_graph *g, long x)
{
    uint64_t v = tb_kernel(tb_check(g, x), g->iters);
    struct tb_slot *s = &g->slots[x];
    s->value = v;
    s->chk = tb_mix(((uint64_t)x + 1) ^ v);
    s->tag = (uint64_t)x + 1;
}

/* Prints "CHECKSUM COUNT" of the finished slots. */
static void tb_print(const struct tb_graph *g)
{
    uint64_t sum = 0;
    long count = 0;
    for (long x = 0; x < g->W * g->T; x++)
        if (g->slots[x].tag) {
            sum += g->slots[x].value;
            count++;
        }
    printf("%llu %ld\n", (unsigned long long)sum, count);
}

#endif
