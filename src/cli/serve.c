/*
 * serve.c -- `--http ADDR` for the commands that run a master (`dvm run`
 * now, the cluster's `dvm master` too): create the obs hub, start the HTTP
 * server, say where it is; after the run, optionally keep serving for a
 * while (`--linger SECONDS`) so that a scraper or a person can read the
 * final values, until the time is up or SIGINT/SIGTERM arrives.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "cli/cli.h"
#include "util/version.h"

static void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
}

int serve_start(const char *addr, cli_serve *sv)
{
    static const obs_info info = { DVM_VERSION, DVM_DISA_VERSION,
                                   DVM_C0_VERSION };
    sv->obs = NULL;
    sv->http = NULL;
    if (!addr)
        return 0;
    /* The server's thread inherits SIGINT and SIGTERM blocked, so that
     * they reach this thread: stopping the run, or ending the linger. */
    sigset_t set, old;
    stop_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    dvm_status st = obs_create(&info, &sv->obs);
    if (!st)
        st = http_start(sv->obs, addr, &sv->http);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (st) {
        fprintf(stderr, "dvm: --http %s: %s\n", addr, status_message());
        obs_destroy(sv->obs);
        sv->obs = NULL;
        return 2;
    }
    fprintf(stderr, "dvm: dashboard at %s, metrics at %smetrics\n",
            http_url(sv->http), http_url(sv->http));
    return 0;
}

/* Waits up to `seconds` for SIGINT or SIGTERM (which then do not kill). */
static void linger(double seconds)
{
    sigset_t set, old;
    stop_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    struct timespec ts = { (time_t)seconds,
                           (long)((seconds - (double)(time_t)seconds) * 1e9) };
    while (sigtimedwait(&set, NULL, &ts) < 0 && errno == EINTR)
        ;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void serve_stop(cli_serve *sv, double linger_s)
{
    if (!sv->obs)
        return;
    obs_finish(sv->obs);
    if (linger_s > 0)
        linger(linger_s);
    http_stop(sv->http);
    obs_destroy(sv->obs);
    sv->obs = NULL;
    sv->http = NULL;
}
