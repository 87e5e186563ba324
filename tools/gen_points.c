/*
 * gen_points.c -- writes the input files of the evaluation workloads.
 *
 *   gen_points points SEED N K ITERS CHUNKS FILE
 *       a k-means data set in the format of docs/kmeans-format.md: N 4-D
 *       points drawn around K centres, with the run parameters ITERS and
 *       CHUNKS in the header.  The same arguments give the same bytes on
 *       every machine: the generator is splitmix64 and the arithmetic uses
 *       no library function (a point is its centre plus, per coordinate,
 *       the sum of three uniform numbers, a bell-shaped offset).
 *   gen_points prime START R N FILE
 *       the parameter channel of examples/prime.dasm: three little-endian
 *       u64 START, R, N.
 *
 * Exit status 0 on success, 2 on bad arguments or a write error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KM_MAGIC UINT64_C(0x31534E4D4B4D5644) /* "DVMKMNS1" */
#define KM_DIM 4
#define BOX 1000.0   /* centres lie in [0, BOX)^4 */
#define SPREAD 20.0  /* a point lies within SPREAD*1.5 of its centre */

/* Advances *s and returns the next splitmix64 output. */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A uniform double in [0, 1) with 53 random bits. */
static double uniform(uint64_t *s)
{
    return (double)(splitmix64(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* Parses a non-negative decimal integer; returns 0 on success. */
static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '\0')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* Writes the little-endian bytes of v (this host is little endian, which the
 * DVM requires anyway). Returns 0 on success. */
static int put_u64(FILE *f, uint64_t v)
{
    return fwrite(&v, sizeof v, 1, f) == 1 ? 0 : -1;
}

static int put_f64(FILE *f, double v)
{
    return fwrite(&v, sizeof v, 1, f) == 1 ? 0 : -1;
}

/* Writes the k-means file; returns 0 on success. */
static int write_points(FILE *f, uint64_t seed, uint64_t n, uint64_t k,
                        uint64_t iters, uint64_t chunks)
{
    uint64_t hdr[8] = { KM_MAGIC, n, KM_DIM, k, iters, chunks, seed, 0 };
    for (int i = 0; i < 8; i++)
        if (put_u64(f, hdr[i]))
            return -1;
    double *centre = malloc(k * KM_DIM * sizeof *centre);
    if (!centre)
        return -1;
    uint64_t s = seed;
    for (uint64_t i = 0; i < k * KM_DIM; i++)
        centre[i] = uniform(&s) * BOX;
    int rc = 0;
    for (uint64_t p = 0; p < n && !rc; p++) {
        uint64_t c = splitmix64(&s) % k;
        for (int d = 0; d < KM_DIM && !rc; d++) {
            double off = uniform(&s) + uniform(&s) + uniform(&s) - 1.5;
            rc = put_f64(f, centre[c * KM_DIM + d] + off * SPREAD);
        }
    }
    free(centre);
    return rc;
}

static int usage(void)
{
    fputs("usage: gen_points points SEED N K ITERS CHUNKS FILE\n"
          "       gen_points prime START R N FILE\n", stderr);
    return 2;
}

/* Closes f and reports a failed write (rc != 0) or close; returns the exit status. */
static int finish(FILE *f, const char *path, int rc)
{
    if (fclose(f) || rc) {
        fprintf(stderr, "gen_points: %s: write error\n", path);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t v[5];
    if (argc == 8 && !strcmp(argv[1], "points")) {
        for (int i = 0; i < 5; i++)
            if (parse_u64(argv[2 + i], &v[i]))
                return usage();
        if (v[2] < 1 || v[2] > v[1] || v[4] < 1) {
            fputs("gen_points: need 1 <= K <= N and CHUNKS >= 1\n", stderr);
            return 2;
        }
        FILE *f = fopen(argv[7], "wb");
        if (!f) {
            perror(argv[7]);
            return 2;
        }
        return finish(f, argv[7], write_points(f, v[0], v[1], v[2], v[3], v[4]));
    }
    if (argc == 6 && !strcmp(argv[1], "prime")) {
        for (int i = 0; i < 3; i++)
            if (parse_u64(argv[2 + i], &v[i]))
                return usage();
        FILE *f = fopen(argv[5], "wb");
        if (!f) {
            perror(argv[5]);
            return 2;
        }
        int rc = put_u64(f, v[0]) || put_u64(f, v[1]) || put_u64(f, v[2]);
        return finish(f, argv[5], rc);
    }
    return usage();
}
