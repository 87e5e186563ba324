/*
 * spin_test.c -- unit tests of the poll-before-sleep budget: DVM_SPIN_US
 * parsing (each case in a child process, since the budget is read once
 * per process) and spin_epoll_wait's answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/wait.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget_from_environment),
        cmocka_unit_test(test_epoll_wait_polls_then_sleeps),
        cmocka_unit_test(test_wait_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
