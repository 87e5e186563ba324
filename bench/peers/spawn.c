/*
 * spawn.c -- what a task costs the operating system, the C peer of
 * bench/runner.dasm: COUNT times pthread_create + pthread_join of an empty
 * thread, then COUNT/10 times fork + waitpid of a child that exits at once.
 * Prints "pthread_us=X fork_us=Y", the mean cost of one of each in
 * microseconds.
 *
 * usage: spawn [COUNT]   (default 20000)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *empty(void *arg)
{
    return arg;
}

/* Mean microseconds of one pthread_create + pthread_join; -1 on failure. */
static double thread_us(long count)
{
    double t0 = now();
    for (long i = 0; i < count; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, empty, NULL) || pthread_join(t, NULL))
            return -1;
    }
    return (now() - t0) * 1e6 / count;
}

/* Mean microseconds of one fork + waitpid; -1 on failure. */
static double fork_us(long count)
{
    double t0 = now();
    for (long i = 0; i < count; i++) {
        pid_t pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0)
            _exit(0);
        if (waitpid(pid, NULL, 0) != pid)
            return -1;
    }
    return (now() - t0) * 1e6 / count;
}

int main(int argc, char **argv)
{
    long count = argc > 1 ? atol(argv[1]) : 20000;
    if (count < 10) {
        fprintf(stderr, "usage: %s [COUNT >= 10]\n", argv[0]);
        return 2;
    }
    double t = thread_us(count), f = fork_us(count / 10);
    if (t < 0 || f < 0) {
        perror("spawn");
        return 1;
    }
    printf("pthread_us=%.3f fork_us=%.3f\n", t, f);
    return 0;
}
