/*
 * watch.c -- the watcher pool index: an interval treap.
 *
 * Every watched range is a node of one treap (a binary search tree on the
 * key (lo, node number), heap-ordered on a priority), augmented with maxhi,
 * the largest hi in the node's subtree.  A stabbing query for [lo, hi)
 * skips every subtree whose maxhi <= lo and, thanks to the order on lo,
 * everything right of a node whose lo >= hi; with the treap's expected
 * O(log n) depth that gives O(log n + hits) per query for the short ranges
 * watchers use, and O(min(n, hits * log n)) in general.
 *
 * Nodes live in one array and refer to each other by 32-bit index (0 is
 * nil), which halves the pointers' size: a million watchers with two ranges
 * cost about 80 MiB of nodes.  A node's priority is a hash of its index, so
 * it needs no field and stays independent of the keys, which is all a treap
 * needs.  Freed nodes are chained through `left` for reuse.
 *
 * A watcher is a record {id, first node, mark}, its ranges' nodes chained
 * through `wnext`.  An open-addressing hash maps the id to the record.
 * One query reports a watcher once: a hit stamps the record with the
 * query's sequence number and later hits of the same watcher see the stamp.
 *
 * Callbacks may remove (and add) watchers, which reshapes the tree, so a
 * query first collects the ids it hits into `hits` and only then calls back,
 * skipping ids that a callback has removed meanwhile.  `hits` is kept at
 * least as long as the number of watchers by watch_add, so a query never
 * allocates and cannot fail.
 */
#include "sched/watch.h"

#include <assert.h>
#include <string.h>

#include "util/alloc.h"

typedef struct watch_node {
    uint64_t lo, hi, maxhi;
    uint32_t left, right;       /* children; left chains free nodes */
    uint32_t owner;             /* record index */
    uint32_t wnext;             /* next range of the same watcher */
} watch_node;

typedef struct watch_rec {
    uint64_t id;
    uint32_t first;             /* first node; next free record if free */
    uint32_t mark;              /* sequence number of the last query hit */
} watch_rec;

struct watch_index {
    watch_node *nodes;          /* nodes[0] is nil */
    size_t nnodes, cap_nodes;
    uint32_t free_nodes, root;
    watch_rec *recs;
    size_t nrecs, cap_recs;
    uint32_t free_recs;         /* record index + 1, 0: none */
    uint32_t *hash;             /* record index + 1, 0: empty */
    size_t hcap, count;
    uint64_t *hits;
    size_t cap_hits;
    uint32_t qseq;
    int in_query;
};

#define W(i) (w->nodes[(i)])

/* ---- id hash ------------------------------------------------------------- */

static size_t id_hash(const watch_index *w, uint64_t id)
{
    return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 20) & (w->hcap - 1);
}

/* Hash slot holding id, or the empty slot where it would go. */
static size_t id_slot(const watch_index *w, uint64_t id)
{
    size_t i = id_hash(w, id);
    while (w->hash[i] && w->recs[w->hash[i] - 1].id != id)
        i = (i + 1) & (w->hcap - 1);
    return i;
}

/* Grows the hash so that one more id fits at load <= 1/2. */
static dvm_status id_reserve(watch_index *w)
{
    if ((w->count + 1) * 2 <= w->hcap)
        return DVM_OK;
    size_t cap = w->hcap * 2, oldcap = w->hcap;
    uint32_t *old = w->hash;
    w->hash = dvm_calloc(cap, sizeof *w->hash);
    if (!w->hash) {
        w->hash = old;
        return status_set(DVM_ENOMEM, "watch: id hash");
    }
    w->hcap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i])
            w->hash[id_slot(w, w->recs[old[i] - 1].id)] = old[i];
    dvm_free(old);
    return DVM_OK;
}

/* Empties slot i, shifting later members of its probe run back (linear
 * probing without tombstones). */
static void id_delete(watch_index *w, size_t i)
{
    size_t mask = w->hcap - 1, j = i;
    w->hash[i] = 0;
    for (;;) {
        j = (j + 1) & mask;
        if (!w->hash[j])
            return;
        size_t home = id_hash(w, w->recs[w->hash[j] - 1].id);
        /* Move j to the hole i unless its home lies cyclically in (i, j]. */
        if ((j > i && (home <= i || home > j)) ||
            (j < i && (home <= i && home > j))) {
            w->hash[i] = w->hash[j];
            w->hash[j] = 0;
            i = j;
        }
    }
}

/* ---- treap --------------------------------------------------------------- */

/* Priority of node i: a hash of its index. */
static uint32_t prio(uint32_t i)
{
    uint32_t x = i * 0x9E3779B1u;
    x ^= x >> 16;
    x *= 0x85EBCA6Bu;
    x ^= x >> 13;
    return x;
}

/* True when node a sorts before node b. */
static int node_less(const watch_index *w, uint32_t a, uint32_t b)
{
    return W(a).lo < W(b).lo || (W(a).lo == W(b).lo && a < b);
}

/* Recomputes maxhi of node t from its children. */
static void node_update(watch_index *w, uint32_t t)
{
    uint64_t m = W(t).hi;
    if (W(t).left && W(W(t).left).maxhi > m)
        m = W(W(t).left).maxhi;
    if (W(t).right && W(W(t).right).maxhi > m)
        m = W(W(t).right).maxhi;
    W(t).maxhi = m;
}

/* Splits tree t into nodes before x (*l) and after x (*r). */
static void tr_split(watch_index *w, uint32_t t, uint32_t x, uint32_t *l,
                     uint32_t *r)
{
    if (!t) {
        *l = *r = 0;
    } else if (node_less(w, t, x)) {
        tr_split(w, W(t).right, x, &W(t).right, r);
        node_update(w, t);
        *l = t;
    } else {
        tr_split(w, W(t).left, x, l, &W(t).left);
        node_update(w, t);
        *r = t;
    }
}

/* Joins trees a and b, every node of a before every node of b. */
static uint32_t tr_merge(watch_index *w, uint32_t a, uint32_t b)
{
    if (!a || !b)
        return a ? a : b;
    if (prio(a) > prio(b)) {
        W(a).right = tr_merge(w, W(a).right, b);
        node_update(w, a);
        return a;
    }
    W(b).left = tr_merge(w, a, W(b).left);
    node_update(w, b);
    return b;
}

/* Inserts node x into tree t; returns the new root. */
static uint32_t tr_insert(watch_index *w, uint32_t t, uint32_t x)
{
    if (!t)
        return x;
    if (prio(x) > prio(t)) {
        tr_split(w, t, x, &W(x).left, &W(x).right);
        node_update(w, x);
        return x;
    }
    if (node_less(w, x, t))
        W(t).left = tr_insert(w, W(t).left, x);
    else
        W(t).right = tr_insert(w, W(t).right, x);
    node_update(w, t);
    return t;
}

/* Removes node x from tree t; returns the new root. */
static uint32_t tr_delete(watch_index *w, uint32_t t, uint32_t x)
{
    assert(t);
    if (t == x)
        return tr_merge(w, W(t).left, W(t).right);
    if (node_less(w, x, t))
        W(t).left = tr_delete(w, W(t).left, x);
    else
        W(t).right = tr_delete(w, W(t).right, x);
    node_update(w, t);
    return t;
}

/* ---- create / destroy ---------------------------------------------------- */

dvm_status watch_index_create(watch_index **out)
{
    assert(out);
    watch_index *w = dvm_calloc(1, sizeof *w);
    if (!w)
        goto err_index;
    w->hcap = 64;
    w->hash = dvm_calloc(w->hcap, sizeof *w->hash);
    if (!w->hash)
        goto err_hash;
    w->nodes = dvm_calloc(1, sizeof *w->nodes);
    if (!w->nodes)
        goto err_nodes;
    w->nnodes = w->cap_nodes = 1;       /* nil */
    w->qseq = 1;
    *out = w;
    return DVM_OK;
err_nodes:
    dvm_free(w->hash);
err_hash:
    dvm_free(w);
err_index:
    return status_set(DVM_ENOMEM, "watch: out of memory");
}

void watch_index_destroy(watch_index *w)
{
    if (!w)
        return;
    dvm_free(w->nodes);
    dvm_free(w->recs);
    dvm_free(w->hash);
    dvm_free(w->hits);
    dvm_free(w);
}

size_t watch_count(const watch_index *w)
{
    return w->count;
}

/* ---- add / remove -------------------------------------------------------- */

/* Free nodes available without growing the array. */
static size_t nodes_free(const watch_index *w)
{
    size_t n = w->cap_nodes - w->nnodes;
    for (uint32_t i = w->free_nodes; i && n < 64; i = W(i).left)
        n++;
    return n;
}

/* Makes sure that n nodes, a record and a hit slot can be had without
 * allocating. */
static dvm_status add_reserve(watch_index *w, size_t n)
{
    if (w->nnodes + n > UINT32_MAX || w->nrecs + 1 >= UINT32_MAX)
        return status_set(DVM_ERANGE, "watch: too many watchers");
    if (nodes_free(w) < n) {
        watch_node *nd = dvm_grow(w->nodes, &w->cap_nodes, w->nnodes + n,
                                  sizeof *nd);
        if (!nd)
            goto err_nomem;
        w->nodes = nd;
    }
    watch_rec *r = dvm_grow(w->recs, &w->cap_recs, w->nrecs + 1, sizeof *r);
    if (!r)
        goto err_nomem;
    w->recs = r;
    uint64_t *h = dvm_grow(w->hits, &w->cap_hits, w->count + 1, sizeof *h);
    if (!h)
        goto err_nomem;
    w->hits = h;
    return id_reserve(w);
err_nomem:
    return status_set(DVM_ENOMEM, "watch: out of memory");
}

/* Takes a node from the free chain or the end of the array (reserved). */
static uint32_t node_take(watch_index *w)
{
    uint32_t i = w->free_nodes;
    if (i) {
        w->free_nodes = W(i).left;
        return i;
    }
    assert(w->nnodes < w->cap_nodes);
    return (uint32_t)w->nnodes++;
}

/* Takes a record (reserved). */
static uint32_t rec_take(watch_index *w)
{
    if (w->free_recs) {
        uint32_t i = w->free_recs - 1;
        w->free_recs = w->recs[i].first;
        return i;
    }
    assert(w->nrecs < w->cap_recs);
    return (uint32_t)w->nrecs++;
}

/* True when r[0..n) are acceptable ranges. */
static int ranges_valid(const dvm_range *r, size_t n)
{
    if (n == 0 || !r)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].lo >= r[i].hi)
            return 0;
    return 1;
}

dvm_status watch_add(watch_index *w, uint64_t id, const dvm_range *r,
                     size_t n)
{
    assert(w);
    if (!ranges_valid(r, n))
        return status_set(DVM_EINVAL, "watch: bad ranges for %llu",
                          (unsigned long long)id);
    if (w->hash[id_slot(w, id)])
        return status_set(DVM_EINVAL, "watch: watcher %llu present",
                          (unsigned long long)id);
    dvm_status st = add_reserve(w, n);
    if (st)
        return st;
    uint32_t ri = rec_take(w);
    w->recs[ri] = (watch_rec){id, 0, 0};
    for (size_t k = 0; k < n; k++) {
        uint32_t x = node_take(w);
        W(x) = (watch_node){r[k].lo, r[k].hi, r[k].hi, 0, 0, ri,
                            w->recs[ri].first};
        w->recs[ri].first = x;
        w->root = tr_insert(w, w->root, x);
    }
    w->hash[id_slot(w, id)] = ri + 1;
    w->count++;
    return DVM_OK;
}

int watch_remove(watch_index *w, uint64_t id)
{
    assert(w);
    size_t slot = id_slot(w, id);
    if (!w->hash[slot])
        return 0;
    uint32_t ri = w->hash[slot] - 1;
    for (uint32_t x = w->recs[ri].first; x;) {
        uint32_t next = W(x).wnext;
        w->root = tr_delete(w, w->root, x);
        W(x).left = w->free_nodes;
        w->free_nodes = x;
        x = next;
    }
    w->recs[ri].first = w->free_recs;
    w->free_recs = ri + 1;
    id_delete(w, slot);
    w->count--;
    return 1;
}

/* ---- query --------------------------------------------------------------- */

/* Collects into hits the watchers of tree t with a range meeting [lo, hi). */
static void collect(watch_index *w, uint32_t t, uint64_t lo, uint64_t hi,
                    size_t *nhits)
{
    while (t && W(t).maxhi > lo) {
        collect(w, W(t).left, lo, hi, nhits);
        if (W(t).lo >= hi)
            return;
        watch_rec *rec = &w->recs[W(t).owner];
        if (W(t).hi > lo && rec->mark != w->qseq) {
            rec->mark = w->qseq;
            assert(*nhits < w->cap_hits);
            w->hits[(*nhits)++] = rec->id;
        }
        t = W(t).right;
    }
}

/* Starts a new query sequence number, clearing stamps on wrap-around. */
static void next_qseq(watch_index *w)
{
    if (++w->qseq != 0)
        return;
    for (size_t i = 0; i < w->nrecs; i++)
        w->recs[i].mark = 0;
    w->qseq = 1;
}

size_t watch_query(watch_index *w, uint64_t lo, uint64_t hi,
                   void (*fn)(void *arg, uint64_t id), void *arg)
{
    assert(w && fn && !w->in_query);
    if (lo >= hi)
        return 0;
    next_qseq(w);
    size_t nhits = 0, calls = 0;
    collect(w, w->root, lo, hi, &nhits);
    w->in_query = 1;
    for (size_t i = 0; i < nhits; i++) {
        uint64_t id = w->hits[i];   /* re-read: fn may grow hits */
        if (!w->hash[id_slot(w, id)])
            continue;               /* removed by an earlier callback */
        fn(arg, id);
        calls++;
    }
    w->in_query = 0;
    return calls;
}
