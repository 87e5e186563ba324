/*
 * stacks.c -- a buddy allocator over the stack area (DISA 1.1).
 *
 * The area is 2^max_order pages.  A block of order k is 2^k pages starting
 * at a page index that is a multiple of 2^k; its buddy is the block of the
 * same order whose index differs in bit k only.  Free blocks sit on one
 * list per order; allocating order k pops the newest free block of the
 * smallest order >= k (newest first: a range freed a moment ago is reused
 * at once, which keeps the pages a program touches few) and splits it,
 * pushing the upper halves.  Freeing merges the block with its buddy while
 * the buddy is free and of the same order.  So a free block never has a
 * free buddy of its own order, and however runners come and go, a request
 * fails only when the area really has no aligned free range of that size.
 *
 * Every block, free or allocated, has an entry in one hash table keyed by
 * its page index (open addressing, linear probing, deletion by backward
 * shift, so no tombstones).  An entry holds the order, the owner (or
 * BLK_FREE) and, for a free block, its position in its free list, so a
 * buddy can be found and unlinked in O(1).  Free lists hold page indexes;
 * removing from the middle swaps the last element in and fixes its entry.
 *
 * Operations that might need memory reserve it first (table and list
 * capacity), so once they start changing the structure they cannot fail:
 * a failed call leaves the allocator as it was.
 *
 * Retired blocks (stacks.h) wait in a FIFO of (base, epoch).  The master
 * retires blocks at nondecreasing epochs, so reclaiming pops from the head
 * while the head's epoch is old enough; an entry out of order would only
 * wait a little longer.
 */
#include "sched/stacks.h"

#include <assert.h>
#include <string.h>

#include "isa/isa.h"
#include "util/alloc.h"

#define MAX_ORDER 40u
#define BLK_FREE UINT32_MAX
#define STACKS_PREF_MAX 1024u   /* blocks remembered per owner */
#define STACKS_PREF_OWNERS 65536u   /* owner tags that may have some */

typedef struct blk {
    uint64_t key;               /* page index + 1; 0: empty slot */
    uint32_t owner;             /* owner tag, or BLK_FREE */
    uint32_t order;
    size_t pos;                 /* free block: index in its free list */
} blk;

typedef struct free_list {
    uint64_t *page;
    size_t n, cap;
} free_list;

typedef struct retired {
    uint64_t base, epoch;
    uint32_t home;              /* owner whose grants prefer it; 0: none */
} retired;

/* The blocks last run on by one owner's RComp, newest last: a ring of
 * STACKS_PREF_MAX, the oldest overwritten. */
typedef struct pref_list {
    uint64_t page[STACKS_PREF_MAX];
    uint8_t order[STACKS_PREF_MAX];
    size_t n, head;             /* entries, and the oldest's index */
} pref_list;

struct stacks {
    uint64_t base;
    unsigned max_order;
    blk *tab;                   /* cap slots, cap a power of two */
    size_t cap, n;
    free_list free[MAX_ORDER + 1];
    uint64_t in_use;            /* pages in allocated blocks */
    retired *limbo;             /* FIFO: [lhead, ln) */
    size_t lhead, ln, lcap;
    pref_list **pref;           /* by owner tag (< npref), or NULL */
    size_t npref;
};

/* ---- the hash table ------------------------------------------------------ */

/* Home slot of key in a table of cap slots. */
static size_t home(uint64_t key, size_t cap)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 17) & (cap - 1);
}

/* Slot of page, or SIZE_MAX when it has no entry. */
static size_t find(const stacks *s, uint64_t page)
{
    uint64_t key = page + 1;
    for (size_t i = home(key, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (s->tab[i].key == key)
            return i;
        if (s->tab[i].key == 0)
            return SIZE_MAX;
    }
}

/* Puts e in its first empty slot from home (the table has room); returns
 * the slot. */
static size_t place(blk *tab, size_t cap, const blk *e)
{
    size_t i = home(e->key, cap);
    while (tab[i].key)
        i = (i + 1) & (cap - 1);
    tab[i] = *e;
    return i;
}

/* Makes room for `more` entries at a load of at most one half. */
static dvm_status reserve_table(stacks *s, size_t more)
{
    if (2 * (s->n + more) <= s->cap)
        return DVM_OK;
    size_t cap = s->cap;
    while (2 * (s->n + more) > cap)
        cap *= 2;
    blk *t = dvm_calloc(cap, sizeof *t);
    if (!t)
        return status_set(DVM_ENOMEM, "stacks: out of memory");
    for (size_t i = 0; i < s->cap; i++)
        if (s->tab[i].key)
            place(t, cap, &s->tab[i]);
    dvm_free(s->tab);
    s->tab = t;
    s->cap = cap;
    return DVM_OK;
}

/* Removes the entry in slot i, shifting later entries of its probe run
 * back so that every entry stays reachable from its home. */
static void remove_slot(stacks *s, size_t i)
{
    size_t mask = s->cap - 1;
    s->tab[i].key = 0;
    s->n--;
    for (size_t j = (i + 1) & mask; s->tab[j].key; j = (j + 1) & mask) {
        size_t h = home(s->tab[j].key, s->cap);
        /* the entry at j may move to i unless its home lies in (i, j] */
        int stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (stays)
            continue;
        s->tab[i] = s->tab[j];
        s->tab[j].key = 0;
        i = j;
    }
}

/* Adds an entry (the table has room); returns its slot. */
static size_t insert(stacks *s, uint64_t page, unsigned order, uint32_t owner)
{
    assert(2 * (s->n + 1) <= s->cap && find(s, page) == SIZE_MAX);
    blk e = { page + 1, owner, order, 0 };
    s->n++;
    return place(s->tab, s->cap, &e);
}

/* ---- free lists ---------------------------------------------------------- */

/* Makes room for one more block on each free list of order lo..max. */
static dvm_status reserve_lists(stacks *s, unsigned lo)
{
    for (unsigned k = lo; k <= s->max_order; k++) {
        free_list *l = &s->free[k];
        uint64_t *p = dvm_grow(l->page, &l->cap, l->n + 1, sizeof *p);
        if (!p)
            return status_set(DVM_ENOMEM, "stacks: out of memory");
        l->page = p;
    }
    return DVM_OK;
}

/* Adds the free block (page, order): entry and list (room reserved). */
static void push_free(stacks *s, uint64_t page, unsigned order)
{
    free_list *l = &s->free[order];
    assert(l->n < l->cap);
    size_t i = insert(s, page, order, BLK_FREE);
    s->tab[i].pos = l->n;
    l->page[l->n++] = page;
}

/* Removes the free block in slot i from its list and the table; returns
 * its page index. */
static uint64_t take_free(stacks *s, size_t i)
{
    blk b = s->tab[i];
    assert(b.owner == BLK_FREE);
    free_list *l = &s->free[b.order];
    uint64_t page = b.key - 1, last = l->page[--l->n];
    assert(l->page[b.pos] == page);
    remove_slot(s, i);
    if (last != page) {
        l->page[b.pos] = last;
        s->tab[find(s, last)].pos = b.pos;
    }
    return page;
}

/* ---- the allocator -------------------------------------------------------- */

dvm_status stacks_create(uint64_t base, unsigned max_order, stacks **out)
{
    assert(out && base % DISA_PAGE == 0 && max_order <= MAX_ORDER);
    stacks *s = dvm_calloc(1, sizeof *s);
    if (!s)
        return status_set(DVM_ENOMEM, "stacks: out of memory");
    s->base = base;
    s->max_order = max_order;
    s->cap = 64;
    s->tab = dvm_calloc(s->cap, sizeof *s->tab);
    dvm_status st = s->tab ? reserve_lists(s, max_order)
                           : status_set(DVM_ENOMEM, "stacks: out of memory");
    if (st) {
        stacks_destroy(s);
        return st;
    }
    push_free(s, 0, max_order);
    *out = s;
    return DVM_OK;
}

void stacks_destroy(stacks *s)
{
    if (!s)
        return;
    for (unsigned k = 0; k <= MAX_ORDER; k++)
        dvm_free(s->free[k].page);
    dvm_free(s->tab);
    dvm_free(s->limbo);
    for (size_t i = 0; i < s->npref; i++)
        dvm_free(s->pref[i]);
    dvm_free(s->pref);
    dvm_free(s);
}

/* Smallest order >= order with a free block, or max_order + 1. */
static unsigned first_fit(const stacks *s, unsigned order)
{
    unsigned k = order;
    while (k <= s->max_order && s->free[k].n == 0)
        k++;
    return k;
}

static int take_preferred(stacks *s, unsigned order, uint32_t owner,
                          uint64_t *base);

dvm_status stacks_alloc(stacks *s, unsigned order, uint32_t owner,
                        uint64_t *base)
{
    assert(s && base && owner != BLK_FREE);
    if (owner != STACKS_RUNNER && take_preferred(s, order, owner, base))
        return DVM_OK;
    unsigned k = order <= s->max_order ? first_fit(s, order) : order;
    if (k > s->max_order)
        return status_set(DVM_ERANGE, "stack area full: no free range of "
                          "%llu bytes", (unsigned long long)DISA_PAGE << order);
    dvm_status st = reserve_table(s, k - order + 1);
    if (!st)
        st = reserve_lists(s, order);
    if (st)
        return st;
    free_list *l = &s->free[k];
    uint64_t page = take_free(s, find(s, l->page[l->n - 1]));
    while (k > order) {         /* keep the lower half, free the upper */
        k--;
        push_free(s, page + (1ULL << k), k);
    }
    insert(s, page, order, owner);
    s->in_use += 1ULL << order;
    *base = s->base + page * DISA_PAGE;
    return DVM_OK;
}

/* Page index of an address that starts a page of the area, or UINT64_MAX. */
static uint64_t page_of(const stacks *s, uint64_t base)
{
    if (base < s->base || (base - s->base) % DISA_PAGE ||
        (base - s->base) / DISA_PAGE >= 1ULL << s->max_order)
        return UINT64_MAX;
    return (base - s->base) / DISA_PAGE;
}

/* Slot of the allocated block starting at base, or SIZE_MAX. */
static size_t find_allocated(const stacks *s, uint64_t base)
{
    uint64_t page = page_of(s, base);
    size_t i = page == UINT64_MAX ? SIZE_MAX : find(s, page);
    return i != SIZE_MAX && s->tab[i].owner != BLK_FREE ? i : SIZE_MAX;
}

dvm_status stacks_free(stacks *s, uint64_t base)
{
    assert(s);
    size_t i = find_allocated(s, base);
    if (i == SIZE_MAX)
        return status_set(DVM_EINVAL, "stacks: 0x%llx is not an allocated "
                          "stack", (unsigned long long)base);
    unsigned order = s->tab[i].order;
    dvm_status st = reserve_lists(s, order);
    if (st)
        return st;
    uint64_t page = s->tab[i].key - 1;
    remove_slot(s, i);
    s->in_use -= 1ULL << order;
    while (order < s->max_order) {
        size_t b = find(s, page ^ (1ULL << order));
        if (b == SIZE_MAX || s->tab[b].owner != BLK_FREE ||
            s->tab[b].order != order)
            break;
        take_free(s, b);
        page &= ~(1ULL << order);
        order++;
    }
    push_free(s, page, order);
    return DVM_OK;
}

/* The free block of order >= order that holds page, as (slot, order), or
 * SIZE_MAX. */
static size_t free_holding(const stacks *s, uint64_t page, unsigned order,
                           unsigned *k)
{
    for (*k = order; *k <= s->max_order; (*k)++) {
        size_t i = find(s, page & ~((1ULL << *k) - 1));
        if (i != SIZE_MAX && s->tab[i].owner == BLK_FREE &&
            s->tab[i].order == *k)
            return i;
    }
    return SIZE_MAX;
}

dvm_status stacks_claim(stacks *s, uint64_t base, unsigned order,
                        uint32_t owner)
{
    assert(s && owner != BLK_FREE);
    uint64_t page = page_of(s, base);
    unsigned k;
    size_t i = page == UINT64_MAX || order > s->max_order ||
               page % (1ULL << order) ? SIZE_MAX
                                      : free_holding(s, page, order, &k);
    if (i == SIZE_MAX)
        return status_set(DVM_EINVAL, "stacks: 0x%llx is not a free stack "
                          "of %llu bytes", (unsigned long long)base,
                          (unsigned long long)DISA_PAGE << order);
    dvm_status st = reserve_table(s, k - order + 1);
    if (!st)
        st = reserve_lists(s, order);
    if (st)
        return st;
    uint64_t at = take_free(s, free_holding(s, page, order, &k));
    while (k > order) {         /* keep the half holding page */
        k--;
        uint64_t half = at + (1ULL << k);
        if (page >= half) {
            push_free(s, at, k);
            at = half;
        } else {
            push_free(s, half, k);
        }
    }
    insert(s, page, order, owner);
    s->in_use += 1ULL << order;
    return DVM_OK;
}

int stacks_owned(const stacks *s, uint64_t base, unsigned order,
                 uint32_t owner)
{
    assert(s);
    size_t i = find_allocated(s, base);
    return i != SIZE_MAX && s->tab[i].order == order &&
           s->tab[i].owner == owner;
}

dvm_status stacks_set_owner(stacks *s, uint64_t base, uint32_t owner)
{
    assert(s && owner != BLK_FREE);
    size_t i = find_allocated(s, base);
    if (i == SIZE_MAX)
        return status_set(DVM_EINVAL, "stacks: 0x%llx is not an allocated "
                          "stack", (unsigned long long)base);
    s->tab[i].owner = owner;
    return DVM_OK;
}

dvm_status stacks_retire(stacks *s, uint64_t base, uint64_t epoch,
                         uint32_t home)
{
    assert(s);
    size_t i = find_allocated(s, base);
    if (i == SIZE_MAX || s->tab[i].owner == STACKS_LIMBO)
        return status_set(DVM_EINVAL, "stacks: 0x%llx is not an allocated "
                          "stack", (unsigned long long)base);
    if (s->lhead == s->ln)
        s->lhead = s->ln = 0;
    retired *v = dvm_grow(s->limbo, &s->lcap, s->ln + 1, sizeof *v);
    if (!v)
        return stacks_free(s, base);
    s->limbo = v;
    s->limbo[s->ln++] = (retired){ base, epoch,
                                   home == STACKS_LIMBO ? 0 : home };
    s->tab[i].owner = STACKS_LIMBO;
    return DVM_OK;
}

/* Notes that the freed block (page, order) was last run on by home's
 * RComp; best effort (nothing noted when memory is short). */
static void prefer(stacks *s, uint32_t home, uint64_t page, unsigned order)
{
    if (home >= STACKS_PREF_OWNERS)
        return;
    if (home >= s->npref) {
        size_t n = s->npref;
        pref_list **v = dvm_grow(s->pref, &n, (size_t)home + 1, sizeof *v);
        if (!v)
            return;
        for (size_t i = s->npref; i < n; i++)
            v[i] = NULL;
        s->pref = v;
        s->npref = n;
    }
    pref_list *l = s->pref[home];
    if (!l && !(l = s->pref[home] = dvm_calloc(1, sizeof *l)))
        return;
    size_t at = (l->head + l->n) % STACKS_PREF_MAX;
    if (l->n == STACKS_PREF_MAX)
        l->head = (l->head + 1) % STACKS_PREF_MAX;  /* the oldest goes */
    else
        l->n++;
    l->page[at] = page;
    l->order[at] = (uint8_t)order;
}

size_t stacks_reclaim(stacks *s, uint64_t oldest)
{
    assert(s);
    size_t n = 0;
    while (s->lhead < s->ln && s->limbo[s->lhead].epoch <= oldest) {
        const retired *r = &s->limbo[s->lhead];
        size_t i = r->home ? find_allocated(s, r->base) : SIZE_MAX;
        unsigned order = i == SIZE_MAX ? 0 : s->tab[i].order;
        if (stacks_free(s, r->base))
            break;
        if (i != SIZE_MAX)      /* the order, read before the free */
            prefer(s, r->home, page_of(s, r->base), order);
        s->lhead++;
        n++;
    }
    return n;
}

/* Takes for owner the newest block of order its RComp last ran on that is
 * still free (a buddy may have merged with it: stacks_claim splits it out
 * again); 1 and *base when there is one. */
static int take_preferred(stacks *s, unsigned order, uint32_t owner,
                          uint64_t *base)
{
    pref_list *l = owner < s->npref ? s->pref[owner] : NULL;
    unsigned k;
    while (l && l->n) {
        size_t at = (l->head + l->n - 1) % STACKS_PREF_MAX;
        uint64_t page = l->page[at];
        int fits = l->order[at] == order &&
                   free_holding(s, page, order, &k) != SIZE_MAX;
        l->n--;
        if (fits && !stacks_claim(s, s->base + page * DISA_PAGE, order,
                                  owner)) {
            *base = s->base + page * DISA_PAGE;
            return 1;
        }
    }
    return 0;
}

/* Base of some block of owner, or UINT64_MAX. */
static uint64_t any_of(const stacks *s, uint32_t owner)
{
    for (size_t i = 0; i < s->cap; i++)
        if (s->tab[i].key && s->tab[i].owner == owner)
            return s->base + (s->tab[i].key - 1) * DISA_PAGE;
    return UINT64_MAX;
}

/* The bases of owner's blocks in a new array (*n of them), or NULL when
 * there are none or memory is short. */
static uint64_t *list_of(const stacks *s, uint32_t owner, size_t *n)
{
    size_t k = 0;
    for (size_t i = 0; i < s->cap; i++)
        k += s->tab[i].key && s->tab[i].owner == owner;
    uint64_t *v = k ? dvm_malloc(k * sizeof *v) : NULL;
    *n = 0;
    for (size_t i = 0; v && i < s->cap; i++)
        if (s->tab[i].key && s->tab[i].owner == owner)
            v[(*n)++] = s->base + (s->tab[i].key - 1) * DISA_PAGE;
    return v;
}

/* Frees owner's blocks one table scan at a time (no memory needed to list
 * them; slow, for when memory is short). */
static size_t free_each(stacks *s, uint32_t owner)
{
    size_t n = 0;
    for (uint64_t b; (b = any_of(s, owner)) != UINT64_MAX; n++)
        if (stacks_free(s, b))
            break;              /* out of memory: the rest stay allocated */
    return n;
}

/* Lists the blocks first: freeing moves table entries, so a scan that
 * frees as it goes could miss some. */
size_t stacks_free_owner(stacks *s, uint32_t owner)
{
    assert(s && owner != BLK_FREE);
    size_t n, done = 0;
    if (owner < s->npref && s->pref[owner])
        s->pref[owner]->n = 0;  /* a new RComp there maps none of them */
    uint64_t *v = list_of(s, owner, &n);
    for (size_t i = 0; i < n && !stacks_free(s, v[i]); i++)
        done++;
    dvm_free(v);
    return done + free_each(s, owner);
}

uint64_t stacks_owner_bytes(const stacks *s, uint32_t owner)
{
    assert(s && owner != BLK_FREE);
    uint64_t pages = 0;
    for (size_t i = 0; i < s->cap; i++)
        if (s->tab[i].key && s->tab[i].owner == owner)
            pages += 1ULL << s->tab[i].order;
    return pages * DISA_PAGE;
}

uint64_t stacks_in_use(const stacks *s)
{
    return s->in_use * DISA_PAGE;
}

size_t stacks_free_blocks(const stacks *s)
{
    size_t n = 0;
    for (unsigned k = 0; k <= s->max_order; k++)
        n += s->free[k].n;
    return n;
}
