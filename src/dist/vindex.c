/*
 * vindex.c -- the master's index of homed versions: one array of
 * entries, walked whole when the nodes change or dead versions are
 * collected (both rare next to commits), appended to on commits, and an
 * open-addressing table (linear probing, at most half full) from name to
 * entry for acknowledgements, rebuilt when it grows or the array is
 * compacted.
 *
 * The stable epoch comes from a second, small array: the epochs that
 * still have versions waiting for acks, ascending, each with its count
 * (commits arrive in epoch order, so it is appended to and consumed from
 * its front; its first epoch bounds the stable one).
 */
#include "dist/vindex.h"

#include <assert.h>
#include <string.h>

#include "util/alloc.h"

void vindex_init(vindex *x)
{
    memset(x, 0, sizeof *x);
}

void vindex_free(vindex *x)
{
    dvm_free(x->e);
    dvm_free(x->tab);
    dvm_free(x->pep);
    dvm_free(x->pcnt);
    vindex_init(x);
}

void vindex_clear(vindex *x)
{
    x->n = 0;
    if (x->tab)
        memset(x->tab, 0, x->tcap * sizeof *x->tab);
    x->phead = x->pn = 0;
}

/* ---- the epochs waiting for acks --------------------------------------- */

/* Index in [phead, pn) of the first waiting epoch >= epoch (pn: none). */
static size_t pend_find(const vindex *x, uint64_t epoch)
{
    size_t lo = x->phead, hi = x->pn;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->pep[mid] < epoch)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* One more version of epoch waits.  DVM_ENOMEM. */
static dvm_status pend_inc(vindex *x, uint64_t epoch)
{
    size_t i = pend_find(x, epoch);
    if (i < x->pn && x->pep[i] == epoch) {
        x->pcnt[i]++;
        return DVM_OK;
    }
    if (x->phead && x->pn == x->pcap) {    /* reuse the consumed front */
        memmove(x->pep, x->pep + x->phead, (x->pn - x->phead) * sizeof *x->pep);
        memmove(x->pcnt, x->pcnt + x->phead,
                (x->pn - x->phead) * sizeof *x->pcnt);
        x->pn -= x->phead;
        i -= x->phead;
        x->phead = 0;
    }
    size_t cap = x->pcap;
    uint64_t *ep = dvm_grow(x->pep, &cap, x->pn + 1, sizeof *ep);
    if (!ep)
        return status_set(DVM_ENOMEM, "out of memory");
    x->pep = ep;
    cap = x->pcap;
    uint32_t *cnt = dvm_grow(x->pcnt, &cap, x->pn + 1, sizeof *cnt);
    if (!cnt)
        return status_set(DVM_ENOMEM, "out of memory");
    x->pcnt = cnt;
    x->pcap = cap;
    memmove(x->pep + i + 1, x->pep + i, (x->pn - i) * sizeof *x->pep);
    memmove(x->pcnt + i + 1, x->pcnt + i, (x->pn - i) * sizeof *x->pcnt);
    x->pep[i] = epoch;
    x->pcnt[i] = 1;
    x->pn++;
    return DVM_OK;
}

/* A version of epoch waits no more; epochs left with none are removed
 * from the front. */
static void pend_dec(vindex *x, uint64_t epoch)
{
    size_t i = pend_find(x, epoch);
    assert(i < x->pn && x->pep[i] == epoch && x->pcnt[i] > 0);
    x->pcnt[i]--;
    while (x->phead < x->pn && !x->pcnt[x->phead])
        x->phead++;
    if (x->phead == x->pn)
        x->phead = x->pn = 0;
}

/* e waits for no ack any more (all came, or no more are awaited). */
static void ent_settle(vindex *x, vindex_ent *e)
{
    if (e->wait && (e->acked & e->wait) == e->wait) {
        e->wait = 0;
        pend_dec(x, e->epoch);
    }
}

uint64_t vindex_stable(const vindex *x, uint64_t placed)
{
    for (size_t i = x->phead; i < x->pn; i++)
        if (x->pcnt[i]) {
            uint64_t below = x->pep[i] ? x->pep[i] - 1 : 0;
            return below < placed ? below : placed;
        }
    return placed;
}

uint64_t vindex_waiting(const vindex *x)
{
    uint64_t n = 0;
    for (size_t i = x->phead; i < x->pn; i++)
        n += x->pcnt[i];
    return n;
}

static size_t slot_of(const vindex *x, uint64_t page, uint64_t epoch)
{
    uint64_t h = page * 0x9E3779B97F4A7C15ULL ^ epoch * 0xC2B2AE3D27D4EB4FULL;
    return (size_t)(h >> 20) & (x->tcap - 1);
}

static void tab_put(vindex *x, size_t idx)
{
    size_t i = slot_of(x, x->e[idx].page, x->e[idx].epoch);
    while (x->tab[i])
        i = (i + 1) & (x->tcap - 1);
    x->tab[i] = (uint32_t)idx + 1;
}

/* Rebuilds the table for the entries, with room for at least want. */
static dvm_status tab_rebuild(vindex *x, size_t want)
{
    size_t cap = x->tcap ? x->tcap : 1024;
    while (cap < 2 * want + 2)
        cap *= 2;
    if (cap != x->tcap) {
        uint32_t *t = dvm_calloc(cap, sizeof *t);
        if (!t)
            return status_set(DVM_ENOMEM, "out of memory");
        dvm_free(x->tab);
        x->tab = t;
        x->tcap = cap;
    } else {
        memset(x->tab, 0, cap * sizeof *x->tab);
    }
    for (size_t i = 0; i < x->n; i++)
        tab_put(x, i);
    return DVM_OK;
}

static vindex_ent *find(const vindex *x, uint64_t page, uint64_t epoch)
{
    if (!x->tcap)
        return NULL;
    for (size_t i = slot_of(x, page, epoch); x->tab[i];
         i = (i + 1) & (x->tcap - 1)) {
        vindex_ent *e = &x->e[x->tab[i] - 1];
        if (e->page == page && e->epoch == epoch)
            return e;
    }
    return NULL;
}

dvm_status vindex_add(vindex *x, uint64_t page, uint64_t epoch,
                      const vindex_ops *ops)
{
    if (!x->nids || find(x, page, epoch))
        return DVM_OK;
    vindex_ent *e = dvm_grow(x->e, &x->cap, x->n + 1, sizeof *e);
    if (!e)
        return status_set(DVM_ENOMEM, "out of memory");
    x->e = e;
    if (2 * (x->n + 1) + 2 > x->tcap && tab_rebuild(x, x->n + 1))
        return DVM_ENOMEM;
    if (pend_inc(x, epoch))
        return DVM_ENOMEM;
    e = &x->e[x->n++];
    e->page = page;
    e->epoch = epoch;
    e->acked = 0;
    e->wait = 0;
    e->released = 0;
    e->nformer = 0;
    e->nhold = (uint32_t)home_pick(page, x->ids, x->nids, e->hold);
    tab_put(x, x->n - 1);
    for (uint32_t i = 0; i < e->nhold; i++)
        if (ops->store(ops->arg, e->hold[i], page, epoch))
            e->wait |= 1u << i;
    if (!e->wait)
        pend_dec(x, epoch);
    return DVM_OK;
}

/* 1 when every holder of e acknowledged keeping it. */
static int all_kept(const vindex_ent *e)
{
    return e->nhold && e->acked == (1u << e->nhold) - 1;
}

/* e's former holders are told to drop it, once its holders all keep it
 * (before, a new holder may still have to fetch it from them). */
static void formers_release(vindex_ent *e, const vindex_ops *ops)
{
    if (!all_kept(e))
        return;
    for (uint32_t j = 0; j < e->nformer; j++)
        ops->drop(ops->arg, e->former[j], e->page, e->epoch);
    e->nformer = 0;
}

/* Node id, a holder of e given up, keeps it as a former holder (the
 * oldest former holder is told to drop it when there is no room). */
static void former_add(vindex_ent *e, uint64_t id, const vindex_ops *ops)
{
    if (e->nformer == VINDEX_FORMER) {
        ops->drop(ops->arg, e->former[0], e->page, e->epoch);
        memmove(e->former, e->former + 1,
                (VINDEX_FORMER - 1) * sizeof *e->former);
        e->nformer--;
    }
    e->former[e->nformer++] = id;
}

/* The former holders of e still among ids[0, n) and not in h[0, k)
 * (those lost went with their copies; those that hold it again are
 * holders).  Returns how many are left. */
static uint32_t formers_keep(vindex_ent *e, const uint64_t *ids, size_t n,
                             const uint64_t *h, size_t k)
{
    uint32_t w = 0;
    for (uint32_t j = 0; j < e->nformer; j++)
        if (home_has(ids, n, e->former[j]) && !home_has(h, k, e->former[j]))
            e->former[w++] = e->former[j];
    return e->nformer = w;
}

/* Places e again over ids[0, n) (vindex_set_nodes).  Returns the copies
 * stored at new holders. */
static size_t ent_place(vindex *x, vindex_ent *e, const uint64_t *ids,
                        size_t n, const vindex_ops *ops)
{
    uint64_t h[HOME_COPIES];
    size_t k = home_pick(e->page, ids, n, h), copies = 0;
    uint32_t acked = 0, wait = 0, left = 0;
    for (uint32_t j = 0; j < e->nhold; j++)
        left += home_has(ids, n, e->hold[j]);
    /* A former holder counts while it still homes pages: a new holder
     * that lacks the version asks its holders, then every homing node
     * (dist/nhome.c, route_list). */
    for (uint32_t j = 0; j < e->nformer; j++)
        left += home_has(ids, n, e->former[j]);
    if ((e->nhold || e->nformer) && !left)
        ops->lost(ops->arg, e->page, e->epoch);
    (void)formers_keep(e, ids, n, h, k);
    for (size_t j = 0; j < k; j++) {
        for (uint32_t o = 0; o < e->nhold; o++)
            if (e->hold[o] == h[j]) {
                acked |= (e->acked >> o & 1) << j;
                wait |= (e->wait >> o & 1) << j;
            }
        if (!home_has(e->hold, e->nhold, h[j])) {
            /* a new holder: a waiting version waits for it too */
            if (ops->store(ops->arg, h[j], e->page, e->epoch) && e->wait)
                wait |= 1u << j;
            copies++;
        }
    }
    for (uint32_t j = 0; j < e->nhold; j++)
        if (!home_has(h, k, e->hold[j]) && home_has(ids, n, e->hold[j]))
            former_add(e, e->hold[j], ops);
    memcpy(e->hold, h, k * sizeof *h);
    e->nhold = (uint32_t)k;
    e->acked = acked;
    if (e->wait && !wait) {
        e->wait = 0;
        pend_dec(x, e->epoch);
    } else if (e->wait) {
        e->wait = wait;
        ent_settle(x, e);
    }
    formers_release(e, ops);
    return copies;
}

size_t vindex_set_nodes(vindex *x, const uint64_t *ids, size_t n,
                        const vindex_ops *ops)
{
    size_t copies = 0;
    assert(n <= VINDEX_MAX_NODES);
    if (n)                      /* ids may be NULL when no node is left */
        memcpy(x->ids, ids, n * sizeof *ids);
    x->nids = n;
    for (size_t i = 0; i < x->n; i++)
        copies += ent_place(x, &x->e[i], ids, n, ops);
    return copies;
}

void vindex_gc(vindex *x, const vindex_ops *ops)
{
    size_t w = 0;
    for (size_t i = 0; i < x->n; i++) {
        vindex_ent *e = &x->e[i];
        if (ops->alive(ops->arg, e->page, e->epoch)) {
            x->e[w++] = *e;
            continue;
        }
        for (uint32_t j = 0; j < e->nhold; j++)
            ops->drop(ops->arg, e->hold[j], e->page, e->epoch);
        for (uint32_t j = 0; j < e->nformer; j++)
            ops->drop(ops->arg, e->former[j], e->page, e->epoch);
        if (e->wait)
            pend_dec(x, e->epoch);
    }
    x->n = w;
    if (x->tcap)
        (void)tab_rebuild(x, w);        /* same size: cannot fail */
}

/* 1 when e is kept by every one of HOME_COPIES holders. */
static int replicated(const vindex_ent *e)
{
    return e->nhold == HOME_COPIES &&
           e->acked == (1u << HOME_COPIES) - 1;
}

int vindex_kept(const vindex *x, uint64_t page, uint64_t epoch)
{
    const vindex_ent *e = find(x, page, epoch);
    return e && e->acked;
}

int vindex_ack(vindex *x, uint64_t node, uint64_t page, uint64_t epoch,
               const vindex_ops *ops)
{
    vindex_ent *e = find(x, page, epoch);
    if (!e || replicated(e))
        return 0;
    for (uint32_t j = 0; j < e->nhold; j++)
        if (e->hold[j] == node)
            e->acked |= 1u << j;
    ent_settle(x, e);
    formers_release(e, ops);
    return replicated(e);
}

int vindex_kept_by(const vindex *x, uint64_t page, uint64_t epoch,
                   uint64_t node)
{
    const vindex_ent *e = find(x, page, epoch);
    for (uint32_t j = 0; e && j < e->nhold; j++)
        if (e->hold[j] == node)
            return e->acked >> j & 1;
    return 0;
}

void vindex_each(const vindex *x, int want,
                 void (*fn)(void *arg, uint64_t page, uint64_t epoch),
                 void *arg)
{
    for (size_t i = 0; i < x->n; i++)
        if (replicated(&x->e[i]) == !!want)
            fn(arg, x->e[i].page, x->e[i].epoch);
}

void vindex_release_replicated(vindex *x,
                               int (*fn)(void *arg, uint64_t page,
                                         uint64_t epoch),
                               void *arg)
{
    assert(x && fn);
    for (size_t i = 0; i < x->n; i++) {
        vindex_ent *e = &x->e[i];
        if (!e->released && replicated(e))
            e->released = (uint32_t)fn(arg, e->page, e->epoch);
    }
}

void vindex_each_only_at(const vindex *x, uint64_t node,
                         void (*fn)(void *arg, uint64_t page, uint64_t epoch),
                         void *arg)
{
    for (size_t i = 0; i < x->n; i++) {
        const vindex_ent *e = &x->e[i];
        uint32_t mine = 0;
        for (uint32_t j = 0; j < e->nhold; j++)
            if (e->hold[j] == node)
                mine |= 1u << j;
        if (mine && (e->acked & mine) && !(e->acked & ~mine))
            fn(arg, e->page, e->epoch);
    }
}
