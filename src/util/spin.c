/*
 * spin.c -- the poll-before-sleep budget (spin.h).
 */
#define _GNU_SOURCE
#include "util/spin.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "util/clock.h"

static uint64_t budget_ns;
static int ncpus;
static pthread_once_t budget_once = PTHREAD_ONCE_INIT;

/* Parses DVM_SPIN_US; anything but a plain decimal number up to
 * SPIN_MAX_US keeps the default. */
static void read_settings(void)
{
    const char *s = getenv("DVM_SPIN_US");
    uint64_t us = SPIN_DEFAULT_US;
    if (s && *s) {
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (!*end && *s >= '0' && *s <= '9' && v <= SPIN_MAX_US)
            us = v;
    }
    budget_ns = us * 1000;
    cpu_set_t set;
    ncpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    if (ncpus < 1)
        ncpus = 1;
}

uint64_t spin_budget_ns(void)
{
    pthread_once(&budget_once, read_settings);
    return budget_ns;
}

int spin_cpus(void)
{
    pthread_once(&budget_once, read_settings);
    return ncpus;
}

void spin_pause(void)
{
    sched_yield();
}

int spin_epoll_wait(int epfd, struct epoll_event *ev, int maxev, int to,
                    int spin)
{
    uint64_t budget = spin_budget_ns();
    if (to == 0 || !spin || !budget)
        return epoll_wait(epfd, ev, maxev, to);
    uint64_t start = clock_now_ns();
    do {
        int n = epoll_wait(epfd, ev, maxev, 0);
        if (n != 0)
            return n;
        spin_pause();
    } while (clock_now_ns() - start < budget);
    return epoll_wait(epfd, ev, maxev, to);
}
