/*
 * pages.c -- where a runner's pages come from, and which version each was.
 *
 * The resolver runs on the window's handler thread while the engine thread
 * sits suspended in a page fault.  It decides a missing page's content by
 * address:
 *
 *   PR (below DISA_RB)      zeros, no message (normally the PR is a plain
 *                           region the kernel fills; this is the fallback)
 *   input windows           synthesised from the channel files (io.c);
 *                           on a cluster's node from the node's file of
 *                           them, PAGE_REQ {page, 0} for one not there yet
 *                           (dist/ninput.h)
 *   other SR, system page   PAGE_REQ {page, snap} on the page socket; the
 *                           master answers PAGE_RESP {frame}, 0 = zeros
 *
 * The base map records, for each SR page of the current runner, the frame
 * it started from (prefetched by the engine thread or resolved here): the
 * commit diffs the window page against it.  Versions are immutable, so the
 * frame is the twin and no copy is needed.
 *
 * Why a mutex around snap and the base map: the engine thread writes them
 * between runners and at prefetch, the handler thread during faults.  The
 * kernel's fault hand-off orders them in practice, but the lock makes the
 * order explicit and costs nothing next to a fault round trip.  The page
 * socket and page_buf belong to the handler thread alone.
 */
#include <assert.h>
#include <string.h>

#include "isa/isa.h"
#include "rcomp/rcomp_int.h"
#include "util/alloc.h"

#define PG_RB     (DISA_RB / DISA_PAGE)
#define PG_IN     (DISA_INPUT_BASE / DISA_PAGE)
#define PG_SYS    (DISA_SYSPAGE / DISA_PAGE)

static size_t bm_home(const rc_basemap *m, uint64_t page)
{
    return (size_t)((page * 0x9E3779B97F4A7C15ULL) >> 24) & (m->cap - 1);
}

/* Slot of page, or the empty slot where it would go. */
static size_t bm_find(const rc_basemap *m, uint64_t page)
{
    assert(m->cap && (m->cap & (m->cap - 1)) == 0 && m->n * 2 <= m->cap);
    size_t i = bm_home(m, page);
    while (m->slot[i].gen == m->gen && m->slot[i].page != page)
        i = (i + 1) & (m->cap - 1);
    return i;
}

dvm_status rc_basemap_init(rc_basemap *m)
{
    m->cap = 256;
    m->slot = dvm_calloc(m->cap, sizeof *m->slot);
    if (!m->slot)
        return status_set(DVM_ENOMEM, "base map");
    m->n = 0;
    m->gen = 1;
    return DVM_OK;
}

void rc_basemap_free(rc_basemap *m)
{
    dvm_free(m->slot);
    memset(m, 0, sizeof *m);
}

/* Empties the map in O(1): slots of older generations are free. */
void rc_basemap_clear(rc_basemap *m)
{
    m->n = 0;
    if (++m->gen == 0) {
        memset(m->slot, 0, m->cap * sizeof *m->slot);
        m->gen = 1;
    }
}

/* Doubles the table, keeping the live slots. */
static dvm_status bm_grow(rc_basemap *m)
{
    rc_basemap t = { dvm_calloc(m->cap * 2, sizeof *m->slot), m->cap * 2,
                     0, 1 };
    if (!t.slot)
        return status_set(DVM_ENOMEM, "base map");
    for (size_t i = 0; i < m->cap; i++)
        if (m->slot[i].gen == m->gen) {
            size_t j = bm_find(&t, m->slot[i].page);
            t.slot[j] = (rc_slot){ m->slot[i].page, m->slot[i].frame, 1 };
            t.n++;
        }
    dvm_free(m->slot);
    *m = t;
    return DVM_OK;
}

dvm_status rc_basemap_put(rc_basemap *m, uint64_t page, uint32_t frame)
{
    size_t i = bm_find(m, page);
    if (m->slot[i].gen != m->gen) {
        if ((m->n + 1) * 2 > m->cap) {
            dvm_status st = bm_grow(m);
            if (st)
                return st;
            i = bm_find(m, page);
        }
        m->n++;
    }
    m->slot[i] = (rc_slot){ page, frame, m->gen };
    return DVM_OK;
}

int rc_basemap_get(const rc_basemap *m, uint64_t page, uint32_t *frame)
{
    size_t i = bm_find(m, page);
    if (m->slot[i].gen != m->gen)
        return 0;
    *frame = m->slot[i].frame;
    return 1;
}

/* Asks the master for the frame of page at snapshot snap (handler thread:
 * the page socket is its own). */
static dvm_status ask_frame(rcomp *rc, uint64_t page, uint64_t snap,
                            uint32_t *frame)
{
    uint64_t req[2] = { page, snap };
    mb_reset(&rc->page_buf);
    msg_encode_u64s(&rc->page_buf, MSG_PAGE_REQ, req, 2);
    if (rc->page_buf.oom)
        return status_set(DVM_ENOMEM, "page request");
    dvm_status st = conn_send(&rc->page, &rc->page_buf);
    uint32_t type;
    const uint8_t *p;
    size_t len;
    if (!st)
        st = conn_recv(&rc->page, &type, &p, &len);
    if (st)
        return st;
    uint64_t f;
    if (type != MSG_PAGE_RESP || msg_decode_u64s(p, len, &f, 1))
        return status_set(DVM_EPROTO, "expected PAGE_RESP, got type %u",
                          type);
    if (f >= rc->nframes)
        return status_set(DVM_EPROTO, "PAGE_RESP: frame %llu out of range",
                          (unsigned long long)f);
    *frame = (uint32_t)f;
    return DVM_OK;
}

/* True when page lies in a declared (stack or heap) range of mr. */
static int declared_page(const msg_runner *mr, uint64_t page)
{
    uint64_t lo = page * DISA_PAGE, hi = lo + DISA_PAGE;
    if (mr->d.sb < hi && mr->d.sb + mr->d.ss > lo)
        return 1;
    for (uint32_t i = 0; i < mr->d.nheap; i++)
        if (mr->d.heap[i].lo < hi && mr->d.heap[i].hi > lo)
            return 1;
    return 0;
}

/* True when the master's prefetch list already said the page is zero: it
 * lists every non-zero page of the declared ranges below the input
 * windows, and this one was not in it (it is not in the base map yet). */
static int known_zero(const rcomp *rc, uint64_t page)
{
    const msg_runner *mr = rc->cur;
    return mr && (mr->flags & MSG_RUNNER_PREFETCH_COMPLETE) && page < PG_IN &&
           declared_page(mr, page);
}

/* An SR page (or the system page) of the current snapshot. */
static int shared_page(rcomp *rc, uint64_t page, uint8_t *buf)
{
    pthread_mutex_lock(&rc->mu);
    uint64_t snap = rc->snap;
    if (known_zero(rc, page)) {
        dvm_status st = rc_basemap_put(&rc->base, page, 0);
        pthread_mutex_unlock(&rc->mu);
        return st ? st : 1;
    }
    pthread_mutex_unlock(&rc->mu);
    uint32_t frame;
    dvm_status st = ask_frame(rc, page, snap, &frame);
    if (st)
        return st;
    pthread_mutex_lock(&rc->mu);
    st = rc_basemap_put(&rc->base, page, frame);
    rc->faulted++;
    pthread_mutex_unlock(&rc->mu);
    if (st)
        return st;
    if (!frame)
        return 1;
    memcpy(buf, store_frame(rc->store, frame), DISA_PAGE);
    return 0;
}

/* An input page on a cluster's node (--input-map): read from the node's
 * file once the map says it is there; a page not there yet is asked for
 * (PAGE_REQ {page, 0}), and the answer (PAGE_RESP 0) comes once it is.
 * Not a version: no base, no count. */
static int asked_input_page(rcomp *rc, uint64_t page, uint8_t *buf)
{
    if (!inpage_present(rc->inmap, page)) {
        uint32_t frame;
        dvm_status st = ask_frame(rc, page, 0, &frame);
        if (st)
            return st;
        if (frame || !inpage_present(rc->inmap, page))
            return status_set(DVM_EPROTO, "input page %#llx: answered but "
                              "not there", (unsigned long long)page);
    }
    return rc_input_read(rc, page, buf);
}

int rc_input_ahead(void *arg, uint64_t page, uint8_t *buf)
{
    rcomp *rc = arg;
    if (page < PG_IN || page >= PG_SYS)
        return 1;
    if (rc->inmap)              /* never a request: only what is there */
        return inpage_present(rc->inmap, page) ? rc_input_read(rc, page, buf)
                                               : 1;
    return rc_input_page(rc, page, buf);
}

int rc_resolve(void *arg, uint64_t page, uint8_t *buf)
{
    rcomp *rc = arg;
    if (page < PG_RB)
        return 1;
    if (page >= PG_IN && page < PG_SYS)
        return rc->inmap ? asked_input_page(rc, page, buf)
                            : rc_input_page(rc, page, buf);
    return shared_page(rc, page, buf);
}
