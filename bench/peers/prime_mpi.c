/*
 * prime_mpi.c -- the prime-checker in C + MPI: rank r of P checks the
 * chunks r, r+P, r+2P, ... (cyclic, so the large numbers are spread over
 * the ranks) and the counts are summed with MPI_Reduce.  Rank 0 prints the
 * count of primes, and the compute time on standard error.
 *
 * usage: mpirun -np P prime_mpi START R N
 */
#include <mpi.h>

#include "prime_core.h"

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int64_t p[3];
    prime_args(argc, argv, p);
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    long long mine = 0, total = 0;
    for (int64_t i = rank; i < p[1]; i += size)
        mine += prime_count_chunk(p[0], i, p[2]);
    MPI_Reduce(&mine, &total, 1, MPI_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    double t1 = MPI_Wtime();
    if (rank == 0) {
        printf("%lld\n", total);
        fprintf(stderr, "compute_s=%.6f\n", t1 - t0);
    }
    MPI_Finalize();
    return 0;
}
