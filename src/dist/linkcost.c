/*
 * linkcost.c -- the input pages a runner fetches, a node's time per page,
 * and their product (linkcost.h has the why).  Kinds are a direct-mapped
 * table by entry point, as sched/place.c keeps its own: a collision
 * replaces the kind, whose next runners learn it again.
 */
#include "dist/linkcost.h"

#include <assert.h>
#include <string.h>

/* A moving average of weight 1/4 with sample x; the first is taken whole. */
static uint64_t avg4(uint64_t avg, uint64_t x, uint64_t seen)
{
    return seen ? avg - avg / 4 + x / 4 : x;
}

static linkcost_kind *kind_at(linkcost *c, uint64_t entry)
{
    size_t h = (size_t)((entry * 0x9E3779B97F4A7C15ULL) >> 40);
    return &c->v[h & (LINKCOST_KINDS - 1)];
}

void linkcost_clear(linkcost *c)
{
    assert(c);
    memset(c, 0, sizeof *c);
}

void linkcost_note(linkcost *c, uint64_t entry, uint64_t pages,
                   uint64_t have, uint64_t total)
{
    assert(c);
    if (!total || have > total / 2)
        return;
    linkcost_kind *k = kind_at(c, entry);
    if (k->seen && k->entry != entry)
        *k = (linkcost_kind){ 0 };
    if (pages > UINT64_MAX / 64)
        pages = UINT64_MAX / 64;
    k->entry = entry;
    k->pages16 = avg4(k->pages16, pages * 16, k->seen);
    k->seen++;
}

uint64_t linkcost_pages16(const linkcost *c, uint64_t entry)
{
    assert(c);
    const linkcost_kind *k = kind_at((linkcost *)c, entry);
    return k->seen && k->entry == entry ? k->pages16
                                        : LINKCOST_PRIOR_PAGES * 16;
}

uint64_t linkcost_fetch_ns(const linkcost *c, uint64_t entry,
                           uint64_t ns_per_page, uint64_t have,
                           uint64_t total)
{
    if (!total || have >= total || !ns_per_page)
        return 0;
    uint64_t p16 = (uint64_t)((double)linkcost_pages16(c, entry) *
                              (double)(total - have) / (double)total);
    if (!p16)
        return 0;
    if (ns_per_page > UINT64_MAX / p16)
        return UINT64_MAX;
    return p16 * ns_per_page / 16;
}

void linkcost_link_reset(linkcost_link *l)
{
    assert(l);
    memset(l, 0, sizeof *l);
}

void linkcost_asked(linkcost_link *l, uint64_t page, uint32_t pages,
                    uint64_t now_ns)
{
    assert(l && pages > 0);
    size_t at = 0;
    for (size_t i = 0; i < LINKCOST_ASKS; i++) {
        if (!l->ask[i].pages) {
            at = i;
            break;
        }
        if (l->ask[i].t0_ns < l->ask[at].t0_ns)
            at = i;             /* the oldest, if none is free */
    }
    l->ask[at].page = page;
    l->ask[at].t0_ns = now_ns;
    l->ask[at].pages = pages;
}

void linkcost_answered(linkcost_link *l, uint64_t page, uint64_t now_ns)
{
    assert(l);
    for (size_t i = 0; i < LINKCOST_ASKS; i++) {
        if (!l->ask[i].pages || l->ask[i].page != page)
            continue;
        uint32_t n = l->ask[i].pages;
        uint64_t took = now_ns > l->ask[i].t0_ns ? now_ns - l->ask[i].t0_ns
                                                 : 0;
        l->ask[i].pages = 0;
        if (n < LINKCOST_MIN_PAGES)
            return;
        uint64_t per = took / n + 1;        /* measured: never 0 */
        l->ns_per_page = l->ns_per_page ? l->ns_per_page / 2 + per / 2 : per;
        return;
    }
}
