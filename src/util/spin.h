/*
 * spin.h -- when a process that waits for a peer polls before it sleeps.
 *
 * A runner's life crosses processes several times (master dispatches,
 * RComp runs and sends its result, master commits and dispatches what the
 * commit made ready).  When the side that waits is asleep, each crossing
 * is a wake-up, and on a virtual machine a wake-up of an idle CPU costs
 * tens of microseconds: more than the runner.  So a waiting side first
 * polls for a while without sleeping and sleeps only when nothing came --
 * the policy of OpenMP runtimes (GOMP_SPINCOUNT, OMP_WAIT_POLICY) and MPI
 * libraries.  Callers poll only when they have work in flight.
 *
 * Polling pays only while the poller has a CPU to itself.  On a machine
 * whose CPUs are all taken, a poller keeps the CPU from the very process
 * it waits for, and loses the scheduler's preference for a woken sleeper:
 * a chain of hand-offs then waits a time slice each (measured: 40 times
 * slower than sleeping).  So a poll watches its thread's involuntary
 * context switches: one means another process wanted this CPU, and the
 * thread stops polling at once and skips its next polls, the more the
 * more often that happens (exponential back-off, per thread), until polls
 * go undisturbed again.  Every other poll yields the CPU, so that the
 * peer, woken onto the poller's CPU, runs at once (spin.c).
 *
 * DVM_SPIN_US in the environment sets the budget in microseconds (0: never
 * poll, sleep at once); children inherit it, so one setting covers the
 * master, the nodes and every RComp.
 *
 * Usage:  spin_wait w;  if (spin_begin(&w, spin_budget_ns())) do { poll; if (found) {
 *         spin_found(&w); break; } } while (spin_next(&w));  then sleep.
 */
#ifndef DVM_SPIN_H
#define DVM_SPIN_H

#include <stdint.h>

/* Default budget: a few wake-ups' worth on a virtual machine. */
#define SPIN_DEFAULT_US 50
/* Largest accepted DVM_SPIN_US (one second). */
#define SPIN_MAX_US 1000000
/* After a disturbed poll a thread skips 16 waits' polls, doubling on each
 * disturbed poll up to this many, halving on each undisturbed one. */
#define SPIN_SKIP_MIN 16u
#define SPIN_SKIP_MAX 4096u

/* One wait's polling. */
typedef struct spin_wait {
    uint64_t start, budget;     /* ns */
    long nivcsw;                /* involuntary switches at the start */
    unsigned polls;
} spin_wait;

/* The budget in nanoseconds: DVM_SPIN_US when set to a valid number,
 * else SPIN_DEFAULT_US.  Read once per process; thread-safe. */
uint64_t spin_budget_ns(void);

/* The number of CPUs this process may run on (at least 1); read once. */
int spin_cpus(void);

/* Starts a wait that polls for at most budget_ns (spin_budget_ns() but
 * in tests): 1 to poll first, 0 to sleep at once (no budget, or this
 * thread backs off after disturbed polls). */
int spin_begin(spin_wait *w, uint64_t budget_ns);
/* After a poll that found nothing: pauses briefly, or (every other poll)
 * yields the CPU; 1 to poll again, 0 to sleep (budget spent, or another
 * process wanted this CPU or kept it past the budget: back off). */
int spin_next(spin_wait *w);
/* After a poll that found something: the poll was worth it. */
void spin_found(spin_wait *w);

struct epoll_event;
/* What an event loop reads from shared memory besides its descriptors
 * (net/shmq.h): ready says whether something waits there now (a memory
 * load, no system call); sleep asks the peers to ring the loop's
 * descriptors before it sleeps and looks again (1: sleep; 0: something
 * came, withdraw and do not); woke withdraws the requests. */
typedef struct spin_mem {
    int (*ready)(void *arg);
    int (*sleep)(void *arg);
    void (*woke)(void *arg);
    void *arg;
} spin_mem;

/* epoll_wait(epfd, ev, maxev, to), but when spin is set and to != 0,
 * polls the set without sleeping first (spin_begin).  With mem (or NULL),
 * returns at once when mem is ready (with the set's events every few such
 * turns, 0 on the others), polls mem between the looks at the set, and
 * asks to be rung before sleeping.  Returns what epoll_wait
 * returns (errno set on -1); 0 also when mem became ready. */
int spin_epoll_wait(int epfd, struct epoll_event *ev, int maxev, int to,
                    int spin, const spin_mem *mem);

#endif
