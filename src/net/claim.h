/*
 * claim.h -- who starts a dispatched runner: the RComp it was sent to, or
 * the dispatcher that takes it back.
 *
 * The master sends an RComp its runners in batches (sched/place.h), and
 * the RComp runs them in order from a FIFO of its own.  When the runner at
 * the head of that FIFO turns out long, the ones behind it wait while
 * another RComp may sit idle.  The dispatcher takes such runners back, but
 * only those not started: a runner must run once.  Messages cannot decide
 * that race (a "take back" request and the RComp's start cross each
 * other), so the decision is made in shared memory, one word per runner:
 *
 *   board word = (seq << 2) | state       seq: the runner's number in the
 *                                         RComp's dispatch order (mod 2^30)
 *
 *   FREE    -> QUEUED      the dispatcher, before it sends the runner
 *   QUEUED  -> STARTED     the RComp, before it touches the window for it
 *   QUEUED  -> TAKEN       the dispatcher, taking it back
 *
 * Both transitions out of QUEUED are compare-and-swaps on the same word, so
 * exactly one side wins.  An RComp that loses skips the runner: it never
 * runs it and sends nothing for it.  A dispatcher that loses leaves the
 * runner where it is; since an RComp starts its runners in order, every
 * runner before a started one is started too, so the dispatcher takes
 * back from the newest end and stops at the first it loses.
 *
 * A board is a page of CLAIM_SLOTS words, used in turn (seq mod
 * CLAIM_SLOTS).  The dispatcher offers seq only when the runner of
 * seq - CLAIM_SLOTS is out of its hands (answered, or taken back).  An
 * RComp holds at most RCB_RING_MAX (64) runners, far fewer than
 * CLAIM_SLOTS, but that alone does not ensure it: runners taken back
 * used up their numbers too, so while one long runner heads an RComp's
 * queue and the newer ones behind it are taken back and replaced again
 * and again, the numbers run ahead of the runner queued right behind it.
 * So the master sends an RComp nothing once its next number is
 * CLAIM_SLOTS past its oldest runner in flight (rcomps_claim_room);
 * before that check the tree sum with every queue taken back at every
 * turn overwrote a queued runner's word in one Debug run in three.  An
 * RComp still holding the taken runner of that earlier seq then finds a
 * newer seq in the word, loses its compare-and-swap and skips it, which
 * is what taking back asked for.
 *
 * The boards of all the RComps of a host are one memfd, which each RComp
 * maps (its own board at its index).  The dispatcher is the master for
 * its local RComps and the node for a cluster node's (the master asks it:
 * net/msg.h, MSG_TAKE_BACK).  A new process on a slot starts with its
 * board reset and its seq at 0.
 */
#ifndef DVM_NET_CLAIM_H
#define DVM_NET_CLAIM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

#define CLAIM_SLOTS 1024        /* > RCB_RING_MAX; a board is a page */
#define CLAIM_SEQ_MASK 0x3fffffffu

enum { CLAIM_FREE, CLAIM_QUEUED, CLAIM_STARTED, CLAIM_TAKEN };

typedef struct claim_board {
    _Atomic uint32_t w[CLAIM_SLOTS];
} claim_board;

/* Creates the boards of n RComps, all FREE, in a close-on-exec memfd.  On
 * success *fd and the mapping *boards (n of them) are the caller's; free
 * with claim_boards_unmap and close. */
dvm_status claim_boards_create(int n, int *fd, claim_board **boards);
/* Maps board index of memfd fd (an RComp's side).  DVM_EINVAL when fd
 * holds no such board.  On success *board is the caller's, to unmap with
 * claim_boards_unmap(*board, 1). */
dvm_status claim_board_map(int fd, int index, claim_board **board);
void claim_boards_unmap(claim_board *boards, int n);

/* Every word FREE: a new process on the board's slot. */
void claim_reset(claim_board *b);
/* The dispatcher: runner seq is queued.  The word it takes must not hold
 * a queued runner (asserted): see the header comment. */
void claim_offer(claim_board *b, uint32_t seq);
/* The RComp: 1 when it may start runner seq (now STARTED), 0 when it was
 * taken back (skip it). */
int claim_start(claim_board *b, uint32_t seq);
/* The dispatcher: 1 when runner seq is taken back (the RComp will skip
 * it), 0 when the RComp started it first. */
int claim_take(claim_board *b, uint32_t seq);

#endif
