/*
 * sigstop.c -- SIGINT and SIGTERM handlers that end blocking waits.
 *
 * See sigstop.h.  sa_flags stays 0: no SA_RESTART, so the signal makes
 * the process's current blocking call fail with EINTR.
 */
#include "util/sigstop.h"

#include <assert.h>
#include <signal.h>
#include <string.h>

void sigstop_install(void (*fn)(int))
{
    assert(fn);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
