/*
 * spin.c -- polling before sleeping, with back-off when the CPU is
 * shared (spin.h).
 *
 * Contention is seen through getrusage(RUSAGE_THREAD)'s count of
 * involuntary context switches, read when a wait starts and every
 * SPIN_CHECK polls: a poller that was preempted knows that some other
 * process was runnable on its CPU.  The back-off state is per thread (the
 * RComp's page handler and its main thread wait for different peers).
 *
 * Every SPIN_YIELD_EVERY-th poll yields the CPU (sched_yield) instead of
 * pausing.  The process polled for is often waiting for this very CPU:
 * an RComp that just rang its master polls for the next dispatch while
 * the master, woken by that ring, sits in the run queue behind it.  The
 * scheduler lets a woken task preempt a running one only after a delay
 * (18-23 us between an RComp's ring and its master's first commit on the
 * VM of docs/performance.md, "Polls that yield"); a yield hands the CPU
 * over at once.  With nobody else runnable it returns at once, the price
 * of a system call every other poll.  But a yield hands the CPU to
 * whatever is runnable, and a busy process keeps it for its whole time
 * slice (milliseconds): a yield that took longer than the wait's budget
 * ends the polls and backs off like a preempted poll.  Without that rule
 * every hand-off of a chain beside two busy loops cost a time slice (a
 * chain of 1,000 tasks: 145 ms -> 3.7 s, the failure that made the first
 * polling version of 2026-12-01 drop its yields).
 */
#define _GNU_SOURCE
#include "util/spin.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include "util/clock.h"

/* Polls between two looks at the involuntary switch count. */
#define SPIN_CHECK 8u
/* Polls per yield of the CPU (the others pause). */
#define SPIN_YIELD_EVERY 2u
/* With shared memory to poll, polls between two looks at the
 * descriptors. */
#define SPIN_FD_EVERY 4u

static uint64_t budget_ns;
static int ncpus;
static pthread_once_t settings_once = PTHREAD_ONCE_INIT;

static __thread unsigned skip_left;     /* waits left to sleep at once */
static __thread unsigned skip_next;     /* waits skipped after the next
                                           disturbed poll (0: none yet) */

/* Parses DVM_SPIN_US (anything but a plain decimal number up to
 * SPIN_MAX_US keeps the default) and counts the CPUs. */
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
    pthread_once(&settings_once, read_settings);
    return budget_ns;
}

int spin_cpus(void)
{
    pthread_once(&settings_once, read_settings);
    return ncpus;
}

/* This thread's involuntary context switches so far (-1 if unknown). */
static long involuntary_switches(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nivcsw : -1;
}

int spin_begin(spin_wait *w, uint64_t budget_ns)
{
    w->budget = budget_ns;
    if (!w->budget)
        return 0;
    if (skip_left) {
        skip_left--;
        return 0;
    }
    w->start = clock_now_ns();
    w->nivcsw = involuntary_switches();
    w->polls = 0;
    return 1;
}

/* Another process wanted this CPU while it polled: skip the next waits'
 * polls, twice as many as last time. */
static void back_off(void)
{
    skip_next = skip_next ? skip_next * 2 : SPIN_SKIP_MIN;
    if (skip_next > SPIN_SKIP_MAX)
        skip_next = SPIN_SKIP_MAX;
    skip_left = skip_next;
}

int spin_next(spin_wait *w)
{
    if (++w->polls % SPIN_CHECK == 0 && w->nivcsw >= 0 &&
        involuntary_switches() != w->nivcsw) {
        back_off();
        return 0;
    }
    uint64_t now = clock_now_ns();
    if (now - w->start >= w->budget)
        return 0;
    if (w->polls % SPIN_YIELD_EVERY == 0) {
        sched_yield();          /* the peer may be waiting for this CPU */
        if (clock_now_ns() - now > w->budget) { /* someone else's slice */
            back_off();
            return 0;
        }
        return 1;
    }
#if defined(__x86_64__) || defined(__i386__)
    for (int i = 0; i < 32; i++)
        __builtin_ia32_pause();
#endif
    return 1;
}

void spin_found(spin_wait *w)
{
    (void)w;
    skip_next /= 2;
}

/* Whether mem has something now. */
static int mem_ready(const spin_mem *mem)
{
    return mem && mem->ready(mem->arg);
}

/* The blocking epoll_wait, with mem's peers asked to ring first. */
static int epoll_sleep(int epfd, struct epoll_event *ev, int maxev, int to,
                       const spin_mem *mem)
{
    if (!mem)
        return epoll_wait(epfd, ev, maxev, to);
    if (!mem->sleep(mem->arg))
        return 0;
    int n = epoll_wait(epfd, ev, maxev, to);
    int e = errno;
    mem->woke(mem->arg);
    errno = e;
    return n;
}

int spin_epoll_wait(int epfd, struct epoll_event *ev, int maxev, int to,
                    int spin, const spin_mem *mem)
{
    spin_wait w;
    /* While memory keeps the loop busy, the descriptors are still looked
     * at every SPIN_FD_EVERY-th turn, so that they are never starved. */
    static __thread unsigned busy_turns;
    if (mem_ready(mem))
        return busy_turns++ % SPIN_FD_EVERY ? 0
                                             : epoll_wait(epfd, ev, maxev, 0);
    if (to == 0)
        return epoll_wait(epfd, ev, maxev, 0);
    if (!spin || !spin_begin(&w, spin_budget_ns()))
        return epoll_sleep(epfd, ev, maxev, to, mem);
    /* Memory is looked at on every poll, the descriptors on every
     * SPIN_FD_EVERY-th (a system call each). */
    for (unsigned i = 0;; i++) {
        if (mem_ready(mem)) {
            spin_found(&w);
            return 0;
        }
        int n = !mem || i % SPIN_FD_EVERY == 0
                    ? epoll_wait(epfd, ev, maxev, 0) : 0;
        if (n != 0) {
            spin_found(&w);
            return n;
        }
        if (!spin_next(&w))
            break;
    }
    return epoll_sleep(epfd, ev, maxev, to, mem);
}
