/*
 * stall.c -- the test hooks of stall.h: one sleep, deaf or ticking, and
 * stops.
 *
 * Read from the environment at the first call, so that a process without
 * the variable pays one getenv once.  A value that is not a whole number
 * of milliseconds (1..600000) is ignored: the hook is for tests only and
 * must never end a service.
 */
#include "dist/stall.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "isa/isa.h"

#include "util/clock.h"

#define STALL_MAX_MS 600000
#define STALL_TICK_MS 10

static int stall_done;

/* The stall asked for, in ms; 0: none (absent or malformed). */
static long stall_wanted(void)
{
    const char *v = getenv("DVM_TEST_STALL_MS");
    char *end;
    long ms = v ? strtol(v, &end, 10) : 0;
    if (!v || end == v || *end || ms < 1 || ms > STALL_MAX_MS)
        return 0;
    return ms;
}

/* Sleeps ms milliseconds, turning t every STALL_TICK_MS unless it is
 * NULL; says so on stderr as who. */
static void stall_for(const char *who, long ms, transport *t)
{
    fprintf(stderr, "%s: stalling %ld ms (test, %s)\n", who, ms,
            t ? "turning the transport" : "deaf");
    uint64_t end = clock_now_ns() + (uint64_t)ms * 1000000u;
    for (uint64_t now = clock_now_ns(); now < end; now = clock_now_ns()) {
        uint64_t left = (end - now) / 1000000u + 1;
        long step = t && left > STALL_TICK_MS ? STALL_TICK_MS : (long)left;
        struct timespec ts = { step / 1000, (step % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        if (t)
            transport_tick(t);
    }
}

void stall_once(const char *who, transport *t)
{
    if (stall_done)
        return;
    stall_done = 1;
    long ms = stall_wanted();
    if (ms && !getenv("DVM_TEST_STALL_AT"))
        stall_for(who, ms, t);
}

void stall_at(const char *who, const char *point, transport *t)
{
    static int stalled;
    const char *v;
    if (stalled || !(v = getenv("DVM_TEST_STALL_AT")) || strcmp(v, point))
        return;
    stalled = 1;
    long ms = stall_wanted();
    if (ms)
        stall_for(who, ms, t);
}

/* The page DVM_TEST_STOP_ON_PAGE names, read once; UINT64_MAX: none
 * (absent, malformed, or stopped on already). */
static uint64_t stop_page(void)
{
    static int read;
    static uint64_t page = UINT64_MAX;
    if (!read) {
        read = 1;
        const char *v = getenv("DVM_TEST_STOP_ON_PAGE");
        char *end;
        unsigned long long a = v ? strtoull(v, &end, 16) : 0;
        if (v && end != v && !*end)
            page = a / DISA_PAGE;
    }
    return page;
}

void stall_stop_on_page(const char *who, uint64_t page)
{
    static int stopped;
    if (stopped || page != stop_page())
        return;
    stopped = 1;
    fprintf(stderr, "%s: stopping before storing page 0x%llx (test)\n", who,
            (unsigned long long)(page * DISA_PAGE));
    raise(SIGSTOP);
}

void stall_stop_at(const char *who, const char *point)
{
    static int stopped;
    const char *v;
    if (stopped || !(v = getenv("DVM_TEST_STOP_AT")) || strcmp(v, point))
        return;
    stopped = 1;
    fprintf(stderr, "%s: stopping at '%s' (test)\n", who, point);
    raise(SIGSTOP);
}

int stall_lack_at(const char *who, const char *point)
{
    static int lacked;
    const char *v;
    if (lacked || !(v = getenv("DVM_TEST_LACK_AT")) || strcmp(v, point))
        return 0;
    lacked = 1;
    fprintf(stderr, "%s: answering '%s' as lacking it (test)\n", who, point);
    return 1;
}
