/*
 * spin.h -- how long a process that waits for a peer polls before it
 * sleeps.
 *
 * A runner's life crosses processes several times (master dispatches,
 * RComp runs and sends its result, master commits and dispatches what the
 * commit made ready).  When the side that waits is asleep, each crossing
 * is a wake-up, and on a virtual machine a wake-up of an idle CPU costs
 * tens of microseconds: more than the runner.  So a waiting side first
 * polls for a while without sleeping, yielding its CPU between polls to
 * whatever else is runnable there, and sleeps only when nothing came --
 * the policy of OpenMP runtimes (GOMP_SPINCOUNT, OMP_WAIT_POLICY) and MPI
 * libraries.  Polling costs CPU only while a peer is expected to answer
 * soon: the callers poll only when they have work in flight.
 *
 * DVM_SPIN_US in the environment sets the budget in microseconds (0: never
 * poll, sleep at once); children inherit it, so one setting covers the
 * master, the nodes and every RComp.
 */
#ifndef DVM_SPIN_H
#define DVM_SPIN_H

#include <stdint.h>

/* Default budget: a few wake-ups' worth on a virtual machine. */
#define SPIN_DEFAULT_US 50
/* Largest accepted DVM_SPIN_US (one second). */
#define SPIN_MAX_US 1000000

/* The budget in nanoseconds: DVM_SPIN_US when set to a valid number,
 * else SPIN_DEFAULT_US.  Read once per process; thread-safe. */
uint64_t spin_budget_ns(void);

/* The number of CPUs this process may run on (at least 1); read once. */
int spin_cpus(void);

/* Gives the CPU to another runnable thread if there is one (one poll's
 * pause). */
void spin_pause(void);

struct epoll_event;
/* epoll_wait(epfd, ev, maxev, to), but when spin is set and to != 0,
 * polls the set without sleeping for the budget first.  Returns what
 * epoll_wait returns (errno set on -1). */
int spin_epoll_wait(int epfd, struct epoll_event *ev, int maxev, int to,
                    int spin);

#endif
