/*
 * auth_test.c -- secret files and the handshake as a state machine.
 *
 * Two auth_sessions talk by handing each other's byte strings across, in
 * the order the transport sends them, so every branch of the handshake
 * (success, wrong secret, a secret on one side only, another version,
 * proofs out of turn, a reflected proof) is checked without a network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/auth.h"
#include "cluster/wire.h"
#include "util/le.h"

/* ---- secret files ------------------------------------------------------- */

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/dvm-auth-test-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes a file of n bytes with the given mode; returns its path. */
static const char *write_file(const char *name, const char *text, size_t n,
                              mode_t mode)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    return path;
}

static void test_secret_ok_and_newline(void **state)
{
    (void)state;
    auth_secret s;
    assert_int_equal(auth_secret_load(write_file("a", "word\n", 5, 0600), &s),
                     0);
    assert_int_equal(s.len, 4);
    assert_memory_equal(s.key, "word", 4);
    assert_int_equal(auth_secret_load(write_file("b", "w\r\n", 3, 0400), &s),
                     0);
    assert_int_equal(s.len, 1);
    assert_int_equal(auth_secret_load(write_file("c", "a\nb\n\n", 5, 0600),
                                      &s), 0);
    assert_int_equal(s.len, 4);             /* only one newline goes */
    auth_secret_wipe(&s);
    assert_int_equal(s.len, 0);
}

static void test_secret_refused(void **state)
{
    (void)state;
    auth_secret s = {.len = 77};
    assert_int_equal(auth_secret_load(write_file("g", "x", 1, 0640), &s),
                     DVM_EINVAL);
    assert_non_null(strstr(status_message(), "group or others"));
    assert_non_null(strstr(status_message(), "chmod 600"));
    assert_int_equal(auth_secret_load(write_file("o", "x", 1, 0604), &s),
                     DVM_EINVAL);
    assert_int_equal(auth_secret_load(write_file("e", "", 0, 0600), &s),
                     DVM_EINVAL);
    assert_non_null(strstr(status_message(), "is empty"));
    assert_int_equal(auth_secret_load(write_file("n", "\n", 1, 0600), &s),
                     DVM_EINVAL);
    assert_int_equal(auth_secret_load(dir, &s), DVM_EINVAL);
    assert_non_null(strstr(status_message(), "not a regular file"));
    char missing[128];
    snprintf(missing, sizeof missing, "%s/missing", dir);
    assert_int_equal(auth_secret_load(missing, &s), DVM_EIO);
    assert_int_equal(s.len, 77);            /* untouched on failure */
}

static void test_secret_too_long(void **state)
{
    (void)state;
    static char big[AUTH_SECRET_MAX + 1];
    memset(big, 'k', sizeof big);
    auth_secret s;
    assert_int_equal(auth_secret_load(write_file("l", big, AUTH_SECRET_MAX,
                                                 0600), &s), 0);
    assert_int_equal(s.len, AUTH_SECRET_MAX);
    assert_int_equal(auth_secret_load(write_file("L", big, sizeof big, 0600),
                                      &s), DVM_EINVAL);
    assert_int_equal(auth_secret_set(&s, big, 0), DVM_EINVAL);
    assert_int_equal(auth_secret_set(&s, big, sizeof big), DVM_EINVAL);
}

/* ---- handshake ---------------------------------------------------------- */

static auth_secret sa, sb;

static void secrets(void)
{
    assert_int_equal(auth_secret_set(&sa, "alpha", 5), 0);
    assert_int_equal(auth_secret_set(&sb, "bravo", 5), 0);
}

/* Exchanges HELLOs between initiator i and acceptor a; returns the
 * acceptor's verdict on the initiator's hello (the one that decides). */
static dvm_status hellos(auth_session *i, auth_session *a)
{
    uint8_t hi[AUTH_HELLO_SIZE], ha[AUTH_HELLO_SIZE];
    auth_hello(i, hi);
    auth_hello(a, ha);
    dvm_status st = auth_on_hello(a, hi, sizeof hi);
    if (st)
        return st;
    return auth_on_hello(i, ha, sizeof ha);
}

static void test_same_secret(void **state)
{
    (void)state;
    secrets();
    auth_session i, a;
    assert_int_equal(auth_start(&i, &sa, 1), 0);
    assert_int_equal(auth_start(&a, &sa, 0), 0);
    assert_memory_not_equal(i.nonce_local, a.nonce_local, AUTH_NONCE_SIZE);
    assert_int_equal(hellos(&i, &a), 0);
    assert_false(auth_proof_due(&a));       /* the acceptor waits */
    assert_true(auth_proof_due(&i));
    uint8_t pi[AUTH_PROOF_SIZE], pa[AUTH_PROOF_SIZE];
    assert_int_equal(auth_proof(&i, pi), 0);
    assert_false(auth_proof_due(&i));
    assert_int_equal(auth_on_proof(&a, pi, sizeof pi), 0);
    assert_true(auth_done(&a));
    assert_true(auth_proof_due(&a));
    assert_int_equal(auth_proof(&a, pa), 0);
    assert_false(auth_done(&i));
    assert_int_equal(auth_on_proof(&i, pa, sizeof pa), 0);
    assert_true(auth_done(&i));
    assert_memory_not_equal(pi, pa, AUTH_PROOF_SIZE);
}

static void test_wrong_secret(void **state)
{
    (void)state;
    secrets();
    auth_session i, a;
    assert_int_equal(auth_start(&i, &sb, 1), 0);
    assert_int_equal(auth_start(&a, &sa, 0), 0);
    assert_int_equal(hellos(&i, &a), 0);
    uint8_t pi[AUTH_PROOF_SIZE];
    assert_int_equal(auth_proof(&i, pi), 0);
    assert_int_equal(auth_on_proof(&a, pi, sizeof pi), DVM_EPROTO);
    assert_non_null(strstr(status_message(), "wrong cluster secret"));
    assert_false(auth_done(&a));
    assert_false(auth_proof_due(&a));       /* never proves to a stranger */
}

static void test_reflected_proof(void **state)
{
    (void)state;
    secrets();
    auth_session i, a;
    assert_int_equal(auth_start(&i, &sa, 1), 0);
    assert_int_equal(auth_start(&a, &sa, 0), 0);
    assert_int_equal(hellos(&i, &a), 0);
    uint8_t pi[AUTH_PROOF_SIZE];
    assert_int_equal(auth_proof(&i, pi), 0);
    /* the initiator's own proof, sent back to it, is not the acceptor's */
    assert_int_equal(auth_on_proof(&i, pi, sizeof pi), DVM_EPROTO);
    assert_false(auth_done(&i));
}

static void test_secret_one_side(void **state)
{
    (void)state;
    secrets();
    auth_session i, a;
    assert_int_equal(auth_start(&i, NULL, 1), 0);
    assert_int_equal(auth_start(&a, &sa, 0), 0);
    assert_int_equal(hellos(&i, &a), DVM_EPROTO);
    assert_non_null(strstr(status_message(), "peer has no cluster secret"));
    assert_int_equal(auth_start(&i, &sa, 1), 0);
    assert_int_equal(auth_start(&a, NULL, 0), 0);
    assert_int_equal(hellos(&i, &a), DVM_EPROTO);
    assert_non_null(strstr(status_message(), "peer requires a cluster"));
}

static void test_no_secret(void **state)
{
    (void)state;
    auth_session i, a;
    assert_int_equal(auth_start(&i, NULL, 1), 0);
    assert_int_equal(auth_start(&a, NULL, 0), 0);
    assert_int_equal(hellos(&i, &a), 0);
    assert_true(auth_done(&i));
    assert_true(auth_done(&a));
    assert_false(auth_proof_due(&i));
    uint8_t junk[AUTH_PROOF_SIZE] = {0};
    assert_int_equal(auth_on_proof(&a, junk, sizeof junk), DVM_EPROTO);
}

static void test_bad_hellos(void **state)
{
    (void)state;
    secrets();
    auth_session a;
    uint8_t h[AUTH_HELLO_SIZE];
    assert_int_equal(auth_start(&a, &sa, 0), 0);
    auth_hello(&a, h);
    assert_int_equal(auth_on_hello(&a, h, sizeof h - 1), DVM_EPROTO);
    assert_non_null(strstr(status_message(), "hello of 39 bytes"));
    le_st32(h, WIRE_VERSION + 1);
    assert_int_equal(auth_on_hello(&a, h, sizeof h), DVM_EPROTO);
    char want[64];
    snprintf(want, sizeof want, "protocol version %d, this DVM speaks %d",
             WIRE_VERSION + 1, WIRE_VERSION);
    assert_non_null(strstr(status_message(), want));
    le_st32(h, WIRE_VERSION);
    le_st32(h + 4, 3);
    assert_int_equal(auth_on_hello(&a, h, sizeof h), DVM_EPROTO);
    assert_non_null(strstr(status_message(), "unknown flags"));
    le_st32(h + 4, 1);
    assert_int_equal(auth_on_hello(&a, h, sizeof h), 0);
    assert_int_equal(auth_on_hello(&a, h, sizeof h), DVM_EPROTO);
    assert_non_null(strstr(status_message(), "second hello"));
}

static void test_proof_out_of_turn(void **state)
{
    (void)state;
    secrets();
    auth_session i, a;
    uint8_t p[AUTH_PROOF_SIZE] = {0};
    assert_int_equal(auth_start(&i, &sa, 1), 0);
    assert_int_equal(auth_start(&a, &sa, 0), 0);
    assert_int_equal(auth_on_proof(&a, p, sizeof p), DVM_EPROTO);   /* no hello */
    assert_int_equal(hellos(&i, &a), 0);
    /* the initiator proves first: a proof before its own is out of turn */
    assert_int_equal(auth_on_proof(&i, p, sizeof p), DVM_EPROTO);
    assert_non_null(strstr(status_message(), "out of turn"));
    assert_int_equal(auth_on_proof(&a, p, sizeof p - 1), DVM_EPROTO);
    assert_non_null(strstr(status_message(), "proof of 31 bytes"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_ok_and_newline),
        cmocka_unit_test(test_secret_refused),
        cmocka_unit_test(test_secret_too_long),
        cmocka_unit_test(test_same_secret),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_reflected_proof),
        cmocka_unit_test(test_secret_one_side),
        cmocka_unit_test(test_no_secret),
        cmocka_unit_test(test_bad_hellos),
        cmocka_unit_test(test_proof_out_of_turn),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
