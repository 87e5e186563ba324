/*
 * cmsg_test.c -- the cluster's payloads: every kind round-trips, and
 * truncated, oversized or inconsistent payloads are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dist/cmsg.h"
#include "isa/isa.h"
#include "util/le.h"

static cmsg_str str(const char *s)
{
    return (cmsg_str){ (const uint8_t *)s, strlen(s) };
}

static void test_relay_roundtrip(void **state)
{
    (void)state;
    uint8_t page[CMSG_PAGE];
    memset(page, 0xab, sizeof page);
    const uint8_t *pages[1] = { page };
    uint8_t payload[8] = { 7 };
    msg_buf b;
    mb_init(&b);
    uint64_t ver[1] = { 77 };
    cmsg_encode_relay(&b, 3, 1, 2, 1, MSG_PAGE_RESP, payload, 8, ver, 1,
                      pages, 1);
    cmsg_relay r;
    assert_int_equal(cmsg_decode_relay(b.p, b.len, &r), DVM_OK);
    assert_int_equal(r.run, 3);
    assert_int_equal(r.rcomp, 1);
    assert_int_equal(r.gen, 2);
    assert_int_equal(r.page, 1);
    assert_int_equal(r.type, MSG_PAGE_RESP);
    assert_int_equal(r.len, 8);
    assert_int_equal(r.msg[0], 7);
    assert_int_equal(r.nver, 1);
    assert_int_equal(r.ver[0], 77);
    assert_int_equal(r.npages, 1);
    assert_memory_equal(r.pages, page, CMSG_PAGE);
    /* Every truncation is refused. */
    for (size_t n = 0; n < b.len; n += 97)
        assert_int_equal(cmsg_decode_relay(b.p, n, &r), DVM_EPROTO);
    /* An unknown RComp message type, a bad place, a bad channel. */
    b.p[32 + 8] = 99;
    assert_int_equal(cmsg_decode_relay(b.p, b.len, &r), DVM_EPROTO);
    b.p[32 + 8] = MSG_PAGE_RESP;
    b.p[8] = 0xff;
    b.p[9] = 0xff;
    assert_int_equal(cmsg_decode_relay(b.p, b.len, &r), DVM_EPROTO);
    b.p[8] = 1;
    b.p[9] = 0;
    b.p[24] = 2;
    assert_int_equal(cmsg_decode_relay(b.p, b.len, &r), DVM_EPROTO);
    mb_free(&b);
}

static void test_batch(void **state)
{
    (void)state;
    msg_buf rec, batch;
    mb_init(&rec);
    mb_init(&batch);
    uint8_t payload[8] = { 4 };
    cmsg_encode_relay(&rec, 1, 0, 1, 0, MSG_FRAME_REQ, payload, 8, NULL, 0,
                      NULL, 0);
    cmsg_batch_add(&batch, &rec);
    cmsg_batch_add(&batch, &rec);
    size_t off = 0, n;
    const uint8_t *r;
    cmsg_relay v;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(cmsg_batch_next(batch.p, batch.len, &off, &r, &n), 1);
        assert_int_equal(cmsg_decode_relay(r, n, &v), DVM_OK);
        assert_int_equal(v.type, MSG_FRAME_REQ);
    }
    assert_int_equal(cmsg_batch_next(batch.p, batch.len, &off, &r, &n), 0);
    /* A record longer than what is left, or empty: malformed. */
    off = 0;
    assert_int_equal(cmsg_batch_next(batch.p, batch.len - 1, &off, &r, &n), 1);
    assert_int_equal(cmsg_batch_next(batch.p, batch.len - 1, &off, &r, &n),
                     -1);
    uint8_t zero[8] = { 0 };
    off = 0;
    assert_int_equal(cmsg_batch_next(zero, 8, &off, &r, &n), -1);
    mb_free(&rec);
    mb_free(&batch);
}

typedef struct batch_seen {
    size_t n, stop_at;
    size_t len[4];
} batch_seen;

static dvm_status batch_note(void *ctx, const uint8_t *rec, size_t rlen)
{
    batch_seen *b = ctx;
    (void)rec;
    b->len[b->n++] = rlen;
    return b->n == b->stop_at ? DVM_ECLOSED : DVM_OK;
}

/* cmsg_batch_each hands on every record in order, stops where fn says,
 * and refuses a malformed tail after the records before it. */
static void test_batch_each(void **state)
{
    (void)state;
    msg_buf batch, rec;
    mb_init(&batch);
    mb_init(&rec);
    for (size_t k = 1; k <= 3; k++) {
        mb_reset(&rec);
        for (size_t i = 0; i < k; i++)
            mb_u64(&rec, i);
        cmsg_batch_add(&batch, &rec);
    }
    batch_seen b = { 0, 0, { 0 } };
    assert_int_equal(cmsg_batch_each(batch.p, batch.len, batch_note, &b),
                     DVM_OK);
    assert_int_equal(b.n, 3);
    assert_int_equal(b.len[0], 8);
    assert_int_equal(b.len[2], 24);
    batch_seen stop = { 0, 2, { 0 } };
    assert_int_equal(cmsg_batch_each(batch.p, batch.len, batch_note, &stop),
                     DVM_ECLOSED);
    assert_int_equal(stop.n, 2);
    batch_seen cut = { 0, 0, { 0 } };
    assert_int_equal(cmsg_batch_each(batch.p, batch.len - 1, batch_note,
                                     &cut), DVM_EPROTO);
    assert_int_equal(cut.n, 2);
    batch_seen none = { 0, 0, { 0 } };
    assert_int_equal(cmsg_batch_each(batch.p, 0, batch_note, &none), DVM_OK);
    assert_int_equal(none.n, 0);
    mb_free(&rec);
    mb_free(&batch);
}

static void test_fetch(void **state)
{
    (void)state;
    uint8_t page[CMSG_PAGE] = { 1 };
    const uint8_t *pages[1] = { page };
    uint64_t ent[6] = { 0x50000, 3, 1, 0x50001, 4, 0 };
    msg_buf b;
    mb_init(&b);
    cmsg_encode_fetch(&b, 9, ent, 2, 3, pages, 1);
    cmsg_fetch f;
    assert_int_equal(cmsg_decode_fetch(b.p, b.len, 3, &f), DVM_OK);
    assert_int_equal(f.run, 9);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.npages, 1);
    /* Decoded with the other width, or with a page missing: refused. */
    assert_int_equal(cmsg_decode_fetch(b.p, b.len, 2, &f), DVM_EPROTO);
    mb_reset(&b);
    cmsg_encode_fetch(&b, 9, ent, 2, 3, pages, 0);
    assert_int_equal(cmsg_decode_fetch(b.p, b.len, 3, &f), DVM_EPROTO);
    mb_reset(&b);
    uint64_t ent2[6] = { 0x50000, 3, 0x50001, 4, 0x50002, 5 };
    cmsg_encode_fetch(&b, 9, ent2, 3, 2, NULL, 0);
    assert_int_equal(cmsg_decode_fetch(b.p, b.len, 2, &f), DVM_OK);
    assert_int_equal(f.n, 3);
    /* A page of the input windows with CMSG_EPOCH_INPUT. */
    uint64_t in[2] = { DISA_INPUT_BASE / DISA_PAGE + 7, CMSG_EPOCH_INPUT };
    mb_reset(&b);
    cmsg_encode_fetch(&b, 9, in, 1, 2, NULL, 0);
    assert_int_equal(cmsg_decode_fetch(b.p, b.len, 2, &f), DVM_OK);
    /* More input pages than one FETCH may ask for. */
    uint64_t many[2 * (CMSG_MAX_INPUT_FETCH + 1)];
    for (size_t i = 0; i <= CMSG_MAX_INPUT_FETCH; i++) {
        many[2 * i] = DISA_INPUT_BASE / DISA_PAGE + i;
        many[2 * i + 1] = CMSG_EPOCH_INPUT;
    }
    mb_reset(&b);
    cmsg_encode_fetch(&b, 9, many, CMSG_MAX_INPUT_FETCH, 2, NULL, 0);
    assert_int_equal(cmsg_decode_fetch(b.p, b.len, 2, &f), DVM_OK);
    mb_reset(&b);
    cmsg_encode_fetch(&b, 9, many, CMSG_MAX_INPUT_FETCH + 1, 2, NULL, 0);
    assert_int_equal(cmsg_decode_fetch(b.p, b.len, 2, &f), DVM_EPROTO);
    /* A version that cannot be: a page below the SR, or epoch 0; a page
     * outside the input windows with the input epoch (the heap's, the
     * system page). */
    uint64_t bad[4][2] = { { DISA_RB / DISA_PAGE - 1, 3 }, { 0x50000, 0 },
                           { 0x50000, CMSG_EPOCH_INPUT },
                           { DISA_SYSPAGE / DISA_PAGE, CMSG_EPOCH_INPUT } };
    for (int i = 0; i < 4; i++) {
        mb_reset(&b);
        cmsg_encode_fetch(&b, 9, bad[i], 1, 2, NULL, 0);
        assert_int_equal(cmsg_decode_fetch(b.p, b.len, 2, &f), DVM_EPROTO);
    }
    mb_free(&b);
}

/* DELTA: packed changed bytes, round trip, each entry walked and applied;
 * bytes that do not match their mask, a page outside the SR, too many
 * entries, trailing bytes: refused. */
static void test_delta(void **state)
{
    (void)state;
    uint8_t page[CMSG_PAGE], packed[CMSG_PAGE];
    for (size_t i = 0; i < CMSG_PAGE; i++)
        page[i] = (uint8_t)(i * 7);
    uint64_t mask[CMSG_MASK_WORDS] = { 0 };
    mask[0] = 0x5;                      /* bytes 0 and 2 */
    mask[63] = 1ull << 63;              /* byte 4095 */
    size_t nb = cmsg_delta_pack(mask, page, packed);
    assert_int_equal(nb, 3);
    assert_int_equal(packed[1], page[2]);
    assert_int_equal(packed[2], page[4095]);
    const cmsg_tag t = { 2, 1, 3, 77, 0 };
    msg_buf b;
    mb_init(&b);
    cmsg_encode_delta_head(&b, 9, 2);
    cmsg_encode_delta_ent(&b, &t, 0x50000, mask, packed, nb);
    cmsg_encode_delta_ent(&b, &t, 0x50001, mask, packed, nb);
    cmsg_delta d;
    assert_int_equal(cmsg_decode_delta(b.p, b.len, &d), DVM_OK);
    assert_int_equal(d.run, 9);
    assert_int_equal(d.n, 2);
    size_t off = 0;
    uint8_t out[CMSG_PAGE] = { 0 };
    for (uint64_t i = 0; i < d.n; i++) {
        cmsg_delta_ent e;
        cmsg_delta_next(&d, &off, &e);
        assert_int_equal(e.page, 0x50000 + i);
        assert_int_equal(e.tag.rid, 77);
        assert_int_equal(e.tag.gen, 3);
        cmsg_delta_apply(&e, out);
    }
    assert_int_equal(off, d.len);
    assert_int_equal(out[0], page[0]);
    assert_int_equal(out[1], 0);
    assert_int_equal(out[2], page[2]);
    assert_int_equal(out[4095], page[4095]);
    /* Trailing bytes; one byte fewer than the mask says. */
    mb_u64(&b, 0);
    assert_int_equal(cmsg_decode_delta(b.p, b.len, &d), DVM_EPROTO);
    mb_reset(&b);
    cmsg_encode_delta_head(&b, 9, 1);
    cmsg_encode_delta_ent(&b, &t, 0x50000, mask, packed, nb - 1);
    assert_int_equal(cmsg_decode_delta(b.p, b.len, &d), DVM_EPROTO);
    /* A page below the SR. */
    mb_reset(&b);
    cmsg_encode_delta_head(&b, 9, 1);
    cmsg_encode_delta_ent(&b, &t, DISA_RB / DISA_PAGE - 1, mask, packed, nb);
    assert_int_equal(cmsg_decode_delta(b.p, b.len, &d), DVM_EPROTO);
    /* More entries than allowed (the count alone is judged first). */
    mb_reset(&b);
    cmsg_encode_delta_head(&b, 9, CMSG_MAX_DELTAS + 1);
    for (size_t i = 0; i < CMSG_MAX_DELTAS + 1; i++)
        cmsg_encode_delta_ent(&b, &t, 0x50000, mask, packed, nb);
    assert_false(b.oom);
    assert_int_equal(cmsg_decode_delta(b.p, b.len, &d), DVM_EPROTO);
    mb_free(&b);
}

/* APPLY: entries of page, epoch, base and tag; a base not older than its
 * epoch refused. */
static void test_apply(void **state)
{
    (void)state;
    uint64_t ent[2 * CMSG_APPLY_WIDTH] = { 0x50000, 5, 3, 2, 1, 3, 77, 0,
                                           0x50001, 6, 0, 2, 0, 1, 78, 1 };
    msg_buf b;
    mb_init(&b);
    cmsg_encode_fetch(&b, 9, ent, 2, CMSG_APPLY_WIDTH, NULL, 0);
    cmsg_fetch f;
    assert_int_equal(cmsg_decode_apply(b.p, b.len, &f), DVM_OK);
    assert_int_equal(f.n, 2);
    uint64_t page, epoch, base;
    cmsg_tag t;
    cmsg_apply_ent(&f, 1, &page, &epoch, &base, &t);
    assert_int_equal(page, 0x50001);
    assert_int_equal(epoch, 6);
    assert_int_equal(base, 0);
    assert_int_equal(t.node, 2);
    assert_int_equal(t.gen, 1);
    assert_int_equal(t.rid, 78);
    assert_int_equal(t.attempt, 1);
    ent[2] = 5;                         /* base == epoch */
    mb_reset(&b);
    cmsg_encode_fetch(&b, 9, ent, 2, CMSG_APPLY_WIDTH, NULL, 0);
    assert_int_equal(cmsg_decode_apply(b.p, b.len, &f), DVM_EPROTO);
    mb_free(&b);
}

/* DHELD and DDROP: round trip; a page outside the SR, a whole-page
 * attempt and a short payload refused. */
static void test_dheld_ddrop(void **state)
{
    (void)state;
    uint64_t ent[2 * CMSG_DHELD_WIDTH] = { 0x50000, 2, 1, 3, 77, 0,
                                           0x50001, 4, 0, 1, 78, 2 };
    msg_buf b;
    mb_init(&b);
    cmsg_encode_tags(&b, 9, ent, 2, CMSG_DHELD_WIDTH);
    cmsg_tags t;
    assert_int_equal(cmsg_decode_dheld(b.p, b.len, &t), DVM_OK);
    assert_int_equal(t.run, 9);
    assert_int_equal(t.n, 2);
    uint64_t page;
    cmsg_tag g;
    cmsg_tags_ent(&t, 1, &page, &g);
    assert_int_equal(page, 0x50001);
    assert_int_equal(g.node, 4);
    assert_int_equal(g.gen, 1);
    assert_int_equal(g.rid, 78);
    assert_int_equal(g.attempt, 2);
    assert_int_equal(cmsg_decode_dheld(b.p, b.len - 8, &t), DVM_EPROTO);
    /* The same bytes are not a DDROP (another width). */
    assert_int_equal(cmsg_decode_ddrop(b.p, b.len, &t), DVM_EPROTO);
    ent[6] = 5;                         /* below the SR */
    mb_reset(&b);
    cmsg_encode_tags(&b, 9, ent, 2, CMSG_DHELD_WIDTH);
    assert_int_equal(cmsg_decode_dheld(b.p, b.len, &t), DVM_EPROTO);
    ent[6] = 0x50001;
    ent[11] |= CMSG_TAG_WHOLE;
    mb_reset(&b);
    cmsg_encode_tags(&b, 9, ent, 2, CMSG_DHELD_WIDTH);
    assert_int_equal(cmsg_decode_dheld(b.p, b.len, &t), DVM_EPROTO);
    /* DDROP: tags alone. */
    const uint64_t d[CMSG_TAG_WORDS] = { 3, 1, 2, 99, 0 };
    mb_reset(&b);
    cmsg_encode_tags(&b, 9, d, 1, CMSG_TAG_WORDS);
    assert_int_equal(cmsg_decode_ddrop(b.p, b.len, &t), DVM_OK);
    cmsg_tags_ent(&t, 0, &page, &g);
    assert_int_equal(page, 0);
    assert_int_equal(g.node, 3);
    assert_int_equal(g.rid, 99);
    mb_free(&b);
}

/* DRESEND: as DDROP (tags alone); a whole-page attempt and a short
 * payload refused, a DHELD's width too. */
static void test_dresend(void **state)
{
    (void)state;
    uint64_t d[2 * CMSG_TAG_WORDS] = { 3, 1, 2, 99, 0, 4, 0, 1, 7, 1 };
    msg_buf b;
    mb_init(&b);
    cmsg_encode_tags(&b, 5, d, 2, CMSG_TAG_WORDS);
    cmsg_tags t;
    assert_int_equal(cmsg_decode_dresend(b.p, b.len, &t), DVM_OK);
    assert_int_equal(t.run, 5);
    assert_int_equal(t.n, 2);
    uint64_t page;
    cmsg_tag g;
    cmsg_tags_ent(&t, 1, &page, &g);
    assert_int_equal(page, 0);
    assert_int_equal(g.node, 4);
    assert_int_equal(g.rid, 7);
    assert_int_equal(g.attempt, 1);
    assert_int_equal(cmsg_decode_dresend(b.p, b.len - 8, &t), DVM_EPROTO);
    assert_int_equal(cmsg_decode_dheld(b.p, b.len, &t), DVM_EPROTO);
    d[9] |= CMSG_TAG_WHOLE;
    mb_reset(&b);
    cmsg_encode_tags(&b, 5, d, 2, CMSG_TAG_WORDS);
    assert_int_equal(cmsg_decode_dresend(b.p, b.len, &t), DVM_EPROTO);
    mb_free(&b);
}

/* START: the masks-only flag round trips; unknown flags are refused;
 * which pages keep their data (the system page only: the master fetches
 * dumped pages from their holders). */
static void test_start_masks(void **state)
{
    (void)state;
    cmsg_start s, t;
    memset(&s, 0, sizeof s);
    s.run = 4;
    s.engine = (cmsg_str){ (const uint8_t *)"interp", 6 };
    s.image = (cmsg_str){ (const uint8_t *)"img", 3 };
    s.flags = CMSG_START_MASKS_ONLY;
    msg_buf b;
    mb_init(&b);
    cmsg_encode_start(&b, &s);
    assert_int_equal(cmsg_decode_start(b.p, b.len, &t), DVM_OK);
    assert_int_equal(t.flags, CMSG_START_MASKS_ONLY);
    assert_int_equal(t.run, 4);
    assert_true(cmsg_start_keeps_data(&t, DISA_SYSPAGE / DISA_PAGE));
    assert_false(cmsg_start_keeps_data(&t, 0x50000));
    t.flags = 0;
    assert_true(cmsg_start_keeps_data(&t, 0x50002));    /* every page */
    s.flags = 2;                        /* unknown */
    mb_reset(&b);
    cmsg_encode_start(&b, &s);
    assert_int_equal(cmsg_decode_start(b.p, b.len, &t), DVM_EPROTO);
    mb_free(&b);
}

static void test_submit_roundtrip(void **state)
{
    (void)state;
    cmsg_submit s, t;
    memset(&s, 0, sizeof s);
    s.engine = str("interp");
    s.flags = CMSG_SUBMIT_STATS;
    s.image = str("image bytes");
    s.nin = 1;
    s.in[0].name = str("in");
    s.in[0].data = str("data");
    s.ndump = 1;
    s.dump[0] = (cmsg_dump){ 0x1000, 16 };
    msg_buf b;
    mb_init(&b);
    cmsg_encode_submit(&b, &s);
    assert_int_equal(cmsg_decode_submit(b.p, b.len, &t), DVM_OK);
    assert_int_equal(t.flags, CMSG_SUBMIT_STATS);
    assert_int_equal(t.nin, 1);
    assert_memory_equal(t.in[0].data.p, "data", 4);
    assert_int_equal(t.dump[0].addr, 0x1000);
    assert_int_equal(t.dump[0].bytes, 16);
    /* An engine that does not exist. */
    s.engine = str("fast");
    mb_reset(&b);
    cmsg_encode_submit(&b, &s);
    assert_int_equal(cmsg_decode_submit(b.p, b.len, &t), DVM_EPROTO);
    /* A dump range outside the address space. */
    s.engine = str("jit");
    s.dump[0] = (cmsg_dump){ 1ULL << 46, 8 };
    mb_reset(&b);
    cmsg_encode_submit(&b, &s);
    assert_int_equal(cmsg_decode_submit(b.p, b.len, &t), DVM_EPROTO);
    /* A count of inputs that cannot be there. */
    s.dump[0] = (cmsg_dump){ 0x1000, 8 };
    s.nin = CMSG_MAX_INPUTS;
    for (uint32_t i = 0; i < s.nin; i++)
        s.in[i] = s.in[0];
    mb_reset(&b);
    cmsg_encode_submit(&b, &s);
    assert_int_equal(cmsg_decode_submit(b.p, b.len, &t), DVM_OK);
    mb_free(&b);
}

/* RESUME: round trip; a count beyond its bound, a length that does not
 * match, a channel twice are refused. */
static void test_resume(void **state)
{
    (void)state;
    cmsg_resume r = { .id = 77, .n = 2, .chan = { 0, CMSG_CHAN_DIAG },
                      .bytes = { 12, 3 } }, out;
    msg_buf b;
    mb_init(&b);
    cmsg_encode_resume(&b, &r);
    assert_int_equal(cmsg_decode_resume(b.p, b.len, &out), DVM_OK);
    assert_int_equal(out.id, 77);
    assert_int_equal(out.n, 2);
    assert_int_equal(out.chan[1], CMSG_CHAN_DIAG);
    assert_int_equal(out.bytes[0], 12);
    assert_int_equal(cmsg_decode_resume(b.p, b.len - 1, &out), DVM_EPROTO);
    le_st64(b.p + 8, CMSG_MAX_CHANS + 1);
    assert_int_equal(cmsg_decode_resume(b.p, b.len, &out), DVM_EPROTO);
    le_st64(b.p + 8, 2);
    le_st64(b.p + 32, 0);           /* the second channel: 0 again */
    assert_int_equal(cmsg_decode_resume(b.p, b.len, &out), DVM_EPROTO);
    /* The id names the bytes. */
    assert_int_not_equal(cmsg_submit_id((const uint8_t *)"a", 1),
                         cmsg_submit_id((const uint8_t *)"b", 1));
    mb_free(&b);
}

static void test_done_and_small(void **state)
{
    (void)state;
    cmsg_done d = { 1, str("error"), str("stats"), str("12345678"),
                    str("{}") }, e;
    msg_buf b;
    mb_init(&b);
    cmsg_encode_done(&b, &d);
    assert_int_equal(cmsg_decode_done(b.p, b.len, &e), DVM_OK);
    assert_int_equal(e.code, 1);
    assert_int_equal(e.dump.len, 8);
    assert_int_equal(e.trace.len, 2);
    assert_int_equal(cmsg_decode_done(b.p, b.len - 1, &e), DVM_EPROTO);
    uint64_t v[2] = { 5, 6 }, w[2];
    mb_reset(&b);
    cmsg_encode_u64s(&b, v, 2);
    assert_int_equal(cmsg_decode_u64s(b.p, b.len, w, 2), DVM_OK);
    assert_int_equal(w[1], 6);
    assert_int_equal(cmsg_decode_u64s(b.p, b.len, w, 1), DVM_EPROTO);
    char buf[4];
    assert_int_equal(cmsg_str_copy(str("abc"), buf, sizeof buf), DVM_OK);
    assert_int_equal(cmsg_str_copy(str("abcd"), buf, sizeof buf), DVM_EPROTO);
    mb_free(&b);
}

/* Names no node can have: empty, a space, a slash, a byte not ASCII, and
 * (the last, built in buf) one byte longer than max. */
static const char *const bad_names[] = { "", "a b", "n/1", "\xff", NULL };
#define NBAD_NAMES (sizeof bad_names / sizeof *bad_names)

static const char *bad_name(size_t i, size_t max, char *buf)
{
    if (bad_names[i])
        return bad_names[i];
    memset(buf, 'a', max + 1);
    buf[max + 1] = 0;
    return buf;
}

static void test_join_and_clock(void **state)
{
    (void)state;
    msg_buf b;
    mb_init(&b);
    cmsg_join j = { 4, str("n1.rack-2_a") }, k;
    cmsg_encode_join(&b, &j);
    assert_int_equal(cmsg_decode_join(b.p, b.len, &k), DVM_OK);
    assert_int_equal(k.nrcomps, 4);
    assert_int_equal(k.name.len, 11);
    assert_int_equal(cmsg_decode_join(b.p, b.len - 1, &k), DVM_EPROTO);
    /* The first form: the RComp count alone, no name. */
    assert_int_equal(cmsg_decode_join(b.p, 8, &k), DVM_OK);
    assert_int_equal(k.name.len, 0);
    char buf[CMSG_MAX_NODE_NAME + 2];
    for (size_t i = 0; i < NBAD_NAMES; i++) {
        const char *bad = bad_name(i, CMSG_MAX_NODE_NAME, buf);
        mb_reset(&b);
        mb_u64(&b, 1);
        cmsg_put_str(&b, bad, strlen(bad));
        assert_int_equal(cmsg_decode_join(b.p, b.len, &k), DVM_EPROTO);
    }
    mb_reset(&b);
    j = (cmsg_join){ 0, str("x") };     /* a node that only homes pages */
    cmsg_encode_join(&b, &j);
    assert_int_equal(cmsg_decode_join(b.p, b.len, &k), DVM_OK);
    assert_int_equal(k.nrcomps, 0);
    mb_reset(&b);
    j = (cmsg_join){ CMSG_MAX_RCOMPS + 1, str("x") };
    cmsg_encode_join(&b, &j);
    assert_int_equal(cmsg_decode_join(b.p, b.len, &k), DVM_EPROTO);

    uint64_t seq;
    mb_reset(&b);
    cmsg_encode_clock_ping(&b, 42);
    assert_int_equal(cmsg_decode_clock_ping(b.p, b.len, &seq), DVM_OK);
    assert_int_equal(seq, 42);
    b.p[0] = 2;                                 /* another version */
    assert_int_equal(cmsg_decode_clock_ping(b.p, b.len, &seq), DVM_EPROTO);
    assert_non_null(strstr(status_message(), "clock ping: version 2"));
    assert_int_equal(seq, 42);                  /* untouched */
    cmsg_clock c = { 7, 100, 250 }, d;
    mb_reset(&b);
    cmsg_encode_clock_pong(&b, &c);
    assert_int_equal(cmsg_decode_clock_pong(b.p, b.len, &d), DVM_OK);
    assert_int_equal(d.seq, 7);
    assert_int_equal(d.t1, 100);
    assert_int_equal(d.t2, 250);
    assert_int_equal(cmsg_decode_clock_pong(b.p, b.len - 8, &d), DVM_EPROTO);
    c = (cmsg_clock){ 7, 250, 100 };            /* sent before received */
    mb_reset(&b);
    cmsg_encode_clock_pong(&b, &c);
    assert_int_equal(cmsg_decode_clock_pong(b.p, b.len, &d), DVM_EPROTO);
    mb_free(&b);
}

/* LEAVE: round trip; another version, an unknown step, runners given
 * back before DONE and a short payload are refused. */
static void test_leave(void **state)
{
    (void)state;
    cmsg_leave l = { CMSG_LEAVE_DONE, 7, 3 }, m;
    msg_buf b;
    mb_init(&b);
    cmsg_encode_leave(&b, &l);
    assert_int_equal(b.len, 32);
    assert_int_equal(cmsg_decode_leave(b.p, b.len, &m), DVM_OK);
    assert_int_equal(m.step, CMSG_LEAVE_DONE);
    assert_int_equal(m.run, 7);
    assert_int_equal(m.given_back, 3);
    assert_int_equal(cmsg_decode_leave(b.p, b.len - 1, &m), DVM_EPROTO);
    b.p[0] = 2;                                 /* version 2 */
    assert_int_equal(cmsg_decode_leave(b.p, b.len, &m), DVM_EPROTO);
    assert_non_null(strstr(status_message(), "version"));
    b.p[0] = CMSG_LEAVE_VERSION;
    b.p[8] = 3;                                 /* no step 3 */
    assert_int_equal(cmsg_decode_leave(b.p, b.len, &m), DVM_EPROTO);
    b.p[8] = CMSG_LEAVE_ASK;                    /* ASK gives nothing back */
    assert_int_equal(cmsg_decode_leave(b.p, b.len, &m), DVM_EPROTO);
    b.p[24] = 0;
    assert_int_equal(cmsg_decode_leave(b.p, b.len, &m), DVM_OK);
    assert_int_equal(m.step, CMSG_LEAVE_ASK);
    mb_free(&b);
}

/* NODE_STATS: the figures alone (as first nodes sent them) or with the
 * fetch waits; another waits version or length refused. */
static void test_node_stats(void **state)
{
    (void)state;
    cmsg_node_stats s = { { 1, 2, 3, 4, 5, 6, 7 }, 0, { 0 }, 0 }, m;
    msg_buf b;
    mb_init(&b);
    cmsg_encode_node_stats(&b, &s);
    assert_int_equal(b.len, CMSG_NODE_STATS * 8);
    assert_int_equal(cmsg_decode_node_stats(b.p, b.len, &m), DVM_OK);
    assert_int_equal(m.has_wait, 0);
    assert_int_equal(m.v[6], 7);
    s.has_wait = 1;
    s.wait[0] = 9;
    s.wait[CMSG_FETCH_WAIT_BUCKETS - 1] = 11;
    s.wait_sum_ns = 12345;
    mb_reset(&b);
    cmsg_encode_node_stats(&b, &s);
    assert_int_equal(b.len, (CMSG_NODE_STATS + CMSG_FETCH_WAIT_BUCKETS + 2)
                            * 8);
    assert_int_equal(cmsg_decode_node_stats(b.p, b.len, &m), DVM_OK);
    assert_int_equal(m.has_wait, 1);
    assert_int_equal(m.wait[0], 9);
    assert_int_equal(m.wait[CMSG_FETCH_WAIT_BUCKETS - 1], 11);
    assert_int_equal(m.wait_sum_ns, 12345);
    assert_int_equal(m.v[0], 1);
    assert_int_equal(cmsg_decode_node_stats(b.p, b.len - 8, &m), DVM_EPROTO);
    assert_int_equal(cmsg_decode_node_stats(b.p, 8, &m), DVM_EPROTO);
    b.p[CMSG_NODE_STATS * 8] = 2;               /* waits of version 2 */
    assert_int_equal(cmsg_decode_node_stats(b.p, b.len, &m), DVM_EPROTO);
    assert_non_null(strstr(status_message(), "version 2"));
    mb_free(&b);
}

/* NODE_ADDR and PEERS round trips; refusals; FETCHED's "at homes". */
static void test_addr_peers(void **state)
{
    (void)state;
    msg_buf b;
    mb_init(&b);
    cmsg_str a;
    cmsg_encode_addr(&b, "127.0.0.1:99", 12);
    assert_int_equal(cmsg_decode_addr(b.p, b.len, &a), DVM_OK);
    assert_int_equal(a.len, 12);
    assert_memory_equal(a.p, "127.0.0.1:99", 12);
    assert_int_equal(cmsg_decode_addr(b.p, b.len - 1, &a), DVM_EPROTO);
    mb_reset(&b);
    cmsg_encode_addr(&b, "", 0);        /* an empty address: refused */
    assert_int_equal(cmsg_decode_addr(b.p, b.len, &a), DVM_EPROTO);
    mb_reset(&b);
    static cmsg_peers m, d;
    m.self = 3;
    m.n = 2;
    m.id[0] = 3;
    m.addr[0] = (cmsg_str){ (const uint8_t *)"h:1", 3 };
    m.id[1] = 5;
    m.addr[1] = (cmsg_str){ (const uint8_t *)"h:22", 4 };
    cmsg_encode_peers(&b, &m);
    assert_int_equal(cmsg_decode_peers(b.p, b.len, &d), DVM_OK);
    assert_int_equal(d.self, 3);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.id[1], 5);
    assert_memory_equal(d.addr[1].p, "h:22", 4);
    assert_int_equal(cmsg_decode_peers(b.p, b.len - 1, &d), DVM_EPROTO);
    m.id[1] = 3;                        /* the same id twice */
    mb_reset(&b);
    cmsg_encode_peers(&b, &m);
    assert_int_equal(cmsg_decode_peers(b.p, b.len, &d), DVM_EPROTO);
    /* present: 0, 1 (with its page) or CMSG_AT_HOMES (without); not 3 */
    uint64_t ent[6] = { 0x50000, 3, CMSG_AT_HOMES, 0x50001, 4, 0 };
    cmsg_fetch f;
    mb_reset(&b);
    cmsg_encode_fetch(&b, 1, ent, 2, 3, NULL, 0);
    assert_int_equal(cmsg_decode_fetch(b.p, b.len, 3, &f), DVM_OK);
    ent[2] = 3;
    mb_reset(&b);
    cmsg_encode_fetch(&b, 1, ent, 2, 3, NULL, 0);
    assert_int_equal(cmsg_decode_fetch(b.p, b.len, 3, &f), DVM_EPROTO);
    mb_free(&b);
}

static void test_drain(void **state)
{
    (void)state;
    msg_buf b;
    mb_init(&b);
    cmsg_str name;
    cmsg_encode_drain(&b, "n1.rack-2_a", 11);
    assert_int_equal(cmsg_decode_drain(b.p, b.len, &name), DVM_OK);
    assert_int_equal(name.len, 11);
    assert_memory_equal(name.p, "n1.rack-2_a", 11);
    assert_int_equal(cmsg_decode_drain(b.p, b.len - 1, &name), DVM_EPROTO);
    b.p[0] = 2;                                 /* another version */
    assert_int_equal(cmsg_decode_drain(b.p, b.len, &name), DVM_EPROTO);
    /* A name the master made unique ("-2") may pass JOIN's bound. */
    const char *longest = "0123456789012345678901234567890123456789"
                          "012345678901234567890123456789";
    mb_reset(&b);
    cmsg_encode_drain(&b, longest, CMSG_MAX_NODE_LABEL);
    assert_int_equal(cmsg_decode_drain(b.p, b.len, &name), DVM_OK);
    char buf[CMSG_MAX_NODE_LABEL + 2];
    for (size_t i = 0; i < NBAD_NAMES; i++) {
        const char *bad = bad_name(i, CMSG_MAX_NODE_LABEL, buf);
        mb_reset(&b);
        cmsg_encode_drain(&b, bad, strlen(bad));
        assert_int_equal(cmsg_decode_drain(b.p, b.len, &name), DVM_EPROTO);
    }
    mb_reset(&b);
    mb_u64(&b, CMSG_DRAIN_VERSION);             /* no name at all */
    assert_int_equal(cmsg_decode_drain(b.p, b.len, &name), DVM_EPROTO);
    mb_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relay_roundtrip),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_batch_each),
        cmocka_unit_test(test_fetch),
        cmocka_unit_test(test_delta),
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_dheld_ddrop),
        cmocka_unit_test(test_dresend),
        cmocka_unit_test(test_start_masks),
        cmocka_unit_test(test_submit_roundtrip),
        cmocka_unit_test(test_done_and_small),
        cmocka_unit_test(test_join_and_clock),
        cmocka_unit_test(test_resume),
        cmocka_unit_test(test_leave),
        cmocka_unit_test(test_node_stats),
        cmocka_unit_test(test_addr_peers),
        cmocka_unit_test(test_drain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
