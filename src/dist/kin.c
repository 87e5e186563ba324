/*
 * kin.c -- runner identities and a node's table of those it ran (kin.h
 * has the why).  The identity mixes the entry point and the first heap
 * byte (a 64-bit multiply-xorshift), so that runners a few bytes apart
 * spread over the table; its top bits pick the entry.
 */
#include "dist/kin.h"

#include <assert.h>
#include <string.h>

uint64_t kin_identity(const runner_desc *d)
{
    assert(d);
    if (!d->nheap)
        return 0;
    uint64_t h = (d->fi * 0x9E3779B97F4A7C15ULL) ^ d->heap[0].lo;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 31;
    h *= 0x94D049BB133111EBULL;
    h ^= h >> 29;
    return h ? h : 1;           /* 0 means "no identity" */
}

static size_t kin_index(uint64_t id)
{
    return (size_t)(id >> 54) & (KIN_KEYS - 1);
}

void kin_clear(kin_table *t)
{
    memset(t->key, 0, sizeof t->key);
}

void kin_note(kin_table *t, uint64_t id)
{
    assert(id);
    t->key[kin_index(id)] = id;
}

int kin_has(const kin_table *t, uint64_t id)
{
    assert(id);
    return t->key[kin_index(id)] == id;
}
