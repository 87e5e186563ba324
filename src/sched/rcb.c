/*
 * rcb.c -- runner records, their queues, rings and pool (see rcb.h for
 * where a record can be and why a result names a ring's oldest).
 */
#include <assert.h>

#include "sched/rcb.h"
#include "util/alloc.h"

/* Notes r (or, r NULL, run id rid gone) in p's journal. */
static void journal_note(rcb_pool *p, uint64_t rid, rcb *r, size_t *jslot)
{
    if (!p || !p->journaling)
        return;
    if (*jslot) {
        p->journal[*jslot - 1].r = r;
        return;
    }
    rcb_jent *j = dvm_grow(p->journal, &p->capjournal, p->njournal + 1,
                           sizeof *j);
    if (!j) {
        p->journal_oom = 1;
        return;
    }
    p->journal = j;
    p->journal[p->njournal++] = (rcb_jent){ rid, r };
    *jslot = p->njournal;
}

rcb *rcb_new(rcb_pool *p)
{
    rcb *r = dvm_calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->rid = p->next_rid++;
    r->pool = p;
    rcb_touch(r);
    return r;
}

void rcb_touch(rcb *r)
{
    journal_note(r->pool, r->rid, r, &r->jslot);
}

void rcb_free(rcb *r)
{
    if (!r)
        return;
    size_t jslot = r->jslot;
    journal_note(r->pool, r->rid, NULL, &jslot);
    runner_desc_free(&r->d);
    dvm_free(r);
}

int rcb_is_watching(const rcb_pool *p, const rcb *r)
{
    return r->wprev || r->wnext || p->watching == r;
}

void rcb_journal_start(rcb_pool *p)
{
    p->journaling = 1;
}

void rcb_journal_clear(rcb_pool *p)
{
    for (size_t i = 0; i < p->njournal; i++)
        if (p->journal[i].r)
            p->journal[i].r->jslot = 0;
    p->njournal = 0;
    p->journal_oom = 0;
}

void rcb_push(rcb_queue *q, rcb *r)
{
    assert(r && !r->wprev && !r->wnext);
    r->next = NULL;
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
    q->n++;
}

void rcb_push_front(rcb_queue *q, rcb *r)
{
    assert(r);
    r->next = q->head;
    q->head = r;
    if (!q->tail)
        q->tail = r;
    q->n++;
}

rcb *rcb_pop(rcb_queue *q)
{
    rcb *r = q->head;
    if (!r)
        return NULL;
    assert(q->n > 0);
    q->head = r->next;
    if (!q->head)
        q->tail = NULL;
    q->n--;
    r->next = NULL;
    return r;
}

rcb *rcb_take_after(rcb_queue *q, rcb *prev)
{
    if (!prev)
        return rcb_pop(q);
    rcb *r = prev->next;
    assert(r && q->n > 0);
    prev->next = r->next;
    if (q->tail == r)
        q->tail = prev;
    q->n--;
    r->next = NULL;
    return r;
}

rcb *rcb_peek_preferred(const rcb_queue *q, size_t look,
                        int (*score)(void *arg, const rcb *r), void *arg,
                        rcb **prev)
{
    rcb *p = NULL, *best_prev = NULL;
    int best = 0;
    size_t k = 0;
    for (rcb *r = q->head; r && k < look && best < 2;
         p = r, r = r->next, k++) {
        int a = score(arg, r);
        assert(a >= 0 && a <= 2);
        if (a > best) {
            best = a;
            best_prev = p;
        }
    }
    *prev = best_prev;
    return !q->head ? NULL : best_prev ? best_prev->next : q->head;
}

void rcb_queue_free(rcb_queue *q)
{
    rcb *r;
    while ((r = rcb_pop(q)))
        rcb_free(r);
    assert(q->n == 0 && !q->tail);
}

void rcb_ring_push(rcb_ring *g, rcb *r)
{
    assert(g->n < RCB_RING_MAX);
    g->slot[(g->head + g->n++) % RCB_RING_MAX] = r;
}

void rcb_ring_push_front(rcb_ring *g, rcb *r)
{
    assert(g->n < RCB_RING_MAX);
    g->head = (g->head + RCB_RING_MAX - 1) % RCB_RING_MAX;
    g->slot[g->head] = r;
    g->n++;
}

rcb *rcb_ring_at(const rcb_ring *g, size_t k)
{
    assert(k < g->n);
    return g->slot[(g->head + k) % RCB_RING_MAX];
}

rcb *rcb_ring_pop(rcb_ring *g)
{
    if (g->n == 0)
        return NULL;
    rcb *r = g->slot[g->head];
    g->head = (g->head + 1) % RCB_RING_MAX;
    g->n--;
    return r;
}

rcb *rcb_ring_pop_newest(rcb_ring *g)
{
    if (g->n == 0)
        return NULL;
    g->n--;
    return g->slot[(g->head + g->n) % RCB_RING_MAX];
}

rcb *rcb_ring_pop_rid(rcb_ring *g, uint64_t rid)
{
    if (g->n == 0 || g->slot[g->head]->rid != rid)
        return NULL;
    return rcb_ring_pop(g);
}

rcb *rcb_ring_take(rcb_ring *g, size_t k)
{
    assert(k < g->n);
    rcb *r = rcb_ring_at(g, k);
    for (size_t j = k; j + 1 < g->n; j++)
        g->slot[(g->head + j) % RCB_RING_MAX] =
            g->slot[(g->head + j + 1) % RCB_RING_MAX];
    g->n--;
    return r;
}

const rcb *rcb_ring_find(const rcb_ring *g, uint64_t rid)
{
    for (size_t k = 0; k < g->n; k++)
        if (rcb_ring_at(g, k)->rid == rid)
            return rcb_ring_at(g, k);
    return NULL;
}

uint64_t rcb_ring_oldest_snap(const rcb_ring *g, uint64_t bound)
{
    for (size_t k = 0; k < g->n; k++) {
        uint64_t s = rcb_ring_at(g, k)->snap;
        if (s < bound)
            bound = s;
    }
    return bound;
}

void rcb_pool_init(rcb_pool *p)
{
    *p = (rcb_pool){ .next_rid = 1 };
    p->made = &p->ready;
}

void rcb_pool_destroy(rcb_pool *p)
{
    p->journaling = 0;
    dvm_free(p->journal);
    p->journal = NULL;
    p->njournal = p->capjournal = 0;
    rcb_queue_free(&p->ready);
    rcb_queue_free(&p->exclusive);
    rcb_queue_free(&p->unstable);
    p->nseen = 0;
    p->tagged = NULL;
    while (p->watching) {
        rcb *w = p->watching;
        rcb_pool_unwatch(p, w);
        rcb_free(w);
    }
    assert(p->nwatching == 0);
}

void rcb_pool_requeue(rcb_pool *p, rcb *r)
{
    if (r == p->running_exclusive) {
        p->running_exclusive = NULL;
        rcb_push_front(&p->exclusive, r);
    } else {
        rcb_push_front(&p->ready, r);
    }
}

void rcb_pool_retry(rcb_pool *p, rcb *r, uint32_t limit)
{
    /* A runner that conflicted cannot have been running alone: nothing
     * ran beside it to conflict with. */
    assert(r != p->running_exclusive);
    r->attempt++;
    rcb_touch(r);
    rcb_push(r->attempt >= limit ? &p->exclusive : p->made, r);
}

void rcb_pool_gate(rcb_pool *p)
{
    p->gated = 1;
    p->made = &p->unstable;
}

/* Notes `epoch` as the one the runners put in unstable since the last
 * release (after p->tagged) wait for. */
static void tag_new(rcb_pool *p, uint64_t epoch)
{
    rcb *r = p->tagged ? p->tagged->next : p->unstable.head;
    assert(!p->tagged || p->tagged->need <= epoch);
    for (; r; r = r->next)
        r->need = epoch;
    p->tagged = p->unstable.tail;
}

void rcb_pool_hold(rcb_pool *p, rcb *r, uint64_t epoch)
{
    assert(p->gated);
    tag_new(p, epoch);
    r->need = epoch;
    rcb_push(&p->unstable, r);
    p->tagged = r;
}

uint64_t rcb_pool_release(rcb_pool *p, uint64_t stable, uint64_t newest)
{
    assert(p->gated && p->nseen <= p->unstable.n && stable <= newest);
    tag_new(p, newest);
    if (stable > p->snap)
        p->snap = stable;
    while (p->unstable.head && p->unstable.head->need <= p->snap) {
        if (p->nseen) {
            p->nseen--;
            p->waited++;
        }
        rcb *r = rcb_pop(&p->unstable);
        if (r == p->tagged)
            p->tagged = NULL;
        rcb_push(&p->ready, r);
    }
    p->nseen = p->unstable.n;
    return p->snap;
}

void rcb_pool_done(rcb_pool *p, const rcb *r)
{
    if (r == p->running_exclusive)
        p->running_exclusive = NULL;
}

void rcb_pool_watch(rcb_pool *p, rcb *w)
{
    assert(w->d.nwatch > 0 && !w->wprev && !w->wnext && p->watching != w);
    w->wprev = NULL;
    w->wnext = p->watching;
    if (p->watching)
        p->watching->wprev = w;
    p->watching = w;
    p->nwatching++;
    rcb_touch(w);
}

void rcb_pool_unwatch(rcb_pool *p, rcb *w)
{
    assert(p->nwatching > 0);
    if (w->wprev)
        w->wprev->wnext = w->wnext;
    else
        p->watching = w->wnext;
    if (w->wnext)
        w->wnext->wprev = w->wprev;
    w->wprev = w->wnext = NULL;
    p->nwatching--;
    rcb_touch(w);
}
