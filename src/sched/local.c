/*
 * local.c -- the check of a child started where its creator ran (see
 * local.h).
 *
 * The notes come in program order.  A set holds the bytes the child has
 * stored so far: a byte in it is the child's own, and a later note of it
 * (a load of what the child wrote, a second store) says nothing about the
 * snapshot.  Every other byte of a note is compared with the version the
 * epoch sees: the page's frame (looked up once for a run of notes on the
 * same page), zeros for a page with no version, or the child's context.
 * A version whose data is elsewhere (a cluster's) cannot be read here, and
 * fails the check.
 */
#include <assert.h>
#include <string.h>

#include "isa/isa.h"
#include "sched/local.h"
#include "util/alloc.h"

void local_check_init(local_check *c)
{
    *c = (local_check){ 0 };
}

void local_check_free(local_check *c)
{
    dvm_free(c->set);
    *c = (local_check){ 0 };
}

/* Empties the set, with room for at least want bytes at half load. */
static dvm_status set_reset(local_check *c, size_t want)
{
    size_t cap = 64;
    while (cap < 2 * want)
        cap *= 2;
    if (cap > c->cap) {
        uint64_t *v = dvm_malloc(cap * sizeof *v);
        if (!v)
            return status_set(DVM_ENOMEM, "local check: out of memory");
        dvm_free(c->set);
        c->set = v;
        c->cap = cap;
    }
    memset(c->set, 0, c->cap * sizeof *c->set);
    return DVM_OK;
}

static size_t set_home(const local_check *c, uint64_t a)
{
    return (size_t)((a * 0x9E3779B97F4A7C15ULL) >> 20) & (c->cap - 1);
}

/* 1 when byte a is in the set; with add, puts it there. */
static int set_has(local_check *c, uint64_t a, int add)
{
    for (size_t i = set_home(c, a);; i = (i + 1) & (c->cap - 1)) {
        if (c->set[i] == a + 1)
            return 1;
        if (c->set[i] == 0) {
            if (add)
                c->set[i] = a + 1;
            return 0;
        }
    }
}

/* The byte at context offset off, as the child's dispatch writes it. */
static uint8_t context_byte(const local_context *x, uint64_t off)
{
    static const uint64_t at[] = {
        DISA_CTX_SB - DISA_CTX, DISA_CTX_SS - DISA_CTX,
        DISA_CTX_RID - DISA_CTX, DISA_CTX_FI - DISA_CTX,
        DISA_CTX_ATTEMPT - DISA_CTX
    };
    const uint64_t v[] = { x->sb, x->ss, x->rid, x->fi, x->attempt };
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
        if (off >= at[i] && off < at[i] + 8)
            return (uint8_t)(v[i] >> (8 * (off - at[i])));
    return 0;
}

/* The page the check reads from: its number, and its bytes (NULL: zeros)
 * or unreadable. */
typedef struct page_view {
    uint64_t page;
    const uint8_t *bytes;
    int known, unreadable;
} page_view;

/* Points v at page's version at epoch. */
static void view_page(page_view *v, const mem_space *sp, const mem_store *st,
                      uint64_t page, uint64_t epoch)
{
    if (v->known && v->page == page)
        return;
    uint32_t f = space_lookup(sp, page, epoch);
    v->page = page;
    v->known = 1;
    v->unreadable = f == SPACE_FRAME_AWAY;
    v->bytes = f && !v->unreadable ? store_frame(st, f) : NULL;
}

/* 1 when byte a reads b at epoch (or in the context). */
static int byte_holds(page_view *v, const mem_space *sp, const mem_store *st,
                      const local_context *ctx, uint64_t epoch, uint64_t a,
                      uint8_t b)
{
    if (a >= DISA_CTX && a < DISA_CTX + DISA_PAGE)
        return context_byte(ctx, a - DISA_CTX) == b;
    if (a < DISA_RB || a >= DISA_INPUT_BASE)
        return 0;
    view_page(v, sp, st, a / DISA_PAGE, epoch);
    if (v->unreadable)
        return 0;
    return (v->bytes ? v->bytes[a % DISA_PAGE] : 0) == b;
}

int local_valid(local_check *c, const mem_space *sp, const mem_store *st,
                const local_context *ctx, uint64_t epoch,
                const msg_note *notes, size_t n)
{
    size_t stored = 0;
    for (size_t i = 0; i < n; i++)
        stored += notes[i].store ? notes[i].len : 0;
    if (set_reset(c, stored))
        return DVM_ENOMEM;
    page_view v = { 0 };
    for (size_t i = 0; i < n; i++) {
        const msg_note *t = &notes[i];
        assert(t->len >= 1 && t->len <= 8);
        for (unsigned k = 0; k < t->len; k++) {
            uint64_t a = t->addr + k;
            if (set_has(c, a, t->store))
                continue;       /* the child's own byte */
            if (!byte_holds(&v, sp, st, ctx, epoch, a, t->bytes[k]))
                return 0;
        }
    }
    return 1;
}
