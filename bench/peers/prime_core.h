/*
 * prime_core.h -- the prime-checker's arithmetic, shared by the C peers of
 * examples/prime.dasm.  Runner i of R checks the N numbers START + i*N ..
 * START + i*N + N - 1 by trial division: 2 is prime, other even numbers and
 * numbers below 2 are not, and an odd n is prime when no odd d with
 * d*d <= n divides it.  The same steps, in the same order, as the DISA
 * program, so both do the same work.
 */
#ifndef PRIME_CORE_H
#define PRIME_CORE_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* 1 if n is prime, else 0 (n < 2^62). */
static inline int prime_is(int64_t n)
{
    if (n < 2)
        return 0;
    if (n == 2)
        return 1;
    if (n % 2 == 0)
        return 0;
    for (int64_t d = 3; d * d <= n; d += 2)
        if (n % d == 0)
            return 0;
    return 1;
}

/* Primes among the numbers of runner i. */
static inline int64_t prime_count_chunk(int64_t start, int64_t i, int64_t n)
{
    int64_t lo = start + i * n, cnt = 0;
    for (int64_t v = lo; v < lo + n; v++)
        cnt += prime_is(v);
    return cnt;
}

/* Reads START R N from argv[1..3]; exits with status 2 on a bad argument. */
static inline void prime_args(int argc, char **argv, int64_t p[3])
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s START R N\n", argv[0]);
        exit(2);
    }
    for (int i = 0; i < 3; i++) {
        char *end;
        p[i] = strtoll(argv[1 + i], &end, 10);
        if (*end || p[i] < 0) {
            fprintf(stderr, "%s: bad number '%s'\n", argv[0], argv[1 + i]);
            exit(2);
        }
    }
}

#endif
