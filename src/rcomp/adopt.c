/*
 * adopt.c -- large zero spans written straight into frames of the store.
 *
 * A runner that declares a large range zero at its snapshot (a zero span,
 * run.c) would otherwise pay for its memory twice: the kernel zero-fills
 * the window's pages as it writes them, and the commit copies every
 * changed page into a frame of its own (a second allocation and a copy).
 * For a span of at least adopt_min pages (`--adopt`, given by the master)
 * the RComp asks the master for a run of as many consecutive frames that
 * read as zeros (MSG_RUN_REQ; the store takes them from never-used or
 * punched ids, store_alloc_run) and maps the run over the span
 * (window_span_map).  The runner then writes into the frames themselves,
 * and the commit adopts them (commit.c, pend_adopted):
 *
 *   - a page of the span never touched is not resident: no change;
 *   - a resident page that reads as zeros once the bytes outside the
 *     committable set are cleared (a page only read, written with zeros
 *     over zeros, written and reset, or only the runner's own stack) is no
 *     change either;
 *   - else its frame is the new version as it stands, the bytes outside
 *     the committable set cleared first, so that the frame carries nothing
 *     the runner may not commit: its change is the frame's nonzero bytes
 *     (runs when few, else implied: diff.h);
 *   - a page the master prefetched into the span (not zero at the
 *     snapshot: its bytes were copied into its frame before the runner
 *     ran) goes the old way, diffed against its base into a frame of the
 *     pool; its run frame is not adopted.
 *
 * After the result is encoded, and before it is sent, every mapped span
 * goes back to anonymous memory (window_span_unmap: the window maps no
 * frame it hands over), and MSG_RUN_DONE tells the master that the frames
 * of the run no result named are unused: it punches them and takes them
 * back.  The master checks a result's frames as ever (granted to this
 * RComp, each named once) and takes back a dead RComp's run as it takes
 * its other frames (src/sched/rcomps.c).  A master that grants no run
 * (n = 0: the store has none free) leaves the span as it was.
 */
#include <assert.h>

#include "isa/isa.h"
#include "rcomp/rcomp_int.h"

/* Asks the master for a run of n zero frames; *first = 0 when it grants
 * none. */
static dvm_status ask_run(rcomp *rc, uint64_t n, uint32_t *first)
{
    msg_encode_u64s(&rc->obuf, MSG_RUN_REQ, &n, 1);
    rc->run_first = rc->run_n = 0;
    dvm_status st = rc_flush(rc);       /* results before it, in order */
    if (!st)
        st = rc_wait_reply(rc, MSG_RUN);
    if (st)
        return st;
    if (rc->run_n && rc->run_n != n)
        return status_set(DVM_EPROTO, "RUN: %llu frames for %llu asked",
                          (unsigned long long)rc->run_n,
                          (unsigned long long)n);
    *first = rc->run_n ? rc->run_first : 0;
    return DVM_OK;
}

dvm_status rc_adopt_on_run(rcomp *rc, const uint8_t *p, size_t len)
{
    uint64_t v[2];
    if (msg_decode_u64s(p, len, v, 2))
        return status_set(DVM_EPROTO, "RUN: bad message");
    if (v[1] && (v[0] == 0 || v[1] > rc->nframes ||
                 v[0] > rc->nframes - v[1]))
        return status_set(DVM_EPROTO, "RUN: frames %llu + %llu out of range",
                          (unsigned long long)v[0], (unsigned long long)v[1]);
    rc->run_first = (uint32_t)v[0];
    rc->run_n = v[1];
    return DVM_OK;
}

dvm_status rc_adopt_span(rcomp *rc, uint64_t page, uint64_t n)
{
    if (!rc->adopt_min || n < rc->adopt_min ||
        rc->nadopted == RC_MAX_SPANS)
        return DVM_OK;
    uint32_t first;
    dvm_status st = ask_run(rc, n, &first);
    if (st || !first)
        return st;
    st = window_span_map(rc->win, page, n, rc->store_fd,
                         (uint64_t)first * STORE_FRAME_SIZE);
    if (!st)    /* else fatal: the master takes the run back with the rest */
        rc->adopted[rc->nadopted++] = (rc_adopted){ page, n, first };
    return st;
}

int rc_adopt_frame(const rcomp *rc, uint64_t page, uint32_t *frame)
{
    for (size_t i = 0; i < rc->nadopted; i++) {
        const rc_adopted *a = &rc->adopted[i];
        if (page - a->lo < a->n) {
            *frame = a->first + (uint32_t)(page - a->lo);
            return 1;
        }
    }
    return 0;
}

dvm_status rc_adopt_end(rcomp *rc)
{
    dvm_status st = DVM_OK;
    for (size_t i = 0; i < rc->nadopted && !st; i++) {
        const rc_adopted *a = &rc->adopted[i];
        st = window_span_unmap(rc->win, a->lo);
        uint64_t v[2] = { a->first, a->n };
        msg_encode_u64s(&rc->obuf, MSG_RUN_DONE, v, 2);
    }
    rc->nadopted = 0;
    return st;
}
