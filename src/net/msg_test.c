/*
 * msg_test.c -- unit tests of message encoding/decoding and framed
 * connections: round trips (page changes as runs and as bitmaps), every
 * validation rule of the decoders, and truncation at every length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/conn.h"
#include "isa/isa.h"
#include "net/msg.h"
#include "util/alloc.h"

static dvm_range heap1[2] = { { 0x40000000, 0x40001000 },
                             { 0x50000000, 0x50000010 } };
static msg_prefetch pre1[1] = { { 0x40000, 7 } };
static uint64_t inval1[2] = { 0x40001, 0x50000 };

static msg_runner sample_runner(void)
{
    return (msg_runner){ .rid = 5, .attempt = 1, .snap = 9,
                         .d = { .sb = 0x60000000, .ss = 4096,
                                .fi = 0x40000000, .nheap = 2,
                                .heap = heap1 },
                         .flags = MSG_RUNNER_KEEP,
                         .npre = 1, .pre = pre1, .ninval = 2,
                         .inval = inval1 };
}

static void test_dispatch_roundtrip(void **state)
{
    (void)state;
    msg_runner r = sample_runner();
    msg_dispatch d = { 1, &r }, out;
    msg_buf b;
    mb_init(&b);
    msg_encode_dispatch(&b, &d);
    assert_false(b.oom);
    assert_int_equal(msg_decode_dispatch(b.p + MSG_HEADER_SIZE,
                                         b.len - MSG_HEADER_SIZE, &out), 0);
    assert_int_equal(out.n, 1);
    assert_int_equal(out.r[0].rid, 5);
    assert_int_equal(out.r[0].snap, 9);
    assert_int_equal(out.r[0].d.nheap, 2);
    assert_int_equal(out.r[0].d.heap[1].hi, 0x50000010);
    assert_int_equal(out.r[0].pre[0].frame, 7);
    assert_int_equal(out.r[0].flags, MSG_RUNNER_KEEP);
    assert_int_equal(out.r[0].ninval, 2);
    assert_int_equal(out.r[0].inval[1], 0x50000);
    msg_dispatch_free(&out);
    mb_free(&b);
}

/* MSG_RUNNER_KEEP_FRAMES: each listed page travels with its frame; the
 * flag without the list it qualifies is refused, and so is every cut of
 * the longer encoding. */
static void test_dispatch_keep_frames(void **state)
{
    (void)state;
    msg_runner r = sample_runner();
    uint32_t frames[2] = { 0, 77 };
    r.flags |= MSG_RUNNER_KEEP_FRAMES;
    r.inval_frame = frames;
    msg_dispatch d = { 1, &r }, out;
    msg_buf b;
    mb_init(&b);
    msg_encode_dispatch(&b, &d);
    assert_int_equal(msg_decode_dispatch(b.p + MSG_HEADER_SIZE,
                                         b.len - MSG_HEADER_SIZE, &out), 0);
    assert_int_equal(out.r[0].flags, MSG_RUNNER_KEEP | MSG_RUNNER_KEEP_FRAMES);
    assert_int_equal(out.r[0].ninval, 2);
    assert_int_equal(out.r[0].inval[1], 0x50000);
    assert_non_null(out.r[0].inval_frame);
    assert_int_equal(out.r[0].inval_frame[0], 0);
    assert_int_equal(out.r[0].inval_frame[1], 77);
    msg_dispatch_free(&out);
    size_t n = b.len - MSG_HEADER_SIZE;
    for (size_t len = 0; len < n; len++)
        assert_int_equal(msg_decode_dispatch(b.p + MSG_HEADER_SIZE, len, &out),
                         DVM_EPROTO);
    mb_reset(&b);
    r.flags = MSG_RUNNER_KEEP_FRAMES;           /* no list to qualify */
    msg_encode_dispatch(&b, &d);
    assert_int_equal(msg_decode_dispatch(b.p + MSG_HEADER_SIZE,
                                         b.len - MSG_HEADER_SIZE, &out),
                     DVM_EPROTO);
    mb_free(&b);
}

static void test_dispatch_truncated(void **state)
{
    (void)state;
    msg_runner r = sample_runner();
    msg_dispatch d = { 1, &r }, out;
    msg_buf b;
    mb_init(&b);
    msg_encode_dispatch(&b, &d);
    size_t n = b.len - MSG_HEADER_SIZE;
    for (size_t len = 0; len < n; len++)
        assert_int_equal(msg_decode_dispatch(b.p + MSG_HEADER_SIZE, len, &out),
                         DVM_EPROTO);
    mb_free(&b);
}

static void test_dispatch_rejects_bad_stack(void **state)
{
    (void)state;
    msg_runner r = sample_runner();
    r.d.sb = 0x1000;             /* in the PR: not a valid stack */
    msg_dispatch d = { 1, &r }, out;
    msg_buf b;
    mb_init(&b);
    msg_encode_dispatch(&b, &d);
    assert_int_equal(msg_decode_dispatch(b.p + MSG_HEADER_SIZE,
                                         b.len - MSG_HEADER_SIZE, &out),
                     DVM_EPROTO);
    mb_free(&b);
}

static void test_dispatch_huge_count(void **state)
{
    (void)state;
    msg_buf b;
    mb_init(&b);
    mb_u64(&b, UINT64_MAX);     /* runner count with nothing behind it */
    msg_dispatch out;
    assert_int_equal(msg_decode_dispatch(b.p, b.len, &out), DVM_EPROTO);
    mb_free(&b);
}

static const uint32_t out_frames[2] = { 7, 9 };

static msg_result sample_result(mem_run *runs, runner_desc *kid, mem_change *ch,
                                msg_output *o)
{
    runs[0] = (mem_run){ 0, 8 };
    runs[1] = (mem_run){ 100, 3 };
    *ch = space_change(0x40001, 42, diff_of_runs(runs, 2));
    *kid = (runner_desc){ .sb = 0x70000000, .ss = 64, .fi = 0x40000010,
                       .nheap = 2, .heap = heap1, .nwatch = 1,
                       .watch = heap1 };
    *o = (msg_output){ 2, 6000, 2, out_frames };
    return (msg_result){ .rid = 3, .attempt = 2, .snap = 11, .exit = 0,
                         .nchanges = 1, .changes = ch, .nkids = 1,
                         .kids = kid, .nout = 1, .out = o };
}

static void test_result_roundtrip(void **state)
{
    (void)state;
    mem_run runs[2];
    runner_desc kid;
    mem_change ch;
    msg_output o;
    msg_result r = sample_result(runs, &kid, &ch, &o), out;
    msg_buf b;
    mb_init(&b);
    msg_encode_result(&b, &r);
    assert_int_equal(msg_decode_result(b.p + MSG_HEADER_SIZE,
                                       b.len - MSG_HEADER_SIZE, &out), 0);
    assert_int_equal(out.nchanges, 1);
    assert_false(diff_is_bitmap(space_change_delta(&out.changes[0])));
    assert_int_equal(space_change_delta(&out.changes[0]).nruns, 2);
    assert_int_equal(space_change_delta(&out.changes[0]).runs[1].off, 100);
    assert_int_equal(out.kids[0].nwatch, 1);
    assert_int_equal(out.out[0].chan, 2);
    assert_int_equal(out.out[0].len, 6000);
    assert_int_equal(out.out[0].nframes, 2);
    assert_int_equal(out.out[0].frames[0], 7);
    assert_int_equal(out.out[0].frames[1], 9);
    msg_result_free(&out);
    for (size_t len = 0; len < b.len - MSG_HEADER_SIZE; len++)
        assert_int_equal(msg_decode_result(b.p + MSG_HEADER_SIZE, len, &out),
                         DVM_EPROTO);
    mb_free(&b);
}

static void expect_bad_result(msg_result *r)
{
    msg_buf b;
    mb_init(&b);
    msg_encode_result(&b, r);
    msg_result out;
    assert_int_equal(msg_decode_result(b.p + MSG_HEADER_SIZE,
                                       b.len - MSG_HEADER_SIZE, &out),
                     DVM_EPROTO);
    mb_free(&b);
}

/* An output's count must match its frames exactly, and name real ones. */
static void bad_outputs(mem_run *runs, runner_desc *kid, mem_change *ch,
                        msg_output *o)
{
    static const uint32_t zero[2] = { 7, 0 };
    msg_result r = sample_result(runs, kid, ch, o);
    o->len = 8193;                          /* a count beyond its frames */
    expect_bad_result(&r);
    r = sample_result(runs, kid, ch, o);
    o->len = 4096;                          /* frames beyond the count */
    expect_bad_result(&r);
    r = sample_result(runs, kid, ch, o);
    o->len = 0;                             /* an empty output */
    o->nframes = 0;
    expect_bad_result(&r);
    r = sample_result(runs, kid, ch, o);
    o->frames = zero;                       /* the zero frame */
    expect_bad_result(&r);
    r = sample_result(runs, kid, ch, o);
    o->chan = 4097;                         /* no such channel, ever */
    expect_bad_result(&r);
}

/* A result's size does not grow with its output: 256 MiB are 65536 frame
 * ids, not 256 MiB of bytes. */
static void test_result_output_by_frames(void **state)
{
    (void)state;
    uint64_t len = 256ull << 20;
    uint32_t n = (uint32_t)MSG_OUTPUT_FRAMES(len);
    uint32_t most = (uint32_t)MSG_OUTPUT_FRAMES(MSG_OUTPUT_MAX + 1);
    uint32_t *ids = dvm_calloc(most, sizeof *ids);
    assert_non_null(ids);
    for (uint32_t i = 0; i < most; i++)
        ids[i] = i + 1;
    msg_output o = { 0, len, n, ids };
    msg_result r = { .rid = 1, .nout = 1, .out = &o }, out;
    msg_buf b;
    mb_init(&b);
    msg_encode_result(&b, &r);
    assert_true(b.len < 2u << 20);
    assert_int_equal(msg_decode_result(b.p + MSG_HEADER_SIZE,
                                       b.len - MSG_HEADER_SIZE, &out), 0);
    assert_int_equal(out.out[0].nframes, n);
    assert_int_equal(out.out[0].frames[n - 1], n);
    msg_result_free(&out);
    o.len = MSG_OUTPUT_MAX + 1;             /* past any channel's window */
    o.nframes = (uint32_t)MSG_OUTPUT_FRAMES(o.len);
    expect_bad_result(&r);
    mb_free(&b);
    dvm_free(ids);
}

static void test_result_validation(void **state)
{
    (void)state;
    mem_run runs[2];
    runner_desc kid;
    mem_change ch;
    msg_output o;
    msg_result r = sample_result(runs, &kid, &ch, &o);
    runs[1] = (mem_run){ 4, 8 };            /* overlapping runs */
    expect_bad_result(&r);
    r = sample_result(runs, &kid, &ch, &o);
    ch.page = 5;                            /* a PR page */
    expect_bad_result(&r);
    r = sample_result(runs, &kid, &ch, &o);
    ch.frame = 0;                           /* the zero frame */
    expect_bad_result(&r);
    r = sample_result(runs, &kid, &ch, &o);
    kid.ss = 0;                             /* empty child stack */
    expect_bad_result(&r);
    r = sample_result(runs, &kid, &ch, &o);
    r.exit = 7;                             /* unknown exit kind */
    expect_bad_result(&r);
    r = sample_result(runs, &kid, &ch, &o);
    kid.flags = 2;                          /* unknown child flag */
    expect_bad_result(&r);
    r = sample_result(runs, &kid, &ch, &o);
    kid.flags = RUNNER_STACK_CHOSEN;        /* chosen, not in the area */
    expect_bad_result(&r);
    r = sample_result(runs, &kid, &ch, &o);
    kid.flags = RUNNER_STACK_CHOSEN;        /* chosen, not whole pages */
    kid.sb = DISA_STACK_BASE;
    expect_bad_result(&r);
    r = sample_result(runs, &kid, &ch, &o);
    kid.flags = RUNNER_STACK_CHOSEN;        /* not aligned to its block */
    kid.sb = DISA_STACK_BASE + 0x1000;
    kid.ss = 0x2000;
    expect_bad_result(&r);
    r = sample_result(runs, &kid, &ch, &o);
    kid.flags = RUNNER_STACK_CHOSEN;        /* past the end of the area */
    kid.sb = DISA_INPUT_BASE - 0x1000;
    kid.ss = 0x2000;
    expect_bad_result(&r);
    r = sample_result(runs, &kid, &ch, &o);
    r.fault = VM_FAULT_COUNT;               /* unknown fault */
    expect_bad_result(&r);
    bad_outputs(runs, &kid, &ch, &o);
}

/* A dense page: every other byte of the page changed (2048 runs). */
static void dense_bits(uint64_t *bits)
{
    for (unsigned w = 0; w < DIFF_WORDS; w++)
        bits[w] = 0x5555555555555555ull;
}

/* Encodes the sample result with `second` as its second change and
 * decodes it into *out (checked: both changes, the second's page and
 * frame); every shorter prefix of it is refused. */
static void roundtrip_second(mem_change second, msg_result *out)
{
    mem_run runs[2];
    runner_desc kid;
    mem_change ch[2];
    msg_output o;
    msg_result r = sample_result(runs, &kid, &ch[0], &o), bad;
    ch[1] = second;
    r.changes = ch;
    r.nchanges = 2;
    msg_buf b;
    mb_init(&b);
    msg_encode_result(&b, &r);
    size_t len = b.len - MSG_HEADER_SIZE;
    for (size_t k = 0; k < len; k++)
        assert_int_equal(msg_decode_result(b.p + MSG_HEADER_SIZE, k, &bad),
                         DVM_EPROTO);
    assert_int_equal(msg_decode_result(b.p + MSG_HEADER_SIZE, len, out), 0);
    mb_free(&b);
    assert_int_equal(out->nchanges, 2);
    assert_int_equal(space_change_delta(&out->changes[0]).nruns, 2);
    assert_int_equal(out->changes[1].page, second.page);
    assert_int_equal(out->changes[1].frame, second.frame);
}

static void test_result_dense_roundtrip(void **state)
{
    (void)state;
    uint64_t bits[DIFF_WORDS];
    dense_bits(bits);
    bits[63] = 1ull << 63;                  /* the last byte too */
    msg_result out;
    roundtrip_second(space_change(0x40002, 43, diff_of_bits(bits)), &out);
    assert_true(diff_is_bitmap(space_change_delta(&out.changes[1])));
    assert_memory_equal(space_change_delta(&out.changes[1]).bits, bits, sizeof bits);
    msg_result_free(&out);
}

/* The bitmap of a dense change is 512 bytes on the wire, not 8 a run. */
static void test_result_dense_is_compact(void **state)
{
    (void)state;
    uint64_t bits[DIFF_WORDS];
    dense_bits(bits);
    mem_change ch = space_change(0x40002, 43, diff_of_bits(bits));
    msg_result r = { .rid = 1, .nchanges = 1, .changes = &ch };
    msg_buf b;
    mb_init(&b);
    msg_encode_result(&b, &r);
    /* 11 header words, 3 counts, local, flags, note count; page, frame,
     * tag; the bitmap */
    assert_int_equal(b.len, MSG_HEADER_SIZE + 17 * 8 + 24 + DIFF_BITMAP_BYTES);
    mb_free(&b);
}

static void test_result_dense_validation(void **state)
{
    (void)state;
    uint64_t bits[DIFF_WORDS] = { 0 };
    mem_change ch = space_change(0x40002, 43, diff_of_bits(bits));
    msg_result r = { .rid = 1, .nchanges = 1, .changes = &ch };
    expect_bad_result(&r);                  /* an empty bitmap */
    bits[17] = 4;
    msg_buf b;
    mb_init(&b);
    msg_encode_result(&b, &r);
    msg_result out;
    assert_int_equal(msg_decode_result(b.p + MSG_HEADER_SIZE,
                                       b.len - MSG_HEADER_SIZE, &out), 0);
    assert_true(diff_is_bitmap(space_change_delta(&out.changes[0])));
    assert_int_equal(space_change_delta(&out.changes[0]).bits[17], 4);
    msg_result_free(&out);
    /* The tag word follows page and frame: 12 header words + count. */
    size_t tag = MSG_HEADER_SIZE + 12 * 8 + 16;
    b.p[tag + 4] = 4;                       /* neither a count nor a flag */
    assert_int_equal(msg_decode_result(b.p + MSG_HEADER_SIZE,
                                       b.len - MSG_HEADER_SIZE, &out),
                     DVM_EPROTO);
    mb_free(&b);
}

/* An implied change is its three words and nothing else, decodes as
 * implied (no data), and a tag beside the two flags is refused. */
static void test_result_implied(void **state)
{
    (void)state;
    msg_result out;
    mem_change ch = space_change(0x40003, 44, diff_implied());
    roundtrip_second(ch, &out);
    assert_true(diff_is_implied(space_change_delta(&out.changes[1])));
    assert_null(out.changes[1].data);
    msg_result_free(&out);
    msg_buf one;
    msg_result r1 = { .rid = 1, .nchanges = 1, .changes = &ch };
    mb_init(&one);
    msg_encode_result(&one, &r1);
    /* 11 header words, 3 counts, local, flags, note count; page, frame,
     * tag */
    assert_int_equal(one.len, MSG_HEADER_SIZE + 17 * 8 + 24);
    size_t tag = MSG_HEADER_SIZE + 12 * 8 + 16;
    one.p[tag + 4] = 6;                     /* both flags at once */
    assert_int_equal(msg_decode_result(one.p + MSG_HEADER_SIZE,
                                       one.len - MSG_HEADER_SIZE, &out),
                     DVM_EPROTO);
    mb_free(&one);
    /* A result of implied changes only: 24 bytes a change, fewer than the
     * smallest change of runs. */
    mem_change many[8];
    for (int i = 0; i < 8; i++)
        many[i] = space_change(0x40010 + (uint64_t)i, 50 + (uint32_t)i,
                               diff_implied());
    msg_result rm = { .rid = 1, .nchanges = 8, .changes = many };
    mb_init(&one);
    msg_encode_result(&one, &rm);
    assert_int_equal(msg_decode_result(one.p + MSG_HEADER_SIZE,
                                       one.len - MSG_HEADER_SIZE, &out), 0);
    assert_int_equal(out.nchanges, 8);
    assert_int_equal(out.changes[7].frame, 57);
    msg_result_free(&out);
    mb_free(&one);
}

static void test_frames(void **state)
{
    (void)state;
    uint32_t ids[3] = { 1, 2, 99 }, *got;
    size_t n;
    msg_buf b;
    mb_init(&b);
    msg_encode_frames(&b, ids, 3);
    assert_int_equal(msg_decode_frames(b.p + MSG_HEADER_SIZE,
                                       b.len - MSG_HEADER_SIZE, &got, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(got[2], 99);
    dvm_free(got);
    assert_int_equal(msg_decode_frames(b.p + MSG_HEADER_SIZE,
                                       b.len - MSG_HEADER_SIZE - 1, &got, &n),
                     DVM_EPROTO);
    mb_free(&b);
}

/* Encodes r and decodes it into *out, which must succeed.  Output bytes
 * of *out are not valid after (they pointed into the freed payload). */
static void kids_roundtrip(const msg_result *r, msg_result *out)
{
    msg_buf b;
    mb_init(&b);
    msg_encode_result(&b, r);
    assert_int_equal(msg_decode_result(b.p + MSG_HEADER_SIZE,
                                       b.len - MSG_HEADER_SIZE, out), 0);
    mb_free(&b);
}

/* A child whose stack the DVM chose keeps its flag across the wire. */
static void test_result_chosen_stack(void **state)
{
    (void)state;
    mem_run runs[2];
    runner_desc kid;
    mem_change ch;
    msg_output o;
    msg_result r = sample_result(runs, &kid, &ch, &o), out;
    kid.flags = RUNNER_STACK_CHOSEN;
    kid.sb = DISA_STACK_BASE + 0x4000;
    kid.ss = 0x3000;                        /* a block of 4 pages */
    kids_roundtrip(&r, &out);
    assert_int_equal(out.kids[0].flags, RUNNER_STACK_CHOSEN);
    assert_true(out.kids[0].sb == DISA_STACK_BASE + 0x4000);
    assert_int_equal(out.kids[0].ss, 0x3000);
    msg_result_free(&out);
}

/* A local child's result: the child started at once, the flags and the
 * notes round trip (bytes little-endian, store flag kept). */
static void test_result_local_notes(void **state)
{
    (void)state;
    mem_run runs[2];
    runner_desc kid;
    mem_change ch;
    msg_output o;
    msg_result r = sample_result(runs, &kid, &ch, &o), out;
    msg_note notes[2] = {
        { .addr = DISA_RB + 8, .len = 8, .store = 0,
          .bytes = { 1, 2, 3, 4, 5, 6, 7, 8 } },
        { .addr = DISA_CTX_RID, .len = 2, .store = 1, .bytes = { 9, 10 } },
    };
    r.local = 1;
    r.flags = MSG_RESULT_LOCAL;
    r.nnotes = 2;
    r.notes = notes;
    kids_roundtrip(&r, &out);
    assert_int_equal(out.local, 1);
    assert_int_equal(out.flags, MSG_RESULT_LOCAL);
    assert_int_equal(out.nnotes, 2);
    assert_true(out.notes[0].addr == DISA_RB + 8);
    assert_memory_equal(out.notes[0].bytes, notes[0].bytes, 8);
    assert_int_equal(out.notes[1].len, 2);
    assert_int_equal(out.notes[1].store, 1);
    assert_int_equal(out.notes[1].bytes[1], 10);
    assert_int_equal(out.notes[1].bytes[2], 0);
    msg_result_free(&out);
}

/* What a local child's result may not say: a child past the children, a
 * child of a result that does not commit, unknown flags, UNCHECKED alone,
 * notes without LOCAL, notes of no bytes, of more than 8, with a bad
 * store flag, or past the address space. */
static void test_result_local_bad(void **state)
{
    (void)state;
    mem_run runs[2];
    runner_desc kid;
    mem_change ch;
    msg_output o;
    msg_result r = sample_result(runs, &kid, &ch, &o);
    msg_note n = { .addr = DISA_RB, .len = 8 };
    r.local = 2;
    expect_bad_result(&r);
    r.local = 1;
    r.exit = MSG_EXIT_ABORT;
    expect_bad_result(&r);
    r.exit = MSG_EXIT_COMMIT;
    r.local = 0;
    r.flags = 4;
    expect_bad_result(&r);
    r.flags = MSG_RESULT_UNCHECKED;
    expect_bad_result(&r);
    r.flags = 0;
    r.nnotes = 1;
    r.notes = &n;
    expect_bad_result(&r);
    r.flags = MSG_RESULT_LOCAL;
    n.len = 0;
    expect_bad_result(&r);
    n.len = 9;
    expect_bad_result(&r);
    n.len = 8;
    n.store = 2;
    expect_bad_result(&r);
    n.store = 0;
    n.addr = DISA_ADDR_LIMIT - 4;
    expect_bad_result(&r);
}

/* TAKEN: run ids round trip; a count past the bound, a length that does
 * not match it, and a zero id are refused. */
static void test_given_back(void **state)
{
    (void)state;
    uint64_t rid[MSG_GIVEN_BACK_MAX] = { 9, 8, 7 }, got[MSG_GIVEN_BACK_MAX];
    size_t k = 99;
    msg_buf b;
    mb_init(&b);
    msg_encode_given_back(&b, rid, 3);
    const uint8_t *p = b.p + MSG_HEADER_SIZE;
    size_t len = b.len - MSG_HEADER_SIZE;
    assert_int_equal(msg_decode_given_back(p, len, got, &k), DVM_OK);
    assert_int_equal(k, 3);
    assert_int_equal(got[2], 7);
    assert_int_equal(msg_decode_given_back(p, len - 8, got, &k), DVM_EPROTO);
    mb_reset(&b);
    msg_encode_given_back(&b, rid, 0);
    assert_int_equal(msg_decode_given_back(b.p + MSG_HEADER_SIZE, 8, got, &k),
                     DVM_OK);
    assert_int_equal(k, 0);
    uint64_t bad[2] = { 1, 0 };             /* one id, zero */
    assert_int_equal(msg_decode_given_back((uint8_t *)bad, 16, got, &k),
                     DVM_EPROTO);
    uint64_t many[1] = { MSG_GIVEN_BACK_MAX + 1 };
    assert_int_equal(msg_decode_given_back((uint8_t *)many, 8, got, &k),
                     DVM_EPROTO);
    mb_free(&b);
}

static void test_stack_req(void **state)
{
    (void)state;
    msg_buf b;
    mb_init(&b);
    unsigned order = 99;
    size_t count = 99;
    msg_encode_stack_req(&b, 4, 16);
    assert_int_equal(msg_decode_stack_req(b.p + MSG_HEADER_SIZE,
                                          b.len - MSG_HEADER_SIZE, &order,
                                          &count), 0);
    assert_int_equal(order, 4);
    assert_int_equal(count, 16);
    const uint64_t bad[][2] = { { DISA_STACK_ORDER + 1, 1 }, { 0, 0 },
                                { 0, MSG_STACKS_MAX + 1 }, { ~0ULL, 1 } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mb_reset(&b);
        msg_encode_u64s(&b, MSG_STACK_REQ, bad[i], 2);
        assert_int_equal(msg_decode_stack_req(b.p + MSG_HEADER_SIZE,
                                              b.len - MSG_HEADER_SIZE,
                                              &order, &count), DVM_EPROTO);
    }
    assert_int_equal(msg_decode_stack_req(b.p + MSG_HEADER_SIZE, 8, &order,
                                          &count), DVM_EPROTO);
    assert_int_equal(order, 4);             /* untouched on failure */
    mb_free(&b);
}

/* Decodes STACKS from u64s v[0..n) (as a hostile peer would send them). */
static dvm_status stacks_of(const uint64_t *v, size_t n, unsigned *order,
                            uint64_t *base, size_t *cnt)
{
    msg_buf b;
    mb_init(&b);
    msg_encode_u64s(&b, MSG_STACKS, v, n);
    dvm_status st = msg_decode_stacks(b.p + MSG_HEADER_SIZE,
                                      b.len - MSG_HEADER_SIZE, order, base,
                                      cnt);
    mb_free(&b);
    return st;
}

static void test_stacks(void **state)
{
    (void)state;
    const uint64_t area = DISA_PAGE << DISA_STACK_ORDER;
    uint64_t base[MSG_STACKS_MAX], in[3] = { DISA_STACK_BASE,
        DISA_STACK_BASE + 0x40000, DISA_STACK_BASE + area - 0x10000 };
    unsigned order;
    size_t n;
    msg_buf b;
    mb_init(&b);
    msg_encode_stacks(&b, 4, in, 3);
    assert_int_equal(msg_decode_stacks(b.p + MSG_HEADER_SIZE,
                                       b.len - MSG_HEADER_SIZE, &order, base,
                                       &n), 0);
    assert_int_equal(order, 4);
    assert_int_equal(n, 3);
    assert_memory_equal(base, in, sizeof in);
    for (size_t len = 0; len < b.len - MSG_HEADER_SIZE; len++)
        assert_int_equal(msg_decode_stacks(b.p + MSG_HEADER_SIZE, len, &order,
                                           base, &n), DVM_EPROTO);
    mb_reset(&b);
    msg_encode_stacks(&b, 7, NULL, 0);      /* none: the area is full */
    assert_int_equal(msg_decode_stacks(b.p + MSG_HEADER_SIZE,
                                       b.len - MSG_HEADER_SIZE, &order, base,
                                       &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(order, 7);
    mb_free(&b);
    const uint64_t bad[][3] = {
        { 4, 1, DISA_STACK_BASE + 0x1000 },         /* not aligned */
        { 4, 1, DISA_STACK_BASE - 0x10000 },        /* below the area */
        { 4, 1, DISA_STACK_BASE + area },           /* past it */
        { 4, 1, 0 },
        { DISA_STACK_ORDER, 1, DISA_STACK_BASE + 0x10000000 },
        { DISA_STACK_ORDER + 1, 1, DISA_STACK_BASE },
        { 4, 2, DISA_STACK_BASE },                  /* count too large */
        { 4, MSG_STACKS_MAX + 1, DISA_STACK_BASE },
        { 4, ~0ULL, DISA_STACK_BASE } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(stacks_of(bad[i], 3, &order, base, &n), DVM_EPROTO);
    const uint64_t whole[3] = { DISA_STACK_ORDER, 1, DISA_STACK_BASE };
    assert_int_equal(stacks_of(whole, 3, &order, base, &n), 0);
    assert_int_equal(order, DISA_STACK_ORDER);
}

static void test_conn_frames(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    conn a, c;
    conn_init(&a, sv[0]);
    conn_init(&c, sv[1]);
    msg_buf b;
    mb_init(&b);
    uint64_t v[2] = { 0x40005, 3 };
    msg_encode_u64s(&b, MSG_PAGE_REQ, v, 2);
    msg_encode_u64s(&b, MSG_SHUTDOWN, NULL, 0);
    assert_int_equal(conn_send(&a, &b), 0);
    uint32_t type;
    const uint8_t *p;
    size_t len;
    assert_int_equal(conn_recv(&c, &type, &p, &len), 0);
    assert_int_equal(type, MSG_PAGE_REQ);
    uint64_t got[2];
    assert_int_equal(msg_decode_u64s(p, len, got, 2), 0);
    assert_int_equal(got[0], 0x40005);
    assert_int_equal(conn_recv(&c, &type, &p, &len), 0);
    assert_int_equal(type, MSG_SHUTDOWN);
    conn_close(&a);
    assert_int_equal(conn_recv(&c, &type, &p, &len), DVM_ECLOSED);
    conn_close(&c);
    mb_free(&b);
}

static void test_conn_bad_header(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    conn c;
    conn_init(&c, sv[1]);
    uint8_t junk[16] = { 99, 0, 0, 0 };     /* unknown type 99 */
    assert_int_equal(write(sv[0], junk, sizeof junk), 16);
    uint32_t type;
    const uint8_t *p;
    size_t len;
    assert_int_equal(conn_recv(&c, &type, &p, &len), DVM_EPROTO);
    close(sv[0]);
    conn_close(&c);
}

/* conn_spin buffers a frame that is there or arrives while it polls,
 * waits for the rest of a partial one, gives up, and passes a closed peer
 * and a bad header on. */
static void test_conn_spin(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    conn c;
    conn_init(&c, sv[1]);
    assert_int_equal(conn_spin(&c, 0), DVM_EAGAIN);
    assert_int_equal(conn_spin(&c, 2000000), DVM_EAGAIN);
    msg_buf b;
    mb_init(&b);
    uint64_t v[2] = { 7, 8 };
    msg_encode_u64s(&b, MSG_PAGE_REQ, v, 2);
    assert_int_equal(write(sv[0], b.p, 10), 10);      /* half a header */
    assert_int_equal(conn_spin(&c, 1000000), DVM_EAGAIN);
    assert_int_equal(write(sv[0], b.p + 10, b.len - 11), (ssize_t)b.len - 11);
    assert_int_equal(conn_spin(&c, 1000000), DVM_EAGAIN); /* one byte short */
    assert_int_equal(write(sv[0], b.p + b.len - 1, 1), 1);
    assert_int_equal(conn_spin(&c, 1000000), 0);
    /* Buffered now: conn_recv must not block (the peer writes nothing). */
    uint32_t type;
    const uint8_t *p;
    size_t len;
    assert_int_equal(conn_recv(&c, &type, &p, &len), 0);
    assert_int_equal(type, MSG_PAGE_REQ);
    uint8_t junk[16] = { 99, 0, 0, 0 };     /* unknown type 99 */
    assert_int_equal(write(sv[0], junk, sizeof junk), 16);
    assert_int_equal(conn_spin(&c, 1000000), 0);
    assert_int_equal(conn_recv(&c, &type, &p, &len), DVM_EPROTO);
    close(sv[0]);
    conn_close(&c);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    conn_init(&c, sv[1]);
    close(sv[0]);
    assert_int_equal(conn_spin(&c, 1000000000), DVM_ECLOSED);
    conn_close(&c);
    mb_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatch_roundtrip),
        cmocka_unit_test(test_dispatch_keep_frames),
        cmocka_unit_test(test_dispatch_truncated),
        cmocka_unit_test(test_dispatch_rejects_bad_stack),
        cmocka_unit_test(test_dispatch_huge_count),
        cmocka_unit_test(test_result_roundtrip),
        cmocka_unit_test(test_result_validation),
        cmocka_unit_test(test_result_output_by_frames),
        cmocka_unit_test(test_result_dense_roundtrip),
        cmocka_unit_test(test_result_dense_is_compact),
        cmocka_unit_test(test_result_dense_validation),
        cmocka_unit_test(test_result_implied),
        cmocka_unit_test(test_frames),
        cmocka_unit_test(test_result_chosen_stack),
        cmocka_unit_test(test_result_local_notes),
        cmocka_unit_test(test_result_local_bad),
        cmocka_unit_test(test_given_back),
        cmocka_unit_test(test_stack_req),
        cmocka_unit_test(test_stacks),
        cmocka_unit_test(test_conn_frames),
        cmocka_unit_test(test_conn_bad_header),
        cmocka_unit_test(test_conn_spin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
