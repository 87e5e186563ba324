/*
 * kmeans_core.h -- k-means (Lloyd) as every implementation of this
 * benchmark computes it, shared by the C peers of examples/kmeans.dasm.
 *
 * The data set (docs/kmeans-format.md) carries n, k, the iteration count
 * and the chunk count W.  Initial centroids are the first k points.  Each
 * iteration: for every chunk w, points [w*n/W, (w+1)*n/W) are assigned to
 * the nearest centroid (squared distance summed over the 4 coordinates in
 * order, the lowest index on a tie) and summed into the chunk's partial
 * k x (4 sums, count), in point order; the partials are then added chunk
 * by chunk in order, and a centroid becomes sum/count unless its cluster is
 * empty (then it stays).  With this fixed order the result does not depend
 * on how chunks are spread over threads, ranks or RComps.
 */
#ifndef KMEANS_CORE_H
#define KMEANS_CORE_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KM_MAGIC UINT64_C(0x31534E4D4B4D5644) /* "DVMKMNS1" */
#define KM_DIM 4
#define KM_PART 5 /* doubles per cluster in a partial: 4 sums, count */

struct km {
    uint64_t n, k, iters, chunks;
    double *pts;  /* n x 4 */
    double *cent; /* k x 4 */
};

/* Loads the data set at path into m (centroids = the first k points).
 * Returns 0, or -1 after a message on standard error. */
static inline int km_load(const char *path, struct km *m)
{
    uint64_t h[8];
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    int ok = fread(h, sizeof h, 1, f) == 1 && h[0] == KM_MAGIC &&
             h[2] == KM_DIM && h[3] >= 1 && h[3] <= h[1] && h[5] >= 1;
    if (ok) {
        m->n = h[1], m->k = h[3], m->iters = h[4], m->chunks = h[5];
        m->pts = malloc(m->n * KM_DIM * sizeof(double));
        m->cent = malloc(m->k * KM_DIM * sizeof(double));
        ok = m->pts && m->cent &&
             fread(m->pts, sizeof(double) * KM_DIM, m->n, f) == m->n;
    }
    fclose(f);
    if (!ok) {
        fprintf(stderr, "%s: not a k-means data set\n", path);
        return -1;
    }
    memcpy(m->cent, m->pts, m->k * KM_DIM * sizeof(double));
    return 0;
}

/* Index of the centroid nearest to x (the lowest on a tie). */
static inline uint64_t km_nearest(const struct km *m, const double *x)
{
    double best = 1.0 / 0.0;
    uint64_t bi = 0;
    for (uint64_t c = 0; c < m->k; c++) {
        const double *y = m->cent + c * KM_DIM;
        double t = x[0] - y[0], d = t * t;
        t = x[1] - y[1], d += t * t;
        t = x[2] - y[2], d += t * t;
        t = x[3] - y[3], d += t * t;
        if (d < best)
            best = d, bi = c;
    }
    return bi;
}

/* Computes chunk w's partial (k x KM_PART doubles) into part. */
static inline void km_partial(const struct km *m, uint64_t w, double *part)
{
    uint64_t lo = w * m->n / m->chunks, hi = (w + 1) * m->n / m->chunks;
    memset(part, 0, m->k * KM_PART * sizeof(double));
    for (uint64_t i = lo; i < hi; i++) {
        const double *x = m->pts + i * KM_DIM;
        double *a = part + km_nearest(m, x) * KM_PART;
        a[0] += x[0], a[1] += x[1], a[2] += x[2], a[3] += x[3], a[4] += 1.0;
    }
}

/* Adds the W partials (parts: W x k x KM_PART) in chunk order and moves
 * every non-empty cluster's centroid to its mean. */
static inline void km_combine(struct km *m, const double *parts)
{
    for (uint64_t c = 0; c < m->k; c++) {
        double s[KM_PART] = { 0, 0, 0, 0, 0 };
        for (uint64_t w = 0; w < m->chunks; w++)
            for (int j = 0; j < KM_PART; j++)
                s[j] += parts[(w * m->k + c) * KM_PART + j];
        if (s[4] != 0)
            for (int j = 0; j < KM_DIM; j++)
                m->cent[c * KM_DIM + j] = s[j] / s[4];
    }
}

/* Prints the iteration count, then the centroids one value a line (%.17g),
 * the output of `dvm run kmeans.dasm --dump centroids:K*4:f`. */
static inline void km_print(const struct km *m)
{
    printf("%" PRIu64 "\n", m->iters);
    for (uint64_t i = 0; i < m->k * KM_DIM; i++)
        printf("%.17g\n", m->cent[i]);
}

#endif
