/*
 * kmeans_mpi.c -- k-means in C + MPI (kmeans_core.h): every rank loads the
 * data set; rank r of P computes the chunks r, r+P, ... into a zeroed
 * W x k x 5 array, an MPI_Allreduce(SUM) gives every rank all partials
 * (each element is one rank's value plus zeros, so exact), and every rank
 * combines them in chunk order.  Rank 0 prints the iteration count and the
 * centroids, and the compute time on standard error.
 *
 * usage: mpirun -np P kmeans_mpi FILE
 */
#include <mpi.h>

#include "kmeans_core.h"

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    struct km m = { 0 };
    if (argc != 2 || km_load(argv[1], &m))
        MPI_Abort(MPI_COMM_WORLD, 2);
    size_t per = m.k * KM_PART, all = m.chunks * per;
    double *parts = malloc(all * sizeof(double));
    if (!parts)
        MPI_Abort(MPI_COMM_WORLD, 2);
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (uint64_t it = 0; it < m.iters; it++) {
        memset(parts, 0, all * sizeof(double));
        for (uint64_t w = (uint64_t)rank; w < m.chunks; w += (uint64_t)size)
            km_partial(&m, w, parts + w * per);
        MPI_Allreduce(MPI_IN_PLACE, parts, (int)all, MPI_DOUBLE, MPI_SUM,
                      MPI_COMM_WORLD);
        km_combine(&m, parts);
    }
    double t1 = MPI_Wtime();
    if (rank == 0) {
        km_print(&m);
        fprintf(stderr, "compute_s=%.6f\n", t1 - t0);
    }
    MPI_Finalize();
    return 0;
}
