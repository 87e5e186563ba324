/*
 * prime_omp.c -- the prime-checker in C + OpenMP: R chunks of N numbers,
 * one loop iteration a chunk, dynamically scheduled over the threads
 * (OMP_NUM_THREADS).  Prints the count of primes, and the compute time on
 * standard error as "compute_s=...".
 *
 * usage: prime_omp START R N
 */
#include <omp.h>

#include "prime_core.h"

int main(int argc, char **argv)
{
    int64_t p[3];
    prime_args(argc, argv, p);
    double t0 = omp_get_wtime();
    int64_t total = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : total)
    for (int64_t i = 0; i < p[1]; i++)
        total += prime_count_chunk(p[0], i, p[2]);
    double t1 = omp_get_wtime();
    printf("%" PRId64 "\n", total);
    fprintf(stderr, "compute_s=%.6f\n", t1 - t0);
    return 0;
}
