/*
 * kmeans_omp.c -- k-means in C + OpenMP (kmeans_core.h): each iteration's
 * chunks are spread over the threads (OMP_NUM_THREADS), then combined in
 * order by one thread.  Built without -fopenmp it is the sequential
 * reference the tests use.  Prints the iteration count and the centroids;
 * the compute time (after loading) goes to standard error.
 *
 * usage: kmeans_omp FILE
 */
#ifdef _OPENMP
#include <omp.h>
#endif
#include <time.h>

#include "kmeans_core.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    struct km m = { 0 };
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    if (km_load(argv[1], &m))
        return 2;
    double *parts = malloc(m.chunks * m.k * KM_PART * sizeof(double));
    if (!parts)
        return 2;
    double t0 = now();
    for (uint64_t it = 0; it < m.iters; it++) {
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
        for (uint64_t w = 0; w < m.chunks; w++)
            km_partial(&m, w, parts + w * m.k * KM_PART);
        km_combine(&m, parts);
    }
    double t1 = now();
    km_print(&m);
    fprintf(stderr, "compute_s=%.6f\n", t1 - t0);
    free(parts);
    free(m.pts);
    free(m.cent);
    return 0;
}
