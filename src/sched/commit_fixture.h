/*
 * commit_fixture.h -- for the tests of sched/: a commit point over what
 * the master would own (a small store, a space, a watcher index, a pool, a
 * null stdout sink, no trace).  Header-only, included by *_test.c.
 */
#ifndef DVM_SCHED_COMMIT_FIXTURE_H
#define DVM_SCHED_COMMIT_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "isa/isa.h"
#include "sched/commit.h"

typedef struct commit_fixture {
    mem_store *store;
    mem_space *space;
    watch_index *watchers;
    rcb_pool pool;
    io_sink sink;
    io_trace trace;
    master_stats st;
    stacks *stacks;
    commit_point cp;
} commit_fixture;

/* Opens everything with a store of `frames` frames; returns 0 or -1.
 * Everything else starts zeroed: no trace, no statistics. */
static inline int commit_fixture_open(commit_fixture *f, uint32_t frames)
{
    memset(f, 0, sizeof *f);
    if (store_create(frames, &f->store) ||
        space_create(f->store, &f->space) ||
        watch_index_create(&f->watchers) ||
        io_sink_open_null(&f->sink, "stdout") ||
        stacks_create(DISA_STACK_BASE, DISA_STACK_ORDER, &f->stacks))
        return -1;
    rcb_pool_init(&f->pool);
    f->cp = (commit_point){ .diag = stderr, .store = f->store,
                            .space = f->space, .watchers = f->watchers,
                            .pool = &f->pool, .stacks = f->stacks,
                            .sinks = &f->sink, .nsinks = 1,
                            .trace = &f->trace, .st = &f->st,
                            .max_runners = 1u << 20 };
    return 0;
}

static inline void commit_fixture_close(commit_fixture *f)
{
    rcb_pool_destroy(&f->pool);
    stacks_destroy(f->stacks);
    watch_index_destroy(f->watchers);
    space_destroy(f->space);
    store_destroy(f->store);
    io_sink_close(&f->sink);
}

#endif
