/*
 * commit.c -- turning a finished runner's window into page changes.
 *
 * What a runner may commit (DISA.md 5.4): its heap ranges and the stacks of
 * the runners it created; its own stack is discarded, except where it
 * overlaps a created runner's stack (a watcher re-creating itself on the
 * same stack passes its input there).  So the committable bytes are
 *
 *     kids' stacks  UNION  (heap ranges MINUS own stack)
 *
 * which is the same set as (heap UNION kids) MINUS (own MINUS kids).
 *
 * For each touched SR page, diff_page compares the window with the page's
 * base (the frame it started from: immutable, so it is the twin) and the
 * changed bytes are clipped to the committable bytes of that page.  A
 * sparse diff is runs, clipped by a merge walk with the committable
 * intervals; a dense one is a bitmap, clipped by an AND with the page's
 * committable mask (exact either way: no byte is added), and turned back
 * into runs when clipping left DIFF_DENSE runs or fewer.  A page that was
 * zero and is committable as a whole needs neither bitmap nor clip when it
 * is dense: its change is implied by its content (diff.h), found from the
 * first DIFF_DENSE + 1 runs, and its frame is a copy of the window page --
 * the master derives the bytes if it ever needs them.  A page with
 * changes left gets a frame holding base + those changes only: a frame
 * must never carry discarded bytes, because the master may adopt it as the
 * page's next version as is.
 *
 * A runner may create thousands of children (a c0 `main` starting one per
 * tree node), each on a stack page of its own, and touch every one of those
 * pages: so the children's stacks are not scanned per page but sorted and
 * merged once per commit (sort_kid_stacks), and each page looks up the
 * first stack that may reach it (binary search) and walks on while the
 * stacks start below the page's end.
 *
 * A page of a large zero span that the window maps over a frame of a run
 * (adopt.c) needs no copy: the frame is cleared outside the committable
 * bytes and becomes the version itself (pend_adopted).
 *
 * Two passes, so that frames are asked for at most once per commit: pass 1
 * computes every page's clipped delta (no frame needed), pass 2 takes
 * frames from the local pool, asking the master for max(missing, 256) first
 * if the pool is short, and writes them; the runner's output goes into
 * frames of the same request (io.c).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "isa/isa.h"
#include "rcomp/rcomp_int.h"
#include "util/alloc.h"

#define PG_RB     (DISA_RB / DISA_PAGE)
#define PG_IN     (DISA_INPUT_BASE / DISA_PAGE)

typedef struct ivl {
    uint32_t lo, hi;            /* [lo, hi) within a page, hi <= 4096 */
} ivl;

typedef struct commit_ctx {
    rcomp *rc;
    const msg_runner *mr;
    ivl *iv;                    /* room for 2 * nheap + nkids + 1 */
    dvm_status err;
} commit_ctx;

/* Appends [lo, hi) clipped to the page at pa, if anything remains. */
static void push_clip(ivl *iv, size_t *n, uint64_t pa, uint64_t lo,
                      uint64_t hi)
{
    if (lo < pa)
        lo = pa;
    if (hi > pa + DISA_PAGE)
        hi = pa + DISA_PAGE;
    if (lo < hi)
        iv[(*n)++] = (ivl){ (uint32_t)(lo - pa), (uint32_t)(hi - pa) };
}

static int cmp_ivl(const void *a, const void *b)
{
    const ivl *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sorts and merges overlapping or adjacent intervals; returns the count. */
static size_t merge_ivls(ivl *iv, size_t n)
{
    if (n < 2)
        return n;
    qsort(iv, n, sizeof *iv, cmp_ivl);
    size_t m = 0;
    for (size_t i = 1; i < n; i++) {
        if (iv[i].lo <= iv[m].hi) {
            if (iv[i].hi > iv[m].hi)
                iv[m].hi = iv[i].hi;
        } else {
            iv[++m] = iv[i];
        }
    }
    return m + 1;
}

static int cmp_range(const void *a, const void *b)
{
    const dvm_range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* rc->kst: the stacks of the runners created, sorted, overlapping and
 * adjacent ones merged, so that a page finds those it meets by binary
 * search -- a creator of K runners touching P pages would otherwise cost
 * K * P. */
static dvm_status sort_kid_stacks(rcomp *rc)
{
    const vm_runner *vr = &rc->vr;
    if (vr->nkids > rc->capkst) {
        dvm_range *v = dvm_grow(rc->kst, &rc->capkst, vr->nkids, sizeof *v);
        if (!v)
            return status_set(DVM_ENOMEM, "commit: created stacks");
        rc->kst = v;
    }
    size_t n = 0;
    int sorted = 1;             /* often: stacks taken in address order */
    for (size_t k = 0; k < vr->nkids; k++)
        if (vr->kids[k].ss) {
            rc->kst[n] = (dvm_range){ vr->kids[k].sb,
                                      vr->kids[k].sb + vr->kids[k].ss };
            sorted &= !n || rc->kst[n - 1].lo <= rc->kst[n].lo;
            n++;
        }
    if (!sorted)
        qsort(rc->kst, n, sizeof *rc->kst, cmp_range);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && rc->kst[i].lo <= rc->kst[m - 1].hi) {
            if (rc->kst[i].hi > rc->kst[m - 1].hi)
                rc->kst[m - 1].hi = rc->kst[i].hi;
        } else {
            rc->kst[m++] = rc->kst[i];
        }
    }
    rc->nkst = m;
    return DVM_OK;
}

/* Index of the first merged kid stack ending after address a. */
static size_t first_kid_stack(const rcomp *rc, uint64_t a)
{
    return dvm_range_first_after(rc->kst, rc->nkst, a);
}

/* The committable bytes of the page at pa, as sorted merged intervals. */
static size_t page_allowed(const commit_ctx *c, uint64_t pa)
{
    const msg_runner *mr = c->mr;
    const rcomp *rc = c->rc;
    uint64_t olo = mr->d.sb, ohi = mr->d.sb + mr->d.ss;
    size_t n = 0;
    for (uint32_t i = 0; i < mr->d.nheap; i++) {
        uint64_t lo = mr->d.heap[i].lo, hi = mr->d.heap[i].hi;
        if (hi <= pa || lo >= pa + DISA_PAGE)
            continue;
        /* heap MINUS own stack: up to two pieces */
        push_clip(c->iv, &n, pa, lo, hi < olo ? hi : olo);
        push_clip(c->iv, &n, pa, lo > ohi ? lo : ohi, hi);
    }
    for (size_t k = first_kid_stack(rc, pa);
         k < rc->nkst && rc->kst[k].lo < pa + DISA_PAGE; k++)
        push_clip(c->iv, &n, pa, rc->kst[k].lo, rc->kst[k].hi);
    return merge_ivls(c->iv, n);
}

/* Intersects runs with the allowed intervals into out; returns the count.
 * Runs stay sorted, disjoint and non-adjacent: the intervals are merged,
 * so any two pieces are separated by a byte that is not allowed. */
static size_t clip_runs(const mem_run *r, size_t nr, const ivl *iv,
                        size_t ni, mem_run *out)
{
    size_t i = 0, j = 0, n = 0;
    while (i < nr && j < ni) {
        unsigned rlo = r[i].off, rhi = r[i].off + r[i].len;
        unsigned lo = rlo > iv[j].lo ? rlo : iv[j].lo;
        unsigned hi = rhi < iv[j].hi ? rhi : iv[j].hi;
        if (lo < hi)
            out[n++] = (mem_run){ (uint16_t)lo, (uint16_t)(hi - lo) };
        if (rhi < iv[j].hi)
            i++;
        else
            j++;
    }
    return n;
}

static const uint8_t *base_bytes(const rcomp *rc, uint32_t frame)
{
    return frame ? store_frame(rc->store, frame) : NULL;
}

/* Makes room for `more` runs, `words` bitmap words and one more pending
 * page. */
static dvm_status reserve(rcomp *rc, size_t more, size_t words)
{
    if (rc->nruns + more > rc->capruns) {
        mem_run *r = dvm_grow(rc->runs, &rc->capruns, rc->nruns + more,
                              sizeof *r);
        if (!r)
            return status_set(DVM_ENOMEM, "commit runs");
        rc->runs = r;
    }
    if (rc->nbits + words > rc->capbits) {
        uint64_t *b = dvm_grow(rc->bits, &rc->capbits, rc->nbits + words,
                               sizeof *b);
        if (!b)
            return status_set(DVM_ENOMEM, "commit bitmaps");
        rc->bits = b;
    }
    if (rc->npend == rc->cappend) {
        rc_pending *p = dvm_grow(rc->pend, &rc->cappend, rc->npend + 1,
                                 sizeof *p);
        if (!p)
            return status_set(DVM_ENOMEM, "commit pages");
        rc->pend = p;
    }
    return DVM_OK;
}

/* Records page with the sparse diff r[0..nr) clipped to the ni allowed
 * intervals, if anything remains. */
static void pend_runs(commit_ctx *c, uint64_t page, uint32_t base,
                      const mem_run *r, size_t nr, size_t ni)
{
    rcomp *rc = c->rc;
    if ((c->err = reserve(rc, nr + ni, 0)))
        return;
    size_t n = clip_runs(r, nr, c->iv, ni, rc->runs + rc->nruns);
    if (!n)
        return;
    rc->pend[rc->npend++] = (rc_pending){ page, base, (uint32_t)n,
                                          rc->nruns, 0 };
    rc->nruns += n;
}

/* Records page with the dense diff bits ANDed with the ni allowed
 * intervals, if anything remains: as runs when few are left. */
static void pend_bits(commit_ctx *c, uint64_t page, uint32_t base,
                      uint64_t *bits, size_t ni)
{
    rcomp *rc = c->rc;
    uint64_t *mask = rc->dbits + DIFF_WORDS;
    memset(mask, 0, DIFF_BITMAP_BYTES);
    for (size_t j = 0; j < ni; j++)
        diff_bits_set(mask, c->iv[j].lo, c->iv[j].hi);
    if (!diff_bits_and(bits, mask))
        return;
    size_t nr = diff_bits_nruns(bits);
    int sparse = nr <= DIFF_DENSE;
    if ((c->err = reserve(rc, sparse ? nr : 0, sparse ? 0 : DIFF_WORDS)))
        return;
    if (sparse) {
        diff_bits_to_runs(bits, rc->runs + rc->nruns);
        rc->pend[rc->npend++] = (rc_pending){ page, base, (uint32_t)nr,
                                              rc->nruns, 0 };
        rc->nruns += nr;
        return;
    }
    memcpy(rc->bits + rc->nbits, bits, DIFF_BITMAP_BYTES);
    rc->pend[rc->npend++] = (rc_pending){ page, base, DIFF_BITMAP,
                                          rc->nbits, 0 };
    rc->nbits += DIFF_WORDS;
}

/* The clipped delta of a pending page (valid until runs[] or bits[]
 * grow). */
static mem_delta pend_delta(const rcomp *rc, const rc_pending *p)
{
    if (p->nruns == DIFF_IMPLIED)
        return diff_implied();
    if (p->nruns == DIFF_BITMAP)
        return diff_of_bits(rc->bits + p->at);
    return diff_of_runs(rc->runs + p->at, p->nruns);
}

/* Committable bytes below which only they are compared: their runs are
 * then at most DIFF_DENSE, so the delta is runs, as the whole-page path
 * would leave it after clipping. */
#define SMALL_ALLOWED (2 * DIFF_DENSE)

/* Bytes in the ni allowed intervals. */
static size_t allowed_bytes(const ivl *iv, size_t ni)
{
    size_t n = 0;
    for (size_t j = 0; j < ni; j++)
        n += iv[j].hi - iv[j].lo;
    return n;
}

/* The maximal runs of changed bytes inside the allowed intervals: the
 * whole-page diff clipped to them, without comparing the rest (a run of
 * the page cut by an interval is a maximal run inside it). */
static size_t diff_within(const uint8_t *old, const uint8_t *cur,
                          const ivl *iv, size_t ni, mem_run *out)
{
    size_t n = 0;
    for (size_t j = 0; j < ni; j++)
        for (unsigned i = iv[j].lo; i < iv[j].hi;) {
            unsigned e = i;
            while (e < iv[j].hi && (old ? old[e] : 0) != cur[e])
                e++;
            if (e > i)
                out[n++] = (mem_run){ (uint16_t)i, (uint16_t)(e - i) };
            i = e + 1;
        }
    return n;
}

/* Pass 1 for a page whose committable bytes are few. */
static void pend_small(commit_ctx *c, uint64_t page, uint32_t base,
                       size_t ni)
{
    rcomp *rc = c->rc;
    if ((c->err = reserve(rc, SMALL_ALLOWED, 0)))
        return;
    size_t n = diff_within(base_bytes(rc, base),
                           window_base(rc->win) + page * DISA_PAGE, c->iv,
                           ni, rc->runs + rc->nruns);
    assert(n <= DIFF_DENSE);
    if (!n)
        return;
    rc->pend[rc->npend++] = (rc_pending){ page, base, (uint32_t)n,
                                          rc->nruns, 0 };
    rc->nruns += n;
}

/* Pass 1 for a page that was zero whose bytes outside the ni allowed
 * intervals are zeros (all of it committable, or cleared): runs when
 * sparse, else implied. */
static void pend_zero(commit_ctx *c, uint64_t page, size_t ni)
{
    rcomp *rc = c->rc;
    mem_delta d = diff_zero_page(window_base(rc->win) + page * DISA_PAGE,
                                 rc->scratch);
    if (!diff_is_implied(d)) {
        if (d.nruns)
            pend_runs(c, page, 0, d.runs, d.nruns, ni);
        return;
    }
    if ((c->err = reserve(rc, 0, 0)))
        return;
    rc->pend[rc->npend++] = (rc_pending){ page, 0, DIFF_IMPLIED, 0, 0 };
}

/* Clears the bytes of page p outside the ni allowed intervals. */
static void clear_outside(uint8_t *p, const ivl *iv, size_t ni)
{
    uint32_t at = 0;
    for (size_t j = 0; j < ni; j++) {
        if (iv[j].lo > at)
            memset(p + at, 0, iv[j].lo - at);
        at = iv[j].hi;
    }
    if (at < DISA_PAGE)
        memset(p + at, 0, DISA_PAGE - at);
}

/* Pass 1 for a page zero at the snapshot that the window maps as frame
 * `frame` of a run (adopt.c): the frame is the version, its bytes outside
 * the committable set cleared; its change is its nonzero bytes, runs when
 * few, else implied.  No change when none is left (nothing written, zeros
 * written over zeros, written and reset, the own stack only). */
static void pend_adopted(commit_ctx *c, uint64_t page, uint32_t frame,
                         size_t ni)
{
    rcomp *rc = c->rc;
    clear_outside(window_base(rc->win) + page * DISA_PAGE, c->iv, ni);
    size_t n0 = rc->npend;
    pend_zero(c, page, ni);
    if (rc->npend > n0)
        rc->pend[n0].frame = frame;
}

/* Pass 1 for one touched page (window_each_touched callback). */
static void diff_one(void *arg, uint64_t page)
{
    commit_ctx *c = arg;
    rcomp *rc = c->rc;
    if (c->err || page < PG_RB || page >= PG_IN)
        return;
    uint64_t pa = page * DISA_PAGE;
    /* A page with no committable byte (the runner's own stack, most
     * often) has nothing to clip to: its diff is not even computed. */
    size_t ni = page_allowed(c, pa);
    if (!ni)
        return;
    uint32_t base = 0;
    pthread_mutex_lock(&rc->mu);
    int known = rc_basemap_get(&rc->base, page, &base);
    pthread_mutex_unlock(&rc->mu);
    /* Every SR page enters by prefetch or resolver, or lies in a zero span
     * (zero at the snapshot unless prefetched). */
    assert(known || window_in_zero_span(rc->win, page));
    (void)known;
    uint32_t frame;
    if (!base && rc_adopt_frame(rc, page, &frame)) {
        pend_adopted(c, page, frame, ni);
        return;
    }
    if (allowed_bytes(c->iv, ni) <= SMALL_ALLOWED) {
        pend_small(c, page, base, ni);
        return;
    }
    if (!base && ni == 1 && c->iv[0].lo == 0 && c->iv[0].hi == DISA_PAGE) {
        pend_zero(c, page, 1);
        return;
    }
    mem_delta d = diff_page(base_bytes(rc, base), window_base(rc->win) + pa,
                            rc->scratch, rc->dbits);
    if (!d.nruns)
        return;
    if (diff_is_bitmap(d))
        pend_bits(c, page, base, rc->dbits, ni);
    else
        pend_runs(c, page, base, d.runs, d.nruns, ni);
}

/* Asks for RC_FRAME_BATCH more frames ahead of need (rc_send_ahead),
 * when the pool will be down to half that once need are taken and no
 * request is out: the answer is read with the next messages, so that a
 * commit seldom waits a round trip for frames (before, one commit in a
 * hundred of a graph of short tasks waited for a master that was busy or
 * asleep).  Best effort: a request that cannot go now goes when the pool
 * is short. */
static void ask_frames_ahead(rcomp *rc, size_t need)
{
    uint64_t ask = RC_FRAME_BATCH;
    if (rc->frames_asked || rc->npool - need >= RC_FRAME_BATCH / 2 ||
        !rc_may_ask_ahead(rc))
        return;
    msg_encode_u64s(&rc->obuf, MSG_FRAME_REQ, &ask, 1);
    rc->frames_asked = rc_send_ahead(rc);
}

/* Ensures the pool holds need frames, asking the master as needed: for
 * the answer to a request already out (ringing a master that sleeps: it
 * went in quietly), else with a request of its own.  Every request sets
 * frames_asked and every FRAMES answer clears it, so a set flag means the
 * answer to the newest request has not come: waiting for it is safe. */
static dvm_status ensure_frames(rcomp *rc, size_t need)
{
    while (rc->npool < need) {
        uint64_t ask = need - rc->npool;
        if (ask < RC_FRAME_BATCH)
            ask = RC_FRAME_BATCH;
        int out = rc->frames_asked;
        if (!out) {
            msg_encode_u64s(&rc->obuf, MSG_FRAME_REQ, &ask, 1);
            rc->frames_asked = 1;
        }
        dvm_status st = out ? rc_flush_ring(rc) /* it went in quietly */
                            : rc_flush(rc); /* results before it, in order */
        if (!st)
            st = rc_wait_reply(rc, MSG_FRAMES);
        if (st)
            return st;
    }
    ask_frames_ahead(rc, need);
    return DVM_OK;
}

/* Pass 2: writes each pending page into a frame and lists the changes. */
static dvm_status write_frames(rcomp *rc, msg_result *res)
{
    if (rc->npend > rc->capchg) {
        mem_change *c = dvm_grow(rc->chg, &rc->capchg, rc->npend, sizeof *c);
        if (!c)
            return status_set(DVM_ENOMEM, "commit changes");
        rc->chg = c;
    }
    size_t need = rc_outputs_nframes(res);
    for (size_t i = 0; i < rc->npend; i++)
        need += !rc->pend[i].frame;
    dvm_status st = ensure_frames(rc, need);
    if (st)
        return st;
    for (size_t i = 0; i < rc->npend; i++) {
        const rc_pending *p = &rc->pend[i];
        mem_delta d = pend_delta(rc, p);
        assert(diff_valid(d) && p->page >= DISA_RB / DISA_PAGE);
        if (p->frame) {         /* the window wrote it: adopted */
            rc->chg[i] = space_change(p->page, p->frame, d);
            continue;
        }
        assert(rc->npool > 0);
        uint32_t f = rc->pool[--rc->npool];
        assert(f && f < rc->nframes && f != p->base);
        uint8_t *dst = store_frame(rc->store, f);
        const uint8_t *cur = window_base(rc->win) + p->page * DISA_PAGE;
        if (diff_is_implied(d)) {
            assert(!p->base);
            memcpy(dst, cur, DISA_PAGE);
        } else {
            if (p->base)
                memcpy(dst, store_frame(rc->store, p->base), DISA_PAGE);
            else
                memset(dst, 0, DISA_PAGE);
            diff_apply(dst, cur, d);
        }
        rc->chg[i] = space_change(p->page, f, d);
    }
    assert(rc->npend <= UINT32_MAX);
    res->changes = rc->chg;
    res->nchanges = (uint32_t)rc->npend;
    return rc_outputs_write(rc, res);
}

/* A kept page in a created runner's stack: written without a fault, so
 * not a touched page (keep.c); diffed like one, against its kept frame.
 * Each such page is marked first (kids' stacks may share a page), so it is
 * diffed once and dropped at the next reset. */
static void diff_kept(void *arg, uint64_t page, uint32_t frame)
{
    commit_ctx *c = arg;
    rcomp *rc = c->rc;
    if (window_touched(rc->win, page))
        return;                 /* diffed as a touched page */
    pthread_mutex_lock(&rc->mu);
    dvm_status st = rc_basemap_put(&rc->base, page, frame);
    pthread_mutex_unlock(&rc->mu);
    if (st && !c->err)
        c->err = st;
    diff_one(c, page);
}

dvm_status rc_commit(rcomp *rc, const msg_runner *mr, msg_result *res)
{
    assert(mr == rc->cur && res->rid == mr->rid && res->snap == mr->snap);
    size_t niv = 2 * (size_t)mr->d.nheap + rc->vr.nkids + 1;
    if (niv > rc->capiv) {
        void *iv = dvm_grow(rc->iv, &rc->capiv, niv, sizeof(ivl));
        if (!iv)
            return status_set(DVM_ENOMEM, "commit intervals");
        rc->iv = iv;
    }
    dvm_status st = sort_kid_stacks(rc);
    if (st)
        return st;
    commit_ctx c = { rc, mr, rc->iv, DVM_OK };
    rc->npend = rc->nruns = rc->nbits = 0;
    window_each_touched(rc->win, diff_one, &c);
    for (size_t k = 0; k < rc->vr.nkids && rc->keep.n; k++) {
        uint64_t sb = rc->vr.kids[k].sb, se = sb + rc->vr.kids[k].ss;
        rc_keep_invalidate_range(&rc->keep, sb / DISA_PAGE,
                                 (se + DISA_PAGE - 1) / DISA_PAGE);
    }
    rc_keep_each_marked(&rc->keep, diff_kept, &c);
    if (c.err)
        return c.err;
    return write_frames(rc, res);
}
