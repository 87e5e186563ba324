/*
 * cmsg.c -- encoding and validating decoding of the cluster's payloads.
 *
 * Encoders append to a msg_buf (errors sticky: the caller checks oom once).
 * Decoders read through a msg_reader (errors sticky too) and end with one
 * check: every byte consumed, nothing read past the end.  Strings are
 * handed out as pointers into the payload, never copied, so a decoder
 * allocates nothing and the payload must outlive what it decoded.
 */
#include "dist/cmsg.h"

#include <assert.h>
#include <string.h>

#include "image/inpage.h"
#include "isa/isa.h"
#include "util/bits.h"
#include "util/le.h"

void cmsg_put_str(msg_buf *b, const void *p, size_t n)
{
    mb_u64(b, n);
    mb_bytes(b, p, n);
}

static cmsg_str get_str(msg_reader *r)
{
    cmsg_str s = { NULL, 0 };
    s.len = mr_count(r, 1);
    s.p = mr_bytes(r, (size_t)s.len);
    return s;
}

/* The end of every decoder: all bytes read, no error. */
static dvm_status finish(const msg_reader *r, const char *what)
{
    if (r->err || r->pos != r->len)
        return status_set(DVM_EPROTO, "malformed %s message", what);
    return DVM_OK;
}

/* 1 if name[0, len) is 1..max bytes of [A-Za-z0-9._-], else 0. */
static int name_ok(const void *name, size_t len, size_t max);

/* Versioned payloads (LEAVE, DRAIN, the clock) begin with a version word.
 * A payload read whole whose version is not want is refused, naming what
 * it is: DVM_OK or DVM_EPROTO. */
static dvm_status check_version(uint64_t version, uint64_t want,
                                const char *what)
{
    if (version != want)
        return status_set(DVM_EPROTO, "%s: version %llu, expected %llu",
                          what, (unsigned long long)version,
                          (unsigned long long)want);
    return DVM_OK;
}

/* Appends version, then the n words of v. */
static void put_versioned(msg_buf *b, uint64_t version, const uint64_t *v,
                          size_t n)
{
    mb_u64(b, version);
    cmsg_encode_u64s(b, v, n);
}

/* Decodes a payload of exactly the word version and n more words into
 * v[0, n) (written only on success; n <= 3): DVM_OK or DVM_EPROTO. */
static dvm_status get_versioned(const uint8_t *p, size_t len,
                                uint64_t version, uint64_t *v, size_t n,
                                const char *what)
{
    uint64_t w[4];
    assert(n < sizeof w / sizeof *w);
    if (cmsg_decode_u64s(p, len, w, n + 1))
        return status_set(DVM_EPROTO, "malformed %s message", what);
    dvm_status st = check_version(w[0], version, what);
    if (!st)
        memcpy(v, w + 1, n * sizeof *v);
    return st;
}

/* ---- RELAY ------------------------------------------------------------- */

void cmsg_encode_relay(msg_buf *b, uint64_t run, uint64_t rcomp, uint64_t gen,
                       int page, uint32_t type, const uint8_t *msg,
                       size_t len, const uint64_t *ver, size_t nver,
                       const uint8_t *const *pages, size_t npages)
{
    mb_u64(b, run);
    mb_u64(b, rcomp);
    mb_u64(b, gen);
    mb_u64(b, (uint64_t)page);
    mb_u64(b, MSG_HEADER_SIZE + (uint64_t)len);
    mb_u64(b, type);            /* u32 type, u32 reserved 0 */
    mb_u64(b, len);
    mb_bytes(b, msg, len);
    mb_u64(b, nver);
    for (size_t i = 0; i < nver; i++)
        mb_u64(b, ver[i]);
    mb_u64(b, npages);
    for (size_t i = 0; i < npages; i++)
        mb_bytes(b, pages[i], CMSG_PAGE);
}

dvm_status cmsg_decode_relay(const uint8_t *p, size_t len, cmsg_relay *out)
{
    msg_reader r;
    mr_init(&r, p, len);
    cmsg_relay v;
    memset(&v, 0, sizeof v);
    v.run = mr_u64(&r);
    v.rcomp = mr_u64(&r);
    v.gen = mr_u64(&r);
    uint64_t page = mr_u64(&r);
    cmsg_str fr = get_str(&r);
    v.nver = mr_count(&r, 8);
    v.ver = mr_bytes(&r, (size_t)v.nver * 8);
    v.npages = mr_count(&r, CMSG_PAGE);
    v.pages = mr_bytes(&r, (size_t)v.npages * CMSG_PAGE);
    dvm_status st = finish(&r, "relay");
    if (st)
        return st;
    if (v.rcomp >= CMSG_MAX_RCOMPS || page > 1 || fr.len < MSG_HEADER_SIZE)
        return status_set(DVM_EPROTO, "malformed relay message");
    uint64_t type = le_ld32(fr.p), rsv = le_ld32(fr.p + 4);
    uint64_t n = le_ld64(fr.p + 8);
    if (type == 0 || type >= MSG_TYPE_END || rsv ||
        n != fr.len - MSG_HEADER_SIZE)
        return status_set(DVM_EPROTO, "relay: malformed RComp message");
    v.page = (int)page;
    v.type = (uint32_t)type;
    v.msg = fr.p + MSG_HEADER_SIZE;
    v.len = (size_t)n;
    *out = v;
    return DVM_OK;
}

void cmsg_batch_add(msg_buf *batch, const msg_buf *rec)
{
    if (rec->oom)
        batch->oom = 1;
    mb_u64(batch, rec->len);
    mb_bytes(batch, rec->p, rec->len);
}

int cmsg_batch_next(const uint8_t *p, size_t len, size_t *off,
                    const uint8_t **rec, size_t *rlen)
{
    if (*off == len)
        return 0;
    if (len - *off < 8)
        return -1;
    uint64_t n = le_ld64(p + *off);
    if (n == 0 || n > len - *off - 8)
        return -1;
    *rec = p + *off + 8;
    *rlen = (size_t)n;
    *off += 8 + (size_t)n;
    return 1;
}

dvm_status cmsg_batch_each(const uint8_t *p, size_t len, cmsg_batch_fn fn,
                           void *ctx)
{
    size_t off = 0, rlen;
    const uint8_t *rec;
    int k;
    while ((k = cmsg_batch_next(p, len, &off, &rec, &rlen)) > 0) {
        dvm_status st = fn(ctx, rec, rlen);
        if (st)
            return st;
    }
    return k < 0 ? status_set(DVM_EPROTO, "malformed relay") : DVM_OK;
}

/* ---- FETCH and FETCHED ------------------------------------------------------ */

void cmsg_encode_fetch(msg_buf *b, uint64_t run, const uint64_t *ent,
                       size_t n, int width, const uint8_t *const *pages,
                       size_t npages)
{
    mb_u64(b, run);
    mb_u64(b, n);
    for (size_t i = 0; i < n * (size_t)width; i++)
        mb_u64(b, ent[i]);
    if (width == 3) {
        mb_u64(b, npages);
        for (size_t i = 0; i < npages; i++)
            mb_bytes(b, pages[i], CMSG_PAGE);
    }
}

/* A count and that many entries of `width` words (at most
 * CMSG_MAX_FETCH): the entries' bytes, *n set; r->err on a bad table. */
static const uint8_t *read_table(msg_reader *r, int width, uint64_t *n)
{
    *n = mr_count(r, 8 * (size_t)width);
    if (*n > CMSG_MAX_FETCH)
        r->err = 1;
    return mr_bytes(r, (size_t)*n * 8 * (size_t)width);
}

/* A FETCH entry: an SR page's version, or an input page. */
static int fetch_entry_ok(uint64_t page, uint64_t epoch)
{
    if (epoch == CMSG_EPOCH_INPUT)
        return inpage_is_input(page);
    return DISA_SR_PAGE(page) && epoch != 0;
}

dvm_status cmsg_decode_fetch(const uint8_t *p, size_t len, int width,
                             cmsg_fetch *out)
{
    msg_reader r;
    mr_init(&r, p, len);
    cmsg_fetch v;
    memset(&v, 0, sizeof v);
    v.run = mr_u64(&r);
    v.ent = read_table(&r, width, &v.n);
    /* Every entry names a version that can be: an SR page, a commit's
     * epoch (whether that commit happened is the receiver's to judge); or
     * a page of the input windows with CMSG_EPOCH_INPUT. */
    uint64_t inputs = 0;
    for (uint64_t i = 0; !r.err && i < v.n; i++) {
        const uint8_t *e = v.ent + 8 * (size_t)width * i;
        if (!fetch_entry_ok(le_ld64(e), le_ld64(e + 8)))
            r.err = 1;
        inputs += le_ld64(e + 8) == CMSG_EPOCH_INPUT;
    }
    if (inputs > CMSG_MAX_INPUT_FETCH)
        r.err = 1;
    uint64_t present = 0;
    for (uint64_t i = 0; width == 3 && !r.err && i < v.n; i++) {
        uint64_t f = le_ld64(v.ent + 8 * (3 * i + 2));
        if (f > CMSG_AT_HOMES)
            r.err = 1;
        present += f == 1;
    }
    if (width == 3) {
        v.npages = mr_count(&r, CMSG_PAGE);
        v.pages = mr_bytes(&r, (size_t)v.npages * CMSG_PAGE);
        if (v.npages != present)
            r.err = 1;
    }
    dvm_status st = finish(&r, width == 3 ? "fetched" : "fetch");
    if (!st)
        *out = v;
    return st;
}

/* ---- DELTA and APPLY ---------------------------------------------------------------- */

void cmsg_encode_delta_head(msg_buf *b, uint64_t run, uint64_t n)
{
    mb_u64(b, run);
    mb_u64(b, n);
}

void cmsg_encode_delta_ent(msg_buf *b, const cmsg_tag *t, uint64_t page,
                           const uint64_t *mask, const uint8_t *bytes,
                           size_t nbytes)
{
    const uint64_t w[CMSG_TAG_WORDS] = { t->node, t->rcomp, t->gen, t->rid,
                                         t->attempt };
    for (size_t i = 0; i < CMSG_TAG_WORDS; i++)
        mb_u64(b, w[i]);
    mb_u64(b, page);
    for (size_t i = 0; i < CMSG_MASK_WORDS; i++)
        mb_u64(b, mask[i]);
    cmsg_put_str(b, bytes, nbytes);
}

static uint64_t mask_bits(const uint8_t *mask)
{
    uint64_t n = 0;
    for (size_t i = 0; i < CMSG_MASK_WORDS; i++)
        n += bits_count64(le_ld64(mask + 8 * i));
    return n;
}

/* One entry from r into *e (unchecked but for the reader's bounds). */
static void delta_read(msg_reader *r, cmsg_delta_ent *e)
{
    uint64_t w[CMSG_TAG_WORDS];
    for (size_t i = 0; i < CMSG_TAG_WORDS; i++)
        w[i] = mr_u64(r);
    e->tag = (cmsg_tag){ w[0], w[1], w[2], w[3], w[4] };
    e->page = mr_u64(r);
    e->mask = mr_bytes(r, 8 * CMSG_MASK_WORDS);
    e->bytes = get_str(r);
}

/* The smallest entry: the tag, the page, the mask, an empty string. */
#define DELTA_ENT_MIN (8 * (CMSG_TAG_WORDS + 2 + CMSG_MASK_WORDS))

dvm_status cmsg_decode_delta(const uint8_t *p, size_t len, cmsg_delta *out)
{
    msg_reader r;
    mr_init(&r, p, len);
    cmsg_delta v;
    v.run = mr_u64(&r);
    v.n = mr_count(&r, DELTA_ENT_MIN);
    if (v.n > CMSG_MAX_DELTAS)
        r.err = 1;
    v.ent = p + r.pos;
    for (uint64_t i = 0; !r.err && i < v.n; i++) {
        cmsg_delta_ent e;
        delta_read(&r, &e);
        if (!r.err && (!DISA_SR_PAGE(e.page) ||
                       e.bytes.len != mask_bits(e.mask)))
            r.err = 1;
    }
    v.len = r.err ? 0 : (size_t)(p + r.pos - v.ent);
    dvm_status st = finish(&r, "delta");
    if (!st)
        *out = v;
    return st;
}

void cmsg_delta_next(const cmsg_delta *d, size_t *off, cmsg_delta_ent *e)
{
    msg_reader r;
    mr_init(&r, d->ent + *off, d->len - *off);
    delta_read(&r, e);
    assert(!r.err);
    *off += r.pos;
}

size_t cmsg_delta_pack(const uint64_t *mask, const uint8_t *page,
                       uint8_t *out)
{
    size_t k = 0;
    for (size_t w = 0; w < CMSG_MASK_WORDS; w++)
        for (uint64_t m = mask[w]; m; m &= m - 1)
            out[k++] = page[64 * w + (size_t)__builtin_ctzll(m)];
    return k;
}

void cmsg_delta_apply(const cmsg_delta_ent *e, uint8_t *page)
{
    size_t k = 0;
    for (size_t w = 0; w < CMSG_MASK_WORDS; w++)
        for (uint64_t m = le_ld64(e->mask + 8 * w); m; m &= m - 1)
            page[64 * w + (size_t)__builtin_ctzll(m)] = e->bytes.p[k++];
    assert(k == e->bytes.len);
}

dvm_status cmsg_decode_apply(const uint8_t *p, size_t len, cmsg_fetch *out)
{
    cmsg_fetch f;
    dvm_status st = cmsg_decode_fetch(p, len, CMSG_APPLY_WIDTH, &f);
    for (uint64_t i = 0; !st && i < f.n; i++) {
        const uint8_t *e = f.ent + 8 * CMSG_APPLY_WIDTH * i;
        if (le_ld64(e + 16) >= le_ld64(e + 8))
            st = status_set(DVM_EPROTO, "malformed apply");
    }
    if (!st)
        *out = f;
    return st;
}

void cmsg_apply_ent(const cmsg_fetch *f, uint64_t i, uint64_t *page,
                    uint64_t *epoch, uint64_t *base, cmsg_tag *t)
{
    const uint8_t *e = f->ent + 8 * CMSG_APPLY_WIDTH * i;
    *page = le_ld64(e);
    *epoch = le_ld64(e + 8);
    *base = le_ld64(e + 16);
    *t = (cmsg_tag){ le_ld64(e + 24), le_ld64(e + 32), le_ld64(e + 40),
                     le_ld64(e + 48), le_ld64(e + 56) };
}

/* ---- DHELD, DDROP and DRESEND ---------------------------------------------------- */

void cmsg_encode_tags(msg_buf *b, uint64_t run, const uint64_t *ent,
                      size_t n, int width)
{
    mb_u64(b, run);
    mb_u64(b, n);
    for (size_t i = 0; i < n * (size_t)width; i++)
        mb_u64(b, ent[i]);
}

static dvm_status decode_tags(const uint8_t *p, size_t len, int width,
                              const char *what, cmsg_tags *out)
{
    msg_reader r;
    mr_init(&r, p, len);
    cmsg_tags v = { .width = width };
    v.run = mr_u64(&r);
    v.ent = read_table(&r, width, &v.n);
    for (uint64_t i = 0; !r.err && i < v.n; i++) {
        const uint8_t *e = v.ent + 8 * (size_t)width * i;
        const uint8_t *t = e + 8 * (size_t)(width - CMSG_TAG_WORDS);
        if ((width > CMSG_TAG_WORDS && !DISA_SR_PAGE(le_ld64(e))) ||
            (le_ld64(t + 32) & CMSG_TAG_WHOLE))
            r.err = 1;
    }
    dvm_status st = finish(&r, what);
    if (!st)
        *out = v;
    return st;
}

dvm_status cmsg_decode_dheld(const uint8_t *p, size_t len, cmsg_tags *out)
{
    return decode_tags(p, len, CMSG_DHELD_WIDTH, "dheld", out);
}

dvm_status cmsg_decode_ddrop(const uint8_t *p, size_t len, cmsg_tags *out)
{
    return decode_tags(p, len, CMSG_TAG_WORDS, "ddrop", out);
}

dvm_status cmsg_decode_dresend(const uint8_t *p, size_t len, cmsg_tags *out)
{
    return decode_tags(p, len, CMSG_TAG_WORDS, "dresend", out);
}

void cmsg_tags_ent(const cmsg_tags *t, uint64_t i, uint64_t *page,
                   cmsg_tag *tag)
{
    const uint8_t *e = t->ent + 8 * (size_t)t->width * i;
    *page = t->width > CMSG_TAG_WORDS ? le_ld64(e) : 0;
    e += 8 * (size_t)(t->width - CMSG_TAG_WORDS);
    *tag = (cmsg_tag){ le_ld64(e), le_ld64(e + 8), le_ld64(e + 16),
                       le_ld64(e + 24), le_ld64(e + 32) };
}

/* ---- NODE_ADDR and PEERS ---------------------------------------------------------- */

void cmsg_encode_addr(msg_buf *b, const char *addr, size_t n)
{
    cmsg_put_str(b, addr, n);
}

/* A peer's address: 1..CMSG_MAX_ADDR-1 bytes, no NUL. */
static int addr_ok(cmsg_str a)
{
    return a.len > 0 && a.len < CMSG_MAX_ADDR && !memchr(a.p, 0, a.len);
}

dvm_status cmsg_decode_addr(const uint8_t *p, size_t len, cmsg_str *out)
{
    msg_reader r;
    mr_init(&r, p, len);
    cmsg_str a = get_str(&r);
    if (!r.err && !addr_ok(a))
        r.err = 1;
    dvm_status st = finish(&r, "node address");
    if (!st)
        *out = a;
    return st;
}

void cmsg_encode_peers(msg_buf *b, const cmsg_peers *m)
{
    mb_u64(b, m->self);
    mb_u64(b, m->n);
    for (uint32_t i = 0; i < m->n; i++) {
        mb_u64(b, m->id[i]);
        cmsg_put_str(b, m->addr[i].p, (size_t)m->addr[i].len);
    }
}

dvm_status cmsg_decode_peers(const uint8_t *p, size_t len, cmsg_peers *out)
{
    msg_reader r;
    mr_init(&r, p, len);
    cmsg_peers v;
    v.self = mr_u64(&r);
    uint64_t n = mr_count(&r, 16);
    if (n > CMSG_MAX_PEERS)
        r.err = 1;
    for (uint32_t i = 0; !r.err && i < n; i++) {
        v.id[i] = mr_u64(&r);
        v.addr[i] = get_str(&r);
        if (!r.err && !addr_ok(v.addr[i]))
            r.err = 1;
        for (uint32_t k = 0; !r.err && k < i; k++)
            if (v.id[k] == v.id[i])
                r.err = 1;
    }
    dvm_status st = finish(&r, "peers");
    if (!st) {
        v.n = (uint32_t)n;
        *out = v;
    }
    return st;
}

/* ---- START and SUBMIT ---------------------------------------------------- */

static void put_inputs(msg_buf *b, const cmsg_input *in, uint32_t n)
{
    mb_u64(b, n);
    for (uint32_t i = 0; i < n; i++) {
        cmsg_put_str(b, in[i].name.p, (size_t)in[i].name.len);
        cmsg_put_str(b, in[i].data.p, (size_t)in[i].data.len);
    }
}

static void get_inputs(msg_reader *r, cmsg_input *in, uint32_t *n)
{
    uint64_t k = mr_count(r, 16);
    if (k > CMSG_MAX_INPUTS) {
        r->err = 1;
        return;
    }
    for (uint64_t i = 0; i < k && !r->err; i++) {
        in[i].name = get_str(r);
        in[i].data = get_str(r);
        if (in[i].name.len == 0 || in[i].name.len > CMSG_MAX_NAME)
            r->err = 1;
    }
    *n = (uint32_t)k;
}

static int engine_ok(cmsg_str e)
{
    return (e.len == 6 && !memcmp(e.p, "interp", 6)) ||
           (e.len == 3 && !memcmp(e.p, "jit", 3));
}

static void put_dumps(msg_buf *b, const cmsg_dump *d, uint32_t n)
{
    mb_u64(b, n);
    for (uint32_t i = 0; i < n; i++) {
        mb_u64(b, d[i].addr);
        mb_u64(b, d[i].bytes);
    }
}

static void get_dumps(msg_reader *r, cmsg_dump *d, uint32_t *n)
{
    uint64_t k = mr_count(r, 16);
    if (k > CMSG_MAX_DUMPS)
        r->err = 1;
    for (uint64_t i = 0; i < k && !r->err; i++) {
        d[i].addr = mr_u64(r);
        d[i].bytes = mr_u64(r);
        /* The same bound as dvm run: 2^28 values of at most 8 bytes. */
        if (d[i].addr >= (1ULL << 46) || d[i].bytes > (1ULL << 31) ||
            d[i].bytes > (1ULL << 46) - d[i].addr)
            r->err = 1;
    }
    *n = r->err ? 0 : (uint32_t)k;
}

void cmsg_encode_start(msg_buf *b, const cmsg_start *s)
{
    mb_u64(b, s->run);
    cmsg_put_str(b, s->engine.p, (size_t)s->engine.len);
    cmsg_put_str(b, s->image.p, (size_t)s->image.len);
    mb_u64(b, s->flags);
}

int cmsg_start_keeps_data(const cmsg_start *s, uint64_t page)
{
    return !(s->flags & CMSG_START_MASKS_ONLY) ||
           page == DISA_SYSPAGE / DISA_PAGE;
}

dvm_status cmsg_decode_start(const uint8_t *p, size_t len, cmsg_start *out)
{
    msg_reader r;
    mr_init(&r, p, len);
    memset(out, 0, sizeof *out);
    out->run = mr_u64(&r);
    out->engine = get_str(&r);
    out->image = get_str(&r);
    out->flags = mr_u64(&r);
    dvm_status st = finish(&r, "start");
    if (!st && !engine_ok(out->engine))
        st = status_set(DVM_EPROTO, "start: unknown engine");
    if (!st && (out->flags & ~(uint64_t)CMSG_START_MASKS_ONLY))
        st = status_set(DVM_EPROTO, "start: unknown flags");
    return st;
}

void cmsg_encode_submit(msg_buf *b, const cmsg_submit *s)
{
    cmsg_put_str(b, s->engine.p, (size_t)s->engine.len);
    mb_u64(b, s->flags);
    cmsg_put_str(b, s->image.p, (size_t)s->image.len);
    put_inputs(b, s->in, s->nin);
    put_dumps(b, s->dump, s->ndump);
}

dvm_status cmsg_decode_submit(const uint8_t *p, size_t len, cmsg_submit *out)
{
    msg_reader r;
    mr_init(&r, p, len);
    memset(out, 0, sizeof *out);
    out->engine = get_str(&r);
    out->flags = mr_u64(&r);
    out->image = get_str(&r);
    get_inputs(&r, out->in, &out->nin);
    get_dumps(&r, out->dump, &out->ndump);
    dvm_status st = finish(&r, "submit");
    if (!st && (!engine_ok(out->engine) || out->flags > (CMSG_SUBMIT_STATS | CMSG_SUBMIT_TRACE)))
        st = status_set(DVM_EPROTO, "submit: bad engine or flags");
    return st;
}

/* ---- LEAVE ------------------------------------------------------------------ */

void cmsg_encode_leave(msg_buf *b, const cmsg_leave *l)
{
    uint64_t v[3] = { l->step, l->run, l->given_back };
    put_versioned(b, CMSG_LEAVE_VERSION, v, 3);
}

dvm_status cmsg_decode_leave(const uint8_t *p, size_t len, cmsg_leave *out)
{
    uint64_t w[3];
    dvm_status st = get_versioned(p, len, CMSG_LEAVE_VERSION, w, 3, "leave");
    if (st)
        return st;
    cmsg_leave v = { .step = w[0], .run = w[1], .given_back = w[2] };
    if (v.step > CMSG_LEAVE_DONE ||
        (v.step != CMSG_LEAVE_DONE && v.given_back))
        return status_set(DVM_EPROTO, "malformed leave message");
    *out = v;
    return DVM_OK;
}

/* ---- DRAIN ------------------------------------------------------------------ */

void cmsg_encode_drain(msg_buf *b, const char *name, size_t n)
{
    mb_u64(b, CMSG_DRAIN_VERSION);
    cmsg_put_str(b, name, n);
}

dvm_status cmsg_decode_drain(const uint8_t *p, size_t len, cmsg_str *out)
{
    msg_reader r;
    mr_init(&r, p, len);
    uint64_t version = mr_u64(&r);
    cmsg_str name = get_str(&r);
    dvm_status st = finish(&r, "drain");
    if (!st)
        st = check_version(version, CMSG_DRAIN_VERSION, "drain");
    if (st)
        return st;
    if (!name_ok(name.p, (size_t)name.len, CMSG_MAX_NODE_LABEL))
        return status_set(DVM_EPROTO, "drain: bad node name");
    *out = name;
    return DVM_OK;
}

/* ---- DONE, OUTPUT, small ones ---------------------------------------------- */

void cmsg_encode_done(msg_buf *b, const cmsg_done *d)
{
    mb_u64(b, d->code);
    cmsg_put_str(b, d->error.p, (size_t)d->error.len);
    cmsg_put_str(b, d->stats.p, (size_t)d->stats.len);
    cmsg_put_str(b, d->dump.p, (size_t)d->dump.len);
    cmsg_put_str(b, d->trace.p, (size_t)d->trace.len);
}

dvm_status cmsg_decode_done(const uint8_t *p, size_t len, cmsg_done *out)
{
    msg_reader r;
    mr_init(&r, p, len);
    out->code = mr_u64(&r);
    out->error = get_str(&r);
    out->stats = get_str(&r);
    out->dump = get_str(&r);
    out->trace = get_str(&r);
    dvm_status st = finish(&r, "done");
    if (!st && out->code > 255)
        st = status_set(DVM_EPROTO, "done: bad exit code");
    return st;
}

void cmsg_encode_output(msg_buf *b, uint64_t chan, const void *p, size_t n)
{
    mb_u64(b, chan);
    cmsg_put_str(b, p, n);
}

dvm_status cmsg_decode_output(const uint8_t *p, size_t len, uint64_t *chan,
                              cmsg_str *bytes)
{
    msg_reader r;
    mr_init(&r, p, len);
    uint64_t c = mr_u64(&r);
    cmsg_str s = get_str(&r);
    dvm_status st = finish(&r, "output");
    if (st)
        return st;
    *chan = c;
    *bytes = s;
    return DVM_OK;
}

void cmsg_encode_u64s(msg_buf *b, const uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mb_u64(b, v[i]);
}

dvm_status cmsg_decode_u64s(const uint8_t *p, size_t len, uint64_t *v,
                            size_t n)
{
    if (len != n * 8)
        return status_set(DVM_EPROTO, "malformed message (%zu bytes, "
                          "expected %zu)", len, n * 8);
    for (size_t i = 0; i < n; i++)
        v[i] = le_ld64(p + 8 * i);
    return DVM_OK;
}

void cmsg_encode_resume(msg_buf *b, const cmsg_resume *r)
{
    assert(r->n <= CMSG_MAX_CHANS);
    mb_u64(b, r->id);
    mb_u64(b, r->n);
    for (uint32_t i = 0; i < r->n; i++) {
        mb_u64(b, r->chan[i]);
        mb_u64(b, r->bytes[i]);
    }
}

dvm_status cmsg_decode_resume(const uint8_t *p, size_t len, cmsg_resume *out)
{
    if (len < 16 || le_ld64(p + 8) > CMSG_MAX_CHANS ||
        len != 16 + 16 * le_ld64(p + 8))
        return status_set(DVM_EPROTO, "malformed resume message");
    cmsg_resume r = { .id = le_ld64(p), .n = (uint32_t)le_ld64(p + 8) };
    for (uint32_t i = 0; i < r.n; i++) {
        r.chan[i] = le_ld64(p + 16 + 16 * i);
        r.bytes[i] = le_ld64(p + 24 + 16 * i);
        for (uint32_t k = 0; k < i; k++)
            if (r.chan[k] == r.chan[i])
                return status_set(DVM_EPROTO, "resume message names a "
                                  "channel twice");
    }
    *out = r;
    return DVM_OK;
}

uint64_t cmsg_submit_id(const uint8_t *p, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

dvm_status cmsg_decode_str(const uint8_t *p, size_t len, cmsg_str *out)
{
    msg_reader r;
    mr_init(&r, p, len);
    cmsg_str s = get_str(&r);
    dvm_status st = finish(&r, "status");
    if (!st)
        *out = s;
    return st;
}

/* ---- JOIN and the clock ------------------------------------------------------- */

void cmsg_encode_join(msg_buf *b, const cmsg_join *j)
{
    mb_u64(b, j->nrcomps);
    if (j->name.len)
        cmsg_put_str(b, j->name.p, (size_t)j->name.len);
}

int cmsg_node_name_ok(const void *name, size_t len)
{
    return name_ok(name, len, CMSG_MAX_NODE_NAME);
}

static int name_ok(const void *name, size_t len, size_t max)
{
    const unsigned char *s = name;
    if (len < 1 || len > max)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' ||
              s[i] == '-'))
            return 0;
    return 1;
}

dvm_status cmsg_decode_join(const uint8_t *p, size_t len, cmsg_join *out)
{
    msg_reader r;
    mr_init(&r, p, len);
    cmsg_join j = { mr_u64(&r), { NULL, 0 } };
    int named = r.pos < r.len;
    if (named)
        j.name = get_str(&r);
    dvm_status st = finish(&r, "join");
    if (st)
        return st;
    if (j.nrcomps > CMSG_MAX_RCOMPS)    /* 0: it homes pages only */
        return status_set(DVM_EPROTO, "join: bad RComp count %llu",
                          (unsigned long long)j.nrcomps);
    if (named && !cmsg_node_name_ok(j.name.p, (size_t)j.name.len))
        return status_set(DVM_EPROTO, "join: bad node name");
    *out = j;
    return DVM_OK;
}

void cmsg_encode_clock_ping(msg_buf *b, uint64_t seq)
{
    put_versioned(b, CMSG_CLOCK_VERSION, &seq, 1);
}

dvm_status cmsg_decode_clock_ping(const uint8_t *p, size_t len,
                                  uint64_t *seq)
{
    return get_versioned(p, len, CMSG_CLOCK_VERSION, seq, 1, "clock ping");
}

void cmsg_encode_clock_pong(msg_buf *b, const cmsg_clock *c)
{
    uint64_t v[3] = { c->seq, c->t1, c->t2 };
    put_versioned(b, CMSG_CLOCK_VERSION, v, 3);
}

dvm_status cmsg_decode_clock_pong(const uint8_t *p, size_t len,
                                  cmsg_clock *out)
{
    uint64_t v[3];
    dvm_status st = get_versioned(p, len, CMSG_CLOCK_VERSION, v, 3,
                                  "clock pong");
    if (st)
        return st;
    if (v[2] < v[1])
        return status_set(DVM_EPROTO, "clock pong: sent before received");
    *out = (cmsg_clock){ v[0], v[1], v[2] };
    return DVM_OK;
}

dvm_status cmsg_str_copy(cmsg_str s, char *buf, size_t cap)
{
    if (s.len >= cap || (s.len && memchr(s.p, 0, (size_t)s.len)))
        return status_set(DVM_EPROTO, "bad string in a message");
    if (s.len)
        memcpy(buf, s.p, (size_t)s.len);
    buf[s.len] = '\0';
    return DVM_OK;
}

void cmsg_encode_node_stats(msg_buf *b, const cmsg_node_stats *s)
{
    cmsg_encode_u64s(b, s->v, CMSG_NODE_STATS);
    if (!s->has_wait)
        return;
    mb_u64(b, CMSG_FETCH_WAIT_VERSION);
    cmsg_encode_u64s(b, s->wait, CMSG_FETCH_WAIT_BUCKETS);
    mb_u64(b, s->wait_sum_ns);
}

dvm_status cmsg_decode_node_stats(const uint8_t *p, size_t len,
                                  cmsg_node_stats *out)
{
    enum { FIGS = CMSG_NODE_STATS * 8,
           ALL = FIGS + (CMSG_FETCH_WAIT_BUCKETS + 2) * 8 };
    cmsg_node_stats s = { .has_wait = len != FIGS };
    if (len != FIGS && len != ALL)
        return status_set(DVM_EPROTO, "malformed node stats (%zu bytes)",
                          len);
    cmsg_decode_u64s(p, FIGS, s.v, CMSG_NODE_STATS);
    if (s.has_wait) {
        if (le_ld64(p + FIGS) != CMSG_FETCH_WAIT_VERSION)
            return status_set(DVM_EPROTO, "node stats: fetch waits of "
                              "version %llu",
                              (unsigned long long)le_ld64(p + FIGS));
        cmsg_decode_u64s(p + FIGS + 8, CMSG_FETCH_WAIT_BUCKETS * 8, s.wait,
                         CMSG_FETCH_WAIT_BUCKETS);
        s.wait_sum_ns = le_ld64(p + ALL - 8);
    }
    *out = s;
    return DVM_OK;
}
