/*
 * runner.c -- runner descriptors: ownership and the DISA 5.1 rules
 * (see runner.h).
 */
#include <string.h>

#include "isa/isa.h"
#include "isa/runner.h"
#include "util/alloc.h"

void runner_desc_free(runner_desc *d)
{
    if (!d)
        return;
    dvm_free(d->heap);
    dvm_free(d->watch);
    memset(d, 0, sizeof *d);
}

runner_desc runner_desc_take(runner_desc *d)
{
    runner_desc t = *d;
    memset(d, 0, sizeof *d);
    return t;
}

/* 1 when every range of r[0..n) is wholly in the SR with length > 0. */
static int ranges_in_sr(const dvm_range *r, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (r[i].lo < DISA_RB || r[i].hi <= r[i].lo ||
            r[i].hi > DISA_ADDR_LIMIT)
            return 0;
    return 1;
}

unsigned runner_stack_order(uint64_t ss)
{
    unsigned k = 0;
    while (k < DISA_STACK_ORDER && (DISA_PAGE << k) < ss)
        k++;
    return k;
}

/* 1 when d's chosen stack is whole pages in its aligned block of the
 * stack area. */
static int chosen_ok(const runner_desc *d)
{
    const uint64_t area = DISA_PAGE << DISA_STACK_ORDER;
    if (d->ss % DISA_PAGE || d->ss > area || d->sb < DISA_STACK_BASE ||
        d->sb - DISA_STACK_BASE >= area)
        return 0;
    uint64_t block = DISA_PAGE << runner_stack_order(d->ss);
    return (d->sb - DISA_STACK_BASE) % block == 0 &&
           d->sb - DISA_STACK_BASE <= area - block;
}

int runner_desc_valid(const runner_desc *d)
{
    if (d->sb < DISA_RB || d->ss == 0 || d->ss > DISA_ADDR_LIMIT - d->sb)
        return 0;
    if (d->flags & ~(uint32_t)RUNNER_STACK_CHOSEN)
        return 0;
    if ((d->flags & RUNNER_STACK_CHOSEN) && !chosen_ok(d))
        return 0;
    if (d->nheap > RUNNER_MAX_RANGES || d->nwatch > RUNNER_MAX_RANGES)
        return 0;
    return ranges_in_sr(d->heap, d->nheap) && ranges_in_sr(d->watch, d->nwatch);
}
