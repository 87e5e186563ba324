/*
 * persist.c -- the master's state as records (see persist.h for what is
 * saved and what is rebuilt on a restore).
 */
#include "sched/persist.h"

#include <assert.h>
#include <string.h>

#include "isa/isa.h"
#include "util/alloc.h"

/* ---- saving -------------------------------------------------------------- */

static persist_runner record_of(const rcb_pool *p, const rcb *r)
{
    return (persist_runner){ .rid = r->rid, .attempt = r->attempt,
                             .watch_from = r->watch_from, .lost = r->lost,
                             .watching = (uint32_t)rcb_is_watching(p, r),
                             .d = r->d };
}

static size_t each_queued(const rcb_pool *p, const rcb_queue *q,
                          persist_runner_fn fn, void *arg)
{
    size_t n = 0;
    for (const rcb *r = q->head; r; r = r->next, n++) {
        persist_runner pr = record_of(p, r);
        fn(arg, &pr);
    }
    return n;
}

size_t persist_each_runner(const commit_point *cp, const rcomp_set *rs,
                           persist_runner_fn fn, void *arg)
{
    const rcb_pool *p = cp->pool;
    size_t n = each_queued(p, &p->ready, fn, arg) +
               each_queued(p, &p->exclusive, fn, arg) +
               each_queued(p, &p->unstable, fn, arg);
    for (const rcb *w = p->watching; w; w = w->wnext, n++) {
        persist_runner pr = record_of(p, w);
        fn(arg, &pr);
    }
    for (int i = 0; i < rs->nrc; i++)
        for (size_t k = 0; k < rs->rc[i].inflight.n; k++, n++) {
            persist_runner pr = record_of(p, rcb_ring_at(&rs->rc[i].inflight,
                                                         k));
            fn(arg, &pr);
        }
    return n;
}

void persist_journal_start(commit_point *cp)
{
    rcb_journal_clear(cp->pool);
    rcb_journal_start(cp->pool);
}

int persist_journal_drain(commit_point *cp, persist_runner_fn put,
                          void (*gone)(void *arg, uint64_t rid), void *arg)
{
    rcb_pool *p = cp->pool;
    assert(p->journaling && put && gone);
    int lost = p->journal_oom;
    for (size_t i = 0; i < p->njournal && !lost; i++) {
        const rcb_jent *j = &p->journal[i];
        if (!j->r) {
            gone(arg, j->rid);
            continue;
        }
        persist_runner pr = record_of(p, j->r);
        put(arg, &pr);
    }
    rcb_journal_clear(p);
    return lost ? -1 : 0;
}

typedef struct pages_ctx {
    const commit_point *cp;
    persist_page_fn fn;
    void *arg;
    size_t calls;
} pages_ctx;

/* Gives out the newest version of page (a version without a frame reads
 * as zeros; one whose data is away, as NULL). */
static void page_newest(void *arg, uint64_t page)
{
    static const uint8_t zeros[DISA_PAGE];
    pages_ctx *c = arg;
    uint32_t f;
    mem_space *s = c->cp->space;
    uint64_t e = space_lookup_version(s, page, space_epoch(s), &f);
    if (!e)
        return;
    assert(e <= space_epoch(s));
    c->fn(c->arg, page, e, f == SPACE_FRAME_AWAY ? NULL
                           : f ? store_frame(c->cp->store, f) : zeros);
    c->calls++;
}

static void page_visible(void *arg, uint64_t page, uint32_t frame)
{
    (void)frame;
    page_newest(arg, page);
}

size_t persist_pages_since(const commit_point *cp, uint64_t after,
                           persist_page_fn fn, void *arg)
{
    pages_ctx c = { cp, fn, arg, 0 };
    mem_space *s = cp->space;
    uint64_t now = space_epoch(s);
    if (after && after <= now &&
        space_pages_changed(s, after, now, SIZE_MAX - 1, page_newest, &c) !=
            SIZE_MAX)
        return c.calls;
    c.calls = 0;
    space_visible_pages(s, 0, DISA_ADDR_LIMIT / DISA_PAGE, now, SIZE_MAX,
                        page_visible, &c);
    return c.calls;
}

/* ---- restoring ----------------------------------------------------------- */

dvm_status persist_restore_page(commit_point *cp, uint64_t page,
                                uint64_t epoch, const uint8_t *data)
{
    assert(cp && data);
    if (!DISA_SR_PAGE(page))
        return status_set(DVM_EINVAL, "a saved page outside the SR (%llu)",
                          (unsigned long long)page);
    uint32_t f;
    if (store_alloc(cp->store, &f))
        return status_set(DVM_ENOMEM, "frame store full");
    memcpy(store_frame(cp->store, f), data, DISA_PAGE);
    dvm_status st = space_restore(cp->space, page, epoch, f);
    if (st)
        store_release(cp->store, f);
    return st;
}

/* Claims r's stack if the DVM chose it. */
static dvm_status claim_stack(commit_point *cp, const runner_desc *d)
{
    if (!(d->flags & RUNNER_STACK_CHOSEN))
        return DVM_OK;
    return stacks_claim(cp->stacks, d->sb, runner_stack_order(d->ss),
                        STACKS_RUNNER);
}

/* Places restored record r: the watcher index, or a queue. */
static dvm_status place_runner(commit_point *cp, rcb *r, int watching)
{
    if (!watching) {
        rcb_push(r->attempt >= COMMIT_CONFLICT_LIMIT ? &cp->pool->exclusive
                                                     : &cp->pool->ready, r);
        return DVM_OK;
    }
    dvm_status st = watch_add(cp->watchers, (uint64_t)(uintptr_t)r,
                              r->d.watch, r->d.nwatch);
    if (!st)
        rcb_pool_watch(cp->pool, r);
    return st;
}

dvm_status persist_restore_runner(commit_point *cp, persist_runner *pr)
{
    /* Restores precede the journal: rcb_new would note the record under
     * the run id it is about to lose. */
    assert(!cp->pool->journaling);
    if (!runner_desc_valid(&pr->d) || pr->rid == 0 ||
        pr->watching > 1 || (pr->watching && pr->d.nwatch == 0))
        return status_set(DVM_EINVAL, "saved runner %llu: bad descriptor",
                          (unsigned long long)pr->rid);
    dvm_status st = claim_stack(cp, &pr->d);
    if (st)
        return status_set(st, "saved runner %llu: %s",
                          (unsigned long long)pr->rid, status_message());
    rcb *r = rcb_new(cp->pool);
    if (!r) {
        if (pr->d.flags & RUNNER_STACK_CHOSEN)
            stacks_free(cp->stacks, pr->d.sb);
        return status_set(DVM_ENOMEM, "out of memory");
    }
    assert(r->rid + 1 == cp->pool->next_rid);
    cp->pool->next_rid--;
    r->rid = pr->rid;
    r->attempt = pr->attempt;
    r->watch_from = pr->watch_from;
    r->lost = pr->lost;
    r->d = pr->d;
    memset(&pr->d, 0, sizeof pr->d);
    if (pr->rid >= cp->pool->next_rid)
        cp->pool->next_rid = pr->rid + 1;
    st = place_runner(cp, r, (int)pr->watching);
    if (st) {
        pr->d = r->d;
        memset(&r->d, 0, sizeof r->d);
        commit_runner_done(cp, r);
        if (pr->d.flags & RUNNER_STACK_CHOSEN)
            stacks_free(cp->stacks, pr->d.sb);
    }
    return st;
}

dvm_status persist_restore_done(commit_point *cp, uint64_t epoch,
                                uint64_t next_rid)
{
    if (next_rid < cp->pool->next_rid)
        return status_set(DVM_EINVAL, "saved run id %llu is older than a "
                          "saved runner's", (unsigned long long)next_rid);
    cp->pool->next_rid = next_rid;
    return space_restore_epoch(cp->space, epoch);
}
