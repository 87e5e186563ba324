/*
 * store_test.c -- the frame store: allocation, reuse, sharing, trimming.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mem/store.h"

static void test_alloc_release(void **state)
{
    (void)state;
    mem_store *s;
    assert_int_equal(store_create(16, &s), DVM_OK);
    assert_int_equal(store_max_frames(s), 16);
    assert_int_equal(store_in_use(s), 0);
    uint32_t ids[15];
    for (int i = 0; i < 15; i++) {
        assert_int_equal(store_alloc(s, &ids[i]), DVM_OK);
        assert_int_not_equal(ids[i], 0);
        for (int j = 0; j < i; j++)
            assert_int_not_equal(ids[i], ids[j]);
        memset(store_frame(s, ids[i]), i, STORE_FRAME_SIZE);
    }
    assert_int_equal(store_in_use(s), 15);
    uint32_t x = 77;
    assert_int_equal(store_alloc(s, &x), DVM_ENOMEM);
    assert_int_equal(x, 77);    /* untouched on failure */
    store_release(s, ids[3]);
    store_release(s, ids[9]);
    assert_int_equal(store_in_use(s), 13);
    assert_int_equal(store_alloc(s, &x), DVM_OK);
    assert_int_equal(x, ids[9]);        /* LIFO */
    assert_int_equal(store_alloc(s, &x), DVM_OK);
    assert_int_equal(x, ids[3]);
    assert_int_equal(store_frame(s, ids[5])[100], 5);
    store_destroy(s);
    store_destroy(NULL);
}

/* A store of 1024 frames with two allocated, *a and *b. */
static mem_store *two_frames(uint32_t *a, uint32_t *b)
{
    mem_store *s;
    assert_int_equal(store_create(1024, &s), DVM_OK);
    assert_int_equal(store_alloc(s, a), DVM_OK);
    assert_int_equal(store_alloc(s, b), DVM_OK);
    return s;
}

/* This process's resident shared memory (mapped memfd pages), in KiB. */
static long rss_shmem_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "RssShmem:", 9))
            kib = atol(line + 9);
    if (f)
        fclose(f);
    assert_true(kib >= 0);
    return kib;
}

/* Frames read and written through the file are the frames of the
 * mapping, byte for byte, and reading them does not map them: the
 * reader's resident set stays as it was (the master streaming output). */
static void test_read_write_by_file(void **state)
{
    (void)state;
    uint32_t a, b;
    mem_store *s = two_frames(&a, &b);
    uint8_t buf[STORE_FRAME_SIZE], got[STORE_FRAME_SIZE];
    for (unsigned i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 13 + 1);
    assert_int_equal(store_write(s, a, buf, sizeof buf), DVM_OK);
    assert_memory_equal(store_frame(s, a), buf, sizeof buf);
    memcpy(store_frame(s, b), "frame b", 7);
    memset(got, 0, sizeof got);
    assert_int_equal(store_read(s, b, got, 7), DVM_OK);
    assert_memory_equal(got, "frame b", 7);
    assert_int_equal(got[7], 0);                /* only n bytes */
    assert_int_equal(store_read(s, a, got, sizeof got), DVM_OK);
    assert_memory_equal(got, buf, sizeof buf);
    /* 1000 frames written and read by file: none is mapped here */
    long before = rss_shmem_kib();
    for (uint32_t i = 0; i < 1000; i++) {
        uint32_t f;
        assert_int_equal(store_alloc(s, &f), DVM_OK);
        assert_int_equal(store_write(s, f, buf, sizeof buf), DVM_OK);
        assert_int_equal(store_read(s, f, got, sizeof got), DVM_OK);
    }
    assert_true(rss_shmem_kib() - before < 400);    /* 4000 if mapped */
    store_destroy(s);
}

static void test_bad_size(void **state)
{
    (void)state;
    mem_store *s = NULL;
    assert_int_equal(store_create(1, &s), DVM_EINVAL);
    assert_null(s);
}

/* A child process attaches the fd and sees and writes the same frames. */
static void test_attach_shared(void **state)
{
    (void)state;
    uint32_t a, b;
    mem_store *s = two_frames(&a, &b);
    memset(store_frame(s, a), 0x5a, STORE_FRAME_SIZE);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        mem_store *c;
        if (store_attach(store_fd(s), 1024, &c))
            _exit(2);
        int ok = store_frame(c, a)[4095] == 0x5a;
        memset(store_frame(c, b), 0xa5, STORE_FRAME_SIZE);
        store_destroy(c);
        _exit(ok ? 0 : 1);
    }
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 0);
    assert_int_equal(store_frame(s, b)[17], 0xa5);
    store_destroy(s);
}

/* Releasing many frames punches the cold ones; reuse still works. */
static void test_trim(void **state)
{
    (void)state;
    enum { N = 70000 };
    mem_store *s;
    assert_int_equal(store_create(N + 1, &s), DVM_OK);
    uint32_t *ids = malloc(N * sizeof *ids);
    assert_non_null(ids);
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(store_alloc(s, &ids[i]), DVM_OK);
        store_frame(s, ids[i])[0] = 1;
    }
    for (uint32_t i = 0; i < N; i++)
        store_release(s, ids[i]);
    assert_int_equal(store_in_use(s), 0);
    /* The oldest released frame was punched: it reads as zero. */
    assert_int_equal(store_frame(s, ids[0])[0], 0);
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(store_alloc(s, &ids[i]), DVM_OK);
    assert_int_equal(store_in_use(s), N);
    uint32_t x;
    assert_int_equal(store_alloc(s, &x), DVM_ENOMEM);
    free(ids);
    store_destroy(s);
}

/* Runs read as zeros, come from fresh ids, and the unused part of one
 * given back (punched) is merged with its neighbours and lowers the
 * high-water mark, so the same ids serve the next run. */
static void test_runs(void **state)
{
    (void)state;
    mem_store *s;
    assert_int_equal(store_create(64, &s), DVM_OK);
    uint32_t a, b, x = 99;
    assert_int_equal(store_alloc_run(s, 40, &a), DVM_OK);
    assert_int_equal(store_alloc_run(s, 30, &x), DVM_ENOMEM);
    assert_int_equal(x, 99);
    assert_int_equal(store_alloc_run(s, 20, &b), DVM_OK);
    assert_int_equal(b, a + 40);
    assert_int_equal(store_in_use(s), 60);
    for (uint32_t i = 0; i < 20; i++) {
        assert_int_equal(store_frame(s, b + i)[7], 0);
        memset(store_frame(s, b + i), 0xab, STORE_FRAME_SIZE);
    }
    store_release_run(s, b + 2, 3);     /* an extent in the middle */
    store_release_run(s, b + 10, 10);   /* back under the mark */
    assert_int_equal(store_in_use(s), 47);
    assert_int_equal(store_frame(s, b + 3)[100], 0);    /* punched */
    assert_int_equal(store_frame(s, b + 5)[100], 0xab); /* kept */
    store_release_run(s, b + 5, 5);     /* joins both sides, then the mark */
    assert_int_equal(store_in_use(s), 42);
    assert_int_equal(store_alloc_run(s, 21, &x), DVM_OK);
    assert_int_equal(x, b + 2);         /* the same ids again */
    for (uint32_t i = 0; i < 21; i++)
        assert_int_equal(store_frame(s, x + i)[0], 0);
    store_release_run(s, a, 1);         /* a single frame from an extent */
    assert_int_equal(store_alloc(s, &x), DVM_OK);
    assert_int_equal(x, a);
    store_destroy(s);
}

/* store_frames_touched counts distinct ids ever handed out: frames
 * released and taken again (LIFO) add nothing, the mark lowered by a run
 * given back and raised again adds nothing, and only new ids add. */
static void test_frames_touched(void **state)
{
    (void)state;
    mem_store *s;
    assert_int_equal(store_create(64, &s), DVM_OK);
    assert_int_equal(store_frames_touched(s), 0);
    uint32_t a, b, c, r;
    assert_int_equal(store_alloc(s, &a), DVM_OK);
    assert_int_equal(store_alloc(s, &b), DVM_OK);
    assert_int_equal(store_frames_touched(s), 2);
    store_release(s, b);
    store_release(s, a);
    assert_int_equal(store_free_count(s), 2);
    assert_int_equal(store_alloc(s, &c), DVM_OK);
    assert_int_equal(c, a);                     /* the last released */
    assert_int_equal(store_free_count(s), 1);
    assert_int_equal(store_frames_touched(s), 2);
    assert_int_equal(store_alloc_run(s, 10, &r), DVM_OK);
    assert_int_equal(store_frames_touched(s), 12);
    store_release_run(s, r, 10);                /* the mark comes down */
    assert_int_equal(store_in_use(s), 1);
    assert_int_equal(store_free_count(s), 1);   /* a run's ids: no */
    assert_int_equal(store_alloc_run(s, 4, &r), DVM_OK);
    assert_int_equal(store_frames_touched(s), 12);
    assert_int_equal(store_alloc_run(s, 9, &r), DVM_OK);
    assert_int_equal(store_frames_touched(s), 15);
    store_destroy(s);
}

/* Runs whose frames become versions and are freed one by one, in any
 * order (a large commit's pages collected), come back as runs after a
 * trim: granting such runs again and again never exhausts the ids. */
static void test_runs_reused(void **state)
{
    (void)state;
    enum { RUN = 40000, MAX = 2 * RUN + 1 };
    mem_store *s;
    assert_int_equal(store_create(MAX, &s), DVM_OK);
    for (int round = 0; round < 6; round++) {
        uint32_t first;
        assert_int_equal(store_alloc_run(s, RUN, &first), DVM_OK);
        for (uint32_t i = 0; i < RUN; i++)
            assert_int_equal(store_frame(s, first + i)[i % 4096], 0);
        for (uint32_t i = 0; i < RUN; i++)
            store_frame(s, first + i)[i % 4096] = 1;
        for (uint32_t i = 0; i < RUN; i++)      /* odd ids, then even */
            store_release(s, first + (i * 2 + i * 2 / RUN) % RUN);
        assert_int_equal(store_in_use(s), 0);
    }
    store_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_release),
        cmocka_unit_test(test_bad_size),
        cmocka_unit_test(test_read_write_by_file),
        cmocka_unit_test(test_attach_shared),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_runs_reused),
        cmocka_unit_test(test_frames_touched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
