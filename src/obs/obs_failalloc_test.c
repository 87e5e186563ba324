/*
 * obs_failalloc_test.c -- the obs hub under allocation failure: creating
 * it, adding nodes, feeding it and rendering /metrics and /api/state.
 *
 * As in asm_failalloc_test.c: for N = 1, 2, ... the N-th allocation and
 * every later one fail; each step must succeed or return DVM_ENOMEM with a
 * message saying so, and nothing may leak (the ASan build checks at exit).
 * The walk ends at the first N at which everything succeeds.  In a build
 * without DVM_ALLOC_FAILPOINTS the test skips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "obs/obs.h"
#include "util/alloc.h"

#define WALK_MAX 2000

static void expect_nomem(dvm_status st, long n)
{
    if (st != DVM_ENOMEM || !strstr(status_message(), "out of memory"))
        fail_msg("allocation %ld: status %d, message '%s'", n, st,
                 status_message());
}

/* Everything a run does to the hub; DVM_OK or the first failure. */
static dvm_status use_hub(void)
{
    static const obs_info info = { "1", "1.1", "1.0" };
    obs *o;
    int a, b;
    dvm_status st = obs_create(&info, &o);
    if (st)
        return st;
    if (!(st = obs_node_add(o, "a", 2, &a)) &&
        !(st = obs_node_add(o, "b", 1, &b))) {
        obs_dispatched(o, a, 0, 1);
        obs_runner r = { a, 0, 1, 0, RING_COMMIT, 1, 2, 3 };
        obs_result(o, &r);
        obs_page_fetch(o, a, b, 1, 100);
        obs_validation(o, a, 10);
        obs_output(o, "x\n", 2);
        text t;
        text_init(&t);
        st = obs_render_metrics(o, &t);
        text_free(&t);
        if (!st)
            st = obs_render_state(o, 0, &t);
        text_free(&t);
    }
    obs_destroy(o);
    return st;
}

static void test_hub(void **state)
{
    (void)state;
    if (!dvm_alloc_fail_from(0))
        skip();
    long n;
    for (n = 1; n < WALK_MAX; n++) {
        dvm_alloc_fail_from(n);
        dvm_status st = use_hub();
        dvm_alloc_fail_from(0);
        if (!st)
            break;
        expect_nomem(st, n);
    }
    assert_true(n < WALK_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hub),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
