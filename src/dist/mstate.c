/*
 * mstate.c -- the cluster master's saved state in LMDB (see mstate.h for
 * the layout).
 *
 * One environment, opened once; a batch is one write transaction, so a
 * batch is in the store whole or not at all, and it is on disk when
 * mdb_txn_commit returns (LMDB's default durability: no MDB_NOSYNC).
 * Readers decode every value through the checks below before anything
 * reaches the scheduler: a short or long value, a count beyond its bound,
 * a key that disagrees with its value, or a format other than this one's
 * makes the store "corrupt", named with its directory.
 */
#define _GNU_SOURCE
#include "dist/mstate.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isa/isa.h"
#include "util/alloc.h"
#include "util/le.h"

#define MSTATE_MAGIC 0x534d5644u        /* "DVMS" little endian */
#define MSTATE_MAP_BYTES (64ULL << 30)  /* most the store may hold */
#define MSTATE_PAGE_VAL (8 + DISA_PAGE)
#define MSTATE_OUT_MAX (64u << 20)      /* most bytes in one output record */
#define MSTATE_STATS_WORDS (sizeof(master_stats) / 8)
#define MSTATE_HEAD_FIXED (3 * 8 + 4 + sizeof(master_stats) + 4)

enum { DB_META, DB_PAGES, DB_RUNNERS, DB_OUTPUT, DB_COUNT };
static const char *const db_names[DB_COUNT] = { "meta", "pages", "runners",
                                                "output" };

struct mstate {
    char dir[512];
    int lock_fd;                /* DIR/master.lock, held (flock) while open */
    MDB_env *env;
    MDB_dbi db[DB_COUNT];
    MDB_txn *txn;               /* the batch being written, or NULL */
    dvm_status err;             /* first failed put of the batch */
    char err_msg[256];
};

_Static_assert(sizeof(master_stats) % 8 == 0, "counters are u64s");

/* ---- errors -------------------------------------------------------------- */

static dvm_status lmdb_error(const mstate *ms, int rc, const char *what)
{
    return status_set(rc == MDB_MAP_FULL ? DVM_ENOMEM : DVM_EIO,
                      "%s: %s: %s", ms->dir, what, mdb_strerror(rc));
}

static dvm_status corrupt(const mstate *ms, const char *what)
{
    return status_set(DVM_EFORMAT, "%s: corrupt master state: %s", ms->dir,
                      what);
}

/* Latches the first error of a batch. */
static dvm_status latch(mstate *ms, dvm_status st)
{
    if (st && !ms->err) {
        ms->err = st;
        snprintf(ms->err_msg, sizeof ms->err_msg, "%s", status_message());
    }
    return st;
}

/* ---- keys ---------------------------------------------------------------- */

static void be_st64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t be_ld64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static dvm_status put(mstate *ms, int db, const void *k, size_t nk,
                      const void *v, size_t nv)
{
    if (ms->err)
        return ms->err;
    if (!ms->txn)
        return latch(ms, status_set(DVM_EINVAL, "mstate: put outside a "
                                    "batch"));
    MDB_val key = { nk, (void *)k }, val = { nv, (void *)v };
    int rc = mdb_put(ms->txn, ms->db[db], &key, &val, 0);
    return rc ? latch(ms, lmdb_error(ms, rc, "write")) : DVM_OK;
}

static dvm_status del(mstate *ms, int db, const void *k, size_t nk)
{
    if (ms->err)
        return ms->err;
    MDB_val key = { nk, (void *)k };
    int rc = ms->txn ? mdb_del(ms->txn, ms->db[db], &key, NULL) : EINVAL;
    return rc && rc != MDB_NOTFOUND ? latch(ms, lmdb_error(ms, rc, "delete"))
                                    : DVM_OK;
}

/* ---- open ---------------------------------------------------------------- */

static void format_bytes(uint8_t f[16])
{
    le_st32(f, MSTATE_MAGIC);
    le_st32(f + 4, MSTATE_FORMAT);
    le_st32(f + 8, DISA_PAGE);
    le_st32(f + 12, (uint32_t)sizeof(master_stats));
}

/* Writes the format record into a new store, or checks the one there. */
static dvm_status check_format(mstate *ms, MDB_txn *txn)
{
    uint8_t want[16];
    format_bytes(want);
    MDB_val key = { 6, "format" }, val;
    int rc = mdb_get(txn, ms->db[DB_META], &key, &val);
    if (rc == MDB_NOTFOUND) {
        MDB_stat s;
        for (int i = 0; i < DB_COUNT; i++)
            if (!mdb_stat(txn, ms->db[i], &s) && s.ms_entries)
                return corrupt(ms, "no format record");
        val = (MDB_val){ sizeof want, want };
        rc = mdb_put(txn, ms->db[DB_META], &key, &val, 0);
    }
    if (rc)
        return lmdb_error(ms, rc, "format");
    if (val.mv_size != sizeof want || le_ld32(val.mv_data) != MSTATE_MAGIC)
        return corrupt(ms, "not a DVM master state");
    if (memcmp(val.mv_data, want, sizeof want))
        return status_set(DVM_EFORMAT, "%s: master state of format %u "
                          "(page %u, %u counter bytes); this master reads "
                          "format %u (page %u, %zu counter bytes)", ms->dir,
                          le_ld32((uint8_t *)val.mv_data + 4),
                          le_ld32((uint8_t *)val.mv_data + 8),
                          le_ld32((uint8_t *)val.mv_data + 12), MSTATE_FORMAT,
                          (unsigned)DISA_PAGE, sizeof(master_stats));
    return DVM_OK;
}

static dvm_status open_dbs(mstate *ms)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(ms->env, NULL, 0, &txn);
    if (rc)
        return lmdb_error(ms, rc, "begin");
    for (int i = 0; i < DB_COUNT && !rc; i++)
        rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &ms->db[i]);
    dvm_status st = rc ? lmdb_error(ms, rc, "open") : check_format(ms, txn);
    if (st) {
        mdb_txn_abort(txn);
        return st;
    }
    rc = mdb_txn_commit(txn);
    return rc ? lmdb_error(ms, rc, "commit") : DVM_OK;
}

/* One master per store: an exclusive lock on DIR/master.lock. */
static dvm_status lock_dir(mstate *ms)
{
    char path[600];
    snprintf(path, sizeof path, "%s/master.lock", ms->dir);
    ms->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (ms->lock_fd < 0)
        return status_set_errno(DVM_EIO, "cannot open '%s'", path);
    if (flock(ms->lock_fd, LOCK_EX | LOCK_NB))
        return status_set(DVM_EIO, "%s: in use by another master", ms->dir);
    return DVM_OK;
}

dvm_status mstate_open(const char *dir, mstate **out)
{
    mstate *ms = dvm_calloc(1, sizeof *ms);
    if (!ms)
        return status_set(DVM_ENOMEM, "out of memory");
    snprintf(ms->dir, sizeof ms->dir, "%s", dir);
    ms->lock_fd = -1;
    dvm_status st = DVM_OK;
    int rc;
    if (strlen(dir) >= sizeof ms->dir - 16)
        st = status_set(DVM_EINVAL, "state directory name too long");
    else if (mkdir(dir, 0700) && errno != EEXIST)
        st = status_set_errno(DVM_EIO, "cannot create '%s'", dir);
    else
        st = lock_dir(ms);
    if (!st && ((rc = mdb_env_create(&ms->env)) ||
                (rc = mdb_env_set_maxdbs(ms->env, DB_COUNT)) ||
                (rc = mdb_env_set_mapsize(ms->env, MSTATE_MAP_BYTES)) ||
                (rc = mdb_env_open(ms->env, dir, 0, 0600))))
        st = lmdb_error(ms, rc, "open");
    if (!st)
        st = open_dbs(ms);
    if (st) {
        mstate_close(ms);
        return st;
    }
    *out = ms;
    return DVM_OK;
}

void mstate_close(mstate *ms)
{
    if (!ms)
        return;
    if (ms->txn)
        mdb_txn_abort(ms->txn);
    if (ms->env)
        mdb_env_close(ms->env);
    if (ms->lock_fd >= 0)
        close(ms->lock_fd);
    dvm_free(ms);
}

/* ---- batches ------------------------------------------------------------- */

dvm_status mstate_begin(mstate *ms)
{
    if (ms->txn)
        return status_set(DVM_EINVAL, "mstate: a batch is open");
    ms->err = DVM_OK;
    int rc = mdb_txn_begin(ms->env, NULL, 0, &ms->txn);
    if (rc) {
        ms->txn = NULL;
        return lmdb_error(ms, rc, "begin");
    }
    return DVM_OK;
}

void mstate_abort(mstate *ms)
{
    if (ms->txn)
        mdb_txn_abort(ms->txn);
    ms->txn = NULL;
}

dvm_status mstate_commit(mstate *ms)
{
    if (ms->err || !ms->txn) {
        mstate_abort(ms);
        return ms->err ? status_set(ms->err, "%s", ms->err_msg)
                       : status_set(DVM_EINVAL, "mstate: no batch");
    }
    int rc = mdb_txn_commit(ms->txn);
    ms->txn = NULL;
    return rc ? lmdb_error(ms, rc, "commit") : DVM_OK;
}

dvm_status mstate_clear(mstate *ms)
{
    if (ms->err || !ms->txn)
        return latch(ms, ms->err ? ms->err : status_set(DVM_EINVAL,
                                                        "mstate: no batch"));
    int rc = 0;
    for (int i = DB_PAGES; i < DB_COUNT && !rc; i++)
        rc = mdb_drop(ms->txn, ms->db[i], 0);
    if (rc)
        return latch(ms, lmdb_error(ms, rc, "clear"));
    del(ms, DB_META, "head", 4);
    del(ms, DB_META, "verdict", 7);
    return del(ms, DB_META, "submit", 6);
}

dvm_status mstate_clear_runners(mstate *ms)
{
    if (ms->err || !ms->txn)
        return latch(ms, ms->err ? ms->err : status_set(DVM_EINVAL,
                                                        "mstate: no batch"));
    int rc = mdb_drop(ms->txn, ms->db[DB_RUNNERS], 0);
    return rc ? latch(ms, lmdb_error(ms, rc, "clear")) : DVM_OK;
}

dvm_status mstate_put_submit(mstate *ms, const uint8_t *p, size_t n)
{
    return put(ms, DB_META, "submit", 6, p, n);
}

dvm_status mstate_put_verdict(mstate *ms, const uint8_t *p, size_t n)
{
    return put(ms, DB_META, "verdict", 7, p, n);
}

/* ---- the head ------------------------------------------------------------- */

dvm_status mstate_put_head(mstate *ms, const mstate_head *h)
{
    if (h->nchans > MSTATE_MAX_CHANS)
        return latch(ms, status_set(DVM_EINVAL, "mstate: %u channels",
                                    h->nchans));
    uint8_t b[MSTATE_HEAD_FIXED + MSTATE_MAX_CHANS * 16], *p = b;
    const uint64_t *w = (const uint64_t *)&h->stats;
    le_st64(p, h->epoch);
    le_st64(p + 8, h->next_rid);
    le_st64(p + 16, h->submit_id);
    le_st32(p + 24, (uint32_t)sizeof h->stats);
    p += 28;
    for (size_t i = 0; i < MSTATE_STATS_WORDS; i++, p += 8)
        le_st64(p, w[i]);
    le_st32(p, h->nchans);
    p += 4;
    for (uint32_t i = 0; i < h->nchans; i++, p += 16) {
        le_st64(p, h->chans[i].chan);
        le_st64(p + 8, h->chans[i].bytes);
    }
    return put(ms, DB_META, "head", 4, b, (size_t)(p - b));
}

static dvm_status decode_head(const mstate *ms, const uint8_t *p, size_t n,
                              mstate_head *h)
{
    if (n < MSTATE_HEAD_FIXED || le_ld32(p + 24) != sizeof h->stats)
        return corrupt(ms, "bad head record");
    uint32_t nch = le_ld32(p + MSTATE_HEAD_FIXED - 4);
    if (nch > MSTATE_MAX_CHANS || n != MSTATE_HEAD_FIXED + (size_t)nch * 16)
        return corrupt(ms, "bad channel count in the head record");
    memset(h, 0, sizeof *h);
    h->epoch = le_ld64(p);
    h->next_rid = le_ld64(p + 8);
    h->submit_id = le_ld64(p + 16);
    uint64_t *w = (uint64_t *)&h->stats;
    for (size_t i = 0; i < MSTATE_STATS_WORDS; i++)
        w[i] = le_ld64(p + 28 + 8 * i);
    h->nchans = nch;
    p += MSTATE_HEAD_FIXED;
    for (uint32_t i = 0; i < nch; i++, p += 16) {
        h->chans[i] = (mstate_chan){ le_ld64(p), le_ld64(p + 8) };
        for (uint32_t k = 0; k < i; k++)
            if (h->chans[k].chan == h->chans[i].chan)
                return corrupt(ms, "a channel twice in the head record");
    }
    if (h->epoch == 0 || h->next_rid == 0)
        return corrupt(ms, "epoch or run id 0 in the head record");
    return DVM_OK;
}

/* A copy of v's bytes (one more byte allocated, so that an empty value
 * is not a NULL copy), owned by the caller; NULL when out of memory. */
static uint8_t *copy_value(const MDB_val *v)
{
    uint8_t *c = dvm_malloc(v->mv_size + 1);
    if (c)
        memcpy(c, v->mv_data, v->mv_size);
    return c;
}

dvm_status mstate_get(mstate *ms, int *present, mstate_head *h,
                      uint8_t **submit, size_t *nsubmit)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(ms->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return lmdb_error(ms, rc, "begin");
    MDB_val hk = { 4, "head" }, sk = { 6, "submit" }, hv, sv;
    int rh = mdb_get(txn, ms->db[DB_META], &hk, &hv);
    int rs = mdb_get(txn, ms->db[DB_META], &sk, &sv);
    dvm_status st = DVM_OK;
    uint8_t *copy = NULL;
    if ((rh && rh != MDB_NOTFOUND) || (rs && rs != MDB_NOTFOUND))
        st = lmdb_error(ms, rh ? rh : rs, "read");
    else if (rh != rs)
        st = corrupt(ms, "a head without its program or the reverse");
    else if (!rh && (st = decode_head(ms, hv.mv_data, hv.mv_size, h)) == 0 &&
             !(copy = copy_value(&sv)))
        st = status_set(DVM_ENOMEM, "out of memory");
    if (!st && copy) {
        *submit = copy;
        *nsubmit = sv.mv_size;
    }
    if (!st)
        *present = rh == 0;
    mdb_txn_abort(txn);
    return st;
}

dvm_status mstate_get_verdict(mstate *ms, int *present, uint8_t **p,
                              size_t *n)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(ms->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return lmdb_error(ms, rc, "begin");
    MDB_val k = { 7, "verdict" }, v;
    rc = mdb_get(txn, ms->db[DB_META], &k, &v);
    dvm_status st = DVM_OK;
    uint8_t *copy = NULL;
    if (rc && rc != MDB_NOTFOUND)
        st = lmdb_error(ms, rc, "read");
    else if (!rc && !(copy = copy_value(&v)))
        st = status_set(DVM_ENOMEM, "out of memory");
    if (!st && copy) {
        *p = copy;
        *n = v.mv_size;
    }
    if (!st)
        *present = rc == 0;
    mdb_txn_abort(txn);
    return st;
}

/* ---- pages ----------------------------------------------------------------- */

dvm_status mstate_put_page(mstate *ms, uint64_t page, uint64_t epoch,
                           const uint8_t *data)
{
    uint8_t k[8], v[MSTATE_PAGE_VAL];
    be_st64(k, page);
    le_st64(v, epoch);
    memcpy(v + 8, data, DISA_PAGE);
    return put(ms, DB_PAGES, k, sizeof k, v, sizeof v);
}

/* Calls each(arg, key, value) for every entry of db, in key order, in one
 * read transaction; stops at the first error. */
static dvm_status scan(mstate *ms, int db, const MDB_val *from,
                       dvm_status (*each)(mstate *ms, const MDB_val *k,
                                          const MDB_val *v, void *arg),
                       void *arg)
{
    MDB_txn *txn;
    MDB_cursor *c;
    int rc = mdb_txn_begin(ms->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return lmdb_error(ms, rc, "begin");
    if ((rc = mdb_cursor_open(txn, ms->db[db], &c))) {
        mdb_txn_abort(txn);
        return lmdb_error(ms, rc, "cursor");
    }
    MDB_val k = from ? *from : (MDB_val){ 0, NULL }, v;
    dvm_status st = DVM_OK;
    rc = mdb_cursor_get(c, &k, &v, from ? MDB_SET_RANGE : MDB_FIRST);
    while (!rc && !st) {
        st = each(ms, &k, &v, arg);
        if (!st)
            rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    if (!st && rc && rc != MDB_NOTFOUND)
        st = lmdb_error(ms, rc, "read");
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return st;
}

typedef struct page_scan {
    mstate_page_fn fn;
    void *arg;
} page_scan;

static dvm_status page_each(mstate *ms, const MDB_val *k, const MDB_val *v,
                            void *arg)
{
    page_scan *ps = arg;
    if (k->mv_size != 8 || v->mv_size != MSTATE_PAGE_VAL)
        return corrupt(ms, "bad page record");
    const uint8_t *p = v->mv_data;
    uint64_t page = be_ld64(k->mv_data), epoch = le_ld64(p);
    if (!DISA_SR_PAGE(page) || epoch == 0)
        return corrupt(ms, "a page outside the SR or of epoch 0");
    return ps->fn(ps->arg, page, epoch, p + 8);
}

dvm_status mstate_each_page(mstate *ms, mstate_page_fn fn, void *arg)
{
    page_scan ps = { fn, arg };
    return scan(ms, DB_PAGES, NULL, page_each, &ps);
}

/* ---- runners --------------------------------------------------------------- */

#define RUNNER_FIXED (3 * 8 + 2 * 4 + 3 * 8 + 3 * 4)

dvm_status mstate_put_runner(mstate *ms, const persist_runner *r)
{
    size_t nr = (size_t)r->d.nheap + r->d.nwatch;
    size_t n = RUNNER_FIXED + 16 * nr;
    uint8_t *b = dvm_malloc(n), *p = b, k[8];
    if (!b)
        return latch(ms, status_set(DVM_ENOMEM, "out of memory"));
    le_st64(p, r->rid);
    le_st64(p + 8, r->attempt);
    le_st64(p + 16, r->watch_from);
    le_st32(p + 24, r->lost);
    le_st32(p + 28, r->watching);
    le_st64(p + 32, r->d.sb);
    le_st64(p + 40, r->d.ss);
    le_st64(p + 48, r->d.fi);
    le_st32(p + 56, r->d.flags);
    le_st32(p + 60, r->d.nheap);
    le_st32(p + 64, r->d.nwatch);
    p += RUNNER_FIXED;
    for (size_t i = 0; i < nr; i++, p += 16) {
        const dvm_range *g = i < r->d.nheap ? &r->d.heap[i]
                                            : &r->d.watch[i - r->d.nheap];
        le_st64(p, g->lo);
        le_st64(p + 8, g->hi);
    }
    be_st64(k, r->rid);
    dvm_status st = put(ms, DB_RUNNERS, k, sizeof k, b, n);
    dvm_free(b);
    return st;
}

dvm_status mstate_del_runner(mstate *ms, uint64_t rid)
{
    uint8_t k[8];
    be_st64(k, rid);
    return del(ms, DB_RUNNERS, k, sizeof k);
}

static dvm_range *ranges_of(const uint8_t *p, uint32_t n)
{
    dvm_range *g = dvm_calloc(n ? n : 1, sizeof *g);
    for (uint32_t i = 0; g && i < n; i++, p += 16)
        g[i] = (dvm_range){ le_ld64(p), le_ld64(p + 8) };
    return g;
}

static dvm_status decode_runner(const mstate *ms, const MDB_val *k,
                                const MDB_val *v, persist_runner *r)
{
    const uint8_t *p = v->mv_data;
    if (k->mv_size != 8 || v->mv_size < RUNNER_FIXED)
        return corrupt(ms, "bad runner record");
    uint32_t nh = le_ld32(p + 60), nw = le_ld32(p + 64);
    if (nh > RUNNER_MAX_RANGES || nw > RUNNER_MAX_RANGES ||
        v->mv_size != RUNNER_FIXED + 16 * ((size_t)nh + nw) ||
        le_ld64(p) != be_ld64(k->mv_data))
        return corrupt(ms, "bad runner record");
    *r = (persist_runner){ .rid = le_ld64(p), .attempt = le_ld64(p + 8),
                           .watch_from = le_ld64(p + 16),
                           .lost = le_ld32(p + 24),
                           .watching = le_ld32(p + 28),
                           .d = { .sb = le_ld64(p + 32),
                                  .ss = le_ld64(p + 40),
                                  .fi = le_ld64(p + 48),
                                  .flags = le_ld32(p + 56), .nheap = nh,
                                  .nwatch = nw } };
    r->d.heap = ranges_of(p + RUNNER_FIXED, nh);
    r->d.watch = nw ? ranges_of(p + RUNNER_FIXED + 16 * (size_t)nh, nw)
                    : NULL;
    if (!r->d.heap || (nw && !r->d.watch)) {
        runner_desc_free(&r->d);
        return status_set(DVM_ENOMEM, "out of memory");
    }
    if (!runner_desc_valid(&r->d) || r->watching > 1 || r->rid == 0 ||
        (r->watching && nw == 0)) {
        runner_desc_free(&r->d);
        return corrupt(ms, "a runner DISA does not allow");
    }
    return DVM_OK;
}

typedef struct runner_scan {
    mstate_runner_fn fn;
    void *arg;
} runner_scan;

static dvm_status runner_each(mstate *ms, const MDB_val *k, const MDB_val *v,
                              void *arg)
{
    runner_scan *rs = arg;
    persist_runner r;
    dvm_status st = decode_runner(ms, k, v, &r);
    if (st)
        return st;
    st = rs->fn(rs->arg, &r);
    runner_desc_free(&r.d);
    return st;
}

dvm_status mstate_each_runner(mstate *ms, mstate_runner_fn fn, void *arg)
{
    runner_scan rs = { fn, arg };
    return scan(ms, DB_RUNNERS, NULL, runner_each, &rs);
}

/* ---- output ---------------------------------------------------------------- */

dvm_status mstate_put_output(mstate *ms, uint64_t chan, uint64_t at,
                             const uint8_t *p, size_t n)
{
    uint8_t k[16];
    if (n == 0)
        return DVM_OK;
    if (n > MSTATE_OUT_MAX)
        return latch(ms, status_set(DVM_EINVAL, "mstate: output record of "
                                    "%zu bytes", n));
    be_st64(k, chan);
    be_st64(k + 8, at);
    return put(ms, DB_OUTPUT, k, sizeof k, p, n);
}

typedef struct out_scan {
    uint64_t chan, at, upto;    /* next byte wanted, last one + 1 */
    mstate_output_fn fn;
    void *arg;
} out_scan;

/* A scan callback's "done" (not an error: no dvm_status is positive). */
#define MSTATE_STOP ((dvm_status)1)

static dvm_status out_each(mstate *ms, const MDB_val *k, const MDB_val *v,
                           void *arg)
{
    out_scan *os = arg;
    if (k->mv_size != 16 || v->mv_size == 0 || v->mv_size > MSTATE_OUT_MAX)
        return corrupt(ms, "bad output record");
    uint64_t chan = be_ld64(k->mv_data), at = be_ld64((uint8_t *)k->mv_data + 8);
    if (chan != os->chan || os->at >= os->upto)
        return MSTATE_STOP;
    if (at > os->at)
        return corrupt(ms, "a gap in the saved output");
    if (at + v->mv_size <= os->at)
        return DVM_OK;
    size_t skip = (size_t)(os->at - at), n = v->mv_size - skip;
    if (n > os->upto - os->at)
        n = (size_t)(os->upto - os->at);
    os->at += n;
    return os->fn(os->arg, chan, (const uint8_t *)v->mv_data + skip, n);
}

dvm_status mstate_each_output(mstate *ms, uint64_t chan, uint64_t from,
                              uint64_t upto, mstate_output_fn fn, void *arg)
{
    out_scan os = { chan, from, upto, fn, arg };
    uint8_t k[16];
    be_st64(k, chan);
    be_st64(k + 8, 0);
    MDB_val key = { sizeof k, k };
    dvm_status st = from >= upto ? DVM_OK
                                 : scan(ms, DB_OUTPUT, &key, out_each, &os);
    if (st == MSTATE_STOP)
        st = DVM_OK;
    if (!st && os.at < upto)
        st = corrupt(ms, "saved output ends early");
    return st;
}
