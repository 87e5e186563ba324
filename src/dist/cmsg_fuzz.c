/*
 * cmsg_fuzz.c -- libFuzzer target for the cluster's payload decoders.
 *
 * The first byte picks the decoder (RELAY, START, SUBMIT, DONE, OUTPUT,
 * u64s, string, FETCH, FETCHED, JOIN, CLOCK_PING, CLOCK_PONG, RESUME,
 * LEAVE, NODE_ADDR, PEERS, DRAIN, NODE_STATS, DELTA, APPLY, DHELD, DDROP,
 * DRESEND);
 * the rest is
 * the payload.  A payload
 * that decodes is re-encoded, and the encoding must be the payload itself
 * (every decoder accepts exactly one spelling of a message).  A relayed
 * RESULT is decoded too, and its frames (changes', then output's) walked
 * with the pages, as the master does.
 */
#include <stdlib.h>
#include <string.h>

#include "dist/cmsg.h"

/* The decoded forms of OUTPUT and of two words. */
typedef struct output_v {
    uint64_t chan;
    cmsg_str s;
} output_v;

typedef struct words2 {
    uint64_t w[2];
} words2;

static void same(const msg_buf *b, const uint8_t *p, size_t n)
{
    if (b->oom || b->len != n || (n && memcmp(b->p, p, n)))
        abort();
}

/* A relayed RESULT as the master reads it (mserve.c): its frames -- the
 * changes', then the output's -- one to one with the pages shipped. */
static void relayed_result(const cmsg_relay *r)
{
    msg_result res;
    if (r->type != MSG_RESULT || r->page ||
        msg_decode_result(r->msg, r->len, &res))
        return;
    size_t nf = msg_result_nframes(&res);
    uint64_t sum = 0;
    for (size_t i = 0; nf == r->npages && i < nf; i++)
        sum += *msg_result_frame(&res, i) + r->pages[i * CMSG_PAGE];
    for (uint32_t o = 0; o < res.nout; o++)
        if (res.out[o].nframes != MSG_OUTPUT_FRAMES(res.out[o].len) ||
            res.out[o].frames[res.out[o].nframes - 1] == 0)
            abort();            /* the decoder let a bad output through */
    msg_result_free(&res);
    (void)sum;
}

static void relay(const uint8_t *p, size_t n, msg_buf *b)
{
    cmsg_relay r;
    if (cmsg_decode_relay(p, n, &r))
        return;
    relayed_result(&r);
    const uint8_t **pages = calloc(r.npages + 1, sizeof *pages);
    if (!pages)
        return;
    for (uint64_t i = 0; i < r.npages; i++)
        pages[i] = r.pages + i * CMSG_PAGE;
    uint64_t *ver = calloc(r.nver + 1, sizeof *ver);
    for (uint64_t i = 0; ver && i < r.nver; i++)
        memcpy(&ver[i], r.ver + 8 * i, 8);
    if (ver)
        cmsg_encode_relay(b, r.run, r.rcomp, r.gen, r.page, r.type, r.msg,
                          r.len, ver, r.nver, pages, r.npages);
    free(ver);
    free(pages);
    if (!ver)
        return;
    same(b, p, n);
}

static void fetch(const uint8_t *p, size_t n, msg_buf *b, int width)
{
    cmsg_fetch f;
    if (cmsg_decode_fetch(p, n, width, &f))
        return;
    uint64_t *ent = calloc(f.n * (size_t)width + 1, sizeof *ent);
    const uint8_t **pages = calloc(f.npages + 1, sizeof *pages);
    if (ent && pages) {
        memcpy(ent, f.ent, f.n * 8 * (size_t)width);
        for (uint64_t i = 0; i < f.npages; i++)
            pages[i] = f.pages + i * CMSG_PAGE;
        cmsg_encode_fetch(b, f.run, ent, f.n, width, pages, f.npages);
        same(b, p, n);
    }
    free(ent);
    free(pages);
}

static void peers(const uint8_t *p, size_t n, msg_buf *b)
{
    static cmsg_peers m;
    if (cmsg_decode_peers(p, n, &m))
        return;
    cmsg_encode_peers(b, &m);
    same(b, p, n);
}

static void fetch2(const uint8_t *p, size_t n, msg_buf *b)
{
    fetch(p, n, b, 2);
}

static void fetch3(const uint8_t *p, size_t n, msg_buf *b)
{
    fetch(p, n, b, 3);
}

/* DELTA: every entry walked, applied to a page and re-encoded. */
static void delta(const uint8_t *p, size_t n, msg_buf *b)
{
    cmsg_delta d;
    if (cmsg_decode_delta(p, n, &d))
        return;
    static uint8_t page[CMSG_PAGE];
    size_t off = 0;
    cmsg_encode_delta_head(b, d.run, d.n);
    for (uint64_t i = 0; i < d.n; i++) {
        cmsg_delta_ent e;
        cmsg_delta_next(&d, &off, &e);
        cmsg_delta_apply(&e, page);
        uint64_t mask[CMSG_MASK_WORDS];
        memcpy(mask, e.mask, sizeof mask);      /* little endian host */
        cmsg_encode_delta_ent(b, &e.tag, e.page, mask, e.bytes.p,
                              (size_t)e.bytes.len);
    }
    if (off != d.len)
        abort();
    same(b, p, n);
}

static void apply(const uint8_t *p, size_t n, msg_buf *b)
{
    cmsg_fetch f;
    if (cmsg_decode_apply(p, n, &f))
        return;
    uint64_t *ent = calloc(f.n * CMSG_APPLY_WIDTH + 1, sizeof *ent);
    for (uint64_t i = 0; ent && i < f.n; i++) {
        uint64_t *e = ent + CMSG_APPLY_WIDTH * i;
        cmsg_tag t;
        cmsg_apply_ent(&f, i, &e[0], &e[1], &e[2], &t);
        if (e[2] >= e[1])
            abort();                    /* the decoder let a bad base by */
        const uint64_t w[CMSG_TAG_WORDS] = { t.node, t.rcomp, t.gen, t.rid,
                                             t.attempt };
        memcpy(e + 3, w, sizeof w);
    }
    if (ent) {
        cmsg_encode_fetch(b, f.run, ent, f.n, CMSG_APPLY_WIDTH, NULL, 0);
        same(b, p, n);
    }
    free(ent);
}

/* DHELD, DDROP and DRESEND (decode): entries back through cmsg_tags_ent
 * to the same bytes. */
static void tags(const uint8_t *p, size_t n, msg_buf *b, int width,
                 dvm_status (*decode)(const uint8_t *, size_t, cmsg_tags *))
{
    cmsg_tags t;
    if (decode(p, n, &t))
        return;
    uint64_t *ent = calloc((size_t)t.n * (size_t)width + 1, sizeof *ent);
    for (uint64_t i = 0; ent && i < t.n; i++) {
        uint64_t page, *e = ent + (size_t)width * i;
        cmsg_tag g;
        cmsg_tags_ent(&t, i, &page, &g);
        if (width == CMSG_DHELD_WIDTH)
            *e++ = page;
        const uint64_t w[CMSG_TAG_WORDS] = { g.node, g.rcomp, g.gen, g.rid,
                                             g.attempt };
        memcpy(e, w, sizeof w);
    }
    if (ent) {
        cmsg_encode_tags(b, t.run, ent, (size_t)t.n, width);
        same(b, p, n);
    }
    free(ent);
}

static void dheld(const uint8_t *p, size_t n, msg_buf *b)
{
    tags(p, n, b, CMSG_DHELD_WIDTH, cmsg_decode_dheld);
}

static void ddrop(const uint8_t *p, size_t n, msg_buf *b)
{
    tags(p, n, b, CMSG_TAG_WORDS, cmsg_decode_ddrop);
}

static void dresend(const uint8_t *p, size_t n, msg_buf *b)
{
    tags(p, n, b, CMSG_TAG_WORDS, cmsg_decode_dresend);
}

/* NAME(p, n, b): a payload DECODE accepts into a T v goes back through
 * ENCODE (an expression of b and v) to the same bytes. */
#define ROUND_TRIP(name, T, decode, encode)                                  \
    static void name(const uint8_t *p, size_t n, msg_buf *b)                \
    {                                                                        \
        T v;                                                                 \
        if (!decode) {                                                       \
            encode;                                                          \
            same(b, p, n);                                                   \
        }                                                                    \
    }

ROUND_TRIP(start, cmsg_start, cmsg_decode_start(p, n, &v),
           cmsg_encode_start(b, &v))
ROUND_TRIP(submit, cmsg_submit, cmsg_decode_submit(p, n, &v),
           cmsg_encode_submit(b, &v))
ROUND_TRIP(done, cmsg_done, cmsg_decode_done(p, n, &v),
           cmsg_encode_done(b, &v))
ROUND_TRIP(output, output_v, cmsg_decode_output(p, n, &v.chan, &v.s),
           cmsg_encode_output(b, v.chan, v.s.p, (size_t)v.s.len))
ROUND_TRIP(u64s, words2, cmsg_decode_u64s(p, n, v.w, 2),
           cmsg_encode_u64s(b, v.w, 2))
ROUND_TRIP(str, cmsg_str, cmsg_decode_str(p, n, &v),
           cmsg_put_str(b, v.p, (size_t)v.len))
ROUND_TRIP(join, cmsg_join, cmsg_decode_join(p, n, &v),
           cmsg_encode_join(b, &v))
ROUND_TRIP(clock_ping, uint64_t, cmsg_decode_clock_ping(p, n, &v),
           cmsg_encode_clock_ping(b, v))
ROUND_TRIP(clock_pong, cmsg_clock, cmsg_decode_clock_pong(p, n, &v),
           cmsg_encode_clock_pong(b, &v))
ROUND_TRIP(resume, cmsg_resume, cmsg_decode_resume(p, n, &v),
           cmsg_encode_resume(b, &v))
ROUND_TRIP(leave, cmsg_leave, cmsg_decode_leave(p, n, &v),
           cmsg_encode_leave(b, &v))
ROUND_TRIP(addr, cmsg_str, cmsg_decode_addr(p, n, &v),
           cmsg_encode_addr(b, (const char *)v.p, (size_t)v.len))
ROUND_TRIP(drain, cmsg_str, cmsg_decode_drain(p, n, &v),
           cmsg_encode_drain(b, (const char *)v.p, (size_t)v.len))
ROUND_TRIP(node_stats, cmsg_node_stats, cmsg_decode_node_stats(p, n, &v),
           cmsg_encode_node_stats(b, &v))

/* The cases by their first byte modulo 23, in the order of the seeds of
 * tests/fuzz/cmsg, whose first bytes select them: never reorder. */
static void (*const cases[])(const uint8_t *, size_t, msg_buf *) = {
    relay, start, submit, done, output, u64s, str, fetch2, fetch3, join,
    clock_ping, clock_pong, resume, leave, addr, peers, drain, node_stats,
    delta, apply, dheld, ddrop, dresend,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _Static_assert(sizeof cases / sizeof *cases == 23, "one case a decoder");
    if (size < 1)
        return 0;
    msg_buf b;
    mb_init(&b);
    cases[data[0] % 23](data + 1, size - 1, &b);
    mb_free(&b);
    return 0;
}
