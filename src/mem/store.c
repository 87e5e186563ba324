/*
 * store.c -- the frame store: 4 KiB frames in one sparse shared memfd.
 *
 * The store is one memfd of max_frames * 4096 bytes, mapped MAP_SHARED and
 * MAP_NORESERVE by the master and by every RComp (store_attach), so a frame
 * id means the same bytes in every process and a page version travels
 * between processes as a 32-bit number.  The file is sparse: the kernel
 * backs a frame with memory only once somebody writes it.  Id 0 is never
 * allocated; it names the zero page.
 *
 * Allocation (master only) pops a LIFO stack of free ids, or else takes the
 * high-water mark `next` and bumps it.  LIFO reuse keeps the working set of
 * frames small and hot in the cache.  The stack itself lives in an
 * anonymous MAP_NORESERVE mapping with room for every id, so it never has to
 * grow and store_release can never fail; it costs memory only for the depth
 * it ever reached.
 *
 * Returning memory: a released frame keeps its (now meaningless) bytes in
 * the memfd.  When many frames sit unused on the stack, the oldest of them
 * (the bottom of the stack: LIFO reuses the top first) are punched out of the
 * file with fallocate(FALLOC_FL_PUNCH_HOLE), which gives their memory back
 * to the system in every process at once.  `punched` counts the stack
 * entries from the bottom that are known punched; a pop below that mark
 * lowers it.  A punched frame reads as zeros, which is harmless: contents of
 * an allocated frame are unspecified.  The entries to punch are sorted
 * first (their order on the cold part of the stack does not matter), so
 * that consecutive ids released in any order -- a large commit's versions
 * freed page by page -- go in one call per run, not one per frame.
 */
#define _GNU_SOURCE
#include "mem/store.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/alloc.h"

/* Frames that may sit unpunched on the free stack before a trim runs, and
 * how many stay unpunched after it (the hot top of the stack). */
#define STORE_TRIM_SLACK 32768u
#define STORE_TRIM_KEEP  8192u

struct mem_store {
    int fd;
    int own_fd;                 /* the store created fd and closes it */
    uint32_t max_frames;
    uint8_t *base;              /* max_frames * 4096 bytes, MAP_SHARED */
    uint32_t *free;             /* stack of free ids, room for max_frames */
    uint32_t nfree;
    uint32_t punched;           /* free[0 .. punched) are punched holes */
    uint32_t next;              /* ids >= next were never allocated */
};

/* Bytes of the memfd for max_frames frames. */
static size_t store_bytes(uint32_t max_frames)
{
    return (size_t)max_frames * STORE_FRAME_SIZE;
}

/* Maps fd and the free stack into a new store.  fd is not closed on
 * failure.  On success *out owns the mappings (not fd: see own_fd). */
static dvm_status store_map(int fd, uint32_t max_frames, mem_store **out)
{
    if (max_frames < 2)
        return status_set(DVM_EINVAL, "store: max_frames %u too small",
                          (unsigned)max_frames);
    mem_store *s = dvm_calloc(1, sizeof *s);
    if (!s)
        return status_set(DVM_ENOMEM, "store: out of memory");
    s->base = mmap(NULL, store_bytes(max_frames), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (s->base == MAP_FAILED)
        goto err_base;
    s->free = mmap(NULL, (size_t)max_frames * sizeof *s->free,
                   PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (s->free == MAP_FAILED)
        goto err_free;
    s->fd = fd;
    s->max_frames = max_frames;
    s->next = 1;
    *out = s;
    return DVM_OK;
err_free:
    munmap(s->base, store_bytes(max_frames));
err_base:
    dvm_free(s);
    return status_set_errno(DVM_ESYS, "store: mmap of %u frames",
                            (unsigned)max_frames);
}

dvm_status store_create(uint32_t max_frames, mem_store **out)
{
    assert(out);
    int fd = memfd_create("dvm-frames", MFD_CLOEXEC);
    if (fd < 0)
        return status_set_errno(DVM_ESYS, "store: memfd_create");
    if (ftruncate(fd, (off_t)store_bytes(max_frames)) < 0) {
        status_set_errno(DVM_ESYS, "store: ftruncate");
        goto err_fd;
    }
    mem_store *s = NULL;
    dvm_status st = store_map(fd, max_frames, &s);
    if (st)
        goto err_map;
    s->own_fd = 1;
    *out = s;
    return DVM_OK;
err_map:
    close(fd);
    return st;
err_fd:
    close(fd);
    return DVM_ESYS;
}

dvm_status store_attach(int fd, uint32_t max_frames, mem_store **out)
{
    assert(fd >= 0 && out);
    return store_map(fd, max_frames, out);
}

void store_destroy(mem_store *s)
{
    if (!s)
        return;
    munmap(s->base, store_bytes(s->max_frames));
    munmap(s->free, (size_t)s->max_frames * sizeof *s->free);
    if (s->own_fd)
        close(s->fd);
    dvm_free(s);
}

int store_fd(const mem_store *s)
{
    return s->fd;
}

uint32_t store_max_frames(const mem_store *s)
{
    return s->max_frames;
}

uint8_t *store_frame(const mem_store *s, uint32_t id)
{
    assert(id >= 1 && id < s->max_frames);
    return s->base + (size_t)id * STORE_FRAME_SIZE;
}

/* Moves n bytes between buf and frame id through the file: pread, or
 * pwrite when out is set. */
static dvm_status frame_io(const mem_store *s, uint32_t id, uint8_t *buf,
                           size_t n, int out)
{
    assert(id >= 1 && id < s->max_frames && n <= STORE_FRAME_SIZE);
    off_t at = (off_t)id * STORE_FRAME_SIZE;
    size_t done = 0;
    while (done < n) {
        ssize_t r = out ? pwrite(s->fd, buf + done, n - done,
                                 at + (off_t)done)
                        : pread(s->fd, buf + done, n - done,
                                at + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            errno = EIO;        /* the file is shorter: never, but say so */
        if (r <= 0)
            return status_set_errno(DVM_EIO, "store: %s frame %u",
                                    out ? "writing" : "reading",
                                    (unsigned)id);
        done += (size_t)r;
    }
    return DVM_OK;
}

dvm_status store_read(const mem_store *s, uint32_t id, void *buf, size_t n)
{
    return frame_io(s, id, buf, n, 0);
}

dvm_status store_write(const mem_store *s, uint32_t id, const void *buf,
                       size_t n)
{
    return frame_io(s, id, (uint8_t *)buf, n, 1);
}

dvm_status store_alloc(mem_store *s, uint32_t *id)
{
    assert(s && id);
    if (s->nfree > 0) {
        *id = s->free[--s->nfree];
        if (s->punched > s->nfree)
            s->punched = s->nfree;
        return DVM_OK;
    }
    if (s->next >= s->max_frames)
        return status_set(DVM_ENOMEM, "store: all %u frames in use",
                          (unsigned)s->max_frames - 1);
    *id = s->next++;
    return DVM_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Punches the frames free[punched .. nfree - KEEP) out of the memfd,
 * sorted, coalescing runs of consecutive ids into one call.  Failure only
 * means the memory stays; it is not an error. */
static void store_trim(mem_store *s)
{
    uint32_t end = s->nfree - STORE_TRIM_KEEP;
    uint32_t i = s->punched;
    qsort(s->free + i, end - i, sizeof *s->free, cmp_u32);
    while (i < end) {
        uint32_t first = s->free[i], n = 1;
        while (i + n < end && s->free[i + n] == first + n)
            n++;
        fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t)first * STORE_FRAME_SIZE,
                  (off_t)n * STORE_FRAME_SIZE);
        i += n;
    }
    s->punched = end;
}

void store_release(mem_store *s, uint32_t id)
{
    assert(s && id >= 1 && id < s->next);
    assert(s->nfree < s->max_frames);
    s->free[s->nfree++] = id;
    if (s->nfree - s->punched > STORE_TRIM_SLACK)
        store_trim(s);
}

size_t store_in_use(const mem_store *s)
{
    return (size_t)(s->next - 1) - s->nfree;
}
