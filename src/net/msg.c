/*
 * msg.c -- encoding and validating decoding of master <-> RComp messages.
 *
 * Encoding appends to a msg_buf whose errors are sticky, so an encoder is a
 * straight sequence of mb_u64 calls and the caller checks b->oom once.
 * Decoding reads through a msg_reader whose errors are also sticky; every
 * count is checked with mr_count against the bytes that remain before any
 * allocation, so a message can never make the receiver allocate more than
 * a small multiple of its own size.
 *
 * A page change carries its changed bytes as runs (8 bytes each) or, when
 * the page is dense, as a 512-byte bitmap (MSG_CHANGE_BITMAP): a page of
 * 64-bit words whose high bytes stay zero has 512 runs, 4 KiB as runs.  A
 * dense change of a page that was zero carries nothing (MSG_CHANGE_IMPLIED):
 * its changed bytes are the nonzero bytes of its frame (diff.h).  The
 * decoder takes whichever form it is given and checks it (diff_valid);
 * that an implied page was zero is the receiver's to check against the
 * snapshot.
 */
#include "net/msg.h"

#include <assert.h>
#include <string.h>

#include "isa/isa.h"
#include "util/alloc.h"
#include "util/le.h"

/* ---- buffers ------------------------------------------------------------ */

void mb_init(msg_buf *b)
{
    memset(b, 0, sizeof *b);
}

void mb_free(msg_buf *b)
{
    dvm_free(b->p);
    mb_init(b);
}

void mb_reset(msg_buf *b)
{
    b->len = 0;
    b->oom = 0;
}

/* Makes room for n more bytes; returns 0 (and sets oom) on failure. */
static int mb_room(msg_buf *b, size_t n)
{
    if (b->oom)
        return 0;
    if (b->len + n <= b->cap)
        return 1;
    uint8_t *np = dvm_grow(b->p, &b->cap, b->len + n, 1);
    if (!np) {
        b->oom = 1;
        return 0;
    }
    b->p = np;
    return 1;
}

void mb_u64(msg_buf *b, uint64_t v)
{
    if (!mb_room(b, 8))
        return;
    le_st64(b->p + b->len, v);
    b->len += 8;
}

void mb_bytes(msg_buf *b, const void *p, size_t n)
{
    if (!mb_room(b, n))
        return;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

size_t mb_begin(msg_buf *b, uint32_t type)
{
    size_t start = b->len;
    mb_u64(b, type);
    mb_u64(b, 0);
    return start;
}

void mb_end(msg_buf *b, size_t start)
{
    if (b->oom)
        return;
    assert(b->len >= start + MSG_HEADER_SIZE);
    uint64_t n = b->len - start - MSG_HEADER_SIZE;
    le_st64(b->p + start + 8, n);
}

void mr_init(msg_reader *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->err = 0;
}

uint64_t mr_u64(msg_reader *r)
{
    if (r->err || r->len - r->pos < 8) {
        r->err = 1;
        return 0;
    }
    uint64_t v = le_ld64(r->p + r->pos);
    r->pos += 8;
    return v;
}

const uint8_t *mr_bytes(msg_reader *r, size_t n)
{
    if (r->err || r->len - r->pos < n) {
        r->err = 1;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

uint64_t mr_count(msg_reader *r, size_t min_item_bytes)
{
    uint64_t n = mr_u64(r);
    if (r->err)
        return 0;
    if (min_item_bytes && n > (r->len - r->pos) / min_item_bytes) {
        r->err = 1;
        return 0;
    }
    return n;
}

/* ---- shared pieces ------------------------------------------------------- */

static void encode_ranges(msg_buf *b, const dvm_range *r, uint32_t n)
{
    mb_u64(b, n);
    for (uint32_t i = 0; i < n; i++) {
        mb_u64(b, r[i].lo);
        mb_u64(b, r[i].hi);
    }
}

/* Decodes n ranges, each wholly in the SR and non-empty.  On success *out
 * (owned; NULL when n == 0) and *n are set. */
static dvm_status decode_ranges(msg_reader *r, uint32_t max, dvm_range **out,
                                uint32_t *n)
{
    uint64_t cnt = mr_count(r, 16);
    if (r->err || cnt > max)
        return status_set(DVM_EPROTO, "message: bad range count");
    dvm_range *v = NULL;
    if (cnt && !(v = dvm_malloc(cnt * sizeof *v)))
        return status_set(DVM_ENOMEM, "message: out of memory");
    for (uint64_t i = 0; i < cnt; i++) {
        v[i].lo = mr_u64(r);
        v[i].hi = mr_u64(r);
        if (r->err || v[i].lo < DISA_RB || v[i].hi <= v[i].lo ||
            v[i].hi > DISA_ADDR_LIMIT) {
            dvm_free(v);
            return status_set(DVM_EPROTO, "message: bad range");
        }
    }
    *out = v;
    *n = (uint32_t)cnt;
    return DVM_OK;
}

/* ---- DISPATCH ------------------------------------------------------------ */

void msg_encode_dispatch(msg_buf *b, const msg_dispatch *d)
{
    size_t start = mb_begin(b, MSG_DISPATCH);
    mb_u64(b, d->n);
    for (uint32_t i = 0; i < d->n; i++) {
        const msg_runner *r = &d->r[i];
        mb_u64(b, r->rid);
        mb_u64(b, r->attempt);
        mb_u64(b, r->snap);
        mb_u64(b, r->d.sb);
        mb_u64(b, r->d.ss);
        mb_u64(b, r->d.fi);
        mb_u64(b, r->flags);
        encode_ranges(b, r->d.heap, r->d.nheap);
        mb_u64(b, r->npre);
        for (uint32_t k = 0; k < r->npre; k++) {
            mb_u64(b, r->pre[k].page);
            mb_u64(b, r->pre[k].frame);
        }
        if (r->flags & MSG_RUNNER_KEEP) {
            int frames = !!(r->flags & MSG_RUNNER_KEEP_FRAMES);
            assert(!frames || !r->ninval || r->inval_frame);
            mb_u64(b, r->ninval);
            for (uint32_t k = 0; k < r->ninval; k++) {
                mb_u64(b, r->inval[k]);
                if (frames)
                    mb_u64(b, r->inval_frame[k]);
            }
        }
    }
    mb_end(b, start);
}

/* The MSG_RUNNER_KEEP list: SR pages, any order, repeats allowed; with
 * MSG_RUNNER_KEEP_FRAMES each with a frame id (checked against the store
 * by its user, as the prefetch frames are). */
static dvm_status decode_inval(msg_reader *rd, msg_runner *r)
{
    int frames = !!(r->flags & MSG_RUNNER_KEEP_FRAMES);
    uint64_t n = mr_count(rd, frames ? 16 : 8);
    if (rd->err || n > UINT32_MAX)
        return status_set(DVM_EPROTO, "dispatch: bad invalidation count");
    if (n && !(r->inval = dvm_malloc(n * sizeof *r->inval)))
        return status_set(DVM_ENOMEM, "dispatch: out of memory");
    if (n && frames &&
        !(r->inval_frame = dvm_malloc(n * sizeof *r->inval_frame)))
        return status_set(DVM_ENOMEM, "dispatch: out of memory");
    r->ninval = (uint32_t)n;
    for (uint64_t k = 0; k < n; k++) {
        r->inval[k] = mr_u64(rd);
        if (rd->err || r->inval[k] >= DISA_ADDR_LIMIT / DISA_PAGE)
            return status_set(DVM_EPROTO, "dispatch: bad invalidated page");
        if (!frames)
            continue;
        uint64_t f = mr_u64(rd);
        if (rd->err || f > UINT32_MAX)
            return status_set(DVM_EPROTO, "dispatch: bad invalidated "
                              "page's frame");
        r->inval_frame[k] = (uint32_t)f;
    }
    return DVM_OK;
}

static dvm_status decode_runner(msg_reader *rd, msg_runner *r)
{
    memset(r, 0, sizeof *r);
    r->rid = mr_u64(rd);
    r->attempt = mr_u64(rd);
    r->snap = mr_u64(rd);
    r->d.sb = mr_u64(rd);
    r->d.ss = mr_u64(rd);
    r->d.fi = mr_u64(rd);
    uint64_t flags = mr_u64(rd);
    if (flags & ~(uint64_t)MSG_RUNNER_FLAGS)
        return status_set(DVM_EPROTO, "dispatch: unknown runner flags");
    if ((flags & MSG_RUNNER_KEEP_FRAMES) && !(flags & MSG_RUNNER_KEEP))
        return status_set(DVM_EPROTO, "dispatch: frames of a list that "
                          "is not there");
    r->flags = (uint32_t)flags;
    dvm_status st = decode_ranges(rd, RUNNER_MAX_RANGES, &r->d.heap,
                                  &r->d.nheap);
    if (st)
        return st;
    if (rd->err || !runner_desc_valid(&r->d))
        return status_set(DVM_EPROTO, "dispatch: bad runner descriptor");
    uint64_t npre = mr_count(rd, 16);
    if (rd->err || npre > UINT32_MAX)
        return status_set(DVM_EPROTO, "dispatch: bad prefetch count");
    if (npre && !(r->pre = dvm_malloc(npre * sizeof *r->pre)))
        return status_set(DVM_ENOMEM, "dispatch: out of memory");
    r->npre = (uint32_t)npre;
    for (uint64_t k = 0; k < npre; k++) {
        r->pre[k].page = mr_u64(rd);
        uint64_t f = mr_u64(rd);
        if (rd->err || f == 0 || f > UINT32_MAX ||
            r->pre[k].page < DISA_RB / DISA_PAGE ||
            r->pre[k].page >= DISA_ADDR_LIMIT / DISA_PAGE)
            return status_set(DVM_EPROTO, "dispatch: bad prefetch entry");
        r->pre[k].frame = (uint32_t)f;
    }
    return (r->flags & MSG_RUNNER_KEEP) ? decode_inval(rd, r) : DVM_OK;
}

dvm_status msg_decode_dispatch(const uint8_t *p, size_t len, msg_dispatch *out)
{
    msg_reader rd;
    mr_init(&rd, p, len);
    uint64_t n = mr_count(&rd, 9 * 8);
    if (rd.err || n == 0)
        return status_set(DVM_EPROTO, "dispatch: bad runner count");
    msg_dispatch d = { 0, dvm_calloc(n, sizeof(msg_runner)) };
    if (!d.r)
        return status_set(DVM_ENOMEM, "dispatch: out of memory");
    dvm_status st = DVM_OK;
    for (uint64_t i = 0; i < n && !st; i++) {
        st = decode_runner(&rd, &d.r[i]);
        d.n = (uint32_t)(i + 1);
    }
    if (!st && rd.pos != len)
        st = status_set(DVM_EPROTO, "dispatch: trailing bytes");
    if (st) {
        msg_dispatch_free(&d);
        return st;
    }
    *out = d;
    return DVM_OK;
}

void msg_dispatch_free(msg_dispatch *d)
{
    for (uint32_t i = 0; i < d->n; i++) {
        runner_desc_free(&d->r[i].d);
        dvm_free(d->r[i].pre);
        dvm_free(d->r[i].inval);
        dvm_free(d->r[i].inval_frame);
    }
    dvm_free(d->r);
    d->r = NULL;
    d->n = 0;
}

/* ---- RESULT -------------------------------------------------------------- */

static void encode_change(msg_buf *b, const mem_change *c)
{
    const mem_delta dd = space_change_delta(c), *d = &dd;
    mb_u64(b, c->page);
    mb_u64(b, c->frame);
    if (diff_is_implied(*d)) {
        mb_u64(b, MSG_CHANGE_IMPLIED);
        return;
    }
    if (diff_is_bitmap(*d)) {
        mb_u64(b, MSG_CHANGE_BITMAP);
        for (unsigned w = 0; w < DIFF_WORDS; w++)
            mb_u64(b, d->bits[w]);
        return;
    }
    mb_u64(b, d->nruns);
    for (uint32_t i = 0; i < d->nruns; i++)
        mb_u64(b, (uint64_t)d->runs[i].off | (uint64_t)d->runs[i].len << 16);
}

static void encode_kid(msg_buf *b, const runner_desc *k)
{
    mb_u64(b, k->sb);
    mb_u64(b, k->ss);
    mb_u64(b, k->fi);
    mb_u64(b, k->flags);
    encode_ranges(b, k->heap, k->nheap);
    encode_ranges(b, k->watch, k->nwatch);
}

static void encode_output(msg_buf *b, const msg_output *o)
{
    mb_u64(b, o->chan);
    mb_u64(b, o->len);
    mb_u64(b, o->nframes);
    for (uint32_t i = 0; i < o->nframes; i++)
        mb_u64(b, o->frames[i]);
}

static void encode_note(msg_buf *b, const msg_note *n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)n->bytes[i] << (8 * i);
    mb_u64(b, n->addr);
    mb_u64(b, (uint64_t)n->len | (uint64_t)n->store << 8);
    mb_u64(b, v);
}

void msg_encode_result(msg_buf *b, const msg_result *r)
{
    size_t start = mb_begin(b, MSG_RESULT);
    const uint64_t head[] = { r->rid, r->attempt, r->snap, r->exit, r->fault,
                              r->fault_pc, r->fault_addr, r->t_start_ns,
                              r->t_end_ns, r->pages_prefetched,
                              r->pages_faulted };
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        mb_u64(b, head[i]);
    mb_u64(b, r->nchanges);
    for (uint32_t i = 0; i < r->nchanges; i++)
        encode_change(b, &r->changes[i]);
    mb_u64(b, r->nkids);
    for (uint32_t i = 0; i < r->nkids; i++)
        encode_kid(b, &r->kids[i]);
    mb_u64(b, r->nout);
    for (uint32_t i = 0; i < r->nout; i++)
        encode_output(b, &r->out[i]);
    mb_u64(b, r->local);
    mb_u64(b, r->flags);
    mb_u64(b, r->nnotes);
    for (uint32_t i = 0; i < r->nnotes; i++)
        encode_note(b, &r->notes[i]);
    mb_end(b, start);
}

/* Decodes n runs into c (owned). */
static dvm_status decode_runs(msg_reader *rd, uint64_t n, mem_change *c)
{
    mem_run *runs = dvm_malloc(n * sizeof *runs);
    if (!runs)
        return status_set(DVM_ENOMEM, "result: out of memory");
    *c = space_change(c->page, c->frame, diff_of_runs(runs, n));
    for (uint64_t i = 0; i < n; i++) {
        uint64_t v = mr_u64(rd);
        if (v >> 32) {
            rd->err = 1;
            break;
        }
        runs[i] = (mem_run){ (uint16_t)v, (uint16_t)(v >> 16) };
    }
    if (rd->err || !diff_valid(space_change_delta(c)))
        return status_set(DVM_EPROTO, "result: bad runs in page change");
    return DVM_OK;
}

/* Decodes a bitmap into c (owned). */
static dvm_status decode_bits(msg_reader *rd, mem_change *c)
{
    const uint8_t *p = mr_bytes(rd, DIFF_BITMAP_BYTES);
    if (!p)
        return status_set(DVM_EPROTO, "result: truncated bitmap");
    uint64_t *bits = dvm_malloc(DIFF_BITMAP_BYTES);
    if (!bits)
        return status_set(DVM_ENOMEM, "result: out of memory");
    msg_reader br;
    mr_init(&br, p, DIFF_BITMAP_BYTES);
    for (unsigned w = 0; w < DIFF_WORDS; w++)
        bits[w] = mr_u64(&br);
    *c = space_change(c->page, c->frame, diff_of_bits(bits));
    if (!diff_valid(space_change_delta(c)))
        return status_set(DVM_EPROTO, "result: empty bitmap in page change");
    return DVM_OK;
}

static dvm_status decode_change(msg_reader *rd, mem_change *c)
{
    c->page = mr_u64(rd);
    uint64_t f = mr_u64(rd);
    uint64_t tag = mr_u64(rd);
    int bitmap = tag == MSG_CHANGE_BITMAP, implied = tag == MSG_CHANGE_IMPLIED;
    if (rd->err || f == 0 || f > UINT32_MAX ||
        (!bitmap && !implied && (tag == 0 || tag > DIFF_MAX_RUNS ||
                                 tag > (rd->len - rd->pos) / 8)) ||
        c->page < DISA_RB / DISA_PAGE || c->page >= DISA_INPUT_BASE / DISA_PAGE)
        return status_set(DVM_EPROTO, "result: bad page change");
    c->frame = (uint32_t)f;
    if (implied) {
        *c = space_change(c->page, c->frame, diff_implied());
        return DVM_OK;
    }
    return bitmap ? decode_bits(rd, c) : decode_runs(rd, tag, c);
}

static dvm_status decode_kid(msg_reader *rd, runner_desc *k)
{
    k->sb = mr_u64(rd);
    k->ss = mr_u64(rd);
    k->fi = mr_u64(rd);
    uint64_t flags = mr_u64(rd);
    if (flags > UINT32_MAX)
        return status_set(DVM_EPROTO, "result: bad child flags");
    k->flags = (uint32_t)flags;
    dvm_status st = decode_ranges(rd, RUNNER_MAX_RANGES, &k->heap, &k->nheap);
    if (!st)
        st = decode_ranges(rd, RUNNER_MAX_RANGES, &k->watch, &k->nwatch);
    if (!st && (rd->err || !runner_desc_valid(k)))
        st = status_set(DVM_EPROTO, "result: bad child descriptor");
    return st;
}

/* Decodes one output's header and frame ids into r->oframes[*at ...)
 * (room for *cap, grown as needed). */
static dvm_status decode_output(msg_reader *rd, msg_result *r, size_t *at,
                                size_t *cap, msg_output *o)
{
    uint64_t chan = mr_u64(rd), len = mr_u64(rd), n = mr_u64(rd);
    if (rd->err || chan > 4096 || len == 0 || len > MSG_OUTPUT_MAX ||
        n != MSG_OUTPUT_FRAMES(len) || n > (rd->len - rd->pos) / 8)
        return status_set(DVM_EPROTO, "result: bad output");
    uint32_t *f = dvm_grow(r->oframes, cap, *at + n, sizeof *f);
    if (!f)
        return status_set(DVM_ENOMEM, "result: out of memory");
    r->oframes = f;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t id = mr_u64(rd);
        if (id == 0 || id > UINT32_MAX)
            return status_set(DVM_EPROTO, "result: bad output frame");
        f[*at + i] = (uint32_t)id;
    }
    *o = (msg_output){ (uint32_t)chan, len, (uint32_t)n, NULL };
    *at += n;
    return DVM_OK;
}

static dvm_status decode_outputs(msg_reader *rd, msg_result *r)
{
    uint64_t n = mr_count(rd, 32);
    if (rd->err || n > 4096)
        return status_set(DVM_EPROTO, "result: bad output count");
    if (n && !(r->out = dvm_calloc(n, sizeof *r->out)))
        return status_set(DVM_ENOMEM, "result: out of memory");
    r->nout = (uint32_t)n;
    size_t at = 0, cap = 0;
    for (uint64_t i = 0; i < n; i++) {
        dvm_status st = decode_output(rd, r, &at, &cap, &r->out[i]);
        if (st)
            return st;
    }
    r->noframes = at;
    /* oframes may have moved while it grew: point each output into it */
    for (uint64_t i = 0, k = 0; i < n; k += r->out[i].nframes, i++)
        r->out[i].frames = r->oframes + k;
    return DVM_OK;
}

/* Decodes one note: an access of 1 to 8 bytes inside the address
 * space. */
static dvm_status decode_note(msg_reader *rd, msg_note *n)
{
    uint64_t addr = mr_u64(rd), lw = mr_u64(rd), v = mr_u64(rd);
    uint64_t len = lw & 0xff, store = lw >> 8;
    if (rd->err || len < 1 || len > 8 || store > 1 ||
        addr >= DISA_ADDR_LIMIT || DISA_ADDR_LIMIT - addr < len)
        return status_set(DVM_EPROTO, "result: bad note");
    n->addr = addr;
    n->len = (uint8_t)len;
    n->store = (uint8_t)store;
    for (unsigned i = 0; i < 8; i++)
        n->bytes[i] = (uint8_t)(v >> (8 * i));
    return DVM_OK;
}

/* The tail of a result: the child started at once, the flags, the notes
 * (only a local child's, at most MSG_NOTES_MAX). */
static dvm_status decode_local(msg_reader *rd, msg_result *r)
{
    uint64_t local = mr_u64(rd), flags = mr_u64(rd);
    uint64_t n = mr_count(rd, 24);
    if (rd->err || local > r->nkids || (local && r->exit != MSG_EXIT_COMMIT) ||
        (flags & ~(uint64_t)MSG_RESULT_FLAGS) ||
        ((flags & MSG_RESULT_UNCHECKED) && !(flags & MSG_RESULT_LOCAL)) ||
        n > MSG_NOTES_MAX || (n && !(flags & MSG_RESULT_LOCAL)))
        return status_set(DVM_EPROTO, "result: bad local child or notes");
    r->local = (uint32_t)local;
    r->flags = (uint32_t)flags;
    if (n && !(r->notes = dvm_malloc(n * sizeof *r->notes)))
        return status_set(DVM_ENOMEM, "result: out of memory");
    for (uint64_t i = 0; i < n; i++) {
        r->nnotes = (uint32_t)(i + 1);
        dvm_status st = decode_note(rd, &r->notes[i]);
        if (st)
            return st;
    }
    return DVM_OK;
}

static dvm_status decode_result_body(msg_reader *rd, msg_result *r)
{
    uint64_t n = mr_count(rd, 24);     /* an implied change: 3 words */
    if (rd->err || n > UINT32_MAX)
        return status_set(DVM_EPROTO, "result: bad change count");
    if (n && !(r->changes = dvm_calloc(n, sizeof *r->changes)))
        return status_set(DVM_ENOMEM, "result: out of memory");
    for (uint64_t i = 0; i < n; i++) {
        r->nchanges = (uint32_t)(i + 1);
        dvm_status st = decode_change(rd, &r->changes[i]);
        if (st)
            return st;
    }
    n = mr_count(rd, 48);
    if (rd->err || n > UINT32_MAX)
        return status_set(DVM_EPROTO, "result: bad child count");
    if (n && !(r->kids = dvm_calloc(n, sizeof *r->kids)))
        return status_set(DVM_ENOMEM, "result: out of memory");
    for (uint64_t i = 0; i < n; i++) {
        r->nkids = (uint32_t)(i + 1);
        dvm_status st = decode_kid(rd, &r->kids[i]);
        if (st)
            return st;
    }
    dvm_status st = decode_outputs(rd, r);
    return st ? st : decode_local(rd, r);
}

dvm_status msg_decode_result(const uint8_t *p, size_t len, msg_result *out)
{
    msg_reader rd;
    mr_init(&rd, p, len);
    msg_result r;
    memset(&r, 0, sizeof r);
    r.rid = mr_u64(&rd);
    r.attempt = mr_u64(&rd);
    r.snap = mr_u64(&rd);
    uint64_t ex = mr_u64(&rd), fault = mr_u64(&rd);
    r.fault_pc = mr_u64(&rd);
    r.fault_addr = mr_u64(&rd);
    r.t_start_ns = mr_u64(&rd);
    r.t_end_ns = mr_u64(&rd);
    r.pages_prefetched = mr_u64(&rd);
    r.pages_faulted = mr_u64(&rd);
    if (rd.err || ex > MSG_EXIT_FAULT || fault >= VM_FAULT_COUNT)
        return status_set(DVM_EPROTO, "result: bad header");
    r.exit = (uint32_t)ex;
    r.fault = (uint32_t)fault;
    dvm_status st = decode_result_body(&rd, &r);
    if (!st && rd.pos != len)
        st = status_set(DVM_EPROTO, "result: trailing bytes");
    if (st) {
        msg_result_free(&r);
        return st;
    }
    *out = r;
    return DVM_OK;
}

void msg_result_free(msg_result *r)
{
    for (uint32_t i = 0; i < r->nchanges; i++)      /* decoded: owned */
        dvm_free((void *)r->changes[i].data);
    for (uint32_t i = 0; i < r->nkids; i++) {
        dvm_free(r->kids[i].heap);
        dvm_free(r->kids[i].watch);
    }
    dvm_free(r->changes);
    dvm_free(r->kids);
    dvm_free(r->out);
    dvm_free(r->oframes);
    dvm_free(r->notes);
    memset(r, 0, sizeof *r);
}

size_t msg_result_nframes(const msg_result *r)
{
    return r->nchanges + r->noframes;
}

uint32_t *msg_result_frame(msg_result *r, size_t i)
{
    assert(i < msg_result_nframes(r));
    return i < r->nchanges ? &r->changes[i].frame
                           : &r->oframes[i - r->nchanges];
}

/* ---- small messages ------------------------------------------------------- */

void msg_encode_u64s(msg_buf *b, uint32_t type, const uint64_t *v, size_t n)
{
    size_t start = mb_begin(b, type);
    for (size_t i = 0; i < n; i++)
        mb_u64(b, v[i]);
    mb_end(b, start);
}

dvm_status msg_decode_u64s(const uint8_t *p, size_t len, uint64_t *v, size_t n)
{
    if (len != n * 8)
        return status_set(DVM_EPROTO, "message: bad length %zu", len);
    msg_reader rd;
    mr_init(&rd, p, len);
    for (size_t i = 0; i < n; i++)
        v[i] = mr_u64(&rd);
    return DVM_OK;
}

void msg_encode_frames(msg_buf *b, const uint32_t *ids, size_t n)
{
    size_t start = mb_begin(b, MSG_FRAMES);
    mb_u64(b, n);
    for (size_t i = 0; i < n; i++)
        mb_u64(b, ids[i]);
    mb_end(b, start);
}

dvm_status msg_decode_frames(const uint8_t *p, size_t len, uint32_t **ids,
                             size_t *n)
{
    msg_reader rd;
    mr_init(&rd, p, len);
    uint64_t cnt = mr_count(&rd, 8);
    if (rd.err || cnt == 0 || rd.pos + cnt * 8 != len)
        return status_set(DVM_EPROTO, "frames: bad count");
    uint32_t *v = dvm_malloc(cnt * sizeof *v);
    if (!v)
        return status_set(DVM_ENOMEM, "frames: out of memory");
    for (uint64_t i = 0; i < cnt; i++) {
        uint64_t f = mr_u64(&rd);
        if (f == 0 || f > UINT32_MAX) {
            dvm_free(v);
            return status_set(DVM_EPROTO, "frames: bad frame id");
        }
        v[i] = (uint32_t)f;
    }
    *ids = v;
    *n = (size_t)cnt;
    return DVM_OK;
}

/* ---- taking back (net/claim.h) ---------------------------------------------- */

void msg_encode_given_back(msg_buf *b, const uint64_t *rid, size_t k)
{
    assert(k <= MSG_GIVEN_BACK_MAX);
    size_t at = mb_begin(b, MSG_GIVEN_BACK);
    mb_u64(b, k);
    for (size_t i = 0; i < k; i++)
        mb_u64(b, rid[i]);
    mb_end(b, at);
}

dvm_status msg_decode_given_back(const uint8_t *p, size_t len, uint64_t *rid,
                                 size_t *k)
{
    msg_reader rd;
    mr_init(&rd, p, len);
    uint64_t cnt = mr_count(&rd, 8);
    if (rd.err || cnt > MSG_GIVEN_BACK_MAX || rd.pos + cnt * 8 != len)
        return status_set(DVM_EPROTO, "given back: bad count");
    for (uint64_t i = 0; i < cnt; i++)
        if (!(rid[i] = mr_u64(&rd)))
            return status_set(DVM_EPROTO, "given back: run id 0");
    *k = (size_t)cnt;
    return DVM_OK;
}

/* ---- stacks (DISA 1.1) ------------------------------------------------------ */

void msg_encode_stack_req(msg_buf *b, unsigned order, size_t count)
{
    const uint64_t v[2] = { order, count };
    msg_encode_u64s(b, MSG_STACK_REQ, v, 2);
}

dvm_status msg_decode_stack_req(const uint8_t *p, size_t len,
                                unsigned *order, size_t *count)
{
    uint64_t v[2];
    if (msg_decode_u64s(p, len, v, 2) || v[0] > DISA_STACK_ORDER ||
        v[1] == 0 || v[1] > MSG_STACKS_MAX)
        return status_set(DVM_EPROTO, "stack request: bad order or count");
    *order = (unsigned)v[0];
    *count = (size_t)v[1];
    return DVM_OK;
}

void msg_encode_stacks(msg_buf *b, unsigned order, const uint64_t *base,
                       size_t n)
{
    assert(n <= MSG_STACKS_MAX);
    size_t start = mb_begin(b, MSG_STACKS);
    mb_u64(b, order);
    mb_u64(b, n);
    for (size_t i = 0; i < n; i++)
        mb_u64(b, base[i]);
    mb_end(b, start);
}

/* 1 when base starts a block of 2^order pages of the stack area. */
static int stack_block_ok(uint64_t base, unsigned order)
{
    const uint64_t area = DISA_PAGE << DISA_STACK_ORDER;
    uint64_t size = DISA_PAGE << order;
    return base >= DISA_STACK_BASE && base - DISA_STACK_BASE < area &&
           (base - DISA_STACK_BASE) % size == 0 &&
           base - DISA_STACK_BASE <= area - size;
}

dvm_status msg_decode_stacks(const uint8_t *p, size_t len, unsigned *order,
                             uint64_t *base, size_t *n)
{
    msg_reader rd;
    mr_init(&rd, p, len);
    uint64_t o = mr_u64(&rd), cnt = mr_count(&rd, 8);
    if (rd.err || o > DISA_STACK_ORDER || cnt > MSG_STACKS_MAX ||
        rd.pos + cnt * 8 != len)
        return status_set(DVM_EPROTO, "stacks: bad order or count");
    uint64_t v[MSG_STACKS_MAX];
    for (uint64_t i = 0; i < cnt; i++) {
        v[i] = mr_u64(&rd);
        if (!stack_block_ok(v[i], (unsigned)o))
            return status_set(DVM_EPROTO, "stacks: 0x%llx is not a block "
                              "of the stack area", (unsigned long long)v[i]);
    }
    memcpy(base, v, cnt * sizeof *v);
    *order = (unsigned)o;
    *n = (size_t)cnt;
    return DVM_OK;
}
