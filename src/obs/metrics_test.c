/*
 * metrics_test.c -- the metrics registry: the exposition text, exactly, for
 * each kind; label escaping; histogram buckets; refused names; the output
 * buffer's JSON strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "obs/metrics.h"

static char *render(metrics_registry *r, text *t)
{
    text_init(t);
    assert_int_equal(metrics_render(r, t), DVM_OK);
    return t->p;
}

static void test_counter_gauge(void **state)
{
    (void)state;
    metrics_registry *r;
    metrics_family *c, *g;
    metrics_series *a, *b, *x;
    assert_int_equal(metrics_create(&r), DVM_OK);
    metrics_def dc = { METRICS_COUNTER, "dvm_x_total", "Xs.", { "node" },
                       NULL, 0 };
    metrics_def dg = { METRICS_GAUGE, "dvm_level", "A level.", { NULL },
                       NULL, 0 };
    assert_int_equal(metrics_family_add(r, &dc, &c), DVM_OK);
    assert_int_equal(metrics_family_add(r, &dg, &g), DVM_OK);
    const char *va[] = { "a" }, *vb[] = { "b\"\\\n" };
    assert_int_equal(metrics_series_get(c, va, &a), DVM_OK);
    assert_int_equal(metrics_series_get(c, vb, &b), DVM_OK);
    assert_int_equal(metrics_series_get(g, NULL, &x), DVM_OK);
    metrics_series *again;
    assert_int_equal(metrics_series_get(c, va, &again), DVM_OK);
    assert_ptr_equal(again, a);
    metrics_add(a, 3);
    metrics_add(a, 4);
    metrics_set_counter(b, 9);
    metrics_gauge_set(x, 2.5);
    text t;
    assert_string_equal(render(r, &t),
        "# HELP dvm_x_total Xs.\n"
        "# TYPE dvm_x_total counter\n"
        "dvm_x_total{node=\"a\"} 7\n"
        "dvm_x_total{node=\"b\\\"\\\\\\n\"} 9\n"
        "# HELP dvm_level A level.\n"
        "# TYPE dvm_level gauge\n"
        "dvm_level 2.5\n");
    text_free(&t);
    metrics_destroy(r);
}

static void test_histogram(void **state)
{
    (void)state;
    metrics_registry *r;
    metrics_family *h;
    metrics_series *s;
    static const double b[] = { 1e-6, 1e-3 };
    metrics_def d = { METRICS_HISTOGRAM, "dvm_lat_seconds", "Latency.",
                      { "node" }, b, 2 };
    assert_int_equal(metrics_create(&r), DVM_OK);
    assert_int_equal(metrics_family_add(r, &d, &h), DVM_OK);
    const char *v[] = { "n" };
    assert_int_equal(metrics_series_get(h, v, &s), DVM_OK);
    metrics_observe_ns(s, 1000);        /* on the bound: le 1e-06 */
    metrics_observe_ns(s, 1001);
    metrics_observe_ns(s, 2000000);
    assert_int_equal(metrics_hist_count(s), 3);
    assert_int_equal(metrics_hist_le(s, 0), 1);
    assert_int_equal(metrics_hist_le(s, 1), 2);
    static const uint64_t none[3];
    metrics_hist_add(s, none, 3, 0);    /* counted elsewhere: nothing */
    assert_int_equal(metrics_hist_count(s), 3);
    text t;
    assert_string_equal(render(r, &t),
        "# HELP dvm_lat_seconds Latency.\n"
        "# TYPE dvm_lat_seconds histogram\n"
        "dvm_lat_seconds_bucket{node=\"n\",le=\"1e-06\"} 1\n"
        "dvm_lat_seconds_bucket{node=\"n\",le=\"0.001\"} 2\n"
        "dvm_lat_seconds_bucket{node=\"n\",le=\"+Inf\"} 3\n"
        "dvm_lat_seconds_sum{node=\"n\"} 0.002002001\n"
        "dvm_lat_seconds_count{node=\"n\"} 3\n");
    text_free(&t);
    metrics_destroy(r);
}

static void test_refused(void **state)
{
    (void)state;
    metrics_registry *r;
    metrics_family *f;
    assert_int_equal(metrics_create(&r), DVM_OK);
    static const double up[] = { 2, 1 };
    metrics_def bad[] = {
        { METRICS_COUNTER, "9lives", "", { NULL }, NULL, 0 },
        { METRICS_COUNTER, "a-b", "", { NULL }, NULL, 0 },
        { METRICS_COUNTER, "ok", "", { "a:b" }, NULL, 0 },
        { METRICS_COUNTER, "ok", "", { "__x" }, NULL, 0 },
        { METRICS_HISTOGRAM, "ok", "", { "le" }, up, 1 },
        { METRICS_HISTOGRAM, "ok", "", { NULL }, up, 2 },
        { METRICS_HISTOGRAM, "ok", "", { NULL }, NULL, 0 },
        { METRICS_GAUGE, "ok", "", { NULL }, up, 1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(metrics_family_add(r, &bad[i], &f), DVM_EINVAL);
    metrics_def good = { METRICS_COUNTER, "ok:total", "", { NULL }, NULL, 0 };
    assert_int_equal(metrics_family_add(r, &good, &f), DVM_OK);
    assert_int_equal(metrics_family_add(r, &good, &f), DVM_EINVAL);
    metrics_def two = { METRICS_COUNTER, "two", "", { "a", "b" }, NULL, 0 };
    assert_int_equal(metrics_family_add(r, &two, &f), DVM_OK);
    const char *half[] = { "x", NULL };
    metrics_series *s;
    assert_int_equal(metrics_series_get(f, half, &s), DVM_EINVAL);
    metrics_destroy(r);
}

static void test_json_string(void **state)
{
    (void)state;
    text t;
    text_init(&t);
    text_json_str(&t, "a\"b\\c\nd\x01\xff", 9);
    assert_string_equal(t.p, "\"a\\\"b\\\\c\\nd\\u0001\\u00ff\"");
    text_printf(&t, "%0300d", 7);       /* longer than the small buffer */
    assert_int_equal(t.n, strlen("\"a\\\"b\\\\c\\nd\\u0001\\u00ff\"") + 300);
    assert_int_equal(text_status(&t), DVM_OK);
    text_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_gauge),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_json_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
