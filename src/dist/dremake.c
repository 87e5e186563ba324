/*
 * dremake.c -- the master's watch over versions only their holders can
 * make (see dremake.h).
 *
 * A growing array in placement order; dremake_run compacts it as it
 * walks, so that a version forgotten costs nothing at the next look.
 */
#include "dist/dremake.h"

#include <assert.h>
#include <string.h>

#include "util/alloc.h"

void dremake_init(dremake *r)
{
    memset(r, 0, sizeof *r);
}

void dremake_free(dremake *r)
{
    dvm_free(r->v);
    dremake_init(r);
}

void dremake_clear(dremake *r)
{
    r->n = 0;
}

dvm_status dremake_note(dremake *r, uint64_t page, uint64_t epoch,
                        uint64_t base, const cmsg_tag *t, uint64_t now_ns)
{
    assert(base < epoch);
    dremake_ent *v = dvm_grow(r->v, &r->cap, r->n + 1, sizeof *v);
    if (!v)
        return status_set(DVM_ENOMEM, "out of memory");
    r->v = v;
    r->v[r->n++] = (dremake_ent){ page, epoch, base, *t,
                                  now_ns + DREMAKE_FIRST_NS,
                                  DREMAKE_FIRST_NS };
    return DVM_OK;
}

/* The wait after w: twice it, at most DREMAKE_WAIT_MAX_NS. */
static uint64_t next_wait(uint64_t w)
{
    return w >= DREMAKE_WAIT_MAX_NS / 2 ? DREMAKE_WAIT_MAX_NS : 2 * w;
}

size_t dremake_run(dremake *r, uint64_t now_ns, const dremake_ops *ops)
{
    size_t w = 0, made = 0;
    for (size_t i = 0; i < r->n; i++) {
        dremake_ent e = r->v[i];
        if (ops->state(ops->arg, &e) == DREMAKE_DONE)
            continue;
        if (now_ns >= e.due_ns) {
            ops->remake(ops->arg, &e);
            e.wait_ns = next_wait(e.wait_ns);
            e.due_ns = now_ns + e.wait_ns;
            made++;
        }
        r->v[w++] = e;
    }
    r->n = w;
    return made;
}
