/*
 * handoff.c -- what it costs one process to hand the turn to another on
 * this host: the floor under every crossing of a runner between the
 * master and an RComp (docs/performance.md, "Where a short task's time
 * goes at -n 2").
 *
 * Two processes play ping-pong N times; in the first two ways the waiting
 * side sleeps in the kernel until the other side rings:
 *
 *   socket    one byte on a UNIX stream socket pair (the DVM's doorbell,
 *             net/conn.c), blocking read
 *   eventfd   an 8-byte write to an eventfd, blocking read
 *   poll      no ring: each side spins on a word in shared memory,
 *             yielding the CPU every 64 spins (the DVM's pollers,
 *             util/spin.h, pause between polls and yield every other one)
 *
 * each with both processes on one CPU (the turn passes by a context
 * switch) and on two (the sleeper's CPU is idle and must be woken: an
 * interrupt between virtual CPUs on a virtual machine).  One JSON line
 * per result: the median of 5 rounds of N round trips, in microseconds
 * per one-way hand-off.
 *
 * usage: handoff [N]
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum mech { M_SOCKET, M_EVENTFD, M_POLL };
static const char *mech_name[] = { "socket", "eventfd", "poll" };

typedef struct chan {
    enum mech m;
    int sv[2];                  /* socket pair */
    int ev[2];                  /* eventfds: to the peer, back */
    volatile uint64_t *word;    /* shared: the turn number */
} chan;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Pins the calling process to cpu; 0 on success. */
static int pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    return sched_setaffinity(0, sizeof s, &s);
}

/* Spins until *word == want, yielding every 64 spins. */
static void spin_until(volatile uint64_t *word, uint64_t want)
{
    for (unsigned i = 1; __atomic_load_n(word, __ATOMIC_ACQUIRE) != want; i++)
        if (i % 64 == 0)
            sched_yield();
}

/* Side `side` (0 starts) passes the turn for turn t; exits on an error. */
static void pass(chan *c, int side, uint64_t t)
{
    char b = 0;
    uint64_t one = 1;
    int ok = 1;
    switch (c->m) {
    case M_SOCKET:
        ok = write(c->sv[side], &b, 1) == 1;
        break;
    case M_EVENTFD:
        ok = write(c->ev[side], &one, 8) == 8;
        break;
    case M_POLL:
        __atomic_store_n(c->word, t, __ATOMIC_RELEASE);
        break;
    }
    if (!ok) {
        perror("handoff: write");
        exit(1);
    }
}

/* Side `side` waits for turn t. */
static void await(chan *c, int side, uint64_t t)
{
    char b;
    uint64_t got;
    int ok = 1;
    switch (c->m) {
    case M_SOCKET:
        ok = read(c->sv[side], &b, 1) == 1;
        break;
    case M_EVENTFD:
        ok = read(c->ev[!side], &got, 8) == 8;
        break;
    case M_POLL:
        spin_until(c->word, t);
        break;
    }
    if (!ok) {
        perror("handoff: read");
        exit(1);
    }
}

/* N round trips between this process (cpu a) and a child (cpu b), -1
 * for no pinning; returns ns per one-way hand-off, 0 on failure. */
static double play(enum mech m, int a, int b, int n)
{
    chan c = { .m = m };
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, c.sv) ||
        (c.ev[0] = eventfd(0, 0)) < 0 || (c.ev[1] = eventfd(0, 0)) < 0)
        return 0;
    c.word = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (c.word == MAP_FAILED)
        return 0;
    *c.word = 0;
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        if (b >= 0 && pin(b))
            _exit(1);
        for (int i = 0; i < n; i++) {
            await(&c, 1, 2 * (uint64_t)i + 1);
            pass(&c, 1, 2 * (uint64_t)i + 2);
        }
        _exit(0);
    }
    if (a >= 0)
        pin(a);
    uint64_t t0 = now_ns();
    for (int i = 0; i < n; i++) {
        pass(&c, 0, 2 * (uint64_t)i + 1);
        await(&c, 0, 2 * (uint64_t)i + 2);
    }
    double ns = (double)(now_ns() - t0) / (2.0 * n);
    int status;
    waitpid(pid, &status, 0);
    close(c.sv[0]);
    close(c.sv[1]);
    close(c.ev[0]);
    close(c.ev[1]);
    munmap((void *)c.word, 4096);
    if (a >= 0) {               /* back to every CPU */
        cpu_set_t s;
        CPU_ZERO(&s);
        for (int i = 0; i < CPU_SETSIZE; i++)
            CPU_SET(i, &s);
        sched_setaffinity(0, sizeof s, &s);
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? ns : 0;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) {
        fprintf(stderr, "usage: handoff [N]\n");
        return 2;
    }
    for (int m = M_SOCKET; m <= M_POLL; m++)
        for (int cpus = 1; cpus <= 2; cpus++) {
            if (cpus == 2 && ncpu < 2)
                continue;
            double r[5];
            for (int k = 0; k < 5; k++)
                if (!(r[k] = play(m, 0, cpus == 1 ? 0 : 1, n))) {
                    fprintf(stderr, "handoff: %s failed\n", mech_name[m]);
                    return 1;
                }
            qsort(r, 5, sizeof *r, cmp_double);
            printf("{\"bench\":\"handoff\",\"mechanism\":\"%s\",\"cpus\":%d,"
                   "\"n\":%d,\"one_way_us\":%.2f,\"min_us\":%.2f}\n",
                   mech_name[m], cpus, n, r[2] / 1e3, r[0] / 1e3);
            fflush(stdout);
        }
    return 0;
}
