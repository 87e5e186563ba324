/* imbalance_omp.c -- bench/imbalance's peer: the tasks of mandel.c0 or
 * skew.c0, one OpenMP loop iteration each, schedule(runtime)
 * (OMP_SCHEDULE=static or dynamic,1).
 *   usage: imbalance_omp mandel W H MAXIT | skew N LONG SHORT
 * Prints the sum of the tasks' results (mod 2^64, unsigned), and
 * compute_s=... on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* mandel.c0's row y of an image w x h. */
static unsigned long mandel_row(long y, long w, long h, long maxit)
{
    long total = 0;
    double ci = -1.25 + 2.5 * (double)y / (double)h;
    for (long x = 0; x < w; x++) {
        double cr = -2.0 + 2.6 * (double)x / (double)w;
        double zr = 0.0, zi = 0.0;
        long k = 0;
        while (k < maxit && zr * zr + zi * zi <= 4.0) {
            double t = zr * zr - zi * zi + cr;
            zi = 2.0 * zr * zi + ci;
            zr = t;
            k++;
        }
        total += k;
    }
    return (unsigned long)total;
}

/* skew.c0's task i: LONG steps for task 0, SHORT for the others. */
static unsigned long skew_task(long i, long sl, long ss)
{
    long steps = i == 0 ? sl : ss;
    unsigned long h = (unsigned long)i + 1;
    for (long k = 0; k < steps; k++)
        h = h * 6364136223846793005UL + 1442695040888963407UL;
    return h;
}

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[1], "mandel") && strcmp(argv[1], "skew")))
        return 2;
    int mandel = !strcmp(argv[1], "mandel");
    long a = atol(argv[2]), b = atol(argv[3]), c = atol(argv[4]);
    long n = mandel ? b : a;
    unsigned long *v = calloc((size_t)n, sizeof *v);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
#pragma omp parallel for schedule(runtime)
    for (long i = 0; i < n; i++)
        v[i] = mandel ? mandel_row(i, a, b, c) : skew_task(i, b, c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    unsigned long sum = 0;
    for (long i = 0; i < n; i++)
        sum += v[i];
    printf("%lu\n", sum);
    fprintf(stderr, "compute_s=%.6f\n", (double)(t1.tv_sec - t0.tv_sec) +
            (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    free(v);
    return 0;
}
