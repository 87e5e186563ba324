/*
 * ninput.c -- a node's copy of the input pages (ninput.h).
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dist/cmsg.h"
#include "dist/ninput.h"
#include "image/inpage.h"
#include "isa/isa.h"

_Static_assert(NINPUT_AHEAD <= CMSG_MAX_INPUT_FETCH, "a fetch the master takes");

/* A sized, empty memfd with its /proc path. */
static dvm_status make_file(const char *name, uint64_t bytes, int *fd,
                            char *path, size_t cap)
{
    *fd = memfd_create(name, MFD_CLOEXEC);
    if (*fd < 0)
        return status_set_errno(DVM_ESYS, "memfd_create");
    if (ftruncate(*fd, (off_t)bytes) < 0) {
        dvm_status st = status_set_errno(DVM_ESYS, "ftruncate %s", name);
        close(*fd);
        *fd = -1;
        return st;
    }
    snprintf(path, cap, "/proc/%d/fd/%d", (int)getpid(), *fd);
    return DVM_OK;
}

void ninput_init(ninput *x)
{
    memset(x, 0, sizeof *x);
    x->win_fd = x->map_fd = -1;
}

dvm_status ninput_start(ninput *x)
{
    ninput_init(x);
    dvm_status st = make_file("dvm-inputs", INPAGE_PAGES * DISA_PAGE,
                              &x->win_fd, x->win_path, sizeof x->win_path);
    if (st)
        goto err;
    st = make_file("dvm-inputs-present", INPAGE_MAP_BYTES, &x->map_fd,
                   x->map_path, sizeof x->map_path);
    if (st)
        goto err;
    void *m = mmap(NULL, INPAGE_MAP_BYTES, PROT_READ | PROT_WRITE,
                   MAP_SHARED, x->map_fd, 0);
    void *a = mmap(NULL, INPAGE_MAP_BYTES, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    x->map = m == MAP_FAILED ? NULL : m;
    x->asked = a == MAP_FAILED ? NULL : a;
    if (!x->map || !x->asked) {
        st = status_set_errno(DVM_ENOMEM, "mmap of the input maps");
        goto err;
    }
    return DVM_OK;
err:
    ninput_stop(x);
    return st;
}

void ninput_stop(ninput *x)
{
    if (x->map)
        munmap(x->map, INPAGE_MAP_BYTES);
    if (x->asked)
        munmap(x->asked, INPAGE_MAP_BYTES);
    if (x->map_fd >= 0)
        close(x->map_fd);
    if (x->win_fd >= 0)
        close(x->win_fd);
    ninput_init(x);
}

int ninput_present(const ninput *x, uint64_t page)
{
    return inpage_present(x->map, page);
}

/* Marks page asked; 1 when it was not before. */
static int mark_asked(ninput *x, uint64_t page)
{
    uint64_t i = inpage_index(page), bit = 1ull << (i % 64);
    if (x->asked[i / 64] & bit)
        return 0;
    x->asked[i / 64] |= bit;
    return 1;
}

size_t ninput_ask(ninput *x, uint64_t page, uint64_t *want)
{
    assert(x->asked && inpage_is_input(page));
    size_t k = 0;
    for (uint64_t p = page; p < page + NINPUT_AHEAD && inpage_is_input(p);
         p++) {
        if (!mark_asked(x, p)) {
            if (p == page)
                return 0;       /* on its way: so are the ones after it */
            continue;
        }
        want[2 * k] = p;
        want[2 * k++ + 1] = CMSG_EPOCH_INPUT;
    }
    return k;
}

dvm_status ninput_fill(ninput *x, uint64_t page, const uint8_t *data)
{
    off_t off = (off_t)(inpage_index(page) * DISA_PAGE);
    size_t got = 0;
    while (got < DISA_PAGE) {
        ssize_t w = pwrite(x->win_fd, data + got, DISA_PAGE - got,
                           off + (off_t)got);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return status_set_errno(DVM_EIO, "input page %#llx",
                                    (unsigned long long)page);
        got += (size_t)w;
    }
    inpage_set_present(x->map, page);
    return DVM_OK;
}
