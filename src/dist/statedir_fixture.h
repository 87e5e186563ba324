/*
 * statedir_fixture.h -- for the tests of the master's store: a fresh
 * temporary state directory per test (statedir), removed after it.
 * Header-only, included by *_test.c (cmocka setup and teardown).
 */
#ifndef DVM_DIST_STATEDIR_FIXTURE_H
#define DVM_DIST_STATEDIR_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

static char statedir[64];

static int statedir_setup(void **state)
{
    (void)state;
    snprintf(statedir, sizeof statedir, "/tmp/dvm-state-XXXXXX");
    return mkdtemp(statedir) ? 0 : -1;
}

static int statedir_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", statedir);
    return system(cmd);
}

/* A test with its own state directory. */
#define STATEDIR_TEST(f) \
    cmocka_unit_test_setup_teardown(f, statedir_setup, statedir_teardown)

#endif
