/*
 * cmsg_fuzz.c -- libFuzzer target for the cluster's payload decoders.
 *
 * The first byte picks the decoder (RELAY, START, SUBMIT, DONE, OUTPUT,
 * u64s, string, FETCH, FETCHED, JOIN, CLOCK_PING, CLOCK_PONG, RESUME,
 * LEAVE, NODE_ADDR, PEERS, DRAIN, NODE_STATS); the rest is the payload.  A payload
 * that decodes is re-encoded, and the encoding must be the payload itself
 * (every decoder accepts exactly one spelling of a message).  A relayed
 * RESULT is decoded too, and its frames (changes', then output's) walked
 * with the pages, as the master does.
 */
#include <stdlib.h>
#include <string.h>

#include "dist/cmsg.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    msg_buf b;
    mb_init(&b);
    cmsg_start st;
    cmsg_submit sub;
    cmsg_done d;
    cmsg_str s;
    uint64_t v[2];
    cmsg_join j;
    cmsg_clock c;
    cmsg_resume rs;
    cmsg_leave l;
    cmsg_node_stats ns;
    switch (data[0] % 18) {
    case 17:
        if (!cmsg_decode_node_stats(p, n, &ns)) {
            cmsg_encode_node_stats(&b, &ns);
            same(&b, p, n);
        }
        break;
    case 16:
        if (!cmsg_decode_drain(p, n, &s)) {
            cmsg_encode_drain(&b, (const char *)s.p, (size_t)s.len);
            same(&b, p, n);
        }
        break;
    case 13:
        if (!cmsg_decode_leave(p, n, &l)) {
            cmsg_encode_leave(&b, &l);
            same(&b, p, n);
        }
        break;
    case 9:
        if (!cmsg_decode_join(p, n, &j)) {
            cmsg_encode_join(&b, &j);
            same(&b, p, n);
        }
        break;
    case 10:
        if (!cmsg_decode_clock_ping(p, n, &v[0])) {
            cmsg_encode_clock_ping(&b, v[0]);
            same(&b, p, n);
        }
        break;
    case 12:
        if (!cmsg_decode_resume(p, n, &rs)) {
            cmsg_encode_resume(&b, &rs);
            same(&b, p, n);
        }
        break;
    case 11:
        if (!cmsg_decode_clock_pong(p, n, &c)) {
            cmsg_encode_clock_pong(&b, &c);
            same(&b, p, n);
        }
        break;
    case 7:
        fetch(p, n, &b, 2);
        break;
    case 8:
        fetch(p, n, &b, 3);
        break;
    case 0:
        relay(p, n, &b);
        break;
    case 1:
        if (!cmsg_decode_start(p, n, &st)) {
            cmsg_encode_start(&b, &st);
            same(&b, p, n);
        }
        break;
    case 2:
        if (!cmsg_decode_submit(p, n, &sub)) {
            cmsg_encode_submit(&b, &sub);
            same(&b, p, n);
        }
        break;
    case 3:
        if (!cmsg_decode_done(p, n, &d)) {
            cmsg_encode_done(&b, &d);
            same(&b, p, n);
        }
        break;
    case 4:
        if (!cmsg_decode_output(p, n, &v[0], &s)) {
            cmsg_encode_output(&b, v[0], s.p, (size_t)s.len);
            same(&b, p, n);
        }
        break;
    case 14:
        if (!cmsg_decode_addr(p, n, &s)) {
            cmsg_encode_addr(&b, (const char *)s.p, (size_t)s.len);
            same(&b, p, n);
        }
        break;
    case 15:
        peers(p, n, &b);
        break;
    case 5:
        if (!cmsg_decode_u64s(p, n, v, 2)) {
            cmsg_encode_u64s(&b, v, 2);
            same(&b, p, n);
        }
        break;
    default:
        if (!cmsg_decode_str(p, n, &s)) {
            cmsg_put_str(&b, s.p, (size_t)s.len);
            same(&b, p, n);
        }
        break;
    }
    mb_free(&b);
    return 0;
}
