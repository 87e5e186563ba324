/*
 * window.c -- a runner's 2^46-byte address space, filled by userfaultfd.
 *
 * The window is ONE anonymous private mapping of 2^46 bytes, reserved with
 * MAP_NORESERVE so that it costs nothing until pages arrive.  It is
 * registered once with userfaultfd in MISSING mode: the first touch of a
 * page that is not there suspends the touching thread in the kernel and
 * queues a message on the uffd.  A handler thread, owned by the window,
 * polls the uffd, asks the resolver for the content, and installs it with
 * UFFDIO_COPY (or UFFDIO_ZEROPAGE when the resolver says zeros), which also
 * wakes the faulting thread.  Nothing ever calls mmap or mprotect on part of
 * the window, so the kernel keeps it as one VMA whatever the runner touches
 * (per-page protections would hit vm.max_map_count at 65,530 pages).
 *
 * Every page that enters the window, by fault or by window_fill, is recorded
 * in the touched set (only a page inside the mapping can enter): a hash set
 * (for "already there?") plus a list (for a cheap reset).  window_reset
 * hands the listed pages back with MADV_DONTNEED, sorted and coalesced into
 * runs, so the cost of a reset is proportional to what the last runner
 * touched, not to the window.  The hash set is cleared in O(1) by bumping a
 * generation number stored in each slot.
 * window_reset_keep hands some of those pages to the caller instead: they
 * stay mapped (a later touch costs nothing) and are no longer recorded, so
 * the next runner's touched set is again exactly what entered for it.  The
 * caller knows why a page may stay (src/rcomp/keep.c); the window only
 * forgets it and drops it again on request (window_drop).
 *
 * Input windows (DISA_INPUT_BASE up to the system page) are read only and may
 * be far larger than memory.  With a cap set, their pages live in a separate
 * FIFO ring: when it is full the oldest input page is dropped again with
 * MADV_DONTNEED.  Content is immutable, so a later read simply faults it back
 * in with the same bytes; for the same reason window_reset_keep leaves the
 * ring as it is (the next runner reading the same input pays no fault).
 * Input is mostly read in order, and each page's fault is a round trip
 * through the handler thread (two thread switches, tens of microseconds
 * on a VM) for a few microseconds of reading: with read-ahead set
 * (window_set_input_ahead), a faulting input page comes with the input
 * pages after it that the caller can give at once, installed by the same
 * UFFDIO_COPY, which wakes the faulting thread only when all are in.  So
 * the runner never runs while they are being installed, and a reset
 * cannot slip between their recording and their install.
 *
 * A prefix of the window may be made plain (window_plain): the private
 * region, all zeros at the start of every runner.  A uffd round trip costs
 * tens of microseconds on a busy VM (two thread switches), a kernel zero-fill
 * fault one or two, and one madvise over the whole 1 GiB region, populated or
 * not, a few; so the PR is left to the kernel, not tracked per page, and
 * dropped wholesale at reset -- but for its first pages, which stay resident
 * and are cleared in place (window_plain_keep), and unless the caller names
 * the pages a runner may have written (window_plain_written).  Named pages
 * among the next ones (window_plain_soft: c0 keeps its function frames
 * there) are cleared in place too when they are few: a madvise of 13 pages
 * and the faults that bring them back cost a Task Bench task ~5 us of its
 * ~35, a memset of them ~1.
 *
 * Threads.  Two threads touch the bookkeeping: the engine thread (fill,
 * reset, queries) and the handler thread (faults).  One mutex guards the
 * sets, lists and failure status; the uffd ioctls themselves need no lock.
 * The order "record, then install" in the handler is what makes reset safe:
 * see handle_fault().
 */
#define _GNU_SOURCE
#include "mem/window.h"
#include "util/sanitize.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "isa/isa.h"
#include "util/alloc.h"

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#define WIN_SIZE      (1ULL << DISA_ADDR_BITS)
#define WIN_PAGE      4096ULL
#define WIN_NPAGES    (WIN_SIZE / WIN_PAGE)
#define WIN_IN_LO     (DISA_INPUT_BASE / WIN_PAGE)
#define WIN_IN_HI     (DISA_SYSPAGE / WIN_PAGE)
#define WIN_SORT_MIN  16        /* below this, coalesce in list order only */
#define WIN_TOUCHED_BATCH 32    /* touched pages read per hold of the lock */

/* ---- page set ------------------------------------------------------------
 * Open addressing with linear probing.  A slot holds gen << 34 | page; it is
 * live when its generation is the set's current one, so clearing is gen++.
 * Page numbers of a 2^46 window have 34 bits. */

#define PS_BITS     34
#define PS_MASK     ((1ULL << PS_BITS) - 1)
#define PS_GEN_MAX  ((1ULL << (64 - PS_BITS)) - 1)

typedef struct pset {
    uint64_t *slot;
    size_t cap, n;              /* cap: power of two; n: live slots */
    uint64_t gen;               /* 1 .. PS_GEN_MAX */
} pset;

/* Home slot of page in a table of cap slots. */
static size_t ps_home(const pset *s, uint64_t page)
{
    return (size_t)((page * 0x9E3779B97F4A7C15ULL) >> 20) & (s->cap - 1);
}

static int ps_live(const pset *s, uint64_t v)
{
    return (v >> PS_BITS) == s->gen;
}

/* Index of page's slot, or of the empty slot where it would go. */
static size_t ps_find(const pset *s, uint64_t page)
{
    size_t i = ps_home(s, page);
    while (ps_live(s, s->slot[i]) && (s->slot[i] & PS_MASK) != page)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static dvm_status ps_init(pset *s, size_t cap)
{
    assert(cap && !(cap & (cap - 1)));
    s->slot = dvm_calloc(cap, sizeof *s->slot);
    if (!s->slot)
        return status_set(DVM_ENOMEM, "window: page set of %zu slots", cap);
    s->cap = cap;
    s->n = 0;
    s->gen = 1;
    return DVM_OK;
}

static void ps_free(pset *s)
{
    dvm_free(s->slot);
    memset(s, 0, sizeof *s);
}

static int ps_has(const pset *s, uint64_t page)
{
    return ps_live(s, s->slot[ps_find(s, page)]);
}

/* Doubles the table, keeping the live slots. */
static dvm_status ps_grow(pset *s)
{
    pset t;
    dvm_status st = ps_init(&t, s->cap * 2);
    if (st)
        return st;
    for (size_t i = 0; i < s->cap; i++)
        if (ps_live(s, s->slot[i])) {
            uint64_t page = s->slot[i] & PS_MASK;
            t.slot[ps_find(&t, page)] = t.gen << PS_BITS | page;
            t.n++;
        }
    assert(t.n == s->n);
    ps_free(s);
    *s = t;
    return DVM_OK;
}

/* Adds page: 1 if it was new, 0 if already there, DVM_ENOMEM. */
static int ps_add(pset *s, uint64_t page)
{
    assert(page <= PS_MASK);
    size_t i = ps_find(s, page);
    if (ps_live(s, s->slot[i]))
        return 0;
    if ((s->n + 1) * 2 > s->cap) {
        dvm_status st = ps_grow(s);
        if (st)
            return st;
        i = ps_find(s, page);
    }
    s->slot[i] = s->gen << PS_BITS | page;
    s->n++;
    return 1;
}

/* Removes page if present (backward-shift deletion keeps probe chains
 * intact without tombstones). */
static void ps_del(pset *s, uint64_t page)
{
    size_t mask = s->cap - 1, i = ps_find(s, page), j = i;
    if (!ps_live(s, s->slot[i]))
        return;
    for (;;) {
        j = (j + 1) & mask;
        if (!ps_live(s, s->slot[j]))
            break;
        size_t k = ps_home(s, s->slot[j] & PS_MASK);
        /* Move slot j back to i unless its home lies cyclically in (i, j]. */
        int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            s->slot[i] = s->slot[j];
            i = j;
        }
    }
    s->slot[i] = 0;
    s->n--;
}

/* Empties the set in O(1) (O(cap) once every 2^30 clears). */
static void ps_clear(pset *s)
{
    s->n = 0;
    if (++s->gen > PS_GEN_MAX) {
        memset(s->slot, 0, s->cap * sizeof *s->slot);
        s->gen = 1;
    }
}

/* ---- the window ---------------------------------------------------------- */

#define WIN_MAX_ZERO 8          /* zero spans per runner */
#define WIN_MAX_XKEEP 4         /* kept plain pages past the prefix */
#define WIN_SOFT_BUDGET 16      /* soft plain pages zeroed per reset at most */
#define WIN_MINCORE_CHUNK 65536 /* pages per mincore call */

typedef struct win_span {
    uint64_t lo, n;             /* pages [lo, lo + n) */
    int mapped;                 /* backed by a file (window_span_map) */
} win_span;

struct mem_window {
    uint8_t *base;
    uint64_t size;              /* bytes mapped: 2^46, smaller in tests */
    int uffd;
    int wake;                   /* eventfd: tells the handler to stop */
    pthread_t thread;
    int running;
    window_resolve_fn resolve;
    void *arg;
    uint8_t *buf;               /* the handler's page buffer (aligned) */
    uint8_t *zeros;             /* a page of zeros (aligned) */
    window_ahead_fn ahead;      /* input read-ahead (window_set_input_ahead) */
    uint32_t nahead;            /* pages after a faulting one, at most */
    uint8_t *abuf;              /* 1 + nahead pages: the run installed */
    uint64_t nplain;            /* pages [0, nplain) are plain memory */
    uint64_t nkeep;             /* plain pages [0, nkeep) are zeroed, not
                                   dropped, at reset */
    dvm_range written[WINDOW_PLAIN_RANGES]; /* plain pages the caller says may
                                   be written (window_plain_written) */
    size_t nwritten;            /* SIZE_MAX: not said, drop them all */
    uint64_t kept_written;      /* kept pages to zero (bit p: page p;
                                   window_plain_kept_written) */
    uint64_t xkeep[WIN_MAX_XKEEP]; /* plain pages past nkeep zeroed, not
                                   dropped, when named written (sorted) */
    size_t nxkeep;
    int xkept;                  /* the last reset zeroed them in place */
    uint64_t nsoft;             /* plain pages [nkeep, nsoft) named written
                                   are zeroed, not dropped (window_plain_soft) */
    win_span zero[WIN_MAX_ZERO];/* this runner's zero spans (engine thread) */
    size_t nzero;

    pthread_mutex_t mu;         /* guards everything below */
    pset seen;                  /* touched pages (input pages too if no cap) */
    uint64_t *list;             /* the same pages, in order of arrival */
    size_t nlist, caplist;
    size_t input_cap;           /* 0: input pages are ordinary pages */
    pset inseen;                /* capped input pages */
    uint64_t *ring;             /* their FIFO: ring[(head + i) % input_cap] */
    size_t ring_head, ring_n;
    dvm_status failed;
};

uint8_t *window_base(const mem_window *w)
{
    return w->base;
}

static int is_input_page(uint64_t page)
{
    return page >= WIN_IN_LO && page < WIN_IN_HI;
}

/* Drops pages [page, page + n) from memory; they are missing again. */
static void drop_pages(mem_window *w, uint64_t page, uint64_t n)
{
    int rc = madvise(w->base + page * WIN_PAGE, n * WIN_PAGE, MADV_DONTNEED);
    assert(rc == 0);
    (void)rc;
}

/* Records a capped input page; evicts the oldest when the ring is full.
 * Called with mu held. */
static dvm_status note_input(mem_window *w, uint64_t page)
{
    int added = ps_add(&w->inseen, page);
    if (added <= 0)
        return added;
    if (w->ring_n == w->input_cap) {
        uint64_t old = w->ring[w->ring_head];
        w->ring_head = (w->ring_head + 1) % w->input_cap;
        w->ring_n--;
        ps_del(&w->inseen, old);
        drop_pages(w, old, 1);
    }
    w->ring[(w->ring_head + w->ring_n) % w->input_cap] = page;
    w->ring_n++;
    return DVM_OK;
}

/* Records page as touched.  Called with mu held. */
static dvm_status note_locked(mem_window *w, uint64_t page)
{
    assert(page < w->size / WIN_PAGE);  /* the commit reads it */
    if (w->input_cap && is_input_page(page))
        return note_input(w, page);
    int added = ps_add(&w->seen, page);
    if (added <= 0)
        return added;
    if (w->nlist == w->caplist) {
        uint64_t *l = dvm_grow(w->list, &w->caplist, w->nlist + 1,
                               sizeof *l);
        if (!l) {
            ps_del(&w->seen, page);
            return status_set(DVM_ENOMEM, "window: touched list");
        }
        w->list = l;
    }
    w->list[w->nlist++] = page;
    return DVM_OK;
}

static dvm_status note_touched(mem_window *w, uint64_t page)
{
    pthread_mutex_lock(&w->mu);
    dvm_status st = note_locked(w, page);
    pthread_mutex_unlock(&w->mu);
    return st;
}

/* Keeps the first failure since the last reset. */
static void note_failure(mem_window *w, dvm_status st)
{
    pthread_mutex_lock(&w->mu);
    if (!w->failed)
        w->failed = st;
    pthread_mutex_unlock(&w->mu);
}

/* Installs src (NULL: zeros) at missing page; returns 0, or -errno
 * (-EEXIST when the page is already present).  Retries EAGAIN, which the
 * kernel returns when the mapping changes under the copy. */
static int install(mem_window *w, uint64_t page, const uint8_t *src)
{
    uint64_t dst = (uint64_t)(uintptr_t)(w->base + page * WIN_PAGE);
    for (;;) {
        int rc;
        if (src) {
            struct uffdio_copy c = { .dst = dst, .len = WIN_PAGE,
                                     .src = (uint64_t)(uintptr_t)src };
            rc = ioctl(w->uffd, UFFDIO_COPY, &c);
        } else {
            struct uffdio_zeropage z = { .range = { dst, WIN_PAGE } };
            rc = ioctl(w->uffd, UFFDIO_ZEROPAGE, &z);
        }
        if (rc == 0)
            return 0;
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
    }
}

/* Wakes threads waiting on page (used when the page raced in). */
static void wake_page(mem_window *w, uint64_t page)
{
    struct uffdio_range r = {
        (uint64_t)(uintptr_t)(w->base + page * WIN_PAGE), WIN_PAGE };
    (void)ioctl(w->uffd, UFFDIO_WAKE, &r);
}

/* True when input page is present: the ring records every input page in
 * the window while the input cap is set. */
static int input_present(mem_window *w, uint64_t page)
{
    pthread_mutex_lock(&w->mu);
    int there = ps_has(&w->inseen, page);
    pthread_mutex_unlock(&w->mu);
    return there;
}

/* Fills w->abuf's pages 1.. with the input pages after page that are
 * missing and that w->ahead gives, each recorded before it is installed
 * (as handle_fault does); stops at the first that is not.  Returns how
 * many. */
static uint32_t read_ahead(mem_window *w, uint64_t page)
{
    uint32_t n = 0;
    while (n < w->nahead) {
        uint64_t p = page + 1 + n;
        if (!is_input_page(p) || p >= w->size / WIN_PAGE ||
            input_present(w, p) ||
            w->ahead(w->arg, p, w->abuf + (size_t)(n + 1) * WIN_PAGE) != 0 ||
            note_touched(w, p) != DVM_OK)
            break;
        n++;
    }
    return n;
}

/* Installs input page, whose bytes are in w->buf, with the pages after it
 * that read_ahead gives, in one copy that wakes the faulting thread once
 * the run is in.  Returns 1 when page is in (or raced in) and its waiter
 * woken, 0 when nothing was read ahead or the copy failed: the caller
 * installs page alone.  A copy cut short after page (a page of the run
 * present after all) leaves the rest missing but recorded, which is
 * harmless: dropping a missing page is a no-op, and a touch faults it in. */
static int install_input_run(mem_window *w, uint64_t page)
{
    uint32_t n = read_ahead(w, page);
    if (!n)
        return 0;
    memcpy(w->abuf, w->buf, WIN_PAGE);
    struct uffdio_copy c = {
        .dst = (uint64_t)(uintptr_t)(w->base + page * WIN_PAGE),
        .len = (uint64_t)(n + 1) * WIN_PAGE,
        .src = (uint64_t)(uintptr_t)w->abuf };
    for (;;) {
        c.copy = 0;
        if (ioctl(w->uffd, UFFDIO_COPY, &c) == 0 || c.copy > 0)
            return 1;           /* page, and part or all of the run */
        if (errno == EEXIST) {
            wake_page(w, page);
            return 1;
        }
        if (errno != EAGAIN && errno != EINTR)
            return 0;
    }
}

/*
 * Resolves one missing-page fault (handler thread).
 *
 * The page is recorded as touched BEFORE it is installed.  Installing wakes
 * the engine thread, which may finish its runner and call window_reset at
 * once; had we recorded afterwards, reset could run first, miss the page,
 * and the next runner would see the previous runner's bytes.  Recording
 * first costs nothing if the install then fails: dropping a missing page is
 * a no-op.  A resolver or install failure still maps zeros (the engine
 * thread must never stay suspended) and is kept for window_failed().
 */
static void handle_fault(mem_window *w, uint64_t page, int write)
{
    dvm_status st = note_touched(w, page);
    if (st)
        note_failure(w, st);
    int rc = w->resolve(w->arg, page, w->buf);
    if (rc < 0) {
        note_failure(w, rc);
        rc = 1;
    }
    if (rc == 0 && w->nahead && is_input_page(page) &&
        install_input_run(w, page))
        return;
    /* Zeros for a write: copy a zero page rather than map the shared zero
     * page, which the write would at once fault again to copy. */
    const uint8_t *src = rc == 1 ? (write ? w->zeros : NULL) : w->buf;
    int err = install(w, page, src);
    if (err == -EEXIST) {
        wake_page(w, page);
    } else if (err) {
        note_failure(w, status_set(DVM_ESYS, "window: install page 0x%llx:"
                                   " %s", (unsigned long long)page,
                                   strerror(-err)));
        if (install(w, page, NULL))
            wake_page(w, page);
    }
}

/* Reads and resolves the queued uffd messages; returns -1 on a dead uffd. */
static int drain_uffd(mem_window *w)
{
    struct uffd_msg m[16];
    ssize_t n = read(w->uffd, m, sizeof m);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    for (size_t i = 0; i < (size_t)n / sizeof m[0]; i++) {
        if (m[i].event != UFFD_EVENT_PAGEFAULT)
            continue;
        uint64_t a = m[i].arg.pagefault.address;
        uint64_t off = a - (uint64_t)(uintptr_t)w->base;
        assert(off < w->size);
        handle_fault(w, off / WIN_PAGE,
                     !!(m[i].arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE));
    }
    return 0;
}

/* The handler thread: serves faults until the wake eventfd fires. */
static void *handler_main(void *arg)
{
    mem_window *w = arg;
    struct pollfd p[2] = { { w->uffd, POLLIN, 0 }, { w->wake, POLLIN, 0 } };
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        if ((p[0].revents & POLLIN) && drain_uffd(w) < 0)
            break;
        if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL))
            break;
    }
    return NULL;
}

/* Opens a userfaultfd, unprivileged (user-mode faults only) if possible. */
static dvm_status open_uffd(int *out)
{
    int fd = (int)syscall(SYS_userfaultfd,
                          O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd < 0)
        fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return status_set_errno(DVM_ESYS, "window: userfaultfd (check "
                                "vm.unprivileged_userfaultfd)");
    struct uffdio_api api = { .api = UFFD_API, .features = 0 };
    if (ioctl(fd, UFFDIO_API, &api) < 0) {
        close(fd);
        return status_set_errno(DVM_ESYS, "window: UFFDIO_API");
    }
    *out = fd;
    return DVM_OK;
}

/* Maps the window and registers it with w->uffd. */
static dvm_status map_window(mem_window *w)
{
    void *p = mmap(NULL, w->size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return status_set_errno(DVM_ESYS, "window: mmap of %llu bytes",
                                (unsigned long long)w->size);
    struct uffdio_register reg = {
        .range = { (uint64_t)(uintptr_t)p, w->size },
        .mode = UFFDIO_REGISTER_MODE_MISSING };
    if (ioctl(w->uffd, UFFDIO_REGISTER, &reg) < 0) {
        dvm_status st = status_set_errno(DVM_ESYS, "window: UFFDIO_REGISTER");
        munmap(p, w->size);
        return st;
    }
    uint64_t need = 1ULL << _UFFDIO_COPY | 1ULL << _UFFDIO_ZEROPAGE |
                    1ULL << _UFFDIO_WAKE;
    if ((reg.ioctls & need) != need) {
        munmap(p, w->size);
        return status_set(DVM_EUNSUPP, "window: userfaultfd lacks COPY, "
                          "ZEROPAGE or WAKE on this kernel");
    }
    w->base = p;
    return DVM_OK;
}

/* ThreadSanitizer's address space layout has no room for 2^46 bytes.  A
 * TSan build (made only to test the threaded parts: this window's handler
 * thread beside the engine) opens 256 GiB instead; the handler is the same,
 * and DISA addresses above that are out of such a build's reach. */
#ifdef DVM_TSAN
#define WIN_OPEN_SIZE (1ULL << 38)
#else
#define WIN_OPEN_SIZE WIN_SIZE
#endif

dvm_status window_open(window_resolve_fn resolve, void *arg,
                       mem_window **out)
{
    return window_open_sized(resolve, arg, WIN_OPEN_SIZE, out);
}

dvm_status window_open_sized(window_resolve_fn resolve, void *arg,
                             uint64_t size, mem_window **out)
{
    assert(resolve && out);
    assert(size >= WIN_PAGE && size <= WIN_SIZE && !(size & (size - 1)));
    dvm_status st;
    mem_window *w = dvm_calloc(1, sizeof *w);
    if (!w)
        return status_set(DVM_ENOMEM, "window: state");
    w->size = size;
    w->nwritten = SIZE_MAX;
    w->kept_written = UINT64_MAX;
    w->resolve = resolve;
    w->arg = arg;
    pthread_mutex_init(&w->mu, NULL);
    if (posix_memalign((void **)&w->buf, WIN_PAGE, 2 * WIN_PAGE)) {
        w->buf = NULL;
        st = status_set(DVM_ENOMEM, "window: page buffer");
        goto err_state;
    }
    w->zeros = w->buf + WIN_PAGE;
    memset(w->zeros, 0, WIN_PAGE);
    if ((st = ps_init(&w->seen, 1024)))
        goto err_buf;
    if ((st = open_uffd(&w->uffd)))
        goto err_set;
    if ((st = map_window(w)))
        goto err_uffd;
    w->wake = eventfd(0, EFD_CLOEXEC);
    if (w->wake < 0) {
        st = status_set_errno(DVM_ESYS, "window: eventfd");
        goto err_map;
    }
    if (pthread_create(&w->thread, NULL, handler_main, w)) {
        st = status_set(DVM_ESYS, "window: cannot start the fault handler");
        goto err_wake;
    }
    w->running = 1;
    *out = w;
    return DVM_OK;

err_wake:
    close(w->wake);
err_map:
    munmap(w->base, w->size);
err_uffd:
    close(w->uffd);
err_set:
    ps_free(&w->seen);
err_buf:
    free(w->buf);
err_state:
    pthread_mutex_destroy(&w->mu);
    dvm_free(w);
    return st;
}

/* Stops the handler thread (no faults may be pending). */
static void stop_handler(mem_window *w)
{
    uint64_t one = 1;
    ssize_t n = write(w->wake, &one, sizeof one);
    assert(n == sizeof one);
    (void)n;
    pthread_join(w->thread, NULL);
    w->running = 0;
}

void window_close(mem_window *w)
{
    if (!w)
        return;
    if (w->running)
        stop_handler(w);
    close(w->wake);
    munmap(w->base, w->size);
    close(w->uffd);
    ps_free(&w->seen);
    ps_free(&w->inseen);
    dvm_free(w->list);
    dvm_free(w->ring);
    free(w->abuf);
    free(w->buf);
    pthread_mutex_destroy(&w->mu);
    dvm_free(w);
}

void window_set_input_cap(mem_window *w, size_t max_pages)
{
    pthread_mutex_lock(&w->mu);
    assert(!w->ring_n && !w->input_cap);
    uint64_t *ring = max_pages ? dvm_calloc(max_pages, sizeof *ring) : NULL;
    /* Without memory for the ring the window stays uncapped: correct, only
     * less frugal. */
    if (ring && ps_init(&w->inseen, 64) == DVM_OK) {
        w->ring = ring;
        w->input_cap = max_pages;
    } else {
        dvm_free(ring);
    }
    pthread_mutex_unlock(&w->mu);
}

void window_set_input_ahead(mem_window *w, window_ahead_fn ahead,
                            uint32_t npages)
{
    assert(!w->nahead && w->input_cap && npages < w->input_cap / 2);
    uint8_t *b;
    if (!ahead || !npages ||
        posix_memalign((void **)&b, WIN_PAGE, (size_t)(npages + 1) * WIN_PAGE))
        return;                 /* without it: a fault a page, as before */
    w->abuf = b;
    w->ahead = ahead;
    w->nahead = npages;
}

/*
 * Unregistering a prefix splits the kernel's VMA in two (registered and
 * not): a fixed cost of one mapping, never one per page.
 */
dvm_status window_plain(mem_window *w, uint64_t npages)
{
    assert(!w->nplain && npages && npages < WIN_NPAGES);
    struct uffdio_range r = { (uint64_t)(uintptr_t)w->base,
                              npages * WIN_PAGE };
    if (ioctl(w->uffd, UFFDIO_UNREGISTER, &r) < 0)
        return status_set_errno(DVM_ESYS, "window: UFFDIO_UNREGISTER");
    w->nplain = npages;
    return DVM_OK;
}

void window_plain_keep(mem_window *w, uint64_t npages)
{
    assert(npages < w->nplain && npages <= 64);
    w->nkeep = npages;
}

void window_plain_soft(mem_window *w, uint64_t npages)
{
    assert(npages >= w->nkeep && npages <= w->nplain);
    w->nsoft = npages;
}

/* The pages of the told ranges that fall in the soft part [nkeep, nsoft). */
static uint64_t soft_written(const mem_window *w)
{
    uint64_t n = 0;
    for (size_t i = 0; i < w->nwritten; i++) {
        uint64_t lo = w->written[i].lo > w->nkeep ? w->written[i].lo
                                                  : w->nkeep;
        uint64_t hi = w->written[i].hi < w->nsoft ? w->written[i].hi
                                                  : w->nsoft;
        n += hi > lo ? hi - lo : 0;
    }
    return n;
}

/* Drops plain pages [lo, hi), except the extra kept ones (xkeep), which
 * are zeroed in place, and the soft ones below nsoft when `soft`, which
 * are zeroed too. */
static void plain_drop(mem_window *w, uint64_t lo, uint64_t hi, int soft)
{
    for (; soft && lo < hi && lo < w->nsoft; lo++)
        memset(w->base + lo * WIN_PAGE, 0, WIN_PAGE);
    for (size_t i = 0; i < w->nxkeep && lo < hi; i++) {
        uint64_t p = w->xkeep[i];
        if (p < lo || p >= hi)
            continue;
        if (p > lo)
            drop_pages(w, lo, p - lo);
        memset(w->base + p * WIN_PAGE, 0, WIN_PAGE);
        lo = p + 1;
    }
    if (lo < hi)
        drop_pages(w, lo, hi - lo);
}

/*
 * Drops the plain prefix, except its first nkeep pages, which are zeroed.
 * Why: one madvise costs a few microseconds whatever it drops (it walks
 * the page tables of its whole range: ~2 us for the 1 GiB PR on the VM of
 * docs/performance.md, 0.3 us for one page), a page dropped and written
 * again costs a fault and a clear on top (~2-3 us), and a memset of a
 * resident page ~40 ns.  So the low pages most runners write (the runner
 * context, a program's first words) stay resident and are cleared in user
 * space, and the rest goes in one call: a gap in the middle would split it
 * into two.  When the caller says what was written, only those kept pages
 * are cleared, only those ranges dropped, and the extra kept pages among
 * them (xkeep) cleared instead of dropped.
 */
static void plain_reset(mem_window *w)
{
    assert(w->nkeep < w->nplain);
    for (uint64_t p = 0; p < w->nkeep; p++)
        if (w->kept_written >> p & 1)
            memset(w->base + p * WIN_PAGE, 0, WIN_PAGE);
    w->kept_written = UINT64_MAX;
    if (w->nwritten == SIZE_MAX)    /* one call, the extra pages too */
        drop_pages(w, w->nkeep, w->nplain - w->nkeep);
    int soft = w->nwritten != SIZE_MAX && soft_written(w) <= WIN_SOFT_BUDGET;
    for (size_t i = 0; i < w->nwritten && w->nwritten != SIZE_MAX; i++) {
        uint64_t lo = w->written[i].lo > w->nkeep ? w->written[i].lo
                                                  : w->nkeep;
        uint64_t hi = w->written[i].hi < w->nplain ? w->written[i].hi
                                                   : w->nplain;
        plain_drop(w, lo, hi, soft);
    }
    w->xkept = w->nwritten != SIZE_MAX;
    w->nwritten = SIZE_MAX;
}

void window_plain_keep_page(mem_window *w, uint64_t page)
{
    assert(page >= w->nkeep && page < w->nplain);
    size_t i = 0;
    while (i < w->nxkeep && w->xkeep[i] < page)
        i++;
    if (w->nxkeep == WIN_MAX_XKEEP || (i < w->nxkeep && w->xkeep[i] == page))
        return;
    memmove(w->xkeep + i + 1, w->xkeep + i,
            (w->nxkeep - i) * sizeof *w->xkeep);
    w->xkeep[i] = page;
    w->nxkeep++;
}

int window_plain_kept_page(const mem_window *w, uint64_t page)
{
    for (size_t i = 0; i < w->nxkeep && w->xkept; i++)
        if (w->xkeep[i] == page)
            return 1;
    return 0;
}

/*
 * The walk of a whole-prefix madvise is most of an empty runner's cost on
 * a virtual machine (~2 us for 1 GiB); a caller that knows which plain
 * pages a runner may have written (the interpreter tracks its PR stores:
 * src/rcomp/run.c) names them, and the reset drops those only.  Anything
 * not named keeps its bytes, so the caller must name a superset; too many
 * ranges, and the reset drops everything as before.
 */
void window_plain_written(mem_window *w, const dvm_range *pages, size_t n)
{
    if (n > WINDOW_PLAIN_RANGES) {
        w->nwritten = SIZE_MAX;
        return;
    }
    memcpy(w->written, pages, n * sizeof *pages);
    w->nwritten = n;
}

void window_plain_kept_written(mem_window *w, uint64_t mask)
{
    w->kept_written = mask;
}

/*
 * Zero spans.  A runner that declares a large range whose pages are all
 * zero at its snapshot (the master's complete prefetch list says which are
 * not) would pay a uffd round trip for every page it touches there, only to
 * be told "zeros".  Instead the span is unregistered for this runner: the
 * kernel zero-fills its pages on touch (one to two microseconds), pages the
 * master did prefetch are copied in plainly, and what was touched is read
 * back with mincore at commit.  At reset the span is dropped wholesale and
 * registered again, which merges the VMAs back: a few mappings per runner at
 * most, never one per page.  Only the engine thread uses spans, and the
 * handler thread never sees a fault in one (they are not registered).
 */
static const win_span *zero_span_of(const mem_window *w, uint64_t page)
{
    for (size_t i = 0; i < w->nzero; i++)
        if (page - w->zero[i].lo < w->zero[i].n)
            return &w->zero[i];
    return NULL;
}

dvm_status window_zero_span(mem_window *w, uint64_t page, uint64_t n)
{
    assert(n && page >= w->nplain && page + n <= w->size / WIN_PAGE);
    if (w->nzero == WIN_MAX_ZERO)
        return DVM_EAGAIN;
    for (size_t i = 0; i < w->nzero; i++)
        assert(page + n <= w->zero[i].lo || page >= w->zero[i].lo + w->zero[i].n);
    struct uffdio_range r = { (uint64_t)(uintptr_t)(w->base + page * WIN_PAGE),
                              n * WIN_PAGE };
    if (ioctl(w->uffd, UFFDIO_UNREGISTER, &r) < 0)
        return status_set_errno(DVM_ESYS, "window: unregister a zero span");
    w->zero[w->nzero++] = (win_span){ page, n, 0 };
    return DVM_OK;
}

/*
 * A mapped span.  The store's frames are mapped MAP_SHARED | MAP_FIXED over
 * the unregistered span (it is its own VMA already), so that the runner
 * writes its pages into frames and the commit adopts them without a copy
 * (src/rcomp/commit.c).  Unmapping maps fresh anonymous memory over it
 * with the window's own flags; the reset registers it with the uffd again
 * and the VMAs merge back, as for any span.
 */
static win_span *span_at(mem_window *w, uint64_t page)
{
    for (size_t i = 0; i < w->nzero; i++)
        if (w->zero[i].lo == page)
            return &w->zero[i];
    return NULL;
}

dvm_status window_span_map(mem_window *w, uint64_t page, uint64_t n, int fd,
                           uint64_t off)
{
    win_span *z = span_at(w, page);
    assert(z && z->n == n && !z->mapped && fd >= 0);
    void *p = mmap(w->base + page * WIN_PAGE, n * WIN_PAGE,
                   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
                   (off_t)off);
    if (p == MAP_FAILED)
        return status_set_errno(DVM_ESYS, "window: map %llu frames over a "
                                "span", (unsigned long long)n);
    z->mapped = 1;
    return DVM_OK;
}

/* Maps anonymous memory over span z.  Failure leaves z mapped. */
static dvm_status span_unmap(mem_window *w, win_span *z)
{
    void *p = mmap(w->base + z->lo * WIN_PAGE, z->n * WIN_PAGE,
                   PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
                   -1, 0);
    if (p == MAP_FAILED)
        return status_set_errno(DVM_ESYS, "window: unmap a span");
    z->mapped = 0;
    return DVM_OK;
}

dvm_status window_span_unmap(mem_window *w, uint64_t page)
{
    win_span *z = span_at(w, page);
    assert(z && z->mapped);
    return span_unmap(w, z);
}

/* True when a page of a zero span is resident (was touched). */
static int span_page_resident(const mem_window *w, uint64_t page)
{
    unsigned char v = 0;
    return mincore(w->base + page * WIN_PAGE, WIN_PAGE, &v) == 0 && (v & 1);
}

/* Calls fn for each resident page of span z. */
static void span_each_resident(const mem_window *w, const win_span *z,
                               void (*fn)(void *arg, uint64_t page),
                               void *arg)
{
    static _Thread_local unsigned char vec[WIN_MINCORE_CHUNK];
    for (uint64_t at = 0; at < z->n; at += WIN_MINCORE_CHUNK) {
        uint64_t k = z->n - at < WIN_MINCORE_CHUNK ? z->n - at
                                                   : WIN_MINCORE_CHUNK;
        if (mincore(w->base + (z->lo + at) * WIN_PAGE, k * WIN_PAGE, vec))
            continue;
        for (uint64_t i = 0; i < k; i++)
            if (vec[i] & 1)
                fn(arg, z->lo + at + i);
    }
}

/* Drops and re-registers every zero span (reset). */
static dvm_status spans_reset(mem_window *w)
{
    dvm_status st = DVM_OK;
    for (size_t i = 0; i < w->nzero; i++) {
        win_span *z = &w->zero[i];
        dvm_status ust = z->mapped ? span_unmap(w, z) : DVM_OK;
        if (ust && !st)
            st = ust;
        drop_pages(w, z->lo, z->n);
        struct uffdio_register reg = {
            .range = { (uint64_t)(uintptr_t)(w->base + z->lo * WIN_PAGE),
                       z->n * WIN_PAGE },
            .mode = UFFDIO_REGISTER_MODE_MISSING };
        if (ioctl(w->uffd, UFFDIO_REGISTER, &reg) < 0 && !st)
            st = status_set_errno(DVM_ESYS, "window: register a zero span");
    }
    w->nzero = 0;
    return st;
}

int window_in_zero_span(const mem_window *w, uint64_t page)
{
    return zero_span_of(w, page) != NULL;
}

/*
 * Eager copy (engine thread, between runners).  A missing page gets
 * UFFDIO_COPY, which never faults; a page already present (EEXIST) is
 * overwritten in place, which cannot fault either.  As in handle_fault, the
 * page is recorded before it can be seen.
 */
/* Overwrites resident page `page` with src (NULL: zeros), in user space. */
static void copy_over(mem_window *w, uint64_t page, const uint8_t *src)
{
    uint8_t *dst = w->base + page * WIN_PAGE;
    if (src)
        memcpy(dst, src, WIN_PAGE);
    else
        memset(dst, 0, WIN_PAGE);
}

/* True when page is not tracked: plain prefix or a zero span. */
static int untracked(const mem_window *w, uint64_t page)
{
    return page < w->nplain || zero_span_of(w, page);
}

/*
 * A page beyond the mapping is refused before it is recorded.  Why: every
 * recorded page is read by the caller's commit (window_each_touched), so a
 * page recorded and then not installed -- UFFDIO_COPY fails with EINVAL
 * outside the registered range -- made the commit read memory the window
 * does not own (a SIGSEGV in the diff).  Only a window smaller than 2^46
 * has such pages: a test's, or a ThreadSanitizer build's (256 GiB), where
 * the stack area and the input windows lie beyond it.
 */
dvm_status window_fill(mem_window *w, uint64_t page, const uint8_t *src)
{
    assert(page < WIN_NPAGES);
    if (page >= w->size / WIN_PAGE)
        return status_set(DVM_ERANGE, "window: page 0x%llx lies beyond the "
                          "%llu-byte window", (unsigned long long)page,
                          (unsigned long long)w->size);
    if (untracked(w, page)) {
        copy_over(w, page, src);
        return DVM_OK;
    }
    dvm_status st = note_touched(w, page);
    if (st)
        return st;
    int err = install(w, page, src);
    if (err == -EEXIST)
        copy_over(w, page, src);
    else if (err) {
        /* Recorded but not installed: the runner's next read of it would
         * fault the master's bytes in where the caller meant src (a
         * chosen stack's zeros).  The runner must not commit. */
        st = status_set(DVM_ESYS, "window: fill page 0x%llx: %s",
                        (unsigned long long)page, strerror(-err));
        note_failure(w, st);
        return st;
    }
    return DVM_OK;
}

/*
 * Refill (engine thread, between runners): a page the caller kept
 * resident (handed over by window_reset_keep, never dropped since) is
 * overwritten in place with a plain copy -- no UFFDIO_COPY, no fault, and
 * no madvise before it, where dropping the page and copying it in again
 * would cost two system calls.  It is recorded first, as window_fill
 * records, so that the commit diffs it and the next reset sees it: a
 * refilled page is a touched page like any other from here on.  Were the
 * caller wrong and the page missing, the copy would fault it in through
 * the resolver and then overwrite it: slower, the same bytes.
 */
dvm_status window_refill(mem_window *w, uint64_t page, const uint8_t *src)
{
    assert(page < w->size / WIN_PAGE && page >= w->nplain);
    if (!zero_span_of(w, page)) {
        dvm_status st = note_touched(w, page);
        if (st)
            return st;
    }
    copy_over(w, page, src);
    return DVM_OK;
}

/*
 * Overwrite (engine thread, between runners): a page the caller keeps
 * resident is made src's bytes with a plain copy and is not recorded --
 * unlike window_refill, it stays a page the next runner only reads unless
 * the caller says otherwise (rcomp's kept pages: keep.c).  Were it missing,
 * the copy would fault it in through the resolver first: slower, and
 * recorded as touched, the same bytes.
 */
void window_overwrite(mem_window *w, uint64_t page, const uint8_t *src)
{
    assert(page >= w->nplain && page < w->size / WIN_PAGE);
    copy_over(w, page, src);
}

int window_touched(const mem_window *w, uint64_t page)
{
    if (zero_span_of(w, page))
        return span_page_resident(w, page);
    mem_window *m = (mem_window *)w;    /* the lock is not logical state */
    pthread_mutex_lock(&m->mu);
    int t = ps_has(&m->seen, page) ||
            (m->input_cap && ps_has(&m->inseen, page));
    pthread_mutex_unlock(&m->mu);
    return t;
}

size_t window_touched_count(const mem_window *w)
{
    mem_window *m = (mem_window *)w;
    pthread_mutex_lock(&m->mu);
    size_t n = m->seen.n + m->ring_n;
    pthread_mutex_unlock(&m->mu);
    return n;
}

/* Up to cap touched pages from the i-th on (list first, then the input
 * ring) into out, under one hold of the lock; returns how many (0 past
 * the end). */
static size_t touched_from(mem_window *w, size_t i, uint64_t *out,
                           size_t cap)
{
    size_t n = 0;
    pthread_mutex_lock(&w->mu);
    for (; n < cap; n++, i++) {
        if (i < w->nlist)
            out[n] = w->list[i];
        else if (i - w->nlist < w->ring_n)
            out[n] = w->ring[(w->ring_head + i - w->nlist) % w->input_cap];
        else
            break;
    }
    pthread_mutex_unlock(&w->mu);
    return n;
}

/* Calls fn on each touched page.  The lock is held per batch of pages
 * read, not across fn: fn may itself touch the window, and the fault it
 * takes waits for the handler thread, which needs the lock to record the
 * page.  A page added during the walk is visited too (it is appended,
 * and the walk reads on until a batch comes back empty). */
void window_each_touched(const mem_window *w,
                         void (*fn)(void *arg, uint64_t page), void *arg)
{
    mem_window *m = (mem_window *)w;    /* the lock is not logical state */
    uint64_t batch[WIN_TOUCHED_BATCH];
    size_t n;
    for (size_t i = 0; (n = touched_from(m, i, batch, WIN_TOUCHED_BATCH)) > 0;
         i += n)
        for (size_t k = 0; k < n; k++)
            fn(arg, batch[k]);
    for (size_t i = 0; i < w->nzero; i++)
        span_each_resident(w, &w->zero[i], fn, arg);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Drops the listed pages, consecutive ones in one madvise. */
static void drop_list(mem_window *w, uint64_t *l, size_t n)
{
    if (n >= WIN_SORT_MIN)
        qsort(l, n, sizeof *l, cmp_u64);
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && l[j] == l[j - 1] + 1)
            j++;
        drop_pages(w, l[i], j - i);
        i = j;
    }
}

/* Removes from l the pages keep says stay; returns how many are left. */
static size_t filter_kept(uint64_t *l, size_t n,
                          int (*keep)(void *arg, uint64_t page), void *arg)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!keep(arg, l[i]))
            l[k++] = l[i];
    return k;
}

dvm_status window_reset_keep(mem_window *w,
                             int (*keep)(void *arg, uint64_t page),
                             void *arg)
{
    if (w->nplain)
        plain_reset(w);
    dvm_status st = spans_reset(w);
    pthread_mutex_lock(&w->mu);
    if (keep)
        w->nlist = filter_kept(w->list, w->nlist, keep, arg);
    drop_list(w, w->list, w->nlist);
    w->nlist = 0;
    ps_clear(&w->seen);
    if (!keep) {        /* capped input pages never change: they may stay */
        for (size_t i = 0; i < w->ring_n; i++)
            drop_pages(w, w->ring[(w->ring_head + i) % w->input_cap], 1);
        w->ring_n = w->ring_head = 0;
        if (w->input_cap)
            ps_clear(&w->inseen);
    }
    w->failed = DVM_OK;
    pthread_mutex_unlock(&w->mu);
    return st;
}

dvm_status window_reset(mem_window *w)
{
    return window_reset_keep(w, NULL, NULL);
}

void window_drop(mem_window *w, uint64_t page, uint64_t n)
{
    assert(n && page >= w->nplain && page + n <= w->size / WIN_PAGE);
    drop_pages(w, page, n);
}

dvm_status window_failed(const mem_window *w)
{
    mem_window *m = (mem_window *)w;
    pthread_mutex_lock(&m->mu);
    dvm_status st = m->failed;
    pthread_mutex_unlock(&m->mu);
    return st;
}
