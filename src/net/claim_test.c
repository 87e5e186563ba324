/*
 * claim_test.c -- unit tests of the claim boards: each transition, a
 * word reused CLAIM_SLOTS runners later, the RComp's mapping of its own
 * board, and the race the boards exist for (two threads, one starting in
 * order and one taking back from the newest end: every runner is decided
 * exactly once; part of the TSan stage).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/claim.h"

static void test_start_then_take(void **state)
{
    (void)state;
    int fd;
    claim_board *b;
    assert_int_equal(claim_boards_create(2, &fd, &b), DVM_OK);
    claim_offer(&b[1], 0);
    claim_offer(&b[1], 1);
    assert_int_equal(claim_start(&b[1], 0), 1);
    assert_int_equal(claim_take(&b[1], 0), 0);      /* started first */
    assert_int_equal(claim_take(&b[1], 1), 1);
    assert_int_equal(claim_start(&b[1], 1), 0);     /* taken first */
    assert_int_equal(claim_take(&b[1], 1), 0);      /* once */
    assert_int_equal(claim_start(&b[0], 0), 0);     /* never offered */
    claim_boards_unmap(b, 2);
    close(fd);
}

/* A taken runner's word reused by a newer seq: the RComp that still holds
 * the old one skips it; the new one starts. */
static void test_word_reused(void **state)
{
    (void)state;
    int fd;
    claim_board *b;
    assert_int_equal(claim_boards_create(1, &fd, &b), DVM_OK);
    claim_offer(b, 5);
    assert_int_equal(claim_take(b, 5), 1);
    claim_offer(b, 5 + CLAIM_SLOTS);
    assert_int_equal(claim_start(b, 5), 0);
    assert_int_equal(claim_start(b, 5 + CLAIM_SLOTS), 1);
    claim_reset(b);
    assert_int_equal(claim_start(b, 5 + CLAIM_SLOTS), 0);
    claim_boards_unmap(b, 1);
    close(fd);
}

/* The RComp maps its own board and sees the dispatcher's words. */
static void test_board_map(void **state)
{
    (void)state;
    int fd;
    claim_board *b, *mine;
    assert_int_equal(claim_boards_create(3, &fd, &b), DVM_OK);
    assert_int_equal(claim_board_map(fd, 2, &mine), DVM_OK);
    claim_offer(&b[2], 7);
    assert_int_equal(claim_start(mine, 7), 1);
    assert_int_equal(claim_take(&b[2], 7), 0);
    assert_int_equal(claim_board_map(fd, 3, &mine), DVM_EINVAL);
    assert_int_equal(claim_board_map(fd, -1, &mine), DVM_EINVAL);
    assert_int_equal(claim_board_map(-1, 0, &mine), DVM_EINVAL);
    claim_boards_unmap(mine, 1);
    claim_boards_unmap(b, 3);
    close(fd);
}

#define RACE_N 200000
#define RACE_BATCH 64

typedef struct race {
    claim_board *b;
    _Atomic uint32_t offered;   /* runners [0, offered) are on the board */
    uint8_t started[RACE_N];    /* written by the RComp thread only */
} race;

/* The RComp: starts or skips every runner in order. */
static void *rcomp_thread(void *arg)
{
    race *r = arg;
    for (uint32_t seq = 0; seq < RACE_N; seq++) {
        while (atomic_load(&r->offered) <= seq)
            ;
        r->started[seq] = (uint8_t)claim_start(r->b, seq);
    }
    return NULL;
}

/* Offers batches and takes back from each batch's newest end until a take
 * fails; the RComp's choices and the dispatcher's must be complementary.
 * A word is offered again only once the RComp is past its runner (here:
 * a batch is offered when the last one is decided by both sides). */
static void test_race(void **state)
{
    (void)state;
    static race r;
    int fd;
    assert_int_equal(claim_boards_create(1, &fd, &r.b), DVM_OK);
    static uint8_t taken[RACE_N];
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, rcomp_thread, &r), 0);
    size_t ntaken = 0;
    for (uint32_t base = 0; base < RACE_N; base += RACE_BATCH) {
        for (uint32_t k = 0; k < RACE_BATCH; k++)
            claim_offer(r.b, base + k);
        atomic_store(&r.offered, base + RACE_BATCH);
        for (uint32_t k = RACE_BATCH; k-- > 0;) {
            if (!claim_take(r.b, base + k))
                break;
            taken[base + k] = 1;
            ntaken++;
        }
        /* Wait until the RComp decided the whole batch. */
        for (uint32_t k = 0; k < RACE_BATCH; k++)
            while ((atomic_load(&r.b->w[(base + k) % CLAIM_SLOTS]) & 3) ==
                   CLAIM_QUEUED)
                ;
    }
    assert_int_equal(pthread_join(t, NULL), 0);
    size_t nstarted = 0;
    for (uint32_t i = 0; i < RACE_N; i++) {
        if (r.started[i] == taken[i])
            fail_msg("runner %u: started %u, taken %u", i, r.started[i],
                     taken[i]);
        nstarted += r.started[i];
    }
    assert_int_equal(nstarted + ntaken, RACE_N);
    claim_boards_unmap(r.b, 1);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_then_take),
        cmocka_unit_test(test_word_reused),
        cmocka_unit_test(test_board_map),
        cmocka_unit_test(test_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
