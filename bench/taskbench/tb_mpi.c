/* tb_mpi.c -- the Task Bench graphs (tb_core.h) with MPI: rank r of P owns
 * the columns r * W / P .. (r + 1) * W / P - 1 and runs their tasks
 * timestep by timestep.  A dependency on another rank's task is one
 * message: when a task is done its rank sends the slot (MPI_Isend) to each
 * other rank that owns a task of the next timestep reading it, once per
 * reading task, tagged with the reader's column and the dependency's
 * column; the reader receives it (MPI_Recv) into its copy of the slots
 * before it runs.  All ranks' slots are gathered on rank 0 at the end for
 * the checksum.  Arguments and output: tb_core.h. */
#include <mpi.h>

#include "tb_core.h"

/* The rank owning column i: the last r whose first column r * W / p <= i. */
static long tb_owner(const struct tb_graph *g, long i, int p)
{
    long r = p - 1;
    while (r > 0 && r * g->W / p > i)
        r--;
    return r;
}

/* Receives the remote inputs of task x = (t, i) on rank me. */
static void tb_mpi_recv(struct tb_graph *g, long x, int me, int p)
{
    for (long k = g->dep_at[x]; k < g->dep_at[x + 1]; k++) {
        long d = g->dep_list[k], src = tb_owner(g, d % g->W, p);
        if (src != me)
            MPI_Recv(&g->slots[d], (int)sizeof(struct tb_slot), MPI_BYTE, (int)src,
                     (int)((x % g->W) * g->W + d % g->W), MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
}

/* Sends task d's slot to every other rank's task of the next timestep that
 * reads it; appends the requests to req (waited for at the end, so no
 * rank waits on a send while its reader waits on it). */
static long tb_mpi_send(struct tb_graph *g, long d, int me, int p, MPI_Request *req)
{
    long n = 0, t = d / g->W + 1;
    if (t >= g->T)
        return 0;
    for (long c = t * g->W; c < (t + 1) * g->W; c++) {
        long dst = tb_owner(g, c % g->W, p);
        if (dst == me)
            continue;
        for (long k = g->dep_at[c]; k < g->dep_at[c + 1]; k++)
            if (g->dep_list[k] == d)
                MPI_Isend(&g->slots[d], (int)sizeof(struct tb_slot), MPI_BYTE, (int)dst,
                          (int)((c % g->W) * g->W + d % g->W), MPI_COMM_WORLD, &req[n++]);
    }
    return n;
}

static void tb_mpi_run(struct tb_graph *g, int me, int p)
{
    long lo = (long)me * g->W / p, hi = ((long)me + 1) * g->W / p, n = 0;
    MPI_Request *req = malloc(sizeof *req * (size_t)(g->dep_at[g->W * g->T] + 1));
    if (!req)
        tb_die("out of memory");
    for (long t = 0; t < g->T; t++) {
        for (long i = lo; i < hi; i++) {
            long x = t * g->W + i;
            if (!tb_exists(g, t, i))
                continue;
            tb_mpi_recv(g, x, me, p);
            tb_compute(g, x);
            n += tb_mpi_send(g, x, me, p, req + n);
        }
    }
    MPI_Waitall((int)n, req, MPI_STATUSES_IGNORE);
    free(req);
}

int main(int argc, char **argv)
{
    struct tb_graph g;
    int me, p;
    double t0;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &p);
    tb_init(&g, argc, argv);
    if (g.W * g.W > 32767)
        tb_die("W too large for the message tags");
    MPI_Barrier(MPI_COMM_WORLD);
    t0 = MPI_Wtime();
    if (g.run)
        tb_mpi_run(&g, me, p);
    MPI_Barrier(MPI_COMM_WORLD);
    if (me == 0)
        fprintf(stderr, "compute_s=%.6f\n", MPI_Wtime() - t0);
    /* Each rank keeps only its own columns' slots (and copies of inputs);
     * the sum of the owned slots is the checksum. */
    for (long x = 0; x < g.W * g.T; x++)
        if (tb_owner(&g, x % g.W, p) != me)
            memset(&g.slots[x], 0, sizeof g.slots[x]);
    MPI_Allreduce(MPI_IN_PLACE, g.slots, (int)(g.W * g.T * 4), MPI_UINT64_T, MPI_SUM,
                  MPI_COMM_WORLD);
    if (me == 0)
        tb_print(&g);
    MPI_Finalize();
    return 0;
}
