/*
 * mem_floor.c -- what the mem benchmark's heap could cost at best, by the
 * kind of memory it lives in.  Runs the access pattern of bench/mem.dasm
 * (8 write passes, then 8 read passes, over WORDS 64-bit words) on:
 *
 *   anon        private anonymous memory, 4 KiB pages (what the C peer gets
 *               from malloc when transparent huge pages are "madvise")
 *   anon_huge   the same with MADV_HUGEPAGE
 *   memfd       a MAP_SHARED mapping of a fresh memfd: a runner writing
 *               straight into frames of the store
 *   memfd_populate  memfd, every page allocated first in one call
 *               (MADV_POPULATE_WRITE) instead of one fault per page
 *   memfd_scan  memfd, then one read of every page deciding whether it is
 *               all zeros and counting its nonzero bytes: the least a
 *               commit that adopts the pages must do
 *   copy_diff   anon, then every page compared with zeros and copied into a
 *               memfd: the shape of the commit that copies
 *   huge_copy   anon_huge, then every page tested for zeros and the whole
 *               written into a memfd with pwrite (16 MiB a call): the least
 *               a span kept in huge anonymous pages while the runner runs,
 *               and copied into the store's frames at its commit, would pay
 *               where shared memory has no huge pages
 *
 * Prints one JSON line per variant: {"bench":"mem-floor","kind":...,"s":...}
 * with the median of RUNS runs (default 3).
 *
 *     mem_floor WORDS [RUNS]
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PASSES 8
#define PAGE   4096

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* mem_peer.c's loops, the same code on purpose: both programs must time
 * the same instructions, and each peer stays one self-contained file. */
static uint64_t passes(uint64_t *a, size_t n)
{
    uint64_t sum = 0;
    for (uint64_t p = 0; p < PASSES; p++)
        for (size_t i = 0; i < n; i++)
            a[i] = i + p;
    for (uint64_t p = 0; p < PASSES; p++)
        for (size_t i = 0; i < n; i++)
            sum += a[i];
    return sum;
}

/* Nonzero bytes of every page (the changed-byte mask of a page that was
 * zero), summed so that the compiler keeps the scan. */
static uint64_t scan(const uint8_t *b, size_t bytes)
{
    uint64_t nz = 0;
    for (size_t pg = 0; pg < bytes; pg += PAGE) {
        const uint64_t *w = (const uint64_t *)(b + pg);
        uint64_t any = 0;
        for (size_t i = 0; i < PAGE / 8; i++)
            any |= w[i];
        if (any)
            for (size_t i = 0; i < PAGE; i++)
                nz += b[pg + i] != 0;
    }
    return nz;
}

/* Pages of b that are not all zeros (the commit's first test of each). */
static uint64_t nonzero_pages(const uint8_t *b, size_t bytes)
{
    uint64_t n = 0;
    for (size_t pg = 0; pg < bytes; pg += PAGE) {
        const uint64_t *w = (const uint64_t *)(b + pg);
        size_t i = 0;
        while (i < PAGE / 8 && !w[i])
            i++;
        n += i < PAGE / 8;
    }
    return n;
}

/* Writes b[0..bytes) into a fresh memfd through pwrite; exits on error. */
static void pwrite_memfd(const uint8_t *b, size_t bytes)
{
    int fd = memfd_create("mem_floor_copy", 0);
    if (fd < 0 || ftruncate(fd, (off_t)bytes)) {
        perror("mem_floor: memfd");
        exit(1);
    }
    for (size_t off = 0; off < bytes;) {
        size_t len = bytes - off < ((size_t)1 << 24) ? bytes - off
                                                      : (size_t)1 << 24;
        ssize_t k = pwrite(fd, b + off, len, (off_t)off);
        if (k <= 0) {
            perror("mem_floor: pwrite");
            exit(1);
        }
        off += (size_t)k;
    }
    close(fd);
}

static void *map_memfd(size_t bytes, int *fd)
{
    *fd = memfd_create("mem_floor", 0);
    if (*fd < 0 || ftruncate(*fd, (off_t)bytes))
        return MAP_FAILED;
    return mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
}

static double one(const char *kind, size_t n, uint64_t *sum)
{
    size_t bytes = n * 8;
    int fd = -1, fd2 = -1;
    double t0 = now();
    uint64_t *a;
    if (!strncmp(kind, "memfd", 5))
        a = map_memfd(bytes, &fd);
    else
        a = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED) {
        perror("mem_floor");
        exit(1);
    }
    if (!strcmp(kind, "anon_huge") || !strcmp(kind, "huge_copy"))
        madvise(a, bytes, MADV_HUGEPAGE);
    if (!strcmp(kind, "memfd_populate") &&
        madvise(a, bytes, MADV_POPULATE_WRITE)) {
        perror("mem_floor: MADV_POPULATE_WRITE");
        exit(1);
    }
    *sum = passes(a, n);
    if (!strcmp(kind, "memfd_scan"))
        *sum += scan((const uint8_t *)a, bytes) * 0;
    if (!strcmp(kind, "copy_diff")) {
        uint8_t *f = map_memfd(bytes, &fd2);
        if (f == MAP_FAILED) {
            perror("mem_floor");
            exit(1);
        }
        *sum += scan((const uint8_t *)a, bytes) * 0;
        memcpy(f, a, bytes);
        munmap(f, bytes);
        close(fd2);
    }
    if (!strcmp(kind, "huge_copy")) {
        *sum += nonzero_pages((const uint8_t *)a, bytes) * 0;
        pwrite_memfd((const uint8_t *)a, bytes);
    }
    munmap(a, bytes);
    if (fd >= 0)
        close(fd);
    return now() - t0;
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: mem_floor WORDS [RUNS]\n");
        return 2;
    }
    size_t n = strtoull(argv[1], NULL, 0);
    int runs = argc == 3 ? atoi(argv[2]) : 3;
    if (runs < 1 || runs > 99 || !n) {
        fprintf(stderr, "mem_floor: bad WORDS or RUNS\n");
        return 2;
    }
    static const char *kinds[] = { "anon", "anon_huge", "memfd",
                                   "memfd_populate", "memfd_scan", "copy_diff",
                                   "huge_copy" };
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        double t[99];
        uint64_t sum = 0;
        for (int r = 0; r < runs; r++)
            t[r] = one(kinds[k], n, &sum);
        qsort(t, (size_t)runs, sizeof *t, cmp_d);
        printf("{\"bench\":\"mem-floor\",\"kind\":\"%s\",\"s\":%.4f,"
               "\"sum\":%" PRIu64 "}\n", kinds[k], t[runs / 2], sum);
        fflush(stdout);
    }
    return 0;
}
