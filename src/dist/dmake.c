/*
 * dmake.c -- the holders able to make each page's newest version (see
 * dmake.h).
 *
 * Slots hold a page or are empty (used 0); the table doubles at half
 * full and is never deleted from, so a lookup stops at the first empty
 * slot.
 */
#include "dist/dmake.h"

#include <assert.h>
#include <string.h>

#include "util/alloc.h"

struct dmake_ent {
    uint64_t page, epoch;
    uint64_t id[HOME_COPIES];
    uint32_t nid;
    int used;
};

#define DMAKE_MIN 256u

void dmake_init(dmake *m)
{
    memset(m, 0, sizeof *m);
}

void dmake_free(dmake *m)
{
    dvm_free(m->v);
    dmake_init(m);
}

void dmake_clear(dmake *m)
{
    if (m->v)
        memset(m->v, 0, m->cap * sizeof *m->v);
    m->n = 0;
}

/* The slot of page in a table of cap slots, or the empty one where it
 * would go. */
static size_t probe(const dmake_ent *v, size_t cap, uint64_t page)
{
    size_t i = (size_t)((page * 0x9E3779B97F4A7C15ULL) >> 20) & (cap - 1);
    while (v[i].used && v[i].page != page)
        i = (i + 1) & (cap - 1);
    return i;
}

/* Room for one more page.  DVM_ENOMEM. */
static dvm_status grow(dmake *m)
{
    if (2 * (m->n + 1) <= m->cap)
        return DVM_OK;
    size_t cap = m->cap ? 2 * m->cap : DMAKE_MIN;
    dmake_ent *v = dvm_calloc(cap, sizeof *v);
    if (!v)
        return status_set(DVM_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->cap; i++)
        if (m->v[i].used)
            v[probe(v, cap, m->v[i].page)] = m->v[i];
    dvm_free(m->v);
    m->v = v;
    m->cap = cap;
    return DVM_OK;
}

dvm_status dmake_note(dmake *m, uint64_t page, uint64_t epoch,
                      const uint64_t *ids, size_t n)
{
    assert(n <= HOME_COPIES);
    if (grow(m)) {
        if (m->cap) {           /* an entry for page says too much now */
            dmake_ent *e = &m->v[probe(m->v, m->cap, page)];
            if (e->used)
                e->nid = 0;
        }
        return DVM_ENOMEM;
    }
    dmake_ent *e = &m->v[probe(m->v, m->cap, page)];
    if (!e->used) {
        e->used = 1;
        e->page = page;
        m->n++;
    }
    e->epoch = epoch;
    e->nid = (uint32_t)n;
    if (n)
        memcpy(e->id, ids, n * sizeof *ids);
    return DVM_OK;
}

int dmake_can(const dmake *m, uint64_t page, uint64_t epoch, uint64_t id)
{
    if (!m->cap)
        return 0;
    const dmake_ent *e = &m->v[probe(m->v, m->cap, page)];
    if (!e->used || e->epoch != epoch)
        return 0;
    for (uint32_t i = 0; i < e->nid; i++)
        if (e->id[i] == id)
            return 1;
    return 0;
}
