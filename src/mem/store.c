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
 *
 * Runs of zero frames.  An RComp may write a large span of a runner's
 * pages straight into frames (src/rcomp/run.c): the master grants it a run
 * of consecutive frames that read as zeros.  Those come from `ext`, a
 * sorted list of disjoint extents of free ids known punched, or else from
 * the high-water mark (ids >= next were never written).  An extent that
 * reaches `next` is merged into it, so that a run given back lowers the
 * mark again.  What feeds the extents: the unused part of a run, punched
 * on release (store_release_run), and every run of at least STORE_EXT_MIN
 * consecutive ids that a trim punches (a large commit's versions, freed
 * together once they are old), and, when no run is free, every id on the
 * stack (store_alloc_run punches them all first): so runs granted one
 * after another reuse ids instead of exhausting the id space.  Every free id is in exactly one
 * place: the stack, an extent, or above the mark.  store_alloc takes from
 * the stack, then the lowest extent, then the mark.  The extent list
 * grows with dvm_grow; when it cannot, the ids go on the stack instead
 * (still free, only no longer known zero), so releasing never fails.
 */
#define _GNU_SOURCE
#include "mem/store.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/alloc.h"

/* Frames that may sit unpunched on the free stack before a trim runs, and
 * how many stay unpunched after it (the hot top of the stack). */
#define STORE_TRIM_SLACK 32768u
#define STORE_TRIM_KEEP  8192u
/* Consecutive ids a trim punches that become an extent rather than stay
 * on the stack. */
#define STORE_EXT_MIN    64u

typedef struct store_ext {      /* free ids [first, first + n), zero */
    uint32_t first, n;
} store_ext;

struct mem_store {
    int fd;
    int own_fd;                 /* the store created fd and closes it */
    uint32_t max_frames;
    uint8_t *base;              /* max_frames * 4096 bytes, MAP_SHARED */
    uint32_t *free;             /* stack of free ids, room for max_frames */
    uint32_t nfree;
    uint32_t punched;           /* free[0 .. punched) are punched holes */
    uint32_t next;              /* ids >= next were never allocated */
    uint32_t peak;              /* the highest next so far */
    store_ext *ext;             /* free zero extents, sorted, disjoint, none
                                   reaching next */
    size_t next_ext, capext;
    size_t ext_frames;          /* ids in them */
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
    s->peak = 1;
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
    dvm_free(s->ext);
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

/* Punches frames [first, first + n) out of the memfd.  Failure only means
 * the memory stays, and a failed punch leaves the bytes: a caller that
 * needs zeros checks the result. */
static int punch(mem_store *s, uint32_t first, uint32_t n)
{
    return fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                     (off_t)first * STORE_FRAME_SIZE,
                     (off_t)n * STORE_FRAME_SIZE);
}

/* Takes n ids from the front of extent i (n <= its length). */
static void ext_take(mem_store *s, size_t i, uint32_t n)
{
    assert(i < s->next_ext && n <= s->ext[i].n);
    s->ext[i].first += n;
    s->ext[i].n -= n;
    s->ext_frames -= n;
    if (s->ext[i].n)
        return;
    memmove(s->ext + i, s->ext + i + 1,
            (s->next_ext - i - 1) * sizeof *s->ext);
    s->next_ext--;
}

/* Index of the first extent starting after id. */
static size_t ext_after(const mem_store *s, uint32_t id)
{
    size_t lo = 0, hi = s->next_ext;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ext[mid].first > id)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Adds free zero ids [first, first + n) (in no extent, below next) to the
 * extents, merged with their neighbours; an extent reaching next lowers
 * it.  DVM_ENOMEM, nothing changed, when the list cannot grow. */
static dvm_status ext_add(mem_store *s, uint32_t first, uint32_t n)
{
    size_t i = ext_after(s, first);
    int prev = i > 0 && s->ext[i - 1].first + s->ext[i - 1].n == first;
    int next = i < s->next_ext && first + n == s->ext[i].first;
    if (!prev && !next) {
        if (first + n != s->next && s->next_ext == s->capext) {
            store_ext *e = dvm_grow(s->ext, &s->capext, s->next_ext + 1,
                                    sizeof *e);
            if (!e)
                return DVM_ENOMEM;
            s->ext = e;
        }
        if (first + n == s->next) {     /* straight back under the mark */
            s->next = first;
            return DVM_OK;
        }
        memmove(s->ext + i + 1, s->ext + i,
                (s->next_ext - i) * sizeof *s->ext);
        s->ext[i] = (store_ext){ first, n };
        s->next_ext++;
    } else if (prev) {
        s->ext[--i].n += n;
        if (next) {
            s->ext[i].n += s->ext[i + 1].n;
            memmove(s->ext + i + 1, s->ext + i + 2,
                    (s->next_ext - i - 2) * sizeof *s->ext);
            s->next_ext--;
        }
    } else {
        s->ext[i].first = first;
        s->ext[i].n += n;
    }
    s->ext_frames += n;
    if (s->ext[i].first + s->ext[i].n == s->next) {
        assert(i == s->next_ext - 1);
        s->next = s->ext[i].first;
        s->ext_frames -= s->ext[i].n;
        s->next_ext--;
    }
    return DVM_OK;
}

/* Takes the n ids from `next` up (past every id in use), keeping the
 * highest `next` ever reached (store_frames_touched). */
static void take_fresh(mem_store *s, uint32_t n)
{
    s->next += n;
    if (s->next > s->peak)
        s->peak = s->next;
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
    if (s->next_ext) {
        *id = s->ext[0].first;
        ext_take(s, 0, 1);
        return DVM_OK;
    }
    if (s->next >= s->max_frames)
        return status_set(DVM_ENOMEM, "store: all %u frames in use",
                          (unsigned)s->max_frames - 1);
    *id = s->next;
    take_fresh(s, 1);
    return DVM_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Punches the frames free[from .. nfree - keep) out of the memfd, sorted,
 * coalescing runs of consecutive ids into one call; runs of min ids or
 * more leave the stack for the extents.  A failed punch only means the
 * memory stays (and the ids stay on the stack). */
static void store_trim(mem_store *s, uint32_t from, uint32_t keep,
                       uint32_t min)
{
    uint32_t end = s->nfree - keep;
    uint32_t i = from, w = from;
    qsort(s->free + i, end - i, sizeof *s->free, cmp_u32);
    while (i < end) {
        uint32_t first = s->free[i], n = 1;
        while (i + n < end && s->free[i + n] == first + n)
            n++;
        int zero = punch(s, first, n) == 0;
        if (!(zero && n >= min && ext_add(s, first, n) == DVM_OK))
            for (uint32_t k = 0; k < n; k++)
                s->free[w++] = first + k;
        i += n;
    }
    memmove(s->free + w, s->free + end,
            (size_t)(s->nfree - end) * sizeof *s->free);
    s->nfree = w + (s->nfree - end);
    s->punched = w;
}

/* Takes a run of n ids from the extents or the mark into *first; 0 when
 * there is none. */
static int run_take(mem_store *s, uint32_t n, uint32_t *first)
{
    for (size_t i = 0; i < s->next_ext; i++)
        if (s->ext[i].n >= n) {
            *first = s->ext[i].first;
            ext_take(s, i, n);
            return 1;
        }
    if (s->max_frames - s->next < n)
        return 0;
    *first = s->next;
    take_fresh(s, n);
    return 1;
}

/* Without a free run, every id on the stack is punched and joins the
 * extents (the hot top too, and runs shorter than STORE_EXT_MIN): the
 * stack's ids may be what splits the free ids into pieces. */
dvm_status store_alloc_run(mem_store *s, uint32_t n, uint32_t *first)
{
    assert(s && first && n);
    if (run_take(s, n, first))
        return DVM_OK;
    store_trim(s, 0, 0, 1);
    if (run_take(s, n, first))
        return DVM_OK;
    return status_set(DVM_ENOMEM, "store: no run of %u free frames",
                      (unsigned)n);
}

void store_release_run(mem_store *s, uint32_t first, uint32_t n)
{
    assert(s && n && first >= 1 && first + n <= s->next);
    if (punch(s, first, n) == 0 && ext_add(s, first, n) == DVM_OK)
        return;
    for (uint32_t i = 0; i < n; i++)    /* free, not known zero */
        store_release(s, first + i);
}

void store_release(mem_store *s, uint32_t id)
{
    assert(s && id >= 1 && id < s->next);
    assert(s->nfree < s->max_frames);
    s->free[s->nfree++] = id;
    if (s->nfree - s->punched > STORE_TRIM_SLACK)
        store_trim(s, s->punched, STORE_TRIM_KEEP, STORE_EXT_MIN);
}

uint32_t store_frames_touched(const mem_store *s)
{
    assert(s && s->peak >= 1);
    return s->peak - 1;
}

uint32_t store_free_count(const mem_store *s)
{
    assert(s && s->nfree <= s->max_frames);
    return s->nfree;
}

size_t store_in_use(const mem_store *s)
{
    return (size_t)(s->next - 1) - s->nfree - s->ext_frames;
}
