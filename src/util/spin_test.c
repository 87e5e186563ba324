/*
 * spin_test.c -- unit tests of the poll-before-sleep budget: DVM_SPIN_US
 * parsing (each case in a child process, since the budget is read once
 * per process) and spin_epoll_wait's answers.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/clock.h"
#include "util/spin.h"

/* The budget a fresh process reads with DVM_SPIN_US=value (NULL: unset),
 * in microseconds. */
static uint64_t budget_with(const char *value)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (value)
            setenv("DVM_SPIN_US", value, 1);
        else
            unsetenv("DVM_SPIN_US");
        uint64_t ns = spin_budget_ns();
        _exit(write(fd[1], &ns, sizeof ns) == sizeof ns ? 0 : 1);
    }
    uint64_t ns = 0;
    assert_int_equal(read(fd[0], &ns, sizeof ns), (ssize_t)sizeof ns);
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    close(fd[0]);
    close(fd[1]);
    return ns / 1000;
}

static void test_budget_from_environment(void **state)
{
    (void)state;
    assert_int_equal(budget_with(NULL), SPIN_DEFAULT_US);
    assert_int_equal(budget_with("0"), 0);
    assert_int_equal(budget_with("200"), 200);
    assert_int_equal(budget_with("1000000"), 1000000);
    /* Not a plain number in range: the default. */
    assert_int_equal(budget_with("1000001"), SPIN_DEFAULT_US);
    assert_int_equal(budget_with("-5"), SPIN_DEFAULT_US);
    assert_int_equal(budget_with("12us"), SPIN_DEFAULT_US);
    assert_int_equal(budget_with(""), SPIN_DEFAULT_US);
    assert_int_equal(budget_with(" 7"), SPIN_DEFAULT_US);
    assert_true(spin_cpus() >= 1);
}

static void test_epoll_wait_polls_then_sleeps(void **state)
{
    (void)state;
    int ep = epoll_create1(0), fd[2];
    assert_true(ep >= 0);
    assert_int_equal(pipe(fd), 0);
    struct epoll_event e = { .events = EPOLLIN, .data.u64 = 42 }, ev[4];
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd[0], &e), 0);
    /* Nothing ready: the timeout passes, spinning or not. */
    uint64_t t0 = clock_now_ns();
    assert_int_equal(spin_epoll_wait(ep, ev, 4, 5, 1, NULL), 0);
    assert_true(clock_now_ns() - t0 >= 5000000);
    assert_int_equal(spin_epoll_wait(ep, ev, 4, 0, 1, NULL), 0);
    assert_int_equal(spin_epoll_wait(ep, ev, 4, 1, 0, NULL), 0);
    /* Ready: found by the poll, with its key. */
    assert_int_equal(write(fd[1], "x", 1), 1);
    assert_int_equal(spin_epoll_wait(ep, ev, 4, -1, 1, NULL), 1);
    assert_int_equal(ev[0].data.u64, 42);
    assert_int_equal(spin_epoll_wait(ep, ev, 4, -1, 0, NULL), 1);
    close(fd[0]);
    close(fd[1]);
    close(ep);
}

/* A wait polls until its budget is spent (or it backs off), then says
 * to sleep; no budget: sleep at once. */
static void test_wait_ends(void **state)
{
    (void)state;
    spin_wait w;
    assert_int_equal(spin_begin(&w, 0), 0);
    if (spin_begin(&w, 1000000)) {
        long polls = 0;
        while (spin_next(&w))
            assert_true(++polls < 100000000);
        spin_found(&w);
    }
}

/*
 * Two threads on one CPU hand a token back and forth, each waiting for it
 * by polling (a budget of a second) and sleeping only when its poll gives
 * up.  The thread polled for can only run when the poller lets go of the
 * CPU: a poller that yields hands the token on within a poll or two;
 * one that does not polls on until the scheduler preempts it, a time
 * slice later (milliseconds: thousands of polls).  No timing is asserted,
 * only the polls a hand-off took.
 */
enum { HANDOFFS = 200 };

typedef struct handoff {
    atomic_int token;           /* whose turn: 0 or 1 */
    int slept[2];               /* waits that ended asleep, per side */
    long polls[2];              /* polls that found nothing, per side */
} handoff;

/* Waits until it is side's turn; 1 when a poll saw it, 0 after sleeping. */
static int wait_turn(handoff *h, int side)
{
    spin_wait w;
    if (spin_begin(&w, 1000000000))
        do {
            if (atomic_load(&h->token) == side) {
                spin_found(&w);
                return 1;
            }
            h->polls[side]++;
        } while (spin_next(&w));
    struct timespec ts = { 0, 50000 };
    while (atomic_load(&h->token) != side)
        nanosleep(&ts, NULL);
    return 0;
}

/* Pins this thread (and the threads it makes from now on) to the CPU it
 * runs on; *all gets the set to restore.  0 when the host will not. */
static int pin_to_this_cpu(cpu_set_t *all)
{
    cpu_set_t one;
    int cpu = sched_getcpu();
    if (cpu < 0 || sched_getaffinity(0, sizeof *all, all))
        return 0;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one) == 0;
}

static void *play(void *arg)
{
    handoff *h = (handoff *)((uintptr_t)arg & ~(uintptr_t)1);
    int side = (int)((uintptr_t)arg & 1);
    for (int i = 0; i < HANDOFFS; i++) {
        h->slept[side] += !wait_turn(h, side);
        atomic_store(&h->token, !side);
    }
    return NULL;
}

static void test_poll_yields_cpu(void **state)
{
    (void)state;
    cpu_set_t all;
    if (!pin_to_this_cpu(&all))
        skip();                 /* this host does not let us pin threads */
    handoff *h = calloc(1, sizeof *h);
    assert_non_null(h);
    pthread_t t[2];             /* both inherit the one CPU */
    for (uintptr_t i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, play,
                                        (void *)((uintptr_t)h | i)), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(sched_setaffinity(0, sizeof all, &all), 0);
    long polls = h->polls[0] + h->polls[1];
    int slept = h->slept[0] + h->slept[1];
    free(h);
    /* A busy host may make some hand-off wait longer (or sleep, backing
     * off); without the yield every one takes a time slice of polls. */
    print_message("%d hand-offs: %ld empty polls, %d slept\n", 2 * HANDOFFS,
                  polls, slept);
    assert_true(polls < 64L * HANDOFFS);
    assert_true(slept < HANDOFFS / 2);
}

/* A thread that keeps the CPU until told to stop. */
static void *hog(void *arg)
{
    atomic_int *stop = arg;
    while (!atomic_load(stop))
        ;
    return NULL;
}

/*
 * A yield that gave the CPU away for longer than the wait's budget (a
 * busy process's time slice) ends the polls and backs off: the next
 * waits sleep at once.  Without that, each wait's yield would hand a
 * whole time slice to whatever else runs there, at every hand-off (a
 * chain of 1,000 tasks beside two busy loops: 145 ms -> 3.7 s).
 */
/* Polls with a budget of 100 us (less than any time slice) for nothing,
 * then says (arg[1]) whether the next wait would poll again; arg[0]: that
 * the first did (a fresh thread never backs off). */
static void *poll_beside_hog(void *arg)
{
    int *polled = arg;
    spin_wait w;
    polled[0] = spin_begin(&w, 100000);
    while (polled[0] && spin_next(&w))
        ;
    polled[1] = spin_begin(&w, 100000);
    return NULL;
}

static void test_yield_that_lost_cpu_backs_off(void **state)
{
    (void)state;
    cpu_set_t all;
    if (!pin_to_this_cpu(&all))
        skip();
    atomic_int stop = 0;
    int polled[2] = { -1, -1 };
    pthread_t h, p;             /* both on the one CPU */
    assert_int_equal(pthread_create(&h, NULL, hog, &stop), 0);
    assert_int_equal(pthread_create(&p, NULL, poll_beside_hog, polled), 0);
    assert_int_equal(pthread_join(p, NULL), 0);
    atomic_store(&stop, 1);
    assert_int_equal(pthread_join(h, NULL), 0);
    assert_int_equal(sched_setaffinity(0, sizeof all, &all), 0);
    assert_int_equal(polled[0], 1);
    assert_int_equal(polled[1], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget_from_environment),
        cmocka_unit_test(test_epoll_wait_polls_then_sleeps),
        cmocka_unit_test(test_wait_ends),
        cmocka_unit_test(test_poll_yields_cpu),
        cmocka_unit_test(test_yield_that_lost_cpu_backs_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
