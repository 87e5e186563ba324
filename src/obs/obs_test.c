/*
 * obs_test.c -- the hub and its HTTP server: what the master feeds shows up
 * in /metrics and /api/state with the right values; the dashboard page is
 * served; unknown paths, other methods and bad listen addresses are
 * refused.  The server listens on 127.0.0.1, on a port the kernel picks.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "obs/http.h"
#include "obs/obs.h"

static const obs_info info = { "9.9.9", "1.1", "1.0" };

/* Feeds one node with a known history. */
static obs *fed_hub(void)
{
    obs *o;
    int node, other;
    assert_int_equal(obs_create(&info, &o), DVM_OK);
    assert_int_equal(obs_node_add(o, "local", 2, &node), DVM_OK);
    assert_int_equal(obs_node_add(o, "peer", 1, &other), DVM_OK);
    assert_int_equal(node, 0);
    assert_int_equal(other, 1);
    obs_dispatched(o, node, 0, 3);
    obs_dispatched(o, node, 1, 1);
    static const ring_outcome oc[] = { RING_COMMIT, RING_CONFLICT,
                                       RING_COMMIT, RING_FAULT };
    for (int i = 0; i < 4; i++) {
        obs_runner r = { node, i == 3, (uint64_t)i + 1, 0, oc[i],
                         1000, 1000 + 2000 * (uint64_t)i, 9000 };
        obs_result(o, &r);
    }
    obs_validation(o, node, 500);
    obs_page_fetch(o, node, node, 1, 3000);
    obs_page_fetch(o, node, other, 1, 3000);
    obs_page_fetch(o, node, other, 0, 3000);
    uint64_t waits[OBS_FETCH_WAIT_BUCKETS] = { 0 };
    waits[obs_fetch_wait_bucket(12000)] = 2;    /* 12 us: le 1.2e-05 */
    waits[obs_fetch_wait_bucket(12001)] = 1;    /* just above: le 1.5e-05 */
    waits[obs_fetch_wait_bucket(1000000000)] = 1;   /* 1 s: above all */
    obs_fetch_wait_add(o, other, waits, 1000036001);
    obs_output(o, "hello\n", 6);
    obs_levels l = { .runners_created = 4, .commits = 5,
                     .watchers_waiting = 7, .frames_used = 10,
                     .frames_total = 100, .rcomps_live = 2 };
    obs_levels_set(o, node, &l, 1);
    obs_rcomp_set(o, node, 1, 4242, 0);
    return o;
}

static void expect_line(const char *text, const char *line)
{
    const char *p = strstr(text, line);
    if (!p || (p != text && p[-1] != '\n') || p[strlen(line)] != '\n') {
        fputs(text, stderr);
        fail_msg("no line '%s' in the text above", line);
    }
}

static void test_metrics(void **state)
{
    (void)state;
    obs *o = fed_hub();
    text t;
    text_init(&t);
    assert_int_equal(obs_render_metrics(o, &t), DVM_OK);
    expect_line(t.p, "dvm_runners_committed_total{node=\"local\"} 2");
    expect_line(t.p, "dvm_conflicts_total{node=\"local\"} 1");
    expect_line(t.p, "dvm_runners_faulted_total{node=\"local\"} 1");
    expect_line(t.p, "dvm_runners_dispatched_total{node=\"local\"} 4");
    expect_line(t.p, "dvm_runners_created_total{node=\"local\"} 4");
    expect_line(t.p, "dvm_commits_total{node=\"local\"} 5");
    expect_line(t.p, "dvm_watchers_waiting{node=\"local\"} 7");
    expect_line(t.p, "dvm_frames_capacity{node=\"local\"} 100");
    expect_line(t.p, "dvm_nodes 2");
    expect_line(t.p, "dvm_info{version=\"9.9.9\",disa=\"1.1\",c0=\"1.0\"} 1");
    expect_line(t.p, "dvm_pages_fetched_total{node=\"local\",from=\"local\"} 1");
    expect_line(t.p, "dvm_pages_fetched_total{node=\"local\",from=\"peer\"} 2");
    expect_line(t.p, "dvm_page_fetch_seconds_count{node=\"local\"} 3");
    expect_line(t.p, "dvm_commit_validation_seconds_count{node=\"local\"} 1");
    expect_line(t.p, "dvm_node_fetch_wait_seconds_bucket{node=\"peer\","
                     "le=\"1.2e-05\"} 2");
    expect_line(t.p, "dvm_node_fetch_wait_seconds_bucket{node=\"peer\","
                     "le=\"1.5e-05\"} 3");
    expect_line(t.p, "dvm_node_fetch_wait_seconds_bucket{node=\"peer\","
                     "le=\"0.1\"} 3");
    expect_line(t.p, "dvm_node_fetch_wait_seconds_count{node=\"peer\"} 4");
    expect_line(t.p, "dvm_node_fetch_wait_seconds_count{node=\"local\"} 0");
    /* Dispatch at 1000 ns, starts at 1000, 3000, 5000, 7000 ns. */
    expect_line(t.p, "dvm_dispatch_start_seconds_bucket{node=\"local\","
                     "le=\"2.5e-06\"} 2");
    expect_line(t.p, "dvm_dispatch_start_seconds_count{node=\"local\"} 4");
    expect_line(t.p, "dvm_runners_committed_total{node=\"peer\"} 0");
    text_free(&t);
    obs_destroy(o);
}

/* Several pages served in one answer count as pages, but time one fetch. */
static void test_pages_in_one_answer(void **state)
{
    (void)state;
    obs *o;
    int node, other;
    assert_int_equal(obs_create(&info, &o), DVM_OK);
    assert_int_equal(obs_node_add(o, "local", 1, &node), DVM_OK);
    assert_int_equal(obs_node_add(o, "peer", 1, &other), DVM_OK);
    obs_pages_fetch(o, node, other, UINT32_MAX, 5, 3000);
    text t;
    text_init(&t);
    assert_int_equal(obs_render_metrics(o, &t), DVM_OK);
    expect_line(t.p, "dvm_pages_fetched_total{node=\"local\",from=\"peer\"} 5");
    expect_line(t.p, "dvm_page_fetch_seconds_count{node=\"local\"} 1");
    text_free(&t);
    obs_destroy(o);
}

/* A long-lived master: nodes that leave and come back, programs one
 * after another with counters that keep counting. */
static void test_programs_and_nodes(void **state)
{
    (void)state;
    obs *o = fed_hub();
    int again, master;
    text t;
    /* "peer" leaves: not counted, its RComps gone; a name already there
     * with more RComps than it had is refused. */
    obs_node_live(o, 1, 0, 0);
    assert_int_equal(obs_node_add(o, "peer", 2, &again), DVM_EINVAL);
    assert_int_equal(obs_node_add(o, "master", 0, &master), DVM_OK);
    text_init(&t);
    assert_int_equal(obs_render_metrics(o, &t), DVM_OK);
    expect_line(t.p, "dvm_nodes 1");        /* master has no RComps */
    text_free(&t);
    /* It comes back under its name: its old number and series. */
    assert_int_equal(obs_node_add(o, "peer", 1, &again), DVM_OK);
    assert_int_equal(again, 1);
    /* The next program: the mirrored counters add up, the output starts
     * over. */
    obs_finish(o);
    obs_begin(o);
    obs_levels l = { .runners_created = 3, .commits = 2 };
    obs_levels_set(o, 0, &l, 2);
    text_init(&t);
    assert_int_equal(obs_render_metrics(o, &t), DVM_OK);
    expect_line(t.p, "dvm_nodes 2");
    expect_line(t.p, "dvm_runners_created_total{node=\"local\"} 7");
    expect_line(t.p, "dvm_commits_total{node=\"local\"} 7");
    expect_line(t.p, "dvm_runners_committed_total{node=\"local\"} 2");
    text_free(&t);
    text_init(&t);
    assert_int_equal(obs_render_state(o, 0, &t), DVM_OK);
    assert_non_null(strstr(t.p, "\"finished\":false,\"run\":1,"));
    assert_non_null(strstr(t.p, "\"output\":{\"total\":0,"));
    assert_non_null(strstr(t.p, "{\"name\":\"peer\",\"live\":true,"));
    text_free(&t);
    obs_destroy(o);
}

static void test_state(void **state)
{
    (void)state;
    obs *o = fed_hub();
    text t;
    text_init(&t);
    assert_int_equal(obs_render_state(o, 0, &t), DVM_OK);
    assert_non_null(strstr(t.p, "\"version\":\"9.9.9\""));
    assert_non_null(strstr(t.p, "\"finished\":false"));
    assert_non_null(strstr(t.p, "\"rcomps\":[[0,0,3,1],[4242,0,1,2]]"));
    assert_non_null(strstr(t.p, "{\"from\":\"peer\",\"to\":\"local\","
                                "\"pages\":2}"));
    assert_non_null(strstr(t.p, "\"tail\":\"hello\\n\""));
    assert_non_null(strstr(t.p, "\"next\":4,\"seen\":4"));
    text_free(&t);
    text_init(&t);
    obs_finish(o);
    assert_int_equal(obs_render_state(o, 3, &t), DVM_OK);
    assert_non_null(strstr(t.p, "\"finished\":true"));
    assert_non_null(strstr(t.p, "\"next\":4,\"seen\":1,\"list\":[[4,0,1,3,"));
    text_free(&t);
    obs_destroy(o);
}

/* One request over a fresh connection; returns the whole response. */
static char *http_get(int port, const char *request)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof a), 0);
    size_t len = strlen(request);
    assert_int_equal(write(s, request, len), (ssize_t)len);
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    ssize_t k;
    while ((k = read(s, buf + n, cap - 1 - n)) > 0)
        n += (size_t)k;
    buf[n] = '\0';
    close(s);
    return buf;
}

static void expect_response(int port, const char *req, const char *status,
                            const char *needle)
{
    char *r = http_get(port, req);
    if (strncmp(r, status, strlen(status)) || !strstr(r, needle))
        fail_msg("%s -> expected '%s' and '%s' in:\n%.2000s", req, status,
                 needle, r);
    free(r);
}

static void test_http(void **state)
{
    (void)state;
    obs *o = fed_hub();
    obs_http *h;
    assert_int_equal(http_start(o, "127.0.0.1:0", &h), DVM_OK);
    int port = http_port(h);
    assert_true(port > 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    assert_string_equal(http_url(h), url);
    expect_response(port, "GET /metrics HTTP/1.0\r\n\r\n", "HTTP/1.1 200",
                    "\ndvm_runners_committed_total{node=\"local\"} 2\n");
    expect_response(port, "GET /metrics HTTP/1.0\r\n\r\n", "HTTP/1.1 200",
                    "Content-Type: text/plain; version=0.0.4");
    expect_response(port, "GET /api/state?since=2 HTTP/1.0\r\n\r\n",
                    "HTTP/1.1 200", "\"seen\":2");
    expect_response(port, "GET / HTTP/1.0\r\n\r\n", "HTTP/1.1 200",
                    "<html");
    expect_response(port, "GET /nope HTTP/1.0\r\n\r\n", "HTTP/1.1 404",
                    "not found");
    expect_response(port, "DELETE /metrics HTTP/1.0\r\n\r\n", "HTTP/1.1 405",
                    "only GET");
    http_stop(h);
    obs_destroy(o);
}

static void test_bad_addresses(void **state)
{
    (void)state;
    obs *o = fed_hub();
    obs_http *h;
    static const char *bad[] = { "", "127.0.0.1:", "127.0.0.1:x", ":99999",
                                 "[::1]9", "host:-1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(http_start(o, bad[i], &h), DVM_EINVAL);
    assert_int_equal(http_start(o, "no.such.host.invalid:0", &h),
                     DVM_EINVAL);
    obs_destroy(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_pages_in_one_answer),
        cmocka_unit_test(test_state),
        cmocka_unit_test(test_programs_and_nodes),
        cmocka_unit_test(test_http),
        cmocka_unit_test(test_bad_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
