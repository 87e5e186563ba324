/*
 * msg_fuzz.c -- libFuzzer target for message decoding.
 *
 * The first byte picks the decoder (DISPATCH, RESULT, FRAMES, u64s,
 * STACK_REQ, TAKEN, STACKS); the rest is the payload.  A payload that decodes is
 * re-encoded and decoded again, and both decodings must encode to the same
 * bytes (for the small messages: to the payload itself).
 */
#include <stdlib.h>
#include <string.h>

#include "isa/isa.h"
#include "net/msg.h"
#include "util/alloc.h"

static void roundtrip_dispatch(const msg_dispatch *d)
{
    msg_buf a, b;
    mb_init(&a);
    mb_init(&b);
    msg_encode_dispatch(&a, d);
    msg_dispatch d2;
    if (msg_decode_dispatch(a.p + MSG_HEADER_SIZE, a.len - MSG_HEADER_SIZE,
                            &d2))
        abort();
    msg_encode_dispatch(&b, &d2);
    if (a.len != b.len || memcmp(a.p, b.p, a.len))
        abort();
    msg_dispatch_free(&d2);
    mb_free(&a);
    mb_free(&b);
}

static void roundtrip_result(const msg_result *r)
{
    msg_buf a, b;
    mb_init(&a);
    mb_init(&b);
    msg_encode_result(&a, r);
    msg_result r2;
    if (msg_decode_result(a.p + MSG_HEADER_SIZE, a.len - MSG_HEADER_SIZE, &r2))
        abort();
    msg_encode_result(&b, &r2);
    if (a.len != b.len || memcmp(a.p, b.p, a.len))
        abort();
    msg_result_free(&r2);
    mb_free(&a);
    mb_free(&b);
}

/* Aborts unless b's payload is exactly p[0..n). */
static void same_payload(msg_buf *b, const uint8_t *p, size_t n)
{
    if (b->len != MSG_HEADER_SIZE + n ||
        (n && memcmp(b->p + MSG_HEADER_SIZE, p, n)))
        abort();
    mb_free(b);
}

static void fuzz_stack_req(const uint8_t *p, size_t n)
{
    unsigned order;
    size_t count;
    if (msg_decode_stack_req(p, n, &order, &count))
        return;
    if (order > DISA_STACK_ORDER || count == 0 || count > MSG_STACKS_MAX)
        abort();
    msg_buf b;
    mb_init(&b);
    msg_encode_stack_req(&b, order, count);
    same_payload(&b, p, n);
}

static void fuzz_stacks(const uint8_t *p, size_t n)
{
    uint64_t base[MSG_STACKS_MAX];
    unsigned order;
    size_t cnt;
    if (msg_decode_stacks(p, n, &order, base, &cnt))
        return;
    for (size_t i = 0; i < cnt; i++)
        if (base[i] < DISA_STACK_BASE || base[i] >= DISA_INPUT_BASE ||
            (base[i] - DISA_STACK_BASE) % (DISA_PAGE << order))
            abort();
    msg_buf b;
    mb_init(&b);
    msg_encode_stacks(&b, order, base, cnt);
    same_payload(&b, p, n);
}

static void fuzz_given_back(const uint8_t *p, size_t n)
{
    uint64_t rid[MSG_GIVEN_BACK_MAX];
    size_t k;
    if (msg_decode_given_back(p, n, rid, &k))
        return;
    for (size_t i = 0; i < k; i++)
        if (!rid[i])
            abort();
    msg_buf b;
    mb_init(&b);
    msg_encode_given_back(&b, rid, k);
    same_payload(&b, p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 7) {
    case 0: {
        msg_dispatch d;
        if (!msg_decode_dispatch(p, n, &d)) {
            roundtrip_dispatch(&d);
            msg_dispatch_free(&d);
        }
        break;
    }
    case 1: {
        msg_result r;
        if (!msg_decode_result(p, n, &r)) {
            roundtrip_result(&r);
            msg_result_free(&r);
        }
        break;
    }
    case 2: {
        uint32_t *ids;
        size_t cnt;
        if (!msg_decode_frames(p, n, &ids, &cnt))
            dvm_free(ids);
        break;
    }
    case 3: {
        uint64_t v[2];
        (void)msg_decode_u64s(p, n, v, 2);
        break;
    }
    case 4:
        fuzz_stack_req(p, n);
        break;
    case 5:
        fuzz_given_back(p, n);
        break;
    default:
        fuzz_stacks(p, n);
        break;
    }
    return 0;
}
