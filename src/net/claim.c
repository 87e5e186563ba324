/*
 * claim.c -- see claim.h.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/claim.h"

_Static_assert(sizeof(claim_board) == 4096, "a board is one page");

static uint32_t word(uint32_t seq, uint32_t state)
{
    return (seq & CLAIM_SEQ_MASK) << 2 | state;
}

static _Atomic uint32_t *slot(claim_board *b, uint32_t seq)
{
    return &b->w[seq % CLAIM_SLOTS];
}

dvm_status claim_boards_create(int n, int *fd_out, claim_board **out)
{
    assert(n > 0);
    size_t len = (size_t)n * sizeof(claim_board);
    int fd = memfd_create("dvm-claims", MFD_CLOEXEC);
    if (fd < 0)
        return status_set_errno(DVM_ESYS, "memfd_create claims");
    if (ftruncate(fd, (off_t)len) < 0)
        goto err_fd;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        goto err_fd;
    *fd_out = fd;
    *out = p;
    return DVM_OK;
err_fd:;
    dvm_status st = status_set_errno(DVM_ESYS, "claim boards");
    close(fd);
    return st;
}

dvm_status claim_board_map(int fd, int index, claim_board **out)
{
    struct stat sb;
    if (fstat(fd, &sb) < 0)
        return status_set_errno(DVM_EINVAL, "claim board fd %d", fd);
    if (index < 0 || (off_t)(index + 1) * (off_t)sizeof(claim_board) >
                     sb.st_size)
        return status_set(DVM_EINVAL, "claim board %d: not in fd %d",
                          index, fd);
    void *p = mmap(NULL, sizeof(claim_board), PROT_READ | PROT_WRITE,
                   MAP_SHARED, fd, (off_t)index * (off_t)sizeof(claim_board));
    if (p == MAP_FAILED)
        return status_set_errno(DVM_ESYS, "mapping claim board %d", index);
    *out = p;
    return DVM_OK;
}

void claim_boards_unmap(claim_board *boards, int n)
{
    if (boards)
        munmap(boards, (size_t)n * sizeof(claim_board));
}

void claim_reset(claim_board *b)
{
    for (size_t i = 0; i < CLAIM_SLOTS; i++)
        atomic_store_explicit(&b->w[i], CLAIM_FREE, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

void claim_offer(claim_board *b, uint32_t seq)
{
    _Atomic uint32_t *w = slot(b, seq);
    assert((atomic_load(w) & 3) != CLAIM_QUEUED);
    atomic_store_explicit(w, word(seq, CLAIM_QUEUED), memory_order_release);
}

/* Moves seq's word from QUEUED to state; 1 when this call did. */
static int claim_move(claim_board *b, uint32_t seq, uint32_t state)
{
    uint32_t want = word(seq, CLAIM_QUEUED);
    return atomic_compare_exchange_strong_explicit(
        slot(b, seq), &want, word(seq, state), memory_order_acq_rel,
        memory_order_acquire);
}

int claim_start(claim_board *b, uint32_t seq)
{
    return claim_move(b, seq, CLAIM_STARTED);
}

int claim_take(claim_board *b, uint32_t seq)
{
    return claim_move(b, seq, CLAIM_TAKEN);
}
