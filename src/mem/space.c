/*
 * space.c -- the shared region as chains of immutable page versions.
 *
 * Three structures describe the region, all owned by the master:
 *
 *   the page table   an open-addressing hash (linear probing, power-of-two
 *                    capacity, at most 3/4 full) from page number to the
 *                    newest version of the page.  Versions of a page form a
 *                    singly linked chain, newest first, each {epoch, frame,
 *                    delta}: the delta (runs, or a 512-byte bitmap when
 *                    the page changed in many places) lives in the
 *                    version's own allocation.  A page, once written, never leaves the table
 *                    (GC never drops a page's newest version), so the hash
 *                    needs no deletion.
 *
 *   the page index   every page of the table in ascending order, for range
 *                    walks (space_visible_pages, space_changed_between over
 *                    ranges).  It is a large sorted array `main` plus a small
 *                    sorted array `recent` that new pages are merged into;
 *                    when `recent` outgrows about 2*sqrt(|main|) it is merged
 *                    into `main`.  A range walk is then two binary searches
 *                    and a merge walk, O(log n + pages in range), and a new
 *                    page costs O(sqrt n) amortized, not O(n).
 *
 *   the commit log   for each epoch not yet passed by GC, the versions its
 *                    commit installed (linked through next_in_commit) and
 *                    the running total of versions installed.  It serves two
 *                    purposes, below.
 *
 * Snapshot and GC invariants.  A snapshot e reads the newest version with
 * epoch <= e.  Validation of a commit made on e needs every version newer
 * than e; a watcher created by a runner on snapshot e needs the deltas of
 * every commit in (e, now].  Both need only versions newer than the oldest
 * live snapshot m, plus, for readers, the newest version <= m of each page.
 * Everything else is garbage: a version v with epoch <= m that has a newer
 * version w with epoch <= m on its page can never be read again.
 *
 * GC keeps a horizon gc_done (the largest m it has processed, capped at the
 * current epoch) and walks the commit log from gc_done + 1 up to the new m.
 * For every version w in those commits, all versions older than w on its
 * page are garbage (w has epoch <= m), so GC cuts the chain below w and
 * frees the tail with its frames.  Walking epochs in ascending order means
 * w itself is still alive when it is visited: only a newer version of the
 * same page, visited later, can free it.  Each version is thus visited once
 * by GC and freed once, so GC costs O(versions installed since the last
 * GC + garbage), never a sweep of the whole table.  After GC(m) each page's
 * chain holds exactly its versions newer than m and the newest one <= m.
 *
 * The log also makes space_changed_between cheap for watchers over huge
 * ranges: between their creator's snapshot and now there are usually few
 * commits, so checking the versions those commits installed is cheaper than
 * walking every page of the range.  The running totals tell in O(1) which
 * way is cheaper.  The log is exact only for epochs > gc_done, which is
 * why space_changed_between is exact only for after >= the GC horizon.
 *
 * Implied changes (diff.h: a page that was zero, its changed bytes the
 * nonzero bytes of its frame) are kept implied when the version adopts the
 * runner's frame, which then implies them for as long as it lives (frames
 * never change once committed): nothing is copied, and the bytes are
 * derived from the frame only where they are needed -- validating a
 * commit made on an older snapshot, a watcher's range, giving the data
 * away (the bitmap is derived first and kept, the frame no longer being
 * there to imply it).  A merged version keeps the derived bitmap, since
 * its frame holds other commits' bytes too.
 *
 * Install is all-or-nothing: every allocation (table growth, index and log
 * room, versions, merge frames) happens in a first phase that can fail and
 * undo; the second phase links and copies and cannot fail.
 */
#include "mem/space.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

typedef struct mem_version mem_version;
struct mem_version {
    uint64_t epoch;
    uint64_t page;
    mem_version *older;         /* next older version of the page */
    mem_version *next_in_commit;/* next version installed by the commit */
    uint32_t frame;             /* 0: the zero page */
    uint32_t nruns;             /* run count, DIFF_BITMAP or DIFF_IMPLIED */
    uint64_t data[];            /* the delta's runs or bitmap: the bytes
                                   this commit changed; when implied, one
                                   word: the address of the bitmap derived
                                   when the data was given away, else 0 */
};

typedef struct space_slot {
    uint64_t page;
    mem_version *head;          /* NULL: empty slot */
} space_slot;

typedef struct space_commit {
    mem_version *first;         /* versions of this commit */
    uint64_t cum;               /* versions installed up to this commit */
} space_commit;

typedef struct space_trail_entry {  /* a page a commit installed */
    uint64_t epoch, page;
} space_trail_entry;

struct mem_space {
    mem_store *store;
    uint64_t epoch;
    space_slot *slots;          /* page table */
    size_t cap, npages;
    uint64_t *main, *recent;    /* page index, both sorted */
    size_t nmain, cap_main, nrecent, cap_recent, recent_max;
    space_commit *log;          /* log[log_off + i]: epoch gc_done + 1 + i */
    size_t log_off, nlog, cap_log;
    uint64_t gc_done;           /* GC horizon: every epoch <= it processed */
    uint64_t gc_cum;            /* versions installed up to gc_done */
    uint64_t installed;         /* versions installed ever */
    uint64_t nversions, freed;
    uint64_t restored;          /* newest epoch space_restore was given */
    uint64_t away;              /* versions whose data was given away */
    /* The trail: the pages of the last SPACE_TRAIL versions installed, in
     * commit order, kept past the GC (space_pages_changed_past_gc).  Every page
     * installed by an epoch above trail_lost is in it. */
    space_trail_entry *trail;   /* SPACE_TRAIL entries, or NULL */
    size_t trail_head, ntrail;  /* oldest entry, entries held */
    uint64_t trail_lost;        /* newest epoch with pages not held */
    /* space_set_dataless: 1 when a change's frame carries no data. */
    int (*dataless)(void *arg, uint32_t frame, uint64_t page);
    void *dataless_arg;
};

#define SPACE_MIN_CAP 1024u
#define SPACE_TRAIL 4096u       /* page changes the trail holds */
#define SPACE_RECENT_MIN 1024u
#define SPACE_PROBE_MAX 16u     /* ranges this short are probed page by page */

/* ---- page table ---------------------------------------------------------- */

static size_t slot_hash(const mem_space *s, uint64_t page)
{
    return (size_t)((page * 0x9E3779B97F4A7C15ull) >> 17) & (s->cap - 1);
}

/* The slot of page, or the empty slot where it would go. */
static space_slot *slot_probe(const mem_space *s, uint64_t page)
{
    size_t i = slot_hash(s, page);
    while (s->slots[i].head && s->slots[i].page != page)
        i = (i + 1) & (s->cap - 1);
    return &s->slots[i];
}

/* Newest version of page, or NULL. */
static mem_version *page_head(const mem_space *s, uint64_t page)
{
    return slot_probe(s, page)->head;
}

/* Makes room for `more` new pages at most 3/4 load.  On failure nothing
 * changes. */
static dvm_status table_reserve(mem_space *s, size_t more)
{
    size_t need = s->npages + more, cap = s->cap;
    while (need > cap / 4 * 3)
        cap *= 2;
    if (cap == s->cap)
        return DVM_OK;
    space_slot *old = s->slots;
    size_t oldcap = s->cap;
    s->slots = dvm_calloc(cap, sizeof *s->slots);
    if (!s->slots) {
        s->slots = old;
        return status_set(DVM_ENOMEM, "space: out of memory for a page "
                          "table of %zu slots", cap);
    }
    s->cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].head)
            *slot_probe(s, old[i].page) = old[i];
    dvm_free(old);
    return DVM_OK;
}

/* ---- page index ---------------------------------------------------------- */

/* Merges sorted src[0..k) into sorted a[0..*n) in place, from the back;
 * a has room for *n + k.  The sets are disjoint. */
static void index_merge(uint64_t *a, size_t *n, const uint64_t *src, size_t k)
{
    size_t i = *n, j = k, o = *n + k;
    while (j > 0) {
        if (i > 0 && a[i - 1] > src[j - 1])
            a[--o] = a[--i];
        else
            a[--o] = src[--j];
    }
    *n += k;
}

/* Grows the index so that k more pages fit without allocating.  Nothing
 * to grow for k = 0 (dvm_grow would hand back the NULL of a never
 * allocated index, which is not a failure). */
static dvm_status index_reserve(mem_space *s, size_t k)
{
    if (k == 0)
        return DVM_OK;
    uint64_t *r = dvm_grow(s->recent, &s->cap_recent, s->nrecent + k,
                           sizeof *r);
    if (!r)
        goto err_nomem;
    s->recent = r;
    uint64_t *m = dvm_grow(s->main, &s->cap_main, s->nmain + s->nrecent + k,
                           sizeof *m);
    if (!m)
        goto err_nomem;
    s->main = m;
    return DVM_OK;
err_nomem:
    return status_set(DVM_ENOMEM, "space: out of memory for the page index");
}

/* Adds sorted new pages; room was reserved. */
static void index_add(mem_space *s, const uint64_t *pg, size_t k)
{
    index_merge(s->recent, &s->nrecent, pg, k);
    if (s->nrecent <= s->recent_max)
        return;
    index_merge(s->main, &s->nmain, s->recent, s->nrecent);
    s->nrecent = 0;
    size_t m = 2 * (size_t)sqrt((double)s->nmain);
    s->recent_max = m > SPACE_RECENT_MIN ? m : SPACE_RECENT_MIN;
}

/* First position in a[0..n) with a[i] >= key. */
static size_t index_lower(const uint64_t *a, size_t n, uint64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Calls fn(arg, head) for every page of the table in [lo, hi), ascending,
 * until fn returns non-zero; returns that value or 0. */
typedef int (*space_page_fn)(void *arg, const mem_version *head);

static int space_walk(const mem_space *s, uint64_t lo, uint64_t hi,
                      space_page_fn fn, void *arg)
{
    int r = 0;
    if (hi - lo <= SPACE_PROBE_MAX) {
        for (uint64_t p = lo; p < hi && !r; p++) {
            const mem_version *h = page_head(s, p);
            r = h ? fn(arg, h) : 0;
        }
        return r;
    }
    size_t i = index_lower(s->main, s->nmain, lo);
    size_t j = index_lower(s->recent, s->nrecent, lo);
    while (!r) {
        uint64_t a = i < s->nmain ? s->main[i] : UINT64_MAX;
        uint64_t b = j < s->nrecent ? s->recent[j] : UINT64_MAX;
        uint64_t p = a < b ? a : b;
        if (p >= hi)
            break;
        if (a < b)
            i++;
        else
            j++;
        r = fn(arg, page_head(s, p));
    }
    return r;
}

/* ---- versions ------------------------------------------------------------ */

/* Version of the chain visible at epoch, or NULL. */
static const mem_version *chain_at(const mem_version *v, uint64_t epoch)
{
    while (v && v->epoch > epoch)
        v = v->older;
    return v;
}

/* The bitmap derived for implied version v, or NULL. */
static uint64_t *version_derived(const mem_version *v)
{
    assert(v->nruns == DIFF_IMPLIED);
    return (uint64_t *)(uintptr_t)v->data[0];
}

/* Frees v and its frame (unless given away). */
static void version_drop(mem_space *s, mem_version *v, int give_frame)
{
    if (v->nruns == DIFF_IMPLIED)
        dvm_free(version_derived(v));
    if (v->frame == SPACE_FRAME_AWAY)
        s->away--;
    else if (v->frame && give_frame)
        store_release(s->store, v->frame);
    dvm_free(v);
    s->nversions--;
    s->freed++;
}

static void version_free(mem_space *s, mem_version *v)
{
    version_drop(s, v, 1);
}

/* The bytes v's commit changed; an implied delta is derived from v's
 * frame into bits[] (DIFF_WORDS), unless it was derived for good. */
static mem_delta version_delta(const mem_space *s, const mem_version *v,
                               uint64_t *bits)
{
    if (v->nruns == DIFF_BITMAP)
        return diff_of_bits(v->data);
    if (v->nruns != DIFF_IMPLIED)
        return diff_of_runs((const mem_run *)v->data, v->nruns);
    if (version_derived(v))
        return diff_of_bits(version_derived(v));
    assert(v->frame && v->frame != SPACE_FRAME_AWAY);
    return diff_resolve(diff_implied(), store_frame(s->store, v->frame), bits);
}

/* True when v changed a byte of the byte range [lo, hi). */
static int version_touches(const mem_space *s, const mem_version *v,
                           uint64_t lo, uint64_t hi)
{
    uint64_t base = v->page * DIFF_PAGE;
    uint64_t a = lo > base ? lo - base : 0;
    uint64_t b = hi < base + DIFF_PAGE ? hi - base : DIFF_PAGE;
    uint64_t bits[DIFF_WORDS];
    return a < b &&
           diff_touch(version_delta(s, v, bits), (unsigned)a, (unsigned)b);
}

/* ---- create / destroy ---------------------------------------------------- */

dvm_status space_create(mem_store *store, mem_space **out)
{
    assert(store && out);
    mem_space *s = dvm_calloc(1, sizeof *s);
    if (!s)
        goto err_space;
    s->slots = dvm_calloc(SPACE_MIN_CAP, sizeof *s->slots);
    if (!s->slots)
        goto err_slots;
    s->store = store;
    s->cap = SPACE_MIN_CAP;
    s->recent_max = SPACE_RECENT_MIN;
    *out = s;
    return DVM_OK;
err_slots:
    dvm_free(s);
err_space:
    return status_set(DVM_ENOMEM, "space: out of memory");
}

/* Frees the versions of pages pg[0..n), with their frames when
 * give_frames is 1. */
static void pages_free(mem_space *s, const uint64_t *pg, size_t n,
                       int give_frames)
{
    for (size_t i = 0; i < n; i++) {
        mem_version *v = slot_probe(s, pg[i])->head;
        while (v) {
            mem_version *older = v->older;
            version_drop(s, v, give_frames);
            v = older;
        }
    }
}

/* Pages go in the index's order, not the table's: frames granted as a run
 * to a commit of consecutive pages then go back to the store as a run,
 * which it returns to the system in one call, not one per frame. */
static void space_end(mem_space *s, int give_frames)
{
    if (!s)
        return;
    pages_free(s, s->main, s->nmain, give_frames);
    pages_free(s, s->recent, s->nrecent, give_frames);
    dvm_free(s->slots);
    dvm_free(s->main);
    dvm_free(s->recent);
    dvm_free(s->log);
    dvm_free(s->trail);
    dvm_free(s);
}

void space_destroy(mem_space *s)
{
    space_end(s, 1);
}

void space_abandon(mem_space *s)
{
    space_end(s, 0);
}

uint64_t space_epoch(const mem_space *s)
{
    return s->epoch;
}

/* ---- reading ------------------------------------------------------------- */

uint32_t space_lookup(const mem_space *s, uint64_t page, uint64_t epoch)
{
    const mem_version *v = chain_at(page_head(s, page), epoch);
    return v ? v->frame : 0;
}

uint64_t space_lookup_version(const mem_space *s, uint64_t page,
                              uint64_t epoch, uint32_t *frame)
{
    const mem_version *v = chain_at(page_head(s, page), epoch);
    *frame = v ? v->frame : 0;
    return v ? v->epoch : 0;
}

typedef struct visit_ctx {
    uint64_t epoch;
    size_t max, calls;
    void (*fn)(void *arg, uint64_t page, uint32_t frame);
    void *arg;
} visit_ctx;

/* space_walk callback of space_visible_pages. */
static int visit_page(void *arg, const mem_version *head)
{
    visit_ctx *c = arg;
    const mem_version *v = chain_at(head, c->epoch);
    if (v && v->frame) {
        c->fn(c->arg, v->page, v->frame);
        c->calls++;
    }
    return c->calls >= c->max;
}

size_t space_visible_pages(const mem_space *s, uint64_t pg_lo, uint64_t pg_hi,
                           uint64_t epoch, size_t max,
                           void (*fn)(void *arg, uint64_t page, uint32_t frame),
                           void *arg)
{
    assert(s && fn);
    if (pg_lo >= pg_hi || max == 0)
        return 0;
    visit_ctx c = {epoch, max, 0, fn, arg};
    space_walk(s, pg_lo, pg_hi, visit_page, &c);
    return c.calls;
}

/* ---- validate ------------------------------------------------------------ */

dvm_status space_validate(const mem_space *s, uint64_t snap,
                          const mem_change *c, size_t n)
{
    assert(s && (c || n == 0));
    uint64_t cbits[DIFF_WORDS], vbits[DIFF_WORDS];
    for (size_t i = 0; i < n; i++) {
        const mem_version *v = page_head(s, c[i].page);
        if (!v || v->epoch <= snap)
            continue;           /* most pages: nothing newer to meet */
        mem_delta d = space_change_delta(&c[i]);
        assert(diff_valid(d));
        d = diff_resolve(d, store_frame(s->store, c[i].frame), cbits);
        for (; v && v->epoch > snap; v = v->older)
            if (diff_intersect(version_delta(s, v, vbits), d))
                return DVM_ECONFLICT;
    }
    return DVM_OK;
}

/* ---- install ------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Writes to pg[] the pages of c that are not in the table yet, ascending,
 * and their count to *nnew.  DVM_EINVAL when a page repeats. */
static dvm_status new_pages(const mem_space *s, const mem_change *c, size_t n,
                            uint64_t *pg, size_t *nnew)
{
    int sorted = 1;
    for (size_t i = 0; i < n; i++) {
        pg[i] = c[i].page;
        sorted &= i == 0 || pg[i - 1] < pg[i];
    }
    if (!sorted)
        qsort(pg, n, sizeof *pg, cmp_u64);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && pg[i - 1] == pg[i])
            return status_set(DVM_EINVAL, "space: page %llu twice in a "
                              "commit", (unsigned long long)pg[i]);
        if (!page_head(s, pg[i]))
            pg[k++] = pg[i];
    }
    *nnew = k;
    return DVM_OK;
}

/* Allocates the version of change c for a commit on snapshot snap: it
 * adopts c's frame when c's base is still the newest version, else owns a
 * freshly allocated frame to merge into (so v->frame != c->frame tells a
 * merge), and then the bytes of an implied change are derived for good.
 * Nothing is linked yet. */
static dvm_status version_new(mem_space *s, uint64_t snap, const mem_change *c,
                              mem_version **out)
{
    mem_delta d = space_change_delta(c);
    assert(diff_valid(d));
    const mem_version *head = page_head(s, c->page);
    int merge = head && head->epoch > snap;
    int away = c->frame && s->dataless &&
               s->dataless(s->dataless_arg, c->frame, c->page);
    assert(!away || !diff_is_implied(d));
    uint64_t bits[DIFF_WORDS];
    if (merge && !away)
        d = diff_resolve(d, store_frame(s->store, c->frame), bits);
    /* A merge into a base whose data is elsewhere is made there too. */
    away |= merge && head->frame == SPACE_FRAME_AWAY;
    size_t size = diff_is_implied(d) ? sizeof(uint64_t) : diff_size(d);
    mem_version *v = dvm_malloc(sizeof *v + size);
    if (!v)
        return status_set(DVM_ENOMEM, "space: out of memory for a page "
                          "version");
    v->frame = away ? SPACE_FRAME_AWAY : c->frame;
    if (merge && !away) {
        dvm_status st = store_alloc(s->store, &v->frame);
        if (st) {
            dvm_free(v);
            return st;
        }
    }
    v->page = c->page;
    v->nruns = d.nruns;
    if (diff_is_implied(d))
        v->data[0] = 0;
    else if (diff_size(d))
        memcpy(v->data, diff_is_bitmap(d) ? (const void *)d.bits
                                          : (const void *)d.runs,
               diff_size(d));
    *out = v;
    return DVM_OK;
}

/* Frees versions vs[0..k) of a failed install and their merge frames. */
static void versions_undo(mem_space *s, mem_version **vs,
                          const mem_change *c, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        if (vs[i]->frame != c[i].frame && vs[i]->frame != SPACE_FRAME_AWAY)
            store_release(s->store, vs[i]->frame);
        dvm_free(vs[i]);
    }
}

/* Makes room for one more commit in the log. */
static dvm_status log_reserve(mem_space *s)
{
    if (s->log_off > 0 && s->log_off + s->nlog >= s->cap_log) {
        memmove(s->log, s->log + s->log_off, s->nlog * sizeof *s->log);
        s->log_off = 0;
    }
    space_commit *l = dvm_grow(s->log, &s->cap_log, s->log_off + s->nlog + 1,
                               sizeof *l);
    if (!l)
        return status_set(DVM_ENOMEM, "space: out of memory for the commit "
                          "log");
    s->log = l;
    if (!s->trail)      /* best effort: without it the trail loses all */
        s->trail = dvm_malloc(SPACE_TRAIL * sizeof *s->trail);
    return DVM_OK;
}

/* Appends the pages of commit epoch (the list from first) to the trail,
 * overwriting the oldest; without a trail, notes them lost. */
static void trail_add(mem_space *s, uint64_t epoch, const mem_version *first)
{
    for (const mem_version *v = first; v; v = v->next_in_commit) {
        if (!s->trail) {
            s->trail_lost = epoch;
            return;
        }
        size_t at = (s->trail_head + s->ntrail) % SPACE_TRAIL;
        if (s->ntrail == SPACE_TRAIL) {
            s->trail_lost = s->trail[s->trail_head].epoch;
            s->trail_head = (s->trail_head + 1) % SPACE_TRAIL;
        } else {
            s->ntrail++;
        }
        s->trail[at] = (space_trail_entry){ epoch, v->page };
    }
}

/* Fills the merge frame of v: the newest content of the page (head) with
 * the runner's changed bytes from its frame (0: zeros) on top; releases
 * the runner's frame. */
static void version_merge(mem_space *s, mem_version *v,
                          const mem_version *head, uint32_t runner)
{
    uint8_t *dst = store_frame(s->store, v->frame);
    if (head && head->frame)
        memcpy(dst, store_frame(s->store, head->frame), STORE_FRAME_SIZE);
    else
        memset(dst, 0, STORE_FRAME_SIZE);
    assert(v->nruns != DIFF_IMPLIED);
    if (!runner) {
        diff_apply(dst, NULL, version_delta(s, v, NULL));
        return;
    }
    diff_apply(dst, store_frame(s->store, runner), version_delta(s, v, NULL));
    store_release(s->store, runner);
}

/* Second phase of install: links the prepared versions as epoch, merging
 * where needed.  Cannot fail. */
static void install_link(mem_space *s, uint64_t epoch, mem_version **vs,
                         const mem_change *c, size_t n)
{
    mem_version *first = NULL;
    for (size_t i = n; i-- > 0;) {
        mem_version *v = vs[i];
        space_slot *slot = slot_probe(s, v->page);
        if (v->frame == SPACE_FRAME_AWAY) {     /* made at the homes */
            if (c[i].frame)
                store_release(s->store, c[i].frame);
            s->away++;
        } else if (v->frame != c[i].frame) {
            version_merge(s, v, slot->head, c[i].frame);
        }
        if (!slot->head) {
            slot->page = v->page;
            s->npages++;
        }
        v->epoch = epoch;
        v->older = slot->head;
        slot->head = v;
        v->next_in_commit = first;
        first = v;
    }
    s->installed += n;
    s->nversions += n;
    s->log[s->log_off + s->nlog++] = (space_commit){first, s->installed};
    trail_add(s, epoch, first);
}

/* Pages of a commit whose work arrays live on the stack: most commits
 * change a page or two, and the master installs one commit after the
 * other, so two allocations each would be most of their malloc traffic. */
#define INSTALL_SMALL 8

dvm_status space_install(mem_space *s, uint64_t snap, const mem_change *c,
                         size_t n, uint64_t *epoch)
{
    assert(s && (c || n == 0) && epoch && snap <= s->epoch);
    dvm_status st = DVM_ENOMEM;
    size_t nv = 0, nnew = 0;
    mem_version *vs_small[INSTALL_SMALL];
    uint64_t pg_small[INSTALL_SMALL];
    int small = n <= INSTALL_SMALL;
    mem_version **vs = small ? vs_small : dvm_malloc(n * sizeof *vs);
    uint64_t *pg = small ? pg_small : dvm_malloc(n * sizeof *pg);
    if (!vs || !pg) {
        status_set(st, "space: out of memory installing %zu pages", n);
        goto err_undo;
    }
    if ((st = new_pages(s, c, n, pg, &nnew)) ||
        (st = table_reserve(s, nnew)) || (st = index_reserve(s, nnew)) ||
        (st = log_reserve(s)))
        goto err_undo;
    for (; nv < n; nv++)
        if ((st = version_new(s, snap, &c[nv], &vs[nv])))
            goto err_undo;
    install_link(s, s->epoch + 1, vs, c, n);
    index_add(s, pg, nnew);
    *epoch = ++s->epoch;
    st = DVM_OK;
    goto out;
err_undo:
    if (vs)
        versions_undo(s, vs, c, nv);
out:
    if (!small) {
        dvm_free(vs);
        dvm_free(pg);
    }
    return st;
}

void space_set_dataless(mem_space *s,
                        int (*fn)(void *arg, uint32_t frame, uint64_t page),
                        void *arg)
{
    assert(s);
    s->dataless = fn;
    s->dataless_arg = arg;
}

/* ---- restoring a saved state -------------------------------------------- */

dvm_status space_restore(mem_space *s, uint64_t page, uint64_t epoch,
                         uint32_t frame)
{
    assert(s && frame);
    if (s->epoch || s->nlog)
        return status_set(DVM_EINVAL, "space: restoring into a used space");
    if (epoch == 0 || page_head(s, page))
        return status_set(DVM_EINVAL, "space: page %llu restored twice or "
                          "at epoch 0", (unsigned long long)page);
    dvm_status st = table_reserve(s, 1);
    if (!st)
        st = index_reserve(s, 1);
    mem_version *v = st ? NULL : dvm_malloc(sizeof *v);
    if (st || !v)
        return st ? st : status_set(DVM_ENOMEM, "space: out of memory");
    *v = (mem_version){ .epoch = epoch, .page = page, .frame = frame,
                        .nruns = 0 };
    space_slot *slot = slot_probe(s, page);
    slot->page = page;
    slot->head = v;
    s->npages++;
    s->nversions++;
    index_add(s, &page, 1);
    if (epoch > s->restored)
        s->restored = epoch;
    return DVM_OK;
}

dvm_status space_restore_epoch(mem_space *s, uint64_t epoch)
{
    assert(s);
    if (s->epoch || s->nlog || epoch < s->restored)
        return status_set(DVM_EINVAL, "space: epoch %llu is older than a "
                          "restored page version (%llu)",
                          (unsigned long long)epoch,
                          (unsigned long long)s->restored);
    s->epoch = s->gc_done = s->trail_lost = epoch;
    s->gc_cum = s->installed;
    return DVM_OK;
}

/* ---- watchers ------------------------------------------------------------ */

typedef struct changed_ctx {
    const mem_space *s;
    uint64_t lo, hi, after, upto, except;
} changed_ctx;

/* space_walk callback: does a version in (after, upto] touch the range? */
static int changed_page(void *arg, const mem_version *v)
{
    const changed_ctx *c = arg;
    for (; v && v->epoch > c->after; v = v->older)
        if (v->epoch <= c->upto && v->epoch != c->except &&
            version_touches(c->s, v, c->lo, c->hi))
            return 1;
    return 0;
}

/* Versions installed by commits up to epoch e (gc_done <= e <= epoch). */
static uint64_t log_cum(const mem_space *s, uint64_t e)
{
    if (e == s->gc_done)
        return s->gc_cum;
    return s->log[s->log_off + (e - s->gc_done - 1)].cum;
}

/* The commit-log way of space_changed_between (after >= gc_done). */
static int changed_by_log(const mem_space *s, const changed_ctx *c)
{
    uint64_t plo = c->lo / DIFF_PAGE, phi = (c->hi - 1) / DIFF_PAGE;
    for (uint64_t e = c->after + 1; e <= c->upto; e++) {
        if (e == c->except)
            continue;
        const mem_version *v = s->log[s->log_off + (e - s->gc_done - 1)].first;
        for (; v; v = v->next_in_commit)
            if (v->page >= plo && v->page <= phi &&
                version_touches(s, v, c->lo, c->hi))
                return 1;
    }
    return 0;
}

int space_changed_between(const mem_space *s, uint64_t lo, uint64_t hi,
                          uint64_t after, uint64_t upto, uint64_t except)
{
    assert(s);
    if (upto > s->epoch)
        upto = s->epoch;
    if (lo >= hi || after >= upto)
        return 0;
    changed_ctx c = {s, lo, hi, after, upto, except};
    uint64_t plo = lo / DIFF_PAGE, phi = (hi - 1) / DIFF_PAGE + 1;
    uint64_t range_cost = phi - plo < s->npages ? phi - plo : s->npages;
    if (after >= s->gc_done) {
        uint64_t log_cost = (upto - after) + log_cum(s, upto) -
                            log_cum(s, after);
        if (log_cost <= range_cost)
            return changed_by_log(s, &c);
    }
    return space_walk(s, plo, phi, changed_page, &c);
}

/* ---- what changed between two snapshots ---------------------------------- */

/* The first trail position (0 .. ntrail) whose epoch is above e. */
static size_t trail_after(const mem_space *s, uint64_t e)
{
    size_t lo = 0, hi = s->ntrail;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->trail[(s->trail_head + mid) % SPACE_TRAIL].epoch <= e)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* space_pages_changed_past_gc from the trail, for an `after` the GC
 * passed. */
static size_t trail_pages_changed(const mem_space *s, uint64_t after,
                                  uint64_t upto, size_t max,
                                  void (*fn)(void *arg, uint64_t page),
                                  void *arg)
{
    if (after < s->trail_lost || !s->trail)
        return SIZE_MAX;
    size_t i = trail_after(s, after), j = trail_after(s, upto);
    if (j - i > max)
        return SIZE_MAX;
    for (size_t k = i; k < j; k++)
        fn(arg, s->trail[(s->trail_head + k) % SPACE_TRAIL].page);
    return j - i;
}

/* The log's totals bound the work before any page is named: an RComp told
 * "reset everything" costs one long reset, a list of thousands of pages
 * costs more to send and to apply than that. */
size_t space_pages_changed(const mem_space *s, uint64_t after, uint64_t upto,
                           size_t max, void (*fn)(void *arg, uint64_t page),
                           void *arg)
{
    assert(s && fn && after <= upto);
    if (after < s->gc_done || upto > s->epoch)
        return SIZE_MAX;
    if (log_cum(s, upto) - log_cum(s, after) > max)
        return SIZE_MAX;
    size_t n = 0;
    for (uint64_t e = after + 1; e <= upto; e++) {
        const mem_version *v = s->log[s->log_off + (e - s->gc_done - 1)].first;
        for (; v; v = v->next_in_commit, n++)
            fn(arg, v->page);
    }
    return n;
}

size_t space_pages_changed_past_gc(const mem_space *s, uint64_t after,
                                   uint64_t upto, size_t max,
                                   void (*fn)(void *arg, uint64_t page),
                                   void *arg)
{
    assert(s && fn && after <= upto);
    if (after < s->gc_done && upto <= s->epoch)
        return trail_pages_changed(s, after, upto, max, fn, arg);
    return space_pages_changed(s, after, upto, max, fn, arg);
}

/* ---- garbage collection -------------------------------------------------- */

/* Frees every version older than v on its page (all garbage: v is visible
 * to the oldest live snapshot). */
static void chain_cut(mem_space *s, mem_version *v)
{
    mem_version *w = v->older;
    v->older = NULL;
    while (w) {
        mem_version *older = w->older;
        version_free(s, w);
        w = older;
    }
}

void space_gc(mem_space *s, uint64_t oldest_live)
{
    assert(s);
    uint64_t target = oldest_live < s->epoch ? oldest_live : s->epoch;
    while (s->gc_done < target) {
        space_commit *cm = &s->log[s->log_off];
        for (mem_version *v = cm->first; v; v = v->next_in_commit)
            chain_cut(s, v);
        s->gc_cum = cm->cum;
        s->gc_done++;
        s->log_off++;
        s->nlog--;
    }
    if (s->nlog == 0)
        s->log_off = 0;
}

uint64_t space_gc_horizon(const mem_space *s)
{
    assert(s);
    return s->gc_done;
}

mem_delta space_version_delta(const mem_space *s, uint64_t page,
                              uint64_t epoch, uint64_t *bits)
{
    assert(s && bits);
    const mem_version *v = chain_at(page_head(s, page), epoch);
    if (!v || v->epoch != epoch)
        return diff_of_runs(NULL, 0);
    return version_delta(s, v, bits);
}

void space_get_stats(const mem_space *s, space_stats *out)
{
    assert(s && out);
    out->pages = s->npages;
    out->versions = s->nversions;
    out->freed = s->freed;
    out->away = s->away;
}

int space_give_away(mem_space *s, uint64_t page, uint64_t epoch)
{
    mem_version *head = page_head(s, page), *v = head;
    while (v && v->epoch > epoch)
        v = v->older;
    if (!v || v == head || v->epoch != epoch || !v->frame ||
        v->frame == SPACE_FRAME_AWAY)
        return 0;
    if (v->nruns == DIFF_IMPLIED) {     /* the frame implies no more */
        uint64_t *bits = dvm_malloc(DIFF_BITMAP_BYTES);
        if (!bits)
            return 0;           /* the data stays: exact all the same */
        diff_resolve(diff_implied(), store_frame(s->store, v->frame), bits);
        v->data[0] = (uint64_t)(uintptr_t)bits;
    }
    store_release(s->store, v->frame);
    v->frame = SPACE_FRAME_AWAY;
    s->away++;
    return 1;
}
