/* tb_omp.c -- the Task Bench graphs (tb_core.h) with OpenMP tasks: one
 * thread creates every task, timestep by timestep, each with a depend(in:)
 * on the slots of its dependencies (an iterator over its dependency list)
 * and a depend(out:) on its own slot; the runtime starts a task when its
 * inputs are written.  OMP_NUM_THREADS threads.  Arguments and output:
 * tb_core.h. */
#include <omp.h>

#include "tb_core.h"

/* gcc 12 does not count the uses of slots and n inside a depend iterator. */
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"

static void tb_omp_run(struct tb_graph *g)
{
    struct tb_slot *slots = g->slots;
    long *dl = g->dep_list;
#pragma omp parallel
#pragma omp single
    for (long t = 0; t < g->T; t++)
        for (long i = tb_offset(g, t); i < tb_offset(g, t) + tb_width(g, t); i++) {
            long x = t * g->W + i, a = g->dep_at[x], n = g->dep_at[x + 1] - a;
#pragma omp task firstprivate(x) depend(iterator(k = 0:n), in: slots[dl[a + k]]) \
    depend(out: slots[x])
            tb_compute(g, x);
        }
}

int main(int argc, char **argv)
{
    struct tb_graph g;
    double t0;
    tb_init(&g, argc, argv);
    t0 = omp_get_wtime();
    if (g.run)
        tb_omp_run(&g);
    fprintf(stderr, "compute_s=%.6f\n", omp_get_wtime() - t0);
    tb_print(&g);
    return 0;
}
