/*
 * msave.c -- saving a running program at commit points, restoring it,
 * and replaying its output to a resuming client (see msave.h).
 *
 * The order within a batch is what makes output exactly-once: the bytes a
 * commit emits are appended to the store's output log and its channel
 * position advanced in the same transaction as the commit's pages and
 * runners; only after that transaction is durable are they sent.  If the
 * master dies before the transaction, neither the commit nor its output
 * happened as far as anyone can tell (the runner runs again); if it dies
 * after, the store has both, and the client, which says how many bytes
 * it got, receives the rest from the log.
 */
#include "dist/msave.h"

#include <inttypes.h>
#include <string.h>

#include "isa/isa.h"
#include "sched/persist.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/le.h"

dvm_status msave_open(msave *v, const char *dir, int *present, int *ended,
                      uint8_t **submit, size_t *nsubmit)
{
    memset(v, 0, sizeof *v);
    mb_init(&v->pend);
    int got = 0, verdict = 0;
    uint8_t *p = NULL, *sub = NULL;
    size_t n = 0, nsub = 0;
    cmsg_done d;
    dvm_status st = mstate_open(dir, &v->ms);
    if (!st)
        st = mstate_get(v->ms, &got, &v->head, &sub, &nsub);
    if (!st)
        st = mstate_get_verdict(v->ms, &verdict, &p, &n);
    if (!st && verdict && !got)
        st = status_set(DVM_EFORMAT, "%s: corrupt master state: a verdict "
                        "without its program", dir);
    else if (!st && verdict && cmsg_decode_done(p, n, &d))
        st = status_set(DVM_EFORMAT, "%s: corrupt master state: the "
                        "verdict: %s", dir, status_message());
    dvm_free(p);
    if (st) {
        dvm_free(sub);
        return st;
    }
    if (got) {
        v->saved_epoch = v->head.epoch;
        *submit = sub;
        *nsubmit = nsub;
    }
    *present = got;
    *ended = verdict;
    return DVM_OK;
}

void msave_close(msave *v)
{
    mstate_close(v->ms);
    v->ms = NULL;
    mb_free(&v->pend);
}

dvm_status msave_output(msave *v, uint64_t chan, const void *p, size_t n)
{
    mb_u64(&v->pend, chan);
    mb_u64(&v->pend, n);
    mb_bytes(&v->pend, p, n);
    return v->pend.oom ? status_set(DVM_ENOMEM, "out of memory for output")
                       : DVM_OK;
}

/* ---- saving ------------------------------------------------------------- */

/* A page's newest version into the batch; one away from the master is
 * read through v->away, and one it does not give is noted (lacking). */
static void put_page(void *arg, uint64_t page, uint64_t epoch,
                     const uint8_t *data)
{
    msave *v = arg;
    if (!data && v->away)
        data = v->away(v->away_arg, page, epoch);
    if (data) {
        mstate_put_page(v->ms, page, epoch, data);
    } else if (!v->lacking) {
        v->lacking = 1;
        v->lack_page = page;
        v->lack_epoch = epoch;
    }
}

/* The batch's pages since `after` (0: all); DVM_EIO, the batch aborted,
 * when one was away and not given. */
static dvm_status put_pages(msave *v, const commit_point *cp, uint64_t after)
{
    v->lacking = 0;
    persist_pages_since(cp, after, put_page, v);
    if (!v->lacking)
        return DVM_OK;
    mstate_abort(v->ms);
    return status_set(DVM_EIO, "cannot save the master's state: the data "
                      "of page 0x%" PRIx64 " (the version of commit %" PRIu64
                      ") is not at the master",
                      v->lack_page * (uint64_t)DISA_PAGE, v->lack_epoch);
}

static void put_runner(void *arg, const persist_runner *r)
{
    mstate_put_runner(((msave *)arg)->ms, r);
}

static void del_runner(void *arg, uint64_t rid)
{
    mstate_del_runner(((msave *)arg)->ms, rid);
}

/* The head's position of chan, added at 0 if new; NULL when full. */
static mstate_chan *chan_of(msave *v, uint64_t chan)
{
    for (uint32_t i = 0; i < v->head.nchans; i++)
        if (v->head.chans[i].chan == chan)
            return &v->head.chans[i];
    if (v->head.nchans == MSTATE_MAX_CHANS)
        return NULL;
    v->head.chans[v->head.nchans] = (mstate_chan){ chan, 0 };
    return &v->head.chans[v->head.nchans++];
}

/* Calls fn(arg, chan, p, n) for each held output record, in order. */
static dvm_status each_pending(const msave *v,
                               dvm_status (*fn)(void *arg, uint64_t chan,
                                                const uint8_t *p, size_t n),
                               void *arg)
{
    dvm_status st = DVM_OK;
    for (size_t off = 0; off < v->pend.len && !st;) {
        uint64_t chan = le_ld64(v->pend.p + off);
        size_t n = (size_t)le_ld64(v->pend.p + off + 8);
        st = fn(arg, chan, v->pend.p + off + 16, n);
        off += 16 + n;
    }
    return st;
}

static dvm_status put_output(void *arg, uint64_t chan, const uint8_t *p,
                             size_t n)
{
    msave *v = arg;
    mstate_chan *c = chan_of(v, chan);
    if (!c)
        return status_set(DVM_ERANGE, "more than %d output channels to save",
                          MSTATE_MAX_CHANS);
    dvm_status st = mstate_put_output(v->ms, chan, c->bytes, p, n);
    c->bytes += n;
    return st;
}

/* The batch's head and commit. */
static dvm_status save_head(msave *v, const commit_point *cp)
{
    v->head.epoch = commit_epoch(cp);
    v->head.next_rid = cp->pool->next_rid;
    v->head.stats = *cp->st;
    mstate_put_head(v->ms, &v->head);
    dvm_status st = mstate_commit(v->ms);
    if (st)
        return status_set(st, "cannot save the master's state: %s",
                          status_message());
    v->saved_epoch = v->head.epoch;
    v->saved_ns = clock_now_ns();
    return DVM_OK;
}

dvm_status msave_start(msave *v, master *m, const uint8_t *submit, size_t n)
{
    if (!v->ms)
        return DVM_OK;
    commit_point *cp = master_commit_point(m);
    dvm_status st = mstate_begin(v->ms);
    if (st)
        return st;
    memset(&v->head, 0, sizeof v->head);
    v->head.submit_id = cmsg_submit_id(submit, n);
    mstate_clear(v->ms);
    mstate_put_submit(v->ms, submit, n);
    if ((st = put_pages(v, cp, 0)))
        return st;
    persist_each_runner(cp, master_rcomps(m), put_runner, v);
    persist_journal_start(cp);
    return save_head(v, cp);
}

/* True when something is not saved yet. */
static int unsaved(const msave *v, master *m)
{
    const commit_point *cp = master_commit_point(m);
    return commit_epoch(cp) != v->saved_epoch || cp->pool->njournal ||
           cp->pool->journal_oom || v->pend.len;
}

int msave_wait_ms(const msave *v, master *m)
{
    if (!v->ms || !unsaved(v, m))
        return -1;
    uint64_t due = v->saved_ns + (v->pend.len ? MSAVE_OUTPUT_MS
                                               : MSAVE_DEFER_MS) * 1000000ull;
    uint64_t t = clock_now_ns();
    return t >= due ? 0 : (int)((due - t + 999999) / 1000000);
}

int msave_due(const msave *v, master *m, int now)
{
    int wait = msave_wait_ms(v, m);
    return now ? wait >= 0 : wait == 0;
}

dvm_status msave_batch(msave *v, master *m, int now, msave_send_fn send,
                       void *arg)
{
    if (!msave_due(v, m, now))
        return DVM_OK;
    commit_point *cp = master_commit_point(m);
    dvm_status st = mstate_begin(v->ms);
    if (st || (st = put_pages(v, cp, v->saved_epoch)))
        return st;
    if (persist_journal_drain(cp, put_runner, del_runner, v) < 0) {
        mstate_clear_runners(v->ms);
        persist_each_runner(cp, master_rcomps(m), put_runner, v);
    }
    st = each_pending(v, put_output, v);
    if (st) {
        mstate_abort(v->ms);
        return st;
    }
    st = save_head(v, cp);
    if (!st)
        st = each_pending(v, send, arg);
    mb_reset(&v->pend);
    return st;
}

/* The program is over: the batch that says so begins.  A program that
 * ran to its end saved all its output (the master's last batch); one that
 * failed or was cancelled may hold output never saved, hence never sent:
 * it is not part of the verdict, and goes. */
static dvm_status begin_over(msave *v)
{
    mb_reset(&v->pend);
    return mstate_begin(v->ms);
}

dvm_status msave_end(msave *v, const uint8_t *p, size_t n)
{
    if (!v->ms)
        return DVM_OK;
    dvm_status st = begin_over(v);
    if (st)
        return st;
    mstate_clear_runners(v->ms);
    mstate_put_verdict(v->ms, p, n);
    st = mstate_commit(v->ms);
    return st ? status_set(st, "cannot save the program's verdict: %s",
                           status_message()) : DVM_OK;
}

dvm_status msave_verdict(msave *v, uint8_t **p, size_t *n)
{
    int present = 0;
    dvm_status st = v->ms ? mstate_get_verdict(v->ms, &present, p, n)
                          : DVM_OK;
    if (!st && !present)
        st = status_set(DVM_EFORMAT, "no verdict kept");
    return st;
}

dvm_status msave_finish(msave *v)
{
    if (!v->ms)
        return DVM_OK;
    dvm_status st = begin_over(v);
    if (st)
        return st;
    mstate_clear(v->ms);
    return mstate_commit(v->ms);
}

/* ---- restoring ---------------------------------------------------------- */

static dvm_status restore_page(void *arg, uint64_t page, uint64_t epoch,
                               const uint8_t *data)
{
    return persist_restore_page(arg, page, epoch, data);
}

static dvm_status restore_runner(void *arg, persist_runner *r)
{
    return persist_restore_runner(arg, r);
}

dvm_status msave_restore(void *arg, commit_point *cp)
{
    msave *v = arg;
    dvm_status st = mstate_each_page(v->ms, restore_page, cp);
    if (!st)
        st = mstate_each_runner(v->ms, restore_runner, cp);
    if (!st)
        st = persist_restore_done(cp, v->head.epoch, v->head.next_rid);
    if (st)
        return status_set(DVM_EFORMAT, "the saved program cannot be "
                          "restored: %s", status_message());
    *cp->st = v->head.stats;
    persist_journal_start(cp);
    v->saved_epoch = v->head.epoch;
    return DVM_OK;
}

/* ---- a resuming client ---------------------------------------------------- */

dvm_status msave_replay(msave *v, const cmsg_resume *r, msave_send_fn send,
                        void *arg)
{
    if (r->id != v->head.submit_id)
        return status_set(DVM_EPROTO, "not the program this master saved");
    uint64_t from[MSTATE_MAX_CHANS] = { 0 };
    for (uint32_t i = 0; i < r->n; i++) {
        uint32_t k = 0;
        while (k < v->head.nchans && v->head.chans[k].chan != r->chan[i])
            k++;
        if (k == v->head.nchans ? r->bytes[i] != 0
                                : r->bytes[i] > v->head.chans[k].bytes)
            return status_set(DVM_EPROTO, "the client has more output than "
                              "the master emitted");
        if (k < v->head.nchans)
            from[k] = r->bytes[i];
    }
    dvm_status st = DVM_OK;
    for (uint32_t k = 0; k < v->head.nchans && !st; k++)
        st = mstate_each_output(v->ms, v->head.chans[k].chan, from[k],
                                v->head.chans[k].bytes, send, arg);
    return st;
}
